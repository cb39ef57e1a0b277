"""The error hierarchy. Every error trio-claude raises subclasses :class:`ClaudeSDKError`.

Names follow the official Python SDK where it has one, so migrating is a rename of the import.
Low-level errors (``OSError``, ``trio.BrokenResourceError``, JSON errors) are mapped to these at the
boundary where they happen, with the original chained as ``__cause__``.
"""

from __future__ import annotations

import signal as _signal
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ._diagnose import ProcessErrorReason
from ._redact import redact, redact_preview

if TYPE_CHECKING:
    from .types import ResultMessage

__all__ = [
    "BudgetExceededError",
    "CLIConnectionError",
    "CLIJSONDecodeError",
    "CLINotFoundError",
    "ClaudeSDKError",
    "ConcurrentReceiveError",
    "ConfigurationError",
    "ControlRequestError",
    "ControlTimeoutError",
    "InvalidPromptError",
    "MessageParseError",
    "NoTurnError",
    "ProcessError",
    "ProcessErrorReason",
    "ResourceLimitError",
    "ResultError",
    "SessionClosedError",
    "StallTimeoutError",
    "TurnInProgressError",
    "TurnInterruptedError",
    "WrongEventLoopError",
]


class ClaudeSDKError(Exception):
    """Base class of every error raised by trio-claude."""


class ConfigurationError(ClaudeSDKError, ValueError):
    """The options are invalid or contradictory. Raised before any process is started."""


class InvalidPromptError(ConfigurationError):
    """A prompt, or another frame the SDK writes to the CLI, cannot be encoded as JSON.

    Typically a lone surrogate (``"\\ud83d"``, half of a UTF-16 pair: not valid Unicode) in the
    text of a prompt, a content block, a ``UserMessage``, a raw ``user`` dict or the argument of
    a control request (``set_model("\\ud83d")``); also a value JSON cannot represent (an object,
    an integer beyond 64 bits, a non-string dict key). Raised by ``send()`` (and the control
    methods) before anything is written, so the session stays usable. The message names where in
    the frame the problem is (``$.message.content[0].text``), never the whole prompt.
    """


class CLIConnectionError(ClaudeSDKError):
    """The connection to the Claude Code CLI could not be made or was lost."""


class CLINotFoundError(CLIConnectionError):
    """No Claude Code CLI could be found.

    Attributes:
        cli_path: The explicit path that was tried, if any.
    """

    def __init__(self, message: str, cli_path: str | None = None) -> None:
        # The message quotes the path, which may be a URL with a password or a key in its
        # query (masked by shape); ``cli_path`` keeps it as given.
        super().__init__(redact(message))
        self.cli_path = cli_path


class SessionClosedError(CLIConnectionError):
    """The session is closed (by ``aclose()``, by a fatal error, or because the CLI went away)."""


#: The longest error-result text a ResultError message quotes (``.result`` keeps it whole).
_RESULT_TEXT_LIMIT = 2000


