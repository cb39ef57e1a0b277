"""The remote half of :class:`~trio_claude.SSHTransport`: a supervisor between sshd and the CLI.

This file is not imported on the remote host: ``SSHTransport`` reads its source, compresses it,
and writes it first on the ssh session's stdin; the remote command is a one-line bootstrap
(:data:`BOOTSTRAP`) that reads exactly those bytes and runs them. So the remote host needs only
``python3`` (3.7 or later, the standard library alone) and the ``claude`` CLI, and nothing but
the bootstrap appears on any command line. Locally it is an ordinary module, tested as one.

What the supervisor does (:func:`main`):

1. Asks for the parent-death signal (``PR_SET_PDEATHSIG``, SIGTERM): its parent is the sshd
   process of this connection, which exits when the connection is lost (the client's
   ``ServerAlive``, the server's ``ClientAlive``, a closed TCP connection).
2. Reads the **preamble** from stdin, unbuffered so that not one byte of what follows is taken:
   a decimal length, a newline, then that many bytes of JSON
   ``{"argv": [...], "env": {...}, "cwd": str | null, "grace": float}``. The environment
   (API keys and every other secret) travels here, inside the encrypted channel, never on a
   command line.
3. Starts the CLI: ``argv`` in ``cwd``, its environment this process's own (what the login
   gave it) updated with ``env`` and a fresh ``TRIO_CLAUDE_PROCESS_TAG``, in a process group
   of its own, with the parent-death signal. The CLI gets the supervisor's stdin, stdout and
   stderr themselves, the ssh channel: nothing is relayed, so a turn costs no extra copy.
4. Waits for whichever comes first:

   - **the CLI exits** (the normal close: the SDK closed stdin and the CLI finished): every
     process still carrying the tag is killed (the CLI's ``Bash`` tools run in sessions of
     their own), and the supervisor exits with the CLI's status (``128 + n`` for a signal);
   - **the connection is lost**: a SIGTERM (the parent-death signal, or the local ladder's
     TERM reaching us), SIGHUP, SIGINT or SIGPIPE, or an error on stdout (sshd closed its
     end). The CLI's group gets SIGTERM; after ``grace`` seconds its whole tree (descendants
     and every group they are in) gets SIGKILL; then the tag sweep kills what is left.

The tag sweep is the one of ``_sweep.py`` (processes of our uid whose ``/proc/<pid>/environ``
carries the tag, every group they are in and their descendants, a few rounds while it finds
new ones), rewritten here with the standard library only.
"""

from __future__ import annotations

import errno
import json
import os
import select
import signal
import subprocess
import sys
import time

TYPE_CHECKING = False  # not `typing`'s: importing typing costs the remote start 2 ms
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

#: The remote command's program: ``python3 -c BOOTSTRAP``, with ``{size}`` replaced by the length
#: of this file's source, zlib-compressed, which the local side writes first on stdin. The
#: bootstrap reads exactly that many bytes (a buffer of one byte: the raw reads go straight
#: into the result, and nothing after them is read ahead) and runs them as ``__main__``.
BOOTSTRAP = (
    "import io,zlib;exec(zlib.decompress(io.BufferedReader(io.FileIO(0,closefd=False),1)"
    '.read({size})),{{"__name__":"__main__"}})'
)

TAG_VARIABLE = "TRIO_CLAUDE_PROCESS_TAG"
_TAG_PREFIX = TAG_VARIABLE.encode() + b"="
#: The preamble's length line may not be longer than this (digits and the newline).
_MAX_HEADER = 12
#: Nor the preamble itself (a generous bound on an environment).
MAX_PREAMBLE = 16 * 1024 * 1024
_PR_SET_PDEATHSIG = 1
_SWEEP_ROUNDS = 8
#: Exit statuses of the supervisor's own failures (as a shell would report them).
EXIT_NOT_FOUND = 127
EXIT_CANNOT_EXECUTE = 126
EXIT_BAD_PREAMBLE = 2
EXIT_NO_CWD = 1


class PreambleError(Exception):
    """The preamble is missing, cut short or malformed."""


