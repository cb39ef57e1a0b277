"""Newline framing: bytes in, complete lines out.

The CLI writes one JSON object per line. Chunks from the pipe split lines (and UTF-8 sequences)
anywhere; this framer only looks for ``b"\\n"``, so a split multi-byte character is reassembled
before anything decodes it.

A partial line is kept as the list of the pieces read, joined once when it completes (one copy,
where a growing ``bytearray`` copied each piece in and the whole line out again). Past
:data:`SPILL_BYTES` it moves into one anonymous memory map instead, and each later piece is
copied in as it arrives. The pieces come from the allocator's heap, which keeps their memory
after they are freed if anything allocated meanwhile sits above them: a 100 MiB line held as
pieces peaked at 4x its size rather than 3x under load (``tests/faults/test_large_lines.py``).
The map is given back to the system when it is closed, whatever else the heap holds. Its cost
is one more copy of each byte of a line that big, and the first touch of its pages: ~5% of the
time of a 20 MiB line (``benchmarks/large_line.py``).
"""

from __future__ import annotations

import contextlib
import mmap
from itertools import repeat

import attrs

__all__ = ["SPILL_BYTES", "LineFramer", "OversizeLine"]


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

#: A partial line longer than this moves from a list of pieces into a memory map (above).
SPILL_BYTES = 4 * 1024 * 1024


def _new_map(size: int) -> mmap.mmap:
    if not hasattr(mmap, "MAP_PRIVATE"):
        return mmap.mmap(-1, size)  # Windows: no flags; it grows by copying
    # Private: a shared anonymous map is a file of its first size, and a page past that after
    # mremap is a SIGBUS. (fd -1 makes it anonymous.)
    new = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE)
    if hasattr(mmap, "MADV_HUGEPAGE"):
        # Huge pages where the system allows them: the first write of each 4 KiB page is a fault
        # of its own otherwise, which made a 20 MiB line ~13 ms slower (~3 ms with them).
        with contextlib.suppress(OSError):
            new.madvise(mmap.MADV_HUGEPAGE)
    return new


class _Spill:
    """A growing buffer in an anonymous memory map: its pages go back to the system on close."""

    __slots__ = ("_map", "size")

    def __init__(self, pieces: list[bytes], size: int) -> None:
        # Room for most lines from the start: address space is free until written, and a map
        # grown by mremap lost its huge pages (a 20 MiB line took 1.5x as long).
        self._map = _new_map(max(2 * size, 64 * 1024 * 1024))
        self.size = 0
        for piece in pieces:
            self.add(piece)

    def add(self, data: bytes) -> None:
        end = self.size + len(data)
        if end > len(self._map):
            self._grow(max(end, 2 * len(self._map)))
        self._map[self.size : end] = data
        self.size = end

    def _grow(self, capacity: int) -> None:
        try:
            self._map.resize(capacity)  # mremap: no copy; untouched pages cost nothing
        except (OSError, SystemError, ValueError):  # no mremap (macOS): a new map, one copy
            bigger = _new_map(capacity)
            with memoryview(self._map) as view:  # (no bytes object in between)
                bigger[: self.size] = view[: self.size]
            self._map.close()
            self._map = bigger

    def head(self, count: int) -> bytes:
        """The first ``count`` bytes held."""
        return self._map[: min(count, self.size)]

    def tail(self, count: int) -> bytes:
        """The last ``count`` bytes held."""
        return self._map[max(0, self.size - count) : self.size]

    def take(self) -> bytes:
        """The bytes held, as one ``bytes``; the map is closed."""
        try:
            return self._map[: self.size]
        finally:
            self._map.close()

    def close(self) -> None:
        """Gives the map back."""
        self._map.close()


