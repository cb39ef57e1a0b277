"""Durable :class:`~trio_claude.SessionStore` implementations.

- :class:`SQLiteSessionStore`: one SQLite file (stdlib ``sqlite3``), the embedded default: a
  conversation survives a restart of the program; several processes on one machine can share
  the file.
- :class:`PostgresSessionStore`: a PostgreSQL server shared by a fleet (the optional extra
  ``pip install 'trio-claude[postgres]'``, psycopg 3 in worker threads).

Both keep everything the protocol asks for (listing summaries, delete, subkeys), pass the
conformance kit, run their database calls in worker threads so the event loop never blocks,
retry transient failures (a locked file, a restarting server) for ``retry_for`` seconds, and
skip an entry whose ``uuid`` is already stored under its key, so retries and repeated imports
do not duplicate. See ``docs/stores.md``.

Names here are imported on first use: ``import trio_claude.stores`` loads neither ``sqlite3``
nor ``psycopg``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._errors import MissingExtraError as MissingExtraError
    from ._errors import SessionStoreError as SessionStoreError
    from ._errors import SessionStoreSchemaError as SessionStoreSchemaError
    from ._errors import SessionStoreUnavailableError as SessionStoreUnavailableError
    from ._postgres import PostgresSessionStore as PostgresSessionStore
    from ._sqlite import SQLiteSessionStore as SQLiteSessionStore

__all__ = [
    "MissingExtraError",
    "PostgresSessionStore",
    "SQLiteSessionStore",
    "SessionStoreError",
    "SessionStoreSchemaError",
    "SessionStoreUnavailableError",
]

_LAZY: dict[str, str] = {
    "MissingExtraError": "._errors",
    "SessionStoreError": "._errors",
    "SessionStoreSchemaError": "._errors",
    "SessionStoreUnavailableError": "._errors",
    "PostgresSessionStore": "._postgres",
    "SQLiteSessionStore": "._sqlite",
}

if not TYPE_CHECKING:

    def __getattr__(name: str) -> object:
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        from importlib import import_module

        value = getattr(import_module(module, __name__), name)
        globals()[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*globals(), *_LAZY})