class ProcessError(CLIConnectionError):
    """The CLI process exited unexpectedly or failed.

    Attributes:
        exit_code: The process return code; negative signal number when killed by a signal (as
            :mod:`subprocess` reports it); ``None`` if it is unknown.
        signal: The name of the signal that killed the process (``"SIGKILL"``), or ``None``.
        stderr: The tail of the CLI's standard error, credentials masked (``_redact.py``).
        cli_version: The CLI's version, when it was known.
        reason: A stable, machine-readable code naming a well-known cause (one of
            :data:`ProcessErrorReason`: ``"unknown_option"``, ``"bad_argument"``,
            ``"root_bypass_permissions"``, ``"session_not_found"``, ``"invalid_mcp_config"``,
            ``"killed"``, ``"out_of_memory"``), or ``None`` when the cause is not recognised.
        hint: One actionable sentence about that cause (also the last line of the message), or
            ``None``.
        startup_failure_reason: Why Claude Code refused to start, when it said so in a result
            before exiting (one of :data:`~trio_claude.StartupFailureReason`, such as
            ``"bypass_root"`` or ``"cwd_unavailable"``), else ``None``.

    The constructor's ``secrets`` (keyword) are the session's secret values
    (:func:`~trio_claude._redact.secret_values`): masked by value in the message, ``stderr``
    and ``hint``, as well as everything shaped like a credential.
    """

    def __init__(
        self,
        message: str,
        *,
        exit_code: int | None = None,
        stderr: str = "",
        cli_version: str | None = None,
        reason: ProcessErrorReason | None = None,
        hint: str | None = None,
        startup_failure_reason: str | None = None,
        secrets: Iterable[str] = (),
    ) -> None:
        # The CLI's stderr can echo a key (an auth error, a debug log): never carry it on.
        # Redacted whole, before the message below keeps only its tail.
        secrets = tuple(secrets)
        message = redact(message, secrets)
        stderr = redact(stderr, secrets)
        hint = redact(hint, secrets) if hint else None
        self.exit_code = exit_code
        self.reason: ProcessErrorReason | None = reason
        self.hint = hint
        self.signal: str | None = None
        if exit_code is not None and exit_code < 0:
            try:
                self.signal = _signal.Signals(-exit_code).name
            except ValueError:
                self.signal = f"signal {-exit_code}"
        self.stderr = stderr
        self.cli_version = cli_version
        self.startup_failure_reason = startup_failure_reason
        details = message
        # The official SDK's wording: code that matches on it runs unchanged.
        if exit_code is not None:
            details += f" (exit code: {exit_code}"
            details += f", {self.signal})" if self.signal else ")"
        if stderr.strip():
            tail = stderr.strip()[-2000:]
            details += f"\nError output: {tail}"
        if reason is not None:
            details += f"\nhint ({reason}): {hint}" if hint else f"\ncause: {reason}"
        super().__init__(details)


