"""Options parity with the official SDK 0.2.143 (sitting 18): ``skills`` as the official
``_reject_non_list_skills`` and ``_validate_skill_name`` refuse it, the outdated-CLI warning
naming the CLI, and two texts that could quote a credential (the ``can_use_tool`` shadowing
warning, the repr of an option holding a transport)."""

from __future__ import annotations

import dataclasses
import logging
import pickle
import warnings
from typing import Any

import attrs
import pytest

import trio_claude as tc
from trio_claude import ClaudeAgentOptions, ConfigurationError
from trio_claude._cli_version import outdated_cli_message, warn_if_outdated
from trio_claude._options import validate_options, warn_if_can_use_tool_shadowed
from trio_claude._transport._command import build_argv

SHAPED = "sk-ant-api03-" + "Q" * 40
PLAIN = "Zq8mVt3LpWx2Hn7Rk4Yd9Bc6Fg1Js5"

# ------------------------------------------------------------------------------ skills


@pytest.mark.parametrize(
    "skills",
    [("pdf",), {"pdf"}, frozenset({"pdf"}), (n for n in ["pdf"]), "pdf", b"pdf", 5],
    ids=["tuple", "set", "frozenset", "generator", "str", "bytes", "int"],
)
def test_skills_that_are_not_a_list_are_refused_when_the_options_are_made(skills: Any) -> None:
    with pytest.raises(TypeError) as info:
        ClaudeAgentOptions(skills=skills)
    assert isinstance(info.value, ConfigurationError)  # and so a ValueError
    assert str(info.value).startswith('skills must be a list of skill names or "all", got ')


def test_a_bare_string_gets_the_official_suggestion() -> None:
    with pytest.raises(ConfigurationError) as info:
        ClaudeAgentOptions(skills="pdf")  # type: ignore[arg-type]
    assert str(info.value) == (
        "skills must be a list of skill names or \"all\", got 'pdf'. Did you mean ['pdf']?"
    )


def test_a_key_given_as_skills_is_not_quoted() -> None:
    with pytest.raises(ConfigurationError) as info:
        ClaudeAgentOptions(skills=(SHAPED,))  # type: ignore[arg-type]
    assert SHAPED not in str(info.value)


def test_a_list_and_the_options_own_value_are_taken() -> None:
    options = ClaudeAgentOptions(skills=["pdf"])
    assert options.skills == ["pdf"] and isinstance(options.skills, tuple)
    # attrs.evolve and dataclasses.replace pass the stored value back through the converter.
    assert attrs.evolve(options, model="m").skills == ["pdf"]
    assert dataclasses.replace(options, skills=[*options.skills, "xlsx"]).skills == ["pdf", "xlsx"]  # type: ignore[type-var]
    assert pickle.loads(pickle.dumps(options)) == options
    assert ClaudeAgentOptions(skills=[]).skills == []
    assert ClaudeAgentOptions(skills="all").skills == "all"
    assert ClaudeAgentOptions(skills=None).skills is None


def test_a_name_that_is_not_a_string_is_a_type_error_too() -> None:
    options = ClaudeAgentOptions(skills=["pdf", 42])  # type: ignore[list-item]
    with pytest.raises(TypeError) as info:
        validate_options(options)
    assert isinstance(info.value, ConfigurationError)
    assert str(info.value) == ("skills[1]: Skill names must be strings, got int: 42")


# (name, the official text after "skills[0]: ")
OFFICIAL_TEXTS: list[tuple[str, str]] = [
    ("", "Skill names must be non-empty strings"),
    (" \t", "Skill names must be non-empty strings"),
    (
        " pdf",
        "Invalid skill name ' pdf': leading or trailing whitespace can never match \u2014 the "
        "Skill tool trims the invoked name.",
    ),
    (
        "a,b",
        "Invalid skill name 'a,b': parentheses, commas, control characters, and byte-order "
        "marks are not allowed. Names match the skill's directory name, or 'plugin:skill' for "
        "plugin-qualified skills.",
    ),
    ("csi\x9bend", "Invalid skill name 'csi\\x9bend': parentheses, commas, control"),
    ("\ufeffpdf", "Invalid skill name '\\ufeffpdf': parentheses, commas, control"),
    ("*", "Invalid skill name '*': use skills=\"all\" to enable every skill."),
    (
        "pdf:*",
        "Invalid skill name 'pdf:*': wildcard-suffix names are not allowed; list each skill by "
        "its exact name.",
    ),
    (
        "/pdf",
        "Invalid skill name '/pdf': skill names may not start with '/'. The skills option takes "
        "the canonical name, not the slash-command form.",
    ),
    (
        "a\\\\b",
        "Invalid skill name 'a\\\\\\\\b': consecutive backslashes are not allowed \u2014 the "
        "per-rule parser collapses them, so the rule would name a different skill.",
    ),
    ("a\\", "Invalid skill name 'a\\\\': names may not end with an unpaired backslash."),
]


