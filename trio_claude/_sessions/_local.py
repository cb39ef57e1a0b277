"""The on-disk session helpers: list, read, rename, tag, delete and fork CLI transcripts.

Each helper comes twice:

- under the official SDK's name (``list_sessions``, ``get_session_messages``, ...), with its
  calling convention: a plain function that does its file I/O (and the ``git worktree list`` it
  may run) in the calling thread, for scripts and synchronous code;
- ``a``-prefixed (``alist_sessions``, ``aget_session_messages``, ...): the same arguments and
  result, ``async``, with the blocking work in a worker thread through
  :func:`trio.to_thread.run_sync`, so the event loop never stalls on a slow disk. Reads may be
  abandoned when cancelled (they have no side effects); writes always run to completion before
  the cancellation is delivered.

``directory`` is a *project* directory (a session's cwd), not a storage path; ``None`` searches
every project. ``config_dir`` (a trio-claude addition) overrides ``$CLAUDE_CONFIG_DIR`` /
``~/.claude``, e.g. to read what a CLI started with ``env={"CLAUDE_CONFIG_DIR": ...}`` wrote.
"""

from __future__ import annotations

import errno
import functools
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import trio

from .._protocol._codec import dumps_from_cli
from . import _paths
from ._transcript import (
    LITE_READ_BUF_SIZE,
    LiteSession,
    build_fork_lines,
    checked_message_id,
    checked_session_id,
    checked_tag,
    checked_title,
    derive_title_from_lite,
    dumps,
    fork_source_from_lines,
    loads,
    metadata_entry,
    page,
    parent_ids_from_metadata,
    parse_info,
    parse_transcript,
    to_messages,
    to_subagent_messages,
    validate_uuid,
)
from ._types import ForkSessionResult, SDKSessionInfo, SessionMessage, SessionNotFoundError

__all__ = [
    "adelete_session",
    "afork_session",
    "aget_session_info",
    "aget_session_messages",
    "aget_subagent_messages",
    "alist_sessions",
    "alist_subagents",
    "arename_session",
    "atag_session",
    "delete_session",
    "fork_session",
    "get_session_info",
    "get_session_messages",
    "get_subagent_messages",
    "list_sessions",
    "list_subagents",
    "rename_session",
    "tag_session",
]

PathArg = str | os.PathLike[str]
T = TypeVar("T")


async def _read(fn: Callable[[], T]) -> T:
    # Reads have no side effects: on cancellation, stop waiting and let the thread finish alone.
    return await trio.to_thread.run_sync(fn, abandon_on_cancel=True)


async def _write(fn: Callable[[], T]) -> T:
    # Writes are never abandoned: a cancelled caller still waits for the file to be consistent.
    return await trio.to_thread.run_sync(fn)


def _directory(directory: PathArg | None) -> str | None:
    # SessionValueError for a NUL (no path can hold one); the write helpers let it out.
    if directory is None:
        return None
    return _paths.checked_path(directory) or None


def _readable(directory: PathArg | None, config_dir: PathArg | None) -> bool:
    # A NUL in either path: there is nothing there to read (the read helpers return nothing).
    return not (_paths.has_nul(directory) or _paths.has_nul(config_dir))


# --- reading ---------------------------------------------------------------------------------


def _open_binary(
    path: Path, *, seen_regular: bool = False, follow_symlinks: bool = True
) -> BinaryIO | None:
    # The file for reading in binary mode if it is a regular file, else None (a FIFO named like
    # a transcript would block the open until a writer came).
    fd = _paths.open_regular(path, seen_regular=seen_regular, follow_symlinks=follow_symlinks)
    return None if fd is None else os.fdopen(fd, "rb")


