"""CLI->SDK callbacks through a session, against the in-process FakeCLI.

Permissions, hooks, in-process MCP and elicitation: answers on the wire, failure semantics,
deadlines (autojump_clock), ``control_cancel_request``, and concurrency.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
import trio
import trio.testing

import trio_claude as tc
from tests._helpers import answers, error, one_turn, options_for, success
from trio_claude.testing.fake_cli import (
    Emit,
    Exit,
    FakeCLITransport,
    FakeScript,
    FakeTurn,
    Request,
    Result,
    Sleep,
)


def can_use_tool(tool: str, tool_input: dict[str, Any], **extra: Any) -> Request:
    return Request(
        "can_use_tool",
        {"tool_name": tool, "input": tool_input, "tool_use_id": f"toolu_{tool}", **extra},
    )


def hook_request(callback_id: str, event: str, **fields: Any) -> Request:
    return Request(
        "hook_callback",
        {
            "callback_id": callback_id,
            "input": {"session_id": "s", "cwd": "/w", "hook_event_name": event, **fields},
            "tool_use_id": fields.get("tool_use_id", "uuid-1"),
        },
    )


# ---------------------------------------------------------------------------- permissions


async def test_permission_callback_allows_with_rewritten_input_and_denies() -> None:
    seen: list[tuple[str, dict[str, Any], tc.ToolPermissionContext]] = []
    suggestion = {"type": "setMode", "mode": "acceptEdits", "destination": "session"}

    async def policy(
        tool_name: str, tool_input: dict[str, Any], context: tc.ToolPermissionContext
    ) -> tc.PermissionResultAllow | tc.PermissionResultDeny:
        seen.append((tool_name, tool_input, context))
        if tool_name == "Write":
            return tc.PermissionResultAllow(
                updated_input={**tool_input, "content": "safe"},
                updated_permissions=context.suggestions,
            )
        return tc.PermissionResultDeny(message="no shell", interrupt=True)

    script = one_turn(
        can_use_tool(
            "Write",
            {"file_path": "/x", "content": "evil"},
            permission_suggestions=[suggestion],
            display_name="Write",
            agent_id="a-1",
        ),
        can_use_tool("Bash", {"command": "rm -rf /"}),
    )
    opts, transport = options_for(script, can_use_tool=policy)
    async with tc.open_session(opts) as session:
        turn = await session.run("go")
        assert turn.text == "end"
    allow, deny = answers(transport.fake)
    assert success(allow) == {
        "behavior": "allow",
        "updatedInput": {"file_path": "/x", "content": "safe"},
        "updatedPermissions": [suggestion],
    }
    assert success(deny) == {"behavior": "deny", "message": "no shell", "interrupt": True}
    (name, tool_input, context), _ = seen
    assert name == "Write" and tool_input == {"file_path": "/x", "content": "evil"}
    assert context.tool_use_id == "toolu_Write" and context.agent_id == "a-1"
    assert context.display_name == "Write"
    assert context.suggestions == [tc.PermissionUpdate.set_mode("acceptEdits")]
    assert transport.specs[0].argv.count("--permission-prompt-tool=stdio") == 1


def _raises(*args: Any) -> Any:
    raise RuntimeError("policy bug")


async def _wrong_type(*args: Any) -> Any:
    return {"behavior": "allow"}


async def _returns_none(*args: Any) -> Any:
    return None


async def _unencodable(*args: Any) -> Any:
    return tc.PermissionResultAllow(updated_input={"when": object()})


@pytest.mark.parametrize(
    ("callback", "why"),
    [
        (_raises, "the permission callback raised RuntimeError"),
        (_wrong_type, "invalid answer (a can_use_tool callback must return"),
        (_returns_none, "invalid answer (a can_use_tool callback must return"),
        (_unencodable, "invalid answer ("),
    ],
)
async def test_failing_permission_callbacks_deny_and_the_session_goes_on(
    callback: Any, why: str, caplog: pytest.LogCaptureFixture
) -> None:
    script = FakeScript(
        turns=[
            FakeTurn(steps=(can_use_tool("Write", {"file_path": "/x"}), Result(text="first"))),
            FakeTurn.reply("second"),
        ]
    )
    opts, transport = options_for(script, can_use_tool=callback)
    with caplog.at_level(logging.WARNING, logger="trio_claude"):
        async with tc.open_session(opts) as session:
            assert (await session.run("one")).text == "first"
            assert (await session.run("two")).text == "second"
    (answer,) = answers(transport.fake)
    body = success(answer)
    assert body["behavior"] == "deny"
    assert body["message"].startswith("Permission to use Write was denied: ")
    assert why in body["message"]
    assert "can_use_tool for Write" in caplog.text and "denied" in caplog.text


async def test_sync_permission_callback() -> None:
    def policy(
        tool_name: str, tool_input: dict[str, Any], context: Any
    ) -> tc.PermissionResultAllow:
        return tc.PermissionResultAllow()

    opts, transport = options_for(one_turn(can_use_tool("Read", {"p": 1})), can_use_tool=policy)
    async with tc.open_session(opts) as session:
        await session.run("go")
    assert success(answers(transport.fake)[0]) == {"behavior": "allow", "updatedInput": {"p": 1}}


async def test_permission_deadline_denies(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    async def slow(*args: Any) -> Any:
        await trio.sleep_forever()

    opts, transport = options_for(
        one_turn(can_use_tool("Write", {})), can_use_tool=slow, can_use_tool_timeout=5
    )
    async with tc.open_session(opts) as session:
        start = trio.current_time()
        await session.run("go")
        assert trio.current_time() - start == pytest.approx(5, abs=0.5)
    body = success(answers(transport.fake)[0])
    assert body == {
        "behavior": "deny",
        "message": "Permission to use Write was denied: the permission callback did not answer "
        "within 5 s",
    }
    assert "can_use_tool_timeout" in caplog.text


async def test_can_use_tool_timeout_needs_the_callback() -> None:
    with pytest.raises(tc.ConfigurationError, match="can_use_tool_timeout has no effect"):
        async with tc.open_session(tc.ClaudeAgentOptions(can_use_tool_timeout=1)):
            pass
    with pytest.raises(tc.ConfigurationError, match="can_use_tool_timeout must be > 0"):
        async with tc.open_session(
            tc.ClaudeAgentOptions(can_use_tool=_raises, can_use_tool_timeout=0)
        ):
            pass


async def test_without_a_permission_callback_the_request_is_an_error() -> None:
    opts, transport = options_for(one_turn(can_use_tool("Write", {})))
    async with tc.open_session(opts) as session:
        # No callbacks: the handlers are built when the first request comes, not at the open.
        assert session._handlers is None
        await session.run("go")
        assert session._handlers is not None
    assert error(answers(transport.fake)[0]) == "canUseTool callback is not provided"


async def test_with_a_callback_the_handlers_are_built_at_the_open() -> None:
    opts, _ = options_for(one_turn(), can_use_tool=_raises)
    async with tc.open_session(opts) as session:
        assert session._handlers is not None
        assert set(session._handlers) >= {"can_use_tool", "hook_callback", "mcp_message"}


# ---------------------------------------------------------------------------------- hooks


async def test_hooks_get_typed_inputs_and_their_answers_are_encoded() -> None:
    calls: list[tuple[Any, Any, tc.HookContext]] = []

    async def guard(hook_input: Any, tool_use_id: str | None, context: tc.HookContext) -> Any:
        calls.append((hook_input, tool_use_id, context))
        return tc.PreToolUseHookSpecificOutput(
            permission_decision="deny", permission_decision_reason="no rm"
        )

    def prompt_hook(hook_input: Any, tool_use_id: str | None, context: tc.HookContext) -> Any:
        calls.append((hook_input, tool_use_id, context))
        return {"continue_": True, "hookSpecificOutput": {"additionalContext": "ctx"}}

    async def stop_hook(hook_input: Any, tool_use_id: str | None, context: tc.HookContext) -> None:
        calls.append((hook_input, tool_use_id, context))

    hooks = {
        "PreToolUse": [tc.HookMatcher(matcher="Bash", hooks=[guard], timeout=30)],
        "UserPromptSubmit": [tc.HookMatcher(hooks=[prompt_hook])],
        "Stop": [{"hooks": [stop_hook]}],
    }
    script = one_turn(
        hook_request("hook_1", "UserPromptSubmit", prompt="hello"),
        hook_request(
            "hook_0", "PreToolUse", tool_name="Bash", tool_input={"command": "rm x"},
            tool_use_id="toolu_rm",
        ),
        hook_request("hook_2", "Stop", stop_hook_active=False, last_assistant_message="bye"),
    )  # fmt: skip
    opts, transport = options_for(script, hooks=hooks)
    async with tc.open_session(opts) as session:
        await session.run("go")
    fake = transport.fake
    assert fake is not None
    registered = fake.received[0]["request"]["hooks"]
    assert registered["PreToolUse"] == [
        {"matcher": "Bash", "hookCallbackIds": ["hook_0"], "timeout": 30}
    ]
    prompt_answer, pre_answer, stop_answer = (success(a) for a in answers(fake))
    assert prompt_answer == {
        "continue": True,
        "hookSpecificOutput": {"hookEventName": "UserPromptSubmit", "additionalContext": "ctx"},
    }
    assert pre_answer == {
        "hookSpecificOutput": {
            "hookEventName": "PreToolUse",
            "permissionDecision": "deny",
            "permissionDecisionReason": "no rm",
        }
    }
    assert stop_answer == {}
    (prompt_in, prompt_id, prompt_ctx), (pre_in, pre_id, pre_ctx), (stop_in, _, _) = calls
    assert isinstance(prompt_in, tc.UserPromptSubmitHookInput) and prompt_in.prompt == "hello"
    assert prompt_id == "uuid-1" and prompt_ctx.callback_id == "hook_1"
    assert isinstance(pre_in, tc.PreToolUseHookInput)
    assert pre_in.tool_input == {"command": "rm x"} and pre_id == "toolu_rm"
    assert (pre_ctx.hook_event_name, pre_ctx.matcher, pre_ctx.timeout) == ("PreToolUse", "Bash", 30)
    assert isinstance(stop_in, tc.StopHookInput) and stop_in.last_assistant_message == "bye"


async def test_unknown_hook_id_gets_the_official_error_text() -> None:
    async def hook(*args: Any) -> None:
        return None

    opts, transport = options_for(
        one_turn(hook_request("hook_9", "Stop"), Request("hook_callback", {})),
        hooks={"Stop": [tc.HookMatcher(hooks=[hook])]},
    )
    async with tc.open_session(opts) as session:
        await session.run("go")
    first, second = answers(transport.fake)
    assert error(first) == "No hook callback found for ID: hook_9"
    assert error(second) == "No hook callback found for ID: None"


async def _hook_raises(*args: Any) -> Any:
    raise ValueError("hook bug")


async def _hook_junk(*args: Any) -> Any:
    return "allow"


async def _hook_unencodable(*args: Any) -> Any:
    return {"systemMessage": object()}


@pytest.mark.parametrize(
    ("hook", "text"),
    [
        (_hook_raises, "PreToolUse hook callback hook_0 raised ValueError: hook bug"),
        (_hook_junk, "PreToolUse hook callback hook_0 returned an invalid output: a hook"),
        (_hook_unencodable, "PreToolUse hook callback hook_0 returned an invalid output: "),
    ],
)
async def test_failing_hooks_answer_an_error_and_the_session_goes_on(
    hook: Any, text: str, caplog: pytest.LogCaptureFixture
) -> None:
    script = FakeScript(
        turns=[
            FakeTurn(steps=(hook_request("hook_0", "PreToolUse"), Result(text="first"))),
            FakeTurn.reply("second"),
        ]
    )
    opts, transport = options_for(script, hooks={"PreToolUse": [tc.HookMatcher(hooks=[hook])]})
    with caplog.at_level(logging.WARNING, logger="trio_claude"):
        async with tc.open_session(opts) as session:
            assert (await session.run("one")).text == "first"
            assert (await session.run("two")).text == "second"
    assert error(answers(transport.fake)[0]).startswith(text)
    assert "PreToolUse hook callback hook_0" in caplog.text


async def test_hook_deadline_is_the_matcher_timeout_plus_grace(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    async def stuck(*args: Any) -> Any:
        await trio.sleep_forever()

    opts, transport = options_for(
        one_turn(hook_request("hook_0", "Stop")),
        hooks={"Stop": [tc.HookMatcher(hooks=[stuck], timeout=2)]},
    )
    async with tc.open_session(opts) as session:
        start = trio.current_time()
        await session.run("go")
        assert trio.current_time() - start == pytest.approx(7, abs=0.5)
    assert error(answers(transport.fake)[0]) == "Stop hook callback hook_0 timed out after 7 s"
    assert "did not return within 7 s" in caplog.text


# ------------------------------------------------------------- cancellation, concurrency


async def test_control_cancel_request_cancels_exactly_that_handler_and_sends_nothing(
    autojump_clock: trio.testing.MockClock,
) -> None:
    started: list[str] = []
    cancelled: list[str] = []

    async def hook(hook_input: Any, tool_use_id: str | None, context: Any) -> Any:
        started.append(hook_input.prompt)
        try:
            await trio.sleep(0.5 if hook_input.prompt == "fast" else 30)
        except trio.Cancelled:
            cancelled.append(hook_input.prompt)
            raise
        return tc.HookOutput(system_message=hook_input.prompt)

    def raw_request(request_id: str, prompt: str) -> Emit:
        return Emit(
            {
                "type": "control_request",
                "request_id": request_id,
                "request": {
                    "subtype": "hook_callback",
                    "callback_id": "hook_0",
                    "input": {"hook_event_name": "UserPromptSubmit", "prompt": prompt},
                },
            }
        )

    script = one_turn(
        raw_request("r-slow", "slow"),
        raw_request("r-fast", "fast"),
        Sleep(0.1),
        Emit({"type": "control_cancel_request", "request_id": "r-slow"}),
        Sleep(1.0),
    )
    opts, transport = options_for(
        script, hooks={"UserPromptSubmit": [tc.HookMatcher(hooks=[hook])]}
    )
    async with tc.open_session(opts) as session:
        with trio.fail_after(10):
            await session.run("go")
        assert session.statistics().inflight_callbacks == 0
    fake = transport.fake
    assert fake is not None
    assert sorted(started) == ["fast", "slow"] and cancelled == ["slow"]
    assert set(fake.responses) == {"r-fast"}
    assert success(fake.responses["r-fast"]) == {"systemMessage": "fast"}
    replies = [f for f in fake.received if f["type"] == "control_response"]
    assert [f["response"]["request_id"] for f in replies] == ["r-fast"]


async def test_callbacks_of_every_kind_run_concurrently(
    autojump_clock: trio.testing.MockClock,
) -> None:
    arrived = 0
    everyone = trio.Event()
    total = 6

    async def barrier() -> None:
        nonlocal arrived
        arrived += 1
        if arrived == total:
            everyone.set()
        await everyone.wait()  # deadlocks unless all six run at the same time

    async def hook(*args: Any) -> Any:
        await barrier()
        return {}

    async def policy(*args: Any) -> tc.PermissionResultAllow:
        await barrier()
        return tc.PermissionResultAllow()

    @tc.tool("wait", "waits")
    async def wait(args: Any) -> str:
        await barrier()
        return "done"

    async def on_elicitation(request: tc.ElicitationRequest) -> tc.ElicitationResult:
        await barrier()
        return tc.ElicitationResult(action="cancel")

    call = {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "wait"}}
    steps = [
        Request("hook_callback", {"callback_id": "hook_0", "input": {}}, wait=False),
        Request("hook_callback", {"callback_id": "hook_1", "input": {}}, wait=False),
        Request("hook_callback", {"callback_id": "hook_0", "input": {}}, wait=False),
        Request("can_use_tool", {"tool_name": "Write", "input": {}}, wait=False),
        Request("mcp_message", {"server_name": "w", "message": call}, wait=False),
        Request("elicitation", {"mcp_server_name": "gh", "message": "?"}, wait=False),
        Sleep(1),
    ]
    opts, transport = options_for(
        one_turn(*steps),
        hooks={"PreToolUse": [tc.HookMatcher(hooks=[hook, hook])]},
        can_use_tool=policy,
        mcp_servers={"w": tc.create_sdk_mcp_server("w", tools=[wait])},
        on_elicitation=on_elicitation,
    )
    async with tc.open_session(opts) as session:
        with trio.fail_after(5):
            await session.run("go")
    replies = answers(transport.fake)
    assert [r["subtype"] for r in replies] == ["success"] * total
    assert success(replies[4])["mcp_response"]["result"]["content"] == [
        {"type": "text", "text": "done"}
    ]
    assert success(replies[5]) == {"action": "cancel"}


# ------------------------------------------------------------------------------------ MCP


def _calc() -> tc.McpSdkServerConfig:
    @tc.tool("add", "Add two numbers", {"a": float, "b": float})
    async def add(args: dict[str, Any]) -> dict[str, Any]:
        return {"content": [{"type": "text", "text": str(args["a"] + args["b"])}]}

    return tc.create_sdk_mcp_server("calc", "1.2.3", [add])


def mcp(server: str, message: dict[str, Any]) -> Request:
    return Request("mcp_message", {"server_name": server, "message": message})


async def test_mcp_requests_are_served_before_initialize_is_answered() -> None:
    init = {
        "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}},
        "jsonrpc": "2.0",
        "id": 0,
    }
    script = FakeScript(
        on_initialize=[mcp("calc", init)],
        turns=[
            FakeTurn(
                steps=(
                    mcp("calc", {"jsonrpc": "2.0", "method": "notifications/initialized"}),
                    mcp("calc", {"method": "tools/list", "jsonrpc": "2.0", "id": 1}),
                    mcp(
                        "calc",
                        {
                            "method": "tools/call",
                            "params": {"name": "add", "arguments": {"a": 2, "b": 3}},
                            "jsonrpc": "2.0",
                            "id": 2,
                        },
                    ),
                    Result(text="end"),
                )
            )
        ],
    )
    opts, transport = options_for(script, mcp_servers={"calc": _calc()})
    async with tc.open_session(opts) as session:
        # initialize only completed because the SDK answered the CLI's mcp_message first
        await session.run("go")
    init_answer, ack, listed, called = (success(a)["mcp_response"] for a in answers(transport.fake))
    assert init_answer["result"]["serverInfo"] == {"name": "calc", "version": "1.2.3"}
    assert ack == {"jsonrpc": "2.0", "result": {}}
    assert listed["result"]["tools"][0]["inputSchema"] == {
        "type": "object",
        "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
        "required": ["a", "b"],
    }
    assert called == {
        "jsonrpc": "2.0",
        "id": 2,
        "result": {"content": [{"type": "text", "text": "5"}], "isError": False},
    }


async def test_mcp_message_for_an_unknown_server() -> None:
    script = one_turn(mcp("nope", {"jsonrpc": "2.0", "id": 4, "method": "tools/list"}))
    opts, transport = options_for(script, mcp_servers={"calc": _calc()})
    async with tc.open_session(opts) as session:
        await session.run("go")
    assert success(answers(transport.fake)[0]) == {
        "mcp_response": {
            "jsonrpc": "2.0",
            "id": 4,
            "error": {"code": -32601, "message": "Server 'nope' not found"},
        }
    }


# ---------------------------------------------------------------------------- elicitation

ELICIT = {
    "mcp_server_name": "github",
    "message": "Your token?",
    "mode": "form",
    "elicitation_id": "e-1",
    "requested_schema": {"type": "object", "properties": {"token": {"type": "string"}}},
}


async def test_elicitation_is_declined_without_a_callback() -> None:
    opts, transport = options_for(one_turn(Request("elicitation", ELICIT)))
    async with tc.open_session(opts) as session:
        await session.run("go")
    assert success(answers(transport.fake)[0]) == {"action": "decline"}


async def test_on_elicitation_answers() -> None:
    seen: list[tc.ElicitationRequest] = []

    async def on_elicitation(request: tc.ElicitationRequest) -> tc.ElicitationResult:
        seen.append(request)
        return tc.ElicitationResult(action="accept", content={"token": "t0k"})

    opts, transport = options_for(
        one_turn(Request("elicitation", ELICIT)), on_elicitation=on_elicitation
    )
    async with tc.open_session(opts) as session:
        await session.run("go")
    assert success(answers(transport.fake)[0]) == {"action": "accept", "content": {"token": "t0k"}}
    (request,) = seen
    assert request.mcp_server_name == "github" and request.mode == "form"
    assert request.requested_schema == ELICIT["requested_schema"]
    assert request.raw["elicitation_id"] == "e-1"


async def _elicit_raises(request: Any) -> Any:
    raise RuntimeError("no UI")


async def _elicit_junk(request: Any) -> Any:
    return "yes"


async def _elicit_dict(request: Any) -> Any:
    return {"action": "cancel"}


async def _elicit_none(request: Any) -> Any:
    return None


@pytest.mark.parametrize(
    ("callback", "answer"),
    [
        (_elicit_raises, {"action": "decline"}),
        (_elicit_junk, {"action": "decline"}),
        (_elicit_dict, {"action": "cancel"}),
        (_elicit_none, {"action": "decline"}),
    ],
)
async def test_on_elicitation_failures_decline(
    callback: Any, answer: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    opts, transport = options_for(one_turn(Request("elicitation", ELICIT)), on_elicitation=callback)
    with caplog.at_level(logging.WARNING, logger="trio_claude"):
        async with tc.open_session(opts) as session:
            await session.run("go")
    assert success(answers(transport.fake)[0]) == answer
    if callback in (_elicit_raises, _elicit_junk):
        assert "on_elicitation for github failed; declined" in caplog.text


async def test_unknown_request_subtypes_get_an_error() -> None:
    opts, transport = options_for(one_turn(Request("a_future_request", {"kind": "x"})))
    async with tc.open_session(opts) as session:
        await session.run("go")
    expected = "Unsupported control request subtype: a_future_request"
    assert error(answers(transport.fake)[0]) == expected


async def test_a_callback_still_running_when_the_cli_dies_is_cancelled(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Nothing can take its answer: it ran on (a human asked to approve, say) until the
    session closed."""
    ended: list[str] = []

    async def policy(tool: str, tool_input: dict[str, Any], context: Any) -> Any:
        try:
            await trio.sleep(1000)
        except trio.Cancelled:
            ended.append("cancelled")
            raise
        return tc.PermissionResultAllow()

    ask = Request(
        "can_use_tool",
        {"tool_name": "Write", "input": {}, "tool_use_id": "t1"},
        wait=False,
    )
    script = FakeScript(turns=[FakeTurn(steps=[ask, Sleep(1), Exit(3)])])
    options = tc.ClaudeAgentOptions(transport=FakeCLITransport(script), can_use_tool=policy)
    async with tc.open_session(options) as session:
        with pytest.raises(tc.ProcessError):
            await session.run("go")
        await trio.sleep(10)
        assert ended == ["cancelled"]  # before the block closed


