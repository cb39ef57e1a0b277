# ruff: noqa: E501  (official test bodies and names, kept as written)
"""The official SDK's transport tests (anthropics/claude-agent-sdk-python 0.2.143,
``tests/test_transport.py``, ``tests/test_subprocess_buffering.py`` and
``tests/test_mcp_large_output.py``), after the rename ``claude_agent_sdk`` -> ``trio_claude``: a
parity probe (see ``test_official_sdk_tests_after_rename.py``).

Each test names the official test it ports and asserts what that test asserts. Where
docs/migration.md documents a difference, the test asserts the documented trio-claude behaviour
and says so (``KNOWN DIFFERENCE``). A failing test here is a parity gap.

The official tests drive the private ``SubprocessCLITransport`` with ``unittest.mock`` in place of
anyio. Here each mock is the nearest seam of trio-claude:

- ``transport._build_command()`` is :func:`_build_command`: the options checked as a session
  open checks them (``validate_options``, whose ``ConfigurationError`` is a ``ValueError``), then
  ``build_argv`` with the given ``cli_path``. trio-claude writes a valued flag as one
  ``--flag=value`` argument (``_command.py``: the forms of the official SDK 0.2.190); the
  official 0.2.143 wrote most of them as two, ``--flag value``. The CLI reads both alike, so
  :func:`_build_command` shows the argv in 0.2.143's layout: ``--flag=value`` split in two for
  the flags in :data:`_OFFICIAL_TWO_TOKEN_FLAGS` (the ones 0.2.143 writes as two arguments),
  every other argument as it is (``--resume=...``, ``--session-id=...``,
  ``--setting-sources=...`` stay one argument, as in 0.2.143).
- ``patch("anyio.open_process")`` and the ``env``/``user`` it was called with are the
  :class:`~trio_claude.LaunchSpec` a transport is started with: a session is opened (``connect()``)
  on a :class:`~trio_claude.testing.fake_cli.FakeCLITransport`, which records it.
- ``read_messages()`` over a mocked ``TextReceiveStream`` is the session's sans-io protocol core
  (``ClaudeProtocol``, the framer and decoder every session reads stdout with), fed the same
  chunks as bytes, then the end of the stream; the messages are the frames it delivers
  (``message.raw``, the dict as the CLI wrote it).
- ``_handle_stderr()`` over a mocked stream is a session whose fake CLI's stderr is a memory
  stream the test writes the same chunks to (or, where the options keep a session from opening,
  the session's stderr reader, ``StderrTail``, fed the chunks).
- ``close()`` over a mocked process is ``shutdown_process`` (what a session's close runs) over a
  :class:`~trio_claude.ChildProcess` double; the grace periods pass on trio's
  ``autojump_clock`` (the official patches ``anyio.fail_after``).
- ``parse_message`` is ``trio_claude._protocol._codec.decode_message``.

Left out (they test what trio-claude does not have by design):

- ``test_transport.py::TestSubprocessCLITransport::test_concurrent_writes_fail_without_lock``:
  it swaps the official transport's private ``_write_lock`` for a no-op to show trio's
  ``BusyResourceError``; trio-claude has no such lock to remove (the session writes from one
  place). Its positive half, ``test_concurrent_writes_are_serialized``, is ported.
- ``test_transport.py::TestAtexitChildCleanup::test_kill_active_children_terminates_process``:
  the official private atexit registry (``_ACTIVE_CHILDREN``, ``_kill_active_children``);
  trio-claude stops orphaned CLIs with its guardian process and the parent-death signal
  (``tests/integration/test_guardian.py``).
- ``test_transport.py::TestWindowsBatchScriptRefusal``: ``test_npm_cmd_shim_from_which_is_refused``,
  ``test_native_exe_is_preferred_over_shadowing_npm_shim``, ``test_claude_exe_probe_result_is_vetted``,
  ``test_extensionless_which_hit_still_prefers_native_exe``, ``test_explicit_bat_cli_path_is_refused``,
  ``test_suffix_tricks_are_refused``, ``test_native_exe_is_allowed_on_windows``,
  ``test_not_found_message_on_windows_recommends_native_exe``,
  ``test_fallback_locations_find_native_windows_exe``, ``test_windows_fallback_skips_posix_shaped_probes``:
  Windows-only paths, reached by patching the official module's ``platform.system``; trio-claude
  decides on Windows by ``sys.platform`` at import, and these cannot run on this POSIX suite. The
  POSIX tests of that class are ported.
- ``test_transport.py::TestWindowsCmdMetacharacterRejection``: ``test_bad_resume_values_raise_on_windows``,
  ``test_bad_session_id_raises_on_windows``, ``test_bad_truncating_resume_values_raise_on_windows``,
  ``test_ordinary_title_is_accepted_on_windows``: Windows-only, as above;
  ``test_posix_allows_metacharacters`` is ported.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, get_args
from unittest.mock import MagicMock, patch

import attrs
import pytest
import trio
import trio.testing

import trio_claude as tc
from trio_claude import (
    ClaudeAgentOptions,
    CLIConnectionError,
    CLINotFoundError,
    ConfigurationError,
    SandboxSettings,
    ToolResultBlock,
    UserMessage,
)
from trio_claude._options import validate_options
from trio_claude._protocol._codec import decode_message
from trio_claude._protocol._connection import ClaudeProtocol
from trio_claude._transport._base import ChildProcess, LaunchSpec
from trio_claude._transport._command import build_argv, build_initialize
from trio_claude._transport._process import shutdown_process
from trio_claude._util import StderrTail
from trio_claude._version import __version__ as _TRIO_CLAUDE_VERSION
from trio_claude.testing.fake_cli import FakeCLIProcessTransport, FakeCLITransport, FakeScript
from trio_claude.types import AgentDefinition, Message

DEFAULT_CLI_PATH = "/usr/bin/claude"
_ABSENT = object()  # sentinel for "field not sent on the wire"


def make_options(**kwargs: Any) -> ClaudeAgentOptions:
    """Construct options using the standard CLI path unless overridden."""

    cli_path = kwargs.pop("cli_path", DEFAULT_CLI_PATH)
    return ClaudeAgentOptions(cli_path=cli_path, **kwargs)


#: The flags the official 0.2.143 ``_build_command`` writes as two arguments (``--flag value``).
_OFFICIAL_TWO_TOKEN_FLAGS = frozenset(
    {
        "--system-prompt",
        "--system-prompt-file",
        "--append-system-prompt",
        "--tools",
        "--allowedTools",
        "--max-turns",
        "--max-budget-usd",
        "--disallowedTools",
        "--task-budget",
        "--model",
        "--fallback-model",
        "--betas",
        "--permission-prompt-tool",
        "--permission-mode",
        "--settings",
        "--add-dir",
        "--mcp-config",
        "--plugin-dir",
        "--thinking",
        "--max-thinking-tokens",
        "--thinking-display",
        "--effort",
        "--json-schema",
    }
)


def _build_command(options: ClaudeAgentOptions) -> list[str]:
    """The official ``transport._build_command()``: trio-claude's argv for ``options`` (checked
    as a session open checks them), in the official 0.2.143 token layout (module docstring)."""
    validate_options(options)
    cli = os.fspath(options.cli_path) if options.cli_path is not None else "claude"
    cmd: list[str] = []
    for arg in build_argv(options, cli):
        flag, eq, value = arg.partition("=")
        if eq and flag in _OFFICIAL_TWO_TOKEN_FLAGS:
            cmd.extend((flag, value))
        else:
            cmd.append(arg)
    return cmd


async def _launch(options: ClaudeAgentOptions) -> LaunchSpec:
    """The official ``await transport.connect()`` with ``anyio.open_process`` mocked: a session
    is opened and closed on a fake CLI; what the transport was started with is returned."""
    transport = FakeCLITransport()
    with trio.fail_after(10):
        async with tc.open_session(attrs.evolve(options, transport=transport)):
            pass
    (spec,) = transport.specs
    return spec


# =============================================================================================
# tests/test_transport.py
# =============================================================================================


# port of test_transport.py::TestSubprocessCLITransport::test_find_cli_not_found
# (the official patches its module's shutil.which and Path.exists; trio-claude's discovery
# probes with shutil.which and Path.is_file, so both are patched, and $TRIO_CLAUDE_CLI is unset)
async def test_find_cli_not_found():
    options = ClaudeAgentOptions()
    assert options.cli_path is None

    env = {k: v for k, v in os.environ.items() if k != "TRIO_CLAUDE_CLI"}
    env["TRIO_CLAUDE_PORT_PROBE"] = uuid.uuid4().hex  # a fresh environment: no cached discovery
    with (
        patch.dict(os.environ, env, clear=True),
        patch("shutil.which", return_value=None),
        patch("pathlib.Path.exists", return_value=False),
        patch("pathlib.Path.is_file", return_value=False),
        pytest.raises(CLINotFoundError) as exc_info,
    ):
        async with tc.open_session(options):
            pass  # pragma: no cover - never opened

    assert "Claude Code not found" in str(exc_info.value)


# port of test_transport.py::TestSubprocessCLITransport::test_init_does_not_call_find_cli
# (the official checks transport._cli_path is None after __init__: here, making a client does
# not run the discovery)
def test_init_does_not_call_find_cli():
    with patch("trio_claude._transport._discovery.find_cli") as find_cli:
        tc.ClaudeSDKClient(options=ClaudeAgentOptions())
    find_cli.assert_not_called()


# port of test_transport.py::TestSubprocessCLITransport::test_init_uses_provided_cli_path
def test_init_uses_provided_cli_path():
    cmd = _build_command(ClaudeAgentOptions(cli_path="/usr/bin/claude"))
    assert cmd[0] == "/usr/bin/claude"


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_basic
def test_build_command_basic():
    cmd = _build_command(make_options())
    assert cmd[0] == "/usr/bin/claude"
    assert "--output-format" in cmd
    assert "stream-json" in cmd
    # Always use streaming mode (matching TypeScript SDK)
    assert "--input-format" in cmd
    assert "--print" not in cmd  # Never use --print anymore
    # Prompt is sent via stdin, not CLI args
    assert "--system-prompt" in cmd
    assert cmd[cmd.index("--system-prompt") + 1] == ""


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_include_hook_events
def test_build_command_include_hook_events():
    cmd = _build_command(make_options(include_hook_events=True))
    assert "--include-hook-events" in cmd

    cmd_off = _build_command(make_options())
    assert "--include-hook-events" not in cmd_off


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_strict_mcp_config
def test_build_command_strict_mcp_config():
    assert "--strict-mcp-config" in _build_command(make_options(strict_mcp_config=True))
    assert "--strict-mcp-config" not in _build_command(make_options())


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_resume_and_session_id
def test_build_command_resume_and_session_id():
    session_id = "8f8b1c0e-2b1e-4a3f-9c2d-5e6f7a8b9c0d"
    # KNOWN DIFFERENCE (migration.md, "Messages and options": options the CLI would refuse at
    # start-up are refused when the session opens): a session_id given with resume but without
    # fork_session=True is a ConfigurationError naming it; with fork_session=True the flags
    # are as the official test asserts.
    with pytest.raises(ConfigurationError, match="session_id"):
        _build_command(make_options(resume="abc123", session_id=session_id))
    cmd = _build_command(make_options(resume="abc123", session_id=session_id, fork_session=True))

    assert "--resume=abc123" in cmd
    assert f"--session-id={session_id}" in cmd
    # Never emitted as two separate argv tokens.
    assert "--resume" not in cmd
    assert "--session-id" not in cmd
    assert "abc123" not in cmd
    assert session_id not in cmd


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_resume_session_at_and_drops_turn
def test_build_command_resume_session_at_and_drops_turn():
    at = "0d78eb23-2d48-4741-b970-4ed0a3356cce"
    drops = "ce0a8011-2c8d-40f2-86e5-d6e1b0c041c0"
    cmd = _build_command(
        make_options(
            resume="abc123",
            fork_session=True,
            resume_session_at=at,
            resume_drops_turn=drops,
        )
    )

    assert f"--resume-session-at={at}" in cmd
    assert f"--resume-drops-turn={drops}" in cmd
    assert "--resume-session-at" not in cmd
    assert "--resume-drops-turn" not in cmd
    assert at not in cmd
    assert drops not in cmd


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_resume_drops_turn_omitted_by_default
def test_build_command_resume_drops_turn_omitted_by_default():
    cmd = _build_command(make_options(resume="abc123", resume_session_at="x"))
    assert "--resume-session-at=x" in cmd
    assert not any(a.startswith("--resume-drops-turn") for a in cmd)


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_empty_resume_drops_turn_is_forwarded
def test_build_command_empty_resume_drops_turn_is_forwarded():
    """An empty declaration must reach the CLI (which rejects it) rather
    than being dropped here and silently disarming the guard."""
    cmd = _build_command(make_options(resume="abc123", resume_session_at="x", resume_drops_turn=""))
    assert "--resume-drops-turn=" in cmd


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_resume_and_session_id_do_not_inject_flags
def test_build_command_resume_and_session_id_do_not_inject_flags():
    # KNOWN DIFFERENCE (migration.md, "Messages and options": options the CLI would refuse at
    # start-up are refused when the session opens): session_id="-r" is not a UUID, and is
    # given with resume without fork_session, so the options are refused before any argv is
    # built; resume alone is bound to its flag as the official test asserts.
    with pytest.raises(ConfigurationError, match="session_id"):
        _build_command(make_options(resume="--evil", session_id="-r"))
    cmd = _build_command(make_options(resume="--evil"))

    assert "--resume=--evil" in cmd
    # The injected values never appear as standalone argv tokens...
    assert "--evil" not in cmd
    assert "-r" not in cmd
    # ...nor do the bare flags that would let the next token detach.
    assert "--resume" not in cmd
    assert "--session-id" not in cmd


# port of test_transport.py::TestSubprocessCLITransport::test_cli_path_accepts_pathlib_path
def test_cli_path_accepts_pathlib_path():
    path = Path("/usr/bin/claude")
    cmd = _build_command(ClaudeAgentOptions(cli_path=path))

    # Path object is converted to string, compare with str(path)
    assert cmd[0] == str(path)


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_with_effort_xhigh
def test_build_command_with_effort_xhigh():
    cmd = _build_command(make_options(effort="xhigh"))
    assert "--effort" in cmd
    assert cmd[cmd.index("--effort") + 1] == "xhigh"


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_with_system_prompt_string
def test_build_command_with_system_prompt_string():
    cmd = _build_command(make_options(system_prompt="Be helpful"))
    assert "--system-prompt" in cmd
    assert "Be helpful" in cmd


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_with_system_prompt_preset
def test_build_command_with_system_prompt_preset():
    cmd = _build_command(make_options(system_prompt={"type": "preset", "preset": "claude_code"}))
    assert "--system-prompt" not in cmd
    assert "--append-system-prompt" not in cmd


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_with_system_prompt_preset_and_append
def test_build_command_with_system_prompt_preset_and_append():
    cmd = _build_command(
        make_options(
            system_prompt={
                "type": "preset",
                "preset": "claude_code",
                "append": "Be concise.",
            },
        )
    )
    assert "--system-prompt" not in cmd
    assert "--append-system-prompt" in cmd
    assert "Be concise." in cmd


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_with_system_prompt_file
def test_build_command_with_system_prompt_file():
    cmd = _build_command(make_options(system_prompt={"type": "file", "path": "/path/to/prompt.md"}))
    assert "--system-prompt" not in cmd
    assert "--append-system-prompt" not in cmd
    assert "--system-prompt-file" in cmd
    assert "/path/to/prompt.md" in cmd


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_with_options
def test_build_command_with_options():
    cmd = _build_command(
        make_options(
            allowed_tools=["Read", "Write"],
            disallowed_tools=["Bash"],
            model="claude-sonnet-4-5",
            permission_mode="acceptEdits",
            max_turns=5,
        )
    )
    assert "--allowedTools" in cmd
    assert "Read,Write" in cmd
    assert "--disallowedTools" in cmd
    assert "Bash" in cmd
    assert "--model" in cmd
    assert "claude-sonnet-4-5" in cmd
    assert "--permission-mode" in cmd
    assert "acceptEdits" in cmd
    assert "--max-turns" in cmd
    assert "5" in cmd


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_with_dont_ask_permission_mode
def test_build_command_with_dont_ask_permission_mode():
    cmd = _build_command(make_options(permission_mode="dontAsk"))
    assert "--permission-mode" in cmd
    assert "dontAsk" in cmd


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_with_fallback_model
def test_build_command_with_fallback_model():
    cmd = _build_command(make_options(model="opus", fallback_model="sonnet"))
    assert "--model" in cmd
    assert "opus" in cmd
    assert "--fallback-model" in cmd
    assert "sonnet" in cmd


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_with_task_budget
def test_build_command_with_task_budget():
    cmd = _build_command(make_options(task_budget={"total": 100000}))
    assert "--task-budget" in cmd
    assert "100000" in cmd


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_without_task_budget
def test_build_command_without_task_budget():
    cmd = _build_command(make_options())
    assert "--task-budget" not in cmd


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_with_max_thinking_tokens
def test_build_command_with_max_thinking_tokens():
    cmd = _build_command(make_options(max_thinking_tokens=5000))
    assert "--max-thinking-tokens" in cmd
    assert "5000" in cmd


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_with_thinking
@pytest.mark.parametrize(
    ("thinking", "expected", "absent"),
    [
        ({"type": "adaptive"}, ["--thinking", "adaptive"], "--max-thinking-tokens"),
        (
            {"type": "enabled", "budget_tokens": 5000},
            ["--max-thinking-tokens", "5000"],
            "--thinking",
        ),
        ({"type": "disabled"}, ["--thinking", "disabled"], "--max-thinking-tokens"),
    ],
)
def test_build_command_with_thinking(thinking, expected, absent):
    cmd = _build_command(make_options(thinking=thinking))
    idx = cmd.index(expected[0])
    assert cmd[idx : idx + 2] == expected
    assert absent not in cmd


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_thinking_display_forwarded
@pytest.mark.parametrize(
    ("thinking", "expected_display"),
    [
        (
            {"type": "adaptive", "display": "summarized"},
            ["--thinking-display", "summarized"],
        ),
        (
            {"type": "enabled", "budget_tokens": 20000, "display": "omitted"},
            ["--thinking-display", "omitted"],
        ),
    ],
)
def test_build_command_thinking_display_forwarded(thinking, expected_display):
    cmd = _build_command(make_options(thinking=thinking))
    idx = cmd.index(expected_display[0])
    assert cmd[idx : idx + 2] == expected_display


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_thinking_without_display
def test_build_command_thinking_without_display():
    cmd = _build_command(make_options(thinking={"type": "adaptive"}))
    assert "--thinking-display" not in cmd


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_thinking_display_with_enabled_budget
def test_build_command_thinking_display_with_enabled_budget():
    cmd = _build_command(
        make_options(thinking={"type": "enabled", "budget_tokens": 20000, "display": "omitted"})
    )
    budget_idx = cmd.index("--max-thinking-tokens")
    assert cmd[budget_idx : budget_idx + 2] == ["--max-thinking-tokens", "20000"]
    display_idx = cmd.index("--thinking-display")
    assert cmd[display_idx : display_idx + 2] == ["--thinking-display", "omitted"]


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_thinking_precedence_over_max_thinking_tokens
def test_build_command_thinking_precedence_over_max_thinking_tokens():
    cmd = _build_command(make_options(thinking={"type": "adaptive"}, max_thinking_tokens=9999))
    idx = cmd.index("--thinking")
    assert cmd[idx : idx + 2] == ["--thinking", "adaptive"]
    assert "--max-thinking-tokens" not in cmd


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_with_add_dirs
def test_build_command_with_add_dirs():
    dir1 = "/path/to/dir1"
    dir2 = Path("/path/to/dir2")
    cmd = _build_command(make_options(add_dirs=[dir1, dir2]))

    # Check that both directories are in the command
    assert "--add-dir" in cmd
    add_dir_indices = [i for i, x in enumerate(cmd) if x == "--add-dir"]
    assert len(add_dir_indices) == 2

    # The directories should appear after --add-dir flags
    dirs_in_cmd = [cmd[i + 1] for i in add_dir_indices]
    assert dir1 in dirs_in_cmd
    assert str(dir2) in dirs_in_cmd


# port of test_transport.py::TestSubprocessCLITransport::test_session_continuation
def test_session_continuation():
    cmd = _build_command(make_options(continue_conversation=True, resume="session-123"))
    assert "--continue" in cmd
    assert "--resume=session-123" in cmd


# port of test_transport.py::TestSubprocessCLITransport::test_session_id
def test_session_id():
    cmd = _build_command(make_options(session_id="550e8400-e29b-41d4-a716-446655440000"))
    assert "--session-id=550e8400-e29b-41d4-a716-446655440000" in cmd


# port of test_transport.py::TestSubprocessCLITransport::test_session_id_not_set_by_default
def test_session_id_not_set_by_default():
    cmd = _build_command(make_options())
    assert not any(arg.startswith("--session-id") for arg in cmd)


class _RecordedChild(ChildProcess):
    """A started fake CLI whose ``terminate``/``kill``/``wait`` calls are recorded (the
    official test's ``MagicMock`` process)."""

    def __init__(self, inner: ChildProcess) -> None:
        self.inner = inner
        self.stdin = inner.stdin
        self.stdout = inner.stdout
        self.stderr = inner.stderr
        self.pid = inner.pid
        self.calls: list[str] = []

    @property
    def returncode(self) -> int | None:
        return self.inner.returncode

    async def wait(self) -> int:
        self.calls.append("wait")
        return await self.inner.wait()

    def terminate(self) -> None:
        self.calls.append("terminate")
        self.inner.terminate()

    def kill(self) -> None:
        self.calls.append("kill")
        self.inner.kill()


class _RecordingTransport(FakeCLITransport):
    child: _RecordedChild | None = None

    async def start(self, spec: LaunchSpec, nursery: trio.Nursery) -> ChildProcess:
        self.child = _RecordedChild(await super().start(spec, nursery))
        return self.child


# port of test_transport.py::TestSubprocessCLITransport::test_connect_close
async def test_connect_close():
    transport = _RecordingTransport()
    with trio.fail_after(10):
        async with tc.open_session(make_options(transport=transport)) as session:
            assert transport.child is not None
            assert not session.closed
    # After stdin EOF, the process is given time to exit
    # gracefully. Since the fake exits at stdin EOF, terminate
    # should NOT be called.
    assert transport.child is not None
    assert "terminate" not in transport.child.calls
    assert "wait" in transport.child.calls


# port of test_transport.py::TestSubprocessCLITransport::test_read_messages
# (the official only checks the private _prompt and _cli_path of a constructed transport:
# here the prompt reaches the CLI's stdin, read back as messages, and the CLI path is argv[0];
# a session runs it: the iterator form of query() refuses an in-process fake CLI, see
# docs/migration.md, "query()")
async def test_read_messages():
    transport = FakeCLITransport()
    with trio.fail_after(10):
        async with tc.open_session(make_options(transport=transport)) as session:
            await session.run("test")
    assert transport.fake is not None
    (prompt,) = [f for f in transport.fake.received if f.get("type") == "user"]
    assert prompt["message"]["content"] == "test"
    assert transport.specs[0].argv[0] == "/usr/bin/claude"


# port of test_transport.py::TestSubprocessCLITransport::test_connect_with_nonexistent_cwd
# (the official's /usr/bin/claude is not installed here, and trio-claude checks an explicit
# cli_path before spawning: an executable that exists stands in for it)
async def test_connect_with_nonexistent_cwd():
    options = make_options(cli_path=sys.executable, cwd="/this/directory/does/not/exist")

    with pytest.raises(CLIConnectionError) as exc_info:
        async with tc.open_session(options):
            pass  # pragma: no cover - never opened

    assert "/this/directory/does/not/exist" in str(exc_info.value)


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_with_settings_file
def test_build_command_with_settings_file():
    cmd = _build_command(make_options(settings="/path/to/settings.json"))
    assert "--settings" in cmd
    assert "/path/to/settings.json" in cmd


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_with_settings_json
def test_build_command_with_settings_json():
    settings_json = '{"permissions": {"allow": ["Bash(ls:*)"]}}'
    # KNOWN DIFFERENCE (migration.md, "Messages and options": inline settings and stdio/sse/http
    # mcp_servers go in the initialize request, off the command line): by default the settings
    # (sandbox merged in) are in build_initialize(options), not on argv; with
    # settings_delivery="argv" the command line is the official one, asserted as the official
    # test does.
    options = make_options(settings=settings_json)
    cmd = _build_command(options)
    assert "--settings" not in cmd and settings_json not in cmd
    assert "--initialize-fields=settings" in cmd
    assert build_initialize(options)["settings"] == json.loads(settings_json)

    cmd = _build_command(attrs.evolve(options, settings_delivery="argv"))
    assert "--settings" in cmd
    assert settings_json in cmd


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_setting_sources_omitted_when_not_provided
def test_build_command_setting_sources_omitted_when_not_provided():
    cmd = _build_command(make_options())
    assert not any(a.startswith("--setting-sources") for a in cmd)


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_setting_sources_empty_list_disables_all
def test_build_command_setting_sources_empty_list_disables_all():
    cmd = _build_command(make_options(setting_sources=[]))
    assert "--setting-sources=" in cmd


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_setting_sources_included_when_provided
def test_build_command_setting_sources_included_when_provided():
    cmd = _build_command(make_options(setting_sources=["user", "project"]))
    assert "--setting-sources=user,project" in cmd


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_skills_none_leaves_options_untouched
def test_build_command_skills_none_leaves_options_untouched():
    cmd = _build_command(make_options())
    assert "--allowedTools" not in cmd
    assert not any(a.startswith("--setting-sources") for a in cmd)


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_skills_all_enables_skill_tool
def test_build_command_skills_all_enables_skill_tool():
    cmd = _build_command(make_options(skills="all"))
    assert "--allowedTools" in cmd
    assert cmd[cmd.index("--allowedTools") + 1] == "Skill"
    assert "--setting-sources=user,project" in cmd


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_skills_empty_list_adds_no_skill_entries
def test_build_command_skills_empty_list_adds_no_skill_entries():
    cmd = _build_command(make_options(skills=[]))
    assert "--allowedTools" not in cmd
    assert "--setting-sources=user,project" in cmd


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_skills_named_list_uses_skill_patterns
def test_build_command_skills_named_list_uses_skill_patterns():
    cmd = _build_command(make_options(skills=["pdf", "docx"]))
    assert "--allowedTools" in cmd
    assert cmd[cmd.index("--allowedTools") + 1] == "Skill(pdf),Skill(docx)"
    assert "--setting-sources=user,project" in cmd


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_skills_merges_with_existing_allowed_tools
def test_build_command_skills_merges_with_existing_allowed_tools():
    cmd = _build_command(make_options(allowed_tools=["Read", "Write"], skills=["pdf"]))
    assert cmd[cmd.index("--allowedTools") + 1] == "Read,Write,Skill(pdf)"


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_skills_preserves_user_setting_sources
def test_build_command_skills_preserves_user_setting_sources():
    cmd = _build_command(make_options(skills="all", setting_sources=["local"]))
    assert "--setting-sources=local" in cmd


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_skills_does_not_mutate_options
def test_build_command_skills_does_not_mutate_options():
    options = make_options(allowed_tools=["Read"], skills=["pdf"])
    _build_command(options)
    assert options.allowed_tools == ["Read"]
    assert options.setting_sources is None


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_skills_does_not_duplicate_entries
def test_build_command_skills_does_not_duplicate_entries():
    cmd = _build_command(make_options(allowed_tools=["Skill(pdf)"], skills=["pdf"]))
    assert cmd[cmd.index("--allowedTools") + 1] == "Skill(pdf)"


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_skills_rejects_rule_syntax_delimiters
@pytest.mark.parametrize(
    "hostile_name",
    [
        # Names containing rule-syntax delimiters cannot be represented
        # as a single Skill(name) entry and must be rejected, never
        # formatted into the --allowedTools value.
        "x),Bash(*",
        "safe),Bash,Skill(dummy",
        "name,with,commas",
        "unbalanced(",
        "unbalanced)",
        "()",
    ],
)
def test_build_command_skills_rejects_rule_syntax_delimiters(hostile_name: str):
    options = make_options(skills=[hostile_name])
    with pytest.raises(ValueError, match="Invalid skill name"):
        _build_command(options)


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_skills_rejects_control_characters
@pytest.mark.parametrize(
    "hostile_name",
    ["with\nnewline", "with\ttab", "nul\x00byte", "del\x7fchar"],
)
def test_build_command_skills_rejects_control_characters(hostile_name: str):
    options = make_options(skills=[hostile_name])
    with pytest.raises(ValueError, match="Invalid skill name"):
        _build_command(options)


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_skills_rejects_empty_names
@pytest.mark.parametrize("empty_name", ["", " ", "  \t "])
def test_build_command_skills_rejects_empty_names(empty_name: str):
    options = make_options(skills=[empty_name])
    with pytest.raises(ValueError, match="non-empty"):
        _build_command(options)


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_skills_rejects_non_string_names
def test_build_command_skills_rejects_non_string_names():
    options = make_options(skills=[42])
    with pytest.raises(TypeError, match="must be strings"):
        _build_command(options)


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_skills_rejects_wildcard_suffix_names
@pytest.mark.parametrize("wildcard_name", ["pdf:*", "my skill *", ":*"])
def test_build_command_skills_rejects_wildcard_suffix_names(wildcard_name: str):
    options = make_options(skills=[wildcard_name])
    with pytest.raises(ValueError, match="wildcard-suffix"):
        _build_command(options)


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_skills_rejects_a_bare_string
@pytest.mark.parametrize("skills", ["pdf", "pdf-tools", "ALL"])
def test_build_command_skills_rejects_a_bare_string(skills: str):
    """A string is iterable, so skills="pdf" would build Skill(p),Skill(d),..."""
    # KNOWN DIFFERENCE (migration.md, "Messages and options": skills given as anything but a
    # list or "all" is refused when the options are made): the same TypeError and text (a
    # ConfigurationError too), raised by ClaudeAgentOptions(skills=...), not _build_command.
    with pytest.raises(TypeError, match="must be a list of skill names") as info:
        make_options(skills=skills)
    assert isinstance(info.value, ConfigurationError)
    assert f"Did you mean [{skills!r}]?" in str(info.value)


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_skills_rejects_non_list_iterables
@pytest.mark.parametrize(
    "skills",
    [("pdf",), {"pdf"}, (n for n in ["pdf"])],
    ids=["tuple", "set", "generator"],
)
def test_build_command_skills_rejects_non_list_iterables(skills):
    """These build Skill(name) rules but are dropped from initialize, so the
    session skill filter is never installed."""
    # KNOWN DIFFERENCE (migration.md, "Messages and options": skills given as anything but a
    # list or "all" is refused when the options are made): the same TypeError and text (a
    # ConfigurationError too), raised by ClaudeAgentOptions(skills=...), not _build_command.
    with pytest.raises(TypeError, match="must be a list of skill names") as info:
        make_options(skills=skills)
    assert isinstance(info.value, ConfigurationError)


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_skills_rejects_bare_wildcard
def test_build_command_skills_rejects_bare_wildcard():
    options = make_options(skills=["*"])
    with pytest.raises(ValueError, match='use skills="all"'):
        _build_command(options)


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_skills_rejects_unpaired_trailing_backslash
def test_build_command_skills_rejects_unpaired_trailing_backslash():
    options = make_options(skills=["name\\"])
    with pytest.raises(ValueError, match="unpaired backslash"):
        _build_command(options)


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_skills_rejects_consecutive_backslashes
@pytest.mark.parametrize("hostile_name", ["name\\\\", "name\\\\\\", "mid\\\\dle"])
def test_build_command_skills_rejects_consecutive_backslashes(hostile_name: str):
    options = make_options(skills=[hostile_name])
    with pytest.raises(ValueError, match="consecutive backslashes"):
        _build_command(options)


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_skills_rejects_byte_order_marks
@pytest.mark.parametrize("hostile_name", ["\ufeffpdf", "pdf\ufeff"])
def test_build_command_skills_rejects_byte_order_marks(hostile_name: str):
    options = make_options(skills=[hostile_name])
    with pytest.raises(ValueError, match="Invalid skill name"):
        _build_command(options)


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_skills_rejects_surrounding_whitespace
@pytest.mark.parametrize("hostile_name", [" pdf", "pdf ", "\tpdf", " pdf "])
def test_build_command_skills_rejects_surrounding_whitespace(hostile_name: str):
    options = make_options(skills=[hostile_name])
    with pytest.raises(ValueError, match="whitespace"):
        _build_command(options)


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_skills_rejects_leading_slash
@pytest.mark.parametrize("hostile_name", ["/pdf", "/myplugin:pdf"])
def test_build_command_skills_rejects_leading_slash(hostile_name: str):
    options = make_options(skills=[hostile_name])
    with pytest.raises(ValueError, match="may not start with"):
        _build_command(options)


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_skills_rejects_surrogate_code_points
@pytest.mark.parametrize("hostile_name", ["lone\ud800surrogate", "\udc00leading"])
def test_build_command_skills_rejects_surrogate_code_points(hostile_name: str):
    options = make_options(skills=[hostile_name])
    with pytest.raises(ValueError, match="surrogate"):
        _build_command(options)


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_skills_rejects_c1_control_characters
@pytest.mark.parametrize("hostile_name", ["nel\u0085end", "csi\u009bend"])
def test_build_command_skills_rejects_c1_control_characters(hostile_name: str):
    options = make_options(skills=[hostile_name])
    with pytest.raises(ValueError, match="Invalid skill name"):
        _build_command(options)


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_skills_accepts_ordinary_names
@pytest.mark.parametrize(
    "benign_name",
    [
        "pdf-tools",
        "my_skill.v2",
        "myplugin:pdf",
        "skill with spaces",
        "dir\\sub",
        "日本語スキル",
    ],
)
def test_build_command_skills_accepts_ordinary_names(benign_name: str):
    cmd = _build_command(make_options(skills=[benign_name]))
    assert cmd[cmd.index("--allowedTools") + 1] == f"Skill({benign_name})"


# port of test_transport.py::TestSubprocessCLITransport::test_skills_option_matrix
@pytest.mark.parametrize(
    ("skills", "extra", "want_tools", "want_sources", "want_init_skills"),
    [
        # (1) default: no auto-config
        (None, {}, None, None, _ABSENT),
        # (2) old manual way still works (skills=None, user wires it)
        (
            None,
            {
                "allowed_tools": ["Skill", "Read"],
                "setting_sources": ["user", "project"],
            },
            "Skill,Read",
            "user,project",
            _ABSENT,
        ),
        # (3) "all": bare Skill, default sources, no wire filter
        ("all", {}, "Skill", "user,project", _ABSENT),
        # (4) named subset
        (
            ["pdf", "docx"],
            {},
            "Skill(pdf),Skill(docx)",
            "user,project",
            ["pdf", "docx"],
        ),
        # (5) subset + explicit setting_sources (user wins)
        (
            ["pdf"],
            {"setting_sources": ["project"]},
            "Skill(pdf)",
            "project",
            ["pdf"],
        ),
        # (6) subset merges into existing allowed_tools
        (
            ["pdf"],
            {"allowed_tools": ["Read", "Bash"]},
            "Read,Bash,Skill(pdf)",
            "user,project",
            ["pdf"],
        ),
        # (7) empty list = degenerate subset (not "all")
        ([], {}, None, "user,project", []),
    ],
    ids=[
        "default-none",
        "old-manual",
        "all",
        "subset",
        "subset+explicit-sources",
        "subset+merge-tools",
        "empty-list",
    ],
)
def test_skills_option_matrix(skills, extra, want_tools, want_sources, want_init_skills):
    """Documented behavior table for ClaudeAgentOptions.skills."""
    cmd = _build_command(make_options(skills=skills, **extra))

    if want_tools is None:
        assert "--allowedTools" not in cmd
    else:
        assert cmd[cmd.index("--allowedTools") + 1] == want_tools

    if want_sources is None:
        assert not any(a.startswith("--setting-sources") for a in cmd)
    else:
        assert f"--setting-sources={want_sources}" in cmd

    # Wire-level: what the Query layer would send on initialize.
    # 'all' and None both omit the field; only an explicit list is sent.
    if want_init_skills is _ABSENT:
        assert not isinstance(skills, list)
    else:
        assert skills == want_init_skills


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_with_extra_args
def test_build_command_with_extra_args():
    cmd = _build_command(
        make_options(
            extra_args={
                "new-flag": "value",
                "boolean-flag": None,
                "another-option": "test-value",
            }
        )
    )
    cmd_str = " ".join(cmd)

    # Check flags with values
    assert "--new-flag value" in cmd_str
    assert "--another-option test-value" in cmd_str

    # Check boolean flag (no value)
    assert "--boolean-flag" in cmd
    # Make sure boolean flag doesn't have a value after it
    boolean_idx = cmd.index("--boolean-flag")
    # Either it's the last element or the next element is another flag
    assert boolean_idx == len(cmd) - 1 or cmd[boolean_idx + 1].startswith("--")


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_with_mcp_servers
def test_build_command_with_mcp_servers():
    mcp_servers = {
        "test-server": {
            "type": "stdio",
            "command": "/path/to/server",
            "args": ["--option", "value"],
        }
    }
    # KNOWN DIFFERENCE (migration.md, "Messages and options": inline settings and stdio/sse/http
    # mcp_servers go in the initialize request, off the command line): by default the servers are
    # in build_initialize(options), not on argv; with mcp_servers_delivery="argv" the command
    # line is the official one, asserted as the official test does.
    options = make_options(mcp_servers=mcp_servers)
    cmd = _build_command(options)
    assert "--mcp-config" not in cmd and "--await-initialize" in cmd
    assert build_initialize(options)["mcpServers"] == mcp_servers

    cmd = _build_command(attrs.evolve(options, mcp_servers_delivery="argv"))

    # Find the --mcp-config flag and its value
    assert "--mcp-config" in cmd
    mcp_idx = cmd.index("--mcp-config")
    mcp_config_value = cmd[mcp_idx + 1]

    # Parse the JSON and verify structure
    config = json.loads(mcp_config_value)
    assert "mcpServers" in config
    assert config["mcpServers"] == mcp_servers


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_with_mcp_servers_as_file_path
def test_build_command_with_mcp_servers_as_file_path():
    # Test with string path
    string_path = "/path/to/mcp-config.json"
    cmd = _build_command(make_options(mcp_servers=string_path))
    assert "--mcp-config" in cmd
    mcp_idx = cmd.index("--mcp-config")
    assert cmd[mcp_idx + 1] == string_path

    # Test with Path object
    path_obj = Path("/path/to/mcp-config.json")
    cmd = _build_command(make_options(mcp_servers=path_obj))
    assert "--mcp-config" in cmd
    mcp_idx = cmd.index("--mcp-config")
    # Path object gets converted to string, compare with str(path_obj)
    assert cmd[mcp_idx + 1] == str(path_obj)


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_with_mcp_servers_as_json_string
def test_build_command_with_mcp_servers_as_json_string():
    json_config = '{"mcpServers": {"server": {"type": "stdio", "command": "test"}}}'
    # KNOWN DIFFERENCE (migration.md, "Messages and options": inline settings and stdio/sse/http
    # mcp_servers go in the initialize request, off the command line): by default the servers are
    # in build_initialize(options), not on argv; with mcp_servers_delivery="argv" the command
    # line is the official one, asserted as the official test does.
    options = make_options(mcp_servers=json_config)
    cmd = _build_command(options)
    assert "--mcp-config" not in cmd and json_config not in cmd
    assert build_initialize(options)["mcpServers"] == json.loads(json_config)["mcpServers"]

    cmd = _build_command(attrs.evolve(options, mcp_servers_delivery="argv"))
    assert "--mcp-config" in cmd
    mcp_idx = cmd.index("--mcp-config")
    assert cmd[mcp_idx + 1] == json_config


# port of test_transport.py::TestSubprocessCLITransport::test_env_vars_passed_to_subprocess
async def test_env_vars_passed_to_subprocess():
    test_value = f"test-{uuid.uuid4().hex[:8]}"
    custom_env = {
        "MY_TEST_VAR": test_value,
    }
    options = make_options(env=custom_env)

    spec = await _launch(options)
    # (the official counts two open_process calls: its `claude -v` version probe, then the
    # CLI; trio-claude reads the version from the CLI's initialize answer, so one launch)

    # Check the main process for env vars
    env_passed = spec.env

    # Check that custom env var was passed
    assert env_passed["MY_TEST_VAR"] == test_value

    # Verify SDK entrypoint default is applied (overrides inherited env)
    assert "CLAUDE_CODE_ENTRYPOINT" in env_passed
    assert env_passed["CLAUDE_CODE_ENTRYPOINT"] == "sdk-py"

    # Verify system env vars are also included with correct values
    if "PATH" in os.environ:
        assert "PATH" in env_passed
        assert env_passed["PATH"] == os.environ["PATH"]


# port of test_transport.py::TestSubprocessCLITransport::test_caller_can_override_entrypoint
async def test_caller_can_override_entrypoint():
    custom_env = {"CLAUDE_CODE_ENTRYPOINT": "custom-caller"}
    options = make_options(env=custom_env)

    env_passed = (await _launch(options)).env

    # Caller's entrypoint must win over the sdk-py default
    assert env_passed["CLAUDE_CODE_ENTRYPOINT"] == "custom-caller"

    # CLAUDE_AGENT_SDK_VERSION is still SDK-controlled
    assert "CLAUDE_AGENT_SDK_VERSION" in env_passed


def _fake_opentelemetry(fake_propagate: Any) -> dict[str, Any]:
    """The official tests' ``sys.modules`` entries standing in for OpenTelemetry."""
    return {
        "opentelemetry": MagicMock(propagate=fake_propagate),
        "opentelemetry.propagate": fake_propagate,
    }


# port of test_transport.py::TestSubprocessCLITransport::test_otel_trace_context_propagated_to_subprocess
async def test_otel_trace_context_propagated_to_subprocess():
    """Active OTEL trace context is injected as TRACEPARENT/TRACESTATE."""
    options = make_options()

    def fake_inject(carrier: dict[str, str]) -> None:
        carrier["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        carrier["tracestate"] = "vendor=value"

    fake_propagate = MagicMock()
    fake_propagate.inject = fake_inject

    with patch.dict("sys.modules", _fake_opentelemetry(fake_propagate)):
        env_passed = (await _launch(options)).env

    assert env_passed["TRACEPARENT"] == "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    assert env_passed["TRACESTATE"] == "vendor=value"


# port of test_transport.py::TestSubprocessCLITransport::test_otel_trace_context_does_not_override_user_env
async def test_otel_trace_context_does_not_override_user_env():
    """User-supplied TRACEPARENT in options.env wins over OTEL propagator."""
    options = make_options(env={"TRACEPARENT": "custom"})

    def fake_inject(carrier: dict[str, str]) -> None:
        carrier["traceparent"] = "00-aaaa-bbbb-01"

    fake_propagate = MagicMock()
    fake_propagate.inject = fake_inject

    with patch.dict("sys.modules", _fake_opentelemetry(fake_propagate)):
        env_passed = (await _launch(options)).env

    # explicit ClaudeAgentOptions.env must win over the propagator
    assert env_passed["TRACEPARENT"] == "custom"


# port of test_transport.py::TestSubprocessCLITransport::test_otel_trace_context_noop_without_opentelemetry
async def test_otel_trace_context_noop_without_opentelemetry():
    """connect() succeeds and sets no TRACEPARENT when opentelemetry is absent."""
    options = make_options()

    with (
        patch.dict("sys.modules", {"opentelemetry": None}),
        patch.dict(os.environ, {}, clear=False),
    ):
        # Ensure no inherited TRACEPARENT leaks in
        os.environ.pop("TRACEPARENT", None)
        env_passed = (await _launch(options)).env  # must not raise

    assert "TRACEPARENT" not in env_passed


# port of test_transport.py::TestSubprocessCLITransport::test_otel_trace_context_overwrites_inherited_env
async def test_otel_trace_context_overwrites_inherited_env():
    """Active span's TRACEPARENT overwrites a stale value inherited from os.environ."""
    options = make_options()

    stale = "00-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-bbbbbbbbbbbbbbbb-01"
    active = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

    def fake_inject(carrier: dict[str, str]) -> None:
        # Propagator emits traceparent only (active span has empty
        # trace_state) — the common case.
        carrier["traceparent"] = active

    fake_propagate = MagicMock()
    fake_propagate.inject = fake_inject

    with (
        patch.dict(os.environ, {"TRACEPARENT": stale, "TRACESTATE": "vendor=stale"}),
        patch.dict("sys.modules", _fake_opentelemetry(fake_propagate)),
    ):
        env_passed = (await _launch(options)).env

    # The stale ambient value from os.environ must be replaced by
    # the active span's context.
    assert env_passed["TRACEPARENT"] == active
    assert env_passed["TRACEPARENT"] != stale
    # And the stale inherited TRACESTATE must be scrubbed, not
    # paired with the fresh TRACEPARENT.
    assert "TRACESTATE" not in env_passed


# port of test_transport.py::TestSubprocessCLITransport::test_otel_no_active_span_preserves_inherited_env
async def test_otel_no_active_span_preserves_inherited_env():
    """With opentelemetry installed but no active span, inherited W3C env passes through."""
    options = make_options()

    inherited_tp = "00-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-bbbbbbbbbbbbbbbb-01"

    # inject() with no active span writes nothing to the carrier.
    fake_propagate = MagicMock()
    fake_propagate.inject = lambda carrier: None

    with (
        patch.dict(os.environ, {"TRACEPARENT": inherited_tp, "TRACESTATE": "vendor=abc"}),
        patch.dict("sys.modules", _fake_opentelemetry(fake_propagate)),
    ):
        env_passed = (await _launch(options)).env

    # No active span -> we must NOT scrub the launcher's context.
    assert env_passed["TRACEPARENT"] == inherited_tp
    assert env_passed["TRACESTATE"] == "vendor=abc"


# port of test_transport.py::TestSubprocessCLITransport::test_otel_baggage_only_carrier_preserves_inherited_env
async def test_otel_baggage_only_carrier_preserves_inherited_env():
    """Non-empty carrier without traceparent (e.g. baggage only) must not scrub inherited W3C env."""
    options = make_options()

    inherited_tp = "00-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-bbbbbbbbbbbbbbbb-01"

    def fake_inject(carrier: dict[str, str]) -> None:
        carrier["baggage"] = "user.id=123"

    fake_propagate = MagicMock()
    fake_propagate.inject = fake_inject

    with (
        patch.dict(os.environ, {"TRACEPARENT": inherited_tp, "TRACESTATE": "vendor=abc"}),
        patch.dict("sys.modules", _fake_opentelemetry(fake_propagate)),
    ):
        env_passed = (await _launch(options)).env

    # Carrier was non-empty but had no traceparent -> still no
    # active span, so the launcher's W3C context must pass through.
    assert env_passed["TRACEPARENT"] == inherited_tp
    assert env_passed["TRACESTATE"] == "vendor=abc"


# port of test_transport.py::TestSubprocessCLITransport::test_otel_propagator_error_does_not_break_connect
async def test_otel_propagator_error_does_not_break_connect():
    """A raising propagator must not surface as CLIConnectionError."""
    options = make_options()

    fake_propagate = MagicMock()
    fake_propagate.inject = MagicMock(side_effect=RuntimeError("boom"))

    with (
        patch.dict("sys.modules", _fake_opentelemetry(fake_propagate)),
        patch.dict(os.environ, {}, clear=False),
    ):
        # Ensure no inherited TRACEPARENT leaks in
        os.environ.pop("TRACEPARENT", None)
        env_passed = (await _launch(options)).env  # must not raise CLIConnectionError

    assert "TRACEPARENT" not in env_passed


# port of test_transport.py::TestSubprocessCLITransport::test_claudecode_env_var_not_inherited
async def test_claudecode_env_var_not_inherited():
    options = make_options()

    with patch.dict(os.environ, {"CLAUDECODE": "1"}):
        env_passed = (await _launch(options)).env

    # CLAUDECODE must NOT be inherited from the parent process
    assert "CLAUDECODE" not in env_passed

    # Other env vars should still be present
    assert "CLAUDE_CODE_ENTRYPOINT" in env_passed
    assert "CLAUDE_AGENT_SDK_VERSION" in env_passed


# port of test_transport.py::TestSubprocessCLITransport::test_claudecode_can_be_set_via_options_env
async def test_claudecode_can_be_set_via_options_env():
    options = make_options(env={"CLAUDECODE": "1"})

    with patch.dict(os.environ, {}, clear=False):
        env_passed = (await _launch(options)).env

    # Explicit options.env should be respected
    assert env_passed.get("CLAUDECODE") == "1"


# port of test_transport.py::TestSubprocessCLITransport::test_connect_as_different_user
async def test_connect_as_different_user():
    custom_user = "claude"
    options = make_options(user=custom_user)

    spec = await _launch(options)

    # Check that user was passed
    assert spec.user == "claude"


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_with_sandbox_only
def test_build_command_with_sandbox_only():
    sandbox: SandboxSettings = {
        "enabled": True,
        "autoAllowBashIfSandboxed": True,
        "network": {
            "allowLocalBinding": True,
            "allowUnixSockets": ["/var/run/docker.sock"],
        },
    }
    # KNOWN DIFFERENCE (migration.md, "Messages and options": inline settings and stdio/sse/http
    # mcp_servers go in the initialize request, off the command line): by default the settings
    # (sandbox merged in) are in build_initialize(options), not on argv; with
    # settings_delivery="argv" the command line is the official one, asserted as the official
    # test does; the initialize request holds the same settings.
    options = make_options(sandbox=sandbox)
    assert "--settings" not in _build_command(options)
    in_initialize = build_initialize(options)["settings"]
    cmd = _build_command(attrs.evolve(options, settings_delivery="argv"))

    # Should have --settings with sandbox merged in
    assert "--settings" in cmd
    settings_idx = cmd.index("--settings")
    settings_value = cmd[settings_idx + 1]

    # Parse and verify
    parsed = json.loads(settings_value)
    assert parsed == in_initialize
    assert "sandbox" in parsed
    assert parsed["sandbox"]["enabled"] is True
    assert parsed["sandbox"]["autoAllowBashIfSandboxed"] is True
    assert parsed["sandbox"]["network"]["allowLocalBinding"] is True
    assert parsed["sandbox"]["network"]["allowUnixSockets"] == ["/var/run/docker.sock"]


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_with_sandbox_and_settings_json
def test_build_command_with_sandbox_and_settings_json():
    # Existing settings as JSON string
    existing_settings = '{"permissions": {"allow": ["Bash(ls:*)"]}, "verbose": true}'

    sandbox: SandboxSettings = {
        "enabled": True,
        "excludedCommands": ["git", "docker"],
    }
    # KNOWN DIFFERENCE (migration.md, "Messages and options": inline settings and stdio/sse/http
    # mcp_servers go in the initialize request, off the command line): by default the settings
    # (sandbox merged in) are in build_initialize(options), not on argv; with
    # settings_delivery="argv" the command line is the official one, asserted as the official
    # test does; the initialize request holds the same settings.
    options = make_options(settings=existing_settings, sandbox=sandbox)
    assert "--settings" not in _build_command(options)
    in_initialize = build_initialize(options)["settings"]
    cmd = _build_command(attrs.evolve(options, settings_delivery="argv"))

    # Should have merged settings
    assert "--settings" in cmd
    settings_idx = cmd.index("--settings")
    settings_value = cmd[settings_idx + 1]

    parsed = json.loads(settings_value)
    assert parsed == in_initialize

    # Original settings should be preserved
    assert parsed["permissions"] == {"allow": ["Bash(ls:*)"]}
    assert parsed["verbose"] is True

    # Sandbox should be merged in
    assert "sandbox" in parsed
    assert parsed["sandbox"]["enabled"] is True
    assert parsed["sandbox"]["excludedCommands"] == ["git", "docker"]


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_with_settings_file_and_no_sandbox
def test_build_command_with_settings_file_and_no_sandbox():
    cmd = _build_command(make_options(settings="/path/to/settings.json"))

    # Should pass path directly, not parse it
    assert "--settings" in cmd
    settings_idx = cmd.index("--settings")
    assert cmd[settings_idx + 1] == "/path/to/settings.json"


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_sandbox_minimal
def test_build_command_sandbox_minimal():
    sandbox: SandboxSettings = {"enabled": True}
    # KNOWN DIFFERENCE (migration.md, "Messages and options": inline settings and stdio/sse/http
    # mcp_servers go in the initialize request, off the command line): by default the settings
    # (sandbox merged in) are in build_initialize(options), not on argv; with
    # settings_delivery="argv" the command line is the official one, asserted as the official
    # test does; the initialize request holds the same settings.
    options = make_options(sandbox=sandbox)
    assert "--settings" not in _build_command(options)
    in_initialize = build_initialize(options)["settings"]
    cmd = _build_command(attrs.evolve(options, settings_delivery="argv"))

    assert "--settings" in cmd
    settings_idx = cmd.index("--settings")
    settings_value = cmd[settings_idx + 1]

    parsed = json.loads(settings_value)
    # KNOWN DIFFERENCE (migration.md, "Messages and options": sandbox={"enabled": True} is
    # sent with "failIfUnavailable": true unless you set it): on argv and in initialize alike.
    assert parsed == {"sandbox": {"enabled": True, "failIfUnavailable": True}}
    assert in_initialize == parsed
    # A failIfUnavailable you set is sent as set.
    options = make_options(sandbox={"enabled": True, "failIfUnavailable": False})
    assert build_initialize(options)["settings"] == {
        "sandbox": {"enabled": True, "failIfUnavailable": False}
    }


# port of test_transport.py::TestSubprocessCLITransport::test_sandbox_network_config
def test_sandbox_network_config():
    sandbox: SandboxSettings = {
        "enabled": True,
        "network": {
            "allowUnixSockets": ["/tmp/ssh-agent.sock"],
            "allowAllUnixSockets": False,
            "allowLocalBinding": True,
            "httpProxyPort": 8080,
            "socksProxyPort": 8081,
        },
    }
    # KNOWN DIFFERENCE (migration.md, "Messages and options": inline settings and stdio/sse/http
    # mcp_servers go in the initialize request, off the command line): by default the settings
    # (sandbox merged in) are in build_initialize(options), not on argv; with
    # settings_delivery="argv" the command line is the official one, asserted as the official
    # test does; the initialize request holds the same settings.
    options = make_options(sandbox=sandbox)
    assert "--settings" not in _build_command(options)
    in_initialize = build_initialize(options)["settings"]
    cmd = _build_command(attrs.evolve(options, settings_delivery="argv"))
    settings_idx = cmd.index("--settings")
    settings_value = cmd[settings_idx + 1]

    parsed = json.loads(settings_value)
    assert parsed == in_initialize
    network = parsed["sandbox"]["network"]

    assert network["allowUnixSockets"] == ["/tmp/ssh-agent.sock"]
    assert network["allowAllUnixSockets"] is False
    assert network["allowLocalBinding"] is True
    assert network["httpProxyPort"] == 8080
    assert network["socksProxyPort"] == 8081


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_with_tools_array
def test_build_command_with_tools_array():
    cmd = _build_command(make_options(tools=["Read", "Edit", "Bash"]))
    assert "--tools" in cmd
    tools_idx = cmd.index("--tools")
    assert cmd[tools_idx + 1] == "Read,Edit,Bash"


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_with_tools_empty_array
def test_build_command_with_tools_empty_array():
    cmd = _build_command(make_options(tools=[]))
    assert "--tools" in cmd
    tools_idx = cmd.index("--tools")
    assert cmd[tools_idx + 1] == ""


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_with_tools_preset
def test_build_command_with_tools_preset():
    cmd = _build_command(make_options(tools={"type": "preset", "preset": "claude_code"}))
    assert "--tools" in cmd
    tools_idx = cmd.index("--tools")
    assert cmd[tools_idx + 1] == "default"


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_without_tools
def test_build_command_without_tools():
    cmd = _build_command(make_options())
    assert "--tools" not in cmd


# port of test_transport.py::TestSubprocessCLITransport::test_concurrent_writes_are_serialized
# (the official writes to a real subprocess's stdin through the transport from ten tasks: here
# ten tasks send prompts at once through a client whose CLI is a real subprocess, the fake CLI
# spawned by SubprocessTransport, on the same pipes as production)
async def test_concurrent_writes_are_serialized(tmp_path: Path):
    transport = FakeCLIProcessTransport(FakeScript(), tmp_path)
    with trio.fail_after(30):
        async with tc.ClaudeSDKClient(make_options(transport=transport)) as client:
            # Spawn concurrent writes - they must be serialized
            num_writes = 10
            errors: list[Exception] = []

            async def do_write(i: int) -> None:
                try:
                    await client.query(f'{{"msg": {i}}}\n')
                except Exception as e:
                    errors.append(e)

            async with trio.open_nursery() as tg:
                for i in range(num_writes):
                    tg.start_soon(do_write, i)

            # All writes should succeed
            assert len(errors) == 0, f"Got errors: {errors}"


class _MockProcess(ChildProcess):
    """The official tests' mocked process, for ``shutdown_process`` (the official ``close()``).

    ``exits_on``: what makes it exit: ``"stdin"`` (the EOF), ``"terminate"``, ``"kill"``, or
    ``None`` when it has exited already (``returncode`` 0).
    """

    def __init__(self, exits_on: str | None) -> None:
        self.stdin = trio.testing.MemorySendStream()
        self.stdout = trio.testing.MemoryReceiveStream()
        self.stderr = trio.testing.MemoryReceiveStream()
        self.pid = None
        self.exits_on = exits_on
        self._returncode: int | None = 0 if exits_on is None else None
        self._exited = trio.Event()
        if exits_on is None:
            self._exited.set()
        self.calls: list[str] = []
        self.stdin.close_hook = lambda: self._signal("stdin")

    def _signal(self, what: str) -> None:
        if self.exits_on == what and self._returncode is None:
            self._returncode = {"stdin": 0, "terminate": -15, "kill": -9}[what]
            self._exited.set()

    @property
    def returncode(self) -> int | None:
        return self._returncode

    async def wait(self) -> int:
        self.calls.append("wait")
        await self._exited.wait()
        assert self._returncode is not None
        return self._returncode

    def terminate(self) -> None:
        self.calls.append("terminate")
        self._signal("terminate")

    def kill(self) -> None:
        self.calls.append("kill")
        self._signal("kill")


# port of test_transport.py::TestSubprocessCLITransport::test_close_terminates_after_grace_period_timeout
# (the official patches anyio.fail_after to raise; here the grace periods pass on the
# autojump clock, the process never exiting until killed)
async def test_close_terminates_after_grace_period_timeout(autojump_clock):
    mock_process = _MockProcess(exits_on="kill")

    await shutdown_process(mock_process, close_timeout=ClaudeAgentOptions().close_timeout)

    assert mock_process.calls.count("terminate") == 1
    assert mock_process.calls.count("kill") == 1


# port of test_transport.py::TestSubprocessCLITransport::test_close_sigterm_succeeds_no_sigkill
async def test_close_sigterm_succeeds_no_sigkill(autojump_clock):
    mock_process = _MockProcess(exits_on="terminate")

    await shutdown_process(mock_process, close_timeout=ClaudeAgentOptions().close_timeout)

    assert mock_process.calls.count("terminate") == 1
    assert "kill" not in mock_process.calls


# port of test_transport.py::TestSubprocessCLITransport::test_close_skips_wait_when_already_exited
async def test_close_skips_wait_when_already_exited(autojump_clock):
    mock_process = _MockProcess(exits_on=None)  # Already exited

    await shutdown_process(mock_process, close_timeout=ClaudeAgentOptions().close_timeout)

    # Should not try to wait or terminate an already-exited process
    assert "terminate" not in mock_process.calls


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_agents_always_via_initialize
def test_build_command_agents_always_via_initialize():
    agents = {
        "test-agent": AgentDefinition(
            description="A test agent",
            prompt="You are a test agent",
        )
    }

    # (trio-claude's command line does not depend on the prompt, string or async iterable)
    cmd = _build_command(make_options(agents=agents))
    assert "--agents" not in cmd
    assert "--input-format" in cmd
    assert "stream-json" in cmd


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_always_uses_streaming
def test_build_command_always_uses_streaming():
    cmd = _build_command(make_options())
    assert "--input-format" in cmd
    assert "stream-json" in cmd
    assert "--print" not in cmd


# port of test_transport.py::TestSubprocessCLITransport::test_build_command_large_agents_work
def test_build_command_large_agents_work():
    # Create a large agent definition (50KB prompt)
    large_prompt = "x" * 50000
    agents = {
        "large-agent": AgentDefinition(
            description="A large agent",
            prompt=large_prompt,
        )
    }
    cmd = _build_command(make_options(agents=agents))

    # --agents should not be in command (sent via initialize)
    assert "--agents" not in cmd
    # No @filepath references should exist
    cmd_str = " ".join(cmd)
    assert "@" not in cmd_str


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("trio_claude") and r.levelno == logging.WARNING
    ]


# port of test_transport.py::TestSubprocessCLITransport::test_version_warning_includes_cli_path
# (the official runs its `claude -v` probe on a mocked process; trio-claude reads the version
# from the CLI's initialize answer: the fake CLI says 1.0.0)
async def test_version_warning_includes_cli_path(caplog: pytest.LogCaptureFixture):
    transport = FakeCLITransport(FakeScript(initialize_response={"claude_code_version": "1.0.0"}))
    with (
        caplog.at_level(logging.WARNING, logger="trio_claude"),
        patch("builtins.print") as mock_print,
        trio.fail_after(10),
    ):
        async with tc.open_session(make_options(transport=transport)):
            pass

    # logger.warning should be called with version and CLI path
    (message,) = _warnings(caplog)
    assert "1.0.0" in message
    assert DEFAULT_CLI_PATH in message

    # print should NOT be called (no duplicate output)
    mock_print.assert_not_called()


# port of test_transport.py::TestSubprocessCLITransport::test_version_warning_not_emitted_for_current_version
async def test_version_warning_not_emitted_for_current_version(caplog: pytest.LogCaptureFixture):
    transport = FakeCLITransport(
        FakeScript(initialize_response={"claude_code_version": "99.99.99"})
    )
    with caplog.at_level(logging.WARNING, logger="trio_claude"), trio.fail_after(10):
        async with tc.open_session(make_options(transport=transport)):
            pass

    # No warning for a current version
    assert _warnings(caplog) == []


class _OwnStderr(FakeCLITransport):
    """A fake CLI whose stderr the test writes (the official's mocked ``_stderr_stream``)."""

    sender: trio.testing.MemorySendStream | None = None

    async def start(self, spec: LaunchSpec, nursery: trio.Nursery) -> ChildProcess:
        child = await super().start(spec, nursery)
        self.sender, child.stderr = trio.testing.memory_stream_one_way_pair()
        return child


async def _stderr_session(
    options: ClaudeAgentOptions,
    chunks: list[str],
    *,
    end: bool = True,
    during: Callable[[], None] | None = None,
) -> None:
    """Opens a session whose CLI writes ``chunks`` to stderr, then ends its stderr (``end``)
    or leaves it open, and closes the session."""
    transport = _OwnStderr()
    with trio.fail_after(10):
        async with tc.open_session(attrs.evolve(options, transport=transport)):
            assert transport.sender is not None
            for chunk in chunks:
                await transport.sender.send_all(chunk.encode())
                await trio.testing.wait_all_tasks_blocked()
            if end:
                await transport.sender.aclose()
                await trio.testing.wait_all_tasks_blocked()
            if during is not None:
                during()


# port of test_transport.py::TestSubprocessCLITransport::test_stderr_callback_raise_does_not_terminate_loop
async def test_stderr_callback_raise_does_not_terminate_loop() -> None:
    received: list[str] = []

    def stderr_cb(line: str) -> None:
        received.append(line)
        if len(received) == 1:
            raise RuntimeError("simulated handler failure")

    # The stream yields chunks, not lines: one read can carry several
    # lines, and the last one may have no trailing newline.
    await _stderr_session(ClaudeAgentOptions(stderr=stderr_cb), ["line 1\nline 2\n", "line 3"])

    # All three lines must be delivered despite the first raise.
    assert received == ["line 1", "line 2", "line 3"]


# port of test_transport.py::TestSubprocessCLITransport::test_stderr_line_split_across_chunks_is_reassembled
async def test_stderr_line_split_across_chunks_is_reassembled() -> None:
    received: list[str] = []

    await _stderr_session(
        ClaudeAgentOptions(stderr=received.append),
        ["a warning that got ", "split across two reads\nnext line\n"],
    )

    assert received == [
        "a warning that got split across two reads",
        "next line",
    ]


# port of test_transport.py::TestSubprocessCLITransport::test_stderr_line_without_newline_is_flushed_at_buffer_limit
# (max_buffer_size is also the limit of a stdout line, so a session with max_buffer_size=10
# cannot read the CLI's answer to initialize: the stderr reader a session runs, StderrTail, is
# fed the chunks directly, then the end of the stream)
def test_stderr_line_without_newline_is_flushed_at_buffer_limit() -> None:
    received: list[str] = []
    options = ClaudeAgentOptions(stderr=received.append, max_buffer_size=10)

    reader = StderrTail()
    # 15 chars with no newline in sight, then a normal line.
    for chunk in ["aaaaa", "aaaaa", "aaaaa", "bbb\n"]:
        reader.take(chunk.encode(), options.stderr)
    reader.take(b"", options.stderr)

    # KNOWN DIFFERENCE (migration.md, "Messages and options": the stderr callback gets the
    # CLI's lines as they end, a line longer than 16 KiB in pieces of that size, not at
    # max_buffer_size): the 15 chars are not flushed at the 10-char limit.
    assert received == ["a" * 15 + "bbb"]


# port of test_transport.py::TestSubprocessCLITransport::test_stderr_pending_line_is_flushed_when_task_is_cancelled
# (close() cancels the official stderr task; here the session closes while the CLI's stderr
# stays open)
async def test_stderr_pending_line_is_flushed_when_task_is_cancelled() -> None:
    received: list[str] = []

    await _stderr_session(
        ClaudeAgentOptions(stderr=received.append),
        ["Error: model overloaded"],  # no trailing newline
        end=False,  # the CLI stalls, holding the stream open
    )

    assert received == ["Error: model overloaded"]


# port of test_transport.py::TestWindowsBatchScriptRefusal::test_posix_platforms_are_unchanged
# (the official patches its module's platform.system; trio-claude runs this POSIX branch on this
# suite's platforms. No installed CLI is found here (Path.is_file is patched: the pinned
# install is not there), and what would be spawned is what the default transport is started
# with: SubprocessTransport is replaced by a recording fake, as the official mocks open_process)
@pytest.mark.parametrize("system", ["Linux", "Darwin"])
async def test_posix_platforms_are_unchanged(system: str):
    options = ClaudeAgentOptions()
    transport = FakeCLITransport()
    env = {k: v for k, v in os.environ.items() if k != "TRIO_CLAUDE_CLI"}
    env["TRIO_CLAUDE_PORT_PROBE"] = uuid.uuid4().hex  # a fresh environment: no cached discovery

    with (
        patch.dict(os.environ, env, clear=True),
        patch("pathlib.Path.is_file", return_value=False),
        patch("shutil.which", return_value="/usr/local/bin/claude") as mock_which,
        patch("trio_claude._session.SubprocessTransport", return_value=transport),
        trio.fail_after(10),
    ):
        async with tc.open_session(options):
            pass

    # POSIX discovery uses the which("claude") result directly: the
    # native-exe preference is a Windows-only branch, so there is no
    # claude.exe probe here.
    assert mock_which.call_count == 1
    assert mock_which.call_args.args == ("claude",)
    assert len(transport.specs) == 1
    assert transport.specs[0].argv[0] == "/usr/local/bin/claude"


# port of test_transport.py::TestWindowsBatchScriptRefusal::test_guard_is_a_no_op_off_windows
# (trio-claude has no batch-script guard off Windows: a .cmd path is used as given)
def test_guard_is_a_no_op_off_windows():
    assert _build_command(make_options(cli_path="/odd/claude.cmd"))[0] == "/odd/claude.cmd"


# port of test_transport.py::TestWindowsBatchScriptRefusal::test_not_found_message_off_windows_is_unchanged
# (the official calls its private _find_cli(); here the discovery the session runs)
def test_not_found_message_off_windows_is_unchanged():
    from trio_claude._transport._discovery import find_cli

    env = {k: v for k, v in os.environ.items() if k != "TRIO_CLAUDE_CLI"}
    with (
        patch("shutil.which", return_value=None),
        patch("pathlib.Path.exists", return_value=False),
        patch("pathlib.Path.is_file", return_value=False),
        pytest.raises(CLINotFoundError) as exc_info,
    ):
        find_cli(env=env)
    message = str(exc_info.value)
    assert message.startswith(
        "Claude Code not found. Install with:\n  npm install -g @anthropic-ai/claude-code\n"
    )
    assert "install.ps1" not in message


# port of test_transport.py::TestExtraArgsValueBinding::test_dash_leading_value_uses_equals_form
def test_dash_leading_value_uses_equals_form():
    cmd = _build_command(make_options(extra_args={"future-flag": "--evil"}))
    assert "--future-flag=--evil" in cmd
    assert "--evil" not in cmd
    assert "--future-flag" not in cmd


# port of test_transport.py::TestExtraArgsValueBinding::test_ordinary_value_keeps_two_token_form
def test_ordinary_value_keeps_two_token_form():
    cmd = _build_command(make_options(extra_args={"future-flag": "plain", "bool-flag": None}))
    idx = cmd.index("--future-flag")
    assert cmd[idx + 1] == "plain"
    assert "--bool-flag" in cmd


# port of test_transport.py::TestWindowsCmdMetacharacterRejection::test_posix_allows_metacharacters
def test_posix_allows_metacharacters():
    # KNOWN DIFFERENCE (migration.md, "Messages and options": options the CLI would refuse at
    # start-up are refused when the session opens): session_id="a>b" is not a UUID (and is
    # given with resume without fork_session); resume alone keeps its metacharacters.
    with pytest.raises(ConfigurationError, match="session_id"):
        _build_command(make_options(resume="title & % | notes", session_id="a>b"))
    cmd = _build_command(make_options(resume="title & % | notes"))
    assert "--resume=title & % | notes" in cmd


# =============================================================================================
# tests/test_subprocess_buffering.py
# =============================================================================================

#: The official default ``max_buffer_size`` (its ``_DEFAULT_MAX_BUFFER_SIZE``); trio-claude's
#: default per-line limit is ``max_line_bytes``, 64 MiB.
_DEFAULT_MAX_BUFFER_SIZE = 1024 * 1024

_MESSAGE_TYPES = get_args(Message)


def _read(chunks: list[str], **opts: Any) -> tuple[list[dict[str, Any]], ClaudeProtocol]:
    """The official ``read_messages()`` over a stream yielding ``chunks``: the frames the
    session's protocol core delivers (as the CLI wrote them), and the core (its counters)."""
    options = make_options(**opts)
    proto = ClaudeProtocol(max_line_bytes=options.effective_max_line_bytes)
    for chunk in chunks:
        if chunk:
            proto.receive_data(chunk.encode())
    proto.receive_data(b"")  # the end of the stream
    messages = [event.raw for event in proto.events() if isinstance(event, _MESSAGE_TYPES)]
    return messages, proto


def _collect(chunks: list[str], **opts: Any) -> list[Any]:
    """Drive read_messages() over a canned chunk stream and return messages."""
    return _read(chunks, **opts)[0]


# port of test_subprocess_buffering.py::TestSubprocessBuffering::test_multiple_json_objects_on_single_line
def test_multiple_json_objects_on_single_line() -> None:
    json_obj1 = {"type": "message", "id": "msg1", "content": "First message"}
    json_obj2 = {"type": "result", "id": "res1", "status": "completed"}

    buffered_line = json.dumps(json_obj1) + "\n" + json.dumps(json_obj2)

    messages = _collect([buffered_line])

    assert len(messages) == 2
    assert messages[0]["type"] == "message"
    assert messages[0]["id"] == "msg1"
    assert messages[0]["content"] == "First message"
    assert messages[1]["type"] == "result"
    assert messages[1]["id"] == "res1"
    assert messages[1]["status"] == "completed"


# port of test_subprocess_buffering.py::TestSubprocessBuffering::test_json_with_embedded_newlines
def test_json_with_embedded_newlines() -> None:
    json_obj1 = {"type": "message", "content": "Line 1\nLine 2\nLine 3"}
    json_obj2 = {"type": "result", "data": "Some\nMultiline\nContent"}

    buffered_line = json.dumps(json_obj1) + "\n" + json.dumps(json_obj2)

    messages = _collect([buffered_line])

    assert len(messages) == 2
    assert messages[0]["content"] == "Line 1\nLine 2\nLine 3"
    assert messages[1]["data"] == "Some\nMultiline\nContent"


# port of test_subprocess_buffering.py::TestSubprocessBuffering::test_multiple_newlines_between_objects
def test_multiple_newlines_between_objects() -> None:
    json_obj1 = {"type": "message", "id": "msg1"}
    json_obj2 = {"type": "result", "id": "res1"}

    buffered_line = json.dumps(json_obj1) + "\n\n\n" + json.dumps(json_obj2)

    messages = _collect([buffered_line])

    assert len(messages) == 2
    assert messages[0]["id"] == "msg1"
    assert messages[1]["id"] == "res1"


# port of test_subprocess_buffering.py::TestSubprocessBuffering::test_split_json_across_multiple_reads
def test_split_json_across_multiple_reads() -> None:
    json_obj = {
        "type": "assistant",
        "message": {
            "content": [
                {"type": "text", "text": "x" * 1000},
                {
                    "type": "tool_use",
                    "id": "tool_123",
                    "name": "Read",
                    "input": {"file_path": "/test.txt"},
                },
            ]
        },
    }

    complete_json = json.dumps(json_obj)

    part1 = complete_json[:100]
    part2 = complete_json[100:250]
    part3 = complete_json[250:]

    messages = _collect([part1, part2, part3])

    assert len(messages) == 1
    assert messages[0]["type"] == "assistant"
    assert len(messages[0]["message"]["content"]) == 2


# port of test_subprocess_buffering.py::TestSubprocessBuffering::test_large_minified_json
def test_large_minified_json() -> None:
    large_data = {"data": [{"id": i, "value": "x" * 100} for i in range(1000)]}
    json_obj = {
        "type": "user",
        "message": {
            "role": "user",
            "content": [
                {
                    "tool_use_id": "toolu_016fed1NhiaMLqnEvrj5NUaj",
                    "type": "tool_result",
                    "content": json.dumps(large_data),
                }
            ],
        },
    }

    complete_json = json.dumps(json_obj)

    chunk_size = 64 * 1024
    chunks = [complete_json[i : i + chunk_size] for i in range(0, len(complete_json), chunk_size)]

    messages = _collect(chunks)

    assert len(messages) == 1
    assert messages[0]["type"] == "user"
    assert messages[0]["message"]["content"][0]["tool_use_id"] == "toolu_016fed1NhiaMLqnEvrj5NUaj"


# port of test_subprocess_buffering.py::TestSubprocessBuffering::test_buffer_size_exceeded
def test_buffer_size_exceeded() -> None:
    huge_incomplete = '{"data": "' + "x" * (_DEFAULT_MAX_BUFFER_SIZE + 1000)

    # KNOWN DIFFERENCE (migration.md, "Errors": a line over max_line_bytes (64 MiB) is logged,
    # counted and skipped; CLIJSONDecodeError is never raised for it, where the official SDK
    # raises it beyond max_buffer_size, 1 MiB): nothing is raised and no message is delivered
    # (this 1 MiB line is under the limit; cut off by the end of the stream, it is not JSON,
    # and is skipped as such).
    messages, proto = _read([huge_incomplete])
    assert messages == []
    assert proto.invalid_lines == 1


# port of test_subprocess_buffering.py::TestSubprocessBuffering::test_buffer_size_option
def test_buffer_size_option() -> None:
    custom_limit = 512
    huge_incomplete = '{"data": "' + "x" * (custom_limit + 10)

    # KNOWN DIFFERENCE (migration.md, "Errors": a line over the limit is logged, counted and
    # skipped; CLIJSONDecodeError is never raised for it): max_buffer_size is the limit.
    messages, proto = _read([huge_incomplete], max_buffer_size=custom_limit)
    assert messages == []
    assert proto.oversize_lines == 1


# port of test_subprocess_buffering.py::TestSubprocessBuffering::test_mixed_complete_and_split_json
def test_mixed_complete_and_split_json() -> None:
    msg1 = json.dumps({"type": "system", "subtype": "start"})

    large_msg = {
        "type": "assistant",
        "message": {"content": [{"type": "text", "text": "y" * 5000}]},
    }
    large_json = json.dumps(large_msg)

    msg3 = json.dumps({"type": "system", "subtype": "end"})

    lines = [
        msg1 + "\n",
        large_json[:1000],
        large_json[1000:3000],
        large_json[3000:] + "\n" + msg3,
    ]

    messages = _collect(lines)

    assert len(messages) == 3
    assert messages[0]["type"] == "system"
    assert messages[0]["subtype"] == "start"
    assert messages[1]["type"] == "assistant"
    assert len(messages[1]["message"]["content"][0]["text"]) == 5000
    assert messages[2]["type"] == "system"
    assert messages[2]["subtype"] == "end"


# port of test_subprocess_buffering.py::TestSubprocessBuffering::test_non_json_debug_lines_skipped
def test_non_json_debug_lines_skipped() -> None:
    debug = "[SandboxDebug] Seccomp filtering not available"
    msg1 = json.dumps({"type": "system", "subtype": "init"})
    msg2 = json.dumps({"type": "result", "subtype": "success"})

    messages = _collect([f"{debug}\n{msg1}\n{debug}\n{msg2}\n"])

    assert len(messages) == 2
    assert messages[0]["type"] == "system"
    assert messages[1]["type"] == "result"


# port of test_subprocess_buffering.py::TestSubprocessBuffering::test_interleaved_non_json_lines_skipped
def test_interleaved_non_json_lines_skipped() -> None:
    messages = _collect(
        [
            "[SandboxDebug] line 1\n",
            "[SandboxDebug] line 2\n",
            json.dumps({"type": "system", "subtype": "init"}) + "\n",
            "WARNING: something\n",
            json.dumps({"type": "result", "subtype": "success"}) + "\n",
        ]
    )

    assert len(messages) == 2
    assert messages[0]["type"] == "system"
    assert messages[1]["type"] == "result"


# port of test_subprocess_buffering.py::TestSubprocessBuffering::test_whitespace_at_chunk_boundary_preserved
@pytest.mark.parametrize(
    "ws",
    [" ", "  ", "\xa0", "\u2009", "\u3000"],
    ids=["space", "two-spaces", "nbsp", "thin-space", "ideographic-space"],
)
def test_whitespace_at_chunk_boundary_preserved(ws: str) -> None:
    content = "A" * 1000 + ws + "B" * 1000
    line = json.dumps(
        {"type": "assistant", "data": content},
        ensure_ascii=False,
        separators=(",", ":"),
    )
    ws_at = line.index(ws)
    chunks = [line[: ws_at + len(ws)], line[ws_at + len(ws) :] + "\n"]
    assert chunks[0].endswith(ws)

    messages = _collect(chunks)

    assert len(messages) == 1
    assert messages[0]["data"] == content, (
        f"lost {ws!r} at a chunk boundary — strip() was applied to a chunk, not to a complete line"
    )


# port of test_subprocess_buffering.py::TestSubprocessBuffering::test_whitespace_preserved_across_realistic_64kib_chunking
def test_whitespace_preserved_across_realistic_64kib_chunking() -> None:
    content = "S" + " " * 400_000 + "E"
    line = json.dumps({"type": "assistant", "data": content}, separators=(",", ":")) + "\n"
    chunks = [line[i : i + 65536] for i in range(0, len(line), 65536)]
    assert len(chunks) > 6

    for boundary in range(65536, len(line), 65536):
        assert line[boundary - 1] == " " and line[boundary] == " "

    messages = _collect(chunks)

    assert len(messages) == 1
    assert messages[0]["data"] == content


# port of test_subprocess_buffering.py::TestSubprocessBuffering::test_complete_oversized_line_still_raises
def test_complete_oversized_line_still_raises() -> None:
    limit = 512
    line = json.dumps({"type": "x", "data": "y" * (limit + 100)}) + "\n"

    # KNOWN DIFFERENCE (migration.md, "Errors": a line over the limit is logged, counted and
    # skipped; CLIJSONDecodeError is never raised for it).
    messages, proto = _read([line], max_buffer_size=limit)
    assert messages == []
    assert proto.oversize_lines == 1


# port of test_subprocess_buffering.py::TestSubprocessBuffering::test_malformed_complete_line_raises
def test_malformed_complete_line_raises() -> None:
    chunks = ['{"type":"assistant","broken\n{"type":"result"}\n']

    # KNOWN DIFFERENCE (migration.md, "Errors": a corrupt line from the CLI (it starts with {
    # but is not JSON) is logged, counted and skipped, and the stream goes on with the next
    # line; CLIJSONDecodeError is never raised for it).
    messages, proto = _read(chunks)
    assert proto.invalid_lines >= 1
    assert messages == [{"type": "result"}]


# port of test_subprocess_buffering.py::TestSubprocessBuffering::test_non_json_line_still_skipped
def test_non_json_line_still_skipped() -> None:
    chunks = [
        "[SandboxDebug] starting up\n"
        + json.dumps({"type": "result"})
        + "\n"
        + "plain text trailer\n"
    ]

    messages = _collect(chunks)

    assert messages == [{"type": "result"}]


# port of test_subprocess_buffering.py::TestSubprocessBuffering::test_final_message_without_trailing_newline_is_yielded
# (the official ends the stream with ClosedResourceError; the protocol core is told the end)
def test_final_message_without_trailing_newline_is_yielded() -> None:
    messages = _collect([json.dumps({"type": "result", "subtype": "success"})])

    assert messages == [{"type": "result", "subtype": "success"}]


# port of test_subprocess_buffering.py::TestSubprocessBuffering::test_truncated_final_line_is_dropped_not_raised
def test_truncated_final_line_is_dropped_not_raised() -> None:
    chunks = [json.dumps({"type": "result"}) + "\n" + '{"type":"assist']

    messages = _collect(chunks)

    assert messages == [{"type": "result"}]


# =============================================================================================
# tests/test_mcp_large_output.py
# =============================================================================================

# Layer-2 threshold as confirmed in claude-cli-internal toolLimits.ts
_LAYER2_THRESHOLD_CHARS = 50_000


def make_transport(env: dict[str, str] | None = None, **kwargs: Any) -> ClaudeAgentOptions:
    # (the official builds a SubprocessCLITransport from these options)
    return ClaudeAgentOptions(cli_path=DEFAULT_CLI_PATH, env=env or {}, **kwargs)


async def _capture_env(transport: ClaudeAgentOptions) -> dict[str, str]:
    """Run connect() with a fake CLI and return the env dict it was started with."""
    return dict((await _launch(transport)).env)


# port of test_mcp_large_output.py::TestLayer1EnvPassthrough::test_max_mcp_output_tokens_reaches_subprocess
async def test_max_mcp_output_tokens_reaches_subprocess():
    transport = make_transport(env={"MAX_MCP_OUTPUT_TOKENS": "500000"})
    env = await _capture_env(transport)
    assert "MAX_MCP_OUTPUT_TOKENS" in env, (
        "MAX_MCP_OUTPUT_TOKENS was not passed to the CLI subprocess. "
        "Layer 1 will use its default (~25K tokens) and spill to plain error text."
    )
    assert env["MAX_MCP_OUTPUT_TOKENS"] == "500000"


# port of test_mcp_large_output.py::TestLayer1EnvPassthrough::test_default_absent_when_not_set
async def test_default_absent_when_not_set():
    env_without = {k: v for k, v in os.environ.items() if k != "MAX_MCP_OUTPUT_TOKENS"}
    with patch.dict(os.environ, env_without, clear=True):
        transport = make_transport(env={})
        captured = await _capture_env(transport)
    assert "MAX_MCP_OUTPUT_TOKENS" not in captured


# port of test_mcp_large_output.py::TestLayer1EnvPassthrough::test_arbitrary_threshold_values_pass_through
async def test_arbitrary_threshold_values_pass_through():
    for value in ("1", "25000", "1000000"):
        transport = make_transport(env={"MAX_MCP_OUTPUT_TOKENS": value})
        env = await _capture_env(transport)
        assert env.get("MAX_MCP_OUTPUT_TOKENS") == value


# port of test_mcp_large_output.py::TestEnvInheritanceAndPrecedence::test_inherited_from_os_environ
async def test_inherited_from_os_environ():
    with patch.dict(os.environ, {"MAX_MCP_OUTPUT_TOKENS": "200000"}):
        transport = make_transport(env={})
        env = await _capture_env(transport)
    assert env.get("MAX_MCP_OUTPUT_TOKENS") == "200000"


# port of test_mcp_large_output.py::TestEnvInheritanceAndPrecedence::test_options_env_overrides_os_environ
async def test_options_env_overrides_os_environ():
    with patch.dict(os.environ, {"MAX_MCP_OUTPUT_TOKENS": "1000"}):
        transport = make_transport(env={"MAX_MCP_OUTPUT_TOKENS": "500000"})
        env = await _capture_env(transport)
    assert env.get("MAX_MCP_OUTPUT_TOKENS") == "500000"


# port of test_mcp_large_output.py::TestEnvInheritanceAndPrecedence::test_claudecode_stripped
async def test_claudecode_stripped():
    with patch.dict(os.environ, {"CLAUDECODE": "1", "OTHER_VAR": "kept"}):
        transport = make_transport(env={})
        env = await _capture_env(transport)
    assert "CLAUDECODE" not in env
    assert env.get("OTHER_VAR") == "kept"


# port of test_mcp_large_output.py::TestEnvInheritanceAndPrecedence::test_sdk_managed_vars_always_set
async def test_sdk_managed_vars_always_set():
    transport = make_transport(env={})
    env = await _capture_env(transport)
    assert env.get("CLAUDE_CODE_ENTRYPOINT") == "sdk-py"
    assert "CLAUDE_AGENT_SDK_VERSION" in env


# port of test_mcp_large_output.py::TestEnvInheritanceAndPrecedence::test_options_env_cannot_override_sdk_version
async def test_options_env_cannot_override_sdk_version():
    transport = make_transport(env={"CLAUDE_AGENT_SDK_VERSION": "0.0.0"})
    env = await _capture_env(transport)
    assert env.get("CLAUDE_AGENT_SDK_VERSION") == _TRIO_CLAUDE_VERSION


# port of test_mcp_large_output.py::TestLayer2Boundary::test_content_under_50k_can_be_inline
def test_content_under_50k_can_be_inline():
    content = "x" * (_LAYER2_THRESHOLD_CHARS - 1)
    assert len(content) < _LAYER2_THRESHOLD_CHARS


# port of test_mcp_large_output.py::TestLayer2Boundary::test_customer_reproducer_exceeds_layer2_threshold
def test_customer_reproducer_exceeds_layer2_threshold():
    customer_content_size = 73_000  # chars in customer's reproducer
    assert customer_content_size > _LAYER2_THRESHOLD_CHARS, (
        f"Customer's {customer_content_size}-char result exceeds the "
        f"{_LAYER2_THRESHOLD_CHARS}-char layer-2 threshold and will be spilled "
        "to a temp file even when MAX_MCP_OUTPUT_TOKENS is raised."
    )


# port of test_mcp_large_output.py::TestLayer2Boundary::test_no_layer2_env_var_exists
async def test_no_layer2_env_var_exists():
    transport = make_transport(env={"MAX_MCP_OUTPUT_TOKENS": "500000"})
    env = await _capture_env(transport)
    assert "MAX_TOOL_RESULT_CHARS" not in env
    assert "DISABLE_TOOL_RESULT_PERSISTENCE" not in env


def parse_message(data: dict[str, Any]) -> Any:
    return decode_message(data)


def _user_message_with_tool_result(content: str, is_error: bool = False) -> dict[str, Any]:
    return {
        "type": "user",
        "message": {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_01ABC",
                    "content": content,
                    "is_error": is_error,
                }
            ],
        },
        "parent_tool_use_id": None,
        "tool_use_result": None,
        "uuid": "test-uuid-1234",
    }


