"""The public types: immutability, equality, field-name contract, helpers."""

from __future__ import annotations

import inspect
import typing
from typing import Any, get_args

import attrs
import pytest

from trio_claude import ResultError, types
from trio_claude._protocol._codec import (
    BLOCK_CLASSES,
    MESSAGE_CLASSES,
    SYSTEM_MESSAGE_CLASSES,
    decode_message,
)
from trio_claude.types import (
    AssistantMessage,
    ContentBlock,
    HookResponseMessage,
    HookStartedMessage,
    InitMessage,
    Message,
    PermissionMode,
    ResultMessage,
    StreamEvent,
    SystemMessage,
    TaskUpdatedMessage,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
    TurnResult,
    UnknownMessage,
    UserMessage,
)

# The message, block and reply classes defined in trio_claude.types (its __all__ also re-exports
# the official SDK's other names: option classes, hook types, ... with contracts of their own).
PUBLIC_CLASSES = [
    obj
    for name in types.__all__
    if inspect.isclass(obj := getattr(types, name))
    and attrs.has(obj)
    and obj.__module__ == types.__name__
]


def _minimal_kwargs(cls: type[Any]) -> dict[str, Any]:
    """Values for the required fields of ``cls``."""
    kwargs: dict[str, Any] = {}
    for field in attrs.fields(cls):
        if field.default is not attrs.NOTHING:
            continue
        kwargs[field.name] = {
            "content": [],
            "subtype": "x",
            "event": {},
            "rate_limit_info": {},
            "source": {},
            "messages": (),
            "result": ResultMessage(subtype="success"),
        }.get(field.name, "x")
    return kwargs


def test_all_exports_exist() -> None:
    for name in types.__all__:
        assert hasattr(types, name), name
    assert len(PUBLIC_CLASSES) >= 60


@pytest.mark.parametrize("cls", PUBLIC_CLASSES, ids=lambda c: c.__name__)
def test_classes_are_frozen_slotted_keyword_only_and_documented(cls: type[Any]) -> None:
    instance = cls(**_minimal_kwargs(cls))
    assert not hasattr(instance, "__dict__")
    first = attrs.fields(cls)[0].name
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        setattr(instance, first, "changed")
    with pytest.raises(TypeError):
        cls("positional")
    doc = inspect.getdoc(cls)
    assert doc and len(doc.splitlines()[0]) > 10
    own_fields = [f.name for f in attrs.fields(cls) if f.name not in ("raw", "data")]
    attrs_base = next((base for base in cls.__bases__ if attrs.has(base)), None)
    if attrs_base is not None:  # subclasses document only their own fields
        base_fields = {f.name for f in attrs.fields(attrs_base)}
        own_fields = [name for name in own_fields if name not in base_fields]
    if own_fields:
        assert "Attributes:" in doc, cls
        for name in own_fields:
            assert f"{name}:" in doc, (cls, name)


@pytest.mark.parametrize("cls", PUBLIC_CLASSES, ids=lambda c: c.__name__)
def test_raw_is_not_part_of_equality_or_repr(cls: type[Any]) -> None:
    names = {f.name for f in attrs.fields(cls)}
    if "raw" not in names:
        assert cls is TurnResult
        return
    kwargs = _minimal_kwargs(cls)
    a = cls(**kwargs, raw={"a": 1})
    b = cls(**kwargs, raw={"b": 2})
    assert a == b
    assert "raw" not in repr(a)
    assert cls(**kwargs).raw == {}


def test_field_names_follow_the_official_sdk() -> None:
    expected = {
        ResultMessage: "subtype duration_ms duration_api_ms is_error num_turns session_id "
        "stop_reason total_cost_usd usage result structured_output model_usage "
        "permission_denials deferred_tool_use errors api_error_status uuid terminal_reason origin",
        AssistantMessage: "content model parent_tool_use_id error usage message_id stop_reason "
        "session_id uuid",
        UserMessage: "content uuid parent_tool_use_id tool_use_result origin",
        SystemMessage: "subtype data",
        StreamEvent: "uuid session_id event parent_tool_use_id",
        TextBlock: "text",
        ThinkingBlock: "thinking signature",
        ToolUseBlock: "id name input",
        ToolResultBlock: "tool_use_id content is_error",
    }
    for cls, names in expected.items():
        have = {f.name for f in attrs.fields(cls)}
        assert set(names.split()) <= have, (cls, set(names.split()) - have)


