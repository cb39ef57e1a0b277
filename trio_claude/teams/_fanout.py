"""Map-reduce: N prompts over N sessions, at most ``limit`` at once, results as they finish.

::

    async with teams.open_fanout(options, limit=4, budget=tc.Budget(max_usd=1)) as fan:
        for topic in topics:
            fan.submit(f"Research {topic}")
        async for outcome in fan.results():     # as they finish
            print(outcome.agent, outcome.text)

Each submitted prompt is a task of the team's nursery with a session of its own, opened in the
task's ``async with`` once a slot is free and closed when its turn is over. Leaving the block
waits for every task (a nursery's rule); ``cancel()`` stops them all.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import attrs
import trio

from .._budget import Budget
from .._errors import ConfigurationError
from .._opener import async_context_only
from .._options import ClaudeAgentOptions, validate_options
from .._session import Prompt, _prepare, open_session
from ..types import TurnResult
from ._agent import ACTIVE_STATES, Agent, AgentState
from ._core import (
    ErrorPolicy,
    Failure,
    TeamCore,
    TeamStatistics,
    check_options,
    check_policy,
    open_core,
)

__all__ = ["FanOut", "Outcome", "OutcomeStream", "open_fanout"]


@attrs.frozen(kw_only=True)
class Outcome:
    """How one fan-out task ended.

    Attributes:
        agent: The task's agent name.
        index: Its position in submission order (0-based).
        prompt: What was asked.
        turn: The turn, when it succeeded.
        error: What it failed with, when it failed.
    """

    agent: str
    index: int
    prompt: Prompt
    turn: TurnResult | None = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        """Whether the task succeeded."""
        return self.turn is not None

    @property
    def text(self) -> str:
        """The answer's text (``""`` for a failed task)."""
        return self.turn.text if self.turn is not None else ""


class OutcomeStream:
    """Outcomes as tasks finish (``fan.results()``): an async iterator, not a generator.

    It owns no task and no cancel scope. It ends once every task submitted so far has finished
    and its outcome was delivered, or once the fan-out is closed (tasks that never got a slot
    then end ``CANCELLED`` without an outcome); tasks submitted while iterating are included.
    Several streams share one queue: each outcome is delivered once. Iterating from another
    ``trio.run`` raises ``WrongEventLoopError`` before an outcome is taken.
    """

    def __init__(self, fan: FanOut) -> None:
        self._fan = fan

    def __aiter__(self) -> OutcomeStream:
        return self

    async def __anext__(self) -> Outcome:
        fan = self._fan
        fan._core.check_loop()  # before an outcome is taken: another run's would be lost
        while True:
            # Checked again after the checkpoint: another stream (another task) may have taken
            # the outcome, or a task been submitted, meanwhile.
            done = fan._outstanding == 0 or fan._core.closed
            if fan._ready or done:
                await trio.lowlevel.checkpoint()
                if fan._ready:
                    return fan._ready.popleft()
                if fan._outstanding == 0 or fan._core.closed:
                    raise StopAsyncIteration
                continue
            await fan._core.wait_changed()


