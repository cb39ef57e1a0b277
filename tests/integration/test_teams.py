"""Every team shape over the in-process fake CLI (fast: no subprocess, no model).

Each agent gets its own ``FakeCLITransport`` (so its own script); a crash is a ``Kill()`` step,
a slow turn a ``Sleep()`` under ``autojump_clock``. The end-to-end versions, with the real CLI,
are in ``tests/e2e/test_teams_e2e.py``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pytest
import trio
import trio.testing

import trio_claude as tc
from trio_claude import teams
from trio_claude._transport._base import ChildProcess, LaunchSpec
from trio_claude.teams import AgentState
from trio_claude.testing.fake_cli import (
    Emit,
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
    ToolUse,
    WaitForInterrupt,
)

FINAL = {AgentState.DONE, AgentState.FAILED, AgentState.CANCELLED}


class Scripts(FakeCLITransport):
    """The in-process fake CLI; the n-th start runs the n-th script (the last one repeats)."""

    def __init__(self, *scripts: FakeScript) -> None:
        super().__init__(scripts[0])
        self.scripts = scripts
        self.fakes: list[FakeCLI] = []
        self.children: list[ChildProcess] = []

    async def start(self, spec: LaunchSpec, nursery: trio.Nursery) -> ChildProcess:
        self.script = self.scripts[min(len(self.specs), len(self.scripts) - 1)]
        child = await super().start(spec, nursery)
        assert self.fake is not None
        self.fakes.append(self.fake)
        self.children.append(child)
        return child


def script(*turns: FakeTurn, session_id: str | None = None) -> FakeScript:
    if session_id is None:
        return FakeScript(turns=list(turns))
    return FakeScript(turns=list(turns), session_id=session_id)


def options(*turns: FakeTurn, **fields: Any) -> tc.ClaudeAgentOptions:
    return tc.ClaudeAgentOptions(transport=Scripts(script(*turns)), **fields)


def reply(text: str, seconds: float = 0.0, cost: float = 0.0001) -> FakeTurn:
    steps: list[Any] = [Sleep(seconds)] if seconds else []
    return FakeTurn(steps=[*steps, Text(text), Result(text=text, total_cost_usd=cost)])


def crash(after: float = 0.0) -> FakeTurn:
    steps: list[Any] = [Sleep(after)] if after else []
    return FakeTurn(steps=[*steps, Text("partial"), Kill()])


def prompts(transport: Any) -> list[Any]:
    return [
        f["message"]["content"]
        for fake in transport.fakes
        for f in fake.received
        if f.get("type") == "user"
    ]


def assert_all_final(stats: teams.TeamStatistics) -> None:
    assert stats.closed
    assert stats.live_processes == 0
    for agent in stats.agents.values():
        assert agent.state in FINAL, agent
    assert math.isclose(stats.cost_usd, sum(a.cost_usd for a in stats.agents.values()))
    assert stats.tokens == sum(a.tokens for a in stats.agents.values())


class Concurrency:
    """Samples how many agents of a team are running at once."""

    def __init__(self) -> None:
        self.peak = 0

    async def watch(self, statistics: Any) -> None:
        while True:
            running = sum(
                1
                for a in statistics().agents.values()
                if a.state in (AgentState.RUNNING, AgentState.WAITING_ON_TOOL)
            )
            self.peak = max(self.peak, running)
            await trio.sleep(0.01)


# --------------------------------------------------------------------------------- fan-out


async def test_fanout_delivers_results_as_they_finish_within_the_limit(
    autojump_clock: trio.testing.MockClock,
) -> None:
    seconds = [4, 1, 3.5, 2, 0.5]
    finished: list[str] = []
    concurrency = Concurrency()
    async with teams.open_fanout(limit=2) as fan, trio.open_nursery() as watchers:
        watchers.start_soon(concurrency.watch, fan.statistics)
        for i, s in enumerate(seconds):
            fan.submit(f"prompt {i}", options=options(reply(f"answer {i}", s)))
        async for outcome in fan.results():
            assert outcome.ok and outcome.text == f"answer {outcome.index}"
            finished.append(outcome.agent)
        watchers.cancel_scope.cancel()
    # Two slots, tasks in submission order: 0 (4 s) and 1 (1 s); 2 takes 1's slot at 1 s
    # (done at 4.5), 3 takes 0's at 4 (done at 6), 4 takes 2's at 4.5 (done at 5).
    assert finished == ["task-1", "task-0", "task-2", "task-4", "task-3"]
    assert concurrency.peak == 2
    stats = fan.statistics()
    assert_all_final(stats)
    assert stats.states == {AgentState.DONE: 5}
    assert stats.turns == 5 and stats.model_calls == 5
    assert math.isclose(stats.cost_usd, 5 * 0.0001)
    assert [o.index for o in await fan.gather()] == [0, 1, 2, 3, 4]  # also after the block


async def test_fanout_results_read_by_two_tasks_delivers_each_outcome_once(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # Both readers wake for the same outcome; the one that checkpoints second must find it
    # gone and wait again, not pop an empty queue (it raised IndexError).
    got: dict[str, list[int]] = {"a": [], "b": []}
    async with teams.open_fanout(limit=4) as fan:
        for i in range(6):
            fan.submit(f"p{i}", options=options(reply(f"a{i}", 1 + i % 2)))

        async def reader(name: str) -> None:
            async for outcome in fan.results():
                got[name].append(outcome.index)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(reader, "a")
            nursery.start_soon(reader, "b")
    assert sorted(got["a"] + got["b"]) == list(range(6))
    assert got["a"] and got["b"]


async def test_fanout_gather_returns_outcomes_in_submission_order(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with teams.open_fanout(limit=3) as fan:
        for i, s in enumerate([3, 2, 1]):
            fan.submit(f"p{i}", name=f"r{i}", options=options(reply(f"a{i}", s)))
        outcomes = await fan.gather()
    assert [o.agent for o in outcomes] == ["r0", "r1", "r2"]
    assert [o.text for o in outcomes] == ["a0", "a1", "a2"]
    assert trio.current_time() == pytest.approx(3, abs=0.1)  # in parallel


async def test_fanout_cancel_policy_stops_everyone_and_raises_one_agent_error(
    autojump_clock: trio.testing.MockClock,
) -> None:
    slow = options(reply("slow", 100))
    with pytest.raises(teams.AgentError) as caught:
        async with teams.open_fanout(limit=3) as fan:
            fan.submit("a", name="slow", options=slow)
            fan.submit("b", name="bad", options=options(crash(1)))
            fan.submit("c", name="queued", options=options(reply("c", 100)))
            fan.submit("d", name="never", options=options(reply("d")))
    assert caught.value.agent == "bad"
    assert isinstance(caught.value.error, tc.ProcessError)
    assert caught.value.__cause__ is caught.value.error
    assert trio.current_time() < 10  # nobody waited for the slow ones
    stats = fan.statistics()
    assert_all_final(stats)
    assert stats.agents["bad"].state is AgentState.FAILED
    assert stats.agents["slow"].state is AgentState.CANCELLED
    assert stats.agents["never"].state is AgentState.CANCELLED
    assert [f.agent for f in fan.failures] == ["bad"]
    # The slow task's turn was interrupted, not just dropped.
    transport = slow.transport
    assert isinstance(transport, Scripts) and transport.fakes[0].interrupts == 1


async def test_fanout_collect_policy_delivers_failures_and_goes_on(
    autojump_clock: trio.testing.MockClock,
) -> None:
    failed_result = FakeTurn(
        steps=[Result(subtype="error_during_execution", is_error=True, extra={"errors": ["x"]})]
    )
    async with teams.open_fanout(limit=2, on_error="collect") as fan:
        fan.submit("a", options=options(reply("ok a", 1)))
        fan.submit("b", options=options(crash()))
        fan.submit("c", options=options(failed_result))
        fan.submit("d", options=options(reply("ok d", 2)))
        outcomes = {o.agent: o async for o in fan.results()}
    assert outcomes["task-0"].text == "ok a" and outcomes["task-3"].text == "ok d"
    assert isinstance(outcomes["task-1"].error, tc.ProcessError)
    assert isinstance(outcomes["task-2"].error, tc.ResultError)
    assert [f.agent for f in fan.failures] == ["task-1", "task-2"]
    stats = fan.statistics()
    assert_all_final(stats)
    assert stats.failures == 2 and stats.turns == 2


async def test_a_shared_budget_stops_every_task_whatever_the_policy(
    autojump_clock: trio.testing.MockClock,
) -> None:
    budget = tc.Budget(max_usd=0.25)
    expensive = FakeTurn(steps=[Sleep(1), Text("$$$"), Result(text="$$$", total_cost_usd=0.3)])
    with pytest.raises(tc.BudgetExceededError) as caught:
        async with teams.open_fanout(limit=2, on_error="collect", budget=budget) as fan:
            fan.submit("cheap but slow", options=options(reply("x", 100)))
            fan.submit("expensive", options=options(expensive))
            fan.submit("never started", options=options(reply("y")))
    assert caught.value.dimension == "usd"
    assert trio.current_time() < 10
    stats = fan.statistics()
    assert_all_final(stats)
    assert stats.agents["task-2"].state is AgentState.CANCELLED
    # The expensive turn, and the interrupted turn of the slow task (its result, dropped, is
    # charged all the same: 0.0001).
    assert stats.budget is not None and stats.budget.usd == pytest.approx(0.3001)


async def test_cancelling_a_fanout_ends_the_block_quietly_and_interrupts_turns(
    autojump_clock: trio.testing.MockClock,
) -> None:
    hang = FakeTurn(steps=[Text("working"), WaitForInterrupt()])
    transports = []
    async with teams.open_fanout(limit=4) as fan:
        for _ in range(3):
            opts = options(hang)
            transports.append(opts.transport)
            fan.submit("go", options=opts)
        while fan.statistics().states.get(AgentState.RUNNING, 0) < 3:
            await trio.sleep(0.1)
        fan.cancel()
    stats = fan.statistics()
    assert_all_final(stats)
    assert stats.states == {AgentState.CANCELLED: 3}
    assert all(t.fakes[0].interrupts == 1 for t in transports)


async def test_the_body_s_own_exception_comes_out_as_is(
    autojump_clock: trio.testing.MockClock,
) -> None:
    with pytest.raises(KeyError):
        async with teams.open_fanout() as fan:
            fan.submit("go", options=options(reply("x", 100)))
            await trio.sleep(1)
            raise KeyError("mine")
    assert_all_final(fan.statistics())


async def test_fanout_agents_get_their_own_options() -> None:
    a = options(reply("from a"), model="model-a", system_prompt="You are A")
    b = options(reply("from b"), model="model-b", system_prompt="You are B")
    async with teams.open_fanout() as fan:
        fan.submit("x", name="a", options=a)
        fan.submit("y", name="b", options=b)
        outcomes = await fan.gather()
    assert [o.text for o in outcomes] == ["from a", "from b"]
    for opts, model in ((a, "model-a"), (b, "model-b")):
        assert isinstance(opts.transport, Scripts)
        argv = opts.transport.specs[0].argv
        assert f"--model={model}" in argv


async def test_fanout_refuses_bad_arguments_before_starting_anything() -> None:
    with pytest.raises(tc.ConfigurationError):
        async with teams.open_fanout(limit=0):
            pass  # pragma: no cover
    with pytest.raises(tc.ConfigurationError):
        async with teams.open_fanout(on_error="ignore"):  # type: ignore[arg-type]
            pass  # pragma: no cover
    with pytest.raises(tc.ConfigurationError):
        async with teams.open_fanout(options(reply("x"))) as fan:
            fan.submit("a", name="same")
            fan.submit("b", name="same")
    with pytest.raises(teams.TeamError):
        fan.submit("too late")


# -------------------------------------------------------------------------------- pipeline


def stage(name: str, *turns: FakeTurn, prompt: str = "{input}", **fields: Any) -> teams.Stage:
    return teams.Stage(name, options(*turns, **fields), prompt=prompt)


def echo(prefix: str, seconds: float = 0.0) -> FakeTurn:
    # The fake CLI cannot echo; tests check the prompts it received instead.
    return reply(prefix, seconds)


async def test_a_pipeline_passes_items_through_every_stage_in_order(
    autojump_clock: trio.testing.MockClock,
) -> None:
    first = stage("first", *(reply(f"first {i}") for i in range(3)), prompt="Lint: {input}")
    second = stage(
        "second", *(reply(f"second {i}", 1) for i in range(3)), prompt="Sec: {input} ({item})"
    )
    third = teams.Stage(
        "third",
        options(*(reply(f"third {i}") for i in range(3))),
        prompt=lambda so_far: f"Sum({so_far.text}) of {so_far.input}",
    )
    async with teams.open_pipeline([first, second, third]) as pipe:
        results = await pipe.process(["diff 0", "diff 1", "diff 2"])
    assert [r.input for r in results] == ["diff 0", "diff 1", "diff 2"]
    assert [r.text for r in results] == ["third 0", "third 1", "third 2"]
    assert [t.text for t in results[1].turns] == ["first 1", "second 1", "third 1"]
    assert prompts(first.options.transport) == ["Lint: diff 0", "Lint: diff 1", "Lint: diff 2"]
    assert prompts(second.options.transport) == [f"Sec: first {i} (diff {i})" for i in range(3)]
    assert prompts(third.options.transport) == [f"Sum(second {i}) of diff {i}" for i in range(3)]
    stats = pipe.statistics()
    assert_all_final(stats)
    assert stats.states == {AgentState.DONE: 3} and stats.turns == 9


async def test_pipeline_backpressure_holds_the_producer_back(
    autojump_clock: trio.testing.MockClock,
) -> None:
    fast = stage("fast", *(reply(f"f{i}") for i in range(10)))
    slow = stage("slow", *(reply(f"s{i}", 10) for i in range(10)))
    sent: list[float] = []
    async with teams.open_pipeline([fast, slow], buffer=0) as pipe:

        async def produce() -> None:
            async with pipe.input:
                for i in range(6):
                    await pipe.input.send(f"item {i}")
                    sent.append(trio.current_time())

        async with trio.open_nursery() as nursery:
            nursery.start_soon(produce)
            await trio.sleep(5)
            # The slow stage holds one item, the fast stage another, one waits in between:
            # the producer is blocked, not racing ahead.
            assert len(sent) <= 3
            got = [r.text async for r in pipe.output]
    assert got == [f"s{i}" for i in range(6)]
    assert sent[-1] >= 30  # the producer was paced by the slow stage


async def test_a_failing_middle_stage_fails_the_pipeline_with_its_name(
    autojump_clock: trio.testing.MockClock,
) -> None:
    first = stage("first", *(reply(f"f{i}") for i in range(5)))
    middle = stage("middle", reply("m0"), crash())
    last = stage("last", *(reply(f"l{i}", 1) for i in range(5)))
    got: list[str] = []
    with pytest.raises(teams.AgentError) as caught:
        async with (
            teams.open_pipeline([first, middle, last]) as pipe,
            trio.open_nursery() as nursery,
        ):
            nursery.start_soon(feed, pipe, 5)
            async for result in pipe.output:
                got.append(result.text)
    assert caught.value.agent == "middle"
    assert isinstance(caught.value.error, tc.ProcessError)
    assert got in ([], ["l0"])
    stats = pipe.statistics()
    assert_all_final(stats)
    assert stats.agents["middle"].state is AgentState.FAILED


async def feed(pipe: teams.Pipeline, n: int) -> None:
    async with pipe.input:
        for i in range(n):
            await pipe.input.send(f"item {i}")


async def test_collect_policy_drops_the_failed_item_and_the_stage_gets_a_new_cli(
    autojump_clock: trio.testing.MockClock,
) -> None:
    first = stage("first", *(reply(f"f{i}") for i in range(4)))
    transport = Scripts(script(reply("m0"), crash()), script(reply("m2"), reply("m3")))
    middle = teams.Stage("middle", tc.ClaudeAgentOptions(transport=transport))
    last = stage("last", *(reply(f"l{i}") for i in range(4)))
    async with teams.open_pipeline([first, middle, last], on_error="collect") as pipe:
        results = await pipe.process([f"item {i}" for i in range(4)])
    assert [r.input for r in results] == ["item 0", "item 2", "item 3"]
    assert [f.item for f in pipe.failures] == ["item 1"]
    assert len(transport.fakes) == 2  # the dead CLI was replaced
    stats = pipe.statistics()
    assert_all_final(stats)
    assert stats.agents["middle"].failures == 1 and stats.agents["middle"].turns == 3


async def test_results_nobody_read_are_kept(autojump_clock: trio.testing.MockClock) -> None:
    async with teams.open_pipeline([stage("only", reply("a"), reply("b"))], buffer=1) as pipe:
        await pipe.input.send("x")
        await pipe.input.send("y")
    assert [r.text for r in pipe.unread] == ["a", "b"]


async def test_a_stage_prompt_function_s_error_is_raised_as_is(
    autojump_clock: trio.testing.MockClock,
) -> None:
    def broken(so_far: teams.PipelineResult) -> str:
        raise ValueError("my template")

    with pytest.raises(ValueError, match="my template"):
        async with teams.open_pipeline(
            [stage("a", reply("x")), teams.Stage("b", options(reply("y")), prompt=broken)]
        ) as pipe:
            await pipe.process(["item"])


async def test_several_workers_share_a_stage(autojump_clock: trio.testing.MockClock) -> None:
    workers = teams.Stage("w", options(*(reply(f"w{i}", 10) for i in range(3))), workers=3)
    async with teams.open_pipeline([workers]) as pipe:
        results = await pipe.process(["a", "b", "c"])
    assert sorted(r.input for r in results) == ["a", "b", "c"]
    assert trio.current_time() < 15  # in parallel
    assert set(pipe.agents) == {"w-0", "w-1", "w-2"}


# -------------------------------------------------------------------- lead and teammates


def call(server: str, tool: str, arguments: dict[str, Any], msg_id: int) -> Request:
    message = {
        "jsonrpc": "2.0",
        "id": msg_id,
        "method": "tools/call",
        "params": {"name": tool, "arguments": arguments},
    }
    return Request("mcp_message", {"server_name": server, "message": message}, wait=False)


def tool_text(fake: FakeCLI, index: int) -> tuple[bool, str]:
    """(is_error, text) of the answer to the fake's ``index``-th request."""
    request = fake.requests_sent[index]
    body = fake.responses[request["request_id"]]["response"]["mcp_response"]["result"]
    return bool(body.get("isError")), body["content"][0]["text"]


