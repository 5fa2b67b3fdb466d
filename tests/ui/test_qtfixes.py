"""The PySide6 6.12 refcount work-around: many Qt calls must not use up ``None`` or ``True``.

Without the fix (on 6.12 with Python 3.11) these loops abort the whole test process with
"Fatal Python error: none_dealloc" — a failure no assertion could hide.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel

import tagassist.ui  # noqa: F401 - installs the fix
from tagassist.ui import qtfixes


class _Emitter(QObject):
    changed = Signal(int)


def test_emits_and_void_calls_keep_the_singletons_alive(qapp):
    qtfixes.install()
    emitter, label = _Emitter(), QLabel()
    before_none, before_true = sys.getrefcount(None), sys.getrefcount(True)
    n = 50_000  # several times what None and True have after the app's imports
    for i in range(n):
        emitter.changed.emit(i)
        label.setText("x")
    assert sys.getrefcount(None) > before_none - n  # either no leak, or pinned far above it
    assert sys.getrefcount(True) > before_true - n


def test_install_is_idempotent():
    first = qtfixes.install()
    count = sys.getrefcount(None)
    assert qtfixes.install() == first
    assert abs(sys.getrefcount(None) - count) < 100
