"""A callback's failure, or the SDK's own around it, at the edges (found by a review).

- A tracer failing to end a callback's span neither swallows a cancellation in flight nor
  replaces the answer already made (a hook's deny: an error answer means "no opinion").
- An exception whose ``str()`` fails is still answered (and logged); it crashed the session.
- A team cancelled while the body's own nursery fails lets no ``Cancelled`` out of its block.
- A withdrawn hook whose own nursery fails as it is cancelled is logged, not a crash.
"""

from __future__ import annotations

from typing import Any

import pytest
import trio
import trio.lowlevel
import trio.testing

import trio_claude as tc
from tests._helpers import answers, options_for, success
from trio_claude._callbacks import answer_request
from trio_claude._protocol._connection import ClaudeProtocol
from trio_claude._protocol._events import ControlRequest
from trio_claude._util import iter_leaves
from trio_claude.testing.fake_cli import Emit, FakeScript, FakeTurn, Request, Result, Sleep


class _TracerThatFailsOnEnd:
    """A SessionTrace whose span end fails (an exporter that broke, say)."""

    def callback_started(self, subtype: str, request: Any) -> object:
        return object()

    def callback_ended(self, span: object, outcome: str, *args: Any) -> None:
        raise RuntimeError(f"exporter broke ending a {outcome} span")


async def test_a_tracer_failing_as_a_request_is_cancelled_keeps_the_cancellation(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A cancelled request must propagate Cancelled and answer nothing. When the span's end
    raises while the Cancelled unwinds ``_answer``, the RuntimeError (context: Cancelled) is
    caught by answer_request's new ``except Exception`` and turned into an error answer: the
    cancellation is swallowed and answer_request returns bytes."""

    async def handler(request: dict[str, Any]) -> dict[str, Any]:
        await trio.sleep_forever()
        raise AssertionError

    request = ControlRequest("req-1", "can_use_tool", {"subtype": "can_use_tool"})
    returned: list[bytes] = []
    with trio.move_on_after(1) as scope:
        returned.append(
            await answer_request(
                ClaudeProtocol(),
                {"can_use_tool": handler},
                request,
                _TracerThatFailsOnEnd(),  # type: ignore[arg-type]
            )
        )
    assert not returned, f"a cancelled request was answered: {returned!r}"
    assert scope.cancelled_caught


async def test_a_tracer_failing_after_a_hook_answered_still_sends_the_hooks_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The hook denied the tool; the span's end then failed. The CLI got an *error* answer in
    place of the deny (for a hook: no opinion, so the tool runs): a telemetry failure after the
    answer was computed must not change the answer."""
    pytest.importorskip("opentelemetry.sdk.trace")
    from opentelemetry.sdk.trace import TracerProvider

    from trio_claude._otel import SessionTrace

    def broken_end(self: SessionTrace, span: Any, outcome: str, *args: Any) -> None:
        raise RuntimeError("exporter broke")

    monkeypatch.setattr(SessionTrace, "callback_ended", broken_end)

    async def deny_bash(hook_input: Any, tool_use_id: Any, context: Any) -> Any:
        return {
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": "deny",
                "permissionDecisionReason": "no shell",
            }
        }

    hook_call = Request(
        "hook_callback",
        {
            "callback_id": "hook_0",
            "input": {
                "session_id": "s",
                "cwd": "/w",
                "hook_event_name": "PreToolUse",
                "tool_name": "Bash",
                "tool_input": {"command": "rm -rf /"},
                "tool_use_id": "toolu_1",
            },
            "tool_use_id": "toolu_1",
        },
    )
    script = FakeScript(turns=[FakeTurn(steps=(hook_call, Result(text="done")))])
    opts, transport = options_for(
        script,
        hooks={"PreToolUse": [tc.HookMatcher(matcher="Bash", hooks=[deny_bash])]},
        telemetry=TracerProvider(),
    )
    async with tc.open_session(opts) as session:
        await session.run("go")
    (answer,) = answers(transport.fake)
    decision = success(answer)["hookSpecificOutput"]["permissionDecision"]
    assert decision == "deny"


class _Unprintable(Exception):
    def __str__(self) -> str:
        raise _Unprintable()


