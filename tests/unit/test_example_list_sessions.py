"""examples/list_sessions.py runs offline and does what it says."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.unit._session_builders import two_turn

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "list_sessions.py"


def run(*args: str, cwd: Path, env: dict[str, str]) -> str:
    completed = subprocess.run(
        [sys.executable, str(EXAMPLE), *args],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def test_demo_tour(tmp_path: Path) -> None:
    out = run("--demo", cwd=tmp_path, env={"HOME": str(tmp_path), "CLAUDE_CONFIG_DIR": ""})
    sections = out.split("== ")
    assert "'And the license?'" in sections[1]  # listed by its last prompt
    assert "user: Summarise README.md" in sections[2]
    assert "assistant: MIT." in sections[2]
    assert "'README questions' [docs]" in sections[3]
    assert "'README questions (fork)'" in sections[3]
    assert "fork has 2 messages" in sections[3]
    assert "'README questions' [docs]" in sections[4]
    assert "after deleting the fork: 1 session(s)" in sections[5]


def test_lists_and_shows_real_sessions(tmp_path: Path) -> None:
    config, project = tmp_path / "config", tmp_path / "project"
    project.mkdir()
    t = two_turn(cwd=str(project))
    t.write(config, project)
    env = {"HOME": str(tmp_path), "CLAUDE_CONFIG_DIR": str(config)}
    assert t.session_id in run(cwd=project, env=env)
    assert t.session_id in run("--all", cwd=tmp_path, env=env)
    assert run(cwd=tmp_path, env=env).strip() == "no sessions"
    shown = run("--show", t.session_id, cwd=project, env=env)
    assert shown.splitlines() == [
        "     user: one",
        "assistant: a",
        "     user: two",
        "assistant: b",
    ]
