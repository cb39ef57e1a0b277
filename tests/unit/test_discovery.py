"""Finding the CLI: explicit path, $TRIO_CLAUDE_CLI, the pinned install, PATH, usual places.

Every test builds its own HOME, PATH and cache directory under tmp_path; the real HOME is never
looked at.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from trio_claude._errors import CLINotFoundError
from trio_claude._transport import _discovery
from trio_claude._transport._discovery import (
    cache_dir,
    default_install_dir,
    find_cli,
    installed_cli_path,
)
from trio_claude._version import CLI_VERSION

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX layout")


def _exe(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\necho fake\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """An environment with an empty HOME and PATH, and no system-wide locations."""
    monkeypatch.setattr(_discovery, "_SYSTEM_LOCATIONS", ())
    home = tmp_path / "home"
    home.mkdir()
    empty_bin = tmp_path / "empty-bin"
    empty_bin.mkdir()
    return {"HOME": str(home), "PATH": str(empty_bin)}


def test_explicit_path(env: dict[str, str], tmp_path: Path) -> None:
    cli = _exe(tmp_path / "x" / "claude")
    assert find_cli(cli, env=env) == str(cli)
    assert find_cli(str(cli), env=env) == str(cli)


def test_explicit_relative_path_is_made_absolute(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _exe(tmp_path / "x" / "claude")
    monkeypatch.chdir(tmp_path)
    assert find_cli("x/claude", env=env) == str(tmp_path / "x" / "claude")


def test_explicit_bare_name_is_looked_up_on_path(env: dict[str, str], tmp_path: Path) -> None:
    cli = _exe(tmp_path / "bin" / "claude-nightly")
    env["PATH"] = str(cli.parent)
    assert find_cli("claude-nightly", env=env) == str(cli)


def test_explicit_missing_path_fails_even_if_another_cli_exists(
    env: dict[str, str], tmp_path: Path
) -> None:
    _exe(Path(env["HOME"]) / ".local" / "bin" / "claude")
    missing = tmp_path / "nope" / "claude"
    with pytest.raises(CLINotFoundError) as info:
        find_cli(missing, env=env)
    assert str(info.value).startswith(f"Claude Code not found at: {missing}")
    assert info.value.cli_path == str(missing)


def test_explicit_non_executable_fails(env: dict[str, str], tmp_path: Path) -> None:
    cli = tmp_path / "claude"
    cli.write_text("not executable")
    with pytest.raises(CLINotFoundError, match="not executable"):
        find_cli(cli, env=env)


def test_env_var_beats_everything_but_the_explicit_path(
    env: dict[str, str], tmp_path: Path
) -> None:
    from_env = _exe(tmp_path / "env" / "claude")
    explicit = _exe(tmp_path / "explicit" / "claude")
    _exe(Path(env["HOME"]) / ".local" / "bin" / "claude")
    env["TRIO_CLAUDE_CLI"] = str(from_env)
    assert find_cli(env=env) == str(from_env)
    assert find_cli(explicit, env=env) == str(explicit)


def test_env_var_pointing_nowhere_fails(env: dict[str, str], tmp_path: Path) -> None:
    env["TRIO_CLAUDE_CLI"] = str(tmp_path / "missing")
    with pytest.raises(CLINotFoundError, match=r"TRIO_CLAUDE_CLI"):
        find_cli(env=env)


def test_cache_dir_resolution(env: dict[str, str], tmp_path: Path) -> None:
    home = Path(env["HOME"])
    assert cache_dir(env) == home / ".cache" / "trio-claude"
    env["XDG_CACHE_HOME"] = str(tmp_path / "xdg")
    assert cache_dir(env) == tmp_path / "xdg" / "trio-claude"
    env["TRIO_CLAUDE_CACHE_DIR"] = str(tmp_path / "mine")
    assert cache_dir(env) == tmp_path / "mine"
    assert default_install_dir("1.2.3", env) == tmp_path / "mine" / "cli" / "1.2.3"
    assert default_install_dir(env=env) == tmp_path / "mine" / "cli" / CLI_VERSION


def test_installed_cli_path() -> None:
    assert installed_cli_path("/x") == Path("/x/node_modules/.bin/claude")


def test_pinned_install_beats_path(env: dict[str, str], tmp_path: Path) -> None:
    env["TRIO_CLAUDE_CACHE_DIR"] = str(tmp_path / "cache")
    pinned = _exe(installed_cli_path(default_install_dir(CLI_VERSION, env)))
    on_path = _exe(tmp_path / "bin" / "claude")
    env["PATH"] = str(on_path.parent)
    assert find_cli(env=env) == str(pinned)
    # Another version's install is not the pinned one.
    pinned.unlink()
    _exe(installed_cli_path(default_install_dir("0.0.1", env)))
    assert find_cli(env=env) == str(on_path)


def test_pinned_install_in_the_default_cache_under_home(env: dict[str, str]) -> None:
    home = Path(env["HOME"])
    pinned = _exe(
        home / ".cache" / "trio-claude" / "cli" / CLI_VERSION / "node_modules" / ".bin" / "claude"
    )
    assert find_cli(env=env) == str(pinned)


def test_path_beats_usual_locations(env: dict[str, str], tmp_path: Path) -> None:
    _exe(Path(env["HOME"]) / ".npm-global" / "bin" / "claude")
    on_path = _exe(tmp_path / "bin" / "claude")
    env["PATH"] = f"{tmp_path / 'empty-bin'}{os.pathsep}{on_path.parent}"
    assert find_cli(env=env) == str(on_path)


@pytest.mark.parametrize(
    "relative",
    [
        ".npm-global/bin/claude",
        ".local/bin/claude",
        "node_modules/.bin/claude",
        ".yarn/bin/claude",
        ".claude/local/claude",
    ],
)
def test_usual_locations(env: dict[str, str], relative: str) -> None:
    cli = _exe(Path(env["HOME"]) / relative)
    assert find_cli(env=env) == str(cli)


def test_usual_locations_order(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    home = Path(env["HOME"])
    system = _exe(home.parent / "system" / "claude")
    monkeypatch.setattr(_discovery, "_SYSTEM_LOCATIONS", (system,))
    order = [
        _exe(home / ".npm-global/bin/claude"),
        system,
        _exe(home / ".local/bin/claude"),
        _exe(home / "node_modules/.bin/claude"),
        _exe(home / ".yarn/bin/claude"),
        _exe(home / ".claude/local/claude"),
    ]
    for expected in order:
        assert find_cli(env=env) == str(expected)
        expected.unlink()
    with pytest.raises(CLINotFoundError):
        find_cli(env=env)


def test_a_directory_named_claude_is_not_a_cli(env: dict[str, str]) -> None:
    (Path(env["HOME"]) / ".local" / "bin" / "claude").mkdir(parents=True)
    with pytest.raises(CLINotFoundError):
        find_cli(env=env)


def test_not_found_says_what_was_tried_and_how_to_install(env: dict[str, str]) -> None:
    with pytest.raises(CLINotFoundError) as info:
        find_cli(env=env)
    message = str(info.value)
    assert "python -m trio_claude install-cli" in message
    assert f"npm install -g @anthropic-ai/claude-code@{CLI_VERSION}" in message
    assert str(Path(env["HOME"]) / ".local" / "bin" / "claude") in message
    assert "claude on PATH" in message
    assert info.value.cli_path is None


def test_reads_os_environ_by_default(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = _exe(tmp_path / "env" / "claude")
    monkeypatch.setenv("TRIO_CLAUDE_CLI", str(cli))
    assert find_cli() == str(cli)


def test_discovery_never_spawns_a_process(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("find_cli must only stat files")

    monkeypatch.setattr(subprocess, "Popen", boom)
    monkeypatch.setattr(os, "posix_spawn", boom, raising=False)
    with pytest.raises(CLINotFoundError):
        find_cli(env=env)
