"""JSON / CSV export of the folksonomy."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from tagassist.library import Library, export_csv, export_json

from .conftest import add_items


def test_export_round_trip(lib: Library, tmp_path: Path) -> None:
    ann = lib.users.add("ann")
    a, b = add_items(lib, 2)
    lib.items.upsert("h0", "photo", "/elsewhere/copy.jpg", 100, 1.0)  # a second path for a
    lib.assignments.assign(ann.id, [a, b], ["beach", "places|Europe|Paris"])
    lib.assignments.record_decisions(ann.id, a, [("sea", True, 1, 0.7, "m1")])

    out = export_json(lib, tmp_path / "out" / "tags.json")
    doc = json.loads(out.read_text(encoding="utf-8"))
    rows = doc["assignments"]
    assert len(rows) == 5
    first = rows[0]
    assert first["item_paths"] == ["/photos/h0.jpg", "/elsewhere/copy.jpg"]
    assert first["user"] == "ann" and first["tag"] == "beach" and first["content_hash"] == "h0"
    assert {r["tag"] for r in rows} == {"beach", "places|Europe|Paris", "sea"}
    assert [r["source"] for r in rows if r["tag"] == "sea"] == ["suggestion"]

    out_csv = export_csv(lib, tmp_path / "tags.csv")
    with out_csv.open(newline="", encoding="utf-8") as fh:
        csv_rows = list(csv.DictReader(fh))
    assert len(csv_rows) == len(lib.queries.tag_history(ann.id)) == 5
    assert csv_rows[0]["item_paths"] == "/photos/h0.jpg;/elsewhere/copy.jpg"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lib", "out", "tags.csv"]  # no temps
