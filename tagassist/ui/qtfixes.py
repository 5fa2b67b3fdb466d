"""Work-arounds for bugs in the Qt bindings, applied once when ``tagassist.ui`` is imported.

PySide6 6.12's ``SignalInstance.emit`` returns ``True`` *without* taking a reference to it.
Every ``signal.emit(...)`` from Python therefore drops one reference to ``True``; CPython < 3.12
(no immortal objects) aborts with "Fatal Python error: bool_dealloc" after a few thousand emits,
i.e. a few minutes into an import.  We detect the bug with a probe emit (so a fixed PySide is left
alone) and wrap ``emit`` to give the missing reference back.
"""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject, Signal, SignalInstance

_incref = ctypes.pythonapi.Py_IncRef
_incref.argtypes = [ctypes.py_object]
_incref.restype = None


class _Probe(QObject):
    signal = Signal()


def emit_steals_bool() -> bool:
    """True if an ``emit()`` from Python costs one reference to ``True`` (the bug)."""
    probe = _Probe()
    before = sys.getrefcount(True)
    probe.signal.emit()
    lost = before - sys.getrefcount(True)
    for _ in range(max(0, lost)):  # give back what the probe itself lost
        _incref(True)
    return lost > 0


def install() -> bool:
    """Patch ``SignalInstance.emit`` if needed; returns whether the patch is active."""
    if getattr(SignalInstance.emit, "_tagassist_fixed", False):
        return True
    if not emit_steals_bool():
        return False
    original = SignalInstance.emit

    def emit(self, *args):
        result = original(self, *args)
        if result is True or result is False:
            _incref(result)  # the reference PySide should have taken
        return result

    emit._tagassist_fixed = True  # type: ignore[attr-defined]
    SignalInstance.emit = emit
    return True
