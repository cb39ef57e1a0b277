"""Resuming from a session store keeps the user's configuration (issue 12, item 7).

The resumed CLI runs with ``CLAUDE_CONFIG_DIR`` pointed at a temporary directory holding the
stored transcript; the user's credentials, global config (``.claude.json``, which lives in
``$HOME`` when ``CLAUDE_CONFIG_DIR`` is unset) and user settings (``settings.json``,
``cowork_settings.json``: ``apiKeyHelper``, ``env``, ``hooks``, ``permissions``,
``outputStyle``) must be there too.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import stat
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import trio

import trio_claude as tc
from tests.unit._session_builders import two_turn
from trio_claude._mirror import copy_user_config, prepare_store_resume

SETTINGS: dict[str, Any] = {
    "apiKeyHelper": "/usr/local/bin/print-key",
    "env": {"MY_FLAG": "1", "CLAUDE_CONFIG_DIR": "/somewhere/else"},
    "hooks": {"Stop": [{"hooks": [{"type": "command", "command": "true"}]}]},
    "permissions": {"allow": ["Bash(ls:*)"], "deny": ["Read(./.env)"]},
    "outputStyle": "Explanatory",
    "enabledPlugins": {"p@market": True},
    "extraKnownMarketplaces": {"market": {"source": {"source": "github", "repo": "o/r"}}},
}
KEPT = {
    "apiKeyHelper": SETTINGS["apiKeyHelper"],
    "env": {"MY_FLAG": "1"},
    "hooks": SETTINGS["hooks"],
    "permissions": SETTINGS["permissions"],
    "outputStyle": "Explanatory",
}
CREDENTIALS = {
    "claudeAiOauth": {"accessToken": "at", "refreshToken": "rt", "expiresAt": 1},
    "hybridOauth": {"accessToken": "hat", "refreshToken": "hrt"},
    "other": {"refreshToken": "kept"},
}


def write_json(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value))


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "project"
    path.mkdir()
    return path


@pytest.fixture
async def resume(project: Path) -> AsyncIterator[Callable[[dict[str, str]], Any]]:
    """``await resume(env)``: materialises a stored two-turn session; returns the temp dir."""
    store = tc.InMemorySessionStore()
    transcript = two_turn(cwd=str(project))
    key: Any = {
        "project_key": tc.project_key_for_directory(project),
        "session_id": transcript.session_id,
    }
    lines: Any = transcript.lines  # plain dicts, as a store receives them
    await store.append(key, lines)
    made: list[Path] = []

    async def run(env: dict[str, str]) -> Path:
        session_id, tmp = await prepare_store_resume(
            store, resume=transcript.session_id, continue_conversation=False, cwd=str(project),
            env=env,
        )  # fmt: skip
        assert session_id == transcript.session_id
        assert (tmp / "projects" / key["project_key"] / f"{session_id}.jsonl").is_file()
        made.append(tmp)
        return tmp

    yield run
    for tmp in made:
        shutil.rmtree(tmp, ignore_errors=True)


async def test_settings_and_config_come_from_the_config_dir(
    tmp_path: Path, resume: Callable[[dict[str, str]], Any]
) -> None:
    config = tmp_path / "config"
    write_json(config / "settings.json", SETTINGS)
    write_json(config / "cowork_settings.json", {"outputStyle": "Learning", "enabledPlugins": {}})
    write_json(config / ".claude.json", {"userID": "u", "hasCompletedOnboarding": True})
    write_json(config / ".credentials.json", CREDENTIALS)
    write_json(tmp_path / "home" / ".claude.json", {"userID": "not this one"})
    tmp: Path = await resume({"CLAUDE_CONFIG_DIR": str(config), "HOME": str(tmp_path / "home")})

    assert read_json(tmp / "settings.json") == KEPT
    assert read_json(tmp / "cowork_settings.json") == {"outputStyle": "Learning"}
    assert read_json(tmp / ".claude.json") == {"userID": "u", "hasCompletedOnboarding": True}
    credentials = read_json(tmp / ".credentials.json")
    assert credentials["claudeAiOauth"] == {"accessToken": "at", "expiresAt": 1}
    assert credentials["hybridOauth"] == {"accessToken": "hat"}
    assert credentials["other"] == {"refreshToken": "kept"}
    for name in ("settings.json", "cowork_settings.json", ".claude.json", ".credentials.json"):
        assert mode(tmp / name) == 0o600, name


async def test_without_claude_config_dir_the_global_config_is_in_home(
    tmp_path: Path, resume: Callable[[dict[str, str]], Any]
) -> None:
    home = tmp_path / "home"
    write_json(home / ".claude.json", {"userID": "from-home"})
    write_json(home / ".claude" / ".claude.json", {"userID": "never read by the CLI"})
    write_json(home / ".claude" / "settings.json", {"outputStyle": "Explanatory"})
    write_json(home / ".claude" / ".credentials.json", {"claudeAiOauth": {"accessToken": "a"}})
    tmp: Path = await resume({"HOME": str(home)})
    assert read_json(tmp / ".claude.json") == {"userID": "from-home"}
    assert read_json(tmp / "settings.json") == {"outputStyle": "Explanatory"}
    assert read_json(tmp / ".credentials.json") == {"claudeAiOauth": {"accessToken": "a"}}


async def test_nothing_to_copy_is_fine(
    tmp_path: Path, resume: Callable[[dict[str, str]], Any]
) -> None:
    tmp: Path = await resume({"HOME": str(tmp_path / "empty-home")})
    assert sorted(p.name for p in await trio.Path(tmp).iterdir()) == ["projects"]


def test_settings_are_copied_byte_for_byte_unless_something_is_removed(tmp_path: Path) -> None:
    config, target = tmp_path / "config", tmp_path / "target"
    config.mkdir()
    target.mkdir()
    plain = b'{\n  "outputStyle": "x",  "model": "opus"\n}\n'
    (config / "settings.json").write_bytes(plain)
    (config / "cowork_settings.json").write_bytes(b"not json {")
    (config / ".credentials.json").write_bytes(b'{"claudeAiOauth": {"accessToken": "a"}}')
    copy_user_config({"CLAUDE_CONFIG_DIR": str(config)}, target)
    assert (target / "settings.json").read_bytes() == plain
    assert (target / "cowork_settings.json").read_bytes() == b"not json {"
    assert (target / ".credentials.json").read_bytes() == b'{"claudeAiOauth": {"accessToken": "a"}}'
    # a UTF-8 BOM (PowerShell writes one) is understood
    (config / "settings.json").write_bytes(b"\xef\xbb\xbf" + json.dumps(SETTINGS).encode())
    copy_user_config({"CLAUDE_CONFIG_DIR": str(config)}, target)
    assert read_json(target / "settings.json") == KEPT


def test_legacy_and_per_environment_config_files_are_copied(tmp_path: Path) -> None:
    home, target = tmp_path / "home", tmp_path / "target"
    target.mkdir()
    write_json(home / ".claude" / ".config.json", {"legacy": True})
    write_json(home / ".claude-staging-oauth.json", {"staging": True})
    copy_user_config({"HOME": str(home)}, target)
    assert read_json(target / ".config.json") == {"legacy": True}
    assert read_json(target / ".claude-staging-oauth.json") == {"staging": True}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
async def test_a_fifo_or_unreadable_file_is_skipped_not_waited_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config, target = tmp_path / "config", tmp_path / "target"
    config.mkdir()
    target.mkdir()
    os.mkfifo(config / "settings.json")
    (config / ".claude.json").mkdir()  # a directory where a file was expected
    write_json(config / "cowork_settings.json", {"outputStyle": "x"})
    with caplog.at_level(logging.WARNING, logger="trio_claude"), trio.fail_after(5):
        await trio.to_thread.run_sync(copy_user_config, {"CLAUDE_CONFIG_DIR": str(config)}, target)
    assert not (target / "settings.json").exists()
    assert not (target / ".claude.json").exists()
    assert read_json(target / "cowork_settings.json") == {"outputStyle": "x"}
    assert "not copying" in caplog.text and "settings.json" in caplog.text
