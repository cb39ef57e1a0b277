"""A :class:`~trio_claude.SessionStore` on a PostgreSQL server (psycopg 3, worker threads).

psycopg is the optional extra ``trio-claude[postgres]``: this module imports it only when a
store is created, so without the extra nothing is loaded and nothing costs anything.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping
from types import ModuleType
from typing import Any

from ._common import ConnectionPool, SQLSessionStore
from ._errors import MissingExtraError

__all__ = ["PostgresSessionStore"]

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,39}$")


def _psycopg() -> ModuleType:
    """The ``psycopg`` module, or :class:`MissingExtraError` naming the extra."""
    try:
        import psycopg
    except ImportError as exc:
        raise MissingExtraError(
            "PostgresSessionStore needs psycopg 3, which comes with the 'postgres' extra: "
            "pip install 'trio-claude[postgres]'",
            extra="postgres",
        ) from exc
    return psycopg


def _identifier(value: str, what: str) -> str:
    if not _IDENTIFIER.match(value):
        raise ValueError(
            f"{what} must be a lowercase SQL identifier ([a-z_][a-z0-9_]*, at most 40 "
            f"characters), not {value!r}"
        )
    return value


class PostgresSessionStore(SQLSessionStore):
    """A durable :class:`~trio_claude.SessionStore` on a PostgreSQL server, shared by a fleet.

    Any node can mirror a session into it and any other can list, read or resume it
    (``ClaudeAgentOptions(session_store=store, resume=session_id)``). Implements every optional
    method and passes the conformance kit. Needs the ``postgres`` extra
    (``pip install 'trio-claude[postgres]'``, which brings psycopg 3); without it the
    constructor raises :class:`~trio_claude.stores.MissingExtraError`.

    - psycopg's blocking API runs in worker threads (``trio.to_thread.run_sync``) on a small
      pool of connections (``max_connections``), so the event loop never blocks. Reads can be
      cancelled at any time; a write, once started, completes (or fails) before the
      cancellation is delivered.
    - Each call is one transaction. Appends to one transcript are serialised by a row lock, so
      concurrent writers on several nodes keep each batch whole and in commit order.
    - Connection failures, a server shutting down, restarting or still starting, serialisation
      failures and statement timeouts are retried (new connections, backoff up to 1 s) for
      ``retry_for`` seconds, then :class:`~trio_claude.stores.SessionStoreUnavailableError`.
      A retried ``append`` never duplicates: see :meth:`append`.
    - ``mtime`` is the server's clock (``clock_timestamp()``), one clock for the whole fleet,
      and never goes back for a transcript.
    - The tables (``<prefix>_meta``, ``<prefix>_keys``, ``<prefix>_entries``) are created on
      first use under an advisory lock, so nodes starting together do not race; the schema is
      versioned and a newer one is refused with
      :class:`~trio_claude.stores.SessionStoreSchemaError`. Entries are kept as ``json``
      (the text as written: key order, ``\\u0000`` and big integers survive).

    Args:
        dsn: A libpq connection string or URI (``"postgresql://user@host/db"``); ``""`` uses
            the ``PG*`` environment variables.
        schema: A schema to put the tables in (created if missing); default: the
            connection's ``search_path``.
        table_prefix: The tables' name prefix (to keep several stores in one database).
        max_connections: The most connections (and worker threads) this store opens at once.
        connect_timeout: Seconds to wait for a connection (libpq's ``connect_timeout``, at
            least 2).
        statement_timeout: The server-side ``statement_timeout`` in seconds (``None``: the
            server's default), so a stuck query cannot hold a worker thread forever.
        retry_for: How long failed attempts are retried before giving up (s).
        connect_kwargs: More ``psycopg.connect`` keyword arguments (``sslmode``, ``password``,
            ``prepare_threshold=None`` behind PgBouncer, ...); they override the defaults
            (TCP keepalives on, ``application_name="trio-claude"``).

    Example::

        async with PostgresSessionStore("postgresql://claude@db.internal/claude") as store:
            options = ClaudeAgentOptions(session_store=store)
            ...
    """

    _json_out = "{}::text"
    _for_update = " FOR UPDATE"

    def __init__(
        self,
        dsn: str = "",
        *,
        schema: str | None = None,
        table_prefix: str = "trio_claude",
        max_connections: int = 4,
        connect_timeout: float = 10.0,
        statement_timeout: float | None = 30.0,
        retry_for: float = 30.0,
        connect_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        self._psycopg = _psycopg()
        prefix = _identifier(table_prefix, "table_prefix")
        self._schema = None if schema is None else _identifier(schema, "schema")
        qualify = "" if self._schema is None else f"{self._schema}."
        self._meta = f"{qualify}{prefix}_meta"
        self._keys = f"{qualify}{prefix}_keys"
        self._entries = f"{qualify}{prefix}_entries"
        self._index_prefix = prefix
        self._label = f"{qualify}{prefix}_*"
        self._dsn = dsn
        self._kwargs: dict[str, Any] = {
            "connect_timeout": max(2, round(connect_timeout)),
            "keepalives": 1,
            "keepalives_idle": 30,
            "keepalives_interval": 10,
            "keepalives_count": 3,
            "application_name": "trio-claude",
            **(connect_kwargs or {}),
        }
        self._statement_timeout_ms = (
            None if statement_timeout is None else max(1, round(statement_timeout * 1000))
        )
        self._retry_for = float(retry_for)
        self._pool = ConnectionPool(self._connect, _close, max_connections)
        self._init_common()

    def __repr__(self) -> str:
        # Never the DSN: it may carry a password.
        return f"PostgresSessionStore(tables={self._label!r})"

    # --- connections ------------------------------------------------------------------------

    def _connect(self) -> Any:
        conn = self._psycopg.connect(self._dsn, autocommit=True, **self._kwargs)
        try:
            if self._statement_timeout_ms is not None:
                conn.execute(
                    "SELECT set_config('statement_timeout', %s, false)",
                    (str(self._statement_timeout_ms),),
                )
        except BaseException:
            _close(conn)
            raise
        return conn

    # --- dialect ----------------------------------------------------------------------------

    def _q(self, sql: str) -> str:
        return sql.replace("?", "%s")

    def _transient(self, exc: BaseException) -> bool:
        # OperationalError: connection refused or lost, admin shutdown, "the database system
        # is starting up", statement timeout. Also the two "try again" transaction errors, a
        # standby's read-only refusal, and InterfaceError for a connection found closed.
        errors = self._psycopg.errors
        return isinstance(
            exc,
            (
                self._psycopg.OperationalError,
                self._psycopg.InterfaceError,
                errors.SerializationFailure,
                errors.DeadlockDetected,
                errors.ReadOnlySqlTransaction,  # a failover: reconnecting finds the new primary
            ),
        )

    @contextlib.contextmanager
    def _write_tx(self, conn: Any) -> Iterator[Any]:
        with conn.transaction(), conn.cursor() as cur:
            yield cur

    def _create_schema(self, cur: Any) -> None:
        # Nodes starting together would race on CREATE TABLE IF NOT EXISTS: serialise them.
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"trio_claude:{self._meta}",))
        if self._schema is not None:
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {self._schema}")
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {self._meta} (name text PRIMARY KEY, value text NOT NULL)"
        )

    def _schema_v1(self) -> list[str]:
        return [
            f"""CREATE TABLE {self._keys} (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                project_key text NOT NULL,
                session_id text NOT NULL,
                subpath text NOT NULL,
                mtime bigint NOT NULL,
                next_seq bigint NOT NULL,
                last_batch text,
                summary json,
                UNIQUE (project_key, session_id, subpath)
            )""",
            f"""CREATE TABLE {self._entries} (
                key_id bigint NOT NULL REFERENCES {self._keys} (id) ON DELETE CASCADE,
                seq bigint NOT NULL,
                uuid text,
                entry json NOT NULL,
                PRIMARY KEY (key_id, seq)
            )""",
            f"CREATE UNIQUE INDEX {self._index_prefix}_entries_uuid ON {self._entries} "
            "(key_id, uuid) WHERE uuid IS NOT NULL",
        ]

    def _now_ms(self, cur: Any) -> int:
        cur.execute("SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint")
        return int(cur.fetchone()[0])

    def _existing_uuids(self, cur: Any, key_id: int, uuids: list[str]) -> set[str]:
        cur.execute(
            f"SELECT uuid FROM {self._entries} WHERE key_id = %s AND uuid = ANY(%s)",
            (key_id, uuids),
        )
        return {row[0] for row in cur.fetchall()}


def _close(conn: Any) -> None:
    with contextlib.suppress(Exception):
        conn.close()
