"""A debate: three agents take turns over a shared transcript until two of them agree.

    python -m trio_claude install-cli      # once: the pinned claude CLI
    python examples/teams_debate.py

Offline: three real ``claude`` CLIs against trio-claude's fake model, each with its own system
prompt (selected by ``Match(system_contains=...)``: the three scripts share one conversation
name here). Each turn an agent is sent what the others said since its last turn; its session
remembers the rest. The debate stops at a quorum: two agents whose latest words start with
``AGREE``; ``max_rounds`` bounds it otherwise.
"""

from __future__ import annotations

import tempfile

import trio

from trio_claude import teams
from trio_claude.testing import Match, Turn, open_claude_test_env

ROLES = {
    "optimist": "You argue FOR the proposal.",
    "skeptic": "You argue AGAINST the proposal.",
    "moderator": "You look for common ground.",
}


def script() -> list[Turn]:
    """One script for all three, each step answering one role (by its system prompt)."""

    def says(role: str, text: str) -> Turn:
        return Turn(text, match=Match(system_contains=ROLES[role]))

    return [
        says("optimist", "Rewrite the parser in Rust: memory safety and speed."),
        says("skeptic", "No: the parser is not the bottleneck and the team knows Python."),
        says("moderator", "Profile first; move only the hot loop if it is the bottleneck."),
        says("optimist", "AGREE: profile first, then port the hot loop if needed."),
        says("skeptic", "AGREE: a targeted port after profiling is reasonable."),
        says("moderator", "Noted."),
    ]


async def main() -> None:
    with tempfile.TemporaryDirectory(prefix="teams-debate-") as tmp:
        async with open_claude_test_env(tmp) as env:
            shared = script()
            agents = {
                role: env.options(
                    shared if role == "optimist" else None, name="debate", system_prompt=prompt
                )
                for role, prompt in ROLES.items()
            }
            async with teams.open_debate(agents, max_rounds=4, quorum=2) as debate:
                outcome = await debate.run("Should we rewrite the parser in Rust?")
            for entry in outcome.transcript:
                print(f"[round {entry.round}] {entry.agent}: {entry.text}")
            print(
                f"ended by {outcome.reason} after {outcome.rounds} rounds; "
                f"agreeing: {', '.join(outcome.votes)}"
            )
            stats = debate.statistics()
            print(f"turns: {stats.turns}, cost: ${stats.cost_usd:.4f}, tokens: {stats.tokens}")
            # The skeptic's second turn carried what the others said in between, and only that.
            second = [r for r in env.model.turn_requests("debate") if "AGAINST" in r.system_text]
            text = second[1].last_user_text
            print(
                f"the skeptic saw the moderator and the optimist: "
                f"{'[moderator, round 1]' in text and '[optimist, round 2]' in text}"
            )
            assert env.leaked_processes() == []
            print("debate closed: every CLI reaped")


if __name__ == "__main__":
    trio.run(main)
