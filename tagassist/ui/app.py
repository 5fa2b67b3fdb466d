"""Entry point of the window: ``run_gui`` (called by ``tagassist gui``).

With ``screenshot`` it runs unattended: it waits until the import (if any) has finished, the
grid's visible thumbnails are loaded and the selection's suggestions are shown (after
selecting the file named by ``select``, if given), saves
``window.grab()`` and exits, so CI and reviewers can see the window without a display
(``QT_QPA_PLATFORM=offscreen``).
"""

from __future__ import annotations

import gc
import getpass
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from tagassist.library.errors import LibraryError
from tagassist.paths import LibraryPaths
from tagassist.ui.controller import LibraryController
from tagassist.ui.main_window import MainWindow
from tagassist.ui.settings import remembered_user

if TYPE_CHECKING:
    from tagassist.ui.workers import JobHandle

EXIT_LIBRARY_ERROR = 2
SCREENSHOT_TIMEOUT_S = 120.0


def _application() -> QApplication:
    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
        app.setApplicationName("TagAssist")
    return app  # type: ignore[return-value]


def _fatal(message: str, interactive: bool) -> None:
    print(f"tagassist: {message}", file=sys.stderr)
    if interactive:  # never block an unattended (screenshot) run on a modal dialog
        QMessageBox.critical(None, "TagAssist cannot open the library", message)


def open_window(paths: LibraryPaths, user: str, models_dir: Path | None = None) -> MainWindow:
    """Open the library and build the window (raises ``LibraryError``); ``models_dir``
    defaults to the bundled models."""
    from tagassist.library import Library

    library = Library.open(paths.database)
    try:
        controller = LibraryController(library, paths, user, models_dir=models_dir)
        window = MainWindow(controller)
        if library.read_only:
            controller.notify.emit("warning", (
                f"This library is read-only ({library.read_only_reason}): you can browse and "
                "search, but tags and choices cannot be saved."))
        return window
    except BaseException:
        library.close()
        raise


FULL_GC_EVERY = 100


def tune_interpreter() -> None:
    """Keep Python's own pauses off the window's event loop (called once it is up).

    - ``gc.freeze()``: a full collection scans the whole heap (75,000 objects once the window
      and models are up: 67 ms) holding the GIL, whichever thread triggers it.  What exists
      at start-up lives for the whole session anyway, so it is moved out of the GC's reach.
    - A 1 ms GIL switch interval (default 5 ms): a worker running Python hands the GIL back
      to the UI thread sooner; with several busy workers the 5 ms turns added up.
    - Full collections ten times rarer (third threshold ``FULL_GC_EVERY``; Python's default
      is 10 collections of the middle generation): what an import and its analysis make
      after the freeze was scanned once more in every run of bench_responsiveness, 26-47 ms
      with the GIL held.  Young objects are collected as often as before; only cyclic
      garbage that has grown old waits longer.
    """
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_GC_EVERY)
    sys.setswitchinterval(0.001)


def close_window(window: MainWindow) -> None:
    window.close()  # cancels and waits for workers
    window.controller.library.close()
    window.deleteLater()


class WindowHost:
    """Holds the open window and swaps it for another library's ("Open another library…")."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        window.open_library_requested.connect(self.open_library)

    def open_library(self, folder: Path) -> bool:
        old = self.window
        paths = LibraryPaths.resolve(folder, old.controller.paths.cache)
        user = remembered_user(paths.root) or old.controller.user.name
        try:
            new = open_window(paths, user)
        except LibraryError as exc:  # the current library stays open and usable
            old.controller.notify.emit("error", f"Could not open the library in {folder}: {exc}")
            return False
        new.setGeometry(old.geometry())
        new.show()
        self.window = new
        new.open_library_requested.connect(self.open_library)
        close_window(old)
        return True


def run_gui(paths: LibraryPaths, open_folder: Path | None = None, user: str | None = None,
            screenshot: Path | None = None, select: str | None = None) -> int:
    """``user`` defaults to the person last tagging this library, else the login name."""
    app = _application()
    user = user or remembered_user(paths.root) or getpass.getuser()
    try:
        window = open_window(paths, user)
    except LibraryError as exc:
        _fatal(str(exc), interactive=screenshot is None)
        return EXIT_LIBRARY_ERROR
    if screenshot is not None:
        window.use_default_layout()
    window.show()
    tune_interpreter()
    host = WindowHost(window)
    job = window.start_import(Path(open_folder)) if open_folder else None
    if screenshot is not None:
        _schedule_screenshot(app, window, job, Path(screenshot), select)
    try:
        return app.exec()
    finally:
        close_window(host.window)


def _schedule_screenshot(app: QApplication, window: MainWindow, job: JobHandle | None, target: Path,
                         select: str | None = None) -> None:
    """Poll until the window is settled (job done, ``select`` selected, thumbnails and
    suggestions in), then grab and quit."""
    deadline = time.monotonic() + SCREENSHOT_TIMEOUT_S
    state = {"quiet": 0, "select": select}

    def importing() -> bool:
        return job is not None and job.running

    def settled() -> bool:
        busy = (importing() or window.thumbs.pending() > 0 or window.controller.suggest.pending()
                or not window.sidebar_settled())
        state["quiet"] = 0 if busy else state["quiet"] + 1
        return state["quiet"] >= 3  # a few quiet polls: late repaints have been requested

    def poll() -> None:
        if state["select"] and not importing():  # before that the file may not be shown yet
            name, state["select"] = state["select"], None
            if not window.select_file(name):
                timer.stop()
                print(f"tagassist: no item called {name} to select", file=sys.stderr)
                app.exit(1)
                return
        if not settled() and time.monotonic() < deadline:
            return
        timer.stop()
        app.processEvents()
        target.parent.mkdir(parents=True, exist_ok=True)
        ok = window.grab().save(str(target))
        if not ok:
            print(f"tagassist: could not write the screenshot {target}", file=sys.stderr)
        app.exit(0 if ok else 1)

    timer = QTimer(window)
    timer.setInterval(100)
    timer.timeout.connect(poll)
    timer.start()
