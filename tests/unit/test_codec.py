"""The codec against real wire traffic (tests/fixtures/transcripts) and hand-made frames."""

from __future__ import annotations

import ast
import copy
import json
import subprocess
import sys
import textwrap
from functools import cache
from pathlib import Path
from typing import Any, cast

import attrs
import orjson
import pytest

import trio_claude
from trio_claude import MessageParseError
from trio_claude._protocol import _codec
from trio_claude._protocol._codec import (
    BLOCK_CLASSES,
    MESSAGE_CLASSES,
    SYSTEM_MESSAGE_CLASSES,
    converter,
    decode_content_block,
    decode_message,
    decode_server_info,
    encode_user_message,
    message_to_dict,
    unstructure_block,
)
from trio_claude.types import (
    ApiRetryMessage,
    AssistantMessage,
    ContentBlock,
    DocumentBlock,
    ImageBlock,
    InitMessage,
    Message,
    ModelFallbackMessage,
    ModelInfo,
    PermissionDeniedMessage,
    RedactedThinkingBlock,
    ResultMessage,
    ServerInfo,
    ServerToolResultBlock,
    ServerToolUseBlock,
    SessionStateChangedMessage,
    SlashCommand,
    StatusMessage,
    StreamEvent,
    SystemMessage,
    TaskUpdatedMessage,
    TextBlock,
    ThinkingBlock,
    ThinkingTokensMessage,
    ToolResultBlock,
    ToolUseBlock,
    UnknownBlock,
    UnknownMessage,
    UserMessage,
)

from ..conftest import TRANSCRIPT_NAMES, TRANSCRIPTS

# Frames the session layer consumes itself; decode_message never sees them.
CONTROL_TYPES = {
    "control_request",
    "control_response",
    "control_cancel_request",
    "keep_alive",
    "transcript_mirror",
}


@cache
def _records(name: str) -> tuple[dict[str, Any], ...]:
    path = TRANSCRIPTS / name
    return tuple(json.loads(line) for line in path.read_text().splitlines() if line.strip())


def transcript_names() -> list[str]:
    """Every transcript's file name (a missing file fails its tests, it is never skipped)."""
    return [f"{name}.jsonl" for name in TRANSCRIPT_NAMES]


def cli_frames(name: str) -> list[dict[str, Any]]:
    """Every CLI -> SDK message frame of a transcript, parsed afresh from the raw wire line."""
    frames = []
    for record in _records(name):
        if record["dir"] != "cli->sdk" or "line" not in record:
            continue
        obj = orjson.loads(record["line"])
        if obj.get("type") not in CONTROL_TYPES:
            frames.append(obj)
    return frames


def decoded(name: str) -> list[Message]:
    return [decode_message(obj) for obj in cli_frames(name)]


def first_of(name: str, cls: type[Any], **where: Any) -> Any:
    for message in decoded(name):
        if type(message) is cls and all(getattr(message, k) == v for k, v in where.items()):
            return message
    raise AssertionError(f"no {cls.__name__} {where} in {name}")


# ---------------------------------------------------------------------------------------------
# Every real frame
# ---------------------------------------------------------------------------------------------


def test_transcripts_are_there() -> None:
    assert len(transcript_names()) >= 18
    assert sum(len(cli_frames(name)) for name in transcript_names()) > 200


@pytest.mark.parametrize("name", transcript_names())
def test_every_cli_frame_decodes_to_a_known_class(name: str) -> None:
    frames = cli_frames(name)
    assert frames
    for obj in frames:
        original = copy.deepcopy(obj)
        message = decode_message(obj)
        assert not isinstance(message, UnknownMessage), obj
        assert type(message) is MESSAGE_CLASSES[obj["type"]] or (
            obj["type"] == "system" and isinstance(message, SystemMessage)
        )
        if obj["type"] == "system":
            assert obj["subtype"] in SYSTEM_MESSAGE_CLASSES, f"untyped system subtype {obj}"
            assert type(message) is SYSTEM_MESSAGE_CLASSES[obj["subtype"]]
            assert message.subtype == obj["subtype"]
            assert message.data is obj
        assert message.raw is obj
        assert obj == original, "decoding must not mutate the frame"
        content = getattr(message, "content", None)
        if isinstance(content, list):
            assert not any(isinstance(block, UnknownBlock) for block in content), content


