"""Naming well-known causes of a CLI failure (sans-io: a pure function of what was seen).

When the CLI exits unexpectedly, :class:`~trio_claude.ProcessError` carries a ``reason`` (a stable,
machine-readable code from :data:`PROCESS_ERROR_REASONS`) and a ``hint`` (one actionable sentence)
when :func:`diagnose_exit` recognises the cause. It looks only at the exit status, the CLI's
stderr tail, the errors of an error ``result`` frame seen on stdout before the exit, and a little
context from the options (:class:`ExitContext`). Anything it does not recognise gets no reason
(``None``), and the error is exactly what it would have been without it.

The patterns are the CLI's own words as of 2.1.329 (see ``docs/getting-started.md``, "Errors");
a CLI that rewords a message loses its reason, never gets a wrong one.
"""

from __future__ import annotations

import re
import signal as _signal
from collections.abc import Sequence
from typing import Final, Literal, get_args

import attrs

from ._version import CLI_VERSION

__all__ = [
    "PROCESS_ERROR_REASONS",
    "Diagnosis",
    "ExitContext",
    "ProcessErrorReason",
    "diagnose_exit",
]

#: The closed set of :attr:`ProcessError.reason <trio_claude.ProcessError.reason>` codes.
ProcessErrorReason = Literal[
    "unknown_option",
    "bad_argument",
    "root_bypass_permissions",
    "session_not_found",
    "invalid_mcp_config",
    "killed",
    "out_of_memory",
]

#: Every :data:`ProcessErrorReason`, as a set (for checks at run time).
PROCESS_ERROR_REASONS: Final[frozenset[str]] = frozenset(get_args(ProcessErrorReason))

#: Signals that stop a process from outside (as opposed to a crash such as SIGSEGV).
_STOP_SIGNALS: Final = frozenset(
    {_signal.SIGKILL, _signal.SIGTERM, _signal.SIGINT, _signal.SIGHUP, _signal.SIGQUIT}
)
#: What a shell, ``docker`` or ``ssh`` wrapper reports for a child killed by SIGKILL.
_WRAPPED_SIGKILL: Final = 128 + _signal.SIGKILL

_DOCTOR: Final = "`python -m trio_claude doctor`"

#: The flags that make the CLI read mcp_servers / settings from the initialize request.
_INITIALIZE_DELIVERY_FLAGS: Final = frozenset({"--await-initialize", "--initialize-fields"})

# The patterns stay source text until a CLI fails: ``re.search`` compiles each the first time
# (and caches it), so importing trio_claude compiles none of them.
_OUT_OF_MEMORY: Final = r"(?i)out of memory|allocation failed"
_ROOT_BYPASS: Final = r"cannot be used with root/sudo privileges"
_NO_CONVERSATION: Final = r"(?i)No conversation found|--resume requires a valid session ID"
_INVALID_MCP: Final = r"Invalid MCP configuration"
# commander.js: "error: unknown option '--no-such-flag'"
_UNKNOWN_OPTION: Final = r"error: unknown option '([^']*)'"
# commander.js: "error: option '--model <model>' argument missing",
# "error: option '--max-turns <turns>' argument 'abc' is invalid. must be a number"
_COMMANDER_ARGUMENT: Final = r"error: option '(-[^ ',]*)[^']*' argument (?:missing|'.*' is invalid)"
# The CLI's own checks of flag values.
_CLI_ARGUMENT: Final = (
    r"Error: Invalid session ID"
    r"|Error processing (--[\w-]+)"
    r"|Error: (--[\w-]+) is not valid JSON"
    r"|Error: Invalid (--[\w-]+) configuration"
    r"|Error: Settings file not found"
)


@attrs.frozen(kw_only=True)
class ExitContext:
    """What the options say about a failed CLI, for :func:`diagnose_exit`.

    Attributes:
        permission_mode: The session's ``permission_mode``.
        running_as_root: Whether the CLI ran as root; ``None`` when unknown (a custom transport,
            or the ``user`` option).
        is_sandbox: The value of ``IS_SANDBOX`` in the CLI's environment, if set.
        resume: The session id the CLI was asked to resume, if any.
        config_dir: ``CLAUDE_CONFIG_DIR`` in the CLI's environment, if set.
        extra_args: The flag names of the ``extra_args`` option (without ``--``).
        stopped_by_sdk: Whether trio-claude itself was stopping the process (closing).
    """

    permission_mode: str | None = None
    running_as_root: bool | None = None
    is_sandbox: str | None = None
    resume: str | None = None
    config_dir: str | None = None
    extra_args: tuple[str, ...] = ()
    stopped_by_sdk: bool = False


@attrs.frozen
class Diagnosis:
    """A recognised cause of a CLI failure.

    Attributes:
        reason: The stable code (one of :data:`PROCESS_ERROR_REASONS`).
        hint: One actionable sentence for a human.
    """

    reason: ProcessErrorReason
    hint: str


