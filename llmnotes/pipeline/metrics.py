"""The metrics store: ``docs/generated/metrics.json``, every number the pages quote.

Entries are keyed by experiment and by the assets the experiment ran on, so a run on an offline
stand-in never overwrites a result obtained from the real asset. Every write goes to a temporary
file that is then renamed over the store, so an interrupted run leaves the previous file intact.

Examples:
    >>> import tempfile, pathlib
    >>> store = MetricsStore(pathlib.Path(tempfile.mkdtemp()) / "metrics.json")
    >>> store.put("demo.answer", "toy", Entry(values={"answer": 42}, provenance={}))
    >>> MetricsStore(store.path).get("demo.answer", "toy").values["answer"]
    42
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from llmnotes.errors import UserError

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; concurrent runs are then not merged
    fcntl = None  # type: ignore[assignment]

SCHEMA_VERSION = 1


class MetricsStoreError(UserError, RuntimeError):
    """Raised when the metrics file is unreadable, malformed, or cannot be written."""


class MissingMetric(KeyError):
    """Raised when a page asks for an experiment, asset or value that the store does not hold."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass
class Entry:
    """One experiment's result on one set of assets.

    Attributes:
        values: The numbers (and small lists or strings) the experiment returned.
        provenance: Assets and their sources, settings, versions, seed, duration, date, input hash.
        figures: Figure name to ``{"path": ..., "alt": ...}`` (and ``"chart"`` for an interactive
            chart's Vega-Lite spec), paths relative to ``docs/``, with each file's
            :func:`file_hash` under ``"path_sha256"`` (and ``"chart_sha256"``).
        preference: 0 when the experiment ran on its preferred assets, higher for stand-ins.
        checksum: :func:`entry_checksum` of everything above, set when the entry is stored;
            loading an entry without one, or whose content no longer matches it, fails.
    """

    values: dict[str, Any]
    provenance: dict[str, Any]
    figures: dict[str, dict[str, str]] = field(default_factory=dict)
    preference: int = 0
    checksum: str | None = None

    @property
    def input_hash(self) -> str | None:
        """The hash of the inputs that produced this entry."""
        return self.provenance.get("input_hash")


