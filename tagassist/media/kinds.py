"""What kind of file is this?  By extension (cheap) and by magic bytes (truthful).

Decision on mislabeled files: a valid image or PDF behind the wrong extension (PNG data named
``.jpg``, a JPEG named ``.HEIC``) is still imported under its *real* format and the mismatch is
reported as a warning; bytes that are no known format behind an image/PDF extension (text named
``.jpg``) are an error.

Photos are JPEG, PNG, WebP, TIFF, HEIF/HEIC (phones; through pillow-heif), AVIF (Pillow's own
plugin) and camera RAW (CR2, CR3, NEF, ARW, RAF, ORF, RW2, DNG, ...; through rawpy/LibRaw).  Most
RAW formats are TIFF files inside, so a TIFF header behind a RAW extension, or a TIFF that
carries the DNGVersion tag, is RAW; CR3, ORF, RW2, RAF and CRW have magic numbers of their own.

Files of a media kind TagAssist cannot read (video, Photoshop, GIF, ...) are named by
:func:`unsupported_media`, so that the folder walk can list them as skipped (see ``scan``).
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tagassist.media.errors import MediaError, os_error_reason

Kind = Literal["photo", "document"]

HEIF_EXTS = frozenset({".heic", ".heif", ".hif", ".avif"})
# The RAW formats of cameras in use that LibRaw decodes.  ``.raw`` is left out: the name is used
# by too many unrelated dumps to claim it.
RAW_EXTS = frozenset({
    ".dng", ".cr2", ".cr3", ".crw", ".nef", ".nrw", ".arw", ".srf", ".sr2", ".raf", ".orf",
    ".rw2", ".rwl", ".pef", ".srw", ".x3f", ".3fr", ".fff", ".iiq", ".erf", ".mrw", ".mos",
    ".kdc", ".dcr",
})
PHOTO_EXTS = frozenset({".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff"}) | HEIF_EXTS | RAW_EXTS
DOCUMENT_EXTS = frozenset({".txt", ".md", ".markdown", ".pdf", ".html", ".htm"})

# Media a person would expect in a photo library but TagAssist does not read: the walk reports
# these as skipped (when their bytes agree), so "problems 0" never hides them.  Other unknown
# files (.DS_Store, .json, .aae, Thumbs.db, source code, ...) are not media and pass in silence.
VIDEO_EXTS = frozenset({
    ".mp4", ".m4v", ".mov", ".qt", ".avi", ".mkv", ".webm", ".mts", ".m2ts", ".3gp",
    ".3g2", ".wmv", ".asf", ".flv", ".mpg", ".mpeg", ".vob", ".ogv", ".insv", ".lrv",
})
OTHER_IMAGE_EXTS = frozenset({
    ".psd", ".psb", ".gif", ".bmp", ".jxl", ".jp2", ".j2k", ".jpf", ".jpx", ".svg", ".svgz",
    ".ico", ".xcf", ".exr", ".tga", ".kra",
})
UNSUPPORTED_MEDIA_EXTS = VIDEO_EXTS | OTHER_IMAGE_EXTS

# Format names are Pillow's ``Image.format`` for the Pillow-decoded images, so callers can compare
# them directly; "HEIF" and "AVIF" are the names of pillow-heif's and Pillow's plugins; "RAW" is
# any camera RAW file (decoded by rawpy, not Pillow).
PHOTO_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "TIFF", "HEIF", "AVIF", "RAW"})
_EXT_FORMAT = {
    ".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WEBP", ".tif": "TIFF",
    ".tiff": "TIFF", ".heic": "HEIF", ".heif": "HEIF", ".hif": "HEIF", ".avif": "AVIF",
    ".txt": "TEXT", ".md": "MARKDOWN", ".markdown": "MARKDOWN", ".pdf": "PDF", ".html": "HTML",
    ".htm": "HTML",
} | dict.fromkeys(RAW_EXTS, "RAW")

# What the walk says of a skipped file, by the format its bytes name.
_UNSUPPORTED_LABEL = {
    "MP4": "video (MP4)", "QUICKTIME": "video (QuickTime)", "AVI": "video (AVI)",
    "MATROSKA": "video (Matroska/WebM)", "MPEG": "video (MPEG)", "MPEG-TS": "video (MPEG-TS)",
    "ASF": "video (Windows Media)", "FLV": "video (Flash)", "OGG": "video (Ogg)",
    "PSD": "Photoshop document (PSD)", "GIF": "GIF image", "BMP": "BMP image",
    "JXL": "JPEG XL image", "JP2": "JPEG 2000 image", "SVG": "SVG drawing", "ICO": "icon",
    "XCF": "GIMP image (XCF)", "EXR": "OpenEXR image",
}

# ISO base media (``ftyp``) brands of still images; the rest of that family is video.
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm",
                          b"hevs"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_MIF_BRANDS = frozenset({b"mif1", b"msf1", b"mif2", b"miaf"})
_TAG_DNG_VERSION = 0xC612
HEAD_BYTES = 4096


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


def _ftyp_format(head: bytes) -> str | None:
    """HEIF, AVIF, RAW (Canon CR3), MP4 or QUICKTIME for an ISO base media file, else None."""
    if head[4:8] != b"ftyp":
        return None
    size = struct.unpack(">I", head[:4])[0]
    major = head[8:12]
    compatible = {head[i:i + 4] for i in range(16, min(max(size, 16), len(head), 256), 4)}
    brands = {major} | compatible
    if major == b"crx ":
        return "RAW"
    if major in _AVIF_BRANDS:
        return "AVIF"
    if major in _HEIF_BRANDS:
        return "HEIF"
    if major in _MIF_BRANDS or brands & (_AVIF_BRANDS | _HEIF_BRANDS):
        # A generic still-image brand: the compatible brands say which codec.
        if brands & _AVIF_BRANDS and not brands & _HEIF_BRANDS:
            return "AVIF"
        return "HEIF"
    if major == b"qt  ":
        return "QUICKTIME"
    return "MP4"  # isom, mp41, mp42, avc1, M4V , 3gp4, ...: movies


def _tiff_has_dng_version(head: bytes) -> bool:
    """True if the TIFF header's first IFD (when it lies within ``head``) has DNGVersion."""
    try:
        endian = "<" if head[:2] == b"II" else ">"
        if head[2:4] not in (b"*\x00", b"\x00*"):
            return False  # BigTIFF: no DNG uses it
        (offset,) = struct.unpack(endian + "I", head[4:8])
        (count,) = struct.unpack(endian + "H", head[offset:offset + 2])
        for i in range(count):
            at = offset + 2 + 12 * i
            if at + 2 > len(head):
                return False
            (tag,) = struct.unpack(endian + "H", head[at:at + 2])
            if tag == _TAG_DNG_VERSION:
                return True
            if tag > _TAG_DNG_VERSION:
                return False  # IFD entries are sorted by tag
    except struct.error:
        return False
    return False


