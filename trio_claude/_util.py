"""Small helpers shared by the trio shell."""

from __future__ import annotations

import contextvars
import inspect
import logging
import os
import sys
import warnings
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any, NoReturn

import trio

from ._errors import SessionClosedError
from ._redact import redact_exception, redact_preview

if sys.version_info < (3, 11):  # pragma: no cover - trio depends on the backport there
    from exceptiongroup import BaseExceptionGroup

__all__ = [
    "BodyError",
    "StderrTail",
    "close_prompts",
    "collapse_group",
    "iter_leaves",
    "raise_collapsed",
]

logger = logging.getLogger("trio_claude")

#: How long an async generator of prompts may take to close (its ``finally``) once the SDK
#: stops reading it early.
PROMPTS_CLOSE_SECONDS = 5.0


async def close_prompts(prompts: AsyncIterator[Any], secrets: Iterable[str] = ()) -> None:
    """Closes an async generator of prompts that the SDK stopped reading before its end (the
    session failed, a send was cancelled): its ``finally`` runs now, in this task, as
    ``contextlib.aclosing`` would run it, not later in trio's finalizer of collected
    generators (a system task). Shielded from a cancellation of the caller and bounded: a
    ``finally`` that waits longer than 5 s is cancelled. Any other iterator (a memory
    channel, say) is the application's, and stays open.

    A failure of the generator's own cleanup is logged, not raised: the error that stopped
    the reading is the one the caller gets.
    """
    if not inspect.isasyncgen(prompts) or prompts.ag_frame is None or prompts.ag_running:
        return  # not a generator, finished already, or being iterated elsewhere
    try:
        # Shielded: a cancelled reader (the usual way here) still gives the cleanup its time.
        with trio.CancelScope(shield=True, deadline=trio.current_time() + PROMPTS_CLOSE_SECONDS):
            await prompts.aclose()
    except Exception as exc:
        logger.warning(
            "the prompt generator failed while closing: %s",
            redact_exception(exc, tuple(secrets)),
        )


def iter_leaves(exc: BaseException) -> Iterator[BaseException]:
    """Yields the non-group exceptions inside ``exc`` (``exc`` itself if it is not a group)."""
    if isinstance(exc, BaseExceptionGroup):
        for child in exc.exceptions:
            yield from iter_leaves(child)
    else:
        yield exc


class BodyError:
    """What the body of an ``async with`` opener raised: ``with body: yield value``.

    The opener's nursery wraps it in a group of its own; :func:`collapse_group` takes off that
    layer (and any other group of the SDK's around it) and hands the body's exception back as
    the user raised it, a group included: never flattened, never wrapped.
    """

    __slots__ = ("error",)

    def __init__(self) -> None:
        self.error: BaseException | None = None

    def __enter__(self) -> BodyError:
        return self

    def __exit__(self, kind: object, error: BaseException | None, tb: object) -> None:
        self.error = error


def _only_cancelled(exc: BaseException) -> bool:
    return all(isinstance(leaf, trio.Cancelled) for leaf in iter_leaves(exc))


def _body_alone(
    group: BaseExceptionGroup[BaseException], body: BaseException
) -> BaseException | None:
    """``body`` (or trio's copy of it), if it is all ``group`` holds besides cancellations,
    under groups of one; else ``None``."""
    layer = group
    while True:
        real = [e for e in layer.exceptions if not _only_cancelled(e)]
        if len(real) != 1:
            return None
        seen: BaseException = real[0]
        if seen is body:
            return body
        if _same(seen, body):
            # Trio's copy: the body's own group may have held cancellations of scopes that
            # trio has since caught (the copy is what is left); as raised, if it held none.
            has_cancelled = any(isinstance(e, trio.Cancelled) for e in iter_leaves(body))
            return seen if has_cancelled else body
        if not isinstance(seen, BaseExceptionGroup):
            return None
        layer = seen


