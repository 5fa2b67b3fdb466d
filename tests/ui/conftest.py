"""Fixtures for the window tests: a real Library on a tmp SQLite file, a real MainWindow."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# QSettings (thumbnail size, last person) go to a throwaway folder, never the tester's own.
import tempfile  # noqa: E402

os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="tagassist-settings-")

import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from tagassist.paths import LibraryPaths, sample_library_dir  # noqa: E402
from tests import sample  # noqa: E402
from tests.suggest import conftest as suggest_fixtures  # noqa: E402

models_dir = suggest_fixtures.models_dir  # the default ONNX models, built once per session

# The sample's licence notes are a document too; the tests want just the sample's photos and
# documents (tests/sample.py counts them).
SAMPLE_SKIP = {"ATTRIBUTION.md"}


@pytest.fixture(autouse=True)
def fresh_settings():
    """Each test starts from the default preferences."""
    from PySide6.QtCore import QSettings

    QSettings("TagAssist", "TagAssist").clear()
    yield
    QSettings("TagAssist", "TagAssist").clear()


@pytest.fixture
def paths(tmp_path: Path) -> LibraryPaths:
    return LibraryPaths.resolve(tmp_path / "library", tmp_path / "cache")


@pytest.fixture
def sample_folder(tmp_path: Path) -> Path:
    target = tmp_path / "sample"
    shutil.copytree(
        sample_library_dir(),
        target,
        ignore=lambda _d, names: [n for n in names if n in SAMPLE_SKIP],
    )
    return target


@pytest.fixture
def window(qtbot, paths):
    from tagassist.ui.app import open_window

    win = open_window(paths, "tester")
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()
    win.controller.library.close()


def run_import(qtbot, window, folder: Path, timeout: int = 60_000):
    """Start an import through the window and wait for its report."""
    handle = window.start_import(folder)
    with qtbot.waitSignal(handle.ended, timeout=timeout):
        pass
    assert handle.error is None, handle.error
    # The analysis the import starts (featurizing new items) is part of importing here: the
    # tests after it expect a quiet window.
    analysis = window.controller.suggest.analyse_handle
    if analysis is not None:
        qtbot.waitUntil(lambda: not analysis.running, timeout=timeout)
    settle_sidebar(qtbot, window)
    return handle.result


def landed(window, timeout_s: float = 10.0) -> None:
    """Wait until the writes the window queued have landed and been announced (they run off
    the UI thread, in order: ``controller.wait_for_writes``)."""
    assert window.controller.wait_for_writes(timeout_s), "library writes still pending"


def settle_sidebar(qtbot, window, timeout: int = 10_000) -> None:
    """Wait for the sidebar's counts, which are read in a worker after each change."""
    qtbot.waitUntil(window.sidebar_settled, timeout=timeout)


@pytest.fixture
def imported(qtbot, window, sample_folder):
    report = run_import(qtbot, window, sample_folder)
    qtbot.waitUntil(lambda: window.model.rowCount() == sample.ITEMS)
    return report


@pytest.fixture
def suggest_window(qtbot, paths, models_dir):
    """A window whose suggester uses the freshly built default models."""
    from tagassist.ui.app import open_window

    win = open_window(paths, "tester", models_dir=models_dir)
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()
    win.controller.library.close()


@pytest.fixture
def suggest_sample(qtbot, suggest_window, sample_folder):
    """``suggest_window`` with the sample library imported."""
    run_import(qtbot, suggest_window, sample_folder)
    qtbot.waitUntil(lambda: suggest_window.model.rowCount() == sample.ITEMS)
    return suggest_window


@pytest.fixture
def people(paths, tmp_path):
    """Two people's library (tests/app/people.py): ann's and bob's tags on shared photos."""
    from tests.app.people import two_people_library

    return two_people_library(paths, tmp_path / "photos")


@pytest.fixture
def ann_window(qtbot, paths, people):
    """The window on ``people`` as ann, its sidebar settled."""
    from tagassist.ui.app import open_window

    win = open_window(paths, "ann")
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.model.rowCount() == len(people.ids))
    settle_sidebar(qtbot, win)
    yield win
    win.close()
    win.controller.library.close()


def rows_of(window, *names: str) -> list[int]:
    """The grid rows of the photos with these file names."""
    return [r for r in range(window.model.rowCount())
            if Path(window.model.item_at(r).paths[0]).name in names]


def select_photos(window, *names: str) -> list[int]:
    """Select the photos with these file names in the grid; their ids."""
    window.grid.select_rows(rows_of(window, *names))
    ids = window.grid.selected_ids()
    assert len(ids) == len(names)
    return ids


def assert_empty_state_leads(window) -> None:
    """An empty library shows the call to action instead of the grid: open a folder, try the
    sample, drop a folder, and the three keys that matter."""
    empty = window.empty
    assert window.empty_state_shown() and empty.isVisible() and not window.grid.isVisible()
    assert empty.open_button.isVisible() and empty.sample_button.isVisible()
    assert "drop a folder" in empty.drop_hint.text()
    keys = empty.key_rows()
    for key, what in (("Ctrl+O", "import a folder"), ("T", "add a tag"),
                      ("F1 or ?", "keyboard shortcut")):
        assert key in keys and what in keys
