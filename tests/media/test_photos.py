"""read_photo on images written by the tests with Pillow."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tagassist.media.errors import MediaError
from tagassist.media.photos import parse_capture_time, read_photo
from tagassist.media.xmp import write_sidecar
from tests.media.hostile import bomb_png, gps_exif


def test_exif_time_gps_and_camera(tmp_path):
    p = tmp_path / "paris.jpg"
    exif = gps_exif(48.8566, 2.3522, when="2024:07:13 21:30:05")
    Image.new("RGB", (64, 48), "red").save(p, exif=exif.tobytes())
    info = read_photo(p)
    assert (info.format, info.width, info.height) == ("JPEG", 64, 48)
    assert info.capture_time == "2024-07-13T21:30:05"
    assert info.gps == pytest.approx((48.8566, 2.3522), abs=1e-4)
    assert info.camera == "TestMake TestCam 1"
    assert info.warnings == ()


def test_southern_western_gps_is_negative(tmp_path):
    p = tmp_path / "rio.jpg"
    Image.new("RGB", (8, 8)).save(p, exif=gps_exif(-22.9068, -43.1729).tobytes())
    assert read_photo(p).gps == pytest.approx((-22.9068, -43.1729), abs=1e-4)


def test_capture_time_fallbacks_and_garbage(tmp_path):
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = "0000:00:00 00:00:00"
    exif.get_ifd(0x8769)[0x9004] = "2020:02:29 10:00:00"  # leap day: valid
    p = tmp_path / "a.jpg"
    Image.new("RGB", (8, 8)).save(p, exif=exif.tobytes())
    info = read_photo(p)
    assert info.capture_time == "2020-02-29T10:00:00"
    assert any("0000:00:00" in w for w in info.warnings)

    exif = Image.Exif()
    exif[0x0132] = "2019:01:02 03:04:05"
    Image.new("RGB", (8, 8)).save(p, exif=exif.tobytes())
    assert read_photo(p).capture_time == "2019-01-02T03:04:05"


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("2024:07:13 21:30:05", "2024-07-13T21:30:05"),
        ("2024-07-13T21:30:05.31-04:00", "2024-07-13T21:30:05"),
        (b"2024:07:13 21:30:05\x00", "2024-07-13T21:30:05"),
        ("2024:02:30 10:00:00", None),
        ("    :  :     :  :  ", None),
        ("0000:00:00 00:00:00", None),
        ("garbage", None),
        (12345, None),
        (None, None),
    ],
)
def test_parse_capture_time(raw, expected):
    assert parse_capture_time(raw) == expected


def test_embedded_xmp_and_sidecar_keywords_are_merged(tmp_path):
    packet = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:lr="http://ns.adobe.com/lightroom/1.0/">'
        "<dc:subject><rdf:Bag><rdf:li>beach</rdf:li><rdf:li>Köln</rdf:li></rdf:Bag></dc:subject>"
        "<lr:hierarchicalSubject><rdf:Bag><rdf:li>places|Köln</rdf:li></rdf:Bag>"
        "</lr:hierarchicalSubject>"
        '<dc:title><rdf:Alt><rdf:li xml:lang="x-default">A title</rdf:li></rdf:Alt></dc:title>'
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
    ).encode()
    p = tmp_path / "x.jpg"
    Image.new("RGB", (16, 16)).save(p, xmp=packet)
    info = read_photo(p)
    assert info.keywords == ("beach", "Köln")
    assert info.hierarchical == ("places|Köln",)
    assert info.title == "A title"

    write_sidecar(p, ["sunset", "beach"], ["time|sunset"])
    info = read_photo(p)
    assert info.keywords == ("beach", "Köln", "sunset")
    assert info.hierarchical == ("places|Köln", "time|sunset")


def test_cmyk_and_16_bit(tmp_path):
    Image.new("CMYK", (30, 20), (0, 255, 0, 0)).save(tmp_path / "c.jpg")
    a = (np.arange(30 * 20, dtype=np.uint16).reshape(20, 30) * 100)
    Image.fromarray(a).save(tmp_path / "s.png")
    assert read_photo(tmp_path / "c.jpg").width == 30
    assert read_photo(tmp_path / "s.png").height == 20


def test_decompression_bomb_does_not_allocate(tmp_path):
    p = tmp_path / "bomb.png"
    p.write_bytes(bomb_png(30000, 30000))
    with pytest.raises(MediaError, match=r"image too large \(decompression bomb: 30000x30000\)"):
        read_photo(p)


def test_non_image_is_refused(tmp_path):
    p = tmp_path / "doc.txt"
    p.write_text("hello")
    with pytest.raises(MediaError, match="not an image"):
        read_photo(p)
