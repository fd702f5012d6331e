"""Chart files: a Vega-Lite spec as the store keeps it, and its static SVG from the same spec.

An experiment's chart (:mod:`llmnotes.charts`) is written as ``NAME.KEY.vl.json`` beside the
SVG that :func:`chart_svg` renders from it, so the page's static figure and its interactive
chart show the same data drawn by the same Vega-Lite. ``vl-convert`` bundles the Vega-Lite that
``scripts/vendor_vega.py`` ships to the browser (:data:`VEGA_LITE`).

Examples:
    >>> chart_path("generated/figures/t.e/head.minilm.svg")
    'generated/figures/t.e/head.minilm.vl.json'
    >>> spec_bytes({"b": 1, "a": [0.5]})
    b'{"a":[0.5],"b":1}'
"""

from __future__ import annotations

import json
import re
from typing import Any

#: The Vega-Lite version ``vl-convert`` renders with; the vendored browser build is its patch.
VEGA_LITE = "6.4"


def chart_path(svg: str) -> str:
    """Where the spec of the chart whose static figure is ``svg`` (``….svg``) is stored."""
    return svg.removesuffix(".svg") + ".vl.json"


def chart_spec(chart: Any) -> dict[str, Any]:
    """The Vega-Lite spec of an Altair chart (or of a spec already written as a dict)."""
    return chart if isinstance(chart, dict) else chart.to_dict()


def spec_bytes(spec: dict[str, Any]) -> bytes:
    """Serialise a spec compactly with sorted keys, so reruns are byte-identical."""
    return json.dumps(spec, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


def chart_svg(spec: dict[str, Any]) -> bytes:
    """The static SVG of ``spec``, its parameters at their initial values.

    Vega numbers gradients and clip paths on a counter that lives as long as the process, so
    the ids are renumbered in order of appearance: the same spec gives the same bytes.
    """
    import vl_convert

    svg = vl_convert.vegalite_to_svg(spec, vl_version=VEGA_LITE)
    ids = dict.fromkeys(re.findall(r'\bid="([^"]+)"', svg))
    renamed = {old: f"{re.sub(r'[0-9]+$', '', old)}{k}" for k, old in enumerate(ids)}
    if renamed:
        pattern = re.compile(r'(id="|#)(' + "|".join(map(re.escape, renamed)) + r')(?=[")])')
        svg = pattern.sub(lambda m: m.group(1) + renamed[m.group(2)], svg)
    return svg.encode()
