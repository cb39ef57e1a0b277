"""Why a session's output ended: the typed error its callers get (next to ``_diagnose.py``).

The session collects the facts (exit status, stderr tail, the last result, whether the SDK was
closing, a broken drain, a resource-limit breach, a stdout held open after the exit) into an
:class:`OutputEnd` and asks :func:`end_error` for the one error every waiter then sees. The
reasons and hints of :class:`~trio_claude.ProcessError` come from :func:`diagnose_exit`.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Sequence

import attrs

from ._diagnose import ExitContext, diagnose_exit
from ._errors import ProcessError, _error_entries, result_error
from ._limits import LimitBreach, exit_breach
from ._options import ClaudeAgentOptions
from ._redact import redact
from ._transport._base import LaunchSpec
from .types import ResultMessage

__all__ = ["OutputEnd", "end_error", "process_error"]


@attrs.frozen(kw_only=True)
class OutputEnd:
    """What the session saw when its output ended.

    Attributes:
        exit_code: The CLI's exit status (``None``: it did not exit in time).
        closing: Whether the SDK was closing the session (``aclose()``).
        broken: Why the session broke, if it did (an interrupted turn never ended).
        breach: A ``resource_limits`` limit the CLI was killed for, if any.
        stdout_held: Whether the CLI exited but its stdout stayed open (a process it started
            holds it) and the session stopped reading.
        live_turn_open: Whether a turn a receiver waits for had not ended.
        stderr: The redacted stderr tail.
        last_result: The last result read.
        cli_version: The CLI's version, if known.
        error_result_last: The last result read if it is an error and no message that moves
            the conversation on came after it (:func:`moves_on`; as the official SDK keeps it):
            an exit over it is that result's failure; once the conversation moved on, it is not.
    """

    exit_code: int | None
    closing: bool
    broken: BaseException | None
    breach: LimitBreach | None
    stdout_held: bool
    live_turn_open: bool
    stderr: str
    last_result: ResultMessage | None
    cli_version: str | None
    error_result_last: ResultMessage | None = None


#: Messages that do not move the conversation on past an error result (by class name: their
#: classes are made on first use): the state marker after a turn, and what became of the prompts
#: queued behind it (``command_lifecycle`` ``cancelled``/``discarded`` when a session ends
#: mid-turn). Any other message forgets the error result (``error_result_last``).
_AFTER_A_TURN = frozenset({"SessionStateChangedMessage", "CommandLifecycleMessage"})


def moves_on(message: object) -> bool:
    """Whether ``message``, read after an error result, means the conversation moved on (an
    exit is then a failure of its own, not that result's)."""
    return message.__class__.__name__ not in _AFTER_A_TURN


def end_error(
    end: OutputEnd, options: ClaudeAgentOptions, spec: LaunchSpec, secrets: Sequence[str]
) -> BaseException | None:
    """The error the end of the output means for the session's callers (``None``: clean)."""
    code = end.exit_code
    if end.closing:
        return end.broken
    if end.breach is not None:
        return end.breach.error(exit_code=code, stderr=end.stderr, cli_version=end.cli_version)
    if code is None:
        return process_error(
            "the CLI closed its output but did not exit", None, end, options, spec, secrets
        )
    if end.stdout_held:
        return process_error(
            "the CLI exited, but a process it started kept its output open",
            code,
            end,
            options,
            spec,
            secrets,
        )
    if code == 0:
        if end.live_turn_open:
            return process_error(
                "the CLI exited before the turn's result",
                code,
                end,
                options,
                spec,
                secrets,
            )
        return None
    return process_error("the CLI exited unexpectedly", code, end, options, spec, secrets)


def process_error(
    message: str,
    code: int | None,
    end: OutputEnd,
    options: ClaudeAgentOptions,
    spec: LaunchSpec,
    secrets: Sequence[str],
) -> ProcessError:
    """A ProcessError for the CLI's exit, with a reason and a hint if the cause is known."""
    last = end.last_result
    own_process = options.transport is None and options.user is None
    context = ExitContext(
        permission_mode=options.permission_mode,
        running_as_root=(os.geteuid() == 0) if own_process and hasattr(os, "geteuid") else None,
        is_sandbox=spec.env.get("IS_SANDBOX"),
        resume=options.resume,
        config_dir=spec.env.get("CLAUDE_CONFIG_DIR"),
        extra_args=tuple(options.extra_args),
        stopped_by_sdk=end.closing,
    )
    # (Strings only, as ResultError takes them: a hostile entry nested a thousand deep has
    # no str() to give.)
    errors = [redact(e, secrets) for e in _error_entries(last.errors)] if last else []
    found = diagnose_exit(
        code,
        end.stderr,
        result_errors=errors if last is not None and last.is_error else (),
        context=context,
    )
    refused = last.startup_failure_reason if last is not None else None
    if refused:
        # The CLI said why in a result before exiting (CLAUDE_CODE_STARTUP_FAILURE_RESULTS, or
        # always for some causes): that is the message, not "exited unexpectedly".
        message = f"Claude Code refused to start ({refused})"
        if errors:
            message += f": {errors[0]}"
    exited = ProcessError(
        message,
        exit_code=code,
        stderr=end.stderr,
        cli_version=end.cli_version,
        reason=found.reason if found else None,
        hint=found.hint if found else None,
        startup_failure_reason=refused,
        secrets=secrets,
    )
    # It wrote an error result and exited over it, no later turn open (a refused --resume,
    # say): the result says why.
    over = end.error_result_last if not refused and not end.live_turn_open else None
    return exit_over_result(exited, over, secrets)


def exit_over_result(
    exited: ProcessError, result: ResultMessage | None, secrets: Sequence[str]
) -> ProcessError:
    """The error for a CLI that exited (``exited``) with the error result ``result`` last:
    a :class:`ResultError` caused by the exit, as the official SDK raises it. ``exited``
    itself when there is no such result, or when the CLI was killed by a signal (then it is
    the kill's error, in both forms)."""
    if result is None or exited.exit_code is None or _by_signal(exited.exit_code):
        return exited
    error = result_error(
        result,
        exit_code=exited.exit_code,
        stderr=exited.stderr,
        cli_version=exited.cli_version,
        reason=exited.reason,
        hint=exited.hint,
        secrets=secrets,
    )
    error.__cause__ = exited
    return error


_NSIG = getattr(signal, "NSIG", 65)


def _by_signal(code: int) -> bool:
    """Whether an exit status says the CLI was killed by a signal: negative from a local
    process, 128 + the signal's number from a wrapper that reports it (the SSH and Ray
    supervisors, a shell). (0 is no failure at all.)"""
    return code <= 0 or 128 < code < 128 + _NSIG


def limit_breach(
    options: ClaudeAgentOptions, polled: LimitBreach | None, code: int | None, stderr: str
) -> LimitBreach | None:
    """The ``resource_limits`` limit the CLI was killed for or died of, if any."""
    if polled is not None:
        return polled
    return exit_breach(options.resource_limits, code, stderr)
