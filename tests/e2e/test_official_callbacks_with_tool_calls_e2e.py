"""The official SDK examples' callback paths, in the official API shapes, with tool calls.

Each test is the code of one official ``claude-agent-sdk`` example (``examples/hooks.py``,
``tool_permission_callback.py``, ``mcp_calculator.py``, ``agents.py``, ``setting_sources.py``,
``stderr_callback_example.py``, ``include_partial_messages.py``, ``streaming_mode.py``) after
the import rename, written here in its own words, but with a fake model that *calls tools*, so
that the hooks, permission callbacks and in-process MCP tools really run. The official
behaviour each asserts is what the official SDK's ``_internal/query.py`` and ``__init__.py``
send to the CLI (dict outputs passed through, ``continue_`` -> ``continue``,
``PermissionResultAllow.updated_input`` -> ``updatedInput``, ``is_error`` -> ``isError``).
"""

from __future__ import annotations

import json
from typing import Any

import trio

import trio_claude
from trio_claude import (
    AgentDefinition,
    AssistantMessage,
    ClaudeSDKClient,
    PermissionResultAllow,
    PermissionResultDeny,
    ResultMessage,
    StreamEvent,
    SystemMessage,
    TextBlock,
    ToolPermissionContext,
    ToolResultBlock,
    ToolUseBlock,
    UserMessage,
    create_sdk_mcp_server,
    query,
    tool,
)
from trio_claude.testing import ClaudeTestEnv, Match, Text, ToolUse, Turn
from trio_claude.types import HookContext, HookInput, HookJSONOutput, HookMatcher

LIMIT = 25  # seconds per test


def results_of(messages: list[Any]) -> list[ToolResultBlock]:
    return [
        block
        for m in messages
        if isinstance(m, UserMessage) and not isinstance(m.content, str)
        for block in m.content
        if isinstance(block, ToolResultBlock)
    ]


def text_of(messages: list[Any]) -> str:
    return "".join(
        block.text
        for m in messages
        if isinstance(m, AssistantMessage)
        for block in m.content
        if isinstance(block, TextBlock)
    )


async def collect(client: ClaudeSDKClient) -> list[Any]:
    return [m async for m in client.receive_response()]


# ------------------------------------------------------------------------- examples/hooks.py


async def test_hooks_pretooluse_deny_and_allow_dicts(claude_env: ClaudeTestEnv) -> None:
    """hooks.py example_pretooluse: ``permissionDecision: deny`` blocks ``./foo.sh``."""
    marker = claude_env.project / "foo-ran"
    foo = claude_env.project / "foo.sh"
    foo.write_text(f"#!/bin/sh\ntouch {marker}\n")
    foo.chmod(0o755)

    async def check_bash_command(
        input_data: HookInput, tool_use_id: str | None, context: HookContext
    ) -> HookJSONOutput:
        tool_name = input_data["tool_name"]
        tool_input = input_data["tool_input"]
        if tool_name != "Bash":
            return {}
        command = tool_input.get("command", "")
        for pattern in ["foo.sh"]:
            if pattern in command:
                return {
                    "hookSpecificOutput": {
                        "hookEventName": "PreToolUse",
                        "permissionDecision": "deny",
                        "permissionDecisionReason": f"Command contains invalid pattern: {pattern}",
                    }
                }
        return {}

    script = [
        Turn([ToolUse("Bash", {"command": "./foo.sh --help"})]),
        Turn("first: {last_tool_result}", match=Match(has_tool_result=True)),
        Turn([ToolUse("Bash", {"command": "echo 'Hello from hooks example!'"})]),
        Turn("second: {last_tool_result}", match=Match(has_tool_result=True)),
    ]
    options = claude_env.options(
        script,
        name="pre",
        allowed_tools=["Bash"],
        hooks={"PreToolUse": [HookMatcher(matcher="Bash", hooks=[check_bash_command])]},
    )
    with trio.fail_after(LIMIT):
        async with ClaudeSDKClient(options=options) as client:
            await client.query("Run the bash command: ./foo.sh --help")
            first = await collect(client)
            await client.query("Run the bash command: echo 'Hello from hooks example!'")
            second = await collect(client)

    assert not marker.exists()  # the deny blocked the tool
    (denied,) = results_of(first)
    assert denied.is_error
    reqs = claude_env.model.turn_requests("pre")
    assert reqs[1].tool_results[0]["is_error"] is True
    assert "Command contains invalid pattern: foo.sh" in (reqs[1].last_tool_result or "")
    (allowed,) = results_of(second)
    assert not allowed.is_error
    assert text_of(second) == "second: Hello from hooks example!"


