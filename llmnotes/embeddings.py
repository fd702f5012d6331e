"""Word embeddings: load vectors, compare words, and measure whether the vectors mean anything.

The experiments of the embeddings page live in :mod:`llmnotes.experiments.embeddings`; the
from-scratch trainers in :mod:`llmnotes.word2vec` and :mod:`llmnotes.glove`.

Examples:
    >>> round(cosine([1.0, 0.0], [1.0, 1.0]), 4)
    0.7071
"""

from __future__ import annotations

import difflib
import gzip
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from llmnotes.errors import UserError

#: The benchmark files gensim ships (``gensim.test.utils.datapath``).
BENCHMARKS = {"ws353": "wordsim353.tsv", "simlex": "simlex999.txt"}
ANALOGIES = "questions-words.txt"


class VectorsFormatError(UserError, ValueError):
    """Raised when a file is not a GloVe or word2vec text file."""


class UnknownWord(UserError, KeyError):
    """Raised for a word the vectors do not have; the message suggests close spellings."""

    def __str__(self) -> str:
        return str(self.args[0])


def cosine(u: Sequence[float] | np.ndarray, v: Sequence[float] | np.ndarray) -> float:
    """Cosine similarity: the dot product of ``u`` and ``v`` divided by their norms."""
    a, b = np.asarray(u, dtype=np.float64), np.asarray(v, dtype=np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def load_vectors(path: str | Path) -> Any:
    """Load word vectors as gensim ``KeyedVectors``.

    Accepts a GloVe text file (``word v1 … vN``, no header), a word2vec text file (with its
    ``count dim`` header, possibly gzipped) or a gensim-downloader folder holding one such file.
    Every line is checked, so a truncated or mixed-up file fails with the line at fault.

    Raises:
        VectorsFormatError: The file is in neither text format, or a line is malformed.
        FileNotFoundError: The path does not exist.
    """
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in {".gz", ".txt"})
        if not files:
            raise VectorsFormatError(f"{path} holds no .txt or .gz vector file")
        path = files[0]
    opener = gzip.open if path.suffix == ".gz" else open
    expected = (
        f"{path} is not a vectors text file: expected GloVe lines 'word v1 v2 …' "
        "or a word2vec file with a 'count dim' header"
    )
    words, rows = [], []
    try:
        with opener(path, "rt", encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                parts = line.rstrip().split(" ")
                if number == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                    continue  # the word2vec header
                try:
                    row = np.array(parts[1:], dtype=np.float32)
                except ValueError:
                    raise VectorsFormatError(f"{expected} (line {number})") from None
                if len(row) == 0:
                    raise VectorsFormatError(f"{expected} (line {number})")
                if rows and len(row) != len(rows[0]):
                    raise VectorsFormatError(
                        f"{path}: line {number} has {len(row)} values, expected {len(rows[0])}"
                    )
                rows.append(row)
                words.append(parts[0])
    except UnicodeDecodeError:
        raise VectorsFormatError(f"{expected} (it is not UTF-8 text)") from None
    if not rows:
        raise VectorsFormatError(f"{expected} (it is empty)")
    return keyed_vectors(words, np.stack(rows))


def keyed_vectors(words: Sequence[str], vectors: np.ndarray) -> Any:
    """Wrap words and their vectors in gensim ``KeyedVectors`` (for its evaluation tools)."""
    from gensim.models import KeyedVectors

    keyed = KeyedVectors(vectors.shape[1])
    keyed.add_vectors(list(words), np.asarray(vectors, dtype=np.float32))
    return keyed


def check_word(vectors: Any, word: str) -> None:
    """Raise :class:`UnknownWord` with close spellings if ``word`` has no vector."""
    if word in vectors.key_to_index:
        return
    close = difflib.get_close_matches(word, vectors.index_to_key[:50_000], n=3)
    hint = f"; close words in the vocabulary: {', '.join(close)}" if close else ""
    raise UnknownWord(
        f"{word!r} is not in the vocabulary ({len(vectors.index_to_key):,} words){hint}"
    )


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """Each row divided by its length."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1, norms)


def neighbours(vectors: Any, word: str, k: int = 5) -> list[tuple[str, float]]:
    """The ``k`` words most similar to ``word`` by cosine, from scratch (no gensim ranking)."""
    check_word(vectors, word)
    unit = unit_rows(vectors.vectors)
    scores = unit @ unit[vectors.key_to_index[word]]
    order = [i for i in np.argsort(-scores) if vectors.index_to_key[i] != word][:k]
    return [(vectors.index_to_key[i], float(scores[i])) for i in order]


def analogy(vectors: Any, a: str, b: str, c: str, k: int = 1) -> list[tuple[str, float]]:
    """Solve "a is to b as c is to ?" by 3CosAdd: the words closest to ``b - a + c``.

    The three question words are excluded from the answers, as in the original evaluation.
    """
    for word in (a, b, c):
        check_word(vectors, word)
    unit = unit_rows(vectors.vectors)
    index = vectors.key_to_index
    target = unit[index[b]] - unit[index[a]] + unit[index[c]]
    scores = unit @ (target / np.linalg.norm(target))
    order = [i for i in np.argsort(-scores) if vectors.index_to_key[i] not in {a, b, c}][:k]
    return [(vectors.index_to_key[i], float(scores[i])) for i in order]


def evaluate(vectors: Any, benchmarks: Path, restrict_vocab: int = 10_000) -> dict[str, float]:
    """Spearman ρ on WordSim-353 and SimLex-999, and Google analogy accuracy, with OOV rates.

    Args:
        vectors: gensim ``KeyedVectors``.
        benchmarks: gensim's test-data folder (the ``gensim-test-data`` asset).
        restrict_vocab: Analogy answers are searched among this many first (most frequent) words,
            so that embeddings with vocabularies of different sizes are compared fairly.

    Returns:
        ``<name>_spearman`` and ``<name>_oov`` (a fraction) for each similarity benchmark,
        ``analogy_accuracy`` over the questions the vocabulary covers, ``analogy_oov``, and the
        counts: ``analogy_questions``, ``analogy_answered`` and ``restrict_vocab``.
    """
    logging.getLogger("gensim").setLevel(logging.ERROR)
    results: dict[str, float] = {}
    for name, filename in BENCHMARKS.items():
        _, (spearman, _), oov = vectors.evaluate_word_pairs(str(benchmarks / filename))
        results[f"{name}_spearman"] = float(spearman)
        results[f"{name}_oov"] = float(oov) / 100
    score, sections = vectors.evaluate_word_analogies(
        str(benchmarks / ANALOGIES), restrict_vocab=restrict_vocab
    )
    total = next(s for s in sections if s["section"] == "Total accuracy")
    answered = len(total["correct"]) + len(total["incorrect"])
    questions = sum(1 for line in (benchmarks / ANALOGIES).open() if not line.startswith(":"))
    results["analogy_accuracy"] = float(score)
    results["analogy_oov"] = 1 - answered / questions
    results["analogy_questions"] = questions
    results["analogy_answered"] = answered
    results["restrict_vocab"] = restrict_vocab
    return results


def static_token_vectors(model_folder: Path, min_length: int = 2) -> Any:
    """A BERT-style model's input embeddings, for the vocabulary entries that are whole words.

    These are the vectors the model looks up before any attention: one per token, whatever the
    context. Continuation pieces (``##…``), special tokens and non-alphabetic entries are left
    out, and so are entries shorter than ``min_length``: BERT's vocabulary lists every single
    character before its first word, and then words roughly from the most frequent down, so the
    first entries kept are the frequent words.
    """
    from safetensors import safe_open

    from llmnotes.wordpiece import load_vocab

    with safe_open(str(model_folder / "model.safetensors"), "np") as weights:
        table = weights.get_tensor("embeddings.word_embeddings.weight")
    vocab = load_vocab(model_folder)
    ordered = sorted(vocab.items(), key=lambda kv: kv[1])
    words = [w for w, _ in ordered if w.isalpha() and len(w) >= min_length]
    return keyed_vectors(words, table[[vocab[w] for w in words]])


def contextual_word_vectors(model_folder: Path, sentences: Sequence[str], word: str) -> np.ndarray:
    """The last hidden state of ``word``'s (single) token in each sentence, one row per sentence.

    Raises:
        ValueError: ``word`` is not a single token, or a sentence does not contain it.
    """
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_folder))
    model = AutoModel.from_pretrained(str(model_folder), use_safetensors=True).eval()
    token_id = tokenizer.convert_tokens_to_ids(word)
    if tokenizer.tokenize(word) != [word]:
        raise ValueError(f"{word!r} is not a single token of this tokenizer")
    rows = []
    with torch.no_grad():
        for sentence in sentences:
            encoded = tokenizer(sentence, return_tensors="pt")
            positions = (encoded["input_ids"][0] == token_id).nonzero()
            if len(positions) == 0:
                raise ValueError(f"{sentence!r} does not contain {word!r}")
            hidden = model(**encoded).last_hidden_state[0]
            rows.append(hidden[positions[0, 0]].numpy())
    return np.stack(rows)


def pca_2d(matrix: np.ndarray) -> np.ndarray:
    """Project rows onto their first two principal components (centred SVD), signs fixed."""
    centred = matrix - matrix.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    components = vt[:2] * np.sign(vt[:2, :1] + 1e-12)  # a deterministic orientation
    return centred @ components.T