def _same(seen: BaseException, body: BaseException) -> bool:
    """Whether ``seen`` is trio's copy of the group ``body`` (a nursery passes a group on as a
    copy: ``derive``), holding the same exceptions but cancellations."""
    if not (isinstance(seen, BaseExceptionGroup) and isinstance(body, BaseExceptionGroup)):
        return False
    if seen.message != body.message:
        return False
    mine = [e for e in iter_leaves(body) if not isinstance(e, trio.Cancelled)]
    theirs = [e for e in iter_leaves(seen) if not isinstance(e, trio.Cancelled)]
    return len(mine) == len(theirs) and all(a is b for a, b in zip(mine, theirs, strict=True))


def collapse_group(
    group: BaseExceptionGroup[BaseException], body: BaseException | None = None
) -> BaseException:
    """The one exception a user should see for ``group`` (trio-websocket's policy).

    ``body``: what the body of the ``async with`` raised (:class:`BodyError`). When the group
    holds nothing else but cancellations, that exception is the answer, as it was raised (a
    user's own exception group is not the SDK's to unwrap).

    A group holding a single real exception (plus any number of ``Cancelled``) collapses to that
    exception; a group of only ``Cancelled`` collapses to one of them so cancel scopes above still
    recognise it; a ``BaseException`` that is not an ``Exception`` (``KeyboardInterrupt``,
    ``SystemExit``, a user's own) anywhere in it wins over everything else (Ctrl-C landing in
    one of a session's own tasks or callbacks kills the session, and what the caller's pending
    call then raises, ``SessionClosedError`` say, is only its consequence: ``except
    KeyboardInterrupt`` around ``trio.run`` must see it); anything else stays a group.
    """
    if body is not None:
        alone = _body_alone(group, body)
        if alone is not None:
            return alone
    leaves = list(iter_leaves(group))
    real = [e for e in leaves if not isinstance(e, trio.Cancelled)]
    for leaf in real:
        if not isinstance(leaf, Exception):
            # The other errors are not lost: they become its context (what it interrupted),
            # unless it already has one. A plain SessionClosedError is left out: it is what
            # the interrupt did (it killed the session under a pending call), not news.
            others = [e for e in real if e is not leaf and type(e) is not SessionClosedError]
            if others and leaf.__context__ is None:
                leaf.__context__ = (
                    others[0]
                    if len(others) == 1
                    else BaseExceptionGroup("errors alongside the interrupt", others)
                )
            return leaf
    if len(real) == 1:
        only: BaseException = real[0]
        return only
    if not real and leaves:
        return leaves[0]
    result: BaseException = group
    return result


def raise_collapsed(
    group: BaseExceptionGroup[BaseException], body: BaseException | None = None
) -> NoReturn:
    """Raises :func:`collapse_group` of ``group`` with the exception's own chain intact.

    ``raise collapse_group(group) from None`` erased the exception's ``__cause__`` (a user's
    ``raise MyError(...) from original`` in an ``async with open_session()`` block came out
    without ``original``), and raising inside the ``except`` made the group its
    ``__context__``. Here the cause is untouched and the context is put back as it was.
    """
    error = collapse_group(group, body)
    if error is group:
        raise group
    context = error.__context__
    try:
        raise error
    finally:
        error.__context__ = context
        del error, context, group  # no cycle through this frame (the traceback holds it)


