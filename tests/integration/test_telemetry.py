"""OpenTelemetry spans (the ``otel`` extra): the tree, the attributes, the trace context passed
to the CLI, and what ``telemetry=`` turns on. The real CLI's side: tests/e2e/test_telemetry_e2e.py.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import trio
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

import trio_claude as tc
from tests._helpers import options_for
from trio_claude._telemetry import trace_env
from trio_claude.testing.fake_cli import (
    Emit,
    Exit,
    FakeCLIProcessTransport,
    FakeScript,
    FakeTurn,
    Request,
    Result,
    ToolUse,
)


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def by_name(exporter: InMemorySpanExporter) -> dict[str, ReadableSpan]:
    spans = exporter.get_finished_spans()
    named = {span.name: span for span in spans}
    assert len(named) == len(spans), [s.name for s in spans]
    return named


def parent_of(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


def tool_result(tool_use_id: str, *, is_error: bool = False) -> Emit:
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": tool_use_id, "content": "x"}
    if is_error:
        block["is_error"] = True
    return Emit({"type": "user", "message": {"role": "user", "content": [block]}})


def can_use_tool(tool: str, tool_use_id: str) -> Request:
    return Request(
        "can_use_tool", {"tool_name": tool, "input": {"command": "ls"}, "tool_use_id": tool_use_id}
    )


async def allow(tool: str, tool_input: dict[str, Any], context: Any) -> tc.PermissionResultAllow:
    return tc.PermissionResultAllow()


async def test_a_turn_with_a_tool_makes_one_tree_under_the_callers_span(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    script = FakeScript(
        turns=[
            FakeTurn(
                steps=(
                    ToolUse("Bash", {"command": "ls"}, id="toolu_1"),
                    can_use_tool("Bash", "toolu_1"),
                    tool_result("toolu_1"),
                    Result(
                        text="done",
                        total_cost_usd=0.25,
                        usage={"input_tokens": 120, "output_tokens": 30},
                    ),
                )
            )
        ]
    )
    opts, _ = options_for(script, telemetry=provider, can_use_tool=allow, model="claude-test-1")
    caller = provider.get_tracer("app")
    with caller.start_as_current_span("app.request") as app_span:
        async with tc.open_session(opts) as session:
            await session.run("list the files")
    spans = by_name(exporter)
    assert set(spans) == {
        "app.request",
        "claude.session",
        "claude.control initialize",
        "claude.turn",
        "execute_tool Bash",
        "claude.callback can_use_tool",
    }
    root, turn = spans["claude.session"], spans["claude.turn"]
    tool, callback = spans["execute_tool Bash"], spans["claude.callback can_use_tool"]
    assert parent_of(root) == app_span.get_span_context().span_id
    assert parent_of(spans["claude.control initialize"]) == root.context.span_id
    assert parent_of(turn) == root.context.span_id
    assert parent_of(tool) == turn.context.span_id
    assert parent_of(callback) == tool.context.span_id
    assert {s.context.trace_id for s in spans.values()} == {app_span.get_span_context().trace_id}

    assert root.attributes is not None and turn.attributes is not None
    assert root.attributes["gen_ai.request.model"] == "claude-test-1"
    assert root.attributes["gen_ai.conversation.id"] == script.session_id
    assert root.attributes["claude.session.outcome"] == "closed"
    assert root.attributes["claude.turns"] == 1
    assert root.attributes["claude.cost_usd"] == pytest.approx(0.25)
    assert root.attributes["gen_ai.usage.input_tokens"] == 120
    assert turn.attributes["gen_ai.usage.output_tokens"] == 30
    assert turn.attributes["claude.cost_usd"] == pytest.approx(0.25)
    assert turn.attributes["claude.result.subtype"] == "success"
    assert turn.attributes["gen_ai.conversation.id"] == script.session_id
    assert tool.attributes == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "Bash",
        "gen_ai.tool.call.id": "toolu_1",
    }
    assert callback.attributes is not None
    assert callback.attributes["gen_ai.tool.name"] == "Bash"
    assert callback.attributes["claude.permission.behavior"] == "allow"
    assert callback.attributes["claude.callback.outcome"] == "answered"
    for span in spans.values():
        assert span.status.status_code is not StatusCode.ERROR, span.name
    # Spans nest in time too: each ends before its parent.
    assert tool.end_time is not None and turn.end_time is not None and root.end_time is not None
    assert tool.end_time <= turn.end_time <= root.end_time


async def test_the_cli_gets_the_session_span_as_traceparent(
    provider: TracerProvider, exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A stale value inherited from this process must not reach the CLI.
    monkeypatch.setenv("TRACEPARENT", "00-" + "1" * 32 + "-" + "2" * 16 + "-01")
    opts, transport = options_for(FakeScript(), telemetry=provider)
    async with tc.open_session(opts):
        pass
    root = by_name(exporter)["claude.session"]
    env = transport.specs[0].env
    trace_id = format(root.context.trace_id, "032x")
    span_id = format(root.context.span_id, "016x")
    flags = format(root.context.trace_flags, "02x")
    assert env["TRACEPARENT"] == f"00-{trace_id}-{span_id}-{flags}"


def test_an_explicit_env_value_wins_and_stale_ones_go() -> None:
    carrier = {"TRACEPARENT": "00-new", "TRACESTATE": "k=v"}
    inherited = {"PATH": "/bin", "TRACEPARENT": "00-stale", "TRACESTATE": "old=1"}
    assert trace_env(inherited, {}, carrier) == {"PATH": "/bin", **carrier}
    assert trace_env(inherited, {"TRACEPARENT": "00-mine"}, carrier | {"TRACEPARENT": "x"}) == {
        "PATH": "/bin",
        "TRACEPARENT": "00-stale",  # build_env already put the explicit value here
        "TRACESTATE": "k=v",
    }
    # A carrier without a parent (nothing active, baggage only) leaves the launcher's context
    # as it is, as the official SDKs do: only a new parent makes the inherited one stale.
    assert trace_env(inherited, {}, {}) == inherited
    assert trace_env(inherited, {}, {"BAGGAGE": "k=v"}) == {**inherited, "BAGGAGE": "k=v"}


async def test_an_error_result_and_a_dead_cli_are_errors_on_their_spans(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    script = FakeScript(
        turns=[
            FakeTurn(
                steps=(
                    Result(
                        subtype="error_during_execution",
                        is_error=True,
                        extra={"errors": ["the tool broke"]},
                    ),
                )
            ),
            FakeTurn(steps=(ToolUse("Bash", {}, id="toolu_2"), Exit(code=3, stderr="boom"))),
        ]
    )
    opts, _ = options_for(script, telemetry=provider)
    async with tc.open_session(opts) as session:
        with pytest.raises(tc.ResultError):
            await session.run("one")
        with pytest.raises(tc.ProcessError):
            await session.run("two")
    spans = exporter.get_finished_spans()
    turns = [s for s in spans if s.name == "claude.turn"]
    assert [t.status.status_code for t in turns] == [StatusCode.ERROR, StatusCode.ERROR]
    assert turns[0].status.description == "error_during_execution: the tool broke"
    assert turns[1].attributes is not None
    assert turns[1].attributes["claude.ended_by"] == "session end"
    (tool,) = [s for s in spans if s.name == "execute_tool Bash"]
    assert tool.status.status_code is StatusCode.ERROR
    (root,) = [s for s in spans if s.name == "claude.session"]
    assert root.status.status_code is StatusCode.ERROR
    assert root.attributes is not None
    assert root.attributes["claude.session.outcome"] == "failed"
    assert root.attributes["claude.cli.returncode"] == 3
    assert any(event.name == "exception" for event in root.events)


async def test_control_requests_and_callbacks_that_fail(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    async def broken_policy(tool: str, tool_input: dict[str, Any], context: Any) -> Any:
        raise RuntimeError("policy engine down")

    script = FakeScript(
        turns=[
            FakeTurn(
                steps=(
                    can_use_tool("Write", "toolu_w"),
                    Request("no_such_request", {}),
                    Result(text="ok"),
                )
            )
        ],
        unanswered=["set_model"],
    )
    opts, _ = options_for(script, telemetry=provider, can_use_tool=broken_policy, control_timeout=1)
    async with tc.open_session(opts) as session:
        await session.set_permission_mode("plan")
        with pytest.raises(tc.ControlTimeoutError):
            await session.set_model("claude-other")
        await session.run("write it")
    spans = by_name(exporter)
    assert spans["claude.control set_permission_mode"].status.status_code is StatusCode.UNSET
    timed_out = spans["claude.control set_model"]
    assert timed_out.status.status_code is StatusCode.ERROR
    assert "ControlTimeoutError" in (timed_out.status.description or "")
    # A failing permission callback denies (docs/permissions.md): that is the answer recorded.
    callback = spans["claude.callback can_use_tool"]
    assert callback.attributes is not None
    assert callback.attributes["claude.callback.outcome"] == "answered"
    assert callback.attributes["claude.permission.behavior"] == "deny"
    # No tool_use block came first: the callback hangs under the turn.
    assert parent_of(callback) == spans["claude.turn"].context.span_id
    unknown = spans["claude.callback no_such_request"]
    assert unknown.attributes is not None
    assert unknown.attributes["claude.callback.outcome"] == "unsupported"
    assert unknown.status.status_code is StatusCode.ERROR


async def test_cost_per_turn_is_the_difference_of_the_clis_running_totals(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    script = FakeScript(
        turns=[
            FakeTurn(steps=(Result(text="a", total_cost_usd=0.1),)),
            FakeTurn(steps=(Result(text="b", total_cost_usd=0.25),)),  # the CLI reports 0.35
        ]
    )
    opts, _ = options_for(script, telemetry=provider)
    async with tc.open_session(opts) as session:
        await session.run("a")
        await session.run("b")
    spans = exporter.get_finished_spans()
    costs = [
        s.attributes["claude.cost_usd"] for s in spans if s.name == "claude.turn" and s.attributes
    ]
    assert costs == [pytest.approx(0.1), pytest.approx(0.25)]
    (root,) = [s for s in spans if s.name == "claude.session"]
    assert root.attributes is not None
    assert root.attributes["claude.cost_usd"] == pytest.approx(0.35)
    assert root.attributes["claude.turns"] == 2


async def test_off_means_no_spans_and_no_traceparent(
    provider: TracerProvider, exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TRACEPARENT", raising=False)
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: provider)
    opts, transport = options_for(FakeScript(), telemetry=False)
    async with tc.open_session(opts) as session:
        await session.run("hi")
    assert exporter.get_finished_spans() == ()
    assert "TRACEPARENT" not in transport.specs[0].env


async def test_automatic_follows_the_global_provider(
    provider: TracerProvider, exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Imported but not configured (the API's proxy provider): off.
    opts, _ = options_for(FakeScript())
    async with tc.open_session(opts) as session:
        await session.run("hi")
    assert exporter.get_finished_spans() == ()
    # Configured: on, with that provider.
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: provider)
    async with tc.open_session(opts) as session:
        await session.run("hi")
    assert "claude.session" in by_name(exporter)


async def test_bad_settings_are_configuration_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(tc.ConfigurationError, match="telemetry must be True, False, None"):
        async with tc.open_session(tc.ClaudeAgentOptions(telemetry="yes")):
            pass
    import importlib.util

    monkeypatch.delitem(sys.modules, "opentelemetry.trace")
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(tc.ConfigurationError, match=r"pip install 'trio-claude\[otel\]'"):
        async with tc.open_session(tc.ClaudeAgentOptions(telemetry=True)):
            pass


def test_nothing_is_imported_without_opentelemetry() -> None:
    code = textwrap.dedent(
        """
        import sys, trio
        import trio_claude as tc
        from trio_claude.testing.fake_cli import FakeCLITransport

        async def main():
            opts = tc.ClaudeAgentOptions(transport=FakeCLITransport())
            async with tc.open_session(opts) as session:
                await session.run("hi")

        trio.run(main)
        print(sorted(m for m in sys.modules if m.startswith("opentelemetry") or "_otel" in m))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


