"""The subprocess transport with a real child process (the fake CLI run as a program)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import trio

import trio_claude as tc
import trio_claude._transport._process as process_mod
from trio_claude._transport import _guardian
from trio_claude._transport._base import LaunchSpec
from trio_claude._transport._process import SubprocessTransport, shutdown_process
from trio_claude.testing.fake_cli import (
    Exit,
    FakeCLIProcessTransport,
    FakeScript,
    FakeTurn,
    Hang,
    Kill,
    Result,
    Sleep,
    Stderr,
    Text,
    WaitForInterrupt,
)


def _proc_status(pid: int) -> str:
    """State, parent and command line of a process, for a failure message."""
    try:
        with open(f"/proc/{pid}/status") as f:
            status = {k: v.strip() for k, _, v in (line.partition(":") for line in f)}
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read().replace(b"\0", b" ")[:120]
    except OSError as exc:
        return f"gone ({exc.__class__.__name__})"
    return f"{status.get('State')} ppid={status.get('PPid')} {cmdline!r}"


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is not reaped only if nobody waited. Check its state.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def options(script: FakeScript, tmp_path: Path, **kw: object) -> tc.ClaudeAgentOptions:
    return tc.ClaudeAgentOptions(
        transport=FakeCLIProcessTransport(script, tmp_path),
        **kw,  # type: ignore[arg-type]
    )


async def test_a_real_process_session(tmp_path: Path) -> None:
    script = FakeScript(turns=[FakeTurn.reply("from a subprocess")])
    async with tc.open_session(options(script, tmp_path)) as session:
        assert session.pid is not None and alive(session.pid)
        turn = await session.run("hi")
        assert turn.text == "from a subprocess"
        pid = session.pid
    assert not alive(pid)
    assert session.returncode == 0


async def test_leaving_by_exception_reaps_the_process(tmp_path: Path) -> None:
    script = FakeScript(turns=[FakeTurn(steps=[Text("x"), Hang()])])
    pid = None
    with pytest.raises(KeyError):
        async with tc.open_session(options(script, tmp_path, close_timeout=0.5)) as session:
            pid = session.pid
            await session.send("go")
            raise KeyError("boom")
    assert pid is not None and not alive(pid)


async def test_leaving_by_cancellation_reaps_the_process(tmp_path: Path) -> None:
    script = FakeScript(turns=[FakeTurn(steps=[Text("x"), Hang()])])
    pids: list[int] = []
    with trio.CancelScope() as scope:
        async with tc.open_session(options(script, tmp_path, close_timeout=0.5)) as session:
            assert session.pid is not None
            pids.append(session.pid)
            await session.send("go")
            # The cancellation this test is about, once the CLI runs (however long a loaded
            # machine takes to start it).
            scope.deadline = trio.current_time() + 1
            async for _ in session.receive_messages():
                pass
    assert scope.cancelled_caught
    assert pids and not alive(pids[0])


async def test_sigkill_mid_turn_is_a_process_error_with_the_signal(tmp_path: Path) -> None:
    script = FakeScript(turns=[FakeTurn(steps=[Text("before"), Stderr("dying"), Kill()])])
    async with tc.open_session(options(script, tmp_path)) as session:
        await session.send("go")
        seen = []
        with pytest.raises(tc.ProcessError) as info:
            with trio.fail_after(30):  # a hang guard
                async for message in session.receive_response():
                    seen.append(message)
        assert info.value.exit_code == -signal.SIGKILL
        assert info.value.signal == "SIGKILL"
        assert "dying" in info.value.stderr
        assert any(isinstance(m, tc.AssistantMessage) for m in seen)


async def test_exit_with_code_and_stderr(tmp_path: Path) -> None:
    script = FakeScript(turns=[FakeTurn(steps=[Sleep(0.05), Exit(7, stderr="fatal: nope")])])
    async with tc.open_session(options(script, tmp_path)) as session:
        await session.send("go")
        with pytest.raises(tc.ProcessError) as info:
            await session.collect_response()
        assert info.value.exit_code == 7 and "fatal: nope" in info.value.stderr
        assert "fatal: nope" in str(info.value)


async def test_twenty_mib_line_through_a_real_pipe(tmp_path: Path) -> None:
    big = "q" * (20 * 1024 * 1024)
    script = FakeScript(turns=[FakeTurn(steps=[Text(big), Result(text="ok")])])
    async with tc.open_session(options(script, tmp_path)) as session:
        turn = await session.run("go")
    blocks = [b for m in turn.messages if isinstance(m, tc.AssistantMessage) for b in m.content]
    assert len(blocks) == 1 and isinstance(blocks[0], tc.TextBlock) and blocks[0].text == big


async def test_interrupt_by_cancel_scope_over_a_real_pipe(tmp_path: Path) -> None:
    script = FakeScript(
        turns=[FakeTurn(steps=[Text("stale"), WaitForInterrupt()]), FakeTurn.reply("fresh")]
    )
    async with tc.open_session(options(script, tmp_path)) as session:
        await session.send("one")
        # Cancelled once the turn runs (its init message is out): the fake CLI ignores an
        # interrupt that arrives before it has started the prompt's turn, which a fixed
        # deadline could not rule out on a loaded machine.
        with trio.CancelScope() as scope:
            async for message in session.receive_response():
                if isinstance(message, tc.SystemMessage) and message.subtype == "init":
                    scope.cancel()
        assert scope.cancelled_caught
        turn = await session.run("two")
        assert turn.text == "fresh"
        assert "stale" not in repr(turn.messages)


async def test_missing_cli_is_cli_not_found_before_any_spawn(tmp_path: Path) -> None:
    opts = tc.ClaudeAgentOptions(cli_path=tmp_path / "no-such-claude")
    with pytest.raises(tc.CLINotFoundError):
        async with tc.open_session(opts):
            pass


async def test_shutdown_escalates_to_sigterm_then_sigkill_and_kills_the_group(
    tmp_path: Path,
) -> None:
    # A parent that ignores SIGTERM and leaves a grandchild in its process group.
    code = (
        "import signal, subprocess, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    spec = LaunchSpec(argv=[sys.executable, "-c", code], env=dict(os.environ))
    async with trio.open_nursery() as nursery:
        proc = await SubprocessTransport().start(spec, nursery)
        line = b""
        while not line.endswith(b"\n"):
            line += await proc.stdout.receive_some(100)
        grandchild = int(line)
        start = trio.current_time()
        result = await shutdown_process(proc, close_timeout=0.2, term_timeout=0.3)
        # A hang guard: about 0.5 s (0.2 + 0.3 and the kill); a hang would be the 60 s sleep.
        assert trio.current_time() - start < 30
    assert result == -signal.SIGKILL
    assert proc.pid is not None and not alive(proc.pid)
    with trio.fail_after(20):
        while alive(grandchild):
            await trio.sleep(0.02)


PARENT = """
import os, sys, trio
from trio_claude._transport._base import LaunchSpec
from trio_claude._transport._process import SubprocessTransport

