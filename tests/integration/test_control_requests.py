"""SDK<->CLI control requests through the in-process FakeCLI: the exact frame each typed method
sends, the typed reply it returns (the fake answers with Claude Code 2.1.329's reply shapes),
``control_cancel_request`` for abandoned requests, and ``request_user_dialog``."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing
from hypothesis import given, settings
from hypothesis import strategies as st

import trio_claude as tc
import trio_claude.testing.strategies as tcst
from tests._helpers import answers, one_turn, options_for, success
from trio_claude import _control_types
from trio_claude._control_api import ControlRequests
from trio_claude._options import validate_options
from trio_claude.testing.fake_cli import (
    Emit,
    FakeCLITransport,
    FakeScript,
    FakeTurn,
    Result,
    Sleep,
    Text,
    WaitForInterrupt,
)

FIRST = "11111111-1111-4111-8111-111111111111"
SECOND = "22222222-2222-4222-8222-222222222222"


def sent(transport: FakeCLITransport, subtype: str) -> list[dict[str, Any]]:
    """The ``request`` objects of the control requests of ``subtype`` the fake received."""
    assert transport.fake is not None
    return [
        f["request"]
        for f in transport.fake.received
        if f["type"] == "control_request" and f["request"]["subtype"] == subtype
    ]


def request_ids(transport: FakeCLITransport, subtype: str) -> list[str]:
    assert transport.fake is not None
    return [
        f["request_id"]
        for f in transport.fake.received
        if f["type"] == "control_request" and f["request"]["subtype"] == subtype
    ]


async def queued(transport: FakeCLITransport, *uuids: str) -> None:
    """Waits until the fake runs a turn and holds exactly ``uuids`` in its queue."""
    with trio.fail_after(10):
        while transport.fake is None or transport.fake.queued != list(uuids):
            await trio.sleep(0.01)


async def call(
    method: Callable[[tc.Session], Awaitable[Any]], script: FakeScript | None = None, **kw: Any
) -> tuple[Any, FakeCLITransport]:
    """Opens a session on ``script``, calls ``method(session)``, closes; the reply and transport."""
    opts, transport = options_for(script or FakeScript(), **kw)
    async with tc.open_session(opts) as session:
        with trio.fail_after(10):
            reply = await method(session)
    return reply, transport


# -------------------------------------------------------------------------------- settings


async def test_update_settings_then_get_settings() -> None:
    opts, transport = options_for(FakeScript())
    async with tc.open_session(opts) as session:
        await session.update_settings("localSettings", {"outputStyle": "Explanatory"})
        snapshot = await session.get_settings()
    assert sent(transport, "update_settings") == [
        {
            "subtype": "update_settings",
            "source": "localSettings",
            "settings": {"outputStyle": "Explanatory"},
        }
    ]
    assert sent(transport, "get_settings") == [{"subtype": "get_settings"}]
    assert isinstance(snapshot, tc.SettingsSnapshot)
    assert snapshot.effective == {"outputStyle": "Explanatory"}
    assert [(s.source, s.settings) for s in snapshot.sources] == [
        ("localSettings", {"outputStyle": "Explanatory"})
    ]
    assert snapshot.applied is not None and snapshot.applied.model == "claude-fake-1"
    assert snapshot.served_settings_state == "ineligible"
    assert snapshot["effective"] == snapshot.raw["effective"]  # reads like the wire dict


async def test_update_settings_refused_is_a_control_request_error() -> None:
    opts, _ = options_for(FakeScript())
    async with tc.open_session(opts) as session:
        with pytest.raises(tc.ControlRequestError) as info:
            await session.update_settings("localSettings", {"model": "x"})
        assert info.value.error == "update_settings keys not allowed: model"
        assert info.value.subtype == "update_settings"


# ------------------------------------------------------------------------- tasks and queue


async def test_get_task_output() -> None:
    script = FakeScript(task_outputs={"b1a2b3c4d": "built\n"})
    output, transport = await call(lambda s: s.get_task_output("b1a2b3c4d"), script)
    assert sent(transport, "get_task_output") == [
        {"subtype": "get_task_output", "task_id": "b1a2b3c4d"}
    ]
    assert output == tc.TaskOutput(output="built\n", total_bytes=6, truncated=False)


async def test_get_task_output_of_an_unknown_task_raises() -> None:
    with pytest.raises(tc.ControlRequestError, match="no shell or Monitor task"):
        await call(lambda s: s.get_task_output("nope"))


def _slow_first_turn() -> FakeScript:
    return FakeScript(
        turns=[
            FakeTurn(steps=[Text("first"), Sleep(30), Result(text="first")]),
            FakeTurn.reply("second"),
        ]
    )


async def test_cancel_async_message_drops_a_queued_prompt_and_ends_its_turn(
    autojump_clock: trio.testing.MockClock,
) -> None:
    opts, transport = options_for(_slow_first_turn())
    async with tc.open_session(opts) as session:
        await session.send("first", uuid=FIRST)
        await session.send("second", uuid=SECOND)
        await queued(transport, SECOND)
        result = await session.cancel_async_message(SECOND)
        assert result == tc.CancelAsyncMessageResult(cancelled=True, message_uuid=SECOND)
        assert session.lifecycle is tc.LifecycleState.IN_TURN
        messages = [m async for m in session.receive_response()]
        assert isinstance(messages[-1], tc.ResultMessage) and messages[-1].result == "first"
        # the dropped prompt's turn ended: nothing more to wait for
        assert session.lifecycle is tc.LifecycleState.IDLE
        assert [m async for m in session.receive_response()] == []
        again = await session.cancel_async_message(SECOND)
        assert not again.cancelled and again.message_uuid is None
        assert (await session.run("third")).text == "second"
    assert (
        sent(transport, "cancel_async_message")
        == [{"subtype": "cancel_async_message", "message_uuid": SECOND}] * 2
    )
    assert transport.fake is not None
    prompts = [f["message"]["content"] for f in transport.fake.received if f["type"] == "user"]
    assert prompts == ["first", "second", "third"]


async def test_update_queued_message_needs_a_newer_cli() -> None:
    opts, transport = options_for(FakeScript())
    async with tc.open_session(opts) as session:
        with pytest.raises(tc.ControlRequestError) as info:
            await session.update_queued_message(SECOND, priority="next")
        assert info.value.error_code == "unsupported_request"
        assert info.value.error == "Unsupported control request subtype: update_queued_message"
        with pytest.raises(tc.ControlRequestError):
            await session.update_queued_message(SECOND, before_message_uuid=FIRST)
        with pytest.raises(tc.ControlRequestError):
            await session.update_queued_message(SECOND, priority="later", move_to_end=True)
        with pytest.raises(ValueError, match="exclude each other"):
            await session.update_queued_message(SECOND, before_message_uuid=FIRST, move_to_end=True)
        assert (await session.run("still fine")).text == "ok"
    assert sent(transport, "update_queued_message") == [
        {"subtype": "update_queued_message", "message_uuid": SECOND, "priority": "next"},
        {"subtype": "update_queued_message", "message_uuid": SECOND, "before_message_uuid": FIRST},
        {
            "subtype": "update_queued_message",
            "message_uuid": SECOND,
            "priority": "later",
            "before_message_uuid": None,
        },
    ]


async def test_update_queued_message_returns_the_outcome(monkeypatch: pytest.MonkeyPatch) -> None:
    # What a newer CLI answers (the reply shape of Claude Code 2.1.332's handler).
    opts, _ = options_for(FakeScript())
    async with tc.open_session(opts) as session:
        seen: list[tuple[str, dict[str, Any]]] = []

        async def answer(subtype: str, fields: dict[str, Any], **kw: Any) -> dict[str, Any]:
            seen.append((subtype, fields))
            return {"outcome": "applied"}

        monkeypatch.setattr(session, "_request", answer)
        assert await session.update_queued_message(SECOND, priority="now") == "applied"
    assert seen == [("update_queued_message", {"message_uuid": SECOND, "priority": "now"})]


# -------------------------------------------------------------------------------- interrupt


async def test_plain_interrupt_sends_an_empty_request_and_lists_what_is_still_queued(
    autojump_clock: trio.testing.MockClock,
) -> None:
    script = FakeScript(
        turns=[FakeTurn(steps=[Text("one"), WaitForInterrupt()]), FakeTurn.reply("two")]
    )
    opts, transport = options_for(script)
    async with tc.open_session(opts) as session:
        await session.send("one", uuid=FIRST)
        await session.send("two", uuid=SECOND)
        await queued(transport, SECOND)
        result = await session.interrupt()
        assert result.still_queued == [SECOND] and result.cancelled is None
        first = [m async for m in session.receive_response()]
        assert isinstance(first[-1], tc.ResultMessage) and first[-1].is_error
        second = [m async for m in session.receive_response()]  # the queued prompt still runs
        assert isinstance(second[-1], tc.ResultMessage) and second[-1].result == "two"
    assert sent(transport, "interrupt") == [{"subtype": "interrupt"}]


async def test_interrupt_cancel_queued_stops_everything_and_ends_the_cancelled_turns(
    autojump_clock: trio.testing.MockClock,
) -> None:
    script = FakeScript(
        turns=[FakeTurn(steps=[Text("one"), WaitForInterrupt()]), FakeTurn.reply("never")]
    )
    opts, transport = options_for(script)
    async with tc.open_session(opts) as session:
        await session.send("one", uuid=FIRST)
        await session.send("two", uuid=SECOND)
        await queued(transport, SECOND)
        result = await session.interrupt(cancel_queued=True)
        assert result.still_queued == [] and result.cancelled == [SECOND]
        first = [m async for m in session.receive_response()]
        assert isinstance(first[-1], tc.ResultMessage)
        assert first[-1].subtype == "error_during_execution"
        assert session.lifecycle is tc.LifecycleState.IDLE  # no turn left for SECOND
        assert [m async for m in session.receive_response()] == []
        assert (await session.run("three")).text == "never"  # the next scripted turn
    assert sent(transport, "interrupt") == [{"subtype": "interrupt", "cancel_queued": True}]


@pytest.mark.parametrize(
    "drop",
    [
        pytest.param(lambda s: s.interrupt(cancel_queued=True), id="interrupt_cancel_queued"),
        pytest.param(lambda s: s.cancel_async_message(SECOND), id="cancel_async_message"),
    ],
)
async def test_a_dropped_prompts_turn_ends_when_the_request_that_dropped_it_is_cancelled(
    autojump_clock: trio.testing.MockClock, drop: Callable[[tc.Session], Awaitable[Any]]
) -> None:
    # The caller's deadline lands once the CLI has the request, before its answer is read: the
    # CLI drops the queued prompt all the same. Its command_lifecycle "cancelled" frame ends the
    # prompt's turn; the answer, which used to, comes to a request nobody waits for.
    script = FakeScript(
        turns=[
            FakeTurn(steps=[Text("a"), Sleep(1), Text("b"), Result(text="a")]),
            FakeTurn.reply("fresh"),
        ]
    )
    opts, transport = options_for(script)
    async with tc.open_session(opts) as session:
        await session.send("one", uuid=FIRST)
        await session.send("two", uuid=SECOND)
        await queued(transport, SECOND)
        fake = transport.fake
        assert fake is not None
        requests = len(fake.received)
        with trio.CancelScope() as scope:
            async with trio.open_nursery() as nursery:

                async def cancel_once_the_cli_has_it() -> None:
                    while len(fake.received) == requests:
                        await trio.lowlevel.checkpoint()
                    scope.cancel()

                nursery.start_soon(cancel_once_the_cli_has_it)
                await drop(session)
        assert scope.cancelled_caught
        with trio.fail_after(30):  # before: the second receive waited for SECOND's result
            first = [m async for m in session.receive_response()]
            assert isinstance(first[-1], tc.ResultMessage)
            assert [m async for m in session.receive_response()] == []
            assert session.lifecycle is tc.LifecycleState.IDLE
            assert (await session.run("three")).text == "fresh"


async def test_interrupt_send_now(autojump_clock: trio.testing.MockClock) -> None:
    script = FakeScript(
        turns=[FakeTurn(steps=[Text("one"), WaitForInterrupt()]), FakeTurn.reply("two")]
    )
    opts, transport = options_for(script)
    async with tc.open_session(opts) as session:
        idle = await session.interrupt(send_now=True)
        assert idle.send_now == "nothing_waiting"
        await session.send("one", uuid=FIRST)
        await session.send("two", uuid=SECOND)
        await queued(transport, SECOND)
        other = await session.interrupt(send_now=True, message_uuid="unknown")
        assert other.send_now == "nothing_waiting"
        now = await session.interrupt(send_now=True, message_uuid=SECOND)
        assert now.send_now == "stopped" and now.still_queued == [SECOND]
        messages = [m async for m in session.receive_response()]
        assert isinstance(messages[-1], tc.ResultMessage) and messages[-1].is_error
        messages = [m async for m in session.receive_response()]
        assert isinstance(messages[-1], tc.ResultMessage) and messages[-1].result == "two"
    assert sent(transport, "interrupt") == [
        {"subtype": "interrupt", "send_now": True},
        {"subtype": "interrupt", "send_now": True, "message_uuid": "unknown"},
        {"subtype": "interrupt", "send_now": True, "message_uuid": SECOND},
    ]


@pytest.mark.parametrize(
    "kwargs",
    [{"send_now": True, "cancel_queued": True}, {"message_uuid": FIRST}],
)
async def test_interrupt_option_mistakes_raise_before_sending(kwargs: dict[str, Any]) -> None:
    opts, transport = options_for(FakeScript())
    async with tc.open_session(opts) as session:
        with pytest.raises(ValueError):
            await session.interrupt(**kwargs)
    assert sent(transport, "interrupt") == []


# ------------------------------------------------------------------------- permission mode


async def test_set_permission_mode_returns_the_mode_in_effect() -> None:
    opts, transport = options_for(FakeScript())
    async with tc.open_session(opts) as session:
        assert await session.set_permission_mode("plan") == "plan"
        with pytest.raises(tc.ControlRequestError) as info:
            await session.set_permission_mode("bogus")
        assert info.value.error_code == "invalid_mode"
    assert sent(transport, "set_permission_mode") == [
        {"subtype": "set_permission_mode", "mode": "plan"},
        {"subtype": "set_permission_mode", "mode": "bogus"},
    ]
    assert transport.fake is not None and transport.fake.permission_mode == "plan"


async def test_set_permission_mode_without_a_mode_in_the_answer_is_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Hosts other than the headless CLI may acknowledge with an empty object.
    opts, _ = options_for(FakeScript())
    async with tc.open_session(opts) as session:

        async def answer(subtype: str, fields: dict[str, Any], **kw: Any) -> dict[str, Any]:
            return {}

        monkeypatch.setattr(session, "_request", answer)
        assert await session.set_permission_mode("plan") is None


# ----------------------------------------------------------------------- session, binary


async def test_set_mcp_permission_mode_override_returns_the_clis_warning() -> None:
    script = FakeScript(mcp_tools={"mcp__docs__search": {"content": []}})
    warning, transport = await call(
        lambda s: s.set_mcp_permission_mode_override("typo", "auto"), script
    )
    assert warning == "No MCP server named 'typo'"
    known, _ = await call(lambda s: s.set_mcp_permission_mode_override("docs", None), script)
    assert known is None
    assert sent(transport, "set_mcp_permission_mode_override") == [
        {"subtype": "set_mcp_permission_mode_override", "serverName": "typo", "mode": "auto"}
    ]
    assert transport.fake is not None and transport.fake.mcp_mode_overrides == {"typo": "auto"}


async def test_set_color_and_set_has_subscribers() -> None:
    async def both(session: tc.Session) -> None:
        await session.set_color("purple")
        await session.set_has_subscribers(False)
        await session.set_has_subscribers(None)

    _, transport = await call(both)
    assert sent(transport, "set_color") == [{"subtype": "set_color", "color": "purple"}]
    assert sent(transport, "set_has_subscribers") == [
        {"subtype": "set_has_subscribers", "has_subscribers": False},
        {"subtype": "set_has_subscribers", "has_subscribers": None},
    ]
    assert transport.fake is not None and transport.fake.color == "purple"


async def test_rename_session() -> None:
    _, transport = await call(lambda s: s.rename_session("Refactor", source="host"))
    _, plain = await call(lambda s: s.rename_session("Other", session_id="sid-1"))
    assert sent(transport, "rename_session") == [
        {"subtype": "rename_session", "title": "Refactor", "source": "host"}
    ]
    assert sent(plain, "rename_session") == [
        {"subtype": "rename_session", "title": "Other", "session_id": "sid-1"}
    ]
    assert transport.fake is not None and transport.fake.title == "Refactor"


async def test_get_session_cost_is_the_text() -> None:
    async def after_a_turn(session: tc.Session) -> str:
        await session.run("hi")
        return await session.get_session_cost()

    text, transport = await call(after_a_turn)
    assert sent(transport, "get_session_cost") == [{"subtype": "get_session_cost"}]
    assert text == "Estimated cost:        $0.0001"


async def test_list_models_and_get_binary_version() -> None:
    async def both(session: tc.Session) -> tuple[Any, Any]:
        return await session.list_models(), await session.get_binary_version()

    (models, version), transport = await call(both)
    assert sent(transport, "list_models") == [{"subtype": "list_models"}]
    assert sent(transport, "get_binary_version") == [{"subtype": "get_binary_version"}]
    assert models == [tc.ModelInfo(value="claude-fake-1", display_name="Fake")]
    assert models[0].raw == {"value": "claude-fake-1", "displayName": "Fake"}
    assert version == tc.BinaryVersion(version=tc.CLI_VERSION, build_time="2026-01-01T00:00:00Z")


async def test_file_suggestions(tmp_path: Path) -> None:
    script = FakeScript(files=["src/app.py", "README.md", "src/"])
    found, transport = await call(lambda s: s.file_suggestions("app"), script, cwd=tmp_path)
    assert sent(transport, "file_suggestions") == [{"subtype": "file_suggestions", "query": "app"}]
    assert found.suggestions == [tc.FileSuggestion(path="src/app.py", score=1.0)]
    assert found.cwd == str(tmp_path)


async def test_register_repo_root_and_list_permission_rules(tmp_path: Path) -> None:
    opts, transport = options_for(FakeScript(), cwd=tmp_path)
    async with tc.open_session(opts) as session:
        root = await session.register_repo_root(Path("pkg"), reload_skills=True)
        assert root == str(tmp_path / "pkg")
        with pytest.raises(tc.ControlRequestError, match="already a registered working"):
            await session.register_repo_root("pkg")
        rules = await session.list_permission_rules()
    assert sent(transport, "register_repo_root") == [
        {"subtype": "register_repo_root", "directory": "pkg", "reload_skills": True},
        {"subtype": "register_repo_root", "directory": "pkg"},
    ]
    assert sent(transport, "list_permission_rules") == [{"subtype": "list_permission_rules"}]
    assert rules.workspace_directories == [
        tc.WorkspaceDirectory(path=str(tmp_path / "pkg"), source="session")
    ]
    assert rules.original_cwd == str(tmp_path) and rules.managed_only is False
    assert rules.rules == [] and rules["originalCwd"] == str(tmp_path)  # raw is the state


async def test_seed_read_state() -> None:
    _, transport = await call(lambda s: s.seed_read_state(Path("/p/a.txt"), 1_700_000_000_123))
    assert sent(transport, "seed_read_state") == [
        {"subtype": "seed_read_state", "path": "/p/a.txt", "mtime": 1_700_000_000_123}
    ]
    assert transport.fake is not None
    assert transport.fake.read_state == {"/p/a.txt": 1_700_000_000_123}


async def test_get_hooks_listing() -> None:
    listing, transport = await call(lambda s: s.get_hooks_listing())
    assert sent(transport, "get_hooks_listing") == [{"subtype": "get_hooks_listing"}]
    assert listing.events == [] and listing.hooks == []
    assert listing.event_catalog == [
        tc.HookEventSummary(
            name="PreToolUse", summary="Before tool execution", supports_matcher=True
        )
    ]
    assert listing.policy["policyHookCount"] == 0


async def test_end_session_ends_the_cli_and_the_session() -> None:
    opts, transport = options_for(FakeScript(turns=[FakeTurn.reply("hi")]))
    async with tc.open_session(opts) as session:
        assert (await session.run("hello")).text == "hi"
        await session.end_session(reason="host_closing")
        with trio.fail_after(10):
            rest = [m async for m in session.receive_messages()]
        assert not any(isinstance(m, tc.ResultMessage) for m in rest)
        assert session.returncode == 0
        assert session.lifecycle is tc.LifecycleState.CLOSED
        with pytest.raises(tc.SessionClosedError):
            await session.send("more")
    assert sent(transport, "end_session") == [{"subtype": "end_session", "reason": "host_closing"}]


async def test_end_session_mid_turn_aborts_it_and_discards_the_queue(
    autojump_clock: trio.testing.MockClock,
) -> None:
    script = FakeScript(
        turns=[FakeTurn(steps=[Text("one"), WaitForInterrupt()]), FakeTurn.reply("never")]
    )
    opts, transport = options_for(script)
    async with tc.open_session(opts) as session:
        await session.send("one", uuid=FIRST)
        await session.send("two", uuid=SECOND)
        await queued(transport, SECOND)
        await session.end_session()
        with trio.fail_after(10):
            messages = [m async for m in session.receive_messages()]  # no error raised
        results = [m for m in messages if isinstance(m, tc.ResultMessage)]
        assert [(r.subtype, r.terminal_reason) for r in results] == [
            ("error_during_execution", "aborted_streaming")
        ]
        lifecycle = [m for m in messages if isinstance(m, tc.CommandLifecycleMessage)]
        assert [(m.command_uuid, m.state) for m in lifecycle] == [(SECOND, "discarded")]
        assert session.returncode == 1 and session.statistics().turns_open == 0
    assert transport.fake is not None
    assert [f["message"]["content"] for f in transport.fake.received if f["type"] == "user"] == [
        "one",
        "two",
    ]


async def test_end_session_without_a_reason_sends_none() -> None:
    _, transport = await call(lambda s: s.end_session())
    assert sent(transport, "end_session") == [{"subtype": "end_session"}]


# ------------------------------------------------------------------------------------- MCP


MCP_SCRIPT = FakeScript(
    mcp_tools={
        "mcp__calc__add": {
            "content": [{"type": "text", "text": "3"}],
            "structuredContent": {"sum": 3},
        },
        "mcp__calc__boom": {"content": [{"type": "text", "text": "it failed"}], "isError": True},
    },
    mcp_resources={"ui://calc/widget.html": "<p>3</p>"},
)


async def test_mcp_call() -> None:
    opts, transport = options_for(MCP_SCRIPT)
    async with tc.open_session(opts) as session:
        result = await session.mcp_call("mcp__calc__add", {"a": 1, "b": 2})
        assert result.content == [{"type": "text", "text": "3"}]
        assert result.structured_content == {"sum": 3} and result.meta is None
        assert result["structuredContent"] == {"sum": 3}
        await session.mcp_call(
            "mcp__calc__add", result_not_for_model=True, check_permissions=False, timeout=5
        )
        with pytest.raises(tc.ControlRequestError, match="it failed"):
            await session.mcp_call("mcp__calc__boom", {})
        with pytest.raises(tc.ControlRequestError, match="MCP server not connected: nope"):
            await session.mcp_call("mcp__nope__x")
    assert sent(transport, "mcp_call") == [
        {"subtype": "mcp_call", "tool": "mcp__calc__add", "arguments": {"a": 1, "b": 2}},
        {
            "subtype": "mcp_call",
            "tool": "mcp__calc__add",
            "result_not_for_model": True,
            "check_permissions": False,
        },
        {"subtype": "mcp_call", "tool": "mcp__calc__boom", "arguments": {}},
        {"subtype": "mcp_call", "tool": "mcp__nope__x"},
    ]


async def test_mcp_read_resource() -> None:
    opts, transport = options_for(MCP_SCRIPT)
    async with tc.open_session(opts) as session:
        read = await session.mcp_read_resource("calc", "ui://calc/widget.html")
        with pytest.raises(tc.ControlRequestError, match="ui:// scheme"):
            await session.mcp_read_resource("calc", "https://example.com/")
    assert read.contents == [
        tc.McpResourceContent(
            uri="ui://calc/widget.html", mime_type="text/html;profile=mcp-app", text="<p>3</p>"
        )
    ]
    assert sent(transport, "mcp_read_resource")[0] == {
        "subtype": "mcp_read_resource",
        "serverName": "calc",
        "uri": "ui://calc/widget.html",
    }


# ------------------------------------------------------------- control_cancel_request


async def test_a_request_whose_caller_is_cancelled_is_withdrawn_from_the_cli(
    autojump_clock: trio.testing.MockClock,
) -> None:
    opts, transport = options_for(FakeScript(unanswered=("get_settings",)))
    async with tc.open_session(opts) as session:
        with trio.move_on_after(1) as scope:
            await session.get_settings()
        assert scope.cancelled_caught
        assert session.statistics().pending_requests == 0
        await trio.sleep(0.1)  # the writer and the fake's reader run
        assert transport.fake is not None
        assert transport.fake.cancels == request_ids(transport, "get_settings")
        assert (await session.run("still fine")).text == "ok"
    cancels = [f for f in transport.fake.received if f["type"] == "control_cancel_request"]
    assert cancels == [
        {"type": "control_cancel_request", "request_id": request_ids(transport, "get_settings")[0]}
    ]


async def test_a_request_that_times_out_is_withdrawn_from_the_cli(
    autojump_clock: trio.testing.MockClock,
) -> None:
    opts, transport = options_for(FakeScript(unanswered=("mcp_call",)), control_timeout=3)
    async with tc.open_session(opts) as session:
        with pytest.raises(tc.ControlTimeoutError):
            await session.mcp_call("mcp__slow__tool")
        with pytest.raises(tc.ControlTimeoutError):
            await session.request("mcp_call", {"tool": "x"}, timeout=1)
        await trio.sleep(0.1)
        assert transport.fake is not None
        assert transport.fake.cancels == request_ids(transport, "mcp_call")
        assert len(transport.fake.cancels) == 2


async def test_answered_requests_are_never_withdrawn() -> None:
    opts, transport = options_for(FakeScript(turns=[FakeTurn.reply("hi")]))
    async with tc.open_session(opts) as session:
        await session.get_settings()
        await session.interrupt()
        await session.run("hello")
    assert transport.fake is not None and transport.fake.cancels == []


async def test_withdrawing_after_the_writer_closed_never_raises(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    # The caller gives up after the request was written and the writer has closed since: the
    # cancel cannot be written, and the caller sees its own cancellation, nothing else.
    opts, transport = options_for(FakeScript(unanswered=("get_settings",)))
    async with tc.open_session(opts) as session:
        scope = trio.CancelScope()

        async def ask() -> None:
            with scope:
                await session.get_settings()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(ask)
            await trio.sleep(1)
            assert sent(transport, "get_settings") == [{"subtype": "get_settings"}]
            assert session._out_send is not None  # memory streams: every frame goes by it
            session._out_send.close()
            with caplog.at_level(logging.DEBUG, logger="trio_claude"):
                scope.cancel()
                await trio.sleep(0.1)
        assert scope.cancelled_caught
        assert "control_cancel_request for req_" in caplog.text
    assert transport.fake is not None and transport.fake.cancels == []


# ------------------------------------------------------------------------ user dialogs

DIALOG = {
    "subtype": "request_user_dialog",
    "dialog_kind": "refusal_fallback_prompt",
    "payload": {"originalModel": "claude-opus-5-5", "fallbackModel": "claude-sonnet-5-5"},
    "tool_use_id": "toolu_1",
}


def dialog_script(request_id: str = "d-1", **request: Any) -> FakeScript:
    frame = {"type": "control_request", "request_id": request_id, "request": DIALOG | request}
    return one_turn(Emit(frame), Sleep(0.5))


def dialog_answer(transport: FakeCLITransport, request_id: str = "d-1") -> dict[str, Any]:
    assert transport.fake is not None
    return success(transport.fake.responses[request_id])


async def test_supported_dialog_kinds_are_declared_in_initialize() -> None:
    async def render(request: tc.UserDialogRequest) -> tc.UserDialogResult:
        return tc.UserDialogResult.cancelled()

    opts, transport = options_for(
        FakeScript(), on_user_dialog=render, supported_dialog_kinds=["refusal_fallback_prompt"]
    )
    async with tc.open_session(opts):
        pass
    (initialize,) = sent(transport, "initialize")
    assert initialize["supportedDialogKinds"] == ["refusal_fallback_prompt"]
    _, plain = await call(lambda s: s.get_binary_version())
    assert "supportedDialogKinds" not in sent(plain, "initialize")[0]


def test_supported_dialog_kinds_need_on_user_dialog() -> None:
    with pytest.raises(tc.ConfigurationError, match="needs on_user_dialog"):
        validate_options(tc.ClaudeAgentOptions(supported_dialog_kinds=["x"]))
    with pytest.raises(tc.ConfigurationError, match="on_user_dialog must be a function"):
        validate_options(tc.ClaudeAgentOptions(on_user_dialog="yes"))  # type: ignore[arg-type]


async def test_on_user_dialog_answers(autojump_clock: trio.testing.MockClock) -> None:
    seen: list[tc.UserDialogRequest] = []

    async def render(request: tc.UserDialogRequest) -> tc.UserDialogResult:
        seen.append(request)
        return tc.UserDialogResult.completed({"choice": "retry"})

    opts, transport = options_for(
        dialog_script(),
        on_user_dialog=render,
        supported_dialog_kinds=["refusal_fallback_prompt"],
    )
    async with tc.open_session(opts) as session:
        await session.run("go")
    assert dialog_answer(transport) == {"behavior": "completed", "result": {"choice": "retry"}}
    (request,) = seen
    assert request.dialog_kind == "refusal_fallback_prompt"
    assert request.payload == DIALOG["payload"] and request.tool_use_id == "toolu_1"
    assert request.raw["subtype"] == "request_user_dialog"


def _sync_dict(request: tc.UserDialogRequest) -> dict[str, Any]:
    return {"behavior": "completed", "result": "edit"}


async def _async_cancelled(request: tc.UserDialogRequest) -> tc.UserDialogResult:
    return tc.UserDialogResult("cancelled")


@pytest.mark.parametrize(
    ("callback", "answer"),
    [
        (_sync_dict, {"behavior": "completed", "result": "edit"}),
        (_async_cancelled, {"behavior": "cancelled"}),
    ],
)
async def test_on_user_dialog_plain_functions_and_dicts(
    callback: Any, answer: dict[str, Any], autojump_clock: trio.testing.MockClock
) -> None:
    opts, transport = options_for(dialog_script(), on_user_dialog=callback)
    async with tc.open_session(opts) as session:
        await session.run("go")
    assert dialog_answer(transport) == answer


async def _dialog_raises(request: Any) -> Any:
    raise RuntimeError("no UI")


async def _dialog_junk(request: Any) -> Any:
    return "yes"


async def _dialog_none(request: Any) -> Any:
    return None


async def _dialog_bad_behavior(request: Any) -> Any:
    return {"behavior": "accepted"}


async def _dialog_unencodable(request: Any) -> Any:
    return tc.UserDialogResult.completed(object())


@pytest.mark.parametrize(
    ("callback", "warned"),
    [
        (None, False),
        (_dialog_none, False),
        (_dialog_raises, True),
        (_dialog_junk, True),
        (_dialog_bad_behavior, True),
        (_dialog_unencodable, True),
    ],
)
async def test_user_dialogs_fail_closed(
    callback: Any,
    warned: bool,
    caplog: pytest.LogCaptureFixture,
    autojump_clock: trio.testing.MockClock,
) -> None:
    opts, transport = options_for(dialog_script(), on_user_dialog=callback)
    with caplog.at_level(logging.WARNING, logger="trio_claude"):
        async with tc.open_session(opts) as session:
            await session.run("go")
    assert dialog_answer(transport) == {"behavior": "cancelled"}
    assert ("on_user_dialog for refusal_fallback_prompt failed; cancelled" in caplog.text) is warned


async def test_a_dialog_the_cli_withdraws_cancels_the_callback_and_is_not_answered(
    autojump_clock: trio.testing.MockClock,
) -> None:
    cancelled: list[str] = []

    async def render(request: tc.UserDialogRequest) -> tc.UserDialogResult:
        try:
            await trio.sleep(60)
        except trio.Cancelled:
            cancelled.append(request.dialog_kind)
            raise
        return tc.UserDialogResult.completed("late")

    frame = {"type": "control_request", "request_id": "d-slow", "request": DIALOG}
    script = one_turn(
        Emit(frame),
        Sleep(1),
        Emit({"type": "control_cancel_request", "request_id": "d-slow"}),
        Sleep(1),
    )
    opts, transport = options_for(script, on_user_dialog=render)
    async with tc.open_session(opts) as session:
        await session.run("go")
        assert session.statistics().inflight_callbacks == 0
    assert cancelled == ["refusal_fallback_prompt"]
    assert transport.fake is not None and "d-slow" not in transport.fake.responses
    assert answers(transport.fake) == []


# ----------------------------------------------------------------------- typed answers


_ANSWERS = [
    _control_types.SettingsSnapshot,
    _control_types.TaskOutput,
    _control_types.CancelAsyncMessageResult,
    _control_types.BinaryVersion,
    _control_types.FileSuggestions,
    _control_types.HooksListing,
    _control_types.PermissionRules,
    _control_types.McpCallResult,
    _control_types.McpReadResourceResult,
    _control_types.InterruptResult,
    _control_types.UserDialogRequest,
]
_KEYS = [
    "effective", "sources", "applied", "errors", "served_settings_state", "withheld", "output",
    "total_bytes", "truncated", "task_id", "cancelled", "message_uuid", "version", "buildTime",
    "suggestions", "cwd", "events", "hooks", "eventCatalog", "policy", "state", "rules",
    "workspaceDirectories", "originalCwd", "managedOnly", "content", "structuredContent", "_meta",
    "contents", "still_queued", "send_now", "dialog_kind", "payload", "tool_use_id",
]  # fmt: skip
_ITEM_KEYS = [
    "source", "settings", "path", "score", "name", "summary", "supportsMatcher", "hookCount",
    "event", "matcher", "type", "timeout", "behavior", "rule", "description", "uri", "text",
    "mimeType", "model", "effort",
]  # fmt: skip
_items = st.dictionaries(st.sampled_from(_ITEM_KEYS), tcst.json_values(max_leaves=2), max_size=4)


@pytest.mark.parametrize("cls", _ANSWERS, ids=lambda c: c.__name__)
@settings(max_examples=30)
@given(
    answer=st.one_of(
        tcst.json_objects(max_size=5),
        st.dictionaries(
            st.sampled_from(_KEYS),
            st.one_of(tcst.json_values(max_leaves=4), st.lists(_items, max_size=3), _items),
            max_size=6,
        ),
    )
)
def test_typed_answers_decode_any_object_leniently(cls: Any, answer: dict[str, Any]) -> None:
    # These answers are informational: decoding never raises, whatever the CLI sends.
    value = cls.from_wire(answer)
    assert isinstance(value.raw, dict)


def test_user_dialog_result_checks_its_behavior() -> None:
    with pytest.raises(ValueError, match="behavior"):
        tc.UserDialogResult("accepted")  # type: ignore[arg-type]
    assert tc.UserDialogResult.completed(None).to_dict() == {
        "behavior": "completed",
        "result": None,
    }
    assert tc.UserDialogResult.cancelled().to_dict() == {"behavior": "cancelled"}


def test_fake_scripts_with_the_new_fields_round_trip_through_json() -> None:
    script = FakeScript(
        task_outputs={"t": "out"},
        mcp_tools=MCP_SCRIPT.mcp_tools,
        mcp_resources=MCP_SCRIPT.mcp_resources,
        files=("a.py",),
    )
    assert FakeScript.from_json(script.to_json()) == script


def test_every_control_method_is_in_docs_control_md() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "control.md").read_text()
    methods = [
        name
        for name, value in vars(ControlRequests).items()
        if not name.startswith("_") and inspect.iscoroutinefunction(value)
    ]
    assert len(methods) > 30
    assert [m for m in methods if f"`{m}(" not in doc and f"/ `{m}(" not in doc] == []
