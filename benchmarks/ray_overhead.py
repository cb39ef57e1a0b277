"""What running the CLI on a Ray node costs: session start, per-turn round trip, relay throughput.

A Ray cluster from ``tests/_ray.py``: the head here, one worker node in a network namespace
(a veth pair to a bridge; the fake model listens on the bridge's address, which both CLIs use).
The same pinned ``claude`` CLI against the same fake model, run two ways in alternating rounds:
by ``SubprocessTransport`` (local) and by ``RayTransport`` (an actor on the node starts the
supervisor and the CLI, and relays their bytes in batches). Each round opens one session each
way and times:

- **start**: ``open_session()`` called -> entered (the CLI answered ``initialize``); on Ray that
  includes placing the actor (a worker process is usually ready: Ray keeps one warm), starting
  the supervisor and its reading the preamble;
- **turn**: ``session.run("hi")``, ``--turns`` times; on Ray every byte crosses two actor calls
  (a write, a poll), and the CLI reaches the model from the node's namespace, across the veth
  pair and the bridge (most of the difference: the relay's own share is the round trip below);
- **close**: the end of the ``async with`` -> closed (stdin closed, the CLI exits, its status
  polled, the actor killed).

Then **throughput**: the fake CLI (``trio_claude.testing.fake_cli``) floods ``--count``
stream_event frames, read through a session, local and through the relay (the fake runs on the
node, its bytes come back in polls of up to ``batch_bytes``): messages per second and polls per
turn. And the **relay round trip** (a line through ``cat`` on the node and back), **one actor
call** alone (``ray.get(actor.status.remote())``) as a reference, and the
resident memory on the node of one session: the CLI, the supervisor and the actor's worker.

Medians over ``--rounds`` rounds; "noise" is the range of the per-round differences. The link
has no latency of its own: what is measured is Ray's and the relay's cost, not a network's.

Needs root (a namespace) and Ray (``python tests/_ray.py install``); without them it says so
and writes a SKIPPED row. Run from the repository root:
``.venv/bin/python benchmarks/ray_overhead.py [--rounds 5] [--turns 5] [--count 20000]
[--json out.json]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _common as C
import attrs
import trio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests/_ray.py

import trio_claude as tc
from tests._ray import NetnsRayCluster, RayUnavailable
from trio_claude._transport._base import LaunchSpec
from trio_claude.testing import ClaudeTestEnv, Turn, open_fake_model
from trio_claude.testing.fake_cli import (
    FakeCLIProcessTransport,
    FakeScript,
    FakeTurn,
    Flood,
    Result,
)


class FakeOnRay(tc.RayTransport):
    """The fake CLI, run on the node by the relay (the node shares our filesystem)."""

    def __init__(self, fake: FakeCLIProcessTransport, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fake = fake

    async def start(self, spec: LaunchSpec, nursery: trio.Nursery) -> Any:
        return await super().start(attrs.evolve(spec, argv=self.fake.command(spec)), nursery)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def children(pid: int) -> list[int]:
    out = []
    for name in Path("/proc").iterdir():
        if name.name.isdigit():
            try:
                fields = (name / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(name.name))
    return out


def parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


async def one_session(
    env: ClaudeTestEnv, host: str, ray: bool, turns: int, memory: list[dict[str, int]] | None
) -> tuple[float, list[float], float]:
    """(start, [turn round trips], close) of one session, in seconds."""
    extra: dict[str, Any] = {}
    if ray:
        extra = {"transport": tc.RayTransport(), "cli_path": tc.find_cli()}
    options = env.options(
        [Turn("hi")] * turns, env={"NO_PROXY": f"127.0.0.1,localhost,::1,{host}"}, **extra
    )
    started = time.perf_counter()
    round_trips = []
    async with tc.open_session(options) as session:
        start = time.perf_counter() - started
        for _ in range(turns):
            sent = time.perf_counter()
            turn = await session.run("hi")
            round_trips.append(time.perf_counter() - sent)
            assert turn.text == "hi", turn.text
        if memory is not None and ray and session.pid is not None:
            supervisor = session.pid
            [cli] = children(supervisor)
            memory.append(
                {
                    "cli": rss_kib(cli),
                    "supervisor": rss_kib(supervisor),
                    "actor": rss_kib(parent(supervisor)),
                }
            )
        closing = time.perf_counter()
    close = time.perf_counter() - closing
    return start, round_trips, close


async def flood(directory: Path, ray: bool, count: int, frame: dict[str, Any]) -> tuple[float, int]:
    """(messages per second, polls) of one flood turn."""
    script = FakeScript(turns=[FakeTurn(steps=[Flood(frame, count), Result(text="done")])])
    fake = FakeCLIProcessTransport(script, directory)
    transport: Any = FakeOnRay(fake) if ray else fake
    options = tc.ClaudeAgentOptions(transport=transport, cli_path="fake")
    async with tc.open_session(options) as session:
        await session.send("go")
        started = time.perf_counter()
        got = 0
        async for _ in session.receive_response():
            got += 1
        elapsed = time.perf_counter() - started
        polls = getattr(session._proc, "polls", 0)
    assert got >= count, got
    return got / elapsed, polls


async def echo(rounds: int = 200) -> float:
    """Median seconds of a 100-byte line through the relay and back (``cat`` on the node)."""
    trips = []
    async with trio.open_nursery() as nursery:
        proc = await tc.RayTransport().start(LaunchSpec(argv=["cat"], env={}), nursery)
        for _ in range(rounds):
            started = time.perf_counter()
            await proc.stdin.send_all(b"x" * 100 + b"\n")
            got = b""
            while len(got) < 101:
                got += await proc.stdout.receive_some()
            trips.append(time.perf_counter() - started)
        await proc.stdin.aclose()
        await proc.wait()
    return C.median(trips)


async def one_call(rounds: int = 200) -> float:
    """Seconds per ``ray.get(actor.status.remote())`` on a relay actor (from a thread)."""
    import ray

    from trio_claude._transport import _ray as R

    _, relay = R._load_ray(None, {})
    actor = relay.options(num_cpus=0, resources={"claude_slots": 1}).remote()

    def calls() -> float:
        ray.get(actor.status.remote())
        started = time.perf_counter()
        for _ in range(rounds):
            ray.get(actor.status.remote())
        return (time.perf_counter() - started) / rounds

    try:
        return await trio.to_thread.run_sync(calls)
    finally:
        ray.kill(actor)


async def measure(
    cluster: NetnsRayCluster, rounds: int, turns: int, count: int
) -> list[dict[str, Any]]:
    names = ("local", "ray")
    start: dict[str, list[float]] = {n: [] for n in names}
    turn: dict[str, list[float]] = {n: [] for n in names}
    turn_round: dict[str, list[float]] = {n: [] for n in names}
    close: dict[str, list[float]] = {n: [] for n in names}
    rate: dict[str, list[float]] = {n: [] for n in names}
    polls: list[int] = []
    memory: list[dict[str, int]] = []
    host = cluster.head_address
    frame = C.fixture()["flood_frames"]["stream_event"]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        home, config_dir, project = root / "home", root / "config", root / "project"
        for path in (home, config_dir, project):
            path.mkdir()
        for rc in (".bashrc", ".profile", ".bash_profile"):
            (home / rc).write_text("")
        async with open_fake_model([], host=host) as model:
            env = ClaudeTestEnv(
                model=model, root=root, home=home, config_dir=config_dir, project=project
            )
            for ray in (False, True):  # warm-up: the CLI's caches, Ray's first export
                await one_session(env, host, ray, 1, None)
                await flood(root, ray, min(count, 1000), frame)
            call = await one_call()
            relay_trip = await echo()
            for index in range(rounds):
                order = names if index % 2 == 0 else names[::-1]
                for name in order:
                    s, trips, c = await one_session(env, host, name == "ray", turns, memory)
                    start[name].append(s)
                    turn[name].extend(trips)
                    turn_round[name].append(C.median(trips))
                    close[name].append(c)
                for name in order:
                    per_second, n = await flood(root, name == "ray", count, frame)
                    rate[name].append(per_second)
                    if name == "ray":
                        polls.append(n)
            leaked = env.kill_leaked()
            assert not leaked, f"CLIs outlived their session: {leaked}"
    rows = []
    for label, key, samples, per_round in (
        ("start: open_session() -> initialized", "start", start, start),
        (f"turn: run('hi') round trip ({turns} per session)", "turn", turn, turn_round),
        ("close: end of `async with` -> closed", "close", close, close),
    ):
        here, there = C.median(samples["local"]), C.median(samples["ray"])
        diffs = [s - lo for s, lo in zip(per_round["ray"], per_round["local"], strict=True)]
        rows.append(
            C.row(
                f"Ray vs local, {label}",
                f"{C.ms(there)} ({(there - here) * 1e3:+.0f} ms)",
                C.ms(here),
                there / here,
                "(reference)",
                None,
                f"per-round difference {min(diffs) * 1e3:+.0f} to {max(diffs) * 1e3:+.0f} ms",
                key=f"ray-{key}",
            )
        )
    here, there = C.median(rate["local"]), C.median(rate["ray"])
    rows.append(
        C.row(
            f"Ray vs local, messages/s through the relay ({count} stream_event frames)",
            f"{there:,.0f}/s",
            f"{here:,.0f}/s",
            there / here,
            "(reference)",
            None,
            f"{min(rate['ray']):,.0f} to {max(rate['ray']):,.0f}/s; "
            f"{C.median(polls):.0f} polls a flood",
            key="ray-throughput",
        )
    )
    rows.append(
        C.row(
            "one actor call alone: ray.get(actor.status.remote()), from a thread",
            C.ms(call),
            "",
            None,
            "(reference)",
            None,
            key="ray-call",
        )
    )
    rows.append(
        C.row(
            "relay round trip: a 100-byte line to `cat` on the node and back (a write, a poll)",
            C.ms(relay_trip),
            "",
            None,
            "(reference)",
            None,
            key="ray-echo",
        )
    )
    mib = {k: C.median([m[k] for m in memory]) / 1024 for k in ("cli", "supervisor", "actor")}
    rows.append(
        C.row(
            "resident memory on the node, one session: CLI + supervisor + actor's worker",
            f"{mib['cli']:.0f} + {mib['supervisor']:.0f} + {mib['actor']:.0f} MiB",
            "",
            None,
            "(reference)",
            None,
            key="ray-memory",
        )
    )
    return rows


def skipped(reason: str) -> list[dict[str, Any]]:
    return [C.row(f"Ray vs local: SKIPPED ({reason})", "", "", None, "(reference)", None)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--json", help="also write the rows to this file (run_all.py)")
    args = parser.parse_args()
    print(C.machine(), f"claude {tc.CLI_VERSION}")
    try:
        cluster = NetnsRayCluster(nodes=1, slots=4)
    except RayUnavailable as exc:
        print(f"no Ray cluster in a network namespace: {exc}", file=sys.stderr)
        C.emit(skipped(str(exc).splitlines()[0]), args.json)
        return
    try:
        try:
            cluster.start()
            ray = cluster.connect()
        except RayUnavailable as exc:
            print(f"no Ray cluster in a network namespace: {exc}", file=sys.stderr)
            C.emit(skipped(str(exc).splitlines()[0]), args.json)
            return
        node = cluster.nodes[0]
        print(f"ray {ray.__version__}, head {cluster.address}, node in {node.namespace}")
        C.emit(trio.run(measure, cluster, args.rounds, args.turns, args.count), args.json)
    finally:
        cluster.destroy()


if __name__ == "__main__":
    main()
