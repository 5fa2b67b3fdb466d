"""Benchmark: the window over a generated 100,000-item library: open time and scrolling.

Goal (the issue): with a generated library of 100,000 items the window opens in under 2 s and
scrolling a page of thumbnails takes under 50 ms.

    python -m tests.bench.bench_window_scale [--n 100000] [--runs 5] [--pages 50]
                                             [--json docs/results/window-scale.json] [--profile]

Runs headless (``QT_QPA_PLATFORM=offscreen`` unless set).  Everything in one process:

1. ``library``: N items generated once and cached under ``$TMPDIR/tagassist-bench-window/``
   (keyed by N and ``VERSION``): paths under a few hundred dated folders (the files do not
   exist: the grid shows placeholders), capture times spread over 20 years (2 % undated),
   3 % documents, ~30 % of the items tagged by user "me" with 1-4 of ~390 hierarchical tags
   (``places|europe|paris`` style), ~10 % by a second user.  Users and tags go through the
   ``Library`` API (``assign`` per tag, ``undoable=False``); the items themselves are one
   documented bulk ``INSERT`` into ``items``/``item_paths`` in one transaction, following the
   schema (``upsert_item`` is one fsynced transaction per file: minutes for 100k).
2. ``open``: ``open_window(paths, "me")`` -> ``show()`` -> events processed until the grid's
   viewport has received and handled its first paint event.  Run 1 is reported as ``cold``
   (first window of the process); the median of the next ``--runs`` fresh windows as ``warm``.
   The same on a 1,000-item library (scaling).  ``--profile`` adds a cProfile of one open.
3. ``scroll``: the grid's vertical scroll bar moved by one ``pageStep``, then a synchronous
   ``viewport().repaint()`` and ``processEvents()``: ms per page, median / p95 / max over
   ``--pages`` pages at the top, the middle and the end of the grid (jumped to first, untimed).
   Variants: ``placeholder`` (no file exists), ``thumbs_cached`` (the measured rows point at
   real JPEGs -- symlinks to the COCO photos of the data folder, or generated ones -- whose
   thumbnails are already in the cache, as after an import) and ``thumbs_cold`` (same files,
   empty thumbnail cache: the loader decodes while we scroll).
4. ``baseline``: Qt's own best case in the same process: the app's ``ThumbnailGrid`` (same
   view settings) over a ``QStandardItemModel`` of N rows with a fixed icon and a text,
   the same size as the app's grid; open (grid shown and painted, model prebuilt) and scroll
   measured the same way.  ``ratio`` = ours / baseline.

PySide6 6.12.0's reference leak on ``None`` is handled by the app's ``tagassist.ui.qtfixes``.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import argparse  # noqa: E402
import cProfile  # noqa: E402
import hashlib  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import pstats  # noqa: E402
import shutil  # noqa: E402
import sqlite3  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timedelta, timezone  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from tests.bench.report import write_report  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
VERSION = 1  # bump when the generated library changes
CACHE = Path(tempfile.gettempdir()) / "tagassist-bench-window"
FAKE_ROOT = "/nonexistent-tagassist-bench/photos"  # no file exists here: placeholders
USERS = ("me", "other")
GOAL_OPEN_S, GOAL_PAGE_MS = 2.0, 50.0
REAL_ROWS = 1200  # rows per measured location that get real files in the thumbnail variants
TOP_LEVEL = {
    "places": ["europe", "asia", "americas", "africa", "oceania", "home"],
    "people": ["family", "friends", "colleagues", "neighbours", "team", "kids"],
    "events": ["birthday", "wedding", "holiday", "concert", "match", "party"],
    "nature": ["birds", "flowers", "trees", "mountains", "sea", "sky"],
    "things": ["cars", "food", "books", "bikes", "boats", "buildings"],
    "work": ["project", "meeting", "office", "travel", "conference", "demo"],
    "animals": ["cats", "dogs", "horses", "insects", "fish", "zoo"],
    "seasons": ["spring", "summer", "autumn", "winter", "rainy", "snow"],
    "hobbies": ["music", "painting", "hiking", "running", "cooking", "games"],
    "projects": ["garden", "house", "kitchen", "garage", "attic", "shed"],
}
LEAVES = 5  # per mid-level tag: 10 x 6 x 5 = 300 leaves (+ 60 mid + 10 top = 370 tags)


def _ms(seconds: float) -> float:
    return round(seconds * 1e3, 3)


def _stats_ms(values: list[float]) -> dict:
    ms = np.asarray(values) * 1e3
    return {"pages": len(values), "median_ms": round(float(np.median(ms)), 3),
            "p95_ms": round(float(np.percentile(ms, 95)), 3), "max_ms": round(float(ms.max()), 3)}


# -- 1. the generated library ---------------------------------------------------------------

def tag_paths() -> list[str]:
    return [f"{top}|{mid}|{mid}-{k}" for top, mids in TOP_LEVEL.items() for mid in mids
            for k in range(LEAVES)]


def _rows(n: int, rng: np.random.Generator):
    """(items rows, item_paths rows) in id order (ids 1..n), as the schema wants them."""
    start = datetime(2005, 1, 1, tzinfo=timezone.utc)
    span = 20 * 365 * 86400
    seconds = np.sort(rng.integers(0, span, n))  # ids roughly follow capture time, like imports
    shuffle = rng.random(n) < 0.15  # ... except some imported out of order
    seconds[shuffle] = rng.integers(0, span, int(shuffle.sum()))
    undated = rng.random(n) < 0.02
    document = rng.random(n) < 0.03
    added = datetime.now(timezone.utc).isoformat(timespec="microseconds")
    items, paths = [], []
    for i in range(n):
        when = start + timedelta(seconds=int(seconds[i]))
        kind = "document" if document[i] else "photo"
        # A folder per month and an "event" letter: ~20 years x 12 x 1-2 = a few hundred.
        folder = f"{FAKE_ROOT}/{when:%Y}/{when:%Y-%m}-{'ab'[i % 2]}"
        name = f"{'DOC' if document[i] else 'IMG'}_{i:06}.{'pdf' if document[i] else 'jpg'}"
        digest = hashlib.sha256(f"bench-window-{i}".encode()).hexdigest()
        size, mtime = 1_000_000 + i, 1.6e9 + i
        capture = None if undated[i] else when.strftime("%Y-%m-%dT%H:%M:%S")
        items.append((i + 1, digest, kind, size, mtime, capture, None, None, None, None, None,
                      None if document[i] else "Bench Camera", 4000, 3000, "[]", added))
        paths.append((i + 1, f"{folder}/{name}", size, mtime))
    return items, paths


def _bulk_items(db: Path, n: int, rng: np.random.Generator) -> None:
    """The one bulk insert (see module doc): ``items`` and ``item_paths``, one transaction."""
    items, paths = _rows(n, rng)
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO items (id, content_hash, kind, size, mtime, capture_time, lat, lon, "
            "place, title, text_excerpt, camera, width, height, context_words, added) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", items)
        conn.executemany("INSERT INTO item_paths (item_id, path, size, mtime) VALUES (?, ?, ?, ?)",
                         paths)
        conn.execute("COMMIT")
    finally:
        conn.close()


def _tag(library, n: int, rng: np.random.Generator) -> dict:
    """~30 % of items tagged by "me", ~10 % by "other": 1-4 Zipf-popular tags each."""
    tags = tag_paths()
    weights = 1.0 / np.arange(1, len(tags) + 1) ** 0.9
    weights /= weights.sum()
    counts = {}
    for user_name, share in zip(USERS, (0.30, 0.10), strict=True):
        user = library.users.get_or_create(user_name)
        order = rng.permutation(len(tags))  # each user has its own favourite tags
        by_tag: dict[int, list[int]] = {}
        chosen = np.flatnonzero(rng.random(n) < share) + 1
        for item_id in chosen:
            for t in rng.choice(len(tags), size=int(rng.integers(1, 5)), replace=False,
                                p=weights):
                by_tag.setdefault(int(order[t]), []).append(int(item_id))
        assigned = 0
        for t, ids in by_tag.items():
            assigned += library.assignments.assign(user.id, ids, [tags[t]], undoable=False)
        counts[user_name] = {"tagged_items": len(chosen), "assignments": assigned,
                             "tags_used": len(by_tag)}
    return counts


def build_library(n: int, log=print) -> Path:
    """The cached generated library folder for ``n`` items (built on first use)."""
    from tagassist.library import Library
    from tagassist.paths import DB_NAME

    folder = CACHE / f"v{VERSION}-n{n}"
    if (folder / "done.json").is_file():
        return folder
    t0 = time.perf_counter()
    tmp = CACHE / f"building-v{VERSION}-n{n}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    db = tmp / "library" / DB_NAME
    rng = np.random.default_rng(n)
    with Library.open(db) as lib:  # creates and migrates the schema
        for name in USERS:
            lib.users.get_or_create(name)
    _bulk_items(db, n, rng)
    with Library.open(db) as lib:
        counts = _tag(lib, n, rng)
        assert lib.items.count() == n
    facts = {"items": n, "users": counts, "tags": len(tag_paths()),
             "build_s": round(time.perf_counter() - t0, 1)}
    (tmp / "done.json").write_text(json.dumps(facts))
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)
    log(f"generated a {n}-item library in {facts['build_s']} s -> {folder}")
    return folder


def _sources(count: int = 64) -> list[Path]:
    """Small real JPEGs for the thumbnail variants: the COCO photos, else generated ones."""
    from trainer.datasets import data_dir

    coco = data_dir() / "coco-val2017-283" / "images"
    found = sorted(coco.glob("*.jpg")) if coco.is_dir() else []
    if found:
        return found
    from PIL import Image

    folder = CACHE / "generated-jpegs"
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    out = []
    for k in range(count):
        path = folder / f"gen{k:03}.jpg"
        if not path.is_file():
            y, x = np.mgrid[0:480, 0:640]
            base = np.stack([(x * (k + 1) / 8) % 256, (y / 2) % 256, ((x + y) / 5) % 256], -1)
            noisy = np.clip(base + rng.normal(0, 8, base.shape), 0, 255).astype(np.uint8)
            Image.fromarray(noisy).save(path, quality=85)
        out.append(path)
    return out


def build_real_variant(base: Path, n: int, log=print) -> Path:
    """A copy of ``base`` whose rows at the top, middle and end (grid order) also have a real
    file (a symlink to a small JPEG), added with ``library.items.upsert`` (same content hash:
    a second path for the item); their thumbnails made once into the variant's own cache
    folder ``cache/`` (``LibraryPaths.thumbnails`` = ``cache/thumbnails``)."""
    from tagassist.library import Library
    from tagassist.media.thumbnails import make_thumbnail
    from tagassist.paths import DB_NAME

    folder = CACHE / f"v{VERSION}-n{n}-real"
    if (folder / "done.json").is_file():
        return folder
    t0 = time.perf_counter()
    tmp = CACHE / f"building-v{VERSION}-n{n}-real-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "library").mkdir(parents=True)
    with sqlite3.connect(base / "library" / DB_NAME) as a, \
            sqlite3.connect(tmp / "library" / DB_NAME) as b:
        a.backup(b)
    files = tmp / "files"
    files.mkdir()
    sources = _sources()
    with Library.open(tmp / "library" / DB_NAME) as lib:
        order = lib.items.ids(order="capture_time")
        mid = len(order) // 2
        rows = sorted(set(range(min(REAL_ROWS, n))) | set(range(max(0, mid - 50),
                                                                min(n, mid + REAL_ROWS)))
                      | set(range(max(0, n - REAL_ROWS), n)))
        items = lib.items.get_many([order[r] for r in rows])
        made = 0
        for k, item in enumerate(items):
            if item.kind != "photo":
                continue
            link = files / f"{item.id:06}.jpg"
            link.symlink_to(sources[k % len(sources)])
            lib.items.upsert(item.content_hash, "photo", str(link), item.size, item.mtime)
            make_thumbnail(link, tmp / "cache" / "thumbnails", item.content_hash)
            made += 1
    facts = {"items": n, "rows_with_files": made, "build_s": round(time.perf_counter() - t0, 1),
             "sources": str(sources[0].parent)}
    (tmp / "done.json").write_text(json.dumps(facts))
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)
    log(f"made the real-thumbnail variant ({made} files) in {facts['build_s']} s")
    return folder


# -- 2. open ---------------------------------------------------------------------------------

def _quiet(mode, context, message) -> None:
    if "propagateSizeHints" not in message:  # the offscreen plugin says so for every window
        print(message, file=sys.stderr)


def _app():
    from PySide6.QtCore import qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    qInstallMessageHandler(_quiet)
    return QApplication.instance() or QApplication(sys.argv[:1])


class _PaintWatch:
    """Counts paint events reaching a widget (the filter sees them just before the paint)."""

    def __init__(self, widget) -> None:
        from PySide6.QtCore import QEvent, QObject

        watch = self

        class Filter(QObject):
            def eventFilter(self, obj, event):  # noqa: N802 - Qt API
                if event.type() == QEvent.Type.Paint:
                    watch.paints += 1
                return False

        self.paints = 0
        self._filter = Filter()
        widget.installEventFilter(self._filter)


def _wait_painted(app, watch: _PaintWatch, timeout_s: float = 60.0) -> None:
    deadline = time.perf_counter() + timeout_s
    while watch.paints == 0:
        app.processEvents()
        if time.perf_counter() > deadline:
            raise RuntimeError("the grid was never painted")


def _settle(app, window, timeout_s: float = 60.0) -> None:
    """Let the first suggestion request (model loading) and thumbnail loads finish."""
    deadline = time.perf_counter() + timeout_s
    while (window.controller.suggest.pending() or window.thumbs.pending()) and \
            time.perf_counter() < deadline:
        app.processEvents()
        time.sleep(0.005)
    app.processEvents()


def _close(app, window) -> None:
    window.close()
    window.controller.library.close()
    window.deleteLater()
    app.processEvents()


def open_once(app, paths, models_dir: Path | None):
    """Seconds from ``open_window`` to the grid's first paint handled, seconds until the
    sidebar's counts (read in a worker) are shown too, and the open window."""
    from tagassist.ui.app import open_window

    t0 = time.perf_counter()
    window = open_window(paths, USERS[0], models_dir=models_dir)
    watch = _PaintWatch(window.grid.viewport())
    window.show()
    _wait_painted(app, watch)
    seconds = time.perf_counter() - t0
    while not window.sidebar_settled():
        app.processEvents()
        time.sleep(0.002)
    return seconds, time.perf_counter() - t0, window


