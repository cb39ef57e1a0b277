"""The real CLI's Bash tools do not outlive the session, however the CLI ends.

CLI 2.1.329 runs a ``Bash`` command as ``bash -c ...`` in a session of its own, and the
command's processes in a group of their own. When the CLI is SIGKILLed they survive it,
reparented to init; it does not stop them either when it is SIGTERMed with a tool that ignores
SIGTERM for longer than the shutdown ladder's 1 s grace. The session kills them: the tools carry
the CLI's ``TRIO_CLAUDE_PROCESS_TAG`` (the CLI passes its environment on to ``Bash``).
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
import trio

import trio_claude as tc
from trio_claude._transport._sweep import TAG_VARIABLE
from trio_claude.testing import ClaudeTestEnv, ToolUse, Turn

#: A bound on how long anything here may take (never asserted on: the machine may be slow).
PATIENCE = 60


def tags_of(pid: int) -> list[str]:
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return []
    for entry in environ.split(b"\0"):
        name, _, value = entry.decode(errors="replace").partition("=")
        if name == TAG_VARIABLE:
            return value.split(":")
    return []


def processes_running(command: str) -> list[int]:
    """Live processes whose command line is ``command`` (words separated by spaces)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{name}/cmdline").read_bytes()
            state = Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[-1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z" and cmdline.rstrip(b"\0").split(b"\0") == command.encode().split():
            found.append(int(name))
    return found


async def the_tool_runs(command: str) -> int:
    with trio.fail_after(PATIENCE):
        while not (pids := processes_running(command)):
            await trio.sleep(0.05)
    [pid] = pids
    return pid


async def no_process_runs(command: str) -> None:
    # SIGKILL is asynchronous for processes that are not our children: wait, bounded.
    with trio.fail_after(30):
        while processes_running(command):
            await trio.sleep(0.05)


async def test_a_bash_tool_dies_with_a_cli_killed_mid_tool(claude_env: ClaudeTestEnv) -> None:
    sleep = "sleep 31.71"
    options = claude_env.options(
        [Turn([ToolUse("Bash", {"command": f"echo start && {sleep}"})]), Turn("never reached")],
        allowed_tools=["Bash"],
    )
    async with tc.open_session(options) as session:
        cli = session.pid
        assert cli is not None
        await session.send("sleep a while")
        tool = await the_tool_runs(sleep)
        # The CLI passed its tag on to the tool, which is outside its process group.
        [tag] = tags_of(cli)[-1:]
        assert tag in tags_of(tool)
        assert os.getpgid(tool) != cli and os.getsid(tool) != cli
        os.kill(cli, signal.SIGKILL)  # as the OOM killer would
        with trio.fail_after(PATIENCE), pytest.raises(tc.ProcessError) as info:
            await session.collect_response()
        assert info.value.exit_code == -signal.SIGKILL
        await no_process_runs(sleep)  # before the session is even closed
    assert claude_env.leaked_processes() == []


async def test_closing_mid_tool_kills_a_bash_tool_that_ignores_sigterm(
    claude_env: ClaudeTestEnv,
) -> None:
    sleep = "sleep 31.72"
    options = claude_env.options(
        [
            Turn([ToolUse("Bash", {"command": f"trap '' TERM; echo start && {sleep}"})]),
            Turn("never reached"),
        ],
        allowed_tools=["Bash"],
        close_timeout=0.5,
    )
    async with tc.open_session(options) as session:
        await session.send("sleep a while")
        await the_tool_runs(sleep)
    # The CLI waits for the tool when its stdin closes, and takes longer than the ladder's 1 s
    # to stop a tool that ignores SIGTERM: the SIGKILL step kills the tree, tool included.
    await no_process_runs(sleep)
    assert claude_env.leaked_processes() == []
