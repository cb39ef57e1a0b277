"""What a team costs over the same sessions run by hand, and how many real CLIs a machine holds.

Three measurements, each printed as a markdown table:

1. **In-process overhead** (no subprocess, no model: the SDK's own cost). ``--tasks`` prompts,
   ``--limit`` at a time, each on a fresh session over the in-process fake CLI:
   ``teams.open_fanout`` vs the same thing by hand (a nursery, a ``trio.CapacityLimiter``,
   ``open_session`` and ``run`` in each task). Plus the per-turn cost of ``Agent.run`` (state,
   cost and token accounting) over ``Session.run`` on one session.
2. **Real-CLI overhead**: the same fan-out with the real ``claude`` CLI against the fake model
   (offline), by hand vs ``open_fanout``. Target: the team within 5 % of by hand.
3. **Capacity**: a lead and ``k - 1`` teammates (``teams.open_team``), the lead delegating to
   every teammate in one message (so all run at once); for each ``k``: the time to start the
   team, the delegation round, the resident memory of each CLI's process tree (from ``/proc``),
   and the machine's load. No more than 12 CLIs are tried.

Rounds alternate between the two variants, so a busy machine slows both; medians are printed.
Run from the repository root: ``.venv/bin/python benchmarks/teams_overhead.py``
(``--rounds 5 --tasks 200 --limit 8 --real-tasks 8 --sizes 2,4,8,12``).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import attrs
import trio

import trio_claude as tc
from trio_claude import teams
from trio_claude.testing import ClaudeTestEnv, ToolUse, Turn, open_claude_test_env
from trio_claude.testing.fake_cli import FakeCLITransport, FakeScript, FakeTurn

Runner = Callable[[], Awaitable[None]]


def cpu_seconds() -> float:
    """CPU time of this process and of its reaped children (the CLIs), in seconds.

    CPU time, not wall time, is what the comparison uses: the machine may be shared, and other
    processes' load moves wall time by more than the few per cent measured here.
    """
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


@attrs.frozen
class Sample:
    wall: float
    cpu: float


async def timed(fn: Runner) -> Sample:
    wall, cpu = time.perf_counter(), cpu_seconds()
    await fn()
    return Sample(time.perf_counter() - wall, cpu_seconds() - cpu)


@attrs.frozen
class Comparison:
    hand_wall: float
    team_wall: float
    hand_cpu: float
    team_cpu: float


async def compare(rounds: int, by_hand: Runner, team: Runner) -> Comparison:
    """Medians of each, rounds alternating (one warm-up round of each first)."""
    await by_hand()
    await team()
    hand: list[Sample] = []
    ours: list[Sample] = []
    for i in range(rounds):
        pair = [(hand, by_hand), (ours, team)]
        if i % 2:
            pair.reverse()
        for samples, fn in pair:
            samples.append(await timed(fn))
    return Comparison(
        hand_wall=statistics.median(s.wall for s in hand),
        team_wall=statistics.median(s.wall for s in ours),
        hand_cpu=statistics.median(s.cpu for s in hand),
        team_cpu=statistics.median(s.cpu for s in ours),
    )


# --------------------------------------------------------------------- 1. in-process


#: One options object for every task, as a fan-out is usually given (each session started
#: with it is a fresh fake CLI).
FAKE_OPTIONS = tc.ClaudeAgentOptions(
    transport=FakeCLITransport(FakeScript(turns=[FakeTurn.reply("answer")]))
)


def fake_options() -> tc.ClaudeAgentOptions:
    return FAKE_OPTIONS


async def fanout_by_hand(
    prompts: list[str], make: Callable[[], tc.ClaudeAgentOptions], limit: int
) -> list[str]:
    limiter = trio.CapacityLimiter(limit)
    answers: list[str] = []

    async def one(prompt: str) -> None:
        async with limiter, tc.open_session(make()) as session:
            answers.append((await session.run(prompt)).text)

    async with trio.open_nursery() as nursery:
        for prompt in prompts:
            nursery.start_soon(one, prompt)
    return answers


async def fanout_team(
    prompts: list[str], make: Callable[[], tc.ClaudeAgentOptions], limit: int
) -> list[str]:
    async with teams.open_fanout(limit=limit) as fan:
        for prompt in prompts:
            fan.submit(prompt, options=make())
        return [o.text for o in await fan.gather()]


async def per_turn(turns: int) -> tuple[float, float]:
    """Microseconds per turn: Session.run vs Agent.run, on one in-process session each."""
    script = FakeScript(turns=[], default_reply="ok")
    async with tc.open_session(tc.ClaudeAgentOptions(transport=FakeCLITransport(script))) as s:
        start = time.process_time()
        for _ in range(turns):
            await s.run("x")
        plain = time.process_time() - start
    options = tc.ClaudeAgentOptions(transport=FakeCLITransport(script))
    async with teams.open_debate({"a": options}) as debate:  # the simplest long-lived agent
        agent = debate.agents["a"]
        start = time.process_time()
        for _ in range(turns):
            await agent.run("x")
        ours = time.process_time() - start
    return plain / turns * 1e6, ours / turns * 1e6


# --------------------------------------------------------------------- 2. real CLI


def real_options(env: ClaudeTestEnv, name: str) -> tc.ClaudeAgentOptions:
    return env.options([Turn("answer " * 20, repeat=True)], name=name)


# --------------------------------------------------------------------- 3. capacity


def tree_rss_kib(root: int) -> int:
    """Resident memory (VmRSS, KiB) of ``root`` and its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def mem_available_mib() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) // 1024
    return 0


