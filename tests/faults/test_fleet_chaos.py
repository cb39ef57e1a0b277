"""Fleets: many sessions in one trio program sharing one ``Budget``, one tracer provider and one
session store (in memory or SQLite), driven through plain sessions, a pool, a fan-out and a
supervisor, while their fake CLIs misbehave at random (seeded): die mid-turn, stall, send error
results, background results and costs, get cut by deadlines or interrupted.

Invariants checked after every fleet:

- the budget's USD equals the sum over every CLI of the last cumulative ``total_cost_usd`` it
  wrote (in process, every written frame is read), never more, never less;
- every span started was ended, and there is one ``claude.session`` span per CLI started;
- the store holds each transcript entry at most once, only entries a CLI mirrored, and every
  entry of a turn whose result reached its caller (unless the store's append of it failed, which
  the mirror reports as a ``mirror_error``; the test holds the virtual clock while a store
  thread works, so a slow thread no longer makes an append time out, but the exemption stays);
- no exception but the SDK's typed ones escapes, never an exception group;
- (the fault suite's autouse leak check) no process, fd or task is left.
"""

from __future__ import annotations

import os
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider

import trio_claude as tc
from tests._helpers import clock_waits_for_threads
from trio_claude import teams
from trio_claude._session_store import project_key_for_directory
from trio_claude._transport._base import ChildProcess, LaunchSpec
from trio_claude.stores import SQLiteSessionStore
from trio_claude.testing.fake_cli import (
    Emit,
    Exit,
    FakeCLI,
    FakeCLITransport,
    FakeScript,
    FakeTurn,
    Kill,
    Result,
    Sleep,
    Text,
    WaitForInterrupt,
    _InProcessChild,
)

if sys.version_info < (3, 11):  # pragma: no cover
    from exceptiongroup import BaseExceptionGroup


PROJECT = project_key_for_directory(os.getcwd())

# ------------------------------------------------------------------ recording fakes


class _RecordingFake(FakeCLI):
    """A fake CLI that remembers every frame it wrote."""

    def __init__(self, script: FakeScript) -> None:
        super().__init__(script)
        self.written: list[dict[str, Any]] = []

    async def write_frame(self, frame: dict[str, Any]) -> None:
        self.written.append(frame)
        await super().write_frame(frame)


class _Spans(SpanProcessor):
    def __init__(self) -> None:
        self.started: dict[int, str] = {}
        self.ended: list[ReadableSpan] = []

    def on_start(self, span: Span, parent_context: Any = None) -> None:
        self.started[span.context.span_id] = span.name

    def on_end(self, span: ReadableSpan) -> None:
        self.ended.append(span)

    def unfinished(self) -> list[str]:
        done = {s.context.span_id for s in self.ended}
        return [name for sid, name in self.started.items() if sid not in done]


class Fleet:
    """Shared state of one fleet: every fake started, what was delivered, the config dir."""

    def __init__(self, seed: int, config: Path) -> None:
        self.rng = random.Random(seed)
        self.config = config
        self.fakes: list[_RecordingFake] = []
        self.delivered_entries: set[str] = set()
        self.errors: list[BaseException] = []
        self.counter = 0
        self.budget: tc.Budget | None = None
        self.violations: list[str] = []
        self.kinds: Counter[str] = Counter()
        # entries whose append the store did not finish (raised, or cancelled by a timeout)
        self.unsure: set[str] = set()

    def file_path(self, sid: str) -> str:
        return str(self.config / "projects" / PROJECT / f"{sid}.jsonl")


def _mirror(fleet: Fleet, sid: str, tag: str, n: int = 2) -> Emit:
    entries = [{"type": "user", "uuid": f"{sid}-{tag}-{k}", "k": k} for k in range(n)]
    return Emit({"type": "transcript_mirror", "filePath": fleet.file_path(sid), "entries": entries})


def _chaos_turn(fleet: Fleet, sid: str, index: int) -> FakeTurn:
    rng = fleet.rng
    cost = round(rng.choice([0.01, 0.02, 0.05, 0.1]), 4)
    kind = rng.choices(
        ["ok", "error", "exit", "kill", "stall", "background", "exit_after", "wait"],
        weights=[6, 1, 1, 1, 1, 1, 1, 1],
    )[0]
    tag = f"t{index}-{kind}"
    mirror = _mirror(fleet, sid, tag)
    if kind == "ok":
        return FakeTurn((Text("hi"), mirror, Result(text="hi", total_cost_usd=cost)))
    if kind == "error":
        return FakeTurn(
            (mirror, Result(subtype="error_during_execution", is_error=True, total_cost_usd=cost))
        )
    if kind == "exit":
        return FakeTurn((Text("partial"), Exit(rng.choice([1, 2, 137]), stderr="boom")))
    if kind == "kill":
        return FakeTurn((Text("partial"), Kill()))
    if kind == "stall":
        return FakeTurn((Sleep(rng.choice([5, 50, 500])), mirror, Result(total_cost_usd=cost)))
    if kind == "background":
        background = Result(
            total_cost_usd=cost,
            extra={"user_message_uuid": "bg", "user_message_uuids": ["bg-1"]},
        )
        return FakeTurn((Text("a"), background, mirror, Result(text="a", total_cost_usd=cost)))
    if kind == "exit_after":
        return FakeTurn((mirror, Result(text="x", total_cost_usd=cost), Exit(1)))
    return FakeTurn((Text("w"), WaitForInterrupt()))


