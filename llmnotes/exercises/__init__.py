"""Checks for the exercises at the end of each topic page: pass your answer, print the verdict.

Each topic has its module (:mod:`llmnotes.exercises.tokenization`, …). A check recomputes the
answer with the site's own code, the way minbpe grades its exercise against tiktoken, and
returns a :class:`Verdict`: it prints as ``Right: …`` or ``Not yet: …`` with the reason, and is
true only for a right answer.

Examples:
    >>> print(check_number(0.5, expected=0.5004, tolerance=0.01, what="the cosine"))
    Right: the cosine is 0.5004, and you said 0.5.
    >>> print(check_number(None, expected=3, tolerance=0, what="the count"))
    Not yet: replace None with your answer for the count.
    >>> bool(check_number(4, expected=3, tolerance=0, what="the count"))
    False
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Verdict:
    """What a check says: right or not, and why."""

    right: bool
    why: str

    def __bool__(self) -> bool:
        return self.right

    def __str__(self) -> str:
        return ("Right: " if self.right else "Not yet: ") + self.why


def unanswered(what: str) -> Verdict:
    """The verdict for an exercise cell left as it was (its answer still ``None``)."""
    return Verdict(False, f"replace None with your answer for {what}.")


def check_number(
    answer: float | None, expected: float, tolerance: float, what: str, fmt: str = "g"
) -> Verdict:
    """Check a number within an absolute ``tolerance`` of the reference ``expected``."""
    if answer is None:
        return unanswered(what)
    if not isinstance(answer, (int, float)) or isinstance(answer, bool) or math.isnan(answer):
        return Verdict(False, f"{what} is a number; you gave {answer!r}.")
    said = f"you said {answer:{fmt}}"
    if abs(answer - expected) <= tolerance:
        return Verdict(True, f"{what} is {expected:{fmt}}, and {said}.")
    direction = "high" if answer > expected else "low"
    return Verdict(False, f"{said}, too {direction}: {what} is {expected:{fmt}}.")


def check_function(
    function: Callable[..., Any] | None,
    reference: Callable[..., Any],
    cases: Iterable[tuple[Any, ...]],
    what: str,
) -> Verdict:
    """Run a reader's ``function`` and the ``reference`` on each case; report the first mismatch.

    Examples:
        >>> print(check_function(abs, abs, [(-2,), (3,)], "abs"))
        Right: abs agrees with the reference on 2 cases.
        >>> print(check_function(lambda x: x, abs, [(3,), (-2,)], "abs"))
        Not yet: abs(-2) returned -2; the reference returns 2.
    """
    if function is None:
        return unanswered(what)
    if not callable(function):
        return Verdict(False, f"{what} must be a function; you gave {type(function).__name__}.")
    count = 0
    for case in cases:
        shown = f"{what}({', '.join(map(repr, case))})"
        expected = reference(*case)
        try:
            got = function(*case)
        except Exception as error:  # the reader's code: any failure is an answer to explain
            return Verdict(False, f"{shown} raised {type(error).__name__}: {error}.")
        if got != expected:
            return Verdict(False, f"{shown} returned {got!r}; the reference returns {expected!r}.")
        count += 1
    return Verdict(True, f"{what} agrees with the reference on {count} cases.")


def as_list(
    answer: Iterable[Any], convert: Callable[[Any], Any], count: int, what: str
) -> list[Any] | Verdict:
    """The reader's answer as a list of ``count`` values, or the verdict saying what is wrong.

    Examples:
        >>> as_list(["1", 2], int, 2, "two indices")
        [1, 2]
        >>> print(as_list([1], int, 2, "two indices"))
        Not yet: give two indices; you gave 1 value.
    """
    try:
        values = [convert(value) for value in answer]
    except (TypeError, ValueError):
        return Verdict(False, f"give {what}; you gave {answer!r}.")
    if len(values) != count:
        plural = "" if len(values) == 1 else "s"
        return Verdict(False, f"give {what}; you gave {len(values)} value{plural}.")
    return values


def gensim_test_data() -> Path:
    """The folder of data gensim ships (its Lee corpus, benchmarks), found without importing it.

    Importing gensim also imports smart_open, which is slow and prints; the exercises only
    need its files.
    """
    spec = importlib.util.find_spec("gensim")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("the exercises need gensim's data: pip install gensim")
    return Path(next(iter(spec.submodule_search_locations))) / "test" / "test_data"
