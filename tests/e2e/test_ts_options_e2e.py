"""The TypeScript SDK's newer options, with the real CLI: each reaches the CLI the way it means
to, and the CLI acts on it (what the model is sent, what a tool may do, what the CLI refuses)."""

from __future__ import annotations

from pathlib import Path

import pytest

import trio_claude as tc
from trio_claude.testing import ClaudeTestEnv, ToolUse, Turn


def environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


async def test_a_system_prompt_of_blocks_reaches_the_model(claude_env: ClaudeTestEnv) -> None:
    blocks = ["You are the static part.", tc.SYSTEM_PROMPT_DYNAMIC_BOUNDARY, "User: Ada."]
    opts = claude_env.options([Turn("ok")], name="blocks", system_prompt=blocks)
    assert (await tc.ask("hi", options=opts)).text == "ok"
    (request,) = claude_env.model.turn_requests("blocks")
    system = request.system_text
    assert "You are the static part." in system and "User: Ada." in system
    assert system.index("static part") < system.index("User: Ada.")
    assert tc.SYSTEM_PROMPT_DYNAMIC_BOUNDARY not in system


async def test_disallowed_tools_sent_in_initialize_leave_the_models_tool_list(
    claude_env: ClaudeTestEnv,
) -> None:
    for delivery in ("argv", "initialize"):
        name = f"disallow-{delivery}"
        opts = claude_env.options(
            [Turn("ok")],
            name=name,
            tools=["Read", "Write", "Bash"],
            disallowed_tools=["Bash"],
            disallowed_tools_delivery=delivery,
        )
        await tc.ask("hi", options=opts)
        (request,) = claude_env.model.turn_requests(name)
        assert "Read" in request.tool_names and "Bash" not in request.tool_names, delivery


@pytest.mark.parametrize("delivery", ["argv", "initialize"])
async def test_managed_settings_bind_the_cli(claude_env: ClaudeTestEnv, delivery: str) -> None:
    target = claude_env.project / f"managed-{delivery}.txt"
    script = [
        Turn([ToolUse("Write", {"file_path": str(target), "content": "x"})]),
        Turn("Tool said: {last_tool_result}"),
    ]
    opts = claude_env.options(
        script,
        permission_mode="bypassPermissions",
        managed_settings={"permissions": {"deny": ["Write"]}},
        managed_settings_delivery=delivery,
    )
    turn = await tc.ask("write it", options=opts)
    assert not target.exists()
    assert "Write is disabled" in turn.text, turn.text


async def test_tool_config_reaches_the_clis_environment(claude_env: ClaudeTestEnv) -> None:
    opts = claude_env.options(
        [Turn("ok")], tool_config={"ask_user_question": {"preview_format": "html"}}
    )
    async with tc.open_session(opts) as session:
        assert session.pid is not None
        assert environ(session.pid)["CLAUDE_CODE_QUESTION_PREVIEW_FORMAT"] == "html"


async def test_plugins_in_initialize_are_loaded(claude_env: ClaudeTestEnv) -> None:
    plugin = claude_env.project / "plugins" / "greeter"
    (plugin / ".claude-plugin").mkdir(parents=True)
    (plugin / ".claude-plugin" / "plugin.json").write_text('{"name": "greeter"}')
    (plugin / "commands").mkdir()
    (plugin / "commands" / "greet.md").write_text("---\ndescription: Greets\n---\nSay hello.\n")
    for delivery in ("argv", "initialize"):
        opts = claude_env.options(
            [Turn("ok")], plugins=[{"type": "local", "path": str(plugin)}], plugin_delivery=delivery
        )
        async with tc.open_session(opts) as session:
            info = session.server_info
            assert info is not None
            names = [command.name for command in info.commands]
            assert any("greet" in name for name in names), (delivery, names)
            if delivery == "initialize":
                assert info.raw.get("plugins_applied") is True


async def test_project_config_root_supplies_the_project_settings(
    claude_env: ClaudeTestEnv, tmp_path: Path
) -> None:
    # The trusted checkout denies Write; the worktree (cwd) has no settings of its own.
    trusted = tmp_path / "trusted"
    (trusted / ".claude").mkdir(parents=True)
    (trusted / ".claude" / "settings.json").write_text('{"permissions": {"deny": ["Write"]}}')
    target = claude_env.project / "from-worktree.txt"
    script = [
        Turn([ToolUse("Write", {"file_path": str(target), "content": "x"})]),
        Turn("Tool said: {last_tool_result}"),
    ]
    opts = claude_env.options(
        script,
        permission_mode="bypassPermissions",
        setting_sources=["project"],
        project_config_root=str(trusted),
    )
    await tc.ask("write it", options=opts)
    assert not target.exists()


async def test_directories_in_initialize_are_refused_by_this_cli_with_its_reason(
    claude_env: ClaudeTestEnv,
) -> None:
    # Claude Code 2.1.332 does not take additionalDirectories in --initialize-fields yet: the
    # option exists (TypeScript SDK 0.3.337), and the CLI's own refusal reaches the caller.
    opts = claude_env.options(
        [Turn("ok")], add_dirs=["/tmp"], additional_directories_delivery="initialize"
    )
    with pytest.raises(tc.ProcessError) as caught:
        await tc.ask("hi", options=opts)
    assert "additionalDirectories" in str(caught.value)
