"""The resumable session with the real CLI: a SIGKILLed or released CLI, resumed with --resume.

The proof that the conversation goes on is what the fake model received: the request of the
turn after the respawn carries the earlier turns' messages, read back from the transcript by the
new CLI.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import trio

import trio_claude as tc
from trio_claude.testing import ClaudeTestEnv, RecordedRequest, Turn


def sent(request: RecordedRequest) -> str:
    return json.dumps(request.messages)


def exists(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


async def test_a_sigkilled_cli_is_resumed_and_the_conversation_goes_on(
    claude_env: ClaudeTestEnv,
) -> None:
    options = claude_env.options([Turn("noted: 42"), Turn("you said 42")], name="r")
    async with tc.open_resumable_session(options) as session:
        assert (await session.run("remember the number 42")).text == "noted: 42"
        session_id, pid = session.session_id, session.pid
        assert session_id is not None and pid is not None
        os.kill(pid, signal.SIGKILL)
        with trio.fail_after(30):  # a hang guard
            await session.wait_disconnected()
        assert not exists(pid)  # reaped
        turn = await session.run("what was the number?")
        assert turn.text == "you said 42"
        assert session.respawns == 1
        assert session.pid is not None and session.pid != pid
        assert session.session_id == turn.session_id == session_id  # resumed, not forked
    first, second = claude_env.model.turn_requests("r")
    assert first.last_user_text == "remember the number 42"
    assert second.last_user_text == "what was the number?"
    assert "remember the number 42" in sent(second)  # the first turn, from the transcript
    assert "noted: 42" in sent(second)
    assert claude_env.leaked_processes() == []


async def test_a_released_cli_is_resumed_by_the_next_send(claude_env: ClaudeTestEnv) -> None:
    options = claude_env.options([Turn("first answer"), Turn("second answer")], name="idle")
    async with tc.open_resumable_session(options) as session:
        await session.run("first question")
        pid = session.pid
        assert pid is not None
        inner = session.session
        assert inner is not None
        with trio.fail_after(30):
            await inner.wait_idle()  # the CLI reports itself idle just after the result
        assert await session.release()  # what idle_timeout does: a graceful close
        assert not session.connected and not exists(pid)
        assert (await session.run("second question")).text == "second answer"
        assert session.respawns == 0 and session.statistics().idle_releases == 1
    _, second = claude_env.model.turn_requests("idle")
    assert "first question" in sent(second) and "first answer" in sent(second)


async def test_a_store_backed_session_resumes_from_the_store(claude_env: ClaudeTestEnv) -> None:
    store = tc.InMemorySessionStore()
    options = claude_env.options(
        [Turn("stored answer"), Turn("still here")], name="store", session_store=store
    )
    async with tc.open_resumable_session(options) as session:
        await session.run("a question worth keeping")
        pid = session.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        with trio.fail_after(30):  # a hang guard
            await session.wait_disconnected()
        # Only the store has the transcript now: the CLI's own copy is gone.
        for transcript in claude_env.config_dir.rglob("*.jsonl"):
            transcript.unlink()
        assert (await session.run("go on")).text == "still here"
    _, second = claude_env.model.turn_requests("store")
    assert "a question worth keeping" in sent(second) and "stored answer" in sent(second)
