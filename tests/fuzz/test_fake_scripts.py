"""A real session against arbitrary fake CLI runs (``strategies.fake_scripts``).

This is the pattern docs/fuzzing.md shows users for their own agents: generate a whole CLI run
(any message types, unknown frames, junk lines, control requests, sleeps), run a session over it
under virtual time, and check what the code on top must guarantee. Here: every turn's
``receive_response()`` yields exactly that turn's messages and ends with its one result, and the
session is still usable afterwards.
"""

from __future__ import annotations

from typing import Any

import trio
import trio.testing
from hypothesis import given, settings

import trio_claude as tc
from trio_claude._protocol._codec import decode_message
from trio_claude.testing import strategies as tcst
from trio_claude.testing.fake_cli import (
    Emit,
    FakeCLITransport,
    FakeScript,
    FakeTurn,
    Result,
    Text,
    ToolUse,
)

from . import examples


def expected_messages(turn: FakeTurn) -> list[tuple[type[Any], Any]]:
    """(class, a check on it) for each message the user must see, in order."""
    out: list[tuple[type[Any], Any]] = []
    if turn.emit_init:
        out.append((tc.InitMessage, None))
    for step in turn.steps:
        if isinstance(step, Emit):
            if step.frame.get("type") == "keep_alive":
                continue
            out.append((type(decode_message(step.frame)), step.frame))
        elif isinstance(step, Text):
            out.append((tc.AssistantMessage, [tc.TextBlock(text=step.text)]))
        elif isinstance(step, ToolUse):
            out.append((tc.AssistantMessage, [tc.ToolUseBlock(id=step.id, name=step.name,
                                                              input=step.input)]))  # fmt: skip
        elif isinstance(step, Result):
            out.append((tc.ResultMessage, step))
        # Raw junk, Request and Sleep steps show nothing to the user.
    return out


def check(message: Any, cls: type[Any], what: Any) -> None:
    assert type(message) is cls, (message, cls)
    if cls is tc.InitMessage:
        return
    if cls is tc.ResultMessage:
        assert (message.subtype, message.is_error) == (what.subtype, what.is_error)
        if what.subtype == "success":
            assert message.result == what.text
    elif isinstance(what, dict):
        # The fake fills in session_id and uuid when a frame has none; everything else arrives.
        assert {k: v for k, v in message.raw.items() if k in what} == what
    else:
        assert message.content == what


@settings(max_examples=examples(30))
@given(script=tcst.fake_scripts(max_turns=3))
def test_any_cli_run_gives_each_turn_its_messages_and_one_result(script: FakeScript) -> None:
    async def main() -> None:
        options = tc.ClaudeAgentOptions(transport=FakeCLITransport(script))
        async with tc.open_session(options) as session:
            for index, turn in enumerate(script.turns):
                await session.send(f"prompt {index}")
                got = [m async for m in session.receive_response()]
                want = expected_messages(turn)
                assert len(got) == len(want), ([type(m).__name__ for m in got], want)
                for message, (cls, what) in zip(got, want, strict=True):
                    check(message, cls, what)
            extra = await session.run("one more")  # still usable: the default reply
            assert extra.text == script.default_reply
            assert session.statistics().inflight_callbacks == 0

    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
