"""Warm start: a pool of initialised CLI processes, handed out in milliseconds.

Starting the CLI and answering ``initialize`` takes about 0.3 s. A pool keeps ``size`` sessions
started and initialised ahead of time, hands one out per ``async with pool.session():`` block,
closes it after use (a session is never reused: its conversation belongs to its user), and
starts a replacement in the background. Leaving ``open_session_pool`` closes everything.
"""

from __future__ import annotations

import logging
import math
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import attrs
import trio

from ._errors import ClaudeSDKError, ConfigurationError, SessionClosedError
from ._options import ClaudeAgentOptions
from ._session import Session, _prepare, connect_session
from ._util import collapse_group

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
    """

    size: int
    ready: int
    starting: int
    in_use: int
    handed_out: int
    failed_starts: int


class SessionPool:
    """Warm sessions, created by :func:`open_session_pool`."""

    def __init__(self, nursery: trio.Nursery, options: ClaudeAgentOptions, size: int) -> None:
        self._nursery = nursery
        self._options = options
        self._size = size
        self._ready_send, self._ready_recv = trio.open_memory_channel[Session](math.inf)
        self._ready = 0
        self._starting = 0
        self._in_use = 0
        self._handed_out = 0
        self._failed = 0
        self._closed = False
        self._all: set[Session] = set()
        self._ready_changed = trio.Event()

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
        )

    def _fill(self) -> None:
        while not self._closed and self._ready + self._starting < self._size:
            self._starting += 1
            self._nursery.start_soon(self._start_one)

    async def _start_one(self) -> None:
        delay = 0.1
        try:
            while not self._closed:
                try:
                    session = await connect_session(self._nursery, self._options)
                except ClaudeSDKError as exc:
                    self._failed += 1
                    logger.warning("a pooled session failed to start: %s", exc)
                    await trio.sleep(delay)
                    delay = min(delay * 2, 5.0)
                    continue
                self._all.add(session)
                self._ready += 1
                self._ready_send.send_nowait(session)
                self._ready_changed.set()
                self._ready_changed = trio.Event()
                return
        finally:
            self._starting -= 1

    async def wait_ready(self, count: int | None = None) -> None:
        """Waits until ``count`` warm sessions (default: the pool's size) are ready.

        Raises:
            SessionClosedError: The pool is closed.
        """
        target = self._size if count is None else min(count, self._size)
        while self._ready < target:
            if self._closed:
                raise SessionClosedError("the session pool is closed")
            await self._ready_changed.wait()
        await trio.lowlevel.checkpoint()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[Session]:
        """Hands out a warm session for the block; it is closed (not reused) afterwards.

        Waits if none is ready yet (the first ones are starting, or all are in use).

        Raises:
            SessionClosedError: The pool is closed.
        """
        while True:
            if self._closed:
                raise SessionClosedError("the session pool is closed")
            session = await self._ready_recv.receive()
            self._ready -= 1
            if session.closed or session.returncode is not None:
                # Died while waiting (the CLI crashed): discard it and take the next one.
                self._all.discard(session)
                self._fill()
                continue
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
        self._closed = True
        with trio.CancelScope(shield=True):
            for session in list(self._all):
                await session.aclose()
        self._all.clear()
        self._nursery.cancel_scope.cancel()


@asynccontextmanager
async def open_session_pool(
    options: ClaudeAgentOptions | None = None, *, size: int = 2
) -> AsyncIterator[SessionPool]:
    """Keeps ``size`` initialised sessions ready; ``pool.session()`` hands one out.

    ::

        async with trio_claude.open_session_pool(opts, size=4) as pool:
            async with pool.session() as session:     # ready in milliseconds
                turn = await session.run("...")

    Args:
        options: Options for every session.
        size: How many warm sessions to keep ready (at least 1).

    Raises:
        ConfigurationError: Invalid options or size (before anything starts).
        CLINotFoundError: No CLI found (before anything starts).
    """
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ConfigurationError(f"size must be a positive integer, got {size!r}")
    if options is None:
        options = ClaudeAgentOptions()
    _prepare(options)
    try:
        async with trio.open_nursery() as nursery:
            pool = SessionPool(nursery, options, size)
            pool._fill()
            try:
                yield pool
            finally:
                await pool.aclose()
    except BaseExceptionGroup as group:
        raise collapse_group(group) from None
