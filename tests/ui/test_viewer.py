"""The large viewer: Space/Enter opens the current photo big, J/K step, Esc goes back."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from tests import sample


def _row_of(window, name: str) -> int:
    for row in range(window.model.rowCount()):
        if Path(window.model.item_at(row).paths[0]).name == name:
            return row
    raise AssertionError(name)


def _loaded(window) -> bool:
    pm = window.viewer.picture.pixmap()
    return pm is not None and not pm.isNull()


def test_space_opens_the_photo_large_and_keys_step_and_close(qtbot, window, imported):
    cat = _row_of(window, "chelsea-the-cat.jpg")
    window.grid.setFocus()
    window.grid.select_rows([cat])
    qtbot.keyClick(window.grid, Qt.Key.Key_Space)
    assert window.viewing()
    qtbot.waitUntil(lambda: _loaded(window), timeout=10_000)
    pm = window.viewer.picture.pixmap()
    assert pm.width() > 300  # larger than the grid's or the panel's preview
    assert "chelsea-the-cat.jpg" in window.viewer.caption.text()
    assert f"{cat + 1} of {sample.ITEMS}" in window.viewer.caption.text()

    assert window.focusWidget() is window.viewer
    qtbot.keyClick(window.viewer, Qt.Key.Key_J)  # the window's keys act on the selection
    nxt = Path(window.model.item_at(cat + 1).paths[0]).name
    assert window.viewer.caption.text().startswith(nxt)
    qtbot.keyClick(window.viewer, Qt.Key.Key_Escape)
    assert not window.viewing()
    assert window.grid.currentIndex().row() == cat + 1
    assert window.focusWidget() is window.grid


def test_enter_opens_and_space_closes(qtbot, window, imported):
    window.grid.setFocus()
    window.grid.select_rows([0])
    qtbot.keyClick(window.grid, Qt.Key.Key_Return)
    assert window.viewing()
    qtbot.keyClick(window.viewer, Qt.Key.Key_Space)
    assert not window.viewing()


def test_documents_missing_and_broken_files_say_why(qtbot, window, imported):
    window.grid.setFocus()
    doc = next(r for r in range(sample.ITEMS) if window.model.item_at(r).kind == "document")
    window.grid.select_rows([doc])
    window.open_viewer()
    assert "document" in window.viewer.picture.text()

    cat = _row_of(window, "chelsea-the-cat.jpg")
    Path(window.model.item_at(cat).paths[0]).write_bytes(b"\xff\xd8\xff\xe0 not a jpeg" * 20)
    window.grid.select_rows([cat])
    qtbot.waitUntil(lambda: window.viewer.picture.text().startswith("Cannot show"),
                    timeout=10_000)
    assert window.viewing()  # the window goes on; the next photo shows normally
    window.grid.step(1)
    qtbot.waitUntil(lambda: _loaded(window) or "document" in window.viewer.picture.text(),
                    timeout=10_000)

    other = next(r for r in range(sample.ITEMS)
                 if r != cat and window.model.item_at(r).kind == "photo")
    moved = Path(window.model.item_at(other).paths[0])
    moved.rename(moved.with_suffix(".moved"))
    window.grid.select_rows([other])
    assert "missing" in window.viewer.picture.text()