class ChaosTransport(FakeCLITransport):
    """Each start runs a new recording fake with its own session id and chaotic turns (a
    ``--resume=<id>`` start keeps that id, as the real CLI would)."""

    def __init__(self, fleet: Fleet, turns: list[FakeTurn] | None = None, sid: str = "") -> None:
        super().__init__()
        self.fleet = fleet
        self.fixed_turns = turns
        self.fixed_sid = sid

    async def start(self, spec: LaunchSpec, nursery: trio.Nursery) -> ChildProcess:
        self.specs.append(spec)
        fleet = self.fleet
        sid = self.fixed_sid
        for arg in spec.argv:
            if arg.startswith("--resume="):
                sid = arg.split("=", 1)[1]
        if not sid:
            fleet.counter += 1
            sid = f"00000000-0000-4000-8000-{fleet.counter:012d}"
        if self.fixed_turns is not None:
            turns = self.fixed_turns
        else:
            turns = [_chaos_turn(fleet, sid + f"-c{len(fleet.fakes)}", i) for i in range(4)]
            # mirror key is the session id; entries carry the start number to stay unique
            turns = [_rekey(fleet, t, sid) for t in turns]
        fake = _RecordingFake(FakeScript(turns=turns, session_id=sid))
        fake.argv = list(spec.argv)
        fleet.fakes.append(fake)
        self.fake = fake
        child = _InProcessChild(fake)
        nursery.start_soon(child.run)
        await trio.lowlevel.checkpoint()
        return child


def _rekey(fleet: Fleet, turn: FakeTurn, sid: str) -> FakeTurn:
    steps = []
    for step in turn.steps:
        if isinstance(step, Emit) and step.frame.get("type") == "transcript_mirror":
            step = Emit({**step.frame, "filePath": fleet.file_path(sid)})
        steps.append(step)
    return FakeTurn(tuple(steps), emit_init=turn.emit_init)


# ------------------------------------------------------------------ checking


def _mirrored(fake: _RecordingFake) -> list[str]:
    return [
        e["uuid"]
        for f in fake.written
        if f.get("type") == "transcript_mirror"
        for e in f["entries"]
    ]


def _last_cost(fake: _RecordingFake) -> float:
    costs = [f["total_cost_usd"] for f in fake.written if f.get("type") == "result"]
    return costs[-1] if costs else 0.0


async def _stored(store: Any, fleet: Fleet) -> list[str]:
    out: list[str] = []
    sids = {f.script.session_id for f in fleet.fakes}
    for sid in sids:
        entries = await store.load({"project_key": PROJECT, "session_id": sid}) or []
        out.extend(e["uuid"] for e in entries if "uuid" in e)
    return out


async def check(
    fleet: Fleet, budget: tc.Budget, spans: _Spans, store: Any, *, exact_usd: bool = True
) -> None:
    expected = sum(_last_cost(f) for f in fleet.fakes)
    spent = budget.spent.usd
    assert spent <= expected + 1e-9, f"budget charged {spent} > CLIs reported {expected}"
    if exact_usd:
        assert spent >= expected - 1e-9, f"budget charged {spent} < CLIs reported {expected}"
    assert spans.unfinished() == [], spans.unfinished()
    sessions = [s for s in spans.ended if s.name == "claude.session"]
    assert len(sessions) == len(fleet.fakes), (len(sessions), len(fleet.fakes))
    stored = await _stored(store, fleet)
    dupes = [u for u, n in Counter(stored).items() if n > 1]
    assert not dupes, f"stored twice: {dupes}"
    mirrored = {u for f in fleet.fakes for u in _mirrored(f)}
    assert set(stored) <= mirrored
    missing = fleet.delivered_entries - set(stored) - fleet.unsure
    assert not missing, f"entries of delivered turns missing from the store: {sorted(missing)}"
    assert not fleet.violations, fleet.violations
    for error in fleet.errors:
        fleet.kinds[type(error).__name__] += 1
        assert not isinstance(error, BaseExceptionGroup), repr(error)
        assert isinstance(error, tc.ClaudeSDKError), repr(error)