async def test_a_cancelled_wait_still_ends_every_span(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    script = FakeScript(turns=[FakeTurn(steps=(ToolUse("Read", {}, id="toolu_r"),))])
    opts, _ = options_for(script, telemetry=provider, interrupt_timeout=0.5)
    with trio.move_on_after(2):
        async with tc.open_session(opts) as session:
            await session.run("never ends")
    names = sorted(s.name for s in exporter.get_finished_spans())
    assert names == [
        "claude.control initialize",
        "claude.control interrupt",
        "claude.session",
        "claude.turn",
        "execute_tool Read",
    ]


async def test_the_official_query_iterator_is_traced_too(
    provider: TracerProvider, exporter: InMemorySpanExporter, tmp_path: Path
) -> None:
    script = FakeScript(
        turns=[
            FakeTurn(
                steps=(
                    ToolUse("Bash", {"command": "ls"}, id="toolu_q"),
                    can_use_tool("Bash", "toolu_q"),
                    tool_result("toolu_q"),
                    Result(text="done", total_cost_usd=0.5),
                )
            )
        ]
    )
    # The iterator form has no nursery for the in-process fake: the fake runs as a process.
    transport = FakeCLIProcessTransport(script, tmp_path)
    opts = tc.ClaudeAgentOptions(transport=transport, telemetry=provider, can_use_tool=allow)
    caller = provider.get_tracer("app")
    with caller.start_as_current_span("app.job") as app_span:
        seen = [message async for message in tc.query(prompt="go", options=opts)]
    assert isinstance(seen[-1], tc.ResultMessage)
    spans = by_name(exporter)
    root, turn, tool = spans["claude.session"], spans["claude.turn"], spans["execute_tool Bash"]
    assert parent_of(root) == app_span.get_span_context().span_id
    assert parent_of(turn) == root.context.span_id
    assert parent_of(tool) == turn.context.span_id
    assert parent_of(spans["claude.callback can_use_tool"]) == tool.context.span_id
    assert parent_of(spans["claude.control initialize"]) == root.context.span_id
    assert turn.attributes is not None and turn.attributes["claude.cost_usd"] == 0.5
    assert root.attributes is not None
    assert root.attributes["claude.session.outcome"] == "closed"
    pid = root.attributes["claude.cli.pid"]
    assert isinstance(pid, int) and pid > 0


@pytest.mark.parametrize("telemetry", [None, False])
async def test_the_callers_active_trace_reaches_an_untraced_session_as_the_official_sdks_pass_it(
    telemetry: Any,
) -> None:
    """A session not traced itself (no provider configured here) still hands the caller's
    active trace context to the CLI, as the official SDKs do (its spans join the
    application's trace, and an inherited parent is replaced); ``telemetry=False`` passes
    none. Either way the CLI's trace id, when there is one, is the caller's."""
    from opentelemetry import context, propagate

    trace_id = "0af7651916cd43dd8448eb211c80319c"
    token = context.attach(propagate.extract({"traceparent": f"00-{trace_id}-b7ad6b7169203331-01"}))
    try:
        options, transport = options_for(
            FakeScript(turns=[]), telemetry=telemetry, env={"TRACESTATE": "x=1"}
        )
        async with tc.open_session(options):
            pass
    finally:
        context.detach(token)
    env = transport.specs[0].env
    if telemetry is False:
        assert "TRACEPARENT" not in env or trace_id not in env["TRACEPARENT"]
    else:
        assert env["TRACEPARENT"].split("-")[1] == trace_id
    assert env["TRACESTATE"] == "x=1"  # an explicit value wins
