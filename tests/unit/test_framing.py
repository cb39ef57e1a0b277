"""The line framer: any chunking gives the same lines; oversize lines resynchronise."""

from __future__ import annotations

import mmap
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trio_claude._protocol import _framing
from trio_claude._protocol._framing import TAIL_BYTES, LineFramer, OversizeLine


def feed_chunks(framer: LineFramer, data: bytes, cuts: list[int]) -> list[bytes | OversizeLine]:
    out: list[bytes | OversizeLine] = []
    start = 0
    for cut in sorted(set(cuts)):
        out += framer.feed(data[start:cut])
        start = cut
    out += framer.feed(data[start:])
    out += framer.close()
    return out


def test_splits_lines_and_skips_blank_ones() -> None:
    framer = LineFramer(1000)
    assert framer.feed(b'{"a":1}\n\n  \n{"b":2}\n{"c"') == [b'{"a":1}', b'{"b":2}']
    assert framer.feed(b":3}\n") == [b'{"c":3}']
    assert framer.close() == []


def test_unterminated_last_line_is_returned_at_close() -> None:
    framer = LineFramer(1000)
    assert framer.feed(b'{"a":1}') == []
    assert framer.buffered_bytes == 7
    assert framer.close() == [b'{"a":1}']


def test_split_utf8_sequence_is_reassembled() -> None:
    line = '{"text":"héllo — 日本"}'.encode()
    cut = line.index("日".encode()) + 1  # inside a 3-byte sequence
    framer = LineFramer(1000)
    assert framer.feed(line[:cut]) == []
    assert framer.feed(line[cut:] + b"\n") == [line]


@pytest.mark.parametrize("chunk", [1, 3, 7, 64])
def test_oversize_line_is_dropped_and_framer_resynchronises(chunk: int) -> None:
    framer = LineFramer(50)
    data = b'{"ok":1}\n' + b"x" * 200 + b'\n{"ok":2}\n'
    out: list[bytes | OversizeLine] = []
    for i in range(0, len(data), chunk):
        out += framer.feed(data[i : i + chunk])
    assert out[0] == b'{"ok":1}'
    assert isinstance(out[1], OversizeLine)
    assert out[1].size == 200
    assert out[1].head.startswith(b"xxx")
    assert out[2:] == [b'{"ok":2}']
    assert framer.buffered_bytes == 0


def test_line_exactly_at_limit_is_accepted() -> None:
    framer = LineFramer(10)
    assert framer.feed(b"0123456789\n") == [b"0123456789"]
    assert framer.feed(b"0123456789") == []
    assert framer.feed(b"\n") == [b"0123456789"]


def test_large_line_in_many_chunks_is_joined_once() -> None:
    framer = LineFramer(64 * 1024 * 1024)
    payload = b"a" * (20 * 1024 * 1024)
    step = 65536
    out: list[bytes | OversizeLine] = []
    for i in range(0, len(payload), step):
        out += framer.feed(payload[i : i + step])
    out += framer.feed(b"\n")
    assert out == [payload]


lines_strategy = st.lists(
    st.binary(min_size=1, max_size=40)
    .map(lambda b: b.replace(b"\n", b"_"))
    .filter(lambda b: b.strip() != b""),
    max_size=20,
)


@given(lines=lines_strategy, cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=30))
def test_any_chunking_gives_the_same_lines(lines: list[bytes], cuts: list[int]) -> None:
    data = b"".join(line + b"\n" for line in lines)
    cuts = [c for c in cuts if c <= len(data)]
    assert feed_chunks(LineFramer(1000), data, cuts) == lines


@given(
    lines=st.lists(st.integers(min_value=1, max_value=120), max_size=15),
    cuts=st.lists(st.integers(min_value=0, max_value=3000), max_size=30),
)
def test_any_chunking_agrees_on_oversize(lines: list[int], cuts: list[int]) -> None:
    limit = 60
    data = b"".join(b"y" * n + b"\n" for n in lines)
    expected = [b"y" * n if n <= limit else OversizeLine(n, b"y" * min(n, 200)) for n in lines]
    got = feed_chunks(LineFramer(limit), data, [c for c in cuts if c <= len(data)])
    assert [(g.size if isinstance(g, OversizeLine) else g) for g in got] == [
        (e.size if isinstance(e, OversizeLine) else e) for e in expected
    ]


@given(
    size=st.integers(min_value=201, max_value=3 * TAIL_BYTES),
    chunk=st.integers(min_value=1, max_value=5000),
    limit=st.integers(min_value=200, max_value=1000),
)
def test_a_dropped_line_keeps_its_head_and_tail_whatever_the_chunks(
    size: int, chunk: int, limit: int
) -> None:
    """A result's type and prompt uuids are near its end (the real CLI's key order): the tail
    was short when the line arrived in small pieces."""
    line = bytes(i % 251 for i in range(size)).replace(b"\n", b"_")
    if size <= limit:
        return
    framer = LineFramer(limit)
    data = line + b"\n"
    out: list[bytes | OversizeLine] = []
    for i in range(0, len(data), chunk):
        out += framer.feed(data[i : i + chunk])
    (dropped,) = out
    assert isinstance(dropped, OversizeLine) and dropped.size == size
    assert dropped.head == line[:200] and dropped.tail == line[-TAIL_BYTES:]


