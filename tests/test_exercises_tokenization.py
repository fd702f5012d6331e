"""The tokenization exercises' checks accept the right answers and reject wrong ones."""

import pytest

from llmnotes.bpe import merge
from llmnotes.exercises import tokenization as ex


def test_byte_tokens_count_bytes_not_characters():
    assert ex.check_byte_tokens("naïve 🤖", 11)
    wrong = ex.check_byte_tokens("naïve 🤖", 7)
    assert not wrong and "one per byte, not per character" in str(wrong)
    assert not ex.check_byte_tokens("naïve 🤖", None)


def test_wordpiece_split_is_checked_against_the_vocabulary():
    assert ex.check_wordpiece("unbelievably", ["un", "##bel", "##ie", "##va", "##bly"])
    assert not ex.check_wordpiece("unbelievably", ["un", "##believ", "##ably"])
    assert "do not spell" in str(ex.check_wordpiece("unbelievably", ["un", "##able"]))


def test_merge_check_accepts_the_reference_and_rejects_an_overlapping_merge():
    assert ex.check_merge(merge)

    def overlapping(ids, pair, new_id):  # merges (5, 5) in [5, 5, 5] twice, reusing the middle
        out = list(ids)
        for i in range(len(ids) - 1):
            if (ids[i], ids[i + 1]) == pair:
                out[i] = new_id
        return out

    verdict = ex.check_merge(overlapping)
    assert not verdict and "returned" in str(verdict)


def test_tokens_per_word_matches_a_bpe_trained_here():
    expected = ex.reference_tokens_per_word(256 + 64)
    assert ex.check_tokens_per_word(256 + 64, round(expected, 3))
    assert not ex.check_tokens_per_word(256 + 64, expected + 0.05)
    assert "256 to 4,352" in str(ex.check_tokens_per_word(10, 1.0))


@pytest.mark.parametrize(
    ("pieces", "reason"),
    [
        (["war", "##planes"], None),
        (["warp", "##lane", "##s"], "greedy longest-match already takes 3 pieces"),
        (["war", "planes"], "every later piece has a '##' prefix"),
        (["##war", "##planes"], "the first piece has no '##' prefix"),
        (["wa", "##rplanes"], "'##rplanes' is not in the vocabulary"),
        (["war", "##plane"], "do not spell 'warplanes'"),
    ],
)
def test_fewer_pieces_needs_a_valid_split_shorter_than_greedy(pieces, reason):
    verdict = ex.check_fewer_pieces("warplanes", pieces)
    assert bool(verdict) is (reason is None)
    assert reason is None or reason in str(verdict)
