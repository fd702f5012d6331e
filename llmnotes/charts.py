"""Interactive charts: Vega-Lite specs written with Altair, in the site's figure style.

A chart is a Vega-Lite spec (JSON) that carries its data: the page draws it in the browser with
vega-embed (hover for details, sliders and buttons for what it lets you pick), and the build
renders the same spec to the static SVG shown without JavaScript, with ``vl-convert``. In a
notebook, the returned Altair chart displays as it is.

Every chart uses :data:`CONFIG`, the chart twin of :data:`llmnotes.figures.STYLE`: the same
font, sizes, grey ink and colour-blind-safe palette. For the dark palette the build mirrors the
config's ink (``llmnotes.pipeline.palettes``), exactly as it does for the SVG figures.

Examples:
    >>> chart = temperature_chart(["a", "b", "c"], [0.7, 0.2, 0.1], temperature=0.5, title="t")
    >>> spec = chart.to_dict()
    >>> [p["value"] for p in spec["params"] if p["name"] == "T"]
    [0.5]
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import altair as alt

from llmnotes.figures import PALETTE

INK = "#222222"

#: The site's chart style: Matplotlib's figure style (:data:`llmnotes.figures.STYLE`) in
#: Vega-Lite's words, on a transparent background.
CONFIG: dict[str, Any] = {
    "background": "transparent",
    "font": "DejaVu Sans, Verdana, sans-serif",
    "view": {"stroke": None},
    "title": {"fontSize": 12, "fontWeight": "bold", "color": INK, "subtitleColor": INK},
    "axis": {
        "labelFontSize": 10,
        "titleFontSize": 10,
        "titleFontWeight": "normal",
        "labelColor": "#333333",
        "titleColor": INK,
        "domainColor": "#333333",
        "tickColor": "#333333",
        "gridColor": "#bbbbbb",
        "gridOpacity": 0.6,
    },
    "legend": {
        "labelFontSize": 10,
        "titleFontSize": 10,
        "titleFontWeight": "normal",
        "labelColor": INK,
        "titleColor": INK,
    },
    "text": {"fill": INK, "fontSize": 10},
    "range": {"category": PALETTE},
}

#: How a whitespace character is shown on an axis.
VISIBLE = {" ": "␣", "\n": "↵", "\t": "⇥"}


def styled(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """``chart`` with the site's :data:`CONFIG`."""
    return chart.properties(config=CONFIG)


#: Where a point's label may go, in pixels from the point, with its text alignment: beside it
#: first, then above or below, then further out (tried in this order).
LABEL_PLACES: tuple[tuple[int, int, str], ...] = (
    (8, -5, "left"),
    (8, 13, "left"),
    (-8, -5, "right"),
    (-8, 13, "right"),
    (0, -9, "center"),
    (0, 21, "center"),
    (12, 4, "left"),
    (-12, 4, "right"),
)
#: Rough size of a 10 px DejaVu Sans label: width per character, and its extent above and
#: below the baseline, in pixels.
CHAR_WIDTH, ASCENT, DESCENT = 6.2, 9.0, 2.5
POINT_RADIUS = 5.0
#: Pixels kept clear inside the plot's edges, so no point sits on an axis.
PLOT_PADDING = 24


