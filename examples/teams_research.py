"""A research team: a lead delegates to four researchers in parallel, then to a synthesiser.

    python -m trio_claude install-cli      # once: the pinned claude CLI
    python examples/teams_research.py

Offline: six real ``claude`` CLIs against trio-claude's fake model, one scripted conversation
each. The lead's options gain an in-process MCP server with a ``delegate(teammate, task)``
tool; its first answer calls it four times in one message, so the four researchers work at
the same time (the tool is read-only, so the CLI runs the calls concurrently). Every agent
has its own model and system prompt. All six CLIs live in the team's nursery: none outlives
the ``async with``.
"""

from __future__ import annotations

import tempfile

import trio

import trio_claude as tc
from trio_claude import teams
from trio_claude.testing import Match, ToolUse, Turn, Usage, open_claude_test_env

TOPICS = {
    "history": "the origins of structured concurrency",
    "theory": "why nurseries make cancellation composable",
    "practice": "how trio's cancel scopes are used in production",
    "critique": "the criticisms of structured concurrency",
}
FINDINGS = {
    "history": "Dijkstra's goto critique -> Smith's 2018 nursery essay.",
    "theory": "a nursery is a scope: tasks cannot outlive it, so errors have a home.",
    "practice": "timeouts are cancel scopes: move_on_after wraps any block.",
    "critique": "long-lived background work needs an explicit owner.",
}


def lead_script() -> list[Turn]:
    delegations = [
        ToolUse("mcp__team__delegate", {"teammate": f"researcher-{key}", "task": f"Research {t}"})
        for key, t in TOPICS.items()
    ]
    synthesis = ToolUse(
        "mcp__team__delegate",
        {"teammate": "synthesiser", "task": "Combine the four findings into one paragraph."},
    )
    return [
        Turn(delegations, usage=Usage(input_tokens=400)),
        Turn([synthesis], match=Match(has_tool_result=True)),
        Turn("Report: {last_tool_result}", match=Match(has_tool_result=True)),
    ]


async def main() -> None:
    with tempfile.TemporaryDirectory(prefix="teams-research-") as tmp:
        async with open_claude_test_env(tmp) as env:
            lead = env.options(
                lead_script(),
                name="lead",
                model="claude-opus-4-1",
                system_prompt="You lead a research team. Delegate, then report.",
            )
            mates: dict[str, tc.ClaudeAgentOptions | teams.Teammate] = {}
            for key, finding in FINDINGS.items():
                mates[f"researcher-{key}"] = teams.Teammate(
                    env.options(
                        [Turn(finding, delay=0.05, usage=Usage(input_tokens=200))],
                        name=f"researcher-{key}",
                        model="claude-haiku-4-5",
                        system_prompt=f"You research {TOPICS[key]}. Answer in one line.",
                        allowed_tools=["WebSearch"],
                    ),
                    description=f"researches {TOPICS[key]}",
                )
            mates["synthesiser"] = teams.Teammate(
                env.options(
                    [Turn("Nurseries give every task an owner; cancellation follows.")],
                    name="synthesiser",
                    model="claude-sonnet-4-5",
                    system_prompt="You merge research notes into one paragraph.",
                ),
                description="writes the final paragraph",
            )
            budget = tc.Budget(max_usd=1.00)
            peak = 0
            async with teams.open_team(lead, mates, budget=budget) as team:
                print(f"team up: {team.statistics().live_processes} CLIs")

                async def watch() -> None:
                    nonlocal peak
                    while True:
                        running = [
                            name
                            for name, a in team.statistics().agents.items()
                            if name.startswith("researcher-")
                            and a.state is teams.AgentState.RUNNING
                        ]
                        peak = max(peak, len(running))
                        await trio.sleep(0.01)

                async with trio.open_nursery() as nursery:
                    nursery.start_soon(watch)
                    turn = await team.run("Write a short report on structured concurrency.")
                    nursery.cancel_scope.cancel()
                print(f"researchers working at once: {peak}")
                print(f"lead: {turn.text}")
            print_statistics(team.statistics())  # after the block: every agent is done
            spent = budget.spent
            print(f"budget spent: ${spent.usd:.4f}, {spent.tokens} tokens")
            assert env.leaked_processes() == []
            print("team closed: every CLI reaped")


def print_statistics(stats: teams.TeamStatistics) -> None:
    print(f"{'agent':<22} {'state':<8} {'turns':>5} {'cost $':>8} {'tokens':>6}")
    for name, a in stats.agents.items():
        print(f"{name:<22} {a.state.value:<8} {a.turns:>5} {a.cost_usd:>8.4f} {a.tokens:>6}")
    print(f"{'total':<22} {'':<8} {stats.turns:>5} {stats.cost_usd:>8.4f} {stats.tokens:>6}")


if __name__ == "__main__":
    trio.run(main)
