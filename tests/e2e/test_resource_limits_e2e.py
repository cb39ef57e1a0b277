"""resource_limits with the real CLI: memory of the CLI and of its Bash tools, open files."""

from __future__ import annotations

import re
import signal
import sys
from pathlib import Path

import pytest
import trio

import trio_claude as tc
from trio_claude._transport._base import ChildProcess, LaunchSpec
from trio_claude._transport._discovery import find_cli
from trio_claude.testing import ClaudeTestEnv, ToolUse, Turn

MIB = 1 << 20
#: A bound on how long anything here may take (never asserted on: the machine may be slow).
PATIENCE = 60


def gone(pid: int | None) -> bool:
    """Whether ``pid`` no longer exists (not even as a zombie: it was reaped)."""
    return pid is not None and not Path(f"/proc/{pid}").exists()


def rlimits_of(pid: int | None) -> str:
    return Path(f"/proc/{pid}/limits").read_text()


class Recording(tc.SubprocessTransport):
    """The default transport, remembering the processes it started."""

    def __init__(self) -> None:
        self.children: list[ChildProcess] = []

    async def start(self, spec: LaunchSpec, nursery: trio.Nursery) -> ChildProcess:
        child = await super().start(spec, nursery)
        self.children.append(child)
        return child


async def test_a_10_mib_memory_limit_stops_the_real_cli_at_once(claude_env: ClaudeTestEnv) -> None:
    transport = Recording()
    options = claude_env.options(
        [Turn("never reached")],
        transport=transport,
        cli_path=find_cli(),
        resource_limits=tc.ResourceLimits(max_memory_bytes=10 * MIB, poll_interval=0.1),
    )
    with trio.fail_after(PATIENCE), pytest.raises(tc.ResourceLimitError) as info:
        async with tc.open_session(options) as session:
            await session.run("hello")
    error = info.value
    assert (error.limit_name, error.limit) == ("max_memory_bytes", 10 * MIB)
    assert error.observed > 10 * MIB
    assert error.exit_code == -signal.SIGKILL
    [child] = transport.children
    assert child.returncode == -signal.SIGKILL  # reaped
    assert gone(child.pid)
    assert claude_env.leaked_processes() == []


async def test_a_bash_tool_over_the_memory_limit_is_killed_with_the_cli(
    claude_env: ClaudeTestEnv,
) -> None:
    # The CLI runs Bash commands in sessions of their own: outside its process group.
    allocate = f"{sys.executable} -c \"import time; b = b'x' * (600 << 20); time.sleep(120)\""
    options = claude_env.options(
        [Turn([ToolUse("Bash", {"command": allocate})]), Turn("never reached")],
        allowed_tools=["Bash"],
        resource_limits=tc.ResourceLimits(max_memory_bytes=500 * MIB, poll_interval=0.1),
    )
    async with tc.open_session(options) as session:
        pid = session.pid
        with trio.fail_after(PATIENCE), pytest.raises(tc.ResourceLimitError) as info:
            await session.run("use a lot of memory")
        usage = session.statistics().resource_usage
    error = info.value
    assert error.limit_name == "max_memory_bytes" and error.observed > 500 * MIB
    assert usage is not None and usage.processes >= 2 and usage.memory_bytes == error.observed
    assert gone(pid)
    assert claude_env.leaked_processes() == []  # the tool (and the CLI) are gone too


async def test_max_open_files_binds_the_real_cli_and_its_tools(claude_env: ClaudeTestEnv) -> None:
    options = claude_env.options(
        [
            Turn([ToolUse("Bash", {"command": "echo soft=$(ulimit -Sn) hard=$(ulimit -Hn)"})]),
            Turn("{last_tool_result}"),
        ],
        allowed_tools=["Bash"],
        resource_limits=tc.ResourceLimits(max_open_files=256),
    )
    async with tc.open_session(options) as session:
        limits = rlimits_of(session.pid)
        with trio.fail_after(PATIENCE):
            turn = await session.run("what are your limits?")
        assert session.statistics().resource_usage is None  # no memory or CPU limit to poll
    # The CLI raises its soft limit to the hard one at start-up; both are the limit.
    assert re.search(r"Max open files\s+256\s+256\s", limits), limits
    assert "soft=256 hard=256" in turn.text
