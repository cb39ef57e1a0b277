"""ClaudeAgentOptions: field names, immutability, converters, validation, unwired fields."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import attrs
import pytest

import trio_claude as tc
from trio_claude._errors import ConfigurationError
from trio_claude._options import (
    UNWIRED_FIELDS,
    AgentDefinition,
    ClaudeAgentOptions,
    HookMatcher,
    ThinkingConfigAdaptive,
    ThinkingConfigEnabled,
    validate_options,
)
from trio_claude._transport._command import build_argv, build_env, build_initialize

#: Every option of the official Python SDK (inventory 1a, Python column).
OFFICIAL_PYTHON_FIELDS = {
    "tools", "allowed_tools", "disallowed_tools", "system_prompt", "mcp_servers",
    "strict_mcp_config", "permission_mode", "continue_conversation", "resume", "session_id",
    "fork_session", "resume_session_at", "resume_drops_turn", "max_turns", "max_budget_usd",
    "task_budget", "model", "fallback_model", "betas", "permission_prompt_tool_name",
    "can_use_tool", "cwd", "add_dirs", "settings", "sandbox", "setting_sources", "skills",
    "plugins", "agents", "thinking", "max_thinking_tokens", "effort", "output_format",
    "include_partial_messages", "include_hook_events", "forward_subagent_text",
    "verbatim_prompts", "hooks", "enable_file_checkpointing", "session_store",
    "session_store_flush", "load_timeout_ms", "env", "extra_args", "cli_path", "stderr",
    "debug_stderr", "max_buffer_size", "user", "client_app",
}  # fmt: skip
#: Options of the official TypeScript SDK that map to the CLI.
TS_FIELDS = {
    "persist_session", "title", "agent", "permission_prompts",
    "allow_dangerously_skip_permissions", "debug", "debug_file", "tool_aliases",
    "plan_mode_instructions", "prompt_suggestions", "agent_progress_summaries",
    "extra_initialize_fields", "mcp_servers_delivery", "settings_delivery",
    "on_user_dialog", "supported_dialog_kinds", "project_config_root", "managed_settings",
    "managed_settings_delivery", "plugin_delivery", "additional_directories_delivery",
    "disallowed_tools_delivery", "executable", "executable_args", "tool_config",
    "per_task_stop_affordance",
}  # fmt: skip
OURS = {
    "budget": None, "stall_timeout": None, "control_timeout": 60.0, "initialize_timeout": 60.0,
    "interrupt_timeout": 5.0, "close_timeout": 5.0, "max_line_bytes": 64 * 1024 * 1024,
    "max_buffered_bytes": 256 * 1024 * 1024, "transport": None, "on_elicitation": None,
    "can_use_tool_timeout": None,
    "process_limiter": None,
    "resource_limits": None,
    "telemetry": None,
}  # fmt: skip

SID = "11111111-1111-4111-8111-111111111111"  # a session_id must be a UUID
STORE = tc.InMemorySessionStore()


async def _cb(*args: Any) -> dict[str, Any]:
    return {}


def test_field_names_are_the_official_ones_plus_ours() -> None:
    fields = attrs.fields_dict(ClaudeAgentOptions)
    assert set(fields) == OFFICIAL_PYTHON_FIELDS | TS_FIELDS | set(OURS)
    defaults = ClaudeAgentOptions()
    for name, value in OURS.items():
        assert getattr(defaults, name) == value, name


def test_defaults_validate_and_match_the_official_defaults() -> None:
    o = ClaudeAgentOptions()
    validate_options(o)
    assert o.allowed_tools == () and o.disallowed_tools == () and o.betas == ()
    assert o.mcp_servers == {} and o.env == {} and o.extra_args == {}
    assert o.system_prompt is None and o.setting_sources is None and o.tools is None
    assert o.persist_session is True and o.session_store_flush == "batched"
    assert o.load_timeout_ms == 60_000


def test_every_default_passes_its_own_check() -> None:
    # validate_options skips an option left at its default object: that is only sound if every
    # default would pass its check.
    checked = 0
    for field in attrs.fields(ClaudeAgentOptions):
        if field.default is attrs.NOTHING or isinstance(field.default, attrs.Factory):  # type: ignore[arg-type]
            continue
        field.metadata["check"](field.name, field.default)
        checked += 1
    assert checked > 40


def test_every_factory_default_passes_its_own_check() -> None:
    # ... and an empty container of a factory's type counts as that default (not checked).
    checked = 0
    for field in attrs.fields(ClaudeAgentOptions):
        default: Any = field.default
        if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            field.metadata["check"](field.name, default.factory())
            checked += 1
    assert checked >= 4


@pytest.mark.parametrize("field", ["env", "extra_args", "mcp_servers", "extra_initialize_fields"])
def test_an_empty_container_of_another_type_is_still_checked(field: str) -> None:
    with pytest.raises(ConfigurationError, match=field):
        kwargs: dict[str, Any] = {field: []}
        validate_options(ClaudeAgentOptions(**kwargs))


def test_a_default_container_filled_after_creation_is_checked() -> None:
    # The options are frozen, their dicts are not: what is checked is what they hold at open.
    o = ClaudeAgentOptions()
    validate_options(o)
    o.env["A=B"] = "x"
    with pytest.raises(ConfigurationError, match="env key"):
        validate_options(o)
    o = ClaudeAgentOptions()
    o.extra_args["debug-to-stderr"] = "a\0b"
    with pytest.raises(ConfigurationError, match="NUL"):
        validate_options(o)


def test_frozen_evolvable_and_hashable() -> None:
    o = ClaudeAgentOptions(model="a", env={"X": "1"}, hooks={"Stop": [HookMatcher(hooks=[_cb])]})
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        o.model = "b"  # type: ignore[misc]
    o2 = attrs.evolve(o, model="b")
    assert (o.model, o2.model) == ("a", "b")
    assert o2.env == {"X": "1"}
    assert isinstance(hash(o), int)
    assert ClaudeAgentOptions(allowed_tools=["A"]) == ClaudeAgentOptions(allowed_tools=("A",))


def test_keyword_only() -> None:
    with pytest.raises(TypeError):
        ClaudeAgentOptions("tools")  # type: ignore[call-arg]


def test_sequences_become_tuples_and_paths_strings() -> None:
    o = ClaudeAgentOptions(
        allowed_tools=["Read"],
        disallowed_tools=iter(["Bash"]),
        betas=["b"],
        add_dirs=[Path("/a"), "/b"],
        setting_sources=["user"],
        skills=["pdf"],
        plugins=[{"type": "local", "path": "/p"}],
        cwd=Path("/repo"),
        cli_path=Path("/bin/claude"),
        debug_file=Path("/tmp/d"),
        mcp_servers=Path("/etc/mcp.json"),
    )
    assert o.allowed_tools == ("Read",)
    assert o.disallowed_tools == ("Bash",)
    assert o.add_dirs == ("/a", "/b")
    assert o.setting_sources == ("user",)
    assert o.skills == ("pdf",)
    assert o.plugins == ({"type": "local", "path": "/p"},)
    assert (o.cwd, o.cli_path, o.debug_file) == ("/repo", "/bin/claude", "/tmp/d")
    assert o.mcp_servers == "/etc/mcp.json"
    assert ClaudeAgentOptions(skills="all").skills == "all"


def test_dicts_are_copied() -> None:
    env = {"A": "1"}
    servers = {"fs": {"command": "x"}}
    o = ClaudeAgentOptions(env=env, mcp_servers=servers)
    env["B"] = "2"
    servers["other"] = {"command": "y"}
    assert o.env == {"A": "1"}
    assert set(o.mcp_servers) == {"fs"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("allowed_tools", "Read"),
        ("disallowed_tools", "Bash"),
        ("betas", "x"),
        ("add_dirs", "/a"),
        ("skills", "pdf"),
        ("plugins", {"type": "local", "path": "/p"}),
        ("setting_sources", "user"),
        ("tools", "Read"),
    ],
)
def test_a_string_where_a_list_is_expected_is_refused(field: str, value: Any) -> None:
    with pytest.raises(ConfigurationError) as info:
        ClaudeAgentOptions(**{field: value})
    assert str(info.value).startswith(field)  # the message names the option


@pytest.mark.parametrize(
    "field",
    [
        "tools",
        "allowed_tools",
        "disallowed_tools",
        "betas",
        "add_dirs",
        "setting_sources",
        "skills",
        "plugins",
        "executable_args",
        "supported_dialog_kinds",
    ],
)
def test_a_list_option_given_a_number_is_refused_by_name(field: str) -> None:
    kwargs: dict[str, Any] = {field: 5}
    with pytest.raises(ConfigurationError, match=f"^{field} must be"):
        ClaudeAgentOptions(**kwargs)


@pytest.mark.parametrize("field", ["cwd", "cli_path", "debug_file", "project_config_root"])
def test_a_path_option_of_the_wrong_type_is_refused_by_name(field: str) -> None:
    kwargs: dict[str, Any] = {field: 5}
    with pytest.raises(ConfigurationError, match=f"^{field} must be a path"):
        ClaudeAgentOptions(**kwargs)


def test_env_values_are_redacted_in_repr() -> None:
    o = ClaudeAgentOptions(env={"ANTHROPIC_API_KEY": "sk-ant-secret"})
    assert "sk-ant-secret" not in repr(o)
    assert "ANTHROPIC_API_KEY" in repr(o)


def test_max_buffer_size_overrides_max_line_bytes() -> None:
    assert ClaudeAgentOptions().effective_max_line_bytes == 64 * 1024 * 1024
    assert ClaudeAgentOptions(max_line_bytes=10).effective_max_line_bytes == 10
    assert ClaudeAgentOptions(max_buffer_size=5, max_line_bytes=10).effective_max_line_bytes == 5


# ---------------------------------------------------------------------------------------------
# small types
# ---------------------------------------------------------------------------------------------


def test_agent_definition_snake_and_official_camel_case() -> None:
    snake = AgentDefinition(
        description="d",
        prompt="p",
        disallowed_tools=["Bash"],
        mcp_servers=["fs", {"web": {"type": "http", "url": "u"}}],
        initial_prompt="go",
        max_turns=3,
        permission_mode="plan",
    )
    camel = AgentDefinition(
        description="d",
        prompt="p",
        disallowedTools=["Bash"],
        mcpServers=["fs", {"web": {"type": "http", "url": "u"}}],
        initialPrompt="go",
        maxTurns=3,
        permissionMode="plan",
    )
    assert snake == camel
    assert snake.disallowed_tools == ("Bash",)
    assert snake.to_wire() == {
        "description": "d",
        "prompt": "p",
        "disallowedTools": ["Bash"],
        "mcpServers": ["fs", {"web": {"type": "http", "url": "u"}}],
        "initialPrompt": "go",
        "maxTurns": 3,
        "permissionMode": "plan",
    }
    assert attrs.evolve(snake, model="haiku").to_wire()["model"] == "haiku"


def test_agent_definition_all_wire_names() -> None:
    agent = AgentDefinition(
        description="d",
        prompt="p",
        tools=["Read"],
        model="sonnet",
        skills=["pdf"],
        memory="project",
        background=True,
        effort=3,
        critical_system_reminder_experimental="!",
        auto_compact_window=1000,
        omit_claude_md=True,
        observer=True,
        observer_message="m",
    )
    assert set(agent.to_wire()) == {
        "description", "prompt", "tools", "model", "skills", "memory", "background", "effort",
        "criticalSystemReminder_EXPERIMENTAL", "autoCompactWindow", "omitClaudeMd", "observer",
        "observerMessage",
    }  # fmt: skip


def test_agent_definition_twice_or_unknown_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="once"):
        AgentDefinition(description="d", prompt="p", max_turns=1, maxTurns=2)
    with pytest.raises(ConfigurationError, match="unknown key 'colour'"):
        AgentDefinition.from_dict({"description": "d", "prompt": "p", "colour": "red"}, name="x")
    with pytest.raises(ConfigurationError, match="'prompt' is required"):
        AgentDefinition.from_dict({"description": "d"}, name="x")


def test_hook_matcher_official_shape() -> None:
    m = HookMatcher("Bash", [_cb], 30)
    assert (m.matcher, m.hooks, m.timeout, m.on_failure) == ("Bash", (_cb,), 30, None)
    assert HookMatcher().hooks == ()
    with pytest.raises(ConfigurationError, match="list of callbacks"):
        HookMatcher("Bash", _cb)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------------------------

VALID: list[dict[str, Any]] = [
    {"tools": ["Read"]},
    {"tools": {"type": "preset", "preset": "claude_code"}},
    {"system_prompt": "x"},
    {"system_prompt": {"type": "preset", "preset": "claude_code", "append": "a",
                       "exclude_dynamic_sections": True, "snapshot": True}},
    {"system_prompt": {"type": "custom", "prompt": "p", "snapshot": False}},
    {"system_prompt": {"type": "file", "path": Path("/p")}},
    {"permission_mode": "auto"},
    {"permission_mode": "dontAsk"},
    {"effort": "xhigh"},
    {"effort": 2},
    {"thinking": {"type": "enabled", "budgetTokens": 100}},
    {"thinking": ThinkingConfigAdaptive(display="omitted")},
    {"max_thinking_tokens": 0},
    {"max_turns": 1},
    {"max_budget_usd": 0.01},
    {"task_budget": {"total": 1000}},
    {"task_budget": 1000},
    {"resume": "abc", "fork_session": True, "session_id": SID},
    {"resume": "abc", "resume_session_at": "u1", "resume_drops_turn": ""},
    {"continue_conversation": True},
    {"model": "a", "fallback_model": "b"},
    {"settings": '{"a": 1}', "sandbox": {"enabled": True}},
    {"settings": {"a": 1}, "sandbox": {"enabled": True}},
    {"settings": "/etc/s.json"},
    {"setting_sources": []},
    {"skills": ["pdf", "my-skill.v2"]},
    {"plugins": [{"type": "local", "path": "/p", "skipMcpDiscovery": True}]},
    {"agents": {"r": {"description": "d", "prompt": "p", "effort": "low"}}},
    {"mcp_servers": {"s": {"command": "x"}, "h": {"type": "http", "url": "u"}}},
    {"extra_args": {"replay-user-messages": None, "n": 3}},
    {"output_format": {"type": "json_schema", "schema": {"type": "object"}}},
    {"permission_prompt_tool_name": "mcp__p__ask"},
    {"stall_timeout": None, "interrupt_timeout": 0, "close_timeout": 0},
    {"control_timeout": float("inf")},
    {"persist_session": False, "permission_prompts": "none"},
]  # fmt: skip


@pytest.mark.parametrize("kwargs", VALID)
def test_valid(kwargs: dict[str, Any]) -> None:
    options = ClaudeAgentOptions(**kwargs)
    validate_options(options)
    # Whatever validates can be turned into a command line, an environment and an initialize.
    assert build_argv(options, "claude")[-2:] == ["--input-format", "stream-json"]
    assert build_env(options, {})["CLAUDE_CODE_ENTRYPOINT"] == "sdk-py"
    assert build_initialize(options)["subtype"] == "initialize"


INVALID: list[tuple[dict[str, Any], str]] = [
    # the official SDKs' rules
    ({"can_use_tool": _cb, "permission_prompt_tool_name": "x"}, "permission_prompt_tool_name"),
    ({"model": "m", "fallback_model": "m"}, "fallback_model cannot be the same as model"),
    ({"settings": "/etc/s.json", "sandbox": {"enabled": True}}, "settings file path"),
    ({"skills": ["a,b"]}, "Invalid skill name"),
    ({"skills": ["Skill(x)"]}, "Invalid skill name"),
    ({"skills": ["/slash"]}, "Invalid skill name"),
    ({"skills": ["*"]}, "Invalid skill name"),
    ({"skills": ["bad\x07"]}, "Invalid skill name"),
    ({"skills": ["\ufeffbom"]}, "Invalid skill name"),
    ({"skills": [""]}, "Skill names must be non-empty strings"),
    ({"skills": [1]}, "Skill names must be strings"),
    ({"plugins": [{"type": "remote", "url": "u"}]}, "unsupported plugin"),
    # the CLI's own rules
    ({"resume_session_at": "u"}, "resume_session_at requires resume"),
    ({"resume": "a", "resume_drops_turn": "u"}, "resume_drops_turn requires resume_session_at"),
    ({"resume": "a", "session_id": SID}, "also needs fork_session"),
    ({"continue_conversation": True, "session_id": SID}, "also needs fork_session"),
    ({"max_budget_usd": 0}, "max_budget_usd must be a number > 0"),
    ({"max_budget_usd": -1.0}, "max_budget_usd"),
    ({"max_budget_usd": float("nan")}, "max_budget_usd"),
    ({"task_budget": {"total": 0}}, "task_budget total must be >= 1"),
    ({"task_budget": {"totl": 5}}, "task_budget must be"),
    # values
    ({"max_turns": 0}, "max_turns must be >= 1"),
    ({"max_turns": True}, "max_turns must be an integer"),
    ({"max_turns": 1.5}, "max_turns must be an integer"),
    ({"permission_mode": "yolo"}, "permission_mode must be one of"),
    ({"effort": "extreme"}, "effort must be one of"),
    ({"effort": -1}, "effort must be >= 0"),
    ({"setting_sources": ["user", "global"]}, "setting_sources entry must be one of"),
    ({"session_store_flush": "lazy", "session_store": STORE}, "session_store_flush"),
    ({"permission_prompts": "sometimes"}, "permission_prompts must be one of"),
    ({"thinking": {"type": "enabled"}}, "budget_tokens"),
    ({"thinking": {"type": "sometimes"}}, "thinking type"),
    ({"thinking": {"type": "adaptive", "display": "loud"}}, "thinking display"),
    ({"thinking": {"type": "adaptive", "budget_tokens": 5}}, "unknown keys"),
    ({"thinking": ThinkingConfigEnabled(budget_tokens=0)}, "budget_tokens must be >= 1"),
    ({"thinking": "adaptive"}, "thinking must be"),
    ({"max_thinking_tokens": -1}, "max_thinking_tokens must be >= 0"),
    ({"system_prompt": {"type": "preset", "preset": "other"}}, "preset must be 'claude_code'"),
    ({"system_prompt": {"type": "preset", "preset": "claude_code", "apend": "x"}},
     "unknown keys ['apend']"),
    ({"system_prompt": {"type": "custom"}}, "needs a 'prompt'"),
    ({"system_prompt": {"type": "file"}}, "needs a 'path'"),
    ({"system_prompt": {"type": "other"}}, "system_prompt type"),
    ({"system_prompt": 3}, "system_prompt must be"),
    ({"tools": {"type": "preset", "preset": "x"}}, "tools must be"),
    ({"tools": [1]}, "tools entries must be strings"),
    ({"output_format": {"type": "json", "schema": {}}}, "output_format must be"),
    ({"output_format": {"type": "json_schema"}}, "output_format['schema']"),
    ({"mcp_servers": {"s": {"type": "ftp"}}}, "type must be one of"),
    ({"mcp_servers": {"s": {"type": "stdio"}}}, "needs a 'command'"),
    ({"mcp_servers": {"s": {"type": "http"}}}, "needs a 'url'"),
    ({"mcp_servers": {"s": 3}}, "must be a config dict"),
    ({"mcp_servers": ""}, "mcp_servers must not be an empty string"),
    ({"agents": {"r": {"description": "d"}}}, "'prompt' is required"),
    ({"agents": {"r": AgentDefinition(description="d", prompt="p", memory="cloud")}},  # type: ignore[arg-type]
     "memory must be one of"),
    ({"agents": {"r": AgentDefinition(description="d", prompt="p", tools="Read")}},
     "must be a list of strings"),
    ({"agents": {"r": 3}}, "must be an AgentDefinition"),
    ({"env": {"A": 1}}, "env['A'] must be a string"),
    ({"env": {"A=B": "1"}}, "not a valid environment variable name"),
    ({"extra_args": {"--flag": None}}, "without leading dashes"),
    ({"extra_args": {"output-format": "json"}}, "must not set --output-format"),
    ({"extra_args": {"input-format": "text"}}, "must not set --input-format"),
    ({"extra_args": {"print": None}}, "must not set --print"),
    ({"extra_args": {"flag": True}}, "must be a string or None"),
    # an unknown event name is only a warning (tests/unit/test_forward_compat.py); no name is not
    ({"hooks": {"": [HookMatcher(hooks=[_cb])]}}, "hooks keys must be hook event names"),
    ({"hooks": {"Stop": HookMatcher(hooks=[_cb])}}, "must be a list of HookMatcher"),
    ({"hooks": {"Stop": [HookMatcher(hooks=[3])]}}, "is not callable"),  # type: ignore[list-item]
    ({"hooks": {"Stop": [HookMatcher(hooks=[_cb], timeout=0)]}}, "timeout must be > 0"),
    ({"hooks": {"Stop": [HookMatcher(hooks=[_cb], on_failure="x")]}},  # type: ignore[arg-type]
     "on_failure must be one of"),
    ({"hooks": {"Stop": [{"matcher": None, "hooks": [_cb], "tmeout": 1}]}}, "unknown matcher keys"),
    ({"control_timeout": 0}, "control_timeout must be > 0"),
    ({"initialize_timeout": -1}, "initialize_timeout must be > 0"),
    ({"interrupt_timeout": -0.1}, "interrupt_timeout must be >= 0"),
    ({"close_timeout": float("nan")}, "close_timeout must be a number"),
    ({"stall_timeout": 0}, "stall_timeout must be > 0"),
    ({"max_line_bytes": 0}, "max_line_bytes must be >= 1"),
    ({"max_buffered_bytes": 0}, "max_buffered_bytes must be >= 1"),
    ({"max_buffer_size": 0}, "max_buffer_size must be >= 1"),
    ({"load_timeout_ms": -1, "session_store": STORE}, "load_timeout_ms must be >= 0"),
    ({"session_store_flush": "eager"}, "has no effect without session_store"),
    ({"load_timeout_ms": 5}, "has no effect without session_store"),
    ({"model": ""}, "model must not be empty"),
    ({"fallback_model": ""}, "fallback_model must not be empty"),
    ({"permission_prompt_tool_name": ""}, "permission_prompt_tool_name must not be empty"),
    ({"cwd": ""}, "cwd must not be empty"),
    ({"model": 3}, "model must be a string"),
    ({"resume": ""}, "resume must be a session id"),
    ({"session_id": ""}, "session_id must be a UUID"),
    ({"cli_path": ""}, "cli_path must not be empty"),
    ({"include_partial_messages": 1}, "include_partial_messages must be True or False"),
    ({"prompt_suggestions": "yes"}, "prompt_suggestions must be True or False"),
    ({"stderr": "file"}, "stderr must be a function (taking one line of text)"),
    ({"tool_aliases": {"a": 1}}, "tool_aliases"),
    ({"extra_initialize_fields": {"subtype": "x"}}, "must not set 'subtype'"),
    ({"settings": "{not json"}, "does not parse"),
    ({"settings": 3}, "settings must be"),
    ({"sandbox": [1]}, "sandbox must be a dict"),
    # the TypeScript SDK's newer options
    ({"system_prompt": ["a", 3]}, "system_prompt[1] must be a string"),
    ({"system_prompt": ["a", tc.SYSTEM_PROMPT_DYNAMIC_BOUNDARY, "b",
                        tc.SYSTEM_PROMPT_DYNAMIC_BOUNDARY]}, "more than once"),
    ({"project_config_root": "relative/dir"}, "project_config_root must be an absolute path"),
    ({"project_config_root": ""}, "project_config_root must"),
    ({"managed_settings": "x"}, "managed_settings must be a dict"),
    ({"executable": ""}, "executable must not be empty"),
    ({"executable_args": [1]}, "executable_args"),
    ({"tool_config": {"Bash": {}}}, "unknown tool 'Bash'"),
    ({"tool_config": {"askUserQuestion": {"format": "html"}}}, "unknown key 'format'"),
    ({"tool_config": {"askUserQuestion": {"previewFormat": "pdf"}}}, "must be one of"),
    ({"telemetry": "yes"}, "telemetry must be True, False, None"),
    ({"per_task_stop_affordance": "yes"}, "per_task_stop_affordance"),
]  # fmt: skip


@pytest.mark.parametrize(
    "field",
    [
        "mcp_servers_delivery",
        "settings_delivery",
        "managed_settings_delivery",
        "plugin_delivery",
        "additional_directories_delivery",
        "disallowed_tools_delivery",
    ],
)
def test_a_delivery_is_initialize_or_argv(field: str) -> None:
    with pytest.raises(ConfigurationError, match=f"{field} must be 'initialize' or 'argv'"):
        kwargs: dict[str, Any] = {field: "stdin"}
        ClaudeAgentOptions(**kwargs)


@pytest.mark.parametrize(("kwargs", "message"), INVALID)
def test_invalid(kwargs: dict[str, Any], message: str) -> None:
    options = ClaudeAgentOptions(**kwargs)
    with pytest.raises(ConfigurationError) as info:
        _validate_ignoring_unwired(options)
    assert message in str(info.value)


def _validate_ignoring_unwired(options: ClaudeAgentOptions) -> None:
    from trio_claude import _options

    saved = set(_options.UNWIRED_FIELDS)
    _options.UNWIRED_FIELDS.clear()
    try:
        validate_options(options)
    finally:
        _options.UNWIRED_FIELDS.update(saved)


def test_validation_takes_only_options() -> None:
    with pytest.raises(ConfigurationError, match="must be a ClaudeAgentOptions"):
        validate_options({"model": "x"})  # type: ignore[arg-type]


def test_debug_stderr_is_deprecated_not_silently_ignored() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        validate_options(ClaudeAgentOptions(debug_stderr=object()))
    assert any("debug_stderr is deprecated" in str(w.message) for w in caught)


# ---------------------------------------------------------------------------------------------
# fields not implemented yet
# ---------------------------------------------------------------------------------------------

UNWIRED_VALUES: dict[str, dict[str, Any]] = {
    "can_use_tool": {"can_use_tool": _cb},
    "hooks": {"hooks": {"Stop": [HookMatcher(hooks=[_cb])]}},
    "session_store": {"session_store": tc.InMemorySessionStore()},
    "on_elicitation": {"on_elicitation": _cb},
    "budget": {"budget": object()},
    "stall_timeout": {"stall_timeout": 30.0},
}


def test_unwired_set_is_as_documented() -> None:
    assert set(UNWIRED_VALUES) | {"sdk_mcp_servers"} >= UNWIRED_FIELDS


@pytest.mark.parametrize("field", sorted(UNWIRED_FIELDS - {"sdk_mcp_servers"}))
def test_unwired_field_is_refused(field: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        validate_options(ClaudeAgentOptions(**UNWIRED_VALUES[field]))
    assert str(info.value) == f"{field} is not supported yet by this version of trio-claude"


def test_unwired_fields_at_their_default_are_fine() -> None:
    validate_options(ClaudeAgentOptions(hooks={}, can_use_tool=None, stall_timeout=None))


def test_sdk_mcp_server_is_refused_while_unwired() -> None:
    if "sdk_mcp_servers" not in UNWIRED_FIELDS:
        pytest.skip("in-process MCP servers are implemented")
    options = ClaudeAgentOptions(
        mcp_servers={"fs": {"command": "x"}, "calc": {"type": "sdk", "name": "calc"}}
    )
    with pytest.raises(ConfigurationError, match=r"mcp_servers\['calc'\].*not supported yet"):
        validate_options(options)
    validate_options(ClaudeAgentOptions(mcp_servers={"fs": {"command": "x"}}))


def test_removing_a_name_from_the_set_wires_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from trio_claude import _options

    monkeypatch.setattr(_options, "UNWIRED_FIELDS", UNWIRED_FIELDS - {"stall_timeout"})
    validate_options(ClaudeAgentOptions(stall_timeout=30.0))


def test_thinking_wins_over_the_deprecated_max_thinking_tokens() -> None:
    # As in the official SDK: both given is no error, and only thinking reaches the CLI.
    options = ClaudeAgentOptions(thinking=ThinkingConfigAdaptive(), max_thinking_tokens=5)
    validate_options(options)
    argv = build_argv(options, "claude")
    assert "--thinking=adaptive" in argv
    assert not any(a.startswith("--max-thinking-tokens") for a in argv)
