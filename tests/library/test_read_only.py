"""``Library.open_read_only`` (the trainer child's connection): reads, never writes, never
migrates, and leaves the window's WAL alone."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tagassist.library import (
    Library,
    LibraryError,
    NewerSchemaError,
    OlderSchemaError,
)
from tagassist.library.migrations import LATEST_VERSION, migrate


def _bytes(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(path.parent.iterdir())}


def test_reads_what_the_writer_committed_and_refuses_every_write(lib_path: Path) -> None:
    writer = Library.open(lib_path)
    try:
        writer.users.add("ann")
        reader = Library.open_read_only(lib_path)
        try:
            assert [u.name for u in reader.users.all()] == ["ann"]
            writer.users.add("ben")  # committed while the reader is open: seen at once
            assert [u.name for u in reader.users.all()] == ["ann", "ben"]
            with pytest.raises(LibraryError, match="read-only"):
                reader.users.add("cid")
            # below the facade too: SQLite itself refuses (mode=ro)
            with pytest.raises(sqlite3.OperationalError, match="readonly"):
                reader._conn.execute("INSERT INTO users (name, created) VALUES ('x', 't')")
        finally:
            reader.close()
        # closing the reader left the writer's WAL in place, and the writer works on
        assert lib_path.with_name(lib_path.name + "-wal").exists()
        writer.users.add("dee")
        assert [u.name for u in writer.users.all()] == ["ann", "ben", "dee"]
        assert writer.integrity_check() == "ok"
    finally:
        writer.close()


def test_an_older_schema_is_refused_and_left_unmigrated(tmp_path: Path) -> None:
    path = tmp_path / "lib" / "old.db"
    path.parent.mkdir()
    conn = sqlite3.connect(path, isolation_level=None)
    assert migrate(conn, str(path), target=2) == 2
    conn.execute("INSERT INTO users (name, created) VALUES ('ann', 't0')")
    conn.close()
    before = _bytes(path)
    with pytest.raises(OlderSchemaError, match="version 2.*read-only.*open it in TagAssist"):
        Library.open_read_only(path)
    assert _bytes(path) == before  # not one byte written: no migration, no WAL switch
    with Library.open(path) as lib:  # the app's open still migrates it
        assert lib.schema_version == LATEST_VERSION


def test_a_newer_schema_or_no_file_is_refused(tmp_path: Path, lib_path: Path) -> None:
    Library.open(lib_path).close()
    conn = sqlite3.connect(lib_path, isolation_level=None)
    conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    conn.close()
    with pytest.raises(NewerSchemaError):
        Library.open_read_only(lib_path)
    with pytest.raises(LibraryError, match="No library"):
        Library.open_read_only(tmp_path / "missing.db")
    assert not (tmp_path / "missing.db").exists()  # not created, unlike Library.open
