"""Running the app's job generators to the end in tests (as the window's job runner does)."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any


def drive(job: Generator[Any, None, Any]) -> tuple[Any, list[Any]]:
    """(the job's return value, every progress tick it yielded)."""
    ticks = []
    try:
        while True:
            ticks.append(next(job))
    except StopIteration as stop:
        return stop.value, ticks