class ResultError(ProcessError):
    """The CLI ended a turn with an error result (``is_error: true``).

    Raised by ``run()`` and ``ask()`` when the turn's result is an error, and by the iterator
    form of ``query()`` (``async for m in query(...)``) after it has yielded an error result
    the CLI then exited non-zero for, as the official SDK does. The other streaming APIs deliver
    the result message and raise nothing.

    A :class:`ProcessError` (as in the official SDK), so ``except ProcessError`` catches it;
    ``exit_code`` is the CLI's exit status when the CLI exited over the result (the iterator
    form of ``query()``), else ``None`` (``run()``, ``ask()``: the CLI was still running).

    The message quotes at most 2,000 characters of the result text, masked before it is cut (a
    gateway's error page can be megabytes); ``result`` and ``result_message`` keep it whole.

    Attributes:
        result_message: The :class:`~trio_claude.ResultMessage` that reported the error.
        subtype: Its ``subtype`` (``error_during_execution``, ``error_max_turns``, ...).
        errors: Its ``errors`` list.
        result: Its result text (for an API failure, the ``"API Error: ..."`` prose), or ``None``.
        api_error_status: The HTTP status of the API error, if the turn failed on one.
        terminal_reason: Why the agent loop stopped, as the CLI reports it.
        session_id: The session the result belongs to, or ``None``.
        data: The result frame as the CLI sent it (``result_message.raw``; empty when the
            message was built by hand).
        exit_code: See above; ``signal``, ``stderr``, ``cli_version``, ``reason`` and ``hint``
            are the :class:`ProcessError` ones, set when the CLI exited over the result.
    """

    def __init__(
        self,
        result_message: ResultMessage,
        *,
        exit_code: int | None = None,
        stderr: str = "",
        cli_version: str | None = None,
        reason: ProcessErrorReason | None = None,
        hint: str | None = None,
        secrets: Iterable[str] = (),
    ) -> None:
        self.result_message = result_message
        self.subtype = result_message.subtype
        self.errors = _error_entries(result_message.errors)
        self.result = result_message.result
        self.api_error_status = result_message.api_error_status
        self.terminal_reason = result_message.terminal_reason
        self.session_id: str | None = result_message.session_id or None
        self.data: dict[str, Any] = result_message.raw
        # The attributes keep the CLI's words; the message masks any key they quote (by shape,
        # and by value with the session's ``secrets``).
        # The official SDK's words first (code matches on them), then what kind of failure
        # it is, when the result says. Bounded (masked before it is cut): a gateway's 1 MB
        # error page made a 1 MB message for every log line and traceback; the attributes
        # keep it whole.
        text = redact_preview(_error_result_text(result_message), secrets, _RESULT_TEXT_LIMIT)
        kind = _error_result_kind(result_message)
        super().__init__(
            f"Claude Code returned an error result: {text}" + (f" ({kind})" if kind else ""),
            exit_code=exit_code,
            stderr=stderr,
            cli_version=cli_version,
            reason=reason,
            hint=hint,
            secrets=secrets,
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled (multiprocessing, copy) from the result, not from the message text; the
        # message (masked with secrets the copy does not know) is restored as it was.
        args = (
            self.result_message,
            self.exit_code,
            self.stderr,
            self.cli_version,
            self.reason,
            self.hint,
        )
        state = {"__cause__": self.__cause__, "args": self.args}
        return (_rebuild_result_error, (*args, type(self)), state)

    def __setstate__(self, state: dict[str, Any] | None) -> None:
        state = state or {}
        self.__cause__ = state.get("__cause__")
        if "args" in state:
            self.args = state["args"]


class TurnInterruptedError(ResultError):
    """The turn was interrupted before it answered: its result is the interrupted one.

    Raised where a :class:`ResultError` would be (``run()``, ``collect_response()``,
    ``ask()``) when the CLI says it aborted the turn (``terminal_reason`` ``aborted_streaming``
    or ``aborted_tools``), after an ``interrupt()`` from another task, say. It is
    a ``ResultError``, so ``except ResultError`` still catches it; catch it first to tell an
    interrupt you asked for from a failure.
    """


def result_error(result: ResultMessage, **fields: Any) -> ResultError:
    """The error for an error result: :class:`TurnInterruptedError` for an aborted turn."""
    aborted = (result.terminal_reason or "").startswith("aborted")
    return (TurnInterruptedError if aborted else ResultError)(result, **fields)


def _rebuild_result_error(
    result_message: ResultMessage,
    exit_code: int | None,
    stderr: str,
    cli_version: str | None,
    reason: ProcessErrorReason | None,
    hint: str | None,
    cls: type[ResultError] = ResultError,
) -> ResultError:
    return cls(
        result_message,
        exit_code=exit_code,
        stderr=stderr,
        cli_version=cli_version,
        reason=reason,
        hint=hint,
    )


def _error_result_kind(result: ResultMessage) -> str | None:
    """What kind of failure an error result is, in words, when the CLI says its cause."""
    reason = result.terminal_reason or ""
    if reason.startswith("aborted"):
        return f"the turn was interrupted: {reason}"
    if result.api_error_status is not None:
        if not (_error_entries(result.errors) or (result.result or "").strip()):
            return None  # the text is the status already
        return f"the model API refused the request: HTTP {result.api_error_status}"
    if result.subtype and result.subtype != "success" and _error_entries(result.errors):
        return result.subtype  # (else the text is the subtype already, or the result's prose)
    return None


def _error_entries(errors: object) -> list[str]:
    """A result's ``errors`` as the official SDK reads them: its strings, stripped, blank ones
    dropped; a bare string is one error."""
    if isinstance(errors, str):
        errors = [errors]
    if not isinstance(errors, (list, tuple)):
        return []
    return [e.strip() for e in errors if isinstance(e, str) and e.strip()]


def _error_result_text(result: ResultMessage) -> str:
    """The most telling text of an error result: its ``errors``, else its result text (an API
    failure arrives as ``subtype: "success"`` with the prose in ``result``), else a non-success
    subtype, else the HTTP status."""
    errors = _error_entries(result.errors)
    if errors:
        return "; ".join(errors)
    if result.result and result.result.strip():
        return result.result.strip()
    if result.subtype and result.subtype != "success":
        return result.subtype
    if result.api_error_status is not None:
        return f"API error (HTTP {result.api_error_status})"
    return "unknown error"


class NoTurnError(ClaudeSDKError):
    """``collect_response()`` was called with no turn open: there is nothing to collect.

    No prompt was sent, its result was already delivered (one result can answer several
    prompts that the CLI folded into one turn), or its receiver was cancelled (the turn was
    interrupted and dropped). ``receive_response()`` in the same situation ends at once.
    """


class TurnInProgressError(ClaudeSDKError, RuntimeError):
    """``run()`` was called before an earlier turn's messages were all received.

    ``run(prompt)`` returns the turn of *its* prompt. When an earlier turn is still open, or its
    result has been read but not received (a ``receive_response()`` loop left with ``break``,
    or a ``send()`` not followed by a receive), the turn ``run()`` would collect is that earlier
    one. Nothing is sent. Receive the rest with ``receive_response()`` (or ``collect_response()``),
    or stop the earlier turn with ``interrupt()`` and then receive its end, and call ``run()``
    again.
    """


class ConcurrentReceiveError(ClaudeSDKError, RuntimeError):
    """Two tasks received from one session at the same time.

    A session's messages go to one receiver: with two tasks iterating ``receive_response()``
    or ``receive_messages()`` at once, each would get some of them. Receive in one task and hand
    the messages on (a memory channel), or open one session per task. Raised in the task that
    started waiting second; the other one goes on.
    """


class WrongEventLoopError(ClaudeSDKError, RuntimeError):
    """The SDK was called outside the trio run it belongs to.

    trio-claude runs on trio: code written for the official SDK under asyncio (``asyncio.run``,
    or ``anyio.run`` with its default backend) starts with ``trio.run(main)`` instead (or
    ``anyio.run(main, backend="trio")``). A session belongs to the ``trio.run`` that opened it;
    from another thread, use :mod:`trio_claude.blocking` or ``trio.from_thread``. Raised before
    anything is sent or changed.
    """


class CLIJSONDecodeError(ClaudeSDKError):
    """A line from the CLI could not be decoded as JSON.

    The session does not raise this for stray lines (they are logged and counted); it is raised by
    strict decoding helpers.

    Attributes:
        line: The offending line (possibly truncated). The message quotes at most 200
            characters of it, credentials masked before it is cut.
        original_error: The underlying decoder error.
    """

    def __init__(self, line: str, original_error: Exception) -> None:
        self.line = line
        self.original_error = original_error
        super().__init__(f"Failed to decode JSON: {redact_preview(line, (), 200)!r}")


class MessageParseError(ClaudeSDKError):
    """A frame was valid JSON but not a well-formed message.

    The message names where and what is wrong without quoting long values, and masks anything
    shaped like a credential; ``data`` is the frame as received.

    Attributes:
        data: The raw frame.
    """

    def __init__(self, message: str, data: dict[str, Any] | None = None) -> None:
        self.data = data
        super().__init__(redact(message))


class ControlRequestError(ClaudeSDKError):
    """The CLI answered a control request with an error.

    Attributes:
        subtype: The request's subtype (``set_model``, ...).
        error: The CLI's error text.
        error_code: The CLI's machine-readable code, when given.

    ``secrets`` (keyword): the session's secret values, masked by value in the message.
    """

    def __init__(
        self,
        subtype: str,
        error: str,
        error_code: str | None = None,
        *,
        secrets: Iterable[str] = (),
    ) -> None:
        self.subtype = subtype
        self.error = error
        self.error_code = error_code
        # ``error`` is the CLI's text, kept as is; the message masks any key it quotes.
        super().__init__(redact(f"control request {subtype!r} failed: {error}", secrets))


class ControlTimeoutError(ControlRequestError):
    """The CLI did not answer a control request within ``control_timeout``."""

    def __init__(self, subtype: str, timeout: float) -> None:
        self.timeout = timeout
        super().__init__(subtype, f"no answer within {timeout:g} s")


def initialize_failed(
    error: ControlRequestError, stderr_tail: str, secrets: Iterable[str] = ()
) -> CLIConnectionError:
    """The error of a start whose ``initialize`` was refused or not answered in time.

    Both are failures to connect (``CLIConnectionError``, as ``open_session`` documents), not
    a control request's failure on a live session. ``secrets``: the session's secret values,
    masked in the CLI's text by value.
    """
    if isinstance(error, ControlTimeoutError):
        # Imported here: this module is part of the sans-io core's imports, and _loop is trio's.
        from ._loop import virtual_clock_hint

        text = f"the CLI did not answer initialize within {error.timeout:g} s{virtual_clock_hint()}"
    else:
        code = f" ({error.error_code})" if error.error_code else ""
        text = f"the CLI refused initialize{code}: {error.error}"
    text += f"\nstderr tail:\n{stderr_tail}" if stderr_tail else ""
    return CLIConnectionError(redact(text, secrets))


class BudgetExceededError(ClaudeSDKError):
    """A :class:`~trio_claude.Budget` ran out; the running turn was interrupted.

    Attributes:
        dimension: Which limit ran out (``"usd"``, ``"tokens"``, ``"turns"``, ``"seconds"``).
        spent: How much of it was spent.
        limit: The limit.
    """

    def __init__(self, dimension: str, spent: float, limit: float) -> None:
        self.dimension = dimension
        self.spent = spent
        self.limit = limit
        super().__init__(f"budget exceeded: {dimension} spent {spent:g} of {limit:g}")


class StallTimeoutError(ClaudeSDKError):
    """The CLI sent nothing for ``stall_timeout`` seconds during a turn.

    Attributes:
        timeout: The stall timeout in seconds.
        last_seen: A short description of the last frame seen.
    """

    def __init__(self, timeout: float, last_seen: str | None) -> None:
        self.timeout = timeout
        self.last_seen = last_seen
        super().__init__(f"no frame from the CLI for {timeout:g} s (last seen: {last_seen})")


def _format_limit(name: str, value: float) -> str:
    if name.endswith("_bytes"):
        return f"{value / 2**20:.1f} MiB"
    if name.endswith("_seconds"):
        return f"{value:.2f} s"
    return f"{value:g}"


class ResourceLimitError(ProcessError):
    """The CLI exceeded a :class:`~trio_claude.ResourceLimits` limit and was stopped.

    For memory and CPU the session killed the CLI and every tool process it started; for
    ``max_open_files`` the kernel refused a descriptor and the CLI died of it. Every waiting
    receiver and pending call of the session gets this error, and so does every later call.

    Attributes:
        limit_name: The :class:`~trio_claude.ResourceLimits` field that was exceeded
            (``"max_memory_bytes"``, ``"max_cpu_seconds"``, ``"max_open_files"``).
        limit: Its value.
        observed: What was measured when the limit was found exceeded (bytes, CPU seconds); for
            ``max_open_files``, the limit itself (the kernel refuses the descriptor beyond it).
    """

    def __init__(
        self,
        limit_name: str,
        limit: float,
        observed: float,
        *,
        exit_code: int | None = None,
        stderr: str = "",
        cli_version: str | None = None,
    ) -> None:
        self.limit_name = limit_name
        self.limit = limit
        self.observed = observed
        if limit_name == "max_open_files":
            what = f"the CLI ran out of file descriptors (max_open_files={limit:g})"
        else:
            what = (
                f"the CLI's process tree exceeded {limit_name}: "
                f"{_format_limit(limit_name, observed)} > {_format_limit(limit_name, limit)}; "
                "the CLI and its tools were killed"
            )
        super().__init__(
            f"resource limit exceeded: {what}",
            exit_code=exit_code,
            stderr=stderr,
            cli_version=cli_version,
        )
