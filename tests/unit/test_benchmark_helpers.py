"""The benchmarks that drive our internals in-process still run (``make bench`` is not in CI).

``throughput_floor.py`` walks a :class:`MessageStream` over a filled inbox without a session;
when the stream began asking for the current task where it waits, that benchmark broke and
nothing noticed until the next ``make bench``. These run each such helper on a few messages.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module", autouse=True)
def _benchmarks_importable() -> None:
    sys.path.insert(0, str(BENCHMARKS))


def bench(name: str) -> Any:
    """A benchmark script, imported as a module (they are not a package, nor typed)."""
    return importlib.import_module(name)


@pytest.mark.parametrize("kind", ["assistant", "stream_event"])
def test_throughput_floor_delivers_every_message_through_a_stream(kind: str) -> None:
    throughput = bench("throughput")
    throughput_floor = bench("throughput_floor")

    line = orjson.dumps(throughput.sample_frames()[kind])
    # Each asserts internally that it delivered all n messages.
    stream, bare = throughput_floor.in_trio(throughput_floor.stream_over_inbox, line, 50)
    iterator = throughput_floor.bare_iterator(line, 50)
    assert stream > 0 and bare > 0 and iterator > 0


@pytest.mark.parametrize("kind", ["assistant", "stream_event", "user"])
def test_core_benchmark_counts_every_message(kind: str) -> None:
    core = bench("core")
    throughput = bench("throughput")

    frames = {**throughput.sample_frames(), "user": core.user_frame()}
    chunks = core.chunks_of(frames[kind], 300)
    assert core.ceiling(chunks) == 300
    assert core.core(chunks) == 300


def test_decode_micro_runs_over_every_sample() -> None:
    decode_micro = bench("decode_micro")

    assert decode_micro.main(["--number", "3", "--rounds", "1"]) == 0
