"""Benchmark: photos analysed per second for 12 MP JPEGs, before and after decoding for features
at the model's size (issue 21).

``N`` (default 200) 12-megapixel JPEGs with EXIF, made as ``bench_import`` makes them, are
imported once; each timed run featurizes them all (``featurize_library``: decode, Lite0, image
words, the store) into a fresh copy of that library, in this process, so only the decode
differs between runs:

- ``before``: full decode, in process (what the app did);
- ``after``: JPEG DCT scaling to the model's size, decoded by the worker pool (the default:
  one worker per CPU);
- breakdown: draft decode in process, and the pool with one worker (2 cores: onnxruntime's
  two intra-op threads against one or two decode workers).

Runs alternate (before, after, ..., ``--repeats`` times each) after one untimed warm-up run of
each on a few photos (onnxruntime, the text cache); figures are medians.  Also timed: decode +
crop alone per photo for the full decode, draft256 and draft512 (median over 40 photos), the
start of the decode workers, and CPU milliseconds per photo (this process, all its threads, and
its workers): unlike photos/s, that figure hardly moves with other jobs on the machine.

    python -m tests.bench.bench_featurize [N] [--repeats 3] [--json PATH]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import PIL
from PIL import features as pil_features

from tagassist.library import Library
from tagassist.media.importer import import_folder
from tagassist.media.preprocess import Preprocessing
from tagassist.suggest.decode_pool import PhotoDecoder, usable_cpus
from tagassist.suggest.encoders import ImageEncoder
from tagassist.suggest.featurize import IMAGE_MODEL, Models, featurize_library
from tests.bench.bench_import import make_corpus
from tests.bench.report import write_report
from tests.jobs import drive

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "results" / "featurize-decode.json"
NEVER_POOLED = 10**9
GOAL = 20.0  # photos/s on the 2-core machine

# name -> (draft decode?, photos from which the pool is used, decode workers)
VARIANTS = {
    "before": (False, NEVER_POOLED, None),
    "after": (True, 1, None),
    "draft_in_process": (True, NEVER_POOLED, None),
    "draft_pool_1_worker": (True, 1, 1),
}


def models_for(models_dir: Path, draft: bool, cache: dict[bool, Models]) -> Models:
    """The default models, the image encoder decoding fully or with DCT scaling."""
    if draft not in cache:
        cache[draft] = Models(models_dir, strict=True, draft=draft)
    return cache[draft]


def cpu_seconds() -> float:
    """CPU time of this process (all its threads) and of its joined children (the workers)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def timed_run(template: Path, work: Path, models: Models, pooled_from: int,
              workers: int | None, limit: int | None = None) -> tuple[int, float, float]:
    """(photos featurized, seconds, CPU seconds) for one run into a fresh copy of the library."""
    db = work / "run" / "tagassist.db"
    shutil.rmtree(db.parent, ignore_errors=True)
    db.parent.mkdir(parents=True)
    shutil.copy(template, db)
    with Library.open(db) as lib:
        ids = lib.items.ids()[:limit] if limit else None
        t, cpu = time.perf_counter(), cpu_seconds()
        report, _ = drive(featurize_library(lib, models, item_ids=ids, pooled_from=pooled_from,
                                         decode_workers=workers))
        seconds, cpu = time.perf_counter() - t, cpu_seconds() - cpu
    assert not report.failed, report.failed[:3]
    return report.photos, seconds, cpu


def pool_start(spec: Preprocessing, repeats: int = 3) -> dict[str, float]:
    """Seconds until every decode worker is up, and their CPU seconds (median of repeats)."""
    wall, cpu, workers = [], [], 0
    for _ in range(repeats):
        t, c = time.perf_counter(), cpu_seconds()
        with PhotoDecoder[int](spec, NEVER_POOLED) as decoder:
            workers = len(decoder.worker_pids())
            wall.append(time.perf_counter() - t)
        cpu.append(cpu_seconds() - c)
    return {"workers": workers, "up_s": round(statistics.median(wall), 2),
            "cpu_s_with_shutdown": round(statistics.median(cpu), 2)}


