"""The window's menu bar and keyboard shortcuts: every QAction, created on the window."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QToolButton

from tagassist.ui.suggest_controller import ACCEPT_ALL_THRESHOLD

if TYPE_CHECKING:
    from collections.abc import Callable

    from PySide6.QtWidgets import QMenu

    from tagassist.ui.main_window import MainWindow


@dataclass(frozen=True)
class WindowActions:
    """The actions the window changes after creating them (enabled, text), or tests use."""

    import_folder: QAction
    undo: QAction
    redo: QAction
    save_search: QAction
    train: QAction


def keys_text(action: QAction) -> str:
    """An action's keys as the empty state lists them: "F1 or ?"."""
    return " or ".join(k.toString(QKeySequence.SequenceFormat.NativeText)
                       for k in action.shortcuts())


def _action(window: MainWindow, text: str, slot: Callable[..., object], *keys: str,
            menu: QMenu | None = None) -> QAction:
    action = QAction(text, window)
    action.setShortcuts([QKeySequence(k) for k in keys])
    if slot != window.next_untagged:  # a key used on the window's pick: the person is there
        action.triggered.connect(window.forget_pick)
    action.triggered.connect(slot)
    window.addAction(action)  # shortcuts work even when the menu bar is hidden
    if menu is not None:
        menu.addAction(action)
    return action


def make_actions(window: MainWindow) -> WindowActions:
    """The File, Edit, Go, Suggestions and Help menus, and the window-wide keys.

    The order of creation is the order the keyboard help lists them in.
    """
    w = window
    bar = w.menuBar()
    file_menu, edit_menu = bar.addMenu("&File"), bar.addMenu("&Edit")
    go_menu = bar.addMenu("&Go")
    import_action = _action(w, "&Import folder…", w.choose_import_folder, "Ctrl+O",
                            menu=file_menu)
    _action(w, "&Settings…", w.open_settings, "Ctrl+,", menu=file_menu)
    file_menu.addSeparator()
    _action(w, "&Quit", w.close, "Ctrl+Q", menu=file_menu)
    undo = _action(w, "&Undo", w.controller.undo, "Ctrl+Z", menu=edit_menu)
    redo = _action(w, "&Redo", w.controller.redo, "Ctrl+Shift+Z", "Ctrl+Y", menu=edit_menu)
    edit_menu.addSeparator()
    tag_action = _action(w, "&Add tag to selection", w.detail.focus_tag_edit, "T",
                         menu=edit_menu)
    _action(w, "&Find", w.focus_search, "Ctrl+F", menu=go_menu)
    save_search = _action(w, "&Save search…", w.save_search, "Ctrl+S", menu=go_menu)
    _action(w, "&View large / back to the grid", w.toggle_viewer, "Space", menu=go_menu)
    # Esc is not claimed by a line edit, so it leaves the tag or search field for the grid,
    # where the letter and digit keys work again.
    _action(w, "&Back to the items", w.focus_grid, "Esc", menu=go_menu)
    _action(w, "&Next item", lambda: w.grid.step(1), "Right", "J", menu=go_menu)
    _action(w, "&Previous item", lambda: w.grid.step(-1), "Left", "K", menu=go_menu)
    _action(w, "Next &untagged item", w.next_untagged, "N", menu=go_menu)
    _action(w, "&All items", w.show_all, "Ctrl+1", menu=go_menu)
    _action(w, "&Untagged items", w.show_untagged, "Ctrl+2", menu=go_menu)
    train = _suggestion_actions(w, bar.addMenu("&Suggestions"))
    # "?" is a plain key like "T": a focused text field types it instead.
    help_action = _action(w, "&Keyboard shortcuts", w.help.toggle, "F1", "?",
                          menu=bar.addMenu("&Help"))
    more = bar.findChild(QToolButton, "qt_menubar_ext_button")  # when the menus do not fit
    if more is not None:
        more.setAccessibleName("More menus")
    w.empty.set_keys([(keys_text(import_action), "import a folder"),
                      (keys_text(tag_action), "add a tag to the selected photos"),
                      (keys_text(help_action), "every keyboard shortcut")])
    return WindowActions(import_folder=import_action, undo=undo, redo=redo,
                         save_search=save_search, train=train)


def _suggestion_actions(window: MainWindow, menu: QMenu) -> QAction:
    """The keys on the n-th suggestion and the Suggestions menu; returns Train."""
    # Plain digits and letters: a focused text field types them instead (QLineEdit claims
    # printable keys), so these never fire while a tag or a search is being typed.
    s = window.controller.suggest
    for n in range(1, 10):
        _action(window, f"Accept suggestion {n}", lambda _=False, i=n - 1: s.accept(i), str(n))
        _action(window, f"Reject suggestion {n}", lambda _=False, i=n - 1: s.reject(i),
                f"Alt+{n}")
    keys = menu.addAction("Keys: 1–9 accept, Alt+1–9 reject the n-th suggestion")
    keys.setEnabled(False)  # a label: the window-wide actions above do the work
    _action(window, f"Accept all ≥ {ACCEPT_ALL_THRESHOLD:.0%}", s.accept_likely, "A", menu=menu)
    _action(window, "Reject the rest", s.reject_rest, "X", menu=menu)
    _action(window, "Accept the generated &set", s.accept_set, "G", menu=menu)
    menu.addSeparator()
    return _action(window, "&Train my suggestions", s.start_training, "Ctrl+Shift+T", menu=menu)
