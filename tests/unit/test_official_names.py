"""The official SDK's public names exist here, under the same names, and behave like its.

The lists are those of ``claude-agent-sdk`` 0.2.186 (``claude_agent_sdk.types``: every public
class, alias and constant it defines; ``claude_agent_sdk.__all__``), written out so that the
test needs no copy of the official package.
"""

from __future__ import annotations

import ast
import dataclasses
import subprocess
import sys
import textwrap
import typing
from pathlib import Path
from typing import Any

import attrs
import pytest

import trio_claude as tc
from trio_claude import types
from trio_claude._options import validate_options
from trio_claude._protocol._codec import decode_server_info
from trio_claude._transport._command import build_argv, build_initialize

#: Every public name ``claude_agent_sdk.types`` (0.2.186) defines.
OFFICIAL_TYPES_NAMES = [
    "AgentDefinition", "AssistantMessage", "AssistantMessageError", "AsyncHookJSONOutput",
    "BackgroundTaskSummary", "BaseHookInput", "CanUseTool", "CanUseToolShadowedWarning",
    "ClaudeAgentOptions", "ContentBlock", "ContextUsageCategory", "ContextUsageResponse",
    "ControlErrorResponse", "ControlResponse", "ConversationResetMessage",
    "CwdChangedHookSpecificOutput", "DeferredToolUse", "EffortLevel",
    "ElicitationHookSpecificOutput", "ElicitationResultHookSpecificOutput",
    "FastModeDisabledReason", "FastModeState", "FileChangedHookSpecificOutput", "HookCallback",
    "HookContext", "HookEffort", "HookEvent", "HookEventMessage", "HookInput", "HookJSONOutput",
    "HookMatcher", "HookSpecificOutput", "McpClaudeAIProxyServerConfig", "McpHttpServerConfig",
    "McpSSEServerConfig", "McpSdkServerConfig", "McpSdkServerConfigStatus", "McpServerConfig",
    "McpServerConnectionStatus", "McpServerInfo", "McpServerStatus", "McpServerStatusConfig",
    "McpStatusResponse", "McpStdioServerConfig", "McpToolAnnotations", "McpToolInfo", "Message",
    "MessageDisplayHookSpecificOutput", "MessageOrigin", "MessageOriginKind", "MirrorErrorMessage",
    "ModelUsage", "NotificationHookInput", "NotificationHookSpecificOutput", "PermissionBehavior",
    "PermissionDeniedHookSpecificOutput", "PermissionMode", "PermissionRequestHookInput",
    "PermissionRequestHookSpecificOutput", "PermissionResult", "PermissionResultAllow",
    "PermissionResultDeny", "PermissionRuleValue", "PermissionUpdate",
    "PermissionUpdateDestination", "PostModelSwitchHookSpecificOutput",
    "PostToolBatchHookSpecificOutput", "PostToolUseFailureHookInput",
    "PostToolUseFailureHookSpecificOutput", "PostToolUseHookInput",
    "PostToolUseHookSpecificOutput", "PreCompactHookInput", "PreModelSwitchHookSpecificOutput",
    "PreToolUseHookInput", "PreToolUseHookSpecificOutput", "RateLimitEvent", "RateLimitInfo",
    "RateLimitStatus", "RateLimitType", "ResultMessage", "SDKControlInitializeRequest",
    "SDKControlInterruptRequest", "SDKControlMcpMessageRequest", "SDKControlMcpReconnectRequest",
    "SDKControlMcpToggleRequest", "SDKControlPermissionRequest", "SDKControlRequest",
    "SDKControlResponse", "SDKControlRewindFilesRequest", "SDKControlSetPermissionModeRequest",
    "SDKControlStopTaskRequest", "SDKHookCallbackRequest", "SDKSessionInfo",
    "SandboxIgnoreViolations", "SandboxNetworkConfig", "SandboxSettings", "SdkBeta",
    "SdkPluginConfig", "ServerToolName", "ServerToolResultBlock", "ServerToolUseBlock",
    "SessionCronSummary", "SessionKey", "SessionListSubkeysKey", "SessionMessage",
    "SessionStartHookSpecificOutput", "SessionStore", "SessionStoreEntry", "SessionStoreFlushMode",
    "SessionStoreListEntry", "SessionSummaryEntry", "SettingSource", "StopHookInput",
    "StopHookSpecificOutput", "StreamEvent", "SubagentStartHookInput",
    "SubagentStartHookSpecificOutput", "SubagentStopHookInput", "SubagentStopHookSpecificOutput",
    "SyncHookJSONOutput", "SystemInitData", "SystemInitMcpServer", "SystemInitPlugin",
    "SystemInitPluginError", "SystemMessage", "SystemPromptCustom", "SystemPromptFile",
    "SystemPromptPreset", "TERMINAL_TASK_STATUSES", "TaskBudget", "TaskNotificationMessage",
    "TaskNotificationOriginSubkind", "TaskNotificationStatus", "TaskProgressMessage",
    "TaskStartedMessage", "TaskUpdatedMessage", "TaskUpdatedStatus", "TaskUsage", "TextBlock",
    "ThinkingBlock", "ThinkingConfig", "ThinkingConfigAdaptive", "ThinkingConfigDisabled",
    "ThinkingConfigEnabled", "ThinkingDisplay", "ToolPermissionContext", "ToolResultBlock",
    "ToolUseBlock", "ToolsPreset", "UserMessage", "UserPromptExpansionHookSpecificOutput",
    "UserPromptSubmitHookInput", "UserPromptSubmitHookSpecificOutput",
    "WorktreeCreateHookSpecificOutput",
]  # fmt: skip

