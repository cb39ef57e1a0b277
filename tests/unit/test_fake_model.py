"""Unit tests for the fake Anthropic Messages API server (raw trio socket client)."""

from __future__ import annotations

import base64
from typing import Any

import attrs
import orjson
import pytest
import trio
import trio.testing

from trio_claude.testing._fake_model import (
    EXHAUSTED_TEXT,
    FakeModel,
    HTTPError,
    Match,
    RecordedRequest,
    RedactedThinking,
    Script,
    StreamError,
    Text,
    Thinking,
    ToolUse,
    Turn,
    Usage,
    open_fake_model,
    serve_fake_model,
)

# ---- a tiny HTTP/1.1 client ------------------------------------------------------------------


@attrs.define
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)

    def events(self) -> list[dict[str, Any]]:
        """Parse an SSE body into payloads, checking that ``event:`` matches ``type``."""
        out = []
        for raw in self.body.decode().split("\n\n"):
            if not raw.strip():
                continue
            fields = dict(line.split(": ", 1) for line in raw.split("\n"))
            payload = orjson.loads(fields["data"])
            assert fields["event"] == payload["type"]
            out.append(payload)
        return out


class Conn:
    """One client connection that can carry several requests (keep-alive)."""

    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream = stream
        self.buf = bytearray()

    @classmethod
    async def open(cls, model: FakeModel) -> Conn:
        return cls(await trio.open_tcp_stream("127.0.0.1", model.port))

    async def _fill(self) -> bool:
        data = await self.stream.receive_some(65536)
        self.buf += data
        return bool(data)

    async def _line(self) -> bytes:
        while b"\r\n" not in self.buf:
            if not await self._fill():
                raise EOFError
        line, _, rest = bytes(self.buf).partition(b"\r\n")
        self.buf = bytearray(rest)
        return line

    async def _exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not await self._fill():
                raise EOFError
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    async def send(self, data: bytes) -> None:
        await self.stream.send_all(data)

    async def read_response(self, *, head_only: bool = False) -> Response:
        status_line = await self._line()
        status = int(status_line.split(b" ")[1])
        headers: dict[str, str] = {}
        while line := await self._line():
            name, _, value = line.decode().partition(":")
            headers[name.lower()] = value.strip()
        if head_only:
            return Response(status, headers, b"")
        if headers.get("transfer-encoding") == "chunked":
            body = bytearray()
            while True:
                size = int(await self._line(), 16)
                if size == 0:
                    assert await self._line() == b""
                    break
                body += await self._exact(size)
                assert await self._exact(2) == b"\r\n"
            return Response(status, headers, bytes(body))
        if "content-length" in headers:
            return Response(status, headers, await self._exact(int(headers["content-length"])))
        while await self._fill():
            pass
        return Response(status, headers, bytes(self.buf))

    async def request(
        self,
        method: str,
        target: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        raw = body if isinstance(body, bytes) else b"" if body is None else orjson.dumps(body)
        hdrs = {"host": "127.0.0.1", "content-type": "application/json", **(headers or {})}
        if body is not None:
            hdrs.setdefault("content-length", str(len(raw)))
        head = f"{method} {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items())
        await self.send(head.encode() + b"\r\n" + raw)
        return await self.read_response(head_only=method == "HEAD")

    async def aclose(self) -> None:
        await self.stream.aclose()


async def request(model: FakeModel, method: str, target: str, body: Any = None, **kw: Any):
    conn = await Conn.open(model)
    try:
        return await conn.request(method, target, body, **kw)
    finally:
        await conn.aclose()


def turn_body(
    text: str = "hi",
    *,
    stream: bool = True,
    model: str = "claude-test-1",
    messages: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": model,
        "max_tokens": 32000,
        "system": [{"type": "text", "text": "You are a Claude agent."}],
        "tools": [{"name": "Bash", "input_schema": {"type": "object"}}],
        "messages": messages
        if messages is not None
        else [{"role": "user", "content": [{"type": "text", "text": text}]}],
        **extra,
    }
    if stream:
        body["stream"] = True
    return body


def tool_result_messages(result: str, *, tool_use_id: str = "toolu_1") -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": [{"type": "text", "text": "run it"}]},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": tool_use_id, "name": "Bash", "input": {}}],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": tool_use_id, "content": result},
                {"type": "text", "text": "<system-reminder>\nnoise\n</system-reminder>"},
            ],
        },
        {"role": "system", "content": [{"type": "text", "text": "# Environment"}]},
    ]