# Below the layer-2 threshold — would be passed inline by the CLI.
INLINE_CONTENT = "x" * 1000

# What the CLI emits after layer-2 spill: <persisted-output> tag + 2 KB preview.
PERSISTED_CONTENT = (
    "<persisted-output>\n"
    "Output too large (73.0KB). Full output saved to: /tmp/.claude/tool-results/abc123.txt\n"
    "\nPreview (first 2KB):\n" + "x" * 2000 + "\n...\n</persisted-output>"
)


# port of test_mcp_large_output.py::TestToolResultParsing::test_inline_content_preserved
def test_inline_content_preserved():
    msg = parse_message(_user_message_with_tool_result(INLINE_CONTENT))
    assert isinstance(msg, UserMessage)
    blocks = [b for b in msg.content if isinstance(b, ToolResultBlock)]
    assert len(blocks) == 1
    assert blocks[0].content == INLINE_CONTENT
    assert not str(blocks[0].content).startswith("<persisted-output>")


# port of test_mcp_large_output.py::TestToolResultParsing::test_persisted_output_detectable_by_prefix
def test_persisted_output_detectable_by_prefix():
    msg = parse_message(_user_message_with_tool_result(PERSISTED_CONTENT))
    assert isinstance(msg, UserMessage)
    blocks = [b for b in msg.content if isinstance(b, ToolResultBlock)]
    assert len(blocks) == 1
    content = str(blocks[0].content)
    assert content.startswith("<persisted-output>"), (
        f"Expected persisted-output wrapper, got: {content[:100]!r}"
    )


