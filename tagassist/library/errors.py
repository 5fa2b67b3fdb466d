"""Exceptions raised by the library store.

Callers (CLI, UI) only ever see these, never raw ``sqlite3`` errors, so each carries a
message that can be shown to the user as-is.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

# Primary SQLite result codes (extended codes carry these in the low byte).
_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6
_SQLITE_READONLY = 8
_SQLITE_CORRUPT = 11
_SQLITE_NOTADB = 26


class LibraryError(Exception):
    """Base class for every error the library store raises."""


class NewerSchemaError(LibraryError):
    """The database was written by a newer TagAssist; it is refused, not opened."""

    def __init__(self, path: str, found: int, supported: int) -> None:
        self.path, self.found, self.supported = path, found, supported
        super().__init__(
            f"The library {path} uses schema version {found}, but this TagAssist only "
            f"understands versions up to {supported}. It was written by a newer TagAssist; "
            "it was refused and left unmodified. Please upgrade TagAssist to open it."
        )


class OlderSchemaError(LibraryError):
    """A read-only opening found a schema this TagAssist would migrate; it never migrates.

    ``unwritable``: why the library could not be opened for writing (its folder or file
    cannot be written), when that is what made the opening read-only."""

    def __init__(self, path: str, found: int, expected: int,
                 unwritable: str | None = None) -> None:
        self.path, self.found, self.expected = path, found, expected
        then = (
            f"It cannot be upgraded: the library is read-only ({unwritable}). Make it "
            "writable and open it in TagAssist once (that upgrades it), or open a copy."
            if unwritable else
            "It was opened read-only, which never upgrades a library: open it in TagAssist "
            "once (that upgrades it), then try again."
        )
        super().__init__(
            f"The library {path} uses schema version {found}, older than this TagAssist's "
            f"{expected}. {then}"
        )


class LibraryReadOnlyError(LibraryError):
    """A write to a library that was opened read-only, or that SQLite found it cannot write."""


class LibraryLockedError(LibraryError):
    """Another process held the write lock for longer than the busy timeout."""


class LibraryCorruptError(LibraryError):
    """The file is not a TagAssist/SQLite database, or it is damaged."""


class NotFoundError(LibraryError, KeyError):
    """A requested item, tag, user or model does not exist."""

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return str(self.args[0]) if self.args else ""


def translate(exc: sqlite3.Error, path: str = "") -> LibraryError:
    """Map a ``sqlite3`` exception to the matching :class:`LibraryError` subclass."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(exc)
    where = f" ({path})" if path else ""
    if primary == _SQLITE_READONLY:  # e.g. the file or its -wal made read-only while open
        return LibraryReadOnlyError(
            f"The library is read-only: SQLite cannot write it{where} (check the permissions "
            f"of the file, its folder and its -wal and -shm files); nothing was saved. [{text}]"
        )
    if primary in (_SQLITE_BUSY, _SQLITE_LOCKED) or "locked" in text or "busy" in text:
        return LibraryLockedError(
            f"The library{where} is locked by another process (another TagAssist window "
            f"or a sync tool?); the change was not saved. Try again. [{text}]"
        )
    if (
        primary in (_SQLITE_CORRUPT, _SQLITE_NOTADB)
        or "not a database" in text
        or "malformed" in text
    ):
        return LibraryCorruptError(
            f"The library file{where} is damaged or is not a TagAssist database; "
            f"it could not be read. Restore it from a backup. [{text}]"
        )
    return LibraryError(f"Library database error{where}: {text}")


@contextmanager
def translated(path: str = "") -> Iterator[None]:
    """Re-raise any ``sqlite3.Error`` raised in the block as a :class:`LibraryError`."""
    try:
        yield
    except sqlite3.Error as exc:
        raise translate(exc, path) from exc
