"""Python heap per live session, ours vs a bare trio loop, with N sessions open at once.

``--sessions`` sessions are opened concurrently against the lite fake (which answers
``initialize`` with the real CLI's reply: 44 slash commands, 5 agents, 5 models), each runs one
turn, then all stay open while we measure. The figure is the growth of the Python heap
(``tracemalloc``: every block Python allocated and still holds, after ``gc.collect()``) divided
by N, against the state before the sessions were opened (after a warm-up session, so that
one-time caches are not charged to them). The **ceiling** keeps what a minimal live session
must: the process and its pipes, a task blocked reading stdout, and the parsed ``initialize``
reply and last result (as dicts).

Also reported: the gc-tracked objects per session, and with ``--top N`` the N source lines that
hold most of our sessions' memory (where to look to shrink it). Run:
``python benchmarks/memory.py [--sessions 50] [--top 15] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import gc
import linecache
import tempfile
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import _common as C
import trio

import trio_claude as tc

TARGET_KIB = 90


async def ceiling_session(
    argv: list[str], opened: Callable[[], None], done: trio.Event, keep: list[Any]
) -> None:
    proc = await C.CeilingProc.spawn(argv)
    try:
        reply = await proc.initialize()
        await proc.send(C.user_frame())
        result, _ = await proc.until_result()
        keep.append((reply, result))
        async with trio.open_nursery() as nursery:
            # the live session's reader: blocked on the pipe
            nursery.start_soon(proc.next)
            opened()
            await done.wait()
            nursery.cancel_scope.cancel()
    finally:
        await proc.close()


async def our_session(
    options: tc.ClaudeAgentOptions, opened: Callable[[], None], done: trio.Event
) -> None:
    async with tc.open_session(options) as session:
        await session.run("hi")
        opened()
        await done.wait()


async def heap_per_session(
    n: int, start_one: Callable[[Callable[[], None], trio.Event], Awaitable[None]]
) -> tuple[float, float, tracemalloc.Snapshot | None, tracemalloc.Snapshot | None]:
    """(bytes per session, gc objects per session, snapshot before, snapshot with n open)."""
    done = trio.Event()
    all_open = trio.Event()
    count = 0

    def opened() -> None:
        nonlocal count
        count += 1
        if count == n:
            all_open.set()

    gc.collect()
    before = tracemalloc.get_traced_memory()[0]
    objects_before = len(gc.get_objects())
    snap_before = tracemalloc.take_snapshot() if tracemalloc.is_tracing() else None
    async with trio.open_nursery() as nursery:
        for _ in range(n):
            nursery.start_soon(start_one, opened, done)
        await all_open.wait()
        await trio.sleep(0.05)  # let every task settle in its idle wait
        gc.collect()
        during = tracemalloc.get_traced_memory()[0]
        objects = len(gc.get_objects())
        snap_during = tracemalloc.take_snapshot() if tracemalloc.is_tracing() else None
        done.set()
    return (during - before) / n, (objects - objects_before) / n, snap_before, snap_during


def _short(filename: str) -> str:
    """A file name without this machine's directories (the repository's or site-packages')."""
    root = str(Path(__file__).resolve().parent.parent) + "/"
    return filename.removeprefix(root).split("site-packages/")[-1]


def top_lines(before: tracemalloc.Snapshot, after: tracemalloc.Snapshot, n: int, per: int) -> str:
    filters = [
        tracemalloc.Filter(False, tracemalloc.__file__),
        tracemalloc.Filter(False, "<frozen importlib._bootstrap*"),
    ]
    stats = after.filter_traces(filters).compare_to(before.filter_traces(filters), "lineno")
    out = []
    for stat in stats[:n]:
        frame = stat.traceback[0]
        code = linecache.getline(frame.filename, frame.lineno).strip()
        out.append(
            f"  {stat.size_diff / per / 1024:7.1f} KiB/session"
            f" {stat.count_diff / per:6.1f} blocks  {_short(frame.filename)}"
            f":{frame.lineno}  {code[:70]}"
        )
    return "\n".join(out)


async def measure(n: int, rounds: int, top: int) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        lite = C.write_lite_fake(tmp)
        options = tc.ClaudeAgentOptions(cli_path=lite)
        argv = [str(lite)]
        keep: list[Any] = []

        def ceiling(opened: Callable[[], None], done: trio.Event) -> Awaitable[None]:
            return ceiling_session(argv, opened, done, keep)

        def ours(opened: Callable[[], None], done: trio.Event) -> Awaitable[None]:
            return our_session(options, opened, done)

        # warm-up (imports, codec hooks, caches), untraced
        await heap_per_session(1, ceiling)
        await heap_per_session(1, ours)
        keep.clear()
        tracemalloc.start(1)
        c_bytes, o_bytes, c_objs, o_objs = [], [], [], []
        snaps = None
        for _ in range(rounds):
            b, objs, _, _ = await heap_per_session(n, ceiling)
            keep.clear()
            c_bytes.append(b)
            c_objs.append(objs)
            b, objs, s0, s1 = await heap_per_session(n, ours)
            o_bytes.append(b)
            o_objs.append(objs)
            snaps = (s0, s1)
        tracemalloc.stop()
    ours_kib = C.median(o_bytes) / 1024
    ceiling_kib = C.median(c_bytes) / 1024
    if top and snaps is not None and snaps[0] is not None and snaps[1] is not None:
        print(f"where our {n} sessions' heap is (top {top} lines, per session):")
        print(top_lines(snaps[0], snaps[1], top, n))
    return [
        C.row(
            f"Python heap per live session ({n} open, one turn each)",
            f"{ours_kib:.0f} KiB, {C.median(o_objs):.0f} gc objects",
            f"{ceiling_kib:.0f} KiB, {C.median(c_objs):.0f} gc objects",
            ours_kib / ceiling_kib,
            f"<= {TARGET_KIB} KiB",
            ours_kib <= TARGET_KIB,
            f"ours {min(o_bytes) / 1024:.0f}-{max(o_bytes) / 1024:.0f} KiB over {rounds} rounds",
            key="heap",
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--top", type=int, default=0, help="list the N heaviest source lines")
    parser.add_argument("--json", help="also write the rows to this file (run_all.py)")
    args = parser.parse_args()
    print(C.machine())
    C.emit(trio.run(measure, args.sessions, args.rounds, args.top), args.json)


if __name__ == "__main__":
    main()
