"""The panels update their widgets in place instead of rebuilding them (a rebuild blocked the
event loop for up to ~170 ms), and thumbnails are decoded off the GUI thread."""

from __future__ import annotations

from pathlib import Path

from PIL import Image
from PySide6.QtCore import QEvent, QObject, Qt, QThread
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from tagassist.app.suggest_jobs import Suggested, SuggestResult
from tagassist.ui.detail_panel import DetailPanel
from tagassist.ui.suggestion_panel import SuggestionPanel
from tagassist.ui.suggestion_row import SuggestionRow
from tagassist.ui.thumbs import ThumbnailLoader


def _result(tags: list[str]) -> SuggestResult:
    rows = [Suggested(t, 0.9 - n * 0.1, f"because of {t}", rank=n + 1) for n, t in enumerate(tags)]
    return SuggestResult((1,), rows, {"image-lite0": "v1"}, 1)


def _panel(qtbot, cls):
    panel = cls()
    qtbot.addWidget(panel)
    panel.resize(420, 600)
    panel.show()
    return panel


def _settle() -> None:
    QApplication.processEvents()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)  # as the event loop would


def _check_rows(panel: SuggestionPanel, tags: list[str]) -> None:
    assert panel.tags() == tags
    for n, row in enumerate(panel.rows(), 1):
        s = row.suggestion
        assert row.isVisible()
        assert row.name.text() == s.tag.rsplit("|", 1)[-1]
        assert row.bar.value() == round(s.score * 100)
        assert row.score.text() == f"{s.score * 100:.0f} %"
        assert row.reason.text() == s.reason
        assert row.findChild(QLabel, "keyHint").text() == str(n)
    hidden = [r for r in panel.findChildren(SuggestionRow) if r not in panel.rows()]
    assert not any(r.isVisible() for r in hidden)


def test_suggestion_rows_are_reused(qtbot):
    panel = _panel(qtbot, SuggestionPanel)
    pool = [f"topic|tag {k}" for k in range(20)]
    panel.show_result(_result(pool[:9]))
    _settle()
    widgets = len(panel.findChildren(QWidget))
    objects = len(panel.findChildren(QObject))
    for i in range(50):
        tags = [pool[(i * 3 + k) % 20] for k in range(9 - i % 4)]  # 6 to 9 rows, shifting
        panel.show_result(_result(tags))
        _settle()
        _check_rows(panel, tags)
    assert len(panel.findChildren(SuggestionRow)) == 9  # never more than ever shown at once
    assert len(panel.findChildren(QWidget)) == widgets
    assert len(panel.findChildren(QObject)) == objects
    panel.show_result(None, "Nothing selected")
    _settle()
    assert panel.rows() == [] and panel.message.text() == "Nothing selected"
    assert not any(r.isVisible() for r in panel.findChildren(SuggestionRow))
    panel.grab()  # paints every label (each painter must end within its paint event)


def test_decided_row_closes_the_gap_and_buttons_follow_their_row(qtbot):
    panel = _panel(qtbot, SuggestionPanel)
    tags = ["a|one", "b|two", "c|three", "d|four"]
    panel.show_result(_result(tags))
    rows = panel.rows()
    accepted, rejected = [], []
    panel.accept_requested.connect(accepted.append)
    panel.reject_requested.connect(rejected.append)

    # An accept removes the row at once: the others keep their widgets and move up.
    r = _result(tags)
    r.rows = [s for s in r.rows if s.tag != "b|two"]
    panel.show_result(r)
    _check_rows(panel, ["a|one", "c|three", "d|four"])
    assert panel.rows() == [rows[0], rows[2], rows[3]]
    assert rows[1].suggestion.tag == "b|two" and not rows[1].isVisible()

    qtbot.mouseClick(rows[3].accept_button, Qt.MouseButton.LeftButton)  # now the third row
    qtbot.mouseClick(rows[2].reject_button, Qt.MouseButton.LeftButton)  # now the second
    assert accepted == [2] and rejected == [1]

    # A new suggestion takes the hidden row, and its buttons answer for its new place.
    panel.show_result(_result(["e|five", "a|one", "c|three", "d|four"]))
    _check_rows(panel, ["e|five", "a|one", "c|three", "d|four"])
    assert panel.rows()[0] is rows[1]
    qtbot.mouseClick(rows[1].accept_button, Qt.MouseButton.LeftButton)
    assert accepted == [2, 0]
    assert len(panel.findChildren(SuggestionRow)) == 4


def _tags(*entries: tuple[str, int]) -> dict[str, tuple[str, int]]:
    return {path: (path.rsplit("|", 1)[-1], n) for path, n in entries}


def _chip_texts(panel: DetailPanel) -> dict[str, str]:
    return {p: panel.chip(p).text() for p in panel.chip_paths()}


def _check_chip_geometry(panel: DetailPanel) -> None:
    """Shown chips sit in order, none on another; hidden ones take no room."""
    rects = [panel.chip(p).geometry() for p in panel.chip_paths()]
    for a, b in zip(rects, rects[1:], strict=False):
        assert (b.y() == a.y() and b.x() > a.right()) or b.y() > a.bottom()
    hidden = [c for c in panel.chips_box.findChildren(QWidget) if c not in
              [panel.chip(p) for p in panel.chip_paths()]]
    assert not any(c.isVisible() for c in hidden)


