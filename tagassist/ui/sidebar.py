"""The sidebar: "All items", "Untagged" and the tag hierarchy with counts.

Built from flat ``TagCount(tag, path, count)`` rows; ``|``-separated paths become the tree.
A parent that has no items of its own still appears (without a count), so ``animals|pets|cat``
shows up as animals > pets > cat.  Clicking emits what to show; it never queries anything.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

PathRole = Qt.ItemDataRole.UserRole + 1
ALL, UNTAGGED = "\x00all", "\x00untagged"


def quote_term(path: str) -> str:
    """A search term that matches exactly this tag path (quoted: paths may contain spaces)."""
    return '"' + path.replace('"', "") + '"'


class TagSidebar(QWidget):
    show_all = Signal()
    show_untagged = Signal()
    tag_clicked = Signal(str)  # full tag path

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tree = QTreeWidget(self)
        self.tree.setHeaderHidden(True)
        self.tree.setObjectName("tagTree")
        self.tree.setUniformRowHeights(True)
        self.tree.itemClicked.connect(self._clicked)
        self.tree.itemActivated.connect(self._clicked)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tree)
        self._nodes: dict[str, QTreeWidgetItem] = {}

    def set_counts(self, counts, total: int | None = None, untagged: int | None = None) -> None:
        """Rebuild the tree, keeping expansion and the selected entry where possible."""
        known = set(self._nodes)
        expanded = {p for p, n in self._nodes.items() if n.isExpanded()}
        current = self.tree.currentItem()
        selected = current.data(0, PathRole) if current else None
        self.tree.clear()
        self._nodes = {}
        self._fixed(ALL, "All items", total)
        self._fixed(UNTAGGED, "Untagged", untagged)
        for row in sorted(counts, key=lambda c: c.path.casefold()):
            node = self._node(row.path)
            node.setText(0, f"{row.tag}  ({row.count})")
            node.setToolTip(0, f"{row.path}: {row.count} item(s)")
        for path, node in self._nodes.items():
            # Known nodes keep their state; new top-level tags open one level.
            if path in expanded or (path not in known and "|" not in path):
                node.setExpanded(True)
        if selected in self._nodes:
            self.tree.setCurrentItem(self._nodes[selected])

    def _fixed(self, key: str, label: str, count: int | None) -> None:
        item = QTreeWidgetItem([label if count is None else f"{label}  ({count})"])
        item.setData(0, PathRole, key)
        font = item.font(0)
        font.setBold(True)
        item.setFont(0, font)
        self.tree.addTopLevelItem(item)
        self._nodes[key] = item

    def _node(self, path: str) -> QTreeWidgetItem:
        if path in self._nodes:
            return self._nodes[path]
        parent_path, _, name = path.rpartition("|")
        item = QTreeWidgetItem([name])
        item.setData(0, PathRole, path)
        if parent_path:
            self._node(parent_path).addChild(item)
        else:
            self.tree.addTopLevelItem(item)
        self._nodes[path] = item
        return item

    def entry(self, path: str) -> QTreeWidgetItem | None:
        return self._nodes.get(path)

    def _clicked(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        key = item.data(0, PathRole)
        if key == ALL:
            self.show_all.emit()
        elif key == UNTAGGED:
            self.show_untagged.emit()
        elif key:
            self.tag_clicked.emit(key)
