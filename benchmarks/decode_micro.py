"""Micro-benchmark of the per-message decode path: microseconds per message.

For real frames recorded from the CLI (``fixtures/cli-frames.json``: the shortest
``assistant`` text frame, ``assistant`` tool_use frame, ``stream_event`` text delta, ``user``
tool_result frame and ``result`` frame of the tests' captured transcripts) it times, in the
same run:

- ``loads``: ``orjson.loads(line)`` alone (the ceiling's per-message work);
- ``decode``: ``decode_message(obj)`` on an already parsed dict (the structuring cost);
- ``loads+decode``: both, as the session's reader does per line.

Each figure is the best of ``--rounds`` timings of ``--number`` calls. Run:
``python benchmarks/decode_micro.py [--number 200000] [--rounds 5]``.
"""

from __future__ import annotations

import argparse
import sys
import timeit
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C

from trio_claude._protocol._codec import decode_message


def sample_lines() -> dict[str, str]:
    """The sample frames (raw wire lines): for each kind, the shortest one the captured
    transcripts hold (``fixtures/cli-frames.json``, made by ``fixtures/build.py``)."""
    return dict(C.fixture()["decode_lines"])


def best_us(stmt: Any, number: int, rounds: int) -> float:
    return min(timeit.repeat(stmt, number=number, repeat=rounds)) / number * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
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
