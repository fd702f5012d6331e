"""The embeddings exercises' checks accept the right answers and reject wrong ones."""

import numpy as np
import pytest

from llmnotes.embeddings import cosine, neighbours
from llmnotes.exercises import embeddings as ex
from llmnotes.word2vec import keep_probabilities

BANK = (
    "We had a picnic on the bank of the river.",
    "She deposited the cheque at the bank.",
    "The bank raised its interest rates.",
    "Fish swam near the muddy bank of the stream.",
)


def test_cosine_check_accepts_the_cosine_and_names_the_dot_product():
    vectors = ex.minilm_vectors()
    king, queen = vectors["king"], vectors["queen"]
    assert ex.check_cosine("king", "queen", round(cosine(king, queen), 3))
    wrong = ex.check_cosine("king", "queen", float(king @ queen))
    assert not wrong and "is the dot product" in str(wrong)
    assert "too high" in str(ex.check_cosine("king", "queen", 0.9))
    assert "replace None" in str(ex.check_cosine("king", "queen", None))
    assert "not in MiniLM's vocabulary" in str(ex.check_cosine("king", "qqqq", 0.5))


def test_neighbours_check_compares_with_the_reference():
    def reference(vectors, word, k):
        return [w for w, _ in neighbours(vectors, word, k)]

    def with_itself(vectors, word, k):
        return [word, *reference(vectors, word, k - 1)]

    def reversed_order(vectors, word, k):
        return reference(vectors, word, k)[::-1]

    assert ex.check_neighbours(reference)
    assert "leave the word out" in str(ex.check_neighbours(with_itself))
    assert "another order" in str(ex.check_neighbours(reversed_order))
    assert "returned [], not" in str(ex.check_neighbours(lambda vectors, word, k: []))
    assert "raised ZeroDivisionError" in str(ex.check_neighbours(lambda vectors, word, k: 1 / 0))
    assert "replace None" in str(ex.check_neighbours(None))


def test_analogy_check_leaves_the_question_words_out():
    assert ex.check_analogy("walk", "walked", "run", "running")
    question_word = ex.check_analogy("walk", "walked", "run", "run")
    assert not question_word and "leaves those out" in str(question_word)
    assert "comes number" in str(ex.check_analogy("walk", "walked", "run", "ran"))
    assert "replace None" in str(ex.check_analogy("walk", "walked", "run", None))


def test_keep_probabilities_check_wants_the_cap_and_sample_zero():
    assert ex.check_keep_probabilities(keep_probabilities)

    def uncapped(counts, sample):
        share = np.asarray(counts) / np.sum(counts)
        return (np.sqrt(share / sample) + 1) * sample / share

    def never_off(counts, sample):
        return keep_probabilities(counts, sample or 1e-3)

    assert "at most 1" in str(ex.check_keep_probabilities(uncapped))
    assert "sample=0 keeps every word" in str(ex.check_keep_probabilities(never_off))
    assert "replace None" in str(ex.check_keep_probabilities(None))


def test_pair_share_check_recomputes_the_share():
    share = ex.reference_pair_share("the", 1e-3)
    assert 0 < share < ex.reference_pair_share("the", 0)
    assert ex.check_pair_share("the", 1e-3, round(share, 3))
    assert "too high" in str(ex.check_pair_share("the", 1e-3, share + 0.01))
    assert "not a percentage" in str(ex.check_pair_share("the", 1e-3, 100 * share))
    assert "takes 0 (no subsampling) to 1" in str(ex.check_pair_share("the", -1, 0.1))
    assert "replace None" in str(ex.check_pair_share("the", 0, None))


def test_closest_use_check_wants_each_sentence_of_the_same_sense():
    assert ex.check_closest_use(BANK, "bank", [3, 2, 1, 0])
    wrong = ex.check_closest_use(BANK, "bank", [1, 2, 1, 0])
    assert not wrong and "sentence 0 is closest to sentence 3, not 1" in str(wrong)
    assert "names its own sentence" in str(ex.check_closest_use(BANK, "bank", [0, 2, 1, 0]))
    assert "sentences are 0 to 3" in str(ex.check_closest_use(BANK, "bank", [3, 2, 1, 9]))
    assert "does not contain 'river'" in str(ex.check_closest_use(BANK, "river", [3, 2, 1, 0]))
    assert "replace None" in str(ex.check_closest_use(BANK, "bank", None))


@pytest.mark.parametrize("answer", [True, "0.6", float("nan")])
def test_a_number_check_refuses_what_is_not_a_number(answer):
    assert "is a number" in str(ex.check_cosine("king", "queen", answer))
