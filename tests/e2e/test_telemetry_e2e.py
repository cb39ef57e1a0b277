"""OpenTelemetry spans with the real CLI: the span tree of a turn with a tool, a permission
callback and a hook, and the session's trace context in the CLI's own environment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

import trio_claude as tc
from trio_claude.testing import ClaudeTestEnv, ToolUse, Turn


def environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


async def test_a_real_turn_with_a_tool_is_one_trace_the_cli_joins(
    claude_env: ClaudeTestEnv,
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    target = claude_env.project / "traced.txt"
    script = [
        Turn([ToolUse("Write", {"file_path": str(target), "content": "traced\n"})]),
        Turn("written"),
    ]

    async def allow(name: str, tool_input: dict[str, Any], context: Any) -> Any:
        return tc.PermissionResultAllow()

    async def pre_tool_use(hook_input: Any, tool_use_id: str | None, context: Any) -> Any:
        return {}

    opts = claude_env.options(
        script,
        telemetry=provider,
        can_use_tool=allow,
        hooks={"PreToolUse": [tc.HookMatcher(matcher="Write", hooks=[pre_tool_use])]},
    )
    async with tc.open_session(opts) as session:
        assert session.pid is not None
        cli_env = environ(session.pid)
        turn = await session.run("write the file")
    assert turn.result.subtype == "success" and target.read_text() == "traced\n"

    spans = exporter.get_finished_spans()
    (root,) = [s for s in spans if s.name == "claude.session"]
    (turn_span,) = [s for s in spans if s.name == "claude.turn"]
    (tool,) = [s for s in spans if s.name == "execute_tool Write"]
    (permission,) = [s for s in spans if s.name == "claude.callback can_use_tool"]
    hooks = [s for s in spans if s.name == "claude.callback hook_callback"]
    assert hooks, [s.name for s in spans]

    # The CLI was started with the session span as its parent trace context.
    trace_id = format(root.context.trace_id, "032x")
    span_id = format(root.context.span_id, "016x")
    assert cli_env["TRACEPARENT"].startswith(f"00-{trace_id}-{span_id}-")

    assert turn_span.parent is not None and turn_span.parent.span_id == root.context.span_id
    assert tool.parent is not None and tool.parent.span_id == turn_span.context.span_id
    assert permission.parent is not None and permission.parent.span_id == tool.context.span_id
    for hook in hooks:
        assert hook.parent is not None and hook.parent.span_id == tool.context.span_id
        assert hook.attributes is not None
        assert hook.attributes["claude.hook.event"] == "PreToolUse"
    assert {s.context.trace_id for s in spans} == {root.context.trace_id}

    assert root.attributes is not None and turn_span.attributes is not None
    assert root.attributes["gen_ai.conversation.id"] == session.session_id
    assert root.attributes["claude.cli.version"] == session.cli_version
    assert root.attributes["claude.session.outcome"] == "closed"
    tokens = turn_span.attributes["gen_ai.usage.output_tokens"]
    assert isinstance(tokens, int) and tokens > 0
    assert turn_span.attributes["claude.num_turns"] == 2
    assert tool.attributes is not None and str(tool.attributes["gen_ai.tool.call.id"])
    assert all(s.status.status_code is not StatusCode.ERROR for s in spans)
