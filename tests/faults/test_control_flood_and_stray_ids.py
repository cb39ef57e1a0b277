"""A hostile or busy CLI on the control plane: floods of requests, stray and reused ids.

The promises: no deadlock, no hang, no lost error, bounded memory, and control traffic never
waits behind messages the application has not read. The CLI here is hand-driven
(:class:`ManualChild`): the test writes its stdout and reads its stdin frame by frame.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing, asynccontextmanager
from typing import Any

import orjson
import pytest
import trio
import trio.testing

import trio_claude as tc

from ._support import HostedTransport, ManualChild, ManualTransport, assistant_frame, result_frame

#: Nested deeper than ``str()``/``repr()`` can go (orjson reads up to 1024 levels).
DEEP = "[" * 1012 + "]" * 1012

Play = Callable[[ManualChild], Awaitable[None]]


def request(request_id: Any, subtype: str, **fields: Any) -> dict[str, Any]:
    return {
        "type": "control_request",
        "request_id": request_id,
        "request": {"subtype": subtype, **fields},
    }


def cancel(request_id: Any) -> dict[str, Any]:
    return {"type": "control_cancel_request", "request_id": request_id}


def success(request_id: Any, response: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"subtype": "success", "request_id": request_id}
    if response is not None:
        body["response"] = response
    return {"type": "control_response", "response": body}


class Cli:
    """A hand-driven CLI: answers ``initialize``, records every frame the SDK writes, answers
    the SDK's other control requests with ``answer`` (or leaves them to the test)."""

    def __init__(self, answer: Callable[[dict[str, Any]], Any] | None = None) -> None:
        self.child: ManualChild | None = None
        self.ready = trio.Event()
        self.frames: list[dict[str, Any]] = []
        self.changed = trio.Event()
        self.answer = answer

    async def run(self, transport: ManualTransport) -> None:
        await transport.child_ready.wait()
        child = transport.child
        assert child is not None
        self.child = child
        await child.handshake()
        self.ready.set()
        try:
            while True:
                frame = await child.read_frame()
                self.frames.append(frame)
                self.changed.set()
                self.changed = trio.Event()
                if frame.get("type") == "control_request" and self.answer is not None:
                    reply = self.answer(frame)
                    for each in reply if isinstance(reply, list) else [reply]:
                        if each is not None:
                            await child.write_frame(each)
        except (EOFError, trio.ClosedResourceError, trio.BrokenResourceError):
            pass
        child.exit(0)

    def answers_to(self, request_id: str) -> list[dict[str, Any]]:
        return [
            f["response"]
            for f in self.frames
            if f.get("type") == "control_response"
            and isinstance(f.get("response"), dict)
            and f["response"].get("request_id") == request_id
        ]

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        while not predicate():
            await self.changed.wait()

    async def write(self, *frames: dict[str, Any]) -> None:
        assert self.child is not None
        await self.child.write(b"".join(orjson.dumps(f) + b"\n" for f in frames))


def answered(cli: Cli, request_id: str, count: int) -> bool:
    return len(cli.answers_to(request_id)) >= count


def answer_all(frame: dict[str, Any]) -> dict[str, Any]:
    return success(frame["request_id"], {})


@asynccontextmanager
async def session_with(cli: Cli, **kw: Any) -> AsyncIterator[tc.Session]:
    transport = ManualTransport()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(cli.run, transport)
        async with tc.open_session(tc.ClaudeAgentOptions(transport=transport, **kw)) as session:
            yield session


# ------------------------------------------------------------------ faults: the reader breaks


async def broken_by(line: str) -> tuple[BaseException | None, list[dict[str, Any]]]:
    """Writes ``line`` as the CLI, then makes a call: the error the session ended with (or
    ``None``), and the frames the SDK wrote."""
    cli = Cli(answer_all)
    async with session_with(cli) as session:
        await cli.ready.wait()
        assert cli.child is not None
        await cli.child.write(line.encode())
        await trio.sleep(1)
        try:
            with trio.fail_after(30):
                await session.set_permission_mode("plan")
        except tc.ClaudeSDKError as exc:
            return exc, cli.frames
    return None, cli.frames


