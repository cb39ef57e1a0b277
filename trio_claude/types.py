"""Public typed messages, content blocks and the ``initialize`` reply.

Everything the Claude Code CLI prints on stdout (one JSON object per line) is decoded into one of
the frozen attrs classes below by :func:`trio_claude._protocol._codec.decode_message`. Attribute
names follow the official Python SDK's dataclasses, so code written against
``claude_agent_sdk`` ports by changing the import.

Rules that hold for every class here:

* Instances are immutable (``attrs.frozen``), slotted and keyword-only.
* Every message, and every content block decoded from the wire, keeps ``raw``: the exact dict the
  CLI sent. Fields this version does not model are never lost; read them from ``raw``. ``raw`` is
  excluded from equality and from ``repr``.
* Unknown things are values, not errors: an unknown top-level ``type`` becomes
  :class:`UnknownMessage`, an unknown ``system`` subtype a plain :class:`SystemMessage`, an unknown
  content block an :class:`UnknownBlock`.
* Enum-like wire strings stay ``str`` (new values must not break decoding); the ``Literal`` aliases
  (:data:`PermissionMode`, :data:`TerminalReason`, ...) document the values known today.

Every other public name of the official ``claude_agent_sdk.types`` is here too, under the same
name: trio-claude's equivalent classes (``ClaudeAgentOptions``, ``HookMatcher``, the hook inputs
and outputs, the session and store types, ...) and ``TypedDict``/``Literal`` definitions for the
official config and wire dicts (``McpStdioServerConfig``, ``SystemPromptPreset``,
``SystemInitData``, ...; see :mod:`trio_claude._official_types`). They are imported on first use.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, ItemsView, Iterator, KeysView, Mapping, ValuesView
from typing import TYPE_CHECKING, Any, Literal

import attrs

__all__ = [
    # literal aliases
    "AssistantMessageError",
    "PermissionMode",
    "ResultSubtype",
    "ServerToolName",
    "SessionState",
    "StartupFailureReason",
    "TerminalReason",
    # content blocks
    "ContentBlock",
    "DocumentBlock",
    "ImageBlock",
    "RedactedThinkingBlock",
    "ServerToolResultBlock",
    "ServerToolUseBlock",
    "TextBlock",
    "ThinkingBlock",
    "ToolResultBlock",
    "ToolUseBlock",
    "UnknownBlock",
    # messages
    "ActiveGoalMessage",
    "AssistantMessage",
    "AuthStatusMessage",
    "ConversationResetMessage",
    "DeferredToolUse",
    "Message",
    "PromptSuggestionMessage",
    "CommandLifecycleMessage",
    "RateLimitEvent",
    "ResultMessage",
    "StreamEvent",
    "ToolProgressMessage",
    "ToolUseSummaryMessage",
    "UnknownMessage",
    "UserMessage",
    # system messages
    "ApiRetryMessage",
    "BackgroundTasksChangedMessage",
    "CommandsChangedMessage",
    "CompactBoundaryMessage",
    "ControlRequestProgressMessage",
    "ElicitationCompleteMessage",
    "FilesPersistedMessage",
    "HookEventMessage",
    "HookProgressMessage",
    "HookResponseMessage",
    "HookStartedMessage",
    "InformationalMessage",
    "InitMessage",
    "LocalCommandOutputMessage",
    "MemoryRecallMessage",
    "MirrorErrorMessage",
    "ModelFallbackMessage",
    "ModelRefusalFallbackMessage",
    "ModelRefusalNoFallbackMessage",
    "NotificationMessage",
    "PermissionDeniedMessage",
    "PluginInstallMessage",
    "SessionStateChangedMessage",
    "SessionWritesLostMessage",
    "StatusMessage",
    "SystemMessage",
    "TaskNotificationMessage",
    "TaskProgressMessage",
    "TaskStartedMessage",
    "TaskUpdatedMessage",
    "ThinkingTokensMessage",
    "WorkerShuttingDownMessage",
    # initialize reply, turn result
    "AgentInfo",
    "ModelInfo",
    "ServerInfo",
    "SlashCommand",
    "TurnResult",
    # the official SDK's other names (imported on first use; see the end of this module)
    "AgentDefinition",
    "AsyncHookJSONOutput",
    "BackgroundTaskSummary",
    "BaseHookInput",
    "CanUseTool",
    "CanUseToolShadowedWarning",
    "ClaudeAgentOptions",
    "ContextUsageCategory",
    "ContextUsageResponse",
    "ControlErrorResponse",
    "ControlResponse",
    "CwdChangedHookSpecificOutput",
    "EffortLevel",
    "ElicitationHookSpecificOutput",
    "ElicitationResultHookSpecificOutput",
    "FastModeDisabledReason",
    "FastModeState",
    "FileChangedHookSpecificOutput",
    "HookCallback",
    "HookContext",
    "HookEffort",
    "HookEvent",
    "HookInput",
    "HookJSONOutput",
    "HookMatcher",
    "HookSpecificOutput",
    "McpClaudeAIProxyServerConfig",
    "McpHttpServerConfig",
    "McpSSEServerConfig",
    "McpSdkServerConfig",
    "McpSdkServerConfigStatus",
    "McpServerConfig",
    "McpServerConnectionStatus",
    "McpServerInfo",
    "McpServerStatus",
    "McpServerStatusConfig",
    "McpStatusResponse",
    "McpStdioServerConfig",
    "McpToolAnnotations",
    "McpToolInfo",
    "MessageDisplayHookSpecificOutput",
    "PreSkillShellCommandHookSpecificOutput",
    "MessageOrigin",
    "MessageOriginKind",
    "ModelUsage",
    "NotificationHookInput",
    "NotificationHookSpecificOutput",
    "PermissionBehavior",
    "PermissionDeniedHookSpecificOutput",
    "PermissionRequestHookInput",
    "PermissionRequestHookSpecificOutput",
    "PermissionResult",
    "PermissionResultAllow",
    "PermissionResultDeny",
    "PermissionRuleValue",
    "PermissionUpdate",
    "PermissionUpdateDestination",
    "PostModelSwitchHookSpecificOutput",
    "PostToolBatchHookSpecificOutput",
    "PostToolUseFailureHookInput",
    "PostToolUseFailureHookSpecificOutput",
    "PostToolUseHookInput",
    "PostToolUseHookSpecificOutput",
    "PreCompactHookInput",
    "PreModelSwitchHookSpecificOutput",
    "PreToolUseHookInput",
    "PreToolUseHookSpecificOutput",
    "RateLimitInfo",
    "RateLimitStatus",
    "RateLimitType",
    "SDKControlInitializeRequest",
    "SDKControlInterruptRequest",
    "SDKControlMcpMessageRequest",
    "SDKControlMcpReconnectRequest",
    "SDKControlMcpToggleRequest",
    "SDKControlPermissionRequest",
    "SDKControlRequest",
    "SDKControlResponse",
    "SDKControlRewindFilesRequest",
    "SDKControlSetPermissionModeRequest",
    "SDKControlStopTaskRequest",
    "SDKHookCallbackRequest",
    "SDKSessionInfo",
    "SandboxIgnoreViolations",
    "SandboxNetworkConfig",
    "SandboxSettings",
    "SdkBeta",
    "SdkPluginConfig",
    "SessionCronSummary",
    "SessionKey",
    "SessionListSubkeysKey",
    "SessionMessage",
    "SessionStartHookSpecificOutput",
    "SessionStore",
    "SessionStoreEntry",
    "SessionStoreFlushMode",
    "SessionStoreListEntry",
    "SessionSummaryEntry",
    "SettingSource",
    "StopHookInput",
    "StopHookSpecificOutput",
    "SubagentStartHookInput",
    "SubagentStartHookSpecificOutput",
    "SubagentStopHookInput",
    "SubagentStopHookSpecificOutput",
    "SyncHookJSONOutput",
    "SystemInitData",
    "SystemInitMcpServer",
    "SystemInitPlugin",
    "SystemInitPluginError",
    "SystemPromptCustom",
    "SystemPromptFile",
    "SystemPromptPreset",
    "TERMINAL_TASK_STATUSES",
    "TaskBudget",
    "TaskNotificationOriginSubkind",
    "TaskNotificationStatus",
    "TaskUpdatedStatus",
    "TaskUsage",
    "ThinkingConfig",
    "ThinkingConfigAdaptive",
    "ThinkingConfigDisabled",
    "ThinkingConfigEnabled",
    "ThinkingDisplay",
    "ToolPermissionContext",
    "ToolsPreset",
    "UserPromptExpansionHookSpecificOutput",
    "UserPromptSubmitHookInput",
    "UserPromptSubmitHookSpecificOutput",
    "WorktreeCreateHookSpecificOutput",
]

# ---------------------------------------------------------------------------------------------
# Literal aliases (documentation of the values known today; attributes are typed ``str``)
# ---------------------------------------------------------------------------------------------

# The rarely sent messages (most ``system`` subtypes) are attrs classes created on first use.
# Creating an attrs class compiles its methods (~0.45 ms each), and most sessions never see
# these. ``@_frozen_on_first_use(kw_only=True)`` runs the class body as usual but only records
# the plain class; the module's ``__getattr__`` applies ``attrs.frozen(kw_only=True)`` to it the
# first time the name is read (``trio_claude.types.X``, ``from trio_claude.types import X``,
# ``trio_claude.X``, unpickling, the codec meeting its subtype), once, under a lock, so every
# path gets the very same class. It is the class ``@attrs.frozen(kw_only=True)`` would have made
# at import: same body, ``__module__``, ``__qualname__``, fields, methods. Type checkers see
# ``attrs.frozen`` itself.
_PENDING: dict[str, tuple[type[Any], dict[str, Any]]] = {}
"""Name -> (the plain class, its ``attrs.frozen`` options), for the classes made on first use."""
_PENDING_LOCK = threading.RLock()

if not TYPE_CHECKING:

    def _frozen_on_first_use(**options: Any) -> Callable[[type[Any]], type[Any]]:
        def record(cls: type[Any]) -> type[Any]:
            _PENDING[cls.__name__] = (cls, options)
            return cls  # bound to its name until the end of this module (subclasses need it)

        return record

else:  # type checkers: the class is the one ``attrs.frozen`` makes
    from attrs import frozen as _frozen_on_first_use


def _create(name: str) -> type[Any]:
    """Make (once) the attrs class of the pending ``name``; the caller holds the lock."""
    if name in globals():
        done: type[Any] = globals()[name]
        return done
    plain, options = _PENDING[name]
    # A base that is itself pending is made first; the class is then rebuilt on it (what its
    # ``class`` statement would have done had the base been made at import).
    bases = tuple(
        _create(base.__name__) if _PENDING.get(base.__name__, (None,))[0] is base else base
        for base in plain.__bases__
    )
    if bases != plain.__bases__:
        namespace = {k: v for k, v in vars(plain).items() if k not in ("__dict__", "__weakref__")}
        plain = type(plain.__name__, bases, namespace)
    made: type[Any] = attrs.frozen(**options)(plain)
    globals()[name] = made
    return made


PermissionMode = Literal["default", "acceptEdits", "plan", "bypassPermissions", "dontAsk", "auto"]
"""Permission modes the CLI accepts (``--permission-mode``, ``set_permission_mode``)."""

AssistantMessageError = Literal[
    "authentication_failed",
    "billing_error",
    "rate_limit",
    "invalid_request",
    "server_error",
    "unknown",
    "oauth_org_not_allowed",
    "account_on_hold",
    "verification_required",
    "overloaded",
    "model_not_found",
    "max_output_tokens",
    "cloud_credential_error",
]
"""Known values of :attr:`AssistantMessage.error`."""

ResultSubtype = Literal[
    "success",
    "error_during_execution",
    "error_max_turns",
    "error_max_budget_usd",
    "error_max_structured_output_retries",
]
"""Known values of :attr:`ResultMessage.subtype`."""

StartupFailureReason = Literal[
    "org_pin_api_key_conflict",
    "provider_not_allowed",
    "org_verify_failed",
    "org_pin_mismatch",
    "managed_settings_invalid",
    "remote_settings_required_unavailable",
    "gateway_signin_required",
    "gateway_access_denied",
    "proxy_invalid",
    "temp_dir_unusable",
    "cwd_unavailable",
    "shell_tool_missing",
    "session_held_by_background",
    "worktree_resume_refused",
    "worktree_unverified",
    "cli_version_too_old",
    "bypass_root",
    "org_config_required_unavailable",
    "org_config_refused",
    "sandbox_required_unavailable",
    "initialize_not_first",
    "config_file_invalid",
    "managed_settings_not_delivered",
    "initialize_fields_not_delivered",
    "sideload_flags_disabled",
    "resume_target_not_found",
    "consumer_terms_review_in_terminal",
    "consumer_terms_accept_on_web",
    "org_signin_ended",
]
"""Known values of :attr:`ResultMessage.startup_failure_reason` (TypeScript SDK 0.3.337's
``SDKStartupFailureReason``): why Claude Code refused to start, so a program can offer the fix
instead of a retry. A newer CLI may send others; they are kept as they are."""

TerminalReason = Literal[
    "blocking_limit",
    "rapid_refill_breaker",
    "prompt_too_long",
    "image_error",
    "model_error",
    "api_error",
    "malformed_tool_use_exhausted",
    "aborted_streaming",
    "aborted_tools",
    "stop_hook_prevented",
    "hook_stopped",
    "tool_deferred",
    "max_turns",
    "background_requested",
    "completed",
    "budget_exhausted",
    "structured_output_retry_exhausted",
    "tool_deferred_unavailable",
    "turn_setup_failed",
]
"""Known values of :attr:`ResultMessage.terminal_reason`."""

SessionState = Literal["idle", "running", "requires_action"]
"""Known values of :attr:`SessionStateChangedMessage.state`."""

ServerToolName = Literal[
    "advisor",
    "web_search",
    "web_fetch",
    "code_execution",
    "bash_code_execution",
    "text_editor_code_execution",
    "tool_search_tool_regex",
    "tool_search_tool_bm25",
]
"""Known values of :attr:`ServerToolUseBlock.name`."""


# ---------------------------------------------------------------------------------------------
# Content blocks
# ---------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class TextBlock:
    """A text content block (``{"type": "text"}``).

    Attributes:
        text: The text.
        citations: The API's citations for this text, if any.
        raw: The block as the CLI sent it (empty when built by hand).
    """

    text: str
    citations: list[dict[str, Any]] | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)


@attrs.frozen(kw_only=True)
class ThinkingBlock:
    """An extended-thinking block (``{"type": "thinking"}``).

    Attributes:
        thinking: The model's thinking text.
        signature: The opaque signature that must be sent back verbatim.
        raw: The block as the CLI sent it (empty when built by hand).
    """

    thinking: str
    signature: str = ""
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)


@attrs.frozen(kw_only=True)
class RedactedThinkingBlock:
    """A redacted thinking block (``{"type": "redacted_thinking"}``).

    Attributes:
        data: The encrypted thinking payload.
        raw: The block as the CLI sent it (empty when built by hand).
    """

    data: str
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)


@attrs.frozen(kw_only=True)
class ToolUseBlock:
    """A client-side tool call requested by the model (``{"type": "tool_use"}``).

    Attributes:
        id: The tool-use id (``toolu_...``); tool results refer to it.
        name: The tool's name (``Bash``, ``Write``, ``mcp__server__tool``, ...).
        input: The tool's input arguments.
        raw: The block as the CLI sent it (empty when built by hand).
    """

    id: str
    name: str
    input: dict[str, Any] = attrs.field(factory=dict)
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)


@attrs.frozen(kw_only=True)
class ToolResultBlock:
    """The result of a tool call, carried by a user message (``{"type": "tool_result"}``).

    Attributes:
        tool_use_id: The id of the :class:`ToolUseBlock` this answers.
        content: The result: a string, a list of content-block dicts, or ``None``.
        is_error: Whether the tool failed (``None`` when the CLI did not say).
        raw: The block as the CLI sent it (empty when built by hand).
    """

    tool_use_id: str
    content: str | list[dict[str, Any]] | None = None
    is_error: bool | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)


@attrs.frozen(kw_only=True)
class ServerToolUseBlock:
    """A tool call executed by the API on the model's behalf (``{"type": "server_tool_use"}``).

    Attributes:
        id: The server tool-use id.
        name: The server tool (see :data:`ServerToolName`).
        input: The tool's input.
        raw: The block as the CLI sent it (empty when built by hand).
    """

    id: str
    name: str
    input: dict[str, Any] = attrs.field(factory=dict)
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)


@attrs.frozen(kw_only=True)
class ServerToolResultBlock:
    """The result of a server-side tool call.

    One class covers every ``*_tool_result`` block of the API (``advisor_tool_result``,
    ``web_search_tool_result``, ``web_fetch_tool_result``, ``code_execution_tool_result``,
    ``bash_code_execution_tool_result``, ``text_editor_code_execution_tool_result``,
    ``tool_search_tool_result``); ``type`` says which.

    Attributes:
        type: The wire block type.
        tool_use_id: The id of the :class:`ServerToolUseBlock` this answers.
        content: The result, opaque to this layer (a dict or a list, depending on the tool).
        raw: The block as the CLI sent it (empty when built by hand).
    """

    type: str
    tool_use_id: str
    content: Any = None
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)


@attrs.frozen(kw_only=True)
class ImageBlock:
    """An image (``{"type": "image"}``), usually in user content or tool results.

    Attributes:
        source: The API image source (``{"type": "base64", "media_type": ..., "data": ...}``,
            ``{"type": "url", "url": ...}``, ...).
        raw: The block as the CLI sent it (empty when built by hand).
    """

    source: dict[str, Any]
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    @classmethod
    def from_bytes(cls, data: bytes, media_type: str = "image/png") -> ImageBlock:
        """An image from its bytes (sent base64-encoded).

        Args:
            data: The image file's bytes.
            media_type: ``image/png``, ``image/jpeg``, ``image/gif`` or ``image/webp``.
        """
        return cls.from_base64(base64.b64encode(data).decode("ascii"), media_type)

    @classmethod
    def from_base64(cls, data: str, media_type: str = "image/png") -> ImageBlock:
        """An image from base64 text."""
        return cls(source={"type": "base64", "media_type": media_type, "data": data})

    @classmethod
    def from_url(cls, url: str) -> ImageBlock:
        """An image the API fetches from ``url``."""
        return cls(source={"type": "url", "url": url})


@attrs.frozen(kw_only=True)
class DocumentBlock:
    """A document (``{"type": "document"}``): a PDF, plain text or content source.

    Attributes:
        source: The API document source.
        title: The document's title.
        context: Extra context about the document for the model.
        citations: The citations setting (``{"enabled": true}``).
        raw: The block as the CLI sent it (empty when built by hand).
    """

    source: dict[str, Any]
    title: str | None = None
    context: str | None = None
    citations: dict[str, Any] | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    @classmethod
    def from_bytes(
        cls, data: bytes, media_type: str = "application/pdf", *, title: str | None = None
    ) -> DocumentBlock:
        """A document from its bytes (a PDF by default; sent base64-encoded)."""
        source = {
            "type": "base64",
            "media_type": media_type,
            "data": base64.b64encode(data).decode("ascii"),
        }
        return cls(source=source, title=title)

    @classmethod
    def from_text(cls, text: str, *, title: str | None = None) -> DocumentBlock:
        """A plain-text document."""
        return cls(source={"type": "text", "media_type": "text/plain", "data": text}, title=title)

    @classmethod
    def from_url(cls, url: str, *, title: str | None = None) -> DocumentBlock:
        """A PDF the API fetches from ``url``."""
        return cls(source={"type": "url", "url": url}, title=title)


@attrs.frozen(kw_only=True)
class UnknownBlock:
    """A content block of a type this version does not model.

    Attributes:
        type: The wire block type.
        raw: The whole block as the CLI sent it.
    """

    type: str
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)


ContentBlock = (
    TextBlock
    | ThinkingBlock
    | RedactedThinkingBlock
    | ToolUseBlock
    | ToolResultBlock
    | ServerToolUseBlock
    | ServerToolResultBlock
    | ImageBlock
    | DocumentBlock
    | UnknownBlock
)
"""Any content block of a user or assistant message."""


# ---------------------------------------------------------------------------------------------
# User, assistant, stream events
# ---------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class UserMessage:
    """A user-role message: a prompt echo, tool results, or a replayed local command.

    Attributes:
        content: A string, or a list of content blocks (tool results, text, images).
        uuid: The message's uuid.
        parent_tool_use_id: The tool-use id of the subagent call this belongs to, if any.
        tool_use_result: The CLI's structured tool result (``toolUseResult``), if any.
        session_id: The session this message belongs to.
        is_replay: ``True`` for echoes of messages already in the transcript (wire ``isReplay``:
            ``--replay-user-messages``, local command output such as after ``set_model``).
        is_synthetic: ``True`` for messages the CLI made up itself (wire ``isSynthetic``, e.g.
            the structured-output enforcement prompt).
        origin: Who started this turn (``{"kind": "human"}``, ``{"kind": "task-notification"}``,
            ...), when the CLI says.
        raw: The frame as the CLI sent it (empty when built by hand).
    """

    content: str | list[ContentBlock]
    uuid: str | None = None
    parent_tool_use_id: str | None = None
    tool_use_result: Any = None
    session_id: str | None = None
    is_replay: bool = False
    is_synthetic: bool = False
    origin: dict[str, Any] | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)


@attrs.frozen(kw_only=True)
class AssistantMessage:
    """An assistant message. While streaming, the CLI sends one frame per content block.

    Attributes:
        content: The content blocks of this frame.
        model: The model that produced it (``"<synthetic>"`` for CLI-made error messages).
        parent_tool_use_id: The tool-use id of the subagent call this belongs to, if any.
        error: Set when the message reports an API error (see :data:`AssistantMessageError`).
        usage: The API usage of the message so far (plain JSON).
        message_id: The API message id (wire ``message.id``); frames of one API message share it.
        stop_reason: The API stop reason (``None`` while streaming).
        session_id: The session this message belongs to.
        uuid: The message's uuid.
        request_id: The API request id.
        user_message_uuid: The uuid of the user message this answers, when the CLI says.
        raw: The frame as the CLI sent it (empty when built by hand).
    """

    content: list[ContentBlock]
    model: str
    parent_tool_use_id: str | None = None
    error: str | None = None
    usage: dict[str, Any] | None = None
    message_id: str | None = None
    stop_reason: str | None = None
    session_id: str | None = None
    uuid: str | None = None
    request_id: str | None = None
    user_message_uuid: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)


@attrs.frozen(kw_only=True)
class StreamEvent:
    """A raw Anthropic API stream event, sent with ``include_partial_messages``.

    Attributes:
        event: The API stream event (``message_start``, ``content_block_delta``, ...), plain JSON.
        session_id: The session this event belongs to.
        uuid: The event's uuid.
        parent_tool_use_id: The tool-use id of the subagent call this belongs to, if any.
        raw: The frame as the CLI sent it (empty when built by hand).
    """

    event: dict[str, Any]
    session_id: str | None = None
    uuid: str | None = None
    parent_tool_use_id: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)


# ---------------------------------------------------------------------------------------------
# Result
# ---------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class DeferredToolUse:
    """A tool call deferred by a ``PreToolUse`` hook that answered ``"defer"``.

    Attributes:
        id: The tool-use id.
        name: The tool's name.
        input: The tool's input.
        raw: The dict as the CLI sent it (empty when built by hand).
    """

    id: str = ""
    name: str = ""
    input: dict[str, Any] = attrs.field(factory=dict)
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)


@attrs.frozen(kw_only=True)
class ResultMessage:
    """The end of a turn, with cost and usage.

    ``is_error`` results (``error_during_execution``, ``error_max_turns``, ...) are delivered by
    the streaming APIs like any other result; ``run()``/``ask()`` raise
    :class:`~trio_claude.ResultError` for them.

    Attributes:
        subtype: ``success`` or an error subtype (see :data:`ResultSubtype`).
        duration_ms: Wall time of the turn.
        duration_api_ms: Time spent waiting for the API.
        is_error: Whether the turn failed.
        num_turns: Number of model turns in this run.
        session_id: The session id.
        stop_reason: The last API stop reason.
        total_cost_usd: Cost in USD, cumulative for the CLI process.
        usage: Token usage (plain JSON, API shape).
        model_usage: Per-model usage (wire ``modelUsage``), plain JSON keyed by model.
        result: The final text (success results).
        errors: Error descriptions (error results).
        structured_output: The validated structured output, with ``output_format``.
        terminal_reason: Why the agent loop stopped (see :data:`TerminalReason`).
        api_error_status: HTTP status of the failing API call, if the turn failed on one.
        startup_failure_reason: Set on the ``error_during_execution`` result a CLI writes
            before it exits on a known start-up failure (see :data:`StartupFailureReason`;
            ``errors`` has the message), else ``None``.
        permission_denials: Tool calls that were denied during the turn.
        uuid: The message's uuid.
        deferred_tool_use: The tool call a hook deferred, if any.
        user_message_uuid: The uuid of the user message this answers, when the CLI says.
        origin: The origin of the user message that started this turn, when the CLI says.
        decode_error: Why some fields could not be decoded (they keep their defaults and the
            frame is whole in ``raw``), or ``None``. A result always ends its turn, even then.
        raw: The frame as the CLI sent it (empty when built by hand).
    """

    subtype: str
    duration_ms: float = 0
    duration_api_ms: float = 0
    is_error: bool = False
    num_turns: int = 0
    session_id: str = ""
    stop_reason: str | None = None
    total_cost_usd: float | None = None
    usage: dict[str, Any] | None = None
    model_usage: dict[str, Any] | None = None
    result: str | None = None
    errors: list[Any] | None = None
    structured_output: Any = None
    terminal_reason: str | None = None
    api_error_status: int | None = None
    startup_failure_reason: str | None = None
    permission_denials: list[Any] | None = None
    uuid: str | None = None
    deferred_tool_use: DeferredToolUse | None = None
    user_message_uuid: str | None = None
    origin: dict[str, Any] | None = None
    decode_error: str | None = attrs.field(default=None, eq=False)
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)


# ---------------------------------------------------------------------------------------------
# System messages
# ---------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class SystemMessage:
    """A ``type: "system"`` frame.

    Subtypes this version knows decode to a subclass with typed attributes (``isinstance(msg,
    SystemMessage)`` still holds); any other subtype decodes to this class.

    Attributes:
        subtype: The system subtype (``init``, ``status``, ...).
        data: The whole frame as the CLI sent it, as the official SDK exposes it.
        session_id: The session this message belongs to.
        uuid: The message's uuid.
        raw: The frame as the CLI sent it (the same dict as ``data`` when decoded).
    """

    subtype: str
    data: dict[str, Any] = attrs.field(factory=dict)
    session_id: str | None = None
    uuid: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)


@attrs.frozen(kw_only=True)
class InitMessage(SystemMessage):
    """``system/init``: session metadata, sent at the start of every turn.

    Attributes:
        claude_code_version: The CLI's version.
        cwd: The working directory.
        tools: Names of the tools available to the model.
        mcp_servers: MCP servers and their status (``{"name", "status", "source"?}``).
        model: The model in use.
        permission_mode: The permission mode (wire ``permissionMode``).
        api_key_source: Where the API key came from (wire ``apiKeySource``).
        slash_commands: Names of the available slash commands.
        terminal_slash_commands: Slash commands that end the turn locally.
        output_style: The active output style.
        skills: Names of the available skills.
        plugins: Loaded plugins (``{"name", "path", "source"?, "version"?}``).
        agents: Names of the available subagents.
        betas: API betas enabled.
        capabilities: Protocol capabilities the CLI advertises.
        fast_mode_state: Fast-mode state.
        fast_mode_disabled_reason: Why fast mode is off.
        effort: The effort level, when set.
        view_mode: The CLI's view mode.
        original_cwd: The directory the CLI started in.
        additional_directories: Extra directories the session may access.
    """

    claude_code_version: str | None = None
    cwd: str | None = None
    tools: list[str] = attrs.field(factory=list)
    mcp_servers: list[dict[str, Any]] = attrs.field(factory=list)
    model: str | None = None
    permission_mode: str | None = None
    api_key_source: str | None = None
    slash_commands: list[str] = attrs.field(factory=list)
    terminal_slash_commands: list[str] | None = None
    output_style: str | None = None
    skills: list[Any] = attrs.field(factory=list)
    plugins: list[dict[str, Any]] = attrs.field(factory=list)
    agents: list[Any] | None = None
    betas: list[str] | None = None
    capabilities: list[str] | None = None
    fast_mode_state: str | None = None
    fast_mode_disabled_reason: str | None = None
    effort: str | None = None
    view_mode: str | None = None
    original_cwd: str | None = None
    additional_directories: list[str] | None = None


@attrs.frozen(kw_only=True)
class StatusMessage(SystemMessage):
    """``system/status``: a status change (request started, compacting, permission mode).

    Attributes:
        status: ``"requesting"``, ``"compacting"`` or ``None``.
        permission_mode: The new permission mode, after ``set_permission_mode`` (wire
            ``permissionMode``).
        compact_result: The outcome of a compaction, when reported.
        compact_error: Why a compaction failed, when it did.
    """

    status: str | None = None
    permission_mode: str | None = None
    compact_result: str | None = None
    compact_error: str | None = None


@_frozen_on_first_use(kw_only=True)
class ApiRetryMessage(SystemMessage):
    """``system/api_retry``: the CLI is retrying a failed API request.

    Attributes:
        attempt: The retry attempt (1-based).
        max_retries: The retry limit.
        retry_delay_ms: The delay before this retry.
        error_status: HTTP status of the failure (``None`` when there was no response).
        error: The error category (``"overloaded"``, ``"rate_limit"``, ...).
        no_response: ``True`` when the request got no response at all.
    """

    attempt: int | None = None
    max_retries: int | None = None
    retry_delay_ms: float | None = None
    error_status: int | None = None
    error: str | None = None
    no_response: bool | None = None


@_frozen_on_first_use(kw_only=True)
class ModelFallbackMessage(SystemMessage):
    """``system/model_fallback``: the CLI switched to the fallback model.

    Attributes:
        trigger: Why (``"overloaded"``, ...).
        original_model: The model that failed.
        fallback_model: The model now in use.
        content: The human-readable notice.
    """

    trigger: str | None = None
    original_model: str | None = None
    fallback_model: str | None = None
    content: Any = None


@_frozen_on_first_use(kw_only=True)
class ModelRefusalFallbackMessage(SystemMessage):
    """``system/model_refusal_fallback``: a refusal was retried on the fallback model.

    Attributes:
        trigger: What triggered the fallback.
        direction: The direction of the switch.
        scope: The scope of the switch.
        original_model: The model that refused.
        fallback_model: The model used for the retry.
        request_id: The API request id of the refusal.
        retracted_message_uuids: Messages withdrawn from the transcript.
        refused_user_message_uuid: The user message that was refused.
        content: The notice shown to the user.
    """

    trigger: str | None = None
    direction: str | None = None
    scope: str | None = None
    original_model: str | None = None
    fallback_model: str | None = None
    request_id: str | None = None
    retracted_message_uuids: list[str] | None = None
    refused_user_message_uuid: str | None = None
    content: Any = None


@_frozen_on_first_use(kw_only=True)
class ModelRefusalNoFallbackMessage(SystemMessage):
    """``system/model_refusal_no_fallback``: the model refused and there is no fallback.

    Attributes:
        original_model: The model that refused.
        request_id: The API request id of the refusal.
        refused_user_message_uuid: The user message that was refused.
        content: The notice shown to the user.
    """

    original_model: str | None = None
    request_id: str | None = None
    refused_user_message_uuid: str | None = None
    content: Any = None


@_frozen_on_first_use(kw_only=True)
class PermissionDeniedMessage(SystemMessage):
    """``system/permission_denied``: a tool call was denied without asking the host.

    Attributes:
        tool_name: The tool.
        tool_use_id: The tool call's id.
        message: The denial message given to the model.
        agent_id: The subagent that made the call, if any.
        decision_reason_type: The kind of rule that decided.
        decision_reason: The rule's explanation.
    """

    tool_name: str | None = None
    tool_use_id: str | None = None
    message: str | None = None
    agent_id: str | None = None
    decision_reason_type: str | None = None
    decision_reason: Any = None


@_frozen_on_first_use(kw_only=True)
class ThinkingTokensMessage(SystemMessage):
    """``system/thinking_tokens``: a live estimate of thinking tokens.

    Attributes:
        estimated_tokens: The estimate so far.
        estimated_tokens_delta: The change since the last estimate.
        user_message_uuid: The user message being answered, when the CLI says.
    """

    estimated_tokens: int | None = None
    estimated_tokens_delta: int | None = None
    user_message_uuid: str | None = None


@_frozen_on_first_use(kw_only=True)
class SessionStateChangedMessage(SystemMessage):
    """``system/session_state_changed``: the run state changed.

    Frames with ``sdk_host_only`` are meant for the SDK (to decide when the run is idle), not for
    the user.

    Attributes:
        state: ``"idle"``, ``"running"`` or ``"requires_action"`` (see :data:`SessionState`).
        sdk_host_only: Whether the frame is for the SDK only.
    """

    state: str | None = None
    sdk_host_only: bool = False


@_frozen_on_first_use(kw_only=True)
class CompactBoundaryMessage(SystemMessage):
    """``system/compact_boundary``: the conversation was compacted.

    Attributes:
        compact_metadata: ``{"trigger", "pre_tokens", "post_tokens"?, ...}``, plain JSON.
    """

    compact_metadata: dict[str, Any] | None = None


@_frozen_on_first_use(kw_only=True)
class HookEventMessage(SystemMessage):
    """Base of the hook lifecycle messages, sent with ``include_hook_events``.

    Attributes:
        hook_id: The hook run's id.
        hook_name: The hook's name.
        hook_event: The hook event (``"PreToolUse"``, ``"Stop"``, ...).
    """

    hook_id: str | None = None
    hook_name: str | None = None
    hook_event: str | None = None

    @property
    def hook_event_name(self) -> str:
        """The hook event's name, as the official SDK's ``HookEventMessage`` exposes it."""
        name = self.hook_event or self.hook_name or self.data.get("hook_event_name")
        return name if isinstance(name, str) else ""


@_frozen_on_first_use(kw_only=True)
class HookStartedMessage(HookEventMessage):
    """``system/hook_started``: a hook began running."""


@_frozen_on_first_use(kw_only=True)
class HookProgressMessage(HookEventMessage):
    """``system/hook_progress``: output from a running hook.

    Attributes:
        stdout: Standard output so far.
        stderr: Standard error so far.
        output: Combined output so far.
    """

    stdout: str | None = None
    stderr: str | None = None
    output: str | None = None


@_frozen_on_first_use(kw_only=True)
class HookResponseMessage(HookEventMessage):
    """``system/hook_response``: a hook finished.

    Attributes:
        output: The hook's output.
        stdout: Standard output.
        stderr: Standard error.
        exit_code: The exit code, for command hooks.
        outcome: ``"success"``, ``"error"`` or ``"cancelled"``.
    """

    output: str | None = None
    stdout: str | None = None
    stderr: str | None = None
    exit_code: int | None = None
    outcome: str | None = None


@_frozen_on_first_use(kw_only=True)
class TaskStartedMessage(SystemMessage):
    """``system/task_started``: a background task or subagent started.

    Attributes:
        task_id: The task id.
        description: What the task does.
        tool_use_id: The tool call that started it.
        task_type: The kind of task (``local_agent``, ``local_bash``, ...).
        run_id: The run id.
        subagent_type: The subagent type, for agents.
        is_backgrounded: Whether it runs in the background.
        parent_task_id: The task that spawned it.
        workflow_name: The workflow, for workflow tasks.
        prompt: The task's prompt.
    """

    task_id: str | None = None
    description: str | None = None
    tool_use_id: str | None = None
    task_type: str | None = None
    run_id: str | None = None
    subagent_type: str | None = None
    is_backgrounded: bool | None = None
    parent_task_id: str | None = None
    workflow_name: str | None = None
    prompt: str | None = None


@_frozen_on_first_use(kw_only=True)
class TaskProgressMessage(SystemMessage):
    """``system/task_progress``: progress of a background task.

    Attributes:
        task_id: The task id.
        description: What the task does.
        usage: ``{"total_tokens", "tool_uses", "duration_ms"}``, plain JSON.
        tool_use_id: The tool call that started it.
        last_tool_name: The last tool the task used.
        summary: A progress summary.
        run_id: The run id.
        subagent_type: The subagent type, for agents.
    """

    task_id: str | None = None
    description: str | None = None
    usage: dict[str, Any] | None = None
    tool_use_id: str | None = None
    last_tool_name: str | None = None
    summary: str | None = None
    run_id: str | None = None
    subagent_type: str | None = None


@_frozen_on_first_use(kw_only=True)
class TaskUpdatedMessage(SystemMessage):
    """``system/task_updated``: a patch to a background task's state.

    Attributes:
        task_id: The task id.
        patch: The changed fields (``status``, ``end_time``, ``error``, ...), plain JSON.
        run_id: The run id.
    """

    task_id: str | None = None
    patch: dict[str, Any] = attrs.field(factory=dict)
    run_id: str | None = None

    @property
    def status(self) -> str | None:
        """``patch["status"]`` (``pending``, ``running``, ``completed``, ``killed``, ...)."""
        status = self.patch.get("status")
        return status if isinstance(status, str) else None


@_frozen_on_first_use(kw_only=True)
class TaskNotificationMessage(SystemMessage):
    """``system/task_notification``: a background task finished.

    Attributes:
        task_id: The task id.
        status: ``"completed"``, ``"failed"`` or ``"stopped"``.
        output_file: Where the task's output was written.
        summary: A summary of the outcome.
        tool_use_id: The tool call that started it.
        usage: ``{"total_tokens", "tool_uses", "duration_ms"}``, plain JSON.
        reason: Why it ended, when reported.
        run_id: The run id.
    """

    task_id: str | None = None
    status: str | None = None
    output_file: str | None = None
    summary: str | None = None
    tool_use_id: str | None = None
    usage: dict[str, Any] | None = None
    reason: str | None = None
    run_id: str | None = None


@_frozen_on_first_use(kw_only=True)
class BackgroundTasksChangedMessage(SystemMessage):
    """``system/background_tasks_changed``: the full set of live background tasks.

    Attributes:
        tasks: The live tasks (``{"task_id", "task_type", "description", ...}``); replaces any
            earlier set.
    """

    tasks: list[dict[str, Any]] = attrs.field(factory=list)


@_frozen_on_first_use(kw_only=True)
class LocalCommandOutputMessage(SystemMessage):
    """``system/local_command_output``: the output of a local slash command.

    Attributes:
        content: The command's output.
    """

    content: Any = None


@_frozen_on_first_use(kw_only=True)
class NotificationMessage(SystemMessage):
    """``system/notification``: a text notification.

    Attributes:
        key: A key identifying the notification.
        text: The text.
        priority: ``"low"``, ``"medium"``, ``"high"`` or ``"immediate"``.
        color: A display colour.
        timeout_ms: How long to show it.
    """

    key: str | None = None
    text: str | None = None
    priority: str | None = None
    color: str | None = None
    timeout_ms: float | None = None


@_frozen_on_first_use(kw_only=True)
class InformationalMessage(SystemMessage):
    """``system/informational``: a text banner.

    Attributes:
        content: The text.
        level: ``"info"``, ``"notice"``, ``"suggestion"`` or ``"warning"``.
        tool_use_id: The related tool call, if any.
        prevent_continuation: Whether the banner stops the turn.
        tag: A tag identifying the banner.
    """

    content: Any = None
    level: str | None = None
    tool_use_id: str | None = None
    prevent_continuation: bool | None = None
    tag: str | None = None


@_frozen_on_first_use(kw_only=True)
class CommandsChangedMessage(SystemMessage):
    """``system/commands_changed``: the slash-command list changed.

    Attributes:
        commands: The new list (``{"name", "description", "argumentHint"}``), plain JSON.
    """

    commands: list[dict[str, Any]] = attrs.field(factory=list)


@_frozen_on_first_use(kw_only=True)
class ControlRequestProgressMessage(SystemMessage):
    """``system/control_request_progress``: progress of a long control request.

    Attributes:
        request_id: The control request's id.
        status: ``"started"`` or ``"api_retry"``.
        attempt: The retry attempt, for ``api_retry``.
    """

    request_id: str | None = None
    status: str | None = None
    attempt: int | None = None


@_frozen_on_first_use(kw_only=True)
class PluginInstallMessage(SystemMessage):
    """``system/plugin_install``: progress of a headless plugin install.

    Attributes:
        status: ``"started"``, ``"installed"``, ``"failed"`` or ``"completed"``.
        name: The plugin.
        error: Why it failed.
    """

    status: str | None = None
    name: str | None = None
    error: str | None = None


@_frozen_on_first_use(kw_only=True)
class FilesPersistedMessage(SystemMessage):
    """``system/files_persisted``: files were uploaded.

    Attributes:
        files: ``{"filename", "file_id"}`` for each uploaded file.
        failed: ``{"filename", "error"}`` for each failure.
        processed_at: When the upload was processed.
    """

    files: list[dict[str, Any]] = attrs.field(factory=list)
    failed: list[dict[str, Any]] = attrs.field(factory=list)
    processed_at: Any = None


@_frozen_on_first_use(kw_only=True)
class MemoryRecallMessage(SystemMessage):
    """``system/memory_recall``: memories were surfaced to the model.

    Attributes:
        mode: ``"select"`` or ``"synthesize"``.
        memories: ``{"path", "scope", "content"?}`` for each memory.
    """

    mode: str | None = None
    memories: list[dict[str, Any]] = attrs.field(factory=list)


@_frozen_on_first_use(kw_only=True)
class ElicitationCompleteMessage(SystemMessage):
    """``system/elicitation_complete``: a URL elicitation finished.

    Attributes:
        mcp_server_name: The MCP server that asked.
        elicitation_id: The elicitation's id.
    """

    mcp_server_name: str | None = None
    elicitation_id: str | None = None


@_frozen_on_first_use(kw_only=True)
class WorkerShuttingDownMessage(SystemMessage):
    """``system/worker_shutting_down``: a remote worker is going away.

    Attributes:
        reason: Why.
    """

    reason: str | None = None


@_frozen_on_first_use(kw_only=True)
class SessionWritesLostMessage(SystemMessage):
    """``system/session_writes_lost``: transcript writes failed (disk full).

    Attributes:
        error_code: ``"ENOSPC"`` or ``"EDQUOT"``.
        lost: What was lost.
        transcript_session_ids: The affected transcripts.
    """

    error_code: str | None = None
    lost: list[Any] = attrs.field(factory=list)
    transcript_session_ids: list[str] | None = None


@_frozen_on_first_use(kw_only=True)
class MirrorErrorMessage(SystemMessage):
    """``system/mirror_error``: mirroring the transcript to a session store failed.

    Attributes:
        key: The store key (``{"project_key", "session_id", "subpath"?}``).
        error: The error text.
    """

    key: dict[str, Any] | None = None
    error: str = ""


# ---------------------------------------------------------------------------------------------
# Other top-level messages
# ---------------------------------------------------------------------------------------------


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _opt_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _opt_float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


@attrs.frozen(kw_only=True)
class RateLimitInfo:
    """A rate limit's state: :attr:`RateLimitEvent.rate_limit_info`, as the official SDK
    models it.

    It also reads like the wire dict it came from (``info["status"]``, ``info.get("resetsAt")``,
    ``"status" in info``: keys of ``raw``), as it was before it was typed.

    Attributes:
        status: ``allowed``, ``allowed_warning`` or ``rejected`` (see :data:`RateLimitStatus`;
            kept as sent, ``""`` when missing).
        resets_at: When the window resets (Unix seconds).
        rate_limit_type: Which window (see :data:`RateLimitType`).
        utilization: The fraction of the limit used (0 to 1).
        overage_status: The pay-as-you-go usage's status.
        overage_resets_at: When the overage window resets (Unix seconds).
        overage_disabled_reason: Why overage is unavailable.
        raw: The dict as the CLI sent it (every field, modelled or not).
    """

    status: str = ""
    resets_at: int | None = None
    rate_limit_type: str | None = None
    utilization: float | None = None
    overage_status: str | None = None
    overage_resets_at: int | None = None
    overage_disabled_reason: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    def __getitem__(self, key: str) -> Any:
        return self.raw[key]

    def __contains__(self, key: object) -> bool:
        return key in self.raw

    def get(self, key: str, default: Any = None) -> Any:
        """``raw.get(key, default)``: a wire key, as in the dict this was before it was typed."""
        return self.raw.get(key, default)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | RateLimitInfo) -> RateLimitInfo:
        """Decodes the wire dict (camelCase keys). Never raises: odd values are left out.

        Args:
            data: The wire dict (``rate_limit_info`` of a ``rate_limit_event`` frame).

        Returns:
            The typed state; ``raw`` is a copy of ``data``. Given a :class:`RateLimitInfo`
            (what ``RateLimitEvent.rate_limit_info`` is now), returns it.
        """
        if isinstance(data, RateLimitInfo):
            return data
        return cls(
            status=_opt_str(data.get("status")) or "",
            resets_at=_opt_int(data.get("resetsAt")),
            rate_limit_type=_opt_str(data.get("rateLimitType")),
            utilization=_opt_float(data.get("utilization")),
            overage_status=_opt_str(data.get("overageStatus")),
            overage_resets_at=_opt_int(data.get("overageResetsAt")),
            overage_disabled_reason=_opt_str(data.get("overageDisabledReason")),
            raw=dict(data),
        )


def _rate_limit_info(value: Any) -> RateLimitInfo:
    if isinstance(value, RateLimitInfo):
        return value
    if isinstance(value, Mapping):
        return RateLimitInfo.from_dict(value)
    raise TypeError(
        f"rate_limit_info must be a RateLimitInfo or a dict, not {type(value).__name__}"
    )


@attrs.frozen(kw_only=True)
class RateLimitEvent:
    """``rate_limit_event``: the account's rate-limit state changed.

    Attributes:
        rate_limit_info: The state (:class:`RateLimitInfo`, as the official SDK types it; a
            dict given by hand is decoded), its ``raw`` the wire dict as the CLI sent it.
        uuid: The message's uuid.
        session_id: The session id.
        raw: The frame as the CLI sent it (empty when built by hand).
    """

    rate_limit_info: RateLimitInfo = attrs.field(converter=_rate_limit_info)
    uuid: str | None = None
    session_id: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)


@attrs.frozen(kw_only=True)
class ConversationResetMessage:
    """``conversation_reset``: the conversation was replaced (``/clear``, plan exit, ...).

    Running totals on later results (such as ``total_cost_usd``) restart from zero.

    Attributes:
        new_conversation_id: An id for the fresh conversation (not the next ``session_id``).
        uuid: The message's uuid.
        session_id: The session that was reset.
        trigger: What caused the reset, when reported.
        user_message_uuid: The user message that caused it, when reported.
        raw: The frame as the CLI sent it (empty when built by hand).
    """

    new_conversation_id: str
    uuid: str | None = None
    session_id: str | None = None
    trigger: str | None = None
    user_message_uuid: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)


@attrs.frozen(kw_only=True)
class ToolProgressMessage:
    """``tool_progress``: a tool is still running (heartbeat).

    Attributes:
        tool_use_id: The tool call.
        tool_name: The tool.
        parent_tool_use_id: The subagent call this belongs to, if any.
        elapsed_time_seconds: How long the tool has run.
        task_id: The background task, if any.
        heartbeat: Whether this is a periodic heartbeat.
        subagent_type: The subagent type, for agents.
        uuid: The message's uuid.
        session_id: The session id.
        raw: The frame as the CLI sent it (empty when built by hand).
    """

    tool_use_id: str
    tool_name: str
    parent_tool_use_id: str | None = None
    elapsed_time_seconds: float = 0
    task_id: str | None = None
    heartbeat: bool | None = None
    subagent_type: str | None = None
    uuid: str | None = None
    session_id: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)


@attrs.frozen(kw_only=True)
class AuthStatusMessage:
    """``auth_status``: authentication progress.

    Attributes:
        is_authenticating: Whether authentication is in progress (wire ``isAuthenticating``).
        output: Output lines of the authentication flow.
        error: The error, if it failed.
        uuid: The message's uuid.
        session_id: The session id.
        raw: The frame as the CLI sent it (empty when built by hand).
    """

    is_authenticating: bool = False
    output: list[str] = attrs.field(factory=list)
    error: str | None = None
    uuid: str | None = None
    session_id: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)


@attrs.frozen(kw_only=True)
class ToolUseSummaryMessage:
    """``tool_use_summary``: a summary of the preceding tool calls.

    Attributes:
        summary: The summary.
        preceding_tool_use_ids: The tool calls it summarises.
        uuid: The message's uuid.
        session_id: The session id.
        raw: The frame as the CLI sent it (empty when built by hand).
    """

    summary: str = ""
    preceding_tool_use_ids: list[str] = attrs.field(factory=list)
    uuid: str | None = None
    session_id: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)


@attrs.frozen(kw_only=True)
class PromptSuggestionMessage:
    """``prompt_suggestion``: a predicted next prompt, sent after a result.

    Attributes:
        suggestion: The suggested prompt.
        uuid: The message's uuid.
        session_id: The session id.
        raw: The frame as the CLI sent it (empty when built by hand).
    """

    suggestion: str = ""
    uuid: str | None = None
    session_id: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)


@attrs.frozen(kw_only=True)
class CommandLifecycleMessage:
    """``command_lifecycle``: where a user message sent with a ``uuid`` is (``queued``,
    ``started``, ...); the CLI sends it for every prompt that carries a uuid.

    Attributes:
        command_uuid: The uuid of the user message it is about.
        state: ``queued``, ``started``, ...
        uuid: The frame's own uuid.
        session_id: The session id.
        raw: The frame as the CLI sent it (empty when built by hand).
    """

    command_uuid: str | None = None
    state: str | None = None
    uuid: str | None = None
    session_id: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)


@attrs.frozen(kw_only=True)
class ActiveGoalMessage:
    """``active_goal``: the ``/goal`` state.

    Attributes:
        value: ``{"condition", "iterations", "set_at", "tokens_at_start", "last_reason"?}``, or
            ``None`` when no goal is active.
        uuid: The message's uuid.
        session_id: The session id.
        raw: The frame as the CLI sent it (empty when built by hand).
    """

    value: dict[str, Any] | None = None
    uuid: str | None = None
    session_id: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)


@attrs.frozen(kw_only=True)
class UnknownMessage:
    """A frame whose top-level ``type`` this version does not know.

    Attributes:
        type: The wire ``type`` (``""`` when the frame had none).
        raw: The whole frame as the CLI sent it.
    """

    type: str
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)


Message = (
    UserMessage
    | AssistantMessage
    | SystemMessage
    | ResultMessage
    | StreamEvent
    | RateLimitEvent
    | ConversationResetMessage
    | ToolProgressMessage
    | AuthStatusMessage
    | ToolUseSummaryMessage
    | PromptSuggestionMessage
    | CommandLifecycleMessage
    | ActiveGoalMessage
    | UnknownMessage
)
"""Any message the CLI can send to the user (typed :class:`SystemMessage` subclasses included)."""


# ---------------------------------------------------------------------------------------------
# The initialize reply
# ---------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class SlashCommand:
    """A slash command or skill the CLI offers.

    Attributes:
        name: The command's name, without the slash.
        description: What it does.
        argument_hint: A hint for its arguments (wire ``argumentHint``).
        builtin: Whether it ships with the CLI.
        aliases: Other names for it.
        raw: The dict as the CLI sent it (empty when built by hand).
    """

    name: str
    description: str = ""
    argument_hint: str = ""
    builtin: bool | None = None
    aliases: list[str] | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)


@attrs.frozen(kw_only=True)
class AgentInfo:
    """A subagent the CLI offers.

    Attributes:
        name: The agent's name.
        description: When to use it.
        model: The model it runs on, when pinned.
        raw: The dict as the CLI sent it (empty when built by hand).
    """

    name: str
    description: str = ""
    model: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)


@attrs.frozen(kw_only=True)
class ModelInfo:
    """A model the CLI offers.

    Attributes:
        value: The value to pass as ``model`` (``"default"``, ``"opus"``, a model id, ...).
        display_name: A human-readable name (wire ``displayName``).
        description: A description.
        resolved_model: The model id it resolves to (wire ``resolvedModel``).
        supports_effort: Whether it takes an effort level (wire ``supportsEffort``).
        supported_effort_levels: The effort levels it takes (wire ``supportedEffortLevels``).
        supports_adaptive_thinking: Wire ``supportsAdaptiveThinking``.
        supports_fast_mode: Wire ``supportsFastMode``.
        supports_auto_mode: Wire ``supportsAutoMode``.
        supports_thinking_off: Wire ``supportsThinkingOff``.
        raw: The dict as the CLI sent it (empty when built by hand).
    """

    value: str
    display_name: str = ""
    description: str = ""
    resolved_model: str | None = None
    supports_effort: bool | None = None
    supported_effort_levels: list[str] | None = None
    supports_adaptive_thinking: bool | None = None
    supports_fast_mode: bool | None = None
    supports_auto_mode: bool | None = None
    supports_thinking_off: bool | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)


class _WireDictView:
    """Read access to ``raw`` as if the object were the wire dict (a read-only mapping).

    For classes whose official counterpart is the plain dict the CLI sent: ``obj["key"]``,
    ``obj.get(...)``, ``"key" in obj``, ``obj.keys()``, ``dict(obj)`` read ``raw``; attributes
    keep their typed values. An instance is always true, even when ``raw`` is empty.
    """

    __slots__ = ()
    raw: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.raw[key]

    def __contains__(self, key: object) -> bool:
        return key in self.raw

    def __iter__(self) -> Iterator[str]:
        return iter(self.raw)

    def __len__(self) -> int:
        return len(self.raw)

    def __bool__(self) -> bool:
        return True

    def get(self, key: str, default: Any = None) -> Any:
        """``raw.get(key, default)``: any wire field, modelled or not."""
        return self.raw.get(key, default)

    def keys(self) -> KeysView[str]:
        """The wire keys (``raw.keys()``)."""
        return self.raw.keys()

    def values(self) -> ValuesView[Any]:
        """The wire values (``raw.values()``)."""
        return self.raw.values()

    def items(self) -> ItemsView[str, Any]:
        """The wire items (``raw.items()``)."""
        return self.raw.items()


@attrs.frozen(kw_only=True)
class ServerInfo(_WireDictView):
    """The CLI's reply to ``initialize``: what this CLI offers. Every field is optional.

    It also reads like the reply dict, which is what the official SDK's
    ``get_server_info()`` returns: ``info["commands"]``, ``info.get("output_style")``,
    ``"models" in info`` and ``dict(info)`` read :attr:`raw` (wire names, plain JSON), while
    the attributes stay typed (``info.commands`` is a list of :class:`SlashCommand`).

    Attributes:
        commands: Slash commands and skills.
        agents: Subagents.
        models: Models.
        account: Account information (``{"apiKeySource", "apiProvider", ...}``), plain JSON.
        output_style: The active output style.
        available_output_styles: All output styles.
        pid: The CLI's process id.
        claude_code_version: The CLI's version.
        current_permission_mode: The permission mode in effect.
        capabilities: Protocol capabilities the CLI advertises.
        hooks_applied: Whether the hooks sent with ``initialize`` were registered.
        hook_on_failure_supported: Whether ``onFailure: "block"`` hooks are honoured.
        plugins_applied: Whether plugins sent with ``initialize`` were applied.
        mcp_servers_applied: Whether MCP servers sent with ``initialize`` were applied.
        fast_mode_state: Fast-mode state.
        fast_mode_disabled_reason: Why fast mode is off.
        session_state: The run state (``"idle"``, ...).
        user_output_styles_dir: Where user output styles live.
        raw: The dict as the CLI sent it.
    """

    commands: list[SlashCommand] = attrs.field(factory=list)
    agents: list[AgentInfo] = attrs.field(factory=list)
    models: list[ModelInfo] = attrs.field(factory=list)
    account: dict[str, Any] | None = None
    output_style: str | None = None
    available_output_styles: list[str] = attrs.field(factory=list)
    pid: int | None = None
    claude_code_version: str | None = None
    current_permission_mode: str | None = None
    capabilities: list[str] = attrs.field(factory=list)
    hooks_applied: bool | None = None
    hook_on_failure_supported: bool | None = None
    plugins_applied: bool | None = None
    mcp_servers_applied: bool | None = None
    fast_mode_state: str | None = None
    fast_mode_disabled_reason: str | None = None
    session_state: str | None = None
    user_output_styles_dir: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)


# ---------------------------------------------------------------------------------------------
# A collected turn
# ---------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class TurnResult:
    """One collected turn, as returned by ``ask()`` and ``Session.run()``.

    Attributes:
        messages: Every message of the turn the user would have seen from
            ``receive_response()`` (system messages and stream events included), the
            :class:`ResultMessage` last.
        result: The turn's :class:`ResultMessage`.
    """

    messages: tuple[Message, ...]
    result: ResultMessage

    @property
    def text(self) -> str:
        """The final text, ``result.result``; ``""`` when the CLI reported none."""
        return self.result.result or ""

    @property
    def structured_output(self) -> Any:
        """The structured output (``result.structured_output``), with ``output_format``."""
        return self.result.structured_output

    @property
    def session_id(self) -> str:
        """The session id the result reported."""
        return self.result.session_id

    @property
    def total_cost_usd(self) -> float | None:
        """The CLI-reported cost (cumulative for the CLI process)."""
        return self.result.total_cost_usd

    @property
    def usage(self) -> dict[str, Any] | None:
        """The turn's token usage, plain JSON."""
        return self.result.usage


