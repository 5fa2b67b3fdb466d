"""Decoding for features: JPEG DCT scaling to the model's size, and the decode worker pool.

Real models, real photos of the sample library, a real SQLite library; the pooled runs start
real worker processes (and check that none is left behind)."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tagassist.library import Library
from tagassist.media.importer import import_folder
from tagassist.media.preprocess import Preprocessing
from tagassist.paths import sample_library_dir
from tagassist.suggest.decode_pool import PhotoDecoder
from tagassist.suggest.encoders import ImageEncoder
from tagassist.suggest.featurize import IMAGE_MODEL, Models, featurize_library
from tagassist.suggest.runtime import read_metadata
from tests.jobs import drive

RACCOON = "2019-spring-berkeley/raccoon-in-the-garden.jpg"  # 1024 x 768: draft halves it
PHOTOS = (RACCOON, "2019-spring-berkeley/chelsea-the-cat.jpg", "2018-montreal/espresso.jpg",
          "nasa/hubble-deep-field.jpg", "2023-amsterdam/grass.jpg", "nasa/launch.jpg",
          "street/cameraman.jpg", "2018-montreal/lookout-stairs.jpg")
NEVER_POOLED = 10**9



def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(-1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)


@pytest.fixture(scope="module")
def encoders(models_dir) -> tuple[ImageEncoder, ImageEncoder]:
    """(full decode, draft decode) encoders of the same model."""
    return (ImageEncoder(models_dir / "image-lite0", draft=False),
            ImageEncoder(models_dir / "image-lite0", draft=True))


@pytest.fixture(scope="module")
def models(models_dir) -> Models:
    return Models(models_dir, strict=True)


def photo_folder(tmp_path: Path, names=PHOTOS) -> Path:
    """The sample photos, plus one of them as a PNG (draft applies to JPEGs only)."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in names:
        shutil.copy(sample_library_dir() / name, folder / Path(name).name)
    with Image.open(sample_library_dir() / RACCOON) as img:
        img.save(folder / "raccoon.png")
    return folder


def imported(tmp_path: Path, folder: Path, name: str = "lib") -> Library:
    lib = Library.open(tmp_path / name / "tagassist.db")
    user = lib.users.get_or_create("ann")
    drive(import_folder(lib, folder, user_id=user.id, thumbnails_dir=tmp_path / f"{name}-t"))
    return lib


def photo_features(lib: Library, models: Models) -> dict[str, tuple[np.ndarray, tuple]]:
    """Stored image features of the current version, by file name."""
    ids = lib.items.ids()
    found = lib.features.get(ids, IMAGE_MODEL, models.versions[IMAGE_MODEL])
    return {Path(lib.items.get(i).paths[0]).name: (f.vector, f.words) for i, f in found.items()}


def test_draft_decodes_at_the_models_size_close_to_the_full_decode(encoders):
    full, draft = encoders
    path = sample_library_dir() / RACCOON
    assert draft.preprocessing.draft_to == draft.resize == 256
    with Image.open(path) as img:
        img.draft("RGB", (256, 256))
        assert img.size == (512, 384)  # the smallest DCT scale with a short side >= 256
    assert draft.preprocess(path).shape == full.preprocess(path).shape == (3, 224, 224)
    (full_logits, full_emb), (draft_logits, draft_emb) = full.encode([path]), draft.encode([path])
    assert 0.99 < cosine(full_emb, draft_emb)[0] < 1.0  # measured 0.997: close, not equal
    assert full_logits.argmax() == draft_logits.argmax()


def test_a_camera_size_jpeg_is_decoded_at_an_eighth(encoders, tmp_path):
    _, draft = encoders
    big = tmp_path / "camera.jpg"
    with Image.open(sample_library_dir() / RACCOON) as img:
        img.resize((4000, 3000), Image.Resampling.BICUBIC).save(big, quality=90)
    with Image.open(big) as img:
        img.draft("RGB", (draft.resize, draft.resize))
        assert img.size == (500, 375)
    assert draft.preprocess(big).shape == (3, 224, 224)


def test_the_decode_is_part_of_the_feature_version(encoders, models):
    full, draft = encoders
    assert draft.model.metadata["version"] == full.model.metadata["version"] + "+draft256"
    assert models.versions[IMAGE_MODEL] == draft.model.metadata["version"]  # the app's
    assert full.model.metadata["version"] == read_metadata(full.model.dir)["version"]


def test_features_of_the_full_decode_are_recomputed(models_dir, models, tmp_path):
    folder = photo_folder(tmp_path, PHOTOS[:2])
    with imported(tmp_path, folder) as lib:
        report, _ = drive(featurize_library(lib, Models(models_dir, strict=True, draft=False)))
        assert report.photos == 3
        report, _ = drive(featurize_library(lib, models))  # the default decode: all again
        assert report.photos == 3 and report.failed == []
        assert len(photo_features(lib, models)) == 3