async def main():
    spec = LaunchSpec(argv=[sys.executable, "-c", "import time; time.sleep(60)"],
                      env=dict(os.environ))
    async with trio.open_nursery() as nursery:
        proc = await SubprocessTransport().start(spec, nursery)
        print(proc.pid, os.getpgid(proc.pid), flush=True)
        await trio.sleep(60)

trio.run(main)
"""


async def first_line(parent: trio.Process) -> bytes:
    """The first line a parent script prints (its pids)."""
    assert parent.stdout is not None
    line = b""
    # A hang guard: two interpreters start (trio and trio-claude imported in one).
    with trio.fail_after(60):
        while not line.endswith(b"\n"):
            line += await parent.stdout.receive_some(100)
    return line


async def test_a_crashed_parent_leaves_no_orphan() -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("PDEATHSIG is Linux-only")
    parent = await trio.lowlevel.open_process(
        [sys.executable, "-c", PARENT], stdout=subprocess.PIPE
    )
    try:
        line = await first_line(parent)
        child, group = (int(x) for x in line.split())
        assert group == child  # the child leads its own process group
        assert alive(child)
        parent.kill()  # SIGKILL: no cleanup code runs in the parent
        await parent.wait()
        with trio.fail_after(30):  # a hang guard: the child itself would sleep 60 s
            while alive(child):
                await trio.sleep(0.02)
    finally:
        parent.kill()
        await parent.wait()


REPLACED_GUARDIAN_PARENT = """
import os, signal, sys, trio
from trio_claude._transport import _guardian
from trio_claude._transport._base import LaunchSpec
from trio_claude._transport._process import SubprocessTransport

CHILD = "import time; time.sleep(60)"

async def main():
    spec = LaunchSpec(argv=[sys.executable, "-c", CHILD], env=dict(os.environ))
    async with trio.open_nursery() as nursery:
        first = await SubprocessTransport().start(spec, nursery)
        os.kill(_guardian._popen.pid, signal.SIGKILL)  # someone kills the guardian
        _guardian._popen.wait()
        second = await SubprocessTransport().start(spec, nursery)  # notices, starts another
        print(first.pid, second.pid, _guardian._popen.pid, flush=True)
        await trio.sleep(60)

