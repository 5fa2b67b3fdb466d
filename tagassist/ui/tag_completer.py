"""The tag field's completion list: Enter adds the tag the list highlights.

Typing "Harv" next to an existing "Harvest" and pressing Enter made a second tag, "Harv":
QCompleter leaves its list without a current row and hands Enter to the field, which adds
what was typed.  Here, while the list shows, its first entry that starts with what was typed
is highlighted, and Enter adds the highlighted entry (or one picked with the arrow keys).
An entry that only contains the text elsewhere is not highlighted, so Enter adds the text as
typed.  To add exactly what was typed despite a highlight: Esc closes the list, then Enter.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSignalBlocker, QStringListModel, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QCompleter, QLineEdit

ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)
# Rows looked at for the highlight, per key on the UI thread: a library's thousands of tags
# all contain a one-letter text; the first prefix match is near the top of a sorted list.
MAX_SCANNED = 500


class TagCompleter(QCompleter):
    """Case-insensitive "contains" completion for ``edit``, whose Enter takes the highlight."""

    accepted = Signal()  # Enter took the highlighted entry: the field now holds it

    def __init__(self, model: QStringListModel, edit: QLineEdit) -> None:
        super().__init__(model, edit)
        self.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setFilterMode(Qt.MatchFlag.MatchContains)
        edit.setCompleter(self)
        # After the key is handled: the field tells of the edit before the list is filtered
        edit.textEdited.connect(lambda: QTimer.singleShot(0, self, self._highlight_first_prefix))

    def _highlight_first_prefix(self) -> None:
        popup, edit = self.popup(), self.widget()
        want = edit.text().strip().casefold() if isinstance(edit, QLineEdit) else ""
        if not want or not popup.isVisible():
            return
        model = self.completionModel()
        for row in range(min(model.rowCount(), MAX_SCANNED)):
            index = model.index(row, 0)
            if str(index.data()).casefold().startswith(want):
                # Quietly: QCompleter would put the highlighted entry into the field as the
                # person types; it goes there only when Enter takes it.
                with QSignalBlocker(popup.selectionModel()):
                    popup.setCurrentIndex(index)
                popup.viewport().update()
                return

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # QCompleter filters its own popup's events; these two keys are taken here first.
        popup, edit = self.popup(), self.widget()
        if (watched is popup and event.type() == QEvent.Type.KeyPress and popup.isVisible()
                and isinstance(event, QKeyEvent) and isinstance(edit, QLineEdit)):
            if event.key() == Qt.Key.Key_Escape:  # closes the list only: the field keeps
                popup.hide()  # the text and the keyboard (a second Esc leaves the field)
                return True
            if event.key() in ENTER_KEYS and popup.currentIndex().isValid():
                edit.setText(str(popup.currentIndex().data()))
                popup.hide()
                self.accepted.emit()
                return True
        return super().eventFilter(watched, event)
