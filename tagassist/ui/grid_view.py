"""The thumbnail grid: a QListView in icon mode over :class:`ItemListModel`.

Every cell has the same size: a square thumbnail box (the icon size) and two lines of text
below it.  :class:`CellDelegate` fits each thumbnail, whatever its aspect, inside the box and
draws the name on up to two lines, eliding it in the middle only when it does not fit in two.
The size is fixed, not taken from an item, so uniform item sizes (what keeps 100k rows fast)
cannot size every cell after the first item: a 3:2 first photo used to leave no room for the
names under 4:3 ones.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QIcon,
    QPainter,
    QPalette,
    QPen,
    QPixmap,
    QTextLayout,
    QTextOption,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from tagassist.ui.item_model import CellRole, ItemIdRole

if TYPE_CHECKING:
    from PySide6.QtCore import QAbstractItemModel, QEvent

ICON = 128
PAD = 4  # around the box and the text, inside the cell
GAP = 4  # between the box and the text
TEXT_LINES = 2
EXTRA_WIDTH = 28  # the cell is this much wider than the box: room for longer name lines
ELLIPSIS = "…"


def _middle_elided(fm: QFontMetrics, text: str, width: int) -> str:
    return fm.elidedText(text, Qt.TextElideMode.ElideMiddle, width)


def name_lines(text: str, font: QFont, width: int, lines: int = TEXT_LINES) -> list[str]:
    """``text`` on at most ``lines`` lines of ``width`` px: wrapped at word boundaries (or
    anywhere, for a long word), and elided in the middle of what is left for the last line
    only when it does not fit, so the start and the end of the name (its extension, its
    year) stay visible."""
    fm = QFontMetrics(font)
    if not text or fm.horizontalAdvance(text) <= width:
        return [text]
    layout = QTextLayout(text, font)
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    layout.setTextOption(option)
    layout.beginLayout()
    spans: list[tuple[int, int]] = []
    while True:
        line = layout.createLine()
        if not line.isValid():
            break
        line.setLineWidth(width)
        spans.append((line.textStart(), line.textLength()))
    layout.endLayout()
    out = [text[s:s + n].rstrip() for s, n in spans[:lines - 1]]
    rest_start = spans[lines - 1][0] if len(spans) >= lines else len(text)
    rest = text[rest_start:].strip()
    if rest:
        out.append(rest if fm.horizontalAdvance(rest) <= width
                   else _middle_elided(fm, rest, width))
    # A line the layout could not break narrowly enough (it never happens with "anywhere"
    # wrapping, but the drawn text must fit whatever the font does).
    return [ln if fm.horizontalAdvance(ln) <= width else _middle_elided(fm, ln, width)
            for ln in out if ln] or [_middle_elided(fm, text, width)]


_SELECTED = QStyle.StateFlag.State_Selected
_HOVER = QStyle.StateFlag.State_MouseOver
_FOCUS = QStyle.StateFlag.State_HasFocus
_CENTRED_TOP = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop
_ANTIALIASING = QPainter.RenderHint.Antialiasing
_DISPLAY, _DECORATION = Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.DecorationRole


class CellDelegate(QStyledItemDelegate):
    """Paints a cell: the thumbnail fitted in its box, the name on up to two lines.

    ``CellRole`` ((name, ``QPixmap``), one model call) is asked first, ``DisplayRole`` and
    ``DecorationRole`` (a ``QIcon``) otherwise, so the delegate works over any model.  The
    geometry is worked out once per icon size and font; scaled thumbnails and wrapped names
    are cached.  ``paint`` runs for every visible cell on every scroll step, in Python, so it
    does as few calls as it can.
    """

    def __init__(self, view: QListView) -> None:
        super().__init__(view)
        self._view = view
        self._lines: OrderedDict[tuple[str, int], list[str]] = OrderedDict()
        self._scaled: OrderedDict[tuple[int, int, int], QPixmap] = OrderedDict()
        self.forget_sizes()

    # -- geometry ------------------------------------------------------------------------------
    def forget_sizes(self) -> None:
        """After the icon size or the font changed: work the geometry out again."""
        self._scaled.clear()
        self._lines.clear()
        self._font = QFont(self._view.font())
        self._fm = QFontMetrics(self._font)
        self._line_h = self._fm.lineSpacing()
        self._box = self._view.iconSize().width()

    def box_size(self) -> int:
        return self._box

    def cell_size(self) -> QSize:
        return QSize(self._box + EXTRA_WIDTH,
                     PAD + self._box + GAP + TEXT_LINES * self._line_h + PAD)

    def thumb_rect(self, cell: QRect) -> QRect:
        box = self._box
        return QRect(cell.x() + (cell.width() - box) // 2, cell.y() + PAD, box, box)

    def text_rect(self, cell: QRect) -> QRect:
        """Where the name is drawn in ``cell``: the full cell width less the padding, two
        lines high, below the thumbnail box."""
        return QRect(cell.x() + PAD, cell.y() + PAD + self._box + GAP, cell.width() - 2 * PAD,
                     TEXT_LINES * self._line_h)

    def text_lines(self, text: str, width: int) -> list[str]:
        """The lines ``text`` is drawn on in a text rect ``width`` px wide (cached)."""
        key = (text, width)
        lines = self._lines.get(key)
        if lines is None:
            lines = name_lines(text, self._font, width)
            self._lines[key] = lines
            if len(self._lines) > 4000:
                self._lines.popitem(last=False)
        return lines

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:  # noqa: N802
        return self.cell_size()

    # -- painting ------------------------------------------------------------------------------
    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        cell = option.rect
        x, y, width = cell.x(), cell.y(), cell.width()
        state = option.state
        painter.save()
        if state & (_SELECTED | _HOVER | _FOCUS):
            self._paint_state(painter, option, state)

        cached = index.data(CellRole)
        if cached is not None:
            text, pixmap = cached
        else:
            text, pixmap = index.data(_DISPLAY), self._icon_pixmap(index)
        if pixmap is not None and not pixmap.isNull():
            box = self._box
            scaled = self._fitted(pixmap, box)
            dpr = scaled.devicePixelRatio()
            w, h = scaled.width() / dpr, scaled.height() / dpr
            # Centred across, sitting on the box's bottom: the names line up under any aspect.
            painter.drawPixmap(int(x + (width - w) / 2), int(y + PAD + box - h), scaled)

        if text:
            line_h = self._line_h
            left, top, text_w = x + PAD, y + PAD + self._box + GAP, width - 2 * PAD
            painter.setFont(self._font)
            painter.setPen(option.palette.color(QPalette.ColorRole.Text))
            for n, line in enumerate(self.text_lines(str(text), text_w)):
                painter.drawText(QRect(left, top + n * line_h, text_w, line_h), _CENTRED_TOP,
                                 line)
        painter.restore()

    @staticmethod
    def _paint_state(painter: QPainter, option: QStyleOptionViewItem,
                     state: QStyle.StateFlag) -> None:
        """The selection, hover and keyboard-focus marks behind a cell."""
        cell = option.rect
        highlight = option.palette.color(QPalette.ColorRole.Highlight)
        painter.setRenderHint(_ANTIALIASING)
        frame = cell.adjusted(1, 1, -1, -1)
        if state & _SELECTED:
            fill = QColor(highlight)
            fill.setAlpha(60)
            painter.setPen(QPen(highlight, 1.5))
            painter.setBrush(fill)
            painter.drawRoundedRect(frame, 5, 5)
        elif state & _HOVER:  # a faint wash of the text colour: darker on light, lighter on dark
            hover = QColor(option.palette.color(QPalette.ColorRole.Text))
            hover.setAlpha(18)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(hover)
            painter.drawRoundedRect(frame, 5, 5)
        if state & _FOCUS:  # the current item, for the keyboard
            painter.setPen(QPen(highlight, 1, Qt.PenStyle.DotLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(cell.adjusted(2, 2, -2, -2), 4, 4)
        painter.setRenderHint(_ANTIALIASING, False)

    @staticmethod
    def _icon_pixmap(index: QModelIndex) -> QPixmap | None:
        icon = index.data(_DECORATION)
        if isinstance(icon, QPixmap):
            return icon
        if isinstance(icon, QIcon) and not icon.isNull():
            sizes = icon.availableSizes()
            return icon.pixmap(sizes[0] if sizes else QSize(ICON, ICON))
        return None

    def _fitted(self, pixmap: QPixmap, box: int) -> QPixmap:
        """``pixmap`` scaled down (never up) to fit the box, kept in its aspect; the scaled
        copies of the shown thumbnails are cached."""
        dpr = pixmap.devicePixelRatio()
        if pixmap.width() <= box * dpr and pixmap.height() <= box * dpr:
            return pixmap
        key = (pixmap.cacheKey(), box)
        scaled = self._scaled.get(key)
        if scaled is None:
            ratio = self._view.devicePixelRatioF()
            edge = round(box * ratio)
            scaled = pixmap.scaled(QSize(edge, edge), Qt.AspectRatioMode.KeepAspectRatio,
                                   Qt.TransformationMode.SmoothTransformation)
            scaled.setDevicePixelRatio(ratio)
            self._scaled[key] = scaled
            if len(self._scaled) > 800:
                self._scaled.popitem(last=False)
        else:
            self._scaled.move_to_end(key)
        return scaled


class ThumbnailGrid(QListView):
    selection_changed = Signal(list)  # selected item ids, in grid order

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("grid")
        self.setAccessibleName("Photos and documents")
        self.setAccessibleDescription(
            "Arrow keys or J and K move, Space shows the item large, N goes to the next one"
            " without your tags")
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.delegate = CellDelegate(self)
        self.setItemDelegate(self.delegate)
        # Uniform sizes let the view lay out 100k rows without asking the model for each one;
        # the delegate's size is fixed (box + two text lines), never the first item's.
        self.setUniformItemSizes(True)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # the delegate elides like this
        self.setSpacing(0)
        self.set_thumbnail_size(ICON)

    def set_thumbnail_size(self, size: int) -> None:
        """Icon edge in pixels (the cached thumbnails are 256 px, so up to that is sharp)."""
        self.setIconSize(QSize(size, size))
        self.delegate.forget_sizes()
        self.setGridSize(self.delegate.cell_size())

    def cell_size(self) -> QSize:
        return self.delegate.cell_size()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt API
        super().changeEvent(event)
        if event.type() == event.Type.FontChange:  # the text lines' height follows the font
            self.set_thumbnail_size(self.iconSize().width())

    def setModel(self, model: QAbstractItemModel) -> None:  # noqa: N802 - Qt API
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

    def _emit_selection(self, *_args: object) -> None:
        self.selection_changed.emit(self.selected_ids())
