"""Run the personal trainer as a separate process and swap its model in (DESIGN.md step 5).

The app never imports torch: ``python -m trainer.personal`` runs in a child process, reports
JSON lines on stdout, and writes a new model version into the user's model folder.  Like the
importer, :func:`train_user` is a generator — every ``yield`` is a progress event (a dict,
parsed and checked by :mod:`tagassist.suggest.train_events`) and a cancellation point; its
return value is the trainer's last event.  The child's stderr is drained while it runs (a
full pipe would block it); its last line explains an unexpected exit.  On ``done`` the new
version is registered and activated in the library (the atomic swap); on cancel the child is
terminated (it removes its staging folder) and the previous model stays active.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tagassist.library import Library
from tagassist.suggest import train_events as events
from tagassist.suggest.model_store import PERSONAL_CONTENT, activate
from tagassist.suggest.threads import blas_threads

TRAINER_MODULE = "trainer.personal"
STDERR_TAIL = 200  # lines of the child's stderr kept for the error message
CANCELLED = "training cancelled; the previous model stays"


class TrainingUnavailable(RuntimeError):
    """The trainer's packages (torch) are not installed in this environment."""


def trainer_available() -> bool:
    return (importlib.util.find_spec("torch") is not None
            and importlib.util.find_spec(TRAINER_MODULE.split(".")[0]) is not None)


def _drain(stream: Any, sink: Callable[[str], None],
           ready: threading.Event | None = None) -> None:
    """Read a pipe of the child to its end on a thread: a pipe nobody reads fills up (64 KiB)
    and blocks the child in its next write."""
    for line in stream:
        sink(line)
        if ready is not None:
            ready.set()
    if ready is not None:
        ready.set()


def _reader(stream: Any, sink: Callable[[str], None],
            ready: threading.Event | None = None) -> threading.Thread:
    thread = threading.Thread(target=_drain, args=(stream, sink, ready), daemon=True)
    thread.start()
    return thread


def _last_line(lines: Iterable[str]) -> str:
    """The last non-blank line (a traceback's last line names the error)."""
    found = [line.strip() for line in lines if line.strip()]
    return found[-1] if found else ""


@dataclass
class ChildEnd:
    """How a child job ended: its last event, exit code and the tail of its stderr."""

    last: events.TrainEvent
    returncode: int | None
    stderr_tail: list[str]
    cancelled: bool = False


@dataclass
class Child:
    """A started child job: its process and the lines its pipes' reader threads collect."""

    proc: subprocess.Popen
    lines: list[str]
    errors: deque[str]
    ready: threading.Event
    reader: threading.Thread
    err_reader: threading.Thread

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@contextmanager
def killed_on_error(child: Child | None) -> Iterator[None]:
    """Kill ``child`` when the block raises or its generator is dropped (GeneratorExit): work
    done while a child trains must not leave it running on its own."""
    try:
        yield
    except BaseException:
        if child is not None:
            child.kill()
        raise


