"""Official-style transports: the official SDK's ``connect``/``write``/``read_messages``/
``close``/``is_ready``/``end_input`` interface, run as a :class:`~trio_claude.ChildProcess`.

Official code hands ``query()`` or ``ClaudeSDKClient`` an object with that interface (a remote
CLI over some channel, a test double yielding canned dicts). :class:`OfficialProcess` makes it
look like a process to the session and to the iterator form of ``query()``:

- **stdout** yields what ``read_messages()`` yields, one dict per NDJSON line (orjson). Reading
  is inline: a read of stdout pulls the next dict from ``read_messages()`` in the reading task,
  so nothing runs between two reads and the iterator form of ``query()`` (which owns no task
  between iterations) can use it. A pending pull is shielded: a cancellation delivered inside
  ``read_messages()`` would end an async generator for good. It ends when a dict arrives, when
  ``read_messages()`` ends, on :meth:`OfficialProcess.kill`, or when the iterator form abandons
  it (:meth:`OfficialStdout.abandon_at`, at a deadline or on its way out).
- **stdin** splits what is written into lines and calls ``write(line)`` for each (the line
  with its ``"\\n"``); closing it calls ``end_input()`` (shielded, bounded).
- **the exit** is the end of ``read_messages()``: status 0, or 1 if it raised (stderr then
  says why, in one ``trio-claude: ...`` line, and the session ends with its usual typed error),
  once ``close()`` has been called.
- ``close()`` is called once: when ``read_messages()`` has ended, or when the session stops
  the process (``terminate()``/``kill()``; it is awaited by the next ``wait()``), shielded and
  bounded by :data:`CLOSE_TIMEOUT`. ``kill()`` also abandons a pending read (status ``-9``).

The launch spec (command line, environment, working directory) is not used: the transport
owns how the CLI is started, as in the official SDK.
"""

from __future__ import annotations

import logging
import math
import signal
from collections.abc import AsyncIterator
from typing import Any, Protocol, runtime_checkable

import orjson
import trio

from .._errors import ConfigurationError
from .._redact import (
    describe_exception,
    redact,
    redact_exception,
    scrub_exception,
    secret_values,
)
from ._base import ChildProcess, LaunchSpec, Transport

__all__ = [
    "CLOSE_TIMEOUT",
    "OFFICIAL_METHODS",
    "OfficialProcess",
    "OfficialStdout",
    "OfficialStyleTransport",
    "OfficialTransportAdapter",
    "official_target",
    "resolve_transport",
    "start_official",
]

logger = logging.getLogger("trio_claude")

#: Seconds ``close()`` of an official-style transport may take (awaited shielded from
#: cancellation: this bounds it).
CLOSE_TIMEOUT = 5.0
#: Seconds ``end_input()`` may take (shielded too): with ``close()``'s, the shutdown stays
#: within what ``shutdown_process`` promises (``close_timeout`` + ``term_timeout`` + 5 s).
END_INPUT_TIMEOUT = 1.0
#: The methods an official-style transport must have (``is_ready`` is optional: nothing here
#: calls it).
OFFICIAL_METHODS = ("connect", "write", "read_messages", "close", "end_input")


@runtime_checkable
class OfficialStyleTransport(Protocol):
    """The official SDK's transport interface (``claude_agent_sdk.Transport``)."""

    async def connect(self) -> None:
        """Connects (starts the CLI, opens the channel)."""

    async def write(self, data: str) -> None:
        """Writes one NDJSON line (with its ``"\\n"``) to the CLI."""

    def read_messages(self) -> AsyncIterator[dict[str, Any]]:
        """The CLI's output, one parsed JSON object at a time."""
        ...

    async def close(self) -> None:
        """Closes the connection and frees its resources."""

    async def end_input(self) -> None:
        """Closes the CLI's input (its stdin)."""


def _has_official_methods(obj: object) -> bool:
    return all(callable(getattr(obj, name, None)) for name in OFFICIAL_METHODS)


def official_target(transport: object) -> Any | None:
    """The official-style object ``transport`` stands for, or ``None`` if it is a
    :class:`~trio_claude.Transport` with its own ``start()`` (or nothing usable)."""
    if isinstance(transport, OfficialTransportAdapter):
        return transport.transport
    if isinstance(transport, Transport):
        return transport if type(transport).start is Transport.start else None
    return transport if _has_official_methods(transport) else None