def say(message: str) -> None:
    """One line on stderr, which the SDK keeps in its tail of the CLI's stderr."""
    try:
        os.write(2, ("trio-claude ssh: " + message + "\n").encode("utf-8", "replace"))
    except OSError:
        pass


# ---------------------------------------------------------------------------------- preamble


def read_exact(fd: int, size: int) -> bytes:
    """Exactly ``size`` bytes from ``fd`` (raises :class:`PreambleError` at end of file)."""
    chunks = []
    left = size
    while left > 0:
        chunk = os.read(fd, left)
        if not chunk:
            raise PreambleError("stdin ended inside the preamble")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_preamble(fd: int = 0) -> dict[str, Any]:
    """The preamble (see the module docstring), read from ``fd`` without reading past it."""
    header = b""
    while not header.endswith(b"\n"):
        if len(header) >= _MAX_HEADER:
            raise PreambleError("no length line")
        header += read_exact(fd, 1)
    try:
        size = int(header)
    except ValueError:
        raise PreambleError("no length line") from None
    if not 0 < size <= MAX_PREAMBLE:
        raise PreambleError("bad length " + str(size))
    try:
        preamble = json.loads(read_exact(fd, size).decode("utf-8"))
    except ValueError as exc:
        raise PreambleError("not JSON: " + str(exc)) from None
    if not isinstance(preamble, dict):
        raise PreambleError("not an object")
    argv, env, cwd = preamble.get("argv"), preamble.get("env", {}), preamble.get("cwd")
    if not argv or not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
        raise PreambleError("argv must be a non-empty list of strings")
    if not isinstance(env, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in env.items()
    ):
        raise PreambleError("env must map strings to strings")
    if cwd is not None and not isinstance(cwd, str):
        raise PreambleError("cwd must be a string or null")
    if not isinstance(preamble.get("grace", 1.0), (int, float)):
        raise PreambleError("grace must be a number")
    return preamble


def encode_preamble(
    argv: list[str],
    env: dict[str, str],
    cwd: str | None,
    grace: float,
    *,
    mark_start: bool = False,
) -> bytes:
    """The bytes :func:`read_preamble` reads (used by the local side).

    ``mark_start``: the supervisor writes one newline to stdout before it starts the CLI (the
    SSH transport waits for it, and it ends a line a login shell left open).
    """
    fields = {"argv": argv, "env": env, "cwd": cwd, "grace": grace}
    if mark_start:
        fields["mark_start"] = True
    body = json.dumps(fields, separators=(",", ":")).encode("utf-8")
    return str(len(body)).encode() + b"\n" + body


# ---------------------------------------------------------------------------------- processes


