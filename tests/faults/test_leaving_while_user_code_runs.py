"""Leaving an SDK block (or cancelling an SDK call) while user code the SDK called, or a user
iterable the SDK reads, is still running or waiting.

Every place the SDK runs user code (permission, hook, MCP tool, elicitation and dialog
callbacks; prompt iterables; pool, team and store bodies; the blocking API) is left in every way
(a normal exit, an exception in the body, a cancelled scope, a deadline) while the user code is
blocked for ever, shielded for a while, raising as it is cancelled, or blocking in a worker
thread. Each exit must be prompt (or bounded), raise at most one typed error (never an exception
group), lose no error, and leave no task or process behind (the fault-suite conftest checks).
Time is virtual (``autojump_clock``); ``trio.fail_after`` turns a hang into a failure.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio
import trio.testing

import trio_claude as tc
import trio_claude.blocking as tcb
from tests._helpers import clock_waits_for_threads
from trio_claude import teams
from trio_claude._transport._base import ChildProcess, LaunchSpec
from trio_claude.testing.fake_cli import (
    Emit,
    FakeCLITransport,
    FakeScript,
    FakeTurn,
    Hang,
    Result,
    Sleep,
    Stderr,
    Step,
    Text,
)

if sys.version_info < (3, 11):  # pragma: no cover
    from exceptiongroup import BaseExceptionGroup

#: The virtual bound on every exit: long past any close timeout, short of for ever.
BOUND = 300
#: How long a shielded user callback holds out (virtual seconds).
SHIELDED = 30
#: A worker thread's own safety net (real seconds): it is released by the test long before.
THREAD_SAFETY = 20.0

BEHAVIOURS = ["hang", "shielded", "raises_on_cancel", "thread", "raises"]
# ("deadline", a move_on_after around the block, cancels as "cancel" does: not repeated.)
EXITS = ["normal", "raise", "cancel"]


class Boom(Exception):
    """The user's own error, raised in the block's body."""


class CleanupBug(Exception):
    """What a user callback raises while it is being cancelled."""


class UserCode:
    """One piece of user code, behaving as ``behaviour`` once the SDK calls it."""

    def __init__(self, behaviour: str) -> None:
        self.behaviour = behaviour
        self.entered = trio.Event()
        self.release = threading.Event()
        self.finished = False
        self.surfaced = False

    async def run(self) -> None:
        self.entered.set()
        try:
            if self.behaviour == "hang":
                await trio.sleep_forever()
            elif self.behaviour == "shielded":
                with trio.CancelScope(shield=True):
                    await trio.sleep(SHIELDED)
            elif self.behaviour == "raises_on_cancel":
                try:
                    await trio.sleep_forever()
                finally:
                    raise CleanupBug("user cleanup failed")
            elif self.behaviour == "thread":
                await self._in_thread()
            elif self.behaviour == "raises":
                await trio.lowlevel.checkpoint()
                raise CleanupBug("user code failed")
            else:  # pragma: no cover
                raise AssertionError(self.behaviour)
        finally:
            self.finished = True

    async def _in_thread(self) -> None:
        def block() -> None:
            self.release.wait(THREAD_SAFETY)

        await tc.in_thread(block)()


@pytest.fixture(autouse=True)
def settle(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The clock stands still while a worker thread of the SDK's works (starting a team,
    resuming from a store): a clock that jumped then would skip to the next deadline (the hang
    guard's) while one runs."""
    if "autojump_clock" not in request.fixturenames:
        yield
        return
    clock: trio.testing.MockClock = request.getfixturevalue("autojump_clock")
    # (The user code's own threads may block for long: a deadline is what abandons them.)
    with clock_waits_for_threads(clock, monkeypatch, except_threads="trio_claude.in_thread"):
        yield


async def leave(
    exit: str,
    block: Callable[[], contextlib.AbstractAsyncContextManager[Any]],
    body: Callable[[Any], Awaitable[None]],
    user: UserCode | None = None,
) -> BaseException | None:
    """Enters ``block``, runs ``body`` (which gets the user code running), then leaves the block
    as ``exit`` says, within ``BOUND`` virtual seconds. Returns what came out of it."""
    outcome: BaseException | None = None
    reached = False
    try:
        with trio.fail_after(BOUND):
            try:
                with trio.move_on_after(BOUND / 2 if exit != "deadline" else 5) as scope:
                    async with block() as value:
                        await body(value)
                        if user is not None:
                            await user.entered.wait()
                        reached = True
                        if exit == "raise":
                            raise Boom("the body failed")
                        if exit == "cancel":
                            scope.cancel()
                            await trio.sleep_forever()
                        if exit == "deadline":
                            await trio.sleep_forever()
                if exit == "normal" and scope.cancelled_caught:
                    raise AssertionError(
                        "leaving the block hung" if reached else "the user code never ran"
                    )
            except Boom as exc:
                outcome = exc
            except trio.TooSlowError:
                raise
            except BaseException as exc:
                outcome = exc
    finally:
        if user is not None:
            user.release.set()
    return outcome


