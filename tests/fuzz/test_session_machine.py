"""A rule-based state machine of a session against the in-process FakeCLI.

How trio runs under ``hypothesis.stateful``
-------------------------------------------

Hypothesis drives a ``RuleBasedStateMachine`` synchronously, one rule at a time, and a session
must live across rules (its nursery, the fake CLI, the pipes). trio no longer ships a
``TrioRuleBasedStateMachine``, and a fresh ``trio.run`` per rule cannot keep a session alive. So
each example keeps **one** trio run open in a :class:`trio_claude.testing.TrioDriver` (a trio
guest run hosted by the test thread), and every rule is a synchronous facade:
``driver.run(async_fn)`` lets the run go on until the coroutine is done.

Time is virtual (``TrioDriver(virtual_time=True)``: a ``trio.testing.MockClock``) and moves only
inside a rule: ``autojump_threshold`` is 0 while a rule runs (sleeps, timeouts and the fake's
``Sleep`` steps cost nothing, exactly like the ``autojump_clock`` fixture), and between rules the
run is paused. After the rule's coroutine returns, the driver waits until every task is blocked
(``wait_all_tasks_blocked``, which takes priority over autojump, so the clock does not move):
each rule ends quiescent at one instant of virtual time. trio's scheduler is seeded by Hypothesis
(trio registers its RNG with Hypothesis), so an example replays identically and shrinks.

What the machine covers
-----------------------

Rules: send a turn (a plain reply, an error result, a slow turn that sleeps, a turn that only
ends when interrupted, unknown frame types and a malformed known frame, junk and a line split
across writes, an oversize line and an oversize frame, a control request from the fake whose
callback raises or is withdrawn or whose id is duplicated, a CLI crash by SIGKILL or exit code);
receive a whole turn; receive part of a turn and ``break``; cancel while receiving (a cancel scope
deadline inside the turn abandons it); ``interrupt()``; an SDK->CLI control request
(``set_model``); send to a broken session; close; reopen. Some sessions talk to a CLI that
never answers ``interrupt`` (``interrupt()`` then times out with ``ControlTimeoutError``, and an
abandoned turn that never ends breaks the session explicitly).

Invariants after every rule: the session is usable, or every call raises the typed error its
state implies (``ProcessError`` after a crash, ``SessionClosedError`` once closed or broken);
no control request of ours is left pending and no callback task is left running; no abandoned
turn is still draining; every completed turn delivered exactly its own messages, ending with
exactly one ``ResultMessage`` (no message of an earlier, abandoned turn); closing is bounded in
virtual time and leaves no task behind (the nursery that ran the session is empty, the fake CLI
is reaped).
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import attrs
import pytest
import trio
import trio.testing
from hypothesis import event as hypothesis_event
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

import trio_claude as tc
import trio_claude.testing
from trio_claude.testing.fake_cli import (
    Emit,
    Exit,
    FakeCLITransport,
    FakeScript,
    FakeTurn,
    Kill,
    Raw,
    Request,
    Result,
    Sleep,
    Text,
    WaitForInterrupt,
)

from . import examples

T = TypeVar("T")

LINE_LIMIT = 4096
CLOSE_TIMEOUT = 2.0
INTERRUPT_TIMEOUT = 3.0
CONTROL_TIMEOUT = 2.0
#: A rule that has not finished after this much virtual time is hung (a bug).
STEP_LIMIT = 120.0
#: Sleep lengths of slow turns and cancel deadlines. Time passes in steps of DEADLINES and of
#: CONTROL_TIMEOUT, so a slow turn's remaining sleep (odd seconds) never ties with a deadline.
SLEEPS = (1.0, 3.0)
DEADLINES = (0.5, 2.0, 4.0)


# ---------------------------------------------------------------------------------------------
# The synchronous facade over one trio run
# ---------------------------------------------------------------------------------------------


class TrioDriver(trio_claude.testing.TrioDriver):
    """The public driver on virtual time, with this machine's step limit."""

    def __init__(self) -> None:
        super().__init__(virtual_time=True, step_timeout=STEP_LIMIT)

    def peek(self, fn: Callable[[], T]) -> T:
        """Calls ``fn()`` in the trio run without running anything else."""
        return self.run_sync(fn)


def event(text: str) -> None:
    """Counts ``text`` in ``--hypothesis-show-statistics`` (a no-op outside a Hypothesis test)."""
    if currently_in_test_context():
        hypothesis_event(text)


