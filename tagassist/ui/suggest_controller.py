"""Suggestions and training for the window: background requests, accept/reject, train.

Owned by :class:`~tagassist.ui.controller.LibraryController` (``controller.suggest``).  A
request runs :func:`suggest_job` on a private one-thread pool (never in the status bar: it is
per selection and quick); the newest request wins — older ones are cancelled and their late
results dropped.  Decisions are written through the library controller, so they are undoable
like typed tags.

The list holds still while one selection is shown: a decided row keeps its place and its
number, marked accepted or rejected (:class:`Decided`), so pressing a number twice never
decides two tags.  The refresh that follows a decision (re-ranked with the accepted tag
present) only updates the open rows' scores and appends new suggestions below, under the next
free numbers; a new selection (or an undo or redo) starts a fresh list.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from tagassist.app.suggest_jobs import (
    SHOWN,
    Suggested,
    SuggestEngine,
    SuggestResult,
    suggest_job,
    train_job,
    training_notice,
)
from tagassist.suggest.personal_blend import MIN_ITEMS
from tagassist.suggest.training import trainer_available
from tagassist.ui.workers import JobHandle, JobRunner

if TYPE_CHECKING:
    from tagassist.suggest.featurize import FeaturizeReport
    from tagassist.ui.controller import LibraryController

ACCEPT_ALL_THRESHOLD = 0.5  # "accept all": the tags more likely kept than not
# Tagged items needed before training can learn anything: the personal blend's minimum, which
# is also the trainer's (trainer/personal/job.py MIN_PHOTOS; the app does not import trainer).
MIN_TAGGED = MIN_ITEMS
NO_TRAINER = ("Training needs the trainer's packages (PyTorch), which are not installed: "
              "pip install torch==2.13.0 -e '.[train]'")


@dataclass(frozen=True)
class Decided(Suggested):
    """A shown suggestion the person accepted (or rejected): it keeps its row and number."""

    accepted: bool = True
    at: int = 0  # the newest request when decided: older results do not know of it


def training_shortfall(tagged: int) -> int:
    """How many more tagged items training needs (0: enough)."""
    return max(0, MIN_TAGGED - tagged)


def hold(shown: list[Suggested], fresh: list[Suggested], seq: int,
         limit: int = SHOWN) -> list[Suggested]:
    """The rows to show when ``fresh`` suggestions (of request ``seq``) arrive for the
    selection already shown.

    Every shown row keeps its place (and so its number): an open one takes its fresh score
    and reason; a decided one stays decided unless a request started after the decision
    suggests its tag again (the tag was taken off again).  Fresh tags not shown yet are
    appended below while number keys are left.
    """
    by_tag = {s.tag: s for s in fresh}
    out: list[Suggested] = []
    for s in shown:
        new = by_tag.pop(s.tag, None)
        if new is None or (isinstance(s, Decided) and seq <= s.at):
            out.append(s)
        else:
            out.append(replace(new, rank=s.rank))
    for s in fresh:
        if len(out) >= limit:
            break
        if s.tag in by_tag:
            out.append(replace(s, rank=len(out) + 1))
    return out


class SuggestController(QObject):
    changed = Signal(object, str)  # SuggestResult or None, and a message for the empty panel
    busy = Signal(str)             # what a running request is doing ("" when idle)

    def __init__(self, host: LibraryController, models_dir: Path) -> None:
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
        self._fresh_seq = -1  # the request whose result replaces the list (after an undo)
        self._handle: JobHandle | None = None
        host.tags_changed.connect(self.refresh)
        # another person tagging: their own list, fresh (the marks shown were someone else's)
        host.user_changed.connect(lambda _name: self.request(self._ids))

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
        shown = self.result
        if (shown is not None and shown.item_ids == result.item_ids
                and seq != self._fresh_seq):  # the list holds still
            result.rows = self._mark_present(hold(shown.rows, result.rows, seq),
                                             {s.tag for s in result.rows}, seq)
        self.result = result
        self.busy.emit("")
        self.changed.emit(result, "")

    def _mark_present(self, rows: list[Suggested], fresh: set[str], seq: int
                      ) -> list[Suggested]:
        """An open row the fresh result left out because its tag is now on every selected
        item (typed in the tag field) is marked accepted in place, as the tag field's chips
        show it: its number key must not offer the tag again."""
        gone = [s.tag for s in rows if not isinstance(s, Decided) and s.tag not in fresh]
        if not gone:
            return rows
        ids = list(self._ids)
        on_all = {path for path, (_name, n) in self.host.tags_of(ids).items() if n == len(ids)}
        return [Decided(s.tag, s.score, s.reason, s.rank, True, seq)
                if s.tag in on_all and not isinstance(s, Decided) else s for s in rows]

    def _failed(self, seq: int, message: str) -> None:
        self.host.notify.emit("error", message)  # even a stale failure is a real one
        if seq == self._seq:
            self._handle = None
            self.busy.emit("")
            self.changed.emit(None, "No suggestions: computing them failed (see the message "
                                    "above).")

    def start_over(self) -> None:
        """After an undo or redo has landed: the refresh it started shows a fresh list
        (decisions were taken back or made again, so the marks shown may no longer be true).
        The library controller calls it once the step is written."""
        if self._handle is not None:
            self._fresh_seq = self._seq

    # -- decisions -----------------------------------------------------------------------------
    def accept(self, index: int) -> bool:
        return self._review([index], accepted=True)

    def reject(self, index: int) -> bool:
        return self._review([index], accepted=False)

    def open_rows(self) -> list[int]:
        """Indices of the shown rows not decided yet."""
        rows = self.result.rows if self.result else []
        return [n for n, s in enumerate(rows) if not isinstance(s, Decided)]

    def accept_likely(self) -> bool:
        """Accept every open suggestion at ``ACCEPT_ALL_THRESHOLD`` or more."""
        rows = self.result.rows if self.result else []
        picked = [n for n in self.open_rows() if rows[n].score >= ACCEPT_ALL_THRESHOLD]
        if self.open_rows() and not picked:
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
        chosen = {p.tag for p in picked}
        r.rows = [Decided(s.tag, s.score, s.reason, s.rank, True, self._seq)
                  if s.tag in chosen and not isinstance(s, Decided) else s for s in r.rows]
        self.changed.emit(r, "")

        def landed(ok: bool) -> None:
            if ok:
                self._count_decisions(len(picked))
            else:  # nothing was written: list afresh
                self.refresh()

        return self.host.review(list(r.item_ids),
                                [(s.tag, True, s.rank, round(s.score, 6)) for s in picked],
                                r.model_version, done=landed)

    def reject_rest(self) -> bool:
        return self._review(self.open_rows(), accepted=False)

    def _review(self, indices: list[int], accepted: bool) -> bool:
        """Decide the rows at ``indices``; each is marked in place (it keeps its number).
        A row decided already decides nothing again: the status bar says so."""
        r = self.result
        indices = [n for n in indices if r is not None and 0 <= n < len(r.rows)]
        if r is None or not indices:
            return False
        done = [r.rows[n] for n in indices if isinstance(r.rows[n], Decided)]
        indices = [n for n in indices if not isinstance(r.rows[n], Decided)]
        if not indices:
            s = done[0]
            self.host.status.emit(f"“{s.tag.rsplit('|', 1)[-1]}” is already "
                                  f"{'accepted' if s.accepted else 'rejected'} (Ctrl+Z undoes)")
            return False
        picked = [r.rows[n] for n in indices]
        before = list(r.rows)
        for n, s in zip(indices, picked, strict=True):
            r.rows[n] = Decided(s.tag, s.score, s.reason, s.rank, accepted, self._seq)
        self.changed.emit(r, "")  # before the write: an accept's refresh starts from here

        def landed(ok: bool) -> None:  # the write runs in the background; this when it landed
            if ok:
                self._count_decisions(len(picked))
                return
            if self.result is r:  # still shown: nothing was written, the rows are open again
                r.rows = before
                self.changed.emit(r, "")
            self.refresh()

        return self.host.review(list(r.item_ids),
                                [(s.tag, accepted, s.rank, round(s.score, 6)) for s in picked],
                                r.model_version, done=landed)

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
        handle = self.host.analysis_jobs.start(
            "Analysing new items", lambda cancel: self.engine.featurize_missing(cancel))
        handle.finished.connect(self._analysed)
        handle.failed.connect(lambda message: self.host.notify.emit("error", message))
        handle.ended.connect(self._analysis_ended)
        self.analyse_handle = handle
        return handle

    def _analysed(self, report: FeaturizeReport | None) -> None:
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
