"""The sans-io core under generated input: any chunking, any junk, any bytes, control traffic.

tests/unit/test_connection.py already checks chunking of the reference transcripts and that random
bytes do not raise; these properties go further: generated frame streams of every type, junk
interleaved with valid frames (generated and real), bounded memory and resynchronisation after
arbitrary bytes, oversize lines among valid ones, and the control-request table.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from hypothesis import example, given, settings
from hypothesis import strategies as st

from trio_claude import types as tctypes
from trio_claude._protocol._codec import decode_message
from trio_claude._protocol._connection import ClaudeProtocol
from trio_claude._protocol._control import ControlResponse
from trio_claude._protocol._events import (
    ControlCancel,
    ControlRequest,
    InvalidLine,
    KeepAlive,
    OversizeLine,
    SessionStateChanged,
    TranscriptMirror,
)
from trio_claude._protocol._framing import TAIL_BYTES
from trio_claude.testing import strategies as tcst

from ..conftest import transcript_paths
from . import examples

_MESSAGE_CLASSES = tuple(
    getattr(tctypes, name)
    for name in tctypes.__all__
    if isinstance(getattr(tctypes, name), type) and hasattr(getattr(tctypes, name), "raw")
)
TYPED_EVENTS = (
    *_MESSAGE_CLASSES,
    ControlRequest,
    ControlCancel,
    ControlResponse,
    SessionStateChanged,
    KeepAlive,
    TranscriptMirror,
    InvalidLine,
    OversizeLine,
)


def feed(proto: ClaudeProtocol, chunks: list[bytes], *, eof: bool = True) -> list[Any]:
    events: list[Any] = []
    for chunk in chunks:
        assert chunk, "b'' would mean end of stream"
        proto.receive_data(chunk)
        events += proto.events()
    if eof:
        proto.receive_data(b"")
        events += proto.events()
    return events


def identity(events: list[Any]) -> list[tuple[Any, ...]]:
    """Events compared by class, value and the raw dict they keep (nothing may be lost)."""
    return [(type(e), e, getattr(e, "raw", None)) for e in events]


def expected_event(frame: dict[str, Any]) -> Any:
    """What one well-formed frame becomes, derived from the frame itself (nothing pending)."""
    kind = frame.get("type")
    if kind == "control_request":
        request = frame["request"]
        return ControlRequest(frame["request_id"], str(request.get("subtype")), request)
    if kind == "control_cancel_request":
        return ControlCancel(str(frame["request_id"]))
    if kind in ("control_response", "keep_alive"):
        return KeepAlive(frame)  # a response to nothing we sent is only activity
    if kind == "transcript_mirror":
        return TranscriptMirror(frame["filePath"], frame["entries"], frame)
    if (
        kind == "system"
        and frame.get("subtype") == "session_state_changed"
        and frame.get("sdk_host_only")
    ):
        return SessionStateChanged(str(frame.get("state")))
    return decode_message(frame)


def line(frame: dict[str, Any]) -> bytes:
    return orjson.dumps(frame) + b"\n"


# ---------------------------------------------------------------------------------------------
# Framing: chunking and junk
# ---------------------------------------------------------------------------------------------


@settings(max_examples=examples(60))
@given(data=st.data(), frames=st.lists(tcst.wire_frames(), max_size=8))
def test_generated_streams_decode_the_same_under_any_chunking(
    data: st.DataObject, frames: list[dict[str, Any]]
) -> None:
    stream = tcst.ndjson(frames)
    chunks = data.draw(tcst.chunkings(stream))
    assert b"".join(chunks) == stream

    events = feed(ClaudeProtocol(), chunks)
    assert identity(events) == identity(feed(ClaudeProtocol(), [stream] if stream else []))
    # One event per frame, in order, each what that frame means on its own.
    assert identity(events) == identity([expected_event(f) for f in frames])


def undefer(proto: ClaudeProtocol, events: list[Any]) -> list[Any]:
    """Decodes the lines a deferring core handed out, in order, as the session does."""
    out: list[Any] = []
    for event in events:
        if isinstance(event, bytes):
            decoded = proto.decode_deferred(event)
            out += [decoded] if decoded is not None else []
            out += proto.events()  # what decoding it reported
        else:
            out.append(event)
    return out


@settings(max_examples=examples(60))
@given(data=st.data(), frames=st.lists(tcst.wire_frames(), max_size=8))
def test_deferred_decoding_gives_the_same_events_under_any_chunking(
    data: st.DataObject, frames: list[dict[str, Any]]
) -> None:
    stream = tcst.ndjson(frames)
    chunks = data.draw(tcst.chunkings(stream))
    proto = ClaudeProtocol(defer_messages=True)
    events = undefer(proto, feed(proto, chunks))
    assert identity(events) == identity([expected_event(f) for f in frames])


@settings(max_examples=examples(60))
@given(
    data=st.data(),
    items=st.lists(
        st.one_of(
            tcst.wire_frames().map(lambda f: ("frame", f)),
            tcst.junk_lines().map(lambda j: ("junk", j)),
        ),
        max_size=12,
    ),
)
def test_junk_between_frames_never_hides_or_reorders_them(
    data: st.DataObject, items: list[tuple[str, Any]]
) -> None:
    stream = b"".join(line(v) if k == "frame" else v + b"\n" for k, v in items)
    events = feed(ClaudeProtocol(), data.draw(tcst.chunkings(stream)))

    frames = [v for k, v in items if k == "frame"]
    junk = [v for k, v in items if k == "junk"]
    invalid = [e for e in events if type(e) is InvalidLine]
    valid = [e for e in events if type(e) is not InvalidLine]
    assert identity(valid) == identity([expected_event(f) for f in frames])
    # Every junk line that is not blank is reported, once, in order.
    assert [e.line for e in invalid] == [j[:200] for j in junk if j.strip()]


def _transcript_lines() -> list[list[bytes]]:
    out = []
    for path in transcript_paths():
        lines = []
        for text in path.read_text().splitlines():
            record = json.loads(text)
            if record["dir"] == "cli->sdk":
                lines.append(record["line"].encode())
        out.append(lines)
    return out


TRANSCRIPT_LINES = _transcript_lines()


@settings(max_examples=examples(40))
@given(data=st.data())
def test_real_transcripts_survive_interleaved_junk(data: st.DataObject) -> None:
    lines = data.draw(st.sampled_from(TRANSCRIPT_LINES))
    reference = feed(ClaudeProtocol(), [b"".join(x + b"\n" for x in lines)])

    insertions = data.draw(
        st.lists(st.tuples(st.integers(0, len(lines)), tcst.junk_lines(max_size=60)), max_size=8)
    )
    mixed = list(lines)
    for position, junk in sorted(insertions, key=lambda item: -item[0]):
        mixed.insert(position, junk)
    stream = b"".join(x + b"\n" for x in mixed)
    events = feed(ClaudeProtocol(), data.draw(tcst.chunkings(stream, max_chunks=100)))
    assert identity([e for e in events if type(e) is not InvalidLine]) == identity(reference)


# ---------------------------------------------------------------------------------------------
# Arbitrary bytes: typed events only, bounded memory and work, resynchronisation
# ---------------------------------------------------------------------------------------------

_LIMIT = 256


def held_bytes(framer: Any) -> int:
    """Bytes the framer holds, whatever its internal layout (bytes, bytearrays, lists of them)."""
    names = getattr(type(framer), "__slots__", None) or vars(framer)
    total = 0
    for name in names:
        value = getattr(framer, name, None)
        if isinstance(value, (bytes, bytearray, memoryview)):
            total += len(value)
        elif isinstance(value, (list, tuple)):
            total += sum(len(v) for v in value if isinstance(v, (bytes, bytearray, memoryview)))
    return total


def _pieces() -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.binary(max_size=300),
        tcst.junk_lines(),
        tcst.wire_frames().map(line),
        tcst.wire_frames().map(orjson.dumps),  # no newline: glued to whatever follows
        tcst.long_lines(_LIMIT + 1, max_size=3 * _LIMIT),
        st.just(b"\n"),
    )


@settings(max_examples=examples(80))
@given(data=st.data(), pieces=st.lists(_pieces(), max_size=10))
@example(data=None, pieces=[b"{" * 1000, b"\n"])  # one long unterminated line
@example(data=None, pieces=[b"\xff\xfe" * 200])  # invalid UTF-8, no newline at all
def test_arbitrary_bytes_give_typed_events_in_bounded_memory_then_resync(
    data: st.DataObject | None, pieces: list[bytes]
) -> None:
    stream = b"".join(pieces)
    chunks = data.draw(tcst.chunkings(stream)) if data is not None else [stream]
    proto = ClaudeProtocol(max_line_bytes=_LIMIT)
    events: list[Any] = []
    for chunk in chunks:
        proto.receive_data(chunk)
        events += proto.events()
        # Memory: never more than one line's worth of bytes held for an incomplete line
        # (plus the 200-byte head and the window of the tail kept for the OversizeLine report).
        assert held_bytes(proto._framer) <= _LIMIT + 200 + 2 * TAIL_BYTES

    # Whatever came before, a fresh line with a valid frame is decoded (the core is not wedged).
    marker = {"type": "result", "subtype": "success", "session_id": "resync", "result": "ok"}
    proto.receive_data(b"\n" + line(marker))
    events += proto.events()
    proto.receive_data(b"")
    events += proto.events()

    assert all(isinstance(e, TYPED_EVENTS) for e in events), [type(e) for e in events]
    # Work is bounded by the input: at most one event per line (a malformed known frame gives
    # an InvalidLine plus the frame as an UnknownMessage, so allow two).
    lines = stream.count(b"\n") + 3
    assert len(events) <= 2 * lines
    assert events[-1] == decode_message(marker)
    assert proto.session_id == "resync"
    for e in events:
        if isinstance(e, OversizeLine):
            assert e.size > _LIMIT and len(e.head) <= 200 and len(e.tail) <= TAIL_BYTES
        if isinstance(e, InvalidLine):
            assert len(e.line) <= 200


@settings(max_examples=examples(40))
@given(
    data=st.data(),
    items=st.lists(
        st.one_of(
            tcst.wire_frames().map(lambda f: ("frame", f)),
            tcst.long_lines(_LIMIT + 1, max_size=4 * _LIMIT).map(lambda b: ("long", b)),
        ),
        max_size=8,
    ),
)
def test_oversize_lines_are_dropped_and_everything_else_survives(
    data: st.DataObject, items: list[tuple[str, Any]]
) -> None:
    items = [(k, v) for k, v in items if k == "long" or len(orjson.dumps(v)) <= _LIMIT]
    stream = b"".join(line(v) if k == "frame" else v + b"\n" for k, v in items)
    events = feed(ClaudeProtocol(max_line_bytes=_LIMIT), data.draw(tcst.chunkings(stream)))
    expected: list[Any] = []
    for kind, value in items:
        if kind == "frame":
            expected.append(expected_event(value))
        else:  # even a blank one: its size is known before its content is
            expected.append(OversizeLine(len(value), value[:200], value[-TAIL_BYTES:]))
    assert identity(events) == identity(expected)


def test_a_blank_oversize_line_is_reported_whatever_the_chunking() -> None:
    # Found by the property above: a long whitespace-only line was dropped silently when it
    # began a read and reported as OversizeLine when it did not.
    blank = b" " * (_LIMIT + 50)
    stream = b'{"type":"keep_alive"}\n' + blank + b"\n"
    cut = stream.index(b" ")
    for chunks in ([stream], [stream[:cut], stream[cut:]], [stream[: cut + 9], stream[cut + 9 :]]):
        events = feed(ClaudeProtocol(max_line_bytes=_LIMIT), chunks)
        assert events[1:] == [OversizeLine(len(blank), blank[:200], blank)], chunks


# ---------------------------------------------------------------------------------------------
# Control traffic
# ---------------------------------------------------------------------------------------------


@settings(max_examples=examples(60))
@given(
    frames=st.lists(
        st.one_of(tcst.control_request_frames(), tcst.control_cancel_frames()), max_size=6
    )
)
def test_cli_requests_and_cancels_become_typed_events(frames: list[dict[str, Any]]) -> None:
    proto = ClaudeProtocol()
    events = feed(proto, [tcst.ndjson(frames)] if frames else [])
    assert events == [expected_event(f) for f in frames]
    assert proto.invalid_lines == 0


@settings(max_examples=examples(60))
@given(
    data=st.data(),
    requests=st.lists(tcst.control_request_frames("sdk_to_cli"), min_size=1, max_size=5),
)
def test_our_requests_are_matched_once_in_arrival_order(
    data: st.DataObject, requests: list[dict[str, Any]]
) -> None:
    proto = ClaudeProtocol()
    issued: dict[str, str] = {}
    for frame in requests:
        request = dict(frame["request"])
        subtype = request.pop("subtype")
        rid, wire = proto.send_control_request(subtype, request)
        assert wire.endswith(b"\n") and wire.count(b"\n") == 1
        assert orjson.loads(wire) == {
            "type": "control_request",
            "request_id": rid,
            "request": {"subtype": subtype, **request},
        }
        issued[rid] = subtype
    assert proto.pending_requests == issued
    forgotten = data.draw(st.lists(st.sampled_from(sorted(issued)), unique=True))
    for rid in forgotten:
        proto.forget_request(rid)

    ids = st.one_of(st.sampled_from(sorted(issued)), tcst.request_ids())
    responses = data.draw(st.lists(tcst.control_response_frames(ids), max_size=8))
    events = feed(proto, [tcst.ndjson(responses)] if responses else [])

    pending = {rid: sub for rid, sub in issued.items() if rid not in forgotten}
    assert len(events) == len(responses)
    for frame, event in zip(responses, events, strict=True):
        body = frame["response"]
        rid = body["request_id"]
        if rid not in pending:  # unknown, forgotten, or already answered: only activity
            assert event == KeepAlive(frame)
            continue
        subtype = pending.pop(rid)
        assert type(event) is ControlResponse
        assert (event.request_id, event.subtype) == (rid, subtype)
        if body["subtype"] == "error":
            assert not event.ok and event.error == body["error"]
            assert event.error_code == body.get("error_code")
        else:
            assert event.ok and event.response == body.get("response", {})
    assert proto.pending_requests == pending
    assert sorted(proto.fail_pending()) == sorted(pending)
    assert proto.pending_requests == {}


@settings(max_examples=examples(40))
@given(
    rid=tcst.request_ids(),
    payload=st.one_of(st.none(), tcst.json_objects()),
    error=tcst.json_text(),
)
def test_answers_to_cli_requests_are_one_json_line(
    rid: str, payload: dict[str, Any] | None, error: str
) -> None:
    ok = ClaudeProtocol.send_control_success(rid, payload)
    bad = ClaudeProtocol.send_control_error(rid, error)
    for wire in (ok, bad):
        assert wire.endswith(b"\n") and wire.count(b"\n") == 1
    assert orjson.loads(ok)["response"] == {
        "subtype": "success",
        "request_id": rid,
        "response": payload or {},
    }
    assert orjson.loads(bad)["response"] == {"subtype": "error", "request_id": rid, "error": error}


@settings(max_examples=examples(60))
@given(
    content=st.one_of(tcst.json_text(), st.lists(tcst.content_blocks(), max_size=4)),
    uuid=st.one_of(st.none(), st.uuids().map(str)),
    parent=st.one_of(st.none(), tcst.json_text()),
)
def test_user_frames_we_write_decode_back_to_the_same_content(
    content: Any, uuid: str | None, parent: str | None
) -> None:
    proto = ClaudeProtocol()
    wire = proto.send_user(content, session_id="default", parent_tool_use_id=parent, uuid=uuid)
    assert wire.endswith(b"\n") and wire.count(b"\n") == 1
    echoed = decode_message(orjson.loads(wire))  # as the CLI would replay it
    assert type(echoed) is tctypes.UserMessage
    assert echoed.content == content
    assert (echoed.uuid, echoed.parent_tool_use_id) == (uuid, parent)
    assert proto.turns_sent == 1
