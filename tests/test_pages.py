import re

import pytest

from llmnotes.pipeline.metrics import Entry, MetricsStore, MissingMetric
from llmnotes.pipeline.pages import (
    FENCE_KEYS,
    UNTESTED_NOTE,
    ReferenceFiller,
    format_value,
    strip_test_settings,
)

from conftest import ROOT


@pytest.fixture
def filler(tmp_path):
    store = MetricsStore(tmp_path / "m.json")
    prov = {
        "assets": {
            "tokenizer": {"asset": "minilm", "location": "package x 1.0", "kind": "package"}
        },
        "date": "2026-12-01 10:00 UTC",
        "input_hash": "abc123",
        "command": "llmnotes regenerate tokenization",
        "seed": 0,
        "settings": {"epochs": 4, "glove": {"window": 10}},
        "versions": {"torch": "2.13.0"},
        "duration_s": 0.5,
    }
    figures = {
        "bars": {"path": "generated/figures/t.e/bars.minilm.svg", "alt": "some bars"},
        "dots": {
            "path": "generated/figures/t.e/dots.minilm.svg",
            "alt": "some dots",
            "chart": "generated/figures/t.e/dots.minilm.vl.json",
        },
    }
    store.put(
        "t.e",
        "minilm",
        Entry(
            {"score": 0.78390431, "n": 30522, "ok": True, "toks": ["ll", "##ms"]}, prov, figures, 1
        ),
    )
    return ReferenceFiller(store, docs_prefix="../")


def test_metric_renders_value_with_provenance_tooltip(filler):
    html = filler.fill('Score: {{ metric("t.e", "score", fmt=".4f") }}.', pytest.fail)
    assert html.startswith(
        'Score: <span class="llmnotes-metric llmnotes-standin" title="t.e on minilm'
    )
    assert ">0.7839</span>." in html
    assert "input hash abc123" in html


def test_values_are_formatted_by_type():
    assert format_value(30522) == "30,522"
    assert format_value(True) == "✓ yes"
    assert format_value(0.99983) == "0.99983"
    assert format_value(["ll", "##ms"]) == "<code>ll</code> <code>##ms</code>"
    assert format_value(0.924, ".1%") == "92.4%"
    assert format_value("<b>") == "&lt;b&gt;"


def test_figure_renders_one_image_per_palette_relative_to_page_each_linking_full_size(filler):
    out = filler.fill('{{ figure("t.e", "bars", caption="Look.") }}', pytest.fail)
    for scheme, svg in (("light", "bars.minilm.svg"), ("dark", "bars.minilm.dark.svg")):
        image = f"![some bars](../generated/figures/t.e/{svg}#only-{scheme})"
        assert f"[{image}](../generated/figures/t.e/{svg}){{ .llmnotes-zoom" in out
        assert f".llmnotes-only-{scheme} " in out
    assert (
        "<figcaption>Look. Produced by <code>t.e</code> on <code>minilm</code>, "
        "an offline stand-in." in out
    )


def test_a_chart_points_to_its_specs_for_both_palettes_and_keeps_the_svg(filler):
    plain = filler.fill('{{ figure("t.e", "bars") }}', pytest.fail)
    assert "data-llmnotes-chart" not in plain
    out = filler.fill('{{ figure("t.e", "dots") }}', pytest.fail)
    # resolved beside the SVG
    assert 'data-llmnotes-chart="dots.minilm.vl.json"' in out
    assert 'data-llmnotes-chart-dark="dots.minilm.dark.vl.json"' in out
    assert "![some dots](../generated/figures/t.e/dots.minilm.svg#only-light)" in out


def test_provenance_block_is_an_admonition(filler):
    out = filler.fill('{{ provenance("t.e") }}', pytest.fail)
    assert out.startswith('??? info "How this was produced: `t.e` on `minilm`"')
    assert "offline stand-in" in out
    assert "<code>llmnotes regenerate tokenization</code>" in out


