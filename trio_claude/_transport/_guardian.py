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
whose tags are of the family, the members of their process groups and their descendants (one
pass over ``/proc``: a tool that dropped the tag still hangs off its CLI), sends them SIGTERM,
scans again while they go (for at least half a second: a CLI spawned as we died shows its tag
once its ``execve`` is done), SIGKILLs what is left after ``grace`` seconds, scan after scan
until one finds nothing, and exits. A clean exit of ours
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

def stat_of(pid):
    # (parent pid, process group), or None once it is gone.
    try:
        fields = read("/proc/%d/stat" % pid).rsplit(b")", 1)[1].split()
        return int(fields[1]), int(fields[2])
    except (OSError, IndexError, ValueError):
        return None

def alive(pid):
    try:
        return read("/proc/%d/stat" % pid).rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return False

def ours():
    # What carries the family, the members of its process groups and its descendants: a
    # tool that dropped the tag (env -i) still hangs off its CLI (as _sweep.sweep finds it).
    try:
        pids = [int(n) for n in os.listdir("/proc") if n.isdigit()]
    except OSError:
        return set()
    found = {p for p in pids if p != me and carries(p)}
    if not found:
        return found
    stats = {}
    for p in pids:
        st = stat_of(p)
        if st is not None:
            stats[p] = st
    groups = {stats[p][1] for p in found if p in stats} - {0, 1, os.getpgrp()}
    found |= {p for p, (_, g) in stats.items() if g in groups}
    children = {}
    for p, (parent, _) in stats.items():
        children.setdefault(parent, []).append(p)
    todo = list(found)
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    found.discard(me)
    return found

def signal_all(pids, sig):
    for pid in pids:
        try:
            os.kill(pid, sig)
        except OSError:
            pass

clean = False
while True:
    try:
        data = os.read(0, 65536)
    except InterruptedError:
        continue
    except OSError:
        data = b""
    if not data:
        break
    clean = clean or b"q" in data  # _stop(): a clean exit, with no CLI of ours left
# What it does goes to stderr (nowhere, unless a test asks: see _STDERR).
found = ours()
print("guardian: EOF; stopping", sorted(found), file=sys.stderr)
signal_all(found, signal.SIGTERM)
start = time.monotonic()
# A CLI spawned as we died may still be in execve: its environment shows its tag only once
# the exec is done. Scans go on for a moment (not after a clean exit: nothing is spawning).
settle = start + (0.0 if clean else 0.5)
while time.monotonic() < start + grace:
    time.sleep(0.05)
    more = ours() - found
    signal_all(more, signal.SIGTERM)
    found |= more
    if time.monotonic() >= settle and not any(alive(p) for p in found):
        break
for _ in range(8):  # what forks while it is killed: until a scan finds nothing
    left = ours()
    if not left:
        break
    print("guardian: SIGKILL to", sorted(left), file=sys.stderr)
    signal_all(left, signal.SIGKILL)
    time.sleep(0.01)
"""

#: Where the guardian's own report goes (a test sets a file here to see what it did).
_STDERR: Any = subprocess.DEVNULL
# Held only for a change of the state below, never for a spawn: the event loop takes it
# (announce, forget). Reentrant: a finalizer (a garbage collection while it is held) may
# forget() a CLI in the same thread.
_lock = threading.RLock()
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
_family_lock = threading.Lock()


def family() -> str:
    """This process's key: every tag its guardian stops begins with ``<key>.`` (``_sweep``).

    One per process (a forked child gets its own), the same for every guardian it starts.
    """
    global _family, _family_owner
    pid = os.getpid()
    if _family is None or _family_owner != pid:
        key = secrets.token_hex(16)  # (outside the lock: it may release the GIL)
        with _family_lock:  # threads that ask at once (blocking sessions) get one key
            if _family is None or _family_owner != pid:
                _family, _family_owner = key, pid
    assert _family is not None
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
        _watched.discard(pid)  # (also while the guardian is being replaced: no owner then)


def _disown(popen: subprocess.Popen[bytes] | None) -> None:
    """Tells ``popen``'s finalizer the process is not one to wait for: the parent's guardian
    seen from a forked child, or ours left running at exit (init reaps it). Its finalizer
    would poll and warn "subprocess N is still running": noise at exit, and in a child forked
    for a spawn (a ``preexec_fn``) a write to stderr before ``exec``, which hung the spawn
    when stderr was a full pipe."""
    if popen is not None and hasattr(popen, "_child_created"):
        popen._child_created = False


def _after_fork_in_child() -> None:
    # The socket is the parent's: keeping it would hide the parent's death from its guardian.
    # The locks may have been held by a thread that does not exist here: new ones.
    global _lock, _start_lock, _family_lock
    _lock = threading.RLock()
    _start_lock = threading.Lock()
    _family_lock = threading.Lock()
    _disown(_popen)
    _close()
    _watched.clear()  # the parent's CLIs: not this process's family


def _stop() -> None:
    try:
        _stop_guardian()
    except KeyboardInterrupt:
        # A Ctrl-C during the interpreter's exit: it is leaving anyway (the guardian sees the
        # socket close with it, and init reaps it), and "Exception ignored in atexit
        # callback" would bury the user's own output.
        pass


def _stop_guardian() -> None:
    # A clean exit: the guardian reads EOF, has nothing left to stop, and exits; reap it. While
    # CLIs are still announced (an exit handler may still be closing them), leave the socket to
    # the process's own end, which the guardian notices just the same.
    with _lock:
        popen = _popen
        if popen is None or _owner != os.getpid():
            return
        if _watched:
            # Left to the process's end, quietly: the kernel closes the socket, the guardian
            # stops the CLIs, init reaps it.
            _disown(popen)
            if _sock is not None:
                _sock.detach()
            return
        if _sock is not None:
            try:  # a clean exit: no CLI of ours is being spawned, nothing to wait for
                _sock.send(b"q", socket.MSG_NOSIGNAL)
            except OSError:
                pass
        _close()
    try:
        popen.wait(timeout=1.0)
    except subprocess.TimeoutExpired:
        pass


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(_stop)