def bench_open(app, library: Path, cache: Path, runs: int, models_dir: Path | None,
               profile: bool = False) -> dict:
    from tagassist.paths import LibraryPaths

    paths = LibraryPaths.resolve(library / "library", cache)
    times, full = [], []
    for _ in range(runs + 1):
        seconds, with_sidebar, window = open_once(app, paths, models_dir)
        times.append(seconds)
        full.append(with_sidebar)
        rows = window.model.rowCount()
        _settle(app, window)
        _close(app, window)
    out = {"items": rows, "cold_s": round(times[0], 3),
           "warm_median_s": round(statistics.median(times[1:]), 3),
           "warm_runs_s": [round(t, 3) for t in times[1:]],
           "with_sidebar_cold_s": round(full[0], 3),
           "with_sidebar_warm_median_s": round(statistics.median(full[1:]), 3)}
    if profile:
        prof = cProfile.Profile()
        prof.enable()
        seconds, _full, window = open_once(app, paths, models_dir)
        prof.disable()
        _settle(app, window)
        _close(app, window)
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(25)
        out["profiled_open_s"] = round(seconds, 3)
        out["profile_top_cumulative"] = _profile_rows(prof, 25)
        out["_profile_text"] = buf.getvalue()
    return out


def _profile_rows(prof: cProfile.Profile, top: int) -> list[dict]:
    stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    rows = []
    for (file, line, func), (_cc, ncalls, tottime, cumtime, _callers) in stats.items():
        rows.append({"function": f"{Path(file).name}:{line}({func})", "calls": ncalls,
                     "tottime_ms": _ms(tottime), "cumtime_ms": _ms(cumtime)})
    rows.sort(key=lambda r: -r["cumtime_ms"])
    keep = [r for r in rows if "tagassist" in r["function"] or "repository" in r["function"]
            or r["function"].startswith(("main_window", "pages", "controller", "item_model",
                                         "grid_view", "sidebar", "app.py", "thumbs",
                                         "{method 'execute'", "{built-in method PySide"))]
    return (keep or rows)[:top]


