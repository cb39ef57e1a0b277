"""What an SDK user sees when the model API misbehaves: the real CLI, a fake or hostile API.

HTTP errors on the first turn and mid-conversation, retries, a stream that fails, an API that
accepts the request and never answers (ended by ``stall_timeout``, ``interrupt()``, a caller's
deadline, ``aclose()``), a connection reset mid-stream, malformed SSE, a response that is not
HTTP, huge answers and huge error bodies, tool calls the CLI cannot run, and credentials an API
echoes back. The scripted fake model (``claude_env``) covers what it can; a tiny hostile HTTP
server on 127.0.0.1 below covers the rest, pointed at with ``ANTHROPIC_BASE_URL`` as the test
environment points the CLI at the fake model.

Each ``trio.fail_after`` / ``move_on_after`` here is a hang detector with generous bounds, never
a timing assertion. ``CLAUDE_CODE_MAX_RETRIES=0`` keeps the CLI from retrying with backoffs.
"""

from __future__ import annotations

import json
import logging
import socket
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import trio

import trio_claude as tc
from trio_claude.testing import ClaudeTestEnv, HTTPError, Match, StreamError, Turn

NO_RETRIES = {"CLAUDE_CODE_MAX_RETRIES": "0"}

#: A model call that is accepted (the TCP connection is taken) and never answered.
HANG = Turn("never sent", delay=600)

#: The bound of every hang detector: a session starts in well under a second.
HANG_GUARD = 20

#: How long a receiver may wait with ``stall_timeout=1`` before it counts as hung.
STALL_GUARD = 8


# ------------------------------------------------------------------ a hostile model API


def sse(payload: dict[str, Any]) -> bytes:
    return b"event: %s\ndata: %s\n\n" % (payload["type"].encode(), json.dumps(payload).encode())


def text_events(text: str) -> list[dict[str, Any]]:
    """A complete streamed text answer, as the Messages API sends it."""
    return [
        {
            "type": "message_start",
            "message": {
                "id": "msg_hostile",
                "type": "message",
                "role": "assistant",
                "model": "claude-hostile",
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": 1, "output_tokens": 1},
            },
        },
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}},
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": 5},
        },
        {"type": "message_stop"},
    ]


SSE_HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
    b"connection: close\r\n\r\n"
)

Handler = Callable[[trio.SocketStream, dict[str, str]], Awaitable[None]]


async def json_response(stream: trio.SocketStream, status: int, body: Any) -> None:
    data = json.dumps(body).encode()
    head = (
        f"HTTP/1.1 {status} Error\r\ncontent-type: application/json\r\n"
        f"content-length: {len(data)}\r\nconnection: close\r\n\r\n"
    )
    await stream.send_all(head.encode() + data)


def reset_on_close(stream: trio.SocketStream) -> None:
    """Makes closing the connection a TCP reset (SO_LINGER 0), not an orderly FIN."""
    stream.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00" * 2)


class HostileAPI:
    """An HTTP server on 127.0.0.1 that answers every request with ``handler``.

    ``handler(stream, headers)`` gets the connection and the request's headers (lower-cased
    names), once the request body has been read; the connection is closed after it returns.
    """

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[dict[str, str]] = []
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def serve(self, *, task_status: trio.TaskStatus[HostileAPI]) -> None:
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        self.port = listeners[0].socket.getsockname()[1]
        task_status.started(self)
        await trio.serve_listeners(self._connection, listeners)

    async def _connection(self, stream: trio.SocketStream) -> None:
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                chunk = await stream.receive_some(65536)
                if not chunk:
                    return
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
            while len(body) < length:
                chunk = await stream.receive_some(65536)
                if not chunk:
                    return
                body += chunk
            self.requests.append(headers)
            await self.handler(stream, headers)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        finally:
            await stream.aclose()


async def hostile_session(
    claude_env: ClaudeTestEnv,
    handler: Handler,
    prompt: str = "hello",
    *,
    env: dict[str, str] | None = None,
) -> tuple[BaseException | None, str, HostileAPI]:
    """One ``run()`` against a hostile API: (what it raised, the session's stderr_tail, API)."""
    raised: BaseException | None = None
    async with trio.open_nursery() as nursery:
        api: HostileAPI = await nursery.start(HostileAPI(handler).serve)
        opts = claude_env.options(
            [], env={"ANTHROPIC_BASE_URL": api.url, **NO_RETRIES, **(env or {})}
        )
        with trio.fail_after(HANG_GUARD):
            async with tc.open_session(opts) as session:
                try:
                    await session.run(prompt)
                except tc.ClaudeSDKError as exc:
                    raised = exc
                stderr_tail = session.stderr_tail
        nursery.cancel_scope.cancel()
    return raised, stderr_tail, api