def test_system_subtypes_seen_in_transcripts_have_typed_classes() -> None:
    seen: dict[str, type[Any]] = {}
    for name in transcript_names():
        for obj, message in zip(cli_frames(name), decoded(name), strict=True):
            if obj["type"] == "system":
                seen[obj["subtype"]] = type(message)
    assert seen == {
        "init": InitMessage,
        "session_state_changed": SessionStateChangedMessage,
        "status": StatusMessage,
        "api_retry": ApiRetryMessage,
        "model_fallback": ModelFallbackMessage,
        "permission_denied": PermissionDeniedMessage,
        "thinking_tokens": ThinkingTokensMessage,
    }


@pytest.mark.parametrize("name", transcript_names())
def test_round_trip_through_raw_and_through_fields(name: str) -> None:
    for obj in cli_frames(name):
        message = decode_message(obj)
        assert message_to_dict(message) == obj
        assert message_to_dict(message) is obj
        # Rebuilt from the typed fields alone (no raw), the wire dict decodes to an equal message.
        bare = attrs.evolve(message, raw={})
        rebuilt = message_to_dict(bare)
        assert rebuilt is not obj
        assert decode_message(rebuilt) == message
        assert converter.unstructure(message) == rebuilt


# ---------------------------------------------------------------------------------------------
# Specific values from specific transcripts
# ---------------------------------------------------------------------------------------------


def test_interrupted_turn_result() -> None:
    result = first_of("g_interrupt.jsonl", ResultMessage)
    assert result.subtype == "error_during_execution"
    assert result.is_error is True
    assert result.terminal_reason == "aborted_streaming"
    assert isinstance(result.errors, list)
    aborted = [m for m in decoded("g_interrupt.jsonl") if isinstance(m, AssistantMessage)]
    assert any(m.raw.get("aborted") is True for m in aborted)


def test_can_use_tool_assistant_asks_for_write() -> None:
    tool_uses = [
        block
        for message in decoded("c_can_use_tool.jsonl")
        if isinstance(message, AssistantMessage)
        for block in message.content
        if isinstance(block, ToolUseBlock)
    ]
    assert tool_uses
    write = tool_uses[0]
    assert write.name == "Write"
    assert write.id.startswith("toolu_")
    assert isinstance(write.input, dict) and "file_path" in write.input


def test_plain_text_turn() -> None:
    messages = decoded("a_plain_text.jsonl")
    init = next(m for m in messages if isinstance(m, InitMessage))
    assert init.claude_code_version == trio_claude.CLI_VERSION
    assert init.permission_mode == "default"
    assert init.api_key_source == "ANTHROPIC_API_KEY"
    assert "Bash" in init.tools
    assert init.model == "claude-opus-5-5"
    assert init.mcp_servers == []
    assert init.session_id == init.data["session_id"]
    state = next(m for m in messages if isinstance(m, SessionStateChangedMessage))
    assert state.sdk_host_only is True and state.state == "running"
    assistant = next(m for m in messages if isinstance(m, AssistantMessage))
    assert assistant.content == [TextBlock(text="Hello from the fake model!")]
    assert assistant.model == "claude-opus-5-5"
    # Ids are random per capture: the fake model's, read from the wire frame.
    assert assistant.message_id == assistant.raw["message"]["id"]
    assert assistant.message_id is not None and assistant.message_id.startswith("msg_fake_")
    assert assistant.stop_reason is None
    assert assistant.usage is not None and assistant.usage["input_tokens"] == 12
    assert assistant.request_id == assistant.raw["request_id"]
    assert assistant.request_id is not None and assistant.request_id.startswith("req_fake_")
    assert assistant.parent_tool_use_id is None
    result = next(m for m in messages if isinstance(m, ResultMessage))
    assert result.subtype == "success" and result.is_error is False
    assert result.result == "Hello from the fake model!"
    assert result.num_turns == 1
    assert result.total_cost_usd == pytest.approx(0.000188)
    assert result.model_usage is not None
    assert result.model_usage["claude-opus-5-5"]["costUSD"] == pytest.approx(0.000188)
    assert result.terminal_reason == "completed"
    assert result.permission_denials == []
    assert result.session_id == assistant.session_id


def test_tool_result_user_message() -> None:
    user = first_of("b_bash_tool.jsonl", UserMessage)
    assert user.content == [
        ToolResultBlock(tool_use_id="toolu_harness_bash_1", content="hello", is_error=False)
    ]
    assert user.tool_use_result["stdout"] == "hello"
    assert user.is_replay is False and user.is_synthetic is False


