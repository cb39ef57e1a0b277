"""PostgresSessionStore against a real PostgreSQL server started for this module.

The server is a private cluster (tests/_postgres.py): installed from Debian's packages if
missing, ``initdb`` in a temporary directory, 127.0.0.1 on a free port, removed at the end.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import textwrap
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
import trio

import trio_claude as tc
from tests._postgres import PostgresServer, server_for_tests
from trio_claude._mirror import TranscriptMirror
from trio_claude._session_store import materialize_session_from_store
from trio_claude.stores import (
    MissingExtraError,
    PostgresSessionStore,
    SessionStoreSchemaError,
    SessionStoreUnavailableError,
)
from trio_claude.testing.session_store_conformance import run_session_store_conformance

REPO = Path(__file__).resolve().parents[2]
_prefixes = itertools.count()


@pytest.fixture(scope="module")
def pg() -> Iterator[PostgresServer]:
    yield from server_for_tests()


def fresh_prefix() -> str:
    return f"t{next(_prefixes)}_{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def store(pg: PostgresServer) -> AsyncIterator[PostgresSessionStore]:
    async with PostgresSessionStore(pg.dsn, table_prefix=fresh_prefix()) as opened:
        yield opened


def key(session_id: str = "11111111-1111-4111-8111-111111111111", **more: str) -> tc.SessionKey:
    return {"project_key": "proj", "session_id": session_id, **more}  # type: ignore[typeddict-item]


def entry(n: int, **fields: Any) -> tc.SessionStoreEntry:
    return cast(tc.SessionStoreEntry, {"type": "user", "uuid": f"u-{n}", "n": n, **fields})


# --- contracts and basics --------------------------------------------------------------------


async def test_postgres_store_passes_every_contract(pg: PostgresServer) -> None:
    made: list[PostgresSessionStore] = []

    def make() -> PostgresSessionStore:
        made.append(PostgresSessionStore(pg.dsn, table_prefix=fresh_prefix()))
        return made[-1]

    result = await run_session_store_conformance(make)
    assert result.skipped == () and len(result.passed) == 14
    for opened in made:
        await opened.aclose()


async def test_unusual_json_round_trips(store: PostgresSessionStore) -> None:
    odd: list[Any] = [
        {"type": "x", "uuid": "a", "nul": "a\x00b", "surrogate": "\ud83d", "big": 2**80},
        {"type": "x", "uuid": "b", "float": 0.1 + 0.2, "deep": [[[{"k": [None, True]}]]]},
        {"type": "x", "text": "h\u00e9 \u2603 \U0001f600", "z": 1, "a": 2},
    ]
    await store.append(key(), odd)
    loaded = await store.load(key())
    assert loaded == odd
    assert loaded is not None and list(loaded[2]) == ["type", "text", "z", "a"]  # key order kept


async def test_entries_already_stored_are_skipped_by_uuid(store: PostgresSessionStore) -> None:
    no_uuid: Any = {"type": "custom-title", "customTitle": "t"}
    await store.append(key(), [entry(1), entry(2), no_uuid])
    await store.append(key(), [entry(2), entry(3), entry(3), no_uuid])
    assert await store.load(key()) == [entry(1), entry(2), no_uuid, entry(3), no_uuid]
    (summary,) = await store.list_session_summaries("proj")
    loaded = await store.load(key())
    assert loaded is not None
    assert summary["data"] == tc.fold_session_summary(None, key(), loaded)["data"]
    # A retried call whose first attempt committed (connection lost during COMMIT) is a no-op.
    batch: Any = [{"type": "tag", "tag": "x"}]
    for _ in range(2):
        await store._pool.run(
            lambda conn: store._append_sync(key(), batch, "batch-1", conn), cancellable=False
        )
    loaded = await store.load(key())
    assert loaded is not None and loaded[-2:] == [no_uuid, *batch]


async def test_schema_is_versioned_and_created_once_by_racing_nodes(pg: PostgresServer) -> None:
    prefix = fresh_prefix()
    nodes = [PostgresSessionStore(pg.dsn, table_prefix=prefix, schema="fleet") for _ in range(4)]
    async with trio.open_nursery() as nursery:
        for node in nodes:
            nursery.start_soon(node.open)  # four nodes starting together
    await nodes[0].append(key(), [entry(1)])
    assert await nodes[3].load(key()) == [entry(1)]
    for node in nodes:
        await node.aclose()

    import psycopg

    with psycopg.connect(pg.dsn, autocommit=True) as conn:
        row = conn.execute(
            f"SELECT value FROM fleet.{prefix}_meta WHERE name = 'schema_version'"
        ).fetchone()
        assert row == ("1",)
        conn.execute(f"UPDATE fleet.{prefix}_meta SET value = '7'")
    newer = PostgresSessionStore(pg.dsn, table_prefix=prefix, schema="fleet")
    with trio.fail_after(30), pytest.raises(SessionStoreSchemaError, match="version 7"):
        await newer.open()
    await newer.aclose()


def test_identifiers_are_checked() -> None:
    for bad in ("Robert'); DROP TABLE x;--", "Upper", "", "1abc", "a" * 41):
        with pytest.raises(ValueError, match="identifier"):
            PostgresSessionStore("", table_prefix=bad)
    with pytest.raises(ValueError, match="identifier"):
        PostgresSessionStore("", schema="no-dash")


def test_repr_never_shows_the_dsn() -> None:
    store = PostgresSessionStore("postgresql://u:hunter2@127.0.0.1:1/db")
    assert "hunter2" not in repr(store)


# --- the optional extra ----------------------------------------------------------------------


def run_python(script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        check=False,
    )


def test_without_psycopg_the_error_names_the_extra() -> None:
    proc = run_python(
        """
        import sys
        sys.modules["psycopg"] = None  # as if the extra were not installed
        import trio_claude as tc
        from trio_claude.stores import MissingExtraError
        try:
            tc.PostgresSessionStore("host=127.0.0.1")
        except MissingExtraError as exc:
            assert isinstance(exc, ImportError) and exc.extra == "postgres"
            print(exc)
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert "pip install 'trio-claude[postgres]'" in proc.stdout
    assert MissingExtraError.__mro__[1:3] == (tc.ClaudeSDKError, ImportError)


