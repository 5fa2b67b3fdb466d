"""Opening the SQLite file with the right pragmas, and the one-transaction helper.

Pragmas, and why:

* ``journal_mode=WAL`` - readers (the UI grid) never block the writer and vice versa, and a
  killed process never leaves a half-written page in the main file.
* ``synchronous=FULL`` - every commit is fsynced to the WAL.  Tag writes are rare, user-made
  clicks, so the fsync is invisible, and a tag the user saw "saved" survives even a power
  cut (NORMAL would only guarantee that for process crashes).
* ``foreign_keys=ON`` - SQLite leaves them off by default per connection.
* ``temp_store=MEMORY``, ``cache_size`` 64 MiB - search's set operations run in RAM.
* ``busy_timeout`` - wait (default 5 s) for another process's write before giving up
  with :class:`LibraryLockedError`.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import LibraryCorruptError, translate, translated

DEFAULT_BUSY_TIMEOUT = 5.0
_MAGIC = b"SQLite format 3\x00"
_HEADER_SIZE = 100


class _TrackedConnection(sqlite3.Connection):
    """A connection that remembers whether it was closed (see :func:`_open_in_process`)."""

    is_closed = False

    def close(self) -> None:
        self.is_closed = True
        super().close()


_live: dict[str, weakref.WeakSet[_TrackedConnection]] = {}
_live_lock = threading.Lock()


def _open_in_process(key: str) -> bool:
    """Whether this process holds an open connection to the file ``key``.

    SQLite's locks are POSIX advisory locks, which belong to the process and are all dropped
    when *any* descriptor of the file is closed — so :func:`check_file` must not open and
    close the file while another connection of ours uses it.  Doing so let a trainer child
    process believe it was the last user and delete the WAL under the window's feet (the
    library then read as malformed).  A file already open here was checked when first opened.
    """
    with _live_lock:
        return any(not c.is_closed for c in _live.get(key, ()))


def check_file(path: Path) -> None:
    """Cheap pre-flight check of an existing file, before SQLite touches it.

    SQLite would happily treat an empty file as a new database, and a truncated one
    often only fails later, in the middle of some query; we want a clear error up front.
    """
    if not path.exists():
        return
    size = path.stat().st_size
    with path.open("rb") as fh:
        header = fh.read(_HEADER_SIZE)
    if size == 0:
        raise LibraryCorruptError(
            f"The library file {path} is empty (0 bytes), not a TagAssist database; "
            "it may have been truncated. Restore it from a backup or choose another file."
        )
    if not header.startswith(_MAGIC):
        raise LibraryCorruptError(
            f"The file {path} is not a TagAssist database (no SQLite header). "
            "Choose the right library file, or restore it from a backup."
        )
    if len(header) < _HEADER_SIZE:
        raise LibraryCorruptError(
            f"The library file {path} is truncated ({size} bytes, shorter than a "
            "database header). Restore it from a backup."
        )
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    page_count = int.from_bytes(header[28:32], "big")
    # The in-header page count is only authoritative when the two counters match.
    counters_match = header[24:28] == header[92:96]
    wal = path.with_name(path.name + "-wal")
    if counters_match and page_count and not wal.exists() and size < page_size * page_count:
        raise LibraryCorruptError(
            f"The library file {path} is truncated ({size} bytes, but its header says "
            f"{page_size * page_count}). Restore it from a backup."
        )


def connect(
    path: Path, busy_timeout: float = DEFAULT_BUSY_TIMEOUT, read_only: bool = False
) -> sqlite3.Connection:
    """Open ``path`` in autocommit mode; pragmas that write are applied by :func:`configure`."""
    key = os.path.realpath(path)
    if not _open_in_process(key):
        check_file(path)
    with translated(str(path)):
        # isolation_level=None: we issue BEGIN/COMMIT ourselves (see transaction()).
        conn = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro" if read_only else os.fspath(path),
            uri=read_only,
            timeout=busy_timeout,
            isolation_level=None,
            check_same_thread=False,
            factory=_TrackedConnection,
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            if not read_only:
                conn.execute("PRAGMA foreign_keys = ON")
            # Touch the schema now so "not a database" surfaces here, not later.
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except BaseException:
            conn.close()
            raise
    with _live_lock:
        _live.setdefault(key, weakref.WeakSet()).add(conn)
    return conn


def configure(conn: sqlite3.Connection, path: str = "") -> None:
    """Apply the pragmas that may write to the file (call after the version check)."""
    with translated(path):
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":  # e.g. a network FS without shared memory
            conn.execute("PRAGMA journal_mode = DELETE")
        conn.execute("PRAGMA synchronous = FULL")
    tune(conn, path)


def tune(conn: sqlite3.Connection, path: str = "") -> None:
    """The per-connection pragmas that never write the file (read-only connections too)."""
    with translated(path):
        # search() builds temp b-trees for INTERSECT/EXCEPT/DISTINCT: keep them in RAM and
        # give the page cache 64 MiB so the assignment indices stay hot.
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute("PRAGMA cache_size = -65536")


@contextmanager
def transaction(conn: sqlite3.Connection, path: str = "") -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (or ``ROLLBACK`` on any exception).

    IMMEDIATE takes the write lock up front, so a busy database fails at BEGIN (after
    the busy timeout) instead of half way through, and readers-turned-writers cannot
    deadlock.  sqlite3 errors come out as LibraryError subclasses.
    """
    with translated(path):
        conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException as exc:
        if conn.in_transaction:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass  # the original error is the interesting one
        if isinstance(exc, sqlite3.Error):
            raise translate(exc, path) from exc
        raise
