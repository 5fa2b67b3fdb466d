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

_STYLES = {
    "error": "background: #fdecea; border: 1px solid #f5c2c0; color: #7a1c16;",
    "warning": "background: #fff4e0; border: 1px solid #f3d19e; color: #6b4500;",
    "info": "background: #e8f1fd; border: 1px solid #b7d0f5; color: #183e73;",
}
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
        self.setStyleSheet(f"#notification {{ {_STYLES.get(level, _STYLES['info'])}"
                           " border-radius: 4px; }")
        self.icon = QLabel(self)
        self.icon.setStyleSheet("border: none; background: transparent;")
        std = self.style().standardIcon(_ICONS.get(level, _ICONS["info"]))
        self.icon.setPixmap(std.pixmap(16, 16))
        self.label = QLabel(text, self)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setStyleSheet("border: none; background: transparent;")
        self.close_button = QToolButton(self)
        self.close_button.setText("✕")
        self.close_button.setToolTip("Dismiss")
        self.close_button.setAutoRaise(True)
        self.close_button.clicked.connect(self.dismiss)
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 4, 4, 4)
        row.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.label, 1)
        row.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)

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

    def _update_visibility(self, *_args) -> None:
        self.setVisible(bool(self.notifications()))
