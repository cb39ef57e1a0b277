"""Blocking work and the event loop (reliability pain 28).

CLI discovery runs once per open, in a worker thread, before any task or process starts;
``tc.in_thread`` runs blocking callbacks of every kind in worker threads, keeps deadlines and
close bounded when the body hangs, and a slow sync callback on the loop is reported by name.

Tests whose failure mode would be a thread blocked forever arm a ``threading.Timer`` that
releases it after 10 s, so a regression fails an assertion instead of hanging the suite.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

import trio_claude as tc
from tests._helpers import answers, options_for, success
from trio_claude import _threads
from trio_claude._transport import _discovery
from trio_claude._transport._process import SubprocessTransport
from trio_claude.testing.fake_cli import (
    FakeScript,
    FakeTurn,
    Request,
    Result,
)

# ------------------------------------------------------------------------------- helpers


@pytest.fixture
def released() -> Iterator[threading.Event]:
    """A gate for blocked thread bodies: opened at the end of the test, or after 10 s."""
    gate = threading.Event()
    safety = threading.Timer(10, gate.set)
    safety.daemon = True
    safety.start()
    yield gate
    gate.set()
    safety.cancel()


def tool_call(tool: str, arguments: dict[str, Any], msg_id: int) -> Request:
    message = {
        "jsonrpc": "2.0",
        "id": msg_id,
        "method": "tools/call",
        "params": {"name": tool, "arguments": arguments},
    }
    return Request("mcp_message", {"server_name": "db", "message": message})


ELICIT = {"mcp_server_name": "github", "message": "Your token?", "mode": "form"}


def every_kind_script() -> FakeScript:
    steps = (
        Request("can_use_tool", {"tool_name": "Write", "input": {"p": 1}, "tool_use_id": "t1"}),
        Request("hook_callback", {"callback_id": "hook_0", "input": {}, "tool_use_id": "t1"}),
        tool_call("below", {"id": 1}, 1),
        tool_call("above", {"id": 2}, 2),
        Request("elicitation", ELICIT),
        Result(text="end"),
    )
    return FakeScript(turns=[FakeTurn(steps=steps)])


# ------------------------------------------------------------------------- CLI discovery


def fake_cli_executable(directory: Path) -> str:
    """An executable that speaks the protocol (the fake CLI), for a SubprocessTransport."""
    path = directory / "claude"
    path.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m trio_claude.testing.fake_cli -- "$@"\n')
    path.chmod(0o755)
    return str(path)


@pytest.fixture(autouse=True)
def _fresh_discoveries() -> Iterator[None]:
    """Each test discovers afresh (opens reuse a discovery for a few seconds)."""
    _discovery._found.clear()
    yield
    _discovery._found.clear()


class DiscoverySpy:
    """Replaces ``find_cli`` where sessions call it; records the calling thread."""

    def __init__(self, result: str | BaseException) -> None:
        self.result = result
        self.threads: list[threading.Thread] = []

    def __call__(self, cli_path: object = None) -> str:
        self.threads.append(threading.current_thread())
        if isinstance(self.result, BaseException):
            raise self.result
        return self.result

    def assert_worker_threads(self, count: int) -> None:
        assert len(self.threads) == count
        assert all(t is not threading.main_thread() for t in self.threads), self.threads


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell script as the CLI")
async def test_cli_discovery_runs_in_a_worker_thread_and_is_reused_briefly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = DiscoverySpy(fake_cli_executable(tmp_path))
    monkeypatch.setattr(_discovery, "find_cli", spy)

    async with tc.open_session() as session:
        assert (await session.run("hi")).text == "ok"
    spy.assert_worker_threads(1)

    # Opens right after it reuse that discovery (a fan-out of sessions discovers once).
    async with trio.open_nursery() as nursery:
        session = await tc.connect_session(nursery, tc.ClaudeAgentOptions())
        await session.aclose()
    assert (await tc.ask("hi")).text == "ok"
    spy.assert_worker_threads(1)

    _discovery._found.clear()  # as once DISCOVERY_TTL has passed
    assert (await tc.ask("hi")).text == "ok"
    spy.assert_worker_threads(2)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell script as the CLI")
async def test_a_pool_discovers_the_cli_once_for_all_its_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = DiscoverySpy(fake_cli_executable(tmp_path))
    monkeypatch.setattr(_discovery, "find_cli", spy)
    async with tc.open_session_pool(size=1) as pool:
        with trio.fail_after(30):
            async with pool.session() as session:
                assert (await session.run("hi")).text == "ok"
            await pool.wait_ready()  # a refill: a second process, no second discovery
        assert pool.statistics().handed_out == 1
    spy.assert_worker_threads(1)


class TaskSpawns(trio.abc.Instrument):
    def __init__(self) -> None:
        self.names: list[str] = []

    def task_spawned(self, task: trio.lowlevel.Task) -> None:
        self.names.append(task.name)


async def test_a_missing_cli_is_raised_before_any_task_or_process_starts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spy = DiscoverySpy(tc.CLINotFoundError("Claude Code CLI not found", cli_path=None))
    monkeypatch.setattr(_discovery, "find_cli", spy)

    async def no_spawn(*args: Any) -> Any:
        raise AssertionError("nothing may be spawned")

    monkeypatch.setattr(SubprocessTransport, "start", no_spawn)
    spawns = TaskSpawns()
    trio.lowlevel.add_instrument(spawns)
    try:
        with pytest.raises(tc.CLINotFoundError):
            async with tc.open_session():
                pass
        with pytest.raises(tc.CLINotFoundError):
            await tc.ask("hi")
        with pytest.raises(tc.CLINotFoundError):
            async with tc.open_session_pool():
                pass
        with pytest.raises(tc.ConfigurationError):  # invalid options: not even a discovery
            async with tc.open_session(tc.ClaudeAgentOptions(can_use_tool_timeout=1)):
                pass
    finally:
        trio.lowlevel.remove_instrument(spawns)
    assert spawns.names == []  # no nursery ever started a task
    spy.assert_worker_threads(3)


async def test_a_hung_discovery_is_abandoned_when_the_open_is_cancelled(
    autojump_clock: trio.testing.MockClock,
    released: threading.Event,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []

    def hung_find_cli(cli_path: object = None) -> str:  # a stat on a dead network mount
        calls.append("called")
        released.wait()
        calls.append("returned")
        return "/nonexistent/claude"

    monkeypatch.setattr(_discovery, "find_cli", hung_find_cli)
    with trio.move_on_after(3) as scope:
        async with tc.open_session():
            pytest.fail("cannot open")  # pragma: no cover
    assert scope.cancelled_caught
    assert trio.current_time() == pytest.approx(3)
    # The open returned while the thread was still blocked (or not even started yet: the
    # autojump clock may fire before a busy machine schedules the worker thread).
    assert "returned" not in calls


# ----------------------------------------------------------------- tc.in_thread callbacks


async def test_in_thread_callbacks_of_every_kind_run_in_worker_threads() -> None:
    threads: dict[str, threading.Thread] = {}

    def note(kind: str) -> None:
        threads[kind] = threading.current_thread()
        trio.from_thread.run_sync(trio.lowlevel.current_task)  # only from a trio worker thread

    @tc.in_thread
    def policy(tool_name: str, tool_input: dict[str, Any], context: Any) -> Any:
        note("can_use_tool")
        return tc.PermissionResultAllow(updated_input={"p": 2})

    @tc.in_thread
    def hook(hook_input: Any, tool_use_id: str | None, context: tc.HookContext) -> Any:
        note("hook")
        return tc.HookOutput(system_message=f"hooked {tool_use_id}")

    @tc.tool("below", "in_thread under tool", {"id": int})
    @tc.in_thread
    def below(args: dict[str, Any]) -> str:
        note("tool below")
        return f"below {args['id']}"

    @tc.in_thread
    @tc.tool("above", "in_thread over tool", {"id": int})
    def above(args: dict[str, Any]) -> str:
        note("tool above")
        return f"above {args['id']}"

    @tc.in_thread
    def on_elicitation(request: tc.ElicitationRequest) -> tc.ElicitationResult:
        note("elicitation")
        return tc.ElicitationResult(action="accept", content={"token": request.message})

    opts, transport = options_for(
        every_kind_script(),
        can_use_tool=policy,
        hooks={"PreToolUse": [tc.HookMatcher(hooks=[hook])]},
        mcp_servers={"db": tc.create_sdk_mcp_server("db", tools=[below, above])},
        on_elicitation=on_elicitation,
    )
    async with tc.open_session(opts) as session:
        with trio.fail_after(10):
            await session.run("go")
    permission, hooked, called_below, called_above, elicited = map(success, answers(transport.fake))
    assert permission == {"behavior": "allow", "updatedInput": {"p": 2}}
    assert hooked == {"systemMessage": "hooked t1"}
    assert called_below["mcp_response"]["result"]["content"] == [
        {"type": "text", "text": "below 1"}
    ]
    assert called_above["mcp_response"]["result"]["content"] == [
        {"type": "text", "text": "above 2"}
    ]
    assert elicited == {"action": "accept", "content": {"token": "Your token?"}}
    assert set(threads) == {"can_use_tool", "hook", "tool below", "tool above", "elicitation"}
    assert threading.main_thread() not in threads.values()


async def test_a_blocked_in_thread_callback_does_not_freeze_other_sessions(
    released: threading.Event,
) -> None:
    blocked = trio.Event()

    @tc.in_thread
    def slow_policy(tool_name: str, tool_input: dict[str, Any], context: Any) -> Any:
        trio.from_thread.run_sync(blocked.set)
        released.wait()  # e.g. requests.get to a slow policy service
        return tc.PermissionResultAllow()

    script = FakeScript(
        turns=[FakeTurn(steps=(Request("can_use_tool", {"tool_name": "W", "input": {}}), Result()))]
    )
    stuck_opts, _ = options_for(script, can_use_tool=slow_policy)
    other_opts, _ = options_for(FakeScript(turns=[FakeTurn.reply("other")] * 3))
    async with (
        tc.open_session(stuck_opts) as stuck,
        tc.open_session(other_opts) as other,
        trio.open_nursery() as nursery,
    ):
        nursery.start_soon(stuck.run, "blocks in its permission callback")
        await blocked.wait()
        for _ in range(3):  # whole turns of another session while the callback blocks
            assert (await other.run("hi")).text == "other"
        assert not released.is_set()
        released.set()


async def test_hung_in_thread_bodies_keep_deadlines_and_close_bounded(
    autojump_clock: trio.testing.MockClock,
    released: threading.Event,
    caplog: pytest.LogCaptureFixture,
) -> None:
    hook_started = trio.Event()

    @tc.in_thread
    def hung_policy(tool_name: str, tool_input: dict[str, Any], context: Any) -> Any:
        released.wait()
        return tc.PermissionResultAllow()

    @tc.in_thread
    def hung_hook(hook_input: Any, tool_use_id: str | None, context: Any) -> Any:
        trio.from_thread.run_sync(hook_started.set)
        released.wait()
        return {}

    script = FakeScript(
        turns=[
            FakeTurn(
                steps=(Request("can_use_tool", {"tool_name": "Write", "input": {}}), Result())
            ),
            FakeTurn(steps=(Request("hook_callback", {"callback_id": "hook_0", "input": {}}),)),
        ]
    )
    opts, transport = options_for(
        script,
        can_use_tool=hung_policy,
        can_use_tool_timeout=5,
        hooks={"Stop": [tc.HookMatcher(hooks=[hung_hook])]},
    )
    async with tc.open_session(opts) as session:
        start = trio.current_time()
        await session.run("permission")  # the deadline denies although the thread hangs
        assert trio.current_time() - start == pytest.approx(5, abs=0.5)
        await session.send("hook")
        await hook_started.wait()
        closing = trio.current_time()
    # leaving the block closed the session with the hook's thread still blocked
    assert trio.current_time() - closing <= opts.close_timeout + 2
    assert not released.is_set()
    # Only the permission request is answered for sure: the hung hook's request may or may not
    # get an error reply, depending on whether the writer was still open when its task was
    # cancelled by the close.
    assert transport.fake is not None
    first = transport.fake.requests_sent[0]["request_id"]
    assert success(transport.fake.responses[first])["behavior"] == "deny"
    assert "did not answer within 5 s" in caplog.text


# ----------------------------------------------------------------------- slow callbacks


async def test_slow_sync_callbacks_on_the_loop_are_reported_once_each_by_name(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    now = [0.0]
    monkeypatch.setattr(_threads, "_clock", lambda: now[0])

    def blocks(seconds: float) -> None:  # a blocking body, on a clock the detector reads
        now[0] += seconds

    def policy(tool_name: str, tool_input: dict[str, Any], context: Any) -> Any:
        blocks(0.3)
        return tc.PermissionResultAllow()

    def hook(hook_input: Any, tool_use_id: str | None, context: Any) -> Any:
        blocks(0.2)
        return {}

    @tc.tool("below", "slow", {"id": int})
    def slow_tool(args: dict[str, Any]) -> str:
        blocks(1.5)
        return "ok"

    @tc.tool("above", "quick", {"id": int})
    def quick_tool(args: dict[str, Any]) -> str:
        blocks(0.01)
        return "ok"

    def on_elicitation(request: tc.ElicitationRequest) -> Any:
        blocks(0.1)
        return None

    script = every_kind_script()
    opts, _ = options_for(
        FakeScript(turns=[*script.turns, *script.turns]),  # everything twice
        can_use_tool=policy,
        hooks={"PreToolUse": [tc.HookMatcher(hooks=[hook])]},
        mcp_servers={"db": tc.create_sdk_mcp_server("db", tools=[slow_tool, quick_tool])},
        on_elicitation=on_elicitation,
    )
    with caplog.at_level(logging.WARNING, logger="trio_claude"):
        async with tc.open_session(opts) as session:
            await session.run("one")
            await session.run("two")
    warnings = [r.getMessage() for r in caplog.records if r.name == "trio_claude"]
    assert len(warnings) == 4, warnings  # once per slow callback; the quick tool not at all
    prefix = "test_slow_sync_callbacks_on_the_loop_are_reported_once_each_by_name.<locals>."
    expected = [
        ("can_use_tool for Write: ", "policy", "300 ms"),
        ("PreToolUse hook callback hook_0: ", "hook", "200 ms"),
        ("tool below of MCP server db: ", "slow_tool", "1500 ms"),
        ("on_elicitation: ", "on_elicitation", "100 ms"),
    ]
    for text, (what, name, took) in zip(warnings, expected, strict=True):
        assert text.startswith(what + __name__ + "." + prefix + name + " "), text
        assert took in text and "trio_claude.in_thread" in text
