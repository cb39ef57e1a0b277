"""A conversation that survives its CLI: killed, respawned with --resume, released when idle.

    python -m trio_claude install-cli      # once: the pinned claude CLI
    python examples/resumable_session.py

Offline: the real CLI against trio-claude's fake model. The CLI is SIGKILLed between two turns
(what the OOM killer does); the next turn starts a new CLI with ``--resume=<session id>`` and the
conversation goes on. Then the session sits idle, ``idle_timeout`` closes the CLI (freeing its
memory), and the next turn resumes it again.
"""

from __future__ import annotations

import json
import os
import signal
import tempfile

import trio

import trio_claude as tc
from trio_claude.testing import Turn, open_claude_test_env

SCRIPT = [
    Turn("Noted: the launch code is 1234."),
    Turn("The launch code is 1234."),
    Turn("Still 1234, even after a nap."),
]


async def main() -> None:
    with tempfile.TemporaryDirectory(prefix="resumable-session-") as tmp:
        async with open_claude_test_env(tmp) as env:
            options = env.options(SCRIPT, name="resumable")
            async with tc.open_resumable_session(options, idle_timeout=0.5) as session:
                turn = await session.run("Remember: the launch code is 1234.")
                first_pid = session.pid
                print(f"turn 1: {turn.text!r} (CLI pid {first_pid})")

                assert first_pid is not None
                os.kill(first_pid, signal.SIGKILL)  # what the OOM killer does
                await session.wait_disconnected()  # the session has seen the death
                print("the CLI was killed; the session is still open")

                turn = await session.run("What was the launch code?")
                print(f"turn 2: {turn.text!r} (new CLI pid {session.pid}, resumed with --resume)")
                same = turn.session_id == session.session_id
                print(f"respawns: {session.respawns}, same session id: {same}")

                await session.wait_disconnected()  # idle for 0.5 s: the CLI is closed
                releases = session.statistics().idle_releases
                print(f"idle: the CLI was released (idle releases: {releases})")

                turn = await session.run("And now?")
                print(f"turn 3: {turn.text!r} (CLI pid {session.pid})")

            # What the new CLIs sent the model: the earlier turns, read back from the transcript.
            requests = env.model.turn_requests("resumable")
            history = json.dumps(requests[-1].messages)
            print(f"the last request carried turn 1: {'Remember: the launch code' in history}")
            assert not env.leaked_processes()  # every CLI was reaped
            print("session closed: every CLI reaped")


if __name__ == "__main__":
    trio.run(main)
