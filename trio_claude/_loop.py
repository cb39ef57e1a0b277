"""Which event loop is running: trio-claude runs on trio, and a session on the run that opened it.

Checked at the entry points (the ``open_*`` functions, ``query()``, the official client's
``connect``) and wherever a session's methods would touch its tasks: from asyncio, or from
another ``trio.run`` (a thread that starts its own), they would otherwise fail deep inside trio
(``must be called from async context``; an ``AssertionError`` in the session's own loop after
its reader woke a task of the other run) or wait for ever.

Also :func:`virtual_clock_hint`, for messages about timeouts that may have expired in virtual
time (a ``MockClock`` that autojumps) while a real process worked in real time.

This module imports nothing of trio_claude at import time (``WrongEventLoopError`` is imported
where it is raised), so any module, ``_errors`` included, may import it.
"""

from __future__ import annotations

import math
import sys
from typing import TYPE_CHECKING

import trio

if TYPE_CHECKING:
    from ._errors import WrongEventLoopError

_START_WITH_TRIO = (
    "start it with trio.run(main), or anyio.run(main, backend='trio'); code written for the"
    " official SDK runs unchanged under trio"
)


def _not_trio(what: str) -> WrongEventLoopError:
    from ._errors import WrongEventLoopError

    asyncio = sys.modules.get("asyncio")
    running = None
    if asyncio is not None:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
    if running is not None:
        return WrongEventLoopError(
            f"{what} runs on trio, but this code runs under asyncio: {_START_WITH_TRIO}"
        )
    return WrongEventLoopError(
        f"{what} must be called from trio (inside trio.run); from a thread, use"
        " trio_claude.blocking or trio.from_thread"
    )


def require_trio(what: str) -> trio.lowlevel.TrioToken:
    """The running trio loop's token.

    Raises:
        WrongEventLoopError: No trio loop runs in this thread (asyncio does, say).
    """
    try:
        return trio.lowlevel.current_trio_token()
    except RuntimeError:
        raise _not_trio(what) from None


def check_loop(token: trio.lowlevel.TrioToken, what: str) -> None:
    """Checks that the caller runs in the ``trio.run`` whose token is ``token``.

    Raises:
        WrongEventLoopError: It does not (another run, asyncio, or no loop at all).
    """
    if require_trio(what) is not token:
        from ._errors import WrongEventLoopError

        raise WrongEventLoopError(
            f"{what} belongs to the trio.run() that opened it, and was used from another one:"
            " use it from its own run (from another thread: trio.from_thread.run with that"
            " run's token, or trio_claude.blocking)"
        )


def virtual_clock_hint() -> str:
    """Why a timeout may have expired at once: the run's clock is a ``MockClock`` that autojumps.

    Under ``trio.testing.MockClock(autojump_threshold=...)`` (the ``autojump_clock`` fixture),
    virtual time jumps to the next deadline whenever every task waits, and a task waiting for a
    real process (the ``claude`` CLI, whose answer takes real time) is waiting: a 60 s
    ``initialize`` timeout or a 5 s reap wait expires after milliseconds of wall time.

    Returns:
        A sentence starting with a space, to append to an error or log message as is, when the
        running trio clock is a ``MockClock`` with a finite ``autojump_threshold``; ``""``
        otherwise (the real clock, a ``MockClock`` without autojump, or no trio run).
    """
    try:
        clock = trio.lowlevel.current_clock()
    except RuntimeError:
        return ""
    # A MockClock exists only if trio.testing was imported: no need to import it here.
    testing = sys.modules.get("trio.testing")
    if testing is None or not isinstance(clock, testing.MockClock):
        return ""
    threshold = clock.autojump_threshold
    if not math.isfinite(threshold):
        return ""
    return (
        " (this trio run's clock is a trio.testing.MockClock with"
        f" autojump_threshold={threshold:g}: virtual time jumps ahead whenever every task waits,"
        " so a real CLI, which works in real time, sees its timeouts expire at once; run the"
        " real CLI under the real clock, without autojump_clock)"
    )
