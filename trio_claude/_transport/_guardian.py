"""The guardian: stops our CLIs when this process dies without closing them (Linux).

A crashed or SIGKILLed parent must not leave a CLI running (and spending tokens) on its own.
``PR_SET_PDEATHSIG`` would do it per child, but it has to be set between fork and exec: by a
``preexec_fn``, which makes ``subprocess`` fork the whole interpreter instead of using ``vfork``
(milliseconds per spawn, more the bigger the application), or by ``setpriv --pdeathsig`` in
front of the command (one more exec: about 0.9 ms per spawn, most of what a session's start
costs beyond a bare loop's).

So each process that spawns CLIs starts one small guardian process, once, and keeps one end
of a socket pair that is the guardian's stdin. Every CLI is announced to it (pid and tag, see
``_sweep``) and forgotten once it has exited. When this process dies, however it dies, the
kernel closes our end: the guardian reads EOF, sends SIGTERM to every announced CLI that still
carries its tag (the check makes a reused pid harmless), waits ``grace`` seconds, SIGKILLs what
is left, and exits. A clean exit of ours closes the socket the same way, with nothing left to
stop. A guardian that died (killed by someone) is noticed at the next send and replaced.

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
import socket
import subprocess
import sys
import threading
from typing import Any

from . import _sweep

__all__ = ["GRACE", "announce", "ensure", "forget", "ready", "supported"]

logger = logging.getLogger("trio_claude")

#: Seconds between the guardian's SIGTERM and its SIGKILL.
GRACE = 5.0

# The guardian's program. Stdlib only; it must never raise (nobody would see it).
_SCRIPT = r"""# trio-claude guardian: stops this application's CLIs if it dies
import os, signal, sys, time
grace = float(sys.argv[1])
prefix = b"TRIO_CLAUDE_PROCESS_TAG="
known = {}

def read(path):
    with open(path, "rb") as f:
        return f.read()

def environ_of(pid):
    # Empty, with the command line, while the process is still in execve (the kernel lets
    # the spawner go before it has set up the new stack: a parent killed right after a spawn
    # hits that); empty for good in a zombie or a kernel thread (no exe link), or when the
    # environment is (the command line is not). Only the first is waited out.
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

def carries(pid, tag):
    for entry in environ_of(pid).split(b"\0"):
        if entry.startswith(prefix):
            return tag in entry[len(prefix):].split(b":")
    return False

def signal_all(sig):
    left = 0
    for pid, tag in list(known.items()):
        if carries(pid, tag):
            try:
                os.kill(pid, sig)
                left += 1
            except OSError:
                pass
    return left

pending = b""
while True:
    try:
        data = os.read(0, 65536)
    except InterruptedError:
        continue
    except OSError:
        data = b""
    if not data:
        break
    lines = (pending + data).split(b"\n")
    pending = lines.pop()
    for line in lines:
        parts = line.split()
        try:
            if len(parts) == 3 and parts[0] == b"+":
                known[int(parts[1])] = parts[2]
            elif len(parts) == 2 and parts[0] == b"-":
                known.pop(int(parts[1]), None)
        except ValueError:
            pass
# What it does goes to stderr (nowhere, unless a test asks: see _STDERR).
print("guardian: EOF; watching", {p: (t, carries(p, t)) for p, t in known.items()}, file=sys.stderr)
if known and signal_all(signal.SIGTERM):
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(carries(p, t) for p, t in known.items()):
        time.sleep(0.05)
    print("guardian: SIGKILL to", [p for p, t in known.items() if carries(p, t)], file=sys.stderr)
    signal_all(signal.SIGKILL)
"""

#: Where the guardian's own report goes (a test sets a file here to see what it did).
_STDERR: Any = subprocess.DEVNULL
# Held only for a send or a change of the state below, never for a spawn: the event loop takes it
# (announce, forget).
_lock = threading.Lock()
# One guardian start at a time (a spawn: milliseconds, longer on a slow filesystem). Taken in
# worker threads only.
_start_lock = threading.Lock()
_popen: subprocess.Popen[bytes] | None = None
# Our end of the guardian's stdin: a socket, so that writing to a dead guardian fails with
# EPIPE (MSG_NOSIGNAL) instead of raising SIGPIPE, which some applications leave fatal.
_sock: socket.socket | None = None
_owner: int | None = None  # the pid that started it: a forked child must start its own
_watched: set[int] = set()  # the CLIs announced and not forgotten yet


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
            [sys.executable, "-I", "-S", "-c", _SCRIPT, repr(GRACE)],
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


def _send(line: bytes) -> bool:
    """Sends one line (the caller holds the lock); a dead guardian is dropped, to be replaced."""
    sock = _sock
    if sock is None:
        return False
    try:
        # Lines are far shorter than the socket's buffer: all or nothing (EAGAIN: it is full).
        return sock.send(line, socket.MSG_NOSIGNAL) == len(line)
    except BlockingIOError:
        return False
    except OSError:
        if _watched:
            logger.warning(
                "the guardian process is gone: %d CLI(s) started before are not stopped if "
                "this process dies; a new guardian watches the next ones",
                len(_watched),
            )
        _close()
        return False


def _close() -> None:
    global _popen, _sock, _owner
    if _sock is not None:
        _sock.close()
    _popen = _sock = _owner = None
    _watched.clear()


def ready() -> bool:
    """Whether this process has its guardian already (no blocking call needed)."""
    return _sock is not None and _owner == os.getpid()


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
            _watched.clear()
        return True


def announce(pid: int, tag: str) -> bool:
    """Puts a freshly spawned CLI under the guardian's watch (after :func:`ensure`).

    Returns:
        Whether the guardian got the news (``False``: it is gone, or its socket is full).
    """
    with _lock:
        if _owner != os.getpid() or not _send(b"+ %d %s\n" % (pid, tag.encode())):
            return False
        _watched.add(pid)
        return True


def forget(pid: int) -> None:
    """Tells the guardian a CLI has exited: to be called while it is a zombie, not yet reaped
    (once reaped, its pid may be reused by a CLI announced meanwhile).

    Never blocks for long (the lock is only held for a send); a lost line is harmless (the
    guardian checks the tag before it signals anything).
    """
    with _lock:
        if pid in _watched and _owner == os.getpid():
            _watched.discard(pid)
            _send(b"- %d\n" % pid)


def _after_fork_in_child() -> None:
    # The socket is the parent's: keeping it would hide the parent's death from its guardian.
    # The locks may have been held by a thread that does not exist here: new ones.
    global _lock, _start_lock
    _lock = threading.Lock()
    _start_lock = threading.Lock()
    _close()


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
