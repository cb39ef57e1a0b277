"""Spawning, waiting for, and killing the CLI process: the one place a process starts or dies.

We spawn with ``subprocess.Popen`` in a worker thread (as ``trio.lowlevel.open_process`` does:
the ``exec`` and ``chdir`` touch the filesystem, which may be a slow network one), wrap the pipes
in trio streams ourselves and wait for exit with a pidfd (no SIGCHLD games). Spawning on the loop
was measured cheaper in CPU (``benchmarks/profile_variants.py``) and rejected for that reason. A
child that asks for the parent-death signal itself (see below) is spawned from one dedicated
thread that lives as long as the interpreter: Linux delivers ``PR_SET_PDEATHSIG`` when the
*thread* that forked exits, so a worker thread retiring would kill a healthy CLI. Every other
child is spawned from trio's worker threads, several at once in a fan-out.

Every child gets its own process group (``start_new_session``), so stopping the CLI also stops
what stayed in its group. A crashed parent leaves no CLI behind: on Linux the guardian
(``_guardian``, one small process per application) stops every CLI we started once we are gone.
The spawn itself then uses ``vfork``: any ``preexec_fn`` makes ``subprocess`` fork the whole
interpreter, which costs milliseconds per spawn (more the bigger the application) and page
faults afterwards. Resource limits, and a CLI run as another user, still ask for the death
signal per child: ``setpriv --pdeathsig`` (util-linux) in front of the command line when it is
there, else a ``preexec_fn`` (which resource limits need anyway).

The CLI runs its ``Bash`` tools in sessions of their own, outside that group, so every child
also gets a random tag in its environment (``TRIO_CLAUDE_PROCESS_TAG``, see ``_sweep``): once
the CLI is reaped, whatever ended it, every process still carrying the tag is killed, and the
shutdown ladder kills the CLI's whole live tree rather than only its group.
"""

from __future__ import annotations

import concurrent.futures
import ctypes
import errno
import fcntl
import logging
import math
import os
import queue
import select
import signal
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import attrs
import trio

from .._environ import Environment
from .._errors import CLIConnectionError, CLINotFoundError
from .._limits import kill_members, read_all_stats, rlimits_for, scan_tree
from .._loop import virtual_clock_hint
from . import _guardian, _sweep
from ._base import ChildProcess, LaunchSpec, Transport
from ._command import command_too_long

__all__ = [
    "ChildWatch",
    "PipeReader",
    "SubprocessTransport",
    "shutdown_process",
    "write_nowait",
]

logger = logging.getLogger("trio_claude")

T = TypeVar("T")