#: ``claude_agent_sdk.__all__`` (0.2.186).
OFFICIAL_ALL = [
    "AgentDefinition",
    "AssistantMessage",
    "BackgroundTaskSummary",
    "BaseHookInput",
    "CLIConnectionError",
    "CLIJSONDecodeError",
    "CLINotFoundError",
    "CanUseTool",
    "CanUseToolShadowedWarning",
    "ClaudeAgentOptions",
    "ClaudeSDKClient",
    "ClaudeSDKError",
    "ContentBlock",
    "ContextUsageCategory",
    "ContextUsageResponse",
    "ConversationResetMessage",
    "CwdChangedHookSpecificOutput",
    "DeferredToolUse",
    "EffortLevel",
    "ElicitationHookSpecificOutput",
    "ElicitationResultHookSpecificOutput",
    "FastModeDisabledReason",
    "FastModeState",
    "FileChangedHookSpecificOutput",
    "ForkSessionResult",
    "HookCallback",
    "HookContext",
    "HookEffort",
    "HookEventMessage",
    "HookInput",
    "HookJSONOutput",
    "HookMatcher",
    "InMemorySessionStore",
    "McpSdkServerConfig",
    "McpServerConfig",
    "McpServerConnectionStatus",
    "McpServerInfo",
    "McpServerStatus",
    "McpServerStatusConfig",
    "McpStatusResponse",
    "McpToolAnnotations",
    "McpToolInfo",
    "Message",
    "MessageDisplayHookSpecificOutput",
    "MessageOrigin",
    "MessageOriginKind",
    "MirrorErrorMessage",
    "ModelUsage",
    "NotificationHookInput",
    "NotificationHookSpecificOutput",
    "PermissionDeniedHookSpecificOutput",
    "PermissionMode",
    "PermissionRequestHookInput",
    "PermissionRequestHookSpecificOutput",
    "PermissionResult",
    "PermissionResultAllow",
    "PermissionResultDeny",
    "PermissionUpdate",
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
    "ProcessError",
    "RateLimitEvent",
    "RateLimitInfo",
    "RateLimitStatus",
    "RateLimitType",
    "ResultError",
    "ResultMessage",
    "SDKSessionInfo",
    "SandboxIgnoreViolations",
    "SandboxNetworkConfig",
    "SandboxSettings",
    "SdkBeta",
    "SdkMcpTool",
    "SdkPluginConfig",
    "ServerToolName",
    "ServerToolResultBlock",
    "ServerToolUseBlock",
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
    "StreamEvent",
    "SubagentStartHookInput",
    "SubagentStartHookSpecificOutput",
    "SubagentStopHookInput",
    "SubagentStopHookSpecificOutput",
    "SystemInitData",
    "SystemInitMcpServer",
    "SystemInitPlugin",
    "SystemInitPluginError",
    "SystemMessage",
    "TERMINAL_TASK_STATUSES",
    "TaskBudget",
    "TaskNotificationMessage",
    "TaskNotificationOriginSubkind",
    "TaskNotificationStatus",
    "TaskProgressMessage",
    "TaskStartedMessage",
    "TaskUpdatedMessage",
    "TaskUpdatedStatus",
    "TaskUsage",
    "TextBlock",
    "ThinkingBlock",
    "ThinkingConfig",
    "ThinkingConfigAdaptive",
    "ThinkingConfigDisabled",
    "ThinkingConfigEnabled",
    "ToolAnnotations",
    "ToolPermissionContext",
    "ToolResultBlock",
    "ToolUseBlock",
    "Transport",
    "UserMessage",
    "UserPromptExpansionHookSpecificOutput",
    "UserPromptSubmitHookInput",
    "UserPromptSubmitHookSpecificOutput",
    "WorktreeCreateHookSpecificOutput",
    "__version__",
    "create_sdk_mcp_server",
    "delete_session",
    "delete_session_via_store",
    "fold_session_summary",
    "fork_session",
    "fork_session_via_store",
    "get_session_info",
    "get_session_info_from_store",
    "get_session_messages",
    "get_session_messages_from_store",
    "get_subagent_messages",
    "get_subagent_messages_from_store",
    "import_session_to_store",
    "list_sessions",
    "list_sessions_from_store",
    "list_subagents",
    "list_subagents_from_store",
    "project_key_for_directory",
    "query",
    "rename_session",
    "rename_session_via_store",
    "tag_session",
    "tag_session_via_store",
    "tool",
]

