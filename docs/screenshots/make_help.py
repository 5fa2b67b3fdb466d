"""Render docs/screenshots/help.png: the sample library with the keyboard help opened by F1.

Run from the repository root: ``QT_QPA_PLATFORM=offscreen python docs/screenshots/make_help.py``
(``tagassist --screenshot`` renders the other states; this one needs a key press first).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from tagassist.paths import LibraryPaths, sample_library_dir  # noqa: E402
from tagassist.ui.app import open_window  # noqa: E402

TARGET = Path(__file__).with_name("help.png")


def settle(app: QApplication, busy, timeout: float = 120.0) -> None:
    end = time.monotonic() + timeout
    while busy() and time.monotonic() < end:
        app.processEvents()
        time.sleep(0.05)


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
        settle(app, lambda: window.thumbs.pending() > 0 or window.controller.suggest.pending())
        window.grid.setFocus()
        QTest.keyClick(window.grid, Qt.Key.Key_F1)
        app.processEvents()
        ok = window.grab().save(str(TARGET))
        window.close()
        window.controller.library.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
