"""Typed answers to SDK->CLI control requests (``Session.rewind_files()``, ``mcp_status()``, ...).

Each keeps the CLI's whole answer in ``raw``; fields the CLI leaves out are ``None`` or empty.
Decoding is lenient on purpose: these answers are informational, and a CLI that adds or drops a
field must not break the call. :class:`McpServerStatus` and :class:`ContextUsage`, whose
official counterparts are plain dicts (TypedDicts), also read like their wire dict
(``status["serverInfo"]``, ``usage.get("memoryFiles")``), as do the other answers whose
official counterpart is the CLI's dict (:class:`SettingsSnapshot`, :class:`HooksListing`, ...).

The wire names are those of Claude Code 2.1.329's control schemas (its ``get_settings``,
``list_permission_rules``... response schemas). Also here (re-exported from
``trio_claude._user_dialog``): :class:`UserDialogRequest` and :class:`UserDialogResult`, the
CLI->SDK ``request_user_dialog`` request and its answer.
"""

from __future__ import annotations

import math
from typing import Any

import attrs

from ._redact import redact_repr
from ._user_dialog import UserDialogBehavior as UserDialogBehavior
from ._user_dialog import UserDialogRequest as UserDialogRequest
from ._user_dialog import UserDialogResult as UserDialogResult
from .types import _WireDictView