#: The official SDK's config and wire dicts, which are TypedDicts here too.
TYPED_DICTS = [
    "AsyncHookJSONOutput", "ContextUsageCategory", "ContextUsageResponse", "ControlErrorResponse",
    "ControlResponse", "HookEffort", "McpClaudeAIProxyServerConfig", "McpHttpServerConfig",
    "McpSSEServerConfig", "McpSdkServerConfigStatus", "McpServerInfo", "McpStatusResponse",
    "McpStdioServerConfig", "McpToolAnnotations", "McpToolInfo", "MessageOrigin", "ModelUsage",
    "SDKControlInitializeRequest", "SDKControlInterruptRequest", "SDKControlMcpMessageRequest",
    "SDKControlMcpReconnectRequest", "SDKControlMcpToggleRequest", "SDKControlPermissionRequest",
    "SDKControlRequest", "SDKControlResponse", "SDKControlRewindFilesRequest",
    "SDKControlSetPermissionModeRequest", "SDKControlStopTaskRequest", "SDKHookCallbackRequest",
    "SandboxNetworkConfig", "SandboxSettings", "SdkPluginConfig", "SyncHookJSONOutput",
    "SystemInitData", "SystemInitMcpServer", "SystemInitPlugin", "SystemInitPluginError",
    "SystemPromptCustom", "SystemPromptFile", "SystemPromptPreset", "TaskBudget", "TaskUsage",
    "ToolsPreset",
]  # fmt: skip


# --------------------------------------------------------------------------- the names


@pytest.mark.parametrize("name", OFFICIAL_TYPES_NAMES)
def test_every_name_of_the_official_types_module_is_in_trio_claude_types(name: str) -> None:
    assert getattr(types, name) is not None
    assert name in types.__all__  # ``from trio_claude.types import *`` has it too
    assert name in dir(types)


@pytest.mark.parametrize("name", OFFICIAL_ALL)
def test_every_name_of_the_official_package_is_in_trio_claude(name: str) -> None:
    assert getattr(tc, name) is not None
    assert name in dir(tc)


