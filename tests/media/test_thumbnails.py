"""Thumbnails: draft-mode decode, orientation, odd modes, caching."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tagassist.media.hashing import content_hash
from tagassist.media.thumbnails import make_thumbnail, thumbnail_path


def test_draft_mode_reduces_decode_of_a_large_jpeg(tmp_path):
    p = tmp_path / "big.jpg"
    Image.new("RGB", (4000, 3000), "orange").save(p, quality=80)
    with Image.open(p) as img:  # what make_thumbnail asks of the decoder
        img.draft("RGB", (256, 256))
        assert img.size == (500, 375)  # decoded at 1/8 scale, never at 12 MP
    h = content_hash(p)
    thumb = make_thumbnail(p, tmp_path / "cache", h)
    assert thumb == tmp_path / "cache" / h[:2] / f"{h}.jpg"
    with Image.open(thumb) as t:
        assert max(t.size) <= 256 and t.size == (256, 192) and t.mode == "RGB"
    mtime = thumb.stat().st_mtime_ns
    assert make_thumbnail(p, tmp_path / "cache", h) == thumb  # cached: not rewritten
    assert thumb.stat().st_mtime_ns == mtime


def test_exif_orientation_is_applied(tmp_path):
    p = tmp_path / "rot.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise for display
    Image.new("RGB", (400, 200)).save(p, exif=exif.tobytes())
    thumb = make_thumbnail(p, tmp_path, content_hash(p), size=100)
    assert thumb.name.endswith("-100.jpg")
    with Image.open(thumb) as t:
        assert t.size == (50, 100)


@pytest.mark.parametrize(
    "img",
    [
        Image.new("CMYK", (300, 200), (0, 0, 0, 0)),
        Image.fromarray((np.ones((200, 300)) * 40000).astype(np.uint16)),
        Image.new("RGBA", (300, 200), (0, 0, 0, 0)),
        Image.new("P", (300, 200)),
        Image.new("L", (300, 200)),
    ],
    ids=["cmyk", "16bit", "alpha", "palette", "grey"],
)
def test_modes_become_rgb(tmp_path, img):
    p = tmp_path / ("x.jpg" if img.mode in ("CMYK", "L") else "x.png")
    img.save(p)
    thumb = make_thumbnail(p, tmp_path / "c", content_hash(p))
    with Image.open(thumb) as t:
        assert t.mode == "RGB" and t.size == (256, 171)
        if img.mode.startswith("I;16"):
            assert 140 < t.getpixel((10, 10))[0] < 170  # 40000/65535 of white, not clipped
        if img.mode == "RGBA":
            assert t.getpixel((10, 10)) == (255, 255, 255)  # transparent -> white


def test_documents_get_no_thumbnail(tmp_path):
    p = tmp_path / "a.txt"
    p.write_text("hi")
    assert make_thumbnail(p, tmp_path, content_hash(p)) is None


def test_hash_must_be_hex(tmp_path):
    with pytest.raises(ValueError):
        thumbnail_path(tmp_path, "../../etc/passwd")
