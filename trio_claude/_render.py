"""Rendering a session's messages readably in a terminal (``run`` and ``demo``).

Plain ANSI escapes when color is on (a tty, ``NO_COLOR`` unset, ``TERM`` not ``dumb``, or
``--color=always``), nothing otherwise; no dependencies. Streamed text (``StreamEvent`` deltas, with
``include_partial_messages``) is written as it arrives; the assistant message that repeats a
streamed block is then not printed again.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from typing import Any, Literal, TextIO

import attrs

from .types import (
    ApiRetryMessage,
    AssistantMessage,
    InitMessage,
    ModelFallbackMessage,
    PermissionDeniedMessage,
    ResultMessage,
    StatusMessage,
    StreamEvent,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
    UserMessage,
)

__all__ = [
    "ColorMode",
    "Renderer",
    "Style",
    "UsageTotals",
    "format_cost",
    "tool_summary",
    "use_color",
]

ColorMode = Literal["auto", "always", "never"]

_CODES = {
    "bold": "1",
    "dim": "2",
    "italic": "3",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "blue": "34",
    "magenta": "35",
    "cyan": "36",
}


def use_color(stream: TextIO, mode: ColorMode = "auto") -> bool:
    """Whether to write ANSI colors to ``stream``.

    Args:
        stream: The output stream.
        mode: ``"always"``, ``"never"``, or ``"auto"``: only on a tty, unless ``NO_COLOR`` is set
            or ``TERM`` is ``dumb``.

    Returns:
        ``True`` to use colors.
    """
    if mode == "always":
        return True
    if mode == "never":
        return False
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Style:
    """Wraps text in ANSI escapes, or leaves it alone when color is off."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, *styles: str) -> str:
        """``text`` in the given styles (names from ``bold dim italic red green ...``)."""
        if not self.enabled or not styles or not text:
            return text
        codes = ";".join(_CODES[s] for s in styles)
        return f"\x1b[{codes}m{text}\x1b[0m"


@attrs.frozen
class _Symbols:
    bullet: str
    info: str
    thinking: str
    result: str
    ok: str
    fail: str
    retry: str
    fallback: str
    denied: str
    ellipsis: str
    rule: str
    sep: str
    prompt: str
    stop: str


_UNICODE = _Symbols(
    "⏺", "•", "✻", "⎿", "✓", "✗", "↻", "⇄", "⊘", "…", "─", " · ", "\u203a", "⏹"
)  # \u203a: a single right angle quote
_ASCII = _Symbols(
    "*", "-", "~", "|_", "ok", "x", "retry", "->", "denied", "...", "-", " | ", ">", "[stop]"
)


def _symbols_for(stream: TextIO) -> _Symbols:
    encoding = getattr(stream, "encoding", None)
    if encoding is None:
        return _UNICODE  # an in-memory text stream holds any character
    try:
        "".join(attrs.astuple(_UNICODE)).encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return _ASCII
    return _UNICODE


@attrs.define
class UsageTotals:
    """Token usage and cost summed over the results a renderer saw.

    Attributes:
        results: Result messages seen.
        errors: How many of them were errors.
        num_turns: Agent-loop turns (model calls) reported by the results.
        input_tokens: Input tokens (uncached).
        output_tokens: Output tokens.
        cache_read_tokens: Cached input tokens read.
        cache_creation_tokens: Input tokens written to the cache.
        total_cost_usd: The latest ``total_cost_usd`` of each session, summed (the CLI reports a
            running total per process).
        api_ms: Time spent waiting for the model, in milliseconds.
    """

    results: int = 0
    errors: int = 0
    num_turns: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_creation_tokens: int = 0
    total_cost_usd: float = 0.0
    api_ms: float = 0.0
    _cost_by_session: dict[str, float] = attrs.field(factory=dict, repr=False)

    def add(self, result: ResultMessage) -> None:
        """Adds one result."""
        self.results += 1
        self.errors += bool(result.is_error)
        self.num_turns += result.num_turns
        usage = result.usage or {}
        self.input_tokens += _int(usage.get("input_tokens"))
        self.output_tokens += _int(usage.get("output_tokens"))
        self.cache_read_tokens += _int(usage.get("cache_read_input_tokens"))
        self.cache_creation_tokens += _int(usage.get("cache_creation_input_tokens"))
        self.api_ms += float(result.duration_api_ms or 0)
        if result.total_cost_usd is not None:
            key = result.session_id or ""
            self._cost_by_session[key] = max(
                self._cost_by_session.get(key, 0.0), result.total_cost_usd
            )
            self.total_cost_usd = sum(self._cost_by_session.values())


