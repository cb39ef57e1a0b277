"""Start-up: from the call to the first message, ours vs a bare trio loop, same fake, same run.

Each round (interleaved, so machine noise hits every case alike) times:

- the **ceiling**: ``trio.lowlevel.open_process`` the fake with the argv the SDK would use, write
  ``initialize``, read its answer, write a user message, read lines until the first one an SDK
  delivers (``system/init``);
- **query()**: ``async with query("hi", options) as messages`` until the first message arrives
  (the session form), and ``async for m in query(prompt="hi", options=...)`` (the iterator
  form, the official SDK's, a pull-driven session: ``_query.py: _PullQuery``);
- **open_session()**: ``async with open_session(options)``, ``send("hi")``, first message of
  ``receive_response()``.

The rest of the turn and the close are not timed (the rounds drain them). With the **lite** fake
(a shell script that starts in ~1 ms, see ``_common.py``) the SDK runs its default path:
``cli_path`` given, CLI discovery in a worker thread, argv building, ``SubprocessTransport``.
With ``--fake fake_cli`` it goes through ``FakeCLIProcessTransport``; that fake needs ~0.2 s to
start, which dilutes the ratio, so the absolute difference is the figure to read there.

Besides wall time we report the CPU time of this process (all threads) up to the first message,
steadier than wall time on a shared machine. The first round is also reported on its own: the
first session of a process pays the one-time costs (the codec's hooks are generated on first
use). Run:
``python benchmarks/start.py [--rounds 21] [--fake lite|fake_cli|both] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from typing import Any

import _common as C
import trio

import trio_claude as tc
from trio_claude._transport._base import LaunchSpec
from trio_claude._transport._command import build_argv
from trio_claude.testing.fake_cli import Emit, FakeCLIProcessTransport, FakeScript, FakeTurn

TARGET = 1.5


def fake_cli_script() -> FakeScript:
    """The recorded turn, through the fake_cli (it writes its own state frames around it)."""
    frames = [f for f in C.turn_frames() if not f.get("sdk_host_only")]
    turn = FakeTurn(steps=[Emit(f) for f in frames], emit_init=False)
    return FakeScript(turns=[turn] * 1000, initialize_response=C.initialize_response())


class Setup:
    """How each side starts the fake."""

    def __init__(self, kind: str, tmp: str) -> None:
        self.kind = kind
        if kind == "lite":
            self.path = C.write_lite_fake(tmp)
            self.options = tc.ClaudeAgentOptions(cli_path=self.path)
            self.argv = build_argv(self.options, str(self.path))
        else:
            transport = FakeCLIProcessTransport(fake_cli_script(), tmp)
            self.options = tc.ClaudeAgentOptions(transport=transport)
            argv = build_argv(self.options, "claude")
            self.argv = transport.command(LaunchSpec(argv=argv, env={}))


Sample = tuple[float, float]  # (wall seconds, CPU seconds of this process) to the first message


async def ceiling(setup: Setup) -> Sample:
    start = time.perf_counter()
    cpu_start = time.process_time()
    proc = await C.CeilingProc.spawn(setup.argv)
    await proc.initialize()
    await proc.send(C.user_frame())
    await proc.first_message()
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    await proc.until_result()
    await proc.close()
    return elapsed, cpu


async def ours_query(setup: Setup) -> Sample:
    start = time.perf_counter()
    cpu_start = time.process_time()
    first = cpu = None
    async with tc.query("hi", options=setup.options) as messages:
        async for _ in messages:
            if first is None:
                first = time.perf_counter()
                cpu = time.process_time() - cpu_start
    assert first is not None and cpu is not None
    return first - start, cpu


async def ours_query_iter(setup: Setup) -> Sample:
    """The iterator form (the official SDK's): ``async for m in query(prompt=..., options=...)``."""
    start = time.perf_counter()
    cpu_start = time.process_time()
    first = cpu = None
    async for _ in tc.query(prompt="hi", options=setup.options):
        if first is None:
            first = time.perf_counter()
            cpu = time.process_time() - cpu_start
    assert first is not None and cpu is not None
    return first - start, cpu


async def ours_session(setup: Setup) -> Sample:
    start = time.perf_counter()
    cpu_start = time.process_time()
    first = cpu = None
    async with tc.open_session(setup.options) as session:
        await session.send("hi")
        async for _ in session.receive_response():
            if first is None:
                first = time.perf_counter()
                cpu = time.process_time() - cpu_start
    assert first is not None and cpu is not None
    return first - start, cpu


CASES = {
    "ceiling": ceiling,
    "query()": ours_query,
    "query(), async for": ours_query_iter,
    "open_session()": ours_session,
}


async def measure(kind: str, rounds: int) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        setup = Setup(kind, tmp)
        samples: dict[str, list[Sample]] = {name: [] for name in CASES}
        for index in range(rounds):
            names = list(CASES)
            names = names[index % len(names) :] + names[: index % len(names)]  # who goes first
            for name in names:
                samples[name].append(await CASES[name](setup))
    first = {name: values[0][0] for name, values in samples.items()}
    warm = {name: [w for w, _ in values[1:]] for name, values in samples.items()}
    cpu = {name: C.median([c for _, c in values[1:]]) for name, values in samples.items()}
    ceiling_median = C.median(warm["ceiling"])
    rows = []
    for name in ("query()", "query(), async for", "open_session()"):
        ratios = [o / c for o, c in zip(warm[name], warm["ceiling"], strict=True)]
        ratio = C.median(warm[name]) / ceiling_median
        extra = C.median(warm[name]) - ceiling_median
        rows.append(
            C.row(
                f"start ({kind} fake), {name} call -> first message",
                f"{C.ms(C.median(warm[name]))} ({extra * 1e3:+.1f} ms; CPU {C.ms(cpu[name])};"
                f" first of process {C.ms(first[name])})",
                f"{C.ms(ceiling_median)} (CPU {C.ms(cpu['ceiling'])})",
                ratio,
                f"<= {TARGET}x" if kind == "lite" else "(diluted: fake starts in ~0.2 s)",
                ratio <= TARGET if kind == "lite" else None,
                C.spread(ratios),
                key=f"start-{kind}-{name}",
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21, help="rounds with the lite fake")
    parser.add_argument("--fake-cli-rounds", type=int, default=6)
    parser.add_argument("--fake", choices=("lite", "fake_cli", "both"), default="both")
    parser.add_argument("--json", help="also write the rows to this file (run_all.py)")
    args = parser.parse_args()
    C.use_bytecode_cache()
    print(C.machine())
    rows: list[dict[str, Any]] = []
    if args.fake in ("lite", "both"):
        rows += trio.run(measure, "lite", args.rounds)
    if args.fake in ("fake_cli", "both"):
        rows += trio.run(measure, "fake_cli", args.fake_cli_rounds)
    C.emit(rows, args.json)


if __name__ == "__main__":
    main()
