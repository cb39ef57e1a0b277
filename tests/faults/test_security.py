"""Security review (issue 6 item 5): the command line, the child environment, and credentials.

- argv is built without a shell: values that look like flags, contain newlines or shell syntax
  reach the CLI as exactly one literal argument each (a stand-in CLI records its argv; the real
  CLI is shown to parse a flag-looking, multi-line system prompt as a value);
- ``CLAUDECODE`` (and the other nesting marker) never reaches the child;
- API keys do not show in errors (``ProcessError`` text and ``.stderr``, the initialize timeout),
  in log lines, in ``repr(options)``, or in ``doctor``'s report.

Permission callbacks failing closed and MCP input validation are tested with the callbacks
(``tests/integration/test_callbacks.py``, ``tests/unit/test_mcp.py``; see also
``test_callback_faults.py``).
"""

from __future__ import annotations

import json
import logging
import os
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
import trio

import trio_claude as tc
from trio_claude._install import DoctorCheck, run_doctor
from trio_claude._redact import redact, redact_repr, secret_values
from trio_claude._transport._command import build_argv
from trio_claude.testing import ClaudeTestEnv, Turn
from trio_claude.testing.fake_cli import FakeCLITransport, FakeScript

from ._support import ManualTransport

CLIS = Path(__file__).parent / "clis"
KEY = "sk-ant-api03-" + "Zx9" * 30  # shaped like a real Anthropic key
TOKEN = "tok_live_0123456789abcdef"  # a secret of no known shape


def stand_in_cli(tmp_path: Path) -> Path:
    """An executable that records its argv and environment, then exits 3."""
    path = tmp_path / "claude"
    path.write_text(f"#!{sys.executable}\n" + (CLIS / "dump_argv.py").read_text())
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


#: Values a shell would split, expand or run, and values a CLI parser would take for flags.
def hostile_values(tmp_path: Path) -> dict[str, Any]:
    pwned = tmp_path / "pwned"
    return {
        "system_prompt": f"--dangerously-skip-permissions\n$(touch {pwned}); `touch {pwned}`",
        "model": "-p",
        "fallback_model": "--print",
        "append": f"; touch {pwned} && echo 'quoted \"twice\"' | cat\n-x",
        "add_dir": "--help",
        "settings": '{"a": "$HOME", "b": "\\n"}',
        "extra": "--permission-mode=bypassPermissions",
    }


async def test_argv_reaches_the_cli_literally_without_a_shell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = stand_in_cli(tmp_path)
    record = tmp_path / "record.json"
    v = hostile_values(tmp_path)
    options = tc.ClaudeAgentOptions(
        cli_path=cli,
        system_prompt=v["system_prompt"],
        model=v["model"],
        fallback_model=v["fallback_model"],
        add_dirs=[v["add_dir"]],
        settings=v["settings"],
        settings_delivery="argv",  # on the command line, to check it arrives literally
        extra_args={"append-system-prompt": v["append"], "debug-to-stderr": None},
        env={"RECORD_TO": str(record)},
    )
    with pytest.raises(tc.ProcessError) as info:
        async with tc.open_session(options):
            pass
    assert info.value.exit_code == 3
    argv = json.loads(record.read_text())["argv"]
    assert argv == build_argv(options, str(cli))[1:]  # exactly what was built, token for token
    assert not (tmp_path / "pwned").exists()  # nothing was run by a shell
    # every flag-looking value is glued to its flag, so no parser can take it for a flag
    assert f"--system-prompt={v['system_prompt']}" in argv
    assert "--model=-p" in argv and "--fallback-model=--print" in argv
    assert "--add-dir=--help" in argv
    i = argv.index("--append-system-prompt")  # not flag-looking: two tokens, still one value
    assert argv[i + 1] == v["append"]
    assert argv[argv.index("--settings") + 1] == v["settings"]
    values = {a.split("=", 1)[1] for a in argv if a.startswith("--") and "=" in a}
    assert v["system_prompt"] in values  # the newline survived inside one argument
    # no argument is a bare flag-looking value that we did not put there as a flag
    flags = {a for a in argv if a.startswith("-")}
    assert "--dangerously-skip-permissions" not in flags and "-p" not in flags
    assert "--print" not in flags and "--help" not in flags