async def test_hooks_posttooluse_additional_context_reaches_the_model(
    claude_env: ClaudeTestEnv,
) -> None:
    """hooks.py example_posttooluse: ``reason``/``systemMessage``/``additionalContext``."""
    seen: list[Any] = []

    async def review_tool_output(
        input_data: HookInput, tool_use_id: str | None, context: HookContext
    ) -> HookJSONOutput:
        seen.append((dict(input_data), tool_use_id))
        tool_response = input_data.get("tool_response", "")
        if "error" in str(tool_response).lower():
            return {
                "systemMessage": "⚠️ The command produced an error",
                "reason": "Tool execution failed - consider checking the command syntax",
                "hookSpecificOutput": {
                    "hookEventName": "PostToolUse",
                    "additionalContext": "The command encountered an error. ADDCTX-91",
                },
            }
        return {}

    script = [
        Turn([ToolUse("Bash", {"command": "echo 'error: no such thing'"})]),
        Turn("seen", match=Match(has_tool_result=True)),
    ]
    options = claude_env.options(
        script,
        name="post",
        allowed_tools=["Bash"],
        hooks={"PostToolUse": [HookMatcher(matcher="Bash", hooks=[review_tool_output])]},
    )
    with trio.fail_after(LIMIT):
        async with ClaudeSDKClient(options=options) as client:
            await client.query("Run this command")
            messages = await collect(client)

    ((hook_input, tool_use_id),) = seen
    assert hook_input["hook_event_name"] == "PostToolUse"
    assert hook_input["tool_name"] == "Bash"
    (use,) = [
        b
        for m in messages
        if isinstance(m, AssistantMessage)
        for b in m.content
        if isinstance(b, ToolUseBlock)
    ]
    assert tool_use_id == use.id == hook_input["tool_use_id"]
    assert isinstance(messages[-1], ResultMessage) and not messages[-1].is_error
    second = claude_env.model.turn_requests("post")[1]
    assert "ADDCTX-91" in json.dumps(second.messages)


async def test_hooks_continue_false_stops_after_the_tool(claude_env: ClaudeTestEnv) -> None:
    """hooks.py example_continue_control: ``{"continue_": False, "stopReason": ...}``."""

    async def stop_on_error_hook(
        input_data: HookInput, tool_use_id: str | None, context: HookContext
    ) -> HookJSONOutput:
        tool_response = input_data.get("tool_response", "")
        if "critical" in str(tool_response).lower():
            return {
                "continue_": False,
                "stopReason": "Critical error detected in tool output - execution halted",
                "systemMessage": "🛑 Execution stopped due to critical error",
            }
        return {"continue_": True}

    script = [
        Turn([ToolUse("Bash", {"command": "echo 'CRITICAL ERROR: system failure'"})]),
        Turn("the model must not be asked again"),
    ]
    options = claude_env.options(
        script,
        name="cont",
        allowed_tools=["Bash"],
        hooks={"PostToolUse": [HookMatcher(matcher="Bash", hooks=[stop_on_error_hook])]},
    )
    with trio.fail_after(LIMIT):
        async with ClaudeSDKClient(options=options) as client:
            await client.query("Run this bash command: echo 'CRITICAL ERROR: system failure'")
            messages = await collect(client)

    assert isinstance(messages[-1], ResultMessage)
    assert len(claude_env.model.turn_requests("cont")) == 1  # halted: no second model request
    assert "the model must not be asked again" not in text_of(messages)


