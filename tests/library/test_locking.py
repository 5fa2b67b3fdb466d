"""A write blocked by another process's lock fails cleanly after the busy timeout."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tagassist.library import Library, LibraryLockedError

from .conftest import add_items


def test_exclusive_lock_gives_locked_error_and_loses_nothing(lib_path: Path) -> None:
    lib = Library.open(lib_path, busy_timeout=0.2)
    user = lib.users.add("ann")
    (item,) = add_items(lib, 1)
    assert lib.assignments.assign(user.id, [item], ["beach"]) == 1

    other = sqlite3.connect(lib_path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        start = time.perf_counter()
        with pytest.raises(LibraryLockedError, match="locked by another process"):
            lib.assignments.assign(user.id, [item], ["sunset"])
        elapsed = time.perf_counter() - start
        assert 0.15 <= elapsed < 2.0
        # WAL: reads still work while the other process holds the write lock.
        assert lib.queries.search("beach") == [item]
    finally:
        other.execute("ROLLBACK")
        other.close()

    assert [t.name for t in lib.assignments.tags_of(item)] == ["beach"]
    assert lib.assignments.assign(user.id, [item], ["sunset"]) == 1  # usable again afterwards
    lib.close()
    with Library.open(lib_path) as again:
        assert sorted(t.name for t in again.assignments.tags_of(item)) == ["beach", "sunset"]
        assert again.integrity_check() == "ok"


def test_a_second_connection_keeps_the_wal_safe_from_another_process(lib_path: Path) -> None:
    """Opening a second Library in one process (the window's worker threads do) must not drop
    the process's SQLite locks: another process closing its connection would then believe it
    was the last user, checkpoint and delete the WAL under us (the trainer child did that and
    the library read as malformed)."""
    window = Library.open(lib_path)
    user = window.users.add("ann")
    items = add_items(window, 3)
    window.assignments.assign(user.id, items[:1], ["beach"])
    worker = Library.open(lib_path)  # the second connection in this process
    wal = lib_path.with_name(lib_path.name + "-wal")
    code = ("import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
            "print(c.execute('SELECT count(*) FROM assignments').fetchone()[0]); c.close()")
    seen = subprocess.run([sys.executable, "-c", code, str(lib_path)], capture_output=True,
                          text=True, check=True).stdout.strip()
    assert seen == "1"
    assert wal.exists(), "another process deleted the WAL while this one had it open"
    window.assignments.assign(user.id, items[1:], ["sunset"])
    worker.assignments.assign(user.id, items[:1], ["sea"])
    worker.close()
    assert window.integrity_check() == "ok"
    window.close()
    with Library.open(lib_path) as again:
        assert len(again.assignments.of_item(items[0])) == 2
        assert [t.name for t in again.assignments.tags_of(items[2])] == ["sunset"]
