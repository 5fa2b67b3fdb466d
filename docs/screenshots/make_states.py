"""Render the window's main states into docs/screenshots/, with the app's own widgets.

Run from the repository root: ``QT_QPA_PLATFORM=offscreen python docs/screenshots/make_states.py``
(``tagassist --sample --select NAME --screenshot FILE`` renders the plain selection; these
states need key presses, a second folder or a dialog first).  It imports a copy of the
bundled sample into a throwaway library and writes:

- ``help.png``: the keyboard help (F1) over the window;
- ``viewer.png``: the large viewer (Space) with the suggestions beside it;
- ``batch.png``: three photos selected, suggestions averaged over them;
- ``search.png``: a boolean search, with a saved search in the sidebar;
- ``import-error.png``: an import with a damaged file, reported in the notification area;
- ``training.png``: the personal model training, with progress and Cancel in the status bar
  (on 36 COCO photos of the shared data: the sample has too few photos to train on);
- ``settings.png``: the settings dialog.
"""

from __future__ import annotations

import csv
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp()  # default settings, not the maker's own

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from tagassist.paths import LibraryPaths, sample_library_dir  # noqa: E402
from tagassist.ui.app import open_window  # noqa: E402

OUT = Path(__file__).parent


def settle(app: QApplication, busy, timeout: float = 120.0) -> None:
    """Process events until ``busy()`` is false (and a few more, for late repaints)."""
    end = time.monotonic() + timeout
    while busy() and time.monotonic() < end:
        app.processEvents()
        time.sleep(0.05)
    # Then until the layouts hold still: a selection's new title or the preview giving way
    # to the list re-lays the right column out over several rounds of posted events.
    last, still = None, 0
    for _ in range(100):
        app.processEvents()
        time.sleep(0.02)
        now = _geometry(app)
        still = still + 1 if now == last else 0
        last = now
        if still >= 3:
            break


def _geometry(app: QApplication) -> list:
    return [(w.objectName(), w.geometry().getRect()) for w in app.allWidgets() if w.isVisible()]


def quiet(window) -> bool:
    s = window.controller.suggest
    analysing = s.analyse_handle is not None and s.analyse_handle.running
    return window.sidebar_settled() and not (
        window.thumbs.pending() or s.pending() or analysing or window.viewer.loading())


def save(window, name: str) -> None:
    target = OUT / name
    if not window.grab().save(str(target)):
        raise SystemExit(f"could not write {target}")
    print(target)


def main() -> int:
    app = QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as tmp:
        paths = LibraryPaths.resolve(Path(tmp) / "library", Path(tmp) / "cache")
        window = open_window(paths, "me")
        window.show()
        photos = Path(shutil.copytree(sample_library_dir(), Path(tmp) / "sample"))
        job = window.start_import(photos)  # a copy, as ``tagassist --sample`` does
        settle(app, lambda: job.running)
        window.select_file("chelsea-the-cat.jpg")
        settle(app, lambda: not quiet(window))

        window.grid.setFocus()
        QTest.keyClick(window.grid, Qt.Key.Key_F1)
        settle(app, lambda: False)
        save(window, "help.png")
        window.help.close_help()

        window.open_viewer()
        settle(app, lambda: not quiet(window))
        save(window, "viewer.png")
        window.close_viewer()

        window.show_all()
        rows = [r for r in range(window.model.rowCount())
                if window.model.item_at(r).kind == "photo"][:3]
        window.grid.select_rows(rows)
        settle(app, lambda: not quiet(window))
        save(window, "batch.png")

        window.search.set_query("animals OR nature")
        window.controller.save_search("Animals and nature", "animals OR nature")
        window.refresh_tags()
        settle(app, lambda: not quiet(window))
        save(window, "search.png")
        window.show_all()

        broken = Path(tmp) / "new-card"
        broken.mkdir()
        cat = next(photos.rglob("chelsea-the-cat.jpg")).read_bytes()
        (broken / "IMG_0001.jpg").write_bytes(cat + b"new")  # another file: another hash
        (broken / "IMG_0002.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00damaged" * 64)
        job = window.start_import(broken)
        settle(app, lambda: job.running or not quiet(window))
        save(window, "import-error.png")
        window.notifications.clear()

        dialog = window.open_settings()
        settle(app, lambda: False)
        target = OUT / "settings.png"
        dialog.grab().save(str(target))
        print(target)
        dialog.reject()
        window.close()
        window.controller.library.close()
        training_state(app, Path(tmp))
    return 0


def training_state(app: QApplication, tmp: Path) -> None:
    """The sample has too few photos to train on (10 tagged are needed): 36 COCO photos from
    the shared data, 28 tagged with their COCO labels, then Train, grabbed mid-way."""
    coco = Path(__file__).resolve().parents[3] / "shared" / "data" / "coco-val2017-283"
    if not (coco / "labels.csv").is_file():
        print(f"skipped training.png: {coco} not found")
        return
    with (coco / "labels.csv").open(encoding="utf-8", newline="") as f:
        rows = [(r["filename"], sorted({t for t in (r["tags"] + "|" + r["supercategories"])
                                        .split("|") if t})) for r in csv.DictReader(f)][:36]
    photos = tmp / "coco"
    photos.mkdir()
    for name, _tags in rows:
        shutil.copy(coco / "images" / name, photos / name)
    paths = LibraryPaths.resolve(tmp / "coco-library", tmp / "cache")
    window = open_window(paths, "me")
    window.show()
    job = window.start_import(photos)
    settle(app, lambda: job.running or not quiet(window), 300)
    c = window.controller
    for name, tags in rows[:28]:
        c.add_tags([c.library.items.by_path(photos / name).id], tags)
    window.select_file(rows[30][0])  # an untagged one
    settle(app, lambda: not quiet(window))
    training = c.suggest.start_training()
    if training is None:  # without torch the action explains itself instead
        print("skipped training.png: no trainer")
    else:
        settle(app, lambda: training.running and window.job_status.bar.value() < 3, 300)
        save(window, "training.png")
        training.cancel()
        settle(app, lambda: training.running, 120)
    window.close()
    window.controller.library.close()


if __name__ == "__main__":
    sys.exit(main())
