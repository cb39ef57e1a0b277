"""Permissions, hooks and in-process MCP tools through the real CLI against the fake model."""

from __future__ import annotations

import json
from typing import Any, Literal

import attrs
import trio

import trio_claude as tc
from trio_claude.testing import ClaudeTestEnv, Text, ToolUse, Turn


def tool_results(turn: tc.TurnResult) -> list[tc.ToolResultBlock]:
    return [
        block
        for message in turn.messages
        if isinstance(message, tc.UserMessage) and not isinstance(message.content, str)
        for block in message.content
        if isinstance(block, tc.ToolResultBlock)
    ]


# ---------------------------------------------------------------------------- permissions


async def test_denied_write_is_not_written_and_the_model_gets_the_message(
    claude_env: ClaudeTestEnv,
) -> None:
    target = claude_env.project / "denied.txt"
    script = [
        Turn([ToolUse("Write", {"file_path": str(target), "content": "from the model\n"})]),
        Turn("Tool answered: {last_tool_result}"),
    ]
    asked: list[tuple[str, tc.ToolPermissionContext]] = []

    async def policy(
        tool_name: str, tool_input: dict[str, Any], context: tc.ToolPermissionContext
    ) -> tc.PermissionResultDeny:
        asked.append((tool_name, context))
        return tc.PermissionResultDeny(message="Denied by policy 7")

    opts = claude_env.options(script, name="deny", can_use_tool=policy)
    turn = await tc.ask("Write a file", options=opts)
    assert not target.exists()
    assert turn.text == "Tool answered: Denied by policy 7"
    ((name, context),) = asked
    assert name == "Write" and context.tool_use_id
    assert any(s.type == "setMode" for s in context.suggestions)
    _, second = claude_env.model.turn_requests("deny")
    (result,) = second.tool_results
    assert result["is_error"] is True and result["content"] == "Denied by policy 7"


async def test_allow_with_rewritten_input(claude_env: ClaudeTestEnv) -> None:
    target = claude_env.project / "allowed.txt"
    script = [
        Turn([ToolUse("Write", {"file_path": str(target), "content": "from the model\n"})]),
        Turn("ok"),
    ]

    async def policy(
        tool_name: str, tool_input: dict[str, Any], context: tc.ToolPermissionContext
    ) -> tc.PermissionResultAllow:
        return tc.PermissionResultAllow(
            updated_input={**tool_input, "content": "rewritten by can_use_tool\n"}
        )

    await tc.ask("Write a file", options=claude_env.options(script, can_use_tool=policy))
    assert target.read_text() == "rewritten by can_use_tool\n"


async def test_permission_updates_are_applied_by_the_cli(claude_env: ClaudeTestEnv) -> None:
    first, second = claude_env.project / "a.txt", claude_env.project / "b.txt"
    script = [
        Turn([ToolUse("Write", {"file_path": str(first), "content": "a"})]),
        Turn([ToolUse("Write", {"file_path": str(second), "content": "b"})]),
        Turn("both written"),
    ]
    asked: list[str] = []

    def policy(tool_name: str, tool_input: dict[str, Any], context: Any) -> tc.PermissionResult:
        # a plain function: allowed too
        asked.append(tool_input["file_path"])
        rule = tc.PermissionUpdate.add_rules(
            [tc.PermissionRuleValue("Write")], behavior="allow", destination="session"
        )
        return tc.PermissionResultAllow(updated_permissions=[rule])

    turn = await tc.ask("write two", options=claude_env.options(script, can_use_tool=policy))
    assert turn.text == "both written"
    assert first.read_text() == "a" and second.read_text() == "b"
    assert asked == [str(first)]  # the rule sent back made the CLI stop asking


async def test_a_permission_callback_that_raises_denies_and_the_turn_ends_normally(
    claude_env: ClaudeTestEnv,
) -> None:
    target = claude_env.project / "never.txt"
    script = [
        Turn([ToolUse("Write", {"file_path": str(target), "content": "x"})]),
        Turn("model saw: {last_tool_result}"),
        Turn("second turn fine"),
    ]

    async def policy(*args: Any) -> tc.PermissionResult:
        raise KeyError("policy table missing")

    async with tc.open_session(claude_env.options(script, can_use_tool=policy)) as session:
        turn = await session.run("write it")
        assert turn.result.subtype == "success" and not turn.result.is_error
        assert "the permission callback raised KeyError" in turn.text
        assert (await session.run("again")).text == "second turn fine"
    assert not target.exists()
    (result,) = tool_results(turn)
    assert result.is_error


