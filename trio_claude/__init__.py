"""trio-claude: a Trio-native, structured-concurrency Python SDK for Claude Code."""

from typing import TYPE_CHECKING

from . import types as types
from ._client import ClaudeSDKClient as ClaudeSDKClient

# The answers of the control API (``session.get_context_usage()``, ...): imported on first use
# (names also in _LAZY below). The user-dialog request and answer are eager (see below).
if TYPE_CHECKING:
    from ._control_types import AppliedSettings as AppliedSettings
    from ._control_types import BinaryVersion as BinaryVersion
    from ._control_types import CancelAsyncMessageResult as CancelAsyncMessageResult
    from ._control_types import ContextUsage as ContextUsage
    from ._control_types import FileSuggestion as FileSuggestion
    from ._control_types import FileSuggestions as FileSuggestions
    from ._control_types import HookEventSummary as HookEventSummary
    from ._control_types import HookListingEntry as HookListingEntry
    from ._control_types import HooksListing as HooksListing
    from ._control_types import InterruptResult as InterruptResult
    from ._control_types import McpCallResult as McpCallResult
    from ._control_types import McpReadResourceResult as McpReadResourceResult
    from ._control_types import McpResourceContent as McpResourceContent
    from ._control_types import McpServerStatus as McpServerStatus
    from ._control_types import McpSetServersResult as McpSetServersResult
    from ._control_types import PermissionRuleEntry as PermissionRuleEntry
    from ._control_types import PermissionRules as PermissionRules
    from ._control_types import ReadFileResult as ReadFileResult
    from ._control_types import RewindFilesResult as RewindFilesResult
    from ._control_types import SettingsSnapshot as SettingsSnapshot
    from ._control_types import SettingsSource as SettingsSource
    from ._control_types import TaskOutput as TaskOutput
    from ._control_types import WorkspaceDirectory as WorkspaceDirectory
from ._errors import BudgetExceededError as BudgetExceededError
from ._errors import ClaudeSDKError as ClaudeSDKError
from ._errors import CLIConnectionError as CLIConnectionError
from ._errors import CLIJSONDecodeError as CLIJSONDecodeError
from ._errors import CLINotFoundError as CLINotFoundError
from ._errors import ConcurrentReceiveError as ConcurrentReceiveError
from ._errors import WrongEventLoopError as WrongEventLoopError
from ._errors import ConfigurationError as ConfigurationError
from ._errors import ControlRequestError as ControlRequestError
from ._errors import ControlTimeoutError as ControlTimeoutError
from ._errors import InvalidPromptError as InvalidPromptError
from ._errors import MessageParseError as MessageParseError
from ._errors import NoTurnError as NoTurnError
from ._errors import ProcessError as ProcessError
from ._errors import ProcessErrorReason as ProcessErrorReason
from ._errors import ResultError as ResultError
from ._errors import SessionClosedError as SessionClosedError
from ._errors import StallTimeoutError as StallTimeoutError
from ._errors import TurnInProgressError as TurnInProgressError
from ._errors import TurnInterruptedError as TurnInterruptedError
from ._options import AgentDefinition as AgentDefinition
from ._options import CanUseTool as CanUseTool
from ._options import ClaudeAgentOptions as ClaudeAgentOptions
from ._options import EffortLevel as EffortLevel
from ._options import HookCallback as HookCallback
from ._options import HookEvent as HookEvent
from ._options import HookMatcher as HookMatcher
from ._options import McpServerConfig as McpServerConfig
from ._options import SYSTEM_PROMPT_DYNAMIC_BOUNDARY as SYSTEM_PROMPT_DYNAMIC_BOUNDARY
from ._options import SettingSource as SettingSource
from ._options import ThinkingConfig as ThinkingConfig
from ._options import ThinkingConfigAdaptive as ThinkingConfigAdaptive
from ._options import ThinkingConfigDisabled as ThinkingConfigDisabled
from ._options import ThinkingConfigEnabled as ThinkingConfigEnabled

#: Public subpackages, loaded on first use (``tc.teams``).
_SUBPACKAGES = frozenset({"teams"})

if TYPE_CHECKING:  # imported on first use (see _LAZY at the end)
    from . import teams as teams
    from ._install import install_cli as install_cli
    from ._pool import PoolStatistics as PoolStatistics
    from ._pool import SessionPool as SessionPool
    from ._pool import open_session_pool as open_session_pool

