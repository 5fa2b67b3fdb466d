"""Which ``.xmp`` sidecar belongs to a photo, and which name a new one gets.

Two conventions exist: the *filename* one, ``IMG_1.jpg.xmp``
(darktable, digiKam), and the *basename* one, ``IMG_1.xmp`` (Lightroom, Capture One, exiftool's
``%d%f.xmp``).  Both are read; ``IMG_1.jpg.xmp`` wins when both exist, since it cannot belong to
another file.  A basename sidecar is ambiguous: ``photo.xmp`` next to ``photo.jpg`` *and*
``photo.png`` could be either's.  So it belongs to a file only when that file is the one media
file of its folder with that stem (images, RAW and video count, the stem compared ignoring case;
documents and other sidecars do not), or the one RAW file of a RAW+JPEG pair (Lightroom writes
``IMG_1.xmp`` for ``IMG_1.CR2`` and keeps ``IMG_1.JPG``'s metadata inside the JPEG).  Otherwise
``photo.xmp`` is read for none of the files sharing the stem and written for none of them: each
gets its own ``photo.jpg.xmp`` / ``photo.png.xmp`` instead, and the shared file is left as it is.

Which name is written (``convention``, one of :data:`CONVENTIONS`): ``"filename"``,
``"basename"`` (the filename one for a shared stem), or ``"auto"``: the convention of the sidecar
already next to the file, else ``IMG_1.xmp`` for RAW files (as Lightroom does) and
``IMG_1.jpg.xmp`` for everything else.  Every sidecar that belongs to the file gets the new
keywords, so a file with both names never shows one tool the old keywords; a chosen name that does
not exist yet starts as a copy of the file's other sidecar (rating, title, develop settings...).
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Literal

from tagassist.media.kinds import PHOTO_EXTS

SidecarConvention = Literal["auto", "basename", "filename"]
#: The sidecar names a person can choose: ``auto`` (what is there, else by file type),
#: ``basename`` (``IMG_1.xmp``, Lightroom/Capture One), ``filename`` (``IMG_1.jpg.xmp``).
CONVENTIONS: tuple[SidecarConvention, ...] = ("auto", "basename", "filename")

#: Camera RAW extensions: ``auto`` names their new sidecars ``IMG_1.xmp``, as Lightroom does.
RAW_EXTS = frozenset({
    ".3fr", ".ari", ".arw", ".bay", ".cap", ".cr2", ".cr3", ".crw", ".dcr", ".dcs", ".dng",
    ".drf", ".eip", ".erf", ".fff", ".gpr", ".iiq", ".k25", ".kdc", ".mdc", ".mef", ".mos",
    ".mrw", ".nef", ".nrw", ".orf", ".pef", ".ptx", ".r3d", ".raf", ".raw", ".rw2", ".rwl",
    ".rwz", ".sr2", ".srf", ".srw", ".x3f",
})
# Everything else photo tools catalogue beside photos: each may own a basename sidecar, so each
# counts when deciding whether ``photo.xmp`` is ambiguous.
_OTHER_MEDIA_EXTS = frozenset({
    ".avif", ".bmp", ".exr", ".gif", ".hdr", ".heic", ".heif", ".jp2", ".jpe", ".jxl", ".psb",
    ".psd", ".3gp", ".avi", ".m2ts", ".m4v", ".mkv", ".mov", ".mp4", ".mpg", ".mts", ".webm",
    ".wmv",
})
_MEDIA_EXTS = PHOTO_EXTS | RAW_EXTS | _OTHER_MEDIA_EXTS

# A folder's media files by stem, reused while the folder is unchanged: an import asks once per
# photo, and a Lightroom folder has a basename sidecar beside every photo.
_LISTINGS: OrderedDict[str, tuple[tuple[int, int, int], dict[str, tuple[str, ...]]]] = \
    OrderedDict()
_LISTINGS_LOCK = threading.Lock()  # the importer reads photos on a thread pool
_LISTINGS_KEPT = 64
# A listing is kept only once its folder is this much older than the listing: a change made in
# the same tick of a coarse clock (FAT: 2 s) as the last one would not show in the folder's mtime.
_RACY_NS = 3_000_000_000


def sidecar_candidates(photo_path: str | os.PathLike[str]) -> tuple[Path, Path]:
    """The two sidecar names we recognise, in order of preference: filename, basename."""
    p = Path(photo_path)
    return p.with_name(p.name + ".xmp"), p.with_suffix(".xmp")


def _check(convention: str) -> SidecarConvention:
    if convention not in CONVENTIONS:
        raise ValueError(f"sidecar convention {convention!r}: use one of {', '.join(CONVENTIONS)}")
    return convention  # type: ignore[return-value]


def _media_by_stem(folder: Path) -> dict[str, tuple[str, ...]]:
    """Names of the folder's media files (any of ``_MEDIA_EXTS``) by case-folded stem."""
    try:
        st = os.stat(folder)
    except OSError:
        return {}
    key, stamp = os.path.abspath(folder), (st.st_dev, st.st_ino, st.st_mtime_ns)
    with _LISTINGS_LOCK:
        kept = _LISTINGS.get(key)
        if kept is not None and kept[0] == stamp:
            _LISTINGS.move_to_end(key)
            return kept[1]
    found: dict[str, list[str]] = {}
    try:
        with os.scandir(folder) as it:
            for entry in it:
                stem, ext = os.path.splitext(entry.name)
                if ext.lower() not in _MEDIA_EXTS:
                    continue
                try:
                    if not entry.is_file():
                        continue
                except OSError:
                    continue
                found.setdefault(stem.casefold(), []).append(entry.name)
    except OSError:
        return {}
    listing = {stem: tuple(names) for stem, names in found.items()}
    if time.time_ns() - st.st_mtime_ns > _RACY_NS:
        with _LISTINGS_LOCK:
            _LISTINGS[key] = (stamp, listing)
            _LISTINGS.move_to_end(key)
            while len(_LISTINGS) > _LISTINGS_KEPT:
                _LISTINGS.popitem(last=False)
    return listing


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def basename_sidecar_belongs(photo_path: str | os.PathLike[str]) -> bool:
    """Whether ``photo.xmp`` can be this file's.

    Yes when no other media file in its folder has its stem.  ``photo.jpg`` beside
    ``photo.png`` (or ``Photo.mov``) shares it: then the basename sidecar is nobody's, for
    reading and for writing.  One exception, Lightroom's RAW+JPEG pair: ``IMG_1.xmp`` beside
    ``IMG_1.CR2`` and ``IMG_1.JPG`` was written for the RAW (the JPEG keeps its metadata inside
    itself), so it is the RAW's when that is the only RAW file of the stem, and never the
    JPEG's.
    """
    p = Path(photo_path)
    others = [n for n in _media_by_stem(p.parent).get(p.stem.casefold(), ())
              # the same file under another case (a case-insensitive disk) is not another file
              if n != p.name and not (n.casefold() == p.name.casefold()
                                      and _same_file(p.parent / n, p))]
    if not others:
        return True
    return (p.suffix.lower() in RAW_EXTS
            and not any(os.path.splitext(n)[1].lower() in RAW_EXTS for n in others))


