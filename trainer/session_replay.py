"""The ``session`` protocol (EVALUATION.md): a person's library replayed through the app's path.

``python -m trainer.session_replay --photos DIR --truth labels.csv [--top 5] [--train-every 20]
[--train set,blend,content] --json OUT [--plot OUT.png] [--dump FILE.npz]``

``labels.csv``: ``filename`` (relative to DIR), ``tags`` (``|``-separated) and optionally
``datetime`` (ISO; orders the photos, else the file's capture time, else its name).

1. A new library in a temporary folder; DIR is imported as the window imports it, except that
   keywords in the files or sidecars are *not* taken (they are the truth); then analysed
   (featurized) as the window does on opening.
2. The photos with truth tags, in capture order.  Before each one, the window's ranked list
   (``ColdStartSuggester.suggest``, rejected tags excluded) and generated set
   (``generate_set``) are asked for; of the top K shown, the tags in the truth are accepted and
   the others rejected (``library.assignments.record_decisions``, as the window records them),
   and the missing true tags are typed (``library.assignments.assign``).  The generated set is
   measured but not acted on.
3. Every N photos the personal job runs as the window's automatic retraining runs it
   (:func:`tagassist.suggest.training.personal_job`): the generated set's rows and the blend
   refitted on the person's photos and decisions, then (``--train`` with ``content``) the
   personal content model.
4. Baselines on the same sequence, from the replay's own record of earlier photos: *recent*
   (the K most recently used distinct tags), *frequent* (MP-u), *nearby* (earlier photos'
   tags weighted by 1/(1 + hours apart)), *image words* (the stored image words as tags),
   *look-alike* (tags of the 5 most similar earlier photos by the stored embedding, weighted
   by cosine) and *nearby + look-alike* (each normalised to sum 1, added).

Reported per series: acceptance@K (share of the K shown the person keeps) and recall@K, overall
and per segment of 20 photos; for TagAssist's list the share of true tags accepted rather
than typed; suggest and set latency p50/p95; training seconds; ``after_accept``: where the
person accepted some of the list and still misses tags, the list the window shows next (it
updates after the accepts, so co-occurrence with the accepted tags counts), its acceptance@K
against the tags still missing.  ``--dump`` writes every candidate's features and whether the
person kept it, for both lists (the input of ``trainer.fit_blend``; the second list's photo
number is negative).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tagassist.library import Library
from tagassist.library.names import normalize
from tagassist.media.importer import import_folder
from tagassist.paths import bundled_models_dir
from tagassist.suggest.featurize import IMAGE_MODEL, Models, featurize_library
from tagassist.suggest.item_facts import hours
from tagassist.suggest.ranker import FEATURES
from tagassist.suggest.service import ColdStartSuggester
from tagassist.suggest.signals import LOOK_ALIKES
from tagassist.suggest.training import personal_job

SEGMENT = 20
SERIES = ("tagassist", "generated_set", "recent", "frequent", "nearby", "image_words",
          "look_alike", "nearby_look_alike")
BASELINES = SERIES[2:]
USER = "replay"


@dataclass(frozen=True)
class Photo:
    filename: str
    tags: tuple[str, ...]
    when: float  # hours since the epoch (NaN: unknown)


def read_truth(path: Path) -> list[tuple[str, tuple[str, ...], str]]:
    """(filename, tags, datetime) rows of a truth CSV; a missing column is a clear error."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        missing = {"filename", "tags"} - set(reader.fieldnames or ())
        if missing:
            raise SystemExit(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        rows = []
        for r in reader:
            tags = tuple(dict.fromkeys(t.strip() for t in (r["tags"] or "").split("|")
                                       if t.strip()))
            rows.append((r["filename"].strip(), tags, (r.get("datetime") or "").strip()))
    return rows


def key(tag: str) -> str:
    """A tag compared by its leaf name, normalised (the truth names leaves or full paths)."""
    return normalize(tag.rsplit("|", 1)[-1])


def hits(shown: Sequence[str], truth: Sequence[str]) -> int:
    wanted = {key(t) for t in truth}
    return len({key(s) for s in shown} & wanted)


def top_of(scores: dict[str, float], k: int) -> list[str]:
    return [t for t, _ in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:k]]


