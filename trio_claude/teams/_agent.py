"""One member of a team: a named session with an observable state, its cost and its tokens.

An :class:`Agent` does not own its CLI: the team shape that made it attaches a session (a plain
:class:`~trio_claude.Session`, or a :class:`~trio_claude.ResumableSession` under a supervisor)
whose tasks live in the team's nursery, and detaches it when the session closes. The agent runs
turns on it one at a time (:meth:`Agent.run`), watching the messages go by so that its state
(running, waiting on a tool, ...) and its spending are known at any moment.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs
import trio

from .._errors import CLIConnectionError, SessionClosedError, result_error
from .._options import ClaudeAgentOptions
from .._protocol._lifecycle import LifecycleState, UsageMeter
from .._resumable import ResumableSession
from .._session import Prompt, Session
from ..types import (
    AssistantMessage,
    Message,
    ResultMessage,
    ToolResultBlock,
    ToolUseBlock,
    TurnResult,
    UnknownMessage,
    UserMessage,
)

if TYPE_CHECKING:
    from ._core import TeamCore

__all__ = ["Agent", "AgentState", "AgentStatistics"]

Backend = Session | ResumableSession


class AgentState(enum.Enum):
    """Where an agent of a team is (see :attr:`Agent.state`)."""

    #: Created, not started yet (a fan-out task waiting for a free slot, say).
    PENDING = "pending"
    #: Its CLI is being started.
    STARTING = "starting"
    #: Its session is up and no turn is running.
    IDLE = "idle"
    #: A turn is running (the model is working).
    RUNNING = "running"
    #: A turn is running and waits for a tool call to finish (a delegation, a blackboard
    #: wait, a Bash command...).
    WAITING_ON_TOOL = "waiting_on_tool"
    #: Finished its work; its CLI is gone or going.
    DONE = "done"
    #: Its last turn (or its start) failed; ``last_error`` says why.
    FAILED = "failed"
    #: Its work was cancelled (the team was cancelled, or a turn was abandoned).
    CANCELLED = "cancelled"
    #: A supervisor is restarting it (its conversation will be resumed).
    RESTARTING = "restarting"


#: States in which an agent has work in progress.
ACTIVE_STATES = frozenset(
    {AgentState.STARTING, AgentState.RUNNING, AgentState.WAITING_ON_TOOL, AgentState.RESTARTING}
)
#: States an agent can end in once its team is closed.
FINAL_STATES = frozenset({AgentState.DONE, AgentState.FAILED, AgentState.CANCELLED})


@attrs.frozen(kw_only=True)
class AgentStatistics:
    """A snapshot of one agent (see :meth:`Agent.statistics`).

    Attributes:
        name: The agent's name, unique in its team.
        role: What it is in its team (``"task"``, ``"stage"``, ``"lead"``, ``"teammate"``,
            ``"child"``, ``"member"``, ``"debater"``).
        state: Its :class:`AgentState`.
        turns: Turns it completed successfully.
        failures: Turns (or starts) that failed.
        restarts: How many times a supervisor restarted it.
        cost_usd: Dollars its CLIs reported, for the turns it received and for those given up
            (cancelled, or stopped by the budget) whose results the session read.
        tokens: Input + output + cache tokens of those turns (counted as the budget counts;
            those of turns given up only with a budget, which meters them).
        model_calls: Model responses (API calls) seen.
        tools_running: Tool calls of the running turn not answered yet.
        pid: The pid of its live CLI (``None`` when none is attached, and on an
            official-style transport, which has no local process).
        session_id: Its conversation's session id (kept after the CLI is gone).
        last_error: The last error one of its turns (or starts) raised.
        connected: Whether a live CLI is attached (on any transport).
    """

    name: str
    role: str
    state: AgentState
    turns: int
    failures: int
    restarts: int
    cost_usd: float
    tokens: int
    model_calls: int
    tools_running: int
    pid: int | None
    session_id: str | None
    last_error: BaseException | None
    connected: bool = False


class Agent:
    """A member of a team: a name, its options, its session, its state and its spending.

    Made by the team shapes (do not instantiate it). Its :meth:`run` is how turns are run on
    it, by the shape or by you; turns of one agent never overlap (they queue).

    Attributes:
        name: The agent's name, unique in its team.
        role: What it is in its team (see :class:`AgentStatistics`).
    """

    def __init__(self, core: TeamCore, name: str, options: ClaudeAgentOptions, role: str) -> None:
        self.name = name
        self.role = role
        self._core = core
        self._options = options
        self._state = AgentState.PENDING
        self._backend: Backend | None = None
        # Called when a turn of the agent is cancelled (a team's lead: stop its delegations).
        self._on_cancel: list[Callable[[], None]] = []
        self._lock = trio.Lock()
        self._turns = 0
        self._failures = 0
        self._restarts = 0
        self._cost = 0.0
        self._tokens = 0
        self._model_calls = 0
        self._tools: set[str] = set()
        self._meter = UsageMeter()
        self._meter_owner: object = None
        # Cost, per CLI process (the CLI reports it cumulatively): what the current process
        # reported last, what the previous one of the conversation did, and their token totals.
        self._reported = 0.0
        self._previous_reported = 0.0
        self._process_tokens = 0
        self._model_tokens = 0
        self._previous_model_tokens = 0
        self._first_result = True
        self._resumed_process = False
        self._last_error: BaseException | None = None
        self._session_id: str | None = None

    def __repr__(self) -> str:
        return f"<Agent {self.name!r} ({self.role}) {self._state.value}>"

    # ---------------------------------------------------------------- public

    @property
    def options(self) -> ClaudeAgentOptions:
        """The options its CLI is started with (the team's additions included)."""
        return self._options

    @property
    def state(self) -> AgentState:
        """Where the agent is right now."""
        return self._state

    @property
    def session(self) -> Backend | None:
        """Its live session (``None`` before it starts and after it closes). Do not keep it."""
        return self._backend

    @property
    def pid(self) -> int | None:
        """The pid of its live CLI, or ``None`` (also on an official-style transport)."""
        return self._backend.pid if self.connected and self._backend is not None else None

    @property
    def connected(self) -> bool:
        """Whether a live CLI is attached (on any transport, one without a pid included)."""
        backend = self._backend
        if isinstance(backend, ResumableSession):
            return backend.connected
        return backend is not None and backend.lifecycle not in _NOT_LIVE

    @property
    def session_id(self) -> str | None:
        """Its conversation's session id (``None`` until the CLI reports one)."""
        backend = self._backend
        if backend is not None and backend.session_id is not None:
            self._session_id = backend.session_id
        return self._session_id

    @property
    def restarts(self) -> int:
        """How many times a supervisor restarted it (``0`` on the first attempt)."""
        return self._restarts

    @property
    def turns(self) -> int:
        """Turns it completed successfully."""
        return self._turns

    @property
    def last_error(self) -> BaseException | None:
        """The last error one of its turns (or its start) raised."""
        return self._last_error

    def statistics(self) -> AgentStatistics:
        """A snapshot of its state, counters and spending."""
        unseen_cost, unseen_tokens = self._unseen()
        return AgentStatistics(
            name=self.name,
            role=self.role,
            state=self._state,
            turns=self._turns,
            failures=self._failures,
            restarts=self._restarts,
            cost_usd=self._cost + unseen_cost,
            tokens=self._tokens + unseen_tokens,
            model_calls=self._model_calls,
            tools_running=len(self._tools),
            pid=self.pid,
            session_id=self.session_id,
            last_error=self._last_error,
            connected=self.connected,
        )

    async def run(self, prompt: Prompt) -> TurnResult:
        """Runs one turn: sends ``prompt`` and collects the answer, like ``Session.run``.

        Turns of one agent queue behind each other. Cancelling the call abandons the turn (the
        CLI is interrupted and the session stays usable), as with a plain session.

        Args:
            prompt: Text, content blocks, a :class:`~trio_claude.UserMessage` or a wire dict.

        Returns:
            The turn's messages and result.

        Raises:
            ResultError: The turn ended with an error result (``TurnInterruptedError`` when
                it was interrupted).
            BudgetExceededError: The team's (or the agent's) budget ran out.
            ProcessError: The agent's CLI died during the turn.
            SessionClosedError: The agent has no live session (not started, or closed).
            WrongEventLoopError: Called from another ``trio.run``: refused before anything
                changes (it is not recorded as the agent's failure).
        """
        # Before anything changes: a call from another trio.run is refused, not a failure.
        self._core.check_loop()
        lock = self._lock
        try:
            lock.acquire_nowait()  # the usual case; send() checkpoints anyway
        except trio.WouldBlock:
            await lock.acquire()  # another turn of this agent runs: queue behind it
        try:
            backend = self._backend
            if backend is None:
                await trio.lowlevel.checkpoint()
                raise SessionClosedError(f"agent {self.name!r} has no session (closed)")
            self._set_state(AgentState.RUNNING)
            try:
                turn = await self._turn(backend, prompt)
            except trio.Cancelled:
                self._tools.clear()
                self._set_state(AgentState.CANCELLED)
                for hook in self._on_cancel:
                    hook()
                raise
            except Exception as exc:
                self._tools.clear()
                self._note_failure(exc)
                raise
            self._turns += 1
            self._set_state(AgentState.IDLE)
            return turn
        finally:
            lock.release()

    async def wait_state(self, *states: AgentState) -> AgentState:
        """Waits until the agent is in one of ``states``; returns the state it is in."""
        while self._state not in states:
            await self._core.wait_changed()
        await trio.lowlevel.checkpoint()
        return self._state

    # ---------------------------------------- for the shapes (package-internal)

    def _attach(self, backend: Backend) -> None:
        """The shape started a session for this agent."""
        self._backend = backend
        self._set_state(AgentState.IDLE)

    def _detach(self, state: AgentState | None = None) -> None:
        """The agent's session is closed; ``state`` is its final state (kept if ``None``)."""
        backend, self._backend = self._backend, None
        if backend is not None and backend.session_id is not None:
            self._session_id = backend.session_id
        if state is not None:
            self._set_state(state)
        else:
            self._core.notify()

    def _note_failure(self, error: BaseException) -> None:
        """Counts a failure (a turn or a start) and marks the agent failed."""
        self._failures += 1
        self._last_error = error
        self._set_state(AgentState.FAILED)

    def _note_restart(self) -> None:
        """A supervisor is restarting the agent."""
        self._restarts += 1
        self._set_state(AgentState.RESTARTING)

    def _set_options(self, options: ClaudeAgentOptions) -> None:
        """Replaces the options before the agent starts (a shape adding its tools)."""
        self._options = options

    @property
    def _broken(self) -> bool:
        """Whether a plain session's CLI is gone (its next turn would fail at once)."""
        backend = self._backend
        return isinstance(backend, Session) and backend.lifecycle in _GONE

    # ------------------------------------------------------------- internals

    def _turn_given_up(self) -> bool:
        """Whether the turn the agent's CLI works on was given up by its caller (the CLI may
        not know yet: its interrupt is on the way, or the turn still drains while a new
        ``run()`` waits to send)."""
        if self._state is AgentState.CANCELLED:
            return True
        backend = self._backend
        session = backend._session if isinstance(backend, ResumableSession) else backend
        return session is not None and session._lifecycle.abandoned_open

    def _set_state(self, state: AgentState) -> None:
        if state is not self._state:
            self._state = state
            self._core.notify()

    async def _turn(self, backend: Backend, prompt: Prompt) -> TurnResult:
        await backend.send(prompt)
        owner: object = backend.session if isinstance(backend, ResumableSession) else backend
        if owner is not self._meter_owner:
            cost, tokens = self._unseen()
            self._cost += cost
            self._tokens += tokens
            # The CLI reports cost cumulatively per process: a new process, a new meter.
            self._resumed_process = self._meter_owner is not None
            self._meter_owner = owner
            self._meter = UsageMeter()
            self._previous_reported, self._reported = self._reported, 0.0
            self._previous_model_tokens, self._model_tokens = self._model_tokens, 0
            self._process_tokens = 0
            self._first_result = True
        self._tools.clear()
        messages: list[Message] = []
        stream = backend.receive_response()
        async for message in stream:
            messages.append(message)
            # A result that does not finish the stream is a background job's (it ends no
            # turn of ours).
            self._observe(
                message, background=isinstance(message, ResultMessage) and not stream.finished
            )
        if backend.session_id is not None:
            self._session_id = backend.session_id
        result = messages[-1] if messages else None
        if not isinstance(result, ResultMessage):
            raise CLIConnectionError(
                f"the turn of agent {self.name!r} ended before its result arrived"
            )
        if result.is_error:
            # The session's secret values are masked in the error's text, as run() does.
            session = owner if isinstance(owner, Session) else None
            raise result_error(result, secrets=session._secrets if session is not None else ())
        return TurnResult(messages=tuple(messages), result=result)

    def _observe(self, message: Message, *, background: bool = False) -> None:
        """Accounts one message and follows the turn's tool calls."""
        tools = self._tools
        charged = self._meter.assistant_message(message)
        if charged is not None:
            tokens, calls = charged
            self._tokens += tokens
            self._process_tokens += tokens
            self._model_calls += calls
            if isinstance(message, AssistantMessage) and message.parent_tool_use_id is None:
                for block in message.content:
                    if isinstance(block, ToolUseBlock):
                        tools.add(block.id)
        elif isinstance(message, UnknownMessage):
            return  # not an assistant line, or one without a usage
        elif isinstance(message, UserMessage):
            content: Any = message.content
            if message.parent_tool_use_id is None and not isinstance(content, str):
                for block in content:
                    if isinstance(block, ToolResultBlock):
                        tools.discard(block.tool_use_id)
        elif isinstance(message, ResultMessage):
            # A background job's result leaves the turn's meter and its running tools alone,
            # as the session's budget does.
            _, tokens = self._meter.result(
                message.total_cost_usd, message.usage, ends_turn=not background
            )
            self._tokens += tokens
            self._process_tokens += tokens
            self._charge_cost(message)
            if not background:
                tools.clear()
        else:
            return
        self._set_state(AgentState.WAITING_ON_TOOL if tools else AgentState.RUNNING)

    def _unseen(self) -> tuple[float, int]:
        """The cost and tokens its current CLI reported in messages the agent never received
        (a turn given up, by a cancellation or a budget that ran out: the budget was charged
        them all the same). Unknown for a resumed conversation whose first result it did not
        receive (whether the CLI restored an earlier total is unknown): none."""
        owner = self._meter_owner
        if not isinstance(owner, Session) or (self._resumed_process and self._first_result):
            return 0.0, 0
        cost = max(0.0, owner._cost_read - self._reported)
        tokens = 0
        if owner._budget is not None:  # (tokens are metered by the session for a budget)
            tokens = max(0, owner._tokens_charged - self._process_tokens)
        return cost, tokens

    def _charge_cost(self, result: ResultMessage) -> None:
        """Adds what this result's cumulative ``total_cost_usd`` adds for this process.

        A CLI resuming a conversation after a graceful exit restores the earlier total (its
        ``modelUsage`` then counts the earlier tokens too); after a crash it starts from zero.
        """
        total = result.total_cost_usd or 0.0
        model_tokens = _model_usage_tokens(result.model_usage)
        if self._first_result:
            self._first_result = False
            earlier = self._previous_model_tokens
            if (
                self._resumed_process
                and earlier
                and model_tokens >= self._process_tokens + earlier
                and total >= self._previous_reported
            ):
                self._reported = self._previous_reported  # restored: count only what is new
        self._cost += max(0.0, total - self._reported)
        self._reported = max(self._reported, total)
        self._model_tokens = max(self._model_tokens, model_tokens)


def _model_usage_tokens(model_usage: Any) -> int:
    """The tokens a result's ``modelUsage`` counts (cumulative for the CLI process)."""
    if not isinstance(model_usage, dict):
        return 0
    total = 0
    for usage in model_usage.values():
        if isinstance(usage, dict):
            for key in _MODEL_USAGE_KEYS:
                value = usage.get(key)
                if type(value) is int:
                    total += value
    return total


_MODEL_USAGE_KEYS = (
    "inputTokens",
    "outputTokens",
    "cacheReadInputTokens",
    "cacheCreationInputTokens",
)

_GONE = frozenset({LifecycleState.CLOSING, LifecycleState.CLOSED, LifecycleState.FAILED})
#: No live CLI: not started yet, or gone.
_NOT_LIVE = _GONE | {LifecycleState.STARTING}
