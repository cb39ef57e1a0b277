"""The official SDK's dict-shaped types and Literal aliases, under their official names.

The official Python SDK (``claude_agent_sdk.types``) describes most configuration values and CLI
replies as TypedDicts (``McpStdioServerConfig``, ``SystemPromptPreset``,
``SystemInitData``, ``ContextUsageResponse``, ...) and many enum-like strings as ``Literal``
aliases. A ``TypedDict`` is a plain ``dict`` at run time, so trio-claude accepts one wherever it
accepts the dict (``mcp_servers``, ``system_prompt``, ``tools``, ``sandbox``, ``plugins``, ...);
this module defines them so that annotations (and calls such as
``McpStdioServerConfig(command="npx")``) port unchanged.

Everything here is re-exported by :mod:`trio_claude.types`, and the names of the official
package's ``__all__`` by :mod:`trio_claude` itself. The module is loaded on first use, not by
``import trio_claude``.

The ``Literal`` aliases document the values known today: decoded messages keep such fields as
plain ``str`` (a newer CLI may send a value not listed here), and ``raw`` keeps everything.

(No ``from __future__ import annotations`` here: ``TypedDict`` needs evaluated annotations to
tell ``NotRequired`` keys apart at run time, ``__required_keys__``.)
"""

import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

if sys.version_info >= (3, 11):
    from typing import NotRequired, Required, TypedDict
else:  # pragma: no cover - 3.10: stdlib TypedDict ignores NotRequired (typing_extensions comes
    # with cattrs)
    from typing_extensions import NotRequired, Required, TypedDict

from ._protocol._connection import _TERMINAL_TASK_STATUSES
from .types import PermissionMode, RateLimitInfo

if TYPE_CHECKING:
    from ._hooks import HookSpecificOutput

__all__ = [
    # literals and aliases
    "FastModeDisabledReason",
    "FastModeState",
    "McpServerConnectionStatus",
    "MessageOriginKind",
    "RateLimitStatus",
    "RateLimitType",
    "SandboxIgnoreViolations",
    "SdkBeta",
    "SessionStoreFlushMode",
    "TERMINAL_TASK_STATUSES",
    "TaskNotificationOriginSubkind",
    "TaskNotificationStatus",
    "TaskUpdatedStatus",
    "ThinkingDisplay",
    # option dicts
    "McpClaudeAIProxyServerConfig",
    "McpHttpServerConfig",
    "McpSSEServerConfig",
    "McpSdkServerConfigStatus",
    "McpServerStatusConfig",
    "McpStdioServerConfig",
    "SandboxNetworkConfig",
    "SandboxSettings",
    "SdkPluginConfig",
    "SystemPromptCustom",
    "SystemPromptFile",
    "SystemPromptPreset",
    "TaskBudget",
    "ToolsPreset",
    # reply and message dicts
    "ContextUsageCategory",
    "ContextUsageResponse",
    "HookEffort",
    "McpServerInfo",
    "McpStatusResponse",
    "McpToolAnnotations",
    "McpToolInfo",
    "MessageOrigin",
    "ModelUsage",
    "SystemInitData",
    "SystemInitMcpServer",
    "SystemInitPlugin",
    "SystemInitPluginError",
    "TaskUsage",
    # hook answers as dicts
    "AsyncHookJSONOutput",
    "SyncHookJSONOutput",
    # the control protocol's wire dicts
    "ControlErrorResponse",
    "ControlResponse",
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
    # classes
    "CanUseToolShadowedWarning",
    "RateLimitInfo",
]

# ---------------------------------------------------------------------------------------------
# Literal aliases
# ---------------------------------------------------------------------------------------------

SdkBeta = Literal["context-1m-2025-08-07"]
"""Anthropic beta headers known to work with ``betas`` (any string is passed on)."""

ThinkingDisplay = Literal["summarized", "omitted"]
"""How thinking text comes back: summarized, or omitted (signature only)."""

SessionStoreFlushMode = Literal["batched", "eager"]
"""``ClaudeAgentOptions.session_store_flush``: flush per turn (or when large), or per frame."""

McpServerConnectionStatus = Literal["connected", "failed", "needs-auth", "pending", "disabled"]
"""Known values of an MCP server's ``status`` in ``get_mcp_status()``."""

FastModeState = Literal["off", "cooldown", "on"]
"""Known values of ``fast_mode_state`` (``system/init``, the ``initialize`` reply)."""

