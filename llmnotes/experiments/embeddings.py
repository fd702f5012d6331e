"""The experiments of the word-embeddings page.

GloVe explored and evaluated, embeddings trained on a real corpus (gensim's and ours), MiniLM's
static input embeddings, and contextual vectors.
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any

import numpy as np

from llmnotes import week1
from llmnotes.charts import scatter_chart
from llmnotes.corpora import CORPORA, alphabetic_words, split_corpus
from llmnotes.embeddings import (
    analogy,
    contextual_word_vectors,
    cosine,
    evaluate,
    keyed_vectors,
    load_vectors,
    neighbours,
    pca_2d,
    static_token_vectors,
)
from llmnotes.figures import new_figure
from llmnotes.glove import GloVeConfig, cooccurrence, train_glove
from llmnotes.pipeline.experiment import Context, FigureOutput, Result, SpeedRow, experiment
from llmnotes.word2vec import SkipGramConfig, Vocabulary, train_skipgram

#: Word groups drawn in the 2-D projections.
GROUPS = {
    "royalty": ["king", "queen", "prince", "princess", "man", "woman"],
    "countries and capitals": [
        "france",
        "paris",
        "italy",
        "rome",
        "japan",
        "tokyo",
        "germany",
        "berlin",
    ],
    "numbers": ["one", "two", "three", "four", "five"],
}
HEATMAP_WORDS = [
    "king",
    "queen",
    "man",
    "woman",
    "paris",
    "france",
    "apple",
    "orange",
    "computer",
    "music",
]
BENCHMARKS = {"benchmarks": ("gensim-test-data",)}


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


def training_corpus(ctx: Context) -> tuple[str, list[list[str]]]:
    """All the text of the corpus (training and held-out parts), as lower-cased word lists."""
    corpus = split_corpus(ctx.assets["corpus"])
    lines = corpus.train + corpus.held_out
    return corpus.whole, [alphabetic_words([line], lower=True) for line in lines]


def projection_output(vectors: Any, title: str, alt: str) -> FigureOutput:
    """The word groups of :data:`GROUPS`, projected to 2-D by PCA, one colour per group.

    An interactive chart: each word's tooltip lists its nearest neighbours in the full vector
    space, and buttons show one group at a time, zoomed in (the number words sit close).
    """
    words = [w for group in GROUPS.values() for w in group if w in vectors.key_to_index]
    points = pca_2d(np.stack([vectors[w] for w in words]))
    group_of = {w: group for group, members in GROUPS.items() for w in members}
    rows = [
        {
            "word": word,
            "group": group_of[word],
            "x": round(float(x), 4),
            "y": round(float(y), 4),
            "detail": ", ".join(f"{n} ({c:.2f})" for n, c in neighbours(vectors, word, 5)),
        }
        for word, (x, y) in zip(words, points, strict=True)
    ]
    chart = scatter_chart(
        rows,
        list(GROUPS),
        title,
        "first principal component",
        "second principal component",
        detail="nearest",
    )
    return FigureOutput(None, alt, chart)


def heatmap_figure(vectors: Any, words: list[str]) -> Any:
    """Cosine similarities of every pair of ``words``, annotated."""
    unit = np.stack([vectors[w] / np.linalg.norm(vectors[w]) for w in words])
    matrix = unit @ unit.T
    fig, ax = new_figure(figsize=(6.0, 5.0))
    image = ax.imshow(matrix, cmap="viridis", vmin=-0.2, vmax=1.0)
    ax.set_xticks(range(len(words)), words, rotation=45, ha="right")
    ax.set_yticks(range(len(words)), words)
    ax.grid(False)
    for i in range(len(words)):
        for j in range(len(words)):
            colour = "white" if matrix[i, j] < 0.6 else "black"
            ax.text(j, i, f"{matrix[i, j]:.2f}", ha="center", va="center", fontsize=7, color=colour)
    fig.colorbar(image, ax=ax, shrink=0.8, label="cosine similarity")
    ax.set_title("GloVe 50d: cosine similarity")
    return fig


def length_and_distance(vectors: Any, word: str, k: int = 10) -> dict[str, Any]:
    """What vector length does to ``word``'s nearest neighbours, and how it follows frequency.

    The vectors are listed most frequent first (GloVe's files are), so a word's index is its
    frequency rank.
    """
    from scipy.stats import spearmanr

    norms = np.linalg.norm(vectors.vectors, axis=1)
    target = vectors.vectors[vectors.key_to_index[word]]
    euclidean = np.linalg.norm(vectors.vectors - target, axis=1)
    cosine = vectors.vectors @ target / (norms * np.linalg.norm(target))
    by_cosine = [int(i) for i in np.argsort(-cosine)[1 : k + 1]]
    by_euclid = [int(i) for i in np.argsort(euclidean)[1 : k + 1]]
    euclid_rank = np.argsort(np.argsort(euclidean))  # 0 is the word itself
    dropped = max(by_cosine, key=lambda i: euclid_rank[i])
    words = vectors.index_to_key
    buckets = {"top 100": (0, 100), "100–1,000": (100, 1000), "1,000–10,000": (1000, len(words))}
    return {
        "k": k,
        "norm_word": float(norms[vectors.key_to_index[word]]),
        "by_cosine": [words[i] for i in by_cosine],
        "by_euclidean": [words[i] for i in by_euclid],
        "overlap": len(set(by_cosine) & set(by_euclid)),
        "dropped": words[dropped],
        "dropped_norm": float(norms[dropped]),
        "dropped_cosine_rank": by_cosine.index(dropped) + 1,
        "dropped_euclidean_rank": int(euclid_rank[dropped]),
        "euclidean_to_queen": float(euclidean[vectors.key_to_index["queen"]]),
        "norm_rank_spearman": float(spearmanr(norms, np.arange(len(norms))).statistic),
        "rank_buckets": list(buckets),
        "mean_norms": [float(norms[a:b].mean()) for a, b in buckets.values()],
    }


@experiment("embeddings", assets={"vectors": ("glove-wiki-gigaword-50",), **BENCHMARKS})
def glove_exploration(ctx: Context) -> Result:
    """Neighbours, analogies and benchmark scores of GloVe 50d, with two figures."""
    vectors = load_vectors(ctx.assets["vectors"].path)
    ours = analogy(vectors, "man", "king", "woman", k=3)
    library = vectors.most_similar(positive=["king", "woman"], negative=["man"], topn=3)
    values = {
        "neighbours_king": [f"{w} ({s:.2f})" for w, s in neighbours(vectors, "king", 5)],
        "neighbours_computer": [f"{w} ({s:.2f})" for w, s in neighbours(vectors, "computer", 5)],
        "analogy_king_man_woman": [f"{w} ({s:.3f})" for w, s in ours],
        "analogy_matches_gensim": [w for w, _ in ours] == [w for w, _ in library],
        "length": length_and_distance(vectors, "king"),
        "evaluation": evaluate(vectors, ctx.assets["benchmarks"].path),
    }
    figures = {
        "projection": projection_output(
            vectors,
            "GloVe 50d, projected to 2-D",
            "Scatter plot of royalty, country and capital, and number words after PCA of GloVe",
        ),
        "heatmap": FigureOutput(
            heatmap_figure(vectors, HEATMAP_WORDS),
            "Heat map of cosine similarities between ten words under GloVe 50d",
        ),
    }
    return Result(values, figures)


@experiment("embeddings", assets={"model": ("minilm",), **BENCHMARKS})
def minilm_static(ctx: Context) -> Result:
    """MiniLM's input embeddings used as static word vectors: similarity and benchmark scores."""
    vectors = static_token_vectors(ctx.assets["model"].path)
    return Result(
        {
            "king_queen": float(vectors.similarity("king", "queen")),
            "words": len(vectors.key_to_index),
            "single_characters": len(static_token_vectors(ctx.assets["model"].path, 1).key_to_index)
            - len(vectors.key_to_index),
            "first_words": vectors.index_to_key[:8],
            "dimensions": int(vectors.vector_size),
            "neighbours_king": [f"{w} ({s:.2f})" for w, s in neighbours(vectors, "king", 5)],
            "evaluation": evaluate(vectors, ctx.assets["benchmarks"].path),
        }
    )


def stable_hash(text: str) -> int:
    """A hash that does not change between runs (gensim seeds its vectors with it)."""
    return int(hashlib.md5(text.encode()).hexdigest()[:8], 16)


@experiment(
    "embeddings",
    assets={"corpus": CORPORA, **BENCHMARKS},
    settings={
        "dim": 50,
        "window": 5,
        "negatives": 5,
        "sample": 1e-3,
        "epochs": 5,
        "min_count": 5,
        "batch_size": 1024,
        "glove": {"window": 10, "x_max": 10, "epochs": 20, "lr": 0.1, "batch_size": 2048},
    },
    speed=(
        SpeedRow(
            "skip-gram: ours / gensim (words/s)",
            "words_per_second.ours_skipgram",
            "words_per_second.gensim_skipgram",
            fmt=",.0f",
        ),
        SpeedRow(
            "skip-gram WordSim-353 Spearman: ours / gensim",
            "evaluation.ours_skipgram.ws353_spearman",
            "evaluation.gensim_skipgram.ws353_spearman",
            fmt=".3f",
            ratio=False,
        ),
    ),
)
def trained_embeddings(ctx: Context) -> Result:
    """Train skip-gram and CBOW with gensim, and skip-gram and GloVe from scratch, on one corpus."""
    import torch
    from gensim.models import Word2Vec

    logging.getLogger("gensim").setLevel(logging.ERROR)
    s = ctx.settings
    corpus_name, sentences = training_corpus(ctx)
    benchmarks = ctx.assets["benchmarks"].path
    common = {"vector_size": s["dim"], "window": s["window"], "min_count": s["min_count"]}
    common |= {"negative": s["negatives"], "sample": s["sample"], "epochs": s["epochs"]}
    models, speed = {}, {}
    for name, sg in (("gensim_skipgram", 1), ("gensim_cbow", 0)):
        start = time.perf_counter()
        model = Word2Vec(sentences, sg=sg, workers=1, seed=ctx.seed, hashfxn=stable_hash, **common)
        speed[name] = model.corpus_total_words * s["epochs"] / (time.perf_counter() - start)
        models[name] = model.wv
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one core, like gensim with workers=1: a fair words-per-second race
    try:
        config = SkipGramConfig(
            dim=s["dim"], window=s["window"], negatives=s["negatives"], sample=s["sample"],
            epochs=s["epochs"], batch_size=s["batch_size"], seed=ctx.seed,
        )  # fmt: skip
        start = time.perf_counter()  # timed like gensim: vocabulary, pairs and epochs
        ours = train_skipgram(sentences, config, min_count=s["min_count"])
        speed["ours_skipgram"] = ours.words_trained / (time.perf_counter() - start)
    finally:
        torch.set_num_threads(threads)
    models["ours_skipgram"] = keyed_vectors(ours.words, ours.vectors)
    vocab = Vocabulary.build(sentences, s["min_count"])
    matrix = cooccurrence(vocab.encode(sentences), len(vocab.words), s["glove"]["window"])
    glove = train_glove(matrix, GloVeConfig(dim=s["dim"], seed=ctx.seed, **s["glove"]))
    models["ours_glove"] = keyed_vectors(vocab.words, glove.vectors)
    evaluation = {name: evaluate(vectors, benchmarks) for name, vectors in models.items()}
    values = {
        "corpus": corpus_name,
        "corpus_words": sum(len(sentence) for sentence in sentences),
        "vocabulary": len(vocab.words),
        "evaluation": evaluation,
        "king_queen": {
            name: float(v.similarity("king", "queen")) if "queen" in v.key_to_index else None
            for name, v in models.items()
        },
        "words_per_second": speed,
        "gensim_speedup": speed["gensim_skipgram"] / speed["ours_skipgram"],
        "skipgram_losses": ours.losses,
        "glove_losses": glove.losses,
        "glove_nonzeros": glove.nonzeros,
        "glove_seconds": glove.seconds,
    }
    projection = projection_output(
        models["ours_skipgram"],
        "Our skip-gram, projected to 2-D",
        "Scatter plot of word groups after PCA of the skip-gram vectors trained from scratch",
    )
    return Result(values, {"projection": projection})


#: Two senses of "bank": a river's and a money one (twice).
BANK_SENTENCES = [
    "We had a picnic on the bank of the river.",
    "She deposited the cheque at the bank.",
    "The bank raised its interest rates.",
]


@experiment("embeddings", assets={"model": ("minilm",)})
def contextual_vs_static(ctx: Context) -> Result:
    """The same word in different sentences: one static vector, different contextual vectors."""
    rows = contextual_word_vectors(ctx.assets["model"].path, BANK_SENTENCES, "bank")
    return Result(
        {
            "sentences": BANK_SENTENCES,
            "river_vs_money": cosine(rows[0], rows[1]),
            "money_vs_money": cosine(rows[1], rows[2]),
            "river_vs_money_2": cosine(rows[0], rows[2]),
        }
    )
