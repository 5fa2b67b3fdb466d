"""trainer.replay_sets on a tiny fake data dir (real files, read back with the app's reader)."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from PIL import Image

from tagassist.media.hashing import content_hash
from tagassist.media.photos import read_photo
from trainer.datasets import data_dir
from trainer.replay_sets import build, main

FLICKR = [
    {"name": "111_aa_b.jpg", "owner": "1@N01", "datetaken": "2016-09-04 10:38:07",
     "tags": "zebrafish canal  amsterdam", "title": "Küçüksu & <Canal>",
     "desc": {"_content": "A boat"}, "latitude": "52.308916", "longitude": "4.76"},
    {"name": "222_bb_b.jpg", "owner": "1@N01", "datetaken": "2015-05-21 11:00:12",
     "tags": "dog", "title": "Dog", "desc": {"_content": ""},
     "latitude": "-33.856784", "longitude": "-1.5e+02"},
    {"name": "333_cc_b.jpg", "owner": "1@N01", "datetaken": "2017-01-02 03:04:05",
     "tags": "", "title": "", "latitude": "0", "longitude": "0"},
]
UNTAGGED = [{"name": f"{k}.jpeg", "owner": "9@N09", "datetaken": "2009-05-16 11:51:06",
             "photoname": "x", "latitude": "4.076169e+01", "longitude": "-7.397507e+01"}
            for k in range(2)]


def _csv(path: Path, rows: list[dict[str, str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def _labels(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    (root / "flickr-hucvl-summary-set").mkdir(parents=True)
    (root / "flickr-hucvl-summary-set" / "Fake Town.json").write_text(json.dumps(FLICKR))
    (root / "flickr-hucvl-summary-set" / "Big City.json").write_text(json.dumps(UNTAGGED))
    for name in ("coco-val2017-283", "real-photos-exif-63"):
        (root / name / "images").mkdir(parents=True)
        for fn in ("a.jpg", "b, c.jpg"):
            Image.new("RGB", (8, 8), (len(fn), 0, 0)).save(root / name / "images" / fn)
    _csv(root / "coco-val2017-283" / "labels.csv", [
        {"filename": "a.jpg", "tags": "dining table|person", "captions": "x, y",
         "supercategories": "furniture|person",
         "coco_date_captured": "2013-11-21 01:34:01",
         "exif_datetime_original": "2011:03:27 21:12:06.73-06:00"},
        {"filename": "b, c.jpg", "tags": "", "captions": "", "supercategories": "",
         "coco_date_captured": "2013-11-24 10:59:09", "exif_datetime_original": ""}])
    _csv(root / "real-photos-exif-63" / "labels.csv", [
        {"filename": "a.jpg", "tags": "Mongolia||Хужирт|carol m. highsmith",
         "datetime_original": "2011:08:17 16:39:37+02:00", "other_capture_date": ""},
        {"filename": "b, c.jpg", "tags": "", "datetime_original": "",
         "other_capture_date": "2022:01:10 15:15:44-04:00"}])
    return root


def test_shared_sets_truth_and_photos_dir(root: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    sets = {s.name: s for s in build(out, root, log=lambda _: None)}
    coco = sets["coco-val2017-283"]
    assert (coco.count, coco.tagged) == (2, 1)
    assert coco.photos == (root / "coco-val2017-283" / "images").resolve()
    assert (out / "coco-val2017-283" / "photos.txt").read_text().strip() == str(coco.photos)
    assert not (out / "coco-val2017-283" / "images").exists()  # used in place, not copied
    assert _labels(coco.truth) == [
        ["filename", "tags", "datetime"],
        ["a.jpg", "dining table|person", "2011-03-27T21:12:06"],  # EXIF wins, offset dropped
        ["b, c.jpg", "", "2013-11-24T10:59:09"]]  # in the library, no truth
    kinds = sets["coco-kinds"]  # the same photos, their supercategories as the truth
    assert kinds.photos == coco.photos
    assert _labels(kinds.truth)[1] == ["a.jpg", "furniture|person", "2011-03-27T21:12:06"]
    real = sets["real-photos-exif-63"]
    assert (real.count, real.tagged) == (2, 1)
    assert _labels(real.truth)[1:] == [
        ["a.jpg", "Mongolia|Хужирт|carol m. highsmith", "2011-08-17T16:39:37"],
        ["b, c.jpg", "", "2022-01-10T15:15:44"]]


def test_flickr_jpegs_carry_metadata_not_tags(root: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    sets = {s.name: s for s in build(out, root, log=lambda _: None)}
    fake = sets["flickr-fake-town"]
    assert fake.photos == (out / "flickr-fake-town" / "images").resolve()
    assert (fake.count, fake.tagged) == (3, 2)
    assert _labels(fake.truth)[1:] == [
        ["111_aa_b.jpg", "zebrafish|canal|amsterdam", "2016-09-04T10:38:07"],
        ["222_bb_b.jpg", "dog", "2015-05-21T11:00:12"],
        ["333_cc_b.jpg", "", "2017-01-02T03:04:05"]]

    a, b, c = (read_photo(fake.photos / r["name"]) for r in FLICKR)
    assert (a.width, a.height, a.format) == (96, 64, "JPEG")
    assert a.capture_time == "2016-09-04T10:38:07"
    assert a.gps == pytest.approx((52.308916, 4.76), abs=1e-4)
    assert a.title == "Küçüksu & <Canal>" and a.description == "A boat"
    assert b.gps == pytest.approx((-33.856784, -150.0), abs=1e-4)  # S and W refs
    assert b.title == "Dog" and b.description is None
    assert c.gps is None and c.title is None and c.capture_time == "2017-01-02T03:04:05"
    for info in (a, b, c):
        assert info.keywords == () and info.hierarchical == () and info.warnings == ()
    assert b"zebrafish" not in (fake.photos / "111_aa_b.jpg").read_bytes()

    with Image.open(fake.photos / "111_aa_b.jpg") as img:
        assert img.getexif().get_ifd(0x8825)[1] == "N"  # a real GPS IFD
        colours = img.getcolors(16)
        assert colours is not None and len(colours) <= 2  # flat (JPEG may round a pixel)
    hashes = {content_hash(p) for p in fake.photos.iterdir()}
    assert len(hashes) == 3


def test_output_is_deterministic(root: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    build(first, root, log=lambda _: None)
    build(second, root, log=lambda _: None)
    build(second, root, log=lambda _: None)  # rebuilding over an old run changes nothing
    files = sorted(p.relative_to(first) for p in first.rglob("*")
                   if p.is_file() and p.name != "photos.txt")  # photos.txt names the out dir
    assert len(files) == 4 + 3  # 4 labels.csv + 3 JPEGs
    assert files == sorted(p.relative_to(second) for p in second.rglob("*")
                           if p.is_file() and p.name != "photos.txt")
    for rel in files:
        assert (first / rel).read_bytes() == (second / rel).read_bytes(), rel


def test_owner_without_tags_is_skipped_and_cli_prints_sets(
        root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["--out", str(out), "--data-dir", str(root)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(ln.startswith("skipped flickr-big-city") and "9@N09" in ln
               and "no record has tags" in ln for ln in lines)
    assert not (out / "flickr-big-city").exists()
    assert sorted(p.name for p in out.iterdir()) == [
        "coco-kinds", "coco-val2017-283", "flickr-fake-town", "real-photos-exif-63"]
    fake = next(ln for ln in lines if ln.startswith("flickr-fake-town\t"))
    assert fake.split("\t")[1:] == [
        f"photos={(out / 'flickr-fake-town' / 'images').resolve()}",
        f"truth={(out / 'flickr-fake-town' / 'labels.csv').resolve()}",
        "3 photos", "2 tagged"]


@pytest.mark.skipif(not (data_dir() / "flickr-hucvl-summary-set").is_dir(),
                    reason="shared data not present")
def test_real_shared_data(tmp_path: Path) -> None:
    log: list[str] = []
    sets = {s.name: s for s in build(tmp_path, data_dir(), log=log.append)}
    flickr = {n: (s.count, s.tagged) for n, s in sets.items() if n.startswith("flickr-")}
    assert flickr == {"flickr-amsterdam": (100, 100), "flickr-istanbul": (100, 100),
                      "flickr-paris": (101, 101), "flickr-tokyo": (100, 100),
                      "flickr-venice": (100, 100)}
    assert any(ln.startswith("skipped flickr-new-york") for ln in log)
    for name, (count, _) in flickr.items():
        assert len(list((tmp_path / name / "images").iterdir())) == count
    assert (sets["coco-val2017-283"].count, sets["coco-val2017-283"].tagged) == (283, 204)
    assert (sets["coco-kinds"].count, sets["coco-kinds"].tagged) == (283, 204)
    assert sets["real-photos-exif-63"].count == 63
