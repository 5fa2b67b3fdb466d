"""Read a photo's size and metadata (EXIF time/GPS/camera, IPTC and XMP keywords) safely.

Pixels are not decoded for metadata.  To still catch truncated or corrupt files cheaply, a JPEG
is decoded at 1/8 scale (draft mode), a PNG has its chunk CRCs verified, a HEIF/HEIC is checked
by libheif when it is opened (every extent of its data inside the file); WebP, TIFF and AVIF
have no cheap partial decode and are decoded fully (after the pixel-count guard).  A camera
RAW file is never demosaiced for metadata: its embedded preview is decoded at 1/8 scale, or its
sensor data unpacked when it has no usable preview (``tagassist.media.raw``).  Odd or garbage
metadata never raises: it is dropped and reported in ``warnings``.

:func:`open_image` is the one decoder of photos for thumbnails, the image model and the viewer:
HEIF/HEIC through pillow-heif, AVIF through Pillow, RAW through rawpy (``heif``, ``raw``).
"""

from __future__ import annotations

import math
import os
import re
import warnings as pywarnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import Image, IptcImagePlugin

from tagassist.media.errors import MediaError
from tagassist.media.heif import ensure_reader
from tagassist.media.kinds import Sniffed, sniff_kind
from tagassist.media.raw import open_raw, read_raw_metadata
from tagassist.media.xmp import XmpInfo, parse_xmp, read_sidecar

# Pillow reports corrupt EXIF as a UserWarning on stderr; read_photo turns it into a per-file
# warning instead ("EXIF data present but unreadable"), so the global one is only noise.
pywarnings.filterwarnings("ignore", message="Corrupt EXIF data", category=UserWarning)

# 200 MP: above any camera sensor in normal use, far below what would exhaust memory.
MAX_PIXELS = 200_000_000

EXIF_IFD, GPS_IFD = 0x8769, 0x8825
TAG_MAKE, TAG_MODEL, TAG_DATETIME = 0x010F, 0x0110, 0x0132
TAG_DATETIME_ORIGINAL, TAG_DATETIME_DIGITIZED = 0x9003, 0x9004
TAG_XMP_TIFF = 700


@dataclass(frozen=True)
class PhotoInfo:
    """What the app needs to know about one photo.

    ``width``/``height`` are the stored pixel dimensions (before EXIF orientation).
    ``capture_time`` is local camera time, 'YYYY-MM-DDTHH:MM:SS', no time zone.
    ``gps`` is (latitude, longitude) in signed decimal degrees.
    """

    format: str
    width: int
    height: int
    capture_time: str | None = None
    gps: tuple[float, float] | None = None
    camera: str | None = None
    keywords: tuple[str, ...] = ()
    hierarchical: tuple[str, ...] = ()
    title: str | None = None
    description: str | None = None
    warnings: tuple[str, ...] = ()


def open_image(path: str | os.PathLike[str]) -> tuple[Image.Image, Sniffed]:
    """Open an image lazily with its real format's plugin, refusing decompression bombs.

    The plugin is called directly (not ``Image.open``) so that the size check is ours -- no
    global ``Image.MAX_IMAGE_PIXELS`` to change, dimensions in the message -- and so that a file
    is only ever parsed by the plugin its magic bytes name.
    """
    return _open_sniffed(path, sniff_kind(path))


def _open_sniffed(path: str | os.PathLike[str], sniffed: Sniffed
                  ) -> tuple[Image.Image, Sniffed]:
    if sniffed.kind != "photo":
        raise MediaError(f"not an image: file is {sniffed.format} data")
    if sniffed.format == "RAW":
        # The embedded preview or a half-size demosaic; the pixel guard is on the sensor size.
        img = open_raw(path, MAX_PIXELS)
    else:
        ensure_reader(sniffed.format)  # HEIF/AVIF: their plugin, or a clear reason
        img = _open_with_plugin(path, sniffed)
    w, h = img.size
    if w <= 0 or h <= 0:
        img.close()
        raise MediaError(f"damaged {sniffed.format} image: size {w}x{h}")
    if w * h > MAX_PIXELS:
        img.close()
        raise MediaError(f"image too large (decompression bomb: {w}x{h})")
    return img, sniffed


