"""Suggestions and training for the window: background requests, accept/reject, train.

Owned by :class:`~tagassist.ui.controller.LibraryController` (``controller.suggest``).  A
request runs :func:`suggest_job` on a private one-thread pool (never in the status bar: it is
per selection and quick); the newest request wins — older ones are cancelled and their late
results dropped.  Decisions are written through the library controller, so they are undoable
like typed tags; the rows they act on are taken out of the shown list at once, so a key
pressed before the refresh arrives acts on what the person sees.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from tagassist.suggest.training import trainer_available
from tagassist.ui.suggest_jobs import (
    SuggestEngine,
    SuggestResult,
    suggest_job,
    train_job,
    training_notice,
)
from tagassist.ui.workers import JobHandle, JobRunner

ACCEPT_ALL_THRESHOLD = 0.5  # "accept all": the tags more likely kept than not
NO_TRAINER = ("Training needs the trainer's packages (PyTorch), which are not installed: "
              "pip install torch==2.13.0 -e '.[train]'")


class SuggestController(QObject):
    changed = Signal(object, str)  # SuggestResult or None, and a message for the empty panel
    busy = Signal(str)             # what a running request is doing ("" when idle)

    def __init__(self, host, models_dir: Path) -> None:
        super().__init__(host)
        self.host = host  # the LibraryController: user, notify/status, undoable writes
        self.engine = SuggestEngine(host.paths.database, models_dir)
        self.jobs = JobRunner(self, max_threads=1)
        self.result: SuggestResult | None = None
        self.train_handle: JobHandle | None = None
        # retrain by itself after this many decisions (a setting; 0 = only when asked)
        self.retrain_after = 0
        self.decisions_since_training = 0
        self.analyse_handle: JobHandle | None = None
        self._analyse_again = False
        self._ids: list[int] = []
        self._seq = 0
        self._handle: JobHandle | None = None
        host.tags_changed.connect(self.refresh)

    # -- requests ------------------------------------------------------------------------------
    def request(self, item_ids: list[int]) -> None:
        """Suggest for a new selection (the old rows go at once: they are another item's)."""
        self._ids = list(item_ids)
        self.result = None
        self.changed.emit(None, "" if self._ids else
                          "Select a photo or document to see suggestions.")
        self.refresh()

    def refresh(self) -> None:
        """Recompute for the current selection, keeping the shown rows until the new ones."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if not self._ids:
            self.busy.emit("")
            return
        self._seq += 1
        seq, ids, user = self._seq, list(self._ids), self.host.user_id
        handle = self.jobs.start("Suggestions",
                                 lambda cancel: suggest_job(self.engine, ids, user, cancel))
        handle.progress.connect(lambda _d, _t, text, s=seq: self._progress(s, text))
        handle.finished.connect(lambda result, s=seq: self._finished(s, result))
        handle.failed.connect(lambda message, s=seq: self._failed(s, message))
        self._handle = handle
        self.busy.emit("Finding suggestions…")

    @property
    def handle(self) -> JobHandle | None:
        """The newest request's job (None once its result is shown)."""
        return self._handle

    def pending(self) -> bool:
        return self._handle is not None and self._handle.running

    def _progress(self, seq: int, text: str) -> None:
        if seq == self._seq and text:
            self.busy.emit(text if text.endswith("…") else f"Reading {Path(text).name}…")

    def _finished(self, seq: int, result: SuggestResult | None) -> None:
        if seq != self._seq or result is None:  # a newer selection won
            return
        self._handle = None
        self.result = result
        self.busy.emit("")
        self.changed.emit(result, "")

    def _failed(self, seq: int, message: str) -> None:
        self.host.notify.emit("error", message)  # even a stale failure is a real one
        if seq == self._seq:
            self._handle = None
            self.busy.emit("")
            self.changed.emit(None, "No suggestions: computing them failed (see the message "
                                    "above).")

    # -- decisions -----------------------------------------------------------------------------
    def accept(self, index: int) -> bool:
        return self._review([index], accepted=True)

    def reject(self, index: int) -> bool:
        return self._review([index], accepted=False)

    def accept_likely(self) -> bool:
        """Accept every shown suggestion at ``ACCEPT_ALL_THRESHOLD`` or more."""
        rows = self.result.rows if self.result else []
        picked = [n for n, s in enumerate(rows) if s.score >= ACCEPT_ALL_THRESHOLD]
        if rows and not picked:
            self.host.status.emit(f"No suggestion is at {ACCEPT_ALL_THRESHOLD:.0%} or more")
        return self._review(picked, accepted=True)

    def accept_set(self) -> bool:
        """Accept SOG's generated set for the selected photo (the tags not present yet)."""
        r = self.result
        if r is None or not r.generated:
            self.host.status.emit("No generated set to accept"
                                  + (f": {r.generated_note}" if r and r.generated_note else ""))
            return False
        picked, r.generated = r.generated, []
        r.rows = [s for s in r.rows if s.tag not in {p.tag for p in picked}]
        self.changed.emit(r, "")
        ok = self.host.review(list(r.item_ids),
                              [(s.tag, True, s.rank, round(s.score, 6)) for s in picked],
                              r.model_version)
        if not ok:
            self.refresh()
        else:
            self._count_decisions(len(picked))
        return ok

    def reject_rest(self) -> bool:
        return self._review(list(range(len(self.result.rows) if self.result else 0)),
                            accepted=False)

    def _review(self, indices: list[int], accepted: bool) -> bool:
        r = self.result
        indices = [n for n in indices if r is not None and 0 <= n < len(r.rows)]
        if r is None or not indices:
            return False
        picked = [r.rows[n] for n in indices]
        r.rows = [s for s in r.rows if s not in picked]
        self.changed.emit(r, "")  # before the write: an accept's refresh starts from here
        ok = self.host.review(list(r.item_ids),
                              [(s.tag, accepted, s.rank, round(s.score, 6)) for s in picked],
                              r.model_version)
        if not ok:
            self.refresh()  # nothing was written: show the real state again
        else:
            self._count_decisions(len(picked))
        return ok

    def _count_decisions(self, n: int) -> None:
        """Start a background retrain once ``retrain_after`` decisions have accumulated."""
        self.decisions_since_training += n
        if (self.retrain_after > 0 and self.decisions_since_training >= self.retrain_after
                and trainer_available()
                and (self.train_handle is None or not self.train_handle.running)):
            self.host.status.emit(f"{self.decisions_since_training} new decisions: updating "
                                  "your personal model in the background")
            self.start_training()

    # -- analysis (featurizing new items) ------------------------------------------------------
    def start_analysis(self) -> JobHandle:
        """Featurize every item that lacks features, so their suggestions come at once.

        Runs after each import.  One at a time: a request while one runs makes it run again
        when it ends (the running one chose its items before the newest import's were in).
        """
        if self.analyse_handle is not None and self.analyse_handle.running:
            self._analyse_again = True
            return self.analyse_handle
        handle = self.host.jobs.start("Analysing new items",
                                      lambda cancel: self.engine.featurize_missing(cancel))
        handle.finished.connect(self._analysed)
        handle.failed.connect(lambda message: self.host.notify.emit("error", message))
        handle.ended.connect(self._analysis_ended)
        self.analyse_handle = handle
        return handle

    def _analysed(self, report) -> None:
        if report is None:
            return
        if report.cancelled:
            self.host.status.emit("Analysis cancelled; the rest is analysed when suggested")
            self._analyse_again = False
        elif report.featurized:
            self.host.status.emit(f"Analysed {report.featurized} new item(s) in "
                                  f"{report.seconds:.1f} s")
        if report.failed:
            shown = "; ".join(f"{Path(p.path).name if p.path else p.item_id}: {p.reason}"
                              for p in report.failed[:3])
            self.host.notify.emit("warning", f"{len(report.failed)} item(s) could not be "
                                             f"analysed — {shown}")

    def _analysis_ended(self) -> None:
        if self._analyse_again:
            self._analyse_again = False
            self.start_analysis()

    # -- training ------------------------------------------------------------------------------
    def start_training(self) -> JobHandle | None:
        if not trainer_available():
            self.host.notify.emit("warning", NO_TRAINER)
            return None
        if self.train_handle is not None and self.train_handle.running:
            self.host.status.emit("Your model is already being trained")
            return self.train_handle
        user = self.host.user_id
        self.decisions_since_training = 0
        handle = self.host.jobs.start("Training your suggestions",
                                      lambda cancel: train_job(self.engine, user, cancel))
        handle.finished.connect(self._trained)
        handle.failed.connect(lambda message: self.host.notify.emit("error", message))
        self.train_handle = handle
        return handle

    def _trained(self, result: dict) -> None:
        kind = result.get("event")
        if kind == "cancelled":
            self.host.status.emit("Training cancelled; the previous model stays")
        elif kind in ("done", "skipped"):
            level, text = training_notice(result)
            self.host.notify.emit(level, text)
            if level == "info":
                self.refresh()
        else:
            self.host.notify.emit("error", f"Training failed: {result.get('message') or kind}")

    def shutdown(self) -> None:
        """Stop requests and close the engine's connection (after the host's jobs ended)."""
        if self._handle is not None:
            self._handle.cancel()
        self.jobs.shutdown()
        self.engine.close()
