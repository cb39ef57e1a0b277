"""Control round trips: ``can_use_tool`` and ``set_permission_mode``, p50/p99, vs a bare trio loop.

Both run on a live session over the fake_cli subprocess (same script on both sides):

- **can_use_tool** (CLI -> SDK): the fake sends ``--count`` real-shaped ``can_use_tool``
  requests, each once the previous one is answered. Our side answers through an ``async``
  ``can_use_tool`` callback that allows; the ceiling reads the request with ``orjson`` and writes
  the same allow answer. A sample is the time between two consecutive requests arriving (read by
  the callback / the loop), i.e. one full round trip as the SDK side sees it: read, decode,
  answer, write, and the fake's own turn-around (the same on both sides).
- **set_permission_mode** (SDK -> CLI): ``await session.set_permission_mode(...)`` timed one by
  one; the ceiling writes the same request and reads lines until its ``control_response``.

Rounds alternate ceiling and ours; we report the median over rounds of each round's p50 and p99,
and the CPU time of the event loop's thread per round trip (steadier on a shared machine).
Run: ``python benchmarks/roundtrip.py [--count 500] [--rounds 5] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from typing import Any

import _common as C
import orjson
import trio

import trio_claude as tc
from trio_claude._transport._base import LaunchSpec
from trio_claude._transport._command import build_argv
from trio_claude.testing.fake_cli import (
    FakeCLIProcessTransport,
    FakeScript,
    FakeTurn,
    Request,
    Result,
)

TARGET = 1.5


def permission_script(count: int, turns: int) -> FakeScript:
    request = dict(C.fixture()["can_use_tool_request"])
    request.pop("subtype")
    steps = [Request("can_use_tool", request) for _ in range(count)] + [Result(text="done")]
    return FakeScript(
        turns=[FakeTurn(steps=steps)] * turns, initialize_response=C.initialize_response()
    )


def argv_of(transport: FakeCLIProcessTransport, options: tc.ClaudeAgentOptions) -> list[str]:
    return transport.command(LaunchSpec(argv=build_argv(options, "claude"), env={}))


# ----------------------------------------------------------------- can_use_tool


async def ceiling_can_use_tool(proc: C.CeilingProc) -> list[float]:
    arrivals: list[float] = []
    await proc.send(C.user_frame("go"))
    while True:
        obj = await proc.next()
        assert obj is not None
        kind = obj.get("type")
        if kind == "control_request":
            arrivals.append(time.perf_counter())
            request = obj["request"]
            answer = {
                "type": "control_response",
                "response": {
                    "subtype": "success",
                    "request_id": obj["request_id"],
                    "response": {"behavior": "allow", "updatedInput": request["input"]},
                },
            }
            await proc.send(orjson.dumps(answer) + b"\n")
        elif kind == "result":
            break
    return [b - a for a, b in itertools.pairwise(arrivals)]


async def ours_can_use_tool(session: tc.Session, arrivals: list[float]) -> list[float]:
    arrivals.clear()
    await session.run("go")
    return [b - a for a, b in itertools.pairwise(arrivals)]


# ---------------------------------------------------------- set_permission_mode


async def ceiling_set_mode(proc: C.CeilingProc, count: int, base: int) -> list[float]:
    samples = []
    for i in range(count):
        rid = f"req_{base + i}_{i:08x}"
        frame = {
            "type": "control_request",
            "request_id": rid,
            "request": {"subtype": "set_permission_mode", "mode": "default"},
        }
        start = time.perf_counter()
        await proc.send(orjson.dumps(frame) + b"\n")
        while True:
            obj = await proc.next()
            assert obj is not None
            if obj.get("type") == "control_response" and obj["response"]["request_id"] == rid:
                break
        samples.append(time.perf_counter() - start)
    return samples


async def ours_set_mode(session: tc.Session, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        await session.set_permission_mode("default")
        samples.append(time.perf_counter() - start)
    return samples


def summarize(
    name: str,
    ours: list[list[float]],
    ceiling: list[list[float]],
    cpu: tuple[list[float], list[float]],
) -> dict[str, Any]:
    o50 = [C.quantile(s, 0.5) for s in ours]
    c50 = [C.quantile(s, 0.5) for s in ceiling]
    o99 = C.median([C.quantile(s, 0.99) for s in ours])
    c99 = C.median([C.quantile(s, 0.99) for s in ceiling])
    ratio = C.median(o50) / C.median(c50)
    return C.row(
        f"{name} round trip (fake_cli), p50 / p99",
        f"{C.us(C.median(o50))} / {C.us(o99)} (loop CPU {C.us(C.median(cpu[0]))})",
        f"{C.us(C.median(c50))} / {C.us(c99)} (CPU {C.us(C.median(cpu[1]))})",
        ratio,
        f"p50 <= {TARGET}x",
        ratio <= TARGET,
        C.spread([o / c for o, c in zip(o50, c50, strict=True)]),
        key=f"rt-{name}",
    )


async def measure(count: int, rounds: int) -> list[dict[str, Any]]:
    arrivals: list[float] = []

    async def allow(tool_name: str, tool_input: dict[str, Any], context: Any) -> Any:
        arrivals.append(time.perf_counter())
        return tc.PermissionResultAllow()

    with tempfile.TemporaryDirectory() as tmp:
        script = permission_script(count, rounds + 1)
        transport = FakeCLIProcessTransport(script, tmp)
        options = tc.ClaudeAgentOptions(transport=transport, can_use_tool=allow)
        results: dict[str, tuple[list[list[float]], list[list[float]]]] = {
            "can_use_tool": ([], []),
            "set_permission_mode": ([], []),
        }
        # CPU time of the event loop's thread per round trip (ours, ceiling)
        cpu: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in results}

        async def cpu_per(name: str, side: int, coro: Any) -> list[float]:
            start = time.thread_time()
            samples: list[float] = await coro
            cpu[name][side].append((time.thread_time() - start) / max(1, len(samples)))
            return samples

        proc = await C.CeilingProc.spawn(argv_of(transport, options))
        try:
            await proc.initialize()
            async with tc.open_session(options) as session:
                # warm-up turn on both sides
                await ceiling_can_use_tool(proc)
                await ours_can_use_tool(session, arrivals)
                await ceiling_set_mode(proc, 20, 1000)
                await ours_set_mode(session, 20)
                for index in range(rounds):
                    order = ["c", "o"] if index % 2 == 0 else ["o", "c"]
                    for who in order:
                        if who == "c":
                            results["can_use_tool"][1].append(
                                await cpu_per("can_use_tool", 1, ceiling_can_use_tool(proc))
                            )
                            base = 10_000 * (index + 1)
                            results["set_permission_mode"][1].append(
                                await cpu_per(
                                    "set_permission_mode", 1, ceiling_set_mode(proc, count, base)
                                )
                            )
                        else:
                            results["can_use_tool"][0].append(
                                await cpu_per(
                                    "can_use_tool", 0, ours_can_use_tool(session, arrivals)
                                )
                            )
                            results["set_permission_mode"][0].append(
                                await cpu_per(
                                    "set_permission_mode", 0, ours_set_mode(session, count)
                                )
                            )
        finally:
            await proc.close()
    return [summarize(name, ours, ceiling, cpu[name]) for name, (ours, ceiling) in results.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500, help="round trips per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", help="also write the rows to this file (run_all.py)")
    args = parser.parse_args()
    C.use_bytecode_cache()
    print(C.machine())
    C.emit(trio.run(measure, args.count, args.rounds), args.json)


if __name__ == "__main__":
    main()
