"""The window's right column: the selection's details on top, its suggestions below.

The suggestion list gets the room its rows need before the preview does: when the rows (up to
nine, their reasons on up to three lines each) are taller than the list, the preview above
gives way, down to ``PREVIEW_MIN``, and takes its height back once the list has room again.
So a note that comes or goes under the list (Train's "N more tagged photos needed") or a
second line of tag chips never pushes the last rows out of view; only a window too small
for them all leaves the list to scroll.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QFrame, QVBoxLayout, QWidget

from tagassist.ui import theme
from tagassist.ui.detail_panel import DetailPanel
from tagassist.ui.suggestion_panel import SuggestionPanel

if TYPE_CHECKING:
    from PySide6.QtGui import QResizeEvent

_REFIT = (QEvent.Type.Resize, QEvent.Type.LayoutRequest, QEvent.Type.Show, QEvent.Type.Hide)


class RightColumn(QWidget):
    def __init__(self, detail: DetailPanel, suggestions: SuggestionPanel,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("rightColumn")
        self.detail, self.suggestions = detail, suggestions
        self.rule = QFrame(self)
        self.rule.setFrameShape(QFrame.Shape.HLine)
        theme.restyle_on_palette_change(self, lambda: self.rule.setStyleSheet(
            f"color: {theme.css(theme.colours().rule)};"))
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        box.addWidget(detail)
        box.addWidget(self.rule)
        box.addWidget(suggestions, 1)
        # After the layouts have done their work: one fit for a burst of changes.
        self._fit_timer = QTimer(self)
        self._fit_timer.setSingleShot(True)
        self._fit_timer.setInterval(0)
        self._fit_timer.timeout.connect(self.fit)
        for watched in (suggestions.scroll.viewport(), suggestions.scroll.widget()):
            watched.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if event.type() in _REFIT:
            self._fit_timer.start()
        return False

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._fit_timer.start()

    def fit(self) -> None:
        """Shrink the preview by what the rows lack, or grow it back by what they leave."""
        over = self.suggestions.list_overflow()
        if over:
            self.detail.set_preview_height(self.detail.preview_height() - over)
