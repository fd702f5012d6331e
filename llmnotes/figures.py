"""One plotting style for every figure on the site, and deterministic SVG output.

Figures have a transparent background and grey ink. For the site's dark palette the build
writes a second SVG in which only the ink is redrawn light (``llmnotes.pipeline.palettes``):
data colours, such as these series' hues and a heat map's viridis, keep their meaning.
SVG output carries no date and uses a fixed id salt, so regenerating a figure from the same data
gives the same bytes.

Examples:
    >>> fig, ax = new_figure()
    >>> _ = ax.bar(["a", "b"], [1, 2])
    >>> svg_bytes(fig).startswith(b"<?xml")
    True
"""

from __future__ import annotations

import io
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

#: A colour-blind-safe palette (Okabe & Ito); its last colour, black, is redrawn as ink.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]

STYLE: dict[str, Any] = {
    "figure.figsize": (7.0, 3.6),
    "figure.dpi": 100,
    "figure.facecolor": "none",
    "axes.facecolor": "none",
    "savefig.facecolor": "none",
    "savefig.transparent": True,
    "savefig.bbox": "tight",
    "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#333333",
    "axes.labelcolor": "#222222",
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.grid": True,
    "grid.color": "#bbbbbb",
    "grid.linewidth": 0.6,
    "grid.alpha": 0.6,
    "xtick.color": "#333333",
    "ytick.color": "#333333",
    "text.color": "#222222",
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "legend.frameon": False,
    "svg.fonttype": "none",
    "svg.hashsalt": "llmnotes",
}


def new_figure(nrows: int = 1, ncols: int = 1, **kwargs: Any) -> tuple[Any, Any]:
    """Create a figure and axes in the site's style (arguments as for ``plt.subplots``).

    The style is applied to matplotlib's global settings, so legends, labels and colour bars
    added after this call get it too.
    """
    plt.rcParams.update(STYLE)
    fig, axes = plt.subplots(nrows, ncols, **kwargs)
    fig.set_layout_engine("constrained")
    return fig, axes


def svg_bytes(fig: Any) -> bytes:
    """Render ``fig`` to deterministic SVG bytes and close it."""
    buffer = io.BytesIO()
    plt.rcParams.update(STYLE)
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": "llmnotes"})
    plt.close(fig)
    return buffer.getvalue()
