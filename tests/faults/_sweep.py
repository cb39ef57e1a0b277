"""Seeded cancellation sweeps: run a scenario once to count its scheduler steps, then again
cancelled after each step k (or a seeded sample of them), each with the scheduler seeded."""

from __future__ import annotations

import math
import random
import sys
from collections.abc import Awaitable, Callable

import trio

import trio_claude as tc

from .test_cancellation import seeded_scheduler

if sys.version_info < (3, 11):  # pragma: no cover
    from exceptiongroup import BaseExceptionGroup

#: A scenario run with "cancel after step n" (``math.inf``: never); returns the steps counted.
Scenario = Callable[[float], Awaitable[int]]


def steps_to_cancel_after(total: int, seed: int, sample: int = 50) -> list[int]:
    """Every step of ``1..total+1``, or the first ten and a seeded sample of the rest."""
    every = list(range(1, total + 2))
    if len(every) <= sample:
        return every
    head = every[:10]
    rest = random.Random(seed).sample(every[10:], sample - len(head))
    return head + sorted(rest)


async def sweep(scenario: Scenario, *, seed: int, minimum: int = 5) -> int:
    """Runs ``scenario(math.inf)`` to count its steps, then ``scenario(k)`` for each ``k``."""
    total = await scenario(math.inf)
    assert total >= minimum, total
    for k in steps_to_cancel_after(total, seed):
        with seeded_scheduler(k):
            try:
                await scenario(k)
            except BaseException as exc:
                raise AssertionError(f"cancelled after step {k} of {total}: {exc!r}") from exc
    return total


def bad_error(exc: BaseException | None) -> str | None:
    """None for no error, a cancellation or one typed SDK error; else what is wrong."""
    if exc is None or isinstance(exc, trio.Cancelled):
        return None
    if isinstance(exc, BaseExceptionGroup):
        return f"an ExceptionGroup escaped: {exc!r}"
    if isinstance(exc, tc.ClaudeSDKError):
        return None
    return f"an untyped error escaped: {exc!r}"
