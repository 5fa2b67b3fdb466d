"""Keywords TagAssist writes, read by exiftool, for every photo format and both sidecar names;
sidecars as Lightroom and darktable write them keep every other field (issue 20, item 2).

TagAssist never writes into a photo (``xmp.write_sidecars``: "Writing never touches the
photo"), so for every format the route is the sidecar: the real importer, a tag, the real
exporter, then exiftool.  exiftool finds the sidecar the way the other tools do, from the
photo's name (``-srcfile %d%f.xmp`` for Lightroom's ``IMG_1.xmp``, ``%d%f.%e.xmp`` for
darktable's ``IMG_1.CR2.xmp``), so a wrong name fails as surely as a wrong keyword.

Formats: JPEG, PNG, TIFF, HEIC, AVIF, DNG, and real Canon CR2 and Sony ARW files.  NEF, ORF,
RW2, RAF and CR3 files with image data were not found (tests/data/formats/raw/README.md): for
them a DNG carries the name -- the sidecar's name and content depend on the extension only.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image

from tagassist.media import xmp
from tests.media.test_sidecar_conventions import LIGHTROOM, Lib

EXIFTOOL = shutil.which("exiftool")
pytestmark = [pytest.mark.exiftool,
              pytest.mark.skipif(EXIFTOOL is None, reason="exiftool not installed")]

FORMATS_DIR = Path(__file__).resolve().parents[1] / "data" / "formats"
TAGS = ("places|Germany|Köln", "a & b", "<x> \"quoted\"", "Grüße", "nature|sky|sunset")
FLAT = sorted({t.split("|")[-1] for t in TAGS}, key=str.casefold)
HIERARCHICAL = sorted((t for t in TAGS if "|" in t), key=str.casefold)
PATTERNS = {"basename": "%d%f.xmp", "filename": "%d%f.%e.xmp"}
# Element names in exiftool's -X listing.
XMP_DC, XMP_LR = "{http://ns.exiftool.org/XMP/XMP-dc/1.0/}", "{http://ns.exiftool.org/XMP/XMP-lr/1.0/}"
RDF_ABOUT = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about"


def _pillow(fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 90, 200)).save(buf, fmt)
    return buf.getvalue()


SOURCES = {
    "jpg": lambda: _pillow("JPEG"),
    "png": lambda: _pillow("PNG"),
    "tif": lambda: _pillow("TIFF"),
    "HEIC": lambda: (FORMATS_DIR / "real_iphone_xs.heic").read_bytes(),
    "avif": lambda: (FORMATS_DIR / "real_hopper.avif").read_bytes(),
    "dng": lambda: (FORMATS_DIR / "generated_preview.dng").read_bytes(),
    "CR2": lambda: (FORMATS_DIR / "raw" / "canon_eos30d_cropped.cr2").read_bytes(),
    "ARW": lambda: (FORMATS_DIR / "raw" / "sony_a7r3_cropped.arw").read_bytes(),
    **{ext: (lambda: (FORMATS_DIR / "generated_nopreview.dng").read_bytes())
       for ext in ("NEF", "ORF", "RW2", "RAF", "CR3")},
}


@pytest.fixture
def lib(tmp_path):
    opened: list[Lib] = []

    def make(name: str) -> Lib:
        opened.append(Lib(tmp_path / "libraries" / name))
        return opened[-1]

    yield make
    for one in opened:
        one.library.close()


def exiftool_json(*args: str) -> dict:
    out = subprocess.run([EXIFTOOL, "-j", "-charset", "utf8", *args],
                         capture_output=True, text=True, check=True, timeout=60)
    return json.loads(out.stdout)[0]


def as_list(value) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return [] if value is None else [str(v) for v in values]


def xmp_dump(sidecar: Path) -> dict:
    """Every XMP property exiftool reads in a sidecar, structures kept, keyed by group:name."""
    data = exiftool_json("-G1", "-struct", "-XMP:all", str(sidecar))
    data.pop("SourceFile")
    return data


def rdf_dump(sidecar: Path) -> bytes:
    """exiftool's RDF/XML listing (-X) of the sidecar without its two keyword properties."""
    out = subprocess.run([EXIFTOOL, "-X", "-struct", "-XMP:all", str(sidecar)],
                         capture_output=True, check=True, timeout=60).stdout
    root = ET.fromstring(out)
    for desc in root:
        for prop in list(desc):
            if prop.tag in (XMP_DC + "Subject", XMP_LR + "HierarchicalSubject"):
                desc.remove(prop)
        desc.attrib.pop(RDF_ABOUT, None)  # the file's path
    for el in root.iter():  # the layout between elements is no field
        el.tail = (el.tail or "").strip() or None
        el.text = (el.text or "").strip() or None
    return ET.tostring(root)