def test_replayed_and_synthetic_user_messages() -> None:
    replay = first_of("k_set_model_mode.jsonl", UserMessage, is_replay=True)
    assert isinstance(replay.content, str)
    assert replay.content.startswith("<local-command-stdout>Set model to")
    synthetic = first_of("l_structured_output.jsonl", UserMessage, is_synthetic=True)
    assert isinstance(synthetic.content, list)
    assert isinstance(synthetic.content[0], TextBlock)
    assert "structured-output-enforce" in synthetic.content[0].text
    result = first_of("l_structured_output.jsonl", ResultMessage)
    assert result.structured_output is not None


def test_status_and_permission_denied() -> None:
    denied = first_of("k_set_model_mode.jsonl", PermissionDeniedMessage)
    assert denied.tool_name == "Write"
    writes = [
        block.id
        for message in decoded("k_set_model_mode.jsonl")
        if isinstance(message, AssistantMessage)
        for block in message.content
        if isinstance(block, ToolUseBlock) and block.name == "Write"
    ]
    assert denied.tool_use_id == writes[0]  # the first Write, before acceptEdits
    assert denied.message is not None and "permissions" in denied.message
    statuses = [m for m in decoded("k_set_model_mode.jsonl") if isinstance(m, StatusMessage)]
    assert any(m.permission_mode is not None for m in statuses)
    assert first_of("g_interrupt.jsonl", StatusMessage).status == "requesting"


def test_retry_and_fallback() -> None:
    retry = first_of("n_fallback_model.jsonl", ApiRetryMessage)
    assert (retry.attempt, retry.max_retries) == (1, 10)
    # The CLI's first backoff: about half a second (500 ms plus some jitter).
    assert retry.retry_delay_ms is not None and 500 <= retry.retry_delay_ms < 1000
    assert (retry.error_status, retry.error) == (529, "overloaded")
    fallback = first_of("n_fallback_model.jsonl", ModelFallbackMessage)
    assert fallback.trigger == "overloaded"
    assert fallback.original_model == "claude-opus-4-5"
    assert fallback.fallback_model == "claude-sonnet-4-5"


def test_thinking() -> None:
    messages = decoded("o_thinking.jsonl")
    thinking = [b for m in messages if isinstance(m, AssistantMessage) for b in m.content]
    blocks = [b for b in thinking if isinstance(b, ThinkingBlock)]
    assert blocks and all(b.thinking and b.signature for b in blocks)
    tokens = next(m for m in messages if isinstance(m, ThinkingTokensMessage))
    # The first estimate of a block is all delta.
    assert tokens.estimated_tokens == tokens.data["estimated_tokens"] > 0
    assert tokens.estimated_tokens_delta == tokens.estimated_tokens


def test_api_error_assistant_message() -> None:
    error = first_of("p_api_error_401.jsonl", AssistantMessage, error="authentication_failed")
    assert error.model == "<synthetic>"
    assert error.content[0] == TextBlock(text="Invalid API key · Fix external API key")


def test_stream_events() -> None:
    events = [m for m in decoded("h_partial_messages.jsonl") if isinstance(m, StreamEvent)]
    kinds = {e.event["type"] for e in events}
    assert {"message_start", "content_block_delta", "message_stop"} <= kinds
    assert all(e.session_id and e.uuid for e in events)


# ---------------------------------------------------------------------------------------------
# The initialize reply
# ---------------------------------------------------------------------------------------------


def _initialize_responses(name: str) -> list[dict[str, Any]]:
    out = []
    for record in _records(name):
        if record["dir"] == "cli->sdk" and record.get("msg", {}).get("type") == "control_response":
            body = orjson.loads(record["line"])["response"]
            if isinstance(body.get("response"), dict) and "commands" in body["response"]:
                out.append(body["response"])
    return out