class Baselines:
    """The baselines' state: earlier photos' truth, times and embeddings, in replay order."""

    def __init__(self) -> None:
        self.tags: list[tuple[str, ...]] = []
        self.when: list[float] = []
        self.vectors: list[np.ndarray | None] = []

    def add(self, tags: tuple[str, ...], when: float, vector: np.ndarray | None) -> None:
        self.tags.append(tags)
        self.when.append(when)
        self.vectors.append(vector)

    def recent(self, k: int) -> list[str]:
        out: list[str] = []
        for tags in reversed(self.tags):
            out += [t for t in tags if t not in out]
            if len(out) >= k:
                break
        return out[:k]

    def frequent(self, k: int) -> list[str]:
        counts = Counter(t for tags in self.tags for t in tags)
        last = {t: i for i, tags in enumerate(self.tags) for t in tags}
        return sorted(counts, key=lambda t: (-counts[t], -last[t], t))[:k]

    def _spread(self, weights: Sequence[float]) -> dict[str, float]:
        total = sum(weights)
        out: dict[str, float] = {}
        if total <= 0:
            return out
        for w, tags in zip(weights, self.tags, strict=True):
            for t in tags:
                out[t] = out.get(t, 0.0) + w / total
        return out

    def nearby(self, when: float) -> dict[str, float]:
        return self._spread([0.0 if math.isnan(w) or math.isnan(when) else
                             1.0 / (1.0 + abs(w - when)) for w in self.when])

    def look_alike(self, vector: np.ndarray | None) -> dict[str, float]:
        if vector is None:
            return {}
        cos = [float(v @ vector) if v is not None else -1.0 for v in self.vectors]
        best = set(np.argsort(-np.array(cos), kind="stable")[:LOOK_ALIKES].tolist())
        return self._spread([max(c, 0.0) if i in best else 0.0 for i, c in enumerate(cos)])

    def shown(self, k: int, when: float, vector: np.ndarray | None,
              words: list[str]) -> dict[str, list[str]]:
        near, look = self.nearby(when), self.look_alike(vector)
        both = {t: near.get(t, 0.0) + look.get(t, 0.0) for t in set(near) | set(look)}
        return {"recent": self.recent(k), "frequent": self.frequent(k),
                "nearby": top_of(near, k), "image_words": words[:k],
                "look_alike": top_of(look, k), "nearby_look_alike": top_of(both, k)}


def _unit(v: Any) -> np.ndarray | None:
    if v is None:
        return None
    v = np.asarray(v, dtype=np.float32)
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else None


def _pct(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 2) if values else float("nan")


def summarize(per_photo: list[dict[str, Any]], k: int) -> dict[str, Any]:
    """Overall and per-segment acceptance@K / recall@K of every series."""
    out: dict[str, Any] = {}
    for name in SERIES:
        acc = [p["hits"][name] / k for p in per_photo]
        rec = [p["hits"][name] / len(p["truth"]) for p in per_photo]
        segs = [(i, min(i + SEGMENT, len(acc))) for i in range(0, len(acc), SEGMENT)]
        out[name] = {
            f"acceptance@{k}": round(float(np.mean(acc)), 4) if acc else 0.0,
            f"recall@{k}": round(float(np.mean(rec)), 4) if rec else 0.0,
            "segments": [{"photos": f"{a + 1}-{b}",
                          f"acceptance@{k}": round(float(np.mean(acc[a:b])), 4),
                          f"recall@{k}": round(float(np.mean(rec[a:b])), 4)}
                         for a, b in segs],
        }
    return out


def replay(photos_dir: Path, truth: Path, *, top: int = 5, train_every: int = 20,
           train: Sequence[str] = ("blend", "content"), models_dir: Path | None = None,
           workdir: Path | None = None, dump: Path | None = None,
           log: Any = sys.stderr) -> dict[str, Any]:
    photos_dir = photos_dir.resolve()
    own_tmp = None
    if workdir is None:
        own_tmp = tempfile.TemporaryDirectory(prefix="session-replay-")
        workdir = Path(own_tmp.name)
    library = Library.open(workdir / "library" / "tagassist.db")
    try:
        return _replay(library, workdir, photos_dir, truth, top, train_every, tuple(train),
                       models_dir or bundled_models_dir(), dump, log)
    finally:
        library.close()
        if own_tmp is not None:
            own_tmp.cleanup()


