"""Sessions through the real CLI: answers, turns, interrupt by cancel scope, no leaked process."""

from __future__ import annotations

import os

import trio

import trio_claude as tc
from trio_claude.testing import ClaudeTestEnv, Text, ToolUse, Turn, find_marked_processes


async def test_plain_answer_with_ask(claude_env: ClaudeTestEnv) -> None:
    opts = claude_env.options([Turn("four")])
    turn = await tc.ask("What is 2+2?", options=opts)
    assert turn.text == "four"
    assert turn.session_id
    assert isinstance(turn.messages[0], tc.InitMessage)
    assert turn.messages[0].claude_code_version == tc.CLI_VERSION
    assert turn.result.total_cost_usd is not None and turn.result.total_cost_usd > 0
    (request,) = claude_env.model.turn_requests("t1")
    assert request.last_user_text == "What is 2+2?"


async def test_multi_turn_session_and_server_info(claude_env: ClaudeTestEnv) -> None:
    opts = claude_env.options([Turn("first answer"), Turn("second answer")])
    async with tc.open_session(opts) as session:
        assert session.server_info is not None
        assert session.server_info.claude_code_version == tc.CLI_VERSION
        assert session.pid is not None
        one = await session.run("one")
        two = await session.run("two")
        assert (one.text, two.text) == ("first answer", "second answer")
        assert one.session_id == two.session_id == session.session_id
    requests = claude_env.model.turn_requests("t1")
    assert [r.last_user_text for r in requests] == ["one", "two"]


async def test_bash_tool_round_trip(claude_env: ClaudeTestEnv) -> None:
    script = [
        Turn([ToolUse("Bash", {"command": "echo hello-from-bash"})]),
        Turn("the tool said: {last_tool_result}"),
    ]
    opts = claude_env.options(script, allowed_tools=["Bash"])
    turn = await tc.ask("run it", options=opts)
    assert "hello-from-bash" in turn.text
    results = [
        b
        for m in turn.messages
        if isinstance(m, tc.UserMessage) and not isinstance(m.content, str)
        for b in m.content
        if isinstance(b, tc.ToolResultBlock)
    ]
    assert results and "hello-from-bash" in str(results[0].content)


async def test_the_clis_temporary_files_stay_in_the_test_environment(
    claude_env: ClaudeTestEnv,
) -> None:
    """The CLI writes a probe directory per start, and a project's task output, under its
    temporary directory: the machine's shared /tmp/claude-<uid> until the environment set
    CLAUDE_CODE_TMPDIR, where they piled up (thousands, from fuzzing)."""
    script = [Turn([ToolUse("Bash", {"command": "echo hi"})]), Turn("done")]
    await tc.ask("run it", options=claude_env.options(script, allowed_tools=["Bash"]))
    assert claude_env.env()["CLAUDE_CODE_TMPDIR"] == str(claude_env.root / "tmp")
    written = [path.name for path in (claude_env.root / "tmp").rglob("*")]
    # Its own claude-<uid> directory (the task output goes there); the probe directory may be
    # gone already, as the CLI removes it once probed.
    assert f"claude-{os.getuid()}" in written, written


async def test_cancelled_turn_is_interrupted_and_the_next_turn_is_clean(
    claude_env: ClaudeTestEnv,
) -> None:
    long = Turn([Text(" ".join(f"w{i}" for i in range(400)))], delay=0.01)
    opts = claude_env.options([long, Turn("after the interrupt")], include_partial_messages=True)
    async with tc.open_session(opts) as session:
        await session.send("write a long essay")
        seen = 0
        with trio.move_on_after(20) as scope:
            async for message in session.receive_response():
                if isinstance(message, tc.StreamEvent):
                    seen += 1
                    if seen == 5:
                        scope.cancel()
        assert scope.cancelled_caught and seen == 5
        turn = await session.run("are you there?")
        assert turn.text == "after the interrupt"
        assert not any(
            isinstance(m, tc.StreamEvent) and "w399" in str(m.event) for m in turn.messages
        )
    assert not claude_env.leaked_processes()


async def test_cancelling_the_whole_session_mid_turn_leaves_no_process(
    claude_env: ClaudeTestEnv,
) -> None:
    slow = Turn([Text(" ".join(f"w{i}" for i in range(400)))], delay=0.02)
    opts = claude_env.options([slow], include_partial_messages=True, close_timeout=2)
    pid = None
    with trio.CancelScope() as scope:
        async with tc.open_session(opts) as session:
            pid = session.pid
            await session.send("go")
            # The cancellation this test is about, mid-turn: timed from the send, not from
            # the start of a CLI a loaded machine may take seconds to open.
            scope.deadline = trio.current_time() + 1.5
            async for _ in session.receive_messages():
                pass
    assert scope.cancelled_caught
    assert pid is not None
    assert pid not in find_marked_processes(claude_env.marker)
    assert not claude_env.leaked_processes()


async def test_turns_are_correlated_by_prompt_uuid(claude_env: ClaudeTestEnv) -> None:
    opts = claude_env.options([Turn("one"), Turn("two")])
    async with tc.open_session(opts) as session:
        # an SDK-chosen uuid: correlation happens, its lifecycle frames stay internal
        first = await session.run("first")
        assert not any(isinstance(m, tc.CommandLifecycleMessage) for m in first.messages)
        assert first.result.raw.get("user_message_uuids")
        # a caller-chosen uuid: the CLI's lifecycle frames for it are delivered
        mine = "22222222-2222-4222-8222-222222222222"
        await session.send("second", uuid=mine)
        second = [m async for m in session.receive_response()]
        states = [m.state for m in second if isinstance(m, tc.CommandLifecycleMessage)]
        assert "started" in states
        result = second[-1]
        assert isinstance(result, tc.ResultMessage) and result.result == "two"
        assert mine in result.raw["user_message_uuids"]