async def test_hooks_decision_fields_deny_write_and_allow_write(
    claude_env: ClaudeTestEnv,
) -> None:
    """hooks.py example_decision_fields: deny Write to important_*, allow the rest."""
    important = claude_env.project / "important_config.txt"
    regular = claude_env.project / "regular_file.txt"

    async def strict_approval_hook(
        input_data: HookInput, tool_use_id: str | None, context: HookContext
    ) -> HookJSONOutput:
        tool_name = input_data.get("tool_name")
        tool_input = input_data.get("tool_input", {})
        if tool_name == "Write":
            file_path = tool_input.get("file_path", "")
            if "important" in file_path.lower():
                return {
                    "reason": "Writes to files containing 'important' are not allowed",
                    "systemMessage": "🚫 Write operation blocked by security policy",
                    "hookSpecificOutput": {
                        "hookEventName": "PreToolUse",
                        "permissionDecision": "deny",
                        "permissionDecisionReason": "Security policy blocks writes to important files",  # noqa: E501
                    },
                }
        return {
            "reason": "Tool use approved after security review",
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": "allow",
                "permissionDecisionReason": "Tool passed security checks",
            },
        }

    script = [
        Turn([ToolUse("Write", {"file_path": str(important), "content": "test data"})]),
        Turn("one: {last_tool_result}", match=Match(has_tool_result=True)),
        Turn([ToolUse("Write", {"file_path": str(regular), "content": "test data"})]),
        Turn("two", match=Match(has_tool_result=True)),
    ]
    options = claude_env.options(
        script,
        name="dec",
        # no allowed_tools for Write: the hook's "allow" alone must let it run
        model="claude-sonnet-4-5-20250929",
        hooks={"PreToolUse": [HookMatcher(matcher="Write", hooks=[strict_approval_hook])]},
    )
    with trio.fail_after(LIMIT):
        async with ClaudeSDKClient(options=options) as client:
            await client.query("Write the text 'test data' to important_config.txt")
            first = await collect(client)
            await client.query("Write the text 'test data' to regular_file.txt")
            await collect(client)

    assert not important.exists()
    assert results_of(first)[0].is_error
    assert "Security policy blocks writes to important files" in text_of(first)
    assert regular.read_text() == "test data"


async def test_hooks_userpromptsubmit_context_and_stop_decision_block(
    claude_env: ClaudeTestEnv,
) -> None:
    """hooks.py example_userpromptsubmit (event name spelled for the event: the example's
    ``"SessionStart"`` is refused by the CLI, with either SDK), and a Stop hook's
    ``{"decision": "block", "reason": ...}`` that makes the agent go on."""
    stops: list[Any] = []

    async def add_custom_instructions(
        input_data: HookInput, tool_use_id: str | None, context: HookContext
    ) -> HookJSONOutput:
        return {
            "hookSpecificOutput": {
                "hookEventName": "UserPromptSubmit",
                "additionalContext": "My favorite color is hot pink",
            }
        }

    async def keep_going(
        input_data: HookInput, tool_use_id: str | None, context: HookContext
    ) -> HookJSONOutput:
        stops.append(input_data["stop_hook_active"])
        if len(stops) == 1:
            return {"decision": "block", "reason": "KEEP-GOING-5"}
        return {}

    options = claude_env.options(
        [Turn("pink"), Turn("second answer")],
        name="ups",
        hooks={
            "UserPromptSubmit": [HookMatcher(matcher=None, hooks=[add_custom_instructions])],
            "Stop": [HookMatcher(hooks=[keep_going])],
        },
    )
    with trio.fail_after(LIMIT):
        async with ClaudeSDKClient(options=options) as client:
            await client.query("What's my favorite color?")
            messages = await collect(client)
    first, second = claude_env.model.turn_requests("ups")
    assert "My favorite color is hot pink" in json.dumps(first.messages)
    assert "KEEP-GOING-5" in json.dumps(second.messages)  # the block reason reached the model
    assert stops == [False, True]
    assert text_of(messages) == "pinksecond answer"
    assert isinstance(messages[-1], ResultMessage) and not messages[-1].is_error


