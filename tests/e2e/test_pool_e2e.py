"""The warm pool with the real CLI: hand-out is fast, every process is reaped."""

from __future__ import annotations

import trio

import trio_claude as tc
from trio_claude.testing import ClaudeTestEnv, Turn, find_marked_processes


async def test_pool_hands_out_initialised_sessions_quickly(claude_env: ClaudeTestEnv) -> None:
    opts = claude_env.options([Turn("warm answer")], name="pool")
    async with tc.open_session_pool(opts, size=2) as pool:
        with trio.fail_after(20):
            await pool.wait_ready()
        assert pool.statistics().ready == 2
        warm = set(find_marked_processes(claude_env.marker))  # the CLIs started and initialised
        async with pool.session() as session:
            # No spawn, no initialize on the hand-out path: one of the warm CLIs, initialised
            # already (checked by identity, not by the clock: a loaded machine is slow).
            assert session.pid in warm
            assert session.server_info is not None
            assert (await session.run("hi")).text == "warm answer"
    assert not claude_env.leaked_processes()
