"""A third adversarial look at a2f8ef9/fd85aa8 (results wait for the store, routes of
``set_mcp_servers``, budget errors of a turn whose result is still queued, reused ids, the
pool's dead parked sessions). Each failing test says what went wrong; the short passing ones
are guards for probes that found nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
import trio
import trio.testing

import trio_claude as tc

from ._support import HostedTransport, ManualChild, assistant_frame, result_frame

SID = "11111111-1111-4111-8111-111111111111"


def _key() -> tc.SessionKey:
    return {"project_key": "p", "session_id": SID}


def _lines(*frames: dict[str, Any]) -> bytes:
    """Frames written in one go: the reader takes them in one read (one batch)."""
    return b"".join(orjson.dumps(frame) + b"\n" for frame in frames)


class _SlowStore(tc.InMemorySessionStore):
    """Every append takes ``delay`` seconds."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    async def append(self, key: tc.SessionKey, entries: list[tc.SessionStoreEntry]) -> None:
        await trio.sleep(self.delay)
        await super().append(key, entries)


class _HangingPlainStore(tc.InMemorySessionStore):
    """``append`` never returns, and the store may store an entry twice (no
    ``idempotent_appends``): a cut-short append's batch is given up and reported."""

    idempotent_appends = False

    async def append(self, key: tc.SessionKey, entries: list[tc.SessionStoreEntry]) -> None:
        await trio.sleep_forever()


def _mirror_frame(tmp_path: Path, entries: list[Any]) -> dict[str, Any]:
    file_path = str(tmp_path / "config" / "projects" / "p" / f"{SID}.jsonl")
    return {"type": "transcript_mirror", "filePath": file_path, "entries": entries}


def _is_mirror_error(message: Any) -> bool:
    return isinstance(message, tc.SystemMessage) and message.subtype == "mirror_error"


# ------------------------------------------------- a result waiting for the store, cancelled


