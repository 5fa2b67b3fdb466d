"""The window's suggestion and training jobs: plain generators for :class:`JobRunner` (no Qt).

:class:`SuggestEngine` keeps one :class:`ColdStartSuggester` (ONNX sessions, vocabulary
embeddings, the personal model) alive across requests, because loading the models costs
seconds and a selection change must not.  It has its own ``Library`` connection, opened in
the first worker that needs it, and a lock: whichever pool thread runs a job uses it alone.

:func:`suggest_job` suggests for a selection: each item is featurized if needed and gets its
blended suggestions; a multi-selection averages the scores over its items (absent = 0), so a
tag fits the selection as a whole.  Tags the user rejected on an item are left out for it.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tagassist.suggest import train_events as events
from tagassist.suggest.featurize import Models, featurize_library
from tagassist.suggest.service import ColdStartSuggester
from tagassist.suggest.training import (
    TrainingUnavailable,
    killed_on_error,
    personal_job,
    start_trainer,
    train_user,
    trainer_available,
)

if TYPE_CHECKING:
    from tagassist.library import Library
    from tagassist.suggest.featurize import FeaturizeProgress, FeaturizeReport

SHOWN = 9  # one per number key
PER_ITEM = 20  # suggestions fetched per item before averaging
MAX_ITEMS = 50  # a huge selection is judged on its first items (reading all would take minutes)
MANY_ITEMS = "select one photo for its generated set"


@dataclass(frozen=True)
class Suggested:
    tag: str  # full tag path, or a new word
    score: float  # probability in [0, 1] (mean over the selection)
    reason: str
    rank: int = 0  # 1-based rank in the list as first computed (logged with decisions)


@dataclass
class SuggestResult:
    item_ids: tuple[int, ...]  # the selection it was computed for (decisions go to all)
    rows: list[Suggested]
    models: dict[str, Any]  # ColdStartSuggester.models_info
    considered: int  # items the scores were averaged over
    problems: list[str] = field(default_factory=list)  # items whose content could not be read
    generated: list[Suggested] = field(default_factory=list)  # SOG's set (one item selected)
    generated_note: str = ""  # why ``generated`` is empty

    @property
    def model_version(self) -> str:
        """What produced these suggestions, logged with each decision."""
        return ";".join(f"{k}={v}" for k, v in sorted(self.models.items())
                        if k != "unavailable" and v)


class SuggestEngine:
    """One long-lived suggester, used by one worker at a time (see module doc)."""

    def __init__(self, database: Path, models_dir: Path) -> None:
        self.database = Path(database)
        self.models_dir = Path(models_dir)
        self.lock = threading.Lock()
        self._suggester: ColdStartSuggester | None = None
        self.always_show_set = False  # a setting: else only where it earned its place

    @property
    def loaded(self) -> bool:
        return self._suggester is not None

    def suggester(self) -> ColdStartSuggester:
        """The suggester, loading models on first use (call with ``lock`` held)."""
        if self._suggester is None:
            from tagassist.library import Library

            library = Library.open(self.database)
            try:
                self._suggester = ColdStartSuggester(library, Models(self.models_dir))
            except BaseException:
                library.close()
                raise
            gc.freeze()  # the models' objects live all session: keep them out of full GCs
        return self._suggester

    def featurize_missing(self, cancel: threading.Event
                          ) -> Generator[FeaturizeProgress, None, FeaturizeReport]:
        """Featurize the whole library, taking the lock per batch so suggestions interleave."""
        job = None
        while True:
            with self.lock:
                s = self.suggester()
                job = job or featurize_library(s.library, s.models, cancel)
                try:
                    tick = next(job)
                except StopIteration as stop:
                    return stop.value
            yield tick

    def describe(self) -> tuple[str, dict[str, str]]:
        """(device, model -> version or why it is missing) for the settings dialog.

        The device is one line: where the loaded models run and, when the CPU runs instead of
        CUDA, why ("CPU — CUDA unavailable: libcublasLt.so.13 not found"); "CUDA" only for
        sessions whose first provider is CUDA.  Reads without the lock (a job may hold it for
        minutes): only plain attributes of the loaded models and the runtime's device record
        are touched.  Before the first suggestion nothing is loaded, so the device is the one
        onnxruntime would be asked for.
        """
        from tagassist.suggest.device import device_report, device_summary
        from tagassist.suggest.runtime import planned_device

        s = self._suggester
        if s is None:  # onnxruntime-gpu lists CUDA even without a GPU: only a session knows
            return f"not loaded yet ({planned_device()}); they load with the first suggestion", {}
        if s.models.image is None and s.models.text is None:
            device = "nothing (no model could be loaded)"
        else:  # every model of this process: the image, text, SOG, document and personal ones
            device = device_summary(device_report().values())
        models = {k: f"version {v}" for k, v in s.models.versions.items() if v}
        models.update({k: f"unavailable: {why}" for k, why in s.models.unavailable.items()})
        return device, models

    def close(self) -> None:
        with self.lock:
            if self._suggester is not None:
                self._suggester.library.close()
                self._suggester = None


def _rejected(library: Library, user_id: int, item_ids: Sequence[int]) -> dict[int, set[str]]:
    """Tag paths the user rejected (and did not undo) per item."""
    wanted = set(item_ids)
    paths = {t.id: t.path for t in library.tags.all()}
    out: dict[int, set[str]] = {}
    for d in library.assignments.decisions(user_id):
        if not d.accepted and d.item_id in wanted:
            out.setdefault(d.item_id, set()).add(paths.get(d.tag_id, ""))
    return out


def average(per_item: Sequence[Sequence[Suggested]], shown: int = SHOWN) -> list[Suggested]:
    """Mean score per tag over the items (0 where absent), best first; the reason of the
    item that scored it highest, with how many items it was suggested for."""
    n = len(per_item)
    total: dict[str, float] = {}
    best: dict[str, Suggested] = {}
    count: dict[str, int] = {}
    for rows in per_item:
        for s in rows:
            total[s.tag] = total.get(s.tag, 0.0) + s.score
            count[s.tag] = count.get(s.tag, 0) + 1
            if s.tag not in best or s.score > best[s.tag].score:
                best[s.tag] = s
    ranked = sorted(total, key=lambda t: (-total[t], t))[:shown]
    return [Suggested(t, total[t] / n, best[t].reason if n == 1
                      else f"{best[t].reason} · {count[t]} of {n} items", rank)
            for rank, t in enumerate(ranked, 1)]


def suggest_job(engine: SuggestEngine, item_ids: Sequence[int], user_id: int,
                cancel: threading.Event) -> Generator[tuple[int, int, str], None,
                                                      SuggestResult | None]:
    """Suggestions for a selection; ``None`` when cancelled (a newer selection won)."""
    ids = list(item_ids)[:MAX_ITEMS]
    if cancel.is_set():
        return None
    with engine.lock:
        if not engine.loaded:
            yield 0, 0, "Loading the models…"
        s = engine.suggester()
        items = s.library.items.get_many(ids)
        report = yield from s.featurize(items, cancel)
        if cancel.is_set():
            return None
        rejected = _rejected(s.library, user_id, ids)
        per_item = []
        for item in items:
            no = rejected.get(item.id, set())
            per_item.append([Suggested(x.tag, x.score, x.reason)
                             for x in s.suggest(item, user_id, top=PER_ITEM, exclude=sorted(no))])
        problems = [f"{Path(p.path).name if p.path else p.item_id}: {p.reason}"
                    for p in report.failed]
        generated, note = [], MANY_ITEMS
        s.show_generated_set = True if engine.always_show_set else None
        if len(items) == 1:
            made, note = s.generate_set(items[0], user_id,
                                        exclude=sorted(rejected.get(items[0].id, set())))
            generated = [Suggested(x.tag, x.score, x.reason, n) for n, x in enumerate(made, 1)]
        return SuggestResult(tuple(item_ids), average(per_item) if per_item else [],
                             s.models_info(user_id), len(items), problems, generated, note)


def _train_tick(event: dict[str, Any] | events.TrainEvent) -> tuple[int, int, str]:
    """A trainer event (typed, or a dict a job yielded: the child's or an in-process
    stage's) as a status-bar tick: epochs when it counts them."""
    e = event if isinstance(event, events.TrainEvent) else events.from_dict(event)
    stage = getattr(e, "stage", None) or ""
    text = {"data": "reading your tags", "select": "choosing a model",
            "refit": "final fit", "update": "updating your model",
            "blend": "learning how you tag", "set": "learning your tag sets"}.get(stage, e.kind)
    return int(getattr(e, "epoch", None) or 0), int(getattr(e, "epochs", None) or 0), text


def train_job(engine: SuggestEngine, user_id: int, cancel: threading.Event
              ) -> Generator[Any, None, dict[str, Any]]:
    """Featurize what is missing, then the personal job (:func:`personal_job`): the generated
    set's rows and the blend refitted on the person's photos and decisions, then the content
    model in a child process."""
    if not trainer_available():  # also checked before starting; the job must not guess
        raise TrainingUnavailable("training needs the trainer's packages (torch)")
    yield from engine.featurize_missing(cancel)
    if cancel.is_set():
        return {"event": "cancelled", "message": "training cancelled; the previous model stays"}
    from tagassist.library import Library

    library = Library.open(engine.database)  # this thread's own connection
    # the content model's child trains while the set and the blend are fitted (personal_job)
    child = start_trainer(library, user_id)
    try:
        with killed_on_error(child), engine.lock:  # the fits read through the suggester
            suggester = engine.suggester()
            job = personal_job(suggester, user_id, cancel, parts=("set", "blend"))
            blend = yield from _ticks(job)
        job = train_user(library, user_id, cancel, child=child)
        last = yield from _ticks(job)
        return {**last, "blend": blend.get("blend", {}), "set": blend.get("set", {})}
    finally:
        library.close()


def training_notice(result: dict[str, Any]) -> tuple[str, str]:
    """(level, text) of one notice for a finished personal job: every stage's outcome in one
    line, "info" when any stage changed the suggestions, else "warning" with the reasons."""
    parts = []
    for stage in ("set", "blend"):
        outcome = result.get(stage) or {}
        if outcome.get("message"):
            parts.append(str(outcome["message"]))
    if result.get("event") == "done":
        notes = "".join(f" — {n}" for n in result.get("notes", []))
        parts.append(f"content model {result.get('version')} trained{notes}")
    elif result.get("message"):
        parts.append(f"content model: {result['message']}")
    changed = result.get("event") == "done" or any(
        (result.get(stage) or {}).get("event") == "done" for stage in ("set", "blend"))
    if changed:
        return "info", "Your suggestions were updated: " + "; ".join(parts)
    return "warning", "Your suggestions stay as they were: " + "; ".join(parts)


def _ticks(job: Generator[dict[str, Any], None, dict[str, Any]]
           ) -> Generator[tuple[int, int, str], None, dict[str, Any]]:
    """A trainer generator's events as status-bar ticks, returning its result."""
    while True:
        try:
            event = next(job)
        except StopIteration as stop:
            return stop.value
        yield _train_tick(event)