def _replay(library: Library, workdir: Path, photos_dir: Path, truth: Path, k: int,
            train_every: int, train: tuple[str, ...], models_dir: Path, dump: Path | None,
            log: Any) -> dict[str, Any]:
    user = library.users.get_or_create(USER).id
    started = time.perf_counter()
    job = import_folder(library, photos_dir, user_id=user, thumbnails_dir=workdir / "thumbs",
                        take_keywords=False)
    report = _run(job)
    models = Models(models_dir)
    suggester = ColdStartSuggester(library, models)
    analysed = _run(featurize_library(library, models))
    setup_s = time.perf_counter() - started
    print(f"imported {report.imported} files ({len(report.problems)} problems), analysed "
          f"{analysed.done if hasattr(analysed, 'done') else ''} in {setup_s:.0f} s", file=log)

    sequence, unknown = [], []
    for filename, tags, when in read_truth(truth):
        item = library.items.by_path(str((photos_dir / filename).resolve()))
        if item is None:
            unknown.append(filename)
            continue
        if tags:
            h = hours(when) if when else hours(item.capture_time)
            sequence.append((item, Photo(filename, tags, h)))
    sequence.sort(key=lambda p: (math.isnan(p[1].when), p[1].when, p[1].filename))
    image_version = (str(models.image.model.metadata["version"]) if models.image else "")

    base = Baselines()
    per_photo: list[dict[str, Any]] = []
    latency: dict[str, list[float]] = {"suggest": [], "set": []}
    trainings: list[dict[str, Any]] = []
    dumped: list[tuple[np.ndarray, np.ndarray, int]] = []
    after_accept: list[tuple[int, int]] = []  # (hits, possible) of the list after accepting
    accepted_total = truth_total = 0
    for n, (item, photo) in enumerate(sequence, 1):
        t0 = time.perf_counter()
        if dump is not None:
            found = suggester.candidates(item, user)
            y = np.array([hits([t], photo.tags) > 0 for t in found.tags], dtype=np.int8)
            dumped.append((found.x.astype(np.float32), y, n))
        ranked = suggester.suggest(item, user, top=k)
        t1 = time.perf_counter()
        note = suggester.set_verdict(user)  # would the window show it?
        made, _ = suggester.generate_set(item, user, k=k, measure=True)
        t2 = time.perf_counter()
        latency["suggest"].append((t1 - t0) * 1000)
        latency["set"].append((t2 - t1) * 1000)
        shown = [s.tag for s in ranked[:k]]
        stored = library.features.get([item.id], IMAGE_MODEL, image_version).get(item.id)
        vector = _unit(stored.vector) if stored is not None else None
        words = [w for w, _ in stored.words] if stored is not None else []
        lists = base.shown(k, photo.when, vector, words)
        lists["tagassist"], lists["generated_set"] = shown, [s.tag for s in made]
        per_photo.append({"file": photo.filename, "truth": list(photo.tags),
                          "shown": shown, "scores": [round(x.score, 4) for x in ranked[:k]],
                          "set_note": note,
                          "hits": {name: hits(lists[name], photo.tags) for name in SERIES}})
        decisions = [(s.tag, hits([s.tag], photo.tags) > 0, rank, s.score, "session-replay")
                     for rank, s in enumerate(ranked[:k], 1)]
        if decisions:
            library.assignments.record_decisions(user, item.id, decisions)
        done = {key(t) for t, ok, *_ in decisions if ok}
        typed = [t for t in photo.tags if key(t) not in done]
        if done and typed:  # the list as it updates after the accepts (co-occurrence)
            rejected = [t for t, ok, *_ in decisions if not ok]
            if dump is not None:
                found = suggester.candidates(item, user, exclude=rejected)
                y = np.array([hits([t], typed) > 0 for t in found.tags], dtype=np.int8)
                dumped.append((found.x.astype(np.float32), y, -n))
            again = [s.tag for s in suggester.suggest(item, user, top=k, exclude=rejected)]
            after_accept.append((hits(again, tuple(typed)), min(len(typed), k)))
        if typed:
            library.assignments.assign(user, [item.id], typed, source="manual")
        accepted_total += len(photo.tags) - len(typed)
        truth_total += len(photo.tags)
        base.add(photo.tags, photo.when, vector)
        if train and train_every > 0 and n % train_every == 0 and n < len(sequence):
            trainings.append(_train(suggester, user, train, log))
        if n % 10 == 0:
            print(f"{n}/{len(sequence)} photos", file=log)

    if dump is not None and dumped:
        np.savez_compressed(dump, features=np.array(FEATURES),
                            x=np.concatenate([d[0] for d in dumped]),
                            y=np.concatenate([d[1] for d in dumped]),
                            photo=np.concatenate([np.full(len(d[1]), d[2]) for d in dumped]))
    summary = summarize(per_photo, k)
    best = max(BASELINES, key=lambda b: summary[b][f"acceptance@{k}"])
    ours = summary["tagassist"][f"acceptance@{k}"]
    return {
        "photos_dir": str(photos_dir), "truth": str(truth), "top": k,
        "train_every": train_every, "train": list(train),
        "photos": len(sequence), "not_in_library": unknown,
        "import_problems": [f"{p.path}: {p.reason}" for p in report.problems],
        "setup_s": round(setup_s, 1),
        "results": summary,
        "best_baseline": best,
        "ratio_to_best_baseline": round(ours / summary[best][f"acceptance@{k}"], 3)
        if summary[best][f"acceptance@{k}"] > 0 else None,
        "accepted_share": round(accepted_total / truth_total, 4) if truth_total else 0.0,
        "set_shown_photos": sum(1 for p in per_photo if not p["set_note"]),
        "after_accept": {"photos": len(after_accept),
                         f"acceptance@{k}": round(float(np.mean([h / k for h, _ in after_accept])),
                                                  4) if after_accept else None,
                         "ceiling": round(float(np.mean([c / k for _, c in after_accept])), 4)
                         if after_accept else None},
        "ceiling": round(float(np.mean([min(len(p["truth"]), k) / k for p in per_photo])), 4)
        if per_photo else 0.0,
        "latency_ms": {name: {"p50": _pct(v, 50), "p95": _pct(v, 95)}
                       for name, v in latency.items()},
        "trainings": trainings,
        "per_photo": per_photo,
    }


