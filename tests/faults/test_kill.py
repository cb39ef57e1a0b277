"""SIGKILL of the CLI at many points of a session: a typed ProcessError within 1 s, no leak.

The CLI is the fake run as a real subprocess (``python -m trio_claude.testing.fake_cli``), killed
with ``os.kill(pid, SIGKILL)`` at a point the test controls (the fake announces where it is on
stderr, or the test watches the session's own state). One test kills the real ``claude`` CLI.

Every kill must:
- fail every pending call (the receiving call, control requests, the next ``send``) with
  ``ProcessError(exit_code=-9, signal="SIGKILL")`` within 1 s of the kill, classified as
  ``reason="killed"`` (the SDK did not send it) with the OOM-killer hint;
- leave no process, file descriptor or task (the suite's leak checker, plus ``exists(pid)``).
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest
import trio

import trio_claude as tc
from trio_claude.testing import ClaudeTestEnv, Turn
from trio_claude.testing import Text as ModelText
from trio_claude.testing.fake_cli import (
    FakeScript,
    FakeTurn,
    Flood,
    Hang,
    Request,
    Result,
    Stderr,
    StopReadingStdin,
    Text,
)

from ._support import RecordingProcessTransport, StderrWatch, exists, wait_until

#: The promise: every pending call fails this soon after the CLI dies.
BOUND = 1.0


def kill(pid: int | None) -> float:
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    return trio.current_time()


def assert_killed(error: BaseException) -> None:
    assert isinstance(error, tc.ProcessError), repr(error)
    assert error.exit_code == -signal.SIGKILL
    assert error.signal == "SIGKILL"
    # Not sent by the SDK: classified, with the OOM-killer hint as the last line of the text.
    assert error.reason == "killed"
    assert error.hint is not None and "dmesg" in error.hint
    assert str(error).endswith(f"hint (killed): {error.hint}")


def opts(
    script: FakeScript, tmp_path: Path, **kw: Any
) -> tuple[tc.ClaudeAgentOptions, RecordingProcessTransport, StderrWatch]:
    transport = RecordingProcessTransport(script, tmp_path)
    watch = StderrWatch()
    return tc.ClaudeAgentOptions(transport=transport, stderr=watch, **kw), transport, watch


class Outcomes:
    """Runs calls that should all fail, and records when and how each one ended."""

    def __init__(self) -> None:
        self.errors: dict[str, BaseException] = {}
        self.times: dict[str, float] = {}
        self.started: dict[str, trio.Event] = {}

    def start(self, nursery: trio.Nursery, name: str, call: Any) -> None:
        async def run() -> None:
            try:
                await call()
            except Exception as exc:
                self.errors[name] = exc
            else:
                self.errors[name] = AssertionError(f"{name} returned normally")
            self.times[name] = trio.current_time()

        nursery.start_soon(run)

    def check(self, killed_at: float, *names: str) -> None:
        assert set(self.errors) == set(names), self.errors
        for name in names:
            assert_killed(self.errors[name])
            assert self.times[name] - killed_at < BOUND, (name, self.times[name] - killed_at)


async def drain(session: tc.Session) -> None:
    async for _ in session.receive_response():
        pass


async def test_kill_right_after_spawn_before_initialize_is_read(tmp_path: Path) -> None:
    transport = RecordingProcessTransport(FakeScript(), tmp_path, kill_on_start=True)
    with pytest.raises(tc.ProcessError) as info:
        async with tc.open_session(tc.ClaudeAgentOptions(transport=transport)):
            pytest.fail("the session opened")
    assert transport.killed_at is not None
    assert trio.current_time() - transport.killed_at < BOUND
    assert_killed(info.value)
    assert not exists(transport.pids[0])


async def test_kill_before_the_initialize_reply(tmp_path: Path) -> None:
    script = FakeScript(on_initialize=[Stderr("at:initialize"), Hang()])
    options, transport, watch = opts(script, tmp_path)
    killed_at = 0.0

    async def killer() -> None:
        nonlocal killed_at
        await watch.wait_for("at:initialize")
        killed_at = kill(transport.pids[0])

    async with trio.open_nursery() as nursery:
        nursery.start_soon(killer)
        with pytest.raises(tc.ProcessError) as info:
            async with tc.open_session(options):
                pytest.fail("the session opened")
        # not the 60 s initialize timeout
        assert trio.current_time() - killed_at < BOUND
    assert_killed(info.value)
    assert "at:initialize" in info.value.stderr
    assert not exists(transport.pids[0])


async def test_kill_while_idle_fails_the_waiting_receiver_and_pending_requests(
    tmp_path: Path,
) -> None:
    script = FakeScript(unanswered=("get_usage", "get_context_usage"))
    options, transport, _ = opts(script, tmp_path)
    outcomes = Outcomes()
    async with tc.open_session(options) as session:
        async with trio.open_nursery() as nursery:
            outcomes.start(nursery, "get_usage", session.get_usage)
            outcomes.start(nursery, "context", session.get_context_usage)
            outcomes.start(nursery, "messages", lambda: drain_all(session))
            await wait_until(lambda: session.statistics().pending_requests == 2)
            killed_at = kill(session.pid)
        outcomes.check(killed_at, "get_usage", "context", "messages")
        # everything afterwards fails the same way, at once
        for call in (lambda: session.send("more"), session.interrupt, session.get_usage):
            with pytest.raises(tc.ProcessError) as info:
                await call()
            assert_killed(info.value)
        assert session.statistics().pending_requests == 0
    assert not exists(transport.pids[0])


async def drain_all(session: tc.Session) -> None:
    async for _ in session.receive_messages():
        pass


async def test_an_external_sigkill_is_classified_as_killed(tmp_path: Path) -> None:
    turn = FakeTurn(steps=[Stderr("at:turn"), Hang()])
    options, transport, watch = opts(FakeScript(turns=[turn]), tmp_path)
    async with tc.open_session(options) as session:
        await session.send("go")
        await watch.wait_for("at:turn")
        kill(session.pid)
        with pytest.raises(tc.ProcessError) as info:
            await drain(session)
        error = info.value
        assert (error.reason, error.signal) == ("killed", "SIGKILL")
        assert error.hint is not None
        assert "SIGKILL" in error.hint and "OOM killer" in error.hint and "dmesg" in error.hint
        lines = str(error).splitlines()
        assert "at:turn" in lines and lines[-1] == f"hint (killed): {error.hint}"
        # The session keeps failing with the same classified error.
        with pytest.raises(tc.ProcessError) as again:
            await session.send("more")
        assert again.value.reason == "killed"
    assert not exists(transport.pids[0])


async def test_kill_mid_stream(tmp_path: Path) -> None:
    turn = FakeTurn(steps=[Text("first"), Stderr("at:stream"), Text("second"), Hang()])
    script = FakeScript(turns=[turn], unanswered=("get_usage",))
    options, transport, watch = opts(script, tmp_path)
    seen: list[tc.Message] = []
    outcomes = Outcomes()

    async def receive() -> None:
        async for message in session.receive_response():
            seen.append(message)

    async with tc.open_session(options) as session:
        await session.send("go")
        async with trio.open_nursery() as nursery:
            outcomes.start(nursery, "receive", receive)
            outcomes.start(nursery, "get_usage", session.get_usage)
            await watch.wait_for("at:stream")
            await wait_until(lambda: len(seen) >= 2)  # init + "first"
            killed_at = kill(session.pid)
        outcomes.check(killed_at, "receive", "get_usage")
        assert "at:stream" in str(outcomes.errors["receive"])  # the stderr tail is in the text
    assert any(isinstance(m, tc.AssistantMessage) for m in seen)
    assert not exists(transport.pids[0])


async def test_kill_during_a_callback_fails_the_turn_and_cancels_the_callback(
    tmp_path: Path,
) -> None:
    entered = trio.Event()
    ended: list[str] = []

    async def slow_policy(tool_name: str, tool_input: Any, context: Any) -> Any:
        entered.set()
        try:
            await trio.sleep_forever()
        finally:
            ended.append("cancelled")

    permission = Request("can_use_tool", {"tool_name": "Bash", "input": {"command": "ls"}})
    turn = FakeTurn(steps=[Text("asking"), permission, Result()])
    options, transport, _ = opts(FakeScript(turns=[turn]), tmp_path, can_use_tool=slow_policy)
    outcomes = Outcomes()
    async with tc.open_session(options) as session:
        await session.send("go")
        async with trio.open_nursery() as nursery:
            outcomes.start(nursery, "receive", lambda: drain(session))
            await entered.wait()
            assert session.statistics().inflight_callbacks == 1
            killed_at = kill(session.pid)
        outcomes.check(killed_at, "receive")
    # leaving the session cancelled the callback that was still running
    assert ended == ["cancelled"]
    assert not exists(transport.pids[0])


async def test_kill_while_flooding_delivers_what_was_read_then_the_error(tmp_path: Path) -> None:
    frame = {"type": "assistant", "message": {"role": "assistant", "model": "m", "content": []}}
    turn = FakeTurn(steps=[Flood(frame, 2_000_000), Result()])
    script = FakeScript(turns=[turn], unanswered=("get_usage",))
    options, transport, _ = opts(script, tmp_path)
    outcomes = Outcomes()
    async with tc.open_session(options) as session:
        await session.send("go")
        async with trio.open_nursery() as nursery:
            outcomes.start(nursery, "get_usage", session.get_usage)
            await wait_until(lambda: session.statistics().messages_read > 5_000)
            killed_at = kill(session.pid)
        outcomes.check(killed_at, "get_usage")
        buffered = session.statistics().buffered_messages
        assert buffered > 5_000
        count = 0
        with pytest.raises(tc.ProcessError) as info:
            async for _ in session.receive_response():
                count += 1
        assert_killed(info.value)
        assert count == buffered  # nothing read before the kill is lost
    assert not exists(transport.pids[0])


async def test_kill_while_the_writer_is_blocked_on_a_full_stdin(tmp_path: Path) -> None:
    turn = FakeTurn(steps=[StopReadingStdin(), Result(text="deaf now")])
    script = FakeScript(turns=[turn])
    options, transport, _ = opts(script, tmp_path)
    outcomes = Outcomes()
    async with tc.open_session(options) as session:
        assert (await session.run("stop listening")).text == "deaf now"
        await session.send("x" * (8 * 1024 * 1024))  # far more than the pipe holds
        async with trio.open_nursery() as nursery:
            outcomes.start(nursery, "set_model", lambda: session.set_model("other"))
            outcomes.start(nursery, "receive", lambda: drain(session))
            await trio.sleep(0.2)  # the writer fills the pipe meanwhile
            await wait_until(lambda: session.statistics().pending_requests == 1)  # bounded
            killed_at = kill(session.pid)
        outcomes.check(killed_at, "set_model", "receive")
    assert not exists(transport.pids[0])


async def test_kill_while_an_abandoned_turn_drains(tmp_path: Path) -> None:
    turn = FakeTurn(steps=[Text("x"), Stderr("at:turn"), Hang()])
    script = FakeScript(turns=[turn], unanswered=("interrupt",))
    options, transport, watch = opts(script, tmp_path, interrupt_timeout=30)
    async with tc.open_session(options) as session:
        await session.send("go")
        with trio.move_on_after(0.3):
            await drain(session)  # cancelled: the session interrupts and drains, in the background
        await watch.wait_for("at:turn")
        killed_at = kill(session.pid)
        with pytest.raises(tc.ProcessError) as info:
            await session.send("next")  # waits for the drain, which the kill ends
        assert trio.current_time() - killed_at < BOUND
        assert_killed(info.value)
    assert not exists(transport.pids[0])


# ------------------------------------------------------------------- the real CLI


@pytest.mark.e2e
async def test_kill_the_real_cli_mid_stream(claude_env: ClaudeTestEnv) -> None:
    long = Turn([ModelText(" ".join(f"w{i}" for i in range(2000)))], delay=0.01)
    options = claude_env.options([long], include_partial_messages=True)
    deltas = 0
    async with tc.open_session(options) as session:
        pid = session.pid
        await session.send("write a long essay")
        killed_at = 0.0
        with pytest.raises(tc.ProcessError) as info:
            with trio.fail_after(30):
                async for message in session.receive_response():
                    if isinstance(message, tc.StreamEvent):
                        deltas += 1
                        if deltas == 5:
                            killed_at = kill(pid)
        assert trio.current_time() - killed_at < BOUND
        assert_killed(info.value)
        assert info.value.cli_version == tc.CLI_VERSION
        with pytest.raises(tc.ProcessError):
            await session.send("are you there?")
        with pytest.raises(tc.ProcessError):
            await session.interrupt()
    assert pid is not None and not exists(pid)
    assert claude_env.leaked_processes() == []
