"""A blocking facade for code that does not run trio: scripts, Django views, notebooks, pytest.

::

    import trio_claude as tc
    import trio_claude.blocking as tcb

    with tcb.open_session(tc.ClaudeAgentOptions(max_turns=3)) as session:
        turn = session.run("What is 2 + 2?")
        session.send("And 3 + 3?")
        for message in session.receive_response():
            print(type(message).__name__)

    turn = tcb.ask("What is 2 + 2?")
    with tcb.query("Summarise README.md") as messages:
        for message in messages: ...

Each blocking session owns one dedicated thread running :func:`trio.run`, which hosts an
ordinary :func:`trio_claude.open_session` for as long as the session is open. Every call made
from your threads runs as a task of that loop (in a nursery of the host, inside the session's
``async with``), and its outcome comes back to the calling thread: the same value, or the same
typed exception. So the session keeps its task affinity (one session = one nursery owner)
however many threads talk to it, and the async guarantees hold unchanged: leaving the ``with``
block in any way, ``KeyboardInterrupt`` included, closes the session within a bounded time,
reaps the CLI and joins the thread.

Callbacks (``can_use_tool``, hooks, ``@tool`` handlers) run in the session's thread, on its
trio loop, exactly as in the async API. See ``docs/blocking.md``.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import functools
import inspect
import itertools
import logging
import os
import sys
import threading
import time
import warnings
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from types import TracebackType
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar

import trio

from ._control_types import InterruptResult
from ._errors import ClaudeSDKError, SessionClosedError
from ._options import ClaudeAgentOptions
from ._query import ask as _ask
from ._query import query as _query
from ._session import MessageStream, Prompt, Session, SessionStatistics
from ._session import open_session as _open_session
from ._util import USER_SITE, collapse_group, user_site
from .types import Message, ServerInfo, TurnResult

if sys.version_info < (3, 11):  # pragma: no cover - trio depends on the backport there
    from exceptiongroup import BaseExceptionGroup

__all__ = [
    "BlockingMessageStream",
    "BlockingSession",
    "BlockingUsageError",
    "ask",
    "open_session",
    "query",
]

logger = logging.getLogger("trio_claude")

T = TypeVar("T")
R = TypeVar("R")
P = ParamSpec("P")

#: Prefix of the name of every thread this module starts (one per open session).
THREAD_NAME_PREFIX = "trio-claude-blocking"

_thread_numbers = itertools.count(1)


class BlockingUsageError(ClaudeSDKError, RuntimeError):
    """The blocking API was used in a way that cannot work.

    Raised, before anything is sent, when a blocking call is made from inside a running trio
    loop (a trio task, or a session's own callback: it would block the loop that has to serve
    it), or when a thread tries to receive messages while another thread is receiving from the
    same session.
    """


async def _abandon_turn(session: Session) -> None:
    session.abandon_turn()


def _check_not_in_trio() -> None:
    try:
        trio.lowlevel.current_trio_token()
    except RuntimeError:
        return
    raise BlockingUsageError(
        "trio_claude.blocking was called from inside a running trio loop (a trio task, or a "
        "callback of a session, which runs on that session's loop); blocking there would "
        "deadlock. In async code use trio_claude.open_session()/ask()/query() with await, or "
        "run the blocking call in a worker thread: await trio.to_thread.run_sync(...)."
    )


class _Call:
    """One blocking call: an async function run as a task of the host loop."""

    __slots__ = ("args", "caller_gone", "fn", "future", "on_lost", "scope")

    def __init__(
        self,
        fn: Callable[..., Awaitable[Any]],
        args: tuple[Any, ...],
        on_lost: Callable[[Any], object] | None = None,
    ) -> None:
        self.fn = fn
        self.args = args
        self.future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        # Created here, entered by the task, cancelled (from the loop) if the caller is
        # interrupted; cancelling a scope before it is entered cancels it on entry.
        self.scope = trio.CancelScope()
        #: Run in the loop with the call's value when the caller was interrupted and never
        #: got it (see _Portal.call_or_lose).
        self.on_lost = on_lost
        #: Set in the loop once the caller is gone (interrupted while it waited).
        self.caller_gone = False


def _lost(call: _Call, value: Any) -> None:
    """A call's value its interrupted caller never got: its ``on_lost``, in the loop."""
    if call.on_lost is None:
        return
    try:
        call.on_lost(value)
    except Exception:  # a loop callback must not raise
        logger.exception("accounting for a value an interrupted call never returned failed")


