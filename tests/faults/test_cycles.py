"""1000 sequential open/close cycles against the in-process FakeCLI: zero growth.

After a warm-up (first-use caches, interned strings, the logging machinery), 900 more cycles
must leave exactly as many file descriptors, trio tasks and threads as before, and Python's
allocations (``tracemalloc``) and live objects (``gc``) within a small constant, not something
that scales with the number of sessions.
"""

from __future__ import annotations

import gc
import threading
import tracemalloc

import trio

import trio_claude as tc
from trio_claude.testing.fake_cli import FakeCLITransport, FakeScript, FakeTurn

from ._leaks import open_fds

WARM_UP = 100
CYCLES = 1000


def run_cycles(options: tc.ClaudeAgentOptions, count: int) -> tuple[int, int]:
    """``count`` open/close cycles (one turn every tenth) in a fresh ``trio.run``.

    Returns the number of living trio tasks before the first and after the last cycle.
    Running the measured cycles in their own ``trio.run`` keeps trio's own bookkeeping out of
    the numbers: trio keeps up to ~1000 stale entries in its deadline heap (every exited
    ``move_on_after`` leaves one until it expires or the heap is pruned), which would look like
    growth but belongs to the run, not to the sessions.
    """

    async def main() -> tuple[int, int]:
        transport = options.transport
        assert isinstance(transport, FakeCLITransport)
        before = trio.lowlevel.current_statistics().tasks_living
        for i in range(count):
            async with tc.open_session(options) as session:
                if i % 10 == 0:
                    assert (await session.run("hi")).text == "ok"
            transport.specs.clear()  # the test transport's own record, not the SDK's
        after = trio.lowlevel.current_statistics().tasks_living
        return before, after

    return trio.run(main)


def snapshot() -> tuple[int, int, int, int]:
    gc.collect()
    return (
        len(open_fds()),
        threading.active_count(),
        tracemalloc.get_traced_memory()[0],
        len(gc.get_objects()),
    )


def test_a_thousand_open_close_cycles_leave_nothing_behind() -> None:
    script = FakeScript(turns=[FakeTurn.reply("ok")] * CYCLES)
    options = tc.ClaudeAgentOptions(transport=FakeCLITransport(script))
    run_cycles(options, WARM_UP)
    tracemalloc.start()
    try:
        fds, threads, traced, objects = snapshot()
        tasks_before, tasks_after = run_cycles(options, CYCLES - WARM_UP)
        fds2, threads2, traced2, objects2 = snapshot()
    finally:
        tracemalloc.stop()
    assert tasks_after == tasks_before
    assert fds2 == fds
    # trio's idle worker threads (from earlier tests) may retire meanwhile; none may appear
    assert threads2 <= threads
    # 900 sessions: a leak of even one small object per session would show here
    assert objects2 - objects < 100, f"{objects2 - objects} more live objects"
    # Measured: 3-80 KiB (Python 3.10-3.13), from CPython's free lists filling up and trio's
    # deadline heap, which drops the entries of exited cancel scopes lazily (bounded: it does
    # not grow with more cycles). 128 KiB means that a leak of more than ~150 bytes per session
    # fails (a list per session does: see docs/reliability.md)
    assert traced2 - traced < 128 * 1024, f"{traced2 - traced} more bytes allocated"