# -- 3. scroll -------------------------------------------------------------------------------

def _repaint(app, grid) -> None:
    grid.viewport().repaint()
    app.processEvents()


def _drain_thumbs(app, thumbs, timeout_s: float = 30.0) -> None:
    if thumbs is None:
        return
    deadline = time.perf_counter() + timeout_s
    while thumbs.pending() and time.perf_counter() < deadline:
        app.processEvents()
        time.sleep(0.002)
    app.processEvents()


def scroll_pages(app, grid, pages: int, thumbs=None, where=("top", "middle", "end")) -> dict:
    """ms per page at each location; ``thumbs``: wait for its loads after each jump."""
    from PySide6.QtCore import QPoint

    sb = grid.verticalScrollBar()
    step = sb.pageStep()
    out = {"page_step_px": step, "scroll_max_px": sb.maximum(),
           "viewport": [grid.viewport().width(), grid.viewport().height()]}
    for place in where:
        start = {"top": 0, "middle": sb.maximum() // 2,
                 "end": max(0, sb.maximum() - pages * step)}[place]
        sb.setValue(start)
        _repaint(app, grid)
        _drain_thumbs(app, thumbs)
        probe = QPoint(grid.gridSize().width() // 2, grid.gridSize().height() // 2)
        first_row = grid.indexAt(probe).row()
        times = []
        for _ in range(pages):
            t = time.perf_counter()
            sb.setValue(sb.value() + step)
            grid.viewport().repaint()
            app.processEvents()
            times.append(time.perf_counter() - t)
        last_row = grid.indexAt(probe).row()
        out[place] = {**_stats_ms(times), "first_row": first_row, "last_top_row": last_row}
    return out


def bench_scroll(app, library: Path, cache: Path, pages: int, models_dir: Path | None,
                 where=("top", "middle", "end"), wait_thumbs: bool = True) -> dict:
    from tagassist.paths import LibraryPaths

    paths = LibraryPaths.resolve(library / "library", cache)
    _seconds, _full, window = open_once(app, paths, models_dir)
    try:
        _settle(app, window)
        result = scroll_pages(app, window.grid, pages, window.thumbs if wait_thumbs else None,
                              where)
        result["items"] = window.model.rowCount()
        return result
    finally:
        _settle(app, window)
        _close(app, window)


# -- 4. baseline -----------------------------------------------------------------------------

def baseline_model(n: int):
    from PySide6.QtGui import QIcon, QStandardItem, QStandardItemModel

    from tagassist.ui.thumbs import placeholder

    icon = QIcon(placeholder("…"))
    model = QStandardItemModel()
    root = model.invisibleRootItem()
    root.appendRows([QStandardItem(icon, f"IMG_{i:06}.jpg") for i in range(n)])
    return model


def bench_baseline(app, n: int, size, runs: int, pages: int) -> dict:
    from tagassist.ui.grid_view import ThumbnailGrid

    t = time.perf_counter()
    model = baseline_model(n)
    build_s = time.perf_counter() - t
    times = []
    scroll = None
    for run in range(runs + 1):
        t0 = time.perf_counter()
        grid = ThumbnailGrid()
        grid.setModel(model)
        grid.resize(size)
        watch = _PaintWatch(grid.viewport())
        grid.show()
        _wait_painted(app, watch)
        times.append(time.perf_counter() - t0)
        if run == runs:
            scroll = scroll_pages(app, grid, pages)
        grid.close()
        grid.deleteLater()
        app.processEvents()
    return {"items": n, "model_build_s": round(build_s, 3),
            "open_cold_s": round(times[0], 3),
            "open_warm_median_s": round(statistics.median(times[1:]), 3),
            "grid_size": [size.width(), size.height()], "scroll": scroll}


# -- driver ----------------------------------------------------------------------------------

def run(n: int = 100_000, runs: int = 5, pages: int = 50, small: int = 1000,
        profile: bool = False, log=print) -> dict:
    from tagassist.paths import bundled_models_dir

    app = _app()
    import tagassist.ui.app  # noqa: F401 - imports outside the timings
    from tagassist.ui import qtfixes

    leak = {"qtfixes_active": qtfixes.install()}

    models = bundled_models_dir()
    models_dir = models if (models / "image-lite0" / "model.onnx").is_file() else None
    big = build_library(n, log)
    real = build_real_variant(big, n, log)
    small_lib = build_library(small, log)
    result: dict = {"machine": {"cpu_count": os.cpu_count(),
                                "qpa": os.environ.get("QT_QPA_PLATFORM"),
                                "python": sys.version.split()[0], **leak},
                    "goal": {"open_s": GOAL_OPEN_S, "page_ms": GOAL_PAGE_MS},
                    "library": json.loads((big / "done.json").read_text()),
                    "real_variant": json.loads((real / "done.json").read_text())}
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp)
        log(f"open x{runs + 1} ({n} items)...")
        result["open"] = bench_open(app, big, cache / "c1", runs, models_dir, profile)
        log(f"open x{runs + 1} ({small} items)...")
        result["open_small"] = bench_open(app, small_lib, cache / "c2", runs, models_dir)
        log("scroll: placeholders...")
        result["scroll_placeholder"] = bench_scroll(app, big, cache / "c3", pages, models_dir)
        log("scroll: real files, thumbnails cached...")
        result["scroll_thumbs_cached"] = bench_scroll(app, real, real / "cache", pages,
                                                      models_dir)
        log("scroll: real files, empty thumbnail cache (top only)...")
        result["scroll_thumbs_cold"] = bench_scroll(app, real, cache / "c5", pages, models_dir,
                                                    where=("top",), wait_thumbs=False)
        size = _grid_size(app, big, cache / "c6", models_dir)
        log("baseline: QStandardItemModel...")
        result["baseline"] = bench_baseline(app, n, size, runs, pages)
    result["ratios"] = _ratios(result)
    result["meets_goal"] = {
        "open": result["open"]["warm_median_s"] < GOAL_OPEN_S,
        "open_cold": result["open"]["cold_s"] < GOAL_OPEN_S,
        "scroll": all(result[v][w]["median_ms"] < GOAL_PAGE_MS
                      for v in ("scroll_placeholder", "scroll_thumbs_cached")
                      for w in ("top", "middle", "end")),
    }
    return result


