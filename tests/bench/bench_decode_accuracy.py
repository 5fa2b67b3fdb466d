"""Benchmark: what decoding JPEGs at the model's size (DCT scaling) costs in accuracy.

The same photos through three decodes: ``full`` (today's reference), ``draft256`` (the smallest
DCT scale whose short side is >= the model's ``resize_shorter``, 256) and ``draft512``.  Then
the rest of the pipeline as the app runs it (resize, crop, Lite0, image words, vocabulary).

- ``coco_camera``: the 204 tagged COCO val2017 photos of ``coco-val2017-283``, each upscaled
  (Lanczos) to a 12 MP camera size (long side 4000) and saved as JPEG q90, so DCT scaling acts
  (1/8) as on a camera photo.  COCO's own files are 640 px: draft leaves almost all of them
  untouched (``coco_native`` counts and measures them as they are).  Upscaling adds no
  detail, so this isolates the decode's filter, not the aliasing of fine real texture:
- ``real_camera``: the camera photos of ``real-photos-exif-63`` that draft shrinks (no labels:
  agreement with the full decode only, next to a JPEG q90 re-encode of the full decode as the
  size of an ordinary, harmless perturbation).

Per photo: P@5 / R@5 of the cold-start suggestions (``bench_coco_cold_start``: image words ->
vocabulary of COCO categories + supercategories), image-word P@5 (the 5 best image words that
are a truth tag, exact after normalizing), P@5 of the naive ImageNet-top-5 baseline, and
look-alike P@5 (the tags of the 10 most similar other photos by embedding, similarity-weighted);
``mixed``: draft photos looked up among full-decode neighbours (what a library mixing both
would do).  Differences are paired per photo: mean, standard deviation, a 95 % interval of the
mean (normal, mean +- 1.96 sd / sqrt(n)), photos better / worse.

    python -m tests.bench.bench_decode_accuracy [--data DIR] [--keep DIR] [--json PATH]

Writes docs/results/decode-accuracy.json by default; prints {"skipped": reason} and exits 0
when the data or the models are absent.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image

from tagassist.library.names import normalize
from tagassist.media.errors import MediaError
from tagassist.media.preprocess import Preprocessing, load_rgb
from tagassist.suggest.encoders import ImageEncoder, TextEncoder
from tagassist.suggest.image_words import ImageWords
from tagassist.suggest.vocabulary import TagVocabulary
from tests.bench.bench_coco_cold_start import SET, K, load, naive, skip_reason
from tests.bench.report import write_report
from trainer.datasets import data_dir  # plain paths and numpy: no torch

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "results" / "decode-accuracy.json"
REAL = "real-photos-exif-63"
CAMERA_LONG_SIDE = 4000  # 12 MP at 4:3
NEIGHBOURS = 10
DECODES = {"full": None, "draft256": 256, "draft512": 512}


def decoded_size(path: Path, draft_to: int | None) -> tuple[int, int]:
    """The size libjpeg decodes ``path`` at with this draft target (full size without one)."""
    with Image.open(path) as img:
        if draft_to:
            img.draft("RGB", (draft_to, draft_to))
        return img.size


def upscale_to_camera(src: Path, dst: Path) -> Path:
    """``src`` upscaled (Lanczos) to a long side of 4000 px, as a JPEG q90 at ``dst``."""
    if not dst.is_file():
        with Image.open(src) as img:
            rgb = img.convert("RGB")
            scale = CAMERA_LONG_SIDE / max(rgb.size)
            size = (round(rgb.width * scale), round(rgb.height * scale))
            rgb.resize(size, Image.Resampling.LANCZOS).save(dst, quality=90)
    return dst


def encode(encoder: ImageEncoder, paths: list[Path], spec: Preprocessing
           ) -> tuple[np.ndarray, np.ndarray]:
    """(logits, unit embeddings) of ``paths`` decoded with ``spec``."""
    logits, emb = encoder.encode_arrays([spec.array(p) for p in paths])
    return logits, emb / np.linalg.norm(emb, axis=1, keepdims=True)


def reencoded(encoder: ImageEncoder, paths: list[Path]) -> tuple[np.ndarray, np.ndarray]:
    """Full decode of each photo after one JPEG q90 re-encode: an ordinary perturbation."""
    spec = replace(encoder.preprocessing, draft_to=None)
    arrays = []
    for p in paths:
        buf = io.BytesIO()
        load_rgb(p).save(buf, "JPEG", quality=90)
        with Image.open(buf) as again:
            arrays.append(spec.array(again))
    logits, emb = encoder.encode_arrays(arrays)
    return logits, emb / np.linalg.norm(emb, axis=1, keepdims=True)


def hits_at_k(ranked: list[str], truth: set[str]) -> int:
    return len(set(ranked[:K]) & truth)


def look_alike_tags(query: np.ndarray, pool: np.ndarray, truths: list[set[str]], i: int
                    ) -> list[str]:
    """Tags of the photos most similar to ``query`` (photo ``i`` itself left out)."""
    sims = pool @ query
    sims[i] = -np.inf
    votes: dict[str, float] = {}
    for j in np.argsort(-sims)[:NEIGHBOURS]:
        for tag in truths[j]:
            votes[tag] = votes.get(tag, 0.0) + float(sims[j])
    return sorted(votes, key=lambda t: (-votes[t], t))[:K]


def per_photo(run: dict[str, np.ndarray], reference_emb: np.ndarray, truths: list[set[str]],
              iw: ImageWords, tags: TagVocabulary, vocab: list[str]) -> dict[str, np.ndarray]:
    """Per-photo scores of one decode (``reference_emb``: the full decode's embeddings)."""
    logits, emb = run["logits"], run["emb"]
    truth_keys = [{normalize(t) for t in truth} for truth in truths]
    cold, cold_r, words_p, naive_p, alike, mixed = [], [], [], [], [], []
    for i, truth in enumerate(truths):
        words = iw.words(logits[i])
        suggested = [t for t, _, _ in tags.match(words, limit=K)]
        h = hits_at_k(suggested, truth)
        cold.append(h / K)
        cold_r.append(h / len(truth))
        top_words = [normalize(w) for w, _, _ in words[:K]]
        words_p.append(len(set(top_words) & truth_keys[i]) / K)
        naive_p.append(hits_at_k(naive(iw, logits[i], vocab), truth) / K)
        alike.append(hits_at_k(look_alike_tags(emb[i], emb, truths, i), truth) / K)
        mixed.append(hits_at_k(look_alike_tags(emb[i], reference_emb, truths, i), truth) / K)
    return {"cold_start_p@5": np.array(cold), "cold_start_r@5": np.array(cold_r),
            "image_words_p@5": np.array(words_p), "naive_top5_p@5": np.array(naive_p),
            "look_alike_p@5": np.array(alike), "look_alike_mixed_p@5": np.array(mixed)}


def paired(after: np.ndarray, before: np.ndarray) -> dict[str, float]:
    """Mean per-photo difference (after - before), its sd and 95 % interval, photos moved."""
    d = after - before
    n = len(d)
    sd = float(d.std(ddof=1)) if n > 1 else 0.0
    half = 1.96 * sd / math.sqrt(n) if n else 0.0
    return {"mean_diff": round(float(d.mean()), 4), "sd": round(sd, 4),
            "ci95": [round(float(d.mean()) - half, 4), round(float(d.mean()) + half, 4)],
            "better": int((d > 0).sum()), "worse": int((d < 0).sum())}


def agreement(run: dict[str, np.ndarray], full: dict[str, np.ndarray], iw: ImageWords
              ) -> dict[str, float]:
    """How close a decode's outputs stay to the full decode's, over the photos."""
    cos = (run["emb"] * full["emb"]).sum(axis=1)
    top1 = run["logits"].argmax(1) == full["logits"].argmax(1)
    overlap = [len({w for w, _, _ in iw.words(a)[:K]} & {w for w, _, _ in iw.words(b)[:K]}) / K
               for a, b in zip(run["logits"], full["logits"], strict=True)]
    return {"embedding_cosine_median": round(float(np.median(cos)), 4),
            "embedding_cosine_min": round(float(cos.min()), 4),
            "top1_class_same": round(float(top1.mean()), 4),
            "image_words_top5_overlap": round(float(np.mean(overlap)), 4),
            "max_abs_logit_diff": round(float(np.abs(run["logits"] - full["logits"]).max()), 3)}


def labelled(encoder: ImageEncoder, paths: list[Path], truths: list[set[str]],
             iw: ImageWords, tags: TagVocabulary, vocab: list[str]) -> dict[str, object]:
    runs = {}
    for name, draft_to in DECODES.items():
        t = time.perf_counter()
        logits, emb = encode(encoder, paths, replace(encoder.preprocessing, draft_to=draft_to))
        runs[name] = {"logits": logits, "emb": emb, "s": time.perf_counter() - t}
    scores = {name: per_photo(r, runs["full"]["emb"], truths, iw, tags, vocab)
              for name, r in runs.items()}
    out: dict[str, object] = {
        "photos": len(paths),
        "shrunk_by_draft": {name: sum(decoded_size(p, d) != decoded_size(p, None)
                                      for p in paths) for name, d in DECODES.items() if d},
        "decode_and_encode_s": {n: round(r["s"], 1) for n, r in runs.items()},
        "mean": {name: {m: round(float(v.mean()), 4) for m, v in s.items()}
                 for name, s in scores.items()},
    }
    out["paired_vs_full"] = {
        name: {m: paired(scores[name][m], scores["full"][m]) for m in scores[name]}
        for name in DECODES if name != "full"}
    out["agreement_vs_full"] = {name: agreement(runs[name], runs["full"], iw)
                                for name in DECODES if name != "full"}
    return out


def unlabelled(encoder: ImageEncoder, paths: list[Path], iw: ImageWords) -> dict[str, object]:
    full = dict(zip(("logits", "emb"), encode(encoder, paths, replace(
        encoder.preprocessing, draft_to=None)), strict=True))
    out: dict[str, object] = {"photos": len(paths), "sizes": sorted({
        f"{w}x{h}" for w, h in (decoded_size(p, None) for p in paths)})}
    for name, draft_to in DECODES.items():
        if draft_to:
            run = dict(zip(("logits", "emb"), encode(encoder, paths, replace(
                encoder.preprocessing, draft_to=draft_to)), strict=True))
            out[name] = agreement(run, full, iw)
    out["jpeg_q90_reencode"] = agreement(dict(zip(("logits", "emb"), reencoded(
        encoder, paths), strict=True)), full, iw)
    return out


def shrinkable(paths: list[Path], draft_to: int) -> list[Path]:
    """The JPEGs that libjpeg would decode smaller at this draft target."""
    found = []
    for p in paths:
        try:
            if decoded_size(p, draft_to) != decoded_size(p, None):
                found.append(p)
        except (OSError, MediaError):
            continue
    return found


def run(data: Path, work: Path) -> dict[str, object]:
    photos, vocab = load(data / SET)
    paths, truths = [p for p, _ in photos], [t for _, t in photos]
    encoder = ImageEncoder(ROOT / "models" / "image-lite0")
    iw = ImageWords()
    tags = TagVocabulary(TextEncoder(ROOT / "models" / "text-minilm"), vocab)
    work.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    camera = [upscale_to_camera(p, work / p.name) for p in paths]
    print(f"{len(camera)} photos at camera size in {time.perf_counter() - t:.0f} s",
          file=sys.stderr)
    result: dict[str, object] = {
        "data": SET, "k": K, "neighbours": NEIGHBOURS, "decodes": DECODES,
        "coco_camera": labelled(encoder, camera, truths, iw, tags, vocab),
        "coco_native": labelled(encoder, paths, truths, iw, tags, vocab),
    }
    real = data / REAL / "images"
    if real.is_dir():
        result["real_camera"] = unlabelled(
            encoder, shrinkable(sorted(real.glob("*.jp*g")) + sorted(real.glob("*.JP*G")), 256),
            iw)
    return result


def table(result: dict) -> str:
    lines = ["set / measure: full | draft256 (diff, 95% CI) | draft512 (diff, 95% CI)"]
    for where in ("coco_camera", "coco_native"):
        block = result[where]
        for m, full in block["mean"]["full"].items():
            cells = [f"{full:.3f}"]
            for name in ("draft256", "draft512"):
                p = block["paired_vs_full"][name][m]
                cells.append(f"{block['mean'][name][m]:.3f} ({p['mean_diff']:+.4f}, "
                             f"[{p['ci95'][0]:+.4f}, {p['ci95'][1]:+.4f}])")
            lines.append(f"{where} {m}: " + " | ".join(cells))
    if "real_camera" in result:
        for name, a in result["real_camera"].items():
            if isinstance(a, dict):
                lines.append(f"real_camera {name}: {a}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="default: data_dir()")
    parser.add_argument("--keep", type=Path, help="keep the camera-size photos here (reused)")
    parser.add_argument("--json", type=Path, default=OUT, help=f"default: {OUT}")
    args = parser.parse_args(argv)
    data = args.data or data_dir()
    skipped = skip_reason(data / SET)
    if skipped:
        print(json.dumps({"skipped": skipped}))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        result = run(data, args.keep or Path(tmp) / "camera")
    write_report(args.json, result, table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