FastModeDisabledReason = Literal[
    "free",
    "preference",
    "extra_usage_disabled",
    "network_error",
    "unknown",
    "not_first_party",
    "disabled_by_env",
    "model_not_allowed",
    "sdk_opt_in_required",
    "pending",
]
"""Known values of ``fast_mode_disabled_reason`` (newer CLIs may send others)."""

TaskNotificationStatus = Literal["completed", "failed", "stopped"]
"""Known values of :attr:`~trio_claude.TaskNotificationMessage.status`."""

TaskUpdatedStatus = Literal["pending", "running", "paused", "completed", "failed", "killed"]
"""Known values of ``patch["status"]`` in :class:`~trio_claude.TaskUpdatedMessage`."""

TERMINAL_TASK_STATUSES: frozenset[str] = _TERMINAL_TASK_STATUSES
"""Task statuses meaning "finished", in either vocabulary: ``task_notification`` says
``stopped`` where ``task_updated`` says ``killed``. Clear a task you track on any of these."""

RateLimitStatus = Literal["allowed", "allowed_warning", "rejected"]
"""Known values of a rate limit's ``status``."""

RateLimitType = Literal["five_hour", "seven_day", "seven_day_opus", "seven_day_sonnet", "overage"]
"""Known values of a rate limit's ``rateLimitType``."""

MessageOriginKind = Literal[
    "human",
    "channel",
    "peer",
    "task-notification",
    "coordinator",
    "unclassified",
    "observer",
    "auto-continuation",
    "observer-activity",
]
"""Known values of ``origin["kind"]``; treat any other value as "not a human"."""

TaskNotificationOriginSubkind = Literal["scheduled-trigger", "peer-send-message"]
"""Known values of ``origin["subkind"]`` when ``kind`` is ``"task-notification"``."""

SandboxIgnoreViolations = dict[str, list[str]]
"""Sandbox violations not to report: command substring (``"*"``: any) -> violation substrings."""


# ---------------------------------------------------------------------------------------------
# Option dicts
# ---------------------------------------------------------------------------------------------


class SystemPromptPreset(TypedDict):
    """``system_prompt``: Claude Code's own system prompt, optionally extended.

    Attributes:
        type: ``"preset"``.
        preset: ``"claude_code"``.
        append: Text appended to the preset.
        exclude_dynamic_sections: Move per-user sections (cwd, git status, memory) out of the
            system prompt so it can be cached across users.
        snapshot: Keep the prompt the session recorded first (also after a resume).
    """

    type: Literal["preset"]
    preset: Literal["claude_code"]
    append: NotRequired[str]
    exclude_dynamic_sections: NotRequired[bool]
    snapshot: NotRequired[bool]


class SystemPromptCustom(TypedDict):
    """``system_prompt``: a custom prompt, in the form that can also set ``snapshot``.

    Attributes:
        type: ``"custom"``.
        prompt: The system prompt.
        snapshot: As :class:`SystemPromptPreset`'s.
    """

    type: Literal["custom"]
    prompt: str
    snapshot: NotRequired[bool]


class SystemPromptFile(TypedDict):
    """``system_prompt``: read the prompt from a file.

    Attributes:
        type: ``"file"``.
        path: The file.
    """

    type: Literal["file"]
    path: str


class ToolsPreset(TypedDict):
    """``tools``: every default Claude Code tool.

    Attributes:
        type: ``"preset"``.
        preset: ``"claude_code"``.
    """

    type: Literal["preset"]
    preset: Literal["claude_code"]


class TaskBudget(TypedDict):
    """``task_budget``: a token budget the model is told about (API ``task_budget``).

    Attributes:
        total: The budget in tokens.
    """

    total: int


class McpStdioServerConfig(TypedDict):
    """An MCP server the CLI starts as a subprocess.

    Attributes:
        type: ``"stdio"`` (may be left out).
        command: The program.
        args: Its arguments.
        env: Extra environment variables.
    """

    type: NotRequired[Literal["stdio"]]
    command: str
    args: NotRequired[list[str]]
    env: NotRequired[dict[str, str]]


class McpSSEServerConfig(TypedDict):
    """An MCP server reached over server-sent events.

    Attributes:
        type: ``"sse"``.
        url: The endpoint.
        headers: Extra HTTP headers.
    """

    type: Literal["sse"]
    url: str
    headers: NotRequired[dict[str, str]]


