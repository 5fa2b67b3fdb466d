"""What the bundled sample library holds, counted from its files.

Tests that import the whole sample compare against these counts instead of numbers written into
each test, so that rebuilding the sample (scripts/build_sample_library.py) does not mean editing
every test.  tests/test_paths.py pins the counts themselves, so a sample that lost or gained a
file fails there.
"""

from __future__ import annotations

from pathlib import Path

from tagassist.media.kinds import DOCUMENT_EXTS, PHOTO_EXTS
from tagassist.paths import sample_library_dir


def _files(exts: frozenset[str]) -> list[Path]:
    return sorted(p for p in sample_library_dir().rglob("*")
                  if p.is_file() and p.suffix.lower() in exts)


PHOTOS = len(_files(PHOTO_EXTS))  # 30
DOCUMENTS = len(_files(DOCUMENT_EXTS))  # 4
ITEMS = PHOTOS + DOCUMENTS  # 34: what importing the whole sample adds
