"""The notification strip above the grid: import problems and worker errors land here.

Each message is a dismissible row, coloured by level.  Only the newest few are kept, so a
flood of errors cannot push the grid off screen.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from tagassist.ui import theme


def _style(level: str) -> str:
    """A tint of the level's colour over the window's, the palette's own text on it."""
    c = theme.colours()
    soft, border = {"error": (c.error_soft, c.error_border),
                    "warning": (c.warning_soft, c.warning_border)}.get(
                        level, (c.info_soft, c.info_border))
    return (f"#notification {{ background: {theme.css(soft)};"
            f" border: 1px solid {theme.css(border)}; color: {theme.css(c.text)};"
            " border-radius: 4px; }")


# Style icons, not emoji: emoji glyphs are missing from many (e.g. headless) font setups.
_ICONS = {
    "error": QStyle.StandardPixmap.SP_MessageBoxCritical,
    "warning": QStyle.StandardPixmap.SP_MessageBoxWarning,
    "info": QStyle.StandardPixmap.SP_MessageBoxInformation,
}


class Notification(QFrame):
    def __init__(self, level: str, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.level, self.text = level, text
        self.setObjectName("notification")
        self.setAccessibleName({"error": "Error", "warning": "Warning"}.get(level, "Note"))
        self.setAccessibleDescription(text)
        # The frame's rule names it (#notification), so its labels draw no border or
        # background of their own; no style sheet on them, or they would keep the palette
        # they were made with through a light/dark switch.
        self.icon = QLabel(self)
        std = self.style().standardIcon(_ICONS.get(level, _ICONS["info"]))
        self.icon.setPixmap(std.pixmap(16, 16))
        self.label = QLabel(text, self)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setAccessibleName(text)
        self.close_button = QToolButton(self)
        self.close_button.setText("✕")
        self.close_button.setToolTip("Dismiss")
        self.close_button.setAccessibleName("Dismiss this message")
        self.close_button.setAutoRaise(True)
        self.close_button.clicked.connect(self.dismiss)
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 4, 4, 4)
        row.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.label, 1)
        row.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self.restyle()

    def restyle(self) -> None:
        """Its colours from the palette (the area calls this again after a light/dark switch:
        the note's own style sheet keeps it from hearing of one)."""
        self.setStyleSheet(_style(self.level))

    def dismiss(self) -> None:
        self.hide()
        self.setParent(None)
        self.deleteLater()


class NotificationArea(QWidget):
    def __init__(self, parent: QWidget | None = None, keep: int = 4) -> None:
        super().__init__(parent)
        self._keep = keep
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 4)
        self._layout.setSpacing(4)
        self.hide()
        theme.restyle_on_palette_change(self, self._restyle)

    def _restyle(self) -> None:
        for note in self.notifications():
            note.restyle()

    def add(self, level: str, text: str) -> Notification:
        note = Notification(level, text, self)
        note.destroyed.connect(self._update_visibility)
        self._layout.addWidget(note)
        shown = self.notifications()
        for old in shown[:-self._keep]:
            old.dismiss()
        self.show()
        return note

    def notifications(self) -> list[Notification]:
        return [w for w in self.findChildren(Notification) if w.parent() is self]

    def messages(self) -> list[str]:
        return [n.text for n in self.notifications()]

    def clear(self) -> None:
        for note in self.notifications():
            note.dismiss()
        self.hide()

    def _update_visibility(self, *_args: object) -> None:
        self.setVisible(bool(self.notifications()))
