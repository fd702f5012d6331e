import numpy as np
import pytest

from llmnotes.glove import GloVeConfig, cooccurrence, train_glove


def naive_cooccurrence(sentences, vocab_size, window):
    matrix = np.zeros((vocab_size, vocab_size))
    for ids in sentences:
        for i, a in enumerate(ids):
            for j in range(max(0, i - window), min(len(ids), i + window + 1)):
                if j != i:
                    matrix[a, ids[j]] += 1 / abs(i - j)
    return matrix


def test_cooccurrence_matches_a_naive_count():
    rng = np.random.default_rng(0)
    sentences = [rng.integers(0, 7, size=n) for n in (1, 2, 9, 15)]
    ours = cooccurrence(sentences, 7, window=3).toarray()
    assert ours == pytest.approx(naive_cooccurrence(sentences, 7, 3))
    assert ours == pytest.approx(ours.T)


def test_empty_corpus_gives_an_empty_matrix():
    assert cooccurrence([np.array([3])], 5, window=2).nnz == 0


def test_glove_fits_log_cooccurrences():
    rng = np.random.default_rng(1)
    sentences = [rng.integers(0, 20, size=30) for _ in range(200)]
    matrix = cooccurrence(sentences, 20, window=4)
    result = train_glove(matrix, GloVeConfig(dim=8, epochs=60, batch_size=64, x_max=10))
    assert result.losses[-1] < result.losses[0] / 5
    assert result.vectors.shape == (20, 8)
    assert result.nonzeros == matrix.nnz