__all__ = [
    "AppliedSettings",
    "BinaryVersion",
    "CancelAsyncMessageResult",
    "ContextUsage",
    "FileSuggestion",
    "FileSuggestions",
    "HookEventSummary",
    "HookListingEntry",
    "HooksListing",
    "InterruptResult",
    "McpCallResult",
    "McpReadResourceResult",
    "McpResourceContent",
    "McpServerStatus",
    "McpSetServersResult",
    "PermissionRuleEntry",
    "PermissionRules",
    "ReadFileResult",
    "RewindFilesResult",
    "SettingsSnapshot",
    "SettingsSource",
    "TaskOutput",
    "UserDialogRequest",
    "UserDialogResult",
    "WorkspaceDirectory",
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


def _strs(value: Any) -> list[str]:
    return [x for x in value if isinstance(x, str)] if isinstance(value, list) else []


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [x for x in value if isinstance(x, dict)] if isinstance(value, list) else []


def _dict_or_none(value: Any) -> dict[str, Any] | None:
    return dict(value) if isinstance(value, dict) else None


@attrs.frozen(kw_only=True)
class InterruptResult:
    """The CLI's answer to ``interrupt``.

    Attributes:
        still_queued: User messages still queued behind the interrupted turn.
        cancelled: Queued messages the interrupt cancelled (with ``cancel_queued=True``).
        send_now: With ``send_now=True``, what the CLI did: ``"stopped"`` (it ended the
            running turn), ``"delivering"`` (the waiting message is being taken in) or
            ``"nothing_waiting"``; ``None`` from a CLI that handled it as a plain interrupt.
    """

    still_queued: list[Any] = attrs.field(factory=list)
    cancelled: list[Any] | None = None
    send_now: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> InterruptResult:
        """Decodes the wire answer."""
        cancelled = data.get("cancelled")
        return cls(
            still_queued=_list(data.get("still_queued")),
            cancelled=list(cancelled) if isinstance(cancelled, list) else None,
            send_now=_str(data.get("send_now")),
            raw=data,
        )


@attrs.frozen(init=False)
class McpServerStatus(_WireDictView):
    """One MCP server's connection state (``mcp_status``).

    Reads like the wire dict too (the official SDK's ``McpServerStatus`` is that dict):
    ``status["name"]``, ``status.get("serverInfo")``, ``dict(status)``, and equals it. Built by
    hand it takes the attribute names or the wire names, as official code calls the dict type
    (``McpServerStatus(name="s", status="connected", serverInfo={...}, config={...})``): the
    dict view is then what was given, in wire names.

    Attributes:
        name: The server's name.
        status: ``connected``, ``failed``, ``needs-auth``, ``pending``, ``disabled``...
        server_info: The server's ``initialize`` info (name, version), when connected.
        transport: ``stdio``, ``sse``, ``http``, ``sdk``...
        scope: Where the server was configured (``dynamic``, ``project``...).
        source: Who configured it.
        tools: The server's tools (``name``, ``annotations``...).
        error: Why it failed, if it did.
        config: The server's configuration as the CLI reports it (``type``, ``url``...).
    """

    name: str
    status: str | None = None
    server_info: dict[str, Any] | None = None
    transport: str | None = None
    scope: str | None = None
    source: str | None = None
    tools: list[dict[str, Any]] = attrs.field(factory=list)
    error: str | None = None
    # (Its headers and env may carry credentials: shown masked.)
    config: dict[str, Any] | None = attrs.field(default=None, repr=redact_repr)
    # Not an argument of the generated init: attrs.evolve() rebuilds it from the attributes.
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False, init=False)

    def __init__(
        self,
        *,
        name: str,
        status: str | None = None,
        server_info: dict[str, Any] | None = None,
        transport: str | None = None,
        scope: str | None = None,
        source: str | None = None,
        tools: list[dict[str, Any]] | None = None,
        error: str | None = None,
        config: dict[str, Any] | None = None,
        raw: dict[str, Any] | None = None,
        **wire: Any,
    ) -> None:
        server_info = wire.pop("serverInfo", server_info)
        if raw is None:
            given = {
                "name": name,
                "status": status,
                "serverInfo": server_info,
                "transport": transport,
                "scope": scope,
                "source": source,
                "tools": tools,
                "error": error,
                "config": config,
            }
            raw = {key: value for key, value in given.items() if value is not None}
            raw.update(wire)
        self.__attrs_init__(
            name=name,
            status=status,
            server_info=server_info,
            transport=transport,
            scope=scope,
            source=source,
            tools=tools if tools is not None else [],
            error=error,
            config=config,
        )
        object.__setattr__(self, "raw", raw)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, McpServerStatus):
            return (
                attrs.astuple(self, recurse=False)[:-1] == attrs.astuple(other, recurse=False)[:-1]
            )
        if isinstance(other, dict):
            return self.raw == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> McpServerStatus:
        """Decodes one entry of ``mcpServers``."""
        info = data.get("serverInfo")
        config = data.get("config")
        return cls(
            name=_str(data.get("name")) or "",
            status=_str(data.get("status")),
            server_info=dict(info) if isinstance(info, dict) else None,
            transport=_str(data.get("transport")),
            scope=_str(data.get("scope")),
            source=_str(data.get("source")),
            tools=[t for t in _list(data.get("tools")) if isinstance(t, dict)],
            error=_str(data.get("error")),
            config=dict(config) if isinstance(config, dict) else None,
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
            added=[x for x in _list(data.get("added")) if isinstance(x, str)],
            removed=[x for x in _list(data.get("removed")) if isinstance(x, str)],
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
            can_rewind=data.get("canRewind") is True,
            error=_str(data.get("error")),
            files_changed=(
                [f for f in files if isinstance(f, str)] if isinstance(files, list) else None
            ),
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
            contents=_str(data.get("contents")) or "",
            abs_path=_str(data.get("absPath")),
            truncated=_bool(data.get("truncated")),
            encoding=_str(data.get("encoding")),
            lossy=_bool(data.get("lossy")),
            raw=data,
        )


# ------------------------------------------------------------------------------- settings


