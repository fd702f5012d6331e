"""Wall-clock timing for the experiments that measure speed.

Examples:
    >>> seconds, result = fastest(lambda: sum(range(1000)), repeats=2)
    >>> result, seconds > 0
    (499500, True)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def fastest(run: Callable[[], T], repeats: int = 3, warmup: bool = True) -> tuple[float, T]:
    """Run ``run`` (once untimed first, if ``warmup``), then ``repeats`` timed times.

    Returns:
        The fastest run's seconds, the least disturbed by whatever else the machine was doing,
        and the result of the last run.
    """
    if warmup:
        run()
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result  # type: ignore[return-value]
