"""A deadline around a receive loop whose body awaits: give the turn up with ``abandon_turn()``.

    python examples/deadline_per_message.py

Runs offline against trio-claude's in-process fake CLI (no CLI, no network). The handler of each
message takes a while (it stands for your own I/O: a database write, a websocket send). When
the deadline lands in the handler rather than while ``receive_response()`` waits, the stream
cannot see it, and the turn stays open, as after ``break``: ``run()`` would refuse to start
(``TurnInProgressError``). ``abandon_turn()`` interrupts the turn and drops its rest, so the
next prompt gets its own turn and nothing of the old one.
"""

from __future__ import annotations

import trio

import trio_claude as tc
from trio_claude.testing.fake_cli import (
    FakeCLITransport,
    FakeScript,
    FakeTurn,
    Result,
    Text,
    WaitForInterrupt,
)

SCRIPT = FakeScript(
    turns=[
        # A long answer: chunks keep coming until the turn is interrupted.
        FakeTurn(steps=[*(Text(f"chunk {i}") for i in range(3)), WaitForInterrupt()]),
        FakeTurn(steps=[Text("a short answer"), Result(text="a short answer")]),
    ]
)


async def handle(message: tc.Message) -> None:
    """Stands for the application's own work per message."""
    if isinstance(message, tc.AssistantMessage):
        print(f"handling: {message.content[0]!r}")
        await trio.sleep(0.4)


async def main() -> None:
    options = tc.ClaudeAgentOptions(transport=FakeCLITransport(SCRIPT))
    async with tc.open_session(options) as session:
        await session.send("write a long essay")
        with trio.move_on_after(1) as scope:
            async for message in session.receive_response():
                await handle(message)  # the deadline lands here
        if scope.cancelled_caught:
            print("deadline: giving the turn up")
            session.abandon_turn()  # a no-op if the stream had seen the cancellation itself
        turn = await session.run("now a short one")
        print(f"next turn: {turn.text!r}")
        assert turn.text == "a short answer"


if __name__ == "__main__":
    trio.run(main)
