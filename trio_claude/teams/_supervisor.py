"""Supervisor: restart failed agents, resuming their conversations, within a restart budget.

::

    async with teams.open_supervisor(strategy="one_for_one", max_restarts=3, period=60) as sup:
        sup.start_agent("coder", coder_options, "Write the parser.")
        sup.start_agent("tester", tester_options, write_tests)      # async def write_tests(agent)
    # leaving the block waits for every child; sup.results has what each returned

Each agent child runs in a task of the supervisor's nursery, on an
:func:`~trio_claude.open_resumable_session` opened in that task's ``async with``. When its work
fails (its CLI was killed, crashed, stalled, hit an error result, or your work function raised)
the supervisor restarts it:

- ``"one_for_one"``: only the failed child is restarted.
- ``"one_for_all"``: every running child is restarted (their turns are interrupted first).

A restart runs the work again **on the same conversation**: the next turn starts a new CLI with
``--resume=<session id>`` (the model sees the earlier turns). A work given as a prompt is then
followed up with ``resume_prompt`` instead of being sent again; a work function sees
``agent.restarts > 0`` and decides. A child that returns is done and not restarted.

More than ``max_restarts`` restarts within ``period`` seconds escalate: every child is cancelled
and the block raises :class:`EscalationError`. A nested supervisor is a child too
(``start_child``): its escalation is a failure its parent handles, which makes a tree.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, Literal

import attrs
import trio

from .._budget import Budget
from .._errors import BudgetExceededError, ConfigurationError
from .._opener import async_context_only
from .._options import ClaudeAgentOptions, validate_options
from .._resumable import ResumableSession, open_resumable_session
from ._agent import Agent, AgentState
from ._core import Failure, TeamCore, TeamStatistics, open_core
from ._errors import EscalationError, TeamError

__all__ = ["DEFAULT_RESUME_PROMPT", "Strategy", "Supervisor", "Work", "open_supervisor"]

#: What a restarted prompt child is told (its conversation so far is resumed).
DEFAULT_RESUME_PROMPT = (
    "You were interrupted and have been restarted; the conversation so far is above. "
    "Continue the task where you left off."
)

#: The resumable session's own bound on respawns in a row: the supervisor's restart budget is
#: what bounds them (each respawn follows a failure the supervisor counted).
_UNBOUNDED = 2**31

#: How a supervisor restarts: only the failed child, or every running child.
Strategy = Literal["one_for_one", "one_for_all"]

#: An agent child's work: a prompt (one turn), or ``async def work(agent) -> result``.
Work = str | Callable[[Agent], Awaitable[Any]]


@attrs.define(eq=False)
class _Child:
    agent: Agent
    work: Work | None = None
    fn: Callable[[], Awaitable[Any]] | None = None
    resume_prompt: str = DEFAULT_RESUME_PROMPT
    scope: trio.CancelScope | None = None
    restart_requested: bool = False
    done: bool = False


class Supervisor:
    """A supervisor, made by :func:`open_supervisor`.

    Attributes:
        results: What each child returned (a prompt child: its :class:`~trio_claude.TurnResult`),
            by name, as they finish.
        failures: Every failure a child had, restarted or not, in order.
    """

    def __init__(
        self, core: TeamCore, strategy: Strategy, max_restarts: int, period: float
    ) -> None:
        self._core = core
        self._strategy = strategy
        self._max_restarts = max_restarts
        self._period = period
        self._children: dict[str, _Child] = {}
        self._restarts: deque[float] = deque()
        self._running = 0
        self.results: dict[str, Any] = {}
        self.failures: list[Failure] = core.failures

    @property
    def agents(self) -> Mapping[str, Agent]:
        """Every child, by name (plain children too; their state is tracked the same way)."""
        return self._core.agents

    def statistics(self) -> TeamStatistics:
        """Every child's state, restarts, cost and tokens, and the totals."""
        return self._core.statistics()

    def cancel(self) -> None:
        """Cancels every child; the block ends quietly."""
        self._core.cancel()

    def start_agent(
        self,
        name: str,
        options: ClaudeAgentOptions,
        work: Work,
        *,
        resume_prompt: str = DEFAULT_RESUME_PROMPT,
    ) -> Agent:
        """Starts a supervised agent child.

        Args:
            name: The child's name, unique in the supervisor.
            options: Its options. Its conversation survives its CLI (a resumable session).
            work: A prompt (the child is one turn), or ``async def work(agent)`` running any
                number of turns with ``await agent.run(...)``; what it returns goes to
                ``results``. On a restart it is called again: ``agent.restarts`` says how many
                times it was restarted, and the conversation (``agent.session_id``) is resumed.
            resume_prompt: Sent instead of a prompt ``work`` on a restart, once the
                conversation has a completed turn to resume.

        Returns:
            The child's :class:`Agent`.

        Raises:
            ConfigurationError: A duplicate name or invalid options.
            TeamError: The supervisor is closed.
        """
        if not (isinstance(work, str) or callable(work)):
            raise ConfigurationError(f"work must be a prompt or an async function, got {work!r}")
        self._core.check_open()
        validate_options(options)
        agent = self._core.add_agent(name, options, "worker")
        child = _Child(agent=agent, work=work, resume_prompt=resume_prompt)
        self._spawn(child, self._run_agent)
        return agent

    def start_child(self, name: str, fn: Callable[[], Awaitable[Any]]) -> Agent:
        """Starts a plain child: ``await fn()`` (a nested supervisor, say), restarted on failure.

        Its :class:`Agent` has no session of its own; its state, failures and restarts are
        tracked like an agent's.
        """
        if not callable(fn):
            raise ConfigurationError(f"fn must be an async function, got {fn!r}")
        self._core.check_open()
        agent = self._core.add_agent(name, ClaudeAgentOptions(), "child")
        self._spawn(_Child(agent=agent, fn=fn), self._run_plain)
        return agent

    async def wait(self, name: str) -> Any:
        """Waits until child ``name`` is done; returns what its work returned.

        Raises:
            KeyError: No such child.
            TeamError: The child will not finish (it escalated or the supervisor closed).
        """
        child = self._children[name]
        while not child.done:
            if self._core.closing or self._core.closed or self._core.fatal is not None:
                raise TeamError(f"child {name!r} did not finish")
            await self._core.wait_changed()
        await trio.lowlevel.checkpoint()
        return self.results.get(name)

    # ------------------------------------------------------------- internals

    def _spawn(self, child: _Child, runner: Callable[[_Child], Awaitable[None]]) -> None:
        self._children[child.agent.name] = child
        self._running += 1
        self._core.nursery.start_soon(runner, child, name=f"child:{child.agent.name}")

    async def _run_plain(self, child: _Child) -> None:
        try:
            await self._attempts(child, None)
        finally:
            self._running -= 1
            self._core.notify()

    async def _run_agent(self, child: _Child) -> None:
        agent = child.agent
        options = agent.options
        try:
            while not child.done:
                if agent.restarts == 0:
                    agent._set_state(AgentState.STARTING)
                try:
                    async with open_resumable_session(options, max_respawns=_UNBOUNDED) as session:
                        agent._attach(session)
                        try:
                            if not await self._attempts(child, session):
                                return  # escalated, or cancelled
                        finally:
                            agent._detach()
                except Exception as exc:  # the first CLI of the conversation did not start
                    if not self._on_failure(child, exc):
                        return
                    continue
                session_id = agent.session_id
                if not child.done and session_id is not None:
                    # The resumable session gave up on its CLIs: open a new one on the same
                    # conversation.
                    options = _resuming(options, session_id)
        finally:
            self._running -= 1
            self._core.notify()

    async def _attempts(self, child: _Child, session: ResumableSession | None) -> bool:
        """Runs the child's work until it is done (``True``), the session broke (``True``,
        not done), or the supervisor escalated (``False``)."""
        agent = child.agent
        while True:
            error: BaseException | None = None
            value: Any = None
            finished = False
            with trio.CancelScope() as scope:
                child.scope = scope
                if child.fn is not None:
                    agent._set_state(AgentState.RUNNING)
                try:
                    value = await self._work(child)
                    finished = True
                except Exception as exc:
                    error = exc
            child.scope = None
            if child.restart_requested:
                # A sibling failed under one_for_all: everyone starts over (resumed). A failure
                # of this child's own that raced with it is part of the same restart: kept in
                # ``failures``, not counted twice against the restart budget.
                child.restart_requested = False
                if error is not None and not isinstance(error, BudgetExceededError):
                    if agent.last_error is not error:
                        agent._note_failure(error)
                    self._core.record(agent.name, error)
                elif error is not None:
                    self._on_failure(child, error)
                    return False
                agent._note_restart()
                continue
            if finished:
                child.done = True
                self.results[agent.name] = value
                agent._set_state(AgentState.DONE)
                self._core.notify()
                return True
            if error is None:
                return False  # cancelled, not by a restart: the team is going away
            if not self._on_failure(child, error):
                return False
            if session is not None and session.closed:
                return True  # the resumable session is broken: reopen it
            # else: go round again on the same conversation

    async def _work(self, child: _Child) -> Any:
        if child.fn is not None:
            return await child.fn()
        agent = child.agent
        work = child.work
        if isinstance(work, str):
            resumed = agent.restarts > 0 and agent.turns > 0
            return await agent.run(child.resume_prompt if resumed else work)
        assert work is not None
        return await work(agent)

    def _on_failure(self, child: _Child, error: BaseException) -> bool:
        """Applies the restart policy to a failure; ``True`` means restart the child."""
        agent = child.agent
        if agent.last_error is not error:
            agent._note_failure(error)
        self._core.record(agent.name, error)
        if isinstance(error, BudgetExceededError):
            self._core.fail(error)  # a budget stops everyone: never restarted
            return False
        now = trio.current_time()
        window = self._restarts
        while window and window[0] <= now - self._period:
            window.popleft()
        if len(window) >= self._max_restarts:
            self._core.fail(EscalationError(agent.name, error, len(window)))
            return False
        window.append(now)
        if self._strategy == "one_for_all":
            for other in self._children.values():
                if other is not child and not other.done and other.scope is not None:
                    other.restart_requested = True
                    other.scope.cancel()
        agent._note_restart()
        return True

    async def _join(self) -> None:
        while self._running:
            await self._core.wait_changed()


