"""The warm pool with the real CLI: hand-out is fast, every process is reaped."""

from __future__ import annotations

import trio

import trio_claude as tc
from trio_claude.testing import ClaudeTestEnv, Turn


async def test_pool_hands_out_initialised_sessions_quickly(claude_env: ClaudeTestEnv) -> None:
    opts = claude_env.options([Turn("warm answer")], name="pool")
    async with tc.open_session_pool(opts, size=2) as pool:
        with trio.fail_after(20):
            await pool.wait_ready()
        start = trio.current_time()
        async with pool.session() as session:
            handed_out = trio.current_time() - start
            assert session.server_info is not None
            assert (await session.run("hi")).text == "warm answer"
        assert handed_out < 0.05  # no spawn, no initialize on the hand-out path
    assert not claude_env.leaked_processes()
