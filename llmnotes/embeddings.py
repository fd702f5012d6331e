"""Word embeddings: vectors for words, and how to tell whether they mean anything.

This module starts with the week-1 application (cosine similarity of "king" and "queen" under
GloVe); the embeddings topic grows it with word2vec and GloVe trained from scratch.

Examples:
    >>> round(cosine([1.0, 0.0], [1.0, 1.0]), 4)
    0.7071
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from llmnotes import week1
from llmnotes.experiments import Context, Result, experiment


def cosine(u: Sequence[float] | np.ndarray, v: Sequence[float] | np.ndarray) -> float:
    """Cosine similarity: the dot product of ``u`` and ``v`` divided by their norms."""
    a, b = np.asarray(u, dtype=np.float64), np.asarray(v, dtype=np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def load_vectors(path: str | Path) -> Any:
    """Load word vectors as gensim ``KeyedVectors``.

    Accepts a GloVe text file (``word v1 … vN``, no header), a word2vec text file (with its
    ``count dim`` header, possibly gzipped) or a gensim-downloader folder holding one such file.

    Raises:
        ValueError: The file is not in either text format.
    """
    from gensim.models import KeyedVectors

    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in {".gz", ".txt"})
        if not files:
            raise ValueError(f"{path} holds no .txt or .gz vector file")
        path = files[0]
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        first = handle.readline().split()
    has_header = len(first) == 2 and all(part.isdigit() for part in first)
    if not has_header and len(first) < 3:
        raise ValueError(f"{path} is not a GloVe or word2vec text file (first line: {first[:3]})")
    return KeyedVectors.load_word2vec_format(str(path), binary=False, no_header=not has_header)


@experiment("embeddings", assets={"vectors": ("glove-wiki-gigaword-50",)})
def week1_similarity(ctx: Context) -> Result:
    """Reproduce the week-1 cosine similarity of "king" and "queen" under GloVe 50d."""
    vectors = load_vectors(ctx.assets["vectors"].path)
    ours = cosine(vectors["king"], vectors["queen"])
    return Result(
        {
            "king_queen": ours,
            "king_queen_gensim": float(vectors.similarity("king", "queen")),
            "matches": round(ours, 4) == week1.KING_QUEEN_COSINE,
            "vocabulary": len(vectors.key_to_index),
            "dimensions": int(vectors.vector_size),
        }
    )
