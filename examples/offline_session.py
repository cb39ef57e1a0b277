"""Run a Claude Code agent fully offline: the real CLI against trio-claude's fake model.

    python -m trio_claude install-cli      # once: the pinned claude CLI
    python examples/offline_session.py

No network and no API key: ``open_claude_test_env`` starts the scripted fake Messages API on
127.0.0.1 and gives the CLI an isolated HOME and config directory. The CLI itself is real, so
the Bash tool really runs in the project directory and the model really receives its output.
"""

from __future__ import annotations

import tempfile

import trio

import trio_claude as tc
from trio_claude.testing import Match, Text, ToolUse, Turn, open_claude_test_env

# What the "model" answers, request by request. Steps with `match` answer only the requests
# they match; `{last_tool_result}` is filled in from the tool output the CLI sends back.
SCRIPT = [
    Turn(
        [
            Text("Let me count the Python files."),
            ToolUse("Bash", {"command": "ls *.py | wc -l", "description": "Count Python files"}),
        ]
    ),
    Turn("There are {last_tool_result} Python files here.", match=Match(has_tool_result=True)),
    Turn("You're welcome!", match=Match(last_user_text_contains="Thanks")),
]


async def main() -> None:
    with tempfile.TemporaryDirectory(prefix="offline-session-") as tmp:
        async with open_claude_test_env(tmp) as env:
            for name in ("app.py", "cli.py", "test_app.py", "README.md"):
                (env.project / name).write_text("")
            # ClaudeAgentOptions wired to the fake model; any other option can be added.
            options = env.options(SCRIPT, allowed_tools=["Bash"], name="files")

            async with tc.open_session(options) as session:
                await session.send("How many Python files are in this project?")
                async for message in session.receive_response():
                    if isinstance(message, tc.AssistantMessage):
                        for block in message.content:
                            if isinstance(block, tc.TextBlock):
                                print(f"assistant: {block.text}")
                            elif isinstance(block, tc.ToolUseBlock):
                                print(f"tool call: {block.name} {block.input['command']}")
                    elif isinstance(message, tc.UserMessage) and not isinstance(
                        message.content, str
                    ):
                        for block in message.content:
                            if isinstance(block, tc.ToolResultBlock):
                                print(f"tool result: {block.content}")
                    elif isinstance(message, tc.ResultMessage):
                        print(f"result: {message.result!r} (${message.total_cost_usd or 0:.6f})")

                turn = await session.run("Thanks!")
                print(f"assistant: {turn.text}")

            # Everything the CLI sent the model was recorded.
            first, second, third = env.model.turn_requests("files")
            assert first.last_user_text == "How many Python files are in this project?"
            assert second.last_tool_result == "3"  # the real `ls | wc -l` output
            assert third.last_user_text == "Thanks!"
            print(f"the fake model answered {len(env.model.turn_requests('files'))} requests")
            assert not env.leaked_processes()  # the CLI exited with its session


if __name__ == "__main__":
    trio.run(main)
