"""Today's photo formats through the real importer: HEIC/HEIF, AVIF, camera RAW (DNG), and the
media kinds TagAssist does not read (video, PSD) listed as skipped.

The samples and their sources and licences: tests/data/formats/README.md.
"""

from __future__ import annotations

import io
import shutil
import struct
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tagassist.library import Library
from tagassist.media import heif, raw
from tagassist.media.errors import MediaError
from tagassist.media.kinds import kind_of, magic_format, sniff_kind, unsupported_media
from tagassist.media.photos import open_image, read_photo
from tagassist.media.preprocess import image_to_array
from tagassist.media.scan import ScanEntry, ScanProblem, walk
from tagassist.media.thumbnails import make_thumbnail, thumbnail_path
from tests.test_sample_library import run_import

DATA = Path(__file__).resolve().parents[1] / "data" / "formats"
IMAGE_MODEL = Path(__file__).resolve().parents[2] / "models" / "image-lite0"

# name in the import folder -> (sample, capture time, (lat, lon), camera)
PHOTOS = {
    "phone/IMG_0001.HEIC": ("generated_phone.heic", "2023-06-14T09:41:07",
                            (48.8582222, 2.2945), "TagAssist synthetic HEIC"),
    "phone/IMG_0002.heic": ("real_iphone_xs.heic", "2021-07-06T16:08:14",
                            (46.7547028, 33.3361056), "Apple iPhone XS"),
    "phone/grey.heif": ("real_grey_10bit.heif", None, None, None),
    "web/tokyo.avif": ("generated.avif", "2024-02-03T16:20:00", (35.6586111, 139.7011111),
                       "TagAssist synthetic AVIF"),
    "web/hopper.avif": ("real_hopper.avif", None, None, None),
    "camera/sydney.DNG": ("generated_preview.dng", "2022-10-01T07:15:30",
                          (-33.8569444, 151.2152778), "TagAssist synthetic DNG"),
    "camera/reykjavik.dng": ("generated_nopreview.dng", "2021-12-24T18:05:00",
                             (64.1463889, -21.9425), "TagAssist synthetic DNG"),
}
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00\x00\x00\x08free" + bytes(64)
MOV = b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  " + b"\x00\x00\x00\x08wide" + bytes(64)
PSD = b"8BPS\x00\x01" + bytes(6) + b"\x00\x03\x00\x00\x00\x40\x00\x00\x00\x40\x00\x08\x00\x03"


def jpeg_bytes(when: str | None = None, size: tuple[int, int] = (64, 48)) -> bytes:
    img = Image.new("RGB", size, (200, 120, 40))
    buf = io.BytesIO()
    exif = Image.Exif()
    if when:
        exif.get_ifd(0x8769)[0x9003] = when
    img.save(buf, "JPEG", **({"exif": exif.tobytes()} if when else {}))
    return buf.getvalue()


def make_folder(root: Path) -> Path:
    for name, (sample, *_rest) in PHOTOS.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(DATA / sample, root / name)
    files = {
        "phone/IMG_0003.HEIC": jpeg_bytes("2020:01:02 03:04:05"),  # a JPEG named .HEIC
        "phone/IMG_0002.MOV": MOV,  # the movie of a Live Photo (IMG_0002.heic): silent
        "phone/IMG_0004.MOV": MOV,  # a movie of its own
        "phone/IMG_0001.AAE": b"<?xml version='1.0'?><plist/>",  # Apple edit sidecar: silent
        "phone/clip.mp4": MP4,
        "camera/edit.psd": PSD,
        "camera/sydney.xmp": b"<x:xmpmeta xmlns:x='adobe:ns:meta/'/>",  # sidecar: silent
        "camera/.DS_Store": b"\x00\x00\x00\x01Bud1",  # hidden: silent
        "camera/Thumbs.db": b"\xd0\xcf\x11\xe0",  # not media: silent
        "camera/broken.mp4": b"x",  # a video name on no video data: silent
        "notes.txt": b"Holiday notes\n",
        "plain.jpg": jpeg_bytes("2019:05:06 07:08:09"),
    }
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


@pytest.fixture
def library(tmp_path):
    with Library.open(tmp_path / "lib" / "tagassist.db") as lib:
        yield lib


