"""Real camera files through the real importer: a phone HEIC, Canon CR2 and Sony ARW files with
their sensor data cut short, a DNG, and real RAW files whose sensor data their authors stripped.

A folder as people have it: each photo gets a thumbnail, its capture time, its camera and (where
the file has one) its GPS position, and decodes to the image model's input; a video and a PSD
are listed as skipped; a RAW file that cannot be decoded is one problem, and the import goes on.
Samples, sources and licences: tests/data/formats/raw/README.md.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tagassist.library import Library
from tagassist.media import raw
from tagassist.media.errors import MediaError
from tagassist.media.photos import MAX_PIXELS, open_image, read_photo
from tagassist.media.preprocess import image_to_array
from tagassist.media.thumbnails import thumbnail_path
from tests.media.test_formats import MP4, PSD, jpeg_bytes
from tests.test_sample_library import run_import

FORMATS = Path(__file__).resolve().parents[1] / "data" / "formats"
RAW = FORMATS / "raw"
IMAGE_MODEL = Path(__file__).resolve().parents[2] / "models" / "image-lite0"

# name in the folder -> (sample, capture time, (lat, lon) or None, camera, preview size or None)
PHOTOS = {
    "phone/IMG_0002.HEIC": (FORMATS / "real_iphone_xs.heic", "2021-07-06T16:08:14",
                            (46.7547028, 33.3361056), "Apple iPhone XS", None),
    "camera/IMG_0848.CR2": (RAW / "canon_eos30d_cropped.cr2", "2008-02-16T13:51:56", None,
                            "Canon EOS 30D", (1728, 1152)),
    "camera/_DSC2164.ARW": (RAW / "sony_a7r3_cropped.arw", "2018-07-11T01:18:47", None,
                            "SONY ILCE-7RM3", (1616, 1080)),
    # No real DNG with its image data was found (README): the generated one stands in.
    "camera/sydney.dng": (FORMATS / "generated_preview.dng", "2022-10-01T07:15:30",
                          (-33.8569444, 151.2152778), "TagAssist synthetic DNG", (768, 512)),
}
# Real RAW files without sensor data -> the start of the problem each one is.
STRIPPED = {
    "stripped_nikon_d70.nef": "RAW image without sensor data (the file holds 18 bytes",
    "stripped_fujifilm_s5pro.raf": "truncated or unreadable RAW image",
    "stripped_canon_m50.cr3": "truncated or unreadable RAW image",
    "stripped_panasonic_lx3.rw2": "truncated RAW image (its sensor data ends past the end",
    "stripped_canon_350d.dng": "RAW image without sensor data (the file holds 22 bytes",
    "stripped_iphone12pro.dng": "truncated RAW image (its sensor data ends past the end",
}


@pytest.fixture
def library(tmp_path):
    with Library.open(tmp_path / "lib" / "tagassist.db") as lib:
        yield lib


def make_folder(root: Path) -> Path:
    for name, (sample, *_rest) in PHOTOS.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(sample, root / name)
    for name in STRIPPED:
        shutil.copyfile(RAW / name, root / "camera" / name)
    (root / "phone" / "clip.mp4").write_bytes(MP4)
    (root / "camera" / "edit.psd").write_bytes(PSD)
    (root / "camera" / "IMG_0849.JPG").write_bytes(jpeg_bytes("2008:02:16 13:52:10"))
    return root


def test_samples_are_small():
    files = [p for p in RAW.iterdir() if p.is_file()]
    assert all(p.stat().st_size < 2_000_000 for p in files)
    assert sum(p.stat().st_size for p in files) < 6_000_000


def test_import_of_real_camera_files(library, tmp_path):
    root = make_folder(tmp_path / "photos")
    thumbs = tmp_path / "thumbs"
    report = run_import(library, root, thumbs)

    skipped = {Path(p.path).name: p.reason for p in report.skipped}
    assert skipped == {"clip.mp4": "video (MP4) is not supported",
                       "edit.psd": "Photoshop document (PSD) is not supported"}
    problems = {Path(p.path).name: p.reason for p in report.problems}
    assert problems.keys() == STRIPPED.keys()
    for name, reason in STRIPPED.items():
        assert problems[name].startswith(reason), (name, problems[name])
    assert report.added == len(PHOTOS) + 1  # + the JPEG
    assert report.warnings == []

    for name, (_sample, when, gps, camera, preview) in PHOTOS.items():
        item = library.items.by_path(str(root / name))
        assert item is not None and item.kind == "photo", name
        assert (item.capture_time, item.camera) == (when, camera), name
        if gps is None:
            assert item.lat is None and item.lon is None, name
        else:
            assert (item.lat, item.lon) == pytest.approx(gps, abs=1e-5), name
            assert item.place, name
        thumb = thumbnail_path(thumbs, item.content_hash)
        with Image.open(thumb) as t:
            assert t.format == "JPEG" and max(t.size) == 256, name
            if preview is not None and name != "camera/sydney.dng":  # (that one is turned)
                assert t.width / t.height == pytest.approx(preview[0] / preview[1], abs=0.02)
            colours = np.asarray(t.convert("RGB"), dtype=np.float64)
        if name == "camera/IMG_0848.CR2":  # the Canon's preview: blue sky over a building
            top = colours[: colours.shape[0] // 4].reshape(-1, 3).mean(axis=0)
            assert top[2] > top[0] + 60, top
        if name == "camera/_DSC2164.ARW":  # the Sony's: a stage in blue light
            mean = colours.reshape(-1, 3).mean(axis=0)
            assert mean[2] > mean[0] + 20, mean

    again = run_import(library, root, thumbs)
    assert (again.added, again.unchanged) == (0, report.added)
    assert len(again.problems) == len(STRIPPED)


@pytest.mark.parametrize("name", list(PHOTOS))
def test_features_decode_from_the_camera_rendering(name):
    x = image_to_array(PHOTOS[name][0])
    assert x.shape == (3, 224, 224) and x.dtype == np.float32 and np.isfinite(x).all()
    assert float(x.std()) > 0.05


@pytest.mark.skipif(not (IMAGE_MODEL / "model.onnx").is_file(), reason="image model not built")
def test_image_model_runs_on_the_real_files():
    from tagassist.suggest.encoders import ImageEncoder

    encoder = ImageEncoder(IMAGE_MODEL, providers=["CPUExecutionProvider"])
    paths = [sample for sample, *_ in PHOTOS.values()]
    batch = encoder.encode_batch(paths)
    assert batch.failures == {} and len(batch.paths) == len(paths)
    assert np.isfinite(batch.embeddings).all()


@pytest.mark.parametrize(("sample", "sensor", "preview"), [
    ("canon_eos30d_cropped.cr2", (1798, 512), (1728, 1152)),
    ("sony_a7r3_cropped.arw", (5184, 128), (1616, 1080)),
])
def test_real_raw_shows_its_preview_and_measures_its_sensor(sample, sensor, preview):
    info = read_photo(RAW / sample)
    assert (info.format, (info.width, info.height), info.warnings) == ("RAW", sensor, ())
    img, sniffed = open_image(RAW / sample)
    with img:
        assert (sniffed.format, img.format, img.size) == ("RAW", "JPEG", preview)
        assert img.getexif()[0x0112] == 1


def test_real_sensor_data_demosaics_with_the_cameras_white_balance():
    """The CR2's kept rows are sky: LibRaw's half-size demosaic of them (the path of a RAW
    without a usable preview) is blue, as the camera saw it."""
    with raw._Opened(RAW / "canon_eos30d_cropped.cr2", MAX_PIXELS) as opened:
        opened.verify()
        img = opened.demosaic()
    assert img.size == (899, 256) and img.mode == "RGB"
    sky = np.asarray(img, dtype=np.float64)[16:, 64:].reshape(-1, 3).mean(axis=0)
    assert sky[2] > sky[0] + 60 and sky[2] > sky[1], sky


@pytest.mark.parametrize("name", list(STRIPPED))
def test_a_raw_without_sensor_data_is_a_clear_problem(name):
    with pytest.raises(MediaError) as e:
        read_photo(RAW / name)
    assert e.value.reason.startswith(STRIPPED[name])


@pytest.mark.parametrize(("name", "date", "camera"), [
    ("stripped_nikon_d70.nef", "2004:06:09 16:02:35", "NIKON D70"),
    ("stripped_panasonic_lx3.rw2", "2008:08:06 15:21:56", "DMC-LX3"),  # RW2's own magic
    ("stripped_canon_m50.cr3", "2018:02:21 12:08:56", "Canon EOS M50"),  # CMT boxes
    ("stripped_canon_350d.dng", "2005:08:03 18:59:18", "Canon EOS 350D DIGITAL"),
    ("stripped_iphone12pro.dng", "2020:12:29 14:24:45", "iPhone 12 Pro"),
])
def test_raw_directories_of_real_cameras(name, date, camera):
    tags = raw._raw_tags(RAW / name)
    assert tags.exif[raw.TAG_DATETIME_ORIGINAL] == date
    assert tags.ifd0[raw.TAG_MODEL] == camera


def test_gps_of_a_real_iphone_dng():
    from tagassist.media.photos import parse_gps

    warnings: list[str] = []
    gps = parse_gps(raw._raw_tags(RAW / "stripped_iphone12pro.dng").gps, warnings)
    assert gps == pytest.approx((34.0596083, -84.681725), abs=1e-6) and warnings == []


def test_sensor_extent_of_real_and_hostile_directories(tmp_path):
    from tagassist.media.raw_extent import SensorExtent, sensor_extent

    # The Sony's sensor strip is the file's last 5216 x 128 bytes; a CR2 names none we read.
    arw = RAW / "sony_a7r3_cropped.arw"
    assert sensor_extent(arw) == SensorExtent(5216 * 128, arw.stat().st_size)
    assert sensor_extent(RAW / "canon_eos30d_cropped.cr2") is None
    # An IFD whose next-IFD and SubIFD pointers lead back to itself ends; garbage is None.
    loop = (b"II*\x00" + (8).to_bytes(4, "little") + (1).to_bytes(2, "little")
            + bytes.fromhex("4a01") + (4).to_bytes(2, "little") + (1).to_bytes(4, "little")
            + (8).to_bytes(4, "little") + (8).to_bytes(4, "little"))
    (tmp_path / "loop.dng").write_bytes(loop)
    assert sensor_extent(tmp_path / "loop.dng") is None
    (tmp_path / "short.dng").write_bytes(b"II*\x00\xff\xff\xff\x7f")
    assert sensor_extent(tmp_path / "short.dng") is None