from ._query import ask as ask
from ._query import query as query
from ._session import LifecycleState as LifecycleState
from ._session import MessageStream as MessageStream
from ._session import Session as Session
from ._session import SessionStatistics as SessionStatistics
from ._session import connect_session as connect_session
from ._session import open_session as open_session
from ._transport._base import ChildProcess as ChildProcess
from ._transport._base import LaunchSpec as LaunchSpec
from ._transport._base import Transport as Transport
from ._transport._discovery import find_cli as find_cli
from ._transport._process import SubprocessTransport as SubprocessTransport

# Remote transports: imported on first use (names also in _LAZY below).
if TYPE_CHECKING:
    from ._transport._ray import RayTransport as RayTransport
    from ._transport._ssh import SSHTransport as SSHTransport

from ._version import CLI_VERSION as CLI_VERSION
from ._version import __version__ as __version__
from .types import ActiveGoalMessage as ActiveGoalMessage
from .types import AgentInfo as AgentInfo
from .types import AssistantMessage as AssistantMessage
from .types import AssistantMessageError as AssistantMessageError
from .types import AuthStatusMessage as AuthStatusMessage
from .types import CommandLifecycleMessage as CommandLifecycleMessage
from .types import ContentBlock as ContentBlock
from .types import ConversationResetMessage as ConversationResetMessage
from .types import DeferredToolUse as DeferredToolUse
from .types import DocumentBlock as DocumentBlock
from .types import ImageBlock as ImageBlock
from .types import InitMessage as InitMessage
from .types import Message as Message
from .types import ModelInfo as ModelInfo
from .types import PermissionMode as PermissionMode
from .types import PromptSuggestionMessage as PromptSuggestionMessage
from .types import RateLimitEvent as RateLimitEvent
from .types import RedactedThinkingBlock as RedactedThinkingBlock
from .types import ResultMessage as ResultMessage
from .types import ResultSubtype as ResultSubtype
from .types import ServerInfo as ServerInfo
from .types import ServerToolName as ServerToolName
from .types import ServerToolResultBlock as ServerToolResultBlock
from .types import ServerToolUseBlock as ServerToolUseBlock
from .types import SessionState as SessionState
from .types import SlashCommand as SlashCommand
from .types import StatusMessage as StatusMessage
from .types import StreamEvent as StreamEvent
from .types import SystemMessage as SystemMessage
from .types import StartupFailureReason as StartupFailureReason
from .types import TerminalReason as TerminalReason
from .types import TextBlock as TextBlock
from .types import ThinkingBlock as ThinkingBlock
from .types import ToolProgressMessage as ToolProgressMessage
from .types import ToolResultBlock as ToolResultBlock
from .types import ToolUseBlock as ToolUseBlock
from .types import ToolUseSummaryMessage as ToolUseSummaryMessage
from .types import TurnResult as TurnResult
from .types import UnknownBlock as UnknownBlock
from .types import UnknownMessage as UnknownMessage
from .types import UserMessage as UserMessage

# --- callbacks: permissions, hooks, in-process MCP (issue 4) ---
from ._hook_context import HookContext as HookContext

