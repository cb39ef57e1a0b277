"""OpenTelemetry spans of a session, printed as a tree, offline.

Needs the ``otel`` extra and the OpenTelemetry SDK (``pip install 'trio-claude[otel]'
opentelemetry-sdk``). Run: ``python examples/telemetry.py`` (after ``make cli``).

A real application sets its tracer provider once (``trace.set_tracer_provider(...)``, with an
OTLP exporter, say); trio-claude then traces every session on its own. Here the provider is
passed to the session (``telemetry=provider``) so the example leaves the global state alone.
"""

from __future__ import annotations

import tempfile
from typing import Any

import trio
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import trio_claude as tc
from trio_claude.testing import ToolUse, Turn, open_claude_test_env

SHOWN = ("gen_ai.tool.name", "gen_ai.usage.output_tokens", "claude.permission.behavior")


def print_tree(spans: tuple[ReadableSpan, ...]) -> None:
    children: dict[int | None, list[ReadableSpan]] = {}
    for span in sorted(spans, key=lambda s: s.start_time or 0):
        children.setdefault(span.parent.span_id if span.parent else None, []).append(span)

    def show(span: ReadableSpan, depth: int) -> None:
        attributes = span.attributes or {}
        extra = ", ".join(f"{k}={attributes[k]}" for k in SHOWN if k in attributes)
        print(f"{'  ' * depth}{span.name}" + (f" ({extra})" if extra else ""))
        for child in children.get(span.context.span_id, []):
            show(child, depth + 1)

    for root in children.get(None, []):
        show(root, 0)


async def main() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))

    async def allow(tool: str, tool_input: dict[str, Any], context: Any) -> Any:
        return tc.PermissionResultAllow()

    with tempfile.TemporaryDirectory() as tmp:
        async with open_claude_test_env(tmp) as env:
            target = env.project / "notes.md"
            script = [
                Turn([ToolUse("Write", {"file_path": str(target), "content": "# notes\n"})]),
                Turn("wrote notes.md"),
            ]
            opts = env.options(script, telemetry=provider, can_use_tool=allow)
            # The application's own span: the session's spans become its children.
            with provider.get_tracer("my-app").start_as_current_span("handle request"):
                async with tc.open_session(opts) as session:
                    turn = await session.run("write notes.md")
            print(f"result: {turn.text}")
    print_tree(exporter.get_finished_spans())


if __name__ == "__main__":
    trio.run(main)