#: How long the interpreter's exit waits for each session still open (normally: ~close_timeout).
_EXIT_CLOSE_TIMEOUT = 30.0

_live_portals: weakref.WeakSet[_Portal[Any]] = weakref.WeakSet()
_atexit_registered = False
_atexit_lock = threading.Lock()


def _after_fork_in_child() -> None:
    # A forked child has none of the parent's session threads: closing their portals at its
    # exit waited 30 s each for threads that do not exist there. The lock may have been held
    # by a thread that does not exist here either: a new one.
    global _atexit_lock
    _live_portals.clear()
    _atexit_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _close_live_portals() -> None:
    """At interpreter exit: close what was never closed, so no CLI outlives the program."""
    for portal in list(_live_portals):
        try:
            portal.close(timeout=_EXIT_CLOSE_TIMEOUT)
        except BaseException as exc:  # nothing can be raised at exit
            logger.warning("closing a blocking session at exit failed: %r", exc)
        if not portal.done:
            # A loop wedged by a callback that blocks it: exit anyway (the daemon thread dies
            # with the process, and the parent-death signal stops the CLI on Linux).
            logger.warning(
                "a blocking session did not close within %g s at exit", _EXIT_CLOSE_TIMEOUT
            )


class _Portal(Generic[T]):
    """A dedicated thread running ``trio.run``, hosting an async context manager.

    ``start()`` enters ``open_target()`` in the thread and returns what it yields; ``call()``
    runs an async function as a task of the host's nursery (inside that block) and returns its
    outcome to the calling thread; ``close()`` leaves the block and joins the thread.

    Loop-side state (``_accepting``, ``_serving``, ``turn_lock``, ``receiving``) is only touched
    by the loop thread; the calling threads reach the loop only through ``run_sync_soon``.
    """

    def __init__(self, open_target: Callable[[], AbstractAsyncContextManager[T]]) -> None:
        self._open_target = open_target
        # The user's line, for warnings about the options raised in the host thread.
        self._site = user_site()
        self._started: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._thread = threading.Thread(
            target=self._thread_main,
            name=f"{THREAD_NAME_PREFIX}-{next(_thread_numbers)}",
            # Daemon, so a session nobody closed cannot hang the interpreter's exit; the
            # atexit hook closes it properly first (non-daemon threads would be joined, and
            # wait forever, before atexit hooks run).
            daemon=True,
        )
        self._token: trio.lowlevel.TrioToken | None = None
        self._done = threading.Event()
        self._stop_requested = False
        self._abort_requested = False
        self._exit_error: BaseException | None = None
        self._exit_error_lock = threading.Lock()
        # Loop side.
        self._host_scope: trio.CancelScope | None = None
        self._close_event: trio.Event | None = None
        self._calls: trio.Nursery | None = None
        self._accepting = False
        self._serving = False
        self.turn_lock: trio.Lock | None = None
        self.receiving = False

    @property
    def thread(self) -> threading.Thread:
        return self._thread

    @property
    def done(self) -> bool:
        """Whether the host thread has finished (or never started)."""
        return self._done.is_set() or self._thread.ident is None

    @property
    def stopped(self) -> bool:
        """Whether a close was requested or the host has ended."""
        return self._stop_requested or self.done

    # ------------------------------------------------------------ calling side

    def start(self) -> T:
        _check_not_in_trio()
        global _atexit_registered
        with _atexit_lock:
            if not _atexit_registered:
                atexit.register(_close_live_portals)
                _atexit_registered = True
        _live_portals.add(self)
        try:
            self._thread.start()
        except BaseException:
            _live_portals.discard(self)
            raise
        try:
            return self._started.result()
        except BaseException:
            # Opening failed (the typed error is re-raised), or the caller was interrupted
            # while waiting (KeyboardInterrupt): either way, stop and join before raising.
            self._request_stop(abort=True)
            self._join()
            raise

    def _check_caller(self) -> None:
        """Refuses a call that would wait for the loop it is serving: from a trio task, or
        from a worker thread of this very loop (a callback run with ``tc.in_thread``: its
        turn waits for the callback, and the callback would wait for the turn)."""
        _check_not_in_trio()
        try:
            trio.from_thread.check_cancelled()  # only a trio worker thread gets past this
        except RuntimeError:
            return
        except trio.Cancelled:
            pass  # (its task is being cancelled: still a worker thread of some loop)
        try:
            token = trio.from_thread.run_sync(trio.lowlevel.current_trio_token)
        except (RuntimeError, trio.RunFinishedError, trio.Cancelled):
            return
        if token is self._token:
            raise BlockingUsageError(
                "trio_claude.blocking was called from a callback of the same session (run in "
                "a worker thread): the session waits for the callback, so the call would "
                "deadlock. Use the async session the callback belongs to, or answer first."
            )

    def call(self, fn: Callable[P, Awaitable[R]], *args: P.args, **kwargs: P.kwargs) -> R:
        self._check_caller()
        result: R = self._wait(_Call(functools.partial(fn, **kwargs) if kwargs else fn, args))
        return result

    def call_or_lose(self, fn: Callable[[], Awaitable[R]], on_lost: Callable[[R], object]) -> R:
        """:meth:`call` for a call whose value the loop must account for if the caller never
        gets it: a ``KeyboardInterrupt`` that lands as the call returns loses the value (the
        cancel reached nothing), and ``on_lost(value)`` then runs in the loop."""
        self._check_caller()
        result: R = self._wait(_Call(fn, (), on_lost))
        return result

    def _wait(self, call: _Call) -> Any:
        future = call.future
        try:
            # Inside the try: a Ctrl-C may land once the loop has the call, before the wait.
            self._submit(call)
            return future.result()
        except BaseException as exc:
            if not (future.done() and future.exception() is exc):
                # Interrupted while waiting (KeyboardInterrupt): give the call up as a cancel
                # scope would in async code (a receiving call abandons its turn), and go on
                # raising at once; the session stays usable. Whether the call is still running
                # is decided in the loop: from here, it may finish meanwhile.
                self._run_in_loop(self._give_up, call)
            raise

    @staticmethod
    def _give_up(call: _Call) -> None:
        # Runs in the loop (between tasks): the call either still runs or has finished.
        call.caller_gone = True
        future = call.future
        if not future.done():
            call.scope.cancel()
        elif future.exception() is None:
            _lost(call, future.result())

    def call_sync(self, fn: Callable[[], R]) -> R:
        """Runs ``fn()`` in the loop thread (between tasks) and returns its result."""
        self._check_caller()
        future: concurrent.futures.Future[R] = concurrent.futures.Future()

        def in_loop() -> None:
            try:
                future.set_result(fn())
            except BaseException as exc:  # handed to the caller
                future.set_exception(exc)

        if not self._run_in_loop(in_loop):
            raise SessionClosedError("the session is closed") from self._exit_error
        return future.result()

    def close(self, *, abort: bool = False, timeout: float | None = None) -> None:
        """Leaves the hosted block (cancelling it if ``abort``), joins the thread (waiting at
        most ``timeout`` seconds), and raises the block's exit error, if any (once, and only
        for a normal close)."""
        _check_not_in_trio()
        if self._thread.ident is None:
            return  # never started
        self._request_stop(abort=abort)
        self._join(timeout)
        _live_portals.discard(self)
        with self._exit_error_lock:
            error, self._exit_error = self._exit_error, None
        if error is not None and not abort:
            raise error

    def request_close(self) -> None:
        """Asks the host to close without waiting (a finalizer may call this from any thread)."""
        self._request_stop(abort=False)

    def _submit(self, call: _Call) -> None:
        if self._stop_requested or not self._run_in_loop(self._start_call, call):
            raise SessionClosedError("the session is closed") from self._exit_error

    def _run_in_loop(self, fn: Callable[..., object], *args: Any) -> bool:
        """``run_sync_soon`` on the host loop; ``False`` if the loop is gone (or not there yet)."""
        token = self._token
        if token is None:
            return False
        try:
            token.run_sync_soon(fn, *args)
        except trio.RunFinishedError:
            return False
        return True

    def _request_stop(self, *, abort: bool) -> None:
        # Flags first, then the token: the loop publishes the token first, then reads the
        # flags, so at least one side sees the other (and stopping twice is harmless).
        if abort:
            self._abort_requested = True
        self._stop_requested = True
        self._run_in_loop(self._stop_in_loop)

    def _join(self, timeout: float | None = None) -> None:
        """Waits for the host thread to end (at most ``timeout`` seconds).

        A Ctrl-C while waiting turns a polite close into an abort, and the wait goes on: the
        teardown is bounded and the CLI is still reaped before ``KeyboardInterrupt`` is raised.
        A second Ctrl-C stops waiting at once (a loop wedged by a callback that blocks it can
        never finish; its daemon thread is then left to die with the process).
        """
        # Waits on an Event, not on Thread.join(): a join interrupted by KeyboardInterrupt
        # marks a running thread as stopped on CPython < 3.13 (bpo-45274's fix).
        if self._thread.ident is None:
            return  # never started
        deadline = None if timeout is None else time.monotonic() + timeout
        interrupted: BaseException | None = None
        while not self._done.is_set():
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                break
            try:
                self._done.wait(remaining)
            except KeyboardInterrupt as exc:
                if interrupted is not None:
                    raise
                interrupted = exc
                self._request_stop(abort=True)
        if self._done.is_set():
            self._thread.join()  # its last instructions: returns at once
        if interrupted is not None:
            raise interrupted

    # ------------------------------------------------------------ loop side

    def _thread_main(self) -> None:
        USER_SITE.set(self._site)  # (this thread's context: trio.run's tasks copy it)
        try:
            trio.run(self._main)
        except BaseException as exc:  # a crash of the run itself
            self._set_exit_error(exc)
        finally:
            if not self._started.done():
                self._started.set_exception(SessionClosedError("the session closed while opening"))
            self._done.set()

    def wait_stopped(self) -> None:
        """Waits until the host thread has ended (after a close requested elsewhere)."""
        self._join()

    def _set_exit_error(self, exc: BaseException) -> None:
        if isinstance(exc, BaseExceptionGroup):
            exc = collapse_group(exc)
        if not self._started.done():
            self._started.set_exception(exc)
            return
        with self._exit_error_lock:
            if self._exit_error is None:
                self._exit_error = exc

    async def _main(self) -> None:
        self._host_scope = trio.CancelScope()
        self._close_event = trio.Event()
        self.turn_lock = trio.Lock()
        self._token = trio.lowlevel.current_trio_token()
        if self._stop_requested:
            self._stop_in_loop()
        try:
            with self._host_scope:
                # The calls' nursery sits inside the hosted block: closing cancels them first.
                async with self._open_target() as target, trio.open_nursery() as calls:
                    self._calls = calls
                    self._accepting = self._serving = True
                    self._started.set_result(target)
                    await self._close_event.wait()
                    self._accepting = False
                    calls.cancel_scope.cancel()
        except BaseException as exc:  # reported to the calling thread
            self._set_exit_error(exc)
        finally:
            self._accepting = False

    def _stop_in_loop(self) -> None:
        self._accepting = False
        assert self._host_scope is not None and self._close_event is not None
        if self._abort_requested or not self._serving:
            self._host_scope.cancel()
        else:
            self._close_event.set()

    def _start_call(self, call: _Call) -> None:
        # Runs as a run_sync_soon callback: it must not raise.
        if not self._accepting or self._calls is None:
            call.future.set_exception(SessionClosedError("the session is closed"))
            return
        try:
            self._calls.start_soon(self._run_call, call)
        except RuntimeError:  # the nursery is closing
            call.future.set_exception(SessionClosedError("the session is closed"))

    async def _run_call(self, call: _Call) -> None:
        future = call.future
        try:
            with call.scope:
                value = await call.fn(*call.args)
                future.set_result(value)
            if call.caller_gone:
                # Given up, but it returned all the same (no checkpoint left to cancel).
                _lost(call, value)
        except trio.Cancelled:
            future.set_exception(SessionClosedError("the session was closed during this call"))
            raise
        except BaseException as exc:  # the caller's outcome, not ours
            future.set_exception(exc)
        finally:
            if not future.done():
                # Cancelled through its own scope: the caller was interrupted and is gone.
                future.set_exception(SessionClosedError("the call was interrupted"))

    # Receiving is single-consumer; run() and send() are serialised by ``turn_lock``.

    async def receive(self, fn: Callable[P, Awaitable[R]], *args: P.args, **kw: P.kwargs) -> R:
        """Loop side: runs a receiving call, refusing if another one is in progress."""
        if self.receiving:
            raise BlockingUsageError(
                "another thread is already receiving from this session (its messages would be "
                "split between the two); receive from one thread at a time"
            )
        self.receiving = True
        try:
            return await fn(*args, **kw)
        finally:
            self.receiving = False

    async def turn(self, fn: Callable[P, Awaitable[R]], *args: P.args, **kw: P.kwargs) -> R:
        """Loop side: runs ``fn`` holding the turn lock (FIFO: threads take turns in order)."""
        assert self.turn_lock is not None
        async with self.turn_lock:
            return await fn(*args, **kw)