def label_places(
    points: Sequence[tuple[float, float, str]],
    width: float,
    height: float,
    padding: float = PLOT_PADDING,
) -> list[tuple[int, int, str]]:
    """Place each point's label where it overlaps the fewest other labels and points.

    A greedy placement in the chart's pixels: each label, in turn, takes the first place of
    :data:`LABEL_PLACES` that overlaps nothing already placed, no point and not the plot's
    edge, or else the place that overlaps least. Sizes are estimates, so close calls may
    still touch; clusters tighter than a label's height stop being one blob of text.

    Args:
        points: ``(x, y, text)`` in data units.
        width: The plot's width in pixels.
        height: The plot's height in pixels.
        padding: The pixels between the plot's edges and the outermost points.

    Returns:
        ``(dx, dy, align)`` for each point, in order.

    Examples:
        >>> label_places([(0, 0, "two"), (0.01, 0, "three"), (1, 1, "one")], 100, 100)
        [(8, -5, 'left'), (8, 13, 'left'), (-8, -5, 'right')]
    """
    if not points:
        return []
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x_span, y_span = (max(xs) - min(xs)) or 1.0, (max(ys) - min(ys)) or 1.0
    inner_width, inner_height = width - 2 * padding, height - 2 * padding
    pixels = [
        (
            padding + (x - min(xs)) / x_span * inner_width,
            padding + (max(ys) - y) / y_span * inner_height,
        )
        for x, y, _ in points
    ]
    dots = [
        (px - POINT_RADIUS, py - POINT_RADIUS, px + POINT_RADIUS, py + POINT_RADIUS)
        for px, py in pixels
    ]
    taken: list[tuple[float, float, float, float]] = []
    chosen = []
    for (px, py), (_, _, text) in zip(pixels, points, strict=True):
        wide = CHAR_WIDTH * len(text)
        best, best_cost = LABEL_PLACES[0], math.inf
        for dx, dy, align in LABEL_PLACES:
            left = px + dx - {"left": 0.0, "right": wide, "center": wide / 2}[align]
            box = (left, py + dy - ASCENT, left + wide, py + dy + DESCENT)
            cost = sum(_overlap(box, other) for other in taken + dots)
            inside = _overlap(box, (0.0, 0.0, width, height))
            cost += (box[2] - box[0]) * (box[3] - box[1]) - inside  # what sticks out
            if cost < best_cost:
                best, best_cost, best_box = (dx, dy, align), cost, box
            if cost == 0:
                break
        taken.append(best_box)
        chosen.append(best)
    return chosen


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """The area two boxes ``(left, top, right, bottom)`` share."""
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def scatter_chart(
    points: Sequence[dict[str, Any]],
    groups: Sequence[str],
    title: str,
    xlabel: str,
    ylabel: str,
    detail: str = "detail",
) -> alt.LayerChart:
    """Labelled points, one colour per group; buttons show one group at a time, zoomed in.

    Labels are placed by :func:`label_places`, once for all the points and once for each
    group as its own button shows it.

    Args:
        points: One dict per point with ``word``, ``group``, ``x``, ``y`` and ``detail`` (more
            text for its tooltip, say its nearest neighbours).
        groups: The groups, in legend order.
        title: The chart's title.
        xlabel: The x axis's title.
        ylabel: The y axis's title.
        detail: What the tooltip calls a point's ``detail``.
    """
    width, height = 520, 360
    rows = [dict(p) for p in points]
    views = {"all": rows} | {g: [r for r in rows if r["group"] == g] for g in groups}
    for view, members in views.items():
        places = label_places([(r["x"], r["y"], r["word"]) for r in members], width, height)
        for row, (dx, dy, align) in zip(members, places, strict=True):
            row["place_" + ("all" if view == "all" else "group")] = [dx, dy, align]
    show = alt.param(
        name="show",
        value="all",
        bind=alt.binding_radio(options=["all", *groups], name="show "),
    )
    base = alt.Chart(alt.Data(values=rows)).transform_filter("show == 'all' || datum.group == show")
    x = alt.X("x:Q", title=xlabel, scale=alt.Scale(zero=False, nice=False, padding=PLOT_PADDING))
    y = alt.Y("y:Q", title=ylabel, scale=alt.Scale(zero=False, nice=False, padding=PLOT_PADDING))
    colour = alt.Color(
        "group:N",
        scale=alt.Scale(domain=list(groups), range=PALETTE[: len(groups)]),
        legend=alt.Legend(orient="bottom", title=None, direction="horizontal"),
    )
    tooltip = [alt.Tooltip("word:N"), alt.Tooltip("group:N"), alt.Tooltip("detail:N", title=detail)]
    dots = base.mark_circle(size=70, opacity=1).encode(x=x, y=y, color=colour, tooltip=tooltip)
    placed = base.transform_calculate(
        place="show == 'all' ? datum.place_all : datum.place_group"
    ).transform_calculate(dx="datum.place[0]", dy="datum.place[1]", align="datum.place[2]")
    # Mark properties as expressions are evaluated per datum: each label's own place.
    labels = placed.mark_text(
        dx=alt.expr("datum.dx"), dy=alt.expr("datum.dy"), align=alt.expr("datum.align")
    ).encode(x=x, y=y, text="word:N")
    chart = (
        alt.layer(dots, labels).add_params(show).properties(title=title, width=width, height=height)
    )
    return styled(chart)


