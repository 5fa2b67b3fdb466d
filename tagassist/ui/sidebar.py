"""The sidebar: "All items", "Untagged", the tag hierarchy, saved searches and folders.

Tags come as flat ``TagCount(tag, path, count)`` rows; ``|``-separated paths become the tree.
A parent that has no items of its own still appears (without a count), so ``animals|pets|cat``
shows up as animals > pets > cat.

Folders come as ``FolderCount(folder, count)`` rows (items directly in each folder) and are
shown as a tree below their common root, so long paths stay readable (the full path is the
tooltip); a folder's subfolders are made when it first opens.  A folder's count includes its
subfolders, since clicking it shows them too.
Saved searches come as ``SavedSearch(name, expression)`` rows; right-click deletes one.

Each ``set_*`` call rebuilds only its own section (and nothing when its rows did not change),
keeping expansion, selection and scroll position.  Clicking emits what to show; it never
queries anything.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtWidgets import QMenu, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

if TYPE_CHECKING:
    from tagassist.library.models import FolderCount, SavedSearch, TagCount

PathRole = Qt.ItemDataRole.UserRole + 1
ExpressionRole = Qt.ItemDataRole.UserRole + 2
ALL, UNTAGGED = "\x00all", "\x00untagged"
SAVED, FOLDERS = "\x00saved", "\x00folders"  # the section headers
# Entry keys: a tag's is its path; folders and saved searches get a prefix no tag path has.
FOLDER, SEARCH = "\x00folder:", "\x00search:"
# The sections that open and close, by the name the window's settings remember them under.
SECTION_KEYS = {"saved_searches": SAVED, "folders": FOLDERS}


def quote_term(path: str) -> str:
    """A search term that matches exactly this tag path (quoted: paths may contain spaces)."""
    return '"' + path.replace('"', "") + '"'


def _common_root(folders: list[str]) -> str:
    """The deepest folder above all of them, so each shows at least its own name."""
    try:
        return os.path.commonpath([os.path.dirname(f) for f in folders])
    except ValueError:  # relative and absolute paths mixed: show them from the top
        return ""


def _counted(label: str, count: int | None) -> str:
    return label if count is None else f"{label}  ({count})"


class TagSidebar(QWidget):
    show_all = Signal()
    show_untagged = Signal()
    tag_clicked = Signal(str)  # full tag path
    folder_clicked = Signal(str)  # full folder path
    saved_search_clicked = Signal(str)  # the saved search's expression
    delete_saved_search = Signal(str)  # the saved search's name

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tree = QTreeWidget(self)
        self.tree.setHeaderHidden(True)
        self.tree.setObjectName("tagTree")
        self.tree.setAccessibleName("Library: all items, untagged, tags, saved searches and"
                                    " folders")
        self.tree.setAccessibleDescription("Choose an entry to show its items in the grid")
        self.tree.setUniformRowHeights(True)
        # Elide in the middle, so a long name keeps its count (and a folder its end) visible;
        # only names wider than the sidebar are elided, and every tooltip has the full name.
        self.tree.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        # A narrower step per level than the style's 20 px leaves the names more room.
        self.tree.setIndentation(16)
        self.tree.itemClicked.connect(self._clicked)
        self.tree.itemActivated.connect(self._clicked)
        self.tree.itemExpanded.connect(self._expanded)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._menu_requested)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tree)
        # Each section is rebuilt on its own, so a tag change never rebuilds (thousands of)
        # folders.  The tag section is the first ``_tag_rows`` top-level rows; the other two
        # sections live under headers that stay for the widget's lifetime.
        self._tags: dict[str, QTreeWidgetItem] = {}  # ALL, UNTAGGED and tag paths
        self._searches: dict[str, QTreeWidgetItem] = {}  # SEARCH + name
        self._folders: dict[str, QTreeWidgetItem] = {}  # FOLDER + path
        self._tag_rows = 0
        self._tag_paths: list[str] = []  # the tag rows shown, to relabel instead of rebuild
        self._folder_totals: Counter[str] = Counter()  # items in a folder and its subfolders
        self._subfolders: dict[str | None, list[str]] = {}
        self._reopen: set[str] = set()
        self._rows: dict[str, list] = {}  # what each section shows now, to skip no-op updates
        self._headers = {SAVED: self._header(SAVED, "Saved searches"),
                         FOLDERS: self._header(FOLDERS, "Folders")}
        self.set_saved_searches([])
        self.set_folders([])

    # -- what to show --------------------------------------------------------------------------
    def set_counts(self, counts: Iterable[TagCount], total: int | None = None,
                   untagged: int | None = None) -> None:
        """The tag section; known tags keep their state, new top-level tags open one level."""
        rows = sorted(counts, key=lambda c: c.path.casefold())
        if self._unchanged("tags", [total, untagged, *rows]):
            return
        paths = [row.path for row in rows]
        if self._tag_rows and paths == self._tag_paths:
            # Only counts changed (the usual tag edit): relabel in place.  A rebuild of a few
            # hundred tags took 65-170 ms of the UI thread per accepted suggestion.
            self._label(ALL, _counted("All items", total))
            self._label(UNTAGGED, _counted("Untagged", untagged))
            for row in rows:
                self._label(row.path, f"{row.tag}  ({row.count})",
                            f"{row.path}: {row.count} item(s)")
            return
        self._tag_paths = paths
        with self._rebuilding(self._tags, opens=lambda key: "|" not in key):
            for _ in range(self._tag_rows):
                self.tree.takeTopLevelItem(0)
            self._tag_rows = 0
            self._fixed(ALL, "All items", total)
            self._fixed(UNTAGGED, "Untagged", untagged)
            for row in rows:
                node = self._node(row.path)
                node.setText(0, f"{row.tag}  ({row.count})")
                node.setToolTip(0, f"{row.path}: {row.count} item(s)")

    def set_saved_searches(self, searches: Sequence[SavedSearch]) -> None:
        if self._unchanged("saved", list(searches)):
            return
        header = self._headers[SAVED]
        with self._rebuilding(self._searches):
            header.takeChildren()
            if not searches:
                # A greyed hint rather than an empty section: it says how to get one (drawn
                # disabled, in the palette's disabled text colour, light or dark).
                hint = QTreeWidgetItem(header, ["Ctrl+S saves a search"])
                hint.setFlags(Qt.ItemFlag.NoItemFlags)
            for search in searches:
                item = QTreeWidgetItem(header, [search.name])
                item.setData(0, PathRole, SEARCH + search.name)
                item.setData(0, ExpressionRole, search.expression)
                item.setToolTip(0, f"{search.name}: {search.expression}\n(right-click to delete)")
                self._searches[SEARCH + search.name] = item

    def set_folders(self, folders: Sequence[FolderCount]) -> None:
        """Folders as a tree below their common root.  A folder's subfolders are made when it
        is first opened: there may be thousands (14,000 took over a second to build), and most
        stay closed."""
        if self._unchanged("folders", list(folders)):
            return
        header = self._headers[FOLDERS]
        header.setHidden(not folders)  # nothing imported yet
        root = _common_root([f.folder for f in folders]) if folders else ""
        header.setToolTip(0, f"Folders in {root}" if root else "Folders")
        self._folder_totals = Counter()
        for row in folders:
            for folder in self._ancestors(row.folder, root):
                self._folder_totals[folder] += row.count
        self._subfolders = defaultdict(list)  # folder (None: the root) -> its subfolders
        for folder in sorted(self._folder_totals, key=lambda f: os.path.basename(f).casefold()):
            parent = os.path.dirname(folder)
            below_root = parent != folder and parent in self._folder_totals
            self._subfolders[parent if below_root else None].append(folder)
        with self._rebuilding(self._folders):
            header.takeChildren()
            self._add_folders(header, None)

    def _unchanged(self, section: str, rows: list) -> bool:
        if self._rows.get(section) == rows:
            return True
        self._rows[section] = rows
        return False

    @contextmanager
    def _rebuilding(self, nodes: dict[str, QTreeWidgetItem],
                    opens: Callable[[str], bool] = lambda _key: False) -> Iterator[None]:
        """Around refilling ``nodes`` (one section): keep expansion, the selected entry and
        the scroll position; a new entry opens when ``opens(key)`` says so."""
        known = set(nodes)
        expanded = {key for key, node in nodes.items() if node.isExpanded()}
        current = self.tree.currentItem()
        selected = current.data(0, PathRole) if current is not None else None
        scroll = self.tree.verticalScrollBar().value()
        nodes.clear()
        yield
        self._reopen = expanded  # for subfolders, made while their parents open (_expanded)
        for key, node in list(nodes.items()):
            if key in expanded or (key not in known and opens(key)):
                node.setExpanded(True)
        self._reopen = set()
        if selected in nodes:
            self.tree.setCurrentItem(nodes[selected])
        self.tree.verticalScrollBar().setValue(scroll)

    def _header(self, key: str, label: str) -> QTreeWidgetItem:
        item = self._bold(key, label)
        self.tree.addTopLevelItem(item)
        item.setExpanded(True)  # a section starts open; the user's choice is kept after that
        return item

    def _label(self, key: str, text: str, tip: str | None = None) -> None:
        node = self._tags[key]
        if node.text(0) != text:
            node.setText(0, text)
        if tip is not None and node.toolTip(0) != tip:
            node.setToolTip(0, tip)

    def _fixed(self, key: str, label: str, count: int | None) -> None:
        item = self._bold(key, _counted(label, count))
        self.tree.insertTopLevelItem(self._tag_rows, item)
        self._tag_rows += 1
        self._tags[key] = item

    @staticmethod
    def _bold(key: str, label: str) -> QTreeWidgetItem:
        item = QTreeWidgetItem([label])
        item.setData(0, PathRole, key)
        font = item.font(0)
        font.setBold(True)
        item.setFont(0, font)
        return item

    def _node(self, path: str) -> QTreeWidgetItem:
        if path in self._tags:
            return self._tags[path]
        parent_path, _, name = path.rpartition("|")
        item = QTreeWidgetItem([name])
        item.setData(0, PathRole, path)
        item.setToolTip(0, path)  # set_counts adds the count to a tag that has items
        if parent_path:
            self._node(parent_path).addChild(item)
        else:
            self.tree.insertTopLevelItem(self._tag_rows, item)
            self._tag_rows += 1
        self._tags[path] = item
        return item

    @staticmethod
    def _ancestors(folder: str, root: str) -> list[str]:
        """``folder`` and the folders above it, up to (not including) ``root``."""
        out = [folder]
        parent = os.path.dirname(folder)
        while len(parent) > len(root) and parent != out[-1]:
            out.append(parent)
            parent = os.path.dirname(parent)
        return out

    def _add_folders(self, parent: QTreeWidgetItem, folder: str | None) -> None:
        for sub in self._subfolders.get(folder, ()):
            name, count = os.path.basename(sub) or sub, self._folder_totals[sub]
            item = QTreeWidgetItem(parent, [f"{name}  ({count})"])
            item.setData(0, PathRole, FOLDER + sub)
            item.setToolTip(0, f"{sub}: {count} item(s)")
            if sub in self._subfolders:  # an arrow now, the children when it opens
                item.setChildIndicatorPolicy(QTreeWidgetItem.ChildIndicatorPolicy.ShowIndicator)
            self._folders[FOLDER + sub] = item

    def _expanded(self, item: QTreeWidgetItem) -> None:
        key = item.data(0, PathRole)
        if not key or not key.startswith(FOLDER) or item.childCount():
            return
        self._add_folders(item, key[len(FOLDER):])
        for child in (item.child(i) for i in range(item.childCount())):
            if child.data(0, PathRole) in self._reopen:  # open before a rebuild: open again
                child.setExpanded(True)

    # -- sections (remembered by the window) ---------------------------------------------------
    def section_states(self) -> dict[str, bool]:
        """Which sections are open: ``{"saved_searches": True, "folders": False}``."""
        return {name: self._headers[key].isExpanded() for name, key in SECTION_KEYS.items()}

    def set_section_states(self, states: dict[str, bool]) -> None:
        for name, open_ in states.items():
            if name in SECTION_KEYS:
                self._headers[SECTION_KEYS[name]].setExpanded(bool(open_))

    # -- lookups (tests, the main window) ------------------------------------------------------
    def entry(self, path: str) -> QTreeWidgetItem | None:
        """The entry for a tag path, or a key such as ``FOLDER + path`` / ``SEARCH + name``."""
        for nodes in (self._tags, self._searches, self._folders, self._headers):
            if path in nodes:
                return nodes[path]
        return None

    def saved_search_names(self) -> list[str]:
        return [key[len(SEARCH):] for key in self._searches]

    # -- clicks and the context menu -----------------------------------------------------------
    def _clicked(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        key = item.data(0, PathRole)
        if key == ALL:
            self.show_all.emit()
        elif key == UNTAGGED:
            self.show_untagged.emit()
        elif not key or key in (SAVED, FOLDERS):
            return  # a header or a hint: the arrow opens it, a click shows nothing new
        elif key.startswith(FOLDER):
            self.folder_clicked.emit(key[len(FOLDER):])
        elif key.startswith(SEARCH):
            self.saved_search_clicked.emit(item.data(0, ExpressionRole))
        else:
            self.tag_clicked.emit(key)

    def context_menu(self, item: QTreeWidgetItem | None) -> QMenu | None:
        """The right-click menu for ``item`` (saved searches have one), not yet shown."""
        key = item.data(0, PathRole) if item is not None else None
        if not key or not key.startswith(SEARCH):
            return None
        name = key[len(SEARCH):]
        menu = QMenu(self.tree)
        menu.addAction("Delete", lambda: self.delete_saved_search.emit(name))
        return menu

    def _menu_requested(self, pos: QPoint) -> None:
        menu = self.context_menu(self.tree.itemAt(pos))
        if menu is not None:
            menu.exec(self.tree.viewport().mapToGlobal(pos))
            menu.deleteLater()
