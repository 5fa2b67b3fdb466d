"""Issue 23, seen by driving the window as a newcomer: the suggestion list holds still under
the number keys, its reasons are plain words shown in full, and Train says up front how many
more tagged photos it needs."""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel

from tagassist.paths import sample_library_dir
from tagassist.ui.suggest_controller import MIN_TAGGED
from tagassist.ui.suggestion_panel import TRAIN_TIP
from tests import sample
from tests.ui.conftest import landed, run_import, settle_sidebar
from tests.ui.test_suggestions import WAIT, select, tag_paths, wait_for

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "list-holds-still.png"
JARGON = ("->", "key word", "image:", "text:", "your history", "candidate", "look-alike")


def _key_hint(row) -> str:
    return row.findChild(QLabel, "keyHint").text()


def _settled(qtbot, window) -> None:
    """The decision's write has landed and the refresh it started has arrived (or none was
    needed)."""
    c = window.controller
    qtbot.waitUntil(lambda: not c.writes_pending() and not c.suggest.pending(), timeout=WAIT)


def _accepted(window, item_id: int) -> list[str]:
    c = window.controller
    paths = {t.id: t.path for t in c.library.tags.all()}
    return [paths[d.tag_id] for d in c.library.assignments.decisions(c.user_id)
            if d.accepted and d.item_id == item_id]


def test_pressing_1_twice_accepts_one_tag(qtbot, suggest_sample):
    window = suggest_sample
    [launch] = select(qtbot, window, "launch.jpg")
    panel = window.suggestions
    before = panel.tags()
    assert len(before) >= 2
    window.grid.setFocus()

    qtbot.keyClick(window.grid, Qt.Key.Key_1)
    first = panel.rows()[0]
    assert panel.tags()[:len(before)] == before  # nothing moved up under the finger
    assert first.state == "accepted" and _key_hint(first) == "1"
    _settled(qtbot, window)  # the re-ranked list (the accepted tag present) arrived
    qtbot.keyClick(window.grid, Qt.Key.Key_1)  # the same key again: nothing more is accepted
    _settled(qtbot, window)

    assert _accepted(window, launch) == [before[0]]
    assert before[0] in tag_paths(window, launch) and before[1] not in tag_paths(window, launch)
    assert "already accepted" in window.statusBar().currentMessage()
    rows = panel.rows()
    assert panel.tags()[:len(before)] == before
    assert rows[0].state == "accepted" and _key_hint(rows[0]) == "1"
    assert rows[0].decision.isVisible() and not rows[0].accept_button.isVisible()
    assert rows[1].suggestion.tag == before[1] and rows[1].state == "" and _key_hint(rows[1]) == "2"
    assert all(_key_hint(r) == str(n) for n, r in enumerate(rows, 1))

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    assert window.grab().save(str(SCREENSHOT))


