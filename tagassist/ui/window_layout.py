"""Where the window's parts sit (sidebar | centre | right column, the status bar's corner)
and how big, remembered from one run to the next (settings.py keeps the values)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from tagassist.ui import settings
from tagassist.ui.right_column import RightColumn

if TYPE_CHECKING:
    from tagassist.ui.main_window import MainWindow


def arrange(window: MainWindow) -> QSplitter:
    """Sidebar | [search bar / notifications / pages] | [detail / suggestions], as the
    window's central widget, at the default sizes; returns the splitter."""
    center = QWidget(window)
    col = QVBoxLayout(center)
    col.setContentsMargins(6, 6, 6, 0)
    col.addWidget(window.search)
    col.addWidget(window.notifications)
    col.addWidget(window.pages, 1)
    split = QSplitter(Qt.Orientation.Horizontal, window)
    split.addWidget(window.sidebar)
    split.addWidget(center)
    split.addWidget(RightColumn(window.detail, window.suggestions, window))
    split.setStretchFactor(1, 1)
    split.setSizes(list(settings.SPLITTER_DEFAULT))  # the sidebar: room for the sample's
    split.setChildrenCollapsible(False)  # folder names
    window.setCentralWidget(split)
    # Permanent: a status message ("Tagged …") never covers the count; the count stays
    # at the right edge, the running job to its left.
    window.statusBar().addPermanentWidget(window.job_status)
    window.statusBar().addPermanentWidget(window.count_label)
    return split


class LayoutMemory:
    """The window's size, maximized or not, splitter and sidebar sections: restored when it
    opens, saved when it closes, unless a fixed default layout was asked for."""

    def __init__(self, window: MainWindow) -> None:
        self._window = window
        self._remember = True

    def restore(self) -> None:
        """As the last window left them; anything missing or unreadable keeps the defaults."""
        self._remember = True
        w = self._window
        layout = settings.window_layout()
        if layout.geometry is None or not w.restoreGeometry(layout.geometry):
            w.resize(1280, 800)
        if layout.splitter is not None:
            w.splitter.setSizes(list(layout.splitter))
        w.sidebar.set_section_states(layout.sections)

    def use_default(self) -> None:
        """The default layout, whatever was remembered, and nothing remembered when the
        window closes (``--screenshot``: the same picture on every machine)."""
        self._remember = False
        w = self._window
        w.setWindowState(Qt.WindowState.WindowNoState)
        w.resize(1280, 800)
        w.splitter.setSizes(list(settings.SPLITTER_DEFAULT))
        w.sidebar.set_section_states(dict.fromkeys(settings.SECTIONS, True))

    def remember(self) -> None:
        if not self._remember:
            return
        w = self._window
        settings.remember_window_layout(settings.WindowLayout(
            geometry=w.saveGeometry(), splitter=tuple(w.splitter.sizes()),
            sections=w.sidebar.section_states()))
