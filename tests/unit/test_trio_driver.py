"""``TrioDriver``: one trio run across synchronous steps (``hypothesis.stateful`` rules)."""

from __future__ import annotations

import functools
import math
import threading

import pytest
import trio
import trio.testing
from hypothesis import given, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

import trio_claude as tc
from trio_claude.testing import (
    FakeCLITransport,
    FakeScript,
    FakeTurn,
    TrioDriver,
)
from trio_claude.testing.fake_cli import Result, Sleep, Text


async def add(a: int, b: int) -> int:
    await trio.lowlevel.checkpoint()
    return a + b


async def fail() -> None:
    await trio.lowlevel.checkpoint()
    raise KeyError("mine")


def test_run_returns_the_result_and_raises_the_exception_as_is() -> None:
    with TrioDriver() as driver:
        assert driver.run(add, 2, 3) == 5
        with pytest.raises(KeyError, match="mine"):
            driver.run(fail)
        assert driver.run(add, 1, 1) == 2  # still usable


def test_a_started_task_lives_across_steps_until_close() -> None:
    events: list[str] = []

    async def server(*, task_status: trio.TaskStatus[trio.MemorySendChannel[int]]) -> None:
        send, receive = trio.open_memory_channel[int](math.inf)
        task_status.started(send)
        try:
            async for item in receive:
                events.append(f"got {item}")
        finally:
            events.append("stopped")

    driver = TrioDriver()
    send = driver.start(server)
    driver.run(send.send, 1)
    driver.run(send.send, 2)
    driver.run(trio.testing.wait_all_tasks_blocked)
    assert events == ["got 1", "got 2"]
    driver.close()
    assert events[-1] == "stopped"
    driver.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        driver.run(add, 1, 2)


def test_virtual_time_jumps_within_a_step_and_stands_still_between_steps() -> None:
    with TrioDriver(virtual_time=True) as driver:
        assert isinstance(driver.clock, trio.testing.MockClock)
        driver.run(trio.sleep, 3600)  # instant
        assert driver.run_sync(trio.current_time) == 3600
        ticks: list[float] = []

        async def ticker(*, task_status: trio.TaskStatus[None]) -> None:
            task_status.started()
            while True:
                await trio.sleep(1)
                ticks.append(trio.current_time())

        driver.start(ticker)
        # The step ends quiescent: nothing ran on after it, and time stood still.
        assert ticks == [] and driver.run_sync(trio.current_time) == 3600
        driver.run(trio.sleep, 2.5)
        assert ticks == [3601, 3602]


def test_a_step_that_hangs_fails_with_too_slow_error() -> None:
    with TrioDriver(virtual_time=True, step_timeout=30) as driver:
        with pytest.raises(trio.TooSlowError) as info:
            driver.run(trio.sleep_forever)
        assert driver.run_sync(trio.current_time) == 30
        assert driver.run(add, 1, 2) == 3
    # It says which timeout, and why a step waiting for a real CLI meets it at once.
    message = str(info.value)
    assert "step_timeout (30 virtual seconds)" in message
    assert "real CLI under the real clock" in message
    # The real clock.
    with TrioDriver(step_timeout=0.05) as driver, pytest.raises(trio.TooSlowError) as info:
        driver.run(trio.sleep_forever)
    assert str(info.value) == "the step did not finish within the driver's step_timeout (0.05 s)"


def test_a_too_slow_error_of_the_step_itself_is_handed_on_as_is() -> None:
    async def own_deadline() -> None:
        with trio.fail_after(1):
            await trio.sleep_forever()

    with TrioDriver(virtual_time=True, step_timeout=30) as driver:
        with pytest.raises(trio.TooSlowError) as info:
            driver.run(own_deadline)
        assert str(info.value) == "" and driver.run_sync(trio.current_time) == 1


def test_a_crashed_task_fails_the_next_step_and_close_does_not_raise_it_twice() -> None:
    async def crash(*, task_status: trio.TaskStatus[None]) -> None:
        task_status.started()
        await trio.sleep(1)
        raise ValueError("the server crashed")

    driver = TrioDriver(virtual_time=True)
    driver.start(crash)
    with pytest.raises(RuntimeError, match="ended") as info:
        driver.run(trio.sleep, 5)
    assert "the server crashed" in repr(info.value.__cause__)
    driver.close()


def test_close_raises_a_crash_no_step_reported() -> None:
    async def crash(*, task_status: trio.TaskStatus[None]) -> None:
        task_status.started()
        raise ValueError("unseen")

    driver = TrioDriver()
    driver.start(crash)
    with pytest.raises(Exception) as info:  # trio's group of one
        driver.close()
    assert "ValueError('unseen')" in repr(info.value)


