"""MkDocs hooks (listed in ``mkdocs.yml``): generated nav and API pages, stored numbers, math.

The nav's "Notebooks" and "API reference" sections are filled here, from the pages' front
matter and from the package's modules, so no list of them is kept by hand. A reference the
metrics store cannot answer is logged as a warning, which fails ``mkdocs build --strict``.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import shutil
from pathlib import Path
from typing import Any

from llmnotes.pipeline.charts import chart_path, chart_svg, spec_bytes
from llmnotes.pipeline.course import course_box, solution_seconds, time_solutions, topic_of
from llmnotes.pipeline.formulas import MathError, render_math
from llmnotes.pipeline.metrics import MetricsStore, MetricsStoreError
from llmnotes.pipeline.notebooks import (
    drop_build_noise,
    execution_fingerprint,
    notebook_links,
    notebook_math,
    notebooks_nav,
    pin_notebooks,
)
from llmnotes.pipeline.pages import ReferenceFiller, strip_test_settings
from llmnotes.pipeline.palettes import dark_chart, dark_path, dark_svg
from llmnotes.pipeline.site_config import reference_nav, reference_pages
from llmnotes.pipeline.verified import (
    ResultStatus,
    Verified,
    code_status,
    file_digest,
    now_utc,
    page_source,
    read_runs,
    result_status,
)
from llmnotes.pipeline.verified import render as render_verified

#: The nav sections the hook fills, by title, with what fills them.
GENERATED_SECTIONS = {"Notebooks": notebooks_nav, "API reference": reference_nav}

#: Search ranking (Material's per-page ``search.boost``): a learner's query should find the page
#: that teaches the idea before the API page of a module that mentions it.
SEARCH_BOOST = {"reference/": 0.3}
LEARNING_BOOST = 2.0

log = logging.getLogger("mkdocs.plugins.llmnotes")
_store: MetricsStore | None = None
#: Per page (its source URI): the box at its foot, made from what its Markdown showed.
_verified: dict[str, Verified] = {}
#: What is the same for every page of one build: when, from which commit, with which versions.
_build: dict[str, Any] = {}
FINGERPRINT_FOLDER = re.compile(r"^[0-9a-f]{16}$")
TITLE = re.compile(r"^# .+$", re.M)
FIGURE_SVG = re.compile(r"generated/figures/.+(?<!\.dark)\.svg")
#: A chart's Vega-Lite spec, as regenerate stores it (:mod:`.charts`).
CHART_SPEC = re.compile(r"generated/figures/.+(?<!\.dark)\.vl\.json")


def site_root_prefix(page: Any) -> str:
    """The way from a page's address up to the site's root (``"../"`` for ``tokenization/``).

    Raw HTML links are not rewritten by MkDocs, so they are relative to the address, not to the
    Markdown file.
    """
    return "../" * page.url.count("/")


def fill_nav(nav: list[Any]) -> list[Any]:
    """The nav with its generated sections (empty lists in ``mkdocs.yml``) filled in.

    Raises:
        mkdocs.exceptions.ConfigurationError: ``mkdocs.yml`` lacks one of those sections.
    """
    from mkdocs.exceptions import ConfigurationError

    missing = set(GENERATED_SECTIONS)
    filled = []
    for item in nav:
        if isinstance(item, dict) and len(item) == 1:
            (title,) = item
            if title in GENERATED_SECTIONS:
                missing.discard(title)
                item = {title: GENERATED_SECTIONS[title]()}
        filled.append(item)
    if missing:
        raise ConfigurationError(
            f"mkdocs.yml's nav has no section {sorted(missing)} (an empty list the hook fills)"
        )
    return filled


def on_config(config: Any) -> Any:
    """Fill the generated nav sections; key the notebook cache on the package's code too."""
    if config.get("nav"):
        config["nav"] = fill_nav(config["nav"])
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


def on_files(files: Any, config: Any) -> Any:
    """Add the generated API pages (one per public module, and their index) and dark figures.

    Each stored figure's SVG gets its dark-palette version beside it (:mod:`.palettes`), and
    each chart its dark spec.
    """
    from mkdocs.structure.files import File

    for uri, content in reference_pages().items():
        files.append(File.generated(config, uri, content=content))
    charts = {f.src_uri for f in files if CHART_SPEC.fullmatch(f.src_uri)}
    for figure in [f for f in files if FIGURE_SVG.fullmatch(f.src_uri)]:
        spec_uri = chart_path(figure.src_uri)
        if spec_uri in charts:
            # A chart's dark figure is drawn from its spec with the dark config, as the page's
            # dark chart is, rather than recoloured from the light SVG.
            spec = dark_chart(json.loads((Path(config["docs_dir"]) / spec_uri).read_bytes()))
            files.append(File.generated(config, dark_path(spec_uri), content=spec_bytes(spec)))
            dark = chart_svg(spec)
        else:
            dark = dark_svg(Path(figure.abs_src_path).read_bytes())
        files.append(File.generated(config, dark_path(figure.src_uri), content=dark))
    return files


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
    from llmnotes.pipeline.regenerate import installed_version, package_versions
    from llmnotes.pipeline.site_config import build_commit, has_uncommitted_changes

    root = Path(config["docs_dir"]).parent
    versions = package_versions() | {"mkdocs-material": installed_version("mkdocs-material")}
    _build.update(
        built=now_utc(),
        commit=build_commit(root),
        dirty=has_uncommitted_changes(root),
        versions=versions,
        runs=read_runs(root),
    )
    _verified.clear()
    _result_status.cache_clear()  # a live-reload rebuild checks again


