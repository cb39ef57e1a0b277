"""50 concurrent sessions, start -> all results, ours vs a bare trio loop, same fake, same run.

Each round starts ``--sessions`` tasks at once and times until every one has its turn's result:

- the **ceiling**: per task, ``trio.lowlevel.open_process`` the fake, write ``initialize``, read
  the answer, write a user message, read lines (``orjson.loads``) to the result;
- **ours**: per task, ``async with open_session(options) as session: await session.run("hi")``.

Every task then waits for the others before closing, so the closes are not in the figure; how long
they take (from the last result to the last session closed) is reported next to it, and so is
the CPU time of this process (all threads) to the last result, steadier on a shared machine. Rounds
alternate ceiling and ours. The **lite** fake (a shell script, ~1 ms to start) is the figure
of the target; ``--fake fake_cli`` runs the trio fake (~0.2 s of CPU to start, per process),
which mostly measures the fakes. Run:
``python benchmarks/fanout.py [--sessions 50] [--rounds 7] [--fake lite|fake_cli|both]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Awaitable, Callable
from typing import Any

import _common as C
import trio
from start import Setup

import trio_claude as tc

TARGET = 1.15


One = Callable[[Callable[[], None], trio.Event], Awaitable[None]]


async def fan_out(n: int, one: One) -> float:
    """Starts ``n`` tasks; returns the time until the last of them has its result.

    Each task calls ``got_result()`` when it has its result, then waits for ``done`` (set once
    all have theirs) before it closes.
    """
    return (await fan_out_and_close(n, one))[0]


async def fan_out_and_close(n: int, one: One) -> tuple[float, float, float]:
    """Like :func:`fan_out`; also returns the time from the last result to the last close, and
    the CPU time of this process (all threads) from the start to the last result."""
    done = trio.Event()
    finished: list[float] = []
    cpu: list[float] = []
    start = time.perf_counter()
    cpu_start = time.process_time()

    def got_result() -> None:
        finished.append(time.perf_counter())
        if len(finished) == n:
            cpu.append(time.process_time() - cpu_start)
            done.set()

    async with trio.open_nursery() as nursery:
        for _ in range(n):
            nursery.start_soon(one, got_result, done)
    last = max(finished)
    return last - start, time.perf_counter() - last, cpu[0]


def ceiling(setup: Setup) -> One:
    async def one(got_result: Callable[[], None], done: trio.Event) -> None:
        proc = await C.CeilingProc.spawn(setup.argv)
        try:
            await proc.initialize()
            await proc.send(C.user_frame())
            await proc.until_result()
            got_result()
            await done.wait()
        finally:
            await proc.close()

    return one


def ours(setup: Setup) -> One:
    async def one(got_result: Callable[[], None], done: trio.Event) -> None:
        async with tc.open_session(setup.options) as session:
            await session.run("hi")
            got_result()
            await done.wait()

    return one


async def measure(kind: str, sessions: int, rounds: int) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        setup = Setup(kind, tmp)
        # warm-up: one of each, untimed (first-use costs are start.py's business)
        await fan_out(1, ceiling(setup))
        await fan_out(1, ours(setup))
        c_times: list[float] = []
        o_times: list[float] = []
        c_close: list[float] = []
        o_close: list[float] = []
        c_cpu: list[float] = []
        o_cpu: list[float] = []
        for index in range(rounds):
            # alternate who goes first, so a slow patch of the machine hits both alike
            order = [("c", ceiling), ("o", ours)]
            if index % 2:
                order.reverse()
            for name, make in order:
                elapsed, closing, cpu = await fan_out_and_close(sessions, make(setup))
                (c_times if name == "c" else o_times).append(elapsed)
                (c_close if name == "c" else o_close).append(closing)
                (c_cpu if name == "c" else o_cpu).append(cpu)
    ratios = [o / c for o, c in zip(o_times, c_times, strict=True)]
    ratio = C.median(o_times) / C.median(c_times)
    lite = kind == "lite"
    return [
        C.row(
            f"{sessions} concurrent sessions ({kind} fake): start -> all results",
            f"{C.ms(C.median(o_times))} (CPU {C.ms(C.median(o_cpu))}; then all closed in"
            f" {C.ms(C.median(o_close))})",
            f"{C.ms(C.median(c_times))} (CPU {C.ms(C.median(c_cpu))}; closed in"
            f" {C.ms(C.median(c_close))})",
            ratio,
            f"<= {TARGET}x" if lite else "(diluted by the fakes' start-up)",
            ratio <= TARGET if lite else None,
            C.spread(ratios),
            key=f"fanout-{kind}",
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--fake-cli-rounds", type=int, default=2)
    parser.add_argument("--fake", choices=("lite", "fake_cli", "both"), default="lite")
    parser.add_argument("--json", help="also write the rows to this file (run_all.py)")
    args = parser.parse_args()
    C.use_bytecode_cache()
    print(C.machine())
    rows: list[dict[str, Any]] = []
    if args.fake in ("lite", "both"):
        rows += trio.run(measure, "lite", args.sessions, args.rounds)
    if args.fake in ("fake_cli", "both"):
        rows += trio.run(measure, "fake_cli", args.sessions, args.fake_cli_rounds)
    C.emit(rows, args.json)


if __name__ == "__main__":
    main()
