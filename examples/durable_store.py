"""A conversation kept in a durable session store, resumed by a later run of the program.

    python -m trio_claude install-cli       # once: the pinned claude CLI
    python examples/durable_store.py                     # SQLite, in a temporary directory
    python examples/durable_store.py --db sessions.db    # SQLite, a file you keep
    python examples/durable_store.py --postgres "host=127.0.0.1 user=me dbname=claude"
                                                   # PostgreSQL: pip install 'trio-claude[postgres]'

Offline: the real CLI against trio-claude's fake model. The first "run" mirrors a two-turn
conversation into the store as the CLI writes it, then closes the store. The second opens a new
store on the same database (as a restarted program, or another machine of a fleet, would),
lists what is there and resumes the conversation with a config directory that has never seen it:
the CLI gets the transcript from the store alone.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import trio

import trio_claude as tc
from trio_claude.testing import ClaudeTestEnv, Turn, open_claude_test_env


def open_store(
    args: argparse.Namespace, tmp: Path
) -> tc.SQLiteSessionStore | tc.PostgresSessionStore:
    if args.postgres is not None:
        return tc.PostgresSessionStore(args.postgres, table_prefix="durable_example")
    return tc.SQLiteSessionStore(args.db or tmp / "sessions.db")


async def first_run(env: ClaudeTestEnv, store: tc.SessionStore) -> str:
    script = [Turn("Noted: the deploy window is Tuesday 14:00."), Turn("Noted: rollback plan B.")]
    options = env.options(script, name="first", session_store=store)
    async with tc.open_session(options) as session:
        for prompt in ("The deploy window is Tuesday 14:00.", "If it fails, use rollback plan B."):
            turn = await session.run(prompt)
            print(f"run 1: {prompt!r} -> {turn.text!r}")
        session_id = session.session_id
    assert session_id is not None
    return session_id  # leaving the session flushed the last entries into the store


async def second_run(env: ClaudeTestEnv, store: tc.SessionStore, session_id: str) -> None:
    for info in await tc.list_sessions_from_store(store, env.project):
        print(f"run 2: stored session {info.session_id[:8]}... {info.summary!r}")
    messages = await tc.get_session_messages_from_store(store, session_id, env.project)
    print(f"run 2: {len(messages)} messages in the store")

    fresh = env.root / "fresh-config"  # has never seen the session
    fresh.mkdir()
    options = env.options(
        [Turn("Tuesday 14:00, with rollback plan B if it fails.")],
        name="second",
        session_store=store,
        resume=session_id,
        env={"CLAUDE_CONFIG_DIR": str(fresh)},
    )
    async with tc.open_session(options) as session:
        turn = await session.run("When do we deploy, and what if it fails?")
        print(f"run 2: resumed {session_id[:8]}... -> {turn.text!r}")
    (request,) = env.model.turn_requests("second")
    history = json.dumps(request.body["messages"])
    print(f"run 2: the model saw run 1's turns: {'Tuesday 14:00' in history}")


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, help="the SQLite file (default: a temporary one)")
    parser.add_argument("--postgres", metavar="DSN", help="use a PostgreSQL server instead")
    args = parser.parse_args([] if argv is None else argv)
    with tempfile.TemporaryDirectory(prefix="durable-store-") as tmp:
        async with open_claude_test_env(tmp) as env:
            store = open_store(args, Path(tmp))
            try:
                session_id = await first_run(env, store)
            finally:
                await store.aclose()
            print(f"the program stops; {store!r} is closed")

            # A later run (or another node): a new store object on the same database.
            reopened = open_store(args, Path(tmp))
            try:
                await second_run(env, reopened, session_id)
            finally:
                await reopened.aclose()


if __name__ == "__main__":
    trio.run(main, sys.argv[1:])
