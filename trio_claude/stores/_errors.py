"""The errors the durable session stores raise."""

from __future__ import annotations

from .._errors import ClaudeSDKError

__all__ = [
    "MissingExtraError",
    "SessionStoreError",
    "SessionStoreSchemaError",
    "SessionStoreUnavailableError",
]


class SessionStoreError(ClaudeSDKError):
    """Base class of the errors a trio-claude session store raises about its database."""


class SessionStoreUnavailableError(SessionStoreError):
    """The database stayed unreachable (or locked) for the store's whole ``retry_for`` window.

    Every attempt failed with a transient error (connection refused or lost, server shutting
    down or starting, ``database is locked``, ...); the last one is the ``__cause__``. Nothing
    of the failed call was written. While mirroring, the session reports it as a
    ``MirrorErrorMessage`` and carries on.

    Attributes:
        operation: The store method that failed (``"append"``, ``"load"``, ...).
        attempts: How many attempts were made.
    """

    def __init__(self, message: str, *, operation: str, attempts: int) -> None:
        super().__init__(message)
        self.operation = operation
        self.attempts = attempts


class SessionStoreSchemaError(SessionStoreError):
    """The database holds a schema this version of trio-claude does not know.

    Raised when the stored ``schema_version`` is newer than the code's (a newer trio-claude
    created or migrated it): upgrade trio-claude, or use another database.
    """


class MissingExtraError(ClaudeSDKError, ImportError):
    """An optional dependency is not installed; the message names the extra that brings it.

    Also an :class:`ImportError`, as the failed import it stands for.

    Attributes:
        extra: The extra to install (``pip install 'trio-claude[<extra>]'``).
    """

    def __init__(self, message: str, *, extra: str) -> None:
        super().__init__(message)
        self.extra = extra
