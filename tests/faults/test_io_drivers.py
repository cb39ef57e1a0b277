"""The session's two io drivers, on a real child process: the same rules either way.

A local child on Linux is watched by one task (``Session._pump``: stdout, stderr and the exit
through one epoll fd, ``ChildWatch``); any other child by three (reader, stderr pump, exit watch).
Each test runs with both (``driver``); the three-task one is forced by making ``ChildWatch.of``
decline the child.
"""

from __future__ import annotations

import errno
import logging
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trio

import trio_claude as tc
from trio_claude import _session
from trio_claude._transport import _process
from trio_claude._transport._base import ChildProcess, LaunchSpec
from trio_claude._transport._process import ChildWatch
from trio_claude.testing.fake_cli import (
    FakeCLIProcessTransport,
    FakeScript,
    FakeTurn,
    Flood,
    Result,
    Stderr,
    Text,
    WaitForInterrupt,
)

from ._support import FLOOD_FRAME, ScriptTransport, alive, wait_until

CLIS = Path(__file__).parent / "clis"
BOUND = 64 * 1024
IO_TASKS = {"_reader", "_watch_exit", "_stderr_pump", "_pump"}

pytestmark = pytest.mark.skipif(
    not (hasattr(os, "pidfd_open") and hasattr(__import__("select"), "epoll")),
    reason="the one-task driver needs pidfd and epoll (Linux)",
)


