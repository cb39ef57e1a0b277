"""Durable stores with the real CLI: mirror a conversation, survive an outage, resume elsewhere.

The CLI mirrors every transcript line it writes except its ``api-request*`` debugging lines, so
a complete store holds exactly the local transcript without them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import trio

import trio_claude as tc
from tests._postgres import PostgresServer, server_for_tests
from trio_claude.testing import ClaudeTestEnv, Turn


def local_transcript(env: ClaudeTestEnv, session_id: str) -> list[Any]:
    key = tc.project_key_for_directory(env.project)
    path = env.config_dir / "projects" / key / f"{session_id}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def mirrored_part(entries: list[Any]) -> list[Any]:
    return [e for e in entries if not str(e.get("type", "")).startswith("api-request")]


def store_key(env: ClaudeTestEnv, session_id: str) -> tc.SessionKey:
    return {"project_key": tc.project_key_for_directory(env.project), "session_id": session_id}


def mirror_errors(turns: list[tc.TurnResult]) -> list[tc.MirrorErrorMessage]:
    return [m for t in turns for m in t.messages if isinstance(m, tc.MirrorErrorMessage)]


async def resume_in_a_fresh_config_dir(
    env: ClaudeTestEnv, store: tc.SessionStore, session_id: str, reply: str, name: str
) -> str:
    """Resumes ``session_id`` from ``store`` with a config dir that never saw it; returns what
    the model was sent."""
    fresh = env.config_dir.parent / f"fresh-{name}"
    fresh.mkdir()
    options = env.options(
        [Turn(reply)],
        name=name,
        session_store=store,
        resume=session_id,
        env={"CLAUDE_CONFIG_DIR": str(fresh)},
    )
    async with tc.open_session(options) as session:
        turn = await session.run("what did I tell you?")
        assert turn.text == reply
        assert session.session_id == session_id
    assert not any(fresh.rglob("*.jsonl")), "the resume used a temporary config dir"
    (request,) = env.model.turn_requests(name)
    return str(request.body["messages"])


# --- SQLite ----------------------------------------------------------------------------------


async def test_a_conversation_mirrored_into_sqlite_resumes_from_a_fresh_config_dir(
    claude_env: ClaudeTestEnv,
) -> None:
    path = claude_env.root / "sessions.db"
    async with tc.SQLiteSessionStore(path) as store:
        options = claude_env.options([Turn("noted: 42"), Turn("noted: blue")], session_store=store)
        async with tc.open_session(options) as session:
            turns = [await session.run("the number is 42"), await session.run("the colour is blue")]
            session_id = session.session_id
        assert session_id is not None and not mirror_errors(turns)
        stored = await store.load(store_key(claude_env, session_id))
        assert stored == mirrored_part(local_transcript(claude_env, session_id))

    # The program "restarts": a new store object on the same file, a config dir that has
    # never seen the session.
    async with tc.SQLiteSessionStore(path) as reopened:
        (info,) = await tc.list_sessions_from_store(reopened, claude_env.project)
        assert info.session_id == session_id and info.first_prompt == "the number is 42"
        sent = await resume_in_a_fresh_config_dir(
            claude_env, reopened, session_id, "42 and blue", "resumed"
        )
        assert "the number is 42" in sent and "the colour is blue" in sent
        # The resumed turn was mirrored into the same transcript.
        after = await reopened.load(store_key(claude_env, session_id))
        assert after is not None and "what did I tell you?" in json.dumps(after)


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
        yield
    finally:
        await proc.stdin.aclose()
        with trio.move_on_after(30):
            await proc.wait()
        proc.kill()


async def run_into(session: tc.Session, prompt: str, turns: list[tc.TurnResult]) -> None:
    turns.append(await session.run(prompt))


async def test_a_locked_sqlite_file_mid_conversation_loses_nothing(
    claude_env: ClaudeTestEnv,
) -> None:
    path = claude_env.root / "sessions.db"
    async with tc.SQLiteSessionStore(path, busy_timeout=0.1) as store:
        options = claude_env.options([Turn("one"), Turn("two"), Turn("three")], session_store=store)
        async with tc.open_session(options) as session:
            turns = [await session.run("first")]
            async with (
                trio.open_nursery() as nursery,
                write_lock_held_by_another_process(path),
            ):
                # The turn's mirror flush meets the lock: the store retries, and the result
                # waits for it (as the official SDKs: a result seen means the store is up to
                # date), past the mirror's own retries (about 1 s).
                nursery.start_soon(run_into, session, "second", turns)
                await trio.sleep(2.0)
            turns.append(await session.run("third"))
            session_id = session.session_id
        assert session_id is not None
        assert [t.text for t in turns] == ["one", "two", "three"]
        assert not mirror_errors(turns)
        stored = await store.load(store_key(claude_env, session_id))
        local = mirrored_part(local_transcript(claude_env, session_id))
        assert stored == local
        assert "second" in json.dumps(stored)


# --- PostgreSQL ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pg() -> Iterator[PostgresServer]:
    yield from server_for_tests()


async def test_a_postgres_restart_mid_conversation_loses_nothing_and_another_node_resumes(
    claude_env: ClaudeTestEnv, pg: PostgresServer
) -> None:
    async with tc.PostgresSessionStore(pg.dsn, table_prefix="e2e") as node_a:
        options = claude_env.options(
            [Turn("one"), Turn("two"), Turn("three")], session_store=node_a
        )
        async with tc.open_session(options) as session:
            turns = [await session.run("the password is swordfish")]
            async with trio.open_nursery() as nursery:
                await trio.to_thread.run_sync(pg.stop)
                try:
                    # The server is down while this turn is mirrored: the store retries, and
                    # the result waits for it, past the mirror's own retries (about 1 s).
                    nursery.start_soon(run_into, session, "second", turns)
                    await trio.sleep(2.0)
                finally:
                    await trio.to_thread.run_sync(pg.start)
            turns.append(await session.run("third"))
            session_id = session.session_id
        assert session_id is not None
        assert [t.text for t in turns] == ["one", "two", "three"]
        assert not mirror_errors(turns)
        stored = await node_a.load(store_key(claude_env, session_id))
        assert stored == mirrored_part(local_transcript(claude_env, session_id))

    # Another node (its own store and connections) resumes the conversation.
    async with tc.PostgresSessionStore(pg.dsn, table_prefix="e2e") as node_b:
        sent = await resume_in_a_fresh_config_dir(
            claude_env, node_b, session_id, "swordfish", "node-b"
        )
        assert "the password is swordfish" in sent and "third" in sent