async def capacity(env: ClaudeTestEnv, k: int) -> dict[str, float]:
    names = [f"mate{i}" for i in range(k - 1)]
    lead = env.options(
        [
            Turn([ToolUse("mcp__team__delegate", {"teammate": n, "task": "go"}) for n in names]),
            Turn("done"),
        ],
        name=f"lead-{k}",
    )
    mates = {n: env.options([Turn("report " * 30)], name=f"{n}-{k}") for n in names}
    start = time.perf_counter()
    async with teams.open_team(lead, mates) as team:
        started = time.perf_counter() - start
        await trio.sleep(1.0)  # let start-up settle before measuring memory
        rss = [
            await trio.to_thread.run_sync(tree_rss_kib, agent.pid)
            for agent in team.agents.values()
            if agent.pid is not None
        ]
        load_before = os.getloadavg()[0]
        start = time.perf_counter()
        await team.run("delegate to everyone")
        delegated = time.perf_counter() - start
    return {
        "k": k,
        "start_s": started,
        "round_s": delegated,
        "rss_mib_each": statistics.median(rss) / 1024,
        "rss_mib_total": sum(rss) / 1024,
        "load": load_before,
    }


# --------------------------------------------------------------------------- main


def table_row(what: str, c: Comparison, unit: float, fmt: str, target: str) -> str:
    def f(x: float) -> str:
        return format(x * unit, fmt)

    return (
        f"| {what} | {f(c.hand_wall)} | {f(c.team_wall)} | {c.team_wall / c.hand_wall:.3f} | "
        f"{f(c.hand_cpu)} | {f(c.team_cpu)} | {c.team_cpu / c.hand_cpu:.3f} | {target} |"
    )


HEADER = (
    "| measurement | by hand, wall | team, wall | ratio | by hand, CPU | team, CPU "
    "| CPU ratio | target |\n|---|---|---|---|---|---|---|---|"
)


async def main(args: argparse.Namespace) -> None:
    prompts = [f"prompt {i}" for i in range(args.tasks)]
    print(f"load average at start: {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs)\n")

    fanout = await compare(
        args.rounds,
        lambda: fanout_by_hand(prompts, fake_options, args.limit),
        lambda: fanout_team(prompts, fake_options, args.limit),
    )
    plain_us, agent_us = await per_turn(args.turns)
    print("### In-process fake CLI: the SDK's own cost (ms)\n")
    print(HEADER)
    print(
        table_row(
            f"fan-out, {args.tasks} sessions, limit {args.limit}", fanout, 1000, ".1f", "1.05"
        )
    )
    print(
        f"\nOne turn on one session (CPU): `Session.run` {plain_us:.0f} us, `Agent.run` "
        f"{agent_us:.0f} us ({agent_us / plain_us:.3f}x).\n"
    )

    with tempfile.TemporaryDirectory(prefix="teams-bench-") as tmp:
        async with open_claude_test_env(tmp) as env:
            shared = real_options(env, "fanout")  # one conversation script answers them all

            def make() -> tc.ClaudeAgentOptions:
                return shared

            real = [f"prompt {i}" for i in range(args.real_tasks)]
            comparison = await compare(
                args.rounds,
                lambda: fanout_by_hand(real, make, args.real_limit),
                lambda: fanout_team(real, make, args.real_limit),
            )
            print("### Real CLI against the fake model (s; CPU includes the CLIs)\n")
            print(HEADER)
            what = f"fan-out, {args.real_tasks} sessions, limit {args.real_limit}"
            print(table_row(what, comparison, 1, ".2f", "1.05") + "\n")

            rows = []
            for k in args.sizes:
                rows.append(await capacity(env, k))
            assert env.leaked_processes() == []
    available = mem_available_mib()
    print("### Capacity: a lead delegating to k - 1 teammates at once (real CLIs)\n")
    print(
        "| CLIs | team start (s) | delegation round (s) | RSS per CLI (MiB) | RSS total (MiB) "
        "| load avg |"
    )
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['k']:.0f} | {row['start_s']:.2f} | {row['round_s']:.2f} | "
            f"{row['rss_mib_each']:.0f} | {row['rss_mib_total']:.0f} | {row['load']:.1f} |"
        )
    each = statistics.median(r["rss_mib_each"] for r in rows)
    print(
        f"\nMemAvailable now: {available} MiB -> about {int(available / each)} idle CLIs fit in "
        f"memory at {each:.0f} MiB each; CPU, not memory, bounds how many run at once."
    )


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--limit", type=int, default=8)
    parser.add_argument("--turns", type=int, default=2000)
    parser.add_argument("--real-tasks", type=int, default=8)
    parser.add_argument("--real-limit", type=int, default=4)
    parser.add_argument(
        "--sizes", type=lambda s: [min(12, int(x)) for x in s.split(",")], default=[2, 4, 8, 12]
    )
    return parser.parse_args()


if __name__ == "__main__":
    trio.run(main, parse())
