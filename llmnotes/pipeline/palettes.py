"""Figures for the dark palette: each stored SVG redrawn with dark-palette ink at build time.

The figure helpers (:mod:`llmnotes.figures`) draw with grey ink on a transparent background.
For the site's dark palette the build writes a second SVG beside each one, in which only the
ink changes: every neutral grey (text, axes, ticks, grid, reference lines) and every pale
surface (a diagram's boxes) has its lightness mirrored, ``L' = 0.95 - 0.8 L``, with hue and
saturation kept. Data colours (the Okabe-Ito series, the viridis cells of a heat map, which
are an embedded image) are left exactly as drawn, so a colour means the same in both palettes,
unlike a CSS ``invert`` filter, which turns viridis pink. Text in white or black stays as it
is: it sits on a data-coloured cell (a heat map's annotations), not on the page.

The page shows one version per palette with Material's ``#only-light`` and ``#only-dark``
image suffixes.

Examples:
    >>> dark_colour("#222222", text=True), dark_colour("#0072b2", text=False)
    ('#d7d7d7', '#0072b2')
    >>> dark_path("generated/figures/rnns.adding_problem/adding.none.svg")
    'generated/figures/rnns.adding_problem/adding.none.dark.svg'
"""

from __future__ import annotations

import colorsys
import re
from typing import Any

#: A hex colour in an SVG attribute or style: ``fill: #222222`` or ``stroke="#bbbbbb"``.
COLOUR = re.compile(r"(fill|stroke|stop-color|color)(\s*[:=]\s*\"?)#([0-9a-fA-F]{6})\b")
TAG = re.compile(r"<(\w+)\b[^>]*>")
HEX = re.compile(r"#[0-9a-fA-F]{6}")

#: Material's dark page colour (``--md-default-bg-color`` of its ``slate`` scheme), painted
#: behind the dark SVG so that it also reads when opened on its own, full size.
SLATE_BACKGROUND = "hsl(225 15% 14%)"
#: Below this HLS saturation a colour is ink (a grey), not a data colour.
GREY_SATURATION = 0.08
#: Above this lightness a non-grey fill is a pale surface (a diagram box), not data.
PALE = 0.8


def mirrored(lightness: float) -> float:
    """The dark palette's lightness for ink of ``lightness`` (0 black to 1 white)."""
    return 0.95 - 0.8 * lightness


def dark_colour(colour: str, text: bool) -> str:
    """The colour ``colour`` (``#rrggbb``) takes in the dark palette.

    Args:
        colour: A six-digit hex colour.
        text: Whether it colours text; text keeps white and black (it lies on a data cell) and
            mirrors only dark greys.
    """
    red, green, blue = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    hue, lightness, saturation = colorsys.rgb_to_hls(red, green, blue)
    grey = saturation < GREY_SATURATION or lightness in (0.0, 1.0)
    ink = grey and 0.0 < lightness < 0.5 if text else grey or lightness > PALE
    if not ink:
        return colour.lower()
    rgb = colorsys.hls_to_rgb(hue, mirrored(lightness), saturation)
    return "#" + "".join(f"{round(c * 255):02x}" for c in rgb)


def dark_svg(svg: bytes) -> bytes:
    r"""``svg`` with its ink and pale surfaces recoloured for the dark palette; data kept.

    >>> light = b'<svg><text style="fill: #222222">a</text><path style="stroke: #333333;' \
    ...     b' fill: #0072b2"/></svg>'
    >>> print(dark_svg(light).decode().replace("><", ">\n<"))
    <svg style="background-color: hsl(225 15% 14%)">
    <text style="fill: #d7d7d7">a</text>
    <path style="stroke: #c9c9c9; fill: #0072b2"/>
    </svg>
    """

    def tag(match: re.Match[str]) -> str:
        text = match.group(1) in ("text", "tspan")
        return COLOUR.sub(
            lambda m: f"{m.group(1)}{m.group(2)}{dark_colour('#' + m.group(3), text)}",
            match.group(0),
        )

    recoloured = TAG.sub(tag, svg.decode("utf-8"))
    background = f'<svg style="background-color: {SLATE_BACKGROUND}"'
    return re.sub(r"<svg\b", background, recoloured, count=1).encode("utf-8")


def dark_chart(spec: dict[str, Any]) -> dict[str, Any]:
    """A chart's spec (:mod:`llmnotes.charts`) for the dark palette: its config's ink mirrored.

    Only the ``config`` changes, by the rule of :func:`dark_colour`, so the data, the viridis
    scheme and the series' colours mean the same in both palettes.

    >>> dark_chart({"config": {"axis": {"labelColor": "#333333"}, "range": {"category":
    ...     ["#0072B2", "#000000"]}}, "mark": "bar"})["config"]
    {'axis': {'labelColor': '#c9c9c9'}, 'range': {'category': ['#0072b2', '#f2f2f2']}, \
'background': 'hsl(225 15% 14%)'}
    """

    def ink(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: ink(item) for key, item in value.items()}
        if isinstance(value, list):
            return [ink(item) for item in value]
        if isinstance(value, str) and HEX.fullmatch(value):
            return dark_colour(value, text=False)
        return value

    config = ink(spec.get("config", {})) | {"background": SLATE_BACKGROUND}
    return {**spec, "config": config}


def dark_path(path: str) -> str:
    """Where the dark version of the figure or chart spec at ``path`` is written.

    >>> dark_path("generated/figures/t.e/head.minilm.vl.json")
    'generated/figures/t.e/head.minilm.dark.vl.json'
    """
    suffix = ".vl.json" if path.endswith(".vl.json") else ".svg"
    return path.removesuffix(suffix) + ".dark" + suffix
