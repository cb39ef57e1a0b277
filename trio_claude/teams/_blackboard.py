"""Blackboard: shared state agents read and write through in-process MCP tools.

::

    async with teams.open_blackboard(
        {"planner": planner_options, "worker": worker_options}, initial={"goal": "..."}
    ) as team:
        team.start("planner", "Split the goal into tasks on the board.")
        team.start("worker", "Wait for tasks on the board and solve them.")
        await team.board.wait_until(lambda state: "answer" in state)

Every agent gets an in-process MCP server (``board`` by default) with three tools:

- ``read(key?)``: one value, or the whole board, with its version;
- ``write(key, value)``: sets a JSON value (``null`` deletes the key); the write is recorded
  with the agent's name;
- ``wait(since_version, timeout_seconds?)``: waits until the board's version is past
  ``since_version`` (a change), then returns the board. Bounded by ``max_wait`` and by the
  team: closing the team ends every wait at once.

Your code uses the same board directly (:class:`Blackboard`): ``get``, ``set``, ``snapshot``,
``wait_changed``, ``wait_until``.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import attrs
import orjson
import trio

from .._budget import Budget
from .._errors import ConfigurationError
from .._mcp import ToolAnnotations, create_sdk_mcp_server, tool
from .._opener import async_context_only
from .._options import ClaudeAgentOptions
from .._session import Prompt, _prepare
from ._agent import Agent
from ._core import (
    ErrorPolicy,
    Failure,
    TeamCore,
    TeamStatistics,
    check_named,
    check_policy,
    open_core,
)
from ._start import start_agents

__all__ = ["Blackboard", "BlackboardTeam", "Change", "open_blackboard"]


@attrs.frozen(kw_only=True)
class Change:
    """One write to a blackboard.

    Attributes:
        version: The board's version after the write.
        key: The key written.
        value: The value written (``None``: the key was deleted).
        author: Who wrote it (an agent's name, or ``None`` for your code).
    """

    version: int
    key: str
    value: Any
    author: str | None


def _copy(value: Any) -> Any:
    """A deep copy of a JSON value (and a check that it is one)."""
    try:
        return orjson.loads(orjson.dumps(value))
    except TypeError as exc:
        raise ConfigurationError(f"blackboard values must be JSON values: {exc}") from None


class Blackboard:
    """Shared state: JSON values by key, a version that grows with every write, and waits.

    Values are copied in and out, so nobody holds a reference into the board.

    Args:
        initial: The starting state.
    """

    def __init__(self, initial: Mapping[str, Any] | None = None) -> None:
        self._state: dict[str, Any] = _copy(dict(initial or {}))
        self._version = 0
        self._changed = trio.Event()
        self.history: list[Change] = []

    @property
    def version(self) -> int:
        """How many writes the board has seen."""
        return self._version

    def get(self, key: str, default: Any = None) -> Any:
        """A copy of ``key``'s value (``default`` if it is not set)."""
        return _copy(self._state[key]) if key in self._state else default

    def snapshot(self) -> dict[str, Any]:
        """A copy of the whole board."""
        state: dict[str, Any] = _copy(self._state)
        return state

    def set(self, key: str, value: Any, *, author: str | None = None) -> int:
        """Sets ``key`` (``None`` deletes it) and wakes every waiter; returns the new version.

        Raises:
            ConfigurationError: ``value`` is not a JSON value, or ``key`` is not a string.
        """
        if not isinstance(key, str) or not key:
            raise ConfigurationError(f"blackboard keys must be non-empty strings, got {key!r}")
        value = _copy(value)
        if value is None:
            self._state.pop(key, None)
        else:
            self._state[key] = value
        self._version += 1
        self.history.append(Change(version=self._version, key=key, value=value, author=author))
        self._changed.set()
        self._changed = trio.Event()
        return self._version

    async def wait_changed(self, since: int) -> int:
        """Waits until the version is past ``since``; returns the version."""
        while self._version <= since:
            await self._changed.wait()
        await trio.lowlevel.checkpoint()
        return self._version

    async def wait_until(self, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """Waits until ``predicate(board)`` holds (checked now and after every write).

        Returns:
            The board (a copy) that satisfied it.
        """
        while True:
            state = self.snapshot()
            if predicate(state):
                await trio.lowlevel.checkpoint()
                return state
            await self.wait_changed(self._version)


class BlackboardTeam:
    """Agents sharing a blackboard, made by :func:`open_blackboard`.

    Attributes:
        board: The shared :class:`Blackboard`.
        failures: Background turns that failed (``on_error="collect"``).
    """

    def __init__(self, core: TeamCore, board: Blackboard, on_error: str) -> None:
        self._core = core
        self.board = board
        self.failures: list[Failure] = core.failures
        self._on_error = on_error
        self._running = 0

    @property
    def agents(self) -> Mapping[str, Agent]:
        """Every agent, by name."""
        return self._core.agents

    def statistics(self) -> TeamStatistics:
        """Every agent's state, cost and tokens, and the totals."""
        return self._core.statistics()

    def cancel(self) -> None:
        """Cancels the team: every running turn and every board wait ends."""
        self._core.cancel()

    def start(self, agent: str, prompt: Prompt) -> None:
        """Runs a turn of ``agent`` in the background (a task of the team's nursery).

        Leaving the block waits for background turns. A failure follows ``on_error``.

        Raises:
            KeyError: No such agent.
            TeamError: The team is closed.
        """
        member = self._core.agents[agent]
        self._core.check_open()
        self._running += 1
        self._core.nursery.start_soon(self._turn, member, prompt, name=f"board:{agent}")

    async def run(self, agent: str, prompt: Prompt) -> Any:
        """Runs a turn of ``agent`` and returns it (its errors are raised to you)."""
        return await self._core.agents[agent].run(prompt)

    async def _turn(self, agent: Agent, prompt: Prompt) -> None:
        try:
            await agent.run(prompt)
        except Exception as exc:
            self._core.handle(agent, exc, self._on_error, prompt)
        finally:
            self._running -= 1
            self._core.notify()

    async def _join(self) -> None:
        while self._running:
            await self._core.wait_changed()


def board_server(board: Blackboard, core: TeamCore, author: str, name: str, max_wait: float) -> Any:
    """The in-process MCP server through which ``author`` uses ``board``."""
    read_only = ToolAnnotations(read_only_hint=True)

    def view(key: str | None) -> str:
        if key:
            body: dict[str, Any] = {"version": board.version, "key": key, "value": board.get(key)}
        else:
            body = {"version": board.version, "board": board.snapshot()}
        return orjson.dumps(body).decode()

    @tool(
        "read",
        "Read the shared blackboard: one key, or the whole board (omit key). "
        "Returns JSON with the board's version.",
        {"key": str | None},
        annotations=read_only,
        always_load=True,
    )
    async def read(args: dict[str, Any]) -> str:
        await trio.lowlevel.checkpoint()
        return view(args.get("key"))

    @tool(
        "write",
        "Write a JSON value under a key of the shared blackboard (null deletes the key). "
        "Everyone waiting for a change is woken.",
        {
            "type": "object",
            "properties": {"key": {"type": "string", "minLength": 1}, "value": {}},
            "required": ["key", "value"],
        },
        always_load=True,
    )
    async def write(args: dict[str, Any]) -> str:
        await trio.lowlevel.checkpoint()
        version = board.set(args["key"], args["value"], author=author)
        return orjson.dumps({"version": version}).decode()

    @tool(
        "wait",
        "Wait until the blackboard changes after since_version (from read or a previous "
        "wait), then return the whole board. Gives up after timeout_seconds "
        f"(at most {max_wait:g}).",
        {"since_version": int, "timeout_seconds": float | None},
        annotations=read_only,
        always_load=True,
    )
    async def wait(args: dict[str, Any]) -> str:
        since = int(args["since_version"])
        timeout = args.get("timeout_seconds")
        limit = max_wait if timeout is None else max(0.0, min(float(timeout), max_wait))
        with core.tool_scope():
            with trio.move_on_after(limit):
                await board.wait_changed(since)
        body = {
            "version": board.version,
            "changed": board.version > since,
            "board": board.snapshot(),
        }
        return orjson.dumps(body).decode()

    return create_sdk_mcp_server(name, tools=[read, write, wait])


@async_context_only("team")
@asynccontextmanager
async def open_blackboard(
    agents: Mapping[str, ClaudeAgentOptions],
    *,
    board: Blackboard | None = None,
    initial: Mapping[str, Any] | None = None,
    on_error: ErrorPolicy = "cancel",
    server_name: str = "board",
    max_wait: float = 60.0,
    budget: Budget | None = None,
) -> AsyncIterator[BlackboardTeam]:
    """Opens agents that share a blackboard through in-process MCP tools.

    Args:
        agents: Name -> options. Each agent gets the board's server (``server_name``) and
            its tools are allowed; ``mcp_servers`` must be a mapping.
        board: The board to share (default: a new one holding ``initial``).
        initial: The new board's starting state (only without ``board``).
        on_error: For background turns (``start``): ``"cancel"`` cancels the team and the
            block raises :class:`AgentError`; ``"collect"`` keeps the failure in ``failures``.
        server_name: The MCP server key (tools are ``mcp__<server_name>__read``, ...).
        max_wait: The longest one ``wait`` tool call may block, in seconds.
        budget: Shared by every agent; when it runs out the block raises
            :class:`~trio_claude.BudgetExceededError`.

    Yields:
        The :class:`BlackboardTeam`, every CLI started.

    Raises:
        ConfigurationError: Invalid options or arguments (before anything starts).
        AgentError: A CLI could not start, or a background turn failed under ``"cancel"``.
        BudgetExceededError: The budget ran out.
    """
    check_policy(on_error)
    check_named("open_blackboard's agents", agents)
    if not agents:
        raise ConfigurationError("open_blackboard needs at least one agent")
    if board is not None and initial is not None:
        raise ConfigurationError("give either board or initial, not both")
    if initial is not None and not isinstance(initial, Mapping):
        raise ConfigurationError(
            f"initial must be a dict of key to JSON value, got {type(initial).__name__}"
        )
    if (
        isinstance(max_wait, bool)
        or not isinstance(max_wait, (int, float))
        or not (0 < max_wait < math.inf)
    ):
        raise ConfigurationError(f"max_wait must be a finite number > 0, got {max_wait!r}")
    for name, options in agents.items():
        if not isinstance(options, ClaudeAgentOptions) or not isinstance(
            options.mcp_servers, Mapping
        ):
            raise ConfigurationError(f"agent {name!r}: options with a mapping of mcp_servers")
        if server_name in options.mcp_servers:
            raise ConfigurationError(f"agent {name!r} already has a server named {server_name!r}")
        await _prepare(options)
    shared = board if board is not None else Blackboard(initial)
    tool_names = tuple(f"mcp__{server_name}__{t}" for t in ("read", "write", "wait"))
    async with open_core("blackboard", budget) as core:
        members = []
        for name, options in agents.items():
            server = board_server(shared, core, name, server_name, float(max_wait))
            assert isinstance(options.mcp_servers, Mapping)
            members.append(
                core.add_agent(
                    name,
                    attrs.evolve(
                        options,
                        mcp_servers={**options.mcp_servers, server_name: server},
                        allowed_tools=(*options.allowed_tools, *tool_names),
                    ),
                    "member",
                )
            )
        team = BlackboardTeam(core, shared, on_error)
        await start_agents(core, members)
        yield team
        await team._join()
