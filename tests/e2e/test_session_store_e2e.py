"""Live mirroring into a SessionStore, and resuming from the store, with the real CLI."""

from __future__ import annotations

from typing import Any

import pytest
import trio

import trio_claude as tc
from trio_claude.testing import ClaudeTestEnv, Turn


async def test_transcript_is_mirrored_and_a_store_resume_works(claude_env: ClaudeTestEnv) -> None:
    store = tc.InMemorySessionStore()
    opts = claude_env.options([Turn("remember 42")], session_store=store)
    async with tc.open_session(opts) as session:
        turn = await session.run("the number is 42")
        session_id = session.session_id
    assert session_id is not None and turn.text == "remember 42"
    key: Any = {
        "project_key": tc.project_key_for_directory(claude_env.project),
        "session_id": session_id,
    }
    entries = await store.load(key)
    assert entries, "the transcript was mirrored into the store"
    assert any("the number is 42" in str(e) for e in entries)

    # Resume from the store alone: a fresh config dir that has never seen the session.
    fresh = claude_env.config_dir.parent / "fresh-config"
    fresh.mkdir()
    resumed_opts = claude_env.options(
        [Turn("you said 42")],
        name="resumed",
        session_store=store,
        resume=session_id,
        env={"CLAUDE_CONFIG_DIR": str(fresh)},
    )
    async with tc.open_session(resumed_opts) as session:
        turn = await session.run("what was the number?")
        assert turn.text == "you said 42"
    (request,) = claude_env.model.turn_requests("resumed")
    assert "the number is 42" in str(request.body["messages"])
    assert not any(fresh.rglob("*.jsonl")), "the resume used a temporary config dir"


class FailingStore(tc.InMemorySessionStore):
    async def append(self, key: Any, entries: list[Any]) -> None:
        raise OSError("disk on fire")


async def test_a_failing_store_is_reported_not_fatal(claude_env: ClaudeTestEnv) -> None:
    opts = claude_env.options([Turn("fine"), Turn("still fine")], session_store=FailingStore())
    async with tc.open_session(opts) as session:
        await session.send("hi")
        with trio.fail_after(30):  # a hang guard
            seen = [m async for m in session.receive_response()]
        assert isinstance(seen[-1], tc.ResultMessage) and seen[-1].result == "fine"
        # As the official SDKs: the store is flushed before the result is handed out, and
        # the failure is reported before it, in the turn.
        errors = [m for m in seen if isinstance(m, tc.MirrorErrorMessage)]
        assert errors and "disk on fire" in errors[0].error
        assert (await session.run("again")).text == "still fine"  # and the session goes on


async def test_resume_of_an_unknown_session_is_a_typed_error(claude_env: ClaudeTestEnv) -> None:
    opts = claude_env.options(
        [],
        session_store=tc.InMemorySessionStore(),
        resume="00000000-0000-4000-8000-00000000abcd",
    )
    with pytest.raises(tc.SessionNotFoundError):
        async with tc.open_session(opts):
            pass