# ------------------------------------------------- a long partial line moves into a memory map


@given(
    lines=st.lists(
        st.binary(min_size=1, max_size=300).map(lambda b: b.replace(b"\n", b"_")), max_size=12
    ),
    cuts=st.lists(st.integers(min_value=0, max_value=4000), max_size=30),
    limit=st.integers(min_value=20, max_value=400),
)
def test_any_chunking_gives_the_same_lines_and_drops_through_the_spill(
    lines: list[bytes], cuts: list[int], limit: int
) -> None:
    """With the spill at 16 bytes, lines that pass it (and lines that pass it and then the
    limit) come out as they do without it, whatever the chunks."""
    data = b"".join(line + b"\n" for line in lines)
    cuts = [c for c in cuts if c <= len(data)]
    with mock.patch.object(_framing, "SPILL_BYTES", 16):
        got = feed_chunks(LineFramer(limit), data, cuts)
    expected: list[object] = []
    for line in lines:
        if len(line) > limit:
            expected.append(OversizeLine(len(line), line[:200], line[-TAIL_BYTES:]))
        elif not line.isspace():
            expected.append(line)
    assert got == expected


def test_a_long_partial_line_is_held_in_one_map_then_given_back() -> None:
    framer = LineFramer(64 * 1024 * 1024)
    payload = bytes(i % 251 for i in range(9 * 1024 * 1024)).replace(b"\n", b"_")
    for i in range(0, len(payload), 65536):
        assert framer.feed(payload[i : i + 65536]) == []
    spill = framer._spill
    assert spill is not None and framer._pieces == []  # the heap holds no piece of it
    assert framer.buffered_bytes == len(payload)
    assert framer.feed(b"\n") == [payload]
    assert framer._spill is None and spill._map.closed


class _NoRemap(mmap.mmap):
    def resize(self, newsize: int) -> None:
        raise SystemError("mmap: resizing not available--no mremap()")


def test_without_mremap_the_spill_grows_by_copying() -> None:
    payload = b"z" * 100_000
    with (
        mock.patch.object(mmap, "mmap", _NoRemap),
        mock.patch.object(_framing, "SPILL_BYTES", 1000),
    ):
        framer = LineFramer(1_000_000)
        out: list[bytes | OversizeLine] = []
        for i in range(0, len(payload), 999):
            out += framer.feed(payload[i : i + 999])
        out += framer.feed(b"\nnext\n")
    assert out == [payload, b"next"]


KNOWN = (b"Ka", b"Kb")
mixed_line = st.one_of(
    st.sampled_from(KNOWN).flatmap(
        lambda prefix: st.binary(max_size=30).map(lambda b: prefix + b.replace(b"\n", b"_"))
    ),
    st.sampled_from([b"", b"  ", b"\r", b"other", b"K", b"Kc", b"y" * 70]),
)


@given(
    lines=st.lists(mixed_line, max_size=12),
    cuts=st.lists(st.integers(min_value=0, max_value=600), max_size=12),
)
def test_known_prefixes_change_nothing_but_say_when_every_line_is_known(
    lines: list[bytes], cuts: list[int]
) -> None:
    """The framer's one-pass check of the frequent lines (the session's flood path) returns the
    same lines as the full checks, and ``all_known`` says "every line returned begins with a
    known prefix"; it is false only when a blank, unknown or oversize line was read (or the read
    is longer than the limit)."""
    data = b"".join(line + b"\n" for line in lines)
    all_ordinary = all(line.startswith(KNOWN) and len(line) <= 60 for line in lines)
    plain, known = LineFramer(60), LineFramer(60, known_prefixes=KNOWN)
    start = 0
    for cut in [*sorted({c for c in cuts if c <= len(data)}), len(data)]:
        chunk, start = data[start:cut], cut
        expected = plain.feed(chunk)
        got = known.feed(chunk)
        assert got == expected
        if known.all_known:
            assert got and all(isinstance(line, bytes) and line.startswith(KNOWN) for line in got)
        elif all_ordinary and len(chunk) <= 60:
            assert not got  # "unsure" only when it has to be (a read longer than the limit)
    assert known.close() == plain.close()


def test_a_line_completed_by_the_read_counts_as_known_or_not() -> None:
    framer = LineFramer(100, known_prefixes=KNOWN)
    assert framer.feed(b"Ka1\nKb") == [b"Ka1"] and framer.all_known
    assert framer.feed(b"2\nKa3\n") == [b"Kb2", b"Ka3"] and framer.all_known
    assert framer.feed(b"zz") == [] and not framer.all_known
    assert framer.feed(b"\nKa4\n") == [b"zz", b"Ka4"] and not framer.all_known
    assert framer.feed(b"Ka5\n\nKa6\n") == [b"Ka5", b"Ka6"] and not framer.all_known
