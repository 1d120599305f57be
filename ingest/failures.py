"""Telling a broken database (wait and reconnect) from a broken handler (apply the policy)."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError

TRANSIENT_SQLITE = ("database is locked", "disk i/o error", "unable to open database")


def is_infrastructure_error(exc: BaseException) -> bool:
    """True when the database, not the handler, failed: retrying the same batch is right."""
    if isinstance(exc, DisconnectionError):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        module = type(exc.orig).__module__ if exc.orig is not None else ""
        if module.startswith("psycopg"):
            return isinstance(exc, OperationalError | InterfaceError)
        message = str(exc.orig).lower()
        return any(text in message for text in TRANSIENT_SQLITE)
    module = type(exc).__module__
    return module.startswith("psycopg") and type(exc).__name__ in {
        "OperationalError",
        "InterfaceError",
    }


class HandlerFailedError(Exception):
    """A retry-policy group stopped at an event its handler refused; it will try again."""

    def __init__(self, position: int, cause: BaseException) -> None:
        super().__init__(f"handler failed at position {position}: {type(cause).__name__}: {cause}")
        self.position = position
        self.cause = cause
