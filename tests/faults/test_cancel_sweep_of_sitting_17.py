"""A seeded cancellation sweep over the paths sitting 17 added (2ccc908..51022c1): official-style
transports (``_transport/_official.py``: ``OfficialProcess``/``OfficialStdout``'s inline
shielded pulls, ``write()``/``end_input()`` bounded, ``close()`` once) driven by both forms of
``query()``, ``ClaudeSDKClient`` and ``open_session``; ``ClaudeSDKClient.query()`` waiting for
its write when stdin is not a pipe (``Session._until_sent``); background agent tasks keeping
stdin open (``_PullQuery._run_over``, ``ClaudeProtocol.agent_tasks``) and
``Session.wait_idle()`` waiting for them; ``session_store_flush="eager"`` (one append per
frame) and ``continue_conversation`` from a session store (``prepare_store_resume``); the
``ResultError`` raised for an exit over an error result (``_exit.process_error``).

Method (as ``test_cancel_sweep_of_sitting_16.py``): a :class:`~._support.CancelAfterSteps`
instrument counts a scenario's task steps in a dry run, then the scenario runs again cancelled
after step ``k`` for every ``k`` (or a sample of about fifty drawn by ``random.Random(seed)``),
the scheduler seeded with ``k``. After each run: the cancellation caught by the cancel scope it
was aimed at (or the scenario's own typed error), never an exception group or another error;
the block left within a bounded (virtual) time after the cancellation; ``close()`` of an
official-style transport called once; and a later use (a new query, session or turn) works. The
autouse leak check of ``tests/faults/conftest.py`` adds: no task, process or descriptor left.

The ``test_guard_...`` tests passed on the code of 51022c1: they keep the paths found sound
under the sweep. The others failed there: ``OfficialProcess.kill()`` or ``terminate()`` with no
read pending left ``wait()`` waiting for ever, and ``read_messages()``'s generator was left to
the garbage collector.
"""

from __future__ import annotations

import json
import math
import random
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio
import trio.testing

import trio_claude as tc
from trio_claude.testing.fake_cli import Emit, FakeCLITransport, FakeScript, FakeTurn, Result, Sleep
from trio_claude.testing.fake_cli import Text as FakeText

from ._support import CancelAfterSteps, HostedTransport, ManualChild, assistant_frame, result_frame
from ._sweep import Scenario, bad_error
from ._sweep import sweep as _sweep
from .test_hostile_official_transports import (
    Remote,
    _ask,
    _assistant,
    _init,
    _Prompts,
    _result,
    _sleep,
)

if sys.version_info < (3, 11):  # pragma: no cover
    from exceptiongroup import BaseExceptionGroup

SEED = 17
SID = "17171717-1717-4171-8171-171717171717"
OLD_SID = "17171717-1717-4171-8171-000000000001"

#: Seconds a cancelled block may take to be left, after the cancellation (the close budgets:
#: ``interrupt_timeout`` 1 + ``close_timeout`` 1 + ``term_timeout`` + ``END_INPUT_TIMEOUT`` 1 +
#: ``CLOSE_TIMEOUT`` 5, and some slack).
EXIT_BOUND = 20.0


async def sweep(scenario: Scenario, *, seed: int = SEED, minimum: int = 5) -> int:
    """The shared sweep (``_sweep.py``), with this file's seed."""
    return await _sweep(scenario, seed=seed, minimum=minimum)


@attrs.define(eq=False)
class TimedCancel(CancelAfterSteps):
    """:class:`CancelAfterSteps` remembering when it fired (virtual time)."""

    fired_at: float = math.inf

    def after_task_step(self, task: trio.lowlevel.Task) -> None:
        fired = self.fired
        super().after_task_step(task)
        if self.fired and not fired:
            self.fired_at = trio.current_time()


Body = Callable[[], Awaitable[None]]


async def cancelled_after(n: float, body: Body) -> tuple[BaseException | None, TimedCancel, float]:
    """Runs ``body`` in a cancel scope cancelled after step ``n``; returns what escaped the
    scope (``None``: nothing, or the cancellation it caught), the instrument, and how long the
    block took after the cancellation fired (0 if it did not)."""
    instrument = TimedCancel(n=n)
    error: BaseException | None = None
    trio.lowlevel.add_instrument(instrument)
    try:
        with trio.CancelScope() as scope:
            instrument.arm(scope)
            await body()
    except BaseException as exc:
        error = exc
    finally:
        trio.lowlevel.remove_instrument(instrument)
    late = trio.current_time() - instrument.fired_at if instrument.fired else 0.0
    return error, instrument, late


def judge(
    n: float,
    error: BaseException | None,
    instrument: TimedCancel,
    late: float,
    *,
    allowed: tuple[type[BaseException], ...] = (),
) -> list[str]:
    """What is wrong with one cancelled run: an error other than ``allowed`` (a typed error the
    scenario itself ends with) escaped, a group escaped, or the block was left late."""
    problems = []
    if error is not None and not (allowed and isinstance(error, allowed)):
        problem = bad_error(error) or f"{error!r} escaped instead of the cancellation"
        problems.append(f"step {n}: {problem}")
    elif isinstance(error, BaseExceptionGroup):
        problems.append(f"step {n}: an ExceptionGroup escaped: {error!r}")
    if late > EXIT_BOUND:
        problems.append(f"step {n}: the block was left {late:g} s after the cancellation")
    return problems


