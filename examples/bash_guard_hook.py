"""A Bash guard: a PreToolUse hook blocks dangerous commands, even under ``bypassPermissions``.

Three hooks cooperate:

- ``PreToolUse`` (matcher ``Bash``) denies ``rm -rf``, ``sudo`` and ``curl | sh``; the model
  reads the reason as the tool's error and the command never runs;
- ``PostToolUse`` sees each command's output and adds a note to the model's context;
- ``UserPromptSubmit`` adds the house rules to every prompt.

Runs offline: the real ``claude`` CLI against the built-in fake model, which plays a model that
tries to wipe the project and then lists it (``python examples/bash_guard_hook.py``).
"""

from __future__ import annotations

import re
import tempfile

import trio

import trio_claude as tc
from trio_claude.testing import ToolUse, Turn, open_claude_test_env

DANGEROUS = re.compile(r"\brm\s+-\w*r\w*f|\bsudo\b|curl[^|]*\|\s*(ba)?sh")


async def guard(
    hook_input: tc.PreToolUseHookInput, tool_use_id: str | None, context: tc.HookContext
) -> tc.HookJSONOutput:
    command = hook_input.tool_input.get("command", "")
    if DANGEROUS.search(command):
        print(f"[guard] blocked: {command}")
        return tc.PreToolUseHookSpecificOutput(
            permission_decision="deny",
            permission_decision_reason=f"Blocked by the Bash guard: {command!r} is dangerous",
        )
    print(f"[guard] allowed: {command}")
    return None  # no opinion: the normal permission flow decides


async def audit(
    hook_input: tc.PostToolUseHookInput, tool_use_id: str | None, context: tc.HookContext
) -> tc.HookJSONOutput:
    stdout = hook_input.tool_response.get("stdout", "")
    print(f"[audit] {hook_input.tool_input['command']!r} printed {stdout!r}")
    return tc.PostToolUseHookSpecificOutput(additional_context="(audited by the Bash guard)")


async def house_rules(
    hook_input: tc.UserPromptSubmitHookInput, tool_use_id: str | None, context: tc.HookContext
) -> tc.HookJSONOutput:
    print(f"[rules] prompt: {hook_input.prompt!r}")
    return tc.UserPromptSubmitHookSpecificOutput(additional_context="House rule: never delete.")


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with open_claude_test_env(tmp) as env:
            precious = env.project / "precious.txt"
            precious.write_text("do not lose me")
            script = [
                Turn([ToolUse("Bash", {"command": f"rm -rf {env.project}/*"})]),
                Turn([ToolUse("Bash", {"command": f"ls {env.project}"})]),
                Turn("Files: {last_tool_result}"),
            ]
            hooks = {
                "PreToolUse": [tc.HookMatcher(matcher="Bash", hooks=[guard], timeout=10)],
                "PostToolUse": [tc.HookMatcher(matcher="Bash", hooks=[audit])],
                "UserPromptSubmit": [tc.HookMatcher(hooks=[house_rules])],
            }
            options = env.options(
                script, name="guard", hooks=hooks, permission_mode="bypassPermissions"
            )
            turn = await tc.ask("Clean up the project", options=options)

            print("precious.txt survived:", precious.exists())
            print("model's final answer:", turn.text)
            first = env.model.turn_requests("guard")[0]
            print(
                "house rule reached the model:", "House rule: never delete." in str(first.messages)
            )


if __name__ == "__main__":
    trio.run(main)
