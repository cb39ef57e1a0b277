"""Hook types: a typed input per hook event, typed outputs, and their wire encoding.

A hook callback is ``async def hook(input, tool_use_id, context)`` (a plain function works too).
``input`` is the typed input of its event (:class:`PreToolUseHookInput`, ...; an event this
version does not know arrives as :class:`GenericHookInput`). Every input is a ``dict`` subclass
holding what the CLI sent (``input["tool_name"]``, ``json.dumps(input)``, ``{**input}``), as the
official SDK's TypedDicts are, with the fields also decoded as typed attributes
(``input.tool_name``); ``context`` is a ``{"signal": None}`` dict as well.

A callback returns a :class:`HookOutput` (or just an event's ``...HookSpecificOutput``), a plain
dict with the wire names (``{"hookSpecificOutput": {...}}``; ``continue_``/``async_`` are renamed
as the official SDK does), or ``None`` for "no opinion" (``{}``).

Input fields and outputs follow the TypeScript SDK's 33 events of Claude Code 2.1.329, plus
``Interrupt`` and ``PreSkillShellCommand`` (TypeScript SDK 0.3.337; Claude Code 2.1.332 fires
the latter); attribute names are the wire names (snake_case on the wire already), output
attributes are snake_case and encode to camelCase.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Literal

import attrs

from ._hook_context import HookContext
from ._permissions import (
    PermissionResultAllow,
    PermissionResultDeny,
    PermissionUpdate,
    encoded_updated_input,
    encoded_updated_permissions,
)

__all__ = [
    "HOOK_INPUT_TYPES",
    "HOOK_SPECIFIC_OUTPUT_TYPES",
    "BackgroundTaskSummary",
    "BaseHookInput",
    "ConfigChangeHookInput",
    "CwdChangedHookInput",
    "CwdChangedHookSpecificOutput",
    "DirectoryAddedHookInput",
    "ElicitationHookInput",
    "ElicitationHookSpecificOutput",
    "ElicitationResultHookInput",
    "ElicitationResultHookSpecificOutput",
    "FileChangedHookInput",
    "FileChangedHookSpecificOutput",
    "GenericHookInput",
    "HookContext",
    "HookInput",
    "HookJSONOutput",
    "HookOutput",
    "HookSpecificOutput",
    "InstructionsLoadedHookInput",
    "InterruptHookInput",
    "MessageDisplayHookInput",
    "MessageDisplayHookSpecificOutput",
    "NotificationHookInput",
    "NotificationHookSpecificOutput",
    "PermissionDeniedHookInput",
    "PermissionDeniedHookSpecificOutput",
    "PermissionRequestHookInput",
    "PermissionRequestHookSpecificOutput",
    "PostCompactHookInput",
    "PostModelSwitchHookInput",
    "PostModelSwitchHookSpecificOutput",
    "PostToolBatchHookInput",
    "PostToolBatchHookSpecificOutput",
    "PostToolBatchToolCall",
    "PostToolUseFailureHookInput",
    "PostToolUseFailureHookSpecificOutput",
    "PostToolUseHookInput",
    "PostToolUseHookSpecificOutput",
    "PreCompactHookInput",
    "PreModelSwitchHookInput",
    "PreModelSwitchHookSpecificOutput",
    "PreSkillShellCommandHookInput",
    "PreSkillShellCommandHookSpecificOutput",
    "PreToolUseHookInput",
    "PreToolUseHookSpecificOutput",
    "SessionCronSummary",
    "SessionEndHookInput",
    "SessionStartHookInput",
    "SessionStartHookSpecificOutput",
    "SetupHookInput",
    "SetupHookSpecificOutput",
    "StopFailureHookInput",
    "StopHookInput",
    "StopHookSpecificOutput",
    "SubagentStartHookInput",
    "SubagentStartHookSpecificOutput",
    "SubagentStopHookInput",
    "SubagentStopHookSpecificOutput",
    "TaskCompletedHookInput",
    "TaskCreatedHookInput",
    "TeammateIdleHookInput",
    "UserPromptExpansionHookInput",
    "UserPromptExpansionHookSpecificOutput",
    "UserPromptSubmitHookInput",
    "UserPromptSubmitHookSpecificOutput",
    "WorktreeCreateHookInput",
    "WorktreeCreateHookSpecificOutput",
    "WorktreeRemoveHookInput",
    "decode_hook_input",
    "encode_hook_output",
]


# ============================================================================ inputs

_Decoder = Callable[[Any], Any]


@attrs.frozen(kw_only=True)
class BackgroundTaskSummary:
    """A background task still running when the agent stops (``Stop``/``SubagentStop``)."""

    id: str = ""
    type: str = ""
    status: str = ""
    description: str = ""
    command: str | None = None
    agent_type: str | None = None
    server: str | None = None
    tool: str | None = None
    name: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen(kw_only=True)
class SessionCronSummary:
    """A scheduled prompt of the session (``Stop``/``SubagentStop``)."""

    id: str = ""
    schedule: str = ""
    recurring: bool = False
    prompt: str = ""
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen(kw_only=True)
class PostToolBatchToolCall:
    """One tool call of a batch (``PostToolBatch``)."""

    tool_name: str = ""
    tool_input: dict[str, Any] = attrs.field(factory=dict)
    tool_use_id: str = ""
    tool_response: Any = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


def _record_list(cls: type[Any]) -> _Decoder:
    names = [f.name for f in attrs.fields(cls) if f.name != "raw"]

    def decode(value: Any) -> Any:
        if not isinstance(value, list):
            return value
        return [
            cls(raw=dict(item), **{n: item[n] for n in names if n in item})
            if isinstance(item, Mapping)
            else item
            for item in value
        ]

    return decode


def _suggestions(value: Any) -> Any:
    if not isinstance(value, list):
        return value
    return [PermissionUpdate.from_dict(s) if isinstance(s, Mapping) else s for s in value]


@attrs.frozen(kw_only=True, eq=False)
class BaseHookInput(dict[str, Any]):
    """Fields every hook input carries; every input is also the dict the CLI sent.

    As in the official SDK, whose inputs are ``TypedDict`` dicts, an input *is* a ``dict`` of the
    wire fields (``isinstance(input, dict)``): ``input["tool_name"]``, ``input.get("prompt")``,
    ``json.dumps(input)``, ``dict(input)``, ``{**input}``, ``input.items()``, ``len(input)`` and
    ``input == {...}`` all see the fields as the CLI sent them, unmodelled ones included. The
    attributes are the same fields decoded (``PermissionRequestHookInput.permission_suggestions``
    is a list of :class:`~trio_claude.PermissionUpdate`, the item the wire dicts), read once
    when the input is delivered: they are frozen, while the items can be changed like any dict's
    (the attributes and :attr:`raw` keep what was delivered). Two inputs are equal when their
    items are, like dicts; an input is not hashable.

    An input built by hand (``PreToolUseHookInput(tool_name="Bash", tool_input={...})``, to
    test a hook) holds the wire form of its attributes: every attribute that is not ``None``,
    under its wire name.

    Attributes:
        hook_event_name: The event (``"PreToolUse"``, ...).
        session_id: The CLI's session id.
        transcript_path: Path of the session's transcript file.
        cwd: The working directory.
        permission_mode: The permission mode in force.
        prompt_id: The id of the prompt being handled.
        effort: The effort setting, ``{"level": "medium"}``.
        agent_id: The subagent the event belongs to (``None`` for the main agent).
        agent_type: That subagent's type.
        raw: The input exactly as the CLI sent it (a copy: changing the input's items does
            not change it); empty for an input built by hand.
    """

    hook_event_name: str = ""
    session_id: str = ""
    transcript_path: str = ""
    cwd: str = ""
    permission_mode: str | None = None
    prompt_id: str | None = None
    effort: dict[str, Any] | None = None
    agent_id: str | None = None
    agent_type: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    #: The event this class is for (empty for the base and the generic input).
    EVENT: ClassVar[str] = ""

    def __attrs_post_init__(self) -> None:
        # The dict's items: what the CLI sent, or (built by hand) the attributes' wire form.
        dict.update(self, self.raw if self.raw else wire_form(self))


def _wire_value(value: Any) -> Any:
    """A decoded attribute value as the JSON the CLI sends for it."""
    if isinstance(value, PermissionUpdate):
        return value.to_dict()
    if isinstance(value, (BackgroundTaskSummary, SessionCronSummary, PostToolBatchToolCall)):
        if value.raw:
            return dict(value.raw)
        return {
            f.name: _wire_value(getattr(value, f.name))
            for f in attrs.fields(type(value))
            if f.name != "raw"
        }
    if isinstance(value, list):
        return [_wire_value(item) for item in value]
    return value


def wire_form(hook_input: BaseHookInput) -> dict[str, Any]:
    """The wire dict of an input built by hand: its attributes that are not ``None``."""
    data: dict[str, Any] = {}
    for f in attrs.fields(type(hook_input)):
        if f.name != "raw":
            value = getattr(hook_input, f.name)
            if value is not None:
                data[f.metadata.get("wire", f.name)] = _wire_value(value)
    return data


@attrs.frozen(kw_only=True, eq=False)
class GenericHookInput(BaseHookInput):
    """The input of an event this version does not model: base fields plus ``raw``."""


@attrs.frozen(kw_only=True, eq=False)
class PreToolUseHookInput(BaseHookInput):
    """Before a tool runs (fires before ``can_use_tool``)."""

    EVENT: ClassVar[str] = "PreToolUse"
    tool_name: str = ""
    tool_input: dict[str, Any] = attrs.field(factory=dict)
    tool_use_id: str = ""
    mcp_server: dict[str, Any] | None = None


@attrs.frozen(kw_only=True, eq=False)
class PostToolUseHookInput(BaseHookInput):
    """After a tool succeeded; ``tool_response`` is what the tool returned."""

    EVENT: ClassVar[str] = "PostToolUse"
    tool_name: str = ""
    tool_input: dict[str, Any] = attrs.field(factory=dict)
    tool_response: Any = None
    tool_use_id: str = ""
    duration_ms: float | None = None
    mcp_server: dict[str, Any] | None = None


@attrs.frozen(kw_only=True, eq=False)
class PostToolUseFailureHookInput(BaseHookInput):
    """After a tool failed."""

    EVENT: ClassVar[str] = "PostToolUseFailure"
    tool_name: str = ""
    tool_input: dict[str, Any] = attrs.field(factory=dict)
    tool_use_id: str = ""
    error: str = ""
    is_interrupt: bool | None = None
    duration_ms: float | None = None
    mcp_server: dict[str, Any] | None = None


@attrs.frozen(kw_only=True, eq=False)
class PostToolBatchHookInput(BaseHookInput):
    """Once after every tool call of a batch has resolved."""

    EVENT: ClassVar[str] = "PostToolBatch"
    tool_calls: list[PostToolBatchToolCall] = attrs.field(
        factory=list, metadata={"decode": _record_list(PostToolBatchToolCall)}
    )


@attrs.frozen(kw_only=True, eq=False)
class NotificationHookInput(BaseHookInput):
    """The CLI shows a notification."""

    EVENT: ClassVar[str] = "Notification"
    message: str = ""
    title: str | None = None
    notification_type: str = ""


@attrs.frozen(kw_only=True, eq=False)
class UserPromptSubmitHookInput(BaseHookInput):
    """A prompt was submitted (fires before the turn's ``system/init``)."""

    EVENT: ClassVar[str] = "UserPromptSubmit"
    prompt: str = ""
    source: str | None = None
    session_title: str | None = None


@attrs.frozen(kw_only=True, eq=False)
class UserPromptExpansionHookInput(BaseHookInput):
    """A slash command or MCP prompt was expanded."""

    EVENT: ClassVar[str] = "UserPromptExpansion"
    expansion_type: str = ""
    command_name: str = ""
    command_args: str = ""
    command_source: str | None = None
    prompt: str = ""


@attrs.frozen(kw_only=True, eq=False)
class SessionStartHookInput(BaseHookInput):
    """The session started, resumed, was cleared, compacted or forked."""

    EVENT: ClassVar[str] = "SessionStart"
    source: str = ""
    model: str | None = None
    session_title: str | None = None
    seconds_since_last_response: float | None = None
    context_tokens: int | None = None
    prompt_cache_likely_expired: bool | None = None
    estimated_cache_write_usd: float | None = None


@attrs.frozen(kw_only=True, eq=False)
class SessionEndHookInput(BaseHookInput):
    """The session ends."""

    EVENT: ClassVar[str] = "SessionEnd"
    reason: str = ""


@attrs.frozen(kw_only=True, eq=False)
class StopHookInput(BaseHookInput):
    """The main agent is about to stop."""

    EVENT: ClassVar[str] = "Stop"
    stop_hook_active: bool = False
    last_assistant_message: str | None = None
    background_tasks: list[BackgroundTaskSummary] | None = attrs.field(
        default=None, metadata={"decode": _record_list(BackgroundTaskSummary)}
    )
    session_crons: list[SessionCronSummary] | None = attrs.field(
        default=None, metadata={"decode": _record_list(SessionCronSummary)}
    )


@attrs.frozen(kw_only=True, eq=False)
class StopFailureHookInput(BaseHookInput):
    """The turn ended on an API error."""

    EVENT: ClassVar[str] = "StopFailure"
    error: str = ""
    error_details: str | None = None
    last_assistant_message: str | None = None


@attrs.frozen(kw_only=True, eq=False)
class SubagentStartHookInput(BaseHookInput):
    """A subagent was spawned (``agent_id`` and ``agent_type`` are set)."""

    EVENT: ClassVar[str] = "SubagentStart"


@attrs.frozen(kw_only=True, eq=False)
class SubagentStopHookInput(BaseHookInput):
    """A subagent is about to stop."""

    EVENT: ClassVar[str] = "SubagentStop"
    stop_hook_active: bool = False
    agent_transcript_path: str = ""
    last_assistant_message: str | None = None
    background_tasks: list[BackgroundTaskSummary] | None = attrs.field(
        default=None, metadata={"decode": _record_list(BackgroundTaskSummary)}
    )
    session_crons: list[SessionCronSummary] | None = attrs.field(
        default=None, metadata={"decode": _record_list(SessionCronSummary)}
    )


@attrs.frozen(kw_only=True, eq=False)
class PreCompactHookInput(BaseHookInput):
    """Before the conversation is compacted."""

    EVENT: ClassVar[str] = "PreCompact"
    trigger: str = ""
    custom_instructions: str | None = None


@attrs.frozen(kw_only=True, eq=False)
class PostCompactHookInput(BaseHookInput):
    """After the conversation was compacted."""

    EVENT: ClassVar[str] = "PostCompact"
    trigger: str = ""
    compact_summary: str = ""


@attrs.frozen(kw_only=True, eq=False)
class PreModelSwitchHookInput(BaseHookInput):
    """Before the model changes."""

    EVENT: ClassVar[str] = "PreModelSwitch"
    from_model: str = ""
    to_model: str = ""
    requested_model: str = ""
    source: str = ""
    context_tokens: int | None = None
    prompt_cache_warm: bool | None = None
    cache_ttl: str | None = None
    estimated_cache_write_usd: float | None = None
    pricing: str | None = None


@attrs.frozen(kw_only=True, eq=False)
class PostModelSwitchHookInput(BaseHookInput):
    """After the model changed."""

    EVENT: ClassVar[str] = "PostModelSwitch"
    from_model: str = ""
    to_model: str = ""
    requested_model: str = ""
    source: str = ""
    context_tokens: int | None = None
    prompt_cache_warm: bool | None = None
    cache_ttl: str | None = None
    estimated_cache_write_usd: float | None = None
    pricing: str | None = None


@attrs.frozen(kw_only=True, eq=False)
class PermissionRequestHookInput(BaseHookInput):
    """A permission prompt is about to be shown (a hook alternative to ``can_use_tool``)."""

    EVENT: ClassVar[str] = "PermissionRequest"
    tool_name: str = ""
    tool_input: dict[str, Any] = attrs.field(factory=dict)
    permission_suggestions: list[PermissionUpdate] | None = attrs.field(
        default=None, metadata={"decode": _suggestions}
    )
    mcp_server: dict[str, Any] | None = None


@attrs.frozen(kw_only=True, eq=False)
class PermissionDeniedHookInput(BaseHookInput):
    """A tool call was denied automatically."""

    EVENT: ClassVar[str] = "PermissionDenied"
    tool_name: str = ""
    tool_input: dict[str, Any] = attrs.field(factory=dict)
    tool_use_id: str = ""
    reason: str = ""
    mcp_server: dict[str, Any] | None = None


@attrs.frozen(kw_only=True, eq=False)
class SetupHookInput(BaseHookInput):
    """Repository setup (``init``) or maintenance."""

    EVENT: ClassVar[str] = "Setup"
    trigger: str = ""


@attrs.frozen(kw_only=True, eq=False)
class TeammateIdleHookInput(BaseHookInput):
    """A teammate went idle."""

    EVENT: ClassVar[str] = "TeammateIdle"
    teammate_name: str = ""
    team_name: str = ""


@attrs.frozen(kw_only=True, eq=False)
class TaskCreatedHookInput(BaseHookInput):
    """A task was created."""

    EVENT: ClassVar[str] = "TaskCreated"
    task_id: str = ""
    task_subject: str = ""
    task_description: str | None = None
    teammate_name: str | None = None
    team_name: str | None = None


@attrs.frozen(kw_only=True, eq=False)
class TaskCompletedHookInput(BaseHookInput):
    """A task was completed."""

    EVENT: ClassVar[str] = "TaskCompleted"
    task_id: str = ""
    task_subject: str = ""
    task_description: str | None = None
    teammate_name: str | None = None
    team_name: str | None = None


@attrs.frozen(kw_only=True, eq=False)
class ElicitationHookInput(BaseHookInput):
    """An MCP server asks the user for input."""

    EVENT: ClassVar[str] = "Elicitation"
    mcp_server_name: str = ""
    message: str = ""
    mode: str | None = None
    url: str | None = None
    elicitation_id: str | None = None
    requested_schema: dict[str, Any] | None = None


@attrs.frozen(kw_only=True, eq=False)
class ElicitationResultHookInput(BaseHookInput):
    """An elicitation was answered."""

    EVENT: ClassVar[str] = "ElicitationResult"
    mcp_server_name: str = ""
    elicitation_id: str | None = None
    mode: str | None = None
    action: str = ""
    content: dict[str, Any] | None = None


@attrs.frozen(kw_only=True, eq=False)
class ConfigChangeHookInput(BaseHookInput):
    """A settings source changed."""

    EVENT: ClassVar[str] = "ConfigChange"
    source: str = ""
    file_path: str | None = None


@attrs.frozen(kw_only=True, eq=False)
class WorktreeCreateHookInput(BaseHookInput):
    """A worktree is being created (the hook must answer ``worktree_path``)."""

    EVENT: ClassVar[str] = "WorktreeCreate"
    name: str = ""


@attrs.frozen(kw_only=True, eq=False)
class WorktreeRemoveHookInput(BaseHookInput):
    """A worktree is being removed."""

    EVENT: ClassVar[str] = "WorktreeRemove"
    worktree_path: str = ""


@attrs.frozen(kw_only=True, eq=False)
class InstructionsLoadedHookInput(BaseHookInput):
    """A CLAUDE.md or rules file was loaded."""

    EVENT: ClassVar[str] = "InstructionsLoaded"
    file_path: str = ""
    memory_type: str = ""
    load_reason: str = ""
    globs: list[str] | None = None
    trigger_file_path: str | None = None
    parent_file_path: str | None = None


@attrs.frozen(kw_only=True, eq=False)
class CwdChangedHookInput(BaseHookInput):
    """The working directory changed."""

    EVENT: ClassVar[str] = "CwdChanged"
    old_cwd: str = ""
    new_cwd: str = ""


@attrs.frozen(kw_only=True, eq=False)
class FileChangedHookInput(BaseHookInput):
    """A watched file changed (``event``: ``change``, ``add`` or ``unlink``)."""

    EVENT: ClassVar[str] = "FileChanged"
    file_path: str = ""
    event: str = ""


@attrs.frozen(kw_only=True, eq=False)
class DirectoryAddedHookInput(BaseHookInput):
    """A working directory was added."""

    EVENT: ClassVar[str] = "DirectoryAdded"
    directory: str = ""
    source: str = ""


@attrs.frozen(kw_only=True, eq=False)
class MessageDisplayHookInput(BaseHookInput):
    """Assistant text is being displayed (display-only)."""

    EVENT: ClassVar[str] = "MessageDisplay"
    turn_id: str = ""
    message_id: str = ""
    index: int = 0
    final: bool = False
    delta: str = ""


@attrs.frozen(kw_only=True, eq=False)
class InterruptHookInput(BaseHookInput):
    """A turn was interrupted (the user's stop, a timeout, the parent agent's stop, ...).

    New in Claude Code after 2.1.329 (TypeScript SDK 0.3.337). The pinned CLI does not fire it,
    so only the base fields are modelled: read the event's own fields (why the turn was cut,
    which tool calls it ended) with ``input["..."]`` / ``input.get(...)``; ``raw`` has them
    all. Observation only: the interrupt has already happened.
    """

    EVENT: ClassVar[str] = "Interrupt"


@attrs.frozen(kw_only=True, eq=False)
class PreSkillShellCommandHookInput(BaseHookInput):
    """A skill or command is about to run one of its shell commands (``!`command``` in its text).

    Fired by Claude Code 2.1.332 (TypeScript SDK 0.3.337), before the command runs; answer
    with :class:`PreSkillShellCommandHookSpecificOutput` (``permission_decision="deny"`` keeps
    the command from running) or a :class:`HookOutput` (``decision="block"``).

    Attributes:
        tool_name: The shell tool that would run it: ``Bash`` or ``PowerShell``.
        tool_input: ``{"command": ...}``, the command as it would run, arguments filled in.
        tool_use_id: Identifies this command (it names no tool call in the transcript).
        command_name: The skill or command whose text holds the shell command.
        command_source: Where that skill comes from (``projectSettings``, ...).
        invoked_by: ``user`` (typed, or sent by the program), ``claude`` (the Skill tool, or a
            turn Claude scheduled) or ``other``.
    """

    EVENT: ClassVar[str] = "PreSkillShellCommand"
    tool_name: str = ""
    tool_input: dict[str, Any] = attrs.field(factory=dict)
    tool_use_id: str = ""
    command_name: str = ""
    command_source: str | None = None
    invoked_by: str | None = None


#: Any hook input (all subclass :class:`BaseHookInput`).
HookInput = BaseHookInput

_INPUT_CLASSES: tuple[type[BaseHookInput], ...] = (
    PreToolUseHookInput,
    PostToolUseHookInput,
    PostToolUseFailureHookInput,
    PostToolBatchHookInput,
    NotificationHookInput,
    UserPromptSubmitHookInput,
    UserPromptExpansionHookInput,
    SessionStartHookInput,
    SessionEndHookInput,
    StopHookInput,
    StopFailureHookInput,
    SubagentStartHookInput,
    SubagentStopHookInput,
    PreCompactHookInput,
    PostCompactHookInput,
    PreModelSwitchHookInput,
    PostModelSwitchHookInput,
    PermissionRequestHookInput,
    PermissionDeniedHookInput,
    SetupHookInput,
    TeammateIdleHookInput,
    TaskCreatedHookInput,
    TaskCompletedHookInput,
    ElicitationHookInput,
    ElicitationResultHookInput,
    ConfigChangeHookInput,
    WorktreeCreateHookInput,
    WorktreeRemoveHookInput,
    InstructionsLoadedHookInput,
    CwdChangedHookInput,
    FileChangedHookInput,
    DirectoryAddedHookInput,
    MessageDisplayHookInput,
    InterruptHookInput,
    PreSkillShellCommandHookInput,
)

#: Event name -> input class: the 33 events of Claude Code 2.1.329, plus ``Interrupt`` and
#: ``PreSkillShellCommand`` of newer CLIs. Any other event decodes to :class:`GenericHookInput`.
HOOK_INPUT_TYPES: dict[str, type[BaseHookInput]] = {cls.EVENT: cls for cls in _INPUT_CLASSES}

_DECODED_CLASSES: tuple[type[BaseHookInput], ...] = (*_INPUT_CLASSES, GenericHookInput)

# Per class: (attribute, wire key, decoder) for every field but raw.
_DECODE_PLAN: dict[type[BaseHookInput], tuple[tuple[str, str, _Decoder | None], ...]] = {
    cls: tuple(
        (f.name, f.metadata.get("wire", f.name), f.metadata.get("decode"))
        for f in attrs.fields(cls)
        if f.name != "raw"
    )
    for cls in _DECODED_CLASSES
}


def decode_hook_input(data: Mapping[str, Any], event: str | None = None) -> BaseHookInput:
    """The typed input for a ``hook_callback`` request's ``input``.

    Never raises on unexpected content: unknown events give :class:`GenericHookInput`, and
    fields keep whatever value the CLI sent.

    Args:
        data: The ``input`` dict.
        event: The event to assume when ``data`` names none (the registration's event).
    """
    name = data.get("hook_event_name") or event or ""
    cls = (
        HOOK_INPUT_TYPES.get(name, GenericHookInput) if isinstance(name, str) else GenericHookInput
    )
    kwargs: dict[str, Any] = {"raw": dict(data)}
    for attr, wire, decode in _DECODE_PLAN[cls]:
        if wire in data:
            value = data[wire]
            if value is None:
                continue  # absent and null mean the same: the field keeps its default
            kwargs[attr] = decode(value) if decode is not None else value
    if not isinstance(kwargs.get("hook_event_name"), str):
        kwargs["hook_event_name"] = name if isinstance(name, str) else ""
    hook_input = cls(**kwargs)
    if not data:
        hook_input.clear()  # the CLI sent {}: the items are that, not the defaults' wire form
    return hook_input


# =========================================================================== outputs


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _encode_permission_decision(value: Any) -> Any:
    """The ``PermissionRequest`` hook's ``decision`` (fields optional, unlike can_use_tool)."""
    if isinstance(value, PermissionResultAllow):
        data: dict[str, Any] = {"behavior": "allow"}
        if value.updated_input is not None:
            # Refused, never coerced: dict("") would allow an empty input instead.
            data["updatedInput"] = encoded_updated_input(
                value.updated_input, "PermissionResultAllow"
            )
        if value.updated_permissions is not None:
            data["updatedPermissions"] = encoded_updated_permissions(value.updated_permissions)
        return data
    if isinstance(value, PermissionResultDeny):
        data = {"behavior": "deny"}
        if not isinstance(value.message, str):
            raise TypeError(
                f"PermissionResultDeny.message must be a str, not {type(value.message).__name__}"
            )
        if value.message:
            data["message"] = value.message
        if value.interrupt:
            data["interrupt"] = True
        return data
    if isinstance(value, Mapping):
        data = _plain(value)
        _check_wire_decision(data, "decision")
        return data
    raise TypeError(
        "a PermissionRequest decision must be PermissionResultAllow, PermissionResultDeny or "
        f"a dict, not {type(value).__name__}"
    )


def _check_wire_input(data: Mapping[str, Any], where: str) -> None:
    value = data.get("updatedInput")
    if value is not None and not isinstance(value, Mapping):
        raise TypeError(
            f"{where}.updatedInput must be a dict (the tool's whole input), "
            f"not {type(value).__name__}"
        )


def _check_wire_decision(data: Mapping[str, Any], where: str) -> None:
    """Refuses a wire ``decision`` whose permission fields have the wrong type."""
    _check_wire_input(data, where)
    updates = data.get("updatedPermissions")
    if updates is not None and not isinstance(updates, list):
        raise TypeError(f"{where}.updatedPermissions must be a list, not {type(updates).__name__}")


def _check_wire_specific(data: Mapping[str, Any]) -> None:
    """Refuses a ``hookSpecificOutput`` dict whose input or decision has the wrong type.

    These are passed to the CLI as they are, so a wrong type would reach it; refusing here
    answers the hook with an error (the CLI applies ``on_failure``) instead.
    """
    _check_wire_input(data, "hookSpecificOutput")
    _check_wire_choices(data, "hookSpecificOutput", _SPECIFIC_CHOICES)
    decision = data.get("decision")
    if decision is None:
        return
    if not isinstance(decision, Mapping):
        raise TypeError(
            f"hookSpecificOutput.decision must be a dict, not {type(decision).__name__}"
        )
    _check_wire_decision(decision, "hookSpecificOutput.decision")


# The values the CLI knows for the closed fields of an output in its dict form (the typed
# classes check the same, in their validators). Another value is ignored by the CLI: a hook's
# "Deny" or "blocked" let the tool run.
_SPECIFIC_CHOICES: Mapping[str, tuple[str, ...]] = {
    "permissionDecision": ("allow", "deny", "ask", "defer"),
    "action": ("accept", "decline", "cancel"),
}
_OUTPUT_CHOICES: Mapping[str, tuple[str, ...]] = {"decision": ("approve", "block")}
_OUTPUT_TYPES: Mapping[str, type] = {
    "continue": bool,
    "suppressOutput": bool,
    "async": bool,
    "stopReason": str,
    "systemMessage": str,
    "reason": str,
}


def _check_wire_choices(
    data: Mapping[str, Any], where: str, choices: Mapping[str, tuple[str, ...]]
) -> None:
    for key, allowed in choices.items():
        value = data.get(key)
        if value is not None and value not in allowed:
            shown = repr(value) if isinstance(value, str) and len(value) <= 40 else "another value"
            raise ValueError(f"{where}.{key} must be one of {list(allowed)}, not {shown}")


def _check_wire_output(data: Mapping[str, Any]) -> None:
    """Refuses a hook output dict whose top-level fields have values the CLI would ignore."""
    for key, kind in _OUTPUT_TYPES.items():
        value = data.get(key)
        if value is not None and not isinstance(value, kind):
            raise TypeError(
                f"hook output {key!r} must be a {kind.__name__}, not {type(value).__name__}"
            )
    _check_wire_choices(data, "hook output", _OUTPUT_CHOICES)


def _plain(value: Any) -> Any:
    """Typed values nested in an output, as JSON-ready data."""
    if isinstance(value, PermissionUpdate):
        return value.to_dict()
    if isinstance(value, (PermissionResultAllow, PermissionResultDeny)):
        return _encode_permission_decision(value)
    if isinstance(value, HookSpecificOutput):
        return value.to_dict()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


@attrs.frozen(kw_only=True)
class HookSpecificOutput:
    """Base of the event-specific outputs (``hookSpecificOutput`` on the wire).

    ``to_dict()`` adds ``hookEventName`` and camelCases the attribute names; ``None``
    attributes are omitted.
    """

    #: The event this output answers.
    hook_event_name: ClassVar[str] = ""

    # Official code builds and reads these as TypedDicts (dicts keyed by the wire names): it
    # may call them with those names (_take_wire_keywords) and read them back by key.

    def __getitem__(self, key: str) -> Any:
        return self.to_dict()[key]

    def __contains__(self, key: object) -> bool:
        return key in self.to_dict()

    def get(self, key: str, default: Any = None) -> Any:
        """The value under a wire key (``"permissionDecision"``), as the official dict has it.

        Args:
            key: The wire (camelCase) name.
            default: What a key that is not set gives.
        """
        return self.to_dict().get(key, default)

    def to_dict(self) -> dict[str, Any]:
        """The wire form: ``{"hookEventName": ..., <camelCase fields>}``."""
        data: dict[str, Any] = {"hookEventName": self.hook_event_name}
        for f in attrs.fields(type(self)):
            value = getattr(self, f.name)
            if value is not None:
                if f.metadata.get("mapping") and not isinstance(value, Mapping):
                    # Checked again here: attrs validators can be bypassed.
                    _check_mapping(self, f, value)
                data[f.metadata.get("wire") or _camel(f.name)] = _plain(value)
        return data


def _one_of(*choices: str) -> Any:
    return attrs.validators.optional(attrs.validators.in_(choices))


def _check_mapping(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not isinstance(value, Mapping):
        raise TypeError(
            f"{type(instance).__name__}.{attribute.name} must be a dict or None, "
            f"not {type(value).__name__}"
        )


#: Metadata of the optional dict fields: anything else is refused (never coerced to a dict).
_MAPPING = {"mapping": True}


def _check_decision(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not isinstance(
        value, (PermissionResultAllow, PermissionResultDeny, Mapping)
    ):
        raise TypeError(
            f"{type(instance).__name__}.{attribute.name} must be PermissionResultAllow, "
            f"PermissionResultDeny, a dict or None, not {type(value).__name__}"
        )


@attrs.frozen(kw_only=True)
class PreToolUseHookSpecificOutput(HookSpecificOutput):
    """Answer to ``PreToolUse``.

    Args:
        permission_decision: ``allow`` (skip the permission prompt), ``deny`` (the model gets
            ``permission_decision_reason`` as an error), ``ask`` or ``defer`` (stop the run; the
            result carries ``deferred_tool_use``).
        permission_decision_reason: Why.
        updated_input: Run the tool with this input instead.
        additional_context: Text added to the model's context.
    """

    hook_event_name: ClassVar[str] = "PreToolUse"
    permission_decision: Literal["allow", "deny", "ask", "defer"] | None = attrs.field(
        default=None, validator=_one_of("allow", "deny", "ask", "defer")
    )
    permission_decision_reason: str | None = None
    updated_input: dict[str, Any] | None = attrs.field(
        default=None, validator=_check_mapping, metadata=_MAPPING
    )
    additional_context: str | None = None


@attrs.frozen(kw_only=True)
class PostToolUseHookSpecificOutput(HookSpecificOutput):
    """Answer to ``PostToolUse``.

    Args:
        additional_context: Text added to the model's context.
        updated_tool_output: Replace the tool's output (built-in tools).
        updated_mcp_tool_output: Replace an MCP tool's output.
        classifier_context: Context for the auto-mode classifier (TypeScript SDK field).
    """

    hook_event_name: ClassVar[str] = "PostToolUse"
    additional_context: str | None = None
    updated_tool_output: Any = None
    updated_mcp_tool_output: Any = attrs.field(
        default=None, metadata={"wire": "updatedMCPToolOutput"}
    )
    classifier_context: str | None = None


@attrs.frozen(kw_only=True)
class PostToolUseFailureHookSpecificOutput(HookSpecificOutput):
    """Answer to ``PostToolUseFailure``: text added to the model's context."""

    hook_event_name: ClassVar[str] = "PostToolUseFailure"
    additional_context: str | None = None


@attrs.frozen(kw_only=True)
class PostToolBatchHookSpecificOutput(HookSpecificOutput):
    """Answer to ``PostToolBatch``: text added to the model's context."""

    hook_event_name: ClassVar[str] = "PostToolBatch"
    additional_context: str | None = None


@attrs.frozen(kw_only=True)
class NotificationHookSpecificOutput(HookSpecificOutput):
    """Answer to ``Notification``: text added to the model's context."""

    hook_event_name: ClassVar[str] = "Notification"
    additional_context: str | None = None


@attrs.frozen(kw_only=True)
class UserPromptSubmitHookSpecificOutput(HookSpecificOutput):
    """Answer to ``UserPromptSubmit``.

    Args:
        additional_context: Text added to the model's context with the prompt.
        session_title: Set the session's title.
        suppress_original_prompt: Do not send the prompt itself.
    """

    hook_event_name: ClassVar[str] = "UserPromptSubmit"
    additional_context: str | None = None
    session_title: str | None = None
    suppress_original_prompt: bool | None = None


@attrs.frozen(kw_only=True)
class UserPromptExpansionHookSpecificOutput(HookSpecificOutput):
    """Answer to ``UserPromptExpansion``."""

    hook_event_name: ClassVar[str] = "UserPromptExpansion"
    additional_context: str | None = None
    suppress_original_prompt: bool | None = None


@attrs.frozen(kw_only=True)
class SessionStartHookSpecificOutput(HookSpecificOutput):
    """Answer to ``SessionStart``.

    Args:
        additional_context: Text added to the model's context.
        initial_user_message: A first user message to submit.
        session_title: Set the session's title.
        watch_paths: Paths to watch (``FileChanged`` fires for them).
        reload_skills: Reload skills from disk.
    """

    hook_event_name: ClassVar[str] = "SessionStart"
    additional_context: str | None = None
    initial_user_message: str | None = None
    session_title: str | None = None
    watch_paths: list[str] | None = None
    reload_skills: bool | None = None


@attrs.frozen(kw_only=True)
class StopHookSpecificOutput(HookSpecificOutput):
    """Answer to ``Stop``: context that makes the conversation continue."""

    hook_event_name: ClassVar[str] = "Stop"
    additional_context: str | None = None


@attrs.frozen(kw_only=True)
class SubagentStartHookSpecificOutput(HookSpecificOutput):
    """Answer to ``SubagentStart``: text added to the subagent's context."""

    hook_event_name: ClassVar[str] = "SubagentStart"
    additional_context: str | None = None


@attrs.frozen(kw_only=True)
class SubagentStopHookSpecificOutput(HookSpecificOutput):
    """Answer to ``SubagentStop``: context that makes the subagent continue."""

    hook_event_name: ClassVar[str] = "SubagentStop"
    additional_context: str | None = None


@attrs.frozen(kw_only=True)
class PreModelSwitchHookSpecificOutput(HookSpecificOutput):
    """Answer to ``PreModelSwitch``: allow, deny or ask about the switch."""

    hook_event_name: ClassVar[str] = "PreModelSwitch"
    permission_decision: Literal["allow", "deny", "ask"] | None = attrs.field(
        default=None, validator=_one_of("allow", "deny", "ask")
    )
    permission_decision_reason: str | None = None


@attrs.frozen(kw_only=True)
class PostModelSwitchHookSpecificOutput(HookSpecificOutput):
    """Answer to ``PostModelSwitch``: text added to the model's context."""

    hook_event_name: ClassVar[str] = "PostModelSwitch"
    additional_context: str | None = None


@attrs.frozen(kw_only=True)
class PermissionRequestHookSpecificOutput(HookSpecificOutput):
    """Answer to ``PermissionRequest``.

    Args:
        decision: :class:`~trio_claude.PermissionResultAllow` (``updated_input`` and
            ``updated_permissions`` optional) or :class:`~trio_claude.PermissionResultDeny`
            (``message``, ``interrupt``), or the wire dict.
    """

    hook_event_name: ClassVar[str] = "PermissionRequest"
    decision: PermissionResultAllow | PermissionResultDeny | dict[str, Any] | None = attrs.field(
        default=None, validator=_check_decision
    )

    def to_dict(self) -> dict[str, Any]:
        """The wire form: ``{"hookEventName": "PermissionRequest", "decision"?: {...}}``.

        Raises:
            TypeError: ``decision`` (or its ``updated_input``/``updated_permissions``) has the
                wrong type: it is refused, never sent as something else.
        """
        data: dict[str, Any] = {"hookEventName": self.hook_event_name}
        if self.decision is not None:
            data["decision"] = _encode_permission_decision(self.decision)
        return data


@attrs.frozen(kw_only=True)
class PermissionDeniedHookSpecificOutput(HookSpecificOutput):
    """Answer to ``PermissionDenied``: ``retry=True`` lets the model try again."""

    hook_event_name: ClassVar[str] = "PermissionDenied"
    retry: bool | None = None


@attrs.frozen(kw_only=True)
class SetupHookSpecificOutput(HookSpecificOutput):
    """Answer to ``Setup``: text added to the model's context."""

    hook_event_name: ClassVar[str] = "Setup"
    additional_context: str | None = None


@attrs.frozen(kw_only=True)
class ElicitationHookSpecificOutput(HookSpecificOutput):
    """Answer to ``Elicitation`` on the user's behalf."""

    hook_event_name: ClassVar[str] = "Elicitation"
    action: Literal["accept", "decline", "cancel"] | None = attrs.field(
        default=None, validator=_one_of("accept", "decline", "cancel")
    )
    content: dict[str, Any] | None = attrs.field(
        default=None, validator=_check_mapping, metadata=_MAPPING
    )


@attrs.frozen(kw_only=True)
class ElicitationResultHookSpecificOutput(HookSpecificOutput):
    """Answer to ``ElicitationResult``: override the action or content."""

    hook_event_name: ClassVar[str] = "ElicitationResult"
    action: Literal["accept", "decline", "cancel"] | None = attrs.field(
        default=None, validator=_one_of("accept", "decline", "cancel")
    )
    content: dict[str, Any] | None = attrs.field(
        default=None, validator=_check_mapping, metadata=_MAPPING
    )


@attrs.frozen(kw_only=True)
class WorktreeCreateHookSpecificOutput(HookSpecificOutput):
    """Answer to ``WorktreeCreate``: where the worktree was created (required)."""

    hook_event_name: ClassVar[str] = "WorktreeCreate"
    worktree_path: str


@attrs.frozen(kw_only=True)
class CwdChangedHookSpecificOutput(HookSpecificOutput):
    """Answer to ``CwdChanged``: paths to watch."""

    hook_event_name: ClassVar[str] = "CwdChanged"
    watch_paths: list[str] | None = None


@attrs.frozen(kw_only=True)
class FileChangedHookSpecificOutput(HookSpecificOutput):
    """Answer to ``FileChanged``: paths to watch."""

    hook_event_name: ClassVar[str] = "FileChanged"
    watch_paths: list[str] | None = None


@attrs.frozen(kw_only=True)
class MessageDisplayHookSpecificOutput(HookSpecificOutput):
    """Answer to ``MessageDisplay``: the text to display instead."""

    hook_event_name: ClassVar[str] = "MessageDisplay"
    display_content: str | None = None


@attrs.frozen(kw_only=True)
class PreSkillShellCommandHookSpecificOutput(HookSpecificOutput):
    """Answer to ``PreSkillShellCommand``.

    Args:
        permission_decision: ``deny``, ``ask`` and ``defer`` all keep the command from running;
            ``allow`` adds nothing (the command runs unless some hook refuses it).
        permission_decision_reason: Why.
        updated_input: Never applied: any value keeps the command from running.
    """

    hook_event_name: ClassVar[str] = "PreSkillShellCommand"
    permission_decision: Literal["allow", "deny", "ask", "defer"] | None = attrs.field(
        default=None, validator=_one_of("allow", "deny", "ask", "defer")
    )
    permission_decision_reason: str | None = None
    updated_input: dict[str, Any] | None = attrs.field(
        default=None, validator=_check_mapping, metadata=_MAPPING
    )


#: Event name -> its ``hookSpecificOutput`` class (events without one are absent).
HOOK_SPECIFIC_OUTPUT_TYPES: dict[str, type[HookSpecificOutput]] = {
    cls.hook_event_name: cls
    for cls in (
        PreToolUseHookSpecificOutput,
        PostToolUseHookSpecificOutput,
        PostToolUseFailureHookSpecificOutput,
        PostToolBatchHookSpecificOutput,
        NotificationHookSpecificOutput,
        UserPromptSubmitHookSpecificOutput,
        UserPromptExpansionHookSpecificOutput,
        SessionStartHookSpecificOutput,
        StopHookSpecificOutput,
        SubagentStartHookSpecificOutput,
        SubagentStopHookSpecificOutput,
        PreModelSwitchHookSpecificOutput,
        PostModelSwitchHookSpecificOutput,
        PermissionRequestHookSpecificOutput,
        PermissionDeniedHookSpecificOutput,
        SetupHookSpecificOutput,
        ElicitationHookSpecificOutput,
        ElicitationResultHookSpecificOutput,
        WorktreeCreateHookSpecificOutput,
        CwdChangedHookSpecificOutput,
        FileChangedHookSpecificOutput,
        MessageDisplayHookSpecificOutput,
        PreSkillShellCommandHookSpecificOutput,
    )
}


def _take_wire_keywords(cls: type[HookSpecificOutput]) -> None:
    """Lets ``cls`` be built as the official SDK's TypedDict is called: by its wire names
    (``PreToolUseHookSpecificOutput(hookEventName="PreToolUse", permissionDecision="deny")``),
    as well as by its attributes."""
    to_attr = {
        wire: f.name
        for f in attrs.fields(cls)
        if (wire := f.metadata.get("wire") or _camel(f.name)) != f.name
    }
    attrs_init = cls.__init__

    def __init__(self: Any, **kwargs: Any) -> None:
        event = kwargs.pop("hookEventName", cls.hook_event_name)
        if event != cls.hook_event_name:
            raise TypeError(f"{cls.__name__} answers {cls.hook_event_name}, not {event!r}")
        for wire in to_attr.keys() & kwargs.keys():
            if to_attr[wire] in kwargs:
                raise TypeError(f"{cls.__name__} got {to_attr[wire]!r} twice")
            kwargs[to_attr[wire]] = kwargs.pop(wire)
        attrs_init(self, **kwargs)

    __init__.__doc__ = attrs_init.__doc__
    __init__.__signature__ = inspect.signature(attrs_init)  # type: ignore[attr-defined]
    cls.__init__ = __init__  # type: ignore[method-assign]


for _cls in HOOK_SPECIFIC_OUTPUT_TYPES.values():
    _take_wire_keywords(_cls)
del _cls


@attrs.frozen(kw_only=True)
class HookOutput:
    """What a hook callback answers (``SyncHookJSONOutput`` / ``AsyncHookJSONOutput``).

    Every field is optional; ``HookOutput()`` means "no opinion". Trailing underscores avoid
    Python keywords and are dropped on the wire (``continue_`` -> ``continue``).

    Args:
        continue_: ``False`` stops the agent after this hook (``stop_reason`` says why).
        suppress_output: Hide the hook's output from the transcript.
        stop_reason: Shown when ``continue_`` is ``False``.
        decision: ``"block"`` (or ``"approve"``): the legacy top-level decision.
        system_message: A message shown to the user.
        reason: The reason for ``decision``, fed back to the model.
        hook_specific_output: The event's specific answer (``PreToolUseHookSpecificOutput``,
            ...), or its wire dict.
        async_: Answer later: the CLI goes on without waiting.
        async_timeout: With ``async_``: how long the CLI waits for the late answer, in
            milliseconds.
    """

    continue_: bool | None = None
    suppress_output: bool | None = None
    stop_reason: str | None = None
    decision: Literal["approve", "block"] | None = attrs.field(
        default=None, validator=_one_of("approve", "block")
    )
    system_message: str | None = None
    reason: str | None = None
    hook_specific_output: HookSpecificOutput | dict[str, Any] | None = None
    async_: bool | None = None
    async_timeout: int | None = None

    def to_dict(self, event: str | None = None) -> dict[str, Any]:
        """The wire form; ``None`` fields are omitted.

        Args:
            event: The hook's event, filled in as ``hookEventName`` when
                ``hook_specific_output`` is a dict without one.
        """
        data: dict[str, Any] = {}
        if self.continue_ is not None:
            data["continue"] = self.continue_
        if self.suppress_output is not None:
            data["suppressOutput"] = self.suppress_output
        if self.stop_reason is not None:
            data["stopReason"] = self.stop_reason
        if self.decision is not None:
            data["decision"] = self.decision
        if self.system_message is not None:
            data["systemMessage"] = self.system_message
        if self.reason is not None:
            data["reason"] = self.reason
        if self.hook_specific_output is not None:
            data["hookSpecificOutput"] = _specific(self.hook_specific_output, event)
        if self.async_ is not None:
            data["async"] = self.async_
        if self.async_timeout is not None:
            data["asyncTimeout"] = self.async_timeout
        return data


def _specific(value: Any, event: str | None) -> Any:
    if isinstance(value, HookSpecificOutput):
        return value.to_dict()
    if isinstance(value, Mapping):
        data = _plain(value)
        _check_wire_specific(data)
        if event and "hookEventName" not in data:
            data = {"hookEventName": event, **data}
        return data
    raise TypeError(
        f"hookSpecificOutput must be a HookSpecificOutput or a dict, not {type(value).__name__}"
    )


#: What a hook callback may return.
HookJSONOutput = HookOutput | HookSpecificOutput | Mapping[str, Any] | None

_RENAMES = {"continue_": "continue", "async_": "async"}


def encode_hook_output(value: Any, event: str | None = None) -> dict[str, Any]:
    """The ``hook_callback`` answer for a callback's return value.

    Args:
        value: A :class:`HookOutput`, a :class:`HookSpecificOutput` (wrapped as
            ``{"hookSpecificOutput": ...}``), a dict with wire names (``continue_`` and
            ``async_`` are renamed, typed values inside are encoded), or ``None`` (``{}``).
        event: The hook's event (fills a missing ``hookEventName``).

    Raises:
        TypeError: Any other value, or a dict with non-string keys or a field of the wrong type.
        ValueError: A dict with a value the CLI does not know for a closed field
            (``decision``, ``permissionDecision``, ``action``).
    """
    if value is None:
        return {}
    if isinstance(value, HookOutput):
        return value.to_dict(event)
    if isinstance(value, HookSpecificOutput):
        return {"hookSpecificOutput": value.to_dict()}
    if isinstance(value, Mapping):
        data: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"hook output keys must be strings, got {key!r}")
            key = _RENAMES.get(key, key)
            data[key] = _specific(item, event) if key == "hookSpecificOutput" else _plain(item)
        _check_wire_output(data)
        return data
    raise TypeError(
        "a hook callback must return HookOutput, a ...HookSpecificOutput, a dict or None, "
        f"not {type(value).__name__}"
    )
