"""Context words for a file: when (season, weekday, part of day, month, year), where (place
words) and which folder it sits in.  Pure and deterministic; used as tag-suggestion features.
"""

from __future__ import annotations

import re
from datetime import datetime

MONTHS = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
)
# Meteorological seasons by month, northern hemisphere; the southern one is shifted by two.
_NORTH = {12: "winter", 1: "winter", 2: "winter", 3: "spring", 4: "spring", 5: "spring",
          6: "summer", 7: "summer", 8: "summer", 9: "autumn", 10: "autumn", 11: "autumn"}
_FLIP = {"winter": "summer", "summer": "winter", "spring": "autumn", "autumn": "spring"}

# Folder-name tokens that say nothing about the content.
GENERIC_FOLDER_WORDS = frozenset({
    "dcim", "img", "image", "images", "photo", "photos", "picture", "pictures", "pics", "pic",
    "camera", "cameras", "camera roll", "new", "folder", "misc", "tmp", "temp", "export",
    "exports", "import", "imports", "home", "users", "user", "documents", "document", "docs",
    "desktop", "downloads", "download", "media", "files", "file", "data", "copy", "backup",
    "dsc", "dscn", "jpg", "jpeg", "raw", "edited", "originals", "original", "library",
    "mnt", "volumes", "private", "var", "storage", "sdcard", "emulated", "screenshots",
})
# Camera folders like '100CANON', '101APPLE', '100_FUJI' carry only a counter and a brand.
_CAMERA_DIR = re.compile(r"^\d{3}[a-z_]*$")
_SPLIT = re.compile(r"[\s_\-.,+()\[\]]+")


def season(month: int, lat: float | None = None) -> str:
    """Season of a month; southern hemisphere (lat < 0) flips it.  Unknown latitude: north."""
    s = _NORTH[month]
    return _FLIP[s] if lat is not None and lat < 0 else s


def part_of_day(hour: int) -> str:
    if 5 <= hour < 12:
        return "morning"
    if 12 <= hour < 17:
        return "afternoon"
    if 17 <= hour < 22:
        return "evening"
    return "night"


def _parse(capture_time: str) -> tuple[datetime, bool] | None:
    """-> (datetime, has_time).  Accepts 'YYYY-MM-DD' and 'YYYY-MM-DDTHH:MM[:SS]'."""
    m = re.match(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?", capture_time)
    if not m:
        return None
    y, mo, d, hh, mm, ss = m.groups()
    try:
        dt = datetime(int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0))
    except ValueError:
        return None
    return dt, hh is not None


def folder_words(folder_parts: list[str]) -> list[str]:
    """Words from folder names: lowercased, split on separators, numbers and generic names out."""
    out: list[str] = []
    for part in folder_parts:
        whole = part.strip().lower()
        if whole in GENERIC_FOLDER_WORDS:
            continue
        for tok in _SPLIT.split(whole):
            if (
                len(tok) < 2
                or tok.isdigit()
                or tok in GENERIC_FOLDER_WORDS
                or _CAMERA_DIR.match(tok)
            ):
                continue
            out.append(tok)
    return out


def context_words(
    capture_time: str | None,
    place: str | None,
    folder_parts: list[str],
    lat: float | None = None,
) -> list[str]:
    """Context words, in a fixed order: season, weekday|weekend, part of day, month, year,
    place words ('paris', 'france'), folder words.  Duplicates are removed.
    """
    words: list[str] = []
    parsed = _parse(capture_time) if capture_time else None
    if parsed:
        dt, has_time = parsed
        words.append(season(dt.month, lat))
        words.append("weekend" if dt.weekday() >= 5 else "weekday")
        if has_time:
            words.append(part_of_day(dt.hour))
        words.append(MONTHS[dt.month - 1])
        words.append(str(dt.year))
    if place:
        words += [p.strip().lower() for p in place.split(",") if p.strip()]
    words += folder_words(folder_parts)
    return list(dict.fromkeys(words))
