"""What the grid area shows while the library is empty: how to bring photos in.

A heading, an "Open a folder…" button (the import of File ▸ Import folder…), a button that
imports the bundled sample, the hint that a folder can be dropped on the window, and the few
keys that matter first.  The window shows it instead of the grid while the library has no
items; the buttons take the keyboard focus in turn (Tab), and Enter or Space presses them.

Folder drops are recognised here too (:func:`dropped_folders`), so the window and the tests
agree on what counts as a folder drop.
"""

from __future__ import annotations

import html
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QMimeData, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent, QPalette
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from tagassist.paths import sample_library_dir, user_data_dir
from tagassist.ui import theme

if TYPE_CHECKING:
    from tagassist.ui.workers import JobHandle

# Keys a focused button takes for itself rather than letting a window shortcut have them
# (the window's Space opens the large viewer).
_PRESS_KEYS = (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Select)


def dropped_folders(mime: QMimeData | None) -> list[Path]:
    """The local folders among a drag's URLs (files and remote URLs are left out)."""
    if mime is None or not mime.hasUrls():
        return []
    folders = []
    for url in mime.urls():
        if url.isLocalFile():
            path = Path(url.toLocalFile())
            if path.is_dir():
                folders.append(path)
    return folders


def sample_photos_dir() -> Path:
    """Where the sample is copied before it is imported (what ``tagassist --sample`` uses),
    so the library's items do not point into the installed package."""
    return user_data_dir() / "sample-photos"


def copy_sample(target: Path | None = None) -> Path:
    """A copy of the bundled sample at ``target`` (default :func:`sample_photos_dir`), made
    once; the folder to import."""
    target = target if target is not None else sample_photos_dir()
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(sample_library_dir(), target)
    return target


class FolderDrops(QObject):
    """Makes ``window`` take folders dropped anywhere on it (where no child takes the drop,
    e.g. a text field): each is handed to ``start_import`` in turn, the next one when the
    previous import has ended.  Anything else dropped is refused while it is dragged."""

    def __init__(self, window: QMainWindow, start_import: Callable[[Path], object]) -> None:
        super().__init__(window)
        self._window = window
        self._start_import = start_import
        self._queue: list[Path] = []
        self._running = None
        window.setAcceptDrops(True)
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            folders = dropped_folders(event.mimeData())
            if folders:
                event.acceptProposedAction()
                if kind == QEvent.Type.DragEnter:
                    names = ", ".join(f.name or str(f) for f in folders)
                    self._window.statusBar().showMessage(f"Drop to import {names}")
            else:
                event.ignore()
            return True
        if kind == QEvent.Type.DragLeave:
            self._window.statusBar().clearMessage()
            return False
        if kind == QEvent.Type.Drop:
            folders = dropped_folders(event.mimeData())
            if not folders:
                event.ignore()
                return True
            event.acceptProposedAction()
            self._window.statusBar().clearMessage()
            self._queue.extend(folders)
            if self._running is None:
                self._next()
            return True
        return False

    def _next(self) -> None:
        self._running = None
        if self._queue:
            handle = self._start_import(self._queue.pop(0))
            self._running = handle
            ended = getattr(handle, "ended", None)
            if ended is not None:
                ended.connect(lambda *_: self._next())
            else:
                self._next()


class PressButton(QPushButton):
    """A push button that Enter, Return and Space press while it has the focus, even where
    the window has a shortcut on that key."""

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setAutoDefault(True)  # Enter / Return click it (outside a dialog too)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def event(self, e: QEvent) -> bool:
        if (e.type() == QEvent.Type.ShortcutOverride and isinstance(e, QKeyEvent)
                and e.key() in _PRESS_KEYS and not e.modifiers()
                & ~Qt.KeyboardModifier.KeypadModifier):
            e.accept()  # comes back as a key press, which presses the button
            return True
        return super().event(e)


def _key_style() -> str:
    c = theme.colours()
    return (f"background: {theme.css(theme.mix(c.surface, c.text, 0.06))};"
            f" color: {theme.css(c.text)}; font-weight: bold;")