def _grid_size(app, library: Path, cache: Path, models_dir):
    from tagassist.paths import LibraryPaths

    _s, _full, window = open_once(app, LibraryPaths.resolve(library / "library", cache), models_dir)
    size = window.grid.size()
    _settle(app, window)
    _close(app, window)
    return size


def _ratios(r: dict) -> dict:
    base = r["baseline"]
    out = {"open_warm": round(r["open"]["warm_median_s"] / base["open_warm_median_s"], 2)}
    for variant in ("scroll_placeholder", "scroll_thumbs_cached"):
        for where in ("top", "middle", "end"):
            b = base["scroll"][where]["median_ms"]
            out[f"{variant}_{where}_median"] = round(r[variant][where]["median_ms"] / b, 2)
    return out


def table(r: dict) -> str:
    lines = [f"{'measure':<44}{'ours':>12}{'baseline':>12}{'ratio':>8}"]
    b = r["baseline"]
    lines.append(f"{'open, ' + str(r['open']['items']) + ' items, cold (s)':<44}"
                 f"{r['open']['cold_s']:>12.3f}{b['open_cold_s']:>12.3f}"
                 f"{r['open']['cold_s'] / b['open_cold_s']:>8.1f}")
    lines.append(f"{'open, ' + str(r['open']['items']) + ' items, warm median (s)':<44}"
                 f"{r['open']['warm_median_s']:>12.3f}{b['open_warm_median_s']:>12.3f}"
                 f"{r['ratios']['open_warm']:>8.1f}")
    lines.append(f"{'  ... with the sidebar counts in, warm (s)':<44}"
                 f"{r['open']['with_sidebar_warm_median_s']:>12.3f}")
    lines.append(f"{'open, ' + str(r['open_small']['items']) + ' items, warm median (s)':<44}"
                 f"{r['open_small']['warm_median_s']:>12.3f}")
    for variant in ("scroll_placeholder", "scroll_thumbs_cached", "scroll_thumbs_cold"):
        for where in ("top", "middle", "end"):
            if where not in r[variant]:
                continue
            s = r[variant][where]
            base = b["scroll"][where]["median_ms"]
            label = f"{variant[7:]} {where}: ms/page med/p95/max"
            lines.append(f"{label:<44}{s['median_ms']:>5.1f}/{s['p95_ms']:.0f}/{s['max_ms']:.0f}"
                         f"{base:>12.2f}{s['median_ms'] / base:>8.1f}")
    lines.append(f"meets goal: {r['meets_goal']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000, help="items (default 100000)")
    ap.add_argument("--small", type=int, default=1000, help="the scaling library (default 1000)")
    ap.add_argument("--runs", type=int, default=5, help="warm opens (default 5)")
    ap.add_argument("--pages", type=int, default=50, help="pages per location (default 50)")
    ap.add_argument("--profile", action="store_true", help="cProfile one open")
    ap.add_argument("--json", type=Path, default=ROOT / "docs" / "results" / "window-scale.json",
                    help="where to write the JSON (default docs/results/window-scale.json)")
    args = ap.parse_args(argv)
    if args.n < 10 or args.runs < 1 or args.pages < 1:
        ap.error("--n >= 10, --runs >= 1, --pages >= 1")
    result = run(args.n, args.runs, args.pages, args.small, args.profile,
                 log=lambda m: print(m, file=sys.stderr, flush=True))
    profile_text = result["open"].pop("_profile_text", None)
    if profile_text:
        print(profile_text, file=sys.stderr)
    write_report(args.json, result, table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
