"""A cancellation swept through every checkpoint of the paths changed in cf303e7..34fe820:
``Session.set_mcp_servers`` (its lock, the shielded replace, the rollback of a failed call's
servers), the transcript mirror's cut-short flush, the SQL stores' per-run locks, the spans of
abandoned turns, and the spawner thread.

Method (as ``test_cancellation.py``): a :class:`~._support.CancelAfterSteps` instrument counts
task steps; a dry run counts the ``K`` steps of a scenario, then the scenario runs again
cancelled after step ``n`` for every ``n`` in ``1..K+1`` (the scheduler seeded with ``n``).

The ``test_guard_...`` tests pass: they keep paths found sound under that sweep. The others
fail on 34fe820; their docstrings say what goes wrong.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

import trio_claude as tc
from trio_claude.testing.fake_cli import (
    FakeCLITransport,
    FakeScript,
    FakeTurn,
    Result,
    Sleep,
    Text,
    ToolUse,
)

from ._support import CancelAfterSteps, ManualTransport
from .test_cancellation import seeded_scheduler

Arm = Callable[[trio.CancelScope], None]


async def count_then_sweep(
    scenario: Callable[[float], Awaitable[int]], *, every: int = 1, minimum: int = 5
) -> int:
    """Runs ``scenario(math.inf)`` to count its steps, then ``scenario(n)`` for each ``n``."""
    total = await scenario(math.inf)
    assert total >= minimum, total
    for n in range(1, total + 2, every):
        with seeded_scheduler(n):
            try:
                await scenario(n)
            except BaseException as exc:
                raise AssertionError(f"cancelled after step {n}: {exc!r}") from exc
    return total


# ===================================================================== set_mcp_servers


class McpCLI:
    """A hand-driven CLI that keeps the dynamic MCP servers it is given, applies a set as
    soon as it reads it (a ``control_cancel_request`` that follows undoes nothing: the CLI has
    (re)connected its servers by then), and answers everything else with ``{}``.

    ``connected[key]``: the name of the in-process server the CLI connected under ``key``. It
    connects when the key is added; a set naming a key it holds keeps the server it has (the
    CLI keeps an SDK server's tools until the key is dropped)."""

    def __init__(self) -> None:
        self.connected: dict[str, str] = {}

    async def play(self, transport: ManualTransport) -> None:
        await transport.child_ready.wait()
        child = transport.child
        assert child is not None
        try:
            await child.handshake()
            while True:
                frame = await child.read_frame()
                if frame.get("type") != "control_request":
                    continue
                request = frame["request"]
                if request["subtype"] == "mcp_set_servers":
                    wanted = request["servers"]
                    removed = [k for k in self.connected if k not in wanted]
                    added = [k for k in wanted if k not in self.connected]
                    for key in removed:
                        del self.connected[key]
                    for key in added:
                        self.connected[key] = wanted[key].get("name", wanted[key]["type"])
                    await trio.lowlevel.checkpoint()  # the answer is on its way
                    await child.answer(frame, {"added": added, "removed": removed, "errors": {}})
                else:
                    await child.answer(frame, {})
        except (EOFError, trio.ClosedResourceError, trio.BrokenResourceError):
            pass
        child.exit(0)


def routes(session: tc.Session) -> dict[str, str]:
    """The router's routes: key -> the name of the in-process server it routes to."""
    router: Any = session._request_handlers()["mcp_message"]
    return {key: connection.server.name for key, connection in router.connections.items()}


def router_lock(session: tc.Session) -> trio.Lock:
    router: Any = session._request_handlers()["mcp_message"]
    lock: trio.Lock = router.changing
    return lock


def server(key: str, tag: str) -> dict[str, Any]:
    """An in-process server for ``key``, named ``key-tag`` (so the CLI's record says which)."""
    return dict(tc.create_sdk_mcp_server(f"{key}-{tag}", tools=[]))


def mismatch(session: tc.Session, cli: McpCLI) -> str | None:
    """None when the router routes exactly the keys the CLI holds, each to the server the CLI
    connected under it; else what differs."""
    mine = routes(session)
    sdk = {key: name for key, name in cli.connected.items() if name != "stdio"}
    if mine != sdk:
        return f"router routes {mine}, the CLI holds {sdk}"
    return None


async def mcp_sweep(
    calls: Callable[[tc.Session, Arm], Awaitable[None]], *, first: dict[str, Any]
) -> list[str]:
    """Sweeps ``calls(session, arm)`` after ``set_mcp_servers(first)``; returns mismatches."""
    mismatches: list[str] = []

    async def scenario(n: float) -> int:
        cli = McpCLI()
        transport = ManualTransport()
        options = tc.ClaudeAgentOptions(transport=transport, control_timeout=30)
        instrument = CancelAfterSteps(n=n)
        with trio.fail_after(60):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(cli.play, transport)
                async with tc.open_session(options) as session:
                    await session.set_mcp_servers(first)
                    trio.lowlevel.add_instrument(instrument)
                    try:
                        await calls(session, instrument.arm)
                    finally:
                        trio.lowlevel.remove_instrument(instrument)
                    await session.get_usage()  # the CLI has handled every earlier request
                    assert not router_lock(session).locked(), f"step {n}: the lock is held"
                    problem = mismatch(session, cli)
                    if problem is not None:
                        mismatches.append(f"after step {n}: {problem}")
        return instrument.steps

    await count_then_sweep(scenario)
    return mismatches


async def test_a_cancelled_set_mcp_servers_keeps_the_routes_of_servers_the_cli_took(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """``_set_mcp_servers_once`` (``_control_api.py:239-244``) registers the call's new
    in-process servers, sends ``mcp_set_servers``, and on *any* ``BaseException`` forgets them
    again (``router.remove(added)``). A cancellation of the caller (a deadline) that lands once
    the request is written is such an exception, but by then the CLI has the request and
    applies it (a ``control_cancel_request`` does not undo a server set; the replace path's own
    comment says as much: "the CLI may have applied it"): the CLI holds the server and offers
    its tools to the model, while the session's router no longer knows it, so every
    ``mcp_message`` for it is answered "Server 'b-1' not found". A later
    ``set_mcp_servers({"b": other})`` is then not seen as a replace (``router.replaced`` finds
    no route) and goes out as one request under a key the CLI holds: the CLI keeps the first
    server's tools while calls go to the other.

    Swept: ``set_mcp_servers({"a": A, "b": B})`` over ``{"a": A}``, cancelled after every step
    (the request is written before the call's first schedule point, so every step fails).
    Expected: the router routes exactly what the CLI holds. (Fix: on a cancellation after the
    write, keep the routes, forgetting them only on an error answer or when nothing was
    written; or shield the single request as the replace is, bounded by ``control_timeout``.)
    """

    async def call(session: tc.Session, arm: Arm) -> None:
        with trio.CancelScope() as scope:
            arm(scope)
            await session.set_mcp_servers({"a": a, "b": server("b", "1")})

    a = server("a", "1")
    mismatches = await mcp_sweep(call, first={"a": a})
    assert not mismatches, "\n".join(mismatches)


async def test_guard_cancelled_replaces_and_a_cancelled_one_of_two_callers_keep_routes_true(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """The shielded two-step replace under ``router.changing``: a caller cancelled while it
    waits for the lock, in step 1, between the steps or in step 2, alone or racing an
    uncancelled caller. Routes always match the CLI's servers, the lock is free, no hang."""

    async def replace_alone(session: tc.Session, arm: Arm) -> None:
        with trio.CancelScope() as scope:
            arm(scope)
            stdio = {"type": "stdio", "command": "x"}
            await session.set_mcp_servers({"a": server("a", "2"), "c": stdio})

    async def two_callers(session: tc.Session, arm: Arm) -> None:
        async def cancelled() -> None:
            with trio.CancelScope() as scope:
                arm(scope)
                await session.set_mcp_servers({"a": server("a", "3")})

        async with trio.open_nursery() as callers:
            callers.start_soon(session.set_mcp_servers, {"a": server("a", "2")})
            callers.start_soon(cancelled)

    for calls in (replace_alone, two_callers):
        mismatches = await mcp_sweep(calls, first={"a": server("a", "1")})
        assert not mismatches, "\n".join(mismatches)


# =========================================================================== telemetry


def span_recorder() -> tuple[Any, Any]:
    """A tracer provider and a processor recording every span started and ended."""
    sdk_trace = pytest.importorskip("opentelemetry.sdk.trace")

    class Recorder(sdk_trace.SpanProcessor):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            self.started: dict[int, str] = {}
            self.ended: list[int] = []

        def on_start(self, span: Any, parent_context: Any = None) -> None:
            self.started[span.context.span_id] = span.name

        def on_end(self, span: Any) -> None:
            self.ended.append(span.context.span_id)

        def shutdown(self) -> None:
            pass

        def force_flush(self, timeout_millis: int = 30000) -> bool:
            return True

    provider = sdk_trace.TracerProvider()
    recorder = Recorder()
    provider.add_span_processor(recorder)
    return provider, recorder


class EndedTwice(logging.Handler):
    """Catches the SDK's "Calling end() on an ended span." warning."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "ended span" in message:
            self.messages.append(message)


TOOL_TURNS = FakeScript(
    turns=[
        FakeTurn(
            steps=[
                ToolUse("Bash", {"command": "make"}, id="toolu_1"),
                Text("working"),
                Sleep(1),
                ToolUse("Read", {"path": "x"}, id="toolu_2"),
                Text("still working"),
                Sleep(1),
                Result(text="old"),
            ]
        ),
        FakeTurn.reply("fresh"),
    ]
)


async def test_guard_spans_of_a_run_cancelled_at_every_step_end_once(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """``session.run()`` with telemetry, cancelled after every step (its turn abandoned with
    tool spans open; ``_on_dropped`` feeds the dropped messages to the trace), then a second
    run and the close. Every span ends, once; one ``claude.turn`` per prompt the CLI got."""
    handler = EndedTwice()
    otel_logger = logging.getLogger("opentelemetry")
    otel_logger.addHandler(handler)
    problems: list[str] = []

    async def scenario(n: float) -> int:
        provider, recorder = span_recorder()
        transport = FakeCLITransport(TOOL_TURNS)
        options = tc.ClaudeAgentOptions(transport=transport, telemetry=provider)
        instrument = CancelAfterSteps(n=n)
        with trio.fail_after(60):
            async with tc.open_session(options) as session:
                trio.lowlevel.add_instrument(instrument)
                try:
                    with trio.CancelScope() as scope:
                        instrument.arm(scope)
                        await session.run("one")
                finally:
                    trio.lowlevel.remove_instrument(instrument)
                while session._lifecycle.abandoned_open:  # the abandoned turn is draining
                    await trio.sleep(0.001)
                # Its spans ended with it (its dropped messages reach the trace), not at close
                # nor at the next turn's result.
                live = [
                    recorder.started[i]
                    for i in set(recorder.started) - set(recorder.ended)
                    if recorder.started[i] != "claude.session"
                ]
                if live:
                    problems.append(f"step {n}: open once the turn is over: {sorted(live)}")
                turn = await session.run("two")
        assert transport.fake is not None
        prompts = sum(1 for f in transport.fake.received if f.get("type") == "user")
        # (cancelled before its prompt went out, "one" leaves the fake's first turn to "two")
        if turn.text != ("fresh" if prompts == 2 else "old"):
            problems.append(f"step {n}: the next turn got {turn.text!r}")
        turns = sum(1 for name in recorder.started.values() if name == "claude.turn")
        if turns != prompts:
            problems.append(f"step {n}: {turns} claude.turn spans for {prompts} prompts")
        left = {recorder.started[i] for i in set(recorder.started) - set(recorder.ended)}
        if left:
            problems.append(f"step {n}: spans never ended: {sorted(left)}")
        if len(recorder.ended) != len(set(recorder.ended)):
            problems.append(f"step {n}: a span ended twice")
        return instrument.steps

    try:
        await count_then_sweep(scenario)
    finally:
        otel_logger.removeHandler(handler)
    assert not handler.messages, handler.messages
    assert not problems, "\n".join(problems)


# ==================================================================== transcript mirror


def entry(n: int) -> dict[str, Any]:
    return {"type": "user", "uuid": f"u{n}", "message": {"role": "user", "content": f"m{n}"}}


#: Valid JSON the CLI could send that no encoder writes again: skipped by add().
TOO_DEEP: Any = []
for _ in range(2000):
    TOO_DEEP = [TOO_DEEP]


async def sweep_mirror_flush(
    make_store: Callable[[], Any],
    *,
    metadata: bool,
    problems: list[str],
    close_store: Callable[[Any], Awaitable[None]] | None = None,
) -> int:
    """Sweeps a cancellation through ``mirror.flush()`` of two keys' batches, then adds newer
    entries and flushes again uncancelled. Records in ``problems`` what breaks the contract:
    an idempotent store ends with every entry exactly once; another never has one twice, and
    every key missing entries was reported; ``unmirrored`` counts what is queued."""
    from trio_claude._mirror import TranscriptMirror

    root = Path("/nonexistent-projects")
    keys = {
        "s1": {"project_key": "proj", "session_id": "s1"},
        "s2": {"project_key": "proj", "session_id": "s2"},
    }
    extra = [{"type": "last-prompt", "lastPrompt": "go", "sessionId": "s1"}] if metadata else []

    async def scenario(n: float) -> int:
        store = make_store()
        reported: list[dict[str, Any]] = []
        mirror = TranscriptMirror(store, root, eager=False, report_error=reported.append)
        sent = {"s1": [entry(1), entry(2), *extra], "s2": [entry(3), entry(4)]}
        mirror.add(str(root / "proj" / "s1.jsonl"), [entry(1), TOO_DEEP, entry(2), *extra])
        mirror.add(str(root / "proj" / "s2.jsonl"), [entry(3), entry(4)])
        if mirror.unmirrored != 4 + len(extra):
            problems.append(f"step {n}: add() counted {mirror.unmirrored} entries")
        instrument = CancelAfterSteps(n=n)
        try:
            with trio.fail_after(30):
                trio.lowlevel.add_instrument(instrument)

                async def late_add() -> None:  # the reader, queueing a frame mid-flush
                    await trio.lowlevel.checkpoint()
                    mirror.add(str(root / "proj" / "s1.jsonl"), [entry(6)])

                sent["s1"].append(entry(6))
                try:
                    async with trio.open_nursery() as nursery:
                        nursery.start_soon(late_add)
                        with trio.CancelScope() as scope:
                            instrument.arm(scope)
                            await mirror.flush()
                finally:
                    trio.lowlevel.remove_instrument(instrument)
                queued = sum(len(e) for _, e in mirror._batches.values())
                if mirror.unmirrored != queued:
                    problems.append(f"step {n}: unmirrored {mirror.unmirrored}, queued {queued}")
                mirror.add(str(root / "proj" / "s1.jsonl"), [entry(5)])
                sent["s1"].append(entry(5))
                await mirror.flush()
                if mirror.unmirrored != 0:
                    problems.append(
                        f"step {n}: unmirrored {mirror.unmirrored} after the last flush"
                    )
                for name, key in keys.items():
                    stored = await store.load(key) or []
                    ids = [repr(sorted(e.items())) for e in stored]
                    if len(ids) != len(set(ids)):
                        problems.append(f"step {n}: {name} holds an entry twice: {stored}")
                    wanted = [repr(sorted(e.items())) for e in sent[name]]
                    missing = [w for w in wanted if w not in ids]
                    if getattr(store, "idempotent_appends", False):
                        # Only an entry it could store twice (no uuid) of a cut-short batch
                        # may be given up, and then it is reported.
                        with_uuid = [repr(sorted(e.items())) for e in sent[name] if e.get("uuid")]
                        lost = [m for m in missing if m in with_uuid]
                        unreported = missing and not any(r["key"] == key for r in reported)
                        if lost or unreported:
                            problems.append(f"step {n}: {name} lost {missing}")
                    elif missing and not any(r["key"] == key for r in reported):
                        problems.append(f"step {n}: {name} lost entries, unreported")
                    if [i for i in ids if i in wanted] != [w for w in wanted if w in ids]:
                        problems.append(f"step {n}: {name} out of order: {stored}")
        finally:
            if close_store is not None:
                await close_store(store)
        return instrument.steps

    return await count_then_sweep(scenario, minimum=3)


class CommitsThenAnswers(tc.InMemorySessionStore):
    """A custom store without idempotent appends: it commits, then awaits its answer."""

    idempotent_appends = False

    async def append(self, key: Any, entries: list[Any]) -> None:
        await trio.lowlevel.checkpoint()
        await super().append(key, entries)
        await trio.sleep(0.01)


async def test_guard_mirror_flush_cancelled_at_every_step_in_memory_and_custom_stores(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """``flush`` cut short at every step: ``_landing``, ``_requeue``, the give-up for a store
    without idempotent appends, ``add`` skipping an entry no encoder writes."""
    problems: list[str] = []
    await sweep_mirror_flush(tc.InMemorySessionStore, metadata=False, problems=problems)
    await sweep_mirror_flush(CommitsThenAnswers, metadata=True, problems=problems)
    assert not problems, "\n".join(problems)


async def test_guard_mirror_flush_cancelled_at_every_step_sqlite(tmp_path: Path) -> None:
    from trio_claude.stores import SQLiteSessionStore

    problems: list[str] = []
    made = iter(range(10_000))

    async def close(store: Any) -> None:
        await store.aclose()

    await sweep_mirror_flush(
        lambda: SQLiteSessionStore(str(tmp_path / f"m{next(made)}.db")),
        metadata=False,
        problems=problems,
        close_store=close,
    )
    assert not problems, "\n".join(problems)


class IdempotentRemoteStore(tc.InMemorySessionStore):
    """A custom store keeping ``idempotent_appends``' promise to the letter (an entry whose
    uuid it has is skipped, as the stock stores do), remote: it commits, then awaits its
    answer."""

    async def append(self, key: Any, entries: list[Any]) -> None:
        await super().append(key, entries)  # committed on the server...
        await trio.sleep(0.01)  # ...and the answer is on its way back


async def test_a_cut_short_append_sent_again_does_not_store_uuid_less_entries_twice(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """``TranscriptMirror.flush`` (``_mirror.py:298-306``) sends a batch whose append a
    cancellation cut short again, whole, to a store with ``idempotent_appends``. The flag
    promises only that ``append`` "skips an entry whose ``uuid`` is already stored"
    (``_session_store.py:193``), and that is all the stock stores do (``_entry_uuid``,
    ``InMemorySessionStore.append``). The CLI's metadata entries carry no uuid
    (``last-prompt``, ``custom-title``, ``tag``, ``queue-operation``: see
    ``_sessions/_transcript.py``), so when the cut-short append had landed (a remote store
    that commits, then awaits its answer, and a deadline meanwhile) the next flush stores them
    a second time: the transcript then holds the ``last-prompt`` line twice.

    Swept: ``flush()`` of a batch with a ``last-prompt`` entry, cancelled after every step.
    Expected: no entry twice after the final flush; every entry with a uuid there; one without
    that a cut-short append may have stored is given up and reported (the fix taken; the
    other, shielding the in-flight append, would hold a deadline up to the append's 60 s)."""
    problems: list[str] = []
    await sweep_mirror_flush(IdempotentRemoteStore, metadata=True, problems=problems)
    assert not problems, "\n".join(problems)


# ========================================================================== SQL stores


async def test_guard_sqlite_store_cancelled_at_every_step_then_used_again_and_from_other_runs(
    tmp_path: Path,
) -> None:
    """Two appends to one key and a load at once, cancelled after every step; then the same
    store in the same run, in a new trio run, and in two runs at once (threads). No lock of
    ``per_run``'s left held (each use is bounded), no crash, every entry at most once and
    those of completed appends present."""
    from trio_claude.stores import SQLiteSessionStore

    store = SQLiteSessionStore(str(tmp_path / "per-run.db"))
    key: Any = {"project_key": "p", "session_id": "s"}
    done: list[str] = []
    serial = iter(range(1_000_000))

    async def append(uuid: str) -> None:
        await store.append(key, [{"type": "user", "uuid": uuid}])
        done.append(uuid)

    async def scenario(n: float) -> int:
        instrument = CancelAfterSteps(n=n)
        trio.lowlevel.add_instrument(instrument)
        try:
            with trio.fail_after(20):
                with trio.CancelScope() as scope:
                    instrument.arm(scope)
                    async with trio.open_nursery() as nursery:
                        nursery.start_soon(append, f"a{next(serial)}")
                        nursery.start_soon(append, f"a{next(serial)}")
                        nursery.start_soon(store.load, key)
        finally:
            trio.lowlevel.remove_instrument(instrument)
        with trio.fail_after(20):  # a lock left held would hang this
            await append(f"after{next(serial)}")
        return instrument.steps

    def in_new_run(tag: str) -> list[Any]:
        async def use() -> list[Any]:
            with trio.fail_after(20):
                for i in range(3):
                    await store.append(key, [{"type": "user", "uuid": f"{tag}{i}"}])
                    done.append(f"{tag}{i}")
                return await store.load(key) or []

        return trio.run(use)

    try:
        await count_then_sweep(scenario)
        await trio.to_thread.run_sync(in_new_run, "run1-")
        async with trio.open_nursery() as nursery:
            for tag in ("run2-", "run3-"):
                nursery.start_soon(trio.to_thread.run_sync, in_new_run, tag)
        with trio.fail_after(20):
            loaded = await store.load(key) or []
    finally:
        await store.aclose()
    uuids = [e["uuid"] for e in loaded]
    assert len(uuids) == len(set(uuids)), "an entry stored twice"
    assert set(done) <= set(uuids), set(done) - set(uuids)

    # A fresh database first used by two runs at once: each run's own schema lock, so both
    # may create the schema together (the database's write transaction serialises them).
    store = SQLiteSessionStore(str(tmp_path / "fresh.db"))
    done.clear()
    try:
        async with trio.open_nursery() as nursery:
            for tag in ("x-", "y-"):
                nursery.start_soon(trio.to_thread.run_sync, in_new_run, tag)
        with trio.fail_after(20):
            loaded = await store.load(key) or []
    finally:
        await store.aclose()
    assert sorted(e["uuid"] for e in loaded) == sorted(done) and len(done) == 6


# ===================================================================== the spawner thread


def spawner_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "trio-claude-spawner"]


async def test_guard_opens_on_the_spawner_thread_cancelled_at_seeded_steps(
    tmp_path: Path,
) -> None:
    """``resource_limits`` spawns on ``_SpawnerThread`` (``_spawn_async``'s shielded wait for
    its future). Opens cancelled at seeded steps (the early ones, where the spawn is in
    flight, and a spread after them): no process leaks (the autouse leak_check, and each child
    reaped), one spawner thread, alive, and it serves the next spawn."""
    from ._support import RecordingProcessTransport, exists

    limits = tc.ResourceLimits(max_open_files=256, poll_interval=0.05)
    transports: list[RecordingProcessTransport] = []

    async def scenario(n: float) -> int:
        transport = RecordingProcessTransport(FakeScript(), tmp_path)
        transports.append(transport)
        options = tc.ClaudeAgentOptions(transport=transport, resource_limits=limits)
        instrument = CancelAfterSteps(n=n)
        trio.lowlevel.add_instrument(instrument)
        try:
            with trio.fail_after(30):
                with trio.CancelScope() as scope:
                    instrument.arm(scope)
                    async with tc.open_session(options) as session:
                        await session.set_model("x")
        finally:
            trio.lowlevel.remove_instrument(instrument)
        for child in transport.children:
            assert child.returncode is not None, f"step {n}: the CLI was not stopped"
            assert child.pid is None or not exists(child.pid), f"step {n}: not reaped"
        return instrument.steps

    total = await scenario(math.inf)
    assert total > 10, total
    for n in sorted({1, 2, 3, 5, total // 3}):
        with seeded_scheduler(n):
            await scenario(n)
    assert sum(bool(t.children) for t in transports) >= 3  # some spawns were cut short after
    assert len(spawner_threads()) == 1 and spawner_threads()[0].is_alive()
    await scenario(math.inf)  # the thread still spawns
    assert transports[-1].children and transports[-1].children[0].returncode is not None