# ---------------------------------------------------------------------------------- hooks


async def test_hooks_guard_bash_add_context_see_tool_output_and_stop(
    claude_env: ClaudeTestEnv,
) -> None:
    victim = claude_env.project / "victim.txt"
    victim.write_text("precious")
    script = [
        Turn([ToolUse("Bash", {"command": f"rm -f {victim}", "description": "delete"})]),
        Turn([ToolUse("Bash", {"command": "echo allowed", "description": "echo"})]),
        Turn("All done."),
    ]
    seen: dict[str, list[Any]] = {}

    async def guard(
        hook_input: tc.PreToolUseHookInput, tool_use_id: str | None, context: tc.HookContext
    ) -> tc.HookJSONOutput:
        seen.setdefault("pre", []).append(hook_input)
        if "rm " in hook_input.tool_input.get("command", ""):
            return tc.PreToolUseHookSpecificOutput(
                permission_decision="deny",
                permission_decision_reason="BLOCKED: rm is not allowed",
            )
        return None

    async def add_context(hook_input: Any, tool_use_id: str | None, context: Any) -> Any:
        seen.setdefault("prompt", []).append(hook_input)
        return tc.HookOutput(
            hook_specific_output=tc.UserPromptSubmitHookSpecificOutput(
                additional_context="HOOK-CONTEXT-42"
            )
        )

    async def after(hook_input: Any, tool_use_id: str | None, context: Any) -> Any:
        seen.setdefault("post", []).append(hook_input)
        # a plain dict with wire names works as well
        return {"hookSpecificOutput": {"hookEventName": "PostToolUse",
                                       "additionalContext": "POST-HOOK-NOTE-7"}}  # fmt: skip

    def on_stop(hook_input: Any, tool_use_id: str | None, context: Any) -> None:
        seen.setdefault("stop", []).append(hook_input)

    hooks = {
        "PreToolUse": [tc.HookMatcher(matcher="Bash", hooks=[guard])],
        "PostToolUse": [tc.HookMatcher(matcher="Bash", hooks=[after])],
        "UserPromptSubmit": [tc.HookMatcher(hooks=[add_context])],
        "Stop": [tc.HookMatcher(hooks=[on_stop])],
    }
    opts = claude_env.options(
        script, name="hooks", hooks=hooks, permission_mode="bypassPermissions"
    )
    turn = await tc.ask("Clean up please", options=opts)
    assert turn.text == "All done."

    # PreToolUse deny: the file survives, the model reads the reason
    assert victim.read_text() == "precious"
    rm_result, echo_result = tool_results(turn)
    assert rm_result.is_error and "BLOCKED: rm is not allowed" in str(rm_result.content)
    assert [type(i) for i in seen["pre"]] == [tc.PreToolUseHookInput] * 2

    # UserPromptSubmit: the context reached the model with the prompt
    (prompt_input,) = seen["prompt"]
    assert isinstance(prompt_input, tc.UserPromptSubmitHookInput)
    assert prompt_input.prompt == "Clean up please"
    first_request = claude_env.model.turn_requests("hooks")[0]
    assert "HOOK-CONTEXT-42" in json.dumps(first_request.messages)

    # PostToolUse saw the tool's response; its context reached the model too
    (post,) = seen["post"]
    assert isinstance(post, tc.PostToolUseHookInput)
    assert post.tool_name == "Bash" and post.tool_response["stdout"] == "allowed"
    assert "POST-HOOK-NOTE-7" in json.dumps(claude_env.model.turn_requests("hooks")[2].messages)
    assert echo_result.content == "allowed"

    # Stop fired once, before the result
    (stop,) = seen["stop"]
    assert isinstance(stop, tc.StopHookInput)
    assert stop.stop_hook_active is False and stop.last_assistant_message == "All done."


