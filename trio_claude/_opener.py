"""What the ``open_*`` functions return: an async context manager that says how to use it.

``session = open_session(opts)`` (the ``async with`` forgotten) used to fail later with
``'_AsyncGeneratorContextManager' object has no attribute 'run'``, and ``await open_session()``
with a message about ``await`` expressions: errors that name an internal of ``contextlib``, not
the mistake. :func:`async_context_only` wraps an ``@asynccontextmanager`` function so that its
result behaves exactly as before under ``async with`` and explains every other use.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Generator
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, NoReturn, ParamSpec, TypeVar

from ._loop import require_trio

T = TypeVar("T")
P = ParamSpec("P")


class AsyncContextOnly(AbstractAsyncContextManager[T], Generic[T]):
    """An async context manager (delegated to unchanged) that explains the usual misuses:
    ``await`` it, reach for an attribute of what it would yield, or enter it twice.

    It has no ``__enter__``: code that tells sync from async context managers by their methods
    must still see an async one (``with`` it says that the object does not support the
    context manager protocol, naming this class).
    """

    __slots__ = ("_entered", "_manager", "_name", "_what")

    def __init__(self, manager: AbstractAsyncContextManager[T], name: str, what: str) -> None:
        self._manager = manager
        self._name = name
        self._what = what
        self._entered = False

    async def __aenter__(self) -> T:
        require_trio(f"{self._name}()")
        if self._entered:
            raise RuntimeError(
                f"this {self._name}() was already entered: call {self._name}(...) again for"
                f" another {self._what}"
            )
        self._entered = True
        return await self._manager.__aenter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        return await self._manager.__aexit__(exc_type, exc, tb)

    def _usage(self) -> str:
        return f"`async with {self._name}(...) as {self._what}:`"

    if not TYPE_CHECKING:
        # Run-time help only: a type checker that saw these would take every attribute, and
        # the awaited value, as NoReturn, and stop checking the code after them without a word;
        # unseen, `session.run` on the opener and `await open_session(...)` are its errors.

        def __await__(self) -> Generator[Any, None, NoReturn]:
            raise TypeError(
                f"{self._name}() is an async context manager, not a coroutine: use {self._usage()}"
                f" (the {self._what} lives for the block, and is closed when it ends)"
            )

        def __getattr__(self, name: str) -> NoReturn:
            if name.startswith("__"):
                raise AttributeError(name)
            raise AttributeError(
                f"{self._name}() returns an async context manager, not the {self._what}: use"
                f" {self._usage()}, then `{self._what}.{name}`"
            )

    def __repr__(self) -> str:
        return f"<{self._name}() context manager: use {self._usage()}>"


def async_context_only(
    what: str, name: str | None = None
) -> Callable[[Callable[P, AbstractAsyncContextManager[T]]], Callable[P, AsyncContextOnly[T]]]:
    """Wraps an ``open_*`` function whose result is an async context manager (see the module
    docstring); ``what`` names what its block gets (``session``, ``pool``...), ``name`` how the
    caller spells the call (the function's name by default; ``pool.session`` for a method)."""

    def wrap(
        function: Callable[P, AbstractAsyncContextManager[T]],
    ) -> Callable[P, AsyncContextOnly[T]]:
        @functools.wraps(function)
        def opener(*args: P.args, **kwargs: P.kwargs) -> AsyncContextOnly[T]:
            return AsyncContextOnly(function(*args, **kwargs), name or function.__name__, what)

        return opener

    return wrap