async def test_the_lead_delegates_to_three_teammates_in_parallel(
    autojump_clock: trio.testing.MockClock,
) -> None:
    names = ["alice", "bob", "carol"]
    delegate = FakeTurn(
        steps=[
            *(
                call("team", "delegate", {"teammate": n, "task": f"task for {n}"}, i)
                for i, n in enumerate(names)
            ),
            Sleep(30),
            Text("all done"),
            Result(text="all done"),
        ]
    )
    lead = options(delegate)
    mates = {n: options(reply(f"{n} reports", 10)) for n in names}
    concurrency = Concurrency()
    async with teams.open_team(lead, mates) as team, trio.open_nursery() as watchers:
        watchers.start_soon(concurrency.watch, team.statistics)
        turn = await team.run("research")
        watchers.cancel_scope.cancel()
    assert turn.text == "all done"
    # The three teammates ran at once (and the lead waited on its tools meanwhile).
    assert concurrency.peak == 4
    fake = lead.transport.fakes[0]
    assert [tool_text(fake, i) for i in range(3)] == [(False, f"{n} reports") for n in names]
    for n in names:
        assert prompts(mates[n].transport) == [f"task for {n}"]
    stats = team.statistics()
    assert_all_final(stats)
    assert stats.turns == 4 and stats.states == {AgentState.DONE: 4}
    # The lead's CLI got the team's server and its tools.
    argv = " ".join(lead.transport.specs[0].argv)
    assert "mcp__team__delegate" in argv and '"team"' in argv


