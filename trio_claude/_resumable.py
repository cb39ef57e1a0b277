"""A session that survives its CLI, and lets go of it while idle.

:func:`open_resumable_session` yields a :class:`ResumableSession`: a conversation that outlives
the ``claude`` process serving it. The current process is an ordinary :class:`Session` whose
tasks live in the resumable session's own nursery (the ``async with`` of the context manager).

- **The CLI dies** (OOM-killed, crashed, exited, or closed as broken by the SDK): the receiving
  call that was waiting raises the typed error as with a plain session (a prompt is never
  replayed: it may have had side effects), and the *next* ``send()``/``run()`` starts a new CLI
  with ``--resume=<session id>``, so the conversation goes on.
- **Crash loops are bounded**: at most ``max_respawns`` CLIs are started in a row without a
  turn completing; then the death's error propagates and the session is broken for good.
- **Idle CLIs are released** (``idle_timeout``): with no call in progress, no turn open and
  nothing unread, the CLI is closed gracefully after ``idle_timeout`` seconds, freeing its
  memory; the next ``send()`` resumes the conversation in a new one.

Runtime settings (``set_model``, ``set_permission_mode``) are folded into the options the next
CLI starts with, so they survive a respawn.
"""

from __future__ import annotations

import logging
import math
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import cast

import attrs
import trio

from ._control_types import InterruptResult
from ._errors import (
    BudgetExceededError,
    ClaudeSDKError,
    CLIConnectionError,
    ConfigurationError,
    ResultError,
    SessionClosedError,
)
from ._loop import check_loop
from ._opener import async_context_only
from ._options import ClaudeAgentOptions
from ._session import (
    MessageStream,
    Prompt,
    Session,
    SessionStatistics,
    _prepare,
    connect_session,
)
from ._util import BodyError, raise_collapsed
from .types import Message, PermissionMode, ResultMessage, TurnResult

if sys.version_info < (3, 11):  # pragma: no cover - trio depends on the backport there
    from exceptiongroup import BaseExceptionGroup

__all__ = [
    "ResumableSession",
    "ResumableSessionStatistics",
    "ResumableStream",
    "open_resumable_session",
]

logger = logging.getLogger("trio_claude")

#: Seconds release() waits for a quiet session's CLI to report itself idle.
_IDLE_SETTLE = 5.0


@attrs.frozen(kw_only=True)
class ResumableSessionStatistics:
    """A snapshot of a resumable session (see :meth:`ResumableSession.statistics`).

    Attributes:
        connected: Whether a live CLI is attached right now.
        session_id: The conversation's session id (``None`` until the CLI reports one).
        pid: The current CLI's pid (``None`` when none is attached).
        starts: CLIs started so far, the first one included.
        respawns: CLIs started to replace one that died.
        idle_releases: CLIs closed because the session was idle.
        consecutive_failures: CLI deaths and failed starts since the last completed turn.
        max_respawns: The bound on respawns in a row without a completed turn.
        session: The current CLI's own statistics (``None`` when none is attached).
    """

    connected: bool
    session_id: str | None
    pid: int | None
    starts: int
    respawns: int
    idle_releases: int
    consecutive_failures: int
    max_respawns: int
    session: SessionStatistics | None


def _is_dead(session: Session) -> bool:
    """Whether ``session``'s CLI is gone (exited, killed, or closed as broken)."""
    return session._dead


def _death_error(session: Session) -> BaseException:
    """Why ``session``'s CLI went away, as the error its callers saw."""
    return session._death_error()


def _with_model(options: ClaudeAgentOptions, model: str | None) -> ClaudeAgentOptions:
    fallback = options.fallback_model
    if model is not None and fallback == model:
        fallback = None  # the CLI would refuse --fallback-model equal to --model
    return attrs.evolve(options, model=model, fallback_model=fallback)


class ResumableStream:
    """The messages of one turn of a :class:`ResumableSession` (``receive_response()``).

    Like :class:`~trio_claude.MessageStream` (which it wraps): an async iterator, not an async
    generator, so it owns no task and no cancel scope. Cancellation while waiting abandons the
    turn (interrupts it); ``break`` does not. With no CLI attached there is no turn to receive
    and the stream is empty.
    """

    def __init__(self, owner: ResumableSession, inner: MessageStream | None) -> None:
        self._owner = owner
        self._inner = inner

    def __aiter__(self) -> ResumableStream:
        return self

    @property
    def finished(self) -> bool:
        """Whether the stream has delivered its last message (the turn's result, say)."""
        return self._inner is None or self._inner.finished

    async def __anext__(self) -> Message:
        inner = self._inner
        if inner is None:
            await trio.lowlevel.checkpoint()
            raise StopAsyncIteration
        with self._owner._using():
            message = await inner.__anext__()
        if type(message) is ResultMessage and inner.finished:
            self._owner._turn_completed(cast(Session, inner._session))
        return message


