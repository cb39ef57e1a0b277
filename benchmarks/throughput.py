"""Messages per second delivered to user code, as a ratio of a bare trio loop's, in the same run.

A flood CLI (the fake CLI as a subprocess) writes N pre-rendered, real-shaped frames as fast as
the pipe takes them. We time:

- the **ceiling**: a minimal trio loop that reads the pipe, splits lines and ``orjson.loads``
  each one, nothing else;
- **trio-claude**: ``async for message in session.receive_response()`` over a real session
  (typed messages, control routing, the lot).

Both read the same flood process in the same run, so machine noise hits both. Besides the
wall-clock rates (the target, DESIGN.md section 6) we report the CPU time our process spent per
message (``time.thread_time`` of the event loop's thread): on a busy machine that ratio is far
steadier, and it is not capped by the flood process's own speed.

``--gc-freeze`` calls :func:`gc.freeze` once everything is imported (what a long-running
application can do after start-up): full collections then skip the ~50k objects of the modules,
which is most of what the cyclic GC costs while messages are queued. Run:
``python benchmarks/throughput.py [--count 100000] [--rounds 3] [--gc-freeze] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
import trio

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C

import trio_claude as tc
from trio_claude._transport._base import LaunchSpec
from trio_claude.testing.fake_cli import (
    FakeCLIProcessTransport,
    FakeScript,
    FakeTurn,
    Flood,
    Result,
)


def sample_frames() -> dict[str, dict[str, Any]]:
    """A real assistant frame and a real stream_event delta (``fixtures/cli-frames.json``)."""
    frames = C.fixture()["flood_frames"]
    return {name: dict(frames[name]) for name in ("assistant", "stream_event")}


def flood_script(frame: dict[str, Any], count: int) -> FakeScript:
    return FakeScript(turns=[FakeTurn(steps=[Flood(frame, count), Result(text="done")])])


async def ceiling(transport: FakeCLIProcessTransport) -> tuple[float, float, int]:
    """A bare loop: read, split lines, orjson.loads, count until the result frame."""
    argv = transport.command(LaunchSpec(argv=["claude"], env={}))
    proc = await C.CeilingProc.spawn(argv)
    try:
        await proc.initialize()  # before timing, as the session does
        start = time.perf_counter()
        cpu_start = time.thread_time()
        await proc.send(C.user_frame("go"))
        _, count = await proc.until_result()
        elapsed = time.perf_counter() - start
        cpu = time.thread_time() - cpu_start
    finally:
        await proc.close()
    return elapsed, cpu, count


async def ours(transport: FakeCLIProcessTransport) -> tuple[float, float, int]:
    options = tc.ClaudeAgentOptions(transport=transport)
    async with tc.open_session(options) as session:
        start = time.perf_counter()
        cpu_start = time.thread_time()
        await session.send("go")
        count = 0
        async for _ in session.receive_response():
            count += 1
        elapsed = time.perf_counter() - start
        cpu = time.thread_time() - cpu_start
    return elapsed, cpu, count


async def run(count: int, rounds: int, gc_freeze: bool) -> list[dict[str, Any]]:
    frames = sample_frames()
    if gc_freeze:
        gc.collect()
        gc.freeze()
    print(
        f"python {sys.version.split()[0]}, trio {trio.__version__}, {count} messages per round,"
        f" median of {rounds} rounds{', gc.freeze()' if gc_freeze else ''}"
    )
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, frame in frames.items():
            size = len(orjson.dumps(frame))
            transport = FakeCLIProcessTransport(flood_script(frame, count), tmp)
            ratios, ours_rates, ceiling_rates = [], [], []
            cpu_ratios, ours_cpu, ceiling_cpu = [], [], []
            for index in range(rounds):
                if index % 2:
                    o_time, o_cpu, o_count = await ours(transport)
                    c_time, c_cpu, c_count = await ceiling(transport)
                else:
                    c_time, c_cpu, c_count = await ceiling(transport)
                    o_time, o_cpu, o_count = await ours(transport)
                ceiling_rates.append(c_count / c_time)
                ours_rates.append(o_count / o_time)
                ratios.append((o_count / o_time) / (c_count / c_time))
                ceiling_cpu.append(c_cpu / c_count * 1e6)
                ours_cpu.append(o_cpu / o_count * 1e6)
                cpu_ratios.append((c_cpu / c_count) / (o_cpu / o_count))
            print(
                f"{name:>12} ({size} B): trio-claude {statistics.median(ours_rates):>10,.0f} msg/s"
                f"   ceiling {statistics.median(ceiling_rates):>10,.0f} msg/s"
                f"   ratio {statistics.median(ratios):.2f}x"
            )
            print(
                f"{'':>12} {'':>7}  cpu/msg {statistics.median(ours_cpu):>9.2f} us   "
                f"       {statistics.median(ceiling_cpu):>9.2f} us   "
                f"       cpu ratio {statistics.median(cpu_ratios):.2f}x"
            )
            target = TARGETS[name]
            ratio = statistics.median(ratios)
            label = "small assistant messages" if name == "assistant" else "stream_event deltas"
            rows.append(
                C.row(
                    f"{count // 1000}k {label} ({size} B), session.receive_response()",
                    f"{statistics.median(ours_rates) / 1e3:,.0f}k msg/s"
                    f" ({statistics.median(ours_cpu):.2f} us CPU/msg)",
                    f"{statistics.median(ceiling_rates) / 1e3:,.0f}k msg/s"
                    f" ({statistics.median(ceiling_cpu):.2f} us)",
                    ratio,
                    f">= {target}x",
                    ratio >= target,
                    C.spread(ratios) + f"; CPU ratio {statistics.median(cpu_ratios):.2f}x",
                    key=f"throughput-{name}",
                )
            )
    return rows


#: DESIGN.md section 6.
TARGETS = {"assistant": 0.55, "stream_event": 0.6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--gc-freeze", action="store_true", help="gc.freeze() after imports")
    parser.add_argument("--json", help="also write the rows to this file (run_all.py)")
    args = parser.parse_args()
    C.use_bytecode_cache()
    rows = trio.run(run, args.count, args.rounds, args.gc_freeze)
    C.emit(rows, args.json)


if __name__ == "__main__":
    main()