# ------------------------------------------------------------------------ HTTP errors


async def test_http_errors_on_the_first_turn_and_mid_conversation_keep_the_session(
    claude_env: ClaudeTestEnv,
) -> None:
    """Each status is a typed ``ResultError`` of its turn only: the next turn is answered."""
    statuses = (401, 403, 429, 500, 529)
    script: list[HTTPError | Turn] = []
    for status in statuses:
        script += [
            HTTPError(status, message=f"refused with {status}"),
            Turn(f"fine after {status}"),
        ]
    opts = claude_env.options(script, env=NO_RETRIES)
    with trio.fail_after(HANG_GUARD * 2):
        async with tc.open_session(opts) as session:
            for status in statuses:
                with pytest.raises(tc.ResultError) as caught:
                    await session.run(f"this one fails with {status}")
                error = caught.value
                assert not isinstance(error, tc.TurnInterruptedError)
                assert error.api_error_status == status
                assert error.terminal_reason == "api_error"
                assert f"HTTP {status}" in str(error)
                assert error.result_message.is_error
                turn = await session.run("and this one?")
                assert turn.text == f"fine after {status}"
            assert not session.closed
    assert [r.status for r in claude_env.model.turn_requests("t1")] == [
        code for status in statuses for code in (status, 200)
    ]


async def test_retries_are_visible_as_api_retry_messages(claude_env: ClaudeTestEnv) -> None:
    retry_now = {"retry-after": "0"}
    script: list[HTTPError | Turn] = [
        HTTPError(429, headers=retry_now),  # type: ignore[arg-type]  # converter=dict
        HTTPError(529, headers=retry_now),  # type: ignore[arg-type]
        Turn("third time lucky"),
    ]
    opts = claude_env.options(script, env={"CLAUDE_CODE_MAX_RETRIES": "3"})
    with trio.fail_after(HANG_GUARD * 2):
        turn = await tc.ask("hello", options=opts)
    assert turn.text == "third time lucky"
    retries = [m for m in turn.messages if isinstance(m, tc.ApiRetryMessage)]
    assert [(r.attempt, r.error_status) for r in retries] == [(1, 429), (2, 529)]
    assert all(r.max_retries == 3 for r in retries)


async def test_a_stream_that_errors_midway_is_a_result_error_not_a_hang(
    claude_env: ClaudeTestEnv,
) -> None:
    """The CLI retries an SSE ``error`` without streaming; that fails too: one typed error."""
    script = [StreamError(after_events=3, blocks=["partial answer"], repeat=True)]
    opts = claude_env.options(script, env=NO_RETRIES)
    with trio.fail_after(HANG_GUARD), pytest.raises(tc.ResultError) as caught:
        await tc.ask("hello", options=opts)
    assert caught.value.api_error_status == 529
    assert caught.value.terminal_reason == "api_error"
    assert [(r.stream, r.status) for r in claude_env.model.turn_requests("t1")] == [
        (True, 200),
        (False, 529),
    ]


async def test_a_huge_api_error_body_makes_a_bounded_error_message(
    claude_env: ClaudeTestEnv,
) -> None:
    """A gateway answering 500 with a megabyte of text (an HTML page, a stack trace).

    The CLI quotes it whole in its result; ``ResultError.result`` keeps the CLI's words, but the
    exception's message is what ends up in logs, tracebacks and error trackers: it must be cut,
    as ``ProcessError`` cuts its stderr tail and ``CLIJSONDecodeError`` its line.
    """
    body = "upstream trace line\n" * 50_000  # 1 MB
    opts = claude_env.options([HTTPError(500, message=body, repeat=True)], env=NO_RETRIES)
    with trio.fail_after(HANG_GUARD), pytest.raises(tc.ResultError) as caught:
        await tc.ask("hello", options=opts)
    error = caught.value
    assert error.api_error_status == 500
    assert error.result is not None and body.strip() in error.result  # the data stays whole
    message = str(error)
    assert message.startswith("Claude Code returned an error result: ")
    assert "the model API refused the request: HTTP 500" in message
    assert len(message) < 20_000, f"a {len(message):,}-character exception message"


