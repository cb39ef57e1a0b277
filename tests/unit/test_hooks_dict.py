"""Hook inputs and the hook context are dicts, as the official SDK's TypedDicts are.

Official hooks get the CLI's ``input`` dict and ``{"signal": None}`` (claude_agent_sdk
``_internal/query.py``, the ``hook_callback`` branch; ``types.py``: ``BaseHookInput`` and
``HookContext`` are ``TypedDict``s). Code doing ``json.dumps(input_data)``, ``dict(input_data)``,
``{**input_data}`` or ``context["signal"]`` must run unchanged, while trio-claude's typed
attributes keep working.
"""

from __future__ import annotations

import copy
import json
import pickle
from typing import Any

import pytest

import trio_claude as tc
from trio_claude._hooks import HOOK_INPUT_TYPES, decode_hook_input

from .test_hooks import BASE, EVENT_FIELDS


def _wire(event: str) -> dict[str, Any]:
    return {**BASE, "hook_event_name": event, **EVENT_FIELDS[event], "future_field": [1]}


@pytest.mark.parametrize("event", sorted(EVENT_FIELDS))
def test_every_input_is_the_wire_dict(event: str) -> None:
    wire = _wire(event)
    hook_input = decode_hook_input(wire)
    assert isinstance(hook_input, dict)
    assert json.loads(json.dumps(hook_input)) == wire
    assert dict(hook_input) == wire and type(dict(hook_input)) is dict
    assert {**hook_input} == wire
    assert hook_input == wire and wire == hook_input
    assert (hook_input != wire) is False and (hook_input != {}) is True
    assert list(hook_input) == list(wire) and len(hook_input) == len(wire)
    assert list(hook_input.keys()) == list(wire.keys())
    assert list(hook_input.values()) == list(wire.values())
    assert list(hook_input.items()) == list(wire.items())
    assert hook_input.get("future_field") == [1] and hook_input["hook_event_name"] == event
    assert hook_input.copy() == wire
    # the typed attributes are still there
    assert type(hook_input) is HOOK_INPUT_TYPES[event]
    assert hook_input.hook_event_name == event and hook_input.session_id == BASE["session_id"]
    assert hook_input.raw == wire


def test_items_are_the_clis_values_and_attributes_are_decoded() -> None:
    suggestion = {"type": "setMode", "mode": "acceptEdits", "destination": "session"}
    wire = {"hook_event_name": "PermissionRequest", "tool_name": "Write",
            "permission_suggestions": [suggestion]}  # fmt: skip
    hook_input = decode_hook_input(wire)
    assert isinstance(hook_input, tc.PermissionRequestHookInput)
    assert hook_input["permission_suggestions"] == [suggestion]  # plain JSON, as official
    assert hook_input.permission_suggestions == [tc.PermissionUpdate.set_mode("acceptEdits")]
    assert json.dumps(hook_input)  # nothing typed among the items


def test_an_unknown_event_and_an_empty_input_are_dicts_too() -> None:
    generic = decode_hook_input({"hook_event_name": "BrandNew", "thing": 1})
    assert type(generic) is tc.GenericHookInput and generic == {"hook_event_name": "BrandNew",
                                                                "thing": 1}  # fmt: skip
    empty = decode_hook_input({}, "Stop")
    assert isinstance(empty, tc.StopHookInput) and empty.hook_event_name == "Stop"
    assert empty == {} and json.dumps(empty) == "{}"


def test_items_change_like_a_dicts_and_attributes_keep_what_was_delivered() -> None:
    wire = {"hook_event_name": "PreToolUse", "tool_name": "Bash", "transcript_path": "/t"}
    hook_input = decode_hook_input(wire)
    assert isinstance(hook_input, tc.PreToolUseHookInput)
    hook_input["tool_name"] = "Edit"
    del hook_input["transcript_path"]
    hook_input.setdefault("extra", 1)
    assert hook_input == {"hook_event_name": "PreToolUse", "tool_name": "Edit", "extra": 1}
    assert hook_input.tool_name == "Bash" and hook_input.transcript_path == "/t"
    assert hook_input.raw == wire
    with pytest.raises(AttributeError):
        hook_input.tool_name = "Edit"  # type: ignore[misc]  # frozen: the point of the check


def test_inputs_compare_like_dicts_and_are_not_hashable() -> None:
    a = decode_hook_input({"hook_event_name": "Stop", "session_id": "s"})
    b = decode_hook_input({"hook_event_name": "Stop", "session_id": "s"})
    c = decode_hook_input({"hook_event_name": "Stop", "session_id": "s", "new": 1})
    assert a == b and a != c
    with pytest.raises(TypeError):
        hash(a)


def test_an_input_built_by_hand_holds_its_wire_form() -> None:
    hook_input = tc.PreToolUseHookInput(
        hook_event_name="PreToolUse", tool_name="Bash", tool_input={"command": "ls"}
    )
    assert hook_input["tool_name"] == "Bash" and hook_input["tool_input"] == {"command": "ls"}
    assert "mcp_server" not in hook_input  # None attributes are left out
    assert hook_input.raw == {}
    assert decode_hook_input(dict(hook_input)) == hook_input
    batch = tc.PostToolBatchHookInput(
        hook_event_name="PostToolBatch",
        tool_calls=[tc.PostToolBatchToolCall(tool_name="Read", tool_input={"p": 1})],
    )
    assert batch["tool_calls"] == [
        {"tool_name": "Read", "tool_input": {"p": 1}, "tool_use_id": "", "tool_response": None}
    ]
    json.dumps(batch)
    request = tc.PermissionRequestHookInput(
        permission_suggestions=[tc.PermissionUpdate.set_mode("plan")]
    )
    assert request["permission_suggestions"] == [tc.PermissionUpdate.set_mode("plan").to_dict()]


@pytest.mark.parametrize(
    "clone",
    [copy.copy, copy.deepcopy, lambda x: pickle.loads(pickle.dumps(x))],
    ids=["copy", "deepcopy", "pickle"],
)
def test_copies_keep_the_items_and_the_attributes(clone: Any) -> None:
    wire = {"hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_input": {"c": 1}}
    hook_input = decode_hook_input(wire)
    hook_input["added"] = True
    copied = clone(hook_input)
    assert type(copied) is tc.PreToolUseHookInput
    assert copied == {**wire, "added": True}
    assert copied.tool_name == "Bash" and copied.raw == wire


def test_the_hook_context_is_the_official_dict() -> None:
    context = tc.HookContext(callback_id="hook_3", hook_event_name="Stop", matcher="*")
    assert isinstance(context, dict)
    assert context["signal"] is None and context.get("signal") is None
    assert context == {"signal": None} and dict(context) == {"signal": None}
    assert json.dumps(context) == '{"signal": null}' and {**context} == {"signal": None}
    assert (context.callback_id, context.hook_event_name, context.matcher) == (
        "hook_3", "Stop", "*"
    )  # fmt: skip
    assert context.signal is None
    assert pickle.loads(pickle.dumps(context)).callback_id == "hook_3"
    assert copy.deepcopy(context) == {"signal": None}