def _note_delivered(fleet: Fleet, turn: Any) -> None:
    """A turn whose result reached its caller: its mirrored entries must be in the store."""
    result = turn.result if isinstance(turn, tc.TurnResult) else turn
    sid = result.session_id
    for fake in fleet.fakes:
        if fake.script.session_id != sid:
            continue
        # the entries written in the same turn as that result (frames up to the result)
        batch: list[str] = []
        for frame in fake.written:
            if frame.get("type") == "transcript_mirror":
                batch.extend(e["uuid"] for e in frame["entries"])
            elif frame.get("type") == "result" and frame.get("uuid") == result.uuid:
                fleet.delivered_entries.update(batch)
                return
            elif frame.get("type") == "result":
                batch = [] if not frame.get("user_message_uuid", "").startswith("bg") else batch


def _options(fleet: Fleet, budget: tc.Budget, provider: TracerProvider, store: Any, **kw: Any):
    return tc.ClaudeAgentOptions(
        transport=kw.pop("transport", None) or ChaosTransport(fleet),
        budget=budget,
        telemetry=provider,
        session_store=store,
        env={"CLAUDE_CONFIG_DIR": str(fleet.config)},
        interrupt_timeout=kw.pop("interrupt_timeout", 3.0),
        close_timeout=kw.pop("close_timeout", 3.0),
        stall_timeout=kw.pop("stall_timeout", 30.0),
        **kw,
    )


async def _one_session_run(fleet: Fleet, options: tc.ClaudeAgentOptions, turns: int) -> None:
    rng = random.Random(fleet.rng.random())
    try:
        async with tc.open_session(options) as session:
            for _ in range(turns):
                if await _one_turn(fleet, session, rng):
                    break
    except BaseException as exc:
        if isinstance(exc, trio.Cancelled):
            raise
        fleet.errors.append(exc)


async def _one_turn(fleet: Fleet, session: Any, rng: random.Random) -> bool:
    """One turn, maybe under a deadline, maybe interrupted; True when the session is done."""
    deadline = rng.choice([None, None, 1.0, 20.0])
    interrupt_at = rng.choice([None, None, None, 0.5, 2.0])
    stop = False
    async with trio.open_nursery() as nursery:
        if interrupt_at is not None:

            async def later() -> None:
                await trio.sleep(interrupt_at)
                try:
                    await session.interrupt()
                except tc.ClaudeSDKError:
                    pass

            nursery.start_soon(later)
        turn = None
        before = fleet.budget is not None and fleet.budget.exceeded is not None
        try:
            with trio.move_on_after(deadline if deadline is not None else float("inf")):
                turn = await session.run("go")
            if turn is not None:
                _note_delivered(fleet, turn)
                if before:
                    fleet.violations.append("a turn ran after the budget was exceeded")
        except tc.ResultError as exc:
            if exc.result_message is not None:
                _note_delivered(fleet, exc.result_message)
        except BaseException as exc:
            if isinstance(exc, trio.Cancelled):
                raise
            fleet.errors.append(exc)
            stop = True
        finally:
            nursery.cancel_scope.cancel()
    return stop


# ------------------------------------------------------------------ the fleets


class _WatchedStore:
    """A store that notes the entries of every append that did not finish."""

    def __init__(self, inner: Any, fleet: Fleet) -> None:
        self.inner = inner
        self.fleet = fleet

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def append(self, key: Any, entries: list[Any]) -> None:
        try:
            await self.inner.append(key, entries)
        except BaseException:
            self.fleet.unsure.update(e["uuid"] for e in entries if "uuid" in e)
            raise


def _store(kind: str, tmp_path: Path, fleet: Fleet) -> Any:
    if kind == "memory":
        return _WatchedStore(tc.InMemorySessionStore(), fleet)
    return _WatchedStore(SQLiteSessionStore(tmp_path / "fleet.db", synchronous="NORMAL"), fleet)


async def _plain_fleet(seed: int, tmp_path: Path, store_kind: str, max_usd: float | None) -> None:
    fleet = Fleet(seed, tmp_path / f"config-{seed}")
    budget = tc.Budget(max_usd=max_usd)
    fleet.budget = budget
    spans = _Spans()
    provider = TracerProvider()
    provider.add_span_processor(spans)
    store = _store(store_kind, tmp_path / f"s{seed}", fleet)
    try:
        with trio.fail_after(4000):
            async with trio.open_nursery() as nursery:
                for _ in range(fleet.rng.randint(2, 5)):
                    options = _options(fleet, budget, provider, store)
                    nursery.start_soon(_one_session_run, fleet, options, fleet.rng.randint(1, 4))
        await check(fleet, budget, spans, store)
    finally:
        if store_kind == "sqlite":
            await store.aclose()


