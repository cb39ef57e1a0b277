"""The fake model's HTTP/1.1 through h11: framing, keep-alive, pipelining, hang-ups, limits.

These go beyond tests/unit/test_fake_model.py to the cases a hand-written parser tends to get
wrong (requests split over many TCP writes, pipelining during an answer, chunk extensions and
trailers, RFC 9112's ``Host`` rule), and check that without h11 the error names the extra.
"""

from __future__ import annotations

import struct
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import orjson
import pytest
import trio
import trio.testing

from tests.unit.test_fake_model import Conn, streamed_text, turn_body
from trio_claude.testing import _fake_model_http
from trio_claude.testing._fake_model import HTTPError, Step, Turn, open_fake_model

REPO = Path(__file__).resolve().parents[2]


def post_head(length: int, *extra: str, version: str = "1.1") -> bytes:
    lines = [f"POST /v1/messages?beta=true HTTP/{version}", "host: 127.0.0.1", *extra]
    if length >= 0:
        lines.append(f"content-length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def body_bytes(**kw: Any) -> bytes:
    return orjson.dumps(turn_body(**kw))


async def send_trickled(conn: Conn, data: bytes, size: int) -> None:
    """Send ``data`` in ``size``-byte writes, letting the server read each one on its own."""
    for i in range(0, len(data), size):
        await conn.send(data[i : i + size])
        await trio.testing.wait_all_tasks_blocked()


async def assert_closed_by_server(conn: Conn) -> None:
    with trio.fail_after(5):
        assert not await conn._fill()
    await conn.aclose()


# ---- protocol errors h11 detects ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        # RFC 9112 section 3.2: an HTTP/1.1 request without Host (or with two) gets 400.
        (b"POST /v1/messages HTTP/1.1\r\ncontent-length: 2\r\n\r\n{}", "Host"),
        (b"GET / HTTP/1.1\r\nhost: a\r\nhost: b\r\n\r\n", "Host"),
        # header names are tokens: no parentheses, no space before the colon
        (b"GET / HTTP/1.1\r\nhost: a\r\nx(y): 1\r\n\r\n", "header"),
        (b"GET / HTTP/1.1\r\nhost: a\r\nx-y : 1\r\n\r\n", "header"),
        # conflicting lengths, and a length next to chunking
        (
            b"POST / HTTP/1.1\r\nhost: a\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n",
            "Content-Length",
        ),
        # a bare LF inside the request line
        (b"GET /a\nb HTTP/1.1\r\nhost: a\r\n\r\n", ""),
    ],
)
async def test_requests_h11_rejects_get_400_and_a_close(raw, reason):
    async with open_fake_model(["unused"]) as model:
        conn = await Conn.open(model)
        await conn.send(raw)
        resp = await conn.read_response()
        await assert_closed_by_server(conn)
    assert resp.status == 400
    assert resp.headers["connection"] == "close"
    assert resp.json()["error"]["type"] == "invalid_request_error"
    [record] = model.requests
    assert (record.kind, record.status, record.completed) == ("invalid", 400, True)
    assert reason.lower() in (record.error or "").lower()
    assert model.pending_steps() == [Turn("unused")]


async def test_bad_chunking_is_rejected_and_the_head_is_recorded():
    async with open_fake_model([]) as model:
        conn = await Conn.open(model)
        await conn.send(
            b"POST /s/x/v1/messages HTTP/1.1\r\nhost: a\r\nx-api-key: secret\r\n"
            b"transfer-encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n"
        )
        resp = await conn.read_response()
        await assert_closed_by_server(conn)
    assert resp.status == 400
    [record] = model.requests
    assert (record.method, record.path, record.kind) == ("POST", "/s/x/v1/messages", "invalid")
    assert record.headers["x-api-key"] == "REDACTED"
    assert "chunk" in (record.error or "")


