"""Secrets in sitting 16's new and changed texts: the stall watchdog's ``last_seen``, the
``mirror_error`` a result now waits for, span attributes of hostile callback ids and server
names; guards for the tool handler's ``str(exception)``, the 2,000-character ResultError cut
and the locals of ``set_mcp_servers``.

Two keys: ``PLAIN`` looks like nothing (only masking by the session's env values catches it),
``SHAPED`` is an ``sk-ant-api03-`` key (caught by shape too)."""

from __future__ import annotations

import json
import logging
import traceback
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

import trio_claude as tc
from tests._helpers import options_for
from trio_claude.testing.fake_cli import Emit, FakeScript, FakeTurn, Hang, Request, Result, Text

PLAIN = "Zq8mVt3LpWx2Hn7Rk4Yd9Bc6Fg1Js5"  # no known shape: masked by value only
SHAPED = "sk-ant-api03-" + "Pf4Lq" * 19  # shaped like an Anthropic key
SID = "11111111-1111-4111-8111-111111111111"


def _assert_absent(text: str, *secrets: str) -> None:
    for secret in secrets:
        body = secret.removeprefix("sk-ant-api03-")
        for piece in (secret, body[:16], body[-16:]):
            at = text.find(piece)
            assert at < 0, f"{piece!r} leaked in: ...{text[max(0, at - 80) : at + 60]}..."


def _shown(error: BaseException) -> str:
    return str(error) + "\n" + repr(error) + "\n" + "".join(traceback.format_exception(error))


def _provider() -> tuple[Any, Any]:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def _spans_text(exporter: Any) -> str:
    parts = []
    for span in exporter.get_finished_spans():
        parts.append(span.name)
        parts.append(repr(dict(span.attributes or {})))
        parts.append(repr(span.status.description))
        parts += [repr(dict(event.attributes or {})) for event in span.events]
    return "\n".join(parts)


# ------------------------------------------- 1. StallTimeoutError's last_seen: the raw subtype


