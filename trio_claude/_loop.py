"""Which event loop is running: trio-claude runs on trio, and a session on the run that opened it.

Checked at the entry points (the ``open_*`` functions, ``query()``, the official client's
``connect``) and wherever a session's methods would touch its tasks: from asyncio, or from
another ``trio.run`` (a thread that starts its own), they would otherwise fail deep inside trio
(``must be called from async context``; an ``AssertionError`` in the session's own loop after
its reader woke a task of the other run) or wait for ever.
"""

from __future__ import annotations

import sys

import trio

from ._errors import WrongEventLoopError

_START_WITH_TRIO = (
    "start it with trio.run(main), or anyio.run(main, backend='trio'); code written for the"
    " official SDK runs unchanged under trio"
)


def _not_trio(what: str) -> WrongEventLoopError:
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
        raise WrongEventLoopError(
            f"{what} belongs to the trio.run() that opened it, and was used from another one:"
            " use it from its own run (from another thread: trio.from_thread.run with that"
            " run's token, or trio_claude.blocking)"
        )
