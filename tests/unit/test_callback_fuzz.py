"""Property tests: whatever JSON the CLI sends, decoding and answering never raise."""

from __future__ import annotations

from typing import Any

import orjson
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

import trio_claude as tc
from trio_claude._hooks import HOOK_INPUT_TYPES, decode_hook_input
from trio_claude._jsonschema import validate
from trio_claude._mcp import McpServerConnection
from trio_claude._permissions import decode_permission_request

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
KEYS = sorted(
    {"hook_event_name", "tool_name", "tool_input", "tool_calls", "background_tasks", "rules",
     "session_crons", "permission_suggestions", "type", "behavior", "mode", "directories",
     "destination", "input", "method", "id", "params", "name", "arguments", "requestId"}
)  # fmt: skip
wire_dicts = st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), json_values, max_size=8)


@given(wire_dicts, st.sampled_from([*sorted(HOOK_INPUT_TYPES), "Unknown", None]))
def test_any_hook_input_decodes(data: dict[str, Any], event: str | None) -> None:
    if event is not None:
        data = {**data, "hook_event_name": event}
    hook_input = decode_hook_input(data)
    assert isinstance(hook_input, tc.BaseHookInput)
    assert hook_input.raw == data


@given(wire_dicts, st.lists(wire_dicts, max_size=3))
def test_any_permission_request_decodes_and_suggestions_re_encode(
    data: dict[str, Any], suggestions: list[dict[str, Any]]
) -> None:
    data = {**data, "permission_suggestions": suggestions}
    name, tool_input, context = decode_permission_request(data)
    assert isinstance(name, str) and isinstance(tool_input, dict)
    for update in context.suggestions:
        encoded = update.to_dict()
        orjson.dumps(encoded)
    answer = tc.PermissionResultAllow(updated_permissions=context.suggestions).to_dict(tool_input)
    assert answer["behavior"] == "allow"


@given(json_values)
def test_validation_never_raises(value: Any) -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"type": "array", "items": {"anyOf": [{"type": "string"}, {}]}}},
        "required": ["a"],
        "additionalProperties": {"type": "number", "minimum": 0, "multipleOf": 0.5},
    }
    errors = validate(value, schema)
    assert all(isinstance(e, str) for e in errors)


@tc.tool("echo", "Echo", {"text": str})
async def _echo(args: dict[str, Any]) -> str:
    text: str = args["text"]
    return text


@settings(max_examples=60)
@given(st.one_of(json_values, wire_dicts))
def test_any_jsonrpc_message_gets_a_jsonrpc_answer(message: Any) -> None:
    connection = McpServerConnection(tc.create_sdk_mcp_server("s", tools=[_echo])["instance"])
    answer = trio.run(connection.handle, message)
    assert answer["jsonrpc"] == "2.0"
    assert ("result" in answer) != ("error" in answer)
    orjson.dumps(answer)
