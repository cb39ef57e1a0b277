"""Cancellation delivered at every checkpoint of open, send, receive, requests and close.

Method. A :class:`~._support.CancelAfterSteps` instrument counts *task steps*: each time trio
runs a task from one schedule point to the next. Every checkpoint the code passes, in any task
(the caller, the session's reader, writer and dispatcher, the fake CLI), ends a step. A dry run
counts the steps ``K`` a scenario takes; then the scenario is run ``K + 1`` more times, the
``n``-th time cancelling the caller's scope right after step ``n``. So the cancellation lands
once after every checkpoint the scenario passes, whichever task passed it. Trio shuffles the
order of runnable tasks, so the exact interleaving at step ``n`` varies between runs; the
scheduler's private RNG is seeded with ``n`` (when that attribute exists) to make a failing
``n`` reproducible.

After every run, whatever ``n``:
- the outcome is typed: the scenario completed, or ``Cancelled`` reached the caller's scope
  (no other exception, no exception group);
- no leak: the fake CLI "process" has exited and been waited for, the trio task count is back to
  what it was, and the session (if one was made) is closed;
- for the receive and request sweeps, the session stays usable: the next turn returns its own
  answer and none of the cancelled turn's messages.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

import trio_claude as tc
from tests._helpers import texts
from trio_claude.testing.fake_cli import (
    FakeCLITransport,
    FakeScript,
    FakeTurn,
    Request,
    Result,
    Sleep,
    Stderr,
    Text,
)

from ._support import CancelAfterSteps, RecordingFakeTransport, RecordingProcessTransport, exists


@contextmanager
def seeded_scheduler(seed: int) -> Iterator[None]:
    runner_module: Any = getattr(trio, "_core", None)
    run_module = getattr(runner_module, "_run", None)
    rng = getattr(run_module, "_r", None)
    state = rng.getstate() if rng is not None else None
    if rng is not None:
        rng.seed(seed)
    try:
        yield
    finally:
        if rng is not None:
            rng.setstate(state)


#: A scenario gets the options and ``arm``: it calls ``arm(scope)`` on the scope that the
#: cancellation should hit (steps are counted from that call on). It must not raise.
Arm = Callable[[trio.CancelScope], None]
Scenario = Callable[[tc.ClaudeAgentOptions, Arm], Awaitable[None]]
MakeOptions = Callable[[], tuple[tc.ClaudeAgentOptions, Any]]


async def run_once(n: float, scenario: Scenario, options: tc.ClaudeAgentOptions) -> int:
    """Runs ``scenario`` with the cancellation after step ``n``; returns the steps counted."""
    instrument = CancelAfterSteps(n=n)
    trio.lowlevel.add_instrument(instrument)
    try:
        await scenario(options, instrument.arm)
    finally:
        trio.lowlevel.remove_instrument(instrument)
    return instrument.steps


def tasks_living() -> int:
    return trio.lowlevel.current_statistics().tasks_living


async def sweep(scenario: Scenario, make_options: MakeOptions, *, every: int = 1) -> int:
    """Runs ``scenario`` cancelled after each step ``n``; returns the steps of a full run."""
    baseline = tasks_living()
    options, _ = make_options()
    total = await run_once(math.inf, scenario, options)
    assert total > 10
    for n in range(1, total + 2, every):
        options, transport = make_options()
        with seeded_scheduler(n):
            try:
                await run_once(n, scenario, options)
            except BaseException as exc:  # only Cancelled caught by the armed scope is fine
                raise AssertionError(f"cancelled after step {n}: {exc!r}") from exc
        for child in transport.children:
            assert child.returncode is not None, f"step {n}: the CLI was not stopped"
            if child.pid is not None:
                assert not exists(child.pid), f"step {n}: the CLI was not reaped"
        assert tasks_living() == baseline, f"step {n}: tasks left behind"
    return total


def fake(script: FakeScript | None = None) -> MakeOptions:
    def make() -> tuple[tc.ClaudeAgentOptions, RecordingFakeTransport]:
        transport = RecordingFakeTransport(script or FakeScript())
        return tc.ClaudeAgentOptions(transport=transport), transport

    return make


TWO_TURNS = FakeScript(
    turns=[
        FakeTurn(steps=[Text("stale-1"), Text("stale-2"), Text("stale-3"), Result(text="old")]),
        FakeTurn.reply("fresh"),
    ]
)


# ------------------------------------------------------------------- the whole lifecycle


async def test_cancel_at_every_checkpoint_of_open_send_receive_request_close() -> None:
    outcomes: list[str] = []
    sessions: list[tc.Session] = []

    async def lifecycle(options: tc.ClaudeAgentOptions, arm: Arm) -> None:
        with trio.CancelScope() as scope:
            arm(scope)
            async with tc.open_session(options) as session:
                sessions.append(session)
                await session.send("one")
                async for _ in session.receive_response():
                    pass
                turn = await session.run("two")
                assert turn.text == "fresh"
                await session.set_model("other")
        outcomes.append("cancelled" if scope.cancelled_caught else "completed")
        assert all(s.closed for s in sessions)

    total = await sweep(lifecycle, fake(TWO_TURNS))
    assert len(outcomes) == total + 2
    runs = outcomes[1:]  # outcomes[0] is the dry run
    # The cancellation cut every run short until the body was done; after that only the
    # shielded close runs (which a cancellation must not interrupt), so the last few complete.
    # (The close waits for the writer, the exit and the reader in turn: a few dozen checkpoints.)
    first_completed = runs.index("completed")
    assert first_completed > 0.75 * total
    assert set(runs[:first_completed]) == {"cancelled"}
    assert len(runs) - first_completed <= 40


# ---------------------------------------------------------------- receive: turn abandoned


async def test_cancel_at_every_checkpoint_of_receive_leaves_the_session_usable() -> None:
    next_turns: list[str] = []
    abandoned = 0

    async def receive_then_next_turn(options: tc.ClaudeAgentOptions, arm: Arm) -> None:
        nonlocal abandoned
        async with tc.open_session(options) as session:
            await session.send("one")
            with trio.CancelScope() as scope:
                arm(scope)
                async for _ in session.receive_response():
                    pass
            abandoned += scope.cancelled_caught
            turn = await session.run("two")
            # the abandoned turn was drained: none of its messages leak into this one
            assert turn.text == "fresh", turn
            assert texts(turn.messages) == ["fresh"], turn.messages
            next_turns.append(turn.text)

    total = await sweep(receive_then_next_turn, fake(TWO_TURNS))
    assert next_turns == ["fresh"] * (total + 2)
    assert abandoned >= 5  # the receive loop was cancelled at several points, not just once


# ----------------------------------------------------------------- a control request


async def test_cancel_at_every_checkpoint_of_a_control_request() -> None:
    async def request_then_go_on(options: tc.ClaudeAgentOptions, arm: Arm) -> None:
        async with tc.open_session(options) as session:
            with trio.CancelScope() as scope:
                arm(scope)
                await session.set_model("a")
                await session.interrupt()
            assert session.statistics().pending_requests == 0
            await session.set_model("b")  # a late answer to the cancelled one is ignored
            assert (await session.run("go")).text == "ok"

    await sweep(request_then_go_on, fake())


# ---------------------------------------------------------- a real process, open and close


async def open_and_close_a_real_process(tmp_path: Path, every: int) -> None:
    """With a real process a run takes ~35 steps (spawn, initialize, a request, close) and
    ~0.7 s (the fake's interpreter start-up); its step count varies a little with I/O timing."""
    outcomes: list[bool] = []

    async def open_and_close(options: tc.ClaudeAgentOptions, arm: Arm) -> None:
        with trio.CancelScope() as scope:
            arm(scope)
            async with tc.open_session(options) as session:
                await session.set_model("x")
        outcomes.append(scope.cancelled_caught)

    def make() -> tuple[tc.ClaudeAgentOptions, RecordingProcessTransport]:
        transport = RecordingProcessTransport(FakeScript(), tmp_path)
        return tc.ClaudeAgentOptions(transport=transport), transport

    total = await sweep(open_and_close, make, every=every)
    runs = outcomes[1:]
    assert len(runs) == len(range(1, total + 2, every))
    # Cancelled at several points of the open (and only the shielded close after them), not
    # just at the start. About 40% of the steps are the open's: it spawns on the loop and
    # starts its writer only when needed, while the close is the same length.
    print(f"{runs.count(True)} of {len(runs)} runs cancelled (every {every} of {total} steps)")
    assert runs[0] is True and runs.count(True) >= max(3, len(runs) // 4)


async def test_cancel_at_every_third_checkpoint_of_open_and_close_with_a_real_process(
    tmp_path: Path,
) -> None:
    await open_and_close_a_real_process(tmp_path, every=3)


@pytest.mark.slow
async def test_cancel_at_every_checkpoint_of_open_and_close_with_a_real_process(
    tmp_path: Path,
) -> None:
    await open_and_close_a_real_process(tmp_path, every=1)


@pytest.mark.parametrize("form", ["open_session", "ask", "query"])
def test_ctrl_c_in_a_session_task_comes_out_as_keyboard_interrupt_alone(form: str) -> None:
    # A KeyboardInterrupt that lands in one of the session's own tasks (here the stderr pump,
    # through the user's stderr callback) kills the session; the caller's pending call then
    # fails with SessionClosedError. That came out as a group of both, which
    # `except KeyboardInterrupt` around trio.run does not catch.
    def on_stderr(line: str) -> None:
        raise KeyboardInterrupt

    def options() -> tc.ClaudeAgentOptions:
        turn = FakeTurn(steps=[Stderr("boom"), Sleep(0.05), Text("never"), Result()])
        # The in-memory fake blocks on output nobody reads (no pipe buffer), so it does not
        # see stdin close: a short close_timeout keeps the kill that follows quick.
        return tc.ClaudeAgentOptions(
            transport=FakeCLITransport(FakeScript(turns=[turn])),
            stderr=on_stderr,
            close_timeout=0.2,
        )

    async def main() -> None:
        if form == "open_session":
            async with tc.open_session(options()) as session:
                await session.run("hi")
        elif form == "ask":
            await tc.ask("hi", options=options())
        else:
            async with tc.query(prompt="hi", options=options()) as messages:
                async for _ in messages:
                    pass

    clock = trio.testing.MockClock(autojump_threshold=0)
    with pytest.raises(KeyboardInterrupt):
        trio.run(main, clock=clock)
    # And at once: with its reader gone, the close neither interrupts nor drains the open turn
    # (nothing could answer; that waited the whole interrupt_timeout, 5 s).
    assert clock.current_time() < 1


def test_ctrl_c_in_a_session_task_keeps_the_blocks_own_error_as_its_context() -> None:
    def on_stderr(line: str) -> None:
        raise KeyboardInterrupt

    turn = FakeTurn(steps=[Stderr("boom"), Sleep(0.05), Text("never"), Result()])
    options = tc.ClaudeAgentOptions(
        transport=FakeCLITransport(FakeScript(turns=[turn])), stderr=on_stderr, close_timeout=0.2
    )

    async def main() -> None:
        async with tc.open_session(options) as session:
            try:
                await session.run("hi")
            except tc.SessionClosedError:
                raise ValueError("the block's own error") from None

    with pytest.raises(KeyboardInterrupt) as info:
        trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
    # The interrupt wins, and the block's error is not lost: it is the interrupt's context.
    assert isinstance(info.value.__context__, ValueError)


class StopEverything(BaseException):
    """A user's own BaseException (not an Exception): an order to stop, like Ctrl-C."""


def test_a_users_own_base_exception_in_a_callback_comes_out_alone() -> None:
    async def policy(tool: str, tool_input: dict[str, Any], context: Any) -> Any:
        raise StopEverything

    ask = Request("can_use_tool", {"tool_name": "Bash", "input": {}, "tool_use_id": "t1"})
    turn = FakeTurn(steps=[ask, Text("never"), Result()])
    options = tc.ClaudeAgentOptions(
        transport=FakeCLITransport(FakeScript(turns=[turn])),
        can_use_tool=policy,
        close_timeout=0.2,
    )

    async def main() -> None:
        async with tc.open_session(options) as session:
            await session.run("hi")

    # It came out in a group with the SessionClosedError it caused.
    with pytest.raises(StopEverything):
        trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))


def test_ctrl_c_in_a_session_task_has_not_its_own_consequence_as_context() -> None:
    # The caller's pending call fails with SessionClosedError because the interrupt killed the
    # session: printed as what the interrupt interrupted ("During handling of the above
    # exception..."), it read as a second failure.
    def on_stderr(line: str) -> None:
        raise KeyboardInterrupt

    turn = FakeTurn(steps=[Stderr("boom"), Sleep(0.05), Text("never"), Result()])
    options = tc.ClaudeAgentOptions(
        transport=FakeCLITransport(FakeScript(turns=[turn])), stderr=on_stderr, close_timeout=0.2
    )

    async def main() -> None:
        async with tc.open_session(options) as session:
            await session.run("hi")

    with pytest.raises(KeyboardInterrupt) as info:
        trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
    assert info.value.__context__ is None, repr(info.value.__context__)
