"""A receive that ends at once is still a checkpoint: a loop that receives again and again
lets the other tasks run (and its own deadlines fire) instead of spinning forever.

Ported code does this: the official SDK's ``streaming_mode.py`` drains with ``while True:``
around ``receive_response()`` under a timeout.
"""

from __future__ import annotations

import trio
import trio.testing

import trio_claude as tc
from tests._helpers import options_for
from trio_claude.testing.fake_cli import FakeScript, FakeTurn, Result, Text


async def set_soon(event: trio.Event) -> None:
    event.set()


def two_turns() -> FakeScript:
    return FakeScript(turns=[FakeTurn(steps=[Text("hi"), Result(text="done")])] * 2)


async def test_receiving_with_no_turn_open_in_a_loop_lets_other_tasks_run() -> None:
    options, _ = options_for(two_turns())
    async with tc.open_session(options) as session:
        await session.run("first")
        ran = trio.Event()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(set_soon, ran)  # runs only if the loop below yields
            for _ in range(100):
                async for _message in session.receive_response():
                    raise AssertionError("no turn is open")
            assert ran.is_set()


async def test_a_deadline_stops_a_receive_loop_with_no_turn_open(
    autojump_clock: trio.testing.MockClock,
) -> None:
    options, _ = options_for(two_turns())
    async with tc.open_session(options) as session:
        await session.run("first")

        async def time_passes() -> None:
            autojump_clock.jump(2)  # the deadline below passes: only a checkpoint sees it

        rounds = 0
        async with trio.open_nursery() as nursery:
            nursery.start_soon(time_passes)
            with trio.move_on_after(1) as scope:
                while rounds < 10_000:
                    rounds += 1
                    async for _message in session.receive_response():
                        pass
        assert scope.cancelled_caught and rounds < 10


async def test_a_finished_stream_iterated_again_is_a_checkpoint() -> None:
    options, _ = options_for(two_turns())
    async with tc.open_session(options) as session:
        await session.send("first")
        stream = session.receive_response()
        assert [type(m) for m in [m async for m in stream]][-1] is tc.ResultMessage
        ran = trio.Event()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(set_soon, ran)
            for _ in range(100):
                async for _message in stream:
                    raise AssertionError("the stream is over")
            assert ran.is_set()
