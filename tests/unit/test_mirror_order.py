"""Mirroring keeps a transcript's order even when two flushes meet (the closing one, say)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import trio
import trio.testing

import trio_claude as tc
from trio_claude._mirror import TranscriptMirror


class SlowFirstAppend(tc.InMemorySessionStore):
    """A store whose first append hangs until released (a store retrying through an outage)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = trio.Event()
        self.calls = 0

    async def append(self, key: Any, entries: list[Any]) -> None:
        self.calls += 1
        if self.calls == 1:
            await self.release.wait()
        await super().append(key, entries)


async def test_a_second_flush_waits_for_the_batch_in_flight(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    store = SlowFirstAppend()
    projects = tmp_path / "projects"
    mirror = TranscriptMirror(store, projects, eager=False, report_error=lambda frame: None)
    path = str(projects / "proj" / "s1.jsonl")
    async with trio.open_nursery() as nursery:
        mirror.add(path, [{"uuid": "a", "n": 1}])
        nursery.start_soon(mirror.flush)  # the flusher's batch, stuck in the store
        await trio.testing.wait_all_tasks_blocked()
        mirror.add(path, [{"uuid": "b", "n": 2}])
        assert mirror.unmirrored == 2
        nursery.start_soon(mirror.flush)  # the closing flush
        await trio.sleep(1)
        store.release.set()
    key: tc.SessionKey = {"project_key": "proj", "session_id": "s1"}
    entries: list[Any] | None = await store.load(key)  # entries with keys of their own
    assert [e["n"] for e in entries or []] == [1, 2]
    assert mirror.unmirrored == 0


class SyncStore:
    """A newcomer's store: ``def`` where the protocol says ``async def``."""

    def __init__(self) -> None:
        self.entries: list[Any] = []

    def append(self, key: Any, entries: list[Any]) -> None:
        self.entries.extend(entries)


async def test_a_store_with_sync_methods_is_told_so_once_and_not_retried(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    """Its append ran, then awaiting None failed: the retries stored the entries three times,
    and the error said only that None cannot be awaited."""
    store = SyncStore()
    reported: list[dict[str, Any]] = []
    projects = tmp_path / "projects"
    mirror = TranscriptMirror(store, projects, eager=False, report_error=reported.append)  # type: ignore[arg-type]
    mirror.add(str(projects / "proj" / "s1.jsonl"), [{"uuid": "a"}])
    await mirror.flush()
    assert store.entries == [{"uuid": "a"}]  # once
    (frame,) = reported
    assert "a session store's methods are async" in frame["error"]
    assert frame["error"].startswith("ConfigurationError")
