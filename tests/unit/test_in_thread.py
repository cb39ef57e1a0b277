"""``tc.in_thread`` and the slow-callback detector, without a session.

The session-level behaviour (every kind of callback, deadlines, close) is in
tests/integration/test_blocking_callbacks.py.
"""

from __future__ import annotations

import inspect
import logging
import threading
from typing import Any

import attrs
import pytest
import trio

import trio_claude as tc
from trio_claude import _threads


def test_the_wrapper_is_async_and_keeps_name_doc_and_signature() -> None:
    def policy(tool_name: str, tool_input: dict[str, Any], context: Any = None) -> str:
        """Decides."""
        return tool_name

    wrapped = tc.in_thread(policy)
    assert inspect.iscoroutinefunction(wrapped)
    assert wrapped.__name__ == "policy"
    assert wrapped.__doc__ == "Decides."
    assert wrapped.__qualname__ == policy.__qualname__
    assert inspect.signature(wrapped) == inspect.signature(policy)
    limited = tc.in_thread(limiter=trio.CapacityLimiter(1))(policy)
    assert inspect.iscoroutinefunction(limited) and limited.__name__ == "policy"


async def test_the_body_runs_in_a_worker_thread_with_args_kwargs_and_the_limiter() -> None:
    limiter = trio.CapacityLimiter(1)
    seen: list[tuple[threading.Thread, str, float]] = []

    @tc.in_thread(limiter=limiter)
    def body(a: int, *, b: int) -> int:
        # Only a trio worker thread may call back into trio; the loop is free meanwhile.
        borrowed = trio.from_thread.run_sync(lambda: limiter.borrowed_tokens)
        seen.append((threading.current_thread(), threading.current_thread().name, borrowed))
        return a + b

    assert await body(1, b=2) == 3
    ((thread, name, borrowed),) = seen
    assert thread is not threading.main_thread() and borrowed == 1
    assert name.startswith("trio_claude.in_thread(") and name.endswith(".body)")


async def test_exceptions_come_out_of_the_await() -> None:
    @tc.in_thread
    def broken() -> None:
        raise KeyError("nope")

    with pytest.raises(KeyError, match="nope"):
        await broken()


def test_async_functions_and_non_callables_are_refused() -> None:
    async def already_async() -> None: ...

    class AsyncCall:
        async def __call__(self) -> None: ...

    with pytest.raises(TypeError, match="already async"):
        tc.in_thread(already_async)
    with pytest.raises(TypeError, match="already async"):
        tc.in_thread(AsyncCall())
    with pytest.raises(TypeError, match="already async"):
        tc.in_thread(tc.in_thread(lambda: None))  # twice
    with pytest.raises(TypeError, match="needs a function"):
        tc.in_thread(42)  # type: ignore[call-overload]


@attrs.frozen
class Lookup:
    id: int
    verbose: bool = False


def _tools() -> list[tc.SdkMcpTool[Lookup]]:
    def lookup(args: Lookup) -> str:
        """Looks up."""
        assert threading.current_thread() is not threading.main_thread()
        return f"{args.id}:{args.verbose}"

    below = tc.tool("lookup", "Look up", Lookup)(tc.in_thread(lookup))  # @tool over @in_thread
    above = tc.in_thread(tc.tool("lookup", "Look up", Lookup)(lookup))  # @in_thread over @tool
    return [below, above]


@pytest.mark.parametrize("order", ["tool-over-in_thread", "in_thread-over-tool"])
async def test_tools_work_in_both_decorator_orders_with_schema_and_validation(order: str) -> None:
    below, above = _tools()
    t = below if order == "tool-over-in_thread" else above
    plain = tc.tool("lookup", "Look up", Lookup)(lambda args: "")
    assert isinstance(t, tc.SdkMcpTool)
    assert t.to_dict() == plain.to_dict()  # same name, description and JSON Schema
    assert t.input_type is Lookup
    assert inspect.iscoroutinefunction(t.handler) and t.handler.__doc__ == "Looks up."
    srv = tc.SdkMcpServer("db", tools=[t])
    ok = await srv.call_tool("lookup", {"id": 7, "verbose": True})
    assert ok["content"] == [{"type": "text", "text": "7:True"}] and not ok.get("isError")
    bad = await srv.call_tool("lookup", {"id": "seven"})
    assert bad["isError"] and "Input validation error" in bad["content"][0]["text"]


# ------------------------------------------------------------------------ slow callbacks


class FakeClock:
    """``_threads._clock`` replaced: callbacks "take" time by advancing it."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(_threads, "_clock", fake)
    return fake


async def test_a_slow_sync_callback_is_reported_once_by_name(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    def slow_policy(*args: Any) -> str:
        clock.now += 0.25
        return "ok"

    def quick_policy(*args: Any) -> str:
        clock.now += _threads.SLOW_CALLBACK_SECONDS / 2
        return "ok"

    async def async_policy(*args: Any) -> str:
        clock.now += 1  # time spent in an async body is not the detector's business
        return "ok"

    with caplog.at_level(logging.WARNING, logger="trio_claude"):
        for _ in range(3):
            assert (
                await _threads.call_maybe_async(slow_policy, 1, what="can_use_tool for X") == "ok"
            )
        assert await _threads.call_maybe_async(quick_policy, 1) == "ok"
        assert await _threads.call_maybe_async(async_policy, 1) == "ok"
    (record,) = caplog.records
    assert record.name == "trio_claude" and record.levelno == logging.WARNING
    text = record.getMessage()
    assert text.startswith("can_use_tool for X: ")
    assert "test_a_slow_sync_callback_is_reported_once_by_name.<locals>.slow_policy" in text
    assert "250 ms" in text and "trio_claude.in_thread" in text


async def test_bound_methods_are_reported_once_and_unweakrefable_callables_every_time(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    class Policy:
        def check(self, *args: Any) -> None:
            clock.now += 1

    class Slotted:
        __slots__ = ()

        def __call__(self, *args: Any) -> None:
            clock.now += 1

    policy = Policy()
    with caplog.at_level(logging.WARNING, logger="trio_claude"):
        await _threads.call_maybe_async(policy.check)
        await _threads.call_maybe_async(policy.check)  # a new bound-method object, same function
        assert len(caplog.records) == 1
        await _threads.call_maybe_async(Slotted())
        await _threads.call_maybe_async(Slotted())
    assert len(caplog.records) == 3
