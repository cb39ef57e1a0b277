"""Teams under fire, from outside: seeded cancellation at every checkpoint, dying and hostile
agents, misuse (another ``trio.run``, a closed team), secrets in team errors, 100 agents.

Every agent runs the in-process fake CLI (``FakeCLITransport``), mostly in virtual time. The
``test_guard_...`` tests pass: they keep paths found sound. The others fail on the current code;
their docstrings say what goes wrong.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
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
    Kill,
    Request,
    Result,
    Sleep,
    Stderr,
    Text,
    WaitForInterrupt,
)

from ._support import CancelAfterSteps
from .test_cancellation import seeded_scheduler

FINAL = {AgentState.DONE, AgentState.FAILED, AgentState.CANCELLED}
HANG = FakeTurn(steps=[Text("working"), WaitForInterrupt()])


class Children(FakeCLITransport):
    """The in-process fake CLI, remembering every child it started."""

    def __init__(self, script: FakeScript) -> None:
        super().__init__(script)
        self.children: list[ChildProcess] = []

    async def start(self, spec: LaunchSpec, nursery: trio.Nursery) -> ChildProcess:
        child = await super().start(spec, nursery)
        self.children.append(child)
        return child


def options(
    *turns: FakeTurn, made: list[Children] | None = None, **fields: Any
) -> tc.ClaudeAgentOptions:
    transport = Children(FakeScript(turns=list(turns)))
    if made is not None:
        made.append(transport)
    return tc.ClaudeAgentOptions(transport=transport, **fields)


def reply(text: str) -> FakeTurn:
    return FakeTurn(steps=[Text(text), Sleep(0.1), Result(text=text)])


def delegate_call(teammate: str, index: int = 0, *, wait: bool = False) -> Request:
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
        wait=wait,
    )


async def from_another_run(call: Callable[[], Awaitable[Any]]) -> BaseException | None:
    """Runs ``call()`` in a new ``trio.run`` on a worker thread; returns what it raised."""

    def other() -> BaseException | None:
        async def go() -> BaseException | None:
            try:
                await call()
            except BaseException as exc:
                return exc
            return None

        return trio.run(go)

    return await trio.to_thread.run_sync(other)


class Tasks(trio.abc.Instrument):
    """Every task spawned while instrumented that has not exited."""

    def __init__(self) -> None:
        self.alive: set[trio.lowlevel.Task] = set()

    def task_spawned(self, task: trio.lowlevel.Task) -> None:
        self.alive.add(task)

    def task_exited(self, task: trio.lowlevel.Task) -> None:
        self.alive.discard(task)


# ============================================================ misuse from another trio.run


async def test_a_turn_refused_from_another_run_leaves_the_agent_untouched() -> None:
    """``Agent.run`` is public ("how turns are run on it, by the shape or by you") but does not
    check the caller's ``trio.run`` (``trio_claude/teams/_agent.py:240-256``): a call from
    another run takes the agent's lock, sets it ``RUNNING`` (``core.notify()`` sets the team's
    ``trio.Event`` from a foreign thread), and only the session's ``send`` refuses it with
    ``WrongEventLoopError``, which the ``except Exception`` then books as a failure of the
    agent: it ends ``FAILED`` with ``failures == 1`` although its CLI never saw the call.
    ``BlackboardTeam.run`` (``_blackboard.py:187``) forwards to it without a check too."""
    with trio.fail_after(20):
        async with teams.open_blackboard({"a": options(FakeTurn.reply("x"))}) as team:
            agent = team.agents["a"]
            refused = await from_another_run(lambda: agent.run("hi"))
            assert isinstance(refused, tc.WrongEventLoopError)
            refused = await from_another_run(lambda: team.run("a", "hi"))
            assert isinstance(refused, tc.WrongEventLoopError)
            stats = agent.statistics()
            assert (stats.state, stats.failures, stats.last_error) == (AgentState.IDLE, 0, None)
            assert (await team.run("a", "from its own run")).text == "x"


async def test_a_delegation_refused_from_another_run_does_not_cancel_the_team() -> None:
    """``Team.delegate`` (``trio_claude/teams/_leader.py:129-151``) does not check the caller's
    run either: the teammate's session refuses the call (``WrongEventLoopError``), and the
    ``except Exception`` hands that to ``core.handle``; under ``on_error="cancel"`` that is
    ``core.fail()``, which cancels the team's nursery *from the foreign thread*. A misplaced
    call in another thread kills a healthy team: the block raises ``AgentError('m0',
    WrongEventLoopError)`` and ``m0`` is booked as failed."""
    mate = options(FakeTurn.reply("x"))
    error: BaseException | None = None
    with trio.fail_after(20):
        try:
            async with teams.open_team(options(), {"m0": mate}, on_error="cancel") as team:
                refused = await from_another_run(lambda: team.delegate("m0", "hi"))
                assert isinstance(refused, tc.WrongEventLoopError)
                assert (await team.delegate("m0", "from its own run")).text == "x"
        except Exception as exc:
            error = exc
    assert error is None, f"the team was killed by a refused call: {error!r}"
    assert team.failures == []


# ================================================================== misuse of a closed team


async def test_delegating_on_a_closed_team_is_refused_and_records_nothing(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Every other shape refuses work once closed with ``TeamError`` (``check_open``);
    ``Team.delegate`` (``trio_claude/teams/_leader.py:129-151``) does not: the teammate has no
    session any more, ``Agent.run`` raises ``SessionClosedError``, and the ``except`` records
    it through ``core.handle``: the closed team's ``failures`` grows (and no longer matches
    ``statistics().failures``), and under ``on_error="cancel"`` ``core.fatal`` is set after
    the fact."""
    with trio.fail_after(30):
        async with teams.open_team(options(), {"m0": options(FakeTurn.reply("x"))}) as team:
            pass
    with pytest.raises(teams.TeamError, match="closed"):
        await team.delegate("m0", "late")
    assert team.failures == []
    assert team.statistics().failures == 0


