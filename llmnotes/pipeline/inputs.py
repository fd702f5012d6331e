"""What a user typed on the command line, read once: asset names, paths and hub ids.

:func:`parse_reference` is the one rule that tells a registered asset (``minilm``), a local path
(``./model``, ``~/data.csv``) and a Hugging Face hub id (``owner/name``, ``owner/name:split``)
apart. The command back ends below use it: vectors for ``similarity`` and ``neighbours``, the
model and data of ``finetune``, the model of ``sentiment``, the tokenizers of ``tokenize``.

Examples:
    >>> parse_reference("minilm").kind, parse_reference("./out").kind
    ('asset', 'path')
    >>> parse_reference("stanfordnlp/sst2:train")
    Reference(kind='hub', text='stanfordnlp/sst2:train')
    >>> parse_reference("distilgpt2", bare_hub_ids=True).kind
    'hub'
"""

from __future__ import annotations

import argparse
import gzip
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmnotes.bpe import BPETokenizer
from llmnotes.classification_data import (
    DataError,
    LabelledData,
    load_hub_dataset,
    load_labelled,
    load_texts,
    pang_lee_data,
    sst2_splits,
    stratified_split,
)
from llmnotes.corpora import lee_background
from llmnotes.embeddings import load_vectors, static_token_vectors
from llmnotes.errors import UserError
from llmnotes.pipeline.assets import REGISTRY, AssetUnavailable, get_asset, resolve, resolve_first
from llmnotes.pipeline.files import FileProblem, readable_file, readable_folder, readable_path
from llmnotes.tokenization import load_tokenizer, word_tokens, wordpiece_encoding

#: A hub id: ``owner/name``, optionally ``:split``; no other slash, not starting like a path.
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+(:[\w.-]+)?$")
#: A hub id of the oldest models, without an owner (``gpt2``, ``bert-base-uncased``).
BARE_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*$")


class InputError(UserError, ValueError):
    """Something given on the command line that cannot be used; the message names the fix."""


@dataclass(frozen=True)
class Reference:
    """What a name on the command line refers to: ``asset``, ``path`` or ``hub``."""

    kind: str
    text: str


def parse_reference(text: str, bare_hub_ids: bool = False) -> Reference:
    """Read ``text`` as a registered asset, an existing or path-like local path, or a hub id.

    An existing file or folder always wins over a hub id of the same spelling.

    Args:
        text: What the user typed.
        bare_hub_ids: Read a name without an owner (``gpt2``) as a hub id, as model names can
            be; data set names need their owner, so ``train.csv`` stays a path.

    Raises:
        InputError: ``text`` is empty.
    """
    if not text.strip():
        raise InputError("an empty name: give an asset name, a path or a hub id")
    if text in REGISTRY:
        return Reference("asset", text)
    if Path(text).expanduser().exists() or text.startswith((".", "/", "~")):
        return Reference("path", text)
    hub = HUB_ID.match(text) or (bare_hub_ids and BARE_HUB_ID.match(text))
    return Reference("hub" if hub else "path", text)


def model_location(text: str, offline: bool | None = None) -> str | Path:
    """A model folder for an asset name or a path, the id itself for a hub id.

    Raises:
        InputError: A path that does not exist.
        AssetUnavailable: The asset does not resolve.
    """
    reference = parse_reference(text, bare_hub_ids=True)
    if reference.kind == "asset":
        return resolve(text, offline=offline).path
    if reference.kind == "hub":
        return text
    path = Path(text).expanduser()
    if not path.exists() and not path.is_symlink():
        raise InputError(
            f"no such model folder: {text}; pass a folder written by `llmnotes finetune`, "
            "an asset name (minilm-sst2) or a hub id (owner/name)"
        )
    try:
        return readable_folder(path, "--model")
    except FileProblem as error:
        raise InputError(str(error)) from None


def texts_to_classify(path: str, text_column: str | None) -> list[str]:
    """The texts of ``sentiment --file``: a table's text column, or one text a line.

    Raises:
        DataError: The file cannot be used (one line naming the fix).
    """
    try:
        file = readable_file(path, "--file")
    except FileProblem as error:
        raise DataError(str(error)) from None
    return load_texts(file, text_column)


#: What ``evaluate`` reads per text when the model does not say what it was trained with.
DEFAULT_MAX_LENGTH = 512


