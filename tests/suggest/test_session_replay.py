"""The session replay (EVALUATION.md `session`) end to end on a small library it has not seen:
real JPEGs with EXIF times, GPS and titles, the bundled models, the app's own serving path."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

from tagassist.library import Library
from tagassist.paths import sample_library_dir
from trainer.replay_sets import flickr_jpeg
from trainer.session_replay import SERIES, main

EVENTS = [  # (day, lat, lon, title word, tags): three bursts, each with its own tags
    ("2021-03-0{}", 52.37, 4.90, "Canal", ["amsterdam", "canal", "bike"]),
    ("2021-07-1{}", 45.44, 12.33, "Gondola", ["venice", "gondola", "italy"]),
    ("2022-01-0{}", 46.56, 7.98, "Peak", ["alps", "snow", "ski"]),
]


def write_library(folder: Path) -> Path:
    """8 photos per event plus one photo whose sidecar carries keywords (never imported)."""
    folder.mkdir()
    rows = []
    for e, (day, lat, lon, word, tags) in enumerate(EVENTS):
        for n in range(8):
            name = f"e{e}-{n}.jpg"
            record = {"name": name, "datetaken": f"{day.format(n // 4 + 1)} 1{n}:00:00",
                      "latitude": str(lat + n / 1000), "longitude": str(lon),
                      "title": f"{word} {n}"}
            (folder / name).write_bytes(flickr_jpeg(record))
            rows.append({"filename": name, "tags": "|".join(tags), "datetime": ""})
    sample = sample_library_dir() / "2023-amsterdam"
    shutil.copy(sample / "grass.jpg", folder / "grass.jpg")
    shutil.copy(sample / "grass.xmp", folder / "grass.xmp")
    rows.append({"filename": "grass.jpg", "tags": "", "datetime": ""})  # no truth: not replayed
    truth = folder.parent / "labels.csv"
    with open(truth, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, ["filename", "tags", "datetime"])
        writer.writeheader()
        writer.writerows(rows)
    return truth


def test_replay_of_a_bursty_library_beats_the_popularity_baselines(models_dir, tmp_path):
    truth = write_library(tmp_path / "photos")
    out = tmp_path / "out.json"
    assert main(["--photos", str(tmp_path / "photos"), "--truth", str(truth), "--top", "5",
                 "--train-every", "8", "--train", "blend", "--json", str(out),
                 "--plot", str(tmp_path / "curve.png"), "--dump", str(tmp_path / "d.npz"),
                 "--models", str(models_dir)]) == 0
    result = json.loads(out.read_text())
    assert result["photos"] == 24 and result["not_in_library"] == []
    res = result["results"]
    assert set(res) == set(SERIES)
    acc = {name: res[name]["acceptance@5"] for name in SERIES}
    # Each burst starts with tags no history knows; the app follows time, place and titles.
    assert acc["tagassist"] > acc["frequent"] + 0.05 and acc["tagassist"] > acc["recent"]
    assert [s["photos"] for s in res["tagassist"]["segments"]] == ["1-20", "21-24"]
    assert len(result["trainings"]) == 2  # after photos 8 and 16
    # after 8 photos the blend has too little to learn from (a clear skip); after 16 the
    # training measured the generated set against the list on the newest photos
    first, second = (t["blend"] for t in result["trainings"])
    assert first["event"] == "skipped" and "needed" in first["message"]
    assert "set_acceptance@5" in second["metrics"]
    assert result["latency_ms"]["suggest"]["p50"] > 0
    assert 0 < result["accepted_share"] <= 1
    first = result["per_photo"][0]
    assert first["file"] == "e0-0.jpg" and first["truth"] == EVENTS[0][4]
    assert (tmp_path / "curve.png").stat().st_size > 0 and (tmp_path / "d.npz").exists()


def test_keywords_in_files_are_not_imported_and_decisions_are_logged(models_dir, tmp_path):
    from trainer.session_replay import replay

    truth = write_library(tmp_path / "photos")
    work = tmp_path / "work"
    replay(tmp_path / "photos", truth, train_every=0, models_dir=models_dir, workdir=work)
    library = Library.open(work / "library" / "tagassist.db")
    try:
        user = library.users.get_or_create("replay").id
        grass = library.items.by_path(str((tmp_path / "photos" / "grass.jpg").resolve()))
        # the sidecar's keywords are not taken
        assert grass is not None and library.assignments.tags_of(grass.id) == []
        decisions = library.assignments.decisions(user)
        assert decisions and any(d.accepted for d in decisions)
        assert any(not d.accepted for d in decisions)
        tagged = library.queries.tagged(user)
        assert len(tagged) == 24
    finally:
        library.close()
