"""The audit's import failures (issue 20), on real files and a real SQLite library.

* a file or folder name that is not valid UTF-8 is one problem, the rest of the folder imports;
* a file with thousands of keywords keeps the first ``MAX_KEYWORDS``, with a warning;
* a file rewritten while it is imported never leaves an item whose hash, size, dimensions and
  thumbnail describe different versions of it.

The rewrites happen at real hook points, with no stand-in for any of our code: the import
generator's first progress tick (the folder is scanned, no file is read yet), and CPython's
``open`` audit event (``sys.addaudithook``), which fires in the reading thread just before the
importer opens the file again after hashing it.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from tagassist.library import Library
from tagassist.media.hashing import content_hash
from tagassist.media.importer import MAX_KEYWORDS, ImportProblem, ImportReport, import_folder
from tagassist.media.thumbnails import thumbnail_path
from tagassist.media.xmp import write_sidecar


@pytest.fixture
def library(tmp_path):
    with Library.open(tmp_path / "lib" / "tagassist.db") as lib:
        yield lib


def start(library: Library, folder: Path, thumbs: Path):
    user_id = library.users.get_or_create("ann").id
    return import_folder(library, folder, user_id=user_id, thumbnails_dir=thumbs)


def finish(job) -> ImportReport:
    try:
        while True:
            next(job)
    except StopIteration as stop:
        return stop.value


def run_import(library: Library, folder: Path, thumbs: Path) -> ImportReport:
    return finish(start(library, folder, thumbs))


def jpeg(size: tuple[int, int], colour: str = "teal", comment: bytes = b"") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "JPEG", quality=90, comment=comment)
    return buf.getvalue()


def stored_paths(library: Library) -> set[str]:
    return {p for it in library.items.get_many(library.items.ids()) for p in it.paths}


def assert_every_item_matches_its_file(library: Library) -> None:
    """No orphan: every item has a path, and its hash and size are those of the file there."""
    for item in library.items.get_many(library.items.ids()):
        assert item.paths, f"item {item.id} ({item.content_hash}) has no file"
        for path in item.paths:
            assert content_hash(path) == item.content_hash, path
            assert os.path.getsize(path) == item.size, path


# --- 1. names that are not valid UTF-8 -----------------------------------------------------------

def test_a_file_name_that_is_not_utf8_is_one_problem_and_the_rest_imports(library, tmp_path):
    folder = tmp_path / "photos"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.jpg").write_bytes(jpeg((32, 24), "red"))
    (folder / "sub" / "b.jpg").write_bytes(jpeg((32, 24), "blue"))
    bad = os.path.join(os.fsencode(folder), b"\xff\xfe.jpg")
    with open(bad, "wb") as f:
        f.write(jpeg((32, 24), "green"))

    report = run_import(library, folder, tmp_path / "thumbs")

    assert report.problems == [
        ImportProblem(os.fsdecode(bad), "file name is not valid UTF-8; rename it")]
    assert report.added == 2
    assert stored_paths(library) == {str(folder / "a.jpg"), str(folder / "sub" / "b.jpg")}
    # Re-import (which also looks for vanished paths under the folder) reports it again.
    again = run_import(library, folder, tmp_path / "thumbs")
    assert (again.unchanged, again.problems) == (2, report.problems)
    assert library.integrity_check() == "ok"


def test_a_folder_name_that_is_not_utf8_is_one_problem_for_the_folder(library, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(jpeg((32, 24), "red"))
    bad_dir = os.path.join(os.fsencode(folder), b"caf\xe9")  # latin-1 'café'
    os.makedirs(os.path.join(bad_dir, b"deeper"))
    for name, colour in ((b"x.jpg", "blue"), (b"deeper/y.jpg", "green"), (b"notes.md", "")):
        with open(os.path.join(bad_dir, name), "wb") as f:
            f.write(jpeg((32, 24), colour) if colour else b"# Notes\n\nsome text\n")

    report = run_import(library, folder, tmp_path / "thumbs")

    assert report.problems == [ImportProblem(
        os.fsdecode(bad_dir),
        "folder name is not valid UTF-8; rename it (3 files in it not imported)")]
    assert report.added == 1 and stored_paths(library) == {str(folder / "a.jpg")}


def test_importing_a_folder_whose_own_name_is_not_utf8_is_one_problem(library, tmp_path):
    root = os.fsdecode(os.path.join(os.fsencode(tmp_path), b"fotos-\xe9t\xe9"))
    os.mkdir(root)
    Path(root, "a.jpg").write_bytes(jpeg((32, 24), "red"))
    report = run_import(library, Path(root), tmp_path / "thumbs")
    assert report.problems == [ImportProblem(root, "folder name is not valid UTF-8; rename it")]
    assert (report.added, library.items.count()) == (0, 0)


def test_the_cli_prints_a_path_that_is_not_utf8(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(jpeg((32, 24), "red"))
    with open(os.path.join(os.fsencode(folder), b"\xff\xfe.jpg"), "wb") as f:
        f.write(jpeg((32, 24), "green"))
    # A strict UTF-8 stdout, as in a UTF-8 terminal: a lone surrogate cannot be printed on it.
    env = {**os.environ, "PYTHONIOENCODING": "utf-8:strict"}

    def cli(*extra: str) -> str:
        proc = subprocess.run(
            [sys.executable, "-m", "tagassist", "import", str(folder), *extra,
             "--library", str(tmp_path / "lib"), "--user", "ann"],
            capture_output=True, env=env, timeout=120)
        assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
        return proc.stdout.decode("utf-8")

    text = cli("--no-progress")
    assert f"problem: {folder}/\\xff\\xfe.jpg: file name is not valid UTF-8; rename it" in text
    data = json.loads(cli("--json"))
    assert data["problems"] == [{"path": f"{folder}/\\xff\\xfe.jpg",
                                 "reason": "file name is not valid UTF-8; rename it"}]
    assert data["unchanged"] == 1


# --- 2. thousands of keywords --------------------------------------------------------------------

def test_keywords_past_the_cap_are_dropped_with_a_warning(library, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    photo = folder / "many.jpg"
    photo.write_bytes(jpeg((32, 24)))
    count = MAX_KEYWORDS + 1500
    write_sidecar(photo, [f"kw{i:05}" for i in range(count)])

    report = run_import(library, folder, tmp_path / "thumbs")

    assert report.problems == [] and report.added == 1
    assert report.warnings == [ImportProblem(
        str(photo), f"too many keywords: kept the first {MAX_KEYWORDS:,} of {count:,}, "
                    f"dropped {count - MAX_KEYWORDS:,}")]
    assert report.file_tags == MAX_KEYWORDS
    item = library.items.by_path(str(photo))
    assert {t.path for t in library.assignments.tags_of(item.id)} == {
        f"kw{i:05}" for i in range(MAX_KEYWORDS)}


def test_a_keyword_no_tag_can_be_named_is_left_out_and_the_import_goes_on(library, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    first, second = folder / "a.jpg", folder / "b.jpg"
    first.write_bytes(jpeg((32, 24)))
    second.write_bytes(jpeg((32, 24), "navy"))
    write_sidecar(first, ["x" * 300, "beach"])

    report = run_import(library, folder, tmp_path / "thumbs")

    assert report.problems == [] and report.added == 2  # the file after it too
    [warning] = report.warnings
    assert warning.path == str(first)
    assert warning.reason.startswith("keyword left out: Invalid tag name")
    assert "at most 200 characters" in warning.reason
    item = library.items.by_path(str(first))
    assert [t.path for t in library.assignments.tags_of(item.id)] == ["beach"]


def test_the_cap_leaves_a_normal_file_alone(library, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    photo = folder / "some.jpg"
    photo.write_bytes(jpeg((32, 24)))
    write_sidecar(photo, [f"kw{i}" for i in range(MAX_KEYWORDS)])
    report = run_import(library, folder, tmp_path / "thumbs")
    assert (report.file_tags, report.warnings) == (MAX_KEYWORDS, [])


# --- 3. a file rewritten while it is imported ----------------------------------------------------

class _OnOpen:
    """Calls ``action`` when the file at ``target`` is opened for reading (CPython's ``open``
    audit event, in the opening thread, before the open).  Installed once per process: an audit
    hook cannot be removed, so between tests it is disarmed and returns at once."""

    def __init__(self) -> None:
        self.target: str | None = None
        self.action: Callable[[int], None] | None = None
        self.opens = 0
        self.errors: list[BaseException] = []
        self._lock = threading.Lock()

    def __call__(self, event: str, args: tuple) -> None:
        if event != "open" or self.target is None or not args or args[1] != "r":
            return
        if not isinstance(args[0], (str, bytes, os.PathLike)):
            return
        if os.fsdecode(args[0]) != self.target or self.action is None:
            return
        with self._lock:
            self.opens += 1
            try:
                self.action(self.opens)
            except BaseException as exc:  # noqa: BLE001 - an audit hook must never raise
                self.errors.append(exc)


_HOOK = _OnOpen()
sys.addaudithook(_HOOK)


@pytest.fixture
def on_open():
    try:
        yield _HOOK
    finally:
        _HOOK.target, _HOOK.action, _HOOK.opens = None, None, 0
    assert _HOOK.errors == []


def test_a_file_replaced_between_the_scan_and_the_read_is_stored_as_read(library, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    photo = folder / "p.jpg"
    photo.write_bytes(jpeg((32, 24), "red"))
    new = jpeg((96, 40), "blue", comment=b"edited")

    job = start(library, folder, tmp_path / "thumbs")
    assert next(job).done == 0  # scanned (with the old size and mtime), nothing read yet
    photo.write_bytes(new)
    report = finish(job)

    assert report.problems == [] and report.added == 1
    item = library.items.by_path(str(photo))
    assert item.content_hash == content_hash(photo)
    assert (item.size, item.width, item.height) == (len(new), 96, 40)
    st = photo.stat()
    assert library.items.path_state(str(photo))[:2] == (st.st_size, st.st_mtime)
    again = run_import(library, folder, tmp_path / "thumbs")
    assert (again.unchanged, again.added, library.items.count()) == (1, 0, 1)
    assert_every_item_matches_its_file(library)


def test_a_file_rewritten_once_during_its_read_is_read_again(library, tmp_path, on_open):
    folder = tmp_path / "photos"
    folder.mkdir()
    photo = folder / "p.jpg"
    old, new = jpeg((32, 24), "red"), jpeg((96, 40), "blue", comment=b"edited")
    assert len(old) != len(new)
    photo.write_bytes(old)
    old_hash = content_hash(photo)
    thumbs = tmp_path / "thumbs"

    def rewrite_after_hashing(n: int) -> None:
        if n == 2:  # the first open hashed the old bytes; the metadata read opens it next
            photo.write_bytes(new)

    on_open.target, on_open.action = str(photo), rewrite_after_hashing
    report = run_import(library, folder, thumbs)
    assert on_open.opens > 2  # the rewrite did happen in the middle of the read

    assert report.problems == [] and report.added == 1 and library.items.count() == 1
    item = library.items.by_path(str(photo))
    assert item.content_hash == content_hash(photo) != old_hash
    assert (item.size, item.width, item.height) == (len(new), 96, 40)
    # One thumbnail, of the new version, under the new hash; none left under the old hash.
    assert [p.name for p in thumbs.rglob("*.jpg")] == [f"{item.content_hash}.jpg"]
    with Image.open(thumbnail_path(thumbs, item.content_hash)) as thumb:
        assert thumb.size == (96, 40)
    assert not thumbnail_path(thumbs, old_hash).exists()

    on_open.target = None
    again = run_import(library, folder, thumbs)  # clean re-import: nothing to fix, no orphan
    assert (again.unchanged, again.added, library.items.count()) == (1, 0, 1)
    assert_every_item_matches_its_file(library)


def test_a_file_that_keeps_changing_is_a_problem_and_the_rest_imports(library, tmp_path,
                                                                      on_open):
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(jpeg((32, 24), "green"))
    busy = folder / "busy.jpg"
    busy.write_bytes(jpeg((48, 36), "red"))
    thumbs = tmp_path / "thumbs"

    def grow(n: int) -> None:
        if n >= 2:  # every open after the first finds a new version, one byte longer each time
            busy.write_bytes(jpeg((48, 36), "red", comment=b"v" * n))

    on_open.target, on_open.action = str(busy), grow
    report = run_import(library, folder, thumbs)

    assert report.problems == [ImportProblem(
        str(busy), "changed while it was being imported; import again")]
    assert report.added == 1 and stored_paths(library) == {str(folder / "a.jpg")}
    a = library.items.by_path(str(folder / "a.jpg"))
    assert [p.name for p in thumbs.rglob("*.jpg")] == [f"{a.content_hash}.jpg"]

    on_open.target = None
    again = run_import(library, folder, thumbs)  # once it holds still, it imports
    assert (again.problems, again.added, again.unchanged) == ([], 1, 1)
    assert library.items.by_path(str(busy)).content_hash == content_hash(busy)
    assert_every_item_matches_its_file(library)