async def test_a_failed_delegation_is_reported_to_the_lead_and_recorded(
    autojump_clock: trio.testing.MockClock,
) -> None:
    lead = options(
        FakeTurn(
            steps=[
                call("team", "delegate", {"teammate": "flaky", "task": "t"}, 1),
                call("team", "delegate", {"teammate": "nobody", "task": "t"}, 2),
                Sleep(5),
                Result(text="coped"),
            ]
        )
    )
    async with teams.open_team(lead, {"flaky": options(crash())}) as team:
        assert (await team.run("go")).text == "coped"
    fake = lead.transport.fakes[0]
    is_error, text = tool_text(fake, 0)
    assert is_error and "flaky failed: ProcessError" in text
    is_error, text = tool_text(fake, 1)
    assert is_error and "Input validation error" in text  # not one of the teammates
    assert [f.agent for f in team.failures] == ["flaky"]
    assert team.statistics().agents["flaky"].state is AgentState.FAILED


async def test_with_cancel_policy_a_failed_delegation_fails_the_team(
    autojump_clock: trio.testing.MockClock,
) -> None:
    lead = options(
        FakeTurn(steps=[call("team", "delegate", {"teammate": "x", "task": "t"}, 1), Sleep(99)])
    )
    with pytest.raises(teams.AgentError) as caught:
        async with teams.open_team(lead, {"x": options(crash())}, on_error="cancel") as team:
            await team.run("go")
    assert caught.value.agent == "x"
    assert trio.current_time() < 20
    assert_all_final(team.statistics())


