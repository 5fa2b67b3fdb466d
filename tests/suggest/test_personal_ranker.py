"""The personal content ranker end to end: real COCO photos in a real library, featurized with
the real ONNX models, ``train`` in a child process (torch), served from the exported ONNX."""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
import threading
from pathlib import Path

import numpy as np
import pytest

from tagassist.cli import main as cli_main
from tagassist.library import Library
from tagassist.media.importer import import_folder
from tagassist.suggest.featurize import Models, featurize_library
from tagassist.suggest.model_store import PERSONAL_CONTENT, ModelStore, active_version
from tagassist.suggest.personal import REASON, PersonalRanker
from tagassist.suggest.service import ColdStartSuggester
from tagassist.suggest.training import train_user
from tests.jobs import drive
from trainer.datasets import data_dir

COCO = data_dir() / "coco-val2017-283"
N_PHOTOS, N_TAGGED, EXTRA_CATS = 36, 28, 5
OWN_WORD = {"cat": "moggy"}  # this user's word: MiniLM puts "moggy" far from "cat" (0.32)
UNTAGGED_CAT = "000000119828.jpg"  # photo 36 of the set

pytestmark = pytest.mark.skipif(not (COCO / "labels.csv").is_file(),
                                reason=f"{COCO} not found (the shared data sets)")



def coco_photos(n: int) -> list[tuple[str, list[str]]]:
    """The first ``n`` tagged photos, the first ``N_TAGGED`` of them followed by the next
    ``EXTRA_CATS`` cat photos of the set (a user with 7 tagged cats, 2 of them in the first
    28), so ``labels[:N_TAGGED + EXTRA_CATS]`` is what gets tagged."""
    rows = []
    with (COCO / "labels.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            tags = [t for t in (row["tags"] + "|" + row["supercategories"]).split("|") if t]
            if tags:
                rows.append((row["filename"], sorted(set(tags))))
    cats = [r for r in rows[n:] if "cat" in r[1]][:EXTRA_CATS]
    return rows[:N_TAGGED] + cats + rows[N_TAGGED:n]


@pytest.fixture(scope="module")
def trained(models_dir, tmp_path_factory):
    """A library of 41 COCO photos, 33 tagged (7 cats, tagged "moggy"), with one trained
    personal model."""
    root = tmp_path_factory.mktemp("personal")
    photos = root / "photos"
    photos.mkdir()
    labels = coco_photos(N_PHOTOS)
    for name, _ in labels:
        shutil.copy(COCO / "images" / name, photos / name)
    library = Library.open(root / "lib" / "tagassist.db")
    user = library.users.get_or_create("ana").id
    drive(import_folder(library, photos, user_id=user, thumbnails_dir=root / "thumbs"))
    drive(featurize_library(library, Models(models_dir), threading.Event()))
    for name, tags in labels[:N_TAGGED + EXTRA_CATS]:
        library.assignments.assign(user, [library.items.by_path(photos / name).id],
                                   [OWN_WORD.get(t, t) for t in tags])
    result, events = drive(train_user(library, user))
    yield {"library": library, "user": user, "result": result, "events": events,
           "photos": photos, "labels": labels, "root": root, "models": models_dir}
    library.close()


def test_training_publishes_and_activates_a_version(trained):
    result, lib, user = trained["result"], trained["library"], trained["user"]
    assert result["event"] == "done", result
    assert result["version"] == "v0001" and result["model"] in ("dae_ptr", "cnn_permlp")
    stages = {e.get("stage") for e in trained["events"]}
    assert {"data", "select", "refit"} <= stages  # progress came through, line by line
    record = active_version(lib, PERSONAL_CONTENT, user)
    assert record is not None and record.version == "v0001"
    folder = Path(record.path)
    assert folder.parent == ModelStore.of(lib).folder(PERSONAL_CONTENT, user)
    meta = json.loads((folder / "metadata.json").read_text())
    assert meta["version"] == "v0001" and meta["featurizer"] == "image-lite0"
    assert set(meta["calibration"]) == {"a", "b"}
    assert meta["metrics"]["validation_photos"] >= 1
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".staging")]