class BlockingMessageStream:
    """A plain iterator over messages, fed by a session running in its own thread.

    Returned by :meth:`BlockingSession.receive_response` and :func:`query`. Each ``next()``
    blocks until the next message arrives and returns it, typed as in the async API; errors
    come out as the same typed exceptions.

    Semantics are the async :class:`~trio_claude.MessageStream`'s: ``break`` is not
    cancellation (the turn goes on; the next ``receive_response()`` resumes it), while a
    ``KeyboardInterrupt`` that arrives while ``next()`` waits abandons the turn (the session
    interrupts it and drops its remaining messages) and the session stays usable.
    """

    def __init__(self, portal: _Portal[Any], stream: MessageStream) -> None:
        self._portal = portal
        self._stream = stream

    def __iter__(self) -> BlockingMessageStream:
        return self

    def __next__(self) -> Message:
        portal = self._portal
        try:
            return portal.call_or_lose(
                functools.partial(portal.receive, self._stream.__anext__), self._lost
            )
        except StopAsyncIteration:
            raise StopIteration from None

    def _lost(self, message: Message) -> None:
        # In the loop: a Ctrl-C landed as next() got its message, which is gone. The turn is
        # given up as an interrupted wait would have (its other messages are not wanted).
        stream = self._stream
        if stream._until_result and not stream.finished:
            stream._session._abandon_turn()

    @property
    def finished(self) -> bool:
        """Whether the stream has delivered its last message (the turn's result, say)."""
        return self._stream.finished


