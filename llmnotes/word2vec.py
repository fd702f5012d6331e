"""Skip-gram with negative sampling (word2vec), from scratch in PyTorch.

Skip-gram (Mikolov et al. 2013) learns two vectors per word: one for the word at the centre of a
window, one for the word as context. For each (centre, context) pair seen in the text, it raises
the probability ``σ(v_centre · u_context)``; for a few *negative* words drawn at random from the
unigram distribution raised to the power 3/4, it lowers it. The centre vectors are the embedding.

As in the original tool (and gensim), frequent words are randomly dropped ("subsampling") and the
window is shrunk at random for each centre word, so near neighbours count more than far ones.

Examples:
    >>> vocab = Vocabulary.build([["a", "b", "a", "c"]] * 10, min_count=1)
    >>> vocab.words[:2], vocab.counts[:2]
    (['a', 'b'], [20, 10])
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


@dataclass(frozen=True)
class Vocabulary:
    """Words kept for training, most frequent first, with their counts."""

    words: list[str]
    counts: list[int]

    @classmethod
    def build(cls, sentences: Iterable[Sequence[str]], min_count: int = 5) -> Vocabulary:
        """Keep the words that occur at least ``min_count`` times (ties in alphabetical order)."""
        counts = Counter(word for sentence in sentences for word in sentence)
        kept = sorted(
            (w for w, n in counts.items() if n >= min_count), key=lambda w: (-counts[w], w)
        )
        return cls(kept, [counts[w] for w in kept])

    def index(self) -> dict[str, int]:
        """Word to id."""
        return {word: i for i, word in enumerate(self.words)}

    def encode(self, sentences: Iterable[Sequence[str]]) -> list[np.ndarray]:
        """Each sentence as an array of ids, out-of-vocabulary words dropped."""
        index = self.index()
        return [np.array([index[w] for w in s if w in index], dtype=np.int64) for s in sentences]


@dataclass(frozen=True)
class SkipGramConfig:
    """Settings of :func:`train_skipgram` (word2vec's defaults, at a laptop's scale)."""

    dim: int = 50
    window: int = 5
    negatives: int = 5
    sample: float = 1e-3
    epochs: int = 5
    batch_size: int = 1024
    lr: float = 0.01
    seed: int = 0


def keep_probabilities(counts: Sequence[int], sample: float) -> np.ndarray:
    """word2vec's subsampling: keep a word with probability ``(sqrt(f / s) + 1) · s / f`` (≤ 1).

    ``f`` is the word's share of the corpus and ``s`` the ``sample`` threshold (0: keep all).
    """
    freq = np.asarray(counts, dtype=np.float64) / np.sum(counts)
    if sample <= 0:
        return np.ones_like(freq)  # as in word2vec and gensim: 0 turns subsampling off
    return np.minimum(1.0, (np.sqrt(freq / sample) + 1) * sample / freq)


# --8<-- [start:pairs]
def training_pairs(
    sentences: Sequence[np.ndarray], keep: np.ndarray, window: int, rng: np.random.Generator
) -> np.ndarray:
    """One epoch of (centre, context) id pairs, after subsampling, with shrunk random windows."""
    pairs = []
    for ids in sentences:
        ids = ids[rng.random(len(ids)) < keep[ids]]
        if len(ids) < 2:
            continue
        reach = rng.integers(1, window + 1, size=len(ids))  # each centre's own window
        for offset in range(1, window + 1):
            centre, context = np.arange(len(ids) - offset), np.arange(offset, len(ids))
            forward = reach[centre] >= offset
            backward = reach[context] >= offset
            pairs.append(np.stack([ids[centre[forward]], ids[context[forward]]], axis=1))
            pairs.append(np.stack([ids[context[backward]], ids[centre[backward]]], axis=1))
    return np.concatenate(pairs) if pairs else np.zeros((0, 2), dtype=np.int64)


# --8<-- [end:pairs]


class SkipGram(nn.Module):
    """The two embedding tables of skip-gram and its negative-sampling loss."""

    def __init__(self, vocab_size: int, dim: int) -> None:
        super().__init__()
        self.centre = nn.Embedding(vocab_size, dim, sparse=True)
        self.context = nn.Embedding(vocab_size, dim, sparse=True)
        nn.init.uniform_(self.centre.weight, -0.5 / dim, 0.5 / dim)
        nn.init.zeros_(self.context.weight)

    # --8<-- [start:loss]
    def loss(
        self, centre: torch.Tensor, context: torch.Tensor, noise: torch.Tensor
    ) -> torch.Tensor:
        """Mean of ``-log σ(v·u⁺) - Σ log σ(-v·u⁻)`` over the batch."""
        v = self.centre(centre)  # (batch, dim)
        positive = (v * self.context(context)).sum(-1)
        negative = torch.bmm(self.context(noise), v.unsqueeze(2)).squeeze(2)  # (batch, k)
        return -(F.logsigmoid(positive) + F.logsigmoid(-negative).sum(-1)).mean()

    # --8<-- [end:loss]


@dataclass
class SkipGramResult:
    """The trained centre vectors, the words they belong to, and what training cost."""

    words: list[str]
    vectors: np.ndarray
    losses: list[float]
    seconds: float
    words_trained: int


def train_skipgram(
    sentences: Sequence[Sequence[str]], config: SkipGramConfig, min_count: int = 5
) -> SkipGramResult:
    """Train skip-gram with negative sampling on tokenised sentences.

    Args:
        sentences: Lists of words.
        config: Dimensions, window, negatives, subsampling, epochs, batch size, learning rate.
        min_count: Words rarer than this are dropped.

    Returns:
        The centre vectors, the mean loss of each epoch, the training time and the number of
        corpus words it went through, counted as gensim does (all words, every epoch).
    """
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    vocab = Vocabulary.build(sentences, min_count)
    encoded = vocab.encode(sentences)
    keep = keep_probabilities(vocab.counts, config.sample)
    noise = torch.tensor(np.asarray(vocab.counts, dtype=np.float64) ** 0.75)
    model = SkipGram(len(vocab.words), config.dim)
    optimizer = torch.optim.SparseAdam(model.parameters(), lr=config.lr)
    losses, start = [], time.perf_counter()
    for _ in range(config.epochs):
        pairs = torch.from_numpy(training_pairs(encoded, keep, config.window, rng))
        pairs = pairs[torch.randperm(len(pairs))]
        total, batches = 0.0, 0
        for batch in pairs.split(config.batch_size):
            negatives = torch.multinomial(noise, len(batch) * config.negatives, replacement=True)
            loss = model.loss(batch[:, 0], batch[:, 1], negatives.view(len(batch), -1))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total, batches = total + loss.item(), batches + 1
        losses.append(total / max(batches, 1))
    seconds = time.perf_counter() - start
    words_trained = config.epochs * sum(len(sentence) for sentence in sentences)
    vectors = model.centre.weight.detach().numpy().copy()
    return SkipGramResult(vocab.words, vectors, losses, seconds, words_trained)