def _read_lite(path: Path, *, seen_regular: bool = False) -> LiteSession | None:
    try:
        handle = _open_binary(path, seen_regular=seen_regular)
        if handle is None:
            return None
        with handle:
            info = os.fstat(handle.fileno())
            head_bytes = handle.read(LITE_READ_BUF_SIZE)
            if not head_bytes:
                return None
            size = info.st_size
            head = head_bytes.decode("utf-8", "replace")
            if size > LITE_READ_BUF_SIZE:
                handle.seek(size - LITE_READ_BUF_SIZE)
                tail = handle.read(LITE_READ_BUF_SIZE).decode("utf-8", "replace")
            else:
                tail = head
    except OSError:
        return None
    return LiteSession(mtime=info.st_mtime_ns // 1_000_000, size=size, head=head, tail=tail)


def _parse_file(path: Path) -> list[dict[str, Any]] | None:
    # The chain entries of a transcript, read line by line (one huge line is held once as
    # bytes, not also as text); None if it cannot be read.
    try:
        handle = _open_binary(path)
        if handle is None:
            return None
        with handle:
            return parse_transcript(handle)
    except OSError:
        return None


def _transcript_names(project_dir: Path) -> list[str]:
    # Names of the regular files (links followed) ``<uuid>.jsonl``, sorted. The entry's type
    # costs no system call for a plain file; a FIFO or a directory so named is left out.
    try:
        with os.scandir(project_dir) as entries:
            names = [
                entry.name
                for entry in entries
                if entry.name.endswith(".jsonl")
                and validate_uuid(entry.name[: -len(".jsonl")])
                and entry.is_file()
            ]
    except OSError:
        return []
    return sorted(names)


def _sessions_in(project_dir: Path, project_path: str | None) -> list[SDKSessionInfo]:
    found = []
    for name in _transcript_names(project_dir):
        session_id = name[: -len(".jsonl")]
        lite = _read_lite(project_dir / name, seen_regular=True)
        if lite is None:
            continue
        info = parse_info(session_id, lite, project_path)
        if info is not None:
            found.append(info)
    return found


def _newest_first(
    sessions: list[SDKSessionInfo], limit: int | None, offset: int
) -> list[SDKSessionInfo]:
    newest: dict[str, SDKSessionInfo] = {}
    for info in sessions:
        known = newest.get(info.session_id)
        if known is None or info.last_modified > known.last_modified:
            newest[info.session_id] = info
    ordered = sorted(newest.values(), key=lambda s: (s.last_modified, s.session_id), reverse=True)
    return page(ordered, limit, offset)


def _list_project(
    config_dir: PathArg | None,
    directory: str,
    limit: int | None,
    offset: int,
    include_worktrees: bool,
) -> list[SDKSessionInfo]:
    root = _paths.projects_dir(config_dir)
    canonical = _paths.canonicalize_path(directory)
    trees = _paths.worktree_paths(canonical) if include_worktrees else []
    own = _paths.find_project_dir(root, canonical)
    if len(trees) <= 1:
        if own is None:
            return []
        return _newest_first(_sessions_in(own, canonical), limit, offset)

    # Sessions of every worktree of the repository; longer (more specific) names match first.
    prefixes = sorted(
        ((tree, _paths.case_fold(_paths.sanitize_path(tree))) for tree in trees),
        key=lambda pair: len(pair[1]),
        reverse=True,
    )
    sessions: list[SDKSessionInfo] = []
    seen: set[str] = set()
    if own is not None:
        seen.add(_paths.case_fold(own.name))
        sessions.extend(_sessions_in(own, canonical))
    try:
        candidates = sorted(entry for entry in root.iterdir() if entry.is_dir())
    except OSError:
        candidates = []
    for entry in candidates:
        name = _paths.case_fold(entry.name)
        if name in seen:
            continue
        for tree, prefix in prefixes:
            truncated = len(prefix) >= _paths.MAX_SANITIZED_LENGTH
            if name == prefix or (truncated and name.startswith(prefix + "-")):
                seen.add(name)
                sessions.extend(_sessions_in(entry, tree))
                break
    return _newest_first(sessions, limit, offset)


def _list_all(config_dir: PathArg | None, limit: int | None, offset: int) -> list[SDKSessionInfo]:
    root = _paths.projects_dir(config_dir)
    sessions: list[SDKSessionInfo] = []
    for project_dir, _ in _paths.iter_candidate_project_dirs(root, None):
        sessions.extend(_sessions_in(project_dir, None))
    return _newest_first(sessions, limit, offset)


def list_sessions(
    directory: PathArg | None = None,
    limit: int | None = None,
    offset: int = 0,
    include_worktrees: bool = True,
    *,
    config_dir: PathArg | None = None,
) -> list[SDKSessionInfo]:
    """Lists sessions, newest first, from the head and tail (64 KiB each) of each transcript.

    Synchronous (file I/O in the calling thread), as in the official SDK; in async code use
    :func:`alist_sessions`.

    Sidechain transcripts and files without anything to show (no title, prompt or summary) are
    left out.

    Args:
        directory: A project directory: list its sessions, and with ``include_worktrees`` those
            of every git worktree of its repository. ``None``: every project.
        limit: At most this many sessions (``None`` or ``<= 0``: all).
        offset: Skip this many sessions of the sorted list first (for paging).
        include_worktrees: With ``directory``, include the other worktrees' sessions.
        config_dir: The Claude config directory (default ``$CLAUDE_CONFIG_DIR`` or
            ``~/.claude``).

    Returns:
        The sessions sorted by ``last_modified``, newest first.
    """
    if not _readable(directory, config_dir):
        return []
    project = _directory(directory)
    if project is None:
        return _list_all(config_dir, limit, offset)
    return _list_project(config_dir, project, limit, offset, include_worktrees)


async def alist_sessions(
    directory: PathArg | None = None,
    limit: int | None = None,
    offset: int = 0,
    include_worktrees: bool = True,
    *,
    config_dir: PathArg | None = None,
) -> list[SDKSessionInfo]:
    """:func:`list_sessions` for async code: the reads run in a worker thread.

    Same arguments and result as :func:`list_sessions`.
    """
    return await _read(
        functools.partial(
            list_sessions, directory, limit, offset, include_worktrees, config_dir=config_dir
        )
    )


def _info(
    session_id: str, directory: str | None, config_dir: PathArg | None
) -> SDKSessionInfo | None:
    root = _paths.projects_dir(config_dir)
    name = f"{session_id}.jsonl"
    for project_dir, project_path in _paths.iter_candidate_project_dirs(root, directory):
        lite = _read_lite(project_dir / name)
        if lite is not None:
            return parse_info(session_id, lite, project_path)
    return None


def get_session_info(
    session_id: str, directory: PathArg | None = None, *, config_dir: PathArg | None = None
) -> SDKSessionInfo | None:
    """The listing metadata of one session, without scanning its whole project.

    Synchronous (file I/O in the calling thread), as in the official SDK; in async code use
    :func:`aget_session_info`.

    Args:
        session_id: The session's UUID.
        directory: Its project directory (its git worktrees are tried too); ``None``: search
            every project.
        config_dir: The Claude config directory (default ``$CLAUDE_CONFIG_DIR`` or
            ``~/.claude``).

    Returns:
        The metadata, or ``None`` if ``session_id`` is not a UUID, there is no such
        transcript, or it is a sidechain or has nothing to show.
    """
    if not validate_uuid(session_id) or not _readable(directory, config_dir):
        return None
    return _info(session_id, _directory(directory), config_dir)


async def aget_session_info(
    session_id: str, directory: PathArg | None = None, *, config_dir: PathArg | None = None
) -> SDKSessionInfo | None:
    """:func:`get_session_info` for async code: the reads run in a worker thread.

    Same arguments and result as :func:`get_session_info`.
    """
    return await _read(
        functools.partial(get_session_info, session_id, directory, config_dir=config_dir)
    )


def _read_entries(
    session_id: str, directory: str | None, config_dir: PathArg | None
) -> list[dict[str, Any]] | None:
    # The chain entries of a session's transcript (parsed as it is read), None if not found.
    found = _paths.find_session_file(session_id, directory, config_dir)
    return None if found is None else _parse_file(found[0])


def get_session_messages(
    session_id: str,
    directory: PathArg | None = None,
    limit: int | None = None,
    offset: int = 0,
    *,
    include_system_messages: bool = False,
    config_dir: PathArg | None = None,
) -> list[SessionMessage]:
    """The conversation of a session, oldest first.

    Synchronous (file I/O in the calling thread), as in the official SDK; in async code use
    :func:`aget_session_messages`.

    The whole transcript is parsed and the ``parentUuid`` chain is followed back from the newest
    leaf, so abandoned branches (rewinds, edits) are not included. Meta, sidechain and team
    messages are left out.

    Args:
        session_id: The session's UUID.
        directory: Its project directory; ``None``: search every project.
        limit: At most this many messages (``None`` or ``<= 0``: all).
        offset: Skip this many messages first.
        include_system_messages: Also return ``system`` entries of the chain (as the
            TypeScript SDK's ``includeSystemMessages``).
        config_dir: The Claude config directory (default ``$CLAUDE_CONFIG_DIR`` or
            ``~/.claude``).

    Returns:
        The messages; empty if ``session_id`` is not a UUID or there is no transcript.
    """
    if not validate_uuid(session_id) or not _readable(directory, config_dir):
        return []
    entries = _read_entries(session_id, _directory(directory), config_dir)
    if not entries:
        return []
    return to_messages(entries, limit, offset, include_system=include_system_messages)


async def aget_session_messages(
    session_id: str,
    directory: PathArg | None = None,
    limit: int | None = None,
    offset: int = 0,
    *,
    include_system_messages: bool = False,
    config_dir: PathArg | None = None,
) -> list[SessionMessage]:
    """:func:`get_session_messages` for async code: the reads run in a worker thread.

    Same arguments and result as :func:`get_session_messages`.
    """
    return await _read(
        functools.partial(
            get_session_messages,
            session_id,
            directory,
            limit,
            offset,
            include_system_messages=include_system_messages,
            config_dir=config_dir,
        )
    )


# --- subagents -------------------------------------------------------------------------------


def _subagents_dir(
    session_id: str, directory: str | None, config_dir: PathArg | None
) -> Path | None:
    found = _paths.find_session_file(session_id, directory, config_dir)
    if found is None:
        return None
    return found[0].with_suffix("") / "subagents"


def agent_files(base: Path) -> list[tuple[str, Path]]:
    """``(agent id, path)`` of every ``agent-<id>.jsonl`` under ``base``, depth first, by name.

    Only regular files count, and symbolic links are not followed (see
    :func:`~._paths.walk_files`).
    """
    return [
        (path.name[len("agent-") : -len(".jsonl")], path)
        for path in _paths.walk_files(base)
        if path.name.startswith("agent-") and path.name.endswith(".jsonl")
    ]


def read_agent_metadata(transcript: Path) -> dict[str, Any] | None:
    """The ``agent-<id>.meta.json`` next to a subagent transcript, if a readable regular file.

    A symbolic link is not followed, as in :func:`agent_files`.
    """
    meta_path = transcript.with_name(transcript.name[: -len(".jsonl")] + ".meta.json")
    try:
        handle = _open_binary(meta_path, follow_symlinks=False)
        if handle is None:
            return None
        with handle:
            meta = loads(handle.read())
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def list_subagents(
    session_id: str, directory: PathArg | None = None, *, config_dir: PathArg | None = None
) -> list[str]:
    """The ids of a session's subagents (``<session>/subagents/**/agent-<id>.jsonl``).

    Synchronous (file I/O in the calling thread), as in the official SDK; in async code use
    :func:`alist_subagents`.

    Args:
        session_id: The parent session's UUID.
        directory: Its project directory; ``None``: search every project.
        config_dir: The Claude config directory (default ``$CLAUDE_CONFIG_DIR`` or
            ``~/.claude``).

    Returns:
        The agent ids; empty if ``session_id`` is not a UUID, there is no such session, or it
        has no subagents.
    """
    if not validate_uuid(session_id) or not _readable(directory, config_dir):
        return []
    base = _subagents_dir(session_id, _directory(directory), config_dir)
    return [] if base is None else [agent_id for agent_id, _ in agent_files(base)]


async def alist_subagents(
    session_id: str, directory: PathArg | None = None, *, config_dir: PathArg | None = None
) -> list[str]:
    """:func:`list_subagents` for async code: the reads run in a worker thread.

    Same arguments and result as :func:`list_subagents`.
    """
    return await _read(
        functools.partial(list_subagents, session_id, directory, config_dir=config_dir)
    )


def get_subagent_messages(
    session_id: str,
    agent_id: str,
    directory: PathArg | None = None,
    limit: int | None = None,
    offset: int = 0,
    *,
    config_dir: PathArg | None = None,
) -> list[SessionMessage]:
    """The conversation of one subagent of a session, oldest first.

    Synchronous (file I/O in the calling thread), as in the official SDK; in async code use
    :func:`aget_subagent_messages`.

    Each message's ``parent_tool_use_id`` (the ``Agent`` tool use that started the subagent)
    and ``parent_agent_id`` come from the ``.meta.json`` file beside the transcript (``None``
    when it is missing).

    Args:
        session_id: The parent session's UUID.
        agent_id: The subagent's id, as :func:`list_subagents` returns it.
        directory: The project directory; ``None``: search every project.
        limit: At most this many messages (``None`` or ``<= 0``: all).
        offset: Skip this many messages first.
        config_dir: The Claude config directory (default ``$CLAUDE_CONFIG_DIR`` or
            ``~/.claude``).

    Returns:
        The messages; empty if the session or the subagent is not found.
    """
    if not (validate_uuid(session_id) and agent_id and _readable(directory, config_dir)):
        return []
    base = _subagents_dir(session_id, _directory(directory), config_dir)
    if base is None:
        return []
    path = next((p for found, p in agent_files(base) if found == agent_id), None)
    entries = None if path is None else _parse_file(path)
    if path is None or entries is None:
        return []
    tool_use_id, parent_agent_id = parent_ids_from_metadata(read_agent_metadata(path))
    return to_subagent_messages(entries, limit, offset, tool_use_id, parent_agent_id)


async def aget_subagent_messages(
    session_id: str,
    agent_id: str,
    directory: PathArg | None = None,
    limit: int | None = None,
    offset: int = 0,
    *,
    config_dir: PathArg | None = None,
) -> list[SessionMessage]:
    """:func:`get_subagent_messages` for async code: the reads run in a worker thread.

    Same arguments and result as :func:`get_subagent_messages`.
    """
    return await _read(
        functools.partial(
            get_subagent_messages,
            session_id,
            agent_id,
            directory,
            limit,
            offset,
            config_dir=config_dir,
        )
    )


# --- mutations -------------------------------------------------------------------------------


def _try_append(path: Path, line: str) -> bool:
    # No O_CREAT: a missing file fails the open (no check-then-write race). An empty file, or
    # one that is not a regular file (a directory, a FIFO: O_NONBLOCK keeps its open from
    # waiting), is "not here" (see find_session_file). If the last line lacks its newline (a
    # CLI killed mid-write), one is added first so the new entry stays a line of its own.
    try:
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR, errno.EISDIR):
            return False
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size == 0:
            return False
        size = info.st_size
        data = line.encode("utf-8")
        if os.pread(fd, 1, size - 1) != b"\n":
            data = b"\n" + data
        os.write(fd, data)
        return True
    finally:
        os.close(fd)


