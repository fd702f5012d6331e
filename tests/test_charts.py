import re

import numpy as np
import pytest

from llmnotes.charts import (
    CONFIG,
    attention_chart,
    label_places,
    scatter_chart,
    temperature_chart,
)
from llmnotes.figures import PALETTE
from llmnotes.pipeline.charts import VEGA_LITE, chart_svg

from conftest import ROOT


def mark_labels(svg: bytes) -> list[str]:
    """The accessible labels Vega gives each mark of a rendered chart."""
    tags = re.findall(r'<[^>]*role="graphics-symbol"[^>]*>', svg.decode())
    return [re.search(r'aria-label="([^"]*)"', tag).group(1) for tag in tags]


def test_temperature_chart_draws_softmax_of_log_p_over_t():
    p = np.array([0.5, 0.3, 0.15, 0.05])
    spec = temperature_chart(list("abcd"), list(p), temperature=0.5, title="next").to_dict()
    bars = [label for label in mark_labels(chart_svg(spec)) if "; probability: " in label]
    drawn = {
        re.search(r"token: (\w)", b).group(1): float(
            re.search(r"probability: ([\d.e-]+)", b).group(1)
        )
        for b in bars
    }
    expected = p**2 / (p**2).sum()  # softmax(log p / 0.5)
    assert list(drawn) == list("abcd")  # most likely first
    assert list(drawn.values()) == pytest.approx(list(expected), rel=1e-6)


def test_temperature_chart_keeps_only_the_most_likely_and_shows_whitespace():
    p = [0.4, 0.3, 0.2, 0.1]
    spec = temperature_chart(["a", " ", "\n", "z"], p, 1.0, "next", shown=3).to_dict()
    svg = chart_svg(spec).decode()
    assert "␣" in svg and "↵" in svg and ">z<" not in svg
    assert "next at T = 1.00" in svg


def test_attention_chart_starts_at_the_chosen_head_with_token_labels():
    rng = np.random.default_rng(0)
    weights = rng.random((2, 3, 4, 4))
    weights /= weights.sum(-1, keepdims=True)
    tokens = ["[CLS]", "it", "was", "[SEP]"]
    spec = attention_chart(weights, tokens, layer=1, head=2, title="toy").to_dict()
    svg = chart_svg(spec)
    assert b"toy: layer 1, head 2" in svg
    assert all(f">{t}</text>".encode() in svg for t in tokens)
    cells = [label for label in mark_labels(svg) if "; attends to: " in label]
    assert len(cells) == 16  # one head's map, not all six
    drawn = [float(re.search(r"weight: ([\d.]+)", c).group(1)) for c in cells]
    assert sorted(drawn) == pytest.approx(sorted(np.round(weights[1, 2].ravel(), 3)), abs=1e-3)


def test_scatter_chart_colours_groups_in_the_site_palette_and_labels_every_word():
    points = [
        {"word": w, "group": g, "x": float(i), "y": float(i % 3), "detail": "x"}
        for i, (w, g) in enumerate([("king", "royalty"), ("queen", "royalty"), ("two", "numbers")])
    ]
    spec = scatter_chart(points, ["royalty", "numbers"], "t", "x", "y").to_dict()
    colour = spec["layer"][0]["encoding"]["color"]["scale"]
    assert colour == {"domain": ["royalty", "numbers"], "range": PALETTE[:2]}
    svg = chart_svg(spec)
    assert all(f">{p['word']}</text>".encode() in svg for p in points)
    assert {p["name"]: p["value"] for p in spec["params"]} == {"show": "all"}


def test_every_chart_uses_the_site_config():
    spec = temperature_chart(["a", "b"], [0.6, 0.4], 1.0, "t").to_dict()
    assert {key: spec["config"][key] for key in CONFIG if key != "view"} == {
        key: value for key, value in CONFIG.items() if key != "view"
    }  # Altair adds its default view size to the view entry


def test_the_same_spec_renders_the_same_bytes_however_often_it_is_drawn():
    weights = np.full((1, 1, 2, 2), 0.5)
    spec = attention_chart(weights, ["a", "b"], 0, 0).to_dict()  # a gradient legend: an id
    first = chart_svg(spec)
    assert b'id="gradient_0"' in first and b"url(#gradient_0)" in first
    assert chart_svg(spec) == first


def test_the_browser_draws_with_the_vega_that_renders_the_static_figures():
    import altair as alt
    import vl_convert

    vendored = dict(
        line.split() for line in (ROOT / "docs/assets/vega/VERSIONS").read_text().splitlines()
    )
    assert vendored["vega"] == vl_convert.get_vega_version()
    assert vendored["vega-lite"].rsplit(".", 1)[0] == VEGA_LITE
    assert VEGA_LITE in vl_convert.get_vegalite_versions()
    assert "v" + vendored["vega-lite"] == alt.SCHEMA_VERSION  # the schema the specs are written in
    for name in vendored:
        assert (ROOT / f"docs/assets/vega/{name}.min.js").stat().st_size > 10_000
        assert (ROOT / f"docs/assets/vega/LICENSE-{name}").is_file()


def test_labels_of_a_tight_cluster_go_to_different_sides_of_their_points():
    # The number words of GloVe's projection: four points a few pixels apart.
    words = [(-0.63, -2.85, "two"), (-0.63, -2.94, "three"), (-0.6, -3.08, "four")]
    words += [(-0.53, -3.04, "five"), (2.0, 3.0, "far"), (-2.4, -3.1, "corner")]
    places = label_places(words, 520, 360)
    assert len(set(places[:4])) == 4  # no two of the cluster share a side
    assert places[4][2] == "right"  # a label at the right edge does not stick out of the plot
    assert places[5][2] != "right"  # nor at the left edge
