"""tagassist.app operations on a real SQLite file: one transaction and one undo step each
(even with another process writing in between), and Changes that name photos and tags."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tagassist import app
from tagassist.library import Library, LibraryError, NotFoundError

from .conftest import add_photos

REVIEW = [("beach", True, 1, 0.9), ("sea", True, 2, 0.8), ("night", False, 3, 0.2)]


def state(db: Path, item_ids: list[int]) -> tuple[list[tuple], list[tuple]]:
    """Every assignment and decision row of these items, read by a separate connection."""
    with sqlite3.connect(db) as con:
        marks = ",".join("?" * len(item_ids))
        assignments = con.execute(
            f"SELECT * FROM assignments WHERE item_id IN ({marks}) ORDER BY id", item_ids
        ).fetchall()
        decisions = con.execute(
            f"SELECT * FROM decisions WHERE item_id IN ({marks}) ORDER BY id", item_ids
        ).fetchall()
    return assignments, decisions


def op_log_rows(db: Path) -> int:
    with sqlite3.connect(db) as con:
        return con.execute("SELECT count(*) FROM op_log").fetchone()[0]


def other_process(db: Path, code: str) -> None:
    """Run ``code`` with ``lib`` (its own Library.open of ``db``) in a child process."""
    script = f"from tagassist.library import Library\nlib = Library.open({str(db)!r})\n{code}"
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_review_of_three_items_is_one_transaction_and_one_undo_step(lib, lib_path):
    ann = lib.users.add("ann").id
    ids = add_photos(lib, "IMG_1.jpg", "IMG_2.jpg", "IMG_3.jpg")
    lib.assignments.assign(ann, ids[:1], ["sea"])  # already there on one photo: no decision for it
    before = state(lib_path, ids)
    logged = op_log_rows(lib_path)

    statements: list[str] = []
    lib._conn.set_trace_callback(statements.append)  # what the review sends to SQLite
    changes = app.review(lib, ann, ids, REVIEW, model_version="m1")
    lib._conn.set_trace_callback(None)
    assert [s for s in statements if s.startswith("BEGIN")] == ["BEGIN IMMEDIATE"]
    assert [s for s in statements if s == "COMMIT"] == ["COMMIT"]
    assert op_log_rows(lib_path) == logged + 1  # one undo step for the three photos
    assert changes.item_ids == tuple(ids) and set(changes.added) == {"beach", "sea"}
    assert changes.decisions == 8  # 3 x 3, less "sea" accepted where it already was
    assert changes.description == 'Accepted "beach" and "sea" and rejected "night" for 3 photos'

    # Another process writes between the review and the undo: an import of a new photo
    # with a file keyword (not undoable) and a saved search.
    other_process(lib_path, (
        "bob = lib.users.get_or_create('bob').id\n"
        "item, _ = lib.items.upsert('hash-other', 'photo', '/photos/other.jpg', 1, 1.0)\n"
        "lib.assignments.assign(bob, [item.id], ['from-file'], source='file', undoable=False)\n"
        "lib.searches.save(bob, 'beaches', 'beach')\n"))

    undone = app.undo(lib)
    assert state(lib_path, ids) == before  # exactly: same rows, ids and times
    assert undone.action == "undo" and undone.item_ids == tuple(ids)
    assert set(undone.removed) == {"beach", "sea"} and undone.added == ()
    assert undone.description == f"Undid: {changes.description}"
    other = lib.items.by_path("/photos/other.jpg")
    assert [t.path for t in lib.assignments.tags_of(other.id)] == ["from-file"]  # theirs stays
    # The one before, logged by library.assignments.assign itself: its description gets the photo.
    assert app.undo(lib).description == 'Undid: Tag 1 item(s) with sea ("IMG_1.jpg")'

    # Redo both; another process now makes an undoable write of its own: the first undo
    # takes back theirs, the second the whole review (three photos at once).
    app.redo(lib)
    before = state(lib_path, ids)  # redo gives the assignment a new row id
    redone = app.redo(lib)
    assert redone.description == f"Redid: {changes.description}"
    after_review = state(lib_path, ids)
    other_process(lib_path, (
        "bob = lib.users.get_or_create('bob').id\n"
        "other = lib.items.by_path('/photos/other.jpg').id\n"
        "lib.assignments.assign(bob, [other], ['dog'])\n"))
    assert app.undo(lib).description == "Undid: Tag 1 item(s) with dog (\"other.jpg\")"
    assert state(lib_path, ids) == after_review
    app.undo(lib)
    assert state(lib_path, ids) == before


def test_a_review_that_fails_part_way_writes_nothing(lib, lib_path):
    ann = lib.users.add("ann").id
    ids = add_photos(lib, "IMG_1.jpg", "IMG_2.jpg")
    before, logged = state(lib_path, ids), op_log_rows(lib_path)
    with pytest.raises(NotFoundError):
        app.review(lib, ann, [*ids, 999], REVIEW, model_version="m1")  # the third is gone
    assert state(lib_path, ids) == before and op_log_rows(lib_path) == logged
    assert app.undo(lib).description == "Nothing to undo"


def test_changes_name_the_photos_and_the_tags(lib):
    ann = lib.users.add("ann").id
    one, two, *rest = add_photos(lib, *(f"IMG_{n}.jpg" for n in range(12)))
    (doc,) = add_photos(lib, "notes.pdf", kind="document")

    tagged = app.tag(lib, ann, [one], ["beach"])
    assert tagged.description == 'Tagged "IMG_0.jpg" with "beach"'
    assert (tagged.action, tagged.item_ids, tagged.added) == ("tag", (one,), ("beach",))
    assert tagged.changed and tagged.tags_changed

    many = app.tag(lib, ann, [one, two, *rest], ["beach"])
    assert many.description == 'Tagged 11 photos with "beach"'  # IMG_0 had it already
    assert set(many.item_ids) == {two, *rest}
    assert app.tag(lib, ann, [one, doc], ["sun", "sea"]).description == (
        'Tagged "IMG_0.jpg" and "notes.pdf" with "sun" and "sea"')
    assert app.tag(lib, ann, [two, *rest, doc], ["x"]).description == 'Tagged 12 items with "x"'
    unchanged = app.tag(lib, ann, [one], ["beach"])
    assert not unchanged.changed and unchanged.item_ids == ()
    assert unchanged.description == 'No change: "IMG_0.jpg" already has "beach"'

    untagged = app.untag(lib, ann, [one, doc], ["sea"])
    assert untagged.description == 'Removed "sea" from "IMG_0.jpg" and "notes.pdf"'
    assert untagged.removed == ("sea",) and set(untagged.item_ids) == {one, doc}

    both = app.retag(lib, ann, [one], add=["dune"], remove=["sun"])
    assert both.description == 'Tagged "IMG_0.jpg" with "dune"; removed "sun" from "IMG_0.jpg"'

    reviewed = app.review(lib, ann, [two], [("night", False, 1, 0.1)], model_version="m")
    assert reviewed.description == 'Rejected "night" for "IMG_1.jpg"'
    assert reviewed.decisions == 1 and not reviewed.tags_changed and reviewed.changed

    renamed = app.rename(lib, "beach", "seaside")
    assert renamed.renamed == (("beach", "seaside"),) and len(renamed.item_ids) == 12
    assert renamed.description == 'Renamed "beach" to "seaside" on 12 photos'
    assert [t.path for t in lib.assignments.tags_of(one)].count("seaside") == 1

    undone = app.undo(lib)
    assert undone.description == 'Undid: Renamed "beach" to "seaside" on 12 photos'
    assert undone.renamed == (("seaside", "beach"),) and lib.tags.find("beach") is not None
    redone = app.redo(lib)
    assert redone.renamed == (("beach", "seaside"),) and lib.tags.find("seaside") is not None
    app.undo(lib)  # the rename
    app.undo(lib)  # the review
    undone = app.undo(lib)  # the retag
    assert undone.description.startswith('Undid: Tagged "IMG_0.jpg" with "dune"')
    assert undone.added == ("sun",) and undone.removed == ("dune",)
    assert undone.item_ids == (one,)
    assert app.redo(lib).description.startswith('Redid: Tagged "IMG_0.jpg" with "dune"')


def test_rename_is_one_undo_step_and_refuses_a_taken_name(lib):
    ann = lib.users.add("ann").id
    (a,) = add_photos(lib, "a.jpg")
    lib.assignments.assign(ann, [a], ["places|France|Paris"])
    changes = app.rename(lib, "France", "Frankreich")
    assert changes.renamed == (("places|France", "places|Frankreich"),)
    assert [t.path for t in lib.assignments.tags_of(a)] == ["places|Frankreich|Paris"]
    lib.tags.get_or_create("places|France")  # someone makes the old name again
    with pytest.raises(LibraryError, match="another tag"):
        app.undo(lib)
    # left as it was
    assert [t.path for t in lib.assignments.tags_of(a)] == ["places|Frankreich|Paris"]
    with pytest.raises(LibraryError, match="already exists"):
        app.rename(lib, "Frankreich", "france")
    same = app.rename(lib, "Frankreich", "Frankreich")
    assert not same.changed and same.description.startswith("No change")


def test_nested_writes_keep_their_own_errors_out(lib, lib_path):
    """A write that fails inside an operation leaves nothing; the rest is one undo step."""
    ann = lib.users.add("ann").id
    (a,) = add_photos(lib, "a.jpg")
    logged = op_log_rows(lib_path)
    with lib.history.operation("two writes") as op:
        lib.assignments.assign(ann, [a], ["kept"])
        with pytest.raises(NotFoundError):
            lib.assignments.assign(ann, [a, 999], ["lost"])
        lib.assignments.assign(ann, [a], ["also kept"])
        assert op.touched().added == ("kept", "also kept")
    assert op.logged is not None and op.logged.description == "two writes"
    assert op_log_rows(lib_path) == logged + 1
    assert sorted(t.path for t in lib.assignments.tags_of(a)) == ["also kept", "kept"]
    assert lib.history.undo() == "two writes"
    assert lib.assignments.tags_of(a) == []


def test_undo_of_operations_survives_reopening(lib_path):
    with Library.open(lib_path) as lib:
        ann = lib.users.add("ann").id
        ids = add_photos(lib, "a.jpg", "b.jpg", "c.jpg")
        app.review(lib, ann, ids, REVIEW, model_version="m1")
    with Library.open(lib_path) as lib:
        changes = app.undo(lib)
        assert changes.item_ids == tuple(ids) and lib.assignments.decisions(ann) == []
        assert app.redo(lib).decisions == 9