class _SpawnerThread:
    """One daemon thread that never retires, running spawns one at a time: the parent thread
    of every child that asks for the parent-death signal (it follows the thread that spawned
    it). Not a ``ThreadPoolExecutor``: the interpreter joins those at exit, and a Ctrl-C
    landing in that join printed "Exception ignored" over the user's own traceback."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[
            tuple[concurrent.futures.Future[Any], Callable[..., Any], tuple[Any, ...]]
        ] = queue.SimpleQueue()
        threading.Thread(target=self._work, name="trio-claude-spawner", daemon=True).start()

    def submit(self, fn: Callable[..., T], *args: Any) -> concurrent.futures.Future[T]:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._jobs.put((future, fn, args))
        return future

    def _work(self) -> None:
        while True:
            _run_job(*self._jobs.get())


def _run_job(
    future: concurrent.futures.Future[Any], fn: Callable[..., Any], args: tuple[Any, ...]
) -> None:
    # A function of its own: an idle spawner thread keeps no reference to the last job.
    if not future.set_running_or_notify_cancel():
        return
    try:
        result = fn(*args)
    except BaseException as exc:  # handed to the waiting task, as a pool would
        future.set_exception(exc)
    else:
        future.set_result(result)


_spawner: _SpawnerThread | None = None
_PR_SET_PDEATHSIG = 1
_PIPE_SIZE = 1024 * 1024


def _forget_spawner() -> None:
    # In a forked child the executor's one thread does not exist: a job given to it would wait
    # forever. The child makes its own on first use.
    global _spawner
    _spawner = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_spawner)

_OWN_THREADS: trio.lowlevel.RunVar[trio.CapacityLimiter] = trio.lowlevel.RunVar(
    "trio_claude_threads"
)


def _own_threads() -> trio.CapacityLimiter:
    """The thread limiter of the spawns, reaps and sweeps: not trio's default one.

    These waits are shielded (a spawn or a reap cannot be abandoned half way): waiting for a
    token of the default limiter, which the application's own ``to_thread`` work may hold
    (40 tokens), would make a start or a close hang past every deadline. Each of these calls is
    short, and there are at most a few per session.
    """
    try:
        return _OWN_THREADS.get()
    except LookupError:
        limiter = trio.CapacityLimiter(math.inf)
        _OWN_THREADS.set(limiter)
        return limiter


def _get_spawner() -> _SpawnerThread:
    global _spawner
    if _spawner is None:
        _spawner = _SpawnerThread()
    return _spawner


def _make_preexec(
    parent_pid: int, rlimits: list[tuple[int, tuple[int, int]]] | None = None
) -> Callable[[], None] | None:
    """What the child runs between fork and exec: rlimits, then the parent-death signal."""
    rlimits = rlimits or []
    prctl = None
    if sys.platform.startswith("linux"):
        try:
            prctl = ctypes.CDLL(None, use_errno=True).prctl
        except (OSError, AttributeError):
            prctl = None
    if prctl is None and not rlimits:
        return None
    setrlimit = None
    if rlimits:
        import resource

        setrlimit = resource.setrlimit

    def preexec() -> None:
        if setrlimit is not None:
            for which, values in rlimits:
                setrlimit(which, values)
        if prctl is not None:
            prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
            # The parent may have died between fork and prctl: then nothing would ever signal us.
            if os.getppid() != parent_pid:
                os._exit(1)

    return preexec


_FdStream: Any = getattr(trio.lowlevel, "FdStream", None)


def is_pipe(stream: object) -> bool:
    """Whether ``stream`` is a pipe of ours (what :func:`write_nowait` writes to)."""
    return _FdStream is not None and isinstance(stream, _FdStream)


def write_nowait(stream: object, data: bytes) -> int | None:
    """Writes what a pipe takes of ``data`` right now, from the calling task, without blocking.

    A frame written this way costs no trip through a writer task nor ``send_all``'s checkpoint
    before its write (two passes of the event loop per control round trip). The caller must
    know that nothing else is writing to ``stream`` (no ``send_all`` under way), so frames stay
    whole and in order.

    Returns:
        The number of bytes written (0 when the pipe is full), or ``None`` when ``stream`` is
        not a pipe of ours that is still open (use ``send_all``).

    Raises:
        OSError: The write failed (the reader has gone: ``BrokenPipeError``).
    """
    if _FdStream is None or not isinstance(stream, _FdStream):
        return None
    fd = stream.fileno()  # -1 once the stream is closed
    if fd < 0:
        return None
    try:
        return os.write(fd, data)
    except BlockingIOError:
        return 0


class PipeReader:
    """Reads a stream with one pass of the event loop per read where ``receive_some`` takes two.

    trio's ``FdStream.receive_some`` checkpoints before it reads, so a read that finds data
    waiting (the common case: the reader was woken because the pipe became readable) still
    waits its turn once more. For a pipe of ours this reads first and waits only when the pipe
    is empty; to stay fair under a flood it checkpoints before a read when the read before did
    not wait. Any other stream is read with its own ``receive_some``.

    Only one task may read through it (as for ``receive_some``).

    Args:
        stream: The stream to read.
    """

    def __init__(self, stream: trio.abc.ReceiveStream) -> None:
        self._stream = stream
        self._fd_stream = (
            stream if _FdStream is not None and isinstance(stream, _FdStream) else None
        )
        self._waited = True

    def receive_nowait(self, max_bytes: int) -> bytes | None:
        """What the pipe holds right now (up to ``max_bytes``; ``b""`` at the end), without
        waiting; ``None`` when it is empty, closed, or not a pipe of ours.

        Raises:
            OSError: The read failed.
        """
        stream = self._fd_stream
        if stream is None:
            return None
        fd = stream.fileno()
        if fd < 0:
            return None
        try:
            return os.read(fd, max_bytes)
        except BlockingIOError:
            return None

    async def receive_some(self, max_bytes: int) -> bytes:
        """Up to ``max_bytes`` bytes; ``b""`` at the end.

        Raises:
            trio.ClosedResourceError: The stream was closed (also while waiting).
            OSError: The read failed.
        """
        stream = self._fd_stream
        if stream is None:
            return bytes(await self._stream.receive_some(max_bytes))
        if not self._waited:
            await trio.lowlevel.checkpoint()
        self._waited = False
        while True:
            fd = stream.fileno()  # -1 once closed
            if fd < 0:
                raise trio.ClosedResourceError("the stream was closed")
            try:
                return os.read(fd, max_bytes)
            except BlockingIOError:
                pass
            # Waited for outside the except block: inside it, the exception and its traceback
            # (and the frames it holds) would stay alive for as long as the pipe is idle.
            self._waited = True
            await trio.lowlevel.wait_readable(fd)


class ChildWatch:
    """stdout, stderr and the exit of a local child, watched through one epoll fd of their own.

    One task can then wait for all three where each would otherwise need a task of its own (a
    task, its coroutine and its cancel status are work for the event loop and for every garbage
    collection, per session). Linux only: :meth:`of` gives ``None`` elsewhere, and for any
    process that is not a local child of ours with a pidfd.

    Level-triggered: a pipe that still holds data after a read is reported again. A pipe at its
    end, and the exit once seen, must be :meth:`unwatch`-ed (they stay ready forever). The exit
    is watched through a duplicate of the process's pidfd: reaping closes the process's own,
    which would silently leave the set. The pipes are never closed while watched: the session
    closes them after the watching task is done (a closed fd leaves the set silently, and its
    number may be reused by another session's pipe).
    """

    OUT = 1
    ERR = 2
    EXIT = 4

    def __init__(self, proc: _Process, pidfd: int) -> None:
        self.proc = proc
        # _Process made them: pipes of ours (FdStream), stderr included.
        self._out: trio.lowlevel.FdStream = proc.stdout  # type: ignore[assignment]
        self._err: trio.lowlevel.FdStream = proc.stderr  # type: ignore[assignment]
        self._epoll = select.epoll(3)  # close-on-exec, as every fd Python makes
        try:
            self._pidfd = os.dup(pidfd)
        except BaseException:
            self._epoll.close()
            raise
        self._fds: dict[int, int] = {}  # fd -> which, for what is watched
        self.watching = 0
        try:
            self.watch(self.OUT)
            self.watch(self.ERR)
            self.watch(self.EXIT)
        except BaseException:
            self.close()
            raise

    @classmethod
    def of(cls, proc: ChildProcess) -> ChildWatch | None:
        """A watch of ``proc``, or ``None`` when it cannot be watched this way."""
        if not _EPOLL or type(proc) is not _Process:
            return None
        pidfd = proc._pidfd
        if pidfd is None or proc.returncode is not None:
            return None
        try:
            return cls(proc, pidfd)
        except OSError as exc:
            # Out of fds (or epoll's memory) right after the spawn: the three tasks need none.
            logger.debug("watching pid %s with one task failed (%r): three tasks", proc.pid, exc)
            return None

    def _fd(self, which: int) -> int:
        # fileno() is -1 once a pipe is closed: never a number another file may have taken.
        if which == self.OUT:
            return self._out.fileno()
        if which == self.ERR:
            return self._err.fileno()
        return self._pidfd

    def watch(self, which: int) -> None:
        """Adds ``which`` (:attr:`OUT`, :attr:`ERR` or :attr:`EXIT`) to the set."""
        if self.watching & which:
            return
        fd = self._fd(which)
        if fd < 0:
            return  # closed: there is nothing left to watch
        self._epoll.register(fd, select.EPOLLIN)
        self._fds[fd] = which
        self.watching |= which

    def unwatch(self, which: int) -> None:
        """Takes ``which`` out of the set."""
        if not self.watching & which:
            return
        self.watching &= ~which
        for fd, what in self._fds.items():
            if what == which:
                del self._fds[fd]
                try:
                    self._epoll.unregister(fd)
                except OSError:
                    pass
                return

    async def wait(self) -> int:
        """Waits until something watched is ready; which of them (a bit set).

        A checkpoint whatever is ready, once per call (the fairness a reader of a flooding pipe
        owes the other tasks). Waits forever when nothing is watched: cancel it.
        """
        fd = self._epoll.fileno()
        while True:
            await trio.lowlevel.wait_readable(fd)
            ready = 0
            fds = self._fds
            for fd_ready, _ in self._epoll.poll(0):
                ready |= fds.get(fd_ready, 0)
            if ready:
                return ready

    def read(self, which: int, max_bytes: int) -> bytes | None:
        """What the pipe ``which`` holds (``b""`` at its end), without waiting; ``None`` when it
        is empty.

        Raises:
            OSError: The read failed.
        """
        fd = self._fd(which)
        if fd < 0:
            return b""  # closed under us: its end, as far as we are concerned
        try:
            return os.read(fd, max_bytes)
        except BlockingIOError:
            return None

    def close(self) -> None:
        """Closes the set and the pidfd duplicate (not the pipes)."""
        self._fds.clear()
        self.watching = 0
        if not self._epoll.closed:
            self._epoll.close()
            os.close(self._pidfd)

    def close_pipes(self) -> None:
        """Closes the process's stdout and stderr (once nothing watches them)."""
        self._out.close()
        self._err.close()


_EPOLL = hasattr(select, "epoll")


def _grow_pipe(fd: int) -> None:
    # A bigger stdout pipe means fewer wakeups per megabyte; best effort, Linux only.
    setsz = getattr(fcntl, "F_SETPIPE_SZ", None)
    if setsz is None:
        return
    try:
        fcntl.fcntl(fd, setsz, _PIPE_SIZE)
    except OSError:
        pass


class _Process(ChildProcess):
    def __init__(
        self,
        popen: subprocess.Popen[bytes],
        stdin: int,
        stdout: int,
        stderr: int,
        *,
        tag: str | None = None,
        uids: frozenset[int] = frozenset(),
    ) -> None:
        self._popen = popen
        self.pid = popen.pid
        #: The ``TRIO_CLAUDE_PROCESS_TAG`` this process and what it starts carry (``None``: none).
        self.tag = tag
        #: The user ids whose processes the sweep reads (ours, and the child's).
        self._uids = uids
        self._swept = False
        self.stdin = trio.lowlevel.FdStream(stdin)
        self.stdout = trio.lowlevel.FdStream(stdout)
        self.stderr = trio.lowlevel.FdStream(stderr)
        self._pidfd: int | None = None
        self._wait_lock = trio.Lock()
        if hasattr(os, "pidfd_open"):
            try:
                self._pidfd = os.pidfd_open(popen.pid)
            except OSError:
                self._pidfd = None

    @property
    def returncode(self) -> int | None:
        return self._popen.returncode

    async def wait(self) -> int:
        # Several tasks may wait (the reader at EOF, teardown); one pidfd takes one waiter.
        async with self._wait_lock:
            return await self._wait_locked()

    async def _wait_locked(self) -> int:
        if self._popen.returncode is None:
            if self._pidfd is not None:
                await trio.lowlevel.wait_readable(self._pidfd)
            else:
                await trio.to_thread.run_sync(
                    self._wait_blocking, abandon_on_cancel=True, limiter=_own_threads()
                )
            # Still a zombie (unless reaped by the thread above): its pid cannot have been
            # reused by a CLI counted as watched meanwhile.
            _guardian.forget(self._popen.pid)
            if self._popen.returncode is None:
                # The leader has exited but is not reaped yet, so its pid (= the group id)
                # cannot have been reused: stop whatever it left running in its group, then reap.
                self._signal_group(signal.SIGKILL)
            self._popen.wait()
            self._close_pidfd()
        if not self._swept:
            # Reaped, whatever ended it: kill what it left behind outside its group (its tools).
            # Once, shielded (a cancelled waiter must not skip it): a scan takes milliseconds.
            with trio.CancelScope(shield=True):
                await self._sweep()
            self._swept = True
        return self._popen.returncode

    async def _sweep(self) -> None:
        if self.tag is None or not _sweep.supported():
            return
        try:
            count = await _sweeper().sweep(self.tag, self._uids)
        except Exception:
            logger.exception("could not look for processes left by the CLI (pid %s)", self.pid)
            return
        if count:
            logger.info("killed %d process(es) left running by the CLI (pid %s)", count, self.pid)

    async def kill_tree(self) -> None:
        """SIGKILLs the process, its descendants, and every process group they are in.

        The descendants must be found before the kill: once it is dead they are reparented and
        the tree is lost (the tag still finds them, unless they dropped it).
        """
        root = self._popen.pid
        sample = None
        if self._popen.returncode is None and _sweep.supported():
            with trio.CancelScope(shield=True):
                stats = await trio.to_thread.run_sync(read_all_stats, limiter=_own_threads())
            sample = scan_tree(root, (), stats)
        self.kill()  # refuses once reaped, when the pid may be someone else's
        if sample is not None:
            kill_members(sample, spare=(root,))

    def kill_now(self, reap_timeout: float = 1.0) -> int | None:
        """The synchronous last resort, for code that cannot await (a finaliser).

        SIGKILLs the tree as :meth:`kill_tree` does, reaps (blocking at most ``reap_timeout``
        seconds; a killed process is normally reaped within milliseconds) and sweeps what carries
        the tag. Used by ``query()``'s iterator when it is dropped without ``aclose()``.

        Returns:
            The exit status, or ``None`` if the process was not reaped in time.
        """
        popen = self._popen
        sample = None
        if popen.returncode is None and _sweep.supported():
            sample = scan_tree(popen.pid, (), read_all_stats())
        self.kill()
        if sample is not None:
            kill_members(sample, spare=(popen.pid,))
        if popen.returncode is None:
            _guardian.forget(popen.pid)  # SIGKILLed and not reaped yet: its pid is still its own
        try:
            popen.wait(timeout=reap_timeout)
        except subprocess.TimeoutExpired:
            return None
        if self._pidfd is not None:
            try:
                trio.lowlevel.notify_closing(self._pidfd)
            except RuntimeError:  # not on a trio thread: nothing can be waiting on it
                pass
            os.close(self._pidfd)
            self._pidfd = None
        if not self._swept and self.tag is not None and _sweep.supported():
            self._swept = True
            _sweep.sweep(self.tag, self._uids)
        for stream in (self.stdin, self.stdout, self.stderr):
            if isinstance(stream, trio.lowlevel.FdStream):
                try:
                    stream.close()
                except RuntimeError:  # not on a trio thread: closed when collected
                    pass
        return popen.returncode

    def _wait_blocking(self) -> None:
        self._popen.wait()

    def _close_pidfd(self) -> None:
        if self._pidfd is not None:
            trio.lowlevel.notify_closing(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = None

    def _signal_group(self, sig: int) -> None:
        if self._popen.returncode is not None:
            return  # reaped: the pid may belong to someone else now
        try:
            os.killpg(self._popen.pid, sig)
        except ProcessLookupError:
            pass
        except PermissionError:
            try:
                self._popen.send_signal(sig)
            except ProcessLookupError:
                pass

    def terminate(self) -> None:
        self._signal_group(signal.SIGTERM)

    def kill(self) -> None:
        self._signal_group(signal.SIGKILL)


class _Sweeper:
    """The sweeps of CLIs reaped at about the same time, done in one scan of ``/proc``.

    Sessions of a fan-out end together; a scan per CLI (each reading every process's
    environment, while the other CLIs still run) was most of the time to the last result. A
    sweep asked for while another runs waits for it, then the next scan takes every tag that
    arrived meanwhile. One per trio run (a ``RunVar``): the blocking API runs several.
    """

    def __init__(self) -> None:
        self._pending: dict[str, frozenset[int]] = {}
        self._done: dict[str, int] = {}
        self._lock = trio.Lock()

    async def sweep(self, tag: str, uids: frozenset[int]) -> int:
        """Sweeps ``tag`` (with whatever else is pending); the number of processes signalled."""
        self._pending[tag] = uids
        async with self._lock:
            if tag not in self._done:
                batch, self._pending = self._pending, {}
                try:
                    swept = await trio.to_thread.run_sync(
                        _sweep.sweep_many, batch, limiter=_own_threads()
                    )
                    self._done.update(swept)
                except BaseException:
                    # The others of this batch sweep again when their turn comes.
                    for other, other_uids in batch.items():
                        if other != tag and other not in self._done:
                            self._pending.setdefault(other, other_uids)
                    raise
            return self._done.pop(tag)


_SWEEPER: trio.lowlevel.RunVar[_Sweeper] = trio.lowlevel.RunVar("trio_claude_sweeper")


def _sweeper() -> _Sweeper:
    try:
        return _SWEEPER.get()
    except LookupError:
        sweeper = _Sweeper()
        _SWEEPER.set(sweeper)
        return sweeper


def _sweep_uids(pid: int, user: str | int | None) -> frozenset[int]:
    """The user ids whose processes a sweep reads: ours, and the child's if it runs as another."""
    uids = {os.geteuid()} if hasattr(os, "geteuid") else set()
    if user is not None:
        try:
            uids.add(os.stat(f"/proc/{pid}").st_uid)  # it has exec'd: this is its final uid
        except OSError:
            pass
    return frozenset(uids)


_SETPRIV_UNKNOWN = "?"
_setpriv: str | None = _SETPRIV_UNKNOWN


def _setpriv_path() -> str | None:
    """``setpriv`` if it can set the parent-death signal (Linux; looked up once, off the loop)."""
    global _setpriv
    if _setpriv == _SETPRIV_UNKNOWN:
        found = None
        if sys.platform.startswith("linux"):
            for candidate in ("/usr/bin/setpriv", "/bin/setpriv"):
                if os.access(candidate, os.X_OK):
                    found = candidate
                    break
        _setpriv = found
    return _setpriv


def _command(
    spec: LaunchSpec, parent_pid: int
) -> tuple[list[str], Callable[[], None] | None, bool]:
    """The command line, the ``preexec_fn`` (``None`` when ``vfork`` can be used), and whether
    the guardian stands in for the parent-death signal (it then counts the pid as watched)."""
    argv = list(spec.argv)
    rlimits = rlimits_for(spec.resource_limits)
    if not rlimits and spec.user is None and _guardian.supported() and _guardian.ensure():
        return argv, None, True
    # Another user's process cannot be signalled by our guardian: that child asks for the
    # signal itself.
    setpriv = _setpriv_path()
    if rlimits or setpriv is None:
        return argv, _make_preexec(parent_pid, rlimits), False
    # If this process died between the spawn and setpriv's prctl, the CLI would read EOF on its
    # stdin (our end of the pipe closes with us) and exit on its own.
    return [setpriv, "--pdeathsig", "TERM", "--", *argv], None, False


_Pipes = tuple[int, int, int, int, int, int]


def _pipes() -> _Pipes:
    """The child's stdin, stdout and stderr pipes: ``(in_r, in_w, out_r, out_w, err_r, err_w)``.

    Syscalls that never touch the filesystem: cheap on the event loop, where a worker thread
    would wait for the GIL after each of them while a fan-out's other spawns hold it.
    """
    fds: list[int] = []
    try:
        for _ in range(3):
            fds.extend(os.pipe())
    except BaseException:
        _close_all(fds)
        raise
    _grow_pipe(fds[3])
    return fds[0], fds[1], fds[2], fds[3], fds[4], fds[5]


def _close_all(fds: Iterable[int]) -> None:
    for fd in fds:
        os.close(fd)


def _popen(
    spec: LaunchSpec, argv: list[str], preexec: Callable[[], None] | None, fds: _Pipes
) -> subprocess.Popen[bytes]:
    """Starts the child on the pipes (the part that may wait on the filesystem: off the loop)."""
    in_r, _, _, out_w, _, err_w = fds
    return subprocess.Popen(
        argv,
        stdin=in_r,
        stdout=out_w,
        stderr=err_w,
        cwd=spec.cwd,
        env=Environment(spec.env),
        user=spec.user,
        start_new_session=True,
        close_fds=True,
        preexec_fn=preexec,
    )


def _adopt(
    popen: subprocess.Popen[bytes], fds: _Pipes, guarded: bool, tag: str
) -> tuple[subprocess.Popen[bytes], int, int, int]:
    """After the spawn: our ends of the pipes, the child's closed, the CLI counted as watched."""
    in_r, in_w, out_r, out_w, err_r, err_w = fds
    _close_all((in_r, out_w, err_w))
    if guarded and not _guardian.announce(popen.pid, tag):
        # Gone (killed by someone): its replacement, at the next spawn, watches this CLI too.
        # Until then it still stops when its stdin closes, but not if this process dies.
        logger.warning(
            "the guardian process is gone: pid %s is not stopped if this process dies until a"
            " new guardian starts (at the next spawn)",
            popen.pid,
        )
    return popen, in_w, out_r, err_r


def _spawn(
    spec: LaunchSpec, parent_pid: int, tag: str
) -> tuple[subprocess.Popen[bytes], int, int, int]:
    """The whole spawn, in one thread (the spawner's, when the child asks for the parent-death
    signal itself: the signal follows the thread that spawned it)."""
    argv, preexec, guarded = _command(spec, parent_pid)
    fds = _pipes()
    try:
        popen = _popen(spec, argv, preexec, fds)
    except BaseException:
        _close_all(fds)
        raise
    return _adopt(popen, fds, guarded, tag)


@trio.lowlevel.enable_ki_protection
async def _spawn_async(spec: LaunchSpec, tag: str) -> tuple[subprocess.Popen[bytes], int, int, int]:
    """Spawns in a worker thread when the guardian stands in for the parent-death signal, else
    on the dedicated spawner thread. A spawn cannot be abandoned half way: the wait for the
    thread is shielded (a cancelled caller cleans up after it), and a ``KeyboardInterrupt`` is
    held until the caller's next checkpoint (landing between the pipes and the adoption,
    it would leave a CLI that nothing wraps, watches or stops)."""
    if spec.user is None and not spec.resource_limits and _guardian.ready():
        # No parent-death signal tied to the spawning thread: any worker thread will do, and a
        # fan-out's spawns do not queue behind one another. Only Popen goes there: the exec
        # and the chdir touch the filesystem (the same reason discovery's stat runs in a
        # thread), and a slow network filesystem would hold every session, not only this open.
        # The pipes are made here (no filesystem): in a thread, each
        # of their syscalls would wait for the GIL again behind the other spawns.
        fds = _pipes()
        try:
            with trio.CancelScope(shield=True):
                popen = await trio.to_thread.run_sync(
                    _popen, spec, list(spec.argv), None, fds, limiter=_own_threads()
                )
        except BaseException:
            _close_all(fds)
            raise
        return _adopt(popen, fds, True, tag)
    future = _get_spawner().submit(_spawn, spec, os.getpid(), tag)
    token = trio.lowlevel.current_trio_token()
    done = trio.Event()
    future.add_done_callback(lambda _: token.run_sync_soon(done.set))
    with trio.CancelScope(shield=True):
        await done.wait()
    return future.result()


class SubprocessTransport(Transport):
    """Runs the CLI as a local child process (the default transport).

    It enforces ``resource_limits`` (:attr:`Transport.supports_resource_limits`): the rlimits
    are set in the child before ``exec``, and the child leads its own process group.
    """

    supports_resource_limits = True

    # Protected from KeyboardInterrupt up to the checkpoint after the wrapping (see _spawn_async).
    @trio.lowlevel.enable_ki_protection
    async def start(self, spec: LaunchSpec, nursery: trio.Nursery) -> ChildProcess:
        """Spawns ``spec.argv``; see :meth:`Transport.start`.

        The child's environment also gets a fresh tag in ``TRIO_CLAUDE_PROCESS_TAG`` (after any
        inherited one), which everything it starts inherits: once the child is reaped, every
        process still carrying the tag is killed (Linux; see ``docs/transports.md``).
        """
        tag = _sweep.new_tag(_guardian.family() if _guardian.supported() else None)
        spec = attrs.evolve(spec, env=_sweep.tag_env(spec.env, tag))
        try:
            popen, stdin, stdout, stderr = await _spawn_async(spec, tag)
        except (OSError, subprocess.SubprocessError) as exc:
            # Its frames are subprocess's, whose locals hold the environment (as bytes): a
            # traceback that shows locals would print every credential in it.
            traceback.clear_frames(exc.__traceback__)
            raise _spawn_error(spec, exc) from exc
        uids = _sweep_uids(popen.pid, spec.user)
        proc = _Process(popen, stdin, stdout, stderr, tag=tag, uids=uids)
        try:
            await trio.lowlevel.checkpoint_if_cancelled()
        except BaseException:
            with trio.CancelScope(shield=True):
                await shutdown_process(proc, close_timeout=0)
            raise
        return proc


def _spawn_error(spec: LaunchSpec, exc: OSError | subprocess.SubprocessError) -> Exception:
    """The typed error for a spawn that failed with ``exc``."""
    if isinstance(exc, FileNotFoundError):
        if spec.cwd and not os.path.isdir(spec.cwd):
            # Popen's chdir and exec both say ENOENT: the working directory is the one that is
            # missing here, not the CLI.
            return CLIConnectionError(f"working directory does not exist: {spec.cwd} (options.cwd)")
        return CLINotFoundError(f"Claude Code not found at: {spec.argv[0]}", spec.argv[0])
    if isinstance(exc, PermissionError):
        return CLIConnectionError(f"cannot execute {spec.argv[0]}: {exc}")
    if isinstance(exc, OSError) and exc.errno == errno.E2BIG:
        return command_too_long(spec.argv, spec.env)
    # A SubprocessError: preexec_fn failed in the child (an rlimit the kernel refused, say).
    return CLIConnectionError(f"failed to start {spec.argv[0]}: {exc}")


async def _close_quietly(stream: trio.abc.AsyncResource | None) -> None:
    if stream is None:
        return
    try:
        await stream.aclose()
    except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
        pass


async def shutdown_process(
    proc: ChildProcess,
    *,
    close_timeout: float,
    term_timeout: float = 1.0,
    close_output: bool = True,
) -> int | None:
    """Stops the CLI for good: close stdin, wait, SIGTERM, wait, SIGKILL, reap.

    The SIGKILL goes to the whole tree (for a :class:`SubprocessTransport` process): the CLI,
    its descendants, and every process group they are in, since the CLI runs its tools in
    sessions of their own. Reaping then kills whatever still carries the CLI's tag.

    Shielded and bounded: it returns within about ``close_timeout + term_timeout + 5`` seconds
    whatever the process does, and cancellation of the caller cannot interrupt it half way.

    Args:
        proc: The process.
        close_timeout: How long a clean exit after stdin closes may take.
        term_timeout: How long to wait after SIGTERM before SIGKILL.
        close_output: Whether to close stdout and stderr once it is reaped (``False`` when
            a :class:`ChildWatch` watches them: its task closes them when it is done).

    Returns:
        The exit status, or ``None`` if even SIGKILL did not let us reap it in time.
    """
    code: int | None = None
    with trio.CancelScope(shield=True):
        await _close_quietly(proc.stdin)
        code = await _wait_at_most(proc, close_timeout)
        if code is None:
            proc.terminate()
            code = await _wait_at_most(proc, term_timeout)
        if code is None:
            # Its tools run outside its group: kill them with it while the tree is still known.
            if isinstance(proc, _Process):
                await proc.kill_tree()
            else:
                proc.kill()
            code = await _wait_at_most(proc, 5.0)
        if code is None:
            logger.error(
                "claude process %s could not be reaped after SIGKILL%s",
                proc.pid,
                virtual_clock_hint(),
            )
        if close_output:
            await _close_quietly(proc.stdout)
            await _close_quietly(proc.stderr)
    return code


async def _wait_at_most(proc: ChildProcess, timeout: float) -> int | None:
    with trio.move_on_after(timeout):
        return await proc.wait()
    return None
