"""User callbacks that raise, hang or return junk, all at once: the session goes on.

Each failure mode of each callback kind has its own focused test in
``tests/integration/test_callbacks.py`` (issue 4). Here they are combined, the way a buggy agent
meets them: every kind failing every way inside one turn, interleaved with ordinary traffic,
and a callback that hangs forever while everything else must keep flowing.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
import trio
import trio.testing

import trio_claude as tc
from tests._helpers import texts
from trio_claude.testing.fake_cli import (
    Emit,
    FakeCLITransport,
    FakeScript,
    FakeTurn,
    Request,
    Result,
    Sleep,
    Step,
    Text,
)


def hook_request(request_id: str, callback_id: str) -> Emit:
    return Emit(
        {
            "type": "control_request",
            "request_id": request_id,
            "request": {
                "subtype": "hook_callback",
                "callback_id": callback_id,
                "input": {"hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_input": {}},
                "tool_use_id": "toolu_1",
            },
        }
    )


def permission_request(request_id: str, tool: str) -> Emit:
    return Emit(
        {
            "type": "control_request",
            "request_id": request_id,
            "request": {"subtype": "can_use_tool", "tool_name": tool, "input": {"x": 1}},
        }
    )


def mcp_request(request_id: str, tool: str) -> Emit:
    call = {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": tool}}
    return Emit(
        {
            "type": "control_request",
            "request_id": request_id,
            "request": {"subtype": "mcp_message", "server_name": "bad", "message": call},
        }
    )


def control_responses(transport: FakeCLITransport) -> dict[str, dict[str, Any]]:
    assert transport.fake is not None
    return {
        f["response"]["request_id"]: f["response"]
        for f in transport.fake.received
        if f["type"] == "control_response"
    }


async def test_every_callback_kind_failing_every_way_in_one_turn(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    hung: list[str] = []

    async def hook_raises(*args: Any) -> Any:
        raise ValueError("hook bug")

    async def hook_junk(*args: Any) -> Any:
        return {1, 2, 3}

    async def hook_hangs(*args: Any) -> Any:
        try:
            await trio.sleep_forever()
        finally:
            hung.append("hook")

    async def policy(tool_name: str, tool_input: Any, context: Any) -> Any:
        if tool_name == "Raise":
            raise RuntimeError("policy bug")
        if tool_name == "Junk":
            return "yes, sure"
        await trio.sleep_forever()  # "Hang": the deadline denies

    @tc.tool("explode", "raises")
    async def explode(args: Any) -> Any:
        raise OSError("tool bug")

    @tc.tool("junk", "returns junk")
    async def junk(args: Any) -> Any:
        return object()

    async def on_elicitation(request: tc.ElicitationRequest) -> Any:
        raise KeyError("elicitation bug")

    steps: list[Step] = [
        Text("before"),
        hook_request("h-raise", "hook_0"),
        hook_request("h-junk", "hook_1"),
        hook_request("h-hang", "hook_2"),
        permission_request("p-raise", "Raise"),
        permission_request("p-junk", "Junk"),
        permission_request("p-hang", "Hang"),
        mcp_request("m-raise", "explode"),
        mcp_request("m-junk", "junk"),
        Request("elicitation", {"mcp_server_name": "gh", "message": "?"}, wait=False),
        Request("brand_new_request_kind", {}, wait=False),
        Text("during"),
        Sleep(1),
        Emit({"type": "control_cancel_request", "request_id": "h-hang"}),  # the CLI withdraws
        Sleep(20),  # past can_use_tool_timeout
        Text("after"),
        Result(text="survived"),
    ]
    script = FakeScript(turns=[FakeTurn(steps=steps), FakeTurn.reply("next turn")])
    transport = FakeCLITransport(script)
    options = tc.ClaudeAgentOptions(
        transport=transport,
        hooks={"PreToolUse": [tc.HookMatcher(hooks=[hook_raises, hook_junk, hook_hangs])]},
        can_use_tool=policy,
        can_use_tool_timeout=10,
        mcp_servers={"bad": tc.create_sdk_mcp_server("bad", tools=[explode, junk])},
        on_elicitation=on_elicitation,
    )
    caplog.set_level(logging.WARNING, logger="trio_claude")
    async with tc.open_session(options) as session:
        turn = await session.run("go")
        assert turn.text == "survived"
        assert texts(turn.messages) == ["before", "during", "after"]
        assert session.statistics().inflight_callbacks == 0
        assert (await session.run("again")).text == "next turn"
    replies = control_responses(transport)
    # every request answered exactly once, except the one the CLI withdrew
    assert "h-hang" not in replies and hung == ["hook"]
    assert replies["h-raise"]["subtype"] == "error" and "hook bug" in replies["h-raise"]["error"]
    assert (
        replies["h-junk"]["subtype"] == "error" and "invalid output" in replies["h-junk"]["error"]
    )
    for rid in ("p-raise", "p-junk", "p-hang"):  # permissions fail closed
        assert replies[rid]["subtype"] == "success"
        assert replies[rid]["response"]["behavior"] == "deny"
    for rid in ("m-raise", "m-junk"):
        result = replies[rid]["response"]["mcp_response"]["result"]
        assert result["isError"] is True
    others = [r for rid, r in replies.items() if rid.split("-")[0] not in ("h", "p", "m")]
    assert sorted(r["subtype"] for r in others) == ["error", "success"]
    assert {"action": "decline"} in [r.get("response") for r in others]
    assert len(replies) == 9  # ten requests, one withdrawn


async def test_a_callback_that_hangs_forever_blocks_nothing_and_dies_with_the_session(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # Virtual time (the fake CLI is in-process): closing must not wait out close_timeout.
    entered = trio.Event()
    finished: list[str] = []

    async def stuck_policy(*args: Any) -> Any:
        entered.set()
        try:
            await trio.sleep_forever()
        finally:
            finished.append("cancelled")

    steps: list[Step] = [
        Request("can_use_tool", {"tool_name": "Write", "input": {}}, wait=False),
        *[Text(f"m{i}") for i in range(10)],
        Request("elicitation", {"mcp_server_name": "gh", "message": "?"}),  # answered meanwhile
        Result(text="the turn ends without the permission answer"),
    ]
    transport = FakeCLITransport(FakeScript(turns=[FakeTurn(steps=steps)]))
    # no can_use_tool_timeout, and the CLI never withdraws: only closing ends the callback
    options = tc.ClaudeAgentOptions(transport=transport, can_use_tool=stuck_policy, close_timeout=1)
    async with tc.open_session(options) as session:
        with trio.fail_after(5):
            turn = await session.run("go")
            await entered.wait()
        assert len(texts(turn.messages)) == 10
        assert session.statistics().inflight_callbacks == 1
        await session.set_model("other")  # SDK->CLI requests are not stuck behind it either
        start = trio.current_time()
    assert trio.current_time() - start < 1.0
    assert finished == ["cancelled"]