def test_the_served_model_suggests_probabilities_and_excludes_present_tags(trained):
    lib, user = trained["library"], trained["user"]
    ranker = PersonalRanker.for_user(lib, user)
    item = lib.items.by_path(trained["photos"] / trained["labels"][0][0])  # a tagged photo
    vector = lib.features.get([item.id], ranker.featurizer, ranker.feature_version)[item.id].vector
    present = [t.path for t in lib.assignments.tags_of(item.id, user)]
    suggestions = ranker.suggest(vector, user, present, limit=10)
    assert len(suggestions) == 10
    assert not {s.tag for s in suggestions} & set(present)
    assert all(0.0 <= s.score <= 1.0 and s.reason == REASON for s in suggestions)
    probs = ranker.probabilities(np.stack([vector, vector]), user)
    assert probs.shape == (2, len(ranker.tags)) and np.all((probs >= 0) & (probs <= 1))
    unknown = ranker.probabilities(vector, user_id=999)  # a user the model has not seen
    assert unknown.shape == (1, len(ranker.tags)) and np.isfinite(unknown).all()


def test_suggest_blends_the_personal_model_in(trained):
    lib, user = trained["library"], trained["user"]
    suggester = ColdStartSuggester(lib, Models(trained["models"]))
    untagged = [lib.items.by_path(trained["photos"] / n)
                for n, _ in trained["labels"][N_TAGGED + EXTRA_CATS:]]
    reasons = {s.reason for it in untagged for s in suggester.suggest(it, user, top=5)}
    assert any(REASON in r for r in reasons), reasons  # a reason names the signals that weigh
    info = suggester.models_info(user)
    assert info[PERSONAL_CONTENT] == "v0001" and "unavailable" not in info


def test_the_users_own_word_comes_from_the_personal_model(trained):
    """Content matching cannot reach "moggy" (the vocabulary's threshold keeps it out); the
    user's 7 tagged cats teach the personal model the word for an untagged cat photo."""
    lib, user = trained["library"], trained["user"]
    assert "cat" in dict(trained["labels"])[UNTAGGED_CAT]
    cat = lib.items.by_path(trained["photos"] / UNTAGGED_CAT)
    suggester = ColdStartSuggester(lib, Models(trained["models"]))
    top = {s.tag: s for s in suggester.suggest(cat, user, top=9)}  # the window's list
    assert "moggy" in top, list(top)
    assert REASON in top["moggy"].reason
    ranker = PersonalRanker.for_user(lib, user)
    vector = lib.features.get([cat.id], ranker.featurizer, ranker.feature_version)[cat.id].vector
    probs = ranker.probabilities(vector, user)[0]
    plain = lib.items.by_path(trained["photos"] / trained["labels"][0][0])  # no cat on it
    assert "cat" not in trained["labels"][0][1]
    other = ranker.probabilities(
        lib.features.get([plain.id], ranker.featurizer, ranker.feature_version)[plain.id].vector,
        user)[0]
    i = ranker.tags.index("moggy")
    assert probs[i] > 2 * other[i]


