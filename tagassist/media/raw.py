"""Camera RAW files (CR2, CR3, NEF, ARW, RAF, ORF, RW2, DNG, ...) through rawpy (LibRaw).

Pixels: the JPEG preview the camera embeds in nearly every RAW file, when it is big enough
(``MIN_PREVIEW_SIDE``), is what thumbnails, the image model and the viewer see -- it is the
camera's own rendering, and decoding it (with libjpeg's DCT scaling) takes milliseconds.  A RAW
without a usable preview is demosaiced at half size (``postprocess(half_size=True)``), about a
second for a 24 MP sensor.  Either way the image is handed back in the sensor's orientation with
the RAW's orientation in its EXIF, so the callers' ``ImageOps.exif_transpose`` turns it upright
exactly as it does a JPEG.

Metadata: most RAW formats are TIFF files (CR2, NEF, ARW, PEF, DNG; ORF and RW2 with a magic of
their own), so their IFD0, EXIF and GPS directories are read with Pillow's TIFF directory reader
straight from the file; Canon's CR3 keeps the same directories as TIFF blobs in its CMT1/CMT2/
CMT4 boxes.  The embedded preview's own EXIF (RAF and RW2 previews carry a full copy) fills what
the RAW's directories lack, and LibRaw's parsed capture time is the last resort for the date.

rawpy is imported lazily: without it (or with a broken LibRaw) RAW files are per-file problems
with a clear reason and everything else works.
"""

from __future__ import annotations

import io
import os
import struct
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from PIL import Image

from tagassist.media.errors import MediaError
from tagassist.media.raw_extent import sensor_extent

# A preview whose shorter side reaches this (or half the sensor's, for small sensors) is used;
# a smaller one (old 160x120 thumbnails, the 256-pixel previews of some phone DNGs) is not.
MIN_PREVIEW_SIDE = 512

EXIF_IFD, GPS_IFD = 0x8769, 0x8825
TAG_ORIENTATION, TAG_XMP = 0x0112, 700
TAG_DATETIME_ORIGINAL = 0x9003
TAG_MAKE, TAG_MODEL, TAG_UNIQUE_CAMERA_MODEL = 0x010F, 0x0110, 0xC614
# From IFD0: make, model, date, description, artist, copyright.
_IFD0_TAGS = (0x010E, TAG_MAKE, TAG_MODEL, 0x0132, 0x013B, 0x8298)
# Never copied out of the EXIF directory: the maker note (large, private) and sub-IFD pointers.
_EXIF_SKIP = frozenset({0x927C, 0xA005, EXIF_IFD, GPS_IFD})
# LibRaw's ``flip`` -> EXIF Orientation.
_FLIP_TO_ORIENTATION = {0: 1, 3: 3, 5: 8, 6: 6}
_TIFF_HEADS = (b"II*\x00", b"MM\x00*")
_PATCHED_HEADS = {b"IIRO": b"II*\x00", b"IIRS": b"II*\x00", b"IIU\x00": b"II*\x00",
                  b"MMOR": b"MM\x00*"}


@dataclass(frozen=True)
class RawMetadata:
    """A RAW file's size and metadata, read without demosaicing it.

    ``width``/``height`` are the sensor image's (before orientation); ``exif`` holds IFD0 tags
    and the EXIF and GPS directories (``get_ifd``), as Pillow gives them for a JPEG.
    """

    width: int
    height: int
    exif: Image.Exif
    xmp: bytes | None
    warnings: tuple[str, ...] = ()


@dataclass
class _Tags:
    ifd0: dict[int, Any]
    exif: dict[int, Any]
    gps: dict[int, Any]
    xmp: bytes | None = None


def _rawpy() -> Any:
    try:
        import rawpy
    except Exception as e:  # noqa: BLE001 - ImportError, or LibRaw failing to load (OSError)
        raise MediaError(
            f"cannot read RAW image: rawpy is not installed or failed to load "
            f"({type(e).__name__}: {e})"
        ) from e
    return rawpy


def _short(e: BaseException) -> str:
    # rawpy's messages are LibRaw's C strings, as bytes: b'Input/output error'.
    arg = e.args[0] if len(e.args) == 1 else None
    text = arg.decode("utf-8", "replace") if isinstance(arg, bytes) else str(e)
    text = text.strip() or type(e).__name__
    return text if len(text) <= 120 else text[:117] + "..."


