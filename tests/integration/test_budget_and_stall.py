"""Budgets shared across sessions and the stall watchdog, against the in-process FakeCLI."""

from __future__ import annotations

from typing import Any

import pytest
import trio
import trio.testing

import trio_claude as tc
from tests._helpers import options_for
from trio_claude._options import validate_options
from trio_claude.testing.fake_cli import (
    Emit,
    FakeCLITransport,
    FakeScript,
    FakeTurn,
    Hang,
    Request,
    Result,
    Sleep,
    Step,
    Text,
    WaitForInterrupt,
)


def user_frames(transport: FakeCLITransport) -> int:
    assert transport.fake is not None
    return sum(1 for f in transport.fake.received if f["type"] == "user")


# ------------------------------------------------------------------- stall


async def test_stall_interrupts_the_turn_and_raises_with_what_was_last_seen(
    autojump_clock: trio.testing.MockClock,
) -> None:
    script = FakeScript(turns=[FakeTurn(steps=[Text("thinking..."), Hang()]), FakeTurn.reply("ok")])
    opts, transport = options_for(script, stall_timeout=30)
    async with tc.open_session(opts) as session:
        await session.send("go")
        start = trio.current_time()
        seen = []
        with pytest.raises(tc.StallTimeoutError) as info:
            async for message in session.receive_response():
                seen.append(message)
        assert 30 <= trio.current_time() - start < 31
        assert info.value.timeout == 30
        assert info.value.last_seen is not None and "assistant" in info.value.last_seen
        assert any(isinstance(m, tc.AssistantMessage) for m in seen)
        # the interrupt was answered: the session is usable and the next turn is clean
        turn = await session.run("again")
        assert turn.text == "ok"
    assert transport.fake is not None and transport.fake.interrupts == 1


def _api_retry(delay_ms: float) -> Emit:
    return Emit(
        {
            "type": "system",
            "subtype": "api_retry",
            "attempt": 1,
            "max_retries": 3,
            "retry_delay_ms": delay_ms,
            "error_status": 429,
        }
    )


@pytest.mark.parametrize("receive", ["receive_response", "receive_messages"])
async def test_an_announced_api_retry_delay_is_not_a_stall(
    autojump_clock: trio.testing.MockClock, receive: str
) -> None:
    """The CLI announces a retry in 45 s (a rate limit's retry-after): it is silent that long
    by design, and a stall_timeout of 30 s interrupted a retry that was going fine."""
    steps: list[Step] = [_api_retry(45_000), Sleep(50), Result(text="after the retry")]
    opts, transport = options_for(FakeScript(turns=[FakeTurn(steps=steps)]), stall_timeout=30)
    async with tc.open_session(opts) as session:
        await session.send("go")
        seen = []
        with trio.fail_after(300):
            async for message in getattr(session, receive)():
                seen.append(message)
                if isinstance(message, tc.ResultMessage):
                    break
        assert seen[-1].result == "after the retry"
    assert transport.fake is not None and transport.fake.interrupts == 0


