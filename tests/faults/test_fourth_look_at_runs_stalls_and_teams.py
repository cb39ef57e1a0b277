"""A fourth adversarial look at the run slot, the stall watchdog for every receiver (and the
quiet time an ``api_retry`` announces), the memory of ended tool spans, the bounded
``ResultError`` message, and the teams' early refusals. Each failing test says what went
wrong; the short passing ones are guards for probes that found nothing."""

from __future__ import annotations

import pickle
from typing import Any

import pytest
import trio
import trio.testing

import trio_claude as tc
from tests._helpers import options_for
from trio_claude._protocol._frames import decode_result
from trio_claude.testing.fake_cli import (
    Emit,
    Exit,
    FakeScript,
    FakeTurn,
    Hang,
    Result,
    Sleep,
    Step,
    Text,
)

from ._support import HostedTransport, ManualChild, assistant_frame


def _api_retry(delay_ms: Any) -> Emit:
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


#: A rate limit's retry-after of ten minutes (the CLI honours retry-after headers).
_LONG_RETRY_MS = 600_000


# ------------------------------------------------------ an announced retry's quiet time


async def test_an_earlier_turns_retry_delay_does_not_hold_off_the_next_turns_stall(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Turn 1 announces a retry in 10 minutes, then ends at once (the retry was not needed
    after all, or the turn ended with an error). ``_quiet_until`` (``_session.py``, set on
    ApiRetryMessage) is never cleared: turn 2 hangs from its first frame, and with
    ``stall_timeout=30`` the watchdog waits ``max(last_activity, quiet_until) + 30``, i.e. ten
    minutes, not 30 s. An old turn's retry leaks into every later turn."""
    script = FakeScript(
        turns=[
            FakeTurn(steps=[_api_retry(_LONG_RETRY_MS), Result(text="first")]),
            FakeTurn(steps=[Text("thinking..."), Hang()]),
        ]
    )
    opts, _ = options_for(script, stall_timeout=30)
    async with tc.open_session(opts) as session:
        assert (await session.run("one")).text == "first"
        await session.send("two")
        start = trio.current_time()
        with trio.move_on_after(120), pytest.raises(tc.StallTimeoutError):
            async for _ in session.receive_response():
                pass
        assert trio.current_time() - start < 120, (
            "the stall of turn 2 was held off by turn 1's announced retry delay"
        )


async def test_frames_after_a_retry_end_its_quiet_time(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A retry announced with a 10-minute delay, then the retry goes through at once (the
    model answers: frames arrive), then the model hangs. The silence the retry announced is
    over once the CLI speaks again, but ``_quiet_until`` still holds the watchdog off for the
    full ten minutes: a hang right after a retry is caught 20 times later than stall_timeout."""
    steps: list[Step] = [_api_retry(_LONG_RETRY_MS), Sleep(1), Text("answering"), Hang()]
    opts, _ = options_for(FakeScript(turns=[FakeTurn(steps=steps)]), stall_timeout=30)
    async with tc.open_session(opts) as session:
        await session.send("go")
        start = trio.current_time()
        with trio.move_on_after(120), pytest.raises(tc.StallTimeoutError):
            async for _ in session.receive_response():
                pass
        assert trio.current_time() - start < 120, "frames after a retry did not end its quiet"


async def test_query_frames_after_a_retry_end_its_quiet_time(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """The same in the iterator form of ``query()`` (``_query.py``: ``_PullQuery._quiet_until``
    is set on ApiRetryMessage and never cleared)."""

    async def play(child: ManualChild) -> None:
        await child.handshake()
        while (await child.read_frame())["type"] != "user":
            pass
        retry = _api_retry(_LONG_RETRY_MS).frame
        await child.write_frame(retry)
        await trio.sleep(1)
        await child.write_frame(assistant_frame("answering"))
        await trio.sleep_forever()

    async with trio.open_nursery() as nursery:
        opts = tc.ClaudeAgentOptions(transport=HostedTransport(nursery, play), stall_timeout=30)
        start = trio.current_time()
        with trio.move_on_after(120), pytest.raises(tc.StallTimeoutError):
            async for _ in tc.query(prompt="go", options=opts):
                pass
        elapsed = trio.current_time() - start
        nursery.cancel_scope.cancel()
    assert elapsed < 120, "frames after a retry did not end its quiet"


@pytest.mark.parametrize("junk", [-5, "soon", None, True, 0])
async def test_guard_a_junk_retry_delay_neither_breaks_nor_postpones_the_stall(
    autojump_clock: trio.testing.MockClock, junk: Any
) -> None:
    steps: list[Step] = [_api_retry(junk), Hang()]
    opts, _ = options_for(FakeScript(turns=[FakeTurn(steps=steps)]), stall_timeout=30)
    async with tc.open_session(opts) as session:
        await session.send("go")
        with trio.fail_after(60), pytest.raises(tc.StallTimeoutError):
            async for _ in session.receive_response():
                pass


# -------------------------------------------- the watchdog for a receive_messages() consumer


async def test_a_receive_messages_consumer_catches_a_turn_sent_by_another_task_that_hangs(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """The official client's shape: one task iterates ``receive_messages()`` for the session's
    life, another sends. The consumer started while no turn was open, so its wait has no
    deadline (``_watchdog_deadline`` is inf), and ``send()`` (``_session.py`` send: it sets
    ``_last_activity`` and opens the turn) never wakes it to work out a new one. A CLI that
    then says nothing at all is never caught: the consumer waits for ever, against "the stall
    timeout while a turn is open (for every way of receiving)"."""
    script = FakeScript(turns=[FakeTurn(steps=[Hang()], emit_init=False)])
    opts, _ = options_for(script, stall_timeout=30)
    caught: list[BaseException] = []
    async with tc.open_session(opts) as session:

        async def consume() -> None:
            try:
                async for _ in session.receive_messages():
                    pass
            except tc.StallTimeoutError as exc:
                caught.append(exc)

        with trio.move_on_after(300):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(consume)
                await trio.sleep(5)  # the consumer idles: no turn open
                await session.send("go")
        assert caught, "a turn sent while receive_messages() idled hung unnoticed"


async def test_guard_receive_messages_idling_between_turns_is_not_a_stall(
    autojump_clock: trio.testing.MockClock,
) -> None:
    script = FakeScript(turns=[FakeTurn.reply("a"), FakeTurn.reply("b")])
    opts, _ = options_for(script, stall_timeout=30)
    async with tc.open_session(opts) as session:
        results: list[str | None] = []

        async def consume() -> None:
            async for message in session.receive_messages():
                if isinstance(message, tc.ResultMessage):
                    results.append(message.result)
                    if len(results) == 2:
                        return

        async with trio.open_nursery() as nursery:
            nursery.start_soon(consume)
            await session.send("one")
            await trio.sleep(500)  # far past stall_timeout, with no turn open
            await session.send("two")
        assert results == ["a", "b"]


# --------------------------------------------------------------------------- the run slot


async def test_guard_a_run_cancelled_at_once_leaves_the_slot_free(
    autojump_clock: trio.testing.MockClock,
) -> None:
    script = FakeScript(turns=[FakeTurn(steps=[Sleep(10), Result(text="x")]), FakeTurn.reply("ok")])
    opts, _ = options_for(script)
    async with tc.open_session(opts) as session:
        with trio.CancelScope() as scope:
            scope.cancel()
            await session.run("first")
        assert session._runner is None
        assert (await session.run("again")).text in ("x", "ok")


async def test_guard_two_runs_at_once_send_one_prompt_and_the_slot_frees(
    autojump_clock: trio.testing.MockClock,
) -> None:
    script = FakeScript(
        turns=[FakeTurn(steps=[Sleep(5), Result(text="one")]), FakeTurn.reply("two")]
    )
    opts, transport = options_for(script)
    async with tc.open_session(opts) as session:
        outcomes: list[object] = []

        async def run(prompt: str) -> None:
            try:
                outcomes.append((await session.run(prompt)).text)
            except tc.ConcurrentReceiveError as exc:
                outcomes.append(exc)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(run, "a")
            nursery.start_soon(run, "b")
        assert sorted(map(str, outcomes))[1] == "one"
        assert any(isinstance(o, tc.ConcurrentReceiveError) for o in outcomes)
        # A receive_response() loop in another task, after the run finished, is fine.
        await session.send("next")

        async def receive() -> None:
            async for _ in session.receive_response():
                pass

        async with trio.open_nursery() as nursery:
            nursery.start_soon(receive)
        assert session._runner is None
    assert transport.fake is not None
    assert sum(1 for f in transport.fake.received if f["type"] == "user") == 2


async def test_guard_a_run_whose_cli_dies_frees_the_resumable_slot(
    autojump_clock: trio.testing.MockClock,
) -> None:
    script = FakeScript(turns=[FakeTurn(steps=[Text("x"), Exit(code=3)]), FakeTurn.reply("back")])
    opts, _ = options_for(script)
    async with tc.open_resumable_session(opts) as session:
        dead = session.session
        with pytest.raises(tc.ClaudeSDKError):
            await session.run("first")
        assert dead is not None and dead._runner is None


# ----------------------------------------------------------------------- ResultError bound


def test_guard_a_long_error_result_is_bounded_masked_and_pickles() -> None:
    key = "sk-ant-api03-" + "A" * 90
    text = "x" * 1990 + key + "y" * 5000
    raw = {
        "type": "result",
        "subtype": "error_during_execution",
        "is_error": True,
        "result": text,
        "session_id": "s",
        "duration_ms": 1,
        "duration_api_ms": 1,
        "num_turns": 1,
    }
    result = decode_result(raw)
    error = tc.ResultError(result)
    assert len(str(error)) < 2600
    assert "sk-ant-api03-AAAA" not in str(error)
    assert "AAAAAAAAAAAAAAAAAAAA" not in str(error)
    copy = pickle.loads(pickle.dumps(error))
    assert str(copy) == str(error) and copy.result == text


# ---------------------------------------------------------------------------------- teams


async def test_guard_a_cancelled_collecting_fanout_releases_gather_and_later_submits(
    autojump_clock: trio.testing.MockClock,
) -> None:
    from trio_claude.teams import AgentState, open_fanout

    script = FakeScript(turns=[FakeTurn(steps=[Sleep(100), Result(text="late")])])
    opts, _ = options_for(script)
    async with open_fanout(opts, limit=1, on_error="collect") as fan:
        agents = [fan.submit(f"p{i}") for i in range(3)]
        await trio.sleep(1)
        fan.cancel()
        with trio.CancelScope(shield=True):
            with trio.fail_after(60):
                outcomes = await fan.gather()
            late = fan.submit("after the cancel")
            with trio.fail_after(60):
                again = await fan.gather()
    assert outcomes == again == []
    assert all(agent.state is AgentState.CANCELLED for agent in [*agents, late])
