"""A seeded cancellation sweep over the session pool, the teams' lead/teammates and fan-out,
and ``Session.run()``'s run slot.

Method (as ``test_cancel_sweep_of_sitting_16.py``): a :class:`~._support.CancelAfterSteps`
instrument counts a scenario's task steps in a dry run, then the scenario runs again cancelled
after step ``k`` for every ``k`` (or the first ten and a sample drawn by ``random.Random(seed)``),
the scheduler seeded with ``k``. After each run: no error but a clean cancellation or one typed
SDK error; the object's bookkeeping consistent (the pool's counts, the team's agents and
failures, the session's run slot and maps), and the object still usable where the docs say so.
The autouse leak check of ``tests/faults/conftest.py`` adds: no task, process or descriptor left.

The ``test_guard_...`` tests pass: they keep the paths found sound under the sweep. The others
fail on the current code; their docstrings say what goes wrong.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import trio
import trio.testing

import trio_claude as tc
from trio_claude import teams
from trio_claude._transport._base import ChildProcess, LaunchSpec
from trio_claude.teams import AgentState
from trio_claude.testing.fake_cli import (
    Exit,
    FakeCLITransport,
    FakeScript,
    FakeTurn,
    Request,
    Result,
    Sleep,
    Text,
)

from ._support import CancelAfterSteps, RecordingFakeTransport
from ._sweep import Scenario, bad_error
from ._sweep import sweep as _sweep

SEED = 1789
FINAL = {AgentState.DONE, AgentState.FAILED, AgentState.CANCELLED}


async def swept(n: float, body: Callable[[], Awaitable[None]]) -> tuple[BaseException | None, int]:
    """Runs ``body()`` in a scope cancelled after step ``n``; returns what it raised and the
    steps counted."""
    instrument = CancelAfterSteps(n=n)
    error: BaseException | None = None
    trio.lowlevel.add_instrument(instrument)
    try:
        with trio.CancelScope() as scope:
            instrument.arm(scope)
            await body()
    except BaseException as exc:
        error = exc
    finally:
        trio.lowlevel.remove_instrument(instrument)
    return error, instrument.steps


async def sweep(scenario: Scenario, *, seed: int = SEED, minimum: int = 5) -> int:
    """The shared sweep (``_sweep.py``), with this file's seed."""
    return await _sweep(scenario, seed=seed, minimum=minimum)


def slow_reply(text: str) -> FakeTurn:
    return FakeTurn(steps=[Text(text), Sleep(0.5), Result(text=text)])


# ======================================================================= the session pool


def pool_problems(pool: tc.SessionPool, where: str, entered: int) -> list[str]:
    """The pool's bookkeeping, once it is full and nobody borrows."""
    stats = pool.statistics()
    problems = []
    if stats.in_use:
        problems.append(f"{where}: in_use {stats.in_use} with no borrower ({stats})")
    if stats.ready != len(pool._parked):
        problems.append(f"{where}: ready {stats.ready} but {len(pool._parked)} parked ({stats})")
    if pool._dead_parked:
        problems.append(f"{where}: _dead_parked holds {len(pool._dead_parked)} when idle")
    if set(pool._all) != set(pool._parked):
        problems.append(f"{where}: _all {len(pool._all)} != parked {len(pool._parked)}")
    dead = [s for s in pool._parked if s.closed or s.returncode is not None]
    if dead:
        problems.append(f"{where}: {len(dead)} dead session(s) parked as ready")
    if stats.handed_out != entered:
        problems.append(f"{where}: handed_out {stats.handed_out}, borrowers entered {entered}")
    queued = pool._ready_recv.statistics().current_buffer_used
    if queued != stats.ready:
        problems.append(f"{where}: {queued} sessions in the channel, ready {stats.ready}")
    return problems


async def full(pool: tc.SessionPool) -> None:
    """``wait_ready()``, through the failed starts it reports (the pool retries)."""
    for _ in range(30):
        try:
            await pool.wait_ready()
            return
        except tc.ProcessError:
            await trio.sleep(1)
    await pool.wait_ready()


