"""Blocking code in callbacks: :func:`in_thread`, and the slow-callback detector.

Every session of a process shares one trio event loop. A callback the CLI waits for
(``can_use_tool``, a hook, an in-process ``@tool`` handler, ``on_elicitation``) may be a plain
function; it is then called *on* the loop, so a blocking body (``time.sleep``, ``requests.get``,
a database driver) freezes every session, the readers, the writers and the watchdogs until it
returns. :func:`in_thread` turns such a function into an ``async`` one that runs it in a worker
thread (:func:`trio.to_thread.run_sync`). :func:`call_maybe_async` is how the SDK calls every
such callback; it times the synchronous part and logs one warning per callback that held the
loop for longer than :data:`SLOW_CALLBACK_SECONDS`.
"""

from __future__ import annotations

import functools
import inspect
import logging
import time
import weakref
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, ParamSpec, Protocol, TypeVar, overload

import attrs
import trio

if TYPE_CHECKING:
    from ._mcp import SdkMcpTool

__all__ = ["SLOW_CALLBACK_SECONDS", "call_maybe_async", "in_thread"]

logger = logging.getLogger("trio_claude")

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

#: A sync callback that holds the event loop longer than this (seconds) is reported once, with a
#: warning on the ``trio_claude`` logger. A diagnostic, not a limit: nothing is interrupted.
SLOW_CALLBACK_SECONDS = 0.1

#: The clock the detector reads (tests replace it; ``time.perf_counter`` is monotonic and fine
#: grained, and unlike ``trio.current_time()`` it advances while the loop is blocked).
_clock: Callable[[], float] = time.perf_counter

#: Callbacks already reported (weakly held: a callback that goes away is forgotten).
_reported: weakref.WeakSet[Any] = weakref.WeakSet()


class _InThreadDecorator(Protocol):
    """What ``in_thread(limiter=...)`` returns: ``in_thread`` with the limiter bound."""

    @overload
    def __call__(self, fn: SdkMcpTool[T], /) -> SdkMcpTool[T]: ...
    @overload
    def __call__(self, fn: Callable[P, R], /) -> Callable[P, Coroutine[Any, Any, R]]: ...


