"""Benchmark: the models on the GPU (onnxruntime's CUDA provider) against the CPU, one run.

    python -m tests.bench.bench_gpu [--photos N] [--repeats R] [--json docs/results/gpu.json]

Two columns measured the same way in one process: ``cpu`` (``TAGASSIST_DEVICE=cpu``) and
``cuda`` (the app's default providers), the latter only where a session really runs on CUDA;
elsewhere ``cuda`` holds ``{"skipped": "no GPU: <the runtime's fallback reason>"}``.  Per column:

1. ``sessions``: ms to load each model as the app does (``OnnxModel``: checksums, session,
   contract checks, warm-up run) -- image-lite0, text-minilm, sog-photos, doc-ranker -- and
   the device each landed on.
2. ``analyse``: N (default 40) generated 12-megapixel JPEGs (``make_corpus`` of
   ``bench_import``) imported into a fresh library, then ``featurize_library`` over them, what
   the window's analyse job runs (decode, preprocess, image model, image words): photos/s.
   ``encoder_photos_per_s``: the image model alone on preprocessed arrays at batch 16.
3. ``latency``: the bundled sample library imported and featurized, a few tags given; then
   ``suggest`` per item and ``generate_set`` (SOG, 5 tags) per photo, R rounds (default 20)
   after a warm-up round: p50 / p95 ms.
4. ``cuda`` only, ``image_model_variants``: the image model at batch 16 as the app runs it
   (numpy in, numpy out), with IO binding (input copied by onnxruntime into a bound buffer /
   already on the GPU), and converted to fp16 (``onnxruntime.transformers.float16``, fp32
   inputs and outputs kept; needs the ``train`` extra's onnx): median ms and the largest
   logit difference to fp32.  The app adopts fp16 or IO binding only where this shows a gain.

The generated files were just written, so they are read from the page cache.  ``machine``
includes the GPU (nvidia-smi) where there is one.  ``pytest tests/bench/bench_gpu.py -s`` runs a
2-photo, 2-round version.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from tests.bench.bench_import import make_corpus
from tests.bench.bench_suggest import USER_TAGS, _drain, _pct, machine, models_dir
from tests.bench.report import write_report

MODELS = ("image-lite0", "text-minilm", "sog-photos", "doc-ranker")
IMAGE_MODEL = "image-lite0"
BATCH = 16
VARIANT_REPEATS = 30


def missing_requirements() -> str | None:
    folder = models_dir()
    for name in MODELS:
        if not (folder / name / "model.onnx").is_file():
            return f"{folder / name} is not built (python -m trainer.export)"
    return None


@contextlib.contextmanager
def on_device(column: str) -> Iterator[None]:
    """Models created inside run on the CPU (``cpu``) or with the app's default providers."""
    from tagassist.suggest import runtime
    from tagassist.suggest.device import DEVICE_ENV

    before = os.environ.get(DEVICE_ENV)
    if column == "cpu":
        os.environ[DEVICE_ENV] = "cpu"
    else:
        os.environ.pop(DEVICE_ENV, None)
        runtime._cuda_failed = False  # try CUDA afresh for this column
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(DEVICE_ENV, None)
        else:
            os.environ[DEVICE_ENV] = before


def gpu_facts() -> dict:
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total,driver_version",
                              "--format=csv,noheader"], capture_output=True, text=True,
                             timeout=20)
    except (OSError, subprocess.TimeoutExpired) as e:
        return {"nvidia_smi": f"unavailable ({e.__class__.__name__})"}
    return {"nvidia_smi": out.stdout.strip() or out.stderr.strip()[:200]}


def cuda_check() -> tuple[bool, str]:
    """(CUDA runs a session here, why not): one real image-model session."""
    from tagassist.suggest.runtime import OnnxModel

    with on_device("cuda"):
        model = OnnxModel(models_dir() / IMAGE_MODEL)
    return model.device == "CUDA", model.device_reason


# -- 1. session creation ---------------------------------------------------------------------

