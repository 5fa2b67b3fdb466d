"""The "Suggested set" panel: SOG's generated set for one photo, accepted with G, undone as one;
why there is none for a selection, a document or a broken model (ranked tags go on)."""

from __future__ import annotations

import shutil

from PySide6.QtCore import Qt

from tests import sample
from tests.ui.conftest import landed
from tests.ui.test_suggestions import WAIT, select, tag_paths


def test_the_set_is_shown_and_g_accepts_it_in_one_undo_step(qtbot, suggest_sample):
    window = suggest_sample
    window.controller.suggest.engine.always_show_set = True  # the setting
    [cat] = select(qtbot, window, "chelsea-the-cat.jpg")
    panel = window.suggestions
    result = window.controller.suggest.result
    made = [s.tag for s in result.generated]
    assert len(made) == 5 == len(set(made)) and result.generated_note == ""
    assert "animals|pets|cat" not in made  # the photo's own tag is the given prefix
    assert panel.set_tags.isVisible() and panel.set_button.isVisible()
    assert all(t in panel.set_tags.text() for t in made)
    assert [s.rank for s in result.generated] == [1, 2, 3, 4, 5]
    before = tag_paths(window, cat)
    qtbot.keyClick(window.grid, Qt.Key.Key_G)
    qtbot.waitUntil(lambda: set(made) <= tag_paths(window, cat), timeout=WAIT)
    c = window.controller
    decisions = [d for d in c.library.assignments.decisions(c.user_id) if d.item_id == cat]
    assert len(decisions) == 5 and all(d.accepted for d in decisions)
    assert all("sog-photos=" in d.model_version for d in decisions)
    window.undo_action.trigger()
    landed(window)
    assert tag_paths(window, cat) == before


def test_selection_and_documents_say_why_there_is_no_set(qtbot, suggest_sample):
    window = suggest_sample
    window.controller.suggest.engine.always_show_set = True
    panel = window.suggestions
    select(qtbot, window, "chelsea-the-cat.jpg", "espresso.jpg")
    assert not panel.set_tags.isVisible() and "select one photo" in panel.set_note.text()
    qtbot.keyClick(window.grid, Qt.Key.Key_G)
    assert "No generated set" in window.statusBar().currentMessage()
    select(qtbot, window, "brewing-espresso.txt")
    assert "for photos" in panel.set_note.text() and not panel.set_button.isVisible()


def test_a_broken_sog_model_is_named_and_ranked_tags_go_on(qtbot, paths, models_dir,
                                                           sample_folder, tmp_path):
    from tagassist.ui.app import open_window
    from tests.ui.conftest import run_import

    broken = tmp_path / "models"
    shutil.copytree(models_dir, broken)
    (broken / "sog-photos" / "tables.npz").write_bytes(b"\x00" * 1000)
    window = open_window(paths, "tester", models_dir=broken)
    window.controller.suggest.engine.always_show_set = True
    qtbot.addWidget(window)
    window.show()
    try:
        run_import(qtbot, window, sample_folder)
        qtbot.waitUntil(lambda: window.model.rowCount() == sample.ITEMS)
        select(qtbot, window, "chelsea-the-cat.jpg")
        panel = window.suggestions
        assert panel.tags()  # ranked suggestions still come
        assert "SOG model unavailable" in panel.set_note.text()
        assert "tables.npz" in panel.set_note.text()
        assert "Unavailable: sog-photos" in panel.models.text()
    finally:
        window.close()
        window.controller.library.close()
