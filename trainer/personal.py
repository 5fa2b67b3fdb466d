"""The personal content ranker job: ``python -m trainer.personal --library DIR --user NAME``.

Started by ``tagassist train`` (and the window: on demand, or after N new decisions) as a
separate process; reads the library (never writes the database) and writes one new model
version into the user's model folder.  Two modes:

**Update** (there is a previous version, its trainer weights load, and the library has fewer
than ``FULL_RETRAIN_GROWTH`` times the photos of the last full training): the previous model is
the warm start; new tags and users get fresh rows (:func:`trainer.models.base.remap_rows`);
:func:`trainer.personalize.guarded_update` fits only the user's rows — DAE-PTR's p_u,
CNN-PerMLP's V_j κ_u — and the new tags' rows, on the user's photos (positives: accepted and
typed tags) and rejected suggestions (hard negatives), holding out the photos tagged since the
previous version (which that version never saw); it is published only when acceptance@5 on
those photos is not worse, and NaN keeps the previous model.  Nothing new since the previous
version: nothing to do.

**Full** (first training, ``--full``, a damaged previous model, or a grown library):
1. posts = every (user, photo) of the library with the photo's stored image embedding
   (``image-lite0`` features); all users' posts are used, the user index personalizes;
2. validation = the user's most recent tagged photos (``VALIDATION_SHARE``, by the time of
   their first tag), scored *from content only* — as a new photo is;
3. candidates: DAE-PTR with the content vector in place of q_i, and CNN-PerMLP; each one's
   epochs chosen on validation, the better one (F1@5) kept and compared with the user's most
   frequent tags (MP-u) on the same photos — a model that does not beat MP-u is not published;
4. the kept model is refitted on all posts.
Both end alike: Platt calibration (p = σ(a·score + b)) on the held-out photos' scores, so the
app shows probabilities; ONNX export (:func:`trainer.export_personal.export_personal`,
parity-checked) plus the trainer weights (``weights/``, the next update's warm start) into a
staging folder, renamed to the next version (:class:`tagassist.suggest.model_store.ModelStore`).

stdout carries one JSON object per line (``{"event": "progress"|"done"|"skipped"|"error"|
"cancelled", ...}``) for the caller's progress bar; the last line says what happened.  Exit
codes: 0 published, 3 nothing published (too little data / not better), 2 error, 130 cancelled
(SIGTERM or SIGINT: the staging folder is removed and the previous model stays).
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from tagassist.library.repository import Library
from tagassist.suggest.model_store import PERSONAL_CONTENT, ModelStore, active_version
from trainer.data import TagData
from trainer.metrics import aggregate, truth_ranks
from trainer.models import REGISTRY, create
from trainer.models.base import Batch, ModelFitError, TagModel, remap_rows
from trainer.personalize import guarded_update

FEATURIZER = "image-lite0"
VALIDATION_SHARE = 0.2
MAX_VALIDATION = 100
MIN_PHOTOS = 10  # the user's tagged photos with features needed to train at all
EVAL_EVERY = 10
CANDIDATES = ("dae_ptr", "cnn_permlp")
WEIGHTS = "weights"  # the trainer's own weights beside the ONNX file (warm start)
# the shared weights are trained again once the library has this many times the photos of the
# last full training; below it an update fits only the user's rows
FULL_RETRAIN_GROWTH = 2.0
# small data: K 64 is plenty for a few hundred photos (and keeps the ONNX file small)
# an update fits the user's rows and new tags' rows only: the full training already fitted the
# shared weights on this library, i.e. on the user's own photos (a judgement, not measured)
CONFIGS: dict[str, dict[str, Any]] = {"dae_ptr": {"k": 64, "c": 0.5, "epochs": 100,
                                                  "batch_size": 64},
                                      "cnn_permlp": {}}

Progress = Callable[[dict[str, Any]], None]


class Cancelled(Exception):
    """SIGTERM/SIGINT during training."""


class NotPublished(Exception):
    """Nothing to publish (too little data, or no better than the user's frequent tags)."""


@dataclass
class LibraryPosts:
    """The library's photo posts as a :class:`TagData`, with one feature row per item."""

    data: TagData
    features: np.ndarray  # float32 [n_items, F]
    item_ids: list[int]  # library item id of each item index
    user_ids: list[int]  # library user id of each user index
    feature_version: str


def _unix(created: str) -> float:
    try:
        return datetime.fromisoformat(created.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def load_posts(library: Library, featurizer: str = FEATURIZER) -> LibraryPosts:
    """All users' tags on items that have ``featurizer`` features (other items are skipped)."""
    records: list[tuple[int, int, str, float]] = []
    for user in library.users():
        records += [(user.id, h.item_id, h.tag, _unix(h.created))
                    for h in library.tag_history(user.id)]
    found = library.features(sorted({r[1] for r in records}), featurizer)
    records = [r for r in records if r[1] in found]
    if not records:
        raise NotPublished(f"no tagged item has {featurizer} features yet "
                           "(run 'tagassist featurize' first)")
    versions = {f.version for f in found.values()}
    version = max(versions)
    records = [r for r in records if found[r[1]].version == version]
    first: dict[tuple[int, int, str], float] = {}
    for u, i, t, ts in records:
        first[(u, i, t)] = min(ts, first.get((u, i, t), ts))
    users = sorted({k[0] for k in first})
    items = sorted({k[1] for k in first})
    tags = sorted({k[2] for k in first})
    ui, ii, ti = ({v: n for n, v in enumerate(x)} for x in (users, items, tags))
    keys = list(first)
    data = TagData(np.array([ui[k[0]] for k in keys], np.int64),
                   np.array([ii[k[1]] for k in keys], np.int64),
                   np.array([ti[k[2]] for k in keys], np.int64),
                   np.array([first[k] for k in keys], np.float64),
                   [str(u) for u in users], [str(i) for i in items], tags, name="library")
    feats = np.stack([np.asarray(found[i].vector, np.float32) for i in items])
    return LibraryPosts(data, feats, items, users, version)


def recent_split(posts: LibraryPosts, user: int, share: float = VALIDATION_SHARE,
                 ) -> tuple[TagData, np.ndarray]:
    """Training table without the user's most recent photos, and those photos' item indices."""
    d = posts.data
    mine = d.user == user
    first_time: dict[int, float] = {}
    for i, t in zip(d.item[mine].tolist(), d.time[mine].tolist(), strict=True):
        first_time[i] = min(t, first_time.get(i, t))
    order = sorted(first_time, key=lambda i: (first_time[i], i))
    n_val = min(MAX_VALIDATION, max(1, round(share * len(order))))
    val_items = np.array(order[-n_val:], np.int64)
    held = mine & np.isin(d.item, val_items)
    return d.subset(~held), val_items


def content_scores(model: TagModel, user: int, items: np.ndarray) -> np.ndarray:
    """Scores of every tag for new photos (no input tags), [len(items), n_tags]."""
    batch = Batch(np.full(items.size, user, np.int64), items, np.zeros(items.size),
                  [np.empty(0, np.int64)] * items.size)
    return np.asarray(model.score(batch), np.float64)


def truth_of(data: TagData, user: int, items: np.ndarray) -> list[np.ndarray]:
    mine = data.user == user
    return [np.unique(data.tag[mine & (data.item == i)]) for i in items.tolist()]


def measure(scores: np.ndarray, truth: list[np.ndarray], seed: int = 0) -> dict[str, float]:
    tiebreak = np.random.default_rng(seed).permutation(scores.shape[1])
    ranks = truth_ranks(scores, truth, [np.empty(0, np.int64)] * len(truth), tiebreak)
    m = aggregate(ranks, [t.size for t in truth], (1, 3, 5, 10))
    return {k: round(m[k], 4) for k in ("p@5", "r@5", "f1@5", "hit@1", "hit@3")}


def platt(scores: np.ndarray, truth: list[np.ndarray], iters: int = 50) -> tuple[float, float]:
    """(a, b) of p = σ(a·s + b) by Newton's method on the validation (score, is-tag) pairs,
    with Platt's (1999) target smoothing against over-confidence on few positives."""
    y = np.zeros_like(scores)
    for r, t in enumerate(truth):
        y[r, t] = 1.0
    s, y = scores.ravel(), y.ravel()
    n_pos, n_neg = y.sum(), y.size - y.sum()
    target = np.where(y > 0, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))
    a, b = 1.0, 0.0
    for _ in range(iters):
        p = 1.0 / (1.0 + np.exp(-np.clip(a * s + b, -50, 50)))
        g = np.array([((p - target) * s).sum(), (p - target).sum()])
        w = p * (1 - p) + 1e-12
        h = np.array([[(w * s * s).sum(), (w * s).sum()], [(w * s).sum(), w.sum()]])
        step = np.linalg.solve(h + 1e-9 * np.eye(2), g)
        a, b = a - step[0], b - step[1]
        if np.abs(step).max() < 1e-7:
            break
    return float(a), float(b)


def popularity_scores(train: TagData, user: int, n_rows: int) -> np.ndarray:
    counts = np.bincount(train.tag[train.user == user], minlength=train.n_tags).astype(float)
    return np.tile(counts, (n_rows, 1))


def _fit_select(name: str, train: TagData, posts: LibraryPosts, user: int, val: np.ndarray,
                truth: list[np.ndarray], seed: int, progress: Progress,
                check: Callable[[], None]) -> dict[str, Any]:
    """Fit ``name`` on ``train``, scoring validation every EVAL_EVERY epochs; best epoch."""
    model = create(name, item_features=posts.features, **CONFIGS[name])  # type: ignore[arg-type]
    cap = int(model.config["epochs"])
    curve: list[tuple[int, float, dict[str, float], np.ndarray]] = []

    def callback(ep: int, m: TagModel) -> None:
        check()
        progress({"event": "progress", "stage": "select", "model": name, "epoch": ep,
                  "epochs": cap})
        if ep % EVAL_EVERY == 0 or ep == cap:
            s = content_scores(m, user, val)
            met = measure(s, truth, seed)
            curve.append((ep, met["f1@5"], met, s))

    model.fit(train, seed=seed, epochs=cap, callback=callback)  # the config's cap, as is
    ep, _, met, scores = max(curve, key=lambda c: (c[1], -c[0]))
    return {"model": name, "epochs": ep, "validation": met, "scores": scores,
            "curve": [(c[0], c[1]) for c in curve]}


def train_personal(library: Library, user_id: int, *, seed: int = 0,
                   progress: Progress = lambda e: None,
                   check: Callable[[], None] = lambda: None,
                   candidates: tuple[str, ...] = CANDIDATES, full: bool = False,
                   ) -> dict[str, Any]:
    """Update (or first train), export and publish one version; returns the 'done' record.

    With a previous version whose weights load, and fewer than ``FULL_RETRAIN_GROWTH`` times
    the photos it was trained on, only the user's rows are updated (:func:`update_personal`);
    otherwise — or with ``full`` — the shared weights are trained again (:func:`full_train`).
    """
    t0 = time.perf_counter()
    posts = load_posts(library)
    if user_id not in posts.user_ids:
        raise NotPublished("you have no tagged photos with features yet")
    user = posts.user_ids.index(user_id)
    n_mine = np.unique(posts.data.item[posts.data.user == user]).size
    if n_mine < MIN_PHOTOS:
        raise NotPublished(f"{n_mine} tagged photos with features; at least {MIN_PHOTOS} "
                           "are needed for a personal model")
    notes: list[str] = []  # what the user should hear about (a damaged previous model)

    def noting(event: dict[str, Any]) -> None:
        if event.get("message"):
            notes.append(event["message"])
        progress(event)

    previous = None if full else load_previous(library, user_id, noting)
    photos = int(np.unique(posts.data.item).size)
    if previous is not None and photos >= FULL_RETRAIN_GROWTH * previous[1]["trained_photos"]:
        noting({"event": "progress", "stage": "data", "message":
                  f"{photos} photos against {previous[1]['trained_photos']} at the last full "
                  "training: training everything again"})
        previous = None
    if previous is None:
        final, record = full_train(posts, user, seed, progress, check, candidates)
        trained_photos = photos
    else:
        final, record = update_personal(library, posts, user, previous, seed, progress, check)
        trained_photos = int(previous[1]["trained_photos"])
    record = publish(library, final, posts, user_id, record, trained_photos, check)
    record["seconds"] = round(time.perf_counter() - t0, 1)
    record["notes"] = notes
    return record


def full_train(posts: LibraryPosts, user: int, seed: int, progress: Progress,
               check: Callable[[], None], candidates: tuple[str, ...],
               ) -> tuple[TagModel, dict[str, Any]]:
    """Every weight from scratch: select a model on the user's recent photos, refit on all."""
    train, val = recent_split(posts, user)
    truth = truth_of(posts.data, user, val)
    progress({"event": "progress", "stage": "data", "posts": int(len(train)),
              "photos": int(np.unique(posts.data.item[posts.data.user == user]).size),
              "validation_photos": int(val.size), "tags": posts.data.n_tags})
    baseline = measure(popularity_scores(train, user, val.size), truth, seed)
    tried, failed = [], {}
    for name in candidates:  # one model that cannot fit these photos leaves the others
        try:
            tried.append(_fit_select(name, train, posts, user, val, truth, seed, progress,
                                     check))
        except ModelFitError as e:
            failed[name] = str(e)
    if not tried:
        raise NotPublished("no model could learn from these photos: "
                           + "; ".join(f"{n}: {why}" for n, why in failed.items()))
    best = max(tried, key=lambda r: r["validation"]["f1@5"])
    if best["validation"]["f1@5"] < baseline["f1@5"]:
        raise NotPublished(f"best model {best['model']} (F1@5 {best['validation']['f1@5']}) "
                           f"is not better than your most frequent tags ({baseline['f1@5']})")
    a, b = platt(best["scores"], truth)
    progress({"event": "progress", "stage": "refit", "model": best["model"],
              "epochs": best["epochs"]})
    final = create(best["model"], item_features=posts.features,  # type: ignore[arg-type]
                   **dict(CONFIGS[best["model"]], epochs=best["epochs"]))

    def refit_tick(ep: int, m: TagModel) -> None:
        check()
        progress({"event": "progress", "stage": "refit", "model": best["model"], "epoch": ep,
                  "epochs": best["epochs"]})

    final.fit(posts.data, seed=seed, callback=refit_tick)
    check()
    metrics = {"mode": "full", "validation": best["validation"], "baseline_mp_u": baseline,
               "validation_photos": int(val.size),
               "candidates": {r["model"]: r["validation"] for r in tried},
               "failed": failed}
    return final, {"model": best["model"], "metrics": metrics, "calibration": {"a": a, "b": b}}


def load_previous(library: Library, user_id: int, progress: Progress,
                  ) -> tuple[TagModel, dict[str, Any]] | None:
    """The active version's trainer weights and metadata; None (and a message) when there is
    none or it cannot be read — a damaged previous model means a full training."""
    record = active_version(library, PERSONAL_CONTENT, user_id)
    if record is None:
        return None
    folder = Path(record.path)
    try:
        meta = json.loads((folder / "metadata.json").read_text())
        model = REGISTRY[meta["model"]].load(folder / WEIGHTS)
        meta["trained_photos"] = int(meta["trained_photos"])
        meta["trained_until"] = float(meta["trained_until"])
        return model, meta
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile, RuntimeError) as e:
        progress({"event": "progress", "stage": "data", "message":
                  f"your previous model ({record.version}) cannot be read "
                  f"({type(e).__name__}: {e}); training everything again"})
        return None