class ResumableSession:
    """A conversation that survives its CLI; created by :func:`open_resumable_session`.

    Do not instantiate it directly. The methods mirror :class:`~trio_claude.Session`'s; the
    ones that start a turn (:meth:`send`, :meth:`run`) start a CLI first when none is attached.
    """

    def __init__(
        self,
        nursery: trio.Nursery,
        options: ClaudeAgentOptions,
        *,
        max_respawns: int,
        idle_timeout: float | None,
    ) -> None:
        # The trio.run the session's tasks live in: its methods are refused from any other.
        self._token = trio.lowlevel.current_trio_token()
        self._nursery = nursery
        self._original = options
        # The user's options with the runtime settings folded in (set_model, ...).
        self._options = options
        self._max_respawns = max_respawns
        self._idle_timeout = idle_timeout
        self._session: Session | None = None
        # The conversation to resume; only set once a CLI has answered a turn of it.
        self._session_id: str | None = None
        # Why the previous CLI went away (None: it was released or never started).
        self._last_error: BaseException | None = None
        self._failures = 0
        self._starts = 0
        self._respawns = 0
        self._idle_releases = 0
        self._lock = trio.Lock()
        # The send()/run() calls starting a CLI for their prompt (after a death or a release):
        # each event is set once its prompt is written to the new CLI, or the call gave up.
        self._starting: set[trio.Event] = set()
        self._active = 0
        self._last_used = trio.current_time()
        self._changed = trio.Event()
        self._watch_scope = trio.CancelScope()
        self._closed = False
        self._broken: BaseException | None = None

    # ------------------------------------------------------------------ public

    @property
    def session_id(self) -> str | None:
        """The conversation's session id (kept across respawns; ``None`` until reported)."""
        session = self._session
        if session is not None and session.session_id is not None:
            return session.session_id
        return self._session_id

    @property
    def pid(self) -> int | None:
        """The pid of the current CLI; it changes after a respawn (``None`` if none is live)."""
        session = self._session
        if session is None or _is_dead(session):
            return None
        return session.pid

    @property
    def connected(self) -> bool:
        """Whether a live CLI is attached (``False`` after it died or was released)."""
        session = self._session
        return session is not None and not _is_dead(session)

    @property
    def session(self) -> Session | None:
        """The current CLI's :class:`~trio_claude.Session` (``None`` if none is attached).

        For the control requests this class does not wrap. It is replaced after a respawn or
        an idle release: do not keep it.
        """
        return self._session

    @property
    def respawns(self) -> int:
        """How many CLIs were started to replace one that died."""
        return self._respawns

    @property
    def options(self) -> ClaudeAgentOptions:
        """The options, with the settings changed at runtime (the next CLI starts with them)."""
        return self._options

    @property
    def closed(self) -> bool:
        """Whether the session is closed, or broken after too many respawns."""
        return self._closed or self._broken is not None

    def statistics(self) -> ResumableSessionStatistics:
        """A snapshot of the respawn counters and of the current CLI's statistics."""
        session = self._session
        return ResumableSessionStatistics(
            connected=self.connected,
            session_id=self.session_id,
            pid=self.pid,
            starts=self._starts,
            respawns=self._respawns,
            idle_releases=self._idle_releases,
            consecutive_failures=self._failures,
            max_respawns=self._max_respawns,
            session=session.statistics() if session is not None else None,
        )

    async def send(
        self, prompt: Prompt, *, parent_tool_use_id: str | None = None, uuid: str | None = None
    ) -> None:
        """Sends a user message, starting a turn; starts (resumes) a CLI if none is live.

        Args:
            prompt: As for :meth:`Session.send <trio_claude.Session.send>`.
            parent_tool_use_id: Marks the message as part of a tool call's sub-conversation.
            uuid: A client-chosen message uuid.

        Raises:
            SessionClosedError: The session is closed, or broken (too many respawns).
            ProcessError: A replacement CLI could not start, or the respawn bound was reached
                (the last death's error).
        """
        with self._using():
            await self._send(prompt, parent_tool_use_id, uuid)

    def receive_response(self) -> ResumableStream:
        """The messages of the current turn, up to and including its result.

        Raises (from iteration):
            ProcessError: The CLI died before the turn finished (the next ``send()`` resumes).
        """
        session = self._session
        return ResumableStream(self, session.receive_response() if session is not None else None)

    async def collect_response(self) -> TurnResult:
        """Collects the current turn (like :meth:`Session.collect_response`).

        Raises:
            ResultError: The turn ended with an error result.
            ProcessError: The CLI died before the turn finished.
            CLIConnectionError: No CLI is attached, so no turn is running.
        """
        with self._using():
            return await self._collect(self._session)

    async def run(
        self, prompt: Prompt, *, parent_tool_use_id: str | None = None, uuid: str | None = None
    ) -> TurnResult:
        """Sends ``prompt`` and collects its turn; starts (resumes) a CLI if none is live.

        A turn whose CLI dies raises :class:`~trio_claude.ProcessError` and is not replayed;
        the next call resumes the conversation.

        Raises:
            ResultError: The turn ended with an error result.
            ProcessError: The CLI died during the turn.
            SessionClosedError: The session is closed, or broken (too many respawns).
            TurnInProgressError: An earlier turn's messages have not all been received
                (see :meth:`Session.run <trio_claude.Session.run>`); nothing is sent.
            ConcurrentReceiveError: Another task is receiving from this session, or is in
                ``run()`` on it; nothing is sent.
        """
        with self._using():
            session = await self._send(prompt, parent_tool_use_id, uuid, run=True)
            try:
                return await self._collect(session)
            finally:
                session._release_run()

    async def interrupt(self) -> InterruptResult:
        """Interrupts the running turn, or the one a ``send()``/``run()`` is starting a CLI for.

        While a ``send()``/``run()`` starts a CLI (after a death or an idle release), this waits
        until the CLI is up and the prompt is written to it, then interrupts it, so that turn
        ends interrupted. The wait is bounded by the start's own timeouts
        (``initialize_timeout``...). If that start fails, no turn runs and there is nothing to
        interrupt.

        Returns:
            The CLI's receipt. An empty :class:`~trio_claude.InterruptResult` when no CLI is
            live and none is being started: there is nothing to interrupt.
        """
        with self._using():
            # Wait for the starts under way (each ends once its prompt reached the new CLI):
            # an interrupt sent before the prompt would find nothing running and be lost.
            for starting in list(self._starting):
                await starting.wait()
            session = self._session
            if session is None or _is_dead(session):
                await trio.lowlevel.checkpoint()
                return InterruptResult()
            return await session.interrupt()

    def abandon_turn(self) -> None:
        """Gives up the open turn of the live CLI (see :meth:`Session.abandon_turn`): it is
        interrupted and its remaining messages are dropped. Nothing happens when no CLI is
        live or no turn is open."""
        self._check_loop()
        session = self._session
        if session is not None and not _is_dead(session):
            session.abandon_turn()

    async def set_model(self, model: str | None = None) -> None:
        """Switches the model; kept for every CLI started afterwards (never starts one)."""
        with self._using():
            await self._setting(lambda s: s.set_model(model))
            self._options = _with_model(self._options, model)

    async def set_permission_mode(self, mode: str) -> None:
        """Changes the permission mode; kept for every CLI started afterwards."""
        with self._using():
            await self._setting(lambda s: s.set_permission_mode(mode))
            self._options = attrs.evolve(self._options, permission_mode=cast(PermissionMode, mode))

    async def release(self) -> bool:
        """Closes the CLI now if the session is idle, as ``idle_timeout`` would.

        Returns:
            Whether a CLI was released (``False`` if none is live, a call or a turn is
            running, or the CLI does not report itself idle within a few seconds of the
            session falling quiet).
        """
        self._check_loop()
        session = self._session
        if session is not None and self._active == 0 and session._quiet():
            # Right after a turn's result the CLI has not said it is idle yet (its state line
            # follows the result): wait for that, briefly, rather than refuse.
            await session.wait_idle(_IDLE_SETTLE)
        return await self._release(only_if_idle=True)

    async def wait_disconnected(self) -> None:
        """Waits until no live CLI is attached: it died, was released, or the session closed.

        The session stays usable: the next ``send()`` starts a new CLI. This wait is not a
        call in progress (it does not keep an idle CLI alive).
        """
        self._check_loop()
        while True:
            session = self._session
            if session is None or _is_dead(session):
                await trio.lowlevel.checkpoint()
                return
            # Every way a CLI stops (death, graceful close, kill) ends its reader.
            await session._wait_output_end()

    async def aclose(self) -> None:
        """Closes the session and its CLI. Idempotent, shielded and bounded in time."""
        self._check_loop()
        self._closed = True
        self._watch_scope.cancel()
        session, self._session = self._session, None
        if session is not None:
            await session.aclose()  # shielded by Session.aclose
        else:
            await trio.lowlevel.cancel_shielded_checkpoint()
        self._poke()

    # ---------------------------------------------------------------- internals

    @contextmanager
    def _using(self) -> Iterator[None]:
        """Marks a call in progress (the session is not idle while one runs)."""
        self._check_loop()
        self._active += 1
        self._poke()
        try:
            yield
        finally:
            self._active -= 1
            self._last_used = trio.current_time()
            self._poke()

    def _check_loop(self) -> None:
        """Refuses a call from another ``trio.run`` (or asyncio) before it changes anything."""
        check_loop(self._token, "this session")

    def _poke(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    def _turn_completed(self, session: Session) -> None:
        """A turn ended with its result: the CLI works, so the crash-loop count starts over."""
        self._failures = 0
        if session.session_id is not None:
            self._session_id = session.session_id

    def _check_open(self) -> None:
        if self._broken is not None:
            raise SessionClosedError(
                f"the session gave up after {self._max_respawns} respawns: {self._broken}"
            ) from self._broken
        if self._closed:
            raise SessionClosedError("the session is closed")

    def _note_session_id(self, session: Session) -> None:
        # Resume only a conversation the CLI has answered a turn of: before that there may be
        # no transcript to resume (and with a session store, nothing was mirrored yet).
        if session.session_id is not None and session.statistics().results_received:
            self._session_id = session.session_id

    def _start_options(self) -> ClaudeAgentOptions:
        options = self._options
        if self._session_id is None:
            return options  # nothing answered yet: start as the user asked
        return attrs.evolve(
            options,
            resume=self._session_id,
            fork_session=False,
            session_id=None,
            continue_conversation=False,
            resume_session_at=None,
            resume_drops_turn=None,
        )

    async def _start_first(self) -> None:
        self._session = await connect_session(self._nursery, self._options)
        self._starts = 1

    async def _live(self, starting: trio.Event) -> Session:
        """The current session, after starting a new CLI if it died or was released.

        ``starting`` is registered in ``_starting`` when a start is (or may be) needed; the
        caller removes and sets it once its prompt is written (see :meth:`interrupt`).
        """
        if not self.connected:
            self._starting.add(starting)  # before the lock: another call may hold it
        async with self._lock:
            self._check_open()
            session = self._session
            if session is not None and not _is_dead(session):
                return session
            self._starting.add(starting)
            if session is not None:
                self._session = None
                self._note_session_id(session)
                self._last_error = _death_error(session)
                self._failures += 1
                await session.aclose()  # reaps it and flushes its transcript mirror
                logger.warning(
                    "the CLI of session %s went away: %s", session.session_id, self._last_error
                )
            respawn = self._last_error is not None
            if respawn and self._failures > self._max_respawns:
                error = self._last_error
                assert error is not None
                self._broken = error
                raise error
            options = self._start_options()
            try:
                session = await connect_session(self._nursery, options)
            except ClaudeSDKError as exc:
                self._last_error = exc
                self._failures += 1
                raise
            if self._closed:  # closed while starting
                await session.aclose()
                raise SessionClosedError("the session is closed")
            self._session = session
            self._starts += 1
            if respawn:
                self._respawns += 1
                logger.info(
                    "started a new CLI (pid %s, resuming %s)",
                    session.pid,
                    options.resume or "nothing",
                )
            self._last_error = None
            self._poke()
            return session

    async def _send(
        self, prompt: Prompt, parent: str | None, uuid: str | None, run: bool = False
    ) -> Session:
        # Set once the prompt is written (or this call gives up): an interrupt() made while
        # this call starts a CLI waits for it, so that it interrupts this prompt's turn.
        starting = trio.Event()
        try:
            while True:
                session = await self._live(starting)
                try:
                    if run:  # Session.run's checks: its turn, not an earlier one, is collected
                        await session._ready_to_run()
                    try:
                        await session.send(prompt, parent_tool_use_id=parent, uuid=uuid)
                    except BaseException:
                        session._release_run()
                        raise
                except CLIConnectionError:
                    # Session.send raises these before writing anything: the CLI was already
                    # gone, the prompt was not sent, so it is safe to start another CLI and
                    # send it there.
                    if _is_dead(session) and not self._closed:
                        continue
                    raise
                return session
        finally:
            self._starting.discard(starting)
            starting.set()

    async def _collect(self, session: Session | None) -> TurnResult:
        if session is None:
            await trio.lowlevel.checkpoint()
            raise CLIConnectionError("no CLI is attached, so no turn is running (send() first)")
        try:
            turn = await session.collect_response()
        except (ResultError, BudgetExceededError):
            self._turn_completed(session)  # the turn did end, with its result
            raise
        self._turn_completed(session)
        return turn

    async def _setting(self, apply: Callable[[Session], Awaitable[object]]) -> None:
        """Applies a runtime setting to the live CLI, if any (the options keep it anyway)."""
        session = self._session
        if session is None or _is_dead(session):
            await trio.lowlevel.checkpoint()
            return
        try:
            await apply(session)
        except CLIConnectionError:
            if not _is_dead(session):
                raise
            # The CLI died meanwhile: the next one starts with the setting.

    def _idle_now(self, session: Session) -> bool:
        """No call in progress, no turn open, nothing unread, the CLI itself idle."""
        return self._active == 0 and session._quiet() and session.state in (None, "idle")

    async def _release(self, *, only_if_idle: bool) -> bool:
        async with self._lock:
            session = self._session
            if session is None or _is_dead(session) or self._closed:
                return False
            if only_if_idle and not self._idle_now(session):
                return False
            self._note_session_id(session)
            self._session = None
            self._idle_releases += 1
            logger.info(
                "releasing the idle CLI of session %s (pid %s)", session.session_id, session.pid
            )
            await session.aclose()
            self._poke()
            return True

    async def _idle_watch(self) -> None:
        timeout = self._idle_timeout
        assert timeout is not None
        with self._watch_scope:
            while True:
                changed = self._changed
                session = self._session
                if session is None or _is_dead(session) or self._active:
                    await changed.wait()  # a call, a start or a release pokes it
                    continue
                if not self._idle_now(session):
                    # Busy inside (a turn nobody is reading yet, background work): look again.
                    with trio.move_on_after(timeout):
                        await changed.wait()
                    continue
                deadline = max(self._last_used, session._last_activity) + timeout
                if trio.current_time() < deadline:
                    with trio.move_on_at(deadline):
                        await changed.wait()
                    continue
                await self._release(only_if_idle=True)


@async_context_only("session")
@asynccontextmanager
async def open_resumable_session(
    options: ClaudeAgentOptions | None = None,
    *,
    max_respawns: int = 3,
    idle_timeout: float | None = None,
) -> AsyncIterator[ResumableSession]:
    """Opens a conversation that survives its CLI, for the duration of an ``async with`` block.

    ::

        async with trio_claude.open_resumable_session(opts, idle_timeout=300) as session:
            turn = await session.run("...")     # the CLI may die or be released between turns
            turn = await session.run("...")     # ... this resumes the conversation in a new one

    The first CLI starts before the block is entered (errors come out here, as with
    :func:`~trio_claude.open_session`). Leaving the block closes the current CLI.

    Args:
        options: The session's options. With ``resume``/``continue_conversation``/``session_id``
            the first CLI starts as asked; later ones resume the conversation's session id
            (never forking it).
        max_respawns: How many CLIs may be started in a row, after deaths, without a turn
            completing in between; when one more would be needed, the death's error
            propagates and the session stays broken. ``0`` never respawns.
        idle_timeout: Seconds without a call, an open turn or unread messages after which the
            CLI is closed gracefully (``None``: never). The next ``send()`` resumes.

    Yields:
        The :class:`ResumableSession`.

    Raises:
        ConfigurationError: Invalid options or arguments (before anything starts).
        CLINotFoundError: No CLI found (before anything starts).
    """
    if isinstance(max_respawns, bool) or not isinstance(max_respawns, int) or max_respawns < 0:
        raise ConfigurationError(
            f"max_respawns must be a non-negative integer, got {max_respawns!r}"
        )
    if idle_timeout is not None and (
        isinstance(idle_timeout, bool)
        or not isinstance(idle_timeout, (int, float))
        or math.isnan(idle_timeout)
        or idle_timeout <= 0
    ):
        raise ConfigurationError(f"idle_timeout must be a number > 0, got {idle_timeout!r}")
    if options is None:
        options = ClaudeAgentOptions()
    await _prepare(options)  # bad options or no CLI: fail before any nursery opens
    body = BodyError()
    try:
        async with trio.open_nursery() as nursery:
            session = ResumableSession(
                nursery, options, max_respawns=max_respawns, idle_timeout=idle_timeout
            )
            try:
                await session._start_first()
                if idle_timeout is not None:
                    nursery.start_soon(session._idle_watch)
                with body:
                    yield session
            finally:
                await session.aclose()
    except BaseExceptionGroup as group:
        raise_collapsed(group, body.error)
