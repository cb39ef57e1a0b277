"""The official Agent SDK *documentation*'s Python samples, after the import rename.

Each test embeds one code sample of the official docs (code.claude.com/docs/en/agent-sdk/...,
formerly platform.claude.com/docs/en/agent-sdk/...; the page and section are named in the
comment above it) as a nested function, changed only as the rename requires:
``claude_agent_sdk`` -> ``trio_claude`` and ``asyncio.run(main())`` -> ``trio.run(main)``
(here: awaiting ``main()`` inside the test's run); an ``asyncio.sleep`` the sample itself uses
becomes ``trio.sleep`` (noted where it happens). The samples build their own
``ClaudeAgentOptions``, so the CLI is pointed at the fake model through the process
environment (``use_env``), as a user's shell would point it at the API; the working directory
is the test's project directory. The fake model is scripted so that the path the sample is
about happens (the tool call a hook or permission callback sees, the MCP tool, the structured
output, ...), and each test asserts what the page's prose says should happen.

A sample that behaves differently from what the docs promise is a failing test asserting the
documented behaviour, unless ``docs/migration.md`` documents the difference (then the test
asserts our documented behaviour under a ``# KNOWN DIFFERENCE:`` comment).
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import trio

from tests._helpers import require_cli
from trio_claude import (
    AgentDefinition,
    AssistantMessage,
    ClaudeAgentOptions,
    ClaudeSDKClient,
    ConfigurationError,
    HookMatcher,
    PermissionResultAllow,
    PermissionResultDeny,
    ResultMessage,
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
from trio_claude.testing import ClaudeTestEnv, Match, Text, ToolUse, Turn, Usage
from trio_claude.types import StreamEvent

LIMIT = 60  # seconds: a hang detector, not a timing assertion

# A 1x1 transparent PNG (the streaming-input sample attaches "diagram.png").
PNG_1X1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def use_env(
    claude_env: ClaudeTestEnv, monkeypatch: pytest.MonkeyPatch, name: str, script: list[Any]
) -> Path:
    """Points every CLI the sample starts at the fake model's ``name`` script; cwd = project."""
    monkeypatch.setenv("TRIO_CLAUDE_CLI", require_cli())
    claude_env.model.session_base_url(name, script)
    for key, value in claude_env.env(name).items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(claude_env.project)
    return claude_env.project


def sent(claude_env: ClaudeTestEnv, name: str) -> str:
    """Everything the CLI sent to the model for ``name``, as one JSON text."""
    return json.dumps([r.body for r in claude_env.model.turn_requests(name)])


# ====================================================================== Quickstart
# quickstart, "Create your agent" (agent.py): Read/Edit/Glob with acceptEdits; prints text
# blocks, "Tool: <name>" for tool calls and "Done: <subtype>" at the end. The prose: Claude
# reads utils.py, edits it to fix the bugs, and the file on disk is changed.


