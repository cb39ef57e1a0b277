"""Small helpers shared by the trio shell."""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Iterator

import trio

if sys.version_info < (3, 11):  # pragma: no cover - trio depends on the backport there
    from exceptiongroup import BaseExceptionGroup

__all__ = ["StderrTail", "collapse_group", "iter_leaves"]


def iter_leaves(exc: BaseException) -> Iterator[BaseException]:
    """Yields the non-group exceptions inside ``exc`` (``exc`` itself if it is not a group)."""
    if isinstance(exc, BaseExceptionGroup):
        for child in exc.exceptions:
            yield from iter_leaves(child)
    else:
        yield exc


def collapse_group(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The one exception a user should see for ``group`` (trio-websocket's policy).

    A group holding a single real exception (plus any number of ``Cancelled``) collapses to that
    exception; a group of only ``Cancelled`` collapses to one of them so cancel scopes above still
    recognise it; anything else stays a group.
    """
    leaves = list(iter_leaves(group))
    real = [e for e in leaves if not isinstance(e, trio.Cancelled)]
    if len(real) == 1:
        only: BaseException = real[0]
        return only
    if not real and leaves:
        return leaves[0]
    result: BaseException = group
    return result


class StderrTail:
    """A bounded ring buffer of the CLI's last stderr lines, kept for error messages.

    Args:
        max_lines: How many lines to keep.
        max_line_chars: Longer lines are cut to this many characters.
    """

    def __init__(self, max_lines: int = 200, max_line_chars: int = 4096) -> None:
        self._lines: deque[str] = deque(maxlen=max_lines)
        self._max_line_chars = max_line_chars
        self._partial = b""

    def feed(self, data: bytes) -> list[str]:
        """Adds bytes; returns the complete lines they finish (decoded, without newline)."""
        data = self._partial + data
        *complete, self._partial = data.split(b"\n")
        if len(self._partial) > self._max_line_chars * 4:
            complete.append(self._partial)
            self._partial = b""
        out = [raw.decode("utf-8", "replace").rstrip("\r") for raw in complete]
        out = [line for line in out if line.strip()]
        for line in out:
            self._lines.append(line[: self._max_line_chars])
        return out

    def flush(self) -> list[str]:
        """Ends the stream: returns the unterminated last line, if any."""
        if not self._partial:
            return []
        rest, self._partial = self._partial, b""
        line = rest.decode("utf-8", "replace").rstrip("\r")
        if line.strip():
            self._lines.append(line[: self._max_line_chars])
            return [line]
        return []

    def text(self) -> str:
        """The kept lines joined by newlines."""
        return "\n".join(self._lines)
