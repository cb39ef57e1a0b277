"""The guardian: stops our CLIs when this process dies without closing them (Linux).

A crashed or SIGKILLed parent must not leave a CLI running (and spending tokens) on its own.
``PR_SET_PDEATHSIG`` would do it per child, but it has to be set between fork and exec: by a
``preexec_fn``, which makes ``subprocess`` fork the whole interpreter instead of using ``vfork``
(milliseconds per spawn, more the bigger the application), or by ``setpriv --pdeathsig`` in
front of the command (one more exec: about 0.9 ms per spawn, most of what a session's start
costs beyond a bare loop's).

So each process that spawns CLIs starts one small guardian process, once, and keeps the write
end of a pipe to it. Every CLI is announced to it (pid and tag, see ``_sweep``) and forgotten
once reaped. When this process dies, however it dies, the kernel closes the pipe: the guardian
reads EOF, sends SIGTERM to every announced CLI that still carries its tag (the check makes a
reused pid harmless), waits ``grace`` seconds, SIGKILLs what is left, and exits. A clean exit of
ours closes the pipe the same way, with nothing left to announce.

The guardian runs the stdlib only (``python -I -S``: no site, no trio, a few milliseconds to
start), in a session of its own, with an empty environment, detached from our stdio. It is our
child, reaped at exit. A process forked from this one (``os.fork``, ``multiprocessing``) drops
the inherited pipe at once and starts its own guardian when it spawns a CLI.

Where it cannot run (not Linux, no ``/proc``), ``_process`` falls back to ``setpriv``, then to a
``preexec_fn``.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
import threading

from . import _sweep

__all__ = ["GRACE", "announce", "ensure", "forget", "ready", "supported"]

#: Seconds between the guardian's SIGTERM and its SIGKILL.
GRACE = 5.0

# The guardian's program. Stdlib only; it must never raise (nobody would see it).
_SCRIPT = r"""# trio-claude guardian: stops this application's CLIs if it dies
import os, signal, sys, time
grace = float(sys.argv[1])
prefix = b"TRIO_CLAUDE_PROCESS_TAG="
known = {}

def carries(pid, tag):
    try:
        with open("/proc/%d/environ" % pid, "rb") as f:
            environ = f.read()
    except OSError:
        return False
    for entry in environ.split(b"\0"):
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
if known and signal_all(signal.SIGTERM):
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(carries(p, t) for p, t in known.items()):
        time.sleep(0.05)
    signal_all(signal.SIGKILL)
"""

_lock = threading.Lock()
_popen: subprocess.Popen[bytes] | None = None
_fd: int | None = None
_owner: int | None = None  # the pid that started it: a forked child must start its own


def supported() -> bool:
    """Whether a guardian can stand in for the parent-death signal here (Linux, ``/proc``)."""
    return _sweep.supported()


def _start() -> int | None:
    global _popen, _fd, _owner
    r, w = os.pipe()
    try:
        popen = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _SCRIPT, repr(GRACE)],
            stdin=r,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={},
            cwd="/",
            start_new_session=True,
            close_fds=True,
        )
    except OSError:
        os.close(r)
        os.close(w)
        return None
    os.close(r)
    os.set_blocking(w, False)  # forget() runs on the event loop
    _popen, _fd, _owner = popen, w, os.getpid()
    return w


def _write(line: bytes) -> bool:
    fd = _fd
    if fd is None:
        return False
    try:
        return os.write(fd, line) == len(line)
    except OSError:
        return False


def ready() -> bool:
    """Whether this process has its guardian already (no blocking call needed)."""
    return _fd is not None and _owner == os.getpid()


def ensure() -> bool:
    """Starts this process's guardian if it has none yet (blocking: call it off the loop).

    Returns:
        Whether a guardian is there to watch the next CLI.
    """
    with _lock:
        if _fd is not None and _owner == os.getpid():
            return True
        return _start() is not None


def announce(pid: int, tag: str) -> bool:
    """Puts a freshly spawned CLI under the guardian's watch (after :func:`ensure`).

    Returns:
        Whether the guardian got the news (``False``: it is gone, or its pipe is full).
    """
    with _lock:
        if _owner != os.getpid():
            return False
        return _write(b"+ %d %s\n" % (pid, tag.encode()))


def forget(pid: int) -> None:
    """Tells the guardian a CLI has been reaped (its pid may be reused from now on).

    Never blocks: the pipe is only ever nearly empty, and a lost line is harmless (the
    guardian checks the tag before it signals anything).
    """
    if _fd is not None and _owner == os.getpid():
        _write(b"- %d\n" % pid)


def _drop_inherited() -> None:
    # In a forked child: the pipe is the parent's; keeping it would hide the parent's death.
    global _popen, _fd, _owner
    if _fd is not None:
        try:
            os.close(_fd)
        except OSError:
            pass
    _popen = _fd = _owner = None


def _stop() -> None:
    # A clean exit: the guardian reads EOF, has nothing left to stop, and exits; reap it.
    popen, fd = _popen, _fd
    if popen is None or fd is None or _owner != os.getpid():
        return
    _drop_inherited()
    try:
        popen.wait(timeout=1.0)
    except subprocess.TimeoutExpired:
        pass


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_drop_inherited)
atexit.register(_stop)
