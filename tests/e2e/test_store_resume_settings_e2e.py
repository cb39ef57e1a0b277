"""A store-backed resume with the real CLI keeps the user's settings and global config.

The resumed CLI runs from a temporary config dir (the stored transcript written into it); the
user's ``settings.json`` (here: ``env`` and a command hook) and ``.claude.json`` (here: a
user-scope MCP server) must reach it, from ``$CLAUDE_CONFIG_DIR`` or, without one, from
``~/.claude/settings.json`` and ``~/.claude.json``.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest
import trio

import trio_claude as tc
from trio_claude.testing import ClaudeTestEnv, Turn

HEADER = "x-trio-resume-check"


async def _stored_session(claude_env: ClaudeTestEnv, store: tc.InMemorySessionStore) -> str:
    async with tc.open_session(claude_env.options([Turn("noted")], session_store=store)) as s:
        await s.run("remember 7")
        assert s.session_id is not None
        return s.session_id


def _settings(marker: Path) -> dict[str, Any]:
    return {
        "env": {"ANTHROPIC_CUSTOM_HEADERS": f"{HEADER}: from-user-settings"},
        "hooks": {
            "UserPromptSubmit": [
                {"hooks": [{"type": "command", "command": f"touch {shlex.quote(str(marker))}"}]}
            ]
        },
    }


GLOBAL_CONFIG = {"mcpServers": {"from-global-config": {"command": "false"}}}


async def _resume_and_check(
    claude_env: ClaudeTestEnv, options: tc.ClaudeAgentOptions, marker: Path, name: str
) -> None:
    async with tc.open_session(options) as session:
        await session.send("what was the number?")
        messages = [m async for m in session.receive_response()]
    result = messages[-1]
    assert isinstance(result, tc.ResultMessage) and result.result == "it was 7"
    (request,) = claude_env.model.turn_requests(name)
    assert "remember 7" in str(request.body["messages"])  # the stored transcript was resumed
    assert request.headers.get(HEADER) == "from-user-settings"  # settings.json "env"
    assert await trio.Path(marker).exists()  # settings.json "hooks"
    init = next(m for m in messages if isinstance(m, tc.InitMessage))
    assert "from-global-config" in {s["name"] for s in init.mcp_servers}  # .claude.json


async def test_resume_keeps_settings_from_claude_config_dir(
    claude_env: ClaudeTestEnv, tmp_path: Path
) -> None:
    store = tc.InMemorySessionStore()
    session_id = await _stored_session(claude_env, store)
    marker = tmp_path / "hook-ran"
    (claude_env.config_dir / "settings.json").write_text(json.dumps(_settings(marker)))
    (claude_env.config_dir / ".claude.json").write_text(json.dumps(GLOBAL_CONFIG))
    options = claude_env.options(
        [Turn("it was 7")], name="resumed", session_store=store, resume=session_id
    )
    await _resume_and_check(claude_env, options, marker, "resumed")


async def test_resume_keeps_settings_from_home_without_claude_config_dir(
    claude_env: ClaudeTestEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tc.InMemorySessionStore()
    session_id = await _stored_session(claude_env, store)
    marker = tmp_path / "hook-ran"
    (claude_env.home / ".claude").mkdir(exist_ok=True)
    (claude_env.home / ".claude" / "settings.json").write_text(json.dumps(_settings(marker)))
    (claude_env.home / ".claude.json").write_text(json.dumps(GLOBAL_CONFIG))  # not in ~/.claude
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    claude_env.model.session_base_url("resumed-home", [Turn("it was 7")])
    env = claude_env.env("resumed-home")
    del env["CLAUDE_CONFIG_DIR"]  # the CLI's defaults: ~/.claude, and ~/.claude.json
    options = tc.ClaudeAgentOptions(
        env=env, cwd=claude_env.project, session_store=store, resume=session_id
    )
    await _resume_and_check(claude_env, options, marker, "resumed-home")