def start_child(cmd: list[str]) -> Child:
    """Start ``cmd`` with both pipes read on threads (nothing is lost while nobody follows)."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    # errors="replace": an undecodable byte on stderr must not stop the thread draining it
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            errors="replace", env=env)
    lines: list[str] = []
    errors: deque[str] = deque(maxlen=STDERR_TAIL)
    ready = threading.Event()
    return Child(proc, lines, errors, ready, _reader(proc.stdout, lines.append, ready),
                 _reader(proc.stderr, errors.append))


def follow(child: Child, cancel: threading.Event | None = None
           ) -> Generator[dict[str, Any], None, ChildEnd]:
    """Yield each stdout line of a started child as an event dict (parsed and checked by
    :func:`~tagassist.suggest.train_events.parse`) until it exits.  ``cancel`` set: the
    child is terminated (SIGTERM: it cleans up) and awaited."""
    proc, lines = child.proc, child.lines
    last: events.TrainEvent = events.Log()
    seen = 0
    try:
        while True:
            child.ready.wait(0.1)
            child.ready.clear()
            while seen < len(lines):
                last = events.parse(lines[seen])
                seen += 1
                yield last.to_dict()
            if cancel is not None and cancel.is_set():
                proc.terminate()  # the trainer removes its staging folder; old model stays
                proc.wait(timeout=60)
                return ChildEnd(last, proc.returncode, list(child.errors), cancelled=True)
            if proc.poll() is not None and not child.reader.is_alive():
                break
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    child.err_reader.join(timeout=5)  # the child has exited: its stderr ends now
    return ChildEnd(last, proc.returncode, list(child.errors))


def run_child(cmd: list[str], cancel: threading.Event | None = None
              ) -> Generator[dict[str, Any], None, ChildEnd]:
    """Run ``cmd`` and :func:`follow` it."""
    return (yield from follow(start_child(cmd), cancel))


def train_user(library: Library, user_id: int, cancel: threading.Event | None = None,
               extra_args: tuple[str, ...] = (), child: Child | None = None
               ) -> Generator[dict[str, Any], None, dict[str, Any]]:
    """Train the user's personal content model in a child process; yields its events
    (:mod:`tagassist.suggest.train_events`, as dicts) and returns the last one.  ``child``:
    one :func:`start_trainer` started already (it ran while the caller did other work)."""
    if child is None:
        child = start_trainer(library, user_id, extra_args)
    end = yield from follow(child, cancel)
    last = end.last
    if end.cancelled:
        return events.Cancelled(message=CANCELLED).to_dict()
    if isinstance(last, events.Done):
        activate(library, PERSONAL_CONTENT, user_id, str(last.version), Path(str(last.path)),
                 dict(last.metrics or {}, model=last.model))
        return last.to_dict()
    if isinstance(last, events.FINAL):
        return last.to_dict()
    tail = _last_line(end.stderr_tail) or f"exit code {end.returncode}"
    return events.Error(message=f"the trainer stopped unexpectedly: {tail}").to_dict()


def start_trainer(library: Library, user_id: int, extra_args: tuple[str, ...] = ()) -> Child:
    """Start ``python -m trainer.personal`` for the user (:func:`train_user` follows it)."""
    if not trainer_available():
        raise TrainingUnavailable("training needs the trainer's packages (torch); install "
                                  "them with: pip install torch==2.13.0 -e '.[train]'")
    return start_child([sys.executable, "-m", TRAINER_MODULE, "--library", str(library.path),
                        "--user-id", str(user_id), *extra_args])


def personal_job(suggester: Any, user_id: int, cancel: threading.Event | None = None,
                 parts: tuple[str, ...] = ("set", "blend", "content")
                 ) -> Generator[dict[str, Any], None, dict[str, Any]]:
    """The personal job the window runs (on demand or after N decisions) and the session
    replay runs every N photos: the generated set's rows and the blend refitted on the
    person's photos and decisions (seconds, in this process: numpy only; the set first, so
    the blend's stage measures the set the window would show), then the personal content
    model (:func:`train_user`, a child process).  Returns the content model's last event
    with the set's and the blend's outcomes under ``set`` and ``blend``; without torch the
    content part is skipped with the reason.

    The child starts first and trains while the set and the blend are fitted here: its own
    start (importing torch) and training need none of their results, and the whole job
    took the sum of the three (bench_personal_job: 28 s on 1,000 photos) instead of the
    longest.  The child is niced (trainer.personal), so this process keeps the CPU first."""
    child = None
    if "content" in parts and trainer_available():
        child = start_trainer(suggester.library, user_id)
    with killed_on_error(child):
        made, blend = yield from _fit_in_process(suggester, user_id, cancel, parts)
    last = events.Skipped(message="content model not asked for").to_dict()
    if "content" in parts:
        if child is not None:
            last = yield from train_user(suggester.library, user_id, cancel, child=child)
        else:
            last = events.Skipped(message="the content model needs torch").to_dict()
    summary = "; ".join(m for m in (made.get("message"), blend.get("message"),
                                    last.get("message")) if m)
    return {**last, "set": made, "blend": blend, "summary": summary}


def _fit_in_process(suggester: Any, user_id: int, cancel: threading.Event | None,
                    parts: tuple[str, ...]
                    ) -> Generator[dict[str, Any], None, tuple[dict, dict]]:
    """The set's and the blend's stages (the set first, so the blend's stage measures the
    set the window would show); their outcomes."""
    from tagassist.suggest.personal_blend import fit_personal_blend
    from tagassist.suggest.personal_set import fit_personal_set

    made: dict[str, Any] = {}
    if "set" in parts:
        yield events.Progress(stage="set").to_dict()
        with blas_threads():
            made = fit_personal_set(suggester, user_id)
        yield made
    blend: dict[str, Any] = {}
    if "blend" in parts and not (cancel is not None and cancel.is_set()):
        yield events.Progress(stage="blend").to_dict()
        with blas_threads():
            blend = fit_personal_blend(suggester, user_id)
        yield blend
    return made, blend
