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
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import trio

from . import _paths
from ._transcript import (
    LITE_READ_BUF_SIZE,
    LiteSession,
    build_fork_lines,
    checked_message_id,
    checked_session_id,
    checked_tag,
    checked_title,
    derive_title_from_text,
    dumps,
    fork_source_from_text,
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
    if directory is None:
        return None
    text = os.fspath(directory)
    return text or None


# --- reading ---------------------------------------------------------------------------------


def _read_lite(path: Path) -> LiteSession | None:
    try:
        with path.open("rb") as handle:
            stat = os.fstat(handle.fileno())
            head_bytes = handle.read(LITE_READ_BUF_SIZE)
            if not head_bytes:
                return None
            size = stat.st_size
            head = head_bytes.decode("utf-8", "replace")
            if size > LITE_READ_BUF_SIZE:
                handle.seek(size - LITE_READ_BUF_SIZE)
                tail = handle.read(LITE_READ_BUF_SIZE).decode("utf-8", "replace")
            else:
                tail = head
    except OSError:
        return None
    return LiteSession(mtime=stat.st_mtime_ns // 1_000_000, size=size, head=head, tail=tail)


def _sessions_in(project_dir: Path, project_path: str | None) -> list[SDKSessionInfo]:
    try:
        names = sorted(entry.name for entry in project_dir.iterdir())
    except OSError:
        return []
    found = []
    for name in names:
        if not name.endswith(".jsonl"):
            continue
        session_id = validate_uuid(name[: -len(".jsonl")])
        if session_id is None:
            continue
        lite = _read_lite(project_dir / name)
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
    if not validate_uuid(session_id):
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


def _read_text(session_id: str, directory: str | None, config_dir: PathArg | None) -> str | None:
    found = _paths.find_session_file(session_id, directory, config_dir)
    if found is None:
        return None
    try:
        return found[0].read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


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
    if not validate_uuid(session_id):
        return []
    text = _read_text(session_id, _directory(directory), config_dir)
    if not text:
        return []
    messages = parse_transcript(text)
    return to_messages(messages, limit, offset, include_system=include_system_messages)


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
    """``(agent id, path)`` of every ``agent-<id>.jsonl`` under ``base``, depth first, by name."""
    found: list[tuple[str, Path]] = []

    def walk(directory: Path) -> None:
        try:
            entries = sorted(directory.iterdir(), key=lambda entry: entry.name)
        except OSError:
            return
        for entry in entries:
            name = entry.name
            if name.startswith("agent-") and name.endswith(".jsonl") and entry.is_file():
                found.append((name[len("agent-") : -len(".jsonl")], entry))
            elif entry.is_dir():
                walk(entry)

    walk(base)
    return found


def read_agent_metadata(transcript: Path) -> dict[str, Any] | None:
    """The ``agent-<id>.meta.json`` next to a subagent transcript, if readable."""
    meta_path = transcript.with_name(transcript.name[: -len(".jsonl")] + ".meta.json")
    try:
        meta = loads(meta_path.read_bytes())
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
    if not validate_uuid(session_id):
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
    if not validate_uuid(session_id) or not agent_id:
        return []
    base = _subagents_dir(session_id, _directory(directory), config_dir)
    if base is None:
        return []
    path = next((p for found, p in agent_files(base) if found == agent_id), None)
    if path is None:
        return []
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    tool_use_id, parent_agent_id = parent_ids_from_metadata(read_agent_metadata(path))
    return to_subagent_messages(parse_transcript(text), limit, offset, tool_use_id, parent_agent_id)


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
    # No O_CREAT: a missing file fails the open (no check-then-write race). An empty file is
    # "not here" (see find_session_file). If the last line lacks its newline (a CLI killed
    # mid-write), one is added first so the new entry stays a line of its own.
    try:
        fd = os.open(path, os.O_RDWR | os.O_APPEND)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return False
        raise
    try:
        size = os.fstat(fd).st_size
        if size == 0:
            return False
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
    raise SessionNotFoundError(session_id, directory)


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
    try:
        path.unlink()
    except FileNotFoundError as exc:
        raise SessionNotFoundError(session_id, directory) from exc
    # Subagent transcripts and other per-session files live in the sibling <id>/ directory.
    shutil.rmtree(path.with_suffix(""), ignore_errors=True)


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
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise SessionNotFoundError(session_id, directory) from exc
    transcript, replacements = fork_source_from_text(data.decode("utf-8", "replace"), session_id)
    fork_id, entries = build_fork_lines(
        transcript,
        replacements,
        session_id,
        up_to_message_id,
        title,
        lambda: derive_title_from_text(data),
    )
    payload = "".join(dumps(entry) + "\n" for entry in entries).encode("utf-8")
    fd = os.open(path.parent / f"{fork_id}.jsonl", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        view = memoryview(payload)
        while view:
            written = os.write(fd, view)
            view = view[written:]
    finally:
        os.close(fd)
    return ForkSessionResult(session_id=fork_id)


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
