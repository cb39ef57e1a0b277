"""Secret redaction, second review: credentials the first round let through (by name, by
shape, by value in its encoded forms), and the objects and messages that printed them (the
launch spec's repr, ``repr(options)`` with agents, validation errors, ``doctor``, spans,
callback failures, a Postgres DSN). The session-level paths are in
``tests/faults/test_secret_redaction.py``.

Every test uses obviously fake secrets and checks that no 8-character piece of one is left.
"""

from __future__ import annotations

import json
import logging
import pickle
import traceback
import urllib.parse
from typing import Any

import attrs
import pytest
import trio
import trio.testing

import trio_claude as tc
from trio_claude._errors import ControlRequestError, initialize_failed, result_error
from trio_claude._install import _redact_url
from trio_claude._mcp import McpServerConnection
from trio_claude._options import validate_options
from trio_claude._redact import (
    is_secret_name,
    redact,
    redact_exception,
    redact_repr,
    secret_values,
)
from trio_claude._transport._command import build_env, session_secrets
from trio_claude.types import ResultMessage

KEY = "sk-ant-api03-" + "Rv7" * 30  # Anthropic-shaped
TOKEN = "tok_live_9a8b7c6d5e4f3a2b1c"  # no known shape: masked by value only
B64 = "TEVBS1RFU1Q6cGFzc3dvcmQxMjM0NTY3OA=="  # base64 "LEAKTEST:password12345678"


def fragments(secret: str, size: int = 8) -> list[str]:
    body = secret.removeprefix("sk-ant-").removeprefix("sk-")
    return [body[i : i + size] for i in range(len(body) - size + 1)]


def assert_no_fragment(text: str, *secrets: str, size: int = 8) -> None:
    for secret in secrets:
        leaked = [f for f in fragments(secret, size) if f in text]
        assert leaked == [], f"{secret[:6]}... leaked {leaked[:3]} in {text[-400:]!r}"


# ---------------------------------------------------------------- names (finding 6)


@pytest.mark.parametrize(
    "name",
    [
        "OPENAI_KEY",
        "STRIPE_KEY",
        "SIGNING_KEY",
        "Ocp-Apim-Subscription-Key",
        "x-functions-key",
        "signingKey",
        "GH_PAT",
        "SMTP_PASS",
        "DB_PWD",
        "SENTRY_DSN",
        "sig",
    ],
)
def test_key_named_variables_are_secret_names(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize(
    "name", ["MONKEY_MODE", "KEYBOARD_LAYOUT", "project_key", "PUBLIC_KEY", "AUTHOR_NAME", "HOME"]
)
def test_names_that_only_contain_key_are_not(name: str) -> None:
    assert not is_secret_name(name)


# ---------------------------------------------------------- values (findings 6, 11)


def test_secret_values_cover_key_names_header_lists_urls_and_encodings() -> None:
    aws = "LEAKTEST/wJalrXUtnFEMI+K7MDENG/bPxRfiCY"
    quoted = 'pw"LEAKTEST\\quoted_123456'
    env = {
        "OPENAI_KEY": TOKEN,
        "ANTHROPIC_CUSTOM_HEADERS": "X-Team: platform-eng\nOcp-Apim-Subscription-Key: hdr_12345678",
        "OTEL_EXPORTER_OTLP_HEADERS": f"Authorization=Basic%20{B64},x-tenant=tenant_0042",
        "AWS_SECRET_ACCESS_KEY": aws,
        "PGPASSWORD": quoted,
        "DATABASE_URL": "postgresql://app:db_pw_123456@db/app?sslmode=require",
        "GATEWAY_URL": "https://gw.example/v1?api_token=qtok_12345678&region=eu",
        "HOME": "/home/someone",
    }
    found = set(secret_values(env))
    assert TOKEN in found
    assert {"hdr_12345678", "platform-eng", B64, "tenant_0042"} <= found  # every header value
    assert urllib.parse.quote(aws, safe="") in found  # echoed in a query string
    assert json.dumps(quoted)[1:-1] in found  # echoed inside JSON
    assert {"db_pw_123456", "qtok_12345678"} <= found  # URL passwords and ?api_token=
    assert "/home/someone" not in found and "require" not in found and "eu" not in found
    echoed = (
        f"GET https://sts.example/?X={urllib.parse.quote(aws, safe='')} -> 403\n"
        f"config: {json.dumps({'pg': quoted})}\nheaders Authorization=Basic {B64}\n"
        "sent Ocp-Apim-Subscription-Key: hdr_12345678 and db_pw_123456"
    )
    clean = redact(echoed, tuple(found))
    assert_no_fragment(clean, aws.replace("/", "").replace("+", ""), B64, "hdr_12345678")
    assert "LEAKTEST" not in clean and "db_pw_123456" not in clean


def test_secret_values_walk_agents_and_json_that_does_not_parse() -> None:
    agents = {
        "rev": tc.AgentDefinition(
            description="d",
            prompt="p",
            mcp_servers=[{"gh": {"command": "gh-mcp", "env": {"GH_PAT": TOKEN}}}],
        )
    }
    assert TOKEN in secret_values({}, agents)
    broken = '{"mcpServers": {"w": {"headers": {"X-Api-Key": "' + TOKEN + '"}},}'  # a typo
    assert TOKEN in secret_values({}, broken)
    options = tc.ClaudeAgentOptions(agents=agents, managed_settings={"env": {"X_TOKEN": KEY}})
    found = session_secrets(options, build_env(options, {}))
    assert TOKEN in found and KEY in found


# -------------------------------------------------------------- shapes (finding 7)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"> Authorization: Basic {B64}", B64),
        (f"OTLP export failed, headers Authorization=Basic {B64}", B64),
        (f"> Authorization: Token {TOKEN}", TOKEN),
        (f"> proxy-authorization: Digest {TOKEN}", TOKEN),
        (f"spawn mcp-server --token={TOKEN} failed", TOKEN),
        (f"GET https://mcp.example/sse?token={TOKEN} 401", TOKEN),
        (f"GET https://gw.example/v1?x=1&api_key={TOKEN}#top", TOKEN),
        (f"connect postgresql://app:{TOKEN}@db.example/app failed", TOKEN),
        (f"clone https://{TOKEN}x0123@github.com/o/r", TOKEN),
        (f"header x-api-key {TOKEN}", TOKEN),
        (f"sending Ocp-Apim-Subscription-Key: {TOKEN}", TOKEN),
        (f'{{"OPENAI_KEY": "{TOKEN}"}}', TOKEN),
        (f"export stripe_key={TOKEN}", TOKEN),
    ],
)
def test_credential_shapes_are_masked(text: str, secret: str) -> None:
    assert_no_fragment(redact(text), secret)