def update_personal(library: Library, posts: LibraryPosts, user: int,
                    previous: tuple[TagModel, dict[str, Any]], seed: int, progress: Progress,
                    check: Callable[[], None]) -> tuple[TagModel, dict[str, Any]]:
    """Only the user's rows (and new tags' rows): warm start from the previous version, fit
    on the user's photos and rejections, keep it only if not worse on the recent photos."""
    model, meta = previous
    d = posts.data
    old_tags = {t: n for n, t in enumerate(meta["tags"])}
    old_users = {u: n for n, u in enumerate(meta["users"])}
    tag_index = np.array([old_tags.get(t, -1) for t in d.tags], np.int64)
    remap_rows(model, tag_index, np.array([old_users.get(u, -1) for u in d.users], np.int64))
    model.item_features = posts.features  # this library's photos, in this table's order
    model.n_items = d.n_items
    holdout = new_photos(posts, user, float(meta["trained_until"]))
    if not holdout.size:
        raise NotPublished(f"nothing new since {meta.get('version') or 'your last model'}: "
                           "tag some new photos first (or train everything again with --full)")
    rejected = rejections(library, posts, user)
    mine = np.unique(d.tag[d.user == user])
    new = mine[tag_index[mine] < 0]
    progress({"event": "progress", "stage": "update", "photos": int(
        np.unique(d.item[d.user == user]).size), "rejections": len(rejected),
        "new_tags": int(new.size), "recent_photos": int(holdout.size)})
    updated, report = guarded_update(model, d, user, holdout=holdout, rejected=rejected,
                                     new_tags=new, seed=seed, check=check)
    check()
    if report.kept != "candidate":
        raise NotPublished(f"the update was not kept ({report.reason}: acceptance@5 on your "
                           f"{holdout.size} most recent photos {report.before:.2f} before, "
                           f"{report.after:.2f} after); the previous model stays")
    truth = truth_of(d, user, holdout)
    scores = content_scores(updated, user, holdout)
    a, b = platt(scores, truth)
    metrics = {"mode": "update", "validation": measure(scores, truth, seed),
               "recent_acceptance@5": report.as_dict(), "validation_photos": int(holdout.size),
               "rejections": len(rejected), "new_tags": [d.tags[t] for t in new.tolist()],
               "previous_version": meta.get("version", "")}
    return updated, {"model": updated.name, "metrics": metrics,
                     "calibration": {"a": a, "b": b}}