# ------------------------------------------------------------ tool_permission_callback.py


async def test_permission_callback_allow_updated_input_and_deny(
    claude_env: ClaudeTestEnv,
) -> None:
    safe_dir = claude_env.project / "safe_output"
    wanted = claude_env.project / "elsewhere" / "hello.py"
    log: list[dict[str, Any]] = []

    async def my_permission_callback(
        tool_name: str, input_data: dict[str, Any], context: ToolPermissionContext
    ) -> PermissionResultAllow | PermissionResultDeny:
        log.append({"tool": tool_name, "input": input_data, "suggestions": context.suggestions})
        if tool_name in ["Write", "Edit", "MultiEdit"]:
            file_path = input_data.get("file_path", "")
            if file_path.startswith("/etc/") or file_path.startswith("/usr/"):
                return PermissionResultDeny(
                    message=f"Cannot write to system directory: {file_path}"
                )
            if not file_path.startswith(str(safe_dir)):
                modified_input = input_data.copy()
                modified_input["file_path"] = str(safe_dir / file_path.split("/")[-1])
                return PermissionResultAllow(updated_input=modified_input)
        if tool_name == "Bash":
            command = input_data.get("command", "")
            for dangerous in ["rm -rf", "sudo", "chmod 777", "dd if=", "mkfs"]:
                if dangerous in command:
                    return PermissionResultDeny(
                        message=f"Dangerous command pattern detected: {dangerous}"
                    )
            return PermissionResultAllow()
        return PermissionResultDeny(message="User denied permission")

    script = [
        Turn([ToolUse("Write", {"file_path": "/etc/evil.conf", "content": "x"})]),
        Turn([ToolUse("Write", {"file_path": str(wanted), "content": "print('hello world')\n"})]),
        Turn([ToolUse("Bash", {"command": f"rm -rf {claude_env.project}/keep"})]),
        Turn([ToolUse("Bash", {"command": f"python3 {safe_dir}/hello.py"})]),
        Turn("ran: {last_tool_result}"),
    ]
    (claude_env.project / "keep").mkdir()
    options = claude_env.options(
        script, name="perm", can_use_tool=my_permission_callback, permission_mode="default"
    )
    with trio.fail_after(LIMIT):
        async with ClaudeSDKClient(options) as client:
            await client.query("Create hello.py and run it")
            messages = await collect(client)

    assert [entry["tool"] for entry in log] == ["Write", "Write", "Bash", "Bash"]
    assert not (safe_dir / "evil.conf").exists() and not wanted.exists()
    assert (safe_dir / "hello.py").read_text() == "print('hello world')\n"  # updated_input ran
    assert (claude_env.project / "keep").is_dir()
    reqs = claude_env.model.turn_requests("perm")
    assert reqs[1].tool_results[0]["is_error"] is True
    assert "Cannot write to system directory: /etc/evil.conf" in (reqs[1].last_tool_result or "")
    assert reqs[3].tool_results[0]["is_error"] is True
    assert "Dangerous command pattern detected: rm -rf" in (reqs[3].last_tool_result or "")
    assert text_of(messages) == "ran: hello world"


# ---------------------------------------------------------------------- mcp_calculator.py


@tool("add", "Add two numbers", {"a": float, "b": float})
async def add_numbers(args: dict[str, Any]) -> dict[str, Any]:
    result = args["a"] + args["b"]
    return {"content": [{"type": "text", "text": f"{args['a']} + {args['b']} = {result}"}]}


@tool("divide", "Divide one number by another", {"a": float, "b": float})
async def divide_numbers(args: dict[str, Any]) -> dict[str, Any]:
    if args["b"] == 0:
        return {
            "content": [{"type": "text", "text": "Error: Division by zero is not allowed"}],
            "is_error": True,
        }
    result = args["a"] / args["b"]
    return {"content": [{"type": "text", "text": f"{args['a']} ÷ {args['b']} = {result}"}]}