def test_psycopg_is_not_imported_until_a_store_is_made() -> None:
    proc = run_python(
        """
        import sys
        import trio_claude as tc
        import trio_claude.stores
        tc.PostgresSessionStore, tc.SQLiteSessionStore  # the names resolve...
        assert "psycopg" not in sys.modules  # ...without loading the driver
        tc.PostgresSessionStore("host=127.0.0.1")
        assert "psycopg" in sys.modules
        print("ok")
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


# --- a fleet ---------------------------------------------------------------------------------


async def test_any_node_reads_what_another_wrote(pg: PostgresServer, tmp_path: Path) -> None:
    prefix = fresh_prefix()
    session_id = str(uuid.uuid4())
    # Node A is another process; node B is this one.
    proc = await trio.run_process(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                """
                import sys, trio
                from trio_claude.stores import PostgresSessionStore

                async def main(dsn, prefix, session_id):
                    async with PostgresSessionStore(dsn, table_prefix=prefix) as node_a:
                        k = {"project_key": "proj", "session_id": session_id}
                        await node_a.append(k, [
                            {"type": "user", "uuid": "u1", "timestamp": "2025-01-01T00:00:00Z",
                             "message": {"role": "user", "content": "hello from A"}},
                        ])
                        await node_a.append({**k, "subpath": "subagents/agent-x"},
                                            [{"type": "user", "uuid": "s1", "isSidechain": True}])
                trio.run(main, *sys.argv[1:])
                """
            ),
            pg.dsn,
            prefix,
            session_id,
        ],
        cwd=REPO,
        capture_stderr=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    async with PostgresSessionStore(pg.dsn, table_prefix=prefix) as node_b:
        (info,) = await tc.list_sessions_from_store(node_b, project_key="proj")
        assert info.session_id == session_id and info.first_prompt == "hello from A"
        assert await node_b.list_subkeys(key(session_id)) == ["subagents/agent-x"]
        written = await materialize_session_from_store(
            node_b, session_id, tmp_path / "config", project_key="proj"
        )
        assert written is not None and "hello from A" in written.read_text()
        assert (written.with_suffix("") / "subagents" / "agent-x.jsonl").exists()


async def test_concurrent_writers_keep_batches_whole_and_ordered(pg: PostgresServer) -> None:
    prefix = fresh_prefix()
    nodes = [PostgresSessionStore(pg.dsn, table_prefix=prefix) for _ in range(3)]
    rounds = 15

    async def writer(index: int, node: PostgresSessionStore) -> None:
        for i in range(rounds):
            batch: Any = [
                {"type": "user", "uuid": f"{index}-{i}-{j}", "w": index, "i": i} for j in range(4)
            ]
            await node.append(key(), batch)

    async with trio.open_nursery() as nursery:
        for index, node in enumerate(nodes):
            nursery.start_soon(writer, index, node)
    loaded = await nodes[0].load(key())
    assert loaded is not None and len(loaded) == 3 * rounds * 4
    for index in range(3):
        assert [e["i"] for e in loaded if e["w"] == index] == [  # type: ignore[typeddict-item]
            i for i in range(rounds) for _ in range(4)
        ]
    for start in range(0, len(loaded), 4):
        assert len({e["w"] for e in loaded[start : start + 4]}) == 1  # type: ignore[typeddict-item]
    for node in nodes:
        await node.aclose()


# --- outages ---------------------------------------------------------------------------------


def frames(projects: Path, session_id: str, first: int, count: int) -> list[tuple[str, list[Any]]]:
    main = projects / "proj" / f"{session_id}.jsonl"
    sub = projects / "proj" / session_id / "subagents" / "agent-a1.jsonl"
    out: list[tuple[str, list[Any]]] = []
    for n in range(first, first + count):
        out.append((str(main), [entry(n)]))
        if n % 3 == 0:
            out.append((str(sub), [entry(1000 + n, isSidechain=True)]))
    return out


async def test_a_server_restart_mid_mirroring_loses_nothing(
    pg: PostgresServer, tmp_path: Path
) -> None:
    projects = tmp_path / "config" / "projects"
    session_id = str(uuid.uuid4())
    errors: list[dict[str, Any]] = []
    async with PostgresSessionStore(pg.dsn, table_prefix=fresh_prefix(), retry_for=60) as opened:
        mirror = TranscriptMirror(opened, projects, eager=False, report_error=errors.append)
        for file_path, batch in frames(projects, session_id, 0, 10):
            mirror.add(file_path, batch)
        await mirror.flush()  # pooled connections exist now; the restart breaks them
        for file_path, batch in frames(projects, session_id, 10, 10):
            mirror.add(file_path, batch)
        await trio.to_thread.run_sync(pg.stop)
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(mirror.flush)  # the server is down: retrying
                await trio.sleep(2.0)  # longer than the mirror's own retries (about 1 s)
                for file_path, batch in frames(projects, session_id, 20, 10):
                    mirror.add(file_path, batch)  # new frames buffer meanwhile
                await trio.to_thread.run_sync(pg.start)
        finally:
            if not pg.is_running():
                pg.start()
        await mirror.flush()
        assert errors == []
        assert await opened.load(key(session_id)) == [entry(n) for n in range(30)]
        sub = await opened.load(key(session_id, subpath="subagents/agent-a1"))
        assert sub == [entry(1000 + n, isSidechain=True) for n in range(30) if n % 3 == 0]
        assert mirror.failures == 0 and mirror.appended == 30 + 10


async def test_an_outage_longer_than_retry_for_is_a_typed_error(pg: PostgresServer) -> None:
    async with PostgresSessionStore(
        pg.dsn, table_prefix=fresh_prefix(), retry_for=1.0, connect_timeout=2
    ) as opened:
        await opened.append(key(), [entry(1)])
        await trio.to_thread.run_sync(pg.stop)
        try:
            with pytest.raises(SessionStoreUnavailableError) as caught:
                await opened.append(key(), [entry(2)])
            assert caught.value.operation == "append" and caught.value.attempts > 1
            import psycopg

            assert isinstance(caught.value.__cause__, psycopg.OperationalError)
        finally:
            await trio.to_thread.run_sync(pg.start)
        # The same store reconnects once the server is back.
        await opened.append(key(), [entry(2)])
        assert await opened.load(key()) == [entry(1), entry(2)]
