"""One assistant line of 1 MiB / 20 MiB: time to the turn's result, ours vs a bare trio loop.

The turn is one assistant frame whose text block is ``--mib`` MiB, then the result. Three cases,
each against its own ceiling, rounds interleaved:

- **session**: a live session; from ``send()`` to the result out of ``receive_response()`` (the
  assistant message fully typed on the way). The ceiling writes the user frame on its own live
  process and reads lines (``orjson.loads``) to the result. Over the fake_cli subprocess, and
  over the lite fake, which writes the line as fast as the pipe takes it (``cat``): with the
  slower fake_cli writer the reader waits for data, with ``cat`` its own cost per byte shows.
- **query()**: from the call of ``query()`` to the result, so the start is included, in its
  session form (``async with``) and its iterator form (``async for``); over the
  lite fake (which ``cat``\\ s the pre-rendered turn), because the fake_cli's own start-up
  (~0.2 s) would hide everything else. The ceiling spawns the same script, initializes, sends
  the user frame and reads to the result.

Besides wall time, the CPU time of this process (all threads), steadier on a shared machine.
Run: ``python benchmarks/large_line.py [--mib 1 20] [--rounds 7] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import _common as C
import orjson
import trio

import trio_claude as tc
from trio_claude._transport._base import LaunchSpec
from trio_claude._transport._command import build_argv
from trio_claude.testing.fake_cli import Emit, FakeCLIProcessTransport, FakeScript, FakeTurn

TARGET = 1.3


def big_frames(mib: int) -> tuple[dict[str, Any], dict[str, Any]]:
    text = ("lorem ipsum " * (mib * 1024 * 1024 // 12 + 1))[: mib * 1024 * 1024]
    return C.assistant_frame(text), C.result_frame()


Sample = tuple[float, float]  # (wall seconds, CPU seconds of this process)


def since(start: float, cpu_start: float) -> Sample:
    return time.perf_counter() - start, time.process_time() - cpu_start


async def ceiling_turn(proc: C.CeilingProc) -> Sample:
    start, cpu_start = time.perf_counter(), time.process_time()
    await proc.send(C.user_frame())
    await proc.until_result()
    return since(start, cpu_start)


async def ours_turn(session: tc.Session) -> Sample:
    start, cpu_start = time.perf_counter(), time.process_time()
    await session.send("hi")
    async for _ in session.receive_response():
        pass
    return since(start, cpu_start)


async def ceiling_query(argv: list[str]) -> Sample:
    start, cpu_start = time.perf_counter(), time.process_time()
    proc = await C.CeilingProc.spawn(argv)
    try:
        await proc.initialize()
        await proc.send(C.user_frame())
        await proc.until_result()
        return since(start, cpu_start)
    finally:
        await proc.close()


async def ours_query_iter(options: tc.ClaudeAgentOptions) -> Sample:
    start, cpu_start = time.perf_counter(), time.process_time()
    async for message in tc.query(prompt="hi", options=options):
        if message.__class__ is tc.ResultMessage:
            elapsed = since(start, cpu_start)
    return elapsed


async def ours_query(options: tc.ClaudeAgentOptions) -> Sample:
    start, cpu_start = time.perf_counter(), time.process_time()
    async with tc.query("hi", options=options) as messages:
        async for _ in messages:
            pass
        elapsed = since(start, cpu_start)
    return elapsed


def result_row(
    name: str, mib: int, ours_samples: list[Sample], ceiling_samples: list[Sample], note: str
) -> dict[str, Any]:
    ours = [w for w, _ in ours_samples]
    ceiling = [w for w, _ in ceiling_samples]
    ours_cpu = C.median([c for _, c in ours_samples])
    ceiling_cpu = C.median([c for _, c in ceiling_samples])
    ratio = C.median(ours) / C.median(ceiling)
    return C.row(
        f"one {mib} MiB assistant line, {name} ({note})",
        f"{C.ms(C.median(ours))} (CPU {C.ms(ours_cpu)})",
        f"{C.ms(C.median(ceiling))} (CPU {C.ms(ceiling_cpu)})",
        ratio,
        f"<= {TARGET}x",
        ratio <= TARGET,
        C.spread([o / c for o, c in zip(ours, ceiling, strict=True)])
        + f"; CPU ratio {ours_cpu / ceiling_cpu:.2f}x",
        key=f"line-{mib}-{name}-{note.split(',')[0]}",
    )


async def measure(mib: int, rounds: int) -> list[dict[str, Any]]:
    assistant, result = big_frames(mib)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        # --- session, fake_cli
        turn = FakeTurn(steps=[Emit(assistant), Emit(result)], emit_init=False)
        script = FakeScript(
            turns=[turn] * (rounds + 1), initialize_response=C.initialize_response()
        )
        transport = FakeCLIProcessTransport(script, tmp)
        options = tc.ClaudeAgentOptions(transport=transport)
        argv = transport.command(LaunchSpec(argv=build_argv(options, "claude"), env={}))
        o_times: list[Sample] = []
        c_times: list[Sample] = []
        proc = await C.CeilingProc.spawn(argv)
        try:
            await proc.initialize()
            async with tc.open_session(options) as session:
                await ceiling_turn(proc)  # warm-up
                await ours_turn(session)
                for index in range(rounds):
                    if index % 2:
                        o_times.append(await ours_turn(session))
                        c_times.append(await ceiling_turn(proc))
                    else:
                        c_times.append(await ceiling_turn(proc))
                        o_times.append(await ours_turn(session))
        finally:
            await proc.close()
        rows.append(result_row("session", mib, o_times, c_times, "fake_cli, from send()"))

        # --- the lite fake: it writes the line as fast as the pipe takes it (cat)
        turn_file = Path(tmp) / "turn.jsonl"
        with turn_file.open("wb") as f:
            f.write(orjson.dumps(assistant) + b"\n")
            f.write(orjson.dumps(result) + b"\n")
            f.write(C.turn_lines()[-1].encode() + b"\n")  # state idle
        lite = C.write_lite_fake(tmp, turn_file=turn_file)
        q_options = tc.ClaudeAgentOptions(cli_path=lite)
        q_argv = build_argv(q_options, str(lite))

        # --- session, lite fake
        o_times, c_times = [], []
        proc = await C.CeilingProc.spawn(q_argv)
        try:
            await proc.initialize()
            async with tc.open_session(q_options) as session:
                await ceiling_turn(proc)  # warm-up
                await ours_turn(session)
                for index in range(rounds):
                    if index % 2:
                        o_times.append(await ours_turn(session))
                        c_times.append(await ceiling_turn(proc))
                    else:
                        c_times.append(await ceiling_turn(proc))
                        o_times.append(await ours_turn(session))
        finally:
            await proc.close()
        rows.append(result_row("session", mib, o_times, c_times, "lite fake, from send()"))

        # --- query(), lite fake
        await ceiling_query(q_argv)  # warm-up
        await ours_query(q_options)
        await ours_query_iter(q_options)
        o_times, i_times, c_times = [], [], []
        for index in range(rounds):
            if index % 2:
                o_times.append(await ours_query(q_options))
                i_times.append(await ours_query_iter(q_options))
                c_times.append(await ceiling_query(q_argv))
            else:
                c_times.append(await ceiling_query(q_argv))
                i_times.append(await ours_query_iter(q_options))
                o_times.append(await ours_query(q_options))
        rows.append(result_row("query()", mib, o_times, c_times, "lite fake, start included"))
        rows.append(
            result_row("query(), async for", mib, i_times, c_times, "lite fake, start included")
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, nargs="+", default=[1, 20])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--json", help="also write the rows to this file (run_all.py)")
    args = parser.parse_args()
    C.use_bytecode_cache()
    print(C.machine())
    rows: list[dict[str, Any]] = []
    for mib in args.mib:
        # small lines are quick and noisy: more rounds
        rows += trio.run(measure, mib, args.rounds * 3 if mib <= 4 else args.rounds)
    C.emit(rows, args.json)


if __name__ == "__main__":
    main()
