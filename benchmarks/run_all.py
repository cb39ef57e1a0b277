"""Runs every benchmark, one after the other, and writes one markdown table of the results.

Each benchmark runs in a fresh interpreter (``--json`` hands its rows back), never two at once:
they share the machine's cores with each other's subprocesses. Every figure is printed next to
a ceiling measured in the same run; the verdicts are against DESIGN.md section 6. The table
goes to stdout and to ``benchmarks/results.md``. Takes about five minutes on the 2-core
development machine. Run from the repository root:
``python benchmarks/run_all.py [--quick] [--only start memory ...] [--output PATH]
[--official /tmp/official-sdk-venv/bin/python]`` (see ``official_sdk.py`` for that venv).

``--quick`` runs fewer rounds (a smoke test of the benchmarks, not figures to quote).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent

#: name -> (script, arguments, arguments for --quick)
BENCHMARKS: dict[str, tuple[str, list[str], list[str]]] = {
    "import": ("import_time.py", ["--runs", "11"], ["--runs", "3"]),
    "start": (
        "start.py",
        ["--rounds", "31", "--fake-cli-rounds", "6"],
        ["--rounds", "5", "--fake", "lite"],
    ),
    "fanout": ("fanout.py", ["--rounds", "15"], ["--rounds", "2"]),
    # The floors the unmet targets are measured against, as reference rows of the same table.
    "fanout_floor": ("fanout_floor.py", ["--rounds", "15"], ["--rounds", "2"]),
    "memory": (
        "memory.py",
        ["--rounds", "3", "--top", "12"],
        ["--rounds", "1", "--sessions", "20"],
    ),
    "roundtrip": ("roundtrip.py", ["--rounds", "9"], ["--rounds", "2", "--count", "100"]),
    "large_line": ("large_line.py", ["--rounds", "7"], ["--rounds", "2"]),
    "throughput": ("throughput.py", ["--rounds", "7"], ["--rounds", "1", "--count", "20000"]),
    "throughput_floor": (
        "throughput_floor.py",
        ["--rounds", "5"],
        ["--rounds", "1", "--count", "20000"],
    ),
    "real_cli": ("real_cli.py", ["--rounds", "9"], ["--rounds", "2"]),
    "ssh_overhead": (
        "ssh_overhead.py",
        ["--rounds", "7", "--turns", "5"],
        ["--rounds", "2", "--turns", "2"],
    ),
    "ray_overhead": (
        "ray_overhead.py",
        ["--rounds", "5", "--turns", "5", "--count", "20000"],
        ["--rounds", "2", "--turns", "2", "--count", "5000"],
    ),
    # The 1,000-session figure of docs/scale-out.md is `python benchmarks/fanout_cluster.py`
    # alone (about half an hour on 2 cores); make bench keeps to its 10 minutes.
    "fanout_cluster": (
        "fanout_cluster.py",
        ["--sessions", "200", "--real", "4", "--no-reuse-sessions", "30"],
        ["--sessions", "100", "--real", "2", "--no-reuse-sessions", "20"],
    ),
    # --reaper: orphans reaped at once, as under systemd/tini; without it this machine's PID 1
    # adds ~1.5 s to the Bash case whatever the SDK does (see README, cancel_leave.py).
    "cancel_leave": (
        "cancel_leave.py",
        ["--rounds", "3", "--reaper"],
        ["--rounds", "1", "--reaper"],
    ),
}


def run_one(name: str, quick: bool, env: dict[str, str]) -> tuple[list[dict[str, Any]], float, str]:
    script, args, quick_args = BENCHMARKS[name]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "rows.json"
        argv = [sys.executable, str(BENCH / script), *(quick_args if quick else args)]
        argv += ["--json", str(out)]
        print(f"== {name}: {' '.join(argv[1:])}", file=sys.stderr, flush=True)
        start = time.perf_counter()
        proc = subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
        elapsed = time.perf_counter() - start
        sys.stderr.write(proc.stdout)
        print(f"== {name}: {elapsed:.0f} s, exit {proc.returncode}", file=sys.stderr, flush=True)
        if proc.returncode != 0 or not out.exists():
            failed = C.row(f"{name}: FAILED (exit {proc.returncode})", "", "", None, "", False)
            return [failed], elapsed, proc.stdout
        return json.loads(out.read_text()), elapsed, proc.stdout


def run_official(python: str, quick: bool, env: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Runs ``official_sdk.py`` under ``python`` (a venv with the official SDK); rows by key."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "rows.json"
        argv = [python, str(BENCH / "official_sdk.py"), "--json", str(out)]
        if quick:
            argv.append("--quick")
        print(f"== official SDK: {' '.join(argv)}", file=sys.stderr, flush=True)
        start = time.perf_counter()
        proc = subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
        sys.stderr.write(proc.stdout)
        print(
            f"== official SDK: {time.perf_counter() - start:.0f} s, exit {proc.returncode}",
            file=sys.stderr,
            flush=True,
        )
        if not out.exists():
            return {}
        return {row["key"]: row for row in json.loads(out.read_text())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (smoke test)")
    parser.add_argument(
        "--official",
        metavar="PYTHON",
        help="also run the official SDK (official_sdk.py) with this interpreter: a column",
    )
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), help="run only these")
    parser.add_argument(
        "--output",
        help="the markdown file (default: results.md; with --quick, none: its figures are not"
        " to quote, and must not replace the last full run's)",
    )
    args = parser.parse_args()
    names = args.only or list(BENCHMARKS)

    C.use_bytecode_cache()  # once, shared by every benchmark's fake_cli children
    env = dict(os.environ)
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    rows: list[dict[str, Any]] = []
    timings: list[str] = []
    details: list[str] = []
    for name in names:
        got, elapsed, stdout = run_one(name, args.quick, env)
        rows += got
        timings.append(f"{name} {elapsed:.0f} s")
        if name == "memory":
            # the heaviest source lines of our sessions' heap: worth keeping with the table
            lines = [ln for ln in stdout.splitlines() if "KiB/session" in ln or "where our" in ln]
            details += lines
    official: dict[str, dict[str, Any]] | None = None
    if args.official:
        begin = time.perf_counter()
        official = run_official(args.official, args.quick, env)
        timings.append(f"official SDK {time.perf_counter() - begin:.0f} s")
    total = time.perf_counter() - started
    now = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    head = [
        f"# Benchmark results ({'--quick, not figures to quote' if args.quick else 'make bench'})",
        "",
        f"{now}; {C.machine().replace(', load average', ', load average at start')}"
        f" ({load_before:.2f}), at the end {os.getloadavg()[0]:.2f}.",
        f"Total {total:.0f} s ({', '.join(timings)}).",
        "",
        "Every ratio is ours / the ceiling measured in the same run (for throughput: our rate /"
        ' the ceiling\'s); "noise" is the range of the per-round ratio. See benchmarks/README.md'
        " for what each workload times and what its ceiling does.",
        "",
    ]
    if official is not None:
        head += [
            "The official SDK column (claude-agent-sdk, under trio, `official_sdk.py`) is its"
            " figure divided by a ceiling measured in its own run, the same ceiling code as ours.",
            "",
        ]
    text = "\n".join(head) + C.table(rows, official) + "\n"
    if details:
        text += "\n```\n" + "\n".join(details) + "\n```\n"
    print(text)
    output = args.output or (None if args.quick else str(BENCH / "results.md"))
    if output is not None:
        Path(output).write_text(text)
        print(f"written to {output} in {total:.0f} s", file=sys.stderr)
    failed = [row["workload"] for row in rows if "FAILED" in row["workload"]]
    if failed:
        # A benchmark that stopped working must not pass for a row that is merely missing.
        sys.exit(f"{len(failed)} benchmark(s) failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
