"""MkDocs hooks (listed in ``mkdocs.yml``): stored numbers, notebook links, math, notebook cache.

A reference the metrics store cannot answer is logged as a warning, which fails
``mkdocs build --strict``.
"""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path
from typing import Any

from llmnotes.metrics import MetricsStore, MetricsStoreError
from llmnotes.notebooks import execution_fingerprint, notebook_links
from llmnotes.pages import ReferenceFiller, render_math, strip_test_settings

log = logging.getLogger("mkdocs.plugins.llmnotes")
_store: MetricsStore | None = None
FINGERPRINT_FOLDER = re.compile(r"^[0-9a-f]{16}$")
TITLE = re.compile(r"^# .+$", re.M)


def site_root_prefix(page: Any) -> str:
    """The way from a page's address up to the site's root (``"../"`` for ``tokenization/``).

    Raw HTML links are not rewritten by MkDocs, so they are relative to the address, not to the
    Markdown file.
    """
    return "../" * page.url.count("/")


def on_config(config: Any) -> Any:
    """Key mkdocs-jupyter's execution cache on the package's code as well as the notebook."""
    plugin = config.plugins.get("mkdocs-jupyter")
    if plugin is None or not plugin.config.get("cache"):
        return config
    root = Path(config["config_file_path"]).parent
    base = Path(plugin.config["cache_dir"])
    if FINGERPRINT_FOLDER.match(base.name):  # a live-reload rebuild: already keyed
        base = base.parent
    fingerprint = execution_fingerprint(root)
    if base.is_dir():  # outputs of older code can never be hit again
        for old in base.iterdir():
            if old.is_dir() and FINGERPRINT_FOLDER.match(old.name) and old.name != fingerprint:
                shutil.rmtree(old, ignore_errors=True)
    plugin.config["cache_dir"] = str(base / fingerprint)
    return config


def on_pre_build(config: Any) -> None:
    """Load the metrics store once per build (again on every live-reload rebuild).

    Raises:
        mkdocs.exceptions.PluginError: The store is corrupt or was edited by hand; MkDocs shows
            the one-line reason and the way to recover, without a traceback.
    """
    from mkdocs.exceptions import PluginError

    global _store
    try:
        _store = MetricsStore(Path(config["docs_dir"]) / "generated" / "metrics.json")
    except MetricsStoreError as error:
        raise PluginError(str(error)) from None


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Strip test-only fence settings, fill references, link the page's notebook."""
    assert _store is not None, "on_pre_build did not run"
    where = page.file.src_uri
    prefix = "../" * where.count("/")
    filler = ReferenceFiller(_store, docs_prefix=prefix)
    markdown = filler.fill(
        strip_test_settings(markdown), lambda msg: log.warning(f"{where}: {msg}")
    )
    links = notebook_links(where, site_root_prefix(page))
    title = TITLE.search(markdown)
    if links and title:
        markdown = f"{markdown[: title.end()]}\n\n{links}\n{markdown[title.end() :]}"
    return markdown


def on_page_content(html: str, page: Any, config: Any, files: Any) -> str:
    """Render LaTeX math to MathML; give notebook pages their Colab and download links."""
    where = page.file.src_uri
    if where.endswith(".ipynb") and (links := notebook_links(where, site_root_prefix(page))):
        end = html.find("</h1>")
        html = links + html if end < 0 else f"{html[: end + 5]}\n{links}{html[end + 5 :]}"
    return render_math(html)
