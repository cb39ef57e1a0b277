"""Cancellation and exception-handling edges of sitting 14's changes (769dbfc..cf303e7), found
by an adversarial review: replacing an in-process MCP server, the transcript mirror's
cut-short flush, a SQL store across trio runs, query()'s close log. Every test here fails on
cf303e7; each docstring says what went wrong."""

from __future__ import annotations

import logging
import os
from typing import Any

import pytest
import trio
import trio.testing

import trio_claude as tc

from ._support import (
    MIRROR_FRAME,
    HostedTransport,
    ManualChild,
    ManualTransport,
    assistant_frame,
    fail_mirror_handling,
    result_frame,
)

# ---------------------------------------------------------------- set_mcp_servers replace


async def _play_mcp_cli(child: ManualChild, on_drop: Any) -> dict[str, Any]:
    """A CLI that keeps the dynamic MCP servers it was given (``mcp_set_servers`` replaces the
    set: keys missing from it are removed) and answers every other request with ``{}``.
    ``on_drop()`` is called when a set removes a server, before the answer is written."""
    servers: dict[str, Any] = {}
    await child.handshake()
    try:
        while True:
            frame = await child.read_frame()
            if frame.get("type") != "control_request":
                continue
            request = frame["request"]
            if request["subtype"] == "mcp_set_servers":
                wanted = request["servers"]
                removed = [k for k in servers if k not in wanted]
                added = [k for k in wanted if k not in servers]
                servers.clear()
                servers.update(wanted)
                if removed:
                    on_drop()
                await child.answer(frame, {"added": added, "removed": removed, "errors": {}})
            else:
                await child.answer(frame, {})
    except (EOFError, trio.ClosedResourceError, trio.BrokenResourceError):
        pass
    child.exit(0)
    return servers