def check_outcome(exit: str, outcome: BaseException | None, behaviour: str = "") -> None:
    """One typed error (the body's own) or nothing; never a group, never something else. A
    quiet exit may carry the error user code raised as it was cancelled (it is the user's)."""
    if behaviour == "raises" and isinstance(outcome, (CleanupBug, tc.ClaudeSDKError)):
        pass  # the user code failed first: its error, alone (or the SDK's typed error for it)
    elif exit == "raise":
        assert isinstance(outcome, Boom), f"expected the body's Boom alone, got {outcome!r}"
    elif behaviour == "raises_on_cancel" and isinstance(outcome, CleanupBug):
        pass
    else:
        assert outcome is None, f"a quiet exit raised {outcome!r}"


@contextlib.asynccontextmanager
async def own_nursery() -> AsyncIterator[trio.Nursery]:
    """A nursery of the test's own, whose group of one is unwrapped (so a group that comes out
    of the SDK is still seen as one)."""
    try:
        async with trio.open_nursery() as nursery:
            yield nursery
    except BaseExceptionGroup as group:
        # Our nursery's own group: collapse it to the body's Boom, else its one other child
        # (a Cancelled beside it belongs to an enclosing scope that is cancelled anyway). A
        # child that is itself a group came out of the SDK and is kept as it is.
        _, rest = group.split(trio.Cancelled)
        children = [] if rest is None else list(rest.exceptions)
        booms = [c for c in children if isinstance(c, Boom)]
        if booms or len(children) == 1:
            raise (booms or children)[0] from None
        raise


@contextlib.contextmanager
def surfaced(user: UserCode) -> Iterator[None]:
    """The error user code raised as it was cancelled, coming out (alone) of the SDK call that
    was running it: that is right, and recorded."""
    try:
        yield
    except CleanupBug:
        user.surfaced = True


async def pull_until_entered(messages: Any, user: UserCode) -> None:
    """Iterates a pull-based stream (which serves callbacks only while read) until the user
    code is running, then stops reading."""

    async def drain() -> None:
        with surfaced(user):
            async for _ in messages:
                pass

    async with own_nursery() as nursery:
        nursery.start_soon(drain)
        await user.entered.wait()
        nursery.cancel_scope.cancel()


# --------------------------------------------------------------- CLI -> SDK callbacks


def _control(request_id: str, request: dict[str, Any]) -> Emit:
    return Emit({"type": "control_request", "request_id": request_id, "request": request})


DIALOG = {
    "subtype": "request_user_dialog",
    "dialog_kind": "refusal_fallback_prompt",
    "payload": {"originalModel": "a", "fallbackModel": "b"},
    "tool_use_id": "toolu_1",
}
MCP_CALL = {
    "subtype": "mcp_message",
    "server_name": "srv",
    "message": {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "t"}},
}
HOOK_CALL = {
    "subtype": "hook_callback",
    "callback_id": "hook_0",
    "input": {"hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_input": {}},
    "tool_use_id": "toolu_1",
}
REQUESTS: dict[str, dict[str, Any]] = {
    "can_use_tool": {"subtype": "can_use_tool", "tool_name": "Bash", "input": {"x": 1}},
    "hook": HOOK_CALL,
    "mcp_tool": MCP_CALL,
    "elicitation": {"subtype": "elicitation", "mcp_server_name": "gh", "message": "?"},
    "user_dialog": DIALOG,
}
PLACES = list(REQUESTS)


class HostedFake(FakeCLITransport):
    """The in-process fake CLI, its task run in the test's nursery (the iterator form of
    ``query()`` has no nursery of its own)."""

    def __init__(self, script: FakeScript, host: trio.Nursery) -> None:
        super().__init__(script)
        self.host = host

    async def start(self, spec: LaunchSpec, nursery: trio.Nursery) -> ChildProcess:
        return await super().start(spec, self.host)


def callback_options(
    place: str, user: UserCode, *later: FakeTurn, host: trio.Nursery | None = None
) -> tc.ClaudeAgentOptions:
    """Options whose first turn asks the callback of ``place`` (then never ends: the CLI waits
    for the answer), with ``user`` as that callback."""
    steps: list[Step] = [Text("asking"), _control("r-1", REQUESTS[place]), Hang()]
    script = FakeScript(turns=[FakeTurn(steps=steps), *later])
    kw: dict[str, Any] = {"close_timeout": 5}

    async def callback(*args: Any) -> Any:
        await user.run()
        raise AssertionError("unreachable in these probes")

    if place == "can_use_tool":
        kw["can_use_tool"] = callback
    elif place == "hook":
        kw["hooks"] = {"PreToolUse": [tc.HookMatcher(hooks=[callback])]}
    elif place == "mcp_tool":
        kw["mcp_servers"] = {
            "srv": tc.create_sdk_mcp_server("srv", tools=[tc.tool("t", "d")(callback)])
        }
    elif place == "elicitation":
        kw["on_elicitation"] = callback
    elif place == "user_dialog":
        kw["on_user_dialog"] = callback
        kw["supported_dialog_kinds"] = ["refusal_fallback_prompt"]
    transport = FakeCLITransport(script) if host is None else HostedFake(script, host)
    return tc.ClaudeAgentOptions(transport=transport, **kw)


