"""The control requests of issue 12 answered by the real CLI (Claude Code 2.1.329), offline.

Each typed ``Session`` method against the pinned CLI and the fake model: settings, the queue
(``cancel_async_message``, ``interrupt`` options), ``end_session``, the informational requests,
``mcp_call``/``mcp_read_resource`` on a stdio MCP server, ``control_cancel_request`` for an
abandoned request, and ``update_queued_message``, which 2.1.329 refuses.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
import trio

import trio_claude as tc
from trio_claude.testing import ClaudeTestEnv, ToolUse, Turn

from .mcp_control_server import WIDGET_HTML, WIDGET_URI

SERVER = Path(__file__).with_name("mcp_control_server.py")
FIRST = "11111111-1111-4111-8111-111111111111"
SECOND = "22222222-2222-4222-8222-222222222222"


async def test_settings_round_trip(claude_env: ClaudeTestEnv) -> None:
    async with tc.open_session(claude_env.options([Turn("hi")])) as session:
        before = await session.get_settings()
        assert isinstance(before, tc.SettingsSnapshot)
        assert before.applied is not None and before.applied.model
        await session.update_settings("localSettings", {"outputStyle": "Explanatory"})
        after = await session.get_settings()
        with pytest.raises(tc.ControlRequestError) as info:
            await session.update_settings("localSettings", {"model": "opus"})
        assert info.value.error == "update_settings keys not allowed: model"
    local = [s for s in after.sources if s.source == "localSettings"]
    assert local and local[0].settings["outputStyle"] == "Explanatory"
    assert after.effective["outputStyle"] == "Explanatory"
    written = json.loads((claude_env.project / ".claude" / "settings.local.json").read_text())
    assert written["outputStyle"] == "Explanatory"


async def test_informational_requests(claude_env: ClaudeTestEnv) -> None:
    (claude_env.project / "src").mkdir()
    (claude_env.project / "src" / "app.py").write_text("x = 1\n")
    hook = {"matcher": "Bash", "hooks": [{"type": "command", "command": "true"}]}
    settings = {"hooks": {"PostToolUse": [hook]}}
    (claude_env.project / ".claude").mkdir()
    (claude_env.project / ".claude" / "settings.json").write_text(json.dumps(settings))
    options = claude_env.options(
        [Turn("hi")], allowed_tools=["Read"], setting_sources=["project", "local"]
    )
    async with tc.open_session(options) as session:
        await session.run("hello")
        version = await session.get_binary_version()
        assert version.version == tc.CLI_VERSION == session.cli_version and version.build_time
        models = await session.list_models()
        assert models and all(isinstance(m, tc.ModelInfo) and m.value for m in models)
        assert "default" in [m.value for m in models]
        cost = await session.get_session_cost()
        assert cost.startswith("Estimated cost:")
        with trio.fail_after(20):  # the file index is built in the background
            while not (found := await session.file_suggestions("app")).suggestions:
                await trio.sleep(0.2)
        assert [s.path for s in found.suggestions] == ["src/app.py"]
        assert found.cwd == str(claude_env.project)
        listing = await session.get_hooks_listing()
        assert [(h.event, h.matcher, h.source, h.command_text) for h in listing.hooks] == [
            ("PostToolUse", "Bash", "projectSettings", "true")
        ]
        assert [(e.name, e.hook_count) for e in listing.events] == [("PostToolUse", 1)]
        assert "PreToolUse" in [e.name for e in listing.event_catalog]
        root = await session.register_repo_root("src")
        assert root == str(claude_env.project / "src")
        with pytest.raises(tc.ControlRequestError, match="already a registered working"):
            await session.register_repo_root("src")
        rules = await session.list_permission_rules()
        assert [(r.behavior, r.source, r.rule) for r in rules.rules] == [
            ("allow", "cliArg", "Read")
        ]
        assert rules.rules[0].description is not None
        assert rules.workspace_directories == [tc.WorkspaceDirectory(path=root, source="session")]
        assert rules.original_cwd == str(claude_env.project)
        await session.seed_read_state(claude_env.project / "src" / "app.py", 0)
        warning = await session.set_mcp_permission_mode_override("no-such-server", "auto")
        assert warning is not None and "no-such-server" in warning
        await session.set_mcp_permission_mode_override("no-such-server", None)
        # Claude Code 2.1.332 answers set_color only in other hosts (remote control): typed refusal.
        with pytest.raises(tc.ControlRequestError, match="Unsupported control request subtype"):
            await session.set_color("purple")
        await session.set_has_subscribers(False)
        await session.set_has_subscribers(None)
        await session.rename_session("A title", source="host")
        with trio.fail_after(30):  # a hang guard
            async for message in session.receive_messages():
                if isinstance(message, tc.SystemMessage) and message.subtype == (
                    "session_title_changed"
                ):
                    assert message.data["title"] == "A title"
                    break


async def test_get_task_output_of_a_background_command(claude_env: ClaudeTestEnv) -> None:
    command = "echo hello-task; echo done-task"
    script = [
        Turn([ToolUse("Bash", {"command": command, "run_in_background": True})]),
        Turn("started"),
        Turn("noted"),  # the turn the CLI runs on the task's notification
    ]
    async with tc.open_session(claude_env.options(script, allowed_tools=["Bash"])) as session:
        turn = await session.run("run it in the background")
        (started,) = [m for m in turn.messages if isinstance(m, tc.TaskStartedMessage)]
        assert started.task_id is not None
        with trio.fail_after(20):
            while (
                "[exited with code 0]"
                not in (out := await session.get_task_output(started.task_id)).output
            ):
                await trio.sleep(0.1)  # fmt: skip
        assert out.output.startswith("hello-task\ndone-task\n")
        assert out.total_bytes == len(out.output.encode()) and not out.truncated
        with pytest.raises(tc.ControlRequestError, match="no shell or Monitor task"):
            await session.get_task_output("nope")


async def test_set_permission_mode_returns_the_mode_in_effect(claude_env: ClaudeTestEnv) -> None:
    async with tc.open_session(claude_env.options([Turn("hi")])) as session:
        assert await session.set_permission_mode("acceptEdits") == "acceptEdits"
        assert await session.set_permission_mode("plan") == "plan"
        with pytest.raises(tc.ControlRequestError) as info:
            await session.set_permission_mode("bogus")
        assert info.value.error_code == "invalid_mode"
        assert (await session.run("hi")).text == "hi"


def _slow_then(*turns: Turn) -> list[Turn]:
    return [Turn("slow", delay=0.5), *turns]


async def _until_queued(session: tc.Session) -> None:
    """Waits until the CLI reports the second prompt queued (its command_lifecycle frame)."""
    with trio.fail_after(20):
        async for message in session.receive_messages():
            if isinstance(message, tc.CommandLifecycleMessage) and (
                message.command_uuid == SECOND and message.state == "queued"
            ):
                return


async def test_cancel_async_message_ends_the_dropped_prompts_turn(
    claude_env: ClaudeTestEnv,
) -> None:
    async with tc.open_session(claude_env.options(_slow_then(Turn("never")))) as session:
        await session.send("first", uuid=FIRST)
        await session.send("second", uuid=SECOND)
        await _until_queued(session)
        result = await session.cancel_async_message(SECOND)
        assert result == tc.CancelAsyncMessageResult(cancelled=True, message_uuid=SECOND)
        with trio.fail_after(20):
            messages = [m async for m in session.receive_response()]
        assert isinstance(messages[-1], tc.ResultMessage) and messages[-1].result == "slow"
        assert session.lifecycle is tc.LifecycleState.IDLE  # nothing waits for SECOND
        assert not (await session.cancel_async_message(SECOND)).cancelled


async def test_interrupt_cancel_queued_and_send_now(claude_env: ClaudeTestEnv) -> None:
    async with tc.open_session(claude_env.options(_slow_then(Turn("next")))) as session:
        idle = await session.interrupt(send_now=True)
        assert idle.send_now == "nothing_waiting"
        await session.send("first", uuid=FIRST)
        await session.send("second", uuid=SECOND)
        await _until_queued(session)
        stop = await session.interrupt(cancel_queued=True)
        assert stop.cancelled == [SECOND] and stop.still_queued == []
        with trio.fail_after(20):
            messages = [m async for m in session.receive_response()]
        assert isinstance(messages[-1], tc.ResultMessage)
        assert messages[-1].subtype == "error_during_execution"
        assert session.lifecycle is tc.LifecycleState.IDLE
        again = await session.run("again")  # the cancelled prompt never ran; this one does
        assert not again.result.is_error


async def test_end_session_when_idle(claude_env: ClaudeTestEnv) -> None:
    async with tc.open_session(claude_env.options([Turn("hi")])) as session:
        assert (await session.run("hello")).text == "hi"
        await session.end_session(reason="host_closing")
        with trio.fail_after(20):
            async for _ in session.receive_messages():
                pass
        assert session.returncode == 0
        assert session.lifecycle is tc.LifecycleState.CLOSED
        with pytest.raises(tc.SessionClosedError):
            await session.send("more")


async def test_end_session_mid_turn_with_a_queued_prompt(claude_env: ClaudeTestEnv) -> None:
    async with tc.open_session(claude_env.options(_slow_then(Turn("never")))) as session:
        await session.send("first", uuid=FIRST)
        await session.send("second", uuid=SECOND)
        await _until_queued(session)
        await session.end_session()
        with trio.fail_after(20):
            messages = [m async for m in session.receive_messages()]  # no error raised
        results = [m for m in messages if isinstance(m, tc.ResultMessage)]
        assert [(r.subtype, r.terminal_reason) for r in results] == [
            ("error_during_execution", "aborted_streaming")
        ]
        assert session.returncode == 1 and session.statistics().turns_open == 0


async def test_update_queued_message_needs_a_newer_cli(claude_env: ClaudeTestEnv) -> None:
    async with tc.open_session(claude_env.options([Turn("hi")])) as session:
        with pytest.raises(tc.ControlRequestError) as info:
            await session.update_queued_message(SECOND, priority="next")
        assert info.value.error_code == "unsupported_request"
        assert "Unsupported control request subtype: update_queued_message" in info.value.error
        assert (await session.run("still fine")).text == "hi"


async def test_user_dialog_kinds_are_accepted_by_the_cli(claude_env: ClaudeTestEnv) -> None:
    # 2.1.329 takes the declaration; a dialog itself needs a flow the fake model cannot start.
    async def render(request: tc.UserDialogRequest) -> tc.UserDialogResult:
        return tc.UserDialogResult.cancelled()

    options = claude_env.options(
        [Turn("hi")], on_user_dialog=render, supported_dialog_kinds=["refusal_fallback_prompt"]
    )
    async with tc.open_session(options) as session:
        assert (await session.run("hello")).text == "hi"


# ------------------------------------------------------------------------------------- MCP


def _mcp_options(claude_env: ClaudeTestEnv, log: Path) -> tc.ClaudeAgentOptions:
    server = {
        "type": "stdio",
        "command": sys.executable,
        "args": [str(SERVER)],
        "env": {"CONTROL_MCP_LOG": str(log)},
    }
    return claude_env.options([Turn("hi")], mcp_servers={"control": server})


async def _connected(session: tc.Session) -> None:
    with trio.fail_after(20):
        while (await session.mcp_status())[0].status == "pending":
            await trio.sleep(0.05)
    assert (await session.mcp_status())[0].status == "connected"


async def test_mcp_call_and_mcp_read_resource(claude_env: ClaudeTestEnv, tmp_path: Path) -> None:
    async with tc.open_session(_mcp_options(claude_env, tmp_path / "mcp.log")) as session:
        await _connected(session)
        echoed = await session.mcp_call("mcp__control__echo", {"text": "hey"})
        assert echoed.structured_content == {"echo": "hey"}
        assert echoed.content  # as the CLI prepares it for the model
        raw = await session.mcp_call(
            "mcp__control__echo", {"text": "raw"}, result_not_for_model=True
        )
        assert raw.content == [{"type": "text", "text": "raw"}]
        with pytest.raises(tc.ControlRequestError, match="it failed"):
            await session.mcp_call("mcp__control__fail", {})
        with pytest.raises(tc.ControlRequestError, match="MCP server not connected: nope"):
            await session.mcp_call("mcp__nope__tool")
        read = await session.mcp_read_resource("control", WIDGET_URI)
        assert [(c.uri, c.text) for c in read.contents] == [(WIDGET_URI, WIDGET_HTML)]
        with pytest.raises(tc.ControlRequestError, match="ui:// scheme"):
            await session.mcp_read_resource("control", "https://example.com/")


async def test_an_abandoned_mcp_call_is_withdrawn_and_the_cli_aborts_it(
    claude_env: ClaudeTestEnv, tmp_path: Path
) -> None:
    log = tmp_path / "mcp.log"

    def notes() -> list[dict[str, Any]]:
        lines = log.read_text().splitlines() if log.exists() else []
        return [json.loads(line) for line in lines]

    async with tc.open_session(_mcp_options(claude_env, log)) as session:
        await _connected(session)
        with trio.CancelScope() as scope:
            async with trio.open_nursery() as nursery:

                async def abandon_once_in_flight() -> None:
                    # Once the server runs the call (a fixed delay could end it before the
                    # CLI has even sent it, on a loaded machine): only then is there a call
                    # for the CLI to abort.
                    with trio.fail_after(30):
                        while not any(n.get("started") == "slow" for n in notes()):
                            await trio.sleep(0.05)
                    scope.cancel()

                nursery.start_soon(abandon_once_in_flight)
                await session.mcp_call("mcp__control__slow", {"seconds": 30})
        assert scope.cancelled_caught
        # The CLI got control_cancel_request and aborted the call: its MCP client says so.
        cancelled: list[dict[str, Any]] = []
        with trio.fail_after(30):  # a hang guard
            while not cancelled:
                await trio.sleep(0.05)
                cancelled = [n for n in notes() if n.get("method") == "notifications/cancelled"]
        assert session.statistics().pending_requests == 0
        echoed = await session.mcp_call("mcp__control__echo", {"text": "after"})
        assert echoed.structured_content == {"echo": "after"}
        assert (await session.run("hello")).text == "hi"
