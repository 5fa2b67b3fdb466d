"""The real inputs the parity checks run on: the sample library's photos and sentences."""
from __future__ import annotations

from pathlib import Path

from tagassist.paths import sample_library_dir
from trainer.export.core import ExportError


def parity_sentences() -> list[str]:
    """Eight real sentences; the last, the sample notes joined, is truncated at 128 tokens."""
    notes = sample_library_dir() / "notes"
    long_text = " ".join((notes / n).read_text(encoding="utf-8")
                         for n in ("brewing-espresso.txt", "trip-to-amsterdam.md"))
    return [
        "A cat sleeping on the sofa.",
        "Espresso with a thick crema in a small white cup.",
        "The Space Shuttle lifting off from the launch pad at Kennedy Space Center.",
        "Canals and old brick houses in Amsterdam on the first warm day of spring",
        "A photographer with a tripod-mounted camera in a park",
        "hubble deep field",
        "Sour means under-extracted: grind finer.",
        long_text * 2,
    ]


def sample_photos() -> list[Path]:
    photos = sorted(sample_library_dir().rglob("*.jpg"))
    if len(photos) < 4:
        raise ExportError(f"expected the sample photos in {sample_library_dir()}")
    return photos