def resolve_transport(transport: object) -> Transport:
    """``transport`` as a :class:`~trio_claude.Transport`: itself, or an official-style object
    wrapped in :class:`OfficialTransportAdapter`.

    Raises:
        ConfigurationError: ``transport`` is neither.
    """
    if isinstance(transport, Transport):
        return transport
    if _has_official_methods(transport):
        return OfficialTransportAdapter(transport)
    raise ConfigurationError(
        f"transport must be a trio_claude.Transport (start(spec, nursery)) or have the "
        f"official SDK's transport methods ({', '.join(OFFICIAL_METHODS)}), got "
        f"{type(transport).__name__}"
    )


class OfficialTransportAdapter(Transport):
    """A :class:`~trio_claude.Transport` for an object with the official interface that does
    not subclass :class:`~trio_claude.Transport` (duck-typed, or the official ABC's).

    Args:
        transport: The object (``connect``, ``write``, ``read_messages``, ``close``,
            ``end_input``).
    """

    def __init__(self, transport: Any, secrets: tuple[str, ...] = ()) -> None:
        self.transport = transport
        # Masked by value in what the adapter says of the transport's failures (stderr lines,
        # logs, errors): the session's environment (its API key, say), besides shapes.
        self.secrets = secrets

    def __repr__(self) -> str:
        return f"OfficialTransportAdapter({type(self.transport).__name__})"

    async def start(self, spec: LaunchSpec, nursery: trio.Nursery) -> ChildProcess:
        """Connects the wrapped transport (``spec`` is not used).

        Returns:
            The process view of the connection.

        Raises:
            CLIConnectionError: ``connect()`` failed.
        """
        return await start_official(self.transport, spec)


async def start_official(target: Any, spec: LaunchSpec) -> OfficialProcess:
    """Calls ``target.connect()`` and returns the process view of the connection.

    What ``connect()`` raises comes out as it is: the transport is the application's own
    code, and official code catches its errors by their own types (``except OSError``).
    """
    await target.connect()
    return OfficialProcess(target, secret_values(spec.env))


class _Pulse:
    """An event that can be waited for again after it fired."""

    def __init__(self) -> None:
        self._event = trio.Event()

    def fire(self) -> None:
        self._event.set()
        self._event = trio.Event()

    async def wait(self) -> None:
        await self._event.wait()