def _append_entry(
    session_id: str, entry: dict[str, Any], directory: str | None, config_dir: PathArg | None
) -> None:
    root = _paths.projects_dir(config_dir)
    line = dumps(entry) + "\n"
    for project_dir, _ in _paths.iter_candidate_project_dirs(root, directory):
        if _try_append(project_dir / f"{session_id}.jsonl", line):
            return
    # The official SDK's words for the case, which code may match on.
    what = "" if root.is_dir() else f"no projects directory at {root}"
    raise SessionNotFoundError(session_id, directory, what)


def rename_session(
    session_id: str,
    title: str,
    directory: PathArg | None = None,
    *,
    config_dir: PathArg | None = None,
) -> None:
    """Sets a session's title by appending a ``custom-title`` entry (the last one wins).

    Synchronous (file I/O in the calling thread), as in the official SDK; in async code use
    :func:`arename_session`.

    Args:
        session_id: The session's UUID.
        title: The new title; surrounding whitespace is stripped.
        directory: Its project directory; ``None``: search every project.
        config_dir: The Claude config directory (default ``$CLAUDE_CONFIG_DIR`` or
            ``~/.claude``).

    Raises:
        SessionValueError: ``session_id`` is not a UUID or ``title`` is blank.
        SessionNotFoundError: There is no transcript for the session.
    """
    checked_session_id(session_id)
    entry = metadata_entry("custom-title", session_id, checked_title(title), stamped=False)
    _append_entry(session_id, entry, _directory(directory), config_dir)


