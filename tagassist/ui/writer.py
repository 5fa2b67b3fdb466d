"""The window's one writer: every library write a person makes runs here, off the UI thread.

A write (tag, untag, review suggestions, undo, redo, save or delete a search) may wait up
to the busy timeout for another process's write lock, and even an uncontended one fsyncs
(``synchronous=FULL``); on the UI thread that froze the window.  :class:`SerialWriter`
runs them on :class:`~tagassist.ui.workers.JobRunner`'s machinery with **one** thread, so
writes run one at a time in submission order: an undo pressed right after a tag runs after
that tag's write, however fast the keys come.

The writes use the writer's own connection to the library file (opened by its first write,
in the worker thread, like every job's); the window's connection only reads.  Each write
is one transaction, so when its result arrives on the UI thread (``done``), a read there
sees it.  Results come back in submission order, through queued signals.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEventLoop, QObject, QTimer, Signal

from tagassist.library import DEFAULT_BUSY_TIMEOUT, LibraryError
from tagassist.ui.workers import JobRunner

if TYPE_CHECKING:
    import threading

log = logging.getLogger(__name__)

Write = Callable[[Any], Any]  # runs in the writer thread with its Library; returns the result
Done = Callable[[Any], None]  # the result, on the UI thread
Failed = Callable[[str], None]  # the message for the person, on the UI thread

# How long closing the window waits for queued writes (each may wait out a busy timeout).
DRAIN_MS = 30_000


@dataclass(frozen=True)
class _Refused:
    """A write the library refused (``LibraryError``): nothing was written."""

    message: str


class SerialWriter(QObject):
    """Runs library writes one at a time, in submission order, on one background thread."""

    idle = Signal()  # the last queued write's result has been handed over

    def __init__(self, database: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.database = Path(database)
        self._runner = JobRunner(self, max_threads=1)  # one thread: FIFO, never two at once
        self._library = None  # the writer's own Library: opened and used only by its jobs
        self.busy_timeout = DEFAULT_BUSY_TIMEOUT  # for that connection (set before a write)
        self._pending = 0
        self._closed = False

    def submit(self, title: str, write: Write, done: Done, failed: Failed) -> None:
        """Queue ``write(library)``; ``done(result)`` or ``failed(message)`` follows on the
        UI thread, in submission order.  A ``LibraryError`` is ``failed(str(error))``; any
        other exception ``failed("<title> failed: Unexpected error …")`` (and is logged)."""
        if self._closed:
            failed(f"{title} was not saved: the library is closing")
            return

        # A generator, as JobRunner runs them; never cancelled: a write the person asked for
        # must land.
        def job(_cancel: threading.Event) -> Generator[None, None, Any]:
            return self._run(write)
            yield

        self._pending += 1
        handle = self._runner.start(title, job)
        handle.finished.connect(lambda result: self._finish(done, failed, result))
        handle.failed.connect(lambda message: self._finish(done, failed, _Refused(message)))

    def _run(self, write: Write) -> Any:
        """In the writer thread."""
        try:
            if self._library is None:
                from tagassist.library import Library

                self._library = Library.open(self.database, busy_timeout=self.busy_timeout)
            return write(self._library)
        except LibraryError as exc:
            return _Refused(str(exc))

    def _finish(self, done: Done, failed: Failed, result: Any) -> None:
        self._pending -= 1
        try:
            if self._closed:
                return  # the window is gone: nobody to tell
            if isinstance(result, _Refused):
                failed(result.message)
            else:
                done(result)
        finally:
            if self._pending == 0:
                self.idle.emit()

    @property
    def pending(self) -> int:
        """Writes queued or running whose result has not been handed over yet."""
        return self._pending

    def wait(self, timeout_ms: int = 10_000) -> bool:
        """Run the event loop until every queued write's result was handed over (tests and
        benches; the window itself never waits).  True if they all were."""
        if self._pending == 0:
            return True
        loop = QEventLoop()
        self.idle.connect(loop.quit)
        QTimer.singleShot(timeout_ms, loop.quit)
        try:
            if self._pending:
                loop.exec()
        finally:
            self.idle.disconnect(loop.quit)
        return self._pending == 0

    def shutdown(self, timeout_ms: int = DRAIN_MS) -> bool:
        """Let the queued writes land, then close the writer's connection (window closing).
        Their results are not announced any more."""
        self._closed = True
        drained = self._runner.shutdown(timeout_ms)
        if not drained:
            log.warning("library writes still running after %d ms; leaving their connection "
                        "open", timeout_ms)
            return False
        if self._library is not None:
            self._library.close()
            self._library = None
        return True