# ---------------------------------------------------------------------------------------------
# The official SDK's other names
# ---------------------------------------------------------------------------------------------
# ``claude_agent_sdk.types`` also holds the option classes, the callback types, the hook
# inputs/outputs, the session and store types, and TypedDicts for config and wire dicts. The
# same names are here, as re-exports of trio-claude's equivalents (the very objects
# ``trio_claude`` exports) or, for the dict-shaped ones, from :mod:`trio_claude._official_types`.
# They are imported on first use (PEP 562), so that importing this module stays cheap: add a
# name under ``TYPE_CHECKING`` here and in ``_LAZY`` below (tests/unit/test_official_names.py
# checks that the two agree).
if TYPE_CHECKING:
    from ._control_types import McpServerStatus as McpServerStatus
    from ._hook_context import HookContext as HookContext
    from ._hooks import BackgroundTaskSummary as BackgroundTaskSummary
    from ._hooks import BaseHookInput as BaseHookInput
    from ._hooks import CwdChangedHookSpecificOutput as CwdChangedHookSpecificOutput
    from ._hooks import ElicitationHookSpecificOutput as ElicitationHookSpecificOutput
    from ._hooks import ElicitationResultHookSpecificOutput as ElicitationResultHookSpecificOutput
    from ._hooks import FileChangedHookSpecificOutput as FileChangedHookSpecificOutput
    from ._hooks import HookInput as HookInput
    from ._hooks import HookJSONOutput as HookJSONOutput
    from ._hooks import HookSpecificOutput as HookSpecificOutput
    from ._hooks import MessageDisplayHookSpecificOutput as MessageDisplayHookSpecificOutput
    from ._hooks import NotificationHookInput as NotificationHookInput
    from ._hooks import NotificationHookSpecificOutput as NotificationHookSpecificOutput
    from ._hooks import PermissionDeniedHookSpecificOutput as PermissionDeniedHookSpecificOutput
    from ._hooks import PermissionRequestHookInput as PermissionRequestHookInput
    from ._hooks import PermissionRequestHookSpecificOutput as PermissionRequestHookSpecificOutput
    from ._hooks import PostModelSwitchHookSpecificOutput as PostModelSwitchHookSpecificOutput
    from ._hooks import PostToolBatchHookSpecificOutput as PostToolBatchHookSpecificOutput
    from ._hooks import PostToolUseFailureHookInput as PostToolUseFailureHookInput
    from ._hooks import PostToolUseFailureHookSpecificOutput as PostToolUseFailureHookSpecificOutput
    from ._hooks import PostToolUseHookInput as PostToolUseHookInput
    from ._hooks import PostToolUseHookSpecificOutput as PostToolUseHookSpecificOutput
    from ._hooks import PreCompactHookInput as PreCompactHookInput
    from ._hooks import PreModelSwitchHookSpecificOutput as PreModelSwitchHookSpecificOutput
    from ._hooks import (
        PreSkillShellCommandHookSpecificOutput as PreSkillShellCommandHookSpecificOutput,
    )
    from ._hooks import PreToolUseHookInput as PreToolUseHookInput
    from ._hooks import PreToolUseHookSpecificOutput as PreToolUseHookSpecificOutput
    from ._hooks import SessionCronSummary as SessionCronSummary
    from ._hooks import SessionStartHookSpecificOutput as SessionStartHookSpecificOutput
    from ._hooks import StopHookInput as StopHookInput
    from ._hooks import StopHookSpecificOutput as StopHookSpecificOutput
    from ._hooks import SubagentStartHookInput as SubagentStartHookInput
    from ._hooks import SubagentStartHookSpecificOutput as SubagentStartHookSpecificOutput
    from ._hooks import SubagentStopHookInput as SubagentStopHookInput
    from ._hooks import SubagentStopHookSpecificOutput as SubagentStopHookSpecificOutput
    from ._hooks import (
        UserPromptExpansionHookSpecificOutput as UserPromptExpansionHookSpecificOutput,
    )
    from ._hooks import UserPromptSubmitHookInput as UserPromptSubmitHookInput
    from ._hooks import UserPromptSubmitHookSpecificOutput as UserPromptSubmitHookSpecificOutput
    from ._hooks import WorktreeCreateHookSpecificOutput as WorktreeCreateHookSpecificOutput
    from ._mcp import McpSdkServerConfig as McpSdkServerConfig
    from ._official_types import TERMINAL_TASK_STATUSES as TERMINAL_TASK_STATUSES
    from ._official_types import AsyncHookJSONOutput as AsyncHookJSONOutput
    from ._official_types import CanUseToolShadowedWarning as CanUseToolShadowedWarning
    from ._official_types import ContextUsageCategory as ContextUsageCategory
    from ._official_types import ContextUsageResponse as ContextUsageResponse
    from ._official_types import ControlErrorResponse as ControlErrorResponse
    from ._official_types import ControlResponse as ControlResponse
    from ._official_types import FastModeDisabledReason as FastModeDisabledReason
    from ._official_types import FastModeState as FastModeState
    from ._official_types import HookEffort as HookEffort
    from ._official_types import McpClaudeAIProxyServerConfig as McpClaudeAIProxyServerConfig
    from ._official_types import McpHttpServerConfig as McpHttpServerConfig
    from ._official_types import McpSdkServerConfigStatus as McpSdkServerConfigStatus
    from ._official_types import McpServerConnectionStatus as McpServerConnectionStatus
    from ._official_types import McpServerInfo as McpServerInfo
    from ._official_types import McpServerStatusConfig as McpServerStatusConfig
    from ._official_types import McpSSEServerConfig as McpSSEServerConfig
    from ._official_types import McpStatusResponse as McpStatusResponse
    from ._official_types import McpStdioServerConfig as McpStdioServerConfig
    from ._official_types import McpToolAnnotations as McpToolAnnotations
    from ._official_types import McpToolInfo as McpToolInfo
    from ._official_types import MessageOrigin as MessageOrigin
    from ._official_types import MessageOriginKind as MessageOriginKind
    from ._official_types import ModelUsage as ModelUsage
    from ._official_types import RateLimitStatus as RateLimitStatus
    from ._official_types import RateLimitType as RateLimitType
    from ._official_types import SandboxIgnoreViolations as SandboxIgnoreViolations
    from ._official_types import SandboxNetworkConfig as SandboxNetworkConfig
    from ._official_types import SandboxSettings as SandboxSettings
    from ._official_types import SdkBeta as SdkBeta
    from ._official_types import SDKControlInitializeRequest as SDKControlInitializeRequest
    from ._official_types import SDKControlInterruptRequest as SDKControlInterruptRequest
    from ._official_types import SDKControlMcpMessageRequest as SDKControlMcpMessageRequest
    from ._official_types import SDKControlMcpReconnectRequest as SDKControlMcpReconnectRequest
    from ._official_types import SDKControlMcpToggleRequest as SDKControlMcpToggleRequest
    from ._official_types import SDKControlPermissionRequest as SDKControlPermissionRequest
    from ._official_types import SDKControlRequest as SDKControlRequest
    from ._official_types import SDKControlResponse as SDKControlResponse
    from ._official_types import SDKControlRewindFilesRequest as SDKControlRewindFilesRequest
    from ._official_types import (
        SDKControlSetPermissionModeRequest as SDKControlSetPermissionModeRequest,
    )
    from ._official_types import SDKControlStopTaskRequest as SDKControlStopTaskRequest
    from ._official_types import SDKHookCallbackRequest as SDKHookCallbackRequest
    from ._official_types import SdkPluginConfig as SdkPluginConfig
    from ._official_types import SessionStoreFlushMode as SessionStoreFlushMode
    from ._official_types import SyncHookJSONOutput as SyncHookJSONOutput
    from ._official_types import SystemInitData as SystemInitData
    from ._official_types import SystemInitMcpServer as SystemInitMcpServer
    from ._official_types import SystemInitPlugin as SystemInitPlugin
    from ._official_types import SystemInitPluginError as SystemInitPluginError
    from ._official_types import SystemPromptCustom as SystemPromptCustom
    from ._official_types import SystemPromptFile as SystemPromptFile
    from ._official_types import SystemPromptPreset as SystemPromptPreset
    from ._official_types import TaskBudget as TaskBudget
    from ._official_types import TaskNotificationOriginSubkind as TaskNotificationOriginSubkind
    from ._official_types import TaskNotificationStatus as TaskNotificationStatus
    from ._official_types import TaskUpdatedStatus as TaskUpdatedStatus
    from ._official_types import TaskUsage as TaskUsage
    from ._official_types import ThinkingDisplay as ThinkingDisplay
    from ._official_types import ToolsPreset as ToolsPreset
    from ._options import AgentDefinition as AgentDefinition
    from ._options import CanUseTool as CanUseTool
    from ._options import ClaudeAgentOptions as ClaudeAgentOptions
    from ._options import EffortLevel as EffortLevel
    from ._options import HookCallback as HookCallback
    from ._options import HookEvent as HookEvent
    from ._options import HookMatcher as HookMatcher
    from ._options import McpServerConfig as McpServerConfig
    from ._options import SettingSource as SettingSource
    from ._options import ThinkingConfig as ThinkingConfig
    from ._options import ThinkingConfigAdaptive as ThinkingConfigAdaptive
    from ._options import ThinkingConfigDisabled as ThinkingConfigDisabled
    from ._options import ThinkingConfigEnabled as ThinkingConfigEnabled
    from ._permissions import PermissionBehavior as PermissionBehavior
    from ._permissions import PermissionResult as PermissionResult
    from ._permissions import PermissionResultAllow as PermissionResultAllow
    from ._permissions import PermissionResultDeny as PermissionResultDeny
    from ._permissions import PermissionRuleValue as PermissionRuleValue
    from ._permissions import PermissionUpdate as PermissionUpdate
    from ._permissions import PermissionUpdateDestination as PermissionUpdateDestination
    from ._permissions import ToolPermissionContext as ToolPermissionContext
    from ._session_store import SessionKey as SessionKey
    from ._session_store import SessionListSubkeysKey as SessionListSubkeysKey
    from ._session_store import SessionStore as SessionStore
    from ._session_store import SessionStoreEntry as SessionStoreEntry
    from ._session_store import SessionStoreListEntry as SessionStoreListEntry
    from ._session_store import SessionSummaryEntry as SessionSummaryEntry
    from ._sessions import SDKSessionInfo as SDKSessionInfo
    from ._sessions import SessionMessage as SessionMessage