def search_boost(src_uri: str) -> float:
    """How much the site's search favours a page, by where it lives.

    >>> search_boost("tokenization.md"), search_boost("reference/llmnotes.bpe.md")
    (2.0, 0.3)
    """
    prefix = next((p for p in SEARCH_BOOST if src_uri.startswith(p)), None)
    return SEARCH_BOOST[prefix] if prefix else LEARNING_BOOST


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Strip test-only fence settings, fill references and rank the page.

    Under its title go the links to its notebook and, on a topic page, the course box
    (:func:`~llmnotes.pipeline.course.course_box`).
    """
    assert _store is not None, "on_pre_build did not run"
    where, source = page.file.src_uri, markdown
    search = page.meta.setdefault("search", {})
    if isinstance(search, dict):  # a page's own front matter wins
        search.setdefault("boost", search_boost(where))
    prefix = "../" * where.count("/")
    filler = ReferenceFiller(_store, docs_prefix=prefix, docs=_store.path.parent.parent)
    markdown = filler.fill(
        strip_test_settings(markdown), lambda msg: log.warning(f"{where}: {msg}")
    )
    _verified[where] = verified_for(where, markdown, filler)
    under_title = [notebook_links(where, site_root_prefix(page))]
    if topic := topic_of(where, getattr(page, "title", None) or where, page.meta):
        under_title.append(course_box(topic, source))
        path = _store.path.parent.parent / where
        run = _build["runs"].get(f"docs/{where}")
        seconds = solution_seconds(path.read_text(encoding="utf-8"), run, file_digest(path))
        markdown = time_solutions(markdown, seconds)
    title = TITLE.search(markdown)
    if title and any(under_title):
        added = "\n\n".join(block for block in under_title if block)
        markdown = f"{markdown[: title.end()]}\n\n{added}\n{markdown[title.end() :]}"
    return markdown


def on_page_content(html: str, page: Any, config: Any, files: Any) -> str:
    """Render the page's math with KaTeX; give notebook pages their links and no build noise.

    A notebook page gets its Colab and download links, its Markdown cells' math marked for
    KaTeX (:func:`~llmnotes.pipeline.notebooks.notebook_math`), and loses the warnings of the
    machine that executed it (:func:`~llmnotes.pipeline.notebooks.drop_build_noise`).
    """
    where = page.file.src_uri
    if where.endswith(".ipynb"):
        html = notebook_math(drop_build_noise(html))
    if where.endswith(".ipynb") and (links := notebook_links(where, site_root_prefix(page))):
        end = html.find("</h1>")
        html = links + html if end < 0 else f"{html[: end + 5]}\n{links}{html[end + 5 :]}"
    if where in _verified:
        html += render_verified(_verified[where])
    try:
        return render_math(html)
    except MathError as error:
        log.warning(f"{where}: {error}")  # a warning fails the strict build, naming the page
        return html


@functools.cache
def _result_status(experiment: str, key: str, docs: Path) -> ResultStatus:
    assert _store is not None
    entry = _store.get(experiment, key)
    return result_status(experiment, key, entry, docs)


def verified_for(where: str, markdown: str, filler: ReferenceFiller) -> Verified:
    """The verified box of the page ``where``, whose source is ``markdown``."""
    assert _store is not None, "on_pre_build did not run"
    docs = _store.path.parent.parent
    results = [_result_status(name, key, docs) for name, key in filler.shown]
    ok, sentence = code_status(docs.parent, page_source(where, markdown, docs), _build["runs"])
    build = {k: _build[k] for k in ("built", "commit", "versions", "dirty")}
    return Verified(**build, results=results, code_ok=ok, code=sentence)


def on_post_build(config: Any) -> None:
    """Pin the built site's notebooks to the commit it was built from (outside git: unpinned)."""
    from llmnotes.pipeline.site_config import build_commit

    if commit := build_commit():
        pin_notebooks(Path(config["site_dir"]), commit)
