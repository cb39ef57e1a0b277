"""The floor of our design's structure on the fan-out: how much of the gap to the ceiling is the
task structure our rules demand, and how much is SDK logic.

A diagnostic (no targets, nothing in ``trio_claude/`` is changed). ``fanout.py``'s workload
(``--sessions`` concurrent sessions against the lite fake, start -> all results) runs with four
contenders, interleaved round by round (who goes first rotates), after one untimed warm-up each:

- ``ceiling``: ``fanout.ceiling`` (a bare loop: ``open_process`` with stderr to ``/dev/null``, no
  tasks of its own);
- ``structured``: the same wire work (same argv, ``initialize``, its answer, a user message,
  lines ``orjson.loads``-ed up to the result, nothing typed) shaped like ``_session.py``: an outer
  nursery per session (``open_session``), a supervisor ``nursery.start``-ed (``Session._run``)
  that ``start``s an io task (``_run_io``) whose nursery is shielded once the process runs; stderr
  a pipe and ``start_new_session=True``; a reader (64 KiB reads, a deque and an Event per batch),
  a writer fed by an unbounded memory channel, a stderr drain, an exit watcher; the shielded,
  bounded shutdown of ``_shutdown`` (close the channel, writer 1 s, close stdin, exit 5 s, kill,
  reader, cancel the io nursery). No option checks, no typed decoding, no control bookkeeping;
- ``structured+typed``: the same, plus ``decode_message`` in the reader for every frame ours
  types (``system``/``assistant``/``user``/``result``/``stream_event``, except the
  ``sdk_host_only`` state frames, which ours routes as plumbing, not messages);
- ``one io task+typed`` (Linux): the leanest structure that keeps those ingredients: one io
  task per session watches stdout, stderr and the exit (a pidfd) through an epoll fd of its
  own, frames are written straight into the pipe, typed as above. What any design with a
  reader, a supervisor, a shielded bounded shutdown and typed messages costs at least;
- ``ours``: ``fanout.ours`` (``open_session`` + ``session.run("hi")``).

Per contender: median wall time to the last result, median CPU of the process (all threads) and
of the event loop's thread (``time.thread_time``), per session, and the median of the per-round
ratios to the ceiling of the same round. Every contender spawns through a worker thread (trio's
``open_process`` hops to one, as ours does). Two gaps differ from ours on purpose and are not in
the floor: ours hands the CLI a full environment (with the sweep's tag) where the bare loops
let it inherit this process's, and ours writes a frame at once (``write_nowait``) where
``structured`` always goes through its writer task. ``--json`` writes rows of the results table
(``run_all.py``), the floors as reference rows. Run:
``python benchmarks/fanout_floor.py [--sessions 50] [--rounds 7] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import math
import os
import select
import subprocess
import tempfile
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import _common as C
import orjson
import trio
from fanout import One, fan_out_and_close
from fanout import ceiling as fan_ceiling
from fanout import ours as fan_ours
from start import Setup

from trio_claude._protocol._codec import decode_message

TYPED = frozenset({"system", "assistant", "user", "result", "stream_event"})
_CLOSED = (trio.BrokenResourceError, trio.ClosedResourceError, OSError)


class Bare:
    """One session, structured like ``Session`` but with none of its logic."""

    def __init__(self, argv: Sequence[str], typed: bool) -> None:
        self.argv = list(argv)
        self.typed = typed
        self.frames: deque[Any] = deque()
        self.wake = trio.Event()
        self.eof = False
        self.decoded = 0
        self.partial: list[bytes] = []  # the pieces of an unfinished stdout line
        self.out_send, self.out_recv = trio.open_memory_channel[bytes](math.inf)
        self.close_requested = trio.Event()
        self.writer_done = trio.Event()
        self.reader_done = trio.Event()
        self.exited = trio.Event()
        self.done = trio.Event()
        self.proc: trio.Process | None = None

    # ------------------------------------------------------------ tasks (like _session.py)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        try:
            async with trio.open_nursery() as nursery:
                io_scope: trio.CancelScope = await nursery.start(self.run_io)
                try:
                    task_status.started()
                    await self.close_requested.wait()
                finally:
                    try:
                        with trio.CancelScope(shield=True):
                            await self.shutdown()
                    finally:
                        io_scope.cancel()
        finally:
            self.done.set()
            self.wake.set()

    async def spawn(self) -> trio.Process:
        """The CLI with three pipes, in a session of its own; a 1 MiB stdout pipe (as ours)."""
        proc = await trio.lowlevel.open_process(
            self.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            fcntl.fcntl(proc.stdout.fileno(), fcntl.F_SETPIPE_SZ, 1024 * 1024)  # type: ignore[union-attr]
        except (AttributeError, OSError):
            pass
        self.proc = proc
        return proc

    async def run_io(
        self, *, task_status: trio.TaskStatus[trio.CancelScope] = trio.TASK_STATUS_IGNORED
    ) -> None:
        async with trio.open_nursery() as io:
            proc = await self.spawn()
            io.cancel_scope.shield = True
            self.start_tasks(io, proc)
            task_status.started(io.cancel_scope)
            await trio.sleep_forever()

    def start_tasks(self, io: trio.Nursery, proc: trio.Process) -> None:
        io.start_soon(self.reader, proc.stdout)
        io.start_soon(self.writer, proc.stdin)
        io.start_soon(self.watch_exit, proc)
        io.start_soon(self.stderr_drain, proc.stderr)

    async def shutdown(self) -> None:
        proc = self.proc
        assert proc is not None and proc.stdin is not None
        self.out_send.close()
        with trio.move_on_after(1.0):
            await self.writer_done.wait()
        try:
            await proc.stdin.aclose()
        except _CLOSED:
            pass
        with trio.move_on_after(5.0):
            await self.exited.wait()
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        with trio.move_on_after(6.0):
            await self.reader_done.wait()

    def feed(self, data: bytes) -> None:
        """Splits what was read into lines, parses (and types) the complete ones, wakes."""
        partial = self.partial
        if b"\n" not in data:
            partial.append(data)
            return
        *lines, rest = data.split(b"\n")
        if partial:
            partial.append(lines[0])
            lines[0] = b"".join(partial)
        self.partial = [rest] if rest else []
        loads, frames, typed = orjson.loads, self.frames, self.typed
        added = False
        for line in lines:
            if not line:
                continue
            obj = loads(line)
            if typed and obj.get("type") in TYPED and not obj.get("sdk_host_only"):
                obj = decode_message(obj)
                self.decoded += 1
            frames.append(obj)
            added = True
        if added:
            self.wake.set()
            self.wake = trio.Event()

    async def reader(self, stdout: Any) -> None:
        try:
            while True:
                data = await stdout.receive_some(65536)
                if not data:
                    break
                self.feed(data)
        except _CLOSED:
            pass
        finally:
            self.eof = True
            self.wake.set()
            self.reader_done.set()
            with trio.CancelScope(shield=True):
                await stdout.aclose()

    async def writer(self, stdin: Any) -> None:
        try:
            async for data in self.out_recv:
                try:
                    await stdin.send_all(data)
                except _CLOSED:
                    break
        finally:
            self.writer_done.set()

    async def stderr_drain(self, stream: Any) -> None:
        try:
            while await stream.receive_some(65536):
                pass
        except _CLOSED:
            pass
        finally:
            with trio.CancelScope(shield=True):
                await stream.aclose()

    async def watch_exit(self, proc: trio.Process) -> None:
        await proc.wait()
        self.exited.set()

    # ------------------------------------------------------------ the consumer's side

    def send(self, data: bytes) -> None:
        self.out_send.send_nowait(data)

    async def next(self) -> Any:
        """The next frame (a dict, or a typed message); ``None`` at the end of the output."""
        while not self.frames:
            if self.eof or self.done.is_set():
                return None
            await self.wake.wait()
        return self.frames.popleft()

    async def until(self, kind: str) -> Any:
        while True:
            frame = await self.next()
            assert frame is not None, f"the fake's output ended before a {kind!r} frame"
            if type(frame) is dict:
                if frame.get("type") == kind:
                    return frame
            elif getattr(frame, "raw", None) is not None and frame.raw.get("type") == kind:
                return frame


class OneTask(Bare):
    """The leanest structure with the same guarantees' ingredients: one io task per session.

    stdout, stderr and the process's exit (a pidfd) are watched by a single task through an
    epoll fd of their own (Linux), frames are written straight into the pipe (no writer task),
    and the supervisor, the shielded io nursery and the bounded shutdown stay. Typed.
    """

    def start_tasks(self, io: trio.Nursery, proc: trio.Process) -> None:
        self.writer_done.set()
        io.start_soon(self.pump, proc)

    def send(self, data: bytes) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        os.write(self.proc.stdin.fileno(), data)  # type: ignore[attr-defined]

    async def pump(self, proc: trio.Process) -> None:
        assert proc.stdout is not None and proc.stderr is not None
        out, err = proc.stdout.fileno(), proc.stderr.fileno()  # type: ignore[attr-defined]
        pidfd = os.pidfd_open(proc.pid)
        ep = select.epoll()
        for fd in (out, err, pidfd):
            ep.register(fd, select.EPOLLIN)
        watched = 3
        try:
            while watched:
                await trio.lowlevel.wait_readable(ep.fileno())
                for fd, _ in ep.poll(0):
                    if fd == pidfd:
                        ep.unregister(pidfd)
                        watched -= 1
                        self.exited.set()
                        continue
                    data = os.read(fd, 65536)
                    if not data:
                        ep.unregister(fd)
                        watched -= 1
                    elif fd == out:
                        self.feed(data)
        finally:
            self.eof = True
            self.wake.set()
            self.reader_done.set()
            ep.close()
            os.close(pidfd)


ONE_TASK = hasattr(os, "pidfd_open") and hasattr(select, "epoll")


def structured(setup: Setup, typed: bool, decoded: list[int], cls: type[Bare] = Bare) -> One:
    async def one(got_result: Callable[[], None], done: trio.Event) -> None:
        async with trio.open_nursery() as nursery:  # like open_session
            session = cls(setup.argv, typed)
            await nursery.start(session.run)  # like _connect
            try:
                session.send(C.INITIALIZE)
                await session.until("control_response")
                session.send(C.user_frame())
                await session.until("result")
                got_result()
                await done.wait()
            finally:  # like aclose
                session.close_requested.set()
                with trio.CancelScope(shield=True):
                    await session.done.wait()
            decoded.append(session.decoded)

    return one


def counted(one: One, sessions: int, results: list[int], loop_cpu: list[float]) -> One:
    """``one``, counting the results; notes the loop thread's CPU clock at the last of them."""

    async def wrapped(got_result: Callable[[], None], done: trio.Event) -> None:
        def got() -> None:
            results.append(1)
            if len(results) == sessions:
                loop_cpu.append(time.thread_time())
            got_result()

        await one(got, done)

    return wrapped


