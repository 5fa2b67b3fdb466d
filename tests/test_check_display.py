"""scripts/check_display.sh (run by scripts/run.sh): a real window's missing system libraries
or missing display are named with what to do, instead of Qt's bare plugin error."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _check(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")}
    return subprocess.run(["bash", "scripts/check_display.sh"], cwd=ROOT, text=True,
                          capture_output=True, env={**clean, **env}, timeout=60)


def test_headless_is_not_checked():
    done = _check(QT_QPA_PLATFORM="offscreen")
    assert done.returncode == 0 and done.stderr == ""


def test_a_window_without_its_libraries_or_a_display_says_what_to_do():
    done = _check(QT_QPA_PLATFORM="xcb")  # no DISPLAY here, as on CI
    assert done.returncode == 1
    assert ("sudo apt-get install libxcb-cursor0" in done.stderr
            or "No display found" in done.stderr)
    assert "QT_QPA_PLATFORM=offscreen" in done.stderr
