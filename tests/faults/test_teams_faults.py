"""Teams of real processes under the fault suite's leak checker.

Every CLI here is the fake CLI run as a real subprocess (``FakeCLIProcessTransport``), so the
checker around each test (``tests/faults/conftest.py``) sees real processes, pipes and tasks:
none may outlive the test, whether the team is cancelled mid-turn, a member is SIGKILLed and
restarted, or a stage fails.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
import trio

import trio_claude as tc
from trio_claude import teams
from trio_claude._transport._base import ChildProcess, LaunchSpec
from trio_claude.teams import AgentState
from trio_claude.testing.fake_cli import (
    FakeCLIProcessTransport,
    FakeScript,
    FakeTurn,
    Kill,
    Request,
    Sleep,
    Text,
    WaitForInterrupt,
)

FINAL = {AgentState.DONE, AgentState.FAILED, AgentState.CANCELLED}


class Processes(FakeCLIProcessTransport):
    """The fake CLI as a subprocess; the n-th start runs the n-th script (the last repeats)."""

    def __init__(self, directory: Path, name: str, *scripts: FakeScript) -> None:
        super().__init__(scripts[0], directory)
        self.paths = []
        for index, script in enumerate(scripts):
            path = directory / f"{name}-{index}.json"
            path.write_bytes(script.to_json())
            self.paths.append(path)
        self.children: list[ChildProcess] = []

    async def start(self, spec: LaunchSpec, nursery: trio.Nursery) -> ChildProcess:
        self.path = self.paths[min(len(self.specs), len(self.paths) - 1)]
        child = await super().start(spec, nursery)
        self.children.append(child)
        return child


def options(tmp: Path, name: str, *scripts: FakeScript) -> tc.ClaudeAgentOptions:
    return tc.ClaudeAgentOptions(transport=Processes(tmp, name, *scripts))


def turns(*turns: FakeTurn) -> FakeScript:
    return FakeScript(turns=list(turns))


HANG = FakeTurn(steps=[Text("working"), WaitForInterrupt()])


def delegate(*names: str) -> FakeTurn:
    calls = [
        Request(
            "mcp_message",
            {
                "server_name": "team",
                "message": {
                    "jsonrpc": "2.0",
                    "id": i,
                    "method": "tools/call",
                    "params": {"name": "delegate", "arguments": {"teammate": n, "task": "t"}},
                },
            },
            wait=False,
        )
        for i, n in enumerate(names)
    ]
    return FakeTurn(steps=[*calls, WaitForInterrupt()])


def children(options: tc.ClaudeAgentOptions) -> list[ChildProcess]:
    transport = options.transport
    assert isinstance(transport, Processes)
    return transport.children


async def test_cancelling_a_team_of_processes_mid_delegation_leaks_nothing(
    tmp_path: Path,
) -> None:
    lead = options(tmp_path, "lead", turns(delegate("a", "b")))
    mates = {n: options(tmp_path, n, turns(HANG)) for n in "ab"}
    with trio.fail_after(30):
        async with teams.open_team(lead, mates) as team, trio.open_nursery() as nursery:
            nursery.start_soon(team.run, "go")
            for name in "ab":
                # Inside the turn (its first message arrived): the fake CLI ignores an
                # interrupt that arrives before it has started the prompt's turn.
                while team.teammates[name].statistics().model_calls == 0:
                    await trio.sleep(0.01)
            team.cancel()
    stats = team.statistics()
    assert all(a.state in FINAL for a in stats.agents.values())
    assert stats.agents["a"].state is AgentState.CANCELLED
    # Every process exited on its own: the interrupted turns ended, stdin closed, exit 0.
    for opts in (lead, *mates.values()):
        assert [c.returncode for c in children(opts)] == [0]


async def test_a_killed_process_is_restarted_by_its_supervisor_without_leaks(
    tmp_path: Path,
) -> None:
    worker = options(
        tmp_path,
        "worker",
        turns(FakeTurn.reply("noted"), HANG),
        turns(FakeTurn.reply("resumed")),
    )

    async def work(agent: teams.Agent) -> str:
        if agent.restarts == 0:
            await agent.run("remember")
            await agent.run("work forever")
        return (await agent.run("continue")).text

    with trio.fail_after(30):
        async with teams.open_supervisor() as sup:
            agent = sup.start_agent("worker", worker, work)
            await agent.wait_state(AgentState.RUNNING)
            while agent.turns == 0 or agent.state is not AgentState.RUNNING:
                await trio.sleep(0.01)
            pid = agent.pid
            assert pid is not None
            os.kill(pid, signal.SIGKILL)
    assert sup.results["worker"] == "resumed"
    first, second = children(worker)
    assert first.returncode == -signal.SIGKILL and second.returncode == 0
    transport = worker.transport
    assert isinstance(transport, Processes)
    argv = transport.specs[1].argv
    assert "--resume" in " ".join(argv)


@pytest.mark.parametrize("policy", ["cancel", "collect"])
async def test_a_pipeline_whose_middle_process_dies_leaks_nothing(
    tmp_path: Path, policy: str
) -> None:
    first = options(tmp_path, "first", turns(*(FakeTurn.reply(f"f{i}") for i in range(3))))
    middle = options(
        tmp_path,
        "middle",
        turns(FakeTurn.reply("m0"), FakeTurn(steps=[Sleep(0.1), Text("partial"), Kill()])),
        turns(FakeTurn.reply("m2")),
    )
    last = options(tmp_path, "last", turns(*(FakeTurn.reply(f"l{i}") for i in range(3))))
    stages = [teams.Stage("first", first), teams.Stage("middle", middle), teams.Stage("last", last)]
    results: list[teams.PipelineResult] = []
    with trio.fail_after(30):
        try:
            async with teams.open_pipeline(stages, on_error=policy) as pipe:  # type: ignore[arg-type]
                results = await pipe.process(["a", "b", "c"])
        except teams.AgentError as exc:
            assert policy == "cancel" and exc.agent == "middle"
        else:
            assert policy == "collect"
            assert [r.input for r in results] == ["a", "c"]
            assert [f.item for f in pipe.failures] == ["b"]
    stats = pipe.statistics()
    assert all(a.state in FINAL for a in stats.agents.values())
    assert stats.live_processes == 0
    assert children(middle)[0].returncode == -signal.SIGKILL