NAMES: tuple[str, ...] = ("ceiling", "structured", "structured+typed", "one io task+typed", "ours")
if not ONE_TASK:
    NAMES = tuple(n for n in NAMES if n != "one io task+typed")


async def measure(sessions: int, rounds: int) -> dict[str, Any]:
    decoded: dict[str, list[int]] = {name: [] for name in NAMES}

    def make(name: str, setup: Setup) -> One:
        if name == "ceiling":
            return fan_ceiling(setup)
        if name == "ours":
            return fan_ours(setup)
        if name == "one io task+typed":
            return structured(setup, True, decoded[name], OneTask)
        return structured(setup, name == "structured+typed", decoded[name])

    wall: dict[str, list[float]] = {n: [] for n in NAMES}
    cpu: dict[str, list[float]] = {n: [] for n in NAMES}
    loop_cpu: dict[str, list[float]] = {n: [] for n in NAMES}
    results: dict[str, list[int]] = {n: [] for n in NAMES}
    with tempfile.TemporaryDirectory() as tmp:
        setup = Setup("lite", tmp)
        for name in NAMES:  # warm-up, untimed
            await fan_out_and_close(1, make(name, setup))
        for name in NAMES:
            decoded[name].clear()
        for index in range(rounds):
            names = list(NAMES[index % len(NAMES) :] + NAMES[: index % len(NAMES)])
            for name in names:
                got: list[int] = []
                loop_end: list[float] = []
                one = counted(make(name, setup), sessions, got, loop_end)
                loop_start = time.thread_time()
                elapsed, _, used = await fan_out_and_close(sessions, one)
                loop_cpu[name].append(loop_end[0] - loop_start)
                assert len(got) == sessions, f"{name}: {len(got)} of {sessions} results"
                results[name].append(len(got))
                wall[name].append(elapsed)
                cpu[name].append(used)
    return {
        "wall": wall,
        "cpu": cpu,
        "loop_cpu": loop_cpu,
        "results": results,
        "decoded": decoded,
    }


