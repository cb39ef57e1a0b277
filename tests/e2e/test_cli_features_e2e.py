"""CLI features end to end: the real pinned ``claude`` against the fake model, through sessions.

Each scenario mirrors a transcript in ``tests/fixtures/transcripts/`` (named in the test's
docstring; ``tests/fixtures/capture.py`` records them). The ``claude_env`` fixture fails a test
that leaves a CLI process behind.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
import trio

import trio_claude as tc
from trio_claude.testing import (
    ClaudeTestEnv,
    HTTPError,
    Match,
    Text,
    Thinking,
    ToolUse,
    Turn,
    Usage,
)


def stream_events(messages: Any, kind: str | None = None) -> list[dict[str, Any]]:
    events = [m.event for m in messages if isinstance(m, tc.StreamEvent)]
    return events if kind is None else [e for e in events if e.get("type") == kind]


def deltas(messages: Any, delta_type: str, field: str) -> list[str]:
    return [
        e["delta"][field]
        for e in stream_events(messages, "content_block_delta")
        if e["delta"].get("type") == delta_type
    ]


def blocks(messages: Any, cls: type[Any]) -> list[Any]:
    return [
        b
        for m in messages
        if isinstance(m, tc.AssistantMessage | tc.UserMessage) and not isinstance(m.content, str)
        for b in m.content
        if isinstance(b, cls)
    ]


def request_texts(request: Any) -> list[str]:
    """Every text in a recorded request's conversation (both roles)."""
    out = []
    for message in request.messages:
        content = message["content"]
        if isinstance(content, str):
            out.append(content)
            continue
        out += [b.get("text", "") for b in content if b.get("type") == "text"]
    return out


async def collect(options: tc.ClaudeAgentOptions, prompt: str) -> list[Any]:
    """One turn through ``query()``: error results are delivered, not raised."""
    async with tc.query(prompt, options=options) as stream:
        return [m async for m in stream]


# ------------------------------------------------------------------------- streaming


async def test_partial_messages_join_to_the_final_text(claude_env: ClaudeTestEnv) -> None:
    """h_partial_messages: text and tool-input deltas join to the final blocks."""
    text = "Streaming works in small pieces, one delta at a time."
    command = {"command": "echo partial", "description": "echo"}
    script = [
        Turn([Text("Let me check."), ToolUse("Bash", command)], chunk_size=5),
        Turn([Text(text)], chunk_size=5),
    ]
    opts = claude_env.options(script, include_partial_messages=True, allowed_tools=["Bash"])
    turn = await tc.ask("stream please", options=opts)

    assert turn.text == text
    text_deltas = deltas(turn.messages, "text_delta", "text")
    assert "".join(text_deltas) == "Let me check." + text
    assert len(text_deltas) == math.ceil(len("Let me check.") / 5) + math.ceil(len(text) / 5)
    json_deltas = deltas(turn.messages, "input_json_delta", "partial_json")
    (tool_use,) = blocks(turn.messages, tc.ToolUseBlock)
    assert tool_use.input == command
    assert json.loads("".join(json_deltas)) == command
    kinds = [e["type"] for e in stream_events(turn.messages)]
    assert kinds.count("message_start") == kinds.count("message_stop") == 2
    assert "ping" not in kinds
    # The final assistant blocks carry exactly what was streamed.
    assert [b.text for b in blocks(turn.messages, tc.TextBlock)] == ["Let me check.", text]
    assert all(
        m.session_id == turn.session_id for m in turn.messages if isinstance(m, tc.StreamEvent)
    )