def diagnose_exit(
    exit_code: int | None,
    stderr: str,
    *,
    result_errors: Sequence[str] = (),
    context: ExitContext | None = None,
) -> Diagnosis | None:
    """Names the cause of a CLI failure, if it is a well-known one.

    Args:
        exit_code: The process return code (negative signal number when killed by a signal).
        stderr: The tail of the CLI's stderr (already redacted).
        result_errors: The ``errors`` of an error ``result`` frame the CLI wrote before exiting.
        context: What the options say (see :class:`ExitContext`).

    Returns:
        The diagnosis, or ``None`` when the failure is not one this function knows.
    """
    ctx = context if context is not None else ExitContext()
    if re.search(_OUT_OF_MEMORY, stderr):
        return Diagnosis(
            "out_of_memory",
            "The CLI ran out of memory: give it more (a larger container or machine), or keep "
            "the conversation smaller (start a fresh session, compact, avoid huge tool outputs).",
        )
    if re.search(_ROOT_BYPASS, stderr):
        return Diagnosis("root_bypass_permissions", _root_bypass_hint(ctx))
    # The CLI says this one on stdout too (an error result before it exits).
    if any(re.search(_NO_CONVERSATION, text) for text in (stderr, *map(str, result_errors))):
        return Diagnosis("session_not_found", _session_not_found_hint(ctx))
    if re.search(_INVALID_MCP, stderr):
        return Diagnosis(
            "invalid_mcp_config",
            "The CLI rejected its MCP configuration: check every server in mcp_servers (and any "
            "--mcp-config in extra_args): its type and fields, and that config files exist.",
        )
    match = re.search(_UNKNOWN_OPTION, stderr)
    if match:
        return Diagnosis("unknown_option", _unknown_option_hint(match.group(1), ctx))
    match = re.search(_COMMANDER_ARGUMENT, stderr) or re.search(_CLI_ARGUMENT, stderr)
    if match:
        flag = next((g for g in match.groups() if g), None)
        return Diagnosis("bad_argument", _bad_argument_hint(flag, ctx))
    if not ctx.stopped_by_sdk and exit_code is not None:
        killed = _killed_hint(exit_code)
        if killed is not None:
            return Diagnosis("killed", killed)
    return None


def _flag_in_extra_args(flag: str, ctx: ExitContext) -> bool:
    name = flag.split("=", 1)[0].lstrip("-")
    return any(arg.lstrip("-") == name for arg in ctx.extra_args)


def _unknown_option_hint(flag: str, ctx: ExitContext) -> str:
    # Named without its value: "--flag=value" may carry a credential (extra_args).
    flag = flag.split("=", 1)[0]
    if _flag_in_extra_args(flag, ctx):
        return (
            f"extra_args passes {flag}, which this CLI does not know: check its spelling, and "
            f"whether the CLI is older than the flag ({_DOCTOR}; trio-claude is tested with "
            f"CLI {CLI_VERSION})."
        )
    hint = (
        f"The CLI does not know {flag}, which trio-claude passed for your options: the CLI is "
        f"probably older than the {CLI_VERSION} trio-claude is tested with; run {_DOCTOR}, "
        "and `python -m trio_claude install-cli` to install the tested version"
    )
    if flag in _INITIALIZE_DELIVERY_FLAGS:
        hint += (
            " (or pass mcp_servers_delivery='argv' / settings_delivery='argv' to put those "
            "options back on the command line, where other local users can read them)"
        )
    return hint + "."


def _bad_argument_hint(flag: str | None, ctx: ExitContext) -> str:
    what = f"the value of {flag}" if flag else "a flag's value"
    where = (
        "extra_args"
        if flag and _flag_in_extra_args(flag, ctx)
        else "the option that sets it (or extra_args)"
    )
    return f"The CLI rejected {what}: check {where} against `claude --help`."


def _root_bypass_hint(ctx: ExitContext) -> str:
    # Our own process runs as root: the `user` option is the way out. Otherwise the CLI runs as
    # root inside a custom transport (a container) or as the `user` given.
    non_root = (
        "run the CLI as another user (the `user` option)"
        if ctx.running_as_root
        else "run the CLI as a non-root user"
    )
    what = (
        "permission_mode='bypassPermissions' (--dangerously-skip-permissions)"
        if ctx.permission_mode == "bypassPermissions"
        else "--dangerously-skip-permissions (or allow_dangerously_skip_permissions)"
    )
    hint = (
        f"The CLI refuses {what} as root: use another permission mode, {non_root}, or, only "
        "inside a real sandbox (a container or VM), set env={'IS_SANDBOX': '1'}"
    )
    if ctx.is_sandbox and ctx.is_sandbox != "1":
        hint += f" (IS_SANDBOX is {ctx.is_sandbox!r} here; the CLI accepts only '1')"
    return hint + "."


def _session_not_found_hint(ctx: ExitContext) -> str:
    which = f"resume={ctx.resume!r} names" if ctx.resume else "The session to resume names"
    config = f"CLAUDE_CONFIG_DIR ({ctx.config_dir})" if ctx.config_dir else "CLAUDE_CONFIG_DIR"
    return (
        f"{which} no conversation this CLI can see: resuming needs the same {config} as the "
        "session being resumed, whose transcript lives there "
        "(tc.list_sessions(config_dir=...) lists what a config dir holds)."
    )


def _killed_hint(exit_code: int) -> str | None:
    if exit_code == _WRAPPED_SIGKILL:
        return (
            "The CLI's wrapper reported exit code 137 (128 + SIGKILL), which trio-claude did not "
            "send: often the kernel's OOM killer (check `dmesg`) or a container memory limit."
        )
    if exit_code >= 0:
        return None
    try:
        number = _signal.Signals(-exit_code)
    except ValueError:
        return None
    if number not in _STOP_SIGNALS:
        return None  # a crash (SIGSEGV, SIGABRT...), not something stopping the CLI
    if number == _signal.SIGKILL:
        return (
            "The CLI was killed by SIGKILL, which trio-claude did not send: often the kernel's "
            "OOM killer (check `dmesg`) or something else outside the SDK."
        )
    return (
        f"The CLI was stopped by {number.name}, which trio-claude did not send: something "
        "outside the SDK (a supervisor, a container runtime, a user) stopped it."
    )
