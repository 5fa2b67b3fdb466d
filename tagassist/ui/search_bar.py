"""The search field: a boolean tag expression, with syntax errors shown inline below it, and
a note there when nothing matches (the grid is then empty: it says why)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QLineEdit, QToolButton, QVBoxLayout, QWidget

from tagassist.ui import theme


class SearchBar(QWidget):
    search_requested = Signal(str)  # "" means: show everything

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = QLineEdit(self)
        self.edit.setObjectName("searchEdit")
        self.edit.setPlaceholderText("Search tags, e.g.  beach AND NOT night   (Ctrl+F)")
        self.edit.setClearButtonEnabled(True)
        self.edit.setAccessibleName("Search tags")
        self.edit.setAccessibleDescription(
            "A tag expression such as: beach AND NOT night. Enter searches; Ctrl+F comes here")
        for button in self.edit.findChildren(QToolButton):  # the field's own clear button
            button.setAccessibleName("Clear the search")
            button.setAccessibleDescription("Shows all items again")
        self.edit.returnPressed.connect(self._submit)
        # Clearing the field (✕ button or select-all + delete) goes back to all items.
        self.edit.textChanged.connect(lambda t: None if t.strip() else self._submit())
        self.error = QLabel(self)
        self.error.setObjectName("searchError")
        self.error.setWordWrap(True)
        self.error.setAccessibleName("Search problem")
        self.error.hide()
        self._bad = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.edit)
        layout.addWidget(self.error)
        theme.restyle_on_palette_change(self, self._restyle)

    def _restyle(self) -> None:
        """The error colour from the palette (again after a light/dark switch); a note is
        muted."""
        c = theme.colours()
        bad = theme.css(c.bad)
        self.error.setStyleSheet(f"color: {bad if self._bad else theme.css(c.muted)};")
        self.edit.setStyleSheet(f"QLineEdit {{ border: 1px solid {bad}; }}" if self._bad else "")

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
        self.error.setAccessibleName("Search problem")
        self.error.show()
        self._bad = True
        self._restyle()

    def show_note(self, message: str) -> None:
        """Not an error: a line below the field (nothing matched, and what to try)."""
        self.error.setText(message)
        self.error.setToolTip("")
        self.error.setAccessibleName("About the search")
        self.error.show()
        self._bad = False
        self._restyle()

    def clear_error(self) -> None:
        self.error.hide()
        self.error.clear()
        if self._bad:
            self._bad = False
            self._restyle()

    def _submit(self) -> None:
        self.search_requested.emit(self.text())


def no_match_note(expression: str) -> str:
    """What to tell when ``expression`` matched nothing.  Words side by side are separate
    tags that must all be there: united kingdom is two tags, "united kingdom" in quotes one."""
    words = expression.split()
    plain = (len(words) > 1 and not set(expression) & set('"()')
             and not {w.upper() for w in words} & {"AND", "OR", "NOT"})
    if plain:
        return (f"No item has all of the tags {', '.join(words)}. For one tag with a space "
                f"in its name, put it in quotes: \"{' '.join(words)}\".")
    return "No item matches. Search looks at tags: the ones in use are listed on the left."
