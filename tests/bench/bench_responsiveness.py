"""Benchmark: does the window's event loop keep beating while the real jobs run?

Goal (the issue): importing and featurizing 500 photos and running a training job never block
the event loop for more than 100 ms (report the largest gap).

    python -m tests.bench.bench_responsiveness [--json docs/results/responsiveness.json]
                                               [--sampler] [--no-none-guard] [--data DIR]

Runs headless (``QT_QPA_PLATFORM=offscreen`` unless set), one real ``MainWindow`` over a fresh
library with the default models, in one process:

* heartbeat: a 10 ms ``QTimer`` (PreciseTimer) on the UI thread records ``perf_counter()``;
  a gap is the time between two beats (10 ms when nothing blocks).  Per phase: duration,
  beats, max gap, p99 gap, gaps > 100 ms.
* a user: every 200 ms ``window.grid.step(1)`` (wrapping to the first row at the end) selects
  the next item, which refreshes the detail panel and requests suggestions.
* phases, each through the window and its own jobs:
  ``import``   ``window.start_import(folder)`` of 500 distinct photos (the 283 COCO photos, the 63
               real camera photos and 154 mirrored / cropped re-encodes of COCO photos, made once
               under ``$TMPDIR/tagassist-bench-resp/``), waiting for ``handle.ended``; the
               automatic analysis after import is switched off for it, so featurizing is a
               phase of its own;
  ``featurize`` ``controller.start_featurize()`` (else ``controller.suggest.start_analysis()``,
               else ``controller.jobs.start`` over ``engine.featurize_missing``; the JSON says
               which ran);
  ``tagging``  every COCO photo gets its COCO categories with ``controller.add_tags``, one photo
               per 50 ms timer tick (as quick as a person could click), until every write
               has landed (they run on the controller's writer thread);
  ``training`` ``controller.suggest.start_training()`` until its handle ends (needs torch);
  ``idle``     the in-process baseline: nothing running, no stepping, as long as the import
               phase (5-30 s): the heartbeat's own jitter;
  ``stepping`` the same length with only the 200 ms stepping (suggestions for a trained model).
* PySide6 6.12.0's reference leak on ``None`` (the window aborted in the tagging phase) is
  handled by the app's own ``tagassist.ui.qtfixes``; ``qtfixes_active`` records whether it had
  to act.
* evidence for long gaps: known slots of the window are wrapped (at class level, before the
  window is built; the app's files are untouched) to time every call; the UI thread's
  ``/proc/self/task/<tid>/schedstat`` is read at every beat, which splits each gap into time
  the UI thread ran (Qt/Python work), was runnable but not scheduled (machine busy) and
  waited (for the GIL or a lock).  ``faulthandler.dump_traceback_later`` is re-armed at every
  beat (``--watchdog-ms``, default 150): its C thread needs no GIL, so when a beat is that
  late it dumps every thread's stack -- the UI thread's, and the one holding the GIL.
* the machine's stolen time: the CPU time the hypervisor gave to other guests while this one
  wanted it (``/proc/stat``'s steal column), read at every beat.  Per phase as a share of the
  CPUs, per long gap in ms (the mean over the CPUs).  On the shared 2-core machine it reached
  30 % under load, and a gap with tens of ms stolen is the host's, not the app's; with
  paravirtual steal accounting the guest counts it as neither running nor runnable, so it
  shows in a gap's "waiting" share.  Per gap it is taken from the CPU the UI thread was on
  (``/proc/thread-self/stat``'s processor field at the gap's two beats).
  ``--sampler`` adds a thread that dumps all stacks
  (``faulthandler``) every 5 ms while no beat has come for 40 ms (off by default: one run
  with it segfaulted).  Each long gap is listed with its phase, this split, the slot calls
  that overlapped it and the sampled stacks.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import argparse  # noqa: E402
import csv  # noqa: E402
import faulthandler  # noqa: E402
import functools  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from tests.bench.report import write_report  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
VERSION = 1  # bump when the photo set changes
CACHE = Path(tempfile.gettempdir()) / "tagassist-bench-resp"
COCO, REAL = "coco-val2017-283", "real-photos-exif-63"
PHOTOS = 500
BEAT_MS, STEP_MS, TAG_MS = 10, 200, 50
GAP_LIMIT_MS = 100.0
SAMPLE_AFTER_S, SAMPLE_EVERY_S = 0.040, 0.005
# Slots and methods the UI thread runs (class, method names): timed per call.
SLOTS = {
    "tagassist.ui.main_window:MainWindow": (
        "reload", "refresh_tags", "_refresh_detail", "_selection_changed", "_thumb_ready",
        "_show", "next_untagged"),
    "tagassist.ui.sidebar:TagSidebar": ("set_counts",),
    "tagassist.ui.detail_panel:DetailPanel": ("show_items", "set_completions"),
    "tagassist.ui.suggestion_panel:SuggestionPanel": ("show_result", "set_busy"),
    "tagassist.ui.job_status:JobStatus": ("track", "_progress", "_ended"),
    "tagassist.ui.notifications:NotificationArea": ("add",),
    "tagassist.ui.suggest_controller:SuggestController": (
        "request", "refresh", "_finished", "_progress", "_trained", "_analysed"),
    "tagassist.ui.controller:LibraryController": ("add_tags", "_tags_written",
                                                  "_import_finished"),
    "tagassist.ui.writer:SerialWriter": ("submit", "_finish"),
    "tagassist.ui.item_model:ItemListModel": ("set_ids", "invalidate", "_on_thumb_ready"),
    "tagassist.ui.thumbs:ThumbnailLoader": ("_on_loaded",),
    "tagassist.ui.grid_view:ThumbnailGrid": ("select_rows", "_emit_selection"),
    "tagassist.ui.workers:JobHandle": ("_on_done", "_on_error"),
    "tagassist.ui.workers:JobRunner": ("start",),
}


def _r(x: float) -> float:
    return round(float(x), 2)


# -- the 500 photos --------------------------------------------------------------------------

def make_photos(data: Path, n: int = PHOTOS, log=print) -> tuple[Path, dict[str, list[str]]]:
    """The photo folder (cached) and {file name: COCO categories} of the COCO originals."""
    from PIL import Image, ImageOps

    from tests.bench.bench_coco_cold_start import split

    coco_dir, real_dir = data / COCO, data / REAL
    truth: dict[str, list[str]] = {}
    with (coco_dir / "labels.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if split(row["tags"]):
                truth[row["filename"]] = split(row["tags"])
    folder = CACHE / f"v{VERSION}-n{n}" / "photos"
    if (folder.parent / "done").is_file():
        return folder, truth
    t0 = time.perf_counter()
    shutil.rmtree(folder.parent, ignore_errors=True)
    coco = sorted((coco_dir / "images").glob("*.jpg"))
    real = sorted(p for p in (real_dir / "images").iterdir() if p.is_file())
    for sub, files in (("coco", coco), ("real", real)):
        (folder / sub).mkdir(parents=True)
        for p in files:
            shutil.copy2(p, folder / sub / p.name)
    (folder / "derived").mkdir()
    need = n - len(coco) - len(real)
    for k in range(need):
        src = coco[k % len(coco)]
        with Image.open(src) as im:
            im = im.convert("RGB")
            kind = (k // len(coco)) % 3 if need > len(coco) else k % 3
            if kind == 0:
                out = ImageOps.mirror(im)
            elif kind == 1:
                w, h = im.size
                out = im.crop((w // 10, h // 10, w - w // 10, h - h // 10))
            else:
                out = ImageOps.mirror(im).rotate(180)
            out.save(folder / "derived" / f"{src.stem}-v{k}.jpg", quality=88)
    (folder.parent / "done").write_text("ok")
    log(f"made {n} photos in {time.perf_counter() - t0:.0f} s -> {folder}")
    return folder, truth


# -- instrumentation -------------------------------------------------------------------------

class Recorder:
    """Heartbeats, phase marks, slot timings and gap-time stack samples."""

    def __init__(self) -> None:
        self.beats: list[float] = []
        self.last = time.perf_counter()
        self.phases: list[tuple[str, float, float]] = []
        self.calls: list[tuple[str, float, float]] = []  # (slot, start, seconds)
        self.samples: list[tuple[float, list[str], dict[str, list[str]]]] = []
        self.steps: list[tuple[float, float]] = []  # (start, seconds) of each grid.step
        self.sched: list[tuple[int, int]] = []  # UI thread (cpu ns, run-queue wait ns) per beat
        self._stat = None
        # per beat: each CPU's stolen time so far (USER_HZ ticks), the CPU the UI thread is on
        self.steal: list[list[int]] = []
        self.cpu_of_ui: list[int] = []
        self.gcs: list[tuple[float, float, int]] = []  # Python's collections: (start, s, gen)
        self._gc_start = 0.0
        self._proc_stat = None
        self._thread_stat = None
        self.watchdog_s = 0.0
        self._watchdog_fd: int | None = None
        self.dumps: list[dict] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def beat(self) -> None:
        self.last = time.perf_counter()
        self.beats.append(self.last)
        self.sched.append(_schedstat(self._stat))
        self.steal.append(_steal(self._proc_stat))
        self.cpu_of_ui.append(_cpu_now(self._thread_stat))
        if self._watchdog_fd is not None:  # re-arm: fires only if the next beat is late
            faulthandler.dump_traceback_later(self.watchdog_s, file=self._watchdog_fd)

    def start_watchdog(self, seconds: float) -> None:
        """faulthandler's C watchdog thread (it needs no GIL) dumps every thread's stack when
        no beat came for ``seconds``: the stack of whoever holds the GIL or blocks the UI."""
        fd, name = tempfile.mkstemp(prefix="bench-watchdog-")
        os.unlink(name)
        self.watchdog_s, self._watchdog_fd = seconds, fd

    def stop_watchdog(self) -> list[dict]:
        """The dumps, oldest first: {UI thread frames, other threads' frames}."""
        if self._watchdog_fd is None:
            return []
        faulthandler.cancel_dump_traceback_later()
        fd, self._watchdog_fd = self._watchdog_fd, None
        os.lseek(fd, 0, os.SEEK_SET)
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        os.close(fd)
        main = f"0x{threading.main_thread().ident:016x}"
        dumps = []
        for text in b"".join(chunks).decode("utf-8", "replace").split("Timeout (")[1:]:
            ui: list[str] = []
            others: dict[str, list[str]] = {}
            for block in text.split("\n\n"):
                lines = [ln for ln in block.strip().splitlines() if ln.strip()]
                heads = [i for i, ln in enumerate(lines) if ln.startswith("Thread 0x")]
                for h, start in enumerate(heads):
                    end = heads[h + 1] if h + 1 < len(heads) else len(lines)
                    frames = [_frame(ln) for ln in lines[start + 1:end]
                              if ln.strip().startswith("File")]
                    ident = lines[start].split()[1]
                    if ident == main:
                        ui = frames[:10]
                    elif frames:
                        others[ident] = frames[:5]
            dumps.append({"ui_thread": ui, "other_threads": others})
        return dumps

    def open_schedstat(self) -> None:
        """The UI thread's /proc schedstat file (Linux): CPU time and run-queue wait."""
        path = Path(f"/proc/self/task/{threading.get_native_id()}/schedstat")
        self._stat = path.open("rb", buffering=0) if path.exists() else None
        machine = Path("/proc/stat")
        self._proc_stat = machine.open("rb", buffering=0) if machine.exists() else None
        own = path.with_name("stat")
        self._thread_stat = own.open("rb", buffering=0) if own.exists() else None

    def on_gc(self, phase: str, info: dict) -> None:
        """``gc.callbacks``: every collection holds the GIL, whichever thread runs it."""
        if phase == "start":
            self._gc_start = time.perf_counter()
        else:
            self.gcs.append((self._gc_start, time.perf_counter() - self._gc_start,
                             int(info.get("generation", -1))))

    # slot timing
    def wrap(self, spec: str, names: tuple[str, ...]) -> list[str]:
        import importlib

        module, cls_name = spec.split(":")
        cls = getattr(importlib.import_module(module), cls_name)
        wrapped = []
        for name in names:
            fn = cls.__dict__.get(name)
            if fn is None or getattr(fn, "_bench_wrapped", False):
                continue
            label = f"{cls_name}.{name}"

            def timed(*args, _fn=fn, _label=label, **kwargs):
                t = time.perf_counter()
                try:
                    return _fn(*args, **kwargs)
                finally:
                    self.calls.append((_label, t, time.perf_counter() - t))

            functools.update_wrapper(timed, fn)
            timed._bench_wrapped = True  # type: ignore[attr-defined]
            setattr(cls, name, timed)
            wrapped.append(label)
        return wrapped

    # stack sampling
    def start_sampler(self) -> None:
        """Sample with ``faulthandler.dump_traceback`` (text, written by C): holding the UI
        thread's frame objects (``sys._current_frames``) would keep its locals -- a
        paintEvent's QPainter -- alive, and free them later in this thread (Qt warned
        "endPaint() called with active painter", then the process crashed)."""
        main = f"0x{threading.main_thread().ident:016x}"
        fd, name = tempfile.mkstemp(prefix="bench-sampler-")
        os.unlink(name)

        def loop() -> None:
            while not self._stop.wait(SAMPLE_EVERY_S):
                now = time.perf_counter()
                if now - self.last < SAMPLE_AFTER_S:
                    continue
                os.lseek(fd, 0, os.SEEK_SET)
                os.ftruncate(fd, 0)
                faulthandler.dump_traceback(fd, all_threads=True)
                os.lseek(fd, 0, os.SEEK_SET)
                text = os.read(fd, 1 << 20).decode("utf-8", "replace")
                ui: list[str] = []
                others: dict[str, list[str]] = {}
                for block in text.split("\n\n"):
                    lines = block.strip().splitlines()
                    if not lines or lines[0].startswith("Current thread"):
                        continue  # this sampler
                    frames = [_frame(ln) for ln in lines[1:] if ln.strip().startswith("File")]
                    if main in lines[0]:
                        ui = frames[:14]  # innermost first
                    else:
                        others[lines[0].split()[1]] = frames[:4]
                self.samples.append((now, ui, others))
            os.close(fd)

        self._thread = threading.Thread(target=loop, name="bench-sampler", daemon=True)
        self._thread.start()

    def stop_sampler(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def _schedstat(f) -> tuple[int, int]:
    if f is None:
        return (0, 0)
    f.seek(0)
    cpu, wait, _slices = f.read().split()
    return int(cpu), int(wait)


def _steal(f) -> list[int]:
    """Each CPU's stolen ticks so far (``/proc/stat``'s 8th value per ``cpuN`` line)."""
    if f is None:
        return []
    f.seek(0)
    rows = [line.split() for line in f.read().splitlines()[1:] if line.startswith(b"cpu")]
    return [int(r[8]) if len(r) > 8 else 0 for r in rows]


def _cpu_now(f) -> int:
    """The CPU the UI thread runs on (its /proc stat's 39th field; -1 if unknown)."""
    if f is None:
        return -1
    f.seek(0)
    fields = f.read().rsplit(b")", 1)[-1].split()
    return int(fields[36]) if len(fields) > 36 else -1


def _frame(line: str) -> str:
    """'File "/a/b.py", line 12 in f' -> 'b.py:12 f'."""
    try:
        path, rest = line.strip()[len('File "'):].split('", line ', 1)
        lineno, func = rest.split(" in ", 1)
        return f"{Path(path).name}:{lineno} {func}"
    except ValueError:
        return line.strip()


def _qt_wait(app, until, timeout_s: float) -> bool:
    """Run the event loop until ``until()`` or the timeout; True if it came."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    poll = QTimer()
    poll.setInterval(20)
    poll.timeout.connect(lambda: until() and loop.quit())
    poll.start()
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    if not until():
        loop.exec()
    poll.stop()
    return bool(until())


def _wait_handle(app, handle, timeout_s: float) -> None:
    if handle is None:
        raise RuntimeError("the job did not start")
    if not _qt_wait(app, lambda: not handle.running, timeout_s):
        raise RuntimeError(f"{handle.title} still running after {timeout_s:.0f} s")


# -- the phases ------------------------------------------------------------------------------

def run(data: Path, sampler: bool = False, watchdog_ms: float = 150,
        log=print) -> dict:
    from PySide6.QtCore import Qt, QTimer, qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    def quiet(_mode, _context, message) -> None:
        if "propagateSizeHints" not in message:
            print(message, file=sys.stderr)

    qInstallMessageHandler(quiet)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from tagassist.paths import LibraryPaths, bundled_models_dir
    from tagassist.suggest.training import trainer_available
    from tagassist.ui import qtfixes  # importing tagassist.ui applies them
    from tagassist.ui.app import open_window, tune_interpreter

    leak = {"qtfixes_active": qtfixes.install()}
    folder, truth = make_photos(data, log=log)
    rec = Recorder()
    wrapped = [w for spec, names in SLOTS.items() for w in rec.wrap(spec, names)]
    result: dict = {"machine": {"cpu_count": os.cpu_count(), "python": sys.version.split()[0],
                                "qpa": os.environ.get("QT_QPA_PLATFORM")},
                    "goal_max_gap_ms": GAP_LIMIT_MS, "heartbeat_ms": BEAT_MS,
                    "step_every_ms": STEP_MS, "sampler": sampler, "watchdog_ms": watchdog_ms,
                    "slots_timed": wrapped,
                    "photos": sum(1 for p in folder.rglob("*") if p.is_file()), **leak}
    tmp = Path(tempfile.mkdtemp(prefix="bench-resp-"))
    window = None
    try:
        paths = LibraryPaths.resolve(tmp / "library", tmp / "cache")
        window = open_window(paths, "me", models_dir=bundled_models_dir())
        window.show()
        tune_interpreter()  # as run_gui does once the window is up
        c = window.controller
        if hasattr(c, "analyse_after_import"):
            c.analyse_after_import = False  # featurizing is its own phase below
        app.processEvents()

        heart = QTimer()
        heart.setTimerType(Qt.TimerType.PreciseTimer)
        heart.setInterval(BEAT_MS)
        heart.timeout.connect(rec.beat)
        stepper = QTimer()
        stepper.setInterval(STEP_MS)

        def step() -> None:
            t = time.perf_counter()
            grid = window.grid
            n = grid.model().rowCount()
            if n:
                if grid.currentIndex().row() >= n - 1:
                    grid.select_rows([0])
                else:
                    grid.step(1)
            rec.steps.append((t, time.perf_counter() - t))

        stepper.timeout.connect(step)
        if sampler:
            rec.start_sampler()
        rec.open_schedstat()
        gc.callbacks.append(rec.on_gc)
        if watchdog_ms > 0:
            rec.start_watchdog(watchdog_ms / 1000)
        heart.start()

        def phase(name: str, body, stepping: bool = True) -> None:
            log(f"phase {name}...")
            if stepping:
                stepper.start()
            t0 = time.perf_counter()
            try:
                body()
            finally:
                stepper.stop()
                rec.phases.append((name, t0, time.perf_counter()))

        # (a) import
        handles: dict = {}
        phase("import", lambda: _wait_handle(app, handles.setdefault(
            "import", window.start_import(folder)), 600))
        result["import_report"] = {k: getattr(handles["import"].result, k, None)
                                   for k in ("added", "updated", "unchanged", "moved")}
        result["items"] = window.model.rowCount()

        # (b) featurize
        def featurize() -> None:
            if hasattr(c, "start_featurize"):
                how, handle = "controller.start_featurize()", c.start_featurize()
            elif hasattr(c.suggest, "start_analysis"):
                how, handle = "controller.suggest.start_analysis()", c.suggest.start_analysis()
            else:
                how = "controller.jobs.start(engine.featurize_missing)"
                handle = c.jobs.start("Analysing",
                                      lambda cancel: c.suggest.engine.featurize_missing(cancel))
            result["featurize_via"] = how
            _wait_handle(app, handle, 900)
            report = handle.result
            result["featurize_report"] = {"featurized": getattr(report, "featurized", None),
                                          "failed": len(getattr(report, "failed", []) or [])}

        phase("featurize", featurize)

        # (c) tagging, one photo per tick
        todo = []
        for name, tags in sorted(truth.items()):
            item = c.library.items.by_path(str((folder / "coco" / name).resolve()))
            if item is None:
                item = c.library.items.by_path(str(folder / "coco" / name))
            if item is not None:
                todo.append((item.id, tags))
        result["tagged_photos"] = len(todo)

        def tagging() -> None:
            queue = list(todo)
            ticker = QTimer()
            ticker.setInterval(TAG_MS)

            def tick() -> None:
                if queue:
                    item_id, tags = queue.pop(0)
                    c.add_tags([item_id], tags)

            ticker.timeout.connect(tick)
            ticker.start()
            # The writes run off the UI thread (issue 19): the phase lasts until they landed.
            pending = getattr(c, "writes_pending", lambda: False)
            _qt_wait(app, lambda: not queue and not pending(),
                     len(todo) * TAG_MS / 1000 * 4 + 30)
            ticker.stop()

        phase("tagging", tagging)

        # (d) training
        if trainer_available():
            def training() -> None:
                handle = c.suggest.start_training()
                _wait_handle(app, handle, 900)
                res = handle.result if isinstance(handle.result, dict) else {}
                result["training_result"] = {k: res.get(k) for k in ("event", "version",
                                                                     "message")}
                result["training_error"] = handle.error

            phase("training", training)
        else:
            result["training_skipped"] = "torch is not installed"

        # baselines: idle (heartbeat jitter alone), then only the stepping
        length = min(30.0, max(5.0, rec.phases[0][2] - rec.phases[0][1]))
        _qt_wait(app, lambda: not c.suggest.pending(), 30)
        phase("idle", lambda: _qt_wait(app, lambda: False, length), stepping=False)
        phase("stepping", lambda: _qt_wait(app, lambda: False, length))
        heart.stop()
    finally:
        if rec.on_gc in gc.callbacks:
            gc.callbacks.remove(rec.on_gc)
        rec.stop_sampler()
        rec.dumps = rec.stop_watchdog()
        if window is not None:
            window.close()
            window.controller.library.close()
            window.deleteLater()
            app.processEvents()
        shutil.rmtree(tmp, ignore_errors=True)
    result.update(analyse(rec))
    return result


# -- analysis --------------------------------------------------------------------------------

def _phase_of(rec: Recorder, t: float) -> str:
    for name, a, b in rec.phases:
        if a <= t <= b:
            return name
    return "between"


def _stolen_per_gap(rec: Recorder, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per gap: ms stolen from the UI thread's CPU (the more of the CPUs it was on at the
    gap's two beats) and the mean over all CPUs.  Ticks are 10 ms: coarse for one gap."""
    steal = np.asarray(rec.steal, dtype=np.float64)
    if steal.ndim != 2 or len(steal) != n + 1 or steal.shape[1] == 0:
        return np.zeros(n), np.zeros(n)
    tick_ms = 1e3 / os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 10.0
    per_cpu = np.diff(steal, axis=0) * tick_ms
    on = np.asarray(rec.cpu_of_ui)
    rows = np.arange(n)
    ends = [np.where((c >= 0) & (c < per_cpu.shape[1]), per_cpu[rows, np.clip(c, 0, None)],
                     per_cpu.max(axis=1)) for c in (on[:-1], on[1:])]
    return np.maximum(*ends), per_cpu.mean(axis=1)


def analyse(rec: Recorder) -> dict:
    beats = np.asarray(rec.beats)
    gaps = np.diff(beats) * 1e3
    ends = beats[1:]
    sched = np.asarray(rec.sched, dtype=np.float64) / 1e6  # ms
    cpu = np.diff(sched[:, 0]) if len(sched) > 1 else np.zeros_like(gaps)
    runq = np.diff(sched[:, 1]) if len(sched) > 1 else np.zeros_like(gaps)
    stolen, stolen_mean = _stolen_per_gap(rec, len(gaps))
    phases = {}
    for name, a, b in rec.phases:
        m = (ends >= a) & (ends <= b)
        g = gaps[m]
        steps = [s for t, s in rec.steps if a <= t <= b]
        phases[name] = {
            "duration_s": _r(b - a), "beats": int(m.sum()),
            "max_gap_ms": _r(g.max()) if g.size else None,
            "p99_gap_ms": _r(np.percentile(g, 99)) if g.size else None,
            "median_gap_ms": _r(np.median(g)) if g.size else None,
            "gaps_over_100ms": int((g > GAP_LIMIT_MS).sum()),
            "gaps_over_50ms": int((g > 50).sum()),
            # Where the time of the gaps > 50 ms went (UI thread, /proc schedstat): running
            # (Qt or Python work on the UI thread), runnable but not scheduled (the machine
            # is busy: other processes, our own threads), or neither (asleep: waiting for the
            # GIL or a lock -- the event loop itself never sleeps that long with a 10 ms timer).
            "long_gaps_ms_ui_running": _r(cpu[m][g > 50].sum()),
            "long_gaps_ms_ui_runnable_not_scheduled": _r(runq[m][g > 50].sum()),
            "long_gaps_ms_ui_waiting": _r((g - cpu[m] - runq[m])[g > 50].sum()),
            "machine_stolen_pct": _r(100 * stolen_mean[m].sum() / max(1e-9, (b - a) * 1e3)),
            "gaps_over_100ms_with_under_10ms_stolen": int(((g > GAP_LIMIT_MS)
                                                            & (stolen[m] < 10)).sum()),
            "steps": len(steps),
            "step_slot_max_ms": _r(max(steps) * 1e3) if steps else None,
            "step_slot_median_ms": _r(float(np.median(steps)) * 1e3) if steps else None,
        }
    in_phases = [p for p in phases.values() if p["max_gap_ms"] is not None]
    work = [p for n, p in phases.items() if n in ("import", "featurize", "training")]
    overall = {
        "max_gap_ms": max(p["max_gap_ms"] for p in in_phases) if in_phases else None,
        "max_gap_ms_jobs": max((p["max_gap_ms"] for p in work if p["max_gap_ms"]), default=None),
        "gaps_over_100ms": sum(p["gaps_over_100ms"] for p in in_phases),
        "gaps_over_100ms_with_under_10ms_stolen": sum(
            p["gaps_over_100ms_with_under_10ms_stolen"] for p in in_phases),
    }
    overall["meets_goal_jobs"] = (overall["max_gap_ms_jobs"] is not None
                                  and overall["max_gap_ms_jobs"] <= GAP_LIMIT_MS)
    # slots: per name, count / total / max, per phase
    slots: dict[str, dict] = {}
    for label, t, s in rec.calls:
        d = slots.setdefault(label, {"calls": 0, "total_ms": 0.0, "max_ms": 0.0,
                                     "max_phase": None})
        d["calls"] += 1
        d["total_ms"] += s * 1e3
        if s * 1e3 > d["max_ms"]:
            d["max_ms"], d["max_phase"] = s * 1e3, _phase_of(rec, t)
    for d in slots.values():
        d["total_ms"], d["max_ms"] = _r(d["total_ms"]), _r(d["max_ms"])
    slots = dict(sorted(slots.items(), key=lambda kv: -kv[1]["max_ms"]))
    # the long gaps, with what overlapped them
    dump_of: dict[int, dict] = {}
    if rec.dumps and rec.watchdog_s:
        late = [k for k in range(len(gaps)) if gaps[k] > rec.watchdog_s * 1e3]
        # The watchdog fires once per such gap, in order (a dump may be missing at the end).
        dump_of = dict(zip(late, rec.dumps, strict=False))
    order = np.argsort(-gaps)
    long_gaps = []
    for k in order[:12]:
        if gaps[k] <= 50 and long_gaps:
            break
        a, b = beats[k], beats[k + 1]
        overlapping = sorted(((label, _r(s * 1e3)) for label, t, s in rec.calls
                              if t < b and t + s > a and s > 0.005), key=lambda x: -x[1])
        samples = [(ui, others) for t, ui, others in rec.samples if a < t <= b]
        stacks = Counter(" <- ".join(ui[:6]) for ui, _ in samples)
        others = Counter(f"{name}: {' <- '.join(fr[:2])}"
                         for _, o in samples for name, fr in o.items() if fr)
        collections = [(g, _r(s * 1e3)) for t, s, g in rec.gcs if t < b and t + s > a]
        long_gaps.append({
            "gap_ms": _r(gaps[k]), "phase": _phase_of(rec, b),
            "ui_running_ms": _r(cpu[k]), "ui_runnable_not_scheduled_ms": _r(runq[k]),
            "ui_waiting_ms": _r(gaps[k] - cpu[k] - runq[k]),
            "stolen_from_ui_cpu_ms": _r(stolen[k]),
            "machine_stolen_ms": _r(stolen_mean[k]),
            "at_s": _r(b - rec.phases[0][1]) if rec.phases else None,
            "slots_overlapping": overlapping[:8],
            "gc_overlapping": collections,  # (generation, ms) of Python's collections
            "samples": len(samples),
            "ui_thread_stacks": [{"n": n, "innermost_first": s}
                                 for s, n in stacks.most_common(3)],
            "other_threads": [{"n": n, "where": s} for s, n in others.most_common(6)],
            "watchdog_dump": dump_of.get(int(k)),
        })
    gc_ms = sorted(s * 1e3 for _, s, _ in rec.gcs)
    collections = {"count": len(gc_ms), "max_ms": _r(gc_ms[-1]) if gc_ms else None,
                   "over_20ms": sum(ms > 20 for ms in gc_ms),
                   "full": sum(g == 2 for _, _, g in rec.gcs)}
    return {"phases": phases, "overall": overall, "slots": slots, "longest_gaps": long_gaps,
            "python_gc": collections,
            "watchdog_dumps": len(rec.dumps), "watchdog_dumps_matched": len(dump_of)}


def table(r: dict) -> str:
    head = (f"{'phase':<11}{'dur s':>8}{'beats':>7}{'max gap':>9}{'p99':>7}{'>100ms':>8}"
            f"{'>50ms':>7}{'step max':>10}{'stolen %':>10}")
    lines = [head]
    for name, p in r["phases"].items():
        lines.append(f"{name:<11}{p['duration_s']:>8.1f}{p['beats']:>7}"
                     f"{p['max_gap_ms'] or 0:>9.1f}{p['p99_gap_ms'] or 0:>7.1f}"
                     f"{p['gaps_over_100ms']:>8}{p['gaps_over_50ms']:>7}"
                     f"{p['step_slot_max_ms'] or 0:>10.1f}{p['machine_stolen_pct']:>10.1f}")
    o = r["overall"]
    lines.append(f"largest gap: {o['max_gap_ms']} ms (jobs' phases: {o['max_gap_ms_jobs']} ms; "
                 f"goal <= {GAP_LIMIT_MS:.0f} ms: {o['meets_goal_jobs']}); gaps over 100 ms: "
                 f"{o['gaps_over_100ms']}, of which with under 10 ms stolen by the host: "
                 f"{o['gaps_over_100ms_with_under_10ms_stolen']}")
    for g in r["longest_gaps"][:5]:
        top = g["slots_overlapping"][:2]
        lines.append(f"  gap {g['gap_ms']} ms in {g['phase']} at {g['at_s']} s (UI thread running "
                     f"{g['ui_running_ms']}, runnable {g['ui_runnable_not_scheduled_ms']}, "
                     f"waiting {g['ui_waiting_ms']} ms; host stole {g['stolen_from_ui_cpu_ms']} ms "
                     f"of its CPU); "
                     f"slots {top}; gc {g['gc_overlapping']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from trainer.datasets import data_dir

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=None, help="data folder (default ../shared/data)")
    ap.add_argument("--sampler", action="store_true",
                    help="also sample stacks during gaps (faulthandler; one run crashed with it)")
    ap.add_argument("--watchdog-ms", type=float, default=150,
                    help="dump all stacks when no beat came for this long (0: off; default 150)")
    ap.add_argument("--json", type=Path, default=ROOT / "docs" / "results" / "responsiveness.json",
                    help="where to write the JSON (default docs/results/responsiveness.json)")
    args = ap.parse_args(argv)
    data = args.data or data_dir()
    if not (data / COCO / "labels.csv").is_file() or not (data / REAL / "images").is_dir():
        print(json.dumps({"skipped": f"{data / COCO} or {data / REAL} is missing"}))
        return 0
    result = run(data, sampler=args.sampler, watchdog_ms=args.watchdog_ms,
                 log=lambda m: print(m, file=sys.stderr, flush=True))
    write_report(args.json, result, table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
