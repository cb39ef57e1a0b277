"""Resource growth in long-lived use: state that grows per turn or per control request and
never shrinks.

A fleet of sessions runs for days in one process: anything kept per turn (an open span) or per
failed request (a registered MCP server) is memory that only the end of the session gives back.
Each test repeats the operation a few hundred times and asserts that what it leaves behind
stays bounded.

(Checked and found flat, so not tested here: plain turns with budget, stall watchdog,
telemetry, permission and hook callbacks; SDK->CLI control requests, answered, refused and
cancelled; sessions, ``query()``, ``ask()``, the pool, resumable sessions with idle release and
the blocking API opened and closed many times; see the sweep's report.)
"""

from __future__ import annotations

import gc
import weakref
from typing import Any

import pytest
import trio

import trio_claude as tc
from trio_claude.testing.fake_cli import (
    FakeCLITransport,
    FakeScript,
    FakeTurn,
    Result,
    Text,
    ToolUse,
    WaitForInterrupt,
)

# ------------------------------------------------------------------------------ helpers


def _tracer() -> tuple[Any, Any]:
    """A tracer provider and a processor that knows which spans are started and not ended."""
    sdk_trace = pytest.importorskip("opentelemetry.sdk.trace")

    class LiveSpans(sdk_trace.SpanProcessor):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            self.live: dict[int, str] = {}

        def on_start(self, span: Any, parent_context: Any = None) -> None:
            self.live[span.context.span_id] = span.name

        def on_end(self, span: Any) -> None:
            self.live.pop(span.context.span_id, None)

        def shutdown(self) -> None:
            pass

        def force_flush(self, timeout_millis: int = 30000) -> bool:
            return True

    provider = sdk_trace.TracerProvider()
    live = LiveSpans()
    provider.add_span_processor(live)
    return provider, live


def _names(live: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name in live.live.values():
        counts[name] = counts.get(name, 0) + 1
    return counts


# ------------------------------------------------------------------------------ telemetry


async def test_tool_spans_without_a_tool_result_end_with_their_turn() -> None:
    """A tool call the turn ends without a ``tool_result`` for (a ``PreToolUse`` hook answered
    ``defer``: the result carries ``deferred_tool_use``; or the turn was interrupted while the
    tool ran) keeps its ``execute_tool`` span open, in ``SessionTrace._tools``, until the
    session closes: one live span (and its attributes) per such turn, for the session's life.
    """
    turns = 300
    provider, live = _tracer()
    script = FakeScript(
        turns=tuple(
            FakeTurn(
                steps=(
                    ToolUse("Bash", {"command": "make deploy"}, id=f"toolu_{i:05d}"),
                    Result(
                        text="",
                        extra={
                            "deferred_tool_use": {
                                "id": f"toolu_{i:05d}",
                                "name": "Bash",
                                "input": {"command": "make deploy"},
                            }
                        },
                    ),
                )
            )
            for i in range(turns)
        )
    )
    options = tc.ClaudeAgentOptions(transport=FakeCLITransport(script), telemetry=provider)
    async with tc.open_session(options) as session:
        for i in range(turns):
            await session.send(f"deploy {i}")
            async for _ in session.receive_response():
                pass
        open_spans = _names(live)
    # The session span, and at most a turn or a tool being worked on.
    assert sum(open_spans.values()) <= 3, (
        f"after {turns} turns that ended with a deferred tool call, spans still open: {open_spans}"
    )


async def test_abandoned_turns_do_not_keep_their_spans_open() -> None:
    """A turn whose receiver was cancelled (a timeout around ``run()``) is interrupted and its
    result is dropped, so ``SessionTrace`` never sees it: the turn's ``claude.turn`` span stays
    in ``SessionTrace._turns`` until some later result is *delivered*, and a session whose turns
    keep timing out accumulates one open span per turn.
    """
    turns = 300
    provider, live = _tracer()
    script = FakeScript(turns=(FakeTurn(steps=(Text("working"), WaitForInterrupt())),) * turns)
    options = tc.ClaudeAgentOptions(transport=FakeCLITransport(script), telemetry=provider)
    async with tc.open_session(options) as session:
        for i in range(turns):
            await session.send(f"slow {i}")
            with trio.CancelScope() as scope:
                async for _ in session.receive_response():
                    scope.cancel()  # a deadline that fires mid-turn
            assert scope.cancelled_caught
            with trio.fail_after(10):
                await session.wait_idle()  # the interrupted turn has ended
        open_spans = _names(live)
    assert sum(open_spans.values()) <= 3, (
        f"after {turns} interrupted (abandoned) turns, spans still open: {open_spans}"
    )


# ------------------------------------------------------------------------------ MCP servers


async def test_failed_set_mcp_servers_does_not_keep_the_servers_it_tried() -> None:
    """``set_mcp_servers`` registers its in-process servers with the session's router before
    it asks the CLI, and nothing takes them out when the request fails (refused, timed out):
    each failed call with a new server name keeps that server (its tools, their closures) for
    the session's life, although the CLI never knew it.
    """
    calls = 200

    @tc.tool("add", "Add two numbers", {"a": float, "b": float})
    async def add(args: dict[str, Any]) -> dict[str, Any]:
        return {"content": [{"type": "text", "text": str(args["a"] + args["b"])}]}

    servers: list[weakref.ref[Any]] = []
    options = tc.ClaudeAgentOptions(transport=FakeCLITransport(FakeScript()))
    async with tc.open_session(options) as session:
        for i in range(calls):
            config = tc.create_sdk_mcp_server(f"tenant{i}", tools=[add])
            servers.append(weakref.ref(config["instance"]))
            # The fake answers mcp_set_servers as an unsupported request: the call fails.
            with pytest.raises(tc.ControlRequestError):
                await session.set_mcp_servers({f"tenant{i}": config})
            del config
        gc.collect()
        kept = sum(1 for ref in servers if ref() is not None)
    assert kept <= 1, (
        f"{kept} of {calls} in-process MCP servers whose set_mcp_servers failed are still held "
        "by the session"
    )
