"""The remote half of :class:`~trio_claude.RayTransport`: a Ray actor that owns the CLI on its node.

This module runs inside a Ray worker process on the node Ray chose, but it is not imported
there: ``RayTransport`` registers it (and ``_ssh_remote``, whose sweep it uses) with Ray's
cloudpickle *by value*, so the node needs Python and Ray, not trio-claude. It uses the standard
library only. Locally it is an ordinary module, tested as one (``tests/unit/test_ray_relay.py``).

:class:`Relay` (wrapped by ``ray.remote`` with ``max_concurrency`` > 1: its methods run in the
actor's threads) does three things:

1. **Starts the supervisor** of ``_ssh_remote.py`` on its node, exactly as the SSH transport's
   bootstrap does (``python -c BOOTSTRAP``, the compressed supervisor then the JSON preamble on
   its stdin), from one long-lived thread of its own: the supervisor asks for the parent-death
   signal, which Linux sends when the *thread* that forked it exits. The supervisor starts the
   CLI in a process group of its own with a fresh ``TRIO_CLAUDE_PROCESS_TAG`` and hands it its
   stdin, stdout and stderr: the pipes of this actor.
2. **Relays bytes in batches**: a thread per output pipe reads the CLI's stdout and stderr into
   buffers (at most ``high_water`` bytes each: past that the thread stops reading, the pipe
   fills and the CLI blocks, so backpressure reaches it); :meth:`Relay.poll` is a long poll that
   returns everything buffered (up to ``max_bytes``) as soon as there is something, or after
   ``wait`` seconds with nothing. Offsets make it idempotent: a poll acknowledges what the
   caller received, and the buffers keep every byte until then, so a poll whose answer was lost
   is simply asked again. :meth:`Relay.write` is idempotent the same way.
3. **Can be reused**: once the CLI has exited (and the supervisor swept its tag),
   :meth:`Relay.reset` makes the actor ready for another :meth:`Relay.start`, so that
   ``RayTransport`` can keep it (and the resources it holds) for the next session instead of
   starting a new worker. Each start is an *epoch*: calls carrying another epoch's number (a
   late call of an earlier session) change nothing.
4. **Leaves nothing behind**: when the actor's worker dies (the caller's ``ray.kill``, its
   raylet's death, the owner's death), the supervisor's parent-death signal makes it stop the
   CLI, kill its whole tree and sweep its tag (its ``Bash`` tools); :meth:`Relay.signal` with
   SIGKILL and :meth:`Relay.shutdown` do the same from here without waiting.
"""

from __future__ import annotations

import concurrent.futures
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

from ._ssh_remote import _stats, kill_tree, sweep

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: Bytes of one pipe the relay buffers before it stops reading it (the CLI then blocks).
HIGH_WATER = 4 * 1024 * 1024
_READ_SIZE = 256 * 1024
_TAG_PREFIX = b"TRIO_CLAUDE_PROCESS_TAG="


class _Output:
    """One output pipe of the supervisor: a reader thread fills :attr:`buf`, polls take it.

    :attr:`base` is the absolute offset of ``buf[0]`` in the stream: bytes before it were
    acknowledged by the caller and dropped.
    """

    def __init__(self, fd: int, cond: threading.Condition, high_water: int) -> None:
        self.fd = fd
        self.buf = bytearray()
        self.base = 0
        self.eof = False
        self.closed = False
        self._cond = cond
        self._high_water = high_water

    def run(self) -> None:
        cond = self._cond
        while True:
            with cond:
                while len(self.buf) >= self._high_water and not self.closed:
                    cond.wait()
                if self.closed:
                    return
            try:
                chunk = os.read(self.fd, _READ_SIZE)
            except OSError:
                chunk = b""
            with cond:
                if chunk:
                    self.buf += chunk
                else:
                    self.eof = True
                cond.notify_all()
            if not chunk:
                try:
                    os.close(self.fd)
                except OSError:
                    pass
                return

    def ack(self, offset: int) -> None:
        """Drops the bytes before ``offset`` (the caller has them). Under the condition."""
        drop = min(offset - self.base, len(self.buf))
        if drop > 0:
            del self.buf[:drop]
            self.base += drop
            self._cond.notify_all()  # room for the reader

    @property
    def ended(self) -> bool:
        """Whether the pipe hit EOF and the caller has everything."""
        return self.eof and not self.buf


