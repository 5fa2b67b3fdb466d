"""tagassist.ui: the desktop window (PySide6).  Entry point: :func:`tagassist.ui.app.run_gui`."""

from tagassist.ui import qtfixes as _qtfixes

_qtfixes.install()