async def arename_session(
    session_id: str,
    title: str,
    directory: PathArg | None = None,
    *,
    config_dir: PathArg | None = None,
) -> None:
    """:func:`rename_session` for async code: the write runs in a worker thread.

    Same arguments and errors as :func:`rename_session`; a cancelled caller still waits for the
    write to finish.
    """
    await _write(
        functools.partial(rename_session, session_id, title, directory, config_dir=config_dir)
    )


def tag_session(
    session_id: str,
    tag: str | None,
    directory: PathArg | None = None,
    *,
    config_dir: PathArg | None = None,
) -> None:
    """Tags a session by appending a ``tag`` entry (the last one wins; ``None`` clears it).

    Synchronous (file I/O in the calling thread), as in the official SDK; in async code use
    :func:`atag_session`.

    Tags are sanitised first: NFKC-normalised, zero-width, directional, format and private-use
    characters removed, whitespace stripped.

    Args:
        session_id: The session's UUID.
        tag: The tag, or ``None`` to clear it.
        directory: Its project directory; ``None``: search every project.
        config_dir: The Claude config directory (default ``$CLAUDE_CONFIG_DIR`` or
            ``~/.claude``).

    Raises:
        SessionValueError: ``session_id`` is not a UUID, or nothing is left of ``tag``.
        SessionNotFoundError: There is no transcript for the session.
    """
    checked_session_id(session_id)
    entry = metadata_entry("tag", session_id, checked_tag(tag), stamped=False)
    _append_entry(session_id, entry, _directory(directory), config_dir)


