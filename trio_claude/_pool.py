"""Warm start: a pool of initialised CLI processes, handed out in milliseconds.

Starting the CLI and answering ``initialize`` takes about 0.3 s. A pool keeps ``size`` sessions
started and initialised ahead of time, hands one out per ``async with pool.session():`` block,
closes it after use (a session is never reused: its conversation belongs to its user), and
starts a replacement in the background. Leaving ``open_session_pool`` closes everything.

With ``idle_ttl``, a pool that sees no demand for that long closes its warm sessions down to
``min_size`` and does not replace them until the next request, so an idle service holds no CLIs.

A CLI that cannot start (not logged in, a ``cli_path`` that exits at once...) is reported, not
waited out: when a start fails while no session is ready and no other start is under way, every
caller waiting in ``session()``/``wait_ready()`` gets that start's error (the ``ProcessError``
``open_session`` would raise, exit code and stderr tail included), and so does every new caller
until a start succeeds. The pool keeps retrying in the background with its backoff, so it
recovers on its own once the cause is fixed. A ``ConfigurationError`` cannot go away with the
same options: it stops the retries and every later call raises it.
"""

from __future__ import annotations

import copy
import logging
import math
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TypeVar

import attrs
import trio

from ._errors import ClaudeSDKError, ConfigurationError, SessionClosedError
from ._loop import check_loop
from ._opener import async_context_only
from ._options import ClaudeAgentOptions
from ._redact import redact_exception
from ._session import Session, _connect, _prepare, _Prepared
from ._transport._command import session_secrets
from ._transport._official import official_target
from ._util import BodyError, raise_collapsed

if sys.version_info < (3, 11):  # pragma: no cover - trio depends on the backport there
    from exceptiongroup import BaseExceptionGroup

__all__ = ["PoolStatistics", "SessionPool", "open_session_pool"]

logger = logging.getLogger("trio_claude")


@attrs.frozen(kw_only=True)
class PoolStatistics:
    """A snapshot of a pool (see :meth:`SessionPool.statistics`).

    Attributes:
        size: How many warm sessions the pool keeps.
        ready: Warm sessions waiting to be handed out.
        starting: Sessions being started.
        in_use: Sessions handed out and not yet returned.
        handed_out: Sessions handed out since the pool opened.
        failed_starts: Starts that failed (logged; the pool retries with a backoff).
        target: How many warm sessions the pool keeps right now: ``size``, or ``min_size``
            once ``idle_ttl`` has passed without demand.
        idle_closed: Warm sessions closed because the pool was idle (``idle_ttl``), those
            whose start completed after it went idle included.
        consecutive_failed_starts: Starts that failed since the last one that succeeded (0
            when the last start succeeded).
        last_start_error: The error of the most recent start if it failed, ``None`` once a
            start succeeds. While no session is ready and no other start is under way,
            ``session()`` and ``wait_ready()`` raise it. A ``ClaudeSDKError``, or what an
            official-style transport's ``connect()`` raised, as it is (as ``open_session``
            raises it).
    """

    size: int
    ready: int
    starting: int
    in_use: int
    handed_out: int
    failed_starts: int
    target: int = 0
    idle_closed: int = 0
    consecutive_failed_starts: int = 0
    last_start_error: Exception | None = None