_LAZY: dict[str, str] = {
    "AgentDefinition": "._options",
    "CanUseTool": "._options",
    "ClaudeAgentOptions": "._options",
    "EffortLevel": "._options",
    "HookCallback": "._options",
    "HookEvent": "._options",
    "HookMatcher": "._options",
    "McpServerConfig": "._options",
    "SettingSource": "._options",
    "ThinkingConfig": "._options",
    "ThinkingConfigAdaptive": "._options",
    "ThinkingConfigDisabled": "._options",
    "ThinkingConfigEnabled": "._options",
    "HookContext": "._hook_context",
    "PermissionBehavior": "._permissions",
    "PermissionResult": "._permissions",
    "PermissionResultAllow": "._permissions",
    "PermissionResultDeny": "._permissions",
    "PermissionRuleValue": "._permissions",
    "PermissionUpdate": "._permissions",
    "PermissionUpdateDestination": "._permissions",
    "ToolPermissionContext": "._permissions",
    "McpSdkServerConfig": "._mcp",
    "McpServerStatus": "._control_types",
    "BackgroundTaskSummary": "._hooks",
    "BaseHookInput": "._hooks",
    "CwdChangedHookSpecificOutput": "._hooks",
    "ElicitationHookSpecificOutput": "._hooks",
    "ElicitationResultHookSpecificOutput": "._hooks",
    "FileChangedHookSpecificOutput": "._hooks",
    "HookInput": "._hooks",
    "HookJSONOutput": "._hooks",
    "HookSpecificOutput": "._hooks",
    "MessageDisplayHookSpecificOutput": "._hooks",
    "PreSkillShellCommandHookSpecificOutput": "._hooks",
    "NotificationHookInput": "._hooks",
    "NotificationHookSpecificOutput": "._hooks",
    "PermissionDeniedHookSpecificOutput": "._hooks",
    "PermissionRequestHookInput": "._hooks",
    "PermissionRequestHookSpecificOutput": "._hooks",
    "PostModelSwitchHookSpecificOutput": "._hooks",
    "PostToolBatchHookSpecificOutput": "._hooks",
    "PostToolUseFailureHookInput": "._hooks",
    "PostToolUseFailureHookSpecificOutput": "._hooks",
    "PostToolUseHookInput": "._hooks",
    "PostToolUseHookSpecificOutput": "._hooks",
    "PreCompactHookInput": "._hooks",
    "PreModelSwitchHookSpecificOutput": "._hooks",
    "PreToolUseHookInput": "._hooks",
    "PreToolUseHookSpecificOutput": "._hooks",
    "SessionCronSummary": "._hooks",
    "SessionStartHookSpecificOutput": "._hooks",
    "StopHookInput": "._hooks",
    "StopHookSpecificOutput": "._hooks",
    "SubagentStartHookInput": "._hooks",
    "SubagentStartHookSpecificOutput": "._hooks",
    "SubagentStopHookInput": "._hooks",
    "SubagentStopHookSpecificOutput": "._hooks",
    "UserPromptExpansionHookSpecificOutput": "._hooks",
    "UserPromptSubmitHookInput": "._hooks",
    "UserPromptSubmitHookSpecificOutput": "._hooks",
    "WorktreeCreateHookSpecificOutput": "._hooks",
    "SessionKey": "._session_store",
    "SessionListSubkeysKey": "._session_store",
    "SessionStore": "._session_store",
    "SessionStoreEntry": "._session_store",
    "SessionStoreListEntry": "._session_store",
    "SessionSummaryEntry": "._session_store",
    "SDKSessionInfo": "._sessions",
    "SessionMessage": "._sessions",
    "AsyncHookJSONOutput": "._official_types",
    "CanUseToolShadowedWarning": "._official_types",
    "ContextUsageCategory": "._official_types",
    "ContextUsageResponse": "._official_types",
    "ControlErrorResponse": "._official_types",
    "ControlResponse": "._official_types",
    "FastModeDisabledReason": "._official_types",
    "FastModeState": "._official_types",
    "HookEffort": "._official_types",
    "McpClaudeAIProxyServerConfig": "._official_types",
    "McpHttpServerConfig": "._official_types",
    "McpSSEServerConfig": "._official_types",
    "McpSdkServerConfigStatus": "._official_types",
    "McpServerConnectionStatus": "._official_types",
    "McpServerInfo": "._official_types",
    "McpServerStatusConfig": "._official_types",
    "McpStatusResponse": "._official_types",
    "McpStdioServerConfig": "._official_types",
    "McpToolAnnotations": "._official_types",
    "McpToolInfo": "._official_types",
    "MessageOrigin": "._official_types",
    "MessageOriginKind": "._official_types",
    "ModelUsage": "._official_types",
    "RateLimitStatus": "._official_types",
    "RateLimitType": "._official_types",
    "SDKControlInitializeRequest": "._official_types",
    "SDKControlInterruptRequest": "._official_types",
    "SDKControlMcpMessageRequest": "._official_types",
    "SDKControlMcpReconnectRequest": "._official_types",
    "SDKControlMcpToggleRequest": "._official_types",
    "SDKControlPermissionRequest": "._official_types",
    "SDKControlRequest": "._official_types",
    "SDKControlResponse": "._official_types",
    "SDKControlRewindFilesRequest": "._official_types",
    "SDKControlSetPermissionModeRequest": "._official_types",
    "SDKControlStopTaskRequest": "._official_types",
    "SDKHookCallbackRequest": "._official_types",
    "SandboxIgnoreViolations": "._official_types",
    "SandboxNetworkConfig": "._official_types",
    "SandboxSettings": "._official_types",
    "SdkBeta": "._official_types",
    "SdkPluginConfig": "._official_types",
    "SessionStoreFlushMode": "._official_types",
    "SyncHookJSONOutput": "._official_types",
    "SystemInitData": "._official_types",
    "SystemInitMcpServer": "._official_types",
    "SystemInitPlugin": "._official_types",
    "SystemInitPluginError": "._official_types",
    "SystemPromptCustom": "._official_types",
    "SystemPromptFile": "._official_types",
    "SystemPromptPreset": "._official_types",
    "TERMINAL_TASK_STATUSES": "._official_types",
    "TaskBudget": "._official_types",
    "TaskNotificationOriginSubkind": "._official_types",
    "TaskNotificationStatus": "._official_types",
    "TaskUpdatedStatus": "._official_types",
    "TaskUsage": "._official_types",
    "ThinkingDisplay": "._official_types",
    "ToolsPreset": "._official_types",
}

# The pending classes are names of this module only through ``__getattr__`` from now on.
for _name in _PENDING:
    del globals()[_name]
del _name

if not TYPE_CHECKING:

    def __getattr__(name: str) -> object:
        if name in _PENDING:
            with _PENDING_LOCK:
                return _create(name)
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        from importlib import import_module

        value = getattr(import_module(module, "trio_claude"), name)
        globals()[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*globals(), *_PENDING, *_LAZY})