def _libraw_error(rawpy: Any, e: Exception) -> MediaError:
    if isinstance(e, rawpy.LibRawFileUnsupportedError):
        return MediaError("unsupported RAW file (LibRaw does not know this camera or format)")
    if isinstance(e, (rawpy.LibRawTooBigError, rawpy.LibRawUnsufficientMemoryError)):
        return MediaError("RAW image too large")
    if isinstance(e, rawpy.LibRawIOError):
        # LibRaw's read of the sensor data ran past the end of the file.
        return MediaError(f"truncated or unreadable RAW image ({_short(e)})")
    return MediaError(f"damaged RAW image: {_short(e)}")


class _Opened:
    """A RAW file opened with LibRaw, its size checked against ``max_pixels``."""

    def __init__(self, path: str | os.PathLike[str], max_pixels: int) -> None:
        self.rawpy = _rawpy()
        self.path = path
        try:
            try:
                self.raw = self.rawpy.imread(os.fspath(path))
            except UnicodeEncodeError:
                # rawpy passes the name to LibRaw as UTF-8: a name that is not valid UTF-8 is
                # read from an open file instead (LibRaw then reads it all into memory).
                with open(path, "rb") as f:
                    self.raw = self.rawpy.imread(f)
        except OSError as e:
            raise MediaError(f"cannot read file: {e.strerror or e}") from e
        except Exception as e:  # noqa: BLE001 - LibRawError subclasses, ValueError
            raise _libraw_error(self.rawpy, e) from e
        try:
            s = self.raw.sizes
            self.width, self.height, self.flip = int(s.width), int(s.height), int(s.flip)
        except Exception as e:  # noqa: BLE001
            self.raw.close()
            raise _libraw_error(self.rawpy, e) from e
        if self.width <= 0 or self.height <= 0:
            self.raw.close()
            raise MediaError(f"damaged RAW image: size {self.width}x{self.height}")
        if self.width * self.height > max_pixels:
            self.raw.close()
            raise MediaError(f"image too large (decompression bomb: {self.width}x{self.height})")

    def __enter__(self) -> _Opened:
        return self

    def __exit__(self, *exc: object) -> None:
        self.raw.close()

    def preview(self) -> Image.Image | None:
        """The embedded preview, if there is one Pillow can open (not yet decoded)."""
        rawpy = self.rawpy
        try:
            thumb = self.raw.extract_thumb()
        except Exception:  # noqa: BLE001 - no preview, an unsupported kind, or a damaged one
            return None
        try:
            if thumb.format == rawpy.ThumbFormat.JPEG:
                if not bytes(thumb.data[-64:]).rstrip(b"\x00").endswith(b"\xff\xd9"):
                    return None  # cut off (a truncated file): the sensor data may still be whole
                img = Image.open(io.BytesIO(thumb.data), formats=("JPEG",))
            elif thumb.format == rawpy.ThumbFormat.BITMAP:
                img = Image.fromarray(thumb.data)
            else:
                return None
        except Exception:  # noqa: BLE001 - a preview that is not what it says: demosaic instead
            return None
        if img.width <= 0 or img.height <= 0:
            return None
        return img

    def usable(self, preview: Image.Image | None) -> bool:
        if preview is None:
            return False
        need = min(MIN_PREVIEW_SIDE, min(self.width, self.height) // 2)
        return min(preview.size) >= need

    def demosaic(self) -> Image.Image:
        """Half-size demosaic, camera white balance, 8-bit sRGB, in the sensor's orientation."""
        try:
            rgb = self.raw.postprocess(half_size=True, use_camera_wb=True, output_bps=8,
                                       user_flip=0)
        except Exception as e:  # noqa: BLE001
            raise _libraw_error(self.rawpy, e) from e
        return Image.fromarray(rgb)

    def verify(self) -> None:
        """Read (unpack) the sensor data, to catch a truncated file without demosaicing it.

        LibRaw reads some layouts past the end of the file, or from a stub, without an error
        (``raw_extent``): where the file's directories say where its sensor data is, a file
        that lacks it is refused first.
        """
        self._check_extent()
        try:
            self.raw.unpack()
        except Exception as e:  # noqa: BLE001
            raise _libraw_error(self.rawpy, e) from e

    def _check_extent(self) -> None:
        try:
            extent = sensor_extent(self.path)
            size = os.path.getsize(self.path)
        except (OSError, struct.error, ValueError):
            return  # unreadable directories: LibRaw's checks stand
        if extent is None:
            return
        if extent.end > size:
            raise MediaError("truncated RAW image (its sensor data ends past the end of the file)")
        if extent.total * 8 * 100 < self.width * self.height:  # under 1/100 bit a pixel
            raise MediaError(f"RAW image without sensor data (the file holds {extent.total} "
                             f"bytes of it for {self.width}x{self.height} pixels)")

    def timestamp(self) -> str | None:
        """LibRaw's capture time, 'YYYY:MM:DD HH:MM:SS' (camera local time), or None."""
        try:
            ts = self.raw.other.timestamp
        except Exception:  # noqa: BLE001 - rawpy < 0.25 has no ``other``
            return None
        if not isinstance(ts, datetime) or ts.year < 1971:  # 0 (the epoch) means "unknown"
            return None
        return ts.strftime("%Y:%m:%d %H:%M:%S")


class _PatchedHead(io.RawIOBase):
    """A read-only view of a file with its first four bytes replaced (ORF/RW2 -> TIFF)."""

    def __init__(self, f: IO[bytes], head: bytes) -> None:
        super().__init__()
        self._f, self._head = f, head

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._f.seek(offset, whence)

    def tell(self) -> int:
        return self._f.tell()

    def readinto(self, b: Any) -> int:
        pos = self._f.tell()
        data = self._f.read(len(b))
        n = len(data)
        b[:n] = data
        if pos < len(self._head):
            end = min(len(self._head), pos + n)
            b[0:end - pos] = self._head[pos:end]
        return n


def _exif_dict(ex: Image.Exif) -> dict[int, Any]:
    out: dict[int, Any] = {}
    for tag in list(ex):
        try:
            out[tag] = ex[tag]
        except Exception:  # noqa: BLE001 - one unreadable tag costs only itself
            continue
    return out


def _tiff_tags(fp: IO[bytes]) -> _Tags:
    ex = Image.Exif()
    ex.load_from_fp(fp)
    ifd0: dict[int, Any] = {}
    for tag in (*_IFD0_TAGS, TAG_UNIQUE_CAMERA_MODEL, TAG_XMP):
        try:
            v = ex.get(tag)
        except Exception:  # noqa: BLE001
            v = None
        if v is not None:
            ifd0[tag] = v
    exif, gps = dict(ex.get_ifd(EXIF_IFD)), dict(ex.get_ifd(GPS_IFD))
    xmp = ifd0.pop(TAG_XMP, None)
    if isinstance(xmp, tuple):
        xmp = bytes(xmp) if all(isinstance(x, int) for x in xmp) else None
    return _Tags(ifd0, exif, gps, xmp if isinstance(xmp, bytes) else None)


def _cr3_tags(f: IO[bytes]) -> _Tags:
    """Canon CR3: IFD0, EXIF and GPS as TIFF blobs in the CMT1, CMT2 and CMT4 boxes."""
    f.seek(0)
    head = f.read(1 << 16)  # the boxes sit in the moov header, well inside the first 64 KiB
    found: dict[bytes, dict[int, Any]] = {}
    for name in (b"CMT1", b"CMT2", b"CMT4"):
        at = head.find(name)
        if at < 4:
            continue
        (size,) = struct.unpack(">I", head[at - 4:at])
        blob = head[at + 4:at - 4 + size]
        if len(blob) < 8 or blob[:4] not in _TIFF_HEADS:
            continue
        ex = Image.Exif()
        ex.load(blob)
        found[name] = _exif_dict(ex)
    ifd0 = {t: v for t, v in found.get(b"CMT1", {}).items() if t in _IFD0_TAGS}
    return _Tags(ifd0, found.get(b"CMT2", {}), found.get(b"CMT4", {}))


def _raw_tags(path: str | os.PathLike[str]) -> _Tags:
    """The RAW file's own IFD0/EXIF/GPS tags (empty where the format has none we read)."""
    with open(path, "rb") as f:
        head = f.read(16)
        f.seek(0)
        if head[:4] in _TIFF_HEADS:
            return _tiff_tags(f)
        if head[:4] in _PATCHED_HEADS:
            return _tiff_tags(_PatchedHead(f, _PATCHED_HEADS[head[:4]]))  # type: ignore[arg-type]
        if head[4:12] == b"ftypcrx ":
            return _cr3_tags(f)
    return _Tags({}, {}, {})


def _merged_exif(target: Image.Exif, opened: _Opened, path: str | os.PathLike[str],
                 warnings: list[str]) -> None:
    """Write the RAW's own tags over ``target`` (a preview's EXIF, or an empty one)."""
    try:
        tags = _raw_tags(path)
    except Exception as e:  # noqa: BLE001 - garbage directories must not cost us the photo
        warnings.append(f"unreadable RAW metadata ({_short(e)})")
        tags = _Tags({}, {}, {})
    if TAG_MODEL not in tags.ifd0 and TAG_UNIQUE_CAMERA_MODEL in tags.ifd0:
        tags.ifd0[TAG_MODEL] = tags.ifd0[TAG_UNIQUE_CAMERA_MODEL]  # DNG: "Canon EOS R5"
    tags.ifd0.pop(TAG_UNIQUE_CAMERA_MODEL, None)
    for tag, value in tags.ifd0.items():
        target[tag] = value
    exif_ifd = target.get_ifd(EXIF_IFD)
    exif_ifd.update({t: v for t, v in tags.exif.items() if t not in _EXIF_SKIP})
    if tags.gps:
        gps_ifd = target.get_ifd(GPS_IFD)
        gps_ifd.clear()
        gps_ifd.update(tags.gps)
    if exif_ifd.get(TAG_DATETIME_ORIGINAL) is None and target.get(0x0132) is None:
        ts = opened.timestamp()
        if ts:
            exif_ifd[TAG_DATETIME_ORIGINAL] = ts
    target[TAG_ORIENTATION] = _FLIP_TO_ORIENTATION.get(opened.flip, 1)
    if tags.xmp:
        target[TAG_XMP] = tags.xmp


def open_raw(path: str | os.PathLike[str], max_pixels: int) -> Image.Image:
    """The picture in a RAW file: its embedded preview, or a half-size demosaic.

    The image is in the sensor's orientation, with the RAW's EXIF (orientation, date, GPS,
    camera) in ``getexif()`` and its XMP in ``info["xmp"]``.  A preview comes back lazily (a
    Pillow JPEG not yet decoded, so ``draft`` still works); a demosaic comes back decoded.
    Raises MediaError.
    """
    with _Opened(path, max_pixels) as opened:
        preview = opened.preview()
        if opened.usable(preview):
            assert preview is not None
            img = preview
        else:
            if preview is not None:
                preview.close()
            img = opened.demosaic()
        exif = img.getexif()
        _merged_exif(exif, opened, path, [])
    xmp = exif.get(TAG_XMP)
    if isinstance(xmp, bytes) and not img.info.get("xmp"):
        img.info["xmp"] = xmp
    return img


def read_raw_metadata(path: str | os.PathLike[str], max_pixels: int) -> RawMetadata:
    """Size and metadata of a RAW file, its data checked without demosaicing.  Raises MediaError.

    The check decodes the preview at 1/8 scale when there is a usable one (that is the picture
    TagAssist shows); otherwise LibRaw unpacks the sensor data, which fails on a cut-off file.
    """
    warnings: list[str] = []
    with _Opened(path, max_pixels) as opened:
        preview = opened.preview()
        exif = Image.Exif()
        if preview is not None:
            with preview:
                try:
                    src = preview.getexif()
                    for tag, value in _exif_dict(src).items():
                        if tag not in (EXIF_IFD, GPS_IFD):
                            exif[tag] = value
                    exif.get_ifd(EXIF_IFD).update(src.get_ifd(EXIF_IFD))
                    exif.get_ifd(GPS_IFD).update(src.get_ifd(GPS_IFD))
                except Exception as e:  # noqa: BLE001
                    warnings.append(f"unreadable EXIF data in the RAW preview ({_short(e)})")
                if opened.usable(preview):
                    try:
                        preview.draft("RGB", (1, 1))
                        preview.load()
                    except Exception as e:  # noqa: BLE001
                        if "truncated" in str(e).lower() or isinstance(e, EOFError):
                            raise MediaError("truncated RAW image (its preview is cut off)") from e
                        raise MediaError(f"damaged RAW image: preview: {_short(e)}") from e
                else:
                    opened.verify()
        else:
            opened.verify()
        _merged_exif(exif, opened, path, warnings)
        width, height = opened.width, opened.height
    xmp = exif.get(TAG_XMP)
    return RawMetadata(width, height, exif, xmp if isinstance(xmp, bytes) else None,
                       tuple(warnings))
