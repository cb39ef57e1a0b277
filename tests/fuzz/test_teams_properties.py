"""Team shapes under random failure injections, over the in-process fake CLI, in virtual time.

Hypothesis picks a shape (fan-out, pipeline, lead and teammates, supervisor, blackboard,
debate), how many agents, what each agent's CLI does on each turn (answer, answer slowly, end
with an error result, die by SIGKILL, exit with a code, hang until interrupted), the error
policy, and when (if ever) the whole block is cancelled from outside. Whatever happens:

- **no agent outlives the block**: once it is left, every agent is in a final state (done,
  failed, cancelled), no CLI is alive (every fake CLI has exited and was reaped), and no task
  spawned inside the block is still running;
- **failures are surfaced per policy, never dropped**: the block raises exactly one exception
  (never a group), which is an ``AgentError`` naming a failed agent under ``"cancel"`` (or the
  turn's own typed error for a debate or a supervisor's escalation); under ``"collect"`` every
  failed turn is in ``failures``; a cancellation from outside comes out as a cancellation;
- **totals are consistent**: the team's cost and tokens are the sums over its agents, each
  agent's cost is what its CLIs reported for the results it received, and the shared budget was
  charged at least that much.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Awaitable, Callable
from typing import Any, Literal

import attrs
import trio
import trio.testing
from hypothesis import given, settings
from hypothesis import strategies as st

import trio_claude as tc
from trio_claude import teams
from trio_claude.teams import AgentState
from trio_claude.testing.fake_cli import (
    Exit,
    FakeCLI,
    FakeCLITransport,
    FakeScript,
    FakeTurn,
    Kill,
    Request,
    Result,
    Sleep,
    Text,
    WaitForInterrupt,
)

from . import examples

if sys.version_info < (3, 11):  # pragma: no cover
    from exceptiongroup import BaseExceptionGroup

FINAL = {AgentState.DONE, AgentState.FAILED, AgentState.CANCELLED}
COST = 0.0001  # what each fake result costs (the fake reports it cumulatively per process)

# ------------------------------------------------------------------------ what a CLI does


@attrs.frozen
class Behaviour:
    kind: str  # ok | slow | error | crash | exit | hang
    seconds: float = 0.0

    def turn(self, text: str) -> FakeTurn:
        wait = [Sleep(self.seconds)] if self.seconds else []
        if self.kind in ("ok", "slow"):
            return FakeTurn(steps=[*wait, Text(text), Result(text=text, total_cost_usd=COST)])
        if self.kind == "error":
            return FakeTurn(
                steps=[*wait, Result(subtype="error_during_execution", is_error=True,
                                     total_cost_usd=COST, extra={"errors": ["injected"]})]
            )  # fmt: skip
        if self.kind == "crash":
            return FakeTurn(steps=[*wait, Text("partial"), Kill()])
        if self.kind == "exit":
            return FakeTurn(steps=[*wait, Exit(2, stderr="injected exit")])
        return FakeTurn(steps=[*wait, Text("thinking"), WaitForInterrupt()])

    @property
    def fails(self) -> bool:
        return self.kind in ("error", "crash", "exit")


behaviours = st.one_of(
    st.just(Behaviour("ok")),
    st.builds(Behaviour, st.just("slow"), st.sampled_from([0.5, 2.0, 7.0])),
    st.builds(Behaviour, st.sampled_from(["error", "crash", "exit"]), st.sampled_from([0, 1.0])),
    st.just(Behaviour("hang")),
)


class Transport(FakeCLITransport):
    """Keeps every fake CLI it starts (to check that each one exited)."""

    def __init__(self, script: FakeScript) -> None:
        super().__init__(script)
        self.children: list[Any] = []
        self.fakes: list[FakeCLI] = []

    async def start(self, spec: Any, nursery: trio.Nursery) -> Any:
        child = await super().start(spec, nursery)
        self.children.append(child)
        assert self.fake is not None
        self.fakes.append(self.fake)
        return child


@attrs.frozen
class Case:
    shape: str
    agents: tuple[tuple[Behaviour, ...], ...]  # per agent: what its CLI does, turn by turn
    on_error: Literal["cancel", "collect"]
    cancel_at: float | None
    budget_usd: float | None

    def options(self, index: int, transports: list[Transport]) -> tc.ClaudeAgentOptions:
        turns = [b.turn(f"agent {index} turn {t}") for t, b in enumerate(self.agents[index])]
        transport = Transport(FakeScript(turns=turns, default_reply=f"agent {index} default"))
        transports.append(transport)
        return tc.ClaudeAgentOptions(transport=transport)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    shape = draw(st.sampled_from(["fanout", "pipeline", "team", "supervisor", "blackboard",
                                  "debate"]))  # fmt: skip
    count = draw(st.integers(1, 4))
    turns = 3 if shape in ("pipeline", "debate") else 2
    agents = tuple(
        tuple(draw(st.lists(behaviours, min_size=turns, max_size=turns))) for _ in range(count)
    )
    return Case(
        shape=shape,
        agents=agents,
        on_error=draw(st.sampled_from(["cancel", "collect"])),
        cancel_at=draw(st.one_of(st.none(), st.sampled_from([0.0, 0.3, 1.5, 5.0]))),
        budget_usd=draw(st.one_of(st.none(), st.just(COST * 2.5))),
    )


# ------------------------------------------------------------------------------ the shapes

Team = Any
Publish = Callable[[Team], None]


async def run_fanout(case: Case, opts: list[tc.ClaudeAgentOptions], budget: Any,
                     publish: Publish) -> None:  # fmt: skip
    async with teams.open_fanout(
        limit=2,
        on_error=case.on_error,
        budget=budget,
    ) as fan:
        publish(fan)
        for i, o in enumerate(opts):
            fan.submit(f"task {i}", options=o)
        outcomes = [o async for o in fan.results()]
        assert len({o.agent for o in outcomes}) == len(outcomes)
        for outcome in outcomes:
            assert outcome.ok == (outcome.error is None)


async def run_pipeline(case: Case, opts: list[tc.ClaudeAgentOptions], budget: Any,
                       publish: Publish) -> None:  # fmt: skip
    stages = [teams.Stage(f"s{i}", o) for i, o in enumerate(opts)]
    async with teams.open_pipeline(
        stages,
        buffer=1,
        on_error=case.on_error,
        budget=budget,
    ) as pipe:
        publish(pipe)
        results = await pipe.process(["a", "b", "c"])
        assert all(len(r.turns) == len(stages) for r in results)


async def run_team(case: Case, opts: list[tc.ClaudeAgentOptions], budget: Any,
                   publish: Publish) -> None:  # fmt: skip
    mates = {f"m{i}": o for i, o in enumerate(opts)}
    calls = [
        Request("mcp_message", {"server_name": "team", "message": {
            "jsonrpc": "2.0", "id": i, "method": "tools/call",
            "params": {"name": "delegate", "arguments": {"teammate": name, "task": "t"}}}},
            wait=False)
        for i, name in enumerate(mates)
    ]  # fmt: skip
    lead = tc.ClaudeAgentOptions(
        transport=FakeCLITransport(
            FakeScript(turns=[FakeTurn(steps=[*calls, Sleep(20), Result(text="lead done")])])
        )
    )
    policy = "report" if case.on_error == "collect" else "cancel"
    async with teams.open_team(lead, mates, on_error=policy, budget=budget) as team:  # type: ignore[arg-type]
        publish(team)
        await team.run("go")


async def run_supervisor(case: Case, opts: list[tc.ClaudeAgentOptions], budget: Any,
                         publish: Publish) -> None:  # fmt: skip
    async with teams.open_supervisor(
        strategy="one_for_all" if case.on_error == "cancel" else "one_for_one",
        max_restarts=2,
        budget=budget,
    ) as sup:
        publish(sup)
        for i, o in enumerate(opts):
            sup.start_agent(f"w{i}", o, "work")


async def run_blackboard(case: Case, opts: list[tc.ClaudeAgentOptions], budget: Any,
                         publish: Publish) -> None:  # fmt: skip
    agents = {f"b{i}": o for i, o in enumerate(opts)}
    async with teams.open_blackboard(
        agents,
        on_error=case.on_error,
        budget=budget,
    ) as team:
        publish(team)
        for name in agents:
            team.start(name, "work")
        team.board.set("seed", 1)


async def run_debate(case: Case, opts: list[tc.ClaudeAgentOptions], budget: Any,
                     publish: Publish) -> None:  # fmt: skip
    agents = {f"d{i}": o for i, o in enumerate(opts)}
    async with teams.open_debate(agents, max_rounds=3, budget=budget) as debate:
        publish(debate)
        outcome = await debate.run("topic")
        assert outcome.reason == "max_rounds"


SHAPES: dict[str, Callable[..., Awaitable[None]]] = {
    "fanout": run_fanout,
    "pipeline": run_pipeline,
    "team": run_team,
    "supervisor": run_supervisor,
    "blackboard": run_blackboard,
    "debate": run_debate,
}


class Tasks(trio.abc.Instrument):
    """Every task spawned while the block runs, and whether it has exited."""

    def __init__(self) -> None:
        self.alive: set[trio.lowlevel.Task] = set()

    def task_spawned(self, task: trio.lowlevel.Task) -> None:
        self.alive.add(task)

    def task_exited(self, task: trio.lowlevel.Task) -> None:
        self.alive.discard(task)


# ------------------------------------------------------------------------------ the property


@settings(max_examples=examples(600))
@given(case=cases())
def test_team_invariants_under_failures_and_cancellation(case: Case) -> None:
    async def main() -> None:
        transports: list[Transport] = []
        opts = [case.options(i, transports) for i in range(len(case.agents))]
        budget = tc.Budget(max_usd=case.budget_usd) if case.budget_usd is not None else None
        seen: list[Team] = []
        tasks = Tasks()
        error: BaseException | None = None
        trio.lowlevel.add_instrument(tasks)
        try:
            with trio.move_on_after(case.cancel_at if case.cancel_at is not None else 10_000):
                try:
                    await SHAPES[case.shape](case, opts, budget, seen.append)
                except Exception as exc:
                    error = exc
        finally:
            trio.lowlevel.remove_instrument(tasks)
        end = trio.current_time()

        # Nothing outlives the block: tasks, CLIs, agents.
        assert not tasks.alive, tasks.alive
        for transport in transports:
            for child in transport.children:
                assert child.returncode is not None
        if not seen:
            # Cancelled or failed before the team was published (while starting its CLIs).
            assert error is None or not isinstance(error, BaseExceptionGroup)
            return
        team = seen[0]
        stats = team.statistics()
        assert stats.closed and stats.live_processes == 0
        for name, agent in stats.agents.items():
            assert agent.state in FINAL, (name, agent.state)
            assert agent.pid is None

        # One exception at most, never a group; failures per policy.
        assert not isinstance(error, BaseExceptionGroup)
        failed = {n for n, a in stats.agents.items() if a.failures}
        if isinstance(error, teams.AgentError):
            assert error.agent in failed
            assert isinstance(error.error, tc.ClaudeSDKError)
        elif isinstance(error, teams.EscalationError):
            assert case.shape == "supervisor" and error.agent in failed
        elif isinstance(error, tc.BudgetExceededError):
            assert budget is not None and budget.exceeded is not None
        elif error is not None:
            # Only a debate's (or a lead's) own turn raises its typed error to the caller.
            assert case.shape in ("debate", "team"), error
            assert isinstance(error, tc.ClaudeSDKError)
        if case.shape != "debate":
            # Every failed turn (or start) was recorded once; a lead's own failure is raised
            # to the caller of team.run() instead.
            lead = stats.agents.get("lead") if case.shape == "team" else None
            assert len(team.failures) == stats.failures - (lead.failures if lead else 0)
            for failure in team.failures:
                assert failure.agent in stats.agents
        if case.on_error == "collect" and case.shape in ("fanout", "pipeline", "blackboard"):
            assert not isinstance(error, teams.AgentError)
        if failed and case.on_error == "cancel" and case.shape in ("fanout", "blackboard"):
            # A failure under "cancel" is never swallowed: the block raised it (unless a
            # budget or our own cancellation got there first).
            assert error is not None or (case.cancel_at is not None and end >= case.cancel_at)

        # Totals are the sums; each agent's cost is what its results reported.
        assert math.isclose(stats.cost_usd, sum(a.cost_usd for a in stats.agents.values()),
                            abs_tol=1e-12)  # fmt: skip
        assert stats.tokens == sum(a.tokens for a in stats.agents.values())
        assert stats.turns == sum(a.turns for a in stats.agents.values())
        for agent in stats.agents.values():
            assert agent.cost_usd >= agent.turns * COST - 1e-12
        if budget is not None:
            assert budget.spent.usd >= stats.cost_usd - 1e-12

    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
