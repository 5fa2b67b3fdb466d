"""Sidecars as the other tools write them (issue 20, item 2).

``IMG_1.xmp`` (Lightroom, Capture One) and ``IMG_1.jpg.xmp`` (darktable, digiKam) are both read
and written; a basename sidecar shared by ``photo.jpg`` and ``photo.png`` is nobody's, so their
tags never mix; a sidecar keeps its permissions.  Real files on disk, the real importer and
exporter, a real SQLite library, and exiftool where it is installed.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import stat
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image

from tagassist import app
from tagassist.library import Library
from tagassist.media import sidecar_names, xmp
from tagassist.media.errors import MediaError
from tagassist.media.importer import import_folder
from tagassist.media.sidecar_export import export_sidecars
from tests.jobs import drive
from tests.media.hostile import BILLION_LAUGHS

EXIFTOOL = shutil.which("exiftool")
needs_exiftool = pytest.mark.skipif(EXIFTOOL is None, reason="exiftool not installed")

# A Lightroom Classic sidecar of a photo: develop settings, rating, title, creator, old keywords.
LIGHTROOM = """<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="Adobe XMP Core 7.0-c000 1.000000">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"
    xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"
    xmlns:lr="http://ns.adobe.com/lightroom/1.0/"
    xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/"
   xmp:Rating="4"
   xmp:Label="Red"
   xmp:ModifyDate="2024-05-01T10:11:12+02:00"
   photoshop:DateCreated="2024-04-30T18:00:00"
   xmpMM:DocumentID="xmp.did:0123456789abcdef"
   crs:Version="15.3"
   crs:ProcessVersion="11.0"
   crs:Exposure2012="+0.65"
   crs:Contrast2012="-12"
   crs:WhiteBalance="As Shot"
   crs:HasSettings="True">
   <dc:title>
    <rdf:Alt>
     <rdf:li xml:lang="x-default">Harbour at dusk</rdf:li>
    </rdf:Alt>
   </dc:title>
   <dc:creator>
    <rdf:Seq>
     <rdf:li>Ann Example</rdf:li>
    </rdf:Seq>
   </dc:creator>
   <dc:subject>
    <rdf:Bag>
     <rdf:li>old keyword</rdf:li>
    </rdf:Bag>
   </dc:subject>
   <lr:hierarchicalSubject>
    <rdf:Bag>
     <rdf:li>old|keyword</rdf:li>
    </rdf:Bag>
   </lr:hierarchicalSubject>
   <crs:ToneCurvePV2012>
    <rdf:Seq>
     <rdf:li>0, 0</rdf:li>
     <rdf:li>128, 140</rdf:li>
     <rdf:li>255, 255</rdf:li>
    </rdf:Seq>
   </crs:ToneCurvePV2012>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
"""

XXE = """<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF
 xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description
 xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:subject><rdf:Bag><rdf:li>&xxe;</rdf:li>
