"""Issue 20's hostile cases through the ``tagassist`` command, as a separate process, on real
files and a real library: thousands of tags, deep searches, a closed pipe, formula cells,
unusable tag names and a read-only library."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tagassist.library import Library
from tagassist.library.query import MAX_DEPTH
from tagassist.paths import LibraryPaths
from tests.library.test_audit_faults import unwritable

MANY = 3000

# The CLI with every SQL statement its connections run counted (sqlite3's trace callback),
# the count printed last on stderr: the work a command does, whatever else the machine does.
COUNTING = """
import sqlite3, sys
statements = 0
def count(sql):
    global statements
    statements += 1
plain = sqlite3.connect
def connect(*args, **kwargs):
    conn = plain(*args, **kwargs)
    conn.set_trace_callback(count)
    return conn
sqlite3.connect = connect
from tagassist.cli import main
status = main(sys.argv[1:])
print(f"statements: {statements}", file=sys.stderr)
sys.exit(status)
"""


def cli(library: Path, *args: str, counting: bool = False, **kwargs
        ) -> subprocess.CompletedProcess:
    run = ["-c", COUNTING] if counting else ["-m", "tagassist"]
    return subprocess.run([sys.executable, *run, *args, "--library", str(library),
                           "--user", "ann"], capture_output=True, text=True, timeout=120,
                          **kwargs)


def statements(proc: subprocess.CompletedProcess) -> int:
    assert proc.returncode == 0, proc.stderr
    return int(proc.stderr.strip().splitlines()[-1].removeprefix("statements: "))


def one_line_error(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stderr.startswith("tagassist: ") and "Traceback" not in proc.stderr
    return proc.stderr


@pytest.fixture(scope="module")
def tagged(tmp_path_factory) -> tuple[Path, Path, Path]:
    """A library (its folder) with one photo carrying MANY tags, one carrying three."""
    root = tmp_path_factory.mktemp("tagged")
    paths = LibraryPaths.resolve(root / "lib", root / "cache")
    big, small = root / "big.jpg", root / "small.jpg"
    big.write_bytes(b"big")
    small.write_bytes(b"small")
    with Library.open(paths.database) as lib:
        ann = lib.users.add("ann")
        b, _ = lib.items.upsert("hash-big", "photo", str(big.resolve()), 3, 1.0)
        s, _ = lib.items.upsert("hash-small", "photo", str(small.resolve()), 5, 1.0)
        lib.assignments.assign(ann.id, [b.id], [f"group{i % 10}|tag{i}" for i in range(MANY)],
                               undoable=False)
        lib.assignments.assign(ann.id, [s.id], ["beach", "sea", "places|Europe|Paris"])
    return paths.root, big, small


# --- 1. `tags` on a photo with thousands of tags --------------------------------------------


def test_tags_of_a_photo_with_thousands_of_tags_reads_them_once(tagged):
    """Issue 20: ``tags`` read every tag again for each of the photo's tags (3,000 tags:
    30 s).  Its statements no longer grow with the photo's tags."""
    library, big, small = tagged
    proc = cli(library, "tags", str(big), "--json", counting=True)
    shown = json.loads(proc.stdout)["tags"]
    assert sorted(t["tag"] for t in shown) == sorted(
        f"group{i % 10}|tag{i}" for i in range(MANY))
    assert {t["source"] for t in shown} == {"manual"}
    few = statements(cli(library, "tags", str(small), "--json", counting=True))
    assert statements(proc) == few  # 3,000 tags: as many statements as for 3 (was ~12,000)

    text = cli(library, "tags", str(small)).stdout.splitlines()
    assert sorted(text) == ["beach\t(manual)", "places|Europe|Paris\t(manual)", "sea\t(manual)"]


# --- 2. a search nested too deep ------------------------------------------------------------


def test_deeply_nested_search_is_one_clear_error(tagged):
    """Issue 20: 300 nested parentheses ended in a RecursionError traceback."""
    library, _, _ = tagged
    proc = cli(library, "search", "(" * 300 + "beach" + ")" * 300)
    assert one_line_error(proc).startswith(
        f"tagassist: Invalid search at position {MAX_DEPTH}: parentheses nested more than "
        f"{MAX_DEPTH} deep; write the search with fewer levels")
    proc = cli(library, "search", "(" * MAX_DEPTH + "beach" + ")" * MAX_DEPTH, "--json")
    assert proc.returncode == 0, proc.stderr
    assert [Path(r["path"]).name for r in json.loads(proc.stdout)] == ["small.jpg"]


# --- 3. output into a pipe its reader closed ------------------------------------------------