@pytest.mark.parametrize("exit", EXITS)
@pytest.mark.parametrize("behaviour", BEHAVIOURS)
@pytest.mark.parametrize("place", PLACES)
async def test_leaving_open_session_while_a_callback_runs(
    place: str, behaviour: str, exit: str, autojump_clock: trio.testing.MockClock
) -> None:
    user = UserCode(behaviour)
    options = callback_options(place, user)

    async def body(session: tc.Session) -> None:
        await session.send("go")

    outcome = await leave(exit, lambda: tc.open_session(options), body, user)
    check_outcome(exit, outcome, behaviour)
    assert user.finished or behaviour == "thread"


@contextlib.asynccontextmanager
async def iterator_form(messages: Any, exit: str) -> AsyncIterator[Any]:
    """The iterator form of ``query()``, closed by ``aclose()`` or by ``aclosing``."""
    if exit == "aclose":
        yield messages
        await messages.aclose()
    else:
        async with contextlib.aclosing(messages):
            yield messages


async def _until_first_message(stream: AsyncIterator[Any]) -> None:
    async for _ in stream:
        break


@pytest.mark.parametrize("exit", EXITS)
@pytest.mark.parametrize("behaviour", BEHAVIOURS)
@pytest.mark.parametrize("place", ["can_use_tool", "hook", "mcp_tool"])
async def test_leaving_the_session_form_of_query_while_a_callback_runs(
    place: str, behaviour: str, exit: str, autojump_clock: trio.testing.MockClock
) -> None:
    user = UserCode(behaviour)
    options = callback_options(place, user)
    outcome = await leave(
        exit, lambda: tc.query(prompt="go", options=options), _until_first_message, user
    )
    check_outcome(exit, outcome, behaviour)


@pytest.mark.parametrize("exit", [*EXITS, "aclose"])
@pytest.mark.parametrize("behaviour", BEHAVIOURS)
@pytest.mark.parametrize("place", ["can_use_tool", "hook", "mcp_tool"])
async def test_leaving_the_iterator_form_of_query_while_a_callback_runs(
    place: str, behaviour: str, exit: str, autojump_clock: trio.testing.MockClock
) -> None:
    user = UserCode(behaviour)
    async with trio.open_nursery() as host:
        options = callback_options(place, user, host=host)
        outcome = await leave(
            "normal" if exit == "aclose" else exit,
            lambda: iterator_form(tc.query(prompt="go", options=options), exit),
            lambda messages: pull_until_entered(messages, user),
            user,
        )
        host.cancel_scope.cancel()
    check_outcome(exit, outcome, behaviour)


@pytest.mark.parametrize("exit", EXITS)
@pytest.mark.parametrize("behaviour", BEHAVIOURS)
@pytest.mark.parametrize("place", ["can_use_tool", "hook", "elicitation"])
async def test_leaving_claude_sdk_client_while_a_callback_runs(
    place: str, behaviour: str, exit: str, autojump_clock: trio.testing.MockClock
) -> None:
    user = UserCode(behaviour)
    options = callback_options(place, user)

    async def body(client: tc.ClaudeSDKClient) -> None:
        await client.query("go")
        await _until_first_message(client.receive_messages())

    outcome = await leave(exit, lambda: tc.ClaudeSDKClient(options), body, user)
    check_outcome(exit, outcome, behaviour)


# ------------------------------------------------------------------- prompt iterables


def _answers(n: int) -> FakeScript:
    return FakeScript(turns=[FakeTurn((Text(f"a{k}"), Result(text=f"a{k}"))) for k in range(n)])


def prompt_feed(user: UserCode) -> AsyncIterator[dict[str, Any]]:
    """One prompt, then the user code (waiting for the next prompt, say)."""

    async def prompts() -> AsyncIterator[dict[str, Any]]:
        yield {"type": "user", "message": {"role": "user", "content": "p0"}}
        await user.run()

    return prompts()


class FeedIterable:
    """A plain async iterable (not a generator): the SDK may not close it, only stop reading."""

    def __init__(self, user: UserCode) -> None:
        self.user = user
        self.sent = False

    def __aiter__(self) -> FeedIterable:
        return self

    async def __anext__(self) -> dict[str, Any]:
        if not self.sent:
            self.sent = True
            return {"type": "user", "message": {"role": "user", "content": "p0"}}
        await self.user.run()
        raise StopAsyncIteration


def make_feed(kind: str, user: UserCode) -> Any:
    return prompt_feed(user) if kind == "generator" else FeedIterable(user)


FEEDS = ["generator", "iterable"]


def _feed_matrix(exclude: Callable[[str, str, str], bool]) -> list[Any]:
    return [
        pytest.param(feed, behaviour, exit, id=f"{feed}-{behaviour}-{exit}")
        for feed in FEEDS
        for behaviour in BEHAVIOURS
        for exit in EXITS
        if not exclude(feed, behaviour, exit)
    ]


def _two_errors(feed: str, behaviour: str, exit: str) -> bool:
    """The combination of the finding below (the body and the feed both fail)."""
    return behaviour == "raises_on_cancel" and exit == "raise"


@pytest.mark.parametrize(("feed", "behaviour", "exit"), _feed_matrix(_two_errors))
async def test_leaving_the_session_form_of_query_while_the_feed_runs(
    feed: str, behaviour: str, exit: str, autojump_clock: trio.testing.MockClock
) -> None:
    user = UserCode(behaviour)
    options = tc.ClaudeAgentOptions(transport=FakeCLITransport(_answers(3)), close_timeout=5)
    prompts = make_feed(feed, user)
    outcome = await leave(
        exit, lambda: tc.query(prompt=prompts, options=options), _until_first_message, user
    )
    check_outcome(exit, outcome, behaviour)