async def test_a_callback_exception_whose_str_fails_does_not_crash_the_session() -> None:
    """answer_request promises that nothing but a cancellation leaves it, but its fallback
    formats ``{exc}`` unguarded (as the hook handler and ``_answer`` do): a hook raising an
    exception whose ``str()`` fails escapes it and the session dies with a nested
    ExceptionGroup; the CLI gets no answer."""

    async def hook(*args: Any) -> Any:
        raise _Unprintable()

    hook_call = Request(
        "hook_callback", {"callback_id": "hook_0", "input": {"hook_event_name": "PreToolUse"}}
    )
    script = FakeScript(
        turns=[FakeTurn(steps=(hook_call, Result(text="first"))), FakeTurn.reply("second")]
    )
    opts, transport = options_for(script, hooks={"PreToolUse": [tc.HookMatcher(hooks=[hook])]})
    async with tc.open_session(opts) as session:
        assert (await session.run("one")).text == "first"
        assert (await session.run("two")).text == "second"
    (answer,) = answers(transport.fake)
    assert answer["subtype"] == "error"


async def _fails_when_cancelled() -> None:
    try:
        await trio.sleep_forever()
    finally:
        raise ValueError("cleanup failed")


async def test_a_cancelled_team_lets_no_cancelled_out_of_its_block() -> None:
    """``fan.cancel()`` cancels the team's nursery scope; the body's own nursery then raises
    [Cancelled, ValueError]. The team's scope takes its Cancelled out (trio passes on a copy of
    the group), but ``_body_alone``/``_same`` match the copy and collapse_group returns the
    *original* group: a Cancelled whose scope is gone leaves the block (a plain trio nursery
    gives [[ValueError]]; before today ValueError). ``except* ValueError`` then re-raises a
    stray Cancelled."""
    options = tc.ClaudeAgentOptions(transport=options_for(FakeScript())[1])
    with pytest.raises(BaseException) as info:
        async with tc.teams.open_fanout(options) as fan, trio.open_nursery() as nursery:
            nursery.start_soon(_fails_when_cancelled)
            nursery.start_soon(trio.sleep_forever)
            await trio.lowlevel.checkpoint()
            fan.cancel()
    leaves = list(iter_leaves(info.value))
    assert not any(isinstance(leaf, trio.Cancelled) for leaf in leaves), leaves


async def test_a_withdrawn_hook_whose_own_nursery_fails_does_not_crash_the_session(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """(Not new, but the new guarantee: "nothing but a cancellation leaves answer_request; the
    session's task group never fails for one request".) The CLI withdraws a hook whose own
    nursery has a child that fails as it is cancelled: the callback raises
    BaseExceptionGroup([Cancelled, ValueError]), which no ``except Exception`` catches; the
    request scope strips the Cancelled and the ValueError crashes the session (four nested
    ExceptionGroups plus SessionClosedError leave the block). Expected: nothing sent for the
    withdrawn request, the ValueError logged, the session goes on."""

    async def hook(hook_input: Any, tool_use_id: Any, context: Any) -> Any:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_fails_when_cancelled)
            nursery.start_soon(trio.sleep_forever)

    request = Emit(
        {
            "type": "control_request",
            "request_id": "r1",
            "request": {
                "subtype": "hook_callback",
                "callback_id": "hook_0",
                "input": {"hook_event_name": "UserPromptSubmit", "prompt": "p"},
            },
        }
    )
    script = FakeScript(
        turns=[
            FakeTurn(
                steps=(
                    request,
                    Sleep(0.1),
                    Emit({"type": "control_cancel_request", "request_id": "r1"}),
                    Sleep(1.0),
                    Result(text="first"),
                )
            ),
            FakeTurn.reply("second"),
        ]
    )
    opts, transport = options_for(
        script, hooks={"UserPromptSubmit": [tc.HookMatcher(hooks=[hook])]}
    )
    async with tc.open_session(opts) as session:
        assert (await session.run("one")).text == "first"
        assert (await session.run("two")).text == "second"
    assert transport.fake is not None
    assert not transport.fake.responses


class _NoText(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no text for you")


def test_every_error_that_quotes_another_survives_its_broken_str() -> None:
    """The same class of fault wherever the SDK quotes an exception it did not raise: a team's
    errors, an in-process MCP tool's failure, a status description."""
    from trio_claude._mcp import _describe
    from trio_claude._redact import describe_exception
    from trio_claude.teams import AgentError, EscalationError

    assert describe_exception(_NoText()) == "_NoText: (its text could not be formatted)"
    assert "could not be formatted" in str(AgentError("a", _NoText()))
    assert "could not be formatted" in str(EscalationError("a", _NoText(), 2))
    assert _describe(_NoText()) == "_NoText: (its text could not be formatted)"
