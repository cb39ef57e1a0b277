"""Peer ring / debate: agents take turns over a shared transcript.

::

    async with teams.open_debate(
        {"optimist": opt_options, "skeptic": skep_options, "judge": judge_options},
        max_rounds=4,
        quorum=2,                      # stop once two agents' latest words start with AGREE
    ) as debate:
        outcome = await debate.run("Should we rewrite the parser in Rust?")
        print(outcome.reason, outcome.transcript[-1].text)

The agents speak in ring order (the order of the mapping), one turn at a time. Each turn an
agent is sent what the others said since its own last turn (its session remembers the rest),
and its answer is appended to the transcript. The debate ends when ``until(transcript)``
holds, when a quorum of agents' latest entries are votes (``vote(entry)``; by default a line
starting with ``AGREE``), or after ``max_rounds`` rounds.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Literal

import attrs
import trio

from .._budget import Budget
from .._errors import ConfigurationError
from .._opener import async_context_only
from .._options import ClaudeAgentOptions
from .._session import Prompt, _prepare
from ..types import TurnResult
from ._agent import Agent
from ._core import TeamCore, TeamStatistics, check_named, check_options, open_core
from ._start import start_agents

__all__ = ["Debate", "DebateOutcome", "Entry", "open_debate"]

_AGREE = re.compile(r"^\s*AGREE\b", re.MULTILINE)


@attrs.frozen(kw_only=True)
class Entry:
    """One contribution to the transcript.

    Attributes:
        agent: Who spoke.
        round: The round (1-based).
        text: What they said.
        turn: The turn that produced it.
    """

    agent: str
    round: int
    text: str
    turn: TurnResult | None = attrs.field(default=None, repr=False)


@attrs.frozen(kw_only=True)
class DebateOutcome:
    """How a debate ended.

    Attributes:
        reason: ``"until"`` (the termination condition held), ``"quorum"`` or
            ``"max_rounds"``.
        rounds: Rounds started (the last one may be partial).
        transcript: Every entry, in order.
        votes: The agents whose latest entry was a vote when it ended.
    """

    reason: Literal["until", "quorum", "max_rounds"]
    rounds: int
    transcript: tuple[Entry, ...]
    votes: tuple[str, ...] = ()

    @property
    def last(self) -> Entry | None:
        """The last entry."""
        return self.transcript[-1] if self.transcript else None


def default_vote(entry: Entry) -> bool:
    """A line of the entry starts with ``AGREE`` (upper case)."""
    return _AGREE.search(entry.text) is not None


def default_prompt(agent: str, topic: str, new: Sequence[Entry], first: bool) -> str:
    """The prompt for ``agent``'s turn: the topic (first time) and what others said since."""
    parts = []
    if first:
        parts.append(f"Topic: {topic}\n\nYou are {agent!r}, taking turns with the others.")
    if new:
        parts.append(
            "Since your last turn:\n"
            + "\n\n".join(f"[{e.agent}, round {e.round}]\n{e.text}" for e in new)
        )
    parts.append("Your turn.")
    return "\n\n".join(parts)


PromptFn = Callable[[str, str, Sequence[Entry], bool], Prompt]


