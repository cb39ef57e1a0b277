"""The warm session pool: hand-out latency, refill, no reuse, teardown."""

from __future__ import annotations

from pathlib import Path

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
        with trio.fail_after(10):
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
