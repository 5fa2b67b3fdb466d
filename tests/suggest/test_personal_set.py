"""The personal job's set stage: the generated set's table fitted on one person's own tags,
guarded on their newest photos, served by generate_set, and a damaged file named."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tagassist.library import Library
from tagassist.media.importer import import_folder
from tagassist.suggest.featurize import Models, featurize_library
from tagassist.suggest.model_store import PERSONAL_SET, SET_FILE, active_version
from tagassist.suggest.personal_set import MIN_PHOTOS, fit_personal_set
from tagassist.suggest.service import ColdStartSuggester
from trainer.replay_sets import flickr_jpeg

# Two of a person's habits in words the set model was never trained on, each with its
# place and title (what SOG's context carries for these flat-colour photos).
EVENTS = [("2021-05-0{}", 59.91, 10.75, "Fjord", ["kayak trip", "paddling", "oslofjord"]),
          ("2022-09-1{}", 48.14, 11.58, "Wiesn", ["oktoberfest", "pretzels", "lederhosen"])]
PER_EVENT = 8


def _drain(job):
    while True:
        try:
            next(job)
        except StopIteration as stop:
            return stop.value


def tagged_library(tmp_path: Path, models_dir: Path) -> tuple[Library, int, ColdStartSuggester]:
    photos = tmp_path / "photos"
    photos.mkdir()
    for e, (day, lat, lon, word, _tags) in enumerate(EVENTS):
        for n in range(PER_EVENT):
            record = {"name": f"e{e}-{n}.jpg", "datetaken": f"{day.format(n // 4 + 1)} 1{n}:00:00",
                      "latitude": str(lat + n / 1000), "longitude": str(lon),
                      "title": f"{word} {n}"}
            (photos / record["name"]).write_bytes(flickr_jpeg(record))
    lib = Library.open(tmp_path / "lib" / "tagassist.db")
    user = lib.users.get_or_create("ann").id
    _drain(import_folder(lib, photos, user_id=user, thumbnails_dir=tmp_path / "thumbs"))
    models = Models(models_dir)
    _drain(featurize_library(lib, models))
    # tagged in capture order, as a person works through their photos
    for e, (_day, _lat, _lon, _word, tags) in enumerate(EVENTS):
        for n in range(PER_EVENT):
            item = lib.items.by_path(str((photos / f"e{e}-{n}.jpg").resolve()))
            lib.assignments.assign(user, [item.id], tags)
    return lib, user, ColdStartSuggester(lib, models)


def test_the_set_learns_the_persons_own_tags_and_is_served(models_dir, tmp_path):
    lib, user, suggester = tagged_library(tmp_path, models_dir)
    try:
        photo = lib.items.by_path(str((tmp_path / "photos" / "e1-7.jpg").resolve()))
        before, _ = suggester.generate_set(photo, user, given=[], measure=True)
        out = fit_personal_set(suggester, user)
        assert out["event"] == "done", out
        m = out["metrics"]
        assert m["set_acceptance@5_candidate"] > m["set_acceptance@5_served"]
        record = active_version(lib, PERSONAL_SET, user)
        assert record is not None and record.version == out["version"] == "v0001"
        # what the window shows now: the person's own tags only, this event's first
        after, _ = suggester.generate_set(photo, user, given=[], measure=True)
        own = {t for *_x, tags in EVENTS for t in tags}
        assert {s.tag for s in after} <= own and {s.tag for s in before} != {s.tag for s in after}
        assert {s.tag for s in after[:3]} == set(EVENTS[1][4])
        assert suggester.models_info(user)[PERSONAL_SET] == "v0001"
        # a damaged table: named with its file, and the base table serves the set
        (Path(record.path) / SET_FILE).write_bytes(b"not an npz")
        fresh = ColdStartSuggester(lib, Models(models_dir))
        served, note = fresh.generate_set(photo, user, given=[], measure=True)
        assert served and not note
        why = fresh.models_info(user)["unavailable"][PERSONAL_SET]
        assert record.path in why and "base set serves" in why
    finally:
        lib.close()


def test_too_few_photos_is_a_clear_skip(models_dir, tmp_path):
    lib = Library.open(tmp_path / "lib" / "tagassist.db")
    try:
        user = lib.users.get_or_create("ann").id
        out = fit_personal_set(ColdStartSuggester(lib, Models(models_dir)), user)
        assert out["event"] == "skipped" and f"{MIN_PHOTOS} needed" in out["message"]
        assert active_version(lib, PERSONAL_SET, user) is None
    finally:
        lib.close()


def test_the_fit_moves_only_the_persons_rows(models_dir, tmp_path):
    lib, user, suggester = tagged_library(tmp_path, models_dir)
    try:
        fit_personal_set(suggester, user)
        gen = suggester.set_generator()
        table = suggester.set_table(gen, user)
        own = suggester.own_set_table(gen, user)
        assert table.names == own.names  # the person's vocabulary, nothing else
        moved = np.abs(table.out - own.out).sum(axis=1) > 0
        assert moved.any() and not any(own.known[moved])  # trained tags keep their rows
    finally:
        lib.close()