class McpHttpServerConfig(TypedDict):
    """An MCP server reached over streamable HTTP.

    Attributes:
        type: ``"http"``.
        url: The endpoint.
        headers: Extra HTTP headers.
    """

    type: Literal["http"]
    url: str
    headers: NotRequired[dict[str, str]]


class McpSdkServerConfigStatus(TypedDict):
    """An in-process server's config as status replies show it (no instance).

    Attributes:
        type: ``"sdk"``.
        name: The server's name.
    """

    type: Literal["sdk"]
    name: str


class McpClaudeAIProxyServerConfig(TypedDict):
    """A server proxied through claude.ai, as status replies show it.

    Attributes:
        type: ``"claudeai-proxy"``.
        url: The proxy endpoint.
        id: The server's id.
    """

    type: Literal["claudeai-proxy"]
    url: str
    id: str


McpServerStatusConfig = (
    McpStdioServerConfig
    | McpSSEServerConfig
    | McpHttpServerConfig
    | McpSdkServerConfigStatus
    | McpClaudeAIProxyServerConfig
)
"""The ``config`` of a server in ``get_mcp_status()``."""


class SdkPluginConfig(TypedDict):
    """A plugin to load (``plugins``).

    Attributes:
        type: ``"local"``.
        path: The plugin's directory.
    """

    type: Literal["local"]
    path: str


class SandboxNetworkConfig(TypedDict, total=False):
    """The sandbox's own network rules (``SandboxSettings["network"]``).

    Attributes:
        allowedDomains: Domains sandboxed commands may reach.
        deniedDomains: Domains always blocked.
        allowManagedDomainsOnly: Only managed settings' ``allowedDomains`` count.
        allowUnixSockets: Unix sockets sandboxed commands may use.
        allowAllUnixSockets: Allow every Unix socket.
        allowLocalBinding: Allow binding localhost ports (macOS).
        allowMachLookup: XPC/Mach services to allow (macOS).
        httpProxyPort: Port of your own HTTP proxy.
        socksProxyPort: Port of your own SOCKS5 proxy.
    """

    allowedDomains: list[str]
    deniedDomains: list[str]
    allowManagedDomainsOnly: bool
    allowUnixSockets: list[str]
    allowAllUnixSockets: bool
    allowLocalBinding: bool
    allowMachLookup: list[str]
    httpProxyPort: int
    socksProxyPort: int


class SandboxSettings(TypedDict, total=False):
    """``sandbox``: how Bash commands are sandboxed (merged into the settings as ``sandbox``).

    Attributes:
        enabled: Sandbox Bash commands (macOS, Linux).
        autoAllowBashIfSandboxed: Approve sandboxed Bash commands without asking.
        excludedCommands: Commands that run outside the sandbox.
        allowUnsandboxedCommands: Let a command ask to run unsandboxed.
        network: The sandbox's network rules.
        ignoreViolations: Violations not to report.
        enableWeakerNestedSandbox: A weaker sandbox for unprivileged containers (Linux).
    """

    enabled: bool
    autoAllowBashIfSandboxed: bool
    excludedCommands: list[str]
    allowUnsandboxedCommands: bool
    network: SandboxNetworkConfig
    ignoreViolations: SandboxIgnoreViolations
    enableWeakerNestedSandbox: bool


# ---------------------------------------------------------------------------------------------
# Reply and message dicts
# ---------------------------------------------------------------------------------------------


class HookEffort(TypedDict):
    """The effort in force when a hook fires (a hook input's ``effort``).

    Attributes:
        level: ``"low"``, ``"high"``, ``"max"``, ...
    """

    level: str


class McpToolAnnotations(TypedDict, total=False):
    """A tool's annotations in ``get_mcp_status()`` (wire names).

    Attributes:
        readOnly: The tool does not change anything.
        destructive: The tool may destroy data.
        openWorld: The tool reaches outside systems.
    """

    readOnly: bool
    destructive: bool
    openWorld: bool


class McpToolInfo(TypedDict):
    """A tool of an MCP server in ``get_mcp_status()``.

    Attributes:
        name: The tool's name.
        description: What it does.
        annotations: Its annotations.
    """

    name: str
    description: NotRequired[str]
    annotations: NotRequired[McpToolAnnotations]


class McpServerInfo(TypedDict):
    """What an MCP server said about itself when it connected.

    Attributes:
        name: The server's name.
        version: Its version.
    """

    name: str
    version: str


