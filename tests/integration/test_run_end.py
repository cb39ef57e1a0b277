"""One-shot APIs keep stdin open until the run is idle when callbacks may still be needed."""

from __future__ import annotations

from typing import Any

import trio
import trio.testing

import trio_claude as tc
from trio_claude.testing.fake_cli import (
    Emit,
    Exit,
    FakeCLITransport,
    FakeScript,
    FakeTurn,
    Request,
    Result,
    Sleep,
    Text,
)

LATE_PERMISSION = Request(
    "can_use_tool", {"tool_name": "Bash", "input": {"command": "ls"}, "tool_use_id": "t1"}
)


def late_callback_script() -> FakeScript:
    # A background task asks for a permission 5 s after the turn's result.
    return FakeScript(
        turns=[FakeTurn(steps=[Text("done"), Result(text="done"), Sleep(5), LATE_PERMISSION])]
    )


async def test_ask_answers_callbacks_that_arrive_after_the_result(
    autojump_clock: trio.testing.MockClock,
) -> None:
    calls: list[str] = []

    async def policy(name: str, tool_input: dict[str, Any], context: Any) -> Any:
        calls.append(name)
        return tc.PermissionResultAllow()

    transport = FakeCLITransport(late_callback_script())
    turn = await tc.ask(
        "go", options=tc.ClaudeAgentOptions(transport=transport, can_use_tool=policy)
    )
    assert turn.text == "done"
    assert calls == ["Bash"]
    assert transport.fake is not None
    (answer,) = transport.fake.responses.values()
    assert answer["subtype"] == "success" and answer["response"]["behavior"] == "allow"


async def test_query_waits_for_idle_only_after_a_finished_turn(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def policy(name: str, tool_input: dict[str, Any], context: Any) -> Any:
        return tc.PermissionResultAllow()

    transport = FakeCLITransport(late_callback_script())
    opts = tc.ClaudeAgentOptions(transport=transport, can_use_tool=policy)
    async with tc.query("go", options=opts) as messages:
        async for _ in messages:
            pass
    assert transport.fake is not None and len(transport.fake.responses) == 1


async def test_without_callbacks_nothing_waits(autojump_clock: trio.testing.MockClock) -> None:
    script = FakeScript(turns=[FakeTurn(steps=[Result(text="r"), Sleep(500)])])
    start = trio.current_time()
    turn = await tc.ask(
        "go", options=tc.ClaudeAgentOptions(transport=FakeCLITransport(script), close_timeout=1)
    )
    assert turn.text == "r"
    assert trio.current_time() - start < 10  # closed at once, not after the 500 s of work


async def test_wait_idle_times_out(autojump_clock: trio.testing.MockClock) -> None:
    script = FakeScript(turns=[FakeTurn(steps=[Result(text="r"), Sleep(500)])])
    opts = tc.ClaudeAgentOptions(transport=FakeCLITransport(script))
    async with tc.open_session(opts) as session:
        await session.run("go")
        assert session.state == "running"
        assert not await session.wait_idle(10)
        assert await session.wait_idle(1000)
        assert session.state == "idle"


async def test_wait_idle_returns_when_the_cli_exits_while_running(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # It woke only for a state frame: a CLI gone while "running" kept it (and ask(), and the
    # async-with form of query(), which wait for idle when callbacks are set) for the whole
    # timeout, 600 s by default.
    script = FakeScript(turns=[FakeTurn(steps=[Result(text="r"), Sleep(1), Exit(code=1)])])
    opts = tc.ClaudeAgentOptions(transport=FakeCLITransport(script))
    async with tc.open_session(opts) as session:
        await session.run("go")
        assert session.state == "running"
        start = trio.current_time()
        assert await session.wait_idle(1000)
        assert trio.current_time() - start < 5


async def test_ask_with_callbacks_ends_soon_after_the_cli_exits(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def policy(name: str, tool_input: dict[str, Any], context: Any) -> Any:
        return tc.PermissionResultAllow()

    script = FakeScript(turns=[FakeTurn(steps=[Result(text="r"), Sleep(1), Exit(code=1)])])
    start = trio.current_time()
    turn = await tc.ask(
        "go", options=tc.ClaudeAgentOptions(transport=FakeCLITransport(script), can_use_tool=policy)
    )
    assert turn.text == "r"
    assert trio.current_time() - start < 10


async def test_wait_idle_returns_when_the_session_is_closed(
    autojump_clock: trio.testing.MockClock,
) -> None:
    script = FakeScript(turns=[FakeTurn(steps=[Result(text="r"), Sleep(500)])])
    opts = tc.ClaudeAgentOptions(transport=FakeCLITransport(script), close_timeout=1)
    waited: list[float] = []
    async with tc.open_session(opts) as session:
        await session.run("go")

        async def wait() -> None:
            start = trio.current_time()
            await session.wait_idle(1000)
            waited.append(trio.current_time() - start)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(wait)
            await trio.sleep(1)
            await session.aclose()
    assert waited and waited[0] < 10


async def test_a_state_frame_not_marked_host_only_wakes_wait_idle(
    autojump_clock: trio.testing.MockClock,
) -> None:
    idle = {"type": "system", "subtype": "session_state_changed", "state": "idle"}
    script = FakeScript(
        turns=[FakeTurn(steps=[Result(text="r"), Sleep(2), Emit(idle), Sleep(500)])]
    )
    opts = tc.ClaudeAgentOptions(transport=FakeCLITransport(script), close_timeout=1)
    async with tc.open_session(opts) as session:
        await session.run("go")
        assert session.state == "running"
        start = trio.current_time()
        assert await session.wait_idle(1000)
        assert trio.current_time() - start < 10
