"""Issue 23, "Must show": the window walked as a newcomer, with key presses and mouse clicks
only — an empty library, its call to action, a folder opened, ten photos tagged (typed, and
suggestions accepted by their numbers, some pressed twice), an undo, and training.

The one patch is the folder dialog (a native dialog cannot be driven headless): it answers
with a copy of the sample's photos, their embedded keywords taken out (XMP packets; the sample
has no IPTC), so the library starts with nothing tagged, as a newcomer's does.

Set ``TAGASSIST_SHOTS=docs/screenshots`` to write the walk's screenshots (``walk-1-empty.png``
… ``walk-6-trained.png``) there; otherwise they go to the test's tmp folder::

    TAGASSIST_SHOTS=docs/screenshots QT_QPA_PLATFORM=offscreen .venv/bin/python -m pytest -q \\
        -p no:cacheprovider tests/ui/test_newcomer_walk.py tests/ui/test_first_run.py
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QApplication, QFileDialog, QLabel

from tagassist.paths import sample_library_dir
from tagassist.suggest.training import trainer_available
from tagassist.ui.suggest_controller import MIN_TAGGED
from tagassist.ui.suggestion_panel import TRAIN_TIP
from tests.ui.conftest import assert_empty_state_leads, landed, settle_sidebar
from tests.ui.test_suggestions import WAIT, tag_paths, wait_for
from tests.ui.test_walkthrough import KEY_GAP_MS

TRAIN_WAIT = 180_000  # the trainer child process (python -m trainer.personal)
XMP_APP1 = b"http://ns.adobe.com/xap/1.0/\x00"
# What the newcomer types for a photo, by the folder it came from.
TYPED = {"2018-montreal": "montreal", "2019-spring-berkeley": "home",
         "2021-kennedy-space-center": "space", "2023-amsterdam": "amsterdam",
         "nasa": "space", "street": "street"}
# How each of the ten photos is tagged: typed in the tag field, or the numbered suggestion
# accepted with its digit key, once or twice in a row.
PLAN = [("type", 0), ("digit", 2), ("type", 0), ("digit", 1), ("type", 0),
        ("digit", 2), ("type", 0), ("digit", 1), ("type", 0), ("digit", 2)]


def press(qtbot, window, key: Qt.Key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    """A key pressed where the keyboard is: an open popup, else the focused widget.

    The offscreen platform activates a popup (the tag field's completions) as a window of its
    own and leaves the activation with it once it has closed; a desktop keeps the main window
    active throughout.  The window is activated again here with the focus where the app put
    it (``activateWindow`` alone gives it back to the widget focused when the popup opened).
    """
    popup = QApplication.activePopupWidget()
    if popup is None:
        _activate(qtbot, window)
    qtbot.keyClick(popup or QApplication.focusWidget() or window, key, modifier)
    qtbot.wait(KEY_GAP_MS)


def _activate(qtbot, window) -> None:
    """``window`` active again (see :func:`press`), the focus left where it is."""
    if QApplication.activeWindow() is not window:
        keep = QApplication.focusWidget()
        window.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
        if keep is not None and keep.window() is window:
            keep.setFocus(Qt.FocusReason.ActiveWindowFocusReason)


def _shot(qtbot, window, tmp_path: Path, name: str) -> Path:
    folder = Path(os.environ["TAGASSIST_SHOTS"]) if os.environ.get("TAGASSIST_SHOTS") \
        else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    grid = window.grid
    if grid.isVisible():  # the thumbnails on screen, not their placeholders
        view = grid.viewport().rect()
        rows = [r for r in range(window.model.rowCount())
                if view.intersects(grid.visualRect(window.model.index(r, 0)))]
        qtbot.waitUntil(lambda: all(window.thumbs.pixmap(window.model.item_id(r)) is not None
                                    for r in rows), timeout=30_000)
    qtbot.wait(50)  # posted layouts and repaints
    path = folder / name
    assert window.grab().save(str(path))
    return path


def _without_keywords(jpeg: bytes) -> bytes:
    """``jpeg`` without its XMP packet (where the sample keeps its keywords) and IPTC block;
    the EXIF (date, place, camera) and the image data stay byte for byte."""
    assert jpeg[:2] == b"\xff\xd8"
    out, i = [jpeg[:2]], 2
    while i < len(jpeg):
        marker = jpeg[i + 1]
        if marker == 0xDA:  # start of scan: the rest is image data
            out.append(jpeg[i:])
            break
        end = i + 2 + struct.unpack(">H", jpeg[i + 2:i + 4])[0]
        segment = jpeg[i:end]
        if not (marker == 0xED or (marker == 0xE1 and segment[4:4 + len(XMP_APP1)] == XMP_APP1)):
            out.append(segment)
        i = end
    return b"".join(out)


def _newcomer_photos(tmp_path: Path) -> Path:
    """The sample's photos (no documents, no sidecars), keywords taken out, folders kept."""
    source = sample_library_dir()
    target = tmp_path / "My photos"
    for photo in sorted(source.rglob("*.jpg")):
        copy = target / photo.relative_to(source)
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_bytes(_without_keywords(photo.read_bytes()))
    return target


def _names_whole(window) -> None:
    """Every name in the grid is drawn whole, or elided in the middle (start and end kept),
    on at most two lines that fit the cell (as tests/ui/test_first_run.py checks)."""
    grid, model, delegate = window.grid, window.model, window.grid.delegate
    fm = QFontMetrics(grid.font())
    for row in range(model.rowCount()):
        index = model.index(row, 0)
        name = index.data()
        width = delegate.text_rect(grid.visualRect(index)).width()
        lines = delegate.text_lines(name, width)
        assert 1 <= len(lines) <= 2 and all(fm.horizontalAdvance(ln) <= width for ln in lines)
        if "…" in "".join(lines):
            head, tail = lines[-1].split("…")
            assert name.startswith(lines[0] if len(lines) == 2 else head) and name.endswith(tail)
        else:
            assert "".join(lines).replace(" ", "") == name.replace(" ", ""), (name, lines)


def _train_says(window, tagged: int) -> None:
    """Train (the panel's button and Suggestions ▸ Train) is enabled from ten tagged photos;
    below that it is disabled and says how many more it needs."""
    panel, missing = window.suggestions, MIN_TAGGED - tagged
    if missing > 0:
        need = f"{missing} more tagged photo{'s' if missing != 1 else ''} needed"
        assert not panel.train_button.isEnabled() and not window.train_action.isEnabled()
        assert panel.train_note.isVisible() and panel.train_note.text() == f"{need} to train"
        assert need in panel.train_button.toolTip() and need in window.train_action.text()
    else:
        assert panel.train_button.isEnabled() and window.train_action.isEnabled()
        assert not panel.train_note.isVisible() and panel.train_button.toolTip() == TRAIN_TIP
        assert window.train_action.text() == "&Train my suggestions"


def _key_hints(window) -> list[str]:
    return [r.findChild(QLabel, "keyHint").text() for r in window.suggestions.rows()]


def _settled(qtbot, window) -> None:
    """The write a key queued has landed and the suggestions it refreshed have arrived."""
    c = window.controller
    qtbot.waitUntil(lambda: not c.writes_pending() and not c.suggest.pending(), timeout=WAIT)


def _typed_is_marked(qtbot, window, tag: str) -> None:
    """A tag typed while it was suggested is marked added in its row, as its chip shows it:
    its number key offers nothing more."""
    _settled(qtbot, window)
    for row in window.suggestions.rows():
        if row.suggestion.tag == tag:
            assert row.state == "accepted" and not row.accept_button.isVisible(), tag


def _rows_look_right(window) -> None:
    """Bold is an added tag, struck out a rejected one; an open suggestion is neither (a row
    shown once as added kept its bold on every later suggestion)."""
    for row in window.suggestions.rows():
        font = row.name.font()
        assert font.bold() == (row.state == "accepted"), (row.suggestion.tag, row.state)
        assert font.strikeOut() == (row.state == "rejected"), (row.suggestion.tag, row.state)


def _name(window, item_id: int) -> str:
    return Path(window.model.item_at(window.model.row_of(item_id)).paths[0]).name


@pytest.mark.skipif(not trainer_available(), reason="training needs torch")
@pytest.mark.slow
def test_a_newcomer_walks_from_an_empty_library_to_training(qtbot, suggest_window, tmp_path,
                                                             monkeypatch):
    window, c = suggest_window, suggest_window.controller
    panel, grid = window.suggestions, window.grid
    photos = _newcomer_photos(tmp_path)
    asked: list[str] = []

    def choose_folder(parent, caption="", *args, **kwargs):  # the native dialog, answered
        asked.append(caption)
        return str(photos)

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(choose_folder))

    # -- 1. the empty library leads: what to do, and the keys to do it ------------------------
    settle_sidebar(qtbot, window)
    empty = window.empty
    assert_empty_state_leads(window)
    assert empty.heading.text() == "Bring your photos in"
    assert empty.open_button.hasFocus()  # Enter imports straight away
    _train_says(window, 0)
    assert not window.notifications.messages()
    _shot(qtbot, window, tmp_path, "walk-1-empty.png")

    # -- 2. Enter on "Open a folder…": the folder dialog, the import, the grid ----------------
    press(qtbot, window, Qt.Key.Key_Return)
    assert asked == ["Import folder"]  # File ▸ Import folder…'s dialog
    count = len(list(photos.rglob("*.jpg")))
    qtbot.waitUntil(lambda: window.model.rowCount() == count, timeout=60_000)
    qtbot.waitUntil(lambda: c.suggest.analyse_handle is not None
                    and not c.suggest.analyse_handle.running, timeout=120_000)
    settle_sidebar(qtbot, window)
    assert not window.empty_state_shown() and grid.isVisible()
    assert grid.hasFocus()  # the keyboard followed into the grid
    assert c.library.queries.tagged(c.user_id) == []  # nothing came tagged from the files
    assert len(grid.selected_ids()) == 1  # a current photo: the keys work at once
    _names_whole(window)
    _train_says(window, 0)
    assert not window.notifications.messages()  # a clean import raises no banner
    _shot(qtbot, window, tmp_path, "walk-2-imported.png")

    # -- 3. ten photos tagged with keys alone --------------------------------------------------
    tagged: list[tuple[int, str]] = []  # (item, the tag it got)
    shot_list = False
    for n, (how, times) in enumerate(PLAN):
        _train_says(window, n)  # before the tenth: disabled, "k more … needed"
        press(qtbot, window, Qt.Key.Key_N)  # N: the next untagged photo
        [item] = grid.selected_ids()
        assert item not in {i for i, _t in tagged} and not tag_paths(window, item)
        assert grid.hasFocus()
        wait_for(qtbot, window, [item])  # the suggestions a person reads first
        if how == "type":
            folder = Path(window.model.item_at(window.model.row_of(item)).paths[0]).parent.name
            tag = TYPED[folder]
            press(qtbot, window, Qt.Key.Key_T)  # T: into the tag field
            assert window.detail.tag_edit.hasFocus()
            qtbot.keyClicks(QApplication.focusWidget(), tag)
            press(qtbot, window, Qt.Key.Key_Return)  # Enter adds it (a completion may show)
            assert grid.hasFocus(), QApplication.focusWidget()  # the keys are back
            assert window.detail.tag_edit.text() == ""
            landed(window)  # written in the background
            assert window.statusBar().currentMessage() == (
                f'Tagged "{_name(window, item)}" with "{tag}"')
            _typed_is_marked(qtbot, window, tag)
        else:
            before, hints = panel.tags(), _key_hints(window)
            digit = 1 if n % 4 == 1 else 2  # the first row, or the second
            assert len(before) >= digit and hints == [str(k) for k in range(1, len(before) + 1)]
            tag = before[digit - 1]
            key = getattr(Qt.Key, f"Key_{digit}")
            press(qtbot, window, key)
            row = panel.rows()[digit - 1]
            assert row.suggestion.tag == tag and row.state == "accepted"  # marked in place
            _settled(qtbot, window)  # the re-ranked list (the tag on the photo) arrived
            for _again in range(times - 1):  # the same number again: nothing more happens
                press(qtbot, window, key)
                _settled(qtbot, window)
                assert "already accepted" in window.statusBar().currentMessage()
            assert panel.tags()[:len(before)] == before  # no row moved, none renumbered
            assert _key_hints(window) == [str(k) for k in range(1, len(panel.rows()) + 1)]
            assert [r.state for r in panel.rows()].count("accepted") == 1
            assert panel.rows()[digit - 1].state == "accepted"
            accepted = [d for d in c.library.assignments.decisions(c.user_id)
                        if d.item_id == item and d.accepted]
            assert len(accepted) == 1 and accepted[0].rank == digit
            assert grid.hasFocus()
            if not shot_list:  # the list with its accepted row, still numbered
                _shot(qtbot, window, tmp_path, "walk-3-tagging.png")
                shot_list = True
        assert tag_paths(window, item) == {tag}  # one tag, whichever way it came
        _rows_look_right(window)
        tagged.append((item, tag))
        settle_sidebar(qtbot, window)
    assert sum(1 for how, _t in PLAN if how == "type") >= 4
    assert sum(1 for how, _t in PLAN if how == "digit") >= 4
    assert sum(1 for how, times in PLAN if how == "digit" and times == 2) >= 2
    assert len(c.library.queries.tagged(c.user_id)) == MIN_TAGGED
    _train_says(window, MIN_TAGGED)  # the tenth: Train is ready
    _shot(qtbot, window, tmp_path, "walk-4-ten-tagged.png")

    # -- 4. on to the next photo, then Ctrl+Z: the undo names what it took back ---------------
    press(qtbot, window, Qt.Key.Key_N)
    [next_item] = grid.selected_ids()
    wait_for(qtbot, window, [next_item])
    last, last_tag = tagged[-1]
    press(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    landed(window)
    said = window.statusBar().currentMessage()
    assert said.startswith("Undid: ") and f'"{_name(window, last)}"' in said, said
    assert f'"{last_tag}"' in said, said
    assert not tag_paths(window, last)
    assert grid.selected_ids() == [next_item]  # the selection stays where the person is …
    shown = grid.visualRect(window.model.index(window.model.row_of(last), 0))
    assert grid.viewport().rect().contains(shown)  # … and the undone photo is in view
    settle_sidebar(qtbot, window)
    _train_says(window, MIN_TAGGED - 1)  # nine again: disabled again, one more needed
    _shot(qtbot, window, tmp_path, "walk-5-undo.png")

    # The photo in hand (untagged) makes ten again: T, a tag, Enter.
    _settled(qtbot, window)
    press(qtbot, window, Qt.Key.Key_T)
    folder = Path(window.model.item_at(window.model.row_of(next_item)).paths[0]).parent.name
    qtbot.keyClicks(QApplication.focusWidget(), TYPED[folder])
    press(qtbot, window, Qt.Key.Key_Return)
    landed(window)
    assert grid.hasFocus() and tag_paths(window, next_item) == {TYPED[folder]}
    _typed_is_marked(qtbot, window, TYPED[folder])
    _rows_look_right(window)
    settle_sidebar(qtbot, window)
    _train_says(window, MIN_TAGGED)

    # -- 5. a click on Train: the trainer runs in the background, one notice says what it did --
    assert not window.notifications.messages()
    qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    handle = c.suggest.train_handle
    assert handle is not None and window.job_status.handle is handle
    qtbot.waitUntil(lambda: not handle.running, timeout=TRAIN_WAIT)
    assert handle.error is None, handle.error
    result = handle.result
    assert result["event"] in ("done", "skipped"), result
    messages = window.notifications.messages()
    notices = [m for m in messages if m.startswith("Your suggestions")]
    assert len(notices) == 1, messages  # one notice for the whole job
    [notice] = notices
    # Nothing shown contradicts it: not "updated" and "stay as they were" at once, no error.
    assert not (any("were updated" in m for m in messages)
                and any("stay as they were" in m for m in messages)), messages
    assert len(messages) == 1, messages
    if result["event"] == "done":
        assert notice.startswith("Your suggestions were updated:")
        assert f"content model {result['version']} trained" in notice
        _settled(qtbot, window)  # the list afresh, with the new model
        _rows_look_right(window)
        assert panel.personal.text() == f"Personal model: {result['version']}"
    else:
        assert "not trained yet" in panel.personal.text()
    assert "cancelled" not in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: not window.job_status.isVisible())
    assert grid.selected_ids() == [next_item]
    _shot(qtbot, window, tmp_path, "walk-6-trained.png")
    _activate(qtbot, window)  # no activation left with a closed popup for the next test