def test_decisions_never_renumber_the_list(qtbot, suggest_sample):
    window = suggest_sample
    [cat] = select(qtbot, window, "chelsea-the-cat.jpg")
    panel = window.suggestions
    before = panel.tags()
    assert len(before) >= 3

    qtbot.keyClick(window.grid, Qt.Key.Key_2)  # accept the second
    qtbot.keyClick(window.grid, Qt.Key.Key_3, Qt.KeyboardModifier.AltModifier)  # reject the third
    assert [r.state for r in panel.rows()[:3]] == ["", "accepted", "rejected"]
    assert panel.tags()[:len(before)] == before
    _settled(qtbot, window)
    rows = panel.rows()
    assert [r.suggestion.tag for r in rows[:len(before)]] == before  # appended below, if any
    assert [r.state for r in rows[:3]] == ["", "accepted", "rejected"]
    assert len(rows) <= 9 and all(_key_hint(r) == str(n) for n, r in enumerate(rows, 1))
    assert len(set(panel.tags())) == len(rows)
    assert before[1] in tag_paths(window, cat) and before[2] not in tag_paths(window, cat)

    # Alt+2 on the accepted row rejects nothing; 3 on the rejected row accepts nothing.
    qtbot.keyClick(window.grid, Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier)
    qtbot.keyClick(window.grid, Qt.Key.Key_3)
    c = window.controller
    landed(window)  # (nothing was queued)
    assert len(c.library.assignments.decisions(c.user_id)) == 2
    assert before[2] not in tag_paths(window, cat)

    # An undo takes a decision back: the list is ranked afresh (the marks might be untrue).
    qtbot.keyClick(window.grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    landed(window)
    assert before[2] not in tag_paths(window, cat)
    qtbot.keyClick(window.grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    landed(window)
    assert before[1] not in tag_paths(window, cat)
    _settled(qtbot, window)
    assert panel.tags() == before and all(r.state == "" for r in panel.rows())

    # Another photo, then back: a fresh list, every row open, ranked afresh.
    select(qtbot, window, "espresso.jpg")
    assert all(r.state == "" for r in panel.rows())
    select(qtbot, window, "chelsea-the-cat.jpg")
    assert all(r.state == "" for r in panel.rows())
    assert panel.tags() == before  # both decisions were undone: the first list again


def test_reasons_are_plain_and_shown_in_full(qtbot, suggest_sample):
    window = suggest_sample  # the default window size (1280 x 800)
    panel = window.suggestions
    shown = 0
    for row in range(window.model.rowCount()):
        window.grid.select_rows([row])
        ids = window.grid.selected_ids()
        wait_for(qtbot, window, ids)
        QApplication.processEvents()  # the rows' layout settles (posted layout requests)
        for r in panel.rows():
            s, label = r.suggestion, r.reason
            assert not any(j in s.reason for j in JARGON), s.reason
            assert label.full_text() == s.reason and s.reason in label.toolTip()
            # wrapped between reasons, never cut: every line is whole and fits
            assert label.text().replace("\n", " · ") == s.reason
            qtbot.waitUntil(lambda lb=label: lb.height() >= lb.heightForWidth(lb.width()))
            fm = label.fontMetrics()
            for word in label.text().split():
                assert fm.horizontalAdvance(word) <= label.contentsRect().width(), word
            assert label.geometry().right() <= r.contentsRect().right()
            shown += 1
    assert shown >= sample.ITEMS  # every item had rows


def _copy(tmp_path: Path, *folders: str) -> Path:
    target = tmp_path / "some"
    for name in folders:
        shutil.copytree(sample_library_dir() / name, target / name)
    return target


def test_train_says_how_many_more_tagged_photos_it_needs(qtbot, window, tmp_path):
    run_import(qtbot, window, _copy(tmp_path, "2019-spring-berkeley", "2018-montreal"))
    c = window.controller
    panel = window.suggestions
    tagged = c.library.queries.tagged(c.user_id)
    assert 0 < len(tagged) < MIN_TAGGED - 1
    missing = MIN_TAGGED - len(tagged)
    assert not panel.train_button.isEnabled() and not window.train_action.isEnabled()
    assert panel.train_note.isVisible()
    assert panel.train_note.text() == f"{missing} more tagged photos needed to train"
    assert "more tagged photos needed" in panel.train_button.toolTip()
    assert f"{missing} more tagged photos needed" in window.train_action.text()

    untagged = [i for i in c.library.items.ids() if i not in set(tagged)]
    c.add_tags(untagged[:missing - 1], ["walk"])  # as typed in the tag field
    settle_sidebar(qtbot, window)
    assert panel.train_note.text() == "1 more tagged photo needed to train"
    assert not panel.train_button.isEnabled()

    c.add_tags(untagged[missing - 1:missing], ["walk"])  # the tenth
    settle_sidebar(qtbot, window)
    assert len(c.library.queries.tagged(c.user_id)) == MIN_TAGGED
    assert panel.train_button.isEnabled() and window.train_action.isEnabled()
    assert not panel.train_note.isVisible() and panel.train_button.toolTip() == TRAIN_TIP
    assert window.train_action.text() == "&Train my suggestions"

    window.undo_action.trigger()  # nine again: disabled again
    settle_sidebar(qtbot, window)
    assert not panel.train_button.isEnabled()
