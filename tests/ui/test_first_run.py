"""Issue 23: the first run leads (the empty library's call to action, folder drops) and the
grid draws every name whole (or middle-elided on two lines), whatever the photos' aspects.

Set ``TAGASSIST_SHOTS=docs/screenshots`` to also write ``first-run.png`` and
``grid-names.png`` there (the docs' screenshots); otherwise they go to the test's tmp folder.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent, QFontMetrics, QImage
from PySide6.QtWidgets import QApplication, QFileDialog, QStyle

from tagassist.media.kinds import DOCUMENT_EXTS, PHOTO_EXTS
from tagassist.ui import empty_state
from tagassist.ui.sidebar import FOLDERS
from tests.ui.conftest import assert_empty_state_leads, settle_sidebar

# (file name, width, height, colour): 3:2, 4:3 and 1:1 photos with long names; the first one
# in the grid's order (they are undated: import order, by name) is 3:2.
ASPECTS = {"3:2": (300, 200), "4:3": (320, 240), "1:1": (240, 240)}
NAMES = [
    ("2019-spring-berkeley campus walk.jpg", "3:2"),
    ("Brewing espresso at home 2019.jpg", "4:3"),
    ("Notes on a recommendation.jpg", "4:3"),
    ("IMG_0001.jpg", "1:1"),
    ("Grandmother's garden in the late afternoon light, taken from the kitchen window"
     " during the long summer of 2018.jpg", "4:3"),
    ("Montreal old port at night.jpg", "3:2"),
    ("Kennedy Space Center rocket garden.jpg", "4:3"),
    ("a.jpg", "1:1"),
    ("Amsterdam canal houses reflected in the water.jpg", "4:3"),
    ("Supercalifragilisticexpialidocious_without_any_spaces_at_all_2020.jpg", "4:3"),
    ("Cat asleep on the sofa.jpg", "1:1"),
    ("Street market, fruit stall.jpg", "4:3"),
    ("Conference badge and lanyard.jpg", "3:2"),
    ("Birthday cake with candles.jpg", "4:3"),
    ("Mountain lake at sunrise, Switzerland.jpg", "4:3"),
    ("Old bicycle against a blue door.jpg", "1:1"),
    ("Receipt for the new espresso machine.jpg", "4:3"),
    ("Sunset from the pier.jpg", "4:3"),
    ("Whiteboard after the design review.jpg", "3:2"),
    ("Zebra crossing in the rain.jpg", "4:3"),
]


def photo_rgb(n: int) -> tuple[int, int, int]:
    """Photo ``n``'s colour: saturated (no text or highlight is drawn in such a colour)."""
    hue = (n * 47) % 360
    c = QColor.fromHsv(hue, 170, 200)
    return c.red(), c.green(), c.blue()


def _shot_path(tmp_path: Path, name: str) -> Path:
    folder = os.environ.get("TAGASSIST_SHOTS")
    return Path(folder) / name if folder else tmp_path / name


def _photo_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "mixed"
    folder.mkdir()
    for n, (name, aspect) in enumerate(NAMES):
        # Distinct file contents (items are content-addressed), one colour the checks know.
        img = Image.new("RGB", ASPECTS[aspect], photo_rgb(n))
        img.paste((n * 12, n * 12, n * 12), (0, 0, 16, 16))
        img.save(folder / name, quality=95)
    return folder


def _wait_imported(qtbot, window, count: int) -> None:
    qtbot.waitUntil(lambda: window.model.rowCount() == count, timeout=60_000)
    analysis = window.controller.suggest.analyse_handle
    if analysis is not None:
        qtbot.waitUntil(lambda: not analysis.running, timeout=60_000)
    settle_sidebar(qtbot, window)


@pytest.fixture
def chosen_folder(monkeypatch):
    """File ▸ Import folder…'s dialog answers with the folder a test puts here."""
    asked: list[Path | None] = [None]
    calls: list[str] = []

    def fake(parent, caption="", *args, **kwargs):
        calls.append(caption)
        return str(asked[0]) if asked[0] else ""

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(fake))
    return asked, calls


# -- 1. the first run leads -----------------------------------------------------------------

def test_empty_library_shows_the_call_to_action(qtbot, window, tmp_path):
    settle_sidebar(qtbot, window)
    empty = window.empty
    assert_empty_state_leads(window)
    # The keys listed are the ones that work (the window's own actions).
    assert window.import_action.shortcut().toString() == "Ctrl+O"
    assert empty.open_button.hasFocus()  # Enter imports straight away
    window.grab().save(str(_shot_path(tmp_path, "first-run.png")))