async def atag_session(
    session_id: str,
    tag: str | None,
    directory: PathArg | None = None,
    *,
    config_dir: PathArg | None = None,
) -> None:
    """:func:`tag_session` for async code: the write runs in a worker thread.

    Same arguments and errors as :func:`tag_session`; a cancelled caller still waits for the
    write to finish.
    """
    await _write(functools.partial(tag_session, session_id, tag, directory, config_dir=config_dir))


def _delete(session_id: str, directory: str | None, config_dir: PathArg | None) -> None:
    found = _paths.find_session_file(session_id, directory, config_dir)
    if found is None:
        raise SessionNotFoundError(session_id, directory)
    path = found[0]
    # Subagent transcripts and other per-session files live in the sibling <id>/ directory. It
    # goes first: if that is cut short, the transcript is still there to find and delete again.
    _paths.remove_tree(path.with_suffix(""))
    try:
        path.unlink()
    except FileNotFoundError as exc:
        raise SessionNotFoundError(session_id, directory) from exc


def delete_session(
    session_id: str, directory: PathArg | None = None, *, config_dir: PathArg | None = None
) -> None:
    """Deletes a session's transcript and its ``<id>/`` directory (subagents) for good.

    Synchronous (file I/O in the calling thread), as in the official SDK; in async code use
    :func:`adelete_session`.

    For a soft delete, tag the session (``tag_session(id, "hidden")``) and filter listings.

    Args:
        session_id: The session's UUID.
        directory: Its project directory; ``None``: search every project.
        config_dir: The Claude config directory (default ``$CLAUDE_CONFIG_DIR`` or
            ``~/.claude``).

    Raises:
        SessionValueError: ``session_id`` is not a UUID.
        SessionNotFoundError: There is no transcript for the session (a ``FileNotFoundError``).
    """
    checked_session_id(session_id)
    _delete(session_id, _directory(directory), config_dir)


