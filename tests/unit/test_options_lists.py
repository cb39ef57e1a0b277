"""The list-typed fields of the official dataclasses, and ``AgentDefinition``'s official names.

The official ``ClaudeAgentOptions``, ``AgentDefinition`` and ``HookMatcher`` are mutable
dataclasses whose list fields are lists (claude_agent_sdk ``types.py``: ``AgentDefinition``
~86-105, ``HookMatcher`` ~588-600, ``ClaudeAgentOptions`` ~1941-2200). trio-claude's are frozen,
so those fields hold tuples; they must still do what official code does with the lists without
changing them, and say how to change them.
"""

# What official code does with these lists (`+ [...]`, `== [...]`) is what their annotations
# (tuples: options are frozen) do not allow: checked at run time here, not by mypy.
# mypy: disable-error-code="arg-type,operator,comparison-overlap,index,union-attr"
# mypy: disable-error-code="call-overload,attr-defined,misc,type-var"

# The concatenations are what is tested (official code writes them), not a style slip.
# ruff: noqa: RUF005

from __future__ import annotations

import dataclasses
import pickle
from typing import Any

import attrs
import pytest

import trio_claude as tc
from trio_claude._options import _changed

# Official list fields of ClaudeAgentOptions, with a value to give and an item to add.
OPTION_LISTS: dict[str, tuple[list[Any], Any]] = {
    "tools": (["Read", "Bash"], "Write"),
    "allowed_tools": (["Read"], "Write"),
    "disallowed_tools": (["Bash"], "Write"),
    "betas": (["context-1m-2025-08-07"], "other-beta"),
    "add_dirs": (["/tmp/a"], "/tmp/b"),
    "setting_sources": (["project"], "user"),
    "skills": (["pdf"], "xlsx"),
    "plugins": ([{"type": "local", "path": "/p"}], {"type": "local", "path": "/q"}),
}


@pytest.mark.parametrize("name", sorted(OPTION_LISTS))
def test_a_list_option_adds_to_lists_as_official(name: str) -> None:
    given, item = OPTION_LISTS[name]
    options = tc.ClaudeAgentOptions(**{name: given})
    value = getattr(options, name)
    assert value + [item] == [*given, item] and type(value + [item]) is list
    assert [item] + value == [item, *given] and type([item] + value) is list
    assert [*value, item] == [*given, item]
    assert value == given and given == value and (value != given) is False
    assert value != [*given, item]
    assert value.copy() == given and type(value.copy()) is list
    assert len(value) == len(given) and value[0] == given[0] and list(value) == given
    changed = dataclasses.replace(options, **{name: value + [item]})
    assert getattr(changed, name) == [*given, item]
    assert attrs.evolve(options, **{name: [*value, item]}) == changed
    assert getattr(options, name) == given  # the original is unchanged


@pytest.mark.parametrize("name", sorted(OPTION_LISTS))
def test_changing_a_list_option_in_place_says_how_to_change_it(name: str) -> None:
    given, _ = OPTION_LISTS[name]
    value = getattr(tc.ClaudeAgentOptions(**{name: given}), name)
    for method in ("append", "extend", "insert", "remove", "pop", "clear", "sort", "reverse"):
        with pytest.raises(AttributeError, match=r"frozen.*dataclasses\.replace"):
            getattr(value, method)
    assert not hasattr(value, "append")
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        value.nope  # noqa: B018


def test_list_options_stay_hashable_tuples() -> None:
    options = tc.ClaudeAgentOptions(allowed_tools=["Read"], disallowed_tools=["Bash"])
    assert isinstance(options.allowed_tools, tuple) and not isinstance(options.allowed_tools, list)
    assert hash(options) == hash(tc.ClaudeAgentOptions(allowed_tools=("Read",),
                                                       disallowed_tools=("Bash",)))  # fmt: skip
    assert options.allowed_tools == ("Read",) and hash(options.allowed_tools) == hash(("Read",))
    assert options.allowed_tools + ("Write",) == ("Read", "Write")
    assert ("Write",) + options.allowed_tools == ("Write", "Read")
    assert pickle.loads(pickle.dumps(options)) == options
    assert attrs.asdict(options)["allowed_tools"] == ["Read"]


def test_defaults_stay_defaults() -> None:
    # Options left at their default are skipped by the checks that run at every open.
    assert _changed(tc.ClaudeAgentOptions()) == []
    assert _changed(tc.ClaudeAgentOptions(allowed_tools=[], plugins=())) == []
    assert tc.ClaudeAgentOptions().allowed_tools == []


def test_agent_and_matcher_lists_add_to_lists() -> None:
    agent = tc.AgentDefinition(
        description="d", prompt="p", tools=["Read"], disallowedTools=["Bash"], skills=["pdf"],
        mcpServers=["calc"],
    )  # fmt: skip
    assert agent.tools + ["Grep"] == ["Read", "Grep"]
    assert agent.disallowed_tools == ["Bash"] and agent.mcp_servers + ["x"] == ["calc", "x"]
    assert dataclasses.replace(agent, skills=agent.skills + ["xlsx"]).skills == ["pdf", "xlsx"]

    async def hook(*args: Any) -> None:
        return None

    matcher = tc.HookMatcher(matcher="Bash", hooks=[hook])
    assert matcher.hooks + [hook] == [hook, hook]
    assert dataclasses.replace(matcher, hooks=matcher.hooks + [hook]).hooks == [hook, hook]


# ------------------------------------------------------------------- AgentDefinition names

#: The official dataclass's fields (claude_agent_sdk types.py, AgentDefinition).
OFFICIAL_AGENT_FIELDS = {
    "description": "d",
    "prompt": "p",
    "tools": ["Read"],
    "disallowedTools": ["Bash"],
    "model": "sonnet",
    "skills": ["pdf"],
    "memory": "project",
    "mcpServers": ["calc", {"inline": {"command": "x"}}],
    "initialPrompt": "start",
    "maxTurns": 3,
    "background": True,
    "effort": "high",
    "permissionMode": "plan",
}


def test_every_official_agent_field_reads_back_under_its_official_name() -> None:
    agent = tc.AgentDefinition(**OFFICIAL_AGENT_FIELDS)
    for name, value in OFFICIAL_AGENT_FIELDS.items():
        assert getattr(agent, name) == value, name
    assert (agent.maxTurns, agent.max_turns) == (3, 3)
    assert agent.initialPrompt == agent.initial_prompt == "start"
    assert agent.permissionMode == agent.permission_mode == "plan"
    assert agent.disallowedTools == agent.disallowed_tools
    assert agent.mcpServers == agent.mcp_servers
    unset = tc.AgentDefinition(description="d", prompt="p")
    assert (unset.maxTurns, unset.disallowedTools, unset.mcpServers) == (None, None, None)


@pytest.mark.parametrize("name", ["disallowedTools", "mcpServers", "initialPrompt", "maxTurns",
                                  "permissionMode"])  # fmt: skip
def test_the_official_names_are_read_only(name: str) -> None:
    agent = tc.AgentDefinition(description="d", prompt="p")
    with pytest.raises(AttributeError):
        setattr(agent, name, None)
