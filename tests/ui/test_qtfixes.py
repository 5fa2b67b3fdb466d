"""The PySide6 emit refcount work-around: thousands of emits must not eat ``True``."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal

import tagassist.ui  # noqa: F401 - installs the fix
from tagassist.ui import qtfixes


class _Emitter(QObject):
    changed = Signal(int)


def test_emit_keeps_true_alive():
    qtfixes.install()
    emitter = _Emitter()
    before = sys.getrefcount(True)
    for i in range(5000):
        emitter.changed.emit(i)
    assert sys.getrefcount(True) >= before - 5  # without the fix: before - 5000, then a crash
    assert not qtfixes.emit_steals_bool()
