"""The :class:`Library`: one library file's connection, transactions and lifecycle.

Its API lives in managers, one attribute each (as Anki's collection does it):
``library.users``, ``library.items`` (items, their paths, folders), ``library.tags``,
``library.assignments`` (tags on items, suggestion decisions), ``library.history`` (undo/redo,
:meth:`~._history.History.operation`, the change logs), ``library.queries`` (search, counts),
``library.searches`` (saved searches), ``library.models`` (model registry) and
``library.features``.  Every logical write is one ``BEGIN IMMEDIATE`` transaction
(:meth:`Library._write`); every read block sees one snapshot (:meth:`Library._read`).
"""

from __future__ import annotations

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
from .connection import DEFAULT_BUSY_TIMEOUT, configure, connect, transaction, tune
from .errors import LibraryCorruptError, LibraryError, OlderSchemaError, translated


class Library:
    """A TagAssist library file.  Use :meth:`open`; usable as a context manager."""

    def __init__(self, conn: sqlite3.Connection, path: Path, read_only: bool = False) -> None:
        self._conn = conn
        self.path = path
        self.read_only = read_only
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
    def open(cls, path: str | Path, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> Library:
        """Open (creating if needed) and migrate the library at ``path``.

        Raises NewerSchemaError (file untouched), LibraryCorruptError, LibraryLockedError.
        """
        path = Path(path).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
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
            raise LibraryError(f"The library {self.path} was opened read-only; nothing was "
                               "written.")
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
