"""Leaving a session while a turn is in flight, with the real CLI (issue 10, fault 1).

Every way of leaving with a turn open must interrupt the turn (bounded by
``interrupt_timeout``), drain it to its result, then close stdin, so that the CLI exits on its
own: no SIGTERM after ``close_timeout`` (exit status 143, or -15 when it dies of it), no
SIGKILL (-9, which is what a running ``Bash`` tool used to earn). Each test asserts the CLI's
exit status and that nothing carrying the test environment's marker is left running. The time
it takes is measured by ``benchmarks/cancel_leave.py``, never asserted here; it is only shown
in the failure message.

Paths: ``trio.move_on_after`` around ``session.run`` (the README's pattern), ``break`` out of
``query()``, an exception in the body, a cancelled nursery of 8 sessions, Ctrl-C in the blocking
API, and a cancel while a long ``Bash`` tool runs (a loop of short sleeps, not one long
``sleep``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import trio

import trio_claude as tc
import trio_claude.blocking as tcb
from tests.integration._blocking_support import ctrl_c_when_blocked, facade_threads
from trio_claude._transport._base import ChildProcess, LaunchSpec
from trio_claude._transport._discovery import find_cli
from trio_claude.testing import (
    ClaudeTestEnv,
    Text,
    ToolUse,
    Turn,
    find_marked_processes,
    open_claude_test_env_blocking,
)

#: A bound on anything here, so that a failure never hangs (never a timing assertion).
PATIENCE = 60

#: The exit statuses of a CLI that exited on its own once its stdin was closed, with no signal
#: from us (SIGTERM would give 143 or -15, SIGKILL -9). CLI 2.1.329 exits 1 here, not 0: in
#: stream-json mode its exit status is 1 when the last result it wrote was an error, and an
#: interrupted turn's (``error_during_execution``) is one. It does so whatever drives it (by
#: hand: ``interrupt``, drain to the result, close stdin; or after ``end_session``); the only
#: way to a 0 is SIGINT, a signal. See ``docs/reliability.md``.
EXITED_ON_ITS_OWN = (0, 1)

#: A shell loop of short sleeps, ~10 s in all (rather than one long ``sleep``, which the CLI
#: may refuse).
BASH_LOOP = "for i in $(seq 1 100); do sleep 0.1; done; echo loop-done"


def long_turn() -> Turn:
    """A streamed answer that takes ~10 s: longer than ``close_timeout``, so that a CLI left to
    finish it after its stdin is closed is SIGTERMed."""
    return Turn([Text(" ".join(f"w{i}" for i in range(4000)))], delay=0.01)


def bash_turn() -> Turn:
    return Turn([ToolUse("Bash", {"command": BASH_LOOP})])


class RecordingTransport(tc.SubprocessTransport):
    """The default transport, keeping the processes it starts: ``query()`` and the blocking
    facade do not hand out the :class:`~trio_claude.Session` whose ``returncode`` we read."""

    def __init__(self) -> None:
        self.processes: list[ChildProcess] = []

    async def start(self, spec: LaunchSpec, nursery: trio.Nursery) -> ChildProcess:
        process = await super().start(spec, nursery)
        self.processes.append(process)
        return process


def recorded(transport: RecordingTransport) -> ChildProcess:
    [process] = transport.processes
    return process


def assert_exited_on_its_own(
    returncode: int | None, leaked: list[int], elapsed: float, what: str = "the CLI"
) -> None:
    assert returncode in EXITED_ON_ITS_OWN, (
        f"{what} exited with {returncode} (143 / -15: SIGTERM, -9: SIGKILL; 1: it exited on its"
        f" own after an error result); the block took {elapsed:.2f} s to leave"
    )
    assert leaked == [], f"processes outlived the session: {leaked}"


def is_tool_process(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return cmdline.split(b"\0")[0] == b"sleep"


async def bash_tool_runs(marker: str) -> None:
    """Returns once a ``sleep`` of the Bash loop runs (tools inherit the CLI's environment,
    marker included)."""
    with trio.fail_after(PATIENCE):
        while not any(is_tool_process(pid) for pid in find_marked_processes(marker)):
            await trio.sleep(0.05)


def stream_events(seen: list[Any]) -> int:
    return sum(isinstance(m, tc.StreamEvent) for m in seen)


# ------------------------------------------------------------------ a. move_on_after


async def test_move_on_after_around_run_then_leave(claude_env: ClaudeTestEnv) -> None:
    opts = claude_env.options([long_turn()], include_partial_messages=True)
    with trio.fail_after(PATIENCE):
        async with tc.open_session(opts) as session:
            assert session.pid is not None
            with trio.move_on_after(1.5) as scope:
                await session.run("write a long essay")
            assert scope.cancelled_caught  # the turn was still streaming
            started = time.perf_counter()
        elapsed = time.perf_counter() - started
    assert_exited_on_its_own(session.returncode, claude_env.leaked_processes(), elapsed)


# ------------------------------------------------------------------ b. break out of query()


async def test_break_out_of_query_mid_stream(claude_env: ClaudeTestEnv) -> None:
    transport = RecordingTransport()
    opts = claude_env.options(
        [long_turn()], include_partial_messages=True, transport=transport, cli_path=find_cli()
    )
    seen: list[Any] = []
    with trio.fail_after(PATIENCE):
        async with tc.query("write a long essay", options=opts) as messages:
            async for message in messages:
                seen.append(message)
                if stream_events(seen) == 5:
                    break
            assert not any(isinstance(m, tc.ResultMessage) for m in seen)
            started = time.perf_counter()
        elapsed = time.perf_counter() - started
    process = recorded(transport)
    assert process.pid is not None
    assert_exited_on_its_own(process.returncode, claude_env.leaked_processes(), elapsed)


# ------------------------------------------------------------------ c. an exception in the body


class Boom(Exception):
    pass


async def test_an_exception_in_the_body_mid_stream(claude_env: ClaudeTestEnv) -> None:
    opts = claude_env.options([long_turn()], include_partial_messages=True)
    boom = Boom("raised by the user's code mid-stream")
    started = time.perf_counter()
    with trio.fail_after(PATIENCE), pytest.raises(Boom) as caught:
        async with tc.open_session(opts) as session:
            assert session.pid is not None
            await session.send("write a long essay")
            seen: list[Any] = []
            async for message in session.receive_response():
                seen.append(message)
                if stream_events(seen) == 5:
                    started = time.perf_counter()
                    raise boom
    elapsed = time.perf_counter() - started
    assert caught.value is boom  # unchanged: not wrapped, not a group
    assert_exited_on_its_own(session.returncode, claude_env.leaked_processes(), elapsed)


# ------------------------------------------------------------------ d. a cancelled nursery


async def test_a_cancelled_nursery_of_eight_sessions_mid_turn(claude_env: ClaudeTestEnv) -> None:
    count = 8
    sessions: list[tc.Session] = []
    streaming = 0
    all_streaming = trio.Event()

    async def one(opts: tc.ClaudeAgentOptions) -> None:
        nonlocal streaming
        async with tc.open_session(opts) as session:
            sessions.append(session)
            await session.send("write a long essay")
            seen: list[Any] = []
            async for message in session.receive_response():
                seen.append(message)
                if stream_events(seen) == 3:
                    streaming += 1
                    if streaming == count:
                        all_streaming.set()

    with trio.fail_after(PATIENCE):
        async with trio.open_nursery() as nursery:
            for _ in range(count):
                opts = claude_env.options([long_turn()], include_partial_messages=True)
                nursery.start_soon(one, opts)
            await all_streaming.wait()
            started = time.perf_counter()
            nursery.cancel_scope.cancel()
        elapsed = time.perf_counter() - started
    assert len(sessions) == count and all(s.pid is not None for s in sessions)
    codes = [s.returncode for s in sessions]
    assert all(code in EXITED_ON_ITS_OWN for code in codes), (
        f"exit statuses {codes}; the nursery took {elapsed:.2f} s to end"
    )
    assert claude_env.leaked_processes() == []


# ------------------------------------------------------------------ e. Ctrl-C, blocking API


def test_ctrl_c_in_the_blocking_api_leaves_the_block(tmp_path: Path) -> None:
    # A real SIGINT to the main thread while it waits in ``run()``; the KeyboardInterrupt
    # leaves the ``with`` block, which closes the session.
    transport = RecordingTransport()
    with open_claude_test_env_blocking(tmp_path) as env:
        opts = env.options(
            [long_turn()], include_partial_messages=True, transport=transport, cli_path=find_cli()
        )
        interrupter = None
        started = time.perf_counter()
        with pytest.raises(KeyboardInterrupt), tcb.open_session(opts) as session:
            assert session.pid is not None
            interrupter = ctrl_c_when_blocked()
            try:
                session.run("write a long essay")
            except KeyboardInterrupt:
                started = time.perf_counter()
                raise
        elapsed = time.perf_counter() - started
        assert interrupter is not None
        interrupter.join()
        leaked = env.leaked_processes()
    assert facade_threads() == []
    assert_exited_on_its_own(recorded(transport).returncode, leaked, elapsed)


def test_ctrl_c_caught_in_the_blocking_api_then_leave_the_block(tmp_path: Path) -> None:
    # The notebook case: the KeyboardInterrupt is caught (the turn is abandoned: interrupted and
    # drained in the session's thread), and the block is left at once.
    transport = RecordingTransport()
    with open_claude_test_env_blocking(tmp_path) as env:
        opts = env.options(
            [long_turn()], include_partial_messages=True, transport=transport, cli_path=find_cli()
        )
        with tcb.open_session(opts) as session:
            assert session.pid is not None
            interrupter = ctrl_c_when_blocked()
            with pytest.raises(KeyboardInterrupt):
                session.run("write a long essay")
            started = time.perf_counter()
            interrupter.join()
        elapsed = time.perf_counter() - started
        leaked = env.leaked_processes()
    assert facade_threads() == []
    assert_exited_on_its_own(recorded(transport).returncode, leaked, elapsed)


# ------------------------------------------------------------------ f. a long Bash tool


async def test_cancel_during_a_long_bash_tool_then_leave(claude_env: ClaudeTestEnv) -> None:
    opts = claude_env.options([bash_turn(), Turn("never reached")], allowed_tools=["Bash"])
    started = time.perf_counter()
    with trio.fail_after(PATIENCE):
        async with tc.open_session(opts) as session:
            assert session.pid is not None
            async with trio.open_nursery() as nursery:

                async def cancel_once_the_tool_runs() -> None:
                    nonlocal started
                    await bash_tool_runs(claude_env.marker)
                    started = time.perf_counter()
                    nursery.cancel_scope.cancel()

                nursery.start_soon(cancel_once_the_tool_runs)
                await session.run("run the loop")
            assert nursery.cancel_scope.cancelled_caught
        elapsed = time.perf_counter() - started
    assert_exited_on_its_own(session.returncode, claude_env.leaked_processes(), elapsed)
