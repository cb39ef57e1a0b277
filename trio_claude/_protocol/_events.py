"""Events the sans-io core produces besides user-visible messages.

User-visible messages are the public :mod:`trio_claude.types` classes themselves; everything here
is protocol plumbing the session consumes.
"""

from __future__ import annotations

from typing import Any, Final

import attrs

from ..types import Message
from ._control import ControlResponse
from ._framing import OversizeLine

__all__ = [
    "EOF",
    "NEED_DATA",
    "OVERSIZE_REQUEST",
    "PLUMBING_EVENTS",
    "Event",
    "EndOfStream",
    "NeedData",
    "ControlCancel",
    "ControlRequest",
    "ControlResponse",
    "DroppedMessage",
    "InvalidLine",
    "KeepAlive",
    "OversizeLine",
    "SessionStateChanged",
    "TranscriptMirror",
]


class NeedData:
    """The type of :data:`NEED_DATA`."""

    def __repr__(self) -> str:
        return "NEED_DATA"


class EndOfStream:
    """The type of :data:`EOF`."""

    def __repr__(self) -> str:
        return "EOF"


#: Returned by ``next_event()`` when more bytes are needed.
NEED_DATA: Final = NeedData()
#: Returned by ``next_event()`` once the stream has ended and every event was taken.
EOF: Final = EndOfStream()


#: The subtype of the stand-in :class:`ControlRequest` for a request line over
#: ``max_line_bytes``: no handler has it, and ``answer_request`` answers it with its ``error``.
OVERSIZE_REQUEST = "trio_claude.oversize_request"


@attrs.frozen
class ControlRequest:
    """A request from the CLI to the SDK (``can_use_tool``, ``hook_callback``, ``mcp_message``...).

    Attributes:
        request_id: The CLI's id (a UUID), to be echoed in the response.
        subtype: The request subtype.
        request: The whole ``request`` object, subtype included.
    """

    request_id: str
    subtype: str
    request: dict[str, Any]


@attrs.frozen
class ControlCancel:
    """The CLI withdrew its request ``request_id``: cancel the handler, send no response."""

    request_id: str


@attrs.frozen
class SessionStateChanged:
    """The CLI's run state (``idle``, ``running``, ``requires_action``), from an SDK-only frame."""

    state: str


@attrs.frozen
class KeepAlive:
    """A heartbeat frame; it only counts as activity."""

    raw: dict[str, Any]


@attrs.frozen
class TranscriptMirror:
    """A ``transcript_mirror`` frame (session stores); never shown to users."""

    file_path: Any  # a str, if well formed (checked by the mirror, which logs a bad frame)
    entries: Any  # a list, if well formed
    raw: dict[str, Any]


@attrs.frozen
class InvalidLine:
    """A line that is not a JSON object, or a known frame that could not be decoded.

    Attributes:
        line: The first bytes of the line.
        error: Why it was rejected.
    """

    line: bytes
    error: str


@attrs.frozen
class DroppedMessage:
    """An assistant message or result of an abandoned turn, dropped rather than delivered, but
    handed out for what it cost (``ClaudeProtocol(report_dropped=True)``: a budget's charge).

    Attributes:
        message: The dropped message, decoded.
        background: A result that ends no turn of ours (read while an abandoned turn drains).
    """

    message: Message
    background: bool = False


#: The events that are protocol plumbing (everything ``events()`` returns but messages and the
#: undecoded message lines of ``defer_messages``). The shell handles each of these itself.
PLUMBING_EVENTS: Final = (
    ControlResponse,
    ControlRequest,
    ControlCancel,
    SessionStateChanged,
    KeepAlive,
    TranscriptMirror,
    InvalidLine,
    OversizeLine,
    DroppedMessage,
)

#: What ``ClaudeProtocol.events()`` returns: a message, a message line to decode on delivery
#: (``bytes``, with ``defer_messages``), or a plumbing event.
Event = (
    Message
    | bytes
    | ControlResponse
    | ControlRequest
    | ControlCancel
    | SessionStateChanged
    | KeepAlive
    | TranscriptMirror
    | InvalidLine
    | OversizeLine
    | DroppedMessage
)