@pytest.mark.parametrize("convention", ["basename", "filename"])
@pytest.mark.parametrize("ext", list(SOURCES))
def test_exiftool_reads_our_keywords(tmp_path, lib, ext, convention):
    folder = tmp_path / "photos"
    folder.mkdir()
    photo = folder / f"IMG_1.{ext}"
    photo.write_bytes(SOURCES[ext]())
    original = photo.read_bytes()
    first = lib("first")
    first.import_(folder)
    first.tag(photo, *TAGS)
    report = first.export(convention)

    name = {"basename": "IMG_1.xmp", "filename": f"IMG_1.{ext}.xmp"}[convention]
    assert report.written == [str(folder / name)] and report.problems == []
    assert photo.read_bytes() == original  # the photo itself is never written
    # exiftool finds the sidecar from the photo's name, as Lightroom or darktable would.
    found = exiftool_json("-srcfile", PATTERNS[convention], "-XMP-dc:Subject",
                          "-XMP-lr:HierarchicalSubject", str(photo))
    assert found["SourceFile"] == str(folder / name)
    assert as_list(found.get("Subject")) == FLAT
    assert as_list(found.get("HierarchicalSubject")) == HIERARCHICAL

    fresh = lib("fresh")  # and TagAssist reads back what it wrote
    fresh.import_(folder)
    assert fresh.tags(photo) == set(TAGS)


# darktable 4.x's sidecar of a CR2: its own namespace with the edit history, masks, colour
# labels, rating, its automatic "darktable|..." tags and the person's.
DARKTABLE = """<?xml version="1.0" encoding="UTF-8"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 4.4.0-Exiv2">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:exif="http://ns.adobe.com/exif/1.0/"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:lr="http://ns.adobe.com/lightroom/1.0/"
    xmlns:darktable="http://darktable.sf.net/"
   exif:DateTimeOriginal="2008:02:16 13:51:56"
   xmp:Rating="3"
   xmpMM:DerivedFrom="IMG_0848.CR2"
   darktable:import_timestamp="63842346781000000"
   darktable:change_timestamp="63842346900000000"
   darktable:export_timestamp="-1"
   darktable:print_timestamp="-1"
   darktable:xmp_version="5"
   darktable:raw_params="0"
   darktable:auto_presets_applied="1"
   darktable:history_end="3"
   darktable:iop_order_version="4"
   darktable:history_basic_hash="5b1f3c2a9d0e4f6a8b7c6d5e4f3a2b1c"
   darktable:history_auto_hash="0f1e2d3c4b5a69788796a5b4c3d2e1f0"
   darktable:history_current_hash="c0ffee00c0ffee00c0ffee00c0ffee00">
   <darktable:masks_history>
    <rdf:Seq/>
   </darktable:masks_history>
   <darktable:history>
    <rdf:Seq>
     <rdf:li
      darktable:num="0"
      darktable:operation="rawprepare"
      darktable:enabled="1"
      darktable:modversion="2"
      darktable:params="000000000000000000000000000000000000000000000000ff3f0000"
      darktable:multi_name=""
      darktable:multi_priority="0"
      darktable:blendop_version="13"
      darktable:blendop_params="gz10eJxjYIAACQYYOOHEgAYYMAAAdH4Ckg=="/>
     <rdf:li
      darktable:num="1"
      darktable:operation="exposure"
      darktable:enabled="1"
      darktable:modversion="6"
      darktable:params="00000000000080b9333333400000484200000000"
      darktable:multi_name=""
      darktable:multi_priority="0"
      darktable:blendop_version="13"
      darktable:blendop_params="gz10eJxjYIAACQYYOOHEgAYYMAAAdH4Ckg=="/>
     <rdf:li
      darktable:num="2"
      darktable:operation="filmicrgb"
      darktable:enabled="1"
      darktable:modversion="6"
      darktable:params="gz04eJxjZGBgkGAAgRNODGiAEV0AAGQHAxg="
      darktable:multi_name="sky"
      darktable:multi_priority="1"
      darktable:blendop_version="13"
      darktable:blendop_params="gz10eJxjYIAACQYYOOHEgAYYMAAAdH4Ckg=="/>
    </rdf:Seq>
   </darktable:history>
   <darktable:colorlabels>
    <rdf:Seq>
     <rdf:li>0</rdf:li>
     <rdf:li>3</rdf:li>
    </rdf:Seq>
   </darktable:colorlabels>
   <dc:creator>
    <rdf:Seq>
     <rdf:li>Ann Example</rdf:li>
    </rdf:Seq>
   </dc:creator>
   <dc:rights>
    <rdf:Alt>
     <rdf:li xml:lang="x-default">CC BY 4.0</rdf:li>
    </rdf:Alt>
   </dc:rights>
   <dc:subject>
    <rdf:Bag>
     <rdf:li>statue</rdf:li>
     <rdf:li>cr2</rdf:li>
    </rdf:Bag>
   </dc:subject>
   <lr:hierarchicalSubject>
    <rdf:Bag>
     <rdf:li>darktable|format|cr2</rdf:li>
     <rdf:li>statue</rdf:li>
    </rdf:Bag>
   </lr:hierarchicalSubject>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
"""

