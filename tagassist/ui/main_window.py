"""The main window: composes the small views and routes their signals to the controller.

Layout: sidebar (tags) | [search bar / notifications / thumbnail grid] | [detail panel /
suggestion panel], with a status bar that shows the running job.  This module wires things
together and owns the "what is the grid showing" state; the widgets know nothing of the
library, the controller knows nothing of widgets.  The menus and keys (menus.py), the
layout and its memory (window_layout.py), the settings (window_settings.py), the sidebar's
refreshes (sidebar_refresh.py) and the pages in the middle (pages.py) live beside it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QFileDialog, QInputDialog, QLabel, QMainWindow, QWidget

from tagassist.library.errors import LibraryError
from tagassist.ui import settings, window_settings
from tagassist.ui.controller import LibraryController
from tagassist.ui.detail_panel import DetailPanel
from tagassist.ui.empty_state import EmptyState, FolderDrops, copy_sample
from tagassist.ui.grid_view import ThumbnailGrid
from tagassist.ui.help_overlay import HelpOverlay
from tagassist.ui.item_model import ItemListModel, doc_label
from tagassist.ui.job_status import JobStatus
from tagassist.ui.menus import make_actions
from tagassist.ui.notifications import NotificationArea
from tagassist.ui.pages import ItemPages
from tagassist.ui.search_bar import SearchBar, no_match_note
from tagassist.ui.sidebar import TagSidebar, quote_term
from tagassist.ui.sidebar_refresh import SidebarRefresh
from tagassist.ui.suggest_controller import ACCEPT_ALL_THRESHOLD
from tagassist.ui.suggestion_panel import SuggestionPanel
from tagassist.ui.thumbs import ThumbnailLoader, placeholder
from tagassist.ui.viewer import PhotoViewer
from tagassist.ui.window_layout import LayoutMemory, arrange
from tagassist.ui.workers import JobHandle

if TYPE_CHECKING:
    from tagassist.app import Changes
    from tagassist.ui.settings_dialog import SettingsChoice, SettingsDialog, SettingsState

# What the grid shows when a sidebar folder was clicked: this prefix + the folder's path.
FOLDER_QUERY = "\0folder:"


class MainWindow(QMainWindow):
    open_library_requested = Signal(object)  # Path of another library folder (the app opens it)

    def __init__(self, controller: LibraryController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        window_settings.load_settings(controller)
        self._set_title()

        self.thumbs = ThumbnailLoader(controller.paths.thumbnails, parent=self)
        self.model = ItemListModel(controller.library, self.thumbs, parent=self)
        self.sidebar = TagSidebar(self)
        self.search = SearchBar(self)
        self.notifications = NotificationArea(self)
        self.grid = ThumbnailGrid(self)
        self.grid.set_thumbnail_size(settings.thumbnail_size())
        self.grid.setModel(self.model)
        self.viewer = PhotoViewer(self)
        self.empty = EmptyState(self)  # an empty library: how to bring photos in
        self.pages = ItemPages(self.grid, self.viewer, self.empty, self.model, self)
        self.detail = DetailPanel(self)
        self.suggestions = SuggestionPanel(self, threshold=ACCEPT_ALL_THRESHOLD)
        self.job_status = JobStatus(self)
        self.count_label = QLabel(self)
        self.count_label.setObjectName("itemCount")
        self.count_label.setAccessibleName("Items shown")
        self.splitter = arrange(self)

        # None: all items; "\0untagged": untagged; FOLDER_QUERY + path: a folder; else a search
        self._query: str | None = None
        self._selected: list[int] = []
        # The item the window made current by itself (the first one shown), until the
        # selection changes otherwise: N takes it as not visited yet (see next_untagged).
        self._app_pick: int | None = None
        self._showing = False  # in _show: selection changes are the window's own
        self.help = HelpOverlay(self)
        self._sidebar_refresh = SidebarRefresh(self)
        actions = make_actions(self)
        self.import_action, self.undo_action = actions.import_folder, actions.undo
        self.redo_action, self.save_search_action = actions.redo, actions.save_search
        self.train_action = actions.train
        self._connect()
        self._drops = FolderDrops(self, self.start_import)  # a folder dropped on the window
        self.refresh_tags()
        self.refresh_folders()
        self.show_all()
        self._layout_memory = LayoutMemory(self)
        self._layout_memory.restore()

    # -- the layout, remembered (window_layout.py) ---------------------------------------------
    def use_default_layout(self) -> None:
        """The default layout, and nothing remembered on closing (``--screenshot``)."""
        self._layout_memory.use_default()

    def remember_layout(self) -> None:
        self._layout_memory.remember()

    # -- wiring --------------------------------------------------------------------------------
    def _connect(self) -> None:
        c = self.controller
        c.notify.connect(self.notifications.add)
        c.status.connect(lambda text: self.statusBar().showMessage(text, 8000))
        c.tags_changed.connect(self.refresh_tags)
        c.tags_changed.connect(self._refresh_detail)
        c.changed.connect(self._show_changes)
        c.library_changed.connect(self.reload)
        c.job_started.connect(self.job_status.track)
        c.user_changed.connect(self._user_changed)
        c.sidebar_ready.connect(self._sidebar_refresh.ready)
        c.saved_searches_changed.connect(
            lambda: self.sidebar.set_saved_searches(c.saved_searches()))
        c.saved_searches_changed.connect(self.refresh_tags)  # a read started before: not it
        self.sidebar.show_all.connect(self.show_all)
        self.sidebar.show_untagged.connect(self.show_untagged)
        self.sidebar.tag_clicked.connect(lambda path: self.search.set_query(quote_term(path)))
        self.sidebar.folder_clicked.connect(self.show_folder)
        self.sidebar.saved_search_clicked.connect(self.search.set_query)
        self.sidebar.delete_saved_search.connect(self.delete_saved_search)
        self.search.search_requested.connect(self.run_search)
        self.grid.selection_changed.connect(self._selection_changed)
        self.grid.activated.connect(lambda _index: self.open_viewer())  # Enter, double-click
        self.thumbs.ready.connect(self._thumb_ready)
        for acted in (self.detail.add_tag, self.detail.remove_tag,
                      self.suggestions.accept_requested, self.suggestions.reject_requested,
                      self.suggestions.accept_set_requested):
            acted.connect(self.forget_pick)  # before the write: N must not come back to it
        self.detail.add_tag.connect(lambda name: c.add_tags(self._selected, [name]))
        self.detail.done_typing.connect(self.focus_grid)
        self.detail.remove_tag.connect(lambda path: c.remove_tags(self._selected, [path]))
        c.suggest.changed.connect(self.suggestions.show_result)
        c.suggest.busy.connect(self.suggestions.set_busy)
        self.suggestions.accept_requested.connect(c.suggest.accept)
        self.suggestions.reject_requested.connect(c.suggest.reject)
        self.suggestions.train_requested.connect(c.suggest.start_training)
        self.suggestions.accept_set_requested.connect(c.suggest.accept_set)
        self.empty.open_folder.connect(self.choose_import_folder)
        self.empty.open_sample.connect(self.import_sample)

    # -- what the grid shows -------------------------------------------------------------------
    def show_all(self) -> None:
        self.search.set_query("", submit=False)
        self.search.clear_error()
        self._show(None, self.controller.all_item_ids())

    def show_untagged(self) -> None:
        self.search.set_query("", submit=False)
        self.search.clear_error()
        self._show("\0untagged", self.controller.untagged_ids())

    def show_folder(self, folder: str) -> None:
        """The items in ``folder`` and its subfolders."""
        self.search.set_query("", submit=False)
        self.search.clear_error()
        self._show(FOLDER_QUERY + folder, self.controller.items_in_folder(folder))

    def run_search(self, expression: str) -> bool:
        """Show the items matching ``expression``; a bad one is explained inline."""
        if not expression.strip():
            self.show_all()
            return True
        try:
            ids = self.controller.search(expression)
        except LibraryError as exc:  # QuerySyntaxError included: the window keeps working
            self.search.show_error(str(exc))
            return False
        if ids:
            self.search.clear_error()
        else:  # an empty grid says why
            self.search.show_note(no_match_note(expression))
        self._show(expression, self.controller.in_display_order(ids))
        return True

    def reload(self) -> None:
        """Re-run whatever is shown (after an import), keeping the selection where possible."""
        keep = list(self._selected)
        self.model.invalidate()
        self.refresh_folders()
        if self._query is None:
            self._show(None, self.controller.all_item_ids(), keep)
        elif self._query == "\0untagged":
            self._show(self._query, self.controller.untagged_ids(), keep)
        elif self._query.startswith(FOLDER_QUERY):
            folder = self._query[len(FOLDER_QUERY):]
            self._show(self._query, self.controller.items_in_folder(folder), keep)
        else:
            try:
                ids = self.controller.in_display_order(self.controller.search(self._query))
            except LibraryError as exc:
                self.search.show_error(str(exc))
                return
            self._show(self._query, ids, keep)
        self.refresh_tags()

    def _show(self, query: str | None, ids: list[int], keep: list[int] | None = None) -> None:
        self._query = query
        self._showing = True
        try:
            self.model.set_ids(ids)
            rows = [r for r in (self.model.row_of(i) for i in keep or []) if r is not None]
            if not rows:
                # A current item makes the keyboard (J/K, T) work straight away.
                rows, self._app_pick = ([0], ids[0]) if ids else ([], None)
            self.grid.select_rows(rows)
        finally:
            self._showing = False
        self.pages.show_empty_state(
            not ids and (query is None or self.controller.item_count() == 0))
        what = "items" if query is None else "untagged" if query == "\0untagged" else "matching"
        if query is not None and query.startswith(FOLDER_QUERY):
            what = f"in {Path(query[len(FOLDER_QUERY):]).name}"
        self.count_label.setText(f"{len(ids)} {what}")

    def empty_state_shown(self) -> bool:
        return self.pages.empty_state_shown()

    # -- tags and selection --------------------------------------------------------------------
    def refresh_tags(self) -> None:
        """Re-read the sidebar (tag counts, untagged, saved searches) and the completions,
        in a worker, once for a burst of tag changes (sidebar_refresh.py)."""
        self._sidebar_refresh.tags_changed()

    def refresh_folders(self) -> None:
        self._sidebar_refresh.folders_changed()

    def sidebar_settled(self) -> bool:
        """No sidebar read waiting or running, and no write queued that will ask for one
        (tests and screenshots wait for this)."""
        return self._sidebar_refresh.settled()

    def forget_pick(self, *_args: object) -> None:
        """Someone acted on the current item: N no longer takes it as not visited yet."""
        self._app_pick = None

    def _selection_changed(self, ids: list[int]) -> None:
        if not self._showing:  # a click, a key, a search's own selection: someone chose
            self._app_pick = None
        changed = ids != self._selected
        self._selected = ids
        self._refresh_detail()
        if self.viewing():
            self.pages.show_in_viewer()
        if changed:  # same selection (a model reset): tags_changed refreshes if needed
            self.controller.suggest.request(ids)

    def _refresh_detail(self) -> None:
        ids = self._selected
        first = self.model.items_for(ids[:1])
        item = first[0] if first else None
        pixmap = self.thumbs.pixmap(item.id) if item is not None else None
        ph = None
        if item is not None and pixmap is None:
            ph = placeholder(doc_label(item) if item.kind != "photo" else "…", 256)
            if item.kind == "photo" and self.thumbs.wanted(item.id):
                # The grid asks for thumbnails it paints; a hidden grid (viewer) paints none.
                self.thumbs.request_item(item)
        self.detail.show_items(len(ids), item, self.controller.tags_of(ids), pixmap, ph)

    def _show_changes(self, changes: Changes) -> None:
        """After an undo or redo, scroll the grid to the first photo it changed when none of
        the selected ones is among them (the selection stays: only the view moves)."""
        if changes.action not in ("undo", "redo") or set(changes.item_ids) & set(self._selected):
            return
        rows = [r for r in (self.model.row_of(i) for i in changes.item_ids[:100])
                if r is not None]
        if rows and self.grid.isVisible():
            self.grid.scrollTo(self.model.index(min(rows)))

    def _thumb_ready(self, item_id: int) -> None:
        if self._selected[:1] == [item_id]:
            self._refresh_detail()

    # -- settings (window_settings.py) ---------------------------------------------------------
    def _set_title(self) -> None:
        c = self.controller
        self.setWindowTitle(f"TagAssist — {c.paths.root.name} ({c.user.name})")

    def _user_changed(self, name: str) -> None:
        settings.remember_user(self.controller.paths.root, name)
        self._set_title()
        self.reload()  # "Untagged" and searches are per person

    def settings_state(self) -> SettingsState:
        return window_settings.settings_state(self)

    def open_settings(self) -> SettingsDialog:
        return window_settings.open_settings(self)

    def apply_settings(self, choice: SettingsChoice) -> None:
        window_settings.apply_settings(self, choice)

    # -- actions -------------------------------------------------------------------------------
    def focus_search(self) -> None:
        self.search.edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.edit.selectAll()

    def save_search(self) -> bool:
        """Ctrl+S: save the search in the search field under a name the user gives."""
        expression = self.search.text()
        if not expression:
            self.statusBar().showMessage("Type a search first, then save it", 5000)
            return False
        name, ok = QInputDialog.getText(self, "Save search", f"Save “{expression}” as:",
                                        text=expression)
        # A bad name or expression is refused with a notification that says why; a good
        # one is saved in the background (the sidebar lists it once it is).
        return ok and self.controller.save_search(name, expression)

    def delete_saved_search(self, name: str) -> None:
        self.controller.delete_saved_search(name)  # the sidebar follows once it is done

    def select_file(self, name: str) -> bool:
        """Select the first shown item with a file called ``name`` (screenshot mode)."""
        for row in range(self.model.rowCount()):
            item = self.model.item_at(row)
            if item is not None and any(Path(p).name == name for p in item.paths):
                self.grid.select_rows([row])
                return True
        return False

    def focus_grid(self) -> None:
        """Esc: out of a text field, or out of the large viewer, back to the grid.  With the
        tag field's completion list open, Esc closes the list only (tag_completer.py)."""
        if self.detail.close_completions():
            return
        if self.viewing() and self.focusWidget() in (self.viewer, None):  # not from a field
            self.close_viewer()
        target = self.empty.open_button if self.empty_state_shown() else self.grid
        target.setFocus(Qt.FocusReason.ShortcutFocusReason)

    # -- the large viewer (pages.py) -----------------------------------------------------------
    def viewing(self) -> bool:
        return self.pages.viewing()

    def open_viewer(self) -> None:
        self.pages.open_viewer()

    def close_viewer(self) -> None:
        self.pages.close_viewer()

    def toggle_viewer(self) -> None:
        self.pages.toggle_viewer()

    # -- moving on, importing, closing ---------------------------------------------------------
    def next_untagged(self) -> None:
        """Select the next item in the grid's order (wrapping) that has none of your tags.

        "Next" is after the item the person is on.  The item the window made current by
        itself (the first one, after an import or a new view) is one they have not been to
        yet: N starts there, so it is not skipped (it stays selected if it is untagged).
        """
        tagged = self.controller.tagged_set()  # one index scan; no list of 100k untagged ids
        count = self.model.rowCount()
        start = self.grid.currentIndex().row()
        pick, self._app_pick = self._app_pick, None  # after N the person is somewhere
        if start >= 0 and pick is not None and self.model.item_id(start) == pick \
                and self.grid.selected_ids() == [pick]:
            start -= 1
        for step in range(1, count + 1):
            row = (start + step) % count
            if self.model.item_id(row) not in tagged:
                if row == self.grid.currentIndex().row():  # staying: say why
                    self.statusBar().showMessage(
                        "The only item shown without your tags" if step == count else
                        "This item has none of your tags yet (N again: the next one)", 3000)
                self.grid.select_rows([row])
                return
        self.statusBar().showMessage("Every item shown has your tags", 3000)

    def choose_import_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Import folder")
        if folder:
            self.start_import(Path(folder))

    def import_sample(self) -> JobHandle | None:
        """Import (a copy of) the bundled sample library into this library."""
        try:
            folder = copy_sample()
        except OSError as exc:
            self.controller.notify.emit("error", f"Could not copy the sample photos: {exc}")
            return None
        return self.start_import(folder)

    def start_import(self, folder: Path) -> JobHandle:
        handle = self.controller.start_import(folder)
        self.empty.show_import(handle)  # an empty library says "importing…" meanwhile
        return handle

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        self.remember_layout()
        # Cancel and wait, so no worker outlives the window (or writes after the DB closes).
        self.controller.shutdown()
        self.thumbs.shutdown()
        self.viewer.shutdown()
        super().closeEvent(event)