class OfficialProcess(ChildProcess):
    """An official-style transport as the session sees it (see the module's documentation).

    Attributes:
        transport: The official-style transport.
        failure: What ``read_messages()`` raised, or ``None``.
    """

    def __init__(self, transport: Any, secrets: tuple[str, ...] = ()) -> None:
        self.transport = transport
        # Masked by value in what the adapter says of the transport's failures (stderr lines,
        # logs, errors): the session's environment (its API key, say), besides shapes.
        self.secrets = secrets
        self.pid = None
        self.failure: Exception | None = None
        self.stdin: trio.abc.SendStream = _Stdin(self)
        self.stdout: trio.abc.ReceiveStream = OfficialStdout(self)
        self.stderr: trio.abc.ReceiveStream | None = _Stderr(self)
        self._messages: AsyncIterator[Any] | None = None
        self._out = bytearray()
        self._err = bytearray()
        self._ended = False  # read_messages() is over (or abandoned)
        self._code: int | None = None
        self._exited = trio.Event()
        self._changed = _Pulse()
        self._read_scope: trio.CancelScope | None = None
        self._close_wanted = False
        self._close_started = False
        self._close_done = trio.Event()
        self._killed = False
        self._terminated = False
        self._messages_closed = False
        self._close_deadline = math.inf  # set when close() is called

    def __repr__(self) -> str:
        return f"<OfficialProcess transport={type(self.transport).__name__}>"

    @property
    def returncode(self) -> int | None:
        return self._code

    async def wait(self) -> int:
        """Waits for the end of ``read_messages()`` and for ``close()``; after ``terminate()``
        or ``kill()``, calls ``close()`` first (once)."""
        while not self._exited.is_set():
            if self._close_wanted and not self._close_started:
                await self._close_once()
                if self._terminated and self._read_scope is None:
                    # Stopped, closed, and nobody pulls the output that would say it ended
                    # (a reader paused or gone): over, as a process is after SIGTERM.
                    self._end(-signal.SIGTERM)
                continue
            await self._changed.wait()
        await self._close_messages()
        assert self._code is not None
        return self._code

    async def _close_messages(self) -> None:
        """Closes ``read_messages()``'s generator once the output is over, so its ``finally``
        runs now, not whenever it is collected (a pending read, cancelled, has run it)."""
        messages = self._messages
        aclose = getattr(messages, "aclose", None)
        if aclose is None or self._read_scope is not None or self._messages_closed:
            return
        self._messages_closed = True
        # Within close()'s bound, not one of its own: shutdown_process's promise counts on it
        # (a generator's finally past it is still started, and cut at its first await).
        deadline = min(self._close_deadline, trio.current_time() + CLOSE_TIMEOUT)
        with trio.CancelScope(shield=True), trio.move_on_at(deadline):
            try:
                await aclose()
            except Exception as exc:
                said = redact(describe_exception(exc), self.secrets)
                logger.debug("closing the transport's read_messages() failed: %s", said)

    def terminate(self) -> None:
        """Asks for ``close()`` (called by the next ``wait()``); with no read pending then, the
        output ends there (status -15)."""
        self._terminated = True
        self._close_wanted = True
        self._changed.fire()

    def kill(self) -> None:
        """Ends the output now (status -9): a pending read is abandoned; ``close()`` is still
        called once, by the next ``wait()``."""
        self._killed = True
        self._close_wanted = True
        if self._read_scope is not None:
            self._read_scope.cancel()  # the read ends the output
        else:
            self._end(-signal.SIGKILL)
        self._changed.fire()

    # --- reading ------------------------------------------------------------------------------

    async def _read_one(self) -> None:
        """Pulls the next dict from ``read_messages()`` into the stdout buffer, or ends."""
        if self._read_scope is not None:
            raise trio.BusyResourceError("another task is reading the transport's output")
        if self._killed:
            self._end(-signal.SIGKILL)
            await trio.lowlevel.checkpoint()
            return
        item: Any = None
        got = False
        with trio.CancelScope(shield=True) as scope:
            self._read_scope = scope
            try:
                if self._messages is None:
                    self._messages = aiter(self.transport.read_messages())
                item = await anext(self._messages)
                got = True
            except StopAsyncIteration:
                pass
            except Exception as exc:
                self._fail("read_messages()", exc)
                return
            except BaseException as exc:
                # Our own scope's cancellation (kill(), a read given up) ends below, with -9
                # or 0; anything else (KeyboardInterrupt, say): the output is over, status 1,
                # and it goes on up.
                if not (scope.cancel_called and isinstance(exc, trio.Cancelled)):
                    self._end(1)
                raise
            finally:
                self._read_scope = None
        if not got:
            if scope.cancelled_caught:  # abandoned: killed, or the reader gave up on it
                self._end(-signal.SIGKILL if self._killed else 0)
            else:
                self._end(0)
            return
        try:
            if not isinstance(item, dict):
                raise TypeError(f"read_messages() yielded a {type(item).__name__}, not a dict")
            line = orjson.dumps(item) + b"\n"
        except (TypeError, orjson.JSONEncodeError) as exc:
            self._fail("read_messages()", exc)
            return
        self._out += line
        self._changed.fire()

    def _fail(self, method: str, exc: Exception) -> None:
        """``method`` of the transport failed: the "process" ends (status 1), its stderr
        saying why, and a pending read is given up. Credentials in the exception's text are
        masked wherever it goes (shapes only: the transport's secrets are its own)."""
        if self.failure is None:
            self.failure = exc
        said = redact(describe_exception(exc), self.secrets)
        logger.debug("the transport's %s failed\n%s", method, redact_exception(exc, self.secrets))
        scrub_exception(exc, self.secrets)
        self._err += (
            f"trio-claude: the transport's {method} failed ({type(self.transport).__name__}): "
            f"{said}\n"
        ).encode("utf-8", "replace")
        if self._read_scope is not None:
            self._read_scope.cancel()
        self._end(1)

    def _end(self, code: int) -> None:
        if self._ended:
            return
        self._ended = True
        self._close_wanted = True
        if self._code is None:
            self._code = code
        if self._close_done.is_set():
            self._exited.set()
        self._changed.fire()

    async def _call_bounded(self, method: str, timeout: float) -> None:
        """Awaits the transport's ``method()``, shielded and at most ``timeout`` seconds; a
        failure or the timeout is logged (masked), not raised: it is on the way out."""
        name = type(self.transport).__name__
        with trio.CancelScope(shield=True), trio.move_on_after(timeout) as timer:
            try:
                await getattr(self.transport, method)()
            except Exception as exc:
                said = redact(describe_exception(exc), self.secrets)
                logger.warning("the transport's %s() failed (%s): %s", method, name, said)
        if timer.cancelled_caught:
            logger.warning(
                "the transport's %s() (%s) did not return within %g s; given up",
                method,
                name,
                timeout,
            )

    async def _close_once(self) -> None:
        if self._close_started:
            await self._close_done.wait()
            return
        self._close_started = True
        self._close_deadline = trio.current_time() + CLOSE_TIMEOUT
        try:
            await self._call_bounded("close", CLOSE_TIMEOUT)
        finally:
            self._close_done.set()
            if self._ended:
                self._exited.set()
            self._changed.fire()


