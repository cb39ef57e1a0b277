"""Hook inputs and outputs for all 35 events (the inventory's 33, section 5, and the two of newer
CLIs), against the inventory and d_hooks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import pytest

import trio_claude as tc
from trio_claude._hooks import (
    HOOK_INPUT_TYPES,
    HOOK_SPECIFIC_OUTPUT_TYPES,
    decode_hook_input,
    encode_hook_output,
)
from trio_claude._options import HOOK_EVENTS

BASE = {
    "session_id": "s-1",
    "transcript_path": "/cfg/projects/p/s-1.jsonl",
    "cwd": "/srv",
    "permission_mode": "default",
    "prompt_id": "p-1",
    "effort": {"level": "medium"},
}

MCP = {"name": "calc", "source": "sdk"}
SUGGESTION = {"type": "setMode", "mode": "acceptEdits", "destination": "session"}
TASK = {"id": "t1", "type": "local_bash", "status": "running", "description": "sleep",
        "command": "sleep 9"}  # fmt: skip
CRON = {"id": "c1", "schedule": "*/5 * * * *", "recurring": True, "prompt": "check"}

# Every event's specific input fields (inventory 5a), with sample values.
EVENT_FIELDS: dict[str, dict[str, Any]] = {
    "PreToolUse": {"tool_name": "Bash", "tool_input": {"command": "ls"}, "tool_use_id": "toolu_1",
                   "mcp_server": MCP},
    "PostToolUse": {"tool_name": "Bash", "tool_input": {"command": "ls"},
                    "tool_response": {"stdout": "a"}, "tool_use_id": "toolu_1", "duration_ms": 39,
                    "mcp_server": MCP},
    "PostToolUseFailure": {"tool_name": "Bash", "tool_input": {}, "tool_use_id": "toolu_1",
                           "error": "exit 1", "is_interrupt": False, "duration_ms": 3,
                           "mcp_server": MCP},
    "PostToolBatch": {"tool_calls": [{"tool_name": "Read", "tool_input": {"file_path": "/a"},
                                      "tool_use_id": "toolu_2", "tool_response": "text"}]},
    "Notification": {"message": "waiting", "title": "Claude", "notification_type": "idle"},
    "UserPromptSubmit": {"prompt": "hi", "source": "sdk", "session_title": "T"},
    "UserPromptExpansion": {"expansion_type": "slash_command", "command_name": "review",
                            "command_args": "x", "command_source": "project",
                            "prompt": "/review x"},
    "SessionStart": {"source": "startup", "agent_type": "main", "model": "m", "session_title": "T",
                     "seconds_since_last_response": 1.5, "context_tokens": 100,
                     "prompt_cache_likely_expired": False, "estimated_cache_write_usd": 0.01},
    "SessionEnd": {"reason": "prompt_input_exit"},
    "Stop": {"stop_hook_active": True, "last_assistant_message": "done",
             "background_tasks": [TASK], "session_crons": [CRON]},
    "StopFailure": {"error": "rate_limit", "error_details": "429", "last_assistant_message": "x"},
    "SubagentStart": {"agent_id": "a-1", "agent_type": "Explore"},
    "SubagentStop": {"stop_hook_active": False, "agent_id": "a-1", "agent_transcript_path": "/t",
                     "agent_type": "Explore", "last_assistant_message": "found",
                     "background_tasks": [TASK], "session_crons": [CRON]},
    "PreCompact": {"trigger": "auto", "custom_instructions": None},
    "PostCompact": {"trigger": "manual", "compact_summary": "summary"},
    "PreModelSwitch": {"from_model": "a", "to_model": "b", "requested_model": "b", "source": "sdk",
                       "context_tokens": 5, "prompt_cache_warm": True, "cache_ttl": "5m",
                       "estimated_cache_write_usd": 0.2, "pricing": "catalog"},
    "PostModelSwitch": {"from_model": "a", "to_model": "b", "requested_model": "b",
                        "source": "resume", "context_tokens": 5, "prompt_cache_warm": False,
                        "cache_ttl": "1h", "estimated_cache_write_usd": 0.0, "pricing": "default"},
    "PermissionRequest": {"tool_name": "Write", "tool_input": {"file_path": "/x"},
                          "permission_suggestions": [SUGGESTION], "mcp_server": MCP},
    "PermissionDenied": {"tool_name": "Write", "tool_input": {}, "tool_use_id": "toolu_3",
                         "reason": "mode", "mcp_server": MCP},
    "Setup": {"trigger": "init"},
    "TeammateIdle": {"teammate_name": "bob", "team_name": "red"},
    "TaskCreated": {"task_id": "1", "task_subject": "s", "task_description": "d",
                    "teammate_name": "bob", "team_name": "red"},
    "TaskCompleted": {"task_id": "1", "task_subject": "s", "task_description": "d",
                      "teammate_name": "bob", "team_name": "red"},
    "Elicitation": {"mcp_server_name": "gh", "message": "token?", "mode": "form",
                    "url": "https://x", "elicitation_id": "e1",
                    "requested_schema": {"type": "object"}},
    "ElicitationResult": {"mcp_server_name": "gh", "elicitation_id": "e1", "mode": "form",
                          "action": "accept", "content": {"token": "t"}},
    "ConfigChange": {"source": "user_settings", "file_path": "/home/.claude/settings.json"},
    "WorktreeCreate": {"name": "feature"},
    "WorktreeRemove": {"worktree_path": "/wt/feature"},
    "InstructionsLoaded": {"file_path": "/srv/CLAUDE.md", "memory_type": "Project",
                           "load_reason": "session_start", "globs": ["*.py"],
                           "trigger_file_path": "/srv/a.py", "parent_file_path": "/srv"},
    "CwdChanged": {"old_cwd": "/a", "new_cwd": "/b"},
    "FileChanged": {"file_path": "/a/x", "event": "unlink"},
    "DirectoryAdded": {"directory": "/extra", "source": "register_repo_root"},
    "MessageDisplay": {"turn_id": "t", "message_id": "m", "index": 2, "final": True,
                       "delta": "Hel"},
    # newer CLIs (TypeScript SDK 0.3.337): only the base fields are modelled so far
    "Interrupt": {},
    "PreSkillShellCommand": {},
}  # fmt: skip

NESTED = {
    "tool_calls": tc.PostToolBatchToolCall,
    "background_tasks": tc.BackgroundTaskSummary,
    "session_crons": tc.SessionCronSummary,
}


def test_all_35_events_have_an_input_class() -> None:
    assert len(HOOK_EVENTS) == 35
    assert set(HOOK_INPUT_TYPES) == HOOK_EVENTS == set(EVENT_FIELDS)
    for event, cls in HOOK_INPUT_TYPES.items():
        assert cls.__name__ == f"{event}HookInput"
        assert issubclass(cls, tc.BaseHookInput)
        assert getattr(tc, cls.__name__) is cls  # exported


@pytest.mark.parametrize("event", sorted(EVENT_FIELDS))
def test_every_event_decodes_to_its_typed_input(event: str) -> None:
    wire = {**BASE, "hook_event_name": event, **EVENT_FIELDS[event], "future_field": [1]}
    hook_input = decode_hook_input(wire)
    assert type(hook_input) is HOOK_INPUT_TYPES[event]
    assert hook_input.hook_event_name == event
    for key, value in BASE.items():
        assert getattr(hook_input, key) == value
    modelled = {f.name for f in attrs.fields(type(hook_input))}
    for key, value in EVENT_FIELDS[event].items():
        assert key in modelled, f"{event}.{key} is not modelled"
        got = getattr(hook_input, key)
        if key in NESTED:
            assert all(isinstance(item, NESTED[key]) for item in got)
            assert [item.raw for item in got] == value
            for item, raw in zip(got, value, strict=True):
                for k, v in raw.items():
                    assert getattr(item, k) == v
        elif key == "permission_suggestions":
            assert [s.to_dict() for s in got] == value
        else:
            assert got == value, key
        assert hook_input[key] == value  # indexing like the official TypedDicts
    # unmodelled fields are kept
    assert hook_input.raw == wire
    assert hook_input["future_field"] == [1] and "future_field" in hook_input
    assert hook_input.get("missing", "d") == "d"


@pytest.mark.parametrize("event", sorted(EVENT_FIELDS))
def test_every_event_decodes_with_only_the_base_fields(event: str) -> None:
    hook_input = decode_hook_input({**BASE, "hook_event_name": event})
    assert type(hook_input) is HOOK_INPUT_TYPES[event]
    assert hook_input.session_id == "s-1"


def test_unknown_events_are_a_generic_input() -> None:
    hook_input = decode_hook_input({**BASE, "hook_event_name": "BrandNewEvent", "thing": 1})
    assert type(hook_input) is tc.GenericHookInput
    assert hook_input.hook_event_name == "BrandNewEvent"
    assert hook_input["thing"] == 1 and hook_input.cwd == "/srv"


def test_missing_event_name_uses_the_registration_event_and_nulls_are_defaults() -> None:
    hook_input = decode_hook_input({"tool_name": "Bash", "tool_input": None}, "PreToolUse")
    assert isinstance(hook_input, tc.PreToolUseHookInput)
    assert hook_input.hook_event_name == "PreToolUse"
    assert hook_input.tool_input == {}
    assert hook_input.effort is None and hook_input.agent_id is None


def test_transcript_inputs_decode(transcripts_dir: Path) -> None:
    seen = {}
    for line in (transcripts_dir / "d_hooks.jsonl").read_text().splitlines():
        record = json.loads(line)
        msg = record.get("msg") or {}
        request = msg.get("request") or {}
        if record["dir"] == "cli->sdk" and request.get("subtype") == "hook_callback":
            hook_input = decode_hook_input(request["input"])
            seen[hook_input.hook_event_name] = hook_input
            assert hook_input.raw == request["input"]
    assert set(seen) == {"UserPromptSubmit", "PreToolUse", "PostToolUse", "Stop"}
    prompt = seen["UserPromptSubmit"]
    assert isinstance(prompt, tc.UserPromptSubmitHookInput) and prompt.prompt == "Clean up please"
    post = seen["PostToolUse"]
    assert isinstance(post, tc.PostToolUseHookInput)
    assert post.tool_response["stdout"] == "allowed"
    assert post.duration_ms is not None and post.duration_ms == post.raw["duration_ms"] >= 0
    assert post.effort == {"level": "medium"}
    stop = seen["Stop"]
    assert isinstance(stop, tc.StopHookInput)
    assert stop.stop_hook_active is False and stop.last_assistant_message == "All done."
    assert stop.background_tasks == [] and stop.session_crons == []


# ------------------------------------------------------------------------------- outputs

P = tc.PermissionUpdate
ALLOW = tc.PermissionResultAllow(
    updated_input={"a": 1}, updated_permissions=[P.set_mode("acceptEdits")]
)

# Every event-specific output (inventory 5a), with sample values and the exact wire form.
OUTPUTS: list[tuple[tc.HookSpecificOutput, dict[str, Any]]] = [
    (tc.PreToolUseHookSpecificOutput(permission_decision="deny", permission_decision_reason="no",
                                     updated_input={"c": "ls"}, additional_context="ctx"),
     {"permissionDecision": "deny", "permissionDecisionReason": "no", "updatedInput": {"c": "ls"},
      "additionalContext": "ctx"}),
    (tc.PostToolUseHookSpecificOutput(additional_context="a", updated_tool_output={"stdout": "x"},
                                      updated_mcp_tool_output=[{"type": "text", "text": "t"}],
                                      classifier_context="c"),
     {"additionalContext": "a", "updatedToolOutput": {"stdout": "x"},
      "updatedMCPToolOutput": [{"type": "text", "text": "t"}], "classifierContext": "c"}),
    (tc.PostToolUseFailureHookSpecificOutput(additional_context="a"), {"additionalContext": "a"}),
    (tc.PostToolBatchHookSpecificOutput(additional_context="a"), {"additionalContext": "a"}),
    (tc.NotificationHookSpecificOutput(additional_context="a"), {"additionalContext": "a"}),
    (tc.UserPromptSubmitHookSpecificOutput(additional_context="a", session_title="T",
                                           suppress_original_prompt=True),
     {"additionalContext": "a", "sessionTitle": "T", "suppressOriginalPrompt": True}),
    (tc.UserPromptExpansionHookSpecificOutput(additional_context="a",
                                              suppress_original_prompt=False),
     {"additionalContext": "a", "suppressOriginalPrompt": False}),
    (tc.SessionStartHookSpecificOutput(additional_context="a", initial_user_message="go",
                                       session_title="T", watch_paths=["/a"], reload_skills=True),
     {"additionalContext": "a", "initialUserMessage": "go", "sessionTitle": "T",
      "watchPaths": ["/a"], "reloadSkills": True}),
    (tc.StopHookSpecificOutput(additional_context="keep going"),
     {"additionalContext": "keep going"}),
    (tc.SubagentStartHookSpecificOutput(additional_context="a"), {"additionalContext": "a"}),
    (tc.SubagentStopHookSpecificOutput(additional_context="a"), {"additionalContext": "a"}),
    (tc.PreModelSwitchHookSpecificOutput(permission_decision="ask",
                                         permission_decision_reason="why"),
     {"permissionDecision": "ask", "permissionDecisionReason": "why"}),
    (tc.PostModelSwitchHookSpecificOutput(additional_context="a"), {"additionalContext": "a"}),
    (tc.PermissionRequestHookSpecificOutput(decision=ALLOW),
     {"decision": {"behavior": "allow", "updatedInput": {"a": 1},
                   "updatedPermissions": [{"type": "setMode", "mode": "acceptEdits",
                                           "destination": "session"}]}}),
    (tc.PermissionDeniedHookSpecificOutput(retry=True), {"retry": True}),
    (tc.SetupHookSpecificOutput(additional_context="a"), {"additionalContext": "a"}),
    (tc.ElicitationHookSpecificOutput(action="accept", content={"k": "v"}),
     {"action": "accept", "content": {"k": "v"}}),
    (tc.ElicitationResultHookSpecificOutput(action="cancel"), {"action": "cancel"}),
    (tc.WorktreeCreateHookSpecificOutput(worktree_path="/wt/x"), {"worktreePath": "/wt/x"}),
    (tc.CwdChangedHookSpecificOutput(watch_paths=["/b"]), {"watchPaths": ["/b"]}),
    (tc.FileChangedHookSpecificOutput(watch_paths=[]), {"watchPaths": []}),
    (tc.MessageDisplayHookSpecificOutput(display_content="Hi"), {"displayContent": "Hi"}),
    (tc.PreSkillShellCommandHookSpecificOutput(
        permission_decision="deny", permission_decision_reason="no", updated_input={"c": 1}),
     {"permissionDecision": "deny", "permissionDecisionReason": "no",
      "updatedInput": {"c": 1}}),
]  # fmt: skip


def test_every_specific_output_class_is_covered() -> None:
    assert {type(o) for o, _ in OUTPUTS} == set(HOOK_SPECIFIC_OUTPUT_TYPES.values())
    assert set(HOOK_SPECIFIC_OUTPUT_TYPES) <= HOOK_EVENTS
    for event, cls in HOOK_SPECIFIC_OUTPUT_TYPES.items():
        assert cls.__name__ == f"{event}HookSpecificOutput"
        assert getattr(tc, cls.__name__) is cls


@pytest.mark.parametrize(("output", "wire"), OUTPUTS, ids=lambda o: type(o).__name__)
def test_every_specific_output_encodes_exactly(
    output: tc.HookSpecificOutput, wire: dict[str, Any]
) -> None:
    expected = {"hookEventName": output.hook_event_name, **wire}
    assert output.to_dict() == expected
    # as part of a HookOutput, returned alone, or inside a dict: the same wire form
    assert encode_hook_output(tc.HookOutput(hook_specific_output=output)) == {
        "hookSpecificOutput": expected
    }
    assert encode_hook_output(output) == {"hookSpecificOutput": expected}
    assert encode_hook_output({"hookSpecificOutput": output}) == {"hookSpecificOutput": expected}


def test_empty_specific_outputs_carry_only_the_event_name() -> None:
    assert tc.PreToolUseHookSpecificOutput().to_dict() == {"hookEventName": "PreToolUse"}


def test_permission_request_deny_decision_omits_absent_fields() -> None:
    deny = tc.PermissionRequestHookSpecificOutput(decision=tc.PermissionResultDeny())
    assert deny.to_dict() == {
        "hookEventName": "PermissionRequest",
        "decision": {"behavior": "deny"},
    }
    deny = tc.PermissionRequestHookSpecificOutput(
        decision=tc.PermissionResultDeny(message="m", interrupt=True)
    )
    assert deny.to_dict()["decision"] == {"behavior": "deny", "message": "m", "interrupt": True}
    allow = tc.PermissionRequestHookSpecificOutput(decision=tc.PermissionResultAllow())
    assert allow.to_dict()["decision"] == {"behavior": "allow"}


def test_hook_output_common_fields_use_the_wire_names() -> None:
    out = tc.HookOutput(
        continue_=False,
        suppress_output=True,
        stop_reason="enough",
        decision="block",
        system_message="careful",
        reason="because",
        hook_specific_output=tc.StopHookSpecificOutput(additional_context="x"),
        async_=True,
        async_timeout=5000,
    )
    assert out.to_dict() == {
        "continue": False,
        "suppressOutput": True,
        "stopReason": "enough",
        "decision": "block",
        "systemMessage": "careful",
        "reason": "because",
        "hookSpecificOutput": {"hookEventName": "Stop", "additionalContext": "x"},
        "async": True,
        "asyncTimeout": 5000,
    }
    assert tc.HookOutput().to_dict() == {}
    assert tc.HookOutput(decision="approve").to_dict() == {"decision": "approve"}


def test_invalid_literal_values_are_refused() -> None:
    with pytest.raises(ValueError):
        tc.PreToolUseHookSpecificOutput(permission_decision="maybe")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        tc.HookOutput(decision="allow")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        tc.ElicitationHookSpecificOutput(action="ok")  # type: ignore[arg-type]


def test_plain_dicts_keep_wire_names_and_rename_python_keywords() -> None:
    assert encode_hook_output(None) == {}
    assert encode_hook_output({}) == {}
    assert encode_hook_output({"continue_": False, "async_": True, "stopReason": "x"}) == {
        "continue": False,
        "async": True,
        "stopReason": "x",
    }
    official = {
        "hookSpecificOutput": {
            "hookEventName": "PreToolUse",
            "permissionDecision": "deny",
            "permissionDecisionReason": "HARNESS-BLOCKED: rm is not allowed",
        }
    }
    assert encode_hook_output(official, "PreToolUse") == official
    # a dict hookSpecificOutput without its event name gets the hook's event
    assert encode_hook_output(
        {"hookSpecificOutput": {"additionalContext": "c"}}, "PostToolUse"
    ) == {"hookSpecificOutput": {"hookEventName": "PostToolUse", "additionalContext": "c"}}
    # typed values nested in a dict are encoded
    nested = {"hookSpecificOutput": {"hookEventName": "PermissionRequest", "decision": ALLOW}}
    assert encode_hook_output(nested)["hookSpecificOutput"]["decision"]["behavior"] == "allow"


@pytest.mark.parametrize("wrong", ["ok", 3, ["a"], True, object()])
def test_other_return_values_are_refused(wrong: Any) -> None:
    with pytest.raises(TypeError, match="a hook callback must return"):
        encode_hook_output(wrong)


def test_dict_with_non_string_keys_or_bad_specific_output_is_refused() -> None:
    with pytest.raises(TypeError, match="keys must be strings"):
        encode_hook_output({1: "x"})
    with pytest.raises(TypeError, match="hookSpecificOutput must be"):
        encode_hook_output({"hookSpecificOutput": "deny"})


def test_transcript_answers_are_what_the_typed_outputs_encode(transcripts_dir: Path) -> None:
    answers = [
        json.loads(line)["msg"]["response"]["response"]
        for line in (transcripts_dir / "d_hooks.jsonl").read_text().splitlines()
        if json.loads(line)["dir"] == "sdk->cli"
        and json.loads(line)["msg"].get("type") == "control_response"
    ]
    ours = [
        tc.HookOutput(
            hook_specific_output=tc.UserPromptSubmitHookSpecificOutput(
                additional_context="HOOK-CONTEXT-42"
            )
        ),
        tc.PreToolUseHookSpecificOutput(
            permission_decision="deny",
            permission_decision_reason="HARNESS-BLOCKED: rm is not allowed",
        ),
        None,
        tc.PostToolUseHookSpecificOutput(additional_context="POST-HOOK-NOTE-7"),
        tc.HookOutput(),
    ]
    assert [json.dumps(encode_hook_output(o)) for o in ours] == [json.dumps(a) for a in answers]


def test_hook_context_defaults() -> None:
    ctx = tc.HookContext(callback_id="hook_0", hook_event_name="Stop")
    assert ctx.signal is None and ctx.matcher is None and ctx.timeout is None
