"""Writing to and reading from the CLI's pipes without the writer task and ``send_all``.

A session writes a frame straight into stdin when nothing is queued ahead of it
(``_transport/_process.py: write_nowait``) and reads stdout with one pass of the event loop per
read (``PipeReader``). These tests hold the guarantees those shortcuts must keep: frames whole and
in order when the pipe is full, closed streams refused, errors surfaced, and a flood still
letting other tasks run.
"""

from __future__ import annotations

import fcntl
import gc
import os

import pytest
import trio
import trio.testing

import trio_claude as tc
from trio_claude._session import Session
from trio_claude._transport._base import LaunchSpec
from trio_claude._transport._process import PipeReader, write_nowait
from trio_claude.testing import FakeCLITransport

_SMALL_PIPE = 4096


def _pipe(size: int | None = None) -> tuple[int, int]:
    r, w = os.pipe()
    if size is not None:
        fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, size)
    return r, w


async def test_write_nowait_writes_what_the_pipe_takes() -> None:
    r, w = _pipe(_SMALL_PIPE)
    stream = trio.lowlevel.FdStream(w)
    try:
        assert write_nowait(stream, b"hello\n") == 6
        assert os.read(r, 100) == b"hello\n"
        big = b"x" * (_SMALL_PIPE * 4)
        taken = write_nowait(stream, big)
        assert taken is not None and 0 < taken < len(big)
        assert write_nowait(stream, b"more") == 0  # full: nothing taken, nothing raised
    finally:
        await stream.aclose()
        os.close(r)


async def test_write_nowait_refuses_closed_and_foreign_streams() -> None:
    r, w = _pipe()
    stream = trio.lowlevel.FdStream(w)
    await stream.aclose()
    # A closed stream's fd number may already belong to a file opened since: never written.
    assert write_nowait(stream, b"x") is None
    os.close(r)
    send, _receive = trio.testing.memory_stream_pair()
    assert write_nowait(send, b"x") is None


async def test_write_nowait_reports_a_gone_reader() -> None:
    r, w = _pipe()
    stream = trio.lowlevel.FdStream(w)
    os.close(r)
    try:
        with pytest.raises(BrokenPipeError):
            write_nowait(stream, b"x")
    finally:
        await stream.aclose()


async def test_pipe_reader_reads_then_ends() -> None:
    r, w = _pipe()
    reader = PipeReader(trio.lowlevel.FdStream(r))
    os.write(w, b"abc")
    assert await reader.receive_some(10) == b"abc"
    async with trio.open_nursery() as nursery:

        async def write_later() -> None:
            await trio.testing.wait_all_tasks_blocked()
            os.write(w, b"def")
            os.close(w)

        nursery.start_soon(write_later)
        assert await reader.receive_some(10) == b"def"  # waited for it
        assert await reader.receive_some(10) == b""


async def test_pipe_reader_raises_when_closed_while_waiting() -> None:
    r, w = _pipe()
    stream = trio.lowlevel.FdStream(r)
    reader = PipeReader(stream)
    caught: list[BaseException] = []

    async def read() -> None:
        try:
            await reader.receive_some(10)
        except trio.ClosedResourceError as exc:
            caught.append(exc)

    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(read)
            await trio.testing.wait_all_tasks_blocked()
            await stream.aclose()
        assert len(caught) == 1
        with pytest.raises(trio.ClosedResourceError):
            await reader.receive_some(10)
    finally:
        os.close(w)


async def test_pipe_reader_lets_other_tasks_run_under_a_flood() -> None:
    """Data always waiting must not starve the loop: a checkpoint at least every other read."""
    r, w = _pipe()
    reader = PipeReader(trio.lowlevel.FdStream(r))
    # Within the smallest pipe the kernel gives (8 KiB, for a user over
    # fs.pipe-user-pages-soft): a blocking write of more would hang there.
    os.write(w, b"y" * 6_000)
    ticks = 0
    reads = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await trio.lowlevel.checkpoint()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(tick)
        await trio.lowlevel.checkpoint()
        start = ticks
        for _ in range(60):
            assert await reader.receive_some(100) == b"y" * 100
            reads += 1
        nursery.cancel_scope.cancel()
    assert ticks - start >= reads // 2 - 1
    os.close(w)