def _resuming(options: ClaudeAgentOptions, session_id: str) -> ClaudeAgentOptions:
    return attrs.evolve(
        options,
        resume=session_id,
        fork_session=False,
        session_id=None,
        continue_conversation=False,
        resume_session_at=None,
        resume_drops_turn=None,
    )


@async_context_only("supervisor")
@asynccontextmanager
async def open_supervisor(
    *,
    strategy: Strategy = "one_for_one",
    max_restarts: int = 3,
    period: float = 60.0,
    budget: Budget | None = None,
) -> AsyncIterator[Supervisor]:
    """Opens a supervisor; leaving the block waits until every child is done.

    Args:
        strategy: ``"one_for_one"`` restarts the failed child; ``"one_for_all"`` restarts
            every running child.
        max_restarts: Restarts allowed within ``period``; one more failure escalates
            (``0``: the first failure escalates).
        period: The window, in seconds, over which restarts are counted.
        budget: Shared by every child; when it runs out nothing is restarted: the block
            raises :class:`~trio_claude.BudgetExceededError`.

    Yields:
        The :class:`Supervisor`.

    Raises:
        ConfigurationError: Invalid arguments.
        EscalationError: Too many restarts within ``period``.
        BudgetExceededError: The budget ran out.
    """
    if strategy not in ("one_for_one", "one_for_all"):
        raise ConfigurationError(f"strategy must be one_for_one or one_for_all, got {strategy!r}")
    if isinstance(max_restarts, bool) or not isinstance(max_restarts, int) or max_restarts < 0:
        raise ConfigurationError(f"max_restarts must be an integer >= 0, got {max_restarts!r}")
    if isinstance(period, bool) or not isinstance(period, (int, float)) or not period > 0:
        raise ConfigurationError(f"period must be a number > 0, got {period!r}")
    async with open_core("supervisor", budget) as core:
        supervisor = Supervisor(core, strategy, max_restarts, float(period))
        yield supervisor
        await supervisor._join()