async def test_sixty_hook_callbacks_in_one_turn_with_a_slow_reader(
    claude_env: ClaudeTestEnv,
) -> None:
    calls: list[str] = []
    in_flight = 0
    most = 0

    async def slow_hook(hook_input: Any, tool_use_id: str | None, context: Any) -> Any:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        try:
            await trio.sleep(0.02)
            calls.append(hook_input.hook_event_name)
        finally:
            in_flight -= 1
        return {}

    echoes = [ToolUse("Bash", {"command": f"echo n{i}"}) for i in range(3)]
    script = [Turn([Text("three at once"), *echoes]), Turn("done")]
    hooks = {
        "PreToolUse": [tc.HookMatcher(hooks=[slow_hook] * 10)],
        "PostToolUse": [tc.HookMatcher(hooks=[slow_hook] * 10)],
    }
    opts = claude_env.options(
        script, hooks=hooks, permission_mode="bypassPermissions", include_partial_messages=True
    )
    async with tc.open_session(opts) as session:
        await session.send("go")
        received = []
        with trio.fail_after(60):
            async for message in session.receive_response():
                received.append(message)
                await trio.sleep(0.01)  # a consumer slower than the CLI
    assert calls.count("PreToolUse") == 30 and calls.count("PostToolUse") == 30
    assert most > 1  # the callbacks overlapped
    result = received[-1]
    assert isinstance(result, tc.ResultMessage) and result.result == "done"


async def test_slow_hook_is_withdrawn_by_the_cli_and_the_tool_does_not_run(
    claude_env: ClaudeTestEnv,
) -> None:
    victim = claude_env.project / "victim.txt"
    victim.write_text("x")
    script = [Turn([ToolUse("Bash", {"command": f"rm -f {victim}"})]), Turn("{last_tool_result}")]
    events: list[str] = []

    async def stuck(*args: Any) -> Any:
        events.append("started")
        try:
            await trio.sleep(60)
        except trio.Cancelled:
            events.append("cancelled")  # the CLI's control_cancel_request
            raise

    hooks = {"PreToolUse": [tc.HookMatcher(matcher="Bash", hooks=[stuck], timeout=1)]}
    opts = claude_env.options(script, hooks=hooks, permission_mode="bypassPermissions")
    async with tc.open_session(opts) as session:
        with trio.fail_after(30):
            turn = await session.run("delete it")
        assert session.statistics().inflight_callbacks == 0
    assert events == ["started", "cancelled"]
    assert victim.exists()
    assert "did not respond before its timeout" in turn.text


async def test_failing_hook_is_no_opinion_unless_on_failure_block(
    claude_env: ClaudeTestEnv,
) -> None:
    async def broken(*args: Any) -> Any:
        raise RuntimeError("hook bug")

    cases: tuple[tuple[Literal["block"] | None, bool], ...] = ((None, False), ("block", True))
    for on_failure, survives in cases:
        victim = claude_env.project / f"victim-{on_failure}.txt"
        victim.write_text("x")
        script = [Turn([ToolUse("Bash", {"command": f"rm -f {victim}"})]), Turn("ok")]
        matcher = tc.HookMatcher(matcher="Bash", hooks=[broken], on_failure=on_failure)
        opts = claude_env.options(
            script, hooks={"PreToolUse": [matcher]}, permission_mode="bypassPermissions"
        )
        turn = await tc.ask("delete it", options=opts)
        assert turn.text == "ok"
        assert victim.exists() is survives, on_failure


# ------------------------------------------------------------------------------------ MCP


@attrs.frozen
class AddArgs:
    a: float
    b: float


async def test_in_process_tool_called_by_the_model(claude_env: ClaudeTestEnv) -> None:
    received: list[AddArgs] = []

    @tc.tool("add", "Add two numbers", AddArgs, annotations=tc.ToolAnnotations(read_only_hint=True))
    async def add(args: AddArgs) -> tc.ToolResult:
        received.append(args)
        return tc.ToolResult(content=[tc.TextContent(text=f"{args.a + args.b:g}")])

    calc = tc.create_sdk_mcp_server("calc", "1.2.3", tools=[add])
    script = [
        # MCP tools are deferred: the model finds it with ToolSearch first
        Turn([ToolUse("ToolSearch", {"query": "select:mcp__calc__add", "max_results": 5})]),
        Turn([ToolUse("mcp__calc__add", {"a": 2, "b": "three"})]),
        Turn([ToolUse("mcp__calc__add", {"a": 2, "b": 3})]),
        Turn("Sum is {last_tool_result}"),
    ]
    opts = claude_env.options(
        script, name="mcp", mcp_servers={"calc": calc}, allowed_tools=["mcp__calc__add"]
    )
    turn = await tc.ask("Add 2 and 3 with the calculator", options=opts)
    assert turn.text == "Sum is 5"
    assert received == [AddArgs(a=2, b=3)]  # the invalid call never reached the handler
    init = turn.messages[0]
    assert isinstance(init, tc.InitMessage)
    requests = claude_env.model.turn_requests("mcp")
    invalid = requests[2].tool_results[0]
    assert invalid["is_error"] is True
    assert "Input validation error: b: 'three' is not of type 'number' (string)" in json.dumps(
        invalid
    )
    assert requests[3].last_tool_result == "5"


