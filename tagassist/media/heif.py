"""HEIF/HEIC (phones) through pillow-heif, AVIF through Pillow's own plugin.

pillow-heif registers a Pillow plugin named "HEIF"; it is registered here once, lazily, the
first time a HEIF file is opened, so that the app starts (and reads every other format) without
it.  pillow-heif 1.x reads no AVIF (it left that to Pillow): Pillow >= 11.3 opens AVIF itself
when built with libavif, as its wheels are.  Either missing is a per-file problem with a clear
reason, never a crash.
"""

from __future__ import annotations

import threading

from PIL import Image, features

from tagassist.media.errors import MediaError

_lock = threading.Lock()
_heif_state: str | None = None  # None: not tried yet; "" ready; otherwise why it is unavailable


def _register_heif() -> str:
    try:
        import pillow_heif
    except Exception as e:  # noqa: BLE001 - ImportError, or a broken native library (OSError)
        return f"pillow-heif is not installed or failed to load ({type(e).__name__}: {e})"
    try:
        # The primary image only: the file's own thumbnails, depth maps and auxiliary images
        # are never used here, and leaving them out keeps the plugin from reading them.
        pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)
    except Exception as e:  # noqa: BLE001
        return f"pillow-heif failed to register ({type(e).__name__}: {e})"
    Image.init()
    if "HEIF" not in Image.OPEN:
        return "pillow-heif registered no HEIF reader"
    return ""


def heif_unavailable() -> str | None:
    """Why HEIF/HEIC files cannot be read here, or None when they can (registers the plugin)."""
    global _heif_state
    if _heif_state is None:
        with _lock:
            if _heif_state is None:
                _heif_state = _register_heif()
    return _heif_state or None


def avif_unavailable() -> str | None:
    """Why AVIF files cannot be read here, or None when Pillow reads them."""
    Image.init()
    if "AVIF" in Image.OPEN:
        return None
    try:
        built_in = features.check("avif")
    except Exception:  # noqa: BLE001 - older Pillow: no such feature name
        built_in = False
    if built_in:
        return None
    return "this Pillow reads no AVIF (Pillow >= 11.3 built with libavif is needed)"


def ensure_reader(fmt: str) -> None:
    """Make sure Pillow has a reader for ``fmt`` ("HEIF" or "AVIF"); MediaError if it cannot."""
    why = heif_unavailable() if fmt == "HEIF" else avif_unavailable() if fmt == "AVIF" else None
    if why:
        raise MediaError(f"cannot read {fmt} image: {why}")
