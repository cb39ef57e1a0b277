"""``python -m trio_claude run|demo|doctor`` as subprocesses, with the real pinned CLI."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import trio

import trio_claude as tc
from trio_claude._demo import PROMPTS, REAL_MODEL, callbacks_available
from trio_claude._install import check_fake_model_session
from trio_claude._transport._discovery import find_cli
from trio_claude.testing import HTTPError, Turn, open_fake_model

SECRET = "sk-ant-this-must-never-be-printed"


def child_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The parent's environment without credentials, with an isolated HOME and config dir."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN"}
        and not k.startswith(("ANTHROPIC_BASE_URL", "NO_COLOR", "FORCE_COLOR"))
    }
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    for rc in (".bashrc", ".profile", ".bash_profile"):
        (home / rc).write_text("")
    env.update(
        HOME=str(home),
        CLAUDE_CONFIG_DIR=str(tmp_path / "config"),
        IS_SANDBOX="1",
        TRIO_CLAUDE_CLI=find_cli(),  # the per-user cache is found through the real HOME
    )
    env.pop("TERM", None)
    env.update(extra)
    return env


def processes_with_env(entry: str) -> list[int]:
    """Live processes whose environment contains ``entry`` (``NAME=value``)."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            environ = Path("/proc", pid, "environ").read_bytes().split(b"\0")
            state = Path("/proc", pid, "stat").read_text().rsplit(")", 1)[-1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z" and entry.encode() in environ:
            found.append(int(pid))
    return found


async def run_command(
    *args: str, env: dict[str, str], timeout: float = 30
) -> tuple[int, str, str, float]:
    start = time.monotonic()
    with trio.fail_after(timeout):
        proc = await trio.run_process(
            [sys.executable, "-m", "trio_claude", *args],
            stdin=b"",
            capture_stdout=True,
            capture_stderr=True,
            check=False,
            env=env,
        )
    return (
        proc.returncode,
        proc.stdout.decode(),
        proc.stderr.decode(),
        time.monotonic() - start,
    )


# -------------------------------------------------------------------------------- run


async def test_run_fake_streams_the_echo_and_the_result(tmp_path: Path) -> None:
    code, out, err, _ = await run_command("run", "--fake", "hi there", env=child_env(tmp_path))
    assert code == 0, err
    assert "You said: hi there" in out
    assert "✓ success" in out and "1 turn" in out and "$0." in out
    assert "\x1b[" not in out  # not a terminal: no colors


async def test_run_fake_partial_with_model_and_colors(tmp_path: Path) -> None:
    code, out, err, _ = await run_command(
        "run",
        "--fake",
        "--partial",
        "--model",
        "claude-haiku-4-5",
        "--max-turns",
        "2",
        "--color",
        "always",
        "streamed words",
        env=child_env(tmp_path),
    )
    assert code == 0, err
    assert "\x1b[" in out
    assert "[fake model claude-haiku-4-5] You said: streamed words" in out
    assert "model claude-haiku-4-5" in out


async def test_run_against_a_configured_api_reports_an_error_result(tmp_path: Path) -> None:
    """Without --fake the CLI uses the environment's API; an API error gives exit code 1."""
    script = [HTTPError(401, message="invalid x-api-key", repeat=True)]
    async with open_fake_model(script) as model:
        env = child_env(
            tmp_path,
            **{**model.cli_env(), "ANTHROPIC_API_KEY": SECRET},
            CLAUDE_CODE_MAX_RETRIES="0",
        )
        code, out, err, _ = await run_command("run", "hello", "--cwd", str(tmp_path), env=env)
    assert code == 1
    assert "✗" in out and "HTTP 401" in out
    assert "authentication_failed" in out
    assert SECRET not in out + err
    assert [r.status for r in model.turn_requests()] == [401]


async def test_run_rejects_bad_arguments(tmp_path: Path) -> None:
    code, _, err, _ = await run_command(
        "run", "--fake", "--max-turns", "0", "x", env=child_env(tmp_path)
    )
    assert code == 2 and "--max-turns" in err
    code, _, err, _ = await run_command(
        "run", "--fake", "--cwd", str(tmp_path / "missing"), "x", env=child_env(tmp_path)
    )
    assert code == 2 and "not a directory" in err


# ------------------------------------------------------------------------------- demo


async def test_demo_offline_shows_every_section(tmp_path: Path) -> None:
    code, out, err, _ = await run_command("demo", env=child_env(tmp_path))
    assert code == 0, err + out
    assert "built-in fake Messages API at http://127.0.0.1:" in out
    for heading in (
        "1. streaming",
        "2. a tool call",
        "3. a permission callback and a hook",
        "4. an interrupt by cancel scope",
        "5. cost and usage",
    ):
        assert heading in out
    # streamed text, the tool call and what the model made of its result
    assert "Hi! I'm the scripted model built into trio-claude" in out
    assert "Bash(ls -m)" in out
    assert "README.md, app.py, test_app.py" in out
    assert "It is a small Python project: README.md, app.py, test_app.py." in out
    # the permission callback and the hook
    if callbacks_available():
        assert "hook PreToolUse: Bash(echo hello from the agent)" in out
        assert "can_use_tool: Bash(echo hello from the agent) -> allow" in out
        assert "  ⎿  hello from the agent" in out
        assert re.search(r"can_use_tool: Write\(.*notes\.txt\) -> deny", out)
        assert "The echo ran, but saving was refused: writes are not allowed in this demo." in out
    else:
        assert "skipped: can_use_tool and hooks are not wired" in out
    # the interrupt, and the clean turn after it
    assert "cancelled by trio.move_on_after(1.0)" in out
    assert "Yes, still here: the interrupted essay left nothing behind." in out
    # cost and usage
    assert "cost" in out and "output tokens" in out
    assert re.search(r"interrupted +1 turn\(s\), drained by the session", out)
    assert "exited with code 0, no process left behind" in out
    assert "demo finished in" in out
    assert "\x1b[" not in out
    assert "Traceback" not in err


async def test_demo_with_a_key_says_so_and_uses_the_configured_api(tmp_path: Path) -> None:
    """With ANTHROPIC_API_KEY the demo uses the real API path (pointed at a fake model here)."""
    async with open_fake_model([Turn("ok from {model}", repeat=True)]) as model:
        env = child_env(tmp_path, **{**model.cli_env(), "ANTHROPIC_API_KEY": SECRET})
        code, out, err, _ = await run_command("demo", env=env)
    assert code == 0, err + out
    assert "this demo will use the real Anthropic API" in out
    assert f"ok from {REAL_MODEL}" in out
    assert SECRET not in out + err
    asked = [r.last_user_text for r in model.turn_requests()]
    expected = ["intro", "tool", "policy", "essay", "after"]
    if not callbacks_available():
        expected.remove("policy")
    assert asked == [PROMPTS[key] for key in expected]
    assert {r.model for r in model.turn_requests()} == {REAL_MODEL}


async def test_demo_fake_flag_stays_offline_with_a_key(tmp_path: Path) -> None:
    env = child_env(tmp_path, ANTHROPIC_API_KEY=SECRET, ANTHROPIC_BASE_URL="http://127.0.0.1:9")
    code, out, err, _ = await run_command("demo", "--fake", env=env)
    assert code == 0, err + out
    assert "real Anthropic API" not in out
    assert "built-in fake Messages API" in out
    assert SECRET not in out + err


def test_demo_output_closed_early_ends_quietly_and_leaves_no_process(tmp_path: Path) -> None:
    tag = f"pipe-{os.getpid()}-{tmp_path.name}"
    env = child_env(tmp_path, DEMO_PIPE_TEST=tag)  # inherited by the CLI the demo starts
    proc = subprocess.Popen(
        [sys.executable, "-m", "trio_claude", "demo"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert b"demo" in proc.stdout.readline()
    assert b"model" in proc.stdout.readline()  # written once the session (and CLI) is up
    proc.stdout.close()  # like `| head -2`
    try:
        code = proc.wait(timeout=30)
    finally:
        proc.kill()
    stderr = proc.stderr.read().decode()
    assert code == 141, stderr
    assert "Traceback" not in stderr
    assert not processes_with_env(f"DEMO_PIPE_TEST={tag}")


# ----------------------------------------------------------------------------- doctor


async def test_doctor_runs_a_fake_model_session_and_hides_keys(tmp_path: Path) -> None:
    env = child_env(tmp_path, ANTHROPIC_API_KEY=SECRET)
    code, out, err, _ = await run_command("doctor", env=env)
    assert code == 0, out + err
    (line,) = [line for line in out.splitlines() if "fake-model session" in line]
    assert line.split()[0] == "ok" and "completed offline" in line
    assert SECRET not in out + err


def test_fake_model_session_check_directly() -> None:
    check = check_fake_model_session()
    assert check.status == "ok", check.detail
    assert f"Claude Code {tc.CLI_VERSION}" in check.detail
