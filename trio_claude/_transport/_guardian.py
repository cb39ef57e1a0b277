"""The guardian: stops our CLIs when this process dies without closing them (Linux).

A crashed or SIGKILLed parent must not leave a CLI running (and spending tokens) on its own.
``PR_SET_PDEATHSIG`` would do it per child, but it has to be set between fork and exec: by a
``preexec_fn``, which makes ``subprocess`` fork the whole interpreter instead of using ``vfork``
(milliseconds per spawn, more the bigger the application), or by ``setpriv --pdeathsig`` in
front of the command (one more exec: about 0.9 ms per spawn, most of what a session's start
costs beyond a bare loop's).

So each process that spawns CLIs starts one small guardian process, once, and keeps one end
of a socket pair that is the guardian's stdin. The guardian knows one thing: this process's
key, a random family name that every tag of its CLIs begins with (``<key>.<bits>``, see
``_sweep``). Nothing is sent to it per CLI, so a spawn costs it nothing: no write, and no wakeup
of another process, on a machine whose cores the spawns are already short of. When this process
dies, however it dies, the kernel closes our end: the guardian reads EOF, finds every process
whose tags are of the family (one pass over ``/proc``), sends them SIGTERM, waits ``grace``
seconds while they go, SIGKILLs what carries the family then, and exits. A clean exit of ours
closes the socket the same way, with nothing left to stop. A guardian that died (killed by
someone) is noticed at the next spawn and replaced; the new one has the same key, so it watches
the CLIs started before it too.

The guardian runs the stdlib only (``python -I -S``: no site, no trio, a few milliseconds to
start), in a session of its own, with an empty environment, detached from our stdio. It is our
child, reaped at exit. A process forked from this one (``os.fork``, ``multiprocessing``) drops
the inherited socket (and lock) at once and starts its own guardian when it spawns a CLI.

Where it cannot run (not Linux, no ``/proc``), ``_process`` falls back to ``setpriv``, then to a
``preexec_fn``.
"""

from __future__ import annotations

import atexit
import logging
import os
import secrets
import socket
import subprocess
import sys
import threading
from typing import Any

from . import _sweep

__all__ = ["GRACE", "announce", "ensure", "family", "forget", "ready", "supported"]

logger = logging.getLogger("trio_claude")

#: Seconds between the guardian's SIGTERM and its SIGKILL.
GRACE = 5.0

# The guardian's program. Stdlib only; it must never raise (nobody would see it).
_SCRIPT = r"""# trio-claude guardian: stops this application's CLIs if it dies
import os, signal, sys, time
grace = float(sys.argv[1])
family = sys.argv[2].encode() + b"."
prefix = b"TRIO_CLAUDE_PROCESS_TAG="
me = os.getpid()

def read(path):
    with open(path, "rb") as f:
        return f.read()

def environ_of(pid):
    # Empty, with the command line, while the process is still in execve (the kernel lets
    # the spawner go before it has set up the new stack: a parent killed right after a spawn
    # hits that); empty for good in a zombie or a kernel thread (no exe link), or when the
    # environment is (the command line is not), or unreadable (another user's). Only the
    # first is waited out.
    deadline = time.monotonic() + 1.0
    while True:
        try:
            environ = read("/proc/%d/environ" % pid)
            if environ or time.monotonic() > deadline or read("/proc/%d/cmdline" % pid):
                return environ
            os.readlink("/proc/%d/exe" % pid)
        except OSError:
            return b""
        time.sleep(0.005)

def carries(pid):
    for entry in environ_of(pid).split(b"\0"):
        if entry.startswith(prefix):
            return any(tag.startswith(family) for tag in entry[len(prefix):].split(b":"))
    return False

def ours():
    try:
        names = os.listdir("/proc")
    except OSError:
        return []
    return [int(n) for n in names if n.isdigit() and int(n) != me and carries(int(n))]

def signal_all(pids, sig):
    for pid in pids:
        try:
            os.kill(pid, sig)
        except OSError:
            pass

while True:
    try:
        data = os.read(0, 65536)
    except InterruptedError:
        continue
    except OSError:
        data = b""
    if not data:
        break
# What it does goes to stderr (nowhere, unless a test asks: see _STDERR).
found = ours()
print("guardian: EOF; stopping", found, file=sys.stderr)
if found:
    signal_all(found, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(carries(p) for p in found):
        time.sleep(0.05)
    left = ours()  # also what they started meanwhile
    print("guardian: SIGKILL to", left, file=sys.stderr)
    signal_all(left, signal.SIGKILL)
"""