class SessionPool:
    """Warm sessions, created by :func:`open_session_pool`."""

    def __init__(
        self,
        nursery: trio.Nursery,
        prepared: _Prepared,
        size: int,
        *,
        idle_ttl: float | None = None,
        min_size: int = 0,
    ) -> None:
        # The trio.run the pool's tasks live in: its methods are refused from any other.
        self._token = trio.lowlevel.current_trio_token()
        self._nursery = nursery
        self._prepared = prepared  # options validated and the CLI found once, at open
        self._options = prepared.options
        self._size = size
        self._ready_send, self._ready_recv = trio.open_memory_channel[Session](math.inf)
        self._ready = 0
        self._starting = 0
        self._in_use = 0
        self._handed_out = 0
        self._failed = 0
        self._closed = False
        self._all: set[Session] = set()
        self._ready_changed = trio.Event()  # set on a session ready, a failed start, close
        # Start failures: the latest error (None once a start succeeds), how many in a row, how
        # many starts sleep in their backoff (so starting - backing_off are under way), and an
        # error no retry can fix (ConfigurationError: the pool stops starting).
        self._start_error: Exception | None = None
        # The errors of a start that a retry may fix: the SDK's, and whatever an official-style
        # transport's connect() raises (the application's own types).
        official = official_target(prepared.options.transport) is not None
        self._start_errors: tuple[type[Exception], ...] = (
            (ClaudeSDKError, Exception) if official else (ClaudeSDKError,)
        )
        self._secrets = session_secrets(prepared.options, prepared.spec.env)
        self._consecutive_failures = 0
        self._backing_off = 0
        # Sessions found dead when handed out, in a row (reset by one handed out alive): a CLI
        # that dies right after initialize is a failed start too, and its replacements back off.
        self._dead_in_a_row = 0
        # Parked sessions (in the ready channel), and those of them whose CLI died there: taken
        # out of the count at once (a watcher per parked session), skipped when received.
        self._parked: set[Session] = set()
        self._dead_parked: set[Session] = set()
        self._fatal: ClaudeSDKError | None = None
        # The cancel scopes of the session() callers waiting on the channel: cancelled to make
        # them look at the pool again (a start failed with nothing else under way, or close).
        self._receivers: set[trio.CancelScope] = set()
        # Idle expiry: without demand for idle_ttl, keep only min_size warm (see _expire_idle).
        self._idle_ttl = idle_ttl
        self._min_size = min_size
        self._target = size
        self._idle_closed = 0
        self._waiting = 0
        self._last_demand = trio.current_time()
        self._demand_changed = trio.Event()

    @property
    def options(self) -> ClaudeAgentOptions:
        """The options every pooled session is opened with."""
        return self._options

    def statistics(self) -> PoolStatistics:
        """A snapshot of the pool."""
        return PoolStatistics(
            size=self._size,
            ready=self._ready,
            starting=self._starting,
            in_use=self._in_use,
            handed_out=self._handed_out,
            failed_starts=self._failed,
            target=self._target,
            idle_closed=self._idle_closed,
            consecutive_failed_starts=self._consecutive_failures,
            last_start_error=self._start_error,
        )

    def _fill(self) -> None:
        while (
            not self._closed and self._fatal is None and self._ready + self._starting < self._target
        ):
            self._starting += 1
            self._nursery.start_soon(self._start_one)

    def _failure(self) -> Exception | None:
        """The error callers get while the pool cannot start sessions, else ``None``.

        That is the last start's error while no start is under way (every pending one sleeps in
        its backoff), or an error no retry can fix. Callers who can be served are served first.
        """
        if self._fatal is not None:
            return self._fatal
        if self._start_error is not None and self._starting == self._backing_off:
            return self._start_error
        return None

    def _wake_waiters(self) -> None:
        """Makes every waiting ``session()`` and ``wait_ready()`` caller look at the pool again."""
        for scope in self._receivers:
            scope.cancel()
        self._ready_changed.set()
        self._ready_changed = trio.Event()

    async def _start_one(self) -> None:
        delay = 0.1
        try:
            if self._dead_in_a_row > 1:
                delay = min(0.1 * 2 ** (self._dead_in_a_row - 2), 5.0)
                await self._back_off(delay)
                delay = min(delay * 2, 5.0)
            while not self._closed and self._fatal is None:
                if self._ready + self._starting > self._target:
                    return  # no longer needed: the pool went idle while this one retried
                try:
                    session = await _connect(self._nursery, self._prepared)
                except ConfigurationError as exc:
                    # The options are fixed, so no retry can succeed: stop starting, and
                    # every caller from now on gets this error.
                    self._failed += 1
                    self._consecutive_failures += 1
                    self._start_error = self._fatal = exc
                    logger.error("a pooled session cannot start, the pool gives up: %s", exc)
                    self._wake_waiters()
                    return
                except self._start_errors as exc:
                    self._failed += 1
                    self._consecutive_failures += 1
                    self._start_error = exc
                    # (An SDK error's text is masked already; a transport's own is not.)
                    shown: object = exc
                    if not isinstance(exc, ClaudeSDKError):
                        masked = redact_exception(exc, self._secrets)
                        shown = f"the transport's connect() raised {masked}"
                    logger.warning("a pooled session failed to start: %s", shown)
                    await self._back_off(delay)
                    delay = min(delay * 2, 5.0)
                    continue
                self._start_error = None
                self._consecutive_failures = 0
                if self._closed or self._ready + self._starting > self._target:
                    if not self._closed:
                        self._idle_closed += 1  # the pool went idle while it started
                    await session.aclose()
                    return
                self._all.add(session)
                self._ready += 1
                self._parked.add(session)
                self._ready_send.send_nowait(session)
                self._nursery.start_soon(self._watch_parked, session)
                self._ready_changed.set()
                self._ready_changed = trio.Event()
                return
        finally:
            self._starting -= 1

    async def _back_off(self, delay: float) -> None:
        """Sleeps before a start that follows failures, counted as not under way."""
        self._backing_off += 1
        try:
            if self._starting == self._backing_off:
                self._wake_waiters()  # nothing else under way: report the error
            await trio.sleep(delay)
        finally:
            self._backing_off -= 1

    async def _watch_parked(self, session: Session) -> None:
        """Notices a parked session's CLI dying: not counted ready any more, closed, replaced
        (the next caller gets a warm session, not a dead one or a cold start)."""
        await session._wait_output_end()
        if session not in self._parked or self._closed:
            return  # handed out (its borrower has it), or the pool is closing it
        self._parked.discard(session)
        self._dead_parked.add(session)
        self._ready -= 1
        self._purge_dead_parked()
        self._dead_on_arrival(session)
        self._fill()

    def _purge_dead_parked(self) -> None:
        """Takes the dead out of the ready channel now: an idle pool would otherwise keep every
        session whose CLI died parked (its inbox, its state) until a caller came. The live
        ones go back in their order (a receiver only waits when the channel is empty)."""
        live = []
        while True:
            try:
                session = self._ready_recv.receive_nowait()
            except trio.WouldBlock:
                break
            if session in self._dead_parked:
                self._dead_parked.discard(session)
            else:
                live.append(session)
        for session in live:
            self._ready_send.send_nowait(session)

    def _take_parked(self, session: Session) -> bool:
        """A session received from the ready channel: whether it still counts (one that died
        parked was taken out of the count already)."""
        if session in self._dead_parked:
            self._dead_parked.discard(session)
            return False
        self._parked.discard(session)
        self._ready -= 1
        return True

    def _dead_on_arrival(self, session: Session) -> None:
        """A parked session whose CLI died before anyone used it: closed (it held its tasks
        and a ``process_limiter`` slot) and counted as a failed start. One is replaced at once;
        when they keep dying, their replacements back off and callers get the error (a CLI
        that dies right after ``initialize`` restarted at full speed, forever)."""
        self._all.discard(session)
        self._nursery.start_soon(session.aclose)
        error = session._death_error()
        if not isinstance(error, ClaudeSDKError):
            error = SessionClosedError(f"a pooled session's CLI died before use: {error}")
        self._failed += 1
        self._dead_in_a_row += 1
        if self._dead_in_a_row > 1:
            self._start_error = error
        logger.warning("a pooled session's CLI died before use: %s", error)

    async def wait_ready(self, count: int | None = None) -> None:
        """Waits until ``count`` warm sessions (default: the pool's size) are ready.

        Raises:
            SessionClosedError: The pool is closed.
            ClaudeSDKError: The pool cannot start sessions: a start failed with fewer than
                ``count`` ready and no other start under way, so this raises that start's
                error, as :func:`~trio_claude.open_session` would (``ProcessError`` with the
                exit code and stderr tail, ``CLIConnectionError``, ``ConfigurationError``...).
                The pool keeps retrying: a later call can succeed.
        """
        check_loop(self._token, "this session pool")
        target = self._size if count is None else min(count, self._size)
        with self._demand():
            while self._ready < target:
                if self._closed:
                    raise SessionClosedError("the session pool is closed")
                error = self._failure()
                if error is not None:
                    await trio.lowlevel.checkpoint()
                    raise _for_caller(error)
                await self._ready_changed.wait()
            await trio.lowlevel.checkpoint()

    @contextmanager
    def _demand(self) -> Iterator[None]:
        """Someone wants a session: refill to ``size`` if the pool went idle; not idle while
        anyone waits."""
        self._waiting += 1
        self._last_demand = trio.current_time()
        if self._target < self._size:
            self._target = self._size
            self._fill()
        self._poke()
        try:
            yield
        finally:
            self._waiting -= 1
            self._last_demand = trio.current_time()
            self._poke()

    def _poke(self) -> None:
        self._demand_changed.set()
        self._demand_changed = trio.Event()

    async def _expire_idle(self) -> None:
        """Without demand for ``idle_ttl``, closes warm sessions down to ``min_size``."""
        ttl = self._idle_ttl
        assert ttl is not None
        while True:
            changed = self._demand_changed
            if self._waiting or self._target <= self._min_size:
                await changed.wait()
                continue
            deadline = self._last_demand + ttl
            if trio.current_time() < deadline:
                with trio.move_on_at(deadline):
                    await changed.wait()
                continue
            self._target = self._min_size
            logger.info("session pool idle for %g s: keeping %d warm", ttl, self._min_size)
            while self._ready > self._target and not self._closed:
                session = self._ready_recv.receive_nowait()
                if not self._take_parked(session):
                    continue
                self._all.discard(session)
                self._idle_closed += 1
                await session.aclose()

    @async_context_only("session", name="pool.session")
    @asynccontextmanager
    async def session(self) -> AsyncIterator[Session]:
        """Hands out a warm session for the block; it is closed (not reused) afterwards.

        Waits if none is ready yet (the first ones are starting, or all are in use).

        Raises:
            SessionClosedError: The pool is closed.
            ClaudeSDKError: The pool cannot start sessions: none is ready, a start failed and
                no other start is under way, so this raises that start's error, as
                :func:`~trio_claude.open_session` would (``ProcessError`` with the exit code
                and stderr tail, ``CLIConnectionError``, ``ConfigurationError``...). Callers
                waiting when it happens get it too. The pool keeps retrying in the background
                (a ``ConfigurationError`` stops it): once a start succeeds, calls succeed.
        """
        check_loop(self._token, "this session pool")
        with self._demand():
            while True:
                if self._closed:
                    raise SessionClosedError("the session pool is closed")
                if not self._ready:
                    error = self._failure()
                    if error is not None:
                        await trio.lowlevel.checkpoint()
                        raise _for_caller(error)
                with trio.CancelScope() as wake:
                    self._receivers.add(wake)
                    try:
                        session = await self._ready_recv.receive()
                    finally:
                        self._receivers.discard(wake)
                if wake.cancelled_caught:
                    continue  # woken by the pool (a failed start, close): look again
                if not self._take_parked(session):
                    continue  # died parked: closed and replaced already
                if session.closed or session.returncode is not None:
                    # Died while parked (the CLI crashed): replaced, and the next one taken.
                    self._dead_on_arrival(session)
                    self._fill()
                    continue
                self._dead_in_a_row = 0
                break
        self._in_use += 1
        self._handed_out += 1
        self._fill()
        try:
            yield session
        finally:
            self._in_use -= 1
            self._all.discard(session)
            await session.aclose()

    async def aclose(self) -> None:
        """Closes every session of the pool (shielded, bounded by each session's close)."""
        check_loop(self._token, "this session pool")
        self._closed = True
        self._wake_waiters()  # they raise SessionClosedError
        with trio.CancelScope(shield=True):
            # All at once: one after another, a pool of n CLIs that ignore stdin took n close
            # timeouts.
            async with trio.open_nursery() as closing:
                for session in list(self._all):
                    closing.start_soon(session.aclose)
        self._all.clear()
        self._nursery.cancel_scope.cancel()


