"""The session API (docs/getting-started.md) run offline: the real CLI and the built-in fake model.

Run: ``python examples/quickstart.py`` (after ``make cli``). Against the real API, drop the
test environment and pass your own ``ClaudeAgentOptions``.
"""

from __future__ import annotations

import tempfile

import trio

import trio_claude as tc
from trio_claude.testing import Text, Turn, open_claude_test_env


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with open_claude_test_env(tmp) as env:
            # one-shot, collected
            turn = await tc.ask("What is 2+2?", options=env.options([Turn("4")], max_turns=3))
            print(f"ask: {turn.text!r} (session {turn.session_id}, ${turn.result.total_cost_usd})")

            # one-shot, streaming
            opts = env.options([Turn("README says hello.")])
            async with tc.query("Summarise README.md", options=opts) as messages:
                async for msg in messages:
                    print(f"query: {type(msg).__name__}")

            # a session
            script = [
                Turn("Hello!"),
                Turn("And now: more."),
                Turn([Text(" ".join(f"word{i}" for i in range(200)))], delay=0.01),
                Turn("fresh after the interrupt"),
            ]
            async with tc.open_session(env.options(script, include_partial_messages=True)) as s:
                await s.send("Hello")
                async for msg in s.receive_response():
                    if isinstance(msg, tc.AssistantMessage):
                        print(
                            "session:", [b.text for b in msg.content if isinstance(b, tc.TextBlock)]
                        )
                turn = await s.run("And now?")
                print("run:", turn.text)
                await s.set_model("claude-haiku-4-5")
                await s.set_permission_mode("acceptEdits")
                with trio.move_on_after(
                    0.3
                ):  # a timeout is a cancel scope: the turn is interrupted
                    await s.run("Write a long essay")
                print("after interrupt:", (await s.run("Still there?")).text)
                print("session_id", s.session_id, "pid", s.pid)
                print("server_info", s.server_info.claude_code_version if s.server_info else None)
                print("statistics", s.statistics())

            # low level: the caller's nursery owns the session's tasks
            async with trio.open_nursery() as nursery:
                session = await tc.connect_session(nursery, env.options([Turn("low level")]))
                print("connect_session:", (await session.run("hi")).text)
                await session.aclose()


if __name__ == "__main__":
    trio.run(main)