async def post(model: FakeModel, body: Any, *, prefix: str = "", **kw: Any) -> Response:
    response: Response = await request(model, "POST", f"{prefix}/v1/messages?beta=true", body, **kw)
    return response


def streamed_text(events: list[dict[str, Any]]) -> str:
    return "".join(
        e["delta"]["text"]
        for e in events
        if e["type"] == "content_block_delta" and e["delta"]["type"] == "text_delta"
    )


def types(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in events]


# ---- streaming shapes --------------------------------------------------------------------


async def test_text_stream_event_order_and_shape():
    async with open_fake_model([Turn("Hello from the fake model!", chunk_size=5)]) as model:
        resp = await post(model, turn_body())
    assert resp.status == 200
    assert resp.headers["content-type"].startswith("text/event-stream")
    assert resp.headers["transfer-encoding"] == "chunked"
    assert resp.headers["request-id"].startswith("req_fake_")
    events = resp.events()
    assert types(events) == [
        "message_start",
        "ping",
        "content_block_start",
        *["content_block_delta"] * 6,
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    start = events[0]["message"]
    assert start["model"] == "claude-test-1"
    assert start["id"].startswith("msg_fake_")
    assert start["role"] == "assistant" and start["content"] == []
    assert start["stop_reason"] is None
    assert set(start["usage"]) == {
        "input_tokens",
        "output_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
    }
    assert events[2] == {
        "type": "content_block_start",
        "index": 0,
        "content_block": {"type": "text", "text": ""},
    }
    assert streamed_text(events) == "Hello from the fake model!"
    assert events[-2]["delta"] == {"stop_reason": "end_turn", "stop_sequence": None}
    assert events[-2]["usage"]["output_tokens"] >= 1


async def test_tool_use_stream_joins_to_input_json():
    tool_input = {"command": "echo hi && ls -la", "description": "list", "n": [1, 2, {"x": None}]}
    script = [
        Turn([Text("Let me check."), ToolUse("Bash", tool_input)], chunk_size=4),
        Turn([ToolUse("Read", {"file_path": "/x"}, id="toolu_fixed")]),
    ]
    async with open_fake_model(script) as model:
        first = (await post(model, turn_body())).events()
        second = (await post(model, turn_body())).events()
    starts = [e for e in first if e["type"] == "content_block_start"]
    assert starts[1]["index"] == 1
    block = starts[1]["content_block"]
    assert block["type"] == "tool_use" and block["name"] == "Bash" and block["input"] == {}
    assert block["id"].startswith("toolu_fake_")
    parts = [
        e["delta"]["partial_json"]
        for e in first
        if e["type"] == "content_block_delta" and e["index"] == 1
    ]
    assert parts[0] == ""  # like the real API: an empty first delta
    assert all(
        e["delta"]["type"] == "input_json_delta"
        for e in first
        if e.get("index") == 1 and e["type"] == "content_block_delta"
    )
    assert orjson.loads("".join(parts)) == tool_input
    assert first[-2]["delta"]["stop_reason"] == "tool_use"
    assert [e["content_block"]["id"] for e in second if e["type"] == "content_block_start"] == [
        "toolu_fixed"
    ]


async def test_repeat_tool_use_gets_fresh_ids():
    async with open_fake_model([Turn([ToolUse("Bash", {"command": "true"})], repeat=True)]) as m:
        ids = set()
        for _ in range(3):
            events = (await post(m, turn_body(stream=False))).json()
            ids.add(events["content"][0]["id"])
    assert len(ids) == 3


async def test_thinking_and_signature_stream():
    script = [
        Turn([Thinking("Let me think about it.", signature="sig-1"), Text("4")], chunk_size=8)
    ]
    async with open_fake_model(script) as model:
        events = (await post(model, turn_body())).events()
    assert events[2] == {
        "type": "content_block_start",
        "index": 0,
        "content_block": {"type": "thinking", "thinking": "", "signature": ""},
    }
    deltas = [e["delta"] for e in events if e["type"] == "content_block_delta" and e["index"] == 0]
    assert [d["type"] for d in deltas] == ["thinking_delta"] * 3 + ["signature_delta"]
    assert "".join(d.get("thinking", "") for d in deltas) == "Let me think about it."
    assert deltas[-1]["signature"] == "sig-1"
    assert streamed_text(events) == "4"


async def test_generated_signature_and_redacted_thinking():
    script = [Turn([Thinking("hmm"), RedactedThinking("opaque")], repeat=True)]
    async with open_fake_model(script) as model:
        message = (await post(model, turn_body(stream=False))).json()
        events = (await post(model, turn_body())).events()
    assert message["content"][0]["signature"].startswith("sig_fake_")
    assert message["content"][1] == {"type": "redacted_thinking", "data": "opaque"}
    starts = [e["content_block"] for e in events if e["type"] == "content_block_start"]
    assert starts[1] == {"type": "redacted_thinking", "data": "opaque"}


async def test_non_streaming_message():
    script = [
        Turn(
            "plain JSON", usage=Usage(input_tokens=7, output_tokens=3, cache_read_input_tokens=100)
        )
    ]
    async with open_fake_model(script) as model:
        resp = await post(model, turn_body(stream=False, model="claude-x"))
    assert resp.status == 200
    assert resp.headers["content-type"] == "application/json"
    message = resp.json()
    assert message == {
        "id": message["id"],
        "type": "message",
        "role": "assistant",
        "model": "claude-x",
        "content": [{"type": "text", "text": "plain JSON"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 7,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 100,
            "output_tokens": 3,
        },
    }


async def test_model_override_and_explicit_stop_reason():
    script = [Turn("cut", model="claude-other", stop_reason="max_tokens")]
    async with open_fake_model(script) as model:
        events = (await post(model, turn_body())).events()
    assert events[0]["message"]["model"] == "claude-other"
    assert events[-2]["delta"]["stop_reason"] == "max_tokens"


# ---- errors ------------------------------------------------------------------------------


async def test_http_error_status_headers_and_body():
    script: list[HTTPError | Turn] = [
        HTTPError(
            429,
            message="slow down",
            headers={"retry-after": "3", "x-should-retry": "true"},  # type: ignore[arg-type]  # converter=dict hides the type
        ),
        HTTPError(401),
        Turn("after the errors"),
    ]
    async with open_fake_model(script) as model:
        conn = await Conn.open(model)
        first = await conn.request("POST", "/v1/messages", turn_body())
        second = await conn.request("POST", "/v1/messages", turn_body())  # same connection
        third = await conn.request("POST", "/v1/messages", turn_body())
        await conn.aclose()
    assert first.status == 429
    assert first.headers["retry-after"] == "3"
    assert first.headers["x-should-retry"] == "true"
    body = first.json()
    assert body["type"] == "error"
    assert body["error"] == {"type": "rate_limit_error", "message": "slow down"}
    assert body["request_id"] == first.headers["request-id"]
    assert second.status == 401
    assert second.json()["error"]["type"] == "authentication_error"
    assert streamed_text(third.events()) == "after the errors"
    assert [r.status for r in model.requests] == [429, 401, 200]
    assert [r.turn_index for r in model.requests] == [0, 1, 2]


async def test_mid_stream_error_event_then_non_streaming_retry():
    script: list[StreamError | Turn] = [
        StreamError(after_events=3, blocks=["partial text here"]),
        Turn("recovered"),
    ]
    async with open_fake_model(script) as model:
        resp = await post(model, turn_body())
        retry = await post(model, turn_body(stream=False))
    assert resp.status == 200
    events = resp.events()
    assert types(events) == ["message_start", "content_block_start", "content_block_delta", "error"]
    assert events[-1] == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "Overloaded"},
    }
    assert retry.json()["content"] == [{"type": "text", "text": "recovered"}]


