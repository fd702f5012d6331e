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

import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from llmnotes.errors import UserError

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
        figures: Figure name to ``{"path": ..., "alt": ...}`` (and ``"data"`` for an interactive
            figure's JSON), paths relative to ``docs/``.
        preference: 0 when the experiment ran on its preferred assets, higher for stand-ins.
        checksum: :func:`entry_checksum` of the values and figures, set when the entry is
            stored; loading an entry whose content no longer matches it fails.
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
    """A hash of an entry's values and figures: what a hand edit of the store would change."""
    content = {"values": entry.values, "figures": entry.figures, "preference": entry.preference}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    Raises:
        MetricsStoreError: The folder is missing, read-only or full; ``path`` is left unchanged.
    """
    tmp_name = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except OSError as error:
        if tmp_name and os.path.exists(tmp_name):
            os.unlink(tmp_name)
        raise MetricsStoreError(
            f"cannot write {path}: {error.strerror or error}; make the folder writable "
            "(and free some disk space), then run the command again"
        ) from error


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

    Args:
        path: The JSON file; it need not exist yet.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._data = self._load()

    def _load(self) -> dict[str, dict[str, Entry]]:
        if not self.path.exists():
            return {}
        recover = (
            f"restore it with `git checkout -- {self.path.name}` in {self.path.parent}, "
            "or delete it and run `llmnotes regenerate --force`"
        )
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise MetricsStoreError(
                f"{self.path} is not valid JSON (line {error.lineno}, column {error.colno}); "
                f"{recover}"
            ) from error
        if not isinstance(raw, dict) or raw.get("schema") != SCHEMA_VERSION:
            raise MetricsStoreError(
                f"{self.path} is not a schema-{SCHEMA_VERSION} store; {recover}"
            )
        try:
            data = {
                name: {key: Entry(**entry) for key, entry in by_asset.items()}
                for name, by_asset in raw["experiments"].items()
            }
        except (KeyError, TypeError, AttributeError) as error:
            raise MetricsStoreError(
                f"{self.path} has a malformed entry ({error}); {recover}"
            ) from error
        for name, by_asset in data.items():
            for key, entry in by_asset.items():
                if entry.checksum is not None and entry.checksum != entry_checksum(entry):
                    raise MetricsStoreError(
                        f"{self.path}: {name} [{key}] was edited by hand (its values no longer "
                        f"match their checksum); {recover}, or rerun that experiment with "
                        f"`llmnotes regenerate --force {name}`"
                    )
        return data

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
        """Store ``entry`` and write the file atomically."""
        self._data.setdefault(experiment, {})[asset_key] = entry
        self.save()

    def save(self) -> None:
        """Write the whole store atomically, with sorted keys so diffs stay small.

        Every entry is written with its checksum, so a later hand edit is caught on load.
        """
        for by_asset in self._data.values():
            for entry in by_asset.values():
                entry.checksum = entry_checksum(entry)
        payload = {
            "schema": SCHEMA_VERSION,
            "experiments": {
                name: {key: asdict(entry) for key, entry in sorted(by_asset.items())}
                for name, by_asset in sorted(self._data.items())
            },
        }
        text = json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        write_atomic(self.path, text.encode("utf-8"))


def save_svg(fig: Any, path: Path) -> None:
    """Write a Matplotlib figure to ``path`` as deterministic SVG, atomically."""
    from llmnotes.figures import svg_bytes

    write_atomic(path, svg_bytes(fig))