class BlockingSession:
    """A Claude Code session driven from ordinary (non-trio) code.

    Made by :func:`open_session`. The methods mirror :class:`trio_claude.Session`'s, blocking
    instead of awaiting. Use it as a context manager, or call :meth:`close` yourself.

    Threads: any method may be called from any thread. Control methods (``interrupt()``,
    ``set_model()``, ``set_permission_mode()``, ``statistics()``, ``call()``) run at once,
    even while another thread is in the middle of a turn: that is how a second thread stops a
    turn. ``run()`` and ``send()`` are serialised (first come, first served): threads calling
    ``run()`` on one session get one whole turn each, one after the other, and a ``send()``
    waits for a running ``run()`` to finish its turn. Receiving is single-consumer: a
    receiving call (``run()``, or the ``next()`` of a stream) made while another thread is
    inside one raises :class:`BlockingUsageError` (nothing is sent).
    """

    def __init__(self, portal: _Portal[Session], session: Session) -> None:
        self._portal = portal
        self._session = session
        self._pid = session.pid
        self._server_info = session.server_info
        self._options = session.options
        self._finalizer = weakref.finalize(self, _collect_unclosed, portal)
        self._finalizer.atexit = False  # at exit, _close_live_portals closes it (and waits)

    def __enter__(self) -> BlockingSession:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # As when an exception leaves ``async with tc.open_session(...)``, which throws it into
        # the block: the host's block is cancelled rather than left normally.
        _close_on_exit(functools.partial(self._close, abort=exc is not None), exc)

    # ------------------------------------------------------------ properties

    @property
    def session_id(self) -> str | None:
        """The CLI's session id; ``None`` until the CLI reports one."""
        return self._session.session_id

    @property
    def pid(self) -> int | None:
        """The pid of the process the transport spawned (the CLI, or a wrapper)."""
        return self._pid

    @property
    def server_info(self) -> ServerInfo | None:
        """The typed ``initialize`` reply (its ``.raw`` is the dict the CLI sent)."""
        return self._server_info

    @property
    def options(self) -> ClaudeAgentOptions:
        """The options this session was opened with."""
        return self._options

    @property
    def closed(self) -> bool:
        """Whether the session is closed or closing (by you, or because its CLI went away)."""
        return self._portal.stopped or self._session.closed

    def statistics(self) -> SessionStatistics:
        """A snapshot of buffer use, pending requests and counters (taken in the session's
        thread, so it is consistent)."""
        try:
            return self._portal.call_sync(self._session.statistics)
        except SessionClosedError:
            # The loop is gone: nothing mutates the session any more once its thread ended.
            self._portal.wait_stopped()
            return self._session.statistics()

    # ------------------------------------------------------------ turns

    def send(
        self, prompt: Prompt, *, parent_tool_use_id: str | None = None, uuid: str | None = None
    ) -> None:
        """Sends a user message, starting a turn (see :meth:`trio_claude.Session.send`).

        Raises:
            SessionClosedError: The session is closed or broken.
            ProcessError: The CLI has exited.
        """
        portal = self._portal
        portal.call(
            portal.turn,
            functools.partial(
                self._session.send, prompt, parent_tool_use_id=parent_tool_use_id, uuid=uuid
            ),
        )

    def receive_response(self) -> BlockingMessageStream:
        """The messages of the current turn, up to and including its ``ResultMessage``.

        An error result is delivered like any other and ends the stream normally. ``break`` out
        of the loop leaves the turn running; the next ``receive_response()`` resumes it.

        Raises (from iteration):
            ProcessError: The CLI exited before the turn finished.
            SessionClosedError: The session was closed.
            BlockingUsageError: Another thread is receiving from this session.
        """
        return BlockingMessageStream(self._portal, self._session.receive_response())

    def run(
        self, prompt: Prompt, *, parent_tool_use_id: str | None = None, uuid: str | None = None
    ) -> TurnResult:
        """Sends ``prompt`` and collects the turn (see :meth:`trio_claude.Session.run`).

        Concurrent ``run()`` calls from several threads take turns (first come, first served).

        Returns:
            The turn's messages and result.

        Raises:
            ResultError: The turn ended with an error result.
            BlockingUsageError: Another thread is receiving from this session.
            TurnInProgressError: An earlier turn's messages have not all been received (a
                receive loop left early, or a ``send()`` not received): nothing is sent.
        """
        portal = self._portal
        run = functools.partial(
            self._session.run, prompt, parent_tool_use_id=parent_tool_use_id, uuid=uuid
        )
        return portal.call(portal.turn, functools.partial(portal.receive, run))

    def interrupt(self) -> InterruptResult:
        """Interrupts the running turn; keep receiving to get its remaining messages and result.

        Safe to call from another thread while one thread is receiving the turn.
        """
        return self._portal.call(self._session.interrupt)

    def abandon_turn(self) -> None:
        """Gives up the open turn (see :meth:`trio_claude.Session.abandon_turn`): after a
        receive loop left with ``break`` or an exception, when the rest is not wanted."""
        self._portal.call(_abandon_turn, self._session)

    def set_model(self, model: str | None = None) -> None:
        """Changes the model for the next turns (``None``: the default model)."""
        self._portal.call(self._session.set_model, model)

    def set_permission_mode(self, mode: str) -> None:
        """Changes the permission mode (``default``, ``acceptEdits``, ``plan``, ...)."""
        self._portal.call(self._session.set_permission_mode, mode)

    def call(
        self,
        fn: Callable[Concatenate[Session, P], Awaitable[R]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> R:
        """Runs ``await fn(session, *args, **kwargs)`` on the session's loop; returns its result.

        The way to reach every other :class:`trio_claude.Session` method, or to run any trio
        code next to the session::

            servers = blocking.call(lambda session: session.mcp_status())

        It runs at once (it takes no turn and is not a receiving call as far as the
        single-consumer check is concerned). A ``KeyboardInterrupt`` while it waits cancels it.
        """
        session = self._session

        async def awaited() -> R:
            result = fn(session, *args, **kwargs)
            if not inspect.isawaitable(result):
                raise TypeError(
                    "call() awaits what fn(session, ...) returns, and got a"
                    f" {type(result).__name__}: pass an async function (or one returning an"
                    " awaitable, like `lambda s: s.mcp_status()`); a plain method such as"
                    " statistics() is called directly, as blocking.statistics()"
                )
            return await result

        return self._portal.call(awaited)

    def close(self) -> None:
        """Closes the session, stops and reaps the CLI, and joins the session's thread.

        Idempotent; bounded in time like :meth:`trio_claude.Session.aclose`. Calls still
        running in other threads fail with :class:`~trio_claude.SessionClosedError`.
        """
        self._close(abort=False)

    def _close(self, *, abort: bool) -> None:
        self._finalizer.detach()
        self._portal.close(abort=abort)


def _collect_unclosed(portal: _Portal[Any]) -> None:
    """A session was garbage-collected while open: warn, and ask it to close (without waiting)."""
    if not portal.stopped:
        warnings.warn(
            "a trio_claude.blocking session was never closed; closing it now (use `with` or "
            "close())",
            ResourceWarning,
            stacklevel=1,
        )
        portal.request_close()


def _close_on_exit(close: Callable[[], None], exc: BaseException | None) -> None:
    """Closes for ``__exit__``: the block's own exception wins over an error while closing."""
    if exc is None:
        close()
        return
    try:
        close()
    except Exception as close_error:  # the block's exception goes on
        logger.warning("error while closing a blocking session: %r", close_error)


def open_session(options: ClaudeAgentOptions | None = None) -> BlockingSession:
    """Opens a Claude Code session in its own thread and returns once it is connected.

    Use it as a context manager (leaving the block in any way, ``KeyboardInterrupt``
    included, closes the session, reaps the CLI and joins the thread), or call
    :meth:`BlockingSession.close` yourself; a session still open at interpreter exit is closed
    then::

        with tcb.open_session(options) as session:
            turn = session.run("Hello")

    Callbacks in ``options`` stay ``async`` functions; they run in the session's thread, on its
    trio loop.

    Args:
        options: The session's options (defaults: ``ClaudeAgentOptions()``).

    Returns:
        The connected :class:`BlockingSession`.

    Raises:
        ConfigurationError: Invalid options (before anything is spawned).
        CLINotFoundError: No CLI found (before anything is spawned).
        CLIConnectionError: The CLI could not be started or did not initialize.
        ProcessError: The CLI exited during start-up.
        BlockingUsageError: Called from inside a running trio loop.
    """
    portal: _Portal[Session] = _Portal(lambda: _open_session(options))
    session = portal.start()
    return BlockingSession(portal, session)


def ask(prompt: Prompt, *, options: ClaudeAgentOptions | None = None) -> TurnResult:
    """Runs one prompt in a fresh session and returns the collected turn (blocking
    :func:`trio_claude.ask`).

    Args:
        prompt: Text, content blocks, a ``UserMessage`` or a wire ``user`` dict.
        options: Session options.

    Returns:
        The turn: ``.text``, ``.result``, ``.messages``, ``.structured_output``, ``.session_id``.

    Raises:
        ResultError: The turn ended with an error result (``.result_message`` has it).
        BlockingUsageError: Called from inside a running trio loop.
    """
    portal: _Portal[None] = _Portal(_nothing)
    portal.start()
    try:
        turn = portal.call(functools.partial(_ask, prompt, options=options))
    except BaseException:
        portal.close(abort=True)
        raise
    portal.close()
    return turn


class _QueryContext:
    """What :func:`query` returns: a context manager yielding a blocking message iterator."""

    def __init__(self, prompt: Prompt, options: ClaudeAgentOptions | None) -> None:
        self._prompt = prompt
        self._options = options
        self._portal: _Portal[MessageStream] | None = None

    def __enter__(self) -> BlockingMessageStream:
        prompt, options = self._prompt, self._options
        portal: _Portal[MessageStream] = _Portal(lambda: _query(prompt, options=options))
        stream = portal.start()
        self._portal = portal
        return BlockingMessageStream(portal, stream)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        portal, self._portal = self._portal, None
        if portal is not None:
            # As when an exception leaves ``async with tc.query(...)``: the session is closed
            # at once, without waiting for background work after the result.
            _close_on_exit(functools.partial(portal.close, abort=exc is not None), exc)


def query(prompt: Prompt, *, options: ClaudeAgentOptions | None = None) -> _QueryContext:
    """Runs one prompt in a fresh session and streams its messages (blocking
    :func:`trio_claude.query`)::

        with tcb.query("Summarise README.md", options=opts) as messages:
            for message in messages:
                ...

    Leaving the block, even half way through the stream, closes the session and stops the CLI.

    Args:
        prompt: Text, content blocks, a ``UserMessage`` or a wire ``user`` dict.
        options: Session options.

    Returns:
        A context manager yielding a :class:`BlockingMessageStream` of the turn's messages,
        ending with its ``ResultMessage`` (an error result included).
    """
    _check_not_in_trio()
    return _QueryContext(prompt, options)


@asynccontextmanager
async def _nothing() -> AsyncIterator[None]:
    yield