@attrs.frozen(kw_only=True)
class SettingsSource(_WireDictView):
    """One settings layer (``get_settings`` ``sources``), lowest priority first.

    Attributes:
        source: ``userSettings``, ``projectSettings``, ``localSettings``, ``flagSettings`` or
            ``policySettings``.
        settings: The layer's raw settings.
    """

    source: str
    settings: dict[str, Any] = attrs.field(factory=dict)
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> SettingsSource:
        """Decodes one entry of ``sources``."""
        return cls(
            source=_str(data.get("source")) or "", settings=_dict(data.get("settings")), raw=data
        )


@attrs.frozen(kw_only=True)
class AppliedSettings(_WireDictView):
    """What the session runs with (``get_settings`` ``applied``); other keys are in ``raw``.

    Attributes:
        model: The model in use.
        effort: The effort level (``low`` ... ``max``), ``None`` when none applies.
        advisor: The advisor model, if any.
    """

    model: str | None = None
    effort: str | None = None
    advisor: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> AppliedSettings:
        """Decodes the ``applied`` object."""
        return cls(
            model=_str(data.get("model")),
            effort=_str(data.get("effort")),
            advisor=_str(data.get("advisor")),
            raw=data,
        )


@attrs.frozen(kw_only=True)
class SettingsSnapshot(_WireDictView):
    """The CLI's settings (``get_settings``): the merged result and each layer.

    Reads like the wire dict too: ``snapshot["effective"]``.

    Attributes:
        effective: The merged settings in force.
        sources: Each layer's raw settings, lowest priority first (later ones override).
        applied: What the session actually runs with (model, effort...), when reported.
        errors: Settings errors (invalid files or values), as the CLI reports them.
        served_settings_state: The state of server-managed settings (``ok``, ``pending``,
            ``stale_cache``, ``failed``, ``ineligible``), when reported.
        withheld: Whether the CLI cut the answer (connections that store their answers).
    """

    effective: dict[str, Any] = attrs.field(factory=dict)
    sources: list[SettingsSource] = attrs.field(factory=list)
    applied: AppliedSettings | None = None
    errors: list[dict[str, Any]] = attrs.field(factory=list)
    served_settings_state: str | None = None
    withheld: bool | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> SettingsSnapshot:
        """Decodes the wire answer."""
        applied = data.get("applied")
        return cls(
            effective=_dict(data.get("effective")),
            sources=[SettingsSource.from_wire(s) for s in _dicts(data.get("sources"))],
            applied=AppliedSettings.from_wire(applied) if isinstance(applied, dict) else None,
            errors=_dicts(data.get("errors")),
            served_settings_state=_str(data.get("served_settings_state")),
            withheld=_bool(data.get("withheld")),
            raw=data,
        )


# ---------------------------------------------------------------------------------- tasks


@attrs.frozen(kw_only=True)
class TaskOutput(_WireDictView):
    """The output of a shell or Monitor task so far (``get_task_output``).

    Attributes:
        output: The output text (its tail, when ``truncated``).
        total_bytes: The whole output's size.
        truncated: Whether ``output`` is only the tail.
        task_id: The task's id, when echoed.
    """

    output: str = ""
    total_bytes: int | None = None
    truncated: bool = False
    task_id: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> TaskOutput:
        """Decodes the wire answer."""
        output = data.get("output")
        return cls(
            output=output if isinstance(output, str) else "",
            total_bytes=_int(data.get("total_bytes")),
            truncated=data.get("truncated") is True,
            task_id=_str(data.get("task_id")),
            raw=data,
        )


@attrs.frozen(kw_only=True)
class CancelAsyncMessageResult:
    """The CLI's answer to ``cancel_async_message``.

    Attributes:
        cancelled: Whether the message was dropped from the queue (``False``: it was already
            taken for a turn, never queued, or the CLI declined).
        message_uuid: The uuid of the message dropped (newer CLIs, when ``cancelled``).
    """

    cancelled: bool = False
    message_uuid: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> CancelAsyncMessageResult:
        """Decodes the wire answer."""
        return cls(
            cancelled=data.get("cancelled") is True,
            message_uuid=_str(data.get("message_uuid")),
            raw=data,
        )


