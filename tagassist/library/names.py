"""Tag-name normalization, shared by the repository and the query language.

Two spellings that a user would call "the same tag" (case, Unicode compatibility forms,
stray whitespace) must map to one ``normalized`` key, so lookups never create duplicates.

What a *new* name may be (a tag made, renamed or given an alias; issue 20) is decided here,
by :func:`problem`: no control characters (whitespace ones such as tab and newline are
cleaned to spaces, the others - NUL, escape, ... - are refused), at most
:data:`MAX_NAME_CHARS` (200) characters per name, that is per level of a ``|`` path, and
:data:`MAX_PATH_CHARS` (1,000) for a whole path, counted after cleaning.  Tags made before
these rules keep working: they can still be found, searched, removed and renamed.  Text that
is not valid Unicode (a lone surrogate: command-line bytes that are not UTF-8) can never be
stored, so :func:`split_path` refuses it everywhere.
"""

from __future__ import annotations

import unicodedata

from .errors import LibraryError

SEPARATOR = "|"  # Lightroom's lr:hierarchicalSubject separator
MAX_NAME_CHARS = 200  # one tag name, i.e. one level of a path
MAX_PATH_CHARS = 1000  # a whole "a|b|c" path


def normalize(name: str) -> str:
    """NFKC, casefold, strip, collapse internal whitespace to single spaces."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def clean(name: str) -> str:
    """The display form: NFKC + collapsed whitespace, original case kept."""
    return " ".join(unicodedata.normalize("NFKC", name).split())


def _shown(text: str, limit: int = 60) -> str:
    """``text`` quoted for a message, cut short: a 100,000-character name is not repeated."""
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}…"


def split_path(name_or_path: str) -> list[str]:
    """Split ``"places|Europe|Paris"`` into cleaned segments; reject empty segments."""
    try:
        name_or_path.encode("utf-8")
    except UnicodeEncodeError:
        raise LibraryError(f"Invalid tag name {_shown(name_or_path)}: it is not valid text "
                           "(it holds bytes that are not UTF-8).") from None
    segments = [clean(s) for s in name_or_path.split(SEPARATOR)]
    if not segments or any(not s for s in segments):
        raise LibraryError(f"Invalid tag name {_shown(name_or_path)}: empty name or path "
                           "segment.")
    return segments


def problem(name_or_path: str) -> str | None:
    """Why ``name_or_path`` cannot name a new tag (made, renamed or an alias), or None.

    The importer can use it to leave out a file's unusable keywords instead of failing."""
    try:
        segments = split_path(name_or_path)
    except LibraryError as exc:
        return str(exc)
    path = SEPARATOR.join(segments)
    for seg in segments:
        if len(seg) > MAX_NAME_CHARS:
            return (f"Invalid tag name {_shown(seg)}: tag names are at most {MAX_NAME_CHARS} "
                    f"characters (this one has {len(seg):,}).")
    if len(path) > MAX_PATH_CHARS:
        return (f"Invalid tag path {_shown(path)}: tag paths are at most {MAX_PATH_CHARS:,} "
                f"characters (this one has {len(path):,}).")
    for ch in path:
        if unicodedata.category(ch) == "Cc":
            return (f"Invalid tag name {_shown(path)}: tag names cannot contain control "
                    f"characters (it has U+{ord(ch):04X}).")
    return None


def check_new(name_or_path: str) -> list[str]:
    """The cleaned segments of a new tag name or path; LibraryError saying what is wrong."""
    reason = problem(name_or_path)
    if reason is not None:
        raise LibraryError(reason)
    return split_path(name_or_path)


def normalize_path(name_or_path: str) -> str:
    return SEPARATOR.join(normalize(s) for s in split_path(name_or_path))
