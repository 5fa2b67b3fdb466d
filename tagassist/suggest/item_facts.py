"""An item's facts as the signals compare them: capture time in hours, great-circle
distance, folder, and tag names normalised for matching.  numpy only."""

from __future__ import annotations

import math
import re
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tagassist.library.names import normalize

if TYPE_CHECKING:
    from tagassist.library.models import Item

_TOKEN = re.compile(r"[^\W_]+")
EARTH_KM = 6371.0


def hours(capture_time: str | None) -> float:
    """An item's capture time as hours since the epoch (local time taken as is); NaN if none."""
    if not capture_time:
        return math.nan
    try:
        t = datetime.fromisoformat(capture_time.replace("Z", "+00:00"))
    except ValueError:
        return math.nan
    return t.replace(tzinfo=None).timestamp() / 3600.0 if t.tzinfo is None else \
        t.timestamp() / 3600.0


def tag_key(tag: str) -> str:
    """A tag path compared level by level, normalised."""
    return "|".join(normalize(p) for p in tag.split("|"))


def compact(text: str) -> str:
    return "".join(_TOKEN.findall(text.casefold()))


def folder_of(item: Item) -> str:
    return str(Path(item.paths[0]).parent) if item.paths else ""


def km_apart(lat: float, lon: float, lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    """Great-circle distances (haversine) from one point to many; NaN where unknown."""
    p1, p2 = np.radians(lat), np.radians(lats)
    dp, dl = p2 - p1, np.radians(lons - lon)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
