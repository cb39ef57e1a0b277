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
``python benchmarks/throughput.py [--count 100000] [--rounds 3] [--gc-freeze]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
import trio

import trio_claude as tc
from trio_claude._transport._base import LaunchSpec
from trio_claude._transport._process import SubprocessTransport, shutdown_process
from trio_claude.testing.fake_cli import (
    FakeCLIProcessTransport,
    FakeScript,
    FakeTurn,
    Flood,
    Result,
)

TRANSCRIPTS = (
    Path(__file__).resolve().parents[1].parent / "shared/reference/transcripts-cli-2.1.329"
)


def sample_frames() -> dict[str, dict[str, Any]]:
    """A real assistant frame and a real stream_event delta from the reference transcripts."""
    frames: dict[str, dict[str, Any]] = {}
    path = TRANSCRIPTS / "h_partial_messages.jsonl"
    if path.exists():
        for line in path.read_text().splitlines():
            record = json.loads(line)
            if record["dir"] != "cli->sdk":
                continue
            msg = record["msg"]
            if msg.get("type") == "assistant" and "assistant" not in frames:
                frames["assistant"] = msg
            if (
                msg.get("type") == "stream_event"
                and msg["event"].get("type") == "content_block_delta"
                and "stream_event" not in frames
            ):
                frames["stream_event"] = msg
    frames.setdefault(
        "assistant",
        {
            "type": "assistant",
            "message": {
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "model": "claude-sonnet-4-5",
                "content": [{"type": "text", "text": "hello " * 20}],
                "stop_reason": None,
                "usage": {"input_tokens": 10, "output_tokens": 1},
            },
            "parent_tool_use_id": None,
            "session_id": "s",
            "uuid": "u",
        },
    )
    frames.setdefault(
        "stream_event",
        {
            "type": "stream_event",
            "event": {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": "word1 word2 "},
            },
            "session_id": "s",
            "parent_tool_use_id": None,
            "uuid": "u",
        },
    )
    return frames


def flood_script(frame: dict[str, Any], count: int) -> FakeScript:
    return FakeScript(turns=[FakeTurn(steps=[Flood(frame, count), Result(text="done")])])


async def ceiling(transport: FakeCLIProcessTransport) -> tuple[float, float, int]:
    """A bare loop: read, split lines, orjson.loads, count until the result frame."""
    spec = LaunchSpec(argv=["claude"], env=dict(__import__("os").environ))
    async with trio.open_nursery() as nursery:
        proc = await SubprocessTransport().start(
            LaunchSpec(argv=transport.command(spec), env=spec.env), nursery
        )
        await proc.stdin.send_all(
            b'{"type":"control_request","request_id":"r1","request":{"subtype":"initialize"}}\n'
        )
        # wait for the initialize answer before timing, as the session does
        buffer = b""
        while b"control_response" not in buffer:
            buffer += await proc.stdout.receive_some(65536)
        buffer = buffer.split(b"\n", 1)[1] if b"\n" in buffer else b""
        start = time.perf_counter()
        cpu_start = time.thread_time()
        await proc.stdin.send_all(
            b'{"type":"user","message":{"role":"user","content":"go"},"parent_tool_use_id":null}\n'
        )
        count = 0
        loads = orjson.loads
        done = False
        while not done:
            data = await proc.stdout.receive_some(256 * 1024)
            if not data:
                break
            *lines, buffer = (buffer + data).split(b"\n")
            for line in lines:
                if line:
                    obj = loads(line)
                    count += 1
                    if obj.get("type") == "result":
                        done = True
        elapsed = time.perf_counter() - start
        cpu = time.thread_time() - cpu_start
        await shutdown_process(proc, close_timeout=2)
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


async def run(count: int, rounds: int, gc_freeze: bool) -> None:
    frames = sample_frames()
    if gc_freeze:
        gc.collect()
        gc.freeze()
    print(
        f"python {sys.version.split()[0]}, trio {trio.__version__}, {count} messages per round,"
        f" median of {rounds} rounds{', gc.freeze()' if gc_freeze else ''}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for name, frame in frames.items():
            size = len(orjson.dumps(frame))
            transport = FakeCLIProcessTransport(flood_script(frame, count), tmp)
            ratios, ours_rates, ceiling_rates = [], [], []
            cpu_ratios, ours_cpu, ceiling_cpu = [], [], []
            for _ in range(rounds):
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--gc-freeze", action="store_true", help="gc.freeze() after imports")
    args = parser.parse_args()
    trio.run(run, args.count, args.rounds, args.gc_freeze)


if __name__ == "__main__":
    main()