def new_photos(posts: LibraryPosts, user: int, trained_until: float) -> np.ndarray:
    """The user's photos first tagged after the previous version's newest tag, oldest first:
    posts that model never saw, so both it and the candidate are judged on unseen photos."""
    d = posts.data
    mine = d.user == user
    first: dict[int, float] = {}
    for i, t in zip(d.item[mine].tolist(), d.time[mine].tolist(), strict=True):
        first[i] = min(t, first.get(i, t))
    fresh = sorted((t, i) for i, t in first.items() if t > trained_until)
    return np.array([i for _, i in fresh[-MAX_VALIDATION:]], np.int64)


def rejections(library: Library, posts: LibraryPosts, user: int) -> TagData:
    """The user's rejected suggestions on photos of the table, tags of its vocabulary."""
    d = posts.data
    paths = {t.id: t.path for t in library.tags()}
    tag_of = {t: n for n, t in enumerate(d.tags)}
    item_of = {i: n for n, i in enumerate(posts.item_ids)}
    rows = [(item_of[x.item_id], tag_of[paths[x.tag_id]])
            for x in library.decisions(posts.user_ids[user])
            if not x.accepted and x.item_id in item_of and paths.get(x.tag_id) in tag_of]
    arr = np.array(rows, np.int64).reshape(-1, 2)
    return TagData(np.full(len(rows), user, np.int64), arr[:, 0], arr[:, 1],
                   np.zeros(len(rows)), d.users, d.items, d.tags, name="rejections")


