"""XMP parsing and sidecar writing."""

from __future__ import annotations

import os

import pytest

from tagassist.media.errors import MediaError
from tagassist.media.xmp import find_sidecar, parse_xmp, read_sidecar, write_sidecar
from tests.media.hostile import BILLION_LAUGHS

FLAT = ["Köln", "a & b", "<tag>", 'quote "x"', "emoji 🎉", "עברית"]
HIER = ["places|Germany|Köln", "misc|a & b|<tag>"]


def test_round_trip_unicode_and_escaping(tmp_path):
    photo = tmp_path / "p.jpg"
    photo.write_bytes(b"not touched")
    side = write_sidecar(photo, FLAT, HIER)
    assert side == tmp_path / "p.jpg.xmp"
    assert photo.read_bytes() == b"not touched"
    info = read_sidecar(photo)
    assert info is not None
    assert list(info.subjects) == FLAT and list(info.hierarchical) == HIER
    text = side.read_text("utf-8")
    assert 'xmlns:dc="http://purl.org/dc/elements/1.1/"' in text
    assert 'xmlns:lr="http://ns.adobe.com/lightroom/1.0/"' in text
    assert "a &amp; b" in text and "&lt;tag&gt;" in text
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".tmp")]  # no temp left


def test_rewrite_replaces_keywords_and_keeps_other_properties(tmp_path):
    photo = tmp_path / "IMG_1.jpg"
    side = tmp_path / "IMG_1.xmp"  # Lightroom-style name: we write into it
    side.write_text(
        '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmp:Rating="4">'
        "<dc:subject><rdf:Bag><rdf:li>old</rdf:li></rdf:Bag></dc:subject>"
        '<dc:title><rdf:Alt><rdf:li xml:lang="x-default">Keep me</rdf:li></rdf:Alt></dc:title>'
        "</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end=\"w\"?>",
        encoding="utf-8",
    )
    assert write_sidecar(photo, ["new"], ["a|b"]) == side
    info = read_sidecar(photo)
    assert info.subjects == ("new",) and info.hierarchical == ("a|b",)
    assert info.title == "Keep me"
    assert 'xmp:Rating="4"' in side.read_text("utf-8")


def test_prefers_ext_xmp_when_both_exist(tmp_path):
    photo = tmp_path / "p.jpg"
    write_sidecar(photo, ["one"])
    (tmp_path / "p.xmp").write_text("not xml")
    assert find_sidecar(photo) == tmp_path / "p.jpg.xmp"
    assert read_sidecar(photo).subjects == ("one",)


def test_no_sidecar_is_none(tmp_path):
    assert read_sidecar(tmp_path / "nothing.jpg") is None


def test_xml_bomb_is_refused_quickly(tmp_path):
    with pytest.raises(MediaError, match="XML bomb"):
        parse_xmp(BILLION_LAUGHS)


def test_garbage_sidecar_is_never_overwritten(tmp_path):
    photo = tmp_path / "p.jpg"
    side = tmp_path / "p.jpg.xmp"
    side.write_bytes(b"\x00garbage<<")
    with pytest.raises(MediaError, match="left untouched"):
        write_sidecar(photo, ["x"])
    assert side.read_bytes() == b"\x00garbage<<"


@pytest.mark.parametrize("data", [b"", b"<a>", b"\xff\xfe\x00", "<x:y/>"])
def test_parse_errors_are_media_errors(data):
    with pytest.raises(MediaError):
        parse_xmp(data)


def test_attribute_dates_and_simple_values():
    info = parse_xmp(
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" '
        'photoshop:DateCreated="2022-01-10T15:15:44.31"/></rdf:RDF>'
    )
    assert info.created == "2022-01-10T15:15:44.31" and info.subjects == ()
