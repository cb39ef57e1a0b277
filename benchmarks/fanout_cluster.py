"""A fan-out of 1,000 sessions across a three-node Ray cluster, against the same 1,000 run here.

One trio program (this one) runs ``--sessions`` sessions of the **lite** fake CLI (the shell
script of ``_common.py``: it answers ``initialize`` and one turn, ~1 ms to start), at most
``--per-node`` x ``--nodes`` at once (a ``process_limiter`` shared by all of them), each
``async with open_session(options) as session: await session.run("hi")``, two ways:

- **local**: ``SubprocessTransport`` (the default), every CLI a child of this process;
- **ray**: ``RayTransport`` on a cluster from ``tests/_ray.py`` (the head here, ``--nodes``
  worker nodes in network namespaces, ``--per-node`` ``claude_slots`` each): each session's
  CLI runs on a node, under its supervisor, in a relay actor. Actors are reused
  (``reuse_actors``, ``max_idle_actors`` = the bound): after the first wave, a session takes the
  idle actor of one that ended instead of a new Ray worker. ``--no-reuse-sessions`` more run
  with ``reuse_actors=False`` for comparison (a new worker per session).

Reported for each: **time to all results** (the fan-out's start -> the last session's result),
**driver CPU per session** (``getrusage(RUSAGE_SELF)`` user + sys of this process, all its
threads, Ray's included, over the fan-out, divided by the sessions), **sessions/s**, and for Ray
how many actors were created.

Then **sessions per node with the real CLI**: ``--real`` (K) sessions of the pinned ``claude``
CLI against the fake model, all on one node (``NodeAffinitySchedulingStrategy``), each after one
turn; from ``/proc``: the resident memory (RSS, and PSS: shared pages divided among their users)
of each session's CLI (with its descendants), supervisor and actor worker, and the implied
sessions per 24 GiB node (by PSS).

Needs root (namespaces) and Ray (``python tests/_ray.py install``); without them it says so and
writes a SKIPPED row. Run from the repository root:
``.venv/bin/python benchmarks/fanout_cluster.py [--sessions 1000] [--per-node 16] [--real 8]
[--no-reuse-sessions 100] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _common as C
import trio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests/_ray.py

import trio_claude as tc
from tests._ray import NetnsRayCluster, RayUnavailable
from trio_claude.testing import ClaudeTestEnv, Turn, open_fake_model

NODE_GIB = 24
#: A bound on one session, placement included (a hung one fails the run instead of stalling it).
SESSION_PATIENCE = 300


def driver_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def fan_out(options: tc.ClaudeAgentOptions, sessions: int) -> dict[str, float]:
    """Runs ``sessions`` sessions (bounded by the options' limiter); the figures."""
    results: list[float] = []
    failures: list[BaseException] = []

    async def one() -> None:
        try:
            with trio.fail_after(SESSION_PATIENCE):
                await session_once()
        except Exception as exc:  # counted: a benchmark that hides failures measures nothing
            failures.append(exc)

    async def session_once() -> None:
        async with tc.open_session(options) as session:
            turn = await session.run("hi")
            results.append(time.perf_counter())
            assert turn.result.subtype == "success", turn.result

    cpu = driver_cpu()
    start = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for _ in range(sessions):
            nursery.start_soon(one)
    closed = time.perf_counter()
    cpu = driver_cpu() - cpu
    if failures:
        raise RuntimeError(f"{len(failures)} of {sessions} sessions failed: {failures[0]!r}")
    last = max(results)
    return {
        "elapsed": last - start,
        "closed": closed - start,
        "cpu_per_session": cpu / sessions,
        "rate": sessions / (last - start),
    }


def lite_options(path: Path, limiter: trio.CapacityLimiter, transport: Any = None) -> Any:
    extra: dict[str, Any] = {} if transport is None else {"transport": transport}
    return tc.ClaudeAgentOptions(cli_path=path, process_limiter=limiter, **extra)


# ----------------------------------------------------------------------- memory from /proc


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def descendants(pid: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int(_stat(int(entry.name))[1])
            except (OSError, IndexError):
                continue
    found, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        kids = [child for child, parent in parents.items() if parent == current]
        found += kids
        frontier += kids
    return found


def memory_kib(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of ``pid`` in KiB."""
    rss = pss = 0
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Rss:"):
                rss = int(line.split()[1])
            elif line.startswith("Pss:"):
                pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


async def real_cli_memory(cluster: NetnsRayCluster, k: int) -> dict[str, Any]:
    """K real-CLI sessions on the first node, after one turn each: memory per session."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    node = cluster.nodes[0]
    node_id = cluster.alive_nodes()[node.address]
    transport = tc.RayTransport(
        scheduling_strategy=NodeAffinitySchedulingStrategy(node_id=node_id, soft=False),
        resources={},  # the node's slots are for the fan-out's bound; here all K on one node
    )
    host = cluster.head_address
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
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
            options = env.options(
                [Turn("hi", repeat=True)],
                name="mem",
                env={"NO_PROXY": f"127.0.0.1,localhost,::1,{host}"},
                transport=transport,
                cli_path=tc.find_cli(),
            )
            per: list[dict[str, int]] = []
            async with trio.open_nursery() as nursery:
                sessions = [await tc.connect_session(nursery, options) for _ in range(k)]
                for session in sessions:
                    assert (await session.run("hi")).text == "hi"
                await trio.sleep(1.0)  # settled
                for session in sessions:
                    supervisor = session.pid
                    assert supervisor is not None and supervisor in node.pids()
                    worker = int(_stat(supervisor)[1])
                    cli = descendants(supervisor)
                    parts = {"cli": [*cli], "supervisor": [supervisor], "actor": [worker]}
                    sample: dict[str, int] = {}
                    for name, pids in parts.items():
                        sample[f"{name}_rss"] = sum(memory_kib(p)[0] for p in pids)
                        sample[f"{name}_pss"] = sum(memory_kib(p)[1] for p in pids)
                    per.append(sample)
                for session in sessions:
                    await session.aclose()
            await transport.aclose()
            leaked = env.kill_leaked()
            assert not leaked, f"CLIs outlived their session: {leaked}"
    out: dict[str, Any] = {"k": k}
    for key in per[0]:
        out[key] = C.median([s[key] for s in per]) / 1024
    return out


# ----------------------------------------------------------------------------- measuring


async def measure(
    cluster: NetnsRayCluster, sessions: int, per_node: int, real: int, no_reuse: int
) -> list[dict[str, Any]]:
    nodes = len(cluster.nodes)
    bound = per_node * nodes
    figures: dict[str, dict[str, float]] = {}
    created: dict[str, int] = {}
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:  # the nodes share our filesystem
        lite = C.write_lite_fake(tmp)
        limiter = trio.CapacityLimiter(bound)
        local = lite_options(lite, limiter)
        ray_transport = tc.RayTransport(max_idle_actors=bound)
        on_ray = lite_options(lite, limiter, ray_transport)
        # warm-up, untimed: the CLI's first start, Ray's first export of the actor class
        await fan_out(local, 1)
        await fan_out(on_ray, 1)
        await ray_transport.aclose()
        before = ray_transport.actors_created - ray_transport.actors_withdrawn
        print(f"local: {sessions} sessions, at most {bound} at once", file=sys.stderr)
        figures["local"] = await fan_out(local, sessions)
        print(f"ray: {sessions} sessions, at most {per_node} a node", file=sys.stderr)
        figures["ray"] = await fan_out(on_ray, sessions)
        created["ray"] = ray_transport.actors_created - ray_transport.actors_withdrawn - before
        await ray_transport.aclose()
        if no_reuse:
            fresh = tc.RayTransport(reuse_actors=False)
            print(f"ray without reuse: {no_reuse} sessions", file=sys.stderr)
            figures["ray-no-reuse"] = await fan_out(lite_options(lite, limiter, fresh), no_reuse)
            figures["local-small"] = await fan_out(local, no_reuse)
            created["ray-no-reuse"] = fresh.actors_created - fresh.actors_withdrawn
    rows = []
    here = figures["local"]
    labels = {
        "ray": f"{sessions} sessions (lite fake), Ray, {nodes} nodes x {per_node}, actors reused",
        "ray-no-reuse": f"{no_reuse} sessions (lite fake), Ray, {nodes} nodes x {per_node}, "
        "a new actor per session (reuse_actors=False)",
    }
    for name, label in labels.items():
        if name not in figures:
            continue
        there = figures[name]
        base = figures["local-small"] if name == "ray-no-reuse" else here
        rows.append(
            C.row(
                f"fan-out: {label}: start -> all results; vs the same run locally "
                f"(at most {bound} at once)",
                f"{C.ms(there['elapsed'])}, driver CPU {C.ms(there['cpu_per_session'])}/session, "
                f"{there['rate']:.0f} sessions/s ({created[name]} actors placed)",
                f"{C.ms(base['elapsed'])}, driver CPU {C.ms(base['cpu_per_session'])}/session, "
                f"{base['rate']:.0f} sessions/s",
                there["elapsed"] / base["elapsed"],
                "(reference)",
                None,
                f"all closed in {C.ms(there['closed'])} (local {C.ms(base['closed'])}); "
                f"driver CPU {there['cpu_per_session'] / base['cpu_per_session']:.2f}x local",
                key=f"fanout-cluster-{name}",
            )
        )
    if real:
        mem = await real_cli_memory(cluster, real)
        rss = mem["cli_rss"] + mem["supervisor_rss"] + mem["actor_rss"]
        pss = mem["cli_pss"] + mem["supervisor_pss"] + mem["actor_pss"]
        rows.append(
            C.row(
                f"sessions per node, real CLI: {real} sessions on one node, memory per session "
                "(CLI + supervisor + actor's worker)",
                f"RSS {mem['cli_rss']:.0f} + {mem['supervisor_rss']:.0f} + "
                f"{mem['actor_rss']:.0f} = {rss:.0f} MiB; PSS {mem['cli_pss']:.0f} + "
                f"{mem['supervisor_pss']:.0f} + {mem['actor_pss']:.0f} = {pss:.0f} MiB",
                "",
                None,
                "(reference)",
                None,
                f"~{NODE_GIB * 1024 / pss:.0f} sessions per {NODE_GIB} GiB node by PSS "
                f"(~{NODE_GIB * 1024 / rss:.0f} by RSS)",
                key="fanout-cluster-memory",
            )
        )
    return rows


def skipped(reason: str) -> list[dict[str, Any]]:
    return [C.row(f"Ray fan-out: SKIPPED ({reason})", "", "", None, "(reference)", None)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--per-node", type=int, default=16)
    parser.add_argument("--real", type=int, default=8, help="real-CLI sessions on one node")
    parser.add_argument("--no-reuse-sessions", type=int, default=100)
    parser.add_argument("--json", help="also write the rows to this file (run_all.py)")
    args = parser.parse_args()
    C.use_bytecode_cache()
    print(C.machine(), f"claude {tc.CLI_VERSION}")
    try:
        cluster = NetnsRayCluster(nodes=args.nodes, slots=args.per_node)
    except RayUnavailable as exc:
        print(f"no Ray cluster in network namespaces: {exc}", file=sys.stderr)
        C.emit(skipped(str(exc).splitlines()[0]), args.json)
        return
    try:
        try:
            cluster.start()
            ray = cluster.connect()
        except RayUnavailable as exc:
            print(f"no Ray cluster in network namespaces: {exc}", file=sys.stderr)
            C.emit(skipped(str(exc).splitlines()[0]), args.json)
            return
        print(f"ray {ray.__version__}, head {cluster.address}, {args.nodes} nodes")
        rows = trio.run(
            measure, cluster, args.sessions, args.per_node, args.real, args.no_reuse_sessions
        )
        C.emit(rows, args.json)
    finally:
        cluster.destroy()


if __name__ == "__main__":
    main()
