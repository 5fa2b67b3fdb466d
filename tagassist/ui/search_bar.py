"""The search field: a boolean tag expression, with syntax errors shown inline below it."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QLineEdit, QVBoxLayout, QWidget


class SearchBar(QWidget):
    search_requested = Signal(str)  # "" means: show everything

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = QLineEdit(self)
        self.edit.setObjectName("searchEdit")
        self.edit.setPlaceholderText("Search tags, e.g.  beach AND NOT night   (Ctrl+F)")
        self.edit.setClearButtonEnabled(True)
        self.edit.returnPressed.connect(self._submit)
        # Clearing the field (✕ button or select-all + delete) goes back to all items.
        self.edit.textChanged.connect(lambda t: None if t.strip() else self._submit())
        self.error = QLabel(self)
        self.error.setObjectName("searchError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020;")
        self.error.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.edit)
        layout.addWidget(self.error)

    def text(self) -> str:
        return self.edit.text().strip()

    def set_query(self, text: str, submit: bool = True) -> None:
        self.edit.blockSignals(True)  # no intermediate "cleared" search
        self.edit.setText(text)
        self.edit.blockSignals(False)
        if submit:
            self._submit()

    def show_error(self, message: str) -> None:
        # The library's message ends with a caret diagram; inline, the first line says it all.
        self.error.setText(message.splitlines()[0] if message else "Invalid search")
        self.error.setToolTip(message)
        self.error.show()
        self.edit.setStyleSheet("QLineEdit { border: 1px solid #b00020; }")

    def clear_error(self) -> None:
        self.error.hide()
        self.error.clear()
        self.edit.setStyleSheet("")

    def _submit(self) -> None:
        self.search_requested.emit(self.text())
