"""A newcomer's wrong input to the public API, found by a sweep: each test is a bad input that
was accepted silently, or refused late or confusingly (a bare TypeError or AttributeError, a CLI
crash, a dropped MCP server, a silently failing-open hook), or whose error printed a credential.

Every test states what an expert user expects: a typed error (``ConfigurationError``, or a
``TypeError``/``ValueError`` with a clear message) naming the bad field, raised at the call site
and before any CLI process is spawned, and never quoting a secret.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
import trio

import trio_claude as tc
from trio_claude import teams
from trio_claude._errors import ConfigurationError
from trio_claude._options import validate_options
from trio_claude._transport._command import build_argv
from trio_claude.testing.fake_cli import FakeCLITransport, FakeScript, FakeTurn, Request, Result

SECRET = "hunter2hunter2"
API_KEY = "sk-ant-api03-SECRETSECRET"


def fake_options(
    script: FakeScript | None = None, **kw: Any
) -> tuple[tc.ClaudeAgentOptions, FakeCLITransport]:
    transport = FakeCLITransport(script or FakeScript(turns=[FakeTurn.reply("x")] * 3))
    return tc.ClaudeAgentOptions(transport=transport, **kw), transport


async def _handler(args: Any) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": "ok"}]}


# ------------------------------------------------------------------ ClaudeAgentOptions fields


@pytest.mark.parametrize("aliases", [["Bash"], "Bash"])
def test_tool_aliases_that_is_not_a_dict_is_a_configuration_error(aliases: Any) -> None:
    # Today: AttributeError: 'list' object has no attribute 'items' (from _check_tool_aliases).
    options = tc.ClaudeAgentOptions(tool_aliases=aliases)
    with pytest.raises(ConfigurationError, match="tool_aliases"):
        validate_options(options)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("output_format", {"type": "json_schema", "schema": {"type": "object", "required": {"a"}}}),
        ("settings", {"env": {"ANTHROPIC_API_KEY": API_KEY}, "permissions": {"allow": {"Read"}}}),
        ("sandbox", {"enabled": True, "excludedCommands": {"docker"}}),
        ("managed_settings", {"permissions": {"deny": {"Bash"}}}),
        (
            "mcp_servers",
            {"a": {"type": "http", "url": "https://h", "headers": {"Authorization": object()}}},
        ),
    ],
)
async def test_values_json_cannot_encode_are_a_configuration_error_naming_the_field(
    field: str, value: Any
) -> None:
    # Today: a bare TypeError("Object of type set is not JSON serializable") from json.dumps in
    # the command builder, naming neither the option nor where in it the value is.
    kw: dict[str, Any] = {field: value}
    if field == "mcp_servers":
        kw["mcp_servers_delivery"] = "argv"
    if field == "settings":
        kw["settings_delivery"] = "argv"
    options, transport = fake_options(**kw)
    with pytest.raises(ConfigurationError, match=field) as info:
        async with tc.open_session(options):
            pass  # pragma: no cover
    assert transport.specs == []  # refused before spawning
    assert API_KEY not in str(info.value)


def test_infinite_max_budget_usd_does_not_reach_the_cli() -> None:
    # Today: validation accepts inf and the CLI is started with --max-budget-usd=inf, which it
    # rejects at start-up ("argument 'inf' is invalid ... must be a number greater than 0"): a
    # ProcessError after spawning. Either refuse it (naming max_budget_usd) or treat it as
    # "no limit" and send no flag.
    options = tc.ClaudeAgentOptions(max_budget_usd=math.inf)
    try:
        validate_options(options)
    except ConfigurationError as exc:
        assert "max_budget_usd" in str(exc)
    else:
        assert not any(a.startswith("--max-budget-usd") for a in build_argv(options, "claude"))


@pytest.mark.parametrize("session_id", ["abc", "my-session", "12345"])
def test_session_id_that_is_not_a_uuid_is_refused_before_spawn(session_id: str) -> None:
    # Today: accepted; the CLI exits at start-up with "Invalid session ID. Must be a valid UUID."
    # (a ProcessError). The SDK's own empty-string message already says "must be a UUID".
    with pytest.raises(ConfigurationError, match="session_id"):
        validate_options(tc.ClaudeAgentOptions(session_id=session_id))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("background", "false"),  # a truthy string in JS: the agent runs in the background
        ("omit_claude_md", "no"),
        ("observer", "no"),
        ("model", 5),
        ("initial_prompt", 5),
        ("critical_system_reminder_experimental", 5),
        ("observer_message", 5),
        ("mcp_servers", "my-server"),  # a lone string, sent to the CLI as a string
        ("mcp_servers", [5]),
        ("effort", -5),  # the top-level effort refuses a negative integer
        ("auto_compact_window", -1),
    ],
)
def test_agent_definition_fields_are_checked(field: str, value: Any) -> None:
    # Today: only description, prompt, tools, disallowed_tools, skills, memory,
    # permission_mode, max_turns and effort (by name) are checked; these go to the CLI as they
    # are and the real CLI starts without a word (observed with 2.1.332).
    agent = tc.AgentDefinition("desc", "prompt", **{field: value})
    with pytest.raises(ConfigurationError, match=rf"agents\['a'\]\.{field}"):
        validate_options(tc.ClaudeAgentOptions(agents={"a": agent}))


@pytest.mark.parametrize(
    "config",
    [
        {"command": "python", "args": "-m my_server"},  # a string where a list is expected
        {"command": "python", "args": ["-m", 5]},
        {"command": "python", "env": {"PORT": 8080}},
        {"command": ""},
        {"type": "http", "url": "https://h", "headers": {"X-Retries": 3}},
        {"type": "http", "url": ""},
    ],
)
def test_mcp_server_config_shapes_are_checked(config: dict[str, Any]) -> None:
    # Today: accepted; the real CLI drops such a server without a word (it is missing from
    # mcp_status(), no error anywhere), so the model just never sees its tools.
    options = tc.ClaudeAgentOptions(mcp_servers={"a": config})
    with pytest.raises(ConfigurationError, match=r"mcp_servers\['a'\]"):
        validate_options(options)


def test_plugins_given_as_one_string_says_it_must_be_a_list() -> None:
    # Today: the string is iterated char by char and the error reads
    # "unsupported plugin '.': plugins must be {'type': 'local', ...}".
    with pytest.raises(ConfigurationError, match="plugins must be a list"):
        validate_options(tc.ClaudeAgentOptions(plugins="./my-plugin"))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "plugin",
    [
        {"type": "git", "url": f"https://bob:{SECRET}@github.com/acme/plugin.git"},
        {"type": "local", "path": "/opt/plugin", "token": SECRET},
    ],
)
def test_plugin_errors_do_not_print_credentials(plugin: dict[str, Any]) -> None:
    # Today: "unsupported plugin {...whole dict...}" / "plugin {...}: unknown keys" print the
    # dict raw, with the URL's password or the token.
    with pytest.raises(ConfigurationError) as info:
        validate_options(tc.ClaudeAgentOptions(plugins=[plugin]))
    assert SECRET not in str(info.value)
    assert SECRET not in repr(info.value)


@pytest.mark.parametrize("transport", ["ssh", object()])
async def test_transport_that_is_not_a_transport_is_a_configuration_error(transport: Any) -> None:
    # Today: AttributeError: 'str' object has no attribute 'start', from inside open_session.
    options = tc.ClaudeAgentOptions(transport=transport)
    with pytest.raises(ConfigurationError, match="transport"):
        async with tc.open_session(options):
            pass  # pragma: no cover


@pytest.mark.parametrize("store", ["sqlite:///sessions.db", object()])
def test_session_store_that_is_not_a_store_is_a_configuration_error(store: Any) -> None:
    # Today: accepted; the session runs and every mirror batch fails with a logged
    # "mirroring N transcript entries failed: AttributeError: ... no attribute 'append'":
    # the transcripts the user asked to keep are silently lost.
    with pytest.raises(ConfigurationError, match="session_store"):
        validate_options(tc.ClaudeAgentOptions(session_store=store))


def test_extra_args_cannot_silently_replace_the_can_use_tool_callback() -> None:
    # Today: accepted; argv holds --permission-prompt-tool=stdio and then
    # --permission-prompt-tool mcp__perm__check, the CLI takes the last one and can_use_tool is
    # never called (observed with the real CLI). permission_prompt_tool_name with can_use_tool
    # is already refused; the same flag through extra_args should be too.
    async def policy(name: str, input: dict[str, Any], context: Any) -> Any:
        return tc.PermissionResultDeny(message="no")

    options = tc.ClaudeAgentOptions(
        can_use_tool=policy, extra_args={"permission-prompt-tool": "mcp__perm__check"}
    )
    with pytest.raises(ConfigurationError, match="permission-prompt-tool"):
        validate_options(options)


# ------------------------------------------------------------------ Session methods


@pytest.mark.parametrize(
    "prompt",
    [{"type": "user"}, {"type": "user", "message": "hello"}, {"type": "user", "message": {}}],
)
async def test_a_user_dict_without_a_user_message_is_refused_at_send(prompt: Any) -> None:
    # Today: written as it is; the real CLI then exits ("Error: Expected message role 'user',
    # got 'undefined'") and the whole session dies with a ProcessError.
    options, transport = fake_options()
    async with tc.open_session(options) as session:
        with pytest.raises(ConfigurationError, match="message"):
            await session.send(prompt)
        assert transport.fake is not None
        assert not [f for f in transport.fake.received if f.get("type") == "user"]


@pytest.mark.parametrize("field", ["uuid", "parent_tool_use_id"])
async def test_send_refuses_non_string_ids(field: str) -> None:
    # Today: send("hi", uuid=5) is written; the real CLI echoes the 5 and the SDK then drops
    # the turn's assistant message as malformed ("expected a string or null, got int 5 @
    # $.user_message_uuid"): the answer is silently lost.
    options, _ = fake_options()
    async with tc.open_session(options) as session:
        with pytest.raises((TypeError, ValueError), match=field):
            await session.send("hi", **{field: 5})  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["5", -1, 1.5])
async def test_set_max_thinking_tokens_checks_its_argument(value: Any) -> None:
    # Today: sent as it is. The real CLI accepts -1 silently; for "5" it refuses with a message
    # the redactor garbles ("set_max_thinking_tokens: *** must be an integer or null").
    # ClaudeAgentOptions(max_thinking_tokens=-1) is refused; the setter should agree.
    options, transport = fake_options()
    async with tc.open_session(options) as session:
        with pytest.raises((TypeError, ValueError), match="max_thinking_tokens"):
            await session.set_max_thinking_tokens(value)
        assert transport.fake is not None
        sent = [
            f
            for f in transport.fake.received
            if f.get("type") == "control_request"
            and f.get("request", {}).get("subtype") == "set_max_thinking_tokens"
        ]
        assert sent == []


# ------------------------------------------------------------------ callbacks


@pytest.mark.parametrize(
    "output",
    [
        {"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "Deny"}},
        {"decision": "blocked", "reason": "no rm"},
        {"continue": "false", "stopReason": "stop"},
    ],
)
async def test_a_hook_dict_output_with_an_invalid_value_is_not_passed_on(output: Any) -> None:
    # Today: passed to the CLI as it is, which ignores the unknown value: the Write runs (the
    # hook fails open, observed with the real CLI) and nothing is logged. The typed
    # PreToolUseHookSpecificOutput(permission_decision="Deny") and HookOutput(decision=...) are
    # refused; the same values in the official dict form should be too (an error answer and a
    # logged warning, as for any other invalid output).
    async def hook(input: Any, tool_use_id: Any, context: Any) -> Any:
        return output

    request = Request(
        "hook_callback",
        {
            "callback_id": "hook_0",
            "input": {"hook_event_name": "PreToolUse", "tool_name": "Write", "tool_input": {}},
            "tool_use_id": "toolu_1",
        },
    )
    script = FakeScript(turns=[FakeTurn(steps=(request, Result(text="done")))])
    options, transport = fake_options(
        script, hooks={"PreToolUse": [tc.HookMatcher(matcher="Write", hooks=[hook])]}
    )
    async with tc.open_session(options) as session:
        with trio.fail_after(5):
            await session.run("go")
    assert transport.fake is not None
    (answer,) = transport.fake.responses.values()
    assert answer.get("subtype") == "error", answer


# ------------------------------------------------------------------ in-process MCP tools


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"name": "calc", "version": 1}, TypeError),  # the real CLI marks the server 'failed'
        ({"name": 5}, TypeError),
        ({"name": ""}, ValueError),
    ],
)
def test_create_sdk_mcp_server_checks_its_name_and_version(
    kwargs: dict[str, Any], error: type[Exception]
) -> None:
    # Today: accepted. With version=1 the real CLI reports the server as 'failed' (with no
    # error text) and every tool call of it fails.
    with pytest.raises(error):
        tc.create_sdk_mcp_server(tools=[], **kwargs)


def test_create_sdk_mcp_server_with_one_tool_instead_of_a_list() -> None:
    # Today: TypeError: 'SdkMcpTool' object is not iterable (names neither the argument nor
    # the fix).
    add = tc.tool("add", "Add", {"a": float})(_handler)
    with pytest.raises(TypeError, match=r"tools.*list|list.*tools"):
        tc.create_sdk_mcp_server("calc", tools=add)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["a" * 200, "add\nnumbers", "add\x00"])
def test_tool_names_the_cli_cannot_mend_are_refused(name: str) -> None:
    # The CLI replaces the characters the model's API refuses ("add numbers" is offered as
    # mcp__calc__add_numbers: tests/unit/test_new_checks_accept_legit_input.py), but not a name
    # beyond MCP's 128 characters or one with control characters.
    with pytest.raises(ValueError, match="name"):
        tc.tool(name, "desc", {"a": float})(_handler)


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "properties": ["a", "b"]},
        {"type": "object", "properties": {"a": "number"}},
        {"type": "object", "properties": {"a": {"type": "flot"}}},
        {"type": "object", "required": "a"},
    ],
)
def test_malformed_tool_json_schema_is_refused_at_decoration(schema: dict[str, Any]) -> None:
    # Today: accepted as it is (only the top-level "type" is looked at); the schema goes to
    # the model's tool list, where the Messages API refuses it.
    with pytest.raises(TypeError, match="'add'"):
        tc.tool("add", "desc", schema)(_handler)


# ------------------------------------------------------------------ teams


async def _enter(cm: Any) -> None:
    async with cm:
        pass  # pragma: no cover


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda o: teams.open_debate([o]), id="debate-agents-list"),  # type: ignore[arg-type]
        pytest.param(lambda o: teams.open_team(o, [o]), id="team-teammates-list"),  # type: ignore[arg-type]
        pytest.param(lambda o: teams.open_blackboard({"a": o}, initial=[1]), id="board-initial"),  # type: ignore[arg-type]
        pytest.param(lambda o: teams.open_blackboard([o]), id="board-agents-list"),  # type: ignore[arg-type]
        pytest.param(lambda o: teams.open_pipeline(teams.Stage("s", o)), id="pipeline-one-stage"),  # type: ignore[arg-type]
    ],
)
async def test_team_constructors_check_their_collections(make: Any) -> None:
    # Today: AttributeError: 'list' object has no attribute 'items'; TypeError: cannot convert
    # dictionary update sequence element #0 to a sequence; TypeError: 'Stage' object is not
    # iterable. The others of these constructors raise ConfigurationError naming the argument.
    options, _ = fake_options()
    with pytest.raises(ConfigurationError):
        with trio.fail_after(5):
            await _enter(make(options))
