"""``encode_frame``: the one function that turns a frame into the bytes written to the CLI.

Issue 10, fault 10: a lone surrogate in a prompt (``send("\\ud83d")``, a content block, a
``UserMessage``, a raw dict) or in a control request's field made ``orjson.JSONEncodeError`` (a bare
``TypeError``) escape. ``encode_frame`` maps it to :class:`~trio_claude.InvalidPromptError`, a
``ConfigurationError``, naming where the problem is without quoting the prompt.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest

import trio_claude
from trio_claude import ClaudeSDKError, ConfigurationError, InvalidPromptError
from trio_claude._protocol._codec import encode_frame, encode_user_message, unstructure_block
from trio_claude._protocol._control import ControlTable
from trio_claude.types import TextBlock, ToolResultBlock, UserMessage


def _user_message_frame(message: UserMessage) -> dict[str, Any]:
    # What the session sends for a UserMessage prompt (its content as a new user frame).
    content = message.content
    return encode_user_message(
        content if isinstance(content, str) else list(content),
        session_id="default",
        uuid=message.uuid,
    )


def _error(frame: dict[str, Any]) -> InvalidPromptError:
    with pytest.raises(InvalidPromptError) as info:
        encode_frame(frame)
    return info.value


def test_encodes_like_orjson_with_a_newline() -> None:
    frame = encode_user_message(
        [{"type": "text", "text": "héllo 😀 \x00"}], session_id="default", uuid="u-1"
    )
    data = encode_frame(frame)
    assert data == orjson.dumps(frame) + b"\n"
    assert data.count(b"\n") == 1
    assert json.loads(data) == frame


def test_the_error_is_typed_and_exported() -> None:
    assert trio_claude.InvalidPromptError is InvalidPromptError
    assert issubclass(InvalidPromptError, ConfigurationError)
    assert issubclass(InvalidPromptError, ClaudeSDKError)


def test_lone_surrogate_in_a_text_prompt() -> None:
    prompt = "x" * 5000 + "\ud83d" + "y" * 5000
    frame = encode_user_message(prompt, session_id="default")
    err = _error(frame)
    message = str(err)
    assert "user message" in message
    assert "$.message.content contains a lone surrogate '\\ud83d' at index 5000" in message
    assert "xxxxxxxxxx" not in message and "yyyyyyyyyy" not in message  # the prompt is not quoted
    assert len(message) < 300
    assert isinstance(err.__cause__, orjson.JSONEncodeError)


@pytest.mark.parametrize("surrogate", ["\ud83d", "\ude00", "\ud800", "\udfff", "\udcff"])
def test_every_kind_of_lone_surrogate(surrogate: str) -> None:
    err = _error(encode_user_message(f"a{surrogate}b", session_id="default"))
    assert f"lone surrogate {surrogate!r} at index 1" in str(err)


def test_a_paired_surrogate_is_fine() -> None:
    # "\ud83d\ude00" written as a pair is one character once Python has joined it.
    text = "\ud83d\ude00".encode("utf-16", "surrogatepass").decode("utf-16")
    assert json.loads(encode_frame(encode_user_message(text)))["message"]["content"] == "😀"


def test_lone_surrogate_in_a_content_block_dict() -> None:
    frame = encode_user_message(
        [{"type": "text", "text": "ok"}, {"type": "text", "text": "bad \ud83d"}],
        session_id="default",
    )
    assert "$.message.content[1].text contains a lone surrogate '\\ud83d' at index 4" in str(
        _error(frame)
    )


def test_lone_surrogate_in_a_typed_block() -> None:
    frame = encode_user_message([unstructure_block(TextBlock(text="\udc00"))])
    assert "$.message.content[0].text contains a lone surrogate '\\udc00'" in str(_error(frame))


def test_lone_surrogate_nested_in_a_tool_result() -> None:
    block = ToolResultBlock(
        tool_use_id="toolu_1",
        content=[{"type": "text", "text": "fine"}, {"type": "text", "text": "\ud83d"}],
    )
    frame = encode_user_message([unstructure_block(block)])
    assert "$.message.content[0].content[1].text contains a lone surrogate" in str(_error(frame))


def test_lone_surrogate_in_a_user_message() -> None:
    assert "$.message.content contains a lone surrogate" in str(
        _error(_user_message_frame(UserMessage(content="hi \ud83d")))
    )
    message = UserMessage(content=[TextBlock(text="\ud83d")])
    assert "$.message.content[0].text" in str(_error(_user_message_frame(message)))


def test_lone_surrogate_in_a_raw_dict_prompt() -> None:
    frame = {
        "type": "user",
        "session_id": "default",
        "message": {"role": "user", "content": [{"type": "text", "text": "a\ud83d"}]},
        "parent_tool_use_id": None,
        "uuid": "u-1",
    }
    message = str(_error(frame))
    assert "cannot encode the user message" in message
    assert "$.message.content[0].text" in message


def test_lone_surrogate_in_a_dict_key() -> None:
    frame = encode_user_message([{"type": "text", "text": "t", "k\ud83d": 1}])
    assert "$.message.content[0] has a key that contains a lone surrogate '\\ud83d'" in str(
        _error(frame)
    )


def test_keys_that_are_not_identifiers_are_quoted_in_the_path() -> None:
    frame = {"type": "user", "message": {"odd key": "\ud83d"}}
    assert "$.message['odd key'] contains a lone surrogate" in str(_error(frame))


def test_control_request_fields_get_the_same_error() -> None:
    table = ControlTable()
    _, frame = table.new_request("set_model", {"model": "\ud83d"})
    message = str(_error(frame))
    assert message.startswith("cannot encode the control request 'set_model' as JSON")
    assert "$.request.model contains a lone surrogate '\\ud83d' at index 0" in message
    _, frame = table.new_request("set_permission_mode", {"mode": "default"})
    assert json.loads(encode_frame(frame))["request"]["mode"] == "default"


def test_control_response_fields_get_the_same_error() -> None:
    frame = {
        "type": "control_response",
        "response": {"subtype": "error", "request_id": "r1", "error": "bad \ud83d"},
    }
    message = str(_error(frame))
    assert "control response 'error'" in message
    assert "$.response.error contains a lone surrogate" in message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({1: "x"}, "$.message.content[0].input has a key of type int"),
        (2**70, "$.message.content[0].input cannot be encoded (Integer exceeds 64-bit range)"),
        (object(), "$.message.content[0].input cannot be encoded (Type is not JSON serializable"),
        ({"a": {1, 2}}, "$.message.content[0].input.a cannot be encoded"),
    ],
)
def test_values_json_cannot_hold_are_located(value: Any, expected: str) -> None:
    frame = encode_user_message([{"type": "tool_use", "id": "t", "name": "n", "input": value}])
    assert expected in str(_error(frame))


def test_a_circular_frame_is_reported_not_followed() -> None:
    loop: list[Any] = []
    loop.append(loop)
    frame = encode_user_message([{"type": "text", "text": "t", "extra": loop}])
    assert "$.message.content[0].extra[0] is a circular reference" in str(_error(frame))


def test_a_too_deep_frame_is_reported_with_a_short_path() -> None:
    deep: dict[str, Any] = {}
    cursor = deep
    for _ in range(400):
        cursor["k"] = {}
        cursor = cursor["k"]
    message = str(_error({"type": "user", "message": deep}))
    assert "is nested too deeply" in message
    assert len(message) < 300


def test_the_frame_is_left_as_it_was() -> None:
    frame = encode_user_message([{"type": "text", "text": "\ud83d"}], uuid="u-1")
    before = repr(frame)
    _error(frame)
    assert repr(frame) == before
    # Fixing the text makes the same frame encodable: nothing is poisoned.
    frame["message"]["content"][0]["text"] = "fixed"
    assert json.loads(encode_frame(frame))["message"]["content"][0]["text"] == "fixed"
