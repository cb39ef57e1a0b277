"""Rendering scripted answers as Anthropic Messages API JSON and SSE events."""

from __future__ import annotations

import secrets
from typing import Any

import orjson

from ._fake_model_request import RecordedRequest
from ._fake_model_script import (
    Block,
    RedactedThinking,
    Text,
    Thinking,
    ToolUse,
    Turn,
    Usage,
    fill_placeholders,
    fill_value,
)

__all__ = [
    "EXHAUSTED_TEXT",
    "Answer",
    "error_body",
    "message_json",
    "new_id",
    "render_turn",
    "sse_event",
    "stream_events",
]

EXHAUSTED_TEXT = "[fake model: script exhausted]"
"""Text of the answer given once a script has no step left for a turn request."""


def new_id(prefix: str) -> str:
    """A random id in Anthropic style, e.g. ``msg_fake_3f2a...``."""
    return f"{prefix}_fake_{secrets.token_hex(12)}"


class Answer:
    """A concrete answer: a turn with placeholders filled and ids generated.

    Attributes:
        message_id: The ``msg_...`` id.
        model: Model name reported.
        content: Final content blocks as the Messages API returns them.
        stop_reason: Stop reason reported.
        stop_sequence: Stop sequence reported.
        usage: Usage reported (``output_tokens`` resolved).
        chunk_size: Delta chunk size.
        ping: Whether a ``ping`` follows ``message_start``.
    """

    def __init__(
        self,
        *,
        model: str,
        content: list[dict[str, Any]],
        stop_reason: str | None,
        stop_sequence: str | None,
        usage: Usage,
        chunk_size: int,
        ping: bool,
    ) -> None:
        self.message_id = new_id("msg")
        self.model = model
        self.content = content
        self.stop_reason = stop_reason
        self.stop_sequence = stop_sequence
        self.chunk_size = chunk_size
        self.ping = ping
        output = usage.output_tokens
        if output is None:
            chars = sum(len(orjson.dumps(b)) for b in content)
            output = max(1, chars // 4)
        self.usage = {
            "input_tokens": usage.input_tokens,
            "cache_creation_input_tokens": usage.cache_creation_input_tokens,
            "cache_read_input_tokens": usage.cache_read_input_tokens,
            "output_tokens": output,
        }


def _render_block(block: Block, request: RecordedRequest) -> dict[str, Any]:
    if isinstance(block, Text):
        return {"type": "text", "text": fill_placeholders(block.text, request)}
    if isinstance(block, ToolUse):
        return {
            "type": "tool_use",
            "id": block.id or new_id("toolu"),
            "name": block.name,
            "input": fill_value(block.input, request),
        }
    if isinstance(block, Thinking):
        return {
            "type": "thinking",
            "thinking": fill_placeholders(block.thinking, request),
            "signature": block.signature or new_id("sig"),
        }
    if isinstance(block, RedactedThinking):
        return {"type": "redacted_thinking", "data": block.data}
    raise TypeError(f"not a content block: {block!r}")  # pragma: no cover


def render_turn(turn: Turn, request: RecordedRequest) -> Answer:
    """Fill placeholders and generate ids for one serving of ``turn``."""
    return Answer(
        model=turn.model or request.model or "claude-fake",
        content=[_render_block(b, request) for b in turn.blocks],
        stop_reason=turn.effective_stop_reason,
        stop_sequence=turn.stop_sequence,
        usage=turn.usage,
        chunk_size=turn.chunk_size,
        ping=turn.ping,
    )


def plain_answer(
    request: RecordedRequest,
    content: list[dict[str, Any]],
    *,
    stop_reason: str = "end_turn",
    input_tokens: int = 10,
    output_tokens: int | None = None,
) -> Answer:
    """An answer that is not from the script (auxiliary requests, exhaustion)."""
    return Answer(
        model=request.model or "claude-fake",
        content=content,
        stop_reason=stop_reason,
        stop_sequence=None,
        usage=Usage(input_tokens=input_tokens, output_tokens=output_tokens),
        chunk_size=64,
        ping=False,
    )


def message_json(answer: Answer) -> dict[str, Any]:
    """The non-streaming Messages API response body."""
    return {
        "id": answer.message_id,
        "type": "message",
        "role": "assistant",
        "model": answer.model,
        "content": answer.content,
        "stop_reason": answer.stop_reason,
        "stop_sequence": answer.stop_sequence,
        "usage": answer.usage,
    }


def _chunks(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or []


def stream_events(answer: Answer) -> list[dict[str, Any]]:
    """The SSE event payloads of a streamed answer, in order.

    ``message_start`` (usage with ``output_tokens: 1``), optional ``ping``, per block
    ``content_block_start`` / deltas / ``content_block_stop``, then ``message_delta`` (stop
    reason and final usage) and ``message_stop``.
    """
    events: list[dict[str, Any]] = [
        {
            "type": "message_start",
            "message": {
                "id": answer.message_id,
                "type": "message",
                "role": "assistant",
                "model": answer.model,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {**answer.usage, "output_tokens": 1},
            },
        }
    ]
    if answer.ping:
        events.append({"type": "ping"})
    size = answer.chunk_size
    for index, block in enumerate(answer.content):
        kind = block["type"]
        if kind == "text":
            events.append(
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {"type": "text", "text": ""},
                }
            )
            for piece in _chunks(block["text"], size):
                events.append(
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "text_delta", "text": piece},
                    }
                )
        elif kind == "tool_use":
            events.append(
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {
                        "type": "tool_use",
                        "id": block["id"],
                        "name": block["name"],
                        "input": {},
                    },
                }
            )
            raw = orjson.dumps(block["input"]).decode()
            for piece in ["", *_chunks(raw, size)]:
                events.append(
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "input_json_delta", "partial_json": piece},
                    }
                )
        elif kind == "thinking":
            events.append(
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {"type": "thinking", "thinking": "", "signature": ""},
                }
            )
            for piece in _chunks(block["thinking"], size):
                events.append(
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "thinking_delta", "thinking": piece},
                    }
                )
            events.append(
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "signature_delta", "signature": block["signature"]},
                }
            )
        else:
            events.append({"type": "content_block_start", "index": index, "content_block": block})
        events.append({"type": "content_block_stop", "index": index})
    events.append(
        {
            "type": "message_delta",
            "delta": {"stop_reason": answer.stop_reason, "stop_sequence": answer.stop_sequence},
            "usage": answer.usage,
        }
    )
    events.append({"type": "message_stop"})
    return events