async def test_the_child_environment_drops_nesting_markers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAUDECODE", "1")
    monkeypatch.setenv("CLAUDE_AGENT_SDK_DERIVED_CLIENT_APP", "outer-app")
    monkeypatch.setenv("SOME_PARENT_VARIABLE", "kept")
    record = tmp_path / "record.json"
    options = tc.ClaudeAgentOptions(
        cli_path=stand_in_cli(tmp_path), env={"RECORD_TO": str(record), "MINE": "x"}
    )
    with pytest.raises(tc.ProcessError):
        async with tc.open_session(options):
            pass
    env = json.loads(record.read_text())["env"]
    assert "CLAUDECODE" not in env
    assert "CLAUDE_AGENT_SDK_DERIVED_CLIENT_APP" not in env
    assert env["SOME_PARENT_VARIABLE"] == "kept"  # merged over the parent environment
    assert env["MINE"] == "x"
    assert env["CLAUDE_CODE_ENTRYPOINT"] == "sdk-py"


@pytest.mark.e2e
async def test_the_real_cli_takes_a_flag_looking_multiline_prompt_as_a_value(
    claude_env: ClaudeTestEnv, tmp_path: Path
) -> None:
    pwned = tmp_path / "pwned"
    prompt = f"--dangerously-skip-permissions\n-p $(touch {pwned})\nAnswer briefly."
    options = claude_env.options([Turn("fine")], system_prompt=prompt)
    async with tc.open_session(options) as session:
        turn = await session.run("hello")
    assert turn.text == "fine"
    init = next(m for m in turn.messages if isinstance(m, tc.InitMessage))
    assert init.permission_mode == "default"  # not bypassPermissions
    (request,) = claude_env.model.turn_requests("t1")
    assert prompt in request.system_text  # the CLI used it verbatim, newlines and all
    assert request.last_user_text == "hello"
    assert not pwned.exists()


# ----------------------------------------------------------------------------- redaction


def test_redaction_by_shape_and_by_value() -> None:
    env = {"ANTHROPIC_AUTH_TOKEN": TOKEN, "HOME": "/home/someone", "MY_PASSWORD": "short"}
    secrets = secret_values(env)
    assert secrets == (TOKEN,)  # by name; short values are not masked everywhere
    text = (
        f"Invalid API key: {KEY}\nAuthorization: Bearer {TOKEN}\n"
        f'x-api-key: abcdef123456\nANTHROPIC_API_KEY=abcdefgh9 claude\n"{TOKEN}"\n'
        "exit code 1, pid=1234, tokens: 56789, /home/someone"
    )
    clean = redact(text, secrets)
    for secret in (KEY, TOKEN, "abcdef123456", "abcdefgh9"):
        assert secret not in clean
    assert "sk-ant-***" in clean and "Bearer ***" in clean
    assert "exit code 1, pid=1234, tokens: 56789, /home/someone" in clean  # the rest stays


