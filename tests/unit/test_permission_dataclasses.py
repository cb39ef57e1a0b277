"""The permission types are dataclasses too, as in the official SDK (``dataclasses.asdict``,
``replace``, ``fields`` on what ``can_use_tool`` receives and returns)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

import trio_claude as tc


@pytest.mark.parametrize(
    "value",
    [
        tc.ToolPermissionContext(suggestions=[], tool_use_id="toolu_1"),
        tc.PermissionResultAllow(updated_input={"command": "ls"}),
        tc.PermissionResultDeny(message="no", interrupt=True),
        tc.PermissionRuleValue(tool_name="Write"),
        tc.PermissionUpdate(type="setMode", mode="acceptEdits"),
    ],
    ids=lambda v: type(v).__name__,
)
def test_official_permission_dataclasses_work_with_dataclasses(value: Any) -> None:
    assert dataclasses.is_dataclass(value)
    assert not isinstance(value, type)
    fields = {f.name for f in dataclasses.fields(value)}
    as_dict = dataclasses.asdict(value)
    assert set(as_dict) == fields
    assert dataclasses.replace(value) == value


def test_replace_changes_a_field_and_keeps_the_rest() -> None:
    allow: Any = tc.PermissionResultAllow(updated_input={"command": "ls"})
    changed = dataclasses.replace(allow, updated_input={"command": "pwd"})
    assert changed.updated_input == {"command": "pwd"} and changed.behavior == "allow"
    context: Any = tc.ToolPermissionContext(suggestions=[], tool_use_id="toolu_1")
    assert dataclasses.asdict(context)["tool_use_id"] == "toolu_1"


def test_a_permission_update_replaced_is_checked_and_encoded_from_its_fields() -> None:
    """``raw`` (what the CLI sent) is not an ``__init__`` argument: ``replace`` leaves it to
    ``__init__``, so a changed update is encoded from its fields, and checked again."""
    rule = tc.PermissionRuleValue(tool_name="Bash", rule_content="ls")
    update: Any = tc.PermissionUpdate(type="addRules", rules=[rule], behavior="allow")
    denied = dataclasses.replace(update, behavior="deny")
    assert denied.to_dict()["behavior"] == "deny" and denied.raw is None
    with pytest.raises(ValueError):
        dataclasses.replace(update, type="noSuchType")