#: Where the guardian's own report goes (a test sets a file here to see what it did).
_STDERR: Any = subprocess.DEVNULL
# Held only for a change of the state below, never for a spawn: the event loop takes it
# (announce, forget).
_lock = threading.Lock()
# One guardian start at a time (a spawn: milliseconds, longer on a slow filesystem). Taken in
# worker threads only.
_start_lock = threading.Lock()
_popen: subprocess.Popen[bytes] | None = None
# Our end of the guardian's stdin. Nothing is written to it: its closing (our exit, however it
# happens) is what the guardian waits for.
_sock: socket.socket | None = None
_owner: int | None = None  # the pid that started it: a forked child must start its own
_watched: set[int] = set()  # the CLIs announced and not forgotten yet
# This process's family of tags (see family()), and the pid it belongs to.
_family: str | None = None
_family_owner: int | None = None


def family() -> str:
    """This process's key: every tag its guardian stops begins with ``<key>.`` (``_sweep``).

    One per process (a forked child gets its own), the same for every guardian it starts.
    """
    global _family, _family_owner
    pid = os.getpid()
    if _family is None or _family_owner != pid:
        _family, _family_owner = secrets.token_hex(16), pid
    return _family


def supported() -> bool:
    """Whether a guardian can stand in for the parent-death signal here (Linux, ``/proc``)."""
    return _sweep.supported()


def _launch() -> tuple[subprocess.Popen[bytes], socket.socket] | None:
    """Starts a guardian; its process and our end of its stdin (``None``: it could not start)."""
    try:
        ours, theirs = socket.socketpair()
    except OSError:
        return None
    try:
        popen = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _SCRIPT, repr(GRACE), family()],
            stdin=theirs.fileno(),
            stdout=subprocess.DEVNULL,
            stderr=_STDERR,
            env={},
            cwd="/",
            start_new_session=True,
            close_fds=True,
        )
    except OSError:
        ours.close()
        return None
    finally:
        theirs.close()
    ours.shutdown(socket.SHUT_RD)
    ours.setblocking(False)  # announce() and forget() run on the event loop
    return popen, ours


def _close() -> None:
    # _watched stays: the next guardian is of the same family, and watches those CLIs too.
    global _popen, _sock, _owner
    if _sock is not None:
        _sock.close()
    _popen = _sock = _owner = None


def ready() -> bool:
    """Whether this process has its guardian, alive (no blocking call needed)."""
    with _lock:
        return _alive()


def _alive() -> bool:
    """Whether this process's guardian runs (the caller holds the lock); a dead one (killed by
    someone) is dropped, to be replaced by the next :func:`ensure`."""
    if _sock is None or _owner != os.getpid():
        return False
    if _popen is not None and _popen.poll() is None:  # (a waitpid that does not wait)
        return True
    if _watched:
        logger.warning(
            "the guardian process is gone: %d CLI(s) are not stopped if this process dies "
            "until a new guardian starts (at the next spawn)",
            len(_watched),
        )
    _close()
    return False


def ensure() -> bool:
    """Starts this process's guardian if it has none yet (blocking: call it off the loop).

    Returns:
        Whether a guardian is there to watch the next CLI.
    """
    global _popen, _sock, _owner
    with _start_lock:
        if ready():
            return True
        launched = _launch()  # without _lock: the event loop may be waiting for it
        if launched is None:
            return False
        with _lock:
            (_popen, _sock), _owner = launched, os.getpid()
        return True


def announce(pid: int, tag: str) -> bool:
    """Counts a freshly spawned CLI as watched (after :func:`ensure`): its ``tag`` must be of
    this process's :func:`family`. Nothing is sent: the guardian finds it by its tag.

    Returns:
        Whether the guardian watches it (``False``: it is gone, to be replaced at the next
        :func:`ensure`, or the tag is not of the family).
    """
    with _lock:
        if not tag.startswith(family() + ".") or not _alive():
            return False
        _watched.add(pid)
        return True


def forget(pid: int) -> None:
    """A CLI has exited (to be called while it is a zombie, not yet reaped).

    Never blocks for long: the lock is only held to change the set.
    """
    with _lock:
        if _owner == os.getpid():
            _watched.discard(pid)


def _after_fork_in_child() -> None:
    # The socket is the parent's: keeping it would hide the parent's death from its guardian.
    # The locks may have been held by a thread that does not exist here: new ones.
    global _lock, _start_lock
    _lock = threading.Lock()
    _start_lock = threading.Lock()
    _close()
    _watched.clear()  # the parent's CLIs: not this process's family


def _stop() -> None:
    # A clean exit: the guardian reads EOF, has nothing left to stop, and exits; reap it. While
    # CLIs are still announced (an exit handler may still be closing them), leave the socket to
    # the process's own end, which the guardian notices just the same.
    with _lock:
        popen = _popen
        if popen is None or _owner != os.getpid() or _watched:
            return
        _close()
    try:
        popen.wait(timeout=1.0)
    except subprocess.TimeoutExpired:
        pass


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(_stop)