# ==================================================================== fan-out bookkeeping


async def test_fanout_gather_after_close_returns_instead_of_hanging(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A fan-out cancelled (here by ``on_error="cancel"``) while tasks are still pending never
    starts them: ``FanOut._fill`` returns early once the nursery is cancelled
    (``trio_claude/teams/_fanout.py:197``) and leaves them in ``_pending``, counted in
    ``_outstanding`` for ever. ``gather()`` (``_fanout.py:180``) and ``results()``
    (``OutcomeStream.__anext__``) wait for ``_outstanding`` to reach 0 on
    ``core.wait_changed()``, which nothing will notify again: after the block they hang."""
    with pytest.raises(teams.AgentError):
        async with teams.open_fanout(options(), limit=1) as fan:
            fan.submit("a", options=options(FakeTurn(steps=[Text("p"), Kill()])))
            fan.submit("b", options=options(FakeTurn.reply("b")))
            fan.submit("c", options=options(FakeTurn.reply("c")))
    assert fan.agents["task-1"].state is AgentState.CANCELLED
    with trio.move_on_after(60) as gather_scope:
        outcomes = await fan.gather()
        assert "task-0" in [o.agent for o in outcomes]
    assert not gather_scope.cancelled_caught, "gather() hung on tasks that never started"
    with trio.move_on_after(60) as results_scope:
        async for _ in fan.results():
            pass
    assert not results_scope.cancelled_caught, "results() hung on tasks that never started"


async def test_a_consumer_outside_the_fanout_is_released_when_it_is_cancelled(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """The usual shape of a consumer: a task of an enclosing nursery reads ``fan.results()``
    while the body submits. When the fan-out is cancelled (``fan.cancel()``) with tasks still
    waiting for a slot, the consumer is never released: ``_outstanding`` stays above 0
    (``trio_claude/teams/_fanout.py:197``) and no notify follows ``finalize()``."""
    seen: list[str] = []
    done = trio.Event()

    async def consume(fan: teams.FanOut) -> None:
        async for outcome in fan.results():
            seen.append(outcome.agent)
        done.set()

    async with trio.open_nursery() as outer:
        async with teams.open_fanout(options(), limit=1) as fan:
            outer.start_soon(consume, fan)
            fan.submit("slow", options=options(HANG))
            for i in range(3):
                fan.submit(f"p{i}", options=options(FakeTurn.reply("x")))
            await fan.agents["task-0"].wait_state(AgentState.RUNNING)
            fan.cancel()
        with trio.move_on_after(60) as scope:
            await done.wait()
        outer.cancel_scope.cancel()
    assert not scope.cancelled_caught, "the results() consumer hangs after the fan-out closed"


# ===================================================== guards: seeded cancellation sweep


def _shape(kind: str, made: list[Children]) -> Callable[[Callable[[Any], None]], Awaitable[None]]:
    def o(*turns: FakeTurn) -> tc.ClaudeAgentOptions:
        return options(*turns, made=made)

    async def fanout(publish: Callable[[Any], None]) -> None:
        async with teams.open_fanout(o(), limit=2) as fan:
            publish(fan)
            for i in range(3):
                fan.submit(f"p{i}", options=o(reply("x")))
            await fan.gather()

    async def pipeline(publish: Callable[[Any], None]) -> None:
        stages = [teams.Stage("a", o(reply("a"), reply("a"))), teams.Stage("b", o(reply("b")))]
        async with teams.open_pipeline(stages, buffer=1) as pipe:
            publish(pipe)
            await pipe.process(["i1", "i2"])

    async def team(publish: Callable[[Any], None]) -> None:
        lead = o(FakeTurn(steps=[delegate_call("m0", 0), delegate_call("m1", 1), Sleep(1),
                                 Result(text="lead done")]))  # fmt: skip
        async with teams.open_team(lead, {"m0": o(reply("m")), "m1": o(reply("m"))}) as t:
            publish(t)
            await t.run("go")

    async def supervisor(publish: Callable[[Any], None]) -> None:
        async with teams.open_supervisor(strategy="one_for_all") as sup:
            publish(sup)
            sup.start_agent("w0", o(reply("w"), reply("w")), "go")
            sup.start_agent("w1", o(reply("w")), "go")

    async def blackboard(publish: Callable[[Any], None]) -> None:
        async with teams.open_blackboard({"b0": o(reply("b")), "b1": o(reply("b"))}) as bb:
            publish(bb)
            bb.start("b0", "go")
            bb.start("b1", "go")
            bb.board.set("k", 1)

    async def debate(publish: Callable[[Any], None]) -> None:
        agents = {"d0": o(reply("d"), reply("d")), "d1": o(reply("d"), reply("d"))}
        async with teams.open_debate(agents, max_rounds=2) as d:
            publish(d)
            await d.run("topic")

    shapes = {
        "fanout": fanout,
        "pipeline": pipeline,
        "team": team,
        "supervisor": supervisor,
        "blackboard": blackboard,
        "debate": debate,
    }
    return shapes[kind]


async def _cancelled_after(kind: str, n: float) -> int:
    """Runs ``kind`` with its enclosing scope cancelled after step ``n``; checks what is left."""
    made: list[Children] = []
    seen: list[Any] = []
    instrument = CancelAfterSteps(n=n)
    tasks = Tasks()
    error: BaseException | None = None
    trio.lowlevel.add_instrument(tasks)
    trio.lowlevel.add_instrument(instrument)
    try:
        with trio.fail_after(300), trio.CancelScope() as scope:
            instrument.arm(scope)
            try:
                await _shape(kind, made)(seen.append)
            except Exception as exc:
                error = exc
    finally:
        trio.lowlevel.remove_instrument(instrument)
        trio.lowlevel.remove_instrument(tasks)
    where = f"{kind}, cancelled after step {n}"
    assert error is None, f"{where}: {error!r}"
    assert not tasks.alive, f"{where}: tasks left {tasks.alive}"
    assert all(c.returncode is not None for t in made for c in t.children), where
    if seen:
        stats = seen[0].statistics()
        assert stats.closed and stats.live_processes == 0, where
        assert all(a.state in FINAL for a in stats.agents.values()), (where, stats.agents)
    return instrument.steps


@pytest.mark.parametrize(
    "kind", ["fanout", "pipeline", "team", "supervisor", "blackboard", "debate"]
)
async def test_guard_a_cancellation_at_any_checkpoint_leaves_nothing_behind(
    autojump_clock: trio.testing.MockClock, kind: str
) -> None:
    total = await _cancelled_after(kind, math.inf)
    assert total > 50, total
    for n in range(1, total + 2, 3):
        with seeded_scheduler(n):
            await _cancelled_after(kind, n)


# ====================================================================== guards: hostility


async def test_guard_a_keyboard_interrupt_from_a_work_function_comes_out_as_is(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def work(agent: teams.Agent) -> None:
        await agent.run("x")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        async with teams.open_supervisor() as sup:
            sup.start_agent("a", options(FakeTurn.reply("x")), work)
            sup.start_agent("b", options(HANG), "go")
    stats = sup.statistics()
    assert stats.live_processes == 0
    assert stats.agents["b"].state is AgentState.CANCELLED


async def test_guard_a_cli_dying_at_every_start_escalates_within_the_restart_budget(
    autojump_clock: trio.testing.MockClock,
) -> None:
    made: list[Children] = []
    dying = options(FakeTurn(steps=[Kill()]), made=made)
    with pytest.raises(teams.EscalationError) as caught:
        async with teams.open_supervisor(max_restarts=3) as sup:
            sup.start_agent("w", dying, "go")
            sup.start_agent("ok", options(HANG), "go")
    assert caught.value.agent == "w" and isinstance(caught.value.error, tc.ProcessError)
    assert len(sup.failures) == 4 and all(f.agent == "w" for f in sup.failures)
    assert sup.statistics().live_processes == 0
    assert all(c.returncode is not None for c in made[0].children)
    assert sup.agents["ok"].state is AgentState.CANCELLED


async def test_guard_a_lead_dying_mid_delegation_interrupts_it_and_the_teammate_lives_on(
    autojump_clock: trio.testing.MockClock,
) -> None:
    lead = options(FakeTurn(steps=[delegate_call("m0"), Sleep(1), Kill()]))
    async with teams.open_team(lead, {"m0": options(HANG, FakeTurn.reply("again"))}) as team:
        with pytest.raises(tc.ProcessError):
            await team.run("go")
        assert team.teammates["m0"].state is AgentState.CANCELLED
        with trio.fail_after(30):
            assert (await team.delegate("m0", "again")).text == "again"


SECRET = "hunter2-very-secret-value-42"


async def test_guard_an_agent_s_secrets_are_masked_in_team_errors(
    autojump_clock: trio.testing.MockClock,
) -> None:
    env = {"MY_SERVICE_TOKEN": SECRET}
    leaky = FakeTurn(steps=[Stderr(f"token={SECRET}"), Exit(2, stderr=f"boom {SECRET}")])
    with pytest.raises(teams.AgentError) as agent_error:
        async with teams.open_fanout(options()) as fan:
            fan.submit("x", options=options(leaky, env=env))
    with pytest.raises(teams.EscalationError) as escalation:
        async with teams.open_supervisor(max_restarts=0) as sup:
            sup.start_agent("w", options(leaky, env=env), "x")
    made: list[Children] = []
    lead = options(FakeTurn(steps=[delegate_call("m0", wait=True), Result(text="done")]), made=made)
    async with teams.open_team(lead, {"m0": options(leaky, env=env)}) as team:
        await team.run("go")
    fake = made[0].fake
    assert fake is not None
    for text in (str(agent_error.value), str(escalation.value), str(fake.responses)):
        assert SECRET not in text
    assert "failed" in str(fake.responses)


async def test_guard_a_hundred_agents_start_and_work_at_once(
    autojump_clock: trio.testing.MockClock,
) -> None:
    mates = {f"m{i}": options(FakeTurn.reply(f"r{i}")) for i in range(100)}
    async with teams.open_team(options(), mates) as team:
        answers: dict[str, str] = {}

        async def ask(name: str) -> None:
            answers[name] = (await team.delegate(name, "t")).text

        async with trio.open_nursery() as nursery:
            for name in mates:
                nursery.start_soon(ask, name)
    assert answers == {f"m{i}": f"r{i}" for i in range(100)}
    stats = team.statistics()
    assert stats.live_processes == 0 and stats.turns == 100
    async with teams.open_fanout(options(), limit=100) as fan:
        for i in range(100):
            fan.submit(f"p{i}", options=options(FakeTurn.reply(f"f{i}")))
        outcomes = await fan.gather()
    assert [o.text for o in outcomes] == [f"f{i}" for i in range(100)]


async def test_guard_submitting_to_a_closed_fanout_is_refused(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with teams.open_fanout(options()) as fan:
        fan.submit("x", options=options(FakeTurn.reply("x")))
    with pytest.raises(teams.TeamError, match="closed"):
        fan.submit("late")
    fan.cancel()  # harmless once closed
    assert fan.statistics().closed


async def test_a_fanout_outcome_is_not_taken_from_another_run() -> None:
    """``results()`` checked the caller's run only where it waits: an outcome already there
    was handed to an iterator driven from another ``trio.run`` (lost to the owning run)."""
    with trio.fail_after(20):
        async with teams.open_fanout(options(FakeTurn.reply("x")), on_error="collect") as fan:
            fan.submit("hi")
            outcomes = await fan.gather()
            assert len(outcomes) == 1
            stream = fan.results()
            refused = await from_another_run(lambda: stream.__anext__())
            assert isinstance(refused, tc.WrongEventLoopError)
            assert (await stream.__anext__()).turn is not None  # still there for its own run