async def test_interrupt_mid_stream_then_a_clean_next_turn(claude_env: ClaudeTestEnv) -> None:
    """g_interrupt: ``session.interrupt()`` ends the turn; the caller receives it to its result."""
    words = " ".join(f"w{i}" for i in range(400))
    script = [Turn([Text(words)], delay=0.01, chunk_size=4), Turn("Recovered after interrupt.")]
    opts = claude_env.options(script, include_partial_messages=True)
    async with tc.open_session(opts) as session:
        await session.send("Write a very long essay")
        seen: list[Any] = []
        interrupted_at = None
        with trio.fail_after(30):  # a hang guard
            async for message in session.receive_response():
                seen.append(message)
                if interrupted_at is None and len(deltas(seen, "text_delta", "text")) == 5:
                    interrupted_at = len(seen)
                    await session.interrupt()
        assert interrupted_at is not None
        result = seen[-1]
        assert isinstance(result, tc.ResultMessage)
        assert result.is_error and result.subtype == "error_during_execution"
        assert result.terminal_reason == "aborted_streaming"
        streamed = "".join(deltas(seen, "text_delta", "text"))
        assert streamed.startswith("w0 w1") and "w399" not in streamed
        interrupted = [
            b.text
            for m in seen
            if isinstance(m, tc.UserMessage) and not isinstance(m.content, str)
            for b in m.content
            if isinstance(b, tc.TextBlock)
        ]
        assert "[Request interrupted by user]" in interrupted

        turn = await session.run("Are you still there?")
        assert turn.text == "Recovered after interrupt."
        # Nothing of the interrupted turn leaks into this one.
        assert "".join(deltas(turn.messages, "text_delta", "text")) == "Recovered after interrupt."
    with trio.fail_after(30):
        first = await claude_env.model.wait_for_request(lambda r: r.disconnected)
    assert first.turn_index == 0 and not first.completed
    requests = claude_env.model.turn_requests("t1")
    assert [r.turn_index for r in requests] == [0, 1]
    # The model sees the interruption marker before the next prompt.
    assert requests[1].last_user_text.endswith("Are you still there?")
    assert "[Request interrupted by user]" in requests[1].last_user_text


# ------------------------------------------------------------------- control requests


async def test_set_model_probes_and_switches_the_next_turn(claude_env: ClaudeTestEnv) -> None:
    """k_set_model_mode: the new model is probed, then used by the next turn."""
    script = [Turn("first answer from {model}"), Turn("second answer from {model}")]
    opts = claude_env.options(script, model="claude-sonnet-4-5")
    async with tc.open_session(opts) as session:
        one = await session.run("first")
        await session.set_model("claude-haiku-4-5")
        two = await session.run("second")
    assert one.text == "first answer from claude-sonnet-4-5"
    assert two.text == "second answer from claude-haiku-4-5"
    init = next(m for m in two.messages if isinstance(m, tc.InitMessage))
    assert init.model == "claude-haiku-4-5"
    assert [r.model for r in claude_env.model.turn_requests("t1")] == [
        "claude-sonnet-4-5",
        "claude-haiku-4-5",
    ]
    probes = [r for r in claude_env.model.requests if r.kind == "probe" and r.session == "t1"]
    assert probes, "set_model did not probe the new model"
    assert {p.model for p in probes} == {"claude-haiku-4-5"}
    assert all(p.turn_index is None and not p.stream for p in probes)


async def test_set_permission_mode_lets_the_next_turn_write(claude_env: ClaudeTestEnv) -> None:
    """k_set_model_mode: a Write is denied in ``default`` and runs after ``acceptEdits``."""
    a_txt, b_txt = claude_env.project / "a.txt", claude_env.project / "b.txt"
    script = [
        Turn([ToolUse("Write", {"file_path": str(a_txt), "content": "A\n"})]),
        Turn("write A result: {last_tool_result}"),
        Turn([ToolUse("Write", {"file_path": str(b_txt), "content": "B\n"})]),
        Turn("write B result: {last_tool_result}"),
    ]
    opts = claude_env.options(script)
    async with tc.open_session(opts) as session:
        denied = await session.run("write a.txt")
        await session.set_permission_mode("acceptEdits")
        allowed = await session.run("write b.txt")

    assert any(isinstance(m, tc.PermissionDeniedMessage) for m in denied.messages)
    assert not a_txt.exists()
    statuses = [m for m in allowed.messages if isinstance(m, tc.StatusMessage)]
    assert [s.permission_mode for s in statuses if s.permission_mode] == ["acceptEdits"]
    init = next(m for m in allowed.messages if isinstance(m, tc.InitMessage))
    assert init.permission_mode == "acceptEdits"
    assert not any(isinstance(m, tc.PermissionDeniedMessage) for m in allowed.messages)
    assert b_txt.read_text() == "B\n"
    assert "File created successfully" in allowed.text


# ----------------------------------------------------------------------------- resume


