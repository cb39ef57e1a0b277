"""Newline framing: bytes in, complete lines out.

The CLI writes one JSON object per line. Chunks from the pipe split lines (and UTF-8 sequences)
anywhere; this framer only looks for ``b"\\n"``, so a split multi-byte character is reassembled
before anything decodes it. A partial line is kept as the list of the pieces read and joined
once when it completes (one copy, where a growing ``bytearray`` copied each piece in and the
whole line out again). The pieces are released before the line is decoded. Small pieces come
from the allocator's heap, which may keep their memory after they are freed if something
allocated meanwhile sits above them; a 100 MiB line then peaks at 4x rather than 3x
(``tests/faults/test_large_lines.py`` holds 3x, and failed that way a few times under load).
"""

from __future__ import annotations

import attrs

__all__ = ["LineFramer", "OversizeLine"]


@attrs.frozen
class OversizeLine:
    """A line longer than ``max_line_bytes`` was dropped; the framer resynchronised after it.

    Attributes:
        size: The length of the dropped line in bytes (without the newline).
        head: The first bytes of the line, for diagnostics.
        tail: Its last bytes (up to 64 KiB): where a result frame, in the real CLI's key order,
            says its ``type`` and names its prompts.
    """

    size: int
    head: bytes
    tail: bytes = b""


#: How much of a dropped line's end is kept (:attr:`OversizeLine.tail`).
TAIL_BYTES = 64 * 1024


def _last_bytes(pieces: list[bytes], count: int) -> bytes:
    """The last ``count`` bytes of ``pieces`` joined, copying no more than that."""
    ends: list[bytes] = []
    size = 0
    for piece in reversed(pieces):
        ends.append(piece[-(count - size) :])
        size += len(ends[-1])
        if size >= count:
            break
    return b"".join(reversed(ends))


class LineFramer:
    """Splits a byte stream into lines, dropping blank lines and oversize lines.

    Args:
        max_line_bytes: The longest line accepted. A longer one becomes an :class:`OversizeLine`
            and reading resumes at the next newline.
    """

    def __init__(self, max_line_bytes: int) -> None:
        if max_line_bytes < 1:
            raise ValueError("max_line_bytes must be positive")
        self.max_line_bytes = max_line_bytes
        # The pieces of an incomplete line, joined once it completes: one copy, where growing a
        # bytearray copies at each reallocation and once more into bytes.
        self._pieces: list[bytes] = []
        self._pending = 0
        # When a partial line has already overflowed we stop keeping its bytes.
        self._discarding = False
        self._head = b""
        self._tail_size = 0

    @property
    def buffered_bytes(self) -> int:
        """Bytes of an incomplete line currently held."""
        return self._pending

    def feed(self, data: bytes) -> list[bytes | OversizeLine]:
        """Adds ``data`` and returns every line it completes, in order.

        Args:
            data: The next bytes of the stream.

        Returns:
            Complete non-blank lines (without the newline) and :class:`OversizeLine` markers.
        """
        if b"\n" not in data:
            self._add_partial(data)
            return []
        lines: list[bytes] = data.split(b"\n")
        tail = lines.pop()  # the start of the next line (b"" when data ends with a newline)
        out: list[bytes | OversizeLine] = []
        if self._pending:
            self._add_partial(lines[0])
            self._finish_partial(out)
            del lines[0]
        limit = self.max_line_bytes
        # Usually every line is an ordinary one: checked in C in three passes over the list
        # (~40 ns a line, against ~80 ns for the loop) and returned as they are.
        if lines and (
            max(map(len, lines)) > limit or b"" in lines or any(map(bytes.isspace, lines))
        ):
            for line in lines:
                # Size first: an oversize line is reported even when it is blank, whichever
                # chunk boundaries it arrived with (found by tests/fuzz).
                if len(line) > limit:
                    out.append(OversizeLine(len(line), line[:200], line[-TAIL_BYTES:]))
                elif line and not line.isspace():
                    out.append(line)
        elif out:
            out += lines
        else:
            out = lines  # type: ignore[assignment]
        self._add_partial(tail)
        return out

    def close(self) -> list[bytes | OversizeLine]:
        """Ends the stream: an unterminated last line is returned as a line of its own."""
        out: list[bytes | OversizeLine] = []
        if self._pending:
            self._finish_partial(out)
        return out

    def _add_partial(self, data: bytes) -> None:
        if not data:
            return
        self._pending += len(data)
        if self._discarding:
            # The pieces now hold the line's end: cut back to TAIL_BYTES once they hold twice
            # that, so however small the pieces, each byte is copied a bounded number of times.
            self._pieces.append(data)
            self._tail_size += len(data)
            if self._tail_size >= 2 * TAIL_BYTES:
                self._keep_tail(self._pieces)
            return
        if self._pending > self.max_line_bytes:
            head = b""
            for piece in self._pieces:
                head += piece[: 200 - len(head)]
                if len(head) >= 200:
                    break
            self._head = (head + data[:200])[:200]
            self._keep_tail([*self._pieces, data])
            self._discarding = True
            return
        self._pieces.append(data)

    def _keep_tail(self, pieces: list[bytes]) -> None:
        kept = _last_bytes(pieces, TAIL_BYTES)
        self._pieces = [kept]
        self._tail_size = len(kept)

    def _finish_partial(self, out: list[bytes | OversizeLine]) -> None:
        if self._discarding:
            out.append(
                OversizeLine(self._pending, self._head, _last_bytes(self._pieces, TAIL_BYTES))
            )
            self._pieces = []
        else:
            pieces = self._pieces
            line = pieces[0] if len(pieces) == 1 else b"".join(pieces)
            # Released before the caller decodes the line: one copy alive, not two.
            self._pieces = []
            if line and not line.isspace():
                out.append(line)
        self._pending = 0
        self._discarding = False
        self._head = b""
