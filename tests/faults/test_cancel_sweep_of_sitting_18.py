"""A seeded cancellation sweep over the paths sitting 18 changed (51022c1..HEAD):
``continue_conversation`` from a session store walking its candidates newest first
(``_mirror._continue_candidate``, ``prepare_store_resume``: sidechains, non-UUID ids and empty
sessions skipped); an official-style transport's ``OfficialProcess.kill()``/``terminate()``/
``wait()``/``_close_messages`` with a ``read_messages()`` generator whose ``finally`` awaits;
the session and the query reacting to an exit over an error result (``_last_error_result``,
``OutputEnd.error_result_last``); and ``ambient_carrier`` (a session opened inside an attached
OpenTelemetry context).

Method (as ``test_cancel_sweep_of_sitting_17.py``, whose helpers it reuses): a scenario's task
steps are counted in a dry run, then it runs again cancelled after step ``k`` for every ``k``
(or a sample drawn by ``random.Random(seed)``), the scheduler seeded with ``k``. After each
run: the cancellation caught by the scope it was aimed at (or the scenario's own typed error),
never an exception group; the block left within a bounded (virtual) time; ``close()`` of an
official-style transport called once; no ``claude-resume-*`` temporary dir left; a later use
works. The autouse leak check of ``tests/faults/conftest.py`` adds: no task, process or
descriptor left.
"""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio
import trio.testing

import trio_claude as tc

from ._support import HostedTransport, ManualChild, assistant_frame, result_frame
from ._sweep import Scenario
from ._sweep import sweep as _sweep
from .test_cancel_sweep_of_sitting_17 import (
    EXIT_BOUND,
    OfficialRun,
    Paced,
    ResumedCLI,
    a_new_query_works,
    cancelled_after,
    continue_by_iterator,
    continue_by_session,
    judge,
    leftover_dirs,
    lines,
    official_client,
    official_iterator,
    official_open_session,
    official_session_form,
    resume_dirs,
    transport_problems,
)

__all__ = ["resume_dirs"]  # (the fixture, imported for the tests below)

SEED = 18
NEWEST = "18181818-1818-4181-8181-181818181818"  # the one to resume
OLDER = "18181818-1818-4181-8181-000000000001"
SIDECHAIN = "18181818-1818-4181-8181-00000000000a"
EMPTY = "18181818-1818-4181-8181-00000000000b"
NOT_A_UUID = "agent-18"
TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
TRACEPARENT = f"00-{TRACE_ID}-b7ad6b7169203331-01"


async def sweep(scenario: Scenario, *, seed: int = SEED, minimum: int = 5) -> int:
    """The shared sweep (``_sweep.py``), with this file's seed."""
    return await _sweep(scenario, seed=seed, minimum=minimum)


# =========================================== continue_conversation walking its candidates


def _entry(session_id: str, *, sidechain: bool = False) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "type": "user",
        "uuid": f"e-{session_id[-4:]}",
        "sessionId": session_id,
        "message": {"role": "user", "content": "earlier"},
    }
    if sidechain:
        entry["isSidechain"] = True
    return entry


class WalkedStore(tc.InMemorySessionStore):
    """A store listing (newest first by mtime) a sidechain, a non-UUID id, an empty session,
    then ``NEWEST`` and ``OLDER``; every load takes 0.1 (mock) seconds, so the walk has
    points to cancel at between candidates."""

    def __init__(self, project: str) -> None:
        super().__init__()
        self.project = project
        self.loaded: list[str] = []

    async def stock(self) -> None:
        stocked = ((OLDER, False), (NEWEST, False), (NOT_A_UUID, False), (SIDECHAIN, True))
        for session_id, sidechain in stocked:
            key: tc.SessionKey = {"project_key": self.project, "session_id": session_id}
            entries: list[Any] = [_entry(session_id, sidechain=sidechain)]
            await self.append(key, entries)

    async def list_sessions(self, project_key: str) -> list[Any]:
        await trio.sleep(0.1)
        return [
            {"session_id": OLDER, "mtime": 1000},
            {"session_id": NEWEST, "mtime": 2000},
            {"session_id": EMPTY, "mtime": 3000},
            {"session_id": NOT_A_UUID, "mtime": 4000},
            {"session_id": SIDECHAIN, "mtime": 5000},
        ]

    async def load(self, key: tc.SessionKey) -> Any:
        self.loaded.append(key["session_id"])
        await trio.sleep(0.1)
        return await super().load(key)


ContinueRun = Callable[[tc.ClaudeAgentOptions], Awaitable[None]]