trio.run(main)
"""


async def test_a_replaced_guardian_also_stops_the_clis_started_before_it() -> None:
    """The guardian finds our CLIs by the family of their tags, not by a list it was told: the
    one that replaces a killed guardian stops the CLIs started before it too."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the guardian is Linux-only")
    parent = await trio.lowlevel.open_process(
        [sys.executable, "-c", REPLACED_GUARDIAN_PARENT], stdout=subprocess.PIPE
    )
    try:
        line = await first_line(parent)
        first, second, guardian = (int(x) for x in line.split())
        assert alive(first) and alive(second) and alive(guardian)
        parent.kill()
        await parent.wait()
        with trio.move_on_after(20):
            while alive(first) or alive(second) or alive(guardian):
                await trio.sleep(0.02)
        assert not alive(first) and not alive(second) and not alive(guardian)
    finally:
        parent.kill()
        await parent.wait()


STUBBORN_PARENT = """
import os, sys, trio
from trio_claude._transport import _guardian
from trio_claude._transport._base import LaunchSpec
from trio_claude._transport._process import SubprocessTransport

_guardian.GRACE = 0.2
_guardian._STDERR = open(sys.argv[2], "ab")
CHILD = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"

async def main():
    spec = LaunchSpec(argv=[sys.executable, "-c", CHILD], env=dict(os.environ))
    async with trio.open_nursery() as nursery:
        proc = await SubprocessTransport().start(spec, nursery)
        # A process that is not ours (argv[1], the same user's) is counted as ours: the
        # guardian still spares it, as it carries no tag of our family.
        _guardian._watched.add(int(sys.argv[1]))
        print(proc.pid, _guardian._popen.pid, flush=True)
        await trio.sleep(60)

trio.run(main)
"""


async def test_the_guardian_kills_what_ignores_sigterm_and_spares_what_it_did_not_start(
    tmp_path: Path,
) -> None:
    """After its grace the guardian SIGKILLs a CLI that ignores SIGTERM; it never signals a
    process that carries no tag of the application's family (a pid reused since, say)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the guardian is Linux-only")
    bystander = await trio.lowlevel.open_process(
        [sys.executable, "-c", "import time; time.sleep(60)"]
    )
    parent = await trio.lowlevel.open_process(
        [sys.executable, "-c", STUBBORN_PARENT, str(bystander.pid), str(tmp_path / "guardian.log")],
        stdout=subprocess.PIPE,
    )
    try:
        line = await first_line(parent)
        child, guardian = (int(x) for x in line.split())
        assert alive(child) and alive(guardian)
        parent.kill()
        await parent.wait()
        with trio.move_on_after(20):
            while alive(child) or alive(guardian):
                await trio.sleep(0.02)
        assert not alive(child) and not alive(guardian), (
            {pid: _proc_status(pid) for pid in (child, guardian)},
            (tmp_path / "guardian.log").read_text(),
        )
        assert bystander.returncode is None and alive(bystander.pid)
    finally:
        parent.kill()
        await parent.wait()
        bystander.kill()
        await bystander.wait()


async def test_which_thread_spawns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Once the guardian runs, a CLI is spawned from a worker thread, never on the event loop's
    own thread (the exec and chdir may wait on a slow filesystem); one that asks for the
    parent-death signal itself
    (resource limits) only from the dedicated spawner thread, whose exit would otherwise
    signal it."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the guardian is Linux-only")
    assert _guardian.ensure()
    used: list[str] = []
    loop_thread = threading.current_thread()
    real = process_mod._get_spawner
    real_popen = process_mod._popen

    def spawner() -> Any:
        used.append("spawner")
        return real()

    def popen(*args: Any) -> Any:
        used.append("loop" if threading.current_thread() is loop_thread else "thread")
        return real_popen(*args)

    monkeypatch.setattr(process_mod, "_get_spawner", spawner)
    monkeypatch.setattr(process_mod, "_popen", popen)
    env = dict(os.environ)
    plain = LaunchSpec(argv=[sys.executable, "-c", "pass"], env=env)
    limited = LaunchSpec(
        argv=[sys.executable, "-c", "pass"],
        env=env,
        resource_limits=tc.ResourceLimits(max_open_files=256),
    )
    async with trio.open_nursery() as nursery:
        proc = await SubprocessTransport().start(plain, nursery)
        assert used == ["thread"]
        assert await shutdown_process(proc, close_timeout=5) == 0
        proc = await SubprocessTransport().start(limited, nursery)
        assert used == ["thread", "spawner", "thread"]
        assert await shutdown_process(proc, close_timeout=5) == 0