async def test_process_error_and_stderr_tail_do_not_carry_keys(
    caplog: pytest.LogCaptureFixture,
) -> None:
    transport = ManualTransport()
    lines: list[str] = []

    async def cli() -> None:
        await transport.child_ready.wait()
        child = transport.child
        assert child is not None
        await child.handshake()
        await child.read_frame()
        await child.write(f"[DEBUG] POST /v1/messages x-api-key: {KEY}\n".encode())  # stdout
        await child.cli_stderr.send_all(
            f"Error: Invalid API key · {KEY}\nauth token {TOKEN} rejected\n".encode()
        )
        child.exit(1)

    caplog.set_level(logging.DEBUG, logger="trio_claude")
    options = tc.ClaudeAgentOptions(
        transport=transport, env={"ANTHROPIC_AUTH_TOKEN": TOKEN}, stderr=lines.append
    )
    async with trio.open_nursery() as nursery:
        nursery.start_soon(cli)
        async with tc.open_session(options) as session:
            await session.send("go")
            with pytest.raises(tc.ProcessError) as info:
                await session.collect_response()
            tail = session.stderr_tail
    error = info.value
    for shown in (str(error), error.stderr, repr(error), tail, caplog.text):
        assert KEY not in shown and TOKEN not in shown
    assert "Invalid API key" in str(error) and "sk-ant-***" in error.stderr
    assert "ignoring a line from the CLI" in caplog.text  # logged, masked
    # the user's own stderr callback gets the CLI's lines verbatim: that is their channel
    assert any(KEY in line for line in lines)


async def test_initialize_timeout_message_masks_keys(
    autojump_clock: trio.testing.MockClock,
) -> None:
    transport = ManualTransport()

    async def cli() -> None:
        await transport.child_ready.wait()
        child = transport.child
        assert child is not None
        await child.cli_stderr.send_all(f"using key {KEY}\n".encode())
        await child.exit_at_eof()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(cli)
        with pytest.raises(tc.CLIConnectionError) as info:
            async with tc.open_session(
                tc.ClaudeAgentOptions(transport=transport, initialize_timeout=5)
            ):
                pass
    assert "did not answer initialize" in str(info.value)
    assert "using key sk-ant-***" in str(info.value) and KEY not in str(info.value)


def test_repr_of_options_masks_credentials() -> None:
    options = tc.ClaudeAgentOptions(
        env={"ANTHROPIC_API_KEY": KEY},
        settings={"env": {"ANTHROPIC_AUTH_TOKEN": TOKEN}, "model": "opus"},
        mcp_servers={
            "gh": {"type": "stdio", "command": "gh-mcp", "env": {"GITHUB_TOKEN": TOKEN}},
            "web": {
                "type": "http",
                "url": "https://mcp.example/x",
                "headers": {"Authorization": f"Bearer {TOKEN}", "X-Trace": "on"},
            },
        },
        extra_args={"api-key-helper": KEY},
        transport=FakeCLITransport(FakeScript()),
    )
    text = repr(options)
    assert KEY not in text and TOKEN not in text
    # and what is not secret is still there to debug with
    assert "'model': 'opus'" in text and "gh-mcp" in text and "'X-Trace': 'on'" in text
    assert redact_repr({"nested": [{"password": "hunter2hunter2"}]}) == (
        "{'nested': [{'password': '***'}]}"
    )


def test_doctor_report_shows_no_secret() -> None:
    env = {
        **os.environ,
        "ANTHROPIC_API_KEY": KEY,
        "CLAUDE_CODE_OAUTH_TOKEN": TOKEN,
        "ANTHROPIC_BASE_URL": f"https://user:{TOKEN}@proxy.example/v1?key={KEY}",
    }
    checks = run_doctor(env, extra_checks=[])
    report = "\n".join(f"{c.name} {c.status} {c.detail}" for c in checks)
    assert KEY not in report and TOKEN not in report
    assert "ANTHROPIC_API_KEY info set (redacted)" in report
    assert "proxy.example" in report  # the URL is shown, without its credentials


def test_doctor_masks_keys_in_a_failing_checks_message() -> None:
    def leaky_check() -> DoctorCheck:
        raise RuntimeError(f"could not authenticate with {KEY}")

    env = {**os.environ, "ANTHROPIC_API_KEY": KEY}
    checks = run_doctor(env, extra_checks=[leaky_check])
    (failed,) = [c for c in checks if c.name == "leaky_check"]
    assert failed.status == "fail"
    assert KEY not in failed.detail