async def test_a_cancelled_replace_of_an_in_process_mcp_server_never_leaves_it_dropped(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """``set_mcp_servers({"calc": new})`` over an in-process ``calc`` is now two requests
    (``_control_api.py`` ``set_mcp_servers``: drop the key, then add it again). A caller's
    deadline that lands while the first one is in flight (the CLI has it, and applies it)
    ends the call before the second is sent: the CLI is left with neither the old ``calc``
    nor the new one. One request (the state before the change) left the old or the new,
    never nothing. Expected: once the drop was sent, the add is sent too (shielded, bounded
    by ``control_timeout``), so a cancelled replace leaves one of the two servers."""
    old = tc.create_sdk_mcp_server("calc", tools=[])
    new = tc.create_sdk_mcp_server("calc", tools=[])
    transport = ManualTransport()
    scope = trio.CancelScope()
    final: dict[str, Any] = {}

    async def cli() -> None:
        await transport.child_ready.wait()
        assert transport.child is not None
        final.update(await _play_mcp_cli(transport.child, scope.cancel))

    options = tc.ClaudeAgentOptions(transport=transport, control_timeout=30)
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(cli)
            async with tc.open_session(options) as session:
                # No in-process server yet: one request, nothing removed.
                await session.set_mcp_servers({"calc": old})
                with scope:  # the caller's deadline, as the drop is in flight
                    await session.set_mcp_servers({"calc": new})
                await session.get_usage()  # every earlier request has been handled
    assert "calc" in final, f"the CLI was left without calc: {final}"


async def test_two_replacements_at_once_take_turns(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Two ``set_mcp_servers`` replacing the same in-process key at once: without turns, the
    requests interleave (A drops, B drops, A adds, B adds, and B's add is a config the CLI
    already has, so it keeps A's tools while calls go to B's server). Each call's two requests
    must go out together."""
    first = tc.create_sdk_mcp_server("calc", tools=[])
    a = tc.create_sdk_mcp_server("calc", tools=[])
    b = tc.create_sdk_mcp_server("calc", tools=[])
    transport = ManualTransport()
    sets: list[list[str]] = []

    async def cli() -> None:
        await transport.child_ready.wait()
        child = transport.child
        assert child is not None
        await child.handshake()
        try:
            while True:
                frame = await child.read_frame()
                if frame.get("type") != "control_request":
                    continue
                if frame["request"]["subtype"] == "mcp_set_servers":
                    sets.append(sorted(frame["request"]["servers"]))
                    await trio.sleep(1)  # an answer that takes a while
                await child.answer(frame, {"added": [], "removed": [], "errors": {}})
        except (EOFError, trio.ClosedResourceError, trio.BrokenResourceError):
            pass
        child.exit(0)

    options = tc.ClaudeAgentOptions(transport=transport, control_timeout=30)
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(cli)
            async with tc.open_session(options) as session:
                await session.set_mcp_servers({"calc": first})
                async with trio.open_nursery() as callers:
                    callers.start_soon(session.set_mcp_servers, {"calc": a})
                    callers.start_soon(session.set_mcp_servers, {"calc": b})
    assert sets == [["calc"], [], ["calc"], [], ["calc"]], sets


# ---------------------------------------------------------------- query() close logging


async def test_a_failing_close_after_a_cancellation_is_logged_as_after_a_cancellation(
    monkeypatch: pytest.MonkeyPatch,
    autojump_clock: trio.testing.MockClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """``_PullQuery.next`` logs a close that fails while something else propagates as
    ``"stopping the CLI after %s failed"`` with ``_what_ended()`` (``_query.py:191``), which
    reads ``sys.exc_info()``. It is called inside ``except Exception as exc`` (``_query.py:597``),
    where ``sys.exc_info()`` is the close's own failure, not what was on its way out: a
    ``move_on_after`` around the loop logs "stopping the CLI after SessionClosedError failed",
    naming the wrong thing. Expected: "after a cancellation" (capture what ended before the
    inner ``try``)."""
    fail_mirror_handling(monkeypatch)

    async def play(child: ManualChild) -> None:
        await child.handshake()
        await child.read_frame()  # the prompt
        await child.write_frame(assistant_frame("working"))
        interrupt = await child.read_frame()
        await child.answer(interrupt, {})
        await child.write_frame(result_frame("interrupted", subtype="error_during_execution"))
        try:
            await child.read_frame()
        except (EOFError, trio.ClosedResourceError):
            pass
        await child.write_frame(MIRROR_FRAME)  # its handling fails, as the CLI exits
        await trio.sleep(0.1)
        child.exit(0)

    caplog.set_level(logging.WARNING, logger="trio_claude")
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            transport = HostedTransport(nursery, play)
            messages = tc.query(prompt="go", options=tc.ClaudeAgentOptions(transport=transport))
            try:
                with trio.move_on_after(5):
                    async for _ in messages:
                        pass
            finally:
                await messages.aclose()
            nursery.cancel_scope.cancel()
    lines = [r.getMessage() for r in caplog.records if "stopping the CLI after" in r.getMessage()]
    assert lines, "the failing close was not logged"
    assert all("after a cancellation failed" in line for line in lines), lines


# ------------------------------------------------------------------------- SQL stores


def test_a_sql_store_is_usable_in_a_later_trio_run_once_the_first_has_ended(
    tmp_path: Any,
) -> None:
    """``SQLSessionStore._check_run`` (``stores/_common.py:274``) binds the store to the first
    trio run that uses it, forever: a store used by one run and then, after that run ended,
    by another (a second blocking session opened after the first closed, each with its own
    run; two ``trio.run`` calls of a script; pytest-trio tests sharing a module-level store)
    now raises ``SessionStoreError`` ("used from a second trio run"), where it worked before
    (its locks and thread limiter are idle between runs and bind to no run). The mirror then
    fails every append of the later session, and resuming from the store fails at open.
    Now its trio locks and limiter are one set per run (``RunVar``), so any run may use it."""
    from trio_claude.stores import SQLiteSessionStore

    store = SQLiteSessionStore(os.path.join(tmp_path, "store.db"))
    key: Any = {"project_key": "p", "session_id": "s"}

    async def use(n: int) -> Any:
        with trio.fail_after(30):
            await store.append(key, [{"type": "user", "uuid": f"u{n}"}])
            return await store.load(key)

    try:
        assert trio.run(use, 1) == [{"type": "user", "uuid": "u1"}]
        try:
            loaded = trio.run(use, 2)
        except Exception as exc:
            pytest.fail(f"a later, separate trio run was refused: {exc}")
        assert loaded == [{"type": "user", "uuid": "u1"}, {"type": "user", "uuid": "u2"}]
    finally:
        trio.run(store.aclose)  # (the pool's own close: no run check)


# ------------------------------------------------------------------- transcript mirror


async def test_a_flush_cancelled_after_its_append_landed_does_not_store_the_entries_twice(
    autojump_clock: trio.testing.MockClock, tmp_path: Any
) -> None:
    """``TranscriptMirror.flush`` now puts back every batch a cancelled flush did not finish
    (``_mirror.py`` ``_requeue``), the one whose ``append`` was cut short included, on the
    ground that "the stores skip entries by uuid". The ``SessionStore`` protocol says no such
    thing (``append`` stores ``entries`` after those already there), the conformance kit does
    not check it, and ``InMemorySessionStore`` does not do it. A store whose ``append`` commits
    and then awaits (a remote store waiting for its answer) and a caller's deadline that lands
    meanwhile: the next flush appends the same entries again, and the transcript holds them
    twice. (``_append`` itself never retries a timed-out append for this very reason.)
    Expected: each entry stored once; the batch that was in flight is not appended again
    (reported as possibly unmirrored), or only to a store that declares its appends
    idempotent."""
    from trio_claude._mirror import TranscriptMirror
    from trio_claude._session_store import InMemorySessionStore

    class RemoteStore(InMemorySessionStore):
        # A custom store that would store a batch twice (it does not say otherwise): the
        # in-memory store underneath happens to skip known uuids, so the flag is what counts.
        idempotent_appends = False

        async def append(self, key: Any, entries: list[Any]) -> None:
            await super().append(key, entries)  # committed on the server...
            await trio.sleep(1)  # ...and the answer is on its way back

    store = RemoteStore()
    projects = tmp_path / "projects"
    reported: list[dict[str, Any]] = []
    mirror = TranscriptMirror(store, projects, eager=False, report_error=reported.append)
    entries = [{"type": "user", "uuid": f"u{i}", "n": i} for i in range(3)]
    mirror.add(str(projects / "proj" / "sess.jsonl"), entries)
    with trio.fail_after(60):
        with trio.move_on_after(0.5):  # the caller's deadline, as the answer travels
            await mirror.flush()
        await mirror.flush()
    loaded = await store.load({"project_key": "proj", "session_id": "sess"})
    assert loaded is not None
    assert [e["uuid"] for e in loaded] == ["u0", "u1", "u2"], [e["uuid"] for e in loaded]
    # Given up, and said so: the mirror cannot know whether that append landed.
    assert [r["subtype"] for r in reported] == ["mirror_error"]
    assert "cancelled part way" in reported[0]["error"]


async def test_a_cancelled_replace_ends_with_an_infinite_control_timeout(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """The replacement's two requests are shielded, each bounded by ``control_timeout``. With
    ``control_timeout=math.inf`` and a CLI that never answers the drop, a cancelled caller
    stayed in the shield for ever; now the shielded wait has a finite bound of its own."""
    old = tc.create_sdk_mcp_server("calc", tools=[])
    new = tc.create_sdk_mcp_server("calc", tools=[])
    transport = ManualTransport()
    swallowed = trio.Event()

    async def cli() -> None:
        await transport.child_ready.wait()
        child = transport.child
        assert child is not None
        await child.handshake()
        sets = 0
        try:
            while True:
                frame = await child.read_frame()
                if frame.get("type") != "control_request":
                    continue
                if frame["request"]["subtype"] == "mcp_set_servers":
                    sets += 1
                    if sets == 2:  # the replacement's drop: answered after hours
                        swallowed.set()
                        await trio.sleep(10_000)
                await child.answer(frame, {"added": [], "removed": [], "errors": {}})
        except (EOFError, trio.ClosedResourceError, trio.BrokenResourceError):
            pass
        child.exit(0)

    options = tc.ClaudeAgentOptions(transport=transport, control_timeout=float("inf"))
    async with trio.open_nursery() as nursery:
        nursery.start_soon(cli)
        async with tc.open_session(options) as session:
            await session.set_mcp_servers({"calc": old})
            with trio.move_on_after(1):
                with pytest.raises(tc.ControlTimeoutError):
                    await session.set_mcp_servers({"calc": new})
            assert swallowed.is_set()
            assert trio.current_time() < 1000, "the shielded wait was unbounded"