async def test_cancelling_the_lead_s_turn_cancels_its_delegations(
    autojump_clock: trio.testing.MockClock,
) -> None:
    lead = options(
        FakeTurn(steps=[call("team", "delegate", {"teammate": "x", "task": "t"}, 1), Sleep(99)]),
        reply("second turn"),
    )
    mate = options(FakeTurn(steps=[Text("working"), WaitForInterrupt()]), reply("next"))
    async with teams.open_team(lead, {"x": mate}) as team:
        with trio.move_on_after(5):
            await team.run("go")
        await team.teammates["x"].wait_state(AgentState.CANCELLED)
        await trio.sleep(1)  # the abandoned turn is interrupted by the session's own tasks
        assert mate.transport.fakes[0].interrupts == 1
        assert (await team.run("again")).text == "second turn"
        assert (await team.delegate("x", "direct")).text == "next"
    assert_all_final(team.statistics())


async def test_closing_the_team_mid_delegation_leaves_nothing_running(
    autojump_clock: trio.testing.MockClock,
) -> None:
    lead = options(
        FakeTurn(steps=[call("team", "delegate", {"teammate": "x", "task": "t"}, 1), Sleep(99)])
    )
    mate = options(FakeTurn(steps=[Text("working"), WaitForInterrupt()]))
    async with teams.open_team(lead, {"x": mate}) as team:
        team_run_done = trio.Event()

        async def run() -> None:
            await team.run("go")
            team_run_done.set()  # pragma: no cover - cancelled

        async with trio.open_nursery() as nursery:
            nursery.start_soon(run)
            await team.teammates["x"].wait_state(AgentState.RUNNING)
            assert team.lead.state is AgentState.RUNNING  # fake tool calls are not tool_use
            team.cancel()
    stats = team.statistics()
    assert_all_final(stats)
    assert stats.agents["x"].state is AgentState.CANCELLED
    assert trio.current_time() < 20


