"""Run the personal trainer as a separate process and swap its model in (DESIGN.md step 5).

The app never imports torch: ``python -m trainer.personal`` runs in a child process, reports
JSON lines on stdout, and writes a new model version into the user's model folder.  Like the
importer, :func:`train_user` is a generator — every ``yield`` is a progress event (a dict)
and a cancellation point; its return value is the trainer's last event.  On ``done`` the new
version is registered and activated in the library (the atomic swap); on cancel the child is
terminated (it removes its staging folder) and the previous model stays active.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import threading
from collections.abc import Generator
from pathlib import Path
from typing import Any

from tagassist.library.repository import Library
from tagassist.suggest.model_store import PERSONAL_CONTENT, activate

TRAINER_MODULE = "trainer.personal"


class TrainingUnavailable(RuntimeError):
    """The trainer's packages (torch) are not installed in this environment."""


def trainer_available() -> bool:
    return (importlib.util.find_spec("torch") is not None
            and importlib.util.find_spec(TRAINER_MODULE.split(".")[0]) is not None)


def _reader(stream: Any, lines: list[str], ready: threading.Event) -> None:
    for line in stream:
        lines.append(line)
        ready.set()
    ready.set()


def train_user(library: Library, user_id: int, cancel: threading.Event | None = None,
               extra_args: tuple[str, ...] = ()) -> Generator[dict[str, Any], None,
                                                              dict[str, Any]]:
    """Train the user's personal content model in a child process; yields its events."""
    if not trainer_available():
        raise TrainingUnavailable("training needs the trainer's packages (torch); install "
                                  "them with: pip install torch==2.13.0 -e '.[train]'")
    cmd = [sys.executable, "-m", TRAINER_MODULE, "--library", str(library.path),
           "--user-id", str(user_id), *extra_args]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)
    lines: list[str] = []
    ready = threading.Event()
    reader = threading.Thread(target=_reader, args=(proc.stdout, lines, ready), daemon=True)
    reader.start()
    last: dict[str, Any] = {}
    seen = 0
    try:
        while True:
            ready.wait(0.1)
            ready.clear()
            while seen < len(lines):
                try:
                    event = json.loads(lines[seen])
                except json.JSONDecodeError:
                    event = {"event": "log", "message": lines[seen].rstrip()}
                seen += 1
                last = event
                yield event
            if cancel is not None and cancel.is_set():
                proc.terminate()  # the trainer removes its staging folder; old model stays
                proc.wait(timeout=60)
                return {"event": "cancelled", "message": "training cancelled; the previous "
                                                         "model stays"}
            if proc.poll() is not None and not reader.is_alive():
                break
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stderr = proc.stderr.read() if proc.stderr else ""
    if last.get("event") == "done":
        activate(library, PERSONAL_CONTENT, user_id, last["version"], Path(last["path"]),
                 dict(last.get("metrics", {}), model=last.get("model")))
        return last
    if last.get("event") in ("skipped", "error", "cancelled"):
        return last
    tail = stderr.strip().splitlines()[-1:] or [f"exit code {proc.returncode}"]
    return {"event": "error", "message": f"the trainer stopped unexpectedly: {tail[0]}"}


def personal_job(suggester: Any, user_id: int, cancel: threading.Event | None = None,
                 parts: tuple[str, ...] = ("set", "blend", "content")
                 ) -> Generator[dict[str, Any], None, dict[str, Any]]:
    """The personal job the window runs (on demand or after N decisions) and the session
    replay runs every N photos: the generated set's rows and the blend refitted on the
    person's photos and decisions (seconds, in this process: numpy only; the set first, so
    the blend's stage measures the set the window would show), then the personal content
    model (:func:`train_user`, a child process).  Returns the content model's last event
    with the set's and the blend's outcomes under ``set`` and ``blend``; without torch the
    content part is skipped with the reason."""
    from tagassist.suggest.personal_blend import fit_personal_blend
    from tagassist.suggest.personal_set import fit_personal_set

    made: dict[str, Any] = {}
    if "set" in parts:
        yield {"event": "progress", "stage": "set"}
        made = fit_personal_set(suggester, user_id)
        yield made
    blend: dict[str, Any] = {}
    if "blend" in parts and not (cancel is not None and cancel.is_set()):
        yield {"event": "progress", "stage": "blend"}
        blend = fit_personal_blend(suggester, user_id)
        yield blend
    last: dict[str, Any] = {"event": "skipped", "message": "content model not asked for"}
    if "content" in parts and not (cancel is not None and cancel.is_set()):
        if trainer_available():
            last = yield from train_user(suggester.library, user_id, cancel)
        else:
            last = {"event": "skipped", "message": "the content model needs torch"}
    summary = "; ".join(m for m in (made.get("message"), blend.get("message"),
                                    last.get("message")) if m)
    return {**last, "set": made, "blend": blend, "summary": summary}