async def test_a_receive_response_cancelled_in_a_fast_path_results_flush_abandons_the_turn(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    """``MessageStream.__anext__``'s fast path (a message already queued) now awaits the
    store flush of a result (``_stream.py``, ``session._result_after_flush``), but only the
    slow path's ``except trio.Cancelled`` abandons the turn. A deadline landing in that flush
    (here: the assistant line and the result arrive in one read, so the result is taken on the
    fast path) leaves the result waiting: the turn is neither received nor abandoned, and the
    next ``run()`` raises TurnInProgressError, against "a cancellation that lands while
    receive_response() waits abandons the turn by itself" (and unlike the slow path, where the
    same deadline abandons it)."""
    await _cancel_at_the_results_flush_then_run(tmp_path, one_read=True)


async def test_guard_on_the_slow_path_the_same_cancellation_abandons_the_turn(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    """The same deadline when the result arrives in a read of its own (taken by
    ``Session._next_message``): the turn is abandoned and the next ``run()`` works."""
    await _cancel_at_the_results_flush_then_run(tmp_path, one_read=False)


async def _cancel_at_the_results_flush_then_run(tmp_path: Path, *, one_read: bool) -> None:
    store = _SlowStore(2.0)
    prompts = 0

    async def play(child: ManualChild) -> None:
        nonlocal prompts
        await child.handshake()
        try:
            while True:
                frame = await child.read_frame()
                if frame.get("type") == "user":
                    prompts += 1
                    text = f"turn {prompts}"
                    mirror = _mirror_frame(tmp_path, [{"type": "user", "uuid": f"u-{prompts}"}])
                    if one_read:
                        await child.write(_lines(assistant_frame(text), mirror, result_frame(text)))
                    else:
                        await child.write(_lines(assistant_frame(text)))
                        await trio.sleep(0.1)
                        await child.write(_lines(mirror, result_frame(text)))
                elif frame.get("type") == "control_request":
                    await child.answer(frame, {})
        except (EOFError, trio.ClosedResourceError, trio.BrokenResourceError):
            pass
        child.exit(0)

    async with trio.open_nursery() as nursery:
        options = tc.ClaudeAgentOptions(
            transport=HostedTransport(nursery, play),
            session_store=store,
            env={"CLAUDE_CONFIG_DIR": str(tmp_path / "config")},
        )
        with trio.fail_after(120):
            async with tc.open_session(options) as session:
                await session.send("go")
                seen: list[Any] = []
                with trio.move_on_after(1.0) as deadline:  # the result's flush takes 2 s
                    async for message in session.receive_response():
                        seen.append(message)
                assert deadline.cancelled_caught
                assert [type(m) for m in seen] == [tc.AssistantMessage]
                turn = await session.run("next")  # raised TurnInProgressError
                assert turn.text == "turn 2"
        nursery.cancel_scope.cancel()


class _RaisingStore(tc.InMemorySessionStore):
    """``append`` always raises (the store's server refuses): each batch is given up after
    the mirror's retries (about a second)."""

    async def append(self, key: tc.SessionKey, entries: list[tc.SessionStoreEntry]) -> None:
        await trio.lowlevel.checkpoint()
        raise OSError("the store refused")


async def test_a_mirror_error_given_up_before_the_result_is_received_comes_before_it(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    """The promise of fd85aa8: a result is handed out once the store holds its turn, a
    ``mirror_error`` before it if that failed. But the reader asks the background flusher for
    a flush as soon as it reads the result (``_session.py`` ``_handle_events``:
    ``request_flush``), and when that flush gives up before a receiver takes the result, the
    report is appended *behind* the result (``Session._inject_frame``, ``_held`` being
    ``None``); ``result_after_flush`` then flushes nothing and hands the result out alone. A
    receiver that comes a few seconds late gets the result first, and the turn's own failure
    is not even in its ``receive_response()``: it turns up at the head of the next turn."""
    store = _RaisingStore()
    prompts = 0

    async def play(child: ManualChild) -> None:
        nonlocal prompts
        await child.handshake()
        try:
            while True:
                frame = await child.read_frame()
                if frame.get("type") == "user":
                    prompts += 1
                    await child.write(
                        _lines(
                            _mirror_frame(tmp_path, [{"type": "user", "uuid": f"u-{prompts}"}]),
                            result_frame(f"turn {prompts}"),
                        )
                    )
                elif frame.get("type") == "control_request":
                    await child.answer(frame, {})
        except (EOFError, trio.ClosedResourceError, trio.BrokenResourceError):
            pass
        child.exit(0)

    async with trio.open_nursery() as nursery:
        options = tc.ClaudeAgentOptions(
            transport=HostedTransport(nursery, play),
            session_store=store,
            env={"CLAUDE_CONFIG_DIR": str(tmp_path / "config")},
        )
        with trio.fail_after(120):
            async with tc.open_session(options) as session:
                await session.send("go")
                await trio.sleep(5)  # the application is busy; the flusher gives up meanwhile
                first = [m async for m in session.receive_response()]
        nursery.cancel_scope.cancel()
    kinds = ["mirror_error" if _is_mirror_error(m) else type(m).__name__ for m in first]
    assert kinds == ["mirror_error", "ResultMessage"], kinds


# ------------------------------------------------------------- guards: bounded, in order


async def test_guard_a_hanging_store_holds_a_result_at_most_one_append_timeout(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    """A store whose ``append`` never returns: the receiver gets the ``mirror_error`` and then
    the result (once each) after the mirror's 60 s per append, and the session still closes."""
    store = _HangingPlainStore()

    async def play(child: ManualChild) -> None:
        await child.handshake()
        await child.read_frame()
        await child.write(_lines(_mirror_frame(tmp_path, [{"type": "user", "n": 1}])))
        await child.write(_lines(result_frame()))
        await child.exit_at_eof()

    async with trio.open_nursery() as nursery:
        options = tc.ClaudeAgentOptions(
            transport=HostedTransport(nursery, play),
            session_store=store,
            env={"CLAUDE_CONFIG_DIR": str(tmp_path / "config")},
        )
        with trio.fail_after(200):
            async with tc.open_session(options) as session:
                await session.send("go")
                start = trio.current_time()
                seen = [m async for m in session.receive_response()]
                waited = trio.current_time() - start
        nursery.cancel_scope.cancel()
    kinds = [
        "mirror_error" if _is_mirror_error(m) else type(m).__name__
        for m in seen
        if _is_mirror_error(m) or isinstance(m, tc.ResultMessage)
    ]
    assert kinds == ["mirror_error", "ResultMessage"], kinds
    assert waited <= 61


async def test_guard_many_results_in_one_read_each_flushed_once_in_order(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    """Several background results and the turn's result in one read (with mirror frames
    between them): every one is handed out once, in order, each after the store has what
    came before it."""
    store = _SlowStore(0.5)
    frames: list[dict[str, Any]] = []
    for n in range(3):
        frames.append(_mirror_frame(tmp_path, [{"type": "user", "uuid": f"u-{n}"}]))
        frames.append(result_frame(f"r{n}"))

    async def play(child: ManualChild) -> None:
        await child.handshake()
        await child.read_frame()
        await child.write(_lines(*frames))
        await child.exit_at_eof()

    async with trio.open_nursery() as nursery:
        options = tc.ClaudeAgentOptions(
            transport=HostedTransport(nursery, play),
            session_store=store,
            env={"CLAUDE_CONFIG_DIR": str(tmp_path / "config")},
        )
        texts: list[str | None] = []
        stored: list[int] = []
        with trio.fail_after(60):
            async with tc.open_session(options) as session:
                await session.send("go")
                with trio.move_on_after(10):
                    async for message in session.receive_messages():
                        if isinstance(message, tc.ResultMessage):
                            texts.append(message.result)
                            stored.append(len(store.get_entries(_key())))
        nursery.cancel_scope.cancel()
    assert texts == ["r0", "r1", "r2"], texts
    assert stored[0] >= 1 and stored[-1] == 3, stored


# ---------------------------------------------------------------- set_mcp_servers routes


async def test_set_mcp_servers_keeps_the_route_of_an_in_process_server_given_in_options(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """``set_mcp_servers`` "replaces the session's dynamic MCP servers"; the in-process
    servers of ``options.mcp_servers`` are no dynamic ones (the CLI keeps them, and reports
    no removal). fd85aa8's ``_set_mcp_servers_once`` (``_control_api.py``) now drops every
    route whose key is not in the set just sent, static ones included: after
    ``set_mcp_servers({"dyn": ...})`` the CLI's calls to the static server are answered
    "Server 'static' not found"."""

    @tc.tool("ping", "answers pong", {})
    async def ping(args: dict[str, Any]) -> dict[str, Any]:
        return {"content": [{"type": "text", "text": "pong"}]}

    static = tc.create_sdk_mcp_server("static", tools=[ping])
    dynamic = tc.create_sdk_mcp_server("dyn", tools=[])
    replies: list[dict[str, Any]] = []
    got_reply = trio.Event()

    async def play(child: ManualChild) -> None:
        await child.handshake()
        try:
            while True:
                frame = await child.read_frame()
                if frame.get("type") == "control_request":
                    request = frame["request"]
                    if request["subtype"] == "mcp_set_servers":
                        added = sorted(request["servers"])
                        await child.answer(frame, {"added": added, "removed": [], "errors": {}})
                        call = {"jsonrpc": "2.0", "id": 7, "method": "tools/list"}
                        await child.write_frame(
                            {
                                "type": "control_request",
                                "request_id": "m1",
                                "request": {
                                    "subtype": "mcp_message",
                                    "server_name": "static",
                                    "message": call,
                                },
                            }
                        )
                    else:
                        await child.answer(frame, {})
                elif frame.get("type") == "control_response":
                    replies.append(frame["response"])
                    got_reply.set()
        except (EOFError, trio.ClosedResourceError, trio.BrokenResourceError):
            pass
        child.exit(0)

    async with trio.open_nursery() as nursery:
        options = tc.ClaudeAgentOptions(
            transport=HostedTransport(nursery, play), mcp_servers={"static": static}
        )
        with trio.fail_after(60):
            async with tc.open_session(options) as session:
                await session.set_mcp_servers({"dyn": dynamic})
                await got_reply.wait()
        nursery.cancel_scope.cancel()
    mcp = replies[0]["response"]["mcp_response"]
    assert "error" not in mcp, mcp
    assert [t["name"] for t in mcp["result"]["tools"]] == ["ping"]


# ------------------------------------------------------------------------------- budget


async def test_another_sessions_crossing_is_not_raised_for_a_turn_that_ended_within_budget(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Two sessions share a Budget. A's turn ends (its result is read, and queued: A has not
    received it yet) well within the limit; then B's turn crosses it. fd85aa8's
    ``_on_budget_exceeded`` (``_session.py``) now keeps the error for any session whose
    ``turn_results_waiting`` is non-zero, meant for the crossing line read together with its
    own turn's result, but the listener hears every session's charges: A's finished turn is
    raised as over budget (``collect_response`` raises BudgetExceededError) for B's
    spending."""
    budget = tc.Budget(max_usd=1.0)

    def cheap(child_cost: float) -> Any:
        async def play(child: ManualChild) -> None:
            await child.handshake()
            try:
                while True:
                    frame = await child.read_frame()
                    if frame.get("type") == "user":
                        result = result_frame("ok")
                        result["total_cost_usd"] = child_cost
                        await child.write(_lines(assistant_frame("hi"), result))
                    elif frame.get("type") == "control_request":
                        await child.answer(frame, {})
            except (EOFError, trio.ClosedResourceError, trio.BrokenResourceError):
                pass
            child.exit(0)

        return play

    async with trio.open_nursery() as nursery:
        options_a = tc.ClaudeAgentOptions(
            transport=HostedTransport(nursery, cheap(0.01)), budget=budget
        )
        options_b = tc.ClaudeAgentOptions(
            transport=HostedTransport(nursery, cheap(5.0)), budget=budget
        )
        with trio.fail_after(60):
            async with tc.open_session(options_a) as a, tc.open_session(options_b) as b:
                await a.send("go")
                with trio.fail_after(10):
                    while not a._proto.turn_results_waiting:  # A's result is read
                        await trio.sleep(0.01)
                assert budget.spent.usd == pytest.approx(0.01)
                with pytest.raises(tc.BudgetExceededError):
                    await b.run("go")  # B's own turn crossed the limit: raised, rightly
                turn = await a.collect_response()  # raised B's BudgetExceededError
                assert turn.result.total_cost_usd == pytest.approx(0.01)
        nursery.cancel_scope.cancel()


# ------------------------------------------------------------------------- reused ids


async def test_guard_a_reused_mcp_call_id_is_cancelled_for_both_calls() -> None:
    """``McpServerConnection._calls`` keeps a list per JSON-RPC id: a cancel naming a reused
    id reaches both running calls, and the list is gone once they end."""
    from trio_claude._mcp import McpServerConnection, sdk_server_instance

    started = 0

    @tc.tool("slow", "sleeps", {})
    async def slow(args: dict[str, Any]) -> dict[str, Any]:
        nonlocal started
        started += 1
        await trio.sleep_forever()
        raise AssertionError("unreachable")

    server = sdk_server_instance(tc.create_sdk_mcp_server("s", tools=[slow]))
    assert server is not None
    connection = McpServerConnection(server)
    answers: list[dict[str, Any]] = []
    call = {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "slow"}}

    async def one() -> None:
        answers.append(await connection.handle(call))

    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(one)
            nursery.start_soon(one)
            while started < 2:
                await trio.lowlevel.checkpoint()
            await connection.handle(
                {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 3}}
            )
    assert len(answers) == 2
    assert all(a.get("error", {}).get("message") == "Request cancelled" for a in answers)
    assert connection._calls == {}


@pytest.mark.parametrize("resumable", [False, True], ids=["session", "resumable"])
async def test_two_runs_at_once_send_one_prompt_and_refuse_the_other(
    autojump_clock: trio.testing.MockClock, resumable: bool
) -> None:
    """Two tasks call ``run()`` on one session at once: both passed the receiver check before
    either received, both sent, and one got ConcurrentReceiveError with its prompt already at
    the CLI (its answer lost, the next run() refused as TurnInProgressError). ``run()``
    promises: refused, nothing sent."""
    from trio_claude.testing.fake_cli import FakeCLITransport, FakeScript, FakeTurn

    script = FakeScript(
        turns=[FakeTurn.reply("first"), FakeTurn.reply("second"), FakeTurn.reply("third")]
    )
    transport = FakeCLITransport(script)
    options = tc.ClaudeAgentOptions(transport=transport)
    outcomes: list[object] = []

    async def one(session: Any, prompt: str) -> None:
        try:
            outcomes.append((await session.run(prompt)).text)
        except tc.ConcurrentReceiveError as exc:
            outcomes.append(type(exc))

    opener = tc.open_resumable_session if resumable else tc.open_session
    with trio.fail_after(60):
        async with opener(options) as session:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(one, session, "a")
                nursery.start_soon(one, session, "b")
            assert sorted(map(str, outcomes)) == sorted(
                map(str, ["first", tc.ConcurrentReceiveError])
            ), outcomes
            follow_up = (await session.run("c")).text
    assert transport.fake is not None
    prompts = [f for f in transport.fake.received if f.get("type") == "user"]
    assert len(prompts) == 2, prompts
    assert follow_up == "second"