async def test_resume_by_session_id_continues_the_conversation(claude_env: ClaudeTestEnv) -> None:
    """m_resume: a second CLI with ``resume=<id>`` sends the first conversation to the model."""
    first_opts = claude_env.options([Turn("Noted: PINEAPPLE.")], name="first")
    first = await tc.ask("Remember the codeword PINEAPPLE.", options=first_opts)
    assert first.session_id

    second_opts = claude_env.options(
        [Turn("The codeword was PINEAPPLE.")], name="second", resume=first.session_id
    )
    second = await tc.ask("What was the codeword?", options=second_opts)
    assert second.text == "The codeword was PINEAPPLE."
    assert second.session_id == first.session_id
    (request,) = claude_env.model.turn_requests("second")
    texts = request_texts(request)
    assert "Remember the codeword PINEAPPLE." in texts
    assert "Noted: PINEAPPLE." in texts
    assert request.last_user_text == "What was the codeword?"
    # Without resume, a fresh session knows nothing of it.
    fresh_opts = claude_env.options([Turn("What codeword?")], name="fresh")
    await tc.ask("What was the codeword?", options=fresh_opts)
    (fresh,) = claude_env.model.turn_requests("fresh")
    assert "Remember the codeword PINEAPPLE." not in request_texts(fresh)


# ----------------------------------------------------------------------------- errors


async def test_api_401_without_retries_is_an_error_result_and_a_result_error(
    claude_env: ClaudeTestEnv,
) -> None:
    """p_api_error_401: one 401, no retry; streamed as an error result, raised by ``ask()``."""
    no_retries = {"CLAUDE_CODE_MAX_RETRIES": "0"}
    script = [HTTPError(401, message="invalid x-api-key", repeat=True)]
    streamed = await collect(claude_env.options(script, name="stream", env=no_retries), "hi")
    result = streamed[-1]
    assert isinstance(result, tc.ResultMessage)
    assert result.is_error and result.api_error_status == 401
    assert result.terminal_reason == "api_error"
    errors = [m.error for m in streamed if isinstance(m, tc.AssistantMessage) and m.error]
    assert errors == ["authentication_failed"]
    assert [r.status for r in claude_env.model.turn_requests("stream")] == [401]

    with pytest.raises(tc.ResultError) as caught:
        await tc.ask("hi again", options=claude_env.options(script, name="ask", env=no_retries))
    assert caught.value.api_error_status == 401
    assert caught.value.terminal_reason == "api_error"
    assert caught.value.result_message.is_error
    assert [r.status for r in claude_env.model.turn_requests("ask")] == [401]


async def test_fallback_model_after_repeated_529(claude_env: ClaudeTestEnv) -> None:
    """n_fallback_model: three 529s for the primary model switch to ``fallback_model``."""
    script: list[HTTPError | Turn] = [
        HTTPError(529, repeat=True, match=Match(model="claude-opus-4-5")),
        Turn("served by {model}"),
    ]
    opts = claude_env.options(script, model="claude-opus-4-5", fallback_model="claude-sonnet-4-5")
    with trio.fail_after(60):  # a hang guard: the CLI starts, and retries with backoffs
        turn = await tc.ask("hello", options=opts)
    assert turn.text == "served by claude-sonnet-4-5"
    (fallback,) = [m for m in turn.messages if isinstance(m, tc.ModelFallbackMessage)]
    assert (fallback.original_model, fallback.fallback_model) == (
        "claude-opus-4-5",
        "claude-sonnet-4-5",
    )
    retries = [m for m in turn.messages if isinstance(m, tc.ApiRetryMessage)]
    assert retries and all(r.error_status == 529 for r in retries)
    requests = claude_env.model.turn_requests("t1")
    assert [(r.model, r.status) for r in requests] == [("claude-opus-4-5", 529)] * 3 + [
        ("claude-sonnet-4-5", 200)
    ]


# ---------------------------------------------------------------------------- limits


async def test_max_turns_ends_with_error_max_turns(claude_env: ClaudeTestEnv) -> None:
    """i_max_turns: the tool runs, then the turn ends with ``error_max_turns``."""
    script = [Turn([ToolUse("Bash", {"command": "echo one", "description": "echo"})], repeat=True)]
    opts = claude_env.options(script, max_turns=1, permission_mode="bypassPermissions")
    messages = await collect(opts, "loop")
    result = messages[-1]
    assert isinstance(result, tc.ResultMessage)
    assert result.subtype == "error_max_turns" and result.is_error
    assert result.terminal_reason == "max_turns"
    assert result.errors and "maximum number of turns (1)" in str(result.errors[0])
    (tool_result,) = blocks(messages, tc.ToolResultBlock)
    assert tool_result.content == "one"
    assert len(claude_env.model.turn_requests("t1")) == 1

    with pytest.raises(tc.ResultError) as caught:
        await tc.ask("loop", options=claude_env.options(name="t1", max_turns=1))
    assert caught.value.subtype == "error_max_turns"