def test_open_folder_button_click_imports(qtbot, window, chosen_folder, sample_folder):
    from tests import sample

    asked, calls = chosen_folder
    asked[0] = sample_folder
    qtbot.mouseClick(window.empty.open_button, Qt.MouseButton.LeftButton)
    assert calls == ["Import folder"]  # the dialog of File ▸ Import folder…
    _wait_imported(qtbot, window, sample.ITEMS)
    assert not window.empty_state_shown() and window.grid.isVisible()
    assert not window.empty.isVisible()


def test_open_folder_button_from_the_keyboard(qtbot, window, chosen_folder, tmp_path):
    asked, calls = chosen_folder
    # Tab from the search field reaches the buttons; Tab moves between them.
    window.search.edit.setFocus()
    for _ in range(4):
        if window.empty.open_button.hasFocus():
            break
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    assert window.empty.open_button.hasFocus()
    qtbot.keyClick(window.empty.open_button, Qt.Key.Key_Tab)
    assert window.empty.sample_button.hasFocus()
    qtbot.keyClick(window.empty.sample_button, Qt.Key.Key_Backtab,
                   Qt.KeyboardModifier.ShiftModifier)
    assert window.empty.open_button.hasFocus()

    # Space (a window shortcut elsewhere: the large viewer) and Enter press the button.
    qtbot.keyClick(window.empty.open_button, Qt.Key.Key_Space)
    assert calls == ["Import folder"] and not window.viewing()
    qtbot.keyClick(window.empty.open_button, Qt.Key.Key_Return)
    assert calls == ["Import folder"] * 2  # cancelled dialogs: nothing imported
    assert window.empty_state_shown()

    asked[0] = _photo_folder(tmp_path)
    qtbot.keyClick(window.empty.open_button, Qt.Key.Key_Enter)
    _wait_imported(qtbot, window, len(NAMES))
    assert not window.empty_state_shown()
    assert window.grid.hasFocus()  # the focus follows into the grid


def test_sample_button_imports_a_copy_of_the_sample(qtbot, window, tmp_path, monkeypatch):
    from tests import sample

    target = tmp_path / "sample-photos"
    monkeypatch.setattr(empty_state, "sample_photos_dir", lambda: target)
    window.empty.sample_button.setFocus()
    qtbot.keyClick(window.empty.sample_button, Qt.Key.Key_Space)
    assert (target / "2019-spring-berkeley").is_dir()
    kinds = PHOTO_EXTS | DOCUMENT_EXTS
    copied = [p for p in target.rglob("*") if p.is_file() and p.suffix.lower() in kinds]
    assert len(copied) >= sample.ITEMS  # the sample's own, and its licence notes
    _wait_imported(qtbot, window, len(copied))
    item = window.model.item_at(0)
    # The copy, not the installed package.
    assert Path(item.paths[0]).resolve().is_relative_to(target.resolve())
    assert not window.empty_state_shown()


