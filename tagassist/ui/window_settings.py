"""The window's preferences in and out: the remembered ones into a new window, what the
Settings dialog shows, and applying what was chosen there (and remembering it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tagassist.suggest.model_store import PERSONAL_CONTENT
from tagassist.ui import settings
from tagassist.ui.settings_dialog import SettingsChoice, SettingsDialog, SettingsState

if TYPE_CHECKING:
    from tagassist.ui.controller import LibraryController
    from tagassist.ui.main_window import MainWindow


def load_settings(controller: LibraryController) -> None:
    """The choices remembered on this machine, into the controller of a window opening."""
    controller.analyse_after_import = settings.analyse_after_import()
    controller.suggest.retrain_after = settings.retrain_after()
    controller.suggest.engine.always_show_set = settings.always_show_set()


def settings_state(window: MainWindow) -> SettingsState:
    c = window.controller
    device, models = c.suggest.engine.describe()
    personal = (c.suggest.result.models.get(PERSONAL_CONTENT)
                if c.suggest.result is not None else None)
    models["your personal model"] = (f"version {personal}" if personal else
                                     "not trained yet (Suggestions ▸ Train my suggestions)")
    return SettingsState(
        users=c.user_names(), user=c.user.name, library=c.paths.root,
        database=c.paths.database, cache=c.paths.cache,
        models_dir=c.suggest.engine.models_dir, device=device, models=models,
        thumbnail_size=window.grid.iconSize().width(),
        analyse_after_import=c.analyse_after_import,
        retrain_after=c.suggest.retrain_after,
        always_show_set=c.suggest.engine.always_show_set)


def open_settings(window: MainWindow) -> SettingsDialog:
    dialog = SettingsDialog(window.settings_state(), window)
    dialog.accepted.connect(lambda: window.apply_settings(dialog.choice()))
    dialog.open()  # window-modal, non-blocking: tests and the event loop keep running
    return dialog


def apply_settings(window: MainWindow, choice: SettingsChoice) -> None:
    c = window.controller
    window.grid.set_thumbnail_size(choice.thumbnail_size)
    settings.set_thumbnail_size(choice.thumbnail_size)
    c.analyse_after_import = choice.analyse_after_import
    settings.set_analyse_after_import(choice.analyse_after_import)
    c.suggest.retrain_after = choice.retrain_after
    settings.set_retrain_after(choice.retrain_after)
    if choice.always_show_set != c.suggest.engine.always_show_set:
        c.suggest.engine.always_show_set = choice.always_show_set
        settings.set_always_show_set(choice.always_show_set)
        c.suggest.refresh()
    if choice.sidecar_convention:
        settings.set_sidecar_convention(choice.sidecar_convention)
    c.set_user(choice.user)
    if choice.open_library is not None:
        window.open_library_requested.emit(choice.open_library)