async def test_open_team_start_failure_names_the_agent() -> None:
    bad = tc.ClaudeAgentOptions(
        transport=Scripts(FakeScript(answer_initialize=False)), initialize_timeout=0.5
    )
    with pytest.raises(teams.AgentError) as caught:
        async with teams.open_team(options(reply("x")), {"ok": options(), "bad": bad}):
            pass  # pragma: no cover
    assert caught.value.agent == "bad"
    assert isinstance(caught.value.error, tc.CLIConnectionError)


# ------------------------------------------------------------------------------ supervisor

SID = "00000000-0000-4000-8000-00000000000a"


def flag(argv: Sequence[str], name: str) -> str | None:
    for i, token in enumerate(argv):
        if token == name:
            return argv[i + 1]
        if token.startswith(name + "="):
            return token.split("=", 1)[1]
    return None


async def test_one_for_one_restarts_a_crashed_agent_on_its_conversation(
    autojump_clock: trio.testing.MockClock,
) -> None:
    transport = Scripts(
        script(reply("noted"), crash(1), session_id=SID),
        script(reply("resumed and done"), session_id=SID),
    )
    steady = options(reply("steady", 2))

    async def work(agent: teams.Agent) -> str:
        if agent.restarts == 0:
            await agent.run("remember 42")
            await agent.run("long task")  # dies
        return (await agent.run("continue")).text

    async with teams.open_supervisor(max_restarts=2) as sup:
        sup.start_agent("worker", tc.ClaudeAgentOptions(transport=transport), work)
        sup.start_agent("steady", steady, "hello")
    assert sup.results["worker"] == "resumed and done"
    assert sup.results["steady"].text == "steady"
    assert flag(transport.specs[1].argv, "--resume") == SID
    assert prompts(transport) == ["remember 42", "long task", "continue"]
    stats = sup.statistics()
    assert_all_final(stats)
    assert stats.agents["worker"].restarts == 1 and stats.agents["worker"].failures == 1
    assert stats.agents["steady"].restarts == 0
    assert [type(f.error) for f in sup.failures] == [tc.ProcessError]


