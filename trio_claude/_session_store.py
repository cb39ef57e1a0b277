"""Session stores: keep transcripts somewhere else than the local disk.

A :class:`SessionStore` receives copies of transcript entries (JSON objects, one per JSONL line)
under a :class:`SessionKey` ``{project_key, session_id, subpath?}`` and gives them back in order.
Only :meth:`SessionStore.append` and :meth:`SessionStore.load` are required; ``list_sessions``,
``list_session_summaries``, ``delete`` and ``list_subkeys`` are optional (absent, or raising
:class:`NotImplementedError`, means "not supported"). Every method is ``async`` and runs in the
caller's trio task.

This module holds the store types, :class:`InMemorySessionStore`, :func:`fold_session_summary`
(incremental listing summaries a store can keep inside ``append``), the ``*_from_store`` /
``*_via_store`` counterparts of the on-disk helpers, :func:`import_session_to_store`, and the
pieces the live session needs to mirror into a store and to resume from one:
:func:`file_path_to_session_key` (maps a ``transcript_mirror`` frame's ``filePath`` to a key)
and :func:`materialize_session_from_store` (writes a stored session back as local JSONL files so
the CLI can ``--resume`` it).

Keys and entries are plain dicts (``TypedDict``) with the official Python SDK's snake_case
names, so stores written for it work unchanged.
"""

from __future__ import annotations

import copy
import functools
import inspect
import os
import stat
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, TypedDict, cast

import trio

from ._errors import ConfigurationError
from ._sessions import _paths
from ._sessions._local import read_agent_metadata
from ._sessions._transcript import (
    build_fork_lines,
    checked_message_id,
    checked_session_id,
    checked_tag,
    checked_title,
    derive_title_from_entries,
    dumps,
    entries_to_jsonl,
    filter_transcript_entries,
    fork_source_from_entries,
    iso_to_ms,
    lite_from_bytes,
    loads,
    metadata_entry,
    page,
    parent_ids_from_metadata,
    parse_info,
    prompt_candidate,
    to_messages,
    to_subagent_messages,
    validate_uuid,
)
from ._sessions._types import (
    ForkSessionResult,
    SDKSessionInfo,
    SessionMessage,
    SessionNotFoundError,
    SessionValueError,
)

__all__ = [
    "MAX_BATCH_BYTES",
    "MAX_BATCH_ENTRIES",
    "InMemorySessionStore",
    "SessionKey",
    "SessionListSubkeysKey",
    "SessionStore",
    "SessionStoreEntry",
    "SessionStoreListEntry",
    "SessionSummaryEntry",
    "delete_session_via_store",
    "file_path_to_session_key",
    "fold_session_summary",
    "fork_session_via_store",
    "get_session_info_from_store",
    "get_session_messages_from_store",
    "get_subagent_messages_from_store",
    "import_session_to_store",
    "list_sessions_from_store",
    "list_subagents_from_store",
    "materialize_session_from_store",
    "project_key_for_directory",
    "rename_session_via_store",
    "summary_to_session_info",
    "tag_session_via_store",
]

#: Most entries per ``append`` call (imports; the live mirror batches the same way).
MAX_BATCH_ENTRIES = 500
#: Most JSON bytes per ``append`` call.
MAX_BATCH_BYTES = 1024 * 1024
#: Concurrent ``load`` calls while deriving a listing from a store.
STORE_LIST_LOAD_CONCURRENCY = 16

PathArg = str | os.PathLike[str]


# --- types -----------------------------------------------------------------------------------


class _SessionKeyRequired(TypedDict):
    project_key: str
    session_id: str


class SessionKey(_SessionKeyRequired, total=False):
    """Where a transcript lives in a store.

    Attributes:
        project_key: The scope: by default the project directory name of the session's cwd
            (:func:`project_key_for_directory`); a multi-tenant store may use a tenant id.
        session_id: The session's UUID.
        subpath: Absent for the main transcript; ``"subagents/agent-<id>"`` (or deeper, e.g.
            ``"subagents/workflows/<run>/agent-<id>"``) for subagent transcripts. Never ``""``.
            Opaque to the store: use it as a key suffix.
    """

    subpath: str


class SessionListSubkeysKey(TypedDict):
    """The key passed to :meth:`SessionStore.list_subkeys` (a session, no ``subpath``)."""

    project_key: str
    session_id: str


class _SessionStoreEntryRequired(TypedDict):
    type: str


class SessionStoreEntry(_SessionStoreEntryRequired, total=False):
    """One transcript line. Stores pass entries through untouched.

    Only ``type`` is guaranteed; most entries also carry ``uuid`` (stores may use it as an
    idempotency key) and ``timestamp``. Everything else is opaque JSON. ``load`` must return
    entries deep-equal to what was appended (key order and byte form may change).
    """

    uuid: str
    timestamp: str


class SessionStoreListEntry(TypedDict):
    """A session known to a store: its id and last modification (epoch milliseconds)."""

    session_id: str
    mtime: int


