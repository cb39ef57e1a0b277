"""Teams with the real CLI: every agent a real ``claude`` process, scripted by the fake model.

Each agent gets its own conversation on the fake model (``claude_env.options(script,
name=...)``) or is picked out by its system prompt (``Match(system_contains=...)``). After every
test, ``claude_env.leaked_processes()`` must be empty: a team leaves no CLI behind, whether it
ended normally, failed, or was cancelled mid-turn.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import trio

import trio_claude as tc
from trio_claude import teams
from trio_claude.teams import AgentState
from trio_claude.testing import ClaudeTestEnv, HTTPError, Match, RecordedRequest, ToolUse, Turn

FINAL = {AgentState.DONE, AgentState.FAILED, AgentState.CANCELLED}
#: A turn that streams for several seconds (about 60 deltas, 0.05 s apart).
SLOW = "slowly " * 140


def exists(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def sent(request: RecordedRequest) -> str:
    return json.dumps(request.messages)


def assert_closed(stats: teams.TeamStatistics, env: ClaudeTestEnv) -> None:
    assert stats.closed and stats.live_processes == 0
    assert all(a.state in FINAL for a in stats.agents.values()), stats.states
    assert env.leaked_processes() == []


class Peak:
    """The most agents seen running at once (sampled)."""

    def __init__(self, statistics: Callable[[], teams.TeamStatistics], *names: str) -> None:
        self._statistics = statistics
        self._names = set(names)
        self.value = 0

    async def watch(self) -> None:
        while True:
            agents = self._statistics().agents
            running = sum(1 for n in self._names if agents[n].state is AgentState.RUNNING)
            self.value = max(self.value, running)
            await trio.sleep(0.005)


# ------------------------------------------------------------------- lead and teammates


async def test_a_lead_delegates_to_three_teammates_in_parallel(claude_env: ClaudeTestEnv) -> None:
    names = ["alice", "bob", "carol"]
    lead = claude_env.options(
        [
            Turn(
                [
                    ToolUse("mcp__team__delegate", {"teammate": n, "task": f"{n}'s task"})
                    for n in names
                ]
            ),
            Turn("summary of three", match=Match(has_tool_result=True)),
        ],
        name="lead",
        system_prompt="You lead.",
    )
    # One conversation for the three teammates: each answers by its system prompt.
    mate_script = [
        Turn(f"{n} reports " + "x" * 200, delay=0.02, match=Match(system_contains=f"You are {n}"))
        for n in names
    ]
    mates = {
        n: claude_env.options(
            mate_script if n == "alice" else None, name="mates", system_prompt=f"You are {n}."
        )
        for n in names
    }
    async with teams.open_team(lead, mates) as team:
        peak = Peak(team.statistics, *names)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(peak.watch)
            turn = await team.run("research this")
            nursery.cancel_scope.cancel()
        assert team.lead.state is AgentState.IDLE
    assert turn.text == "summary of three"
    assert peak.value == 3  # the three delegations ran at the same time
    _, second = claude_env.model.turn_requests("lead")
    results = {r["content"][0]["text"].split(" ")[0] for r in second.tool_results}
    assert results == set(names)  # every teammate's answer went back to the lead
    for request in claude_env.model.turn_requests("mates"):
        name = next(n for n in names if f"You are {n}." in request.system_text)
        assert request.last_user_text == f"{name}'s task"
    assert_closed(team.statistics(), claude_env)


# ------------------------------------------------------------------------------ supervisor


async def test_a_supervisor_restarts_a_sigkilled_agent_and_resumes_its_conversation(
    claude_env: ClaudeTestEnv,
) -> None:
    worker = claude_env.options(
        [
            Turn("noted: the code is 1234"),
            Turn(SLOW, delay=0.05),  # killed while this streams
            Turn("resumed: the code was 1234"),
        ],
        name="worker",
    )
    killed: list[int] = []

    async def work(agent: teams.Agent) -> str:
        if agent.restarts == 0:
            await agent.run("remember the code 1234")
            await agent.run("now write a long essay")
        return (await agent.run("you were restarted: what was the code?")).text

    async def killer(agent: teams.Agent) -> None:
        with trio.fail_after(20):
            await claude_env.model.wait_for_request(
                lambda r: r.session == "worker" and r.last_user_text == "now write a long essay"
            )
        assert agent.state is AgentState.RUNNING and agent.pid is not None
        killed.append(agent.pid)
        os.kill(agent.pid, signal.SIGKILL)  # mid-turn, as the OOM killer would

    async with teams.open_supervisor(max_restarts=2) as sup:
        agent = sup.start_agent("worker", worker, work)
        sup.start_agent("bystander", claude_env.options([Turn("fine")], name="b"), "hello")
        sup._core.nursery.start_soon(killer, agent)
    assert sup.results["worker"] == "resumed: the code was 1234"
    stats = sup.statistics()
    assert stats.agents["worker"].restarts == 1 and stats.agents["bystander"].restarts == 0
    assert isinstance(sup.failures[0].error, tc.ProcessError)
    assert sup.failures[0].error.signal == "SIGKILL"
    requests = claude_env.model.turn_requests("worker")
    resumed = requests[-1]
    assert resumed.last_user_text == "you were restarted: what was the code?"
    # The new CLI read the conversation back: the earlier turns are in its model request.
    assert "remember the code 1234" in sent(resumed)
    assert "noted: the code is 1234" in sent(resumed)
    assert not exists(killed[0])  # reaped
    assert_closed(stats, claude_env)


# ------------------------------------------------------------------------------- pipeline


async def test_a_pipeline_whose_middle_stage_fails(claude_env: ClaudeTestEnv) -> None:
    no_retry = {"CLAUDE_CODE_MAX_RETRIES": "0"}
    first = claude_env.options([Turn("first: {last_user_text}", repeat=True)], name="first")
    middle = claude_env.options(
        [
            Turn("middle ok", match=Match(last_user_text_contains="item 0")),
            HTTPError(500, headers={"x-should-retry": "false"}, repeat=True),  # type: ignore[arg-type]  # converter=dict hides the type
        ],
        name="middle",
        env=no_retry,
    )
    last = claude_env.options([Turn("last ok", repeat=True)], name="last")
    stages = [
        teams.Stage("first", first),
        teams.Stage("middle", middle),
        teams.Stage("last", last),
    ]
    got: list[str] = []
    # A hang guard, not a speed claim: the failure ends the pipeline at once (about 1 s).
    with trio.fail_after(60), pytest.raises(teams.AgentError) as caught:
        async with teams.open_pipeline(stages) as pipe, trio.open_nursery() as nursery:

            async def feed() -> None:
                async with pipe.input:
                    for i in range(3):
                        await pipe.input.send(f"item {i}")

            nursery.start_soon(feed)
            async for result in pipe.output:
                got.append(result.input)
    assert caught.value.agent == "middle"
    assert isinstance(caught.value.error, tc.ResultError)
    assert caught.value.error.api_error_status == 500
    assert got in ([], ["item 0"])
    stats = pipe.statistics()
    assert stats.agents["middle"].state is AgentState.FAILED
    assert_closed(stats, claude_env)


# ------------------------------------------------------------------------------ blackboard


async def test_agents_share_a_blackboard_through_tools(claude_env: ClaudeTestEnv) -> None:
    reader = claude_env.options(
        [
            Turn([ToolUse("mcp__board__wait", {"since_version": 0, "timeout_seconds": 30})]),
            Turn("I saw: {last_tool_result}", match=Match(has_tool_result=True)),
        ],
        name="reader",
    )
    writer = claude_env.options(
        [
            Turn([ToolUse("mcp__board__write", {"key": "answer", "value": {"n": 42}})]),
            Turn("written", match=Match(has_tool_result=True)),
        ],
        name="writer",
    )
    async with teams.open_blackboard({"reader": reader, "writer": writer}) as team:
        team.start("reader", "wait for the answer")
        await team.agents["reader"].wait_state(AgentState.WAITING_ON_TOOL)
        assert team.board.version == 0
        turn = await team.run("writer", "write the answer")
        assert turn.text == "written"
        state = await team.board.wait_until(lambda s: "answer" in s)
    assert state == {"answer": {"n": 42}}
    assert team.board.history[0].author == "writer"
    seen = claude_env.model.turn_requests("reader")[-1].last_tool_result
    assert seen is not None
    assert json.loads(seen)["board"] == {"answer": {"n": 42}}
    assert_closed(team.statistics(), claude_env)


# ------------------------------------------------------------------------ cancellation

Publish = Callable[[Any], None]


#: The conversations whose answers stream slowly (the ones worth cancelling mid-turn).
SLOW_NAMES: set[str] = set()


def slow_options(env: ClaudeTestEnv, name: str, **fields: Any) -> tc.ClaudeAgentOptions:
    SLOW_NAMES.add(name)
    return env.options([Turn(SLOW, delay=0.05, repeat=True)], name=name, **fields)


async def run_fanout(env: ClaudeTestEnv, publish: Publish) -> None:
    async with teams.open_fanout(limit=2) as fan:
        for i in range(3):
            fan.submit("go", options=slow_options(env, f"f{i}"))
        publish(fan)


async def run_pipeline(env: ClaudeTestEnv, publish: Publish) -> None:
    stages = [teams.Stage(f"s{i}", slow_options(env, f"s{i}")) for i in range(2)]
    async with teams.open_pipeline(stages) as pipe:
        publish(pipe)
        await pipe.process(["one", "two"])


async def run_team(env: ClaudeTestEnv, publish: Publish) -> None:
    lead = env.options(
        [Turn([ToolUse("mcp__team__delegate", {"teammate": n, "task": "t"}) for n in "ab"])],
        name="lead",
    )
    async with teams.open_team(lead, {n: slow_options(env, n) for n in "ab"}) as team:
        publish(team)
        await team.run("go")


async def run_supervisor(env: ClaudeTestEnv, publish: Publish) -> None:
    async with teams.open_supervisor(strategy="one_for_all") as sup:
        for n in ("x", "y"):
            sup.start_agent(n, slow_options(env, n), "go")
        publish(sup)


async def run_blackboard(env: ClaudeTestEnv, publish: Publish) -> None:
    waiter = env.options([Turn([ToolUse("mcp__board__wait", {"since_version": 0})])], name="waiter")
    agents = {"waiter": waiter, "talker": slow_options(env, "talker")}
    async with teams.open_blackboard(agents) as team:
        team.start("waiter", "wait")
        team.start("talker", "talk")
        publish(team)


async def run_debate(env: ClaudeTestEnv, publish: Publish) -> None:
    agents = {n: slow_options(env, n) for n in ("pro", "con")}
    async with teams.open_debate(agents) as debate:
        publish(debate)
        await debate.run("topic")


SHAPES: dict[str, Callable[[ClaudeTestEnv, Publish], Awaitable[None]]] = {
    "fanout": run_fanout,
    "pipeline": run_pipeline,
    "team": run_team,
    "supervisor": run_supervisor,
    "blackboard": run_blackboard,
    "debate": run_debate,
}


@pytest.mark.parametrize("shape", list(SHAPES))
async def test_cancelling_each_shape_mid_run_leaves_no_process(
    claude_env: ClaudeTestEnv, shape: str
) -> None:
    """The whole block is cancelled from outside while turns stream: every turn is
    interrupted, every CLI exits on its own (exit code 0), and nothing is left running."""
    teams_seen: list[Any] = []
    sessions: list[tc.Session] = []
    scope = trio.CancelScope()

    async def run() -> None:
        with scope:
            await SHAPES[shape](claude_env, teams_seen.append)
        assert scope.cancelled_caught  # it ran until it was cancelled

    async with trio.open_nursery() as nursery:
        nursery.start_soon(run)
        with trio.fail_after(30):
            # Mid-turn: a slow answer is streaming to at least one agent.
            await claude_env.model.wait_for_request(
                lambda r: r.kind == "turn" and r.session in SLOW_NAMES and not r.completed
            )
            while not teams_seen or not any(
                a.state in (AgentState.RUNNING, AgentState.WAITING_ON_TOOL)
                for a in teams_seen[0].agents.values()
            ):
                await trio.sleep(0.01)
        for agent in teams_seen[0].agents.values():
            live = agent.session
            if isinstance(live, tc.ResumableSession):
                live = live.session
            if live is not None:
                sessions.append(live)
        started = time.monotonic()
        scope.cancel()
    took = time.monotonic() - started
    # A hang guard, not a speed claim (about 1 s): no agent waits out its timeouts one by one.
    assert took < 60, took
    stats = teams_seen[0].statistics()
    assert stats.states.get(AgentState.CANCELLED, 0) >= 1, stats.states
    assert_closed(stats, claude_env)
    # Every CLI exited on its own (1 after an interrupted turn), none by a signal.
    codes = [s.returncode for s in sessions]
    assert sessions and all(c is not None and c >= 0 for c in codes), codes
    # The interrupted streams were cut: the CLIs hung up on the model. The fake model's own
    # task records the hang-up, which need not have run yet when the sessions are closed:
    # wait for it, bounded.
    with trio.fail_after(30):
        await claude_env.model.wait_for_request(lambda r: r.kind == "turn" and r.disconnected)


# ---------------------------------------------------------------------------------- budget


async def test_a_budget_stops_a_real_fanout(claude_env: ClaudeTestEnv) -> None:
    from trio_claude.testing import Usage

    budget = tc.Budget(max_tokens=5_000)
    big = [Turn("expensive", usage=Usage(input_tokens=10_000))]
    with pytest.raises(tc.BudgetExceededError) as caught:
        async with teams.open_fanout(limit=2, on_error="collect", budget=budget) as fan:
            fan.submit("a", options=claude_env.options(big, name="big"))
            fan.submit("b", options=slow_options(claude_env, "slow"))
            fan.submit("c", options=slow_options(claude_env, "never"))
    assert caught.value.dimension == "tokens"
    stats = fan.statistics()
    assert stats.agents["task-2"].state is AgentState.CANCELLED
    assert stats.budget is not None and stats.budget.tokens >= 10_000
    assert_closed(stats, claude_env)
