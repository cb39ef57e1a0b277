"""Pipeline: stages of agents joined by bounded channels.

::

    stages = [
        teams.Stage("lint", lint_options, prompt="Review this diff for style:\\n{input}"),
        teams.Stage("security", sec_options, prompt="Check for security issues:\\n{input}"),
        teams.Stage("summary", sum_options, prompt="Summarise these notes:\\n{input}"),
    ]
    async with teams.open_pipeline(stages, buffer=1) as pipe:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(feed, pipe.input)        # sends diffs, then closes the channel
            async for result in pipe.output:
                print(result.text)

Each stage runs ``workers`` agents (one session each, opened in the worker's own ``async with``)
reading from the channel before it and writing to the channel after it. Channels hold at most
``buffer`` items, so a slow stage holds back the ones before it, down to your ``send()``
(backpressure). Closing ``pipe.input`` ends the first stage once it has drained, which closes
its output, and so on down the line: ``pipe.output`` ends when the last item is out
(completion).
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import attrs
import trio

from .._budget import Budget
from .._errors import ConfigurationError
from .._opener import async_context_only
from .._options import ClaudeAgentOptions
from .._session import Prompt, _prepare, open_session
from ..types import TurnResult
from ._agent import Agent, AgentState
from ._core import (
    ErrorPolicy,
    Failure,
    TeamCore,
    TeamStatistics,
    check_options,
    check_policy,
    open_core,
)
from ._errors import AgentError

__all__ = ["Pipeline", "PipelineResult", "Stage", "open_pipeline"]


@attrs.frozen(kw_only=True)
class PipelineResult:
    """One item that went through every stage.

    Attributes:
        input: What was sent into the pipeline.
        turns: Each stage's turn, in stage order.
    """

    input: Any
    turns: tuple[TurnResult, ...] = ()

    @property
    def text(self) -> str:
        """The last stage's answer."""
        return self.turns[-1].text if self.turns else str(self.input)


