"""SQLiteSessionStore on real files: contracts, restarts, several processes, outages, mirroring."""

from __future__ import annotations

import itertools
import json
import sqlite3
import stat
import subprocess
import sys
import textwrap
import threading
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

import pytest
import trio

import trio_claude as tc
from trio_claude._mirror import TranscriptMirror
from trio_claude.stores import (
    SessionStoreError,
    SessionStoreSchemaError,
    SessionStoreUnavailableError,
    SQLiteSessionStore,
)
from trio_claude.testing.session_store_conformance import run_session_store_conformance

REPO = Path(__file__).resolve().parents[2]
KEY: tc.SessionKey = {"project_key": "proj", "session_id": "11111111-1111-4111-8111-111111111111"}


def entry(n: int, **fields: Any) -> tc.SessionStoreEntry:
    return cast(tc.SessionStoreEntry, {"type": "user", "uuid": f"u-{n}", "n": n, **fields})


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteSessionStore]:
    async with SQLiteSessionStore(tmp_path / "sessions.db") as opened:
        yield opened


def run_python(script: str, *args: str, timeout: float = 60) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


_LOCKER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.read()
conn.execute("COMMIT")
"""


@asynccontextmanager
async def write_lock_held_by_another_process(path: Path) -> AsyncIterator[None]:
    """Another process holds the database's write lock until the block ends."""
    proc = await trio.lowlevel.open_process(
        [sys.executable, "-c", _LOCKER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stdin is not None
    try:
        with trio.fail_after(30):
            seen = b""
            while not seen.endswith(b"\n"):
                chunk = await proc.stdout.receive_some()
                assert chunk, "the locking process died"
                seen += chunk
        assert seen.strip() == b"locked"
        yield
    finally:
        await proc.stdin.aclose()
        with trio.move_on_after(30):
            await proc.wait()
        proc.kill()


# --- contracts and basics --------------------------------------------------------------------


async def test_sqlite_store_passes_every_contract(tmp_path: Path) -> None:
    counter = itertools.count()
    made: list[SQLiteSessionStore] = []

    def make() -> SQLiteSessionStore:
        made.append(SQLiteSessionStore(tmp_path / f"{next(counter)}.db"))
        return made[-1]

    result = await run_session_store_conformance(make)
    assert result.skipped == () and len(result.passed) == 14
    for opened in made:
        await opened.aclose()


async def test_the_file_is_wal_private_and_schema_versioned(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "sessions.db"
    async with SQLiteSessionStore(path) as opened:
        await opened.append(KEY, [entry(1)])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    version = conn.execute("SELECT value FROM trio_claude_meta WHERE name = 'schema_version'")
    assert version.fetchone() == ("1",)
    conn.execute("UPDATE trio_claude_meta SET value = '99' WHERE name = 'schema_version'")
    conn.commit()
    conn.close()
    newer = SQLiteSessionStore(path)
    with trio.fail_after(5), pytest.raises(SessionStoreSchemaError, match="version 99"):
        await newer.load(KEY)  # refused at once, not retried
    await newer.aclose()


def test_an_in_memory_database_is_refused() -> None:
    for path in (":memory:", "", "file::memory:"):
        with pytest.raises(ValueError, match="needs a file path"):
            SQLiteSessionStore(path)


async def test_a_closed_store_refuses_calls(tmp_path: Path) -> None:
    opened = SQLiteSessionStore(tmp_path / "s.db")
    await opened.append(KEY, [entry(1)])
    await opened.aclose()
    with pytest.raises(SessionStoreError, match="closed"):
        await opened.load(KEY)


async def test_unusual_json_round_trips(store: SQLiteSessionStore) -> None:
    odd: list[Any] = [
        {"type": "x", "uuid": "a", "nul": "a\x00b", "surrogate": "\ud83d", "big": 2**80},
        {"type": "x", "uuid": "b", "float": 0.1 + 0.2, "deep": [[[{"k": [None, True]}]]]},
        {"type": "x", "text": "h\u00e9 \u2603 \U0001f600", "z": 1, "a": 2},
    ]
    await store.append(KEY, odd)
    assert await store.load(KEY) == odd
    loaded = await store.load(KEY)
    assert loaded is not None and list(loaded[2]) == ["type", "text", "z", "a"]  # key order kept


# --- idempotency -----------------------------------------------------------------------------


async def test_entries_already_stored_are_skipped_by_uuid(store: SQLiteSessionStore) -> None:
    no_uuid: Any = {"type": "custom-title", "customTitle": "t"}
    await store.append(KEY, [entry(1), entry(2), no_uuid])
    await store.append(KEY, [entry(2), entry(3), entry(3), no_uuid])  # a repeat, a dup in batch
    assert await store.load(KEY) == [entry(1), entry(2), no_uuid, entry(3), no_uuid]
    before = await store.list_sessions("proj")
    await store.append(KEY, [entry(1)])  # nothing new: not even the mtime moves
    assert await store.list_sessions("proj") == before
    # The summary is the fold of what was stored, not of what was offered.
    (summary,) = await store.list_session_summaries("proj")
    loaded = await store.load(KEY)
    assert loaded is not None
    assert summary["data"] == tc.fold_session_summary(None, KEY, loaded)["data"]


async def test_a_retried_append_whose_commit_landed_changes_nothing(
    store: SQLiteSessionStore,
) -> None:
    # The connection died during COMMIT, which had landed: the retry finds its batch id.
    batch: Any = [{"type": "tag", "tag": "x"}, {"type": "tag", "tag": "y"}]
    await store._pool.run(
        lambda conn: store._append_sync(KEY, batch, "batch-1", conn), cancellable=False
    )
    await store._pool.run(
        lambda conn: store._append_sync(KEY, batch, "batch-1", conn), cancellable=False
    )
    assert await store.load(KEY) == batch


async def test_importing_a_session_twice_does_not_duplicate(tmp_path: Path) -> None:
    from tests.unit._session_builders import two_turn

    config, project = tmp_path / "config", tmp_path / "proj"
    project.mkdir()
    t = two_turn()
    t.write(config, project)
    async with SQLiteSessionStore(tmp_path / "s.db") as opened:
        for _ in range(2):
            await tc.import_session_to_store(
                t.session_id, opened, directory=project, config_dir=config
            )
        key: tc.SessionKey = {
            "project_key": tc.project_key_for_directory(project),
            "session_id": t.session_id,
        }
        # Lines with a uuid are skipped the second time; metadata lines have none and are
        # appended again (they are last-wins: harmless).
        again = [line for line in t.lines if "uuid" not in line]
        assert again and await opened.load(key) == [*t.lines, *again]
        (info,) = await tc.list_sessions_from_store(opened, project)
        assert info.session_id == t.session_id and info.first_prompt


# --- restarts and processes ------------------------------------------------------------------

_WRITER = """
import sys, trio
from trio_claude.stores import SQLiteSessionStore

async def main(path, name, rounds):
    async with SQLiteSessionStore(path, busy_timeout=10) as store:
        for i in range(rounds):
            batch = [{"type": "user", "uuid": f"{name}-{i}-{j}", "writer": name, "i": i, "j": j}
                     for j in range(3)]
            await store.append({"project_key": "proj", "session_id": "shared"}, batch)
            await store.append({"project_key": "proj", "session_id": name}, batch)
    print("done")

trio.run(main, sys.argv[1], sys.argv[2], int(sys.argv[3]))
"""


async def test_a_conversation_survives_a_restart_of_the_program(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    # One program writes and exits...
    await trio.to_thread.run_sync(run_python, _WRITER, str(path), "first", "4")
    # ...the next one (this process, a new store) finds everything.
    async with SQLiteSessionStore(path) as reopened:
        loaded = await reopened.load({"project_key": "proj", "session_id": "first"})
        assert loaded is not None
        assert [(e["i"], e["j"]) for e in loaded] == [(i, j) for i in range(4) for j in range(3)]
        assert {s["session_id"] for s in await reopened.list_sessions("proj")} == {
            "first",
            "shared",
        }


async def test_several_processes_share_one_file(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    writers, rounds = ["w0", "w1", "w2"], 25

    async def one(name: str) -> None:
        out = await trio.to_thread.run_sync(run_python, _WRITER, str(path), name, str(rounds))
        assert out.strip() == "done"

    async with trio.open_nursery() as nursery:
        for name in writers:
            nursery.start_soon(one, name)

    async with SQLiteSessionStore(path) as opened:
        shared = await opened.load({"project_key": "proj", "session_id": "shared"})
        assert shared is not None and len(shared) == len(writers) * rounds * 3
        for name in writers:
            mine = [(e["i"], e["j"]) for e in shared if e["writer"] == name]
            assert mine == [(i, j) for i in range(rounds) for j in range(3)]  # order kept
        # Batches stay whole: a writer's three entries are never interleaved with another's.
        for start in range(0, len(shared), 3):
            assert len({e["writer"] for e in shared[start : start + 3]}) == 1
        listed = await opened.list_sessions("proj")
        assert sorted(s["session_id"] for s in listed) == ["shared", *writers]


# --- outages ---------------------------------------------------------------------------------


async def test_a_locked_file_is_waited_out_and_the_loop_keeps_running(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    async with SQLiteSessionStore(path, busy_timeout=0.1, retry_for=30) as opened:
        await opened.append(KEY, [entry(0)])
        gaps: list[float] = []
        done = trio.Event()

        async def ticker() -> None:
            last = trio.current_time()
            while not done.is_set():
                await trio.sleep(0.01)
                now = trio.current_time()
                gaps.append(now - last)
                last = now

        async with trio.open_nursery() as nursery:
            nursery.start_soon(ticker)

            async def append() -> None:
                await opened.append(KEY, [entry(1)])
                done.set()

            async with write_lock_held_by_another_process(path):
                started = trio.current_time()
                nursery.start_soon(append)
                await trio.sleep(1.5)  # several failed attempts (0.1 s busy wait each)
                assert not done.is_set()
                # Readers are not blocked by the writer (WAL).
                assert await opened.load(KEY) == [entry(0)]
        # The lock is gone: the retried append lands.
        with trio.fail_after(10):
            await done.wait()
        assert trio.current_time() - started >= 1.5
        assert await opened.load(KEY) == [entry(0), entry(1)]
        # Waiting the lock out on the event loop's thread would stall it for the whole outage
        # (1.5 s and more); 1 s leaves room for a loaded machine's own pauses.
        assert max(gaps) < 1.0, f"the event loop stalled for {max(gaps):.2f} s"


async def test_an_outage_longer_than_retry_for_is_a_typed_error(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    async with SQLiteSessionStore(path, busy_timeout=0.05, retry_for=0.5) as opened:
        async with write_lock_held_by_another_process(path):
            with pytest.raises(SessionStoreUnavailableError) as caught:
                await opened.append(KEY, [entry(1)])
        assert caught.value.operation == "append" and caught.value.attempts > 1
        assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
        assert isinstance(caught.value, tc.ClaudeSDKError)
        assert await opened.load(KEY) is None  # nothing half-written
        await opened.append(KEY, [entry(1)])  # and it works again
        assert await opened.load(KEY) == [entry(1)]


# --- mirroring -------------------------------------------------------------------------------


def frames(projects: Path, session_id: str, first: int, count: int) -> list[tuple[str, list[Any]]]:
    """``transcript_mirror`` frames for a main transcript and one subagent."""
    main = projects / "proj" / f"{session_id}.jsonl"
    sub = projects / "proj" / session_id / "subagents" / "agent-a1.jsonl"
    out: list[tuple[str, list[Any]]] = []
    for n in range(first, first + count):
        out.append((str(main), [entry(n)]))
        if n % 3 == 0:
            out.append((str(sub), [entry(1000 + n, isSidechain=True)]))
    return out


async def test_mirroring_loses_nothing_across_a_lock_outage(tmp_path: Path) -> None:
    path, projects = tmp_path / "s.db", tmp_path / "config" / "projects"
    session_id = str(uuid.uuid4())
    errors: list[dict[str, Any]] = []
    # The store's own retry window outlasts the outage; the mirror's (about 1 s) would not.
    async with SQLiteSessionStore(path, busy_timeout=0.1, retry_for=30) as opened:
        mirror = TranscriptMirror(opened, projects, eager=False, report_error=errors.append)
        for file_path, batch in frames(projects, session_id, 0, 10):
            mirror.add(file_path, batch)
        async with trio.open_nursery() as nursery, write_lock_held_by_another_process(path):
            nursery.start_soon(mirror.flush)  # blocked by the lock, retrying
            await trio.sleep(0.3)
            for file_path, batch in frames(projects, session_id, 10, 10):
                mirror.add(file_path, batch)  # new frames buffer meanwhile
            await trio.sleep(2.0)
        await mirror.flush()
        assert errors == []
        main = await opened.load({"project_key": "proj", "session_id": session_id})
        assert main == [entry(n) for n in range(20)]
        sub = await opened.load(
            {"project_key": "proj", "session_id": session_id, "subpath": "subagents/agent-a1"}
        )
        assert sub == [entry(1000 + n, isSidechain=True) for n in range(20) if n % 3 == 0]
        assert mirror.failures == 0 and mirror.appended == 20 + 7


async def test_a_longer_outage_is_reported_and_an_import_fills_the_gap(tmp_path: Path) -> None:
    # Past every retry window the mirror gives up on a batch and says so (a typed error in
    # a MirrorErrorMessage); the CLI's own transcript still has it, and importing it fills the
    # gap without duplicating what did get through (entries are skipped by uuid).
    path, config = tmp_path / "s.db", tmp_path / "config"
    projects = config / "projects"
    project_dir = projects / "proj"
    project_dir.mkdir(parents=True)
    session_id = str(uuid.uuid4())
    local = project_dir / f"{session_id}.jsonl"
    errors: list[dict[str, Any]] = []
    async with SQLiteSessionStore(path, busy_timeout=0.05, retry_for=0.2) as opened:
        mirror = TranscriptMirror(opened, projects, eager=False, report_error=errors.append)

        def cli_writes(first: int, count: int) -> None:
            batch = [entry(n) for n in range(first, first + count)]
            with local.open("a") as handle:
                handle.writelines(json.dumps(e) + "\n" for e in batch)
            mirror.add(str(local), batch)

        cli_writes(0, 5)
        await mirror.flush()
        async with write_lock_held_by_another_process(path):
            cli_writes(5, 5)
            await mirror.flush()  # 3 attempts of 0.2 s each, then reported
        cli_writes(10, 5)
        await mirror.flush()
        (error,) = errors
        assert error["subtype"] == "mirror_error"
        assert error["error"].startswith("SessionStoreUnavailableError")
        key: tc.SessionKey = {"project_key": "proj", "session_id": session_id}
        assert await opened.load(key) == [entry(n) for n in [*range(5), *range(10, 15)]]

        await tc.import_session_to_store(session_id, opened, config_dir=config)
        loaded = await opened.load(key)
        assert loaded is not None and sorted(e["n"] for e in loaded) == list(range(15))


async def test_a_closing_flush_waits_behind_the_batch_in_flight(tmp_path: Path) -> None:
    # A session's close flushes what is queued while the flusher task may still be retrying
    # an earlier batch. Appends to one key wait in call order, so the later batch cannot
    # overtake the earlier one, and the close returns only once both are stored.
    path, projects = tmp_path / "s.db", tmp_path / "config" / "projects"
    session_id = str(uuid.uuid4())
    errors: list[dict[str, Any]] = []
    async with SQLiteSessionStore(path, busy_timeout=0.1, retry_for=30) as opened:
        mirror = TranscriptMirror(opened, projects, eager=False, report_error=errors.append)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(mirror.run)  # the session's flusher task
            async with write_lock_held_by_another_process(path):
                for file_path, batch in frames(projects, session_id, 0, 5):
                    mirror.add(file_path, batch)
                mirror.request_flush()  # a turn ended: the flusher meets the lock
                await trio.sleep(0.5)
                for file_path, batch in frames(projects, session_id, 5, 5):
                    mirror.add(file_path, batch)
                nursery.start_soon(mirror.flush)  # the session closes meanwhile
                await trio.sleep(1.5)
            with trio.fail_after(10):
                while mirror.appended < 10 + 4:
                    await trio.sleep(0.05)
            nursery.cancel_scope.cancel()
        assert errors == []
        main = await opened.load({"project_key": "proj", "session_id": session_id})
        assert main == [entry(n) for n in range(10)]


async def test_appends_to_one_key_never_overtake_each_other(
    store: SQLiteSessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = threading.Event()
    original = store._append_sync

    def slow_first(key: Any, batch: Any, batch_id: str, conn: Any) -> None:
        if batch[0]["n"] == 0:
            gate.wait(60)  # the first append is slow (an outage being ridden out, say)
        original(key, batch, batch_id, conn)

    monkeypatch.setattr(store, "_append_sync", slow_first)
    other: tc.SessionKey = {**KEY, "subpath": "subagents/agent-1"}
    async with trio.open_nursery() as nursery:
        try:
            nursery.start_soon(store.append, KEY, [entry(0)])
            await trio.sleep(0.2)
            nursery.start_soon(store.append, KEY, [entry(1)])
            nursery.start_soon(store.append, other, [entry(2)])  # another key is not held up
            await trio.sleep(0.3)
            # The other key's append lands while the first one is held (a write in a worker
            # thread: a loaded machine may take a while, so wait for it, bounded).
            with trio.fail_after(30):
                while await store.load(other) != [entry(2)]:
                    await trio.sleep(0.01)
            assert await store.load(KEY) is None  # the second waited behind the first
        finally:
            gate.set()
    assert await store.load(KEY) == [entry(0), entry(1)]


# --- docs/stores.md --------------------------------------------------------------------------


def test_the_stores_doc_parses_and_cites_real_tests() -> None:
    import ast
    import re

    doc = (REPO / "docs" / "stores.md").read_text()
    for block in re.findall(r"```python\n(.*?)```", doc, flags=re.DOTALL):
        compile(block, "stores.md", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    cited = set(re.findall(r"(tests/[\w/]+\.py)::(\w+)", doc))
    cited |= {
        (path, name)
        for path, names in re.findall(r"(tests/[\w/]+\.py)::\w+`, `((?:::\w+)+)", doc)
        for name in names.strip(":").split("::")
    }
    assert len(cited) >= 8
    for path, name in cited:
        source = (REPO / path).read_text()
        assert re.search(rf"^(async )?def {name}\(", source, flags=re.MULTILINE), (path, name)


async def test_a_database_file_deleted_while_in_use_is_made_again(tmp_path: Path) -> None:
    """A pooled connection kept writing into the deleted (unlinked) file, read by nobody: the
    appends vanished without an error, and a new store on the path found nothing. A
    connection whose file is no longer the one at the path is replaced, and the schema made
    again in the new file."""
    path = tmp_path / "s.db"
    store = tc.SQLiteSessionStore(path)
    key: tc.SessionKey = {"project_key": "p", "session_id": "s"}
    await store.append(key, [{"uuid": "a", "type": "user"}])
    path.unlink()  # a user's mistake, made on purpose
    await store.append(key, [{"uuid": "b", "type": "user"}])
    fresh = tc.SQLiteSessionStore(path)
    try:
        assert await fresh.load(key) == [{"uuid": "b", "type": "user"}]
        assert await store.load(key) == [{"uuid": "b", "type": "user"}]
    finally:
        await store.aclose()
        await fresh.aclose()
