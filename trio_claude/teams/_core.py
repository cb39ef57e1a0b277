"""What every team shape shares: one nursery, its agents, their failures, the budget, teardown.

:func:`open_core` is the skeleton of every ``open_*`` of the package::

    budget.scope()                          (when the team has a budget: it stops everyone)
    └── async with trio.open_nursery():     the team's nursery: every agent's CLI lives here
        ├── the shape's tasks (fan-out tasks, pipeline workers, supervised children, ...)
        ├── the sessions' own tasks (readers, writers, tool calls)
        └── the body of your ``async with``
        finally (shielded): cancel the tool calls in flight, cancel the nursery, close every
        session concurrently (each close is bounded: interrupt, drain, stdin, TERM, KILL)

Failures never escape as raw task exceptions: the shape catches them and hands them to
:meth:`TeamCore.fail` (fatal: the nursery is cancelled and the block raises that one error)
or :meth:`TeamCore.record` (kept in ``failures`` and reported by the shape).
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from typing import Literal

import attrs
import trio

from .._budget import Budget, BudgetSpent
from .._errors import BudgetExceededError, ConfigurationError
from .._loop import check_loop
from .._options import ClaudeAgentOptions
from .._util import BodyError, raise_collapsed
from ._agent import ACTIVE_STATES, Agent, AgentState, AgentStatistics, Backend
from ._errors import AgentError, TeamError

if sys.version_info < (3, 11):  # pragma: no cover - trio depends on the backport there
    from exceptiongroup import BaseExceptionGroup

__all__ = [
    "ErrorPolicy",
    "Failure",
    "TeamCore",
    "TeamStatistics",
    "check_options",
    "check_policy",
    "open_core",
    "with_budget",
]

#: What a shape does with an agent's failure: ``"cancel"`` cancels the whole team and the
#: ``async with`` raises :class:`AgentError`; ``"collect"`` keeps it in ``failures`` (and
#: reports it where the shape says) while the others go on.
ErrorPolicy = Literal["cancel", "collect"]


@attrs.frozen(kw_only=True)
class Failure:
    """A failure a team recorded (see the ``failures`` attribute of each shape).

    Attributes:
        agent: The agent that failed.
        error: What it failed with.
        item: What it was working on (the prompt, the pipeline item...), if anything.
        at: ``trio.current_time()`` when it was recorded.
    """

    agent: str
    error: BaseException
    item: object = None
    at: float = 0.0


@attrs.frozen(kw_only=True)
class TeamStatistics:
    """A snapshot of a team (see ``statistics()`` of each shape).

    The totals are the sums over ``agents`` (agents that have finished included).

    Attributes:
        kind: The shape (``"fanout"``, ``"pipeline"``, ``"team"``, ``"supervisor"``,
            ``"blackboard"``, ``"debate"``).
        agents: Every agent's snapshot, by name, in the order they were added.
        states: How many agents are in each state (states with none are left out).
        cost_usd: Dollars, summed over the agents.
        tokens: Tokens, summed over the agents.
        turns: Completed turns, summed over the agents.
        model_calls: Model responses, summed over the agents.
        failures: Failed turns and starts, summed over the agents.
        restarts: Supervisor restarts, summed over the agents.
        live_processes: Agents with a live CLI right now.
        budget: What the team's budget has been charged (``None`` without one). The budget is
            charged for every message the CLIs send, including the rest of turns that were
            abandoned, so it can exceed the totals, which count what the agents received.
        closed: Whether the team's block is over.
    """

    kind: str
    agents: Mapping[str, AgentStatistics]
    states: Mapping[AgentState, int]
    cost_usd: float
    tokens: int
    turns: int
    model_calls: int
    failures: int
    restarts: int
    live_processes: int
    budget: BudgetSpent | None
    closed: bool


def check_policy(on_error: str, allowed: tuple[str, ...] = ("cancel", "collect")) -> None:
    """Raises :class:`~trio_claude.ConfigurationError` for an unknown error policy."""
    if on_error not in allowed:
        raise ConfigurationError(f"on_error must be one of {allowed}, got {on_error!r}")


def check_options(name: str, options: object) -> ClaudeAgentOptions:
    """``options`` if they are :class:`~trio_claude.ClaudeAgentOptions`, else a typed error."""
    if not isinstance(options, ClaudeAgentOptions):
        raise ConfigurationError(
            f"agent {name!r}: expected ClaudeAgentOptions, got {type(options).__name__}"
        )
    return options


def check_named(what: str, value: object) -> None:
    """A typed error unless ``value`` is a mapping of names (``what`` names the argument): a
    list of options, the easy mistake, failed with an ``AttributeError`` about ``items``."""
    if not isinstance(value, Mapping):
        raise ConfigurationError(
            f"{what} must be a dict of name to options ({{'alice': options, ...}}), got "
            f"{type(value).__name__}"
        )


def with_budget(options: ClaudeAgentOptions, budget: Budget | None) -> ClaudeAgentOptions:
    """``options`` charged to the team's budget (an agent's own budget is replaced)."""
    if budget is None or options.budget is budget:
        return options
    return attrs.evolve(options, budget=budget)


class TeamCore:
    """The state every shape shares. Internal: the shapes wrap it in their public class."""

    def __init__(self, kind: str, budget: Budget | None) -> None:
        self.kind = kind
        self.budget = budget
        self.agents: dict[str, Agent] = {}
        self.failures: list[Failure] = []
        self.fatal: BaseException | None = None
        self.closed = False
        self.closing = False
        self._nursery: trio.Nursery | None = None
        self._changed = trio.Event()
        self._tool_scopes: set[trio.CancelScope] = set()
        # The trio.run the team's tasks live in: work is refused from any other.
        self._token = trio.lowlevel.current_trio_token()

    # ------------------------------------------------------------- structure

    @property
    def nursery(self) -> trio.Nursery:
        """The team's nursery (every agent's CLI and every shape task lives in it)."""
        self.check_loop()
        assert self._nursery is not None, "the team is not open"
        return self._nursery

    def add_agent(self, name: str, options: ClaudeAgentOptions, role: str) -> Agent:
        """A new agent charged to the team's budget; names are unique within a team."""
        if not isinstance(name, str) or not name:
            raise ConfigurationError(f"an agent needs a non-empty name, got {name!r}")
        if name in self.agents:
            raise ConfigurationError(f"two agents of this team are named {name!r}")
        check_options(name, options)
        agent = Agent(self, name, with_budget(options, self.budget), role)
        self.agents[name] = agent
        self.notify()
        return agent

    def check_open(self) -> None:
        """Raises :class:`TeamError` if the team no longer takes work (and
        :class:`~trio_claude.WrongEventLoopError` if called from another ``trio.run``)."""
        self.check_loop()
        if self.closing or self.closed:
            raise TeamError(f"the {self.kind} is closed")

    # -------------------------------------------------------------- failures

    def fail(self, error: BaseException) -> None:
        """A fatal failure: the first one is what the block raises; the team is cancelled."""
        if self.fatal is None:
            self.fatal = error
        if self._nursery is not None:
            self._nursery.cancel_scope.cancel()

    def record(self, agent: str, error: BaseException, item: object = None) -> Failure:
        """Keeps a failure the policy does not make fatal."""
        failure = Failure(agent=agent, error=error, item=item, at=trio.current_time())
        self.failures.append(failure)
        self.notify()
        return failure

    def handle(
        self, agent: Agent, error: BaseException, on_error: str, item: object = None
    ) -> Failure | None:
        """Applies the error policy to ``agent``'s ``error``.

        A :class:`~trio_claude.BudgetExceededError` is always fatal and raised as is (the
        budget stops everyone). Otherwise ``"cancel"`` makes it fatal as an
        :class:`AgentError`, ``"collect"`` records it.

        Returns:
            The recorded failure, or ``None`` when it was fatal.
        """
        if isinstance(error, BudgetExceededError):
            self.record(agent.name, error, item)
            self.fail(error)
            return None
        failure = self.record(agent.name, error, item)
        if on_error == "cancel":
            self.fail(AgentError(agent.name, error))
            return None
        return failure

    def cancel(self) -> None:
        """Cancels the whole team: every running turn is interrupted, every CLI closed."""
        self.check_loop()
        if self._nursery is not None:
            self._nursery.cancel_scope.cancel()

    # ------------------------------------------------------------ tool calls

    @contextmanager
    def tool_scope(self) -> Iterator[trio.CancelScope]:
        """A cancel scope for a tool call's wait, cancelled when the team closes.

        In-process tool handlers run in their session's own (shielded) tasks, so the team's
        cancellation does not reach them by itself.
        """
        with trio.CancelScope() as scope:
            if self.closing or self.closed:
                scope.cancel()
            self._tool_scopes.add(scope)
            try:
                yield scope
            finally:
                self._tool_scopes.discard(scope)

    # --------------------------------------------------------------- changes

    def notify(self) -> None:
        """Wakes whoever waits for a change (of a state, a result, a failure)."""
        self._changed.set()
        self._changed = trio.Event()

    async def wait_changed(self) -> None:
        """Waits for the next :meth:`notify`."""
        self.check_loop()
        await self._changed.wait()

    def check_loop(self) -> None:
        """Refuses a call from another ``trio.run`` (or asyncio) before it changes anything."""
        check_loop(self._token, f"this {self.kind}")

    # ------------------------------------------------------------ statistics

    def statistics(self) -> TeamStatistics:
        """Every agent's snapshot and the team's totals."""
        agents = {name: agent.statistics() for name, agent in self.agents.items()}
        states: dict[AgentState, int] = {}
        for stats in agents.values():
            states[stats.state] = states.get(stats.state, 0) + 1
        values = list(agents.values())
        return TeamStatistics(
            kind=self.kind,
            agents=agents,
            states=states,
            cost_usd=sum(s.cost_usd for s in values),
            tokens=sum(s.tokens for s in values),
            turns=sum(s.turns for s in values),
            model_calls=sum(s.model_calls for s in values),
            failures=sum(s.failures for s in values),
            restarts=sum(s.restarts for s in values),
            live_processes=sum(1 for s in values if s.connected),
            budget=self.budget.spent if self.budget is not None else None,
            closed=self.closed,
        )

    # --------------------------------------------------------------- teardown

    async def aclose(self) -> None:
        """Stops everything: tool calls, shape tasks, every session. Call it shielded."""
        self.closing = True
        for scope in list(self._tool_scopes):
            scope.cancel()
        self.cancel()
        backends: list[Backend] = []
        for agent in self.agents.values():
            backend = agent.session
            if backend is not None:
                backends.append(backend)
        if backends:
            # Each close is shielded and bounded by the session's own timeouts; together they
            # take as long as the slowest one.
            async with trio.open_nursery() as nursery:
                for backend in backends:
                    nursery.start_soon(backend.aclose)

    def finalize(self) -> None:
        """Once every task of the team is over: every agent gets its final state."""
        for agent in self.agents.values():
            state = agent.state
            if agent.session is not None:
                agent._detach()
            if state in ACTIVE_STATES or state is AgentState.PENDING:
                agent._set_state(AgentState.CANCELLED)
            elif state is AgentState.IDLE:
                agent._set_state(AgentState.DONE)
        self.closed = True
        self.notify()


