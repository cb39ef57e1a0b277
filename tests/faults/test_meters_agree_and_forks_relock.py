"""Second review of the sitting's library changes (budget meter, teams' meter, telemetry, the
blocking facade after fork).

Each test fails on the code it was written against; what was checked and found fine is listed
in the review report, not tested here.
"""

from __future__ import annotations

import os
import threading
import warnings
from typing import Any

import orjson
import pytest
import trio
import trio.testing

import trio_claude as tc
from tests._helpers import options_for
from trio_claude import teams
from trio_claude.testing.fake_cli import Emit, FakeScript, FakeTurn, Raw, Result, Step

from ._support import ManualTransport
from ._support import metered_assistant_frame as assistant

STRANGER = {"user_message_uuids": ["not-a-prompt-of-ours"]}


def result(uuid: str | None, usage: dict[str, Any], cost: float, **extra: Any) -> dict[str, Any]:
    frame: dict[str, Any] = {
        "type": "result",
        "subtype": "success",
        "is_error": False,
        "num_turns": 1,
        "result": "done",
        "total_cost_usd": cost,
        "usage": usage,
        **extra,
    }
    if uuid is not None:
        frame["user_message_uuids"] = [uuid]
    return frame


# ------------------------------------------------------------------------ the session's meter


async def test_a_background_result_after_a_zero_token_line_does_not_count_the_model_call_twice(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """``UsageMeter.result(ends_turn=False)`` keeps the live turn's record only when
    ``_turn_tokens`` is non-zero: it takes "no tokens charged yet" for "no turn is being
    metered". A live turn whose first line reported no tokens (usage missing or all zeros) has
    a record (``_per_message["msg_A"] = 0``, one model turn charged), and the background result
    clears it: the next line of the same API message looks new, and its model turn is charged a
    second time (2 turns for one response)."""
    budget = tc.Budget(max_turns=1_000)
    steps: list[Step] = [
        Emit(assistant("a", {"input_tokens": 0, "output_tokens": 0}, "msg_A")),
        Result(text="background", extra={**STRANGER, "usage": {"input_tokens": 7}}),
        Emit(assistant("b", {"input_tokens": 100}, "msg_A")),  # same API message, next block
        Result(text="hi", usage={"input_tokens": 100}),
    ]
    options, _ = options_for(FakeScript(turns=[FakeTurn(steps=steps)]), budget=budget)
    async with tc.open_session(options) as session:
        with trio.fail_after(30):
            assert (await session.run("go")).text == "hi"
            turns = budget.spent.turns
    assert turns == 1, f"one model response charged as {turns} model turns"


async def test_a_background_result_read_while_a_turn_drains_does_not_reset_its_meter(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """While an abandoned turn drains, ``Lifecycle.result_read`` routes a background result
    (naming no open turn) ``DROP``; it reaches ``Session._charge`` through ``_on_dropped`` as a
    ``DroppedMessage``, which ``ClaudeProtocol`` never put in ``_background``, so
    ``is_background`` says no and ``UsageMeter.result`` runs with ``ends_turn=True``: the
    draining turn's record is cleared, and its next (dropped, still charged) line of the same
    API message is charged again: 200 tokens and 2 model turns for one 100-token response."""
    budget = tc.Budget(max_tokens=1_000_000)
    transport = ManualTransport()
    options = tc.ClaudeAgentOptions(transport=transport, budget=budget)
    first_seen = trio.Event()

    async def cli() -> None:
        await transport.child_ready.wait()
        child = transport.child
        assert child is not None
        await child.handshake()
        prompt = await child.read_frame()
        uuid = prompt.get("uuid")
        await child.write_frame(assistant("a", {"input_tokens": 100}, "msg_A"))
        while True:  # the receiver is cancelled: the SDK interrupts the turn
            frame = await child.read_frame()
            if frame.get("type") == "control_request":
                await child.answer(frame, {})
                if frame["request"]["subtype"] == "interrupt":
                    break
        await child.write_frame(result(None, {"input_tokens": 7}, 0.0, **STRANGER))
        await child.write_frame(assistant("b", {"input_tokens": 100}, "msg_A"))
        await child.write_frame(result(uuid, {"input_tokens": 100}, 0.0))
        await child.exit_at_eof()

    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(cli)
            async with tc.open_session(options) as session:
                await session.send("go")
                with trio.CancelScope() as scope:
                    async for message in session.receive_response():
                        if isinstance(message, tc.AssistantMessage):
                            first_seen.set()
                            scope.cancel()
                assert first_seen.is_set()
                while session.lifecycle is not tc.LifecycleState.IDLE:
                    await trio.sleep(0.1)
    spent = budget.spent
    assert (spent.tokens, spent.turns) == (100, 1)


async def test_a_non_finite_total_cost_is_not_charged_to_the_budget(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """``total_cost_usd: 1e999`` parses (orjson and the stdlib alike) as ``inf``. The trace
    now skips a non-finite total ("junk: skipped, as the budget's meter does"), but
    ``UsageMeter.result`` charges ``max(0.0, inf - charged) = inf``: the (possibly shared)
    budget reads ``spent.usd == inf``, every session under it is stopped for good, and
    ``_cost_charged = inf`` makes the meter ignore every later (real) total."""
    budget = tc.Budget(max_usd=10.0)
    junk = (
        '{"type":"result","subtype":"success","is_error":false,"num_turns":1,'
        '"result":"hi","usage":{},"total_cost_usd":1e999}\n'
    )
    script = FakeScript(
        turns=[
            FakeTurn(steps=[Raw(junk)]),
            FakeTurn(steps=[Result(text="b", total_cost_usd=0.25)]),
        ]
    )
    options, _ = options_for(script, budget=budget)
    async with tc.open_session(options) as session:
        with trio.fail_after(30):
            try:
                await session.run("x")
            except tc.BudgetExceededError as exc:
                pytest.fail(f"one junk total stopped the session: {exc}")
            spent_after_junk = budget.spent.usd
            assert (await session.run("y")).text == "b"
    assert spent_after_junk == 0.0
    assert budget.spent.usd == pytest.approx(0.25)  # the fake's running total: 0.25


# ------------------------------------------------------------------------ teams' meter


async def test_an_agent_s_counts_match_the_budget_when_a_background_result_arrives_mid_turn(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """The session now tells ``UsageMeter.result`` that a background result ends no turn
    (``ends_turn=not is_background``), but ``Agent._observe`` (teams) still calls
    ``self._meter.result(cost, usage)``: a background result delivered mid-turn (as
    ``receive_response`` does) clears the agent's record, and the next line of the same API
    message is counted again. The agent reports 200 tokens / 2 model calls for what the
    session's budget (same frames) charges as 100 / 1."""
    budget = tc.Budget(max_tokens=1_000_000)
    steps: list[Step] = [
        Emit(assistant("a", {"input_tokens": 100}, "msg_A")),
        Result(text="background", extra={**STRANGER, "usage": {"input_tokens": 7}}),
        Emit(assistant("b", {"input_tokens": 100}, "msg_A")),
        Result(text="hi", usage={"input_tokens": 100}),
    ]
    options, _ = options_for(FakeScript(turns=[FakeTurn(steps=steps)]), budget=budget)
    with trio.fail_after(30):
        async with teams.open_fanout(options) as fan:
            fan.submit("go")
            (outcome,) = await fan.gather()
    assert outcome.ok
    (agent,) = fan.statistics().agents.values()
    spent = budget.spent
    assert (spent.tokens, spent.turns) == (100, 1)
    assert (agent.tokens, agent.model_calls) == (spent.tokens, spent.turns)


async def test_an_agent_counts_an_assistant_message_with_a_malformed_block(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """An assistant line with one malformed block is delivered as an ``UnknownMessage``; the
    session's ``_charge`` now charges its usage (``assistant_usage``), but ``Agent._observe``
    only looks at ``AssistantMessage``: the agent's ``tokens`` and ``model_calls`` miss the
    50 tokens and the model call the budget (same frames) was charged."""
    budget = tc.Budget(max_tokens=1_000_000)
    bad_block = {"type": "tool_use", "name": "Bash", "input": {}}  # no "id"
    steps: list[Step] = [
        Emit(assistant("", {"input_tokens": 50}, "msg_A", **bad_block)),
        Result(text="hi", usage={}),
    ]
    options, _ = options_for(FakeScript(turns=[FakeTurn(steps=steps)]), budget=budget)
    with trio.fail_after(30):
        async with teams.open_fanout(options) as fan:
            fan.submit("go")
            (outcome,) = await fan.gather()
    assert outcome.ok
    (agent,) = fan.statistics().agents.values()
    spent = budget.spent
    assert (spent.tokens, spent.turns) == (50, 1)
    assert (agent.tokens, agent.model_calls) == (spent.tokens, spent.turns)


# ------------------------------------------------------------------------ telemetry


async def test_negative_result_token_counts_do_not_lower_the_traced_totals(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Negative token counts are now junk for the budget (``usage_tokens`` skips them) and a
    negative total cost is skipped by the trace, but ``SessionTrace._result`` still adds any
    ``int`` usage value to the session's totals: ``input_tokens: -1000`` in one result takes
    the session span's ``gen_ai.usage.input_tokens`` to -990 (the turn span says -1000). The
    budget, from the same frames, counts 10."""
    pytest.importorskip("opentelemetry.sdk")
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    budget = tc.Budget(max_tokens=1_000_000)
    script = FakeScript(
        turns=[
            FakeTurn(steps=[Result(text="a", usage={"input_tokens": 10})]),
            FakeTurn(steps=[Result(text="b", usage={"input_tokens": -1000})]),
        ]
    )
    options, _ = options_for(script, budget=budget, telemetry=provider)
    async with tc.open_session(options) as session:
        with trio.fail_after(30):
            assert (await session.run("x")).text == "a"
            assert (await session.run("y")).text == "b"
    spans = exporter.get_finished_spans()
    (session_span,) = [s for s in spans if s.name == "claude.session"]
    traced: Any = dict(session_span.attributes or {}).get("gen_ai.usage.input_tokens")
    assert traced == budget.spent.tokens == 10


# ------------------------------------------------------------------------ the blocking facade


def test_a_forked_child_can_open_blocking_sessions_while_another_thread_was_starting_one() -> None:
    """``blocking`` now clears ``_live_portals`` in a forked child, but its ``_atexit_lock``
    (taken by every ``_Portal.start``) is inherited as is: a fork while another thread is in
    ``start()``'s ``with _atexit_lock`` leaves the child a lock nobody will release, and the
    child's first blocking session hangs for good. (The guardian renews its own locks in its
    after-fork hook for this reason.)"""
    if not hasattr(os, "fork"):
        pytest.skip("no fork")
    from trio_claude import blocking

    held = threading.Event()
    release = threading.Event()

    def holder() -> None:
        with blocking._atexit_lock:  # what a thread inside _Portal.start holds
            held.set()
            release.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert held.wait(10)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads
            pid = os.fork()
        if pid == 0:  # the child: what _Portal.start does first
            got = blocking._atexit_lock.acquire(timeout=2.0)
            os._exit(0 if got else 1)
    finally:
        release.set()
        thread.join(10)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, (
        "the forked child could not take blocking._atexit_lock: its first blocking session "
        "would hang"
    )


async def test_a_limit_crossed_in_the_read_that_ends_the_turn_is_raised_after_its_result(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """The crossing assistant line and the turn's result arrive in one read: the core closes
    the turn before the session charges the line, and the budget's listener, seeing no live
    turn, dropped the error. ``run()`` returned as if within budget; the next ``send()`` was
    refused without a word about this turn (docs/reliability.md: the turn that crosses a
    limit delivers its result, then the receiving call raises)."""
    budget = tc.Budget(max_tokens=100)
    together = (
        orjson.dumps(assistant("big", {"output_tokens": 150}, "msg_B")).decode()
        + "\n"
        + orjson.dumps(result(None, {"output_tokens": 150}, 0.01)).decode()
        + "\n"
    )
    steps: list[Step] = [Raw(together)]
    options, _ = options_for(FakeScript(turns=[FakeTurn(steps=steps)]), budget=budget)
    async with tc.open_session(options) as session:
        with trio.fail_after(30), pytest.raises(tc.BudgetExceededError):
            await session.run("go")