def _open_with_plugin(path: str | os.PathLike[str], sniffed: Sniffed) -> Image.Image:
    Image.init()
    try:
        factory, _accept = Image.OPEN[sniffed.format]
    except KeyError as e:
        raise MediaError(f"cannot read {sniffed.format} image: no reader for it here") from e
    try:
        img = factory(os.fspath(path))
    except PermissionError as e:
        raise MediaError("permission denied") from e
    except Exception as e:  # noqa: BLE001 - plugins raise anything on hostile headers
        raise MediaError(f"damaged {sniffed.format} image: {_short(e)}") from e
    return img


def _short(e: BaseException) -> str:
    text = str(e).strip() or type(e).__name__
    return text if len(text) <= 120 else text[:117] + "..."


def check_decodable(img: Image.Image, path: str | os.PathLike[str]) -> None:
    """Decode as little as possible to prove the pixel data is complete.  Consumes ``img``."""
    fmt = img.format or "image"
    try:
        if fmt == "JPEG":
            img.draft(None, (1, 1))  # DCT scaling: decode at 1/8 size
            img.load()
        elif fmt == "PNG":
            # verify() walks the chunks and checks CRCs without inflating pixels; it must run on
            # a handle nobody has read from yet.
            factory, _accept = Image.OPEN["PNG"]
            with factory(os.fspath(path)) as fresh:
                fresh.verify()
        elif fmt == "HEIF":
            # Opening already made libheif check that every extent of the image lies inside the
            # file (a cut-off HEIC fails there); decoding here as well doubled the import time
            # of a phone photo, as the thumbnail decodes it anyway.
            return
        else:
            img.load()
    except Exception as e:  # noqa: BLE001
        if "truncated" in str(e).lower() or isinstance(e, EOFError) or jpeg_cut_short(path):
            raise MediaError(f"truncated {fmt} image") from e
        raise MediaError(f"damaged {fmt} image: {_short(e)}") from e


def jpeg_cut_short(path: str | os.PathLike[str]) -> bool:
    """A JPEG whose last bytes are not the EOI marker (FF D9) was cut short."""
    try:
        with open(path, "rb") as f:
            if f.read(3) != b"\xff\xd8\xff":
                return False
            f.seek(-64, os.SEEK_END)
            tail = f.read().rstrip(b"\x00")
    except OSError:
        return False
    return not tail.endswith(b"\xff\xd9")


def _text(value: Any) -> str | None:
    """EXIF/IPTC strings arrive as str, bytes, or worse; make a clean str or None."""
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            value = value.decode("cp1252", errors="replace")
    if isinstance(value, (tuple, list)) and value:
        value = value[0]
    if not isinstance(value, str):
        return None
    value = value.replace("\x00", "").strip()
    return value or None


_TIME_RE = re.compile(
    r"^\s*(\d{4})[:\-/](\d{1,2})[:\-/](\d{1,2})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?"
)


def parse_capture_time(value: Any) -> str | None:
    """'2024:07:13 21:30:05' (EXIF), ISO 8601 (XMP) -> '2024-07-13T21:30:05'; garbage -> None."""
    text = _text(value)
    if not text:
        return None
    m = _TIME_RE.match(text)
    if not m:
        return None
    y, mo, d, hh, mm, ss = (int(g) if g else 0 for g in m.groups())
    if not 1800 <= y <= 2200:  # catches '0000:00:00 00:00:00' and typos like 9999
        return None
    try:
        return datetime(y, mo, d, hh, mm, ss).isoformat()
    except ValueError:
        return None


def _rational(v: Any) -> float:
    """An EXIF rational (IFDRational, (num, den) tuple, or number) as float; NaN if unusable."""
    try:
        if isinstance(v, tuple) and len(v) == 2:
            return float(v[0]) / float(v[1]) if float(v[1]) else math.nan
        return float(v)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return math.nan


def _dms(value: Any) -> float:
    if isinstance(value, (tuple, list)):
        parts = [_rational(x) for x in value[:3]]
        if not parts:
            return math.nan
        parts += [0.0] * (3 - len(parts))
        return parts[0] + parts[1] / 60 + parts[2] / 3600
    return _rational(value)


