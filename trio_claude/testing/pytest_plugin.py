"""pytest fixtures for testing agents offline with the real CLI (loaded automatically).

- ``claude_env``: a :class:`~trio_claude.testing.ClaudeTestEnv` (fake model + isolated HOME and
  config dir) for the test; the test fails if a CLI it started is still alive at the end.
- After each test, a :class:`~trio_claude.testing.TrioDriver` it left open is closed (with a
  ``ResourceWarning``), so that later tests' trio runs work.

Requires pytest-trio (``trio_mode = true``) since the fixture is async.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ._driver import TrioDriver, close_orphaned_driver, open_driver
from ._env import ClaudeTestEnv, open_claude_test_env

__all__ = ["claude_env"]


@pytest.fixture
async def claude_env(tmp_path: Path) -> AsyncIterator[ClaudeTestEnv]:
    """A fake model and an isolated CLI environment; fails the test on a leaked CLI process."""
    async with open_claude_test_env(tmp_path) as env:
        yield env
        # A CLI the session SIGKILLed may still be dying (a virtual clock gives up the reap
        # wait at once): not a leak unless it is still there after a moment.
        leaked = env.kill_leaked(settle=2.0)
    if leaked:
        pytest.fail(f"claude processes outlived the test: {leaked}")


_DRIVER_AT_SETUP = pytest.StashKey[TrioDriver | None]()


@pytest.hookimpl(trylast=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Notes the driver open once the test's fixtures are set up (a wider fixture's)."""
    item.stash[_DRIVER_AT_SETUP] = open_driver()


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    """A ``TrioDriver`` the test itself left open (a state machine whose ``__init__`` failed)
    is closed after it, with a ``ResourceWarning``: its paused run would break every later
    test's run. One a fixture opened is the fixture's to close."""
    close_orphaned_driver(keep=item.stash.get(_DRIVER_AT_SETUP, None))