async def test_a_prompt_child_is_followed_up_with_the_resume_prompt(
    autojump_clock: trio.testing.MockClock,
) -> None:
    transport = Scripts(script(reply("first"), crash()), script(reply("again")))

    async def two_turns(agent: teams.Agent) -> None:
        await agent.run("one")
        await agent.run("two")

    async with teams.open_supervisor() as sup:
        sup.start_agent("a", tc.ClaudeAgentOptions(transport=transport), two_turns)
    assert prompts(transport)[:2] == ["one", "two"]
    # A callable work decides; a prompt work gets resume_prompt once a turn completed:
    transport2 = Scripts(script(crash()), script(reply("first try"), reply("x")))
    async with teams.open_supervisor() as sup:
        sup.start_agent("b", tc.ClaudeAgentOptions(transport=transport2), "do it")
    # It died before completing a turn: nothing to resume, so the prompt is sent again.
    assert prompts(transport2) == ["do it", "do it"]
    assert sup.results["b"].text == "first try"


async def test_one_for_all_restarts_every_running_child(
    autojump_clock: trio.testing.MockClock,
) -> None:
    bad = Scripts(script(crash(1)), script(reply("bad ok")))
    good_transport = Scripts(script(reply("slow", 50), reply("good again")))

    async with teams.open_supervisor(strategy="one_for_all") as sup:
        sup.start_agent("bad", tc.ClaudeAgentOptions(transport=bad), "b")
        good = sup.start_agent("good", tc.ClaudeAgentOptions(transport=good_transport), "g")
    assert good.restarts == 1 and sup.agents["bad"].restarts == 1
    assert good_transport.fakes[0].interrupts == 1  # its turn was interrupted for the restart
    assert sup.results["good"].text == "good again"
    assert trio.current_time() < 40
    assert_all_final(sup.statistics())


async def test_too_many_restarts_escalate(autojump_clock: trio.testing.MockClock) -> None:
    always = Scripts(script(crash(1)))
    with pytest.raises(teams.EscalationError) as caught:
        async with teams.open_supervisor(max_restarts=2, period=60) as sup:
            sup.start_agent("doomed", tc.ClaudeAgentOptions(transport=always), "x")
            sup.start_agent("bystander", options(reply("never", 1000)), "y")
    assert caught.value.agent == "doomed" and caught.value.restarts == 2
    assert isinstance(caught.value.error, tc.ProcessError)
    assert len(always.fakes) == 3
    stats = sup.statistics()
    assert_all_final(stats)
    assert stats.agents["bystander"].state is AgentState.CANCELLED
    assert stats.restarts == 2 and len(sup.failures) == 3


async def test_restarts_outside_the_period_do_not_count(
    autojump_clock: trio.testing.MockClock,
) -> None:
    transport = Scripts(
        script(crash(100)), script(crash(100)), script(crash(100)), script(reply("finally"))
    )
    async with teams.open_supervisor(max_restarts=1, period=50) as sup:
        sup.start_agent("slow-crasher", tc.ClaudeAgentOptions(transport=transport), "x")
    assert sup.results["slow-crasher"].text == "finally"
    assert sup.agents["slow-crasher"].restarts == 3