def test_source_marks_stand_in(filler):
    out = filler.fill('{{ source("t.e") }}', pytest.fail)
    assert (
        out == "<code>minilm</code> (package x 1.0, "
        "offline stand-in for <code>bert-base-uncased</code>)"
    )


def test_week1_values_come_from_the_week1_module(filler):
    assert filler.fill('{{ week1("KING_QUEEN_COSINE") }}', pytest.fail) == "0.7839"


@pytest.mark.parametrize(
    "reference, message",
    [
        ('{{ metric("t.missing", "x") }}', "no stored result for experiment 't.missing'"),
        ('{{ metric("t.e", "nope") }}', "has no value 'nope'"),
        ('{{ figure("t.e", "nope") }}', "has no figure 'nope'"),
        ('{{ metric("t.e", "score", asset="bert") }}', "no result on 'bert'"),
        ('{{ metric("t.e" "score") }}', "malformed reference"),
        ('{{ week1("NOPE") }}', "llmnotes.week1 has no 'NOPE'"),
    ],
)
def test_missing_references_are_reported(filler, reference, message):
    problems = []
    out = filler.fill(reference, problems.append)
    assert len(problems) == 1 and message in problems[0]
    assert "llmnotes-missing" in out


def test_references_inside_code_fences_are_left_alone(filler):
    text = '```text\n{{ metric("t.missing", "x") }}\n```\n{{ metric("t.e", "n") }}'
    out = filler.fill(text, pytest.fail)
    assert '```text\n{{ metric("t.missing", "x") }}\n```' in out
    assert ">30,522</span>" in out


def test_strip_test_settings_only_touches_fence_lines():
    md = '```python test="skip"\nx = \'test="skip"\'\n```\n    ```py requires="minilm"\n'
    expected = "```python\nx = 'test=\"skip\"'\n```\n    ```py\n"
    assert strip_test_settings(md) == f"{UNTESTED_NOTE}\n\n{expected}"


def test_a_skipped_block_is_labelled_at_its_indentation():
    out = strip_test_settings('=== "Online"\n\n    ```python test="skip"\n    print(1)\n    ```\n')
    assert f"\n    {UNTESTED_NOTE}\n\n    ```python\n" in out


def test_pages_use_only_the_fence_settings_the_tests_read():
    used = set()
    for page in (ROOT / "docs").rglob("*.md"):
        for line in page.read_text().splitlines():
            if line.lstrip().startswith(("```", "~~~")):
                used |= set(re.findall(r'(\w+)="', line))
    assert used <= set(FENCE_KEYS), f"unknown fence settings: {used - set(FENCE_KEYS)}"


def test_claims_render_nothing_while_true_and_fail_when_false(filler):
    assert filler.claim("t.e", "n", ">", 30000) == ""
    assert filler.claim("t.e", "n", "<=", "n") == ""
    with pytest.raises(MissingMetric, match="rewrite the sentence"):
        filler.claim("t.e", "n", "<", 100)
    with pytest.raises(MissingMetric, match="unknown relation"):
        filler.claim("t.e", "n", "≈", 1)
    missing = []
    filler.fill('It is big{{ claim("t.e", "n", "<", 5) }}.', missing.append)
    assert missing and "rewrite the sentence" in missing[0]


def test_claims_scale_the_right_side(filler):
    n = filler.store.value("t.e", "n")
    assert filler.claim("t.e", "n", "<", 2 * n, factor=0.55) == ""  # "about half" of 2n
    with pytest.raises(MissingMetric, match=r"0.45 × "):
        filler.claim("t.e", "n", "<", 2 * n, factor=0.45)


def test_verdicts_render_the_words_that_are_true_either_way(filler):
    n = filler.store.value("t.e", "n")
    assert filler.verdict("t.e", "n", ">", n - 1, "more", "fewer") == "more"
    assert filler.verdict("t.e", "n", ">", n + 1, "more", "fewer") == "fewer"
    assert filler.verdict("t.e", "n", "<", 2 * n, "under half", "half or more", factor=0.5) == (
        "half or more"
    )
    with pytest.raises(MissingMetric, match="unknown relation"):
        filler.verdict("t.e", "n", "≈", 1, "a", "b")
    out = filler.fill('bf16 is {{ verdict("t.e", "n", ">", 1, "faster", "slower") }}.', print)
    assert out == "bf16 is faster."


