"""Benchmark: cold-start image tags on real COCO photos, no training at all.

For each of the 204 tagged photos of ``coco-val2017-283`` the pipeline the app runs for a new
photo -- ``ImageEncoder`` -> ``ImageWords`` -> ``TagVocabulary.match`` over a vocabulary of the
80 COCO categories + their supercategories -- proposes 5 tags; truth is the photo's categories
+ supercategories.  P@5 and R@5 as pinned in EVALUATION.md (P@K = hits / K even when fewer are
returned; R@K = hits / |truth|; mean over all tagged photos).  Baseline ("naive"): the names of
the ImageNet top-5 classes matched to tags by exact (normalized) string only.  A sweep over the
similarity threshold is reported too: it is how ``vocabulary.DEFAULT_THRESHOLD`` was chosen.

    python -m tests.bench.bench_coco_cold_start [--data DIR]

Prints one JSON object; prints {"skipped": reason} and exits 0 when the data or the models
are absent.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

from tagassist.library.names import normalize
from tagassist.suggest.encoders import ImageEncoder, TextEncoder
from tagassist.suggest.image_words import ImageWords
from tagassist.suggest.vocabulary import DEFAULT_THRESHOLD, TagVocabulary
from trainer.datasets import data_dir  # plain paths and numpy: no torch

ROOT = Path(__file__).resolve().parents[2]
SET = "coco-val2017-283"
K = 5
SWEEP = (0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8, 0.999)


def split(cell: str) -> list[str]:
    return [v.strip() for v in cell.split("|") if v.strip()]


def load(folder: Path) -> tuple[list[tuple[Path, set[str]]], list[str]]:
    """(photo, truth tags) for the tagged photos, and the vocabulary (categories + supers)."""
    photos, vocab = [], {}
    with (folder / "labels.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            tags = split(row["tags"]) + split(row["supercategories"])
            vocab.update(dict.fromkeys(tags))
            if tags:
                photos.append((folder / "images" / row["filename"], set(tags)))
    return photos, sorted(vocab)


def p_r(ranked: list[list[str]], truths: list[set[str]]) -> dict[str, float]:
    hits = [len(set(r[:K]) & t) for r, t in zip(ranked, truths, strict=True)]
    n = len(truths)
    return {"p@5": round(sum(h / K for h in hits) / n, 4),
            "r@5": round(sum(h / len(t) for h, t in zip(hits, truths, strict=True)) / n, 4)}


def naive(iw: ImageWords, logits_row, vocab: list[str]) -> list[str]:
    """ImageNet top-5 class names -> tags with the same normalized name, in class order."""
    by_key = {normalize(t): t for t in vocab}
    out: list[str] = []
    for index, _prob in iw.top_classes(logits_row, K):
        for name in iw.classes[index].names:
            tag = by_key.get(normalize(name))
            if tag and tag not in out:
                out.append(tag)
    return out


def run(folder: Path) -> dict[str, object]:
    photos, vocab = load(folder)
    t0 = time.perf_counter()
    images = ImageEncoder(ROOT / "models" / "image-lite0")
    logits, _ = images.encode([p for p, _ in photos])
    encode_s = time.perf_counter() - t0
    iw = ImageWords()
    tags = TagVocabulary(TextEncoder(ROOT / "models" / "text-minilm"), vocab)
    truths = [t for _, t in photos]
    words = [iw.words(row) for row in logits]
    t0 = time.perf_counter()
    method = [[t for t, _, _ in tags.match(w, limit=K)] for w in words]
    match_ms = 1000 * (time.perf_counter() - t0) / len(photos)  # embeds new words too
    t0 = time.perf_counter()
    for w in words:
        tags.match(w, limit=K)
    warm_ms = 1000 * (time.perf_counter() - t0) / len(photos)  # every word cached
    sweep = {}
    for threshold in SWEEP:
        tags.threshold = threshold
        sweep[str(threshold)] = p_r([[t for t, _, _ in tags.match(w, limit=K)] for w in words],
                                    truths)
    tags.threshold = DEFAULT_THRESHOLD
    example = {photos[i][0].name: {"truth": sorted(truths[i]), "suggested": method[i]}
               for i in range(3)}
    return {
        "data": SET, "photos": len(photos), "vocabulary": len(vocab), "k": K,
        "image_words_plus_vocabulary": {**p_r(method, truths), "threshold": DEFAULT_THRESHOLD,
                                        "top_k_classes": 5, "decay": iw.decay},
        "naive_top5_exact": p_r([naive(iw, row, vocab) for row in logits], truths),
        "threshold_sweep": sweep,
        "encode_s": round(encode_s, 2), "match_ms_per_photo": round(match_ms, 2),
        "match_ms_per_photo_cached": round(warm_ms, 2),
        "examples": example,
    }


def skip_reason(folder: Path) -> str | None:
    """Why the bench cannot run here (the set or a default model missing), else None."""
    if not (folder / "labels.csv").is_file():
        return f"{folder} not found"
    for model in ("image-lite0", "text-minilm"):
        if not (ROOT / "models" / model / "model.onnx").is_file():
            return f"models/{model} not built (python -m trainer.export)"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="default: data_dir()")
    args = parser.parse_args(argv)
    folder = (args.data or data_dir()) / SET
    skipped = skip_reason(folder)
    if skipped:
        print(json.dumps({"skipped": skipped}))
        return 0
    print(json.dumps(run(folder), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