# ---------------------------------------------------------------------------------------------
# Callbacks the fake CLI calls through control requests
# ---------------------------------------------------------------------------------------------


async def can_use_tool(tool_name: str, tool_input: dict[str, Any], context: Any) -> Any:
    if tool_name == "Raise":
        raise RuntimeError("the permission callback failed")
    if tool_name == "Hang":
        await trio.sleep_forever()
    await trio.sleep(0.1)  # long enough for two requests to be in flight at once
    return tc.PermissionResultAllow()


async def raising_hook(hook_input: Any, tool_use_id: str | None, context: Any) -> Any:
    raise ValueError("the hook failed")


# ---------------------------------------------------------------------------------------------
# The model of one turn
# ---------------------------------------------------------------------------------------------

Sig = tuple[Any, ...]
CALLBACKS = ("raise_permission", "raise_hook", "unsupported", "withdrawn", "duplicate_id")
CRASHES = ("kill", "exit_3", "exit_0")


def _request_line(rid: str, tool_name: str) -> str:
    frame = {
        "type": "control_request",
        "request_id": rid,
        "request": {
            "subtype": "can_use_tool",
            "tool_name": tool_name,
            "input": {},
            "tool_use_id": f"toolu_{rid}",
        },
    }
    return json.dumps(frame) + "\n"


