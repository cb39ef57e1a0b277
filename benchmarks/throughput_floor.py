"""Where a flooded message's time goes: the floor of typed delivery (diagnostic, no target).

Per message of the throughput flood (a real assistant frame and a real stream_event delta):

- ``orjson.loads`` alone, our typed decoder alone, and both (in a loop, the line hot in cache);
- ``MessageStream.__anext__`` over an inbox filled with the lines (``async for`` as a user
  writes it, no pipe, no reader) against a bare loop doing pop + loads + decode, and against
  the least an async iterator can do per message (an ``async def __anext__`` doing pop + loads
  + decode, drained by ``async for``);
- the whole pipeline (``throughput.py``'s session over the fake_cli) as it is and with typed
  decoding replaced by the identity (a what-if in this process only), next to the ceiling;
- the floor of typed delivery: the ceiling's CPU per message plus what the bare async iterator
  costs beyond ``orjson.loads`` (decoding, and one ``async for`` step per message, which the
  ceiling's tight loop does not take). No pipeline that hands each message to ``async for``
  typed can beat the ceiling by more than that ratio.

``--json`` writes the two floors as reference rows of ``run_all.py``'s table. Run:
``python benchmarks/throughput_floor.py [--count 100000] [--rounds 3] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import collections
import json
import statistics
import tempfile
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import _common as C
import orjson
import throughput as T
import trio

import trio_claude._stream as stream_mod
from trio_claude._inbox import Inbox
from trio_claude._protocol._connection import DEFERRED_DECODERS, ClaudeProtocol
from trio_claude._stream import MessageStream
from trio_claude.testing.fake_cli import FakeCLIProcessTransport

R = TypeVar("R")


def per_call(fn: Callable[[int], None], n: int) -> float:
    """Best of five: nanoseconds per iteration of ``fn(n)``."""
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        fn(n)
        best = min(best, (time.perf_counter() - start) / n)
    return best * 1e9


def alone(line: bytes, n: int) -> dict[str, float]:
    kind, decode = DEFERRED_DECODERS[line[9]]
    obj = orjson.loads(line)
    assert obj["type"] == kind

    def loads(n: int) -> None:
        for _ in range(n):
            orjson.loads(line)

    def decode_only(n: int) -> None:
        for _ in range(n):
            decode(obj)

    def both(n: int) -> None:
        for _ in range(n):
            decode(orjson.loads(line))

    return {
        "loads": per_call(loads, n),
        "decode": per_call(decode_only, n),
        "both": per_call(both, n),
    }


class BareIterator:
    """The least an async iterator of typed messages does: pop, loads, decode."""

    def __init__(self, queue: collections.deque[bytes]) -> None:
        self.queue = queue

    def __aiter__(self) -> BareIterator:
        return self

    async def __anext__(self) -> Any:
        queue = self.queue
        if queue:
            item = queue.popleft()
            kind, decode = DEFERRED_DECODERS[item[9]]
            obj = orjson.loads(item)
            if obj["type"] == kind:
                return decode(obj)
        raise StopAsyncIteration


def drained(iterator: Any) -> tuple[int, float]:
    """Drains ``iterator`` with ``async for`` without an event loop: (count, seconds)."""

    async def drain() -> int:
        count = 0
        async for _ in iterator:
            count += 1
        return count

    coro = drain()
    start = time.perf_counter()
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value, time.perf_counter() - start
    raise AssertionError("the drain waited")


def bare_iterator(line: bytes, n: int) -> float:
    """ns per message: :class:`BareIterator` over ``n`` copies of ``line`` (best of five)."""
    best = float("inf")
    for _ in range(5):
        count, seconds = drained(BareIterator(collections.deque([line] * n)))
        assert count == n
        best = min(best, seconds / n)
    return best * 1e9


def in_trio(fn: Callable[..., R], *args: Any) -> R:
    """``fn(*args)`` called from a trio task: never awaits, but may ask for the current task."""

    async def call() -> R:
        return fn(*args)

    return trio.run(call)


def stream_over_inbox(line: bytes, n: int) -> tuple[float, float]:
    """ns per message: MessageStream over a filled inbox; a bare pop + loads + decode loop."""
    source: Any = types.SimpleNamespace(
        _inbox=Inbox(1 << 40),
        _proto=ClaudeProtocol(defer_messages=True),
        _take_budget_error=lambda: None,
        _receiver=None,  # MessageStream notes its receiving task where it would wait
        _check_loop=lambda: None,
    )

    async def no_more(**_: Any) -> None:
        return None

    source._next_message = no_more
    best = float("inf")
    for _ in range(5):
        source._inbox.queue.extend([line] * n)
        source._inbox.since_checkpoint = -(10**9)  # no checkpoint: no event loop here
        count, seconds = drained(MessageStream(source, until_result=False))
        assert count == n
        best = min(best, seconds / n)
    queue = collections.deque([line] * n)
    start = time.perf_counter()
    while queue:
        item = queue.popleft()
        kind, decode = DEFERRED_DECODERS[item[9]]
        obj = orjson.loads(item)
        if obj["type"] == kind:
            decode(obj)
    bare = (time.perf_counter() - start) / n
    return best * 1e9, bare * 1e9


async def pipeline(kind: str, count: int, rounds: int) -> dict[str, float]:
    """us CPU per message: as it is, with decoding replaced by the identity, and the ceiling."""
    real = dict(stream_mod.DEFERRED_DECODERS)
    identity = {b: (k, lambda obj: obj) for b, (k, _) in real.items()}
    out: dict[str, list[float]] = {"ours": [], "ours, no typed decoding": [], "ceiling": []}
    with tempfile.TemporaryDirectory() as tmp:
        transport = FakeCLIProcessTransport(T.flood_script(T.sample_frames()[kind], count), tmp)
        for _ in range(rounds):
            for name in out:
                if name == "ceiling":
                    _, cpu, n = await T.ceiling(transport)
                else:
                    stream_mod.DEFERRED_DECODERS.update(real if name == "ours" else identity)
                    try:
                        _, cpu, n = await T.ours(transport)
                    finally:
                        stream_mod.DEFERRED_DECODERS.update(real)
                out[name].append(cpu / n * 1e6)
    return {name: statistics.median(values) for name, values in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", help="also write the floors as reference rows (run_all.py)")
    args = parser.parse_args()
    print(C.machine())
    rows = []
    for kind, frame in T.sample_frames().items():
        line = orjson.dumps(frame)
        a = alone(line, args.count)
        # In a trio task (no checkpoint is taken): the stream's slow path, where it stops at
        # the end of the inbox, notes the task that receives.
        stream, bare = in_trio(stream_over_inbox, line, args.count)
        iterator = bare_iterator(line, args.count)
        p = trio.run(pipeline, kind, args.count, args.rounds)
        print(
            f"{kind} ({len(line)} B): loads {a['loads']:.0f} ns, typed decoding"
            f" {a['decode']:.0f} ns, both {a['both']:.0f} ns; MessageStream over a filled inbox"
            f" {stream:.0f} ns vs a bare loop {bare:.0f} ns and a bare async iterator"
            f" {iterator:.0f} ns"
        )
        ceiling = p["ceiling"]
        print(
            "    pipeline, us CPU per message: "
            + ", ".join(f"{name} {value:.2f} ({ceiling / value:.2f}x)" for name, value in p.items())
        )
        floor = ceiling + max(0.0, iterator - a["loads"]) / 1000
        print(
            f"    floor of typed delivery through async for: {floor:.2f} us CPU per message"
            f" ({ceiling / floor:.2f}x the ceiling)"
        )
        label = "small assistant messages" if kind == "assistant" else "stream_event deltas"
        rows.append(
            C.row(
                f"{args.count // 1000}k {label} ({len(line)} B), floor of typed delivery through"
                " `async for` (`throughput_floor.py`)",
                f"{floor:.2f} us CPU/msg",
                f"{ceiling:.2f} us",
                ceiling / floor,
                "(reference)",
                None,
                f"ours in the same run {p['ours']:.2f} us ({ceiling / p['ours']:.2f}x), without"
                f" typed decoding {p['ours, no typed decoding']:.2f} us"
                f" ({ceiling / p['ours, no typed decoding']:.2f}x); CPU ratios",
                key=f"throughput-floor-{kind}",
            )
        )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
