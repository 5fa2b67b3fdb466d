"""The tagged photos of two shared sets as posts with SOG's fused photo contexts (paper 3.4).

Each set gives the fields it really has:

- ``coco-val2017-283``: image words (the app's featurizer: EfficientNet-Lite0 ONNX + ImageWords,
  exactly what ``tagassist`` stores per photo), the human captions as text (``captions``), GPS
  and EXIF time where present; tags are the object categories; one pseudo-user ``coco``.
- ``flickr-hucvl-summary-set``: title + description as text, place from latitude/longitude
  (``tagassist.media.places``), time words from ``datetaken``; no image files (URLs only), so no
  image words; users are the owners.

The context string is :func:`tagassist.suggest.sog_context.photo_context` — the app builds the
same string for a library photo, so what the served model saw in training is what it gets.
Loaded by name as ``trainer.datasets.load("photos")``; used by ``trainer.sog_photos``.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

from tagassist.media.places import place_name
from tagassist.suggest.sog_context import photo_context
from trainer.data import TagData, from_records, parse_time, read_text

COCO, FLICKR = "coco-val2017-283", "flickr-hucvl-summary-set"


def _float(x: str | None) -> float | None:
    try:
        return float(x) if x not in (None, "") else None
    except ValueError:
        return None


def coco_image_words(root: Path, files: list[str]) -> dict[str, list[str]]:
    """The featurizer's image words per COCO file (best first), from the app's ONNX model."""
    from tagassist.paths import bundled_models_dir
    from tagassist.suggest.encoders import ImageEncoder
    from tagassist.suggest.featurize import IMAGE_MODEL, IMAGE_WORDS_KEPT
    from tagassist.suggest.image_words import ImageWords

    enc, words = ImageEncoder(bundled_models_dir() / IMAGE_MODEL), ImageWords()
    out: dict[str, list[str]] = {}
    for a in range(0, len(files), 16):
        chunk = files[a:a + 16]
        logits, _emb = enc.encode([root / "images" / f for f in chunk])
        for f, row in zip(chunk, logits, strict=True):
            out[f] = [w for w, _s, _r in words.words(row, limit=IMAGE_WORDS_KEPT)]
    return out


def photo_posts(root: Path, captions: bool = True) -> TagData:
    """COCO + Flickr tagged photos under the shared data folder ``root``, fused contexts."""
    recs: list[tuple[str, str, str, float]] = []
    text: dict[str, str] = {}
    with (root / COCO / "labels.csv").open(encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["tags"].strip()]
    image_words = coco_image_words(root / COCO, [r["filename"] for r in rows])
    for r in rows:
        item = f"coco:{r['filename']}"
        lat, lon = _float(r.get("gps_lat")), _float(r.get("gps_lon"))
        place = place_name(lat, lon) if lat is not None and lon is not None else None
        when = (r.get("exif_datetime_original") or "").replace(":", "-", 2) or None
        caps = " ".join(c.strip() for c in r["captions"].split("||")) if captions else ""
        text[item] = photo_context(image_words[r["filename"]], when, place, caps, lat)
        recs += [("coco", item, t, 0.0) for t in r["tags"].split("|") if t]
    for path in sorted((root / FLICKR).glob("*.json")):
        for r in json.loads(read_text(path)):
            tags = (r.get("tags") or "").split()
            if not tags:
                continue
            item = f"flickr:{r['name']}"
            lat, lon = _float(r.get("latitude")), _float(r.get("longitude"))
            place = place_name(lat, lon) if lat is not None and lon is not None else None
            desc = (r.get("desc") or {}).get("_content", "")
            words = f"{r.get('title', '')} {' '.join(desc.split())}"
            text[item] = photo_context([], r.get("datetaken"), place, words, lat)
            ts = parse_time(r["datetaken"]) if r.get("datetaken") else 0.0
            recs += [(r["owner"], item, t, ts) for t in tags]
    return from_records(recs, text, name="photos")
