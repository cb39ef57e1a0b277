"""Drive Claude Code from plain synchronous code with ``trio_claude.blocking``, fully offline.

    python -m trio_claude install-cli      # once: the pinned claude CLI
    python examples/blocking_session.py

For scripts, Django views, notebooks and tests that do not run trio. Each blocking session runs
in its own thread, on its own trio loop; your thread only calls methods. Callbacks stay
``async`` and run in the session's thread. Leaving the ``with`` block (Ctrl-C included) closes
the session, stops the CLI and joins the thread.

As in ``offline_session.py``, the CLI is real and the model is trio-claude's scripted fake
(here served from a thread too, by ``open_claude_test_env_blocking``): no network, no API key.
"""

from __future__ import annotations

import tempfile
import threading
import warnings
from pathlib import Path
from typing import Any

import trio_claude as tc
import trio_claude.blocking as tcb
from trio_claude.testing import Match, Text, ToolUse, Turn, open_claude_test_env_blocking


def script(project: Path) -> list[Turn]:
    """What the "model" answers, request by request (see offline_session.py)."""
    return [
        Turn(
            [
                Text("Let me count the Python files."),
                ToolUse(
                    "Bash", {"command": "ls *.py | wc -l", "description": "Count Python files"}
                ),
            ]
        ),
        Turn("There are {last_tool_result} Python files here.", match=Match(has_tool_result=True)),
        Turn(
            [ToolUse("Write", {"file_path": str(project / "notes.md"), "content": "# notes\n"})],
            match=Match(last_user_text_contains="notes"),
        ),
        Turn("Saved notes.md.", match=Match(has_tool_result=True)),
        Turn(
            " ".join(f"word{i}" for i in range(400)),
            delay=0.01,
            match=Match(last_user_text_contains="essay"),
        ),
        Turn("Still here.", match=Match(last_user_text_contains="there")),
    ]


async def policy(tool_name: str, tool_input: dict[str, Any], context: Any) -> Any:
    """A permission callback: still ``async``, run on the session's own trio loop."""
    where = "session thread" if threading.current_thread().name.startswith("trio-claude") else "?"
    print(f"policy: allow {tool_name} (called in the {where})")
    return tc.PermissionResultAllow()


def main() -> None:
    warnings.filterwarnings("ignore", category=tc.CanUseToolShadowedWarning)
    with (
        tempfile.TemporaryDirectory(prefix="blocking-session-") as tmp,
        open_claude_test_env_blocking(tmp) as env,
    ):
        for name in ("app.py", "cli.py", "test_app.py", "README.md"):
            (env.project / name).write_text("")
        options = env.options(
            script(env.project),
            name="blocking",
            # Bash runs without asking; the policy sees the other tools. That is meant here,
            # so the warning that says the callback is shadowed for Bash is silenced.
            allowed_tools=["Bash"],
            can_use_tool=policy,
            include_partial_messages=True,
        )

        with tcb.open_session(options) as session:
            # Stream a turn: a plain for loop over typed messages.
            session.send("How many Python files are in this project?")
            for message in session.receive_response():
                if isinstance(message, tc.AssistantMessage):
                    for block in message.content:
                        if isinstance(block, tc.TextBlock):
                            print(f"assistant: {block.text}")
                        elif isinstance(block, tc.ToolUseBlock):
                            print(f"tool call: {block.name} {block.input['command']}")
                elif isinstance(message, tc.ResultMessage):
                    print(f"result: {message.result!r}")

            # Or collect one: send + receive in one call.
            turn = session.run("Write the notes file.")
            print(f"run: {turn.text}")

            # Another thread may interrupt a turn this thread is receiving.
            first_event = threading.Event()

            def stop_it() -> None:
                first_event.wait(30)
                session.interrupt()

            stopper = threading.Thread(target=stop_it)
            stopper.start()
            session.send("Write a long essay.")
            for message in session.receive_response():
                if isinstance(message, tc.StreamEvent):  # the answer is streaming
                    first_event.set()
                elif isinstance(message, tc.ResultMessage):
                    print(f"interrupted from another thread: {message.subtype}")
            stopper.join()
            print(f"next turn: {session.run('Are you there?').text}")
        print(f"notes.md: {(env.project / 'notes.md').read_text()!r}")

        # One-shot helpers.
        print(f"ask: {tcb.ask('What is 2 + 2?', options=env.options([Turn('4')])).text}")
        assert not env.leaked_processes()  # every CLI exited with its session
    # Every session's thread (and the fake model's) has been joined.
    print(f"threads left: {_session_threads()}")


def _session_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("trio-claude-blocking")]


if __name__ == "__main__":
    main()