class SessionSummaryEntry(TypedDict):
    """A store-kept listing summary of one session (see :func:`fold_session_summary`).

    Attributes:
        session_id: The session's UUID.
        mtime: When the store last wrote the summary, in epoch milliseconds, on the same clock
            as the ``mtime`` of :meth:`SessionStore.list_sessions` (a summary older than that is
            stale and recomputed from the transcript).
        data: Opaque SDK state: persist it verbatim, never interpret it.
    """

    session_id: str
    mtime: int
    data: dict[str, Any]


class SessionStore(Protocol):
    """What trio-claude needs from a transcript store (structural: no need to subclass).

    Required: :meth:`append` and :meth:`load`. Optional methods, looked up at run time (a
    missing method, or one raising :class:`NotImplementedError`, means "not supported"):

    - ``async list_sessions(project_key: str) -> list[SessionStoreListEntry]``: the main
      transcripts of a project (no subpaths), any order. Needed by
      :func:`list_sessions_from_store` (unless summaries are kept) and by
      ``continue_conversation`` with a store.
    - ``async list_session_summaries(project_key: str) -> list[SessionSummaryEntry]``: the
      summaries kept with :func:`fold_session_summary` inside ``append`` (main keys only); lets
      a listing skip loading every transcript.
    - ``async delete(key: SessionKey) -> None``: without ``subpath`` it deletes the session and
      every subkey; with one, only that subkey. Without it, deleting is a no-op (WORM stores).
    - ``async list_subkeys(key: SessionListSubkeysKey) -> list[str]``: the subpaths under a
      session. Needed to list subagents and to resume them.

    An optional attribute: ``idempotent_appends = True`` says that ``append`` skips an entry
    whose ``uuid`` is already stored under the key. The mirror then sends the entries with a
    uuid of a batch again when a cancellation cut its append short (it may or may not have
    landed); the others (and, without the flag, the whole batch) are given up and reported (a
    ``system/mirror_error`` message), never stored twice.

    Run :func:`trio_claude.testing.session_store_conformance.run_session_store_conformance`
    against an implementation to check the contracts.
    """

    async def append(self, key: SessionKey, entries: list[SessionStoreEntry]) -> None:
        """Stores ``entries`` after those already under ``key``, in call order.

        ``append(key, [])`` changes nothing.
        """
        ...

    async def load(self, key: SessionKey) -> list[SessionStoreEntry] | None:
        """Every entry under ``key`` in append order; ``None`` if nothing was ever stored."""
        ...


# --- optional methods ------------------------------------------------------------------------


def _method(store: object, name: str) -> Callable[..., Awaitable[Any]] | None:
    method = getattr(store, name, None)
    return method if callable(method) else None


class _Unsupported(Exception):
    pass


async def _call_optional(store: object, name: str, *args: Any) -> Any:
    # Calls an optional store method; _Unsupported when it is missing or NotImplementedError.
    method = _method(store, name)
    if method is None:
        raise _Unsupported(name)
    try:
        return await method(*args)
    except NotImplementedError as exc:
        raise _Unsupported(name) from exc


def store_supports(store: object, name: str) -> bool:
    """Whether ``store`` has the optional method ``name`` (it may still raise NotImplemented)."""
    return _method(store, name) is not None


# --- keys ------------------------------------------------------------------------------------


def project_key_for_directory(directory: PathArg | None = None) -> str:
    """The store ``project_key`` of a directory (default: the current one).

    The same name the CLI gives its project directory: the realpath, Unicode NFC, with every
    non-alphanumeric character replaced by ``-`` (long names truncated and hashed), so keys of
    mirrored and imported sessions match.
    """
    return _paths.sanitize_path(_paths.canonicalize_path("." if directory is None else directory))


def file_path_to_session_key(file_path: PathArg, projects_dir: PathArg) -> SessionKey | None:
    """The key of a transcript file under ``<config dir>/projects`` (for mirroring).

    ``<projects>/<project>/<session>.jsonl`` is a main transcript;
    ``<projects>/<project>/<session>/subagents/.../agent-<id>.jsonl`` a subkey with
    ``subpath="subagents/.../agent-<id>"`` (``/``-joined on every platform). Anything else,
    or a path outside ``projects_dir``, gives ``None``.
    """
    try:
        relative = os.path.relpath(os.fspath(file_path), os.fspath(projects_dir))
    except ValueError:
        return None
    parts = Path(relative).parts
    if not parts or parts[0] == os.pardir or os.path.isabs(relative) or len(parts) < 2:
        return None
    project_key, second = parts[0], parts[1]
    if len(parts) == 2:
        if second.endswith(".jsonl") and len(second) > len(".jsonl"):
            return {"project_key": project_key, "session_id": second[: -len(".jsonl")]}
        return None
    if len(parts) >= 4:
        rest = list(parts[2:])
        if rest[-1].endswith(".jsonl"):
            rest[-1] = rest[-1][: -len(".jsonl")]
        return {"project_key": project_key, "session_id": second, "subpath": "/".join(rest)}
    return None