def test_pooled_decoding_gives_the_same_features_as_in_process(models, tmp_path):
    folder = photo_folder(tmp_path)
    with imported(tmp_path, folder, "pooled") as pooled, \
            imported(tmp_path, folder, "local") as local:
        a, _ = drive(featurize_library(pooled, models, batch_size=3, pooled_from=1,
                                       decode_workers=2))
        b, _ = drive(featurize_library(local, models, batch_size=3, pooled_from=NEVER_POOLED))
        assert a.failed == b.failed == [] and a.photos == b.photos == len(PHOTOS) + 1
        got, want = photo_features(pooled, models), photo_features(local, models)
    assert got.keys() == want.keys()
    for name, (vector, words) in want.items():
        assert np.array_equal(got[name][0], vector), name
        assert got[name][1] == words, name
    assert multiprocessing.active_children() == []


def _two_workers_over_photos(encoders, tmp_path) -> tuple[list[str], PhotoDecoder[int]]:
    """The photo folder's paths and a pool of two workers for them (pooled however few)."""
    _, draft = encoders
    paths = sorted(str(p) for p in photo_folder(tmp_path).iterdir())
    return paths, PhotoDecoder[int](draft.preprocessing, len(paths), workers=2, min_pooled=1)


def test_the_pool_returns_what_an_in_process_decode_returns(encoders, tmp_path):
    _, draft = encoders
    paths, decoder = _two_workers_over_photos(encoders, tmp_path)
    with decoder as pool:
        assert pool.pooled
        pooled = [row for batch in pool.decode([[(i, p)] for i, p in enumerate(paths)])
                  for row in batch]
    for (i, path, crop), want in zip(pooled, paths, strict=True):
        assert path == want and np.array_equal(crop, draft.preprocessing.crop(want)), i
    assert multiprocessing.active_children() == []


def test_a_corrupt_file_in_a_pooled_batch_is_reported_by_name(models, tmp_path):
    folder = photo_folder(tmp_path)
    with imported(tmp_path, folder) as lib:
        # after the import: one photo damaged on disk, one deleted
        (folder / "chelsea-the-cat.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a jpeg any more")
        (folder / "grass.jpg").unlink()
        report, _ = drive(featurize_library(lib, models, batch_size=4, pooled_from=1,
                                            decode_workers=2))
        reasons = {Path(p.path).name: p.reason for p in report.failed}
        assert set(reasons) == {"chelsea-the-cat.jpg", "grass.jpg"}
        assert reasons["grass.jpg"] == "file is missing" and reasons["chelsea-the-cat.jpg"]
        assert report.photos == len(PHOTOS) - 1  # the other 6 JPEGs and the PNG
        assert set(photo_features(lib, models)) == (
            {Path(n).name for n in PHOTOS} | {"raccoon.png"}) - set(reasons)
    assert multiprocessing.active_children() == []


def test_cancel_stops_a_pooled_run_and_leaves_no_worker(models, tmp_path):
    folder = photo_folder(tmp_path)
    with imported(tmp_path, folder) as lib:
        cancel = threading.Event()
        job = featurize_library(lib, models, cancel, batch_size=2, pooled_from=1,
                                decode_workers=2)
        next(job)  # the start tick
        next(job)  # the first batch is stored
        assert multiprocessing.active_children()  # the workers are decoding ahead
        cancel.set()
        report, _ = drive(job)
        assert report.cancelled and report.featurized == 2
        assert len(photo_features(lib, models)) == 2
    assert multiprocessing.active_children() == []


def test_a_killed_worker_falls_back_to_decoding_in_process(encoders, tmp_path):
    paths, decoder = _two_workers_over_photos(encoders, tmp_path)
    with decoder as pool:
        batches = pool.decode([[(i, p)] for i, p in enumerate(paths)])
        first = next(batches)
        for pid in pool.worker_pids():
            os.kill(pid, signal.SIGKILL)
        rest = [row for batch in batches for row in batch]
        assert not pool.pooled and "BrokenProcessPool" in pool.fallback
    decoded = first + rest
    assert [p for _, p, _ in decoded] == paths
    assert all(isinstance(crop, np.ndarray) and crop.shape == (224, 224, 3)
               for _, _, crop in decoded)
    assert multiprocessing.active_children() == []


def test_a_small_job_decodes_in_process(encoders):
    _, draft = encoders
    decoder = PhotoDecoder[int](draft.preprocessing, 3)
    assert not decoder.pooled
    assert Preprocessing().draft_to is None  # the exporter's reference stays the full decode