def attention_chart(
    weights: Any,
    tokens: Sequence[str],
    layer: int,
    head: int,
    title: str = "Attention",
) -> alt.Chart:
    """Heat maps of attention weights, one per layer and head, picked with two sliders.

    Args:
        weights: Attention weights, shaped (layers, heads, tokens, tokens); rows attend to
            columns.
        tokens: The tokens, in order.
        layer: The layer shown first (and in the static SVG).
        head: The head shown first.
        title: The start of the chart's title; the layer and head follow it.
    """
    layers, heads, n, _ = weights.shape
    rows = [
        {
            "layer": lay,
            "head": hd,
            "query": q,
            "key": list(range(n)),
            "weight": [round(float(w), 4) for w in weights[lay, hd, q]],
        }
        for lay in range(layers)
        for hd in range(heads)
        for q in range(n)
    ]
    params = [
        alt.param(name="layer", value=layer, bind=alt.binding_range(min=0, max=layers - 1, step=1)),
        alt.param(name="head", value=head, bind=alt.binding_range(min=0, max=heads - 1, step=1)),
        alt.param(name="tokens", value=list(tokens)),
    ]
    token_label = "tokens[datum.value]"
    heading = f"{json.dumps(title)} + ': layer ' + layer + ', head ' + head"
    chart = (
        alt.Chart(alt.Data(values=rows))
        .transform_filter("datum.layer == layer && datum.head == head")
        .transform_flatten(["key", "weight"])
        .transform_calculate(token="tokens[datum.query]", attends_to="tokens[datum.key]")
        .mark_rect()
        .encode(
            x=alt.X("key:O", title="attends to (key)", axis=alt.Axis(labelExpr=token_label)),
            y=alt.Y("query:O", title="token (query)", axis=alt.Axis(labelExpr=token_label)),
            color=alt.Color(
                "weight:Q",
                scale=alt.Scale(scheme="viridis", domainMin=0),
                legend=alt.Legend(title="attention weight", gradientLength=240),
            ),
            tooltip=[
                alt.Tooltip("token:N", title="token"),
                alt.Tooltip("attends_to:N", title="attends to"),
                alt.Tooltip("weight:Q", format=".3f"),
            ],
        )
        .add_params(*params)
        .properties(
            title={"text": {"expr": heading}},
            width=22 * n,
            height=22 * n,
        )
    )
    return styled(chart)


def temperature_chart(
    symbols: Sequence[str],
    probabilities: Sequence[float],
    temperature: float,
    title: str,
    shown: int = 12,
    unit: str = "tokens",
) -> alt.LayerChart:
    """A next-token distribution under a temperature slider, against the distribution at 1.

    The chart computes ``softmax(log p / T)`` itself, so the slider shows exactly what sampling
    at temperature ``T`` draws from: bars at ``T``, ticks at ``T = 1``.

    Args:
        symbols: The vocabulary, in order.
        probabilities: The model's next-token probabilities at temperature 1 (they sum to 1).
        temperature: The temperature shown first (and in the static SVG).
        title: The chart's title, before the temperature.
        shown: How many of the most likely tokens (at ``T = 1``) to draw.
        unit: What the axis calls the tokens (``"characters"`` for a character model).
    """
    order = sorted(range(len(symbols)), key=lambda i: -probabilities[i])
    rank = {i: r for r, i in enumerate(order, start=1)}
    rows = [
        {
            "token": VISIBLE.get(s, s),
            "log_p": round(math.log(max(p, 1e-300)), 6),
            "rank": rank[i],
        }
        for i, (s, p) in enumerate(zip(symbols, probabilities, strict=True))
    ]
    slider = alt.param(
        name="T",
        value=temperature,
        bind=alt.binding_range(min=0.1, max=3, step=0.05, name="temperature T "),
    )
    base = (
        alt.Chart(alt.Data(values=rows))
        .transform_joinaggregate(top="max(log_p)")
        .transform_calculate(
            weight="exp((datum.log_p - datum.top) / T)",
            weight_1="exp(datum.log_p - datum.top)",
        )
        .transform_joinaggregate(total="sum(weight)", total_1="sum(weight_1)")
        .transform_calculate(p="datum.weight / datum.total", p_1="datum.weight_1 / datum.total_1")
        .transform_filter(f"datum.rank <= {shown}")
    )
    x = alt.X(
        "token:N",
        sort=alt.EncodingSortField("rank", op="min"),  # an op: layers union their domains
        title=f"the {shown} most likely next {unit} at T = 1",
        axis=alt.Axis(labelAngle=0),
    )
    tooltip = [
        alt.Tooltip("token:N"),
        alt.Tooltip("p:Q", title="p at T", format=".3f"),
        alt.Tooltip("p_1:Q", title="p at T = 1", format=".3f"),
    ]
    y = alt.Y("p:Q", title="probability", scale=alt.Scale(domain=[0, 1]))
    bars = base.mark_bar(color=PALETTE[0]).encode(x=x, y=y, tooltip=tooltip)
    ticks = base.mark_tick(color=INK, thickness=2).encode(x=x, y="p_1:Q", tooltip=tooltip)
    chart = (
        alt.layer(bars, ticks)
        .add_params(slider)
        .properties(
            title={
                "text": {"expr": f"{json.dumps(title)} + ' at T = ' + format(T, '.2f')"},
                "subtitle": "bars: at temperature T · ticks: at T = 1",
            },
            width=520,
            height=260,
        )
    )
    return styled(chart)
