"""The keyboard help: a translucent sheet over the window listing every keyboard action.

The list is built from the window's own ``QAction``s (text and shortcuts) each time it opens,
so it cannot drift from the keys that really work.  Numbered families ("Accept suggestion
1" … "9") are folded into one line.  While it shows, it takes every key: Esc, F1 or ? close
it (as does a click), and no other shortcut fires behind it.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QColor, QKeySequence, QPainter
from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget

if TYPE_CHECKING:
    from PySide6.QtGui import QKeyEvent, QMouseEvent, QPaintEvent

CLOSE_KEYS = (Qt.Key.Key_Escape, Qt.Key.Key_F1, Qt.Key.Key_Question)
_NUMBERED = re.compile(r"^(.*\S)\s+(\d)$")


def _keys(action: QAction) -> str:
    return ", ".join(s.toString(QKeySequence.SequenceFormat.NativeText)
                     for s in action.shortcuts())


def shortcut_rows(actions: list[QAction]) -> list[tuple[str, str]]:
    """(description, keys) for every action with a shortcut, in the given order."""
    rows: list[tuple[str, str]] = []
    families: dict[str, tuple[int, str, str]] = {}  # "Accept suggestion" -> row, first n, keys
    for action in actions:
        keys = _keys(action)
        if not keys:
            continue
        text = action.text().replace("&", "")
        m = _NUMBERED.match(text)
        if m and m.group(1) in families:  # widen "… 1" / "1" to "… 1–n" / "1 … n"
            row, first, first_keys = families[m.group(1)]
            rows[row] = (f"{m.group(1)} {first}–{m.group(2)}", f"{first_keys} … {keys}")
            continue
        if m:
            families[m.group(1)] = (len(rows), m.group(2), keys)
        rows.append((text, keys))
    return rows


def _html(rows: list[tuple[str, str]]) -> str:
    cells = "".join(
        f"<tr><td align='right' style='padding: 3px 14px 3px 0;'><b>{html.escape(k)}</b></td>"
        f"<td style='padding: 3px 0;'>{html.escape(t)}</td></tr>" for t, k in rows)
    return ("<p style='font-size: 16px; font-weight: bold;'>Keyboard shortcuts</p>"
            f"<table>{cells}</table>"
            "<p style='color: #c9ced6;'>Letters and digits act only while no text field"
            " has focus (Esc leaves one).<br>Esc, F1 or ? closes this help.</p>")


class HelpOverlay(QWidget):
    """Covers its parent (a window) while shown; :meth:`toggle` opens or closes it."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("helpOverlay")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName("Keyboard shortcuts")
        self.setAccessibleDescription("Every key of the window; Esc, F1 or ? close this list")
        self.sheet = QLabel(self)
        self.sheet.setObjectName("helpText")
        self.sheet.setTextFormat(Qt.TextFormat.RichText)
        self.sheet.setStyleSheet("color: white; background: rgba(20, 24, 31, 225);"
                                 " border-radius: 8px; padding: 16px 22px;")
        box = QVBoxLayout(self)
        box.addWidget(self.sheet, 0, Qt.AlignmentFlag.AlignCenter)
        self._return_focus: QWidget | None = None
        parent.installEventFilter(self)  # follow the window's size
        self.hide()

    def rows(self) -> list[tuple[str, str]]:
        return shortcut_rows(self.parentWidget().actions())

    def toggle(self) -> None:
        if self.isVisible():
            self.close_help()
            return
        self.sheet.setText(_html(self.rows()))
        self.setGeometry(self.parentWidget().rect())
        self._return_focus = QApplication.focusWidget()
        self.show()
        self.raise_()
        self.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def close_help(self) -> None:
        self.hide()
        if self._return_focus is not None:
            self._return_focus.setFocus(Qt.FocusReason.OtherFocusReason)
        self._return_focus = None

    # -- Qt hooks ------------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if watched is self.parentWidget() and event.type() == QEvent.Type.Resize:
            self.setGeometry(self.parentWidget().rect())
        return False

    def event(self, e: QEvent) -> bool:
        if e.type() == QEvent.Type.ShortcutOverride:
            e.accept()  # every key comes here as a key press: no shortcut fires behind the help
            return True
        return super().event(e)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt API
        if event.key() in CLOSE_KEYS:
            self.close_help()
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        self.close_help()
        event.accept()

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        QPainter(self).fillRect(self.rect(), QColor(0, 0, 0, 110))  # dim the window behind
