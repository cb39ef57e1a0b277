"""Ctrl-C sent to whole applications built on trio-claude (the real CLI, the fake model).

Each test writes a small application into ``tmp_path`` and runs it as a subprocess of its own,
in a session (process group) of its own, as a terminal runs a foreground program. The fake
model is served by this test process (``open_claude_test_env_blocking``), so that the
interrupt does not also stop the model the CLI talks to; the application receives the
scripted conversation's environment and working directory in a JSON file and builds its
options from them. The application prints ``PHASE <name>`` lines on stdout; the test sends the
signal at a chosen phase, waits (bounded) for the application to end and checks:

- the exit: ``KeyboardInterrupt`` is the last line of stderr, the status is that of a
  ``KeyboardInterrupt`` leaving the interpreter (``-SIGINT``);
- stderr: no ``Exception ignored``, no SDK error printed as what the interrupt "happened
  during", no ``ResourceWarning``, no "never awaited", no trio internal error;
- processes: nothing carrying the environment's marker variable (the application, the CLI,
  the guardian, the CLI's tools all inherit it) outlives the application.

Only reproductions of what goes wrong are here. Ctrl-C while opening, mid-stream, in an async
or ``in_thread`` callback or hook, in an in-process MCP tool, while a ``Bash`` tool runs, while
closing, in ``query()``, ``ask()``, a pool, a fan-out team, a resumable session and the blocking
API, and SIGTERM with and without a handler, already behave; see ``test_leave_in_flight_e2e.py``,
``test_blocking_e2e.py`` and ``tests/faults/test_cancellation.py`` for the in-process tests.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import attrs
import pytest

from trio_claude.testing import (
    MARKER_VARIABLE,
    ClaudeTestEnv,
    Match,
    Text,
    ToolUse,
    Turn,
    find_marked_processes,
    open_claude_test_env_blocking,
)

#: Bound on anything a test waits for (never a timing assertion).
PATIENCE = 30.0

#: How long an application may take to exit after the signal (the promise: a few seconds).
EXIT_BOUND = 10.0

#: Written at the top of every generated application.
PRELUDE = """
import json, os, sys, time

SPEC = json.load(open(sys.argv[1]))


def phase(name):
    sys.stdout.write("PHASE " + name + "\\n")
    sys.stdout.flush()


import trio_claude as tc


def opts(i=0, **fields):
    s = SPEC["sessions"][i]
    return tc.ClaudeAgentOptions(env=s["env"], cwd=s["cwd"], **fields)