# The ~70 hook input/output classes are imported on first use (names also in _LAZY below).
if TYPE_CHECKING:
    from ._hooks import HOOK_INPUT_TYPES as HOOK_INPUT_TYPES
    from ._hooks import HOOK_SPECIFIC_OUTPUT_TYPES as HOOK_SPECIFIC_OUTPUT_TYPES
    from ._hooks import BackgroundTaskSummary as BackgroundTaskSummary
    from ._hooks import BaseHookInput as BaseHookInput
    from ._hooks import ConfigChangeHookInput as ConfigChangeHookInput
    from ._hooks import CwdChangedHookInput as CwdChangedHookInput
    from ._hooks import CwdChangedHookSpecificOutput as CwdChangedHookSpecificOutput
    from ._hooks import DirectoryAddedHookInput as DirectoryAddedHookInput
    from ._hooks import ElicitationHookInput as ElicitationHookInput
    from ._hooks import ElicitationHookSpecificOutput as ElicitationHookSpecificOutput
    from ._hooks import ElicitationResultHookInput as ElicitationResultHookInput
    from ._hooks import ElicitationResultHookSpecificOutput as ElicitationResultHookSpecificOutput
    from ._hooks import FileChangedHookInput as FileChangedHookInput
    from ._hooks import FileChangedHookSpecificOutput as FileChangedHookSpecificOutput
    from ._hooks import GenericHookInput as GenericHookInput
    from ._hooks import HookInput as HookInput
    from ._hooks import HookJSONOutput as HookJSONOutput
    from ._hooks import HookOutput as HookOutput
    from ._hooks import HookSpecificOutput as HookSpecificOutput
    from ._hooks import InstructionsLoadedHookInput as InstructionsLoadedHookInput
    from ._hooks import InterruptHookInput as InterruptHookInput
    from ._hooks import MessageDisplayHookInput as MessageDisplayHookInput
    from ._hooks import MessageDisplayHookSpecificOutput as MessageDisplayHookSpecificOutput
    from ._hooks import NotificationHookInput as NotificationHookInput
    from ._hooks import NotificationHookSpecificOutput as NotificationHookSpecificOutput
    from ._hooks import PermissionDeniedHookInput as PermissionDeniedHookInput
    from ._hooks import PermissionDeniedHookSpecificOutput as PermissionDeniedHookSpecificOutput
    from ._hooks import PermissionRequestHookInput as PermissionRequestHookInput
    from ._hooks import PermissionRequestHookSpecificOutput as PermissionRequestHookSpecificOutput
    from ._hooks import PostCompactHookInput as PostCompactHookInput
    from ._hooks import PostModelSwitchHookInput as PostModelSwitchHookInput
    from ._hooks import PostModelSwitchHookSpecificOutput as PostModelSwitchHookSpecificOutput
    from ._hooks import PostToolBatchHookInput as PostToolBatchHookInput
    from ._hooks import PostToolBatchHookSpecificOutput as PostToolBatchHookSpecificOutput
    from ._hooks import PostToolBatchToolCall as PostToolBatchToolCall
    from ._hooks import PostToolUseFailureHookInput as PostToolUseFailureHookInput
    from ._hooks import PostToolUseFailureHookSpecificOutput as PostToolUseFailureHookSpecificOutput
    from ._hooks import PostToolUseHookInput as PostToolUseHookInput
    from ._hooks import PostToolUseHookSpecificOutput as PostToolUseHookSpecificOutput
    from ._hooks import PreCompactHookInput as PreCompactHookInput
    from ._hooks import PreModelSwitchHookInput as PreModelSwitchHookInput
    from ._hooks import PreModelSwitchHookSpecificOutput as PreModelSwitchHookSpecificOutput
    from ._hooks import PreSkillShellCommandHookInput as PreSkillShellCommandHookInput
    from ._hooks import (
        PreSkillShellCommandHookSpecificOutput as PreSkillShellCommandHookSpecificOutput,
    )
    from ._hooks import PreToolUseHookInput as PreToolUseHookInput
    from ._hooks import PreToolUseHookSpecificOutput as PreToolUseHookSpecificOutput
    from ._hooks import SessionCronSummary as SessionCronSummary
    from ._hooks import SessionEndHookInput as SessionEndHookInput
    from ._hooks import SessionStartHookInput as SessionStartHookInput
    from ._hooks import SessionStartHookSpecificOutput as SessionStartHookSpecificOutput
    from ._hooks import SetupHookInput as SetupHookInput
    from ._hooks import SetupHookSpecificOutput as SetupHookSpecificOutput
    from ._hooks import StopFailureHookInput as StopFailureHookInput
    from ._hooks import StopHookInput as StopHookInput
    from ._hooks import StopHookSpecificOutput as StopHookSpecificOutput
    from ._hooks import SubagentStartHookInput as SubagentStartHookInput
    from ._hooks import SubagentStartHookSpecificOutput as SubagentStartHookSpecificOutput
    from ._hooks import SubagentStopHookInput as SubagentStopHookInput
    from ._hooks import SubagentStopHookSpecificOutput as SubagentStopHookSpecificOutput
    from ._hooks import TaskCompletedHookInput as TaskCompletedHookInput
    from ._hooks import TaskCreatedHookInput as TaskCreatedHookInput
    from ._hooks import TeammateIdleHookInput as TeammateIdleHookInput
    from ._hooks import UserPromptExpansionHookInput as UserPromptExpansionHookInput
    from ._hooks import (
        UserPromptExpansionHookSpecificOutput as UserPromptExpansionHookSpecificOutput,
    )
    from ._hooks import UserPromptSubmitHookInput as UserPromptSubmitHookInput
    from ._hooks import UserPromptSubmitHookSpecificOutput as UserPromptSubmitHookSpecificOutput
    from ._hooks import WorktreeCreateHookInput as WorktreeCreateHookInput
    from ._hooks import WorktreeCreateHookSpecificOutput as WorktreeCreateHookSpecificOutput
    from ._hooks import WorktreeRemoveHookInput as WorktreeRemoveHookInput