async def test_other_http_versions_get_505():
    async with open_fake_model([]) as model:
        conn = await Conn.open(model)
        await conn.send(b"GET / HTTP/1.2\r\nhost: a\r\n\r\n")
        resp = await conn.read_response()
        await assert_closed_by_server(conn)
    assert resp.status == 505
    assert model.requests[0].path == "/"


async def test_an_oversized_head_gets_431(monkeypatch):
    monkeypatch.setattr(_fake_model_http, "MAX_HEAD_BYTES", 1024)
    async with open_fake_model([]) as model:
        # in one write (h11 parses the whole head), and trickled: h11's receive buffer limit
        # (the last write takes the unfinished head over 1024 bytes)
        for trickle in (False, True):
            conn = await Conn.open(model)
            if trickle:
                start = b"GET / HTTP/1.1\r\nhost: a\r\nx-big: "
                await send_trickled(conn, start + b"a" * (1030 - len(start)), 100)
            else:
                await conn.send(b"GET / HTTP/1.1\r\nhost: a\r\nx-big: " + b"a" * 2000 + b"\r\n\r\n")
            resp = await conn.read_response()
            await assert_closed_by_server(conn)
            assert resp.status == 431
    assert [r.status for r in model.requests] == [431, 431]


async def test_an_oversized_body_gets_413_before_it_is_read(monkeypatch):
    monkeypatch.setattr(_fake_model_http, "MAX_BODY_BYTES", 100)
    async with open_fake_model([]) as model:
        conn = await Conn.open(model)
        await conn.send(post_head(1000))  # the body never comes: the head is enough
        declared = await conn.read_response()
        await assert_closed_by_server(conn)
        conn = await Conn.open(model)
        await conn.send(post_head(-1, "transfer-encoding: chunked") + b"40\r\n" + b"x" * 64)
        await conn.send(b"\r\n40\r\n" + b"x" * 64 + b"\r\n")
        chunked = await conn.read_response()
        await assert_closed_by_server(conn)
    assert (declared.status, chunked.status) == (413, 413)
    assert declared.json()["error"]["type"] == "request_too_large"


# ---- framing ----------------------------------------------------------------------------------


async def test_a_request_split_into_one_byte_writes():
    async with open_fake_model(["split answer"]) as model:
        conn = await Conn.open(model)
        raw = body_bytes(text="x" * 300)
        await send_trickled(conn, post_head(len(raw)) + raw, 1)
        resp = await conn.read_response()
        await conn.aclose()
    assert streamed_text(resp.events()) == "split answer"
    assert model.requests[0].body == turn_body(text="x" * 300)


async def test_a_chunked_body_with_extensions_and_trailers_in_tiny_writes():
    async with open_fake_model(["chunked answer"]) as model:
        conn = await Conn.open(model)
        raw = body_bytes(stream=False)
        pieces = [raw[i : i + 17] for i in range(0, len(raw), 17)]
        chunked = b"".join(b"%x;ext=%d\r\n%s\r\n" % (len(p), i, p) for i, p in enumerate(pieces))
        chunked += b"0\r\nx-trailer: done\r\n\r\n"
        await send_trickled(conn, post_head(-1, "transfer-encoding: chunked") + chunked, 3)
        resp = await conn.read_response()
        # the connection stays usable
        again = await conn.request("POST", "/v1/messages", turn_body(stream=False))
        await conn.aclose()
    assert resp.json()["content"][0]["text"] == "chunked answer"
    assert model.requests[0].body == turn_body(stream=False)
    assert again.status == 200 and model.requests[1].exhausted


async def test_expect_100_continue_before_the_body_is_sent():
    async with open_fake_model(["after continue"]) as model:
        conn = await Conn.open(model)
        raw = body_bytes(stream=False)
        await conn.send(post_head(len(raw), "expect: 100-continue"))
        interim = await conn.read_response(head_only=True)
        assert interim.status == 100
        await conn.send(raw)
        resp = await conn.read_response()
        await conn.aclose()
    assert resp.json()["content"][0]["text"] == "after continue"


