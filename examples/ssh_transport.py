"""The CLI on another host, over SSH: ``SSHTransport``.

The session runs here (its callbacks, hooks and budgets); the CLI and its tools run on the remote
host, which needs ``python3`` (3.7+) and the ``claude`` CLI. Authentication is ssh's own (keys,
agent, ``~/.ssh/config``), never a prompt. Settings come from the environment::

    TRIO_CLAUDE_SSH_HOST=box.example.com python examples/ssh_transport.py

- ``TRIO_CLAUDE_SSH_HOST`` (required: without it the example says so and exits), and optionally
  ``TRIO_CLAUDE_SSH_USER``, ``TRIO_CLAUDE_SSH_IDENTITY`` (a private key),
  ``TRIO_CLAUDE_SSH_KNOWN_HOSTS``, ``TRIO_CLAUDE_SSH_CLI`` (the remote ``claude``, default
  ``claude`` on the remote PATH) and ``TRIO_CLAUDE_SSH_PYTHON`` (default ``python3``).
- The model: the real API by default, with the ``ANTHROPIC_API_KEY`` exported here (it reaches
  the remote CLI inside the ssh channel, never on a command line). Offline, the fake model:
  ``TRIO_CLAUDE_SSH_FAKE_MODEL_HOST`` is an address of this machine the remote host can reach
  (the fake listens there), and ``TRIO_CLAUDE_SSH_REMOTE_HOME`` a remote directory for the CLI's
  ``HOME``. The cluster tests (``tests/cluster``) run it that way against an OpenSSH server in a
  network namespace.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import trio

import trio_claude as tc
from trio_claude.testing import ToolUse, Turn, open_fake_model

#: Which network namespace the tool runs in (Linux); the file makes it ask for permission.
COMMAND = "readlink /proc/self/ns/net | tee where.txt"


def transport_from_env() -> tc.SSHTransport:
    get = os.environ.get
    return tc.SSHTransport(
        os.environ["TRIO_CLAUDE_SSH_HOST"],
        user=get("TRIO_CLAUDE_SSH_USER"),
        identity_file=get("TRIO_CLAUDE_SSH_IDENTITY"),
        known_hosts_file=get("TRIO_CLAUDE_SSH_KNOWN_HOSTS"),
        remote_python=get("TRIO_CLAUDE_SSH_PYTHON", "python3"),
    )


async def policy(
    tool_name: str, tool_input: dict[str, Any], context: tc.ToolPermissionContext
) -> tc.PermissionResultAllow:
    # Callbacks run here, in this process, whichever host the CLI is on.
    print(f"asked to run {tool_name}: {tool_input.get('command', tool_input)}")
    return tc.PermissionResultAllow()


async def run(options: tc.ClaudeAgentOptions, prompt: str) -> None:
    async with tc.open_session(options) as session:
        print("local ssh pid:", session.pid)
        turn = await session.run(prompt)
        print("answer:", turn.text)
    # Closed: the remote CLI exited on its own, the supervisor and ssh with its status.
    print(f"cost: ${turn.result.total_cost_usd or 0:.4f}, exit status {session.returncode}")


async def main() -> None:
    if not os.environ.get("TRIO_CLAUDE_SSH_HOST"):
        print(
            "set TRIO_CLAUDE_SSH_HOST (and optionally TRIO_CLAUDE_SSH_USER, ..._IDENTITY,"
            " ..._KNOWN_HOSTS) to a host with python3 and the claude CLI: nothing to do"
        )
        return
    transport = transport_from_env()
    cli = os.environ.get("TRIO_CLAUDE_SSH_CLI", "claude")
    model_host = os.environ.get("TRIO_CLAUDE_SSH_FAKE_MODEL_HOST")
    if model_host is None:  # the real model, with the API key exported here
        options = tc.ClaudeAgentOptions(transport=transport, cli_path=cli, can_use_tool=policy)
        await run(options, f"Run `{COMMAND}` with the Bash tool and tell me what it printed.")
        return
    # Offline: the fake model, on an address of ours the remote host reaches.
    script = [
        Turn([ToolUse("Bash", {"command": COMMAND})]),
        Turn("the tool ran in {last_tool_result}"),
    ]
    async with open_fake_model(script, host=model_host) as model:
        home = os.environ.get("TRIO_CLAUDE_SSH_REMOTE_HOME")
        env = {
            **model.cli_env(),
            "NO_PROXY": f"127.0.0.1,localhost,::1,{model_host}",
            "ANTHROPIC_AUTH_TOKEN": "",
            "CLAUDE_CODE_OAUTH_TOKEN": "",
        }
        if home is not None:
            env.update(HOME=home, CLAUDE_CONFIG_DIR=f"{home}/.claude")
        options = tc.ClaudeAgentOptions(
            transport=transport, cli_path=cli, can_use_tool=policy, env=env, cwd=home
        )
        await run(options, "Which network namespace do your tools run in?")


if __name__ == "__main__":
    try:
        trio.run(main)
    except tc.ClaudeSDKError as exc:
        sys.exit(f"failed: {exc!r}")
