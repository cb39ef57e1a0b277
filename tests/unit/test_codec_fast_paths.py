"""The hot-path decoders' fast paths decode exactly like their careful paths.

``_decode_assistant``, ``_decode_user`` and ``_decode_stream_event`` first try a fast path
(subscripts for the keys the CLI always writes, text blocks decoded inline, instances filled in
place); anything unusual falls back to the careful path. These tests pin the fast path to the
careful one on every recorded frame and on generated ones, valid or not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trio_claude._protocol import _codec
from trio_claude._protocol._connection import (
    DEFERRED_DECODERS,
    DEFERRED_PREFIXES,
    ClaudeProtocol,
)
from trio_claude._protocol._framing import LineFramer, OversizeLine
from trio_claude.types import AssistantMessage, StreamEvent, UserMessage

from ..conftest import transcript_paths

Decoder = Callable[[dict[str, Any]], Any]

#: kind -> (fast decoder, careful decoder)
PAIRS: dict[str, tuple[Decoder, Decoder]] = {
    "assistant": (_codec._decode_assistant, _codec._decode_assistant_carefully),
    "user": (_codec._decode_user, _codec._decode_user_carefully),
    "stream_event": (_codec._decode_stream_event, _codec._decode_stream_event_carefully),
}
CLASSES: dict[str, type[Any]] = {
    "assistant": AssistantMessage,
    "user": UserMessage,
    "stream_event": StreamEvent,
}


def _outcome(decoder: Decoder, obj: Any) -> Any:
    try:
        return decoder(obj)
    except Exception as exc:
        return (type(exc), str(exc))


def _assert_same_instance(fast: Any, careful: Any) -> None:
    """Same class, equal, and every field the very same object (blocks: recursively)."""
    assert type(fast) is type(careful)
    assert type(fast).__module__ == "trio_claude.types"  # not a builder's mutable twin
    assert fast == careful
    assert repr(fast) == repr(careful)
    for field in attrs.fields(type(fast)):
        mine, theirs = getattr(fast, field.name), getattr(careful, field.name)
        if field.name == "content" and type(mine) is list and type(fast) in CLASSES.values():
            assert mine is not theirs  # a new list of blocks each time
            assert len(mine) == len(theirs)
            for block, other in zip(mine, theirs, strict=True):
                if attrs.has(type(block)):
                    _assert_same_instance(block, other)
                else:
                    assert block is other
        else:
            # The very value of the frame; a default made for a missing key is a new one.
            assert mine is theirs or (mine == theirs and not mine), field.name
    by_init = type(fast)(**{f.name: getattr(fast, f.name) for f in attrs.fields(type(fast))})
    assert fast == by_init and repr(fast) == repr(by_init)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        fast.raw = {}


def _assert_same(kind: str, obj: Any) -> None:
    """The fast decoder gives what the careful one gives: the same instance or the same error."""
    fast, careful = PAIRS[kind]
    mine: Any = _outcome(fast, obj)
    theirs: Any = _outcome(careful, obj)
    if type(theirs) is tuple:
        assert mine == theirs  # the same error, the same message
    else:
        assert type(mine) is CLASSES[kind]
        _assert_same_instance(mine, theirs)
        assert mine.raw is obj


def _recorded_frames() -> list[tuple[str, bytes]]:
    frames = []
    for path in transcript_paths():
        for record in map(orjson.loads, path.read_bytes().splitlines()):
            if record.get("dir") != "cli->sdk" or "line" not in record:
                continue
            line = record["line"].encode()
            obj = orjson.loads(line)
            if type(obj) is dict and obj.get("type") in PAIRS:
                frames.append((obj["type"], line))
    return frames


RECORDED = _recorded_frames()


def test_there_are_recorded_frames_of_every_hot_kind() -> None:
    assert {kind for kind, _ in RECORDED} == set(PAIRS)


@pytest.mark.parametrize(("kind", "line"), RECORDED)
def test_fast_path_decodes_recorded_frames_like_the_careful_path(kind: str, line: bytes) -> None:
    _assert_same(kind, orjson.loads(line))


@pytest.mark.parametrize(("kind", "line"), RECORDED)
def test_recorded_frames_take_the_fast_path(
    kind: str, line: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What the CLI sends never needs the careful path (or the fast path would be pointless).
    def refuse(obj: Any) -> Any:
        raise AssertionError("took the careful path")

    monkeypatch.setattr(_codec, PAIRS[kind][1].__name__, refuse)
    message = PAIRS[kind][0](orjson.loads(line))
    assert type(message) is CLASSES[kind]


@pytest.mark.parametrize(("kind", "line"), RECORDED)
def test_recorded_frames_with_keys_dropped(kind: str, line: bytes) -> None:
    # A key missing anywhere (top level, message, each block) sends the fast path to the careful
    # one, which must then give the same answer.
    frame = orjson.loads(line)
    for key in list(frame):
        obj = orjson.loads(line)
        del obj[key]
        _assert_same(kind, obj)
    message = frame.get("message")
    if type(message) is dict:
        for key in list(message):
            obj = orjson.loads(line)
            del obj["message"][key]
            _assert_same(kind, obj)
        content = message.get("content")
        if type(content) is list:
            for index, block in enumerate(content):
                for key in list(block):
                    obj = orjson.loads(line)
                    del obj["message"]["content"][index][key]
                    _assert_same(kind, obj)


# ---------------------------------------------------------------------------------------------
# Generated frames: valid, almost valid and wrong
# ---------------------------------------------------------------------------------------------

JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(max_size=4),
)
JSON = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=6,
)
#: A value for a field that is usually a string: mostly a string or null, rarely anything else
#: (so that most generated frames are valid, and the fast path's results get compared too).
STRINGISH = st.one_of(*[st.text(max_size=6)] * 6, st.none(), st.none(), JSON)
MISSING = object()


def _maybe(value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(*[value] * 8, st.just(MISSING))


def _dict_of(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({k: _maybe(v) for k, v in fields.items()}).map(
        lambda d: {k: v for k, v in d.items() if v is not MISSING}
    )


BLOCK_TYPES = st.sampled_from(
    ["text", "text", "text", "thinking", "tool_use", "tool_result", "image", "future_block"]
)
BLOCK = st.one_of(
    _dict_of(
        type=st.one_of(BLOCK_TYPES, JSON),
        text=STRINGISH,
        citations=st.one_of(
            st.none(), st.lists(st.dictionaries(st.text(max_size=2), JSON), max_size=2), JSON
        ),
        thinking=STRINGISH,
        signature=STRINGISH,
        id=STRINGISH,
        name=STRINGISH,
        input=st.one_of(st.dictionaries(st.text(max_size=2), JSON), JSON),
        tool_use_id=STRINGISH,
        content=st.one_of(st.text(max_size=3), st.lists(st.dictionaries(st.text(), JSON))),
        is_error=st.one_of(st.booleans(), st.none(), JSON),
    ),
    JSON,  # not even an object
    st.just({"type": "text", "text": "t"}),
    st.just({"type": "text", "text": "t", "citations": None}),
    st.just({"type": "text", "text": "t", "citations": []}),
    st.just({"type": "text", "text": "t", "citations": [{"url": "u"}]}),
    st.just({"type": "text", "text": 1}),
    st.just({"type": "text"}),
)
CONTENT = st.one_of(st.lists(BLOCK, max_size=3), st.text(max_size=3), JSON)

ASSISTANT = _dict_of(
    type=st.just("assistant"),
    message=st.one_of(
        _dict_of(
            content=CONTENT,
            model=STRINGISH,
            usage=st.one_of(st.none(), st.dictionaries(st.text(max_size=2), JSON), JSON),
            id=STRINGISH,
            stop_reason=STRINGISH,
        ),
        JSON,
    ),
    parent_tool_use_id=STRINGISH,
    session_id=STRINGISH,
    uuid=STRINGISH,
    request_id=STRINGISH,
    error=STRINGISH,
    user_message_uuid=STRINGISH,
)
USER = _dict_of(
    type=st.just("user"),
    message=st.one_of(_dict_of(role=st.just("user"), content=CONTENT), JSON),
    parent_tool_use_id=STRINGISH,
    session_id=STRINGISH,
    uuid=STRINGISH,
    tool_use_result=JSON,
    isReplay=st.one_of(st.booleans(), st.none(), JSON),
    isSynthetic=st.one_of(st.booleans(), st.none(), JSON),
    origin=st.one_of(st.none(), st.dictionaries(st.text(max_size=2), JSON), JSON),
)
STREAM_EVENT = _dict_of(
    type=st.just("stream_event"),
    event=st.one_of(st.dictionaries(st.text(max_size=3), JSON), JSON),
    session_id=STRINGISH,
    uuid=STRINGISH,
    parent_tool_use_id=STRINGISH,
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(frame=ASSISTANT)
def test_fast_path_decodes_generated_assistant_frames_like_the_careful_path(
    frame: dict[str, Any],
) -> None:
    _assert_same("assistant", frame)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(frame=USER)
def test_fast_path_decodes_generated_user_frames_like_the_careful_path(
    frame: dict[str, Any],
) -> None:
    _assert_same("user", frame)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(frame=STREAM_EVENT)
def test_fast_path_decodes_generated_stream_events_like_the_careful_path(
    frame: dict[str, Any],
) -> None:
    _assert_same("stream_event", frame)


def test_the_decoders_are_the_hot_decoders() -> None:
    for kind, (fast, _) in PAIRS.items():
        assert _codec.HOT_DECODERS[kind] is fast
        assert _codec._STRUCTURE_HOOKS[CLASSES[kind]] is not None


# ---------------------------------------------------------------------------------------------
# The deferred-line table, and the core's batch path
# ---------------------------------------------------------------------------------------------


def test_deferred_decoders_match_the_prefixes() -> None:
    assert len(DEFERRED_DECODERS) == len(DEFERRED_PREFIXES)
    for prefix in DEFERRED_PREFIXES:
        kind, decoder = DEFERRED_DECODERS[prefix[9]]
        assert prefix == b'{"type":"' + kind.encode() + b'",'
        assert decoder is _codec.HOT_DECODERS[kind]


def _lines(kinds: list[str]) -> bytes:
    frames = {
        "assistant": {
            "type": "assistant",
            "message": {"model": "m", "content": [{"type": "text", "text": "hi"}]},
            "session_id": "s",
        },
        "stream_event": {"type": "stream_event", "event": {"type": "ping"}, "session_id": "s"},
        "user": {"type": "user", "message": {"role": "user", "content": "x"}},
        "result": {"type": "result", "subtype": "success", "session_id": "s"},
    }
    return b"".join(orjson.dumps(frames[kind]) + b"\n" for kind in kinds)


def test_only_message_lines_says_when_a_batch_is_all_deferred_lines() -> None:
    proto = ClaudeProtocol(defer_messages=True)
    proto.receive_data(_lines(["assistant", "stream_event", "user"]))
    events = proto.events()
    assert [type(e) for e in events] == [bytes, bytes, bytes]
    assert proto.only_message_lines
    proto.receive_data(_lines(["stream_event", "result", "stream_event"]))
    events = proto.events()
    assert [type(e).__name__ for e in events] == ["bytes", "ResultMessage", "bytes"]
    assert not proto.only_message_lines
    assert proto.events() == [] and not proto.only_message_lines
    # Lines taken one by one with next_event are no longer counted as waiting.
    proto.receive_data(_lines(["stream_event", "stream_event"]))
    assert type(proto.next_event()) is bytes
    assert [type(e) for e in proto.events()] == [bytes]
    assert proto.only_message_lines


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(
    kinds=st.lists(st.sampled_from(["assistant", "stream_event", "user", "result"]), max_size=12),
    cuts=st.lists(st.integers(1, 400), max_size=6),
)
def test_batch_path_hands_out_what_the_line_by_line_path_does(
    kinds: list[str], cuts: list[int]
) -> None:
    data = _lines(kinds)
    proto = ClaudeProtocol(defer_messages=True)
    events: list[Any] = []
    start = 0
    for cut in [*cuts, len(data)]:
        proto.receive_data(data[start : start + cut])
        batch = proto.events()
        assert proto.only_message_lines == (bool(batch) and all(type(e) is bytes for e in batch))
        events.extend(batch)
        start += cut
    proto.receive_data(data[start:])
    events.extend(proto.events())
    assert [orjson.loads(e)["type"] if type(e) is bytes else e.raw["type"] for e in events] == kinds
    assert proto.lines_received == proto.messages_received == len(kinds)


# ---------------------------------------------------------------------------------------------
# The framer's fast path is its loop
# ---------------------------------------------------------------------------------------------


def _reference_feed(framer_state: list[bytes], data: bytes, limit: int) -> list[Any]:
    """The framer's rules, line by line: oversize first, then blank lines dropped."""
    framer_state.append(data)
    *lines, rest = b"".join(framer_state).split(b"\n")
    framer_state[:] = [rest]
    out: list[Any] = []
    for line in lines:
        if len(line) > limit:
            out.append(("oversize", len(line)))
        elif line.strip():
            out.append(line)
    return out