def test_a_corrupt_personal_model_is_reported_and_suggest_goes_on(trained, tmp_path):
    lib, user = trained["library"], trained["user"]
    record = active_version(lib, PERSONAL_CONTENT, user)
    model = Path(record.path) / "model.onnx"
    original = model.read_bytes()
    try:
        model.write_bytes(original[: len(original) // 2])
        suggester = ColdStartSuggester(lib, Models(trained["models"]))
        item = lib.items.by_path(trained["photos"] / trained["labels"][-1][0])
        ranked = suggester.suggest(item, user, top=5)
        assert ranked and not any(REASON in s.reason for s in ranked)
        reason = suggester.models_info(user)["unavailable"][PERSONAL_CONTENT]
        assert "corrupt" in reason or "does not match" in reason
    finally:
        model.write_bytes(original)


def test_a_personal_model_serves_photos_analysed_with_the_other_decode(trained, tmp_path):
    """After the draft decode came in (issue 21) every photo is analysed again under a new
    feature version; a personal model fitted on the old features must keep suggesting until
    its next training, not go quiet."""
    user = trained["user"]
    copy_path = tmp_path / "copy.db"
    with sqlite3.connect(trained["root"] / "lib" / "tagassist.db") as src, \
            sqlite3.connect(copy_path) as dst:
        src.backup(dst)
    copy = Library.open(copy_path)
    try:
        full = Models(trained["models"], draft=False)
        drive(featurize_library(copy, full, threading.Event()))
        ranker = PersonalRanker.for_user(copy, user)
        item = copy.items.by_path(trained["photos"] / trained["labels"][-1][0])
        assert not copy.features.get([item.id], ranker.featurizer, ranker.feature_version)
        personal = ColdStartSuggester(copy, full)._personal_suggestions(item, user, [])
        assert personal and all(s.reason == REASON for s in personal)
    finally:
        copy.close()


def test_cancel_keeps_the_previous_model(trained):
    lib, user = trained["library"], trained["user"]
    cancel = threading.Event()
    job = train_user(lib, user, cancel, ("--full",))  # nothing new: an update would skip
    first = next(job)
    assert first["event"] == "progress"
    cancel.set()
    result, _ = drive(job)
    assert result["event"] == "cancelled"
    assert active_version(lib, PERSONAL_CONTENT, user).version == "v0001"
    folder = ModelStore.of(lib).folder(PERSONAL_CONTENT, user)
    assert not [p for p in folder.iterdir() if p.name.startswith(".staging")]


def test_too_few_photos_is_a_clear_message_not_a_model(trained, capsys):
    lib = trained["library"]
    bob = lib.users.get_or_create("bob").id
    photo = trained["photos"] / trained["labels"][0][0]
    lib.assignments.assign(bob, [lib.items.by_path(photo).id], ["cat"])
    result, _ = drive(train_user(lib, bob))
    assert result["event"] == "skipped" and "at least" in result["message"]
    assert active_version(lib, PERSONAL_CONTENT, bob) is None


def test_cli_train_makes_a_new_active_version(trained, capsys):
    lib, root = trained["library"], trained["root"]
    code = cli_main(["train", "--library", str(root / "lib"), "--user", "ana", "--json",
                     "--models", str(trained["models"])])
    out = json.loads(capsys.readouterr().out)
    assert code == 1 and out["event"] == "skipped" and "nothing new since v0001" in out["message"]
    code = cli_main(["train", "--library", str(root / "lib"), "--user", "ana", "--json",
                     "--models", str(trained["models"]), "--full"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0, out
    assert out["event"] == "done" and out["version"] == "v0002"
    assert out["metrics"]["mode"] == "full"
    assert active_version(lib, PERSONAL_CONTENT, trained["user"]).version == "v0002"


def test_photos_that_all_carry_the_same_tags_are_a_skip_not_an_error(trained, tmp_path):
    """Found by the session replay (flickr-paris): an owner's first 20 photos carry the same
    five tags, so CNN-PerMLP has no negative to draw; the other model (or a clear skip) must
    answer, never an error."""
    photos = tmp_path / "photos"
    photos.mkdir()
    for name, _ in trained["labels"][:12]:
        shutil.copy(trained["photos"] / name, photos / name)
    lib = Library.open(tmp_path / "lib" / "tagassist.db")
    try:
        carol = lib.users.get_or_create("carol").id
        drive(import_folder(lib, photos, user_id=carol, thumbnails_dir=tmp_path / "thumbs"))
        drive(featurize_library(lib, Models(trained["models"]), threading.Event()))
        lib.assignments.assign(
            carol, [lib.items.by_path(photos / n).id for n, _ in trained["labels"][:12]],
            ["paris", "france"])
        result, _ = drive(train_user(lib, carol))
        assert result["event"] in ("done", "skipped"), result
        if result["event"] == "skipped":
            assert "no model could learn" in result["message"] \
                or "not better" in result["message"], result
    finally:
        lib.close()