@pytest.fixture(params=["one task", "three tasks"])
def driver(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "three tasks":
        monkeypatch.setattr(ChildWatch, "of", classmethod(lambda cls, proc: None))
    return str(request.param)


@pytest.fixture
def default_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    """The stdout pipe keeps the kernel's default: growing it is best effort, and fails for a user
    over ``fs.pipe-user-pages-soft`` (several test runs at once), so no test may count on it.
    That user's new pipes get 8 KiB, not 64 KiB: no test may count on more than that either."""
    monkeypatch.setattr(_process, "_grow_pipe", lambda fd: None)


def process_options(tmp_path: Path, steps: list[Any], **kw: Any) -> tc.ClaudeAgentOptions:
    transport = FakeCLIProcessTransport(FakeScript(turns=[FakeTurn(steps=steps)]), tmp_path)
    return tc.ClaudeAgentOptions(transport=transport, **kw)


def io_tasks(session: tc.Session) -> set[str]:
    io = session._io
    assert io is not None
    names = {task.name.rsplit(".", 1)[-1] for task in io.child_tasks}
    return names & IO_TASKS


async def test_a_local_child_is_watched_by_one_task(tmp_path: Path, driver: str) -> None:
    options = process_options(tmp_path, [Text("hi"), Result(text="done")])
    async with tc.open_session(options) as session:
        if driver == "one task":
            assert isinstance(session._watch, ChildWatch)
            assert io_tasks(session) == {"_pump"}
        else:
            assert session._watch is None
            assert io_tasks(session) == {"_reader", "_watch_exit", "_stderr_pump"}
        turn = await session.run("go")
        assert turn.text == "done"


async def test_stderr_is_drained_while_the_reader_is_paused(
    tmp_path: Path, driver: str, default_pipe: None
) -> None:
    # The CLI writes past max_buffered_bytes to stdout (the reader pauses), then far more to
    # stderr than its pipe holds: it reaches its result only if stderr is read meanwhile.
    # Its stdout (~5 KB) is over the bound but within the smallest pipe the kernel gives (8 KiB,
    # for a user over fs.pipe-user-pages-soft: new pipes get 2 pages), so the CLI gets past it
    # to stderr whatever the pipe's size and however much the reader took before pausing.
    lines: list[str] = []
    steps: list[Any] = [
        Text("start"),
        Flood(FLOOD_FRAME, 8),
        *(Stderr(f"line {i} " + "e" * 1000) for i in range(200)),
        Result(text="flooded"),
    ]
    options = process_options(tmp_path, steps, max_buffered_bytes=2048, stderr=lines.append)
    async with tc.open_session(options) as session:
        await session.send("flood")
        # (Waits for the last line itself: other stderr lines may come first, and a count of
        # 200 was reached at line 197 on a loaded CI machine.)
        await wait_until(lambda: any(line.startswith("line 199 ") for line in lines), timeout=30)
        assert session.statistics().reader_paused
        assert all(any(line.startswith(f"line {i} ") for line in lines) for i in (0, 100, 199))
        with trio.fail_after(30):
            turn = await session.collect_response()
        assert turn.text.endswith("flooded")
        assert sum(isinstance(m, tc.AssistantMessage) for m in turn.messages) == 9


async def test_interrupt_is_answered_while_the_reader_is_paused(
    tmp_path: Path, driver: str, default_pipe: None
) -> None:
    # The pipe at 64 KiB: the flood is still being written when the interrupt arrives.
    steps: list[Any] = [Text("start"), Flood(FLOOD_FRAME, 2000), WaitForInterrupt()]
    options = process_options(tmp_path, steps, max_buffered_bytes=BOUND, control_timeout=30)
    async with tc.open_session(options) as session:
        await session.send("flood")
        await wait_until(lambda: session.statistics().reader_paused, timeout=30)
        await session.interrupt()  # its answer is behind ~800 KB nobody has read
        messages: list[tc.Message] = []
        with trio.fail_after(30):
            async for message in session.receive_response():
                messages.append(message)
        assert sum(isinstance(m, tc.AssistantMessage) for m in messages) == 2001
        last = messages[-1]
        assert isinstance(last, tc.ResultMessage) and last.subtype == "error_during_execution"


@pytest.fixture
def holder_pidfile(tmp_path: Path) -> Iterator[Path]:
    pidfile = tmp_path / "holder.pid"
    try:
        yield pidfile
    finally:
        if pidfile.exists():
            pid = int(pidfile.read_text())
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


async def test_closing_does_not_wait_for_a_stdout_held_by_what_the_cli_left(
    holder_pidfile: Path, driver: str, caplog: pytest.LogCaptureFixture
) -> None:
    # The CLI exits at the end of its stdin, and a process it left (beyond the sweep) keeps
    # its stdout open. Once the CLI is reaped, the pipe holds all there is: the session stops
    # reading then, rather than after the grace a held stdout gets while nobody closes.
    transport = ScriptTransport(CLIS / "holds_stdout_at_close.py", str(holder_pidfile))
    caplog.set_level(logging.WARNING, logger="trio_claude")
    with trio.fail_after(30):
        async with tc.open_session(tc.ClaudeAgentOptions(transport=transport)) as session:
            pass
    assert session.returncode == 0
    holder = int(holder_pidfile.read_text())  # noqa: ASYNC240 (a few bytes, once)
    assert alive(holder)  # it did hold stdout all along
    assert not session._stdout_held
    assert "still open" not in caplog.text
    assert session.lifecycle is tc.LifecycleState.CLOSED


def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


async def test_no_fd_outlives_its_session(tmp_path: Path, driver: str) -> None:
    options = process_options(tmp_path, [Text("hi"), Result(text="done")])
    async with tc.open_session(options) as session:  # the guardian and the like, made once
        await session.run("go")
    before = open_fds()
    for _ in range(5):
        async with tc.open_session(options) as session:
            await session.run("go")
    assert open_fds() == before


async def test_a_failure_handling_the_output_leaves_stderr_drained_until_the_cli_stops(
    driver: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Handling the output raises (a bug of ours, say): the session ends with one typed error
    # and closes, but until the shutdown stops the CLI its stderr is still read (a CLI whose
    # stderr is closed under it dies of it, here with 9, instead of exiting on its own).
    handle = _session.Session._handle_events

    def failing(self: _session.Session, events: list[Any], nbytes: int) -> None:
        if any(
            isinstance(e, tc.AssistantMessage) or (isinstance(e, bytes) and b'"assistant"' in e)
            for e in events
        ):
            raise RuntimeError("a bug of ours")
        handle(self, events, nbytes)

    monkeypatch.setattr(_session.Session, "_handle_events", failing)
    transport = ScriptTransport(CLIS / "chatty_stderr.py")
    with trio.fail_after(30):
        async with tc.open_session(tc.ClaudeAgentOptions(transport=transport)) as session:
            with pytest.raises(tc.SessionClosedError) as info:
                await session.run("go")
            assert isinstance(info.value.__cause__, RuntimeError)
    assert session.returncode == 0


async def test_a_watch_that_cannot_be_made_falls_back_to_three_tasks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Out of fds right after the spawn (another session's spawn took the last ones): the
    # session runs on the three tasks, which need no fd more.
    def no_fds(self: ChildWatch, proc: Any, pidfd: int) -> None:
        raise OSError(errno.EMFILE, "Too many open files")

    monkeypatch.setattr(ChildWatch, "__init__", no_fds)
    options = process_options(tmp_path, [Text("hi"), Result(text="done")])
    async with tc.open_session(options) as session:
        assert session._watch is None
        assert io_tasks(session) == {"_reader", "_watch_exit", "_stderr_pump"}
        assert (await session.run("go")).text == "done"


class _RecordingTransport(FakeCLIProcessTransport):
    children: list[ChildProcess]

    async def start(self, spec: LaunchSpec, nursery: trio.Nursery) -> ChildProcess:
        child = await super().start(spec, nursery)
        self.children.append(child)
        return child


async def test_a_failure_starting_the_io_tasks_stops_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The process runs before the session's shutdown is armed: whatever fails in between
    # stops and reaps it.
    def broken(cls: type[ChildWatch], proc: Any) -> None:
        raise RuntimeError("a bug of ours")

    monkeypatch.setattr(ChildWatch, "of", classmethod(broken))
    transport = _RecordingTransport(
        FakeScript(turns=[FakeTurn(steps=[Result(text="done")])]), tmp_path
    )
    transport.children = []
    with trio.fail_after(30), pytest.raises(RuntimeError, match="a bug of ours"):
        async with tc.open_session(tc.ClaudeAgentOptions(transport=transport)):
            pass
    [child] = transport.children
    assert child.returncode is not None  # stopped and reaped
