"""The official Python SDK (``claude-agent-sdk``) on the same workloads, against the same ceilings.

An optional comparison column for ``run_all.py --official PYTHON``: run by the interpreter of a
separate virtual environment holding ``claude-agent-sdk==0.2.186`` plus ``trio``, ``orjson`` and
``cattrs``, e.g.::

    python3 -m venv /tmp/official-sdk-venv
    /tmp/official-sdk-venv/bin/pip install claude-agent-sdk==0.2.186 trio orjson cattrs
    .venv/bin/python benchmarks/run_all.py --official /tmp/official-sdk-venv/bin/python

The official SDK runs under trio (it is written against anyio). This checkout's ``trio_claude``
is put on ``sys.path`` only for the fake CLI's scripts and the ceilings, which are the very same
functions as in our benchmarks, measured again in this process: every official figure is a ratio
to a ceiling of its own run, like ours. The workloads and fakes are ours:

- the lite fake through ``cli_path`` (start, fan-out, heap, ``query()`` with a large line);
- the fake_cli through a two-line wrapper script as ``cli_path`` (round trips, large lines
  through a client, throughput).

``max_buffer_size`` is raised to 64 MiB (its default, 1 MiB, rejects the large lines), and
``CLAUDE_AGENT_SDK_SKIP_VERSION_CHECK`` is set (it would run ``cli_path -v`` before every
start; we never do). Rows carry the same ``key`` as ours. Run on its own with
``/tmp/official-sdk-venv/bin/python benchmarks/official_sdk.py [--quick] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import _common as C  # noqa: E402
import claude_agent_sdk as sdk  # noqa: E402  (the SDK under test)
import fanout  # noqa: E402
import large_line  # noqa: E402
import memory  # noqa: E402
import orjson  # noqa: E402
import roundtrip  # noqa: E402
import start  # noqa: E402
import throughput  # noqa: E402
import trio  # noqa: E402

from trio_claude._transport._base import LaunchSpec  # noqa: E402
from trio_claude.testing.fake_cli import (  # noqa: E402
    Emit,
    FakeCLIProcessTransport,
    FakeScript,
    FakeTurn,
)

os.environ["CLAUDE_AGENT_SDK_SKIP_VERSION_CHECK"] = "1"
BIG_BUFFER = 64 * 1024 * 1024


def options(cli_path: str | os.PathLike[str], **kwargs: Any) -> sdk.ClaudeAgentOptions:
    return sdk.ClaudeAgentOptions(cli_path=str(cli_path), max_buffer_size=BIG_BUFFER, **kwargs)


def fake_cli_wrapper(tmp: str, script: FakeScript) -> tuple[Path, list[str]]:
    """A ``cli_path`` that runs the fake_cli with ``script``; and the argv the ceiling spawns."""
    transport = FakeCLIProcessTransport(script, tmp)
    command = transport.command(LaunchSpec(argv=["claude"], env={}))
    command[1:1] = ["-W", "ignore::RuntimeWarning"]  # runpy's warning about ``-m`` of a module
    # its package already imported, printed on the stderr the official SDK does not capture
    path = Path(tmp) / f"fake-cli-{transport.path.stem}.sh"
    path.write_text("#!/bin/sh\nexec " + " ".join(f"'{part}'" for part in command) + ' "$@"\n')
    path.chmod(0o755)
    return path, [str(path)]


def ratio_row(key: str, ours: list[float], ceiling: list[float]) -> dict[str, Any]:
    """Official / ceiling, as ours: times (lower is better) or rates (higher is better)."""
    o, c = C.median(ours), C.median(ceiling)
    return C.row(key, f"{o:.6g}", f"{c:.6g}", o / c, "", None, key=key)


# ------------------------------------------------------------------------ start, fan-out


async def off_query_first(path: Path) -> start.Sample:
    begin, cpu_begin = time.perf_counter(), time.process_time()
    first = cpu = None
    async for _ in sdk.query(prompt="hi", options=options(path)):
        if first is None:
            first, cpu = time.perf_counter(), time.process_time() - cpu_begin
    assert first is not None and cpu is not None
    return first - begin, cpu


async def off_client_first(path: Path) -> start.Sample:
    begin, cpu_begin = time.perf_counter(), time.process_time()
    first = cpu = None
    async with sdk.ClaudeSDKClient(options(path)) as client:
        await client.query("hi")
        async for _ in client.receive_response():
            if first is None:
                first, cpu = time.perf_counter(), time.process_time() - cpu_begin
    assert first is not None and cpu is not None
    return first - begin, cpu


async def starts(tmp: str, rounds: int) -> list[dict[str, Any]]:
    setup = start.Setup("lite", tmp)
    cases: dict[str, Callable[[], Awaitable[start.Sample]]] = {
        "ceiling": lambda: start.ceiling(setup),
        "query()": lambda: off_query_first(setup.path),
        "open_session()": lambda: off_client_first(setup.path),
    }
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for fn in cases.values():
        await fn()
    for index in range(rounds):
        names = list(cases)
        for name in names[index % 3 :] + names[: index % 3]:
            samples[name].append((await cases[name]())[0])
    rows = [
        ratio_row(f"start-lite-{name}", samples[name], samples["ceiling"])
        for name in ("query()", "open_session()")
    ]
    # its query() is an async iterator: the same figure matches our iterator form's row
    rows.append({**rows[0], "key": "start-lite-query(), async for"})
    return rows


async def fan_out(tmp: str, rounds: int, sessions: int) -> list[dict[str, Any]]:
    setup = start.Setup("lite", tmp)

    async def one(got_result: Callable[[], None], done: trio.Event) -> None:
        async with sdk.ClaudeSDKClient(options(setup.path)) as client:
            await client.query("hi")
            async for _ in client.receive_response():
                pass
            got_result()
            await done.wait()

    await fanout.fan_out(1, fanout.ceiling(setup))
    await fanout.fan_out(1, one)
    ours, ceiling = [], []
    for _ in range(rounds):
        ceiling.append(await fanout.fan_out(sessions, fanout.ceiling(setup)))
        ours.append(await fanout.fan_out(sessions, one))
    return [ratio_row("fanout-lite", ours, ceiling)]


async def heap(tmp: str, sessions: int) -> list[dict[str, Any]]:
    lite = C.write_lite_fake(tmp)
    keep: list[Any] = []

    async def official(opened: Callable[[], None], done: trio.Event) -> None:
        async with sdk.ClaudeSDKClient(options(lite)) as client:
            await client.query("hi")
            async for _ in client.receive_response():
                pass
            opened()
            await done.wait()

    def ceiling(opened: Callable[[], None], done: trio.Event) -> Awaitable[None]:
        return memory.ceiling_session([str(lite)], opened, done, keep)

    await memory.heap_per_session(1, ceiling)
    await memory.heap_per_session(1, official)
    keep.clear()
    tracemalloc.start(1)
    c_bytes, *_ = await memory.heap_per_session(sessions, ceiling)
    keep.clear()
    o_bytes, *_ = await memory.heap_per_session(sessions, official)
    tracemalloc.stop()
    row = ratio_row("heap", [o_bytes], [c_bytes])
    row["ours"] = f"{o_bytes / 1024:.0f} KiB"
    return [row]


# ------------------------------------------------------------------------ round trips


async def round_trips(tmp: str, count: int, rounds: int) -> list[dict[str, Any]]:
    arrivals: list[float] = []

    async def allow(tool_name: str, tool_input: dict[str, Any], context: Any) -> Any:
        arrivals.append(time.perf_counter())
        return sdk.PermissionResultAllow()

    path, argv = fake_cli_wrapper(tmp, roundtrip.permission_script(count, rounds + 1))
    results: dict[str, tuple[list[float], list[float]]] = {
        "can_use_tool": ([], []),
        "set_permission_mode": ([], []),
    }

    async def off_can_use_tool(client: sdk.ClaudeSDKClient) -> list[float]:
        arrivals.clear()
        await client.query("go")
        async for _ in client.receive_response():
            pass
        return [b - a for a, b in itertools.pairwise(arrivals)]

    async def off_set_mode(client: sdk.ClaudeSDKClient, n: int) -> list[float]:
        samples = []
        for _ in range(n):
            begin = time.perf_counter()
            await client.set_permission_mode("default")
            samples.append(time.perf_counter() - begin)
        return samples

    proc = await C.CeilingProc.spawn(argv)
    try:
        await proc.initialize()
        async with sdk.ClaudeSDKClient(options(path, can_use_tool=allow)) as client:
            await roundtrip.ceiling_can_use_tool(proc)
            await off_can_use_tool(client)
            await roundtrip.ceiling_set_mode(proc, 20, 1000)
            await off_set_mode(client, 20)
            for index in range(rounds):
                c = results["can_use_tool"][1]
                c.append(C.quantile(await roundtrip.ceiling_can_use_tool(proc), 0.5))
                m = results["set_permission_mode"][1]
                modes = await roundtrip.ceiling_set_mode(proc, count, 10_000 * (index + 1))
                m.append(C.quantile(modes, 0.5))
                results["can_use_tool"][0].append(C.quantile(await off_can_use_tool(client), 0.5))
                results["set_permission_mode"][0].append(
                    C.quantile(await off_set_mode(client, count), 0.5)
                )
    finally:
        await proc.close()
    return [ratio_row(f"rt-{name}", o, c) for name, (o, c) in results.items()]


# ------------------------------------------------------------------------ large lines


async def large_lines(tmp: str, mib: int, rounds: int) -> list[dict[str, Any]]:
    assistant, result = large_line.big_frames(mib)
    rows = []

    async def off_turn(client: sdk.ClaudeSDKClient) -> float:
        begin = time.perf_counter()
        await client.query("hi")
        async for _ in client.receive_response():
            pass
        return time.perf_counter() - begin

    async def off_query(path: Path) -> float:
        begin = time.perf_counter()
        async for _ in sdk.query(prompt="hi", options=options(path)):
            pass
        return time.perf_counter() - begin

    turn = FakeTurn(steps=[Emit(assistant), Emit(result)], emit_init=False)
    script = FakeScript(turns=[turn] * (rounds + 1), initialize_response=C.initialize_response())
    fake_path, fake_argv = fake_cli_wrapper(tmp, script)
    turn_file = Path(tmp) / f"turn-{mib}.jsonl"
    turn_file.write_bytes(
        orjson.dumps(assistant)
        + b"\n"
        + orjson.dumps(result)
        + b"\n"
        + C.turn_lines()[-1].encode()
        + b"\n"
    )
    lite = C.write_lite_fake(tmp, turn_file=turn_file)
    for label, path, argv in (("fake_cli", fake_path, fake_argv), ("lite fake", lite, [str(lite)])):
        ours, ceiling = [], []
        proc = await C.CeilingProc.spawn(argv)
        try:
            await proc.initialize()
            async with sdk.ClaudeSDKClient(options(path)) as client:
                await large_line.ceiling_turn(proc)
                await off_turn(client)
                for _ in range(rounds):
                    ceiling.append((await large_line.ceiling_turn(proc))[0])
                    ours.append(await off_turn(client))
        finally:
            await proc.close()
        rows.append(ratio_row(f"line-{mib}-session-{label}", ours, ceiling))
    ours, ceiling = [], []
    await large_line.ceiling_query([str(lite)])
    await off_query(lite)
    for _ in range(rounds):
        ceiling.append((await large_line.ceiling_query([str(lite)]))[0])
        ours.append(await off_query(lite))
    rows.append(ratio_row(f"line-{mib}-query()-lite fake", ours, ceiling))
    rows.append({**rows[-1], "key": f"line-{mib}-query(), async for-lite fake"})
    return rows


# ------------------------------------------------------------------------ throughput


async def floods(tmp: str, count: int, rounds: int) -> list[dict[str, Any]]:
    rows = []
    for name, frame in throughput.sample_frames().items():
        script = throughput.flood_script(frame, count)
        path, _ = fake_cli_wrapper(tmp, script)
        transport = FakeCLIProcessTransport(script, tmp)
        ours, ceiling = [], []
        for _ in range(rounds):
            c_time, _, c_count = await throughput.ceiling(transport)
            ceiling.append(c_count / c_time)
            async with sdk.ClaudeSDKClient(options(path)) as client:
                begin = time.perf_counter()
                await client.query("go")
                n = 0
                async for _ in client.receive_response():
                    n += 1
                ours.append(n / (time.perf_counter() - begin))
        rows.append(ratio_row(f"throughput-{name}", ours, ceiling))
    return rows


async def run(quick: bool) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        steps: list[tuple[str, Callable[[], Awaitable[list[dict[str, Any]]]]]] = [
            ("start", lambda: starts(tmp, 5 if quick else 31)),
            ("fan-out", lambda: fan_out(tmp, 2 if quick else 7, 50)),
            ("heap", lambda: heap(tmp, 20 if quick else 50)),
            ("round trips", lambda: round_trips(tmp, 100 if quick else 500, 2 if quick else 5)),
            ("1 MiB", lambda: large_lines(tmp, 1, 3 if quick else 21)),
            ("20 MiB", lambda: large_lines(tmp, 20, 2 if quick else 7)),
            ("throughput", lambda: floods(tmp, 20_000 if quick else 100_000, 1 if quick else 5)),
        ]
        for name, step in steps:
            begin = time.perf_counter()
            try:
                got = await step()
            except Exception as exc:  # one failing workload must not lose the others
                print(f"official SDK, {name}: failed: {exc!r}", file=sys.stderr)
                continue
            gc.collect()
            print(f"official SDK, {name}: {time.perf_counter() - begin:.0f} s", file=sys.stderr)
            rows += got
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", help="also write the rows to this file (run_all.py)")
    args = parser.parse_args()
    C.use_bytecode_cache()
    print(C.machine(), f"claude-agent-sdk {sdk.__version__}")
    C.emit(trio.run(run, args.quick), args.json)


if __name__ == "__main__":
    main()