def names_for(photo_path: str | os.PathLike[str], convention: str) -> tuple[Path, list[Path]]:
    """(the sidecar to write under ``convention``, the existing sidecars that belong to the
    photo, the preferred one first); the folder is listed only if a basename needs it."""
    conv = _check(convention)
    own, base = sidecar_candidates(photo_path)
    has_own, has_base = own.is_file(), base != own and base.is_file()
    raw = Path(photo_path).suffix.lower() in RAW_EXTS
    base_ok = (base != own and (has_base or conv == "basename" or (conv == "auto" and raw))
               and basename_sidecar_belongs(photo_path))
    existing = [side for side, there in ((own, has_own), (base, has_base and base_ok)) if there]
    if conv == "basename" or (conv == "auto" and not has_own and (has_base or raw)):
        return (base if base_ok else own), existing
    return own, existing


def sidecars_of(photo_path: str | os.PathLike[str]) -> list[Path]:
    """The existing sidecars that belong to the photo, the preferred one first."""
    return names_for(photo_path, "filename")[1]


def find_sidecar(photo_path: str | os.PathLike[str]) -> Path | None:
    """The sidecar to read for a photo, or None (a basename sidecar of a shared stem is ignored)."""
    own, base = sidecar_candidates(photo_path)
    if own.is_file():
        return own
    if base != own and base.is_file() and basename_sidecar_belongs(photo_path):
        return base
    return None


def sidecar_target(photo_path: str | os.PathLike[str], convention: str = "auto") -> Path:
    """The sidecar name the photo's keywords are written to under ``convention`` (see module)."""
    return names_for(photo_path, convention)[0]
