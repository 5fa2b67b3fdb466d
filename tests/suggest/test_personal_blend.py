"""The personal job's first stage: the blend refitted on one person's library, guarded."""

from __future__ import annotations

import threading
from pathlib import Path

from tagassist.library import Library
from tagassist.suggest.featurize import Models
from tagassist.suggest.generated_set import SET_HIDDEN
from tagassist.suggest.model_store import BLEND_FILE, PERSONAL_BLEND, active_version
from tagassist.suggest.personal_blend import MIN_ITEMS, acceptance, replay_cases
from tagassist.suggest.service import ColdStartSuggester
from tagassist.suggest.training import personal_job

EVENTS = [["beach", "sea"], ["snow", "ski"], ["city", "night"], ["forest", "hike"]]


def bursty_library(path, per_event: int = 8) -> tuple[Library, int]:
    """Four events of ``per_event`` photos each, hours apart inside, weeks apart between."""
    lib = Library.open(path)
    user = lib.users.add("ann").id
    for e, tags in enumerate(EVENTS):
        for n in range(per_event):
            item, _ = lib.items.upsert(f"{e}-{n}", "photo", f"/p/{e}-{n}.jpg", 1, 1.0,
                                       capture_time=f"2023-0{e + 1}-10T{10 + n:02d}:00:00")
            lib.assignments.assign(user, [item.id], tags)
    return lib, user


def test_the_job_refits_the_blend_and_publishes_it_when_not_worse(models_dir, tmp_path):
    lib, user = bursty_library(tmp_path / "lib" / "tagassist.db")
    try:
        suggester = ColdStartSuggester(lib, Models(models_dir))
        cases, items = replay_cases(suggester, user)
        assert len(cases) == 31 and len(items) == 31  # the very first item has no past
        found, kept = cases[10]  # an item inside the second event, as before it was tagged
        assert set(found.tags) >= {"beach", "sea", "snow", "ski"} and kept.sum() == 2
        assert acceptance(suggester.default_blend, cases[-6:]) >= 0.2
        job = personal_job(suggester, user, threading.Event(), parts=("blend",))
        events = []
        while True:
            try:
                events.append(next(job))
            except StopIteration as stop:
                result = stop.value
                break
        assert events[0] == {"event": "progress", "stage": "blend"}
        blend = result["blend"]
        assert blend["event"] == "done", blend
        record = active_version(lib, PERSONAL_BLEND, user)
        assert record is not None and record.version == blend["version"] == "v0001"
        m = record.metrics
        assert m["acceptance@5_candidate"] >= m["acceptance@5_served"]
        weights = suggester.blend_weights(user)
        assert weights.source == "personal" and weights.weights != suggester.default_blend.weights
        # these photos were never analysed: no set could be made to measure, so it stays
        # hidden for the first reason (test_session_replay measures it on real photos)
        assert "set_acceptance@5" not in m and suggester.set_verdict(user) == SET_HIDDEN
        assert suggester.models_info(user)[PERSONAL_BLEND] == "v0001"
        # a damaged blend file: the default blend serves, and the message names the file
        (Path(record.path) / BLEND_FILE).write_text("{not json")
        fresh = ColdStartSuggester(lib, Models(models_dir))
        assert fresh.blend_weights(user).source.startswith("default")
        why = fresh.models_info(user)["unavailable"][PERSONAL_BLEND]
        assert record.path in why and "default blend is used" in why
        # suggestions go on: a new photo in the first event's hours gets that event's tags
        item, _ = lib.items.upsert("new", "photo", "/p/new.jpg", 1, 1.0,
                                   capture_time="2023-01-10T13:30:00")
        assert {s.tag for s in fresh.suggest(item, user, top=3)} >= set(EVENTS[0])
    finally:
        lib.close()


def test_too_few_items_is_a_clear_skip(models_dir, tmp_path):
    lib, user = bursty_library(tmp_path / "lib" / "tagassist.db", per_event=2)
    try:
        suggester = ColdStartSuggester(lib, Models(models_dir))
        from tagassist.suggest.personal_blend import fit_personal_blend

        out = fit_personal_blend(suggester, user)
        assert out["event"] == "skipped" and f"{MIN_ITEMS} needed" in out["message"]
        assert active_version(lib, PERSONAL_BLEND, user) is None
        assert suggester.blend_weights(user).source.startswith("default")
    finally:
        lib.close()