# ---------------------------------------------------------------------------- the binary


@attrs.frozen(kw_only=True)
class BinaryVersion:
    """The CLI binary's version (``get_binary_version``).

    Attributes:
        version: The version (``2.1.329``).
        build_time: When it was built (ISO 8601), if reported (wire ``buildTime``).
        oldest_desktop_sdk: Wire ``oldestDesktopSdk``, if reported.
    """

    version: str = ""
    build_time: str | None = None
    oldest_desktop_sdk: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> BinaryVersion:
        """Decodes the wire answer."""
        version = data.get("version")
        return cls(
            version=version if isinstance(version, str) else "",
            build_time=_str(data.get("buildTime")),
            oldest_desktop_sdk=_str(data.get("oldestDesktopSdk")),
            raw=data,
        )


@attrs.frozen(kw_only=True)
class FileSuggestion:
    """One ``@``-mention completion (``file_suggestions``).

    Attributes:
        path: Relative to :attr:`FileSuggestions.cwd` (or absolute); a directory ends with a
            path separator.
        score: The fuzzy-match score, if reported.
    """

    path: str
    score: float | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> FileSuggestion:
        """Decodes one entry of ``suggestions``."""
        return cls(path=_str(data.get("path")) or "", score=_num(data.get("score")), raw=data)


@attrs.frozen(kw_only=True)
class FileSuggestions:
    """The CLI's ``@``-mention file completions for a partial path (``file_suggestions``).

    Attributes:
        suggestions: Best first (as many as the terminal's typeahead shows).
        cwd: The directory relative paths are relative to (``None`` from older CLIs: then the
            session's ``cwd``).
    """

    suggestions: list[FileSuggestion] = attrs.field(factory=list)
    cwd: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> FileSuggestions:
        """Decodes the wire answer."""
        return cls(
            suggestions=[FileSuggestion.from_wire(s) for s in _dicts(data.get("suggestions"))],
            cwd=_str(data.get("cwd")),
            raw=data,
        )


# ---------------------------------------------------------------------------------- hooks


@attrs.frozen(kw_only=True)
class HookEventSummary:
    """A hook event, as the ``/hooks`` menu lists it (``get_hooks_listing``).

    Attributes:
        name: The event (``PreToolUse``...).
        summary: Its one-line summary.
        supports_matcher: Whether its hooks take a matcher (wire ``supportsMatcher``).
        hook_count: How many hooks are listed for it (``None`` in ``event_catalog``).
    """

    name: str
    summary: str = ""
    supports_matcher: bool | None = None
    hook_count: int | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> HookEventSummary:
        """Decodes one entry of ``events`` or ``eventCatalog``."""
        count = _num(data.get("hookCount"))
        return cls(
            name=_str(data.get("name")) or "",
            summary=_str(data.get("summary")) or "",
            supports_matcher=_bool(data.get("supportsMatcher")),
            hook_count=int(count) if count is not None and math.isfinite(count) else None,
            raw=data,
        )


@attrs.frozen(kw_only=True)
class HookListingEntry(_WireDictView):
    """One configured hook (``get_hooks_listing`` ``hooks``); other keys are in ``raw``.

    Attributes:
        event: Its event.
        matcher: Its matcher (control characters revealed; ``""`` when none).
        source: Where it comes from (``userSettings``, ``sessionHook``, ``pluginHook``...).
        source_label: The same, for people (wire ``sourceLabel``).
        type: ``command``, ``prompt``, ``agent``, ``http``, ``mcp_tool``...
        display_text: Its one-line label (wire ``displayText``).
        command_text: What runs: the command, prompt or URL (wire ``commandText``).
        timeout: Its timeout in seconds, if set.
        plugin_name: The plugin that brings it, if any (wire ``pluginName``).
    """

    event: str = ""
    matcher: str = ""
    source: str = ""
    source_label: str = ""
    type: str = ""
    display_text: str = ""
    command_text: str = ""
    timeout: float | None = None
    plugin_name: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> HookListingEntry:
        """Decodes one entry of ``hooks``."""
        return cls(
            event=_str(data.get("event")) or "",
            matcher=_str(data.get("matcher")) or "",
            source=_str(data.get("source")) or "",
            source_label=_str(data.get("sourceLabel")) or "",
            type=_str(data.get("type")) or "",
            display_text=_str(data.get("displayText")) or "",
            command_text=_str(data.get("commandText")) or "",
            timeout=_num(data.get("timeout")),
            plugin_name=_str(data.get("pluginName")),
            raw=data,
        )


