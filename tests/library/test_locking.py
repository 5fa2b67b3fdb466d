"""A write blocked by another process's lock fails cleanly after the busy timeout."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from tagassist.library import Library, LibraryLockedError

from .conftest import add_items


def test_exclusive_lock_gives_locked_error_and_loses_nothing(lib_path: Path) -> None:
    lib = Library.open(lib_path, busy_timeout=0.2)
    user = lib.add_user("ann")
    (item,) = add_items(lib, 1)
    assert lib.assign(user.id, [item], ["beach"]) == 1

    other = sqlite3.connect(lib_path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        start = time.perf_counter()
        with pytest.raises(LibraryLockedError, match="locked by another process"):
            lib.assign(user.id, [item], ["sunset"])
        elapsed = time.perf_counter() - start
        assert 0.15 <= elapsed < 2.0
        # WAL: reads still work while the other process holds the write lock.
        assert lib.search("beach") == [item]
    finally:
        other.execute("ROLLBACK")
        other.close()

    assert [t.name for t in lib.item_tags(item)] == ["beach"]
    assert lib.assign(user.id, [item], ["sunset"]) == 1  # usable again afterwards
    lib.close()
    with Library.open(lib_path) as again:
        assert sorted(t.name for t in again.item_tags(item)) == ["beach", "sunset"]
        assert again.integrity_check() == "ok"
