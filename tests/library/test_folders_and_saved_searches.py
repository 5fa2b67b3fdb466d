"""Folders (items per folder) and saved searches, on a real library file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tagassist.library import Library, LibraryError, NotFoundError, QuerySyntaxError
from tagassist.library.migrations import LATEST_VERSION, migrate
from tagassist.library.models import FolderCount


def _add(lib: Library, path: str, capture_time: str | None = None, content: str = "") -> int:
    item, _ = lib.items.upsert(content or path, "photo", path, 1, 1.0, capture_time=capture_time)
    return item.id


def test_folder_counts_are_per_direct_folder_and_count_items_once(lib: Library) -> None:
    _add(lib, "/photos/a.jpg", content="a")
    _add(lib, "/photos/b.jpg")
    _add(lib, "/photos/2019/c.jpg")
    _add(lib, "/photos2/d.jpg")
    _add(lib, "/photos/a copy.jpg", content="a")  # the same item at a second path
    assert lib.items.folder_counts() == [
        FolderCount("/photos", 2),
        FolderCount("/photos/2019", 1),
        FolderCount("/photos2", 1),
    ]


def test_folder_counts_empty_library(lib: Library) -> None:
    assert lib.items.folder_counts() == []


def test_items_in_folder_recursive_in_capture_order(lib: Library) -> None:
    late = _add(lib, "/photos/late.jpg", "2020-01-01T00:00:00")
    undated = _add(lib, "/photos/x/undated.jpg")
    early = _add(lib, "/photos/x/y/early.jpg", "2001-01-01T00:00:00")
    _add(lib, "/photos2/other.jpg", "1990-01-01T00:00:00")  # a sibling, not a subfolder
    assert lib.items.in_folder("/photos") == [early, late, undated]
    assert lib.items.in_folder("/photos/") == [early, late, undated]  # trailing slash is fine
    assert lib.items.in_folder("/photos", recursive=False) == [late]
    assert lib.items.in_folder("/photos/x", recursive=False) == [undated]
    assert lib.items.in_folder("/nowhere") == []


@pytest.mark.parametrize("folder", ["/a%b", "/a_b"])
def test_items_in_folder_takes_wildcard_characters_literally(lib: Library, folder: str) -> None:
    inside = _add(lib, f"{folder}/in.jpg")
    _add(lib, "/aXb/out.jpg")  # would match if % or _ were LIKE wildcards
    _add(lib, "/a%b_c/out.jpg")
    assert lib.items.in_folder(folder) == [inside]
    assert lib.items.in_folder(folder, recursive=False) == [inside]


def test_root_folder(lib: Library) -> None:
    top = _add(lib, "/top.jpg")
    deep = _add(lib, "/photos/deep.jpg")
    assert FolderCount("/", 1) in lib.items.folder_counts()
    assert sorted(lib.items.in_folder("/")) == sorted([top, deep])
    assert lib.items.in_folder("/", recursive=False) == [top]


def test_save_list_replace_and_delete_searches(lib: Library) -> None:
    ann, bob = lib.users.add("ann").id, lib.users.add("bob").id
    lib.searches.save(ann, "  beach  days ", "beach AND NOT night")
    lib.searches.save(ann, "Cats", "cat")
    lib.searches.save(bob, "cats", "dog")  # names are per user
    assert [(s.name, s.expression) for s in lib.searches.all(ann)] == [
        ("beach days", "beach AND NOT night"),
        ("Cats", "cat"),
    ]
    replaced = lib.searches.save(ann, "Cats", " cat OR kitten ")
    assert replaced.expression == "cat OR kitten"
    assert [s.expression for s in lib.searches.all(ann)] == ["beach AND NOT night",
                                                             "cat OR kitten"]
    assert lib.searches.delete(ann, "Cats")
    assert not lib.searches.delete(ann, "Cats")
    assert [s.name for s in lib.searches.all(ann)] == ["beach days"]
    assert [s.expression for s in lib.searches.all(bob)] == ["dog"]


def test_bad_saved_searches_are_refused(lib: Library) -> None:
    ann = lib.users.add("ann").id
    with pytest.raises(QuerySyntaxError):
        lib.searches.save(ann, "broken", "cat AND")
    with pytest.raises(QuerySyntaxError):
        lib.searches.save(ann, "empty", "   ")
    with pytest.raises(LibraryError, match="needs a name"):
        lib.searches.save(ann, "  ", "cat")
    with pytest.raises(NotFoundError):
        lib.searches.save(ann + 99, "ghost", "cat")
    assert lib.searches.all(ann) == []


def test_v4_db_migrates_to_folders_and_saved_searches(tmp_path: Path) -> None:
    path = tmp_path / "v4.db"
    conn = sqlite3.connect(path, isolation_level=None)
    assert migrate(conn, str(path), target=4) == 4
    conn.execute("INSERT INTO users (name, created) VALUES ('ann', 't0')")
    conn.execute("INSERT INTO items (content_hash, kind, added) VALUES ('h', 'photo', 't')")
    conn.execute("INSERT INTO item_paths (item_id, path) VALUES (1, '/old/p.jpg')")
    conn.close()

    with Library.open(path) as lib:
        assert lib.schema_version == LATEST_VERSION >= 5
        assert lib.items.folder_counts() == [FolderCount("/old", 1)]  # existing paths get a folder
        assert lib.items.in_folder("/old", recursive=False) == [1]
        lib.searches.save(1, "old ones", "NOT beach")
        assert [s.name for s in lib.searches.all(1)] == ["old ones"]
        assert lib.integrity_check() == "ok"
