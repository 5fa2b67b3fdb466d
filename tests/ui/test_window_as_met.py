"""Issue 23, "the window as a person meets it": every control has a name a screen reader can
say, a dark system palette gives readable text, the window's layout comes back after a
restart, the status bar's messages never cover the item count, the suggestion list keeps its
rows in view when the Train note goes, and N never skips the photo the window starts on.

Set ``TAGASSIST_SHOTS=docs/screenshots`` to write ``dark.png`` (the window in a dark palette)
there; otherwise it goes to the test's tmp folder.
"""

from __future__ import annotations

from collections import Counter

import pytest
from PySide6.QtCore import QByteArray, QPoint, QRect, QSettings, Qt
from PySide6.QtGui import QAccessible, QColor, QImage, QPalette
from PySide6.QtWidgets import QAbstractButton, QApplication, QWidget

from tagassist.app.suggest_jobs import Suggested, SuggestResult
from tagassist.ui import settings, theme
from tagassist.ui.detail_panel import PREVIEW_HEIGHT, PREVIEW_MIN
from tagassist.ui.settings_dialog import SettingsChoice
from tagassist.ui.sidebar import FOLDERS
from tagassist.ui.suggestion_panel import TRAIN_TIP
from tests import sample
from tests.ui.conftest import run_import, settle_sidebar
from tests.ui.test_newcomer_walk import _newcomer_photos, _shot
from tests.ui.test_suggestions import select

_ROLE = QPalette.ColorRole


# -- 1. accessible names ------------------------------------------------------------------------
def _interactive(root: QWidget) -> list[QWidget]:
    """``root`` and its children that take the keyboard focus or are buttons, shown or not."""
    return [w for w in [root, *root.findChildren(QWidget)]
            if isinstance(w, QAbstractButton) or w.focusPolicy() != Qt.FocusPolicy.NoFocus]


def _unnamed(root: QWidget) -> list[str]:
    """Interactive widgets without a name in words (a "✓" or "✕" is not one)."""
    return [f"{type(w).__name__} {w.objectName()!r} in {type(w.parent()).__name__}"
            for w in _interactive(root)
            if not any(ch.isalpha() for ch in w.accessibleName())]


def _nine_rows(tags: list[str] | None = None) -> SuggestResult:
    """What the suggester hands the panel for one photo: nine rows, reasons as it words them
    (the first two long enough for three lines in the panel)."""
    tags = tags or ["home", "Berkeley", "United States", "raccoon", "domestic cat",
                    "domestic animal", "felid", "animal", "astronaut"]
    reasons = ["on a photo taken 2 min apart · on similar items of yours · used in this folder"
               " · taken in Berkeley, United States",
               "on a photo taken 1 min apart · on similar items of yours · you use it on 22% of"
               " your items · taken in Berkeley"]
    reasons += [f"looks like “{t}”" for t in tags[2:]]
    return SuggestResult((1,), [Suggested(t, 0.9 - n / 10, r, n + 1)
                                for n, (t, r) in enumerate(zip(tags, reasons, strict=True))],
                         {}, 1)


def test_every_control_has_a_name_in_plain_words(qtbot, window, sample_folder):
    run_import(qtbot, window, sample_folder)
    window.grid.select_rows([window.model.row_of(i) for i in window.controller.tagged_set()][:1])
    assert window.detail.chip_paths()  # a tagged photo: its chips are buttons too
    qtbot.waitUntil(lambda: not window.controller.suggest.pending(), timeout=60_000)
    window.notifications.add("error", "Could not read broken.jpg: not a JPEG file")
    window.suggestions.show_result(_nine_rows())  # the rows and their accept/reject buttons
    assert not _unnamed(window), _unnamed(window)

    # What a screen reader hears for a row's buttons: the tag, not a tick or a cross.
    row = window.suggestions.rows()[0]
    heard = QAccessible.queryAccessibleInterface(row.accept_button).text(QAccessible.Text.Name)
    assert heard == "Accept suggestion 1: home"
    assert row.reject_button.accessibleName() == "Reject suggestion 1: home"
    assert "Alt+1" in row.reject_button.accessibleDescription()
    # Where a tooltip explains, the description says it too.
    assert window.suggestions.train_button.accessibleDescription() == TRAIN_TIP
    assert window.empty.sample_button.accessibleDescription() == \
        window.empty.sample_button.toolTip()
    assert "beach AND NOT night" in window.search.edit.accessibleDescription()
    chip = window.detail.chip(window.detail.chip_paths()[0])
    assert chip.accessibleName().startswith("Remove the tag ")

    dialog = window.open_settings()
    try:
        assert not _unnamed(dialog), _unnamed(dialog)
        assert dialog.retrain.accessibleDescription() == dialog.retrain.toolTip()
    finally:
        dialog.reject()


