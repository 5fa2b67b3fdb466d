"""Keeps the sidebar (tag counts, untagged, saved searches, folders), the tag completions
and whether training is possible in step with the library: one background read per burst
of changes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer

from tagassist.ui.suggest_controller import training_shortfall

if TYPE_CHECKING:
    from tagassist.app.sidebar_jobs import SidebarData
    from tagassist.ui.main_window import MainWindow


class SidebarRefresh(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self._folders_stale = True
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(30)  # a burst of tag changes makes one read
        self._timer.timeout.connect(self._read)

    def tags_changed(self) -> None:
        self._timer.start()

    def folders_changed(self) -> None:
        # Only asked for after imports: folders change with imports, not with tags.
        self._folders_stale = True  # until a read that includes them has arrived
        self._timer.start()

    def _read(self) -> None:
        # In a worker: hundreds of ms at 100k items; ``ready`` gets the result.
        self._window.controller.refresh_sidebar(with_folders=self._folders_stale)

    def ready(self, data: SidebarData) -> None:
        w = self._window
        w.sidebar.set_counts(data.counts, total=data.total, untagged=data.untagged)
        w.sidebar.set_saved_searches(data.saved_searches)  # per person, like tags
        w.detail.set_completions(data.completions)
        if data.folders is not None:
            w.sidebar.set_folders(data.folders)
            self._folders_stale = False
        self._training_readiness(data.total - data.untagged)

    def _training_readiness(self, tagged: int) -> None:
        """Train (button and menu) only with enough tagged photos; until then, how many more."""
        missing = training_shortfall(tagged)
        self._window.suggestions.set_training_shortfall(missing)
        train = self._window.train_action
        train.setEnabled(not missing)
        train.setText("&Train my suggestions" + (
            f" ({missing} more tagged photo{'s' if missing != 1 else ''} needed)"
            if missing else ""))

    def settled(self) -> bool:
        """No sidebar read waiting or running, and no write queued that will ask for one."""
        c = self._window.controller
        return not self._timer.isActive() and not c.sidebar_pending() and not c.writes_pending()