# FINDING: async with query(feed): the body and the cancelled feed both fail -> bare ExceptionGroup
@pytest.mark.parametrize("feed", FEEDS)
async def test_the_session_form_of_query_raises_the_body_s_error_alone(
    feed: str, autojump_clock: trio.testing.MockClock
) -> None:
    """The body of ``async with query(prompt=feed)`` raises while the feed waits for its next
    prompt, and the feed raises as it is cancelled (a failing ``finally``; for an async
    generator, also when the SDK closes it). The block raises a bare
    ``ExceptionGroup([Boom, CleanupBug])``: the feed task runs in the block's nursery
    (``Query.__aenter__``/``__aexit__``, ``_query.py``) and its error is not collapsed.
    Expected: the body's own exception alone, as it is (as for a callback failing as it is
    cancelled, the feed's error logged), never an exception group."""
    user = UserCode("raises_on_cancel")
    options = tc.ClaudeAgentOptions(transport=FakeCLITransport(_answers(3)), close_timeout=5)
    prompts = make_feed(feed, user)
    outcome = await leave(
        "raise", lambda: tc.query(prompt=prompts, options=options), _until_first_message, user
    )
    assert isinstance(outcome, Boom), f"expected the body's Boom alone, got {outcome!r}"


@pytest.mark.parametrize("exit", [*EXITS, "aclose"])
@pytest.mark.parametrize("behaviour", BEHAVIOURS)
@pytest.mark.parametrize("feed", FEEDS)
async def test_leaving_the_iterator_form_of_query_while_the_feed_runs(
    feed: str, behaviour: str, exit: str, autojump_clock: trio.testing.MockClock
) -> None:
    user = UserCode(behaviour)
    prompts = make_feed(feed, user)

    async def body(messages: Any) -> None:
        await pull_until_entered(messages, user)

    async with trio.open_nursery() as host:
        transport = HostedFake(_answers(3), host)
        options = tc.ClaudeAgentOptions(transport=transport, close_timeout=5)
        outcome = await leave(
            "normal" if exit == "aclose" else exit,
            lambda: iterator_form(tc.query(prompt=prompts, options=options), exit),
            body,
            user,
        )
        host.cancel_scope.cancel()
    check_outcome(exit, outcome, behaviour)


@pytest.mark.parametrize("exit", EXITS)
@pytest.mark.parametrize("behaviour", BEHAVIOURS)
@pytest.mark.parametrize("feed", FEEDS)
async def test_cancelling_client_query_while_the_feed_runs(
    feed: str, behaviour: str, exit: str, autojump_clock: trio.testing.MockClock
) -> None:
    """``await client.query(feed)`` reads the feed to its end; the body cancels that call (or
    leaves the client's block around it)."""
    user = UserCode(behaviour)
    options = tc.ClaudeAgentOptions(transport=FakeCLITransport(_answers(3)), close_timeout=5)
    prompts = make_feed(feed, user)

    async def body(client: tc.ClaudeSDKClient) -> None:
        with surfaced(user):
            async with own_nursery() as nursery:
                nursery.start_soon(client.query, prompts)
                await user.entered.wait()
                nursery.cancel_scope.cancel()

    outcome = await leave(exit, lambda: tc.ClaudeSDKClient(options), body, user)
    check_outcome(exit, outcome, behaviour)


CALLS = ["client_query", "stream_input"]


@contextlib.asynccontextmanager
async def reading_from_outside(call: str, prompts: Any) -> AsyncIterator[Any]:
    """The SDK call that reads the feed runs in the caller's nursery, *around* the SDK block
    (``nursery.start(session.stream_input, prompts)`` with the nursery opened first)."""
    options = tc.ClaudeAgentOptions(transport=FakeCLITransport(_answers(3)), close_timeout=5)
    async with own_nursery() as nursery:
        if call == "client_query":
            async with tc.ClaudeSDKClient(options) as client:
                nursery.start_soon(client.query, prompts)
                yield client.session
        else:
            async with tc.open_session(options) as session:
                await nursery.start(session.stream_input, prompts)
                yield session


def _waits_for_ever(feed: str, behaviour: str, exit: str) -> bool:
    """The combinations of the finding below (a quiet exit, a feed that does not end)."""
    return exit == "normal" and behaviour in ("hang", "thread")


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize(("feed", "behaviour", "exit"), _feed_matrix(_waits_for_ever))
async def test_leaving_the_block_while_a_call_in_the_caller_s_nursery_reads_the_feed(
    call: str, feed: str, behaviour: str, exit: str, autojump_clock: trio.testing.MockClock
) -> None:
    user = UserCode(behaviour)
    prompts = make_feed(feed, user)

    async def body(session: tc.Session) -> None:
        await _until_first_message(session.receive_messages())

    outcome = await leave(exit, lambda: reading_from_outside(call, prompts), body, user)
    check_outcome(exit, outcome, behaviour)