@pytest.mark.parametrize(
    "text",
    [
        "exit code 1, pid=1234, tokens: 56789, /home/someone",
        '"input_tokens": 1234567890, max_tokens=32000',
        "the x-api-key header is missing; x-api-key provided by the proxy",
        "See https://docs.example.com/path?page=2&sort=desc",
        "clone ssh://git@github.com/o/r and https://example.com:8443/a@b",
        "keyboard=qwertyuiop monkey=bananas123 author=JaneDoe1234 project_key: -home-u-p",
        "error: token expired, please log in again",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact(text) == text


# ------------------------------------------------------- repr of options (finding 5)


def test_repr_of_options_masks_header_names_urls_and_agents_servers() -> None:
    options = tc.ClaudeAgentOptions(
        mcp_servers={
            "az": {
                "type": "http",
                "url": "https://apim.example/mcp",
                "headers": {"Ocp-Apim-Subscription-Key": TOKEN, "X-Trace": "on"},
            },
            "q": {"type": "http", "url": f"https://mcp.example/mcp?token={TOKEN}"},
            "u": {"type": "sse", "url": f"https://bot:{TOKEN}@mcp.example/sse"},
        },
        settings={"env": {"ANTHROPIC_CUSTOM_HEADERS": f"X-Gw-Auth: {TOKEN}"}},
        agents={
            "rev": tc.AgentDefinition(
                description="d",
                prompt="p",
                mcp_servers=[
                    "shared",
                    {"gh": {"type": "stdio", "command": "gh-mcp", "env": {"GH_PAT": TOKEN}}},
                    {"w": {"type": "http", "url": "https://h/mcp", "headers": {"X-Auth": TOKEN}}},
                ],
            )
        },
    )
    text = repr(options)
    assert_no_fragment(text, TOKEN)
    for kept in ("'X-Trace': 'on'", "https://apim.example/mcp", "gh-mcp", "'shared'", "X-Gw-Auth"):
        assert kept in text
    assert_no_fragment(repr(options.agents["rev"]), TOKEN)  # type: ignore[index]


def test_redact_repr_walks_attrs_objects_field_by_field() -> None:
    @attrs.frozen
    class Upstream:
        credentials: tuple[str, str]
        region: str

    text = redact_repr({"up": Upstream(("bot", TOKEN), "eu-west")})
    assert_no_fragment(text, TOKEN)
    assert "Upstream(credentials=('***', '***'), region='eu-west')" in text


# -------------------------------------------------------- LaunchSpec repr (finding 4)


def test_launch_spec_repr_shows_no_environment_value_and_masks_argv() -> None:
    env = {"ANTHROPIC_API_KEY": KEY, "GATEWAY": TOKEN, "PATH": "/usr/bin"}
    argv = [
        "claude",
        "--api-key",
        TOKEN,
        f"--gateway-token={TOKEN}",
        "--mcp-config",
        json.dumps({"mcpServers": {"g": {"env": {"GH_TOKEN": TOKEN}}}}),
        "--model",
        "opus",
    ]
    spec = tc.LaunchSpec(argv=argv, env=env, cwd="/w")
    text = repr(spec)
    assert_no_fragment(text, KEY, TOKEN)
    assert "'PATH'" in text and "'--model', 'opus'" in text and "cwd='/w'" in text
    assert "/usr/bin" not in text  # no value of the environment, whatever its name


# ------------------------------------------------- validation messages (finding 9, 11)


@pytest.mark.parametrize(
    "make",
    [
        lambda: tc.ClaudeAgentOptions(extra_args={"api-key": KEY.encode()}),
        lambda: tc.ClaudeAgentOptions(extra_args={"token": [TOKEN]}),
        lambda: tc.ClaudeAgentOptions(extra_args={f"gateway-token={TOKEN}": None}),
        lambda: tc.ClaudeAgentOptions(env={f"GATEWAY_TOKEN={TOKEN}": "x"}),
    ],
)
def test_validation_errors_do_not_quote_secret_values(make: Any) -> None:
    with pytest.raises(tc.ConfigurationError) as info:
        validate_options(make())
    assert_no_fragment(str(info.value), KEY, TOKEN)


def test_mcp_servers_json_that_does_not_parse_is_refused_without_quoting_it() -> None:
    broken = '{"mcpServers": {"w": {"type": "http", "headers": {"X-Key": "' + TOKEN + '"}},}'
    with pytest.raises(tc.ConfigurationError, match="looks like inline JSON") as info:
        validate_options(tc.ClaudeAgentOptions(mcp_servers=broken))
    assert_no_fragment(str(info.value), TOKEN)
    # a path, or JSON that parses, still goes through
    validate_options(tc.ClaudeAgentOptions(mcp_servers="/etc/mcp.json"))
    validate_options(tc.ClaudeAgentOptions(mcp_servers='{"mcpServers": {}}'))


# ------------------------------------------------------------- doctor (finding 8)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"https://gw.example/v1?api_token={TOKEN}", "https://gw.example/v1"),
        (f"https://gw.example/v1?key={TOKEN}#x", "https://gw.example/v1"),
        (f"https://bot:{TOKEN}@gw.example:8443/v1?k={TOKEN}", "https://***@gw.example:8443/v1"),
        ("http://[::1]:8080/p", "http://[::1]:8080/p"),
        (f"bot:{TOKEN}@gw.example/v1", "bot:***@gw.example/v1"),
    ],
)
def test_doctor_shows_the_base_url_without_user_info_or_query(url: str, shown: str) -> None:
    assert _redact_url(url) == shown


