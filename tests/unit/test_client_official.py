"""``ClaudeSDKClient`` against the official client's semantics (claude_agent_sdk ``client.py``).

- ``receive_response()`` is ``receive_messages()`` up to and including the next
  ``ResultMessage`` ("If no ResultMessage is received, the iterator continues indefinitely"):
  a listener started before ``query()`` gets the turn, and a drain loop under a timeout times
  out instead of ending at once;
- ``receive_messages()`` / ``receive_response()`` are async generators there: not connected is
  raised when iteration starts;
- every method but ``connect``/``disconnect`` raises ``CLIConnectionError`` before
  ``connect()`` and after ``disconnect()``, ``get_server_info()`` included.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import trio
import trio.testing

import trio_claude as tc
from tests._helpers import options_for
from trio_claude.testing.fake_cli import FakeScript, FakeTurn, Text, WaitForInterrupt


def _names(messages: list[Any]) -> list[str]:
    return [type(m).__name__ for m in messages]


async def test_a_listener_started_before_the_query_gets_the_turn() -> None:
    opts, _ = options_for(FakeScript(turns=[FakeTurn.reply("answer one")]))
    got: list[Any] = []
    async with tc.ClaudeSDKClient(opts) as client:

        async def listen() -> None:
            async for message in client.receive_response():
                got.append(message)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(listen)
            await trio.testing.wait_all_tasks_blocked()
            assert got == []  # waiting for a result, not ended
            await client.query("hi")
    assert isinstance(got[-1], tc.ResultMessage) and got[-1].result == "answer one"
    assert any(isinstance(m, tc.AssistantMessage) for m in got)


async def test_a_drain_loop_under_a_timeout_times_out(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # examples/streaming_mode.py: `while True: with timeout: async for m in receive_response()`
    opts, _ = options_for(FakeScript(turns=[FakeTurn.reply("r1")]))
    rounds: list[list[str]] = []
    async with tc.ClaudeSDKClient(opts) as client:
        await client.query("q1")
        with pytest.raises(trio.TooSlowError):
            while True:
                with trio.fail_after(2):
                    rounds.append(_names([m async for m in client.receive_response()]))
                assert len(rounds) < 5, "receive_response() ended with no result to wait for"
    assert len(rounds) == 1 and rounds[0][-1] == "ResultMessage"


async def test_each_response_ends_at_the_next_result_of_prompts_sent_ahead() -> None:
    opts, _ = options_for(FakeScript(turns=[FakeTurn.reply("one"), FakeTurn.reply("two")]))
    async with tc.ClaudeSDKClient(opts) as client:
        await client.query("first")
        await client.query("second")
        first = [m async for m in client.receive_response()]
        second = [m async for m in client.receive_response()]
    assert [m.result for m in first if isinstance(m, tc.ResultMessage)] == ["one"]
    assert [m.result for m in second if isinstance(m, tc.ResultMessage)] == ["two"]
    assert isinstance(first[-1], tc.ResultMessage) and isinstance(second[-1], tc.ResultMessage)


async def test_a_cancelled_response_gives_its_turn_up(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # Not the official behaviour (the turn runs on, and its rest comes with the next query's
    # messages): cancelling a receiver that waits for a turn interrupts it and drops its rest.
    first = FakeTurn(steps=[Text("before"), WaitForInterrupt()])
    opts, transport = options_for(FakeScript(turns=[first, FakeTurn.reply("second")]))
    async with tc.ClaudeSDKClient(opts) as client:
        await client.query("go")
        early: list[Any] = []
        with trio.move_on_after(5):
            async for message in client.receive_response():
                early.append(message)
        await client.query("again")
        rest = [m async for m in client.receive_response()]
    assert "ResultMessage" not in _names(early) and "AssistantMessage" in _names(early)
    assert isinstance(rest[-1], tc.ResultMessage) and rest[-1].result == "second"
    assert not any(isinstance(m, tc.ResultMessage) and m.result != "second" for m in rest)
    assert transport.fake is not None and transport.fake.interrupts == 1


async def test_a_timeout_with_no_turn_running_interrupts_nothing(
    autojump_clock: trio.testing.MockClock,
) -> None:
    opts, transport = options_for(FakeScript(turns=[FakeTurn.reply("one")]))
    async with tc.ClaudeSDKClient(opts) as client:
        await client.query("first")
        assert [m async for m in client.receive_response()][-1].result == "one"  # type: ignore[union-attr]
        with trio.move_on_after(2):
            async for _ in client.receive_response():
                raise AssertionError("no turn runs")
    assert transport.fake is not None and transport.fake.interrupts == 0


async def test_streams_made_before_connect_work_once_connected() -> None:
    opts, _ = options_for(FakeScript(turns=[FakeTurn.reply("hey")]))
    client = tc.ClaudeSDKClient(opts)
    response = client.receive_response()  # the official async generator: checked later
    messages = client.receive_messages()
    with pytest.raises(tc.CLIConnectionError, match="Not connected"):
        await messages.__anext__()
    async with client:
        await client.query("hi")
        got = [m async for m in response]
    assert isinstance(got[-1], tc.ResultMessage) and got[-1].result == "hey"


_CALLS: dict[str, Callable[[tc.ClaudeSDKClient], Awaitable[Any]]] = {
    "query": lambda c: c.query("x"),
    "interrupt": lambda c: c.interrupt(),
    "set_permission_mode": lambda c: c.set_permission_mode("plan"),
    "set_model": lambda c: c.set_model("m"),
    "rewind_files": lambda c: c.rewind_files("u"),
    "reconnect_mcp_server": lambda c: c.reconnect_mcp_server("s"),
    "toggle_mcp_server": lambda c: c.toggle_mcp_server("s", True),
    "stop_task": lambda c: c.stop_task("t"),
    "get_mcp_status": lambda c: c.get_mcp_status(),
    "get_context_usage": lambda c: c.get_context_usage(),
    "get_server_info": lambda c: c.get_server_info(),
    "receive_messages": lambda c: c.receive_messages().__anext__(),
    "receive_response": lambda c: c.receive_response().__anext__(),
}


@pytest.mark.parametrize("method", sorted(_CALLS))
async def test_every_method_needs_a_connection_as_official(method: str) -> None:
    opts, _ = options_for(FakeScript())
    client = tc.ClaudeSDKClient(opts)
    with pytest.raises(tc.CLIConnectionError, match=r"Not connected\. Call connect\(\) first\."):
        await _CALLS[method](client)
    await client.disconnect()  # a no-op, as official
    async with client:
        pass
    with pytest.raises(tc.CLIConnectionError, match="Not connected"):
        await _CALLS[method](client)


async def test_get_server_info_once_connected() -> None:
    opts, _ = options_for(FakeScript())
    async with tc.ClaudeSDKClient(opts) as client:
        info = await client.get_server_info()
    assert info is not None and isinstance(info.get("commands", []), list)
