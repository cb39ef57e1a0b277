"""The guardian finds our processes by the family of their tags: what it stops when the
application dies (SIGKILLed: each application is a parent script of its own), and what it must
spare."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.integration.test_guardian import run

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the guardian is Linux-only"
)

_PARENT = """
import os, sys, trio
from trio_claude._transport import _guardian
from trio_claude._transport._base import LaunchSpec
from trio_claude._transport._process import SubprocessTransport

_guardian.GRACE = 0.3
CLI = sys.argv[1]

async def main():
    spec = LaunchSpec(argv=[sys.executable, "-c", CLI], env=dict(os.environ))
    async with trio.open_nursery() as nursery:
        proc = await SubprocessTransport().start(spec, nursery)
        report = b""
        while not report.endswith(b"\\n"):  # the CLI's first line
            report += await proc.stdout.receive_some(1000)
        print(_guardian.family(), _guardian._popen.pid, proc.pid, report.decode().strip(),
              flush=True)
        await trio.sleep(60)

trio.run(main)
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _carriers(needle: str) -> list[int]:
    """Our processes whose TRIO_CLAUDE_PROCESS_TAG holds ``needle``."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as f:
                environ = f.read()
        except OSError:
            continue
        for entry in environ.split(b"\0"):
            if entry.startswith(b"TRIO_CLAUDE_PROCESS_TAG=") and needle.encode() in entry:
                found.append(int(name))
    return found


def _wait_gone(pid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)


def _kill(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _start(
    code: str, *args: str, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], list[str]]:
    parent = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args], stdout=subprocess.PIPE, env=env
    )
    assert parent.stdout is not None
    line = parent.stdout.readline().decode().split()  # a hang guard: the CLI's own timeouts
    assert line, parent.wait()
    return parent, line


# --- 1. Nothing of ours survives -----------------------------------------------------------


def test_a_tool_that_dropped_the_tag_is_stopped_with_its_cli() -> None:
    """A tool started with a clean environment (``env -i``, ``sudo``, a daemon's re-exec) still
    hangs off its CLI when the application dies: the per-CLI sweep kills descendants, the
    guardian only what carries the family."""
    cli = (
        "import subprocess, time\n"
        "p = subprocess.Popen(['env', '-i', '/bin/sleep', '60'], start_new_session=True)\n"
        "print(p.pid, flush=True); time.sleep(60)\n"
    )
    parent, (_, guardian, cli_pid, tool) = _start(_PARENT, cli)
    try:
        assert _alive(int(tool))
        parent.kill()
        parent.wait()
        _wait_gone(int(guardian), 20)
        assert not _alive(int(cli_pid))
        assert not _alive(int(tool)), "the CLI's tool outlived the application"
    finally:
        parent.kill()
        parent.wait()
        _kill([int(cli_pid), int(tool)])


def test_what_a_stubborn_tool_forks_during_the_last_scan_is_killed_too() -> None:
    """A tool that ignores SIGTERM and keeps forking: one SIGKILL pass leaves what it forked
    between that pass's listing of /proc and its kill (the sweep repeats up to 8 rounds)."""
    cli = (
        "import os, signal, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "print(os.getpid(), flush=True)\n"
        "for _ in range(800):\n"
        "    if os.fork() == 0:\n"
        "        time.sleep(60); os._exit(0)\n"
        "    time.sleep(0.001)\n"
        "time.sleep(60)\n"
    )
    leaks: list[int] = []
    for _ in range(3):  # each run leaks with a good chance; three make it near certain
        parent, (family, guardian, cli_pid, _) = _start(_PARENT, cli)
        try:
            time.sleep(0.2)
            parent.kill()
            parent.wait()
            _wait_gone(int(guardian), 20)
            time.sleep(0.2)
            left = _carriers(family + ".")
            leaks += left
        finally:
            parent.kill()
            parent.wait()
            _kill([int(cli_pid), *_carriers(family + ".")])
    assert leaks == [], f"{len(leaks)} process(es) of the family outlived the guardian"


_EXEC_PARENT = """
import os, signal, sys, threading, trio
import trio_claude._transport._process as process_mod
from trio_claude._transport import _guardian
from trio_claude._transport._base import LaunchSpec
from trio_claude._transport._process import SubprocessTransport

assert _guardian.ensure()
print(_guardian.family(), _guardian._popen.pid, flush=True)
# A PATH whose first entries do not exist (a slow filesystem, in effect): the vfork child
# closes its copy of the guardian's socket, then tries each entry, in our memory all along.
path = ":".join(f"/z/{i:x}" for i in range(14000)) + ":" + sys.argv[1]
real_popen = process_mod._popen

def popen(*args):
    threading.Timer(float(sys.argv[2]), os.kill, (os.getpid(), signal.SIGKILL)).start()
    return real_popen(*args)

process_mod._popen = popen

async def main():
    spec = LaunchSpec(argv=["fakecli"], env=dict(os.environ, PATH=path))
    async with trio.open_nursery() as nursery:
        await SubprocessTransport().start(spec, nursery)
        await trio.sleep(60)

trio.run(main)
"""


def test_a_cli_still_in_exec_when_the_application_dies_is_stopped(tmp_path: Path) -> None:
    """The guardian reads EOF as soon as the vfork child has closed its fds; until execve
    switches its memory, its /proc environ is the dead application's (no family tag). One scan
    that finds nothing ends the guardian: the CLI it missed then runs on."""
    (tmp_path / "fakecli").write_text("#!/bin/sh\nexec /bin/sleep 60\n")
    (tmp_path / "fakecli").chmod(0o755)
    leaks: list[int] = []
    for delay in ("0.01", "0.02", "0.03"):  # within the ~45 ms the execve attempts take
        parent, (family, guardian) = _start(_EXEC_PARENT, str(tmp_path), delay)
        try:
            parent.wait()
            _wait_gone(int(guardian), 20)
            time.sleep(0.5)
            leaks += _carriers(family + ".")
        finally:
            parent.kill()
            parent.wait()
            _kill(_carriers(family + "."))
    assert leaks == [], "a CLI spawned as the application died outlived it"


# --- 2. Nothing that is not ours is killed (guards: these pass) ---------------------------


def test_a_nested_application_s_guardian_spares_the_outer_session_s_processes() -> None:
    """Run inside a tool of another session, our environment holds the outer tag: our guardian
    stops our CLIs (``outer:ours``), never a process that carries the outer tag alone."""
    outer = "ab" * 16 + ".cd"  # an outer application's tag
    env = dict(os.environ, TRIO_CLAUDE_PROCESS_TAG=outer)
    bystander = subprocess.Popen(["/bin/sleep", "60"], env=env)  # the outer CLI's other tool
    cli = (
        "import os, time\n"
        "print(os.environ['TRIO_CLAUDE_PROCESS_TAG'], flush=True); time.sleep(60)\n"
    )
    parent, (family, guardian, cli_pid, cli_tag) = _start(_PARENT, cli, env=env)
    try:
        assert cli_tag.startswith(outer + ":" + family + ".")
        parent.kill()
        parent.wait()
        _wait_gone(int(guardian), 20)
        assert not _alive(int(cli_pid))
        assert bystander.poll() is None and _alive(bystander.pid)
    finally:
        parent.kill()
        parent.wait()
        bystander.kill()
        bystander.wait()
        _kill([int(cli_pid)])


_FORKING_PARENT = """
import os, sys, time, trio
from trio_claude._transport import _guardian
from trio_claude._transport._base import LaunchSpec
from trio_claude._transport._process import SubprocessTransport

_guardian.GRACE = 0.3
SPEC = LaunchSpec(argv=["/bin/sleep", "60"], env=dict(os.environ))

async def hold(out):
    async with trio.open_nursery() as nursery:
        proc = await SubprocessTransport().start(SPEC, nursery)
        family = _guardian.family().encode()
        os.write(out, b"%s %d %d\\n" % (family, _guardian._popen.pid, proc.pid))
        await trio.sleep(60)

r, w = os.pipe()
if os.fork() == 0:  # a worker process of the application, forked before any CLI
    trio.run(hold, w)
    os._exit(0)
child_line = os.read(r, 200).decode().strip()
os.write(1, child_line.encode() + b" ")
trio.run(hold, 1)
"""


def test_a_forked_worker_s_clis_are_its_own_guardian_s() -> None:
    """The parent's death stops the parent's CLIs, not those of a forked worker still running
    (their key is the worker's); the worker's death stops its own."""
    parent, words = _start(_FORKING_PARENT)
    c_family, c_guardian, c_cli, p_family, p_guardian, p_cli = words
    worker = None
    try:
        assert c_family != p_family
        with open(f"/proc/{c_guardian}/stat") as f:
            worker = int(f.read().rsplit(")", 1)[1].split()[1])  # the guardian's parent
        parent.kill()
        parent.wait()
        _wait_gone(int(p_guardian), 20)
        assert not _alive(int(p_cli))
        assert _alive(int(c_cli)) and _alive(worker)
        os.kill(worker, signal.SIGKILL)
        _wait_gone(int(c_guardian), 20)
        assert not _alive(int(c_cli))
    finally:
        parent.kill()
        parent.wait()
        _kill([int(c_cli), int(p_cli)] + ([worker] if worker else []))


# --- 4. State and races -----------------------------------------------------------------


def test_family_is_one_key_when_threads_ask_at_once() -> None:
    """Two event loops (``trio_claude.blocking`` runs one per thread) starting their first
    session at once: family() is check-then-set without a lock, and secrets releases the GIL,
    so they may tag their CLIs with different keys, only one of which the guardian knows."""
    code = """
    import threading
    from trio_claude._transport import _guardian
    barrier = threading.Barrier(8)
    keys = []
    def first_spawn():
        barrier.wait()
        keys.append(_guardian.family())
    threads = [threading.Thread(target=first_spawn) for _ in range(8)]
    for t in threads: t.start()
    for t in threads: t.join()
    print(len(set(keys)))
    """
    counts = [
        subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code)],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout.strip()
        for _ in range(10)
    ]
    assert counts == ["1"] * 10, counts


def test_a_cli_forgotten_while_the_guardian_is_replaced_is_not_counted_for_ever() -> None:
    """forget() between the guardian's death being noticed and its replacement is dropped
    (``_owner`` is None then): the pid stays in ``_watched`` for good, the warnings count it,
    and the clean exit's _stop() never closes and reaps the guardian."""
    code = """
    import os, signal
    from trio_claude._transport import _guardian
    assert _guardian.ensure()
    cli = 999999  # a CLI's pid
    assert _guardian.announce(cli, _guardian.family() + ".0")
    os.kill(_guardian._popen.pid, signal.SIGKILL)
    _guardian._popen.wait()
    assert not _guardian.ready()  # noticed at a spawn; its replacement is on its way
    _guardian.forget(cli)  # the CLI exits meanwhile
    assert _guardian.ensure()
    print(sorted(_guardian._watched))
    """
    assert run(code).strip() == "[]"