@pytest.mark.parametrize("secret", [PLAIN, SHAPED], ids=["by-value", "by-shape"])
async def test_a_stall_after_a_frame_quoting_the_key_shows_it_in_last_seen(
    secret: str, autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    # _session._describe() builds "system/<subtype>" from the last frame's raw subtype, cut
    # to 80 characters, never masked; StallTimeoutError puts it in its message as is.
    caplog.set_level(logging.DEBUG, logger="trio_claude")
    frame = {"type": "system", "subtype": f"{secret}", "detail": "x"}
    script = FakeScript(turns=[FakeTurn(steps=[Emit(frame), Hang()])])
    options, _ = options_for(script, env={"ANTHROPIC_API_KEY": secret}, stall_timeout=5)
    with pytest.raises(tc.StallTimeoutError) as info:
        async with tc.open_session(options) as session:
            with trio.fail_after(60):
                await session.run("go")
    assert "no frame from the CLI" in str(info.value)
    _assert_absent(_shown(info.value) + str(info.value.last_seen) + caplog.text, secret)


async def test_a_stall_in_query_after_a_frame_quoting_the_key_shows_it_in_last_seen(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # The iterator form of query() raises the same StallTimeoutError(_describe(...)).
    frame = {"type": "system", "subtype": PLAIN}
    script = FakeScript(turns=[FakeTurn(steps=[Emit(frame), Hang()])])
    options, _ = options_for(script, env={"ANTHROPIC_API_KEY": PLAIN}, stall_timeout=5)
    with pytest.raises(tc.StallTimeoutError) as info:
        with trio.fail_after(60):
            async with tc.query(prompt="go", options=options) as messages:
                async for _ in messages:
                    pass
    _assert_absent(_shown(info.value), PLAIN)


# ---------------------------------- 2. mirror_error before the result: masked by shape only


class _RefusingStore(tc.InMemorySessionStore):
    """A store whose backend refuses the credential it was given, and says which."""

    async def append(self, key: tc.SessionKey, entries: list[tc.SessionStoreEntry]) -> None:
        raise ConnectionError(f"store gateway refused credential {PLAIN} (401)")


async def test_a_mirror_error_delivered_before_the_result_quotes_the_env_key(
    tmp_path: Path, autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    # _mirror.TranscriptMirror._append: redact(describe_exception(error)) without the session's
    # secrets: the mirror_error message now handed out before the result (and the warning
    # logged) carries the env key verbatim.
    caplog.set_level(logging.DEBUG, logger="trio_claude")
    projects = tmp_path / "config" / "projects"
    mirror = {
        "type": "transcript_mirror",
        "filePath": str(projects / "p" / f"{SID}.jsonl"),
        "entries": [{"type": "user", "uuid": "u-1", "n": 1}],
    }
    script = FakeScript(turns=[FakeTurn(steps=[Emit(mirror), Text("hi"), Result()])])
    options, _ = options_for(
        script,
        session_store=_RefusingStore(),
        env={"CLAUDE_CONFIG_DIR": str(tmp_path / "config"), "ANTHROPIC_API_KEY": PLAIN},
    )
    seen: list[tc.Message] = []
    async with tc.open_session(options) as session:
        await session.send("go")
        with trio.fail_after(60):
            async for message in session.receive_response():
                seen.append(message)
    errors = [m for m in seen if isinstance(m, tc.MirrorErrorMessage)]
    assert errors, [type(m).__name__ for m in seen]
    shown = "\n".join(repr(m) + json.dumps(getattr(m, "data", None) or {}) for m in errors)
    assert "store gateway refused credential" in shown
    _assert_absent(shown + "\n" + caplog.text, PLAIN)


# ------------------------------------ 3. span attributes of a hostile callback id / server


@pytest.mark.parametrize("secret", [PLAIN, SHAPED], ids=["by-value", "by-shape"])
@pytest.mark.parametrize("field", ["callback_id", "server_name", "subtype"])
async def test_a_hostile_id_echoing_the_key_lands_in_span_attributes(
    secret: str, field: str
) -> None:
    # _otel.SessionTrace.callback_started sets claude.hook.callback_id / claude.mcp.server to
    # the CLI's raw strings; every other text a span gets goes through _fail's redaction.
    # A request's unknown subtype names the span and its claude.control.subtype attribute
    # (_otel.py callback_started), raw as well. The error answers are masked; these are not.
    provider, exporter = _provider()
    if field == "callback_id":
        request = Request("hook_callback", {"callback_id": f"hook_{secret}", "input": {}})
    elif field == "subtype":
        request = Request(f"probe_{secret}", {})
    else:
        message = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
        request = Request("mcp_message", {"server_name": f"srv {secret}", "message": message})
    script = FakeScript(turns=[FakeTurn(steps=[request, Result(text="end")])])

    @tc.tool("noop", "does nothing", {})
    async def noop(args: dict[str, Any]) -> str:
        return "ok"

    options, _ = options_for(
        script,
        env={"ANTHROPIC_API_KEY": secret},
        telemetry=provider,
        mcp_servers={"db": tc.create_sdk_mcp_server("db", tools=[noop])},
    )
    async with tc.open_session(options) as session:
        with trio.fail_after(30):
            await session.run("go")
    text = _spans_text(exporter)
    assert "claude.callback" in text
    _assert_absent(text, secret)


# --------------------------------------------------------------------------------- guards


@pytest.mark.parametrize("secret", [PLAIN, SHAPED], ids=["by-value", "by-shape"])
async def test_guard_a_tool_handlers_str_exception_is_masked_for_the_model_logs_and_spans(
    secret: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="trio_claude")
    provider, exporter = _provider()

    @tc.tool("lookup", "look up", {"q": str})
    async def lookup(args: dict[str, Any]) -> str:
        raise RuntimeError(f"backend said: bad key {secret} / {json.dumps(secret)[1:-1]}")

    params = {"name": "lookup", "arguments": {"q": "x"}}
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}
    request = Request("mcp_message", {"server_name": "db", "message": call})
    script = FakeScript(turns=[FakeTurn(steps=[request, Result(text="end")])])
    options, transport = options_for(
        script,
        env={"ANTHROPIC_API_KEY": secret},
        telemetry=provider,
        mcp_servers={"db": tc.create_sdk_mcp_server("db", tools=[lookup])},
    )
    async with tc.open_session(options) as session:
        with trio.fail_after(30):
            await session.run("go")
    assert transport.fake is not None
    answers = json.dumps(transport.fake.responses)
    assert "backend said" in answers
    _assert_absent(answers + caplog.text + _spans_text(exporter), secret)


@pytest.mark.parametrize("at", [1990, 1996, 1999, 2003])
async def test_guard_a_key_straddling_the_result_errors_2000_cut_is_masked(at: int) -> None:
    text = "E" * at + PLAIN + " " + SHAPED + "F" * 3000
    script = FakeScript(
        turns=[FakeTurn(steps=[Result(text=text, is_error=True, subtype="error_during_execution")])]
    )
    options, _ = options_for(script, env={"ANTHROPIC_API_KEY": PLAIN, "OTHER_KEY": SHAPED})
    with pytest.raises(tc.ResultError) as info:
        async with tc.open_session(options) as session:
            with trio.fail_after(30):
                await session.run("go")
    assert len(str(info.value)) < 2500
    _assert_absent(str(info.value) + repr(info.value), PLAIN, SHAPED)