async def _shape_fleet(seed: int, tmp_path: Path, store_kind: str, shape: str) -> None:
    fleet = Fleet(seed, tmp_path / f"config-{shape}-{seed}")
    budget = tc.Budget(max_usd=[None, 0.15][(seed // 8) % 2])
    fleet.budget = budget
    spans = _Spans()
    provider = TracerProvider()
    provider.add_span_processor(spans)
    store = _store(store_kind, tmp_path / f"{shape}{seed}", fleet)
    options = _options(fleet, budget, provider, store)
    try:
        with trio.fail_after(4000):
            try:
                if shape == "pool":
                    async with tc.open_session_pool(options, size=2) as pool:

                        async def user() -> None:
                            rng = random.Random(fleet.rng.random())
                            try:
                                async with pool.session() as session:
                                    for _ in range(rng.randint(1, 3)):
                                        if await _one_turn(fleet, session, rng):
                                            break
                            except BaseException as exc:
                                if isinstance(exc, trio.Cancelled):
                                    raise
                                fleet.errors.append(exc)

                        async with trio.open_nursery() as nursery:
                            for _ in range(fleet.rng.randint(2, 6)):
                                nursery.start_soon(user)
                elif shape == "fanout":
                    async with teams.open_fanout(
                        options, limit=3, on_error="collect", budget=budget
                    ) as fan:
                        for n in range(fleet.rng.randint(2, 6)):
                            fan.submit(f"task {n}")
                        for outcome in await fan.gather():
                            if outcome.turn is not None:
                                _note_delivered(fleet, outcome.turn)
                else:
                    async with teams.open_supervisor(
                        max_restarts=3, period=60, budget=budget
                    ) as sup:
                        for n in range(fleet.rng.randint(2, 4)):
                            sup.start_agent(f"a{n}", options, "work")
                    for result in sup.results.values():
                        if isinstance(result, tc.TurnResult):
                            _note_delivered(fleet, result)
            except BaseException as exc:
                if isinstance(exc, trio.Cancelled):
                    raise
                fleet.errors.append(exc)
        await check(fleet, budget, spans, store)
    finally:
        if store_kind == "sqlite":
            await store.aclose()


SHAPES = ("plain", "pool", "fanout", "supervisor")


async def test_seeded_fleets_keep_the_invariants(
    tmp_path: Path, autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """32 seeded fleets (4 shapes x 2 stores x 4 seeds): the durable guard of the invariants
    listed in the module docstring."""
    # Threads (the SQLite store, a resume's temporary dir) must not let virtual time move while
    # they work: a fixed threshold does not hold on a loaded machine (stop 27's CI jumped to the
    # 4000 s guard while a store thread worked).
    autojump_clock.autojump_threshold = 0.0
    with clock_waits_for_threads(autojump_clock, monkeypatch):
        for n in range(32):
            shape, store_kind, seed = SHAPES[n % 4], ("memory", "sqlite")[(n // 4) % 2], n
            if shape == "plain":
                max_usd = [None, 0.15][(seed // 8) % 2]
                await _plain_fleet(seed, tmp_path, store_kind, max_usd=max_usd)
            else:
                await _shape_fleet(seed, tmp_path, store_kind, shape)


async def test_a_slow_store_thread_does_not_let_virtual_time_pass(
    tmp_path: Path, autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A loaded machine, made on purpose: every store call's thread takes 0.2 s of real time.
    No append times out and no turn is stalled by the clock (a thread let virtual time jump to
    the mirror's 60 s append timeout, or the fleet's 4000 s guard)."""
    real_run_sync = trio.to_thread.run_sync

    async def slow_run_sync(fn: Any, *args: Any, **kwargs: Any) -> Any:
        def slowly(*a: Any) -> Any:
            time.sleep(0.2)
            return fn(*a)

        return await real_run_sync(slowly, *args, **kwargs)

    monkeypatch.setattr(trio.to_thread, "run_sync", slow_run_sync)
    autojump_clock.autojump_threshold = 0.0
    with clock_waits_for_threads(autojump_clock, monkeypatch):
        fleet = Fleet(6, tmp_path / "config")
        budget = tc.Budget()
        store = _store("sqlite", tmp_path / "slow", fleet)
        sid = "00000000-0000-4000-8000-000000000099"
        turns = [
            FakeTurn((Text("hi"), _mirror(fleet, sid, f"t{n}"), Result(text="hi")))
            for n in range(3)
        ]
        transport = ChaosTransport(fleet, turns, sid=sid)
        options = _options(fleet, budget, TracerProvider(), store, transport=transport)
        try:
            with trio.fail_after(4000):
                async with tc.open_session(options) as session:
                    started = trio.current_time()
                    for _ in range(3):
                        _note_delivered(fleet, await session.run("go"))
                    assert trio.current_time() - started < 1
            stored = await _stored(store, fleet)
        finally:
            await store.aclose()
    assert fleet.unsure == set()
    assert len(fleet.delivered_entries) == 6
    assert fleet.delivered_entries <= set(stored)
