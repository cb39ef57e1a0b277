"""Handlers for CLI->SDK control requests: the table the session dispatches from.

The session (``Session._serve_request``) runs each incoming request in its own task and cancel
scope; ``control_cancel_request`` cancels exactly that scope and nothing is sent back. It writes
whatever the handler returns as a ``success`` response; :class:`ControlErrorReply` becomes an
``error`` response with exactly its text; any other exception an ``error`` response (and a
logged warning). A subtype with no handler gets ``Unsupported control request subtype: <s>``.
A failure of the SDK's own around the handler (a tracer's span, say) is answered as an error
too, and logged as ours: only a cancellation leaves :func:`answer_request`.

:func:`build_handlers` decides, from the options, which subtypes are served:

``can_use_tool``
    Calls ``options.can_use_tool``. **Fails closed**: an exception, a wrong return type, an
    unencodable answer (including a field of the wrong type, e.g. a non-dict ``updated_input``:
    refused, never coerced) or exceeding ``can_use_tool_timeout`` answers a *deny* whose message
    says why, and logs a warning. Without a callback: error ``canUseTool callback is not
    provided`` (as the official SDKs).
``hook_callback``
    Routes ``callback_id`` (``hook_0``, ...; numbered by ``register_hooks`` exactly as the
    ``initialize`` request numbers them) to the callback, with the typed input. A callback that
    raises, returns something that is not an output, or outlives its deadline is answered with an
    *error* response and a logged warning: the CLI then treats the hook as failed, which means "no
    opinion" under the matcher's default ``on_failure="continue"`` and blocks under
    ``on_failure="block"`` (Claude Code 2.1.329, observed). Deadline: the matcher's ``timeout``
    (the CLI's default, 60 s, when unset) plus :data:`HOOK_DEADLINE_GRACE`. The CLI enforces the
    timeout itself and withdraws the request (which cancels the callback); the SDK's own deadline
    only reclaims a callback the CLI forgot, and is later than the CLI's on purpose, so a slow
    PreToolUse hook keeps the CLI's fail-closed timeout behaviour (the tool does not run).

Deadlines (``can_use_tool_timeout``, the hook deadline) are cancel scopes checked by whether
*they* fired: a ``trio.TooSlowError`` a callback raises itself (its own ``trio.fail_after``) is
reported as that callback raising, never as the SDK's timeout.
``mcp_message``
    JSON-RPC for the in-process servers of ``mcp_servers``, by key; an unknown server gets the
    JSON-RPC error ``-32601 Server 'X' not found`` (as the official Python SDK).
``elicitation``
    Calls ``options.on_elicitation``; without one, or when it fails, the answer is ``decline``.
``request_user_dialog``
    Calls ``options.on_user_dialog`` with a :class:`~trio_claude.UserDialogRequest`. **Fails
    closed**: without a callback, or when it raises, returns ``None``, or returns something that
    is not a :class:`~trio_claude.UserDialogResult` (or its dict), the answer is
    ``{"behavior": "cancelled"}``, on which the CLI applies the dialog's default (logged as a
    warning when the callback failed). The CLI only sends the kinds listed in
    ``supported_dialog_kinds`` (sent in ``initialize``), and withdraws a dialog with
    ``control_cancel_request`` (the callback is cancelled, nothing is answered).

An exception a callback raises may quote a credential (an HTTP client's error with its request
headers): what is sent to the CLI (which puts it in the transcript and the model's context),
logged, or put in a span is redacted with the session's secret values and by shape, and the log
carries the redacted traceback as text, never the exception itself (``exc_info``), which a
handler would format raw.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import trio

from ._elicitation import ElicitationRequest, ElicitationResult
from ._hook_context import HookContext
from ._options import ClaudeAgentOptions, coerce_hook_matcher, is_sdk_server
from ._permissions import (
    PermissionResultDeny,
    decode_permission_request,
    encode_permission_result,
)
from ._protocol._codec import dumps_from_cli
from ._protocol._control import describe_json
from ._protocol._events import OVERSIZE_REQUEST
from ._redact import describe_exception, redact, redact_exception
from ._threads import call_maybe_async
from ._transport._command import register_hooks
from ._user_dialog import UserDialogRequest, UserDialogResult

__all__ = [
    "HOOK_DEADLINE_GRACE",
    "HOOK_DEFAULT_TIMEOUT",
    "ControlErrorReply",
    "Handler",
    "answer_request",
    "build_handlers",
    "track_request",
]

if sys.version_info < (3, 11):  # pragma: no cover - trio depends on the backport there
    from exceptiongroup import BaseExceptionGroup

if TYPE_CHECKING:
    from ._mcp import McpServerConnection
    from ._otel import SessionTrace
    from ._protocol._connection import ClaudeProtocol
    from ._protocol._events import ControlRequest

logger = logging.getLogger("trio_claude")

#: A handler receives the request's ``request`` object and returns the success payload.
Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]

#: The CLI's timeout for a hook matcher without ``timeout`` (seconds).
HOOK_DEFAULT_TIMEOUT = 60.0
#: How long after the CLI's own hook deadline the SDK gives up on a callback (seconds).
HOOK_DEADLINE_GRACE = 5.0


def track_request(inflight: dict[str, trio.CancelScope], request_id: str) -> trio.CancelScope:
    """The cancel scope a CLI->SDK request is served in, registered under its id (so that a
    ``control_cancel_request`` finds it). An id the CLI reuses withdraws the older request:
    the CLI no longer waits for it, and left running it would be out of reach of any cancel."""
    older = inflight.get(request_id)
    if older is not None:
        older.cancel()
    scope = inflight[request_id] = trio.CancelScope()
    return scope


async def answer_request(
    proto: ClaudeProtocol,
    handlers: Mapping[str, Handler],
    request: ControlRequest,
    trace: SessionTrace | None,
    secrets: Sequence[str] = (),
) -> bytes:
    """The encoded reply to one CLI->SDK request: the handler's payload, or an ``error`` reply
    when there is no handler or it fails. A cancellation (the request withdrawn, the session
    closing) propagates: nothing is answered then.

    This is where every callback of the user's is dispatched, for both session drivers.
    ``secrets``: the session's secret values, masked in the error text sent and logged.

    Nothing but a cancellation (or a ``BaseException`` that is not an ``Exception``) leaves it:
    a failure of its own (encoding the answer, a tracer's span) is logged and answered as an
    error too, so that the CLI is never left waiting and the session's task group never fails
    for one request.
    """
    try:
        return await _answer(proto, handlers, request, trace, secrets)
    except Exception as exc:
        logger.error(
            "answering %s from the CLI failed inside trio-claude (please report it)\n%s",
            request.subtype,
            redact_exception(exc, secrets),
        )
        return proto.send_control_error(
            request.request_id,
            redact(f"trio-claude failed to answer: {describe_exception(exc)}", secrets),
        )
    except BaseExceptionGroup as group:
        # A callback whose own nursery failed as it was cancelled (withdrawn, or the session
        # closing): the cancellation goes on, what failed with it is logged, nothing answered.
        cancelled, rest = group.split(trio.Cancelled)
        if cancelled is None or rest is None or rest.split(Exception)[1] is not None:
            raise  # a Ctrl-C, or no cancellation in it
        logger.warning(
            "%s from the CLI was withdrawn, and its callback failed meanwhile\n%s",
            request.subtype,
            redact_exception(rest, secrets),
        )
        raise cancelled from None


async def _answer(
    proto: ClaudeProtocol,
    handlers: Mapping[str, Handler],
    request: ControlRequest,
    trace: SessionTrace | None,
    secrets: Sequence[str],
) -> bytes:
    subtype = request.subtype
    handler = handlers.get(subtype)
    span = trace.callback_started(subtype, request.request) if trace is not None else None
    outcome = "withdrawn"
    result: dict[str, Any] | None = None
    error: Exception | None = None
    try:
        if handler is None:
            note = request.request.get("error")
            if subtype == OVERSIZE_REQUEST and isinstance(note, str):  # a line too long to read
                outcome = "unreadable"
                return proto.send_control_error(request.request_id, note)
            outcome = "unsupported"
            return proto.send_control_error(
                request.request_id, f"Unsupported control request subtype: {subtype}"
            )
        try:
            result = await handler(request.request)
            outcome = "answered"
            return proto.send_control_success(request.request_id, result)
        except ControlErrorReply as exc:
            # The handler chose the error text (and logged what needed logging).
            outcome, error = "error", exc
            return proto.send_control_error(request.request_id, str(exc))
        except Exception as exc:
            outcome, error = "error", exc
            logger.warning(
                "handling %s from the CLI failed\n%s", subtype, redact_exception(exc, secrets)
            )
            return proto.send_control_error(
                request.request_id, redact(describe_exception(exc), secrets)
            )
    finally:
        if span is not None:
            assert trace is not None
            try:
                trace.callback_ended(span, outcome, result, error)
            except Exception as exc:
                # The answer (or a cancellation) is on its way: a span does not change it.
                logger.warning(
                    "ending the span of %s failed\n%s", subtype, redact_exception(exc, secrets)
                )


def _seconds(value: float | None) -> str:
    """A deadline for a message: ``5``, ``0.25``; ``None`` (no deadline) as ``none``."""
    return "none" if value is None else f"{value:g}"


class ControlErrorReply(Exception):
    """Raised by a handler to answer with an ``error`` response carrying exactly this text.

    The handler has already logged whatever needed logging; the session adds nothing.
    """


# ---------------------------------------------------------------------------- permissions


_NO_DEADLINE = contextlib.nullcontext()


def _permission_handler(options: ClaudeAgentOptions, secrets: Sequence[str]) -> Handler:
    callback = options.can_use_tool
    timeout = options.can_use_tool_timeout

    def deny(tool_name: str, why: str) -> dict[str, Any]:
        return PermissionResultDeny(
            message=f"Permission to use {tool_name} was denied: {why}"
        ).to_dict()

    async def can_use_tool(request: dict[str, Any]) -> dict[str, Any]:
        if callback is None:
            raise ControlErrorReply("canUseTool callback is not provided")
        tool_name, tool_input, context = decode_permission_request(request)

        def timed_out() -> dict[str, Any]:
            logger.warning(
                "can_use_tool for %s did not answer within %s s (can_use_tool_timeout); denied",
                tool_name,
                _seconds(timeout),
            )
            return deny(
                tool_name,
                f"the permission callback did not answer within {_seconds(timeout)} s",
            )

        # The SDK's own deadline is this scope: only its expiry is a timeout. A TooSlowError
        # (or any exception) the callback raises itself is the callback failing. (No scope
        # without a timeout: one per request is a measurable part of a round trip.)
        deadline = trio.move_on_after(timeout) if timeout is not None else None
        with deadline if deadline is not None else _NO_DEADLINE:
            try:
                result = await call_maybe_async(
                    callback, tool_name, tool_input, context, what=f"can_use_tool for {tool_name}"
                )
            except Exception as exc:
                if deadline is not None and deadline.cancel_called:
                    # The deadline fired and the callback turned trio.Cancelled into an error.
                    return timed_out()
                logger.warning(
                    "can_use_tool for %s raised %s; denied\n%s",
                    tool_name,
                    type(exc).__name__,
                    redact_exception(exc, secrets),
                )
                return deny(tool_name, f"the permission callback raised {type(exc).__name__}")
        if deadline is not None and deadline.cancelled_caught:
            return timed_out()
        try:
            answer = encode_permission_result(result, tool_input)
            dumps_from_cli(answer)  # anything unencodable must deny here, not fail later
        except Exception as exc:  # any failure to encode denies: never fail open
            why = redact(str(exc), secrets)
            logger.warning("can_use_tool for %s: %s; denied", tool_name, why)
            return deny(tool_name, f"the permission callback returned an invalid answer ({why})")
        return answer

    return can_use_tool


# ---------------------------------------------------------------------------------- hooks


@attrs.frozen
class _HookEntry:
    callback: Callable[..., Any]
    event: str
    matcher: str | None
    timeout: float | None


def _hook_table(options: ClaudeAgentOptions) -> dict[str, _HookEntry]:
    hooks = options.hooks or {}
    registration = register_hooks(hooks)
    table: dict[str, _HookEntry] = {}
    for event, matchers in hooks.items():
        for index, matcher in enumerate(matchers):
            m = coerce_hook_matcher(matcher, event=event)
            ids = registration.ids[event][index]
            for callback_id, callback in zip(ids, m.hooks, strict=True):
                table[callback_id] = _HookEntry(callback, event, m.matcher, m.timeout)
    return table


async def _no_hook_callbacks(request: dict[str, Any]) -> dict[str, Any]:
    raise ControlErrorReply(
        f"No hook callback found for ID: {describe_json(request.get('callback_id'), quote=False)}"
    )


def _hook_handler(options: ClaudeAgentOptions, secrets: Sequence[str]) -> Handler:
    table = _hook_table(options)
    if not table:
        return _no_hook_callbacks
    # Imported here: the hook input/output classes load with the first session that has hooks.
    from ._hooks import decode_hook_input, encode_hook_output

    async def hook_callback(request: dict[str, Any]) -> dict[str, Any]:
        callback_id = request.get("callback_id")
        entry = table.get(callback_id) if isinstance(callback_id, str) else None
        if entry is None:
            raise ControlErrorReply(
                f"No hook callback found for ID: {describe_json(callback_id, quote=False)}"
            )
        raw_input = request.get("input")
        hook_input = decode_hook_input(
            raw_input if isinstance(raw_input, Mapping) else {}, entry.event
        )
        event = hook_input.hook_event_name or entry.event
        tool_use_id = request.get("tool_use_id")
        context = HookContext(
            callback_id=callback_id,  # type: ignore[arg-type]  # checked above
            hook_event_name=entry.event,
            matcher=entry.matcher,
            timeout=entry.timeout,
        )
        limit = (entry.timeout or HOOK_DEFAULT_TIMEOUT) + HOOK_DEADLINE_GRACE
        name = f"{event} hook callback {callback_id}"

        def timed_out() -> ControlErrorReply:
            logger.warning("%s did not return within %s s", name, _seconds(limit))
            return ControlErrorReply(f"{name} timed out after {_seconds(limit)} s")

        # Only the expiry of this scope (the SDK's deadline) is a timeout; a TooSlowError the
        # callback raises itself is the callback failing.
        with trio.move_on_after(limit) as deadline:
            try:
                value = await call_maybe_async(
                    entry.callback, hook_input, tool_use_id, context, what=name
                )
            except Exception as exc:
                if deadline.cancel_called:
                    raise timed_out() from None
                logger.warning("%s raised\n%s", name, redact_exception(exc, secrets))
                raise ControlErrorReply(
                    redact(f"{name} raised {describe_exception(exc)}", secrets)
                ) from None
        if deadline.cancelled_caught:
            raise timed_out()
        try:
            answer = encode_hook_output(value, event)
            dumps_from_cli(answer)
        except Exception as exc:  # never let a malformed output through
            why = redact(str(exc), secrets)
            logger.warning("%s returned an invalid output: %s", name, why)
            raise ControlErrorReply(f"{name} returned an invalid output: {why}") from None
        specific = answer.get("hookSpecificOutput")
        if isinstance(specific, Mapping) and specific.get("hookEventName") not in (None, event):
            logger.warning(
                "%s answered hookSpecificOutput for %r; the CLI ignores or rejects it",
                name,
                specific.get("hookEventName"),
            )
        return answer

    return hook_callback


# ------------------------------------------------------------------------------------ MCP


class McpRouter:
    """Routes ``mcp_message`` requests to in-process servers by their ``mcp_servers`` key.

    The session adds and removes servers at run time (``Session.set_mcp_servers``).
    ``secrets``: the session's secret values, masked in what a failing tool's answer says.
    """

    def __init__(self, servers: Mapping[str, Any] | Any, secrets: Sequence[str] = ()) -> None:
        self.secrets = tuple(secrets)
        self.connections: dict[str, McpServerConnection] = {}
        # Routes added by a set_mcp_servers given up (cancelled, timed out): the CLI may hold
        # those servers or not; the next set that lands says which (see _set_mcp_servers_once).
        self.unconfirmed: set[str] = set()
        # Held by Session.set_mcp_servers: two changes at once would interleave their requests
        # (a replace is two), and the CLI could keep one server's tools while calls go to
        # another's.
        self.changing = trio.Lock()
        if isinstance(servers, Mapping):
            self.add(servers)
        # The routes of mcp_servers at the start: never swept as unconfirmed (a fixed few).
        self.static = frozenset(self.connections)

    def add(self, servers: Mapping[str, Any]) -> dict[str, Any]:
        """Registers the in-process entries of ``servers``; returns the wire configs of all."""
        wire: dict[str, Any] = {}
        for key, config in servers.items():
            if is_sdk_server(config):
                # Loaded with the first in-process server: most sessions have none.
                from ._mcp import McpServerConnection, sdk_server_instance

                server = sdk_server_instance(config)
                if server is not None:
                    self.connections[key] = McpServerConnection(server, self.secrets)
                wire[key] = {"type": "sdk", "name": _sdk_name(config, key)}
            else:
                wire[key] = config
        return wire

    def replaced(self, servers: Mapping[str, Any]) -> list[str]:
        """The keys of ``servers`` that name another in-process server than the one they
        route to now: the CLI sees the same config (``{"type": "sdk", "name": ...}``), so it
        must drop the old one before it can connect to the new one."""
        if not self.connections:
            return []
        from ._mcp import sdk_server_instance

        out = []
        for key, config in servers.items():
            connection = self.connections.get(key)
            if (
                connection is not None
                and is_sdk_server(config)
                and sdk_server_instance(config) is not connection.server
            ):
                out.append(key)
        return out

    def remove(self, keys: Iterable[str]) -> None:
        """Forgets servers the CLI removed."""
        for key in keys:
            self.connections.pop(key, None)

    async def __call__(self, request: dict[str, Any]) -> dict[str, Any]:
        server_name = request.get("server_name")
        message = request.get("message")
        connection = self.connections.get(server_name) if isinstance(server_name, str) else None
        if connection is None:
            msg_id = message.get("id") if isinstance(message, Mapping) else None
            return {
                "mcp_response": {
                    "jsonrpc": "2.0",
                    "id": msg_id,
                    "error": {
                        "code": -32601,
                        "message": f"Server '{describe_json(server_name, quote=False)}' not found",
                    },
                }
            }
        return {"mcp_response": await connection.handle(message)}


def _sdk_name(config: Any, default: str) -> str:
    name = config.get("name") if isinstance(config, Mapping) else getattr(config, "name", None)
    return name if isinstance(name, str) else default


def _mcp_handler(options: ClaudeAgentOptions, secrets: Sequence[str]) -> McpRouter:
    return McpRouter(options.mcp_servers, secrets)


# ---------------------------------------------------------------------------- elicitation


def _elicitation_handler(options: ClaudeAgentOptions, secrets: Sequence[str]) -> Handler:
    callback = options.on_elicitation

    async def elicitation(request: dict[str, Any]) -> dict[str, Any]:
        if callback is None:
            # No on_elicitation callback: decline, as the official TypeScript SDK does.
            return {"action": "decline"}
        elicit = ElicitationRequest.from_dict(request)
        try:
            value = await call_maybe_async(callback, elicit, what="on_elicitation")
            if value is None:
                return {"action": "decline"}
            if isinstance(value, Mapping):
                value = ElicitationResult(action=value.get("action"), content=value.get("content"))  # type: ignore[arg-type]
            if not isinstance(value, ElicitationResult):
                raise TypeError(
                    "on_elicitation must return ElicitationResult, a dict or None, "
                    f"not {type(value).__name__}"
                )
            answer = value.to_dict()
            dumps_from_cli(answer)
        except Exception as exc:
            logger.warning(
                "on_elicitation for %s failed; declined\n%s",
                elicit.mcp_server_name,
                redact_exception(exc, secrets),
            )
            return {"action": "decline"}
        return answer

    return elicitation


# --------------------------------------------------------------------------- user dialogs

#: The fail-closed answer to ``request_user_dialog``: the CLI applies the dialog's default.
_DIALOG_CANCELLED: dict[str, Any] = {"behavior": "cancelled"}


def _user_dialog_handler(options: ClaudeAgentOptions, secrets: Sequence[str]) -> Handler:
    callback = options.on_user_dialog

    async def request_user_dialog(request: dict[str, Any]) -> dict[str, Any]:
        if callback is None:
            return dict(_DIALOG_CANCELLED)
        dialog = UserDialogRequest.from_wire(request)
        try:
            value = await call_maybe_async(
                callback, dialog, what=f"on_user_dialog for {dialog.dialog_kind}"
            )
            if value is None:
                return dict(_DIALOG_CANCELLED)
            if isinstance(value, Mapping):
                value = UserDialogResult(value.get("behavior"), value.get("result"))  # type: ignore[arg-type]
            if not isinstance(value, UserDialogResult):
                raise TypeError(
                    "on_user_dialog must return UserDialogResult, a dict or None, "
                    f"not {type(value).__name__}"
                )
            answer = value.to_dict()
            dumps_from_cli(answer)  # an unencodable result must cancel here, not fail later
        except Exception as exc:
            logger.warning(
                "on_user_dialog for %s failed; cancelled\n%s",
                dialog.dialog_kind,
                redact_exception(exc, secrets),
            )
            return dict(_DIALOG_CANCELLED)
        return answer

    return request_user_dialog


# ---------------------------------------------------------------------------------- table


def has_callbacks(options: ClaudeAgentOptions) -> bool:
    """Whether ``options`` give the CLI anything of ours to call (without, every request gets
    the default answer, and the handlers can be built when the first one comes)."""
    return bool(
        options.can_use_tool
        or options.hooks
        or options.mcp_servers
        or options.on_elicitation
        or options.on_user_dialog
    )


def build_handlers(
    options: ClaudeAgentOptions, secrets: Sequence[str] | None = None
) -> dict[str, Handler]:
    """The CLI->SDK request handlers for a session opened with ``options``.

    ``secrets``: the session's secret values (``session_secrets``), masked in what a failing
    callback's answer and log say; by default those of ``options`` and this process's
    environment.
    """
    if secrets is None:
        from ._environ import environ
        from ._transport._command import build_env, session_secrets

        secrets = session_secrets(options, build_env(options, environ()))
    return {
        "can_use_tool": _permission_handler(options, secrets),
        "hook_callback": _hook_handler(options, secrets),
        "mcp_message": _mcp_handler(options, secrets),
        "elicitation": _elicitation_handler(options, secrets),
        "request_user_dialog": _user_dialog_handler(options, secrets),
    }
