"""What kind of file is this?  By extension (cheap) and by magic bytes (truthful).

Decision on mislabeled files: a valid image or PDF behind the wrong extension (PNG data named
``.jpg``) is still imported under its *real* format and the mismatch is reported as a warning;
bytes that are no known format behind an image/PDF extension (text named ``.jpg``) are an error.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tagassist.media.errors import MediaError

Kind = Literal["photo", "document"]

PHOTO_EXTS = frozenset({".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff"})
DOCUMENT_EXTS = frozenset({".txt", ".md", ".markdown", ".pdf", ".html", ".htm"})

# Format names match Pillow's ``Image.format`` for images, so callers can compare them directly.
PHOTO_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "TIFF"})
_EXT_FORMAT = {
    ".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WEBP", ".tif": "TIFF",
    ".tiff": "TIFF", ".txt": "TEXT", ".md": "MARKDOWN", ".markdown": "MARKDOWN",
    ".pdf": "PDF", ".html": "HTML", ".htm": "HTML",
}


@dataclass(frozen=True)
class Sniffed:
    """The real kind and format of a file, plus a warning if its extension lies."""

    kind: Kind
    format: str
    warning: str | None = None


def kind_of(path: str | os.PathLike[str]) -> Kind | None:
    """Kind implied by the file's extension (case-insensitive), or None if we don't handle it."""
    ext = Path(path).suffix.lower()
    if ext in PHOTO_EXTS:
        return "photo"
    if ext in DOCUMENT_EXTS:
        return "document"
    return None


def magic_format(head: bytes) -> str | None:
    """Format named by a file's first bytes, or None if the bytes name no binary format."""
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "TIFF"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head.startswith(b"BM"):
        return "BMP"
    if head[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypavif"):
        return "HEIF"
    # PDF readers accept the header anywhere in the first KiB (some files carry junk before it).
    if b"%PDF-" in head[:1024]:
        return "PDF"
    return None


def sniff_kind(path: str | os.PathLike[str]) -> Sniffed:
    """Check a file's magic bytes against its extension.

    Raises MediaError for empty files, unreadable files, unsupported formats, and garbage behind
    an image/PDF extension.
    """
    p = Path(path)
    try:
        with open(p, "rb") as f:
            head = f.read(1024)
    except PermissionError as e:
        raise MediaError("permission denied") from e
    except IsADirectoryError as e:
        raise MediaError("is a directory") from e
    except FileNotFoundError as e:
        raise MediaError("file not found") from e
    except OSError as e:
        raise MediaError(f"cannot read file: {e.strerror or e}") from e
    if not head:
        raise MediaError("empty file")

    ext = p.suffix.lower()
    claimed = _EXT_FORMAT.get(ext)
    real = magic_format(head)

    if real in PHOTO_FORMATS or real == "PDF":
        kind: Kind = "photo" if real in PHOTO_FORMATS else "document"
        warning = None
        if claimed is not None and claimed != real:
            warning = f"wrong extension: file is {real} data"
        elif claimed is None:
            warning = f"unexpected extension {ext or '(none)'}: file is {real} data"
        return Sniffed(kind, real, warning)
    if real is not None:
        raise MediaError(f"unsupported format: {real}")
    if claimed in PHOTO_FORMATS:
        raise MediaError(f"not an image: {ext} file does not contain {claimed} data")
    if claimed == "PDF":
        raise MediaError("not a PDF")
    if claimed is not None:
        return Sniffed("document", claimed)  # text formats have no magic; trust the extension
    raise MediaError(f"unsupported format: {ext or 'no extension'}")
