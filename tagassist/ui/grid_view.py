"""The thumbnail grid: a QListView in icon mode over :class:`ItemListModel`."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QSize, Signal
from PySide6.QtWidgets import QAbstractItemView, QListView, QWidget

from tagassist.ui.item_model import ItemIdRole

ICON = 128


class ThumbnailGrid(QListView):
    selection_changed = Signal(list)  # selected item ids, in grid order

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("grid")
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.set_thumbnail_size(ICON)
        # Uniform sizes let the view lay out 100k rows without asking the model for each one.
        self.setUniformItemSizes(True)
        self.setWordWrap(False)
        self.setTextElideMode(self.textElideMode().ElideMiddle)
        self.setSpacing(4)

    def set_thumbnail_size(self, size: int) -> None:
        """Icon edge in pixels (the cached thumbnails are 256 px, so up to that is sharp)."""
        self.setIconSize(QSize(size, size))
        self.setGridSize(QSize(size + 28, size + 40))  # room for the name below the icon

    def setModel(self, model) -> None:  # noqa: N802 - Qt API
        super().setModel(model)
        self.selectionModel().selectionChanged.connect(self._emit_selection)
        model.modelReset.connect(self._emit_selection)

    def selected_ids(self) -> list[int]:
        rows = sorted(i.row() for i in self.selectionModel().selectedIndexes())
        return [self.model().index(r).data(ItemIdRole) for r in rows]

    def select_rows(self, rows: list[int]) -> None:
        sm = self.selectionModel()
        sm.clearSelection()
        for n, row in enumerate(rows):
            idx = self.model().index(row)
            flags = QItemSelectionModel.SelectionFlag.Select
            if n == 0:
                sm.setCurrentIndex(idx, flags)
            else:
                sm.select(idx, flags)
        if rows and self.isVisible():
            # A hidden grid (opening, or behind the viewer) would lay out every row to scroll:
            # over a second at 100k items.  It starts at the top; the viewer scrolls on close.
            self.scrollTo(self.model().index(rows[0]))

    def step(self, delta: int) -> None:
        """Move the current item by ``delta`` and select only it (next/previous actions)."""
        count = self.model().rowCount()
        if not count:
            return
        cur = self.currentIndex().row()
        row = 0 if cur < 0 else max(0, min(count - 1, cur + delta))
        self.select_rows([row])

    def _emit_selection(self, *_args) -> None:
        self.selection_changed.emit(self.selected_ids())