def transport_problems(n: float | str, transport: Remote) -> list[str]:
    """``close()`` once if ``connect()`` returned (a cancelled ``connect()`` is the
    transport's own to undo, as in the official SDK: at most once then)."""
    closes = transport.calls.count("close")
    if "connected" in transport.calls and closes != 1:
        return [f"step {n}: close() called {closes} times: {transport.calls}"]
    if closes > 1:
        return [f"step {n}: close() called {closes} times: {transport.calls}"]
    return []


class Marked(Remote):
    """:class:`Remote`, saying ``connected`` once ``connect()`` returns."""

    async def connect(self) -> None:
        await super().connect()
        self.calls.append("connected")


# =============================================================== official-style transports


class Paced(Marked):
    """A remote CLI with a slow connect, writes and output, that asks ``can_use_tool`` in its
    turn: each of ``connect``, ``write``, the pull and the callback has points to cancel at."""

    async def connect(self) -> None:
        self.calls.append("connect")
        await trio.sleep(0.5)
        self.calls.append("connected")

    def turn(self, frame: dict[str, Any]) -> list[dict[str, Any]]:
        return [_sleep(0.5), _init(), _ask()]

    async def write(self, data: str) -> None:
        frame = json.loads(data)
        await trio.sleep(0.1)
        if frame["type"] == "control_response":
            self.frames.append(frame)
            self.emit(_sleep(0.5), _assistant("a"), _sleep(0.5), _result("paced"))
            return
        await super().write(data)


async def allow_later(tool: str, input: dict[str, Any], context: Any) -> Any:
    await trio.sleep(0.7)
    return tc.PermissionResultAllow()


def paced_options(transport: Any = None) -> tc.ClaudeAgentOptions:
    return tc.ClaudeAgentOptions(
        can_use_tool=allow_later, close_timeout=1, interrupt_timeout=1, transport=transport
    )


async def a_new_query_works(n: float) -> list[str]:
    """A later use: a fresh official-style transport, a whole query."""
    transport = Remote()
    with trio.fail_after(60):
        messages = [m async for m in tc.query(prompt="again", transport=transport)]
    problems = []
    if not (messages and isinstance(messages[-1], tc.ResultMessage)):
        problems.append(f"step {n}: the next query() gave {messages}")
    if transport.calls.count("close") != 1:
        problems.append(f"step {n}: the next query() closed {transport.calls}")
    return problems


OfficialRun = Callable[[Any, list[Any]], Awaitable[None]]


async def official_iterator(transport: Paced, seen: list[Any]) -> None:
    async for message in tc.query(prompt=_Prompts(), options=paced_options(), transport=transport):
        seen.append(message)


async def official_session_form(transport: Paced, seen: list[Any]) -> None:
    async with tc.query(prompt=_Prompts(), options=paced_options(transport)) as stream:
        async for message in stream:
            seen.append(message)


async def official_client(transport: Paced, seen: list[Any]) -> None:
    async with tc.ClaudeSDKClient(paced_options(), transport=transport) as client:
        await client.query("go")
        async for message in client.receive_response():
            seen.append(message)


async def official_open_session(transport: Paced, seen: list[Any]) -> None:
    async with tc.open_session(paced_options(transport)) as session:
        turn = await session.run("go")
        seen.extend(turn.messages)


async def official_sweep(run: OfficialRun) -> list[str]:
    problems: list[str] = []

    async def scenario(n: float) -> int:
        transport = Paced()
        seen: list[Any] = []
        with trio.fail_after(300):
            error, instrument, late = await cancelled_after(n, lambda: run(transport, seen))
            problems.extend(judge(n, error, instrument, late))
            problems.extend(transport_problems(n, transport))
            if "connected" in transport.calls and not transport.finalized:
                problems.append(f"step {n}: read_messages()'s generator was left open")
            if not instrument.fired and not any(isinstance(m, tc.ResultMessage) for m in seen):
                problems.append(f"step {n}: uncancelled, no result: {seen}")
            problems.extend(await a_new_query_works(n))
        return instrument.steps

    await sweep(scenario)
    return problems


