"""pytest fixtures for testing agents offline with the real CLI (loaded automatically).

- ``claude_env``: a :class:`~trio_claude.testing.ClaudeTestEnv` (fake model + isolated HOME and
  config dir) for the test; the test fails if a CLI it started is still alive at the end.

Requires pytest-trio (``trio_mode = true``) since the fixture is async.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ._env import ClaudeTestEnv, open_claude_test_env

__all__ = ["claude_env"]


@pytest.fixture
async def claude_env(tmp_path: Path) -> AsyncIterator[ClaudeTestEnv]:
    """A fake model and an isolated CLI environment; fails the test on a leaked CLI process."""
    async with open_claude_test_env(tmp_path) as env:
        yield env
        leaked = env.kill_leaked()
    if leaked:
        pytest.fail(f"claude processes outlived the test: {leaked}")
