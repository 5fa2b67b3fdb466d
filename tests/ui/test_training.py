""""Train my suggestions" from the window: a real trainer child process, progress, cancel, the
skipped and unavailable cases, and the new model showing up in the panel."""

from __future__ import annotations

import csv
import gc
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tagassist.paths import sample_library_dir
from tagassist.suggest.training import trainer_available
from tests.ui.conftest import landed, run_import
from tests.ui.test_suggestions import select

needs_trainer = pytest.mark.skipif(not trainer_available(), reason="training needs torch")
TRAIN_WAIT = 180_000


def _ended(qtbot, handle, timeout: int = TRAIN_WAIT) -> dict:
    qtbot.waitUntil(lambda: not handle.running, timeout=timeout)
    assert handle.error is None, handle.error
    return handle.result


@pytest.fixture
def few_tagged(qtbot, suggest_window, tmp_path):
    """``suggest_window`` with one event of the sample imported (the Sunday at home: 7 photos,
    4 of them tagged by their file keywords), too few tagged photos for the trainer (10)."""
    folder = Path(shutil.copytree(sample_library_dir() / "2019-spring-berkeley",
                                  tmp_path / "home"))
    run_import(qtbot, suggest_window, folder)
    c = suggest_window.controller
    tagged = [i for i in c.library.items.ids() if c.library.assignments.tags_of(i, c.user_id)]
    assert len(tagged) == 4
    return suggest_window


@needs_trainer
def test_too_few_tagged_photos_is_a_clear_skip(qtbot, few_tagged):
    window = few_tagged  # 4 photos carry file keywords; the trainer needs 10
    # The window says so up front (tests/ui/test_list_holds_still.py); the trainer, started
    # all the same (as "retrain after" does), skips with its own reasons.
    assert not window.train_action.isEnabled() and "6 more" in window.train_action.text()
    window.controller.suggest.start_training()
    handle = window.controller.suggest.train_handle
    qtbot.waitUntil(lambda: window.job_status.handle is handle)
    assert _ended(qtbot, handle)["event"] == "skipped"
    [message] = window.notifications.messages()
    # one notice names every stage's reason: nothing changed, nothing contradicts
    assert message.startswith("Your suggestions stay as they were:") and "at least 10" in message
    assert "ranking: 4 tagged items, 10 needed" in message and "generated set:" in message
    assert not window.job_status.isVisible()
    assert window.controller.library.integrity_check() == "ok"


@needs_trainer
def test_cancel_from_the_status_bar(qtbot, suggest_sample):
    window = suggest_sample
    qtbot.mouseClick(window.suggestions.train_button, Qt.MouseButton.LeftButton)
    handle = window.controller.suggest.train_handle
    assert window.job_status.handle is handle
    qtbot.mouseClick(window.job_status.cancel_button, Qt.MouseButton.LeftButton)
    assert _ended(qtbot, handle)["event"] == "cancelled"
    assert "cancelled" in window.statusBar().currentMessage()
    assert not window.notifications.messages()
    assert "not trained yet" in window.suggestions.personal.text()
    assert window.controller.library.integrity_check() == "ok"


def test_without_torch_the_action_explains(qtbot, suggest_window, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # as if torch were not installed
    assert not trainer_available()
    window = suggest_window  # nothing tagged: the action is disabled; started all the same
    window.controller.suggest.start_training()
    assert window.controller.suggest.train_handle is None
    [message] = window.notifications.messages()
    assert "PyTorch" in message and "pip install" in message


def _coco_library(folder, n_photos: int = 36) -> list[tuple[str, list[str]]]:
    """``n_photos`` COCO val2017 photos copied into ``folder``, with their labels."""
    from trainer.datasets import data_dir

    coco = data_dir() / "coco-val2017-283"
    if not (coco / "labels.csv").is_file():
        pytest.skip(f"{coco} not found (the shared data sets)")
    rows = []
    with (coco / "labels.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            tags = sorted({t for t in (row["tags"] + "|" + row["supercategories"]).split("|")
                           if t})
            if tags:
                rows.append((row["filename"], tags))
    folder.mkdir()
    for name, _ in rows[:n_photos]:
        shutil.copy(coco / "images" / name, folder / name)
    return rows[:n_photos]


def _tagged_coco(qtbot, window, folder) -> list[tuple[str, list[str]]]:
    """36 COCO photos imported through the window, 28 tagged (as test_personal_ranker)."""
    c = window.controller
    labels = _coco_library(folder)
    run_import(qtbot, window, folder)
    for name, tags in labels[:28]:  # through the window's controller, as typed tags
        c.add_tags([c.library.items.by_path(folder / name).id], tags)
    qtbot.waitUntil(window.train_action.isEnabled, timeout=20_000)  # the sidebar recounted
    return labels