async def _project(directory: PathArg | None, project_key: str | None) -> tuple[str, str]:
    # (canonical project path, project key): realpath touches the disk, so off the loop.
    path = await trio.to_thread.run_sync(
        _paths.canonicalize_path, "." if directory is None else directory
    )
    return path, project_key if project_key is not None else _paths.sanitize_path(path)


# --- summaries -------------------------------------------------------------------------------

# Entry fields copied into the summary data, last value wins.
_LAST_WINS = {
    "customTitle": "custom_title",
    "aiTitle": "ai_title",
    "lastPrompt": "last_prompt",
    "summary": "summary_hint",
    "gitBranch": "git_branch",
}


def fold_session_summary(
    prev: SessionSummaryEntry | None,
    key: SessionKey,
    entries: Sequence[SessionStoreEntry],
    *,
    mtime: int | None = None,
) -> SessionSummaryEntry:
    """Folds appended entries into a session's listing summary; a pure function.

    A store calls it inside ``append`` for main-transcript keys (never for subpaths), persists
    the result, and returns the stored summaries from ``list_session_summaries``. Folding batch
    by batch gives the same ``data`` as folding everything at once: every field is set once
    (sidechain flag, creation time, cwd, first prompt) or last-wins (titles, last prompt,
    summary, branch, tag), so the transcript is never re-read.

    Args:
        prev: The summary so far (``None`` for the first batch).
        key: The session's key.
        entries: The batch just appended.
        mtime: The store's write time (epoch ms) to stamp; default: keep ``prev``'s (``0`` for
            a new summary). It must be on the clock of ``list_sessions``'s ``mtime``; do not
            derive it from entry timestamps.

    Returns:
        The new summary (``prev`` is not modified).
    """
    if prev is not None:
        session_id = prev["session_id"]
        stamp = prev["mtime"]
        data = dict(prev["data"])
    else:
        session_id, stamp, data = key["session_id"], 0, {}
    for raw in entries:
        entry: Any = raw
        if not isinstance(entry, dict):
            continue
        ms = iso_to_ms(entry.get("timestamp"))
        data.setdefault("is_sidechain", entry.get("isSidechain") is True)
        if ms is not None:
            data.setdefault("created_at", ms)
        cwd = entry.get("cwd")
        if isinstance(cwd, str) and cwd:
            data.setdefault("cwd", cwd)
        if not data.get("first_prompt_locked"):
            prompt, command = prompt_candidate(entry)
            if prompt:
                data["first_prompt"] = prompt
                data["first_prompt_locked"] = True
            elif command and not data.get("command_fallback"):
                data["command_fallback"] = command
        for source, target in _LAST_WINS.items():
            value = entry.get(source)
            if isinstance(value, str):
                data[target] = value
        if entry.get("type") == "tag":
            tag = entry.get("tag")
            if isinstance(tag, str) and tag:
                data["tag"] = tag
            else:
                data.pop("tag", None)
    return {
        "session_id": session_id,
        "mtime": stamp if mtime is None else mtime,
        "data": data,
    }


def summary_to_session_info(
    summary: SessionSummaryEntry, project_path: str | None
) -> SDKSessionInfo | None:
    """The listing entry of a folded summary; ``None`` for sidechains and empty sessions."""
    data = summary["data"]
    if data.get("is_sidechain"):
        return None
    first_prompt = (
        data.get("first_prompt")
        if data.get("first_prompt_locked")
        else data.get("command_fallback")
    ) or None
    custom_title = data.get("custom_title") or data.get("ai_title") or None
    text = custom_title or data.get("last_prompt") or data.get("summary_hint") or first_prompt
    if not text:
        return None
    return SDKSessionInfo(
        session_id=summary["session_id"],
        summary=text,
        last_modified=summary["mtime"],
        file_size=data.get("file_size"),
        custom_title=custom_title,
        first_prompt=first_prompt,
        git_branch=data.get("git_branch") or None,
        cwd=data.get("cwd") or project_path or None,
        tag=data.get("tag") or None,
        created_at=data.get("created_at"),
    )


# --- the in-memory store ---------------------------------------------------------------------

_Key = tuple[str, str, str | None]


def _key_tuple(key: SessionKey | SessionListSubkeysKey) -> _Key:
    subpath = cast("dict[str, Any]", key).get("subpath")
    if subpath == "":
        raise SessionValueError("SessionKey.subpath must be omitted, not empty")
    return key["project_key"], key["session_id"], subpath


