"""Lazy thumbnails: cached files are made and decoded off the GUI thread, pixmaps are made on it.

``make_thumbnail`` (decode + resize, cached by content hash) runs on a small thread pool, which
also decodes the cached JPEG into a ``QImage`` (safe outside the GUI thread) and hands that
over; the GUI thread only converts it with ``QPixmap.fromImage`` (QPixmaps must not be created
outside the GUI thread, and decoding there took up to ~50 ms a thumbnail).  Documents and
failures get a neutral placeholder.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QRect, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtGui import QFont, QImage, QPainter, QPixmap

from tagassist.ui import theme

if TYPE_CHECKING:
    from PySide6.QtCore import SignalInstance

    from tagassist.library import Item

log = logging.getLogger(__name__)

THUMB_SIZE = 256


class _Bridge(QObject):
    loaded = Signal(int, QImage)  # item id, decoded thumbnail (a null image when there is none)


class _ThumbRunnable(QRunnable):
    def __init__(self, signal: SignalInstance, item_id: int, source: str, cache_dir: str,
                 content_hash: str) -> None:
        super().__init__()
        self._signal, self._args = signal, (item_id, source, cache_dir, content_hash)

    def run(self) -> None:
        item_id, source, cache_dir, content_hash = self._args
        result = QImage()
        try:
            from tagassist.media.thumbnails import make_thumbnail

            made = make_thumbnail(Path(source), Path(cache_dir), content_hash, size=THUMB_SIZE)
            if made:
                result = QImage(str(made))  # decoded here, not on the GUI thread
                if result.isNull():
                    log.debug("thumbnail %s could not be read", made)
        except Exception:  # a bad file must not kill the pool; the placeholder says enough
            log.warning("thumbnail failed for %s", source, exc_info=True)
        self._signal.emit(item_id, result)


class ThumbnailLoader(QObject):
    """Requests thumbnails by item id; emits ``ready(item_id)`` once :meth:`pixmap` has one."""

    ready = Signal(int)

    def __init__(self, cache_dir: Path, capacity: int = 600,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._cache_dir = str(cache_dir)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(2)
        self._bridge = _Bridge(self)
        self._bridge.loaded.connect(self._on_loaded)
        self._pixmaps: OrderedDict[int, QPixmap | None] = OrderedDict()
        self._pending: set[int] = set()
        self._capacity = capacity

    def pixmap(self, item_id: int) -> QPixmap | None:
        """The loaded pixmap, or None (not loaded yet, or there is none)."""
        pm = self._pixmaps.get(item_id)
        if item_id in self._pixmaps:
            self._pixmaps.move_to_end(item_id)
        return pm

    def has(self, item_id: int) -> bool:
        return item_id in self._pixmaps

    def wanted(self, item_id: int) -> bool:
        """Neither loaded nor on its way."""
        return item_id not in self._pixmaps and item_id not in self._pending

    def request(self, item_id: int, source: str | None, content_hash: str) -> None:
        if item_id in self._pixmaps or item_id in self._pending:
            return
        if not source:
            self._store(item_id, None)
            return
        self._pending.add(item_id)
        self._pool.start(_ThumbRunnable(self._bridge.loaded, item_id, source,
                                        self._cache_dir, content_hash))

    def request_item(self, item: Item) -> None:
        """Request the thumbnail of an ``Item`` from the first of its files that exists."""
        source = next((p for p in item.paths if Path(p).exists()), None)
        self.request(item.id, source, item.content_hash)

    def pending(self) -> int:
        return len(self._pending)

    def clear(self) -> None:
        self._pixmaps.clear()

    def shutdown(self, timeout_ms: int = 5000) -> None:
        self._pool.clear()
        self._pool.waitForDone(timeout_ms)

    def _on_loaded(self, item_id: int, image: QImage) -> None:
        self._pending.discard(item_id)
        pm = None if image.isNull() else QPixmap.fromImage(image)
        self._store(item_id, pm if pm is not None and not pm.isNull() else None)
        self.ready.emit(item_id)

    def _store(self, item_id: int, pm: QPixmap | None) -> None:
        self._pixmaps[item_id] = pm
        while len(self._pixmaps) > self._capacity:
            self._pixmaps.popitem(last=False)


_placeholders: dict[tuple[str, int, int, int], QPixmap] = {}


def placeholder(label: str, size: int = 128) -> QPixmap:
    """A neutral tile with a short label ("PDF", "TXT", "…"), drawn once per palette (light
    or dark: a tile a shade off the window's colour, the label muted) and reused."""
    c = theme.colours()
    fill, edge = theme.mix(c.surface, c.text, 0.05), c.rule
    key = (label, size, fill.rgba(), c.muted.rgba())
    if key not in _placeholders:
        pm = QPixmap(size, size)
        pm.fill(Qt.GlobalColor.transparent)
        p = QPainter(pm)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(edge)
        p.setBrush(fill)
        margin = size // 8
        rect = QRect(margin, margin // 2, size - 2 * margin, size - margin)
        p.drawRoundedRect(rect, size / 16, size / 16)
        font = QFont()
        font.setPixelSize(max(10, size // 6))
        font.setBold(True)
        p.setFont(font)
        p.setPen(c.muted)
        p.drawText(rect, Qt.AlignmentFlag.AlignCenter, label)
        p.end()
        _placeholders[key] = pm
    return _placeholders[key]