async def test_a_nested_supervisor_is_a_child_its_parent_restarts(
    autojump_clock: trio.testing.MockClock,
) -> None:
    attempts = 0
    inner_transport = Scripts(script(crash(1)), script(crash(1)), script(reply("inner ok")))

    async def subtree() -> str:
        nonlocal attempts
        attempts += 1
        async with teams.open_supervisor(max_restarts=0) as inner:
            inner.start_agent("leaf", tc.ClaudeAgentOptions(transport=inner_transport), "x")
        return str(inner.results["leaf"].text)

    async with teams.open_supervisor(max_restarts=5) as root:
        root.start_child("subtree", subtree)
    assert root.results["subtree"] == "inner ok"
    assert attempts == 3 and root.agents["subtree"].restarts == 2
    assert all(isinstance(f.error, teams.EscalationError) for f in root.failures)


async def test_a_budget_is_never_restarted(autojump_clock: trio.testing.MockClock) -> None:
    budget = tc.Budget(max_usd=0.1)
    pricey = FakeTurn(steps=[Result(text="$", total_cost_usd=0.2)])
    with pytest.raises(tc.BudgetExceededError):
        async with teams.open_supervisor(budget=budget) as sup:
            sup.start_agent("spender", options(pricey, pricey), "spend")
    assert sup.agents["spender"].restarts == 0


# ------------------------------------------------------------------------------ blackboard


async def test_agents_share_a_blackboard_and_wait_for_changes(
    autojump_clock: trio.testing.MockClock,
) -> None:
    reader = options(
        FakeTurn(
            steps=[
                call("board", "wait", {"since_version": 0}, 1),
                Sleep(20),
                Result(text="saw it"),
            ]
        )
    )
    writer = options(
        FakeTurn(
            steps=[
                Sleep(5),
                call("board", "write", {"key": "answer", "value": {"n": 42}}, 1),
                Sleep(1),
                Result(text="wrote it"),
            ]
        )
    )
    async with teams.open_blackboard(
        {"reader": reader, "writer": writer}, initial={"goal": "find n"}
    ) as team:
        team.start("reader", "wait for the answer")
        team.start("writer", "write the answer")
        state = await team.board.wait_until(lambda s: "answer" in s)
        assert state == {"goal": "find n", "answer": {"n": 42}}
        assert trio.current_time() == pytest.approx(5, abs=0.5)
    fake = reader.transport.fakes[0]
    is_error, text = tool_text(fake, 0)
    assert not is_error and '"changed":true' in text and '"n":42' in text
    assert team.board.history[-1].author == "writer"
    assert_all_final(team.statistics())


async def test_closing_the_team_ends_board_waits_at_once(
    autojump_clock: trio.testing.MockClock,
) -> None:
    waiter = options(
        FakeTurn(steps=[call("board", "wait", {"since_version": 0}, 1), WaitForInterrupt()])
    )
    async with teams.open_blackboard({"w": waiter}, max_wait=3600) as team:
        team.start("w", "wait")
        await trio.sleep(1)
        team.cancel()
    assert trio.current_time() < 30
    stats = team.statistics()
    assert_all_final(stats)
    assert stats.agents["w"].state is AgentState.CANCELLED


async def test_blackboard_values_are_json_and_copied() -> None:
    board = teams.Blackboard({"a": [1]})
    value = board.get("a")
    value.append(2)
    assert board.get("a") == [1]
    with pytest.raises(tc.ConfigurationError):
        board.set("x", object())
    assert board.set("a", None) == 1 and board.snapshot() == {}
    with trio.move_on_after(0.01):
        await board.wait_changed(1)
    board.set("b", 1)
    assert await board.wait_changed(1) == 2


# ---------------------------------------------------------------------------------- debate


async def test_a_debate_ends_on_quorum_with_every_agent_seeing_the_others() -> None:
    pro = options(reply("Rust is safer"), reply("AGREE: keep Python, add types"))
    con = options(reply("Python is fine"), reply("AGREE"))
    async with teams.open_debate({"pro": pro, "con": con}, max_rounds=5, quorum=2) as debate:
        outcome = await debate.run("Rewrite in Rust?")
    assert outcome.reason == "quorum" and outcome.rounds == 2
    assert [(e.agent, e.round) for e in outcome.transcript] == [
        ("pro", 1),
        ("con", 1),
        ("pro", 2),
        ("con", 2),
    ]
    assert set(outcome.votes) == {"pro", "con"}
    pro_prompts = prompts(pro.transport)
    con_prompts = prompts(con.transport)
    assert (
        "Topic: Rewrite in Rust?" in pro_prompts[0] and "Since your last turn" not in pro_prompts[0]
    )
    assert "[pro, round 1]\nRust is safer" in con_prompts[0]
    assert "[con, round 1]\nPython is fine" in pro_prompts[1]
    assert "Rust is safer" not in pro_prompts[1]  # only what is new to it
    assert_all_final(debate.statistics())


