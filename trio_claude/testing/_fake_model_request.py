"""Recorded requests and the read-only views over a Messages API request body."""

from __future__ import annotations

import re
from typing import Any, Literal

import attrs

from .._redact import is_secret_name

__all__ = [
    "REDACTED",
    "RequestKind",
    "RecordedRequest",
    "classify",
    "redact_headers",
    "strip_system_reminders",
]

REDACTED = "REDACTED"
"""Replacement for credentials in recorded headers."""

_SECRET_HEADERS = frozenset({"x-api-key", "authorization", "proxy-authorization", "cookie"})

RequestKind = Literal[
    "turn", "probe", "title", "compact", "aux", "count_tokens", "head", "connect", "invalid"
]
"""What a recorded request was recognised as.

* ``"turn"``: a main-loop (or subagent) request answered from the script.
* ``"probe"``: the model check after ``set_model`` (``max_tokens: 1``).
* ``"title"``: session-title generation.
* ``"compact"``: a conversation-summary request (``/compact`` or auto-compaction).
* ``"aux"``: another side query (tool-use summary label, prompt suggestion, away summary,
  JSON-schema side query).
* ``"count_tokens"``: ``POST .../v1/messages/count_tokens``.
* ``"head"``: a ``HEAD`` request (the CLI pre-connects with ``HEAD <base>/api/hello``).
* ``"connect"``: a ``CONNECT host:port`` proxy request (the server is also usable as
  ``HTTPS_PROXY`` to catch egress attempts; they are refused with 403).
* ``"invalid"``: anything answered with an error because it is not a valid request.
"""

_REMINDER_RE = re.compile(r"<system-reminder>.*?</system-reminder>", re.DOTALL)

# Fingerprints of the CLI's auxiliary requests (Claude Code 2.1.329).
_TITLE_MARK = "You are naming a coding session"
_COMPACT_SYSTEM_MARK = "tasked with summarizing conversations"
_COMPACT_USER_MARK = "Your task is to create a detailed summary of the conversation"
_TOOL_SUMMARY_MARK = "Write a short summary label describing what these tool calls"
_SUGGESTION_MARK = "[SUGGESTION MODE:"
_AWAY_MARK = "The user stepped away and is coming back"


def redact_headers(headers: list[tuple[str, str]]) -> dict[str, str]:
    """Fold headers into a dict (lower-case names) with credentials replaced by ``REDACTED``."""
    out: dict[str, str] = {}
    for name, value in headers:
        # A gateway's own credential header too (ANTHROPIC_CUSTOM_HEADERS: x-gateway-api-key,
        # ocp-apim-subscription-key, ...), by the name rules of the SDK's redaction.
        if name in _SECRET_HEADERS or is_secret_name(name):
            value = REDACTED
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


def strip_system_reminders(text: str) -> str:
    """Remove ``<system-reminder>...</system-reminder>`` sections and surrounding space."""
    return _REMINDER_RE.sub("", text).strip()


def _block_texts(content: Any) -> list[str]:
    """The ``text`` of each text block (or the string itself) in a message content value."""
    if isinstance(content, str):
        return [content]
    out: list[str] = []
    if isinstance(content, list):
        for block in content:
            if isinstance(block, dict) and block.get("type") == "text":
                text = block.get("text")
                if isinstance(text, str):
                    out.append(text)
    return out


def tool_result_text(block: dict[str, Any]) -> str:
    """The textual content of a ``tool_result`` block, system reminders removed."""
    parts = [strip_system_reminders(t) for t in _block_texts(block.get("content", ""))]
    return "\n".join(p for p in parts if p)