# FINDING: client.query(feed)/stream_input(feed) wait on the feed for ever after the block closed
@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("behaviour", ["hang", "thread"])
@pytest.mark.parametrize("feed", FEEDS)
async def test_a_call_reading_the_feed_ends_when_its_session_closes(
    feed: str, behaviour: str, call: str, autojump_clock: trio.testing.MockClock
) -> None:
    """``client.query(feed)`` and ``session.stream_input(feed)`` read the user's prompts in a
    task of the caller's nursery. Leaving the client's (or session's) block normally, after the
    first answer, while the feed waits for its next prompt: the call goes on awaiting the feed
    (``async for item in feed`` in ``ClaudeSDKClient.query`` / ``Session.stream_input``), so the
    caller's nursery waits for ever, with the session long closed. Expected: the call stops
    reading once its session is closed (returns, or raises ``SessionClosedError``), closing an
    async generator as it does on any other early end (the fix made for ``query()``'s own
    feed task), so the caller's block ends."""
    user = UserCode(behaviour)
    prompts = make_feed(feed, user)

    async def body(session: tc.Session) -> None:
        await _until_first_message(session.receive_messages())

    outcome = await leave("normal", lambda: reading_from_outside(call, prompts), body, user)
    assert outcome is None or isinstance(outcome, tc.SessionClosedError), repr(outcome)


@pytest.mark.parametrize("exit", EXITS)
@pytest.mark.parametrize("behaviour", BEHAVIOURS)
@pytest.mark.parametrize("feed", FEEDS)
async def test_leaving_open_session_while_stream_input_reads_the_feed(
    feed: str, behaviour: str, exit: str, autojump_clock: trio.testing.MockClock
) -> None:
    user = UserCode(behaviour)
    options = tc.ClaudeAgentOptions(transport=FakeCLITransport(_answers(3)), close_timeout=5)
    prompts = make_feed(feed, user)

    @contextlib.asynccontextmanager
    async def block() -> AsyncIterator[tc.Session]:
        async with tc.open_session(options) as session, own_nursery() as nursery:
            await nursery.start(session.stream_input, prompts)
            yield session
            nursery.cancel_scope.cancel()

    async def body(session: tc.Session) -> None:
        await _until_first_message(session.receive_messages())

    outcome = await leave(exit, block, body, user)
    check_outcome(exit, outcome, behaviour)


# ----------------------------------------------------------------- pools and teams

QUIET_OR_RAISE = ["raise", "cancel"]


@pytest.mark.parametrize("exit", EXITS)
@pytest.mark.parametrize("behaviour", BEHAVIOURS)
@pytest.mark.parametrize("place", ["can_use_tool", "hook", "mcp_tool"])
async def test_leaving_a_pool_while_a_callback_runs_in_a_lent_session(
    place: str, behaviour: str, exit: str, autojump_clock: trio.testing.MockClock
) -> None:
    """The user body holds ``pool.session()`` (a turn waits for the callback) and the pool's
    block is left from inside it."""
    user = UserCode(behaviour)
    options = callback_options(place, user)

    @contextlib.asynccontextmanager
    async def block() -> AsyncIterator[tc.Session]:
        async with tc.open_session_pool(options, size=1) as pool, pool.session() as session:
            yield session

    async def body(session: tc.Session) -> None:
        await session.send("go")

    outcome = await leave(exit, block, body, user)
    check_outcome(exit, outcome, behaviour)


@pytest.mark.parametrize("exit", QUIET_OR_RAISE)
@pytest.mark.parametrize("behaviour", BEHAVIOURS)
async def test_leaving_a_fanout_while_a_task_s_callback_runs(
    behaviour: str, exit: str, autojump_clock: trio.testing.MockClock
) -> None:
    """(A normal exit waits for every submitted task, as documented: not probed.)"""
    user = UserCode(behaviour)
    options = callback_options("can_use_tool", user)

    async def body(fan: teams.FanOut) -> None:
        fan.submit("go")

    outcome = await leave(exit, lambda: teams.open_fanout(options, limit=2), body, user)
    check_outcome(exit, outcome, behaviour)


@pytest.mark.parametrize("exit", QUIET_OR_RAISE)
@pytest.mark.parametrize("behaviour", BEHAVIOURS)
@pytest.mark.parametrize("where", ["work", "callback"])
async def test_leaving_a_supervisor_while_a_child_s_user_code_runs(
    where: str, behaviour: str, exit: str, autojump_clock: trio.testing.MockClock
) -> None:
    """The child's work function (or a callback of its turn) is the user code; leaving must
    not restart it, nor wait for it."""
    user = UserCode(behaviour)
    options = callback_options("can_use_tool", user)

    async def work(agent: teams.Agent) -> str:
        if where == "work":
            await user.run()
            return "done"
        return (await agent.run("go")).text

    async def body(sup: teams.Supervisor) -> None:
        sup.start_agent("child", options, work)

    outcome = await leave(exit, lambda: teams.open_supervisor(max_restarts=3), body, user)
    check_outcome(exit, outcome, behaviour)


@pytest.mark.parametrize("exit", QUIET_OR_RAISE)
@pytest.mark.parametrize("behaviour", BEHAVIOURS)
async def test_leaving_a_pipeline_while_a_stage_s_callback_runs(
    behaviour: str, exit: str, autojump_clock: trio.testing.MockClock
) -> None:
    user = UserCode(behaviour)
    stage = teams.Stage("one", callback_options("can_use_tool", user))

    async def body(pipe: teams.Pipeline) -> None:
        await pipe.input.send("item")

    outcome = await leave(exit, lambda: teams.open_pipeline([stage]), body, user)
    check_outcome(exit, outcome, behaviour)


