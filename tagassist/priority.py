"""Background work runs at a lower CPU priority than the window: nice ``BACKGROUND_NICE``.

On the 2-core machine the app is built for, the analysis of new photos (its decode workers and
the encoder), an import and the personal training take every core they can get.  The
window's UI thread must get a core the moment it wakes, or the window stutters
(``tests/bench/bench_responsiveness.py``, goal: no heartbeat gap over 100 ms).  The kernel
gives a nice-0 thread about ten times the share of a nice-10 one, so the background work still
has the whole machine whenever the window is idle.

- :func:`at_background_priority` is for a process started for background work (a decode
  worker, the trainer child).  It brings the process to nice ``BACKGROUND_NICE`` *at least*,
  not ten more than it had: a child started from a background thread inherits that thread's
  nice value already, and ten more would put it at 19, behind everything else in the
  background too.
- :func:`lower_this_thread` is for a thread of the app's own process that runs a background
  job outside the GIL (the analysis: onnxruntime, waiting on its decode workers).  A thread
  that runs Python holds the GIL the UI thread needs, and lowered it would hold it longer.
  Only Linux has a nice value per thread; elsewhere it returns False and the caller may use
  its toolkit's thread priority instead (``tagassist.ui.workers``).  Lowering is one-way for
  an unprivileged process: a thread once lowered stays lowered, so it is for threads that
  only ever run such jobs.
"""

from __future__ import annotations

import os
import sys
import threading

BACKGROUND_NICE = 10
MAX_NICE = 19


def at_background_priority(nice: int = BACKGROUND_NICE) -> None:
    """This process at nice ``nice`` at least (no-op where there is no nice, or if refused)."""
    if not hasattr(os, "nice"):
        return
    try:
        current = os.getpriority(os.PRIO_PROCESS, 0)
        if current < nice:
            os.nice(min(nice, MAX_NICE) - current)
    except OSError:
        pass


def lower_this_thread(nice: int = BACKGROUND_NICE) -> bool:
    """The calling thread at the process's nice plus ``nice`` (Linux); False elsewhere."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        target = min(MAX_NICE, os.getpriority(os.PRIO_PROCESS, os.getpid()) + nice)
        tid = threading.get_native_id()
        if os.getpriority(os.PRIO_PROCESS, tid) < target:
            os.setpriority(os.PRIO_PROCESS, tid, target)
    except OSError:
        return False
    return True