class _McpServerStatusDict(TypedDict):
    name: str
    status: str
    serverInfo: NotRequired[McpServerInfo]
    error: NotRequired[str]
    config: NotRequired[McpServerStatusConfig]
    scope: NotRequired[str]
    tools: NotRequired[list[McpToolInfo]]


class McpStatusResponse(TypedDict):
    """What ``ClaudeSDKClient.get_mcp_status()`` returns (the wire reply).

    Attributes:
        mcpServers: One dict per server: ``name``, ``status`` (see
            :data:`McpServerConnectionStatus`), and when known ``serverInfo``, ``error``,
            ``config``, ``scope``, ``tools``. :meth:`trio_claude.Session.mcp_status` gives
            typed :class:`~trio_claude.McpServerStatus` objects instead.
    """

    mcpServers: list[_McpServerStatusDict]


class ContextUsageCategory(TypedDict):
    """One category of the context-window breakdown.

    Attributes:
        name: ``"System prompt"``, ``"Messages"``, ...
        tokens: Its tokens.
        color: The colour ``/context`` draws it in.
        isDeferred: Whether it is loaded on demand.
    """

    name: str
    tokens: int
    color: str
    isDeferred: NotRequired[bool]


class ContextUsageResponse(TypedDict):
    """What ``ClaudeSDKClient.get_context_usage()`` returns (what ``/context`` shows).

    :meth:`trio_claude.Session.get_context_usage` gives a typed
    :class:`~trio_claude.ContextUsage` instead.

    Attributes:
        categories: Tokens by category.
        totalTokens: Tokens in context.
        maxTokens: The usable window.
        rawMaxTokens: The model's whole window.
        percentage: ``totalTokens`` as a percentage of ``maxTokens``.
        model: The model the numbers are for.
        isAutoCompactEnabled: Whether auto-compaction is on.
        memoryFiles: CLAUDE.md and memory files, with their tokens.
        mcpTools: MCP tools, with their tokens.
        agents: Agent definitions, with their tokens.
        gridRows: The grid ``/context`` draws.
        autoCompactThreshold: Tokens at which auto-compaction starts.
        deferredBuiltinTools: Built-in tools loaded on demand.
        systemTools: Built-in tools, with their tokens.
        systemPromptSections: System prompt sections, with their tokens.
        slashCommands: Slash command usage.
        skills: Skill usage.
        messageBreakdown: Message tokens by kind.
        apiUsage: The session's API usage so far.
    """

    categories: list[ContextUsageCategory]
    totalTokens: int
    maxTokens: int
    rawMaxTokens: int
    percentage: float
    model: str
    isAutoCompactEnabled: bool
    memoryFiles: list[dict[str, Any]]
    mcpTools: list[dict[str, Any]]
    agents: list[dict[str, Any]]
    gridRows: list[list[dict[str, Any]]]
    autoCompactThreshold: NotRequired[int]
    deferredBuiltinTools: NotRequired[list[dict[str, Any]]]
    systemTools: NotRequired[list[dict[str, Any]]]
    systemPromptSections: NotRequired[list[dict[str, Any]]]
    slashCommands: NotRequired[dict[str, Any]]
    skills: NotRequired[dict[str, Any]]
    messageBreakdown: NotRequired[dict[str, Any]]
    apiUsage: NotRequired[dict[str, Any] | None]


class SystemInitMcpServer(TypedDict):
    """An MCP server in ``system/init``.

    Attributes:
        name: The server's name.
        status: Its connection status.
        source: Where it was configured (``"sdk"``, ``"plugin"``, ``"user"``, ...).
    """

    name: str
    status: str
    source: NotRequired[str]


class SystemInitPlugin(TypedDict):
    """A loaded plugin in ``system/init``.

    Attributes:
        name: The plugin's name.
        path: Its directory.
        version: The version its manifest declares.
    """

    name: str
    path: str
    version: NotRequired[str]


class SystemInitPluginError(TypedDict):
    """A plugin that failed to load, in ``system/init``.

    Attributes:
        plugin: ``name@marketplace``, or a positional tag (``inline[0]``).
        type: The failure's category (an open set).
        message: What went wrong.
        path: The entry's path, when it did not load at all.
    """

    plugin: str
    type: str
    message: str
    path: NotRequired[str]