def bench_sessions() -> dict:
    from tagassist.suggest.runtime import OnnxModel

    result = {}
    for name in MODELS:
        t = time.perf_counter()
        model = OnnxModel(models_dir() / name)
        result[name] = {"load_ms": round((time.perf_counter() - t) * 1e3, 1),
                        "device": model.device, "providers": model.session.get_providers()}
    return result


# -- 2. photos analysed ----------------------------------------------------------------------

def bench_analyse(photos: Path, workdir: Path) -> dict:
    from tagassist.library import Library
    from tagassist.media.importer import import_folder
    from tagassist.paths import DB_NAME
    from tagassist.suggest.encoders import ImageEncoder
    from tagassist.suggest.featurize import Models, featurize_library

    library = Library.open(workdir / "lib" / DB_NAME)
    try:
        user_id = library.users.get_or_create("bench").id
        imported = _drain(import_folder(library, photos, user_id=user_id,
                                        thumbnails_dir=workdir / "thumbs"))
        models = Models(models_dir(), strict=True, batch_size=BATCH)
        t = time.perf_counter()
        report = _drain(featurize_library(library, models, threading.Event()))
        seconds = time.perf_counter() - t
    finally:
        library.close()
    encoder = ImageEncoder(models_dir() / IMAGE_MODEL, batch_size=BATCH)
    files = sorted(photos.rglob("*.jpg"))[:BATCH]
    arrays = [encoder.preprocess(p) for p in files]
    batch = [arrays[i % len(arrays)] for i in range(BATCH)]
    encoder.encode_arrays(batch)  # warm this batch shape
    rounds, t = 3, time.perf_counter()
    for _ in range(rounds):
        encoder.encode_arrays(batch)
    encode_s = time.perf_counter() - t
    return {"photos": imported.imported, "featurized": report.featurized,
            "failed": len(report.failed), "featurize_s": round(seconds, 2),
            "photos_per_s": round(report.photos / seconds, 2) if seconds > 0 else None,
            "encoder_photos_per_s": round(rounds * BATCH / encode_s, 1),
            "image_device": models.image.device, "text_device": models.text.device}


# -- 3. suggest and set latency --------------------------------------------------------------

def bench_latency(workdir: Path, repeats: int) -> dict:
    from tagassist.library import Library
    from tagassist.media.importer import import_folder
    from tagassist.paths import DB_NAME, sample_library_dir
    from tagassist.suggest.featurize import Models
    from tagassist.suggest.service import ColdStartSuggester

    library = Library.open(workdir / "lib" / DB_NAME)
    try:
        user_id = library.users.get_or_create("bench").id
        _drain(import_folder(library, sample_library_dir(), user_id=user_id,
                             thumbnails_dir=workdir / "thumbs"))
        suggester = ColdStartSuggester(library, Models(models_dir()))
        items = library.items.get_many(library.items.ids())
        _drain(suggester.featurize(items))
        by_name = {Path(p).name: it for it in items for p in it.paths}
        for name, tags in USER_TAGS.items():
            if name in by_name:
                library.assignments.assign(user_id, [by_name[name].id], tags)
        items = library.items.get_many([it.id for it in items])
        photos = [it for it in items if it.kind == "photo"]

        def timed(fn, chosen) -> list[float]:
            for item in chosen:  # warm-up: vocabularies, tables, session shapes
                fn(item)
            ms = []
            for _ in range(repeats):
                for item in chosen:
                    t = time.perf_counter()
                    fn(item)
                    ms.append((time.perf_counter() - t) * 1e3)
            return ms

        suggest = timed(lambda it: suggester.suggest(it, user_id), items)
        sets = timed(lambda it: suggester.generate_set(it, user_id, measure=True), photos)
        made = [len(suggester.generate_set(it, user_id, measure=True)[0]) for it in photos]
        sog = suggester.set_generator()
        return {"items": len(items), "photos": len(photos), "rounds": repeats,
                "suggest_ms_p50": round(_pct(suggest, 50), 2),
                "suggest_ms_p95": round(_pct(suggest, 95), 2),
                "set_ms_p50": round(_pct(sets, 50), 2), "set_ms_p95": round(_pct(sets, 95), 2),
                "sets_with_tags": sum(n > 0 for n in made),
                "sog_device": sog.device if sog is not None else None}
    finally:
        library.close()