def test_result_message_is_lenient() -> None:
    result = ResultMessage(subtype="success")
    assert (result.is_error, result.num_turns, result.result, result.errors) == (
        False,
        0,
        None,
        None,
    )
    error = ResultError(
        ResultMessage(
            subtype="error_during_execution",
            is_error=True,
            errors=["boom"],
            terminal_reason="aborted_streaming",
            api_error_status=529,
        )
    )
    assert error.errors == ["boom"] and error.api_error_status == 529
    assert error.terminal_reason == "aborted_streaming"


def test_system_subclasses() -> None:
    assert set(SYSTEM_MESSAGE_CLASSES.values()) <= set(PUBLIC_CLASSES)
    for subtype, cls in SYSTEM_MESSAGE_CLASSES.items():
        assert issubclass(cls, SystemMessage), cls
        frame = {"type": "system", "subtype": subtype, "session_id": "s", "uuid": "u"}
        message = decode_message(frame)
        assert type(message) is cls
        assert isinstance(message, SystemMessage)
        assert (message.subtype, message.data, message.session_id, message.uuid) == (
            subtype,
            frame,
            "s",
            "u",
        )
        for field in attrs.fields(cls):
            assert field.default is not attrs.NOTHING or field.name == "subtype", (cls, field)


def test_wire_renames() -> None:
    init = decode_message(
        {"type": "system", "subtype": "init", "permissionMode": "plan", "apiKeySource": "none"}
    )
    assert isinstance(init, InitMessage)
    assert (init.permission_mode, init.api_key_source) == ("plan", "none")
    result = decode_message({"type": "result", "subtype": "success", "modelUsage": {"m": {}}})
    assert isinstance(result, ResultMessage) and result.model_usage == {"m": {}}
    user = decode_message(
        {"type": "user", "message": {"content": "x"}, "isReplay": True, "isSynthetic": True}
    )
    assert isinstance(user, UserMessage) and user.is_replay and user.is_synthetic
    auth = decode_message({"type": "auth_status", "isAuthenticating": True, "output": ["a"]})
    assert auth == types.AuthStatusMessage(is_authenticating=True, output=["a"])


def test_helper_properties() -> None:
    updated = TaskUpdatedMessage(subtype="task_updated", task_id="t", patch={"status": "killed"})
    assert updated.status == "killed"
    assert TaskUpdatedMessage(subtype="task_updated", patch={"status": 3}).status is None
    started = HookStartedMessage(subtype="hook_started", hook_event="PreToolUse", hook_name="x")
    assert started.hook_event_name == "PreToolUse"
    response = HookResponseMessage(subtype="hook_response", hook_name="Stop")
    assert response.hook_event_name == "Stop"
    assert isinstance(response, types.HookEventMessage)


def test_turn_result() -> None:
    result = ResultMessage(
        subtype="success",
        result="4",
        session_id="s",
        total_cost_usd=0.5,
        usage={"input_tokens": 1},
        structured_output={"answer": 4},
    )
    text = AssistantMessage(content=[TextBlock(text="4")], model="m")
    turn = TurnResult(messages=(text, result), result=result)
    assert turn.text == "4"
    assert turn.structured_output == {"answer": 4}
    assert turn.session_id == "s"
    assert turn.total_cost_usd == 0.5
    assert turn.usage == {"input_tokens": 1}
    assert TurnResult(messages=(), result=ResultMessage(subtype="success")).text == ""


def test_unions_cover_every_class() -> None:
    message_members = set(get_args(Message))
    assert set(MESSAGE_CLASSES.values()) | {UnknownMessage} == message_members
    block_members = set(get_args(ContentBlock))
    assert set(BLOCK_CLASSES.values()) | {types.UnknownBlock} == block_members


def test_permission_mode_literal() -> None:
    assert set(get_args(PermissionMode)) == {
        "default",
        "acceptEdits",
        "plan",
        "bypassPermissions",
        "dontAsk",
        "auto",
    }


@pytest.mark.parametrize("cls", PUBLIC_CLASSES, ids=lambda c: c.__name__)
def test_annotations_resolve(cls: type[Any]) -> None:
    # ``from __future__ import annotations``: every annotation must evaluate at runtime (cattrs
    # needs the real types).
    hints = typing.get_type_hints(cls)
    attrs.resolve_types(cls)
    for field in attrs.fields(cls):
        assert not isinstance(field.type, str), (cls, field.name)
        assert hints[field.name] == field.type