def set_pdeathsig(sig: int) -> bool:
    """Asks for ``sig`` when our parent dies (Linux); whether it could be set."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes  # here: importing it costs the SDK's own import 5 ms

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return False
    return bool(prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0)


def tag_env(env: dict[str, str], tag: str) -> dict[str, str]:
    """``env`` with ``tag`` added to :data:`TAG_VARIABLE` (after any inherited tags)."""
    inherited = env.get(TAG_VARIABLE, "")
    out = dict(env)
    out[TAG_VARIABLE] = inherited + ":" + tag if inherited else tag
    return out


def _pids() -> list[int]:
    try:
        return [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return []


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _environ(pid: int) -> bytes:
    """``_sweep.read_environ`` (this module runs alone on the host): an environment that reads
    empty while the command line does too and the ``exe`` link exists belongs to a process still
    in ``execve``, and is read again, briefly."""
    deadline = time.monotonic() + 0.05
    while True:
        environ = _read(f"/proc/{pid}/environ")
        if environ or time.monotonic() > deadline:
            return environ
        try:
            if _read(f"/proc/{pid}/cmdline"):
                return environ
            os.readlink(f"/proc/{pid}/exe")
        except OSError:
            return environ
        time.sleep(0.002)


def _carries(pid: int, tag: bytes, uid: int) -> bool:
    try:
        if os.stat(f"/proc/{pid}").st_uid != uid:
            return False
        environ = _environ(pid)
    except OSError:
        return False
    for entry in environ.split(b"\0"):
        if entry.startswith(_TAG_PREFIX):
            return tag in entry[len(_TAG_PREFIX) :].split(b":")
    return False


def find_tagged(tag: str, uid: int | None = None) -> list[int]:
    """Live processes of ``uid`` (default: ours) whose environment carries ``tag``."""
    uid = os.geteuid() if uid is None else uid
    needle = tag.encode()
    return [pid for pid in _pids() if _carries(pid, needle, uid)]


def _stats() -> dict[int, tuple[int, int]]:
    """``{pid: (ppid, pgrp)}`` of every process."""
    out = {}
    for pid in _pids():
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
            out[pid] = (int(fields[1]), int(fields[2]))
        except (OSError, IndexError, ValueError):
            continue
    return out


def _tree(seeds: set[int], groups: set[int], stats: dict[int, tuple[int, int]]) -> set[int]:
    """``seeds``, the members of ``groups``, and all their descendants."""
    children: dict[int, list[int]] = {}
    todo = list(seeds)
    for pid, (ppid, pgrp) in stats.items():
        children.setdefault(ppid, []).append(pid)
        if pgrp in groups:
            todo.append(pid)
    members: set[int] = set()
    while todo:
        pid = todo.pop()
        if pid not in members:
            members.add(pid)
            todo.extend(children.get(pid, ()))
    return members


def _kill(kill: Callable[[int, int], None], target: int) -> None:
    try:
        kill(target, signal.SIGKILL)
    except OSError:
        pass


def kill_tree(seeds: set[int], groups: set[int] | None = None) -> set[int]:
    """SIGKILLs ``seeds``, the members of ``groups``, their descendants, and every group those
    are in (with its members). Never this process or its group. Returns the pids signalled.
    """
    ours = {os.getpid(), os.getpgrp(), 0, 1}
    groups = set(groups or ()) - ours
    stats = _stats()
    seeds = {pid for pid in seeds if pid in stats} - ours
    members = _tree(seeds, groups, stats)
    all_groups = ({stats[pid][1] for pid in members if pid in stats} | set(groups)) - ours
    members |= _tree(set(), all_groups, stats)
    members -= ours
    for group in all_groups:
        _kill(os.killpg, group)
    for pid in members:
        _kill(os.kill, pid)
    return members


def sweep(tag: str, uid: int | None = None) -> int:
    """SIGKILLs every process carrying ``tag``, the groups they are in, and their descendants.

    Repeats, a few rounds, while it finds processes not signalled yet (forked meanwhile).
    Returns how many processes were signalled.
    """
    if not os.path.isdir("/proc"):
        return 0
    signalled: set[int] = set()
    for _ in range(_SWEEP_ROUNDS):
        tagged = set(find_tagged(tag, uid)) - {os.getpid()}
        if not tagged or tagged <= signalled:
            break
        signalled |= kill_tree(tagged)
    return len(signalled)


def _child_setup() -> None:
    # In the CLI between fork and exec: die with the supervisor (SIGTERM: the CLI then stops
    # its own tools; the supervisor, if it can still run, sweeps the rest).
    parent = os.getppid()
    set_pdeathsig(signal.SIGTERM)
    if os.getppid() != parent:
        os._exit(1)


def spawn(preamble: dict[str, Any], tag: str) -> subprocess.Popen[bytes]:
    """Starts the CLI the preamble describes on our own stdin, stdout and stderr."""
    env = dict(os.environ)
    env.update(preamble.get("env") or {})
    return subprocess.Popen(
        preamble["argv"],
        env=tag_env(env, tag),
        cwd=preamble.get("cwd"),
        start_new_session=True,
        close_fds=True,
        preexec_fn=_child_setup,
    )


# --------------------------------------------------------------------------------- supervise


def _status(code: int) -> int:
    return 128 - code if code < 0 else code


def stop(proc: subprocess.Popen[bytes], tag: str, grace: float) -> None:
    """The connection is lost: SIGTERM the CLI's group, wait ``grace``, SIGKILL the tree, sweep."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except OSError:
            pass
        deadline = time.monotonic() + grace
        while proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
    if proc.poll() is None:
        # Its descendants before it dies: once it is gone they are reparented and lost (the
        # tag still finds them, unless they dropped it).
        kill_tree({proc.pid}, {proc.pid})
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
    sweep(tag)


