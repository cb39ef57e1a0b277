"""What the SQL session stores share: the schema's shape, the append algorithm, a connection pool
used from worker threads, and the retry loop that rides out an outage.

Every database call runs in a worker thread (``trio.to_thread.run_sync``) on a pooled
connection, so the event loop never blocks; a :class:`trio.CapacityLimiter` of the pool's size
bounds the threads (and so the connections). Each call is one transaction.

The tables (names prefixed per store):

- ``meta(name, value)``: ``schema_version``.
- ``keys(id, project_key, session_id, subpath, mtime, next_seq, last_batch, summary)``: one row
  per stored transcript (``subpath = ''`` for the main one); ``mtime`` is the store's write
  time in epoch ms (never going back for a key), ``summary`` the
  :func:`~trio_claude.fold_session_summary` data of a main transcript, ``last_batch`` the id of
  the last ``append`` call that wrote to it.
- ``entries(key_id, seq, uuid, entry)``: the entries as JSON text, ordered by ``seq``; ``(key_id,
  uuid)`` is unique where ``uuid`` is set, so an entry already stored under a key is skipped.

An ``append`` is idempotent when retried: its entries with a ``uuid`` are skipped if already
there, and a retried call whose first attempt did commit (the connection died during
``COMMIT``) is recognised by ``last_batch`` and changes nothing.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import uuid as uuid_module
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from typing import Any, Generic, TypeVar, cast

import trio

from .._protocol._codec import dumps_from_cli
from .._redact import describe_exception, redact
from .._session_store import (
    SessionKey,
    SessionListSubkeysKey,
    SessionStoreEntry,
    SessionStoreListEntry,
    SessionSummaryEntry,
    _key_tuple,
    fold_session_summary,
)
from .._sessions._transcript import loads
from ._errors import SessionStoreError, SessionStoreSchemaError, SessionStoreUnavailableError

__all__ = ["SCHEMA_VERSION", "ConnectionPool", "SQLSessionStore", "encode_entry", "retrying"]

logger = logging.getLogger("trio_claude")

#: The schema version this code writes and reads.
SCHEMA_VERSION = 1

T = TypeVar("T")
C = TypeVar("C")

_FIRST_DELAY = 0.05
_MAX_DELAY = 1.0
# SQLite's default limit on bound parameters is 999 in old builds.
_IN_CHUNK = 500


def encode_entry(entry: Any) -> str:
    """One entry as compact JSON text (what the stores keep).

    orjson first; what it refuses (lone surrogates, integers beyond 64 bits) goes through
    ``json`` with ASCII escapes, which the databases accept and :func:`loads` reads back.
    """
    return dumps_from_cli(entry).decode()


def _entry_uuid(entry: Any) -> str | None:
    # The idempotency key: a non-empty string uuid a text column can hold.
    if isinstance(entry, dict):
        value = entry.get("uuid")
        if isinstance(value, str) and value and "\x00" not in value:
            return value
    return None


async def retrying(
    call: Callable[[], Awaitable[T]],
    *,
    operation: str,
    retry_for: float,
    transient: Callable[[BaseException], bool],
    on_transient: Callable[[], Awaitable[None]] | None = None,
) -> T:
    """Runs ``call`` until it succeeds, retrying transient failures for ``retry_for`` seconds.

    Backoff doubles from 50 ms to 1 s between attempts. A non-transient error is raised as it
    is; when the window is over, :class:`SessionStoreUnavailableError` (from the last error).
    Cancellation stops the loop (between attempts, or when the attempt returns).
    """
    deadline = trio.current_time() + retry_for
    delay = _FIRST_DELAY
    attempts = 0
    while True:
        attempts += 1
        try:
            result = await call()
        except Exception as exc:
            if not transient(exc):
                raise
            if on_transient is not None:
                await on_transient()
            remaining = deadline - trio.current_time()
            # A driver's error may quote a connection string: masked by shape (a store's own
            # credentials are masked by value where it raises).
            described = redact(describe_exception(exc))
            if attempts == 1:
                logger.warning(
                    "session store %s failed (%s); retrying for up to %.3g s",
                    operation,
                    described,
                    max(remaining, 0.0),
                )
            if remaining <= 0:
                raise SessionStoreUnavailableError(
                    f"session store {operation} failed: the database stayed unavailable for "
                    f"{retry_for:.3g} s ({attempts} attempts); last error: {described}",
                    operation=operation,
                    attempts=attempts,
                ) from exc
            await trio.sleep(min(delay, remaining))
            delay = min(delay * 2, _MAX_DELAY)
        else:
            if attempts > 1:
                logger.warning("session store %s succeeded after %d attempts", operation, attempts)
            return result


class ConnectionPool(Generic[C]):
    """Connections used from worker threads, at most ``size`` at a time per trio run.

    A connection is checked out by the worker thread that uses it and put back when the
    function returns; one that raised is closed (it may be broken or mid-transaction).

    Args:
        connect: Opens a connection (called in a worker thread).
        close: Closes one (called in a worker thread; must not raise).
        size: The most connections (and threads) at once, per trio run.
        still_good: Whether an idle connection may be used again (called in a worker thread
            when it is checked out); one that may not is closed and a new one opened.
    """

    def __init__(
        self,
        connect: Callable[[], C],
        close: Callable[[C], None],
        size: int,
        still_good: Callable[[C], bool] | None = None,
    ) -> None:
        if size < 1:
            raise ValueError(f"max_connections must be at least 1, not {size}")
        self._connect = connect
        self._close = close
        self._still_good = still_good
        self._idle: list[C] = []
        self._lock = threading.Lock()
        self._closed = False
        self._size = size

    @property
    def limiter(self) -> trio.CapacityLimiter:
        """The calling trio run's limit on connections (and threads) at once.

        One per run: a trio primitive wakes tasks of one run only, and several runs (each
        blocking session has its own) may share a store. The idle connections are shared.
        """
        return per_run(self, lambda: trio.CapacityLimiter(self._size))

    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` was called."""
        return self._closed

    def _checkin(self, conn: C) -> None:
        with self._lock:
            if not self._closed:
                self._idle.append(conn)
                return
        self._close(conn)

    def _in_thread(self, fn: Callable[[C], T]) -> T:
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is not None and self._still_good is not None and not self._still_good(conn):
            self._close(conn)
            conn = None
        if conn is None:
            conn = self._connect()
        try:
            result = fn(conn)
        except BaseException:
            self._close(conn)
            raise
        self._checkin(conn)
        return result

    async def run(self, fn: Callable[[C], T], *, cancellable: bool) -> T:
        """Runs ``fn(connection)`` in a worker thread.

        Args:
            fn: The work; it runs to completion even when abandoned.
            cancellable: Abandon the thread on cancellation (reads); writes are waited for,
                so a cancelled caller never leaves a write in flight.

        Raises:
            SessionStoreError: The pool is closed.
        """
        if self._closed:
            raise SessionStoreError("the session store is closed")
        return await trio.to_thread.run_sync(
            self._in_thread, fn, limiter=self.limiter, abandon_on_cancel=cancellable
        )

    def _discard_idle(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            self._close(conn)

    async def discard_idle(self) -> None:
        """Closes the idle connections (after a failure they are likely broken too)."""
        if self._idle:
            await trio.to_thread.run_sync(self._discard_idle)

    async def aclose(self) -> None:
        """Closes the idle connections; those in use are closed when their thread is done."""
        self._closed = True
        await trio.to_thread.run_sync(self._discard_idle)


# What each store and pool keeps per trio run (its locks, its limiter), by owner: weakly, so a
# store dropped in a long run is not kept alive by the run (a RunVar per store would be).
_PER_RUN: trio.lowlevel.RunVar[weakref.WeakKeyDictionary[object, Any]] = trio.lowlevel.RunVar(
    "trio_claude_store_state"
)


def per_run(owner: object, make: Callable[[], T]) -> T:
    """``owner``'s object for the calling trio run, made by ``make()`` on first use."""
    try:
        table = _PER_RUN.get()
    except LookupError:
        table = weakref.WeakKeyDictionary()
        _PER_RUN.set(table)
    try:
        found: T = table[owner]
    except KeyError:
        found = table[owner] = make()
    return found


class KeyLocks:
    """A fair :class:`trio.Lock` per key, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[object, tuple[trio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: object) -> AsyncIterator[None]:
        """Holds ``key``'s lock for the block (waiting in arrival order)."""
        lock, users = self._locks.get(key, (None, 0))
        if lock is None:
            lock = trio.Lock()
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


class SQLSessionStore:
    """The SQL behind both stores; a subclass gives the dialect.

    Subclasses set ``_pool``, ``_retry_for`` and the table names, and implement the hooks
    marked below. SQL is written with ``?`` placeholders; :meth:`_q` converts them.
    """

    _pool: ConnectionPool[Any]
    _retry_for: float
    _meta: str
    _keys: str
    _entries: str
    _json_out: str = "{}"  # how a JSON column is selected as text
    #: An entry whose ``uuid`` is stored under the key already is skipped: the mirror may send
    #: a batch again when its first append was cut short (``SessionStore``'s optional flag).
    idempotent_appends = True
    _for_update: str = ""  # row lock clause for the key row

    def _init_common(self) -> None:
        self._ready = False

    def _locks(self) -> tuple[trio.Lock, KeyLocks]:
        """The calling trio run's schema lock and per-key locks.

        One set per run: trio's locks wake tasks of one run only, and a store may be shared
        by several runs (each blocking session has its own), at once or one after another.
        Appends to one key keep their order within a run; across runs the database's own
        transactions keep every append whole.
        """
        return per_run(self, lambda: (trio.Lock(), KeyLocks()))

    # --- dialect hooks ----------------------------------------------------------------------

    def _q(self, sql: str) -> str:
        return sql

    def _transient(self, exc: BaseException) -> bool:
        raise NotImplementedError

    def _write_tx(self, conn: Any) -> contextlib.AbstractContextManager[Any]:
        """A write transaction on ``conn``; yields a cursor, commits on success."""
        raise NotImplementedError

    def _create_schema(self, cur: Any) -> None:
        """Takes whatever lock serialises schema creation, then creates ``meta`` if absent."""
        raise NotImplementedError

    def _schema_v1(self) -> list[str]:
        raise NotImplementedError

    def _now_ms(self, cur: Any) -> int:
        raise NotImplementedError

    def _existing_uuids(self, cur: Any, key_id: int, uuids: list[str]) -> set[str]:
        raise NotImplementedError

    def _read(self, conn: Any, sql: str, params: Sequence[Any]) -> list[Any]:
        # One statement in autocommit mode: its own snapshot.
        return list(conn.execute(sql, params).fetchall())

    # --- plumbing ---------------------------------------------------------------------------

    def _init_schema(self, conn: Any) -> None:
        with self._write_tx(conn) as cur:
            self._create_schema(cur)
            cur.execute(
                self._q(f"SELECT value FROM {self._meta} WHERE name = ?"), ("schema_version",)
            )
            row = cur.fetchone()
            version = int(row[0]) if row is not None else 0
            if version > SCHEMA_VERSION:
                raise SessionStoreSchemaError(
                    f"the session store's database has schema version {version}, newer than "
                    f"this trio-claude knows ({SCHEMA_VERSION}); upgrade trio-claude"
                )
            if version == 0:
                for statement in self._schema_v1():
                    cur.execute(statement)
                cur.execute(
                    self._q(f"INSERT INTO {self._meta} (name, value) VALUES (?, ?)"),
                    ("schema_version", str(SCHEMA_VERSION)),
                )
            # Later versions migrate here, one step at a time, inside this transaction.

    async def _ensure_schema(self) -> None:
        if self._ready:
            return
        async with self._locks()[0]:
            if not self._ready:
                await self._pool.run(self._init_schema, cancellable=False)
                self._ready = True

    async def _call(self, operation: str, fn: Callable[[Any], T], *, write: bool) -> T:
        async def attempt() -> T:
            await self._ensure_schema()
            return await self._pool.run(fn, cancellable=not write)

        return await retrying(
            attempt,
            operation=operation,
            retry_for=self._retry_for,
            transient=self._transient,
            on_transient=self._pool.discard_idle,
        )

    async def open(self) -> None:
        """Connects and creates (or checks) the schema now instead of at first use.

        Raises:
            SessionStoreUnavailableError: The database stayed unreachable for ``retry_for``.
            SessionStoreSchemaError: The database's schema is newer than this code.
        """
        await self._call("open", lambda conn: None, write=False)

    async def aclose(self) -> None:
        """Closes the pooled connections. The store cannot be used afterwards."""
        await self._pool.aclose()

    async def __aenter__(self) -> Any:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # --- the protocol -----------------------------------------------------------------------

    def _append_sync(
        self,
        key: SessionKey,
        entries: list[SessionStoreEntry],
        batch_id: str,
        conn: Any,
    ) -> None:
        project_key, session_id, subpath = _key_tuple(key)
        sub = subpath or ""
        encoded = [(_entry_uuid(entry), encode_entry(entry)) for entry in entries]
        with self._write_tx(conn) as cur:
            for _ in range(3):
                cur.execute(
                    self._q(
                        f"INSERT INTO {self._keys} (project_key, session_id, subpath, mtime, "
                        "next_seq) VALUES (?, ?, ?, 0, 0) "
                        "ON CONFLICT (project_key, session_id, subpath) DO NOTHING"
                    ),
                    (project_key, session_id, sub),
                )
                cur.execute(
                    self._q(
                        "SELECT id, mtime, next_seq, last_batch, "
                        f"{self._json_out.format('summary')} FROM {self._keys} "
                        "WHERE project_key = ? AND session_id = ? AND subpath = ?"
                        f"{self._for_update}"
                    ),
                    (project_key, session_id, sub),
                )
                row = cur.fetchone()
                if row is not None:
                    break
                # Another node deleted the session between the two statements: again.
            else:
                raise SessionStoreError("the transcript's key row vanished three times in a row")
            key_id, mtime, next_seq, last_batch, summary = row
            if last_batch == batch_id:
                return  # an earlier attempt of this call committed
            uuids = [u for u, _ in encoded if u is not None]
            seen = self._existing_uuids(cur, key_id, uuids) if uuids and next_seq else set()
            rows: list[tuple[int, int, str | None, str]] = []
            fresh: list[SessionStoreEntry] = []
            for (entry_uuid, text), entry in zip(encoded, entries, strict=True):
                if entry_uuid is not None:
                    if entry_uuid in seen:
                        continue
                    seen.add(entry_uuid)
                rows.append((key_id, next_seq + len(rows), entry_uuid, text))
                fresh.append(entry)
            if not rows:
                return  # every entry was already there
            stamp = max(self._now_ms(cur), int(mtime) + 1)
            cur.executemany(
                self._q(
                    f"INSERT INTO {self._entries} (key_id, seq, uuid, entry) VALUES (?, ?, ?, ?)"
                ),
                rows,
            )
            new_summary: str | None = None
            if subpath is None:
                prev: SessionSummaryEntry | None = None
                if summary is not None:
                    prev = {"session_id": session_id, "mtime": int(mtime), "data": loads(summary)}
                folded = fold_session_summary(prev, key, fresh, mtime=stamp)
                new_summary = encode_entry(folded["data"])
            cur.execute(
                self._q(
                    f"UPDATE {self._keys} SET mtime = ?, next_seq = ?, last_batch = ?, "
                    "summary = ? WHERE id = ?"
                ),
                (stamp, next_seq + len(rows), batch_id, new_summary, key_id),
            )

    async def append(self, key: SessionKey, entries: list[SessionStoreEntry]) -> None:
        """Stores ``entries`` after those already under ``key``, in one transaction.

        An entry whose ``uuid`` is already stored under ``key`` (or earlier in the batch) is
        skipped, so a repeated import or a retried call does not duplicate. ``append(key, [])``
        does nothing. Retries transient failures for ``retry_for`` seconds.

        Raises:
            SessionStoreUnavailableError: The database stayed unavailable for ``retry_for``.
            SessionValueError: ``key`` has an empty ``subpath``.
        """
        _key_tuple(key)
        if not entries:
            await trio.lowlevel.checkpoint()
            return
        batch = list(entries)
        batch_id = uuid_module.uuid4().hex
        # Appends to one key run one at a time, in call order (trio's locks are fair): while
        # one rides out an outage, the next waits behind it instead of overtaking it.
        async with self._locks()[1].hold(_key_tuple(key)):
            await self._call(
                "append", functools.partial(self._append_sync, key, batch, batch_id), write=True
            )

    def _load_sync(self, key: SessionKey, conn: Any) -> list[SessionStoreEntry] | None:
        project_key, session_id, subpath = _key_tuple(key)
        rows = self._read(
            conn,
            self._q(
                f"SELECT {self._json_out.format('e.entry')} FROM {self._entries} e "
                f"JOIN {self._keys} k ON k.id = e.key_id "
                "WHERE k.project_key = ? AND k.session_id = ? AND k.subpath = ? ORDER BY e.seq"
            ),
            (project_key, session_id, subpath or ""),
        )
        if not rows:
            return None
        return [cast(SessionStoreEntry, loads(row[0])) for row in rows]

    async def load(self, key: SessionKey) -> list[SessionStoreEntry] | None:
        """Every entry under ``key`` in append order; ``None`` if nothing is stored there."""
        _key_tuple(key)
        return await self._call("load", functools.partial(self._load_sync, key), write=False)

    async def list_sessions(self, project_key: str) -> list[SessionStoreListEntry]:
        """The project's main transcripts with their last write time (epoch ms)."""
        sql = self._q(
            f"SELECT session_id, mtime FROM {self._keys} WHERE project_key = ? AND subpath = ''"
        )

        def run(conn: Any) -> list[SessionStoreListEntry]:
            rows = self._read(conn, sql, (project_key,))
            return [{"session_id": row[0], "mtime": int(row[1])} for row in rows]

        return await self._call("list_sessions", run, write=False)

    async def list_session_summaries(self, project_key: str) -> list[SessionSummaryEntry]:
        """The summaries kept by :meth:`append` for the project's main transcripts."""
        sql = self._q(
            f"SELECT session_id, mtime, {self._json_out.format('summary')} FROM {self._keys} "
            "WHERE project_key = ? AND subpath = '' AND summary IS NOT NULL"
        )

        def run(conn: Any) -> list[SessionSummaryEntry]:
            rows = self._read(conn, sql, (project_key,))
            return [
                {"session_id": row[0], "mtime": int(row[1]), "data": loads(row[2])} for row in rows
            ]

        return await self._call("list_session_summaries", run, write=False)

    def _delete_sync(self, key: SessionKey, conn: Any) -> None:
        project_key, session_id, subpath = _key_tuple(key)
        where = "project_key = ? AND session_id = ?"
        params: tuple[str, ...] = (project_key, session_id)
        if subpath is not None:
            where += " AND subpath = ?"
            params += (subpath,)
        with self._write_tx(conn) as cur:
            cur.execute(
                self._q(
                    f"DELETE FROM {self._entries} WHERE key_id IN "
                    f"(SELECT id FROM {self._keys} WHERE {where})"
                ),
                params,
            )
            cur.execute(self._q(f"DELETE FROM {self._keys} WHERE {where}"), params)

    async def delete(self, key: SessionKey) -> None:
        """Deletes a transcript; a main key takes its subkeys and summary with it."""
        _key_tuple(key)
        await self._call("delete", functools.partial(self._delete_sync, key), write=True)

    async def list_subkeys(self, key: SessionListSubkeysKey) -> list[str]:
        """The subpaths stored under a session (sorted; never the main transcript)."""
        project_key, session_id, _ = _key_tuple(key)
        sql = self._q(
            f"SELECT subpath FROM {self._keys} WHERE project_key = ? AND session_id = ? "
            "AND subpath <> '' ORDER BY subpath"
        )

        def run(conn: Any) -> list[str]:
            return [row[0] for row in self._read(conn, sql, (project_key, session_id))]

        return await self._call("list_subkeys", run, write=False)


def chunks(items: list[str], size: int = _IN_CHUNK) -> Iterator[list[str]]:
    """``items`` in slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
