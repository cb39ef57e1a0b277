"""SDK->CLI control requests answered by the real CLI, each through its typed Session method."""

from __future__ import annotations

import trio

import trio_claude as tc
from trio_claude.testing import ClaudeTestEnv, ToolUse, Turn


async def test_typed_control_requests(claude_env: ClaudeTestEnv) -> None:
    (claude_env.project / "notes.txt").write_text("hello file")
    async with tc.open_session(claude_env.options([Turn("hi")])) as session:
        await session.run("hello")
        assert await session.mcp_status() == []
        usage = await session.get_context_usage()
        assert usage.total_tokens is not None and usage.total_tokens > 0
        assert usage.categories and all("tokens" in c for c in usage.categories)
        read = await session.read_file(claude_env.project / "notes.txt")
        assert read is not None and read.contents == "hello file"
        assert read.abs_path == str(claude_env.project / "notes.txt")
        assert isinstance(await session.reload_skills(), list)
        assert "default" in await session.reload_output_styles()
        assert (await session.set_mcp_servers({})).errors == {}
        await session.apply_flag_settings({"env": {"X_TRIO_CLAUDE": "1"}})
        interrupt = await session.interrupt()
        assert interrupt.still_queued == []
        assert session.supported_models()
        assert session.supported_commands()
        try:
            await session.reconnect_mcp_server("nope")
        except tc.ControlRequestError as exc:
            assert "nope" in exc.error and exc.subtype == "mcp_reconnect"
        else:
            raise AssertionError("reconnecting an unknown server must fail")


async def test_rewind_files_after_a_write(claude_env: ClaudeTestEnv) -> None:
    target = claude_env.project / "story.txt"
    target.write_text("original\n")
    script = [
        Turn([ToolUse("Write", {"file_path": str(target), "content": "rewritten\n"})]),
        Turn("written"),
    ]
    opts = claude_env.options(
        script,
        enable_file_checkpointing=True,
        permission_mode="acceptEdits",
        extra_args={"replay-user-messages": None},
    )
    async with tc.open_session(opts) as session:
        turn = await session.run("rewrite the story")
        assert target.read_text() == "rewritten\n"
        prompts = [
            m
            for m in turn.messages
            if isinstance(m, tc.UserMessage) and m.content == "rewrite the story" and m.uuid
        ]
        assert prompts, "the CLI replays the prompt with its uuid"
        uuid = prompts[0].uuid
        assert uuid is not None
        dry = await session.rewind_files(uuid, dry_run=True)
        assert dry.can_rewind and target.read_text() == "rewritten\n"
        done = await session.rewind_files(uuid)
        assert done.can_rewind
    assert target.read_text() == "original\n"


async def test_interrupt_with_no_turn_running_is_harmless(claude_env: ClaudeTestEnv) -> None:
    # Before any turn, and between turns: answered, nothing breaks, the next turn is clean.
    async with tc.open_session(claude_env.options([Turn("one"), Turn("two")])) as session:
        assert (await session.interrupt()).still_queued == []
        assert (await session.run("first")).text == "one"
        await session.interrupt()
        turn = await session.run("second")
        assert turn.text == "two"
        assert not any(isinstance(m, tc.ResultMessage) and m.is_error for m in turn.messages)


async def test_set_mcp_servers_adds_an_in_process_server(claude_env: ClaudeTestEnv) -> None:
    calls: list[dict[str, float]] = []

    @tc.tool("mul", "Multiply two numbers", {"a": float, "b": float}, always_load=True)
    async def mul(args: dict[str, float]) -> str:
        calls.append(args)
        return f"{args['a'] * args['b']:g}"

    script = [
        Turn("no tools yet"),
        Turn([ToolUse("mcp__math__mul", {"a": 6, "b": 7})]),
        Turn("product {last_tool_result}"),
    ]
    opts = claude_env.options(script, allowed_tools=["mcp__math__mul"])
    async with tc.open_session(opts) as session:
        assert (await session.run("hello")).text == "no tools yet"
        added = await session.set_mcp_servers(
            {"math": tc.create_sdk_mcp_server("math", tools=[mul])}
        )
        assert added.added == ["math"] and added.errors == {}
        with trio.fail_after(30):  # the CLI connects added servers in the background
            while (status := (await session.mcp_status())[0]).status == "pending":
                await trio.sleep(0.05)
        assert status.name == "math" and status.status == "connected"
        assert [t["name"] for t in status.tools] == ["mul"]
        turn = await session.run("multiply 6 by 7")
        assert turn.text == "product 42"
        assert calls == [{"a": 6, "b": 7}]
        removed = await session.set_mcp_servers({})
        assert removed.removed == ["math"]
