"""Session helpers on a real transcript written by the real CLI (fake model, offline)."""

from __future__ import annotations

import json

import trio_claude as tc
from trio_claude.testing import ClaudeTestEnv, Turn


def _text(message: tc.SessionMessage) -> str:
    content = message.message["content"]
    if isinstance(content, str):
        return content
    return "".join(block.get("text", "") for block in content if isinstance(block, dict))


async def _two_turn_session(claude_env: ClaudeTestEnv) -> str:
    opts = claude_env.options([Turn("a"), Turn("b")])
    async with tc.open_session(opts) as session:
        await session.run("one")
        await session.run("two")
        session_id = session.session_id
    assert session_id is not None
    return session_id


async def test_helpers_on_a_real_transcript(claude_env: ClaudeTestEnv) -> None:
    session_id = await _two_turn_session(claude_env)
    config, project = claude_env.config_dir, claude_env.project

    (info,) = await tc.alist_sessions(project, config_dir=config)
    assert info.session_id == session_id
    assert (info.first_prompt, info.summary) == ("one", "two")  # the CLI's last-prompt entry
    assert info.cwd == str(project.resolve())
    assert info.file_size and info.created_at and info.last_modified >= info.created_at
    assert await tc.aget_session_info(session_id, project, config_dir=config) == info
    assert [s.session_id for s in await tc.alist_sessions(config_dir=config)] == [session_id]

    messages = await tc.aget_session_messages(session_id, project, config_dir=config)
    assert [(m.type, _text(m)) for m in messages] == [
        ("user", "one"),
        ("assistant", "a"),
        ("user", "two"),
        ("assistant", "b"),
    ]
    assert {m.session_id for m in messages} == {session_id}
    assert await tc.alist_subagents(session_id, project, config_dir=config) == []

    await tc.arename_session(session_id, "Renamed", project, config_dir=config)
    await tc.atag_session(session_id, "e2e", project, config_dir=config)
    (info,) = await tc.alist_sessions(project, config_dir=config)
    assert (info.summary, info.custom_title, info.tag) == ("Renamed", "Renamed", "e2e")

    store = tc.InMemorySessionStore()
    await tc.import_session_to_store(session_id, store, directory=project, config_dir=config)
    assert await tc.get_session_messages_from_store(store, session_id, project) == messages
    (stored,) = await tc.list_sessions_from_store(store, project)
    assert (stored.session_id, stored.summary, stored.tag) == (session_id, "Renamed", "e2e")

    await tc.adelete_session(session_id, project, config_dir=config)
    assert await tc.alist_sessions(project, config_dir=config) == []
    assert await tc.aget_session_messages(session_id, project, config_dir=config) == []


async def test_a_fork_resumes_with_the_earlier_turns(claude_env: ClaudeTestEnv) -> None:
    session_id = await _two_turn_session(claude_env)
    config, project = claude_env.config_dir, claude_env.project
    messages = await tc.aget_session_messages(session_id, project, config_dir=config)

    fork = await tc.afork_session(session_id, project, config_dir=config)
    info = await tc.aget_session_info(fork.session_id, project, config_dir=config)
    assert info is not None and info.custom_title == "one (fork)"
    forked = await tc.aget_session_messages(fork.session_id, project, config_dir=config)
    assert [m.message for m in forked] == [m.message for m in messages]

    opts = claude_env.options([Turn("c")], name="resumed", resume=fork.session_id)
    async with tc.open_session(opts) as session:
        turn = await session.run("three")
        assert turn.text == "c"
        assert session.session_id == fork.session_id
    (request,) = claude_env.model.turn_requests("resumed")
    sent = json.dumps(request.messages)
    for earlier in ("one", "two"):
        assert f'"text": "{earlier}"' in sent or f'"content": "{earlier}"' in sent
    assert [m["content"] for m in request.messages if m["role"] == "assistant"][:2] == [
        [{"type": "text", "text": "a"}],
        [{"type": "text", "text": "b"}],
    ]
    assert request.last_user_text == "three"

    # The resumed fork grew; the original is untouched.
    grown = await tc.aget_session_messages(fork.session_id, project, config_dir=config)
    assert [_text(m) for m in grown][-2:] == ["three", "c"]
    assert await tc.aget_session_messages(session_id, project, config_dir=config) == messages

    # A fork cut after the first answer resumes without the second turn.
    cut = await tc.afork_session(
        session_id, project, up_to_message_id=messages[1].uuid, config_dir=config
    )
    opts = claude_env.options([Turn("d")], name="cut", resume=cut.session_id)
    async with tc.open_session(opts) as session:
        assert (await session.run("again")).text == "d"
    (request,) = claude_env.model.turn_requests("cut")
    sent = json.dumps(request.messages)
    assert '"text": "a"' in sent and '"text": "b"' not in sent
