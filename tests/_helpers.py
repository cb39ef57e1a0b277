"""Plain helpers shared by the test tiers (shared fixtures live in the ``conftest.py`` files).

Import them by name: ``from tests._helpers import options_for, texts``.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
import trio
import trio.testing

import trio_claude as tc
from trio_claude._transport._discovery import find_cli
from trio_claude.testing.fake_cli import FakeCLI, FakeCLITransport, FakeScript, FakeTurn, Result

__all__ = [
    "answers",
    "clock_waits_for_threads",
    "error",
    "one_turn",
    "options_for",
    "require_cli",
    "success",
    "texts",
]


def require_cli() -> str:
    """The claude CLI's path (the pinned one that ``make cli`` installs).

    Without it the test skips locally, but fails under CI (``CI`` set), where a skipped tier
    would hide a broken setup.
    """
    try:
        return find_cli()
    except tc.CLINotFoundError:
        if os.environ.get("CI"):
            raise
        pytest.skip("the claude CLI is not installed (run `make cli`)")


@contextlib.contextmanager
def clock_waits_for_threads(
    clock: trio.testing.MockClock,
    monkeypatch: pytest.MonkeyPatch,
    *,
    except_threads: str | None = None,
) -> Iterator[None]:
    """While a ``trio.to_thread.run_sync`` call is in flight, ``clock`` does not autojump.

    A worker thread leaves the run loop idle, so an autojump clock jumps to the next deadline
    while the thread works: a store thread slower than the threshold (any threshold, on a loaded
    machine) lets a 60 s timeout, or the test's own hang guard, pass at once. With this, virtual
    time stands still until every thread is back. Not for threads that wait on trio code that
    sleeps (``trio.from_thread.run``): nothing would wake them. Threads whose name starts with
    ``except_threads`` (``"trio_claude.in_thread"``: the application's own blocking callbacks,
    which a test may want a deadline to abandon) let the clock move as usual.
    """
    original = trio.to_thread.run_sync
    threshold = clock.autojump_threshold
    in_flight = 0

    async def run_sync(*args: Any, **kwargs: Any) -> Any:
        nonlocal in_flight
        name = kwargs.get("thread_name")
        if except_threads is not None and str(name).startswith(except_threads):
            return await original(*args, **kwargs)
        in_flight += 1
        clock.autojump_threshold = math.inf
        try:
            return await original(*args, **kwargs)
        finally:
            in_flight -= 1
            if not in_flight:
                clock.autojump_threshold = threshold

    monkeypatch.setattr(trio.to_thread, "run_sync", run_sync)
    try:
        yield
    finally:
        monkeypatch.setattr(trio.to_thread, "run_sync", original)


def texts(messages: Iterable[object]) -> list[str]:
    """The text blocks of the assistant messages among ``messages``, in order."""
    return [
        block.text
        for m in messages
        if isinstance(m, tc.AssistantMessage)
        for block in m.content
        if isinstance(block, tc.TextBlock)
    ]


def options_for(script: FakeScript, **kw: Any) -> tuple[tc.ClaudeAgentOptions, FakeCLITransport]:
    """Options whose transport is an in-process :class:`FakeCLI` playing ``script``."""
    transport = FakeCLITransport(script)
    return tc.ClaudeAgentOptions(transport=transport, **kw), transport


# ------------------------------------------------------------------- CLI -> SDK control requests


def one_turn(*steps: Any) -> FakeScript:
    """A one-turn script: ``steps``, then a result."""
    return FakeScript(turns=[FakeTurn(steps=(*steps, Result(text="end")))])


def answers(fake: FakeCLI | None) -> list[dict[str, Any]]:
    """The SDK's answers to the fake's Request steps, in order."""
    assert fake is not None
    return [fake.responses[frame["request_id"]] for frame in fake.requests_sent]


def success(body: dict[str, Any]) -> dict[str, Any]:
    """The response of a successful control answer (fails on an error answer)."""
    assert body["subtype"] == "success", body
    response: dict[str, Any] = body["response"]
    return response


def error(body: dict[str, Any]) -> str:
    """The message of an error control answer (fails on a successful one)."""
    assert body["subtype"] == "error", body
    text: str = body["error"]
    return text