@settings(max_examples=300)
@given(
    pieces=st.lists(
        st.sampled_from([b"{}", b"", b" ", b"\t\r", b"x" * 9, b"abc", b"\n", b"\n\n", b" \n"]),
        max_size=30,
    ),
    cuts=st.lists(st.integers(1, 20), max_size=8),
)
def test_framer_matches_the_line_by_line_rules(pieces: list[bytes], cuts: list[int]) -> None:
    limit = 8
    data = b"".join(pieces)
    framer = LineFramer(limit)
    state: list[bytes] = []
    start = 0
    for cut in [*cuts, len(data)]:
        chunk = data[start : start + cut]
        start += cut
        got = [
            ("oversize", item.size) if isinstance(item, OversizeLine) else item
            for item in framer.feed(chunk)
        ]
        assert got == _reference_feed(state, chunk, limit)


@pytest.mark.parametrize(
    "block",
    [
        {"type": "text", "text": "t"},
        {"type": "text", "text": "t", "citations": None},
        {"type": "text", "text": "t", "citations": []},
        {"type": "text", "text": "t", "citations": [{"url": "u"}]},
        {"type": "text", "text": "t", "citations": "no"},
        {"type": "text", "text": 1},
        {"type": "text"},
        {"type": ["text"], "text": "t"},
        {"text": "t"},
        {"type": "tool_use", "id": "i", "name": "n", "input": {"a": 1}},
        {"type": "thinking", "thinking": "th"},
        {"type": "future", "x": 1},
        "not a block",
    ],
)
def test_each_block_shape_decodes_like_the_careful_path(block: Any) -> None:
    frame: dict[str, Any] = {
        "type": "assistant",
        "message": {"id": "i", "model": "m", "content": [block], "stop_reason": None, "usage": {}},
        "parent_tool_use_id": None,
        "session_id": "s",
        "uuid": "u",
    }
    _assert_same("assistant", frame)
    user: dict[str, Any] = {
        "type": "user",
        "message": {"content": [block]},
        "uuid": "u",
        "session_id": "s",
        "parent_tool_use_id": None,
    }
    _assert_same("user", user)