# -------------------------------------------- errors with the session's secrets (3)


def _error_result(text: str) -> ResultMessage:
    return ResultMessage(
        subtype="error_during_execution",
        duration_ms=1,
        duration_api_ms=1,
        is_error=True,
        num_turns=1,
        session_id="s",
        errors=[text],
    )


def test_error_constructors_mask_the_sessions_secrets_by_value() -> None:
    secrets = secret_values({"ANTHROPIC_AUTH_TOKEN": TOKEN})
    refused = ControlRequestError("initialize", f"gateway token {TOKEN} expired", secrets=secrets)
    assert_no_fragment(str(refused), TOKEN)
    assert TOKEN in refused.error  # the attribute is the CLI's text
    started = initialize_failed(refused, f"stderr: {TOKEN}", secrets)
    assert_no_fragment(str(started), TOKEN)
    error = result_error(_error_result(f"API Error: 401 token {TOKEN} revoked"), secrets=secrets)
    assert isinstance(error, tc.ResultError)
    assert_no_fragment(str(error), TOKEN)
    # a copy keeps the masked message (it cannot know the secrets)
    assert str(pickle.loads(pickle.dumps(error))) == str(error)
    process = tc.ProcessError(f"failed: {TOKEN}", stderr=f"x {TOKEN}", secrets=secrets)
    assert_no_fragment(str(process) + process.stderr, TOKEN)