# -- 2. the system's light or dark palette ------------------------------------------------------
def dark_palette() -> QPalette:
    """A dark palette as a desktop in dark mode hands the app."""
    p = QPalette()
    for role, colour in ((_ROLE.Window, "#2b2d30"), (_ROLE.WindowText, "#e6e6e6"),
                         (_ROLE.Base, "#1e1f22"), (_ROLE.AlternateBase, "#2b2d30"),
                         (_ROLE.Text, "#e6e6e6"), (_ROLE.Button, "#3c3f41"),
                         (_ROLE.ButtonText, "#e6e6e6"), (_ROLE.Highlight, "#3d7ad6"),
                         (_ROLE.HighlightedText, "#ffffff"), (_ROLE.PlaceholderText, "#8c8c8c"),
                         (_ROLE.ToolTipBase, "#3c3f41"), (_ROLE.ToolTipText, "#e6e6e6"),
                         (_ROLE.Light, "#4a4d50"), (_ROLE.Midlight, "#3f4245"),
                         (_ROLE.Mid, "#2f3133"), (_ROLE.Dark, "#1b1c1e"),
                         (_ROLE.Shadow, "#000000"), (_ROLE.BrightText, "#ffffff"),
                         (_ROLE.Link, "#6ea8ff")):
        p.setColor(role, QColor(colour))
    for role in (_ROLE.WindowText, _ROLE.Text, _ROLE.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7a7a7a"))
    return p


def ink_contrast(image: QImage) -> float:
    """The contrast of the text drawn in ``image`` against its background: the most common
    colour is the background, the colour farthest from it the text's."""
    counts = Counter(image.pixel(x, y) for y in range(image.height())
                     for x in range(image.width()))
    background = QColor.fromRgb(counts.most_common(1)[0][0])
    return max(theme.contrast(QColor.fromRgb(rgb), background) for rgb in counts)


def _seen(window, widget: QWidget, rect: QRect | None = None) -> QImage:
    """``widget`` (or ``rect`` of it) as it shows in the window, parents' backgrounds and all."""
    rect = rect or widget.rect()
    return window.grab(QRect(widget.mapTo(window, rect.topLeft()), rect.size())).toImage()


def _readable(window) -> dict[str, float]:
    """The text contrast of what a person reads first, by what it is."""
    grid, panel, detail = window.grid, window.suggestions, window.detail
    cell = grid.visualRect(window.model.index(0, 0))
    rows = panel.rows()
    accepted = next(r for r in rows if r.state == "accepted")
    chip = detail.chip(detail.chip_paths()[0])
    return {
        "name under a thumbnail": ink_contrast(
            _seen(window, grid.viewport(), grid.delegate.text_rect(cell))),
        "suggestion reason": min(ink_contrast(_seen(window, r.reason)) for r in rows[:4]),
        "suggested tag": ink_contrast(_seen(window, rows[1].name)),
        "added tag": ink_contrast(_seen(window, accepted.name)),
        "key number": ink_contrast(_seen(window, rows[1].key)),
        "photo facts": ink_contrast(_seen(window, detail.facts)),
        "tag chip": ink_contrast(_seen(window, chip, chip.rect().adjusted(4, 4, -4, -4))),
        "notification": ink_contrast(_seen(window, window.notifications.notifications()[0].label)),
        "train note": ink_contrast(_seen(window, panel.train_note)),
        "item count": ink_contrast(_seen(window, window.count_label)),
    }


def test_a_dark_palette_gives_readable_text_and_light_comes_back(qtbot, suggest_window,
                                                                 tmp_path):
    window, c = suggest_window, suggest_window.controller
    app = QApplication.instance()
    light = QPalette(app.palette())
    run_import(qtbot, window, _newcomer_photos(tmp_path))
    c.add_tags([window.model.item_id(r) for r in range(3)], ["home"])  # the train note shows
    settle_sidebar(qtbot, window)
    window.notifications.add("error", "Could not read broken.jpg: not a JPEG file")
    [cat] = select(qtbot, window, "chelsea-the-cat.jpg")
    window.controller.suggest.accept(0)  # an added tag, marked in its row
    qtbot.waitUntil(lambda: not c.suggest.pending(), timeout=60_000)
    assert window.suggestions.train_note.isVisible()
    try:
        app.setPalette(dark_palette())
        assert theme.is_dark()
        qtbot.wait(50)
        dark = _readable(window)
        assert all(v >= 4.5 for v in dark.values()), dark  # WCAG AA for small text
        # The panel's colours are the dark palette's own, not the light ones kept.
        reason = window.suggestions.rows()[0].reason
        assert reason.palette().color(reason.foregroundRole()).name() == \
            theme.colours().muted.name()
        shot = _shot(qtbot, window, tmp_path, "dark.png")
        assert QImage(str(shot)).pixelColor(5, 400).lightness() < 80  # the sidebar is dark
    finally:
        app.setPalette(light)
    qtbot.wait(50)
    again = _readable(window)
    assert all(v >= 4.5 for v in again.values()), again
    notice = window.notifications.notifications()[0].label
    assert notice.palette().color(notice.foregroundRole()).lightness() < 80  # dark text again


# -- 3. the window's layout, remembered ---------------------------------------------------------
def _layout(window) -> dict:
    return {"size": (window.width(), window.height()), "splitter": window.splitter.sizes(),
            "thumbnails": window.grid.iconSize().width(),
            "sections": window.sidebar.section_states()}


def _reopen(qtbot, paths):
    from tagassist.ui.app import open_window

    again = open_window(paths, "tester")
    qtbot.addWidget(again)
    again.show()
    qtbot.waitExposed(again)
    return again


def test_the_window_comes_back_as_it_was_left(qtbot, window, paths):
    default = _layout(window)
    assert default["sections"] == {"saved_searches": True, "folders": True}
    window.resize(760, 700)  # the offscreen screen is 800 px square: the window fits on it
    window.splitter.setSizes([300, 420, 360])
    window.apply_settings(SettingsChoice(user="tester", thumbnail_size=176,
                                         analyse_after_import=True))
    window.sidebar.entry(FOLDERS).setExpanded(False)
    qtbot.wait(20)
    left = _layout(window)
    assert left != default and left["sections"] == {"saved_searches": True, "folders": False}
    window.close()

    again = _reopen(qtbot, paths)
    try:
        assert _layout(again) == left
    finally:
        again.close()
        again.controller.library.close()


def test_a_maximized_window_opens_maximized(qtbot, window, paths):
    window.showMaximized()
    qtbot.waitUntil(window.isMaximized)
    window.close()
    again = _reopen(qtbot, paths)
    try:
        assert again.isMaximized()
    finally:
        again.close()
        again.controller.library.close()


@pytest.mark.parametrize("geometry, splitter, folders", [
    ("not a geometry", "a,b,c", "maybe"),
    (QByteArray(b"\x01\xd9\xd0\xcbgarbage"), "-5,10,20", 3),
    (QByteArray(), "240,680", ""),
    (12, [1, 2, "x"], "true false"),
])
def test_an_unreadable_layout_falls_back_to_the_defaults(qtbot, paths, geometry, splitter,
                                                         folders):
    store = QSettings("TagAssist", "TagAssist")
    store.setValue("window/geometry", geometry)
    store.setValue("window/splitter", splitter)
    store.setValue("sidebar/folders", folders)
    store.setValue("sidebar/saved_searches", "false")  # this one is readable: it is kept
    store.sync()
    layout = settings.window_layout()
    assert layout.splitter is None and layout.sections == {"saved_searches": False}
    window = _reopen(qtbot, paths)
    try:
        assert (window.width(), window.height()) == (1280, 800)
        assert window.sidebar.section_states() == {"saved_searches": False, "folders": True}
        sizes = window.splitter.sizes()
        assert sizes[0] == settings.SPLITTER_DEFAULT[0] and sizes[2] >= 300
    finally:
        window.close()
        window.controller.library.close()


# -- 4. the item count stays in the status bar -------------------------------------------------
def test_status_messages_never_cover_the_item_count(qtbot, window, imported):
    bar, count = window.statusBar(), window.count_label
    assert count.text() == f"{sample.ITEMS} items" and count.isVisible()
    bar.showMessage('Tagged "chelsea-the-cat.jpg" with "cat" — a long message that goes on'
                    ' and on across the status bar, longer than the bar itself is wide')
    qtbot.wait(20)
    assert count.isVisible() and count.text() == f"{sample.ITEMS} items"
    assert bar.rect().contains(count.geometry())  # in the bar, not pushed out of it
    window.controller.status.emit("Analysed 34 new items in 4.4 s")  # the controller's way
    assert count.isVisible() and bar.currentMessage().startswith("Analysed")


# -- 5. the suggestion list keeps its rows in view ---------------------------------------------
def _rows_out_of_view(panel) -> list[int]:
    """The rows (1-based) not wholly inside the list's height: scrolled or pushed out of it."""
    view = panel.scroll.viewport()
    out = []
    for n, row in enumerate(panel.rows(), 1):
        top = row.mapTo(view, QPoint(0, 0)).y()
        if top < 0 or top + row.height() > view.height():
            out.append(n)
    return out


def test_the_rows_stay_in_view_when_the_train_note_comes_and_goes(qtbot, window,
                                                                  sample_folder):
    run_import(qtbot, window, sample_folder)
    panel, c = window.suggestions, window.controller
    select_row = window.model.row_of(c.tagged_set().pop())  # a photo with a chip
    window.grid.select_rows([select_row])
    qtbot.waitUntil(lambda: not c.suggest.pending(), timeout=60_000)

    def all_in_view() -> None:  # once the layouts have settled (a few event-loop turns)
        qtbot.waitUntil(lambda: _rows_out_of_view(panel) == [], timeout=2_000)

    panel.set_training_shortfall(1)  # "1 more tagged photo needed to train"
    panel.show_result(_nine_rows())
    assert panel.train_note.isVisible() and len(panel.rows()) == 9
    all_in_view()
    scrolled = panel.scroll.verticalScrollBar().value()

    panel.set_training_shortfall(0)  # the tenth tagged photo: the note goes
    assert not panel.train_note.isVisible()
    all_in_view()  # rows 8 and 9 too
    assert panel.scroll.verticalScrollBar().value() == scrolled
    assert window.detail.preview_height() >= PREVIEW_MIN  # the preview gave way, within reason

    panel.set_training_shortfall(1)  # the note back (an undo): still every row in view
    all_in_view()

    short = _nine_rows()
    panel.show_result(SuggestResult(short.item_ids, short.rows[2:5], {}, 1))
    # Fewer rows: the preview takes its room back.
    qtbot.waitUntil(lambda: window.detail.preview_height() == PREVIEW_HEIGHT, timeout=2_000)


# -- 6. N, from where the window starts ---------------------------------------------------------
def test_n_starts_at_the_photo_the_window_selected_and_skips_none(qtbot, window, tmp_path):
    run_import(qtbot, window, _newcomer_photos(tmp_path))
    grid, model, c = window.grid, window.model, window.controller
    assert grid.selected_ids() == [model.item_id(0)]  # the window's own pick: not visited yet
    grid.setFocus()
    visited = []
    for n in range(4):
        qtbot.keyClick(grid, Qt.Key.Key_N)
        [item] = grid.selected_ids()
        visited.append(model.row_of(item))
        c.add_tags([item], [f"tag{n}"])  # tagged, as the newcomer does, then on
        settle_sidebar(qtbot, window)
    assert visited == [0, 1, 2, 3]  # the first N stays on the first photo: none skipped

    # A photo the person chose themselves is where they are: N goes on from it.
    grid.select_rows([5])
    qtbot.keyClick(grid, Qt.Key.Key_N)
    assert grid.selected_ids() == [model.item_id(6)]
    # A new view picks its first item again, and N starts there.
    window.show_untagged()
    first = model.item_id(0)
    qtbot.keyClick(grid, Qt.Key.Key_N)
    assert grid.selected_ids() == [first]
    assert "none of your tags" in window.statusBar().currentMessage()
    qtbot.keyClick(grid, Qt.Key.Key_N)
    assert grid.selected_ids() == [model.item_id(1)]
    # Tagged where the window put the person (T, a tag, Enter), N goes on at once, before
    # the write has landed.
    window.show_untagged()
    first = model.item_id(0)
    qtbot.keyClick(grid, Qt.Key.Key_T)
    qtbot.keyClicks(window.detail.tag_edit, "street")
    qtbot.keyClick(window.detail.tag_edit, Qt.Key.Key_Return)
    assert grid.hasFocus()
    qtbot.keyClick(grid, Qt.Key.Key_N)
    assert grid.selected_ids() == [model.item_id(1)]
    settle_sidebar(qtbot, window)
    assert first in c.tagged_set()