async def test_quickstart_agent_fixes_utils(
    claude_env: ClaudeTestEnv, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = use_env(claude_env, monkeypatch, "qs", [])
    utils = project / "utils.py"
    utils.write_text("def divide(a, b):\n    return a / b\n")
    claude_env.model.set_script(
        [
            Turn([Text("Let me read utils.py."), ToolUse("Read", {"file_path": str(utils)})]),
            Turn(
                [
                    ToolUse(
                        "Edit",
                        {
                            "file_path": str(utils),
                            "old_string": "    return a / b",
                            "new_string": "    if b == 0:\n        return None\n    return a / b",
                        },
                    )
                ],
                match=Match(has_tool_result=True),
            ),
            Turn("Fixed the division by zero.", match=Match(has_tool_result=True)),
        ],
        session="qs",
    )

    async def main() -> None:
        # Agentic loop: streams messages as Claude works
        async for message in query(
            prompt="Review utils.py for bugs that would cause crashes. Fix any issues you find.",
            options=ClaudeAgentOptions(
                allowed_tools=["Read", "Edit", "Glob"],  # Tools Claude can use
                permission_mode="acceptEdits",  # Auto-approve file edits
            ),
        ):
            # Print human-readable output
            if isinstance(message, AssistantMessage):
                for block in message.content:
                    if hasattr(block, "text"):
                        print(block.text)  # Claude's reasoning
                    elif hasattr(block, "name"):
                        print(f"Tool: {block.name}")  # Tool being called
            elif isinstance(message, ResultMessage):
                print(f"Done: {message.subtype}")  # Final result

    with trio.fail_after(LIMIT):
        await main()
    out = capsys.readouterr().out
    assert "Tool: Read" in out and "Tool: Edit" in out
    assert "Fixed the division by zero." in out
    assert out.rstrip().endswith("Done: success")
    assert "if b == 0:" in utils.read_text()


# ====================================================================== Overview
# overview, "Hooks" tab: a PostToolUse hook on Edit|Write appends to ./audit.log.


async def test_overview_hooks_audit_log(
    claude_env: ClaudeTestEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = use_env(claude_env, monkeypatch, "ov-hooks", [])
    target = project / "notes.txt"
    claude_env.model.set_script(
        [
            Turn([ToolUse("Write", {"file_path": str(target), "content": "hi\n"})]),
            Turn("Added the note.", match=Match(has_tool_result=True)),
        ],
        session="ov-hooks",
    )

    async def log_file_change(input_data: Any, tool_use_id: Any, context: Any) -> Any:
        file_path = input_data.get("tool_input", {}).get("file_path", "unknown")
        with open("./audit.log", "a") as f:  # noqa: ASYNC230 - the sample's own code
            f.write(f"{datetime.now()}: modified {file_path}\n")
        return {}

    async def main() -> None:
        async for message in query(
            prompt="Refactor utils.py to improve readability",
            options=ClaudeAgentOptions(
                permission_mode="acceptEdits",
                hooks={"PostToolUse": [HookMatcher(matcher="Edit|Write", hooks=[log_file_change])]},
            ),
        ):
            if hasattr(message, "result"):
                print(message.result)

    with trio.fail_after(LIMIT):
        await main()
    assert target.read_text() == "hi\n"
    assert f"modified {target}" in (project / "audit.log").read_text()


# overview, "Sessions" tab: the session id from the init message, then resume with it. The
# prose: Claude remembers the files it read in the first query.


async def test_overview_sessions_resume_from_init_session_id(
    claude_env: ClaudeTestEnv,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    project = use_env(claude_env, monkeypatch, "ov-sess", [])
    auth = project / "auth.py"
    auth.write_text("def login(user):\n    return True\n")
    claude_env.model.set_script(
        [
            Turn([ToolUse("Read", {"file_path": str(auth)})]),
            Turn("auth.py defines login().", match=Match(has_tool_result=True)),
            Turn(
                "login() is called from main.py",
                match=Match(last_user_text_contains="Now find all places that call it"),
            ),
        ],
        session="ov-sess",
    )
    seen_ids: list[Any] = []

    async def main() -> None:
        session_id = None

        # First query: capture the session ID
        async for message in query(
            prompt="Read the authentication module",
            options=ClaudeAgentOptions(allowed_tools=["Read", "Glob"]),
        ):
            if hasattr(message, "subtype") and message.subtype == "init":
                session_id = message.data["session_id"]  # type: ignore[union-attr]
        seen_ids.append(session_id)

        # Resume with full context from the first query
        async for message in query(
            prompt="Now find all places that call it",  # "it" = auth module
            options=ClaudeAgentOptions(resume=session_id),
        ):
            if hasattr(message, "result"):
                print(message.result)

    with trio.fail_after(LIMIT):
        await main()
    assert seen_ids[0]
    assert "login() is called from main.py" in capsys.readouterr().out
    last = claude_env.model.turn_requests("ov-sess")[-1]
    assert "Read the authentication module" in json.dumps(last.messages)
    assert "def login(user)" in json.dumps(last.messages)


# overview, "Subagents" tab (also subagents, "Programmatic definition"): a code-reviewer
# AgentDefinition, the Agent tool allowed; results printed. The prose: Claude delegates to the
# subagent, which runs with its own prompt and tools.


async def test_overview_subagent_code_reviewer(
    claude_env: ClaudeTestEnv,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    use_env(
        claude_env,
        monkeypatch,
        "ov-sub",
        [
            Turn(
                [
                    ToolUse(
                        "Agent",
                        {
                            "description": "Review the codebase",
                            "prompt": "Review this codebase",
                            "subagent_type": "code-reviewer",
                        },
                    )
                ],
                match=Match(subagent=False),
            ),
            Turn("REVIEW: no issues found", match=Match(subagent=True)),
            Turn("The reviewer is on it.", match=Match(subagent=False, has_tool_result=True)),
            Turn("Reviewer says: no issues found.", match=Match(subagent=False), repeat=True),
        ],
    )
    subagent_events: list[str] = []

    async def main() -> None:
        async for message in query(
            prompt="Use the code-reviewer agent to review this codebase",
            options=ClaudeAgentOptions(
                allowed_tools=["Read", "Glob", "Grep", "Agent"],
                agents={
                    "code-reviewer": AgentDefinition(
                        description="Expert code reviewer for quality and security reviews.",
                        prompt="Analyze code quality and suggest improvements.",
                        tools=["Read", "Glob", "Grep"],
                    )
                },
            ),
        ):
            # subagents, "Detecting subagent invocation": the tool_use and the
            # parent_tool_use_id of messages from inside the subagent
            if hasattr(message, "content") and isinstance(message.content, list):
                for block in message.content:
                    if isinstance(block, ToolUseBlock) and block.name in ("Task", "Agent"):
                        subagent_events.append(f"invoked {block.input.get('subagent_type')}")
            if getattr(message, "parent_tool_use_id", None):
                subagent_events.append("inside")
            if hasattr(message, "result"):
                print(message.result)

    with trio.fail_after(LIMIT):
        await main()
    out = capsys.readouterr().out
    assert "invoked code-reviewer" in subagent_events
    sub = [r for r in claude_env.model.turn_requests("ov-sub") if r.is_subagent]
    assert sub and "Analyze code quality and suggest improvements." in sub[0].system_text
    assert "Reviewer says: no issues found." in out


# ====================================================================== Permissions
# permissions, "Set permission mode" / "During streaming": start in default mode, switch to
# acceptEdits with set_permission_mode(); the prose: file edits are then auto-approved.


async def test_permissions_set_permission_mode_mid_session(
    claude_env: ClaudeTestEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = use_env(claude_env, monkeypatch, "perm-mode", [])
    target = project / "refactored.py"
    claude_env.model.set_script(
        [
            Turn([ToolUse("Write", {"file_path": str(target), "content": "x = 1\n"})], delay=0.1),
            Turn("Refactored.", match=Match(has_tool_result=True)),
        ],
        session="perm-mode",
    )

    async def main() -> None:
        async with ClaudeSDKClient(
            options=ClaudeAgentOptions(permission_mode="default")  # Start in default mode
        ) as client:
            await client.query("Help me refactor this code")
            # Change mode dynamically mid-session
            await client.set_permission_mode("acceptEdits")
            # Process messages with the new permission mode
            async for message in client.receive_response():
                print(message)

    with trio.fail_after(LIMIT):
        await main()
    assert target.read_text() == "x = 1\n"


# permissions, "Permission modes" / "Don't ask mode (dontAsk)": anything not pre-approved by
# allowed_tools is denied without calling can_use_tool.


async def test_permissions_dont_ask_denies_unlisted_tool(
    claude_env: ClaudeTestEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = use_env(claude_env, monkeypatch, "dontask", [])
    made = project / "made.txt"
    claude_env.model.set_script(
        [
            Turn([ToolUse("Bash", {"command": f"touch {made}"})]),
            Turn("Could not: {last_tool_result}", match=Match(has_tool_result=True)),
        ],
        session="dontask",
    )
    results: list[ResultMessage] = []

    async def main() -> None:
        options = ClaudeAgentOptions(
            allowed_tools=["Read", "Glob", "Grep"],
            permission_mode="dontAsk",
        )
        async for message in query(prompt="Create made.txt", options=options):
            if isinstance(message, ResultMessage):
                results.append(message)

    with trio.fail_after(LIMIT):
        await main()
    assert not made.exists()
    assert results[-1].permission_denials and results[-1].permission_denials[0]["tool_name"] == (
        "Bash"
    )


# user-input, "Handle tool approval requests": can_use_tool asks with input(); the page's
# "Required workaround" dummy PreToolUse hook and a streamed prompt. The prose: "y" lets the
# tool run with its input, anything else denies it and Claude sees the message.


async def test_user_input_can_use_tool_with_input_prompt(
    claude_env: ClaudeTestEnv,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    project = use_env(claude_env, monkeypatch, "approve", [])
    test_file = project / "test_file.txt"
    claude_env.model.set_script(
        [
            Turn([ToolUse("Write", {"file_path": str(test_file), "content": "test\n"})]),
            Turn(
                [ToolUse("Bash", {"command": f"rm {test_file}", "description": "Delete it"})],
                match=Match(has_tool_result=True, tool_result_contains="test_file"),
            ),
            Turn("Done: {last_tool_result}", match=Match(has_tool_result=True)),
        ],
        session="approve",
    )
    answers = iter(["y", "n"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))

    async def can_use_tool(
        tool_name: str, input_data: dict[str, Any], context: ToolPermissionContext
    ) -> PermissionResultAllow | PermissionResultDeny:
        # Display the tool request
        print(f"\nTool: {tool_name}")
        if tool_name == "Bash":
            print(f"Command: {input_data.get('command')}")
            if input_data.get("description"):
                print(f"Description: {input_data.get('description')}")
        else:
            print(f"Input: {input_data}")

        # Get user approval
        response = input("Allow this action? (y/n): ")  # noqa: ASYNC250 - the sample's own code

        # Return allow or deny based on user's response
        if response.lower() == "y":
            # Allow: tool executes with the original (or modified) input
            return PermissionResultAllow(updated_input=input_data)
        else:
            # Deny: Claude sees the message and can try a different approach
            return PermissionResultDeny(message="User denied this action")

    # Required workaround: dummy hook keeps the stream open for can_use_tool
    async def dummy_hook(input_data: Any, tool_use_id: Any, context: Any) -> Any:
        return {"continue_": True}

    async def prompt_stream() -> AsyncIterator[dict[str, Any]]:
        yield {
            "type": "user",
            "message": {
                "role": "user",
                "content": "Create a test file in /tmp and then delete it",
            },
        }

    async def main() -> None:
        async for message in query(
            prompt=prompt_stream(),
            options=ClaudeAgentOptions(
                can_use_tool=can_use_tool,
                hooks={"PreToolUse": [HookMatcher(matcher=None, hooks=[dummy_hook])]},
            ),
        ):
            if isinstance(message, ResultMessage) and message.subtype == "success":
                print(message.result)

    with trio.fail_after(LIMIT):
        await main()
    out = capsys.readouterr().out
    assert "Tool: Write" in out and f"Command: rm {test_file}" in out
    assert "Description: Delete it" in out
    assert test_file.read_text() == "test\n"  # written ("y"), not deleted ("n")
    assert "Done: User denied this action" in out


# ====================================================================== Hooks
# hooks, "Get started" / the .env example: a PreToolUse hook on Write|Edit denies writing a
# file named .env, with a reason Claude sees.


async def test_hooks_protect_env_files(
    claude_env: ClaudeTestEnv, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = use_env(claude_env, monkeypatch, "env-hook", [])
    env_file = project / ".env"
    claude_env.model.set_script(
        [
            Turn([ToolUse("Write", {"file_path": str(env_file), "content": "DB=x\n"})]),
            Turn("Blocked: {last_tool_result}", match=Match(has_tool_result=True)),
        ],
        session="env-hook",
    )

    # Define a hook callback that receives tool call details
    async def protect_env_files(input_data: Any, tool_use_id: Any, context: Any) -> Any:
        # Extract the file path from the tool's input arguments
        file_path = input_data["tool_input"].get("file_path", "")
        file_name = file_path.split("/")[-1]

        # Block the operation if targeting a .env file
        if file_name == ".env":
            return {
                "hookSpecificOutput": {
                    "hookEventName": input_data["hook_event_name"],
                    "permissionDecision": "deny",
                    "permissionDecisionReason": "Cannot modify .env files",
                }
            }

        # Return empty object to allow the operation
        return {}

    async def main() -> None:
        async for message in query(
            prompt="Update the database configuration",
            options=ClaudeAgentOptions(
                permission_mode="acceptEdits",
                hooks={
                    # Register the hook for PreToolUse events
                    # The matcher filters to only Write and Edit tool calls
                    "PreToolUse": [HookMatcher(matcher="Write|Edit", hooks=[protect_env_files])]
                },
            ),
        ):
            print(message)

    with trio.fail_after(LIMIT):
        await main()
    assert not env_file.exists()
    last = claude_env.model.turn_requests("env-hook")[-1]
    assert "Cannot modify .env files" in (last.last_tool_result or "")


# hooks, "Auto-approve specific tools": read-only tools are allowed by the hook, so Read runs
# in default mode without can_use_tool.


async def test_hooks_auto_approve_read_only(
    claude_env: ClaudeTestEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = use_env(claude_env, monkeypatch, "ro-hook", [])
    (project / "a.txt").write_text("alpha-content\n")
    claude_env.model.set_script(
        [
            Turn([ToolUse("Read", {"file_path": str(project / "a.txt")})]),
            Turn("It says {last_tool_result}", match=Match(has_tool_result=True)),
        ],
        session="ro-hook",
    )
    seen: list[str] = []

    async def auto_approve_read_only(input_data: Any, tool_use_id: Any, context: Any) -> Any:
        read_only_tools = ["Read", "Glob", "Grep"]
        if input_data["tool_name"] in read_only_tools:
            seen.append(input_data["tool_name"])
            return {
                "hookSpecificOutput": {
                    "hookEventName": input_data["hook_event_name"],
                    "permissionDecision": "allow",
                    "permissionDecisionReason": "Read-only tool auto-approved",
                }
            }
        return {}

    async def main() -> None:
        async for message in query(
            prompt="What does a.txt say?",
            options=ClaudeAgentOptions(
                hooks={"PreToolUse": [HookMatcher(hooks=[auto_approve_read_only])]}
            ),
        ):
            if isinstance(message, ResultMessage):
                print(message.result)

    with trio.fail_after(LIMIT):
        await main()
    assert seen == ["Read"]
    assert "alpha-content" in (claude_env.model.turn_requests("ro-hook")[-1].last_tool_result or "")


# python (SDK reference), "Example Usage" / "Using Hooks for Behavior Modification": a
# PreToolUse logger registered twice (no matcher and "Bash"), a PostToolUse logger and a
# UserPromptSubmit hook; "rm -rf" is denied with "Dangerous command blocked".


async def test_reference_hooks_behavior_modification(
    claude_env: ClaudeTestEnv,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    project = use_env(claude_env, monkeypatch, "ref-hooks", [])
    build = project / "build"
    build.mkdir()
    claude_env.model.set_script(
        [
            Turn([ToolUse("Bash", {"command": "ls"})]),
            Turn(
                [ToolUse("Bash", {"command": f"rm -rf {build}"})],
                match=Match(has_tool_result=True, tool_result_contains="build"),
            ),
            Turn("Listed: {last_tool_result}", match=Match(has_tool_result=True)),
        ],
        session="ref-hooks",
    )
    prompts_seen: list[str] = []

    async def pre_tool_logger(input_data: Any, tool_use_id: Any, context: Any) -> Any:
        """Log all tool usage before execution."""
        tool_name = input_data.get("tool_name", "unknown")
        print(f"[PRE-TOOL] About to use: {tool_name}")

        # You can modify or block the tool execution here
        if tool_name == "Bash" and "rm -rf" in str(input_data.get("tool_input", {})):
            return {
                "hookSpecificOutput": {
                    "hookEventName": "PreToolUse",
                    "permissionDecision": "deny",
                    "permissionDecisionReason": "Dangerous command blocked",
                }
            }
        return {}

    async def post_tool_logger(input_data: Any, tool_use_id: Any, context: Any) -> Any:
        """Log results after tool execution."""
        tool_name = input_data.get("tool_name", "unknown")
        print(f"[POST-TOOL] Completed: {tool_name}")
        return {}

    async def user_prompt_modifier(input_data: Any, tool_use_id: Any, context: Any) -> Any:
        """Add context to user prompts."""  # (returns additionalContext, as the hooks guide)
        original_prompt = input_data.get("prompt", "")
        prompts_seen.append(original_prompt)
        # Add a timestamp as additional context for Claude to see
        timestamp = datetime.now().strftime("%Y-%m-%d %H:%M:%S")
        return {
            "hookSpecificOutput": {
                "hookEventName": "UserPromptSubmit",
                "additionalContext": (
                    f"[Submitted at {timestamp}] Original prompt: {original_prompt}"
                ),
            }
        }

    async def main() -> None:
        options = ClaudeAgentOptions(
            hooks={
                "PreToolUse": [
                    HookMatcher(hooks=[pre_tool_logger]),
                    HookMatcher(matcher="Bash", hooks=[pre_tool_logger]),
                ],
                "PostToolUse": [HookMatcher(hooks=[post_tool_logger])],
                "UserPromptSubmit": [HookMatcher(hooks=[user_prompt_modifier])],
            },
            allowed_tools=["Read", "Write", "Bash"],
        )
        async for message in query(prompt="List files in current directory", options=options):
            print(message)

    with trio.fail_after(LIMIT):
        await main()
    out = capsys.readouterr().out
    assert out.count("[PRE-TOOL] About to use: Bash") == 4  # two matchers, two calls
    assert out.count("[POST-TOOL] Completed: Bash") == 1  # the denied call never ran
    assert build.is_dir()
    assert prompts_seen == ["List files in current directory"]
    requests = claude_env.model.turn_requests("ref-hooks")
    assert "Original prompt: List files in current directory" in json.dumps(requests[0].messages)
    assert "Dangerous command blocked" in (requests[-1].last_tool_result or "")


# hooks, "Track subagent activity" (SubagentStop): the hook prints the agent's id and
# transcript path and the tool_use_id.


async def test_hooks_subagent_stop_tracker(
    claude_env: ClaudeTestEnv,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    use_env(
        claude_env,
        monkeypatch,
        "sub-stop",
        [
            Turn(
                [
                    ToolUse(
                        "Agent",
                        {"description": "d", "prompt": "say sub", "subagent_type": "helper"},
                    )
                ],
                match=Match(subagent=False),
            ),
            Turn("sub answer", match=Match(subagent=True)),
            Turn("main done", match=Match(subagent=False), repeat=True),
        ],
    )

    async def subagent_tracker(input_data: Any, tool_use_id: Any, context: Any) -> Any:
        # Log subagent details when it finishes
        print(f"[SUBAGENT] Completed: {input_data['agent_id']}")
        print(f"  Transcript: {input_data['agent_transcript_path']}")
        print(f"  Tool use ID: {tool_use_id}")
        print(f"  Stop hook active: {input_data.get('stop_hook_active')}")
        return {}

    async def main() -> None:
        async for message in query(
            prompt="Use the helper agent",
            options=ClaudeAgentOptions(
                allowed_tools=["Agent"],
                agents={"helper": AgentDefinition(description="Helps", prompt="You help.")},
                hooks={"SubagentStop": [HookMatcher(hooks=[subagent_tracker])]},
            ),
        ):
            if isinstance(message, ResultMessage):
                print(message.result)

    with trio.fail_after(LIMIT):
        await main()
    out = capsys.readouterr().out
    assert "[SUBAGENT] Completed: " in out
    assert "  Transcript: " in out and ".jsonl" in out


# ====================================================================== Custom tools / MCP
# python (SDK reference), "Using Custom Tools with ClaudeSDKClient": calculate (eval, with an
# is_error result on failure) and get_time on an in-process server "utils"; two questions.


async def test_reference_custom_tools_with_client(
    claude_env: ClaudeTestEnv,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    use_env(
        claude_env,
        monkeypatch,
        "ref-tools",
        [
            Turn([ToolUse("mcp__utils__calculate", {"expression": "1/0"})]),
            Turn(
                [ToolUse("mcp__utils__calculate", {"expression": "123 * 456"})],
                match=Match(has_tool_result=True, tool_result_contains="Error"),
            ),
            Turn("The answer: {last_tool_result}", match=Match(has_tool_result=True)),
            Turn([ToolUse("mcp__utils__get_time", {})]),
            Turn("{last_tool_result}", match=Match(has_tool_result=True)),
        ],
    )

    @tool("calculate", "Perform mathematical calculations", {"expression": str})
    async def calculate(args: dict[str, Any]) -> dict[str, Any]:
        try:
            result = eval(args["expression"], {"__builtins__": {}})
            return {"content": [{"type": "text", "text": f"Result: {result}"}]}
        except Exception as e:
            return {"content": [{"type": "text", "text": f"Error: {str(e)}"}], "is_error": True}  # noqa: RUF010

    @tool("get_time", "Get current time", {})
    async def get_time(args: dict[str, Any]) -> dict[str, Any]:
        current_time = datetime.now().strftime("%Y-%m-%d %H:%M:%S")
        return {"content": [{"type": "text", "text": f"Current time: {current_time}"}]}

    async def main() -> None:
        my_server = create_sdk_mcp_server(
            name="utilities", version="1.0.0", tools=[calculate, get_time]
        )
        options = ClaudeAgentOptions(
            mcp_servers={"utils": my_server},
            allowed_tools=["mcp__utils__calculate", "mcp__utils__get_time"],
        )
        async with ClaudeSDKClient(options=options) as client:
            await client.query("What's 123 * 456?")
            async for message in client.receive_response():
                if isinstance(message, AssistantMessage):
                    for block in message.content:
                        if isinstance(block, TextBlock):
                            print(f"Calculation: {block.text}")
            await client.query("What time is it?")
            async for message in client.receive_response():
                if isinstance(message, AssistantMessage):
                    for block in message.content:
                        if isinstance(block, TextBlock):
                            print(f"Time: {block.text}")

    with trio.fail_after(LIMIT):
        await main()
    out = capsys.readouterr().out
    assert "Calculation: The answer: Result: 56088" in out
    assert "Time: Current time: " in out
    requests = claude_env.model.turn_requests("ref-tools")
    (error_result,) = requests[1].tool_results
    assert error_result.get("is_error") is True
    assert "division by zero" in json.dumps(error_result)


# custom-tools, "Using Custom Tools" with a streamed prompt (message_generator) and the page's
# "Calculator" example tool (calculate with precision); the result is printed.


async def test_custom_tools_streaming_prompt_calculator(
    claude_env: ClaudeTestEnv,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    use_env(
        claude_env,
        monkeypatch,
        "calc",
        [
            Turn([ToolUse("mcp__calculator__calculate", {"expression": "2 / 3", "precision": 3})]),
            Turn("Computed {last_tool_result}", match=Match(has_tool_result=True)),
        ],
    )

    @tool(
        "calculate",
        "Perform mathematical calculations",
        {"expression": str, "precision": int},  # Simple schema
    )
    async def calculate(args: dict[str, Any]) -> dict[str, Any]:
        try:
            result = eval(args["expression"], {"__builtins__": {}})
            precision = args.get("precision", 2)
            formatted_result = round(result, precision)
            return {
                "content": [{"type": "text", "text": f"{args['expression']} = {formatted_result}"}]
            }
        except Exception as e:
            return {
                "content": [{"type": "text", "text": f"Error: Invalid expression - {str(e)}"}]  # noqa: RUF010
            }

    calculator = create_sdk_mcp_server(name="calculator", version="1.0.0", tools=[calculate])

    async def message_generator() -> AsyncIterator[dict[str, Any]]:
        yield {"type": "user", "message": {"role": "user", "content": "What is 2 / 3?"}}

    async def main() -> None:
        async for message in query(
            prompt=message_generator(),  # Use async generator for streaming input
            options=ClaudeAgentOptions(
                mcp_servers={"calculator": calculator},
                allowed_tools=["mcp__calculator__calculate"],
                max_turns=3,
            ),
        ):
            if hasattr(message, "result") and message.result:
                print(message.result)

    with trio.fail_after(LIMIT):
        await main()
    assert "Computed 2 / 3 = 0.667" in capsys.readouterr().out


# mcp, "Error handling" / "Check server status": the init message lists MCP servers; one that
# failed to start is reported with a status other than "connected".


async def test_mcp_failed_server_reported_in_init(
    claude_env: ClaudeTestEnv,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    use_env(claude_env, monkeypatch, "mcp-fail", [Turn("Processed.")])

    async def main() -> None:
        async for message in query(
            prompt="Process data",
            options=ClaudeAgentOptions(
                mcp_servers={"data-processor": {"command": "python", "args": ["./mcp-server.py"]}}
            ),
        ):
            if isinstance(message, SystemMessage) and message.subtype == "init":
                failed_servers = [
                    s for s in message.data.get("mcp_servers", []) if s.get("status") != "connected"
                ]
                if failed_servers:
                    print(f"Failed to connect: {failed_servers}")
            if isinstance(message, ResultMessage) and message.subtype == "error_during_execution":
                print("Execution failed")

    with trio.fail_after(LIMIT):
        await main()
    out = capsys.readouterr().out
    assert "Failed to connect: " in out and "data-processor" in out
    assert "Execution failed" not in out


# ====================================================================== Streaming input
# streaming-vs-single-mode, "Streaming Input Mode" example: ClaudeSDKClient.query() with an
# async generator of two messages (the second one with an image, after ``asyncio.sleep(2)``:
# here ``trio.sleep(2)``); text blocks printed from receive_response().


async def test_streaming_input_generator_with_image(
    claude_env: ClaudeTestEnv,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    project = use_env(
        claude_env,
        monkeypatch,
        "stream-in",
        [
            Turn("No obvious security issues.", match=Match(last_user_text_contains="Analyze")),
            Turn("The diagram shows one box.", match=Match(last_user_text_contains="diagram")),
        ],
    )
    (project / "diagram.png").write_bytes(PNG_1X1)

    async def streaming_analysis() -> None:
        async def message_generator() -> AsyncIterator[dict[str, Any]]:
            # First message
            yield {
                "type": "user",
                "message": {"role": "user", "content": "Analyze this codebase for security issues"},
            }

            # Wait for conditions or user input
            await trio.sleep(2)  # was: asyncio.sleep(2)

            # Follow-up with image
            with open("diagram.png", "rb") as f:  # noqa: ASYNC230 - the sample's own code
                image_data = base64.b64encode(f.read()).decode()

            yield {
                "type": "user",
                "message": {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "Review this architecture diagram"},
                        {
                            "type": "image",
                            "source": {
                                "type": "base64",
                                "media_type": "image/png",
                                "data": image_data,
                            },
                        },
                    ],
                },
            }

        # Use ClaudeSDKClient for streaming input
        options = ClaudeAgentOptions(max_turns=10, allowed_tools=["Read", "Grep"])

        async with ClaudeSDKClient(options) as client:
            # Send streaming input
            await client.query(message_generator())

            # Process responses
            async for message in client.receive_response():
                if isinstance(message, AssistantMessage):
                    for block in message.content:
                        if isinstance(block, TextBlock):
                            print(block.text)

    with trio.fail_after(LIMIT):
        await streaming_analysis()
    # receive_response() ends at the first result; the image turn the CLI queued may or may
    # not reach the model before the block closes the CLI (with either SDK), so only the
    # first answer is checked.
    assert "No obvious security issues." in capsys.readouterr().out
    first = claude_env.model.turn_requests("stream-in")[0]
    assert first.last_user_text == "Analyze this codebase for security issues"


# streaming-vs-single-mode, "Single Message Input": a one-shot query, then
# continue_conversation=True continues it.


async def test_single_message_input_then_continue(
    claude_env: ClaudeTestEnv,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    use_env(
        claude_env,
        monkeypatch,
        "single",
        [
            Turn("Authentication uses tokens."),
            Turn("Authorization uses roles.", match=Match(last_user_text_contains="authorization")),
        ],
    )

    async def single_message_example() -> None:
        # Simple one-shot query using query() function
        async for message in query(
            prompt="Explain the authentication flow",
            options=ClaudeAgentOptions(max_turns=1, allowed_tools=["Read", "Grep"]),
        ):
            if isinstance(message, ResultMessage):
                print(message.result)

        # Continue conversation with session management
        async for message in query(
            prompt="Now explain the authorization process",
            options=ClaudeAgentOptions(continue_conversation=True, max_turns=1),
        ):
            if isinstance(message, ResultMessage):
                print(message.result)

    with trio.fail_after(LIMIT):
        await single_message_example()
    out = capsys.readouterr().out
    assert "Authentication uses tokens." in out and "Authorization uses roles." in out
    last = claude_env.model.turn_requests("single")[-1]
    assert "Explain the authentication flow" in json.dumps(last.messages)


# ====================================================================== Sessions
# sessions, "Fork a session": resume with fork_session=True gives a new session id whose
# history starts with the original conversation.


async def test_sessions_fork(
    claude_env: ClaudeTestEnv,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_env(
        claude_env,
        monkeypatch,
        "fork",
        [
            Turn("Designed a REST API."),
            Turn("Here is a GraphQL design.", match=Match(last_user_text_contains="GraphQL")),
        ],
    )
    ids: dict[str, Any] = {}

    async def main() -> None:
        session_id = None
        async for message in query(
            prompt="Design a REST API for the todo app",
            options=ClaudeAgentOptions(max_turns=1),
        ):
            if isinstance(message, ResultMessage):
                session_id = message.session_id
        ids["original"] = session_id

        # Fork: branch from session_id into a new session
        forked_id = None
        async for message in query(
            prompt="Instead of REST, now let's redesign this as a GraphQL API",
            options=ClaudeAgentOptions(resume=session_id, fork_session=True),
        ):
            if isinstance(message, ResultMessage):
                forked_id = message.session_id  # The fork's ID, distinct from session_id
                print(f"Forked session: {forked_id}")
        ids["forked"] = forked_id

    with trio.fail_after(LIMIT):
        await main()
    assert ids["original"] and ids["forked"] and ids["forked"] != ids["original"]
    last = claude_env.model.turn_requests("fork")[-1]
    assert "Design a REST API for the todo app" in json.dumps(last.messages)


# python (SDK reference), "ClaudeSDKClient" / "Example - Continuing a conversation":
# ClaudeSDKClient() without options; the second question relies on the first.


async def test_reference_client_continuing_conversation(
    claude_env: ClaudeTestEnv,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    use_env(
        claude_env,
        monkeypatch,
        "cont",
        [Turn("Paris."), Turn("About 2.1 million.", match=Match(last_user_text_contains="popul"))],
    )

    async def main() -> None:
        async with ClaudeSDKClient() as client:
            # First question
            await client.query("What's the capital of France?")

            # Process response
            async for message in client.receive_response():
                if isinstance(message, AssistantMessage):
                    for block in message.content:
                        if isinstance(block, TextBlock):
                            print(f"Claude: {block.text}")

            # Follow-up question - Claude remembers the previous context
            await client.query("What's the population of that city?")

            async for message in client.receive_response():
                if isinstance(message, AssistantMessage):
                    for block in message.content:
                        if isinstance(block, TextBlock):
                            print(f"Claude: {block.text}")

            # Another follow-up - still in the same conversation
            await client.query("What are some famous landmarks there?")

            async for message in client.receive_response():
                if isinstance(message, AssistantMessage):
                    for block in message.content:
                        if isinstance(block, TextBlock):
                            print(f"Claude: {block.text}")

    with trio.fail_after(LIMIT):
        await main()
    out = capsys.readouterr().out
    assert "Claude: Paris." in out and "Claude: About 2.1 million." in out
    last = claude_env.model.turn_requests("cont")[-1]
    assert "What's the capital of France?" in json.dumps(last.messages)


# python (SDK reference), "Example - Using interrupts": a long Bash loop, ``asyncio.sleep(2)``
# (here ``trio.sleep(2)``), interrupt(), drain the interrupted turn, then a new query.


async def test_reference_interrupt_then_new_query(
    claude_env: ClaudeTestEnv,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    use_env(
        claude_env,
        monkeypatch,
        "intr",
        [
            Turn(
                [ToolUse("Bash", {"command": "for i in $(seq 1 100); do echo $i; sleep 1; done"})]
            ),
            Turn("Hello!", match=Match(last_user_text_contains="Just say hello")),
        ],
    )

    async def interruptible_task() -> None:
        options = ClaudeAgentOptions(allowed_tools=["Bash"], permission_mode="acceptEdits")

        async with ClaudeSDKClient(options=options) as client:
            # Start a long-running task
            await client.query("Count from 1 to 100 slowly, using the bash sleep command")

            # Let it run for a bit
            await trio.sleep(2)  # was: asyncio.sleep(2)

            # Interrupt the task
            await client.interrupt()
            print("Task interrupted!")

            # Drain the interrupted task's messages (including its ResultMessage)
            async for message in client.receive_response():
                if isinstance(message, ResultMessage):
                    print(f"Interrupted task finished with subtype={message.subtype!r}")

            # Send a new command
            await client.query("Just say hello instead")

            # Now receive the new response
            async for message in client.receive_response():
                if isinstance(message, AssistantMessage):
                    for block in message.content:
                        if isinstance(block, TextBlock):
                            print(f"Claude: {block.text}")

    with trio.fail_after(LIMIT):
        await interruptible_task()
    out = capsys.readouterr().out
    assert "Task interrupted!" in out
    assert "Interrupted task finished with subtype=" in out
    assert "Claude: Hello!" in out


# python (SDK reference), "Real-time Progress Monitoring": receive_messages() printing each
# Write, stopping at the result (``hasattr(message, "subtype") and subtype in [...]``).


async def test_reference_realtime_progress_monitoring(
    claude_env: ClaudeTestEnv,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    project = use_env(claude_env, monkeypatch, "progress", [])
    names = [project / f"sort_{n}.py" for n in ("bubble", "quick")]
    claude_env.model.set_script(
        [
            Turn(
                [Text("Creating the files.")]
                + [ToolUse("Write", {"file_path": str(p), "content": "# sort\n"}) for p in names]
            ),
            Turn("Both files created.", match=Match(has_tool_result=True)),
        ],
        session="progress",
    )

    async def monitor_progress() -> None:
        options = ClaudeAgentOptions(allowed_tools=["Write", "Bash"], permission_mode="acceptEdits")

        async with ClaudeSDKClient(options=options) as client:
            await client.query("Create 5 Python files with different sorting algorithms")

            # Monitor progress in real-time
            async for message in client.receive_messages():
                if isinstance(message, AssistantMessage):
                    for block in message.content:
                        if isinstance(block, ToolUseBlock):
                            if block.name == "Write":
                                file_path = block.input.get("file_path", "")
                                print(f"🔨 Creating: {file_path}")
                        elif isinstance(block, ToolResultBlock):
                            print("✅ Completed tool execution")
                        elif isinstance(block, TextBlock):
                            print(f"💭 Claude says: {block.text[:100]}...")

                # Check if we've received the final result
                if hasattr(message, "subtype") and message.subtype in ["success", "error"]:
                    print("\n🎯 Task completed!")
                    break

    with trio.fail_after(LIMIT):
        await monitor_progress()
    out = capsys.readouterr().out
    assert all(f"🔨 Creating: {p}" in out for p in names)
    assert "💭 Claude says: Both files created...." in out
    assert out.rstrip().endswith("🎯 Task completed!")
    assert all(p.read_text() == "# sort\n" for p in names)


# ====================================================================== Structured outputs
# structured-outputs, "Quick start": output_format with a JSON schema; the validated data is
# in ResultMessage.structured_output.


async def test_structured_outputs_quick_start(
    claude_env: ClaudeTestEnv,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = {"company_name": "Anthropic", "founded_year": 2021, "headquarters": "San Francisco"}
    use_env(
        claude_env,
        monkeypatch,
        "so",
        [
            Turn([ToolUse("StructuredOutput", data)], match=Match(tool_offered="StructuredOutput")),
            Turn("Done.", match=Match(has_tool_result=True)),
        ],
    )
    found: list[Any] = []

    async def main() -> None:
        schema = {
            "type": "object",
            "properties": {
                "company_name": {"type": "string"},
                "founded_year": {"type": "number"},
                "headquarters": {"type": "string"},
            },
            "required": ["company_name"],
        }

        async for message in query(
            prompt="Research Anthropic and provide key company information",
            options=ClaudeAgentOptions(output_format={"type": "json_schema", "schema": schema}),
        ):
            if isinstance(message, ResultMessage) and message.structured_output:
                print(message.structured_output)
                found.append(message.structured_output)

    with trio.fail_after(LIMIT):
        await main()
    assert found == [data]
    assert str(data) in capsys.readouterr().out


# ====================================================================== Streaming output
# streaming-output, "Stream text responses": include_partial_messages=True; text deltas from
# StreamEvent content_block_delta events are printed as they arrive.


async def test_streaming_output_text_deltas(
    claude_env: ClaudeTestEnv,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    answer = "Your project has three files: a.py, b.py and README.md."
    use_env(claude_env, monkeypatch, "partial", [Turn(answer, chunk_size=5)])
    deltas: list[str] = []

    async def main() -> None:
        options = ClaudeAgentOptions(include_partial_messages=True)

        async for message in query(prompt="List the files in my project", options=options):
            if isinstance(message, StreamEvent):
                event = message.event
                if event.get("type") == "content_block_delta":
                    delta = event.get("delta", {})
                    if delta.get("type") == "text_delta":
                        deltas.append(delta.get("text", ""))
                        print(delta.get("text", ""), end="", flush=True)

    with trio.fail_after(LIMIT):
        await main()
    assert len(deltas) > 1
    assert capsys.readouterr().out == answer


# ====================================================================== Cost tracking
# cost-tracking, "Get the total cost of a query" and "Track per-step and per-model usage":
# per-step usage deduplicated by message_id (parallel tool calls share one), model_usage per
# model, total_cost_usd on the result.


async def test_cost_tracking_total_and_deduplicated_steps(
    claude_env: ClaudeTestEnv,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    project = use_env(claude_env, monkeypatch, "cost", [])
    (project / "a.txt").write_text("a\n")
    (project / "b.txt").write_text("b\n")
    claude_env.model.set_script(
        [
            Turn(
                [
                    ToolUse("Read", {"file_path": str(project / "a.txt")}),
                    ToolUse("Read", {"file_path": str(project / "b.txt")}),
                ],
                usage=Usage(input_tokens=100, output_tokens=20),
            ),
            Turn(
                "Two small files.",
                match=Match(has_tool_result=True),
                usage=Usage(input_tokens=300, output_tokens=10),
            ),
        ],
        session="cost",
    )
    totals: dict[str, Any] = {}

    async def main() -> None:
        seen_ids: set[str] = set()
        total_input_tokens = 0
        total_output_tokens = 0
        assistant_messages = 0

        async for message in query(
            prompt="Summarize this project",
            options=ClaudeAgentOptions(allowed_tools=["Read"]),
        ):
            if isinstance(message, AssistantMessage) and message.usage:
                assistant_messages += 1
                # Parallel tool calls share one message_id: count each step once
                if message.message_id not in seen_ids:
                    seen_ids.add(message.message_id)  # type: ignore[arg-type]
                    total_input_tokens += message.usage.get("input_tokens", 0)
                    total_output_tokens += message.usage.get("output_tokens", 0)
            if isinstance(message, ResultMessage):
                print(f"Total cost: ${message.total_cost_usd or 0}")
                for model_name, usage in (message.model_usage or {}).items():
                    print(f"{model_name}: ${usage['costUSD']:.4f}")
        totals.update(
            steps=len(seen_ids),
            messages=assistant_messages,
            input=total_input_tokens,
            output=total_output_tokens,
        )

    with trio.fail_after(LIMIT):
        await main()
    out = capsys.readouterr().out
    assert totals["steps"] == 2 and totals["messages"] >= 3
    assert totals["input"] == 400
    assert "Total cost: $0." in out and "Total cost: $0\n" not in out
    assert ": $0." in out.split("Total cost:")[1]


# ====================================================================== System prompts
# modifying-system-prompts, "Method 1: CLAUDE.md files": the claude_code preset with
# setting_sources=["project"] loads the project's CLAUDE.md.


async def test_system_prompt_claude_md_with_project_settings(
    claude_env: ClaudeTestEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = use_env(claude_env, monkeypatch, "claude-md", [Turn("Added the component.")])
    (project / "CLAUDE.md").write_text(
        "# Project Guidelines\n\n- Use TypeScript strict mode marker-ts-strict-1234\n"
    )
    messages: list[str] = []

    async def main() -> None:
        async for message in query(
            prompt="Add a new React component for user profiles",
            options=ClaudeAgentOptions(
                system_prompt={
                    "type": "preset",
                    "preset": "claude_code",  # Use Claude Code's system prompt
                },
                setting_sources=["project"],  # Required to load CLAUDE.md from project
                allowed_tools=["Read", "Write", "Edit"],
            ),
        ):
            messages.append(type(message).__name__)

    with trio.fail_after(LIMIT):
        await main()
    assert messages[-1] == "ResultMessage"
    assert "marker-ts-strict-1234" in sent(claude_env, "claude-md")


# modifying-system-prompts, "Method 3: Using systemPrompt with append": the claude_code preset
# plus an appended instruction.


async def test_system_prompt_preset_with_append(
    claude_env: ClaudeTestEnv, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_env(claude_env, monkeypatch, "append", [Turn("def fib(n: int) -> int: ...")])

    async def main() -> None:
        messages = []

        async for message in query(
            prompt="Help me write a Python function to calculate fibonacci numbers",
            options=ClaudeAgentOptions(
                system_prompt={
                    "type": "preset",
                    "preset": "claude_code",
                    "append": "Always include detailed docstrings and type hints in Python code.",
                }
            ),
        ):
            messages.append(message)
            if isinstance(message, AssistantMessage):
                print(message.content)

    with trio.fail_after(LIMIT):
        await main()
    (request,) = claude_env.model.turn_requests("append")
    assert "Always include detailed docstrings and type hints in Python code." in (
        request.system_text
    )
    assert "Claude Code" in request.system_text


# ====================================================================== Slash commands
# slash-commands, "Discovering Available Slash Commands": the init message's
# data["slash_commands"] lists built-ins and the project's custom commands.
# slash-commands, "Creating Custom Slash Commands" / "Using Custom Commands in the SDK": a
# .claude/commands/refactor.md with $ARGUMENTS, sent as "/refactor src/auth/login.py".


async def test_slash_commands_discover_and_custom_command(
    claude_env: ClaudeTestEnv,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    project = use_env(
        claude_env,
        monkeypatch,
        "slash",
        [
            Turn("Hello!", match=Match(last_user_text_contains="Hello Claude")),
            Turn("Refactored the login module.", repeat=True),
        ],
    )
    commands = project / ".claude" / "commands"
    commands.mkdir(parents=True)
    (commands / "refactor.md").write_text(
        "---\ndescription: Refactor code\n---\n\n"
        "Refactor the file $ARGUMENTS for readability (marker-refactor-77).\n"
    )
    found: list[Any] = []

    async def main() -> None:
        async for message in query(prompt="Hello Claude", options=ClaudeAgentOptions(max_turns=1)):
            if isinstance(message, SystemMessage) and message.subtype == "init":
                print("Available slash commands:", message.data["slash_commands"])
                found.extend(message.data["slash_commands"])

        # Use a custom command
        async for message in query(
            prompt="/refactor src/auth/login.py", options=ClaudeAgentOptions(max_turns=3)
        ):
            if isinstance(message, ResultMessage):
                print("Command executed:", message.result)

    with trio.fail_after(LIMIT):
        await main()
    assert "refactor" in found and "compact" in found
    out = capsys.readouterr().out
    assert "Command executed: Refactored the login module." in out
    body = sent(claude_env, "slash")
    assert "Refactor the file src/auth/login.py for readability (marker-refactor-77)" in body


# slash-commands, "/compact - Compact conversation history" (the Python sample as it reads on
# the older page): options given as the dict ``{"max_turns": 1}``, and ``message.type``. The
# page promises "Command executed: <result>" printed.


async def test_slash_commands_compact_sample_with_dict_options(
    claude_env: ClaudeTestEnv,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # KNOWN DIFFERENCE: docs/migration.md, "`options=` given as a dict": the sample fails on
    # both SDKs (the official one with an AttributeError, and its messages have no `.type`
    # either); ours says why before a CLI starts, and the page's code runs once the options are
    # made from the dict.
    use_env(claude_env, monkeypatch, "compact-dict", [Turn("Hi.", repeat=True)])

    with pytest.raises(ConfigurationError, match=r"ClaudeAgentOptions\(\*\*d\)"):
        async for _ in query(prompt="/compact", options={"max_turns": 1}):  # type: ignore[arg-type]
            pass

    async def main() -> None:
        async for message in query(prompt="/compact", options=ClaudeAgentOptions(max_turns=1)):
            if isinstance(message, ResultMessage):
                print("Command executed:", message.result)

    with trio.fail_after(LIMIT):
        await main()
    assert "Command executed:" in capsys.readouterr().out


# ====================================================================== Todo tracking
# todo-tracking, "Monitoring Todo Changes" (Python): TodoWrite tool_use blocks read from the
# stream; the page passes ``options={"max_turns": 15}`` (a dict).


async def test_todo_tracking_monitoring_todo_changes(
    claude_env: ClaudeTestEnv,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    todos = [
        {"content": "Profile renders", "status": "completed", "activeForm": "Profiling renders"},
        {"content": "Memoize lists", "status": "in_progress", "activeForm": "Memoizing lists"},
        {"content": "Split bundles", "status": "pending", "activeForm": "Splitting bundles"},
    ]
    use_env(
        claude_env,
        monkeypatch,
        "todo",
        [
            Turn([ToolUse("TodoWrite", {"todos": todos})]),
            Turn("Tracking progress.", match=Match(has_tool_result=True)),
        ],
    )

    # KNOWN DIFFERENCE: docs/migration.md, "`options=` given as a dict": refused with the
    # conversion to make (the official SDK fails with an AttributeError); made from the dict,
    # the page's code runs as it says.
    with pytest.raises(ConfigurationError, match=r"ClaudeAgentOptions\(\*\*d\)"):
        async for _ in query(prompt="go", options={"max_turns": 15}):  # type: ignore[arg-type]
            pass

    async def main() -> None:
        async for message in query(
            prompt="Optimize my React app performance and track progress with todos",
            options=ClaudeAgentOptions(max_turns=15),  # the dict {"max_turns": 15}, made options
        ):
            # Todo updates are reflected in the message stream
            if isinstance(message, AssistantMessage):
                for block in message.content:
                    if isinstance(block, ToolUseBlock) and block.name == "TodoWrite":
                        todos = block.input["todos"]

                        print("Todo Status Update:")
                        for i, todo in enumerate(todos):
                            status = (
                                "✅"
                                if todo["status"] == "completed"
                                else "🔧"
                                if todo["status"] == "in_progress"
                                else "❌"
                            )
                            print(f"{i + 1}. {status} {todo['content']}")

    with trio.fail_after(LIMIT):
        await main()
    out = capsys.readouterr().out
    assert (
        "Todo Status Update:\n1. ✅ Profile renders\n2. 🔧 Memoize lists\n3. ❌ Split bundles"
        in out
    )


# ====================================================================== Agent loop
# agent-loop, "Handle the result": the result subtype tells success from error_max_turns; the
# page (and slash-commands, "Sending Slash Commands") says that after yielding that final
# error result the SDK raises, because the CLI exits with a non-zero code ("catch Exception").


async def test_agent_loop_result_subtypes_max_turns(
    claude_env: ClaudeTestEnv,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    use_env(
        claude_env,
        monkeypatch,
        "maxturns",
        [Turn([ToolUse("Bash", {"command": "echo step"})], repeat=True)],
    )
    raised: list[BaseException] = []

    async def main() -> None:
        try:
            async for message in query(
                prompt="Keep running echo until done",
                options=ClaudeAgentOptions(allowed_tools=["Bash"], max_turns=2),
            ):
                if isinstance(message, ResultMessage):
                    if message.subtype == "success":
                        print(f"Done: {message.result}")
                    elif message.subtype == "error_max_turns":
                        print(f"Hit turn limit. Resume session {message.session_id} to continue.")
                    elif message.subtype == "error_max_budget_usd":
                        print("Hit budget limit.")
                    else:
                        print(f"Stopped: {message.subtype}")
        except Exception as e:  # the page: "In Python, catch Exception"
            raised.append(e)

    with trio.fail_after(LIMIT):
        await main()
    assert "Hit turn limit. Resume session " in capsys.readouterr().out
    assert len(raised) == 1 and isinstance(raised[0], Exception)


# ====================================================================== File checkpointing
# file-checkpointing, "Implement checkpointing" (the complete flow): enable checkpointing and
# replay-user-messages, capture the first UserMessage's uuid and the session id, then resume
# with an empty prompt and call rewind_files() inside the loop. The prose: modified files are
# restored to their content at the checkpoint.


async def test_file_checkpointing_rewind_after_resume(
    claude_env: ClaudeTestEnv,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    project = use_env(claude_env, monkeypatch, "rewind", [])
    auth = project / "auth.py"
    auth.write_text("def login():\n    return 'v1'\n")
    claude_env.model.set_script(
        [
            Turn([ToolUse("Read", {"file_path": str(auth)})]),
            Turn(
                [
                    ToolUse(
                        "Write",
                        {"file_path": str(auth), "content": "def login():\n    return 'v2'\n"},
                    )
                ],
                match=Match(has_tool_result=True, tool_result_contains="v1"),
            ),
            Turn("Refactored.", match=Match(has_tool_result=True)),
            Turn("ok", repeat=True),
        ],
        session="rewind",
    )

    async def main() -> None:
        # Step 1: Enable checkpointing
        options = ClaudeAgentOptions(
            enable_file_checkpointing=True,
            permission_mode="acceptEdits",  # Auto-accept file edits without prompting
            extra_args={
                "replay-user-messages": None
            },  # Required to receive checkpoint UUIDs in the response stream
        )

        checkpoint_id = None
        session_id = None

        # Run the query and capture checkpoint UUID and session ID
        async with ClaudeSDKClient(options) as client:
            await client.query("Refactor the authentication module")

            # Step 2: Capture checkpoint UUID from the first user message
            async for message in client.receive_response():
                if isinstance(message, UserMessage) and message.uuid and not checkpoint_id:
                    checkpoint_id = message.uuid
                if isinstance(message, ResultMessage) and not session_id:
                    session_id = message.session_id

        assert "'v2'" in auth.read_text()  # (the test's check: the edit happened)

        # Step 3: Later, rewind by resuming the session with an empty prompt
        if checkpoint_id and session_id:
            async with ClaudeSDKClient(
                ClaudeAgentOptions(enable_file_checkpointing=True, resume=session_id)
            ) as client:
                await client.query("")  # Empty prompt to open the connection
                async for message in client.receive_response():  # noqa: B007
                    await client.rewind_files(checkpoint_id)
                    break

            print(f"Rewound to checkpoint: {checkpoint_id}")

    with trio.fail_after(LIMIT):
        await main()
    assert "Rewound to checkpoint: " in capsys.readouterr().out
    assert auth.read_text() == "def login():\n    return 'v1'\n"