async def test_always_load_tools_skip_tool_search(claude_env: ClaudeTestEnv) -> None:
    @tc.tool("echo", "Echo text", {"text": str}, always_load=True)
    def echo(args: dict[str, Any]) -> str:
        text: str = args["text"]
        return "echo:" + text

    script = [Turn([ToolUse("mcp__probe__echo", {"text": "hi"})]), Turn("{last_tool_result}")]
    opts = claude_env.options(
        script,
        name="eager",
        mcp_servers={"probe": tc.create_sdk_mcp_server("probe", tools=[echo])},
        allowed_tools=["mcp__probe__echo"],
    )
    turn = await tc.ask("echo hi", options=opts)
    assert turn.text == "echo:hi"
    first = claude_env.model.turn_requests("eager")[0]
    (offered,) = [t for t in first.tools if t.get("name") == "mcp__probe__echo"]
    assert not offered.get("defer_loading")  # offered up front, no ToolSearch needed


async def test_tools_are_deferred_by_default(claude_env: ClaudeTestEnv) -> None:
    @tc.tool("echo", "Echo text", {"text": str})
    def echo(args: dict[str, Any]) -> str:
        text: str = args["text"]
        return text

    opts = claude_env.options(
        [Turn("no tools used")],
        name="lazy",
        mcp_servers={"probe": tc.create_sdk_mcp_server("probe", tools=[echo])},
    )
    turn = await tc.ask("hi", options=opts)
    init = turn.messages[0]
    assert isinstance(init, tc.InitMessage) and "mcp__probe__echo" in init.data["tools"]
    # known to the CLI, but not offered to the model until ToolSearch selects it
    assert "mcp__probe__echo" not in claude_env.model.turn_requests("lazy")[0].tool_names


async def test_instructions_loaded_hook_fires_and_a_session_end_hook_does_not_delay_closing(
    claude_env: ClaudeTestEnv,
) -> None:
    sub = claude_env.project / "sub"
    sub.mkdir()
    (sub / "CLAUDE.md").write_text("Rules of sub.")
    (sub / "a.txt").write_text("A")
    seen: list[Any] = []

    async def record(hook_input: Any, tool_use_id: str | None, context: Any) -> None:
        seen.append(hook_input)

    hooks = {
        event: [tc.HookMatcher(hooks=[record])] for event in ("InstructionsLoaded", "SessionEnd")
    }
    # Reading a file under sub/ loads sub/CLAUDE.md mid-turn (load_reason nested_traversal).
    # (CLAUDE.md files loaded at start-up may be read before initialize registers the hooks.)
    script = [Turn([ToolUse("Read", {"file_path": str(sub / "a.txt")})]), Turn("read")]
    opts = claude_env.options(script, hooks=hooks, setting_sources=["project"])
    async with tc.open_session(opts) as session:
        await session.run("read sub/a.txt")
        closing = trio.current_time()
    # SessionEnd fires once stdin is closed, when no answer can arrive: the CLI must not wait
    # for one (it would then be SIGTERMed after close_timeout: 143 or -15, not 0). The exit
    # status says so; the time it took is only reported (a loaded machine is slow).
    took = trio.current_time() - closing
    assert session.returncode == 0, f"exit status {session.returncode} after {took:.1f} s"
    (loaded,) = seen
    assert isinstance(loaded, tc.InstructionsLoadedHookInput)
    assert loaded.file_path == str(sub / "CLAUDE.md")
    assert loaded.trigger_file_path == str(sub / "a.txt")
    assert (loaded.memory_type, loaded.load_reason) == ("Project", "nested_traversal")