def test_server_info_from_first_control_response() -> None:
    records = _records("a_plain_text.jsonl")
    first = next(
        orjson.loads(r["line"])
        for r in records
        if r["dir"] == "cli->sdk" and r["msg"]["type"] == "control_response"
    )
    obj = first["response"]["response"]
    child_pid = next(r["child_pid"] for r in records if r.get("event") == "child")
    info = decode_server_info(obj)
    assert isinstance(info, ServerInfo)
    assert info.raw is obj
    assert info.claude_code_version == trio_claude.CLI_VERSION
    assert info.pid == child_pid
    assert info.current_permission_mode == "default"
    assert info.output_style == "default"
    assert "default" in info.available_output_styles
    assert info.account == {
        "tokenSource": "none",
        "apiKeySource": "ANTHROPIC_API_KEY",
        "apiProvider": "firstParty",
    }
    assert info.session_state == "idle"
    assert "ui_surface_v1" in info.capabilities
    assert info.hook_on_failure_supported is True
    assert info.commands and all(isinstance(c, SlashCommand) for c in info.commands)
    research = next(c for c in info.commands if c.name == "deep-research")
    assert research.builtin is True and research.argument_hint == ""
    assert research.raw is obj["commands"][0]
    assert info.models and all(isinstance(m, ModelInfo) for m in info.models)
    default = info.models[0]
    assert (default.value, default.display_name) == ("default", "Default (recommended)")
    assert default.resolved_model == "claude-opus-5-5"
    assert default.supported_effort_levels is not None and "high" in default.supported_effort_levels
    assert [a.name for a in info.agents][:2] == ["claude", "Explore"]


@pytest.mark.parametrize("name", transcript_names())
def test_every_initialize_reply_decodes(name: str) -> None:
    for obj in _initialize_responses(name):
        info = decode_server_info(obj)
        assert info.claude_code_version == trio_claude.CLI_VERSION
        assert len(info.commands) == len(obj["commands"])
        assert info.hooks_applied == obj.get("hooks_applied")


def test_server_info_is_lenient_and_strict() -> None:
    assert decode_server_info({}) == ServerInfo()
    info = decode_server_info({"pid": 7, "brand_new_key": [1, 2]})
    assert info.pid == 7 and info.raw["brand_new_key"] == [1, 2]
    with pytest.raises(MessageParseError, match=r"\$\.pid") as excinfo:
        decode_server_info({"pid": "7"})
    assert excinfo.value.data == {"pid": "7"}
    with pytest.raises(MessageParseError, match="commands"):
        decode_server_info({"commands": [{"description": "no name"}]})


# ---------------------------------------------------------------------------------------------
# Unknown things are values
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "expected_type"),
    [
        ({"type": "brand_new_thing", "payload": {"a": [1, 2]}}, "brand_new_thing"),
        ({"no_type": True}, ""),
        ({"type": 5}, ""),
        ({"type": ["unhashable"]}, ""),
        ({"type": "control_request", "request_id": "x", "request": {}}, "control_request"),
    ],
)
def test_unknown_type_is_unknown_message(frame: dict[str, Any], expected_type: str) -> None:
    original = copy.deepcopy(frame)
    message = decode_message(frame)
    assert type(message) is UnknownMessage
    assert message.type == expected_type
    assert message.raw is frame and message.raw == original
    assert message_to_dict(message) is frame


def test_unknown_system_subtype_is_plain_system_message() -> None:
    frame = {"type": "system", "subtype": "from_the_future", "x": 1, "session_id": "s", "uuid": "u"}
    message = decode_message(frame)
    assert type(message) is SystemMessage
    assert message.subtype == "from_the_future"
    assert message.data is frame
    assert (message.session_id, message.uuid) == ("s", "u")


def test_unknown_block_is_unknown_block() -> None:
    weird = {"type": "hologram", "beam": [1, 2, 3]}
    frame = {
        "type": "assistant",
        "message": {"model": "m", "content": [{"type": "text", "text": "a"}, weird, {"x": 1}]},
    }
    message = decode_message(frame)
    assert isinstance(message, AssistantMessage)
    text, unknown, untyped = message.content
    assert text == TextBlock(text="a")
    assert isinstance(unknown, UnknownBlock) and unknown.type == "hologram"
    assert unknown.raw is weird
    assert isinstance(untyped, UnknownBlock) and untyped.type == ""
    assert unstructure_block(unknown) == weird


def test_every_server_tool_result_type_keeps_its_type() -> None:
    for wire_type, cls in BLOCK_CLASSES.items():
        if cls is not ServerToolResultBlock:
            continue
        block = decode_content_block({"type": wire_type, "tool_use_id": "srv_1", "content": []})
        assert block == ServerToolResultBlock(type=wire_type, tool_use_id="srv_1", content=[])
    assert len([c for c in BLOCK_CLASSES.values() if c is ServerToolResultBlock]) == 7


# ---------------------------------------------------------------------------------------------
# Defaults and errors
# ---------------------------------------------------------------------------------------------