@tool("boom", "Fails", {"a": float, "b": float})
async def boom(args: dict[str, Any]) -> dict[str, Any]:
    raise ValueError("boom-12")


async def test_mcp_calculator_results_and_is_error_reach_the_model(
    claude_env: ClaudeTestEnv,
) -> None:
    calculator = create_sdk_mcp_server(
        name="calculator", version="2.0.0", tools=[add_numbers, divide_numbers, boom]
    )
    script = [
        Turn(
            [
                ToolUse(
                    "ToolSearch",
                    {
                        "query": "select:mcp__calc__add,mcp__calc__divide,mcp__calc__boom",
                        "max_results": 5,
                    },
                )
            ]
        ),
        Turn([ToolUse("mcp__calc__add", {"a": 15, "b": 27})]),
        Turn([ToolUse("mcp__calc__divide", {"a": 100, "b": 0})]),
        Turn([ToolUse("mcp__calc__divide", {"a": 100, "b": 8})]),
        Turn([ToolUse("mcp__calc__boom", {"a": 1, "b": 2})]),
        Turn("done"),
    ]
    options = claude_env.options(
        script,
        name="calc",
        mcp_servers={"calc": calculator},
        allowed_tools=["mcp__calc__add", "mcp__calc__divide", "mcp__calc__boom"],
    )
    with trio.fail_after(LIMIT):
        async with ClaudeSDKClient(options=options) as client:
            await client.query("Calculate 15 + 27, then 100 / 0, then 100 / 8")
            messages = await collect(client)

    reqs = claude_env.model.turn_requests("calc")
    # the handler's dict reaches the model as it returned it (arguments as the model sent them)
    assert reqs[2].last_tool_result == "15 + 27 = 42"
    zero = reqs[3].tool_results[0]
    assert zero["is_error"] is True  # "is_error": True -> isError -> a tool_result error
    assert "Error: Division by zero is not allowed" in (reqs[3].last_tool_result or "")
    assert reqs[4].last_tool_result == "100 ÷ 8 = 12.5"
    assert reqs[5].tool_results[0]["is_error"] is True  # a raising handler: an error result
    assert "boom-12" in (reqs[5].last_tool_result or "")
    blocks = results_of(messages)
    assert [bool(b.is_error) for b in blocks[1:]] == [False, True, False, True]


# ------------------------------------------------------------------------------ agents.py


async def test_agents_definition_is_used_by_the_agent_tool(claude_env: ClaudeTestEnv) -> None:
    options = claude_env.options(
        [
            Turn(
                [
                    ToolUse(
                        "Agent",
                        {
                            "description": "review",
                            "prompt": "review types.py",
                            "subagent_type": "code-reviewer",
                        },
                    )
                ]
            ),
            Turn("REVIEW-OK", match=Match(subagent=True)),
            Turn("main: {last_tool_result}", match=Match(subagent=False, has_tool_result=True)),
        ],
        name="agents",
        agents={
            "code-reviewer": AgentDefinition(
                description="Reviews code for best practices and potential issues",
                prompt="You are a code reviewer. CODE-REVIEWER-PROMPT-17.",
                tools=["Read", "Grep"],
                model="sonnet",
            ),
        },
    )
    seen: list[Any] = []
    with trio.fail_after(LIMIT):
        async for message in query(
            prompt="Use the code-reviewer agent to review the code in types.py", options=options
        ):
            seen.append(message)

    subs = [r for r in claude_env.model.turn_requests("agents") if r.is_subagent]
    assert subs, "the subagent never asked the model"
    assert "CODE-REVIEWER-PROMPT-17" in subs[0].system_text
    assert set(subs[0].tool_names) <= {"Read", "Grep"}
    assert "REVIEW-OK" in text_of(seen)
    assert isinstance(seen[-1], ResultMessage)


# --------------------------------------------- stderr, setting_sources, partial messages


