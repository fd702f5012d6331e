r"""Render the pages' LaTeX at build time with KaTeX, so no page loads a script for its math.

``pymdownx.arithmatex`` (generic mode) leaves each formula as ``\(…\)`` or ``\[…\]`` in a
``span`` or ``div`` of class ``arithmatex``. :func:`render_math` replaces each with KaTeX's HTML
(what the eye reads, styled by ``docs/assets/katex``) and MathML (what screen readers read),
running the vendored ``katex.min.js`` in QuickJS. A formula KaTeX cannot parse stops the build
with the formula and KaTeX's message. Display formulas sit in a ``llmnotes-math`` box that
scrolls sideways when it is wider than the column, with a shadow at the side that has more.

Examples:
    >>> html = render_math('<span class="arithmatex">\\(x^2\\)</span>')
    >>> html.startswith('<span class="katex">') and "<msup>" in html
    True
"""

from __future__ import annotations

import functools
import html as html_lib
import json
import re
from pathlib import Path
from typing import Any

#: The vendored renderer (see ``scripts/vendor_katex.py``).
KATEX = Path(__file__).with_name("katex") / "katex.min.js"

MATH = re.compile(
    r'<(?P<tag>span|div) class="arithmatex">\s*\\(?P<open>[(\[])(?P<tex>.*?)\\[)\]]\s*</(?P=tag)>',
    re.S,
)


class MathError(ValueError):
    """A formula KaTeX cannot render; the message names the formula and the reason."""


@functools.cache
def _katex() -> Any:
    import quickjs

    context = quickjs.Context()
    context.eval(KATEX.read_text(encoding="utf-8"))
    return context


def katex_version() -> str:
    """The vendored KaTeX's version.

    >>> katex_version().count(".")
    2
    """
    return str(_katex().eval("katex.version"))


def render_tex(tex: str, display: bool) -> str:
    """One formula as KaTeX HTML and MathML.

    Raises:
        MathError: KaTeX cannot parse it.
    """
    options = json.dumps({"displayMode": display, "throwOnError": True, "output": "htmlAndMathml"})
    call = (
        f"(() => {{ try {{ return JSON.stringify({{html: katex.renderToString({json.dumps(tex)}, "
        f"{options})}}); }} catch (e) {{ return JSON.stringify({{error: e.message}}); }} }})()"
    )
    out = json.loads(str(_katex().eval(call)))
    if "error" in out:
        raise MathError(f"KaTeX cannot render {tex!r}: {out['error']}")
    return str(out["html"])


def render_math(page_html: str) -> str:
    r"""Replace arithmatex's ``\(…\)`` and ``\[…\]`` spans with KaTeX's rendering.

    Raises:
        MathError: A formula KaTeX cannot render.
    """

    def replace(match: re.Match[str]) -> str:
        tex = html_lib.unescape(match.group("tex")).strip()
        if match.group("open") == "(":
            return render_tex(tex, display=False)
        # tabindex: keyboard users can scroll a wide formula too; the label says what it is.
        return (
            '<div class="llmnotes-math" tabindex="0" role="group" aria-label="formula">'
            f"{render_tex(tex, display=True)}</div>"
        )

    return MATH.sub(replace, page_html)
