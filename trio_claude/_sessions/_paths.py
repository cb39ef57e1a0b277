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
import stat
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from ._types import SessionValueError

__all__ = [
    "MAX_SANITIZED_LENGTH",
    "canonicalize_path",
    "checked_path",
    "config_home",
    "find_project_dir",
    "find_session_file",
    "has_nul",
    "iter_candidate_project_dirs",
    "open_regular",
    "projects_dir",
    "remove_tree",
    "sanitize_path",
    "simple_hash",
    "walk_files",
    "worktree_paths",
]

#: Longest project directory name before it is truncated and hashed.
MAX_SANITIZED_LENGTH = 200

_NON_ALNUM = re.compile(r"[^a-zA-Z0-9]")
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"
# Opens a directory to empty it; a symbolic link fails (ELOOP) instead of being followed.
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


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


def has_nul(path: str | os.PathLike[str] | None) -> bool:
    """Whether ``path`` holds a NUL, which no file name can (the OS calls raise ``ValueError``)."""
    return path is not None and "\0" in os.fspath(path)


def checked_path(path: str | os.PathLike[str]) -> str:
    """``path`` as a string, or :class:`SessionValueError` if it holds a NUL."""
    text = os.fspath(path)
    if "\0" in text:
        raise SessionValueError(f"Invalid path: {text!r} (contains a NUL byte)")
    return text


def canonicalize_path(directory: str | os.PathLike[str]) -> str:
    """``realpath`` + Unicode NFC of ``directory`` (as the CLI names its project dirs).

    Raises:
        SessionValueError: ``directory`` holds a NUL.
    """
    text = checked_path(directory)
    try:
        text = os.path.realpath(text)
    except OSError:
        text = os.path.abspath(text)
    return unicodedata.normalize("NFC", text)


def config_home(config_dir: str | os.PathLike[str] | None = None) -> Path:
    """The Claude config directory: ``config_dir``, ``$CLAUDE_CONFIG_DIR`` or ``~/.claude``.

    Raises:
        SessionValueError: ``config_dir`` holds a NUL.
    """
    if config_dir is not None:
        text = checked_path(config_dir)
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
    """The non-empty regular file ``<session_id>.jsonl`` of a session, with its project path.

    An empty file does not count: it is what a crashed CLI may leave behind, and the real
    transcript may live in another worktree's directory. Nor does anything that is not a regular
    file (a directory or a FIFO of that name would hide the real one, or block its reader).
    """
    root = projects_dir(config_dir)
    name = f"{session_id}.jsonl"
    for project_dir, project_path in iter_candidate_project_dirs(root, directory):
        candidate = project_dir / name
        try:
            info = candidate.stat()
        except OSError:
            continue
        if stat.S_ISREG(info.st_mode) and info.st_size > 0:
            return candidate, project_path
    return None


def open_regular(
    path: Path, *, seen_regular: bool = False, follow_symlinks: bool = True
) -> int | None:
    """A read-only fd of ``path`` if it is a regular file, else ``None`` (also if unreadable).

    A FIFO would block ``open`` until a writer comes, so the type is checked before opening
    (unless ``seen_regular``: the caller has just read it from the directory entry);
    ``O_NONBLOCK`` and a second check on the fd cover a file swapped for a FIFO in between.
    Without ``follow_symlinks``, a symbolic link is not a regular file.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | (0 if follow_symlinks else os.O_NOFOLLOW)
    try:
        if not seen_regular and not stat.S_ISREG(
            os.stat(path, follow_symlinks=follow_symlinks).st_mode
        ):
            return None
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            return fd
    except OSError:
        pass
    os.close(fd)
    return None


def _sorted_entries(directory: str | Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(directory) as entries:
            return sorted(entries, key=lambda entry: entry.name)
    except OSError:
        return []


def walk_files(base: Path) -> list[Path]:
    """The regular files under ``base``, depth first, by name.

    Iterative, so a deep tree cannot exhaust the stack; symbolic links are not followed (a link
    to ``.`` would make the walk endless, and a link out would leave the config dir).
    """
    found: list[Path] = []
    stack = [iter(_sorted_entries(base))]
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                stack.append(iter(_sorted_entries(entry.path)))
            elif entry.is_file(follow_symlinks=False):
                found.append(Path(entry.path))
        except OSError:
            continue
    return found


def remove_tree(path: Path) -> None:
    """Removes the directory ``path`` and everything in it, as far as possible.

    Iterative (``shutil.rmtree`` recurses once per level, so a deep tree raises
    ``RecursionError`` half-way), through directory fds opened with ``O_NOFOLLOW``, so no
    symbolic link is followed. A link at ``path`` itself is removed, not what it points to.
    Errors are ignored: what cannot be removed stays.
    """
    try:
        if stat.S_ISLNK(os.lstat(path).st_mode):
            os.unlink(path)
            return
        top = os.open(path, _DIR_FLAGS)
    except OSError:
        return
    # Open directories, deepest last: (fd, name in its parent, names in it that must stay).
    stack: list[tuple[int, str, set[str]]] = [(top, "", set())]
    while stack:
        fd, _, kept = stack[-1]
        subdir = _unlink_files(fd, kept)
        if subdir is not None:
            try:
                stack.append((os.open(subdir, _DIR_FLAGS, dir_fd=fd), subdir, set()))
            except OSError:
                kept.add(subdir)
            continue
        os.close(fd)
        _, name, _ = stack.pop()
        try:
            if stack:
                os.rmdir(name, dir_fd=stack[-1][0])
            else:
                os.rmdir(path)
        except OSError:
            if stack:
                stack[-1][2].add(name)  # not empty: do not enter it again


def _unlink_files(fd: int, kept: set[str]) -> str | None:
    # Unlinks what is not a directory in the directory ``fd``; returns a subdirectory to empty
    # next (None when only ``kept`` names are left). Failures join ``kept``: no endless retry.
    try:
        with os.scandir(fd) as scan:
            entries = [entry for entry in scan if entry.name not in kept]
    except OSError:
        return None
    subdir = None
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                subdir = entry.name
            else:
                os.unlink(entry.name, dir_fd=fd)
        except OSError:
            kept.add(entry.name)
    return subdir


def case_fold(name: str) -> str:
    """Directory names compare case-insensitively on Windows."""
    return name.lower() if sys.platform == "win32" else name
