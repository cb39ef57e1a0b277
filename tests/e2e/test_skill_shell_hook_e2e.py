"""``PreSkillShellCommand`` with the real CLI (2.1.332 fires it): a skill's shell command is
announced to the hook, typed, and a ``deny`` keeps it from running."""

from __future__ import annotations

from typing import Any

import trio_claude as tc
from trio_claude.testing import ClaudeTestEnv, ToolUse, Turn


def write_skill(env: ClaudeTestEnv, marker: str) -> None:
    skill = env.project / ".claude" / "skills" / "greet"
    skill.mkdir(parents=True)
    (skill / "SKILL.md").write_text(
        "---\nname: greet\ndescription: Greets the user\n---\n"
        f"Context: !`echo ran > {marker}; echo hello`\n"
    )


async def test_a_denied_skill_shell_command_does_not_run(claude_env: ClaudeTestEnv) -> None:
    marker = claude_env.project / "marker.txt"
    write_skill(claude_env, str(marker))
    seen: list[tc.PreSkillShellCommandHookInput] = []

    async def guard(hook_input: Any, tool_use_id: str | None, context: Any) -> Any:
        seen.append(hook_input)
        return tc.PreSkillShellCommandHookSpecificOutput(
            permission_decision="deny", permission_decision_reason="no shell in skills"
        )

    script = [Turn([ToolUse("Skill", {"skill": "greet"})]), Turn("done")]
    opts = claude_env.options(
        script,
        skills="all",
        permission_mode="bypassPermissions",
        hooks={"PreSkillShellCommand": [tc.HookMatcher(hooks=[guard])]},
    )
    await tc.ask("greet me", options=opts)
    assert not marker.exists()
    (event,) = seen
    assert isinstance(event, tc.PreSkillShellCommandHookInput)
    assert event.tool_name == "Bash" and event.command_name == "greet"
    assert event.tool_input["command"] == f"echo ran > {marker}; echo hello"
    assert event.invoked_by == "claude" and event.tool_use_id


async def test_without_the_hook_the_skill_shell_command_runs(claude_env: ClaudeTestEnv) -> None:
    marker = claude_env.project / "marker.txt"
    write_skill(claude_env, str(marker))
    script = [Turn([ToolUse("Skill", {"skill": "greet"})]), Turn("done")]
    opts = claude_env.options(script, skills="all", permission_mode="bypassPermissions")
    await tc.ask("greet me", options=opts)
    assert marker.read_text() == "ran\n"
