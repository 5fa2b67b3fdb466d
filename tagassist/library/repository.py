"""The :class:`Library`: one library file's connection, transactions and lifecycle.

Its API lives in managers, one attribute each (as Anki's collection does it):
``library.users``, ``library.items`` (items, their paths, folders), ``library.tags``,
``library.assignments`` (tags on items, suggestion decisions), ``library.history`` (undo/redo,
:meth:`~._history.History.operation`, the change logs), ``library.queries`` (search, counts),
``library.searches`` (saved searches), ``library.models`` (model registry) and
``library.features``.  Every logical write is one ``BEGIN IMMEDIATE`` transaction
(:meth:`Library._write`); every read block sees one snapshot (:meth:`Library._read`).

A library that cannot be written - its file, or its folder (where SQLite keeps the ``-wal``
and ``-shm`` files), is read-only to this process: permission bits, a read-only mount, an
immutable file - is opened read-only by :meth:`Library.open`: reads work, every write raises
:class:`LibraryReadOnlyError` ("The library is read-only: ...") and nothing is created next
to the file (issue 20: such a folder made even ``tag-counts`` fail).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from . import migrations
from ._assignments import AssignmentManager
from ._features import FeatureStore
from ._history import History, Operation
from ._items import ItemManager
from ._queries import Queries
from ._registry import ModelRegistry
from ._searches import SavedSearches
from ._tags import TagManager
from ._users import UserManager
from .connection import (
    DEFAULT_BUSY_TIMEOUT,
    _open_in_process,
    check_file,
    configure,
    connect,
    transaction,
    tune,
)
from .errors import (
    LibraryCorruptError,
    LibraryError,
    LibraryReadOnlyError,
    OlderSchemaError,
    translated,
)

_WAL_HEADER = 2  # the file format bytes (offsets 18 and 19) of a WAL-mode database
_SQLITE_CANTOPEN = 14


class Library:
    """A TagAssist library file.  Use :meth:`open`; usable as a context manager."""

    def __init__(self, conn: sqlite3.Connection, path: Path, read_only: bool = False,
                 read_only_reason: str | None = None) -> None:
        self._conn = conn
        self.path = path
        self.read_only = read_only
        #: Why writes are refused (for the window to say so), None when they are not.
        self.read_only_reason: str | None = None
        if read_only:
            self.read_only_reason = read_only_reason or "it was opened read-only"
        # One connection shared by UI worker threads: serialize whole operations.
        self._lock = threading.RLock()
        self._writes = 0  # this connection's writes: part of revision()
        self._op: Operation | None = None  # the history.operation() the connection is inside
        self.users = UserManager(self)
        self.items = ItemManager(self)
        self.tags = TagManager(self)
        self.assignments = AssignmentManager(self)
        self.history = History(self)
        self.queries = Queries(self)
        self.searches = SavedSearches(self)
        self.models = ModelRegistry(self)
        self.features = FeatureStore(self)

    # --- lifecycle ---------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path, busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
             read_only: bool | None = None) -> Library:
        """Open (creating if needed) and migrate the library at ``path``.

        ``read_only``: None (the default) opens the library read-only when it cannot be
        written (see :func:`unwritable`), True always, False never.  A read-only library is
        never created or migrated (an older schema raises OlderSchemaError); reads work and
        writes raise LibraryReadOnlyError.  (True on a library that can be written reads it
        as :meth:`open_read_only` does, through SQLite's locks, since a writer may come.)

        Raises NewerSchemaError (file untouched), LibraryCorruptError, LibraryLockedError.
        """
        path = Path(path).expanduser()
        reason = unwritable(path) if read_only is None else (
            "it was opened read-only" if read_only else None)
        if reason is not None:
            return cls._open_unwritable(path, busy_timeout, reason,
                                        cannot_write=read_only is None)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LibraryError(f"Cannot create the library folder {path.parent}: "
                               f"{exc.strerror or exc}.") from exc
        if path.exists():
            # Version check on a read-only connection first: closing it never checkpoints
            # the WAL, so a refused newer file really is left byte-for-byte untouched.
            ro = connect(path, busy_timeout, read_only=True)
            try:
                with translated(str(path)):
                    migrations.check_not_newer(ro, str(path))
            finally:
                ro.close()
        conn = connect(path, busy_timeout)
        try:
            with translated(str(path)):
                # Version check before anything that writes (even the WAL switch).
                migrations.check_not_newer(conn, str(path))
            configure(conn, str(path))
            with translated(str(path)):
                migrations.migrate(conn, str(path))
        except BaseException:
            conn.close()
            raise
        return cls(conn, path)

    @classmethod
    def open_read_only(cls, path: str | Path,
                       busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> Library:
        """Open an existing library for reading only (the trainer child: it never writes).

        The connection is SQLite's ``mode=ro``: nothing it does can write the file, and it
        never migrates — a schema other than this TagAssist's is refused (NewerSchemaError,
        OlderSchemaError) and the file left as it was.  Closing it never checkpoints or
        removes the WAL, which the window's connection may be using.
        """
        path = Path(path).expanduser()
        if not path.is_file():
            raise LibraryError(f"No library at {path}.")
        conn = connect(path, busy_timeout, read_only=True)
        try:
            with translated(str(path)):
                found = migrations.check_not_newer(conn, str(path))
            if found < migrations.LATEST_VERSION:
                raise OlderSchemaError(str(path), found, migrations.LATEST_VERSION)
            tune(conn, str(path))
        except BaseException:
            conn.close()
            raise
        return cls(conn, path, read_only=True)

    @classmethod
    def _open_unwritable(cls, path: Path, busy_timeout: float, reason: str,
                         cannot_write: bool) -> Library:
        """:meth:`open` for a library that cannot (or, on request, must not) be written.

        ``cannot_write``: this process cannot write it (not just asked not to).  Then a WAL
        library no connection has open (no ``-wal`` file: everything is in the file itself)
        is opened with SQLite's ``immutable=1``: no locks, no files created.  A plain
        ``mode=ro`` connection needs a ``-shm`` file, which a folder that cannot be written
        refuses, and which in a writable folder SQLite creates - the ``-wal`` too - with the
        database file's mode (0444) and leaves behind: the "-wal/-shm files left with mode
        0444" of issue 20 (nothing of ours chmods them), in the way of a later writable
        opening.  Reads then see the file as it was when opened: changes another program
        makes meanwhile may not show (open it again to see them).  A library with a
        ``-wal`` file (open elsewhere, or left by a crash) is read through it, ``mode=ro``.
        """
        if not path.is_file():
            raise LibraryError(f"Cannot create a library at {path}: {reason}.")
        wal = path.with_name(path.name + "-wal")
        at_rest = _wal_mode(path) and not wal.exists()
        conn = (_connect_immutable(path) if cannot_write and at_rest
                else _connect_read_only(path, busy_timeout, reason))
        try:
            with translated(str(path)):
                found = migrations.check_not_newer(conn, str(path))
            if found < migrations.LATEST_VERSION:
                raise OlderSchemaError(str(path), found, migrations.LATEST_VERSION, reason)
            tune(conn, str(path))
        except BaseException:
            conn.close()
            raise
        return cls(conn, path, read_only=True, read_only_reason=reason)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        with self._read() as conn:
            return migrations.user_version(conn)

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        if self.read_only:  # SQLite would refuse too; this says why
            raise LibraryReadOnlyError(f"The library is read-only: {self.read_only_reason}; "
                                       f"nothing was saved to {self.path}.")
        with self._lock:
            if self._op is not None:  # inside history.operation(): part of its one transaction
                with self._op._part(str(self.path)) as conn:
                    self._writes += 1
                    yield conn
                return
            with transaction(self._conn, str(self.path)) as conn:
                self._writes += 1
                yield conn

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """The connection for reads that see ONE snapshot: the SELECTs of one block run in one
        read transaction, so a tag another connection creates between them cannot appear in
        one and not the other (the window's "KeyError" while typing fast)."""
        with self._lock, translated(str(self.path)):
            if self._conn.in_transaction:  # inside a write: it is the snapshot
                yield self._conn
                return
            self._conn.execute("BEGIN")
            try:
                yield self._conn
            finally:
                if self._conn.in_transaction:
                    self._conn.execute("COMMIT")  # read-only: ends the snapshot

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Every read inside this block, whichever manager makes it, sees one snapshot: a
        write landing between them (another thread's or process's) is seen by none or all."""
        with self._read():
            yield

    def revision(self) -> tuple[int, int]:
        """Changes whenever this library or another process writes: a cache key for reads."""
        with self._read() as conn:
            (data_version,) = conn.execute("PRAGMA data_version").fetchone()
            return data_version, self._writes

    def integrity_check(self) -> str:
        """'ok', or a description of the damage (integrity and foreign-key checks)."""
        try:
            with self._read() as conn:
                problems = [r[0] for r in conn.execute("PRAGMA integrity_check")]
                if problems == ["ok"]:
                    problems = [
                        f"foreign key violation in {r[0]} row {r[1]} -> {r[2]}"
                        for r in conn.execute("PRAGMA foreign_key_check")
                    ]
        except LibraryCorruptError as exc:
            return str(exc)
        return "ok" if not problems else "\n".join(problems)


def unwritable(path: Path) -> str | None:
    """Why the library at ``path`` cannot be written by this process, or None if it can.

    SQLite writes the file and creates and removes its ``-wal`` and ``-shm`` files next to it,
    so the folder must be writable too.  ``os.access`` asks the kernel, which counts the
    permission bits (not for root), a read-only mount and an immutable file (for root too).
    """
    folder = path.parent
    if folder.is_dir() and not _writable(folder):
        return f"its folder {folder} cannot be written"
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if file.exists() and not _writable(file):
            return f"the file {file} cannot be written"
    return None


def _writable(path: Path) -> bool:
    return os.access(path, os.W_OK, effective_ids=os.access in os.supports_effective_ids)


def _wal_mode(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            header = fh.read(20)
    except OSError:
        return False  # let the connection say what is wrong
    return len(header) == 20 and header[18] == header[19] == _WAL_HEADER


def _connect_immutable(path: Path) -> sqlite3.Connection:
    """A read-only connection that takes no locks and creates no files (``immutable=1``)."""
    if not _open_in_process(os.path.realpath(path)):  # see connection._open_in_process
        check_file(path)
    with translated(str(path)):
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True,
                               isolation_level=None, check_same_thread=False)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except BaseException:
            conn.close()
            raise
    return conn


def _connect_read_only(path: Path, busy_timeout: float, reason: str) -> sqlite3.Connection:
    try:
        return connect(path, busy_timeout, read_only=True)
    except LibraryError as exc:
        code = getattr(exc.__cause__, "sqlite_errorcode", None)
        if not isinstance(code, int) or code & 0xFF != _SQLITE_CANTOPEN:
            raise
        # A -wal file, but no -shm file, and SQLite may not create one.
        raise LibraryError(
            f"The library {path} cannot be read: it is read-only ({reason}) and has a -wal "
            "file of changes not yet written into it (left by a TagAssist that did not "
            "close?), which SQLite cannot read without creating a -shm file next to it. "
            f"Open it once where it can be written, or open a copy. [{exc}]"
        ) from exc
