"""Typed answers to SDK->CLI control requests (``Session.rewind_files()``, ``mcp_status()``, ...).

Each keeps the CLI's whole answer in ``raw``; fields the CLI leaves out are ``None`` or empty.
Decoding is lenient on purpose: these answers are informational, and a CLI that adds or drops a
field must not break the call. :class:`McpServerStatus` and :class:`ContextUsage`, whose
official counterparts are plain dicts (TypedDicts), also read like their wire dict
(``status["serverInfo"]``, ``usage.get("memoryFiles")``).
"""

from __future__ import annotations

from typing import Any

import attrs

from .types import _WireDictView

__all__ = [
    "ContextUsage",
    "InterruptResult",
    "McpServerStatus",
    "McpSetServersResult",
    "ReadFileResult",
    "RewindFilesResult",
]


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _num(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    return float(value) if isinstance(value, (int, float)) else None


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


@attrs.frozen(kw_only=True)
class InterruptResult:
    """The CLI's answer to ``interrupt``.

    Attributes:
        still_queued: User messages still queued behind the interrupted turn.
        cancelled: Queued messages the interrupt cancelled (newer CLIs).
    """

    still_queued: list[Any] = attrs.field(factory=list)
    cancelled: list[Any] | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> InterruptResult:
        """Decodes the wire answer."""
        cancelled = data.get("cancelled")
        return cls(
            still_queued=_list(data.get("still_queued")),
            cancelled=list(cancelled) if isinstance(cancelled, list) else None,
            raw=data,
        )


@attrs.frozen(kw_only=True)
class McpServerStatus(_WireDictView):
    """One MCP server's connection state (``mcp_status``).

    Reads like the wire dict too (the official SDK's ``McpServerStatus`` is that dict):
    ``status["name"]``, ``status.get("serverInfo")``, ``dict(status)``.

    Attributes:
        name: The server's name.
        status: ``connected``, ``failed``, ``needs-auth``, ``pending``, ``disabled``...
        server_info: The server's ``initialize`` info (name, version), when connected.
        transport: ``stdio``, ``sse``, ``http``, ``sdk``...
        scope: Where the server was configured (``dynamic``, ``project``...).
        source: Who configured it.
        tools: The server's tools (``name``, ``annotations``...).
        error: Why it failed, if it did.
    """

    name: str
    status: str | None = None
    server_info: dict[str, Any] | None = None
    transport: str | None = None
    scope: str | None = None
    source: str | None = None
    tools: list[dict[str, Any]] = attrs.field(factory=list)
    error: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> McpServerStatus:
        """Decodes one entry of ``mcpServers``."""
        info = data.get("serverInfo")
        return cls(
            name=str(data.get("name", "")),
            status=_str(data.get("status")),
            server_info=dict(info) if isinstance(info, dict) else None,
            transport=_str(data.get("transport")),
            scope=_str(data.get("scope")),
            source=_str(data.get("source")),
            tools=[t for t in _list(data.get("tools")) if isinstance(t, dict)],
            error=_str(data.get("error")),
            raw=data,
        )


@attrs.frozen(kw_only=True)
class McpSetServersResult:
    """The CLI's answer to ``mcp_set_servers``.

    Attributes:
        added: Servers added.
        removed: Servers removed.
        errors: Server name -> why it could not be added.
    """

    added: list[str] = attrs.field(factory=list)
    removed: list[str] = attrs.field(factory=list)
    errors: dict[str, Any] = attrs.field(factory=dict)
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> McpSetServersResult:
        """Decodes the wire answer."""
        return cls(
            added=[str(x) for x in _list(data.get("added"))],
            removed=[str(x) for x in _list(data.get("removed"))],
            errors=_dict(data.get("errors")),
            raw=data,
        )


@attrs.frozen(kw_only=True)
class ContextUsage(_WireDictView):
    """The context-window breakdown (``get_context_usage``, what ``/context`` shows).

    Reads like the wire dict too (the official SDK returns that dict,
    ``ContextUsageResponse``): ``usage["totalTokens"]``, ``usage.get("memoryFiles")``.

    Attributes:
        categories: Token use by category (``name``, ``tokens``, ``kind``...).
        total_tokens: Tokens in context.
        max_tokens: The usable window.
        raw_max_tokens: The model's whole window.
        percentage: ``total_tokens`` as a percentage of ``max_tokens``.
        model: The model the numbers are for.
        is_auto_compact_enabled: Whether auto-compaction is on.
        auto_compact_threshold: The token count at which it compacts.
    """

    categories: list[dict[str, Any]] = attrs.field(factory=list)
    total_tokens: int | None = None
    max_tokens: int | None = None
    raw_max_tokens: int | None = None
    percentage: float | None = None
    model: str | None = None
    is_auto_compact_enabled: bool | None = None
    auto_compact_threshold: int | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> ContextUsage:
        """Decodes the wire answer."""
        return cls(
            categories=[c for c in _list(data.get("categories")) if isinstance(c, dict)],
            total_tokens=_int(data.get("totalTokens")),
            max_tokens=_int(data.get("maxTokens")),
            raw_max_tokens=_int(data.get("rawMaxTokens")),
            percentage=_num(data.get("percentage")),
            model=_str(data.get("model")),
            is_auto_compact_enabled=_bool(data.get("isAutoCompactEnabled")),
            auto_compact_threshold=_int(data.get("autoCompactThreshold")),
            raw=data,
        )


@attrs.frozen(kw_only=True)
class RewindFilesResult:
    """The CLI's answer to ``rewind_files``.

    Attributes:
        can_rewind: Whether the files can be (or were) restored.
        error: Why not.
        files_changed: The files restored (or that would be, on a dry run).
        insertions: Lines inserted by the rewind.
        deletions: Lines deleted by the rewind.
    """

    can_rewind: bool = False
    error: str | None = None
    files_changed: list[str] | None = None
    insertions: int | None = None
    deletions: int | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> RewindFilesResult:
        """Decodes the wire answer."""
        files = data.get("filesChanged")
        return cls(
            can_rewind=bool(data.get("canRewind", False)),
            error=_str(data.get("error")),
            files_changed=[str(f) for f in files] if isinstance(files, list) else None,
            insertions=_int(data.get("insertions")),
            deletions=_int(data.get("deletions")),
            raw=data,
        )


@attrs.frozen(kw_only=True)
class ReadFileResult:
    """A file read through the CLI's permission rules (``read_file``).

    Attributes:
        contents: The text read.
        abs_path: The absolute path the CLI resolved.
        truncated: Whether ``max_bytes`` cut it short.
        encoding: The encoding used.
        lossy: Whether undecodable bytes were replaced.
    """

    contents: str
    abs_path: str | None = None
    truncated: bool | None = None
    encoding: str | None = None
    lossy: bool | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> ReadFileResult:
        """Decodes the wire answer."""
        return cls(
            contents=str(data.get("contents", "")),
            abs_path=_str(data.get("absPath")),
            truncated=_bool(data.get("truncated")),
            encoding=_str(data.get("encoding")),
            lossy=_bool(data.get("lossy")),
            raw=data,
        )