@attrs.define(eq=False)
class RecordedRequest:
    """One request the fake model received, as the tests see it.

    Attributes:
        method: HTTP method.
        path: Request target as sent, including the query string (``?beta=true``).
        session: The script name from the ``/s/<name>`` path prefix, ``None`` for the
            default script.
        headers: Header fields with lower-case names; ``x-api-key``, ``authorization``,
            ``proxy-authorization`` and ``cookie`` values are replaced by ``"REDACTED"``.
        body: The parsed JSON body (normally a dict), or ``None``.
        kind: What the request was recognised as, see :data:`RequestKind`.
        turn_index: Index in the script of the step that answered it (``None`` for
            auxiliary requests and for answers given after the script ran out).
        stream: Whether the request asked for SSE (``"stream": true``).
        status: The HTTP status that was sent.
        completed: The whole answer was written.
        disconnected: The client went away before the whole answer was written.
        exhausted: The script had no step left for this request.
        error: Why the request was rejected, for ``kind == "invalid"``.
    """

    method: str
    path: str
    session: str | None
    headers: dict[str, str]
    body: Any = None
    kind: RequestKind = "turn"
    turn_index: int | None = None
    stream: bool = False
    status: int = 200
    completed: bool = False
    disconnected: bool = False
    exhausted: bool = False
    error: str | None = None

    # ---- views over the body -------------------------------------------------------------

    def _get(self, key: str) -> Any:
        return self.body.get(key) if isinstance(self.body, dict) else None

    @property
    def model(self) -> str | None:
        """The ``model`` the client asked for."""
        value = self._get("model")
        return value if isinstance(value, str) else None

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The request's ``messages`` (only well-formed dict entries)."""
        value = self._get("messages")
        if not isinstance(value, list):
            return []
        return [m for m in value if isinstance(m, dict)]

    @property
    def system_text(self) -> str:
        """All text of the ``system`` parameter, blocks joined by newlines."""
        return "\n".join(_block_texts(self._get("system")))

    @property
    def is_subagent(self) -> bool:
        """Whether a subagent sent this (its billing header says ``cc_is_subagent=true``)."""
        return "cc_is_subagent=true" in self.system_text

    @property
    def tools(self) -> list[dict[str, Any]]:
        """The ``tools`` definitions (empty when absent)."""
        value = self._get("tools")
        return [t for t in value if isinstance(t, dict)] if isinstance(value, list) else []

    @property
    def tool_names(self) -> list[str]:
        """Names of the offered tools, in request order."""
        return [str(t.get("name")) for t in self.tools if "name" in t]

    def _last_user_message(self) -> dict[str, Any] | None:
        users: list[dict[str, Any]] = [m for m in self.messages if m.get("role") == "user"]
        return users[-1] if users else None

    @property
    def last_user_text(self) -> str:
        """Text typed into the last ``user`` message, without ``<system-reminder>`` sections.

        Tool results are not text: for a message that only carries tool results this is
        ``""``.
        """
        message = self._last_user_message()
        if message is None:
            return ""
        parts = [strip_system_reminders(t) for t in _block_texts(message.get("content"))]
        return "\n".join(p for p in parts if p)

    @property
    def tool_results(self) -> list[dict[str, Any]]:
        """The ``tool_result`` blocks of the last message (empty unless it is a user turn
        answering tool calls).

        ``role: system`` messages (the CLI sends its environment block that way) are skipped
        when looking for the last message.
        """
        messages = [m for m in self.messages if m.get("role") != "system"]
        if not messages or messages[-1].get("role") != "user":
            return []
        content = messages[-1].get("content")
        if not isinstance(content, list):
            return []
        return [b for b in content if isinstance(b, dict) and b.get("type") == "tool_result"]

    @property
    def has_tool_result(self) -> bool:
        """Whether the last (non-system) message carries a ``tool_result`` block."""
        return bool(self.tool_results)

    @property
    def last_tool_result(self) -> str | None:
        """Text of the most recent ``tool_result`` anywhere in the conversation; ``None`` when
        there is none (the ``{last_tool_result}`` placeholder says ``""`` then)."""
        for message in reversed(self.messages):
            content = message.get("content")
            if message.get("role") != "user" or not isinstance(content, list):
                continue
            for block in reversed(content):
                if isinstance(block, dict) and block.get("type") == "tool_result":
                    return tool_result_text(block)
        return None

    @property
    def tool_uses(self) -> list[dict[str, Any]]:
        """All ``tool_use`` blocks the assistant produced earlier in the conversation."""
        out: list[dict[str, Any]] = []
        for message in self.messages:
            content = message.get("content")
            if message.get("role") == "assistant" and isinstance(content, list):
                out.extend(
                    b for b in content if isinstance(b, dict) and b.get("type") == "tool_use"
                )
        return out


def classify(body: dict[str, Any], *, count_tokens: bool = False) -> RequestKind:
    """Tell main-loop requests from the CLI's auxiliary ones.

    Args:
        body: A parsed ``/v1/messages`` request body.
        count_tokens: The request was sent to ``/v1/messages/count_tokens``.

    Returns:
        The request kind (never ``"head"``, ``"connect"`` or ``"invalid"``).
    """
    if count_tokens:
        return "count_tokens"
    if body.get("max_tokens") == 1:
        return "probe"
    view = RecordedRequest(method="POST", path="", session=None, headers={}, body=body)
    system = view.system_text
    if _TITLE_MARK in system:
        return "title"
    last_text = view.last_user_text
    if _COMPACT_SYSTEM_MARK in system or _COMPACT_USER_MARK in last_text:
        return "compact"
    if _TOOL_SUMMARY_MARK in system or _SUGGESTION_MARK in last_text or _AWAY_MARK in last_text:
        return "aux"
    output_config = body.get("output_config")
    if isinstance(output_config, dict):
        fmt = output_config.get("format")
        if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
            return "aux"
    return "turn"