async def walk_sweep(tmp_path: Path, resume_dirs: Path, run: ContinueRun) -> list[str]:
    from trio_claude._session_store import project_key_for_directory

    problems: list[str] = []
    cwd = tmp_path / "project"
    cwd.mkdir(exist_ok=True)
    project = project_key_for_directory(str(cwd))

    async def scenario(n: float) -> int:
        store = WalkedStore(project)
        await store.stock()
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
                if any(r != NEWEST for r in cli.resumed):
                    problems.append(f"step {n}: resumed {cli.resumed}, not {NEWEST}")
                if not instrument.fired and cli.resumed != [NEWEST]:
                    problems.append(f"step {n}: uncancelled, resumed {cli.resumed}")
                if NOT_A_UUID in store.loaded or OLDER in store.loaded[:1]:
                    problems.append(f"step {n}: the walk loaded {store.loaded}")
                left = leftover_dirs(resume_dirs)
                if left:
                    problems.append(f"step {n}: temporary config dirs left: {left}")
                # A later use: the same store, continued again, uncancelled.
                await run(attrs.evolve(options, transport=cli.transport(nursery)))
                if cli.resumed[-1:] != [NEWEST]:
                    problems.append(f"step {n}: the next use resumed {cli.resumed}")
                left = leftover_dirs(resume_dirs)
                if left:
                    problems.append(f"step {n}: the next use left dirs: {left}")
            nursery.cancel_scope.cancel()
        return instrument.steps

    await sweep(scenario)
    return problems


@pytest.mark.parametrize("run", [continue_by_session, continue_by_iterator])
async def test_guard_continue_walking_candidates_cancelled_at_every_step(
    run: ContinueRun,
    tmp_path: Path,
    resume_dirs: Path,
    autojump_clock: trio.testing.MockClock,
) -> None:
    """``continue_conversation=True`` from a store whose newest listings are a sidechain, a
    non-UUID id and an empty session (each skipped, the loads between them points to cancel
    at), by ``open_session`` and by the iterator form, cancelled after every step: the
    cancellation caught, only ``NEWEST`` ever resumed, no ``claude-resume-*`` dir left, and a
    new continue works."""
    problems = await walk_sweep(tmp_path, resume_dirs, run)
    assert not problems, "\n".join(problems)


# ============================ official-style transports: a generator whose finally awaits


class AwaitingFinally(Paced):
    """:class:`Paced` whose ``read_messages()``'s ``finally`` awaits (0.3 s of cleanup, as a
    transport closing a socket or a task group would); ``cleaned``: it got to its end."""

    def __init__(self) -> None:
        super().__init__()
        self.cleaned = False

    async def read_messages(self) -> AsyncIterator[dict[str, Any]]:
        try:
            async for message in self._recv:
                if "__sleep" in message:
                    await trio.sleep(message["__sleep"])
                    continue
                yield message
        finally:
            self.finalized = True
            await trio.sleep(0.3)
            self.cleaned = True


async def awaiting_sweep(run: OfficialRun) -> list[str]:
    problems: list[str] = []

    async def scenario(n: float) -> int:
        transport = AwaitingFinally()
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


@pytest.mark.parametrize(
    "run",
    [official_iterator, official_session_form, official_client, official_open_session],
    ids=["iterator", "session-form", "client", "open_session"],
)
async def test_guard_official_transport_with_an_awaiting_finally_cancelled_at_every_step(
    run: OfficialRun, autojump_clock: trio.testing.MockClock
) -> None:
    """Each form over an official-style transport whose generator's ``finally`` awaits,
    cancelled after every step (while stopping too: ``kill``/``terminate``, ``wait()``,
    ``_close_messages``): caught, left in time, ``close()`` once, the generator's ``finally``
    run (no task left for the garbage collector's finalizer), and a new query works."""
    problems = await awaiting_sweep(run)
    assert not problems, "\n".join(problems)


def _user(text: str = "hi") -> bytes:
    return b'{"type":"user","message":{"role":"user","content":"' + text.encode() + b'"}}\n'