# --------------------------------------------------------- an API that never answers


async def test_stall_timeout_ends_a_hung_model_call_in_run(claude_env: ClaudeTestEnv) -> None:
    opts = claude_env.options([HANG, Turn("after the stall")], env=NO_RETRIES, stall_timeout=1)
    with trio.fail_after(HANG_GUARD):
        async with tc.open_session(opts) as session:
            with pytest.raises(tc.StallTimeoutError):
                await session.run("hang please")
            turn = await session.run("still there?")
            assert turn.text == "after the stall"
    with trio.fail_after(HANG_GUARD):
        await claude_env.model.wait_for_request(lambda r: r.disconnected)


async def test_stall_timeout_ends_a_hung_model_call_in_the_query_iterator(
    claude_env: ClaudeTestEnv,
) -> None:
    opts = claude_env.options([HANG], env=NO_RETRIES, stall_timeout=1)
    seen: list[Any] = []
    with trio.fail_after(HANG_GUARD), pytest.raises(tc.StallTimeoutError):
        async for message in tc.query("hang please", options=opts):
            seen.append(message)
    assert not any(isinstance(m, tc.AssistantMessage) for m in seen)


async def test_stall_timeout_ends_a_hung_model_call_in_the_client_receive_response(
    claude_env: ClaudeTestEnv,
) -> None:
    """``ClaudeSDKClient`` (the official client): its ``receive_response()`` must honour
    ``stall_timeout`` as ``Session.receive_response()`` does; it waited forever."""
    opts = claude_env.options([HANG, Turn("after the stall")], env=NO_RETRIES, stall_timeout=1)
    with trio.fail_after(HANG_GUARD * 2):
        async with tc.ClaudeSDKClient(opts) as client:
            await client.query("hang please")
            with trio.move_on_after(STALL_GUARD) as hung:  # the stall is 1 s
                with pytest.raises(tc.StallTimeoutError):
                    async for _ in client.receive_response():
                        pass
            assert not hung.cancelled_caught, "stall_timeout=1 never fired: receive_response hung"
            await client.query("still there?")
            texts = [
                block.text
                async for message in client.receive_response()
                if isinstance(message, tc.AssistantMessage)
                for block in message.content
                if isinstance(block, tc.TextBlock)
            ]
            assert texts == ["after the stall"]


async def test_stall_timeout_ends_a_hung_model_call_in_session_receive_messages(
    claude_env: ClaudeTestEnv,
) -> None:
    """``receive_messages()`` waiting during an open turn is a receiving call too
    (reliability.md: "while a turn is open and a receiving call waits")."""
    opts = claude_env.options([HANG], env=NO_RETRIES, stall_timeout=1)
    with trio.fail_after(HANG_GUARD * 2):
        async with tc.open_session(opts) as session:
            await session.send("hang please")
            with trio.move_on_after(STALL_GUARD) as hung:
                with pytest.raises(tc.StallTimeoutError):
                    async for _ in session.receive_messages():
                        pass
            assert not hung.cancelled_caught, "stall_timeout=1 never fired: receive_messages hung"


async def test_stall_timeout_ends_a_hung_model_call_in_query_with_streamed_input(
    claude_env: ClaudeTestEnv,
) -> None:
    """``async with query(<async iterable>)``: the official streaming-input form."""

    async def prompts() -> AsyncIterator[str]:
        yield "hang please"

    opts = claude_env.options([HANG], env=NO_RETRIES, stall_timeout=1)
    with trio.fail_after(HANG_GUARD * 2):
        with trio.move_on_after(STALL_GUARD) as hung, pytest.raises(tc.StallTimeoutError):
            async with tc.query(prompts(), options=opts) as messages:
                async for _ in messages:
                    pass
        assert not hung.cancelled_caught, "stall_timeout=1 never fired: the query stream hung"


async def test_interrupt_ends_a_hung_model_call(claude_env: ClaudeTestEnv) -> None:
    opts = claude_env.options([HANG, Turn("after the interrupt")], env=NO_RETRIES)
    with trio.fail_after(HANG_GUARD):
        async with tc.open_session(opts) as session, trio.open_nursery() as nursery:

            async def interrupt_once_the_model_is_called() -> None:
                await claude_env.model.wait_for_request(lambda r: r.kind == "turn")
                await session.interrupt()

            nursery.start_soon(interrupt_once_the_model_is_called)
            with pytest.raises(tc.TurnInterruptedError) as caught:
                await session.run("hang please")
            assert caught.value.terminal_reason == "aborted_streaming"
            turn = await session.run("still there?")
            assert turn.text == "after the interrupt"


