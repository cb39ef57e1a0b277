"""A seeded cancellation sweep over the paths sitting 16 changed (7d92938..HEAD and the work
tree): a result handed out only after the session store's flush (``Session._next_message``,
the ``MessageStream`` fast path deferring it, ``_PullQuery._deliver``, ``insert_before_result``),
``set_mcp_servers`` with ``McpRouter.unconfirmed``, ``track_request`` and MCP calls keyed by
JSON-RPC id, ``SessionPool._purge_dead_parked``, the teams' early refusals and ``FanOut``'s
dropped pending tasks, ``ClaudeSDKClient.disconnect()`` in a newer cancel scope, and
``ResumableSession.release()`` waiting for the CLI's idle state.

Method (as ``test_cancel_sweep_of_todays_paths.py``): a :class:`~._support.CancelAfterSteps`
instrument counts a scenario's task steps in a dry run, then the scenario runs again cancelled
after step ``k`` for every ``k`` (or a sample of about fifty drawn by ``random.Random(seed)``),
the scheduler seeded with ``k``. After each run: no error but a clean cancellation or one typed
SDK error, nothing lost or handed out twice, the session's maps empty. The autouse leak check
of ``tests/faults/conftest.py`` adds: no task, process or descriptor left.

The ``test_guard_...`` tests pass: they keep the paths found sound under the sweep.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
import trio
import trio.testing

import trio_claude as tc
from trio_claude import teams
from trio_claude.teams import AgentState
from trio_claude.testing.fake_cli import FakeCLITransport, FakeScript, FakeTurn, Result, Sleep, Text

from ._support import CancelAfterSteps, HostedTransport, ManualChild, assistant_frame, result_frame
from ._sweep import Scenario, bad_error
from ._sweep import sweep as _sweep
from .test_cancel_sweep_of_todays_paths import mcp_sweep, server

if sys.version_info < (3, 11):  # pragma: no cover
    from exceptiongroup import BaseExceptionGroup

SID = "11111111-1111-4111-8111-111111111111"
SEED = 16

Arm = Callable[[trio.CancelScope], None]


async def sweep(scenario: Scenario, *, seed: int = SEED, minimum: int = 5) -> int:
    """The shared sweep (``_sweep.py``), with this file's seed."""
    return await _sweep(scenario, seed=seed, minimum=minimum)


def key() -> tc.SessionKey:
    return {"project_key": "p", "session_id": SID}


def lines(*frames: dict[str, Any]) -> bytes:
    """Frames written in one go: the reader takes them in one read."""
    return b"".join(orjson.dumps(frame) + b"\n" for frame in frames)


def mirror_frame(tmp_path: Path, entries: list[Any]) -> dict[str, Any]:
    file_path = str(tmp_path / "config" / "projects" / "p" / f"{SID}.jsonl")
    return {"type": "transcript_mirror", "filePath": file_path, "entries": entries}


def is_mirror_error(message: Any) -> bool:
    return isinstance(message, tc.SystemMessage) and message.subtype == "mirror_error"


class SlowStore(tc.InMemorySessionStore):
    """Every append takes ``delay`` (mock) seconds, then stores (idempotent, as the stock)."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay
        self.appends = 0

    async def append(self, key: tc.SessionKey, entries: list[tc.SessionStoreEntry]) -> None:
        self.appends += 1
        await trio.sleep(self.delay)
        await super().append(key, entries)


class RefusingStore(tc.InMemorySessionStore):
    """Every append fails: each batch is given up after the mirror's retries, reported."""

    async def append(self, key: tc.SessionKey, entries: list[tc.SessionStoreEntry]) -> None:
        await trio.sleep(0.05)
        raise OSError("the store refused")


def session_maps_problems(session: tc.Session, where: str) -> list[str]:
    problems = []
    if session._inflight:
        problems.append(f"{where}: _inflight holds {list(session._inflight)}")
    if session._proto.pending_count:
        problems.append(f"{where}: pending requests {session._proto.pending_requests}")
    if session._proto.turn_results_waiting:
        problems.append(f"{where}: turn_results_waiting {session._proto.turn_results_waiting}")
    return problems


# ================================================== results handed out after the store flush


