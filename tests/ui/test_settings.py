"""Settings: the person tagging, the library location, models and device, thumbnail size."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from tagassist.paths import LibraryPaths
from tagassist.ui import settings
from tagassist.ui.app import WindowHost, open_window
from tagassist.ui.settings_dialog import SettingsChoice
from tests import sample
from tests.ui.conftest import landed


def _texts(dialog) -> str:
    return "\n".join(label.text() for label in dialog.findChildren(QLabel))


def test_dialog_shows_people_location_models_and_size(qtbot, window, imported):
    analysis = window.controller.suggest.analyse_handle  # the import's: it loads the models
    qtbot.waitUntil(lambda: not analysis.running, timeout=60_000)
    dialog = window.open_settings()
    qtbot.waitExposed(dialog)
    shown = _texts(dialog)
    assert str(window.controller.paths.root) in shown
    assert str(window.controller.paths.database) in shown
    assert "CPU" in dialog.findChild(QLabel, "device").text()  # no CUDA on this machine
    assert dialog.person.currentText() == "tester"
    assert dialog.thumbs.value() == window.grid.iconSize().width() == settings.THUMB_DEFAULT
    dialog.reject()


def test_device_and_versions_once_models_are_loaded(qtbot, suggest_sample):
    win = suggest_sample
    win.grid.select_rows([0])
    qtbot.waitUntil(lambda: win.controller.suggest.result is not None, timeout=60_000)
    device, models = win.controller.suggest.engine.describe()
    assert device.split(" — ")[0] == "CPU"  # then, after the dash, why not CUDA (issue 21)
    assert models and all(not v.startswith("unavailable") for v in models.values())
    dialog = win.open_settings()
    assert all(name in _texts(dialog) for name in models)
    dialog.reject()


def test_thumbnail_size_applies_and_is_remembered(qtbot, window, imported, paths):
    dialog = window.open_settings()
    dialog.thumbs.setValue(200)
    dialog.accept()
    assert window.grid.iconSize().width() == 200
    assert window.grid.gridSize().width() > 200
    assert settings.thumbnail_size() == 200
    again = open_window(paths, "tester")  # a later session starts with it
    qtbot.addWidget(again)
    assert again.grid.iconSize().width() == 200
    again.close()
    again.controller.library.close()


def test_switching_person_shows_their_tags_and_is_remembered(qtbot, window, imported):
    c = window.controller
    first_counts = {t.path for t in c.tag_counts()}
    assert first_counts  # the sample's file keywords are the importer's tags
    window.apply_settings(SettingsChoice(user="sam", thumbnail_size=128,
                                         analyse_after_import=True))
    landed(window)  # a new person is added by the writer; the switch follows
    assert c.user.name == "sam" and "sam" in window.windowTitle()
    assert settings.remembered_user(c.paths.root) == "sam"
    assert c.tag_counts() == [] and window.model.rowCount() == sample.ITEMS
    window.show_untagged()
    assert window.model.rowCount() == sample.ITEMS  # none of these items has sam's tags yet
    window.grid.select_rows([0])
    c.add_tags(window._selected, ["sams-tag"])
    window.apply_settings(SettingsChoice(user="tester", thumbnail_size=128,
                                         analyse_after_import=True))
    landed(window)  # queued as sam, written as sam though tester took over meanwhile
    assert {t.path for t in c.tag_counts()} == first_counts  # sam's tag is sam's alone
    assert sorted(c.user_names()) == ["sam", "tester"]


def test_open_another_library_and_a_broken_one(qtbot, window, imported, tmp_path):
    host = WindowHost(window)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / LibraryPaths.resolve(broken).database.name).write_bytes(b"not a database" * 100)
    assert not host.open_library(broken)
    assert host.window is window and window.isVisible()
    assert any("Could not open the library" in m for m in window.notifications.messages())

    assert host.open_library(tmp_path / "second")
    new = host.window
    qtbot.addWidget(new)
    assert new is not window and not window.isVisible()
    assert new.controller.paths.root == tmp_path / "second" and new.model.rowCount() == 0
    assert new.controller.user.name == "tester"  # the same person carries over
    new.close()
    new.controller.library.close()


def test_retrain_after_applies_and_is_remembered(qtbot, window, imported, paths):
    dialog = window.open_settings()
    assert dialog.retrain.value() == settings.RETRAIN_AFTER_DEFAULT
    dialog.retrain.setValue(30)
    dialog.accept()
    assert window.controller.suggest.retrain_after == 30 and settings.retrain_after() == 30
    again = open_window(paths, "tester")
    qtbot.addWidget(again)
    assert again.controller.suggest.retrain_after == 30
    again.close()
    again.controller.library.close()


def test_no_control_of_the_dialog_is_squeezed(qtbot, window, imported):
    """It opened 13 px short of its size hint and drew "Retrain after" 19 px tall of 23."""
    from PySide6.QtWidgets import QAbstractSpinBox, QComboBox, QPushButton

    dialog = window.open_settings()
    qtbot.waitUntil(dialog.isVisible)
    controls = [w for kind in (QAbstractSpinBox, QComboBox, QPushButton)
                for w in dialog.findChildren(kind) if w.isVisible()]
    assert controls
    for w in controls:
        assert w.height() >= w.minimumSizeHint().height(), w.accessibleName()
    dialog.reject()


def test_the_sidecar_naming_chosen_in_settings_is_remembered(qtbot, window):
    window.apply_settings(SettingsChoice(user=window.controller.user.name, thumbnail_size=128,
                                         analyse_after_import=True,
                                         sidecar_convention="basename"))
    assert settings.sidecar_convention() == "basename"
    assert window.settings_state().sidecar_convention == "basename"  # the dialog shows it