def entry_checksum(entry: Entry) -> str:
    """A hash of everything an entry holds: values, figures (with their files' hashes), provenance.

    A hand edit of any of them (a "better" number, another asset name) no longer matches it.
    """
    content = {
        "values": entry.values,
        "figures": entry.figures,
        "preference": entry.preference,
        "provenance": entry.provenance,
    }
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def file_hash(path: Path) -> str:
    """The SHA-256 of a file's bytes (shortened), as figures record it."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def edited_figures(entry: Entry, docs: Path) -> list[str]:
    """The figure files of ``entry`` that exist but differ from the bytes it recorded."""
    edited = []
    for fig in entry.figures.values():
        for kind in ("path", "chart"):
            recorded = fig.get(f"{kind}_sha256")
            file = docs / fig[kind] if kind in fig else None
            if recorded and file is not None and file.is_file() and file_hash(file) != recorded:
                edited.append(fig[kind])
    return edited


def walk(tree: Any, name: str, where: str, what: str) -> Any:
    """Follow the dotted path ``name`` into nested dicts and lists (see :meth:`MetricsStore.value`).

    Raises:
        MissingMetric: A segment is not there; the message names ``where`` and what it has.
    """
    value, rest = tree, name
    while rest:
        if isinstance(value, list):
            index, _, after = rest.partition(".")
            try:
                value, rest = value[int(index)], after
                continue
            except (ValueError, IndexError):
                raise MissingMetric(
                    f"{where}: {name!r} indexes a list of {len(value)} with {index!r}"
                ) from None
        # Keys may contain dots themselves ("lr 0.0003"): take the longest key that fits.
        fits = (
            [k for k in value if rest == k or rest.startswith(f"{k}.")]
            if isinstance(value, dict)
            else []
        )
        if not fits:
            available = ", ".join(sorted(value)) if isinstance(value, dict) else "no keys"
            raise MissingMetric(f"{where} has no {what} {name!r} (at {rest!r} it has: {available})")
        part = max(fits, key=len)
        value, rest = value[part], rest[len(part) + 1 :]
    return value


class MetricsStore:
    """Read and update the metrics file.

    Every write takes a lock beside the file, reads the store again and applies only this
    store's own changes to it, so two ``regenerate`` runs at once never lose each other's
    entries.

    Args:
        path: The JSON file; it need not exist yet.
        drop_forged: Set aside entries without a checksum or whose content no longer matches
            it (listed in :attr:`forged`) instead of refusing the whole store: they are not
            read, and are written back as they were until a new result replaces them.
            ``regenerate`` loads the store this way, so rerunning an edited experiment repairs
            the store and keeps every other entry.

    Raises:
        MetricsStoreError: The file is unreadable, malformed, or (without ``drop_forged``)
            holds an entry edited by hand.
    """

    def __init__(self, path: Path, drop_forged: bool = False) -> None:
        self.path = Path(path)
        self.drop_forged = drop_forged
        self.forged: list[str] = []
        self._changes: dict[tuple[str, str], Entry] = {}
        self._forged_raw: dict[tuple[str, str], Any] = {}
        self._data = self._load()

    def recovery_advice(self) -> str:
        """How to get a loadable store back, keeping every entry that was not edited."""
        return (
            "rerun the edited experiment with `llmnotes regenerate --force EXPERIMENT` (it sets "
            "the edited entries aside and keeps all others), or restore the file with "
            f"`git checkout -- {self.path.name}` in {self.path.parent}"
        )

    def restore_advice(self) -> str:
        """How to get the committed store back when the file itself is unusable."""
        return f"restore it with `git checkout -- {self.path.name}` in {self.path.parent}"

    def _read_raw(self) -> Any:
        from llmnotes.pipeline.files import FileProblem, readable_file

        broken = self.restore_advice()
        try:
            text = readable_file(self.path, "the metrics store", limit=MAX_STORE_BYTES).read_text(
                encoding="utf-8"
            )
            return json.loads(text)
        except FileProblem as error:
            raise MetricsStoreError(f"{error}; {broken}") from None
        except UnicodeDecodeError as error:
            raise MetricsStoreError(
                f"{self.path} is not UTF-8 text (byte {error.start}); {broken}"
            ) from None
        except OSError as error:
            raise MetricsStoreError(
                f"cannot read {self.path}: {error.strerror or error}; {broken}"
            ) from None
        except json.JSONDecodeError as error:
            raise MetricsStoreError(
                f"{self.path} is not valid JSON (line {error.lineno}, column {error.colno}); "
                f"{broken}, or delete it and run `llmnotes regenerate --force`"
            ) from error

    def _load(self) -> dict[str, dict[str, Entry]]:
        if not self.path.exists() and not self.path.is_symlink():
            return {}
        raw = self._read_raw()
        recover = self.restore_advice()
        if not isinstance(raw, dict) or raw.get("schema") != SCHEMA_VERSION:
            raise MetricsStoreError(
                f"{self.path} is not a schema-{SCHEMA_VERSION} store; {recover}"
            )
        try:
            data = {
                str(name): {str(key): Entry(**entry) for key, entry in by_asset.items()}
                for name, by_asset in raw["experiments"].items()
            }
        except (KeyError, TypeError, AttributeError) as error:
            raise MetricsStoreError(
                f"{self.path} has a malformed entry ({error}); {recover}"
            ) from error
        forged = []
        self._forged_raw = {}
        for name, by_asset in data.items():
            for key, entry in list(by_asset.items()):
                if entry.checksum is None or entry.checksum != entry_checksum(entry):
                    forged.append(f"{name} [{key}]")
                    self._forged_raw[(name, key)] = raw["experiments"][name][key]
                    del by_asset[key]
        self.forged = forged
        if forged and not self.drop_forged:
            raise MetricsStoreError(
                f"{self.path}: {', '.join(forged)} was edited by hand (no checksum, or content "
                f"that no longer matches it); {self.recovery_advice()}"
            )
        return {name: by_asset for name, by_asset in data.items() if by_asset}

    def entries(self, experiment: str) -> dict[str, Entry]:
        """Return every stored entry of ``experiment``, keyed by asset key."""
        return dict(self._data.get(experiment, {}))

    def get(self, experiment: str, asset_key: str) -> Entry | None:
        """Return the entry for ``experiment`` on ``asset_key``, or ``None``."""
        return self._data.get(experiment, {}).get(asset_key)

    def best(self, experiment: str, asset_key: str | None = None) -> tuple[str, Entry]:
        """Return the entry a page should show: the given asset key, or the most preferred one.

        Raises:
            MissingMetric: The store holds no such entry.
        """
        entries = self._data.get(experiment)
        if not entries:
            raise MissingMetric(
                f"no stored result for experiment {experiment!r}; run `llmnotes regenerate`"
            )
        if asset_key is not None:
            if asset_key not in entries:
                raise MissingMetric(
                    f"experiment {experiment!r} has no result on {asset_key!r} "
                    f"(it has: {', '.join(sorted(entries))})"
                )
            return asset_key, entries[asset_key]
        key = min(entries, key=lambda k: (entries[k].preference, k))
        return key, entries[key]

    def value(self, experiment: str, name: str, asset_key: str | None = None) -> Any:
        """Return one stored value (see :meth:`best` for which entry).

        ``name`` may be a dotted path into nested values: ``evaluation.ws353_spearman``; a
        segment that is an integer indexes a list (``lengths.0``, ``lengths.-1`` for the last).

        Raises:
            MissingMetric: The experiment, asset or value is not stored.
        """
        key, entry = self.best(experiment, asset_key)
        return walk(entry.values, name, f"experiment {experiment!r} on {key!r}", "value")

    def setting(self, experiment: str, name: str, asset_key: str | None = None) -> Any:
        """Return one setting the stored result was produced with (a dotted path, as values).

        Raises:
            MissingMetric: The experiment, asset or setting is not stored.
        """
        key, entry = self.best(experiment, asset_key)
        settings = entry.provenance.get("settings", {})
        return walk(settings, name, f"experiment {experiment!r} on {key!r}", "setting")

    def put(self, experiment: str, asset_key: str, entry: Entry) -> None:
        """Store ``entry`` and write the file atomically (merged with concurrent writes)."""
        entry.checksum = entry_checksum(entry)
        self._changes[(experiment, asset_key)] = entry
        self._data.setdefault(experiment, {})[asset_key] = entry
        self.save()

    def save(self) -> None:
        """Write the store atomically, with sorted keys so diffs stay small.

        Under the store's lock, the file is read again and this store's own entries are put
        into it, so entries another process wrote since this one loaded are kept. Entries set
        aside as forged are left out. Every entry is written with its checksum.
        """
        from llmnotes.pipeline.files import write_atomic

        with store_lock(self.path):
            self._data = self._load()
            for (experiment, key), entry in self._changes.items():
                self._data.setdefault(experiment, {})[key] = entry
            experiments: dict[str, dict[str, Any]] = {}
            for (name, key), raw in self._forged_raw.items():
                experiments.setdefault(name, {})[key] = raw  # kept as found until replaced
            for name, by_asset in self._data.items():
                for key, entry in by_asset.items():
                    experiments.setdefault(name, {})[key] = asdict(entry)
            payload = {
                "schema": SCHEMA_VERSION,
                "experiments": {
                    name: dict(sorted(by_key.items()))
                    for name, by_key in sorted(experiments.items())
                },
            }
            text = json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
            write_atomic(self.path, text.encode("utf-8"), "the metrics store")


#: The largest metrics store read (the site's is about 0.3 MB).
MAX_STORE_BYTES = 64 << 20


@contextlib.contextmanager
def store_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path``'s lock file (``.metrics.json.lock``) while inside.

    Raises:
        MetricsStoreError: The lock file cannot be created (a read-only folder).
    """
    lock = path.parent / f".{path.name}.lock"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(lock, "a+b")  # noqa: SIM115 - closed below, after the unlock
    except OSError as error:
        raise MetricsStoreError(
            f"cannot write {path}: {error.strerror or error}; make the folder writable "
            "(and free some disk space), then run the command again"
        ) from error
    try:
        if fcntl is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        yield
    finally:
        if fcntl is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        handle.close()


def save_svg(fig: Any, path: Path) -> None:
    """Write a Matplotlib figure to ``path`` as deterministic SVG, atomically."""
    from llmnotes.figures import svg_bytes
    from llmnotes.pipeline.files import write_atomic

    write_atomic(path, svg_bytes(fig), "the figure")
