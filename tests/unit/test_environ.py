"""The environment snapshot sessions copy for the CLI (``trio_claude/_environ.py``)."""

from __future__ import annotations

import os

import pytest

from trio_claude._environ import environ, environ_version


def test_the_snapshot_is_the_environment_and_is_reused_while_it_does_not_change() -> None:
    first = environ()
    assert first == dict(os.environ)
    version = environ_version()
    assert environ() is first
    assert environ_version() == version


def test_a_change_of_the_environment_is_seen_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    before = environ_version()
    monkeypatch.setenv("TRIO_CLAUDE_TEST_ENVIRON", "one")
    assert environ()["TRIO_CLAUDE_TEST_ENVIRON"] == "one"
    changed = environ_version()
    assert changed != before
    monkeypatch.setenv("TRIO_CLAUDE_TEST_ENVIRON", "two")  # same names, another value
    assert environ()["TRIO_CLAUDE_TEST_ENVIRON"] == "two"
    assert environ_version() != changed
    monkeypatch.delenv("TRIO_CLAUDE_TEST_ENVIRON")
    assert "TRIO_CLAUDE_TEST_ENVIRON" not in environ()
    assert environ() == dict(os.environ)