class Debate:
    """A ring of agents, made by :func:`open_debate`.

    Attributes:
        transcript: Every entry so far (also while :meth:`run` is in progress).
    """

    def __init__(
        self,
        core: TeamCore,
        ring: list[Agent],
        max_rounds: int,
        until: Callable[[Sequence[Entry]], bool] | None,
        quorum: int | None,
        vote: Callable[[Entry], bool],
        prompt: PromptFn,
    ) -> None:
        self._core = core
        self._ring = ring
        self._max_rounds = max_rounds
        self._until = until
        self._quorum = quorum
        self._vote = vote
        self._prompt = prompt
        self.transcript: list[Entry] = []

    @property
    def agents(self) -> Mapping[str, Agent]:
        """The agents, in ring order."""
        return self._core.agents

    def statistics(self) -> TeamStatistics:
        """Every agent's state, cost and tokens, and the totals."""
        return self._core.statistics()

    def cancel(self) -> None:
        """Cancels the debate: the running turn is interrupted; the block ends quietly."""
        self._core.cancel()

    async def run(self, topic: str) -> DebateOutcome:
        """Runs the debate on ``topic`` until it ends (see :func:`open_debate`).

        Raises:
            ResultError, ProcessError, ...: A turn failed (the debate cannot go on without
                that agent).
        """
        seen: dict[str, int] = {}
        latest: dict[str, Entry] = {}
        rounds = 0
        for round_number in range(1, self._max_rounds + 1):
            rounds = round_number
            for agent in self._ring:
                start = seen.get(agent.name)
                new = [e for e in self.transcript[start or 0 :] if e.agent != agent.name]
                prompt = self._prompt(agent.name, topic, new, start is None)
                turn = await agent.run(prompt)
                seen[agent.name] = len(self.transcript) + 1
                entry = Entry(agent=agent.name, round=round_number, text=turn.text, turn=turn)
                self.transcript.append(entry)
                latest[agent.name] = entry
                self._core.notify()
                votes = tuple(name for name, e in latest.items() if self._vote(e))
                if self._until is not None and self._until(tuple(self.transcript)):
                    return self._outcome("until", rounds, votes)
                if self._quorum is not None and len(votes) >= self._quorum:
                    return self._outcome("quorum", rounds, votes)
        votes = tuple(name for name, e in latest.items() if self._vote(e))
        await trio.lowlevel.checkpoint()
        return self._outcome("max_rounds", rounds, votes)

    def _outcome(
        self, reason: Literal["until", "quorum", "max_rounds"], rounds: int, votes: tuple[str, ...]
    ) -> DebateOutcome:
        return DebateOutcome(
            reason=reason, rounds=rounds, transcript=tuple(self.transcript), votes=votes
        )


@async_context_only("debate")
@asynccontextmanager
async def open_debate(
    agents: Mapping[str, ClaudeAgentOptions],
    *,
    max_rounds: int = 3,
    until: Callable[[Sequence[Entry]], bool] | None = None,
    quorum: int | None = None,
    vote: Callable[[Entry], bool] = default_vote,
    prompt: PromptFn = default_prompt,
    budget: Budget | None = None,
) -> AsyncIterator[Debate]:
    """Opens a ring of agents that take turns over a shared transcript.

    Args:
        agents: Name -> options, in speaking order (at least one).
        max_rounds: The most rounds (each agent speaks once per round).
        until: Checked after every entry with the whole transcript; ``True`` ends the debate.
        quorum: End once this many agents' latest entries are votes.
        vote: Whether an entry is a vote (default: a line starting with ``AGREE``).
        prompt: ``prompt(agent, topic, new_entries, first)`` builds each turn's prompt
            (default: :func:`default_prompt`).
        budget: Shared by every agent; when it runs out the block raises
            :class:`~trio_claude.BudgetExceededError`.

    Yields:
        The :class:`Debate`, every CLI started.

    Raises:
        ConfigurationError: Invalid options or arguments (before anything starts).
        AgentError: A CLI could not start.
        BudgetExceededError: The budget ran out.
    """
    check_named("open_debate's agents", agents)
    if not agents:
        raise ConfigurationError("open_debate needs at least one agent")
    if isinstance(max_rounds, bool) or not isinstance(max_rounds, int) or max_rounds < 1:
        raise ConfigurationError(f"max_rounds must be a positive integer, got {max_rounds!r}")
    if quorum is not None and (
        isinstance(quorum, bool) or not isinstance(quorum, int) or not 1 <= quorum <= len(agents)
    ):
        raise ConfigurationError(f"quorum must be between 1 and {len(agents)}, got {quorum!r}")
    for name, options in agents.items():
        await _prepare(check_options(name, options))
    async with open_core("debate", budget) as core:
        ring = [core.add_agent(name, options, "debater") for name, options in agents.items()]
        debate = Debate(core, ring, max_rounds, until, quorum, vote, prompt)
        await start_agents(core, ring)
        yield debate