_E = TypeVar("_E", bound=Exception)


def _for_caller(error: _E) -> _E:
    """A copy of a failed start's error for one caller to raise.

    The same type, message and attributes (``exit_code``, ``stderr``...) and the same cause,
    but its own traceback: callers in several tasks never raise (and extend) one object. An
    error of another type (an official-style transport's ``connect()``) is copied as
    ``copy.copy`` copies it, or shared when the copy would not say the same thing.
    """
    fresh: _E
    if isinstance(error, ClaudeSDKError):
        cls = type(error)
        try:
            fresh = cls.__new__(cls, *error.args)
            fresh.__dict__.update(error.__dict__)
        except Exception:  # pragma: no cover - an exotic subclass: share the original
            return error
    else:
        try:
            fresh = copy.copy(error)
            same = (
                type(fresh) is type(error)
                and repr(fresh) == repr(error)
                and str(fresh) == str(error)
                and getattr(fresh, "__dict__", None) == getattr(error, "__dict__", None)
                and not _has_slots(type(error))
            )
        except Exception:
            same = False
        if not same:
            return error
    fresh.__cause__ = error.__cause__
    fresh.__context__ = error.__context__
    fresh.__suppress_context__ = error.__suppress_context__
    return fresh


def _has_slots(cls: type) -> bool:
    """Whether a class of the error's has ``__slots__`` (``copy.copy`` of an exception keeps
    its ``__dict__`` and ``args``, not its slots)."""
    return any("__slots__" in vars(klass) for klass in cls.__mro__[:-2])