def test_it_refuses_to_run_inside_trio_or_from_another_thread() -> None:
    async def inside() -> None:
        TrioDriver()

    with pytest.raises(RuntimeError, match=r"outside trio\.run"):
        trio.run(inside)

    with TrioDriver() as driver:
        errors: list[BaseException] = []

        def elsewhere() -> None:
            try:
                driver.run(add, 1, 2)
            except BaseException as exc:
                errors.append(exc)

        thread = threading.Thread(target=elsewhere)
        thread.start()
        thread.join()
        assert len(errors) == 1 and "thread that created it" in str(errors[0])


@settings(max_examples=5, deadline=None)
@given(n=st.integers(0, 10))
def test_a_step_runs_in_the_tests_thread_and_context(n: int) -> None:
    # Hypothesis's note() and event() work inside a step: the coroutine runs in this thread.
    async def step() -> int:
        note(f"inside the step: {n}")
        return threading.get_ident()

    with TrioDriver() as driver:
        assert driver.run(step) == threading.get_ident()


class FakeSessionMachine(RuleBasedStateMachine):
    """A session on the in-process fake CLI, kept across rules."""

    def __init__(self) -> None:
        super().__init__()
        self.driver = TrioDriver(virtual_time=True, step_timeout=60)
        self.turns: list[FakeTurn] = []
        options = tc.ClaudeAgentOptions(transport=FakeCLITransport(FakeScript(turns=self.turns)))
        self.session = self.driver.run(tc.connect_session, self.driver.nursery, options)
        self.answered = 0

    @rule(text=st.text("abc", min_size=1, max_size=5), delay=st.sampled_from([0, 30]))
    def ask(self, text: str, delay: float) -> None:
        self.turns.append(FakeTurn(steps=(Sleep(delay), Text(text), Result(text=text))))
        assert self.driver.run(self.session.run, "q").text == text
        self.answered += 1

    @invariant()
    def nothing_pending(self) -> None:
        stats = self.driver.run_sync(self.session.statistics)
        assert stats.pending_requests == 0 and stats.results_received == self.answered

    def teardown(self) -> None:
        try:
            self.driver.run(self.session.aclose)
            assert len(self.driver.nursery.child_tasks) == 0
        finally:
            self.driver.close()


def test_a_state_machine_keeps_one_session_across_rules() -> None:
    run_state_machine_as_test(
        FakeSessionMachine,
        settings=settings(max_examples=10, stateful_step_count=6, deadline=None, database=None),
    )


def test_a_session_left_open_is_cancelled_by_close() -> None:
    driver = TrioDriver(virtual_time=True)
    transport = FakeCLITransport(FakeScript())
    options = tc.ClaudeAgentOptions(transport=transport)
    session = driver.run(tc.connect_session, driver.nursery, options)
    assert driver.run(session.run, "hi").result is not None
    driver.close()
    assert transport.fake is not None and len(driver.nursery.child_tasks) == 0


def test_functools_partial_passes_keywords() -> None:
    async def greet(name: str, *, greeting: str) -> str:
        await trio.lowlevel.checkpoint()
        return f"{greeting}, {name}"

    with TrioDriver() as driver:
        assert driver.run(functools.partial(greet, greeting="hi"), "you") == "hi, you"


def test_a_driver_left_open_is_closed_by_the_next_one_with_a_warning() -> None:
    """A state machine whose ``__init__`` raised after making its driver gets no teardown from
    Hypothesis: the paused run stayed attached to the thread, the next ``TrioDriver()`` said
    "create it outside trio.run" (hiding the real error) and every later trio.run failed."""
    from trio_claude.testing._driver import close_orphaned_driver

    orphan = TrioDriver(virtual_time=True)
    stopped: list[str] = []

    async def until_cancelled() -> None:
        try:
            await trio.sleep_forever()
        finally:
            stopped.append("stopped")

    orphan.nursery.start_soon(until_cancelled)
    orphan.run(trio.sleep, 0)
    with pytest.warns(ResourceWarning, match="never closed"):
        second = TrioDriver(virtual_time=True)
    assert stopped == ["stopped"]
    assert second.run(trio.sleep, 1) is None
    second.close()
    trio.run(trio.sleep, 0)  # the thread is free again

    third = TrioDriver()  # left open: the plugin's teardown hook closes it the same way
    with pytest.warns(ResourceWarning, match="never closed"):
        close_orphaned_driver()
    trio.run(trio.sleep, 0)
    third.close()  # (idempotent)
