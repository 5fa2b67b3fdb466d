"""Shared fixtures: a fresh library file per test under tmp_path."""

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


def add_items(lib: Library, n: int, prefix: str = "h") -> list[int]:
    return [
        lib.items.upsert(f"{prefix}{i}", "photo", f"/photos/{prefix}{i}.jpg", 100 + i,
                         1.0 + i)[0].id
        for i in range(n)
    ]
