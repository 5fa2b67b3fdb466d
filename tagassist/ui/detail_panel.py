"""The detail panel: preview and facts of the selection, its tags as removable chips, and a
tag entry (with completion) that tags every selected item.

It only displays what it is given and emits intent (``add_tag``/``remove_tag``); the main window
asks the controller to do the work.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QStringListModel, Qt, Signal
from PySide6.QtGui import QKeySequence, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from tagassist.app.sidebar_jobs import ALIAS_ARROW
from tagassist.ui import theme
from tagassist.ui.flow_layout import FlowLayout
from tagassist.ui.item_model import display_name
from tagassist.ui.tag_completer import TagCompleter

if TYPE_CHECKING:
    from tagassist.library import Item

PREVIEW = 280
PREVIEW_HEIGHT = 180  # the preview's height while the suggestion list below has room …
PREVIEW_MIN = 96  # … and how far it gives way when the list needs more for its nine rows
SPARE_CHIPS = 64  # hidden chips kept for the next selection's tags


def chip_style() -> str:
    """One style sheet on the chips' box, not one per chip (a widget's own sheet is parsed
    anew); its colours come from the palette."""
    c = theme.colours()
    return (f"QPushButton#tagChip {{ border: 1px solid {theme.css(c.chip_border)};"
            f" border-radius: 10px; background: {theme.css(c.chip)};"
            f" color: {theme.css(c.text)}; padding: 2px 8px; }}"
            f"QPushButton#tagChip:hover {{ background: {theme.css(c.bad_soft)}; }}")


class TagEdit(QLineEdit):
    """A line edit that leaves Ctrl+Z / Ctrl+Shift+Z to the window while it is empty.

    Right after adding a tag the field is empty, and Ctrl+Z must undo the *tag*, not
    resurrect the text just typed (QLineEdit would otherwise claim the shortcut).
    """

    def event(self, e: QEvent) -> bool:
        if e.type() == QEvent.Type.ShortcutOverride and not self.text() and (
                e.matches(QKeySequence.StandardKey.Undo) or e.matches(QKeySequence.StandardKey.Redo)
                or e.keyCombination() == QKeySequence("Ctrl+Y")[0]):
            e.ignore()
            return True
        return super().event(e)


def _when(iso: str | None) -> str:
    return iso.replace("T", " ")[:16] if iso else ""


class DetailPanel(QWidget):
    add_tag = Signal(str)
    remove_tag = Signal(str)  # full tag path
    done_typing = Signal()  # Enter in the tag field: the keyboard goes back to the items

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumWidth(PREVIEW + 24)
        self.preview = QLabel(self)
        self.preview.setObjectName("preview")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setFixedHeight(PREVIEW_HEIGHT)
        self.preview.setAccessibleName("Preview of the selected item")
        self._preview_source: QPixmap | None = None  # what the preview shows, unscaled
        self.title = QLabel(self)
        self.title.setObjectName("title")
        self.title.setWordWrap(True)
        self.title.setStyleSheet("font-weight: bold; font-size: 14px;")
        self.facts = QLabel(self)
        self.facts.setObjectName("facts")
        self.facts.setWordWrap(True)
        self.facts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.facts.setAccessibleName("About the selection")  # the mouse can select its text

        tags_header = QLabel("Tags", self)
        tags_header.setStyleSheet("font-weight: bold; margin-top: 6px;")
        self.chips_box = QFrame(self)
        self.chips_box.setAccessibleName("Tags of the selection")
        self.chips = FlowLayout(self.chips_box)
        self.no_tags = QLabel("No tags yet", self)

        self.tag_edit = TagEdit(self)
        self.tag_edit.setObjectName("tagEdit")
        self.tag_edit.setPlaceholderText("Add a tag to the selection (T)")
        self.tag_edit.setAccessibleName("Add a tag")
        self.tag_edit.setAccessibleDescription(
            "Type a tag and press Enter to add it to every selected item (T comes here)")
        self._completions = QStringListModel(self)
        # Enter with a tag highlighted in the list adds that tag (tag_completer.py)
        TagCompleter(self._completions, self.tag_edit).accepted.connect(self._submit)
        self.tag_edit.returnPressed.connect(self._submit)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        for w in (self.preview, self.title, self.facts, tags_header, self.chips_box,
                  self.no_tags, self.tag_edit):
            layout.addWidget(w)
        layout.addStretch(1)
        self._chip_buttons: dict[str, QPushButton] = {}  # shown, in order
        self._spare_chips: list[QPushButton] = []  # hidden, in the layout, for reuse
        self.show_items(0, None, {})
        theme.restyle_on_palette_change(self, self._restyle)

    def _restyle(self) -> None:
        """Colours from the palette (again after a light/dark switch)."""
        c = theme.colours()
        self.preview.setStyleSheet(f"background: {theme.css(c.surface)}; border-radius: 4px;")
        self.no_tags.setStyleSheet(f"color: {theme.css(c.muted)};")
        self.chips_box.setStyleSheet(chip_style())

    # -- display -------------------------------------------------------------------------------
    def set_completions(self, names: list[str]) -> None:
        self._completions.setStringList(names)

    def show_items(self, count: int, item: Item | None, tags: dict[str, tuple[str, int]],
                   pixmap: QPixmap | None = None, placeholder: QPixmap | None = None) -> None:
        """Show a selection of ``count`` items whose first is ``item``; ``tags`` maps
        path -> (name, how many selected items have it)."""
        self.tag_edit.setEnabled(count > 0)
        if count == 0:
            self.title.setText("Nothing selected")
            self.facts.setText("Select one or more items to see and edit their tags.")
            self._set_preview(None, None)
        elif count == 1 and item is not None:
            self.title.setText(display_name(item))
            self.facts.setText(self._facts(item))
            self._set_preview(pixmap, placeholder)
        else:
            self.title.setText(f"{count} items selected")
            self.facts.setText("Tags added here go to all of them.")
            self._set_preview(pixmap, placeholder)
        self._set_chips(tags, count)

    def _facts(self, item: Item) -> str:
        lines = []
        if item.paths and item.title:  # without a title the file name is already the heading
            lines.append(Path(item.paths[0]).name)
        if item.capture_time:
            lines.append(f"Taken {_when(item.capture_time)}")
        if item.place:
            lines.append(item.place)
        if item.camera:
            lines.append(item.camera)
        if item.width and item.height:
            lines.append(f"{item.width} × {item.height}")
        if item.kind == "document" and item.text_excerpt:
            lines.append(item.text_excerpt[:160].replace("\n", " ") + "…")
        return "\n".join(lines)

    def _set_preview(self, pixmap: QPixmap | None, placeholder: QPixmap | None) -> None:
        pm = pixmap if pixmap is not None else placeholder
        self._preview_source = pm
        if pm is None:
            self.preview.clear()
            return
        self.preview.setPixmap(pm.scaled(PREVIEW, self.preview_height(),
                                         Qt.AspectRatioMode.KeepAspectRatio,
                                         Qt.TransformationMode.SmoothTransformation))

    def preview_height(self) -> int:
        return self.preview.minimumHeight()  # fixed: minimum and maximum alike

    def set_preview_height(self, height: int) -> None:
        """The preview between ``PREVIEW_MIN`` and ``PREVIEW_HEIGHT`` px high: it gives way
        when the suggestion list below needs the room for its rows (see right_column.py)."""
        height = max(PREVIEW_MIN, min(PREVIEW_HEIGHT, height))
        if height == self.preview_height():
            return
        self.preview.setFixedHeight(height)
        pm = self._preview_source
        if pm is not None:
            self.preview.setPixmap(pm.scaled(PREVIEW, height, Qt.AspectRatioMode.KeepAspectRatio,
                                             Qt.TransformationMode.SmoothTransformation))

    def _set_chips(self, tags: dict[str, tuple[str, int]], count: int) -> None:
        """Update the chips in place: a tag still shown keeps its chip (its text changes only
        when its count does), a gone tag's chip is hidden for reuse, a new tag takes one."""
        order = sorted(tags, key=str.casefold)
        old = self._chip_buttons
        self.chips_box.setUpdatesEnabled(False)  # one repaint (and one layout) for the batch
        try:
            for path in [p for p in old if p not in tags]:
                chip = old.pop(path)
                chip.hide()
                if len(self._spare_chips) < SPARE_CHIPS:
                    self._spare_chips.append(chip)
                else:
                    chip.deleteLater()  # its layout item goes with it
            shown: dict[str, QPushButton] = {}
            for path in order:
                chip = old.get(path)
                if chip is None:
                    chip = self._spare_chips.pop() if self._spare_chips else self._new_chip()
                    chip.setProperty("tagPath", path)
                    chip.setToolTip(f"{path} — click to remove from the selection")
                    chip.setAccessibleName("Remove the tag " + " under ".join(
                        reversed(path.split("|"))))
                    chip.setAccessibleDescription("Removes it from every selected item")
                name, n = tags[path]
                label = name if n == count else f"{name} ({n}/{count})"
                if chip.text() != f"{label}  ✕":
                    chip.setText(f"{label}  ✕")
                shown[path] = chip
            self.chips.set_order(list(shown.values()))
            showing = [chip for chip in shown.values() if chip.isHidden()]
            focus = QApplication.focusWidget()
            if showing and not (focus is not None and self.chips_box.isAncestorOf(focus)):
                # Showing a child of a visible widget lays out all its ancestors at once, one
                # whole-window layout per chip; in a hidden box it is one when the box shows.
                self.chips_box.hide()
            for chip in showing:
                chip.show()
            self._chip_buttons = shown
        finally:
            self.chips_box.setUpdatesEnabled(True)
        self.chips_box.setVisible(bool(tags))
        self.no_tags.setVisible(not tags and count > 0)
        self.chips_box.updateGeometry()

    def _new_chip(self) -> QPushButton:
        chip = QPushButton(self.chips_box)
        chip.setObjectName("tagChip")
        chip.setCursor(Qt.CursorShape.PointingHandCursor)
        chip.hide()
        chip.clicked.connect(lambda _=False, c=chip: self.remove_tag.emit(c.property("tagPath")))
        self.chips.addWidget(chip)
        return chip

    def chip_paths(self) -> list[str]:
        return list(self._chip_buttons)

    def chip(self, path: str) -> QPushButton | None:
        return self._chip_buttons.get(path)

    def close_completions(self) -> bool:
        """Close the tag field's completion list; False when none was open."""
        popup = self.tag_edit.completer().popup()
        if not popup.isVisible():
            return False
        popup.hide()
        return True

    def focus_tag_edit(self) -> None:
        self.tag_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.tag_edit.selectAll()

    def _submit(self) -> None:
        self.close_completions()  # Enter is done with the list (else Esc's rule would apply)
        text = self.tag_edit.text().strip()
        if ALIAS_ARROW in text:  # a chosen alias completion: the tag it stands for
            text = text.rsplit(ALIAS_ARROW, 1)[1].strip()
        if text:
            self.tag_edit.setText("")  # setText (unlike clear) also drops the edit's undo history
            self.add_tag.emit(text)
        # N, 1…9 and the other keys work again at once (T types the next tag)
        self.done_typing.emit()