async def test_max_budget_usd_ends_with_error_max_budget_usd(claude_env: ClaudeTestEnv) -> None:
    """j_max_budget: an expensive answer ends the turn; its tool result is never reported.

    (CLI 2.1.329 may still start the tool, since it runs tools while the answer streams; it
    neither reports the result nor makes another model request.)
    """
    expensive = Usage(input_tokens=100_000, output_tokens=50_000)
    script = [
        Turn([ToolUse("Bash", {"command": "echo spend", "description": "echo"})], usage=expensive),
        Turn("should not be reached"),
    ]
    opts = claude_env.options(script, max_budget_usd=0.0001, permission_mode="bypassPermissions")
    messages = await collect(opts, "spend money")
    result = messages[-1]
    assert isinstance(result, tc.ResultMessage)
    assert result.subtype == "error_max_budget_usd" and result.is_error
    assert result.terminal_reason == "budget_exhausted"
    assert result.total_cost_usd is not None and result.total_cost_usd > 0.0001
    assert result.errors and "budget" in str(result.errors[0]).lower()
    assert [b.name for b in blocks(messages, tc.ToolUseBlock)] == ["Bash"]
    assert not blocks(messages, tc.ToolResultBlock)
    assert len(claude_env.model.turn_requests("t1")) == 1


# ------------------------------------------------------------------ structured output


SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "integer"}, "reason": {"type": "string"}},
    "required": ["answer", "reason"],
}


async def test_structured_output_from_the_structured_output_tool(
    claude_env: ClaudeTestEnv,
) -> None:
    """l_structured_output: the model calls ``StructuredOutput``; the turn ends there."""
    value = {"answer": 42, "reason": "fake model"}
    script = [
        Turn(
            "The answer is 42.",
            match=Match(
                tool_offered="StructuredOutput",
                has_tool_result=False,
                last_user_text_contains="6*7",
            ),
        ),
        Turn([ToolUse("StructuredOutput", value)]),
    ]
    opts = claude_env.options(script, output_format={"type": "json_schema", "schema": SCHEMA})
    turn = await tc.ask("What is 6*7? Answer in JSON.", options=opts)
    assert turn.structured_output == value
    requests = claude_env.model.turn_requests("t1")
    # A text answer gets one enforcement prompt; after the tool call no further request is made.
    assert len(requests) == 2
    assert "structured-output-enforce" in requests[1].last_user_text
    tool = next(t for t in requests[0].tools if t.get("name") == "StructuredOutput")
    assert tool["input_schema"]["properties"] == SCHEMA["properties"]
    (call,) = blocks(turn.messages, tc.ToolUseBlock)
    assert call.name == "StructuredOutput" and call.input == value


# ---------------------------------------------------------------------------- thinking


async def test_thinking_blocks_with_signatures(claude_env: ClaudeTestEnv) -> None:
    """o_thinking: thinking blocks arrive typed, with signatures, and go back to the model."""
    script = [
        Turn(
            [
                Thinking("The user wants 2+2. Let me compute with a tool.", signature="sig-e2e-1"),
                ToolUse("Bash", {"command": "echo $((2+2))", "description": "add"}),
            ]
        ),
        Turn([Thinking("It printed {last_tool_result}.", signature="sig-e2e-2"), Text("2+2 = 4")]),
    ]
    opts = claude_env.options(
        script,
        max_thinking_tokens=4000,
        permission_mode="bypassPermissions",
        include_partial_messages=True,
    )
    turn = await tc.ask("What is 2+2?", options=opts)
    assert turn.text == "2+2 = 4"
    thinking = blocks(turn.messages, tc.ThinkingBlock)
    assert [(b.thinking, b.signature) for b in thinking] == [
        ("The user wants 2+2. Let me compute with a tool.", "sig-e2e-1"),
        ("It printed 4.", "sig-e2e-2"),
    ]
    assert "".join(deltas(turn.messages, "thinking_delta", "thinking")).startswith(
        "The user wants 2+2."
    )
    assert deltas(turn.messages, "signature_delta", "signature") == ["sig-e2e-1", "sig-e2e-2"]
    second = claude_env.model.turn_requests("t1")[1]
    echoed = [
        b
        for m in second.messages
        if m["role"] == "assistant" and not isinstance(m["content"], str)
        for b in m["content"]
        if b["type"] == "thinking"
    ]
    assert echoed and echoed[0]["signature"] == "sig-e2e-1"
