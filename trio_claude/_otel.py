"""OpenTelemetry spans of one session (the ``otel`` extra; see docs/telemetry.md).

The span tree::

    claude.session                 open to close; the caller's current span is its parent
    ├── claude.control <subtype>   each request the SDK sends (initialize, interrupt, set_model...)
    ├── claude.turn                a prompt written, to the result that ends it
    │   ├── execute_tool <name>    a tool_use block, to its tool_result
    │   │   └── claude.callback can_use_tool / hook_callback   (those naming the tool use)
    │   └── claude.callback <subtype>   other requests from the CLI (hooks, mcp_message, ...)

The session passes its span to the CLI as ``TRACEPARENT``/``TRACESTATE`` (every key of the W3C
carrier, upper-cased, as the official SDKs do), so the CLI's own telemetry joins the trace.
Spans go to the global tracer provider, as for any instrumented library, or to the one the
``telemetry`` option names. Attribute names follow
the OpenTelemetry GenAI conventions where one exists (``gen_ai.*``), else ``claude.*``.

Only the session (``_session.py``) calls this module, and only when :mod:`._telemetry` says
tracing is on; nothing here runs, or is imported, otherwise.

No credential goes into a span: every text that comes from the CLI or from an exception (error
results, status descriptions, exception events) is redacted with the session's secret values
(and by shape) *before* it is cut to length; an exception event carries the redacted message and
traceback, never the raw ones.
"""

from __future__ import annotations

import logging
import math
import traceback
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.trace import (
    NonRecordingSpan,
    Span,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TracerProvider,
)

from ._redact import describe_exception, redact, redact_preview
from ._telemetry import env_carrier
from ._version import __version__
from .types import AssistantMessage, InitMessage, ResultMessage, ToolUseBlock, UserMessage

_TOKENS = {
    "input_tokens": "gen_ai.usage.input_tokens",
    "output_tokens": "gen_ai.usage.output_tokens",
    "cache_read_input_tokens": "claude.usage.cache_read_input_tokens",
    "cache_creation_input_tokens": "claude.usage.cache_creation_input_tokens",
}


def _set(span: Span, key: str, value: Any) -> None:
    if value is not None:
        span.set_attribute(key, value)


#: The longest status description a span gets (after redaction).
_DESCRIPTION_LIMIT = 500
#: How many ended tool spans a trace remembers as parents for late subagent calls.
_ENDED_TOOLS = 256


def _fail(
    span: Span,
    description: str,
    error: BaseException | None = None,
    secrets: tuple[str, ...] = (),
) -> None:
    """Marks ``span`` failed: ``description`` and ``error``'s event redacted with ``secrets``."""
    if error is not None:
        try:
            message = str(error)
            stacktrace = "".join(
                traceback.format_exception(type(error), error, error.__traceback__)
            )
        except Exception:
            message = stacktrace = type(error).__name__
        # The event's message and stacktrace are given (masked): the defaults would be the raw
        # text of the exception and of its causes.
        span.record_exception(
            error,
            attributes={
                "exception.message": redact(message, secrets),
                "exception.stacktrace": redact(stacktrace, secrets),
            },
        )
    span.set_status(
        Status(StatusCode.ERROR, redact_preview(description, secrets, _DESCRIPTION_LIMIT))
    )


