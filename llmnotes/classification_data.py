"""Labelled text for classification, from the formats people actually have.

:func:`load_labelled` reads any of:

- a table (``.csv``, ``.tsv``, ``.json``, ``.jsonl``, ``.parquet``) with a text and a label column;
- one file per label: ``neg=FILE pos=FILE`` (one example per line);
- an aclImdb-style folder: one sub-folder per label, one text file per example;
- ``label sentence`` lines, as in the SST-2 files of the Kim (2014) split (``stsa.binary.*``);
- and, with :func:`load_hub_dataset`, a hub data set id with a split, ``stanfordnlp/sst2:train``
  (online only).

String labels are mapped to ids in sorted order ("negative" 0, "positive" 1); integer labels keep
their values. Every problem (a missing column, one class only, an empty file) raises
:class:`DataError` with one line naming the fix.

Examples:
    >>> data = LabelledData.from_pairs([("great", "pos"), ("awful", "neg")])
    >>> data.label_names, data.labels
    (['neg', 'pos'], [1, 0])
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmnotes.errors import UserError

TABLE_SUFFIXES = {".csv", ".tsv", ".json", ".jsonl", ".parquet"}
TEXT_COLUMNS = ("text", "sentence", "review", "content")
LABEL_COLUMNS = ("label", "labels", "sentiment", "class")


class DataError(UserError, ValueError):
    """A data file or folder that cannot be used as labelled text; the message names the fix."""


@dataclass(frozen=True)
class LabelledData:
    """Texts with integer labels, and the name of each label id."""

    texts: list[str]
    labels: list[int]
    label_names: list[str]

    @classmethod
    def from_pairs(
        cls, pairs: Iterable[tuple[str, object]], source: str = "the data"
    ) -> LabelledData:
        """Build from (text, label) pairs, mapping labels to ids.

        Raises:
            DataError: There are no examples, or a label is missing.
        """
        pairs = list(pairs)
        if not pairs:
            raise DataError(f"{source} has no examples")
        raw = [label for _, label in pairs]
        if any(label is None or (isinstance(label, float) and label != label) for label in raw):
            raise DataError(f"{source} has examples without a label (empty or NaN); remove them")
        if all(_is_integer(label) for label in raw):
            ids = [int(label) for label in raw]  # type: ignore[call-overload]
            if min(ids) < 0:
                raise DataError(f"{source} has negative label ids; use 0, 1, … or label names")
            if (unused := max(ids) + 1 - len(set(ids))) > 0:
                raise DataError(
                    f"{source} has label ids up to {max(ids):,} but {unused:,} of them have no "
                    f"example (a head of {max(ids) + 1:,} classes); number the classes "
                    f"0 to {len(set(ids)) - 1} or use label names"
                )
            names = [str(i) for i in range(max(ids) + 1)]
        else:
            names = sorted({str(label) for label in raw})
            index = {name: i for i, name in enumerate(names)}
            ids = [index[str(label)] for label in raw]
        return cls([str(text) for text, _ in pairs], ids, names)

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, indices: Sequence[int]) -> LabelledData:
        """The examples at ``indices``, with the same label names."""
        return LabelledData(
            [self.texts[i] for i in indices], [self.labels[i] for i in indices], self.label_names
        )

    def counts(self) -> dict[str, int]:
        """Examples per label name."""
        counted = Counter(self.labels)
        return {name: counted.get(i, 0) for i, name in enumerate(self.label_names)}

    def check_trainable(self, source: str) -> None:
        """Raise :class:`DataError` unless there are examples of at least two labels."""
        present = [name for name, n in self.counts().items() if n]
        if len(present) < 2:
            raise DataError(
                f"{source} has a single class ({', '.join(present) or 'none'}): "
                "a classifier needs examples of at least two labels"
            )


def _is_integer(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        return value.is_integer()
    return isinstance(value, str) and value.strip().lstrip("-").isdigit()


def stratified_split(
    data: LabelledData, fraction: float, seed: int
) -> tuple[LabelledData, LabelledData]:
    """Split off ``fraction`` of each label's examples (seeded); return (rest, split-off part).

    A label with two examples or more gives at least one, so a small data set still has every
    label on both sides.
    """
    rng = random.Random(seed)
    held: list[int] = []
    for label in range(len(data.label_names)):
        members = [i for i, y in enumerate(data.labels) if y == label]
        rng.shuffle(members)
        share = round(len(members) * fraction)
        held += members[: max(share, 1) if len(members) >= 2 and fraction > 0 else share]
    held_set = set(held)
    rest = [i for i in range(len(data)) if i not in held_set]
    return data.subset(rest), data.subset(sorted(held))


def load_labelled(
    spec: str | Sequence[str],
    text_column: str | None = None,
    label_column: str | None = None,
) -> LabelledData:
    """Load labelled text from a local path or ``NAME=FILE`` pairs.

    Args:
        spec: What to load (see the module docstring); a list for several ``NAME=FILE`` pairs.
        text_column: The text column of a table (default: the first of :data:`TEXT_COLUMNS`).
        label_column: The label column of a table (default: the first of :data:`LABEL_COLUMNS`).

    Raises:
        DataError: The data cannot be read as labelled text; the message says why and what to do.
    """
    parts = [spec] if isinstance(spec, str) else list(spec)
    if all("=" in part for part in parts):
        return _per_label_files(parts)
    if len(parts) != 1:
        raise DataError(f"expected one data path or NAME=FILE pairs, got {parts}")
    path = Path(parts[0]).expanduser()
    if path.is_dir():
        return _label_folders(path)
    if path.is_file():
        if path.suffix.lower() in TABLE_SUFFIXES:
            return _table(path, text_column, label_column)
        return _label_first_lines(path)
    raise DataError(f"no such file or folder: {parts[0]}")


def _table(path: Path, text_column: str | None, label_column: str | None) -> LabelledData:
    import pandas as pd

    frame = read_table(path)
    columns = [str(c) for c in frame.columns]
    text = _pick_column(columns, text_column, TEXT_COLUMNS, "text", path)
    label = _pick_column(columns, label_column, LABEL_COLUMNS, "label", path)
    rows = [(t, None if pd.isna(y) else y) for t, y in zip(frame[text], frame[label], strict=True)]
    return LabelledData.from_pairs(rows, str(path))


def load_texts(path: Path, text_column: str | None = None) -> list[str]:
    """Texts to classify: a table's text column, or else one text per non-empty line.

    Raises:
        DataError: The table cannot be read, has no such column, or there is no text.
    """
    if path.suffix.lower() in TABLE_SUFFIXES:
        frame = read_table(path)
        column = _pick_column(
            [str(c) for c in frame.columns], text_column, TEXT_COLUMNS, "text", path
        )
        texts = [str(t) for t in frame[column] if isinstance(t, str) and t.strip()]
    else:
        texts = [line for line in _read(path).splitlines() if line.strip()]
    if not texts:
        raise DataError(f"{path} holds no text to classify")
    return texts


def read_table(path: Path) -> Any:
    """A CSV, TSV, JSON, JSON-lines or Parquet file as a pandas ``DataFrame``.

    Raises:
        DataError: The file cannot be read in the format its suffix names.
    """
    import pandas as pd

    suffix = path.suffix.lower()
    try:
        if suffix in {".csv", ".tsv"}:
            frame = pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",")
        elif suffix == ".parquet":
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_json(path, lines=suffix == ".jsonl")
    except Exception as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise DataError(f"cannot read {path} as {suffix[1:].upper()}: {message}") from None
    return frame


def _pick_column(
    columns: list[str], asked: str | None, defaults: Sequence[str], role: str, path: Path
) -> str:
    if asked is not None:
        if asked not in columns:
            raise DataError(
                f"{path} has no column {asked!r}; its columns are: {', '.join(columns)} "
                f"(choose one with --{role}-column)"
            )
        return asked
    for name in defaults:
        if name in columns:
            return name
    raise DataError(
        f"{path} has none of the usual {role} columns ({', '.join(defaults)}); its columns are: "
        f"{', '.join(columns)} (choose one with --{role}-column)"
    )


def _per_label_files(parts: Sequence[str]) -> LabelledData:
    pairs = []
    for part in parts:
        name, _, file = part.partition("=")
        path = Path(file).expanduser()
        if not name or not path.is_file():
            raise DataError(f"{part!r}: expected LABEL=FILE with an existing file")
        lines = [line.strip() for line in _read(path).splitlines() if line.strip()]
        if not lines:
            raise DataError(f"{path} (label {name!r}) is empty")
        pairs += [(line, name) for line in lines]
    return LabelledData.from_pairs(pairs, " + ".join(parts))


def _label_folders(path: Path) -> LabelledData:
    folders = sorted(p for p in path.iterdir() if p.is_dir() and p.name != "unsup")
    pairs = [
        (_read(f).strip(), folder.name) for folder in folders for f in sorted(folder.glob("*.txt"))
    ]
    if not pairs:
        raise DataError(
            f"{path} has no label sub-folders with .txt files (expected e.g. {path}/pos/1.txt)"
        )
    return LabelledData.from_pairs(pairs, str(path))


def _label_first_lines(path: Path) -> LabelledData:
    pairs = []
    for number, line in enumerate(_read(path).splitlines(), start=1):
        if not line.strip():
            continue
        label, _, text = line.strip().partition(" ")
        if not _is_integer(label) or not text:
            raise DataError(
                f"{path}, line {number}: expected 'LABEL TEXT' lines (as in SST-2's stsa.binary "
                "files), or use a .csv/.tsv/.json/.jsonl/.parquet table"
            )
        pairs.append((text, int(label)))
    return LabelledData.from_pairs(pairs, str(path))


def load_hub_dataset(
    spec: str, text_column: str | None = None, label_column: str | None = None
) -> LabelledData:
    """Load labelled text from a Hugging Face hub data set, ``owner/name:split`` (online only).

    Raises:
        DataError: The data set cannot be loaded, or lacks a text or label column.
    """
    name, _, split = spec.partition(":")
    from datasets import load_dataset

    try:
        dataset = load_dataset(name, split=split or "train")
    except Exception as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise DataError(f"cannot load hub data set {spec!r} (online only): {message}") from None
    columns = list(dataset.column_names)
    text = _pick_column(columns, text_column, TEXT_COLUMNS, "text", Path(spec))
    label = _pick_column(columns, label_column, LABEL_COLUMNS, "label", Path(spec))
    data = LabelledData.from_pairs(zip(dataset[text], dataset[label], strict=True), spec)
    feature = dataset.features[label]
    if hasattr(feature, "names"):  # a ClassLabel: keep the data set's own names
        data = LabelledData(data.texts, data.labels, list(feature.names))
    return data


def _read(path: Path) -> str:
    from llmnotes.corpora import read_text

    return read_text(path)


#: SST-2's label ids, as in the data set card.
SST2_LABELS = ["negative", "positive"]


def sst2_splits(folder: Path) -> dict[str, LabelledData]:
    """SST-2's train, validation and test splits from a resolved ``sst2`` asset.

    The shared data folder holds the Kim (2014) split (``stsa.binary.train/dev/test``, 6,920 /
    872 / 1,821 sentences). The hub's ``stanfordnlp/sst2`` has no test labels, so there its
    validation split serves as the test set and a stratified tenth of train as validation.

    Raises:
        DataError: The folder holds neither layout.
    """

    def named(data: LabelledData) -> LabelledData:
        return LabelledData(data.texts, data.labels, SST2_LABELS)

    if (folder / "stsa.binary.train").is_file():
        files = {"train": "train", "validation": "dev", "test": "test"}
        return {
            split: named(_label_first_lines(folder / f"stsa.binary.{f}"))
            for split, f in files.items()
        }
    parquet = {
        split: sorted(folder.glob(f"**/{split}-*.parquet")) for split in ("train", "validation")
    }
    if not all(parquet.values()):
        raise DataError(f"{folder} holds neither stsa.binary.* files nor the hub's parquet splits")
    train = named(_table(parquet["train"][0], "sentence", "label"))
    rest, validation = stratified_split(train, 0.1, seed=0)
    return {
        "train": rest,
        "validation": validation,
        "test": named(_table(parquet["validation"][0], "sentence", "label")),
    }


def pang_lee_data(gensim_test_data: Path) -> LabelledData:
    """Gensim's 200 labelled review sentences (``__label__neg`` / ``__label__pos``)."""
    from llmnotes.corpora import pang_lee_sentences

    labels = [
        line.split(" ", 1)[0].removeprefix("__label__")
        for line in _read(gensim_test_data / "pang_lee_polarity.cor").splitlines()
    ]
    return LabelledData.from_pairs(zip(pang_lee_sentences(gensim_test_data), labels, strict=True))