# port of test_mcp_large_output.py::TestToolResultParsing::test_persisted_output_is_not_full_content
def test_persisted_output_is_not_full_content():
    msg = parse_message(_user_message_with_tool_result(PERSISTED_CONTENT))
    assert isinstance(msg, UserMessage)
    blocks = [b for b in msg.content if isinstance(b, ToolResultBlock)]
    content = str(blocks[0].content)
    assert len(content) < _LAYER2_THRESHOLD_CHARS, (
        f"Expected preview under {_LAYER2_THRESHOLD_CHARS} chars, got {len(content)}"
    )


# port of test_mcp_large_output.py::TestToolResultParsing::test_error_tool_result_flagged
def test_error_tool_result_flagged():
    msg = parse_message(_user_message_with_tool_result("tool failed", is_error=True))
    assert isinstance(msg, UserMessage)
    blocks = [b for b in msg.content if isinstance(b, ToolResultBlock)]
    assert blocks[0].is_error is True


# port of test_mcp_large_output.py::TestToolResultParsing::test_normal_tool_result_not_flagged
def test_normal_tool_result_not_flagged():
    msg = parse_message(_user_message_with_tool_result(INLINE_CONTENT, is_error=False))
    assert isinstance(msg, UserMessage)
    blocks = [b for b in msg.content if isinstance(b, ToolResultBlock)]
    assert blocks[0].is_error is False


def is_persisted_output(block: ToolResultBlock) -> bool:
    """Return True if the CLI spilled this tool result to a temp file (layer 2)."""
    return isinstance(block.content, str) and block.content.startswith("<persisted-output>")


# port of test_mcp_large_output.py::TestPersistedOutputDetectionHelper::test_helper_detects_persisted
def test_helper_detects_persisted():
    msg = parse_message(_user_message_with_tool_result(PERSISTED_CONTENT))
    assert isinstance(msg, UserMessage)
    blocks = [b for b in msg.content if isinstance(b, ToolResultBlock)]
    assert is_persisted_output(blocks[0])


# port of test_mcp_large_output.py::TestPersistedOutputDetectionHelper::test_helper_passes_inline
def test_helper_passes_inline():
    msg = parse_message(_user_message_with_tool_result(INLINE_CONTENT))
    assert isinstance(msg, UserMessage)
    blocks = [b for b in msg.content if isinstance(b, ToolResultBlock)]
    assert not is_persisted_output(blocks[0])