# ------------------------------------------------------------- telemetry (finding 1)


def test_spans_get_redacted_text_before_it_is_cut() -> None:
    otel = pytest.importorskip("opentelemetry.sdk.trace")
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from trio_claude._otel import SessionTrace

    exporter = InMemorySpanExporter()
    provider = otel.TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace = SessionTrace(provider, "m", secrets=secret_values({"X_TOKEN": TOKEN}))
    trace.prompt_sent("u1")
    # the key ends right after the 500-character cut: cut first, a fragment would be left
    trace.observe(_error_result("x" * 470 + f" token {TOKEN} and {KEY}"), ())
    span = trace.control_started("set_model")
    try:
        try:
            raise ValueError(f"upstream said {TOKEN}")
        except ValueError as cause:
            raise RuntimeError(f"set_model failed with {KEY}") from cause
    except RuntimeError as exc:
        trace.control_ended(span, exc)
        trace.end(exc, None, None)
    spans = exporter.get_finished_spans()
    assert len(spans) == 3
    for finished in spans:
        events = [dict(e.attributes or {}) for e in finished.events]
        shown = f"{finished.status.description} {events}"
        assert_no_fragment(shown, TOKEN, KEY)
    control = next(s for s in spans if s.name == "claude.control set_model")
    (event,) = control.events
    assert "RuntimeError" in str(event.attributes)  # still says what failed


# ------------------------------------------------------- callbacks (finding 2)


class UpstreamError(Exception):
    pass


async def test_a_failing_mcp_tool_answers_and_logs_redacted_text(
    caplog: pytest.LogCaptureFixture,
) -> None:
    @tc.tool("lookup", "look up", {"q": str})
    async def lookup(args: dict[str, Any]) -> dict[str, Any]:
        raise UpstreamError(f"backend rejected token {TOKEN}")

    caplog.set_level(logging.DEBUG, logger="trio_claude")
    server = tc.create_sdk_mcp_server("db", tools=[lookup])["instance"]
    connection = McpServerConnection(server, secret_values({"DB_TOKEN": TOKEN}))
    message = {"jsonrpc": "2.0", "id": 1, "method": "tools/call"}
    params = {"name": "lookup", "arguments": {"q": "x"}}
    answer = await connection.handle({**message, "params": params})
    assert answer["result"]["isError"] is True
    assert_no_fragment(json.dumps(answer), TOKEN)
    assert "tool lookup of MCP server db raised" in caplog.text
    assert "UpstreamError" in caplog.text  # the traceback is logged, as text
    assert_no_fragment(caplog.text, TOKEN)
    assert all(record.exc_info is None for record in caplog.records)


def test_redact_exception_masks_the_whole_chain() -> None:
    try:
        try:
            raise KeyError(TOKEN)
        except KeyError as inner:
            raise UpstreamError(f"x-api-key: {KEY}") from inner
    except UpstreamError as exc:
        error = exc
    text = redact_exception(error, secret_values({"A_TOKEN": TOKEN}))
    assert text.startswith("Traceback") and "UpstreamError" in text and "KeyError" in text
    assert_no_fragment(text, TOKEN, KEY)
    assert KEY in str(error)  # the exception itself is untouched


# ------------------------------------------------------------- Postgres (finding 10)


async def test_postgres_store_errors_do_not_quote_the_dsn_password() -> None:
    pytest.importorskip("psycopg")
    from trio_claude.stores import PostgresSessionStore

    password = "pw_LEAKTEST_12%ZZ3456789abcdef"  # mis-percent-encoded: psycopg quotes it
    store = PostgresSessionStore(f"postgresql://app:{password}@127.0.0.1:1/app", retry_for=0)
    with pytest.raises(Exception) as info:
        await store.open()
    with trio.move_on_after(5):
        await store.aclose()
    import psycopg

    assert isinstance(info.value, psycopg.ProgrammingError)  # the class is kept (retry rules)
    shown = "".join(traceback.format_exception(info.value))
    assert "invalid percent-encoded token" in shown
    assert_no_fragment(shown, password)
    assert info.value.__context__ is None and info.value.__cause__ is None