class SessionTrace:
    """The spans of one session: made and ended as the session reports what happens."""

    def __init__(
        self, provider: TracerProvider, model: str | None, secrets: Iterable[str] = ()
    ) -> None:
        #: The session's secret values: masked in every text a span gets.
        self.secrets: tuple[str, ...] = tuple(secrets)
        self._tracer = provider.get_tracer("trio_claude", __version__)
        self.span = self._tracer.start_span(
            "claude.session",
            kind=SpanKind.CLIENT,
            attributes={"gen_ai.provider.name": "anthropic", "gen_ai.operation.name": "session"},
        )
        _set(self.span, "gen_ai.request.model", model)
        self._model = model
        self._context = trace.set_span_in_context(self.span)
        # Open turn spans by prompt uuid (oldest first), open tool spans by tool-use id.
        self._turns: dict[str, Span] = {}
        self._tools: dict[str, Span] = {}
        # Tool spans already ended, newest last (at most _ENDED_TOOLS): a subagent's calls
        # arrive after its Agent/Task tool has answered (at once, for a background agent) and
        # still nest under it.
        self._ended_tools: OrderedDict[str, SpanContext] = OrderedDict()
        self._cost = 0.0
        self._last_total_cost: float | None = None
        self._tokens: dict[str, int] = {}
        self._turn_count = 0

    def carrier(self) -> dict[str, str]:
        """The session span's context as environment variables for the CLI."""
        carrier: dict[Any, Any] = {}
        try:
            propagate.inject(carrier, context=self._context)
            return env_carrier(carrier)
        except Exception as exc:  # a propagator of the application's: never stops a start
            said = redact(describe_exception(exc), self.secrets)
            logging.getLogger("trio_claude").debug("passing the trace context failed: %s", said)
            return {}

    # ------------------------------------------------------------------ turns and tools

    def prompt_sent(self, uuid: str) -> None:
        span = self._tracer.start_span(
            "claude.turn",
            context=self._context,
            kind=SpanKind.INTERNAL,
            attributes={"gen_ai.operation.name": "invoke_agent", "claude.prompt.uuid": uuid},
        )
        _set(span, "gen_ai.request.model", self._model)
        self._turns[uuid] = span

    def observe(self, message: Any, open_turns: tuple[str, ...]) -> None:
        """A message read from the CLI (``open_turns``: the turns still open after it)."""
        cls = message.__class__
        if cls is AssistantMessage:
            self._assistant(message)
        elif cls is UserMessage:
            self._user(message)
        elif cls is ResultMessage:
            self._result(message, open_turns)
        elif cls is InitMessage:
            _set(self.span, "gen_ai.conversation.id", message.session_id or None)
            _set(self.span, "claude.cli.version", message.claude_code_version)
            _set(self.span, "gen_ai.response.model", message.model)

    def _parent(self, parent_tool_use_id: str | None = None) -> Context:
        if parent_tool_use_id is not None:
            if parent_tool_use_id in self._tools:
                return trace.set_span_in_context(self._tools[parent_tool_use_id])
            ended = self._ended_tools.get(parent_tool_use_id)
            if ended is not None:
                return trace.set_span_in_context(NonRecordingSpan(ended))
        for span in self._turns.values():  # the oldest open turn: the one the CLI works on
            return trace.set_span_in_context(span)
        return self._context

    def _assistant(self, message: AssistantMessage) -> None:
        for block in message.content:
            if block.__class__ is ToolUseBlock and block.id not in self._tools:
                self._tools[block.id] = self._tracer.start_span(
                    f"execute_tool {block.name}",
                    context=self._parent(message.parent_tool_use_id),
                    kind=SpanKind.INTERNAL,
                    attributes={
                        "gen_ai.operation.name": "execute_tool",
                        "gen_ai.tool.name": block.name,
                        "gen_ai.tool.call.id": block.id,
                    },
                )
        for span in self._turns.values():
            _set(span, "gen_ai.response.model", message.model)
            break

    def _user(self, message: UserMessage) -> None:
        content = message.content
        if isinstance(content, str):
            return
        for block in content:
            tool_use_id = getattr(block, "tool_use_id", None)
            if tool_use_id is None or tool_use_id not in self._tools:
                continue
            span = self._tools.pop(tool_use_id)
            self._ended_tools[tool_use_id] = span.get_span_context()
            self._ended_tools.move_to_end(tool_use_id)  # (an id the CLI reused: newest again)
            if len(self._ended_tools) > _ENDED_TOOLS:
                self._ended_tools.popitem(last=False)
            if getattr(block, "is_error", None):
                _fail(span, "the tool failed", secrets=self.secrets)
                span.set_attribute("claude.tool.is_error", True)
            span.end()

    def _result(self, result: ResultMessage, open_turns: tuple[str, ...]) -> None:
        total = result.total_cost_usd
        cost: float | None = None
        if total is not None and math.isfinite(total) and total >= 0:
            # The CLI's total is cumulative for its process (a new process starts over). A
            # negative or non-finite one is junk: skipped, as the budget's meter does.
            previous = self._last_total_cost or 0.0
            cost = total - previous if total >= previous else total
            self._last_total_cost = total
            self._cost += cost
        usage = result.usage if isinstance(result.usage, Mapping) else {}
        for key in _TOKENS:
            value = usage.get(key)
            if type(value) is int and value >= 0:
                self._tokens[key] = self._tokens.get(key, 0) + value
        still_open = set(open_turns)
        ended = [uuid for uuid in self._turns if uuid not in still_open]
        for uuid in ended:
            span = self._turns.pop(uuid)
            self._turn_count += 1
            span.set_attribute("claude.result.subtype", result.subtype)
            span.set_attribute("claude.num_turns", result.num_turns)
            span.set_attribute("claude.duration_api_ms", result.duration_api_ms)
            _set(span, "gen_ai.conversation.id", result.session_id or None)
            _set(span, "claude.cost_usd", cost)
            _set(span, "claude.stop_reason", result.stop_reason)
            _set(span, "claude.terminal_reason", result.terminal_reason)
            for key, name in _TOKENS.items():
                value = usage.get(key)
                if type(value) is int and value >= 0:
                    span.set_attribute(name, value)
            if result.is_error:
                _fail(span, _result_error(result), secrets=self.secrets)
            span.end()
        if not self._turns and self._tools:
            # Tools whose result never came (a hook deferred the call, the turn was
            # interrupted while they ran): their turn is over, and so are they.
            for span in self._tools.values():
                span.set_attribute("claude.tool.ended_by", "turn end")
                span.end()
            self._tools.clear()
        if result.session_id:
            self.span.set_attribute("gen_ai.conversation.id", result.session_id)

    # ------------------------------------------------------------------ control traffic

    def control_started(self, subtype: str) -> Span:
        """A request the SDK sends to the CLI."""
        return self._tracer.start_span(
            f"claude.control {subtype}",
            context=self._context,
            kind=SpanKind.CLIENT,
            attributes={"claude.control.subtype": subtype},
        )

    def control_ended(self, span: Span, error: BaseException | None) -> None:
        if error is not None:
            _fail(span, _describe(error), error, self.secrets)
        span.end()

    async def traced(
        self, subtype: str, request: Callable[[], Awaitable[dict[str, Any]]]
    ) -> dict[str, Any]:
        """``await request()`` inside the span of a request the SDK sends."""
        span = self.control_started(subtype)
        error: BaseException | None = None
        try:
            return await request()
        except BaseException as exc:
            error = exc
            raise
        finally:
            self.control_ended(span, error)

    def callback_started(self, subtype: str, request: Mapping[str, Any]) -> Span:
        """A request from the CLI that a callback of the user's (or the SDK) answers."""
        tool_use_id = request.get("tool_use_id")
        hook_input = request.get("input")
        if tool_use_id is None and isinstance(hook_input, Mapping):
            tool_use_id = hook_input.get("tool_use_id")
        parent = self._tools.get(tool_use_id) if isinstance(tool_use_id, str) else None
        # The CLI's own strings, masked: a hostile or echoing CLI may put a key in any of them.
        masked = self._masked
        subtype = masked(subtype) or ""
        span = self._tracer.start_span(
            f"claude.callback {subtype}",
            context=trace.set_span_in_context(parent) if parent is not None else self._parent(),
            kind=SpanKind.SERVER,
            attributes={"claude.control.subtype": subtype},
        )
        _set(span, "gen_ai.tool.name", masked(request.get("tool_name")))
        _set(span, "gen_ai.tool.call.id", masked(tool_use_id))
        if isinstance(hook_input, Mapping):
            _set(span, "claude.hook.event", masked(hook_input.get("hook_event_name")))
        _set(span, "claude.hook.callback_id", masked(request.get("callback_id")))
        _set(span, "claude.mcp.server", masked(request.get("server_name")))
        message = request.get("message")
        if isinstance(message, Mapping):
            _set(span, "claude.mcp.method", masked(message.get("method")))
        return span

    def _masked(self, value: Any) -> str | None:
        """A string the CLI sent, its secrets masked (``None`` if it is no string)."""
        return redact(value, self.secrets) if isinstance(value, str) else None

    def callback_ended(
        self,
        span: Span,
        outcome: str,
        reply: Mapping[str, Any] | None = None,
        error: BaseException | None = None,
    ) -> None:
        """``outcome``: ``answered``, ``error``, ``unsupported`` or ``withdrawn``."""
        span.set_attribute("claude.callback.outcome", outcome)
        if isinstance(reply, Mapping):
            _set(span, "claude.permission.behavior", _str(reply.get("behavior")))
            _set(span, "claude.hook.decision", _str(reply.get("decision")))
        if outcome in ("error", "unsupported"):
            _fail(span, _describe(error) if error else outcome, error, self.secrets)
        span.end()

    # ------------------------------------------------------------------ the end

    def end(self, error: BaseException | None, pid: int | None, returncode: int | None) -> None:
        """The session is closed: ends what is still open, then the session span."""
        why = f"the session ended: {_text(error)}" if error is not None else "the session closed"
        for span in [*self._tools.values(), *self._turns.values()]:
            span.set_attribute("claude.ended_by", "session end")
            _fail(span, why, secrets=self.secrets)
            span.end()
        self._tools.clear()
        self._turns.clear()
        span = self.span
        _set(span, "claude.cli.pid", pid)
        _set(span, "claude.cli.returncode", returncode)
        span.set_attribute("claude.turns", self._turn_count)
        if self._last_total_cost is not None:
            span.set_attribute("claude.cost_usd", self._cost)
        for key, name in _TOKENS.items():
            if key in self._tokens:
                span.set_attribute(name, self._tokens[key])
        span.set_attribute("claude.session.outcome", "failed" if error is not None else "closed")
        if error is not None:
            _fail(span, _describe(error), error, self.secrets)
        span.end()


def _text(error: BaseException) -> str:
    try:
        return str(error)
    except Exception:
        return "(its text could not be formatted)"


#: ``"<Type>: <text>"``, for a status description (redacted by :func:`_fail`).
_describe = describe_exception


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _result_error(result: ResultMessage) -> str:
    """The status description of an error result: uncut (``_fail`` redacts, then cuts it)."""
    errors = result.errors
    detail = "; ".join(str(e) for e in errors[:3]) if errors else (result.result or "")
    return f"{result.subtype}: {detail}" if detail else result.subtype
