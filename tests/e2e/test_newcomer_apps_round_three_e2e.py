"""Round three: more applications a newcomer writes from README.md, docs/*.md and examples/.

The first two rounds covered chat loops, guardrails, fan-out, pools, resumable sessions, the
blocking facade, telemetry, stores and teams. This round takes what they left: official-style
transports (docs/transports.md) driving the real CLI, ``ClaudeSDKClient`` used exactly as the
official SDK's documentation shows it, hooks of several events with matchers, ``can_use_tool``
with an updated input and permission updates, in-process MCP tools that return images and
errors, custom subagents, structured output, budgets and mid-session control requests. Every
app runs with the real pinned ``claude`` CLI against the fake model; a failing test records a
place where the docs (or the official SDK's documented behaviour) and the behaviour disagree.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import trio

import trio_claude as tc
from tests._helpers import require_cli
from trio_claude.testing import ClaudeTestEnv, Match, ToolUse, Turn, Usage

if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup

# A 1x1 transparent PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


def prompt_has(text: str) -> Match:
    # docs/testing.md, "Recipes": the newest prompt only.
    return Match(predicate=lambda r: text in r.last_user_text.rpartition("\n")[2])


def all_texts(messages: Any) -> str:
    return "".join(
        block.text
        for m in messages
        if isinstance(m, tc.AssistantMessage)
        for block in m.content
        if isinstance(block, tc.TextBlock)
    )


# ---- app 1: an official-style transport (docs/transports.md) --------------------------------


class LocalCLITransport(tc.Transport):
    """The official transport interface, run against a local CLI process.

    What a newcomer porting an official "remote CLI" transport writes: the transport owns the
    command line (docs/transports.md: "The transport owns the command line"), so it starts the
    CLI with the stream-json flags itself.
    """

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path) -> None:
        self.argv = argv
        self.env = env
        self.cwd = cwd
        self.proc: trio.Process | None = None
        self.written: list[dict[str, Any]] = []
        self.read: list[dict[str, Any]] = []
        self.closed = 0
        self.ended = 0

    async def connect(self) -> None:
        self.proc = await trio.lowlevel.open_process(
            self.argv, stdin=-1, stdout=-1, env=self.env, cwd=str(self.cwd)
        )

    async def write(self, data: str) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.written.append(json.loads(data))
        await self.proc.stdin.send_all(data.encode())

    async def read_messages(self) -> AsyncIterator[dict[str, Any]]:
        assert self.proc is not None and self.proc.stdout is not None
        buffer = b""
        async for chunk in self.proc.stdout:
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                if line.strip():
                    message = json.loads(line)
                    self.read.append(message)
                    yield message

    async def end_input(self) -> None:
        self.ended += 1
        assert self.proc is not None and self.proc.stdin is not None
        await self.proc.stdin.aclose()

    async def close(self) -> None:
        self.closed += 1
        proc = self.proc
        if proc is None:
            return
        if proc.stdin is not None:
            await proc.stdin.aclose()
        with trio.move_on_after(2):
            await proc.wait()
        if proc.returncode is None:
            proc.kill()
            await proc.wait()

    def is_ready(self) -> bool:
        return self.proc is not None


def local_transport(
    claude_env: ClaudeTestEnv, options: tc.ClaudeAgentOptions, *flags: str
) -> LocalCLITransport:
    argv = [
        require_cli(),
        "--output-format",
        "stream-json",
        "--verbose",
        "--input-format",
        "stream-json",
        *flags,
    ]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **options.env}
    return LocalCLITransport(argv, env, claude_env.project)


async def test_official_style_transport_runs_the_real_cli_with_callbacks_and_hooks(
    claude_env: ClaudeTestEnv,
) -> None:
    # docs/transports.md "Official-style transports": initialize (with hooks), the prompts,
    # can_use_tool and hooks go through write()/read_messages(); the iterator form of query().
    target = claude_env.project / "hello.txt"
    script = [
        Turn([ToolUse("Write", {"file_path": str(target), "content": "hi\n"})]),
        Turn("wrote it: {last_tool_result}", match=Match(has_tool_result=True)),
    ]
    asked: list[str] = []
    hooked: list[str] = []

    async def allow(tool: str, tool_input: dict[str, Any], context: Any) -> Any:
        asked.append(tool)
        return tc.PermissionResultAllow()

    async def audit(input: Any, tool_use_id: str | None, context: Any) -> Any:
        hooked.append(input["tool_name"])
        return None

    options = claude_env.options(
        script,
        name="official-transport",
        can_use_tool=allow,
        hooks={"PreToolUse": [tc.HookMatcher(matcher="Write", hooks=[audit])]},
    )
    transport = local_transport(claude_env, options, "--permission-prompt-tool", "stdio")

    async def prompt() -> AsyncIterator[dict[str, Any]]:
        yield {"type": "user", "message": {"role": "user", "content": "write hello.txt"}}

    seen: list[Any] = []
    with trio.fail_after(60):
        async for message in tc.query(prompt=prompt(), options=options, transport=transport):
            seen.append(message)
    result = seen[-1]
    assert isinstance(result, tc.ResultMessage), seen
    assert result.subtype == "success"
    assert result.result is not None and result.result.startswith("wrote it:")
    assert asked == ["Write"]
    assert hooked == ["Write"]
    assert target.read_text() == "hi\n"
    assert transport.written[0]["type"] == "control_request"
    assert transport.written[0]["request"]["subtype"] == "initialize"
    assert transport.closed == 1
    assert transport.proc is not None and transport.proc.returncode is not None
    assert not claude_env.leaked_processes(settle=2)


async def test_official_style_transport_with_the_client_and_an_in_process_mcp_tool(
    claude_env: ClaudeTestEnv,
) -> None:
    # docs/transports.md: "ClaudeSDKClient(options, transport=...)"; in-process MCP servers
    # (create_sdk_mcp_server) go through the transport. The transport owns the command line,
    # so it names the SDK server in --mcp-config itself, as the official SDK's users do.
    @tc.tool("mul", "Multiplies two numbers", {"a": int, "b": int})
    async def mul(args: dict[str, Any]) -> dict[str, Any]:
        return {"content": [{"type": "text", "text": str(args["a"] * args["b"])}]}

    script = [
        Turn([ToolUse("mcp__calc__mul", {"a": 6, "b": 7})]),
        Turn("product: {last_tool_result}", match=Match(has_tool_result=True)),
        Turn("second: {last_user_text}", match=prompt_has("again")),
    ]
    options = claude_env.options(
        script,
        name="official-client",
        mcp_servers={"calc": tc.create_sdk_mcp_server("calc", tools=[mul])},
    )
    config = json.dumps({"mcpServers": {"calc": {"type": "sdk", "name": "calc"}}})
    transport = local_transport(
        claude_env, options, "--mcp-config", config, "--allowedTools", "mcp__calc__mul"
    )
    with trio.fail_after(60):
        async with tc.ClaudeSDKClient(options, transport=transport) as client:
            await client.query("multiply 6 by 7")
            first = [m async for m in client.receive_response()]
            await client.query("again")
            second = [m async for m in client.receive_response()]
            status = await client.get_mcp_status()
    assert isinstance(first[-1], tc.ResultMessage) and first[-1].result == "product: 42"
    assert isinstance(second[-1], tc.ResultMessage) and second[-1].result == "second: again"
    assert {s["name"]: s["status"] for s in status["mcpServers"]}.get("calc") == "connected"
    assert transport.closed == 1
    assert not claude_env.leaked_processes(settle=2)


async def test_official_style_transport_whose_connect_fails_raises_its_own_error(
    claude_env: ClaudeTestEnv,
) -> None:
    # docs/transports.md: "What connect() raises comes out as it is ... never in an exception
    # group." Official code catches it by its own type.
    class Unreachable(LocalCLITransport):
        async def connect(self) -> None:
            raise ConnectionRefusedError("agent box is down")

    options = claude_env.options([Turn("never")], name="down")
    transport = Unreachable([], {}, claude_env.project)
    with trio.fail_after(30):
        try:
            async with tc.ClaudeSDKClient(options, transport=transport) as client:
                await client.query("hi")
        except ConnectionRefusedError as exc:
            assert "agent box is down" in str(exc)
        else:
            raise AssertionError("connect() failed but the client opened")


# ---- app 2: ClaudeSDKClient exactly as the official docs show it ------------------------------


async def test_client_connect_query_receive_disconnect_by_hand(claude_env: ClaudeTestEnv) -> None:
    # The official "ClaudeSDKClient" page: client = ClaudeSDKClient(options); await
    # client.connect(); await client.query(...); async for m in client.receive_response();
    # await client.disconnect() -- from one task (docs/migration.md).
    @tc.tool("ping", "Pings", None)
    async def ping(args: dict[str, Any]) -> str:
        return "pong"

    script = [Turn("first answer", match=prompt_has("one")), Turn("second answer")]
    options = claude_env.options(
        script,
        name="by-hand",
        mcp_servers={"util": tc.create_sdk_mcp_server("util", tools=[ping])},
    )
    client = tc.ClaudeSDKClient(options=options)
    with trio.fail_after(60):
        await client.connect()
        try:
            info = await client.get_server_info()
            assert info is not None
            await client.query("one")
            answers = [m async for m in client.receive_response()]
            await client.query("two")
            more = [m async for m in client.receive_response()]
            status = await client.get_mcp_status()
            usage = await client.get_context_usage()
        finally:
            await client.disconnect()
    assert all_texts(answers) == "first answer"
    assert all_texts(more) == "second answer"
    assert isinstance(more[-1], tc.ResultMessage)
    assert [s["name"] for s in status["mcpServers"] if s["status"] == "connected"] == ["util"]
    assert isinstance(usage, dict) and "totalTokens" in usage
    # After disconnect() the client says it is not connected, as the official one does.
    try:
        await client.query("three")
    except tc.CLIConnectionError:
        pass
    else:
        raise AssertionError("query() after disconnect() must raise CLIConnectionError")
    assert not claude_env.leaked_processes(settle=2)


async def test_client_file_checkpointing_rewind_as_the_official_docs_show(
    claude_env: ClaudeTestEnv,
) -> None:
    # The official "File checkpointing" guide: enable_file_checkpointing, permission_mode
    # "acceptEdits", extra_args={"replay-user-messages": None}; the first UserMessage's uuid is
    # the checkpoint; client.rewind_files(checkpoint_id) restores the files.
    target = claude_env.project / "auth.py"
    target.write_text("def login(): return False\n")
    script = [
        Turn([ToolUse("Write", {"file_path": str(target), "content": "def login(): ...\n"})]),
        Turn("refactored", match=Match(has_tool_result=True)),
    ]
    options = claude_env.options(
        script,
        name="ckpt",
        enable_file_checkpointing=True,
        permission_mode="acceptEdits",
        extra_args={"replay-user-messages": None},
    )
    checkpoint_id: str | None = None
    with trio.fail_after(60):
        async with tc.ClaudeSDKClient(options) as client:
            await client.query("Refactor the authentication module")
            async for message in client.receive_response():
                if isinstance(message, tc.UserMessage) and message.uuid and not checkpoint_id:
                    checkpoint_id = message.uuid
            assert target.read_text() == "def login(): ...\n"
            assert checkpoint_id is not None
            await client.rewind_files(checkpoint_id)
    assert target.read_text() == "def login(): return False\n"


async def test_client_set_permission_mode_mid_session_stops_the_prompts(
    claude_env: ClaudeTestEnv,
) -> None:
    # docs/control.md: set_permission_mode(mode) "returns the mode now in effect"; the
    # official client's set_permission_mode("acceptEdits"): edits are then approved without
    # asking can_use_tool (docs/permissions.md "When it is called").
    first = claude_env.project / "a.txt"
    second = claude_env.project / "b.txt"
    script = [
        Turn([ToolUse("Write", {"file_path": str(first), "content": "a"})], match=prompt_has("A")),
        Turn("A: {last_tool_result}", match=Match(has_tool_result=True)),
        Turn([ToolUse("Write", {"file_path": str(second), "content": "b"})], match=prompt_has("B")),
        Turn("B: {last_tool_result}", match=Match(has_tool_result=True)),
    ]
    asked: list[str] = []

    async def deny_all(tool: str, tool_input: dict[str, Any], context: Any) -> Any:
        asked.append(tool_input.get("file_path", ""))
        return tc.PermissionResultDeny(message="ask a human")

    options = claude_env.options(script, name="mode", can_use_tool=deny_all)
    with trio.fail_after(60):
        async with tc.ClaudeSDKClient(options) as client:
            await client.query("A")
            a = [m async for m in client.receive_response()]
            await client.set_permission_mode("acceptEdits")
            in_effect = await client.session.set_permission_mode("acceptEdits")
            await client.query("B")
            b = [m async for m in client.receive_response()]
    assert asked == [str(first)]
    assert not first.exists()
    assert second.read_text() == "b"
    assert in_effect == "acceptEdits"
    assert isinstance(a[-1], tc.ResultMessage) and "ask a human" in str(a[-1].result)
    assert isinstance(b[-1], tc.ResultMessage) and b[-1].subtype == "success"


# ---- app 3: hooks of several events ------------------------------------------------------------


async def test_user_prompt_submit_context_reaches_the_model_and_stop_sees_the_answer(
    claude_env: ClaudeTestEnv,
) -> None:
    # docs/hooks.md: UserPromptSubmit -> additional_context; Stop input has
    # last_assistant_message. A ticketing bot adds the customer's tier to every prompt.
    stops: list[tc.StopHookInput] = []
    prompts: list[str] = []

    async def add_tier(input: tc.UserPromptSubmitHookInput, tool_use_id: Any, ctx: Any) -> Any:
        prompts.append(input.prompt)
        return tc.UserPromptSubmitHookSpecificOutput(additional_context="customer tier: GOLD")

    async def on_stop(input: tc.StopHookInput, tool_use_id: Any, ctx: Any) -> Any:
        stops.append(input)
        return None

    script = [Turn("tier is {last_user_text}")]
    options = claude_env.options(
        script,
        name="ups",
        hooks={
            "UserPromptSubmit": [tc.HookMatcher(hooks=[add_tier])],
            "Stop": [tc.HookMatcher(hooks=[on_stop])],
        },
    )
    with trio.fail_after(60):
        async with tc.open_session(options) as session:
            turn = await session.run("my order is late")
    assert prompts == ["my order is late"]
    request = claude_env.model.turn_requests("ups")[0]
    assert "customer tier: GOLD" in json.dumps(request.messages)
    assert len(stops) == 1
    assert isinstance(stops[0], tc.StopHookInput)
    assert stops[0].stop_hook_active is False
    assert stops[0].last_assistant_message == turn.text


async def test_pre_tool_use_ask_sends_an_allowed_tool_to_can_use_tool(
    claude_env: ClaudeTestEnv,
) -> None:
    # docs/hooks.md: PreToolUse permission_decision "ask"; docs/permissions.md: "A PreToolUse
    # hook runs first; its allow/deny skips the callback" -- "ask" makes the CLI ask, so the
    # callback decides even for a tool allowed_tools approves.
    target = claude_env.project / "deploy.log"
    script = [
        Turn([ToolUse("Bash", {"command": f"echo deployed > {target}"})]),
        Turn("done: {last_tool_result}", match=Match(has_tool_result=True)),
    ]
    asked: list[str] = []

    async def ask_for_deploys(input: tc.PreToolUseHookInput, tool_use_id: Any, ctx: Any) -> Any:
        if "deploy" in input.tool_input.get("command", ""):
            return tc.PreToolUseHookSpecificOutput(
                permission_decision="ask", permission_decision_reason="deploys need a human"
            )
        return None

    async def human(tool: str, tool_input: dict[str, Any], context: Any) -> Any:
        asked.append(tool_input["command"])
        return tc.PermissionResultDeny(message="the human said no")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tc.CanUseToolShadowedWarning)
        options = claude_env.options(
            script,
            name="ask",
            allowed_tools=["Bash"],
            can_use_tool=human,
            hooks={"PreToolUse": [tc.HookMatcher(matcher="Bash", hooks=[ask_for_deploys])]},
        )
        with trio.fail_after(60):
            async with tc.open_session(options) as session:
                turn = await session.run("deploy it")
    assert len(asked) == 1 and "deployed" in asked[0]
    assert not target.exists()
    assert "the human said no" in turn.text


async def test_pre_tool_use_updated_input_rewrites_the_command(claude_env: ClaudeTestEnv) -> None:
    # docs/hooks.md: PreToolUse updated_input (with permission_decision "allow") -- a hook that
    # pins every `ls` to the project's src/ directory.
    (claude_env.project / "src").mkdir()
    (claude_env.project / "src" / "only-here.py").write_text("")
    script = [
        Turn([ToolUse("Bash", {"command": "ls /"})]),
        Turn("listing: {last_tool_result}", match=Match(has_tool_result=True)),
    ]

    async def pin(input: tc.PreToolUseHookInput, tool_use_id: Any, ctx: Any) -> Any:
        return tc.PreToolUseHookSpecificOutput(
            permission_decision="allow",
            updated_input={**input.tool_input, "command": "ls src"},
        )

    options = claude_env.options(
        script, name="rewrite", hooks={"PreToolUse": [tc.HookMatcher(matcher="Bash", hooks=[pin])]}
    )
    with trio.fail_after(60):
        async with tc.open_session(options) as session:
            turn = await session.run("list files")
    assert turn.text == "listing: only-here.py"


async def test_post_tool_use_regex_matcher_adds_context_for_edits_only(
    claude_env: ClaudeTestEnv,
) -> None:
    # docs/hooks.md "Registration": "Write|Edit" matches exact names; PostToolUse's
    # additional_context reaches the model with the tool's result; a Bash call does not fire it.
    target = claude_env.project / "notes.md"
    script = [
        Turn(
            [
                ToolUse("Bash", {"command": "echo probing"}),
                ToolUse("Write", {"file_path": str(target), "content": "# notes\n"}),
            ]
        ),
        Turn("ok", match=Match(has_tool_result=True)),
    ]
    fired: list[tuple[str, Any]] = []

    async def lint(input: tc.PostToolUseHookInput, tool_use_id: Any, ctx: Any) -> Any:
        fired.append((input.tool_name, tool_use_id))
        return tc.PostToolUseHookSpecificOutput(additional_context="LINT: notes.md is clean")

    options = claude_env.options(
        script,
        name="post",
        permission_mode="acceptEdits",
        allowed_tools=["Bash"],
        hooks={"PostToolUse": [tc.HookMatcher(matcher="Write|Edit", hooks=[lint])]},
    )
    with trio.fail_after(60):
        async with tc.open_session(options) as session:
            turn = await session.run("probe and write notes")
    assert turn.text == "ok"
    assert [name for name, _ in fired] == ["Write"]
    assert fired[0][1] and str(fired[0][1]).startswith("toolu_")
    followup = claude_env.model.turn_requests("post")[-1]
    assert "LINT: notes.md is clean" in json.dumps(followup.messages)


async def test_custom_subagent_gets_only_its_tools_and_subagent_stop_fires(
    claude_env: ClaudeTestEnv,
) -> None:
    # docs/options.md `agents`: AgentDefinition(description, prompt, tools); docs/hooks.md
    # SubagentStop (agent_type set). The subagent's model request offers only its tools and
    # carries its prompt. The CLI runs the agent as a background job, so the app uses the
    # official iterator form, which (getting-started.md "One-shot") yields "every message until
    # the CLI exits, background turns included": the last result is the main agent's answer
    # after the job.
    stops: list[Any] = []

    async def on_subagent_stop(input: Any, tool_use_id: Any, ctx: Any) -> Any:
        stops.append(input)
        return None

    main = Match(subagent=False)
    script = [
        Turn(
            [
                ToolUse(
                    "Agent",
                    {
                        "description": "read the readme",
                        "prompt": "summarise README",
                        "subagent_type": "reader",
                    },
                )
            ],
            match=Match(subagent=False, has_tool_result=False),
        ),
        Turn("the readme says hi", match=Match(subagent=True)),
        Turn("main: waiting for the reader", match=main),
        Turn("main: the reader is done", match=main),
    ]
    options = claude_env.options(
        script,
        name="agents",
        agents={
            "reader": tc.AgentDefinition(
                description="Reads files", prompt="You are READER-7.", tools=["Read", "Grep"]
            )
        },
        hooks={"SubagentStop": [tc.HookMatcher(hooks=[on_subagent_stop])]},
    )
    results: list[tc.ResultMessage] = []
    with trio.fail_after(60):
        async for message in tc.query(prompt="summarise the readme", options=options):
            if isinstance(message, tc.ResultMessage):
                results.append(message)
    (sub,) = [r for r in claude_env.model.turn_requests("agents") if r.is_subagent]
    assert "READER-7" in sub.system_text
    assert "Read" in sub.tool_names
    assert set(sub.tool_names) <= {"Read", "Grep"}, sub.tool_names
    assert [r.result for r in results] == [
        "main: waiting for the reader",
        "main: the reader is done",
    ]
    assert "the readme says hi" in str(claude_env.model.turn_requests("agents")[-1].messages)
    assert len(stops) == 1
    assert isinstance(stops[0], tc.SubagentStopHookInput)
    assert stops[0].agent_type == "reader"


async def test_permission_request_hook_and_a_slow_callback_the_hook_wins(
    claude_env: ClaudeTestEnv,
) -> None:
    # docs/hooks.md: PermissionRequest's specific output is `decision`:
    # PermissionResultAllow / PermissionResultDeny. A hook approves writes under docs/; the
    # human-in-the-loop callback is slow. Claude Code 2.1.332 asks both at once and takes the
    # first answer, withdrawing the other: the hook's allow wins and the callback is cancelled
    # (docs/permissions.md "Deadlines and cancellation").
    (claude_env.project / "docs").mkdir()
    ok = claude_env.project / "docs" / "guide.md"
    script = [
        Turn([ToolUse("Write", {"file_path": str(ok), "content": "# guide\n"})]),
        Turn("done: {last_tool_result}", match=Match(has_tool_result=True)),
    ]
    log: list[str] = []

    async def docs_only(input: tc.PermissionRequestHookInput, tool_use_id: Any, ctx: Any) -> Any:
        log.append("hook")
        if "/docs/" in input.tool_input["file_path"]:
            return tc.PermissionRequestHookSpecificOutput(decision=tc.PermissionResultAllow())
        return None

    async def slow_human(tool: str, tool_input: dict[str, Any], context: Any) -> Any:
        log.append("asked")
        try:
            await trio.sleep(5)
        except trio.Cancelled:
            log.append("withdrawn")
            raise
        return tc.PermissionResultDeny(message="no")

    options = claude_env.options(
        script,
        name="permreq",
        can_use_tool=slow_human,
        hooks={"PermissionRequest": [tc.HookMatcher(matcher="Write", hooks=[docs_only])]},
    )
    with trio.fail_after(60):
        async with tc.open_session(options) as session:
            turn = await session.run("write the guide")
    assert sorted(log) == ["asked", "hook", "withdrawn"]
    assert ok.read_text() == "# guide\n"
    assert turn.text.startswith("done:")


# ---- app 4: can_use_tool with an updated input and permission updates --------------------------


async def test_policy_redacts_the_input_and_adds_a_session_rule(claude_env: ClaudeTestEnv) -> None:
    # docs/permissions.md "The answer": PermissionResultAllow(updated_input=...) runs the tool
    # with that input; updated_permissions=[PermissionUpdate.add_rules(...)] makes the CLI stop
    # asking for the rest of the session.
    first = claude_env.project / "config.env"
    second = claude_env.project / "other.env"
    script = [
        Turn([ToolUse("Write", {"file_path": str(first), "content": "TOKEN=hunter2\n"})]),
        Turn(
            [ToolUse("Write", {"file_path": str(second), "content": "TOKEN=hunter3\n"})],
            match=Match(has_tool_result=True, tool_result_contains="config.env"),
        ),
        Turn("both written", match=Match(has_tool_result=True)),
    ]
    asked: list[dict[str, Any]] = []

    async def redact(tool: str, tool_input: dict[str, Any], context: Any) -> Any:
        asked.append(dict(tool_input))
        return tc.PermissionResultAllow(
            updated_input={**tool_input, "content": "TOKEN=<redacted>\n"},
            updated_permissions=[
                tc.PermissionUpdate.add_rules(
                    [tc.PermissionRuleValue("Write")], behavior="allow", destination="session"
                )
            ],
        )

    options = claude_env.options(script, name="redact", can_use_tool=redact)
    with trio.fail_after(60):
        async with tc.open_session(options) as session:
            turn = await session.run("store the tokens")
            rules = await session.list_permission_rules()
    assert turn.text == "both written"
    assert len(asked) == 1 and asked[0]["content"] == "TOKEN=hunter2\n"
    assert first.read_text() == "TOKEN=<redacted>\n"
    assert second.read_text() == "TOKEN=hunter3\n"  # allowed by the rule, not asked
    assert "Write" in json.dumps(rules.raw)


# ---- app 5: in-process MCP tools that return images and errors ---------------------------------


async def test_mcp_tools_return_an_image_an_error_result_and_a_raised_error(
    claude_env: ClaudeTestEnv,
) -> None:
    # docs/mcp-tools.md "Results": ImageContent(data=bytes, mime_type=...), ToolResult(...,
    # is_error=True); "What the model sees when things go wrong": a handler that raises ->
    # str(exception), as an isError result.
    @tc.tool("chart", "Renders a chart", {"metric": str})
    async def chart(args: dict[str, Any]) -> Any:
        return [
            tc.TextContent(text=f"chart of {args['metric']}"),
            tc.ImageContent(data=PNG, mime_type="image/png"),
        ]

    @tc.tool("query", "Queries the db", {"sql": str})
    async def query(args: dict[str, Any]) -> Any:
        return tc.ToolResult(content=[tc.TextContent(text="db is read-only")], is_error=True)

    @tc.tool("lookup", "Looks up a user", {"user_id": int})
    async def lookup(args: dict[str, Any]) -> Any:
        raise LookupError(f"no user {args['user_id']}")

    server = tc.create_sdk_mcp_server("ops", tools=[chart, query, lookup])
    script = [
        Turn([ToolUse("mcp__ops__chart", {"metric": "latency"})], match=prompt_has("chart")),
        Turn("saw the chart", match=Match(has_tool_result=True, tool_result_contains="chart of")),
        Turn([ToolUse("mcp__ops__query", {"sql": "DROP TABLE x"})], match=prompt_has("drop")),
        Turn("query failed", match=Match(has_tool_result=True, tool_result_contains="read-only")),
        Turn([ToolUse("mcp__ops__lookup", {"user_id": 7})], match=prompt_has("who")),
        Turn("lookup failed: {last_tool_result}", match=Match(has_tool_result=True)),
    ]
    options = claude_env.options(
        script,
        name="ops",
        mcp_servers={"ops": server},
        allowed_tools=["mcp__ops__chart", "mcp__ops__query", "mcp__ops__lookup"],
    )
    with trio.fail_after(60):
        async with tc.open_session(options) as session:
            one = await session.run("chart the latency")
            two = await session.run("drop the table")
            three = await session.run("who is user 7")
    assert (one.text, two.text) == ("saw the chart", "query failed")
    # the CLI appends a hint about deferred tools (docs/mcp-tools.md "Deferred tools")
    assert three.text.startswith("lookup failed: no user 7")
    requests = {r.turn_index: r for r in claude_env.model.turn_requests("ops")}
    (image_result,) = requests[1].tool_results
    kinds = [item.get("type") for item in image_result["content"]]
    assert "image" in kinds, image_result
    (image,) = [item for item in image_result["content"] if item.get("type") == "image"]
    assert image["source"]["media_type"] == "image/png"
    assert base64.b64decode(image["source"]["data"]) == PNG
    (error_result,) = requests[3].tool_results
    assert error_result.get("is_error") is True
    (raised_result,) = requests[5].tool_results
    assert raised_result.get("is_error") is True
    # The app sees the failures in its own messages too.
    results = [
        b
        for m in (*two.messages, *three.messages)
        if isinstance(m, tc.UserMessage) and not isinstance(m.content, str)
        for b in m.content
        if isinstance(b, tc.ToolResultBlock)
    ]
    assert [b.is_error for b in results] == [True, True]


# ---- app 6: budgets, structured output, background tasks ---------------------------------------


async def test_max_budget_usd_denies_the_tool_queued_by_the_answer_that_spent_it(
    claude_env: ClaudeTestEnv,
) -> None:
    # getting-started.md: "With max_budget_usd, both forms, ask() and ClaudeSDKClient deny any
    # tool the CLI would still start once the budget is spent". The answer that crosses the
    # budget also asks for a Bash tool: it must not run; the result is error_max_budget_usd.
    marker = claude_env.project / "ran.txt"
    script = [
        Turn(
            [ToolUse("Bash", {"command": f"touch {marker}"})],
            usage=Usage(input_tokens=2_000_000, output_tokens=1000),
        ),
        Turn("after the tool", match=Match(has_tool_result=True)),
    ]
    options = claude_env.options(script, name="budget", max_budget_usd=0.05, allowed_tools=["Bash"])
    seen: list[Any] = []
    with trio.fail_after(60):
        async with tc.ClaudeSDKClient(options) as client:
            await client.query("run the expensive thing")
            async for message in client.receive_response():
                seen.append(message)
    result = seen[-1]
    assert isinstance(result, tc.ResultMessage)
    assert result.subtype == "error_max_budget_usd", result.subtype
    assert result.total_cost_usd is not None and result.total_cost_usd > 0.05
    assert not marker.exists(), "a tool ran after the budget was spent"


async def test_structured_output_retried_after_a_schema_violation(
    claude_env: ClaudeTestEnv,
) -> None:
    # docs/options.md `output_format`: {"type": "json_schema", "schema": ...}. The model's
    # first StructuredOutput call breaks the schema; the CLI tells it so, the second one is
    # delivered as ResultMessage.structured_output (official iterator form).
    schema = {
        "type": "object",
        "properties": {"answer": {"type": "integer"}, "reason": {"type": "string"}},
        "required": ["answer", "reason"],
        "additionalProperties": False,
    }
    script = [
        Turn([ToolUse("StructuredOutput", {"answer": "four", "reason": "2+2"})]),
        Turn(
            [ToolUse("StructuredOutput", {"answer": 4, "reason": "2+2"})],
            match=Match(has_tool_result=True),
        ),
        Turn("done", match=Match(has_tool_result=True)),
    ]
    options = claude_env.options(
        script, name="structured", output_format={"type": "json_schema", "schema": schema}
    )
    results: list[tc.ResultMessage] = []
    with trio.fail_after(60):
        async for message in tc.query(prompt="What is 2+2?", options=options):
            if isinstance(message, tc.ResultMessage):
                results.append(message)
    (result,) = results
    assert result.subtype == "success"
    assert result.structured_output == {"answer": 4, "reason": "2+2"}
    second = claude_env.model.turn_requests("structured")[1]
    (complaint,) = second.tool_results
    assert complaint.get("is_error") is True


async def test_client_stops_a_background_command_with_stop_task(
    claude_env: ClaudeTestEnv,
) -> None:
    # docs/control.md: stop_task(task_id); the official client's stop_task(). A dev-server
    # helper starts `sleep` in the background, stops it and sees the task_notification say
    # "stopped"; leaving the client leaves no process behind.
    script = [
        Turn([ToolUse("Bash", {"command": "sleep 120", "run_in_background": True})]),
        Turn("server started", match=Match(has_tool_result=True)),
        Turn("noted the stop", repeat=True),
    ]
    options = claude_env.options(script, name="bg", allowed_tools=["Bash"])
    notes: list[tc.TaskNotificationMessage] = []
    with trio.fail_after(60):
        async with tc.ClaudeSDKClient(options) as client:
            await client.query("start the dev server in the background")
            started: list[tc.TaskStartedMessage] = []
            async for message in client.receive_response():
                if isinstance(message, tc.TaskStartedMessage):
                    started.append(message)
            (task,) = started
            assert task.task_id
            await client.stop_task(task.task_id)
            async for message in client.receive_messages():
                if isinstance(message, tc.TaskNotificationMessage):
                    notes.append(message)
                    break
    assert notes[0].task_id == task.task_id
    assert notes[0].status == "stopped"
    assert not claude_env.leaked_processes(settle=2)


# ---- app 7: more official-style transport paths -------------------------------------------------


async def test_official_style_transport_interrupt_goes_through_write(
    claude_env: ClaudeTestEnv,
) -> None:
    # docs/transports.md: "interrupt() and every control request" go through write(); the
    # official client's interrupt() during a long answer, then a new query.
    script = [
        Turn("slow " * 400, delay=0.01, match=prompt_has("long")),
        Turn("short answer", match=prompt_has("short")),
    ]
    options = claude_env.options(script, name="otint", include_partial_messages=True)
    transport = local_transport(claude_env, options, "--include-partial-messages")
    with trio.fail_after(60):
        async with tc.ClaudeSDKClient(options, transport=transport) as client:
            await client.query("tell me a long story")
            interrupted = False
            last: Any = None
            async for message in client.receive_response():
                if isinstance(message, tc.StreamEvent) and not interrupted:
                    interrupted = True
                    await client.interrupt()
                last = message
            assert isinstance(last, tc.ResultMessage)
            assert last.subtype == "error_during_execution"
            await client.query("now a short one")
            after = [m async for m in client.receive_response()]
    assert all_texts(after) == "short answer"
    subtypes = [
        frame["request"]["subtype"]
        for frame in transport.written
        if frame.get("type") == "control_request"
    ]
    assert "interrupt" in subtypes
    assert not claude_env.leaked_processes(settle=2)


async def test_official_style_transport_whose_link_drops_mid_turn_is_a_process_error(
    claude_env: ClaudeTestEnv,
) -> None:
    # docs/transports.md: read_messages() "raising is an exit with status 1 whose stderr line
    # names the exception, so the session ends with its usual typed error (ProcessError ...)
    # and never with an exception group". A remote link that drops during a turn.
    class Flaky(LocalCLITransport):
        async def read_messages(self) -> AsyncIterator[dict[str, Any]]:
            async for message in super().read_messages():
                yield message
                if message.get("type") == "stream_event":
                    raise ConnectionResetError("link to the agent box dropped")

        async def close(self) -> None:
            self.closed += 1
            if self.proc is not None:  # the link is gone: nothing to wait for
                self.proc.kill()
                await self.proc.wait()

    script = [Turn("slow " * 400, delay=0.01)]
    options = claude_env.options(script, name="flaky", include_partial_messages=True)
    transport = Flaky(
        local_transport(claude_env, options, "--include-partial-messages").argv,
        local_transport(claude_env, options).env,
        claude_env.project,
    )
    with trio.fail_after(60):
        try:
            async with tc.ClaudeSDKClient(options, transport=transport) as client:
                await client.query("tell me a long story")
                async for _ in client.receive_response():
                    pass
        except tc.ProcessError as exc:
            assert not isinstance(exc, BaseExceptionGroup)
            assert exc.exit_code == 1
            assert "link to the agent box dropped" in (exc.stderr or "")
        else:
            raise AssertionError("a dropped link ended the turn without an error")
    assert transport.closed == 1
    assert not claude_env.leaked_processes(settle=2)


async def test_official_style_transport_from_the_example_leaves_no_cli_after_a_deadline(
    claude_env: ClaudeTestEnv,
) -> None:
    # docs/transports.md: cancelling the iterator form (a deadline around `async for`) gives
    # up the pending read, then close() is called once, "shielded from cancellation and
    # bounded (5 s)". LocalCLITransport.close() is examples/official_style_transport.py's
    # PipeTransport.close() (it closes stdin itself, waits at most 2 s, then kills: the
    # example's first version waited 5 s, as long as the SDK's bound, and its kill never ran).
    # A newcomer's app must not leave a CLI running after the block is left.
    import contextlib

    script = [Turn("slow " * 2000, delay=0.02)]
    options = claude_env.options(script, name="otdeadline", include_partial_messages=True)
    transport = local_transport(claude_env, options, "--include-partial-messages")

    async def prompt() -> AsyncIterator[dict[str, Any]]:
        yield {"type": "user", "message": {"role": "user", "content": "a very long story"}}

    count = 0
    with trio.fail_after(60):
        with trio.move_on_after(2) as scope:
            async with contextlib.aclosing(
                tc.query(prompt=prompt(), options=options, transport=transport)
            ) as messages:
                async for _ in messages:
                    count += 1
    assert scope.cancelled_caught
    assert count > 0
    assert transport.closed == 1
    assert not claude_env.leaked_processes(settle=5), (
        f"the CLI outlived the query: end_input() calls {transport.ended}, and close() was "
        "given up at 5 s before its kill() ran"
    )


# ---- app 8: more hooks ---------------------------------------------------------------------------


async def test_user_prompt_submit_block_refuses_the_prompt_without_a_hang(
    claude_env: ClaudeTestEnv,
) -> None:
    # docs/hooks.md "Answers": a dict sent as is (wire names), e.g. the official
    # {"decision": "block", "reason": ...}. A moderation hook blocks a prompt: the model never
    # sees it, the app gets the turn's end (no hang), and the session goes on.
    async def moderate(input: Any, tool_use_id: Any, ctx: Any) -> Any:
        if "forbidden" in input["prompt"]:
            return {"decision": "block", "reason": "prompt refused by moderation"}
        return None

    script = [Turn("fine answer", match=prompt_has("allowed"))]
    options = claude_env.options(
        script,
        name="moderate",
        hooks={"UserPromptSubmit": [tc.HookMatcher(hooks=[moderate])]},
    )
    with trio.fail_after(60):
        async with tc.open_session(options) as session:
            with trio.fail_after(20):
                await session.send("a forbidden question")
                blocked = [m async for m in session.receive_response()]
            ok = await session.run("an allowed question")
    assert ok.text == "fine answer"
    sent = [r.last_user_text for r in claude_env.model.turn_requests("moderate")]
    assert not any("forbidden" in text for text in sent), sent
    assert "fine answer" not in all_texts(blocked)


async def test_stop_hook_blocks_once_so_the_agent_goes_on(claude_env: ClaudeTestEnv) -> None:
    # docs/hooks.md: Stop input has stop_hook_active; a {"decision": "block", "reason": ...}
    # answer keeps the agent going (the official "run the tests before you stop" pattern).
    seen: list[bool | None] = []

    async def tests_first(input: tc.StopHookInput, tool_use_id: Any, ctx: Any) -> Any:
        seen.append(input.stop_hook_active)
        if not input.stop_hook_active:
            return tc.HookOutput(decision="block", reason="run the test suite before stopping")
        return None

    script = [
        Turn("I am done"),
        # the CLI sends the reason as "Stop hook feedback" inside a system reminder
        Turn(
            "ran the tests, all green",
            match=Match(predicate=lambda r: "run the test suite" in json.dumps(r.messages)),
        ),
    ]
    options = claude_env.options(
        script, name="stopblock", hooks={"Stop": [tc.HookMatcher(hooks=[tests_first])]}
    )
    with trio.fail_after(60):
        async with tc.open_session(options) as session:
            turn = await session.run("fix the bug")
    assert seen == [False, True]
    assert turn.text.endswith("ran the tests, all green")
    assert len(claude_env.model.turn_requests("stopblock")) == 2


async def test_pre_tool_use_hook_past_its_timeout_is_withdrawn_and_the_tool_does_not_run(
    claude_env: ClaudeTestEnv,
) -> None:
    # docs/hooks.md "Deadlines": "the CLI enforces each matcher's timeout ... When it expires
    # the CLI withdraws the request ... (your code sees trio.Cancelled); for PreToolUse the CLI
    # then does not run the tool."
    marker = claude_env.project / "ran.txt"
    script = [
        Turn([ToolUse("Bash", {"command": f"touch {marker}"})]),
        Turn("after: {last_tool_result}", match=Match(has_tool_result=True)),
    ]
    outcome: list[str] = []

    async def slow_guard(input: Any, tool_use_id: Any, ctx: Any) -> Any:
        try:
            await trio.sleep(30)
        except trio.Cancelled:
            outcome.append("cancelled")
            raise
        outcome.append("finished")
        return None

    options = claude_env.options(
        script,
        name="hooktimeout",
        allowed_tools=["Bash"],
        hooks={"PreToolUse": [tc.HookMatcher(matcher="Bash", hooks=[slow_guard], timeout=1)]},
    )
    with trio.fail_after(60):
        async with tc.open_session(options) as session:
            turn = await session.run("touch the marker")
    assert outcome == ["cancelled"]
    assert not marker.exists(), turn.text


async def test_post_tool_use_replaces_an_mcp_tools_output(claude_env: ClaudeTestEnv) -> None:
    # docs/hooks.md: PostToolUse updated_mcp_tool_output -- a hook that masks an e-mail
    # address in an MCP tool's output before the model sees it.
    @tc.tool("whois", "Looks up a user", {"name": str})
    async def whois(args: dict[str, Any]) -> str:
        return f"{args['name']} <ada@example.com>"

    async def mask(input: tc.PostToolUseHookInput, tool_use_id: Any, ctx: Any) -> Any:
        return tc.PostToolUseHookSpecificOutput(
            updated_mcp_tool_output=[{"type": "text", "text": "ada <masked>"}]
        )

    script = [
        Turn([ToolUse("mcp__dir__whois", {"name": "ada"})]),
        Turn("got: {last_tool_result}", match=Match(has_tool_result=True)),
    ]
    options = claude_env.options(
        script,
        name="mask",
        mcp_servers={"dir": tc.create_sdk_mcp_server("dir", tools=[whois])},
        allowed_tools=["mcp__dir__whois"],
        hooks={"PostToolUse": [tc.HookMatcher(matcher="mcp__dir__.*", hooks=[mask])]},
    )
    with trio.fail_after(60):
        async with tc.open_session(options) as session:
            turn = await session.run("who is ada")
    assert "example.com" not in json.dumps(claude_env.model.turn_requests("mask")[-1].messages)
    assert turn.text.startswith("got: ada <masked>")


# ---- app 9: sessions: resume at a message, fork with the client ---------------------------------


async def test_resume_session_at_an_earlier_answer_forgets_the_later_turn(
    claude_env: ClaudeTestEnv,
) -> None:
    # docs/options.md: resume_session_at "Truncate the resumed transcript after this message
    # UUID"; docs/sessions.md: aget_session_messages gives each message's uuid. An "undo last
    # exchange" button.
    script = [
        Turn("noted: red", match=prompt_has("r1.")),
        Turn("noted: blue", match=prompt_has("r2.")),
        Turn("colour answer", match=prompt_has("r3.")),
    ]
    options = claude_env.options(script, name="undo")
    with trio.fail_after(60):
        async with tc.open_session(options) as session:
            await session.run("r1. my colour is red")
            await session.run("r2. no, make it blue")
            session_id = session.session_id
        assert session_id is not None
        messages = await tc.aget_session_messages(
            session_id, claude_env.project, config_dir=claude_env.config_dir
        )
        first_answer = next(
            m for m in messages if m.type == "assistant" and "noted: red" in json.dumps(m.message)
        )
        resumed = claude_env.options(
            name="undo", resume=session_id, resume_session_at=first_answer.uuid
        )
        async with tc.open_session(resumed) as session:
            turn = await session.run("r3. what is my colour")
    assert turn.text == "colour answer"
    history = json.dumps(claude_env.model.turn_requests("undo")[-1].messages)
    assert "my colour is red" in history
    assert "make it blue" not in history


async def test_client_fork_session_keeps_the_original_untouched(claude_env: ClaudeTestEnv) -> None:
    # Official "Session management": ClaudeAgentOptions(resume=id, fork_session=True) branches
    # into a new session id; the original transcript does not get the fork's turns.
    script = [
        Turn("base answer", match=prompt_has("base.")),
        Turn("fork answer", match=prompt_has("fork.")),
    ]
    with trio.fail_after(60):
        async with tc.ClaudeSDKClient(claude_env.options(script, name="fk")) as client:
            await client.query("base. start")
            base = [m async for m in client.receive_response()]
        base_result = base[-1]
        assert isinstance(base_result, tc.ResultMessage)
        original = base_result.session_id
        forked_options = claude_env.options(name="fk", resume=original, fork_session=True)
        async with tc.ClaudeSDKClient(forked_options) as client:
            await client.query("fork. try another way")
            fork = [m async for m in client.receive_response()]
    fork_result = fork[-1]
    assert isinstance(fork_result, tc.ResultMessage)
    assert fork_result.session_id != original
    assert all_texts(fork) == "fork answer"
    assert "base. start" in str(claude_env.model.turn_requests("fk")[-1].messages)
    kept = await tc.aget_session_messages(
        original, claude_env.project, config_dir=claude_env.config_dir
    )
    assert "try another way" not in json.dumps([m.message for m in kept])
    listed = {
        s.session_id
        for s in await tc.alist_sessions(claude_env.project, config_dir=claude_env.config_dir)
    }
    assert {original, fork_result.session_id} <= listed