class FailingFirstStarts(RecordingFakeTransport):
    """The first ``failures`` CLIs exit 1 before answering ``initialize``; the rest work."""

    def __init__(self, failures: int) -> None:
        super().__init__(FakeScript(turns=[slow_reply("x")]))
        self.failures = failures
        self.starts = 0
        self.good = self.script
        self.bad = FakeScript(on_initialize=[Exit(1, stderr="not logged in")])

    async def start(self, spec: LaunchSpec, nursery: trio.Nursery) -> ChildProcess:
        self.starts += 1
        self.script = self.bad if self.starts <= self.failures else self.good
        return await super().start(spec, nursery)


async def pool_sweep(
    *, kill_parked: bool = False, idle_ttl: float | None = None, failing_starts: int = 0
) -> list[str]:
    """The pool opened outside the swept scope; inside: (a parked CLI killed,) a borrow with a
    turn, ``wait_ready()``, (an idle period past ``idle_ttl`` and a borrow after it). After:
    the pool full again, its counts consistent, and a borrow that works."""
    problems: list[str] = []

    async def scenario(n: float) -> int:
        transport = FailingFirstStarts(failing_starts)
        options = tc.ClaudeAgentOptions(transport=transport)
        entered = 0
        with trio.fail_after(600):
            async with tc.open_session_pool(options, size=2, idle_ttl=idle_ttl) as pool:
                if not failing_starts:
                    await pool.wait_ready()

                async def borrow(prompt: str) -> None:
                    nonlocal entered
                    for _ in range(20):
                        try:
                            async with pool.session() as session:
                                entered += 1
                                if session.closed or session.returncode is not None:
                                    problems.append(f"step {n}: a dead session handed out")
                                await session.run(prompt)
                                return
                        except tc.ProcessError:
                            await trio.sleep(1)  # the pool reported a failed start: retry

                async def body() -> None:
                    if kill_parked:
                        next(iter(pool._parked))._proc.kill()  # type: ignore[union-attr]
                    await borrow("go")
                    await full(pool)
                    if idle_ttl is not None:
                        await trio.sleep(idle_ttl * 2)
                        await borrow("again")

                error, steps = await swept(n, body)
                problem = bad_error(error)
                if problem:
                    problems.append(f"step {n}: {problem}")
                await full(pool)
                await trio.testing.wait_all_tasks_blocked()
                problems.extend(pool_problems(pool, f"step {n}", entered))
                async with pool.session() as session:
                    entered += 1
                    alive = not session.closed and session.returncode is None
                    if not alive:
                        problems.append(f"step {n}: a dead session handed out after the sweep")
                    else:
                        turn = await session.run("after")
                        if not turn.text:
                            problems.append(f"step {n}: an empty turn after the sweep")
                    if session._runner is not None or session._receiver is not None:
                        problems.append(f"step {n}: the borrowed session's run slot is held")
        if any(c.returncode is None for c in transport.children):
            problems.append(f"step {n}: a CLI outlived its pool")
        return steps

    await sweep(scenario)
    return problems


async def test_guard_pool_borrow_cancelled_at_every_step_then_borrowed_again(
    autojump_clock: trio.testing.MockClock,
) -> None:
    problems = await pool_sweep()
    assert not problems, "\n".join(problems[:20])


