"""Bounding live CLIs across sessions, and start-up phase timings."""

from __future__ import annotations

import pytest
import trio
import trio.testing

import trio_claude as tc
from trio_claude._options import validate_options
from trio_claude.testing.fake_cli import FakeCLITransport, FakeScript, FakeTurn


async def test_process_limiter_bounds_live_clis(autojump_clock: trio.testing.MockClock) -> None:
    limiter = trio.CapacityLimiter(2)
    transport = FakeCLITransport(FakeScript(turns=[FakeTurn.reply("ok")] * 10))
    opts = tc.ClaudeAgentOptions(transport=transport, process_limiter=limiter)
    live = 0
    peak = 0

    async def one() -> None:
        nonlocal live, peak
        async with tc.open_session(opts) as session:
            live += 1
            peak = max(peak, live)
            await trio.sleep(5)
            assert (await session.run("hi")).text == "ok"
            live -= 1

    async with trio.open_nursery() as nursery:
        for _ in range(6):
            nursery.start_soon(one)
        await trio.sleep(1)
        assert limiter.borrowed_tokens == 2 and limiter.statistics().tasks_waiting == 4
    assert peak == 2
    assert limiter.borrowed_tokens == 0  # every token came back
    assert len(transport.specs) == 6


async def test_cancelled_while_waiting_for_a_token_starts_nothing(
    autojump_clock: trio.testing.MockClock,
) -> None:
    limiter = trio.CapacityLimiter(1)
    transport = FakeCLITransport(FakeScript())
    opts = tc.ClaudeAgentOptions(transport=transport, process_limiter=limiter)
    async with tc.open_session(opts):
        with trio.move_on_after(3) as scope:
            async with tc.open_session(opts):
                pass
        assert scope.cancelled_caught
        assert len(transport.specs) == 1
    assert limiter.borrowed_tokens == 0


def test_process_limiter_must_be_a_capacity_limiter() -> None:
    with pytest.raises(tc.ConfigurationError, match="CapacityLimiter"):
        validate_options(tc.ClaudeAgentOptions(process_limiter=3))


async def test_start_up_phases_are_timed() -> None:
    opts = tc.ClaudeAgentOptions(transport=FakeCLITransport(FakeScript()))
    async with tc.open_session(opts) as session:
        stats = session.statistics()
        assert stats.spawn_seconds is not None and stats.spawn_seconds >= 0
        assert stats.initialize_seconds is not None and stats.initialize_seconds >= 0