async def test_a_cli_request_named_like_the_sdks_stand_in_is_only_unsupported() -> None:
    """The stand-in for an unreadable request has a subtype a CLI could send too: without the
    stand-in's note it is an unknown request (it crashed the session with a KeyError)."""
    script = one_turn(Request("trio_claude.oversize_request", {}))
    opts, transport = options_for(script)
    async with tc.open_session(opts) as session:
        assert (await session.run("go")).result is not None
    assert transport.fake is not None
    (answer,) = transport.fake.responses.values()
    assert answer["subtype"] == "error" and "Unsupported" in answer["error"]


@pytest.mark.parametrize("driver", ["session", "query"])
async def test_a_failure_inside_the_sdk_answering_a_request_is_an_error_answer(
    driver: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Not the callback's failure (answered inside the dispatch) but one around it: here the
    telemetry's span. The CLI still gets an answer, the session goes on, and nothing reaches
    the caller (it crashed the session's task group: nested exception groups)."""
    pytest.importorskip("opentelemetry.sdk.trace")
    from opentelemetry.sdk.trace import TracerProvider

    from trio_claude._otel import SessionTrace

    real = SessionTrace.callback_started
    failed: list[str] = []

    def fail_once(self: SessionTrace, subtype: str, request: Any) -> Any:
        if not failed:
            failed.append(subtype)
            raise RuntimeError("exporter broke; token=sk-ant-api03-abcdefghijklmnop")
        return real(self, subtype, request)

    monkeypatch.setattr(SessionTrace, "callback_started", fail_once)

    async def allow(tool: str, tool_input: dict[str, Any], context: Any) -> Any:
        return tc.PermissionResultAllow()

    script = FakeScript(
        turns=[
            FakeTurn(
                steps=(
                    can_use_tool("Write", {"file_path": "/x"}),
                    can_use_tool("Edit", {"file_path": "/y"}),
                    Result(text="first"),
                )
            ),
            FakeTurn.reply("second"),
        ]
    )
    opts, transport = options_for(script, can_use_tool=allow, telemetry=TracerProvider())
    with caplog.at_level(logging.ERROR, logger="trio_claude"):
        if driver == "session":
            async with tc.open_session(opts) as session:
                assert (await session.run("one")).text == "first"
                assert (await session.run("two")).text == "second"
        else:
            async with tc.query(prompt="one", options=opts) as messages:
                texts = [m.result async for m in messages if isinstance(m, tc.ResultMessage)]
            assert texts == ["first"]
    first, second = answers(transport.fake)
    assert "trio-claude failed to answer: RuntimeError: exporter broke" in error(first)
    assert "sk-ant-api03" not in error(first) and "sk-ant-api03" not in caplog.text
    assert success(second)["behavior"] == "allow"
    assert "answering can_use_tool from the CLI failed inside trio-claude" in caplog.text