async def test_stream_error_caps_events_and_non_stream_gets_http_status():
    script = [StreamError(after_events=99, blocks=["ab"]), StreamError(type="api_error")]
    async with open_fake_model(script) as model:
        events = (await post(model, turn_body())).events()
        resp = await post(model, turn_body(stream=False))
    assert types(events) == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "error",
    ]
    assert resp.status == 500
    assert resp.json()["error"]["type"] == "api_error"


# ---- matching, repeat, placeholders ------------------------------------------------------


async def test_match_falls_through_and_waits():
    script = [
        Turn("tool answer: {last_tool_result}", match=Match(has_tool_result=True)),
        Turn("first text"),
    ]
    async with open_fake_model(script) as model:
        a = await post(model, turn_body(stream=False))
        b = await post(model, turn_body(stream=False, messages=tool_result_messages("42")))
        c = await post(model, turn_body(stream=False))
    assert a.json()["content"][0]["text"] == "first text"
    assert b.json()["content"][0]["text"] == "tool answer: 42"
    assert c.json()["content"][0]["text"] == EXHAUSTED_TEXT
    assert [r.turn_index for r in model.requests] == [1, 0, None]


async def test_repeat_while_match_then_advance():
    script = [
        Turn(
            [ToolUse("Bash", {"command": "poll"})],
            repeat=True,
            match=Match(tool_result_contains="pending"),
        ),
        Turn("done after {last_tool_result}"),
    ]
    async with open_fake_model(script) as model:
        # Not served yet and no match: falls through without retiring the repeat turn.
        pending = [
            await post(model, turn_body(stream=False, messages=tool_result_messages("pending")))
            for _ in range(3)
        ]
        final = await post(model, turn_body(stream=False, messages=tool_result_messages("ready")))
        again = await post(model, turn_body(stream=False, messages=tool_result_messages("pending")))
    assert all(r.json()["content"][0]["name"] == "Bash" for r in pending)
    assert final.json()["content"][0]["text"] == "done after ready"
    assert again.json()["content"][0]["text"] == EXHAUSTED_TEXT  # the repeat turn was retired
    assert model.pending_steps() == []


