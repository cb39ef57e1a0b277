"""Running the CLI on a node of a Ray cluster: a Ray actor owns it there, bytes move in batches.

:class:`RayTransport` asks Ray for an actor (``_ray_actor.Relay``) with the resources you name
(by default one ``claude_slots``, a custom resource each node declares as many of as it can
take CLIs): Ray picks the node, and a session that finds no free slot waits for one. The actor
starts the SSH transport's supervisor (``_ssh_remote.py``) on its node, which runs the CLI in a
process group of its own with a fresh tag; the actor holds the CLI's pipes and this side reaches
them through three small trio streams:

- **stdout and stderr**: one task per session (the *pump*, in the session's own nursery) calls
  the actor's long poll, ``Relay.poll``, in a worker thread, over and over: each answer carries
  everything the CLI wrote since the last one (up to ``batch_bytes``), both streams and the exit
  status at once. A poll acknowledges the bytes already received, so an answer lost on the way
  is asked for again, never skipped; the pump stops polling while the session has not read
  ``batch_bytes`` of what it holds, so backpressure reaches the CLI through the actor's pipe.
- **stdin**: each ``send_all`` is one actor call (``Relay.write``), with whatever the session's
  writer had queued meanwhile (it batches its frames), again idempotent by offset.

Ray's API blocks, so every Ray call runs in a trio worker thread (``trio.to_thread``), bounded:
no asyncio, no thread left waiting on a call that may never answer.

**Losing the node** (its raylet or the machine dies, the actor is killed): the next poll fails
with Ray's ``ActorDiedError``, or does not answer within ``poll_interval + heartbeat_timeout``
seconds (a silent network). The process then counts as exited with status 255 (as ``ssh``
reports a lost connection), its stderr ends with a ``trio-claude ray: ...`` line saying what was
lost, and the session ends with a :class:`~trio_claude.ProcessError` carrying both, in the
caller's nursery. On the node, the supervisor's parent-death signal fires when the actor's
worker dies, and it kills the CLI's tree and sweeps its tag (its ``Bash`` tools).

**Reusing actors**: starting an actor costs a new Ray worker process (about half a second and
80 MiB). When a session's CLI has exited on its own and its supervisor is gone (its tag swept),
the actor is reset (``Relay.reset``) and kept, idle, by the transport (at most
``max_idle_actors``); the next session of the same transport takes it instead of asking Ray for
a new one. An idle actor keeps its resources (its ``claude_slots``): a session waiting for
placement on the same transport takes an idle actor as soon as one comes back, and one waiting
on another transport of this program has the idle actors of the others killed (their slots
freed). An actor whose session was cut short, lost or failed is killed, never reused.
``RayTransport.aclose()`` kills the idle actors; Ray kills them anyway when the program (their
owner) ends.

Ray is imported when a session starts (in a worker thread: importing it takes about a second),
never by ``import trio_claude``. See ``docs/transports.md`` ("Ray") and ``docs/scale-out.md``.
"""

from __future__ import annotations

import importlib.util
import math
import os
import signal
import threading
import weakref
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import trio

from .._environ import environ
from .._errors import CLIConnectionError, ConfigurationError
from .._redact import Environment, OpaqueDict
from ._base import ChildProcess, LaunchSpec, Transport, remote_env
from ._sweep import TAG_VARIABLE

__all__ = ["DEFAULT_RESOURCES", "LOST_EXIT_STATUS", "RayProcess", "RayTransport"]

#: What each session's actor asks Ray for by default: one slot of the ``claude_slots`` custom
#: resource (start each node with ``--resources='{"claude_slots": N}'``).
DEFAULT_RESOURCES: Mapping[str, float] = {"claude_slots": 1}
#: The exit status a session sees when the node (or the actor) running its CLI is lost.
LOST_EXIT_STATUS = 255
#: The temporary config dir a session resuming from a ``session_store`` points the CLI at
#: (``_mirror.prepare_store_resume``): shipped to the node when the node does not have it.
_RESUME_DIR_PREFIX = "claude-resume-"
#: A bound on what is shipped that way (a transcript and a few config files).
_MAX_SHIPPED_BYTES = 256 * 1024 * 1024
_EXTRA = "pip install 'trio-claude[ray]'"
#: Seconds a new actor waits to be placed before idle actors of other transports are killed.
_RECLAIM_AFTER = 2.0

_lock = threading.Lock()
_relay_class: Any = None
_supervisor: bytes | None = None


def ray_available() -> bool:
    """Whether Ray can be imported (looked up, not imported: no cost at ``import trio_claude``)."""
    try:
        return importlib.util.find_spec("ray") is not None
    except (ImportError, ValueError):
        return False


def _missing_ray() -> ConfigurationError:
    return ConfigurationError(f"RayTransport needs Ray, which is not installed: {_EXTRA}")