async def adelete_session(
    session_id: str, directory: PathArg | None = None, *, config_dir: PathArg | None = None
) -> None:
    """:func:`delete_session` for async code: the deletion runs in a worker thread.

    Same arguments and errors as :func:`delete_session`; a cancelled caller still waits for it
    to finish.
    """
    await _write(functools.partial(delete_session, session_id, directory, config_dir=config_dir))


def _fork(
    session_id: str,
    directory: str | None,
    up_to_message_id: str | None,
    title: str | None,
    config_dir: PathArg | None,
) -> ForkSessionResult:
    found = _paths.find_session_file(session_id, directory, config_dir)
    if found is None:
        raise SessionNotFoundError(session_id, directory)
    path = found[0]
    # Line by line, from bytes to entries, and written out line by line: a fork holds the
    # parsed entries, never the file's bytes or text as a whole.
    handle = _open_binary(path)
    if handle is None:
        raise SessionNotFoundError(session_id, directory)
    with handle:
        transcript, replacements = fork_source_from_lines(handle, session_id)
    fork_id, entries = build_fork_lines(
        transcript,
        replacements,
        session_id,
        up_to_message_id,
        title,
        lambda: _fork_title(path),
    )
    del transcript  # the fork's entries share its values: only their dicts are freed
    _write_new(
        path.parent / f"{fork_id}.jsonl", (dumps_from_cli(entry) + b"\n" for entry in entries)
    )
    return ForkSessionResult(session_id=fork_id)


