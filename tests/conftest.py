"""Shared fixtures: every test works in tmp_path, never in the repo tree or the user's dirs."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory, monkeypatch):
    """Point TagAssist's per-user folders at a temp dir so no test touches the real ones."""
    home = tmp_path_factory.mktemp("userdirs")
    monkeypatch.setenv("TAGASSIST_LIBRARY", str(home / "library"))
    monkeypatch.setenv("TAGASSIST_CACHE_DIR", str(home / "cache"))
    monkeypatch.setenv("TAGASSIST_MODELS_DIR", str(home / "models"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "xdgcache"))


@pytest.fixture
def sample_copy(tmp_path) -> Path:
    """A writable copy of the bundled sample library."""
    from tagassist.paths import sample_library_dir

    target = tmp_path / "photos"
    shutil.copytree(sample_library_dir(), target)
    return target
