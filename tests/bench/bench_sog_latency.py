"""Latency of a generated set (SOG, 5 greedy steps) for one photo through onnxruntime.

    python -m tests.bench.bench_sog_latency [--runs 200] [--json docs/results/sog-latency.json]

For each variant the same contexts (the export's parity contexts: the sample photos' image
words with places, times and text, as the app builds them) are decoded one photo at a time;
every step is one encoder run.

- ``served fp32``: ``models/sog-photos`` (the chosen 2-layer encoder) over its training tags
  plus 200 library tags encoded by text (the open vocabulary the app scores);
- ``served int8``: the same folder with ``model.onnx`` quantized by onnxruntime's
  ``quantize_dynamic`` (QInt8 weights); also how many of its sets equal the fp32 sets;
- ``6 layers fp32`` / ``6 layers int8``: the same head on all six MiniLM layers (untrained
  head: latency only), what the full-size encoder would cost;
- baseline, in the same process: one encoder run of the served model (a set costs ~5 of them).

Reported as medians and p95 in ms, and as ratios to the baseline.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from tagassist.paths import bundled_models_dir
from tagassist.suggest.encoders import TextEncoder
from tagassist.suggest.featurize import TEXT_MODEL
from tagassist.suggest.sog import SOG_PHOTOS, SetGenerator
from tests.bench.report import write_report
from trainer.export.sog import photo_check_contexts, quantized_copy, write_folder

OUT = Path(__file__).resolve().parents[2] / "docs" / "results" / "sog-latency.json"
LIBRARY_TAGS = [f"{w} {n}" for n in range(20) for w in (
    "holiday", "family", "garden", "street", "portrait", "sunset", "beach", "mountain",
    "museum", "food")]  # 200 tags that no training tag matches: text vectors


def six_layer_folder(served: Path, dest: Path) -> Path:
    """The served folder's tables and head on all 6 MiniLM layers (latency only)."""
    import json

    from trainer.models.sog import SOG1toM
    from trainer.models.sog_encoder import load_encoder

    names = json.loads((served / "tags.json").read_text())
    with np.load(served / "tables.npz") as z:
        tag_text = z["tag_text"]
    model = SOG1toM(layers=6, max_context=64, user_token=True)
    model.tags, model.n_tags, model.n_users = names["tags"], len(names["tags"]), len(names["users"])
    model.net = model._make_net(load_encoder(6, pretrained=True), tag_text).eval()
    dest.mkdir()
    write_folder(model, dest, names["users"], lambda _m: None, "sog-6-layers")
    return dest


def time_sets(gen: SetGenerator, table, ctxs: list[str], runs: int) -> tuple[list[float], list]:
    for c in ctxs:  # warm-up
        gen.generate(c, table, k=5)
    ms, sets = [], []
    for r in range(runs):
        c = ctxs[r % len(ctxs)]
        t0 = time.perf_counter()
        out = gen.generate(c, table, k=5)
        ms.append((time.perf_counter() - t0) * 1000)
        if r < len(ctxs):
            sets.append([t for t, _ in out])
    return ms, sets


def stats(ms: list[float]) -> dict[str, float]:
    q = np.percentile(ms, [50, 95])
    return {"p50_ms": round(float(q[0]), 2), "p95_ms": round(float(q[1]), 2),
            "mean_ms": round(statistics.fmean(ms), 2)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=200)
    p.add_argument("--json", type=Path, default=OUT)
    args = p.parse_args(argv)
    models = bundled_models_dir()
    served = models / SOG_PHOTOS
    ctxs = photo_check_contexts(models)
    text = TextEncoder(models / TEXT_MODEL)
    result: dict = {"runs": args.runs, "contexts": len(ctxs), "variants": {}}
    with tempfile.TemporaryDirectory() as tmp:
        folders = {"served fp32": served,
                   "served int8": quantized_copy(served, Path(tmp) / "int8"),
                   "6 layers fp32": six_layer_folder(served, Path(tmp) / "six")}
        folders["6 layers int8"] = quantized_copy(folders["6 layers fp32"], Path(tmp) / "six8")
        gens = {k: SetGenerator(v, providers=["CPUExecutionProvider"]) for k, v in folders.items()}
        base = gens["served fp32"]
        table = base.table(LIBRARY_TAGS, text)
        result["tags_scored"] = len(table.names)
        feeds = base._feeds(base.context_ids(ctxs[0]), [], table, 0)
        one = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            base.model.run(feeds, ["query"])
            one.append((time.perf_counter() - t0) * 1000)
        result["baseline: one encoder run (served fp32)"] = stats(one)
        ref_sets = None
        for name, gen in gens.items():
            tab = gen.table(LIBRARY_TAGS, text)
            ms, sets = time_sets(gen, tab, ctxs, args.runs)
            row = stats(ms)
            row["x_baseline_p50"] = round(row["p50_ms"] / result[
                "baseline: one encoder run (served fp32)"]["p50_ms"], 2)
            row["model_mb"] = round((folders[name] / "model.onnx").stat().st_size / 1e6, 1)
            if name == "served fp32":
                ref_sets = sets
            elif name == "served int8":
                pairs = list(zip(sets, ref_sets, strict=True))
                row["sets_equal_to_fp32"] = f"{sum(a == b for a, b in pairs)}/{len(pairs)}"
                row["tags_shared_with_fp32"] = round(float(np.mean(
                    [len(set(a) & set(b)) / 5 for a, b in pairs])), 3)
            result["variants"][name] = row
    lines = [f"{'variant':<16} {'p50 ms':>8} {'p95 ms':>8} {'x one run':>10} {'MB':>6}"]
    for name, row in result["variants"].items():
        lines.append(f"{name:<16} {row['p50_ms']:>8} {row['p95_ms']:>8} "
                     f"{row['x_baseline_p50']:>10} {row['model_mb']:>6}")
    b = result["baseline: one encoder run (served fp32)"]
    lines.append(f"baseline one run: p50 {b['p50_ms']} ms, p95 {b['p95_ms']} ms")
    write_report(args.json, result, "\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
