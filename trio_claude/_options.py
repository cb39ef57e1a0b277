"""``ClaudeAgentOptions`` and the small option types that go with it.

Field names are the official Python SDK's (``claude-agent-sdk``), so code ports by changing the
import. The class is frozen: derive variants with :func:`attrs.evolve`. Everywhere the official SDK
takes a plain dict (system prompt presets, thinking configs, MCP server configs, agent definitions,
sandbox settings, ...), the same dict is accepted here.

:func:`validate_options` checks a whole options object and raises :class:`ConfigurationError` naming
the offending field. It runs before any process is started.
"""

from __future__ import annotations

import json
import math
import operator
import os
import re
import uuid as uuid_module
import warnings
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal

import attrs

# The callback argument types (HookContext, ElicitationRequest, PermissionResult,
# ToolPermissionContext, UserDialogRequest) are imported at run time, not under TYPE_CHECKING, so
# that typing.get_type_hints() resolves the callback aliases below; none of these modules imports
# this one. ElicitationRequest and UserDialogRequest come from small modules of their own, not
# from _mcp or _control_types, which ``import trio_claude`` does not load.
from ._dataclass_compat import EMPTY_LIST_TUPLE, dataclass_compatible, list_tuple
from ._elicitation import ElicitationRequest
from ._errors import ConfigurationError
from ._hook_context import HookContext
from ._limits import ResourceLimits, check_resource_limits
from ._option_spec import (
    Built,
    Check,
    Flag,
    Init,
    Joined,
    Switch,
    check_arity,
    choice,
    function,
    integer,
    seconds,
    text,
    texts,
    truth,
)
from ._permissions import PermissionResult, ToolPermissionContext
from ._redact import redact, redact_env_repr, redact_repr
from ._telemetry import check_telemetry
from ._user_dialog import UserDialogRequest
from ._util import warn_user

__all__ = [
    "EFFORT_LEVELS",
    "HOOK_EVENTS",
    "PERMISSION_MODES",
    "SETTING_SOURCES",
    "UNWIRED_FIELDS",
    "AgentDefinition",
    "CanUseTool",
    "ClaudeAgentOptions",
    "EffortLevel",
    "HookCallback",
    "HookEvent",
    "HookMatcher",
    "McpServerConfig",
    "PermissionMode",
    "SandboxSettings",
    "SettingSource",
    "ThinkingConfig",
    "ThinkingConfigAdaptive",
    "ThinkingConfigDisabled",
    "ThinkingConfigEnabled",
    "validate_options",
]

# --------------------------------------------------------------------------------------------
# Fields whose runtime is not implemented yet.
#
# Setting any of these to a non-default value makes validate_options() raise
#   ConfigurationError("<field> is not supported yet by this version of trio-claude").
# "sdk_mcp_servers" stands for any mcp_servers entry of {"type": "sdk"} (in-process servers).
# Remove a name from this set when its feature lands.
# --------------------------------------------------------------------------------------------
UNWIRED_FIELDS: set[str] = set()

PermissionMode = Literal[
    "default", "acceptEdits", "plan", "bypassPermissions", "dontAsk", "auto", "manual"
]
#: Permission modes the CLI accepts (``manual`` is the CLI's own name for ``default``).
PERMISSION_MODES: frozenset[str] = frozenset(
    {"default", "acceptEdits", "plan", "bypassPermissions", "dontAsk", "auto", "manual"}
)

EffortLevel = Literal["low", "medium", "high", "xhigh", "max"]
#: Valid ``effort`` levels.
EFFORT_LEVELS: frozenset[str] = frozenset({"low", "medium", "high", "xhigh", "max"})

SettingSource = Literal["user", "project", "local"]
#: Valid ``setting_sources`` entries.
SETTING_SOURCES: frozenset[str] = frozenset({"user", "project", "local"})

HookEvent = str
#: Hook events with a typed input: the 33 of Claude Code 2.1.329 (the official Python SDK types
#: ten of them; the others are accepted by the CLI too) and ``Interrupt`` and
#: ``PreSkillShellCommand`` of newer CLIs (TypeScript SDK 0.3.337). ``validate_options`` accepts
#: any other name with a warning: the CLI may be newer than this SDK.
HOOK_EVENTS: frozenset[str] = frozenset(
    {
        "PreToolUse",
        "PostToolUse",
        "PostToolUseFailure",
        "PostToolBatch",
        "Notification",
        "UserPromptSubmit",
        "UserPromptExpansion",
        "SessionStart",
        "SessionEnd",
        "Stop",
        "StopFailure",
        "SubagentStart",
        "SubagentStop",
        "PreCompact",
        "PostCompact",
        "PreModelSwitch",
        "PostModelSwitch",
        "PermissionRequest",
        "PermissionDenied",
        "Setup",
        "TeammateIdle",
        "TaskCreated",
        "TaskCompleted",
        "Elicitation",
        "ElicitationResult",
        "ConfigChange",
        "WorktreeCreate",
        "WorktreeRemove",
        "InstructionsLoaded",
        "CwdChanged",
        "FileChanged",
        "DirectoryAdded",
        "MessageDisplay",
        "Interrupt",
        "PreSkillShellCommand",
    }
)

_THINKING_DISPLAYS = frozenset({"summarized", "omitted"})
_MEMORY_SCOPES = frozenset({"user", "project", "local"})
_SESSION_STORE_FLUSH = frozenset({"batched", "eager"})
_PERMISSION_PROMPTS = frozenset({"host", "none"})
_ON_FAILURE = frozenset({"continue", "block"})
_MCP_SERVER_TYPES = frozenset({"stdio", "sse", "http", "streamable-http", "sdk"})
#: extra_args keys that would break the stream-json session if overridden.
_RESERVED_EXTRA_ARGS = frozenset({"output-format", "input-format", "print", "p"})

#: ``can_use_tool(tool_name, input, context)`` returning ``PermissionResultAllow`` or
#: ``PermissionResultDeny`` (an ``async def``, or a plain function).
CanUseTool = Callable[
    [str, dict[str, Any], "ToolPermissionContext"],
    "Awaitable[PermissionResult] | PermissionResult",
]
#: ``hook(input, tool_use_id, context)`` returning a hook output (``HookOutput``, an event's
#: ``...HookSpecificOutput``, a plain dict with wire names, or ``None``); async or plain.
HookCallback = Callable[[Any, "str | None", "HookContext"], "Awaitable[Any] | Any"]
#: ``on_elicitation(request)`` returning ``ElicitationResult``, a dict or ``None`` (decline).
ElicitationCallback = Callable[["ElicitationRequest"], "Awaitable[Any] | Any"]
#: ``on_user_dialog(request)`` returning ``UserDialogResult``, a dict or ``None`` (cancelled).
UserDialogCallback = Callable[["UserDialogRequest"], "Awaitable[Any] | Any"]
#: Sandbox settings: the official ``SandboxSettings`` dict (``enabled``, ``network``, ...).
SandboxSettings = dict[str, Any]
#: An MCP server configuration: an official config dict (``{"type": "stdio", "command": ...}``,
#: ``{"type": "http", "url": ...}``, ...) or an in-process server from ``create_sdk_mcp_server``.
McpServerConfig = Mapping[str, Any] | Any


def _fail(message: str) -> ConfigurationError:
    return ConfigurationError(message)


# --------------------------------------------------------------------------------------------
# Small option types
# --------------------------------------------------------------------------------------------


def _callables(value: Iterable[HookCallback]) -> tuple[HookCallback, ...]:
    if callable(value):
        raise _fail("HookMatcher.hooks must be a list of callbacks, not a single callback")
    return list_tuple(value)


@dataclass_compatible
@attrs.frozen
class HookMatcher:
    """Callbacks for one hook event, filtered by a matcher.

    Args:
        matcher: Which tool (or other name) the hooks apply to: ``None``, ``""`` or ``"*"`` for
            all, ``"Bash"`` or ``"Write|Edit"`` for exact names, anything else is a regex (the
            CLI evaluates it).
        hooks: The callbacks, ``async def hook(input, tool_use_id, context)``.
        timeout: Per-matcher timeout in seconds, enforced by the CLI (default there: 60 s).
        on_failure: ``"continue"`` (the CLI's default) or ``"block"`` when a callback fails.
    """

    matcher: str | None = None
    hooks: tuple[HookCallback, ...] = attrs.field(default=EMPTY_LIST_TUPLE, converter=_callables)
    timeout: float | None = None
    on_failure: Literal["continue", "block"] | None = None


@attrs.frozen
class ThinkingConfigAdaptive:
    """Let the model decide how much to think (``--thinking adaptive``).

    Args:
        display: ``"summarized"`` or ``"omitted"`` (``--thinking-display``).
    """

    display: Literal["summarized", "omitted"] | None = None


@attrs.frozen
class ThinkingConfigEnabled:
    """Extended thinking with a token budget (``--max-thinking-tokens N``).

    Args:
        budget_tokens: The thinking budget in tokens.
        display: ``"summarized"`` or ``"omitted"`` (``--thinking-display``).
    """

    budget_tokens: int
    display: Literal["summarized", "omitted"] | None = None


@attrs.frozen
class ThinkingConfigDisabled:
    """No extended thinking (``--thinking disabled``)."""


#: A thinking configuration: one of the three classes, or the official dict forms
#: ``{"type": "adaptive"}``, ``{"type": "enabled", "budget_tokens": N}``, ``{"type": "disabled"}``
#: (each with an optional ``"display"``).
ThinkingConfig = (
    ThinkingConfigAdaptive | ThinkingConfigEnabled | ThinkingConfigDisabled | Mapping[str, Any]
)

# snake_case attribute -> wire (camelCase) key, in wire order.
_AGENT_WIRE_NAMES: dict[str, str] = {
    "description": "description",
    "prompt": "prompt",
    "tools": "tools",
    "disallowed_tools": "disallowedTools",
    "model": "model",
    "skills": "skills",
    "memory": "memory",
    "mcp_servers": "mcpServers",
    "initial_prompt": "initialPrompt",
    "max_turns": "maxTurns",
    "background": "background",
    "effort": "effort",
    "permission_mode": "permissionMode",
    "critical_system_reminder_experimental": "criticalSystemReminder_EXPERIMENTAL",
    "auto_compact_window": "autoCompactWindow",
    "omit_claude_md": "omitClaudeMd",
    "observer": "observer",
    "observer_message": "observerMessage",
}
_AGENT_ATTR_BY_WIRE: dict[str, str] = {wire: attr for attr, wire in _AGENT_WIRE_NAMES.items()}


def _opt_tuple(value: Iterable[Any] | None) -> tuple[Any, ...] | None:
    if value is None:
        return None
    if isinstance(value, (str, bytes)):
        return value  # type: ignore[return-value]  # rejected by validation with a clear message
    return list_tuple(value)


