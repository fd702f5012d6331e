import numpy as np
import pytest
import torch

from llmnotes.embeddings import cosine, keyed_vectors
from llmnotes.word2vec import (
    SkipGram,
    SkipGramConfig,
    Vocabulary,
    keep_probabilities,
    train_skipgram,
    training_pairs,
)


def two_topic_corpus(n=300, seed=0):
    """Sentences about animals or about finance: words of a topic co-occur, topics never mix."""
    rng = np.random.default_rng(seed)
    topics = [["cat", "dog", "horse", "cow", "sheep"], ["bank", "money", "loan", "cash", "stock"]]
    return [list(rng.choice(topics[i % 2], size=8)) for i in range(n)]


def test_vocabulary_orders_by_count_then_word():
    vocab = Vocabulary.build([["b", "a", "b", "c"]], min_count=1)
    assert vocab.words == ["b", "a", "c"] and vocab.counts == [2, 1, 1]
    assert [list(ids) for ids in vocab.encode([["a", "zzz", "b"]])] == [[1, 0]]


def test_subsampling_keeps_rare_words_and_drops_frequent_ones():
    keep = keep_probabilities([1_000_000, 10], sample=1e-3)
    assert keep[1] == 1.0
    assert keep[0] < 0.05


def test_training_pairs_stay_within_the_window_and_the_sentence():
    rng = np.random.default_rng(0)
    sentences = [np.arange(6), np.arange(10, 13)]
    pairs = training_pairs(sentences, np.ones(20), window=2, rng=rng)
    distances = np.abs(pairs[:, 0] - pairs[:, 1])
    assert distances.min() >= 1 and distances.max() <= 2
    assert not np.any((pairs[:, 0] < 10) & (pairs[:, 1] >= 10))  # never across sentences
    full = training_pairs([np.arange(4)], np.ones(4), window=1, rng=rng)
    assert sorted(map(tuple, full)) == [(0, 1), (1, 0), (1, 2), (2, 1), (2, 3), (3, 2)]


def test_loss_matches_a_direct_computation():
    torch.manual_seed(0)
    model = SkipGram(5, 3)
    torch.nn.init.normal_(model.context.weight)
    centre, context, noise = torch.tensor([0, 1]), torch.tensor([2, 3]), torch.tensor([[4], [0]])
    v, u = model.centre.weight, model.context.weight
    expected = 0.0
    for c, o, n in zip(centre, context, noise[:, 0], strict=True):
        expected += -torch.log(torch.sigmoid(v[c] @ u[o])) - torch.log(
            torch.sigmoid(-(v[c] @ u[n]))
        )
    assert model.loss(centre, context, noise).item() == pytest.approx(expected.item() / 2, rel=1e-5)


def test_skipgram_separates_topics_like_gensim():
    from gensim.models import Word2Vec

    sentences = two_topic_corpus()
    config = SkipGramConfig(dim=10, window=3, epochs=3, sample=0, batch_size=256, lr=0.02)
    ours = train_skipgram(sentences, config, min_count=1)
    assert ours.losses[-1] < ours.losses[0]
    vectors = keyed_vectors(ours.words, ours.vectors)
    library = Word2Vec(sentences, vector_size=10, window=3, min_count=1, sg=1, negative=5,
                       sample=0, epochs=10, workers=1, seed=0).wv  # fmt: skip
    for kv in (vectors, library):
        same = cosine(kv["cat"], kv["dog"])
        other = cosine(kv["cat"], kv["money"])
        assert same > other + 0.3, (same, other)