def parse_gps(gps: Any, warnings: list[str]) -> tuple[float, float] | None:
    """EXIF GPS IFD (tags 1-4: refs and degree/minute/second rationals) -> (lat, lon)."""
    if not gps or not hasattr(gps, "get"):
        return None
    lat_v, lon_v = gps.get(2), gps.get(4)
    if lat_v is None or lon_v is None:
        return None
    lat, lon = _dms(lat_v), _dms(lon_v)
    lat_ref = (_text(gps.get(1)) or "N").upper()[:1]
    lon_ref = (_text(gps.get(3)) or "E").upper()[:1]
    if lat_ref == "S":
        lat = -lat
    if lon_ref == "W":
        lon = -lon
    if not (math.isfinite(lat) and math.isfinite(lon)):
        warnings.append("GPS position unreadable (ignored)")
        return None
    if abs(lat) > 90 or abs(lon) > 180:
        warnings.append(f"GPS position out of range ({lat:.4g}, {lon:.4g}) (ignored)")
        return None
    if lat == 0 and lon == 0:
        warnings.append("GPS position 0,0 means 'no fix' (ignored)")
        return None
    return (round(lat, 7), round(lon, 7))


def _camera(make: str | None, model: str | None) -> str | None:
    if make and model:
        # 'Canon' + 'Canon EOS 5D' / 'NIKON CORPORATION' + 'NIKON D5000': don't repeat the brand.
        if model.split()[0].lower() == make.split()[0].lower():
            return model
        return f"{make} {model}"
    return model or make


def _iptc(img: Image.Image, warnings: list[str]) -> dict[tuple[int, int], list[str]]:
    try:
        info = IptcImagePlugin.getiptcinfo(img)  # type: ignore[arg-type]
    except Exception as e:  # noqa: BLE001
        warnings.append(f"unreadable IPTC data ({_short(e)})")
        return {}
    if not info:
        return {}
    # 1:90 = coded character set; ESC % G announces UTF-8.  Without it, try UTF-8 anyway (most
    # modern writers use it silently), falling back to cp1252.
    utf8_declared = info.get((1, 90)) == b"\x1b%G"
    out: dict[tuple[int, int], list[str]] = {}
    for key, raw in info.items():
        values = raw if isinstance(raw, list) else [raw]
        texts = []
        for v in values:
            if not isinstance(v, bytes):
                continue
            try:
                s = v.decode("utf-8")
            except UnicodeDecodeError:
                s = v.decode("utf-8" if utf8_declared else "cp1252", errors="replace")
            s = s.replace("\x00", "").strip()
            if s:
                texts.append(s)
        out[key] = texts
    return out


def _xmp_packet(img: Image.Image) -> bytes | str | None:
    for key in ("xmp", "XML:com.adobe.xmp"):
        v = img.info.get(key)
        if v:
            return v
    tags = getattr(img, "tag_v2", None)
    if tags is not None:
        v = tags.get(TAG_XMP_TIFF)
        if isinstance(v, tuple):
            v = bytes(v) if all(isinstance(x, int) for x in v) else (v[0] if v else None)
        if isinstance(v, (bytes, str)) and v:
            return v
    return None