def test_missing_optional_fields_take_defaults() -> None:
    assert decode_message({"type": "result", "subtype": "success"}) == ResultMessage(
        subtype="success"
    )
    init = decode_message({"type": "system", "subtype": "init"})
    assert isinstance(init, InitMessage)
    assert (init.tools, init.model, init.permission_mode) == ([], None, None)
    assistant = decode_message({"type": "assistant", "message": {"content": [], "model": "m"}})
    assert assistant == AssistantMessage(content=[], model="m")
    user = decode_message({"type": "user", "message": {"content": "hi"}})
    assert user == UserMessage(content="hi")
    tool_use = decode_content_block({"type": "tool_use", "id": "t", "name": "Bash"})
    assert tool_use == ToolUseBlock(id="t", name="Bash", input={})
    updated = decode_message({"type": "system", "subtype": "task_updated", "task_id": "t1"})
    assert isinstance(updated, TaskUpdatedMessage)
    assert updated.patch == {} and updated.status is None


_ASSISTANT = {"type": "assistant", "message": {"content": [], "model": "m"}}

BAD_FRAMES: list[tuple[dict[str, Any], str]] = [
    ({"type": "user", "message": {"role": "user", "content": 5}}, r"\$\.message\.content"),
    ({"type": "user", "message": "hi"}, r"\$\.message"),
    ({"type": "user", "message": {"content": "hi"}, "isReplay": "yes"}, r"\$\.isReplay"),
    ({"type": "user", "message": {"content": [{"type": "tool_result"}]}}, r"content\[0\]"),
    (
        {
            "type": "user",
            "message": {"content": [{"type": "tool_result", "tool_use_id": "t", "content": [1]}]},
        },
        r"content\[0\]\.content",
    ),
    ({"type": "assistant", "message": {"content": 5, "model": "m"}}, r"\$\.message\.content"),
    ({"type": "assistant", "message": {"content": []}}, r"message\.model.*missing|missing.*model"),
    ({**_ASSISTANT, "session_id": 5}, r"\$\.session_id"),
    ({**_ASSISTANT, "message": {"content": [], "model": "m", "usage": [1]}}, r"message\.usage"),
    (
        {"type": "assistant", "message": {"model": "m", "content": [{"type": "text", "text": 5}]}},
        r"content\[0\]\.text",
    ),
    (
        {"type": "assistant", "message": {"model": "m", "content": [{"type": "text"}, "x"]}},
        r"content\[0\]\.text",
    ),
    (
        {"type": "assistant", "message": {"model": "m", "content": ["just a string"]}},
        r"content\[0\]",
    ),
    (
        {
            "type": "assistant",
            "message": {"model": "m", "content": [{"type": "image", "source": 1}]},
        },
        r"content\[0\]\.source",
    ),
    ({"type": "stream_event"}, r"\$\.event"),
    ({"type": "stream_event", "event": "delta"}, r"\$\.event"),
    ({"type": "result"}, r"\$\.subtype"),
    ({"type": "result", "subtype": "success", "num_turns": "3"}, r"\$\.num_turns"),
    ({"type": "result", "subtype": "success", "is_error": 1}, r"\$\.is_error"),
    ({"type": "result", "subtype": "success", "usage": []}, r"\$\.usage"),
    ({"type": "result", "subtype": "success", "total_cost_usd": "0.1"}, r"total_cost_usd"),
    ({"type": "result", "subtype": "success", "deferred_tool_use": {"id": 3}}, r"deferred"),
    ({"type": "system"}, r"\$\.subtype"),
    ({"type": "system", "subtype": 3}, r"\$\.subtype"),
    ({"type": "system", "subtype": "init", "tools": "Bash"}, r"\$\.tools"),
    ({"type": "system", "subtype": "init", "tools": ["Bash", 5]}, r"list of strings"),
    ({"type": "system", "subtype": "status", "status": 5}, r"\$\.status"),
    ({"type": "system", "subtype": "session_state_changed", "sdk_host_only": "y"}, r"sdk_host"),
    ({"type": "system", "subtype": "brand_new", "session_id": 5}, r"\$\.session_id"),
    ({"type": "rate_limit_event"}, r"rate_limit_info"),
    ({"type": "rate_limit_event", "rate_limit_info": "x"}, r"rate_limit_info"),
    ({"type": "conversation_reset", "new_conversation_id": 1}, r"new_conversation_id"),
    ({"type": "tool_progress", "tool_use_id": "t"}, r"tool_name"),
]


@pytest.mark.parametrize(("frame", "where"), BAD_FRAMES)
def test_wrong_field_types_raise_message_parse_error(frame: dict[str, Any], where: str) -> None:
    with pytest.raises(MessageParseError, match=where) as excinfo:
        decode_message(frame)
    assert excinfo.value.data is frame
    assert isinstance(excinfo.value, trio_claude.ClaudeSDKError)