async def test_a_callers_deadline_ends_a_hung_model_call(claude_env: ClaudeTestEnv) -> None:
    opts = claude_env.options([HANG, Turn("after the deadline")], env=NO_RETRIES)
    with trio.fail_after(HANG_GUARD):
        async with tc.open_session(opts) as session:
            with trio.move_on_after(2) as deadline:
                await session.run("hang please")
            assert deadline.cancelled_caught
            turn = await session.run("still there?")
            assert turn.text == "after the deadline"
        await claude_env.model.wait_for_request(lambda r: r.disconnected)


async def test_aclose_from_another_task_ends_a_hung_model_call(claude_env: ClaudeTestEnv) -> None:
    opts = claude_env.options([HANG], env=NO_RETRIES)
    with trio.fail_after(HANG_GUARD):
        async with tc.open_session(opts) as session, trio.open_nursery() as nursery:

            async def close_once_the_model_is_called() -> None:
                await claude_env.model.wait_for_request(lambda r: r.kind == "turn")
                await session.aclose()

            nursery.start_soon(close_once_the_model_is_called)
            with pytest.raises(tc.SessionClosedError):
                await session.run("hang please")
        assert session.closed
        assert session.returncode is not None
    assert claude_env.leaked_processes(settle=2) == []


# ---------------------------------------------------------------- a hostile model API


async def test_a_connection_reset_mid_stream_is_a_result_error(claude_env: ClaudeTestEnv) -> None:
    async def reset_midway(stream: trio.SocketStream, headers: dict[str, str]) -> None:
        events = text_events("half an answer")
        await stream.send_all(SSE_HEAD + b"".join(sse(e) for e in events[:3]))
        await trio.sleep(0.1)
        reset_on_close(stream)

    raised, _, api = await hostile_session(claude_env, reset_midway)
    assert isinstance(raised, tc.ResultError), raised
    assert raised.terminal_reason == "api_error"
    assert len(api.requests) >= 1


async def test_malformed_sse_is_a_result_error(claude_env: ClaudeTestEnv) -> None:
    async def malformed(stream: trio.SocketStream, headers: dict[str, str]) -> None:
        first = sse(text_events("x")[0])
        await stream.send_all(SSE_HEAD + first + b"event: content_block_start\ndata: {nope\n\n")

    raised, _, _ = await hostile_session(claude_env, malformed)
    assert isinstance(raised, tc.ResultError), raised
    assert raised.terminal_reason == "api_error"