def publish(library: Library, final: TagModel, posts: LibraryPosts, user_id: int,
            record: dict[str, Any], trained_photos: int, check: Callable[[], None],
            ) -> dict[str, Any]:
    """Export ONNX (parity-checked) and the trainer weights into a staging folder, then
    rename it to the next version; a failure or cancel removes the staging folder."""
    from trainer.export_personal import export_personal  # torch.onnx only when exporting

    store = ModelStore.of(library)
    staging = store.staging(PERSONAL_CONTENT, user_id)
    try:
        export_personal(final, staging, tags=posts.data.tags,
                        users=[str(u) for u in posts.user_ids],
                        extra={"name": PERSONAL_CONTENT, "version": "", "user_id": user_id,
                               "featurizer": FEATURIZER,
                               "feature_version": posts.feature_version,
                               "calibration": record["calibration"],
                               "metrics": record["metrics"],
                               "trained_photos": trained_photos,
                               # the newest tag it saw: later photos are the next check's
                               "trained_until": float(posts.data.time.max())})
        final.save(staging / WEIGHTS)  # the next update's warm start
        check()
        version, path = store.publish(staging)
    except BaseException:
        store.discard(staging)
        raise
    _set_version(path, version)
    return {"event": "done", "version": version, "path": str(path), **record}