def report(data: dict[str, Any], sessions: int, rounds: int) -> list[dict[str, Any]]:
    wall, cpu, loop_cpu = data["wall"], data["cpu"], data["loop_cpu"]
    rows = []
    for name in NAMES:
        ratios = [w / c for w, c in zip(wall[name], wall["ceiling"], strict=True)]
        cpu_ratios = [w / c for w, c in zip(cpu[name], cpu["ceiling"], strict=True)]
        rows.append(
            {
                "contender": name,
                "sessions": sessions,
                "rounds": rounds,
                "wall_s": C.median(wall[name]),
                "cpu_s": C.median(cpu[name]),
                "cpu_per_session_s": C.median(cpu[name]) / sessions,
                "loop_cpu_per_session_s": C.median(loop_cpu[name]) / sessions,
                "ratio": C.median(ratios),
                "ratio_range": [min(ratios), max(ratios)],
                "cpu_ratio": C.median(cpu_ratios),
                "results": sum(data["results"][name]),
                "decoded_per_session": (
                    sum(data["decoded"][name]) / len(data["decoded"][name])
                    if data["decoded"][name]
                    else None
                ),
            }
        )
    return rows


def ms2(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms"


def table(rows: list[dict[str, Any]]) -> str:
    out = [
        "| contender | wall (median) | x ceiling (range) | CPU | CPU/session | loop CPU/session"
        " | CPU x ceiling | results |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        low, high = r["ratio_range"]
        out.append(
            f"| {r['contender']} | {C.ms(r['wall_s'])} | {r['ratio']:.2f}x ({low:.2f}-{high:.2f})"
            f" | {C.ms(r['cpu_s'])} | {ms2(r['cpu_per_session_s'])}"
            f" | {ms2(r['loop_cpu_per_session_s'])} | {r['cpu_ratio']:.2f}x | {r['results']} |"
        )
    return "\n".join(out)


def table_rows(rows: list[dict[str, Any]], sessions: int) -> list[dict[str, Any]]:
    """The floors as reference rows of ``run_all.py``'s table (no target of their own)."""
    by = {r["contender"]: r for r in rows}
    ceiling = by["ceiling"]
    labels = {
        "structured": "our task structure, no SDK logic",
        "structured+typed": "our task structure + typed decoding",
        "one io task+typed": "one io task per session + typed decoding (the leanest structure)",
        "ours": "ours, in the same run",
    }
    out = []
    for name, label in labels.items():
        r = by.get(name)
        if r is None:
            continue
        low, high = r["ratio_range"]
        out.append(
            C.row(
                f"{sessions} concurrent sessions, floor: {label} (`fanout_floor.py`)",
                f"{C.ms(r['wall_s'])} ({ms2(r['loop_cpu_per_session_s'])} loop CPU/session)",
                f"{C.ms(ceiling['wall_s'])} ({ms2(ceiling['loop_cpu_per_session_s'])})",
                r["ratio"],
                "(reference)",
                None,
                f"{low:.2f}-{high:.2f}x over {r['rounds']} rounds; CPU {r['cpu_ratio']:.2f}x",
                key=f"fanout-floor-{name}",
            )
        )
    return out


def reading(rows: list[dict[str, Any]]) -> str:
    by = {r["contender"]: r for r in rows}
    s, t, o = by["structured"], by["structured+typed"], by["ours"]
    lean = by.get("one io task+typed")
    leanest = (
        f" The leanest structure (one io task per session, typed) {lean['ratio']:.2f}x."
        if lean is not None
        else ""
    )
    gap = o["ratio"] - 1
    if gap > 0:
        share = (s["ratio"] - 1) / gap
        typed_share = (t["ratio"] - s["ratio"]) / gap
        split = (
            f" Of ours' gap to the ceiling ({gap * 100:+.0f}%), the structure accounts for"
            f" {share * 100:.0f}% and typed decoding for {typed_share * 100:.0f}%; the rest"
            f" ({(1 - share - typed_share) * 100:.0f}%) is SDK logic."
        )
    else:
        split = " Ours is not above the ceiling in wall time here: no gap to split."
    per_session = {n: by[n]["cpu_per_session_s"] for n in NAMES}
    return (
        f"Wall time to all results, x the ceiling of the same round (medians): structure alone"
        f" {s['ratio']:.2f}x; + typed decoding {t['ratio']:.2f}x; ours {o['ratio']:.2f}x."
        f"{split} CPU per session:"
        f" ceiling {ms2(per_session['ceiling'])}, structured {ms2(per_session['structured'])},"
        f" +typed {ms2(per_session['structured+typed'])}, ours {ms2(per_session['ours'])}"
        f" (CPU x ceiling: {s['cpu_ratio']:.2f}x, {t['cpu_ratio']:.2f}x, {o['cpu_ratio']:.2f}x)."
        f"{leanest}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args()
    print(C.machine())
    data = trio.run(measure, args.sessions, args.rounds)
    rows = report(data, args.sessions, args.rounds)
    print(table(rows))
    decoded = {r["contender"]: r["decoded_per_session"] for r in rows if r["decoded_per_session"]}
    if decoded:
        print(f"typed decodes per session: {decoded}")
    print()
    print(reading(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(table_rows(rows, args.sessions), indent=1))


if __name__ == "__main__":
    main()
