"""Mirroring the CLI's transcript into a :class:`~trio_claude.SessionStore`, and resuming from one.

With ``session_store`` set the CLI runs with ``--session-mirror`` and sends every transcript
line it writes as a ``transcript_mirror`` frame. The reader hands those to a
:class:`TranscriptMirror` (never waiting on the store); a flusher task in the session's nursery
appends them in batches: at every result, above 500 entries or 1 MiB, or at every frame with
``session_store_flush="eager"``. Each append is bounded (60 s), tried 3 times (0.2 s, 0.8 s
apart; timeouts are not retried), and a final failure reaches the user as a
``system/mirror_error`` message. Closing the session flushes what is left (shielded, bounded).

Resuming (``resume=`` or ``continue_conversation=True``) with a store first writes the stored
transcript into a temporary config directory that the CLI is pointed at.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import trio

from ._session_store import (
    MAX_BATCH_BYTES,
    MAX_BATCH_ENTRIES,
    SessionKey,
    SessionStore,
    file_path_to_session_key,
    list_sessions_from_store,
    materialize_session_from_store,
    project_key_for_directory,
)
from ._sessions import SessionNotFoundError

__all__ = ["TranscriptMirror", "prepare_store_resume"]

logger = logging.getLogger("trio_claude")

_APPEND_TIMEOUT = 60.0
_BACKOFF = (0.2, 0.8)
# Files the CLI needs besides transcripts when it runs from a temporary config dir.
_AUTH_FILES = (".credentials.json", ".claude.json")


def cli_config_dir(env: dict[str, str] | Any) -> Path:
    """The config directory a CLI started with ``env`` uses."""
    configured = env.get("CLAUDE_CONFIG_DIR")
    if configured:
        return Path(configured)
    home = env.get("HOME") or os.path.expanduser("~")
    return Path(home) / ".claude"


class TranscriptMirror:
    """Batches ``transcript_mirror`` frames and appends them to a store.

    Args:
        store: The session store.
        projects_dir: ``<the CLI's config dir>/projects``, to map file paths to keys.
        eager: Flush at every frame (``session_store_flush="eager"``).
        report_error: Called with a ``system/mirror_error`` frame when an append fails for good.
    """

    def __init__(
        self,
        store: SessionStore,
        projects_dir: Path,
        *,
        eager: bool,
        report_error: Callable[[dict[str, Any]], None],
    ) -> None:
        self._store = store
        self._projects_dir = projects_dir
        self._eager = eager
        self._report_error = report_error
        self._batches: dict[tuple[str, str, str | None], tuple[SessionKey, list[Any]]] = {}
        self._entries = 0
        self._bytes = 0
        self._wakeup = trio.Event()
        self.appended = 0
        self.failures = 0

    def add(self, file_path: str | None, entries: list[Any]) -> None:
        """Queues a frame's entries (called by the reader; never blocks)."""
        if not file_path or not entries:
            return
        key = file_path_to_session_key(file_path, self._projects_dir)
        if key is None:
            logger.debug("transcript_mirror for a file outside the projects dir: %s", file_path)
            return
        ident = (key["project_key"], key["session_id"], key.get("subpath"))
        batch = self._batches.setdefault(ident, (key, []))[1]
        batch.extend(entries)
        self._entries += len(entries)
        self._bytes += sum(len(orjson.dumps(e)) for e in entries)
        if self._eager or self._entries >= MAX_BATCH_ENTRIES or self._bytes >= MAX_BATCH_BYTES:
            self.request_flush()

    def request_flush(self) -> None:
        """Asks the flusher to write what is queued (at a result, say)."""
        if self._batches:
            self._wakeup.set()

    async def run(self) -> None:
        """The flusher task: waits for flush requests and appends the batches."""
        while True:
            await self._wakeup.wait()
            self._wakeup = trio.Event()
            await self.flush()

    async def flush(self) -> None:
        """Appends every queued batch, in order per key."""
        batches, self._batches = self._batches, {}
        self._entries = self._bytes = 0
        for key, entries in batches.values():
            await self._append(key, entries)

    async def _append(self, key: SessionKey, entries: list[Any]) -> None:
        error: BaseException | None = None
        for attempt in range(len(_BACKOFF) + 1):
            try:
                with trio.fail_after(_APPEND_TIMEOUT):
                    await self._store.append(key, entries)
                self.appended += len(entries)
                return
            except trio.TooSlowError as exc:
                error = exc
                break  # a store that hangs is not retried
            except Exception as exc:
                error = exc
                if attempt < len(_BACKOFF):
                    await trio.sleep(_BACKOFF[attempt])
        self.failures += 1
        logger.warning("mirroring %d transcript entries failed: %r", len(entries), error)
        self._report_error(
            {
                "type": "system",
                "subtype": "mirror_error",
                "key": dict(key),
                "error": f"{type(error).__name__}: {error}",
                "session_id": key["session_id"],
            }
        )


async def prepare_store_resume(
    store: SessionStore,
    *,
    resume: str | None,
    continue_conversation: bool,
    cwd: str | None,
    env: dict[str, str],
) -> tuple[str, Path]:
    """Materialises the session to resume into a temporary config dir.

    Returns:
        The session id to pass to ``--resume`` and the temporary config dir (the caller points
        ``CLAUDE_CONFIG_DIR`` at it and removes it when the session ends).

    Raises:
        SessionNotFoundError: The store has no such session (or none at all, for continue).
    """
    directory = cwd or os.getcwd()
    project_key = project_key_for_directory(directory)
    session_id = resume
    if session_id is None and continue_conversation:
        listed = await list_sessions_from_store(store, directory=directory)
        if not listed:
            raise SessionNotFoundError(f"the session store has no session for {directory}")
        session_id = listed[0].session_id
    assert session_id is not None
    tmp = Path(await trio.to_thread.run_sync(tempfile.mkdtemp, None, "claude-resume-"))
    try:
        written = await materialize_session_from_store(
            store, session_id, tmp, project_key=project_key
        )
        if written is None:
            raise SessionNotFoundError(f"session {session_id} is not in the session store")
        source = cli_config_dir(env)
        for name in _AUTH_FILES:
            if (source / name).is_file():
                await trio.to_thread.run_sync(shutil.copy2, source / name, tmp / name)
    except BaseException:
        await trio.to_thread.run_sync(shutil.rmtree, tmp, True)
        raise
    return session_id, tmp