def sse_event(payload: dict[str, Any]) -> bytes:
    """Encode one SSE event; the event name is the payload's ``type``."""
    return b"event: %s\ndata: %s\n\n" % (str(payload["type"]).encode(), orjson.dumps(payload))


def error_body(error_type: str, message: str, request_id: str | None = None) -> dict[str, Any]:
    """An Anthropic-shaped error body."""
    body: dict[str, Any] = {"type": "error", "error": {"type": error_type, "message": message}}
    if request_id is not None:
        body["request_id"] = request_id
    return body


def schema_instance(schema: Any, title: str = "fake") -> Any:
    """A minimal value satisfying a (simple) JSON schema, for JSON-schema side queries."""
    if not isinstance(schema, dict):
        return None
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            return schema_instance(options[0], title)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), kind[0] if kind else None)
    if kind == "object" or (kind is None and "properties" in schema):
        props = schema.get("properties")
        props = props if isinstance(props, dict) else {}
        required = schema.get("required")
        names = required if isinstance(required, list) else list(props)
        return {n: schema_instance(props.get(n, {}), title) for n in names if isinstance(n, str)}
    if kind == "array":
        return []
    if kind in ("integer", "number"):
        minimum = schema.get("minimum")
        return minimum if isinstance(minimum, (int, float)) else 0
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    return title