def _check_workers(instance: Any, attribute: Any, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigurationError(f"Stage.workers must be a positive integer, got {value!r}")


@attrs.frozen
class Stage:
    """One stage of a pipeline.

    Attributes:
        name: The stage's name (its workers are ``name``, or ``name-<i>`` with several).
        options: Its agents' options (model, tools, system prompt, permission policy...).
        prompt: How an item becomes this stage's prompt: a template where ``{input}`` is the
            previous stage's answer (the item itself for the first stage) and ``{item}`` the
            item sent into the pipeline; or a function of the item so far (a
            :class:`PipelineResult`: ``.input``, the earlier stages' ``.turns``, ``.text``)
            returning the prompt.
        workers: How many agents work on this stage at once (items may then overtake each
            other).
    """

    name: str
    options: ClaudeAgentOptions
    prompt: str | Callable[[PipelineResult], Prompt] = "{input}"
    workers: int = attrs.field(default=1, validator=_check_workers)

    def render(self, so_far: PipelineResult) -> Prompt:
        """This stage's prompt for an item that went through the earlier stages."""
        if callable(self.prompt):
            return self.prompt(so_far)
        return self.prompt.replace("{input}", so_far.text).replace("{item}", str(so_far.input))


@attrs.frozen
class _Item:
    """An item between stages (the last stage turns it into a :class:`PipelineResult`)."""

    result: PipelineResult


class Pipeline:
    """A pipeline team, made by :func:`open_pipeline`.

    Attributes:
        input: Send items here (any object; ``str(item)`` is the first stage's ``{input}``).
            Close it when done: every item is then finished and ``output`` ends.
        output: The finished items, as :class:`PipelineResult`.
        failures: Items that failed, with the stage agent and the error (``"collect"``).
        unread: Results nobody read from ``output`` before the block ended (kept, not lost).
    """

    def __init__(self, core: TeamCore, stages: Sequence[Stage], buffer: float, on_error: str):
        self._core = core
        self._stages = tuple(stages)
        self._on_error = on_error
        self.failures: list[Failure] = core.failures
        self.unread: list[PipelineResult] = []
        channels = [trio.open_memory_channel[Any](buffer) for _ in range(len(stages) + 1)]
        self.input: trio.MemorySendChannel[Any] = channels[0][0]
        self.output: trio.MemoryReceiveChannel[PipelineResult] = channels[-1][1]
        self._channels = channels
        self._running = 0
        self._stage_agents: list[list[Agent]] = []
        for stage in self._stages:
            self._stage_agents.append(
                [
                    core.add_agent(
                        stage.name if stage.workers == 1 else f"{stage.name}-{i}",
                        stage.options,
                        "stage",
                    )
                    for i in range(stage.workers)
                ]
            )

    @property
    def agents(self) -> Mapping[str, Agent]:
        """Every stage worker, by name, in stage order."""
        return self._core.agents

    def statistics(self) -> TeamStatistics:
        """Every worker's state, cost and tokens, and the totals."""
        return self._core.statistics()

    def cancel(self) -> None:
        """Cancels the pipeline: every running turn is interrupted."""
        self._core.cancel()

    async def process(self, items: Iterable[Any]) -> list[PipelineResult]:
        """Sends ``items``, closes the input and returns every result, in finishing order.

        A convenience for a batch: feeding and reading run concurrently, so backpressure
        works as it does by hand.
        """
        results: list[PipelineResult] = []

        async def feed() -> None:
            async with self.input:
                for item in items:
                    await self.input.send(item)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(feed)
            async for result in self.output:
                results.append(result)
        return results

    def _start(self) -> None:
        nursery = self._core.nursery
        last = len(self._stages) - 1
        for i, stage in enumerate(self._stages):
            for agent in self._stage_agents[i]:
                receive = self._channels[i][1].clone()
                send = self._channels[i + 1][0].clone()
                self._running += 1
                nursery.start_soon(
                    self._worker, stage, agent, receive, send, i == last, name=f"stage:{agent.name}"
                )
        # The workers hold clones; the originals between stages are not needed any more.
        for i in range(len(self._stages)):
            self._channels[i][1].close()
            self._channels[i + 1][0].close()

    async def _worker(
        self,
        stage: Stage,
        agent: Agent,
        receive: trio.MemoryReceiveChannel[Any],
        send: trio.MemorySendChannel[Any],
        last: bool,
    ) -> None:
        try:
            async with receive, send:
                finished = False
                while not finished:
                    finished = await self._serve(stage, agent, receive, send, last)
            if agent.state is not AgentState.FAILED:
                agent._set_state(AgentState.DONE)
        finally:
            self._running -= 1
            self._core.notify()

    async def _serve(
        self,
        stage: Stage,
        agent: Agent,
        receive: trio.MemoryReceiveChannel[Any],
        send: trio.MemorySendChannel[Any],
        last: bool,
    ) -> bool:
        """Serves items on one session; ``False`` when the CLI died and a new one is due."""
        agent._set_state(AgentState.STARTING)
        started = False
        try:
            async with open_session(agent.options) as session:
                agent._attach(session)
                started = True
                async for item in receive:
                    so_far = item.result if isinstance(item, _Item) else PipelineResult(input=item)
                    try:
                        prompt = stage.render(so_far)
                    except Exception as exc:
                        self._core.fail(exc)  # your function's error is raised as is
                        return True
                    try:
                        turn = await agent.run(prompt)
                    except Exception as exc:
                        self._core.handle(agent, exc, self._on_error, so_far.input)
                        if agent._broken:
                            return False  # the CLI died: the next item gets a new one
                        continue
                    done = PipelineResult(input=so_far.input, turns=(*so_far.turns, turn))
                    out: Any = done if last else _Item(done)
                    try:
                        await send.send(out)
                    except (trio.BrokenResourceError, trio.ClosedResourceError):
                        return True  # nobody reads any more: this stage is over
        except Exception as exc:
            if started:
                raise
            # The stage's CLI could not start: nothing can flow through it.
            agent._note_failure(exc)
            self._core.record(agent.name, exc)
            self._core.fail(AgentError(agent.name, exc))
            return True
        finally:
            agent._detach()
        return True

    async def _join(self) -> None:
        """End of the block: close the input, keep what nobody read, wait for the workers."""
        await self.input.aclose()
        try:
            async for result in self.output:
                self.unread.append(result)
        except trio.ClosedResourceError:
            pass  # you closed it: the last stage stops on its next send
        while self._running:
            await self._core.wait_changed()


@async_context_only("pipeline")
@asynccontextmanager
async def open_pipeline(
    stages: Sequence[Stage],
    *,
    buffer: int | float = 0,
    on_error: ErrorPolicy = "cancel",
    budget: Budget | None = None,
) -> AsyncIterator[Pipeline]:
    """Opens a pipeline of agent stages joined by bounded channels.

    Args:
        stages: The stages, in order (at least one).
        buffer: How many items each channel holds (``0``: a stage hands an item over only
            when the next one takes it; ``math.inf``: no backpressure).
        on_error: ``"cancel"``: a failed item cancels the pipeline and the block raises
            :class:`AgentError` naming the stage worker. ``"collect"``: the item is dropped and
            kept in ``failures``, the stage goes on (with a new CLI if its CLI died).
        budget: Shared by every stage; when it runs out the block raises
            :class:`~trio_claude.BudgetExceededError`.

    Yields:
        The :class:`Pipeline`. Leaving the block closes ``input``, waits for the items in
        flight and keeps results nobody read in ``unread``.

    Raises:
        ConfigurationError: Invalid stages or arguments (before anything starts).
        AgentError: An item failed under ``on_error="cancel"``, or a stage's CLI could not
            start.
        BudgetExceededError: The budget ran out.
    """
    if isinstance(stages, Stage) or not isinstance(stages, Iterable):
        raise ConfigurationError(
            f"open_pipeline needs a list of Stage, got {type(stages).__name__}"
            + (" (put it in a list)" if isinstance(stages, Stage) else "")
        )
    stages = list(stages)
    if not stages or not all(isinstance(s, Stage) for s in stages):
        raise ConfigurationError("open_pipeline needs a non-empty list of Stage")
    if isinstance(buffer, bool) or not isinstance(buffer, (int, float)) or buffer < 0:
        raise ConfigurationError(f"buffer must be a number >= 0, got {buffer!r}")
    if isinstance(buffer, float) and buffer != math.inf and not buffer.is_integer():
        raise ConfigurationError(f"buffer must be an integer or math.inf, got {buffer!r}")
    check_policy(on_error)
    for stage in stages:
        await _prepare(check_options(stage.name, stage.options))
    async with open_core("pipeline", budget) as core:
        pipeline = Pipeline(core, stages, buffer, on_error)
        pipeline._start()
        yield pipeline
        await pipeline._join()