def _tags_of(pid: int) -> list[str]:
    """The ``TRIO_CLAUDE_PROCESS_TAG`` values in ``pid``'s environment."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            environ = f.read()
    except OSError:
        return []
    for entry in environ.split(b"\0"):
        if entry.startswith(_TAG_PREFIX):
            return [t.decode() for t in entry[len(_TAG_PREFIX) :].split(b":") if t]
    return []


def _children(pid: int) -> list[int]:
    return [child for child, (ppid, _) in _stats().items() if ppid == pid]


def _where() -> dict[str, Any]:
    """This node: Ray's node id and address, the actor's id (when run by Ray), the host name."""
    info: dict[str, Any] = {
        "hostname": socket.gethostname(),
        "node_id": None,
        "node_ip": None,
        "actor_id": None,
    }
    ray = sys.modules.get("ray")  # not imported here: outside a Ray worker (tests) it is not
    if ray is not None and ray.is_initialized():
        try:
            context = ray.get_runtime_context()
            info["node_id"] = context.get_node_id()
            info["node_ip"] = ray.util.get_node_ip_address()
            info["actor_id"] = context.get_actor_id()
        except Exception:  # an older Ray
            pass
    return info


class Relay:
    """The actor (see the module docstring). One session at a time: started, then reset.

    Args:
        high_water: Bytes of stdout (and of stderr) buffered before the pipe is left unread.
    """

    def __init__(self, high_water: int = HIGH_WATER) -> None:
        self._cond = threading.Condition()
        self._high_water = high_water
        # PR_SET_PDEATHSIG fires when the forking *thread* exits: fork from one that never does.
        self._spawner = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="trio-claude-relay-spawner"
        )
        self._proc: subprocess.Popen[bytes] | None = None
        self._stdin: int | None = None
        self._stdin_lock = threading.Lock()
        self._written = 0
        self._out: _Output | None = None
        self._err: _Output | None = None
        self._code: int | None = None
        self._tags: set[str] = set()
        self._made_dirs: list[str] = []
        #: Starts so far: the current session's number (calls of another one are stale).
        self._epoch = 0

    def _stale(self, epoch: int | None) -> bool:
        return epoch is not None and epoch != self._epoch

    # ------------------------------------------------------------------------------ start

    def start(self, launch: dict[str, Any]) -> dict[str, Any]:
        """Starts the supervisor and hands it the CLI's launch.

        ``launch``: ``supervisor`` (the compressed source of ``_ssh_remote.py``), ``bootstrap``
        (the ``python -c`` program that runs it), ``python`` (the interpreter, ``None``: this
        one), ``preamble`` (the supervisor's JSON launch: argv, env, cwd, grace) and ``files``
        (``None``, or ``{"root": dir, "files": {relative path: bytes}}``: a directory to write
        on this node first, unless it exists here already; removed when the CLI is gone).

        Returns:
            ``pid`` (the supervisor's), ``node_id``, ``node_ip``, ``hostname``, ``actor_id``
            and ``epoch`` (this start's number: 1, then 2 after a :meth:`reset`...).
        """
        if self._proc is not None:
            raise RuntimeError("this relay has started its CLI already")
        self._epoch += 1
        files = launch.get("files")
        if files:
            self._materialize(files["root"], files["files"])
        python = launch.get("python") or sys.executable
        argv = [python, "-c", launch["bootstrap"]]
        proc = self._spawner.submit(
            subprocess.Popen,
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            bufsize=0,
            close_fds=True,
            start_new_session=True,
        ).result()
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        self._proc = proc
        self._stdin = os.dup(proc.stdin.fileno())
        proc.stdin.close()
        self._out = _Output(os.dup(proc.stdout.fileno()), self._cond, self._high_water)
        self._err = _Output(os.dup(proc.stderr.fileno()), self._cond, self._high_water)
        proc.stdout.close()
        proc.stderr.close()
        for target, name in (
            (self._out.run, "stdout"),
            (self._err.run, "stderr"),
            (self._wait, "wait"),
        ):
            threading.Thread(target=target, name=f"trio-claude-relay-{name}", daemon=True).start()
        # The supervisor reads exactly this, then the CLI reads on from the same pipe.
        self._write_all(launch["supervisor"] + launch["preamble"])
        self._written = 0  # the offsets of write() count the CLI's input only
        return {"pid": proc.pid, "epoch": self._epoch, **_where()}

    def _materialize(self, root: str, files: dict[str, bytes]) -> None:
        if os.path.exists(root):
            return  # a filesystem shared with the caller: it is there already
        os.makedirs(root, mode=0o700)
        self._made_dirs.append(root)
        for relative, data in files.items():
            parts = [p for p in relative.split("/") if p not in ("", ".", "..")]
            if not parts:
                continue
            path = os.path.join(root, *parts)
            os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)

    def _wait(self) -> None:
        proc = self._proc
        assert proc is not None
        # The CLI's tag, read while it runs (a SIGKILL from here sweeps it).
        deadline = time.monotonic() + 5
        while proc.poll() is None and not self._tags and time.monotonic() < deadline:
            for child in _children(proc.pid):
                self._tags.update(_tags_of(child))
            if not self._tags:
                time.sleep(0.01)
        code = proc.wait()
        self._remove_dirs()
        with self._cond:
            self._code = code
            self._cond.notify_all()

    def _remove_dirs(self) -> None:
        while self._made_dirs:
            shutil.rmtree(self._made_dirs.pop(), ignore_errors=True)

    # ------------------------------------------------------------------------------ bytes

    def poll(
        self,
        out_ack: int,
        err_ack: int,
        max_bytes: int,
        wait: float,
        known: tuple[bool, bool, bool] = (False, False, False),
        epoch: int | None = None,
    ) -> tuple[int, bytes, bool, int, bytes, bool, int | None]:
        """What the CLI wrote since the caller's acknowledgements, as soon as there is any.

        Args:
            out_ack: Bytes of stdout the caller has (they are dropped here).
            err_ack: Bytes of stderr the caller has.
            max_bytes: At most this much of each stream in one answer.
            wait: Seconds to wait for something new.
            known: What the caller already knows has ended: stdout, stderr, the process.
            epoch: The caller's session (see :meth:`start`); ``None``: whichever runs.

        Returns:
            ``(out_offset, out, out_ended, err_offset, err, err_ended, exit_status)``: the bytes
            from each offset, whether each stream has ended (EOF, nothing left after these
            bytes), and the supervisor's exit status (``None``: running).
        """
        if self._stale(epoch):
            raise RuntimeError(f"session {epoch} of this relay is over")
        out, err = self._out, self._err
        assert out is not None and err is not None
        deadline = time.monotonic() + max(0.0, wait)
        with self._cond:
            out.ack(out_ack)
            err.ack(err_ack)
            while True:
                news = (
                    out.buf
                    or err.buf
                    or (out.eof and not known[0])
                    or (err.eof and not known[1])
                    or (self._code is not None and not known[2])
                )
                left = deadline - time.monotonic()
                if news or left <= 0:
                    break
                self._cond.wait(left)
            out_data = bytes(out.buf[:max_bytes])
            err_data = bytes(err.buf[:max_bytes])
            return (
                out.base,
                out_data,
                out.eof and len(out_data) == len(out.buf),
                err.base,
                err_data,
                err.eof and len(err_data) == len(err.buf),
                self._code,
            )

    def write(self, offset: int, data: bytes, epoch: int | None = None) -> int:
        """Writes ``data``, the CLI's input from byte ``offset`` on; skips what was written.

        Returns:
            The bytes written so far in all, or ``-1`` if stdin is closed or broken (or
            ``epoch`` is not the current session's).
        """
        with self._stdin_lock:
            if self._stale(epoch):
                return -1
            skip = self._written - offset
            if skip < 0:
                raise ValueError(f"a gap in the input: {offset} > {self._written}")
            if skip < len(data):
                try:
                    self._write_all(data[skip:])
                except OSError:
                    return -1
            return self._written

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            if self._stdin is None:
                raise BrokenPipeError("stdin is closed")
            n = os.write(self._stdin, view)
            self._written += n
            view = view[n:]

    def close_stdin(self, epoch: int | None = None) -> None:
        """Closes the CLI's stdin (it then finishes and exits on its own)."""
        if self._stale(epoch):
            return
        fd, self._stdin = self._stdin, None
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass

    # ------------------------------------------------------------------------------ stopping

    def signal(self, signum: int, epoch: int | None = None) -> None:
        """SIGTERM: to the supervisor, which stops the CLI (SIGTERM, ``grace``, its tree
        killed, its tag swept). SIGKILL: the supervisor's and the CLI's trees killed from
        here, and the tag swept, at once."""
        proc = self._proc
        if proc is None or self._code is not None or self._stale(epoch):
            return
        if signum == signal.SIGKILL:
            self._kill_all()
            return
        try:
            os.kill(proc.pid, signum)
        except OSError:
            pass

    def _kill_all(self) -> int:
        proc = self._proc
        if proc is None:
            return 0
        if proc.poll() is None:
            for child in _children(proc.pid):
                self._tags.update(_tags_of(child))
            # The supervisor's group and the CLI's (it leads its own), and every descendant.
            kill_tree({proc.pid}, {proc.pid, *_children(proc.pid)})
        count = 0
        for tag in self._tags:
            count += sweep(tag)
        return count

    def shutdown(self, epoch: int | None = None) -> None:
        """The end of the session: whatever still runs is killed, shipped files removed."""
        if self._stale(epoch):
            return
        self.close_stdin()
        self._kill_all()
        proc = self._proc
        if proc is not None:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self._remove_dirs()
        with self._cond:
            for output in (self._out, self._err):
                if output is not None:
                    output.closed = True
            self._cond.notify_all()

    def reset(self, epoch: int | None = None) -> bool:
        """Makes the relay ready for another :meth:`start`, if its session ended cleanly.

        Clean: the supervisor has exited (it swept its CLI's tag then) and both pipes reached
        EOF. Nothing of the session is left then but this process; its state is dropped (the
        spawner thread stays: the next supervisor's parent-death signal needs it).

        Returns:
            Whether the relay was reset; ``False`` (nothing changed) if the session is not
            over, ``epoch`` is not the current one, or nothing was started.
        """
        proc, out, err = self._proc, self._out, self._err
        if proc is None or out is None or err is None or self._stale(epoch):
            return False
        with self._cond:
            if self._code is None or not (out.eof and err.eof):
                return False
            out.closed = err.closed = True
            self._cond.notify_all()
        self.close_stdin()
        self._remove_dirs()
        with self._stdin_lock:
            self._proc = None
            self._written = 0
            self._out = self._err = None
            self._code = None
            self._tags = set()
        return True

    def status(self) -> dict[str, Any]:
        """For tests and diagnostics: the supervisor's pid and status, the CLI's tags."""
        proc = self._proc
        return {
            "pid": proc.pid if proc is not None else None,
            "code": self._code,
            "tags": sorted(self._tags),
            "written": self._written,
            "epoch": self._epoch,
        }
