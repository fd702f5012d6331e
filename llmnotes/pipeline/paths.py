"""Where the project's files live: the checkout, the generated artefacts, caches and shared data."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def repo_root() -> Path:
    """Return the root of the llmnotes checkout (the folder holding ``mkdocs.yml``).

    ``LLMNOTES_ROOT`` overrides it; otherwise the parent of the package (an editable install in a
    checkout) or, failing that, the first folder at or above the working directory with a
    ``mkdocs.yml``.
    """
    if env := os.environ.get("LLMNOTES_ROOT"):
        return Path(env).resolve()
    candidates = [PACKAGE_DIR.parent, *[Path.cwd(), *Path.cwd().parents]]
    for folder in candidates:
        if (folder / "mkdocs.yml").is_file():
            return folder
    return PACKAGE_DIR.parent


def docs_dir() -> Path:
    """Return the MkDocs ``docs/`` folder."""
    return repo_root() / "docs"


def generated_dir() -> Path:
    """Return ``docs/generated``, where metrics and figures are written."""
    return docs_dir() / "generated"


def metrics_path() -> Path:
    """Return the path of the metrics store, ``docs/generated/metrics.json``."""
    return generated_dir() / "metrics.json"


def site_folders() -> list[Path]:
    """The folders that hold the site: ``docs/`` (its sources) and ``site/`` (the default build).

    Nothing a user asks a command to write may land there: a classifier in ``docs/`` would be
    published with the site, one in ``docs/generated`` would replace the metrics store.
    """
    return [docs_dir().resolve(), (repo_root() / "site").resolve()]


def cache_dir() -> Path:
    """Return the per-user cache for trained models (``LLMNOTES_CACHE_DIR`` overrides it)."""
    if env := os.environ.get("LLMNOTES_CACHE_DIR"):
        return Path(env).expanduser()
    return Path.home() / ".cache" / "llmnotes"


def shared_data_dir() -> Path | None:
    """Return the developers' shared data folder, or ``None`` when there is none.

    ``LLMNOTES_DATA_DIR`` names it explicitly; otherwise ``../shared/data`` beside the checkout is
    used when it exists (developer machines and CI). A user's machine normally has neither, and the
    assets then come from the hub or gensim's downloader.
    """
    if env := os.environ.get("LLMNOTES_DATA_DIR"):
        path = Path(env).expanduser()
        return path if path.is_dir() else None
    path = repo_root().parent / "shared" / "data"
    return path if path.is_dir() else None
