"""Secrets in sitting 17's new and changed texts: the official-style transport adapter's failure
lines, logs and causes, the jsonschema-style input errors of in-process MCP tools, the -32601
answer, the ``CanUseToolShadowedWarning``, ``CLINotFoundError``, the repr of options holding an
official-style transport, the parse errors' quoted keys; guards for the ResultError over an
exit (and its ProcessError cause), ``Error output:`` with a key split across stderr reads and
the last partial line, the initialize timeout under ``CLAUDE_CODE_STREAM_CLOSE_TIMEOUT``,
``RateLimitInfo``'s repr, ``connect()`` failures and the adapter's shaped-key masking.

Three keys: ``PLAIN`` looks like nothing (only masking by the session's values catches it),
``SHAPED`` is an ``sk-ant-api03-`` key (caught by shape too), ``SLASHY`` holds ``/ + =`` (its
percent-encoded and JSON-escaped forms differ from it)."""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import traceback
import warnings
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
import trio
import trio.testing

import trio_claude as tc
from tests._helpers import options_for
from trio_claude._protocol._codec import decode_message
from trio_claude.testing.fake_cli import Emit, FakeScript, FakeTurn, Request, Result
from trio_claude.types import RateLimitEvent, RateLimitInfo

from ._support import ManualTransport

PLAIN = "Zq8mVt3LpWx2Hn7Rk4Yd9Bc6Fg1Js5"  # no known shape: masked by value only
SHAPED = "sk-ant-api03-" + "Pf4Lq" * 19  # shaped like an Anthropic key
SLASHY = "Gw7/Tk2+Rb9=Xn4/Hq8+Lm3=Vc6"  # a gateway token with / + = in it
SID = "00000000-0000-4000-8000-0000000c0de7"


def _pieces(secret: str) -> list[str]:
    """Every 10-character window of the secret's body (past a well-known prefix)."""
    body = secret.removeprefix("sk-ant-api03-")
    return [body[i : i + 10] for i in range(len(body) - 9)]


def _assert_absent(text: str, *secrets: str) -> None:
    for secret in secrets:
        for piece in [secret, *_pieces(secret)]:
            at = text.find(piece)
            assert at < 0, f"{piece!r} leaked in: ...{text[max(0, at - 100) : at + 60]}..."


def _shown(error: BaseException) -> str:
    """What an error shows: str, repr, args and the whole traceback (causes, contexts, notes)."""
    return "\n".join(
        [str(error), repr(error), repr(error.args), "".join(traceback.format_exception(error))]
    )


def _logged(caplog: pytest.LogCaptureFixture) -> str:
    return caplog.text + "\n".join(r.getMessage() for r in caplog.records)


# ------------------------------------------------------------ an official-style transport


def _init() -> dict[str, Any]:
    return {"type": "system", "subtype": "init", "session_id": SID}


def _assistant(text: str) -> dict[str, Any]:
    return {
        "type": "assistant",
        "message": {"role": "assistant", "model": "m", "content": [{"type": "text", "text": text}]},
        "parent_tool_use_id": None,
        "session_id": SID,
    }


def _result(**fields: Any) -> dict[str, Any]:
    frame = {
        "type": "result",
        "subtype": "success",
        "is_error": False,
        "duration_ms": 1,
        "duration_api_ms": 1,
        "num_turns": 1,
        "session_id": SID,
        "total_cost_usd": 0.0,
        "result": "done",
    }
    frame.update(fields)
    return frame


_RAISE = {"__raise": True}  # not a frame: read_messages() raises there


