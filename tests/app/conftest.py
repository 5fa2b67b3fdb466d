"""A fresh library file per test, with photos that have file names (descriptions use them)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tagassist.library import Library


@pytest.fixture
def lib_path(tmp_path: Path) -> Path:
    return tmp_path / "lib" / "library.db"


@pytest.fixture
def lib(lib_path: Path) -> Iterator[Library]:
    library = Library.open(lib_path)
    yield library
    library.close()


def add_photos(lib: Library, *names: str, kind: str = "photo") -> list[int]:
    return [lib.items.upsert(f"hash-{name}", kind, f"/photos/{name}", 100, 1.0)[0].id
            for name in names]