# -------------------------------------------------------------------- session stores

SID = "11111111-1111-4111-8111-111111111111"


class UserStore(tc.InMemorySessionStore):
    """A store whose ``append`` and ``load`` are the user code."""

    def __init__(self, user: UserCode) -> None:
        super().__init__()
        self.user = user

    async def append(self, key: tc.SessionKey, entries: list[tc.SessionStoreEntry]) -> None:
        await self.user.run()

    async def load(self, key: tc.SessionKey) -> Any:
        await self.user.run()
        return [{"type": "user", "uuid": "u-1", "message": {"role": "user", "content": "hi"}}]


def mirroring_options(tmp_path: Path, user: UserCode, **kw: Any) -> tc.ClaudeAgentOptions:
    file_path = str(tmp_path / "config" / "projects" / "p" / f"{SID}.jsonl")
    mirror = {"type": "transcript_mirror", "filePath": file_path, "entries": [{"uuid": "u-1"}]}
    steps: list[Step] = [Emit(mirror), Text("x"), Result(text="x")]
    return tc.ClaudeAgentOptions(
        transport=FakeCLITransport(FakeScript(turns=[FakeTurn(steps=steps)])),
        session_store=UserStore(user),
        env={"CLAUDE_CONFIG_DIR": str(tmp_path / "config")},
        close_timeout=5,
        **kw,
    )