@attrs.define
class TurnModel:
    n: int
    kind: str
    variant: Any
    sent_at: float
    interrupted: bool = False
    consumed: int = 0

    @property
    def tag(self) -> str:
        return f"t{self.n}"

    def steps(self) -> tuple[Any, ...]:
        tag, kind, variant = self.tag, self.kind, self.variant
        text0 = Text(f"{tag}:0")
        done = Result(text=tag)
        if kind == "reply":
            return (*(Text(f"{tag}:{i}") for i in range(variant)), done)
        if kind == "error":
            return (
                text0,
                Result(subtype="error_max_turns", is_error=True, extra={"errors": ["max"]}),
            )
        if kind == "slow":
            return (text0, Sleep(variant), Text(f"{tag}:1"), done)
        if kind == "hang":
            return (text0, WaitForInterrupt())
        if kind == "unknown":
            return (
                Emit({"type": "frame_from_the_future", "tag": tag}),
                Raw('{"type": "assistant", "message": 5}\n'),  # known type, malformed
                text0,
                done,
            )
        if kind == "junk":
            split = json.dumps(
                {
                    "type": "assistant",
                    "message": {"model": "m", "content": [{"type": "text", "text": f"{tag}:0"}]},
                }
            )
            return (
                Raw("this is not json\n[1, 2, 3]\n   \n"),
                Raw('{"type": "control_request"}\n'),
                Raw(split[:17]),
                Raw(split[17:] + "\n"),  # one frame across two writes
                done,
            )
        if kind == "oversize":
            return (
                Raw("y" * 1000, repeat=3 * LINE_LIMIT // 1000),
                Raw("\n"),
                Emit({"type": "assistant", "message": {"model": "m", "content": [
                    {"type": "text", "text": "z" * 2 * LINE_LIMIT}]}}),
                text0,
                done,
            )  # fmt: skip
        if kind == "callback":
            if variant == "raise_permission":
                request = Request(
                    "can_use_tool", {"tool_name": "Raise", "input": {}, "tool_use_id": "toolu_r"}
                )
            elif variant == "raise_hook":
                request = Request(
                    "hook_callback",
                    {"callback_id": "hook_0", "tool_use_id": "toolu_h",
                     "input": {"hook_event_name": "PreToolUse", "tool_name": "Bash",
                               "tool_input": {}, "tool_use_id": "toolu_h",
                               "session_id": "s", "transcript_path": "", "cwd": "/"}},
                )  # fmt: skip
            elif variant == "unsupported":
                request = Request("no_such_request", {"x": 1})
            elif variant == "withdrawn":
                # The request and its withdrawal arrive in one read.
                return (Raw(_request_line(f"{tag}-w", "Hang") + _cancel_line(f"{tag}-w")), text0,
                        done)  # fmt: skip
            else:  # duplicate_id: the CLI reuses an id while the first request is in flight
                return (
                    Raw(_request_line(f"{tag}-d", "Allow") + _request_line(f"{tag}-d", "Allow")),
                    text0,
                    done,
                )
            return (request, text0, done)
        if kind == "crash":
            end = {"kill": Kill(), "exit_3": Exit(3, stderr="boom"), "exit_0": Exit(0)}[variant]
            return (text0, end)
        raise AssertionError(kind)

    def expected(self) -> list[Sig]:
        """The messages the user must see for the whole turn, given what happened so far."""
        tag, kind = self.tag, self.kind
        init: Sig = ("init",)
        result: Sig = ("result", "success", tag)
        interrupted_end: list[Sig] = [
            ("user", "[Request interrupted by user]"),
            ("result", "error_during_execution", None),
        ]
        text0: Sig = ("text", f"{tag}:0")
        if kind == "reply":
            return [init, *(("text", f"{tag}:{i}") for i in range(self.variant)), result]
        if kind == "error":
            return [init, text0, ("result", "error_max_turns", None)]
        if kind == "slow":
            if self.interrupted:
                return [init, text0, *interrupted_end]
            return [init, text0, ("text", f"{tag}:1"), result]
        if kind == "hang":
            return [init, text0, *(interrupted_end if self.interrupted else [])]
        if kind == "unknown":
            return [init, ("unknown", "frame_from_the_future"), ("unknown", "assistant"), text0,
                    result]  # fmt: skip
        if kind == "junk":
            return [init, text0, result]
        if kind in ("oversize", "callback"):
            return [init, text0, result]
        if kind == "crash":
            return [init, text0]
        raise AssertionError(kind)

    def ends_by_itself(self) -> bool:
        return self.kind != "hang" or self.interrupted

    def sleep_ends(self) -> float:
        return self.sent_at + self.variant if self.kind == "slow" else -math.inf

    def running_in_fake(self, now: float) -> bool:
        """Whether the fake CLI is still inside this turn (an interrupt would end it)."""
        if self.interrupted:
            return False
        return self.kind == "hang" or now < self.sleep_ends()

    def ready(self, now: float) -> int:
        """How many messages are available at ``now`` (or will be, with no time passing)."""
        if self.running_in_fake(now):
            return 2
        return len(self.expected())

    def crash_error(self) -> type[BaseException]:
        return tc.ProcessError


def _cancel_line(rid: str) -> str:
    return json.dumps({"type": "control_cancel_request", "request_id": rid}) + "\n"


def sig(message: Any) -> Sig:
    if isinstance(message, tc.InitMessage):
        return ("init",)
    if isinstance(message, tc.AssistantMessage):
        texts = [b.text for b in message.content if isinstance(b, tc.TextBlock)]
        return ("text", *texts)
    if isinstance(message, tc.UserMessage):
        content = message.content
        if isinstance(content, list):
            texts = [b.text for b in content if isinstance(b, tc.TextBlock)]
            return ("user", *texts)
        return ("user", content)
    if isinstance(message, tc.UnknownMessage):
        return ("unknown", message.type)
    if isinstance(message, tc.ResultMessage):
        return ("result", message.subtype, message.result)
    return ("other", type(message).__name__)


# ---------------------------------------------------------------------------------------------
# The machine
# ---------------------------------------------------------------------------------------------


def can_send(machine: SessionMachine) -> bool:
    return machine.status == "alive" and machine.turn is None


class SessionMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.driver = TrioDriver()
        self.session: tc.Session | None = None
        self.transport: FakeCLITransport | None = None
        self.turns: list[FakeTurn] = []
        self.status = "none"  # alive | dead | closed
        self.dead_error: type[BaseException] = tc.ProcessError
        self.deaf = False  # the fake never answers ``interrupt``
        self.turn: TurnModel | None = None
        self.counter = 0
        self.sessions_opened = 0

    # ------------------------------------------------------------------ helpers

    def _now(self) -> float:
        assert self.driver.clock is not None
        return self.driver.clock.current_time()

    def _open(self, deaf: bool) -> None:
        self.turns = []  # the fake reads the next turn from here when a prompt arrives
        self.transport = FakeCLITransport(
            FakeScript(turns=self.turns, unanswered=("interrupt",) if deaf else ())
        )
        options = tc.ClaudeAgentOptions(
            transport=self.transport,
            can_use_tool=can_use_tool,
            hooks={"PreToolUse": [tc.HookMatcher(matcher=None, hooks=[raising_hook])]},
            max_line_bytes=LINE_LIMIT,
            close_timeout=CLOSE_TIMEOUT,
            interrupt_timeout=INTERRUPT_TIMEOUT,
            control_timeout=CONTROL_TIMEOUT,
        )
        nursery = self.driver.nursery
        assert nursery is not None

        async def connect() -> tc.Session:
            return await tc.connect_session(nursery, options)

        self.session = self.driver.run(connect)
        self.status = "alive"
        self.deaf = deaf
        self.turn = None
        self.sessions_opened += 1

    def _close_and_check(self) -> None:
        session = self._session()
        nursery = self.driver.nursery
        assert nursery is not None

        async def close() -> float:
            start = trio.current_time()
            await session.aclose()
            return trio.current_time() - start

        turn_open = session.statistics().turns_open > 0 and self.status == "alive"
        elapsed = self.driver.run(close)
        # Bounded: the drain of an open turn (<= interrupt_timeout), writer flush (<= 1 s),
        # close_timeout, SIGTERM grace (1 s), a little slack.
        drain = INTERRUPT_TIMEOUT if turn_open else 0.0
        assert elapsed <= drain + CLOSE_TIMEOUT + 2.5, elapsed
        assert self.driver.peek(lambda: len(nursery.child_tasks)) == 0, "leaked session task"
        assert session.returncode is not None, "the fake CLI was not reaped"
        assert session.closed
        self.status = "closed"
        self.turn = None

    def _session(self) -> tc.Session:
        assert self.session is not None
        return self.session

    def _fake(self) -> Any:
        assert self.transport is not None and self.transport.fake is not None
        return self.transport.fake

    async def _collect(
        self, limit: int | None = None, got: list[Any] | None = None
    ) -> tuple[list[Any], BaseException | None]:
        """Receives this turn's messages (``limit``: stop after that many, like ``break``) into
        ``got``, which keeps what arrived if the caller's cancel scope interrupts."""
        got = [] if got is None else got
        try:
            async for message in self._session().receive_response():
                got.append(message)
                if limit is not None and len(got) >= limit:
                    break
        except tc.ClaudeSDKError as exc:
            return got, exc
        return got, None

    def _check_messages(self, turn: TurnModel, got: list[Any], *, complete: bool) -> None:
        expected = turn.expected()[turn.consumed : turn.consumed + len(got)]
        assert [sig(m) for m in got] == expected, (turn, [sig(m) for m in got])
        turn.consumed += len(got)
        if complete:
            assert turn.consumed == len(turn.expected()), (turn, "turn ended early")
            results = [m for m in got if isinstance(m, tc.ResultMessage)]
            assert len(results) == 1 and got[-1] is results[0]

    def _expect_typed_error(self, call: Callable[[], Awaitable[Any]]) -> BaseException:
        async def attempt() -> BaseException | None:
            try:
                await call()
            except tc.ClaudeSDKError as exc:
                return exc
            return None

        error = self.driver.run(attempt)
        assert error is not None, "a broken session accepted a call"
        if self.status == "closed":
            assert isinstance(error, tc.SessionClosedError), error
        else:
            assert isinstance(error, (self.dead_error, tc.SessionClosedError)), error
        return error

    # -------------------------------------------------------------------- rules

    @initialize(deaf=st.sampled_from([False, False, True]))
    def open_session(self, deaf: bool) -> None:
        self._open(deaf)

    def _send(self, kind: str, variant: Any = None) -> None:
        self.counter += 1
        turn = TurnModel(self.counter, kind, variant, sent_at=self._now())
        event(f"send {kind}" + (f" {variant}" if kind in ("callback", "crash") else ""))
        self.turns.append(FakeTurn(steps=turn.steps()))
        session = self._session()

        async def send() -> None:
            await session.send(f"prompt {turn.tag}")
            if turn.kind == "callback":
                await trio.sleep(1)  # callbacks may take (virtual) time to answer

        self.driver.run(send)
        self.turn = turn
        fake = self._fake()
        if turn.kind == "crash":
            self.status = "dead"
            self.dead_error = turn.crash_error()
        elif turn.kind == "callback":
            self._check_callback_answer(turn, fake)

    # One rule per kind of turn, so that Hypothesis's swarm testing (which disables a random
    # subset of rules in each example) rarely disables sending altogether.

    @precondition(can_send)
    @rule(texts=st.integers(0, 3))
    def send_reply(self, texts: int) -> None:
        self._send("reply", texts)

    @precondition(can_send)
    @rule()
    def send_turn_ending_in_error(self) -> None:
        self._send("error")

    @precondition(can_send)
    @rule(seconds=st.sampled_from(SLEEPS))
    def send_slow_turn(self, seconds: float) -> None:
        self._send("slow", seconds)

    @precondition(can_send)
    @rule()
    def send_turn_that_waits_for_interrupt(self) -> None:
        self._send("hang")

    @precondition(can_send)
    @rule()
    def send_turn_with_unknown_frames(self) -> None:
        self._send("unknown")

    @precondition(can_send)
    @rule()
    def send_turn_with_junk_lines(self) -> None:
        self._send("junk")

    @precondition(can_send)
    @rule()
    def send_turn_with_oversize_lines(self) -> None:
        self._send("oversize")

    @precondition(can_send)
    @rule(variant=st.sampled_from(CALLBACKS))
    def send_turn_with_control_request(self, variant: str) -> None:
        self._send("callback", variant)

    @precondition(can_send)
    @rule(how=st.sampled_from(CRASHES))
    def send_turn_where_the_cli_dies(self, how: str) -> None:
        self._send("crash", how)

    def _check_callback_answer(self, turn: TurnModel, fake: Any) -> None:
        if turn.variant == "withdrawn":
            assert f"{turn.tag}-w" not in fake.responses, "answered a withdrawn request"
            return
        if turn.variant == "duplicate_id":
            assert fake.responses[f"{turn.tag}-d"]["subtype"] == "success"
            return
        rid = fake.requests_sent[-1]["request_id"]
        body = fake.responses[rid]
        if turn.variant == "raise_permission":  # fails closed: a deny (or an error)
            assert body["subtype"] == "error" or body["response"]["behavior"] == "deny", body
        else:
            assert body["subtype"] == "error" and body["error"], body

    @precondition(lambda self: self.status != "alive")
    @rule()
    def send_to_broken_session(self) -> None:
        session = self._session()
        self._expect_typed_error(lambda: session.send("anyone there?"))

    @precondition(lambda self: self.turn is not None and self.turn.ends_by_itself())
    @rule()
    def receive_turn(self) -> None:
        turn = self.turn
        assert turn is not None
        got, error = self.driver.run(self._collect)
        if turn.kind == "crash":
            self._check_messages(turn, got, complete=False)
            assert turn.consumed == len(turn.expected())
            assert isinstance(error, turn.crash_error()), error
            if isinstance(error, tc.ProcessError):
                expected = {"kill": -9, "exit_0": 0}.get(turn.variant, 3)
                assert error.exit_code == expected
        else:
            assert error is None, error
            self._check_messages(turn, got, complete=True)
        self.turn = None

    @precondition(
        lambda self: self.turn is not None and self.turn.ready(self._now()) > self.turn.consumed
    )
    @rule(data=st.data())
    def receive_some_then_break(self, data: st.DataObject) -> None:
        turn = self.turn
        assert turn is not None
        count = data.draw(st.integers(1, turn.ready(self._now()) - turn.consumed), label="count")
        got, error = self.driver.run(lambda: self._collect(limit=count))
        assert error is None, error
        self._check_messages(turn, got, complete=False)
        if turn.consumed == len(turn.expected()) and turn.ends_by_itself():
            self.turn = None  # that was the result: the turn is over

    @precondition(lambda self: self.turn is not None)
    @rule(deadline=st.sampled_from(DEADLINES))
    def cancel_while_receiving(self, deadline: float) -> None:
        turn = self.turn
        assert turn is not None
        now = self._now()
        completes = turn.ends_by_itself() and not (
            turn.running_in_fake(now) and turn.sleep_ends() > now + deadline
        )
        deaf = self.deaf

        async def receive_under_deadline() -> tuple[list[Any], BaseException | None, bool]:
            got: list[Any] = []
            error: BaseException | None = None
            with trio.move_on_after(deadline) as scope:
                _, error = await self._collect(got=got)
            if scope.cancelled_caught and deaf:
                # The session's interrupt goes unanswered: let the drain run out its time.
                await trio.sleep(INTERRUPT_TIMEOUT + CLOSE_TIMEOUT + 3)
            return got, error, scope.cancelled_caught

        got, error, cancelled = self.driver.run(receive_under_deadline)
        event(f"cancel_while_receiving: {'abandoned' if cancelled else 'completed'}")
        if turn.kind == "crash":
            assert not cancelled and isinstance(error, turn.crash_error()), error
            self._check_messages(turn, got, complete=False)
        elif completes:
            assert not cancelled and error is None, (cancelled, error)
            self._check_messages(turn, got, complete=True)
        else:
            # Abandoned: the session interrupts the turn and drops the rest of it.
            assert cancelled and error is None, (cancelled, error)
            self._check_messages(turn, got, complete=False)
            if deaf and turn.kind == "hang":
                # Never interrupted, never ends: the session gives up on it and says so.
                event("abandoned turn never ended: session broken")
                self.status = "dead"
                self.dead_error = tc.SessionClosedError
            else:
                stats = self.driver.peek(self._session().statistics)
                assert stats.buffered_messages == 0, stats
        self.turn = None

    @precondition(lambda self: self.turn is not None or self.status != "alive")
    @rule()
    def interrupt(self) -> None:
        session = self._session()
        if self.status != "alive":
            self._expect_typed_error(session.interrupt)
            return
        turn = self.turn
        running = turn is not None and turn.running_in_fake(self._now())
        if self.deaf:

            async def unanswered() -> BaseException | None:
                try:
                    await session.interrupt()
                except tc.ControlTimeoutError as exc:
                    return exc
                return None

            assert isinstance(self.driver.run(unanswered), tc.ControlTimeoutError)
            return
        result = self.driver.run(session.interrupt)
        assert isinstance(result, tc.InterruptResult)
        if turn is not None and running:
            turn.interrupted = True

    @rule(model=st.sampled_from(["claude-a", "claude-b"]))
    def set_model(self, model: str) -> None:
        session = self._session()
        if self.status != "alive":
            self._expect_typed_error(lambda: session.set_model(model))
            return
        self.driver.run(lambda: session.set_model(model))
        assert self._fake().model == model

    @precondition(lambda self: self.status != "closed")
    @rule()
    def close(self) -> None:
        self._close_and_check()
        self._expect_typed_error(lambda: self._session().send("after close"))

    @precondition(lambda self: self.status != "alive" and self.sessions_opened < 6)
    @rule(deaf=st.sampled_from([False, False, True]))
    def reopen(self, deaf: bool) -> None:
        if self.status != "closed":
            self._close_and_check()
        self._open(deaf)

    # --------------------------------------------------------------- invariants

    @invariant()
    def usable_or_typed_broken(self) -> None:
        if self.session is None:
            return
        session = self.session

        def probe() -> BaseException | None:
            try:
                session._lifecycle.check_can_send()
            except BaseException as exc:
                return exc
            return None

        error = self.driver.peek(probe)
        if self.status == "alive":
            assert error is None and not session.closed, error
        elif self.status == "closed":
            assert isinstance(error, tc.SessionClosedError), error
        else:
            assert isinstance(error, (self.dead_error, tc.SessionClosedError)), error

    @invariant()
    def nothing_left_in_flight(self) -> None:
        if self.session is None or self.status != "alive":
            return
        session = self.session
        stats = self.driver.peek(session.statistics)
        assert stats.pending_requests == 0, stats
        assert stats.inflight_callbacks == 0, stats
        drained = not self.driver.peek(lambda: session._lifecycle.abandoned_open)
        assert drained, "a drain never finished"
        assert stats.results_received <= stats.turns_sent

    def teardown(self) -> None:
        try:
            if self.session is not None and self.status != "closed":
                self._close_and_check()
        finally:
            self.driver.close()


SessionMachine.TestCase.settings = settings(
    max_examples=examples(100), stateful_step_count=40, deadline=None
)
TestSessionMachine = SessionMachine.TestCase


@pytest.mark.parametrize("variant", CALLBACKS)
def test_callback_turns_leave_the_session_usable(variant: str) -> None:
    """Each callback variant once, deterministically (the machine may not draw all of them)."""
    machine = SessionMachine()
    try:
        machine.open_session(deaf=False)
        machine._send("callback", variant)
        machine.nothing_left_in_flight()
        machine.receive_turn()
        machine._send("reply", 1)
        machine.receive_turn()
        machine.usable_or_typed_broken()
    finally:
        machine.teardown()


def test_abandoning_a_turn_the_cli_never_ends_breaks_the_session_explicitly() -> None:
    """A CLI that ignores ``interrupt``: the abandoned turn never ends, so the session closes
    itself as broken (``SessionClosedError``) instead of hanging the next ``send()``."""
    machine = SessionMachine()
    try:
        machine.open_session(deaf=True)
        machine._send("hang")
        machine.cancel_while_receiving(0.5)
        assert machine.status == "dead"
        machine.usable_or_typed_broken()
        machine.send_to_broken_session()
    finally:
        machine.teardown()
