"""Schema migrations, version refusal, and corrupt-file detection."""

from __future__ import annotations

import os
import random
import sqlite3
from pathlib import Path

import pytest

from tagassist.library import Library, LibraryCorruptError, NewerSchemaError
from tagassist.library.migrations import LATEST_VERSION, MIGRATIONS, migrate


def test_fresh_db_reaches_latest(lib_path: Path) -> None:
    with Library.open(lib_path) as lib:
        assert lib.schema_version == LATEST_VERSION >= 2
        assert lib.integrity_check() == "ok"
    conn = sqlite3.connect(lib_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    cols = {r[1] for r in conn.execute("PRAGMA table_info(decisions)")}
    assert "score" in cols
    conn.close()


def test_migration_steps_are_ordered_with_notes() -> None:
    versions = [m.version for m in MIGRATIONS]
    assert versions == sorted(versions) == list(range(1, len(versions) + 1))
    assert all(m.note.startswith("# changes:") for m in MIGRATIONS)


def test_v1_db_migrates_with_data_intact(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    assert migrate(conn, str(path), target=1) == 1
    conn.execute("INSERT INTO users (name, created) VALUES ('ann', 't0')")
    conn.execute(
        "INSERT INTO items (content_hash, kind, size, mtime, added) "
        "VALUES ('h', 'photo', 1, 2, 't')"
    )
    conn.execute("INSERT INTO item_paths (item_id, path) VALUES (1, '/p.jpg')")
    conn.execute("INSERT INTO tags (name, normalized, created) VALUES ('Beach', 'beach', 't')")
    conn.execute(
        "INSERT INTO assignments (user_id, item_id, tag_id, source, created) "
        "VALUES (1, 1, 1, 'manual', 't')"
    )
    conn.execute(
        "INSERT INTO decisions (user_id, item_id, tag_id, accepted, created) "
        "VALUES (1, 1, 1, 1, 't')"
    )
    conn.close()

    with Library.open(path) as lib:
        assert lib.schema_version == LATEST_VERSION
        assert [u.name for u in lib.users.all()] == ["ann"]
        item = lib.items.by_path("/p.jpg")
        assert item is not None and item.content_hash == "h"
        assert [t.path for t in lib.assignments.tags_of(item.id)] == ["Beach"]
        (decision,) = lib.assignments.decisions(1)
        assert decision.accepted and decision.score is None  # new column, old row
        assert not lib.history.can_undo()  # op_log exists and is empty
        assert lib.queries.search("beach") == [item.id]


def test_newer_schema_is_refused_and_file_untouched(lib_path: Path) -> None:
    Library.open(lib_path).close()
    conn = sqlite3.connect(lib_path)
    conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    conn.execute("PRAGMA journal_mode = DELETE")  # so the bytes are all in the main file
    conn.close()
    before = lib_path.read_bytes()
    with pytest.raises(NewerSchemaError) as info:
        Library.open(lib_path)
    message = str(info.value)
    assert f"version {LATEST_VERSION + 1}" in message and "newer TagAssist" in message
    assert "refused" in message
    assert lib_path.read_bytes() == before
    assert not Path(str(lib_path) + "-wal").exists()


def test_random_bytes_file_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(random.Random(1).randbytes(8192))
    with pytest.raises(LibraryCorruptError, match="not a TagAssist database"):
        Library.open(path)


def test_empty_file_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.write_bytes(b"")
    with pytest.raises(LibraryCorruptError, match="empty"):
        Library.open(path)


@pytest.mark.parametrize("keep", [50, 4096 + 10])
def test_truncated_file_is_corrupt(lib_path: Path, keep: int) -> None:
    with Library.open(lib_path) as lib:
        lib.users.add("ann")
    conn = sqlite3.connect(lib_path)
    conn.execute("PRAGMA journal_mode = DELETE")  # checkpoint + drop the WAL
    conn.close()
    data = lib_path.read_bytes()
    assert len(data) > keep
    lib_path.write_bytes(data[:keep])
    with pytest.raises(LibraryCorruptError, match="truncated"):
        Library.open(lib_path)


def test_damaged_page_reported_by_integrity_check(lib_path: Path) -> None:
    with Library.open(lib_path) as lib:
        user = lib.users.add("ann")
        for i in range(300):
            lib.items.upsert(f"h{i}", "photo", f"/p/{i}.jpg", i, float(i), title="x" * 200)
        lib.assignments.assign(user.id, range(1, 301), ["beach"])
    conn = sqlite3.connect(lib_path)
    conn.execute("PRAGMA journal_mode = DELETE")
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    with open(lib_path, "r+b") as fh:  # scribble over a page in the middle of the file
        fh.seek(page_size * (os.path.getsize(lib_path) // page_size // 2) + 8)
        fh.write(b"\xff" * 64)
    try:
        lib = Library.open(lib_path)
    except LibraryCorruptError:
        return  # detected at open: also fine
    with lib:
        assert lib.integrity_check() != "ok"


def test_newer_schema_in_wal_is_not_checkpointed_on_refusal(lib_path: Path) -> None:
    Library.open(lib_path).close()
    other = sqlite3.connect(lib_path)  # stays open: the bump lives in the WAL only
    other.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    other.commit()
    before = lib_path.read_bytes()
    with pytest.raises(NewerSchemaError):
        Library.open(lib_path)
    assert lib_path.read_bytes() == before
    other.close()
