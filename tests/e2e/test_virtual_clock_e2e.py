"""The real CLI under an autojumping ``MockClock``: the failure says why.

The CLI answers in real time, while virtual time jumps to the next deadline whenever every task
waits: ``initialize`` "times out" after 60 virtual seconds, a few milliseconds of wall time.
"""

from __future__ import annotations

import logging

import pytest
import trio
import trio.testing

import trio_claude as tc
from trio_claude.testing import ClaudeTestEnv, Turn


async def test_real_cli_options_under_autojump_warn_and_the_start_fails_fast(
    claude_env: ClaudeTestEnv, autojump_clock: trio.testing.MockClock
) -> None:
    with pytest.warns(RuntimeWarning, match="autojump_threshold=0"):
        options = claude_env.options([Turn("hi")])
    with pytest.raises(tc.CLIConnectionError, match="did not answer initialize"):
        async with tc.open_session(options):
            pass


async def test_the_initialize_timeout_and_the_reap_error_name_the_virtual_clock(
    claude_env: ClaudeTestEnv,
    autojump_clock: trio.testing.MockClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with pytest.warns(RuntimeWarning):
        options = claude_env.options([Turn("hi")])
    with pytest.raises(tc.CLIConnectionError) as info:
        async with tc.open_session(options):
            pass
    assert "autojump_threshold=0" in str(info.value)
    reaps = [r for r in caplog.records if "could not be reaped" in r.getMessage()]
    assert all("autojump_threshold=0" in r.getMessage() for r in reaps)
    assert logging.ERROR in {r.levelno for r in reaps} or not reaps
