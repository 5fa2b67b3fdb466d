"""Status-bar widget for the running background job: label, progress bar and Cancel."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from tagassist.ui.workers import JobHandle


class JobStatus(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel(self)
        self.label.setMinimumWidth(160)
        self.bar = QProgressBar(self)
        self.bar.setObjectName("jobProgress")
        self.bar.setAccessibleName("Progress of the running job")
        self.bar.setFixedWidth(200)
        self.bar.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setObjectName("jobCancel")
        self.cancel_button.setAccessibleName("Cancel the running job")
        self.cancel_button.clicked.connect(self._cancel)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.label)
        row.addWidget(self.bar)
        row.addWidget(self.cancel_button)
        self._handle: JobHandle | None = None
        self.hide()

    @property
    def handle(self) -> JobHandle | None:
        return self._handle

    def track(self, handle: JobHandle) -> None:
        """Follow ``handle`` (the newest job wins the status bar; older ones keep running)."""
        self._handle = handle
        self.label.setText(handle.title + "…")
        self.bar.setRange(0, 0)  # busy until the first tick says how many
        self.cancel_button.setEnabled(True)
        self.cancel_button.setText("Cancel")
        handle.progress.connect(lambda d, t, text, h=handle: self._progress(h, d, t, text))
        handle.ended.connect(lambda h=handle: self._ended(h))
        self.show()

    def _progress(self, handle: JobHandle, done: int, total: int, text: str) -> None:
        if handle is not self._handle:
            return
        if total > 0:
            self.bar.setRange(0, total)
            self.bar.setValue(done)
            self.bar.setFormat(f"{done} / {total}")
        name = Path(text).name if text else ""
        self.label.setText(f"{handle.title}: {name}" if name else handle.title)

    def _cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self.cancel_button.setEnabled(False)
            self.cancel_button.setText("Cancelling…")

    def _ended(self, handle: JobHandle) -> None:
        if handle is self._handle:
            self._handle = None
            self.hide()
