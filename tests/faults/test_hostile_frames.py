"""Frames of a hostile (or buggy) CLI that used to wedge, crash or confuse the session.

Each test fails on the code before its fix (found by a review of the protocol core).
"""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
import trio
import trio.testing

import trio_claude as tc
from tests._helpers import options_for, texts
from trio_claude.testing import fake_cli
from trio_claude.testing.fake_cli import (
    Emit,
    FakeScript,
    FakeTurn,
    Raw,
    Result,
    Sleep,
    Step,
    Text,
)

UUID_A = "aaaaaaaa-0000-4000-8000-00000000000a"


def line(frame: dict[str, Any]) -> str:
    return orjson.dumps(frame).decode() + "\n"


async def assert_survives(frame: Step) -> None:
    """The CLI writes ``frame`` in a turn: that turn, and the next, end as usual."""
    script = FakeScript(turns=[FakeTurn(steps=[frame, Text("hi"), Result(text="hi")])])
    options, _ = options_for(script)
    async with tc.open_session(options) as session:
        with trio.fail_after(10):
            turn = await session.run("go")
        assert turn.text == "hi"
        with trio.fail_after(10):
            assert (await session.run("again")).text == "ok"


async def test_command_lifecycle_with_an_unhashable_state_does_not_break_the_session(
    autojump_clock: trio.testing.MockClock,
) -> None:
    odd = {"type": "command_lifecycle", "command_uuid": "x", "state": ["cancelled"]}
    await assert_survives(Emit(odd))


class _TolerantOrjson:
    """orjson for the fake CLI, reading what Node's JSON.parse reads (a lone surrogate)."""

    dumps = staticmethod(orjson.dumps)
    JSONDecodeError = orjson.JSONDecodeError

    @staticmethod
    def loads(data: Any) -> Any:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            return json.loads(data)


async def test_unsupported_request_with_a_lone_surrogate_id_is_not_an_untyped_crash(
    autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fake_cli, "orjson", _TolerantOrjson)
    bad = '{"type":"control_request","request_id":"\\ud800","request":{"subtype":"bogus"}}\n'
    await assert_survives(Raw(bad))


def _request_line(request_id: str, subtype: str, **fields: Any) -> str:
    return line(
        {
            "type": "control_request",
            "request_id": request_id,
            "request": {"subtype": subtype, **fields},
        }
    )


async def test_control_cancel_of_a_reused_id_withdraws_every_request_with_it(
    autojump_clock: trio.testing.MockClock,
) -> None:
    finished: list[str] = []

    async def can_use_tool(name: str, tool_input: dict[str, Any], ctx: Any) -> Any:
        try:
            await trio.sleep(10_000)
        finally:
            finished.append(name)
        return tc.PermissionResultAllow()

    req = _request_line("dup", "can_use_tool", tool_name="First", input={})
    req2 = _request_line("dup", "can_use_tool", tool_name="Second", input={})
    cancel = line({"type": "control_cancel_request", "request_id": "dup"})
    steps: list[Step] = [
        Raw(req),
        Raw(req2),
        Sleep(1),
        Raw(cancel),
        Sleep(1),
        Text("hi"),
        Result("hi"),
    ]
    options, _ = options_for(FakeScript(turns=[FakeTurn(steps=steps)]), can_use_tool=can_use_tool)
    async with tc.open_session(options) as session:
        with trio.fail_after(10):
            await session.run("go")
        assert sorted(finished) == ["First", "Second"]


async def test_command_lifecycle_cancelled_for_a_started_prompt_keeps_turns_apart(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # The CLI said A started, then (hostile, or a race) that A was cancelled, and A ran on.
    started = {"type": "command_lifecycle", "command_uuid": UUID_A, "state": "started"}
    dropped = {"type": "command_lifecycle", "command_uuid": UUID_A, "state": "cancelled"}
    steps: list[Step] = [Emit(started), Text("a1"), Emit(dropped), Text("a2"), Result(text="a")]
    options, _ = options_for(FakeScript(turns=[FakeTurn(steps=steps)]))
    async with tc.open_session(options) as session:
        await session.send("A", uuid=UUID_A)
        first: list[tc.Message] = []
        with trio.fail_after(10):
            async for m in session.receive_response():
                first.append(m)
        with trio.fail_after(10):
            second = await session.run("B")
        # A's messages stay in A's turn; B's turn carries only B's.
        assert texts(first) == ["a1", "a2"], texts(first)
        assert texts(second.messages) == ["ok"], texts(second.messages)


def _result_line_with_nan(uuid: str) -> str:
    return (
        '{"type":"result","subtype":"success","is_error":false,"result":"x",'
        f'"total_cost_usd":NaN,"user_message_uuids":["{uuid}"],"user_message_uuid":"{uuid}",'
        '"session_id":"s"}\n'
    )


async def test_a_result_line_that_is_not_json_still_ends_its_turn(
    autojump_clock: trio.testing.MockClock,
) -> None:
    script = FakeScript(turns=[FakeTurn(steps=[Text("a1"), Raw(_result_line_with_nan(UUID_A))])])
    options, _ = options_for(script)  # stall_timeout is None by default
    async with tc.open_session(options) as session:
        await session.send("A", uuid=UUID_A)
        seen: list[tc.Message] = []
        with trio.fail_after(600):
            async for m in session.receive_response():
                seen.append(m)
        assert isinstance(seen[-1], tc.ResultMessage) and seen[-1].is_error
        with trio.fail_after(10):
            assert (await session.run("B")).text == "ok"


async def test_a_control_request_line_that_is_not_json_is_answered(
    autojump_clock: trio.testing.MockClock,
) -> None:
    bad = (
        '{"type":"control_request","request_id":"r-nan","request":{"subtype":"can_use_tool",'
        '"tool_name":"Bash","input":{"timeout":NaN}}}\n'
    )
    script = FakeScript(turns=[FakeTurn(steps=[Raw(bad), Sleep(1), Text("hi"), Result("hi")])])
    options, transport = options_for(script)
    async with tc.open_session(options) as session:
        with trio.fail_after(10):
            await session.run("go")
        assert transport.fake is not None
        answered = [
            f
            for f in transport.fake.received
            if f.get("type") == "control_response"
            and f.get("response", {}).get("request_id") == "r-nan"
        ]
        # The CLI waits for this answer (a permission prompt): it must get one (an error).
        assert answered, "the CLI's request was never answered"


def test_a_control_response_neither_success_nor_error_is_not_a_success() -> None:
    from trio_claude._protocol._connection import ClaudeProtocol

    proto = ClaudeProtocol()
    rid, _ = proto.send_control_request("set_permission_mode", {"mode": "plan"})
    proto.receive_data(
        orjson.dumps(
            {"type": "control_response", "response": {"subtype": "pending", "request_id": rid}}
        )
        + b"\n"
    )
    [event] = proto.events()
    assert getattr(event, "ok", None) is False, event
