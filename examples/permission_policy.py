"""A permission policy: ``can_use_tool`` decides every tool call the CLI would ask about.

The policy

- allows writes inside the project, stamping a header on the content (a rewritten input);
- denies touching secrets (``.env``): the model reads the message as the tool's error;
- allows ``mkdir`` and sends back a permission rule ``Bash(mkdir:*)``, so the CLI stops asking.

Runs offline: the real ``claude`` CLI against the built-in fake model, which plays a model that
makes four tool calls (``python examples/permission_policy.py``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import trio

import trio_claude as tc
from trio_claude.testing import ToolUse, Turn, open_claude_test_env


def make_policy(project: Path, log: list[str]) -> tc.CanUseTool:
    async def policy(
        tool_name: str, tool_input: dict[str, Any], context: tc.ToolPermissionContext
    ) -> tc.PermissionResult:
        if tool_name == "Write":
            path = Path(tool_input["file_path"])
            if path.name == ".env":
                log.append(f"deny  Write {path.name}")
                return tc.PermissionResultDeny(message=f"{path.name} holds secrets; leave it alone")
            if path.is_relative_to(project):
                log.append(f"allow Write {path.name}, with a header")
                content = "# written by the agent\n" + tool_input["content"]
                return tc.PermissionResultAllow(updated_input={**tool_input, "content": content})
        if tool_name == "Bash" and tool_input["command"].startswith("mkdir "):
            log.append(f"allow Bash {tool_input['command']!r}, and remember Bash(mkdir:*)")
            rule = tc.PermissionRuleValue("Bash", "mkdir:*")
            remember = tc.PermissionUpdate.add_rules([rule], behavior="allow")
            return tc.PermissionResultAllow(updated_permissions=[remember])
        log.append(f"deny  {tool_name}: not covered by the policy")
        return tc.PermissionResultDeny(message="not allowed by policy")

    return policy


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with open_claude_test_env(tmp) as env:
            project = env.project
            (project / ".env").write_text("API_KEY=hunter2\n")
            notes, env_file, build = project / "notes.md", project / ".env", project / "build"
            script = [
                Turn([ToolUse("Write", {"file_path": str(notes), "content": "hi\n"})]),
                Turn([ToolUse("Write", {"file_path": str(env_file), "content": "oops\n"})]),
                Turn([ToolUse("Bash", {"command": f"mkdir {build}"})]),
                Turn([ToolUse("Bash", {"command": f"mkdir {build / 'out'}"})]),
                Turn("Done."),
            ]
            log: list[str] = []
            options = env.options(script, can_use_tool=make_policy(project, log))
            turn = await tc.ask("Set up the project", options=options)

            print(f"policy decisions ({len(log)} asks for 4 tool calls):")
            for line in log:
                print("  " + line)
            print("notes.md:", repr((project / "notes.md").read_text()))
            print(".env:", repr((project / ".env").read_text()))
            print("build/out exists:", (project / "build" / "out").is_dir())
            for message in turn.messages:
                if isinstance(message, tc.UserMessage) and not isinstance(message.content, str):
                    for block in message.content:
                        if isinstance(block, tc.ToolResultBlock) and block.is_error:
                            print("the model was told:", block.content)
            print("result:", turn.result.subtype)


if __name__ == "__main__":
    trio.run(main)
