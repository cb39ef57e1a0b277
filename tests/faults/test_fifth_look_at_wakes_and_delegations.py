"""A fifth adversarial look at commit cd48bdc: the retry's quiet time ended by any read of
stdout, ``send()`` waking the inbox, the refusal of a cancelled lead's late delegation, and
the run slot and stall watchdog for every receiver. Each failing test says what went wrong;
the short passing ones (``test_guard_...``) keep probes that found nothing."""

from __future__ import annotations

from typing import Any

import pytest
import trio
import trio.testing

import trio_claude as tc
from tests._helpers import options_for
from trio_claude import teams
from trio_claude.teams import AgentState
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
)


def _api_retry(delay_ms: float) -> Emit:
    return Emit(
        {
            "type": "system",
            "subtype": "api_retry",
            "attempt": 1,
            "max_retries": 10,
            "retry_delay_ms": delay_ms,
            "error_status": 429,
        }
    )


def _delegate_call(teammate: str, index: int = 0) -> Request:
    return Request(
        "mcp_message",
        {
            "server_name": "team",
            "message": {
                "jsonrpc": "2.0",
                "id": index,
                "method": "tools/call",
                "params": {"name": "delegate", "arguments": {"teammate": teammate, "task": "t"}},
            },
        },
    )


def _fake(*turns: FakeTurn, **fields: Any) -> tc.ClaudeAgentOptions:
    unanswered = fields.pop("unanswered", ())
    script = FakeScript(turns=list(turns), unanswered=unanswered)
    return tc.ClaudeAgentOptions(transport=FakeCLITransport(script), **fields)


def _reply(text: str) -> FakeTurn:
    return FakeTurn(steps=[Text(text), Sleep(0.1), Result(text=text)])


# ------------------------------------------------------ an announced retry's quiet time


async def _retry_then_second_prompt(*, keep_alive: bool) -> list[BaseException]:
    """A ``receive_messages()`` consumer; prompt 1's turn announces a 10-minute retry (then
    optionally sends one ``keep_alive``), is silent until the retry goes through at ~100 s;
    prompt 2 is sent at t=5 (queued by the CLI). What the consumer raised."""
    first: list[Any] = [_api_retry(600_000), Sleep(1)]
    if keep_alive:
        first.append(Emit({"type": "keep_alive"}))
    first += [Sleep(100), Text("answer"), Result(text="one")]
    script = FakeScript(turns=[FakeTurn(steps=first), _reply("two")])
    opts, _ = options_for(script, stall_timeout=30)
    raised: list[BaseException] = []
    results: list[tc.ResultMessage] = []
    async with tc.open_session(opts) as session:
        with trio.fail_after(900):
            async with trio.open_nursery() as nursery:

                async def consume() -> None:
                    try:
                        async for message in session.receive_messages():
                            if isinstance(message, tc.ResultMessage):
                                results.append(message)
                                if len(results) == 2:
                                    return
                    except tc.ClaudeSDKError as exc:
                        raised.append(exc)

                nursery.start_soon(consume)
                await session.send("one")
                await trio.sleep(5)
                await session.send("two")
    return raised