class SystemInitData(TypedDict):
    """The shape of ``SystemMessage.data`` for ``system/init`` (wire names).

    :class:`~trio_claude.InitMessage` has the same fields as typed attributes; this describes
    its ``data`` (the frame as sent), for code written as
    ``cast(SystemInitData, message.data)``.
    """

    type: Literal["system"]
    subtype: Literal["init"]
    uuid: str
    session_id: str
    agents: NotRequired[list[str]]
    apiKeySource: str
    betas: NotRequired[list[str]]
    claude_code_version: str
    cwd: str
    tools: list[str]
    mcp_servers: list[SystemInitMcpServer]
    model: str
    permissionMode: PermissionMode
    slash_commands: list[str]
    terminal_slash_commands: NotRequired[list[str]]
    output_style: str
    skills: list[str]
    plugins: list[SystemInitPlugin]
    plugin_errors: NotRequired[list[SystemInitPluginError]]
    fast_mode_state: NotRequired[FastModeState]
    fast_mode_disabled_reason: NotRequired[FastModeDisabledReason]
    capabilities: NotRequired[list[str]]


class TaskUsage(TypedDict):
    """A background task's usage (``task_progress``, ``task_notification``).

    Attributes:
        total_tokens: Tokens used.
        tool_uses: Tool calls made.
        duration_ms: Time taken.
    """

    total_tokens: int
    tool_uses: int
    duration_ms: int


class ModelUsage(TypedDict):
    """One model's usage and cost in ``ResultMessage.model_usage`` (wire names).

    Attributes:
        inputTokens: Input tokens.
        outputTokens: Output tokens.
        cacheReadInputTokens: Input tokens read from the cache.
        cacheCreationInputTokens: Input tokens written to the cache.
        webSearchRequests: Web searches.
        costUSD: Cost in USD.
        contextWindow: The model's context window.
        maxOutputTokens: The model's output limit.
        canonicalModel: The model id used for pricing.
        provider: The API provider (``"firstParty"``, ``"bedrock"``, ...).
    """

    inputTokens: int
    outputTokens: int
    cacheReadInputTokens: int
    cacheCreationInputTokens: int
    webSearchRequests: int
    costUSD: float
    contextWindow: int
    maxOutputTokens: int
    canonicalModel: NotRequired[str]
    provider: NotRequired[str]


MessageOrigin = TypedDict(
    "MessageOrigin",
    {
        "kind": Required[MessageOriginKind],
        "server": str,
        "from": str,
        "name": str,
        "fromSession": str,
        "senderTaskId": str,
        "body": str,
        "verifiedPeerPid": int,
        "subkind": TaskNotificationOriginSubkind,
    },
    total=False,
)
"""Who started a turn: ``UserMessage.origin`` and ``ResultMessage.origin`` (as sent).

Only ``kind`` is always there (see :data:`MessageOriginKind`); ``server`` is set for
``channel``, ``from``/``name``/``fromSession``/``senderTaskId``/``body``/``verifiedPeerPid`` for
``peer`` (and some for ``observer``), ``subkind`` for ``task-notification``. ``from`` is what
the sender claims: use it to route replies, never as proof of identity.
"""


# ---------------------------------------------------------------------------------------------
# Hook answers as dicts
# ---------------------------------------------------------------------------------------------


class AsyncHookJSONOutput(TypedDict):
    """A hook answer that says "later": the CLI goes on without waiting.

    Same as ``HookOutput(async_=True, async_timeout=...)``; ``async_`` is sent as ``async``.

    Attributes:
        async_: ``True``.
        asyncTimeout: How long the CLI waits for the late answer, in milliseconds.
    """

    async_: Literal[True]
    asyncTimeout: NotRequired[int]


class SyncHookJSONOutput(TypedDict, total=False):
    """A hook answer as a dict (wire names; ``continue_`` is sent as ``continue``).

    Same as :class:`~trio_claude.HookOutput`, which has snake_case attributes.

    Attributes:
        continue_: ``False`` stops the agent after this hook.
        suppressOutput: Hide the hook's output from the transcript.
        stopReason: Shown when ``continue_`` is ``False``.
        decision: ``"block"`` (``"approve"`` is a legacy value for ``PreToolUse``).
        systemMessage: A message shown to the user.
        reason: The reason for ``decision``, fed back to the model.
        hookSpecificOutput: The event's specific answer (a ``...HookSpecificOutput`` or its
            wire dict, with ``hookEventName``).
    """

    continue_: bool
    suppressOutput: bool
    stopReason: str
    decision: Literal["block", "approve"]
    systemMessage: str
    reason: str
    hookSpecificOutput: "HookSpecificOutput | Mapping[str, Any]"


