"""Benchmark: ``ColdStartSuggester.suggest`` on a large library (goal: <= 50 ms p50).

    python -m tests.bench.bench_suggest_scale [--json docs/results/bench-suggest-scale.json]
        [--repeats N] [--vectors N|all] [--no-profile]

Everything runs in one process, on a temporary copy of ``bench_query``'s library (100,000
items, 1,000,000 assignments, ~2,000 tags, 3 users; built with ``bench_query.build``):

1. ``library``: build time, then ``--vectors`` items (default 5,000, random; ``all`` = every
   item) get a stored ``image-lite0`` row: a random unit float32 vector of the model's
   embedding size (1280) at the bundled model's version, and image words made by the app's
   ``ImageWords`` from random logits (so the content signal has words to match too).
2. ``baseline``, same process, median of 25 after one warm-up (``bench_query.median_ms``):
   ``SELECT count(*) FROM assignments WHERE user_id = 1`` and ``bench_query``'s single-tag
   ``SELECT item_id FROM assignments WHERE tag_id = ?`` (beach).
3. ``ColdStartSuggester(library, Models(bundled_models_dir()))``, user 1, ``top=9``, query
   items drawn from those with a vector:
   - ``cold``: the first ``suggest`` (reads the library: history, tags, look-alike index);
   - ``warm``: ``--repeats`` (default 25) other items, no write in between: p50 / p95 / max;
   - ``after_new_tag``: ``library.assignments.assign(1, [a], ["brand-new-tag-<k>"])``, then
     ``suggest`` on another item b (only the suggest is timed; the write apart): median of 5;
   - ``after_existing_tag``: the same with a write that adds a tag already in use (``t500``)
     to an item that did not carry it for user 1.
   ``x_baseline`` = a phase's p50 over the user-1 ``count(*)`` baseline.
4. ``memory``: VmHWM of the process (the build's own peak included), and VmHWM since the
   counter was reset (``/proc/self/clear_refs``) after the library was built and filled:
   the suggestion phases' peak; VmRSS before/after the cold suggest.
5. cProfile (stderr only, never in the JSON): 5 warm suggests, then 2 suggests each right
   after a new-tag write (the writes are not profiled); top 20 by cumulative time and top 15
   by own time.

A suggester that raises is reported (traceback in ``errors`` and on stderr); the other phases
still run.  Exit status: 0 when the warm and both after-write p50 meet the goal, else 1.

``pytest tests/bench/bench_suggest_scale.py -s`` runs a short version (500 vectors, 3
repeats, no profile; the 100k library is still built: about a minute).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np

from tests.bench import bench_query
from tests.bench.bench_suggest import machine, vm_hwm_mib
from tests.bench.report import write_report

TARGET_MS = 50.0
USER = 1
TOP = 9
DIM = 1280  # image-lite0 embedding size
DEFAULT_VECTORS = 5_000
AFTER_WRITE_RUNS = 5
PROFILE_WARM, PROFILE_WRITE = 5, 2
EXISTING_TAG = "t500"  # a mid-popularity tag of bench_query.build
WORD_POOL = 256  # distinct image-word lists, cycled over the items with vectors


def _status_mib(field: str) -> float | None:
    try:
        with open("/proc/self/status") as f:
            kb = next(line.split()[1] for line in f if line.startswith(field + ":"))
        return round(int(kb) / 1024, 1)
    except (OSError, StopIteration):
        return None


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _stats(ms: list[float]) -> dict:
    arr = np.asarray(ms)
    return {"n": len(ms), "p50_ms": round(float(np.percentile(arr, 50)), 2),
            "p95_ms": round(float(np.percentile(arr, 95)), 2),
            "max_ms": round(float(arr.max()), 2), "runs_ms": [round(x, 2) for x in ms]}


def store_vectors(library, item_ids: list[int], version: str, image_words, seed: int,
                  chunk: int = 5_000) -> None:
    """Random unit vectors + ImageWords-made words for these items, ``chunk`` rows per
    transaction (so 100k vectors never sit in memory at once)."""
    from tagassist.library.models import Features
    from tagassist.suggest.featurize import IMAGE_MODEL, IMAGE_WORDS_KEPT

    rng = np.random.default_rng(seed)
    n_classes = len(image_words.classes)
    pool = []
    for _ in range(WORD_POOL):
        logits = rng.standard_normal(n_classes).astype(np.float32) * 3.0
        pool.append(tuple((w, s) for w, s, _ in image_words.words(logits,
                                                                   limit=IMAGE_WORDS_KEPT)))
    for a in range(0, len(item_ids), chunk):
        ids = item_ids[a:a + chunk]
        v = rng.standard_normal((len(ids), DIM), dtype=np.float32)
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        library.features.put([Features(i, IMAGE_MODEL, version, v[k], pool[i % WORD_POOL])
                              for k, i in enumerate(ids)])


def run(repeats: int = 25, vectors: int | None = DEFAULT_VECTORS, profile: bool = True,
        seed: int = 7) -> dict:
    """The whole benchmark; ``vectors=None``: every item gets one."""
    from tagassist.paths import bundled_models_dir
    from tagassist.suggest.featurize import Models
    from tagassist.suggest.service import ColdStartSuggester

    errors: dict[str, str] = {}
    result: dict = {"goal_p50_ms": TARGET_MS, "user_id": USER, "top": TOP}
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        library = bench_query.build(Path(tmp) / "bench.db", seed=seed)
        build_s = time.perf_counter() - t0
        print(f"built {bench_query.N_ITEMS:,} items / {bench_query.N_ASSIGNMENTS:,} assignments "
              f"in {build_s:.1f} s", file=sys.stderr)
        try:
            t0 = time.perf_counter()
            models = Models(bundled_models_dir())
            models_s = time.perf_counter() - t0
            if models.image is None:
                raise SystemExit(f"image model unavailable: {models.unavailable}")
            version = str(models.image.model.metadata["version"])

            n_vec = bench_query.N_ITEMS if vectors is None else min(vectors,
                                                                     bench_query.N_ITEMS)
            with_vec = sorted(rng.sample(range(1, bench_query.N_ITEMS + 1), n_vec))
            t0 = time.perf_counter()
            store_vectors(library, with_vec, version, models.image_words, seed)
            vectors_s = time.perf_counter() - t0
            print(f"stored {n_vec:,} vectors ({DIM}-d) in {vectors_s:.1f} s", file=sys.stderr)
            conn = library._conn
            (user_assignments,) = conn.execute(
                "SELECT count(*) FROM assignments WHERE user_id = ?", (USER,)).fetchone()
            (user_items,) = conn.execute(
                "SELECT count(DISTINCT item_id) FROM assignments WHERE user_id = ?",
                (USER,)).fetchone()
            db_mib = round(os.path.getsize(Path(tmp) / "bench.db") / 2**20, 1)
            result["library"] = {
                "items": bench_query.N_ITEMS, "assignments": bench_query.N_ASSIGNMENTS,
                "tags": bench_query.N_TAGS, "users": bench_query.N_USERS,
                "user_assignments": user_assignments, "user_tagged_items": user_items,
                "items_with_vectors": n_vec, "vector_dim": DIM,
                "featurizer": "image-lite0", "featurizer_version": version,
                "db_mib": db_mib, "build_s": round(build_s, 1),
                "store_vectors_s": round(vectors_s, 1), "models_load_s": round(models_s, 2),
            }

            beach = library.tags.find("beach")
            assert beach is not None
            base_user = bench_query.median_ms(lambda: conn.execute(
                "SELECT count(*) FROM assignments WHERE user_id = ?", (USER,)).fetchone())
            base_tag = bench_query.median_ms(lambda: conn.execute(
                "SELECT item_id FROM assignments WHERE tag_id = ?", (beach.id,)).fetchall())
            result["baseline"] = {
                "count_user_assignments_ms": round(base_user, 3),
                "single_tag_select_ms": round(base_tag, 3),
                "repeats": bench_query.REPEATS,
            }
            hwm_build = vm_hwm_mib()  # the build's and the vector store's peak
            peak_reset = _reset_peak()
            rss_before = _status_mib("VmRSS")

            # Query items: distinct, all with a vector; write targets: other items.
            need = 1 + repeats + 2 * AFTER_WRITE_RUNS + (PROFILE_WARM + PROFILE_WRITE + 2
                                                         if profile else 0)
            picked = rng.sample(with_vec, min(need, len(with_vec)))
            if len(picked) < need:
                picked = (picked * (need // max(1, len(picked)) + 1))[:need]
            queries = iter(library.items.get_many(picked))
            busy = set(picked)
            writes = (i for i in rng.sample(range(1, bench_query.N_ITEMS + 1), 500)
                      if i not in busy)

            suggester = ColdStartSuggester(library, models)
            # The app's analysis embeds each photo's image and context words as it stores
            # them (featurize.py); these features were stored directly, so do the same here.
            if models.text is not None:
                from tagassist.suggest.featurize import IMAGE_MODEL

                stored = library.features.get(picked, IMAGE_MODEL, version)
                models.text.cached([w for f in stored.values() for w, _ in f.words]
                                   + [w for it in library.items.get_many(picked)
                                      for w in it.context_words])

            def timed(item) -> tuple[float, list]:
                t = time.perf_counter()
                out = suggester.suggest(item, USER, top=TOP)
                return (time.perf_counter() - t) * 1e3, out

            phases: dict[str, dict] = {}
            try:
                ms, out = timed(next(queries))
                phases["cold"] = {"ms": round(ms, 2), "suggestions": len(out),
                                  "sample": [s.tag for s in out]}
            except Exception:  # noqa: BLE001 - report it, run the other phases
                errors["cold"] = traceback.format_exc()
            result["memory_rss_after_cold_mib"] = _status_mib("VmRSS")

            try:
                warm, returned = [], 0
                for _ in range(repeats):
                    ms, out = timed(next(queries))
                    warm.append(ms)
                    returned += len(out)
                phases["warm"] = {**_stats(warm),
                                  "suggestions_per_call_mean": round(returned / repeats, 2)}
            except Exception:  # noqa: BLE001
                errors["warm"] = traceback.format_exc()

            def after_write(tag_for, label: str) -> None:
                times, write_ms, new = [], [], 0
                try:
                    for k in range(AFTER_WRITE_RUNS):
                        target, item = next(writes), next(queries)
                        tag = tag_for(k)
                        t = time.perf_counter()
                        added = library.assignments.assign(USER, [target], [tag])
                        write_ms.append((time.perf_counter() - t) * 1e3)
                        while added == 0:  # the item already carried it: another item
                            target = next(writes)
                            added = library.assignments.assign(USER, [target], [tag])
                        new += added
                        ms, _ = timed(item)
                        times.append(ms)
                    phases[label] = {**_stats(times), "median_ms": round(
                        statistics.median(times), 2), "new_assignments": new,
                        "assign_ms_median": round(statistics.median(write_ms), 2)}
                except Exception:  # noqa: BLE001
                    errors[label] = traceback.format_exc()

            after_write(lambda k: f"brand-new-tag-{k}", "after_new_tag")
            after_write(lambda k: EXISTING_TAG, "after_existing_tag")

            base = result["baseline"]["count_user_assignments_ms"]
            for row in phases.values():
                key = "p50_ms" if "p50_ms" in row else "ms"
                row["x_baseline"] = round(row[key] / base, 1) if base > 0 else None
            result["phases"] = phases
            result["verdict"] = {
                name: (phases[name]["p50_ms"] <= TARGET_MS if name in phases else None)
                for name in ("warm", "after_new_tag", "after_existing_tag")}

            if profile:
                try:
                    result["profile"] = profile_suggests(suggester, library, queries, writes)
                except Exception:  # noqa: BLE001
                    errors["profile"] = traceback.format_exc()

            result["memory"] = {
                "vm_hwm_mib": max(hwm_build, vm_hwm_mib()),
                "vm_hwm_mib_before_suggester": hwm_build,
                "vm_hwm_mib_since_reset": vm_hwm_mib() if peak_reset else None,
                "peak_reset_after_build": peak_reset,
                "vm_rss_mib_before_suggester": rss_before,
                "vm_rss_mib_after_cold": result.pop("memory_rss_after_cold_mib"),
                "vm_rss_mib_end": _status_mib("VmRSS"),
                "note": ("vm_hwm_mib: the whole process; since_reset: the suggestion phases' "
                         "peak (VmHWM reset after the build and the vectors, where Linux "
                         "allows)"),
            }
            result["machine"] = {**machine(models.image), "platform": platform.platform(),
                                 "sqlite": sqlite3.sqlite_version,
                                 "numpy": np.__version__}
        finally:
            library.close()
    result["errors"] = errors
    for phase, tb in errors.items():
        print(f"--- suggester raised in phase {phase!r}:\n{tb}", file=sys.stderr)
    return result


def _print_profile(prof: cProfile.Profile, title: str) -> None:
    buf = io.StringIO()
    st = pstats.Stats(prof, stream=buf).strip_dirs()
    st.sort_stats("cumulative").print_stats(20)
    st.sort_stats("tottime").print_stats(15)
    print(f"\n===== cProfile: {title} =====\n{buf.getvalue()}", file=sys.stderr)


def profile_suggests(suggester, library, queries, writes) -> dict:
    """cProfile over warm suggests, then over suggests right after a write (stderr only)."""
    warm = cProfile.Profile()
    suggester.suggest(next(queries), USER, top=TOP)  # re-warm after the write phases
    t = time.perf_counter()
    for _ in range(PROFILE_WARM):
        item = next(queries)
        warm.enable()
        suggester.suggest(item, USER, top=TOP)
        warm.disable()
    warm_s = time.perf_counter() - t
    _print_profile(warm, f"{PROFILE_WARM} warm suggests")
    after = cProfile.Profile()
    t_in = 0.0
    for k in range(PROFILE_WRITE):
        library.assignments.assign(USER, [next(writes)], [f"brand-new-tag-profile-{k}"])
        item = next(queries)
        t = time.perf_counter()
        after.enable()
        suggester.suggest(item, USER, top=TOP)
        after.disable()
        t_in += time.perf_counter() - t
    _print_profile(after, f"{PROFILE_WRITE} suggests right after a new-tag write")
    # Wall times under the profiler (inflated by it): only to compare the two, not the goal.
    return {"warm_suggests": PROFILE_WARM, "warm_s_under_profiler": round(warm_s, 2),
            "after_write_suggests": PROFILE_WRITE,
            "after_write_s_under_profiler": round(t_in, 2)}


def table(r: dict) -> str:
    lines = []
    lib = r.get("library", {})
    if lib:
        lines.append(f"library: {lib['items']:,} items, {lib['assignments']:,} assignments, "
                     f"user {r['user_id']}: {lib['user_assignments']:,} assignments on "
                     f"{lib['user_tagged_items']:,} items; {lib['items_with_vectors']:,} "
                     f"items with {lib['vector_dim']}-d vectors; built in {lib['build_s']} s, "
                     f"vectors stored in {lib['store_vectors_s']} s")
    b = r.get("baseline")
    if b:
        lines.append(f"baseline: count(*) user assignments {b['count_user_assignments_ms']} ms;"
                     f" single-tag select {b['single_tag_select_ms']} ms")
    ph = r.get("phases", {})
    lines.append(f"{'phase':<22} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9} {'x base':>8}")
    for name, row in ph.items():
        p50 = row.get("p50_ms", row.get("ms"))
        lines.append(f"{name:<22} {p50:>9} {row.get('p95_ms', ''):>9} "
                     f"{row.get('max_ms', ''):>9} {row.get('x_baseline', ''):>8}")
    for name, ok in r.get("verdict", {}).items():
        if ok is None:
            lines.append(f"{name}: no figure (the suggester raised, see errors)")
        else:
            lines.append(f"{name} p50 {ph[name]['p50_ms']} ms: "
                         f"{'MEETS' if ok else 'MISSES'} the goal (<= {TARGET_MS:.0f} ms)")
    m = r.get("memory")
    if m:
        since = m["vm_hwm_mib_since_reset"]
        lines.append(f"memory: peak RSS {m['vm_hwm_mib']} MiB (process), "
                     f"{since if since is not None else 'n/a'} MiB (suggestion phases); "
                     f"RSS before suggester {m['vm_rss_mib_before_suggester']} MiB, after cold "
                     f"{m['vm_rss_mib_after_cold']} MiB, end {m['vm_rss_mib_end']} MiB")
    if r.get("errors"):
        lines.append(f"ERRORS in: {', '.join(r['errors'])}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path, default=None,
                    help="write the result there (e.g. docs/results/bench-suggest-scale.json); "
                         "without it the JSON is printed")
    ap.add_argument("--repeats", type=int, default=25, help="warm suggests (default 25)")
    ap.add_argument("--vectors", default=str(DEFAULT_VECTORS),
                    help=f"items given a stored vector, or 'all' (default {DEFAULT_VECTORS})")
    ap.add_argument("--no-profile", action="store_true", help="skip the cProfile runs")
    args = ap.parse_args(argv)
    if args.repeats < 1:
        ap.error("--repeats must be at least 1")
    vectors = None if args.vectors == "all" else int(args.vectors)
    result = run(args.repeats, vectors, profile=not args.no_profile)
    if args.json is not None:
        write_report(args.json, result, table(result))
    else:
        print(json.dumps(result, indent=1))
        print(table(result))
    ok = not result["errors"] and all(result.get("verdict", {}).values())
    return 0 if ok and result.get("verdict") else 1


def test_bench_suggest_scale_small():
    """500 vectors, 3 repeats, no profile: keeps the benchmark working."""
    import pytest

    from tagassist.paths import bundled_models_dir

    if not (bundled_models_dir() / "image-lite0" / "model.onnx").is_file():
        pytest.skip("image-lite0 is not built (python -m trainer.export)")
    result = json.loads(json.dumps(run(repeats=3, vectors=500, profile=False)))
    print(table(result))
    assert not result["errors"], result["errors"]
    for phase in ("cold", "warm", "after_new_tag", "after_existing_tag"):
        assert phase in result["phases"]
    assert 0 < result["phases"]["warm"]["p50_ms"] <= result["phases"]["warm"]["p95_ms"]
    assert result["phases"]["after_new_tag"]["new_assignments"] == AFTER_WRITE_RUNS
    assert result["phases"]["after_existing_tag"]["new_assignments"] == AFTER_WRITE_RUNS
    assert result["baseline"]["count_user_assignments_ms"] > 0
    assert result["machine"]["cpu_count"] > 0


if __name__ == "__main__":
    sys.exit(main())