@pytest.mark.parametrize("stop", ["terminate", "kill"])
@pytest.mark.parametrize("pending", [False, True], ids=["between-reads", "read-pending"])
async def test_guard_official_process_stop_and_wait_cancelled_at_every_step(
    stop: str, pending: bool, autojump_clock: trio.testing.MockClock
) -> None:
    """``OfficialProcess`` after a read (its generator suspended at a ``yield``, its ``finally``
    awaiting), with or without another read pending in a task: ``terminate()``/``kill()`` then
    ``wait()``, cancelled after every step. The cancellation is caught; a later shielded
    ``wait()`` (as ``shutdown_process`` makes) ends within the bound with the stop's status
    (or the output's own end), ``close()`` once, the generator's ``finally`` run."""
    problems: list[str] = []

    async def scenario(n: float) -> int:
        transport = AwaitingFinally()
        with trio.fail_after(120):
            async with trio.open_nursery() as nursery:
                proc = await transport.start(tc.LaunchSpec(argv=["claude"], env={}), nursery)
                await proc.stdin.send_all(_user())
                assert b'"system"' in await proc.stdout.receive_some()
                got: list[Any] = []

                async def read_on() -> None:
                    try:
                        while chunk := await proc.stdout.receive_some():
                            got.append(chunk)
                    except trio.ClosedResourceError:
                        pass

                if pending:
                    nursery.start_soon(read_on)
                    await trio.testing.wait_all_tasks_blocked()

                async def body() -> None:
                    getattr(proc, stop)()
                    await proc.wait()

                error, instrument, late = await cancelled_after(n, body)
                problems.extend(judge(n, error, instrument, late))
                start = trio.current_time()
                code = None
                with trio.CancelScope(shield=True), trio.move_on_after(EXIT_BOUND) as bound:
                    code = await proc.wait()
                if bound.cancelled_caught:
                    problems.append(f"step {n}: wait() after {stop}() never returned")
                elif trio.current_time() - start > EXIT_BOUND:
                    problems.append(f"step {n}: wait() took {trio.current_time() - start:g} s")
                # (The status with a read pending: see the test after this one.)
                expected = {-signal.SIGTERM if stop == "terminate" else -signal.SIGKILL, 0}
                if code is not None and code not in expected and not pending:
                    problems.append(f"step {n}: wait() gave {code}")
                if transport.calls.count("close") != 1:
                    problems.append(f"step {n}: close() called: {transport.calls}")
                if not transport.finalized:
                    problems.append(f"step {n}: read_messages()'s generator was left open")
                nursery.cancel_scope.cancel()
            problems.extend(await a_new_query_works(n))
        return instrument.steps

    await sweep(scenario, minimum=2)
    assert not problems, "\n".join(problems)