def test_a_closed_pipe_ends_quietly_with_status_141(tagged):
    """Issue 20: ``tagassist ... | head`` ended in a BrokenPipeError traceback."""
    library, big, _ = tagged
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first line is written
    try:
        proc = subprocess.Popen([sys.executable, "-m", "tagassist", "tags", str(big),
                                 "--library", str(library)], stdout=write,
                                stderr=subprocess.PIPE, text=True)
    finally:
        os.close(write)
    _, err = proc.communicate(timeout=120)
    assert (proc.returncode, err) == (141, "")


def test_head_takes_the_first_lines_and_the_rest_ends_quietly(tagged):
    library, big, _ = tagged
    shell = (f"set -o pipefail; {sys.executable} -m tagassist tags {big} --json "
             f"--library {library} | head -c 100")
    proc = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, timeout=120)
    assert (proc.returncode, proc.stderr) == (141, "")  # as `ls | head` shows a killed ls
    assert proc.stdout.startswith("{") and len(proc.stdout) == 100


# --- 4. the CSV export cannot carry formulas ------------------------------------------------


def test_export_escapes_formula_cells_in_csv_only(tmp_path):
    library = tmp_path / "lib"
    photo = tmp_path / "=HYPERLINK(x).jpg"
    photo.write_bytes(b"x")
    with Library.open(library / "tagassist.db") as lib:
        ann = lib.users.add("ann")
        item, _ = lib.items.upsert("h", "photo", str(photo.resolve()), 1, 1.0)
        lib.assignments.assign(ann.id, [item.id], ["beach"])
    formula = '=HYPERLINK("http://evil.example","click")'
    assert cli(library, "tag", str(photo), "--add", formula).returncode == 0
    assert cli(library, "export", str(tmp_path / "out.csv")).returncode == 0
    assert cli(library, "export", str(tmp_path / "out.json")).returncode == 0

    with (tmp_path / "out.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["tag"] for r in rows} == {"beach", "'" + formula}
    assert {r["item_paths"] for r in rows} == {str(photo.resolve())}  # starts with '/'
    doc = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert {r["tag"] for r in doc["assignments"]} == {"beach", formula}


# --- 5. unusable tag names ------------------------------------------------------------------


def test_unusable_tag_names_are_refused_in_one_line(tagged):
    library, _, small = tagged
    err = one_line_error(cli(library, "tag", str(small), "--add", "bell\x07"))
    assert err == ("tagassist: Invalid tag name 'bell\\x07': tag names cannot contain "
                   "control characters (it has U+0007).\n")
    err = one_line_error(cli(library, "tag", str(small), "--add", "x" * 100_000))
    assert err == (f"tagassist: Invalid tag name {'x' * 60!r}…: tag names are at most 200 "
                   "characters (this one has 100,000).\n")
    proc = cli(library, "tags", str(small), "--json")
    assert len(json.loads(proc.stdout)["tags"]) == 3  # nothing was added


# --- 6. a read-only library folder ----------------------------------------------------------


def test_a_read_only_library_folder_reads_and_says_writes_are_impossible(tmp_path):
    """Issue 20: a read-only library folder made even ``tag-counts`` fail."""
    library = tmp_path / "lib"
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"x")
    with Library.open(library / "tagassist.db") as lib:
        ann = lib.users.add("ann")
        item, _ = lib.items.upsert("h", "photo", str(photo.resolve()), 1, 1.0)
        lib.assignments.assign(ann.id, [item.id], ["beach"])
    before = sorted(p.name for p in library.iterdir())
    with unwritable(library):
        proc = cli(library, "tag-counts", "--json")
        assert proc.returncode == 0, proc.stderr
        assert [(r["path"], r["count"]) for r in json.loads(proc.stdout)] == [("beach", 1)]
        proc = cli(library, "search", "beach")
        assert (proc.returncode, proc.stdout) == (0, f"{photo.resolve()}\n")
        err = one_line_error(cli(library, "tag", str(photo), "--add", "sea"))
        assert err == (f"tagassist: The library is read-only: its folder {library} cannot be "
                       f"written; nothing was saved to {library / 'tagassist.db'}.\n")
        assert sorted(p.name for p in library.iterdir()) == before
        # someone not in the library yet can read it too (nobody can be added to it)
        proc = subprocess.run([sys.executable, "-m", "tagassist", "tag-counts", "--json",
                               "--library", str(library), "--user", "newcomer"],
                              capture_output=True, text=True, timeout=120)
        assert (proc.returncode, json.loads(proc.stdout or "null")) == (0, []), proc.stderr
