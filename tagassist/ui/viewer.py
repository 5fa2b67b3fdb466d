"""The large viewer: one photo at the size of the window's centre, opened from the grid.

Decoding a 12-megapixel JPEG takes a tenth of a second or more, so it runs on a worker
thread that hands back a ``QImage`` (QImages, unlike QPixmaps, may be made off the GUI
thread).  Only the newest request is shown: stepping quickly through photos never shows a
late image over a newer one.  Documents and unreadable files show why there is no picture.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QRunnable, QSize, Qt, QThreadPool, Signal
from PySide6.QtGui import QImage, QPixmap, QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from tagassist.ui import theme

if TYPE_CHECKING:
    from PySide6.QtCore import SignalInstance

    from tagassist.library import Item

DECODE_EDGE = 2048  # decoded longest side: sharp on a large monitor, a fraction of 12 MP


class _Bridge(QObject):
    loaded = Signal(int, object, str)  # request number, QImage or None, problem


class _DecodeRunnable(QRunnable):
    def __init__(self, signal: SignalInstance, seq: int, path: str, edge: int) -> None:
        super().__init__()
        self._signal, self._seq, self._path, self._edge = signal, seq, path, edge

    def run(self) -> None:
        image, problem = None, ""
        try:
            from PIL import Image

            from tagassist.media.preprocess import load_rgb

            rgb = load_rgb(self._path, draft_to=self._edge)
            rgb.thumbnail((self._edge, self._edge), Image.Resampling.LANCZOS, reducing_gap=3.0)
            data = rgb.tobytes()
            # copy(): the QImage must own its pixels once ``data`` goes away.
            image = QImage(data, rgb.width, rgb.height, 3 * rgb.width,
                           QImage.Format.Format_RGB888).copy()
        except Exception as exc:  # noqa: BLE001 - any decoder failure is shown, not raised
            problem = getattr(exc, "reason", None) or str(exc) or type(exc).__name__
        self._signal.emit(self._seq, image, problem)


class PhotoViewer(QWidget):
    """Shows one item large; the window decides which (``show_item``) and when to close."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("viewer")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # it holds the keys while shown
        self.setAccessibleName("Large view of the current item")
        self.setAccessibleDescription(
            "J or K show the next or previous item; Space or Esc go back to the grid")
        self.picture = QLabel(self)
        self.picture.setObjectName("viewerPicture")
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        # A dark backdrop in a light palette too (a photo reads best on it), with light text.
        self.picture.setStyleSheet("background: #1e1f22; color: #c9ccd1; font-size: 15px;")
        self.caption = QLabel(self)
        self.caption.setObjectName("viewerCaption")
        theme.restyle_on_palette_change(self, lambda: self.caption.setStyleSheet(
            f"color: {theme.css(theme.colours().muted)}; padding: 4px 2px;"))
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.picture, 1)
        column.addWidget(self.caption)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._bridge = _Bridge(self)
        self._bridge.loaded.connect(self._loaded)
        self._seq = itertools.count(1)
        self._wanted = 0
        self._image: QImage | None = None
        self.shown_path: str | None = None  # what is on screen (or on its way)

    def show_item(self, item: Item | None, position: str = "") -> None:
        """Show ``item`` (an ``Item`` or None); ``position`` like "3 of 12" for the caption."""
        name = Path(item.paths[0]).name if item is not None and item.paths else "nothing"
        self.caption.setText(f"{name}   {position}   ·   J/K or ←/→ next/previous, "
                             "Space or Esc back to the grid")
        self._wanted = next(self._seq)
        self._image = None
        source = next((p for p in item.paths if Path(p).exists()), None) if item else None
        self.shown_path = source
        if item is None or item.kind != "photo":
            self._message("A document: its text is in the panel on the right"
                          if item is not None else "Nothing selected")
        elif source is None:
            self._message("The file is missing (moved or on a disconnected drive)")
        else:
            self._message("Loading…")
            self._pool.start(_DecodeRunnable(self._bridge.loaded, self._wanted, source,
                                             DECODE_EDGE))

    def loading(self) -> bool:
        return self._image is None and self.picture.text() == "Loading…"

    def _message(self, text: str) -> None:
        self.picture.setPixmap(QPixmap())
        self.picture.setText(text)

    def _loaded(self, seq: int, image: QImage | None, problem: str) -> None:
        if seq != self._wanted:  # the person has moved on
            return
        if image is None:
            self._message(f"Cannot show this photo: {problem}")
            return
        self._image = image
        self._fit()

    def _fit(self) -> None:
        if self._image is None:
            return
        box = self.picture.size().boundedTo(QSize(self._image.width(), self._image.height()))
        self.picture.setText("")
        self.picture.setPixmap(QPixmap.fromImage(self._image).scaled(
            box, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._fit()

    def shutdown(self, timeout_ms: int = 5000) -> None:
        self._pool.clear()
        self._pool.waitForDone(timeout_ms)
