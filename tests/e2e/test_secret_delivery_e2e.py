"""Credentials in ``mcp_servers`` and ``settings`` stay off the real CLI's command line.

Every local user can read a process's command line (``/proc/<pid>/cmdline``). By default the
stdio/sse/http MCP servers (their ``env`` and ``headers``) and inline settings go in the
``initialize`` request instead (``--await-initialize``, ``--initialize-fields=settings``): these
tests run the pinned CLI against the fake model with a real stdio MCP server and check that the
secrets still arrive (the server sees its ``env``; the settings' ``env`` and ``model`` apply)
while no process of the session shows them in its command line.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import trio_claude as tc
from trio_claude._transport._command import check_initialize_reply
from trio_claude.testing import ClaudeTestEnv, ToolUse, Turn
from trio_claude.testing._env import find_marked_processes

from .mcp_probe_server import digest

PROBE = Path(__file__).with_name("mcp_probe_server.py")
MCP_KEY = "sk-ant-api03-" + "Qw7" * 30  # in the MCP server's env
SETTINGS_KEY = "sk-gw-" + "5" * 30  # a gateway-shaped key in the settings' env


def _options(claude_env: ClaudeTestEnv, **kwargs: Any) -> tc.ClaudeAgentOptions:
    script = [Turn([ToolUse("mcp__probe__env_report", {})]), Turn("report {last_tool_result}")]
    servers = {
        "probe": {
            "type": "stdio",
            "command": sys.executable,
            "args": [str(PROBE)],
            "env": {"PROBE_API_KEY": MCP_KEY},
        }
    }
    return claude_env.options(
        script,
        allowed_tools=["mcp__probe__env_report"],
        mcp_servers=servers,
        strict_mcp_config=True,
        settings=json.dumps(
            {"env": {"PROBE_SETTINGS_TOKEN": SETTINGS_KEY}, "model": "claude-probe-model"}
        ),
        **kwargs,
    )


def _cmdline(pid: int | None) -> bytes:
    assert pid is not None
    return Path(f"/proc/{pid}/cmdline").read_bytes()


def _command_lines(claude_env: ClaudeTestEnv) -> list[bytes]:
    """The command lines of every live process of this test's sessions (the CLI, its MCP server)."""
    lines = []
    for pid in find_marked_processes(claude_env.marker):
        try:
            lines.append(Path(f"/proc/{pid}/cmdline").read_bytes())
        except OSError:
            pass
    return lines


async def test_mcp_server_env_and_settings_go_in_initialize_not_on_the_command_line(
    claude_env: ClaudeTestEnv,
) -> None:
    options = _options(claude_env)
    async with tc.open_session(options) as session:
        argv = _cmdline(session.pid).split(b"\0")
        assert b"--await-initialize" in argv and b"--initialize-fields=settings" in argv
        assert session.server_info is not None
        reply = session.server_info.raw
        assert reply["mcp_servers_applied"] is True and reply["settings_applied"] is True
        assert check_initialize_reply(options, reply) is None
        turn = await session.run("report")
        seen = _command_lines(claude_env)  # the MCP server is running now
    assert len(seen) >= 2  # the CLI and the MCP server it started
    for cmdline in seen:
        assert MCP_KEY.encode() not in cmdline and SETTINGS_KEY.encode() not in cmdline
    # ... and yet they arrived: the server got its env (and the settings' env, which the CLI
    # applies to its own environment), and the settings' model is the one the model was asked for
    report = json.loads(turn.text.removeprefix("report "))
    assert report == {
        "PROBE_API_KEY": digest(MCP_KEY),
        "PROBE_SETTINGS_TOKEN": digest(SETTINGS_KEY),
    }
    init = next(m for m in turn.messages if isinstance(m, tc.InitMessage))
    assert init.data["mcp_servers"] == [
        {"name": "probe", "status": "connected", "source": "dynamic"}
    ]
    assert init.data["model"] == "claude-probe-model"


async def test_argv_delivery_is_what_puts_them_on_the_command_line(
    claude_env: ClaudeTestEnv,
) -> None:
    # The opt-out, and a check that the test above would see a leak if there were one.
    options = _options(claude_env, mcp_servers_delivery="argv", settings_delivery="argv")
    async with tc.open_session(options) as session:
        cmdline = _cmdline(session.pid)
        assert session.server_info is not None
        assert check_initialize_reply(options, session.server_info.raw) is None
        turn = await session.run("report")
    assert MCP_KEY.encode() in cmdline and SETTINGS_KEY.encode() in cmdline
    assert b"--await-initialize" not in cmdline.split(b"\0")
    assert json.loads(turn.text.removeprefix("report "))["PROBE_API_KEY"] == digest(MCP_KEY)