class EmptyState(QWidget):
    """The call to action of an empty library (see the module doc)."""

    open_folder = Signal()
    open_sample = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("emptyState")
        self.setBackgroundRole(QPalette.ColorRole.Base)  # the grid's white, not a grey hole
        self.setAutoFillBackground(True)
        self.heading = QLabel(self)
        self.heading.setObjectName("emptyHeading")
        self.heading.setStyleSheet("font-size: 20px; font-weight: bold;")
        self.heading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.intro = QLabel(self)
        self.intro.setTextFormat(Qt.TextFormat.RichText)
        self.intro.setAlignment(Qt.AlignmentFlag.AlignCenter)

        self.open_button = PressButton("Open a folder…", self)
        self.open_button.setObjectName("openFolderButton")
        self.open_button.setMinimumHeight(34)
        self.open_button.setAccessibleName("Open a folder to import")
        self.open_button.setAccessibleDescription(
            "Imports a folder of photos and documents, with its subfolders (Ctrl+O)")
        self.open_button.clicked.connect(self.open_folder)
        self.sample_button = PressButton("Try the sample photos", self)
        self.sample_button.setObjectName("openSampleButton")
        self.sample_button.setMinimumHeight(34)
        self.sample_button.setToolTip("Imports a copy of the sample photos and documents"
                                      " that come with TagAssist into this library")
        self.sample_button.setAccessibleName("Try the sample photos")
        self.sample_button.setAccessibleDescription(self.sample_button.toolTip())
        self.sample_button.clicked.connect(self.open_sample)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.open_button)
        buttons.addSpacing(10)
        buttons.addWidget(self.sample_button)
        buttons.addStretch(1)

        self.drop_hint = QLabel("…or drop a folder anywhere on this window.", self)
        self.drop_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.keys = QLabel(self)
        self.keys.setObjectName("emptyKeys")
        self.keys.setTextFormat(Qt.TextFormat.RichText)
        self.keys.setAlignment(Qt.AlignmentFlag.AlignCenter)

        col = QVBoxLayout(self)
        col.addStretch(2)
        col.addWidget(self.heading)
        col.addSpacing(6)
        col.addWidget(self.intro)
        col.addSpacing(18)
        col.addLayout(buttons)
        col.addSpacing(10)
        col.addWidget(self.drop_hint)
        col.addSpacing(26)
        col.addWidget(self.keys)
        col.addStretch(3)
        self.setTabOrder(self.open_button, self.sample_button)
        self._key_rows: list[tuple[str, str]] = []
        theme.restyle_on_palette_change(self, self._restyle)
        self._imports: list = []  # the imports running (JobHandles): "importing…" till done
        self._show_idle()

    def _show_idle(self) -> None:
        self.heading.setText("Bring your photos in")
        self.intro.setText("Your library is empty. Import a folder of photos and documents"
                           "<br>to tag them: its subfolders come along.")

    def show_import(self, handle: JobHandle) -> None:
        """While ``handle`` (an import's JobHandle) runs, say so instead of "empty": the
        items appear when it has finished."""
        self._imports.append(handle)
        handle.progress.connect(lambda done, total, _text, h=handle: self._progress(h, done,
                                                                                    total))
        handle.ended.connect(lambda h=handle: self._ended(h))
        self.heading.setText(f"{handle.title}…")
        self.intro.setText("The photos show here once it has finished;"
                           "<br>its progress is in the status bar below.")

    def importing(self) -> bool:
        return bool(self._imports)

    def _progress(self, handle: JobHandle, done: int, total: int) -> None:
        if self._imports and handle is self._imports[-1] and total > 0:
            self.heading.setText(f"{handle.title}… {done} of {total}")

    def _ended(self, handle: JobHandle) -> None:
        if handle in self._imports:
            self._imports.remove(handle)
        if self._imports:
            self.heading.setText(f"{self._imports[-1].title}…")
        else:
            self._show_idle()

    def _restyle(self) -> None:
        """Colours from the palette (again after a light/dark switch): the main button in
        the palette's highlight, the quieter text muted."""
        c = theme.colours()
        muted = f"color: {theme.css(c.muted)};"
        self.intro.setStyleSheet(muted)
        self.drop_hint.setStyleSheet(muted)
        accent, on_accent = theme.css(c.accent), theme.css(c.accent_text)
        hover = theme.css(theme.mix(c.accent, c.text, 0.15))
        focus = theme.css(theme.mix(c.accent, c.text, 0.45))
        self.open_button.setStyleSheet(
            f"QPushButton {{ background: {accent}; color: {on_accent}; border: none;"
            " border-radius: 5px; padding: 6px 18px; font-weight: bold; }"
            f"QPushButton:hover {{ background: {hover}; }}"
            f"QPushButton:focus {{ border: 2px solid {focus}; }}")
        self.set_keys(self._key_rows)

    def set_keys(self, rows: list[tuple[str, str]]) -> None:
        """(keys, what they do) rows, e.g. ("Ctrl+O", "import a folder")."""
        self._key_rows = list(rows)
        key_style, muted = _key_style(), theme.css(theme.colours().muted)
        cells = "".join(
            f"<tr><td align='right' style='padding: 3px 10px 3px 0;'>"
            f"<span style='{key_style}'>&nbsp;{html.escape(k)}&nbsp;</span></td>"
            f"<td style='padding: 3px 0; color: {muted};'>{html.escape(t)}</td></tr>"
            for k, t in rows)
        self.keys.setText(f"<table align='center'>{cells}</table>" if rows else "")
        self.keys.setVisible(bool(rows))

    def key_rows(self) -> str:
        """The keys' text as shown (tests)."""
        return self.keys.text()
