"""The warm session pool: hand-out latency, refill, no reuse, teardown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

import trio_claude as tc
from trio_claude.testing.fake_cli import (
    FakeCLIProcessTransport,
    FakeCLITransport,
    FakeScript,
    FakeTurn,
)


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


async def test_sessions_are_warm_fresh_and_refilled() -> None:
    transport = FakeCLITransport(FakeScript(turns=[FakeTurn.reply("pooled")]))
    async with tc.open_session_pool(tc.ClaudeAgentOptions(transport=transport), size=2) as pool:
        with trio.fail_after(5):
            await pool.wait_ready()
        seen: list[tc.Session] = []  # kept alive, so identities cannot be reused
        for _ in range(4):
            async with pool.session() as session:
                assert session.server_info is not None  # initialised before hand-out
                assert (await session.run("hi")).text == "pooled"  # a fresh conversation
                seen.append(session)
            assert session.closed
        assert len({id(s) for s in seen}) == 4
        stats = pool.statistics()
        assert stats.handed_out == 4 and stats.in_use == 0 and stats.failed_starts == 0
    assert len(transport.specs) >= 5  # 4 handed out + refills


async def test_leaving_the_pool_reaps_every_process(tmp_path: Path) -> None:
    transport = FakeCLIProcessTransport(FakeScript(), tmp_path)
    pids = []
    async with tc.open_session_pool(tc.ClaudeAgentOptions(transport=transport), size=3) as pool:
        async with pool.session() as session:
            assert session.pid is not None
            pids.append(session.pid)
        with trio.fail_after(60):  # a hang guard: three interpreters start, on a loaded machine
            await pool.wait_ready(3)
        pids += [s.pid for s in pool._all if s.pid is not None]
    assert pids and not any(alive(pid) for pid in pids)


async def test_start_failures_are_retried_and_counted(
    autojump_clock: trio.testing.MockClock,
) -> None:
    from trio_claude.testing.fake_cli import Exit

    transport = FakeCLITransport(FakeScript(on_initialize=[Exit(2)]))
    async with tc.open_session_pool(tc.ClaudeAgentOptions(transport=transport), size=1) as pool:
        await trio.sleep(3)
        assert pool.statistics().failed_starts >= 3
        assert pool.statistics().ready == 0


async def test_bad_size_is_a_configuration_error() -> None:
    with pytest.raises(tc.ConfigurationError):
        async with tc.open_session_pool(size=0):
            pass


# ------------------------------------------------------------------------- idle_ttl


async def test_an_idle_pool_closes_its_warm_sessions_and_demand_refills_it(
    autojump_clock: trio.testing.MockClock,
) -> None:
    transport = FakeCLITransport(FakeScript(turns=[FakeTurn.reply("pooled")]))
    options = tc.ClaudeAgentOptions(transport=transport)
    async with tc.open_session_pool(options, size=3, idle_ttl=60) as pool:
        await pool.wait_ready()
        warm = list(pool._all)
        await trio.sleep(59)
        assert pool.statistics().ready == 3
        await trio.sleep(2)
        stats = pool.statistics()
        assert (stats.ready, stats.starting, stats.target, stats.idle_closed) == (0, 0, 0, 3)
        assert all(session.closed for session in warm)
        await trio.sleep(3600)  # an idle service holds no CLI, and starts none
        assert len(transport.specs) == 3 and not pool._all
        async with pool.session() as session:  # demand returns: a cold start, then a refill
            assert (await session.run("hi")).text == "pooled"
        await pool.wait_ready()
        stats = pool.statistics()
        assert (stats.ready, stats.target, stats.handed_out) == (3, 3, 1)


async def test_steady_demand_keeps_the_pool_warm(autojump_clock: trio.testing.MockClock) -> None:
    transport = FakeCLITransport(FakeScript())
    options = tc.ClaudeAgentOptions(transport=transport)
    async with tc.open_session_pool(options, size=2, idle_ttl=60) as pool:
        for _ in range(10):
            await trio.sleep(50)
            async with pool.session():
                pass
        stats = pool.statistics()
        assert (stats.idle_closed, stats.target, stats.handed_out) == (0, 2, 10)


async def test_min_size_sessions_stay_warm_through_idle_periods(
    autojump_clock: trio.testing.MockClock,
) -> None:
    transport = FakeCLITransport(FakeScript())
    options = tc.ClaudeAgentOptions(transport=transport)
    async with tc.open_session_pool(options, size=3, idle_ttl=10, min_size=1) as pool:
        await pool.wait_ready()
        await trio.sleep(11)
        stats = pool.statistics()
        assert (stats.ready, stats.target, stats.idle_closed) == (1, 1, 2)
        start = trio.current_time()
        async with pool.session() as session:  # the warm one: no wait
            assert trio.current_time() == start
            assert session.server_info is not None
        await pool.wait_ready()
        assert pool.statistics().ready == 3


async def test_sessions_that_finish_starting_after_the_pool_went_idle_are_closed(
    autojump_clock: trio.testing.MockClock,
) -> None:
    from trio_claude.testing.fake_cli import Sleep

    transport = FakeCLITransport(FakeScript(on_initialize=[Sleep(100)]))
    options = tc.ClaudeAgentOptions(transport=transport, initialize_timeout=1000)
    async with tc.open_session_pool(options, size=2, idle_ttl=10) as pool:
        await trio.sleep(50)
        assert pool.statistics().starting == 2 and pool.statistics().target == 0
        await trio.sleep(100)
        stats = pool.statistics()
        assert (stats.ready, stats.starting) == (0, 0)
        assert not pool._all and len(transport.specs) == 2


@pytest.mark.parametrize(
    "kwargs",
    [
        {"idle_ttl": 0},
        {"idle_ttl": float("nan")},
        {"idle_ttl": 10, "min_size": 3},
        {"idle_ttl": 10, "min_size": -1},
        {"min_size": 1},
    ],
)
async def test_bad_idle_settings_are_configuration_errors(kwargs: dict[str, Any]) -> None:
    with pytest.raises(tc.ConfigurationError):
        async with tc.open_session_pool(size=2, **kwargs):
            pass
