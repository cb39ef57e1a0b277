"""Microseconds per message in the sans-io protocol core, vs a bare ``orjson`` loop, in-process.

No subprocess, no trio: the same pre-rendered flood (one frame repeated, cut into 64 KiB reads as
the session's reader gets them from the pipe) is fed to

- the **ceiling**: split the chunks into lines and ``orjson.loads`` each one, nothing else;
- the **core**: ``ClaudeProtocol.receive_data(chunk)`` + ``events()`` per chunk (framing, JSON,
  typed decoding, routing), the events of a chunk kept until the next one, like a consumer would.

Each figure is the best of ``--rounds`` passes over ``--count`` messages, in CPU time of this
thread (``time.thread_time``: steadier than wall time on a busy machine), with the cyclic GC on
(the default) and off, so the GC's share is visible. This isolates what ``benchmarks/throughput.py``
measures end to end minus the pipe, the event loop and the session's queue. Run:
``python benchmarks/core.py [--count 100000] [--rounds 7] [--frame assistant|stream_event|user]``.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from throughput import sample_frames

from trio_claude._protocol._connection import ClaudeProtocol

READ_SIZE = 64 * 1024


def user_frame() -> dict[str, Any]:
    return {
        "type": "user",
        "message": {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "ok " * 20}],
        },
        "parent_tool_use_id": None,
        "session_id": "16d14625-73a8-4872-9f80-c5fec91a16fa",
        "uuid": "b8500334-6421-40dd-8a52-02f842593733",
        "tool_use_result": {"stdout": "ok", "stderr": "", "interrupted": False},
    }


def chunks_of(frame: dict[str, Any], count: int) -> list[bytes]:
    stream = (orjson.dumps(frame) + b"\n") * count
    return [stream[i : i + READ_SIZE] for i in range(0, len(stream), READ_SIZE)]


def ceiling(chunks: list[bytes]) -> int:
    loads = orjson.loads
    buffer = b""
    count = 0
    for chunk in chunks:
        *lines, buffer = (buffer + chunk).split(b"\n")
        for line in lines:
            if line:
                loads(line)
                count += 1
    return count


def core(chunks: list[bytes]) -> int:
    proto = ClaudeProtocol()
    count = 0
    events: list[Any] = []
    for chunk in chunks:
        proto.receive_data(chunk)
        events = proto.events()  # kept alive until the next chunk, as a consumer's queue would
        count += len(events)
    del events
    return count


def best_us_per_message(
    run: Callable[[list[bytes]], int], chunks: list[bytes], rounds: int
) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.thread_time()
        count = run(chunks)
        best = min(best, (time.thread_time() - start) / count * 1e6)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--frame", choices=("assistant", "stream_event", "user"), default=None)
    args = parser.parse_args()
    frames = {**sample_frames(), "user": user_frame()}
    names = [args.frame] if args.frame else list(frames)
    print(f"python {sys.version.split()[0]}, {args.count} messages, best of {args.rounds}")
    for name in names:
        chunks = chunks_of(frames[name], args.count)
        size = len(orjson.dumps(frames[name]))
        for label, enabled in (("gc on ", True), ("gc off", False)):
            gc.collect()
            if not enabled:
                gc.disable()
            try:
                top = best_us_per_message(ceiling, chunks, args.rounds)
                ours = best_us_per_message(core, chunks, args.rounds)
            finally:
                gc.enable()
            print(
                f"{name:>12} ({size} B) {label}: core {ours:5.2f} us/msg   ceiling {top:5.2f} "
                f"us/msg   ratio {top / ours:.2f}x"
            )


if __name__ == "__main__":
    main()