class Remote:
    """A duck-typed official-style transport (connect/write/read_messages/close/end_input):
    a user frame is answered with ``turn``; ``fail_in`` names the method that raises
    ``error()`` (read_messages raises where ``turn`` has ``_RAISE``)."""

    def __init__(
        self,
        fail_in: str | None = None,
        error: Callable[[], Exception] | None = None,
        turn: list[dict[str, Any]] | None = None,
    ) -> None:
        self.fail_in = fail_in
        self.error = error or (lambda: RuntimeError("boom"))
        self.turn = turn if turn is not None else [_init(), _assistant("hi"), _result()]
        self.calls: list[str] = []
        self._send, self._recv = trio.open_memory_channel[dict[str, Any]](math.inf)

    async def connect(self) -> None:
        self.calls.append("connect")
        await trio.lowlevel.checkpoint()
        if self.fail_in == "connect":
            raise self.error()

    async def write(self, data: str) -> None:
        await trio.lowlevel.checkpoint()
        frame = json.loads(data)
        if frame["type"] == "control_request":
            reply = {"subtype": "success", "request_id": frame["request_id"], "response": {}}
            self._send.send_nowait({"type": "control_response", "response": reply})
        elif frame["type"] == "user":
            if self.fail_in == "write":
                raise self.error()
            for item in self.turn:
                self._send.send_nowait(item)

    async def read_messages(self) -> AsyncIterator[dict[str, Any]]:
        async for message in self._recv:
            if message is _RAISE:
                raise self.error()
            yield message

    async def close(self) -> None:
        self.calls.append("close")
        await trio.lowlevel.checkpoint()
        self._send.close()
        if self.fail_in == "close":
            raise self.error()

    async def end_input(self) -> None:
        await trio.lowlevel.checkpoint()
        self._send.close()
        if self.fail_in == "end_input":
            raise self.error()

    def is_ready(self) -> bool:
        return True


def _env_key(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The key in the process environment and in options.env (the transport reads either)."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", PLAIN)
    return {"ANTHROPIC_API_KEY": PLAIN, "GATEWAY_TOKEN": SLASHY}


class GatewayError(Exception):
    """An HTTP client's error: its text is made from attributes, not from ``args``."""

    def __init__(self, url: str) -> None:
        super().__init__("gateway failed")
        self.url = url

    def __str__(self) -> str:
        return f"gateway {self.url} refused the connection"


_ESCAPED = json.dumps(SLASHY)[1:-1].replace("/", "\\/")  # JSON-escaped, as some encoders write it


def _by_value() -> Exception:
    return RuntimeError(f"gateway refused key {PLAIN} (token {SLASHY})")


# ========================================== 1. the adapter's failure line and log: by value


@pytest.mark.parametrize("method", ["read_messages", "write"])
async def test_the_adapters_failure_line_gives_the_env_key_to_the_stderr_callback(
    method: str, monkeypatch: pytest.MonkeyPatch, autojump_clock: trio.testing.MockClock
) -> None:
    # _official.OfficialProcess._fail: said = redact(describe_exception(exc)), shapes only,
    # and the line "trio-claude: the transport's ... failed" is written to the fake stderr,
    # which hands it to options.stderr as a CLI line. It is the SDK's own text, not the CLI's.
    lines: list[str] = []
    turn = [_init(), _RAISE] if method == "read_messages" else None
    transport = Remote(fail_in=method, error=_by_value, turn=turn)
    options = tc.ClaudeAgentOptions(
        transport=transport, env=_env_key(monkeypatch), stderr=lines.append, close_timeout=1
    )
    with trio.move_on_after(60):
        async with tc.open_session(options) as session:
            with pytest.raises(tc.ClaudeSDKError):
                await session.run("hi")
    said = "\n".join(lines)
    assert f"the transport's {method}() failed (Remote): RuntimeError" in said
    _assert_absent(said, PLAIN, SLASHY)


@pytest.mark.parametrize("method", ["read_messages", "write"])
async def test_the_adapters_debug_log_of_a_failure_quotes_the_env_key(
    method: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    autojump_clock: trio.testing.MockClock,
) -> None:
    # _official.OfficialProcess._fail: logger.debug(..., redact_exception(exc)) without the
    # session's secrets.
    caplog.set_level(logging.DEBUG, logger="trio_claude")
    turn = [_init(), _RAISE] if method == "read_messages" else None
    transport = Remote(fail_in=method, error=_by_value, turn=turn)
    options = tc.ClaudeAgentOptions(transport=transport, env=_env_key(monkeypatch), close_timeout=1)
    with trio.move_on_after(60):
        async with tc.open_session(options) as session:
            with pytest.raises(tc.ClaudeSDKError) as info:
                await session.run("hi")
    _assert_absent(_shown(info.value), PLAIN, SLASHY)  # the error itself is masked (guard)
    logged = _logged(caplog)
    assert f"the transport's {method}() failed" in logged
    _assert_absent(logged, PLAIN, SLASHY)


