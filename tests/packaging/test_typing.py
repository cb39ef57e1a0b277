"""What a type checker makes of user code: the shipped annotations (``py.typed``) catch the
mistakes the run-time messages explain, instead of hiding the code after them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

MISUSE = """\
import trio_claude as tc


async def main(options: tc.ClaudeAgentOptions) -> None:
    opener = tc.open_session(options)
    turn = await opener.run("hi")  # the opener, not the session
    print(turn.texxt)
    session = await tc.open_session(options)  # a context manager, not a coroutine
    print(session)
    tools = options.allowed_tools
    tools.append("Write")  # frozen: a tuple
"""


def test_misusing_the_opener_and_frozen_lists_are_type_errors(tmp_path: Path) -> None:
    """``open_session``'s opener and ``ListTuple`` explain these mistakes at run time with a
    ``__getattr__`` / ``__await__`` annotated ``NoReturn``; seen by mypy, those made every
    attribute and the awaited value ``NoReturn``, and it stopped checking what followed without
    a word (``Success: no issues found``)."""
    probe = tmp_path / "probe.py"
    probe.write_text(MISUSE)
    env = {**os.environ, "MYPYPATH": str(ROOT)}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--follow-imports=silent",
            "--cache-dir",
            str(tmp_path / "cache"),
            "--no-error-summary",
            str(probe),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    errors = [
        line.split(": error: ")[1] for line in done.stdout.splitlines() if ": error: " in line
    ]
    lines = {int(line.split(":")[1]) for line in done.stdout.splitlines() if ": error: " in line}
    assert lines == {6, 8, 11}, done.stdout + done.stderr
    assert any('has no attribute "run"' in e for e in errors), errors
    assert any('Incompatible types in "await"' in e for e in errors), errors
    assert any('has no attribute "append"' in e for e in errors), errors
