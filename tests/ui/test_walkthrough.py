"""The README's keyboard walkthrough, replayed: every item of the sample library tagged with
key presses alone (sent to whichever widget has focus, as a keyboard would)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget

from tests import sample
from tests.ui.conftest import landed
from tests.ui.test_suggestions import wait_for

TAG = "walkthrough"
# Time between keys, as a person leaves: a closing popup hands focus back asynchronously.
KEY_GAP_MS = 50


def focused(qtbot, window) -> QWidget:
    """The widget a keyboard would type into now: an open popup (the tag completer's list),
    else the focused widget."""
    if QApplication.activePopupWidget() is not None:
        return QApplication.activePopupWidget()
    # The offscreen platform can drop the window's activation (a transient tooltip or popup
    # came and went) without handing it back as a desktop does; window shortcuts need it.
    if QApplication.activeWindow() is not window:
        window.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    return QApplication.focusWidget() or window


def press(qtbot, window, key: Qt.Key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(focused(qtbot, window), key, modifier)
    qtbot.wait(KEY_GAP_MS)


def test_tag_the_whole_sample_with_the_keyboard(qtbot, suggest_sample):
    window = suggest_sample
    c = window.controller
    count = window.model.rowCount()
    assert count == sample.ITEMS  # the sample: 30 photos + 4 documents

    press(qtbot, window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)  # Ctrl+1: all items
    press(qtbot, window, Qt.Key.Key_Escape)  # Esc: to the grid; the first item is current
    for _ in range(count):
        wait_for(qtbot, window, window.grid.selected_ids())  # the suggestions a person reads
        press(qtbot, window, Qt.Key.Key_1)  # 1: accept the top suggestion
        press(qtbot, window, Qt.Key.Key_T)  # T: into the tag field
        qtbot.keyClicks(focused(qtbot, window), TAG)
        press(qtbot, window, Qt.Key.Key_Return)  # Enter: add it (the completer may show it)
        press(qtbot, window, Qt.Key.Key_Escape)  # Esc: back to the grid
        press(qtbot, window, Qt.Key.Key_J)  # J: next item
    landed(window)  # the writes the keys queued, in order

    ids = [window.model.item_id(r) for r in range(count)]
    for item_id in ids:
        names = {t.name for t in c.library.assignments.tags_of(item_id, c.user_id)}
        assert TAG in names, item_id
    accepted = {d.item_id for d in c.library.assignments.decisions(c.user_id) if d.accepted}
    assert accepted == set(ids)  # one accepted suggestion on every item
    assert c.untagged_ids() == []
