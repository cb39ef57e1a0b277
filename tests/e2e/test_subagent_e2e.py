"""A background subagent with the real CLI: its extra result ends no turn of ours, and the
permission callback keeps working after it (user-pain items 2 and 25)."""

from __future__ import annotations

from typing import Any

import trio

import trio_claude as tc
from trio_claude.testing import ClaudeTestEnv, Match, ToolUse, Turn

MAIN = Match(subagent=False)


async def test_background_subagent_then_a_permission_prompt(claude_env: ClaudeTestEnv) -> None:
    asked: list[str] = []

    async def policy(name: str, tool_input: dict[str, Any], context: Any) -> Any:
        asked.append(name)
        return tc.PermissionResultDeny(message="no writes after the agent")

    target = claude_env.project / "after.txt"
    script = [
        Turn(
            [ToolUse("Agent", {"description": "d", "prompt": "say sub", "subagent_type": "claude"})]
        ),
        Turn("sub answer", match=Match(subagent=True)),
        Turn("main: waiting for the agent", match=MAIN),
        Turn("main: the agent is done", match=MAIN),  # the CLI's own turn when the job ends
        Turn([ToolUse("Write", {"file_path": str(target), "content": "x"})], match=MAIN),
        Turn("finished after the subagent", match=MAIN),
    ]
    opts = claude_env.options(script, can_use_tool=policy)
    async with tc.open_session(opts) as session:
        first = await session.run("start the agent")
        assert first.text == "main: waiting for the agent"
        with trio.fail_after(30):
            await session.wait_idle()  # the background job ends and the CLI's turn with it
        second = await session.run("now write the file")
        assert second.text == "finished after the subagent"
        results = [m.result for m in second.messages if isinstance(m, tc.ResultMessage)]
        assert results[-1] == "finished after the subagent"
        if len(results) > 1:  # the CLI's own turn was still queued when we sent ours
            assert results[0] == "main: the agent is done"
    assert asked == ["Write"]
    assert not target.exists()
