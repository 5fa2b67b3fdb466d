"""The tag field's completion list: Enter adds the tag the list highlights, Esc closes the list
(tagassist/ui/tag_completer.py).  Keys go where Qt sends them: to the list while it shows."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from tests.ui.conftest import landed, settle_sidebar


def _press(qtbot, window, key) -> None:
    popup = window.detail.tag_edit.completer().popup()
    target = popup if popup.isVisible() else QApplication.focusWidget() or window
    qtbot.keyClick(target, key)


def _type(qtbot, window, text: str) -> None:
    for ch in text:
        _press(qtbot, window, ch)
        qtbot.wait(5)  # the highlight follows each key once the list is filtered


def _start_typing(qtbot, window, row: int) -> int:
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    settle_sidebar(qtbot, window)  # the completions come with the sidebar's counts
    window.grid.setFocus()
    window.grid.select_rows([row])
    qtbot.keyClick(window.grid, Qt.Key.Key_T)
    assert window.detail.tag_edit.hasFocus()
    return window.model.item_id(row)


def _tags(window, item_id: int) -> set[str]:
    landed(window)
    return {t.name for t in window.controller.library.assignments.tags_of(
        item_id, window.controller.user_id)}


def test_enter_adds_the_existing_tag_that_starts_with_what_was_typed(qtbot, window, imported):
    item = _start_typing(qtbot, window, 0)
    _type(qtbot, window, "COF")
    popup = window.detail.tag_edit.completer().popup()
    qtbot.waitUntil(lambda: popup.currentIndex().data() == "coffee")
    assert window.detail.tag_edit.text() == "COF"  # highlighted, not yet put in the field
    _press(qtbot, window, Qt.Key.Key_Return)
    assert "coffee" in _tags(window, item) and "COF" not in _tags(window, item)
    assert not popup.isVisible() and window.grid.hasFocus()
    assert {t.name for t in window.controller.library.tags.all()} >= {"coffee"}
    assert not [t for t in window.controller.library.tags.all() if t.name.casefold() == "cof"]


def test_text_found_only_inside_a_tag_is_added_as_typed(qtbot, window, imported):
    item = _start_typing(qtbot, window, 0)
    _type(qtbot, window, "offe")
    popup = window.detail.tag_edit.completer().popup()
    qtbot.waitUntil(popup.isVisible)
    assert not popup.currentIndex().isValid()  # "coffee" contains it, does not start with it
    _press(qtbot, window, Qt.Key.Key_Return)
    assert "offe" in _tags(window, item)
    assert window.grid.hasFocus()


def test_esc_closes_the_list_then_enter_adds_exactly_what_was_typed(qtbot, window, imported):
    item = _start_typing(qtbot, window, 0)
    _type(qtbot, window, "cof")
    popup = window.detail.tag_edit.completer().popup()
    qtbot.waitUntil(lambda: popup.currentIndex().isValid())
    _press(qtbot, window, Qt.Key.Key_Escape)
    assert not popup.isVisible()
    assert window.detail.tag_edit.hasFocus() and window.detail.tag_edit.text() == "cof"
    _press(qtbot, window, Qt.Key.Key_Return)
    assert "cof" in _tags(window, item)
    assert window.grid.hasFocus()