async def test_an_answer_that_is_not_http_is_a_result_error(claude_env: ClaudeTestEnv) -> None:
    async def not_http(stream: trio.SocketStream, headers: dict[str, str]) -> None:
        await stream.send_all(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")

    raised, _, _ = await hostile_session(claude_env, not_http)
    assert isinstance(raised, tc.ResultError), raised
    assert raised.terminal_reason == "api_error"


@pytest.mark.parametrize("variable", ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"])
async def test_a_credential_the_api_echoes_is_masked(
    claude_env: ClaudeTestEnv, caplog: pytest.LogCaptureFixture, variable: str
) -> None:
    """A gateway quoting the key it was sent, in an error body and in broken SSE (which the CLI
    copies to stderr): never in the error's text, its traceback, ``stderr_tail`` or the logs."""
    key = "gwkey-Q7x9Lm2Pz4Rt8Vb1"  # not shaped like a key: only masking by value finds it
    credentials = {"ANTHROPIC_API_KEY": "", "ANTHROPIC_AUTH_TOKEN": "", variable: key}
    caplog.set_level(logging.DEBUG)

    def sent(headers: dict[str, str]) -> str:
        return headers.get("x-api-key") or headers.get("authorization", "")

    async def refuse(stream: trio.SocketStream, headers: dict[str, str]) -> None:
        message = f"invalid credential {sent(headers)} for this gateway"
        error = {"type": "authentication_error", "message": message}
        await json_response(stream, 401, {"type": "error", "error": error})

    async def broken_sse(stream: trio.SocketStream, headers: dict[str, str]) -> None:
        bad = f"event: content_block_start\ndata: {{bad {sent(headers)}\n\n".encode()
        await stream.send_all(SSE_HEAD + sse(text_events("x")[0]) + bad)

    for handler in (refuse, broken_sse):
        raised, stderr_tail, api = await hostile_session(claude_env, handler, env=credentials)
        assert key in sent(api.requests[0])  # the API really had it to echo
        assert isinstance(raised, tc.ResultError), raised
        shown = [str(raised), repr(raised), "".join(traceback.format_exception(raised))]
        shown += [raised.stderr, stderr_tail, caplog.text]
        assert not [text for text in shown if key in text]
    assert "***" in stderr_tail  # the broken SSE's echo was there, masked


async def test_a_tool_call_the_cli_cannot_run_comes_back_as_an_error_result_block(
    claude_env: ClaudeTestEnv,
) -> None:
    """A model calling an unknown tool, or Bash with input that is not JSON: the turn goes on."""
    calls = {"n": 0}

    async def bad_tool_calls(stream: trio.SocketStream, headers: dict[str, str]) -> None:
        calls["n"] += 1
        name, partial_json = [("NoSuchTool", '{"a": 1}'), ("Bash", '{"command": "echo hi')][
            (calls["n"] - 1) // 2 % 2
        ]
        if calls["n"] % 2 == 0:
            await stream.send_all(SSE_HEAD + b"".join(sse(e) for e in text_events("carried on")))
            return
        start, *_ = text_events("")
        block = {"type": "tool_use", "id": f"toolu_{calls['n']}", "name": name, "input": {}}
        events = [
            start,
            {"type": "content_block_start", "index": 0, "content_block": block},
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "input_json_delta", "partial_json": partial_json},
            },
            {"type": "content_block_stop", "index": 0},
            {
                "type": "message_delta",
                "delta": {"stop_reason": "tool_use", "stop_sequence": None},
                "usage": {"output_tokens": 5},
            },
            {"type": "message_stop"},
        ]
        await stream.send_all(SSE_HEAD + b"".join(sse(e) for e in events))

    async with trio.open_nursery() as nursery:
        api: HostileAPI = await nursery.start(HostileAPI(bad_tool_calls).serve)
        opts = claude_env.options(
            [], env={"ANTHROPIC_BASE_URL": api.url, **NO_RETRIES}, allowed_tools=["Bash"]
        )
        with trio.fail_after(HANG_GUARD):
            async with tc.open_session(opts) as session:
                for expected in ("No such tool", "could not be parsed as JSON"):
                    turn = await session.run("use a tool")
                    assert turn.text == "carried on"
                    results = [
                        block
                        for m in turn.messages
                        if isinstance(m, tc.UserMessage) and not isinstance(m.content, str)
                        for block in m.content
                        if isinstance(block, tc.ToolResultBlock)
                    ]
                    assert len(results) == 1 and results[0].is_error
                    assert expected in str(results[0].content)
        nursery.cancel_scope.cancel()


async def test_a_huge_answer_arrives_whole(claude_env: ClaudeTestEnv) -> None:
    text = "".join(f"{i:07d} " for i in range(375_000))  # 3 MB in one text block
    opts = claude_env.options([Turn(text, chunk_size=64_000)], env=NO_RETRIES)
    with trio.fail_after(HANG_GUARD * 2):
        turn = await tc.ask("say a lot", options=opts)
    assert turn.text == text


async def test_a_mid_conversation_error_does_not_leak_into_the_next_turn(
    claude_env: ClaudeTestEnv,
) -> None:
    """After a failed turn, the next turn's messages are its own (no stale error, no result)."""
    script: list[HTTPError | Turn] = [
        Turn("first"),
        HTTPError(500, match=Match(last_user_text_contains="second")),
        Turn("third"),
    ]
    opts = claude_env.options(script, env=NO_RETRIES)
    with trio.fail_after(HANG_GUARD):
        async with tc.open_session(opts) as session:
            assert (await session.run("first")).text == "first"
            with pytest.raises(tc.ResultError):
                await session.run("second")
            turn = await session.run("third")
    assert turn.text == "third"
    assert not [m for m in turn.messages if isinstance(m, tc.AssistantMessage) and m.error]
    assert sum(isinstance(m, tc.ResultMessage) for m in turn.messages) == 1
    assert not turn.result.is_error
