r"""The site's configuration read once: ``mkdocs.yml``'s nav, its repository, pages' front matter.

Every list the site needs comes from here or from the package itself, never from a second copy:
the pages and their order from the nav, each page's notebook from its front matter
(``notebook: NAME``), the API reference from the package's modules (:func:`public_modules`).

Examples:
    >>> front_matter("---\nnotebook: quickstart\n---\n# Home\n")
    {'notebook': 'quickstart'}
    >>> module_group("llmnotes.pipeline.assets"), module_group("llmnotes.bpe")
    ('Pipeline', 'Teaching code')
"""

from __future__ import annotations

import ast
import functools
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from llmnotes.pipeline.paths import repo_root
from llmnotes.pipeline.verified import RUNS_FILE

FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.S)
#: API reference groups, in the order the nav shows them.
GROUPS = ("Teaching code", "Experiments", "Pipeline")


class _Loader(yaml.SafeLoader):
    """A YAML loader that reads MkDocs' tags (``!ENV``, ``!!python/name:``) as plain values."""


_Loader.add_multi_constructor("", lambda loader, suffix, node: None)
_Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)


@functools.cache
def mkdocs_config(root: Path | None = None) -> dict[str, Any]:
    """``mkdocs.yml`` of the checkout at ``root`` (default: this checkout), as plain data."""
    path = (root or repo_root()) / "mkdocs.yml"
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)


def repository(root: Path | None = None) -> str:
    """The GitHub repository (``owner/name``) the site is published from: ``repo_name``."""
    return mkdocs_config(root)["repo_name"]


@functools.cache
def build_commit(root: Path | None = None) -> str | None:
    """The commit the checkout is at (``git rev-parse HEAD``), or ``None`` outside git."""
    import subprocess

    try:
        found = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=root or repo_root(),
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = found.stdout.strip()
    return commit if found.returncode == 0 and re.fullmatch(r"[0-9a-f]{40}", commit) else None


def has_uncommitted_changes(root: Path | None = None) -> bool:
    """Whether tracked files of the checkout differ from its commit (``False`` outside git)."""
    import subprocess

    try:
        found = subprocess.run(
            ["git", "diff", "--quiet", "HEAD", "--"], cwd=root or repo_root(), timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return found.returncode == 1


def nav_pages(nav: list[Any]) -> list[tuple[str, str]]:
    """Every ``(title, file)`` of a nav, in order, sections flattened."""
    found: list[tuple[str, str]] = []
    for item in nav:
        entries = item.items() if isinstance(item, dict) else [(None, item)]
        for title, target in entries:
            if isinstance(target, list):
                found += nav_pages(target)
            elif isinstance(target, str):
                found.append((title or target, target))
    return found


def front_matter(markdown: str) -> dict[str, Any]:
    """The YAML front matter of a page (``---`` lines at its top), or ``{}``."""
    match = FRONT_MATTER.match(markdown)
    return (yaml.safe_load(match.group(1)) or {}) if match else {}


@dataclass(frozen=True)
class NotebookPage:
    """A page that has a notebook: the page, the notebook's file name and its nav title."""

    page: str
    notebook: str
    title: str


def notebook_pages(root: Path | None = None) -> list[NotebookPage]:
    """The pages whose front matter names a notebook, in nav order.

    A page declares ``notebook: NAME`` (and, optionally, ``notebook_title: TITLE``; the page's
    nav title otherwise); ``docs/notebooks/NAME.ipynb`` is generated from it.
    """
    root = root or repo_root()
    found = []
    for title, page in nav_pages(mkdocs_config(root)["nav"]):
        path = root / "docs" / page
        if not page.endswith(".md") or not path.is_file():
            continue
        meta = front_matter(path.read_text(encoding="utf-8"))
        if name := meta.get("notebook"):
            found.append(NotebookPage(page, f"{name}.ipynb", meta.get("notebook_title", title)))
    return found


def module_group(module: str) -> str:
    """The API reference group of a module: teaching code, experiments or pipeline."""
    parts = module.split(".")
    if len(parts) > 1 and parts[1] == "experiments":
        return "Experiments"
    if len(parts) > 1 and parts[1] == "pipeline":
        return "Pipeline"
    return "Teaching code"


def public_modules(package: Path | None = None) -> list[tuple[str, str]]:
    """Every public module of the package as ``(dotted name, first docstring line)``.

    Public: not ``__main__`` and no part of its name starting with an underscore (package
    ``__init__`` files count, as the package).
    """
    package = package or repo_root() / "llmnotes"
    found = []
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        if parts[-1] == "__main__" or any(part.startswith("_") for part in parts):
            continue
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        found.append((".".join(parts), doc.strip().splitlines()[0] if doc.strip() else ""))
    return found


def reference_file(module: str) -> str:
    """The API reference page of a module, under ``docs/``: its path inside the package.

    Examples:
        >>> reference_file("llmnotes.bpe"), reference_file("llmnotes.pipeline")
        ('reference/bpe.md', 'reference/pipeline/index.md')
    """
    parts = module.split(".")[1:]
    if not parts:
        return "reference/llmnotes.md"
    package = Path(__file__).resolve().parents[1].joinpath(*parts)
    return "reference/" + "/".join(parts) + ("/index.md" if package.is_dir() else ".md")


def reference_nav(package: Path | None = None) -> list[Any]:
    """The API reference's nav: its index, then one page per public module, grouped."""
    modules = public_modules(package)
    nav: list[Any] = ["reference/index.md"]
    for group in GROUPS:
        pages = [{name: reference_file(name)} for name, _ in modules if module_group(name) == group]
        nav.append({group: pages})
    return nav


def reference_pages(package: Path | None = None) -> dict[str, str]:
    """The API reference pages, file name (under ``docs/``) to Markdown."""
    modules = public_modules(package)
    pages = {reference_file(name): f"# `{name}`\n\n::: {name}\n" for name, _ in modules}
    lines = [
        "# API reference",
        "",
        "The `llmnotes` package, module by module, generated from the code's docstrings and type",
        "hints by mkdocstrings. Teaching code is what the pages show and you can import;",
        "experiments produce the pages' numbers; the pipeline builds the site.",
    ]
    for group in GROUPS:
        lines += ["", f"## {group}", "", "| module | what it does |", "| --- | --- |"]
        for name, summary in modules:
            if module_group(name) == group:
                link = reference_file(name).removeprefix("reference/")
                lines.append(f"| [`{name}`]({link}) | {summary.rstrip('.')} |")
    pages["reference/index.md"] = "\n".join(lines) + "\n"
    return pages


#: What a site build reads: the build is redone when any of these changes.
#: The last test run's record counts too: each page's verified box shows it.
BUILD_INPUTS = ("mkdocs.yml", "constraints.txt", "pyproject.toml", "docs", "includes",
                "overrides", "llmnotes", RUNS_FILE.as_posix())  # fmt: skip


def build_inputs_hash(root: Path | None = None) -> str:
    """A hash of every file a site build reads (pages, metrics, figures, code, configuration)."""
    root = root or repo_root()
    digest = hashlib.sha256()
    for name in BUILD_INPUTS:
        path = root / name
        files = [path] if path.is_file() else sorted(path.rglob("*")) if path.is_dir() else []
        for file in files:
            if file.is_file() and "__pycache__" not in file.parts:
                digest.update(file.relative_to(root).as_posix().encode() + b"\0")
                digest.update(file.read_bytes())
    return digest.hexdigest()[:16]