@pytest.mark.parametrize("exit", EXITS)
@pytest.mark.parametrize("behaviour", BEHAVIOURS)
async def test_leaving_open_session_while_the_store_appends(
    behaviour: str, exit: str, tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    user = UserCode(behaviour)
    options = mirroring_options(tmp_path, user)

    async def body(session: tc.Session) -> None:
        await session.send("go")

    outcome = await leave(exit, lambda: tc.open_session(options), body, user)
    check_outcome(exit, outcome, behaviour)


@pytest.mark.parametrize("exit", ["cancel", "deadline"])
@pytest.mark.parametrize("behaviour", BEHAVIOURS)
async def test_cancelling_open_session_while_the_store_loads(
    behaviour: str, exit: str, tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    """Resuming from the store: ``open_session`` itself waits for ``load``."""
    user = UserCode(behaviour)
    options = mirroring_options(tmp_path, user, resume=SID, cwd=str(tmp_path))
    outcome: BaseException | None = None
    try:
        with trio.fail_after(BOUND):
            with trio.move_on_after(5 if exit == "deadline" else BOUND / 2) as scope:
                async with own_nursery() as nursery:

                    async def cancel_once_entered() -> None:
                        await user.entered.wait()
                        if exit == "cancel":
                            scope.cancel()

                    nursery.start_soon(cancel_once_entered)
                    async with tc.open_session(options):
                        raise AssertionError("opened while the store still loads")
            assert user.entered.is_set()
    except trio.TooSlowError:
        raise
    except BaseException as exc:
        outcome = exc
    finally:
        user.release.set()
    # Cancelled while loading: a quiet exit; or the load's own error as it is (stores.md:
    # "anything else ... is raised as it is"), or typed; never a group
    assert outcome is None or (
        isinstance(outcome, (CleanupBug, tc.ClaudeSDKError))
        and behaviour in ("raises_on_cancel", "raises")
    ), repr(outcome)


# ----------------------------------------------------------------------- the stderr callback


@pytest.mark.parametrize("exit", EXITS)
async def test_leaving_open_session_while_the_stderr_callback_raises(
    exit: str, autojump_clock: trio.testing.MockClock
) -> None:
    """``stderr`` is a plain function called on the loop: one that raises on every line (the
    last lines come at close) is logged, never propagated."""
    user = UserCode("hang")  # only its `entered`: the callback saw a line
    lines: list[str] = []

    def on_stderr(line: str) -> None:
        lines.append(line)
        user.entered.set()
        raise CleanupBug("stderr callback failed")

    steps: list[Step] = [Stderr("one"), Text("x"), Sleep(1), Stderr("two"), Hang()]
    options = tc.ClaudeAgentOptions(
        transport=FakeCLITransport(FakeScript(turns=[FakeTurn(steps=steps)])),
        stderr=on_stderr,
        close_timeout=5,
    )

    async def body(session: tc.Session) -> None:
        await session.send("go")

    outcome = await leave(exit, lambda: tc.open_session(options), body, user)
    check_outcome(exit, outcome)
    assert lines[:1] == ["one"]


# ---------------------------------------------------------------------- the blocking API


class ThreadUser:
    """A callback for a blocking session (run in the session's own loop thread)."""

    def __init__(self, behaviour: str) -> None:
        self.behaviour = behaviour
        self.entered = threading.Event()
        self.release = threading.Event()

    async def callback(self, *args: Any) -> Any:
        self.entered.set()
        if self.behaviour == "hang":
            await trio.sleep_forever()
        elif self.behaviour == "raises_on_cancel":
            try:
                await trio.sleep_forever()
            finally:
                raise CleanupBug("user cleanup failed")
        else:
            await tc.in_thread(lambda: self.release.wait(THREAD_SAFETY))()
        raise AssertionError("unreachable")


@pytest.mark.parametrize("exit", ["normal", "raise"])
@pytest.mark.parametrize("behaviour", ["hang", "raises_on_cancel", "thread"])
@pytest.mark.parametrize("place", ["can_use_tool", "hook", "mcp_tool"])
def test_leaving_a_blocking_session_while_a_callback_runs(
    place: str, behaviour: str, exit: str
) -> None:
    """The blocking API closes its session from the caller's thread; the hang guard is a
    join with a (real) timeout, far beyond what the close needs."""
    user = ThreadUser(behaviour)
    options = callback_options(place, UserCode("hang"))
    options = attrs.evolve(options, **_callback_kw(place, user.callback))
    outcome: list[BaseException | None] = []

    def main() -> None:
        try:
            with tcb.open_session(options) as session:
                session.send("go")
                assert user.entered.wait(THREAD_SAFETY), "the callback never ran"
                if exit == "raise":
                    raise Boom("the body failed")
        except BaseException as exc:
            outcome.append(exc)
        else:
            outcome.append(None)

    thread = threading.Thread(target=main, daemon=True)
    thread.start()
    thread.join(THREAD_SAFETY * 3)
    user.release.set()
    assert not thread.is_alive(), "leaving the blocking session hung"
    check_outcome(exit, outcome[0], behaviour)


def _callback_kw(place: str, callback: Callable[..., Any]) -> dict[str, Any]:
    if place == "can_use_tool":
        return {"can_use_tool": callback}
    if place == "hook":
        return {"hooks": {"PreToolUse": [tc.HookMatcher(hooks=[callback])]}}
    server = tc.create_sdk_mcp_server("srv", tools=[tc.tool("t", "d")(callback)])
    return {"mcp_servers": {"srv": server}}


# ------------------------------------------------------------ more team shapes and calls


@pytest.mark.parametrize("exit", QUIET_OR_RAISE)
@pytest.mark.parametrize("behaviour", BEHAVIOURS)
async def test_leaving_a_debate_while_a_speaker_s_callback_runs(
    behaviour: str, exit: str, autojump_clock: trio.testing.MockClock
) -> None:
    """``debate.run()`` runs in the caller's nursery inside the block; the speaker's turn
    waits for its permission callback."""
    user = UserCode(behaviour)
    agents = {"a": callback_options("can_use_tool", user), "b": tc.ClaudeAgentOptions()}
    agents["b"] = attrs.evolve(agents["b"], transport=FakeCLITransport(_answers(3)))

    @contextlib.asynccontextmanager
    async def block() -> AsyncIterator[teams.Debate]:
        async with teams.open_debate(agents, max_rounds=2) as debate, own_nursery() as nursery:
            nursery.start_soon(debate.run, "topic")
            yield debate

    async def body(debate: teams.Debate) -> None:
        pass

    outcome = await leave(exit, block, body, user)
    check_outcome(exit, outcome, behaviour)


@pytest.mark.parametrize("exit", QUIET_OR_RAISE)
@pytest.mark.parametrize("behaviour", BEHAVIOURS)
async def test_leaving_a_supervisor_while_a_plain_child_runs(
    behaviour: str, exit: str, autojump_clock: trio.testing.MockClock
) -> None:
    """``start_child(name, fn)``: ``fn`` is the user code itself."""
    user = UserCode(behaviour)

    async def body(sup: teams.Supervisor) -> None:
        sup.start_child("child", user.run)

    outcome = await leave(exit, lambda: teams.open_supervisor(max_restarts=3), body, user)
    check_outcome(exit, outcome, behaviour)


@pytest.mark.parametrize("exit", QUIET_OR_RAISE)
@pytest.mark.parametrize("behaviour", BEHAVIOURS)
async def test_leaving_a_fanout_while_its_results_are_read(
    behaviour: str, exit: str, autojump_clock: trio.testing.MockClock
) -> None:
    """The body breaks out of ``fan.results()`` after the first outcome, while another task's
    callback still runs."""
    user = UserCode(behaviour)
    slow = callback_options("can_use_tool", user)
    quick = tc.ClaudeAgentOptions(transport=FakeCLITransport(_answers(1)))

    async def body(fan: teams.FanOut) -> None:
        fan.submit("slow", options=slow)
        fan.submit("quick", options=quick)
        async for _ in fan.results():
            break

    outcome = await leave(exit, lambda: teams.open_fanout(limit=2), body, user)
    check_outcome(exit, outcome, behaviour)


@pytest.mark.parametrize("behaviour", BEHAVIOURS)
@pytest.mark.parametrize("place", ["can_use_tool", "hook", "mcp_tool"])
async def test_cancelling_session_run_while_a_callback_runs_leaves_the_session_usable(
    place: str, behaviour: str, autojump_clock: trio.testing.MockClock
) -> None:
    """Cancelling one SDK call (``session.run`` under a deadline) while its turn waits for a
    callback: the turn is interrupted, the next turn works, and the block is left cleanly."""
    user = UserCode(behaviour)
    options = callback_options(place, user, FakeTurn.reply("next"))
    with trio.fail_after(BOUND):
        async with tc.open_session(options) as session:
            with trio.move_on_after(5):
                await session.run("go")
            assert user.entered.is_set()
            try:
                turn = await session.run("again")
            finally:
                user.release.set()
            assert turn.text == "next"


class _SyncBug(Exception):
    """A sync user function of a team shape failing."""


def _raise_bug(*args: Any) -> Any:
    raise _SyncBug("user function failed")


@pytest.mark.parametrize("where", ["debate_until", "debate_vote", "debate_prompt", "stage_prompt"])
async def test_a_sync_user_function_of_a_team_raising_comes_out_alone(
    where: str, autojump_clock: trio.testing.MockClock
) -> None:
    """A function given to a shape (a debate's ``until``/``vote``/``prompt``, a pipeline
    stage's ``prompt``) raising: the block (or ``run()``) raises that exception as it is."""
    answers = tc.ClaudeAgentOptions(transport=FakeCLITransport(_answers(3)))
    with trio.fail_after(BOUND):
        with pytest.raises(_SyncBug):
            if where == "stage_prompt":
                stage = teams.Stage("one", answers, prompt=_raise_bug)
                async with teams.open_pipeline([stage]) as pipe:
                    await pipe.input.send("item")
                    await pipe.output.receive()
            else:
                kw: dict[str, Any] = {where.removeprefix("debate_"): _raise_bug}
                if where == "debate_vote":
                    kw["quorum"] = 1
                fresh = {"a": answers, "b": attrs.evolve(answers, transport=FakeCLITransport())}
                async with teams.open_debate(fresh, max_rounds=2, **kw) as debate:
                    await debate.run("topic")


@pytest.mark.parametrize("exit", QUIET_OR_RAISE)
@pytest.mark.parametrize("behaviour", BEHAVIOURS)
@pytest.mark.filterwarnings("ignore:can_use_tool will not be invoked")
@pytest.mark.parametrize("shape", ["blackboard", "team"])
async def test_leaving_a_blackboard_or_a_team_while_an_agent_s_callback_runs(
    shape: str, behaviour: str, exit: str, autojump_clock: trio.testing.MockClock
) -> None:
    """A blackboard's background turn (``team.start``) or a lead's turn (``team.run`` in the
    caller's nursery) waits for the agent's permission callback."""
    user = UserCode(behaviour)
    options = callback_options("can_use_tool", user)
    other = tc.ClaudeAgentOptions(transport=FakeCLITransport(_answers(3)))

    @contextlib.asynccontextmanager
    async def block() -> AsyncIterator[None]:
        if shape == "blackboard":
            agents = {"a": options, "b": other}
            async with teams.open_blackboard(agents) as board:
                board.start("a", "go")
                yield
        else:
            async with teams.open_team(options, {"mate": other}) as team, own_nursery() as n:
                n.start_soon(team.run, "go")
                yield

    async def body(_: None) -> None:
        pass

    outcome = await leave(exit, block, body, user)
    check_outcome(exit, outcome, behaviour)


@pytest.mark.parametrize("behaviour", ["hang", "raises_on_cancel", "thread"])
@pytest.mark.parametrize("exit", ["break", "raise"])
def test_leaving_the_blocking_query_while_a_callback_runs(behaviour: str, exit: str) -> None:
    """``with tcb.query(...) as messages: for m in messages: break`` while the turn waits for
    a permission callback (the hang guard is a join with a real timeout, as above)."""
    user = ThreadUser(behaviour)
    options = callback_options("can_use_tool", UserCode("hang"))
    options = attrs.evolve(options, can_use_tool=user.callback)
    outcome: list[BaseException | None] = []

    def main() -> None:
        try:
            with tcb.query("go", options=options) as messages:
                for _ in messages:
                    break
                assert user.entered.wait(THREAD_SAFETY), "the callback never ran"
                if exit == "raise":
                    raise Boom("the body failed")
        except BaseException as exc:
            outcome.append(exc)
        else:
            outcome.append(None)

    thread = threading.Thread(target=main, daemon=True)
    thread.start()
    thread.join(THREAD_SAFETY * 3)
    user.release.set()
    assert not thread.is_alive(), "leaving the blocking query hung"
    check_outcome("raise" if exit == "raise" else "normal", outcome[0], behaviour)


@pytest.mark.parametrize("behaviour", BEHAVIOURS)
async def test_leaving_a_pool_while_a_caller_s_task_holds_a_lent_session(
    behaviour: str, autojump_clock: trio.testing.MockClock
) -> None:
    """A task of the caller's nursery, around the pool's block, holds ``pool.session()`` and
    runs a turn that waits for a callback; the pool's block is left normally. "Leaving
    ``open_session_pool`` closes every session" (sessions.md): the lent session too, so the
    turn ends (``SessionClosedError``) and the task's block with it."""
    user = UserCode(behaviour)
    options = callback_options("can_use_tool", user)
    errors: list[BaseException] = []

    async def hold(pool: tc.SessionPool) -> None:
        try:
            async with pool.session() as session:
                await session.run("go")
        except tc.ClaudeSDKError as exc:
            errors.append(exc)

    with trio.fail_after(BOUND):
        try:
            with trio.move_on_after(BOUND / 2) as scope:
                async with own_nursery() as nursery, tc.open_session_pool(options, size=1) as pool:
                    nursery.start_soon(hold, pool)
                    await user.entered.wait()
        finally:
            user.release.set()
    assert not scope.cancelled_caught, "leaving the pool waited for the lent session's turn"
    assert all(isinstance(e, tc.SessionClosedError) for e in errors), errors