class InMemorySessionStore:
    """A :class:`SessionStore` in a dict: for tests, examples and short-lived programs.

    Implements every optional method and keeps listing summaries with
    :func:`fold_session_summary`. Entries are deep-copied in and out, as a serialising store
    would. Modification times come from a per-store clock in epoch milliseconds that never
    repeats, so "newest first" is well defined even for appends within one millisecond.
    """

    def __init__(self) -> None:
        self._entries: dict[_Key, list[SessionStoreEntry]] = {}
        self._uuids: dict[_Key, set[str]] = {}
        self._mtimes: dict[_Key, int] = {}
        self._summaries: dict[tuple[str, str], SessionSummaryEntry] = {}
        self._last_ms = 0

    def _now(self) -> int:
        self._last_ms = max(int(time.time() * 1000), self._last_ms + 1)
        return self._last_ms

    #: An entry whose ``uuid`` is stored under the key already is skipped, as the SQL stores
    #: do: the mirror sends a batch again when a deadline cut its append short.
    idempotent_appends = True

    async def append(self, key: SessionKey, entries: list[SessionStoreEntry]) -> None:
        """Appends a batch (a no-op for an empty one); updates the session's summary.

        An entry whose ``uuid`` is already stored under ``key`` (or earlier in the batch) is
        skipped, so a repeated import or a batch sent again does not duplicate.
        """
        await trio.lowlevel.checkpoint()
        k = _key_tuple(key)
        if not entries:
            return
        stored = self._entries.setdefault(k, [])
        seen = self._uuids.setdefault(k, set())
        fresh = []
        for entry in entries:
            uuid = entry.get("uuid") if isinstance(entry, dict) else None
            if isinstance(uuid, str) and uuid:
                if uuid in seen:
                    continue
                seen.add(uuid)
            fresh.append(entry)
        stored.extend(copy.deepcopy(fresh))
        stamp = self._now()
        self._mtimes[k] = stamp
        if k[2] is None:
            prev = self._summaries.get(k[:2])
            self._summaries[k[:2]] = fold_session_summary(prev, key, fresh, mtime=stamp)

    async def load(self, key: SessionKey) -> list[SessionStoreEntry] | None:
        """A copy of the entries under ``key``, or ``None``."""
        await trio.lowlevel.checkpoint()
        found = self._entries.get(_key_tuple(key))
        return None if found is None else copy.deepcopy(found)

    async def list_sessions(self, project_key: str) -> list[SessionStoreListEntry]:
        """The project's main transcripts with their mtimes."""
        await trio.lowlevel.checkpoint()
        return [
            {"session_id": k[1], "mtime": self._mtimes[k]}
            for k in self._entries
            if k[0] == project_key and k[2] is None
        ]

    async def list_session_summaries(self, project_key: str) -> list[SessionSummaryEntry]:
        """The project's summaries (copies)."""
        await trio.lowlevel.checkpoint()
        return [
            copy.deepcopy(summary)
            for (project, _), summary in self._summaries.items()
            if project == project_key
        ]

    async def delete(self, key: SessionKey) -> None:
        """Deletes a key; a main key takes its subkeys and summary with it."""
        await trio.lowlevel.checkpoint()
        k = _key_tuple(key)
        doomed = [k]
        if k[2] is None:
            doomed += [other for other in self._entries if other[:2] == k[:2] and other[2]]
            self._summaries.pop(k[:2], None)
        for item in doomed:
            self._entries.pop(item, None)
            self._uuids.pop(item, None)
            self._mtimes.pop(item, None)

    async def list_subkeys(self, key: SessionListSubkeysKey) -> list[str]:
        """The subpaths stored under a session."""
        await trio.lowlevel.checkpoint()
        k = _key_tuple(key)
        return [other[2] for other in self._entries if other[:2] == k[:2] and other[2]]

    def get_entries(self, key: SessionKey) -> list[SessionStoreEntry]:
        """Test helper: a copy of the entries under ``key`` (empty if none)."""
        return copy.deepcopy(self._entries.get(_key_tuple(key), []))

    @property
    def size(self) -> int:
        """The number of main transcripts stored (a test helper)."""
        return sum(1 for k in self._entries if k[2] is None)

    def clear(self) -> None:
        """Test helper: forgets everything."""
        self._entries.clear()
        self._uuids.clear()
        self._mtimes.clear()
        self._summaries.clear()


# --- reading from a store --------------------------------------------------------------------


async def _load_main(store: SessionStore, project_key: str, session_id: str) -> list[Any] | None:
    return await _load(store, {"project_key": project_key, "session_id": session_id})


async def _load(store: SessionStore, key: SessionKey) -> list[Any] | None:
    """``store.load(key)``, checked: a store that is not async, or whose ``load`` returns
    something else than entries (the JSONL text, which ``list()`` would cut into characters
    and the CLI resume as an empty conversation), is a typed error before any CLI starts."""
    pending: object = store.load(key)
    if not inspect.isawaitable(pending):
        raise ConfigurationError(
            f"session_store.load returned {type(pending).__name__}, not an awaitable: a session"
            " store's methods are async (async def load(self, key))"
        )
    entries = await pending
    if entries is None:
        return None
    if not isinstance(entries, (list, tuple)) or not all(isinstance(e, dict) for e in entries):
        raise ConfigurationError(
            f"session_store.load returned {type(entries).__name__}, not None or a list of entry"
            " dicts (the parsed JSONL lines)"
        )
    return list(entries) or None


def _info_from_entries(
    session_id: str, entries: list[Any], mtime: int, project_path: str | None
) -> SDKSessionInfo | None:
    text = entries_to_jsonl(entries).encode("utf-8")
    return parse_info(session_id, lite_from_bytes(text, mtime), project_path, file_size=False)


