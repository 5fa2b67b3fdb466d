"""The thumbnail grid's model: a thin list model over a list of item ids.

The model holds only ids.  ``Item`` rows are fetched on demand, a page at a time, with one
``library.items.get_many(ids)`` query, and kept in a bounded LRU cache, so a 100k-item library
costs a list of ints, not 100k records.  Thumbnails are requested lazily the first time a row is
painted.

It derives from ``QStringListModel`` (with one empty string per row) only so that ``rowCount``
stays in C++: laying out the grid calls ``index()`` -> ``rowCount()`` once per row, and with a
Python ``rowCount`` that was 400,000 Python calls and over a second at 100k items.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QStringListModel, Qt
from PySide6.QtGui import QIcon, QPixmap

from tagassist.ui.thumbs import ThumbnailLoader, placeholder

if TYPE_CHECKING:
    from tagassist.library import Item, Library

ItemIdRole = Qt.ItemDataRole.UserRole + 1
ItemRole = Qt.ItemDataRole.UserRole + 2
ThumbRole = Qt.ItemDataRole.UserRole + 3  # a QPixmap: the thumbnail, or a placeholder
CellRole = Qt.ItemDataRole.UserRole + 4  # (name, ThumbRole's pixmap): what a grid cell draws

PAGE_SIZE = 100

_Index = QModelIndex | QPersistentModelIndex


def display_name(item: Item | None) -> str:
    """Title if the file has one, else the file name."""
    if item is None:
        return "(missing item)"
    if item.title:
        return item.title
    return Path(item.paths[0]).name if item.paths else f"item {item.id}"


def doc_label(item: Item | None) -> str:
    """Short placeholder label for documents: the extension ("PDF", "TXT")."""
    if item is not None and item.paths:
        ext = Path(item.paths[0]).suffix.lstrip(".").upper()
        if ext:
            return ext[:4]
    return "DOC"


class ItemListModel(QStringListModel):
    def __init__(self, library: Library, thumbs: ThumbnailLoader, cache_size: int = 2000,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._library = library
        self._thumbs = thumbs
        self._ids: list[int] = []
        self._rows: dict[int, int] = {}
        self._cache: OrderedDict[int, Item | None] = OrderedDict()
        self._cache_size = cache_size
        thumbs.ready.connect(self._on_thumb_ready)

    # -- contents ------------------------------------------------------------------------------
    def set_ids(self, ids: Sequence[int]) -> None:
        self._ids = list(ids)
        self._rows = {item_id: row for row, item_id in enumerate(self._ids)}
        self.setStringList([""] * len(self._ids))  # resets the model: the row count in C++

    def ids(self) -> list[int]:
        return list(self._ids)

    def item_id(self, row: int) -> int:
        return self._ids[row]

    def row_of(self, item_id: int) -> int | None:
        return self._rows.get(item_id)

    def invalidate(self) -> None:
        """Forget cached rows (after an import may have changed them)."""
        self._cache.clear()
        self._thumbs.clear()
        if self._ids:
            self.dataChanged.emit(self.index(0), self.index(len(self._ids) - 1))

    def item_at(self, row: int) -> Item | None:
        """The ``Item`` for ``row``, fetching its page if needed; None if it vanished."""
        item_id = self._ids[row]
        if item_id not in self._cache:
            self._fetch_page(row)
        item = self._cache.get(item_id)
        if item is not None:
            self._cache.move_to_end(item_id)
        return item

    def items_for(self, ids: Sequence[int]) -> list:
        """Items for arbitrary ids (e.g. the selection), using the cache where possible."""
        missing = [i for i in ids if i not in self._cache]
        if missing:
            self._remember(self._library.items.get_many(missing), missing)
        return [self._cache[i] for i in ids if self._cache.get(i) is not None]

    def _fetch_page(self, row: int) -> None:
        start = (row // PAGE_SIZE) * PAGE_SIZE
        wanted = [i for i in self._ids[start:start + PAGE_SIZE] if i not in self._cache]
        self._remember(self._library.items.get_many(wanted), wanted)

    def _remember(self, items: Iterable[Item], asked: Sequence[int]) -> None:
        found = {item.id: item for item in items}
        for item_id in asked:  # ids the library no longer has are cached as None
            self._cache[item_id] = found.get(item_id)
            self._cache.move_to_end(item_id)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    # -- Qt model API --------------------------------------------------------------------------
    def flags(self, index: _Index) -> Qt.ItemFlag:
        # Not editable, not a drop target (QStringListModel's defaults): rows are items.
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._ids):
            return None
        if role == ItemIdRole:
            return self._ids[index.row()]
        item = self.item_at(index.row())
        if role == Qt.ItemDataRole.DisplayRole:
            return display_name(item)
        if role == CellRole:  # what the grid's delegate draws, in one call per cell
            return display_name(item), self._pixmap(item)
        if role == ThumbRole:
            return self._pixmap(item)
        if role == Qt.ItemDataRole.DecorationRole:
            return QIcon(self._pixmap(item))
        if role == Qt.ItemDataRole.ToolTipRole:
            if item is None:
                return None
            when = item.capture_time or ""
            return "\n".join(x for x in (display_name(item), when, *item.paths[:1]) if x)
        if role == ItemRole:
            return item
        return None

    def _pixmap(self, item: Item | None) -> QPixmap:
        """The thumbnail, asked for the first time a row is drawn; a placeholder meanwhile."""
        if item is None or item.kind != "photo":
            return placeholder(doc_label(item))
        pm = self._thumbs.pixmap(item.id)
        if pm is not None:
            return pm
        if self._thumbs.wanted(item.id):
            self._thumbs.request_item(item)
        return placeholder("…" if not self._thumbs.has(item.id) else "?")

    def _on_thumb_ready(self, item_id: int) -> None:
        row = self._rows.get(item_id)
        if row is not None:
            idx = self.index(row)
            self.dataChanged.emit(idx, idx,
                                  [Qt.ItemDataRole.DecorationRole, ThumbRole, CellRole])
