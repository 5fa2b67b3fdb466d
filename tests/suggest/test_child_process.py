"""The trainer child's pipes: stdout read line by line as events, stderr drained while it
runs — a child that writes a lot to stderr must not block (a full pipe would stop it)."""

from __future__ import annotations

import sys
import threading

from tagassist.suggest import train_events as ev
from tagassist.suggest.training import run_child

# 4 MiB of stderr (60 times a pipe's 64 KiB), then events on stdout, then a last stderr line
FLOODER = r"""
import json, sys
for n in range(40_000):
    sys.stderr.write(f"warning {n:06d}: " + "x" * 90 + "\n")
print(json.dumps({"event": "progress", "stage": "data"}), flush=True)
print("not an event", flush=True)
print(json.dumps({"event": "skipped", "message": "too few photos"}), flush=True)
sys.stderr.write("the last words\n")
"""


def _drive(job) -> tuple[list[dict], object]:
    events = []
    while True:
        try:
            events.append(next(job))
        except StopIteration as stop:
            return events, stop.value


def test_a_child_flooding_stderr_runs_to_its_end():
    outcome: dict = {}
    worker = threading.Thread(
        target=lambda: outcome.update(result=_drive(run_child([sys.executable, "-c", FLOODER]))),
        daemon=True)
    worker.start()
    worker.join(timeout=120)
    assert not worker.is_alive(), "the child blocked on its stderr"
    events, end = outcome["result"]
    assert events == [{"event": "progress", "stage": "data"},
                      {"event": "log", "message": "not an event"},
                      {"event": "skipped", "message": "too few photos"}]
    assert end.returncode == 0 and end.last == ev.Skipped(message="too few photos")
    assert end.stderr_tail[-1] == "the last words\n"  # the tail is kept, in order
    assert end.stderr_tail[-2].startswith("warning 039999")
    assert 0 < len(end.stderr_tail) <= 200  # only the tail: a chatty child costs no memory


def test_a_crashing_child_ends_with_its_traceback_tail():
    events, end = _drive(run_child([sys.executable, "-c", "raise SystemExit('boom: bad data')"]))
    assert events == [] and end.returncode == 1
    assert end.stderr_tail[-1].strip() == "boom: bad data"
