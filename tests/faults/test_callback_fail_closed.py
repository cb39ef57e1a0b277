"""Callbacks fail closed (issue 10, faults 7 and 8).

Fault 7: a callback that raises its *own* ``trio.TooSlowError`` (it uses ``trio.fail_after``
internally) was taken for the SDK's deadline: with ``can_use_tool_timeout=None`` the handler
formatted ``None`` with ``:g`` and answered ``TypeError`` (plus a logging error); with a
deadline set it claimed "did not answer within N s"; a hook claimed "timed out after N s". Only
the SDK's own cancel scope firing is a timeout now.

Fault 8: ``PermissionResultAllow(updated_input="")`` (or a list, a number, a list of pairs) was
sent as an *allow* with ``dict(value)`` as the input: ``{}`` or whatever the pairs spelled,
never what the callback meant. Wrong-typed fields are refused at construction, and the encoders
refuse them again (a deny naming the problem) when the constructor's checks were bypassed.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio
import trio.testing

import trio_claude as tc
from tests._helpers import answers, error, one_turn, options_for, success
from trio_claude._hooks import encode_hook_output
from trio_claude._mcp import McpServerConnection
from trio_claude._permissions import encode_permission_result
from trio_claude.testing.fake_cli import (
    Request,
)


def can_use_tool(tool: str, tool_input: dict[str, Any]) -> Request:
    return Request(
        "can_use_tool", {"tool_name": tool, "input": tool_input, "tool_use_id": f"toolu_{tool}"}
    )


def hook_request(event: str, **fields: Any) -> Request:
    return Request(
        "hook_callback",
        {
            "callback_id": "hook_0",
            "input": {"session_id": "s", "cwd": "/w", "hook_event_name": event, **fields},
            "tool_use_id": "toolu_1",
        },
    )


ELICIT = {
    "mcp_server_name": "github",
    "message": "Your token?",
    "mode": "form",
    "elicitation_id": "e-1",
    "requested_schema": {"type": "object", "properties": {"token": {"type": "string"}}},
}


def all_records_format(caplog: pytest.LogCaptureFixture) -> None:
    """Every record the SDK logged formats (a ``%g`` of ``None`` would raise here)."""
    for record in caplog.records:
        record.getMessage()


async def _own_fail_after(*args: Any) -> Any:
    """A callback with its own internal deadline, which it lets escape."""
    with trio.fail_after(1):
        await trio.sleep_forever()


# ------------------------------------------------------ fault 7: the callback's TooSlowError


async def test_permission_callback_own_tooslowerror_without_sdk_timeout_denies(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    opts, transport = options_for(
        one_turn(can_use_tool("Write", {"file_path": "/x"})),
        can_use_tool=_own_fail_after,
        can_use_tool_timeout=None,
    )
    with caplog.at_level(logging.WARNING, logger="trio_claude"):
        async with tc.open_session(opts) as session:
            assert (await session.run("go")).text == "end"
    body = success(answers(transport.fake)[0])
    assert body == {
        "behavior": "deny",
        "message": "Permission to use Write was denied: the permission callback raised "
        "TooSlowError",
    }
    all_records_format(caplog)
    assert "can_use_tool for Write raised TooSlowError; denied" in caplog.text
    assert "can_use_tool_timeout" not in caplog.text


async def test_permission_callback_own_tooslowerror_is_not_reported_as_the_sdk_deadline(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    opts, transport = options_for(
        one_turn(can_use_tool("Write", {})), can_use_tool=_own_fail_after, can_use_tool_timeout=10
    )
    with caplog.at_level(logging.WARNING, logger="trio_claude"):
        async with tc.open_session(opts) as session:
            start = trio.current_time()
            await session.run("go")
            assert trio.current_time() - start == pytest.approx(1, abs=0.5)
    message = success(answers(transport.fake)[0])["message"]
    assert message.endswith("the permission callback raised TooSlowError")
    assert "did not answer" not in message and "can_use_tool_timeout" not in caplog.text


async def test_sdk_deadline_is_a_timeout_even_if_the_callback_converts_the_cancellation(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    async def converts(*args: Any) -> Any:
        try:
            await trio.sleep_forever()
        except trio.Cancelled:
            raise trio.TooSlowError("the policy service") from None

    opts, transport = options_for(
        one_turn(can_use_tool("Write", {})), can_use_tool=converts, can_use_tool_timeout=5
    )
    with caplog.at_level(logging.WARNING, logger="trio_claude"):
        async with tc.open_session(opts) as session:
            await session.run("go")
    assert success(answers(transport.fake)[0]) == {
        "behavior": "deny",
        "message": "Permission to use Write was denied: the permission callback did not answer "
        "within 5 s",
    }
    assert "can_use_tool_timeout" in caplog.text


async def test_hook_callback_own_tooslowerror_is_an_error_not_a_timeout(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    opts, transport = options_for(
        one_turn(hook_request("PreToolUse", tool_name="Bash", tool_input={})),
        hooks={"PreToolUse": [tc.HookMatcher(hooks=[_own_fail_after], timeout=30)]},
    )
    with caplog.at_level(logging.WARNING, logger="trio_claude"):
        async with tc.open_session(opts) as session:
            start = trio.current_time()
            await session.run("go")
            assert trio.current_time() - start == pytest.approx(1, abs=0.5)
    text = error(answers(transport.fake)[0])
    assert text.startswith("PreToolUse hook callback hook_0 raised TooSlowError")
    assert "timed out" not in text and "did not return" not in caplog.text
    all_records_format(caplog)


async def test_elicitation_and_mcp_tool_own_tooslowerror_fail_closed(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # Neither has an SDK deadline; covered so every callback kind is checked for the bug.
    opts, transport = options_for(
        one_turn(Request("elicitation", ELICIT)), on_elicitation=_own_fail_after
    )
    async with tc.open_session(opts) as session:
        await session.run("go")
    assert success(answers(transport.fake)[0]) == {"action": "decline"}

    @tc.tool("slow", "has its own deadline", {})
    async def slow(args: Any) -> Any:
        await _own_fail_after()

    connection = McpServerConnection(tc.create_sdk_mcp_server("s", tools=[slow])["instance"])
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "slow"}}
    result = (await connection.handle(call))["result"]
    assert result["isError"] is True
    assert result["content"][0]["text"].startswith("TooSlowError")


# ----------------------------------------------------- fault 8: wrong-typed updated_input


@pytest.mark.parametrize("wrong", ["", [], 0, [("command", "rm -rf /")], b""])
def test_allow_refuses_a_non_dict_updated_input_at_construction(wrong: Any) -> None:
    with pytest.raises(TypeError, match="updated_input must be a dict"):
        tc.PermissionResultAllow(updated_input=wrong)
    with pytest.raises(TypeError, match="updated_input must be a dict"):
        attrs.evolve(tc.PermissionResultAllow(), updated_input=wrong)


def test_allow_encoding_refuses_a_non_dict_updated_input_that_bypassed_the_check() -> None:
    with attrs.validators.disabled():
        bad = tc.PermissionResultAllow(updated_input="")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"updated_input must be a dict .* not str"):
        encode_permission_result(bad, {"command": "ls"})
    with pytest.raises(TypeError, match="updated_input must be a dict"):
        bad.to_dict({"command": "ls"})


async def _allow_empty_string(*args: Any) -> Any:
    return tc.PermissionResultAllow(updated_input="")  # type: ignore[arg-type]


async def _allow_pairs(*args: Any) -> Any:
    return tc.PermissionResultAllow(updated_input=[("command", "rm -rf /")])  # type: ignore[arg-type]


async def _allow_bypassed(*args: Any) -> Any:
    with attrs.validators.disabled():
        return tc.PermissionResultAllow(updated_input="")  # type: ignore[arg-type]


async def _allow_bad_permissions(*args: Any) -> Any:
    result = tc.PermissionResultAllow()
    object.__setattr__(result, "updated_permissions", {"type": "setMode", "mode": "plan"})
    return result


async def _deny_bad_message(*args: Any) -> Any:
    with attrs.validators.disabled():
        return tc.PermissionResultDeny(message=None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("callback", "why"),
    [
        (_allow_empty_string, "the permission callback raised TypeError"),
        (_allow_pairs, "the permission callback raised TypeError"),
        (
            _allow_bypassed,
            "the permission callback returned an invalid answer (PermissionResultAllow."
            "updated_input must be a dict (the tool's whole input) or None, not str)",
        ),
        (
            _allow_bad_permissions,
            "returned an invalid answer (updated_permissions must be a list of "
            "PermissionUpdate, not dict)",
        ),
        (
            _deny_bad_message,
            "returned an invalid answer (PermissionResultDeny.message must be a str, not NoneType)",
        ),
    ],
)
async def test_wrong_typed_permission_results_deny_through_the_session(
    callback: Any, why: str, caplog: pytest.LogCaptureFixture
) -> None:
    opts, transport = options_for(
        one_turn(can_use_tool("Bash", {"command": "ls"})), can_use_tool=callback
    )
    with caplog.at_level(logging.WARNING, logger="trio_claude"):
        async with tc.open_session(opts) as session:
            assert (await session.run("go")).text == "end"
    body = success(answers(transport.fake)[0])
    assert body["behavior"] == "deny", body
    assert "updatedInput" not in body
    assert body["message"].startswith("Permission to use Bash was denied: ")
    assert why in body["message"]
    assert "can_use_tool for Bash" in caplog.text and "denied" in caplog.text


def test_updated_permissions_of_the_wrong_type_are_refused() -> None:
    with pytest.raises(TypeError, match="must be a list of PermissionUpdate, not int"):
        tc.PermissionResultAllow(updated_permissions=0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"must hold PermissionUpdate .* not str"):
        tc.PermissionResultAllow(updated_permissions=["setMode"])  # type: ignore[list-item]


def test_permission_updates_never_stringify_what_is_not_a_path() -> None:
    for wrong in (None, b"/etc", 3):
        with pytest.raises(TypeError, match="directories must be paths"):
            tc.PermissionUpdate.add_directories([wrong])  # type: ignore[list-item]
    # a Path is accepted, though the annotation says str
    update = tc.PermissionUpdate.add_directories([Path("/w/src")])  # type: ignore[list-item]
    assert update.to_dict()["directories"] == ["/w/src"]


def test_permission_rules_of_the_wrong_type_are_refused() -> None:
    # ruleContent 5 (or a rule missing its tool) must not reach the CLI, where it could be
    # dropped and widen the rule to the whole tool.
    bad_rules: list[Any] = [
        tc.PermissionRuleValue("Bash", 5),  # type: ignore[arg-type]
        tc.PermissionRuleValue(None),  # type: ignore[arg-type]
        "Bash",
    ]
    for rule in bad_rules:
        with pytest.raises(TypeError):
            tc.PermissionUpdate.add_rules([rule], behavior="allow")
    with pytest.raises(TypeError, match="rule_content must be a str"):
        tc.PermissionResultAllow(
            updated_permissions=[
                {"type": "addRules", "rules": [{"toolName": "Bash", "ruleContent": 5}],
                 "behavior": "allow"}
            ]
        )  # fmt: skip


def test_deny_fields_are_typed() -> None:
    with pytest.raises(TypeError):
        tc.PermissionResultDeny(message=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        tc.PermissionResultDeny(interrupt="no")  # type: ignore[arg-type]


# ------------------------------------------------------------- fault 8: hook outputs


def test_hook_outputs_refuse_a_non_dict_updated_input() -> None:
    with pytest.raises(TypeError, match="updated_input must be a dict"):
        tc.PreToolUseHookSpecificOutput(permission_decision="allow", updated_input="")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="decision must be PermissionResultAllow"):
        tc.PermissionRequestHookSpecificOutput(decision="allow")  # type: ignore[arg-type]
    with attrs.validators.disabled():
        allow = tc.PermissionResultAllow(updated_input="")  # type: ignore[arg-type]
        pre = tc.PreToolUseHookSpecificOutput(updated_input=[])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="updated_input must be a dict"):
        encode_hook_output(tc.PermissionRequestHookSpecificOutput(decision=allow))
    with pytest.raises(TypeError, match="updated_input must be a dict"):
        encode_hook_output(pre)
    wire_pre = {"hookSpecificOutput": {"permissionDecision": "allow", "updatedInput": ""}}
    with pytest.raises(TypeError, match="updatedInput must be a dict"):
        encode_hook_output(wire_pre, "PreToolUse")
    wire_request = {"hookSpecificOutput": {"decision": {"behavior": "allow", "updatedInput": 0}}}
    with pytest.raises(TypeError, match="updatedInput must be a dict"):
        encode_hook_output(wire_request, "PermissionRequest")


async def _hook_bypassed_allow(*args: Any) -> Any:
    with attrs.validators.disabled():
        allow = tc.PermissionResultAllow(updated_input="")  # type: ignore[arg-type]
    return tc.PermissionRequestHookSpecificOutput(decision=allow)


async def _hook_wire_pre_tool_use(*args: Any) -> Any:
    return {"hookSpecificOutput": {"permissionDecision": "allow", "updatedInput": ""}}


@pytest.mark.parametrize(
    ("event", "hook"),
    [("PermissionRequest", _hook_bypassed_allow), ("PreToolUse", _hook_wire_pre_tool_use)],
)
async def test_hook_with_a_wrong_typed_input_answers_an_error(
    event: str, hook: Any, caplog: pytest.LogCaptureFixture
) -> None:
    opts, transport = options_for(
        one_turn(hook_request(event, tool_name="Bash", tool_input={"command": "ls"})),
        hooks={event: [tc.HookMatcher(hooks=[hook])]},
    )
    with caplog.at_level(logging.WARNING, logger="trio_claude"):
        async with tc.open_session(opts) as session:
            await session.run("go")
    text = error(answers(transport.fake)[0])
    assert text.startswith(f"{event} hook callback hook_0 returned an invalid output: ")
    assert "updatedInput must be a dict" in text or "updated_input must be a dict" in text
    assert "returned an invalid output" in caplog.text


# ------------------------------------------------------------ fault 8: elicitation


def test_elicitation_result_refuses_non_dict_content() -> None:
    with pytest.raises(TypeError, match="content must be a dict"):
        tc.ElicitationResult(action="accept", content="")  # type: ignore[arg-type]
    with attrs.validators.disabled():
        bad = tc.ElicitationResult(action="accept", content=[])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="content must be a dict"):
        bad.to_dict()


async def test_elicitation_with_non_dict_content_declines() -> None:
    async def accept_junk(request: Any) -> Any:
        return {"action": "accept", "content": ""}

    opts, transport = options_for(
        one_turn(Request("elicitation", ELICIT)), on_elicitation=accept_junk
    )
    async with tc.open_session(opts) as session:
        await session.run("go")
    assert success(answers(transport.fake)[0]) == {"action": "decline"}