def _load_ray(address: str | None, init_kwargs: Mapping[str, Any]) -> tuple[Any, Any]:
    """Ray and the actor class; connects to ``address`` if Ray is not initialised yet.

    Blocking (an import of about a second, a connection): run in a worker thread.
    """
    global _relay_class
    with _lock:
        try:
            # Not `import ray`: Ray is an optional extra, untyped, and absent where mypy runs.
            ray: Any = importlib.import_module("ray")
        except ImportError as exc:
            raise _missing_ray() from exc
        if _relay_class is None:
            from . import _ray_actor, _ssh_remote

            # By value: the nodes need Python and Ray, not trio-claude.
            ray.cloudpickle.register_pickle_by_value(_ray_actor)
            ray.cloudpickle.register_pickle_by_value(_ssh_remote)
            _relay_class = ray.remote(_ray_actor.Relay)
        if not ray.is_initialized():
            if address is None:
                raise ConfigurationError(
                    "RayTransport: Ray is not initialised; call ray.init(address=...) first "
                    "(in a worker thread, or before trio.run), or give RayTransport(address=...)"
                )
            ray.init(address=address, **dict(init_kwargs))
        return ray, _relay_class


def _supervisor_code() -> bytes:
    global _supervisor
    if _supervisor is None:
        _supervisor = zlib.compress(Path(__file__).with_name("_ssh_remote.py").read_bytes(), 9)
    return _supervisor


def _resume_files(env: Mapping[str, str]) -> dict[str, Any] | None:
    """The temporary config dir of a resume from a session store, as files to ship."""
    config = env.get("CLAUDE_CONFIG_DIR")
    if not config or not os.path.basename(config).startswith(_RESUME_DIR_PREFIX):
        return None
    root = Path(config)
    if not root.is_dir():
        return None
    files: dict[str, bytes] = {}
    total = 0
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            total += len(data)
            if total > _MAX_SHIPPED_BYTES:
                raise CLIConnectionError(
                    f"RayTransport: the resumed session's files in {root} exceed "
                    f"{_MAX_SHIPPED_BYTES} bytes"
                )
            files[path.relative_to(root).as_posix()] = data
    return {"root": str(root), "files": files}


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


class _Pending:
    """A Ray call that did not answer in time."""


_PENDING = _Pending()


