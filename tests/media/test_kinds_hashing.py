"""Extension kinds, magic-byte sniffing, content hashing."""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image

from tagassist.media.errors import MediaError
from tagassist.media.hashing import content_hash
from tagassist.media.kinds import Sniffed, kind_of, sniff_kind


@pytest.mark.parametrize(
    "name,kind",
    [("a.JPG", "photo"), ("a.tiff", "photo"), ("a.webp", "photo"), ("a.Md", "document"),
     ("a.htm", "document"), ("a.gif", None), ("a", None), ("a.jpg.xmp", None)],
)
def test_kind_of(name, kind):
    assert kind_of(name) == kind


def test_sniff(tmp_path):
    buf = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buf, "PNG")
    (tmp_path / "x.jpg").write_bytes(buf.getvalue())
    wrong = Sniffed("photo", "PNG", "wrong extension: file is PNG data")
    assert sniff_kind(tmp_path / "x.jpg") == wrong
    (tmp_path / "x.png").write_bytes(buf.getvalue())
    assert sniff_kind(tmp_path / "x.png") == Sniffed("photo", "PNG")
    (tmp_path / "t.md").write_text("# hi")
    assert sniff_kind(tmp_path / "t.md") == Sniffed("document", "MARKDOWN")
    (tmp_path / "t.jpg").write_text("# hi")
    with pytest.raises(MediaError, match="not an image"):
        sniff_kind(tmp_path / "t.jpg")
    with pytest.raises(MediaError, match="file not found"):
        sniff_kind(tmp_path / "missing.jpg")


def test_content_hash_streams_and_survives_rename(tmp_path):
    data = bytes(range(256)) * 10_000  # > 2 chunks
    a = tmp_path / "a.bin"
    a.write_bytes(data)
    h = content_hash(a)
    assert h == hashlib.blake2b(data, digest_size=16).hexdigest() and len(h) == 32
    a.rename(tmp_path / "b.jpg")
    assert content_hash(tmp_path / "b.jpg") == h
    with pytest.raises(MediaError, match="is a directory"):
        content_hash(tmp_path)