class MirrorCLI:
    """A hand-driven CLI: each prompt gets an assistant line, a transcript_mirror frame (one
    entry, uuid ``u-<n>``) and the result, in one read (``one_read``: the result is taken on
    the stream's fast path) or the result in a later read (the slow path)."""

    def __init__(self, tmp_path: Path, *, one_read: bool) -> None:
        self.tmp_path = tmp_path
        self.one_read = one_read
        self.prompts = 0
        self.mirrored: list[str] = []

    async def play(self, child: ManualChild) -> None:
        try:
            await child.handshake()
            while True:
                frame = await child.read_frame()
                if frame.get("type") == "user":
                    self.prompts += 1
                    n = self.prompts
                    text = f"turn {n}"
                    uuid = f"u-{n}"
                    mirror = mirror_frame(self.tmp_path, [{"type": "user", "uuid": uuid}])
                    self.mirrored.append(uuid)
                    if self.one_read:
                        await child.write(lines(assistant_frame(text), mirror, result_frame(text)))
                    else:
                        await child.write(lines(assistant_frame(text), mirror))
                        await trio.sleep(0.1)
                        await child.write(lines(result_frame(text)))
                elif frame.get("type") == "control_request":
                    await child.answer(frame, {})
        except (EOFError, trio.ClosedResourceError, trio.BrokenResourceError):
            pass
        child.exit(0)


ReceiveTurn = Callable[[tc.Session, list[Any]], Awaitable[None]]


async def by_stream(session: tc.Session, seen: list[Any]) -> None:
    await session.send("go")
    async for message in session.receive_response():
        seen.append(message)


async def by_collect(session: tc.Session, seen: list[Any]) -> None:
    await session.send("go")
    turn = await session.collect_response()
    seen.extend(turn.messages)
    if not any(m is turn.result for m in turn.messages):
        seen.append(turn.result)


async def by_run(session: tc.Session, seen: list[Any]) -> None:
    turn = await session.run("go")
    seen.extend(turn.messages)
    if not any(m is turn.result for m in turn.messages):
        seen.append(turn.result)


async def session_mirror_sweep(
    tmp_path: Path, receive: ReceiveTurn, *, one_read: bool, make_store: Callable[[], Any]
) -> list[str]:
    """Sweeps a cancellation through a turn's receive (its result waiting for the store),
    then runs the next turn uncancelled and closes. Returns what broke."""
    problems: list[str] = []

    async def scenario(n: float) -> int:
        store = make_store()
        cli = MirrorCLI(tmp_path, one_read=one_read)
        instrument = CancelAfterSteps(n=n)
        seen: list[Any] = []
        error: BaseException | None = None
        async with trio.open_nursery() as nursery:
            options = tc.ClaudeAgentOptions(
                transport=HostedTransport(nursery, cli.play),
                session_store=store,
                env={"CLAUDE_CONFIG_DIR": str(tmp_path / "config")},
            )
            with trio.fail_after(300):
                async with tc.open_session(options) as session:
                    trio.lowlevel.add_instrument(instrument)
                    try:
                        with trio.CancelScope() as scope:
                            instrument.arm(scope)
                            await receive(session, seen)
                    except BaseException as exc:
                        error = exc
                    finally:
                        trio.lowlevel.remove_instrument(instrument)
                    problem = bad_error(error)
                    if problem:
                        problems.append(f"step {n}: first turn: {problem}")
                    first_results = [m for m in seen if isinstance(m, tc.ResultMessage)]
                    try:
                        turn = await session.run("next")
                    except BaseException as exc:
                        problems.append(f"step {n}: the next run() raised {exc!r}")
                    else:
                        want = f"turn {cli.prompts}"
                        if turn.text != want:
                            problems.append(f"step {n}: next run got {turn.text!r}, not {want!r}")
                        seen.extend(turn.messages)
                        if not any(m is turn.result for m in turn.messages):
                            seen.append(turn.result)
                    results = [m for m in seen if isinstance(m, tc.ResultMessage)]
                    if len({id(m) for m in results}) != len(results):
                        problems.append(f"step {n}: a result handed out twice")
                    texts = [m.result for m in results]
                    if len(set(texts)) != len(texts):
                        problems.append(f"step {n}: results {texts}")
                    if len(first_results) > 1:
                        problems.append(f"step {n}: first turn got {len(first_results)} results")
                    problems.extend(session_maps_problems(session, f"step {n}"))
                    reported = [m for m in seen if is_mirror_error(m)]
            nursery.cancel_scope.cancel()
        stored = [e.get("uuid") for e in (await store.load(key()) or [])]
        if isinstance(store, RefusingStore):
            # Each mirrored frame's batch is given up and reported: the one of the turn
            # received whole at least (an abandoned turn's report may go with it).
            if cli.prompts and not reported:
                problems.append(f"step {n}: no mirror_error reported for a refused batch")
        else:
            lost = [u for u in cli.mirrored if u not in stored]
            if lost:
                problems.append(f"step {n}: entries {lost} never stored (stored {stored})")
            if len(stored) != len(set(stored)):
                problems.append(f"step {n}: an entry stored twice: {stored}")
        return instrument.steps

    await sweep(scenario)
    return problems


