"""Permission types: encoding against the inventory (section 6) and the c_can_use_tool run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import pytest

import trio_claude as tc
from trio_claude._permissions import (
    PERMISSION_UPDATE_DESTINATIONS,
    decode_permission_request,
    encode_permission_result,
)

R = tc.PermissionRuleValue


def no_nulls(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, dict):
        return all(no_nulls(v) for v in value.values())
    if isinstance(value, list):
        return all(no_nulls(v) for v in value)
    return True


# ---------------------------------------------------------------------- rules and updates


def test_rule_value_omits_absent_rule_content() -> None:
    assert R("Bash").to_dict() == {"toolName": "Bash"}
    assert R("Bash", "npm test:*").to_dict() == {"toolName": "Bash", "ruleContent": "npm test:*"}
    assert R.from_dict({"toolName": "Bash", "ruleContent": "ls"}) == R("Bash", "ls")
    assert R.from_dict({"toolName": "Read"}) == R("Read")


# (update, exact wire form) for every variant; inventory section 6.
VARIANTS: list[tuple[tc.PermissionUpdate, dict[str, Any]]] = [
    (
        tc.PermissionUpdate(
            type="addRules", rules=[R("Bash", "npm test:*")], behavior="allow",
            destination="userSettings",
        ),
        {"type": "addRules", "rules": [{"toolName": "Bash", "ruleContent": "npm test:*"}],
         "behavior": "allow", "destination": "userSettings"},
    ),
    (
        tc.PermissionUpdate(
            type="replaceRules", rules=[R("Write")], behavior="deny",
            destination="projectSettings",
        ),
        {"type": "replaceRules", "rules": [{"toolName": "Write"}], "behavior": "deny",
         "destination": "projectSettings"},
    ),
    (
        tc.PermissionUpdate(
            type="removeRules", rules=[R("Edit"), R("Bash", "rm:*")], behavior="ask",
            destination="localSettings",
        ),
        {"type": "removeRules",
         "rules": [{"toolName": "Edit"}, {"toolName": "Bash", "ruleContent": "rm:*"}],
         "behavior": "ask", "destination": "localSettings"},
    ),
    (
        tc.PermissionUpdate(type="setMode", mode="acceptEdits", destination="session"),
        {"type": "setMode", "mode": "acceptEdits", "destination": "session"},
    ),
    (
        tc.PermissionUpdate(type="addDirectories", directories=["/a", "/b"], destination="cliArg"),
        {"type": "addDirectories", "directories": ["/a", "/b"], "destination": "cliArg"},
    ),
    (
        tc.PermissionUpdate(type="removeDirectories", directories=["/a"]),
        {"type": "removeDirectories", "directories": ["/a"], "destination": "session"},
    ),
]  # fmt: skip


@pytest.mark.parametrize(("update", "wire"), VARIANTS, ids=lambda v: getattr(v, "type", ""))
def test_every_update_variant_encodes_exactly(
    update: tc.PermissionUpdate, wire: dict[str, Any]
) -> None:
    assert update.to_dict() == wire
    assert list(update.to_dict()) == list(wire)  # key order as the CLI sends them
    assert no_nulls(update.to_dict())
    # decoding the wire form gives the same update back, and re-encodes identically
    assert tc.PermissionUpdate.from_dict(wire) == update
    assert tc.PermissionUpdate.from_dict(wire).to_dict() == wire
    assert tc.PermissionUpdate.from_dict(wire, strict=True) == update


def test_typed_constructors_build_the_same_variants() -> None:
    built = [
        tc.PermissionUpdate.add_rules(
            [R("Bash", "npm test:*")], behavior="allow", destination="userSettings"
        ),
        tc.PermissionUpdate.replace_rules(
            [R("Write")], behavior="deny", destination="projectSettings"
        ),
        tc.PermissionUpdate.remove_rules(
            [R("Edit"), R("Bash", "rm:*")], behavior="ask", destination="localSettings"
        ),
        tc.PermissionUpdate.set_mode("acceptEdits"),
        tc.PermissionUpdate.add_directories(["/a", "/b"], destination="cliArg"),
        tc.PermissionUpdate.remove_directories(["/a"]),
    ]
    assert built == [update for update, _ in VARIANTS]


@pytest.mark.parametrize("destination", sorted(PERMISSION_UPDATE_DESTINATIONS))
def test_every_destination(destination: str) -> None:
    update = tc.PermissionUpdate(type="setMode", mode="plan", destination=destination)
    assert update.to_dict()["destination"] == destination


def test_destination_none_means_session() -> None:
    assert tc.PermissionUpdate(type="setMode", mode="plan").to_dict()["destination"] == "session"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"type": "grantAll"}, "unknown PermissionUpdate type 'grantAll'"),
        ({"type": "addRules", "behavior": "allow"}, "addRules needs rules"),
        ({"type": "addRules", "rules": [R("X")]}, "needs behavior"),
        ({"type": "removeRules", "rules": [R("X")], "behavior": "maybe"}, "needs behavior"),
        ({"type": "setMode"}, "setMode needs a permission mode"),
        ({"type": "setMode", "mode": "yolo"}, "setMode needs a permission mode"),
        ({"type": "addDirectories"}, "addDirectories needs directories"),
        ({"type": "setMode", "mode": "plan", "destination": "disk"}, "destination must be one of"),
    ],
)
def test_invalid_updates_are_refused_at_construction(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        tc.PermissionUpdate(**kwargs)
    with pytest.raises(ValueError, match=message):
        tc.PermissionUpdate.from_dict(kwargs, strict=True)


def test_a_single_string_is_not_a_list() -> None:
    with pytest.raises(TypeError):
        tc.PermissionUpdate(type="addDirectories", directories="/a")
    with pytest.raises(TypeError):
        tc.PermissionUpdate(type="addRules", rules=R("X"), behavior="allow")  # type: ignore[arg-type]


def test_updates_from_the_cli_round_trip_even_when_unknown() -> None:
    future = {"type": "grantEverything", "scope": "galaxy", "destination": "session", "x": None}
    update = tc.PermissionUpdate.from_dict(future)
    assert update.type == "grantEverything"
    assert update.to_dict() == {
        "type": "grantEverything",
        "scope": "galaxy",
        "destination": "session",
    }
    # extra keys on a known type are kept too
    known = {"type": "setMode", "mode": "plan", "destination": "session", "reason": "r"}
    assert tc.PermissionUpdate.from_dict(known).to_dict() == known


def test_evolve_re_encodes_from_the_fields() -> None:
    suggestion = tc.PermissionUpdate.from_dict(
        {"type": "addRules", "rules": [{"toolName": "mcp__probe__echo"}], "behavior": "allow",
         "destination": "localSettings"}
    )  # fmt: skip
    assert suggestion.raw is not None
    moved = attrs.evolve(suggestion, destination="session")
    assert moved.raw is None
    assert moved.to_dict() == {
        "type": "addRules", "rules": [{"toolName": "mcp__probe__echo"}], "behavior": "allow",
        "destination": "session",
    }  # fmt: skip


# ---------------------------------------------------------------------------- results


def test_allow_always_sends_updated_input() -> None:
    original = {"file_path": "/x", "content": "a"}
    assert tc.PermissionResultAllow().to_dict(original) == {
        "behavior": "allow",
        "updatedInput": original,
    }
    rewritten = {"file_path": "/x", "content": "b"}
    assert tc.PermissionResultAllow(updated_input=rewritten).to_dict(original) == {
        "behavior": "allow",
        "updatedInput": rewritten,
    }


def test_allow_with_permission_updates_and_classification() -> None:
    allow = tc.PermissionResultAllow(
        updated_permissions=[tc.PermissionUpdate.set_mode("acceptEdits")],
        decision_classification="user_permanent",
    )
    assert allow.to_dict({"a": 1}) == {
        "behavior": "allow",
        "updatedInput": {"a": 1},
        "updatedPermissions": [
            {"type": "setMode", "mode": "acceptEdits", "destination": "session"}
        ],
        "decisionClassification": "user_permanent",
    }
    # dicts in the wire form are accepted (and checked) too
    from_dict = tc.PermissionResultAllow(updated_permissions=[{"type": "setMode", "mode": "plan"}])
    assert from_dict.updated_permissions == [tc.PermissionUpdate.set_mode("plan")]
    with pytest.raises(ValueError):
        tc.PermissionResultAllow(updated_permissions=[{"type": "setMode"}])
    # an unknown classification (a newer CLI's value) is sent with a warning, not refused
    with pytest.warns(UserWarning, match="'maybe' is not a value this SDK knows"):
        maybe = tc.PermissionResultAllow(decision_classification="maybe")  # type: ignore[arg-type]
    assert maybe.to_dict({})["decisionClassification"] == "maybe"
    with pytest.raises(ValueError):
        tc.PermissionResultAllow(decision_classification=3)  # type: ignore[arg-type]


def test_deny_omits_interrupt_unless_set() -> None:
    assert tc.PermissionResultDeny(message="no").to_dict() == {"behavior": "deny", "message": "no"}
    assert tc.PermissionResultDeny(message="stop", interrupt=True).to_dict() == {
        "behavior": "deny",
        "message": "stop",
        "interrupt": True,
    }
    assert tc.PermissionResultDeny().to_dict() == {"behavior": "deny", "message": ""}


def test_behavior_attribute_is_fixed() -> None:
    assert tc.PermissionResultAllow().behavior == "allow"
    assert tc.PermissionResultDeny().behavior == "deny"
    with pytest.raises(ValueError):
        tc.PermissionResultAllow(behavior="deny")  # type: ignore[arg-type]


def test_encode_refuses_other_types() -> None:
    for wrong in (None, True, {"behavior": "allow"}, "allow"):
        with pytest.raises(TypeError, match="must return PermissionResultAllow"):
            encode_permission_result(wrong, {})


# -------------------------------------------------------------- against the real transcript


def _frames(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_transcript_requests_decode_and_the_answers_are_what_the_results_encode(
    transcripts_dir: Path,
) -> None:
    records = _frames(transcripts_dir / "c_can_use_tool.jsonl")
    requests = {
        r["msg"]["request_id"]: r["msg"]["request"]
        for r in records
        if r["dir"] == "cli->sdk" and r["msg"].get("type") == "control_request"
    }
    answers = {
        r["msg"]["response"]["request_id"]: r["msg"]["response"]["response"]
        for r in records
        if r["dir"] == "sdk->cli"
        and r["msg"].get("type") == "control_response"
        and r["msg"]["response"]["request_id"] in requests
    }
    assert len(requests) == len(answers) == 2
    for request_id, request in requests.items():
        tool_name, tool_input, context = decode_permission_request(request)
        assert tool_name == "Write"
        assert tool_input == request["input"]
        assert context.tool_use_id == request["tool_use_id"]
        assert context.display_name == "Write"
        assert context.description in ("denied.txt", "allowed.txt")
        assert context.suggestions == [tc.PermissionUpdate.set_mode("acceptEdits")]
        assert context.raw == request
        sent = answers[request_id]
        if sent["behavior"] == "deny":
            ours = tc.PermissionResultDeny(message=sent["message"]).to_dict()
            # The official Python SDK's answer to this request had these keys, in this order.
            assert list(sent) == ["behavior", "message"]
        else:
            ours = tc.PermissionResultAllow(updated_input=sent["updatedInput"]).to_dict(tool_input)
            assert list(sent) == ["behavior", "updatedInput"]
        assert json.dumps(ours) == json.dumps(sent)


def test_context_carries_every_documented_request_field() -> None:
    request: dict[str, Any] = {
        "subtype": "can_use_tool",
        "tool_name": "mcp__probe__echo",
        "input": {"text": "hi"},
        "tool_use_id": "toolu_1",
        "agent_id": "agent-7",
        "blocked_path": "/etc/passwd",
        "decision_reason": "outside the project",
        "decision_reason_type": "rule",
        "title": "Echo?",
        "display_name": "Echo",
        "description": "echoes",
        "mcp_server": {"name": "probe", "source": "sdk"},
        "classifier_approvable": True,
        "suppress_always_allow_rule": False,
        "default_to_no": True,
        "matched_ask_rule": {"source": "userSettings", "tool_name": "mcp__probe__echo"},
        "requires_user_interaction": False,
        "permission_suggestions": [
            {"type": "addRules", "rules": [{"toolName": "mcp__probe__echo"}], "behavior": "allow",
             "destination": "localSettings"},
            "not an object",
        ],
        "server_policy_ask_only": True,
    }  # fmt: skip
    name, tool_input, ctx = decode_permission_request(request)
    assert (name, tool_input) == ("mcp__probe__echo", {"text": "hi"})
    assert ctx.signal is None
    assert ctx.tool_use_id == "toolu_1" and ctx.agent_id == "agent-7"
    assert ctx.blocked_path == "/etc/passwd" and ctx.decision_reason == "outside the project"
    assert ctx.decision_reason_type == "rule" and ctx.title == "Echo?"
    assert ctx.mcp_server == {"name": "probe", "source": "sdk"}
    assert ctx.classifier_approvable is True and ctx.default_to_no is True
    assert ctx.suppress_always_allow_rule is False and ctx.requires_user_interaction is False
    assert ctx.matched_ask_rule == {"source": "userSettings", "tool_name": "mcp__probe__echo"}
    assert [s.to_dict() for s in ctx.suggestions] == [request["permission_suggestions"][0]]
    assert ctx.raw["server_policy_ask_only"] is True


def test_decoding_never_raises_on_odd_requests() -> None:
    name, tool_input, ctx = decode_permission_request({"tool_name": 3, "input": "x"})
    assert (name, tool_input, ctx.suggestions) == ("3", {}, [])