@overload
def in_thread(
    fn: SdkMcpTool[T], /, *, limiter: trio.CapacityLimiter | None = None
) -> SdkMcpTool[T]: ...
@overload
def in_thread(
    fn: Callable[P, R], /, *, limiter: trio.CapacityLimiter | None = None
) -> Callable[P, Coroutine[Any, Any, R]]: ...
@overload
def in_thread(
    fn: None = None, /, *, limiter: trio.CapacityLimiter | None = None
) -> _InThreadDecorator: ...
def in_thread(fn: Any = None, /, *, limiter: trio.CapacityLimiter | None = None) -> Any:
    """Makes a blocking sync function an ``async`` one that runs in a worker thread.

    Use it for callbacks whose body blocks (``time.sleep``, ``requests.get``, file or database
    I/O), so they do not freeze the event loop every session of the process runs on::

        @tc.in_thread
        def policy(tool_name, input, context):
            allowed = requests.get(POLICY_URL, params={"tool": tool_name}).json()["allowed"]
            return tc.PermissionResultAllow() if allowed else tc.PermissionResultDeny()

        @tc.tool("lookup", "Look a customer up", {"id": int})
        @tc.in_thread                      # the other order works too
        def lookup(args):
            return db.fetch_customer(args["id"])

    It works for ``can_use_tool``, hook callbacks, ``@tc.tool`` handlers (applied above or
    below ``@tc.tool``) and ``on_elicitation``. The wrapper keeps the function's ``__name__``,
    ``__doc__`` and signature (``functools.wraps``). The body may call back into trio with
    ``trio.from_thread.run`` / ``run_sync``.

    Cancellation: a thread cannot be interrupted, so when the awaiting task is cancelled
    (``can_use_tool_timeout``, a hook deadline, ``control_cancel_request``, the session
    closing) the wrapper returns at once (``abandon_on_cancel=True``) and the thread's result is
    discarded when it eventually finishes. Deadlines and ``close()`` therefore stay bounded even
    if the body hangs; the abandoned thread keeps its ``limiter`` token until it returns.

    Args:
        fn: A plain (not ``async``) function, or an :class:`SdkMcpTool` made by ``@tc.tool``
            (its handler is wrapped). Omit it to get a decorator with ``limiter`` bound:
            ``@tc.in_thread(limiter=db_limiter)``.
        limiter: The :class:`trio.CapacityLimiter` bounding how many such threads run at once
            (default: trio's shared limiter, 40 threads).

    Returns:
        An ``async`` function with ``fn``'s signature returning ``fn``'s result (or, for a
        tool, a copy of the tool whose handler is wrapped).

    Raises:
        TypeError: ``fn`` is already ``async`` (it cannot run in a thread; make it sync, or
            keep it async and await non-blocking code instead), or is not callable.
    """
    if fn is None:
        return functools.partial(in_thread, limiter=limiter)
    from ._mcp import SdkMcpTool

    if isinstance(fn, SdkMcpTool):
        return attrs.evolve(fn, handler=in_thread(fn.handler, limiter=limiter))
    if not callable(fn):
        raise TypeError(f"in_thread needs a function, got {type(fn).__name__}")
    if inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None)  # noqa: B004  # an instance with an async __call__
    ):
        raise TypeError(
            f"in_thread needs a plain function; {_callable_name(fn)} is already async "
            "(an async callback runs on the event loop and must not block it)"
        )
    sync_fn: Callable[..., Any] = fn
    name = f"trio_claude.in_thread({_callable_name(fn)})"

    @functools.wraps(sync_fn)
    async def run_in_thread(*args: Any, **kwargs: Any) -> Any:
        return await trio.to_thread.run_sync(
            functools.partial(sync_fn, *args, **kwargs),
            thread_name=name,
            abandon_on_cancel=True,
            limiter=limiter,
        )

    return run_in_thread


def _callable_name(fn: Any) -> str:
    target = getattr(fn, "__func__", fn)
    qualname = getattr(target, "__qualname__", None)
    if not isinstance(qualname, str):
        return repr(fn)
    module = getattr(target, "__module__", None)
    return f"{module}.{qualname}" if isinstance(module, str) else qualname


def _report_slow(fn: Any, elapsed: float, what: str | None) -> None:
    key = getattr(fn, "__func__", fn)  # bound methods are new objects at every access
    try:
        if key in _reported:
            return
        _reported.add(key)
    except TypeError:  # not weakly referenceable: report every time rather than never
        pass
    logger.warning(
        "%s%s is a sync callback and blocked the event loop for %.0f ms; every session in this "
        "process was frozen meanwhile. Wrap it with trio_claude.in_thread (or make it async and "
        "non-blocking). Reported once per callback.",
        f"{what}: " if what else "",
        _callable_name(fn),
        elapsed * 1000,
    )


async def call_maybe_async(fn: Callable[..., Any], *args: Any, what: str | None = None) -> Any:
    """Calls ``fn(*args)``; awaits the result if it is awaitable (async or sync callbacks).

    The synchronous part of the call (all of it, for a plain function) runs on the event loop;
    when it takes :data:`SLOW_CALLBACK_SECONDS` or more, one warning per callback names it and
    suggests :func:`in_thread`.

    Args:
        fn: The callback.
        *args: Its arguments.
        what: What the callback is, for the warning (``"can_use_tool"``, ...).

    Returns:
        What the callback returned (awaited if awaitable).
    """
    start = _clock()
    result = fn(*args)
    elapsed = _clock() - start
    if elapsed >= SLOW_CALLBACK_SECONDS:
        _report_slow(fn, elapsed, what)
    if inspect.isawaitable(result):
        result = await result
    return result