@dataclass_compatible
@attrs.frozen(init=False)
class AgentDefinition:
    """A programmatic subagent, sent to the CLI in the ``initialize`` request.

    Attributes are snake_case; the official SDK's camelCase keyword names (``disallowedTools``,
    ``mcpServers``, ``initialPrompt``, ``maxTurns``, ``permissionMode``) are accepted too, so
    official code ports unchanged. ``to_wire()`` gives the camelCase dict the CLI expects.
    It is a dataclass as well (as in the official SDK): ``dataclasses.asdict()`` gives the
    snake_case attributes, a dict that ``agents=`` accepts like the camelCase one.

    Args:
        description: When to use the agent (required).
        prompt: The agent's system prompt (required).
        tools: Allowed tools; ``None`` inherits the parent's.
        disallowed_tools: Tools the agent may not use.
        model: ``"sonnet"``, ``"opus"``, ``"haiku"``, ``"inherit"`` or a full model id.
        skills: Skills to preload.
        memory: Agent memory scope: ``"user"``, ``"project"`` or ``"local"``.
        mcp_servers: MCP server names, or ``{name: config}`` dicts.
        initial_prompt: First turn submitted automatically when it is the main-thread agent.
        max_turns: Turn cap.
        background: Run as a background task. (CLI 2.1.332 runs every subagent in the
            background, even with ``False``: the turn that launched it ends with a launch
            notice; see docs/fake-model.md.)
        effort: An effort level or an integer.
        permission_mode: The agent's permission mode.
        critical_system_reminder_experimental: Critical reminder added to its system prompt.
        auto_compact_window: Compaction threshold for the subagent.
        omit_claude_md: Run without user/project CLAUDE.md.
        observer: Run as a background observer agent.
        observer_message: The observer's message.
    """

    description: str
    prompt: str
    tools: tuple[str, ...] | None = None
    disallowed_tools: tuple[str, ...] | None = None
    model: str | None = None
    skills: tuple[str, ...] | None = None
    memory: Literal["user", "project", "local"] | None = None
    mcp_servers: tuple[str | Mapping[str, Any], ...] | None = attrs.field(
        default=None, hash=False, repr=redact_repr
    )
    initial_prompt: str | None = None
    max_turns: int | None = None
    background: bool | None = None
    effort: EffortLevel | int | None = None
    permission_mode: PermissionMode | None = None
    critical_system_reminder_experimental: str | None = None
    auto_compact_window: int | None = None
    omit_claude_md: bool | None = None
    observer: bool | None = None
    observer_message: str | None = None

    def __init__(
        self,
        description: str,
        prompt: str,
        tools: Sequence[str] | None = None,
        disallowed_tools: Sequence[str] | None = None,
        model: str | None = None,
        skills: Sequence[str] | None = None,
        memory: Literal["user", "project", "local"] | None = None,
        mcp_servers: Sequence[str | Mapping[str, Any]] | None = None,
        initial_prompt: str | None = None,
        max_turns: int | None = None,
        background: bool | None = None,
        effort: EffortLevel | int | None = None,
        permission_mode: PermissionMode | None = None,
        critical_system_reminder_experimental: str | None = None,
        auto_compact_window: int | None = None,
        omit_claude_md: bool | None = None,
        observer: bool | None = None,
        observer_message: str | None = None,
        *,
        disallowedTools: Sequence[str] | None = None,
        mcpServers: Sequence[str | Mapping[str, Any]] | None = None,
        initialPrompt: str | None = None,
        maxTurns: int | None = None,
        permissionMode: PermissionMode | None = None,
    ) -> None:
        def pick(name: str, snake: Any, camel: Any) -> Any:
            if camel is None:
                return snake
            if snake is not None:
                raise _fail(f"AgentDefinition: give {name} once (snake_case or camelCase)")
            return camel

        self.__attrs_init__(
            description,
            prompt,
            _opt_tuple(tools),
            _opt_tuple(pick("disallowed_tools", disallowed_tools, disallowedTools)),
            model,
            _opt_tuple(skills),
            memory,
            _opt_tuple(pick("mcp_servers", mcp_servers, mcpServers)),
            pick("initial_prompt", initial_prompt, initialPrompt),
            pick("max_turns", max_turns, maxTurns),
            background,
            effort,
            pick("permission_mode", permission_mode, permissionMode),
            critical_system_reminder_experimental,
            auto_compact_window,
            omit_claude_md,
            observer,
            observer_message,
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, name: str = "?") -> AgentDefinition:
        """Build from the official dict form (camelCase wire keys or snake_case keys).

        Args:
            data: The agent definition dict.
            name: The agent's name, for error messages.

        Returns:
            The agent definition.

        Raises:
            ConfigurationError: On unknown keys or missing ``description``/``prompt``.
        """
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            attr = _AGENT_ATTR_BY_WIRE.get(key, key)
            if attr not in _AGENT_WIRE_NAMES:
                raise _fail(f"agents[{name!r}]: unknown key {key!r}")
            if attr in kwargs:
                raise _fail(f"agents[{name!r}]: {key!r} given twice")
            kwargs[attr] = value
        for required in ("description", "prompt"):
            if required not in kwargs:
                raise _fail(f"agents[{name!r}]: {required!r} is required")
        return cls(**kwargs)

    def to_wire(self) -> dict[str, Any]:
        """The camelCase dict sent in ``initialize.agents``, ``None`` values dropped."""
        out: dict[str, Any] = {}
        for attr, wire in _AGENT_WIRE_NAMES.items():
            value = getattr(self, attr)
            if value is None:
                continue
            if isinstance(value, tuple):
                value = [dict(v) if isinstance(v, Mapping) else v for v in value]
            out[wire] = value
        return out

    # The official dataclass's camelCase field names (claude_agent_sdk types.py), read-only.

    @property
    def disallowedTools(self) -> tuple[str, ...] | None:
        """The official name of :attr:`disallowed_tools`."""
        return self.disallowed_tools

    @property
    def mcpServers(self) -> tuple[str | Mapping[str, Any], ...] | None:
        """The official name of :attr:`mcp_servers`."""
        return self.mcp_servers

    @property
    def initialPrompt(self) -> str | None:
        """The official name of :attr:`initial_prompt`."""
        return self.initial_prompt

    @property
    def maxTurns(self) -> int | None:
        """The official name of :attr:`max_turns`."""
        return self.max_turns

    @property
    def permissionMode(self) -> PermissionMode | None:
        """The official name of :attr:`permission_mode`."""
        return self.permission_mode


# --------------------------------------------------------------------------------------------
# Converters
# --------------------------------------------------------------------------------------------


def _str_tuple(value: Iterable[str], name: str) -> tuple[str, ...]:
    """A list-of-strings option as a tuple; a lone string is refused (naming the option)."""
    if isinstance(value, (str, bytes)):
        raise _fail(f"{name} must be a list of strings, got the string {value!r}")
    try:
        return list_tuple(value)
    except TypeError:
        raise _fail(f"{name} must be a list of strings, got {type(value).__name__}") from None


def _opt_path(value: str | os.PathLike[str] | None, name: str) -> str | None:
    """A path option as ``str`` (``os.PathLike`` made ``str``), or ``None``."""
    if value is None or isinstance(value, str):
        return value
    try:
        return os.fspath(value)
    except TypeError:
        raise _fail(f"{name} must be a path (str or os.PathLike), got {value!r}") from None


# One named converter per field (mypy's attrs plugin takes named functions only), so that a
# refusal names the option.


def _allowed_tools(value: Iterable[str]) -> tuple[str, ...]:
    return _str_tuple(value, "allowed_tools")


def _disallowed_tools(value: Iterable[str]) -> tuple[str, ...]:
    return _str_tuple(value, "disallowed_tools")


def _betas(value: Iterable[str]) -> tuple[str, ...]:
    return _str_tuple(value, "betas")


def _executable_args(value: Iterable[str]) -> tuple[str, ...]:
    return _str_tuple(value, "executable_args")


def _supported_dialog_kinds(value: Iterable[str]) -> tuple[str, ...]:
    return _str_tuple(value, "supported_dialog_kinds")


def _setting_sources(value: Iterable[str] | None) -> tuple[str, ...] | None:
    return None if value is None else _str_tuple(value, "setting_sources")


def _cwd(value: str | os.PathLike[str] | None) -> str | None:
    return _opt_path(value, "cwd")


def _cli_path(value: str | os.PathLike[str] | None) -> str | None:
    return _opt_path(value, "cli_path")


def _debug_file(value: str | os.PathLike[str] | None) -> str | None:
    return _opt_path(value, "debug_file")


def _project_config_root(value: str | os.PathLike[str] | None) -> str | None:
    return _opt_path(value, "project_config_root")


def _path_tuple(value: Iterable[str | os.PathLike[str]]) -> tuple[str, ...]:
    if isinstance(value, (str, bytes, os.PathLike)):
        raise _fail(f"add_dirs must be a list of paths, got {value!r}")
    try:
        return list_tuple(os.fspath(v) if isinstance(v, os.PathLike) else v for v in value)
    except TypeError:
        raise _fail(f"add_dirs must be a list of paths, got {type(value).__name__}") from None


def _dict(value: Mapping[Any, Any]) -> dict[Any, Any]:
    return dict(value) if isinstance(value, Mapping) else value


def _opt_dict(value: Mapping[Any, Any] | None) -> dict[Any, Any] | None:
    return None if value is None else _dict(value)


def _str_or_dict(value: str | Mapping[str, Any] | None) -> str | dict[str, Any] | None:
    return dict(value) if isinstance(value, Mapping) else value


def _system_prompt(value: Any) -> Any:
    # A list of blocks (the TypeScript SDK's string[] form) is kept as a tuple: options are frozen.
    if isinstance(value, list):
        return tuple(value)
    return _str_or_dict(value)


def _mcp_servers(
    value: Mapping[str, McpServerConfig] | str | os.PathLike[str],
) -> dict[str, McpServerConfig] | str:
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, Mapping):
        return dict(value)
    return value


def _tools(
    value: Iterable[str] | Mapping[str, Any] | None,
) -> tuple[str, ...] | dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (str, bytes)):
        raise _fail(
            "tools must be a list of tool names or {'type': 'preset', 'preset': 'claude_code'}, "
            f"got the string {value!r}"
        )
    return _str_tuple(value, "tools")


class _ConfigurationTypeError(ConfigurationError, TypeError):
    """A :class:`ConfigurationError` where the official SDK raises ``TypeError`` (a value of the
    wrong type), so code catching either catches it."""


def _skills(
    value: Literal["all"] | list[str] | None,
) -> Literal["all"] | tuple[str, ...] | None:
    """``skills`` as stored: ``None``, ``"all"`` or the list of names as a tuple.

    Only a list (or the tuple this made of one, given back by ``attrs.evolve`` and
    ``dataclasses.replace``) is taken, as by the official SDK (``_reject_non_list_skills``): a
    string would be its characters, and the official SDK drops any other iterable from the
    ``initialize`` request, installing no skill filter. Refused here, when the options are made
    (the official SDK refuses when it builds the command line).

    Raises:
        ConfigurationError: Also a ``TypeError``: ``value`` is not a list or ``"all"``.
    """
    if value is None or value == "all":
        return value
    given: Any = value  # anything may be passed at run time
    if isinstance(given, list) or type(given) is type(EMPTY_LIST_TUPLE):
        return list_tuple(given)
    shown = _quoted(given)
    suggestion = f" Did you mean [{shown}]?" if isinstance(given, str) else ""
    # The official text quotes the value: masked by shape (any object may have been passed).
    raise _ConfigurationTypeError(
        redact(f'skills must be a list of skill names or "all", got {shown}.{suggestion}')
    )


def _quoted(value: Any) -> str:
    """``repr(value)``, or ``<TypeName>`` when it has none to give (a repr that raises)."""
    try:
        text = repr(value)
    except Exception:
        return f"<{type(value).__name__}>"
    return text if isinstance(text, str) else f"<{type(value).__name__}>"


def _plugins(value: Iterable[Mapping[str, Any]]) -> tuple[dict[str, Any], ...]:
    if isinstance(value, (Mapping, str, bytes, os.PathLike)):
        raise _fail(
            "plugins must be a list of {'type': 'local', 'path': ...} dicts, got "
            f"{type(value).__name__}"
        )
    try:
        return list_tuple(dict(p) if isinstance(p, Mapping) else p for p in value)
    except TypeError:
        raise _fail(
            "plugins must be a list of {'type': 'local', 'path': ...} dicts, got "
            f"{type(value).__name__}"
        ) from None


_redact_env = redact_env_repr


def _argv_repr(args: Sequence[str]) -> str:
    # Masked as in a LaunchSpec's argv: the value after a secret-named flag too.
    from ._transport._base import argv_repr

    return argv_repr(args)


def _type_repr(value: Any) -> str:
    """``<TypeName>`` (``None`` as is): the repr of an object option that may hold credentials
    in its attributes (an official-style transport's URL or token), so none is shown."""
    return "None" if value is None else f"<{type(value).__name__}>"


