"""Streamed input: an async iterable of prompts feeding one session."""

from __future__ import annotations

from collections.abc import AsyncIterator

import trio
import trio.lowlevel
import trio.testing

import trio_claude as tc
from trio_claude.testing.fake_cli import FakeCLITransport, FakeScript, FakeTurn


async def prompts(items: list[str], gap: float) -> AsyncIterator[str]:
    for item in items:
        await trio.sleep(gap)
        yield item


async def test_query_with_an_async_iterable_streams_every_turn(
    autojump_clock: trio.testing.MockClock,
) -> None:
    transport = FakeCLITransport(
        FakeScript(turns=[FakeTurn.reply("one"), FakeTurn.reply("two"), FakeTurn.reply("three")])
    )
    opts = tc.ClaudeAgentOptions(transport=transport)
    async with tc.query(prompts(["a", "b", "c"], gap=5), options=opts) as messages:
        results = [m.result async for m in messages if isinstance(m, tc.ResultMessage)]
    assert results == ["one", "two", "three"]
    assert transport.fake is not None
    assert [f["message"]["content"] for f in transport.fake.received if f["type"] == "user"] == [
        "a",
        "b",
        "c",
    ]


async def test_stream_input_and_receive_until_input_done_on_a_session(
    autojump_clock: trio.testing.MockClock,
) -> None:
    transport = FakeCLITransport(FakeScript(turns=[FakeTurn.reply("x"), FakeTurn.reply("y")]))
    async with tc.open_session(tc.ClaudeAgentOptions(transport=transport)) as session:
        async with trio.open_nursery() as nursery:
            await nursery.start(session.stream_input, prompts(["p1", "p2"], gap=1))
            got = [m async for m in session.receive_until_input_done()]
        assert [m.result for m in got if isinstance(m, tc.ResultMessage)] == ["x", "y"]
        # the session goes on afterwards
        assert (await session.run("more")).text == "ok"
