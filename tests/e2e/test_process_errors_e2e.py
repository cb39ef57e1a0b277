"""Well-known CLI failures through ``open_session`` with the real CLI: ``ProcessError.reason``.

Each case makes the real CLI 2.1.329 exit 1 during start-up; ``open_session`` must raise one
``ProcessError`` (not a group, not a timeout) whose ``reason`` names the cause and whose text ends
with the hint.
"""

from __future__ import annotations

import os
import uuid

import pytest
import trio

import trio_claude as tc
from trio_claude.testing import ClaudeTestEnv, Turn


async def open_fails(options: tc.ClaudeAgentOptions) -> tc.ProcessError:
    with pytest.raises(tc.ProcessError) as info:
        with trio.fail_after(60):
            async with tc.open_session(options):
                pytest.fail("the session opened")
    error = info.value
    assert error.exit_code == 1 and error.signal is None
    assert error.hint and str(error).splitlines()[-1] == f"hint ({error.reason}): {error.hint}"
    return error


@pytest.mark.parametrize(
    ("extra_args", "reason", "in_hint"),
    [
        ({"no-such-flag": None}, "unknown_option", ["extra_args passes --no-such-flag", "doctor"]),
        ({"max-turns": "abc"}, "bad_argument", ["--max-turns", "extra_args"]),
        ({"mcp-config": "/nonexistent/mcp.json"}, "invalid_mcp_config", ["mcp_servers"]),
    ],
)
async def test_rejected_extra_args_are_named(
    claude_env: ClaudeTestEnv, extra_args: dict[str, str | None], reason: str, in_hint: list[str]
) -> None:
    error = await open_fails(claude_env.options([], extra_args=extra_args))
    assert error.reason == reason
    for words in in_hint:
        assert words in (error.hint or "")
    assert claude_env.model.requests == []


async def test_resume_of_an_unknown_session_id(claude_env: ClaudeTestEnv) -> None:
    missing = str(uuid.uuid4())
    error = await open_fails(claude_env.options([], resume=missing))
    assert error.reason == "session_not_found"
    assert f"No conversation found with session ID: {missing}" in error.stderr
    hint = error.hint or ""
    assert missing in hint and f"CLAUDE_CONFIG_DIR ({claude_env.config_dir})" in hint


async def test_resume_under_another_config_dir_is_session_not_found(
    claude_env: ClaudeTestEnv,
) -> None:
    # The common way to get there: a real session, resumed with another CLAUDE_CONFIG_DIR.
    # (CLI 2.1.329 finds a session from any cwd; the config dir is what must match.)
    turn = await tc.ask("hello", options=claude_env.options([Turn("hi")]))
    other = claude_env.root / "other-config"
    other.mkdir()
    options = claude_env.options([], resume=turn.session_id, env={"CLAUDE_CONFIG_DIR": str(other)})
    error = await open_fails(options)
    assert error.reason == "session_not_found"
    assert f"CLAUDE_CONFIG_DIR ({other})" in (error.hint or "")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
async def test_a_startup_failure_result_names_its_reason(claude_env: ClaudeTestEnv) -> None:
    # With CLAUDE_CODE_STARTUP_FAILURE_RESULTS the CLI writes an error result naming why it
    # refuses to start before it exits: the error says so instead of "exited unexpectedly".
    options = claude_env.options(
        [],
        permission_mode="bypassPermissions",
        env={"IS_SANDBOX": "", "CLAUDE_CODE_STARTUP_FAILURE_RESULTS": "1"},
    )
    error = await open_fails(options)
    assert error.startup_failure_reason == "bypass_root"
    assert str(error).startswith("Claude Code refused to start (bypass_root): ")
    assert error.reason == "root_bypass_permissions"


async def test_bypass_permissions_as_root_without_a_sandbox(claude_env: ClaudeTestEnv) -> None:
    # The test environment sets IS_SANDBOX=1 (the CLI then allows it); a plain root shell would
    # not. An empty value is what the CLI sees as unset.
    options = claude_env.options([], permission_mode="bypassPermissions", env={"IS_SANDBOX": ""})
    error = await open_fails(options)
    assert error.reason == "root_bypass_permissions"
    assert "cannot be used with root/sudo privileges" in error.stderr
    assert "IS_SANDBOX" in (error.hint or "") and "`user` option" in (error.hint or "")
    # The same options with IS_SANDBOX=1 (a real sandbox, as here) open fine.
    sandboxed = claude_env.options([], permission_mode="bypassPermissions")
    async with tc.open_session(sandboxed) as session:
        assert session.server_info is not None
