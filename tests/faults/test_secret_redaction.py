"""Secrets leak (issue 10): fragments of keys in logs, errors, reprs and the stderr tail; secrets
on the command line.

Every path redacts the *whole* text before anything cuts it to length, so a key cut in half (no
longer recognisable by shape or by value) never gets through; text already cut upstream (the
200-byte head of a line the framer keeps) has the cut-off start of a key at its end masked too.
``mcp_servers``' ``env``/``headers`` and inline ``settings`` go in the ``initialize`` request,
not on the command line every local user can read (``tests/e2e/test_secret_delivery_e2e.py``
runs that against the real CLI).
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import pytest
import trio

import trio_claude as tc
from trio_claude._diagnose import ExitContext, diagnose_exit
from trio_claude._errors import CLIJSONDecodeError, ControlRequestError, MessageParseError
from trio_claude._protocol._codec import decode_message
from trio_claude._redact import redact, redact_preview, secret_values
from trio_claude._transport._command import (
    build_argv,
    build_initialize,
    check_initialize_reply,
)
from trio_claude._util import StderrTail

from ._support import ManualTransport, result_frame, script_cli

CLIS = Path(__file__).parent / "clis"
KEY = "sk-ant-api03-" + "Zx9" * 30  # shaped like a real Anthropic key
TOKEN = "tok_live_0123456789abcdef"  # a secret of no known shape: masked by value only
GATEWAY_KEY = "sk-gw-" + "7" * 32  # an LLM gateway's key: sk-, but not sk-ant-
MCP_TOKEN = "ghp_" + "A1b2C3d4" * 4  # an MCP server's env secret (no known shape)


def fragments(secret: str, size: int = 8) -> list[str]:
    """Every ``size``-character piece of ``secret`` past its well-known prefix."""
    body = secret.removeprefix("sk-ant-").removeprefix("sk-")
    return [body[i : i + size] for i in range(len(body) - size + 1)]


def assert_no_fragment(text: str, *secrets: str, size: int = 8) -> None:
    for secret in secrets:
        leaked = [f for f in fragments(secret, size) if f in text]
        assert leaked == [], f"{secret[:6]}... leaked {leaked[:3]} in {text[-300:]!r}"


# ------------------------------------------------------------------ redaction primitives


@pytest.mark.parametrize("offset", [100, 110, 114, 116])
def test_redact_preview_masks_before_it_cuts(offset: int) -> None:
    # A cut at 120 inside the secret: cut first, and what is left is no longer the secret.
    line = "x" * offset + TOKEN + " and " + KEY + " after"
    preview = redact_preview(line, [TOKEN], 120)
    assert len(preview) <= 120 and preview.endswith("...")
    assert_no_fragment(preview, TOKEN, KEY, size=6)
    assert preview.startswith("x" * offset + "*")


@pytest.mark.parametrize("cut", [8, 10, 15, len(TOKEN) - 1])
def test_a_secret_cut_by_an_earlier_truncation_is_masked(cut: int) -> None:
    # InvalidLine.line and OversizeLine.head are the first 200 bytes of a line.
    head = (b"y" * (200 - cut) + TOKEN.encode() + b" tail")[:200]
    assert_no_fragment(redact_preview(head, [TOKEN], 200), TOKEN, size=8)
    # ... and a line that starts with the end of one (a tail cut before redaction)
    assert_no_fragment(redact(TOKEN[-cut:] + " rest", [TOKEN]), TOKEN, size=8)


@pytest.mark.parametrize("cut", [3, 7, 9, 12, 40])
def test_a_shaped_key_cut_at_the_end_of_a_line_is_masked(cut: int) -> None:
    for key in (KEY, GATEWAY_KEY):
        text = redact("z" * 30 + " " + key[:cut] + "\nnext line")
        assert "sk-***" in text or "sk-ant-***" in text
        assert_no_fragment(text, key, size=3)
        assert text.endswith("\nnext line")


def test_gateway_shaped_keys_and_json_secrets_are_masked_by_shape() -> None:
    text = (
        f"upstream said {GATEWAY_KEY}; openai sk-proj-{'a1' * 12}; or sk-or-v1-{'b2' * 12}\n"
        '{"env": {"ANTHROPIC_AUTH_TOKEN": "gwtok_0123456789", "HOME": "/home/x"}, '
        '"apiKeyHelper": "/usr/bin/get-key", "input_tokens": 1234567890}\n'
        "{'X-Api-Key': 'abcdefghijklmn', 'X-Trace': 'on'}"
    )
    clean = redact(text)
    for secret in (GATEWAY_KEY, "a1" * 12, "b2" * 12, "gwtok_0123456789", "abcdefghijklmn"):
        assert secret not in clean
    assert "/usr/bin/get-key" not in clean
    # what is not a secret stays, to debug with
    for kept in ('"HOME": "/home/x"', '"input_tokens": 1234567890', "'X-Trace': 'on'"):
        assert kept in clean
    assert "task-runner-0123456789abcdef" in redact("task-runner-0123456789abcdef")


def test_secret_values_come_from_the_options_too() -> None:
    servers = {
        "gh": {"command": "gh-mcp", "env": {"GITHUB_TOKEN": MCP_TOKEN, "LEVEL": "debug-mode"}},
        "web": {"type": "http", "url": "u", "headers": {"Authorization": f"Bearer {TOKEN}"}},
    }
    settings = json.dumps({"env": {"GATEWAY_API_KEY": GATEWAY_KEY}})
    found = secret_values({"ANTHROPIC_API_KEY": KEY}, servers, settings, {"api-key": "k" * 9})
    assert {KEY, MCP_TOKEN, TOKEN, f"Bearer {TOKEN}", GATEWAY_KEY, "k" * 9} == set(found)
    assert "debug-mode" not in found


# --------------------------------------------------------------------------- stderr tail


@pytest.mark.parametrize("inside", [4, 8, 16, len(TOKEN) - 2])
def test_stderr_tail_masks_a_key_crossing_the_4096_char_cut(inside: int) -> None:
    tail = StderrTail(secrets=[TOKEN])
    lines = tail.feed(("e" * (4096 - inside) + TOKEN + " rest\n").encode())
    lines += tail.feed(("f" * (4096 - inside) + KEY + " rest\n").encode())
    text = tail.text()
    assert_no_fragment(text, TOKEN, KEY, size=4)
    assert all(len(line) <= 4096 for line in text.splitlines())
    # the stderr callback's lines are verbatim: that is the user's own channel
    assert TOKEN in lines[0] and KEY in lines[1]


def test_stderr_tail_keeps_only_the_head_of_an_overlong_line() -> None:
    tail = StderrTail(max_line_chars=100, secrets=[TOKEN])
    chunk = b"g" * 390 + TOKEN.encode()  # the 400-byte piece boundary falls inside TOKEN
    pieces = tail.feed(chunk)
    pieces += tail.feed(b"more " + TOKEN.encode() + b" end\nnext line\n")
    pieces += tail.feed(b"unterminated " + TOKEN.encode())
    pieces += tail.flush()
    assert_no_fragment(tail.text(), TOKEN, size=4)
    assert tail.text().splitlines()[1:] == ["next line", "unterminated ***"]
    assert "".join(pieces[:2]).startswith("g" * 390 + TOKEN)  # verbatim for the callback


# ---------------------------------------------------------------- exceptions and reprs


def test_message_parse_errors_do_not_quote_long_values() -> None:
    for secret in (KEY, TOKEN, GATEWAY_KEY):
        frame = {"type": "system", "subtype": "init", "tools": secret}
        with pytest.raises(MessageParseError) as info:
            decode_message(frame)
        assert_no_fragment(str(info.value), secret, size=6)
        assert f"str of {len(secret)} characters" in str(info.value)
        assert info.value.data is frame  # the frame itself is data, kept as received
    with pytest.raises(MessageParseError, match=r"got dict with keys \['a'\]"):
        decode_message({"type": "system", "subtype": "init", "tools": {"a": KEY}})
    with pytest.raises(MessageParseError, match=r"got str '3'"):  # short values still quoted
        decode_message({"type": "result", "subtype": "success", "num_turns": "3"})


def test_other_error_texts_mask_keys_before_cutting() -> None:
    line = "q" * 190 + KEY
    error = CLIJSONDecodeError(line, ValueError("x"))
    assert_no_fragment(str(error), KEY, size=3)
    assert error.line == line  # the attribute is data
    control = ControlRequestError("set_model", f"rejected key {KEY} / Bearer {TOKEN}")
    assert_no_fragment(str(control), KEY, TOKEN, size=6)
    assert KEY in control.error
    process = tc.ProcessError(f"failed with {KEY}", stderr=f"auth {KEY}")
    assert_no_fragment(str(process) + process.stderr, KEY, size=6)


def test_unknown_option_hint_names_the_flag_without_its_value() -> None:
    stderr = f"error: unknown option '--my-gateway={TOKEN}'\n"
    found = diagnose_exit(1, stderr, context=ExitContext(extra_args=("my-gateway",)))
    assert found is not None and found.reason == "unknown_option"
    assert "--my-gateway" in found.hint and TOKEN not in found.hint
    # a CLI too old to read mcp_servers / settings from initialize: the hint names the opt-out
    old = diagnose_exit(1, "error: unknown option '--await-initialize'\n")
    assert old is not None and "mcp_servers_delivery='argv'" in old.hint


def test_repr_of_options_masks_a_gateway_key_in_a_settings_json_string() -> None:
    settings = json.dumps(
        {
            "env": {
                "ANTHROPIC_BASE_URL": "https://gw.example/v1",
                "ANTHROPIC_AUTH_TOKEN": GATEWAY_KEY,
                "ANTHROPIC_CUSTOM_HEADERS": f"x-api-key: {TOKEN}",
                "GATEWAY_FALLBACK": GATEWAY_KEY,
            },
            "apiKeyHelper": "/opt/bin/print-key",
        }
    )
    options = tc.ClaudeAgentOptions(
        settings=settings,
        mcp_servers=json.dumps(
            {"mcpServers": {"w": {"type": "http", "url": "u", "headers": {"X-Api-Key": TOKEN}}}}
        ),
        extra_args={"mcp-config": json.dumps({"mcpServers": {"g": {"env": {"GH_TOKEN": TOKEN}}}})},
        extra_initialize_fields={"settings": {"env": {"OTHER_SECRET": MCP_TOKEN}}},
        agents={
            "r": tc.AgentDefinition(
                description="d", prompt="p", mcp_servers=[{"g": {"env": {"GH_TOKEN": MCP_TOKEN}}}]
            )
        },
    )
    text = repr(options)
    assert_no_fragment(text, GATEWAY_KEY, TOKEN, MCP_TOKEN, size=8)
    assert "print-key" not in text
    assert "https://gw.example/v1" in text  # what is not secret is still there


# -------------------------------------------------------------------- off the command line

SERVERS = {
    "gh": {"type": "stdio", "command": "gh-mcp", "env": {"GITHUB_TOKEN": MCP_TOKEN}},
    "web": {"type": "http", "url": "https://mcp.example", "headers": {"X-Api-Key": TOKEN}},
    "calc": {"type": "sdk", "name": "calc"},
}
SETTINGS = {"env": {"ANTHROPIC_AUTH_TOKEN": GATEWAY_KEY}}


@pytest.mark.parametrize(
    "settings", [SETTINGS, json.dumps(SETTINGS)], ids=["settings dict", "settings JSON"]
)
@pytest.mark.parametrize(
    "mcp_servers", [SERVERS, json.dumps({"mcpServers": SERVERS})], ids=["servers", "JSON"]
)
def test_mcp_and_settings_secrets_are_not_on_argv(settings: Any, mcp_servers: Any) -> None:
    options = tc.ClaudeAgentOptions(
        mcp_servers=mcp_servers, settings=settings, sandbox={"enabled": False}
    )
    argv = build_argv(options, "claude")
    assert_no_fragment("\0".join(argv), MCP_TOKEN, TOKEN, GATEWAY_KEY, size=6)
    assert "--await-initialize" in argv and "--initialize-fields=settings" in argv
    # the in-process server (no credentials) is still declared on the command line
    assert argv[argv.index("--mcp-config") + 1] == (
        '{"mcpServers": {"calc": {"type": "sdk", "name": "calc"}}}'
    )
    request = build_initialize(options)
    assert request["mcpServers"] == {k: v for k, v in SERVERS.items() if k != "calc"}
    assert request["settings"] == {**SETTINGS, "sandbox": {"enabled": False}}
    # the opt-out puts them back on the command line, as before
    legacy = build_argv(
        tc.ClaudeAgentOptions(
            mcp_servers=mcp_servers,
            settings=settings,
            mcp_servers_delivery="argv",
            settings_delivery="argv",
        ),
        "claude",
    )
    assert MCP_TOKEN in "\0".join(legacy) and GATEWAY_KEY in "\0".join(legacy)


async def test_a_spawned_cli_gets_no_secret_on_its_command_line(tmp_path: Path) -> None:
    cli = script_cli(tmp_path, f"#!{sys.executable}\n" + (CLIS / "dump_argv.py").read_text())
    record = tmp_path / "record.json"
    options = tc.ClaudeAgentOptions(
        cli_path=cli,
        mcp_servers={k: v for k, v in SERVERS.items() if k != "calc"},
        settings=json.dumps(SETTINGS),
        env={"RECORD_TO": str(record)},
    )
    with pytest.raises(tc.ProcessError):
        async with tc.open_session(options):
            pass
    argv = json.loads(record.read_text())["argv"]
    assert_no_fragment("\0".join(argv), MCP_TOKEN, TOKEN, GATEWAY_KEY, size=6)
    assert "--await-initialize" in argv


def test_the_cli_must_confirm_what_initialize_delivered() -> None:
    both = tc.ClaudeAgentOptions(mcp_servers={"gh": SERVERS["gh"]}, settings=SETTINGS)
    ok = {"mcp_servers_applied": True, "settings_applied": True}
    assert check_initialize_reply(both, ok) is None
    with pytest.raises(tc.CLIConnectionError, match="settings_delivery='argv'"):
        check_initialize_reply(both, {**ok, "settings_applied": False})
    with pytest.raises(tc.CLIConnectionError, match=r"too old.*mcp_servers_delivery='argv'"):
        check_initialize_reply(both, {"settings_applied": True, "claude_code_version": "2.0.1"})
    warning = check_initialize_reply(both, {**ok, "mcp_servers_applied": False})
    assert warning is not None and "--await-initialize" in warning
    # nothing sent that way, nothing to confirm (an older CLI is fine then)
    assert check_initialize_reply(tc.ClaudeAgentOptions(settings="/etc/s.json"), {}) is None
    legacy = tc.ClaudeAgentOptions(mcp_servers={"gh": SERVERS["gh"]}, mcp_servers_delivery="argv")
    assert check_initialize_reply(legacy, {}) is None


def test_delivery_options_are_checked() -> None:
    with pytest.raises(tc.ConfigurationError, match="mcp_servers_delivery"):
        tc.ClaudeAgentOptions(mcp_servers_delivery="stdin")  # type: ignore[arg-type]
    with pytest.raises(tc.ConfigurationError, match="settings_delivery"):
        tc.ClaudeAgentOptions(settings_delivery=None)  # type: ignore[arg-type]


# ------------------------------------------------------------------- through a session


async def _session_with_cli_output(
    options: tc.ClaudeAgentOptions,
    transport: ManualTransport,
    stdout: bytes = b"",
    stderr: bytes = b"",
) -> tuple[tc.ProcessError, str]:
    """Runs a session whose CLI writes ``stdout``/``stderr`` after the handshake, then exits 1."""

    async def cli() -> None:
        await transport.child_ready.wait()
        child = transport.child
        assert child is not None
        init = await child.read_frame()
        # as the real CLI answers it, confirming what initialize delivered in place of flags
        applied = {"mcp_servers_applied": True, "settings_applied": True}
        await child.answer(init, {"commands": [], "models": [], "pid": 1, **applied})
        await child.read_frame()
        if stdout:
            await child.write(stdout)
        if stderr:
            await child.cli_stderr.send_all(stderr)
        child.exit(1)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(cli)
        async with tc.open_session(options) as session:
            await session.send("go")
            with pytest.raises(tc.ProcessError) as info:
                await session.collect_response()
            tail = session.stderr_tail
    return info.value, tail


@pytest.mark.parametrize("offset", [108, 112, 190])
async def test_invalid_line_warning_masks_a_secret_cut_at_the_preview_or_the_framer(
    caplog: pytest.LogCaptureFixture, offset: int
) -> None:
    # offset 108/112: the log preview's cut (120) falls inside TOKEN; 190: the framer's (200).
    caplog.set_level(logging.DEBUG, logger="trio_claude")
    transport = ManualTransport()
    options = tc.ClaudeAgentOptions(transport=transport, env={"ANTHROPIC_AUTH_TOKEN": TOKEN})
    line = b"w" * offset + TOKEN.encode() + b" not json\n"
    await _session_with_cli_output(options, transport, stdout=line)
    assert "ignoring a line from the CLI" in caplog.text
    assert_no_fragment(caplog.text, TOKEN, size=6)


async def test_invalid_frame_warning_masks_the_value_its_error_quotes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="trio_claude")
    transport = ManualTransport()
    options = tc.ClaudeAgentOptions(transport=transport)
    frame = {"type": "system", "subtype": "init", "tools": KEY, "session_id": "s"}
    await _session_with_cli_output(options, transport, stdout=json.dumps(frame).encode() + b"\n")
    assert "ignoring a line from the CLI" in caplog.text
    assert_no_fragment(caplog.text, KEY, size=6)


async def test_oversize_line_warning_masks_a_secret_cut_at_the_preview(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="trio_claude")
    transport = ManualTransport()
    options = tc.ClaudeAgentOptions(
        transport=transport, env={"ANTHROPIC_AUTH_TOKEN": TOKEN}, max_line_bytes=1024
    )
    line = b"v" * 70 + TOKEN.encode() + b"v" * 2000 + b"\n"  # the old 80-byte preview cut TOKEN
    await _session_with_cli_output(options, transport, stdout=line)
    assert "dropped a" in caplog.text
    assert_no_fragment(caplog.text, TOKEN, size=6)


async def test_session_stderr_tail_masks_secrets_crossing_the_cut_and_option_secrets() -> None:
    transport = ManualTransport()
    lines: list[str] = []
    options = tc.ClaudeAgentOptions(
        transport=transport,
        env={"ANTHROPIC_AUTH_TOKEN": TOKEN},
        # secrets of the options, which the CLI may echo (an MCP server's failure, a debug log)
        mcp_servers={"gh": SERVERS["gh"]},
        settings=SETTINGS,
        stderr=lines.append,
    )
    stderr = (
        "e" * 4086 + TOKEN + "\n"  # the 4096-character cut falls inside TOKEN
        f"MCP server gh failed: GITHUB_TOKEN={MCP_TOKEN[:-4]}\n"  # even a cut one
        f"spawn gh-mcp with {MCP_TOKEN}; settings token {GATEWAY_KEY}\n"
    ).encode()
    error, tail = await _session_with_cli_output(options, transport, stderr=stderr)
    for shown in (str(error), error.stderr, repr(error), tail):
        assert_no_fragment(shown, TOKEN, MCP_TOKEN, GATEWAY_KEY, size=6)
    assert "spawn gh-mcp with ***" in tail
    assert any(MCP_TOKEN in line for line in lines)  # the stderr callback: verbatim


# ---------------------------------------------- second review: through a session (issue 10)

VALUE_TOKEN = "gwtok_LEAKTEST_0123456789abcdef"  # a gateway token of no known shape


def _value_secret_options(transport: Any, **more: Any) -> tc.ClaudeAgentOptions:
    return tc.ClaudeAgentOptions(
        transport=transport, env={"ANTHROPIC_AUTH_TOKEN": VALUE_TOKEN}, **more
    )


def _shown(error: BaseException) -> str:
    """What an error shows: its text and its whole traceback, causes included."""
    import traceback

    return str(error) + "\n" + "".join(traceback.format_exception(error))


async def test_initialize_refusal_masks_the_sessions_secrets_by_value() -> None:
    transport = ManualTransport()

    async def cli() -> None:
        await transport.child_ready.wait()
        child = transport.child
        assert child is not None
        init = await child.read_frame()
        error = f"MCP server web: upstream rejected {MCP_TOKEN}; gateway token {VALUE_TOKEN}"
        await child.write_frame(
            {
                "type": "control_response",
                "response": {"subtype": "error", "request_id": init["request_id"], "error": error},
            }
        )
        await child.exit_at_eof()

    servers = {"web": {"type": "http", "url": "https://m", "headers": {"X-Gw": MCP_TOKEN}}}
    async with trio.open_nursery() as nursery:
        nursery.start_soon(cli)
        with pytest.raises(tc.CLIConnectionError) as info:
            async with tc.open_session(_value_secret_options(transport, mcp_servers=servers)):
                pass
    assert "refused initialize" in str(info.value)
    assert isinstance(info.value.__cause__, ControlRequestError)
    assert_no_fragment(_shown(info.value), VALUE_TOKEN, MCP_TOKEN)


async def test_control_error_and_error_result_mask_the_sessions_secrets_by_value() -> None:
    transport = ManualTransport()

    async def cli() -> None:
        await transport.child_ready.wait()
        child = transport.child
        assert child is not None
        await child.handshake()
        request = await child.read_frame()  # set_model
        error = f"model switch refused for token {VALUE_TOKEN}"
        await child.write_frame(
            {
                "type": "control_response",
                "response": {
                    "subtype": "error",
                    "request_id": request["request_id"],
                    "error": error,
                },
            }
        )
        await child.read_frame()  # the prompt
        frame = result_frame(subtype="error_during_execution")
        frame["is_error"] = True
        frame["errors"] = [f"API Error: 401 gateway token {VALUE_TOKEN} is revoked"]
        await child.write_frame(frame)
        await child.exit_at_eof()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(cli)
        async with tc.open_session(_value_secret_options(transport)) as session:
            with pytest.raises(ControlRequestError) as control:
                await session.set_model("claude-x")
            with pytest.raises(tc.ResultError) as result:
                await session.run("go")
    assert_no_fragment(_shown(control.value), VALUE_TOKEN)
    assert VALUE_TOKEN in control.value.error  # the attribute is the CLI's text
    assert_no_fragment(_shown(result.value), VALUE_TOKEN)
    assert "401 gateway token ***" in str(result.value)


async def test_query_iterators_result_error_masks_the_sessions_secrets_by_value() -> None:
    transport = ManualTransport()

    async def cli() -> None:
        await transport.child_ready.wait()
        child = transport.child
        assert child is not None
        await child.handshake()
        await child.read_frame()  # the prompt
        frame = result_frame(subtype="error_during_execution")
        frame["is_error"] = True
        frame["errors"] = [f"API Error: 401 gateway token {VALUE_TOKEN} is revoked"]
        await child.write_frame(frame)
        child.exit(1)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(cli)
        with pytest.raises(tc.ResultError) as info:
            async for _ in tc.query(prompt="go", options=_value_secret_options(transport)):
                pass
    assert info.value.exit_code == 1
    assert_no_fragment(_shown(info.value), VALUE_TOKEN)


async def test_a_team_agents_result_error_masks_the_sessions_secrets_by_value() -> None:
    from trio_claude import teams
    from trio_claude.testing.fake_cli import FakeCLITransport, FakeScript, FakeTurn, Result

    errors = [f"API Error: 401 gateway token {VALUE_TOKEN} is revoked"]
    turn = FakeTurn(
        steps=[Result(subtype="error_during_execution", is_error=True, extra={"errors": errors})]
    )
    options = _value_secret_options(FakeCLITransport(FakeScript(turns=[turn])))
    async with teams.open_fanout(limit=1, on_error="collect") as fan:
        fan.submit("go", options=options)
        outcomes = [o async for o in fan.results()]
    (outcome,) = outcomes
    assert isinstance(outcome.error, tc.ResultError)
    assert_no_fragment(_shown(outcome.error), VALUE_TOKEN)


ANT_TEST_KEY = "sk-ant-api03-" + "Lk5" * 30


@pytest.mark.parametrize(
    ("env", "echoed", "secret"),
    [
        ({"OPENAI_KEY": VALUE_TOKEN}, f"proxy: upstream rejected {VALUE_TOKEN}", VALUE_TOKEN),
        (
            {"ANTHROPIC_CUSTOM_HEADERS": f"X-Gateway: {VALUE_TOKEN}"},
            f"sending custom header {VALUE_TOKEN}",
            VALUE_TOKEN,
        ),
        (
            {"AWS_SECRET_ACCESS_KEY": "LEAKTEST/wJalrXUtnFEMI+K7MDENG/bPxRfiCY"},
            "GET https://sts.example/?X=LEAKTEST%2FwJalrXUtnFEMI%2BK7MDENG%2FbPxRfiCY -> 403",
            "LEAKTESTwJalrXUtnFEMIK7MDENGbPxRfiCY",
        ),
        (
            {"PGPASSWORD": 'pw"LEAKTEST\\quoted_123456'},
            'config: {"pg": "pw\\"LEAKTEST\\\\quoted_123456"}',
            "pwLEAKTESTquoted_123456",
        ),
        (
            {"OTEL_EXPORTER_OTLP_HEADERS": f"x-grafana-tenant=Basic%20{VALUE_TOKEN}"},
            f"OTLP exporter: 401 (tenant {VALUE_TOKEN})",
            VALUE_TOKEN,
        ),
        (
            {"DATABASE_URL": f"postgresql://app:{VALUE_TOKEN}@db/app"},
            f"pg: password {VALUE_TOKEN} rejected",
            VALUE_TOKEN,
        ),
    ],
    ids=["*_KEY", "custom headers", "url-encoded", "json-escaped", "otel headers", "url password"],
)
async def test_stderr_masks_secrets_of_every_name_and_encoding(
    env: dict[str, str], echoed: str, secret: str
) -> None:
    transport = ManualTransport()
    options = tc.ClaudeAgentOptions(transport=transport, env=env)
    error, tail = await _session_with_cli_output(options, transport, stderr=echoed.encode() + b"\n")
    shown = "\n".join([str(error), error.stderr, tail])
    assert_no_fragment(shown.replace("/", "").replace("+", ""), secret)


async def test_stderr_masks_an_agents_inline_mcp_server_secret() -> None:
    transport = ManualTransport()
    agent = tc.AgentDefinition(
        description="d",
        prompt="p",
        mcp_servers=[{"gh": {"command": "x", "env": {"GH_PAT": TOKEN}}}],
    )
    options = tc.ClaudeAgentOptions(transport=transport, agents={"rev": agent})
    stderr = f"MCP server gh failed to start with {TOKEN}\n".encode()
    error, tail = await _session_with_cli_output(options, transport, stderr=stderr)
    assert_no_fragment(str(error) + error.stderr + tail, TOKEN)


async def test_a_failed_start_leaves_no_secret_in_the_sdks_frame_locals() -> None:
    import traceback

    class Refusing(tc.Transport):
        async def start(self, spec: tc.LaunchSpec, nursery: trio.Nursery) -> tc.ChildProcess:
            seen.append(repr(spec))
            raise OSError("container runtime unavailable")

    seen: list[str] = []
    options = tc.ClaudeAgentOptions(transport=Refusing(), env={"ANTHROPIC_API_KEY": ANT_TEST_KEY})
    with pytest.raises(Exception) as info:
        async with tc.open_session(options):
            pass
    assert_no_fragment("\n".join(seen), ANT_TEST_KEY)  # a custom transport that logs its spec
    shown = traceback.TracebackException.from_exception(info.value, capture_locals=True)
    leaks = [
        f"{frame.name}:{name}"
        for exc in (shown, shown.__cause__, shown.__context__)
        if exc is not None
        for frame in exc.stack
        if "/trio_claude/" in frame.filename
        for name, value in (frame.locals or {}).items()
        if any(f in value for f in fragments(ANT_TEST_KEY))
    ]
    assert leaks == []


def local_leaks(error: BaseException, *secrets: str) -> list[str]:
    """``frame:name`` of every local, in every frame of ``error`` and of its causes and contexts
    (the SDK's, trio's, subprocess's: all but this file's), whose repr shows a piece of a secret:
    what ``pytest --showlocals`` or an error tracker that records locals would print."""
    import traceback

    leaks: list[str] = []
    pending: list[traceback.TracebackException | None] = [
        traceback.TracebackException.from_exception(error, capture_locals=True)
    ]
    while pending:
        shown = pending.pop()
        if shown is None:
            continue
        pending += [shown.__cause__, shown.__context__, *(getattr(shown, "exceptions", None) or [])]
        for frame in shown.stack:
            if frame.filename == __file__:
                continue
            for name, value in (frame.locals or {}).items():
                if any(f in value for secret in secrets for f in fragments(secret)):
                    leaks.append(f"{Path(frame.filename).name}:{frame.name}:{name}")
    return leaks


async def _fail_to_open(options: tc.ClaudeAgentOptions) -> BaseException:
    with pytest.raises(Exception) as info:
        async with tc.open_session(options) as session:
            await session.run("hi")
    return info.value


def _options_with_secrets(cli: Path | str) -> tc.ClaudeAgentOptions:
    server = {"type": "http", "url": "http://127.0.0.1:9/", "headers": {"X-Token": MCP_TOKEN}}
    return tc.ClaudeAgentOptions(
        cli_path=str(cli), env={"GATEWAY_TOKEN": TOKEN}, mcp_servers={"s": server}
    )


async def test_cli_discovery_that_fails_leaves_the_environment_out_of_its_locals(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The discovery's frames held ``os.environ``, whose repr shows every value."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", ANT_TEST_KEY)
    monkeypatch.setenv("SOME_SERVICE_PASSWORD", TOKEN)
    monkeypatch.setenv("TRIO_CLAUDE_CLI", str(tmp_path / "missing-claude"))
    error = await _fail_to_open(tc.ClaudeAgentOptions())
    assert isinstance(error, tc.CLINotFoundError)
    assert local_leaks(error, ANT_TEST_KEY, TOKEN) == []
    with pytest.raises(tc.CLINotFoundError) as info:
        tc.find_cli()
    assert local_leaks(info.value, ANT_TEST_KEY, TOKEN) == []


async def test_a_spawn_that_fails_leaves_no_secret_in_any_frames_locals(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Popen's own frames hold the environment as bytes; the SDK's held it and the argv."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", ANT_TEST_KEY)
    cli = script_cli(tmp_path, "#!/nonexistent/interpreter\n")
    error = await _fail_to_open(_options_with_secrets(cli))
    assert isinstance(error, tc.CLINotFoundError)
    assert isinstance(error.__cause__, FileNotFoundError)  # the cause is kept, its frames emptied
    assert local_leaks(error, ANT_TEST_KEY, TOKEN, MCP_TOKEN) == []


async def test_a_cli_that_dies_before_answering_initialize_leaves_no_secret_in_locals(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The frames that wait for the ``initialize`` answer held the request (MCP headers)."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", ANT_TEST_KEY)
    cli = script_cli(tmp_path, "#!/bin/sh\nread line\necho 'fatal: no' >&2\nexit 3\n")
    error = await _fail_to_open(_options_with_secrets(cli))
    assert isinstance(error, tc.ProcessError)
    assert local_leaks(error, ANT_TEST_KEY, TOKEN, MCP_TOKEN) == []


async def test_callback_failures_are_redacted_in_answers_logs_and_spans(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from trio_claude.testing.fake_cli import FakeCLITransport, FakeScript, FakeTurn, Request, Result

    class UpstreamError(Exception):
        pass

    async def hook(hook_input: Any, tool_use_id: str | None, context: Any) -> dict[str, Any]:
        raise UpstreamError(f"policy service rejected {VALUE_TOKEN}")

    async def can_use(tool_name: str, tool_input: Any, context: Any) -> Any:
        raise UpstreamError(f"policy service rejected {VALUE_TOKEN}")

    @tc.tool("lookup", "look up", {"q": str})
    async def lookup(args: dict[str, Any]) -> dict[str, Any]:
        raise UpstreamError(f"backend rejected {VALUE_TOKEN}")

    hook_input = {"session_id": "s", "cwd": "/w", "hook_event_name": "PreToolUse"}
    call = {"name": "lookup", "arguments": {"q": "x"}}
    steps = (
        Request(
            "hook_callback",
            {
                "callback_id": "hook_0",
                "input": {**hook_input, "tool_name": "Bash", "tool_input": {}},
                "tool_use_id": "t1",
            },
        ),
        Request("can_use_tool", {"tool_name": "Bash", "input": {}, "tool_use_id": "t1"}),
        Request(
            "mcp_message",
            {
                "server_name": "db",
                "message": {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": call},
            },
        ),
        Result(text="end"),
    )
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    transport = FakeCLITransport(FakeScript(turns=[FakeTurn(steps=steps)]))
    options = _value_secret_options(
        transport,
        telemetry=provider,
        hooks={"PreToolUse": [tc.HookMatcher(matcher=None, hooks=[hook])]},
        can_use_tool=can_use,
        mcp_servers={"db": tc.create_sdk_mcp_server("db", tools=[lookup])},
    )
    caplog.set_level(logging.DEBUG, logger="trio_claude")
    async with tc.open_session(options) as session:
        await session.run("go")
    assert transport.fake is not None
    answers = json.dumps(transport.fake.responses)
    # Each says what failed: the hook's and the policy's answers name the exception; the
    # tool's (what the model reads) is str(exception), as the official SDKs send it.
    assert answers.count("UpstreamError") == 2
    assert "backend rejected" in answers
    assert_no_fragment(answers, VALUE_TOKEN)
    for raised in ("hook callback hook_0 raised", "can_use_tool for Bash raised", "lookup"):
        assert raised in caplog.text
    assert_no_fragment(caplog.text, VALUE_TOKEN)
    assert all(record.exc_info is None for record in caplog.records)
    spans = exporter.get_finished_spans()
    assert any(s.status.description and "UpstreamError" in s.status.description for s in spans)
    for span in spans:
        events = [dict(e.attributes or {}) for e in span.events]
        assert_no_fragment(f"{span.status.description} {events}", VALUE_TOKEN)


async def test_an_error_results_span_masks_the_sessions_secrets_before_the_cut() -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    transport = ManualTransport()

    async def cli() -> None:
        await transport.child_ready.wait()
        child = transport.child
        assert child is not None
        await child.handshake()
        await child.read_frame()
        frame = result_frame(subtype="error_during_execution")
        frame["is_error"] = True  # the token straddles the description's 500-character cut
        frame["errors"] = ["x" * 440 + f" gateway token {VALUE_TOKEN} expired"]
        await child.write_frame(frame)
        await child.exit_at_eof()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(cli)
        async with tc.open_session(_value_secret_options(transport, telemetry=provider)) as s:
            await s.send("go")
            async for _ in s.receive_response():
                pass
    (turn,) = [span for span in exporter.get_finished_spans() if span.name == "claude.turn"]
    assert turn.status.description is not None and "error_during_execution" in (
        turn.status.description
    )
    assert_no_fragment(turn.status.description, VALUE_TOKEN, size=6)