class OfficialStdout(trio.abc.ReceiveStream):
    """The CLI's stdout: what ``read_messages()`` yields, as NDJSON, pulled by the reader."""

    def __init__(self, proc: OfficialProcess) -> None:
        self._proc = proc
        self._closed = False

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        """The next bytes of output (``b""`` at its end: then ``close()`` has been called)."""
        await trio.lowlevel.checkpoint_if_cancelled()
        proc = self._proc
        while True:
            if self._closed:
                raise trio.ClosedResourceError("the stream is closed")
            if proc._out:
                size = len(proc._out) if max_bytes is None else min(max_bytes, len(proc._out))
                data = bytes(proc._out[:size])
                del proc._out[:size]
                await trio.lowlevel.cancel_shielded_checkpoint()
                return data
            if proc._ended:
                await proc._close_once()  # then the process counts as exited
                return b""
            await proc._read_one()

    def abandon_at(self, deadline: float) -> None:
        """Gives up a pending read at ``deadline`` (``-inf``: now): ``read_messages()`` is
        then cancelled and the output ends. For a reader that must stop reading at a deadline
        (the iterator form of ``query()``)."""
        scope = self._proc._read_scope
        if scope is not None and deadline < math.inf:
            scope.deadline = min(scope.deadline, deadline)

    async def aclose(self) -> None:
        self._closed = True
        await trio.lowlevel.checkpoint()


class _Stderr(trio.abc.ReceiveStream):
    """The CLI's stderr: one line saying why ``read_messages()`` failed, if it did."""

    def __init__(self, proc: OfficialProcess) -> None:
        self._proc = proc
        self._closed = False

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        proc = self._proc
        await trio.lowlevel.checkpoint_if_cancelled()
        while True:
            if self._closed:
                raise trio.ClosedResourceError("the stream is closed")
            if proc._err:
                size = len(proc._err) if max_bytes is None else min(max_bytes, len(proc._err))
                data = bytes(proc._err[:size])
                del proc._err[:size]
                await trio.lowlevel.cancel_shielded_checkpoint()
                return data
            if proc._ended:
                await trio.lowlevel.cancel_shielded_checkpoint()
                return b""
            await proc._changed.wait()

    async def aclose(self) -> None:
        self._closed = True
        await trio.lowlevel.checkpoint()


class _Stdin(trio.abc.SendStream):
    """The CLI's stdin: one ``write(line)`` per line; closing it calls ``end_input()``."""

    def __init__(self, proc: OfficialProcess) -> None:
        self._proc = proc
        self._partial = b""
        self._closed = False
        self._busy = False

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        if self._busy:
            raise trio.BusyResourceError("another task is writing to the transport")
        if self._closed:
            raise trio.ClosedResourceError("stdin is closed")
        proc = self._proc
        if proc._close_started or proc._killed:
            raise trio.BrokenResourceError("the transport is closed")
        self._busy = True
        try:
            *lines, self._partial = (self._partial + bytes(data)).split(b"\n")
            if not lines:
                await trio.lowlevel.checkpoint()
            for line in lines:
                try:
                    await proc.transport.write(line.decode("utf-8") + "\n")
                except Exception as exc:
                    # A pipe that breaks means the CLI is gone; here nothing else would end
                    # the output: the "process" fails, saying why (masked).
                    said = redact(describe_exception(exc), proc.secrets)
                    proc._fail("write()", exc)
                    # Not chained: the transport's exception may quote a credential in ways no
                    # masking reaches (a __str__ of its own); it is kept as ``proc.failure``.
                    raise trio.BrokenResourceError(
                        f"the transport's write() failed ({type(proc.transport).__name__}): {said}"
                    ) from None
        finally:
            self._busy = False

    async def wait_send_all_might_not_block(self) -> None:
        await trio.lowlevel.checkpoint()

    async def aclose(self) -> None:
        proc = self._proc
        if self._closed or proc._close_started or proc._killed:
            self._closed = True
            await trio.lowlevel.checkpoint()
            return
        self._closed = True
        await proc._call_bounded("end_input", END_INPUT_TIMEOUT)