@pytest.mark.parametrize("not_a_dict", [[1, 2], "text", 5, None])
def test_non_object_frame_raises(not_a_dict: Any) -> None:
    with pytest.raises(MessageParseError):
        decode_message(not_a_dict)


def test_no_coercion() -> None:
    # cattrs' defaults would turn 5 into "5" and "abc" into ["a", "b", "c"]; ours must not.
    with pytest.raises(MessageParseError):
        decode_message({"type": "system", "subtype": "status", "permissionMode": 5})
    with pytest.raises(MessageParseError):
        decode_message({"type": "system", "subtype": "init", "slash_commands": "abc"})
    with pytest.raises(MessageParseError):
        decode_message({"type": "result", "subtype": "success", "num_turns": True})
    # ... while JSON integers are fine where a number is expected.
    result = decode_message({"type": "result", "subtype": "success", "total_cost_usd": 1})
    assert isinstance(result, ResultMessage) and result.total_cost_usd == 1


# ---------------------------------------------------------------------------------------------
# Encoding
# ---------------------------------------------------------------------------------------------


def test_encode_string_prompt_exactly_as_the_official_sdk() -> None:
    frame = encode_user_message("What is 2+2?")
    assert frame == {
        "type": "user",
        "session_id": "",
        "message": {"role": "user", "content": "What is 2+2?"},
        "parent_tool_use_id": None,
    }
    assert list(frame) == ["type", "session_id", "message", "parent_tool_use_id"]
    assert orjson.dumps(frame) == (
        b'{"type":"user","session_id":"","message":{"role":"user","content":"What is 2+2?"},'
        b'"parent_tool_use_id":null}'
    )


def test_encode_matches_every_user_frame_the_session_wrote() -> None:
    seen = 0
    for name in transcript_names():
        for record in _records(name):
            msg = record.get("msg") or {}
            if record["dir"] != "sdk->cli" or msg.get("type") != "user":
                continue
            wire = json.loads(record["line"])
            frame = encode_user_message(
                wire["message"]["content"],
                session_id=wire["session_id"],
                parent_tool_use_id=wire["parent_tool_use_id"],
                uuid=wire.get("uuid"),
            )
            assert frame == wire
            assert list(frame) == list(wire)  # the same key order, too
            seen += 1
    assert seen >= 10