# -- 4. fp16 and IO binding (CUDA) -----------------------------------------------------------

def _median_ms(fn, repeats: int = VARIANT_REPEATS) -> float:
    for _ in range(3):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return round(statistics.median(times) * 1e3, 3)


def bench_image_variants(workdir: Path) -> dict:
    import onnxruntime as ort

    from tagassist.suggest.runtime import CPU, CUDA

    path = models_dir() / IMAGE_MODEL / "model.onnx"
    providers = [CUDA, CPU]
    fp32 = ort.InferenceSession(str(path), providers=providers)
    shape = [BATCH, *fp32.get_inputs()[0].shape[1:]]  # [16, 3, size, size]
    batch = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    names = [o.name for o in fp32.get_outputs()]
    reference = fp32.run(["logits"], {"pixels": batch})[0]
    result = {"batch": BATCH, "fp32_ms": _median_ms(lambda: fp32.run(names, {"pixels": batch}))}

    def bound(on_gpu: bool):
        binding = fp32.io_binding()
        if on_gpu:
            gpu_input = ort.OrtValue.ortvalue_from_numpy(batch, "cuda", 0)
            binding.bind_ortvalue_input("pixels", gpu_input)
        for name in names:
            binding.bind_output(name, "cpu")

        def run():
            if not on_gpu:
                binding.bind_cpu_input("pixels", batch)
            fp32.run_with_iobinding(binding)
            return binding.copy_outputs_to_cpu()
        return run

    result["iobinding_cpu_input_ms"] = _median_ms(bound(False))
    if fp32.get_providers()[0] == CUDA:
        result["iobinding_input_on_gpu_ms"] = _median_ms(bound(True))
    try:
        import onnx
        from onnxruntime.transformers.float16 import convert_float_to_float16

        half = workdir / "image-fp16.onnx"
        onnx.save(convert_float_to_float16(onnx.load(str(path)), keep_io_types=True), str(half))
        fp16 = ort.InferenceSession(str(half), providers=providers)
        result["fp16_ms"] = _median_ms(lambda: fp16.run(names, {"pixels": batch}))
        logits = fp16.run(["logits"], {"pixels": batch})[0]
        result["fp16_max_abs_logit_diff"] = float(np.abs(logits - reference).max())
        result["fp16_top1_equal"] = int((logits.argmax(1) == reference.argmax(1)).sum())
        result["fp16_providers"] = fp16.get_providers()
    except Exception as e:  # noqa: BLE001 - onnx missing or the conversion failing is a result
        result["fp16"] = f"not measured: {type(e).__name__}: {str(e)[:200]}"
    result["fp32_providers"] = fp32.get_providers()
    return result


# -- driver ----------------------------------------------------------------------------------

def column(name: str, photos: Path, workdir: Path, repeats: int) -> dict:
    from tagassist.suggest.device import device_report, device_summary

    with on_device(name):
        result = {"sessions": bench_sessions(),
                  "analyse": bench_analyse(photos, workdir / "analyse"),
                  "latency": bench_latency(workdir / "latency", repeats)}
        if name == "cuda":
            try:
                result["image_model_variants"] = bench_image_variants(workdir)
            except Exception as e:  # noqa: BLE001 - keep the columns measured so far
                result["image_model_variants"] = {"error": f"{type(e).__name__}: {e}"[:300]}
        result["device_line"] = device_summary(device_report().values())
    return result