# In-process MCP servers: imported on first use (names also in _LAZY below).
if TYPE_CHECKING:
    from ._mcp import AudioContent as AudioContent
    from ._mcp import EmbeddedResource as EmbeddedResource
    from ._mcp import ImageContent as ImageContent
    from ._mcp import McpSdkServerConfig as McpSdkServerConfig
    from ._mcp import ResourceLink as ResourceLink
    from ._mcp import SdkMcpServer as SdkMcpServer
    from ._mcp import SdkMcpTool as SdkMcpTool
    from ._mcp import TextContent as TextContent
    from ._mcp import ToolAnnotations as ToolAnnotations
    from ._mcp import ToolContent as ToolContent
    from ._mcp import ToolResult as ToolResult
    from ._mcp import create_sdk_mcp_server as create_sdk_mcp_server
    from ._mcp import tool as tool

from ._options import ElicitationCallback as ElicitationCallback
from ._options import UserDialogCallback as UserDialogCallback
from ._permissions import PermissionBehavior as PermissionBehavior
from ._permissions import PermissionDecisionClassification as PermissionDecisionClassification
from ._permissions import PermissionResult as PermissionResult
from ._permissions import PermissionResultAllow as PermissionResultAllow
from ._permissions import PermissionResultDeny as PermissionResultDeny
from ._permissions import PermissionRuleValue as PermissionRuleValue
from ._permissions import PermissionUpdate as PermissionUpdate
from ._permissions import PermissionUpdateDestination as PermissionUpdateDestination
from ._permissions import PermissionUpdateType as PermissionUpdateType
from ._permissions import ToolPermissionContext as ToolPermissionContext
from ._elicitation import ElicitationRequest as ElicitationRequest
from ._elicitation import ElicitationResult as ElicitationResult
from ._user_dialog import UserDialogRequest as UserDialogRequest
from ._user_dialog import UserDialogResult as UserDialogResult

# --- on-disk sessions and session stores (issue 5) ---
# Imported on first use (see the end of this file): add a name under TYPE_CHECKING here and
# in _LAZY below.
if TYPE_CHECKING:
    from ._session_store import InMemorySessionStore as InMemorySessionStore
    from ._session_store import SessionKey as SessionKey
    from ._session_store import SessionListSubkeysKey as SessionListSubkeysKey
    from ._session_store import SessionStore as SessionStore
    from ._session_store import SessionStoreEntry as SessionStoreEntry
    from ._session_store import SessionStoreListEntry as SessionStoreListEntry
    from ._session_store import SessionSummaryEntry as SessionSummaryEntry
    from ._session_store import delete_session_via_store as delete_session_via_store
    from ._session_store import fold_session_summary as fold_session_summary
    from ._session_store import fork_session_via_store as fork_session_via_store
    from ._session_store import get_session_info_from_store as get_session_info_from_store
    from ._session_store import get_session_messages_from_store as get_session_messages_from_store
    from ._session_store import get_subagent_messages_from_store as get_subagent_messages_from_store
    from ._session_store import import_session_to_store as import_session_to_store
    from ._session_store import list_sessions_from_store as list_sessions_from_store
    from ._session_store import list_subagents_from_store as list_subagents_from_store
    from ._session_store import project_key_for_directory as project_key_for_directory
    from ._session_store import rename_session_via_store as rename_session_via_store
    from ._session_store import tag_session_via_store as tag_session_via_store
    from .stores._errors import SessionStoreError as SessionStoreError
    from .stores._errors import SessionStoreSchemaError as SessionStoreSchemaError
    from .stores._errors import SessionStoreUnavailableError as SessionStoreUnavailableError
    from .stores._postgres import PostgresSessionStore as PostgresSessionStore
    from .stores._sqlite import SQLiteSessionStore as SQLiteSessionStore
    from ._sessions import ForkSessionResult as ForkSessionResult
    from ._sessions import SDKSessionInfo as SDKSessionInfo
    from ._sessions import SessionMessage as SessionMessage
    from ._sessions import SessionNotFoundError as SessionNotFoundError
    from ._sessions import SessionValueError as SessionValueError
    from ._sessions import adelete_session as adelete_session
    from ._sessions import afork_session as afork_session
    from ._sessions import aget_session_info as aget_session_info
    from ._sessions import aget_session_messages as aget_session_messages
    from ._sessions import aget_subagent_messages as aget_subagent_messages
    from ._sessions import alist_sessions as alist_sessions
    from ._sessions import alist_subagents as alist_subagents
    from ._sessions import arename_session as arename_session
    from ._sessions import atag_session as atag_session
    from ._sessions import delete_session as delete_session
    from ._sessions import fork_session as fork_session
    from ._sessions import get_session_info as get_session_info
    from ._sessions import get_session_messages as get_session_messages
    from ._sessions import get_subagent_messages as get_subagent_messages
    from ._sessions import list_sessions as list_sessions
    from ._sessions import list_subagents as list_subagents
    from ._sessions import rename_session as rename_session
    from ._sessions import tag_session as tag_session

