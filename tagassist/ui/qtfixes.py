"""Work-arounds for bugs in the Qt bindings, applied once when ``tagassist.ui`` is imported.

PySide6 6.12.0 drops references to singletons it returns without taking them: every
``Signal.emit`` from Python costs one reference to ``True``, and every call of a method that
returns nothing (``QLabel.setText``, ``setToolTip``, ``QTreeWidgetItem.addChild`` …) costs one
to ``None``.  CPython < 3.12 has no immortal objects, so after a few thousand such calls (a
sidebar rebuild on a big library, a few minutes of importing) it aborts with "Fatal Python
error: none_dealloc" / "bool_dealloc".  pyproject.toml excludes 6.12; for an environment that
has it anyway, probes detect the bug and ``install`` gives ``None``, ``True`` and ``False`` a
reference count no session can use up — what Python 3.12 does for every singleton.
"""

from __future__ import annotations

import ctypes
import sys
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

if TYPE_CHECKING:
    from collections.abc import Callable

PINNED = 1 << 40  # a trillion calls: unreachable in any session


class _Probe(QObject):
    signal = Signal()


def _lost(singleton: object, call: Callable[[], object], times: int = 100) -> bool:
    before = sys.getrefcount(singleton)
    for _ in range(times):
        call()
    return sys.getrefcount(singleton) < before - times // 2


def emit_steals_bool() -> bool:
    """True if an ``emit()`` from Python costs a reference to ``True`` (the 6.12 bug)."""
    probe = _Probe()
    return _lost(True, probe.signal.emit)


def void_call_steals_none() -> bool:
    """True if a Qt method returning nothing costs a reference to ``None`` (the 6.12 bug)."""
    probe = _Probe()
    return _lost(None, lambda: probe.setObjectName("probe"))


def _pin(singleton: object) -> None:
    """Add ``PINNED`` references (CPython < 3.12: ``ob_refcnt`` is the object's first field)."""
    ctypes.c_ssize_t.from_address(id(singleton)).value += PINNED


def install() -> bool:
    """Pin the singletons if this PySide leaks them; returns whether the fix is active."""
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False  # immortal singletons: the leak is harmless
    if sys.getrefcount(None) > PINNED:
        return True  # already installed
    if not (void_call_steals_none() or emit_steals_bool()):
        return False
    for singleton in (None, True, False):
        _pin(singleton)
    return True