class StderrTail:
    """A bounded ring buffer of the CLI's last stderr lines, kept for error messages.

    Every line is redacted whole (:func:`~trio_claude._redact.redact_preview`) before it is cut to
    ``max_line_chars`` and kept, so a key that crosses the cut is masked, never halved. A line
    longer than ``max_line_chars * 4`` bytes is handed out in pieces as it arrives (the
    ``stderr`` callback gets them verbatim); the tail keeps only the head of such a line.

    Args:
        max_lines: How many lines to keep.
        max_line_chars: Longer lines are cut to this many characters (after redaction).
        secrets: Exact values to mask in the kept lines (see
            :func:`~trio_claude._redact.secret_values`).
    """

    def __init__(
        self, max_lines: int = 200, max_line_chars: int = 4096, *, secrets: Iterable[str] = ()
    ) -> None:
        self._lines: deque[str] = deque(maxlen=max_lines)
        self._max_line_chars = max_line_chars
        self._secrets = tuple(secrets)
        self._partial = b""
        # Inside a line whose head was already kept: its later pieces are not.
        self._continuing = False

    def _keep(self, line: str) -> None:
        if line.strip():
            self._lines.append(redact_preview(line, self._secrets, self._max_line_chars))

    def feed(self, data: bytes) -> list[str]:
        """Adds bytes; returns the complete lines they finish (decoded, without newline)."""
        data = self._partial + data
        *complete, self._partial = data.split(b"\n")
        pieces = [raw.decode("utf-8", "replace").rstrip("\r") for raw in complete]
        for index, line in enumerate(pieces):
            if index == 0 and self._continuing:
                self._continuing = False  # the end of a line whose head was kept
            else:
                self._keep(line)
        if len(self._partial) > self._max_line_chars * 4:
            head = self._partial.decode("utf-8", "replace").rstrip("\r")
            self._partial = b""
            if not self._continuing:
                self._keep(head)
                self._continuing = True
            pieces.append(head)
        return [line for line in pieces if line.strip()]

    def flush(self) -> list[str]:
        """Ends the stream: returns the unterminated last line, if any."""
        continuing, self._continuing = self._continuing, False
        if not self._partial:
            return []
        rest, self._partial = self._partial, b""
        line = rest.decode("utf-8", "replace").rstrip("\r")
        if not line.strip():
            return []
        if not continuing:
            self._keep(line)
        return [line]

    def take(self, data: bytes, callback: Callable[[str], object] | None) -> None:
        """Feeds one read of stderr (``b""`` at its end) and hands each line to ``callback``
        (``ClaudeAgentOptions.stderr``); a callback that raises is logged, never propagated."""
        lines = self.feed(data) if data else self.flush()
        if callback is not None:
            for line in lines:
                try:
                    callback(line)
                except Exception as exc:
                    # Its text may quote the line (int(line) does), and a record's exc_info is
                    # formatted by the handler, out of reach of redact().
                    logging.getLogger("trio_claude").warning(
                        "the stderr callback raised\n%s", redact_exception(exc, self._secrets)
                    )

    def text(self) -> str:
        """The kept lines joined by newlines (already redacted)."""
        return "\n".join(self._lines)


def _machinery_dirs() -> tuple[str, ...]:
    import contextlib

    import trio

    here = os.path.dirname(os.path.abspath(__file__))
    return (
        here + os.sep,
        os.path.dirname(os.path.abspath(trio.__file__)) + os.sep,
        os.path.abspath(contextlib.__file__),
    )


def user_stacklevel() -> int:
    """The ``stacklevel`` for a ``warnings.warn`` in the caller that names the first frame of
    user code: past trio-claude's own frames and the trio and ``contextlib`` machinery an
    ``async with open_session(...)`` runs them through (a fixed level named a line of ours,
    or of the wrong caller, depending on the path that validated the options)."""
    machinery = _machinery_dirs()
    frame = sys._getframe(1)  # the caller of warnings.warn
    level = 1
    while frame is not None and frame.f_code.co_filename.startswith(machinery):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


#: The user's line for warnings raised where the user's frames are not on the stack: the
#: blocking API runs the SDK in a thread of its own (file, line, module globals).
USER_SITE: contextvars.ContextVar[tuple[str, int, dict[str, Any]] | None] = contextvars.ContextVar(
    "trio_claude_user_site", default=None
)


def user_site() -> tuple[str, int, dict[str, Any]] | None:
    """The caller's first frame of user code (see :func:`user_stacklevel`), for
    :data:`USER_SITE`; ``None`` if the stack has none."""
    machinery = _machinery_dirs()
    frame: Any = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(machinery):
        frame = frame.f_back
    if frame is None:
        return None
    return frame.f_code.co_filename, frame.f_lineno, frame.f_globals


def warn_user(message: str, category: type[Warning]) -> None:
    """Warns about something the user wrote (an option), naming the user's line: the first
    frame of user code on the stack, or :data:`USER_SITE` when the blocking API set it."""
    site = USER_SITE.get()
    if site is None:
        warnings.warn(message, category, stacklevel=user_stacklevel())
        return
    filename, lineno, module_globals = site
    warnings.warn_explicit(
        message,
        category,
        filename,
        lineno,
        module=module_globals.get("__name__"),
        registry=module_globals.setdefault("__warningregistry__", {}),
        module_globals=module_globals,
    )