"""

#: What must never appear on the stderr of an interrupted application.
NOISE = (
    "Exception ignored",
    "was never awaited",
    "ResourceWarning",
    "TrioInternalError",
    "ExceptionGroup",
)


def long_turn() -> Turn:
    """A streamed answer that takes ~40 s: still streaming when the signal comes."""
    return Turn([Text(" ".join(f"w{i}" for i in range(4000)))], delay=0.01)


def write_turns(target: Path) -> list[Turn]:
    return [
        Turn([ToolUse("Write", {"file_path": str(target), "content": "x\n"})]),
        Turn("written", match=Match(has_tool_result=True)),
    ]


@attrs.define
class Outcome:
    returncode: int
    stdout: str
    stderr: str
    #: Seconds from the (first) signal to the application's exit.
    exit_seconds: float
    #: Marked processes still alive a moment after the application's exit: ``(pid, argv)``.
    survivors: list[tuple[int, str]]

    def describe(self) -> str:
        return (
            f"exit status {self.returncode} after {self.exit_seconds:.2f} s; survivors "
            f"{self.survivors}\n--- stdout\n{self.stdout[-2000:]}\n--- stderr\n"
            f"{self.stderr[-6000:]}"
        )


def _argv(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "?"
    return raw.replace(b"\0", b" ").decode(errors="replace")[:160]


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[ClaudeTestEnv]:
    with open_claude_test_env_blocking(tmp_path / "env") as env:
        yield env
        for pid in env.kill_leaked():  # never leave anything behind, whatever failed
            print(f"killed leaked process {pid}", file=sys.stderr)


def run_app(
    env: ClaudeTestEnv,
    tmp_path: Path,
    source: str,
    scripts: Sequence[Sequence[Turn]],
    *,
    at: str,
    delay: float = 0.0,
    sig: int = signal.SIGINT,
    then: tuple[str, int] | None = None,
) -> Outcome:
    """Runs the application ``source`` and sends ``sig`` to its process group ``delay``
    seconds after it prints ``PHASE <at>``.

    ``then=(text, signal)``: once ``text`` appears on the application's stderr after the first
    signal, sends that second signal (an impatient user's second Ctrl-C).
    """
    sessions = []
    for script in scripts:
        options = env.options(list(script))
        sessions.append({"env": dict(options.env), "cwd": str(options.cwd)})
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"sessions": sessions}))
    app = tmp_path / "app.py"
    app.write_text(PRELUDE + textwrap.dedent(source))
    out_path, err_path = tmp_path / "stdout", tmp_path / "stderr"
    child_env = {**os.environ, MARKER_VARIABLE: env.marker, "PYTHONUNBUFFERED": "1"}
    child_env.pop("PYTHONWARNINGS", None)
    with open(out_path, "w") as out, open(err_path, "w") as err:
        child = subprocess.Popen(
            [sys.executable, str(app), str(spec)],
            stdin=subprocess.PIPE,  # kept open: an input() prompt waits, as at a terminal
            stdout=out,
            stderr=err,
            env=child_env,
            cwd=str(tmp_path),
            start_new_session=True,  # its own process group: Ctrl-C goes to the group
        )
    sent_at: float | None = None
    try:
        deadline = time.monotonic() + PATIENCE
        while f"PHASE {at}\n" not in out_path.read_text():
            if child.poll() is not None:
                break
            assert time.monotonic() < deadline, f"the application never reached {at!r}"
            time.sleep(0.005)
        assert child.poll() is None, (
            f"the application ended before {at!r}:\n{err_path.read_text()[-4000:]}"
        )
        time.sleep(delay)
        sent_at = time.monotonic()
        _signal_group(child.pid, sig)
        if then is not None:
            text, second = then
            while text not in err_path.read_text() and child.poll() is None:
                assert time.monotonic() < deadline, f"{text!r} never appeared on stderr"
                time.sleep(0.001)
            _signal_group(child.pid, second)
        try:
            child.wait(timeout=PATIENCE)
        except subprocess.TimeoutExpired:
            pytest.fail(
                f"the application hung {PATIENCE:.0f} s after the signal:\n"
                f"{err_path.read_text()[-4000:]}"
            )
        exit_seconds = time.monotonic() - sent_at
    finally:
        if child.poll() is None:
            _signal_group(child.pid, signal.SIGKILL)
            child.wait()
        if child.stdin is not None:
            child.stdin.close()
    # What is still alive a moment later (the guardian, a CLI being stopped, a tool).
    settle = time.monotonic() + 3.0
    survivors = find_marked_processes(env.marker)
    while survivors and time.monotonic() < settle:
        time.sleep(0.05)
        survivors = find_marked_processes(env.marker)
    return Outcome(
        returncode=child.returncode,
        stdout=out_path.read_text(),
        stderr=err_path.read_text(),
        exit_seconds=exit_seconds,
        survivors=[(pid, _argv(pid)) for pid in survivors],
    )


def assert_clean_keyboard_interrupt(outcome: Outcome) -> None:
    what = outcome.describe()
    lines = outcome.stderr.strip().splitlines()
    assert lines and lines[-1] == "KeyboardInterrupt", what
    assert outcome.returncode == -signal.SIGINT, what
    for noise in NOISE:
        assert noise not in outcome.stderr, f"{noise!r} on stderr: {what}"
    assert outcome.exit_seconds < EXIT_BOUND, what
    assert outcome.survivors == [], what


# ------------------------------------------------- 1. Ctrl-C at a synchronous permission prompt

SYNC_PROMPT_POLICY = """
import trio

def policy(tool_name, tool_input, context):
    # The simplest interactive CLI: ask the person at the terminal.
    phase("prompt")
    answer = input(f"Allow {tool_name}? [y/N] ")
    if answer.strip().lower() == "y":
        return tc.PermissionResultAllow()
    return tc.PermissionResultDeny(message="refused at the prompt")

async def main():
    async with tc.open_session(opts(0, can_use_tool=policy)) as session:
        turn = await session.run("write the file")
        print(turn.text)

trio.run(main)
"""


def test_ctrl_c_at_a_sync_permission_prompt_prints_only_the_keyboard_interrupt(
    fake: ClaudeTestEnv, tmp_path: Path
) -> None:
    # The user presses Ctrl-C at an ``input()`` prompt in a plain (not in_thread) permission
    # callback. The KeyboardInterrupt lands in the session's own callback task, kills the
    # session, and ``run()`` then fails with SessionClosedError. The interrupt comes out
    # (good), but collapse_group attaches that SessionClosedError, a mere consequence of the
    # interrupt, as the interrupt's __context__: the user first sees a traceback ending in
    # "SessionClosedError: the session is closed", then "During handling of the above
    # exception, another exception occurred:", then the KeyboardInterrupt.
    outcome = run_app(
        fake,
        tmp_path,
        SYNC_PROMPT_POLICY,
        [write_turns(tmp_path / "target.txt")],
        at="prompt",
        delay=0.2,
    )
    what = outcome.describe()
    assert "SessionClosedError" not in outcome.stderr, what
    assert "During handling of the above exception" not in outcome.stderr, what
    assert_clean_keyboard_interrupt(outcome)


# --------------------------------------- 2. Ctrl-C while the interpreter exits (guardian atexit)

STREAM_APP = """
import trio

async def main():
    async with tc.open_session(opts(0, include_partial_messages=True)) as session:
        await session.send("write a long essay")
        seen = 0
        async for message in session.receive_response():
            seen += 1
            if seen == 5:
                phase("streaming")

trio.run(main)
"""


def test_an_impatient_second_ctrl_c_is_not_reported_as_an_ignored_exception(
    fake: ClaudeTestEnv, tmp_path: Path
) -> None:
    # First Ctrl-C mid-stream: the session closes and the KeyboardInterrupt leaves trio.run,
    # its traceback is printed. The user presses Ctrl-C again right then (the program "still
    # has not quit"). The interpreter is finalising: the guardian's atexit hook
    # (_guardian._stop) sits in popen.wait(timeout=1.0) for the guardian to exit, the second
    # KeyboardInterrupt is raised there, and Python prints
    # "Exception ignored in atexit callback: <function _stop ...>" with a traceback through
    # trio_claude/_transport/_guardian.py and subprocess.py. (Or, landing a moment earlier, in
    # concurrent.futures' exit hook joining the SDK's "trio-claude-spawner" executor thread:
    # "Exception ignored in: <module 'threading' ...>".)
    outcome = run_app(
        fake,
        tmp_path,
        STREAM_APP,
        [[long_turn()]],
        at="streaming",
        delay=0.1,
        then=("\nKeyboardInterrupt\n", signal.SIGINT),
    )
    what = outcome.describe()
    assert "Exception ignored" not in outcome.stderr, what
    assert "_guardian.py" not in outcome.stderr, what
    assert outcome.returncode == -signal.SIGINT, what
    assert outcome.survivors == [], what


FINISHED_APP = """
import trio

async def main():
    async with tc.open_session(opts(0)) as session:
        turn = await session.run("hello")
    print(turn.text)

trio.run(main)
phase("done")
"""


def test_ctrl_c_just_as_a_finished_app_exits_is_neither_swallowed_nor_noisy(
    fake: ClaudeTestEnv, tmp_path: Path
) -> None:
    # The app has done its work and is exiting when the user presses Ctrl-C (or a process
    # manager's SIGINT arrives). For ~0.1-0.2 s after the last line of the program the
    # interpreter sits in the guardian's atexit hook (popen.wait(timeout=1.0)). The interrupt
    # lands there: "Exception ignored in atexit callback: <function _stop ...>", a traceback,
    # "KeyboardInterrupt: " and the exit status is 0, as if nothing had been interrupted.
    outcome = run_app(fake, tmp_path, FINISHED_APP, [[Turn("hi there")]], at="done", delay=0.02)
    what = outcome.describe()
    assert "Exception ignored" not in outcome.stderr, what
    assert "_guardian.py" not in outcome.stderr, what
    # Either it finished before the signal (0, nothing printed) or the signal stopped it
    # (-SIGINT); a 0 with a KeyboardInterrupt traceback on stderr is the interrupt swallowed.
    if "KeyboardInterrupt" in outcome.stderr:
        assert outcome.returncode == -signal.SIGINT, what
    assert outcome.survivors == [], what
