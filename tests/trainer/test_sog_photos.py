"""The photo context ablation: leaving fields (and COCO's captions) out, and its summary."""
from __future__ import annotations

import pytest

from tagassist.suggest.sog_context import fuse
from trainer.data import from_records
from trainer.sog_photos import summarize, with_fields

COCO = fuse(["tabby", "cat"], [], [], "a cat sleeping on a sofa")
FLICKR = fuse([], ["paris"], ["spring", "evening"], "eiffel tower")


def photos():
    recs = [("u0", "coco:1", "cat", 0.0), ("u1", "flickr:2", "paris", 0.0)]
    return from_records(recs, {"coco:1": COCO, "flickr:2": FLICKR}, name="photos")


def test_fields_left_out_keep_the_markers_and_the_rest():
    data = photos()
    out = with_fields(data, ("image", "place", "time"))
    assert out.item_text["coco:1"] == fuse(["tabby", "cat"], [], [], "")
    assert out.item_text["flickr:2"] == fuse([], ["paris"], ["spring", "evening"], "")
    assert data.item_text["coco:1"] == COCO  # the original posts are untouched
    assert out.tags == data.tags and (out.tag == data.tag).all()


def test_without_captions_only_coco_loses_its_text():
    out = with_fields(photos(), ("image", "place", "time", "text"), captions=False)
    assert out.item_text["coco:1"] == fuse(["tabby", "cat"], [], [], "")
    assert out.item_text["flickr:2"] == FLICKR  # Flickr's title and description stay


def test_summary_averages_over_seeds_per_variant_and_source():
    def run(variant, seed, p1, r5):
        scores = {"posts": 10, "p@1": p1, "r@5": r5}
        return {"variant": variant, "seed": seed, "all": scores, "coco": scores,
                "flickr": scores}

    runs = [run("all fields", 0, 0.5, 0.25), run("all fields", 1, 0.7, 0.35),
            run("w/o text", 0, 0.4, 0.2)]
    summary = summarize(runs)
    assert list(summary) == ["all fields", "w/o text"]
    row = summary["all fields"]["coco"]
    assert row["seeds"] == 2 and row["posts"] == 20
    assert row["p@1"] == pytest.approx(0.6) and row["p@1 std"] == pytest.approx(0.1)
    assert row["r@5"] == pytest.approx(0.3)
    assert summary["w/o text"]["all"]["r@5 std"] == 0.0
