"""Warm sessions: a pool hands out initialised CLIs in milliseconds, offline.

Run: ``python examples/session_pool.py`` (after ``make cli``).
"""

from __future__ import annotations

import tempfile

import trio

import trio_claude as tc
from trio_claude.testing import Turn, open_claude_test_env


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with open_claude_test_env(tmp) as env:
            opts = env.options([Turn("pooled answer")] * 3, name="pool")
            async with tc.open_session_pool(opts, size=2) as pool:
                await pool.wait_ready()  # the first warm-up
                for i in range(3):
                    start = trio.current_time()
                    async with pool.session() as session:
                        waited = (trio.current_time() - start) * 1000
                        turn = await session.run(f"request {i}")
                        print(f"request {i}: {turn.text!r}, session ready after {waited:.1f} ms")
                print(pool.statistics())
            print("pool closed: every CLI reaped")


if __name__ == "__main__":
    trio.run(main)
