"""A wrapping layout for tag chips (the classic Qt "flow layout" example, trimmed).

Hidden widgets take no room (a panel may keep spare chips hidden in it).  The arrangement is
computed once per change: ``heightForWidth`` answers from a cache and ``setGeometry`` skips an
unchanged rectangle until the layout is invalidated (an item added, taken, reordered, or a
chip whose size changed).
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QLayout, QLayoutItem, QWidget


class FlowLayout(QLayout):
    def __init__(self, parent: QWidget | None = None, spacing: int = 4) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._spacing = spacing
        self._hfw: tuple[int, int] | None = None  # (width, height) last answered
        self._arranged: QRect | None = None  # the rectangle the items were last placed in
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item: QLayoutItem) -> None:  # noqa: N802 - Qt API
        self._items.append(item)
        self.invalidate()

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # noqa: N802
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # noqa: N802
        if not 0 <= index < len(self._items):
            return None
        item = self._items.pop(index)
        self.invalidate()
        return item

    def set_order(self, widgets: list[QWidget]) -> None:
        """Put these widgets' items first, in this order; the others keep theirs after them."""
        rank = {id(w): n for n, w in enumerate(widgets)}
        order = sorted(range(len(self._items)),
                       key=lambda i: (rank.get(id(self._items[i].widget()), len(rank)), i))
        if order != list(range(len(self._items))):
            self._items = [self._items[i] for i in order]
            self.invalidate()

    def invalidate(self) -> None:
        self._hfw = None
        self._arranged = None
        super().invalidate()

    def expandingDirections(self) -> Qt.Orientation:  # noqa: N802
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        if self._hfw is None or self._hfw[0] != width:
            self._hfw = (width, self._arrange(QRect(0, 0, width, 0), move=False))
        return self._hfw[1]

    def setGeometry(self, rect: QRect) -> None:  # noqa: N802
        super().setGeometry(rect)
        if rect != self._arranged:
            self._arrange(rect, move=True)
            self._arranged = QRect(rect)

    def sizeHint(self) -> QSize:  # noqa: N802
        return self.minimumSize()

    def minimumSize(self) -> QSize:  # noqa: N802
        size = QSize()
        for item in self._items:
            if not item.isEmpty():
                size = size.expandedTo(item.minimumSize())
        return size

    def _arrange(self, rect: QRect, move: bool) -> int:
        x, y, line_height = rect.x(), rect.y(), 0
        for item in self._items:
            if item.isEmpty():  # a hidden widget
                continue
            hint = item.sizeHint()
            if x + hint.width() > rect.right() + 1 and line_height > 0:
                x, y = rect.x(), y + line_height + self._spacing
                line_height = 0
            if move:
                item.setGeometry(QRect(QPoint(x, y), hint))
            x += hint.width() + self._spacing
            line_height = max(line_height, hint.height())
        return y + line_height - rect.y()