def _check_delivery(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value not in ("initialize", "argv"):
        raise _fail(f"{attribute.name} must be 'initialize' or 'argv', got {value!r}")


def _default_mcp_servers() -> dict[str, McpServerConfig]:
    return {}


def _spec(
    *,
    check: Check,
    argv: Flag | Switch | Joined | Built | None = None,
    init: Init | Built | None = None,
    spawn: str | None = None,
    sdk: bool = False,
) -> dict[str, Any]:
    """An option's description, the metadata of its attrs field (see ``_option_spec``)."""
    return {"check": check, "argv": argv, "init": init, "spawn": spawn, "sdk": sdk}


def _delivery(default: Literal["initialize", "argv"]) -> Any:
    """A ``*_delivery`` option: how another option reaches the CLI (``"initialize"`` or
    ``"argv"``). Its own flags are the ``--await-initialize`` family, built with the others."""
    return attrs.field(
        default=default,
        validator=_check_delivery,
        metadata=_spec(check=_anything, argv=Built("await_initialize")),
    )


def _later(name: str) -> Check:
    """The check ``name(value)`` of this module, looked up when it runs (defined below)."""

    def check(field: str, value: Any) -> None:
        globals()[name](value)

    return check


def _anything(name: str, value: Any) -> None:
    """No check: any value (an object the SDK uses as it is, or a field checked elsewhere)."""


def task_budget_total(budget: Mapping[str, Any] | int) -> int:
    """``--task-budget``'s value: the ``total`` of ``{"total": N}``, or ``N``."""
    if isinstance(budget, Mapping):
        return int(budget["total"])
    return int(budget)


#: A standalone element of a list ``system_prompt``: the blocks before it are the static prefix,
#: cacheable across sessions; the blocks after it are specific to the session.
SYSTEM_PROMPT_DYNAMIC_BOUNDARY = "__SYSTEM_PROMPT_DYNAMIC_BOUNDARY__"

# --------------------------------------------------------------------------------------------
# The options
# --------------------------------------------------------------------------------------------


@dataclass_compatible
@attrs.frozen(kw_only=True)
class ClaudeAgentOptions:
    """Everything that configures a Claude Code session.

    Immutable; derive variants with ``attrs.evolve(options, model="...")`` or, as with the
    official SDK's dataclass, ``dataclasses.replace(options, model="...")``. Lists may be given as
    any sequence and are stored as tuples that also act as the official lists where nothing
    changes (``options.allowed_tools + ["Write"]`` is a list, ``options.allowed_tools ==
    ["Read"]`` compares the items; ``append`` raises: build a new value and
    ``dataclasses.replace``); paths may be ``str`` or ``os.PathLike`` and are stored
    as ``str``. Dict-valued fields are copied. Field names and meanings follow the official
    Python SDK; the trio-claude additions are at the end.

    Attributes:
        tools: Base set of built-in tools: a list of names (``[]`` for none) or
            ``{"type": "preset", "preset": "claude_code"}`` for the default set.
        allowed_tools: Tools approved without prompting (``--allowedTools``).
        disallowed_tools: Tools removed from the model's context (``--disallowedTools``).
        system_prompt: ``None`` (a minimal empty prompt, as the official Python SDK), a string,
            ``{"type": "preset", "preset": "claude_code", "append"?: str,
            "exclude_dynamic_sections"?: bool, "snapshot"?: bool}`` (Claude Code's own prompt),
            ``{"type": "custom", "prompt": str, "snapshot"?: bool}``,
            ``{"type": "file", "path": str}``, or a list of text blocks (sent in ``initialize``,
            as the TypeScript SDK sends ``string[]``), where a standalone
            :data:`SYSTEM_PROMPT_DYNAMIC_BOUNDARY` element splits the cacheable static prefix
            from the session-specific rest.
        mcp_servers: ``{name: config}`` (stdio/sse/http configs, in-process servers), or a path /
            JSON string for ``--mcp-config`` (a ``{"mcpServers": {...}}`` JSON string is split
            as a dict is; see ``mcp_servers_delivery``).
        strict_mcp_config: Ignore every MCP configuration but ``mcp_servers``.
        permission_mode: Initial permission mode (``default``, ``acceptEdits``, ``plan``,
            ``bypassPermissions``, ``dontAsk``, ``auto``).
        continue_conversation: Continue the most recent session in ``cwd`` (``--continue``).
        resume: Resume the session with this id (``--resume=<id>``).
        session_id: Use this UUID for the new session (``--session-id=<uuid>``).
        fork_session: When resuming, branch into a new session id.
        resume_session_at: Truncate the resumed transcript after this message UUID.
        resume_drops_turn: With ``resume_session_at``: the UUID of the turn the truncation drops
            (the CLI verifies it).
        max_turns: Maximum agentic turns per prompt.
        max_budget_usd: USD budget enforced by the CLI (result ``error_max_budget_usd``).
        task_budget: API-side token budget ``{"total": N}``.
        model: Model alias or id.
        fallback_model: Model(s) to fall back to when the main one is overloaded.
        betas: Anthropic beta headers.
        permission_prompt_tool_name: MCP tool that answers permission prompts.
        can_use_tool: Permission callback ``async (tool_name, input, context) -> allow/deny``.
        cwd: Working directory of the CLI.
        add_dirs: Extra directories the agent may access.
        settings: Extra settings: a file path, an inline JSON string, or a dict (inline ones are
            delivered as ``settings_delivery`` says).
        sandbox: Bash sandbox settings (the official ``SandboxSettings`` dict); merged into the
            inline settings under ``"sandbox"``.
        setting_sources: Which settings files to load (``user``, ``project``, ``local``);
            ``None`` lets the CLI decide (with ``skills`` set it defaults to user + project).
        skills: ``"all"`` or a list of skill names to enable.
        plugins: Local plugins, ``[{"type": "local", "path": ...}]``.
        agents: Programmatic subagents ``{name: AgentDefinition | dict}``.
        thinking: Thinking configuration (see :data:`ThinkingConfig`).
        max_thinking_tokens: Deprecated thinking budget; use ``thinking`` (which wins when
            both are given, as in the official SDK).
        effort: ``low``, ``medium``, ``high``, ``xhigh`` or ``max``.
        output_format: Structured output, ``{"type": "json_schema", "schema": {...}}``.
        include_partial_messages: Emit ``StreamEvent`` messages (token deltas).
        include_hook_events: Emit hook lifecycle system messages.
        forward_subagent_text: Forward subagents' text and thinking blocks.
        verbatim_prompts: Deliver prompt text literally (no ``@path`` or slash commands).
        hooks: In-process hooks ``{event: [HookMatcher, ...]}``.
        enable_file_checkpointing: Track file edits so ``rewind_files`` can undo them.
        session_store: Mirror transcripts to an external store.
        session_store_flush: ``"batched"`` (default) or ``"eager"`` mirroring.
        load_timeout_ms: Timeout per session-store load during resume.
        env: Environment variables merged over the parent environment for the CLI.
        extra_args: Arbitrary extra CLI flags ``{"flag": "value" | None}``.
        cli_path: The ``claude`` binary to run (default: discovered, see ``find_cli``).
        stderr: Callback receiving the CLI's stderr line by line.
        user: OS user to run the CLI as.
        client_app: Application label added to the CLI's User-Agent.
        max_buffer_size: Official name of the per-line size limit; when set it overrides
            ``max_line_bytes``.
        debug_stderr: Deprecated and ignored (as in the official SDK); use ``stderr``.
        persist_session: ``False``: keep no transcript on disk (``--no-session-persistence``).
        title: Title for a new session.
        agent: Main-thread agent name (``--agent``).
        permission_prompts: ``"host"`` or ``"none"`` (nothing answers prompts; would-prompt
            calls are denied).
        allow_dangerously_skip_permissions: Safety latch for ``bypassPermissions``.
        debug: CLI debug logging (``--debug``).
        debug_file: Write CLI debug logs to this file.
        tool_aliases: Map model-emitted tool names to other tools.
        plan_mode_instructions: Custom plan-mode workflow text.
        prompt_suggestions: Emit a predicted next prompt after each turn.
        agent_progress_summaries: Periodic subagent progress summaries.
        extra_initialize_fields: Extra fields merged into the ``initialize`` request.
        mcp_servers_delivery: How stdio/sse/http ``mcp_servers`` reach the CLI: ``"initialize"``
            (default) sends them in the ``initialize`` request (``--await-initialize``), keeping
            their ``env`` and ``headers`` off the command line, where every local user can read
            them (``/proc/<pid>/cmdline``); ``"argv"`` passes them in ``--mcp-config``.
            In-process servers always go in ``--mcp-config`` (they carry no credentials).
        settings_delivery: How inline ``settings`` (a dict or JSON string, with ``sandbox``
            merged in) reach the CLI: ``"initialize"`` (default) sends them in the
            ``initialize`` request (``--initialize-fields=settings``), off the command line;
            ``"argv"`` passes them in ``--settings``. A settings file path is always passed on
            the command line.
        project_config_root: The trusted checkout ``cwd`` is a worktree of: project settings,
            ``.mcp.json``, the ``.claude`` trees and ``CLAUDE_PROJECT_DIR`` come from there
            instead of ``cwd`` (``--project-config-root``). Absolute path.
        managed_settings: Policy-tier settings from the embedding program (restrictive keys
            only; the CLI drops the rest), enforced on the CLI without writing root-owned files.
        managed_settings_delivery: ``"argv"`` (default, as the TypeScript SDK):
            ``--managed-settings <json>``; ``"initialize"``: in the ``initialize`` request
            (``--managed-settings-in-initialize``); the CLI refuses to start without them.
        plugin_delivery: ``"argv"`` (default): one ``--plugin-dir`` per plugin;
            ``"initialize"``: the list goes in the ``initialize`` request, so the command line
            does not grow with the plugin count (the reply's ``plugins_applied`` confirms).
        additional_directories_delivery: ``"argv"`` (default): one ``--add-dir`` per
            directory; ``"initialize"``: ``add_dirs`` go in the ``initialize`` request
            (the TypeScript SDK's option; Claude Code 2.1.332 does not take it yet and refuses
            to start, saying so: a ``ProcessError``).
        disallowed_tools_delivery: ``"argv"`` (default): ``--disallowedTools``;
            ``"initialize"``: in the ``initialize`` request.
        executable: A JavaScript runtime (``"node"``, ``"bun"``, ``"deno"`` or a path) to run
            a CLI given as a ``.js``/``.mjs``/``.cjs``/``.ts`` file; ignored for a native CLI.
        executable_args: Arguments for that runtime, before the CLI's path (with a native CLI,
            they come first among the CLI's own arguments).
        tool_config: Per-tool settings of built-in tools:
            ``{"askUserQuestion": {"previewFormat": "markdown" | "html"}}`` (snake case
            accepted), passed in the CLI's environment.
        per_task_stop_affordance: Declares that this program can stop background tasks one by
            one (``Session.stop_task``), so an interrupt spares them (initialize
            ``perTaskStopAffordance``); without it an interrupt kills them too.
        budget: A shared ``Budget`` charged by this session.
        stall_timeout: Seconds without any frame from the CLI before the turn is interrupted
            and ``StallTimeoutError`` is raised (``None``: no watchdog), whichever way the turn
            is received (``run()``, ``receive_response()``, ``receive_messages()``, the
            official client's streams, ``query()``). While one of our callbacks runs the CLI
            waits for us, so that does not count: the clock starts again when the answer is
            sent. An announced API retry (``ApiRetryMessage.retry_delay_ms``) adds its delay,
            until the next frame.
        process_limiter: A ``trio.CapacityLimiter`` shared by sessions to bound how many CLI
            processes run at once: a session takes a token before spawning and returns it when
            closed (opening waits meanwhile).
        resource_limits: A ``ResourceLimits``: memory and CPU of the CLI's process tree (the CLI
            and its tools), watched from ``/proc`` (Linux), and its open-file rlimit; on excess
            the tree is killed and the session fails with ``ResourceLimitError``. Needs the
            built-in subprocess transport (``Transport.supports_resource_limits``).
        control_timeout: Seconds to wait for the answer to a control request.
        initialize_timeout: Seconds to wait for the answer to ``initialize``. A CLI that does
            not answer in time is stopped with SIGTERM at once (no ``close_timeout`` grace).
        interrupt_timeout: Seconds to wait for the interrupted result after a cancelled turn.
        close_timeout: Seconds to wait for a clean exit after stdin is closed.
        max_line_bytes: Largest line accepted from the CLI.
        max_buffered_bytes: Bytes of undelivered messages queued before reading pauses.
        transport: A custom transport (e.g. a container or ssh spawn).
        telemetry: OpenTelemetry spans for the session, its turns, tool uses, control requests
            and callbacks, and the session's trace context passed to the CLI as
            ``TRACEPARENT``/``TRACESTATE`` (docs/telemetry.md). ``None`` (default): on when the
            program has configured OpenTelemetry (the ``otel`` extra), free otherwise;
            ``True``: on, with the global tracer provider; a ``TracerProvider``: on, with it;
            ``False``: off.
        on_elicitation: Callback answering MCP elicitation requests:
            ``async (ElicitationRequest) -> ElicitationResult | dict | None``. Without one
            (or when it fails) elicitations are declined.
        on_user_dialog: Callback answering ``request_user_dialog`` (a blocking dialog a tool asks
            the host to render): ``async (UserDialogRequest) -> UserDialogResult | dict | None``.
            ``None``, or a callback that fails, answers ``cancelled`` (the dialog's default).
        supported_dialog_kinds: The ``dialog_kind`` values ``on_user_dialog`` renders (sent in
            ``initialize``; the CLI sends no other kind). Needs ``on_user_dialog``.
        can_use_tool_timeout: Seconds ``can_use_tool`` may take before the call is denied
            (``None``: no bound; the CLI itself waits forever for a permission answer).
    """

    # Each option is described once, here: its check and where it goes (``metadata=_spec(...)``,
    # see _option_spec.py), which validation, the command line, initialize and the docs read.
    # --- tools and permissions ---
    tools: tuple[str, ...] | dict[str, Any] | None = attrs.field(
        default=None,
        converter=_tools,
        hash=False,
        metadata=_spec(check=_later("_check_tools"), argv=Built("tools")),
    )
    allowed_tools: tuple[str, ...] = attrs.field(
        default=EMPTY_LIST_TUPLE,
        converter=_allowed_tools,
        metadata=_spec(check=texts(), argv=Built("allowed_tools")),
    )
    disallowed_tools: tuple[str, ...] = attrs.field(
        default=EMPTY_LIST_TUPLE,
        converter=_disallowed_tools,
        metadata=_spec(
            check=texts(), argv=Built("disallowed_tools"), init=Built("disallowed_tools")
        ),
    )
    permission_mode: PermissionMode | None = attrs.field(
        default=None, metadata=_spec(check=choice(PERMISSION_MODES), argv=Flag("--permission-mode"))
    )
    permission_prompt_tool_name: str | None = attrs.field(
        default=None,
        metadata=_spec(check=text(nonempty=True), argv=Built("permission_prompt_tool")),
    )
    can_use_tool: CanUseTool | None = attrs.field(
        default=None,
        metadata=_spec(check=_later("_check_can_use_tool"), argv=Built("permission_prompt_tool")),
    )
    # --- prompt and model ---
    system_prompt: str | tuple[str, ...] | dict[str, Any] | None = attrs.field(
        default=None,
        converter=_system_prompt,
        hash=False,
        metadata=_spec(
            check=_later("_check_system_prompt"),
            argv=Built("system_prompt"),
            init=Built("system_prompt"),
        ),
    )
    model: str | None = attrs.field(
        default=None, metadata=_spec(check=text(nonempty=True), argv=Flag("--model"))
    )
    fallback_model: str | None = attrs.field(
        default=None, metadata=_spec(check=text(nonempty=True), argv=Flag("--fallback-model"))
    )
    betas: tuple[str, ...] = attrs.field(
        default=EMPTY_LIST_TUPLE,
        converter=_betas,
        metadata=_spec(check=texts(), argv=Joined("--betas")),
    )
    thinking: ThinkingConfig | None = attrs.field(
        default=None,
        hash=False,
        metadata=_spec(check=_later("_check_thinking"), argv=Built("thinking")),
    )
    max_thinking_tokens: int | None = attrs.field(
        default=None, metadata=_spec(check=integer(minimum=0), argv=Built("thinking"))
    )
    effort: EffortLevel | int | None = attrs.field(
        default=None, metadata=_spec(check=_later("_check_effort"), argv=Flag("--effort"))
    )
    output_format: dict[str, Any] | None = attrs.field(
        default=None,
        converter=_opt_dict,
        hash=False,
        metadata=_spec(check=_later("_check_output_format"), argv=Built("output_format")),
    )
    # --- MCP ---
    mcp_servers: dict[str, McpServerConfig] | str = attrs.field(
        factory=_default_mcp_servers,
        converter=_mcp_servers,
        hash=False,
        repr=redact_repr,
        metadata=_spec(
            check=_later("_check_mcp_servers"), argv=Built("mcp_servers"), init=Built("mcp_servers")
        ),
    )
    strict_mcp_config: bool = attrs.field(
        default=False, metadata=_spec(check=truth(), argv=Switch("--strict-mcp-config"))
    )
    # --- sessions ---
    continue_conversation: bool = attrs.field(
        default=False, metadata=_spec(check=truth(), argv=Switch("--continue"))
    )
    resume: str | None = attrs.field(
        default=None, metadata=_spec(check=_later("_check_resume"), argv=Flag("--resume"))
    )
    session_id: str | None = attrs.field(
        default=None, metadata=_spec(check=_later("_check_session_id"), argv=Flag("--session-id"))
    )
    fork_session: bool = attrs.field(
        default=False, metadata=_spec(check=truth(), argv=Switch("--fork-session"))
    )
    resume_session_at: str | None = attrs.field(
        default=None, metadata=_spec(check=text(), argv=Flag("--resume-session-at"))
    )
    # Sent even when empty: the CLI then rejects it instead of the guard being disarmed.
    resume_drops_turn: str | None = attrs.field(
        default=None, metadata=_spec(check=text(), argv=Flag("--resume-drops-turn"))
    )
    # --- limits ---
    max_turns: int | None = attrs.field(
        default=None, metadata=_spec(check=integer(minimum=1), argv=Flag("--max-turns"))
    )
    max_budget_usd: float | None = attrs.field(
        default=None,
        metadata=_spec(check=_later("_check_max_budget_usd"), argv=Flag("--max-budget-usd")),
    )
    task_budget: dict[str, Any] | int | None = attrs.field(
        default=None,
        hash=False,
        metadata=_spec(
            check=_later("_check_task_budget"),
            argv=Flag("--task-budget", value=lambda v: task_budget_total(v)),
        ),
    )
    # --- environment ---
    cwd: str | None = attrs.field(
        default=None,
        converter=_cwd,
        metadata=_spec(check=text(nonempty=True), spawn="cwd"),
    )
    add_dirs: tuple[str, ...] = attrs.field(
        default=EMPTY_LIST_TUPLE,
        converter=_path_tuple,
        metadata=_spec(check=texts(), argv=Built("add_dirs"), init=Built("add_dirs")),
    )
    settings: str | dict[str, Any] | None = attrs.field(
        default=None,
        converter=_str_or_dict,
        hash=False,
        repr=redact_repr,
        metadata=_spec(
            check=_later("_check_settings"), argv=Built("settings"), init=Built("settings")
        ),
    )
    sandbox: SandboxSettings | None = attrs.field(
        default=None,
        converter=_opt_dict,
        hash=False,
        metadata=_spec(
            check=_later("_check_sandbox"), argv=Built("settings"), init=Built("settings")
        ),
    )
    setting_sources: tuple[SettingSource, ...] | None = attrs.field(
        default=None,
        converter=_setting_sources,
        metadata=_spec(check=_later("_check_setting_sources"), argv=Built("setting_sources")),
    )
    skills: Literal["all"] | tuple[str, ...] | None = attrs.field(
        default=None,
        converter=_skills,
        metadata=_spec(
            check=_later("_check_skills"),
            argv=Built("allowed_tools"),
            init=Init("skills", value=lambda v: list(v) if isinstance(v, tuple) else None),
        ),
    )
    plugins: tuple[dict[str, Any], ...] = attrs.field(
        default=EMPTY_LIST_TUPLE,
        converter=_plugins,
        hash=False,
        metadata=_spec(
            check=_later("_check_plugins"), argv=Built("plugins"), init=Built("plugins")
        ),
    )
    agents: dict[str, AgentDefinition | dict[str, Any]] | None = attrs.field(
        default=None,
        converter=_opt_dict,
        hash=False,
        repr=redact_repr,
        metadata=_spec(check=_later("_check_agents"), init=Built("agents")),
    )
    env: dict[str, str] = attrs.field(
        factory=dict,
        converter=_dict,
        hash=False,
        repr=_redact_env,
        metadata=_spec(check=_later("_check_env"), spawn="env"),
    )
    extra_args: dict[str, str | None] = attrs.field(
        factory=dict,
        converter=_dict,
        hash=False,
        repr=redact_repr,
        metadata=_spec(check=_later("_check_extra_args"), argv=Built("extra_args")),
    )
    cli_path: str | None = attrs.field(
        default=None,
        converter=_cli_path,
        metadata=_spec(check=_later("_check_cli_path"), spawn="argv0"),
    )
    user: str | None = attrs.field(
        default=None, metadata=_spec(check=text(nonempty=True), spawn="user")
    )
    client_app: str | None = attrs.field(default=None, metadata=_spec(check=text(), spawn="env"))
    # --- output ---
    include_partial_messages: bool = attrs.field(
        default=False, metadata=_spec(check=truth(), argv=Switch("--include-partial-messages"))
    )
    include_hook_events: bool = attrs.field(
        default=False, metadata=_spec(check=truth(), argv=Switch("--include-hook-events"))
    )
    forward_subagent_text: bool = attrs.field(
        default=False,
        metadata=_spec(check=truth(), init=Init("forwardSubagentText", only_true=True)),
    )
    verbatim_prompts: bool = attrs.field(default=False, metadata=_spec(check=truth(), sdk=True))
    stderr: Callable[[str], object] | None = attrs.field(
        default=None,
        metadata=_spec(check=function("taking one line of text", "stderr(line)", 1), sdk=True),
    )
    max_buffer_size: int | None = attrs.field(
        default=None, metadata=_spec(check=integer(minimum=1), sdk=True)
    )
    debug_stderr: Any = attrs.field(default=None, metadata=_spec(check=_anything, sdk=True))
    # --- hooks, checkpointing, session store ---
    hooks: dict[HookEvent, list[HookMatcher]] | None = attrs.field(
        default=None,
        converter=_opt_dict,
        hash=False,
        metadata=_spec(check=_later("_check_hooks"), init=Built("hooks")),
    )
    enable_file_checkpointing: bool = attrs.field(
        default=False, metadata=_spec(check=truth(), spawn="env")
    )
    session_store: Any = attrs.field(
        default=None,
        metadata=_spec(
            check=_later("_check_session_store"), argv=Switch("--session-mirror", when="set")
        ),
    )
    session_store_flush: Literal["batched", "eager"] = attrs.field(
        default="batched", metadata=_spec(check=choice(_SESSION_STORE_FLUSH), sdk=True)
    )
    load_timeout_ms: int = attrs.field(
        default=60_000, metadata=_spec(check=integer(minimum=0, optional=False), sdk=True)
    )
    # --- options the official TypeScript SDK has and the CLI understands ---
    persist_session: bool = attrs.field(
        default=True,
        metadata=_spec(check=truth(), argv=Switch("--no-session-persistence", when=False)),
    )
    title: str | None = attrs.field(default=None, metadata=_spec(check=text(), init=Init("title")))
    agent: str | None = attrs.field(
        default=None, metadata=_spec(check=text(nonempty=True), argv=Flag("--agent"))
    )
    permission_prompts: Literal["host", "none"] | None = attrs.field(
        default=None,
        metadata=_spec(check=choice(_PERMISSION_PROMPTS), argv=Flag("--permission-prompts")),
    )
    allow_dangerously_skip_permissions: bool = attrs.field(
        default=False,
        metadata=_spec(check=truth(), argv=Switch("--allow-dangerously-skip-permissions")),
    )
    debug: bool = attrs.field(default=False, metadata=_spec(check=truth(), argv=Switch("--debug")))
    debug_file: str | None = attrs.field(
        default=None,
        converter=_debug_file,
        metadata=_spec(check=text(nonempty=True), argv=Flag("--debug-file")),
    )
    tool_aliases: dict[str, str] | None = attrs.field(
        default=None,
        converter=_opt_dict,
        hash=False,
        metadata=_spec(check=_later("_check_tool_aliases"), init=Init("toolAliases", value=dict)),
    )
    plan_mode_instructions: str | None = attrs.field(
        default=None, metadata=_spec(check=text(), init=Init("planModeInstructions"))
    )
    prompt_suggestions: bool | None = attrs.field(
        default=None, metadata=_spec(check=truth(optional=True), init=Init("promptSuggestions"))
    )
    agent_progress_summaries: bool | None = attrs.field(
        default=None,
        metadata=_spec(check=truth(optional=True), init=Init("agentProgressSummaries")),
    )
    extra_initialize_fields: dict[str, Any] = attrs.field(
        factory=dict,
        converter=_dict,
        hash=False,
        repr=redact_repr,
        metadata=_spec(
            check=_later("_check_extra_initialize_fields"), init=Built("extra_initialize_fields")
        ),
    )
    mcp_servers_delivery: Literal["initialize", "argv"] = _delivery("initialize")
    settings_delivery: Literal["initialize", "argv"] = _delivery("initialize")
    project_config_root: str | None = attrs.field(
        default=None,
        converter=_project_config_root,
        metadata=_spec(
            check=_later("_check_project_config_root"), argv=Flag("--project-config-root")
        ),
    )
    managed_settings: dict[str, Any] | None = attrs.field(
        default=None,
        converter=_opt_dict,
        hash=False,
        repr=redact_repr,
        metadata=_spec(
            check=_later("_check_managed_settings"),
            argv=Built("managed_settings"),
            init=Built("managed_settings"),
        ),
    )
    managed_settings_delivery: Literal["initialize", "argv"] = _delivery("argv")
    plugin_delivery: Literal["initialize", "argv"] = _delivery("argv")
    additional_directories_delivery: Literal["initialize", "argv"] = _delivery("argv")
    disallowed_tools_delivery: Literal["initialize", "argv"] = _delivery("argv")
    executable: str | None = attrs.field(
        default=None, metadata=_spec(check=text(nonempty=True), spawn="argv0")
    )
    executable_args: tuple[str, ...] = attrs.field(
        default=EMPTY_LIST_TUPLE,
        converter=_executable_args,
        repr=_argv_repr,  # masked as in the launch's argv
        metadata=_spec(check=texts(), spawn="argv0"),
    )
    tool_config: dict[str, Any] | None = attrs.field(
        default=None,
        converter=_opt_dict,
        hash=False,
        metadata=_spec(check=_later("_check_tool_config"), spawn="env"),
    )
    per_task_stop_affordance: bool | None = attrs.field(
        default=None, metadata=_spec(check=truth(optional=True), init=Init("perTaskStopAffordance"))
    )
    # --- trio-claude ---
    budget: Any = attrs.field(default=None, metadata=_spec(check=_later("_check_budget"), sdk=True))
    stall_timeout: float | None = attrs.field(
        default=None, metadata=_spec(check=seconds(positive=True, optional=True), sdk=True)
    )
    control_timeout: float = attrs.field(
        default=60.0, metadata=_spec(check=seconds(positive=True), sdk=True)
    )
    initialize_timeout: float = attrs.field(
        default=60.0, metadata=_spec(check=seconds(positive=True), sdk=True)
    )
    interrupt_timeout: float = attrs.field(
        default=5.0, metadata=_spec(check=seconds(positive=False), sdk=True)
    )
    close_timeout: float = attrs.field(
        default=5.0, metadata=_spec(check=seconds(positive=False), sdk=True)
    )
    max_line_bytes: int = attrs.field(
        default=64 * 1024 * 1024, metadata=_spec(check=integer(minimum=1, optional=False), sdk=True)
    )
    max_buffered_bytes: int = attrs.field(
        default=256 * 1024 * 1024,
        metadata=_spec(check=integer(minimum=1, optional=False), sdk=True),
    )
    transport: Any = attrs.field(
        default=None,
        repr=_type_repr,  # its attributes may hold credentials (a URL's password, a token)
        metadata=_spec(check=_later("check_transport"), sdk=True),
    )
    on_elicitation: ElicitationCallback | None = attrs.field(
        default=None,
        metadata=_spec(check=function("async, or plain", "on_elicitation(request)", 1), sdk=True),
    )
    on_user_dialog: UserDialogCallback | None = attrs.field(
        default=None,
        metadata=_spec(check=function("async, or plain", "on_user_dialog(request)", 1), sdk=True),
    )
    supported_dialog_kinds: tuple[str, ...] = attrs.field(
        default=EMPTY_LIST_TUPLE,
        converter=_supported_dialog_kinds,
        metadata=_spec(
            check=texts(), init=Init("supportedDialogKinds", value=lambda v: list(v) or None)
        ),
    )
    can_use_tool_timeout: float | None = attrs.field(
        default=None, metadata=_spec(check=seconds(positive=True, optional=True), sdk=True)
    )
    process_limiter: Any = attrs.field(
        default=None, eq=False, metadata=_spec(check=_later("_check_process_limiter"), sdk=True)
    )
    resource_limits: ResourceLimits | None = attrs.field(
        default=None, metadata=_spec(check=_later("_check_resource_limits"), sdk=True)
    )
    telemetry: Any = attrs.field(
        default=None, eq=False, metadata=_spec(check=lambda name, v: check_telemetry(v), sdk=True)
    )

    @property
    def effective_max_line_bytes(self) -> int:
        """The per-line limit in force, ``max_buffer_size`` if set, else ``max_line_bytes``."""
        return self.max_buffer_size if self.max_buffer_size is not None else self.max_line_bytes


def _suggesting_names(cls: type[Any], names: Sequence[str]) -> None:
    """Makes ``cls(...)`` with a misspelt keyword say which name was meant.

    Python's own ``TypeError`` names the unknown keyword only; with ~90 options, the one meant
    is rarely obvious (``allowed_tool``, ``include_partial_message``). The wrapper costs one
    call; the signature (``inspect``, docs) is the wrapped one's.
    """
    import functools
    import inspect

    init = cls.__init__
    # Every keyword __init__ takes (AgentDefinition's official camelCase ones too): only a
    # name it does not take is unknown.
    known = frozenset(names) | frozenset(inspect.signature(init).parameters)

    @functools.wraps(init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        try:
            init(self, *args, **kwargs)
        except TypeError as exc:
            unknown = [name for name in kwargs if name not in known]
            if not unknown or "unexpected keyword argument" not in str(exc):
                raise
            message = _unknown_names(type(self).__name__, unknown, names)
            # Not locals of the frame the error is raised in: the options as given (env values,
            # MCP headers) and an instance whose __init__ never ran (its repr fails).
            del self, args, kwargs
            raise TypeError(message) from exc

    cls.__init__ = __init__


def _unknown_names(owner: str, unknown: list[str], names: Sequence[str]) -> str:
    import difflib

    parts = []
    for name in unknown:
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
        if not close:  # a case slip scores low on the raw names
            folded = {n.lower(): n for n in names}
            close = [folded[m] for m in difflib.get_close_matches(name.lower(), folded, n=1)]
        parts.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    return (
        f"{owner}() got unexpected keyword argument{'s' if len(parts) > 1 else ''} "
        f"{', '.join(parts)}"
    )


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------

# The fields as parallel tuples, for the checks that run at every open: one ``attrgetter`` call
# fetches all ~90 values, and the options left at their default (most of them) are skipped at
# once. A field made by a factory (an empty list or dict) counts as left at its default when its
# value is an empty container of the factory's type: every default passes its checks, and an
# empty container is checked exactly as the default is.
_FIELDS = attrs.fields(ClaudeAgentOptions)
_NAMES: tuple[str, ...] = tuple(field.name for field in _FIELDS)
_suggesting_names(ClaudeAgentOptions, _NAMES)
_suggesting_names(AgentDefinition, [f.name for f in attrs.fields(AgentDefinition)])
_values_of: Callable[[ClaudeAgentOptions], tuple[Any, ...]] = operator.attrgetter(*_NAMES)
_DEFAULTS: tuple[Any, ...] = tuple(field.default for field in _FIELDS)


def _empty_type(default: Any) -> type | None:
    if isinstance(default, attrs.Factory) and not default.takes_self:  # type: ignore[arg-type]
        return type(default.factory())
    return None


_EMPTY_TYPES: tuple[type | None, ...] = tuple(_empty_type(field.default) for field in _FIELDS)


def _changed(o: ClaudeAgentOptions) -> list[tuple[str, Any]]:
    """``(name, value)`` of the options not left at their default, in declaration order."""
    values = _values_of(o)
    return [
        (name, value)
        for name, value, default, empty in zip(_NAMES, values, _DEFAULTS, _EMPTY_TYPES, strict=True)
        if value is not default and not (value.__class__ is empty and not value)
    ]


def not_options_error(value: object) -> ConfigurationError:
    """What to raise for ``options`` that are not a :class:`ClaudeAgentOptions`."""
    hint = " (from a dict: ClaudeAgentOptions(**d))" if isinstance(value, Mapping) else ""
    return _fail(f"options must be a ClaudeAgentOptions, got {type(value).__name__}{hint}")


def _whole_tool(entry: Any) -> str | None:
    """The tool an ``allowed_tools`` entry allows outright (``"Read"``, ``"Read()"``,
    ``"Read(*)"``), else ``None`` (``"Bash(ls:*)"`` allows some calls only; a malformed entry
    names no tool the CLI knows)."""
    if not isinstance(entry, str) or not entry.strip():
        return None
    head, paren, rest = entry.partition("(")
    if not paren:
        return entry
    if not head or not rest.endswith(")"):
        return None
    return head if rest[:-1] in ("", "*") else None


def warn_if_can_use_tool_shadowed(options: ClaudeAgentOptions) -> None:
    """Warns (:class:`~trio_claude.CanUseToolShadowedWarning`, as the official SDK does on
    ``connect()`` and ``query()``) when ``can_use_tool`` is set but some calls are approved
    before it is asked: ``permission_mode="bypassPermissions"``, or ``allowed_tools`` entries
    that allow a whole tool (``skills="all"`` adds ``Skill``). Advice only: it may be meant.

    The entries it quotes are masked (:func:`~trio_claude._redact.redact`): by shape (a pasted
    ``ANTHROPIC_API_KEY=sk-ant-...``) and by the values the session masks (the secrets of
    ``options.env`` over this process's environment, ``mcp_servers``, ``settings``...).
    """
    if options.can_use_tool is None:
        return
    if options.permission_mode == "bypassPermissions":
        # The official SDK's first sentences (code may filter warnings on them).
        message = (
            "can_use_tool will not be invoked: permission_mode 'bypassPermissions' "
            "auto-approves every tool call (except explicit deny rules) before the callback is "
            "consulted. To gate every tool call, use a PreToolUse hook instead."
        )
    else:
        entries = [*(options.allowed_tools or ())]
        if options.skills == "all":
            entries.append("Skill")
        tools = dict.fromkeys(t for t in map(_whole_tool, entries) if t is not None)
        if not tools:
            return
        from ._transport._command import session_secrets

        secrets = session_secrets(options, {**os.environ, **options.env})
        named = redact(", ".join(tools), secrets)
        message = (
            f"can_use_tool will not be invoked for: {named}. An allowed_tools entry "
            "that allows a whole tool auto-approves it before the callback is consulted. To "
            "gate every tool call, use a PreToolUse hook, or narrow the entry so its calls "
            "reach can_use_tool. Allow rules in settings files can shadow the callback too, "
            "unseen here."
        )
    from ._official_types import CanUseToolShadowedWarning

    warnings.warn(message, CanUseToolShadowedWarning, stacklevel=3)


def initialize_timeout(options: ClaudeAgentOptions) -> float:
    """``options.initialize_timeout``, or longer when ``CLAUDE_CODE_STREAM_CLOSE_TIMEOUT`` (ms,
    in this process's environment) says so: the official SDK waits ``max(that, 60 s)``, and
    code written for it sets the variable for CLIs slow to start."""
    raw = os.environ.get("CLAUDE_CODE_STREAM_CLOSE_TIMEOUT")
    if raw is None:
        return options.initialize_timeout
    try:
        seconds = float(raw) / 1000
    except ValueError:
        return options.initialize_timeout
    if not math.isfinite(seconds):
        return options.initialize_timeout
    return max(options.initialize_timeout, seconds)


def validate_options(options: ClaudeAgentOptions) -> None:
    """Check options before anything is spawned.

    Args:
        options: The options to check.

    Raises:
        ConfigurationError: With a message naming the offending field, for wrong types or
            values, text the CLI cannot be given (a NUL byte in a value that becomes a
            command-line argument, an environment variable or a path; a lone surrogate in any
            value sent to the CLI), contradictory combinations (the official SDKs' rules and the
            CLI's own), and fields whose runtime is not implemented yet (:data:`UNWIRED_FIELDS`).
    """
    if not isinstance(options, ClaudeAgentOptions):
        raise not_options_error(options)
    changed = _changed(options)
    _check_text(changed)
    _check_values(changed)
    _check_combinations(options)
    _check_unwired(options)
    if options.debug_stderr is not None:
        warn_user(
            "ClaudeAgentOptions.debug_stderr is deprecated and ignored; use stderr=callback",
            DeprecationWarning,
        )


def is_sdk_server(config: Any) -> bool:
    """Whether an ``mcp_servers`` entry is an in-process (``type: sdk``) server."""
    if isinstance(config, Mapping):
        return config.get("type") == "sdk"
    return getattr(config, "type", None) == "sdk"


def sdk_server_names(options: ClaudeAgentOptions) -> list[str]:
    """The names (``mcp_servers`` keys) of the in-process MCP servers."""
    if not isinstance(options.mcp_servers, Mapping):
        return []
    return [name for name, cfg in options.mcp_servers.items() if is_sdk_server(cfg)]


def _is_set(value: Any, default: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, (Mapping, tuple, list)) and not value:
        return False
    return bool(value != default)


def _check_unwired(options: ClaudeAgentOptions) -> None:
    if not UNWIRED_FIELDS:
        return  # every option is implemented (the usual case: nothing to build per session)
    defaults: dict[str, Any] = {}
    for field in attrs.fields(ClaudeAgentOptions):
        default: Any = field.default
        if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            default = default.factory()
        defaults[field.name] = default
    for name in sorted(UNWIRED_FIELDS):
        if name == "sdk_mcp_servers":
            for server in sdk_server_names(options):
                raise _fail(
                    f"mcp_servers[{server!r}] (an in-process 'sdk' server) is not supported yet "
                    "by this version of trio-claude"
                )
            continue
        if _is_set(getattr(options, name), defaults[name]):
            raise _fail(f"{name} is not supported yet by this version of trio-claude")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# The shared checks, for values inside options (the option-level ones are in _option_spec).


def _check_str(name: str, value: Any, *, optional: bool = True) -> None:
    if value is None and not optional:
        raise _fail(f"{name} must be a string, got NoneType")
    text()(name, value)


def _check_bool(name: str, value: Any, *, optional: bool = False) -> None:
    truth(optional=optional)(name, value)


def _check_int(name: str, value: Any, *, minimum: int, optional: bool = True) -> None:
    integer(minimum=minimum, optional=optional)(name, value)


def _check_str_items(name: str, values: Iterable[Any]) -> None:
    texts()(name, values)


def _check_choice(name: str, value: Any, choices: frozenset[str]) -> None:
    choice(choices)(name, value)


# --- Text the CLI cannot be given: NUL bytes and lone surrogates ---------------------------
#
# _check_text() walks every field's value generically (strings, os.PathLike, and the lists,
# tuples, sets, dicts and option classes nested in them) and checks each string (dict keys too)
# by where it goes, as _transport/_command.py (build_argv, build_env, build_initialize) and
# _transport/_process.py use the fields:
#
# * By default a field's strings are refused a NUL and a lone surrogate ("\ud83d"). Most fields
#   become command-line arguments (build_argv): exec() takes C strings, so a NUL cannot be passed
#   at all (Python fails at spawn with a bare ValueError("embedded null byte")), and the CLI reads
#   its arguments as UTF-8 text, so a lone surrogate cannot be passed either (exec cannot encode
#   it; an undecodable byte smuggled in by surrogateescape, U+DC80..U+DCFF, would reach the CLI
#   as U+FFFD). The fields sent as JSON instead (inline `settings`, `sandbox` and a dict
#   `mcp_servers`, as one json.dumps'd argument or in the initialize request, whichever
#   their *_delivery option says; `agents`, hook matchers, `tool_aliases`, `skills` in the
#   initialize request, encoded with orjson) could carry a NUL (JSON writes it as the
#   escape \u0000), but the CLI hands their strings on to the OS in turn: MCP server commands,
#   arguments and environments (also inside agents), settings' env and hook commands, sandbox
#   paths, tool and model names. So they are refused it too; and a lone surrogate everywhere
#   (orjson cannot encode it; json.dumps would escape it, handing the CLI broken text). A new
#   field is checked this strictly until it is listed below.
# * _OS_FIELDS are handed to the OS by Python itself and are not read as text by the CLI: the
#   working directory (also $PWD), the executable, the environment, the user to run as. NUL is
#   refused; a lone surrogate only if os.fsencode() cannot encode it, so a file name or an
#   environment value with undecodable bytes (os.listdir, os.environ: surrogateescape) works.
# * _NUL_ALLOWED_FIELDS are free text or opaque JSON that only ever reach the CLI inside JSON
#   (the initialize request; output_format's schema as one json.dumps'd --json-schema value) and
#   that the CLI does not use as an OS string: a NUL is encoded as \u0000 and harmless there, so
#   it is allowed. A lone surrogate is still refused (orjson cannot encode it).
# * _NOT_SENT_FIELDS hold callbacks and Python objects (the transport, the session store, the
#   budget, ...) that never become text. Nested callables and objects are skipped everywhere
#   (hook callbacks, in-process MCP server objects and their "instance"): they are not sent.
_OS_FIELDS = frozenset({"cwd", "cli_path", "env", "user"})
_NUL_ALLOWED_FIELDS = frozenset(
    {"title", "plan_mode_instructions", "output_format", "extra_initialize_fields"}
)
_NOT_SENT_FIELDS = frozenset(
    {
        "can_use_tool",
        "stderr",
        "debug_stderr",
        "session_store",
        "budget",
        "transport",
        "on_elicitation",
        "on_user_dialog",
        "process_limiter",
        "resource_limits",
        "telemetry",
    }
)
#: Option classes found inside field values, walked by their attributes.
_WALKED_CLASSES = (
    AgentDefinition,
    HookMatcher,
    ThinkingConfigAdaptive,
    ThinkingConfigEnabled,
    ThinkingConfigDisabled,
)


def _short_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _texts(value: Any, path: str, *, named: bool = True) -> Iterator[tuple[str, str | bytes]]:
    """Every string (and bytes) in ``value``, with its path (``plugins[0]['path']``).

    ``named=False`` gives ``path`` for every string: the paths are only wanted to report a
    string that is refused, and making them (a repr of every key) was most of the walk's cost.
    """
    stack: list[tuple[str, Any]] = [(path, value)]
    seen: set[int] = set()
    while stack:
        where, item = stack.pop()
        if isinstance(item, (str, bytes)):
            yield where, item
            continue
        if isinstance(item, os.PathLike):
            try:
                yield where, os.fspath(item)
            except TypeError:
                pass  # not a usable path: the type checks report it
            continue
        children: list[tuple[str, Any]] = []
        if isinstance(item, Mapping):
            for key, sub in item.items():
                if named:
                    children.append((f"{where} key {_short_repr(key)}", key))
                    children.append((f"{where}[{_short_repr(key)}]", sub))
                else:
                    children += ((where, key), (where, sub))
        elif isinstance(item, (list, tuple)):
            children = [(f"{where}[{i}]" if named else where, sub) for i, sub in enumerate(item)]
        elif isinstance(item, (set, frozenset)):
            children = [(f"{where} entry" if named else where, sub) for sub in item]
        elif isinstance(item, _WALKED_CLASSES):
            children = [
                (f"{where}.{f.name}" if named else where, getattr(item, f.name))
                for f in attrs.fields(type(item))
            ]
        else:
            continue  # numbers, None, callables, objects that are not sent as text
        if id(item) in seen:
            continue
        seen.add(id(item))
        stack.extend(reversed(children))


def _text_is_fine(item: str | bytes, name: str, nul_allowed: bool) -> bool:
    """Whether ``_check_text`` lets ``item`` (of option ``name``) through, without saying why."""
    if isinstance(item, bytes):
        return nul_allowed or b"\0" not in item
    if not nul_allowed and "\0" in item:
        return False
    if item.isascii():
        return True
    try:
        if name in _OS_FIELDS:
            os.fsencode(item)
        else:
            item.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_NO_TEXT_TYPES = frozenset({type(None), bool, int, float})
_CONTAINER_TYPES = frozenset({dict, list, tuple, set, frozenset})


def _check_text(changed: list[tuple[str, Any]]) -> None:
    """Refuse NUL bytes and lone surrogates where the CLI cannot be given them (see above).

    Only the options not left at their default (``_changed``) are walked: no default holds text.
    """
    for name, value in changed:
        if name in _NOT_SENT_FIELDS:
            continue
        cls = value.__class__
        # Most options are left at None, a number or an empty container: nothing to walk (the
        # walk is most of what validating costs per session).
        if cls in _NO_TEXT_TYPES or (not value and cls in _CONTAINER_TYPES):
            continue
        nul_allowed = name in _NUL_ALLOWED_FIELDS
        if cls is not str and all(
            _text_is_fine(item, name, nul_allowed) for _, item in _texts(value, name, named=False)
        ):
            continue
        for where, item in ((name, value),) if cls is str else _texts(value, name):
            if isinstance(item, bytes):
                item = item.decode("latin-1")  # byte for byte: only its NULs matter
            if not nul_allowed and "\0" in item:
                # A skill name: what the official SDK says of its control character too.
                note = f". {_skill_chars_message(item)}" if name == "skills" else ""
                raise _fail(
                    f"{where}: contains a NUL byte (at index {item.index(chr(0))}), which the CLI "
                    "cannot be given (command-line arguments, environment variables and paths "
                    f"cannot hold one){note}"
                )
            if item.isascii():
                continue
            try:
                if name in _OS_FIELDS:
                    os.fsencode(item)
                else:
                    item.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise _fail(
                    f"{where}: contains a lone surrogate {item[exc.start]!r} at index "
                    f"{exc.start} (half of a UTF-16 pair: not valid Unicode), which cannot be "
                    "sent to the CLI"
                ) from None


# The official SDK's _validate_skill_name (0.2.143, transport/subprocess_cli.py), in its order and
# with its texts, after our "skills[i]: " (the option and entry named, as every message here
# does). Parentheses and commas are delimiters to the CLI's --allowedTools tokenizer;
# control characters (C0, DEL, C1) never appear in a skill directory name; U+FEFF, which the CLI
# trims as whitespace and str.strip() does not.
_SKILL_NAME_INVALID_CHARS = re.compile(r"[(),\x00-\x1f\x7f-\x9f\ufeff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _skill_chars_message(name: str) -> str:
    """The official text for a skill name holding a delimiter, control character or BOM."""
    return (
        f"Invalid skill name {name!r}: parentheses, commas, control"
        " characters, and byte-order marks are not allowed. Names match"
        " the skill's directory name, or 'plugin:skill' for"
        " plugin-qualified skills."
    )


def _skill_name_problem(name: str) -> str | None:
    """Why ``name`` cannot ride in a ``Skill(name)`` rule (the official text), or ``None``."""
    if not name.strip():
        return "Skill names must be non-empty strings"
    if _SURROGATE.search(name):
        return (
            f"Invalid skill name {name!r}: contains a surrogate code point,"
            " which can never match a skill the CLI discovered."
        )
    if name != name.strip():
        return (
            f"Invalid skill name {name!r}: leading or trailing whitespace"
            " can never match \u2014 the Skill tool trims the invoked name."
        )
    if _SKILL_NAME_INVALID_CHARS.search(name):
        return _skill_chars_message(name)
    if name == "*":
        return "Invalid skill name '*': use skills=\"all\" to enable every skill."
    if name.endswith((":*", " *")):
        return (
            f"Invalid skill name {name!r}: wildcard-suffix names are not"
            " allowed; list each skill by its exact name."
        )
    if name.startswith("/"):
        return (
            f"Invalid skill name {name!r}: skill names may not start with"
            " '/'. The skills option takes the canonical name, not the"
            " slash-command form."
        )
    if "\\\\" in name:
        return (
            f"Invalid skill name {name!r}: consecutive backslashes are not"
            " allowed \u2014 the per-rule parser collapses them, so the rule"
            " would name a different skill."
        )
    if name.endswith("\\"):
        return f"Invalid skill name {name!r}: names may not end with an unpaired backslash."
    return None


def _check_skill_name(name: Any, index: int) -> None:
    """Refuse a ``skills`` entry the official SDK refuses, with its text.

    Args:
        name: The entry.
        index: Its position in ``skills`` (named in the message).

    Raises:
        ConfigurationError: Also a ``TypeError`` if ``name`` is not a string (as the official
            SDK); otherwise a ``ValueError`` (every ``ConfigurationError`` is one).
    """
    # The official texts quote the name: masked by shape (a key pasted with a stray space).
    if not isinstance(name, str):
        raise _ConfigurationTypeError(
            redact(
                f"skills[{index}]: Skill names must be strings, got {type(name).__name__}: "
                f"{_quoted(name)}"
            )
        )
    problem = _skill_name_problem(name)
    if problem is not None:
        raise _fail(redact(f"skills[{index}]: {problem}"))


def _check_values(changed: list[tuple[str, Any]]) -> None:
    """Each option's own check, from its description (``_opt(check=...)``).

    Only the options not left at their default (``_changed``) are checked: every default passes
    its check (``tests/unit/test_options.py`` holds that), and most options are left at it.
    """
    for name, value in changed:
        _CHECKS[name](name, value)


_CHECKS: Mapping[str, Check] = {field.name: field.metadata["check"] for field in _FIELDS}


# The checks of single options too involved for the generic ones of _option_spec; each takes the
# value (the field's name is in its messages).


def _check_tools(tools: Any) -> None:
    if tools is None:
        return
    if isinstance(tools, dict):
        if tools != {"type": "preset", "preset": "claude_code"}:
            raise _fail(
                "tools must be a list of tool names or {'type': 'preset', 'preset': 'claude_code'}"
            )
    else:
        texts()("tools", tools)


def _check_can_use_tool(callback: Any) -> None:
    if callback is not None and not callable(callback):
        raise _fail(
            "can_use_tool must be a function (async, or plain: wrap a blocking one in "
            f"tc.in_thread) called as can_use_tool(tool_name, input, context), not "
            f"{type(callback).__name__}; to allow every tool without asking, use "
            "permission_mode='bypassPermissions' instead"
        )
    if callback is not None:
        check_arity("can_use_tool", callback, 3, "can_use_tool(tool_name, input, context)")


def _check_effort(effort: Any) -> None:
    if effort is None:
        return
    if isinstance(effort, int) and not isinstance(effort, bool):
        if effort < 0:
            raise _fail(f"effort must be >= 0, got {effort!r}")
    else:
        _check_choice("effort", effort, EFFORT_LEVELS)


def _check_json(name: str, value: Any) -> None:
    """``value`` goes to the CLI as JSON: what JSON cannot hold (a set, an object, a key that
    is not a string, NaN) is named by its path, never quoted (it may be a credential)."""
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        from ._protocol._codec import find_unencodable

        found = find_unencodable(value, "$", 0, set())
        where = "$ is not JSON" if found is None else f"{found[0]} {found[1]}"
        raise _fail(f"{name} cannot be sent to the CLI as JSON: {where}") from None


def _check_output_format(output_format: Any) -> None:
    if output_format is None:
        return
    if not isinstance(output_format, dict) or output_format.get("type") != "json_schema":
        raise _fail("output_format must be {'type': 'json_schema', 'schema': {...}}")
    if not isinstance(output_format.get("schema"), Mapping):
        raise _fail("output_format['schema'] must be a JSON schema dict")
    _check_json("output_format", output_format)


def _check_resume(resume: Any) -> None:
    _check_str("resume", resume)
    if resume == "":
        raise _fail("resume must be a session id, not an empty string")


def _check_session_id(session_id: Any) -> None:
    _check_str("session_id", session_id)
    if session_id == "":
        raise _fail("session_id must be a UUID, not an empty string")
    if session_id is not None:
        try:
            canonical = str(uuid_module.UUID(session_id)) == session_id.lower()
        except ValueError:
            canonical = False
        if not canonical:
            # The CLI refuses any other at start-up ("Invalid session ID").
            raise _fail(
                "session_id must be a UUID in its usual form (str(uuid.uuid4()), say), got "
                f"{redact(repr(session_id))}"
            )


def _check_max_budget_usd(usd: Any) -> None:
    if usd is not None and (not _is_number(usd) or not math.isfinite(usd) or usd <= 0):
        # Infinity too: the CLI refuses it at start-up; None is "no limit".
        raise _fail(f"max_budget_usd must be a number > 0 (finite; None: no limit), got {usd!r}")


def _check_task_budget(budget: Any) -> None:
    if budget is None:
        return
    total = budget.get("total") if isinstance(budget, dict) else budget
    if isinstance(budget, dict) and set(budget) != {"total"}:
        raise _fail("task_budget must be {'total': <tokens>}")
    _check_int("task_budget total", total, minimum=1, optional=False)


def _check_settings(settings: Any) -> None:
    if settings is not None and not isinstance(settings, (str, dict)):
        raise _fail("settings must be a file path, a JSON string or a dict")
    if isinstance(settings, dict):
        _check_json("settings", settings)


def _check_sandbox(sandbox: Any) -> None:
    if sandbox is not None and not isinstance(sandbox, dict):
        raise _fail("sandbox must be a dict of sandbox settings")
    if sandbox is not None:
        _check_json("sandbox", sandbox)


def _check_setting_sources(sources: Any) -> None:
    for source in sources or ():
        _check_choice("setting_sources entry", source, SETTING_SOURCES)


def _check_skills(skills: Any) -> None:
    if skills is not None and skills != "all":
        for index, skill in enumerate(skills):
            _check_skill_name(skill, index)


def _check_plugins(plugins: Any) -> None:
    # Named by position and shape only: a plugin's values may hold credentials (a git URL's
    # password, a token).
    for index, plugin in enumerate(plugins):
        where = f"plugins[{index}]"
        if not isinstance(plugin, dict):
            raise _fail(
                f"{where} must be a {{'type': 'local', 'path': ...}} dict, got "
                f"{type(plugin).__name__}"
            )
        kind = plugin.get("type")
        if kind != "local":
            shown = repr(kind) if isinstance(kind, str) and len(kind) <= 20 else "another type"
            raise _fail(f"{where}: unsupported plugin type {shown} (only {{'type': 'local', ...}})")
        if not isinstance(plugin.get("path"), (str, os.PathLike)):
            raise _fail(f"{where} needs a 'path' (a string)")
        unknown = set(plugin) - {"type", "path", "skip_mcp_discovery", "skipMcpDiscovery"}
        if unknown:
            names = sorted(redact(repr(k)) for k in unknown)
            raise _fail(f"{where}: unknown keys {', '.join(names)}")


def _check_env(env: Any) -> None:
    if not isinstance(env, dict):
        raise _fail("env must be a dict of str to str")
    for key, value in env.items():
        if not isinstance(key, str) or not key or "=" in key:
            # Quoted masked: a "NAME=value" given as a key carries the value.
            raise _fail(f"env key {redact(repr(key))} is not a valid environment variable name")
        if not isinstance(value, str):
            raise _fail(f"env[{key!r}] must be a string")


def _check_cli_path(cli_path: Any) -> None:
    _check_str("cli_path", cli_path)
    if cli_path == "":
        raise _fail("cli_path must not be empty")


def _check_tool_aliases(aliases: Any) -> None:
    if aliases is not None:
        if not isinstance(aliases, Mapping):
            raise _fail(
                "tool_aliases must be a dict of tool name to tool name, got "
                f"{type(aliases).__name__}"
            )
        for key, value in aliases.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise _fail("tool_aliases must map tool names (str) to tool names (str)")


def _check_extra_initialize_fields(fields: Any) -> None:
    if not isinstance(fields, dict):
        raise _fail("extra_initialize_fields must be a dict")
    if "subtype" in fields:
        raise _fail("extra_initialize_fields must not set 'subtype'")


def _check_project_config_root(root: Any) -> None:
    text(nonempty=True)("project_config_root", root)
    if root is not None and not os.path.isabs(root):
        raise _fail(f"project_config_root must be an absolute path, got {root!r}")


def _check_managed_settings(settings: Any) -> None:
    if settings is not None and not isinstance(settings, dict):
        raise _fail("managed_settings must be a dict of settings")
    if settings is not None:
        _check_json("managed_settings", settings)


def _check_budget(budget: Any) -> None:
    if budget is not None:
        from ._budget import Budget

        if not isinstance(budget, Budget):
            raise _fail(f"budget must be a trio_claude.Budget, got {type(budget).__name__}")


def _check_process_limiter(limiter: Any) -> None:
    if limiter is not None:
        import trio

        if not isinstance(limiter, trio.CapacityLimiter):
            raise _fail(
                f"process_limiter must be a trio.CapacityLimiter, got {type(limiter).__name__}"
            )


def check_transport(transport: Any) -> None:
    """Raises :class:`ConfigurationError` unless ``transport`` is ``None``, a
    :class:`~trio_claude.Transport`, or has the official SDK's transport methods
    (``connect``, ``write``, ``read_messages``, ``close``, ``end_input``)."""
    from ._transport._official import resolve_transport

    if transport is not None:
        resolve_transport(transport)


def _check_session_store(store: Any) -> None:
    # A store's methods are looked up when they are called: without this, a wrong value
    # (a connection string, say) ran the session and lost every batch to a logged error.
    if store is None:
        return
    missing = [m for m in ("append", "load") if not callable(getattr(store, m, None))]
    if missing:
        raise _fail(
            f"session_store must be a SessionStore (async append and load methods), got "
            f"{type(store).__name__}: no {' or '.join(missing)} method"
            + (" (for a database, use trio_claude.stores)" if isinstance(store, str) else "")
        )


def _check_resource_limits(limits: Any) -> None:
    """The value alone; whether the transport can enforce it is a combination (below)."""


def _check_combinations(o: ClaudeAgentOptions) -> None:
    if o.resource_limits is not None:
        check_resource_limits(o.resource_limits, o.transport)
    if o.can_use_tool_timeout is not None and o.can_use_tool is None:
        raise _fail("can_use_tool_timeout has no effect without can_use_tool")
    if o.supported_dialog_kinds and o.on_user_dialog is None:
        raise _fail("supported_dialog_kinds needs on_user_dialog, which renders the dialogs")
    if o.can_use_tool is not None and o.permission_prompt_tool_name:
        raise _fail(
            "can_use_tool cannot be used together with permission_prompt_tool_name: the callback "
            "answers permission prompts itself (--permission-prompt-tool stdio); set only one"
        )
    if (
        o.can_use_tool is not None
        and o.extra_args.get("permission-prompt-tool", "stdio") != "stdio"
    ):
        # The CLI takes the last of the two flags: the callback would never be called.
        raise _fail(
            "can_use_tool cannot be used together with extra_args['permission-prompt-tool']: the "
            "callback answers permission prompts itself (--permission-prompt-tool stdio); set "
            "only one"
        )
    if o.session_store is not None:
        if o.enable_file_checkpointing:
            raise _fail("session_store cannot be used together with enable_file_checkpointing")
        if not o.persist_session:
            raise _fail("session_store cannot be used together with persist_session=False")
        # With a resume id, the resume wins and no session is looked for.
        if (
            o.continue_conversation
            and not o.resume
            and not callable(getattr(o.session_store, "list_sessions", None))
        ):
            raise _fail(
                "continue_conversation with a session_store needs a store with list_sessions()"
            )
    else:
        if o.session_store_flush != "batched":
            raise _fail("session_store_flush has no effect without session_store")
        if o.load_timeout_ms != 60_000:
            raise _fail("load_timeout_ms has no effect without session_store")
    if o.model is not None and o.fallback_model is not None and o.fallback_model == o.model:
        raise _fail(
            "fallback_model cannot be the same as model; use a different fallback model or "
            "leave fallback_model unset"
        )
    if o.resume_session_at is not None and o.resume is None:
        raise _fail("resume_session_at requires resume")
    if o.resume_drops_turn is not None and o.resume_session_at is None:
        raise _fail("resume_drops_turn requires resume_session_at")
    if (
        o.session_id is not None
        and (o.continue_conversation or o.resume is not None)
        and not o.fork_session
    ):
        raise _fail("session_id with continue_conversation or resume also needs fork_session=True")
    if o.sandbox is not None and isinstance(o.settings, str) and not _is_inline_json(o.settings):
        raise _fail(
            "sandbox cannot be combined with a settings file path; pass settings inline "
            "(a dict or a JSON string) so the sandbox can be merged into it"
        )
    if isinstance(o.settings, str) and _is_inline_json(o.settings):
        try:
            parsed = json.loads(o.settings)
        except ValueError as exc:
            raise _fail(f"settings looks like inline JSON but does not parse: {exc}") from None
        if not isinstance(parsed, dict):
            raise _fail("settings JSON must be an object")


def _is_inline_json(text: str) -> bool:
    return text.strip().startswith("{")


def _check_system_prompt(sp: Any) -> None:
    if sp is None or isinstance(sp, str):
        return
    if isinstance(sp, tuple):
        for i, block in enumerate(sp):
            if not isinstance(block, str):
                raise _fail(
                    f"system_prompt[{i}] must be a string (a block of the prompt, or "
                    f"SYSTEM_PROMPT_DYNAMIC_BOUNDARY), got {type(block).__name__}"
                )
        if sp.count(SYSTEM_PROMPT_DYNAMIC_BOUNDARY) > 1:
            raise _fail("system_prompt holds SYSTEM_PROMPT_DYNAMIC_BOUNDARY more than once")
        return
    if not isinstance(sp, dict):
        raise _fail("system_prompt must be None, a string, a list of strings or a dict")
    kind = sp.get("type")
    allowed: set[str]
    if kind == "preset":
        if sp.get("preset") != "claude_code":
            raise _fail("system_prompt preset must be 'claude_code'")
        allowed = {"type", "preset", "append", "exclude_dynamic_sections", "snapshot"}
        _check_str("system_prompt['append']", sp.get("append"))
        _check_bool(
            "system_prompt['exclude_dynamic_sections']",
            sp.get("exclude_dynamic_sections"),
            optional=True,
        )
    elif kind == "custom":
        if not isinstance(sp.get("prompt"), str):
            raise _fail("system_prompt {'type': 'custom'} needs a 'prompt' string")
        allowed = {"type", "prompt", "snapshot"}
    elif kind == "file":
        if not isinstance(sp.get("path"), (str, os.PathLike)):
            raise _fail("system_prompt {'type': 'file'} needs a 'path'")
        allowed = {"type", "path"}
    else:
        raise _fail(f"system_prompt type must be 'preset', 'custom' or 'file', got {kind!r}")
    unknown = set(sp) - allowed
    if unknown:
        raise _fail(f"system_prompt ({kind}): unknown keys {sorted(unknown)}")
    _check_bool("system_prompt['snapshot']", sp.get("snapshot"), optional=True)


#: ``tool_config`` keys (the TypeScript SDK's names, snake case accepted) and their values.
_TOOL_CONFIG = {
    ("askUserQuestion", "ask_user_question"): {
        ("previewFormat", "preview_format"): ("markdown", "html"),
    },
}


def tool_config_items(config: Mapping[str, Any]) -> dict[tuple[str, str], Any]:
    """``{(tool, key): value}`` of a ``tool_config``, keyed by the TypeScript names."""
    out: dict[tuple[str, str], Any] = {}
    for tool_names, keys in _TOOL_CONFIG.items():
        for tool_name in tool_names:
            entry = config.get(tool_name)
            if isinstance(entry, Mapping):
                for key_names in keys:
                    for key_name in key_names:
                        if key_name in entry:
                            out[(tool_names[0], key_names[0])] = entry[key_name]
    return out


def _check_tool_config(config: Any) -> None:
    if config is None:
        return
    if not isinstance(config, dict):
        raise _fail("tool_config must be a dict such as {'askUserQuestion': {...}}")
    for tool, entry in config.items():
        spec = next((keys for names, keys in _TOOL_CONFIG.items() if tool in names), None)
        if spec is None:
            known = sorted(names[0] for names in _TOOL_CONFIG)
            raise _fail(f"tool_config: unknown tool {tool!r} (known: {', '.join(known)})")
        if not isinstance(entry, Mapping):
            raise _fail(f"tool_config[{tool!r}] must be a dict")
        for key, value in entry.items():
            choices = next((v for names, v in spec.items() if key in names), None)
            if choices is None:
                known = sorted(names[0] for names in spec)
                raise _fail(
                    f"tool_config[{tool!r}]: unknown key {key!r} (known: {', '.join(known)})"
                )
            if value not in choices:
                raise _fail(
                    f"tool_config[{tool!r}][{key!r}] must be one of {list(choices)}, got {value!r}"
                )


def _check_thinking(t: Any) -> None:
    if t is None:
        return
    if isinstance(t, (ThinkingConfigAdaptive, ThinkingConfigEnabled)):
        _check_choice("thinking display", t.display, _THINKING_DISPLAYS)
        if isinstance(t, ThinkingConfigEnabled):
            _check_int("thinking budget_tokens", t.budget_tokens, minimum=1, optional=False)
        return
    if isinstance(t, ThinkingConfigDisabled):
        return
    if not isinstance(t, Mapping):
        raise _fail("thinking must be a ThinkingConfig* object or a dict with a 'type'")
    kind = t.get("type")
    if kind not in ("adaptive", "enabled", "disabled"):
        raise _fail(f"thinking type must be 'adaptive', 'enabled' or 'disabled', got {kind!r}")
    allowed = {"type", "display"}
    if kind == "enabled":
        allowed |= {"budget_tokens", "budgetTokens"}
        budget = t.get("budget_tokens", t.get("budgetTokens"))
        _check_int("thinking budget_tokens", budget, minimum=1, optional=False)
    if kind == "disabled":
        allowed = {"type"}
    unknown = set(t) - allowed
    if unknown:
        raise _fail(f"thinking ({kind}): unknown keys {sorted(unknown)}")
    _check_choice("thinking display", t.get("display"), _THINKING_DISPLAYS)


def _check_mcp_servers(servers: Any) -> None:
    if isinstance(servers, str):
        if not servers.strip():
            raise _fail("mcp_servers must not be an empty string (use {} for no servers)")
        if _is_inline_json(servers):
            # Passed on as a "file path", the CLI would echo it (and its credentials) in its
            # error; the message names where the JSON breaks, never its text.
            try:
                json.loads(servers)
            except ValueError as exc:
                raise _fail(
                    f"mcp_servers looks like inline JSON but does not parse: {exc}"
                ) from None
        return
    if not isinstance(servers, dict):
        raise _fail("mcp_servers must be a dict of configs, a path or a JSON string")
    for name, cfg in servers.items():
        if not isinstance(name, str) or not name:
            raise _fail(f"mcp_servers keys must be non-empty strings, got {name!r}")
        if not isinstance(cfg, Mapping):
            if is_sdk_server(cfg):
                _check_sdk_server(name, cfg)
                continue
            raise _fail(f"mcp_servers[{name!r}] must be a config dict or an in-process server")
        if cfg.get("type") == "sdk":
            _check_sdk_server(name, cfg)
            continue
        kind = cfg.get("type", "stdio")
        if kind not in _MCP_SERVER_TYPES:
            raise _fail(
                f"mcp_servers[{name!r}]: type must be one of {sorted(_MCP_SERVER_TYPES)}, "
                f"got {kind!r}"
            )
        # The CLI drops a server whose config it cannot read without a word (mcp_status()
        # simply lacks it): its shape is checked here. Values are never quoted (credentials).
        where = f"mcp_servers[{name!r}]"
        if kind == "stdio":
            command = cfg.get("command")
            if not isinstance(command, str) or not command:
                raise _fail(f"{where}: a stdio server needs a 'command' (a non-empty string)")
            args = cfg.get("args")
            if args is not None and (
                isinstance(args, str)
                or not isinstance(args, (list, tuple))
                or not all(isinstance(a, str) for a in args)
            ):
                raise _fail(f"{where}['args'] must be a list of strings")
            _check_str_map(f"{where}['env']", cfg.get("env"))
        elif kind in ("sse", "http", "streamable-http"):
            url = cfg.get("url")
            if not isinstance(url, str) or not url:
                raise _fail(f"{where}: a {kind!r} server needs a 'url' (a non-empty string)")
            _check_str_map(f"{where}['headers']", cfg.get("headers"))
        _check_json(where, dict(cfg))


def _check_str_map(name: str, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise _fail(f"{name} must be a dict of strings to strings")


def _check_sdk_server(name: str, cfg: Any) -> None:
    from ._mcp import sdk_server_instance

    if sdk_server_instance(cfg) is None:
        raise _fail(
            f"mcp_servers[{name!r}] is an in-process ('sdk') server without an instance: make "
            "it with create_sdk_mcp_server()"
        )


def _check_agents(agents: Any) -> None:
    if agents is None:
        return
    if not isinstance(agents, dict):
        raise _fail("agents must be a dict of name to AgentDefinition")
    for name, agent in agents.items():
        if not isinstance(name, str) or not name:
            raise _fail(f"agents keys must be non-empty strings, got {name!r}")
        if isinstance(agent, Mapping):
            agent = AgentDefinition.from_dict(agent, name=name)
        if not isinstance(agent, AgentDefinition):
            raise _fail(f"agents[{name!r}] must be an AgentDefinition or a dict")
        _check_str(f"agents[{name!r}].description", agent.description, optional=False)
        _check_str(f"agents[{name!r}].prompt", agent.prompt, optional=False)
        for field in ("tools", "disallowed_tools", "skills"):
            value = getattr(agent, field)
            if value is not None:
                if isinstance(value, str):
                    raise _fail(f"agents[{name!r}].{field} must be a list of strings")
                _check_str_items(f"agents[{name!r}].{field}", value)
        _check_choice(f"agents[{name!r}].memory", agent.memory, _MEMORY_SCOPES)
        _check_choice(f"agents[{name!r}].permission_mode", agent.permission_mode, PERMISSION_MODES)
        _check_int(f"agents[{name!r}].max_turns", agent.max_turns, minimum=1)
        _check_int(f"agents[{name!r}].auto_compact_window", agent.auto_compact_window, minimum=0)
        if isinstance(agent.effort, int) and not isinstance(agent.effort, bool):
            if agent.effort < 0:
                raise _fail(f"agents[{name!r}].effort must be >= 0, got {agent.effort!r}")
        elif agent.effort is not None:
            _check_choice(f"agents[{name!r}].effort", agent.effort, EFFORT_LEVELS)
        for field in ("model", "initial_prompt", "critical_system_reminder_experimental"):
            _check_str(f"agents[{name!r}].{field}", getattr(agent, field))
        _check_str(f"agents[{name!r}].observer_message", agent.observer_message)
        for field in ("background", "omit_claude_md", "observer"):
            _check_bool(f"agents[{name!r}].{field}", getattr(agent, field), optional=True)
        servers: Any = agent.mcp_servers  # (a str got past the converter: _opt_tuple)
        if servers is not None:
            if isinstance(servers, (str, bytes)) or not isinstance(servers, Iterable):
                raise _fail(
                    f"agents[{name!r}].mcp_servers must be a list of server names or "
                    f"{{name: config}} dicts, got {type(servers).__name__}"
                )
            for entry in servers:
                if not isinstance(entry, (str, Mapping)):
                    raise _fail(
                        f"agents[{name!r}].mcp_servers entries must be server names or "
                        f"{{name: config}} dicts, got {type(entry).__name__}"
                    )


def _check_extra_args(extra: Any) -> None:
    if not isinstance(extra, dict):
        raise _fail("extra_args must be a dict of flag name to value or None")
    for key, value in extra.items():
        if not isinstance(key, str) or not key or key.startswith("-") or "=" in key:
            raise _fail(
                f"extra_args key {redact(repr(key))} must be a flag name without leading dashes "
                "(e.g. 'replay-user-messages')"
            )
        if key in _RESERVED_EXTRA_ARGS:
            raise _fail(f"extra_args must not set --{key}: trio-claude needs to control it")
        if value is not None and (
            not isinstance(value, (str, int, float)) or isinstance(value, bool)
        ):
            # Only the type: the value may be a credential (a key read as bytes).
            raise _fail(f"extra_args[{key!r}] must be a string or None, got {type(value).__name__}")


def _check_hooks(hooks: Any) -> None:
    if hooks is None:
        return
    if not isinstance(hooks, dict):
        raise _fail("hooks must be a dict of event name to a list of HookMatcher")
    for event, matchers in hooks.items():
        if not isinstance(event, str) or not event:
            raise _fail(f"hooks keys must be hook event names (non-empty strings), got {event!r}")
        if event not in HOOK_EVENTS:
            _warn_unknown_hook_event(event)
        if isinstance(matchers, (HookMatcher, Mapping)) or not isinstance(matchers, Sequence):
            raise _fail(f"hooks[{event!r}] must be a list of HookMatcher")
        for matcher in matchers:
            m = coerce_hook_matcher(matcher, event=event)
            _check_str(f"hooks[{event!r}] matcher", m.matcher)
            for cb in m.hooks:
                if not callable(cb):
                    raise _fail(f"hooks[{event!r}]: {cb!r} is not callable")
                check_arity(f"hooks[{event!r}]", cb, 3, "hook(input, tool_use_id, context)")
            seconds(positive=True, optional=True)(f"hooks[{event!r}] timeout", m.timeout)
            _check_choice(f"hooks[{event!r}] on_failure", m.on_failure, _ON_FAILURE)


def _warn_unknown_hook_event(event: str) -> None:
    """Warns about a hook event this version does not know (a typo, or a newer CLI's event).

    It is not refused: a CLI newer than this SDK may fire it (its input arrives as a
    ``GenericHookInput``); a CLI that does not know it never calls the hook.
    """
    import difflib

    known = sorted(HOOK_EVENTS)
    close = difflib.get_close_matches(event, known, n=1, cutoff=0.6)
    if not close:  # case slips ("pretooluse") score low on the raw names
        folded = {name.lower(): name for name in known}
        close = [folded[m] for m in difflib.get_close_matches(event.lower(), folded, n=1)]
    hint = f"did you mean {close[0]!r}? " if close else ""
    warn_user(
        f"hooks: unknown hook event {event!r}; {hint}known events: {', '.join(known)}. "
        "It is registered anyway, for a CLI newer than this SDK: a CLI that does not know the "
        "event never calls these hooks",
        UserWarning,
    )


def coerce_hook_matcher(matcher: Any, *, event: str = "?") -> HookMatcher:
    """Accept a :class:`HookMatcher` or the equivalent dict (``matcher``, ``hooks``, ...).

    Args:
        matcher: The matcher.
        event: The hook event, for error messages.

    Returns:
        The matcher as a :class:`HookMatcher`.

    Raises:
        ConfigurationError: If it is neither.
    """
    if isinstance(matcher, HookMatcher):
        return matcher
    if isinstance(matcher, Mapping):
        keys = {"matcher", "hooks", "timeout", "on_failure", "onFailure"}
        unknown = set(matcher) - keys
        if unknown:
            raise _fail(f"hooks[{event!r}]: unknown matcher keys {sorted(unknown)}")
        return HookMatcher(
            matcher=matcher.get("matcher"),
            hooks=matcher.get("hooks", ()),
            timeout=matcher.get("timeout"),
            on_failure=matcher.get("on_failure", matcher.get("onFailure")),
        )
    raise _fail(f"hooks[{event!r}] entries must be HookMatcher, got {type(matcher).__name__}")