async def test_guard_official_transport_iterator_query_cancelled_at_every_step(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """``async for m in query(prompt, transport=obj)`` with a paced official-style transport
    and a ``can_use_tool`` callback, cancelled after every step (the inline shielded pulls,
    ``abandon_at``, ``end_input()`` and ``close()``)."""
    problems = await official_sweep(official_iterator)
    assert not problems, "\n".join(problems)


async def test_guard_official_transport_session_form_query_cancelled_at_every_step(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """``async with query(prompt, options=ClaudeAgentOptions(transport=obj))``."""
    problems = await official_sweep(official_session_form)
    assert not problems, "\n".join(problems)


async def test_guard_official_transport_client_and_open_session_cancelled_at_every_step(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """``ClaudeSDKClient(options, transport=obj)`` and ``open_session`` over the transport."""
    problems = await official_sweep(official_client)
    problems += await official_sweep(official_open_session)
    assert not problems, "\n".join(problems)


class Echo(Marked):
    """A remote CLI whose turn answers with the prompt's text, paced (1 s of output). An
    ``interrupt`` ends the open turn at once, as the CLI does: an error result, and the rest of
    that turn's output dropped."""

    def __init__(self) -> None:
        super().__init__()
        self.turns = 0
        self.interrupted: set[int] = set()
        self.completed: set[int] = set()  # the turns whose result was handed out

    def turn(self, frame: dict[str, Any]) -> list[dict[str, Any]]:
        self.turns += 1
        text = frame["message"]["content"]
        frames = [_init(), _sleep(0.5), _assistant(text), _sleep(0.5), _result(text)]
        return [{**f, "__turn": self.turns} for f in frames]

    async def write(self, data: str) -> None:
        frame = json.loads(data)
        await super().write(data)
        if frame["type"] == "control_request" and frame["request"]["subtype"] == "interrupt":
            turn = self.turns
            if turn and turn not in self.interrupted and turn not in self.completed:
                self.interrupted.add(turn)
                ended = {**_result(), "subtype": "error_during_execution", "is_error": True}
                del ended["result"]
                self.emit(ended)

    async def read_messages(self) -> AsyncIterator[dict[str, Any]]:
        try:
            async for message in self._recv:
                turn = message.pop("__turn", None)
                if turn in self.interrupted:
                    continue
                if "__sleep" in message:
                    await trio.sleep(message["__sleep"])
                    continue
                if turn is not None and message["type"] == "result":
                    self.completed.add(turn)
                yield message
        finally:
            self.finalized = True


async def test_guard_official_transport_run_cancelled_at_every_step_then_the_same_session_runs(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """``open_session`` over an official-style transport, ``run("one")`` cancelled after every
    step: the cancellation is caught, and ``run("two")`` on the same session gets its own turn
    (not the abandoned one's result); ``close()`` once at the end."""
    problems: list[str] = []

    async def scenario(n: float) -> int:
        transport = Echo()
        options = tc.ClaudeAgentOptions(transport=transport, close_timeout=1, interrupt_timeout=1)
        with trio.fail_after(120):
            async with tc.open_session(options) as session:
                error, instrument, late = await cancelled_after(n, lambda: _run(session, "one"))
                problems.extend(judge(n, error, instrument, late))
                turn = await session.run("two")
                if turn.text != "two":
                    problems.append(f"step {n}: the next run() gave {turn.text!r}")
        problems.extend(transport_problems(n, transport))
        if not transport.finalized:
            problems.append(f"step {n}: read_messages()'s generator was left open")
        return instrument.steps

    await sweep(scenario)
    assert not problems, "\n".join(problems)


async def test_guard_official_transport_client_receive_cancelled_at_every_step_then_it_goes_on(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """``ClaudeSDKClient(transport=obj)``: ``query("one")`` and ``receive_response()``
    cancelled after every step; then ``query("two")``: the client's stream reaches the result
    of ``two`` (after what is left of ``one``), and ``disconnect()`` is clean."""
    problems: list[str] = []

    async def scenario(n: float) -> int:
        transport = Echo()
        client = tc.ClaudeSDKClient(
            tc.ClaudeAgentOptions(close_timeout=1, interrupt_timeout=1), transport=transport
        )
        await client.connect()

        async def body() -> None:
            await client.query("one")
            async for _ in client.receive_response():
                pass

        try:
            with trio.fail_after(60):
                error, instrument, late = await cancelled_after(n, body)
                problems.extend(judge(n, error, instrument, late))
                await client.query("two")
                texts: list[str | None] = []
                while "two" not in texts:
                    async for message in client.receive_response():
                        if isinstance(message, tc.ResultMessage):
                            texts.append(message.result)
                # (the result of one, or its interrupted end's, first)
                if texts[-1:] != ["two"] or len(texts) > 2:
                    problems.append(f"step {n}: results {texts}")
        finally:
            await client.disconnect()
        problems.extend(transport_problems(n, transport))
        return instrument.steps

    await sweep(scenario)
    assert not problems, "\n".join(problems)


def seeded_times(seed: int, end: float, count: int = 30) -> list[float]:
    """``count`` virtual times in ``[0, end]``, drawn by ``random.Random(seed)`` (0 first)."""
    rng = random.Random(seed)
    return [0.0, *sorted(round(rng.uniform(0, end), 3) for _ in range(count - 1))]


async def test_guard_official_transport_deadlines_at_seeded_virtual_times(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A user's deadline (``move_on_after``) at seeded virtual times through each form over the
    paced transport, and through the iterator form kept open for a background agent: caught by
    the user's scope, left within the bound, ``close()`` once, a new query works."""
    problems: list[str] = []
    forms: list[tuple[str, Callable[[], Marked], OfficialRun]] = [
        ("iterator", Paced, official_iterator),
        ("session form", Paced, official_session_form),
        ("client", Paced, official_client),
        ("open_session", Paced, official_open_session),
        ("background agent", Delegating, delegating_iterator),
    ]
    for name, make, run in forms:
        transport = make()
        start = trio.current_time()
        await run(transport, [])  # how long it takes uncancelled
        took = trio.current_time() - start
        for at in seeded_times(SEED, took):
            transport = make()
            start = trio.current_time()
            with trio.fail_after(300):
                with trio.move_on_after(at) as scope:
                    await run(transport, [])
            late = trio.current_time() - start - at
            if scope.cancelled_caught and late > EXIT_BOUND:
                problems.append(f"{name} at {at}: left {late:g} s after the deadline")
            problems.extend(transport_problems(f"{name} at {at}", transport))
            if "connected" in transport.calls and not transport.finalized:
                problems.append(f"{name} at {at}: read_messages()'s generator was left open")
        problems.extend(await a_new_query_works(math.inf))
    assert not problems, "\n".join(problems)


class FailsAfterAnErrorResult(Marked):
    """A remote CLI answering with an error result, then its channel fails (status 1): an exit
    over an error result (``ResultError``), through an official-style transport."""

    def turn(self, frame: dict[str, Any]) -> list[dict[str, Any]]:
        error = {**_result(), "subtype": "error_during_execution", "is_error": True}
        del error["result"]
        error["errors"] = ["No conversation found"]
        return [_init(), _sleep(0.5), error, _sleep(0.5), {"__fail": True}]

    async def read_messages(self) -> AsyncIterator[dict[str, Any]]:
        async for message in super().read_messages():
            if "__fail" in message:
                raise ConnectionError("the remote CLI exited 1")
            yield message


async def test_guard_official_exit_over_an_error_result_cancelled_at_every_step(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """The iterator form over an official-style transport whose output fails after an error
    result, cancelled after every step: the cancellation caught or a typed ``ProcessError``
    (uncancelled: the ``ResultError``), never a group; ``close()`` once; a new query works."""
    problems: list[str] = []
    uncancelled: list[BaseException | None] = []

    async def scenario(n: float) -> int:
        transport = FailsAfterAnErrorResult()

        async def body() -> None:
            async for _ in tc.query(prompt="go", transport=transport):
                pass

        with trio.fail_after(120):
            error, instrument, late = await cancelled_after(n, body)
        problems.extend(judge(n, error, instrument, late, allowed=(tc.ProcessError,)))
        if not instrument.fired:
            uncancelled.append(error)
        problems.extend(transport_problems(n, transport))
        problems.extend(await a_new_query_works(n))
        return instrument.steps

    await sweep(scenario)
    for error in uncancelled:
        if not isinstance(error, tc.ResultError):
            problems.append(f"uncancelled, the iterator form ended with {error!r}")
    assert not problems, "\n".join(problems)


async def test_kill_of_an_official_process_with_no_read_pending_ends_its_wait(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """An official-style ``tc.Transport``'s inherited ``start()`` returns an
    ``OfficialProcess`` (a :class:`~trio_claude.ChildProcess`). Its reads are pulled inline, so
    when no task is reading (the iterator form between two iterations, a reader that stopped
    or was cancelled before its pull), ``kill()`` finds no pull to cancel: it only asks for
    ``close()``. ``wait()`` then calls ``close()`` and waits for the end of ``read_messages()``,
    which only a read can reach: it never returns (here the bound fires after 60 s), though
    ``kill()`` promises to stop the process now. A ``wait()`` after ``kill()`` (as
    ``shutdown_process`` does, often shielded) must end at once with ``-SIGKILL``, ``close()``
    called once."""
    import signal

    transport = Echo()
    async with trio.open_nursery() as nursery:
        spec = tc.LaunchSpec(argv=["claude"], env={})
        proc = await transport.start(spec, nursery)
    proc.kill()
    code = None
    with trio.move_on_after(60) as bound:
        code = await proc.wait()
    assert not bound.cancelled_caught, "wait() after kill() never returned (no read pending)"
    assert code == -signal.SIGKILL and proc.returncode == code
    assert transport.calls.count("close") == 1, transport.calls
    assert await proc.stdout.receive_some() == b""  # the output is over, not pulled again


@pytest.mark.parametrize("stop", ["terminate", "kill"])
async def test_an_official_process_stopped_between_reads_ends_and_closes_its_generator(
    stop: str, autojump_clock: trio.testing.MockClock
) -> None:
    """After a read (``read_messages()``'s generator suspended at a ``yield``) and with none
    pending, ``terminate()`` or ``kill()`` then ``wait()``: ``close()`` is called once, the wait
    ends (-15 / -9) though nobody reads on, and the generator's ``finally`` has run (it is
    closed, not left to the garbage collector)."""
    import signal

    transport = Echo()
    async with trio.open_nursery() as nursery:
        proc = await transport.start(tc.LaunchSpec(argv=["claude"], env={}), nursery)
    await proc.stdin.send_all(b'{"type":"user","message":{"role":"user","content":"hi"}}\n')
    assert b'"system"' in await proc.stdout.receive_some()  # the generator is running
    getattr(proc, stop)()
    code = None
    with trio.move_on_after(60) as bound:
        code = await proc.wait()
    assert not bound.cancelled_caught, f"wait() after {stop}() never returned"
    expected = -signal.SIGTERM if stop == "terminate" else -signal.SIGKILL
    assert code == expected and proc.returncode == code
    assert transport.calls.count("close") == 1, transport.calls
    assert transport.finalized
    assert await proc.stdout.receive_some() == b""


# ============================================== ClaudeSDKClient.query() waiting for its write


class SlowWrite(Marked):
    """A remote CLI whose ``write()`` of a prompt takes 1 s (a channel that is not a pipe:
    ``client.query()`` waits for it)."""

    async def write(self, data: str) -> None:
        if json.loads(data)["type"] == "user":
            await trio.sleep(1)
        await super().write(data)


async def test_guard_client_query_waiting_for_its_write_cancelled_at_every_step(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """``client.query()`` on an official-style transport (``Session._until_sent``) cancelled
    after every step: the cancellation is caught by its scope, and the client goes on: the
    next ``query()`` and ``receive_response()`` end with a result, ``disconnect()`` is clean,
    and ``close()`` is called once."""
    problems: list[str] = []

    async def scenario(n: float) -> int:
        transport = SlowWrite()
        client = tc.ClaudeSDKClient(tc.ClaudeAgentOptions(close_timeout=1), transport=transport)
        await client.connect()
        try:
            with trio.fail_after(60):
                error, instrument, late = await cancelled_after(n, lambda: client.query("one"))
                problems.extend(judge(n, error, instrument, late))
                await client.query("two")
                results = [
                    m async for m in client.receive_response() if isinstance(m, tc.ResultMessage)
                ]
                if len(results) != 1:
                    problems.append(f"step {n}: receive_response() gave {results}")
        finally:
            await client.disconnect()
        problems.extend(transport_problems(n, transport))
        return instrument.steps

    await sweep(scenario)
    assert not problems, "\n".join(problems)


# ============================================== background agent tasks keep stdin open


def task_started(task_id: str, task_type: str = "local_agent") -> dict[str, Any]:
    return {
        "type": "system",
        "subtype": "task_started",
        "task_id": task_id,
        "task_type": task_type,
        "description": "a background agent",
        "session_id": SID,
        "uuid": f"started-{task_id}",
    }


def task_notification(task_id: str) -> dict[str, Any]:
    return {
        "type": "system",
        "subtype": "task_notification",
        "task_id": task_id,
        "status": "completed",
        "output_file": "/dev/null",
        "summary": "done",
        "session_id": SID,
        "uuid": f"ended-{task_id}",
    }


class Delegating(Marked):
    """A remote CLI whose turn starts a background agent, ends with a result, and 2 s later
    reports the agent done and wakes for another turn (its own: no prompt for it)."""

    def turn(self, frame: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            _init(),
            task_started("t1"),
            _assistant("delegated"),
            _result("first"),
            _sleep(2),
            task_notification("t1"),
            _assistant("the agent is done"),
            _result("second"),
        ]

    async def end_input(self) -> None:
        self.calls.append(f"end_input after {len(self.frames)} frames")
        await super().end_input()


async def delegating_iterator(transport: Marked, seen: list[Any]) -> None:
    async for message in tc.query(prompt="go", transport=transport):
        seen.append(message)


async def test_guard_iterator_query_kept_open_for_a_background_agent_cancelled_at_every_step(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """The iterator form of ``query()`` keeps stdin open while a background agent runs
    (``_run_over``: ``agent_tasks``); cancelled after every step, before and while it waits:
    the cancellation is caught, ``close()`` is called once, a new query works. Uncancelled, both
    results come out (stdin was not closed after the first)."""
    problems: list[str] = []

    async def scenario(n: float) -> int:
        transport = Delegating()
        seen: list[Any] = []

        async def body() -> None:
            async for message in tc.query(prompt="go", transport=transport):
                seen.append(message)

        with trio.fail_after(300):
            error, instrument, late = await cancelled_after(n, body)
            problems.extend(judge(n, error, instrument, late))
            problems.extend(transport_problems(n, transport))
            results = [m.result for m in seen if isinstance(m, tc.ResultMessage)]
            if not instrument.fired and results != ["first", "second"]:
                problems.append(f"step {n}: uncancelled, results {results}")
            problems.extend(await a_new_query_works(n))
        return instrument.steps

    await sweep(scenario)
    assert not problems, "\n".join(problems)


async def _wait_idle(session: tc.Session) -> None:
    await session.wait_idle()


def delegating_turn(text: str, *, agent: bool) -> FakeTurn:
    steps: list[Any] = []
    if agent:
        steps.append(Emit(task_started(f"t-{text}")))
    steps += [FakeText(text), Result(text=text)]
    if agent:
        steps += [Sleep(2), Emit(task_notification(f"t-{text}"))]
    return FakeTurn(steps=steps)


async def test_guard_wait_idle_for_a_background_agent_cancelled_at_every_step(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """``Session.wait_idle()`` right after a turn that started a background agent (it waits
    for the agent's end), cancelled after every step: caught by its scope; afterwards
    ``wait_idle()`` returns ``True`` once the agent ends, and the next ``run()`` works."""
    problems: list[str] = []

    async def scenario(n: float) -> int:
        script = FakeScript(
            turns=[delegating_turn("one", agent=True), delegating_turn("two", agent=False)]
        )
        options = tc.ClaudeAgentOptions(transport=FakeCLITransport(script), close_timeout=1)
        with trio.fail_after(120):
            async with tc.open_session(options) as session:
                await session.run("one")
                if not session._proto.agent_tasks:
                    problems.append(f"step {n}: the agent was not counted")
                error, instrument, late = await cancelled_after(n, lambda: _wait_idle(session))
                problems.extend(judge(n, error, instrument, late))
                if not instrument.fired and session._proto.agent_tasks:
                    problems.append(f"step {n}: wait_idle() returned with the agent running")
                if not await session.wait_idle(30):
                    problems.append(f"step {n}: wait_idle() not idle after the agent ended")
                turn = await session.run("two")
                if turn.text != "two":
                    problems.append(f"step {n}: the next run() gave {turn.text!r}")
        return instrument.steps

    await sweep(scenario)
    assert not problems, "\n".join(problems)


# ============================================================ eager flush, per frame


def mirror_frame(config: Path, uuids: list[str], session_id: str = SID) -> dict[str, Any]:
    file_path = str(config / "projects" / "p" / f"{session_id}.jsonl")
    entries = [{"type": "user", "uuid": u, "sessionId": session_id} for u in uuids]
    return {"type": "transcript_mirror", "filePath": file_path, "entries": entries}


def lines(*frames: dict[str, Any]) -> bytes:
    return b"".join(json.dumps(frame).encode() + b"\n" for frame in frames)


class SlowStore(tc.InMemorySessionStore):
    """Every append takes 0.5 (mock) seconds, then stores (idempotent, as the stock)."""

    def __init__(self) -> None:
        super().__init__()
        self.appends = 0

    async def append(self, key: tc.SessionKey, entries: list[tc.SessionStoreEntry]) -> None:
        self.appends += 1
        await trio.sleep(0.5)
        await super().append(key, entries)


class EagerCLI:
    """A hand-driven CLI: each prompt gets two transcript_mirror frames around an assistant
    line, then the result (``u-<n>-a``, ``u-<n>-b``); it records what it mirrored."""

    def __init__(self, config: Path) -> None:
        self.config = config
        self.prompts = 0
        self.mirrored: list[str] = []

    async def play(self, child: ManualChild) -> None:
        try:
            await child.handshake()
            while True:
                frame = await child.read_frame()
                if frame.get("type") == "user":
                    self.prompts += 1
                    n = self.prompts
                    first, second = f"u-{n}-a", f"u-{n}-b"
                    self.mirrored.append(first)
                    await child.write(lines(mirror_frame(self.config, [first])))
                    await trio.sleep(0.1)
                    self.mirrored.append(second)
                    await child.write(
                        lines(
                            assistant_frame(f"turn {n}"),
                            mirror_frame(self.config, [second]),
                            result_frame(f"turn {n}"),
                        )
                    )
                elif frame.get("type") == "control_request":
                    await child.answer(frame, {})
        except (EOFError, trio.ClosedResourceError, trio.BrokenResourceError):
            pass
        child.exit(0)


def store_key(session_id: str = SID) -> tc.SessionKey:
    return {"project_key": "p", "session_id": session_id}


def stored_problems(n: float, store: SlowStore, cli: EagerCLI) -> list[str]:
    problems = []
    stored = [e.get("uuid") for e in (store._entries.get(("p", SID, None)) or [])]
    lost = [u for u in cli.mirrored if u not in stored]
    if lost:
        problems.append(f"step {n}: entries {lost} never stored (stored {stored})")
    if len(stored) != len(set(stored)):
        problems.append(f"step {n}: an entry stored twice: {stored}")
    return problems


async def test_guard_eager_flush_session_run_cancelled_at_every_step(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    """``session_store_flush="eager"`` (one append per frame), ``run()`` cancelled after every
    step; the next ``run()`` works, and every mirrored entry is stored, once."""
    problems: list[str] = []
    config = tmp_path / "config"

    async def scenario(n: float) -> int:
        store = SlowStore()
        cli = EagerCLI(config)
        async with trio.open_nursery() as nursery:
            options = tc.ClaudeAgentOptions(
                transport=HostedTransport(nursery, cli.play),
                session_store=store,
                session_store_flush="eager",
                env={"CLAUDE_CONFIG_DIR": str(config)},
                close_timeout=1,
            )
            with trio.fail_after(300):
                async with tc.open_session(options) as session:
                    error, instrument, late = await cancelled_after(n, lambda: _run(session))
                    problems.extend(judge(n, error, instrument, late))
                    turn = await session.run("two")
                    if turn.text != f"turn {cli.prompts}":
                        problems.append(f"step {n}: the next run() gave {turn.text!r}")
            nursery.cancel_scope.cancel()
        problems.extend(stored_problems(n, store, cli))
        return instrument.steps

    await sweep(scenario)
    assert not problems, "\n".join(problems)


async def _run(session: tc.Session, prompt: str = "one") -> None:
    await session.run(prompt)


async def test_guard_eager_flush_iterator_query_cancelled_at_every_step(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    """The iterator form of ``query()`` with ``session_store_flush="eager"`` (its flushes in
    ``_deliver``) cancelled after every step; every mirrored entry is stored, once."""
    problems: list[str] = []
    config = tmp_path / "config"

    async def scenario(n: float) -> int:
        store = SlowStore()
        cli = EagerCLI(config)
        async with trio.open_nursery() as nursery:
            options = tc.ClaudeAgentOptions(
                transport=HostedTransport(nursery, cli.play),
                session_store=store,
                session_store_flush="eager",
                env={"CLAUDE_CONFIG_DIR": str(config)},
                close_timeout=1,
            )

            async def body() -> None:
                async for _ in tc.query(prompt="go", options=options):
                    pass

            with trio.fail_after(300):
                error, instrument, late = await cancelled_after(n, body)
                problems.extend(judge(n, error, instrument, late))
            nursery.cancel_scope.cancel()
        problems.extend(stored_problems(n, store, cli))
        return instrument.steps

    await sweep(scenario)
    assert not problems, "\n".join(problems)


# =========================================== continue_conversation from a session store


async def stocked_store(cwd: Path) -> tc.InMemorySessionStore:
    """A store with two sessions of ``cwd``'s project, ``SID`` the newer."""
    from trio_claude._session_store import project_key_for_directory

    store = tc.InMemorySessionStore()
    project = project_key_for_directory(str(cwd))
    for session_id in (OLD_SID, SID):
        entry: Any = {
            "type": "user",
            "uuid": f"e-{session_id[-4:]}",
            "sessionId": session_id,
            "message": {"role": "user", "content": "earlier"},
        }
        await store.append({"project_key": project, "session_id": session_id}, [entry])
    return store


class ResumedCLI:
    """A hand-driven CLI answering each prompt; it records the ``--resume`` it was given."""

    def __init__(self) -> None:
        self.resumed: list[str | None] = []

    def transport(self, nursery: trio.Nursery) -> HostedTransport:
        cli = self

        class Recording(HostedTransport):
            async def start(self, spec: Any, nursery: trio.Nursery) -> Any:
                flags = [a for a in spec.argv if a.startswith("--resume=")]
                cli.resumed.append(flags[0].removeprefix("--resume=") if flags else None)
                return await super().start(spec, nursery)

        return Recording(nursery, self.play)

    async def play(self, child: ManualChild) -> None:
        try:
            await child.handshake()
            while True:
                frame = await child.read_frame()
                if frame.get("type") == "user":
                    await trio.sleep(0.1)
                    await child.write(lines(assistant_frame("resumed"), result_frame("resumed")))
                elif frame.get("type") == "control_request":
                    await child.answer(frame, {})
        except (EOFError, trio.ClosedResourceError, trio.BrokenResourceError):
            pass
        child.exit(0)


@pytest.fixture
def resume_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the resumes' temporary config dirs go (``tempfile.gettempdir()``), the test's own.

    Worker threads run inline (the autojump clock would jump to the next deadline while the
    run loop waits for a thread): a call that cannot be abandoned runs, then a checkpoint that
    takes no cancellation (a thread's wait ignores it); one that can be abandoned takes the
    cancellation first (abandoned before it ran)."""
    where = tmp_path / "tmp"
    where.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(where))

    async def run_inline(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("abandon_on_cancel") or kwargs.get("cancellable"):
            await trio.lowlevel.checkpoint()
            return function(*args)
        result = function(*args)
        await trio.lowlevel.cancel_shielded_checkpoint()
        return result

    monkeypatch.setattr(trio.to_thread, "run_sync", run_inline)
    return where


def leftover_dirs(where: Path) -> list[str]:
    """The names left in ``where`` (removed, so the next run starts clean)."""
    left = sorted(p.name for p in where.iterdir())
    for name in left:
        shutil.rmtree(where / name, ignore_errors=True)
    return left


ContinueRun = Callable[[tc.ClaudeAgentOptions], Awaitable[None]]


async def continue_by_session(options: tc.ClaudeAgentOptions) -> None:
    async with tc.open_session(options) as session:
        await session.run("go on")


async def continue_by_iterator(options: tc.ClaudeAgentOptions) -> None:
    async for _ in tc.query(prompt="go on", options=options):
        pass


async def continue_sweep(tmp_path: Path, resume_dirs: Path, run: ContinueRun) -> list[str]:
    problems: list[str] = []
    cwd = tmp_path / "project"
    cwd.mkdir(exist_ok=True)

    async def scenario(n: float) -> int:
        store = await stocked_store(cwd)
        cli = ResumedCLI()
        async with trio.open_nursery() as nursery:
            options = tc.ClaudeAgentOptions(
                transport=cli.transport(nursery),
                session_store=store,
                continue_conversation=True,
                cwd=str(cwd),
                env={"CLAUDE_CONFIG_DIR": str(tmp_path / "config")},
                load_timeout_ms=10**9,  # (threads run under the autojump clock)
                close_timeout=1,
            )
            with trio.fail_after(300):
                error, instrument, late = await cancelled_after(n, lambda: run(options))
                problems.extend(judge(n, error, instrument, late))
                if any(r != SID for r in cli.resumed):
                    problems.append(f"step {n}: resumed {cli.resumed}, not the newest")
                if not instrument.fired and cli.resumed != [SID]:
                    problems.append(f"step {n}: uncancelled, resumed {cli.resumed}")
                left = leftover_dirs(resume_dirs)
                if left:
                    problems.append(f"step {n}: temporary config dirs left: {left}")
                # A later use: the same store, continued again, uncancelled.
                await run(attrs.evolve(options, transport=cli.transport(nursery)))
                if cli.resumed[-1] != SID:
                    problems.append(f"step {n}: the next use resumed {cli.resumed[-1]}")
            nursery.cancel_scope.cancel()
        return instrument.steps

    await sweep(scenario)
    return problems


async def test_guard_continue_from_a_store_open_session_cancelled_at_every_step(
    tmp_path: Path, resume_dirs: Path, autojump_clock: trio.testing.MockClock
) -> None:
    """``open_session(continue_conversation=True, session_store=...)`` and a turn, cancelled
    after every step (the listing, the materialisation in a thread, the spawn): the newest
    session is resumed, no temporary config dir is left, and a new session works."""
    problems = await continue_sweep(tmp_path, resume_dirs, continue_by_session)
    assert not problems, "\n".join(problems)


async def test_guard_continue_from_a_store_iterator_query_cancelled_at_every_step(
    tmp_path: Path, resume_dirs: Path, autojump_clock: trio.testing.MockClock
) -> None:
    problems = await continue_sweep(tmp_path, resume_dirs, continue_by_iterator)
    assert not problems, "\n".join(problems)


# =============================================== ResultError for an exit over an error result


async def exits_over_an_error_result(child: ManualChild) -> None:
    """A CLI that answers its prompt with an error result and exits 1 over it (a refused
    ``--resume``, say), without waiting for its stdin to close."""
    try:
        await child.handshake()
        while True:
            frame = await child.read_frame()
            if frame.get("type") == "user":
                await trio.sleep(0.1)
                error = result_frame(subtype="error_during_execution")
                error["errors"] = ["No conversation found with session ID: x"]
                await child.write(lines(error))
                await trio.sleep(0.1)
                break
            if frame.get("type") == "control_request":
                await child.answer(frame, {})
    except (EOFError, trio.ClosedResourceError, trio.BrokenResourceError):
        pass
    await trio.lowlevel.checkpoint()
    child.exit(1)


async def result_error_by_iterator(options: tc.ClaudeAgentOptions) -> None:
    async for _ in tc.query(prompt="go", options=options):
        pass


async def result_error_by_session_form(options: tc.ClaudeAgentOptions) -> None:
    async with tc.query(prompt="go", options=options) as stream:
        async for _ in stream:
            pass


@pytest.mark.parametrize("form", [result_error_by_iterator, result_error_by_session_form])
async def test_guard_exit_over_an_error_result_cancelled_at_every_step(
    form: Callable[[tc.ClaudeAgentOptions], Awaitable[None]],
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A CLI exiting 1 over an error result (``_exit.process_error`` builds a ``ResultError``
    caused by the exit), the query cancelled after every step: the cancellation caught or the
    typed ``ProcessError``/``ResultError``, never a group; uncancelled the iterator form raises
    ``ResultError``; a new query works."""
    problems: list[str] = []
    uncancelled: list[BaseException | None] = []

    async def scenario(n: float) -> int:
        async with trio.open_nursery() as nursery:
            options = tc.ClaudeAgentOptions(
                transport=HostedTransport(nursery, exits_over_an_error_result), close_timeout=1
            )
            with trio.fail_after(300):
                error, instrument, late = await cancelled_after(n, lambda: form(options))
                problems.extend(judge(n, error, instrument, late, allowed=(tc.ProcessError,)))
                if not instrument.fired:
                    uncancelled.append(error)
            nursery.cancel_scope.cancel()
        problems.extend(await a_new_query_works(n))
        return instrument.steps

    await sweep(scenario)
    if form is result_error_by_iterator:
        for error in uncancelled:
            if not isinstance(error, tc.ResultError):
                problems.append(f"uncancelled, the iterator form ended with {error!r}")
    assert not problems, "\n".join(problems)