def test_settings_render_from_the_provenance(filler):
    assert ">4</span>" in filler.setting("t.e", "epochs")
    assert ">10</span>" in filler.setting("t.e", "glove.window")
    with pytest.raises(MissingMetric, match="has no setting 'lr'"):
        filler.setting("t.e", "lr")


def test_published_numbers_link_their_source(filler):
    from llmnotes.published import PUBLISHED

    out = filler.published("sst2_dev_bert_base", fmt=".1f")
    entry = PUBLISHED["sst2_dev_bert_base"]
    assert f'href="{entry.url}"' in out and f">{entry.value:.1f}</a>" in out
    with pytest.raises(MissingMetric, match="has no 'nope'"):
        filler.published("nope")


HOSTILE = '<img src=x onerror="alert(1)">`"'


def test_nothing_the_store_holds_becomes_markup(tmp_path):
    """A store with script in every field renders it as text, through Markdown as the site does."""
    import markdown

    prov = {
        "assets": {"role": {"asset": HOSTILE, "location": HOSTILE, "kind": "path"}},
        "settings": {"x": HOSTILE},
        "versions": {HOSTILE: HOSTILE},
        "command": HOSTILE,
        "date": HOSTILE,
        "seed": HOSTILE,
        "input_hash": HOSTILE,
    }
    figures = {"f": {"path": "generated/figures/t.e/f.a.svg", "alt": f"{HOSTILE}](x) ["}}
    store = MetricsStore(tmp_path / "m.json")
    store.put("t.e", HOSTILE, Entry({"s": HOSTILE, "l": [HOSTILE]}, prov, figures, 1))
    filler = ReferenceFiller(store)
    page = "\n\n".join(
        f"{{{{ {call} }}}}"
        for call in (
            'metric("t.e", "s")',
            'metric("t.e", "l")',
            'metric("t.e", "s", fmt="s")',
            'setting("t.e", "x")',
            'source("t.e")',
            'figure("t.e", "f")',
            'provenance("t.e")',
            'table("t.e", ["l"], ["h"])',
        )
    )
    filled = filler.fill(page, pytest.fail)
    html = markdown.markdown(
        filled, extensions=["md_in_html", "attr_list", "tables", "pymdownx.details"]
    )
    assert "<img src=x" not in html and 'onerror="alert' not in html
    assert html.count("&lt;img src=x") >= 8


def test_a_figure_path_outside_the_generated_figures_is_refused(tmp_path):
    store = MetricsStore(tmp_path / "m.json")
    figures = {"f": {"path": "../../etc/passwd", "alt": "x"}}
    store.put("t.e", "a", Entry({}, {}, figures))
    missing = []
    ReferenceFiller(store).fill('{{ figure("t.e", "f") }}', missing.append)
    assert "is not a figure file of generated/figures" in missing[0]


def test_a_figure_edited_after_regenerate_is_refused(tmp_path):
    from llmnotes.pipeline.metrics import file_hash

    svg = tmp_path / "generated" / "figures" / "t.e" / "f.a.svg"
    svg.parent.mkdir(parents=True)
    svg.write_text("<svg/>")
    figures = {"f": {"path": "generated/figures/t.e/f.a.svg", "alt": "x"}}
    figures["f"]["path_sha256"] = file_hash(svg)
    store = MetricsStore(tmp_path / "m.json")
    store.put("t.e", "a", Entry({}, {}, figures))
    filler, missing = ReferenceFiller(store, docs=tmp_path), []
    assert "<figure" in filler.fill('{{ figure("t.e", "f") }}', missing.append)
    svg.write_text("<svg><script>alert(1)</script></svg>")
    filler.fill('{{ figure("t.e", "f") }}', missing.append)
    assert "differs from what regenerate wrote" in missing[0]
