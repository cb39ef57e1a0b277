"""The CLI on a node of a Ray cluster: ``RayTransport``.

The session runs here (its callbacks, hooks and budgets); Ray places the CLI on a node with a
free ``claude_slots`` (a custom resource each node declares), where an actor runs it and relays
its bytes in batches. Each node needs Python, Ray and the ``claude`` CLI. Settings come from the
environment::

    python examples/ray_transport.py                                    # a local one-node Ray
    TRIO_CLAUDE_RAY_ADDRESS=10.0.0.5:6379 python examples/ray_transport.py  # your cluster

- Without Ray installed it says how to install it (``pip install 'trio-claude[ray]'``) and exits.
- ``TRIO_CLAUDE_RAY_ADDRESS``: a running cluster to join (``ray.init(address=...)``); without
  it the example starts a local Ray with two ``claude_slots`` and stops it at the end.
- ``TRIO_CLAUDE_RAY_CLI``: the ``claude`` on the nodes (default: ``claude`` on their PATH).
- The model: offline by default, the fake Messages API of ``trio_claude.testing``, listening on
  ``TRIO_CLAUDE_RAY_FAKE_MODEL_HOST`` (an address of this machine the nodes reach; default
  127.0.0.1, right for a local Ray); the CLI's ``HOME`` is a temporary directory (offline, the
  nodes are assumed to share this machine's ``/tmp``: true locally and in ``tests/cluster``).
  ``TRIO_CLAUDE_RAY_MODEL=real``: the real API, with the ``ANTHROPIC_API_KEY`` exported here
  (it reaches the node's CLI inside the actor call, never on a command line).
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
from typing import Any

import trio

import trio_claude as tc
from trio_claude.testing import ToolUse, Turn, open_fake_model

#: The tool prints the node's addresses; the file makes it ask for permission.
COMMAND = "hostname -I | tee where.txt"


async def policy(
    tool_name: str, tool_input: dict[str, Any], context: tc.ToolPermissionContext
) -> tc.PermissionResultAllow:
    # Callbacks run here, in this process, whichever node the CLI is on.
    print(f"asked to run {tool_name}: {tool_input.get('command', tool_input)}")
    return tc.PermissionResultAllow()


async def run(options: tc.ClaudeAgentOptions, prompt: str) -> None:
    async with tc.open_session(options) as session:
        print("supervisor pid on the node:", session.pid)
        turn = await session.run(prompt)
        print("answer:", turn.text)
    print(f"cost: ${turn.result.total_cost_usd or 0:.4f}, exit status {session.returncode}")


async def main() -> None:
    transport = tc.RayTransport()  # one claude_slots per session
    cli = os.environ.get("TRIO_CLAUDE_RAY_CLI", "claude")
    if os.environ.get("TRIO_CLAUDE_RAY_MODEL") == "real":
        options = tc.ClaudeAgentOptions(transport=transport, cli_path=cli, can_use_tool=policy)
        await run(options, f"Run `{COMMAND}` with the Bash tool and tell me what it printed.")
        return
    model_host = os.environ.get("TRIO_CLAUDE_RAY_FAKE_MODEL_HOST", "127.0.0.1")
    script = [
        Turn([ToolUse("Bash", {"command": COMMAND})]),
        Turn("the tool ran on node {last_tool_result}"),
    ]
    with tempfile.TemporaryDirectory(prefix="trio-claude-ray-example-") as home:
        async with open_fake_model(script, host=model_host) as model:
            env = {
                **model.cli_env(),
                "NO_PROXY": f"127.0.0.1,localhost,::1,{model_host}",
                "HOME": home,
                "CLAUDE_CONFIG_DIR": f"{home}/.claude",
                "ANTHROPIC_AUTH_TOKEN": "",
                "CLAUDE_CODE_OAUTH_TOKEN": "",
            }
            options = tc.ClaudeAgentOptions(
                transport=transport, cli_path=cli, can_use_tool=policy, env=env, cwd=home
            )
            await run(options, "Which node do your tools run on?")


def start_ray() -> Any:
    """Joins ``TRIO_CLAUDE_RAY_ADDRESS``, or starts a local one-node Ray with two slots.

    Before ``trio.run``: ``ray.init`` blocks (inside a trio program, call it in a worker thread).
    """
    import ray

    address = os.environ.get("TRIO_CLAUDE_RAY_ADDRESS")
    quiet = {"log_to_driver": False, "logging_level": "WARNING"}
    if address:
        ray.init(address=address, **quiet)
    else:
        ray.init(
            num_cpus=1,
            resources={"claude_slots": 2},
            include_dashboard=False,
            object_store_memory=80_000_000,
            **quiet,
        )
    return ray


if __name__ == "__main__":
    if importlib.util.find_spec("ray") is None:
        print("RayTransport needs Ray: pip install 'trio-claude[ray]' (nothing to do without it)")
        sys.exit(0)
    ray = start_ray()
    try:
        trio.run(main)
    except tc.ClaudeSDKError as exc:
        sys.exit(f"failed: {exc!r}")
    finally:
        ray.shutdown()
