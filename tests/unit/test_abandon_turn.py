"""``abandon_turn()``: giving up a turn whose receive loop was left in its body.

A cancellation that lands while ``receive_response()`` waits abandons the turn by itself; one
that lands in the loop's body (a deadline while a message is handled) cannot be seen by the
stream, and leaves the turn open as a ``break`` does.
"""

from __future__ import annotations

import pytest
import trio
import trio.testing

import trio_claude as tc
from tests._helpers import options_for, texts
from trio_claude.testing.fake_cli import FakeScript, FakeTurn, Result, Sleep, Text


def script() -> FakeScript:
    slow = FakeTurn(steps=[*(Text(f"old {i}") for i in range(5)), Sleep(1), Result(text="old")])
    return FakeScript(turns=[slow, FakeTurn(steps=[Text("new"), Result(text="new")])])


async def left_in_the_body(session: tc.Session) -> None:
    """Sends a prompt and leaves its receive loop by a deadline landing in the loop's body."""
    await session.send("first")
    with trio.move_on_after(0.5) as scope:
        async for _message in session.receive_response():
            await trio.sleep(1)  # handling the message: the deadline lands here
    assert scope.cancelled_caught


async def test_a_deadline_in_the_loop_body_leaves_the_turn_open_and_run_says_so(
    autojump_clock: trio.testing.MockClock,
) -> None:
    options, _ = options_for(script())
    async with tc.open_session(options) as session:
        await left_in_the_body(session)
        with pytest.raises(tc.TurnInProgressError, match="cancellation") as info:
            await session.run("second")
        assert "abandon_turn()" in str(info.value)


async def test_abandon_turn_then_run_gets_the_new_prompts_turn(
    autojump_clock: trio.testing.MockClock,
) -> None:
    options, transport = options_for(script())
    async with tc.open_session(options) as session:
        await left_in_the_body(session)
        session.abandon_turn()
        turn = await session.run("second")
        assert turn.text == "new"
        assert texts(turn.messages) == ["new"]
        assert transport.fake is not None and transport.fake.interrupts == 1


async def test_abandon_turn_with_no_turn_open_changes_nothing(
    autojump_clock: trio.testing.MockClock,
) -> None:
    options, transport = options_for(script())
    async with tc.open_session(options) as session:
        session.abandon_turn()
        turn = await session.run("first")
        assert turn.text == "old"
        session.abandon_turn()
        assert (await session.run("second")).text == "new"
        assert transport.fake is not None and transport.fake.interrupts == 0


async def test_a_resumable_session_abandons_the_turn_of_its_live_cli(
    autojump_clock: trio.testing.MockClock,
) -> None:
    options, _ = options_for(script())
    async with tc.open_resumable_session(options) as session:
        session.abandon_turn()  # no CLI live yet: nothing to give up
        await session.send("first")
        with trio.move_on_after(0.5):
            async for _message in session.receive_response():
                await trio.sleep(1)
        session.abandon_turn()
        assert (await session.run("second")).text == "new"
