"""The main window: composes the small views and routes their signals to the controller.

Layout: sidebar (tags) | [search bar / notifications / thumbnail grid] | [detail panel /
suggestion panel], with a status bar that shows the running job.  This module wires things
together and owns the "what is the grid showing" state; the widgets know nothing of the
library, the controller knows nothing of widgets.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from tagassist.library.errors import LibraryError
from tagassist.suggest.model_store import PERSONAL_CONTENT
from tagassist.ui import settings
from tagassist.ui.controller import LibraryController
from tagassist.ui.detail_panel import DetailPanel
from tagassist.ui.empty_state import EmptyState, FolderDrops, copy_sample
from tagassist.ui.grid_view import ThumbnailGrid
from tagassist.ui.help_overlay import HelpOverlay
from tagassist.ui.item_model import ItemListModel, doc_label
from tagassist.ui.job_status import JobStatus
from tagassist.ui.notifications import NotificationArea
from tagassist.ui.right_column import RightColumn
from tagassist.ui.search_bar import SearchBar
from tagassist.ui.settings_dialog import SettingsChoice, SettingsDialog, SettingsState
from tagassist.ui.sidebar import TagSidebar, quote_term
from tagassist.ui.suggest_controller import ACCEPT_ALL_THRESHOLD, training_shortfall
from tagassist.ui.suggestion_panel import SuggestionPanel
from tagassist.ui.thumbs import ThumbnailLoader, placeholder
from tagassist.ui.viewer import PhotoViewer
from tagassist.ui.workers import JobHandle

if TYPE_CHECKING:
    from collections.abc import Callable

    from PySide6.QtWidgets import QMenu

    from tagassist.app import Changes
    from tagassist.app.sidebar_jobs import SidebarData

# What the grid shows when a sidebar folder was clicked: this prefix + the folder's path.
FOLDER_QUERY = "\0folder:"


def _keys(action: QAction) -> str:
    """An action's keys as the empty state lists them: "F1 or ?"."""
    return " or ".join(k.toString(QKeySequence.SequenceFormat.NativeText)
                       for k in action.shortcuts())