# ---------------------------------------------------------------------------------------------
# The control protocol's wire dicts (what SDK and CLI exchange; trio-claude builds them itself)
# ---------------------------------------------------------------------------------------------


class SDKControlInterruptRequest(TypedDict):
    """``interrupt``: stop the current turn."""

    subtype: Literal["interrupt"]


class SDKControlPermissionRequest(TypedDict):
    """``can_use_tool`` (CLI -> SDK): may this tool call run?"""

    subtype: Literal["can_use_tool"]
    tool_name: str
    input: dict[str, Any]
    permission_suggestions: list[dict[str, Any]] | None
    blocked_path: str | None
    decision_reason: NotRequired[str]
    title: NotRequired[str]
    display_name: NotRequired[str]
    description: NotRequired[str]
    tool_use_id: str
    agent_id: NotRequired[str]


class SDKControlInitializeRequest(TypedDict):
    """``initialize`` (SDK -> CLI): hooks, agents and the other start-up settings."""

    subtype: Literal["initialize"]
    hooks: dict[str, Any] | None
    agents: NotRequired[dict[str, dict[str, Any]]]
    excludeDynamicSections: NotRequired[bool]
    systemPromptSnapshot: NotRequired[bool]
    skills: NotRequired[list[str]]
    forwardSubagentText: NotRequired[bool]


class SDKControlSetPermissionModeRequest(TypedDict):
    """``set_permission_mode``."""

    subtype: Literal["set_permission_mode"]
    mode: PermissionMode


class SDKHookCallbackRequest(TypedDict):
    """``hook_callback`` (CLI -> SDK): run a registered hook callback."""

    subtype: Literal["hook_callback"]
    callback_id: str
    input: Any
    tool_use_id: str | None


class SDKControlMcpMessageRequest(TypedDict):
    """``mcp_message`` (CLI -> SDK): a JSON-RPC message for an in-process MCP server."""

    subtype: Literal["mcp_message"]
    server_name: str
    message: Any


class SDKControlRewindFilesRequest(TypedDict):
    """``rewind_files``: restore files to their state at a user message."""

    subtype: Literal["rewind_files"]
    user_message_id: str


class SDKControlMcpReconnectRequest(TypedDict):
    """``mcp_reconnect``: reconnect an MCP server (wire ``serverName``)."""

    subtype: Literal["mcp_reconnect"]
    serverName: str


class SDKControlMcpToggleRequest(TypedDict):
    """``mcp_toggle``: enable or disable an MCP server (wire ``serverName``)."""

    subtype: Literal["mcp_toggle"]
    serverName: str
    enabled: bool


class SDKControlStopTaskRequest(TypedDict):
    """``stop_task``: stop a background task."""

    subtype: Literal["stop_task"]
    task_id: str


class SDKControlRequest(TypedDict):
    """A ``control_request`` frame."""

    type: Literal["control_request"]
    request_id: str
    request: (
        SDKControlInterruptRequest
        | SDKControlPermissionRequest
        | SDKControlInitializeRequest
        | SDKControlSetPermissionModeRequest
        | SDKHookCallbackRequest
        | SDKControlMcpMessageRequest
        | SDKControlRewindFilesRequest
        | SDKControlMcpReconnectRequest
        | SDKControlMcpToggleRequest
        | SDKControlStopTaskRequest
    )


class ControlResponse(TypedDict):
    """The ``response`` of a successful ``control_response``."""

    subtype: Literal["success"]
    request_id: str
    response: dict[str, Any] | None


class ControlErrorResponse(TypedDict):
    """The ``response`` of a failed ``control_response``."""

    subtype: Literal["error"]
    request_id: str
    error: str


class SDKControlResponse(TypedDict):
    """A ``control_response`` frame."""

    type: Literal["control_response"]
    response: ControlResponse | ControlErrorResponse


# ---------------------------------------------------------------------------------------------
# Classes
# ---------------------------------------------------------------------------------------------


class CanUseToolShadowedWarning(UserWarning):
    """``can_use_tool`` is set, but some tool calls are approved before it is asked.

    ``allowed_tools`` entries that allow a whole tool (``"Read"``) and
    ``permission_mode="bypassPermissions"`` approve calls without consulting the callback; use
    a ``PreToolUse`` hook to see every call. Filter it with
    ``warnings.filterwarnings("ignore", category=CanUseToolShadowedWarning)``.
    """