@pytest.mark.parametrize("name", [n for n in OFFICIAL_TYPES_NAMES if n in OFFICIAL_ALL])
def test_both_modules_export_the_same_object(name: str) -> None:
    assert getattr(types, name) is getattr(tc, name)


def test_the_lists_are_complete() -> None:
    assert len(OFFICIAL_TYPES_NAMES) == len(set(OFFICIAL_TYPES_NAMES)) == 154
    assert len(OFFICIAL_ALL) == len(set(OFFICIAL_ALL)) == 159


def test_star_import_of_types_gives_the_official_names() -> None:
    namespace: dict[str, Any] = {}
    exec("from trio_claude.types import *", namespace)
    assert set(OFFICIAL_TYPES_NAMES) <= set(namespace)


def _type_checking_imports(path: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for statement in node.body:
                assert isinstance(statement, ast.ImportFrom), ast.unparse(statement)
                for alias in statement.names:
                    assert alias.asname == alias.name, ast.unparse(statement)
                    found[alias.name] = "." * statement.level + (statement.module or "")
    return found


def test_the_lazy_table_of_types_matches_its_type_checking_imports() -> None:
    assert _type_checking_imports(Path(types.__file__)) == types._LAZY
    for name, module in types._LAZY.items():
        assert name in types.__all__, name
        assert module != ".types"


def test_importing_stays_lazy() -> None:
    script = textwrap.dedent(
        """
        import sys
        import trio_claude, trio_claude.types
        rare = ["trio_claude._official_types", "trio_claude._hooks", "trio_claude._sessions",
                "trio_claude._session_store"]
        assert not [m for m in rare if m in sys.modules], [m for m in rare if m in sys.modules]
        from trio_claude.types import McpStdioServerConfig, PreToolUseHookInput
        assert "trio_claude._official_types" in sys.modules
        assert "trio_claude._hooks" in sys.modules
        print("ok")
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


# --------------------------------------------------------------------------- what they are


# On 3.10 the SDK's TypedDicts come from typing_extensions (the stdlib's ignores NotRequired),
# and the stdlib's is_typeddict does not recognise those; typing_extensions' recognises both.
if sys.version_info >= (3, 11):
    from typing import is_typeddict
else:
    from typing_extensions import is_typeddict


@pytest.mark.parametrize("name", TYPED_DICTS)
def test_config_and_wire_dicts_are_typed_dicts(name: str) -> None:
    assert is_typeddict(getattr(types, name))


def test_literal_aliases_list_the_known_values() -> None:
    assert set(typing.get_args(types.FastModeState)) == {"off", "cooldown", "on"}
    assert "needs-auth" in typing.get_args(types.McpServerConnectionStatus)
    assert set(typing.get_args(types.TaskUpdatedStatus)) >= {"killed", "paused"}
    assert typing.get_args(types.SessionStoreFlushMode) == ("batched", "eager")
    assert typing.get_args(types.ThinkingDisplay) == ("summarized", "omitted")
    terminal = types.TERMINAL_TASK_STATUSES
    assert terminal == frozenset({"completed", "failed", "stopped", "killed"})
    assert issubclass(types.CanUseToolShadowedWarning, UserWarning)


def test_official_config_dicts_configure_a_session() -> None:
    options = tc.ClaudeAgentOptions(
        tools=types.ToolsPreset(type="preset", preset="claude_code"),
        system_prompt=types.SystemPromptPreset(type="preset", preset="claude_code", append="Hi"),
        mcp_servers={
            "files": types.McpStdioServerConfig(command="npx", args=["-y", "server"]),
            "web": types.McpHttpServerConfig(type="http", url="http://127.0.0.1:9/mcp"),
            "events": types.McpSSEServerConfig(type="sse", url="http://127.0.0.1:9/sse"),
        },
        sandbox=types.SandboxSettings(
            enabled=True, network=types.SandboxNetworkConfig(allowLocalBinding=True)
        ),
        plugins=[types.SdkPluginConfig(type="local", path="/plugins/p")],
        task_budget=dict(types.TaskBudget(total=10_000)),
        thinking={"type": "adaptive", "display": "summarized"},
        hooks={"PreToolUse": [types.HookMatcher(matcher="Bash", hooks=[_hook])]},
        agents={"r": types.AgentDefinition(description="d", prompt="p")},
    )
    validate_options(options)
    argv = build_argv(options, "claude")
    assert "--append-system-prompt=Hi" in argv
    assert "--tools=default" in argv
    initialize = build_initialize(options)
    assert set(initialize["agents"]) == {"r"}
    assert initialize["mcpServers"]["files"] == {"command": "npx", "args": ["-y", "server"]}
    custom = types.SystemPromptCustom(type="custom", prompt="You are terse.")
    validate_options(tc.ClaudeAgentOptions(system_prompt=custom))
    from_file = types.SystemPromptFile(type="file", path="/p")
    validate_options(tc.ClaudeAgentOptions(system_prompt=from_file))


async def _hook(
    input: types.HookInput, tool_use_id: str | None, context: types.HookContext
) -> types.HookJSONOutput:
    answer: types.SyncHookJSONOutput = {"continue_": True, "suppressOutput": False}
    return answer


def test_rate_limit_info_decodes_the_event_dict() -> None:
    wire = {
        "status": "allowed_warning",
        "resetsAt": 1_700_000_000,
        "rateLimitType": "five_hour",
        "utilization": 0.9,
        "overageStatus": "rejected",
        "overageResetsAt": 1_700_000_100,
        "overageDisabledReason": "org_level_disabled",
        "somethingNew": True,
    }
    info = types.RateLimitInfo.from_dict(tc.RateLimitEvent(rate_limit_info=wire).rate_limit_info)
    assert info == types.RateLimitInfo(
        status="allowed_warning",
        resets_at=1_700_000_000,
        rate_limit_type="five_hour",
        utilization=0.9,
        overage_status="rejected",
        overage_resets_at=1_700_000_100,
        overage_disabled_reason="org_level_disabled",
    )
    assert info.raw == wire
    odd = types.RateLimitInfo.from_dict({"status": 3, "resetsAt": "soon", "utilization": True})
    assert (odd.status, odd.resets_at, odd.utilization) == ("", None, None)


# --------------------------------------------------------------------------- ServerInfo


INITIALIZE_REPLY: dict[str, Any] = {
    "commands": [{"name": "review", "description": "Review", "argumentHint": "<pr>"}],
    "agents": [{"name": "Explore", "description": "Search"}],
    "models": [{"value": "default", "displayName": "Default", "description": "d"}],
    "output_style": "default",
    "available_output_styles": ["default"],
    "account": {"apiKeySource": "ANTHROPIC_API_KEY"},
    "pid": 42,
    "somethingNew": {"x": 1},
}


def test_server_info_reads_like_the_reply_dict() -> None:
    info = decode_server_info(INITIALIZE_REPLY)
    # what official code does with get_server_info()
    assert info["commands"] == INITIALIZE_REPLY["commands"]
    assert [c["name"] for c in info["commands"]] == ["review"]
    assert info.get("output_style") == "default"
    assert info.get("missing") is None and info.get("missing", 7) == 7
    assert "models" in info and "missing" not in info
    assert info["somethingNew"] == {"x": 1}  # fields this version does not model
    assert list(info.keys()) == list(INITIALIZE_REPLY)
    assert dict(info) == INITIALIZE_REPLY
    assert dict(info.items()) == INITIALIZE_REPLY
    assert list(info.values()) == list(INITIALIZE_REPLY.values())
    assert list(info) == list(INITIALIZE_REPLY) and len(info) == len(INITIALIZE_REPLY)
    with pytest.raises(KeyError):
        info["missing"]
    # ... while the attributes stay typed
    assert isinstance(info.commands[0], tc.SlashCommand)
    assert info.commands[0].argument_hint == "<pr>"
    assert info.pid == 42 and info.account == {"apiKeySource": "ANTHROPIC_API_KEY"}


def test_server_info_built_by_hand_is_true_and_empty() -> None:
    info = tc.ServerInfo(pid=1)
    assert info and len(info) == 0 and dict(info) == {}
    assert info == tc.ServerInfo(pid=1, raw={"pid": 1})  # raw stays out of equality


# --------------------------------------------------------------------------- dataclasses


DATACLASS_EXAMPLES: list[Any] = [
    tc.AgentDefinition(description="d", prompt="p", disallowedTools=["Bash"], maxTurns=3),
    tc.HookMatcher(matcher="Bash", hooks=[_hook], timeout=5),
    tc.ClaudeAgentOptions(model="m", allowed_tools=["Read"]),
    tc.SDKSessionInfo(session_id="s", summary="x", last_modified=1),
    tc.SessionMessage(type="user", uuid="u", session_id="s", message={"role": "user"}),
    tc.ForkSessionResult(session_id="s"),
]


#: The dataclasses module, untyped: these attrs classes are dataclasses at run time too (as the
#: official SDK's are), which mypy cannot see.
dc: Any = dataclasses


@pytest.mark.parametrize("value", DATACLASS_EXAMPLES, ids=lambda v: type(v).__name__)
def test_official_dataclasses_are_dataclasses_here_too(value: Any) -> None:
    cls = type(value)
    assert dc.is_dataclass(value) and dc.is_dataclass(cls)
    assert [f.name for f in dc.fields(value)] == [f.name for f in attrs.fields(cls)]
    first = attrs.fields(cls)[0].name
    assert dc.replace(value) == value
    assert attrs.evolve(value) == value  # attrs keeps working
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        setattr(value, first, "changed")
    if cls is not tc.ClaudeAgentOptions:  # its defaults hold sys.stderr-like objects in official
        as_dict = dc.asdict(value)
        assert as_dict == {f.name: getattr(value, f.name) for f in attrs.fields(cls)}


def test_asdict_of_an_agent_definition_is_accepted_back() -> None:
    agent = tc.AgentDefinition(
        description="reviews", prompt="You review.", tools=["Read"], maxTurns=4, model="opus"
    )
    # what the official client does with an AgentDefinition
    as_dict = {k: v for k, v in dc.asdict(agent).items() if v is not None}
    assert as_dict == {
        "description": "reviews",
        "prompt": "You review.",
        "tools": ("Read",),
        "model": "opus",
        "max_turns": 4,
    }
    assert tc.AgentDefinition(**dc.asdict(agent)) == agent
    from_dict = tc.ClaudeAgentOptions(agents={"r": as_dict})
    from_class = tc.ClaudeAgentOptions(agents={"r": agent})
    validate_options(from_dict)
    assert build_initialize(from_dict)["agents"] == build_initialize(from_class)["agents"]
    assert build_initialize(from_class)["agents"]["r"] == agent.to_wire()
    assert agent.to_wire()["maxTurns"] == 4


def test_replace_runs_the_converters_like_evolve() -> None:
    options = tc.ClaudeAgentOptions(model="a")
    changed = dc.replace(options, model="b", allowed_tools=["Read", "Edit"], cwd=Path("/w"))
    assert changed.model == "b" and changed.allowed_tools == ("Read", "Edit")
    assert changed.cwd == "/w"
    assert changed == attrs.evolve(options, model="b", allowed_tools=["Read", "Edit"], cwd="/w")
    matcher = dc.replace(tc.HookMatcher(hooks=[_hook]), matcher="Write")
    assert matcher.hooks == (_hook,) and matcher.matcher == "Write"


def test_mcp_status_and_context_usage_read_like_their_wire_dicts() -> None:
    wire = {"name": "calc", "status": "connected", "serverInfo": {"name": "c", "version": "1"}}
    status = tc.McpServerStatus.from_wire(wire)
    assert status["serverInfo"] == {"name": "c", "version": "1"} and dict(status) == wire
    assert status.server_info == {"name": "c", "version": "1"} and status.status == "connected"
    usage = tc.ContextUsage.from_wire({"totalTokens": 5, "memoryFiles": []})
    assert usage["totalTokens"] == usage.total_tokens == 5
    assert usage.get("memoryFiles") == [] and "gridRows" not in usage
