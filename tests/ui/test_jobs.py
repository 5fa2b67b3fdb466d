"""Background jobs in the window: problems and errors are visible, cancel works."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import Qt

from tagassist.app.import_job import summarize_import
from tagassist.priority import BACKGROUND_NICE, MAX_NICE
from tagassist.ui.workers import JobRunner
from tests.ui.conftest import landed, run_import


def _jpeg(path: Path, n: int, size: int = 48) -> None:
    # A different colour per file: identity is the content hash, so copies would be one item.
    Image.new("RGB", (size, size), ((n * 37) % 256, (n * 11) % 256, n % 256)).save(path)
    path.write_bytes(path.read_bytes() + n.to_bytes(4, "big"))  # unique even if colours repeat


def test_corrupt_jpeg_is_reported(qtbot, window, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    _jpeg(folder / "good.jpg", 1)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00garbage" * 50)
    report = run_import(qtbot, window, folder)
    assert [Path(p.path).name for p in report.problems] == ["broken.jpg"]
    assert window.model.rowCount() == 1
    messages = window.notifications.messages()
    assert len(messages) == 1 and "broken.jpg" in messages[0]
    assert "1 file could not be imported" in messages[0]
    assert window.notifications.isVisible()
    # Dismissable.
    note = window.notifications.notifications()[0]
    qtbot.mouseClick(note.close_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.notifications.messages())
    qtbot.waitUntil(lambda: not window.notifications.isVisible())


def test_cancel_import(qtbot, window, tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    for n in range(300):
        _jpeg(folder / f"img{n:03d}.jpg", n)
    handle = window.start_import(folder)
    qtbot.waitUntil(lambda: window.job_status.bar.value() >= 1, timeout=30_000)
    qtbot.mouseClick(window.job_status.cancel_button, Qt.MouseButton.LeftButton)
    assert not window.job_status.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: not handle.running, timeout=30_000)
    assert handle.error is None
    assert handle.result.cancelled is True
    assert not window.job_status.isVisible()
    # The UI is usable: what was imported before the cancel is shown and can be tagged.
    shown = window.model.rowCount()
    assert 0 < shown < 300
    window.grid.select_rows([0])
    assert window.controller.add_tags(window.grid.selected_ids(), ["after-cancel"])
    landed(window)
    assert "after-cancel" in window.detail.chip_paths()
    # And a new import finishes the job.
    report = run_import(qtbot, window, folder)
    assert not report.cancelled and report.unchanged == shown
    assert window.model.rowCount() == 300


def test_worker_exception_reaches_notifications(qtbot, window):
    def boom(cancel: threading.Event):
        yield (1, 2, "first")
        raise RuntimeError("disk on fire")

    handle = window.controller.jobs.start("Test job", boom)
    handle.failed.connect(lambda msg: window.notifications.add("error", msg))
    with qtbot.waitSignal(handle.ended, timeout=10_000):
        pass
    assert "disk on fire" in handle.error
    assert any("disk on fire" in m for m in window.notifications.messages())


def test_job_runner_progress_and_result(qtbot):
    runner = JobRunner()
    ticks: list[tuple[int, int, str]] = []

    def job(cancel: threading.Event):
        for i in range(3):
            yield (i + 1, 3, f"step {i}")
        return "done"

    handle = runner.start("Counting", job)
    handle.progress.connect(lambda d, t, s: ticks.append((d, t, s)))
    with qtbot.waitSignal(handle.finished, timeout=10_000) as blocker:
        pass
    assert blocker.args == ["done"]
    assert ticks == [(1, 3, "step 0"), (2, 3, "step 1"), (3, 3, "step 2")]
    assert runner.shutdown()


def test_summarize_import_lists_first_problems():
    from tagassist.media.importer import ImportProblem, ImportReport

    report = ImportReport(
        added=2, problems=[ImportProblem(f"/x/f{i}.jpg", "bad") for i in range(5)]
    )
    status, text = summarize_import(report)
    assert status.startswith("Import finished: 2 new")
    assert text.startswith("5 files could not be imported")
    assert "f0.jpg: bad" in text and "and 2 more" in text
    assert summarize_import(ImportReport())[1] is None


def test_summarize_import_says_what_came_with_a_warning_and_escapes_bad_names():
    from tagassist.media.importer import ImportProblem, ImportReport

    report = ImportReport(added=1, problems=[ImportProblem("/x/\udcff\udcfe.jpg", "rename it")],
                          warnings=[ImportProblem("/x/a.jpg", "keyword left out: too long")])
    _, text = summarize_import(report)
    assert text == ("1 file could not be imported — \\xff\\xfe.jpg: rename it. "
                    "1 warning — a.jpg: keyword left out: too long")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice: Linux")
def test_the_analysis_runs_below_the_ui_thread_and_other_jobs_do_not(qtbot, window):
    def own_nice(cancel: threading.Event):
        yield (0, 1, "")
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    ui_nice = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    results = {}
    for name, runner in (("analysis", window.controller.analysis_jobs),
                         ("import and training", window.controller.jobs),
                         ("suggestions", window.controller.suggest.jobs)):
        handle = runner.start("Probe", own_nice)
        with qtbot.waitSignal(handle.finished, timeout=10_000) as blocker:
            pass
        results[name] = blocker.args[0]
    assert results == {"analysis": min(MAX_NICE, ui_nice + BACKGROUND_NICE),
                       "import and training": ui_nice, "suggestions": ui_nice}
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == ui_nice
