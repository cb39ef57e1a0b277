"""The guardian and the spawn paths around it, in fresh interpreters (each script is a program
of its own: some fork, some hold every token of trio's thread limiter, some kill the guardian).

A hang in a child becomes a SIGALRM, so a regression fails the test instead of stalling it.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the guardian is Linux-only"
)


def run(code: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, (proc.returncode, proc.stdout, proc.stderr)
    return proc.stdout


_START_AND_STOP = """
import os, time, trio
from trio_claude._transport._base import LaunchSpec
from trio_claude._transport._process import SubprocessTransport, shutdown_process

async def start_and_stop(timeout):
    spec = LaunchSpec(argv=["/bin/cat"], env=dict(os.environ))
    async with trio.open_nursery() as nursery:
        with trio.move_on_after(timeout) as scope:
            proc = await SubprocessTransport().start(spec, nursery)
        assert not scope.cancelled_caught, "start() did not finish in time"
        assert await shutdown_process(proc, close_timeout=5) == 0
"""


def test_starting_and_closing_do_not_wait_for_trio_s_thread_tokens() -> None:
    """Spawns and reaps wait shielded: they must not queue for the default thread limiter,
    which the application's own ``to_thread`` work may hold entirely."""
    out = run(
        _START_AND_STOP
        + """
import threading
from trio_claude._transport import _guardian

async def main():
    assert _guardian.ensure()  # spawns then go to worker threads
    release = threading.Event()
    limiter = trio.to_thread.current_default_thread_limiter()
    async with trio.open_nursery() as hold:
        for _ in range(int(limiter.total_tokens)):
            hold.start_soon(lambda: trio.to_thread.run_sync(release.wait, abandon_on_cancel=True))
        while limiter.available_tokens:
            await trio.sleep(0.01)
        started = time.monotonic()
        await start_and_stop(30)  # a hang guard: start() would wait for a token forever
        print("ok", round(time.monotonic() - started, 1))
        release.set()

trio.run(main)
"""
    )
    assert out.startswith("ok")


def test_a_forked_child_spawns_with_a_guardian_of_its_own() -> None:
    out = run(
        _START_AND_STOP
        + """
import signal
from trio_claude._transport import _guardian

trio.run(start_and_stop, 20)
parent_guardian = _guardian._popen.pid
pid = os.fork()
if pid == 0:
    signal.alarm(45)
    assert not _guardian.ready()  # the parent's guardian is not ours
    trio.run(start_and_stop, 20)
    assert _guardian.ready() and _guardian._popen.pid != parent_guardian
    os._exit(0)
_, status = os.waitpid(pid, 0)
print("child", status)
"""
    )
    assert out.strip() == "child 0"


def test_a_fork_while_another_thread_holds_the_guardian_lock() -> None:
    out = run(
        """
import os, signal, threading, time
from trio_claude._transport import _guardian

real_launch = _guardian._launch
inside = threading.Event()

def slow_launch():
    inside.set()
    time.sleep(0.5)  # a slow first spawn: the start lock is held meanwhile
    return real_launch()

_guardian._launch = slow_launch
starter = threading.Thread(target=_guardian.ensure)
starter.start()
inside.wait()
pid = os.fork()
if pid == 0:
    signal.alarm(45)
    _guardian._launch = real_launch
    os._exit(0 if _guardian.ensure() else 1)
starter.join()
_, status = os.waitpid(pid, 0)
print("child", status)
"""
    )
    assert out.strip() == "child 0"


def test_a_dead_guardian_is_replaced_by_one_of_the_same_family() -> None:
    out = run(
        """
import os, signal
from trio_claude._transport import _guardian

signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # as some command-line tools do
tag = _guardian.family() + ".0"
assert _guardian.ensure()
first = _guardian._popen
assert _guardian.announce(os.getpid(), tag)
assert not _guardian.announce(os.getpid(), "0" * 32)  # not of the family
os.kill(first.pid, signal.SIGKILL)
first.wait()
assert not _guardian.announce(os.getpid(), tag)  # noticed at the next spawn
assert not _guardian.ready()
assert _guardian.ensure() and _guardian._popen.pid != first.pid
assert _guardian._popen.args[-1] == _guardian.family()  # it watches the earlier CLIs too
assert _guardian.announce(os.getpid(), tag)
_guardian.forget(os.getpid())
print("replaced")
"""
    )
    assert out.strip() == "replaced"
