"""The terminal renderer of ``run`` and ``demo``: real transcripts in, readable text out."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

import trio_claude as tc
from trio_claude._protocol._connection import ClaudeProtocol
from trio_claude._render import Renderer, Style, UsageTotals, format_cost, tool_summary, use_color
from trio_claude._run import run_session
from trio_claude.testing.fake_cli import FakeCLITransport, FakeScript, FakeTurn, Result, Text

from .test_connection import all_events

MESSAGE_TYPES = (
    tc.AssistantMessage,
    tc.UserMessage,
    tc.SystemMessage,
    tc.ResultMessage,
    tc.StreamEvent,
)


def transcript_messages(path: Path, proc: int | None = None) -> list[Any]:
    """The user-visible messages of a transcript (of one CLI process, if given)."""
    lines = []
    for line in path.read_text().splitlines():
        record = json.loads(line)
        if record["dir"] == "cli->sdk" and (proc is None or record["proc"] == proc):
            lines.append(record["line"].encode() + b"\n")
    proto = ClaudeProtocol()
    proto.receive_data(b"".join(lines))
    proto.receive_data(b"")
    return [e for e in all_events(proto) if isinstance(e, MESSAGE_TYPES)]


def render(messages: list[Any], **kw: Any) -> str:
    out = io.StringIO()
    renderer = Renderer(out, **kw)
    renderer.render_all(messages)
    renderer.end_line()
    return out.getvalue()


def test_partial_messages_are_shown_once_as_they_stream(transcripts_dir: Path) -> None:
    messages = transcript_messages(transcripts_dir / "h_partial_messages.jsonl")
    text = render(messages)
    assert text.count("Let me check.") == 1
    assert text.count("Streaming works in small pieces.") == 1
    assert "⏺ Bash(echo partial)" in text
    assert "  ⎿  partial" in text
    assert "✓ success" in text and "2 turns" in text and "$0.000280" in text
    # The streamed line is complete: the deltas join without stray line breaks.
    assert "⏺ Streaming works in small pieces.\n" in text


def test_streamed_text_is_written_delta_by_delta() -> None:
    out = io.StringIO()
    renderer = Renderer(out)
    events: list[dict[str, Any]] = [
        {"type": "message_start", "message": {"id": "m1"}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hel"}},
    ]
    for event in events:
        renderer.message(tc.StreamEvent(event=event))
    assert out.getvalue() == "⏺ Hel"
    renderer.message(
        tc.StreamEvent(
            event={
                "type": "content_block_delta",
                "delta": {"type": "text_delta", "text": "lo\n\nw"},
            }
        )
    )
    # Continuation lines are indented, blank lines stay empty.
    assert out.getvalue() == "⏺ Hello\n\n  w"
    renderer.message(
        tc.AssistantMessage(content=[tc.TextBlock(text="Hello\n\nw")], model="m", message_id="m1")
    )
    renderer.message(tc.StreamEvent(event={"type": "content_block_stop", "index": 0}))
    assert out.getvalue() == "⏺ Hello\n\n  w\n"


def test_thinking_and_tool_calls(transcripts_dir: Path) -> None:
    text = render(transcript_messages(transcripts_dir / "o_thinking.jsonl"))
    assert "✻ The user wants 2+2. Let me compute with a tool." in text
    assert "⏺ Bash(echo $((2+2)))" in text
    assert "  ⎿  4" in text
    assert "⏺ 2+2 = 4" in text


def test_api_error_result(transcripts_dir: Path) -> None:
    path = transcripts_dir / "p_api_error_401.jsonl"
    procs = sorted({json.loads(line)["proc"] for line in path.read_text().splitlines()})
    text = render(transcript_messages(path, procs[-1]))
    assert "API error: authentication_failed" in text
    assert "✗ success (api_error, HTTP 401): Invalid API key" in text


def test_limits_retries_fallback_and_permission_changes(transcripts_dir: Path) -> None:
    text = render(transcript_messages(transcripts_dir / "i_max_turns.jsonl"))
    assert "✗ error_max_turns (max_turns): Reached maximum number of turns (1)" in text
    text = render(transcript_messages(transcripts_dir / "n_fallback_model.jsonl"))
    # The CLI's first backoff is about half a second (with jitter).
    assert re.search(r"↻ API error 529 \(overloaded\); retry 1/10 in 0\.[5-9] s\n", text)
    assert "⇄ model fallback: claude-opus-4-5 -> claude-sonnet-4-5 (overloaded)" in text
    text = render(transcript_messages(transcripts_dir / "k_set_model_mode.jsonl"))
    assert "• Set model to `claude-haiku-4-5`" in text
    assert "⊘ Write was not permitted" in text
    assert "• permission mode: acceptEdits" in text
    # One init line per change of model or permission mode, not one per turn.
    assert text.count("• session ") == 1
    assert "• model claude-haiku-4-5 · permission mode default" in text
    assert "• model claude-haiku-4-5 · permission mode acceptEdits" in text


def test_structured_output(transcripts_dir: Path) -> None:
    text = render(transcript_messages(transcripts_dir / "l_structured_output.jsonl"))
    assert 'structured output: {"answer": 42, "reason": "fake model"}' in text
    assert "⏺ StructuredOutput(" in text


def test_every_transcript_renders_in_color_and_in_ascii(transcripts_dir: Path) -> None:
    for path in sorted(transcripts_dir.glob("*.jsonl")):
        messages = transcript_messages(path)
        colored = render(messages, color=True)
        assert "\x1b[" in colored, path.name
        ascii_out = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
        renderer = Renderer(ascii_out)
        renderer.render_all(messages)  # no UnicodeEncodeError: ASCII symbols are used
        assert renderer.sym.ok == "ok"


def test_callback_lines_go_between_the_tool_call_and_its_result() -> None:
    out = io.StringIO()
    renderer = Renderer(out)
    call = tc.ToolUseBlock(id="t1", name="Bash", input={"command": "echo hi"})
    # The hook ran before the loop rendered the tool call (they are concurrent tasks).
    renderer.log("  hook PreToolUse: Bash")
    renderer.message(tc.AssistantMessage(content=[tc.TextBlock(text="Let me.")], model="m"))
    assert "hook" not in out.getvalue()
    renderer.message(tc.AssistantMessage(content=[call], model="m"))
    renderer.log("  policy: allow")  # ... or after it
    renderer.message(tc.UserMessage(content=[tc.ToolResultBlock(tool_use_id="t1", content="hi")]))
    assert out.getvalue().splitlines() == [
        "⏺ Let me.",
        "⏺ Bash(echo hi)",
        "  hook PreToolUse: Bash",
        "  policy: allow",
        "  ⎿  hi",
    ]


def test_long_tool_output_is_cut() -> None:
    out = io.StringIO()
    renderer = Renderer(out, tool_output_lines=2)
    content = "\n".join(f"line {i}" for i in range(10))
    renderer.message(tc.UserMessage(content=[tc.ToolResultBlock(tool_use_id="t", content=content)]))
    assert out.getvalue().splitlines() == ["  ⎿  line 0", "     line 1", "     … +8 lines"]


def test_tool_summary() -> None:
    assert tool_summary(tc.ToolUseBlock(id="1", name="Bash", input={"command": "ls\n-la"})) == (
        "Bash(ls -la)"
    )
    assert tool_summary(tc.ToolUseBlock(id="1", name="Write", input={"file_path": "a.txt"})) == (
        "Write(a.txt)"
    )
    assert tool_summary(tc.ToolUseBlock(id="1", name="X", input={})) == "X()"
    long = tool_summary(tc.ToolUseBlock(id="1", name="X", input={"n": "y" * 500}), width=20)
    assert long.startswith('X({"n": "') and long.endswith("...)") and len(long) == 23


def test_colors() -> None:
    assert Style(True)("x", "red", "bold") == "\x1b[31;1mx\x1b[0m"
    assert Style(False)("x", "red") == "x"
    assert use_color(io.StringIO(), "always") is True
    assert use_color(io.StringIO(), "never") is False
    assert use_color(io.StringIO(), "auto") is False  # not a tty


def test_no_color_env_wins_over_a_tty(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert use_color(Tty(), "auto") is True
    monkeypatch.setenv("NO_COLOR", "1")
    assert use_color(Tty(), "auto") is False


def test_usage_totals_count_cumulative_cost_once_per_session() -> None:
    totals = UsageTotals()
    usage = {"input_tokens": 10, "output_tokens": 5, "cache_read_input_tokens": 2}
    for cost in (0.001, 0.003):
        totals.add(
            tc.ResultMessage(subtype="success", session_id="a", total_cost_usd=cost, usage=usage)
        )
    totals.add(
        tc.ResultMessage(
            subtype="error_max_turns", is_error=True, session_id="b", total_cost_usd=0.5
        )
    )
    assert totals.results == 3 and totals.errors == 1
    assert (totals.input_tokens, totals.output_tokens, totals.cache_read_tokens) == (20, 10, 4)
    assert totals.total_cost_usd == pytest.approx(0.503)
    assert format_cost(0.503) == "$0.5030" and format_cost(0.000123) == "$0.000123"
    assert format_cost(None) == "$?" and format_cost(0) == "$0"


async def test_run_session_renders_a_fake_cli_turn() -> None:
    script = FakeScript(turns=[FakeTurn(steps=(Text("pong"), Result(text="pong")))])
    options = tc.ClaudeAgentOptions(transport=FakeCLITransport(script))
    out = io.StringIO()
    result = await run_session("ping", options, Renderer(out))
    assert result is not None and result.result == "pong"
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("• session ")
    assert lines[1] == "⏺ pong"
    assert lines[2].startswith("✓ success")
