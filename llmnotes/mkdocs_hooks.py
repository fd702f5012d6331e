"""MkDocs hooks (listed in ``mkdocs.yml``): fill stored numbers, strip test settings, render math.

A reference the metrics store cannot answer is logged as a warning, which fails
``mkdocs build --strict``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from llmnotes.metrics import MetricsStore
from llmnotes.pages import ReferenceFiller, render_math, strip_test_settings

log = logging.getLogger("mkdocs.plugins.llmnotes")
_store: MetricsStore | None = None


def on_pre_build(config: Any) -> None:
    """Load the metrics store once per build (again on every live-reload rebuild)."""
    global _store
    _store = MetricsStore(Path(config["docs_dir"]) / "generated" / "metrics.json")


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Strip test-only fence settings and replace metric, figure and provenance references."""
    assert _store is not None, "on_pre_build did not run"
    depth = page.file.src_uri.count("/")
    filler = ReferenceFiller(_store, docs_prefix="../" * depth)
    where = page.file.src_uri
    return filler.fill(strip_test_settings(markdown), lambda msg: log.warning(f"{where}: {msg}"))


def on_page_content(html: str, page: Any, config: Any, files: Any) -> str:
    """Render LaTeX math to MathML."""
    return render_math(html)