def trained_max_length(model: str | Path) -> int:
    """The ``max_length`` a folder written by ``llmnotes finetune`` was trained with, else 512."""
    import json

    try:
        run = json.loads((Path(model) / "run_config.json").read_text(encoding="utf-8"))
        return int(run["config"]["max_length"])
    except (OSError, ValueError, KeyError, TypeError):
        return DEFAULT_MAX_LENGTH


#: What ``--vectors`` falls back to, in order: GloVe, then MiniLM's static embeddings offline.
DEFAULT_VECTORS = ("glove-wiki-gigaword-50", "minilm")


def open_vectors(name_or_path: str | None, offline: bool | None = None) -> tuple[Any, str]:
    """Load vectors for the command line from an asset name, a file, or the defaults.

    Args:
        name_or_path: A registered asset (``glove-wiki-gigaword-50``, ``minilm``), a path to a
            vectors file, or ``None`` for the first of :data:`DEFAULT_VECTORS` that resolves.
        offline: Skip the network.

    Returns:
        The vectors and a one-line description of where they came from.

    Raises:
        AssetUnavailable: No default resolves.
        llmnotes.embeddings.VectorsFormatError: The file is not a vectors text file.
        InputError: The path does not exist.
    """
    if name_or_path is not None and parse_reference(name_or_path).kind != "asset":
        path = Path(name_or_path).expanduser()
        if not path.exists() and not path.is_symlink() and str(name_or_path).strip():
            raise InputError(f"no such vectors file or asset: {name_or_path}")
        path = readable_file(name_or_path, "--vectors")
        sniff_lines(path, "--vectors", MAX_VECTOR_LINE)
        return load_vectors(path), f"vectors from {path}"
    names = (name_or_path,) if name_or_path else DEFAULT_VECTORS
    found, rank = resolve_first(names, offline=offline)
    if found.asset == "minilm":
        vectors = static_token_vectors(found.path)
        note = ", the offline stand-in for GloVe" if rank else ""
        return vectors, f"MiniLM static input embeddings ({found.location}){note}"
    return load_vectors(found.path), f"{found.asset} ({found.location})"


#: The longest line of a vectors text file (GloVe's 300-dimensional lines are about 3 kB).
MAX_VECTOR_LINE = 1 << 20


def sniff_lines(path: Path, what: str, limit: int) -> None:
    """Refuse a text file whose first line is longer than ``limit`` bytes (or not text).

    It catches a binary file (or a disk image) given as a text file before it is read whole.

    Raises:
        InputError: The first ``limit`` bytes hold no line break.
    """
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            head = handle.read(limit)
    except (OSError, EOFError) as error:
        raise InputError(f"{what}: cannot read {path}: {error}") from None
    if len(head) == limit and b"\n" not in head:
        raise InputError(
            f"{what}: {path} has no line break in its first {limit:,} bytes; the limit on a "
            "line is that: give a text file with one entry a line"
        )


#: Share of the training data held out for validation when no ``--eval`` is given.
VALIDATION_FRACTION = 0.1


#: The name of the labelled data every install has: gensim's 200 movie-review sentences.
PACKAGED_SENTENCES = "pang-lee"


def labelled_data(
    spec: list[str], text_column: str | None, label_column: str | None
) -> LabelledData:
    """Labelled text from local files, the hub (``owner/name:split``) or ``pang-lee``.

    Local files are read by :func:`llmnotes.classification_data.load_labelled`; ``pang-lee``
    (:data:`PACKAGED_SENTENCES`) is the 200 labelled sentences gensim ships, offline anywhere.

    Raises:
        DataError: The data cannot be used (one line naming the fix).
    """
    if spec == [PACKAGED_SENTENCES]:
        return pang_lee_data(resolve("gensim-test-data", offline=True).path)
    if len(spec) == 1 and parse_reference(spec[0]).kind == "hub":
        return load_hub_dataset(spec[0], text_column, label_column)
    for part in spec:
        path = part.partition("=")[2] if "=" in part else part
        try:
            if Path(path).expanduser().exists() or not path.strip():
                readable_path(path, "the data")
        except FileProblem as error:
            raise DataError(str(error)) from None
    return load_labelled(spec, text_column, label_column)