async def test_guard_receive_response_fast_path_result_flush_cancelled_at_every_step(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    """The result arrives in the read of its turn's lines (the stream's fast path defers it to
    ``_next_message``); ``receive_response()`` cancelled after every step."""
    problems = await session_mirror_sweep(
        tmp_path, by_stream, one_read=True, make_store=lambda: SlowStore(0.5)
    )
    assert not problems, "\n".join(problems)


async def test_guard_receive_response_slow_path_result_flush_cancelled_at_every_step(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    problems = await session_mirror_sweep(
        tmp_path, by_stream, one_read=False, make_store=lambda: SlowStore(0.5)
    )
    assert not problems, "\n".join(problems)


async def test_guard_run_and_collect_response_result_flush_cancelled_at_every_step(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    problems: list[str] = []
    for receive in (by_run, by_collect):
        problems += await session_mirror_sweep(
            tmp_path, receive, one_read=True, make_store=lambda: SlowStore(0.5)
        )
    assert not problems, "\n".join(problems)


async def test_guard_mirror_error_before_result_cancelled_at_every_step(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    """A store that refuses: the result's flush produces a ``mirror_error``
    (``insert_before_result``), the receive cancelled after every step."""
    problems = await session_mirror_sweep(
        tmp_path, by_stream, one_read=True, make_store=RefusingStore
    )
    assert not problems, "\n".join(problems)


# ============================================= the iterator form of query(): _PullQuery._deliver


async def query_mirror_sweep(
    tmp_path: Path, *, one_read: bool, make_store: Callable[[], Any], resume: bool
) -> list[str]:
    """Sweeps a cancellation through ``async for`` over ``query()`` (its result waiting for
    the store); then, if ``resume``, iterates on uncancelled (a cancellation closes the
    iterator form: it ends cleanly), and ``aclose()``s."""
    problems: list[str] = []

    async def scenario(n: float) -> int:
        store = make_store()
        cli = MirrorCLI(tmp_path, one_read=one_read)
        instrument = CancelAfterSteps(n=n)
        seen: list[Any] = []
        error: BaseException | None = None
        async with trio.open_nursery() as nursery:
            options = tc.ClaudeAgentOptions(
                transport=HostedTransport(nursery, cli.play),
                session_store=store,
                env={"CLAUDE_CONFIG_DIR": str(tmp_path / "config")},
            )
            messages = tc.query(prompt="go", options=options)
            with trio.fail_after(300):
                trio.lowlevel.add_instrument(instrument)
                try:
                    with trio.CancelScope() as scope:
                        instrument.arm(scope)
                        async for message in messages:
                            seen.append(message)
                except BaseException as exc:
                    error = exc
                finally:
                    trio.lowlevel.remove_instrument(instrument)
                problem = bad_error(error)
                if problem:
                    problems.append(f"step {n}: {problem}")
                cancelled = instrument.fired
                try:
                    if resume and cancelled:
                        async for message in messages:
                            seen.append(message)
                except BaseException as exc:
                    problem = bad_error(exc)
                    if problem:
                        problems.append(f"step {n}: iterating on: {problem}")
                finally:
                    await messages.aclose()
            nursery.cancel_scope.cancel()
        results = [m for m in seen if isinstance(m, tc.ResultMessage)]
        if len(results) > 1:
            problems.append(f"step {n}: {[r.result for r in results]} handed out")
        stored = [e.get("uuid") for e in (await store.load(key()) or [])]
        if not isinstance(store, RefusingStore):
            lost = [u for u in cli.mirrored if u not in stored]
            if lost:
                problems.append(f"step {n}: entries {lost} never stored (stored {stored})")
            if len(stored) != len(set(stored)):
                problems.append(f"step {n}: an entry stored twice: {stored}")
        return instrument.steps

    await sweep(scenario)
    return problems


async def test_guard_query_iterator_result_flush_cancelled_at_every_step_then_closed(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    problems: list[str] = []
    for one_read in (True, False):
        problems += await query_mirror_sweep(
            tmp_path, one_read=one_read, make_store=lambda: SlowStore(0.5), resume=False
        )
    assert not problems, "\n".join(problems)


async def test_guard_query_iterator_result_flush_cancelled_at_every_step_then_iterated_on(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    problems: list[str] = []
    for one_read in (True, False):
        problems += await query_mirror_sweep(
            tmp_path, one_read=one_read, make_store=lambda: SlowStore(0.5), resume=True
        )
    problems += await query_mirror_sweep(
        tmp_path, one_read=True, make_store=RefusingStore, resume=True
    )
    assert not problems, "\n".join(problems)


# ============================================ set_mcp_servers: McpRouter.unconfirmed


def mcp_router(session: tc.Session) -> Any:
    return session._request_handlers()["mcp_message"]


def given_up_then_landed(
    given_up: dict[str, Any], landing: dict[str, Any], problems: list[str]
) -> Callable[[tc.Session, Arm], Awaitable[None]]:
    """Calls: ``set_mcp_servers(given_up)`` cancelled at the swept step, then
    ``set_mcp_servers(landing)`` uncancelled; records ``unconfirmed`` left after it."""

    async def calls(session: tc.Session, arm: Arm) -> None:
        with trio.CancelScope() as scope:
            arm(scope)
            await session.set_mcp_servers(given_up)
        await session.set_mcp_servers(landing)
        left = mcp_router(session).unconfirmed
        if left:
            problems.append(f"unconfirmed {sorted(left)} after a set that landed")

    return calls


async def test_guard_given_up_set_adding_a_server_then_a_landing_set_dropping_it(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """``{"a"}`` -> ``{"a", "b"}`` given up at every step -> ``{"a"}`` lands: the route of
    ``b`` goes (``stale``), ``unconfirmed`` is empty, the router routes what the CLI holds."""
    a = server("a", "1")
    problems: list[str] = []
    calls = given_up_then_landed({"a": a, "b": server("b", "1")}, {"a": a}, problems)
    problems += await mcp_sweep(calls, first={"a": a})
    assert not problems, "\n".join(problems)


async def test_guard_given_up_set_then_a_landing_set_replacing_its_server(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """``{"a"}`` -> ``{"a", "b": B1}`` given up at every step -> ``{"a", "b": B2}`` lands (a
    replace of an unconfirmed route): the CLI and the router agree on ``B2``."""
    a = server("a", "1")
    problems: list[str] = []
    calls = given_up_then_landed(
        {"a": a, "b": server("b", "1")}, {"a": a, "b": server("b", "2")}, problems
    )
    problems += await mcp_sweep(calls, first={"a": a})
    assert not problems, "\n".join(problems)


async def test_a_given_up_set_that_dropped_a_server_leaves_its_route_after_a_set_lands(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """``{"a"}`` -> ``{"b"}`` given up (a deadline) once written: the CLI applies it and drops
    ``a``; the router keeps ``a``'s route (no answer read). Then ``{"b"}`` lands: the CLI
    holds ``b`` only and removes nothing (it dropped ``a`` before), so ``result.removed`` is
    empty; ``stale`` (``_control_api.py``, ``_set_mcp_servers_once``) only drops
    *unconfirmed* keys, i.e. those the given-up call *added*, and ``a`` is not one. The route
    of ``a`` (its server and tools) stays for the session's life, though the set that landed
    is the CLI's whole dynamic set. (fd85aa8 dropped every route outside the set sent; the
    work tree narrowed that to ``unconfirmed``.)"""
    problems: list[str] = []
    b = server("b", "1")
    calls = given_up_then_landed({"b": b}, {"b": b}, problems)
    problems += await mcp_sweep(calls, first={"a": server("a", "1")})
    assert not problems, "\n".join(problems)


# ======================================================= teams: FanOut._drop_pending


FINAL = {AgentState.DONE, AgentState.FAILED, AgentState.CANCELLED}


def fake(*turns: FakeTurn) -> tc.ClaudeAgentOptions:
    return tc.ClaudeAgentOptions(transport=FakeCLITransport(FakeScript(turns=list(turns))))


def reply(text: str) -> FakeTurn:
    return FakeTurn(steps=[Text(text), Sleep(0.1), Result(text=text)])


async def test_guard_fanout_cancelled_at_every_step_releases_gather_and_results(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A fan-out with ``limit=1`` and four tasks, a ``results()`` consumer in an enclosing
    nursery, the body cancelled after every step: the consumer ends, ``gather()`` afterwards
    returns, no task is outstanding, every agent ends in a final state, each outcome is seen
    once."""
    problems: list[str] = []

    async def scenario(n: float) -> int:
        instrument = CancelAfterSteps(n=n)
        fans: list[teams.FanOut] = []
        seen: list[str] = []
        done = trio.Event()

        async def consume(fan: teams.FanOut) -> None:
            async for outcome in fan.results():
                seen.append(outcome.agent)
            done.set()

        error: BaseException | None = None
        async with trio.open_nursery() as outer:
            trio.lowlevel.add_instrument(instrument)
            try:
                with trio.CancelScope() as scope:
                    instrument.arm(scope)
                    async with teams.open_fanout(fake(), limit=1) as fan:
                        fans.append(fan)
                        outer.start_soon(consume, fan)
                        for i in range(4):
                            fan.submit(f"p{i}", options=fake(reply(f"r{i}")))
                        await fan.gather()
            except BaseException as exc:
                error = exc
            finally:
                trio.lowlevel.remove_instrument(instrument)
            problem = bad_error(error)
            if problem:
                problems.append(f"step {n}: {problem}")
            if fans:
                fan = fans[0]
                with trio.move_on_after(60) as hung:
                    await done.wait()
                if hung.cancelled_caught:
                    problems.append(f"step {n}: the results() consumer hangs")
                with trio.move_on_after(60) as hung:
                    outcomes = await fan.gather()
                if hung.cancelled_caught:
                    problems.append(f"step {n}: gather() hangs after the close")
                else:
                    names = [o.agent for o in outcomes]
                    if len(names) != len(set(names)):
                        problems.append(f"step {n}: an outcome twice: {names}")
                if fan._outstanding:
                    problems.append(f"step {n}: {fan._outstanding} still outstanding")
                states = {name: a.state for name, a in fan.agents.items() if a.state not in FINAL}
                if states:
                    problems.append(f"step {n}: agents not final: {states}")
                if len(seen) != len(set(seen)):
                    problems.append(f"step {n}: results() gave an outcome twice: {seen}")
            outer.cancel_scope.cancel()
        return instrument.steps

    await sweep(scenario)
    assert not problems, "\n".join(problems)


# ===================================== ClaudeSDKClient.disconnect() in a newer cancel scope


class Recorded(FakeCLITransport):
    """The in-process fake CLI, remembering its children."""

    def __init__(self, script: FakeScript) -> None:
        super().__init__(script)
        self.children: list[Any] = []

    async def start(self, spec: Any, nursery: trio.Nursery) -> Any:
        child = await super().start(spec, nursery)
        self.children.append(child)
        return child


async def test_guard_disconnect_in_a_newer_scope_cancelled_at_every_step_then_again_outside(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """``disconnect()`` inside a cancel scope opened after ``connect()`` (a deadline around
    it), cancelled after every step: it raises the documented ``RuntimeError`` or is cancelled
    (never a group); a second ``disconnect()`` from the right place finishes without error,
    and the CLI is stopped."""
    problems: list[str] = []

    async def scenario(n: float) -> int:
        transport = Recorded(FakeScript(turns=[reply("hi")]))
        client = tc.ClaudeSDKClient(tc.ClaudeAgentOptions(transport=transport))
        await client.connect()
        await client.query("go")
        async for _ in client.receive_response():
            pass
        instrument = CancelAfterSteps(n=n)
        trio.lowlevel.add_instrument(instrument)
        try:
            with trio.CancelScope() as scope:
                instrument.arm(scope)
                await client.disconnect()
        except RuntimeError as exc:
            if isinstance(exc, BaseExceptionGroup) or "cancel scope" not in str(exc):
                problems.append(f"step {n}: {exc!r}")
        except BaseException as exc:
            problem = bad_error(exc)
            if problem:
                problems.append(f"step {n}: {problem}")
        finally:
            trio.lowlevel.remove_instrument(instrument)
        try:
            await client.disconnect()  # (no deadline: it would be a newer scope again)
        except BaseException as exc:
            problems.append(f"step {n}: the second disconnect() raised {exc!r}")
        for child in transport.children:
            if child.returncode is None:
                problems.append(f"step {n}: the CLI was not stopped")
        return instrument.steps

    await sweep(scenario)
    assert not problems, "\n".join(problems)


# =================================== ResumableSession.release() waiting for the idle state


async def test_guard_release_cancelled_at_every_step_leaves_a_usable_session(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """``release()`` right after a turn (it waits for the CLI's idle state), cancelled after
    every step: cancelled or a bool, and the next ``run()`` works (on the same CLI or a new
    one), each turn's result handed out once."""
    problems: list[str] = []

    async def scenario(n: float) -> int:
        transport = Recorded(FakeScript(turns=[reply("one"), reply("two"), reply("three")]))
        options = tc.ClaudeAgentOptions(transport=transport)
        instrument = CancelAfterSteps(n=n)
        with trio.fail_after(120):
            async with tc.open_resumable_session(options) as session:
                first = await session.run("one")
                trio.lowlevel.add_instrument(instrument)
                try:
                    with trio.CancelScope() as scope:
                        instrument.arm(scope)
                        await session.release()
                except BaseException as exc:
                    problem = bad_error(exc)
                    if problem:
                        problems.append(f"step {n}: {problem}")
                finally:
                    trio.lowlevel.remove_instrument(instrument)
                try:
                    second = await session.run("two")
                except BaseException as exc:
                    problems.append(f"step {n}: the next run() raised {exc!r}")
                else:
                    if (first.text, second.text) not in {("one", "two"), ("one", "one")}:
                        problems.append(f"step {n}: turns {first.text!r}, {second.text!r}")
                live = session._session
                if live is not None:
                    problems.extend(session_maps_problems(live, f"step {n}"))
        for child in transport.children:
            if child.returncode is None:
                problems.append(f"step {n}: a CLI was not stopped")
        return instrument.steps

    await sweep(scenario)
    assert not problems, "\n".join(problems)


# =============================================== MCP calls keyed by JSON-RPC id, cancelled


async def test_guard_mcp_calls_under_one_id_cancelled_at_every_step_leave_no_entry(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Three ``tools/call`` under one JSON-RPC id (``2``, ``2.0``, ``"2"``) and one with an id
    no cancel can name (a list), then a ``notifications/cancelled`` for ``2``; the callers
    cancelled after every step. Every caller gets an answer or is cancelled, never another
    error, and ``McpServerConnection._calls`` ends empty."""
    from trio_claude._mcp import McpServerConnection, sdk_server_instance

    @tc.tool("slow", "sleeps", {})
    async def slow(args: dict[str, Any]) -> dict[str, Any]:
        await trio.sleep(1)
        return {"content": [{"type": "text", "text": "ok"}]}

    problems: list[str] = []

    async def scenario(n: float) -> int:
        server = sdk_server_instance(tc.create_sdk_mcp_server("s", tools=[slow]))
        assert server is not None
        connection = McpServerConnection(server)
        instrument = CancelAfterSteps(n=n)

        async def one(msg_id: Any) -> None:
            call = {"jsonrpc": "2.0", "id": msg_id, "method": "tools/call"}
            call["params"] = {"name": "slow"}
            try:
                answer = await connection.handle(call)
            except BaseException as exc:
                problem = bad_error(exc)
                if problem:
                    problems.append(f"step {n}: {problem}")
                raise
            if "result" not in answer and "error" not in answer:
                problems.append(f"step {n}: {answer}")

        trio.lowlevel.add_instrument(instrument)
        try:
            with trio.CancelScope() as scope:
                instrument.arm(scope)
                async with trio.open_nursery() as nursery:
                    for msg_id in (2, 2.0, "2", [2]):
                        nursery.start_soon(one, msg_id)
                    await trio.sleep(0.5)
                    cancel = {"requestId": 2}
                    await connection.handle(
                        {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": cancel}
                    )
        finally:
            trio.lowlevel.remove_instrument(instrument)
        if connection._calls:
            problems.append(f"step {n}: _calls left {connection._calls}")
        return instrument.steps

    await sweep(scenario)
    assert not problems, "\n".join(problems)