# --- the official SDK's remaining top-level names: dict types and Literal aliases (issue 12) ---
# Imported on first use (names also in _LAZY below); trio_claude.types has them all.
if TYPE_CHECKING:
    from ._official_types import CanUseToolShadowedWarning as CanUseToolShadowedWarning
    from ._official_types import ContextUsageCategory as ContextUsageCategory
    from ._official_types import ContextUsageResponse as ContextUsageResponse
    from ._official_types import FastModeDisabledReason as FastModeDisabledReason
    from ._official_types import FastModeState as FastModeState
    from ._official_types import HookEffort as HookEffort
    from ._official_types import McpServerConnectionStatus as McpServerConnectionStatus
    from ._official_types import McpServerInfo as McpServerInfo
    from ._official_types import McpServerStatusConfig as McpServerStatusConfig
    from ._official_types import McpStatusResponse as McpStatusResponse
    from ._official_types import McpToolAnnotations as McpToolAnnotations
    from ._official_types import McpToolInfo as McpToolInfo
    from ._official_types import MessageOrigin as MessageOrigin
    from ._official_types import MessageOriginKind as MessageOriginKind
    from ._official_types import ModelUsage as ModelUsage
    from ._official_types import RateLimitInfo as RateLimitInfo
    from ._official_types import RateLimitStatus as RateLimitStatus
    from ._official_types import RateLimitType as RateLimitType
    from ._official_types import SandboxIgnoreViolations as SandboxIgnoreViolations
    from ._official_types import SandboxNetworkConfig as SandboxNetworkConfig
    from ._official_types import SandboxSettings as SandboxSettings
    from ._official_types import SdkBeta as SdkBeta
    from ._official_types import SdkPluginConfig as SdkPluginConfig
    from ._official_types import SessionStoreFlushMode as SessionStoreFlushMode
    from ._official_types import SystemInitData as SystemInitData
    from ._official_types import SystemInitMcpServer as SystemInitMcpServer
    from ._official_types import SystemInitPlugin as SystemInitPlugin
    from ._official_types import SystemInitPluginError as SystemInitPluginError
    from ._official_types import TERMINAL_TASK_STATUSES as TERMINAL_TASK_STATUSES
    from ._official_types import TaskBudget as TaskBudget
    from ._official_types import TaskNotificationOriginSubkind as TaskNotificationOriginSubkind
    from ._official_types import TaskNotificationStatus as TaskNotificationStatus
    from ._official_types import TaskUpdatedStatus as TaskUpdatedStatus
    from ._official_types import TaskUsage as TaskUsage

# --- the rarely sent system messages: trio_claude.types creates them on first use ---
# (names also in _LAZY below).
if TYPE_CHECKING:
    from .types import ApiRetryMessage as ApiRetryMessage
    from .types import BackgroundTasksChangedMessage as BackgroundTasksChangedMessage
    from .types import CommandsChangedMessage as CommandsChangedMessage
    from .types import CompactBoundaryMessage as CompactBoundaryMessage
    from .types import ControlRequestProgressMessage as ControlRequestProgressMessage
    from .types import ElicitationCompleteMessage as ElicitationCompleteMessage
    from .types import FilesPersistedMessage as FilesPersistedMessage
    from .types import HookEventMessage as HookEventMessage
    from .types import HookProgressMessage as HookProgressMessage
    from .types import HookResponseMessage as HookResponseMessage
    from .types import HookStartedMessage as HookStartedMessage
    from .types import InformationalMessage as InformationalMessage
    from .types import LocalCommandOutputMessage as LocalCommandOutputMessage
    from .types import MemoryRecallMessage as MemoryRecallMessage
    from .types import MirrorErrorMessage as MirrorErrorMessage
    from .types import ModelFallbackMessage as ModelFallbackMessage
    from .types import ModelRefusalFallbackMessage as ModelRefusalFallbackMessage
    from .types import ModelRefusalNoFallbackMessage as ModelRefusalNoFallbackMessage
    from .types import NotificationMessage as NotificationMessage
    from .types import PermissionDeniedMessage as PermissionDeniedMessage
    from .types import PluginInstallMessage as PluginInstallMessage
    from .types import SessionStateChangedMessage as SessionStateChangedMessage
    from .types import SessionWritesLostMessage as SessionWritesLostMessage
    from .types import TaskNotificationMessage as TaskNotificationMessage
    from .types import TaskProgressMessage as TaskProgressMessage
    from .types import TaskStartedMessage as TaskStartedMessage
    from .types import TaskUpdatedMessage as TaskUpdatedMessage
    from .types import ThinkingTokensMessage as ThinkingTokensMessage
    from .types import WorkerShuttingDownMessage as WorkerShuttingDownMessage

