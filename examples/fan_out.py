"""Many sessions at once: a fan-out bounded by a shared process limiter, offline.

Run: ``python examples/fan_out.py`` (after ``make cli``).

Eight one-turn sessions open in one nursery, each in its own task; one
``trio.CapacityLimiter(4)`` passed as ``process_limiter`` to all of them keeps at most four
``claude`` CLIs alive, so the fifth session waits until one of the first four has closed and its
CLI has been reaped. See ``docs/performance.md``.
"""

from __future__ import annotations

import tempfile

import trio

import trio_claude as tc
from trio_claude.testing import Turn, open_claude_test_env

SESSIONS = 8
MAX_CLIS = 4


async def main() -> None:
    """Runs the fan-out against the fake model and prints every answer, in session order.

    Also prints the most sessions seen open at once (counted in the sessions' blocks, so never
    more than the limiter allows), the results the sessions' ``statistics()`` counted, and the
    slowest ``initialize`` answer (a timing: it varies from run to run).
    """
    answers: dict[int, str] = {}
    initialize_seconds: list[float] = []
    results = 0
    open_now = 0
    most_open = 0
    limiter = trio.CapacityLimiter(MAX_CLIS)  # shared: the bound is across all the sessions

    with tempfile.TemporaryDirectory(prefix="fan-out-") as tmp:
        async with open_claude_test_env(tmp) as env:

            async def one(i: int) -> None:
                nonlocal results, open_now, most_open
                # Each session has its own scripted conversation on the fake model, so every
                # answer is known; only the limiter is shared.
                options = env.options(
                    [Turn(f"answer {i}")], name=f"fan{i}", process_limiter=limiter
                )
                async with tc.open_session(options) as session:
                    # The limiter's token is held from before the spawn until the CLI is
                    # reaped, which encloses this block: this count is a lower bound.
                    open_now += 1
                    most_open = max(most_open, open_now)
                    try:
                        turn = await session.run(f"question {i}")
                        stats = session.statistics()
                    finally:
                        open_now -= 1
                answers[i] = turn.text
                results += stats.results_received
                if stats.initialize_seconds is not None:
                    initialize_seconds.append(stats.initialize_seconds)

            start = trio.current_time()
            async with trio.open_nursery() as nursery:
                for i in range(SESSIONS):
                    nursery.start_soon(one, i)
            elapsed = trio.current_time() - start

            for i in sorted(answers):  # tasks finish in any order; print in a stable one
                print(f"session {i}: {answers[i]!r}")
            print(f"{SESSIONS} sessions, at most {MAX_CLIS} CLIs at once")
            print(f"max live CLIs <= {MAX_CLIS}: {most_open <= MAX_CLIS}")
            print(f"results received (statistics): {results}")
            # Timings: they vary with the machine and its load.
            print(f"slowest initialize answer: {max(initialize_seconds):.2f} s")
            print(f"all results in {elapsed:.2f} s")
            # Scanning /proc touches the filesystem: a worker thread, not the event loop.
            leaked = await trio.to_thread.run_sync(env.leaked_processes)
            print(f"every CLI reaped: {not leaked}")


if __name__ == "__main__":
    trio.run(main)
