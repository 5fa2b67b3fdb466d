"""``run_gui``: the unattended screenshot run, and a library that cannot be opened."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QMessageBox

from tagassist.ui.app import EXIT_LIBRARY_ERROR, run_gui


def test_screenshot_after_import(qapp, paths, sample_folder, tmp_path):
    shot = tmp_path / "shots" / "main.png"
    assert run_gui(paths, open_folder=sample_folder, user="tester", screenshot=shot) == 0
    image = QImage(str(shot))
    assert not image.isNull()
    assert image.width() >= 800 and image.height() >= 500
    # Not a blank frame: many distinct colours (thumbnails were painted).
    colours = {
        image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)
    }
    assert len(colours) > 200


def test_unreadable_library_exits_2_without_traceback(qapp, paths, tmp_path, capsys):
    paths.root.mkdir(parents=True)
    paths.database.write_bytes(b"this is not a database" * 10)
    shot = tmp_path / "never.png"
    assert run_gui(paths, open_folder=None, user="tester", screenshot=shot) == EXIT_LIBRARY_ERROR
    assert not shot.exists()
    err = capsys.readouterr().err
    assert "not a TagAssist database" in err
    assert "Traceback" not in err


def test_unreadable_library_shows_message_box(qapp, paths):
    paths.root.mkdir(parents=True)
    paths.database.write_bytes(b"")
    seen: list[str] = []

    def close_box() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            seen.append(box.text())
            box.close()
        else:
            QTimer.singleShot(50, close_box)

    QTimer.singleShot(50, close_box)
    assert run_gui(paths, open_folder=None, user="tester", screenshot=None) == EXIT_LIBRARY_ERROR
    assert seen and "empty" in seen[0]


def test_the_window_keeps_full_collections_rare_and_the_start_up_heap_frozen():
    """tune_interpreter (run_gui calls it once the window is up), in a fresh interpreter."""
    import json
    import subprocess
    import sys

    code = ("import gc, json, sys; from tagassist.ui.app import FULL_GC_EVERY, tune_interpreter;"
            "before = gc.get_threshold(); tune_interpreter();"
            "print(json.dumps([before, gc.get_threshold(), gc.get_freeze_count(),"
            " sys.getswitchinterval(), FULL_GC_EVERY]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, after, frozen, switch, every = json.loads(out.stdout)
    assert after == [before[0], before[1], every] and every > before[2]
    assert frozen > 10_000 and switch == 0.001