def test_postgres_keyword_dsn_and_connect_kwargs_secrets() -> None:
    pytest.importorskip("psycopg")
    from trio_claude.stores._postgres import _dsn_secrets, _masked_text

    secrets = _dsn_secrets("host=db password='se cr\\'et_12345' user=app", {"sslpassword": "short"})
    text = _masked_text("bad 'se cr\\'et_12345' / se cr'et_12345 / short / shortcut", secrets)
    assert "cr" not in text.replace("shortcut", "")
    assert text.endswith("*** / shortcut")


async def test_an_unexpected_handler_failure_is_answered_and_logged_redacted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from trio_claude._callbacks import answer_request
    from trio_claude._protocol._connection import ClaudeProtocol
    from trio_claude._protocol._events import ControlRequest

    async def broken(request: dict[str, Any]) -> dict[str, Any]:
        raise UpstreamError(f"could not reach the gateway with {TOKEN}")

    caplog.set_level(logging.DEBUG, logger="trio_claude")
    request = ControlRequest("r1", "custom", {"subtype": "custom"})
    secrets = secret_values({"GATEWAY_TOKEN": TOKEN})
    reply = await answer_request(ClaudeProtocol(), {"custom": broken}, request, None, secrets)
    assert b"UpstreamError" in reply
    assert_no_fragment(reply.decode(), TOKEN)
    assert "handling custom from the CLI failed" in caplog.text
    assert_no_fragment(caplog.text, TOKEN)
    assert all(record.exc_info is None for record in caplog.records)


async def test_a_failing_stores_error_is_logged_and_reported_masked(
    tmp_path: Any, caplog: pytest.LogCaptureFixture, autojump_clock: trio.testing.MockClock
) -> None:
    from trio_claude._mirror import TranscriptMirror

    class Refusing(tc.InMemorySessionStore):
        async def append(self, key: Any, entries: list[Any]) -> None:
            raise ConnectionError(f"could not connect to postgresql://app:{TOKEN}@db/app")

    reported: list[dict[str, Any]] = []
    projects = tmp_path / "projects"
    mirror = TranscriptMirror(Refusing(), projects, eager=False, report_error=reported.append)
    mirror.add(str(projects / "proj" / "s1.jsonl"), [{"uuid": "a"}])
    caplog.set_level(logging.DEBUG, logger="trio_claude")
    await mirror.flush()
    assert "mirroring 1 transcript entries failed: ConnectionError" in caplog.text
    assert_no_fragment(caplog.text, TOKEN)
    (frame,) = reported
    assert frame["subtype"] == "mirror_error" and "ConnectionError" in frame["error"]
    assert_no_fragment(json.dumps(frame), TOKEN)


def test_a_refused_starts_reason_is_masked_by_the_sessions_secrets() -> None:
    from trio_claude._exit import OutputEnd, process_error
    from trio_claude._transport._base import LaunchSpec

    secret = "corp-gateway-credential-7f3a9c1e5b"  # no known shape: masked by value only
    last = ResultMessage(
        subtype="error_during_execution",
        duration_ms=1,
        duration_api_ms=0,
        is_error=True,
        num_turns=0,
        session_id="s",
        startup_failure_reason=f"the gateway refused {secret}",
    )
    end = OutputEnd(
        exit_code=1,
        closing=False,
        broken=None,
        breach=None,
        stdout_held=False,
        live_turn_open=False,
        stderr="",
        last_result=last,
        cli_version=None,
    )
    options = tc.ClaudeAgentOptions(env={"CORP_GATEWAY_TOKEN": secret})
    spec = LaunchSpec(argv=["claude"], env={"CORP_GATEWAY_TOKEN": secret})
    error = process_error("exited", 1, end, options, spec, (secret,))
    assert "refused to start" in str(error)
    assert secret not in str(error) and secret not in repr(error)


def test_the_working_directory_is_not_a_secret() -> None:
    assert not is_secret_name("PWD") and not is_secret_name("OLDPWD")
    assert is_secret_name("DB_PWD")
    assert secret_values({"PWD": "/home/someone/project", "OLDPWD": "/home/someone"}) == ()


def test_an_environment_variable_is_classified_again_when_its_value_changes() -> None:
    # secret_values remembers each (name, value): a new value is a new entry, not a stale hit.
    assert secret_values({"MY_SERVICE_TOKEN": "first-value-123456"}) == ("first-value-123456",)
    assert secret_values({"MY_SERVICE_TOKEN": "second-value-654321"}) == ("second-value-654321",)