async def test_repeat_without_match_serves_forever():
    async with open_fake_model([Turn("again", repeat=True), Turn("never")]) as model:
        for _ in range(5):
            assert (await post(model, turn_body(stream=False))).json()["content"][0][
                "text"
            ] == "again"
        assert len(model.pending_steps()) == 2


async def test_match_fields_and_predicate():
    script = [
        Turn("haiku", match=Match(model="claude-haiku")),
        Turn("system", match=Match(system_contains="naming things")),
        Turn("tool", match=Match(tool_offered="Write")),
        Turn("pred", match=lambda r: r.body.get("metadata") == {"k": 1}),
        Turn("text", match=Match(last_user_text_contains="magic")),
        Turn("sub", match=Match(subagent=True)),
    ]

    def text(resp: Response) -> str:
        text: str = resp.json()["content"][0]["text"]
        return text

    async with open_fake_model(script) as model:
        assert text(await post(model, turn_body("a magic word", stream=False))) == "text"
        assert text(await post(model, turn_body(stream=False, metadata={"k": 1}))) == "pred"
        body = turn_body(stream=False)
        body["tools"].append({"name": "Write"})
        assert text(await post(model, body)) == "tool"
        body = turn_body(stream=False)
        body["system"] = "about naming things"
        assert text(await post(model, body)) == "system"
        assert text(await post(model, turn_body(stream=False, model="claude-haiku"))) == "haiku"
        body = turn_body(stream=False)
        body["system"] = [
            {"type": "text", "text": "x-anthropic-billing-header: cc_is_subagent=true;"}
        ]
        assert text(await post(model, body)) == "sub"