def _unique(*groups: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for g in groups:
        for s in g:
            seen.setdefault(s, None)
    return tuple(seen)


def read_photo(path: str | os.PathLike[str]) -> PhotoInfo:
    """Read one photo's metadata (and its XMP sidecar, if any).  Raises only MediaError."""
    path = Path(path)
    warnings: list[str] = []
    sniffed = sniff_kind(path)
    if sniffed.warning:
        warnings.append(sniffed.warning)
    exif: Any = {}
    exif_ifd: Any = {}
    gps_ifd: Any = {}
    iptc: dict[tuple[int, int], list[str]] = {}
    packet: bytes | str | None = None
    if sniffed.kind == "photo" and sniffed.format == "RAW":
        meta = read_raw_metadata(path, MAX_PIXELS)
        warnings += meta.warnings
        width, height, fmt = meta.width, meta.height, "RAW"
        exif = meta.exif
        exif_ifd, gps_ifd = _safe_ifd(exif, EXIF_IFD), _safe_ifd(exif, GPS_IFD)
        packet = meta.xmp
    else:
        img, sniffed = _open_sniffed(path, sniffed)
        with img:
            width, height = img.size
            fmt = img.format or sniffed.format
            try:
                exif = img.getexif()
                exif_ifd = exif.get_ifd(EXIF_IFD)
                gps_ifd = exif.get_ifd(GPS_IFD)
                raw_exif = img.info.get("exif")
                if isinstance(raw_exif, bytes) and len(raw_exif) > 16 and not exif:
                    # Pillow drops corrupt EXIF silently (a UserWarning at most): tell the user.
                    warnings.append("EXIF data present but unreadable (ignored)")
            except Exception as e:  # noqa: BLE001 - garbage EXIF must not cost us the photo
                warnings.append(f"unreadable EXIF data ({_short(e)})")
            iptc = _iptc(img, warnings)
            packet = _xmp_packet(img)
            check_decodable(img, path)

    embedded = XmpInfo()
    if packet:
        try:
            embedded = parse_xmp(packet)
        except MediaError as e:
            warnings.append(f"embedded XMP ignored: {e.reason}")

    sidecar = XmpInfo()
    try:
        sidecar = read_sidecar(path) or XmpInfo()
    except MediaError as e:
        warnings.append(f"sidecar ignored: {e.reason}")

    # Capture time, best source first.  IFD0 DateTime comes last: editors rewrite it on save.
    iptc_date = "".join(iptc.get((2, 55), [])[:1])
    iptc_time = "".join(iptc.get((2, 60), [])[:1])
    iptc_dt = None
    if re.fullmatch(r"\d{8}", iptc_date):
        t = iptc_time[:6] if re.match(r"\d{6}", iptc_time) else "000000"
        iptc_dt = f"{iptc_date[:4]}:{iptc_date[4:6]}:{iptc_date[6:]} {t[:2]}:{t[2:4]}:{t[4:]}"
    candidates = [
        ("DateTimeOriginal", _safe_get(exif_ifd, TAG_DATETIME_ORIGINAL)),
        ("DateTimeDigitized", _safe_get(exif_ifd, TAG_DATETIME_DIGITIZED)),
        ("XMP date", sidecar.created or embedded.created),
        ("IPTC date", iptc_dt),
        ("DateTime", _safe_get(exif, TAG_DATETIME)),
    ]
    capture_time = None
    for name, raw in candidates:
        if raw is None:
            continue
        capture_time = parse_capture_time(raw)
        if capture_time:
            break
        warnings.append(f"invalid {name} {_text(raw)!r} (ignored)")

    try:
        gps = parse_gps(gps_ifd, warnings)
    except Exception as e:  # noqa: BLE001
        warnings.append(f"unreadable GPS data ({_short(e)})")
        gps = None

    camera = _camera(_text(_safe_get(exif, TAG_MAKE)), _text(_safe_get(exif, TAG_MODEL)))
    keywords = _unique(iptc.get((2, 25), []), embedded.subjects, sidecar.subjects)
    hierarchical = _unique(embedded.hierarchical, sidecar.hierarchical)
    # The sidecar is the newer, editable copy, so it wins for the single-valued fields.
    title = sidecar.title or embedded.title or next(iter(iptc.get((2, 5), [])), None)
    description = (
        sidecar.description or embedded.description or next(iter(iptc.get((2, 120), [])), None)
    )
    return PhotoInfo(
        format=fmt, width=width, height=height, capture_time=capture_time, gps=gps,
        camera=camera, keywords=keywords, hierarchical=hierarchical, title=title,
        description=description, warnings=tuple(warnings),
    )


def _safe_ifd(exif: Any, tag: int) -> Any:
    try:
        return exif.get_ifd(tag)
    except Exception:  # noqa: BLE001
        return {}


def _safe_get(mapping: Any, tag: int) -> Any:
    try:
        return mapping.get(tag)
    except Exception:  # noqa: BLE001
        return None
