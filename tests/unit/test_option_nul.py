"""NUL bytes and lone surrogates in options (issue 10, faults 9 and 10).

A NUL in a value that becomes a command-line argument, an environment variable or a path used to
fail at spawn with a bare ``ValueError("embedded null byte")``; a lone surrogate in a value sent to
the CLI failed at spawn (``UnicodeEncodeError``) or in the ``initialize`` request
(``orjson.JSONEncodeError``). ``validate_options`` now refuses both with a ``ConfigurationError``
naming the field (and the key path inside it), before anything is started.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import attrs
import orjson
import pytest
import trio

import trio_claude
from trio_claude import (
    AgentDefinition,
    ClaudeAgentOptions,
    ConfigurationError,
    HookMatcher,
    ThinkingConfigAdaptive,
    _options,
)
from trio_claude._options import validate_options
from trio_claude._transport._command import build_argv, build_env, build_initialize

NUL = "\x00"
CLI = "/usr/bin/claude"


async def _hook(input: Any, tool_use_id: str | None, context: Any) -> None:
    return None


async def _allow(tool_name: str, tool_input: dict[str, Any], context: Any) -> Any:
    return trio_claude.PermissionResultAllow()


def _nul_message(path: str) -> str:
    return "^" + re.escape(f"{path}: contains a NUL byte")


def _surrogate_message(path: str) -> str:
    return "^" + re.escape(f"{path}: contains a lone surrogate")


# (options, the path named in the message). Every value here reaches argv, env or a path.
NUL_CASES: list[tuple[dict[str, Any], str]] = [
    ({"model": f"claude{NUL}"}, "model"),
    ({"fallback_model": f"x{NUL}"}, "fallback_model"),
    ({"system_prompt": f"be brief{NUL}"}, "system_prompt"),
    ({"system_prompt": {"type": "custom", "prompt": f"p{NUL}"}}, "system_prompt['prompt']"),
    (
        {"system_prompt": {"type": "preset", "preset": "claude_code", "append": f"a{NUL}"}},
        "system_prompt['append']",
    ),
    ({"system_prompt": {"type": "file", "path": Path(f"/p{NUL}")}}, "system_prompt['path']"),
    ({"add_dirs": ["/ok", f"/bad{NUL}"]}, "add_dirs[1]"),
    ({"add_dirs": [Path(f"/bad{NUL}")]}, "add_dirs[0]"),
    ({"extra_args": {f"flag{NUL}": None}}, "extra_args key 'flag\\x00'"),
    ({"extra_args": {"flag": f"v{NUL}"}}, "extra_args['flag']"),
    ({"resume": f"abc{NUL}"}, "resume"),
    ({"session_id": f"abc{NUL}"}, "session_id"),
    ({"resume": "r", "resume_session_at": f"m{NUL}"}, "resume_session_at"),
    ({"cwd": f"/tmp{NUL}"}, "cwd"),
    ({"cwd": Path(f"/tmp{NUL}")}, "cwd"),
    ({"allowed_tools": ["Read", f"Bash{NUL}"]}, "allowed_tools[1]"),
    ({"disallowed_tools": [f"Bash{NUL}"]}, "disallowed_tools[0]"),
    ({"tools": [f"Read{NUL}"]}, "tools[0]"),
    ({"betas": [f"b{NUL}"]}, "betas[0]"),
    ({"settings": f"/s.json{NUL}"}, "settings"),
    ({"settings": {"env": {"A": f"1{NUL}"}}}, "settings['env']['A']"),
    (
        {"sandbox": {"enabled": True, "excludedCommands": [f"x{NUL}"]}},
        "sandbox['excludedCommands'][0]",
    ),
    ({"mcp_servers": f"/mcp.json{NUL}"}, "mcp_servers"),
    (
        {"mcp_servers": {"s": {"type": "stdio", "command": f"srv{NUL}"}}},
        "mcp_servers['s']['command']",
    ),
    ({"env": {"A": f"1{NUL}"}}, "env['A']"),
    ({"env": {f"A{NUL}": "1"}}, "env key 'A\\x00'"),
    ({"cli_path": f"/bin/claude{NUL}"}, "cli_path"),
    ({"cli_path": Path(f"/bin/claude{NUL}")}, "cli_path"),
    ({"plugins": [{"type": "local", "path": f"/plug{NUL}"}]}, "plugins[0]['path']"),
    ({"plugins": [{"type": "local", "path": Path(f"/plug{NUL}")}]}, "plugins[0]['path']"),
    ({"permission_prompt_tool_name": f"mcp__x{NUL}"}, "permission_prompt_tool_name"),
    ({"agent": f"a{NUL}"}, "agent"),
    ({"debug_file": f"/tmp/d{NUL}"}, "debug_file"),
    ({"user": f"nobody{NUL}"}, "user"),
    ({"client_app": f"app{NUL}"}, "client_app"),
    ({"skills": [f"s{NUL}"]}, "skills[0]"),
    ({"setting_sources": [f"user{NUL}"]}, "setting_sources[0]"),
    ({"permission_mode": f"default{NUL}"}, "permission_mode"),
    ({"effort": f"low{NUL}"}, "effort"),
    ({"thinking": ThinkingConfigAdaptive(display=f"x{NUL}")}, "thinking.display"),  # type: ignore[arg-type]
    ({"thinking": {"type": "adaptive", "display": f"x{NUL}"}}, "thinking['display']"),
    (
        {"agents": {"a": AgentDefinition(description="d", prompt=f"p{NUL}")}},
        "agents['a'].prompt",
    ),
    ({"agents": {"a": {"description": "d", "prompt": f"p{NUL}"}}}, "agents['a']['prompt']"),
    (
        {"agents": {"a": AgentDefinition(description="d", prompt="p", tools=[f"Read{NUL}"])}},
        "agents['a'].tools[0]",
    ),
    ({"agents": {f"a{NUL}": AgentDefinition(description="d", prompt="p")}}, "agents key 'a\\x00'"),
    (
        {"hooks": {"PreToolUse": [HookMatcher(matcher=f"Bash{NUL}", hooks=[_hook])]}},
        "hooks['PreToolUse'][0].matcher",
    ),
    ({"tool_aliases": {"Read": f"Bash{NUL}"}}, "tool_aliases['Read']"),
]


@pytest.mark.parametrize(("kwargs", "path"), NUL_CASES, ids=[p for _, p in NUL_CASES])
def test_nul_is_refused_naming_the_field(kwargs: dict[str, Any], path: str) -> None:
    with pytest.raises(ConfigurationError, match=_nul_message(path)):
        validate_options(ClaudeAgentOptions(**kwargs))


def _simple_string_fields() -> list[tuple[str, Any]]:
    # Derived from the class, so a new plain string field is covered without editing this test.
    out: list[tuple[str, Any]] = []
    for field in attrs.fields(ClaudeAgentOptions):
        kind: object = field.type  # the annotation's text (postponed annotations)
        if kind == "str | None":
            out.append((field.name, f"x{NUL}y"))
        elif kind == "tuple[str, ...]":
            out.append((field.name, ["ok", f"x{NUL}y"]))
    return out


@pytest.mark.parametrize(("name", "value"), _simple_string_fields())
def test_every_plain_string_field_is_checked(name: str, value: Any) -> None:
    options = ClaudeAgentOptions(**{name: value})
    if name in _options._NUL_ALLOWED_FIELDS:
        validate_options(options)
        return
    where = name if isinstance(value, str) else f"{name}[1]"
    with pytest.raises(ConfigurationError, match=_nul_message(where)):
        validate_options(options)


def test_the_plain_string_fields_were_found() -> None:
    names = {name for name, _ in _simple_string_fields()}
    assert {"model", "resume", "cwd", "cli_path", "add_dirs", "allowed_tools", "betas"} <= names


def test_the_message_says_where_and_why() -> None:
    with pytest.raises(ConfigurationError) as info:
        validate_options(ClaudeAgentOptions(model=f"opus{NUL}"))
    message = str(info.value)
    assert message.startswith("model: contains a NUL byte (at index 4)")
    assert "command-line arguments" in message


def test_env_values_are_not_quoted() -> None:
    secret = "sk-ant-" + "s" * 30
    with pytest.raises(ConfigurationError) as info:
        validate_options(ClaudeAgentOptions(env={"ANTHROPIC_API_KEY": f"{secret}{NUL}"}))
    assert "ANTHROPIC_API_KEY" in str(info.value)
    assert "sk-ant" not in str(info.value)


# Free text and opaque JSON only sent inside JSON, never used as an OS string by the CLI.
NUL_ALLOWED_CASES: list[dict[str, Any]] = [
    {"title": f"my{NUL}title"},
    {"plan_mode_instructions": f"plan{NUL}"},
    {"extra_initialize_fields": {"custom": f"x{NUL}", "nested": [{"k": NUL}]}},
    {"output_format": {"type": "json_schema", "schema": {"description": f"d{NUL}"}}},
]


@pytest.mark.parametrize("kwargs", NUL_ALLOWED_CASES, ids=lambda k: next(iter(k)))
def test_nul_in_json_only_free_text_is_allowed_and_sent_escaped(kwargs: dict[str, Any]) -> None:
    options = ClaudeAgentOptions(**kwargs)
    validate_options(options)
    argv = build_argv(options, CLI)
    assert not any(NUL in arg for arg in argv)  # JSON writes it as \u0000
    for arg in argv:
        os.fsencode(arg)
    assert b"\x00" not in orjson.dumps(build_initialize(options))


def test_nul_allowed_fields_are_real_fields() -> None:
    names = {f.name for f in attrs.fields(ClaudeAgentOptions)}
    for table in (
        _options._NUL_ALLOWED_FIELDS,
        _options._OS_FIELDS,
        _options._NOT_SENT_FIELDS,
    ):
        assert table <= names, table - names
    assert not _options._NUL_ALLOWED_FIELDS & _options._OS_FIELDS


SURROGATE_CASES: list[tuple[dict[str, Any], str]] = [
    ({"system_prompt": "hi \ud83d"}, "system_prompt"),
    (
        {"system_prompt": {"type": "preset", "preset": "claude_code", "append": "\udc00"}},
        "system_prompt['append']",
    ),
    ({"model": "\ud83d"}, "model"),
    ({"add_dirs": ["/a/\udcff"]}, "add_dirs[0]"),  # even surrogateescape: the CLI reads UTF-8
    ({"extra_args": {"k": "\ud800"}}, "extra_args['k']"),
    ({"agents": {"a": AgentDefinition(description="d", prompt="p\ud83d")}}, "agents['a'].prompt"),
    (
        {"agents": {"a": {"description": "d", "prompt": "p", "initialPrompt": "\ud83d"}}},
        "agents['a']['initialPrompt']",
    ),
    ({"title": "\ud83d"}, "title"),
    ({"plan_mode_instructions": "\ud83d"}, "plan_mode_instructions"),
    ({"extra_initialize_fields": {"a": ["\ud83d"]}}, "extra_initialize_fields['a'][0]"),
    ({"tool_aliases": {"\ud83d": "Read"}}, "tool_aliases key '\\ud83d'"),
    ({"settings": {"k": "\ud83d"}}, "settings['k']"),
    ({"hooks": {"Stop": [{"matcher": "\ud83d", "hooks": [_hook]}]}}, "hooks['Stop'][0]['matcher']"),
    ({"cwd": "/tmp/\ud83d"}, "cwd"),  # outside the surrogateescape range: exec cannot encode it
    ({"env": {"A": "\ud83d"}}, "env['A']"),
]


@pytest.mark.parametrize(("kwargs", "path"), SURROGATE_CASES, ids=[p for _, p in SURROGATE_CASES])
def test_lone_surrogate_is_refused_naming_the_field(kwargs: dict[str, Any], path: str) -> None:
    with pytest.raises(ConfigurationError, match=_surrogate_message(path)):
        validate_options(ClaudeAgentOptions(**kwargs))


def test_os_fields_accept_undecodable_file_name_bytes() -> None:
    # os.listdir()/os.environ give undecodable bytes as U+DC80..U+DCFF (surrogateescape); Python
    # encodes them back for the OS, so they are valid in the fields it hands to the OS itself.
    options = ClaudeAgentOptions(cwd="/tmp/caf\udce9", env={"X": "\udcff"})
    validate_options(options)
    env = build_env(options, {})
    assert os.fsencode(env["PWD"]) == b"/tmp/caf\xe9"
    assert os.fsencode(env["X"]) == b"\xff"


def test_valid_unicode_is_fine_everywhere() -> None:
    text = "héllo 😀 中文"
    options = ClaudeAgentOptions(
        model=text,
        system_prompt=text,
        add_dirs=[f"/{text}"],
        env={"X": text},
        extra_args={"k": text},
        agents={"a": AgentDefinition(description=text, prompt=text)},
        title=text,
    )
    validate_options(options)
    for arg in build_argv(options, CLI):
        os.fsencode(arg)
    orjson.dumps(build_initialize(options))


def test_objects_and_callbacks_are_not_walked() -> None:
    server = trio_claude.create_sdk_mcp_server("srv", tools=[])
    options = ClaudeAgentOptions(
        mcp_servers={"srv": server},
        hooks={"Stop": [HookMatcher(hooks=[_hook])]},
        can_use_tool=_allow,
        stderr=lambda line: None,
    )
    validate_options(options)


async def test_open_session_refuses_before_anything_starts() -> None:
    class NeverStarted:
        async def start(self, spec: Any, nursery: Any) -> Any:
            raise AssertionError("the transport must not be started")

    options = ClaudeAgentOptions(model=f"m{NUL}", transport=NeverStarted(), cli_path="/bin/true")
    with pytest.raises(ConfigurationError, match=_nul_message("model")):
        async with trio_claude.open_session(options):
            pass  # pragma: no cover
    await trio.lowlevel.checkpoint()
