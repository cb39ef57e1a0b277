"""Encode/decode round trips for every wire type, from the public strategies.

For a value built by hand (empty ``raw``) the wire dict is built from its fields; decoding that
dict (after a trip through JSON bytes) must give an equal value of the same class, and encoding
the decoded value from its fields again must give the same dict. ``system`` messages also keep
the whole frame in ``data``, so the expectation there is the original with ``data`` = the frame.
"""

from __future__ import annotations

from typing import Any

import attrs
import orjson
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from trio_claude import _control_types
from trio_claude._protocol._codec import (
    BLOCK_CLASSES,
    MESSAGE_CLASSES,
    SYSTEM_MESSAGE_CLASSES,
    converter,
    decode_content_block,
    decode_message,
    decode_server_info,
    message_to_dict,
    unstructure_block,
)
from trio_claude.testing import strategies as tcst
from trio_claude.types import (
    AgentInfo,
    HookProgressMessage,
    ModelInfo,
    ServerInfo,
    SlashCommand,
    StatusMessage,
    SystemMessage,
    UnknownBlock,
    UnknownMessage,
)

from . import examples


def _names(classes: Any) -> list[Any]:
    return [pytest.param(cls, id=cls.__name__) for cls in dict.fromkeys(classes)]


MESSAGE_TYPES = _names(
    [
        *(cls for cls in MESSAGE_CLASSES.values() if cls is not SystemMessage),
        *SYSTEM_MESSAGE_CLASSES.values(),
        SystemMessage,  # an unknown subtype
        UnknownMessage,
    ]
)
BLOCK_TYPES = _names([*BLOCK_CLASSES.values(), UnknownBlock])


def _via_json(obj: Any) -> Any:
    return orjson.loads(orjson.dumps(obj))


def _expected(message: Any, wire: dict[str, Any]) -> Any:
    # A decoded system message keeps the whole frame as ``data``.
    return attrs.evolve(message, data=wire) if isinstance(message, SystemMessage) else message


@pytest.mark.parametrize("cls", MESSAGE_TYPES)
@settings(max_examples=examples(12))
@given(data=st.data())
def test_every_message_type_round_trips(cls: type[Any], data: st.DataObject) -> None:
    message = data.draw(tcst.instances(cls))
    assert type(message) is cls
    wire = _via_json(message_to_dict(message))
    assert wire == message_to_dict(message), "the encoder must write plain JSON values"

    decoded = decode_message(wire)
    assert type(decoded) is cls
    assert decoded == _expected(message, wire)
    assert message_to_dict(decoded) is wire  # decoded messages give back what was received

    # Rebuilt from the typed fields alone, the wire dict is the same and decodes the same again.
    rebuilt = message_to_dict(attrs.evolve(decoded, raw={}))
    # An unknown message has no fields but its type: its other keys live in ``raw`` only.
    assert rebuilt == (wire if cls is not UnknownMessage else {"type": message.type})
    assert decode_message(_via_json(rebuilt)) == decoded
    if cls is not UnknownMessage:
        assert converter.unstructure(decoded) == wire


@pytest.mark.parametrize("cls", BLOCK_TYPES)
@settings(max_examples=examples(15))
@given(data=st.data())
def test_every_content_block_type_round_trips(cls: type[Any], data: st.DataObject) -> None:
    block = data.draw(tcst.instances(cls))
    wire = _via_json(unstructure_block(block))
    assert wire == unstructure_block(block)
    decoded = decode_content_block(wire)
    assert type(decoded) is cls
    assert decoded == block
    assert unstructure_block(attrs.evolve(decoded, raw={})) == (
        wire if cls is not UnknownBlock else {"type": block.type}
    )


@settings(max_examples=examples(40))
@given(message=tcst.messages())
def test_any_message_round_trips_through_bytes(message: Any) -> None:
    line = orjson.dumps(message_to_dict(message))
    decoded = decode_message(orjson.loads(line))
    assert decoded == _expected(message, orjson.loads(line))
    # And once more: decode(encode(decode(...))) is a fixed point.
    again = decode_message(_via_json(message_to_dict(attrs.evolve(decoded, raw={}))))
    assert again == decoded


@settings(max_examples=examples(30))
@given(message=tcst.system_messages())
# Found by the round-trip property: a ``data`` dict (built by hand) with its own "type" key used
# to make message_to_dict() write a frame that is not a system frame at all.
@example(message=HookProgressMessage(subtype="hook_progress", data={"type": []}))
@example(message=StatusMessage(subtype="status", data={"type": "other", "subtype": "x"}))
def test_system_messages_always_encode_as_system_frames(message: SystemMessage) -> None:
    wire = message_to_dict(message)
    assert wire["type"] == "system" and wire["subtype"] == message.subtype
    decoded = decode_message(_via_json(wire))
    assert type(decoded) is type(message)
    assert decoded == attrs.evolve(message, data=_via_json(wire))


@pytest.mark.parametrize("cls", _names([ServerInfo, SlashCommand, AgentInfo, ModelInfo]))
@settings(max_examples=examples(15))
@given(data=st.data())
def test_initialize_reply_round_trips(cls: type[Any], data: st.DataObject) -> None:
    value = data.draw(tcst.instances(cls))
    wire = _via_json(converter.unstructure(value))
    if cls is ServerInfo:
        decoded = decode_server_info(wire)
        assert decoded.raw is wire
    else:
        decoded = converter.structure(wire, cls)
    assert decoded == value
    assert converter.unstructure(decoded) == wire