async def test_placeholders_in_text_and_tool_input():
    script = [
        Turn(
            [
                Text('{model} said {last_user_text}; json {"keep": "{braces}"}'),
                ToolUse("Write", {"content": "{last_tool_result}", "list": ["{model}", 3]}),
            ]
        ),
        Turn([Thinking("saw {last_tool_result}", signature="s")]),
    ]
    async with open_fake_model(script) as model:
        first = (
            await post(
                model,
                turn_body("hello <system-reminder>x</system-reminder>", stream=False, model="m-1"),
            )
        ).json()
        second = (
            await post(model, turn_body(stream=False, messages=tool_result_messages("RESULT")))
        ).json()
    assert first["content"][0]["text"] == 'm-1 said hello; json {"keep": "{braces}"}'
    assert first["content"][1]["input"] == {"content": "", "list": ["m-1", 3]}
    assert second["content"][0]["thinking"] == "saw RESULT"


# ---- auxiliary requests --------------------------------------------------------------------


async def test_aux_requests_do_not_consume_turns():
    title_body = turn_body(
        "<session>\nRefactor the parser\n</session>",
        tools=[],
        output_config={
            "format": {
                "type": "json_schema",
                "schema": {
                    "type": "object",
                    "properties": {"title": {"type": "string"}},
                    "required": ["title"],
                },
            }
        },
    )
    title_body["system"] = [
        {"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1.329;"},
        {"type": "text", "text": "You are naming a coding session so the user can pick..."},
    ]
    probe = {
        "model": "claude-haiku-4-5",
        "max_tokens": 1,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}],
    }
    compact = turn_body("Your task is to create a detailed summary of the conversation so far")
    side = turn_body(
        "classify",
        stream=False,
        tools=[],
        output_config={
            "format": {
                "type": "json_schema",
                "schema": {
                    "type": "object",
                    "properties": {
                        "ok": {"type": "boolean"},
                        "n": {"type": "integer"},
                        "tags": {"type": "array"},
                        "kind": {"enum": ["a", "b"]},
                    },
                    "required": ["ok", "n", "tags", "kind"],
                },
            }
        },
    )
    script = Script(
        turns=[Turn("the real turn")], title="Parser state machine", summary="we talked"
    )
    async with open_fake_model(script) as model:
        probe_resp = await post(model, probe)
        title_events = (await post(model, title_body)).events()
        compact_events = (await post(model, compact)).events()
        side_resp = await post(model, side)
        turn_events = (await post(model, turn_body())).events()
    message = probe_resp.json()
    assert message["model"] == "claude-haiku-4-5"
    assert message["stop_reason"] == "max_tokens"
    assert orjson.loads(streamed_text(title_events)) == {"title": "Parser state machine"}
    assert "<summary>\nwe talked\n</summary>" in streamed_text(compact_events)
    assert orjson.loads(side_resp.json()["content"][0]["text"]) == {
        "ok": False,
        "n": 0,
        "tags": [],
        "kind": "a",
    }
    assert streamed_text(turn_events) == "the real turn"
    assert [(r.kind, r.turn_index) for r in model.requests] == [
        ("probe", None),
        ("title", None),
        ("compact", None),
        ("aux", None),
        ("turn", 0),
    ]


async def test_count_tokens():
    async with open_fake_model([Turn("x")]) as model:
        resp = await request(
            model, "POST", "/v1/messages/count_tokens?beta=true", turn_body(stream=False)
        )
    assert resp.status == 200
    assert resp.json()["input_tokens"] > 10
    assert model.requests[0].kind == "count_tokens"
    assert model.pending_steps() == [Turn("x")]


# ---- sessions ------------------------------------------------------------------------------


async def test_session_prefix_selects_script():
    async with open_fake_model(["default one", "default two"]) as model:
        url_a = model.session_base_url("a", ["A1", "A2"])
        url_b = model.session_base_url("b-2.x", [Turn("B1")])
        assert url_a == f"http://127.0.0.1:{model.port}/s/a"
        assert model.session_base_url("a") == url_a
        got = []
        for prefix in ["/s/a", "", "/s/b-2.x", "/s/a", ""]:
            got.append(
                (await post(model, turn_body(stream=False), prefix=prefix)).json()["content"][0][
                    "text"
                ]
            )
        missing = await post(model, turn_body(), prefix="/s/nope")
        with pytest.raises(ValueError, match="no script"):
            model.session_base_url("unknown")
        with pytest.raises(ValueError, match="invalid session name"):
            model.session_base_url("a/b", ["x"])
    assert url_b.endswith("/s/b-2.x")
    assert got == ["A1", "default one", "B1", "A2", "default two"]
    assert [r.session for r in model.turn_requests("a")] == ["a", "a"]
    assert [r.path for r in model.turn_requests()] == ["/v1/messages?beta=true"] * 2
    assert missing.status == 404
    assert missing.json()["error"]["type"] == "not_found_error"