def decode_ms(paths: list[Path], encoder: ImageEncoder) -> dict[str, float]:
    """Median ms to decode + resize + crop one photo, per decode."""
    out = {}
    for name, draft_to in (("full", None), ("draft256", 256), ("draft512", 512)):
        spec = replace(encoder.preprocessing, draft_to=draft_to)
        times = []
        for p in paths:
            t = time.perf_counter()
            spec.crop(p)
            times.append(time.perf_counter() - t)
        out[name] = round(statistics.median(times) * 1e3, 1)
    return out


def run(n: int, repeats: int, work: Path) -> dict[str, object]:
    models_dir = ROOT / "models"
    load_before = os.getloadavg()
    t = time.perf_counter()
    paths = make_corpus(work / "photos", n)
    generate_s = time.perf_counter() - t
    template = work / "template" / "tagassist.db"
    with Library.open(template) as lib:
        user = lib.users.get_or_create("bench")
        drive(import_folder(lib, work / "photos", user_id=user.id,
                            thumbnails_dir=work / "thumbs"))
        assert lib.items.count() == n
    cache: dict[bool, Models] = {}
    for draft, pooled_from, workers in VARIANTS.values():  # warm-up: sessions, text cache
        timed_run(template, work, models_for(models_dir, draft, cache), pooled_from, workers,
                  limit=8)
    runs: dict[str, list[float]] = {name: [] for name in VARIANTS}
    cpu_ms: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for _ in range(repeats):
        for name, (draft, pooled_from, workers) in VARIANTS.items():
            photos, seconds, cpu = timed_run(template, work, models_for(models_dir, draft, cache),
                                             pooled_from, workers)
            assert photos == n
            runs[name].append(round(n / seconds, 2))
            cpu_ms[name].append(round(cpu / n * 1e3, 1))
            print(f"{name}: {runs[name][-1]} photos/s, {cpu_ms[name][-1]} CPU ms a photo",
                  file=sys.stderr)
    medians = {name: statistics.median(v) for name, v in runs.items()}
    encoder = cache[True].image
    assert encoder is not None
    session = encoder.model.session.get_session_options()
    return {
        "photos": n, "megapixels": 12, "repeats": repeats, "generate_s": round(generate_s, 1),
        "photos_per_s_median": medians, "photos_per_s_runs": runs,
        "cpu_ms_per_photo_median": {name: statistics.median(v) for name, v in cpu_ms.items()},
        "after_vs_before": round(medians["after"] / medians["before"], 2),
        "goal_photos_per_s": GOAL, "goal_met": medians["after"] >= GOAL,
        "decode_crop_ms_median": decode_ms(paths[:40], encoder),
        "pool_start": pool_start(encoder.preprocessing),
        "feature_versions": {"before": cache[False].versions[IMAGE_MODEL],
                             "after": cache[True].versions[IMAGE_MODEL]},
        "machine": {"cpus": usable_cpus(), "onnxruntime_intra_op_threads":
                    session.intra_op_num_threads, "pillow": PIL.__version__,
                    "libjpeg_turbo": bool(pil_features.check_feature("libjpeg_turbo")),
                    "load_average_at_start": [round(x, 2) for x in load_before],
                    "load_average_at_end": [round(x, 2) for x in os.getloadavg()]},
    }


def table(result: dict) -> str:
    lines = [f"{result['photos']} x 12 MP JPEGs, medians of {result['repeats']} runs "
             f"(load average at start {result['machine']['load_average_at_start']})"]
    for name, value in result["photos_per_s_median"].items():
        lines.append(f"  {name:20} {value:6.2f} photos/s  runs {result['photos_per_s_runs'][name]}"
                     f"  CPU {result['cpu_ms_per_photo_median'][name]} ms a photo")
    lines.append(f"  after / before: {result['after_vs_before']}x; decode + crop ms "
                 f"{result['decode_crop_ms_median']}; pool start {result['pool_start']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, default=OUT, help=f"default: {OUT}")
    args = parser.parse_args(argv)
    for model in ("image-lite0", "text-minilm"):
        if not (ROOT / "models" / model / "model.onnx").is_file():
            print(f"models/{model} not built (python -m trainer.export)", file=sys.stderr)
            return 1
    with tempfile.TemporaryDirectory() as tmp:
        result = run(args.n, args.repeats, Path(tmp))
    write_report(args.json, result, table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