async def test_http_1_0_is_answered_then_closed():
    async with open_fake_model(["one", "two"]) as model:
        for stream in (True, False):
            conn = await Conn.open(model)
            raw = body_bytes(stream=stream)
            await conn.send(post_head(len(raw), "connection: keep-alive", version="1.0") + raw)
            resp = await conn.read_response()
            await assert_closed_by_server(conn)
            assert resp.headers["connection"] == "close"
            if stream:
                # no chunked coding for HTTP/1.0: the body ends with the connection
                assert "transfer-encoding" not in resp.headers
                assert streamed_text(resp.events()) == "one"
            else:
                assert resp.json()["content"][0]["text"] == "two"
    assert [r.completed for r in model.requests] == [True, True]


# ---- keep-alive and pipelining ------------------------------------------------------------------


async def test_many_pipelined_requests_in_one_write_are_answered_in_order():
    async with open_fake_model(["first", "second"]) as model:
        conn = await Conn.open(model)
        streamed, plain = body_bytes(), body_bytes(stream=False)
        await conn.send(
            b"HEAD /api/hello HTTP/1.1\r\nhost: a\r\n\r\n"
            + post_head(len(streamed))
            + streamed
            + b"POST /v1/messages/count_tokens HTTP/1.1\r\nhost: a\r\ncontent-length: %d\r\n\r\n"
            % len(plain)
            + plain
            + post_head(len(plain))
            + plain
            + b"GET /v1/models HTTP/1.1\r\nhost: a\r\n\r\n"
            + post_head(len(plain), "connection: close")
            + plain
        )
        head = await conn.read_response(head_only=True)
        first = await conn.read_response()
        tokens = await conn.read_response()
        second = await conn.read_response()
        missing = await conn.read_response()
        last = await conn.read_response()
        await assert_closed_by_server(conn)
    assert head.status == 200
    assert streamed_text(first.events()) == "first"
    assert tokens.json()["input_tokens"] > 0
    assert second.json()["content"][0]["text"] == "second"
    assert missing.status == 404
    assert last.headers["connection"] == "close" and last.status == 200
    assert [r.kind for r in model.requests] == [
        "head",
        "turn",
        "count_tokens",
        "turn",
        "invalid",
        "turn",
    ]
    assert not any(r.disconnected for r in model.requests)


async def test_a_request_pipelined_during_a_slow_answer_waits_for_it(autojump_clock):
    script = [Turn("slow " * 5, delay=1.0, chunk_size=5, ping=False), Turn("quick")]
    async with open_fake_model(script) as model:
        conn = await Conn.open(model)
        raw = body_bytes()
        await conn.send(post_head(len(raw)) + raw)
        while b"message_start" not in conn.buf:
            assert await conn._fill()
        # the next request arrives while the first answer is still being written
        await conn.send(post_head(len(raw)) + raw)
        first = await conn.read_response()
        second = await conn.read_response()
        with trio.fail_after(5):  # the client can have the last byte before the record is done
            await model.wait_for_request(lambda r: r.turn_index == 1 and r.completed)
        await conn.aclose()
    assert streamed_text(first.events()) == "slow " * 5
    assert streamed_text(second.events()) == "quick"
    assert [(r.turn_index, r.completed, r.disconnected) for r in model.requests] == [
        (0, True, False),
        (1, True, False),
    ]


# ---- hang-ups ------------------------------------------------------------------------------------


async def test_a_client_that_closes_mid_body_is_recorded_as_invalid():
    async with open_fake_model(["unused"]) as model:
        conn = await Conn.open(model)
        await conn.send(post_head(500) + b'{"model": "m", "mess')
        await trio.testing.wait_all_tasks_blocked()
        await conn.aclose()
        with trio.fail_after(5):
            record = await model.wait_for_request()
    assert (record.kind, record.status) == ("invalid", 400)
    assert model.pending_steps() == [Turn("unused")]