</rdf:Bag></dc:subject></rdf:Description></rdf:RDF></x:xmpmeta>
"""

KEYWORDS = (xmp.NS_DC + "subject", xmp.NS_LR + "hierarchicalSubject")


def keyword_sidecar(*subjects: str, hierarchical: tuple[str, ...] = ()) -> str:
    items = "".join(f"<rdf:li>{s}</rdf:li>" for s in subjects)
    paths = "".join(f"<rdf:li>{s}</rdf:li>" for s in hierarchical)
    hier = (f"<lr:hierarchicalSubject><rdf:Bag>{paths}</rdf:Bag></lr:hierarchicalSubject>"
            if hierarchical else "")
    return ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
            'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
            'rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:lr="http://ns.adobe.com/lightroom/1.0/"><dc:subject><rdf:Bag>'
            f"{items}</rdf:Bag></dc:subject>{hier}</rdf:Description></rdf:RDF></x:xmpmeta>")


_made = itertools.count(1)


def photo(path: Path) -> Path:
    """A small real image, in the format its extension names, unlike every other one made
    (the same pixels twice would be one item with two paths)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    n = next(_made)
    Image.new("RGB", (64, 48), (n % 256, (n // 256) % 256, 77)).save(path)
    return path


class Lib:
    """A real library on disk, and the steps the tests take with it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.library = Library.open(root / "tagassist.db")
        self.user_id = self.library.users.get_or_create("ann").id

    def import_(self, folder: Path, may_fail: tuple[str, ...] = ()):
        """Import ``folder``; only the files named in ``may_fail`` may be problems."""
        report, _ = drive(import_folder(self.library, folder, user_id=self.user_id,
                                     thumbnails_dir=self.root / "thumbs",
                                     cancel=threading.Event()))
        problems = [p for p in report.problems if Path(p.path).name not in may_fail]
        assert problems == [], problems
        return report

    def tag(self, path: Path, *tags: str) -> None:
        app.retag(self.library, self.user_id, [self.item(path).id], add=list(tags))

    def tags(self, path: Path) -> set[str]:
        return {t.path for t in self.library.assignments.tags_of(self.item(path).id)}

    def item(self, path: Path):
        item = self.library.items.by_path(str(path))
        assert item is not None, path
        return item

    def export(self, convention: str = "auto"):
        return drive(export_sidecars(self.library, convention=convention))[0]


@pytest.fixture
def libs(tmp_path):
    """Real libraries made on demand (``libs("first")``), all closed at the end."""
    opened: list[Lib] = []

    def make(name: str) -> Lib:
        lib = Lib(tmp_path / "libraries" / name)
        opened.append(lib)
        return lib

    yield make
    for lib in opened:
        lib.library.close()


def exiftool_keywords(sidecar: Path) -> tuple[list[str], list[str]]:
    out = subprocess.run(
        [EXIFTOOL, "-j", "-charset", "utf8", "-XMP-dc:Subject", "-XMP-lr:HierarchicalSubject",
         str(sidecar)], capture_output=True, text=True, check=True, timeout=60)
    data = json.loads(out.stdout)[0]

    def as_list(v) -> list[str]:
        return [] if v is None else [str(x) for x in (v if isinstance(v, list) else [v])]

    return as_list(data.get("Subject")), as_list(data.get("HierarchicalSubject"))


def exiftool_everything(sidecar: Path) -> dict:
    """Every XMP tag exiftool sees in a sidecar, by group and name."""
    out = subprocess.run([EXIFTOOL, "-j", "-G1", "-struct", "-XMP:all", str(sidecar)],
                         capture_output=True, text=True, check=True, timeout=60)
    data = json.loads(out.stdout)[0]
    data.pop("SourceFile")
    return data


def _norm(el: ET.Element) -> tuple:
    return (el.tag, tuple(sorted(el.attrib.items())), (el.text or "").strip(),
            tuple(_norm(c) for c in el))


def other_fields(sidecar: Path) -> tuple:
    """Every property of the sidecar except the two keyword ones, whitespace aside."""
    root = ET.fromstring(sidecar.read_bytes())
    return tuple(
        (tuple(sorted(d.attrib.items())),
         tuple(_norm(c) for c in d if c.tag not in KEYWORDS))
        for d in root.iter(xmp.NS_RDF + "Description"))


# -- reading both conventions ----------------------------------------------------------------


def test_import_reads_both_conventions(tmp_path, libs):
    folder = tmp_path / "photos"
    lightroom, digikam = photo(folder / "IMG_1.jpg"), photo(folder / "IMG_2.jpg")
    (folder / "IMG_1.xmp").write_text(LIGHTROOM, encoding="utf-8")
    (folder / "IMG_2.jpg.xmp").write_text(keyword_sidecar("harbour", "boats"), encoding="utf-8")
    lib = libs("first")
    lib.import_(folder)
    assert lib.tags(lightroom) == {"old keyword", "old|keyword"}
    assert lib.tags(digikam) == {"harbour", "boats"}


def test_filename_sidecar_wins_when_both_exist(tmp_path, libs):
    folder = tmp_path / "photos"
    p = photo(folder / "IMG_1.jpg")
    (folder / "IMG_1.xmp").write_text(keyword_sidecar("from-lightroom"), encoding="utf-8")
    (folder / "IMG_1.jpg.xmp").write_text(keyword_sidecar("from-digikam"), encoding="utf-8")
    lib = libs("first")
    lib.import_(folder)
    assert lib.tags(p) == {"from-digikam"}


def test_darktables_own_tags_are_not_imported_and_stay_in_its_sidecar(tmp_path, libs):
    """darktable files its own bookkeeping under "darktable|" (format, changed, exported):
    a library of darktable users would otherwise fill with them, and a rewrite of the keyword
    lists must not take them from darktable."""
    folder = tmp_path / "photos"
    p = photo(folder / "IMG_1.jpg")
    side = folder / "IMG_1.jpg.xmp"
    side.write_text(keyword_sidecar("statue", hierarchical=(
        "darktable|format|jpg", "darktable|changed", "places|Germany|Potsdam")),
        encoding="utf-8")
    lib = libs("first")
    lib.import_(folder)
    assert lib.tags(p) == {"statue", "places|Germany|Potsdam"}
    lib.tag(p, "moon")
    lib.export()
    info = xmp.parse_xmp(side.read_bytes())
    assert {"darktable|format|jpg", "darktable|changed", "places|Germany|Potsdam"} <= set(
        info.hierarchical)
    assert {"moon", "statue"} <= set(info.subjects)


# -- writing the convention chosen -----------------------------------------------------------


@pytest.mark.parametrize(("convention", "name"), [
    ("auto", "IMG_1.jpg.xmp"), ("filename", "IMG_1.jpg.xmp"), ("basename", "IMG_1.xmp")])
def test_export_names_new_sidecars_by_convention(tmp_path, libs, convention, name):
    folder = tmp_path / "photos"
    p = photo(folder / "IMG_1.jpg")
    original = p.read_bytes()
    lib = libs("first")
    lib.import_(folder)
    lib.tag(p, "places|Norway|Bergen", "café crème")
    report = lib.export(convention)
    sidecar = folder / name
    assert report.written == [str(sidecar)] and report.problems == []
    assert sorted(os.listdir(folder)) == sorted(["IMG_1.jpg", name])
    assert p.read_bytes() == original  # the photo is never touched

    again = libs("fresh")  # a fresh import reads back what was written
    again.import_(folder)
    assert again.tags(p) == {"places|Norway|Bergen", "café crème"}


@needs_exiftool
@pytest.mark.parametrize("convention", ["basename", "filename"])
def test_exiftool_reads_the_keywords_we_wrote(tmp_path, libs, convention):
    folder = tmp_path / "photos"
    p = photo(folder / "IMG_1.jpg")
    lib = libs("first")
    lib.import_(folder)
    lib.tag(p, "places|Norway|Bergen", "Grüße & <more>")
    (sidecar,) = map(Path, lib.export(convention).written)
    assert sidecar.name == {"basename": "IMG_1.xmp", "filename": "IMG_1.jpg.xmp"}[convention]
    flat, hierarchical = exiftool_keywords(sidecar)
    assert sorted(flat) == sorted(["Bergen", "Grüße & <more>"])
    assert hierarchical == ["places|Norway|Bergen"]


def test_auto_keeps_the_existing_sidecars_name_and_raw_gets_the_basename(tmp_path):
    folder = tmp_path / "photos"
    lightroom, digikam, fresh = (photo(folder / n) for n in ("a.jpg", "b.jpg", "c.jpg"))
    (folder / "a.xmp").write_text(keyword_sidecar("x"), encoding="utf-8")
    (folder / "b.jpg.xmp").write_text(keyword_sidecar("x"), encoding="utf-8")
    raw = folder / "IMG_9.CR2"
    raw.write_bytes(b"II*\x00 not really a raw")
    assert sidecar_names.sidecar_target(lightroom) == folder / "a.xmp"
    assert sidecar_names.sidecar_target(digikam) == folder / "b.jpg.xmp"
    assert sidecar_names.sidecar_target(fresh) == folder / "c.jpg.xmp"
    assert sidecar_names.sidecar_target(raw) == folder / "IMG_9.xmp"  # as Lightroom names it
    assert sidecar_names.sidecar_target(raw, "filename") == folder / "IMG_9.CR2.xmp"
    assert xmp.write_sidecar(raw, ["k"]) == folder / "IMG_9.xmp"
    assert xmp.read_sidecar(raw).subjects == ("k",)
    with pytest.raises(ValueError, match="use one of auto, basename, filename"):
        sidecar_names.sidecar_target(fresh, "lightroom")


def test_lightroom_sidecar_keeps_every_other_field(tmp_path, libs):
    folder = tmp_path / "photos"
    p = photo(folder / "IMG_1.jpg")
    sidecar = folder / "IMG_1.xmp"
    sidecar.write_text(LIGHTROOM, encoding="utf-8")
    before = other_fields(sidecar)
    before_tool = exiftool_everything(sidecar) if EXIFTOOL else None
    lib = libs("first")
    lib.import_(folder)
    lib.tag(p, "places|Norway|Bergen")
    report = lib.export("auto")
    assert report.written == [str(sidecar)]  # written where Lightroom will look
    assert not (folder / "IMG_1.jpg.xmp").exists()
    assert other_fields(sidecar) == before
    info = xmp.read_sidecar(p)
    assert info.title == "Harbour at dusk"
    # the file's keywords came in at import and are the library's now, so they stay
    assert set(info.subjects) == {"Bergen", "old keyword", "keyword"}
    assert set(info.hierarchical) == {"places|Norway|Bergen", "old|keyword"}
    if EXIFTOOL:
        after = exiftool_everything(sidecar)
        changed = {k for k in before_tool.keys() | after.keys()
                   if before_tool.get(k) != after.get(k)}
        assert changed == {"XMP-dc:Subject", "XMP-lr:HierarchicalSubject"}
        assert after["XMP-crs:Exposure2012"] == before_tool["XMP-crs:Exposure2012"]
        assert after["XMP-xmp:Rating"] == 4 and after["XMP-dc:Title"] == "Harbour at dusk"


def test_choosing_the_other_name_copies_the_sidecar_and_updates_both(tmp_path, libs):
    folder = tmp_path / "photos"
    p = photo(folder / "IMG_1.jpg")
    lightroom = folder / "IMG_1.xmp"
    lightroom.write_text(LIGHTROOM, encoding="utf-8")
    before = other_fields(lightroom)
    lib = libs("first")
    lib.import_(folder)
    lib.tag(p, "new")
    report = lib.export("filename")
    digikam = folder / "IMG_1.jpg.xmp"
    assert report.written == [str(digikam), str(lightroom)]
    assert other_fields(digikam) == before  # rating, title, develop settings came along
    assert other_fields(lightroom) == before
    assert xmp.parse_xmp(digikam.read_bytes()) == xmp.parse_xmp(lightroom.read_bytes())
    assert "new" in xmp.read_sidecar(p).subjects


# -- a basename shared by several files ------------------------------------------------------


def shared_folder(tmp_path: Path) -> tuple[Path, Path, Path, Path]:
    folder = tmp_path / "photos"
    jpg, png = photo(folder / "photo.jpg"), photo(folder / "photo.png")
    shared = folder / "photo.xmp"
    shared.write_text(keyword_sidecar("whose-is-this"), encoding="utf-8")
    return folder, jpg, png, shared


def test_a_shared_basename_sidecar_is_read_for_neither(tmp_path, libs):
    folder, jpg, png, shared = shared_folder(tmp_path)
    assert sidecar_names.find_sidecar(jpg) is None and sidecar_names.find_sidecar(png) is None
    lib = libs("first")
    lib.import_(folder)
    assert lib.tags(jpg) == set() and lib.tags(png) == set()


@pytest.mark.parametrize("convention", ["auto", "basename", "filename"])
def test_shared_stem_never_mixes_tags(tmp_path, libs, convention):
    folder, jpg, png, shared = shared_folder(tmp_path)
    untouched = shared.read_bytes()
    lib = libs("first")
    lib.import_(folder)
    lib.tag(jpg, "red")
    lib.tag(png, "green")
    report = lib.export(convention)
    assert sorted(report.written) == [str(folder / "photo.jpg.xmp"),
                                      str(folder / "photo.png.xmp")]
    assert report.problems == []
    assert shared.read_bytes() == untouched  # nobody's, so nobody writes it
    assert xmp.read_sidecar(jpg).subjects == ("red",)
    assert xmp.read_sidecar(png).subjects == ("green",)

    again = libs("fresh")
    again.import_(folder)
    assert again.tags(jpg) == {"red"} and again.tags(png) == {"green"}


def test_shared_stem_without_a_sidecar_yet_never_gets_one(tmp_path, libs):
    folder = tmp_path / "photos"
    jpg, png = photo(folder / "photo.jpg"), photo(folder / "photo.png")
    lib = libs("first")
    lib.import_(folder)
    lib.tag(jpg, "red")
    lib.tag(png, "green")
    report = lib.export("basename")
    assert len(report.written) == 2 and not (folder / "photo.xmp").exists()
    again = libs("fresh")
    again.import_(folder)
    assert again.tags(jpg) == {"red"} and again.tags(png) == {"green"}


def test_raw_plus_jpeg_the_basename_sidecar_is_the_raws(tmp_path, libs):
    """Lightroom's IMG_2.xmp beside IMG_2.CR2 + IMG_2.JPG describes the RAW, never the JPEG."""
    folder = tmp_path / "photos"
    jpg = photo(folder / "IMG_2.jpg")
    raw = folder / "IMG_2.CR2"
    raw.write_bytes(b"II*\x00 not a decodable raw")  # the importer may report it
    lightroom = folder / "IMG_2.xmp"
    lightroom.write_text(keyword_sidecar("raw-only"), encoding="utf-8")
    untouched = lightroom.read_bytes()
    assert sidecar_names.find_sidecar(raw) == lightroom and sidecar_names.find_sidecar(jpg) is None
    assert sidecar_names.sidecar_target(raw) == lightroom
    for convention in sidecar_names.CONVENTIONS[1:]:
        assert sidecar_names.sidecar_target(jpg, convention) == folder / "IMG_2.jpg.xmp"

    lib = libs("first")
    lib.import_(folder, may_fail=(raw.name,))
    assert lib.tags(jpg) == set()
    lib.tag(jpg, "jpeg-tag")
    for convention in sidecar_names.CONVENTIONS:
        assert lib.export(convention).written == [str(folder / "IMG_2.jpg.xmp")]
    assert lightroom.read_bytes() == untouched
    assert xmp.read_sidecar(raw).subjects == ("raw-only",)

    (folder / "IMG_2.DNG").write_bytes(b"II*\x00 a second raw")  # two RAWs: nobody's
    assert sidecar_names.find_sidecar(raw) is None
    assert sidecar_names.sidecar_target(raw) == folder / "IMG_2.CR2.xmp"


def test_stems_are_compared_ignoring_case_and_listings_follow_changes(tmp_path):
    folder = tmp_path / "photos"
    jpg = photo(folder / "photo.jpg")
    (folder / "photo.xmp").write_text(keyword_sidecar("mine"), encoding="utf-8")
    old = time.time() - 3600
    os.utime(folder, (old, old))  # an old folder: its listing is kept between questions
    assert xmp.read_sidecar(jpg).subjects == ("mine",)
    photo(folder / "Photo.PNG")  # a second file with that stem, another case
    assert sidecar_names.find_sidecar(jpg) is None
    (folder / "Photo.PNG").unlink()
    assert xmp.read_sidecar(jpg).subjects == ("mine",)
    (folder / "photo.txt").write_text("notes")  # documents do not claim sidecars
    (folder / "photo.jpg.json").write_text("{}")
    assert xmp.read_sidecar(jpg).subjects == ("mine",)


def test_cli_export_xmp_sidecar_option_on_a_shared_stem(tmp_path):
    folder, jpg, png, shared = shared_folder(tmp_path)
    untouched = shared.read_bytes()
    library = tmp_path / "cli-library"

    def cli(*args: str) -> str:
        proc = subprocess.run([sys.executable, "-m", "tagassist", *args, "--library",
                               str(library), "--user", "ann"],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    cli("import", str(folder), "--no-progress")
    cli("tag", str(jpg), "--add", "red")
    cli("tag", str(png), "--add", "green")
    out = cli("export-xmp", "--sidecar", "basename", "--no-progress")
    assert out.strip() == "wrote 2 sidecars"
    assert shared.read_bytes() == untouched
    assert xmp.read_sidecar(jpg).subjects == ("red",)
    assert xmp.read_sidecar(png).subjects == ("green",)
    proc = subprocess.run([sys.executable, "-m", "tagassist", "export-xmp", "--sidecar", "x",
                           "--library", str(library)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2 and "invalid choice" in proc.stderr


# -- permissions ---------------------------------------------------------------------------


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
@pytest.mark.parametrize("mode", [0o600, 0o640, 0o644, 0o664, 0o444])
def test_an_existing_sidecar_keeps_its_mode(tmp_path, libs, mode):
    folder = tmp_path / "photos"
    p = photo(folder / "IMG_1.jpg")
    sidecar = folder / "IMG_1.xmp"
    sidecar.write_text(LIGHTROOM, encoding="utf-8")
    os.chmod(sidecar, mode)
    lib = libs("first")
    lib.import_(folder)
    lib.tag(p, "new")
    assert lib.export().written == [str(sidecar)]
    assert stat.S_IMODE(os.stat(sidecar).st_mode) == mode
    assert "new" in xmp.read_sidecar(p).subjects
    assert not [n for n in os.listdir(folder) if n.startswith(".tmp")]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
@pytest.mark.parametrize("umask", [0o022, 0o027, 0o002])
def test_a_new_sidecar_gets_a_new_files_mode(tmp_path, libs, umask):
    folder = tmp_path / "photos"
    p = photo(folder / "IMG_1.jpg")
    lib = libs("first")
    lib.import_(folder)
    lib.tag(p, "new")
    previous = os.umask(umask)
    try:
        (sidecar,) = lib.export().written
        plain = folder / "plain.txt"
        plain.write_text("a normal file")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(os.stat(sidecar).st_mode) == 0o666 & ~umask
    assert stat.S_IMODE(os.stat(sidecar).st_mode) == stat.S_IMODE(os.stat(plain).st_mode)


# -- hostile sidecars stay refused, under both names -----------------------------------------


@pytest.mark.parametrize("name", ["IMG_1.xmp", "IMG_1.jpg.xmp"])
@pytest.mark.parametrize("payload", [BILLION_LAUGHS, XXE.encode()], ids=["laughs", "xxe"])
def test_hostile_sidecars_are_refused_and_left_alone(tmp_path, libs, name, payload):
    folder = tmp_path / "photos"
    p = photo(folder / "IMG_1.jpg")
    sidecar = folder / name
    sidecar.write_bytes(payload)
    with pytest.raises(MediaError, match="XML bomb"):
        xmp.read_sidecar(p)
    lib = libs("first")
    report = lib.import_(folder)
    assert lib.tags(p) == set()
    assert any("sidecar ignored" in w.reason for w in report.warnings)
    lib.tag(p, "new")
    export = lib.export()
    assert export.written == []
    assert [path for path, _ in export.problems] == [str(p)]
    assert sidecar.read_bytes() == payload


# -- the setting -----------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path, monkeypatch):
    """The window's settings in a throwaway file, never the tester's own."""
    from PySide6.QtCore import QSettings

    from tagassist.ui import settings

    path = str(tmp_path / "settings.ini")
    monkeypatch.setattr(settings, "_store", lambda: QSettings(path, QSettings.Format.IniFormat))
    return settings


def test_the_setting_defaults_to_auto_and_is_remembered(store):
    assert store.sidecar_convention() == "auto"
    store.set_sidecar_convention("basename")
    assert store.sidecar_convention() == "basename"
    with pytest.raises(ValueError):
        store.set_sidecar_convention("lightroom")
    store._store().setValue("xmp/sidecar_convention", "garbage")  # a hand-edited file
    assert store.sidecar_convention() == "auto"


def test_the_dialog_shows_and_returns_the_convention(qtbot, store, tmp_path):
    from tagassist.ui.settings_dialog import SettingsDialog, SettingsState

    store.set_sidecar_convention("basename")
    state = SettingsState(users=["ann"], user="ann", library=tmp_path, database=tmp_path / "db",
                          cache=tmp_path, models_dir=tmp_path, device="CPU")
    assert state.sidecar_convention == "basename"  # the remembered one
    dialog = SettingsDialog(state)
    qtbot.addWidget(dialog)
    assert dialog.sidecars.currentData() == "basename"
    assert [dialog.sidecars.itemData(i) for i in range(dialog.sidecars.count())] == \
        list(sidecar_names.CONVENTIONS)
    dialog.sidecars.setCurrentIndex(dialog.sidecars.findData("filename"))
    assert dialog.choice().sidecar_convention == "filename"