async def test_setting_sources_project_commands_in_init(claude_env: ClaudeTestEnv) -> None:
    commands = claude_env.project / ".claude" / "commands"
    commands.mkdir(parents=True)
    (commands / "commit.md").write_text("Commit the changes.\n")

    async def slash_commands(setting_sources: list[str] | None) -> list[str]:
        options = claude_env.options([Turn("4", repeat=True)], setting_sources=setting_sources)
        async with ClaudeSDKClient(options=options) as client:
            await client.query("What is 2 + 2?")
            async for msg in client.receive_response():
                if isinstance(msg, SystemMessage) and msg.subtype == "init":
                    return list(msg.data.get("slash_commands", []))
        raise AssertionError("no init message")

    with trio.fail_after(LIMIT):
        assert "commit" in await slash_commands(["user", "project"])
        assert "commit" not in await slash_commands([])
        assert "commit" not in await slash_commands(["user"])


async def test_include_partial_messages_with_a_tool_call_and_stderr(
    claude_env: ClaudeTestEnv,
) -> None:
    """include_partial_messages.py with a tool call; stderr_callback_example.py's callback."""
    stderr_messages: list[str] = []

    def stderr_callback(message: str) -> None:
        stderr_messages.append(message)

    options = claude_env.options(
        [
            Turn([Text("Let me run it."), ToolUse("Bash", {"command": "echo partial-77"})]),
            Turn("done: {last_tool_result}"),
        ],
        include_partial_messages=True,
        allowed_tools=["Bash"],
        max_turns=2,
        stderr=stderr_callback,
        extra_args={"debug-to-stderr": None},
    )
    client = ClaudeSDKClient(options)
    messages: list[Any] = []
    with trio.fail_after(LIMIT):
        try:
            await client.connect()
            await client.query("Run a bash command")
            messages = [m async for m in client.receive_response()]
        finally:
            await client.disconnect()

    events = [m for m in messages if isinstance(m, StreamEvent)]
    assert all(e.session_id and e.uuid and e.parent_tool_use_id is None for e in events)
    starts = [e.event for e in events if e.event["type"] == "content_block_start"]
    assert any(s["content_block"]["type"] == "tool_use" for s in starts)
    partial = "".join(
        e.event["delta"]["partial_json"]
        for e in events
        if e.event["type"] == "content_block_delta"
        and e.event["delta"]["type"] == "input_json_delta"
    )
    assert json.loads(partial) == {"command": "echo partial-77"}
    assert text_of(messages).endswith("done: partial-77")
    assert stderr_messages
    assert all(isinstance(line, str) and "\n" not in line for line in stderr_messages)


# ------------------------------------------------------------ streaming_mode.py interrupt


async def test_client_interrupt_while_a_tool_runs_then_next_query(
    claude_env: ClaudeTestEnv,
) -> None:
    marker = claude_env.project / "late"
    options = claude_env.options(
        [
            Turn([ToolUse("Bash", {"command": f"sleep 20 && touch {marker}"})]),
            Turn(
                "joke: why did the tool cross the road",
                match=Match(
                    predicate=lambda r: (
                        r.last_user_text.rsplit("]", 1)[-1].strip().startswith("Never mind")
                    )
                ),
            ),
        ],
        name="intr",
        allowed_tools=["Bash"],
    )
    received: list[Any] = []
    with trio.fail_after(LIMIT):
        async with ClaudeSDKClient(options=options) as client:
            await client.query("Count from 1 to 100 slowly")

            async def consume_messages() -> None:
                async for message in client.receive_response():
                    received.append(message)

            async with trio.open_nursery() as nursery:
                nursery.start_soon(consume_messages)
                while not any(isinstance(m, AssistantMessage) for m in received):
                    await trio.sleep(0.05)
                await trio.sleep(0.5)
                await client.interrupt()
            await client.query("Never mind, just tell me a quick joke")
            after = await collect(client)

    assert isinstance(received[-1], ResultMessage)
    assert not marker.exists()
    assert text_of(after) == "joke: why did the tool cross the road"
    assert isinstance(after[-1], ResultMessage) and after[-1].subtype == "success"
    assert trio_claude  # imported for the rename's sake
