"""No tool process outlives its session, however the CLI ends.

The real CLI runs each ``Bash`` command in a session of its own (``setsid``), so a tool is
outside the CLI's process group, and ``bash`` puts the command's processes in groups of their
own. When the CLI is SIGKILLed (by the shutdown ladder's last step, by someone else, by the OOM
killer) or simply exits, nothing stops them: they are reparented to init. The subprocess
transport marks every process of a CLI with ``TRIO_CLAUDE_PROCESS_TAG`` in its environment; once
the CLI is reaped, it kills every process carrying the tag, the groups they are in and their
descendants; and before its own SIGKILL it kills the CLI's live tree.

The CLI here is ``clis/tool_tree.py``: it starts a tool in a session of its own with two
grandchildren, one in a group of its own and one whose environment lost the tag (see its
docstring). Each test checks the three are gone once the session is over, and that no process
carries the tag; the suite's leak checker also finds them if they survive (they carry its
marker).
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
import trio

import trio_claude as tc
from trio_claude._transport._sweep import TAG_VARIABLE

from ._support import ScriptTransport, alive, wait_until

TOOL_TREE = Path(__file__).parent / "clis" / "tool_tree.py"
#: A bound on how long anything here may take (never asserted on: the machine may be slow).
PATIENCE = 30


def tags_of(pid: int) -> list[str]:
    """The tags in ``pid``'s environment (``[]`` if it has none)."""
    for entry in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
        name, _, value = entry.decode(errors="replace").partition("=")
        if name == TAG_VARIABLE:
            return value.split(":")
    return []


def carrying(tag: str) -> list[int]:
    """Live processes whose environment carries ``tag``."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit() and alive(int(name)):
            try:
                if tag in tags_of(int(name)):
                    found.append(int(name))
            except OSError:
                continue
    return found


async def start_tool(session: tc.Session) -> list[int]:
    """Starts the tool; returns the pids of the tool and its two grandchildren."""
    await session.send("start the tool")
    with trio.fail_after(PATIENCE):
        async for message in session.receive_messages():
            if isinstance(message, tc.SystemMessage) and message.subtype == "tool_tree":
                pids: list[int] = message.data["pids"]
                return pids
    raise AssertionError("the CLI ended without starting its tool")


def check_marked(cli: int, tool: int, own_group: int, untagged: int) -> str:
    """Every process of the CLI carries its tag except the one that dropped it; returns it."""
    [tag] = tags_of(cli)[-1:]
    assert tag in tags_of(tool) and tag in tags_of(own_group)
    assert tag not in tags_of(untagged)
    # The tool and the grandchild are outside the CLI's group, as the real CLI's Bash tools.
    assert os.getpgid(tool) != cli and os.getpgid(own_group) not in (cli, tool)
    assert os.getpgid(untagged) == tool
    return tag


async def all_gone(pids: list[int], tag: str) -> None:
    # SIGKILL is asynchronous for processes that are not our children: wait, bounded.
    await wait_until(lambda: not any(alive(pid) for pid in pids) and not carrying(tag), PATIENCE)


async def test_tools_of_a_cli_killed_from_outside_are_killed() -> None:
    transport = ScriptTransport(TOOL_TREE)
    options = tc.ClaudeAgentOptions(transport=transport)
    async with tc.open_session(options) as session:
        cli = session.pid
        assert cli is not None
        pids = await start_tool(session)
        tag = check_marked(cli, *pids)
        os.kill(cli, signal.SIGKILL)  # as the OOM killer would
        with trio.fail_after(PATIENCE), pytest.raises(tc.ProcessError) as info:
            await session.collect_response()
        assert info.value.exit_code == -signal.SIGKILL
        # Cleaned up as soon as the CLI was found dead, before the session ends.
        await all_gone(pids, tag)
    assert transport.children[0].returncode == -signal.SIGKILL


async def test_tools_of_a_cli_that_ignores_close_and_sigterm_are_killed_by_the_ladder() -> None:
    transport = ScriptTransport(TOOL_TREE, "--stubborn")
    options = tc.ClaudeAgentOptions(transport=transport, close_timeout=0.1)
    async with tc.open_session(options) as session:
        cli = session.pid
        assert cli is not None
        pids = await start_tool(session)
        *tool_tree, untagged_child = pids
        tag = check_marked(cli, *tool_tree)
        assert tag not in tags_of(untagged_child) and os.getsid(untagged_child) == untagged_child
    # Closing stdin, then SIGTERM, did nothing: the ladder's last step killed the CLI's tree,
    # then reaping it killed what carried its tag. The untagged child of the CLI, in a session
    # of its own, is only found through the tree while the CLI lives.
    assert transport.children[0].returncode == -signal.SIGKILL
    await all_gone(pids, tag)


async def test_tools_left_by_a_cli_that_exits_cleanly_are_killed() -> None:
    transport = ScriptTransport(TOOL_TREE)
    options = tc.ClaudeAgentOptions(transport=transport)
    async with tc.open_session(options) as session:
        cli = session.pid
        assert cli is not None
        pids = await start_tool(session)
        tag = check_marked(cli, *pids)
    assert transport.children[0].returncode == 0  # it exited by itself when stdin closed
    await all_gone(pids, tag)
