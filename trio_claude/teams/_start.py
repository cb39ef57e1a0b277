"""Starting a team's long-lived agents: every CLI at once, in the team's nursery."""

from __future__ import annotations

from collections.abc import Sequence

import trio

from .._session import _connect, _prepare
from ._agent import Agent, AgentState
from ._core import TeamCore
from ._errors import AgentError

__all__ = ["start_agents"]


async def start_agents(core: TeamCore, agents: Sequence[Agent]) -> None:
    """Starts a session for each agent, concurrently; their tasks live in the team's nursery.

    Raises:
        AgentError: A CLI could not start (the first such failure; the team's teardown
            closes the CLIs that did start).
    """
    failed: list[tuple[Agent, BaseException]] = []

    async def start(agent: Agent) -> None:
        agent._set_state(AgentState.STARTING)
        try:
            session = await _connect(core.nursery, await _prepare(agent.options))
        except Exception as exc:
            agent._note_failure(exc)
            failed.append((agent, exc))
            return
        agent._attach(session)

    async with trio.open_nursery() as nursery:
        for agent in agents:
            nursery.start_soon(start, agent, name=f"start:{agent.name}")
    if failed:
        agent, error = failed[0]
        core.record(agent.name, error)
        raise AgentError(agent.name, error)
