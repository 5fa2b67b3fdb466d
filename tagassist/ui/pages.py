"""The middle of the window: the thumbnail grid, one photo large, or an empty library's call
to action, one at a time, with the keyboard focus following the page shown."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QStackedWidget

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from tagassist.ui.empty_state import EmptyState
    from tagassist.ui.grid_view import ThumbnailGrid
    from tagassist.ui.item_model import ItemListModel
    from tagassist.ui.viewer import PhotoViewer


class ItemPages(QStackedWidget):
    def __init__(self, grid: ThumbnailGrid, viewer: PhotoViewer, empty: EmptyState,
                 model: ItemListModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._grid, self._viewer, self._empty, self._model = grid, viewer, empty, model
        self.addWidget(grid)
        self.addWidget(viewer)
        self.addWidget(empty)

    # -- the large viewer ----------------------------------------------------------------------
    def viewing(self) -> bool:
        return self.currentWidget() is self._viewer

    def open_viewer(self) -> None:
        if self._model.rowCount() == 0:
            return
        if self._grid.currentIndex().row() < 0:
            self._grid.select_rows([0])
        self.setCurrentWidget(self._viewer)
        self.show_in_viewer()
        # The hidden grid cannot keep the focus; the window's keys (J/K, 1–9, T) act on its
        # selection all the same.
        self._viewer.setFocus()

    def close_viewer(self) -> None:
        self.setCurrentWidget(self._grid)
        self._grid.scrollTo(self._grid.currentIndex())
        self._grid.setFocus()

    def toggle_viewer(self) -> None:
        if self.viewing():
            self.close_viewer()
        else:
            self.open_viewer()

    def show_in_viewer(self) -> None:
        """The grid's current item, large (the viewer follows the grid's selection)."""
        row = self._grid.currentIndex().row()
        item = self._model.item_at(row) if row >= 0 else None
        self._viewer.show_item(item,
                               f"{row + 1} of {self._model.rowCount()}" if row >= 0 else "")

    # -- the empty library ---------------------------------------------------------------------
    def show_empty_state(self, empty: bool) -> None:
        """The call to action instead of the grid while the library has no items."""
        current = self.currentWidget()
        if empty and current is not self._empty:
            focus = QApplication.focusWidget()
            self.setCurrentWidget(self._empty)
            if focus is None or focus in (self._grid, self._viewer):
                self._empty.open_button.setFocus(Qt.FocusReason.OtherFocusReason)
        elif not empty and current is self._empty:
            had_focus = self._empty.isAncestorOf(QApplication.focusWidget())
            self.setCurrentWidget(self._grid)
            if had_focus:
                self._grid.setFocus(Qt.FocusReason.OtherFocusReason)

    def empty_state_shown(self) -> bool:
        return self.currentWidget() is self._empty