async def test_a_stall_is_caught_while_receive_messages_waits(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """The watchdog armed only for receive_response(): receive_messages() (what the official
    client's streams use) waited for ever on a hung turn."""
    script = FakeScript(turns=[FakeTurn(steps=[Text("thinking..."), Hang()]), FakeTurn.reply("ok")])
    opts, _ = options_for(script, stall_timeout=30)
    async with tc.open_session(opts) as session:
        await session.send("go")
        with trio.fail_after(300), pytest.raises(tc.StallTimeoutError):
            async for _ in session.receive_messages():
                pass
        assert (await session.run("again")).text == "ok"


async def test_frames_push_the_stall_deadline_back(autojump_clock: trio.testing.MockClock) -> None:
    steps: list[Step] = [Text("a"), Sleep(20), Text("b"), Sleep(20), Text("c"), Result(text="done")]
    opts, _ = options_for(FakeScript(turns=[FakeTurn(steps=steps)]), stall_timeout=30)
    async with tc.open_session(opts) as session:
        turn = await session.run("go")
        assert turn.text == "done"


def asks_permission(*after: Step) -> FakeScript:
    ask = Request("can_use_tool", {"tool_name": "Write", "input": {}, "tool_use_id": "t1"})
    return FakeScript(turns=[FakeTurn(steps=[Text("may I?"), ask, *after])])


async def approve_slowly(tool: str, tool_input: dict[str, Any], context: Any) -> Any:
    await trio.sleep(100)  # a human deciding
    return tc.PermissionResultAllow()


async def test_no_stall_while_the_cli_waits_for_our_callback(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """The CLI is silent because it waits for us; the clock starts again at our answer."""
    script = asks_permission(Sleep(20), Text("done"), Result(text="done"))
    opts, _ = options_for(script, stall_timeout=30, can_use_tool=approve_slowly)
    async with tc.open_session(opts) as session:
        assert (await session.run("go")).text == "done"


async def test_a_stall_after_our_answer_is_still_caught(
    autojump_clock: trio.testing.MockClock,
) -> None:
    opts, _ = options_for(asks_permission(Hang()), stall_timeout=30, can_use_tool=approve_slowly)
    async with tc.open_session(opts) as session:
        await session.send("go")
        start = trio.current_time()
        with pytest.raises(tc.StallTimeoutError):
            async for _ in session.receive_response():
                pass
        assert 130 <= trio.current_time() - start < 131  # the answer at 100, then 30 s


async def test_stall_with_a_cli_that_ignores_interrupt_closes_the_session(
    autojump_clock: trio.testing.MockClock,
) -> None:
    script = FakeScript(turns=[FakeTurn(steps=[Hang()])], unanswered=("interrupt",))
    opts, _ = options_for(script, stall_timeout=10, interrupt_timeout=3, close_timeout=1)
    async with tc.open_session(opts) as session:
        with pytest.raises(tc.StallTimeoutError) as info:
            await session.run("go")
        assert info.value.last_seen is not None
        with pytest.raises(tc.SessionClosedError):
            await session.send("next")


async def test_no_stall_watchdog_outside_a_turn(autojump_clock: trio.testing.MockClock) -> None:
    opts, _ = options_for(FakeScript(), stall_timeout=1)
    async with tc.open_session(opts) as session:
        await trio.sleep(100)  # idle between turns is not a stall
        assert (await session.run("hi")).text == "ok"


# ------------------------------------------------------------------ budgets


async def test_usd_budget_delivers_the_crossing_result_then_raises_and_blocks_sends() -> None:
    budget = tc.Budget(max_usd=0.00025)
    opts, transport = options_for(FakeScript(), budget=budget)
    async with tc.open_session(opts) as session:
        assert (await session.run("one")).text == "ok"
        assert (await session.run("two")).text == "ok"
        assert budget.spent.usd == pytest.approx(0.0002)  # cumulative CLI cost, charged by diff
        await session.send("three")
        seen = []
        with pytest.raises(tc.BudgetExceededError) as info:
            async for message in session.receive_response():
                seen.append(message)
        assert isinstance(seen[-1], tc.ResultMessage)  # the crossing turn's result came first
        assert info.value.dimension == "usd"
        assert info.value.spent == pytest.approx(0.0003) and info.value.limit == 0.00025
        sent = user_frames(transport)
        with pytest.raises(tc.BudgetExceededError):
            await session.send("four")
        assert user_frames(transport) == sent  # nothing reached the model
        # raising the limit lets the session go on
        budget.max_usd = 1.0
        budget.reset_exceeded()
        assert (await session.run("five")).text == "ok"


async def test_run_raises_instead_of_returning_when_the_turn_crosses() -> None:
    budget = tc.Budget(max_turns=2)
    opts, _ = options_for(
        FakeScript(turns=[FakeTurn(steps=[Text("a"), Text("b"), Result(text="r")])]),
        budget=budget,
    )
    async with tc.open_session(opts) as session:
        with pytest.raises(tc.BudgetExceededError) as info:
            await session.run("go")
        assert info.value.dimension == "turns"


async def test_token_budget_interrupts_running_turns_of_other_sessions(
    autojump_clock: trio.testing.MockClock,
) -> None:
    budget = tc.Budget(max_tokens=60)
    burner = FakeScript(
        turns=[FakeTurn(steps=[Sleep(5)] + [Text(f"t{i}") for i in range(10)] + [Result()])]
    )
    waiter = FakeScript(turns=[FakeTurn(steps=[Text("working"), WaitForInterrupt()])])
    burn_opts, _ = options_for(burner, budget=budget)
    wait_opts, wait_transport = options_for(waiter, budget=budget)
    outcome: dict[str, object] = {}

    async def long_turn(session: tc.Session) -> None:
        seen = []
        try:
            await session.send("long")
            async for message in session.receive_response():
                seen.append(message)
        except tc.BudgetExceededError as exc:
            outcome["error"] = exc
        outcome["seen"] = seen

    async with (
        tc.open_session(wait_opts) as waiting,
        tc.open_session(burn_opts) as burning,
        trio.open_nursery() as nursery,
    ):
        nursery.start_soon(long_turn, waiting)
        with pytest.raises(tc.BudgetExceededError):
            await burning.run("burn")
    error = outcome["error"]
    assert isinstance(error, tc.BudgetExceededError) and error.dimension == "tokens"
    seen = outcome["seen"]
    assert isinstance(seen, list) and isinstance(seen[-1], tc.ResultMessage)
    assert seen[-1].subtype == "error_during_execution"  # interrupted through the protocol
    assert wait_transport.fake is not None and wait_transport.fake.interrupts == 1


async def test_seconds_budget_interrupts_a_silent_turn(
    autojump_clock: trio.testing.MockClock,
) -> None:
    budget = tc.Budget(max_seconds=50)
    opts, transport = options_for(
        FakeScript(turns=[FakeTurn(steps=[WaitForInterrupt()])]), budget=budget
    )
    async with tc.open_session(opts) as session:
        start = trio.current_time()
        with pytest.raises(tc.BudgetExceededError) as info:
            await session.run("go")
        assert info.value.dimension == "seconds"
        assert 50 <= trio.current_time() - start < 51
    assert transport.fake is not None and transport.fake.interrupts == 1


async def test_budget_scope_cancels_arbitrary_code(autojump_clock: trio.testing.MockClock) -> None:
    budget = tc.Budget(max_seconds=10)
    with pytest.raises(tc.BudgetExceededError) as info, budget.scope():
        await trio.sleep(100)
    assert info.value.dimension == "seconds"

    shared = tc.Budget(max_tokens=5)
    with pytest.raises(tc.BudgetExceededError), shared.scope():
        shared.charge(tokens=10)
        await trio.sleep(1)
    assert shared.remaining() == {"tokens": 0.0}


def test_budget_validation() -> None:
    for bad in (
        {"max_usd": 0},
        {"max_tokens": -1},
        {"max_turns": "3"},
        {"max_seconds": float("nan")},
    ):
        with pytest.raises(tc.ConfigurationError):
            tc.Budget(**bad)
    with pytest.raises(tc.ConfigurationError, match="budget"):
        validate_options(tc.ClaudeAgentOptions(budget=object()))


async def test_a_budget_is_charged_as_messages_arrive_not_as_they_are_read(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # Without a budget, message lines wait undecoded until delivery; with one, each is decoded
    # (and charged) when it arrives, so a consumer that lags never hides spending.
    budget = tc.Budget(max_tokens=10_000)
    steps: list[Step] = [*(Text(f"t{i}") for i in range(5)), Sleep(5), Result()]
    opts, _ = options_for(FakeScript(turns=[FakeTurn(steps=steps)]), budget=budget)
    async with tc.open_session(opts) as session:
        await session.send("go")
        await trio.sleep(1)  # the five assistant messages have arrived; nothing was read
        assert session.statistics().buffered_messages >= 5
        assert budget.spent.tokens == 5 * 11 and budget.spent.turns == 5  # 10 in + 1 out each
        turn = await session.collect_response()
        assert sum(isinstance(m, tc.AssistantMessage) for m in turn.messages) == 5


async def test_without_a_budget_queued_messages_are_decoded_on_delivery(
    autojump_clock: trio.testing.MockClock,
) -> None:
    steps = [Text(f"t{i}") for i in range(3)] + [Result(text="done")]
    opts, _ = options_for(FakeScript(turns=[FakeTurn(steps=steps)]))
    async with tc.open_session(opts) as session:
        await session.send("go")
        await trio.sleep(1)  # everything has arrived; nothing was read
        queued = list(session._inbox.queue)
        assert sum(type(m) is bytes for m in queued) == 3  # the assistant lines, undecoded
        assert isinstance(queued[-1], tc.ResultMessage)  # results are decoded on arrival
        texts = []
        async for message in session.receive_response():
            if isinstance(message, tc.AssistantMessage):
                assert isinstance(message.content[0], tc.TextBlock)
                texts.append(message.content[0].text)
        assert texts == ["t0", "t1", "t2"]


async def test_what_an_abandoned_turn_spent_is_charged(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A turn given up by a deadline is interrupted and its last messages are dropped; its
    result (the CLI's running cost) was dropped before the budget saw it, so a session closed
    after it charged nothing: sessions timing out could overrun a budget without limit."""
    budget = tc.Budget(max_usd=1.0)
    script = FakeScript(
        # The CLI is slow to take the interrupt: the turn's last messages arrive while it drains.
        turns=[FakeTurn(steps=[Sleep(5), Text("late"), Result(total_cost_usd=0.25)])],
        unanswered=("interrupt",),
    )
    opts, _ = options_for(script, budget=budget)
    async with tc.open_session(opts) as session:
        with trio.move_on_after(1):
            await session.run("go")
        assert budget.spent.usd == 0
        await trio.sleep(10)
    stats = session.statistics()
    assert stats.dropped_messages == 2  # "late" and the result: not delivered
    assert budget.spent.usd == pytest.approx(0.25)  # but charged
    assert budget.spent.turns == 1 and budget.spent.tokens > 0
