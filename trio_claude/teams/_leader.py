"""Leader and teammates: the lead delegates through in-process MCP tools.

::

    async with teams.open_team(
        lead_options,
        {"researcher": teams.Teammate(res_options, "finds sources"), "writer": writer_options},
    ) as team:
        turn = await team.run("Write a report on trio")   # the lead calls delegate(...)

The lead's options gain an in-process MCP server (``team`` by default) with two tools:

- ``delegate(teammate, task)``: runs one turn of ``task`` on that teammate and returns its
  answer. It is marked read-only, so the CLI runs several ``delegate`` calls of one model
  message **in parallel**; calls to the same teammate queue behind each other.
- ``list_teammates()``: the teammates' names and descriptions.

Every CLI (the lead's and the teammates') is started in the team's nursery when the block is
entered, and closed when it ends: a teammate cannot outlive its lead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, Literal

import attrs
import trio

from .._budget import Budget
from .._errors import ConfigurationError
from .._mcp import SdkMcpTool, ToolAnnotations, ToolResult, create_sdk_mcp_server, tool
from .._opener import async_context_only
from .._options import ClaudeAgentOptions
from .._redact import describe_exception, redact
from .._session import Prompt, _prepare
from ..types import TurnResult
from ._agent import Agent
from ._core import (
    Failure,
    TeamCore,
    TeamStatistics,
    check_named,
    check_options,
    check_policy,
    open_core,
)
from ._errors import TeamError
from ._start import start_agents

__all__ = ["Team", "Teammate", "open_team"]


@attrs.frozen
class Teammate:
    """A teammate's options and what the lead is told about it.

    Attributes:
        options: Its options (model, tools, system prompt, permission policy...).
        description: One line for the lead (``list_teammates`` and the tool's description).
    """

    options: ClaudeAgentOptions
    description: str = ""


class Team:
    """A lead and its teammates, made by :func:`open_team`.

    Attributes:
        lead: The lead agent (its options carry the team's MCP server).
        teammates: The teammates, by name.
        failures: Delegations that failed (each was also reported to the lead as an error
            result with ``on_error="report"``).
        tool_names: The tool names the lead sees (``mcp__<server>__delegate``, ...).
    """

    def __init__(
        self,
        core: TeamCore,
        lead: Agent,
        teammates: dict[str, Agent],
        on_error: str,
        max_parallel: int | None,
        tool_names: tuple[str, ...],
        descriptions: Mapping[str, str],
    ) -> None:
        self._core = core
        self.lead = lead
        self.teammates: Mapping[str, Agent] = teammates
        self.failures: list[Failure] = core.failures
        self.tool_names = tool_names
        self._descriptions = dict(descriptions)
        self._on_error = on_error
        self._limiter = trio.CapacityLimiter(max_parallel) if max_parallel else None
        # Delegations the lead's tool calls are running: cancelled with the lead's turn.
        self._tool_calls: set[trio.CancelScope] = set()
        lead._on_cancel.append(self._cancel_delegations)

    @property
    def agents(self) -> Mapping[str, Agent]:
        """The lead and every teammate, by name."""
        return self._core.agents

    def statistics(self) -> TeamStatistics:
        """Everyone's state, cost and tokens, and the totals."""
        return self._core.statistics()

    def cancel(self) -> None:
        """Cancels the team: every running turn is interrupted; the block ends quietly."""
        self._core.cancel()

    async def run(self, prompt: Prompt) -> TurnResult:
        """Runs one turn of the lead (which delegates through its tools).

        Cancelling it interrupts the lead's turn and every delegation it started.

        Raises:
            ResultError: The lead's turn ended with an error result.
            AgentError: A teammate failed with ``on_error="cancel"`` (from the block).
        """
        return await self.lead.run(prompt)

    def _cancel_delegations(self) -> None:
        """The lead's turn was cancelled (through ``run()`` or ``lead.run()``): its running
        delegations are cancelled too."""
        for scope in list(self._tool_calls):
            scope.cancel()

    async def delegate(self, teammate: str, task: Prompt) -> TurnResult:
        """Runs one turn of ``task`` on ``teammate`` (what the lead's ``delegate`` tool does).

        A failure is recorded in ``failures`` and raised; with ``on_error="cancel"`` it also
        cancels the team.

        Raises:
            TeamError: No such teammate, or the team is closed.
            WrongEventLoopError: Called from another ``trio.run``.
        """
        # Refused before anything is recorded: a closed team, another trio.run.
        self._core.check_open()
        agent = self.teammates.get(teammate)
        if agent is None:
            await trio.lowlevel.checkpoint()
            raise TeamError(
                f"no teammate named {teammate!r} (teammates: {', '.join(self.teammates)})"
            )
        try:
            if self._limiter is not None:
                async with self._limiter:
                    return await agent.run(task)
            return await agent.run(task)
        except Exception as exc:
            policy = "cancel" if self._on_error == "cancel" else "collect"
            self._core.handle(agent, exc, policy, task)
            raise

    def _describe(self) -> str:
        lines = []
        for name in self.teammates:
            description = self._descriptions.get(name) or ""
            lines.append(f"- {name}: {description}" if description else f"- {name}")
        return "\n".join(lines)

    async def _delegate_tool(self, args: dict[str, Any]) -> ToolResult | str:
        name = str(args.get("teammate", ""))
        task = str(args.get("task", ""))
        if self.lead._turn_given_up():
            # The lead's turn was given up, and its CLI asked before the interrupt reached it:
            # the teammate would work its whole turn for nobody.
            await trio.lowlevel.checkpoint()
            return ToolResult(content=[f"delegation to {name} was cancelled"], is_error=True)
        with self._core.tool_scope() as scope:
            self._tool_calls.add(scope)
            try:
                turn = await self.delegate(name, task)
            except Exception as exc:
                return ToolResult(
                    content=[f"delegation to {name} failed: {redact(describe_exception(exc))}"],
                    is_error=True,
                )
            finally:
                self._tool_calls.discard(scope)
        if scope.cancelled_caught:
            return ToolResult(content=[f"delegation to {name} was cancelled"], is_error=True)
        return turn.text

    def _tools(self) -> list[SdkMcpTool[Any]]:
        names = list(self.teammates)
        read_only = ToolAnnotations(read_only_hint=True)

        @tool(
            "delegate",
            "Give a task to a teammate and wait for the teammate's answer. Several delegate "
            "calls in one message run in parallel. Teammates:\n" + self._describe(),
            {
                "type": "object",
                "properties": {
                    "teammate": {"type": "string", "enum": names, "description": "who"},
                    "task": {"type": "string", "description": "the task, self-contained"},
                },
                "required": ["teammate", "task"],
            },
            annotations=read_only,
            always_load=True,
        )
        async def delegate(args: dict[str, Any]) -> ToolResult | str:
            return await self._delegate_tool(args)

        @tool(
            "list_teammates", "The teammates and what they do.", None, read_only, always_load=True
        )
        async def list_teammates(args: dict[str, Any]) -> str:
            await trio.lowlevel.checkpoint()
            return self._describe()

        return [delegate, list_teammates]


@async_context_only("team")
@asynccontextmanager
async def open_team(
    lead: ClaudeAgentOptions,
    teammates: Mapping[str, ClaudeAgentOptions | Teammate],
    *,
    lead_name: str = "lead",
    on_error: Literal["report", "cancel"] = "report",
    max_parallel: int | None = None,
    server_name: str = "team",
    budget: Budget | None = None,
) -> AsyncIterator[Team]:
    """Opens a lead and its teammates, every CLI started in the team's nursery.

    Args:
        lead: The lead's options; the team adds its MCP server (``server_name``) and allows its
            tools. ``mcp_servers`` must be a mapping (not a path).
        teammates: Name -> options, or name -> :class:`Teammate` (options and description).
        lead_name: The lead agent's name.
        on_error: ``"report"``: a failed delegation is recorded in ``failures`` and the lead
            gets an error tool result (the model decides what to do). ``"cancel"``: it cancels
            the team and the block raises :class:`AgentError`.
        max_parallel: At most this many delegations run at once (``None``: no bound beyond
            one turn per teammate at a time).
        server_name: The MCP server key (tools are ``mcp__<server_name>__delegate``, ...).
        budget: Shared by the lead and the teammates; when it runs out every turn stops and
            the block raises :class:`~trio_claude.BudgetExceededError`.

    Yields:
        The :class:`Team`, every CLI started and initialised.

    Raises:
        ConfigurationError: Invalid options or arguments (before anything starts).
        AgentError: A CLI could not start (naming the agent), or a teammate failed with
            ``on_error="cancel"``.
        BudgetExceededError: The budget ran out.
    """
    check_policy(on_error, ("report", "cancel"))
    check_named("open_team's teammates", teammates)
    if not teammates:
        raise ConfigurationError("open_team needs at least one teammate")
    if max_parallel is not None and (
        isinstance(max_parallel, bool) or not isinstance(max_parallel, int) or max_parallel < 1
    ):
        raise ConfigurationError(f"max_parallel must be a positive integer, got {max_parallel!r}")
    check_options(lead_name, lead)
    if not isinstance(lead.mcp_servers, Mapping):
        raise ConfigurationError("open_team: the lead's mcp_servers must be a mapping")
    if server_name in lead.mcp_servers:
        raise ConfigurationError(f"the lead already has an MCP server named {server_name!r}")
    specs: dict[str, Teammate] = {}
    for name, spec in teammates.items():
        specs[name] = spec if isinstance(spec, Teammate) else Teammate(spec)
        check_options(name, specs[name].options)
    if lead_name in specs:
        raise ConfigurationError(f"a teammate is named like the lead ({lead_name!r})")
    for options in (lead, *(s.options for s in specs.values())):
        await _prepare(options)
    async with open_core("team", budget) as core:
        teammate_agents = {
            name: core.add_agent(name, spec.options, "teammate") for name, spec in specs.items()
        }
        tool_names = (f"mcp__{server_name}__delegate", f"mcp__{server_name}__list_teammates")
        # The lead's agent exists before its options are final: the tools need the team.
        lead_agent = core.add_agent(lead_name, lead, "lead")
        descriptions = {name: spec.description for name, spec in specs.items()}
        team = Team(
            core, lead_agent, teammate_agents, on_error, max_parallel, tool_names, descriptions
        )
        server = create_sdk_mcp_server(server_name, tools=team._tools())
        lead_agent._set_options(
            attrs.evolve(
                lead_agent.options,
                mcp_servers={**lead.mcp_servers, server_name: server},
                allowed_tools=(*lead.allowed_tools, *tool_names),
            )
        )
        await start_agents(core, [lead_agent, *teammate_agents.values()])
        yield team
