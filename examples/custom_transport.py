"""A custom transport: run the CLI through another command (here a local wrapper script).

The same shape runs it in a container (``["docker", "exec", "-i", NAME, "claude", ...]``) or
on another host (``["ssh", HOST, "claude", ...]``): only the command line changes; the session,
protocol and callbacks do not. Run: ``python examples/custom_transport.py`` (after ``make cli``).
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

import attrs
import trio

import trio_claude as tc
from trio_claude.testing import Turn, open_claude_test_env


class WrappedTransport(tc.SubprocessTransport):
    """Runs ``wrapper <claude argv...>`` instead of ``claude <argv...>``."""

    def __init__(self, wrapper: list[str]) -> None:
        self.wrapper = wrapper

    async def start(self, spec: tc.LaunchSpec, nursery: trio.Nursery) -> tc.ChildProcess:
        # spec.argv[0] is the CLI the session found; keep it, and put the wrapper in front.
        return await super().start(attrs.evolve(spec, argv=[*self.wrapper, *spec.argv]), nursery)


WRAPPER = """#!/bin/sh
# A stand-in for `ssh host` or `docker exec -i box`: note the call, then run the command.
echo "wrapper ran: $1" >> "$WRAPPER_LOG"
exec "$@"
"""


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        wrapper = Path(tmp) / "wrapper.sh"
        wrapper.write_text(WRAPPER)
        wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
        log = Path(tmp) / "wrapper.log"
        async with open_claude_test_env(Path(tmp) / "env") as env:
            options = attrs.evolve(
                env.options([Turn("hello through the wrapper")]),
                transport=WrappedTransport([str(wrapper)]),
                cli_path=tc.find_cli(),  # a custom transport is told which CLI to run
            )
            options = attrs.evolve(options, env={**options.env, "WRAPPER_LOG": str(log)})
            async with tc.open_session(options) as session:
                turn = await session.run("hi")
                print("answer:", turn.text)
                print("pid (the wrapper exec'd the CLI, so it is the CLI's):", session.pid)
        print(log.read_text().strip())
        assert os.path.basename(log.read_text().split(": ", 1)[1].strip()) == "claude"


if __name__ == "__main__":
    trio.run(main)
