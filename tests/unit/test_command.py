"""Options -> argv / env / initialize payload.

The tables below are the reference of how every option reaches the CLI (they become the docs
table): one row per option, with the exact tokens it adds to the default command line, the
environment variables it sets, or the ``initialize`` fields it sends.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

import attrs
import pytest

from trio_claude._errors import ConfigurationError
from trio_claude._options import (
    SYSTEM_PROMPT_DYNAMIC_BOUNDARY,
    AgentDefinition,
    ClaudeAgentOptions,
    HookMatcher,
    ThinkingConfigAdaptive,
    ThinkingConfigDisabled,
    ThinkingConfigEnabled,
)
from trio_claude._query import with_budget_gate
from trio_claude._transport._command import (
    build_argv,
    build_env,
    build_initialize,
    needs_open_stdin,
    register_hooks,
    settings_value,
)
from trio_claude._version import __version__

from ..conftest import TRANSCRIPT_NAMES

CLI = "/usr/local/bin/claude"
#: The argv of default options after the binary: byte-for-byte the official Python SDK's.
DEFAULT_TAIL = [
    "--output-format",
    "stream-json",
    "--verbose",
    "--system-prompt=",
    "--input-format",
    "stream-json",
]
SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "integer"}, "reason": {"type": "string"}},
    "required": ["answer", "reason"],
    "additionalProperties": False,
}


async def _cb(*args: Any) -> dict[str, Any]:
    return {}


class _SdkServer:
    """Stands in for what ``create_sdk_mcp_server`` returns when it is an object."""

    type = "sdk"
    name = "calc"


class Row(NamedTuple):
    option: str
    kwargs: dict[str, Any]
    #: Contiguous token runs the option adds; removing them must give the default argv.
    adds: list[list[str]]
    #: Default tokens the option replaces (the system prompt rows).
    replaces: list[str] | None = None


# fmt: off
ARGV_ROWS: list[Row] = [
    Row("(defaults)", {}, []),
    Row("tools", {"tools": ["Read", "Grep"]}, [["--tools=Read,Grep"]]),
    Row("tools", {"tools": []}, [["--tools="]]),
    Row("tools", {"tools": {"type": "preset", "preset": "claude_code"}}, [["--tools=default"]]),
    Row("allowed_tools", {"allowed_tools": ["Read", "Bash(git *)"]},
        [["--allowedTools=Read,Bash(git *)"]]),
    Row("disallowed_tools", {"disallowed_tools": ["Bash"]}, [["--disallowedTools=Bash"]]),
    Row("system_prompt", {"system_prompt": "You are terse."},
        [["--system-prompt=You are terse."]], replaces=["--system-prompt="]),
    Row("system_prompt", {"system_prompt": "- be brief"},
        [["--system-prompt=- be brief"]], replaces=["--system-prompt="]),
    Row("system_prompt", {"system_prompt": {"type": "preset", "preset": "claude_code"}},
        [], replaces=["--system-prompt="]),
    Row("system_prompt",
        {"system_prompt": {"type": "preset", "preset": "claude_code", "append": "Be nice."}},
        [["--append-system-prompt=Be nice."]], replaces=["--system-prompt="]),
    Row("system_prompt", {"system_prompt": {"type": "custom", "prompt": "P"}},
        [["--system-prompt=P"]], replaces=["--system-prompt="]),
    Row("system_prompt", {"system_prompt": {"type": "file", "path": "/p.md"}},
        [["--system-prompt-file=/p.md"]], replaces=["--system-prompt="]),
    # stdio/sse/http servers go in the initialize request (their env and headers are secrets)
    Row("mcp_servers", {"mcp_servers": {"fs": {"type": "stdio", "command": "mcp-fs"}}},
        [["--await-initialize"]]),
    Row("mcp_servers", {"mcp_servers": {"web": {"type": "http", "url": "http://h/mcp"}}},
        [["--await-initialize"]]),
    Row("mcp_servers", {"mcp_servers": '{"mcpServers": {"fs": {"command": "mcp-fs"}}}'},
        [["--await-initialize"]]),
    Row("mcp_servers", {"mcp_servers": {"fs": {"command": "mcp-fs"},
                                        "calc": {"type": "sdk", "name": "calc"}}},
        [["--mcp-config", '{"mcpServers": {"calc": {"type": "sdk", "name": "calc"}}}',
          "--await-initialize"]]),
    Row("mcp_servers_delivery",
        {"mcp_servers": {"fs": {"type": "stdio", "command": "mcp-fs"}},
         "mcp_servers_delivery": "argv"},
        [["--mcp-config", '{"mcpServers": {"fs": {"type": "stdio", "command": "mcp-fs"}}}']]),
    Row("mcp_servers_delivery",
        {"mcp_servers": {"web": {"type": "http", "url": "http://h/mcp"}},
         "mcp_servers_delivery": "argv"},
        [["--mcp-config", '{"mcpServers": {"web": {"type": "http", "url": "http://h/mcp"}}}']]),
    Row("mcp_servers", {"mcp_servers": {"calc": {"type": "sdk", "name": "calc",
                                                 "instance": object()}}},
        [["--mcp-config", '{"mcpServers": {"calc": {"type": "sdk", "name": "calc"}}}']]),
    Row("mcp_servers", {"mcp_servers": {"calc": _SdkServer()}},
        [["--mcp-config", '{"mcpServers": {"calc": {"type": "sdk", "name": "calc"}}}']]),
    Row("mcp_servers", {"mcp_servers": "/etc/mcp.json"}, [["--mcp-config", "/etc/mcp.json"]]),
    Row("mcp_servers", {"mcp_servers": Path("/etc/mcp.json")},
        [["--mcp-config", "/etc/mcp.json"]]),
    Row("mcp_servers", {"mcp_servers": {}}, []),
    Row("strict_mcp_config", {"strict_mcp_config": True}, [["--strict-mcp-config"]]),
    Row("permission_mode", {"permission_mode": "bypassPermissions"},
        [["--permission-mode=bypassPermissions"]]),
    Row("continue_conversation", {"continue_conversation": True}, [["--continue"]]),
    Row("resume", {"resume": "0f3fa17f-a7e6-43e4-9e73-ec6456999839"},
        [["--resume=0f3fa17f-a7e6-43e4-9e73-ec6456999839"]]),
    Row("resume", {"resume": "-p"}, [["--resume=-p"]]),
    Row("session_id", {"session_id": "11111111-1111-1111-1111-111111111111"},
        [["--session-id=11111111-1111-1111-1111-111111111111"]]),
    Row("fork_session", {"resume": "abc", "fork_session": True},
        [["--resume=abc"], ["--fork-session"]]),
    Row("resume_session_at", {"resume": "abc", "resume_session_at": "u1"},
        [["--resume=abc", "--resume-session-at=u1"]]),
    Row("resume_drops_turn",
        {"resume": "abc", "resume_session_at": "u1", "resume_drops_turn": "u2"},
        [["--resume=abc", "--resume-session-at=u1", "--resume-drops-turn=u2"]]),
    Row("resume_drops_turn",
        {"resume": "abc", "resume_session_at": "u1", "resume_drops_turn": ""},
        [["--resume=abc", "--resume-session-at=u1", "--resume-drops-turn="]]),
    Row("max_turns", {"max_turns": 3}, [["--max-turns=3"]]),
    Row("max_budget_usd", {"max_budget_usd": 0.0001}, [["--max-budget-usd=0.0001"]]),
    Row("task_budget", {"task_budget": {"total": 50000}}, [["--task-budget=50000"]]),
    Row("model", {"model": "claude-sonnet-4-5"}, [["--model=claude-sonnet-4-5"]]),
    Row("model", {"model": "-weird"}, [["--model=-weird"]]),
    Row("fallback_model", {"fallback_model": "claude-haiku-4-5"},
        [["--fallback-model=claude-haiku-4-5"]]),
    Row("betas", {"betas": ["context-1m-2025-08-07"]}, [["--betas=context-1m-2025-08-07"]]),
    Row("permission_prompt_tool_name", {"permission_prompt_tool_name": "mcp__perm__ask"},
        [["--permission-prompt-tool=mcp__perm__ask"]]),
    Row("can_use_tool", {"can_use_tool": _cb}, [["--permission-prompt-tool=stdio"]]),
    Row("cwd", {"cwd": "/repo"}, []),
    Row("add_dirs", {"add_dirs": ["/a", Path("/b")]}, [["--add-dir=/a", "--add-dir=/b"]]),
    Row("add_dirs", {"add_dirs": ["-odd"]}, [["--add-dir=-odd"]]),
    Row("settings", {"settings": "/s.json"}, [["--settings", "/s.json"]]),
    # inline settings go in the initialize request
    Row("settings", {"settings": '{"model": "x"}'},
        [["--await-initialize", "--initialize-fields=settings"]]),
    Row("settings", {"settings": {"model": "x"}},
        [["--await-initialize", "--initialize-fields=settings"]]),
    Row("settings", {"settings": {"model": "x"}, "mcp_servers": {"fs": {"command": "mcp-fs"}}},
        [["--await-initialize", "--initialize-fields=settings"]]),
    Row("settings", {"settings": "{not json"}, [["--settings", "{not json"]]),
    Row("settings_delivery", {"settings": '{"model": "x"}', "settings_delivery": "argv"},
        [["--settings", '{"model": "x"}']]),
    Row("settings_delivery", {"settings": {"model": "x"}, "settings_delivery": "argv"},
        [["--settings", '{"model": "x"}']]),
    Row("sandbox", {"sandbox": {"enabled": False}},
        [["--await-initialize", "--initialize-fields=settings"]]),
    Row("sandbox", {"sandbox": {"enabled": False}, "settings_delivery": "argv"},
        [["--settings", '{"sandbox": {"enabled": false}}']]),
    Row("sandbox", {"sandbox": {"enabled": True}, "settings_delivery": "argv"},
        [["--settings", '{"sandbox": {"enabled": true, "failIfUnavailable": true}}']]),
    Row("sandbox", {"settings": {"model": "x", "sandbox": {"old": 1}},
                    "sandbox": {"enabled": True, "failIfUnavailable": False},
                    "settings_delivery": "argv"},
        [["--settings",
          '{"model": "x", "sandbox": {"enabled": true, "failIfUnavailable": false}}']]),
    Row("setting_sources", {"setting_sources": ["user", "project"]},
        [["--setting-sources=user,project"]]),
    Row("setting_sources", {"setting_sources": []}, [["--setting-sources="]]),
    Row("skills", {"skills": "all"},
        [["--allowedTools=Skill"], ["--setting-sources=user,project"]]),
    Row("skills", {"skills": ["pdf"], "allowed_tools": ["Read"], "setting_sources": ["local"]},
        [["--allowedTools=Read,Skill(pdf)"], ["--setting-sources=local"]]),
    Row("skills", {"skills": ["pdf"], "tools": ["Read"]},
        [["--tools=Read,Skill", "--allowedTools=Skill(pdf)"],
         ["--setting-sources=user,project"]]),
    Row("plugins", {"plugins": [{"type": "local", "path": "/plug"}]},
        [["--plugin-dir=/plug"]]),
    Row("plugins", {"plugins": [{"type": "local", "path": "/plug", "skip_mcp_discovery": True}]},
        [["--plugin-dir-no-mcp=/plug"]]),
    Row("agents", {"agents": {"r": AgentDefinition(description="d", prompt="p")}}, []),
    Row("thinking", {"thinking": ThinkingConfigAdaptive()}, [["--thinking=adaptive"]]),
    Row("thinking", {"thinking": {"type": "adaptive", "display": "summarized"}},
        [["--thinking=adaptive", "--thinking-display=summarized"]]),
    Row("thinking", {"thinking": ThinkingConfigEnabled(budget_tokens=4000)},
        [["--max-thinking-tokens=4000"]]),
    Row("thinking", {"thinking": {"type": "enabled", "budget_tokens": 4000, "display": "omitted"}},
        [["--max-thinking-tokens=4000", "--thinking-display=omitted"]]),
    Row("thinking", {"thinking": ThinkingConfigDisabled()}, [["--thinking=disabled"]]),
    Row("thinking", {"thinking": {"type": "disabled"}}, [["--thinking=disabled"]]),
    Row("max_thinking_tokens", {"max_thinking_tokens": 4000},
        [["--max-thinking-tokens=4000"]]),
    Row("effort", {"effort": "high"}, [["--effort=high"]]),
    Row("output_format", {"output_format": {"type": "json_schema", "schema": SCHEMA}},
        [["--json-schema=" + json.dumps(SCHEMA)]]),
    Row("include_partial_messages", {"include_partial_messages": True},
        [["--include-partial-messages"]]),
    Row("include_hook_events", {"include_hook_events": True}, [["--include-hook-events"]]),
    Row("forward_subagent_text", {"forward_subagent_text": True}, []),
    Row("verbatim_prompts", {"verbatim_prompts": True}, []),
    Row("hooks", {"hooks": {"Stop": [HookMatcher(hooks=[_cb])]}}, []),
    Row("enable_file_checkpointing", {"enable_file_checkpointing": True}, []),
    Row("session_store", {"session_store": object()}, [["--session-mirror"]]),
    Row("env", {"env": {"A": "1"}}, []),
    Row("extra_args", {"extra_args": {"replay-user-messages": None}},
        [["--replay-user-messages"]]),
    Row("extra_args", {"extra_args": {"foo": "bar"}}, [["--foo", "bar"]]),
    Row("extra_args", {"extra_args": {"foo": "-x"}}, [["--foo=-x"]]),
    Row("persist_session", {"persist_session": False}, [["--no-session-persistence"]]),
    Row("title", {"title": "T"}, []),
    Row("agent", {"agent": "reviewer"}, [["--agent=reviewer"]]),
    Row("permission_prompts", {"permission_prompts": "none"}, [["--permission-prompts=none"]]),
    Row("allow_dangerously_skip_permissions", {"allow_dangerously_skip_permissions": True},
        [["--allow-dangerously-skip-permissions"]]),
    Row("debug", {"debug": True}, [["--debug"]]),
    Row("debug_file", {"debug_file": Path("/tmp/d.log")}, [["--debug-file=/tmp/d.log"]]),
    Row("tool_aliases", {"tool_aliases": {"Shell": "Bash"}}, []),
    Row("plan_mode_instructions", {"plan_mode_instructions": "Plan."}, []),
    Row("prompt_suggestions", {"prompt_suggestions": True}, []),
    Row("agent_progress_summaries", {"agent_progress_summaries": True}, []),
    Row("supported_dialog_kinds", {"supported_dialog_kinds": ["refusal_fallback_prompt"],
                                   "on_user_dialog": _cb}, []),
    Row("extra_initialize_fields", {"extra_initialize_fields": {"perTaskStopAffordance": True}},
        []),
    Row("client_app", {"client_app": "my-app/1.0"}, []),
    # the TypeScript SDK's options, as 0.3.337 sends them
    Row("system_prompt", {"system_prompt": ["static", SYSTEM_PROMPT_DYNAMIC_BOUNDARY, "per user"]},
        [], replaces=["--system-prompt="]),
    Row("project_config_root", {"project_config_root": "/repo/main"},
        [["--project-config-root=/repo/main"]]),
    Row("managed_settings", {"managed_settings": {"sandbox": {"enabled": True}}},
        [["--managed-settings", '{"sandbox": {"enabled": true}}']]),
    Row("managed_settings_delivery",
        {"managed_settings": {"sandbox": {"enabled": True}},
         "managed_settings_delivery": "initialize"},
        [["--await-initialize", "--managed-settings-in-initialize"]]),
    Row("plugin_delivery",
        {"plugins": [{"type": "local", "path": "/plug"}], "plugin_delivery": "initialize"},
        [["--await-initialize"]]),
    Row("additional_directories_delivery",
        {"add_dirs": ["/a"], "additional_directories_delivery": "initialize"},
        [["--await-initialize", "--initialize-fields=additionalDirectories"]]),
    Row("disallowed_tools_delivery",
        {"disallowed_tools": ["Bash"], "disallowed_tools_delivery": "initialize",
         "settings": {"model": "x"}},
        [["--await-initialize", "--initialize-fields=settings,disallowedTools"]]),
    Row("executable", {"executable": "bun"}, []),  # a native CLI: see test_a_script_cli_...
    Row("tool_config", {"tool_config": {"askUserQuestion": {"previewFormat": "html"}}}, []),
    Row("per_task_stop_affordance", {"per_task_stop_affordance": True}, []),
    Row("user", {"user": "nobody"}, []),
    Row("stderr", {"stderr": print}, []),
]
# fmt: on


def _remove_run(tokens: list[str], run: list[str]) -> list[str]:
    for start in range(len(tokens) - len(run) + 1):
        if tokens[start : start + len(run)] == run:
            return tokens[:start] + tokens[start + len(run) :]
    raise AssertionError(f"{run!r} is not a contiguous run of {tokens!r}")


@pytest.mark.parametrize("row", ARGV_ROWS, ids=lambda r: f"{r.option}:{r.kwargs!r}"[:80])
def test_argv_row(row: Row) -> None:
    argv = build_argv(ClaudeAgentOptions(**row.kwargs), CLI)
    assert argv[0] == CLI
    assert argv[1:4] == ["--output-format", "stream-json", "--verbose"]
    assert argv[-2:] == ["--input-format", "stream-json"]
    rest = argv[1:]
    for run in row.adds:
        rest = _remove_run(rest, run)
    expected = DEFAULT_TAIL
    if row.replaces is not None:
        expected = _remove_run(DEFAULT_TAIL, row.replaces)
    assert rest == expected


def test_every_option_has_a_row() -> None:
    import attrs

    covered = {row.option for row in ARGV_ROWS}
    runtime_only = {
        # Read by the session/transport, not sent to the CLI.
        "budget",
        "stall_timeout",
        "control_timeout",
        "initialize_timeout",
        "interrupt_timeout",
        "close_timeout",
        "max_line_bytes",
        "max_buffered_bytes",
        "transport",
        "on_elicitation",
        "on_user_dialog",
        "can_use_tool_timeout",
        "process_limiter",
        "resource_limits",
        "telemetry",
        "cli_path",
        "max_buffer_size",
        "debug_stderr",
        "session_store_flush",
        "load_timeout_ms",
        "executable_args",  # test_a_script_cli_runs_under_its_runtime_with_its_arguments
    }
    fields = {f.name for f in attrs.fields(ClaudeAgentOptions)}
    assert fields - covered - runtime_only == set()


def test_free_form_values_starting_with_a_dash_use_the_equals_form() -> None:
    options = ClaudeAgentOptions(
        system_prompt="-x",
        allowed_tools=["-a"],
        disallowed_tools=["-d"],
        model="-m",
        fallback_model="-f",
        betas=["-b"],
        permission_prompt_tool_name="-t",
        add_dirs=["-dir"],
        settings="-s.json",
        mcp_servers="-mcp.json",
        plugins=[{"type": "local", "path": "-plug"}],
        extra_args={"k": "-v"},
    )
    argv = build_argv(options, CLI)
    for i, token in enumerate(argv[1:], start=1):
        if token.startswith("-") and "=" not in token:
            # A bare flag; what follows it is either a flag or a value not starting with "-".
            assert token.startswith("--"), token
        if not token.startswith("--"):
            assert not token.startswith("-"), (token, argv[i - 1])
    assert "--system-prompt=-x" in argv
    assert "--model=-m" in argv
    assert "--plugin-dir=-plug" in argv


def test_argument_too_long_for_the_os_names_the_flag() -> None:
    with pytest.raises(ConfigurationError, match=r"--system-prompt.*type': 'file'"):
        build_argv(ClaudeAgentOptions(system_prompt="x" * 200_000), CLI)
    with pytest.raises(ConfigurationError, match=r"--append-system-prompt"):
        build_argv(
            ClaudeAgentOptions(
                system_prompt={"type": "preset", "preset": "claude_code", "append": "y" * 200_000}
            ),
            CLI,
        )


def test_settings_file_with_sandbox_is_refused() -> None:
    options = ClaudeAgentOptions(settings="/etc/settings.json", sandbox={"enabled": True})
    with pytest.raises(ConfigurationError, match="settings file path"):
        settings_value(options)


def test_settings_without_anything_is_none() -> None:
    assert settings_value(ClaudeAgentOptions()) is None


# ---------------------------------------------------------------------------------------------
# environment
# ---------------------------------------------------------------------------------------------

SDK_ENV = {
    "CLAUDE_CODE_ENTRYPOINT": "sdk-py",
    "CLAUDE_AGENT_SDK_VERSION": __version__,
    "CLAUDE_CODE_SDK_READS_SESSION_STATE": "1",
}

# fmt: off
ENV_ROWS: list[tuple[str, dict[str, Any], dict[str, str]]] = [
    ("(defaults)", {}, {}),
    ("cwd", {"cwd": "/repo"}, {"PWD": "/repo"}),
    ("cwd", {"cwd": Path("/repo")}, {"PWD": "/repo"}),
    ("enable_file_checkpointing", {"enable_file_checkpointing": True},
     {"CLAUDE_CODE_ENABLE_SDK_FILE_CHECKPOINTING": "true"}),
    ("client_app", {"client_app": "my-app/1.0"}, {"CLAUDE_AGENT_SDK_CLIENT_APP": "my-app/1.0"}),
    ("env", {"env": {"FOO": "bar"}}, {"FOO": "bar"}),
    ("env", {"env": {"CLAUDE_CODE_ENTRYPOINT": "mine"}}, {"CLAUDE_CODE_ENTRYPOINT": "mine"}),
]
# fmt: on


@pytest.mark.parametrize(("option", "kwargs", "adds"), ENV_ROWS)
def test_env_row(option: str, kwargs: dict[str, Any], adds: dict[str, str]) -> None:
    env = build_env(ClaudeAgentOptions(**kwargs), {"PATH": "/bin"})
    assert env == {"PATH": "/bin", **SDK_ENV, **adds}


def test_env_merges_over_the_parent_and_strips_nesting_markers() -> None:
    base = {
        "PATH": "/bin",
        "CLAUDECODE": "1",
        "CLAUDE_AGENT_SDK_DERIVED_CLIENT_APP": "x",
        "CLAUDE_CODE_ENTRYPOINT": "cli",
        "CLAUDE_AGENT_SDK_VERSION": "9",
        "KEEP": "me",
    }
    env = build_env(ClaudeAgentOptions(env={"KEEP": "you"}), base)
    assert env == {"PATH": "/bin", "KEEP": "you", **SDK_ENV}


def test_env_cannot_override_sdk_version_pwd_or_client_app() -> None:
    options = ClaudeAgentOptions(
        cwd="/repo",
        client_app="app",
        env={
            "CLAUDE_AGENT_SDK_VERSION": "0",
            "PWD": "/elsewhere",
            "CLAUDE_AGENT_SDK_CLIENT_APP": "e",
        },
    )
    env = build_env(options, {})
    assert env["CLAUDE_AGENT_SDK_VERSION"] == __version__
    assert env["PWD"] == "/repo"
    assert env["CLAUDE_AGENT_SDK_CLIENT_APP"] == "app"


def test_env_can_put_claudecode_back() -> None:
    env = build_env(ClaudeAgentOptions(env={"CLAUDECODE": "1"}), {"CLAUDECODE": "1"})
    assert env["CLAUDECODE"] == "1"


def test_session_state_flag_respects_a_case_variant() -> None:
    env = build_env(ClaudeAgentOptions(env={"claude_code_sdk_reads_session_state": "0"}), {})
    assert "CLAUDE_CODE_SDK_READS_SESSION_STATE" not in env
    assert env["claude_code_sdk_reads_session_state"] == "0"


def test_env_does_not_mutate_its_inputs() -> None:
    base = {"CLAUDECODE": "1"}
    options = ClaudeAgentOptions(env={"A": "1"})
    build_env(options, base)
    assert base == {"CLAUDECODE": "1"}
    assert options.env == {"A": "1"}


# ---------------------------------------------------------------------------------------------
# initialize
# ---------------------------------------------------------------------------------------------

# fmt: off
INIT_ROWS: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("(defaults)", {}, {}),
    ("agents", {"agents": {"r": AgentDefinition(description="d", prompt="p", tools=["Read"],
                                                max_turns=2)}},
     {"agents": {"r": {"description": "d", "prompt": "p", "tools": ["Read"], "maxTurns": 2}}}),
    ("agents", {"agents": {"r": {"description": "d", "prompt": "p", "disallowedTools": ["Bash"],
                                 "permission_mode": "plan"}}},
     {"agents": {"r": {"description": "d", "prompt": "p", "disallowedTools": ["Bash"],
                       "permissionMode": "plan"}}}),
    ("system_prompt", {"system_prompt": {"type": "preset", "preset": "claude_code",
                                         "exclude_dynamic_sections": True, "snapshot": False}},
     {"excludeDynamicSections": True, "systemPromptSnapshot": False}),
    ("system_prompt", {"system_prompt": {"type": "custom", "prompt": "P", "snapshot": True}},
     {"systemPromptSnapshot": True}),
    ("skills", {"skills": ["pdf", "xlsx"]}, {"skills": ["pdf", "xlsx"]}),
    ("skills", {"skills": "all"}, {}),
    ("forward_subagent_text", {"forward_subagent_text": True}, {"forwardSubagentText": True}),
    ("forward_subagent_text", {"forward_subagent_text": False}, {}),
    ("title", {"title": "My session"}, {"title": "My session"}),
    ("tool_aliases", {"tool_aliases": {"Shell": "Bash"}}, {"toolAliases": {"Shell": "Bash"}}),
    ("plan_mode_instructions", {"plan_mode_instructions": "Plan."},
     {"planModeInstructions": "Plan."}),
    ("prompt_suggestions", {"prompt_suggestions": True}, {"promptSuggestions": True}),
    ("agent_progress_summaries", {"agent_progress_summaries": False},
     {"agentProgressSummaries": False}),
    ("supported_dialog_kinds", {"supported_dialog_kinds": ["refusal_fallback_prompt"],
                                "on_user_dialog": _cb},
     {"supportedDialogKinds": ["refusal_fallback_prompt"]}),
    ("per_task_stop_affordance", {"per_task_stop_affordance": True},
     {"perTaskStopAffordance": True}),
    ("supported_dialog_kinds", {"supported_dialog_kinds": []}, {}),
    ("extra_initialize_fields", {"extra_initialize_fields": {"perTaskStopAffordance": True}},
     {"perTaskStopAffordance": True}),
    ("mcp_servers", {"mcp_servers": {"fs": {"type": "stdio", "command": "mcp-fs",
                                            "env": {"FS_TOKEN": "t0ken-t0ken"}},
                                     "calc": {"type": "sdk", "name": "calc"}}},
     {"mcpServers": {"fs": {"type": "stdio", "command": "mcp-fs",
                            "env": {"FS_TOKEN": "t0ken-t0ken"}}}}),
    ("mcp_servers", {"mcp_servers": {"web": {"type": "http", "url": "http://h/mcp",
                                             "headers": {"Authorization": "Bearer t0ken"}}}},
     {"mcpServers": {"web": {"type": "http", "url": "http://h/mcp",
                             "headers": {"Authorization": "Bearer t0ken"}}}}),
    ("mcp_servers", {"mcp_servers": '{"mcpServers": {"fs": {"command": "mcp-fs"}}}'},
     {"mcpServers": {"fs": {"command": "mcp-fs"}}}),
    ("mcp_servers", {"mcp_servers": {"calc": {"type": "sdk", "name": "calc"}}}, {}),
    ("mcp_servers", {"mcp_servers": "/etc/mcp.json"}, {}),
    ("mcp_servers_delivery", {"mcp_servers": {"fs": {"command": "mcp-fs"}},
                              "mcp_servers_delivery": "argv"}, {}),
    ("settings", {"settings": {"model": "x"}}, {"settings": {"model": "x"}}),
    ("settings", {"settings": '{"env": {"A": "1"}}'}, {"settings": {"env": {"A": "1"}}}),
    ("settings", {"settings": "/s.json"}, {}),
    ("sandbox", {"sandbox": {"enabled": True}},
     {"settings": {"sandbox": {"enabled": True, "failIfUnavailable": True}}}),
    ("settings_delivery", {"settings": {"model": "x"}, "settings_delivery": "argv"}, {}),
    ("hooks", {"hooks": {"PreToolUse": [HookMatcher(matcher="Bash", hooks=[_cb], timeout=30,
                                                    on_failure="block")]}},
     {"hooks": {"PreToolUse": [{"matcher": "Bash", "hookCallbackIds": ["hook_0"], "timeout": 30,
                                "onFailure": "block"}]}}),
    ("hooks", {"hooks": {}}, {}),
]
# fmt: on


@pytest.mark.parametrize(("option", "kwargs", "adds"), INIT_ROWS)
def test_initialize_row(option: str, kwargs: dict[str, Any], adds: dict[str, Any]) -> None:
    request = build_initialize(ClaudeAgentOptions(**kwargs))
    assert request == {"subtype": "initialize", "hooks": None, **adds}


def test_default_initialize_is_exactly_what_the_official_sdk_sends() -> None:
    request = build_initialize(ClaudeAgentOptions())
    assert json.dumps(request) == '{"subtype": "initialize", "hooks": null}'


def test_hook_ids_are_global_and_match_the_routing_table() -> None:
    async def b(*args: Any) -> dict[str, Any]:
        return {}

    async def c(*args: Any) -> dict[str, Any]:
        return {}

    a = _cb
    hooks: dict[str, list[Any]] = {
        "PreToolUse": [HookMatcher("Bash", [a, b]), {"matcher": "Write", "hooks": [c]}],
        "Stop": [HookMatcher(hooks=[a])],
    }
    registration = register_hooks(hooks)
    assert registration.ids == {
        "PreToolUse": [["hook_0", "hook_1"], ["hook_2"]],
        "Stop": [["hook_3"]],
    }
    assert registration.callbacks == {"hook_0": a, "hook_1": b, "hook_2": c, "hook_3": a}
    request = build_initialize(ClaudeAgentOptions(hooks=hooks))
    assert request["hooks"] == {
        "PreToolUse": [
            {"matcher": "Bash", "hookCallbackIds": ["hook_0", "hook_1"]},
            {"matcher": "Write", "hookCallbackIds": ["hook_2"]},
        ],
        "Stop": [{"matcher": None, "hookCallbackIds": ["hook_3"]}],
    }


def test_explicit_hook_ids_are_used() -> None:
    options = ClaudeAgentOptions(hooks={"Stop": [HookMatcher(hooks=[_cb])]})
    request = build_initialize(options, {"Stop": [["hook_41"]]})
    assert request["hooks"] == {"Stop": [{"matcher": None, "hookCallbackIds": ["hook_41"]}]}


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, False),
        ({"permission_mode": "bypassPermissions"}, False),
        ({"mcp_servers": {"fs": {"command": "x"}}}, False),
        ({"mcp_servers": "/etc/mcp.json"}, False),
        ({"hooks": {}}, False),
        ({"hooks": {"Stop": [HookMatcher(hooks=[_cb])]}}, True),
        ({"can_use_tool": _cb}, True),
        ({"mcp_servers": {"calc": {"type": "sdk", "name": "calc", "instance": None}}}, True),
        ({"mcp_servers": {"calc": _SdkServer()}}, True),
        ({"on_elicitation": _cb}, True),
        ({"on_user_dialog": _cb}, True),
    ],
)
def test_needs_open_stdin(kwargs: dict[str, Any], expected: bool) -> None:
    assert needs_open_stdin(ClaudeAgentOptions(**kwargs)) is expected


# ---------------------------------------------------------------------------------------------
# the spawn records of tests/fixtures/transcripts (tests/fixtures/capture.py)
# ---------------------------------------------------------------------------------------------

# fmt: off
_HARNESS_ENV_KEYS = {"CLAUDE_CODE_ENTRYPOINT", "CLAUDE_AGENT_SDK_VERSION",
                     "CLAUDE_CODE_SDK_READS_SESSION_STATE", "PWD"}
_BYPASS = {"permission_mode": "bypassPermissions"}
#: ``m_resume``: the first CLI's session id (``--session-id``), which the second one resumes.
RESUME_ID = "5e551a00-0000-4000-8000-00000000c0de"
_HOOKS = {
    "PreToolUse": [HookMatcher("Bash", [_cb])],
    "PostToolUse": [HookMatcher("Bash", [_cb])],
    "UserPromptSubmit": [HookMatcher(None, [_cb])],
    "Stop": [HookMatcher(None, [_cb])],
}

#: The options each captured scenario was run with (per spawn, in order).
SCENARIOS: dict[str, list[dict[str, Any]]] = {
    "a_plain_text": [{}],
    "b_bash_tool": [_BYPASS],
    "c_can_use_tool": [{"can_use_tool": _cb}, {"can_use_tool": _cb}],
    "d_hooks": [{**_BYPASS, "hooks": _HOOKS}],
    "e_sdk_mcp": [{"allowed_tools": ["mcp__calc__add"],
                   "mcp_servers": {"calc": {"type": "sdk", "name": "calc",
                                            "instance": object()}}}],
    "f_multi_turn": [{}],
    "g_interrupt": [{"include_partial_messages": True}],
    "h_partial_messages": [{**_BYPASS, "include_partial_messages": True}],
    "i_max_turns": [{**_BYPASS, "max_turns": 1}],
    "j_max_budget": [{**_BYPASS, "max_budget_usd": 0.0001}],
    "k_set_model_mode": [{"model": "claude-sonnet-4-5"}],
    "l_structured_output": [{"output_format": {"type": "json_schema", "schema": SCHEMA}}],
    "m_resume": [{"session_id": RESUME_ID}, {"resume": RESUME_ID}],
    "n_fallback_model": [{"model": "claude-opus-4-5", "fallback_model": "claude-sonnet-4-5"}],
    "o_thinking": [{**_BYPASS, "thinking": ThinkingConfigEnabled(budget_tokens=4000)}],
    "p_api_error_401": [{}, {}],
    "q_stream_error_fallback": [{}],
    "r_aux_title_routing": [_BYPASS],
}
# fmt: on


def _spawns(path: Path) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    """(spawn record, its first initialize request) per process of a transcript."""
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    out = []
    for record in records:
        if record.get("dir") == "meta" and record.get("event") == "spawn":
            init = next(
                (
                    r["msg"]["request"]
                    for r in records
                    if r["proc"] == record["proc"]
                    and r.get("dir") == "sdk->cli"
                    and r.get("msg", {}).get("type") == "control_request"
                    and r["msg"]["request"].get("subtype") == "initialize"
                ),
                None,
            )
            out.append((record, init))
    return out


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_transcript_spawn_argv_env_and_initialize(transcripts_dir: Path, scenario: str) -> None:
    spawns = _spawns(transcripts_dir / f"{scenario}.jsonl")
    assert len(spawns) == len(SCENARIOS[scenario])
    for (record, init), kwargs in zip(spawns, SCENARIOS[scenario], strict=True):
        user_env = {k: v for k, v in record["env"].items() if k not in _HARNESS_ENV_KEYS}
        options = ClaudeAgentOptions(**kwargs, cwd=record["cwd"], env=user_env)
        # What query() and the clients do before they spawn: max_budget_usd adds a hook.
        gated, _ = with_budget_gate(options)
        assert gated is not None
        options = gated
        assert build_argv(options, record["argv"][0]) == record["argv"]
        expected_env = {**record["env"], "CLAUDE_AGENT_SDK_VERSION": __version__}
        assert build_env(options, {}) == expected_env
        assert build_initialize(options) == init


def test_all_transcripts_are_covered(transcripts_dir: Path) -> None:
    assert {p.stem for p in transcripts_dir.glob("*.jsonl")} == set(SCENARIOS)


def test_the_capture_harness_records_these_scenarios() -> None:
    from ..fixtures import capture

    assert list(capture.SCENARIOS) == list(TRANSCRIPT_NAMES) == sorted(SCENARIOS)
    assert capture.RESUME_SESSION_ID == RESUME_ID
    assert capture.STRUCTURED_SCHEMA == SCHEMA


# ---------------------------------------------------------------------------------------------
# the real CLI parses every flag
# ---------------------------------------------------------------------------------------------

#: A few option sets that together emit every flag of the table (checked below).
COMBINED: list[dict[str, Any]] = [
    {
        "tools": ["Read", "Grep"], "allowed_tools": ["Read"], "disallowed_tools": ["Bash"],
        "system_prompt": "- be brief", "mcp_servers": {"fs": {"command": "mcp-fs"}},
        "strict_mcp_config": True, "permission_mode": "bypassPermissions",
        "session_id": "11111111-1111-1111-1111-111111111111", "max_turns": 3,
        "max_budget_usd": 0.5, "task_budget": {"total": 50000}, "model": "claude-sonnet-4-5",
        "fallback_model": "claude-haiku-4-5", "betas": ["context-1m-2025-08-07"],
        "permission_prompt_tool_name": "mcp__perm__ask", "add_dirs": ["/a", "-odd"],
        "settings": {"model": "x"}, "setting_sources": [], "skills": ["pdf"],
        "plugins": [{"type": "local", "path": "/p1"},
                    {"type": "local", "path": "/p2", "skip_mcp_discovery": True}],
        "thinking": {"type": "adaptive", "display": "summarized"}, "effort": "high",
        "output_format": {"type": "json_schema", "schema": SCHEMA},
        "include_partial_messages": True, "include_hook_events": True,
        "persist_session": False, "agent": "reviewer", "permission_prompts": "none",
        "allow_dangerously_skip_permissions": True, "debug": True, "debug_file": "/tmp/d.log",
        "extra_args": {"replay-user-messages": None},
    },
    {
        "system_prompt": {"type": "preset", "preset": "claude_code", "append": "Be nice."},
        "tools": {"type": "preset", "preset": "claude_code"}, "continue_conversation": True,
        "can_use_tool": _cb, "thinking": ThinkingConfigDisabled(),
        "mcp_servers": {"calc": {"type": "sdk", "name": "calc"}}, "sandbox": {"enabled": False},
        "settings_delivery": "argv",
    },
    {
        "resume": "abc", "fork_session": True, "resume_session_at": "u1",
        "resume_drops_turn": "u2", "system_prompt": {"type": "file", "path": "/p.md"},
        "thinking": ThinkingConfigEnabled(budget_tokens=4000, display="omitted"),
    },
    {"max_thinking_tokens": 4000, "session_store": object(), "tools": []},
    {
        "system_prompt": ["static", SYSTEM_PROMPT_DYNAMIC_BOUNDARY, "per user"],
        "project_config_root": "/repo", "disallowed_tools": ["Bash"],
        "disallowed_tools_delivery": "initialize", "managed_settings": {"model": "x"},
        "managed_settings_delivery": "initialize",
        "plugins": [{"type": "local", "path": "/p1"}], "plugin_delivery": "initialize",
    },
    {"managed_settings": {"model": "x"}},
]  # fmt: skip

_PARSE_ERRORS = ("error: unknown option", "error: option '", "error: missing required argument",
                 "error: too many arguments", "error: required option")  # fmt: skip


def _flags(argv: list[str]) -> set[str]:
    return {t.split("=", 1)[0] for t in argv[1:] if t.startswith("--")}


def test_combined_option_sets_cover_every_flag() -> None:
    table = set().union(
        *(_flags(build_argv(ClaudeAgentOptions(**r.kwargs), CLI)) for r in ARGV_ROWS)
    )
    table -= {"--foo"}  # extra_args rows: a made-up flag
    combined = set().union(*(_flags(build_argv(ClaudeAgentOptions(**k), CLI)) for k in COMBINED))
    assert table - combined == set()


def test_a_script_cli_runs_under_its_runtime_with_its_arguments() -> None:
    script = ClaudeAgentOptions(executable="bun", executable_args=["--smol"])
    assert build_argv(script, "/opt/claude/cli.mjs")[:4] == [
        "bun",
        "--smol",
        "/opt/claude/cli.mjs",
        "--output-format",
    ]
    assert build_argv(ClaudeAgentOptions(), "/opt/claude/cli.js")[:2] == [
        "node",
        "/opt/claude/cli.js",
    ]
    # A native CLI: no runtime; its arguments come first among the CLI's own.
    native = ClaudeAgentOptions(executable="bun", executable_args=["--inspect"])
    assert build_argv(native, CLI)[:3] == [CLI, "--inspect", "--output-format"]


def test_the_settings_path_and_extra_args_keep_dashes_from_being_read_as_flags() -> None:
    argv = build_argv(ClaudeAgentOptions(settings="-odd.json"), CLI)
    assert argv[argv.index("--settings") + 1] == "./-odd.json"
    argv = build_argv(ClaudeAgentOptions(mcp_servers="-servers.json"), CLI)
    assert "--mcp-config=-servers.json" in argv


@pytest.mark.e2e
def test_real_cli_parses_every_flag(tmp_path: Path) -> None:
    """Our argv gets past the pinned CLI's option parser (stdin is empty, so it then exits)."""
    import subprocess
    from concurrent.futures import ThreadPoolExecutor

    from trio_claude._errors import CLINotFoundError
    from trio_claude._transport._discovery import find_cli

    try:
        cli = find_cli()
    except CLINotFoundError:
        pytest.skip("no claude CLI installed (python -m trio_claude install-cli)")

    def run(index: int) -> str:
        home = tmp_path / str(index)
        home.mkdir()
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(home),
            "CLAUDE_CONFIG_DIR": str(home / "config"),
            "ANTHROPIC_API_KEY": "dummy",
            "ANTHROPIC_BASE_URL": "http://127.0.0.1:9",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "DISABLE_AUTOUPDATER": "1",
            "IS_SANDBOX": "1",
        }
        argv = build_argv(ClaudeAgentOptions(**COMBINED[index]), cli)
        proc = subprocess.run(
            argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
            env=env, cwd=home,
        )  # fmt: skip
        return proc.stderr

    with ThreadPoolExecutor(max_workers=len(COMBINED)) as pool:
        errors = list(pool.map(run, range(len(COMBINED))))
    bad = [(i, err) for i, err in enumerate(errors) if any(e in err for e in _PARSE_ERRORS)]
    assert bad == []


def test_every_option_is_described_once_on_its_field() -> None:
    """Each field says how it is checked and where it goes; every builder named exists."""
    from trio_claude._option_spec import Built, Flag, Init, Joined, Switch
    from trio_claude._transport import _command

    for field in attrs.fields(ClaudeAgentOptions):
        meta = field.metadata
        assert callable(meta.get("check")), field.name
        argv, init = meta.get("argv"), meta.get("init")
        assert argv or init or meta.get("spawn") or meta.get("sdk"), field.name
        assert argv is None or isinstance(argv, (Flag, Switch, Joined, Built)), field.name
        assert init is None or isinstance(init, (Init, Built)), field.name
        if isinstance(argv, Built):
            assert argv.builder in _command._ARGV_BUILDERS, field.name
        if isinstance(init, Built):
            assert init.builder in _command._INIT_BUILDERS or init.builder == "hooks", field.name
        if isinstance(argv, (Flag, Switch, Joined)):
            # A flag of the description appears in the examples table, or the docs would lie.
            flags = {
                token.split("=", 1)[0]
                for row in ARGV_ROWS
                if row.option == field.name
                for run in row.adds
                for token in run
            }
            assert argv.flag in flags, (field.name, argv.flag)