@async_context_only("pool")
@asynccontextmanager
async def open_session_pool(
    options: ClaudeAgentOptions | None = None,
    *,
    size: int = 2,
    idle_ttl: float | None = None,
    min_size: int = 0,
) -> AsyncIterator[SessionPool]:
    """Keeps ``size`` initialised sessions ready; ``pool.session()`` hands one out.

    ::

        async with trio_claude.open_session_pool(opts, size=4) as pool:
            async with pool.session() as session:     # ready in milliseconds
                turn = await session.run("...")

    Args:
        options: Options for every session.
        size: How many warm sessions to keep ready (at least 1).
        idle_ttl: Seconds without demand (no ``session()`` or ``wait_ready()`` call) after
            which warm sessions beyond ``min_size`` are closed and not replaced, so an idle
            service holds no CLIs; the next request refills the pool to ``size`` (``None``:
            never).
        min_size: Warm sessions kept through idle periods (0 to ``size``; only with
            ``idle_ttl``).

    Raises:
        ConfigurationError: Invalid options or size (before anything starts).
        CLINotFoundError: No CLI found (before anything starts).

    A CLI that cannot start is reported by ``pool.session()`` and ``pool.wait_ready()`` (see
    :meth:`SessionPool.session`), which raise the failed start's error rather than wait.
    """
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ConfigurationError(f"size must be a positive integer, got {size!r}")
    if idle_ttl is not None and (
        isinstance(idle_ttl, bool)
        or not isinstance(idle_ttl, (int, float))
        or math.isnan(idle_ttl)
        or idle_ttl <= 0
    ):
        raise ConfigurationError(f"idle_ttl must be a number > 0, got {idle_ttl!r}")
    if isinstance(min_size, bool) or not isinstance(min_size, int) or not 0 <= min_size <= size:
        raise ConfigurationError(f"min_size must be an integer from 0 to size, got {min_size!r}")
    if min_size and idle_ttl is None:
        raise ConfigurationError("min_size has no effect without idle_ttl")
    prepared = await _prepare(options)
    body = BodyError()
    try:
        async with trio.open_nursery() as nursery:
            pool = SessionPool(nursery, prepared, size, idle_ttl=idle_ttl, min_size=min_size)
            pool._fill()
            if idle_ttl is not None:
                nursery.start_soon(pool._expire_idle)
            try:
                with body:
                    yield pool
            finally:
                await pool.aclose()
    except BaseExceptionGroup as group:
        raise_collapsed(group, body.error)
