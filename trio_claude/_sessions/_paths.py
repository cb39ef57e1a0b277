"""Where the CLI keeps transcripts, and how to find one (blocking; run in a worker thread).

Layout, as the CLI writes it::

    <config dir>/projects/<sanitized cwd>/<session id>.jsonl
    <config dir>/projects/<sanitized cwd>/<session id>/subagents/[.../]agent-<id>.jsonl
    <config dir>/projects/<sanitized cwd>/<session id>/subagents/[.../]agent-<id>.meta.json

The config dir is ``$CLAUDE_CONFIG_DIR`` or ``~/.claude``. The project directory name is the
canonical cwd (realpath, Unicode NFC) with every non-alphanumeric character replaced by ``-``;
names longer than 200 characters are cut there and suffixed with ``-<hash>``. The SDKs hash with
djb2 (base 36) while the CLI's runtime may use another hash, so a long name is also matched by
its 200-character prefix.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "MAX_SANITIZED_LENGTH",
    "canonicalize_path",
    "config_home",
    "find_project_dir",
    "find_session_file",
    "iter_candidate_project_dirs",
    "projects_dir",
    "sanitize_path",
    "simple_hash",
    "worktree_paths",
]

#: Longest project directory name before it is truncated and hashed.
MAX_SANITIZED_LENGTH = 200

_NON_ALNUM = re.compile(r"[^a-zA-Z0-9]")
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def simple_hash(text: str) -> str:
    """The CLI's djb2-style 32-bit string hash, as an unsigned base-36 string.

    ``h = h * 31 + code`` over UTF-16 code units, wrapped to a signed 32-bit integer after each
    step (JavaScript's ``h |= 0``), then ``Math.abs(h).toString(36)``.
    """
    value = 0
    for unit in _utf16_units(text):
        value = (value * 31 + unit) & 0xFFFFFFFF
    if value >= 0x80000000:
        value -= 0x100000000
    value = abs(value)
    if value == 0:
        return "0"
    digits = []
    while value:
        value, rest = divmod(value, 36)
        digits.append(_BASE36[rest])
    return "".join(reversed(digits))


def _utf16_units(text: str) -> Iterator[int]:
    # JavaScript strings are UTF-16: characters outside the BMP count as two code units.
    for char in text:
        code = ord(char)
        if code > 0xFFFF:
            code -= 0x10000
            yield 0xD800 + (code >> 10)
            yield 0xDC00 + (code & 0x3FF)
        else:
            yield code


def sanitize_path(name: str) -> str:
    """The project directory name for a path (non-alphanumerics to ``-``, long names hashed)."""
    sanitized = _NON_ALNUM.sub("-", name)
    if len(sanitized) <= MAX_SANITIZED_LENGTH:
        return sanitized
    return f"{sanitized[:MAX_SANITIZED_LENGTH]}-{simple_hash(name)}"


def canonicalize_path(directory: str | os.PathLike[str]) -> str:
    """``realpath`` + Unicode NFC of ``directory`` (as the CLI names its project dirs)."""
    text = os.fspath(directory)
    try:
        text = os.path.realpath(text)
    except OSError:
        text = os.path.abspath(text)
    return unicodedata.normalize("NFC", text)


def config_home(config_dir: str | os.PathLike[str] | None = None) -> Path:
    """The Claude config directory: ``config_dir``, ``$CLAUDE_CONFIG_DIR`` or ``~/.claude``."""
    if config_dir is not None:
        text = os.fspath(config_dir)
    else:
        text = os.environ.get("CLAUDE_CONFIG_DIR") or str(Path.home() / ".claude")
    return Path(unicodedata.normalize("NFC", text))


def projects_dir(config_dir: str | os.PathLike[str] | None = None) -> Path:
    """``<config dir>/projects``."""
    return config_home(config_dir) / "projects"


def find_project_dir(root: Path, project_path: str) -> Path | None:
    """The project directory of the canonical ``project_path`` under ``root``, if it exists.

    For names longer than the limit, a directory with the same 200-character prefix and any
    hash suffix is accepted (the CLI's hash can differ from ours).
    """
    name = sanitize_path(project_path)
    exact = root / name
    if exact.is_dir():
        return exact
    if len(name) <= MAX_SANITIZED_LENGTH:
        return None
    prefix = name[:MAX_SANITIZED_LENGTH] + "-"
    try:
        for entry in sorted(root.iterdir()):
            if entry.name.startswith(prefix) and entry.is_dir():
                return entry
    except OSError:
        pass
    return None


def worktree_paths(cwd: str) -> list[str]:
    """Paths of the git worktrees of the repository containing ``cwd`` (empty if none/no git)."""
    try:
        completed = subprocess.run(
            ["git", "worktree", "list", "--porcelain"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError, ValueError):
        return []
    if completed.returncode != 0:
        return []
    return [
        unicodedata.normalize("NFC", line[len("worktree ") :])
        for line in completed.stdout.splitlines()
        if line.startswith("worktree ")
    ]


def iter_candidate_project_dirs(
    root: Path, directory: str | os.PathLike[str] | None
) -> Iterator[tuple[Path, str | None]]:
    """Project directories that may hold a session, in search order, with their project path.

    With ``directory``: its own project dir, then those of the other worktrees of its git
    repository (looked up lazily, only if the first did not match). Without: every directory
    under ``root`` (project path unknown, ``None``).
    """
    if directory is not None:
        canonical = canonicalize_path(directory)
        own = find_project_dir(root, canonical)
        if own is not None:
            yield own, canonical
        for tree in worktree_paths(canonical):
            if tree == canonical:
                continue
            found = find_project_dir(root, tree)
            if found is not None and found != own:
                yield found, tree
        return
    try:
        entries = sorted(root.iterdir())
    except OSError:
        return
    for entry in entries:
        if entry.is_dir():
            yield entry, None


def find_session_file(
    session_id: str,
    directory: str | os.PathLike[str] | None,
    config_dir: str | os.PathLike[str] | None,
) -> tuple[Path, str | None] | None:
    """The non-empty ``<session_id>.jsonl`` for a session, with its project path if known.

    An empty file does not count: it is what a crashed CLI may leave behind, and the real
    transcript may live in another worktree's directory.
    """
    root = projects_dir(config_dir)
    name = f"{session_id}.jsonl"
    for project_dir, project_path in iter_candidate_project_dirs(root, directory):
        candidate = project_dir / name
        try:
            if candidate.stat().st_size > 0:
                return candidate, project_path
        except OSError:
            continue
    return None


def case_fold(name: str) -> str:
    """Directory names compare case-insensitively on Windows."""
    return name.lower() if sys.platform == "win32" else name