def _mtime_of(entries: list[Any]) -> int:
    for entry in reversed(entries):
        if isinstance(entry, dict):
            ms = iso_to_ms(entry.get("timestamp"))
            if ms is not None:
                return ms
    return int(time.time() * 1000)


async def _infos_via_load(
    store: SessionStore,
    listing: list[SessionStoreListEntry],
    project_key: str,
    project_path: str,
) -> list[SDKSessionInfo]:
    # One load per session, at most 16 at a time. A failing load gives a row with an empty
    # summary (the session exists, its details are unknown) instead of failing the listing.
    outcomes: list[SDKSessionInfo | None] = [None] * len(listing)
    limiter = trio.CapacityLimiter(STORE_LIST_LOAD_CONCURRENCY)

    async def one(index: int, item: SessionStoreListEntry) -> None:
        session_id, mtime = item["session_id"], item["mtime"]
        async with limiter:
            try:
                entries = await _load_main(store, project_key, session_id)
            except Exception:
                outcomes[index] = SDKSessionInfo(
                    session_id=session_id, summary="", last_modified=mtime
                )
                return
        if entries:
            outcomes[index] = _info_from_entries(session_id, entries, mtime, project_path)

    async with trio.open_nursery() as nursery:
        for index, item in enumerate(listing):
            nursery.start_soon(one, index, item)
    return [info for info in outcomes if info is not None]


def _newest_first(items: list[SDKSessionInfo]) -> list[SDKSessionInfo]:
    return sorted(items, key=lambda s: (s.last_modified, s.session_id), reverse=True)


async def list_sessions_from_store(
    session_store: SessionStore,
    directory: PathArg | None = None,
    limit: int | None = None,
    offset: int = 0,
    *,
    project_key: str | None = None,
) -> list[SDKSessionInfo]:
    """:func:`~trio_claude.list_sessions` for the sessions in a store, newest first.

    With ``list_session_summaries``, one call gives the metadata; sessions whose summary is
    missing or older than their ``list_sessions`` mtime are loaded and read instead (only those
    on the requested page). Without it, every session listed by ``list_sessions`` is loaded
    (at most 16 loads at a time). ``include_worktrees`` has no meaning for a store.

    Args:
        session_store: The store.
        directory: The project directory whose key to list (default: the current one).
        limit: At most this many sessions (``None`` or ``<= 0``: all).
        offset: Skip this many sessions first.
        project_key: Use this key instead of the one derived from ``directory``.

    Returns:
        The sessions, newest first (``file_size`` is ``None``).

    Raises:
        SessionValueError: The store has neither ``list_session_summaries`` nor
            ``list_sessions``.
    """
    project_path, key = await _project(directory, project_key)
    summaries: list[SessionSummaryEntry] | None
    try:
        summaries = list(await _call_optional(session_store, "list_session_summaries", key))
    except _Unsupported:
        summaries = None
    listing: list[SessionStoreListEntry] | None
    try:
        listing = list(await _call_optional(session_store, "list_sessions", key))
    except _Unsupported:
        listing = None

    if summaries is None:
        if listing is None:
            raise SessionValueError(
                "the session store implements neither list_session_summaries() nor "
                "list_sessions(); it cannot be listed"
            )
        infos = await _infos_via_load(session_store, listing, key, project_path)
        return page(_newest_first(infos), limit, offset)

    # Fast path: fresh summaries give their info directly; sessions without one (or with a
    # stale one) get a placeholder filled by loading, after paging so at most a page is loaded.
    known = None if listing is None else {item["session_id"]: item["mtime"] for item in listing}
    slots: list[tuple[int, str, SDKSessionInfo | None]] = []
    settled: set[str] = set()
    for summary in summaries:
        session_id = summary["session_id"]
        if known is not None and (session_id not in known or summary["mtime"] < known[session_id]):
            continue
        settled.add(session_id)
        info = summary_to_session_info(summary, project_path)
        if info is not None:
            slots.append((summary["mtime"], session_id, info))
    if listing is not None:
        slots += [
            (item["mtime"], item["session_id"], None)
            for item in listing
            if item["session_id"] not in settled
        ]
    slots.sort(key=lambda slot: (slot[0], slot[1]), reverse=True)
    chosen = page(slots, limit, offset)
    missing = [
        SessionStoreListEntry(session_id=session_id, mtime=mtime)
        for mtime, session_id, info in chosen
        if info is None
    ]
    filled = {
        info.session_id: info
        for info in await _infos_via_load(session_store, missing, key, project_path)
    }
    result = []
    for _, session_id, slot_info in chosen:
        info = slot_info if slot_info is not None else filled.get(session_id)
        if info is not None:
            result.append(info)
    return result


