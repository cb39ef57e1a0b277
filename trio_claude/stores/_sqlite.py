"""A :class:`~trio_claude.SessionStore` in a SQLite file (stdlib ``sqlite3``)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from ._common import ConnectionPool, SQLSessionStore, chunks

__all__ = ["SQLiteSessionStore"]


class SQLiteSessionStore(SQLSessionStore):
    """A durable :class:`~trio_claude.SessionStore` in one SQLite file: the embedded default.

    A conversation mirrored here survives a restart of the program; resume it with
    ``ClaudeAgentOptions(session_store=SQLiteSessionStore(path), resume=session_id)``.
    Implements every optional method (listing, summaries, delete, subkeys) and passes the
    conformance kit.

    - Every call runs in a worker thread (``trio.to_thread.run_sync``) on a pooled connection:
      the event loop never blocks. Reads can be cancelled at any time; a write, once started,
      completes before the cancellation is delivered.
    - The file is in WAL mode, so readers never wait for the writer, and each write is one
      ``BEGIN IMMEDIATE`` transaction: several processes on one machine can share the file.
      A write waits up to ``busy_timeout`` for another process's lock, and a failed attempt
      (``database is locked``, an I/O error) is retried for ``retry_for`` seconds before
      :class:`~trio_claude.stores.SessionStoreUnavailableError` is raised.
    - ``synchronous=FULL`` by default: a returned ``append`` survives a power cut, not only a
      crash of the program.
    - The schema is versioned (a ``trio_claude_meta`` table); a file written by a newer
      trio-claude is refused with :class:`~trio_claude.stores.SessionStoreSchemaError`.
    - A new file is created with mode 0600 (transcripts can hold secrets); missing parent
      directories are created.

    Keep the file on a local disk: SQLite's locking (and WAL) does not work over network file
    systems. Create the store in each process rather than sharing one across ``fork()``.

    Args:
        path: The database file (``~`` is expanded). ``":memory:"`` is refused: each pooled
            connection would see its own empty database.
        busy_timeout: How long one attempt waits for another connection's write lock (s).
        retry_for: How long failed attempts are retried before giving up (s).
        max_connections: The most connections (and worker threads) at once, per trio run.
        synchronous: ``"FULL"`` (durable across a power cut) or ``"NORMAL"`` (durable across a
            crash of the program; the last commits may be lost on a power cut; faster).

    Example::

        store = SQLiteSessionStore("~/.local/share/my-app/sessions.db")
        options = ClaudeAgentOptions(session_store=store)
        ...
        await store.aclose()   # or: async with SQLiteSessionStore(...) as store:
    """

    _meta = "trio_claude_meta"
    _keys = "trio_claude_keys"
    _entries = "trio_claude_entries"

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = 5.0,
        retry_for: float = 30.0,
        max_connections: int = 4,
        synchronous: Literal["FULL", "NORMAL"] = "FULL",
    ) -> None:
        raw = os.fspath(path)
        if raw in ("", ":memory:") or raw.startswith("file:"):
            raise ValueError(
                f"SQLiteSessionStore needs a file path, not {raw!r} (use a temporary file for a "
                "throwaway store, or InMemorySessionStore)"
            )
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError(f"synchronous must be 'FULL' or 'NORMAL', not {synchronous!r}")
        self.path = Path(raw).expanduser()
        self._busy_timeout = float(busy_timeout)
        self._retry_for = float(retry_for)
        self._synchronous = synchronous
        # The file each connection opened (device, inode): a connection to a file deleted
        # (or replaced) since would go on writing into the unlinked one, read by nobody.
        self._files: dict[int, tuple[int, int]] = {}
        self._pool = ConnectionPool(
            self._connect, self._close_connection, max_connections, still_good=self._same_file
        )
        self._init_common()

    def __repr__(self) -> str:
        return f"SQLiteSessionStore({str(self.path)!r})"

    # --- connections ------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if not self.path.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError):
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        conn = sqlite3.connect(
            self.path,
            timeout=self._busy_timeout,
            isolation_level=None,  # autocommit; writes use explicit BEGIN IMMEDIATE
            check_same_thread=False,  # used by one worker thread at a time (the pool)
        )
        try:
            # Persistent in the file; a no-op once set.
            conn.execute("PRAGMA journal_mode=WAL").fetchone()
            conn.execute(f"PRAGMA synchronous={self._synchronous}")
            info = os.stat(self.path)
        except BaseException:
            conn.close()
            raise
        self._files[id(conn)] = (info.st_dev, info.st_ino)
        return conn

    def _close_connection(self, conn: sqlite3.Connection) -> None:
        self._files.pop(id(conn), None)
        _close(conn)

    def _same_file(self, conn: sqlite3.Connection) -> bool:
        """Whether ``conn``'s file is still the one at ``path``; if not, the schema is made
        again in the new file (a new connection creates it)."""
        try:
            info = os.stat(self.path)
        except OSError:
            same = False
        else:
            same = self._files.get(id(conn)) == (info.st_dev, info.st_ino)
        if not same:
            self._ready = False
        return same

    # --- dialect ----------------------------------------------------------------------------

    def _transient(self, exc: BaseException) -> bool:
        # Locked or busy, I/O errors, a file that cannot be opened right now: all
        # OperationalError. Corruption (DatabaseError) and bugs are not retried.
        return isinstance(exc, sqlite3.OperationalError)

    @contextlib.contextmanager
    def _write_tx(self, conn: Any) -> Iterator[Any]:
        conn.execute("BEGIN IMMEDIATE")  # take the write lock now (waits busy_timeout)
        cur = conn.cursor()
        try:
            yield cur
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")
        finally:
            cur.close()

    def _create_schema(self, cur: Any) -> None:
        # BEGIN IMMEDIATE already serialises this against other processes.
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {self._meta} (name TEXT PRIMARY KEY, value TEXT NOT NULL)"
        )

    def _schema_v1(self) -> list[str]:
        return [
            f"""CREATE TABLE {self._keys} (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                project_key TEXT NOT NULL,
                session_id TEXT NOT NULL,
                subpath TEXT NOT NULL,
                mtime INTEGER NOT NULL,
                next_seq INTEGER NOT NULL,
                last_batch TEXT,
                summary TEXT,
                UNIQUE (project_key, session_id, subpath)
            )""",
            f"""CREATE TABLE {self._entries} (
                key_id INTEGER NOT NULL,
                seq INTEGER NOT NULL,
                uuid TEXT,
                entry TEXT NOT NULL,
                PRIMARY KEY (key_id, seq)
            )""",
            f"CREATE UNIQUE INDEX {self._entries}_uuid ON {self._entries} (key_id, uuid) "
            "WHERE uuid IS NOT NULL",
        ]

    def _now_ms(self, cur: Any) -> int:
        return int(time.time() * 1000)

    def _existing_uuids(self, cur: Any, key_id: int, uuids: list[str]) -> set[str]:
        found: set[str] = set()
        for part in chunks(uuids):
            marks = ", ".join("?" * len(part))
            cur.execute(
                f"SELECT uuid FROM {self._entries} WHERE key_id = ? AND uuid IN ({marks})",
                (key_id, *part),
            )
            found.update(row[0] for row in cur.fetchall())
        return found


def _close(conn: sqlite3.Connection) -> None:
    with contextlib.suppress(sqlite3.Error):
        conn.close()
