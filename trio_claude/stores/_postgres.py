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
from urllib.parse import parse_qsl, unquote, urlsplit

from .._redact import MASK, is_secret_name, redact, secret_values
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
        max_connections: The most connections (and worker threads) this store opens at once,
            per trio run.
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
        # The DSN's password (and any other credential in it or in connect_kwargs): psycopg
        # quotes parts of a DSN it cannot parse, and they must not reach an error or a log.
        self._dsn_secrets = _dsn_secrets(dsn, self._kwargs)
        self._pool = ConnectionPool(self._connect, _close, max_connections)
        self._init_common()

    def __repr__(self) -> str:
        # Never the DSN: it may carry a password.
        return f"PostgresSessionStore(tables={self._label!r})"

    # --- connections ------------------------------------------------------------------------

    def _connect(self) -> Any:
        masked: Exception | None = None
        try:
            conn = self._psycopg.connect(self._dsn, autocommit=True, **self._kwargs)
        except Exception as exc:
            masked = _masked_error(exc, self._dsn_secrets)
            if masked is exc:
                raise
        if masked is not None:
            # Raised out of the except block: the original (quoting the password) is neither
            # its cause nor its context.
            raise masked
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


# ``password=value`` / ``password='va lue'`` in a libpq key=value DSN.
_KEYWORD_VALUE = re.compile(r"""([A-Za-z_]+)\s*=\s*('(?:[^'\\]|\\.)*'|[^\s']+)""")


def _dsn_secrets(dsn: str, kwargs: Mapping[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(long, short)``: the credentials in a DSN and in ``connect_kwargs``, as written and
    decoded; ``short`` are those under 8 characters, masked as whole words only."""
    found: set[str] = set()
    if "://" in dsn:
        try:
            parts = urlsplit(dsn)
            password = parts.password
            query = parse_qsl(parts.query, keep_blank_values=True)
        except ValueError:  # a DSN urllib cannot split either: take what looks like a password
            userinfo = dsn.split("://", 1)[1].split("/", 1)[0].rpartition("@")[0]
            password = userinfo.partition(":")[2] or None
            query = []
        if password:
            # The password as written (percent-encoded, or mis-encoded) and decoded.
            found.update({password, unquote(password)})
        for name, value in query:
            if is_secret_name(name):
                found.update({value, unquote(value)})
    else:
        for match in _KEYWORD_VALUE.finditer(dsn):
            if is_secret_name(match.group(1)):
                value = match.group(2)
                found.add(value)
                if value.startswith("'"):
                    found.add(value[1:-1])
                    found.add(re.sub(r"\\(.)", r"\1", value[1:-1]))
    for name, value in kwargs.items():
        if is_secret_name(name) and isinstance(value, str):
            found.add(value)
    found.discard("")
    long = {s for s in found if len(s) >= 8}
    short = tuple(sorted(found - long, key=len, reverse=True))
    # With their URL-encoded and JSON-escaped forms.
    return secret_values({f"PASSWORD_{i}": s for i, s in enumerate(long)}), short


def _masked_text(text: str, secrets: tuple[tuple[str, ...], tuple[str, ...]]) -> str:
    long, short = secrets
    text = redact(text, long)
    for secret in short:
        text = re.sub(rf"(?<![\w%]){re.escape(secret)}(?![\w%])", MASK, text)
    return text


def _masked_error(exc: Exception, secrets: tuple[tuple[str, ...], tuple[str, ...]]) -> Exception:
    """``exc`` if its text (and its causes') quotes no credential of the DSN; else an error of
    the same class (so retrying still tells transient failures apart) with the text masked."""
    texts: list[str] = []
    seen: BaseException | None = exc
    while seen is not None and len(texts) < 8:
        texts.append(str(seen))
        seen = seen.__cause__ or seen.__context__
    joined = "\n".join(texts)
    if _masked_text(joined, secrets) == joined:
        return exc
    text = _masked_text(str(exc), secrets)
    try:
        masked = type(exc)(text)
    except Exception:
        masked = RuntimeError(text)
    return masked