def run(photos: int = 40, repeats: int = 20, workdir: Path | None = None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(workdir or tmp)
        t = time.perf_counter()
        paths = make_corpus(work / "photos", photos)
        print(f"generated {len(paths)} 12 MP JPEGs in {time.perf_counter() - t:.0f} s",
              file=sys.stderr)
        works, why_not = cuda_check()
        result = {"machine": {**machine(), **gpu_facts()}, "photos": photos, "rounds": repeats,
                  "cpu": column("cpu", work / "photos", work / "cpu", repeats)}
        if works:
            result["cuda"] = column("cuda", work / "photos", work / "cuda", repeats)
            result["cuda_over_cpu"] = speedups(result["cpu"], result["cuda"])
        else:
            result["cuda"] = {"skipped": f"no GPU: {why_not}"}
    return result


def speedups(cpu: dict, cuda: dict) -> dict:
    """CPU time / GPU time (> 1: the GPU is faster)."""
    def ratio(a, b):
        return round(a / b, 2) if a and b else None

    return {"analyse_photos_per_s": ratio(cuda["analyse"]["photos_per_s"],
                                          cpu["analyse"]["photos_per_s"]),
            "encoder_photos_per_s": ratio(cuda["analyse"]["encoder_photos_per_s"],
                                          cpu["analyse"]["encoder_photos_per_s"]),
            "suggest_p50": ratio(cpu["latency"]["suggest_ms_p50"],
                                 cuda["latency"]["suggest_ms_p50"]),
            "set_p50": ratio(cpu["latency"]["set_ms_p50"], cuda["latency"]["set_ms_p50"]),
            **{f"load_{m}": ratio(cpu["sessions"][m]["load_ms"], cuda["sessions"][m]["load_ms"])
               for m in MODELS}}


def table(result: dict) -> str:
    rows = [f"{'':<28} {'cpu':>10} {'cuda':>10}"]
    cuda = result["cuda"] if "skipped" not in result["cuda"] else None

    def row(label, get):
        value = get(cuda) if cuda else "-"
        rows.append(f"{label:<28} {get(result['cpu'])!s:>10} {value!s:>10}")

    row("photos/s analysed", lambda c: c["analyse"]["photos_per_s"])
    row("image model photos/s (b16)", lambda c: c["analyse"]["encoder_photos_per_s"])
    row("suggest p50 ms", lambda c: c["latency"]["suggest_ms_p50"])
    row("set p50 ms", lambda c: c["latency"]["set_ms_p50"])
    for m in MODELS:
        row(f"load {m} ms", lambda c, m=m: c["sessions"][m]["load_ms"])
    if cuda is None:
        rows.append(result["cuda"]["skipped"])
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=int, default=40, help="generated 12 MP JPEGs (default 40)")
    ap.add_argument("--repeats", type=int, default=20, help="latency rounds (default 20)")
    ap.add_argument("--json", type=Path, help="write the result here (else print it)")
    args = ap.parse_args(argv)
    if args.photos < 1 or args.repeats < 1:
        ap.error("--photos and --repeats must be at least 1")
    reason = missing_requirements()
    if reason:
        print(json.dumps({"skipped": reason}))
        return 0
    result = run(args.photos, args.repeats)
    if args.json:
        write_report(args.json, result, table(result))
    else:
        print(json.dumps(result, indent=1))
        print(table(result), file=sys.stderr)
    return 0


def test_bench_gpu_small(tmp_path):
    """2 photos, 2 rounds: keeps the benchmark working (`pytest tests/bench/bench_gpu.py`)."""
    import pytest

    reason = missing_requirements()
    if reason:
        pytest.skip(reason)
    result = json.loads(json.dumps(run(photos=2, repeats=2, workdir=tmp_path)))
    cpu = result["cpu"]
    assert all(cpu["sessions"][m]["device"] == "CPU" for m in MODELS)
    assert cpu["analyse"]["featurized"] >= 2 and cpu["analyse"]["failed"] == 0
    assert cpu["analyse"]["photos_per_s"] > 0 and cpu["analyse"]["encoder_photos_per_s"] > 0
    assert 0 < cpu["latency"]["suggest_ms_p50"] <= cpu["latency"]["suggest_ms_p95"]
    assert 0 < cpu["latency"]["set_ms_p50"] <= cpu["latency"]["set_ms_p95"]
    assert cpu["device_line"].startswith("CPU — forced by TAGASSIST_DEVICE=cpu")
    if "skipped" in result["cuda"]:
        assert result["cuda"]["skipped"].startswith("no GPU: ")
    else:
        assert all(result["cuda"]["sessions"][m]["device"] == "CUDA" for m in MODELS)


if __name__ == "__main__":
    sys.exit(main())
