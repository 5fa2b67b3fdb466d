"""The main window on a real library: import, tagging, undo/redo, search, keyboard."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from tagassist.ui.sidebar import UNTAGGED
from tests import sample
from tests.ui.conftest import landed, run_import, settle_sidebar
from tests.ui.test_newcomer_walk import _activate


def _tag_names(window, item_id: int) -> set[str]:
    c = window.controller
    return {t.name for t in c.library.assignments.tags_of(item_id, c.user_id)}


def _type_tag(qtbot, window, name: str) -> None:
    edit = window.detail.tag_edit
    edit.setFocus()
    qtbot.keyClicks(edit, name)
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    landed(window)  # the tag is written in the background


def test_import_sample_fills_grid_and_hides_progress(qtbot, window, sample_folder):
    handle = window.start_import(sample_folder)
    qtbot.waitUntil(lambda: window.job_status.isVisible())
    assert window.job_status.handle is handle
    qtbot.waitUntil(lambda: not handle.running, timeout=60_000)
    assert handle.error is None
    qtbot.waitUntil(lambda: window.model.rowCount() == sample.ITEMS)
    assert handle.result.added == sample.ITEMS and not handle.result.cancelled
    # Then the new items are analysed, with their own progress, and the bar goes away.
    analysis = window.controller.suggest.analyse_handle
    assert analysis is not None and window.job_status.handle is analysis
    qtbot.waitUntil(lambda: not analysis.running, timeout=60_000)
    assert not window.job_status.isVisible()
    assert f"{sample.ITEMS} items" in window.count_label.text()
    # Items render: a name for every row, and the documents get a placeholder icon.
    names = {window.model.index(r).data() for r in range(sample.ITEMS)}
    assert "espresso.jpg" in names
    assert all(
        not window.model.index(r).data(Qt.ItemDataRole.DecorationRole).isNull()
        for r in range(sample.ITEMS)
    )
    # Thumbnails arrive lazily from the cache.
    photo_rows = [r for r in range(sample.ITEMS) if window.model.item_at(r).kind == "photo"]
    assert len(photo_rows) == sample.PHOTOS
    qtbot.waitUntil(
        lambda: all(window.thumbs.pixmap(window.model.item_id(r)) is not None for r in photo_rows),
        timeout=20_000,
    )
    # File keywords became tags, shown in the sidebar hierarchy.
    assert window.sidebar.entry("animals|pets|cat") is not None


def test_add_tag_then_undo_redo(qtbot, window, imported):
    window.grid.select_rows([1])
    item_id = window.model.item_id(1)
    assert window.grid.selected_ids() == [item_id]
    _type_tag(qtbot, window, "favourite")
    assert "favourite" in _tag_names(window, item_id)
    assert "favourite" in window.detail.chip_paths()
    assert window.detail.tag_edit.text() == ""
    settle_sidebar(qtbot, window)  # counts are read in a worker
    assert window.sidebar.entry("favourite") is not None

    # Ctrl+Z right after typing the tag undoes the tag (the empty tag field lets it through).
    qtbot.keyClick(window.detail.tag_edit, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    landed(window)
    assert "favourite" not in _tag_names(window, item_id)
    assert "favourite" not in window.detail.chip_paths()

    qtbot.keyClick(
        window.grid,
        Qt.Key.Key_Z,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    landed(window)
    assert "favourite" in _tag_names(window, item_id)
    assert "favourite" in window.detail.chip_paths()
    window.undo_action.trigger()
    qtbot.keyClick(window.grid, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    landed(window)  # the redo ran after the undo it follows
    assert "favourite" in _tag_names(window, item_id)


def test_remove_tag_with_chip(qtbot, window, imported):
    window.grid.select_rows([0])
    item_id = window.model.item_id(0)
    _type_tag(qtbot, window, "to remove")
    chip = window.detail.chip("to remove")
    assert chip is not None
    qtbot.mouseClick(chip, Qt.MouseButton.LeftButton)
    landed(window)
    assert "to remove" not in _tag_names(window, item_id)
    assert "to remove" not in window.detail.chip_paths()


def test_multi_select_tags_all(qtbot, window, imported):
    window.grid.select_rows([2, 4, 6])
    ids = window.grid.selected_ids()
    assert len(ids) == 3
    assert window.detail.title.text() == "3 items selected"
    _type_tag(qtbot, window, "shortlist")
    for item_id in ids:
        assert "shortlist" in _tag_names(window, item_id)
    others = set(window.model.ids()) - set(ids)
    assert not any("shortlist" in _tag_names(window, i) for i in others)
    assert "shortlist" in window.detail.chip_paths()


def test_search_and_bad_expression(qtbot, window, imported):
    c = window.controller
    expected = [i for i in window.model.ids() if "cat" in _tag_names(window, i)]
    assert sorted(Path(it.paths[0]).name for it in c.library.items.get_many(expected)) == [
        "chelsea-portrait.jpg", "chelsea-the-cat.jpg"]

    edit = window.search.edit
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(edit, "cat")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert window.model.ids() == expected
    assert window.search.error.isHidden()

    edit.setText("cat AND")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert window.search.error.isVisible()
    assert window.search.error.text()
    assert window.model.ids() == expected  # the last good result stays

    # The window keeps working: tag the shown item, then a good search clears the error.
    window.grid.select_rows([0])
    _type_tag(qtbot, window, "still works")
    assert "still works" in _tag_names(window, expected[0])
    edit.setText("NOT cat")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert window.search.error.isHidden()
    assert len(window.model.ids()) == sample.ITEMS - 2

    # Clearing the field shows everything again.
    edit.clear()
    assert window.model.rowCount() == sample.ITEMS


def test_a_search_that_matches_nothing_says_why(qtbot, window, imported):
    edit = window.search.edit
    edit.setText("united kingdom")  # two tags, neither in the sample: an empty grid
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert window.model.rowCount() == 0
    note = window.search.error
    assert note.isVisible() and "united, kingdom" in note.text()
    assert '"united kingdom"' in note.text()  # how to search one tag with a space
    assert not edit.styleSheet()  # a note, not an error: the field is not marked
    edit.setText("cat AND NOT cat")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert window.model.rowCount() == 0 and "listed on the left" in note.text()
    edit.setText("cat")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert window.model.rowCount() == 2 and note.isHidden()


def test_sidebar_tag_and_untagged(qtbot, window, imported):
    entry = window.sidebar.entry("animals|pets|cat")
    window.sidebar.tree.itemClicked.emit(entry, 0)
    assert len(window.model.ids()) == 2  # the cat and its portrait
    assert "cat" in window.search.text()
    parent = window.sidebar.entry("animals")
    assert "(3)" in parent.text(0)  # counts include descendants: 2 cats and a raccoon

    untagged = window.controller.library.queries.untagged(window.controller.user_id)
    window.sidebar.tree.itemClicked.emit(window.sidebar.entry("\x00untagged"), 0)
    assert sorted(window.model.ids()) == sorted(untagged)
    window.sidebar.tree.itemClicked.emit(window.sidebar.entry("\x00all"), 0)
    assert window.model.rowCount() == sample.ITEMS


def test_keyboard_navigation_and_add_tag_shortcut(qtbot, window, imported):
    window.grid.setFocus()
    window.grid.select_rows([0])
    first, second = window.model.item_id(0), window.model.item_id(1)
    qtbot.keyClick(window.grid, Qt.Key.Key_J)
    assert window.grid.selected_ids() == [second]
    qtbot.keyClick(window.grid, Qt.Key.Key_K)
    assert window.grid.selected_ids() == [first]
    qtbot.keyClick(window.grid, Qt.Key.Key_Right)
    assert window.grid.selected_ids() == [second]
    qtbot.keyClick(window.grid, Qt.Key.Key_Left)
    assert window.grid.selected_ids() == [first]
    qtbot.keyClick(window.grid, Qt.Key.Key_T)
    assert window.detail.tag_edit.hasFocus()
    # While typing a tag, letters are text, not shortcuts.
    qtbot.keyClicks(window.detail.tag_edit, "jkt")
    assert window.detail.tag_edit.text() == "jkt"
    assert window.grid.selected_ids() == [first]


def test_n_jumps_to_the_next_untagged_item_and_wraps(qtbot, window, imported):
    untagged = set(window.controller.untagged_ids())
    ids = window.model.ids()
    rows = [r for r, i in enumerate(ids) if i in untagged]
    assert 1 < len(rows) < len(ids)  # the sample has tagged and untagged items
    window.grid.setFocus()
    window.grid.select_rows([rows[0]])
    qtbot.keyClick(window.grid, Qt.Key.Key_N)
    assert window.grid.selected_ids() == [ids[rows[1]]]
    window.grid.select_rows([rows[-1]])
    qtbot.keyClick(window.grid, Qt.Key.Key_N)
    assert window.grid.selected_ids() == [ids[rows[0]]]  # wraps past the end
    window.controller.add_tags(list(untagged), ["done"])
    qtbot.waitUntil(lambda: not window.controller.untagged_ids())
    qtbot.keyClick(window.grid, Qt.Key.Key_N)  # nothing left: selection stays, a message says so
    assert window.grid.selected_ids() == [ids[rows[0]]]
    assert "Every item shown has your tags" in window.statusBar().currentMessage()


def test_reimport_is_incremental(qtbot, window, imported, sample_folder):
    report = run_import(qtbot, window, sample_folder)
    assert report.added == 0 and report.unchanged == sample.ITEMS
    assert window.model.rowCount() == sample.ITEMS


def test_sidebar_opens_new_top_level_tags_and_keeps_user_state(qtbot, window, imported):
    animals = window.sidebar.entry("animals")
    assert animals.isExpanded()
    animals.setExpanded(False)
    window.grid.select_rows([0])
    _type_tag(qtbot, window, "brand new")
    settle_sidebar(qtbot, window)
    assert window.sidebar.entry("brand new") is not None
    assert not window.sidebar.entry("animals").isExpanded()  # the user's collapse survives


def test_type_a_tag_with_autocomplete_of_hierarchy_and_aliases(qtbot, window, imported):
    c = window.controller
    c.add_tags([window.model.item_id(0)], ["animals|pets|cat"])
    landed(window)
    c.library.tags.add_alias("cat", "kitty")
    window.refresh_tags()
    settle_sidebar(qtbot, window)  # the completions come with the sidebar's read
    window.grid.setFocus()
    window.grid.select_rows([1])
    target = window.model.item_id(1)
    edit = window.detail.tag_edit
    completer = edit.completer()

    def choose(typed: str, expected: str) -> None:
        qtbot.keyClick(window.grid, Qt.Key.Key_T)
        qtbot.keyClicks(edit, typed)
        qtbot.waitUntil(lambda: completer.popup().isVisible())
        shown = [completer.completionModel().index(r, 0).data()
                 for r in range(completer.completionCount())]
        assert expected in shown
        row = shown.index(expected)
        popup = completer.popup()
        # Offscreen there is no keyboard grab, so the keys go to the popup as a grab would.
        for _ in range(row + 1):  # the popup starts with nothing highlighted
            qtbot.keyClick(popup, Qt.Key.Key_Down)
        assert edit.text() == expected  # the highlighted completion is in the field
        rect = popup.visualRect(popup.currentIndex())
        qtbot.mouseClick(popup.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        assert edit.text() == expected and not popup.isVisible()
        qtbot.keyClick(edit, Qt.Key.Key_Return)  # add it
        landed(window)
        _activate(qtbot, window)  # offscreen, the closed popup kept the activation
        window.focus_grid()

    choose("pets", "animals|pets|cat")  # a middle level finds the full path
    assert "animals|pets|cat" in c.tags_of([target])
    c.undo()
    landed(window)
    _activate(qtbot, window)
    assert "animals|pets|cat" not in c.tags_of([target])
    choose("kit", "kitty → animals|pets|cat")  # an alias finds its tag
    assert list(c.tags_of([target])).count("animals|pets|cat") == 1
    assert not any("kitty" in path for path in c.tags_of([target]))


def test_a_count_change_relabels_the_sidebar_in_place(qtbot, window, imported):
    coffee = window.sidebar.entry("coffee")
    assert coffee.text(0) == "coffee  (2)"
    untagged = window.sidebar.entry(UNTAGGED).text(0)
    target = next(i for i in window.controller.untagged_ids())
    window.controller.add_tags([target], ["coffee"])
    settle_sidebar(qtbot, window)
    assert window.sidebar.entry("coffee") is coffee  # relabelled, not rebuilt
    assert coffee.text(0) == "coffee  (3)"
    assert window.sidebar.entry(UNTAGGED).text(0) != untagged


def test_enter_in_the_tag_field_gives_the_keys_back_to_the_items(qtbot, window, imported):
    window.show()
    qtbot.waitExposed(window)
    window.grid.setFocus()
    window.grid.select_rows([0])
    first, second = window.model.item_id(0), window.model.item_id(1)
    qtbot.keyClick(window.grid, Qt.Key.Key_T)
    assert window.detail.tag_edit.hasFocus()
    qtbot.keyClicks(window.detail.tag_edit, "keyboard")
    qtbot.keyClick(window.detail.tag_edit, Qt.Key.Key_Return)
    assert window.grid.hasFocus()  # not the field: the next keys are commands again
    qtbot.keyClick(window.focusWidget(), Qt.Key.Key_J)
    assert window.grid.selected_ids() == [second]
    assert window.detail.tag_edit.text() == ""  # "j" was not typed into the field
    # Esc leaves the field too, without adding what was typed
    qtbot.keyClick(window.grid, Qt.Key.Key_T)
    qtbot.keyClicks(window.detail.tag_edit, "half")
    qtbot.keyClick(window.detail.tag_edit, Qt.Key.Key_Escape)
    assert window.grid.hasFocus()
    landed(window)  # the tag typed first was written meanwhile, in the background
    assert "keyboard" in _tag_names(window, first)
    assert "half" not in _tag_names(window, second)
