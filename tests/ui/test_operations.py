"""The window's writes go through tagassist.app: a review of a multi-selection is one
transaction and one undo step (another process writing in between changes nothing), the
status bar names the photos and tags, ``changed`` carries the Changes; the window's
per-person reads are what ``tagassist search/untagged/tag-counts --user`` print."""

from __future__ import annotations

from dataclasses import asdict

from tests.app.test_operations import op_log_rows, other_process, state
from tests.test_cli_person import cli_json
from tests.ui.conftest import rows_of, select_photos


def test_review_of_a_selection_is_one_undo_step_despite_another_writer(qtbot, ann_window,
                                                                       paths, people):
    window, c = ann_window, ann_window.controller
    changes = []
    c.changed.connect(changes.append)
    ids = select_photos(window, "IMG_4.jpg", "IMG_5.jpg", "IMG_6.jpg")
    before, logged = state(paths.database, ids), op_log_rows(paths.database)

    assert c.review(ids, [("beach", True, 1, 0.9), ("night", False, 2, 0.1)], "m1")
    assert c.wait_for_writes()  # written in the background
    said = 'Accepted "beach" and rejected "night" for 3 photos'
    assert window.statusBar().currentMessage() == said
    assert op_log_rows(paths.database) == logged + 1
    [reviewed] = changes
    assert (reviewed.action, set(reviewed.item_ids), reviewed.added) == (
        "review", set(ids), ("beach",))
    assert "beach" in window.detail.chip_paths()

    # Bob, in another process, imports a photo (its keyword is not undoable) meanwhile.
    other_process(paths.database, (
        "bob = lib.users.get_or_create('bob').id\n"
        "item, _ = lib.items.upsert('hash-new', 'photo', '/elsewhere/new.jpg', 1, 1.0)\n"
        "lib.assignments.assign(bob, [item.id], ['from-file'], source='file', undoable=False)\n"))
    window.grid.select_rows(rows_of(window, "IMG_1.jpg"))  # the person moved on

    window.undo_action.trigger()  # one undo for the three photos
    assert c.wait_for_writes()
    assert state(paths.database, ids) == before
    assert window.statusBar().currentMessage() == f"Undid: {said}"
    undone = changes[-1]
    assert undone.action == "undo" and set(undone.item_ids) == set(ids)
    assert undone.removed == ("beach",)
    assert window.grid.selected_ids() == [people.ids["IMG_1.jpg"]]  # the selection stays

    window.redo_action.trigger()
    assert c.wait_for_writes()
    assert window.statusBar().currentMessage() == f"Redid: {said}"
    assert all("beach" in {t.path for t in c.library.assignments.tags_of(i, c.user_id)}
               for i in ids)


def test_tag_and_untag_say_which_photo_and_tag(qtbot, ann_window, people):
    window, c = ann_window, ann_window.controller
    [row] = rows_of(window, "IMG_6.jpg")
    window.grid.select_rows([row])
    assert c.add_tags(window.grid.selected_ids(), ["favourite"])
    assert c.wait_for_writes()
    assert window.statusBar().currentMessage() == 'Tagged "IMG_6.jpg" with "favourite"'
    assert c.remove_tags(window.grid.selected_ids(), ["favourite"])
    assert c.wait_for_writes()
    assert window.statusBar().currentMessage() == 'Removed "favourite" from "IMG_6.jpg"'
    assert c.undo()
    assert c.wait_for_writes()
    assert window.statusBar().currentMessage() == (
        'Undid: Removed "favourite" from "IMG_6.jpg"')
    assert "favourite" in window.detail.chip_paths()


def test_the_window_and_the_cli_agree_per_person(qtbot, ann_window, paths, people):
    c = ann_window.controller
    user = ("--user", "ann")
    for expression in ("beach", "animals", "NOT beach"):
        cli_ids = [r["id"] for r in cli_json(paths, "search", expression, *user)]
        assert sorted(c.search(expression)) == cli_ids
    assert sorted(c.untagged_ids()) == [r["id"] for r in cli_json(paths, "untagged", *user)]
    assert [asdict(t) for t in c.tag_counts()] == cli_json(paths, "tag-counts", *user)
    # Bob sees his own: the window as bob agrees with the CLI as bob, and differs from ann.
    assert c.set_user("bob")
    bob = ("--user", "bob")
    assert sorted(c.search("beach")) == [r["id"] for r in cli_json(paths, "search", "beach",
                                                                      *bob)]
    assert sorted(c.untagged_ids()) == [r["id"] for r in cli_json(paths, "untagged", *bob)]
    assert [asdict(t) for t in c.tag_counts()] == cli_json(paths, "tag-counts", *bob)
    assert c.search("beach") == [people.ids["IMG_3.jpg"]]


def test_a_new_person_is_added_by_the_writer_then_switched_to(qtbot, ann_window, paths):
    c = ann_window.controller
    said = []
    c.user_changed.connect(said.append)
    assert c.set_user("  carol ")
    assert c.user.name == "ann"  # queued: the UI thread wrote nothing
    assert c.wait_for_writes()
    assert (c.user.name, said) == ("carol", ["carol"])
    assert "carol" in [u.name for u in c.library.users.all()]
    assert not c.set_user("carol")  # already tagging as carol
    assert c.set_user("ann") and c.user.name == "ann"  # known: switched at once
