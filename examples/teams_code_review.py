"""A code-review pipeline: style -> security -> summary, joined by bounded channels.

    python -m trio_claude install-cli      # once: the pinned claude CLI
    python examples/teams_code_review.py

Offline: three real ``claude`` CLIs (one per stage) against trio-claude's fake model. Diffs go
in at one end; each stage turns the previous stage's notes into its own prompt
(``{input}``); finished reviews come out at the other end as they are ready. Channels hold one
item, so a slow stage holds back the ones before it, down to the producer (backpressure), and
closing the input drains the line stage by stage (completion).

Each stage has its own options: the security reviewer runs a cheaper model and a permission
policy that refuses every tool (it may only read what it is sent).
"""

from __future__ import annotations

import tempfile
from typing import Any

import trio

import trio_claude as tc
from trio_claude import teams
from trio_claude.testing import Match, Turn, open_claude_test_env

DIFFS = {
    "PR-1": "def add(a, b):\n-    return a - b\n+    return a + b",
    "PR-2": "query = f\"SELECT * FROM users WHERE name = '{name}'\"",
    "PR-3": "-import os, sys\n+import os\n+import sys",
}


async def read_only(tool_name: str, tool_input: dict[str, Any], context: Any) -> Any:
    return tc.PermissionResultDeny(message="the security reviewer only reads")


def summary_prompt(so_far: teams.PipelineResult) -> str:
    """The last stage sees every earlier stage's notes (a function instead of a template)."""
    notes = "\n".join(f"- {turn.text}" for turn in so_far.turns)
    return f"Notes on {str(so_far.input).splitlines()[0]}:\n{notes}"


async def main() -> None:
    with tempfile.TemporaryDirectory(prefix="teams-review-") as tmp:
        async with open_claude_test_env(tmp) as env:
            style = env.options(
                [
                    Turn("style: fine", match=Match(last_user_text_contains="PR-1"), delay=0.02),
                    Turn("style: fine", match=Match(last_user_text_contains="PR-2"), delay=0.02),
                    Turn("style: one import per line", delay=0.02),
                ],
                name="style",
                system_prompt="You review diffs for style. One line.",
            )
            security = env.options(
                [
                    Turn(
                        "SECURITY: SQL injection in the f-string query",
                        match=Match(last_user_text_contains="PR-2"),
                    ),
                    Turn("security: nothing found", repeat=True),
                ],
                name="security",
                model="claude-haiku-4-5",
                system_prompt="You look for security problems. One line.",
                can_use_tool=read_only,
            )
            summary = env.options(
                [
                    Turn("BLOCK (SQL injection)", match=Match(last_user_text_contains="SECURITY")),
                    Turn("APPROVE", repeat=True),
                ],
                name="summary",
                system_prompt="You decide: APPROVE or BLOCK, with the reason.",
            )
            stages = [
                teams.Stage("style", style, prompt="Review this diff:\n{input}"),
                teams.Stage("security", security, prompt="Style notes: {input}\nDiff:\n{item}"),
                teams.Stage("summary", summary, prompt=summary_prompt),
            ]
            async with teams.open_pipeline(stages, buffer=1) as pipe:

                async def feed() -> None:
                    async with pipe.input:  # closing it ends the pipeline once drained
                        for pr, diff in DIFFS.items():
                            await pipe.input.send(f"{pr}\n{diff}")
                            print(f"sent {pr}")

                async with trio.open_nursery() as nursery:
                    nursery.start_soon(feed)
                    async for review in pipe.output:
                        pr = str(review.input).split("\n", 1)[0]
                        notes = " | ".join(turn.text for turn in review.turns)
                        print(f"{pr}: {notes}")
            stats = pipe.statistics()  # after the block: every stage is done
            for name, agent in stats.agents.items():
                print(
                    f"stage {name}: {agent.state.value}, {agent.turns} turns, ${agent.cost_usd:.4f}"
                )
            print(f"total: {stats.turns} turns, ${stats.cost_usd:.4f}, {stats.tokens} tokens")
            assert env.leaked_processes() == []
            print("pipeline closed: every CLI reaped")


if __name__ == "__main__":
    trio.run(main)