class FanOut:
    """A fan-out team, made by :func:`open_fanout`.

    Attributes:
        failures: Failed tasks, in the order they failed (``on_error="collect"`` keeps going).
    """

    def __init__(
        self,
        core: TeamCore,
        options: ClaudeAgentOptions,
        limit: int,
        on_error: ErrorPolicy,
    ) -> None:
        self._core = core
        self._options = options
        self._limit = limit
        self._on_error = on_error
        # Tasks start in submission order as slots free up; a pending one has no task yet.
        self._pending: deque[tuple[Agent, Prompt, int]] = deque()
        self._active = 0
        self._outstanding = 0
        self._ready: deque[Outcome] = deque()
        self._outcomes: list[Outcome | None] = []
        # Options objects already validated (kept, so that their ids stay theirs).
        self._validated: dict[int, ClaudeAgentOptions] = {id(options): options}
        self.failures: list[Failure] = core.failures

    @property
    def agents(self) -> Mapping[str, Agent]:
        """Every task's agent, by name, in submission order."""
        return self._core.agents

    def submit(
        self,
        prompt: Prompt,
        *,
        name: str | None = None,
        options: ClaudeAgentOptions | None = None,
    ) -> Agent:
        """Starts a task: one turn of ``prompt`` on a fresh session, once a slot is free.

        Args:
            prompt: What to ask.
            name: The task's agent name (default ``task-<n>``).
            options: This task's options (default: the fan-out's). The team's budget applies.

        Returns:
            The task's :class:`Agent` (``PENDING`` until a slot is free).

        Raises:
            ConfigurationError: Invalid options or a duplicate name.
            TeamError: The fan-out is closed.
        """
        self._core.check_open()
        index = len(self._outcomes)
        if options is not None and id(options) not in self._validated:
            validate_options(options)  # fail here, not in the task (once per options object)
            self._validated[id(options)] = options
        agent = self._core.add_agent(
            name if name is not None else f"task-{index}", options or self._options, "task"
        )
        self._outcomes.append(None)
        self._outstanding += 1
        self._pending.append((agent, prompt, index))
        self._fill()
        return agent

    def results(self) -> OutcomeStream:
        """Outcomes as tasks finish (failures included with ``on_error="collect"``)."""
        return OutcomeStream(self)

    async def gather(self) -> list[Outcome]:
        """Waits for every task submitted so far; returns all outcomes in submission order.

        Outcomes already taken from :meth:`results` are included too. Once the fan-out is
        closed (cancelled, say) it returns the outcomes there are: tasks that never got a slot
        have none.
        """
        while self._outstanding and not self._core.closed:
            await self._core.wait_changed()
        await trio.lowlevel.checkpoint()
        return [o for o in self._outcomes if o is not None]

    def statistics(self) -> TeamStatistics:
        """Every task's state, cost and tokens, and the totals."""
        return self._core.statistics()

    def cancel(self) -> None:
        """Cancels every task; the block then ends without an error."""
        self._core.cancel()

    def _fill(self) -> None:
        """Starts pending tasks, in submission order, while slots are free."""
        core = self._core
        while self._pending and self._active < self._limit:
            if core.closing or core.nursery.cancel_scope.cancel_called:
                self._drop_pending()
                return
            agent, prompt, index = self._pending.popleft()
            self._active += 1
            core.nursery.start_soon(self._task, agent, prompt, index, name=f"fanout:{agent.name}")

    def _drop_pending(self) -> None:
        """The team is cancelled or closing: tasks still waiting for a slot never start. They
        stop counting as outstanding (gather() and results() waited for them for ever)."""
        while self._pending:
            agent, _, _ = self._pending.popleft()
            if agent.state is AgentState.PENDING:
                agent._set_state(AgentState.CANCELLED)
            self._outstanding -= 1
        self._core.notify()

    async def _task(self, agent: Agent, prompt: Prompt, index: int) -> None:
        outcome: Outcome | None = None
        started = False
        try:
            budget = self._core.budget
            if budget is not None:
                budget.check()
            agent._set_state(AgentState.STARTING)
            try:
                async with open_session(agent.options) as session:
                    agent._attach(session)
                    started = True
                    turn = await agent.run(prompt)
            finally:
                agent._detach()
            agent._set_state(AgentState.DONE)
            outcome = Outcome(agent=agent.name, index=index, prompt=prompt, turn=turn)
        except Exception as exc:
            if not started or agent.state is not AgentState.FAILED:
                agent._note_failure(exc)
            self._core.handle(agent, exc, self._on_error, prompt)
            outcome = Outcome(agent=agent.name, index=index, prompt=prompt, error=exc)
        finally:
            if outcome is not None:
                self._outcomes[index] = outcome
                self._ready.append(outcome)
            elif agent.state in ACTIVE_STATES or agent.state is AgentState.PENDING:
                agent._set_state(AgentState.CANCELLED)
            self._active -= 1
            self._outstanding -= 1
            self._fill()
            self._core.notify()

    async def _join(self) -> None:
        while self._outstanding:
            await self._core.wait_changed()


@async_context_only("fanout")
@asynccontextmanager
async def open_fanout(
    options: ClaudeAgentOptions | None = None,
    *,
    limit: int = 4,
    on_error: ErrorPolicy = "cancel",
    budget: Budget | None = None,
) -> AsyncIterator[FanOut]:
    """Opens a fan-out team: prompts over fresh sessions, ``limit`` at a time.

    Args:
        options: The tasks' default options (each ``submit`` may give its own).
        limit: How many tasks (so CLIs) run at once.
        on_error: ``"cancel"``: the first failure cancels every task and the block raises
            :class:`AgentError`. ``"collect"``: failures are delivered as outcomes
            (``outcome.error``) and kept in ``failures``; the other tasks go on.
        budget: Shared by every task; when it runs out every task stops and the block raises
            :class:`~trio_claude.BudgetExceededError` (whatever ``on_error`` says).

    Yields:
        The :class:`FanOut`.

    Raises:
        ConfigurationError: Invalid options or arguments (before anything starts).
        CLINotFoundError: No CLI found (before anything starts).
        AgentError: A task failed under ``on_error="cancel"``.
        BudgetExceededError: The budget ran out.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ConfigurationError(f"limit must be a positive integer, got {limit!r}")
    check_policy(on_error)
    if options is None:
        options = ClaudeAgentOptions()
    await _prepare(
        check_options("fanout", options)
    )  # bad options or no CLI: fail before anything starts
    async with open_core("fanout", budget) as core:
        fan = FanOut(core, options, limit, on_error)
        yield fan
        await fan._join()