@attrs.frozen(kw_only=True)
class HooksListing(_WireDictView):
    """What the ``/hooks`` menu shows (``get_hooks_listing``): a snapshot.

    Attributes:
        events: The events that have hooks, in lifecycle order.
        hooks: Every listed hook (settings files, session and plugin hooks).
        event_catalog: Every hook event the CLI knows (wire ``eventCatalog``).
        policy: The managed-policy state (``disabledByPolicy``, ``managedOnly``...).
        errors: Settings errors, as the CLI reports them.
    """

    events: list[HookEventSummary] = attrs.field(factory=list)
    hooks: list[HookListingEntry] = attrs.field(factory=list)
    event_catalog: list[HookEventSummary] = attrs.field(factory=list)
    policy: dict[str, Any] = attrs.field(factory=dict)
    errors: list[dict[str, Any]] = attrs.field(factory=list)
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> HooksListing:
        """Decodes the wire answer."""
        return cls(
            events=[HookEventSummary.from_wire(e) for e in _dicts(data.get("events"))],
            hooks=[HookListingEntry.from_wire(h) for h in _dicts(data.get("hooks"))],
            event_catalog=[HookEventSummary.from_wire(e) for e in _dicts(data.get("eventCatalog"))],
            policy=_dict(data.get("policy")),
            errors=_dicts(data.get("errors")),
            raw=data,
        )


# ---------------------------------------------------------------------------- permissions


@attrs.frozen(kw_only=True)
class PermissionRuleEntry(_WireDictView):
    """One permission rule in force (``list_permission_rules``).

    Attributes:
        behavior: ``allow``, ``deny`` or ``ask``.
        source: Where it comes from (``userSettings``, ``cliArg``, ``session``...).
        rule: The rule as stored (``Bash(npm run:*)``); may carry control characters.
        editability: ``persistent``, ``session`` or ``readonly``.
        description: The CLI's plain-language reading (``prefix``, ``emphasis``, ``suffix``).
        not_in_effect: Whether the rule is listed but not applied (wire ``notInEffect``).
    """

    behavior: str = ""
    source: str = ""
    rule: str = ""
    editability: str | None = None
    description: dict[str, Any] | None = None
    not_in_effect: bool | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> PermissionRuleEntry:
        """Decodes one entry of ``rules``."""
        return cls(
            behavior=_str(data.get("behavior")) or "",
            source=_str(data.get("source")) or "",
            rule=_str(data.get("rule")) or "",
            editability=_str(data.get("editability")),
            description=_dict_or_none(data.get("description")),
            not_in_effect=_bool(data.get("notInEffect")),
            raw=data,
        )


@attrs.frozen(kw_only=True)
class WorkspaceDirectory:
    """A working directory of the session (``list_permission_rules``).

    Attributes:
        path: The directory.
        source: Where it was added (``session``, ``cliArg``...).
    """

    path: str
    source: str = ""
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> WorkspaceDirectory:
        """Decodes one entry of ``workspaceDirectories``."""
        return cls(
            path=_str(data.get("path")) or "", source=_str(data.get("source")) or "", raw=data
        )