def _run(job: Any) -> Any:
    while True:
        try:
            next(job)
        except StopIteration as stop:
            return stop.value


def _train(suggester: ColdStartSuggester, user: int, train: tuple[str, ...], log: Any
           ) -> dict[str, Any]:
    t0 = time.perf_counter()
    result = _run(personal_job(suggester, user, threading.Event(), parts=train))
    seconds = round(time.perf_counter() - t0, 1)
    print(f"personal job: {result.get('summary', result.get('event'))} ({seconds} s)", file=log)
    # the job's wall time; the content model's own 'seconds' (its child's) kept apart
    return {**result, "seconds": seconds, "content_seconds": result.get("seconds")}


def plot(result: dict[str, Any], path: Path) -> None:
    from trainer.report import line_plot

    k = result["top"]
    series = {name: [(n, s[f"acceptance@{k}"])
                     for n, s in enumerate(result["results"][name]["segments"], 1)]
              for name in SERIES}
    line_plot(series, path, f"acceptance@{k} per segment of {SEGMENT} photos",
              "segment", f"acceptance@{k}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m trainer.session_replay",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--photos", type=Path, required=True, help="the folder of photos")
    p.add_argument("--truth", type=Path, required=True, help="labels.csv (filename, tags, …)")
    p.add_argument("--top", type=int, default=5, help="K shown (default 5)")
    p.add_argument("--train-every", type=int, default=20,
                   help="run the personal job every N photos (0: never)")
    p.add_argument("--train", default="set,blend,content",
                   help="what the personal job trains: set, blend, content (default all three, "
                        "as the window)")
    p.add_argument("--models", type=Path, help="models folder (default: the bundled one)")
    p.add_argument("--json", type=Path, required=True)
    p.add_argument("--plot", type=Path)
    p.add_argument("--dump", type=Path, help="candidate features and labels (.npz)")
    args = p.parse_args(argv)
    if not args.photos.is_dir():
        p.error(f"{args.photos}: not a folder")
    if not args.truth.is_file():
        p.error(f"{args.truth}: no such file")
    train = tuple(t for t in args.train.split(",") if t)
    result = replay(args.photos, args.truth, top=args.top, train_every=args.train_every,
                    train=train, models_dir=args.models, dump=args.dump)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    if args.plot:
        plot(result, args.plot)
    k = result["top"]
    for name in SERIES:
        r = result["results"][name]
        print(f"{name:18s} acceptance@{k} {r[f'acceptance@{k}']:.3f}  "
              f"recall@{k} {r[f'recall@{k}']:.3f}")
    print(f"ratio to the best baseline ({result['best_baseline']}): "
          f"{result['ratio_to_best_baseline']}; accepted share {result['accepted_share']}; "
          f"suggest p50 {result['latency_ms']['suggest']['p50']} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
