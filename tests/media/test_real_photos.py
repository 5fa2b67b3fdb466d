"""The readers over real camera files from the shared data set (skipped when absent)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tagassist.media.hashing import content_hash
from tagassist.media.photos import read_photo
from tagassist.media.places import place_name
from tagassist.media.thumbnails import make_thumbnail

DATA = Path("/work/shared/data/real-photos-exif-63")
pytestmark = pytest.mark.skipif(not (DATA / "labels.csv").is_file(), reason="data set absent")


def _rows() -> list[dict[str, str]]:
    with open(DATA / "labels.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_labels_match():
    rows = _rows()
    assert rows
    for r in rows:
        info = read_photo(DATA / "images" / r["filename"])
        name = r["filename"]
        assert info.format == r["format"], name
        assert (info.width, info.height) == (int(r["width"]), int(r["height"])), name
        if r["has_date"] == "1":
            assert info.capture_time is not None, name
            if r["datetime_original"]:
                assert info.capture_time == r["datetime_original"][:19].replace(
                    ":", "-", 2
                ).replace(" ", "T"), name
        if r["has_gps"] == "1":
            assert info.gps == pytest.approx(
                (float(r["gps_lat"]), float(r["gps_lon"])), abs=1e-4
            ), name
        else:
            assert info.gps is None, name
        if r["has_keywords"] == "1":
            assert info.keywords or info.hierarchical, name
            for kw in filter(None, r["xmp_subject"].split("|")):
                assert kw.strip() in info.keywords, (name, kw)


def test_places_and_thumbnails_on_a_few(tmp_path):
    rows = [r for r in _rows() if r["has_gps"] == "1"][:8]
    for r in rows:
        p = DATA / "images" / r["filename"]
        info = read_photo(p)
        assert place_name(*info.gps), r["filename"]
        thumb = make_thumbnail(p, tmp_path, content_hash(p))
        assert thumb is not None and thumb.stat().st_size > 0
