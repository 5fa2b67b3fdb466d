"""The personalization job's update mode (issue 7) end to end, on real COCO photos: a second
training only fits the user's rows, warm-started from the first version; a brand-new tag on 3
photos reaches the top 5 of a 4th similar photo; damaged or interrupted runs keep the last good
model and say why."""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
from pathlib import Path

import numpy as np
import pytest

from tagassist.library import Library
from tagassist.media.importer import import_folder
from tagassist.suggest.featurize import Models, featurize_library
from tagassist.suggest.model_store import PERSONAL_CONTENT, ModelStore, active_version
from tagassist.suggest.personal import PersonalRanker
from tagassist.suggest.training import train_user
from tests.suggest.test_personal_ranker import COCO, N_TAGGED, coco_photos, drive

# three animals of a safari, then a fourth: the user's brand-new word "safari"
SAFARI = ["000000104455.jpg", "000000153299.jpg", "000000286994.jpg"]  # zebra, giraffe, eleph.
FOURTH = "000000485895.jpg"  # a giraffe
NEW_TAG = "safari"

pytestmark = pytest.mark.skipif(not (COCO / "labels.csv").is_file(),
                                reason=f"{COCO} not found (the shared data sets)")


def _version(lib: Library, user: int) -> str:
    return active_version(lib, PERSONAL_CONTENT, user).version


@pytest.fixture(scope="module")
def updated(models_dir, tmp_path_factory):
    """v0001 from a full training on 28 tagged photos; then 3 safari photos tagged, some
    suggestions rejected, and v0002 from an update."""
    root = tmp_path_factory.mktemp("update")
    photos = root / "photos"
    photos.mkdir()
    labels = coco_photos(N_TAGGED)
    for name in [n for n, _ in labels] + SAFARI + [FOURTH]:
        shutil.copy(COCO / "images" / name, photos / name)
    library = Library.open(root / "lib" / "tagassist.db")
    user = library.users.get_or_create("ana").id
    drive(import_folder(library, photos, user_id=user, thumbnails_dir=root / "thumbs"))
    drive(featurize_library(library, Models(models_dir), threading.Event()))
    for name, tags in labels:
        library.assignments.assign(user, [library.items.by_path(photos / name).id], tags)
    first, _ = drive(train_user(library, user))
    assert first["event"] == "done", first
    categories = dict(coco_photos(283))
    for name in SAFARI:  # the photo's own categories, and the new word
        library.assignments.assign(user, [library.items.by_path(photos / name).id],
                                   [*categories[name], NEW_TAG])
    # rejected suggestions on the safari photos: hard negatives for the update
    for name in SAFARI:
        library.assignments.record_decisions(user, library.items.by_path(photos / name).id,
                                             [("person", False, 1, 0.5, first["version"]),
                                  ("dining table", False, 2, 0.4, first["version"])])
    second, events = drive(train_user(library, user))
    yield {"library": library, "user": user, "first": first, "second": second,
           "events": events, "photos": photos, "root": root}
    library.close()


def test_the_second_training_is_an_update_of_the_users_rows(updated):
    second = updated["second"]
    assert second["event"] == "done", second
    metrics = second["metrics"]
    assert metrics["mode"] == "update" and metrics["previous_version"] == "v0001"
    assert metrics["rejections"] == 6 and NEW_TAG in metrics["new_tags"]
    assert metrics["recent_acceptance@5"]["kept"] == "candidate"
    assert {e.get("stage") for e in updated["events"]} >= {"update"}
    folder = Path(second["path"])
    assert (folder / "model.onnx").is_file() and (folder / "weights" / "weights.npz").is_file()
    assert _version(updated["library"], updated["user"]) == "v0002"


def test_a_new_tag_on_three_photos_is_suggested_for_a_fourth(updated):
    lib, user = updated["library"], updated["user"]
    ranker = PersonalRanker.for_user(lib, user)
    assert NEW_TAG in ranker.tags
    item = lib.items.by_path(updated["photos"] / FOURTH)
    vector = lib.features.get([item.id], ranker.featurizer, ranker.feature_version)[item.id].vector
    top = [s.tag for s in ranker.suggest(vector, user, [], limit=5)]
    assert NEW_TAG in top, top


def _last(lib: Library, user: int) -> tuple[str, Path]:
    record = active_version(lib, PERSONAL_CONTENT, user)
    return record.version, Path(record.path)


def test_a_corrupt_previous_model_means_a_full_training_with_a_message(updated):
    lib, user = updated["library"], updated["user"]
    _, folder = _last(lib, user)
    weights = folder / "weights" / "weights.npz"
    original = weights.read_bytes()
    weights.write_bytes(original[:100])
    try:
        result, events = drive(train_user(lib, user))
    finally:
        weights.write_bytes(original)
    assert result["event"] == "done" and result["metrics"]["mode"] == "full"
    assert any("cannot be read" in e.get("message", "") for e in events)
    assert "cannot be read" in result["notes"][0]  # the window's notification says it


def test_a_killed_job_keeps_the_last_good_model(updated):
    lib, user = updated["library"], updated["user"]
    before = _version(lib, user)
    job = train_user(lib, user, None, ("--full",))  # long enough to be killed mid-run
    first = next(job)
    assert first["event"] == "progress"
    children = [p for p in Path("/proc").iterdir() if p.name.isdigit()
                and b"trainer.personal" in (p / "cmdline").read_bytes()
                and str(lib.path).encode() in (p / "cmdline").read_bytes()]
    assert children
    for p in children:
        os.kill(int(p.name), signal.SIGKILL)
    result, _ = drive(job)
    assert result["event"] == "error" and "stopped unexpectedly" in result["message"]
    assert _version(lib, user) == before
    ranker = PersonalRanker.for_user(lib, user)  # the active model still loads and serves
    assert ranker is not None and NEW_TAG in ranker.tags


def test_tags_written_during_training_are_kept_and_the_job_finishes(updated):
    lib, user = updated["library"], updated["user"]
    item = lib.items.by_path(updated["photos"] / FOURTH).id
    job = train_user(lib, user, None, ("--full",))
    assert next(job)["event"] == "progress"
    # the database changes under the trainer
    lib.assignments.assign(user, [item], ["giraffe", NEW_TAG])
    result, _ = drive(job)
    assert result["event"] in ("done", "skipped"), result
    assert {"giraffe", NEW_TAG} <= {t.path for t in lib.assignments.tags_of(item, user)}
    assert PersonalRanker.for_user(lib, user) is not None
    folder = ModelStore.of(lib).folder(PERSONAL_CONTENT, user)
    assert not [p for p in folder.iterdir() if p.name.startswith(".staging")]
    meta = json.loads((_last(lib, user)[1] / "metadata.json").read_text())
    assert np.isfinite(meta["calibration"]["a"])