async def get_session_info_from_store(
    session_store: SessionStore,
    session_id: str,
    directory: PathArg | None = None,
    *,
    project_key: str | None = None,
) -> SDKSessionInfo | None:
    """:func:`~trio_claude.get_session_info` for a stored session.

    ``last_modified`` is the last entry timestamp in the transcript.

    Returns:
        The metadata, or ``None`` if ``session_id`` is not a UUID, the store has nothing for
        it, or it is a sidechain or has nothing to show.
    """
    if not validate_uuid(session_id):
        return None
    project_path, key = await _project(directory, project_key)
    entries = await _load_main(session_store, key, session_id)
    if not entries:
        return None
    return _info_from_entries(session_id, entries, _mtime_of(entries), project_path)


async def get_session_messages_from_store(
    session_store: SessionStore,
    session_id: str,
    directory: PathArg | None = None,
    limit: int | None = None,
    offset: int = 0,
    *,
    include_system_messages: bool = False,
    project_key: str | None = None,
) -> list[SessionMessage]:
    """:func:`~trio_claude.get_session_messages` for a stored session (no JSONL round trip)."""
    if not validate_uuid(session_id):
        return []
    _, key = await _project(directory, project_key)
    entries = await _load_main(session_store, key, session_id)
    if not entries:
        return []
    return to_messages(
        filter_transcript_entries(entries), limit, offset, include_system=include_system_messages
    )


def _agent_ids(subkeys: list[str]) -> list[str]:
    ids: list[str] = []
    for subpath in subkeys:
        if not subpath.startswith("subagents/"):
            continue
        last = subpath.rsplit("/", 1)[-1]
        if last.startswith("agent-") and last[len("agent-") :] not in ids:
            ids.append(last[len("agent-") :])
    return ids


async def list_subagents_from_store(
    session_store: SessionStore,
    session_id: str,
    directory: PathArg | None = None,
    *,
    project_key: str | None = None,
) -> list[str]:
    """:func:`~trio_claude.list_subagents` for a stored session.

    Raises:
        SessionValueError: The store has no ``list_subkeys``.
    """
    if not validate_uuid(session_id):
        return []
    _, key = await _project(directory, project_key)
    try:
        subkeys = await _call_optional(
            session_store, "list_subkeys", {"project_key": key, "session_id": session_id}
        )
    except _Unsupported:
        raise SessionValueError(
            "the session store does not implement list_subkeys(); it cannot list subagents"
        ) from None
    return _agent_ids(list(subkeys))


async def get_subagent_messages_from_store(
    session_store: SessionStore,
    session_id: str,
    agent_id: str,
    directory: PathArg | None = None,
    limit: int | None = None,
    offset: int = 0,
    *,
    project_key: str | None = None,
) -> list[SessionMessage]:
    """:func:`~trio_claude.get_subagent_messages` for a stored session.

    With ``list_subkeys`` the subagent is found wherever it is nested; without, only
    ``subagents/agent-<id>`` is tried. The parent ids come from the subagent's
    ``agent_metadata`` entry (the stored copy of its ``.meta.json``; the last one wins).
    """
    if not validate_uuid(session_id) or not agent_id:
        return []
    _, key = await _project(directory, project_key)
    subpath: str | None = f"subagents/agent-{agent_id}"
    try:
        subkeys = await _call_optional(
            session_store, "list_subkeys", {"project_key": key, "session_id": session_id}
        )
    except _Unsupported:
        pass
    else:
        target = f"agent-{agent_id}"
        subpath = next(
            (s for s in subkeys if s.startswith("subagents/") and s.rsplit("/", 1)[-1] == target),
            None,
        )
    if subpath is None:
        return []
    loaded = await session_store.load(
        {"project_key": key, "session_id": session_id, "subpath": subpath}
    )
    if not loaded:
        return []
    meta: dict[str, Any] | None = None
    transcript: list[Any] = []
    for entry in loaded:
        if isinstance(entry, dict) and entry.get("type") == "agent_metadata":
            meta = dict(entry)
        else:
            transcript.append(entry)
    tool_use_id, parent_agent_id = parent_ids_from_metadata(meta)
    return to_subagent_messages(
        filter_transcript_entries(transcript), limit, offset, tool_use_id, parent_agent_id
    )


# --- writing to a store ----------------------------------------------------------------------


async def rename_session_via_store(
    session_store: SessionStore,
    session_id: str,
    title: str,
    directory: PathArg | None = None,
    *,
    project_key: str | None = None,
) -> None:
    """:func:`~trio_claude.rename_session` for a stored session (appends a ``custom-title``).

    Raises:
        SessionValueError: ``session_id`` is not a UUID or ``title`` is blank.
    """
    checked_session_id(session_id)
    entry = metadata_entry("custom-title", session_id, checked_title(title), stamped=True)
    _, key = await _project(directory, project_key)
    await session_store.append(
        {"project_key": key, "session_id": session_id}, [cast(SessionStoreEntry, entry)]
    )


async def tag_session_via_store(
    session_store: SessionStore,
    session_id: str,
    tag: str | None,
    directory: PathArg | None = None,
    *,
    project_key: str | None = None,
) -> None:
    """:func:`~trio_claude.tag_session` for a stored session (appends a ``tag``).

    Raises:
        SessionValueError: ``session_id`` is not a UUID, or nothing is left of ``tag``.
    """
    checked_session_id(session_id)
    entry = metadata_entry("tag", session_id, checked_tag(tag), stamped=True)
    _, key = await _project(directory, project_key)
    await session_store.append(
        {"project_key": key, "session_id": session_id}, [cast(SessionStoreEntry, entry)]
    )