class _Incoming:
    """Bytes of one of the CLI's output streams that arrived here and were not read yet."""

    def __init__(self, high_water: int) -> None:
        self.buf = bytearray()
        self.received = 0  # bytes received in all: the acknowledgement of the next poll
        self.eof = False
        self.closed = False
        self._high_water = high_water
        self._changed = trio.Event()

    def _wake(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    def feed(self, data: bytes) -> None:
        if data:
            self.received += len(data)
            if not self.closed:  # a closed stream's bytes are acknowledged and dropped
                self.buf += data
            self._wake()

    def end(self) -> None:
        if not self.eof:
            self.eof = True
            self._wake()

    @property
    def room(self) -> int:
        """How much more the pump may fetch before the reader catches up."""
        return max(0, self._high_water - len(self.buf))

    async def wait_for_room(self) -> None:
        while not self.room and not self.closed:
            await self._changed.wait()

    async def wait_readable(self) -> None:
        while not self.buf and not self.eof and not self.closed:
            await self._changed.wait()

    def take(self, max_bytes: int | None) -> bytes:
        size = len(self.buf) if max_bytes is None else min(max_bytes, len(self.buf))
        data = bytes(self.buf[:size])
        del self.buf[:size]
        if data:
            self._wake()  # room for the pump
        return data

    def close(self) -> None:
        self.closed = True
        self.buf.clear()
        self._wake()


class _RelayReceiveStream(trio.abc.ReceiveStream):
    """The CLI's stdout or stderr: what the pump fetched from the actor."""

    def __init__(self, incoming: _Incoming) -> None:
        self._incoming = incoming

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        incoming = self._incoming
        await trio.lowlevel.checkpoint_if_cancelled()
        if incoming.closed:
            raise trio.ClosedResourceError("the stream is closed")
        if incoming.buf or incoming.eof:
            data = incoming.take(max_bytes)
            await trio.lowlevel.cancel_shielded_checkpoint()
            return data
        await incoming.wait_readable()
        if incoming.closed:
            raise trio.ClosedResourceError("the stream is closed")
        return incoming.take(max_bytes)

    async def aclose(self) -> None:
        self._incoming.close()
        await trio.lowlevel.checkpoint()


class _RelaySendStream(trio.abc.SendStream):
    """The CLI's stdin: each ``send_all`` is one ``Relay.write`` call."""

    def __init__(self, proc: RayProcess) -> None:
        self._proc = proc
        self._sent = 0
        self._closed = False
        self._broken: str | None = None
        self._busy = False

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        if self._busy:
            raise trio.BusyResourceError("another task is writing to the CLI's stdin")
        if self._closed:
            raise trio.ClosedResourceError("stdin is closed")
        if self._broken is not None:
            raise trio.BrokenResourceError(self._broken)
        if self._proc._released:
            self._broken = "the CLI has exited"
            raise trio.BrokenResourceError(self._broken)
        if not data:
            await trio.lowlevel.checkpoint()
            return
        payload = bytes(data)
        proc = self._proc
        self._busy = True
        try:
            written = await proc._call("write", self._sent, payload, proc.epoch)
        except BaseException as exc:
            # Cancelled or failed half way: whether the bytes arrived is unknown now.
            self._broken = f"writing to the CLI failed: {_describe(exc)}"
            if isinstance(exc, _RayCallError):
                raise trio.BrokenResourceError(self._broken) from exc
            raise
        finally:
            self._busy = False
        if written < 0:
            self._broken = "the CLI's stdin is closed"
            raise trio.BrokenResourceError(self._broken)
        self._sent = written

    async def wait_send_all_might_not_block(self) -> None:
        await trio.lowlevel.checkpoint()

    async def aclose(self) -> None:
        if self._closed:
            await trio.lowlevel.checkpoint()
            return
        self._closed = True
        proc = self._proc
        if proc._released or proc.lost is not None:
            await trio.lowlevel.checkpoint()
            return
        with trio.CancelScope(shield=True):
            try:
                await proc._call(
                    "close_stdin", proc.epoch, timeout=proc._transport.heartbeat_timeout
                )
            except _RayCallError:
                pass  # the pump reports why


class _RayCallError(Exception):
    """A call to the actor failed or did not answer; :attr:`lost` says whether the actor is."""

    def __init__(self, message: str, *, lost: bool) -> None:
        super().__init__(message)
        self.lost = lost


class RayProcess(ChildProcess):
    """The CLI as the session sees it when :class:`RayTransport` started it on a Ray node.

    Attributes:
        pid: The pid of the supervisor on the node (not a local process).
        node_id: Ray's id of the node the CLI runs on.
        node_ip: The node's address.
        hostname: The node's host name.
        actor: The ``ray.actor.ActorHandle`` of the relay.
        lost: Why the node (or actor) was given up for lost, or ``None``.
    """

    def __init__(
        self,
        transport: RayTransport,
        ray: Any,
        actor: Any,
        info: Mapping[str, Any],
    ) -> None:
        self._transport = transport
        self._ray = ray
        self.actor = actor
        self.pid = info.get("pid")
        self.node_id: str | None = info.get("node_id")
        self.node_ip: str | None = info.get("node_ip")
        self.hostname: str | None = info.get("hostname")
        #: Ray's id of the actor (hex), when the actor could tell.
        self.actor_id: str | None = info.get("actor_id")
        #: The actor's session number: 1 for a new actor, more for a reused one.
        self.epoch: int | None = info.get("epoch")
        self.lost: str | None = None
        self._out = _Incoming(transport.batch_bytes)
        self._err = _Incoming(transport.batch_bytes)
        self.stdin: trio.abc.SendStream = _RelaySendStream(self)
        self.stdout: trio.abc.ReceiveStream = _RelayReceiveStream(self._out)
        self.stderr: trio.abc.ReceiveStream | None = _RelayReceiveStream(self._err)
        self._code: int | None = None
        self._exited = trio.Event()
        self._released = False
        self._nursery: trio.Nursery | None = None
        # Our own: the long polls must not hold the default limiter's tokens.
        self._limiter = trio.CapacityLimiter(4)
        #: Polls answered (for tests and benchmarks).
        self.polls = 0

    def __repr__(self) -> str:
        return f"<RayProcess pid={self.pid} node={self.node_ip} ({(self.node_id or '?')[:12]})>"

    @property
    def where(self) -> str:
        """The node, for messages."""
        ident = (self.node_id or "?")[:12]
        return f"node {self.node_ip or self.hostname or '?'} ({ident})"

    @property
    def returncode(self) -> int | None:
        return self._code

    async def wait(self) -> int:
        await self._exited.wait()
        assert self._code is not None
        return self._code

    def terminate(self) -> None:
        self._signal_soon(signal.SIGTERM)

    def kill(self) -> None:
        self._signal_soon(signal.SIGKILL)

    # --- calls --------------------------------------------------------------------------------

    def _blocking_call(self, method: str, args: tuple[Any, ...], timeout: float) -> Any:
        """In a worker thread: calls ``method``, waits at most ``timeout`` s for its answer."""
        return self._blocking_wait(getattr(self.actor, method).remote(*args), timeout)[1]

    def _blocking_wait(self, ref: Any, timeout: float) -> tuple[Any, Any]:
        """In a worker thread: ``(ref, its result)``, or ``(ref, _PENDING)`` after ``timeout``."""
        ready, _ = self._ray.wait([ref], timeout=timeout)
        return ref, (self._ray.get(ready[0]) if ready else _PENDING)

    def _blocking_submit(self, method: str, args: tuple[Any, ...], timeout: float) -> Any:
        return self._blocking_wait(getattr(self.actor, method).remote(*args), timeout)

    async def _call(self, method: str, *args: Any, timeout: float | None = None) -> Any:
        """Calls the actor's ``method`` once, from worker threads; raises :class:`_RayCallError`.

        Waits in slices of at most ``poll_interval + heartbeat_timeout`` seconds, so that a
        cancelled caller leaves no thread waiting for long, and gives up when the pump finds
        the node lost or ``timeout`` passes.
        """
        transport = self._transport
        slice_ = transport.poll_interval + transport.heartbeat_timeout
        deadline = None if timeout is None else trio.current_time() + timeout

        def left() -> float:
            if deadline is None:
                return slice_
            return max(0.0, min(slice_, deadline - trio.current_time()))

        if self.lost is not None:
            raise _RayCallError(self.lost, lost=True)
        try:
            ref, result = await trio.to_thread.run_sync(
                self._blocking_submit,
                method,
                args,
                left(),
                abandon_on_cancel=True,
                limiter=self._limiter,
            )
            while result is _PENDING:
                if self.lost is not None:
                    raise _RayCallError(self.lost, lost=True)
                if deadline is not None and trio.current_time() >= deadline:
                    raise _RayCallError(
                        f"the actor did not answer {method}() within {timeout:g} s", lost=False
                    )
                ref, result = await trio.to_thread.run_sync(
                    self._blocking_wait, ref, left(), abandon_on_cancel=True, limiter=self._limiter
                )
        except _RayCallError:
            raise
        except Exception as exc:
            raise self._call_error(method, exc) from exc
        return result

    def _call_error(self, method: str, exc: BaseException) -> _RayCallError:
        exceptions = self._ray.exceptions
        # Ray 2.9 has no ActorUnavailableError (an unreachable actor was an ActorDiedError).
        if isinstance(exc, getattr(exceptions, "ActorUnavailableError", ())):
            return _RayCallError(f"the actor is unreachable: {_describe(exc)}", lost=False)
        if isinstance(exc, exceptions.RayActorError):
            return _RayCallError(f"the actor died: {_describe(exc)}", lost=True)
        if isinstance(exc, exceptions.RayTaskError):
            return _RayCallError(f"{method}() failed in the actor: {_describe(exc)}", lost=True)
        return _RayCallError(f"{method}() failed: {_describe(exc)}", lost=True)

    # --- the pump -----------------------------------------------------------------------------

    @property
    def _finished(self) -> bool:
        return self._out.eof and self._err.eof and self._code is not None

    async def _pump(self) -> None:
        """Fetches the CLI's output and exit status until it has all of them (or is lost)."""
        transport = self._transport
        wait = transport.poll_interval
        heartbeat = transport.heartbeat_timeout
        out, err = self._out, self._err
        try:
            last_answer = trio.current_time()
            while not self._finished:
                await out.wait_for_room()
                known = (out.eof, err.eof, self._code is not None)
                try:
                    answer = await trio.to_thread.run_sync(
                        self._blocking_call,
                        "poll",
                        (out.received, err.received, max(1, out.room), wait, known, self.epoch),
                        wait + heartbeat,
                        abandon_on_cancel=True,
                        limiter=self._limiter,
                    )
                except Exception as exc:
                    error = self._call_error("poll", exc)
                    if error.lost or trio.current_time() - last_answer > heartbeat:
                        self._lose(str(error))
                        return
                    await trio.sleep(min(0.2, heartbeat / 10))
                    continue
                if answer is _PENDING:
                    self._lose(
                        f"the actor did not answer for {wait + heartbeat:g} s "
                        "(the node is unreachable or overloaded)"
                    )
                    return
                last_answer = trio.current_time()
                self.polls += 1
                self._apply(answer)
        finally:
            with trio.CancelScope(shield=True):
                await self._release()

    def _apply(self, answer: tuple[int, bytes, bool, int, bytes, bool, int | None]) -> None:
        out_at, out_data, out_ended, err_at, err_data, err_ended, code = answer
        for incoming, at, data, ended in (
            (self._out, out_at, out_data, out_ended),
            (self._err, err_at, err_data, err_ended),
        ):
            skip = incoming.received - at
            if skip < 0:  # cannot happen: the actor keeps every byte until acknowledged
                self._lose(f"the relay skipped {-skip} bytes")
                return
            incoming.feed(data[skip:])
            if ended:
                incoming.end()
        if code is not None and self._code is None:
            self._code = code
            self._exited.set()

    def _lose(self, reason: str) -> None:
        """The node or the actor is gone: the CLI counts as exited, stderr says why."""
        if self._code is not None and self._out.eof and self._err.eof:
            return
        self.lost = f"lost the CLI's {self.where}: {reason}"
        if not self._err.eof:
            self._err.feed(f"trio-claude ray: {self.lost}\n".encode())
        self._err.end()
        self._out.end()
        if self._code is None:
            self._code = LOST_EXIT_STATUS
            self._exited.set()

    async def _release(self) -> None:
        """Frees the actor (and its slot), or keeps it idle for reuse: the CLI is gone, or the
        session is. Bounded."""
        if self._released:
            return
        self._released = True
        ray, actor, transport = self._ray, self.actor, self._transport
        if self.lost is None and self._code is not None and transport._has_room():
            # The CLI has exited, but the session stopped the pump before the pipes' EOF (it
            # waits for the exit status only): fetch the rest, so that the actor can be reused.
            await self._drain(min(1.0, transport.heartbeat_timeout))
        clean = self.lost is None and self._code is not None and self._out.eof and self._err.eof
        if self.lost is None and not (self._code is not None and self._out.eof):
            # Cut short (the session gave up on it): kill what runs there without a grace.
            with trio.move_on_after(transport.heartbeat_timeout):
                try:
                    await self._call("shutdown", self.epoch, timeout=transport.heartbeat_timeout)
                except _RayCallError:
                    pass
        if clean and transport._has_room():
            # Sessions starting meanwhile wait for this one rather than place a new actor.
            transport._returning += 1
            reset = kept = False
            try:
                with trio.move_on_after(transport.heartbeat_timeout):
                    try:
                        reset = bool(
                            await self._call(
                                "reset", self.epoch, timeout=transport.heartbeat_timeout
                            )
                        )
                    except _RayCallError:
                        pass
                kept = reset and transport._keep(actor)
            finally:
                transport._returning -= 1
                transport._pool_changed()
            if kept:
                return
        try:
            await trio.to_thread.run_sync(_kill_actor, ray, actor, limiter=self._limiter)
        except Exception:
            pass
        if self._code is None:
            self._lose("the session ended before the CLI did")

    async def _drain(self, timeout: float) -> None:
        """Polls until both pipes reached EOF (what arrives is kept if still read), bounded."""
        out, err = self._out, self._err
        batch = self._transport.batch_bytes
        with trio.move_on_after(timeout):
            while not (out.eof and err.eof) and self.lost is None:
                known = (out.eof, err.eof, True)
                try:
                    answer = await self._call(
                        "poll",
                        out.received,
                        err.received,
                        batch,
                        timeout,
                        known,
                        self.epoch,
                        timeout=timeout,
                    )
                except _RayCallError:
                    return
                self._apply(answer)

    # --- signals ------------------------------------------------------------------------------

    def _signal_soon(self, signum: int) -> None:
        if self._released or self._code is not None or self._nursery is None:
            return
        try:
            self._nursery.start_soon(self._signal, signum)
        except RuntimeError:  # the session's nursery is closed: the pump released the actor
            pass

    async def _signal(self, signum: int) -> None:
        with trio.CancelScope(shield=True):
            try:
                await self._call(
                    "signal", signum, self.epoch, timeout=self._transport.heartbeat_timeout
                )
            except _RayCallError:
                # Released meanwhile: the actor may be another session's now.
                if signum == signal.SIGKILL and not self._released:
                    await trio.to_thread.run_sync(_kill_actor, self._ray, self.actor)


def _kill_actor(ray: Any, actor: Any) -> None:
    try:
        ray.kill(actor, no_restart=True)
    except Exception:
        pass


def _kill_actors(ray: Any, actors: Sequence[Any]) -> None:
    for actor in actors:
        _kill_actor(ray, actor)


#: The transports of this process that may hold idle actors (for :meth:`RayTransport._reclaim`).
_holders: weakref.WeakSet[RayTransport] = weakref.WeakSet()


class RayTransport(Transport):
    """Runs the CLI in a Ray actor, on a node of a Ray cluster that Ray chooses.

    Needs the ``ray`` extra (``pip install 'trio-claude[ray]'``) and a running cluster: call
    ``ray.init(address=...)`` before the first session (in a worker thread, or before
    ``trio.run``), or give ``address``. Each node needs Python, Ray and the ``claude`` CLI (the
    session's ``cli_path``, default ``claude`` on the node's ``PATH``); not trio-claude.

    The session stays here: callbacks (``can_use_tool``, hooks, in-process MCP servers),
    budgets and cancellation work as with a local CLI; the CLI and its tools run on the node.
    Its environment is the Ray worker's, updated with every variable the session set or changed
    and the local ones matching ``forward_env`` (as :class:`~trio_claude.SSHTransport` does),
    sent in the actor call, never on a command line. ``cwd`` and ``cli_path`` are the node's.

    Args:
        resources: Ray resources each session's actor holds while its CLI runs (default one
            ``claude_slots``): a session starts only on a node with them free, and waits for
            one otherwise (see ``placement_timeout``).
        num_cpus: CPUs the actor holds (default 0: the slots are the capacity that counts).
        memory: Bytes of Ray's ``memory`` resource the actor holds, or ``None``.
        scheduling_strategy: Ray's ``scheduling_strategy`` for the actor (``"SPREAD"``, a
            ``NodeAffinitySchedulingStrategy``...), or ``None`` for Ray's default.
        runtime_env: Ray's ``runtime_env`` for the actor, or ``None``.
        actor_options: More ``.options()`` for the actor (they win over the above).
        address: Passed to ``ray.init`` if Ray is not initialised when a session starts.
        init_kwargs: More arguments for that ``ray.init``.
        remote_cli: The CLI on the node; default the session's ``argv[0]``.
        remote_python: The interpreter that runs the supervisor on the node; default the Ray
            worker's own.
        forward_env: ``fnmatch`` patterns of local variables to pass on (default
            ``ANTHROPIC_*`` and ``CLAUDE_CODE_*``).
        kill_grace: When the CLI is stopped (``terminate()``, the actor's death), seconds it
            gets between SIGTERM and SIGKILL.
        placement_timeout: Seconds to wait for a node with the resources free; ``None`` (the
            default) waits as long as it takes, like a queue. Past it the start fails with
            :class:`~trio_claude.CLIConnectionError`.
        placement_retries: How many times an actor that died before it started the CLI is
            replaced (Ray placed it on a node just lost, not yet known dead).
        poll_interval: Seconds a poll waits on the node for output before it answers empty.
        heartbeat_timeout: Seconds past ``poll_interval`` after which an unanswered poll means
            the node is lost.
        batch_bytes: At most this many bytes of stdout per poll, and held here unread before
            polling pauses.
        reuse_actors: Keep the actor of a session whose CLI exited cleanly, idle, for the next
            session of this transport (it skips starting a Ray worker: about half a second).
            An idle actor keeps its resources; see ``max_idle_actors`` and :meth:`aclose`.
        max_idle_actors: At most this many idle actors kept (more are killed).
    """

    # The limits would bind nothing here; use the node's (a container's limits in KubeRay).
    supports_resource_limits = False

    def __init__(
        self,
        *,
        resources: Mapping[str, float] | None = None,
        num_cpus: float = 0,
        memory: int | None = None,
        scheduling_strategy: Any = None,
        runtime_env: Mapping[str, Any] | None = None,
        actor_options: Mapping[str, Any] | None = None,
        address: str | None = None,
        init_kwargs: Mapping[str, Any] | None = None,
        remote_cli: str | None = None,
        remote_python: str | None = None,
        forward_env: Sequence[str] = ("ANTHROPIC_*", "CLAUDE_CODE_*"),
        kill_grace: float = 1.0,
        placement_timeout: float | None = None,
        placement_retries: int = 5,
        poll_interval: float = 0.5,
        heartbeat_timeout: float = 3.0,
        batch_bytes: int = 1024 * 1024,
        reuse_actors: bool = True,
        max_idle_actors: int = 16,
    ) -> None:
        if not ray_available():
            raise _missing_ray()
        self.resources = dict(DEFAULT_RESOURCES if resources is None else resources)
        for name, amount in self.resources.items():
            if not isinstance(name, str) or not (amount >= 0 and math.isfinite(amount)):
                raise ConfigurationError(f"RayTransport: invalid resource {name!r}: {amount!r}")
        if not (num_cpus >= 0 and math.isfinite(num_cpus)):
            raise ConfigurationError(f"RayTransport: invalid num_cpus {num_cpus!r}")
        if placement_retries < 0:
            raise ConfigurationError("RayTransport: placement_retries must be >= 0")
        if placement_timeout is not None and not placement_timeout > 0:
            raise ConfigurationError("RayTransport: placement_timeout must be > 0 (or None)")
        if not poll_interval > 0 or not heartbeat_timeout > 0 or not kill_grace >= 0:
            raise ConfigurationError(
                "RayTransport: poll_interval and heartbeat_timeout must be > 0, kill_grace >= 0"
            )
        if batch_bytes < 4096:
            raise ConfigurationError("RayTransport: batch_bytes must be at least 4096")
        if isinstance(forward_env, str):
            raise ConfigurationError("RayTransport: forward_env is a sequence of patterns")
        if max_idle_actors < 0:
            raise ConfigurationError("RayTransport: max_idle_actors must be >= 0")
        self.num_cpus = num_cpus
        self.memory = memory
        self.scheduling_strategy = scheduling_strategy
        self.runtime_env = dict(runtime_env) if runtime_env is not None else None
        self.actor_options = dict(actor_options or {})
        self.address = address
        self.init_kwargs = dict(init_kwargs or {})
        self.remote_cli = remote_cli
        self.remote_python = remote_python
        self.forward_env = tuple(forward_env)
        self.kill_grace = kill_grace
        self.placement_timeout = placement_timeout
        self.placement_retries = placement_retries
        self.poll_interval = poll_interval
        self.heartbeat_timeout = heartbeat_timeout
        self.batch_bytes = batch_bytes
        self.reuse_actors = reuse_actors
        self.max_idle_actors = max_idle_actors
        #: Idle actors (reset, holding their resources), the most recently used last.
        self._idle: list[Any] = []
        #: Actors being reset to be kept (sessions that just ended cleanly).
        self._returning = 0
        self._returned: trio.Event | None = None
        self._ray: Any = None
        #: Actors asked of Ray, and sessions started on a reused actor (tests, benchmarks).
        self.actors_created = 0
        self.actors_reused = 0
        #: Actors asked for and then withdrawn while they waited (an idle one came back first).
        self.actors_withdrawn = 0

    def __repr__(self) -> str:
        return f"RayTransport(resources={self.resources!r})"

    # --- what is run --------------------------------------------------------------------------

    def remote_env(self, spec: LaunchSpec, local: Mapping[str, str] | None = None) -> Environment:
        """The variables of ``spec.env`` sent to the CLI on the node (see :func:`remote_env`): those
        the session set or changed, and those matching :attr:`forward_env`."""
        local = environ() if local is None else local
        return remote_env(spec, self.forward_env, local, TAG_VARIABLE)

    def launch(self, spec: LaunchSpec) -> dict[str, Any]:
        """The argument of ``Relay.start``: the supervisor, its bootstrap and the preamble.

        Blocking (it reads files: the supervisor's source, a resumed session's transcript).
        """
        from ._ssh_remote import BOOTSTRAP, encode_preamble

        argv = list(spec.argv)
        if self.remote_cli is not None:
            argv[0] = self.remote_cli
        code = _supervisor_code()
        env = self.remote_env(spec)
        # Its repr shows the keys only: the preamble holds the environment's values, and the
        # frames that place the actor (where most failures are raised) hold this.
        return OpaqueDict(
            supervisor=code,
            bootstrap=BOOTSTRAP.format(size=len(code)),
            python=self.remote_python,
            preamble=encode_preamble(argv, env, spec.cwd, self.kill_grace),
            files=_resume_files(env),
        )

    def options_for_actor(self) -> dict[str, Any]:
        """The actor's ``.options()``."""
        options: dict[str, Any] = {
            "num_cpus": self.num_cpus,
            "resources": dict(self.resources),
            # poll, write, a signal and a shutdown may run at once.
            "max_concurrency": 4,
            "max_restarts": 0,
            "max_task_retries": 0,
        }
        if self.memory is not None:
            options["memory"] = self.memory
        if self.scheduling_strategy is not None:
            options["scheduling_strategy"] = self.scheduling_strategy
        if self.runtime_env is not None:
            options["runtime_env"] = self.runtime_env
        options.update(self.actor_options)
        return options

    # --- idle actors -------------------------------------------------------------------------

    @property
    def idle_actors(self) -> int:
        """How many idle actors this transport keeps now."""
        return len(self._idle)

    def _has_room(self) -> bool:
        return self.reuse_actors and len(self._idle) < self.max_idle_actors

    def _keep(self, actor: Any) -> bool:
        """Keeps a reset actor idle; ``False`` (the caller kills it) if there is no room."""
        if not self._has_room():
            return False
        self._idle.append(actor)
        _holders.add(self)
        return True

    def _take(self) -> Any:
        return self._idle.pop() if self._idle else None

    def _pool_changed(self) -> None:
        if self._returned is not None:
            self._returned.set()
            self._returned = None

    async def _wait_for_returning(self) -> None:
        """While sessions' actors are being reset, waits for one (rather than place another)."""
        if self._returning and not self._idle:
            if self._returned is None:
                self._returned = trio.Event()
            with trio.move_on_after(self.heartbeat_timeout):
                await self._returned.wait()

    async def aclose(self) -> None:
        """Kills the idle actors (freeing their resources). The transport stays usable."""
        idle, self._idle = self._idle, []
        if idle and self._ray is not None:
            with trio.CancelScope(shield=True):
                await trio.to_thread.run_sync(_kill_actors, self._ray, idle)

    async def _reclaim(self) -> bool:
        """Kills one idle actor of another transport (a session here waits for resources)."""
        for other in list(_holders):
            if other is not self and other._idle and other._ray is not None:
                actor = other._idle.pop(0)  # the oldest
                with trio.CancelScope(shield=True):
                    await trio.to_thread.run_sync(_kill_actor, other._ray, actor)
                return True
        return False

    # --- starting -----------------------------------------------------------------------------

    async def start(self, spec: LaunchSpec, nursery: trio.Nursery) -> ChildProcess:
        """Places an actor (or takes an idle one), starts the CLI there; see
        :meth:`Transport.start`.

        Waits for a node with :attr:`resources` free (at most ``placement_timeout``), or for
        an idle actor of this transport, whichever comes first. A
        cancellation while waiting withdraws the request (the actor is killed). An actor that
        dies before it could start the CLI (Ray placed it on a node that was just lost, which
        Ray's health checks had not noticed yet) is replaced, up to ``placement_retries``
        times, after 0.5, 1, 2, 4... seconds.

        Raises:
            ConfigurationError: ``options.user`` is set, Ray is missing or not initialised.
            CLIConnectionError: No node took the session in time, or the actor could not
                start the supervisor (the message says why).
        """
        if spec.user is not None:
            raise ConfigurationError("options.user is not supported by RayTransport")
        ray, relay_class = await trio.to_thread.run_sync(_load_ray, self.address, self.init_kwargs)
        self._ray = ray
        launch = await trio.to_thread.run_sync(self.launch, spec)
        options = self.options_for_actor()
        deadline = (
            math.inf
            if self.placement_timeout is None
            else trio.current_time() + self.placement_timeout
        )
        attempt = 0
        handed: Any = None  # an idle actor taken while a new one waited
        while True:
            if handed is None:
                await self._wait_for_returning()
            actor, handed = handed if handed is not None else self._take(), None
            if actor is not None:
                try:
                    info = await self._started(ray, actor, launch, deadline, reused=True)
                except Exception:
                    # Lost while idle, or not reset after all: never mind it, place another.
                    with trio.CancelScope(shield=True):
                        await trio.to_thread.run_sync(_kill_actor, ray, actor)
                    continue
                except BaseException:
                    with trio.CancelScope(shield=True):
                        await trio.to_thread.run_sync(_kill_actor, ray, actor)
                    raise
                self.actors_reused += 1
                break
            actor = await trio.to_thread.run_sync(lambda: relay_class.options(**options).remote())
            self.actors_created += 1
            try:
                info = await self._started(ray, actor, launch, deadline)
            except _IdleReturned as returned:
                # An idle actor came back while this one waited for resources: use it instead.
                handed = returned.actor
                self.actors_withdrawn += 1
                try:
                    with trio.CancelScope(shield=True):
                        await trio.to_thread.run_sync(_kill_actor, ray, actor)
                except BaseException:
                    self._idle.append(handed)
                    raise
                continue
            except _ActorLost as lost:
                with trio.CancelScope(shield=True):
                    await trio.to_thread.run_sync(_kill_actor, ray, actor)
                attempt += 1
                pause = min(0.5 * 2 ** (attempt - 1), 5.0)
                if attempt > self.placement_retries or trio.current_time() + pause >= deadline:
                    raise CLIConnectionError(
                        f"RayTransport: the actor died before it could start the CLI "
                        f"({attempt} time(s)): {lost}"
                    ) from lost.__cause__
                await trio.sleep(pause)
                continue
            except BaseException:
                with trio.CancelScope(shield=True):
                    await trio.to_thread.run_sync(_kill_actor, ray, actor)
                raise
            break
        proc = RayProcess(self, ray, actor, info)
        proc._nursery = nursery
        nursery.start_soon(proc._pump)
        return proc

    async def _started(
        self, ray: Any, actor: Any, launch: dict[str, Any], deadline: float, reused: bool = False
    ) -> dict[str, Any]:
        """Waits for the actor to be placed and to start the supervisor.

        Raises :class:`_IdleReturned` if an idle actor of this transport is there to take
        while a new one waits for resources; past the first wait, has idle actors of other
        transports killed, one a wait, to free their resources (after ``_RECLAIM_AFTER``
        seconds: a new worker takes about half a second to start anyway).
        """
        ref = await trio.to_thread.run_sync(lambda: actor.start.remote(dict(launch)))

        def ready(timeout: float) -> bool:
            done, _ = ray.wait([ref], timeout=timeout)
            return bool(done)

        began = trio.current_time()
        while not await trio.to_thread.run_sync(ready, 0.25, abandon_on_cancel=True):
            if not reused:
                if self._idle:
                    raise _IdleReturned(self._idle.pop())
                if trio.current_time() - began >= _RECLAIM_AFTER:
                    await self._reclaim()
            if trio.current_time() >= deadline:
                raise CLIConnectionError(
                    f"RayTransport: no Ray node had {self.resources} free for "
                    f"{self.placement_timeout:g} s (placement_timeout)"
                )
        try:
            info: dict[str, Any] = await trio.to_thread.run_sync(ray.get, ref)
        except ray.exceptions.RayTaskError as exc:  # start() itself failed, on the node
            raise CLIConnectionError(
                f"RayTransport: the actor could not start the CLI: {_describe(exc)}"
            ) from exc
        except ray.exceptions.RayActorError as exc:
            raise _ActorLost(_describe(exc)) from exc
        except Exception as exc:
            raise CLIConnectionError(
                f"RayTransport: the actor could not start the CLI: {_describe(exc)}"
            ) from exc
        return info


class _IdleReturned(Exception):
    """An idle actor was taken (:attr:`actor`) while a new one waited to be placed."""

    def __init__(self, actor: Any) -> None:
        super().__init__("an idle actor came back")
        self.actor = actor


class _ActorLost(Exception):
    """The actor died before its ``start`` answered (placed on a node that was lost)."""