async def test_a_frame_that_must_wait_after_the_io_nursery_ended_stays_queued() -> None:
    """The shutdown may still send (an interrupt) after a failed io task ended the nursery: the
    writer cannot start then, and the frame stays queued instead of raising out of the
    shutdown (which must go on to stop the CLI)."""
    session = Session(
        tc.ClaudeAgentOptions(), LaunchSpec(argv=["claude"], env={}), FakeCLITransport()
    )
    r, w = _pipe(_SMALL_PIPE)
    stdin = trio.lowlevel.FdStream(w)
    session._stdin = stdin
    async with trio.open_nursery() as ended:
        session._io = ended
    session._send_frame(b"x" * (4 * _SMALL_PIPE) + b"\n")  # the pipe takes only part of it
    assert session._unwritten == 1
    assert session._writer_done is None  # no writer: nothing to wait for at close
    session._send_frame(b"later\n")  # queued behind, never written ahead of the rest
    assert session._unwritten == 2
    os.close(r)
    await stdin.aclose()


async def test_a_waiting_pipe_reader_holds_no_exception() -> None:
    """An idle pipe's reader waits holding nothing: no BlockingIOError, traceback or frames
    (a session holds two such readers for as long as it lives, walked by every collection)."""
    r, w = _pipe()
    reader = PipeReader(trio.lowlevel.FdStream(r))

    def held() -> list[BaseException]:
        return [
            o
            for o in gc.get_objects()
            if isinstance(o, BlockingIOError)
            and o.__traceback__ is not None
            and o.__traceback__.tb_frame.f_code.co_name == "receive_some"
        ]

    async with trio.open_nursery() as nursery:
        got: list[bytes] = []

        async def read() -> None:
            got.append(await reader.receive_some(100))

        nursery.start_soon(read)
        await trio.testing.wait_all_tasks_blocked()
        assert held() == []
        os.write(w, b"x")
    assert got == [b"x"]
    os.close(w)


async def test_pipe_reader_uses_receive_some_of_other_streams() -> None:
    send, receive = trio.testing.memory_stream_pair()
    reader = PipeReader(receive)
    await send.send_all(b"hi")
    assert await reader.receive_some(10) == b"hi"


async def test_frames_stay_whole_and_in_order_when_the_pipe_backs_up() -> None:
    """A frame the pipe takes only part of goes to the writer; later frames queue behind it.

    Without that (a later small frame written directly while the first one's rest waits) the
    CLI would read one frame cut by another.
    """
    session = Session(
        tc.ClaudeAgentOptions(), LaunchSpec(argv=["claude"], env={}), FakeCLITransport()
    )
    r, w = _pipe(_SMALL_PIPE)  # (shrinking is always allowed; growing may not be)
    stdin = trio.lowlevel.FdStream(w)
    session._stdin = stdin
    frames = [b"A" * 100_000 + b"\n"] + [b"%d\n" % i for i in range(50)] + [b"B" * 9_000 + b"\n"]
    got = bytearray()
    async with trio.open_nursery() as nursery:
        session._io = nursery
        session._send_frame(b"small\n")  # written directly: no writer task
        assert os.read(r, 100) == b"small\n"
        assert not session._writer_started
        assert session._out_send is None  # nor its channel
        session._send_frame(frames[0])  # the pipe takes 4 KiB of it; the writer starts
        assert session._writer_started
        got += os.read(r, 20_000)  # room again, while the rest of the first frame waits
        for frame in frames[1:]:
            session._send_frame(frame)
        session._writes_closed = True
        assert session._out_send is not None
        session._out_send.close()
        fd_reader = PipeReader(trio.lowlevel.FdStream(r))
        while len(got) < sum(map(len, frames)):
            got += await fd_reader.receive_some(10_000)
        assert session._writer_done is not None
        await session._writer_done.wait()
    assert bytes(got) == b"".join(frames)
    assert session._unwritten == 0
    with pytest.raises(trio.ClosedResourceError):
        session._send_frame(b"late\n")
    await stdin.aclose()


async def test_a_frame_after_writing_stopped_is_refused_when_no_frame_ever_waited() -> None:
    """The writer's channel is made only when a frame first waits for the pipe; once writing
    has stopped (the shutdown), a frame is refused all the same, not queued forever."""
    session = Session(
        tc.ClaudeAgentOptions(), LaunchSpec(argv=["claude"], env={}), FakeCLITransport()
    )
    r, w = _pipe()
    stdin = trio.lowlevel.FdStream(w)
    session._stdin = stdin
    session._send_frame(b"small\n")
    assert session._out_send is None
    session._writes_closed = True
    with pytest.raises(trio.ClosedResourceError):
        session._send_frame(b"late\n")
    assert session._out_send is None and session._unwritten == 0
    assert os.read(r, 100) == b"small\n"
    os.close(r)
    await stdin.aclose()