@asynccontextmanager
async def open_core(kind: str, budget: Budget | None) -> AsyncIterator[TeamCore]:
    """The team's nursery, budget scope and shielded teardown (see the module docstring).

    Raises (on leaving):
        The body's own exception; else the first fatal failure (:class:`AgentError`,
        :class:`~trio_claude.BudgetExceededError`, :class:`EscalationError`, or a user
        callback's exception). A cancellation of the team by ``cancel()`` ends the block
        quietly, as a nursery's would.
    """
    if budget is not None and not isinstance(budget, Budget):
        raise ConfigurationError(f"budget must be a trio_claude.Budget, got {budget!r}")
    core = TeamCore(kind, budget)
    body = BodyError()
    try:
        with _budget_scope(core):
            try:
                async with trio.open_nursery() as nursery:
                    core._nursery = nursery
                    try:
                        with body:
                            yield core
                    finally:
                        with trio.CancelScope(shield=True):
                            await core.aclose()
            finally:
                core.finalize()  # every task is over: no agent can change state any more
    except BaseExceptionGroup as group:
        # The body's own exception, or a cancellation from outside (which must reach its
        # scope as a Cancelled): never a group of one.
        raise_collapsed(group, body.error)
    if core.fatal is not None:
        raise core.fatal


@contextmanager
def _budget_scope(core: TeamCore) -> Iterator[None]:
    """With a budget: its scope (seconds included), and a fatal error when it runs out."""
    budget = core.budget
    if budget is None:
        yield
        return

    def exceeded(error: BudgetExceededError) -> None:
        core.fail(BudgetExceededError(error.dimension, error.spent, error.limit))

    budget._subscribe(exceeded)
    try:
        with budget.scope():
            if budget.exceeded is not None:
                core.fail(budget.exceeded)
            yield
    finally:
        budget._unsubscribe(exceeded)