def _fork_title(path: Path) -> str | None:
    lite = _read_lite(path)
    return None if lite is None else derive_title_from_lite(lite)


def _write_new(path: Path, chunks: Iterator[bytes]) -> None:
    # A new file (mode 0600, never overwriting); removed again if writing it fails half-way.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def fork_session(
    session_id: str,
    directory: PathArg | None = None,
    up_to_message_id: str | None = None,
    title: str | None = None,
    *,
    config_dir: PathArg | None = None,
) -> ForkSessionResult:
    """Copies a session into a new one with fresh message UUIDs, beside the original.

    Synchronous (file I/O in the calling thread), as in the official SDK; in async code use
    :func:`afork_session`.

    The copy keeps the conversation (``parentUuid`` links remapped to the new UUIDs, each entry
    marked ``forkedFrom``); sidechains, progress entries and file-history snapshots are not
    copied, so the fork starts without undo history. Resume it with
    ``ClaudeAgentOptions(resume=result.session_id)`` from the same working directory.

    Args:
        session_id: The source session's UUID.
        directory: Its project directory; ``None``: search every project.
        up_to_message_id: Copy only up to and including this message (a
            :attr:`SessionMessage.uuid`); ``None``: everything.
        title: The fork's title; default: the source's title (or first prompt) + ``" (fork)"``.
        config_dir: The Claude config directory (default ``$CLAUDE_CONFIG_DIR`` or
            ``~/.claude``).

    Returns:
        The new session's id.

    Raises:
        SessionValueError: ``session_id`` or ``up_to_message_id`` is not a UUID, the message is
            not in the transcript, or there is nothing to fork.
        SessionNotFoundError: There is no transcript for the session.
    """
    checked_session_id(session_id)
    if up_to_message_id is not None:
        checked_message_id(up_to_message_id)
    return _fork(session_id, _directory(directory), up_to_message_id, title, config_dir)


async def afork_session(
    session_id: str,
    directory: PathArg | None = None,
    up_to_message_id: str | None = None,
    title: str | None = None,
    *,
    config_dir: PathArg | None = None,
) -> ForkSessionResult:
    """:func:`fork_session` for async code: the copy runs in a worker thread.

    Same arguments, result and errors as :func:`fork_session`; a cancelled caller still waits
    for the copy to finish.
    """
    return await _write(
        functools.partial(
            fork_session, session_id, directory, up_to_message_id, title, config_dir=config_dir
        )
    )