async def test_a_keep_alive_during_an_announced_retry_does_not_end_its_quiet_time(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """The CLI announces a retry in 10 minutes (a 429's retry-after), sends one ``keep_alive``
    a second later, then is silent until the retry goes through at ~100 s. A keep-alive is
    plumbing, no sign that the retry happened, yet ``_on_stdout`` (``_session.py:1373``)
    clears ``_quiet_until`` at *every* read of stdout. The next wake of the receiver (here
    ``send()`` of a second prompt at t=5, which now wakes the inbox) works out its deadline
    from ``_last_activity`` alone: the healthy turn is interrupted as stalled at ~35 s.
    (Without the keep-alive, the guard below, the same run is fine.)"""
    raised = await _retry_then_second_prompt(keep_alive=True)
    assert not raised, f"a keep-alive ended the announced retry's quiet time: {raised!r}"


async def test_guard_without_a_keep_alive_the_retry_quiet_time_holds(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Guard: the same run without the keep-alive: no stall."""
    assert await _retry_then_second_prompt(keep_alive=False) == []


async def test_guard_a_message_after_a_retry_still_ends_its_quiet_time(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Guard: a message (the model answering) after the retry ends its quiet time."""
    steps: list[Step] = [_api_retry(600_000), Sleep(1), Text("answering"), Hang()]
    opts, _ = options_for(FakeScript(turns=[FakeTurn(steps=steps)]), stall_timeout=30)
    async with tc.open_session(opts) as session:
        start = trio.current_time()
        with trio.move_on_after(120), pytest.raises(tc.StallTimeoutError):
            await session.run("go")
        assert trio.current_time() - start < 120


# ------------------------------------------------------- send() waking the inbox


async def test_guard_receive_messages_between_turns_catches_a_stall_after_send(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Guard: a ``receive_messages()`` consumer already waiting between turns gets the stall
    deadline of the turn ``send()`` opens."""
    script = FakeScript(turns=[FakeTurn(steps=[Text("thinking"), Hang()])])
    opts, _ = options_for(script, stall_timeout=30)
    async with tc.open_session(opts) as session, trio.open_nursery() as nursery:
        raised: list[BaseException] = []

        async def consume() -> None:
            try:
                async for _ in session.receive_messages():
                    pass
            except tc.StallTimeoutError as exc:
                raised.append(exc)

        nursery.start_soon(consume)
        await trio.testing.wait_all_tasks_blocked()
        await session.send("go")
        with trio.move_on_after(120):
            while not raised:
                await trio.sleep(1)
        assert raised, "the waiting receiver never applied the stall deadline"


async def test_guard_a_shared_budget_does_not_wake_or_fail_the_other_sessions_receiver(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Guard: two sessions share a seconds budget; A sends and runs; B's idle
    ``receive_messages()`` (no turn of its own) neither raises nor gets a message."""
    budget = tc.Budget(max_seconds=1000)
    a_opts, _ = options_for(FakeScript(turns=[_reply("a")]), budget=budget, stall_timeout=30)
    b_opts, _ = options_for(FakeScript(turns=[]), budget=budget, stall_timeout=30)
    async with tc.open_session(a_opts) as a, tc.open_session(b_opts) as b:
        seen: list[object] = []
        async with trio.open_nursery() as nursery:

            async def idle_receiver() -> None:
                async for message in b.receive_messages():
                    seen.append(message)

            nursery.start_soon(idle_receiver)
            await trio.testing.wait_all_tasks_blocked()
            assert (await a.run("go")).text == "a"
            await trio.sleep(200)
            nursery.cancel_scope.cancel()
        assert seen == []


# ---------------------------------------------------------- a cancelled lead's delegation


async def test_a_late_delegation_of_a_given_up_lead_turn_is_refused_when_a_new_turn_starts(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """The lead's turn 1 is given up at t=5 (its CLI is slow to honour the interrupt: here it
    never answers it, so the turn runs on until interrupt_timeout); the caller at once runs a
    new lead turn. ``Agent.run`` sets the lead RUNNING *before* ``send()`` waits for turn 1 to
    drain, so the delegation turn 1's CLI asks for at t=10 passes the new check
    ``self.lead.state is AgentState.CANCELLED`` (``teams/_leader.py:167``) and the teammate
    works a whole turn for a lead turn nobody waits for. Without the new run (guard below)
    the same delegation is refused: the refusal depends on what the caller does next."""
    lead_turn = FakeTurn(steps=[Text("a"), Sleep(10), _delegate_call("m0"), Result(text="old")])
    lead = _fake(lead_turn, _reply("new"), unanswered=("interrupt",), interrupt_timeout=120)
    mates = {"m0": _fake(_reply("m0-work"))}
    with trio.fail_after(600):
        async with teams.open_team(lead, mates) as team:
            with trio.move_on_after(5):
                await team.run("one")
            assert team.lead.state is AgentState.CANCELLED
            assert (await team.run("two")).text == "new"
            m0 = team.teammates["m0"]
            assert m0.turns == 0, "the teammate ran a delegation of the lead turn that was given up"


async def test_guard_a_late_delegation_of_a_given_up_lead_turn_is_refused(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Guard (the commit's fix): with no new run, the late delegation is refused."""
    lead_turn = FakeTurn(steps=[Text("a"), Sleep(10), _delegate_call("m0"), Result(text="old")])
    lead = _fake(lead_turn, _reply("new"), unanswered=("interrupt",), interrupt_timeout=120)
    mates = {"m0": _fake(_reply("m0-work"))}
    with trio.fail_after(600):
        async with teams.open_team(lead, mates) as team:
            with trio.move_on_after(5):
                await team.run("one")
            await trio.sleep(60)
            assert team.teammates["m0"].turns == 0


async def test_guard_a_lead_cancelled_earlier_delegates_in_its_next_turn(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Guard: a lead whose earlier turn was cancelled (state CANCELLED) delegates normally in
    its next turn (``Agent.run`` sets it RUNNING first)."""
    hang = FakeTurn(steps=[Text("a"), Hang()])
    delegating = FakeTurn(steps=[_delegate_call("m0"), Result(text="lead")])
    lead = _fake(hang, delegating)
    mates = {"m0": _fake(_reply("m0-work"))}
    with trio.fail_after(600):
        async with teams.open_team(lead, mates) as team:
            with trio.move_on_after(5):
                await team.lead.run("one")
            assert team.lead.state is AgentState.CANCELLED
            assert (await team.lead.run("two")).text == "lead"
            assert team.teammates["m0"].turns == 1


async def test_cancelling_lead_run_directly_stops_its_running_delegation(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """``team.lead.run()`` (the lead's own Agent, public) delegating to m0 (a 300 s turn),
    cancelled at t=5. ``Team.run`` cancels the delegations' tool scopes on Cancelled
    (``teams/_leader.py:121-126``), ``Agent.run`` does not, and the new CANCELLED check only
    refuses delegations that *start* later: the running one goes on, m0 stays RUNNING and
    works its whole turn for a lead turn that was given up."""
    lead_turn = FakeTurn(steps=[_delegate_call("m0"), Result(text="lead")])
    lead = _fake(lead_turn)
    mates = {"m0": _fake(FakeTurn(steps=[Text("m"), Sleep(300), Result(text="m")]))}
    with trio.fail_after(900):
        async with teams.open_team(lead, mates) as team:
            with trio.move_on_after(5):
                await team.lead.run("one")
            assert team.lead.state is AgentState.CANCELLED
            await trio.sleep(10)
            m0 = team.teammates["m0"]
            assert m0.state is not AgentState.RUNNING and not team._tool_calls, (
                f"the lead's turn was cancelled, yet its delegation runs on: m0 {m0.state}"
            )
