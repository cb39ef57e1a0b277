"""Micro-benchmark of the per-message decode path: microseconds per message.

For real frames from the reference transcripts (the shortest ``assistant`` text frame, an
``assistant`` tool_use frame, a ``stream_event`` text delta, a ``user`` tool_result frame and a
``result`` frame) it times, in the same run:

- ``loads``: ``orjson.loads(line)`` alone (the ceiling's per-message work);
- ``decode``: ``decode_message(obj)`` on an already parsed dict (the structuring cost);
- ``loads+decode``: both, as the session's reader does per line.

Each figure is the best of ``--rounds`` timings of ``--number`` calls. Run:
``python benchmarks/decode_micro.py [--number 200000] [--rounds 5]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import timeit
from pathlib import Path
from typing import Any

import orjson

from trio_claude._protocol._codec import decode_message

TRANSCRIPTS = (
    Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "transcripts-cli-2.1.329"
)


def _cli_lines() -> list[str]:
    lines: list[str] = []
    for path in sorted(TRANSCRIPTS.glob("*.jsonl")):
        for record_line in path.read_text().splitlines():
            record = json.loads(record_line)
            if record.get("dir") == "cli->sdk" and "line" in record:
                lines.append(record["line"])
    return lines


def sample_lines() -> dict[str, str]:
    """Pick the sample frames (raw wire lines) from the transcripts."""
    candidates: dict[str, list[str]] = {}
    for line in _cli_lines():
        obj: dict[str, Any] = orjson.loads(line)
        kind = obj.get("type")
        if kind == "assistant":
            block_types = [b.get("type") for b in obj["message"]["content"]]
            if block_types == ["text"]:
                candidates.setdefault("assistant (text)", []).append(line)
            elif block_types == ["tool_use"]:
                candidates.setdefault("assistant (tool_use)", []).append(line)
        elif kind == "stream_event" and obj["event"].get("type") == "content_block_delta":
            candidates.setdefault("stream_event (delta)", []).append(line)
        elif kind == "user" and isinstance(obj["message"]["content"], list):
            if obj["message"]["content"][0].get("type") == "tool_result":
                candidates.setdefault("user (tool_result)", []).append(line)
        elif kind == "result" and obj.get("subtype") == "success":
            candidates.setdefault("result", []).append(line)
    # The shortest of each kind: closest to the "typical small frame" the targets talk about.
    return {name: min(lines, key=len) for name, lines in candidates.items()}


def best_us(stmt: Any, number: int, rounds: int) -> float:
    return min(timeit.repeat(stmt, number=number, repeat=rounds)) / number * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    if not TRANSCRIPTS.is_dir():
        print(f"reference transcripts not found at {TRANSCRIPTS}", file=sys.stderr)
        return 1

    loads = orjson.loads
    print(f"{'frame':<22} {'bytes':>6} {'loads':>8} {'decode':>8} {'loads+decode':>13}  (us/msg)")
    for name, line in sample_lines().items():
        data = line.encode()
        obj = loads(data)
        decode_message(obj)  # warm up (and fail early if it does not decode)
        t_loads = best_us(lambda data=data: loads(data), args.number, args.rounds)
        t_decode = best_us(lambda obj=obj: decode_message(obj), args.number, args.rounds)
        t_both = best_us(lambda data=data: decode_message(loads(data)), args.number, args.rounds)
        print(f"{name:<22} {len(data):>6} {t_loads:>8.2f} {t_decode:>8.2f} {t_both:>13.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
