"""Finding the ``claude`` binary.

Resolution order (the first hit wins):

1. the explicit ``cli_path`` option;
2. the ``TRIO_CLAUDE_CLI`` environment variable;
3. the CLI that ``python -m trio_claude install-cli`` installs for the pinned version
   (``default_install_dir(CLI_VERSION) / "node_modules/.bin/claude"``);
4. ``claude`` on ``PATH``;
5. the usual install locations (``~/.npm-global/bin``, ``/usr/local/bin``, ``~/.local/bin``,
   ``~/node_modules/.bin``, ``~/.yarn/bin``, ``~/.claude/local``).

Only ``stat``-level calls are made, so this is cheap; still, async callers should run it in a
thread (``trio.to_thread.run_sync``) since it touches the file system.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import trio

from .._environ import environ, environ_version
from .._errors import CLINotFoundError
from .._redact import redact, secret_values
from .._version import CLI_VERSION

__all__ = [
    "CACHE_ENV_VAR",
    "CLI_ENV_VAR",
    "NPM_PACKAGE",
    "cache_dir",
    "default_install_dir",
    "find_cli",
    "installed_cli_path",
]

#: Environment variable naming the CLI to use (overridden by an explicit ``cli_path``).
CLI_ENV_VAR = "TRIO_CLAUDE_CLI"
#: Environment variable overriding the cache directory.
CACHE_ENV_VAR = "TRIO_CLAUDE_CACHE_DIR"
#: The npm package of the Claude Code CLI.
NPM_PACKAGE = "@anthropic-ai/claude-code"

_WINDOWS = sys.platform == "win32"
#: System-wide locations searched after ``PATH`` (tests replace this).
_SYSTEM_LOCATIONS: tuple[Path, ...] = () if _WINDOWS else (Path("/usr/local/bin/claude"),)


def _environ(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return environ() if env is None else env  # not os.environ: its repr shows every value


def _home(env: Mapping[str, str]) -> Path:
    home = env.get("HOME") or (env.get("USERPROFILE") if _WINDOWS else None)
    return Path(home) if home else Path.home()


def cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """The per-user cache directory of trio-claude.

    ``$TRIO_CLAUDE_CACHE_DIR``, else ``$XDG_CACHE_HOME/trio-claude``, else
    ``~/.cache/trio-claude``.

    Args:
        env: The environment to read (default: ``os.environ``).

    Returns:
        The directory (it may not exist yet).
    """
    env = _environ(env)
    explicit = env.get(CACHE_ENV_VAR)
    if explicit:
        return Path(explicit).expanduser()
    xdg = env.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg).expanduser() / "trio-claude"
    return _home(env) / ".cache" / "trio-claude"


def default_install_dir(version: str = CLI_VERSION, env: Mapping[str, str] | None = None) -> Path:
    """Where ``install-cli`` puts a given CLI version: ``cache_dir()/cli/<version>``.

    Args:
        version: The CLI version.
        env: The environment to read (default: ``os.environ``).

    Returns:
        The npm prefix directory for that version.
    """
    return cache_dir(env) / "cli" / version


def installed_cli_path(directory: str | os.PathLike[str]) -> Path:
    """The ``claude`` binary inside an npm prefix directory made by ``install-cli``.

    Args:
        directory: The npm prefix (``npm install --prefix <directory>``).

    Returns:
        ``<directory>/node_modules/.bin/claude`` (on Windows the native ``claude.exe`` of the
        package, since the ``.cmd`` shim cannot be spawned safely).
    """
    base = Path(directory) / "node_modules"
    if _WINDOWS:
        return base / "@anthropic-ai" / "claude-code" / "bin" / "claude.exe"
    return base / ".bin" / "claude"


def _is_executable_file(path: Path) -> bool:
    try:
        return path.is_file() and os.access(path, os.X_OK)
    except OSError:
        return False


def _usual_locations(home: Path) -> list[Path]:
    if _WINDOWS:
        return [home / ".local" / "bin" / "claude.exe"]
    return [
        home / ".npm-global" / "bin" / "claude",
        *_SYSTEM_LOCATIONS,
        home / ".local" / "bin" / "claude",
        home / "node_modules" / ".bin" / "claude",
        home / ".yarn" / "bin" / "claude",
        home / ".claude" / "local" / "claude",
    ]


def _install_hint() -> str:
    return (
        "Install it with:\n"
        "  python -m trio_claude install-cli\n"
        f"or:\n  npm install -g {NPM_PACKAGE}@{CLI_VERSION}\n"
        f"or point ClaudeAgentOptions(cli_path=...) or ${CLI_ENV_VAR} at an existing binary."
    )


#: How the official SDK's message begins when nothing is found (code matching on it works).
_OFFICIAL_NOT_FOUND = f"Claude Code not found. Install with:\n  npm install -g {NPM_PACKAGE}\n"


def _explicit(value: str, origin: str, env: Mapping[str, str]) -> str:
    # A bare name ("claude", "claude-2.1") is looked up on PATH, as a shell would.
    if os.sep not in value and (os.altsep is None or os.altsep not in value):
        found = shutil.which(value, path=env.get("PATH", os.defpath))
        if found:
            return found
    path = Path(value).expanduser()
    if _is_executable_file(path):
        # Absolute, so that spawning with another cwd still finds it.
        return str(path.absolute())
    if path.is_dir():
        reason = "it is a directory: give the path of the `claude` file itself"
    elif path.is_file():
        reason = "the file is not executable"
    else:
        reason = "nothing is there"
    # The path is quoted masked (a URL's password, a key in a query, a secret of the
    # environment: TRIO_CLAUDE_CLI may be a download URL pasted whole); cli_path keeps it.
    shown = redact(value, secret_values(env))
    raise CLINotFoundError(
        f"Claude Code not found at: {shown} ({origin}; {reason})\n{_install_hint()}",
        cli_path=value,
    )


def find_cli(
    cli_path: str | os.PathLike[str] | None = None, *, env: Mapping[str, str] | None = None
) -> str:
    """Find the ``claude`` binary to run.

    Args:
        cli_path: An explicit path (the ``cli_path`` option). When given it must exist.
        env: The environment to read (default: ``os.environ``); ``PATH``, ``HOME``,
            ``TRIO_CLAUDE_CLI`` and the cache variables come from it.

    Returns:
        The path of the binary.

    Raises:
        CLINotFoundError: If the explicit path (or ``$TRIO_CLAUDE_CLI``) does not exist, or
            nothing is found anywhere; the message lists what was tried and how to install.
    """
    env = _environ(env)
    if cli_path is not None:
        return _explicit(os.fspath(cli_path), "from cli_path", env)
    from_env = env.get(CLI_ENV_VAR)
    if from_env:
        return _explicit(from_env, f"from ${CLI_ENV_VAR}", env)

    tried: list[str] = []
    pinned = installed_cli_path(default_install_dir(CLI_VERSION, env))
    if _is_executable_file(pinned):
        return str(pinned)
    tried.append(str(pinned))

    on_path = shutil.which("claude", path=env.get("PATH", os.defpath))
    if on_path:
        return on_path
    tried.append("claude on PATH")

    for candidate in _usual_locations(_home(env)):
        if _is_executable_file(candidate):
            return str(candidate)
        tried.append(str(candidate))

    listing = "\n".join(f"  {t}" for t in tried)
    raise CLINotFoundError(
        f"{_OFFICIAL_NOT_FOUND}or the version this SDK is pinned to:\n"
        "  python -m trio_claude install-cli\n"
        f"  (or: npm install -g {NPM_PACKAGE}@{CLI_VERSION})\n"
        f"or point ClaudeAgentOptions(cli_path=...) or ${CLI_ENV_VAR} at an existing binary.\n"
        f"Looked at:\n{listing}",
        cli_path=None,
    )


#: How long a discovery is reused by the next opens (a fan-out of sessions discovers once).
DISCOVERY_TTL = 5.0
_found: dict[tuple[Any, ...], tuple[float, str]] = {}


async def find_cli_async(cli_path: str | os.PathLike[str] | None = None) -> str:
    """:func:`find_cli` in a worker thread (it stats files), reusing a result from the last
    :data:`DISCOVERY_TTL` seconds for the same ``cli_path`` and environment.

    Without the reuse, 50 sessions opened at once each wait for a worker thread and the GIL
    (milliseconds each) to find the same file. A failure is never reused.
    """
    key = (os.fspath(cli_path) if cli_path is not None else None, environ_version())
    now = time.monotonic()
    hit = _found.get(key)
    if hit is not None and now - hit[0] < DISCOVERY_TTL:
        await trio.lowlevel.checkpoint()
        return hit[1]
    path = await trio.to_thread.run_sync(find_cli, cli_path, abandon_on_cancel=True)
    if len(_found) > 32:
        _found.clear()
    _found[key] = (now, path)
    return path