STYLES = {  # style -> (sidecar text, its name beside IMG_0848.CR2)
    "lightroom": (LIGHTROOM, "IMG_0848.xmp"),
    "darktable": (DARKTABLE, "IMG_0848.CR2.xmp"),
}
KEYWORD_KEYS = {"XMP-dc:Subject", "XMP-lr:HierarchicalSubject"}


@pytest.mark.parametrize("style", list(STYLES))
def test_other_tools_sidecars_keep_every_other_field(tmp_path, lib, style):
    text, name = STYLES[style]
    folder = tmp_path / "photos"
    folder.mkdir()
    photo = folder / "IMG_0848.CR2"
    shutil.copyfile(FORMATS_DIR / "raw" / "canon_eos30d_cropped.cr2", photo)
    sidecar = folder / name
    sidecar.write_text(text, encoding="utf-8")
    before, before_rdf = xmp_dump(sidecar), rdf_dump(sidecar)
    assert len(before) > 10  # exiftool reads the style's own fields (history, develop...)

    first = lib("first")
    first.import_(folder)
    first.tag(photo, "places|Germany|Potsdam", "moon")
    report = first.export("auto")  # auto: the name of the sidecar already there
    assert report.written == [str(sidecar)] and report.problems == []
    assert sorted(p.name for p in folder.iterdir()) == sorted([photo.name, name])

    after = xmp_dump(sidecar)
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    assert changed == KEYWORD_KEYS
    assert rdf_dump(sidecar) == before_rdf
    flat, hierarchical = as_list(after["XMP-dc:Subject"]), as_list(
        after["XMP-lr:HierarchicalSubject"])
    # The sidecar's own keywords came in at import, so they are the library's tags now.
    assert {"Potsdam", "moon"} <= set(flat)
    assert "places|Germany|Potsdam" in hierarchical
    if style == "darktable":
        assert "darktable|format|cr2" in hierarchical
        assert [h["Operation"] for h in after["XMP-darktable:History"]] == [
            "rawprepare", "exposure", "filmicrgb"]
    assert xmp.parse_xmp(sidecar.read_bytes()).subjects == tuple(flat)
