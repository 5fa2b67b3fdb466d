"""After an import the window analyses (featurizes) the new items in the background."""

from __future__ import annotations

from tests import sample
from tests.ui.conftest import run_import


def _missing(window) -> list[int]:
    """Items without any stored features (whatever the model version)."""
    lib = window.controller.library
    done = {r[0] for r in lib._conn.execute("SELECT DISTINCT item_id FROM features")}
    return [i for i in lib.items.ids() if i not in done]


def test_import_analyses_new_items_with_progress(qtbot, suggest_window, sample_folder):
    seen = []
    suggest_window.controller.job_started.connect(lambda h: seen.append(h.title))
    run_import(qtbot, suggest_window, sample_folder)
    handle = suggest_window.controller.suggest.analyse_handle
    assert handle is not None and "Analysing new items" in seen
    # (the status bar follows every started job: see test_window's import test)
    assert not handle.running  # run_import waits for it
    assert handle.error is None, handle.error
    assert handle.result.featurized == sample.ITEMS and not handle.result.failed
    assert _missing(suggest_window) == []


def test_cancelled_analysis_leaves_the_rest_for_later(qtbot, suggest_window, sample_folder):
    run_import(qtbot, suggest_window, sample_folder)
    handle = suggest_window.controller.suggest.analyse_handle
    handle.cancel()
    qtbot.waitUntil(lambda: not handle.running, timeout=120_000)
    assert handle.error is None, handle.error
    # Cancelled before (or right after) its first batch: the window still works and a new
    # analysis picks up exactly what is missing.
    again = suggest_window.controller.suggest.start_analysis()
    assert again is not handle
    qtbot.waitUntil(lambda: not again.running, timeout=120_000)
    assert again.result.featurized == sample.ITEMS - handle.result.featurized
    assert _missing(suggest_window) == []
