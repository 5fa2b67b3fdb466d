"""Interop with exiftool: our sidecars read there, its keywords read here."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from PIL import Image

from tagassist.media.photos import read_photo
from tagassist.media.xmp import write_sidecar

EXIFTOOL = shutil.which("exiftool")
pytestmark = [
    pytest.mark.exiftool,
    pytest.mark.skipif(EXIFTOOL is None, reason="exiftool not installed"),
]


def _as_list(v) -> list[str]:
    if v is None:
        return []
    return [str(x) for x in v] if isinstance(v, list) else [str(v)]


def test_exiftool_reads_our_sidecar(tmp_path):
    photo = tmp_path / "p.jpg"
    Image.new("RGB", (8, 8)).save(photo)
    flat = ["Köln", "a & b", "<x>", "sunset"]
    hier = ["places|Germany|Köln", "time|sunset"]
    side = write_sidecar(photo, flat, hier)
    out = subprocess.run(
        [EXIFTOOL, "-j", "-charset", "utf8", "-XMP-dc:Subject", "-XMP-lr:HierarchicalSubject",
         str(side)],
        capture_output=True, text=True, check=True, timeout=60,
    )
    data = json.loads(out.stdout)[0]
    assert _as_list(data.get("Subject")) == flat
    assert _as_list(data.get("HierarchicalSubject")) == hier


def test_we_read_exiftool_written_keywords(tmp_path):
    photo = tmp_path / "p.jpg"
    Image.new("RGB", (8, 8)).save(photo)
    subprocess.run(
        [EXIFTOOL, "-overwrite_original", "-charset", "iptc=UTF8", "-codedcharacterset=utf8",
         "-IPTC:Keywords+=iptc-only", "-IPTC:Keywords+=Grüße",
         "-XMP-dc:Subject+=xmp-only", "-XMP-dc:Subject+=Grüße",
         "-XMP-lr:HierarchicalSubject+=a|b|c", "-XMP-dc:Title=Exif title",
         "-DateTimeOriginal=2021:05:06 07:08:09", str(photo)],
        capture_output=True, check=True, timeout=60,
    )
    info = read_photo(photo)
    assert set(info.keywords) == {"iptc-only", "Grüße", "xmp-only"}
    assert info.hierarchical == ("a|b|c",)
    assert info.title == "Exif title"
    assert info.capture_time == "2021-05-06T07:08:09"
    assert info.warnings == ()
