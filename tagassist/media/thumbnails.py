"""Small JPEG previews of photos, cached on disk by content hash.

A JPEG is decoded in draft mode (libjpeg DCT scaling), so a 12 MP photo is decoded at 1/8 or
1/4 size -- most of the speed of thumbnailing.  Documents get no thumbnail (None): the UI draws
an icon for them.
"""

from __future__ import annotations

import os
import re
from io import BytesIO
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from tagassist.media.atomic import atomic_write
from tagassist.media.errors import MediaError
from tagassist.media.kinds import kind_of
from tagassist.media.photos import jpeg_cut_short, open_image

DEFAULT_SIZE = 256
_HEX = re.compile(r"^[0-9a-f]{8,128}$")


def thumbnail_path(cache_dir: str | os.PathLike[str], content_hash: str, size: int = DEFAULT_SIZE
                   ) -> Path:
    """Where the thumbnail lives: ``cache_dir/ab/abcdef….jpg`` (``…-<size>.jpg`` if not 256).

    Two-character fan-out keeps directories small for libraries of 100k+ files.
    """
    if not _HEX.match(content_hash):
        # The hash becomes a file name: never let anything else (../, /) through.
        raise ValueError(f"not a content hash: {content_hash!r}")
    name = f"{content_hash}.jpg" if size == DEFAULT_SIZE else f"{content_hash}-{size}.jpg"
    return Path(cache_dir) / content_hash[:2] / name


def _to_rgb(img: Image.Image) -> Image.Image:
    """Any Pillow mode -> 8-bit RGB, with sensible handling of 16-bit, float and alpha."""
    mode = img.mode
    if mode == "RGB":
        return img
    if mode.startswith("I;16") or mode in ("I", "F"):
        # convert('L') would clip 16-bit values at 255 (an all-white picture): rescale instead.
        a = np.asarray(img, dtype=np.float64)
        a = np.nan_to_num(a, nan=0.0, posinf=0.0, neginf=0.0)
        lo, hi = float(a.min()), float(a.max())
        if mode.startswith("I;16"):
            lo, hi = 0.0, 65535.0
        scale = 255.0 / (hi - lo) if hi > lo else 0.0
        grey = ((a - lo) * scale).clip(0, 255).astype(np.uint8)
        return Image.fromarray(grey).convert("RGB")
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return img.convert("RGB")  # L, 1, P, CMYK, YCbCr, LAB, HSV


def make_thumbnail(
    path: str | os.PathLike[str],
    cache_dir: str | os.PathLike[str],
    content_hash: str,
    size: int = DEFAULT_SIZE,
) -> Path | None:
    """Return the cached thumbnail (longest side <= ``size``), creating it if needed.

    Returns None for documents; raises MediaError for photos that cannot be decoded.
    """
    target = thumbnail_path(cache_dir, content_hash, size)
    if target.is_file():
        return target
    if kind_of(path) == "document":
        return None
    img, _sniffed = open_image(path)
    with img:
        try:
            # Draft must come before any pixel access; it keeps the size >= the requested box.
            img.draft("RGB", (size, size))
            img.load()
            try:
                img = ImageOps.exif_transpose(img)
            except Exception:  # noqa: BLE001 - garbage orientation tag: keep stored orientation
                pass
            img.thumbnail((size, size), Image.Resampling.LANCZOS, reducing_gap=3.0)
            rgb = _to_rgb(img)
        except MediaError:
            raise
        except Exception as e:  # noqa: BLE001 - decoders raise many types on hostile data
            if "truncated" in str(e).lower() or jpeg_cut_short(path):
                raise MediaError(f"truncated {_sniffed.format} image") from e
            raise MediaError(f"cannot decode image: {e}") from e
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        buf = BytesIO()
        rgb.save(buf, "JPEG", quality=85, optimize=True)
        atomic_write(target, buf.getvalue())
    except OSError as e:
        raise MediaError(f"cannot write thumbnail: {e.strerror or e}") from e
    return target