@needs_trainer
@pytest.mark.slow
def test_training_publishes_a_model_and_suggestions_use_it(qtbot, suggest_window, tmp_path):
    window = suggest_window
    c = window.controller
    labels = _tagged_coco(qtbot, window, tmp_path / "coco")
    window.train_action.trigger()
    handle = c.suggest.train_handle
    progress: list[tuple[int, int, str]] = []
    handle.progress.connect(lambda *tick: progress.append(tick))
    result = _ended(qtbot, handle)
    assert result["event"] == "done", result
    assert any(text == "choosing a model" and total > 0 for _d, total, text in progress)
    [notice] = [m for m in window.notifications.messages() if "suggestions" in m]
    assert notice.startswith("Your suggestions were updated:")
    assert f"content model {result['version']} trained" in notice and "ranking" in notice
    select(qtbot, window, labels[-1][0])  # an untagged photo
    assert window.suggestions.personal.text() == f"Personal model: {result['version']}"
    assert any("learned from your tagged photos" in r.suggestion.reason
               for r in window.suggestions.rows())


# Regression: Library.open's header check used to open and close the database file, which on
# POSIX drops every lock of this process's other SQLite connections; the trainer child then
# deleted the WAL under the window and the second run corrupted the library.
@needs_trainer
@pytest.mark.slow
def test_cancel_while_training_then_train_again(qtbot, suggest_window, tmp_path):
    window = suggest_window
    c = window.controller
    _tagged_coco(qtbot, window, tmp_path / "coco")
    # Cancelled while the trainer runs: the child process stops, no content model is
    # published (the set's and blend's quick stages before it finished and may have).
    handle = c.suggest.start_training()
    handle.progress.connect(lambda _d, _t, text: handle.cancel() if text == "choosing a model"
                            else None)
    assert _ended(qtbot, handle)["event"] == "cancelled"

    def content_models():
        return [m for m in c.library.models.all() if m.name.startswith("personal-content/")]

    assert content_models() == []
    result = _ended(qtbot, c.suggest.start_training())
    assert result["event"] == "done", result
    assert c.library.integrity_check() == "ok"
    assert len(content_models()) == 1


@needs_trainer
def test_retrains_by_itself_after_the_set_number_of_decisions(qtbot, few_tagged):
    window = few_tagged
    s = window.controller.suggest
    s.retrain_after = 2  # the setting (Settings ▸ Models ▸ Retrain after)
    select(qtbot, window, "chelsea-the-cat.jpg")
    qtbot.keyClick(window.grid, Qt.Key.Key_1, Qt.KeyboardModifier.AltModifier)  # reject 1
    landed(window)  # decisions count once written
    assert s.train_handle is None and s.decisions_since_training == 1
    # the list holds still: Alt+1 again would reject nothing more; Alt+2 is the next row
    qtbot.keyClick(window.grid, Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier)  # reject 2
    landed(window)
    handle = s.train_handle
    assert handle is not None and s.decisions_since_training == 0
    assert "updating your personal model" in window.statusBar().currentMessage()
    assert _ended(qtbot, handle)["event"] == "skipped"  # 4 tagged photos: too few, and says so
    s.retrain_after = 0  # only when asked
    qtbot.keyClick(window.grid, Qt.Key.Key_3, Qt.KeyboardModifier.AltModifier)
    landed(window)
    assert s.decisions_since_training == 1 and s.train_handle is handle


@needs_trainer
@pytest.mark.slow
def test_an_update_keeps_the_window_responsive(qtbot, suggest_window, tmp_path):
    """The second training is an update (the user's rows only); a 10 ms heartbeat on the UI
    thread meanwhile never stalls long (the bench's goal is 100 ms; CI machines are noisier)."""
    import time

    from PySide6.QtCore import QTimer

    window = suggest_window
    c = window.controller
    labels = _tagged_coco(qtbot, window, tmp_path / "coco")
    assert _ended(qtbot, c.suggest.start_training())["event"] == "done"
    for name, tags in labels[28:32]:  # 4 new photos since the first version
        item = c.library.items.by_path(tmp_path / "coco" / name)
        c.library.assignments.assign(c.user_id, [item.id], tags)
    beats: list[float] = []
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.timeout.connect(lambda: beats.append(time.perf_counter()))
    # What the app does at start-up (ui.app.tune_interpreter): the objects that exist now (here
    # also every earlier test's modules and data) are kept out of full collections, which scan
    # the whole heap holding the GIL: in one full-suite CI run this test saw gaps of 300-440 ms
    # (that GC was the cause is our reading, not a measurement); run alone it passed.
    gc.collect()
    gc.freeze()
    timer.start(10)
    result = _ended(qtbot, c.suggest.start_training())
    timer.stop()
    assert result["event"] in ("done", "skipped"), result
    if result["event"] == "done":
        assert result["metrics"]["mode"] == "update"
    else:  # the guard kept the previous model: it says so
        assert "the previous model stays" in result["message"]
    gaps = np.diff(beats) * 1000
    assert len(beats) > 50 and gaps.max() < 400, sorted(gaps)[-5:]