async def delete_session_via_store(
    session_store: SessionStore,
    session_id: str,
    directory: PathArg | None = None,
    *,
    project_key: str | None = None,
) -> None:
    """:func:`~trio_claude.delete_session` for a stored session.

    Calls the store's ``delete`` (which removes the subagent transcripts too); a store without
    ``delete`` is left unchanged (append-only stores).

    Raises:
        SessionValueError: ``session_id`` is not a UUID.
    """
    checked_session_id(session_id)
    _, key = await _project(directory, project_key)
    try:
        await _call_optional(
            session_store, "delete", {"project_key": key, "session_id": session_id}
        )
    except _Unsupported:
        return


async def fork_session_via_store(
    session_store: SessionStore,
    session_id: str,
    directory: PathArg | None = None,
    up_to_message_id: str | None = None,
    title: str | None = None,
    *,
    project_key: str | None = None,
) -> ForkSessionResult:
    """:func:`~trio_claude.fork_session` inside a store (same project key).

    The entries pass through this process: every UUID is remapped, so a storage-level copy
    would not do.

    Raises:
        SessionValueError: A bad id, a message not in the transcript, or nothing to fork.
        SessionNotFoundError: The store has nothing for the session.
    """
    checked_session_id(session_id)
    if up_to_message_id is not None:
        checked_message_id(up_to_message_id)
    _, key = await _project(directory, project_key)
    loaded = await _load_main(session_store, key, session_id)
    if not loaded:
        raise SessionNotFoundError(session_id, None, f"no entries under project key {key!r}")
    transcript, replacements = fork_source_from_entries(loaded, session_id)
    fork_id, entries = build_fork_lines(
        transcript,
        replacements,
        session_id,
        up_to_message_id,
        title,
        lambda: derive_title_from_entries(loaded),
    )
    await session_store.append(
        {"project_key": key, "session_id": fork_id}, cast("list[SessionStoreEntry]", entries)
    )
    return ForkSessionResult(session_id=fork_id)


# --- import and materialization --------------------------------------------------------------


def _parse_jsonl_strictly(path: Path) -> list[tuple[Any, int]]:
    # Every non-blank line with its size in bytes; SessionValueError on the first bad line.
    # The walk and find_session_file give regular files; O_NONBLOCK keeps one swapped for a
    # FIFO in between from blocking the open until a writer comes.
    with os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC), "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise SessionValueError(f"{path} is not a regular file")
        parsed: list[tuple[Any, int]] = []
        for number, raw in enumerate(handle, start=1):
            line = raw.rstrip(b"\r\n")
            if not line.strip():
                continue
            try:
                parsed.append((loads(line), len(line)))
            except ValueError as exc:
                raise SessionValueError(f"Invalid JSON in {path} at line {number}") from exc
    return parsed


def _read_for_import(
    session_id: str,
    directory: str | None,
    include_subagents: bool,
    config_dir: PathArg | None,
) -> list[tuple[SessionKey, list[tuple[Any, int]], dict[str, Any] | None]]:
    found = _paths.find_session_file(session_id, directory, config_dir)
    if found is None:
        raise SessionNotFoundError(session_id, directory)
    main = found[0]
    # The key is the directory the file is in, as mirroring would name it.
    project_key = main.parent.name
    plan: list[tuple[SessionKey, list[tuple[Any, int]], dict[str, Any] | None]] = [
        (
            {"project_key": project_key, "session_id": session_id},
            _parse_jsonl_strictly(main),
            None,
        )
    ]
    if include_subagents:
        session_dir = main.with_suffix("")
        for path in _jsonl_files(session_dir / "subagents"):
            parts = list(path.relative_to(session_dir).parts)
            parts[-1] = parts[-1][: -len(".jsonl")]
            key: SessionKey = {
                "project_key": project_key,
                "session_id": session_id,
                "subpath": "/".join(parts),
            }
            plan.append((key, _parse_jsonl_strictly(path), read_agent_metadata(path)))
    return plan


def _jsonl_files(base: Path) -> list[Path]:
    # Iterative and without following symbolic links: deep or looping trees end (walk_files).
    return [path for path in _paths.walk_files(base) if path.name.endswith(".jsonl")]