def _int(value: Any) -> int:
    return value if isinstance(value, int) else 0


def _one_line(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def tool_summary(block: ToolUseBlock, width: int = 100) -> str:
    """A short description of a tool call: ``Bash(ls -la)``, ``Write(notes.txt)``, ..."""
    data = block.input or {}
    for key in ("command", "file_path", "path", "pattern", "url", "query", "description"):
        value = data.get(key)
        if isinstance(value, str) and value:
            return f"{block.name}({_one_line(value, width)})"
    if not data:
        return f"{block.name}()"
    return f"{block.name}({_one_line(json.dumps(data, ensure_ascii=False), width)})"


def _tool_result_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    parts = []
    for item in content:
        if isinstance(item, dict) and item.get("type") == "text":
            parts.append(str(item.get("text", "")))
        elif isinstance(item, dict):
            parts.append(f"[{item.get('type', 'block')}]")
        else:
            parts.append(str(item))
    return "\n".join(parts)


def format_cost(usd: float | None) -> str:
    """``$0.0123`` with enough digits for fake-model sized costs."""
    if usd is None:
        return "$?"
    if usd == 0:
        return "$0"
    if usd >= 0.01:
        return f"${usd:.4f}"
    return f"${usd:.6f}"


class Renderer:
    """Writes messages to a text stream as they arrive.

    Args:
        out: Where to write (default ``sys.stdout``).
        color: Whether to use ANSI colors.
        tool_output_lines: Lines of each tool result to show.
    """

    def __init__(
        self, out: TextIO | None = None, *, color: bool = False, tool_output_lines: int = 6
    ) -> None:
        self.out = out if out is not None else sys.stdout
        self.style = Style(color)
        self.sym = _symbols_for(self.out)
        self.tool_output_lines = tool_output_lines
        self.totals = UsageTotals()
        self._at_line_start = True
        self._streamed: set[str] = set()
        self._streaming: str | None = None
        self._last_init: tuple[str | None, str | None] | None = None
        self._pending_logs: list[str] = []
        self._indent_next = False

    # ---------------------------------------------------------------- output

    def write(self, text: str) -> None:
        """Writes raw text and flushes."""
        if not text:
            return
        try:
            self.out.write(text)
        except UnicodeEncodeError:  # model text the terminal's encoding cannot show
            encoding = getattr(self.out, "encoding", None) or "ascii"
            self.out.write(text.encode(encoding, "replace").decode(encoding))
        self.out.flush()
        self._at_line_start = text.endswith("\n")

    def write_flow(self, text: str, *styles: str) -> None:
        """Writes block text: continuation lines indented by two spaces, blank lines left empty."""
        out = []
        for i, part in enumerate(text.split("\n")):
            if i:
                out.append("\n")
                self._indent_next = True
            if part:
                if self._indent_next:
                    out.append("  ")
                    self._indent_next = False
                out.append(self.style(part, *styles))
        self.write("".join(out))

    def end_line(self) -> None:
        """Ends the current line if something was written on it."""
        if not self._at_line_start:
            self.write("\n")
        self._streaming = None

    def line(self, text: str = "", *styles: str) -> None:
        """Writes ``text`` on a line of its own."""
        self.end_line()
        self.write(self.style(text, *styles) + "\n")

    def section(self, title: str, subtitle: str = "") -> None:
        """A section heading, with an optional dim line under it."""
        self.end_line()
        head = f"{self.sym.rule * 2} {title} "
        head += self.sym.rule * max(3, 72 - len(head))
        self.write("\n" + self.style(head, "bold", "blue") + "\n")
        if subtitle:
            self.write(self.style(f"   {subtitle}", "dim") + "\n")

    def note(self, text: str, *styles: str) -> None:
        """A dim annotation line (or in ``styles``)."""
        self.line(text, *(styles or ("dim",)))

    def log(self, text: str, *styles: str) -> None:
        """Queues a line from a callback (permission policy, hook) for the right place.

        Callbacks run in the session's own tasks, concurrently with the loop rendering messages;
        their lines are shown after the tool call they belong to and before its result.
        """
        self._pending_logs.append(self.style(text, *styles))

    def flush_logs(self) -> None:
        """Writes the queued callback lines now."""
        if self._pending_logs:
            lines, self._pending_logs = self._pending_logs, []
            self.end_line()
            self.write("\n".join(lines) + "\n")

    # -------------------------------------------------------------- messages

    def message(self, message: Any) -> None:
        """Renders one message from ``receive_response()`` / ``receive_messages()``."""
        if isinstance(message, StreamEvent):
            self._stream_event(message)
        elif isinstance(message, AssistantMessage):
            self._assistant(message)
            if any(isinstance(b, ToolUseBlock) for b in message.content):
                self.flush_logs()
        else:
            self.flush_logs()
            self._other(message)

    def _other(self, message: Any) -> None:
        if isinstance(message, UserMessage):
            self._user(message)
        elif isinstance(message, ResultMessage):
            self._result(message)
        elif isinstance(message, InitMessage):
            self._init(message)
        elif isinstance(message, StatusMessage):
            if message.permission_mode:
                self.note(f"{self.sym.info} permission mode: {message.permission_mode}")
        elif isinstance(message, ApiRetryMessage):
            delay = (message.retry_delay_ms or 0) / 1000
            self.line(
                f"{self.sym.retry} API error {message.error_status or ''} "
                f"({message.error or 'unknown'}); retry {message.attempt}/{message.max_retries} "
                f"in {delay:.1f} s",
                "yellow",
            )
        elif isinstance(message, ModelFallbackMessage):
            self.line(
                f"{self.sym.fallback} model fallback: {message.original_model} -> "
                f"{message.fallback_model} ({message.trigger or 'fallback'})",
                "yellow",
            )
        elif isinstance(message, PermissionDeniedMessage):
            self.line(f"  {self.sym.denied} {message.tool_name} was not permitted", "red")

    def _init(self, message: InitMessage) -> None:
        key = (message.model, message.permission_mode)
        if key == self._last_init:
            return
        first = self._last_init is None
        self._last_init = key
        if first:
            parts = [
                f"session {(message.session_id or '?')[:8]}",
                f"model {message.model}",
                f"Claude Code {message.claude_code_version}",
                f"permission mode {message.permission_mode}",
            ]
        else:
            parts = [f"model {message.model}", f"permission mode {message.permission_mode}"]
        self.note(f"{self.sym.info} " + self.sym.sep.join(parts))

    def _stream_event(self, message: StreamEvent) -> None:
        event = message.event
        kind = event.get("type")
        if kind == "message_start":
            msg_id = (event.get("message") or {}).get("id")
            if msg_id:
                self._streamed.add(msg_id)
        elif kind == "content_block_start":
            block = event.get("content_block") or {}
            if block.get("type") == "text":
                self.end_line()
                self.write(self.style(f"{self.sym.bullet} ", "bold"))
                self._streaming = "text"
                self._indent_next = False
            elif block.get("type") == "thinking":
                self.end_line()
                self.write(self.style(f"{self.sym.thinking} ", "dim", "italic"))
                self._streaming = "thinking"
                self._indent_next = False
        elif kind == "content_block_delta":
            delta = event.get("delta") or {}
            dtype = delta.get("type")
            if dtype == "text_delta" and self._streaming == "text":
                self.write_flow(str(delta.get("text", "")))
            elif dtype == "thinking_delta" and self._streaming == "thinking":
                self.write_flow(str(delta.get("thinking", "")), "dim", "italic")
        elif kind in ("content_block_stop", "message_stop") and self._streaming is not None:
            self.end_line()

    def _assistant(self, message: AssistantMessage) -> None:
        streamed = message.message_id is not None and message.message_id in self._streamed
        for block in message.content:
            if isinstance(block, TextBlock):
                if not streamed and block.text:
                    self.end_line()
                    self.write(self.style(f"{self.sym.bullet} ", "bold"))
                    self._indent_next = False
                    self.write_flow(block.text)
                    self.end_line()
            elif isinstance(block, ThinkingBlock):
                if not streamed:
                    self.line(
                        f"{self.sym.thinking} " + _one_line(block.thinking, 200), "dim", "italic"
                    )
            elif isinstance(block, ToolUseBlock):
                self.end_line()
                self.write(
                    self.style(f"{self.sym.bullet} ", "cyan", "bold")
                    + self.style(tool_summary(block), "cyan")
                    + "\n"
                )
        if message.error:
            self.line(f"  {self.sym.fail} API error: {message.error}", "red")

    def _user(self, message: UserMessage) -> None:
        content = message.content
        if isinstance(content, str):
            if message.is_replay and "<local-command-stdout>" in content:
                text = content.replace("<local-command-stdout>", "")
                text = text.replace("</local-command-stdout>", "").strip()
                self.note(f"{self.sym.info} {text}")
            return
        for block in content:
            if not isinstance(block, ToolResultBlock):
                continue
            text = _tool_result_text(block.content).strip() or "(no output)"
            lines = text.splitlines()
            shown = lines[: self.tool_output_lines]
            styles = ("red",) if block.is_error else ("dim",)
            self.end_line()
            for i, text_line in enumerate(shown):
                lead = f"  {self.sym.result}  " if i == 0 else " " * (len(self.sym.result) + 4)
                self.write(self.style(lead + _one_line(text_line, 160), *styles) + "\n")
            if len(lines) > len(shown):
                pad = " " * (len(self.sym.result) + 4)
                more = f"{pad}{self.sym.ellipsis} +{len(lines) - len(shown)} lines"
                self.write(self.style(more, "dim") + "\n")

    def _result(self, message: ResultMessage) -> None:
        self.totals.add(message)
        self.end_line()
        usage = message.usage or {}
        facts = [
            f"{message.num_turns} turn{'s' if message.num_turns != 1 else ''}",
            f"{(message.duration_ms or 0) / 1000:.2f} s",
            format_cost(message.total_cost_usd),
            f"{_int(usage.get('input_tokens'))} in / {_int(usage.get('output_tokens'))} out tokens",
        ]
        if message.is_error:
            reason = message.terminal_reason or message.subtype
            if message.api_error_status is not None:
                reason = f"{reason}, HTTP {message.api_error_status}"
            detail = "; ".join(str(e) for e in message.errors or []) or (message.result or "")
            head = f"{self.sym.fail} {message.subtype} ({reason})"
            self.write(self.style(head, "red", "bold"))
            if detail:
                self.write(self.style(": " + _one_line(detail, 200), "red"))
            self.write(self.style("  " + self.sym.sep.join(facts), "dim") + "\n")
        else:
            self.write(
                self.style(f"{self.sym.ok} {message.subtype}", "green", "bold")
                + self.style("  " + self.sym.sep.join(facts), "dim")
                + "\n"
            )
        if message.structured_output is not None:
            self.line(
                "  structured output: " + json.dumps(message.structured_output, ensure_ascii=False),
                "green",
            )

    def render_all(self, messages: Iterable[Any]) -> None:
        """Renders several messages."""
        for message in messages:
            self.message(message)

    def totals_table(
        self,
        totals: UsageTotals | None = None,
        *,
        wall_seconds: float,
        extra: Iterable[tuple[str, str]] = (),
    ) -> None:
        """Writes a short cost and usage summary (plus ``extra`` rows)."""
        t = totals or self.totals
        rows = [
            ("results", f"{t.results} ({t.errors} error{'s' if t.errors != 1 else ''})"),
            ("model calls", str(t.num_turns)),
            ("input tokens", f"{t.input_tokens} (+{t.cache_read_tokens} cached)"),
            ("output tokens", str(t.output_tokens)),
            ("cost", format_cost(t.total_cost_usd) + " (as the CLI prices it)"),
            ("wall time", f"{wall_seconds:.2f} s"),
            *extra,
        ]
        width = max(len(name) for name, _ in rows)
        for name, value in rows:
            self.write(f"  {self.style(name.ljust(width), 'dim')}  {value}\n")