@settings(max_examples=examples(40))
@given(reply=tcst.json_objects(max_size=6))
def test_initialize_reply_decoding_is_lenient_or_typed(reply: dict[str, Any]) -> None:
    # Unknown keys are ignored; a known key of the wrong JSON type is a typed error, never a crash.
    from trio_claude import MessageParseError

    try:
        info = decode_server_info(reply)
    except MessageParseError as exc:
        assert exc.data is reply
    else:
        assert info.raw is reply


_CONTROL_ANSWERS = [
    _control_types.InterruptResult,
    _control_types.McpServerStatus,
    _control_types.McpSetServersResult,
    _control_types.ContextUsage,
    _control_types.RewindFilesResult,
    _control_types.ReadFileResult,
]


@pytest.mark.parametrize("cls", _names(_CONTROL_ANSWERS))
@settings(max_examples=examples(15))
@given(
    answer=st.one_of(
        tcst.json_objects(max_size=5),
        # the answer's own keys, with values of any JSON type
        st.dictionaries(
            st.sampled_from(
                ["still_queued", "cancelled", "name", "status", "serverInfo", "tools", "added",
                 "removed", "errors", "categories", "totalTokens", "percentage", "canRewind",
                 "filesChanged", "insertions", "contents", "absPath", "truncated"]
            ),
            tcst.json_values(max_leaves=4),
        ),
    )
)  # fmt: skip
def test_control_answers_decode_any_object(cls: Any, answer: dict[str, Any]) -> None:
    # These answers are informational: decoding is lenient and never raises.
    value = cls.from_wire(answer)
    assert value.raw is answer


# ---------------------------------------------------------------------------------------------
# Hooks and permissions
# ---------------------------------------------------------------------------------------------


@settings(max_examples=examples(60))
@given(hook_input=tcst.hook_inputs())
def test_hook_inputs_round_trip(hook_input: Any) -> None:
    from trio_claude._hooks import decode_hook_input

    wire = _via_json(tcst.hook_input_to_wire(hook_input))
    decoded = decode_hook_input(wire)
    assert type(decoded) is type(hook_input)
    assert decoded == hook_input
    assert decoded.raw == wire


@settings(max_examples=examples(40))
@given(data=tcst.json_objects(max_size=6), event=st.one_of(st.none(), tcst.json_text()))
def test_hook_input_decoding_never_raises(data: dict[str, Any], event: str | None) -> None:
    from trio_claude._hooks import BaseHookInput, decode_hook_input

    decoded = decode_hook_input(data, event)
    assert isinstance(decoded, BaseHookInput)
    assert decoded.raw == data


@settings(max_examples=examples(60))
@given(output=tcst.hook_outputs(), event=st.one_of(st.none(), st.sampled_from(["PreToolUse"])))
@example(output={"_": None, "continue_": True}, event=None)  # found by make fuzz
def test_hook_outputs_encode_to_json_idempotently(output: Any, event: str | None) -> None:
    from trio_claude._hooks import _RENAMES, encode_hook_output

    wire = encode_hook_output(output, event)
    assert _via_json(wire) == wire
    # The Python-safe names (continue_, async_) are never sent; a wire dict's other keys, even
    # ones ending in "_", are the caller's and pass through as they are.
    assert not set(wire) & set(_RENAMES)
    if isinstance(output, dict):
        assert set(wire) == {_RENAMES.get(key, key) for key in output}
    assert encode_hook_output(wire, event) == wire


@settings(max_examples=examples(40))
@given(update=tcst.permission_updates())
def test_permission_updates_round_trip(update: Any) -> None:
    from trio_claude._permissions import PermissionUpdate

    wire = _via_json(update.to_dict())
    assert PermissionUpdate.from_dict(wire, strict=True) == update
    lenient = PermissionUpdate.from_dict(wire)
    assert lenient == update
    assert lenient.to_dict() == wire


@settings(max_examples=examples(40))
@given(
    result=tcst.permission_results(),
    original=tcst.json_objects(),
)
def test_permission_results_encode(result: Any, original: dict[str, Any]) -> None:
    from trio_claude._permissions import PermissionResultAllow, encode_permission_result

    wire = encode_permission_result(result, original)
    assert _via_json(wire) == wire
    assert wire["behavior"] == result.behavior
    if isinstance(result, PermissionResultAllow):
        expected = result.updated_input if result.updated_input is not None else original
        assert wire["updatedInput"] == expected
    else:
        assert wire["message"] == result.message


@settings(max_examples=examples(40))
@given(
    frame=tcst.control_request_frames(subtypes=["can_use_tool"], unknown=False),
    suggestions=st.lists(tcst.permission_updates(), max_size=3),
)
def test_permission_requests_decode(frame: dict[str, Any], suggestions: list[Any]) -> None:
    from trio_claude._permissions import decode_permission_request

    request = {**frame["request"], "permission_suggestions": [s.to_dict() for s in suggestions]}
    tool_name, tool_input, context = decode_permission_request(_via_json(request))
    assert tool_name == request["tool_name"]
    assert tool_input == request["input"]
    assert context.suggestions == suggestions
    assert context.tool_use_id == request["tool_use_id"]


@settings(max_examples=examples(40))
@given(request=tcst.json_objects(max_size=6))
def test_permission_request_decoding_never_raises(request: dict[str, Any]) -> None:
    from trio_claude._permissions import decode_permission_request

    tool_name, tool_input, context = decode_permission_request(request)
    assert isinstance(tool_name, str) and isinstance(tool_input, dict)
    assert context.raw == request
