"""The doctor's fake-model session check, with stand-in CLIs (the real one: tests/e2e)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from trio_claude._install import EXTRA_DOCTOR_CHECKS, check_fake_model_session


def _script(path: Path, body: str) -> Path:
    path.write_text(
        '#!/bin/sh\nif [ "$1" = "--version" ]; then echo "2.1.329 (Claude Code)"; exit 0; fi\n'
        + body
    )
    path.chmod(0o755)
    return path


def test_it_is_registered_with_doctor() -> None:
    assert check_fake_model_session in EXTRA_DOCTOR_CHECKS


def test_no_cli_is_skipped_not_failed(tmp_path: Path) -> None:
    env = {"TRIO_CLAUDE_CLI": str(tmp_path / "missing"), "PATH": str(tmp_path)}
    check = check_fake_model_session(env)
    assert (check.name, check.status) == ("fake-model session", "info")
    assert "no claude CLI" in check.detail


def test_a_cli_that_crashes_fails_with_its_stderr_and_no_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Any secret-named variable the CLI inherits is masked. (Anthropic credentials themselves
    # never reach a test CLI: the test environment blanks them.)
    secret = "tok-very-secret-value"
    monkeypatch.setenv("DEPLOY_TOKEN", secret)
    cli = _script(tmp_path / "claude", 'echo "cannot start; token=$DEPLOY_TOKEN" >&2\nexit 3\n')
    monkeypatch.setenv("TRIO_CLAUDE_CLI", str(cli))
    check = check_fake_model_session()
    assert check.status == "fail"
    assert "ProcessError" in check.detail and "cannot start" in check.detail
    assert secret not in check.detail
    assert "token=" in check.detail  # the line is shown, with the value masked


def test_a_cli_that_hangs_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Its own duration: another Python's tier (CI runs them side by side) runs this test too,
    # and the check below looks at every process of the machine.
    sleep = f"sleep 61.{os.getpid()}"
    cli = _script(tmp_path / "claude", f"exec {sleep}\n")
    monkeypatch.setenv("TRIO_CLAUDE_CLI", str(cli))
    start = time.monotonic()
    check = check_fake_model_session(timeout=3.5)
    elapsed = time.monotonic() - start
    assert check.status == "fail"
    assert check.detail.startswith("did not complete within 3.5 s")
    # The CLI would sleep 61 s: a check that waited for it instead of stopping it takes that long.
    assert elapsed < 30, elapsed
    # the hung CLI was stopped with the session
    assert not [pid for pid, cmd in _processes() if cmd == sleep]


def _processes() -> list[tuple[str, str]]:
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmdline = Path("/proc", pid, "cmdline").read_bytes()
        except OSError:
            continue
        out.append((pid, cmdline.replace(b"\0", b" ").decode(errors="replace").strip()))
    return out