async def test_guard_pool_parked_death_and_borrow_cancelled_at_every_step(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A parked CLI killed at the start of the swept scope: ``_watch_parked`` and
    ``_purge_dead_parked`` run while a borrower waits, each cancelled at every step."""
    problems = await pool_sweep(kill_parked=True)
    assert not problems, "\n".join(problems[:20])


async def test_guard_pool_idle_expiry_and_refill_cancelled_at_every_step(
    autojump_clock: trio.testing.MockClock,
) -> None:
    problems = await pool_sweep(idle_ttl=5.0)
    assert not problems, "\n".join(problems[:20])


async def test_guard_pool_failed_starts_and_backoff_cancelled_at_every_step(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """The first three starts fail: borrowers get the ProcessError (typed), the pool backs
    off and recovers; cancelled at every step."""
    problems = await pool_sweep(failing_starts=3)
    assert not problems, "\n".join(problems[:20])


async def test_guard_pool_open_and_aclose_cancelled_at_every_step(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """The whole pool's life in the swept scope: open, a parked death, a borrow, the close."""
    problems: list[str] = []

    async def scenario(n: float) -> int:
        transport = RecordingFakeTransport(FakeScript(turns=[slow_reply("x")]))
        options = tc.ClaudeAgentOptions(transport=transport)
        pools: list[tc.SessionPool] = []

        async def body() -> None:
            async with tc.open_session_pool(options, size=2, idle_ttl=3.0) as pool:
                pools.append(pool)
                await pool.wait_ready(1)
                if pool._parked:
                    next(iter(pool._parked))._proc.kill()  # type: ignore[union-attr]
                async with pool.session() as session:
                    await session.run("go")
                await trio.sleep(10)

        with trio.fail_after(600):
            error, steps = await swept(n, body)
        problem = bad_error(error)
        if problem:
            problems.append(f"step {n}: {problem}")
        if pools:
            pool = pools[0]
            if pool._all:
                problems.append(f"step {n}: the closed pool keeps {len(pool._all)} sessions")
            try:
                async with pool.session():
                    problems.append(f"step {n}: a closed pool handed out a session")
            except tc.SessionClosedError:
                pass
        if any(c.returncode is None for c in transport.children):
            problems.append(f"step {n}: a CLI outlived its pool")
        return steps

    await sweep(scenario)
    assert not problems, "\n".join(problems[:20])


# ========================================================================= the run slot


def slot_problems(session: tc.Session, where: str) -> list[str]:
    problems = []
    if session._runner is not None:
        problems.append(f"{where}: _runner still {session._runner.name}")
    if session._receiver is not None:
        problems.append(f"{where}: _receiver still {session._receiver.name}")
    if session._inflight:
        problems.append(f"{where}: _inflight holds {list(session._inflight)}")
    if session._proto.turn_results_waiting and not session._lifecycle.turns_open:
        problems.append(f"{where}: turn_results_waiting {session._proto.turn_results_waiting}")
    return problems


def prompts_sent(transport: FakeCLITransport) -> list[str]:
    fake = transport.fake
    assert fake is not None
    sent = []
    for frame in fake.received:
        if frame.get("type") == "user":
            content = frame["message"]["content"]
            sent.append(content if isinstance(content, str) else str(content))
    return sent


def inner(handle: Any) -> tc.Session | None:
    """The live :class:`~trio_claude.Session` behind a session or a resumable one."""
    session = handle.session if isinstance(handle, tc.ResumableSession) else handle
    assert session is None or isinstance(session, tc.Session)
    return session


async def run_slot_sweep(*, cancel_one: bool, resumable: bool) -> list[str]:
    """Two tasks call ``run()`` at once; the swept scope covers both (or only the first).
    After: at most one ran, a ConcurrentReceiveError sent nothing, the slot is free, and a run
    from a third task works."""
    problems: list[str] = []

    async def scenario(n: float) -> int:
        script = FakeScript(turns=[slow_reply(f"t{i}") for i in range(6)])
        transport = FakeCLITransport(script)
        options = tc.ClaudeAgentOptions(transport=transport)
        opener = tc.open_resumable_session if resumable else tc.open_session
        outcomes: dict[str, object] = {}
        steps = 0
        with trio.fail_after(600):
            async with opener(options) as handle:

                async def one(prompt: str) -> None:
                    try:
                        outcomes[prompt] = (await handle.run(prompt)).text
                    except BaseException as exc:
                        outcomes[prompt] = exc
                        if not isinstance(exc, (trio.Cancelled, tc.ClaudeSDKError)):
                            raise

                async def both() -> None:
                    async with trio.open_nursery() as nursery:
                        nursery.start_soon(one, "a")
                        nursery.start_soon(one, "b")

                if cancel_one:

                    async def first() -> None:
                        nonlocal steps
                        error, steps = await swept(n, lambda: one("a"))
                        problem = bad_error(error)
                        if problem:
                            problems.append(f"step {n}: {problem}")

                    async with trio.open_nursery() as nursery:
                        nursery.start_soon(first)
                        nursery.start_soon(one, "b")
                else:
                    error, steps = await swept(n, both)
                    problem = bad_error(error)
                    if problem:
                        problems.append(f"step {n}: {problem}")
                for prompt, outcome in outcomes.items():
                    problem = bad_error(outcome if isinstance(outcome, BaseException) else None)
                    if problem:
                        problems.append(f"step {n}: run({prompt!r}): {problem}")
                session = inner(handle)
                sent = prompts_sent(transport) if transport.fake is not None else []
                texts = [o for o in outcomes.values() if isinstance(o, str)]
                if len(texts) > 1:
                    problems.append(f"step {n}: both runs ran: {outcomes}")
                for prompt, outcome in outcomes.items():
                    if isinstance(outcome, tc.ConcurrentReceiveError) and prompt in sent:
                        problems.append(f"step {n}: refused run({prompt!r}) sent its prompt")
                if session is not None:
                    problems.extend(slot_problems(session, f"step {n}"))

                async def third() -> None:
                    try:
                        turn = await handle.run("c")
                    except tc.ClaudeSDKError as exc:
                        problems.append(f"step {n}: run() after the sweep: {exc!r}")
                        return
                    if not turn.text:
                        problems.append(f"step {n}: run() after the sweep: empty")

                async with trio.open_nursery() as nursery:
                    nursery.start_soon(third)
                session = inner(handle)
                if session is not None:
                    problems.extend(slot_problems(session, f"step {n}, after a run"))
        return steps

    await sweep(scenario)
    return problems


async def test_guard_two_runs_at_once_cancelled_at_every_step_leave_the_slot_free(
    autojump_clock: trio.testing.MockClock,
) -> None:
    problems = await run_slot_sweep(cancel_one=False, resumable=False)
    assert not problems, "\n".join(problems[:20])


async def test_guard_one_of_two_runs_cancelled_at_every_step_leaves_the_slot_free(
    autojump_clock: trio.testing.MockClock,
) -> None:
    problems = await run_slot_sweep(cancel_one=True, resumable=False)
    assert not problems, "\n".join(problems[:20])


async def test_guard_two_resumable_runs_at_once_cancelled_at_every_step(
    autojump_clock: trio.testing.MockClock,
) -> None:
    problems = await run_slot_sweep(cancel_one=False, resumable=True)
    assert not problems, "\n".join(problems[:20])


async def test_guard_one_of_two_resumable_runs_cancelled_at_every_step(
    autojump_clock: trio.testing.MockClock,
) -> None:
    problems = await run_slot_sweep(cancel_one=True, resumable=True)
    assert not problems, "\n".join(problems[:20])


# ================================================================================ teams


def team_problems(stats: teams.TeamStatistics, failures: list[Any], where: str) -> list[str]:
    problems = []
    if len(failures) != stats.failures:
        problems.append(f"{where}: failures {len(failures)} != statistics {stats.failures}")
    return problems


def final_problems(stats: teams.TeamStatistics, where: str) -> list[str]:
    problems = []
    if not stats.closed:
        problems.append(f"{where}: not closed")
    if stats.live_processes:
        problems.append(f"{where}: {stats.live_processes} live processes after close")
    left = {name: a.state for name, a in stats.agents.items() if a.state not in FINAL}
    if left:
        problems.append(f"{where}: agents not in a final state: {left}")
    return problems


def delegate_call(teammate: str, index: int) -> Request:
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


def fake(*turns: FakeTurn) -> tc.ClaudeAgentOptions:
    return tc.ClaudeAgentOptions(transport=RecordingFakeTransport(FakeScript(turns=list(turns))))


async def test_guard_delegations_cancelled_at_every_step_leave_teammates_usable(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Two delegations at once (one per teammate, and a second to one of them, queued on its
    lock) from outside the lead, cancelled at every step. After: no teammate left running,
    ``failures`` equals the agents' count, each teammate takes a delegation, and the team's
    close leaves every agent final."""
    problems: list[str] = []

    async def scenario(n: float) -> int:
        lead = fake(slow_reply("lead"))
        mates = {
            "m0": fake(*[slow_reply(f"m0-{i}") for i in range(6)]),
            "m1": fake(*[slow_reply(f"m1-{i}") for i in range(6)]),
        }
        holder: list[teams.Team] = []
        steps = 0
        with trio.fail_after(600):
            async with teams.open_team(lead, mates) as team:
                holder.append(team)

                async def body() -> None:
                    async with trio.open_nursery() as nursery:
                        nursery.start_soon(team.delegate, "m0", "x")
                        nursery.start_soon(team.delegate, "m1", "y")
                        nursery.start_soon(team.delegate, "m0", "z")

                error, steps = await swept(n, body)
                problem = bad_error(error)
                if problem:
                    problems.append(f"step {n}: {problem}")
                where = f"step {n}"
                stats = team.statistics()
                running = {
                    name: a.state
                    for name, a in stats.agents.items()
                    if a.state in (AgentState.RUNNING, AgentState.WAITING_ON_TOOL)
                }
                if running:
                    problems.append(f"{where}: teammates still running: {running}")
                problems.extend(team_problems(stats, team.failures, where))
                for name in ("m0", "m1"):
                    try:
                        turn = await team.delegate(name, "after")
                    except tc.ClaudeSDKError as exc:
                        problems.append(f"{where}: {name} unusable after the sweep: {exc!r}")
                        continue
                    if not turn.text:
                        problems.append(f"{where}: {name} answered nothing after the sweep")
                for name, agent in team.teammates.items():
                    session = agent.session
                    if isinstance(session, tc.Session):
                        problems.extend(slot_problems(session, f"{where}, {name}"))
        stats = holder[0].statistics()
        problems.extend(team_problems(stats, holder[0].failures, f"step {n}, closed"))
        problems.extend(final_problems(stats, f"step {n}"))
        return steps

    await sweep(scenario)
    assert not problems, "\n".join(problems[:20])


async def test_a_lead_run_cancelled_at_any_step_leaves_no_delegation_running(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """``team.run()`` (the lead delegating to both teammates through its tool) cancelled at
    every step, then run again. The docs: "Cancelling it interrupts the lead's turn and every
    delegation it started". But ``Team.run`` only cancels the tool scopes that exist when the
    Cancelled passes (``_tool_calls``): a ``delegate`` request the lead's CLI sent before the
    interrupt reached it, whose handler starts just after, finds nothing cancelled and runs
    its teammate's whole turn (here 30 s, in production minutes and dollars) for a lead turn
    that was given up; the teammate stays RUNNING and the next delegation to it queues behind.
    (From about step 8 of the dry run's 100 or so.)"""
    problems: list[str] = []

    async def scenario(n: float) -> int:
        lead_turn = FakeTurn(
            steps=[delegate_call("m0", 0), delegate_call("m1", 1), Sleep(1), Result(text="lead")]
        )
        lead = fake(lead_turn, *[slow_reply("lead again")] * 3)
        long_turn = FakeTurn(steps=[Text("m"), Sleep(30), Result(text="m")])
        mates = {
            "m0": fake(long_turn, *[slow_reply("m0")] * 4),
            "m1": fake(long_turn, *[slow_reply("m1")] * 4),
        }
        holder: list[teams.Team] = []
        steps = 0
        with trio.fail_after(600):
            async with teams.open_team(lead, mates) as team:
                holder.append(team)

                async def body() -> None:
                    await team.run("go")

                error, steps = await swept(n, body)
                problem = bad_error(error)
                if problem:
                    problems.append(f"step {n}: {problem}")
                where = f"step {n}"
                await trio.testing.wait_all_tasks_blocked()
                if error is not None or team.lead.state is AgentState.CANCELLED:
                    running = {
                        name: a.state.value
                        for name, a in team.teammates.items()
                        if a.state is AgentState.RUNNING
                    }
                    if team._tool_calls or running:
                        problems.append(
                            f"{where}: the lead's turn was cancelled, yet delegations run on: "
                            f"{len(team._tool_calls)} tool scopes, teammates {running}"
                        )
                problems.extend(team_problems(team.statistics(), team.failures, where))
                try:
                    await team.run("again")
                    await team.delegate("m0", "after")
                except tc.ClaudeSDKError as exc:
                    problems.append(f"{where}: the team is unusable after the sweep: {exc!r}")
        stats = holder[0].statistics()
        problems.extend(final_problems(stats, f"step {n}"))
        return steps

    await sweep(scenario)
    assert not problems, "\n".join(problems[:20])


async def fanout_sweep(consume: str) -> list[str]:
    """Four tasks, two at a time; the consumer (``results()``, ``gather()``) cancelled at every
    step (or ``cancel()`` called at that step). After: the fan-out's outcomes all delivered or
    the tasks cancelled, gather() returns, agents final, failures consistent."""
    problems: list[str] = []

    async def scenario(n: float) -> int:
        holder: list[teams.FanOut] = []
        seen: list[teams.Outcome] = []
        steps = 0
        with trio.fail_after(600):
            async with teams.open_fanout(fake(), limit=2, on_error="collect") as fan:
                holder.append(fan)
                for i in range(4):
                    fan.submit(f"p{i}", options=fake(slow_reply(f"r{i}")))

                async def by_results() -> None:
                    async for outcome in fan.results():
                        seen.append(outcome)

                async def by_gather() -> None:
                    seen.extend(await fan.gather())

                if consume == "cancel":
                    instrument = CancelAfterSteps(n=n)

                    class Cancels(trio.abc.Instrument):
                        def after_task_step(self, task: trio.lowlevel.Task) -> None:
                            if instrument.fired and not fan._core.closing:
                                fan.cancel()

                    cancels = Cancels()
                    trio.lowlevel.add_instrument(instrument)
                    trio.lowlevel.add_instrument(cancels)
                    try:
                        instrument.arm(trio.CancelScope())
                        await by_gather()
                    finally:
                        trio.lowlevel.remove_instrument(cancels)
                        trio.lowlevel.remove_instrument(instrument)
                    steps = instrument.steps
                else:
                    error, steps = await swept(n, by_results if consume == "results" else by_gather)
                    problem = bad_error(error)
                    if problem:
                        problems.append(f"step {n}: {problem}")
                    rest = await fan.gather()
                    if len(rest) != 4:
                        problems.append(f"step {n}: gather() after the sweep: {len(rest)} of 4")
                    if any(not o.ok for o in rest):
                        problems.append(f"step {n}: a task failed: {rest}")
                problems.extend(team_problems(fan.statistics(), fan.failures, f"step {n}"))
        fan = holder[0]
        stats = fan.statistics()
        problems.extend(team_problems(stats, fan.failures, f"step {n}, closed"))
        problems.extend(final_problems(stats, f"step {n}"))
        if fan._outstanding or fan._active or fan._pending:
            problems.append(
                f"step {n}: outstanding {fan._outstanding}, active {fan._active}, "
                f"pending {len(fan._pending)} after close"
            )
        if any(o is None for o in fan._outcomes) and consume != "cancel":
            problems.append(f"step {n}: tasks without an outcome after close")
        return steps

    await sweep(scenario)
    return problems


async def test_guard_fanout_results_consumer_cancelled_at_every_step(
    autojump_clock: trio.testing.MockClock,
) -> None:
    problems = await fanout_sweep("results")
    assert not problems, "\n".join(problems[:20])


async def test_guard_fanout_gather_cancelled_at_every_step(
    autojump_clock: trio.testing.MockClock,
) -> None:
    problems = await fanout_sweep("gather")
    assert not problems, "\n".join(problems[:20])


async def test_guard_fanout_cancel_called_at_every_step(
    autojump_clock: trio.testing.MockClock,
) -> None:
    problems = await fanout_sweep("cancel")
    assert not problems, "\n".join(problems[:20])