class Watch:
    """What ends the supervision: the signals received, and a wakeup for each (and SIGCHLD).

    Installed before the CLI starts, so that no signal is missed (nor kills us by default).
    """

    def __init__(self, out_fd: int = 1) -> None:
        self.received: list[int] = []
        self.lost = False
        self._wake_r, wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(wake_w, False)
        signal.set_wakeup_fd(wake_w)
        signal.signal(signal.SIGCHLD, self._on_child)
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT, signal.SIGPIPE):
            signal.signal(sig, self._on_signal)
        self._poller = select.poll()
        self._poller.register(self._wake_r, select.POLLIN)
        # Events 0: only POLLERR/POLLHUP/POLLNVAL, which report that sshd closed its end.
        self._poller.register(out_fd, 0)

    def _on_signal(self, signum: int, frame: object) -> None:
        self.received.append(signum)

    def _on_child(self, signum: int, frame: object) -> None:
        pass  # a Python handler, so that the wakeup fd hears of it

    @property
    def ended(self) -> bool:
        """Whether the connection is lost (or we were told to stop)."""
        return bool(self.received) or self.lost

    def wait(self, timeout: float = 1.0) -> None:
        """Until a signal arrives or stdout reports an error (at most ``timeout`` seconds)."""
        for fd, events in self._poller.poll(int(timeout * 1000)):
            if fd == self._wake_r:
                try:
                    while os.read(self._wake_r, 512):
                        pass
                except OSError:
                    pass
            elif events & (select.POLLERR | select.POLLHUP | select.POLLNVAL):
                self.lost = True


def supervise(proc: subprocess.Popen[bytes], tag: str, grace: float, watch: Watch) -> int:
    """Waits for the CLI's exit or the connection's loss (see the module docstring).

    Returns:
        The supervisor's exit status: the CLI's, or ``128 + n`` when a signal ``n`` ended it
        or the supervisor.
    """
    while True:
        code = proc.poll()
        if code is not None:
            sweep(tag)
            return _status(code)
        if watch.ended:
            stop(proc, tag, grace)
            return 128 + (watch.received[0] if watch.received else signal.SIGPIPE)
        watch.wait()  # the timeout is a safety net only


def main() -> int:
    """The supervisor (see the module docstring); returns its exit status."""
    parent = os.getppid()
    set_pdeathsig(signal.SIGTERM)
    if os.getppid() != parent:  # sshd died before we asked: nothing would ever tell us
        return 128 + signal.SIGHUP
    try:
        preamble = read_preamble(0)
    except PreambleError as exc:
        say("bad preamble: " + str(exc))
        return EXIT_BAD_PREAMBLE
    cwd = preamble.get("cwd")
    if cwd is not None and not os.path.isdir(cwd):
        say("working directory does not exist: " + cwd)
        return EXIT_NO_CWD
    tag = os.urandom(16).hex()
    watch = Watch()
    if preamble.get("mark_start"):
        # Ends a line the login shell left open on stdout (a printf, a title escape): else
        # the CLI's first line, the initialize answer, was glued to it and lost. The SSH
        # transport reads up to it before the session starts.
        os.write(1, b"\n")
    try:
        proc = spawn(preamble, tag)
    except OSError as exc:
        program, where = preamble["argv"][0], os.uname().nodename
        if exc.errno == errno.ENOENT:
            say(f"{program}: not found on {where}")
            return EXIT_NOT_FOUND
        say(f"cannot run {program} on {where}: {exc}")
        return EXIT_CANNOT_EXECUTE
    # The CLI has stdin now; ours must not keep it open (or read from it).
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    return supervise(proc, tag, float(preamble.get("grace", 1.0)), watch)


if __name__ == "__main__":
    sys.exit(main())