@pytest.mark.parametrize("method", ["close", "end_input"])
async def test_the_adapters_warning_of_a_failing_close_quotes_the_env_key(
    method: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # _official.OfficialProcess._call_bounded: logger.warning("the transport's %s() failed
    # (%s): %s", ..., redact(describe_exception(exc))): shapes only.
    caplog.set_level(logging.DEBUG, logger="trio_claude")
    transport = Remote(fail_in=method, error=_by_value)
    options = tc.ClaudeAgentOptions(env=_env_key(monkeypatch), close_timeout=1)
    with trio.fail_after(10):
        messages = [m async for m in tc.query(prompt="hi", transport=transport, options=options)]
    assert isinstance(messages[-1], tc.ResultMessage)
    logged = _logged(caplog)
    assert f"the transport's {method}() failed (Remote): RuntimeError" in logged
    _assert_absent(logged, PLAIN, SLASHY)


# ====================================== 2. the iterator form's write failure: its causes


def _with_note() -> Exception:
    error = ConnectionResetError("the channel to the remote CLI broke")
    error.__dict__["__notes__"] = [f"request headers: x-api-key: {SHAPED}"]  # add_note (3.11+)
    return error


_WRITE_ERRORS: dict[str, Callable[[], Exception]] = {
    "by-value": _by_value,
    # scrub_exception rewrites args; this __str__ does not read them
    "custom-str": lambda: GatewayError(f"https://bot:{PLAIN}@gw.example/v1"),
    # an OSError's str is made from errno, strerror and filename, not from args
    "oserror-filename": lambda: ConnectionRefusedError(
        111, "Connection refused", f"wss://bot:{PLAIN}@remote.example/cli"
    ),
    # scrub_exception never looks at __notes__
    "note": _with_note,
}


@pytest.mark.parametrize("kind", list(_WRITE_ERRORS))
async def test_a_write_failure_in_the_iterator_form_chains_the_key_in_its_causes(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # _official._Stdin.send_all raises BrokenResourceError(said) *from exc* (the user's
    # exception, scrubbed by shape and args only); _query._PullQuery._write wraps it in
    # SessionClosedError(f"writing to the CLI failed: {exc!r}") without the secrets; and
    # _write_or_end raises the end error *from* that: the traceback prints all three.
    transport = Remote(fail_in="write", error=_WRITE_ERRORS[kind])
    options = tc.ClaudeAgentOptions(env=_env_key(monkeypatch), close_timeout=1)
    with trio.fail_after(10), pytest.raises(tc.ClaudeSDKError) as info:
        async for _ in tc.query(prompt="hi", transport=transport, options=options):
            pass
    shown = _shown(info.value)
    assert "the transport's write() failed (Remote)" in shown
    _assert_absent(shown, PLAIN, SLASHY, SHAPED)


# =================================================== 3. jsonschema-style tool input errors


_SCHEMA = {
    "type": "object",
    "properties": {
        "n": {"type": "integer"},
        "code": {"type": "string", "pattern": "^[0-9]{6}$"},
        "mode": {"enum": ["fast", "slow"]},
    },
}


def _call(arguments: dict[str, Any]) -> Request:
    params = {"name": "lookup", "arguments": arguments}
    message = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}
    return Request("mcp_message", {"server_name": "db", "message": message})


async def _answers(request: Request, **options: Any) -> str:
    @tc.tool("lookup", "look up", _SCHEMA)
    async def lookup(args: dict[str, Any]) -> str:
        return "ok"

    script = FakeScript(turns=[FakeTurn(steps=[request, Result(text="end")])])
    opts, transport = options_for(
        script,
        env={"ANTHROPIC_API_KEY": PLAIN, "OTHER_KEY": SHAPED},
        mcp_servers={"db": tc.create_sdk_mcp_server("db", tools=[lookup])},
        **options,
    )
    async with tc.open_session(opts) as session:
        with trio.fail_after(30):
            await session.run("go")
    assert transport.fake is not None
    return json.dumps(transport.fake.responses)


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("n", PLAIN, "is not of type 'integer'"),
        ("n", SHAPED, "is not of type 'integer'"),
        ("n", "v" * 30 + PLAIN, "is not of type 'integer'"),  # the 60-character cut inside it
        ("n", {"api_key": PLAIN}, "is not of type 'integer'"),
        ("code", PLAIN, "does not match pattern"),
        ("code", SHAPED, "does not match pattern"),
        ("mode", PLAIN, "is not one of"),
    ],
    ids=["type-plain", "type-shaped", "type-cut", "type-dict", "pattern", "pattern-shaped", "enum"],
)
async def test_a_tool_input_failing_validation_is_quoted_back_with_the_key(
    field: str, value: Any, words: str
) -> None:
    # _mcp.SdkMcpServer.call_tool: _error_result("Input validation error: " + "; ".join(
    # errors)) is not redacted at all, and _jsonschema quotes the value (_short(): its repr
    # cut to 60 characters; pattern and enum errors: its whole repr). The model reads it, and
    # the CLI keeps it in the transcript.
    answers = await _answers(_call({field: value}))
    assert "Input validation error" in answers and words in answers
    _assert_absent(answers, PLAIN, SHAPED)


