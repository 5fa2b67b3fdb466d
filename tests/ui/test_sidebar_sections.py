"""The sidebar's "Folders" and "Saved searches" sections, on a real library and window."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QInputDialog, QTreeWidgetItem

from tagassist.library.models import FolderCount, SavedSearch
from tagassist.ui.sidebar import FOLDER, FOLDERS, SAVED, SEARCH, TagSidebar
from tests import sample
from tests.ui.conftest import landed, settle_sidebar


def _click(window, key: str) -> None:
    entry = window.sidebar.entry(key)
    assert entry is not None, key
    window.sidebar.tree.itemClicked.emit(entry, 0)


def _names(window) -> set[str]:
    items = window.controller.library.items.get_many(window.model.ids())
    return {Path(p).name for item in items for p in item.paths}


def _folder(window, name: str) -> str:
    (folder,) = [f.folder for f in window.controller.folder_counts() if Path(f.folder).name == name]
    return folder


@pytest.fixture
def name_dialog(monkeypatch):
    """QInputDialog.getText answers with ``answer[0]`` (a name) instead of opening."""
    answer = ["Cats"]
    asked: list[str] = []

    def get_text(_parent, _title, label, *_args, **_kwargs):
        asked.append(label)
        return answer[0], answer[0] is not None

    monkeypatch.setattr(QInputDialog, "getText", staticmethod(get_text))
    return answer, asked


def _search(qtbot, window, text: str) -> None:
    window.search.edit.setText(text)
    qtbot.keyClick(window.search.edit, Qt.Key.Key_Return)


def test_clicking_a_folder_filters_the_grid(qtbot, window, imported, sample_folder):
    nasa = _folder(window, "nasa")
    assert Path(nasa) == sample_folder / "nasa"
    entry = window.sidebar.entry(FOLDER + nasa)
    assert entry.text(0) == "nasa  (3)"
    assert entry.toolTip(0).startswith(nasa)  # the full path, where the label is short
    assert window.sidebar.entry(FOLDERS).isExpanded()

    _click(window, FOLDER + nasa)
    assert _names(window) == {"eileen-collins.jpg", "hubble-deep-field.jpg", "launch.jpg"}
    assert window.count_label.text() == "3 in nasa"
    assert window.search.text() == ""

    _click(window, FOLDER + _folder(window, "notes"))
    assert len(window.model.ids()) == 3 and "trip-to-amsterdam.md" in _names(window)
    _click(window, "\x00all")
    assert window.model.rowCount() == sample.ITEMS


def test_saved_search_appears_in_the_sidebar_and_runs(qtbot, window, imported, name_dialog):
    answer, asked = name_dialog
    assert window.sidebar.entry(SAVED).child(0).text(0) == "Ctrl+S saves a search"  # a hint
    _search(qtbot, window, "cat OR coffee")
    expected = list(window.model.ids())
    assert len(expected) == 4  # two photos of the cat, two of coffee

    qtbot.keyClick(window.search.edit, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert asked == ["Save “cat OR coffee” as:"]
    landed(window)  # saved in the background; the sidebar lists it once it is
    assert window.sidebar.saved_search_names() == ["Cats"]
    entry = window.sidebar.entry(SEARCH + "Cats")
    assert "cat OR coffee" in entry.toolTip(0)
    assert window.sidebar.entry(SAVED).childCount() == 1  # the hint went away

    _click(window, "\x00all")
    assert window.model.rowCount() == sample.ITEMS
    _click(window, SEARCH + "Cats")
    assert window.model.ids() == expected
    assert window.search.text() == "cat OR coffee"

    # Saving again under the same name replaces it.
    _search(qtbot, window, "cat")
    window.save_search_action.trigger()
    landed(window)
    assert window.sidebar.saved_search_names() == ["Cats"]
    assert window.controller.saved_searches()[0].expression == "cat"


def test_a_bad_search_or_name_is_not_saved_and_says_why(qtbot, window, imported, name_dialog):
    answer, asked = name_dialog
    _search(qtbot, window, "cat AND")
    assert not window.save_search()
    assert window.sidebar.saved_search_names() == []
    (why,) = window.notifications.messages()
    assert why.startswith("The search was not saved: Invalid search at position 7")
    assert "\n" not in why  # no caret diagram: it needs a fixed-width font

    _search(qtbot, window, "cat")
    answer[0] = "   "
    assert not window.save_search()
    assert any("needs a name" in m for m in window.notifications.messages())
    answer[0] = None  # the user cancels the dialog: nothing happens, nothing to explain
    before = len(window.notifications.messages())
    assert not window.save_search()
    assert len(window.notifications.messages()) == before
    assert window.controller.saved_searches() == []

    # With nothing typed there is nothing to save: no dialog, a hint in the status bar.
    window.search.set_query("", submit=False)
    asked.clear()
    assert not window.save_search()
    assert asked == []
    assert "Type a search first" in window.statusBar().currentMessage()


def test_delete_a_saved_search_from_its_context_menu(qtbot, window, imported, name_dialog):
    _search(qtbot, window, "cat")
    assert window.save_search()
    landed(window)
    assert window.sidebar.context_menu(window.sidebar.entry("animals")) is None  # tags: no menu
    menu = window.sidebar.context_menu(window.sidebar.entry(SEARCH + "Cats"))
    (delete,) = menu.actions()
    assert delete.text() == "Delete"
    delete.trigger()
    landed(window)
    assert window.sidebar.saved_search_names() == []
    assert window.controller.saved_searches() == []
    assert "Deleted" in window.statusBar().currentMessage()


def test_folder_view_saved_searches_and_expansion_survive_reload(
    qtbot, window, imported, name_dialog
):
    _search(qtbot, window, "cat")
    window.save_search()
    nasa = _folder(window, "nasa")
    _click(window, FOLDER + nasa)
    window.sidebar.tree.setCurrentItem(window.sidebar.entry(FOLDER + nasa))
    shown = window.model.ids()
    window.sidebar.entry(SAVED).setExpanded(False)  # the user's choice, kept on refresh

    window.reload()
    settle_sidebar(qtbot, window)  # the sidebar's counts are read in a worker
    assert window.model.ids() == shown
    assert window.count_label.text() == "3 in nasa"
    assert window.sidebar.saved_search_names() == ["Cats"]
    assert not window.sidebar.entry(SAVED).isExpanded()
    assert window.sidebar.entry(FOLDERS).isExpanded()
    assert window.sidebar.tree.currentItem() is window.sidebar.entry(FOLDER + nasa)

    # A tag change refreshes the tags; the folder view and the sections stay as they were.
    window.controller.add_tags(shown[:1], ["favourite"])
    settle_sidebar(qtbot, window)
    assert window.model.ids() == shown
    assert window.sidebar.entry("favourite") is not None
    assert window.sidebar.saved_search_names() == ["Cats"]


def test_nested_folders_show_as_a_tree_below_their_common_root(qtbot):
    sidebar = TagSidebar()
    qtbot.addWidget(sidebar)
    root = "/home/someone/a very long folder name/Pictures"
    folders = [
        FolderCount(f"{root}/2019", 2),
        FolderCount(f"{root}/2019/summer", 1),
        FolderCount(f"{root}/2020/winter", 4),  # its parent holds no items itself
        FolderCount(f"{root}2", 5),  # a sibling that only shares a prefix
    ]
    sidebar.set_folders(folders)
    header = sidebar.entry(FOLDERS)
    assert header.toolTip(0) == "Folders in /home/someone/a very long folder name"
    assert _children(header) == ["Pictures  (7)", "Pictures2  (5)"]
    pictures = sidebar.entry(FOLDER + root)
    assert not pictures.isExpanded()  # folders start closed: there may be thousands
    assert sidebar.entry(FOLDER + f"{root}/2020") is None  # made when its parent opens

    pictures.setExpanded(True)
    assert _children(pictures) == ["2019  (3)", "2020  (4)"]  # with their subfolders' items
    sidebar.entry(FOLDER + f"{root}/2020").setExpanded(True)
    assert sidebar.entry(FOLDER + f"{root}/2020/winter").text(0) == "winter  (4)"
    arrow = QTreeWidgetItem.ChildIndicatorPolicy.ShowIndicator
    assert pictures.childIndicatorPolicy() == arrow
    assert sidebar.entry(FOLDER + f"{root}2").childIndicatorPolicy() != arrow  # no subfolders

    clicked = []
    sidebar.folder_clicked.connect(clicked.append)
    sidebar.tree.itemClicked.emit(sidebar.entry(FOLDER + f"{root}/2020"), 0)
    sidebar.tree.itemClicked.emit(header, 0)  # a header shows nothing new
    assert clicked == [f"{root}/2020"]

    # New folders (an import) and other sections' updates keep what the user opened.
    sidebar.set_folders([*folders, FolderCount(f"{root}/2020/spring", 1)])
    sidebar.set_saved_searches([SavedSearch("Cats", "cat", "t")])
    assert sidebar.entry(FOLDER + root).isExpanded()
    assert sidebar.entry(FOLDER + f"{root}/2020").isExpanded()
    assert _children(sidebar.entry(FOLDER + f"{root}/2020")) == ["spring  (1)", "winter  (4)"]
    assert sidebar.saved_search_names() == ["Cats"]


def _children(item) -> list[str]:
    return [item.child(i).text(0) for i in range(item.childCount())]