@pytest.mark.parametrize(("name", "text"), OFFICIAL_TEXTS)
def test_a_refused_name_gets_the_official_text_after_naming_the_entry(name: str, text: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        validate_options(ClaudeAgentOptions(skills=[name]))
    assert not isinstance(info.value, TypeError)
    assert str(info.value).startswith(f"skills[0]: {text}")


def test_the_checks_run_in_the_official_order() -> None:
    # Whitespace before delimiters, "*" before the wildcard suffix, "/" before backslashes.
    for name, first in [(" a,b", "whitespace"), (" *", "whitespace"), ("/a\\", "start with")]:
        with pytest.raises(ConfigurationError, match=first):
            validate_options(ClaudeAgentOptions(skills=[name]))


def test_a_nul_in_a_name_says_both_why() -> None:
    with pytest.raises(ConfigurationError) as info:
        validate_options(ClaudeAgentOptions(skills=["ok", "nul\x00byte"]))
    message = str(info.value)
    assert message.startswith("skills[1]: contains a NUL byte (at index 3)")
    assert "Invalid skill name 'nul\\x00byte': parentheses, commas, control" in message


def test_accepted_names_become_skill_rules() -> None:
    names = ["pdf", "my-skill.v2", "plugin:skill", "a\\b", "with space"]
    options = ClaudeAgentOptions(skills=names)
    validate_options(options)
    argv = build_argv(options, "claude")
    assert "--allowedTools=" + ",".join(f"Skill({n})" for n in names) in argv


# ------------------------------------------------------------------- outdated CLI warning


def test_the_outdated_cli_warning_names_the_cli(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="trio_claude"):
        assert warn_if_outdated("1.0.0", cli_path="/opt/claude/bin/claude")
        assert not warn_if_outdated("99.0.0", cli_path="/opt/claude/bin/claude")
    (record,) = caplog.records
    assert record.getMessage().startswith("Claude Code CLI 1.0.0 at /opt/claude/bin/claude is ")
    assert outdated_cli_message("1.0.0").startswith("Claude Code CLI 1.0.0 is older than ")
    assert outdated_cli_message("1.0.0", cli_path=None) == outdated_cli_message("1.0.0")


# ------------------------------------------------------------------ texts holding a key


async def _allow(*args: Any) -> Any:
    return tc.PermissionResultAllow()


@pytest.mark.parametrize(
    "entry",
    [f"ANTHROPIC_API_KEY={SHAPED}", f"mcp__vault__{PLAIN}"],
    ids=["by-shape", "by-value"],
)
def test_the_shadowing_warning_masks_what_it_quotes(entry: str) -> None:
    options = ClaudeAgentOptions(
        can_use_tool=_allow, allowed_tools=["Read", entry], env={"GATEWAY_TOKEN": PLAIN}
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warn_if_can_use_tool_shadowed(options)
    (warning,) = caught
    text = str(warning.message)
    assert text.startswith("can_use_tool will not be invoked for: Read, ")
    assert PLAIN not in text and SHAPED not in text and "sk-ant-api03-QQQQ" not in text


class _Remote:
    def __init__(self) -> None:
        self.url = f"wss://bot:{PLAIN}@remote.example/cli"

    def __repr__(self) -> str:
        return f"_Remote(url={self.url!r})"


def test_the_repr_of_options_shows_only_the_transports_type() -> None:
    shown = repr(ClaudeAgentOptions(transport=_Remote()))
    assert "transport=<_Remote>" in shown and PLAIN not in shown
    assert "transport=None" in repr(ClaudeAgentOptions())