# --- budgets and watchdogs (issue 6) ---
from ._budget import Budget as Budget
from ._budget import BudgetSpent as BudgetSpent

# --- per-session resource limits for the CLI process tree (pain 39) ---
from ._errors import ResourceLimitError as ResourceLimitError
from ._limits import ResourceLimits as ResourceLimits
from ._limits import ResourceUsage as ResourceUsage

# --- blocking code in callbacks: run sync callbacks in a worker thread (pain 28) ---
from ._threads import in_thread as in_thread

# --- a session that survives its CLI and releases it when idle (pains 36, 38) ---
# Imported on first use (names also in _LAZY below).
if TYPE_CHECKING:
    from ._resumable import ResumableSession as ResumableSession
    from ._resumable import ResumableSessionStatistics as ResumableSessionStatistics
    from ._resumable import ResumableStream as ResumableStream
    from ._resumable import open_resumable_session as open_resumable_session

# --- lazily imported names (rare paths: import time is paid on first use) ---
# Name -> module, for the names imported above under ``if TYPE_CHECKING:`` (type checkers
# see those imports; tests/unit/test_lazy_exports.py checks that the two lists agree).
_LAZY: dict[str, str] = {
    "AppliedSettings": "._control_types",
    "BinaryVersion": "._control_types",
    "CancelAsyncMessageResult": "._control_types",
    "ContextUsage": "._control_types",
    "FileSuggestion": "._control_types",
    "FileSuggestions": "._control_types",
    "HookEventSummary": "._control_types",
    "HookListingEntry": "._control_types",
    "HooksListing": "._control_types",
    "InterruptResult": "._control_types",
    "McpCallResult": "._control_types",
    "McpReadResourceResult": "._control_types",
    "McpResourceContent": "._control_types",
    "McpServerStatus": "._control_types",
    "McpSetServersResult": "._control_types",
    "PermissionRuleEntry": "._control_types",
    "PermissionRules": "._control_types",
    "ReadFileResult": "._control_types",
    "RewindFilesResult": "._control_types",
    "SettingsSnapshot": "._control_types",
    "SettingsSource": "._control_types",
    "TaskOutput": "._control_types",
    "WorkspaceDirectory": "._control_types",
    "AudioContent": "._mcp",
    "EmbeddedResource": "._mcp",
    "ImageContent": "._mcp",
    "McpSdkServerConfig": "._mcp",
    "ResourceLink": "._mcp",
    "SdkMcpServer": "._mcp",
    "SdkMcpTool": "._mcp",
    "TextContent": "._mcp",
    "ToolAnnotations": "._mcp",
    "ToolContent": "._mcp",
    "ToolResult": "._mcp",
    "create_sdk_mcp_server": "._mcp",
    "tool": "._mcp",
    "RayTransport": "._transport._ray",
    "SSHTransport": "._transport._ssh",
    "install_cli": "._install",
    "HOOK_INPUT_TYPES": "._hooks",
    "HOOK_SPECIFIC_OUTPUT_TYPES": "._hooks",
    "BackgroundTaskSummary": "._hooks",
    "BaseHookInput": "._hooks",
    "ConfigChangeHookInput": "._hooks",
    "CwdChangedHookInput": "._hooks",
    "CwdChangedHookSpecificOutput": "._hooks",
    "DirectoryAddedHookInput": "._hooks",
    "ElicitationHookInput": "._hooks",
    "ElicitationHookSpecificOutput": "._hooks",
    "ElicitationResultHookInput": "._hooks",
    "ElicitationResultHookSpecificOutput": "._hooks",
    "FileChangedHookInput": "._hooks",
    "FileChangedHookSpecificOutput": "._hooks",
    "GenericHookInput": "._hooks",
    "HookInput": "._hooks",
    "HookJSONOutput": "._hooks",
    "HookOutput": "._hooks",
    "HookSpecificOutput": "._hooks",
    "InstructionsLoadedHookInput": "._hooks",
    "InterruptHookInput": "._hooks",
    "MessageDisplayHookInput": "._hooks",
    "MessageDisplayHookSpecificOutput": "._hooks",
    "NotificationHookInput": "._hooks",
    "NotificationHookSpecificOutput": "._hooks",
    "PermissionDeniedHookInput": "._hooks",
    "PermissionDeniedHookSpecificOutput": "._hooks",
    "PermissionRequestHookInput": "._hooks",
    "PermissionRequestHookSpecificOutput": "._hooks",
    "PostCompactHookInput": "._hooks",
    "PostModelSwitchHookInput": "._hooks",
    "PostModelSwitchHookSpecificOutput": "._hooks",
    "PostToolBatchHookInput": "._hooks",
    "PostToolBatchHookSpecificOutput": "._hooks",
    "PostToolBatchToolCall": "._hooks",
    "PostToolUseFailureHookInput": "._hooks",
    "PostToolUseFailureHookSpecificOutput": "._hooks",
    "PostToolUseHookInput": "._hooks",
    "PostToolUseHookSpecificOutput": "._hooks",
    "PreCompactHookInput": "._hooks",
    "PreModelSwitchHookInput": "._hooks",
    "PreModelSwitchHookSpecificOutput": "._hooks",
    "PreSkillShellCommandHookInput": "._hooks",
    "PreSkillShellCommandHookSpecificOutput": "._hooks",
    "PreToolUseHookInput": "._hooks",
    "PreToolUseHookSpecificOutput": "._hooks",
    "SessionCronSummary": "._hooks",
    "SessionEndHookInput": "._hooks",
    "SessionStartHookInput": "._hooks",
    "SessionStartHookSpecificOutput": "._hooks",
    "SetupHookInput": "._hooks",
    "SetupHookSpecificOutput": "._hooks",
    "StopFailureHookInput": "._hooks",
    "StopHookInput": "._hooks",
    "StopHookSpecificOutput": "._hooks",
    "SubagentStartHookInput": "._hooks",
    "SubagentStartHookSpecificOutput": "._hooks",
    "SubagentStopHookInput": "._hooks",
    "SubagentStopHookSpecificOutput": "._hooks",
    "TaskCompletedHookInput": "._hooks",
    "TaskCreatedHookInput": "._hooks",
    "TeammateIdleHookInput": "._hooks",
    "UserPromptExpansionHookInput": "._hooks",
    "UserPromptExpansionHookSpecificOutput": "._hooks",
    "UserPromptSubmitHookInput": "._hooks",
    "UserPromptSubmitHookSpecificOutput": "._hooks",
    "WorktreeCreateHookInput": "._hooks",
    "WorktreeCreateHookSpecificOutput": "._hooks",
    "WorktreeRemoveHookInput": "._hooks",
    "PoolStatistics": "._pool",
    "SessionPool": "._pool",
    "open_session_pool": "._pool",
    "ResumableSession": "._resumable",
    "ResumableSessionStatistics": "._resumable",
    "ResumableStream": "._resumable",
    "open_resumable_session": "._resumable",
    "InMemorySessionStore": "._session_store",
    "SessionKey": "._session_store",
    "SessionListSubkeysKey": "._session_store",
    "SessionStore": "._session_store",
    "SessionStoreEntry": "._session_store",
    "SessionStoreListEntry": "._session_store",
    "SessionSummaryEntry": "._session_store",
    "delete_session_via_store": "._session_store",
    "fold_session_summary": "._session_store",
    "fork_session_via_store": "._session_store",
    "get_session_info_from_store": "._session_store",
    "get_session_messages_from_store": "._session_store",
    "get_subagent_messages_from_store": "._session_store",
    "import_session_to_store": "._session_store",
    "list_sessions_from_store": "._session_store",
    "list_subagents_from_store": "._session_store",
    "project_key_for_directory": "._session_store",
    "rename_session_via_store": "._session_store",
    "tag_session_via_store": "._session_store",
    "SessionStoreError": ".stores._errors",
    "SessionStoreSchemaError": ".stores._errors",
    "SessionStoreUnavailableError": ".stores._errors",
    "PostgresSessionStore": ".stores._postgres",
    "SQLiteSessionStore": ".stores._sqlite",
    "ForkSessionResult": "._sessions",
    "SDKSessionInfo": "._sessions",
    "SessionMessage": "._sessions",
    "SessionNotFoundError": "._sessions",
    "SessionValueError": "._sessions",
    "delete_session": "._sessions",
    "fork_session": "._sessions",
    "get_session_info": "._sessions",
    "get_session_messages": "._sessions",
    "get_subagent_messages": "._sessions",
    "list_sessions": "._sessions",
    "list_subagents": "._sessions",
    "rename_session": "._sessions",
    "tag_session": "._sessions",
    "adelete_session": "._sessions",
    "afork_session": "._sessions",
    "aget_session_info": "._sessions",
    "aget_session_messages": "._sessions",
    "aget_subagent_messages": "._sessions",
    "alist_sessions": "._sessions",
    "alist_subagents": "._sessions",
    "arename_session": "._sessions",
    "atag_session": "._sessions",
    "CanUseToolShadowedWarning": "._official_types",
    "ContextUsageCategory": "._official_types",
    "ContextUsageResponse": "._official_types",
    "FastModeDisabledReason": "._official_types",
    "FastModeState": "._official_types",
    "HookEffort": "._official_types",
    "McpServerConnectionStatus": "._official_types",
    "McpServerInfo": "._official_types",
    "McpServerStatusConfig": "._official_types",
    "McpStatusResponse": "._official_types",
    "McpToolAnnotations": "._official_types",
    "McpToolInfo": "._official_types",
    "MessageOrigin": "._official_types",
    "MessageOriginKind": "._official_types",
    "ModelUsage": "._official_types",
    "RateLimitInfo": "._official_types",
    "RateLimitStatus": "._official_types",
    "RateLimitType": "._official_types",
    "SandboxIgnoreViolations": "._official_types",
    "SandboxNetworkConfig": "._official_types",
    "SandboxSettings": "._official_types",
    "SdkBeta": "._official_types",
    "SdkPluginConfig": "._official_types",
    "SessionStoreFlushMode": "._official_types",
    "SystemInitData": "._official_types",
    "SystemInitMcpServer": "._official_types",
    "SystemInitPlugin": "._official_types",
    "SystemInitPluginError": "._official_types",
    "TERMINAL_TASK_STATUSES": "._official_types",
    "TaskBudget": "._official_types",
    "TaskNotificationOriginSubkind": "._official_types",
    "TaskNotificationStatus": "._official_types",
    "TaskUpdatedStatus": "._official_types",
    "TaskUsage": "._official_types",
    "ApiRetryMessage": ".types",
    "BackgroundTasksChangedMessage": ".types",
    "CommandsChangedMessage": ".types",
    "CompactBoundaryMessage": ".types",
    "ControlRequestProgressMessage": ".types",
    "ElicitationCompleteMessage": ".types",
    "FilesPersistedMessage": ".types",
    "HookEventMessage": ".types",
    "HookProgressMessage": ".types",
    "HookResponseMessage": ".types",
    "HookStartedMessage": ".types",
    "InformationalMessage": ".types",
    "LocalCommandOutputMessage": ".types",
    "MemoryRecallMessage": ".types",
    "MirrorErrorMessage": ".types",
    "ModelFallbackMessage": ".types",
    "ModelRefusalFallbackMessage": ".types",
    "ModelRefusalNoFallbackMessage": ".types",
    "NotificationMessage": ".types",
    "PermissionDeniedMessage": ".types",
    "PluginInstallMessage": ".types",
    "SessionStateChangedMessage": ".types",
    "SessionWritesLostMessage": ".types",
    "TaskNotificationMessage": ".types",
    "TaskProgressMessage": ".types",
    "TaskStartedMessage": ".types",
    "TaskUpdatedMessage": ".types",
    "ThinkingTokensMessage": ".types",
    "WorkerShuttingDownMessage": ".types",
}

if not TYPE_CHECKING:

    def __getattr__(name: str) -> object:
        if name == "__all__":  # ``from trio_claude import *``: every public name, as before
            public = (n for n in globals() if not n.startswith("_") and n != "TYPE_CHECKING")
            return sorted({*public, *_LAZY})
        from importlib import import_module

        if name in _SUBPACKAGES:  # ``tc.teams`` works without ``import trio_claude.teams``
            return import_module(f".{name}", __name__)
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

        value = getattr(import_module(module, __name__), name)
        globals()[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*globals(), *_LAZY})
