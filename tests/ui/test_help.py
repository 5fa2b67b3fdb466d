"""The keyboard help overlay: opened by F1 or ?, built from the window's real actions, closed
by Esc; ? stays text while a field has focus."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt


def test_f1_opens_help_listing_the_real_keys_and_esc_closes(qtbot, window, imported):
    window.grid.setFocus()
    qtbot.keyClick(window.grid, Qt.Key.Key_F1)
    help_ = window.help
    assert help_.isVisible() and help_.geometry() == window.rect()
    rows = dict(help_.rows())
    assert rows["Accept suggestion 1–9"] == "1 … 9"
    assert rows["Reject suggestion 1–9"] == "Alt+1 … Alt+9"
    assert rows["Find"] == "Ctrl+F"
    assert rows["Add tag to selection"] == "T"
    assert rows["Next item"] == "Right, J"
    text = help_.sheet.text()
    assert "Ctrl+F" in text and "Alt+1 … Alt+9" in text and "Keyboard shortcuts" in text

    # While it shows, keys go to the help, not to the actions behind it.
    selected = window.grid.selected_ids()
    qtbot.keyClick(help_, Qt.Key.Key_J)
    assert window.grid.selected_ids() == selected and help_.isVisible()

    qtbot.keyClick(help_, Qt.Key.Key_Escape)
    assert not help_.isVisible()
    assert window.grid.hasFocus()  # focus goes back where it was


def test_question_mark_toggles_help_but_is_text_in_a_field(qtbot, window, imported):
    window.grid.setFocus()
    qtbot.keyClick(window.grid, Qt.Key.Key_Question)
    assert window.help.isVisible()
    qtbot.keyClick(window.help, Qt.Key.Key_Question)
    assert not window.help.isVisible()

    window.detail.tag_edit.setFocus()
    qtbot.keyClicks(window.detail.tag_edit, "?")
    assert window.detail.tag_edit.text() == "?"
    assert not window.help.isVisible()


def test_every_shortcut_is_listed(window):
    listed = " ".join(keys for _text, keys in window.help.rows())
    for action in window.actions():
        if re.search(r" [2-8]$", action.text()):
            continue  # the middle of a folded "1 … 9" family
        for seq in action.shortcuts():
            assert seq.toString() in listed, action.text()


def test_esc_leaves_the_tag_field_for_the_grid(qtbot, window, imported):
    qtbot.keyClick(window.grid, Qt.Key.Key_T)
    assert window.detail.tag_edit.hasFocus()
    qtbot.keyClick(window.detail.tag_edit, Qt.Key.Key_Escape)
    assert window.grid.hasFocus()
