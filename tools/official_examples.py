"""Runs the official SDK's own examples on trio-claude, after the mechanical rename alone.

The examples of the newest (or the given) ``claude-agent-sdk`` sdist are copied, renamed
(``claude_agent_sdk`` -> ``trio_claude``; ``anyio.run`` / ``asyncio.run`` -> ``trio.run``,
with ``import trio``) and run one by one with the real pinned CLI against the fake Messages
API (every turn answered with text), each in its own isolated HOME and config dir. A table
says which ran to the end. For maintainers, like ``tools/parity.py`` (``make parity`` runs
both): it needs PyPI.

Run: ``python tools/official_examples.py [--python-version X] [--offline DIR] [--timeout S]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import attrs
import trio

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tools.parity import ParityError, fetch, find_python_package, python_version
from trio_claude._transport._discovery import cache_dir, find_cli
from trio_claude.testing import open_claude_test_env

#: Examples a rename cannot carry over, and why (they are listed, not run): code written for
#: asyncio itself (tasks, asyncio.timeout) needs its trio equivalents (docs/migration.md).
NOT_RUN = {
    "streaming_mode_ipython.py": "snippets to paste into IPython (asyncio tasks), not a program",
    "streaming_mode.py": "asyncio code (create_task, asyncio.timeout): streaming_mode_trio.py "
    "is its trio form",
}


@attrs.frozen
class Outcome:
    name: str
    status: str  # "ran", "failed", "timed out", "not run"
    seconds: float = 0.0
    detail: str = ""
    #: The same example, unchanged, on the official SDK (with ``--compare``).
    official: str = ""


def rename(source: str) -> str:
    """The mechanical rename: the package, and the event loop's entry point
    (``asyncio.run(main())`` and ``anyio.run(main)`` both become ``trio.run(main)``)."""
    text = source.replace("claude_agent_sdk", "trio_claude")
    uses_run = re.search(r"\b(anyio|asyncio)\.run\(", text) is not None
    text = re.sub(r"\b(?:anyio|asyncio)\.run\((\w+)\(\)\)", r"trio.run(\1)", text)
    text = re.sub(r"\b(?:anyio|asyncio)\.run\(", "trio.run(", text)
    if uses_run and not re.search(r"^import trio$", text, re.M):
        text = "import trio\n" + text
    return text


def anyio_path(work: Path) -> str | None:
    """A directory holding ``anyio`` (a dependency of the official SDK, which its examples
    import; it runs on trio too), installed there when this Python lacks it."""
    if importlib.util.find_spec("anyio") is None:
        target = work / "site"
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--target", str(target), "anyio"],
            check=True,
        )
        return str(target)
    return None


def official_python(work: Path, version: str) -> str:
    """A virtualenv with the official SDK (from its sdist: no bundled CLI, so it runs the
    pinned one found on ``PATH``), for ``--compare``."""
    venv = work / "official-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--no-binary", "claude-agent-sdk",
         f"claude-agent-sdk=={version}", "trio"],
        check=True,
    )  # fmt: skip
    return python


def run_example(
    path: Path, env: dict[str, str], cwd: Path, timeout: float, python: str = sys.executable
) -> Outcome:
    name = path.name
    if name in NOT_RUN:
        return Outcome(name, "not run", detail=NOT_RUN[name])
    started = time.monotonic()
    try:
        done = subprocess.run(
            [python, str(path)],
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return Outcome(name, "timed out", time.monotonic() - started, f"after {timeout:g} s")
    seconds = time.monotonic() - started
    if done.returncode == 0:
        return Outcome(name, "ran", seconds)
    last = [line for line in done.stderr.strip().splitlines() if line.strip()][-1:] or ["?"]
    return Outcome(name, "failed", seconds, f"exit {done.returncode}: {last[0][:160]}")


async def run_all(
    examples: list[Path], work: Path, timeout: float, official: str | None
) -> list[Outcome]:
    outcomes = []
    extra = await trio.to_thread.run_sync(anyio_path, work)
    async with open_claude_test_env(work / "env") as claude_env:
        for example in examples:
            renamed = work / "renamed" / example.name
            renamed.parent.mkdir(parents=True, exist_ok=True)
            renamed.write_text(rename(example.read_text()))
            env = {
                **os.environ,
                **claude_env.env(None),
                # The pinned CLI stays where install-cli put it, whatever HOME says.
                "TRIO_CLAUDE_CACHE_DIR": str(cache_dir()),
                "PYTHONPATH": os.pathsep.join(p for p in (str(example.parent), extra) if p),
            }
            outcome = await trio.to_thread.run_sync(
                run_example, renamed, env, claude_env.project, timeout
            )
            if official is not None and outcome.status != "not run":
                # The example as published, on the official SDK, with the same CLI and model.
                cli_bin = str(Path(find_cli()).parent)
                theirs = await trio.to_thread.run_sync(
                    run_example,
                    example,
                    {**env, "PYTHONPATH": str(example.parent), "PATH": cli_bin + os.pathsep
                     + env.get("PATH", "")},
                    claude_env.project,
                    timeout,
                    official,
                )  # fmt: skip
                outcome = attrs.evolve(outcome, official=f"{theirs.status} {theirs.detail}")
            print(f"  {outcome.name}: {outcome.status} {outcome.detail}".rstrip(), flush=True)
            outcomes.append(outcome)
    return outcomes


def table(outcomes: list[Outcome], version: str) -> str:
    ran = sum(o.status == "ran" for o in outcomes)
    runnable = sum(o.status != "not run" for o in outcomes)
    lines = [
        f"claude-agent-sdk {version} examples on trio-claude (rename only): "
        f"{ran} of {runnable} ran to the end",
        "",
        "| example | outcome | seconds | detail | on the official SDK |",
        "|---|---|---|---|---|",
    ]
    for o in outcomes:
        lines.append(
            f"| `{o.name}` | {o.status} | {o.seconds:.1f} | {o.detail} | {o.official.strip()} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python-version", help="the claude-agent-sdk version (default: newest)")
    parser.add_argument("--offline", type=Path, help="a directory fetched before (--keep)")
    parser.add_argument("--keep", type=Path, help="fetch into this directory and keep it")
    parser.add_argument("--timeout", type=float, default=90.0, help="seconds per example")
    parser.add_argument(
        "--compare",
        action="store_true",
        help="also run each example unchanged on the official SDK (a venv made from PyPI)",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="official-examples-") as tmp:
        work = Path(tmp)
        root = args.offline or args.keep or work / "fetched"
        if args.offline is None:
            try:
                fetch(root, args.python_version, None)
            except ParityError as exc:
                print(f"official_examples: {exc}", file=sys.stderr)
                return 2
        package = find_python_package(root)
        found = sorted(root.rglob("examples/quick_start.py"), key=lambda p: len(p.parts))
        if not found:
            print(f"official_examples: no examples/ in the sdist under {root}", file=sys.stderr)
            return 2
        version = python_version(package)
        examples = sorted(found[0].parent.glob("*.py"))
        print(f"running {len(examples)} examples of claude-agent-sdk {version}")
        official = official_python(work, version) if args.compare else None
        outcomes = trio.run(run_all, examples, work, args.timeout, official)
    print()
    print(table(outcomes, version))
    # A failure the official SDK shares (same example, same CLI) is parity, not a difference.
    differs = [
        o
        for o in outcomes
        if o.status not in ("ran", "not run") and not o.official.startswith(o.status)
    ]
    return 0 if not differs else 1


if __name__ == "__main__":
    sys.exit(main())