def test_encode_blocks_and_uuid() -> None:
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "x"}}
    frame = encode_user_message(
        [
            TextBlock(text="look"),
            ToolResultBlock(tool_use_id="toolu_1", content="done"),
            image,
        ],
        session_id="s1",
        parent_tool_use_id="toolu_0",
        uuid="u-1",
    )
    assert frame == {
        "type": "user",
        "session_id": "s1",
        "message": {
            "role": "user",
            "content": [
                {"type": "text", "text": "look"},
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "done"},
                image,
            ],
        },
        "parent_tool_use_id": "toolu_0",
        "uuid": "u-1",
    }
    assert encode_user_message(())["message"]["content"] == []  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        encode_user_message(5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        encode_user_message([object()])  # type: ignore[list-item]


BLOCKS: list[tuple[ContentBlock, dict[str, Any]]] = [
    (TextBlock(text="hi"), {"type": "text", "text": "hi"}),
    (
        TextBlock(text="hi", citations=[{"type": "char_location"}]),
        {"type": "text", "text": "hi", "citations": [{"type": "char_location"}]},
    ),
    (
        ThinkingBlock(thinking="hmm", signature="sig"),
        {"type": "thinking", "thinking": "hmm", "signature": "sig"},
    ),
    (RedactedThinkingBlock(data="xyz"), {"type": "redacted_thinking", "data": "xyz"}),
    (
        ToolUseBlock(id="t1", name="Bash", input={"command": "ls"}),
        {"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "ls"}},
    ),
    (ToolResultBlock(tool_use_id="t1"), {"type": "tool_result", "tool_use_id": "t1"}),
    (
        ToolResultBlock(tool_use_id="t1", content=[{"type": "text", "text": "x"}], is_error=True),
        {
            "type": "tool_result",
            "tool_use_id": "t1",
            "content": [{"type": "text", "text": "x"}],
            "is_error": True,
        },
    ),
    (
        ServerToolUseBlock(id="s1", name="web_search", input={"query": "q"}),
        {"type": "server_tool_use", "id": "s1", "name": "web_search", "input": {"query": "q"}},
    ),
    (
        ServerToolResultBlock(type="web_search_tool_result", tool_use_id="s1", content=[]),
        {"type": "web_search_tool_result", "tool_use_id": "s1", "content": []},
    ),
    (
        ImageBlock(source={"type": "url", "url": "u"}),
        {"type": "image", "source": {"type": "url", "url": "u"}},
    ),
    (
        DocumentBlock(source={"type": "text", "data": "d"}, title="T"),
        {"type": "document", "source": {"type": "text", "data": "d"}, "title": "T"},
    ),
    (
        UnknownBlock(type="hologram", raw={"type": "hologram", "beam": 1}),
        {"type": "hologram", "beam": 1},
    ),
]


@pytest.mark.parametrize(("block", "wire"), BLOCKS)
def test_block_round_trip(block: ContentBlock, wire: dict[str, Any]) -> None:
    assert unstructure_block(block) == wire
    assert converter.unstructure(block) == wire
    back = decode_content_block(wire)
    assert back == block
    assert back.raw is wire
    assert converter.structure(wire, cast(Any, ContentBlock)) == block


def test_unstructure_block_rejects_non_blocks() -> None:
    with pytest.raises(TypeError):
        unstructure_block({"type": "text", "text": "x"})  # type: ignore[arg-type]


def test_hand_built_messages_to_wire() -> None:
    assistant = AssistantMessage(
        content=[TextBlock(text="hi")], model="m", session_id="s", message_id="msg_1"
    )
    assert message_to_dict(assistant) == {
        "type": "assistant",
        "message": {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "m",
            "content": [{"type": "text", "text": "hi"}],
            "stop_reason": None,
        },
        "parent_tool_use_id": None,
        "session_id": "s",
    }
    user = UserMessage(content="x", is_replay=True, session_id="s")
    assert message_to_dict(user) == {
        "type": "user",
        "message": {"role": "user", "content": "x"},
        "parent_tool_use_id": None,
        "session_id": "s",
        "isReplay": True,
    }
    result = ResultMessage(subtype="success", result="4", model_usage={"m": {}}, num_turns=1)
    wire = message_to_dict(result)
    assert wire["type"] == "result" and wire["modelUsage"] == {"m": {}}
    assert wire["is_error"] is False and "stop_reason" not in wire
    assert decode_message(wire) == result
    status = StatusMessage(subtype="status", permission_mode="plan")
    assert message_to_dict(status) == {
        "type": "system",
        "subtype": "status",
        "permissionMode": "plan",
    }
    unknown = UnknownMessage(type="x")
    assert message_to_dict(unknown) == {"type": "x"}


def test_system_message_fields_override_stale_data() -> None:
    frame = {
        "type": "system",
        "subtype": "session_state_changed",
        "state": "idle",
        "sdk_host_only": True,
        "extra": 1,
    }
    message = decode_message(frame)
    assert isinstance(message, SessionStateChangedMessage)
    changed = attrs.evolve(message, raw={}, sdk_host_only=False, state="running")
    wire = message_to_dict(changed)
    assert wire == {**frame, "sdk_host_only": False, "state": "running"}
    assert decode_message(wire) == attrs.evolve(changed, data=wire)


# ---------------------------------------------------------------------------------------------
# The converter is the same codec
# ---------------------------------------------------------------------------------------------


def test_converter_structures_like_decode_message() -> None:
    for obj in cli_frames("c_can_use_tool.jsonl"):
        message = decode_message(obj)
        assert converter.structure(obj, cast(Any, Message)) == message
        assert converter.structure(obj, type(message)) == message


def test_builders_equal_init() -> None:
    frame = {
        "type": "assistant",
        "message": {
            "id": "i",
            "model": "m",
            "content": [{"type": "text", "text": "t"}],
            "stop_reason": "end_turn",
            "usage": {"a": 1},
        },
        "parent_tool_use_id": "p",
        "session_id": "s",
        "uuid": "u",
        "request_id": "r",
        "error": "rate_limit",
        "user_message_uuid": "um",
    }
    built = decode_message(frame)
    assert isinstance(built, AssistantMessage)
    by_init = AssistantMessage(
        **{f.name: getattr(built, f.name) for f in attrs.fields(AssistantMessage)}
    )
    assert built == by_init
    for f in attrs.fields(AssistantMessage):
        assert getattr(built, f.name) is getattr(by_init, f.name)
    assert repr(built) == repr(by_init)
    assert built.raw is frame
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        built.model = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    "frame",
    [
        {
            "type": "user",
            "message": {
                "role": "user",
                "content": [
                    {"type": "text", "text": "t", "citations": [{"a": 1}]},
                    {"type": "thinking", "thinking": "th", "signature": "sig"},
                    {"type": "redacted_thinking", "data": "d"},
                    {"type": "tool_use", "id": "i", "name": "n", "input": {"x": 1}},
                    {"type": "tool_result", "tool_use_id": "i", "content": "c", "is_error": True},
                    {"type": "future_block", "x": 1},
                ],
            },
            "parent_tool_use_id": "p",
            "session_id": "s",
            "uuid": "u",
            "tool_use_result": {"r": 1},
            "isReplay": True,
            "origin": {"kind": "k"},
        },
        {"type": "stream_event", "event": {"type": "e"}, "session_id": "s", "uuid": "u"},
        {"type": "future_message", "x": 1},
    ],
    ids=["user-with-every-hot-block", "stream_event", "unknown"],
)
def test_every_builder_makes_a_frozen_instance_of_its_own_class(frame: dict[str, Any]) -> None:
    message = decode_message(frame)
    built: list[Any] = [message, *(getattr(message, "content", None) or [])]
    for instance in built:
        cls = type(instance)
        assert cls.__module__ == "trio_claude.types"  # not the builder's mutable twin
        by_init = cls(**{f.name: getattr(instance, f.name) for f in attrs.fields(cls)})
        assert instance == by_init
        assert repr(instance) == repr(by_init)
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            instance.raw = {}


def test_import_generates_no_converter_hooks() -> None:
    # Hooks are generated on first use (import time); the hand-written ones are there at once.
    script = textwrap.dedent(
        """
        from trio_claude._protocol import _codec
        from trio_claude.types import ResultMessage, ServerInfo, TextBlock
        assert TextBlock in _codec._STRUCTURE_HOOKS
        assert ResultMessage not in _codec._STRUCTURE_HOOKS
        assert ServerInfo not in _codec._STRUCTURE_HOOKS
        message = _codec.decode_message({"type": "result", "subtype": "success"})
        assert type(message) is ResultMessage and message.subtype == "success"
        assert ResultMessage in _codec._STRUCTURE_HOOKS
        print("ok")
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_generated_hooks_serve_subclasses_like_their_base() -> None:
    # HookEventMessage has no hook of its own: like a per-class registration, the nearest class
    # in its MRO (SystemMessage) serves it.
    from trio_claude.types import HookEventMessage

    frame = {"type": "system", "subtype": "hook_started", "hook_id": "h", "session_id": "s"}
    structured = converter.structure(frame, HookEventMessage)
    assert type(structured) is SystemMessage
    assert structured.raw is frame


def test_builder_refuses_classes_with_hooks() -> None:
    @attrs.frozen(kw_only=True)
    class Validated:
        x: int = attrs.field(validator=attrs.validators.instance_of(int))

    with pytest.raises(TypeError):
        _codec._make_builder(Validated, ("x",))
    with pytest.raises(TypeError):
        _codec._make_builder(TextBlock, ("text", "raw"))


# ---------------------------------------------------------------------------------------------
# Sans-io: no trio
# ---------------------------------------------------------------------------------------------

PROTOCOL_DIR = Path(_codec.__file__).resolve().parent


def test_codec_does_not_import_trio() -> None:
    # The package's __init__ may re-export the trio shell; load the codec without running it,
    # with "trio" made unimportable, and check nothing pulled it in.
    script = textwrap.dedent(
        f"""
        import importlib.abc, sys, types
        class NoTrio(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name == "trio" or name.startswith("trio."):
                    raise ImportError("trio is not allowed here: " + name)
                return None
        sys.meta_path.insert(0, NoTrio())
        package = types.ModuleType("trio_claude")
        package.__path__ = [{str(PROTOCOL_DIR.parent)!r}]
        sys.modules["trio_claude"] = package
        import trio_claude._protocol._codec as codec
        assert codec.decode_message({{"type": "result", "subtype": "success"}}).subtype == "success"
        assert "trio" not in sys.modules, sorted(m for m in sys.modules if m.startswith("trio"))
        print("ok")
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_protocol_package_has_no_trio_import_statement() -> None:
    files = sorted(PROTOCOL_DIR.glob("*.py"))
    assert PROTOCOL_DIR / "_codec.py" in files
    for path in files:
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            assert not any(n == "trio" or n.startswith("trio.") for n in names), (path, names)