async def import_session_to_store(
    session_id: str,
    store: SessionStore,
    *,
    directory: PathArg | None = None,
    include_subagents: bool = True,
    batch_size: int = MAX_BATCH_ENTRIES,
    config_dir: PathArg | None = None,
) -> None:
    """Copies a local session (and its subagents) into a store.

    Every file is read and checked in a worker thread before the first ``append``, so a corrupt
    transcript leaves the store unchanged. Entries are then appended in batches of at most
    ``batch_size`` entries and 1 MiB. The key is the project directory the file was found in,
    the key live mirroring would use, so the imported session resumes with
    ``ClaudeAgentOptions(session_store=store, resume=session_id)`` from the original cwd.
    Subagent transcripts go under ``subagents/...`` subpaths, each followed by an
    ``agent_metadata`` entry holding its ``.meta.json`` (when there is one). Stores should
    treat ``uuid`` as an idempotency key, so importing twice does not duplicate.

    Args:
        session_id: The session's UUID.
        store: Where to copy it.
        directory: Its project directory; ``None``: search every project.
        include_subagents: Also copy ``<session>/subagents/**``.
        batch_size: Most entries per ``append`` (``<= 0``: the default, 500).
        config_dir: The Claude config directory (default ``$CLAUDE_CONFIG_DIR`` or
            ``~/.claude``).

    Raises:
        SessionValueError: ``session_id`` is not a UUID, or a transcript has a line that is not
            JSON (the message names the file and line).
        SessionNotFoundError: There is no local transcript for the session.
    """
    checked_session_id(session_id)
    if batch_size <= 0:
        batch_size = MAX_BATCH_ENTRIES
    project = None if directory is None else (os.fspath(directory) or None)
    plan = await trio.to_thread.run_sync(
        functools.partial(_read_for_import, session_id, project, include_subagents, config_dir)
    )
    for key, parsed, meta in plan:
        batch: list[SessionStoreEntry] = []
        size = 0
        for entry, nbytes in parsed:
            batch.append(entry)
            size += nbytes
            if len(batch) >= batch_size or size >= MAX_BATCH_BYTES:
                await store.append(key, batch)
                batch, size = [], 0
        if batch:
            await store.append(key, batch)
        if meta is not None:
            # The discriminator goes last so a "type" key in the sidecar cannot hide it.
            await store.append(key, [cast(SessionStoreEntry, {**meta, "type": "agent_metadata"})])


def _write_materialized(
    root: Path,
    key: str,
    session_id: str,
    files: list[tuple[str | None, list[Any]]],
) -> Path:
    project_dir = root / key
    main_path = project_dir / f"{session_id}.jsonl"
    for subpath, entries in files:
        meta = [e for e in entries if isinstance(e, dict) and e.get("type") == "agent_metadata"]
        lines = [
            e for e in entries if not (isinstance(e, dict) and e.get("type") == "agent_metadata")
        ]
        if subpath is None:
            path = main_path
        else:
            parts = [part for part in subpath.split("/") if part not in ("", ".", "..")]
            if not parts:
                continue
            path = project_dir.joinpath(session_id, *parts).with_name(parts[-1] + ".jsonl")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(entries_to_jsonl(lines), encoding="utf-8")
        if meta:
            sidecar = {k: v for k, v in meta[-1].items() if k != "type"}
            path.with_name(path.name[: -len(".jsonl")] + ".meta.json").write_text(
                dumps(sidecar), encoding="utf-8"
            )
    return main_path


async def materialize_session_from_store(
    store: SessionStore,
    session_id: str,
    config_dir: PathArg,
    *,
    project_key: str,
) -> Path | None:
    """Writes a stored session back as the CLI's files, so ``--resume`` can read it.

    The main transcript goes to ``<config_dir>/projects/<project_key>/<session_id>.jsonl``;
    with ``list_subkeys``, every subkey goes to ``<session_id>/<subpath>.jsonl`` beside it, and
    ``agent_metadata`` entries become ``.meta.json`` sidecars (the inverse of
    :func:`import_session_to_store`). Used to resume from a store: materialize into a
    temporary config dir and start the CLI with ``CLAUDE_CONFIG_DIR`` pointing there.

    Args:
        store: The store.
        session_id: The session's UUID.
        config_dir: The (temporary) Claude config directory to write into.
        project_key: The key the session is stored under (the resuming cwd's
            :func:`project_key_for_directory`).

    Returns:
        The main transcript's path, or ``None`` if the store has nothing for the session.

    Raises:
        SessionValueError: ``session_id`` is not a UUID.
    """
    checked_session_id(session_id)
    return await materialize_loaded(
        store, session_id, config_dir, project_key, await _load_main(store, project_key, session_id)
    )


async def materialize_loaded(
    store: SessionStore,
    session_id: str,
    config_dir: PathArg,
    project_key: str,
    main: list[Any] | None,
) -> Path | None:
    """:func:`materialize_session_from_store` with the main transcript loaded already."""
    if not main:
        return None
    files: list[tuple[str | None, list[Any]]] = [(None, main)]
    try:
        subkeys = await _call_optional(
            store, "list_subkeys", {"project_key": project_key, "session_id": session_id}
        )
    except _Unsupported:
        subkeys = []
    for subpath in subkeys:
        loaded = await _load(
            store, {"project_key": project_key, "session_id": session_id, "subpath": subpath}
        )
        if loaded:
            files.append((subpath, loaded))
    root = _paths.projects_dir(config_dir)
    return await trio.to_thread.run_sync(_write_materialized, root, project_key, session_id, files)
