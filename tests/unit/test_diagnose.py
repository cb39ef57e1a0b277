"""Naming well-known causes of a CLI failure (``trio_claude/_diagnose.py``) and their place in
``ProcessError``.

The stderr texts are the real CLI 2.1.329's (run by hand with the flags named in each case).
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import get_args

import pytest

import trio_claude as tc
from trio_claude._diagnose import PROCESS_ERROR_REASONS, ExitContext, diagnose_exit

SID = "5f1b6d3e-1111-4222-8333-444455556666"

# (id, exit code, stderr, result errors, context, expected reason, words the hint must contain)
CASES: list[tuple[str, int | None, str, list[str], ExitContext, str | None, list[str]]] = [
    (
        "unknown option from extra_args",
        1,
        "error: unknown option '--no-such-flag'\n",
        [],
        ExitContext(extra_args=("no-such-flag",)),
        "unknown_option",
        ["extra_args", "--no-such-flag", "doctor", tc.CLI_VERSION],
    ),
    (
        "unknown option the SDK passed (an old CLI)",
        1,
        "error: unknown option '--resume-drops-turn=3'\n",
        [],
        ExitContext(),
        "unknown_option",
        ["--resume-drops-turn", "older", "doctor", "install-cli"],
    ),
    (
        "argument missing",
        1,
        "error: option '--model <model>' argument missing\n",
        [],
        ExitContext(),
        "bad_argument",
        ["--model"],
    ),
    (
        "invalid choice",
        1,
        "error: option '--permission-mode <mode>' argument 'foo' is invalid. Allowed choices "
        "are acceptEdits, auto, bypassPermissions, manual, dontAsk, plan.\n",
        [],
        ExitContext(),
        "bad_argument",
        ["--permission-mode"],
    ),
    (
        "invalid number from extra_args",
        1,
        "error: option '--max-turns <turns>' argument 'abc' is invalid. must be a number\n",
        [],
        ExitContext(extra_args=("max-turns",)),
        "bad_argument",
        ["--max-turns", "extra_args"],
    ),
    (
        "the CLI's own check of a value",
        1,
        "Error processing --setting-sources: Invalid setting source: bogus. Valid options are: "
        "user, project, local\n",
        [],
        ExitContext(),
        "bad_argument",
        ["--setting-sources"],
    ),
    (
        "invalid session id",
        1,
        "Error: Invalid session ID. Must be a valid UUID.\n",
        [],
        ExitContext(),
        "bad_argument",
        ["a flag's value"],
    ),
    (
        "bypassPermissions as root",
        1,
        "--dangerously-skip-permissions cannot be used with root/sudo privileges for security "
        "reasons\n",
        [],
        ExitContext(permission_mode="bypassPermissions", running_as_root=True),
        "root_bypass_permissions",
        ["another permission mode", "`user` option", "IS_SANDBOX", "sandbox"],
    ),
    (
        "allow_dangerously_skip_permissions as root, in a container",
        1,
        "--dangerously-skip-permissions cannot be used with root/sudo privileges for security "
        "reasons\n",
        [],
        ExitContext(running_as_root=None),
        "root_bypass_permissions",
        ["allow_dangerously_skip_permissions", "non-root user"],
    ),
    (
        "bypassPermissions as root with IS_SANDBOX=true",
        1,
        "--dangerously-skip-permissions cannot be used with root/sudo privileges for security "
        "reasons\n",
        [],
        ExitContext(permission_mode="bypassPermissions", is_sandbox="true"),
        "root_bypass_permissions",
        ["IS_SANDBOX is 'true' here", "only '1'"],
    ),
    (
        "resume of an unknown id: stderr and the result frame",
        1,
        f"No conversation found with session ID: {SID}\n",
        [f"No conversation found with session ID: {SID}"],
        ExitContext(resume=SID, config_dir="/cfg"),
        "session_not_found",
        [SID, "CLAUDE_CONFIG_DIR (/cfg)"],
    ),
    (
        "resume of an unknown id: only the result frame (no stderr)",
        1,
        "",
        [f"No conversation found with session ID: {SID}"],
        ExitContext(resume=SID),
        "session_not_found",
        ["CLAUDE_CONFIG_DIR"],
    ),
    (
        "resume of something that is not a uuid nor a title",
        1,
        "Error: --resume requires a valid session ID or session title when used with --print.\n",
        [],
        ExitContext(resume="notauuid"),
        "session_not_found",
        ["notauuid"],
    ),
    (
        "MCP config file not found",
        1,
        "Error: Invalid MCP configuration:\nMCP config file not found: /nonexistent.json\n",
        [],
        ExitContext(),
        "invalid_mcp_config",
        ["mcp_servers"],
    ),
    (
        "SIGKILL the SDK did not send",
        -signal.SIGKILL,
        "",
        [],
        ExitContext(),
        "killed",
        ["SIGKILL", "OOM killer", "dmesg"],
    ),
    (
        "SIGTERM the SDK did not send",
        -signal.SIGTERM,
        "",
        [],
        ExitContext(),
        "killed",
        ["SIGTERM", "outside the SDK"],
    ),
    (
        "a wrapper reporting 128 + SIGKILL",
        137,
        "",
        [],
        ExitContext(),
        "killed",
        ["137", "dmesg"],
    ),
    (
        "V8 heap exhausted",
        134,
        "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory\n",
        [],
        ExitContext(),
        "out_of_memory",
        ["memory"],
    ),
    (
        "out of memory, then killed: the text wins",
        -signal.SIGKILL,
        "RangeError: Out of memory\n",
        [],
        ExitContext(),
        "out_of_memory",
        ["memory"],
    ),
    (
        "only stderr speaks of memory, not an earlier error result",
        -signal.SIGKILL,
        "",
        ["Bash failed: out of memory"],
        ExitContext(),
        "killed",
        ["SIGKILL"],
    ),
    # Not recognised: no reason, no hint.
    ("an unknown failure", 1, "Error: something else went wrong\n", [], ExitContext(), None, []),
    ("an unknown exit code, no stderr", 7, "", [], ExitContext(), None, []),
    ("a crash by SIGSEGV", -signal.SIGSEGV, "", [], ExitContext(), None, []),
    ("SIGABRT without words", -signal.SIGABRT, "", [], ExitContext(), None, []),
    (
        "SIGKILL the SDK sent while closing",
        -signal.SIGKILL,
        "",
        [],
        ExitContext(stopped_by_sdk=True),
        None,
        [],
    ),
    (
        "an error result that is not about resuming",
        1,
        "",
        ["API Error: 500 Internal Server Error"],
        ExitContext(),
        None,
        [],
    ),
    ("output closed, still running", None, "", [], ExitContext(), None, []),
]


@pytest.mark.parametrize(
    ("code", "stderr", "errors", "context", "reason", "words"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_diagnose_exit_table(
    code: int | None,
    stderr: str,
    errors: list[str],
    context: ExitContext,
    reason: str | None,
    words: list[str],
) -> None:
    found = diagnose_exit(code, stderr, result_errors=errors, context=context)
    if reason is None:
        assert found is None
        return
    assert found is not None
    assert found.reason == reason
    for word in words:
        assert word in found.hint, (word, found.hint)
    # One sentence, no line breaks: it is the last line of the error's text.
    assert "\n" not in found.hint and found.hint.endswith(".")


def test_the_reason_codes_are_a_closed_documented_set() -> None:
    assert set(get_args(tc.ProcessErrorReason)) == PROCESS_ERROR_REASONS
    assert {case[5] for case in CASES} - {None} == PROCESS_ERROR_REASONS
    docstring = tc.ProcessError.__doc__ or ""
    errors_doc = (Path(__file__).resolve().parents[2] / "docs" / "getting-started.md").read_text()
    for code in PROCESS_ERROR_REASONS:
        assert f'"{code}"' in docstring
        assert f"`{code}`" in errors_doc


def test_unrecognised_failures_keep_the_old_message() -> None:
    error = tc.ProcessError("the CLI exited unexpectedly", exit_code=1, stderr="boom\n")
    assert error.reason is None and error.hint is None
    assert str(error) == "the CLI exited unexpectedly (exit code: 1)\nError output: boom"


def test_the_hint_is_the_last_line_of_the_message() -> None:
    found = diagnose_exit(-signal.SIGKILL, "", context=ExitContext())
    assert found is not None
    error = tc.ProcessError(
        "the CLI exited unexpectedly",
        exit_code=-signal.SIGKILL,
        stderr="last words\n",
        reason=found.reason,
        hint=found.hint,
    )
    assert error.reason == "killed" and error.hint == found.hint
    lines = str(error).splitlines()
    assert lines[0] == "the CLI exited unexpectedly (exit code: -9, SIGKILL)"
    assert lines[-2] == "Error output: last words"
    assert lines[-1] == f"hint (killed): {found.hint}"


def test_credentials_in_stderr_stay_out_of_the_hint() -> None:
    key = "sk-ant-api03-" + "x" * 40
    stderr = f"error: unknown option '--api-key={key}'\n"
    found = diagnose_exit(1, stderr, context=ExitContext())
    assert found is not None and found.reason == "unknown_option"
    error = tc.ProcessError(
        "the CLI exited unexpectedly",
        exit_code=1,
        stderr=stderr,
        reason=found.reason,
        hint=found.hint,
    )
    assert key not in str(error) and key not in (error.hint or "") and key not in error.stderr
    assert "--api-key" in (error.hint or "")