async def test_set_script_restarts():
    async with open_fake_model(["one"]) as model:
        await post(model, turn_body(stream=False))
        model.set_script(["fresh"])
        resp = await post(model, turn_body(stream=False))
    assert resp.json()["content"][0]["text"] == "fresh"


# ---- recording -----------------------------------------------------------------------------


async def test_recording_and_redaction():
    async with open_fake_model(["ok"]) as model:
        await post(
            model,
            turn_body("the prompt"),
            headers={
                "x-api-key": "sk-ant-secret",
                "authorization": "Bearer t",
                "anthropic-beta": "b1",
                "User-Agent": "claude-cli/2.1.329",
            },
        )
    [record] = model.requests
    assert isinstance(record, RecordedRequest)
    assert record.headers["x-api-key"] == "REDACTED"
    assert record.headers["authorization"] == "REDACTED"
    assert record.headers["anthropic-beta"] == "b1"
    assert record.headers["user-agent"] == "claude-cli/2.1.329"
    assert "sk-ant-secret" not in repr(record)
    assert record.body["messages"][0]["content"][0]["text"] == "the prompt"
    assert (record.kind, record.turn_index, record.stream, record.status) == ("turn", 0, True, 200)
    assert record.model == "claude-test-1"
    assert record.last_user_text == "the prompt"
    assert record.tool_names == ["Bash"]
    assert record.system_text == "You are a Claude agent."


async def test_recorded_views_for_tool_results():
    record = RecordedRequest(
        "POST", "/v1/messages", None, {}, body=turn_body(messages=tool_result_messages("out"))
    )
    assert record.has_tool_result
    assert record.last_tool_result == "out"
    assert record.last_user_text == ""
    assert record.tool_results[0]["tool_use_id"] == "toolu_1"
    assert record.tool_uses[0]["name"] == "Bash"
    blocks = {
        "role": "user",
        "content": [
            {
                "type": "tool_result",
                "tool_use_id": "t",
                "content": [
                    {"type": "text", "text": "a"},
                    {"type": "image"},
                    {"type": "text", "text": "b<system-reminder>r</system-reminder>"},
                ],
            }
        ],
    }
    record = RecordedRequest("POST", "/", None, {}, body={"messages": [blocks]})
    assert record.last_tool_result == "a\nb"
    empty = RecordedRequest("POST", "/", None, {}, body=None)
    assert (empty.model, empty.messages, empty.last_tool_result, empty.has_tool_result) == (
        None,
        [],
        None,
        False,
    )


async def test_client_disconnect_mid_stream_is_recorded():
    async with open_fake_model([Turn("a long answer " * 20, delay=0.05, chunk_size=4)]) as model:
        conn = await Conn.open(model)
        await conn.send(
            b"POST /v1/messages HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: %d\r\n\r\n%s"
            % (len(orjson.dumps(turn_body())), orjson.dumps(turn_body()))
        )
        while b"content_block_delta" not in conn.buf:
            await conn._fill()
        await conn.aclose()
        with trio.fail_after(5):
            record = await model.wait_for_request(lambda r: r.disconnected)
    assert record is model.requests[0]
    assert record.status == 200
    assert not record.completed


async def test_script_exhaustion_never_hangs():
    async with open_fake_model([]) as model:
        with trio.fail_after(5):
            events = (await post(model, turn_body())).events()
            message = (await post(model, turn_body(stream=False))).json()
    assert streamed_text(events) == EXHAUSTED_TEXT
    assert events[-2]["delta"]["stop_reason"] == "end_turn"
    assert message["content"] == [{"type": "text", "text": EXHAUSTED_TEXT}]
    assert [(r.exhausted, r.turn_index, r.kind) for r in model.requests] == [
        (True, None, "turn")
    ] * 2


