"""An outdated CLI (by ``system/init`` or the initialize reply) is warned about once per session."""

from __future__ import annotations

import logging

import pytest

import trio_claude as tc
from trio_claude._cli_version import is_outdated, outdated_cli_message, warn_if_outdated
from trio_claude._version import MIN_CLI_VERSION
from trio_claude.testing.fake_cli import (
    Emit,
    FakeCLITransport,
    FakeScript,
    FakeTurn,
    Result,
    Text,
    init_frame,
)


def _init(version: str) -> Emit:
    return Emit(
        {**init_frame("00000000-0000-4000-8000-000000000001"), "claude_code_version": version}
    )


def _turn(version: str, text: str) -> FakeTurn:
    return FakeTurn(steps=(_init(version), Text(text), Result(text=text)), emit_init=False)


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "trio_claude"
        and r.levelno == logging.WARNING
        and "older than" in r.getMessage()
    ]


def test_is_outdated() -> None:
    assert is_outdated("1.9.99", "2.1.0")
    assert is_outdated("2.0.999 (Claude Code)", "2.1.0")
    assert not is_outdated("2.1.0", "2.1.0")
    assert not is_outdated("2.1.329", "2.1.0")
    assert not is_outdated("10.0.0", "2.1.0")
    assert not is_outdated(None)
    assert not is_outdated("")
    assert not is_outdated("nightly")


def test_warn_if_outdated_logs_a_clear_message(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="trio_claude"):
        assert warn_if_outdated("1.0.0")
        assert not warn_if_outdated(tc.CLI_VERSION)
    (message,) = _warnings(caplog)
    assert message == outdated_cli_message("1.0.0")
    assert "1.0.0" in message and MIN_CLI_VERSION in message and "install-cli" in message


async def test_old_cli_in_system_init_warns_once_per_session(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The initialize reply carries no version; system/init (every turn) reports an old one.
    script = FakeScript(
        turns=[_turn("1.0.42", "one"), _turn("1.0.42", "two")],
        initialize_response={"claude_code_version": None},
    )
    opts = tc.ClaudeAgentOptions(transport=FakeCLITransport(script))
    with caplog.at_level(logging.WARNING, logger="trio_claude"):
        async with tc.open_session(opts) as session:
            assert session.cli_version is None
            assert (await session.run("a")).text == "one"
            assert session.cli_version == "1.0.42"
            assert (await session.run("b")).text == "two"
    warnings = _warnings(caplog)
    assert len(warnings) == 1
    assert "1.0.42" in warnings[0]


async def test_old_cli_in_initialize_reply_warns_at_connect(
    caplog: pytest.LogCaptureFixture,
) -> None:
    script = FakeScript(
        turns=[_turn("1.5.0", "one")], initialize_response={"claude_code_version": "1.5.0"}
    )
    opts = tc.ClaudeAgentOptions(transport=FakeCLITransport(script))
    with caplog.at_level(logging.WARNING, logger="trio_claude"):
        async with tc.open_session(opts) as session:
            assert session.cli_version == "1.5.0"
            assert len(_warnings(caplog)) == 1  # before any turn
            await session.run("a")
    assert len(_warnings(caplog)) == 1


async def test_supported_cli_does_not_warn(caplog: pytest.LogCaptureFixture) -> None:
    script = FakeScript(turns=[FakeTurn.reply("fine")])
    opts = tc.ClaudeAgentOptions(transport=FakeCLITransport(script))
    with caplog.at_level(logging.WARNING, logger="trio_claude"):
        async with tc.open_session(opts) as session:
            await session.run("a")
            assert session.cli_version == tc.CLI_VERSION
    assert _warnings(caplog) == []