def test_samples_are_small():
    files = [p for p in DATA.iterdir() if p.is_file()]
    assert all(p.stat().st_size < 200_000 for p in files)
    assert sum(p.stat().st_size for p in files) < 1_000_000


def test_import_of_todays_formats(library, tmp_path):
    root = make_folder(tmp_path / "photos")
    thumbs = tmp_path / "thumbs"
    report = run_import(library, root, thumbs)

    assert report.problems == []
    skipped = {Path(p.path).relative_to(root).as_posix(): p.reason for p in report.skipped}
    assert skipped == {
        "camera/edit.psd": "Photoshop document (PSD) is not supported",
        "phone/IMG_0004.MOV": "video (QuickTime) is not supported",
        "phone/clip.mp4": "video (MP4) is not supported",
    }
    assert report.added == len(PHOTOS) + 3  # + the JPEG named .HEIC, plain.jpg, notes.txt

    for name, (sample, when, gps, camera) in PHOTOS.items():
        item = library.items.by_path(str(root / name))
        assert item is not None and item.kind == "photo", name
        assert item.capture_time == when, name
        if gps is None:
            assert item.lat is None and item.lon is None, name
        else:
            assert (item.lat, item.lon) == pytest.approx(gps, abs=1e-5), name
            assert item.place, name  # reverse geocoded like any JPEG
        assert item.camera == camera, name
        thumb = thumbnail_path(thumbs, item.content_hash)
        assert thumb.is_file(), name
        with Image.open(thumb) as t:
            assert t.format == "JPEG" and max(t.size) <= 256 and min(t.size) > 0, name
            if name == "camera/sydney.DNG":  # Orientation 6: the preview turned upright
                assert t.height > t.width
            colours = np.asarray(t.convert("RGB"), dtype=np.float64)
        if sample.startswith("generated"):
            # The drawn sky is blue: a thumbnail of the real picture, not of grey noise.
            top = colours[: colours.shape[0] // 6].reshape(-1, 3).mean(axis=0)
            if name != "camera/sydney.DNG":
                assert top[2] > top[0] + 40, (name, top)

    heic_jpeg = library.items.by_path(str(root / "phone/IMG_0003.HEIC"))
    assert heic_jpeg.capture_time == "2020-01-02T03:04:05"
    assert thumbnail_path(thumbs, heic_jpeg.content_hash).is_file()
    warned = {Path(w.path).name: w.reason for w in report.warnings}
    assert warned.get("IMG_0003.HEIC") == "wrong extension: file is JPEG data"

    # Re-import: nothing changed, nothing read again, the skipped files said again.
    again = run_import(library, root, thumbs)
    assert (again.added, again.unchanged) == (0, report.added)
    assert (again.problems, len(again.skipped)) == ([], 3)


def test_dimensions_and_formats():
    sizes = {"generated_phone.heic": ("HEIF", 640, 480), "generated.avif": ("AVIF", 480, 320),
             "real_iphone_xs.heic": ("HEIF", 1025, 900), "real_hopper.avif": ("AVIF", 128, 128),
             "generated_preview.dng": ("RAW", 96, 64), "generated_nopreview.dng": ("RAW", 192, 128)}
    for name, (fmt, w, h) in sizes.items():
        info = read_photo(DATA / name)
        assert (info.format, info.width, info.height) == (fmt, w, h), name
        assert info.warnings == (), name


def test_raw_pixels_come_from_the_preview_or_a_half_size_demosaic():
    img, sniffed = open_image(DATA / "generated_preview.dng")
    with img:
        assert sniffed.format == "RAW" and img.format == "JPEG" and img.size == (768, 512)
        assert img.getexif()[0x0112] == 6  # the RAW's orientation, for exif_transpose
    img, _ = open_image(DATA / "generated_nopreview.dng")
    with img:
        assert img.size == (96, 64) and img.mode == "RGB"
        assert img.getexif()[0x0112] == 1


@pytest.mark.parametrize("sample", [s for s, *_ in PHOTOS.values()])
def test_features_decode_through_the_same_function(sample):
    x = image_to_array(DATA / sample)
    assert x.shape == (3, 224, 224) and x.dtype == np.float32 and np.isfinite(x).all()
    assert float(x.std()) > 0.01 or sample == "real_grey_10bit.heif"


@pytest.mark.skipif(not (IMAGE_MODEL / "model.onnx").is_file(), reason="image model not built")
def test_image_model_runs_on_every_format():
    from tagassist.suggest.encoders import ImageEncoder

    encoder = ImageEncoder(IMAGE_MODEL, providers=["CPUExecutionProvider"])
    paths = [DATA / s for s, *_ in PHOTOS.values()]
    batch = encoder.encode_batch(paths)
    assert batch.failures == {} and len(batch.paths) == len(paths)
    assert np.isfinite(batch.embeddings).all() and batch.embeddings.shape[0] == len(paths)


def test_walk_reports_unsupported_media_and_ignores_the_rest(tmp_path):
    root = make_folder(tmp_path)
    (tmp_path / "anim.gif").write_bytes(b"GIF89a" + bytes(20))
    (tmp_path / "really_a_jpeg.gif").write_bytes(jpeg_bytes())
    found = list(walk(root))
    entries = {e.path.relative_to(root).as_posix() for e in found if isinstance(e, ScanEntry)}
    skipped = {p.path.name: p.reason for p in found if isinstance(p, ScanProblem)}
    assert all(p.skipped for p in found if isinstance(p, ScanProblem))
    assert skipped == {
        "anim.gif": "GIF image is not supported",
        "edit.psd": "Photoshop document (PSD) is not supported",
        "IMG_0004.MOV": "video (QuickTime) is not supported",
        "clip.mp4": "video (MP4) is not supported",
    }
    assert "really_a_jpeg.gif" in entries  # the bytes decide: a photo we read
    assert not {"camera/Thumbs.db", "camera/broken.mp4", "phone/IMG_0001.AAE"} & entries


def test_magic_numbers():
    def ftyp(major: bytes, *compatible: bytes) -> bytes:
        body = major + b"\x00\x00\x00\x00" + b"".join(compatible)
        return struct.pack(">I", 8 + len(body)) + b"ftyp" + body

    assert magic_format(ftyp(b"heic", b"mif1", b"heic")) == "HEIF"
    assert magic_format(ftyp(b"mif1", b"mif1", b"heic")) == "HEIF"
    assert magic_format(ftyp(b"mif1", b"mif1", b"miaf", b"avif")) == "AVIF"
    assert magic_format(ftyp(b"avif", b"mif1")) == "AVIF"
    assert magic_format(ftyp(b"crx ", b"crx ", b"isom")) == "RAW"  # Canon CR3
    assert magic_format(ftyp(b"isom", b"isom", b"mp41")) == "MP4"
    assert magic_format(ftyp(b"qt  ", b"qt  ")) == "QUICKTIME"
    assert magic_format(b"II*\x00\x10\x00\x00\x00CR\x02\x00") == "RAW"  # Canon CR2
    assert magic_format(b"IIRO\x08\x00\x00\x00") == "RAW"  # Olympus ORF
    assert magic_format(b"IIU\x00\x08\x00\x00\x00") == "RAW"  # Panasonic RW2
    assert magic_format(b"FUJIFILMCCD-RAW 0201") == "RAW"
    assert magic_format((DATA / "generated_preview.dng").read_bytes()[:4096]) == "RAW"  # tag
    assert magic_format(PSD) == "PSD"


def test_sniffing_trusts_bytes_over_names(tmp_path):
    dng = (DATA / "generated_preview.dng").read_bytes()
    (tmp_path / "a.tif").write_bytes(dng)  # a DNG named .tif is still a RAW file
    assert sniff_kind(tmp_path / "a.tif").format == "RAW"
    assert sniff_kind(tmp_path / "a.tif").warning == "wrong extension: file is RAW data"
    tiff = io.BytesIO()
    Image.new("RGB", (8, 8)).save(tiff, "TIFF")
    (tmp_path / "b.NEF").write_bytes(tiff.getvalue())  # a TIFF header behind a RAW name
    assert sniff_kind(tmp_path / "b.NEF").format == "RAW"
    (tmp_path / "c.CR2").write_bytes(jpeg_bytes())  # an exported JPEG that kept the name
    assert sniff_kind(tmp_path / "c.CR2").format == "JPEG"
    assert read_photo(tmp_path / "c.CR2").warnings == ("wrong extension: file is JPEG data",)
    (tmp_path / "d.arw").write_text("not a raw file")
    with pytest.raises(MediaError, match="does not contain RAW data"):
        read_photo(tmp_path / "d.arw")
    (tmp_path / "e.avif").write_bytes((DATA / "generated_phone.heic").read_bytes())
    assert sniff_kind(tmp_path / "e.avif").format == "HEIF"
    assert kind_of("x.CR3") == kind_of("x.heic") == kind_of("x.avif") == "photo"
    assert kind_of("x.mp4") is None and unsupported_media(tmp_path / "a.tif") is None


def test_truncated_files_are_problems(tmp_path):
    for sample in ("generated_preview.dng", "generated_nopreview.dng", "generated_phone.heic",
                   "generated.avif"):
        data = (DATA / sample).read_bytes()
        cut = tmp_path / sample
        cut.write_bytes(data[: len(data) * 3 // 10])  # into the sensor data of the DNGs
        with pytest.raises(MediaError):
            read_photo(cut)


def test_a_raw_whose_preview_is_cut_off_falls_back_to_its_sensor_data(tmp_path):
    data = (DATA / "generated_preview.dng").read_bytes()  # the preview is stored last
    cut = tmp_path / "cut.dng"
    cut.write_bytes(data[: len(data) - 3000])
    info = read_photo(cut)
    assert info.capture_time == "2022-10-01T07:15:30"
    img, _ = open_image(cut)
    with img:
        assert img.size == (48, 32)  # the half-size demosaic


def test_raw_metadata_of_tiff_variants_and_cr3(tmp_path):
    dng = (DATA / "generated_nopreview.dng").read_bytes()
    (tmp_path / "x.orf").write_bytes(b"IIRO" + dng[4:])  # Olympus' header on a TIFF layout
    tags = raw._raw_tags(tmp_path / "x.orf")
    assert tags.ifd0[0x010F] == "TagAssist" and tags.exif[0x9003] == "2021:12:24 18:05:00"
    assert tags.gps[3] == "W"

    def tiff_blob(ifd0: dict) -> bytes:
        ex = Image.Exif()
        ex.update(ifd0)
        return ex.tobytes()[6:]  # without "Exif\0\0": the TIFF the CMT boxes hold

    def box(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", 8 + len(payload)) + kind + payload

    cmt = (box(b"CMT1", tiff_blob({0x010F: "Canon", 0x0110: "Canon EOS R6"}))
           + box(b"CMT2", tiff_blob({0x9003: "2024:05:06 07:08:09"})))
    cr3 = (box(b"ftyp", b"crx \x00\x00\x00\x01crx isom")
           + box(b"moov", box(b"uuid", bytes(16) + cmt)))
    (tmp_path / "y.cr3").write_bytes(cr3)
    tags = raw._raw_tags(tmp_path / "y.cr3")
    assert tags.ifd0[0x0110] == "Canon EOS R6" and tags.exif[0x9003] == "2024:05:06 07:08:09"


def test_without_rawpy_a_raw_file_is_a_clear_problem(library, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "rawpy", None)  # import rawpy -> ImportError
    with pytest.raises(MediaError, match="rawpy is not installed"):
        read_photo(DATA / "generated_preview.dng")
    root = tmp_path / "p"
    root.mkdir()
    shutil.copyfile(DATA / "generated_preview.dng", root / "a.dng")
    shutil.copyfile(DATA / "generated_phone.heic", root / "b.heic")
    report = run_import(library, root, tmp_path / "t")
    assert report.added == 1  # the HEIC
    assert [(Path(p.path).name, "rawpy is not installed" in p.reason)
            for p in report.problems] == [("a.dng", True)]


def test_without_pillow_heif_a_heic_file_is_a_clear_problem(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pillow_heif", None)
    monkeypatch.setattr(heif, "_heif_state", None)
    with pytest.raises(MediaError, match="pillow-heif is not installed"):
        read_photo(DATA / "generated_phone.heic")
    with pytest.raises(MediaError, match="pillow-heif is not installed"):
        make_thumbnail(DATA / "generated_phone.heic", tmp_path, "ab" * 16)
    assert read_photo(DATA / "generated_preview.dng").format == "RAW"  # the rest still works


def test_without_avif_support_an_avif_file_is_a_clear_problem(monkeypatch):
    Image.init()
    monkeypatch.delitem(Image.OPEN, "AVIF", raising=False)
    monkeypatch.setattr(heif.features, "check", lambda _name: False)
    with pytest.raises(MediaError, match="reads no AVIF"):
        read_photo(DATA / "generated.avif")