_startswith = bytes.startswith


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
        known_prefixes: How the frequent lines begin. After each :meth:`feed`,
            :attr:`all_known` says whether every line it returned begins so (the caller's own
            check, done once here: such a line is not blank, which spares the blank-line passes).
    """

    def __init__(self, max_line_bytes: int, known_prefixes: tuple[bytes, ...] = ()) -> None:
        if max_line_bytes < 1:
            raise ValueError("max_line_bytes must be positive")
        self.max_line_bytes = max_line_bytes
        self._known = known_prefixes
        #: Whether every line the last :meth:`feed` returned begins with a known prefix (and
        #: it returned at least one). ``False`` when unsure.
        self.all_known = False
        # The pieces of an incomplete line, joined once it completes: one copy, where growing a
        # bytearray copies at each reallocation and once more into bytes.
        self._pieces: list[bytes] = []
        self._spill: _Spill | None = None
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
        self.all_known = False
        if b"\n" not in data:
            self._add_partial(data)
            return []
        lines: list[bytes] = data.split(b"\n")
        tail = lines.pop()  # the start of the next line (b"" when data ends with a newline)
        out: list[bytes | OversizeLine] = []
        if self._pending:
            self._add_partial(lines[0], completes=True)
            self._finish_partial(out)
            del lines[0]
        limit = self.max_line_bytes
        known = self._known
        if (
            known
            and len(data) <= limit  # (no line of data alone is longer)
            and all(map(_startswith, lines, repeat(known)))
        ):
            # The usual read of a session: message lines only, none blank, none too long. One
            # pass in C instead of four (~50 ns a line less).
            if not out:
                self.all_known = bool(lines)
            else:
                # The line the read completed (a flood's reads rarely end at a newline).
                first = out[0]
                self.all_known = isinstance(first, bytes) and first.startswith(known)
                lines.insert(0, first)  # type: ignore[arg-type]
            self._add_partial(tail)
            return lines  # type: ignore[return-value]
        # Usually every line is an ordinary one: checked in C in three passes over the list
        # (~40 ns a line, against ~80 ns for the loop) and returned as they are.
        if lines and (
            (len(data) > limit and max(map(len, lines)) > limit)
            or b"" in lines
            or any(map(bytes.isspace, lines))
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

    def _add_partial(self, data: bytes, completes: bool = False) -> None:
        if not data:
            return
        self._pending += len(data)
        if self._discarding:
            if len(self._head) < 200:  # the limit is under 200 bytes: the head goes on
                self._head += data[: 200 - len(self._head)]
            # The pieces now hold the line's end: cut back to TAIL_BYTES once they hold twice
            # that, so however small the pieces, each byte is copied a bounded number of times.
            self._pieces.append(data)
            self._tail_size += len(data)
            if self._tail_size >= 2 * TAIL_BYTES:
                self._keep_tail(self._pieces)
            return
        if self._pending > self.max_line_bytes:
            spill, self._spill = self._spill, None
            if spill is not None:  # it holds far more than the head and the tail
                self._head = (spill.head(200) + data[:200])[:200]
                pieces = [spill.tail(TAIL_BYTES)]
                spill.close()
            else:
                pieces = self._pieces
                head = b""
                for piece in pieces:
                    head += piece[: 200 - len(head)]
                    if len(head) >= 200:
                        break
                self._head = (head + data[:200])[:200]
            self._keep_tail([*pieces, data])
            self._discarding = True
            return
        if self._spill is not None:
            self._spill.add(data)
        elif self._pending > SPILL_BYTES and not completes:  # (else joined at once, below)
            self._pieces.append(data)
            self._spill = _Spill(self._pieces, self._pending)
            self._pieces = []
        else:
            self._pieces.append(data)

    def _keep_tail(self, pieces: list[bytes]) -> None:
        kept = _last_bytes(pieces, TAIL_BYTES)
        self._pieces = [kept]
        self._tail_size = len(kept)

    def _finish_partial(self, out: list[bytes | OversizeLine]) -> None:
        # The state is reset first: the framer stays usable if joining the line fails (memory).
        discarding, pending, head = self._discarding, self._pending, self._head
        spill, self._spill = self._spill, None
        pieces, self._pieces = self._pieces, []
        self._pending = 0
        self._discarding = False
        self._head = b""
        if discarding:
            out.append(OversizeLine(pending, head, _last_bytes(pieces, TAIL_BYTES)))
            return
        if spill is not None:
            line = spill.take()
        else:
            line = pieces[0] if len(pieces) == 1 else b"".join(pieces)
        del pieces  # released before the caller decodes the line: one copy alive, not two
        if line and not line.isspace():
            out.append(line)
