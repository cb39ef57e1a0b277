"""What running the CLI over SSH costs: session start, per-turn round trip and close, vs local.

The same pinned ``claude`` CLI, against the same fake model, run two ways in alternating
rounds: by ``SubprocessTransport`` (local) and by ``SSHTransport`` through an OpenSSH server in
a network namespace (``tests/_sshd.py``: a veth pair, ``sshd`` as root with a fresh key; the
fake model listens on our end of the pair, which both CLIs use). Each round opens one session
each way and times:

- **start**: ``open_session()`` called -> entered (the CLI is up and answered ``initialize``);
  over SSH that includes the TCP connection, key exchange, authentication, the remote login
  shell (and its rc files), the supervisor's start and its reading the preamble;
- **turn**: ``session.run("hi")`` on the live session, ``--turns`` times (one text turn each);
  over SSH every byte crosses the encrypted channel both ways;
- **close**: the end of the ``async with`` -> closed (stdin closed, the CLI exits, reaped).

As a reference, **ssh alone**: ``ssh <same options> host true`` (connect, authenticate, run a
command through the login shell, exit). Medians over ``--rounds`` rounds; "noise" is the range
of the per-round SSH - local difference. The namespace's link has no latency of its own: what
is measured is SSH's and the supervisor's cost, not a network's.

Needs root (a network namespace) and sshd (``python tests/_sshd.py install``); without them it
says so and writes a SKIPPED row. Run from the repository root:
``.venv/bin/python benchmarks/ssh_overhead.py [--rounds 7] [--turns 5] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import pwd
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _common as C
import trio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests/_sshd.py

import trio_claude as tc
from tests._sshd import NetnsSSHServer, SSHUnavailable
from trio_claude.testing import ClaudeTestEnv, Turn, open_fake_model


async def one_session(
    env: ClaudeTestEnv, server: NetnsSSHServer, ssh: bool, turns: int
) -> tuple[float, list[float], float]:
    """(start, [turn round trips], close) of one session, in seconds."""
    extra: dict[str, Any] = {}
    if ssh:
        extra = {"transport": server.transport(), "cli_path": tc.find_cli()}
    options = env.options(
        [Turn("hi")] * turns,
        env={"NO_PROXY": f"127.0.0.1,localhost,::1,{server.host_address}"},
        **extra,
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
        closing = time.perf_counter()
    close = time.perf_counter() - closing
    return start, round_trips, close


async def ssh_alone(server: NetnsSSHServer) -> float:
    argv = server.transport().ssh_argv()
    argv[-1] = "true"  # the remote command
    started = time.perf_counter()
    await trio.run_process(argv, stdin=b"")
    return time.perf_counter() - started


async def login_shell() -> float:
    """How long root's login shell takes to run ``true`` as sshd starts it (it reads ~/.bashrc
    when it sees ``SSH_CLIENT``), minus without ``SSH_CLIENT``: the rc files' share of a start."""
    shell = pwd.getpwuid(0).pw_shell
    env = {"HOME": pwd.getpwuid(0).pw_dir, "PATH": "/usr/bin:/bin", "USER": "root"}
    timings = []
    for extra in ({"SSH_CLIENT": "10.0.0.1 50000 22"}, {}):
        started = time.perf_counter()
        await trio.run_process([shell, "-c", "true"], env={**env, **extra})
        timings.append(time.perf_counter() - started)
    return timings[0] - timings[1]


async def measure(server: NetnsSSHServer, rounds: int, turns: int) -> list[dict[str, Any]]:
    names = ("local", "ssh")
    start: dict[str, list[float]] = {n: [] for n in names}
    turn: dict[str, list[float]] = {n: [] for n in names}
    turn_round: dict[str, list[float]] = {n: [] for n in names}  # per-round medians
    close: dict[str, list[float]] = {n: [] for n in names}
    alone: list[float] = []
    shell: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        home, config_dir, project = root / "home", root / "config", root / "project"
        for path in (home, config_dir, project):
            path.mkdir()
        for rc in (".bashrc", ".profile", ".bash_profile"):
            (home / rc).write_text("")
        async with open_fake_model([], host=server.host_address) as model:
            env = ClaudeTestEnv(
                model=model, root=root, home=home, config_dir=config_dir, project=project
            )
            for ssh in (False, True):  # warm-up: the CLI's caches, our first-use costs
                await one_session(env, server, ssh, 1)
            await ssh_alone(server)
            for index in range(rounds):
                order = names if index % 2 == 0 else names[::-1]
                for name in order:
                    s, trips, c = await one_session(env, server, name == "ssh", turns)
                    start[name].append(s)
                    turn[name].extend(trips)
                    turn_round[name].append(C.median(trips))
                    close[name].append(c)
                alone.append(await ssh_alone(server))
                shell.append(await login_shell())
            leaked = env.kill_leaked()
            assert not leaked, f"CLIs outlived their session: {leaked}"
    rows = []
    for label, key, samples, per_round in (
        ("start: open_session() -> initialized", "start", start, start),
        (f"turn: run('hi') round trip ({turns} per session)", "turn", turn, turn_round),
        ("close: end of `async with` -> closed", "close", close, close),
    ):
        here, there = C.median(samples["local"]), C.median(samples["ssh"])
        diffs = [s - lo for s, lo in zip(per_round["ssh"], per_round["local"], strict=True)]
        rows.append(
            C.row(
                f"SSH vs local, {label}",
                f"{C.ms(there)} ({(there - here) * 1e3:+.0f} ms)",
                C.ms(here),
                there / here,
                "(reference)",
                None,
                f"per-round difference {min(diffs) * 1e3:+.0f} to {max(diffs) * 1e3:+.0f} ms",
                key=f"ssh-{key}",
            )
        )
    rows.append(
        C.row(
            "ssh alone: `ssh host true` (connect, authenticate, login shell, exit)",
            C.ms(C.median(alone)),
            "",
            None,
            "(reference)",
            None,
            f"{C.ms(min(alone))} to {C.ms(max(alone))}",
            key="ssh-alone",
        )
    )
    rows.append(
        C.row(
            "of which the remote login shell's rc files (`bash -c true` as sshd runs it)",
            C.ms(C.median(shell)),
            "",
            None,
            "(reference)",
            None,
            f"{C.ms(min(shell))} to {C.ms(max(shell))}",
            key="ssh-rc-files",
        )
    )
    return rows


def skipped(reason: str) -> list[dict[str, Any]]:
    return [C.row(f"SSH vs local: SKIPPED ({reason})", "", "", None, "(reference)", None)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument("--json", help="also write the rows to this file (run_all.py)")
    args = parser.parse_args()
    print(C.machine(), f"claude {tc.CLI_VERSION}")
    try:
        server = NetnsSSHServer()
        server.start()
    except SSHUnavailable as exc:
        print(f"no OpenSSH server in a network namespace: {exc}", file=sys.stderr)
        C.emit(skipped(str(exc).splitlines()[0]), args.json)
        return
    try:
        print(f"sshd in namespace {server.namespace} at {server.address}")
        C.emit(trio.run(measure, server, args.rounds, args.turns), args.json)
    finally:
        server.destroy()


if __name__ == "__main__":
    main()
