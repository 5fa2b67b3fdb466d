"""Background jobs: run a generator (like ``import_folder``) on the Qt thread pool.

Conventions (napari/Anki style):

- The job *factory* is called **in the worker thread**, so anything thread-bound it needs (a
  SQLite connection) is created there.  Only plain data crosses threads: progress ticks become
  ``(done, total, text)`` and the generator's return value is handed over as-is.
- No QObject lives in the worker thread.  Each job gets a :class:`JobHandle` created in the GUI
  thread; the worker only *emits* its signals, which Qt queues to the GUI thread.
- A failing job always reports ``failed(message)``; nothing is swallowed.
- Cancellation is cooperative via a ``threading.Event`` passed to the factory; each tick is a
  cancellation point for the generator.
- A runner made with ``background=True`` (the analysis of new items) runs its jobs on
  threads of lower CPU priority (``tagassist.priority``), so the UI thread gets a core first.
  Only for jobs that spend their time outside the GIL: the UI thread waiting for the GIL
  held by a lowered thread would wait longer.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Generator
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThread, QThreadPool, Signal

from tagassist.priority import lower_this_thread

log = logging.getLogger(__name__)

JobFactory = Callable[[threading.Event], Generator[Any, None, Any]]


def describe_tick(tick: Any) -> tuple[int, int, str]:
    """Turn a progress tick (``ImportProgress`` or a tuple) into plain ``(done, total, text)``."""
    if isinstance(tick, tuple) and len(tick) == 3 and not hasattr(tick, "_fields"):
        done, total, text = tick
    else:
        done = getattr(tick, "done", 0)
        total = getattr(tick, "total", 0)
        text = getattr(tick, "path", "") or getattr(tick, "text", "")
    return int(done or 0), int(total or 0), str(text or "")


def error_message(exc: BaseException) -> str:
    """A user-facing message: our own errors carry one; anything else is named as a bug."""
    reason = getattr(exc, "reason", None)  # MediaError
    if reason:
        return str(reason)
    if type(exc).__module__.startswith("tagassist."):
        return str(exc) or type(exc).__name__
    return f"Unexpected error ({type(exc).__name__}): {exc}"


class JobHandle(QObject):
    """GUI-thread end of one job: signals plus :meth:`cancel`.

    The worker emits only the private ``_tick``/``_done``/``_error`` signals; they arrive here
    queued, and the public signals are re-emitted *from the GUI thread*.  So a slot connected
    right after :meth:`JobRunner.start` returns can never miss an event, however fast the job.
    """

    progress = Signal(int, int, str)
    finished = Signal(object)
    failed = Signal(str)
    ended = Signal()  # after finished or failed, for cleanup

    _tick = Signal(int, int, str)
    _done = Signal(object)
    _error = Signal(str)

    def __init__(self, title: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.cancel_event = threading.Event()
        self.running = True
        self.result: Any = None
        self.error: str | None = None
        queued = Qt.ConnectionType.QueuedConnection
        self._tick.connect(self.progress, queued)
        self._done.connect(self._on_done, queued)
        self._error.connect(self._on_error, queued)

    def cancel(self) -> None:
        self.cancel_event.set()

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def _on_done(self, result: object) -> None:
        self.result, self.running = result, False
        self.finished.emit(result)
        self.ended.emit()

    def _on_error(self, message: str) -> None:
        self.error, self.running = message, False
        self.failed.emit(message)
        self.ended.emit()


class _GeneratorRunnable(QRunnable):
    """Drives the generator in a pool thread; talks to the GUI only through ``handle``'s signals."""

    def __init__(self, factory: JobFactory, handle: JobHandle, background: bool = False
                 ) -> None:
        super().__init__()
        self._factory = factory
        self._background = background
        # Emitting a GUI-thread QObject's signal from another thread is safe (queued delivery).
        self._progress = handle._tick
        self._finished = handle._done
        self._failed = handle._error
        self._cancel = handle.cancel_event
        self._title = handle.title

    def run(self) -> None:
        if self._background and not lower_this_thread():  # elsewhere than Linux: Qt's own
            QThread.currentThread().setPriority(QThread.Priority.LowPriority)
        try:
            gen = self._factory(self._cancel)
            while True:
                try:
                    tick = next(gen)
                except StopIteration as stop:
                    result = stop.value
                    break
                self._progress.emit(*describe_tick(tick))
        except BaseException as exc:  # noqa: BLE001 - every failure must reach the UI
            log.exception("background job %r failed", self._title)
            self._failed.emit(f"{self._title} failed: {error_message(exc)}")
        else:
            self._finished.emit(result)


class JobRunner(QObject):
    """Starts jobs on a private thread pool and keeps their handles alive until they end."""

    job_started = Signal(object)  # JobHandle

    def __init__(self, parent: QObject | None = None, max_threads: int = 2, *,
                 background: bool = False) -> None:
        super().__init__(parent)
        self.background = background  # its pool's threads only ever run background jobs
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._handles: set[JobHandle] = set()

    def start(self, title: str, factory: JobFactory) -> JobHandle:
        handle = JobHandle(title, self)
        self._handles.add(handle)
        handle.ended.connect(lambda h=handle: self._handles.discard(h))
        self._pool.start(_GeneratorRunnable(factory, handle, self.background))
        self.job_started.emit(handle)
        return handle

    def running(self) -> list[JobHandle]:
        return [h for h in self._handles if h.running]

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Cancel everything and wait for the workers (called when the window closes)."""
        for handle in list(self._handles):
            handle.cancel()
        return self._pool.waitForDone(timeout_ms)