async def test_wait_for_request():
    got: list[RecordedRequest] = []
    async with open_fake_model(["a", "b"]) as model:
        with trio.fail_after(5):
            async with trio.open_nursery() as nursery:

                async def waiter() -> None:
                    got.append(
                        await model.wait_for_request(lambda r: r.turn_index == 1 and r.completed)
                    )

                nursery.start_soon(waiter)
                await post(model, turn_body())
                await trio.testing.wait_all_tasks_blocked()
                assert got == []
                await post(model, turn_body())
        assert got[0] is model.requests[1]
        assert got[0].completed
        assert await model.wait_for_request() is model.requests[0]


# ---- bad requests and protocol ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "target", "body", "status", "error_type"),
    [
        ("POST", "/v1/messages", b"{not json", 400, "invalid_request_error"),
        ("POST", "/v1/messages", b"[1, 2]", 400, "invalid_request_error"),
        ("POST", "/v1/messages", b'{"model": "m"}', 400, "invalid_request_error"),
        ("POST", "/v1/messages", b'{"messages": []}', 400, "invalid_request_error"),
        ("GET", "/v1/models", None, 404, "not_found_error"),
        ("GET", "/", None, 404, "not_found_error"),
        ("POST", "/v1/complete", b"{}", 404, "not_found_error"),
        ("GET", "/v1/messages", None, 405, "invalid_request_error"),
        ("DELETE", "/s/x/v1/messages", None, 405, "invalid_request_error"),
    ],
)
async def test_bad_requests_get_anthropic_errors(method, target, body, status, error_type):
    async with open_fake_model(["unused"]) as model:
        model.session_base_url("x", [])
        resp = await request(model, method, target, body)
    assert resp.status == status
    payload = resp.json()
    assert payload["type"] == "error"
    assert payload["error"]["type"] == error_type
    assert payload["error"]["message"]
    assert model.requests[0].kind == "invalid"
    assert model.requests[0].status == status
    assert model.pending_steps() == [Turn("unused")]


@pytest.mark.parametrize(
    "raw",
    [
        b"NONSENSE\r\n\r\n",
        b"POST /v1/messages HTTP/2.0\r\n\r\n",
        b"POST /v1/messages HTTP/1.1\r\nbad header\r\n\r\n",
        b"POST /v1/messages HTTP/1.1\r\ncontent-length: nope\r\n\r\n",
        b"POST /v1/messages HTTP/1.1\r\ntransfer-encoding: gzip\r\n\r\n",
        b"POST /v1/messages HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
    ],
)
async def test_malformed_http_is_rejected_and_closed(raw):
    async with open_fake_model([]) as model:
        conn = await Conn.open(model)
        await conn.send(raw)
        resp = await conn.read_response()
        assert not await conn._fill()  # the server closed the connection
        await conn.aclose()
    assert resp.status in (400, 501, 505)
    assert resp.headers["connection"] == "close"
    assert resp.json()["type"] == "error"
    assert model.requests[0].kind == "invalid"


async def test_head_keep_alive_chunked_body_and_connection_close():
    async with open_fake_model(["one", "two"]) as model:
        conn = await Conn.open(model)
        head = await conn.request("HEAD", "/api/hello")
        assert head.status == 200 and head.headers["content-length"] == "0"
        raw = orjson.dumps(turn_body(stream=False))
        chunked = b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (10, raw[:10], len(raw) - 10, raw[10:])
        await conn.send(
            b"POST /v1/messages HTTP/1.1\r\nhost: 127.0.0.1\r\ntransfer-encoding: chunked\r\n"
            b"expect: 100-continue\r\n\r\n" + chunked
        )
        cont = await conn.read_response(head_only=True)
        assert cont.status == 100
        first = await conn.read_response()
        assert first.json()["content"][0]["text"] == "one"
        second = await conn.request(
            "POST", "/v1/messages", turn_body(stream=False), headers={"connection": "close"}
        )
        assert second.headers["connection"] == "close"
        assert not await conn._fill()
        await conn.aclose()
    assert second.json()["content"][0]["text"] == "two"
    assert [r.kind for r in model.requests] == ["head", "turn", "turn"]


