"""Tag-name normalization, shared by the repository and the query language.

Two spellings that a user would call "the same tag" (case, Unicode compatibility forms,
stray whitespace) must map to one ``normalized`` key, so lookups never create duplicates.
"""

from __future__ import annotations

import unicodedata

from .errors import LibraryError

SEPARATOR = "|"  # Lightroom's lr:hierarchicalSubject separator


def normalize(name: str) -> str:
    """NFKC, casefold, strip, collapse internal whitespace to single spaces."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def clean(name: str) -> str:
    """The display form: NFKC + collapsed whitespace, original case kept."""
    return " ".join(unicodedata.normalize("NFKC", name).split())


def split_path(name_or_path: str) -> list[str]:
    """Split ``"places|Europe|Paris"`` into cleaned segments; reject empty segments."""
    segments = [clean(s) for s in name_or_path.split(SEPARATOR)]
    if not segments or any(not s for s in segments):
        raise LibraryError(f"Invalid tag name {name_or_path!r}: empty name or path segment.")
    return segments


def normalize_path(name_or_path: str) -> str:
    return SEPARATOR.join(normalize(s) for s in split_path(name_or_path))
