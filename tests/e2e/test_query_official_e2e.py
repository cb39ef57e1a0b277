"""The official SDK's ``query()`` form against the real pinned CLI and the fake model (issue 12,
items 1, 2, 3 and 8), written as official example code uses it.

The ``claude_env`` fixture fails a test that leaves a CLI process behind.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

import pytest
import trio

import trio_claude as tc
from tests._helpers import texts
from trio_claude.testing import ClaudeTestEnv, HTTPError, Match, Text, ToolUse, Turn, Usage

MAIN = Match(subagent=False)


def request_texts(request: Any) -> list[str]:
    out = []
    for message in request.messages:
        content = message["content"]
        if isinstance(content, str):
            out.append(content)
        else:
            out += [b.get("text", "") for b in content if b.get("type") == "text"]
    return out


# ------------------------------------------------------------------ item 1: the iterator


async def test_async_for_over_query(claude_env: ClaudeTestEnv) -> None:
    options = claude_env.options([Turn("Paris.")], max_turns=1)
    messages = []
    async for message in tc.query(prompt="What is the capital of France?", options=options):
        messages.append(message)

    assert isinstance(messages[0], tc.SystemMessage) and messages[0].subtype == "init"
    assert texts(messages) == ["Paris."]
    assert isinstance(messages[-1], tc.ResultMessage) and messages[-1].result == "Paris."
    assert not claude_env.leaked_processes()


async def test_streaming_input_of_message_dicts(claude_env: ClaudeTestEnv) -> None:
    async def prompts() -> AsyncIterator[dict[str, Any]]:
        yield {"type": "user", "message": {"role": "user", "content": "Hello"}}
        yield {"type": "user", "message": {"role": "user", "content": "How are you?"}}

    options = claude_env.options([Turn("hi"), Turn("fine")])
    results = [
        m.result
        async for m in tc.query(prompt=prompts(), options=options)
        if isinstance(m, tc.ResultMessage)
    ]
    assert results == ["hi", "fine"]


async def test_can_use_tool_is_answered_while_iterating(claude_env: ClaudeTestEnv) -> None:
    asked: list[str] = []

    async def can_use_tool(tool_name: str, input: dict[str, Any], context: Any) -> Any:
        asked.append(tool_name)
        return tc.PermissionResultDeny(message="read-only agent")

    target = claude_env.project / "out.txt"
    script = [
        Turn([ToolUse("Write", {"file_path": str(target), "content": "x"})]),
        Turn("ok, not written: {last_tool_result}", match=Match(has_tool_result=True)),
    ]
    options = claude_env.options(script, can_use_tool=can_use_tool)
    messages = [m async for m in tc.query(prompt="write out.txt", options=options)]

    assert asked == ["Write"]
    assert not target.exists()
    assert "read-only agent" in texts(messages)[-1]


async def test_break_stops_the_cli(claude_env: ClaudeTestEnv) -> None:
    slow = Turn([Text(" ".join(f"w{i}" for i in range(400)))], delay=0.02)
    options = claude_env.options([slow], include_partial_messages=True)
    async for message in tc.query(prompt="write a long essay", options=options):
        if isinstance(message, tc.StreamEvent):
            break
    # Dropped by the break: killed and reaped there and then.
    assert not claude_env.leaked_processes()


async def test_cancellation_interrupts_the_turn(claude_env: ClaudeTestEnv) -> None:
    slow = Turn([Text(" ".join(f"w{i}" for i in range(400)))], delay=0.02)
    options = claude_env.options([slow], name="long", include_partial_messages=True)
    session_id = None
    seen = 0
    with trio.move_on_after(60) as scope:
        async for message in tc.query(prompt="write a long essay", options=options):
            if isinstance(message, tc.InitMessage):
                session_id = message.session_id
            if isinstance(message, tc.StreamEvent):
                seen += 1
                if seen == 5:
                    scope.cancel()
    assert scope.cancelled_caught and session_id
    assert not claude_env.leaked_processes()

    # The turn was interrupted (not killed): the resumed conversation says so.
    again = claude_env.options([Turn("yes")], name="again", resume=session_id)
    turn = await tc.ask("are you there?", options=again)
    assert turn.text == "yes"
    (request,) = claude_env.model.turn_requests("again")
    assert any("[Request interrupted by user]" in t for t in request_texts(request))


async def test_aclosing_stops_the_cli_deterministically(claude_env: ClaudeTestEnv) -> None:
    slow = Turn([Text(" ".join(f"w{i}" for i in range(400)))], delay=0.02)
    options = claude_env.options([slow], include_partial_messages=True)
    async with aclosing(tc.query(prompt="write a long essay", options=options)) as messages:
        async for message in messages:
            if isinstance(message, tc.StreamEvent):
                break
    assert not claude_env.leaked_processes()


# ------------------------------------------------ item 2: the run goes on after a result


async def test_the_turn_after_a_background_subagent_is_delivered(
    claude_env: ClaudeTestEnv,
) -> None:
    script = [
        Turn(
            [ToolUse("Agent", {"description": "d", "prompt": "say sub", "subagent_type": "claude"})]
        ),
        Turn("sub answer", match=Match(subagent=True)),
        Turn("main: waiting for the agent", match=MAIN),
        Turn("main: the agent is done", match=MAIN),  # the CLI's own turn when the job ends
    ]
    options = claude_env.options(script)
    with trio.fail_after(60):
        results = [
            m.result
            async for m in tc.query(prompt="start the agent", options=options)
            if isinstance(m, tc.ResultMessage)
        ]
    assert results == ["main: waiting for the agent", "main: the agent is done"]


# ---------------------------------------------------------- item 3: error results raise


async def test_an_error_result_raises_result_error_after_it_is_yielded(
    claude_env: ClaudeTestEnv,
) -> None:
    options = claude_env.options(
        [HTTPError(401, repeat=True)], env={"CLAUDE_CODE_MAX_RETRIES": "0"}
    )
    seen = []
    with pytest.raises(tc.ResultError) as caught:
        async for message in tc.query(prompt="hi", options=options):
            seen.append(message)

    result = seen[-1]
    assert isinstance(result, tc.ResultMessage) and result.is_error
    error = caught.value
    assert isinstance(error, tc.ProcessError) and error.exit_code == 1
    assert error.api_error_status == 401 and error.terminal_reason == "api_error"
    assert error.session_id == result.session_id and error.data == result.raw
    assert error.result == result.result
    assert not claude_env.leaked_processes()


# ------------------------------------------------------------ item 8: max_budget_usd


def budget_script(target: str) -> list[Any]:
    """A first answer that costs far more than the budget and asks for a Write."""
    expensive = Usage(input_tokens=100_000, output_tokens=50_000)
    return [
        Turn(
            [Text("Writing the file."), ToolUse("Write", {"file_path": target, "content": "x"})],
            usage=expensive,
        ),
        Turn("should not be reached"),
    ]


RUNS = 5


@pytest.mark.parametrize("run", range(RUNS))
async def test_max_budget_usd_stops_the_tool_official_form(
    claude_env: ClaudeTestEnv, run: int
) -> None:
    target = claude_env.project / "out.txt"
    options = claude_env.options(
        budget_script(str(target)), max_budget_usd=0.0001, permission_mode="bypassPermissions"
    )
    seen = []
    with pytest.raises(tc.ResultError) as caught:
        async for message in tc.query(prompt="write out.txt", options=options):
            seen.append(message)

    assert caught.value.subtype == "error_max_budget_usd"
    assert isinstance(seen[-1], tc.ResultMessage) and seen[-1].subtype == "error_max_budget_usd"
    assert not target.exists()
    assert len(claude_env.model.turn_requests("t1")) == 1


@pytest.mark.parametrize("run", range(RUNS))
async def test_max_budget_usd_stops_the_tool_session_form(
    claude_env: ClaudeTestEnv, run: int
) -> None:
    target = claude_env.project / "out.txt"
    options = claude_env.options(
        budget_script(str(target)), max_budget_usd=0.0001, permission_mode="bypassPermissions"
    )
    async with tc.query("write out.txt", options=options) as messages:
        seen = [m async for m in messages]
    assert isinstance(seen[-1], tc.ResultMessage) and seen[-1].subtype == "error_max_budget_usd"
    await trio.sleep(0.2)  # a tool that had been started would have written by now
    assert not target.exists()


async def test_max_budget_usd_lets_tools_run_within_the_budget(claude_env: ClaudeTestEnv) -> None:
    target = claude_env.project / "out.txt"
    script = [
        Turn([ToolUse("Write", {"file_path": str(target), "content": "x"})]),
        Turn("written", match=Match(has_tool_result=True)),
    ]
    options = claude_env.options(script, max_budget_usd=100, permission_mode="bypassPermissions")
    results = [m async for m in tc.query(prompt="write", options=options)]
    assert isinstance(results[-1], tc.ResultMessage) and results[-1].result == "written"
    assert target.read_text() == "x"