def magic_format(head: bytes) -> str | None:
    """Format named by a file's first bytes, or None if the bytes name no binary format.

    Camera RAW formats with a magic number of their own (and DNG, by its tag) are "RAW"; other
    TIFF-based RAW files (CR2, NEF, ARW, ...) are "TIFF" here and told apart by their extension.
    """
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        if head[8:10] == b"CR" or _tiff_has_dng_version(head):  # Canon CR2; Adobe DNG
            return "RAW"
        return "TIFF"
    if head[:4] in (b"II+\x00", b"MM\x00+"):
        return "TIFF"
    if head[:4] in (b"IIRO", b"IIRS", b"MMOR", b"IIU\x00") or head.startswith(
        (b"FUJIFILMCCD-RAW", b"II\x1a\x00\x00\x00HEAPCCDR")
    ):
        return "RAW"  # Olympus ORF, Panasonic RW2, Fujifilm RAF, Canon CRW
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head.startswith(b"BM") and len(head) >= 26 and head[14] in (12, 40, 52, 56, 64, 108, 124):
        return "BMP"
    if (ftyp := _ftyp_format(head)) is not None:
        return ftyp
    if head.startswith(b"8BPS"):
        return "PSD"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "AVI"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "MATROSKA"
    if head[4:8] in (b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"):
        return "QUICKTIME"  # old QuickTime files without an ftyp box
    if head.startswith((b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3")):
        return "MPEG"
    if len(head) > 376 and head[0] == head[188] == head[376] == 0x47:
        return "MPEG-TS"
    if head.startswith(b"\x30\x26\xb2\x75\x8e\x66\xcf\x11"):
        return "ASF"
    if head.startswith(b"FLV\x01"):
        return "FLV"
    if head.startswith(b"OggS"):
        return "OGG"
    if head.startswith((b"\xff\x0a", b"\x00\x00\x00\x0cJXL \r\n\x87\n")):
        return "JXL"
    if head.startswith((b"\x00\x00\x00\x0cjP  \r\n\x87\n", b"\xff\x4f\xff\x51")):
        return "JP2"
    if head.startswith(b"gimp xcf"):
        return "XCF"
    if head.startswith(b"v/1\x01"):
        return "EXR"
    if head.startswith(b"\x00\x00\x01\x00") and len(head) > 6 and head[4] > 0:
        return "ICO"
    # PDF readers accept the header anywhere in the first KiB (some files carry junk before it).
    if b"%PDF-" in head[:1024]:
        return "PDF"
    if b"<svg" in head[:1024].lower():
        return "SVG"
    return None


def _read_head(p: Path, n: int = HEAD_BYTES) -> bytes:
    try:
        with open(p, "rb") as f:
            return f.read(n)
    except OSError as e:
        raise MediaError(os_error_reason(e)) from e


def sniff_kind(path: str | os.PathLike[str]) -> Sniffed:
    """Check a file's magic bytes against its extension.

    Raises MediaError for empty files, unreadable files, unsupported formats, and garbage behind
    an image/PDF extension.
    """
    p = Path(path)
    head = _read_head(p)
    if not head:
        raise MediaError("empty file")

    ext = p.suffix.lower()
    claimed = _EXT_FORMAT.get(ext)
    real = magic_format(head)
    if real == "TIFF" and claimed == "RAW":
        real = "RAW"  # CR2, NEF, ARW, PEF, ... are TIFF files inside

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


def unsupported_media(path: str | os.PathLike[str]) -> Sniffed | str | None:
    """For a file whose extension names a media kind we don't read (video, PSD, GIF, ...).

    Returns the reason it is skipped (a str) when its bytes are of a kind TagAssist does not
    read; a :class:`Sniffed` photo when they are in fact a photo we can read (a JPEG named
    ``.gif``); None when its extension is not such a kind, or its bytes are no known media at
    all (a file that only borrows the name, or cannot be read), so nothing need be said of it.
    """
    p = Path(path)
    ext = p.suffix.lower()
    if ext not in UNSUPPORTED_MEDIA_EXTS:
        return None
    try:
        head = _read_head(p, 1024)
    except MediaError:
        return None
    real = magic_format(head)
    if real in PHOTO_FORMATS:
        return Sniffed("photo", real, f"unexpected extension {ext}: file is {real} data")
    label = _UNSUPPORTED_LABEL.get(real or "")
    if label is None:
        return None
    return f"{label} is not supported"