def finetune_inputs(
    args: argparse.Namespace, offline: bool | None = None
) -> tuple[str | Path, dict[str, LabelledData]]:
    """The model and the splits of a ``finetune`` command line.

    ``--train sst2`` takes all three SST-2 splits from the asset; otherwise ``--eval`` (or a
    seeded, stratified tenth of train) is the validation set and ``--test`` is optional.

    Raises:
        DataError: The data cannot be used (one line naming the fix).
    """
    try:
        model = model_location(args.model, offline)
        if args.train == ["sst2"]:
            splits = sst2_splits(resolve("sst2", offline=offline).path)
        else:
            splits = {"train": labelled_data(args.train, args.text_column, args.label_column)}
    except (AssetUnavailable, InputError) as error:
        raise DataError(str(error)) from None
    if args.eval:
        splits["validation"] = labelled_data(args.eval, args.text_column, args.label_column)
    elif "validation" not in splits:
        splits["train"], splits["validation"] = stratified_split(
            splits["train"], VALIDATION_FRACTION, args.seed
        )

    if args.test:
        splits["test"] = labelled_data(args.test, args.text_column, args.label_column)
    splits["train"].check_trainable("the training data")
    if not len(splits["validation"]):
        raise DataError(
            f"the training data has too few examples per class ({splits['train'].counts()}) "
            f"to hold out {VALIDATION_FRACTION:.0%} for validation; give --eval DATA"
        )
    names = splits["train"].label_names
    for split, data in splits.items():
        if data.label_names != names:
            raise DataError(
                f"the {split} labels {data.label_names} differ from the training labels {names}"
            )
    return model, splits


#: What ``llmnotes tokenize --with`` accepts.
METHODS = ("bert", "nltk", "bpe")
#: The BERT tokenizer and its offline stand-in, most preferred first.
BERT_TOKENIZERS = ("bert-base-uncased", "minilm")
#: The BPE the command line uses: learned from gensim's Lee corpus, which every install has.
CLI_BPE_VOCAB_SIZE = 2256


@dataclass(frozen=True)
class Tokenized:
    """Tokens of a text, their ids (``None`` when the method has none), and what produced them."""

    tokens: list[str]
    ids: list[int] | None
    source: str


def cli_bpe(cache: Path) -> BPETokenizer:
    """The command line's BPE tokenizer: loaded from ``cache``, or trained there once (~1 s).

    A cached file that cannot be read as the tokenizer (a disk full while it was written, a
    hand edit) is trained again and replaced; a cache folder that cannot be written is noted,
    and the tokenizer is used without being kept.
    """
    path = cache / "bpe" / f"lee-background-{CLI_BPE_VOCAB_SIZE}.json"
    if path.is_file():
        try:
            bpe = BPETokenizer.load(path)
            if bpe.vocab_size == CLI_BPE_VOCAB_SIZE:
                return bpe
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            pass
        print(f"note: the cached BPE in {path} was unreadable; trained it again", file=sys.stderr)
    texts = lee_background(resolve("gensim-test-data", offline=True).path)
    bpe = BPETokenizer.train(texts, vocab_size=CLI_BPE_VOCAB_SIZE)
    try:
        bpe.save(path)  # a partial write is caught and replaced on the next load
    except OSError as error:
        print(
            f"note: the BPE was not cached in {path.parent} ({error.strerror or error}); "
            "set LLMNOTES_CACHE_DIR to a writable folder to keep it",
            file=sys.stderr,
        )
    return bpe


def tokenize_with(method: str, text: str, cache: Path, offline: bool | None = None) -> Tokenized:
    """Tokenize ``text`` with ``nltk`` words, ``bert`` WordPiece or the byte-level ``bpe``.

    Raises:
        InputError: The method is unknown, the text is empty, or it is not valid Unicode.
        AssetUnavailable: No BERT tokenizer resolves.
    """
    if method not in METHODS:
        raise InputError(f"unknown tokenizer {method!r}; choose one of: {', '.join(METHODS)}")
    if not text.strip():
        raise InputError("nothing to tokenize: the text is empty")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InputError(
            f"the text is not valid UTF-8 (undecodable byte at position {error.start}); "
            "re-encode the input as UTF-8"
        ) from None
    if method == "nltk":
        return Tokenized(word_tokens(text), None, "NLTK Treebank word tokenizer")
    if method == "bpe":
        bpe = cli_bpe(cache)
        ids = bpe.encode(text)
        return Tokenized(
            [bpe.token_text(i) for i in ids],
            ids,
            f"llmnotes BPE, {bpe.vocab_size:,} tokens, Lee corpus",
        )
    found, _ = resolve_first(BERT_TOKENIZERS, offline=offline)
    encoding = wordpiece_encoding(load_tokenizer(found.path), text)
    stand_in = get_asset(found.asset).stand_in_for
    note = f", offline stand-in for {stand_in}" if stand_in else ""
    source = f"{found.asset} WordPiece from {found.location}{note}"
    return Tokenized(encoding["tokens"], encoding["ids"], source)