def _drag(window, target, folder: Path, files: list[Path] = ()):
    """A drag of ``folder`` (and ``files``) entering the window over ``target`` and dropped
    there, sent to the window's QWindow as the platform does: Qt picks the widget."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in (*files, folder)])
    pos = QPointF(target.mapTo(window, target.rect().center()))
    actions = Qt.DropAction.CopyAction | Qt.DropAction.LinkAction
    enter = QDragEnterEvent(pos.toPoint(), actions, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window.windowHandle(), enter)
    drop = QDropEvent(pos, actions, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window.windowHandle(), drop)
    return enter, drop


def test_dropping_a_folder_on_the_window_imports_it(qtbot, window, tmp_path):
    folder = _photo_folder(tmp_path)
    enter, drop = _drag(window, window.empty, folder)
    assert enter.isAccepted() and drop.isAccepted()
    # Until the import ends the call to action says it is importing, not "empty".
    assert window.empty.importing() and "Import of mixed" in window.empty.heading.text()
    _wait_imported(qtbot, window, len(NAMES))
    assert not window.empty_state_shown()

    # Over the grid too, once it shows: a second folder is imported next to the first.
    second = tmp_path / "more"
    second.mkdir()
    Image.new("RGB", (200, 300), (30, 90, 200)).save(second / "portrait.jpg")
    enter, drop = _drag(window, window.grid.viewport(), second)
    assert drop.isAccepted()
    _wait_imported(qtbot, window, len(NAMES) + 1)


def test_an_import_that_adds_nothing_leaves_the_call_to_action(qtbot, window, tmp_path):
    nothing = tmp_path / "nothing here"
    nothing.mkdir()
    (nothing / "notes.bin").write_bytes(b"not a photo")
    handle = window.start_import(nothing)
    assert window.empty.heading.text().startswith("Import of nothing here")
    qtbot.waitUntil(lambda: not handle.running, timeout=60_000)
    qtbot.waitUntil(lambda: not window.empty.importing())
    assert window.empty_state_shown()
    assert window.empty.heading.text() == "Bring your photos in"


def test_a_drag_without_a_folder_is_refused(qtbot, window, tmp_path):
    loose = tmp_path / "loose.jpg"
    Image.new("RGB", (20, 20)).save(loose)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(loose)), QUrl("https://example.com/photos/")])
    assert empty_state.dropped_folders(mime) == []
    pos = window.empty.mapTo(window, window.empty.rect().center())
    enter = QDragEnterEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window.windowHandle(), enter)
    assert not enter.isAccepted()
    assert window.empty_state_shown() and window.model.rowCount() == 0


def test_call_to_action_comes_back_when_the_library_empties(qtbot, window, tmp_path,
                                                             chosen_folder):
    asked, _calls = chosen_folder
    asked[0] = _photo_folder(tmp_path)
    window.import_action.trigger()  # File ▸ Import folder…
    _wait_imported(qtbot, window, len(NAMES))
    assert not window.empty_state_shown()

    # A search that matches nothing is not an empty library: the grid stays.
    window.run_search("no-such-tag")
    assert window.model.rowCount() == 0 and not window.empty_state_shown()
    window.show_all()

    db = sqlite3.connect(window.controller.paths.database)  # the items go, behind the window
    with db:
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("DELETE FROM items")
    db.close()
    window.controller.library_changed.emit()  # what an import's end sends
    assert window.empty_state_shown() and window.empty.isVisible()


# -- 2. names whole --------------------------------------------------------------------------

def _visible_rows(grid) -> list[int]:
    view = grid.viewport().rect()
    return [r for r in range(grid.model().rowCount())
            if view.contains(grid.visualRect(grid.model().index(r, 0)))]


def _dark_pixels(image: QImage, rect) -> int:
    return sum(1 for x in range(rect.left(), rect.right() + 1)
               for y in range(rect.top(), rect.bottom() + 1)
               if _gray(image, x, y) < 140)


def _gray(image: QImage, x: int, y: int) -> int:
    c = image.pixelColor(x, y)
    return (c.red() * 11 + c.green() * 16 + c.blue() * 5) // 32


def _photo_coloured(image: QImage, rect) -> int:
    """Pixels in ``rect`` as saturated as the test photos (text is grey, the selection pale)."""
    return sum(1 for x in range(rect.left(), rect.right() + 1)
               for y in range(rect.top(), rect.bottom() + 1)
               if image.pixelColor(x, y).hsvSaturation() > 120)


def test_every_name_is_drawn_whole_or_middle_elided(qtbot, window, tmp_path):
    folder = _photo_folder(tmp_path)
    handle = window.start_import(folder)
    qtbot.waitUntil(lambda: not handle.running, timeout=60_000)
    _wait_imported(qtbot, window, len(NAMES))
    grid, model, delegate = window.grid, window.model, window.grid.delegate
    first = model.item_at(0)
    assert (first.width, first.height) == ASPECTS["3:2"]  # the case that broke the names
    window.grid.select_rows([1])  # how a selected cell looks, in the screenshot
    grid.setFocus()
    rows = _visible_rows(grid)
    assert len(rows) >= 12  # most of the 20 are on screen at the default size
    qtbot.waitUntil(lambda: all(window.thumbs.pixmap(model.item_id(r)) is not None
                                for r in rows), timeout=30_000)

    fm = QFontMetrics(grid.font())
    cell = grid.cell_size()
    names = {}
    for row in range(model.rowCount()):
        index = model.index(row, 0)
        name = index.data()
        rect = grid.visualRect(index)
        assert rect.size() == cell  # one size for all, whatever the first item was
        text = delegate.text_rect(rect)
        box = delegate.thumb_rect(rect)
        assert rect.contains(text) and rect.contains(box) and box.bottom() < text.top()
        assert text.height() >= 2 * fm.lineSpacing()
        lines = delegate.text_lines(name, text.width())
        assert 1 <= len(lines) <= 2, lines
        assert all(fm.horizontalAdvance(line) <= text.width() <= rect.width() for line in lines)
        if "…" in "".join(lines):  # elided in the middle: the start and the end are kept
            head, tail = lines[-1].split("…")
            assert name.startswith(lines[0] if len(lines) == 2 else head)
            assert name.endswith(tail) and tail.endswith(".jpg")
        else:  # whole: every character is drawn
            assert "".join(lines).replace(" ", "") == name.replace(" ", "")
        # The full name is in the tooltip.
        assert index.data(Qt.ItemDataRole.ToolTipRole).splitlines()[0] == name
        names[name] = lines
    # Names that fit two lines are never cut; only the very long ones are elided.
    for name in ("Brewing espresso at home 2019.jpg", "Notes on a recommendation.jpg",
                 "2019-spring-berkeley campus walk.jpg", "Kennedy Space Center rocket garden.jpg"):
        assert "…" not in "".join(names[name]), names[name]
    assert names["IMG_0001.jpg"] == ["IMG_0001.jpg"]
    assert "…" in "".join(names[NAMES[4][0]]) and "…" in "".join(names[NAMES[9][0]])

    # What is drawn: every visible name's lines have ink, no photo spills into the text, and
    # each photo sits in its box whatever its aspect.
    window.grab().save(str(_shot_path(tmp_path, "grid-names.png")))
    image = grid.viewport().grab().toImage()
    line_h = fm.lineSpacing()
    for row in rows:
        index = model.index(row, 0)
        rect = grid.visualRect(index)
        text = delegate.text_rect(rect)
        lines = delegate.text_lines(index.data(), text.width())
        for n in range(len(lines)):
            strip = text.adjusted(0, n * line_h, 0, 0)
            strip.setHeight(line_h)
            assert _dark_pixels(image, strip) > 15, (index.data(), n)
        assert _photo_coloured(image, text) == 0, index.data()
        box = delegate.thumb_rect(rect)
        c = image.pixelColor(QPoint(box.center().x(), box.bottom() - 3))
        want = photo_rgb(next(n for n, (name, _a) in enumerate(NAMES) if name == index.data()))
        assert all(abs(a - b) < 25 for a, b in zip(c.getRgb()[:3], want, strict=True)), \
            (index.data(), c.name(), want)

    # Other thumbnail sizes (Settings): every cell takes the new size, names still fit.
    for size in (96, 256):
        grid.set_thumbnail_size(size)
        cell = grid.cell_size()
        assert cell.width() > size and cell.height() >= size + 2 * fm.lineSpacing()
        for row in range(model.rowCount()):
            rect = grid.visualRect(model.index(row, 0))
            assert rect.size() == cell
            width = delegate.text_rect(rect).width()
            lines = delegate.text_lines(model.index(row, 0).data(), width)
            assert len(lines) <= 2 and all(fm.horizontalAdvance(ln) <= width for ln in lines)


def test_sidebar_folder_names_are_whole_at_the_default_size(qtbot, window, imported):
    """The sample's folders ("2019-spring-berkeley", "2021-kennedy-space-center") fit the
    sidebar as the window opens; any name is in full in its tooltip."""
    tree = window.sidebar.tree
    fm = tree.fontMetrics()
    margins = 2 * (tree.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None,
                                            tree) + 1)
    folders = window.sidebar.entry(FOLDERS)
    shown = [folders.child(i) for i in range(folders.childCount())]
    assert {"2019-spring-berkeley", "2021-kennedy-space-center"} <= {
        it.text(0).split("  (")[0] for it in shown}
    for item in shown:
        rect = tree.visualItemRect(item)
        assert fm.horizontalAdvance(item.text(0)) + margins <= rect.width(), item.text(0)
        assert item.text(0).split("  (")[0] in item.toolTip(0)


def test_a_read_only_library_opens_and_says_so(qtbot, paths):
    from tagassist.library import Library
    from tagassist.ui.app import open_window
    from tests.library.test_audit_faults import unwritable

    with Library.open(paths.database) as lib:
        lib.users.add("ann")
    with unwritable(paths.database.parent):
        win = open_window(paths, "newcomer")  # nobody can be added: browsing still works
        qtbot.addWidget(win)
        try:
            [said] = [m for m in win.notifications.messages() if "read-only" in m]
            assert said.startswith("This library is read-only (its folder ")
            assert "tags and choices cannot be saved" in said
            assert win.controller.user.name == "newcomer" and win.controller.tag_counts() == []
        finally:
            win.close()
            win.controller.library.close()