@attrs.frozen(kw_only=True)
class PermissionRules(_WireDictView):
    """The session's live permission rules and directories (what ``/permissions`` lists).

    The CLI answers ``{"state": {...}}``; ``raw`` is that ``state`` object.

    Attributes:
        rules: Every rule, with its source.
        workspace_directories: The working directories (wire ``workspaceDirectories``).
        original_cwd: The directory the session started in (wire ``originalCwd``).
        managed_only: Whether managed policy allows only its own rules (wire ``managedOnly``).
        errors: Settings errors, as the CLI reports them.
        withheld: Whether the CLI cut rule texts.
    """

    rules: list[PermissionRuleEntry] = attrs.field(factory=list)
    workspace_directories: list[WorkspaceDirectory] = attrs.field(factory=list)
    original_cwd: str | None = None
    managed_only: bool | None = None
    errors: list[dict[str, Any]] = attrs.field(factory=list)
    withheld: bool | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> PermissionRules:
        """Decodes the wire answer (``{"state": {...}}``, or the ``state`` object itself)."""
        state = data.get("state")
        if isinstance(state, dict):
            data = state
        return cls(
            rules=[PermissionRuleEntry.from_wire(r) for r in _dicts(data.get("rules"))],
            workspace_directories=[
                WorkspaceDirectory.from_wire(d) for d in _dicts(data.get("workspaceDirectories"))
            ],
            original_cwd=_str(data.get("originalCwd")),
            managed_only=_bool(data.get("managedOnly")),
            errors=_dicts(data.get("errors")),
            withheld=_bool(data.get("withheld")),
            raw=data,
        )


# ------------------------------------------------------------------------------------ MCP


@attrs.frozen(kw_only=True)
class McpCallResult(_WireDictView):
    """The result of an MCP tool called through the CLI (``mcp_call``): a ``CallToolResult``.

    A tool that reports an error (``isError``) fails the request instead
    (:class:`~trio_claude.ControlRequestError`). Reads like the wire dict too:
    ``result["content"]``.

    Attributes:
        content: The tool's content blocks (as the CLI processed them for the model, unless
            ``result_not_for_model``).
        structured_content: The tool's structured result, if any (wire ``structuredContent``).
        meta: The result's ``_meta``, if any.
    """

    content: Any = None
    structured_content: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> McpCallResult:
        """Decodes the wire answer."""
        return cls(
            content=data.get("content"),
            structured_content=_dict_or_none(data.get("structuredContent")),
            meta=_dict_or_none(data.get("_meta")),
            raw=data,
        )


@attrs.frozen(kw_only=True)
class McpResourceContent:
    """One resource read (``mcp_read_resource``): text or base64 ``blob``.

    Attributes:
        uri: The resource's URI.
        mime_type: Its MIME type (wire ``mimeType``).
        text: Its text, for a text resource.
        blob: Its bytes as base64, for a binary one.
        meta: Its ``_meta``, if any.
    """

    uri: str
    mime_type: str | None = None
    text: str | None = None
    blob: str | None = None
    meta: dict[str, Any] | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> McpResourceContent:
        """Decodes one entry of ``contents``."""
        return cls(
            uri=_str(data.get("uri")) or "",
            mime_type=_str(data.get("mimeType")),
            text=_str(data.get("text")),
            blob=_str(data.get("blob")),
            meta=_dict_or_none(data.get("_meta")),
            raw=data,
        )


@attrs.frozen(kw_only=True)
class McpReadResourceResult:
    """An MCP Apps ``ui://`` resource read through the CLI (``mcp_read_resource``).

    The contents are untrusted third-party content (HTML): render them sandboxed.

    Attributes:
        contents: What the server returned.
    """

    contents: list[McpResourceContent] = attrs.field(factory=list)
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> McpReadResourceResult:
        """Decodes the wire answer."""
        return cls(
            contents=[McpResourceContent.from_wire(c) for c in _dicts(data.get("contents"))],
            raw=data,
        )
