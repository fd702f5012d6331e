import re

import pytest

from llmnotes.pipeline.formulas import MathError, render_math, render_tex


def test_inline_and_display_math_become_katex_html_with_mathml():
    html = (
        '<p><span class="arithmatex">\\(a &lt; b\\)</span></p>'
        '<div class="arithmatex">\\[\n\\frac{u \\cdot v}{\\|u\\|}\n\\]</div>'
    )
    out = render_math(html)
    assert "arithmatex" not in out and "\\(" not in out
    assert out.count('class="katex"') == 2 and out.count('class="katex-display"') == 1
    assert '<math xmlns="http://www.w3.org/1998/Math/MathML" display="block">' in out
    assert "<mfrac>" in out and "<mo>&lt;</mo>" in out  # the comparison survives, escaped
    # Only the display formula gets the scrolling box, reachable by keyboard.
    assert out.count('<div class="llmnotes-math" tabindex="0"') == 1


def test_aligned_equations_render_as_rows():
    out = render_tex(
        "\\begin{aligned} f_t &= \\sigma(x) \\\\ h_t &= \\tanh(c_t) \\end{aligned}", True
    )
    shown = re.sub(r"<annotation.*?</annotation>", "", out, flags=re.S)  # the TeX source kept
    assert out.count("<mtr>") == 2 and "&amp;" not in shown and "col-align-r" in shown


@pytest.mark.parametrize("tex", ["\\frac{a}", "\\begin{aligned} a & b", "\\notacommand x"])
def test_a_formula_katex_cannot_parse_is_named_with_the_reason(tex):
    with pytest.raises(MathError, match=r"KaTeX cannot render .*KaTeX parse error"):
        render_math(f'<span class="arithmatex">\\({tex}\\)</span>')
