"""Official-style hooks through a session: the input and the context are the dicts the official
SDK passes (``_internal/query.py``, ``hook_callback``: ``callback(request["input"], tool_use_id,
{"signal": None})``), so a guard written against them works, and does not fail open."""

from __future__ import annotations

import json
from typing import Any

import trio_claude as tc
from tests._helpers import answers, one_turn, options_for, success
from trio_claude.testing.fake_cli import Request

WIRE = {"session_id": "s", "cwd": "/w", "hook_event_name": "PreToolUse", "tool_name": "Bash",
        "tool_input": {"command": "rm -rf /"}, "tool_use_id": "toolu_1",
        "future": {"x": 1}}  # fmt: skip


async def test_an_official_style_guard_sees_dicts_and_denies() -> None:
    audit: list[Any] = []

    async def guard(input_data: Any, tool_use_id: str | None, context: Any) -> Any:
        # What official hooks do with their arguments: every one of these raised before.
        audit.append(json.loads(json.dumps(input_data)))
        audit.append(dict(input_data) == {**input_data} == input_data)
        audit.append(sorted(k for k, _ in input_data.items()))
        audit.append((context["signal"], context.get("signal"), json.dumps(context)))
        command = input_data["tool_input"].get("command", "")
        if "rm -rf" in command:
            return {
                "hookSpecificOutput": {
                    "hookEventName": input_data["hook_event_name"],
                    "permissionDecision": "deny",
                    "permissionDecisionReason": "no rm -rf",
                }
            }
        return {}

    script = one_turn(
        Request("hook_callback", {"callback_id": "hook_0", "input": WIRE, "tool_use_id": "toolu_1"})
    )
    opts, transport = options_for(
        script, hooks={"PreToolUse": [tc.HookMatcher(matcher="Bash", hooks=[guard])]}
    )
    async with tc.open_session(opts) as session:
        await session.run("go")
    (answer,) = answers(transport.fake)
    assert success(answer) == {
        "hookSpecificOutput": {
            "hookEventName": "PreToolUse",
            "permissionDecision": "deny",
            "permissionDecisionReason": "no rm -rf",
        }
    }
    assert audit == [WIRE, True, sorted(WIRE), (None, None, '{"signal": null}')]