async def test_a_control_cancel_whose_id_is_deeply_nested_does_not_break_the_session(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """``_on_control_cancel`` makes the id a string with ``str()``: a list nested ~1000 deep
    (valid JSON) raises RecursionError in the reader, and the session is broken."""
    error, _ = await broken_by(f'{{"type":"control_cancel_request","request_id":{DEEP}}}\n')
    assert error is None, error


async def test_a_control_request_whose_subtype_is_deeply_nested_is_answered(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """``_on_control_request`` makes the subtype a string with ``str()``: RecursionError in the
    reader; the request is never answered and the session is broken."""
    line = f'{{"type":"control_request","request_id":"r-deep","request":{{"subtype":{DEEP}}}}}\n'
    error, frames = await broken_by(line)
    assert error is None, error
    answers = [
        f["response"]
        for f in frames
        if f.get("type") == "control_response" and f["response"].get("request_id") == "r-deep"
    ]
    assert [a["subtype"] for a in answers] == ["error"], answers


# ------------------------------------------------------------------ faults: the memory bound

BOUND = 256 * 1024
BIG = 32 * 1024


def big_message(i: int) -> bytes:
    return orjson.dumps(assistant_frame(f"{i:05d} " + "x" * BIG)) + b"\n"


@pytest.mark.parametrize("per_message", [0, 100], ids=["no_strays", "100_strays"])
async def test_stray_control_responses_do_not_defeat_max_buffered_bytes(
    autojump_clock: trio.testing.MockClock, per_message: int
) -> None:
    """The inbox's size is estimated as (queued messages) x (average bytes per event read),
    and every control frame read (here: answers to ids never sent, read as keep-alives) counts
    as an event though none is queued: 100 small ones per 32 KiB message make the estimate
    ~100x too small, and the reader never pauses."""
    cli = Cli(answer_all)
    strays = b"".join(
        orjson.dumps(success(f"never-sent-{j}", {})) + b"\n" for j in range(per_message)
    )
    async with session_with(cli, max_buffered_bytes=BOUND) as session:
        await cli.ready.wait()
        assert cli.child is not None
        await session.send("go")
        for i in range(200):
            await cli.child.write(big_message(i) + strays)
        await trio.sleep(5)  # (mock clock) everything that will be read has been read
        stats = session.statistics()
        held = stats.buffered_messages * BIG  # what the queued messages really take
        # The bound plus one large read (256 KiB) and a message: not 6 MiB.
        assert held <= BOUND + 256 * 1024 + BIG, (held, stats)


# ------------------------------------------------------ faults: a reused id in the iterator form


async def test_the_iterator_form_withdraws_a_request_whose_id_the_cli_reused(
    autojump_clock: trio.testing.MockClock,
) -> None:
    started: list[str] = []
    finished: list[str] = []

    async def can_use_tool(name: str, tool_input: dict[str, Any], ctx: Any) -> Any:
        started.append(name)
        try:
            await trio.sleep_forever()
        finally:
            finished.append(name)

    async def play(child: ManualChild) -> None:
        await child.handshake()
        await child.read_frame()  # the prompt
        await child.write_frame(request("dup", "can_use_tool", tool_name="First", input={}))
        await child.write_frame(request("dup", "can_use_tool", tool_name="Second", input={}))
        await trio.sleep(1)
        await child.write_frame(cancel("dup"))
        await trio.sleep(1)
        await child.write_frame(assistant_frame("hi"))
        await child.write_frame(result_frame("hi"))
        await child.exit_at_eof()

    seen: list[tc.Message] = []
    async with trio.open_nursery() as nursery:
        transport = HostedTransport(nursery, play)
        options = tc.ClaudeAgentOptions(transport=transport, can_use_tool=can_use_tool)
        with trio.move_on_after(600) as hang:
            async with aclosing(tc.query(prompt="go", options=options)) as messages:
                async for message in messages:
                    seen.append(message)
        nursery.cancel_scope.cancel()
    assert not hang.cancelled_caught, f"the iterator hung; callbacks {started}, ended {finished}"
    assert sorted(finished) == ["First", "Second"]
    assert isinstance(seen[-1], tc.ResultMessage)


# --------------------------------------------------- faults: a reused JSON-RPC id of an MCP call


def tools_call(msg_id: Any, name: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": msg_id, "method": "tools/call", "params": {"name": name}}


@pytest.mark.parametrize("reused", [False, True], ids=["alone", "id_reused"])
async def test_mcp_cancel_reaches_a_call_whose_id_another_call_reused(
    autojump_clock: trio.testing.MockClock, reused: bool
) -> None:
    """Two ``tools/call`` with JSON-RPC id 7 in flight at once (a reconnected MCP client starts
    its ids again while a long call of the old one runs): once the quick one is over,
    ``notifications/cancelled`` for 7 must still reach the slow one."""
    slow_cancelled: list[bool] = []

    @tc.tool("slow", "runs until cancelled")
    async def slow(args: Any) -> str:
        try:
            await trio.sleep_forever()
        finally:
            slow_cancelled.append(True)

    @tc.tool("quick", "returns at once")
    async def quick(args: Any) -> str:
        return "done"

    server = tc.create_sdk_mcp_server("calc", tools=[slow, quick])
    cli = Cli(answer_all)
    async with session_with(cli, mcp_servers={"calc": server}) as session:
        await cli.ready.wait()
        await cli.write(
            request("m1", "mcp_message", server_name="calc", message=tools_call(7, "slow"))
        )
        await trio.sleep(1)
        if reused:
            await cli.write(
                request("m2", "mcp_message", server_name="calc", message=tools_call(7, "quick"))
            )
            with trio.fail_after(30):
                await cli.wait_for(lambda: bool(cli.answers_to("m2")))
        note = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 7}}
        await cli.write(request("m3", "mcp_message", server_name="calc", message=note))
        with trio.move_on_after(60):
            await cli.wait_for(lambda: bool(cli.answers_to("m1")))
        assert slow_cancelled, "notifications/cancelled for id 7 did not reach the running call"
        [answer] = cli.answers_to("m1")
        assert answer["response"]["mcp_response"]["error"]["code"] == -32800
        assert session.statistics().inflight_callbacks == 0


# ------------------------------------------------------------------------------------ guards


def in_flight(session: tc.Session) -> tuple[int, int]:
    stats = session.statistics()
    return stats.pending_requests, stats.inflight_callbacks


async def test_hundreds_of_requests_of_every_kind_are_answered_while_nobody_reads(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """300 requests at once (permissions, hooks with ids nobody registered, MCP), among 2000
    messages nobody reads: each answered exactly once, with its own kind of answer, and no
    bookkeeping is left behind."""
    calls = 0

    async def allow(name: str, tool_input: dict[str, Any], ctx: Any) -> Any:
        nonlocal calls
        calls += 1
        await trio.sleep(1)
        return tc.PermissionResultAllow()

    async def hook(*args: Any) -> dict[str, Any]:
        return {}

    @tc.tool("noop", "does nothing")
    async def noop(args: Any) -> str:
        return ""

    cli = Cli(answer_all)
    options: dict[str, Any] = {
        "can_use_tool": allow,
        "hooks": {"PreToolUse": [tc.HookMatcher(hooks=[hook])]},
        "mcp_servers": {"calc": tc.create_sdk_mcp_server("calc", tools=[noop])},
    }
    frames: list[dict[str, Any]] = []
    for j in range(100):
        frames.append(request(f"p{j}", "can_use_tool", tool_name="Read", input={"n": j}))
        frames.append(request(f"h{j}", "hook_callback", callback_id=f"nope_{j}", input={}))
        frames.append(
            request(
                f"m{j}",
                "mcp_message",
                server_name="calc",
                message={"jsonrpc": "2.0", "id": j, "method": "tools/list"},
            )
        )
        frames.extend(assistant_frame(f"{j}-{i}") for i in range(20))
    async with session_with(cli, **options) as session:
        await cli.ready.wait()
        await session.send("go")
        await cli.write(*frames)
        ids = [f["request_id"] for f in frames if f["type"] == "control_request"]
        with trio.fail_after(120):
            await cli.wait_for(lambda: all(cli.answers_to(rid) for rid in ids))
            while in_flight(session) != (0, 0):
                await trio.sleep(1)
        for rid in ids:
            [answer] = cli.answers_to(rid)
            if rid[0] == "p":
                assert answer["response"]["behavior"] == "allow", answer
            elif rid[0] == "h":
                assert answer["subtype"] == "error" and "nope_" in answer["error"], answer
            else:
                assert answer["response"]["mcp_response"]["result"]["tools"], answer
        assert calls == 100
        assert session.statistics().buffered_messages == 2000
        assert session._inflight == {}


async def test_our_requests_are_answered_while_the_reader_waits_for_room(
    autojump_clock: trio.testing.MockClock,
) -> None:
    cli = Cli(answer_all)
    async with session_with(cli, max_buffered_bytes=BOUND) as session:
        await cli.ready.wait()
        assert cli.child is not None
        await session.send("go")
        for i in range(100):
            await cli.child.write(big_message(i))
        with trio.fail_after(60):
            while not session.statistics().reader_paused:
                await trio.sleep(1)
        replies: list[Any] = []

        async def call(fn: Callable[[], Awaitable[Any]]) -> None:
            replies.append(await fn())

        with trio.fail_after(60):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(call, lambda: session.set_permission_mode("plan"))
                nursery.start_soon(call, lambda: session.set_model("m"))
                nursery.start_soon(call, session.get_usage)
                nursery.start_soon(call, session.mcp_status)
        assert len(replies) == 4
        assert in_flight(session) == (0, 0)
        await cli.child.write(orjson.dumps(result_frame()) + b"\n")
        with trio.fail_after(60):
            body = [m async for m in session.receive_response()]
        assert len(body) == 101 and isinstance(body[-1], tc.ResultMessage)


async def test_stray_and_repeated_control_responses_are_ignored(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Answers for ids never sent, ids of the wrong JSON type, bodies missing or not objects,
    and second answers (success after error, error after success) change nothing: each call
    gets the first answer to its own id, and nothing stays pending."""

    def hostile(frame: dict[str, Any]) -> list[dict[str, Any]]:
        rid = frame["request_id"]
        junk: list[dict[str, Any]] = [
            success("req_999_deadbeef", {"mode": "junk"}),
            success(7, {}),
            success(None, {}),
            success([rid], {}),
            success({"id": rid}, {}),
            {"type": "control_response"},
            {"type": "control_response", "response": None},
            {"type": "control_response", "response": [rid]},
            {"type": "control_response", "response": {"subtype": "success"}},
        ]
        if frame["request"]["subtype"] == "set_permission_mode":
            first = success(rid)  # no "response": an empty answer
            second = {
                "type": "control_response",
                "response": {"subtype": "error", "request_id": rid, "error": "late"},
            }
        else:
            first = {
                "type": "control_response",
                "response": {"subtype": "error", "request_id": rid, "error": "no"},
            }
            second = success(rid, {})
        return [*junk, first, second, second]

    cli = Cli(hostile)
    async with session_with(cli) as session:
        await cli.ready.wait()
        with trio.fail_after(30):
            for _ in range(50):
                await session.set_permission_mode("plan")
                try:
                    await session.set_model("m")
                except tc.ControlRequestError as exc:
                    assert "no" in str(exc)
                else:
                    raise AssertionError("a success after the error answer won")
        assert in_flight(session) == (0, 0)
        assert session._proto.pending_requests == {}


async def test_cancels_for_unknown_answered_and_repeated_ids_withdraw_only_their_request(
    autojump_clock: trio.testing.MockClock,
) -> None:
    withdrawn: list[str] = []

    async def can_use_tool(name: str, tool_input: dict[str, Any], ctx: Any) -> Any:
        if name == "Slow":
            try:
                await trio.sleep_forever()
            except trio.Cancelled:
                withdrawn.append(name)
                raise
        return tc.PermissionResultDeny(message=name)

    cli = Cli(answer_all)
    async with session_with(cli, can_use_tool=can_use_tool) as session:
        await cli.ready.wait()
        await cli.write(
            request("c1", "can_use_tool", tool_name="Slow", input={}),
            request("c2", "can_use_tool", tool_name="Quick", input={}),
            cancel("never-sent"),
            cancel(None),
            cancel(17),
            cancel(["c1"]),
        )
        with trio.fail_after(30):
            await cli.wait_for(lambda: bool(cli.answers_to("c2")))
        await cli.write(cancel("c2"), cancel("c1"), cancel("c1"))
        await trio.sleep(1)
        await cli.write(request("c3", "can_use_tool", tool_name="Later", input={}))
        with trio.fail_after(30):
            await cli.wait_for(lambda: bool(cli.answers_to("c3")))
            await session.set_permission_mode("plan")
        assert withdrawn == ["Slow"]
        assert cli.answers_to("c1") == []
        assert [a["response"]["message"] for a in cli.answers_to("c2")] == ["Quick"]
        assert [a["response"]["message"] for a in cli.answers_to("c3")] == ["Later"]
        assert in_flight(session) == (0, 0)


async def test_a_reused_request_id_gets_exactly_one_answer_and_leaves_nothing_behind(
    autojump_clock: trio.testing.MockClock,
) -> None:
    release = trio.Event()

    async def can_use_tool(name: str, tool_input: dict[str, Any], ctx: Any) -> Any:
        await release.wait()
        return tc.PermissionResultDeny(message=name)

    cli = Cli(answer_all)
    async with session_with(cli, can_use_tool=can_use_tool) as session:
        await cli.ready.wait()
        for round_ in range(50):
            await cli.write(
                request("dup", "can_use_tool", tool_name=f"First{round_}", input={}),
                request("dup", "can_use_tool", tool_name=f"Second{round_}", input={}),
            )
            await trio.sleep(1)
            release.set()
            with trio.fail_after(30):
                await cli.wait_for(functools.partial(answered, cli, "dup", round_ + 1))
            release = trio.Event()
            await trio.sleep(1)
        messages = [a["response"]["message"] for a in cli.answers_to("dup")]
        assert messages == [f"Second{r}" for r in range(50)]
        assert in_flight(session) == (0, 0)


async def test_hundreds_of_hanging_callbacks_do_not_hold_up_the_close(
    autojump_clock: trio.testing.MockClock,
) -> None:
    running = 0
    ended = 0

    async def hang(*args: Any) -> Any:
        nonlocal running, ended
        running += 1
        try:
            await trio.sleep_forever()
        finally:
            ended += 1

    cli = Cli(answer_all)
    frames: list[dict[str, Any]] = []
    for j in range(100):
        frames.append(request(f"p{j}", "can_use_tool", tool_name="Read", input={}))
        frames.append(request(f"h{j}", "hook_callback", callback_id="hook_0", input={}))
    with trio.fail_after(120):
        async with session_with(
            cli, can_use_tool=hang, hooks={"PreToolUse": [tc.HookMatcher(hooks=[hang])]}
        ) as session:
            await cli.ready.wait()
            await session.send("go")
            await cli.write(*frames)
            while running < 200:
                await trio.sleep(1)
            assert session.statistics().inflight_callbacks == 200
        # (left without reading: the close interrupts, withdraws and stops everything)
    assert ended == 200
    assert session._inflight == {}
    assert not [f for f in cli.frames if f.get("type") == "control_response"]


async def test_hanging_callbacks_and_an_outside_cancellation(
    autojump_clock: trio.testing.MockClock,
) -> None:
    ended = 0

    async def hang(*args: Any) -> Any:
        nonlocal ended
        try:
            await trio.sleep_forever()
        finally:
            ended += 1

    cli = Cli(answer_all)
    holder: list[tc.Session] = []
    with trio.move_on_after(10) as outer:
        async with session_with(cli, can_use_tool=hang) as session:
            holder.append(session)
            await cli.ready.wait()
            await session.send("go")
            await cli.write(
                *(request(f"p{j}", "can_use_tool", tool_name="Read", input={}) for j in range(200))
            )
            await trio.sleep_forever()
    assert outer.cancelled_caught
    assert ended == 200
    assert holder[0]._inflight == {}
    assert holder[0].closed


@pytest.mark.parametrize(
    ("subtype", "field"),
    [("hook_callback", "callback_id"), ("mcp_message", "server_name")],
)
async def test_a_deeply_nested_name_in_a_request_is_refused_as_unknown_not_as_our_failure(
    autojump_clock: trio.testing.MockClock,
    caplog: pytest.LogCaptureFixture,
    subtype: str,
    field: str,
) -> None:
    """The refusal's text quoted the unknown ``callback_id`` / ``server_name`` with an
    f-string: a list nested a thousand deep raised RecursionError there, and the answer went
    out as an internal failure of trio-claude's ("please report it")."""
    extra = (
        ',"message":{"jsonrpc":"2.0","id":1,"method":"ping"}' if subtype == "mcp_message" else ""
    )
    line = (
        f'{{"type":"control_request","request_id":"r-name","request":'
        f'{{"subtype":"{subtype}","{field}":{DEEP}{extra}}}}}\n'
    )
    error, frames = await broken_by(line)
    assert error is None, error
    answers = [
        f["response"]
        for f in frames
        if f.get("type") == "control_response" and f["response"].get("request_id") == "r-name"
    ]
    assert len(answers) == 1, answers
    assert "RecursionError" not in str(answers[0]), answers
    assert "report" not in caplog.text and "RecursionError" not in caplog.text, caplog.text
