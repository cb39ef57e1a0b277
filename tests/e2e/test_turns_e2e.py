"""Turns with the real CLI: a prompt the CLI folds into the running turn (issue 10, fault 5)."""

from __future__ import annotations

import pytest
import trio

import trio_claude as tc
from trio_claude.testing import ClaudeTestEnv, ToolUse, Turn

#: A Bash tool that runs long enough for a second prompt to arrive while it runs.
SLOW_TOOL = "for i in 1 2 3 4 5 6 7 8 9 10; do sleep 0.1; done; echo tool-done"


async def test_a_prompt_folded_into_the_running_turn_ends_with_it(
    claude_env: ClaudeTestEnv,
) -> None:
    script = [Turn([ToolUse("Bash", {"command": SLOW_TOOL})]), Turn("both answered")]
    opts = claude_env.options(script, allowed_tools=["Bash"])
    async with tc.open_session(opts) as session:
        with trio.fail_after(60):
            await session.send("A: run the tool", uuid="aaaaaaaa-0000-4000-8000-000000000001")
            # Wait until the tool runs, then send B: the CLI folds it into A's turn.
            async for message in session.receive_response():
                if isinstance(message, tc.AssistantMessage) and any(
                    isinstance(b, tc.ToolUseBlock) for b in message.content
                ):
                    break
            await session.send("B: and this", uuid="bbbbbbbb-0000-4000-8000-000000000002")
            first = [m async for m in session.receive_response()]
        results = [m for m in first if isinstance(m, tc.ResultMessage)]
        assert len(results) == 1
        named = results[0].raw.get("user_message_uuids")
        if not (isinstance(named, list) and len(named) == 2):
            pytest.skip(f"this CLI answered the prompts separately ({named!r})")
        # One result answered both prompts: no turn is open, and a receive must not wait (it
        # hands over what was already read, such as the CLI's late command_lifecycle frames).
        assert session.statistics().turns_open == 0
        with trio.fail_after(20):  # a hang guard: it returns at once, or waits forever
            second = [m async for m in session.receive_response()]
        assert not any(isinstance(m, tc.ResultMessage) for m in second), second
        # The session goes on.
        script_turn = await session.run("C")
        assert script_turn.result.subtype == "success"