def test_chips_follow_the_selection_and_are_reused(qtbot):
    panel = _panel(qtbot, DetailPanel)
    removed = []
    panel.remove_tag.connect(removed.append)
    first = _tags(("animals|cat", 2), ("places|garden", 1), ("colours|Blue", 2))
    panel.show_items(2, None, first)
    _settle()
    assert panel.chip_paths() == ["animals|cat", "colours|Blue", "places|garden"]  # by path
    assert _chip_texts(panel) == {"colours|Blue": "Blue  ✕", "animals|cat": "cat  ✕",
                                  "places|garden": "garden (1/2)  ✕"}
    kept_blue, kept_cat = panel.chip("colours|Blue"), panel.chip("animals|cat")
    old_garden = panel.chip("places|garden")
    _check_chip_geometry(panel)

    # Another selection: one tag kept as it was, one kept with a new count, one gone, two new.
    second = _tags(("animals|cat", 3), ("colours|Blue", 1), ("animals|dog", 3), ("a|zebra", 2))
    panel.show_items(3, None, second)
    _settle()
    assert panel.chip_paths() == ["animals|cat", "animals|dog", "a|zebra", "colours|Blue"]
    assert _chip_texts(panel) == {"colours|Blue": "Blue (1/3)  ✕", "animals|cat": "cat  ✕",
                                  "animals|dog": "dog  ✕", "a|zebra": "zebra (2/3)  ✕"}
    assert panel.chip("colours|Blue") is kept_blue and panel.chip("animals|cat") is kept_cat
    assert panel.chip("places|garden") is None
    assert old_garden in (panel.chip("animals|dog"), panel.chip("a|zebra"))  # reused
    assert all(panel.chip(p).isVisible() for p in panel.chip_paths())
    for p in panel.chip_paths():
        assert panel.chip(p).toolTip().startswith(f"{p} — ")
    _check_chip_geometry(panel)

    # A chip answers for its own tag, also a reused one.
    for path in ("animals|dog", "a|zebra", "animals|cat"):
        qtbot.mouseClick(panel.chip(path), Qt.MouseButton.LeftButton)
    assert removed == ["animals|dog", "a|zebra", "animals|cat"]

    # Nothing selected: no chips; back to the first: the chips come back.
    panel.show_items(0, None, {})
    _settle()
    assert panel.chip_paths() == [] and not panel.chips_box.isVisible()
    panel.show_items(2, None, first)
    _settle()
    assert _chip_texts(panel)["places|garden"] == "garden (1/2)  ✕"
    assert panel.chips_box.isVisible() and all(panel.chip(p).isVisible()
                                               for p in panel.chip_paths())
    _check_chip_geometry(panel)

    # Switching between two selections does not grow the widgets.
    widgets = len(panel.findChildren(QWidget))
    for i in range(50):
        panel.show_items(3 if i % 2 else 2, None, second if i % 2 else first)
        _settle()
    assert len(panel.findChildren(QWidget)) == widgets


def _jpeg(path: Path, size=(640, 480), colour=(200, 30, 40)) -> Path:
    Image.new("RGB", size, colour).save(path, "JPEG", quality=90)
    return path


def test_thumbnail_is_decoded_in_the_worker(qtbot, tmp_path):
    loader = ThumbnailLoader(tmp_path / "cache", capacity=2)
    delivered: list[tuple[bool, bool]] = []  # (a QImage, outside the GUI thread)
    gui = QApplication.instance().thread()
    loader._bridge.loaded.connect(  # runs where the worker emits
        lambda _id, image: delivered.append((isinstance(image, QImage),
                                             QThread.currentThread() != gui)),
        Qt.ConnectionType.DirectConnection)
    try:
        photo = _jpeg(tmp_path / "photo.jpg")
        with qtbot.waitSignal(loader.ready, timeout=20_000) as ready:
            loader.request(1, str(photo), "ab" * 32)
        assert ready.args == [1]
        assert delivered == [(True, True)]
        pm = loader.pixmap(1)
        assert pm is not None and not pm.isNull()
        assert (pm.width(), pm.height()) == (256, 192)
        red = pm.toImage().pixelColor(128, 96)
        assert red.red() > 150 and red.green() < 80 and red.blue() < 80
        assert not loader.wanted(1) and loader.pending() == 0

        # A file that cannot be read gets no pixmap (the placeholder), but still "ready".
        bad = tmp_path / "broken.jpg"
        bad.write_bytes(b"not a jpeg at all")
        with qtbot.waitSignal(loader.ready, timeout=20_000):
            loader.request(2, str(bad), "cd" * 32)
        assert loader.has(2) and loader.pixmap(2) is None

        # The cache keeps its capacity: the least recently used goes first.
        loader.pixmap(1)
        with qtbot.waitSignal(loader.ready, timeout=20_000):
            loader.request(3, str(_jpeg(tmp_path / "other.jpg", (300, 600))), "ef" * 32)
        assert loader.has(1) and loader.has(3) and not loader.has(2)
        assert (loader.pixmap(3).width(), loader.pixmap(3).height()) == (128, 256)
    finally:
        loader.shutdown()