async def test_kill_of_an_official_process_with_a_read_pending_ends_with_sigkill(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """``kill()`` while another task's read is pending (the read cancelled, as ``kill()``
    promises: "Ends the output now (status -9): a pending read is abandoned"): ``wait()``
    must give ``-SIGKILL``. ``OfficialProcess._read_one`` catches the cancellation of its own
    read scope in ``except BaseException: self._end(1)`` before the scope catches it, so the
    status is 1: a kill reads as the CLI failing on its own (an exit 1, the status a CLI
    gives after an error result)."""
    transport = AwaitingFinally()
    async with trio.open_nursery() as nursery:
        proc = await transport.start(tc.LaunchSpec(argv=["claude"], env={}), nursery)
        await proc.stdin.send_all(_user())
        assert b'"system"' in await proc.stdout.receive_some()

        async def read_on() -> None:
            while await proc.stdout.receive_some():
                pass

        nursery.start_soon(read_on)
        await trio.testing.wait_all_tasks_blocked()
        assert proc._read_scope is not None  # type: ignore[attr-defined]
        proc.kill()
        with trio.move_on_after(EXIT_BOUND) as bound:
            code = await proc.wait()
    assert not bound.cancelled_caught
    assert transport.calls.count("close") == 1, transport.calls
    assert transport.finalized
    assert code == -signal.SIGKILL and proc.returncode == code, code


# ==================================================== an exit after an error result


def _error_result() -> dict[str, Any]:
    error = result_frame(subtype="error_during_execution")
    error["errors"] = ["No conversation found with session ID: x"]
    return error


STATE_CHANGED = {"type": "system", "subtype": "session_state_changed", "state": "idle"}


def exits_after(after: list[dict[str, Any]]) -> Callable[[ManualChild], Awaitable[None]]:
    """A CLI answering its prompt with an error result, then ``after``, then exiting 1 (0.1 s
    between each: points to cancel at around the exit)."""

    async def play(child: ManualChild) -> None:
        try:
            await child.handshake()
            while True:
                frame = await child.read_frame()
                if frame.get("type") == "user":
                    await trio.sleep(0.1)
                    await child.write(lines(_error_result()))
                    for more in after:
                        await trio.sleep(0.1)
                        await child.write(lines(more))
                    await trio.sleep(0.1)
                    break
                if frame.get("type") == "control_request":
                    await child.answer(frame, {})
        except (EOFError, trio.ClosedResourceError, trio.BrokenResourceError):
            pass
        await trio.lowlevel.checkpoint()
        child.exit(1)

    return play


async def error_exit_by_iterator(options: tc.ClaudeAgentOptions) -> None:
    async for _ in tc.query(prompt="go", options=options):
        pass


async def error_exit_by_session_form(options: tc.ClaudeAgentOptions) -> None:
    async with tc.query(prompt="go", options=options) as stream:
        async for _ in stream:
            pass


async def error_exit_by_open_session(options: tc.ClaudeAgentOptions) -> None:
    """The turn's error result is its own ``ResultError`` (caught); the exit after it is
    what the next ``run()`` meets (a ``ProcessError``)."""
    async with tc.open_session(options) as session:
        try:
            await session.run("go")
        except tc.ResultError:
            pass
        await session.run("again")


CASES = {
    "state-changed": ([STATE_CHANGED], tc.ResultError),
    "moved-on": ([assistant_frame("later")], tc.ProcessError),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize(
    "form",
    [error_exit_by_iterator, error_exit_by_session_form, error_exit_by_open_session],
    ids=["iterator", "session-form", "open_session"],
)
async def test_guard_exit_after_an_error_result_cancelled_at_every_step(
    case: str,
    form: Callable[[tc.ClaudeAgentOptions], Awaitable[None]],
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A CLI exiting 1 after an error result and a ``session_state_changed`` (the result's own
    failure: ``ResultError`` in the iterator form) or after an assistant message (the
    conversation moved on: a ``ProcessError``, never the ``ResultError``), cancelled after
    every step around the exit: the cancellation caught or the typed ``ProcessError``, never a
    group; a new query works."""
    after, expected = CASES[case]
    problems: list[str] = []
    uncancelled: list[BaseException | None] = []

    async def scenario(n: float) -> int:
        async with trio.open_nursery() as nursery:
            options = tc.ClaudeAgentOptions(
                transport=HostedTransport(nursery, exits_after(after)), close_timeout=1
            )
            with trio.fail_after(300):
                error, instrument, late = await cancelled_after(n, lambda: form(options))
                problems.extend(judge(n, error, instrument, late, allowed=(tc.ProcessError,)))
                if isinstance(error, tc.ResultError) and expected is not tc.ResultError:
                    problems.append(f"step {n}: a ResultError after the conversation moved on")
                if not instrument.fired:
                    uncancelled.append(error)
            nursery.cancel_scope.cancel()
        problems.extend(await a_new_query_works(n))
        return instrument.steps

    await sweep(scenario)
    if form is error_exit_by_iterator:
        for error in uncancelled:
            if type(error) is not expected:
                problems.append(f"uncancelled, the iterator form ended with {error!r}")
    assert not problems, "\n".join(problems)


# ==================================================== the ambient OpenTelemetry context


class EnvRecording(HostedTransport):
    """:class:`HostedTransport` recording the ``TRACEPARENT`` each start was given."""

    def __init__(self, nursery: trio.Nursery, play: Any, seen: list[str | None]) -> None:
        super().__init__(nursery, play)
        self.seen = seen

    async def start(self, spec: tc.LaunchSpec, nursery: trio.Nursery) -> Any:
        self.seen.append(spec.env.get("TRACEPARENT"))
        return await super().start(spec, nursery)


async def ambient_by_session(options: tc.ClaudeAgentOptions) -> None:
    async with tc.open_session(options) as session:
        await session.run("go")


async def ambient_by_iterator(options: tc.ClaudeAgentOptions) -> None:
    async for _ in tc.query(prompt="go", options=options):
        pass


@pytest.mark.parametrize("run", [ambient_by_session, ambient_by_iterator])
async def test_guard_session_in_an_ambient_trace_context_cancelled_at_every_step(
    run: ContinueRun, autojump_clock: trio.testing.MockClock
) -> None:
    """A session opened inside an attached OpenTelemetry context (``ambient_carrier``), by
    ``open_session`` and by the iterator form, cancelled after every step: caught, and the CLI
    is always started with the caller's ``TRACEPARENT``; the context is left as it was, and a
    new session in it works."""
    from opentelemetry import context, propagate

    problems: list[str] = []

    async def scenario(n: float) -> int:
        seen: list[str | None] = []
        token = context.attach(propagate.extract({"traceparent": TRACEPARENT}))
        try:
            async with trio.open_nursery() as nursery:
                play = ResumedCLI().play
                options = tc.ClaudeAgentOptions(
                    transport=EnvRecording(nursery, play, seen), close_timeout=1
                )
                with trio.fail_after(300):
                    error, instrument, late = await cancelled_after(n, lambda: run(options))
                    problems.extend(judge(n, error, instrument, late))
                    if not instrument.fired and seen != [TRACEPARENT]:
                        problems.append(f"step {n}: uncancelled, the CLI got {seen}")
                    await run(attrs.evolve(options, transport=EnvRecording(nursery, play, seen)))
                    if any(s != TRACEPARENT for s in seen):
                        problems.append(f"step {n}: the CLI got {seen}")
                nursery.cancel_scope.cancel()
            carrier: dict[str, str] = {}
            propagate.inject(carrier)
            if carrier.get("traceparent") != TRACEPARENT:
                problems.append(f"step {n}: the ambient context changed: {carrier}")
        finally:
            context.detach(token)
        return instrument.steps

    await sweep(scenario)
    assert not problems, "\n".join(problems)