class MainWindow(QMainWindow):
    open_library_requested = Signal(object)  # Path of another library folder (the app opens it)

    def __init__(self, controller: LibraryController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        controller.analyse_after_import = settings.analyse_after_import()
        controller.suggest.retrain_after = settings.retrain_after()
        controller.suggest.engine.always_show_set = settings.always_show_set()
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
        self.pages = QStackedWidget(self)  # the grid, or one photo large, or the empty state
        self.pages.addWidget(self.grid)
        self.pages.addWidget(self.viewer)
        self.pages.addWidget(self.empty)
        self.detail = DetailPanel(self)
        self.suggestions = SuggestionPanel(self, threshold=ACCEPT_ALL_THRESHOLD)
        self.job_status = JobStatus(self)
        self.count_label = QLabel(self)
        self.count_label.setObjectName("itemCount")
        self.count_label.setAccessibleName("Items shown")

        center = QWidget(self)
        col = QVBoxLayout(center)
        col.setContentsMargins(6, 6, 6, 0)
        col.addWidget(self.search)
        col.addWidget(self.notifications)
        col.addWidget(self.pages, 1)
        self.splitter = split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(self.sidebar)
        split.addWidget(center)
        split.addWidget(RightColumn(self.detail, self.suggestions, self))
        split.setStretchFactor(1, 1)
        split.setSizes(list(settings.SPLITTER_DEFAULT))  # the sidebar: room for the sample's
        split.setChildrenCollapsible(False)  # folder names
        self.setCentralWidget(split)
        # Permanent: a status message ("Tagged …") never covers the count; the count stays
        # at the right edge, the running job to its left.
        self.statusBar().addPermanentWidget(self.job_status)
        self.statusBar().addPermanentWidget(self.count_label)

        # None: all items; "\0untagged": untagged; FOLDER_QUERY + path: a folder; else a search
        self._query: str | None = None
        self._selected: list[int] = []
        # The item the window made current by itself (the first one shown), until the
        # selection changes otherwise: N takes it as not visited yet (see next_untagged).
        self._app_pick: int | None = None
        self._showing = False  # in _show: selection changes are the window's own
        self.help = HelpOverlay(self)
        self._folders_stale = True
        self._sidebar_timer = QTimer(self)
        self._sidebar_timer.setSingleShot(True)
        self._sidebar_timer.setInterval(30)
        self._sidebar_timer.timeout.connect(self._read_sidebar)
        self._make_actions()
        self._connect()
        self._drops = FolderDrops(self, self.start_import)  # a folder dropped on the window
        self.refresh_tags()
        self.refresh_folders()
        self.show_all()
        self._restore_layout()

    # -- the layout, remembered ----------------------------------------------------------------
    def _restore_layout(self) -> None:
        """Size, maximized or not, splitter and sidebar sections as the last window left
        them (settings.py); anything missing or unreadable keeps the defaults."""
        self._remember = True
        layout = settings.window_layout()
        if layout.geometry is None or not self.restoreGeometry(layout.geometry):
            self.resize(1280, 800)
        if layout.splitter is not None:
            self.splitter.setSizes(list(layout.splitter))
        self.sidebar.set_section_states(layout.sections)

    def use_default_layout(self) -> None:
        """The default layout, whatever was remembered, and nothing remembered when this
        window closes (``--screenshot``: the same picture on every machine)."""
        self._remember = False
        self.setWindowState(Qt.WindowState.WindowNoState)
        self.resize(1280, 800)
        self.splitter.setSizes(list(settings.SPLITTER_DEFAULT))
        self.sidebar.set_section_states(dict.fromkeys(settings.SECTIONS, True))

    def remember_layout(self) -> None:
        if not self._remember:
            return
        settings.remember_window_layout(settings.WindowLayout(
            geometry=self.saveGeometry(), splitter=tuple(self.splitter.sizes()),
            sections=self.sidebar.section_states()))

    # -- wiring --------------------------------------------------------------------------------
    def _action(self, text: str, slot: Callable[..., object], *keys: str,
                menu: QMenu | None = None) -> QAction:
        action = QAction(text, self)
        action.setShortcuts([QKeySequence(k) for k in keys])
        if slot != self.next_untagged:  # a key used on the window's pick: the person is there
            action.triggered.connect(self._forget_pick)
        action.triggered.connect(slot)
        self.addAction(action)  # shortcuts work even when the menu bar is hidden
        if menu is not None:
            menu.addAction(action)
        return action

    def _make_actions(self) -> None:
        bar = self.menuBar()
        file_menu, edit_menu = bar.addMenu("&File"), bar.addMenu("&Edit")
        go_menu = bar.addMenu("&Go")
        self.import_action = self._action("&Import folder…", self.choose_import_folder,
                                          "Ctrl+O", menu=file_menu)
        self._action("&Settings…", self.open_settings, "Ctrl+,", menu=file_menu)
        file_menu.addSeparator()
        self._action("&Quit", self.close, "Ctrl+Q", menu=file_menu)
        self.undo_action = self._action("&Undo", self.controller.undo, "Ctrl+Z", menu=edit_menu)
        self.redo_action = self._action("&Redo", self.controller.redo, "Ctrl+Shift+Z", "Ctrl+Y",
                                        menu=edit_menu)
        edit_menu.addSeparator()
        tag_action = self._action("&Add tag to selection", self.detail.focus_tag_edit, "T",
                                  menu=edit_menu)
        self._action("&Find", self.focus_search, "Ctrl+F", menu=go_menu)
        self.save_search_action = self._action("&Save search…", self.save_search, "Ctrl+S",
                                               menu=go_menu)
        self._action("&View large / back to the grid", self.toggle_viewer, "Space",
                     menu=go_menu)
        # Esc is not claimed by a line edit, so it leaves the tag or search field for the grid,
        # where the letter and digit keys work again.
        self._action("&Back to the items", self.focus_grid, "Esc", menu=go_menu)
        self._action("&Next item", lambda: self.grid.step(1), "Right", "J", menu=go_menu)
        self._action("&Previous item", lambda: self.grid.step(-1), "Left", "K", menu=go_menu)
        self._action("Next &untagged item", self.next_untagged, "N", menu=go_menu)
        self._action("&All items", self.show_all, "Ctrl+1", menu=go_menu)
        self._action("&Untagged items", self.show_untagged, "Ctrl+2", menu=go_menu)
        self._suggestion_actions(bar.addMenu("&Suggestions"))
        # "?" is a plain key like "T": a focused text field types it instead.
        help_action = self._action("&Keyboard shortcuts", self.help.toggle, "F1", "?",
                                   menu=bar.addMenu("&Help"))
        more = bar.findChild(QToolButton, "qt_menubar_ext_button")  # when the menus do not fit
        if more is not None:
            more.setAccessibleName("More menus")
        self.empty.set_keys([(_keys(self.import_action), "import a folder"),
                             (_keys(tag_action), "add a tag to the selected photos"),
                             (_keys(help_action), "every keyboard shortcut")])

    def _suggestion_actions(self, menu: QMenu) -> None:
        # Plain digits and letters: a focused text field types them instead (QLineEdit claims
        # printable keys), so these never fire while a tag or a search is being typed.
        s = self.controller.suggest
        for n in range(1, 10):
            self._action(f"Accept suggestion {n}", lambda _=False, i=n - 1: s.accept(i), str(n))
            self._action(f"Reject suggestion {n}", lambda _=False, i=n - 1: s.reject(i),
                         f"Alt+{n}")
        keys = menu.addAction("Keys: 1–9 accept, Alt+1–9 reject the n-th suggestion")
        keys.setEnabled(False)  # a label: the window-wide actions above do the work
        self._action(f"Accept all ≥ {ACCEPT_ALL_THRESHOLD:.0%}", s.accept_likely, "A", menu=menu)
        self._action("Reject the rest", s.reject_rest, "X", menu=menu)
        self._action("Accept the generated &set", s.accept_set, "G", menu=menu)
        menu.addSeparator()
        self.train_action = self._action("&Train my suggestions", s.start_training,
                                         "Ctrl+Shift+T", menu=menu)

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
        c.sidebar_ready.connect(self._sidebar_ready)
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
            acted.connect(self._forget_pick)  # before the write: N must not come back to it
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
        self.search.clear_error()
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
        self._show_empty_state(not ids and (query is None or self.controller.item_count() == 0))
        what = "items" if query is None else "untagged" if query == "\0untagged" else "matching"
        if query is not None and query.startswith(FOLDER_QUERY):
            what = f"in {Path(query[len(FOLDER_QUERY):]).name}"
        self.count_label.setText(f"{len(ids)} {what}")

    def _show_empty_state(self, empty: bool) -> None:
        """The call to action instead of the grid while the library has no items."""
        current = self.pages.currentWidget()
        if empty and current is not self.empty:
            focus = QApplication.focusWidget()
            self.pages.setCurrentWidget(self.empty)
            if focus is None or focus in (self.grid, self.viewer):
                self.empty.open_button.setFocus(Qt.FocusReason.OtherFocusReason)
        elif not empty and current is self.empty:
            had_focus = self.empty.isAncestorOf(QApplication.focusWidget())
            self.pages.setCurrentWidget(self.grid)
            if had_focus:
                self.grid.setFocus(Qt.FocusReason.OtherFocusReason)

    def empty_state_shown(self) -> bool:
        return self.pages.currentWidget() is self.empty

    # -- tags and selection --------------------------------------------------------------------
    def refresh_tags(self) -> None:
        """Re-read the sidebar (tag counts, untagged, saved searches) and the completions.

        The counts are read in a worker (``controller.refresh_sidebar``; hundreds of ms at
        100k items) and applied in ``_sidebar_ready``; a burst of tag changes makes one read.
        """
        self._sidebar_timer.start()

    def refresh_folders(self) -> None:
        # Only asked for after imports: folders change with imports, not with tags.
        self._folders_stale = True  # until a read that includes them has arrived
        self._sidebar_timer.start()

    def _read_sidebar(self) -> None:
        self.controller.refresh_sidebar(with_folders=self._folders_stale)

    def _sidebar_ready(self, data: SidebarData) -> None:
        self.sidebar.set_counts(data.counts, total=data.total, untagged=data.untagged)
        self.sidebar.set_saved_searches(data.saved_searches)  # per person, like tags
        self.detail.set_completions(data.completions)
        if data.folders is not None:
            self.sidebar.set_folders(data.folders)
            self._folders_stale = False
        self._training_readiness(data.total - data.untagged)

    def _training_readiness(self, tagged: int) -> None:
        """Train (button and menu) only with enough tagged photos; until then, how many more."""
        missing = training_shortfall(tagged)
        self.suggestions.set_training_shortfall(missing)
        self.train_action.setEnabled(not missing)
        self.train_action.setText("&Train my suggestions" + (
            f" ({missing} more tagged photo{'s' if missing != 1 else ''} needed)"
            if missing else ""))

    def sidebar_settled(self) -> bool:
        """No sidebar read waiting or running, and no write queued that will ask for one
        (tests and screenshots wait for this)."""
        return (not self._sidebar_timer.isActive() and not self.controller.sidebar_pending()
                and not self.controller.writes_pending())

    def _forget_pick(self, *_args: object) -> None:
        self._app_pick = None

    def _selection_changed(self, ids: list[int]) -> None:
        if not self._showing:  # a click, a key, a search's own selection: someone chose
            self._app_pick = None
        changed = ids != self._selected
        self._selected = ids
        self._refresh_detail()
        if self.viewing():
            self._show_in_viewer()
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

    # -- settings ------------------------------------------------------------------------------
    def _set_title(self) -> None:
        c = self.controller
        self.setWindowTitle(f"TagAssist — {c.paths.root.name} ({c.user.name})")

    def _user_changed(self, name: str) -> None:
        settings.remember_user(self.controller.paths.root, name)
        self._set_title()
        self.reload()  # "Untagged" and searches are per person

    def settings_state(self) -> SettingsState:
        c = self.controller
        device, models = c.suggest.engine.describe()
        personal = (c.suggest.result.models.get(PERSONAL_CONTENT)
                    if c.suggest.result is not None else None)
        models["your personal model"] = (f"version {personal}" if personal else
                                         "not trained yet (Suggestions ▸ Train my suggestions)")
        return SettingsState(
            users=c.user_names(), user=c.user.name, library=c.paths.root,
            database=c.paths.database, cache=c.paths.cache,
            models_dir=c.suggest.engine.models_dir, device=device, models=models,
            thumbnail_size=self.grid.iconSize().width(),
            analyse_after_import=c.analyse_after_import,
            retrain_after=c.suggest.retrain_after,
            always_show_set=c.suggest.engine.always_show_set)

    def open_settings(self) -> SettingsDialog:
        dialog = SettingsDialog(self.settings_state(), self)
        dialog.accepted.connect(lambda: self.apply_settings(dialog.choice()))
        dialog.open()  # window-modal, non-blocking: tests and the event loop keep running
        return dialog

    def apply_settings(self, choice: SettingsChoice) -> None:
        self.grid.set_thumbnail_size(choice.thumbnail_size)
        settings.set_thumbnail_size(choice.thumbnail_size)
        self.controller.analyse_after_import = choice.analyse_after_import
        settings.set_analyse_after_import(choice.analyse_after_import)
        self.controller.suggest.retrain_after = choice.retrain_after
        settings.set_retrain_after(choice.retrain_after)
        if choice.always_show_set != self.controller.suggest.engine.always_show_set:
            self.controller.suggest.engine.always_show_set = choice.always_show_set
            settings.set_always_show_set(choice.always_show_set)
            self.controller.suggest.refresh()
        self.controller.set_user(choice.user)
        if choice.open_library is not None:
            self.open_library_requested.emit(choice.open_library)

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
        """Esc: out of a text field, or out of the large viewer, back to the grid."""
        if self.viewing() and self.focusWidget() in (self.viewer, None):  # not from a field
            self.close_viewer()
        target = self.empty.open_button if self.empty_state_shown() else self.grid
        target.setFocus(Qt.FocusReason.ShortcutFocusReason)

    # -- the large viewer ----------------------------------------------------------------------
    def viewing(self) -> bool:
        return self.pages.currentWidget() is self.viewer

    def open_viewer(self) -> None:
        if self.model.rowCount() == 0:
            return
        if self.grid.currentIndex().row() < 0:
            self.grid.select_rows([0])
        self.pages.setCurrentWidget(self.viewer)
        self._show_in_viewer()
        # The hidden grid cannot keep the focus; the window's keys (J/K, 1–9, T) act on its
        # selection all the same.
        self.viewer.setFocus()

    def close_viewer(self) -> None:
        self.pages.setCurrentWidget(self.grid)
        self.grid.scrollTo(self.grid.currentIndex())
        self.grid.setFocus()

    def toggle_viewer(self) -> None:
        if self.viewing():
            self.close_viewer()
        else:
            self.open_viewer()

    def _show_in_viewer(self) -> None:
        row = self.grid.currentIndex().row()
        item = self.model.item_at(row) if row >= 0 else None
        self.viewer.show_item(item, f"{row + 1} of {self.model.rowCount()}" if row >= 0 else "")

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