# =============================================================== 4. MCP -32601's method name


@pytest.mark.parametrize("secret", [PLAIN, SHAPED], ids=["by-value", "by-shape"])
async def test_method_not_found_quotes_a_key_in_the_method_name(secret: str) -> None:
    # _mcp.McpServerConnection.handle: f"Method not found: {method}", the CLI's string raw
    # (the span's claude.mcp.method is masked; this answer is not; the -32603 one is).
    message = {"jsonrpc": "2.0", "id": 7, "method": f"resources/read?api_key={secret}"}
    request = Request("mcp_message", {"server_name": "db", "message": message})
    answers = await _answers(request)
    assert "-32601" in answers and "Method not found" in answers
    _assert_absent(answers, secret)


# ============================================================ 5. CanUseToolShadowedWarning


@pytest.mark.parametrize(
    "entry",
    [f"ANTHROPIC_API_KEY={SHAPED}", f"mcp__vault__{PLAIN}"],
    ids=["pasted-assignment", "by-value"],
)
async def test_the_shadowing_warning_quotes_an_allowed_tools_entry_holding_a_key(
    entry: str,
) -> None:
    # _options.warn_if_can_use_tool_shadowed: every whole-tool entry joined into the
    # message as is; neither masked by shape nor by the env's values.
    async def allow(*args: Any) -> Any:
        return tc.PermissionResultAllow()

    script = FakeScript(turns=[FakeTurn.reply("ok")])
    options, _ = options_for(
        script,
        can_use_tool=allow,
        allowed_tools=["Read", entry],
        env={"ANTHROPIC_API_KEY": PLAIN},
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with tc.open_session(options) as session:
            with trio.fail_after(30):
                await session.run("go")
    shadowing = [w for w in caught if issubclass(w.category, tc.CanUseToolShadowedWarning)]
    assert shadowing, [str(w.message) for w in caught]
    text = "\n".join(str(w.message) for w in shadowing)
    assert "can_use_tool will not be invoked for: Read" in text
    _assert_absent(text, PLAIN, SHAPED)


# ======================================================================== 6. CLINotFoundError


@pytest.mark.parametrize("where", ["cli_path", "TRIO_CLAUDE_CLI"])
async def test_cli_not_found_quotes_a_url_password_in_the_path(
    where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # _transport/_discovery._explicit: f"Claude Code not found at: {value} ..." never
    # redacted (CLINotFoundError.__init__ does not redact either).
    url = f"https://ci:{PLAIN}@artifacts.example/bin/claude"
    if where == "cli_path":
        options = tc.ClaudeAgentOptions(cli_path=url)
    else:
        monkeypatch.setenv("TRIO_CLAUDE_CLI", url)
        options = tc.ClaudeAgentOptions()
    with pytest.raises(tc.CLINotFoundError) as info:
        async with tc.open_session(options):
            pass
    assert "Claude Code not found at: https://ci:" in str(info.value)
    _assert_absent(_shown(info.value), PLAIN)


# ============================================ 7. repr of options with an official transport


@dataclasses.dataclass
class DataclassRemote:
    """An official-style transport as ported code writes one: a dataclass with credentials."""

    url: str
    api_key: str
    token: str

    async def connect(self) -> None:
        await trio.lowlevel.checkpoint()

    async def write(self, data: str) -> None:
        await trio.lowlevel.checkpoint()

    async def read_messages(self) -> AsyncIterator[dict[str, Any]]:
        await trio.lowlevel.checkpoint()
        return
        yield {}

    async def close(self) -> None:
        await trio.lowlevel.checkpoint()

    async def end_input(self) -> None:
        await trio.lowlevel.checkpoint()


def test_repr_of_options_shows_an_official_transports_credentials() -> None:
    # _options.ClaudeAgentOptions.transport has attrs' default repr: any object with the
    # official methods is accepted now (check_transport), and its repr is printed whole.
    transport = DataclassRemote(f"wss://bot:{SLASHY}@remote.example/cli", SHAPED, PLAIN)
    options = tc.ClaudeAgentOptions(transport=transport, env={"ANTHROPIC_API_KEY": PLAIN})
    shown = repr(options)
    assert "transport=" in shown and "DataclassRemote" in shown
    _assert_absent(shown, PLAIN, SHAPED, SLASHY)


# ================================================ 8. parse errors quoting an object's keys


async def test_a_parse_error_quoting_an_objects_keys_cuts_an_env_key_before_masking(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # _protocol/_codec._describe: "dict with keys " + redact_preview(repr(list(value)), (),
    # 60): cut at 60 with no secrets; the session's warning masks by value afterwards
    # (Session._on_invalid_line), but the cut fragment ends in "..." mid-line, where
    # _mask_partial_secrets does not look.
    caplog.set_level(logging.DEBUG, logger="trio_claude")
    frame = {"type": "system", "subtype": "init", "tools": {"x" * 30: 1, PLAIN: 2}}
    script = FakeScript(turns=[FakeTurn(steps=[Emit(frame), Result(text="end")])])
    options, _ = options_for(script, env={"ANTHROPIC_API_KEY": PLAIN})
    async with tc.open_session(options) as session:
        with trio.fail_after(30):
            await session.run("go")
    logged = _logged(caplog)
    assert "ignoring a line from the CLI" in logged and "dict with keys" in logged
    _assert_absent(logged, PLAIN)


# ============================================ 9. a key percent-encoded as a URL path segment


async def test_an_error_result_quoting_the_key_encoded_as_a_path_segment_shows_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # _redact._encodings: quote(secret, safe=""), quote(secret) and quote_plus(secret) only.
    # A path segment is encoded keeping RFC 3986's sub-delims ("+", "=": Go's
    # url.PathEscape, quote(s, safe="+=")), "/" as %2F: a form none of those is, so the
    # ResultError message (built with the session's secrets) quotes it.
    segment = quote(SLASHY, safe="+=")
    errors = [f"GET https://gw.example/v1/keys/{segment}/usage: 403"]
    turn = [_init(), _result(is_error=True, subtype="error_during_execution", errors=errors)]
    transport = Remote(turn=turn)
    options = tc.ClaudeAgentOptions(transport=transport, env=_env_key(monkeypatch))
    with trio.fail_after(10), pytest.raises(tc.ResultError) as info:
        async with tc.open_session(options) as session:
            await session.run("hi")
    assert "Claude Code returned an error result: GET https://gw.example/v1/keys/" in str(
        info.value
    )
    _assert_absent(_shown(info.value), SLASHY)


# ================================================================================ guards


async def test_guard_result_error_over_an_exit_and_its_process_error_cause_are_masked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # _exit.process_error: an error result, then the output fails (exit 1): ResultError
    # caused by the exit's ProcessError, both built with the session's secrets.
    errors = [
        f"auth failed for {PLAIN}",
        f'  {{"detail": "x-api-key: {SHAPED}"}}  ',
        f"token {_ESCAPED} / {quote(SLASHY, safe='')} / {quote_plus(SLASHY)}",
    ]
    turn = [
        _init(),
        _result(is_error=True, subtype="error_during_execution", errors=errors, result=PLAIN),
        _RAISE,
    ]
    transport = Remote(error=lambda: RuntimeError(f"stream closed ({SHAPED})"), turn=turn)
    options = tc.ClaudeAgentOptions(env=_env_key(monkeypatch), close_timeout=1)
    with trio.fail_after(10), pytest.raises(tc.ResultError) as info:
        async for _ in tc.query(prompt="hi", transport=transport, options=options):
            pass
    error = info.value
    assert str(error).startswith("Claude Code returned an error result: auth failed for ***")
    assert "(error_during_execution) (exit code: 1)" in str(error)
    assert "Error output: trio-claude: the transport's read_messages() failed" in str(error)
    assert isinstance(error.__cause__, tc.ProcessError)
    assert error.errors[0] == f"auth failed for {PLAIN}"  # the attribute is data, kept
    _assert_absent(_shown(error) + error.stderr, PLAIN, SHAPED, SLASHY)


@pytest.mark.parametrize("split", [4, 11, 20])
async def test_guard_error_output_masks_a_key_split_across_stderr_reads_and_the_last_line(
    split: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="trio_claude")
    transport = ManualTransport()
    lines: list[str] = []
    options = tc.ClaudeAgentOptions(
        transport=transport, env={"ANTHROPIC_AUTH_TOKEN": PLAIN}, stderr=lines.append
    )
    first = b"E" * (1990 - split) + b"auth: rejected " + PLAIN[:split].encode()
    second = PLAIN[split:].encode() + b" (401)\n"
    last = b"last words: x-api-key " + SHAPED.encode()  # no newline: flushed at the end

    async def cli() -> None:
        await transport.child_ready.wait()
        child = transport.child
        assert child is not None
        await child.handshake()
        await child.read_frame()
        for chunk in (first, second, last):
            await child.cli_stderr.send_all(chunk)
            await trio.testing.wait_all_tasks_blocked()
        child.exit(1)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(cli)
        async with tc.open_session(options) as session:
            await session.send("go")
            with pytest.raises(tc.ProcessError) as info:
                await session.collect_response()
        tail = session.stderr_tail
    text = str(info.value)
    assert "(exit code: 1)\nError output: " in text and "(401)" in text
    assert any(line.startswith("last words") for line in lines)
    _assert_absent(_shown(info.value) + info.value.stderr + tail + _logged(caplog), PLAIN, SHAPED)


async def test_guard_initialize_timeout_under_stream_close_timeout_masks_the_stderr_tail(
    monkeypatch: pytest.MonkeyPatch, autojump_clock: trio.testing.MockClock
) -> None:
    monkeypatch.setenv("CLAUDE_CODE_STREAM_CLOSE_TIMEOUT", "90000")  # 90 s, over the 60 s
    transport = ManualTransport()
    options = tc.ClaudeAgentOptions(transport=transport, env={"ANTHROPIC_API_KEY": PLAIN})

    async def cli() -> None:  # reads initialize, complains, never answers
        await transport.child_ready.wait()
        child = transport.child
        assert child is not None
        await child.read_frame()
        await child.cli_stderr.send_all(f"auth: key={PLAIN[:9]}".encode())
        await trio.testing.wait_all_tasks_blocked()
        await child.cli_stderr.send_all(f"{PLAIN[9:]}\nx-api-key: {SHAPED}\n".encode())

    start = trio.current_time()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(cli)
        with pytest.raises(tc.CLIConnectionError) as info:
            async with tc.open_session(options):
                pass
        nursery.cancel_scope.cancel()
    assert trio.current_time() - start >= 90
    assert "did not answer initialize within 90 s" in str(info.value)
    assert "auth: key=***" in str(info.value)
    _assert_absent(_shown(info.value), PLAIN, SHAPED)


def test_guard_rate_limit_info_repr_keeps_raw_fields_out() -> None:
    wire = {"status": "rejected", "rateLimitType": "five_hour", "authToken": SHAPED, "x": PLAIN}
    info = RateLimitInfo.from_dict(wire)
    event = RateLimitEvent(rate_limit_info=wire, uuid="u", session_id=SID)
    shown = repr(info) + repr(event) + str(event)
    assert "status='rejected'" in shown and "rate_limit_type='five_hour'" in shown
    assert info["authToken"] == SHAPED  # the raw dict is data
    _assert_absent(shown, PLAIN, SHAPED)


async def test_guard_a_failing_connect_is_not_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # What connect() raises comes out as it is (documented): the application's own error.
    # Nothing of it is logged.
    caplog.set_level(logging.DEBUG, logger="trio_claude")
    transport = Remote(fail_in="connect", error=_by_value)
    options = tc.ClaudeAgentOptions(transport=transport, env=_env_key(monkeypatch))
    with trio.fail_after(10), pytest.raises(RuntimeError, match="gateway refused key"):
        async with tc.open_session(options):
            pass
    _assert_absent(_logged(caplog), PLAIN, SLASHY)


async def test_guard_the_adapter_masks_shaped_keys_in_message_cause_and_notes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="trio_claude")

    def error() -> Exception:
        try:
            raise ValueError(f"upstream said Authorization: Bearer {SHAPED}")
        except ValueError as cause:
            wrapped = ConnectionError("stream to wss://bot:hunter2pass@remote.example broke")
            wrapped.__cause__ = cause
            wrapped.__dict__["__notes__"] = [f"x-api-key: {SHAPED}"]
            return wrapped

    lines: list[str] = []
    transport = Remote(error=error, turn=[_init(), _RAISE])
    options = tc.ClaudeAgentOptions(transport=transport, stderr=lines.append, close_timeout=1)
    with trio.fail_after(10), pytest.raises(tc.ProcessError) as info:
        async with tc.open_session(options) as session:
            await session.run("hi")
    said = "\n".join(lines)
    assert "the transport's read_messages() failed (Remote): ConnectionError" in said
    assert "wss://bot:***@remote.example" in str(info.value)
    _assert_absent(_shown(info.value) + said + _logged(caplog), SHAPED, "hunter2pass")
    assert transport.calls.count("close") == 1


async def test_guard_parse_errors_in_official_words_do_not_quote_long_values(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="trio_claude")
    frames: list[dict[str, Any]] = [
        {"type": "assistant", "message": {"role": "assistant", "model": "m", "content": [{}]}},
        {"type": "system", "subtype": "init", "tools": f"ANTHROPIC_API_KEY={PLAIN}"},
        {"type": "rate_limit_event", "rate_limit_info": SHAPED, "uuid": "u"},
    ]
    script = FakeScript(turns=[FakeTurn(steps=[*(Emit(f) for f in frames), Result(text="end")])])
    options, _ = options_for(script, env={"ANTHROPIC_API_KEY": PLAIN})
    async with tc.open_session(options) as session:
        with trio.fail_after(30):
            await session.run("go")
    logged = _logged(caplog)
    assert "ignoring a line from the CLI" in logged
    assert "str of " in logged
    _assert_absent(logged, PLAIN, SHAPED)
    with pytest.raises(tc.MessageParseError, match=r"Invalid message data type \(expected dict"):
        decode_message([PLAIN])  # type: ignore[arg-type]