async def test_a_debate_ends_on_its_condition_or_after_max_rounds() -> None:
    a = options(*(reply(f"a{i}") for i in range(5)))
    b = options(*(reply("STOP" if i == 1 else f"b{i}") for i in range(5)))
    async with teams.open_debate({"a": a, "b": b}, until=lambda t: t[-1].text == "STOP") as debate:
        outcome = await debate.run("t")
    assert outcome.reason == "until" and len(outcome.transcript) == 4
    async with teams.open_debate({"a": options(), "b": options()}, max_rounds=2) as debate:
        outcome = await debate.run("t")
    assert outcome.reason == "max_rounds" and len(outcome.transcript) == 4


async def test_cancelling_a_debate_interrupts_the_speaker(
    autojump_clock: trio.testing.MockClock,
) -> None:
    a = options(FakeTurn(steps=[Text("..."), WaitForInterrupt()]))
    async with teams.open_debate({"a": a, "b": options()}) as debate:
        with trio.move_on_after(10):
            await debate.run("t")
        assert debate.agents["a"].state is AgentState.CANCELLED
    assert a.transport.fakes[0].interrupts == 1
    assert_all_final(debate.statistics())


# ---------------------------------------------------------------------------- statistics


async def test_agent_states_go_through_starting_running_waiting_and_done(
    autojump_clock: trio.testing.MockClock,
) -> None:
    tool_turn = FakeTurn(
        steps=[
            ToolUse("Bash", {"command": "ls"}, id="toolu_1"),
            Sleep(5),
            tool_result("toolu_1"),
            Sleep(5),
            Text("done"),
            Result(text="done"),
        ]
    )
    async with teams.open_fanout(limit=1) as fan:
        blocker = fan.submit("first", options=options(reply("first", 1)))
        agent = fan.submit("go", options=options(tool_turn))
        assert agent.state is AgentState.PENDING  # waiting for a slot
        await blocker.wait_state(AgentState.DONE)
        await trio.sleep(2.5)
        assert agent.state is AgentState.WAITING_ON_TOOL  # the Bash call is running
        assert agent.statistics().tools_running == 1
        await trio.sleep(5)
        assert agent.state is AgentState.RUNNING  # the tool answered; the model works on
        await agent.wait_state(AgentState.DONE)
    assert agent.statistics().tools_running == 0 and agent.turns == 1


def tool_result(tool_use_id: str) -> Emit:
    return Emit(
        {
            "type": "user",
            "message": {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": tool_use_id, "content": "x"}],
            },
            "parent_tool_use_id": None,
        }
    )


async def test_exit_codes_and_errors_are_kept_per_agent(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with teams.open_fanout(on_error="collect") as fan:
        fan.submit("x", options=options(FakeTurn(steps=[Exit(3, stderr="boom")])))
    stats = fan.statistics().agents["task-0"]
    assert stats.state is AgentState.FAILED
    assert isinstance(stats.last_error, tc.ProcessError) and "boom" in str(stats.last_error)


def priced(text: str, cost: float, model_tokens: int) -> FakeTurn:
    """A reply whose result reports ``cost`` (cumulative) and ``modelUsage`` tokens."""
    usage = {"claude-fake-1": {"inputTokens": model_tokens, "outputTokens": 0}}
    return FakeTurn(
        steps=[Text(text), Result(text=text, total_cost_usd=cost, extra={"modelUsage": usage})]
    )


@pytest.mark.parametrize("restored", [False, True])
async def test_an_agent_s_cost_is_right_across_a_resumed_cli(
    autojump_clock: trio.testing.MockClock, restored: bool
) -> None:
    # Each turn of the fake counts 15 tokens (10 + 1 streamed, then 15 in the result); the
    # turn that dies streamed one message (11 tokens) first.
    first = script(priced("one", 0.001, 15), crash())
    # A CLI resumed after a graceful exit reports the earlier total again (and the earlier
    # tokens in modelUsage); after a crash it starts from zero.
    second = script(priced("two", 0.0015, 30) if restored else priced("two", 0.0005, 15))
    transport = Scripts(first, second)

    async def work(agent: teams.Agent) -> None:
        if agent.restarts == 0:
            await agent.run("a")
            await agent.run("b")  # dies
        await agent.run("c")

    async with teams.open_supervisor() as sup:
        sup.start_agent("w", tc.ClaudeAgentOptions(transport=transport), work)
    stats = sup.statistics().agents["w"]
    assert stats.turns == 2 and stats.tokens == 15 + 11 + 15
    assert stats.cost_usd == pytest.approx(0.0015)