def _set_version(path: Path, version: str) -> None:
    """Write the final version name into metadata.json (checksums cover model.onnx only)."""
    meta_path = path / "metadata.json"
    meta = json.loads(meta_path.read_text())
    meta["version"] = version
    tmp = meta_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(meta, indent=2))
    tmp.replace(meta_path)


def _emit(event: dict[str, Any]) -> None:
    print(json.dumps(event), flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m trainer.personal", description=__doc__)
    p.add_argument("--library", required=True, help="library folder or its tagassist.db")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--user", help="user name")
    who.add_argument("--user-id", type=int, help="user id in the library")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--models", default=",".join(CANDIDATES))
    p.add_argument("--full", action="store_true",
                   help="train every weight again instead of updating your rows only")
    p.add_argument("--nice", type=int, default=10,
                   help="lower this process's CPU priority by N (the app starts it in the "
                        "background; its window must keep the CPU it needs)")
    args = p.parse_args(argv)
    if args.nice > 0 and hasattr(os, "nice"):
        os.nice(args.nice)

    stop = {"flag": False}

    def on_signal(signum: int, frame: Any) -> None:
        stop["flag"] = True

    def check() -> None:
        if stop["flag"]:
            raise Cancelled

    import torch

    # small models: one thread is as fast when idle and ~27x faster when the app (or anything
    # else) keeps the other core busy (measured on CNN-PerMLP, 204 COCO photos, 60 epochs)
    torch.set_num_threads(1)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    db = Path(args.library)
    db = db if db.suffix == ".db" else db / "tagassist.db"
    try:
        if not db.is_file():
            raise NotPublished(f"no library at {db}")
        with Library.open(db) as library:
            user = next((u for u in library.users()
                         if u.name == args.user or u.id == args.user_id), None)
            if user is None:
                raise NotPublished(f"no user {args.user or args.user_id!r} in this library")
            _emit(train_personal(library, user.id, seed=args.seed, progress=_emit, check=check,
                                 candidates=tuple(m for m in args.models.split(",") if m),
                                 full=args.full))
        return 0
    except Cancelled:
        _emit({"event": "cancelled", "message": "training cancelled; the previous model stays"})
        return 130
    except NotPublished as e:
        _emit({"event": "skipped", "message": str(e)})
        return 3
    except (ModelFitError, OSError, ValueError, RuntimeError) as e:
        _emit({"event": "error", "message": f"{type(e).__name__}: {e}"})
        return 2


if __name__ == "__main__":
    sys.exit(main())
