"""Reading one frame: the fallback parser, the frame's kind, results that always decode."""

from __future__ import annotations

import math

import orjson
import pytest

import trio_claude as tc
from trio_claude._protocol._connection import ClaudeProtocol
from trio_claude._protocol._frames import decode_result, frame_kind, parse_line


@pytest.mark.parametrize(
    ("line", "check"),
    [
        (b'{"a":1e400}', lambda obj: obj["a"] == math.inf),
        (b'{"a":"\\ud83d"}', lambda obj: obj["a"] == "\ud83d"),
        (b'{"a":18446744073709551616}', lambda obj: obj["a"] > 2**63),
    ],
)
def test_valid_json_that_orjson_refuses_still_parses(line: bytes, check) -> None:
    assert check(parse_line(line))


@pytest.mark.parametrize("line", [b"not json", b'{"a":NaN}', b'{"a":Infinity}', b'{"a":'])
def test_what_is_not_json_is_refused(line: bytes) -> None:
    with pytest.raises(ValueError):
        parse_line(line)


def test_the_kind_is_the_first_type_key() -> None:
    line = b'{"type":"assistant","type":"result"}'
    obj = orjson.loads(line)
    assert obj["type"] == "result"  # what a JSON parser keeps
    assert frame_kind(line, obj) == "assistant"  # what the frame was read as, once


def test_without_a_leading_type_key_the_parsed_type_is_the_kind() -> None:
    line = b'{"session_id":"s","type":"result"}'
    assert frame_kind(line, orjson.loads(line)) == "result"
    odd = b'{"type":"new\\u0041kind"}'
    assert frame_kind(odd, orjson.loads(odd)) == "newAkind"


@pytest.mark.parametrize(
    ("field", "value"),
    [("num_turns", 1e30), ("num_turns", 2.5), ("total_cost_usd", "free"), ("subtype", 7)],
)
def test_a_result_always_decodes_and_says_what_failed(field: str, value: object) -> None:
    obj: dict[str, object] = {
        "type": "result",
        "subtype": "success",
        "result": "ok",
        "session_id": "s",
    }
    obj[field] = value
    result = decode_result(obj)
    assert type(result) is tc.ResultMessage
    assert result.raw is obj
    assert result.decode_error is not None and field in result.decode_error
    if field != "subtype":
        assert result.result == "ok" and result.subtype == "success"


def test_a_good_result_has_no_decode_error() -> None:
    result = decode_result({"type": "result", "subtype": "success", "num_turns": 2})
    assert result.decode_error is None and result.num_turns == 2


def test_the_core_ends_a_turn_with_a_result_it_cannot_fully_decode() -> None:
    proto = ClaudeProtocol()
    proto.lifecycle.started()
    proto.lifecycle.initialized()
    proto.lifecycle.prompt_sent("u1")
    proto.receive_data(
        b'{"type":"result","subtype":"success","num_turns":1e30,"user_message_uuids":["u1"]}\n'
    )
    results = [e for e in proto.events() if type(e) is tc.ResultMessage]
    assert len(results) == 1 and results[0].decode_error
    assert proto.lifecycle.turns_open == 0
    assert proto.ends_turn(results[0])