async def test_pipelined_requests_are_answered_in_order():
    async with open_fake_model(["p1", "p2"]) as model:
        conn = await Conn.open(model)
        raw = orjson.dumps(turn_body())
        head = b"POST /v1/messages HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: %d\r\n\r\n"
        one = head % len(raw) + raw
        await conn.send(one + one)
        texts = [streamed_text((await conn.read_response()).events()) for _ in range(2)]
        await conn.aclose()
    assert texts == ["p1", "p2"]


async def test_connect_is_refused_and_recorded():
    async with open_fake_model([]) as model:
        conn = await Conn.open(model)
        auth = base64.b64encode(b"my-session:x").decode()
        await conn.send(
            b"CONNECT api.anthropic.com:443 HTTP/1.1\r\nHost: api.anthropic.com:443"
            b"\r\nProxy-Authorization: Basic " + auth.encode() + b"\r\n\r\n"
        )
        resp = await conn.read_response()
        await conn.aclose()
    assert resp.status == 403
    [record] = model.requests
    assert (record.kind, record.path, record.session) == (
        "connect",
        "api.anthropic.com:443",
        "my-session",
    )
    assert record.headers["proxy-authorization"] == "REDACTED"


# ---- concurrency and timing ----------------------------------------------------------------


async def test_fifty_concurrent_streams_complete():
    async with open_fake_model(
        [Turn("concurrent {last_user_text}", repeat=True, delay=0.01, chunk_size=3)]
    ) as model:
        results: dict[int, str] = {}

        async def one(i: int) -> None:
            resp = await post(model, turn_body(f"n{i}"))
            results[i] = streamed_text(resp.events())

        with trio.fail_after(30):
            async with trio.open_nursery() as nursery:
                for i in range(50):
                    nursery.start_soon(one, i)
    assert results == {i: f"concurrent n{i}" for i in range(50)}
    assert len(model.requests) == 50
    assert not any(r.disconnected for r in model.requests)


async def test_delay_per_event(autojump_clock):
    async with open_fake_model([Turn("abcdef", delay=2.0, chunk_size=2, ping=False)]) as model:
        conn = await Conn.open(model)
        raw = orjson.dumps(turn_body())
        start = trio.current_time()
        await conn.send(
            b"POST /v1/messages HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: %d\r\n\r\n%s"
            % (len(raw), raw)
        )
        resp = await conn.read_response()
        elapsed = trio.current_time() - start
        await conn.aclose()
    # message_start, block start, 3 deltas, block stop, message_delta, message_stop
    assert len(resp.events()) == 8
    assert elapsed == pytest.approx(16.0, abs=0.5)


async def test_serve_with_nursery_start():
    async with trio.open_nursery() as nursery:
        model = await nursery.start(serve_fake_model, ["hello"])
        assert isinstance(model, FakeModel)
        assert model.base_url == f"http://127.0.0.1:{model.port}"
        resp = await post(model, turn_body(stream=False))
        nursery.cancel_scope.cancel()
    assert resp.json()["content"][0]["text"] == "hello"


async def test_open_fake_model_propagates_body_errors_unwrapped():
    with pytest.raises(KeyError, match="boom"):
        async with open_fake_model([]) as model:
            await post(model, turn_body())
            raise KeyError("boom")
    with trio.move_on_after(0.01) as scope:
        async with open_fake_model([]):
            await trio.sleep_forever()
    assert scope.cancelled_caught


async def test_cli_env():
    async with open_fake_model([]) as model:
        model.session_base_url("s1", [])
        env = model.cli_env("s1")
        plain = model.cli_env(catch_egress=False)
        with pytest.raises(ValueError):
            model.cli_env("missing")
    assert env["ANTHROPIC_BASE_URL"] == f"{model.base_url}/s/s1"
    assert env["HTTPS_PROXY"] == f"http://s1:x@127.0.0.1:{model.port}"
    assert "127.0.0.1" in env["NO_PROXY"]
    assert env["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] == "1"
    assert plain["ANTHROPIC_BASE_URL"] == model.base_url
    assert "HTTPS_PROXY" not in plain
