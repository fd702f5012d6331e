"""GloVe, from scratch: a co-occurrence matrix and a weighted least-squares fit to its logarithm.

GloVe (Pennington, Socher & Manning 2014) counts how often each word appears near each other word,
weighting a co-occurrence at distance ``d`` by ``1/d``. It then looks for vectors ``w_i`` and
context vectors ``w̃_j`` with biases such that ``w_i · w̃_j + b_i + b̃_j ≈ log X_ij``, weighting
each pair by ``f(X_ij) = min(1, (X_ij / x_max)^α)`` so that rare pairs (noisy) and very frequent
pairs (uninformative) count less. It fits them with AdaGrad; the embedding is ``w + w̃``.

Examples:
    >>> m = cooccurrence([np.array([0, 1, 2])], vocab_size=3, window=2).toarray()
    >>> float(m[0, 1]), float(m[0, 2]), float(m[2, 0])
    (1.0, 0.5, 0.5)
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from scipy import sparse


# --8<-- [start:cooccurrence]
def cooccurrence(
    sentences: Sequence[np.ndarray], vocab_size: int, window: int
) -> sparse.csr_matrix:
    """Symmetric co-occurrence counts within ``window`` words, each weighted by 1 / distance."""
    rows, cols, weights = [], [], []
    for ids in sentences:
        for distance in range(1, min(window, len(ids) - 1) + 1):
            left, right = ids[:-distance], ids[distance:]
            rows += [left, right]
            cols += [right, left]
            weights += [np.full(len(left), 1.0 / distance)] * 2
    if not rows:
        return sparse.csr_matrix((vocab_size, vocab_size))
    data = np.concatenate(weights)
    matrix = sparse.coo_matrix(
        (data, (np.concatenate(rows), np.concatenate(cols))), shape=(vocab_size, vocab_size)
    )
    return matrix.tocsr()  # sums the duplicate entries


# --8<-- [end:cooccurrence]


@dataclass(frozen=True)
class GloVeConfig:
    """Settings of :func:`train_glove` (the paper's, except the number of epochs)."""

    dim: int = 50
    window: int = 10
    x_max: float = 100.0
    alpha: float = 0.75
    epochs: int = 25
    lr: float = 0.05
    batch_size: int = 8192
    seed: int = 0


@dataclass
class GloVeResult:
    """The embedding ``w + w̃``, the loss of each epoch and the training time."""

    vectors: np.ndarray
    losses: list[float]
    seconds: float
    nonzeros: int


# --8<-- [start:train]
def train_glove(matrix: sparse.spmatrix, config: GloVeConfig) -> GloVeResult:
    """Fit GloVe vectors to a co-occurrence matrix with AdaGrad over shuffled mini-batches."""
    torch.manual_seed(config.seed)
    coo = matrix.tocoo()
    i, j = torch.from_numpy(coo.row.astype(np.int64)), torch.from_numpy(coo.col.astype(np.int64))
    x = torch.from_numpy(coo.data.astype(np.float32))
    weight = torch.clamp((x / config.x_max) ** config.alpha, max=1.0)
    log_x = torch.log(x)
    n, d = matrix.shape[0], config.dim
    w = torch.nn.Parameter((torch.rand(n, d) - 0.5) / d)
    w_context = torch.nn.Parameter((torch.rand(n, d) - 0.5) / d)
    b = torch.nn.Parameter(torch.zeros(n))
    b_context = torch.nn.Parameter(torch.zeros(n))
    optimizer = torch.optim.Adagrad([w, w_context, b, b_context], lr=config.lr)
    losses, start = [], time.perf_counter()
    for _ in range(config.epochs):
        total = 0.0
        for batch in torch.randperm(len(x)).split(config.batch_size):
            bi, bj = i[batch], j[batch]
            prediction = (w[bi] * w_context[bj]).sum(-1) + b[bi] + b_context[bj]
            loss = (weight[batch] * (prediction - log_x[batch]) ** 2).sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
        losses.append(total / len(x))
    vectors = (w + w_context).detach().numpy().copy()
    return GloVeResult(vectors, losses, time.perf_counter() - start, len(x))


# --8<-- [end:train]