async def test_a_client_that_closes_before_a_delayed_answer_then_a_new_connection(
    autojump_clock,
):
    async with open_fake_model([Turn("late", delay=10.0), Turn("fresh")]) as model:
        conn = await Conn.open(model)
        raw = body_bytes(stream=False)
        await conn.send(post_head(len(raw)) + raw)
        await trio.testing.wait_all_tasks_blocked()
        start = trio.current_time()
        await conn.aclose()
        with trio.fail_after(5):
            gone = await model.wait_for_request(lambda r: r.disconnected)
        assert trio.current_time() - start < 5  # noticed at once, not after the delay
        conn = await Conn.open(model)
        resp = await conn.request("POST", "/v1/messages", turn_body(stream=False))
        await conn.aclose()
    assert (gone.turn_index, gone.completed) == (0, False)
    assert resp.json()["content"][0]["text"] == "fresh"


async def test_a_client_that_resets_mid_stream():
    async with open_fake_model([Turn("words " * 50, delay=0.02, chunk_size=3)]) as model:
        conn = await Conn.open(model)
        raw = body_bytes()
        await conn.send(post_head(len(raw)) + raw)
        while b"content_block_delta" not in conn.buf:
            assert await conn._fill()
        # SO_LINGER 0: close with RST instead of FIN
        conn.stream.setsockopt(
            trio.socket.SOL_SOCKET, trio.socket.SO_LINGER, struct.pack("ii", 1, 0)
        )
        await conn.aclose()
        with trio.fail_after(5):
            record = await model.wait_for_request(lambda r: r.disconnected)
        # the server carries on
        conn = await Conn.open(model)
        resp = await conn.request("POST", "/v1/messages", turn_body(stream=False))
        await conn.aclose()
    assert not record.completed
    assert resp.status == 200


async def test_a_scripted_header_h11_cannot_send_closes_the_connection_only():
    bad = {"retry-after": "0\r\nx-injected: 1"}
    script: list[Step] = [HTTPError(429, headers=bad), Turn("fine")]  # type: ignore[arg-type]
    async with open_fake_model(script) as model:
        refused = await Conn.open(model)
        raw = body_bytes(stream=False)
        await refused.send(post_head(len(raw)) + raw)
        await assert_closed_by_server(refused)
        conn = await Conn.open(model)
        resp = await conn.request("POST", "/v1/messages", turn_body(stream=False))
        await conn.aclose()
    assert b"x-injected" not in refused.buf
    assert "cannot send the scripted answer" in (model.requests[0].error or "")
    assert not model.requests[0].completed
    assert resp.json()["content"][0]["text"] == "fine"


# ---- without h11 ---------------------------------------------------------------------------------


def run_without_h11(code: str) -> subprocess.CompletedProcess[str]:
    script = "import sys\nsys.modules['h11'] = None  # as if the extra were not installed\n"
    return subprocess.run(
        [sys.executable, "-c", script + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        check=False,
    )


def test_without_h11_the_package_imports_and_the_fake_model_names_the_extra():
    proc = run_without_h11(
        """
        import trio
        import trio_claude.testing as testing
        from trio_claude.stores import MissingExtraError

        async def main():
            try:
                async with testing.open_fake_model([]):
                    raise AssertionError("started without h11")
            except MissingExtraError as exc:  # not wrapped in an exception group
                assert isinstance(exc, ImportError) and exc.extra == "testing"
                print(exc)
            async with trio.open_nursery() as nursery:
                try:
                    await nursery.start(testing.serve_fake_model, [])
                except MissingExtraError:
                    print("serve: MissingExtraError")

        trio.run(main)
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert "pip install 'trio-claude[testing]'" in proc.stdout
    assert "serve: MissingExtraError" in proc.stdout


def test_without_h11_the_offline_demo_says_what_to_install():
    proc = run_without_h11(
        """
        from trio_claude.__main__ import main
        sys.argv = ["trio-claude", "demo", "--fake", "--color", "never"]
        sys.exit(main())
        """
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "pip install 'trio-claude[testing]'" in proc.stdout
    assert "Traceback" not in proc.stderr
