"""The replay protocol (EVALUATION.md ``replay``): does personalization make suggestions better?

``python -m trainer.replay --data NAME_OR_PATH [--users N] [--min-posts 60] [--retrain-every R]
[--seed S] --json FILE [--plot FILE.png]``

1. Users with at least ``--min-posts`` posts; a seeded sample of ``--users`` of them (all when
   fewer) are the *replay users*.  The shared model (DAE-PTR) is trained once on everyone
   else's posts: a replay user arrives as a new user of a trained app.
2. Each replay user's posts are walked in time order (at most ``--max-posts``).  Before each
   post the current top 5 are shown (no input tags: the item is new to this user); the post's
   true tags count as accepted, the other shown tags as rejected, the true tags not shown as
   typed by hand.  Every R posts the personalization job runs
   (:func:`trainer.personalize.guarded_update`, the same step the app runs): the user's rows
   and their new tags' rows are fitted on the posts and rejections so far, the last R posts
   held out to check it is not worse.
3. *baseline*: the same shared model, never personalized (the user is unknown to it).
   *mp_u*: the user's most frequent tags so far (ties: the shared data's popularity) — not
   asked for, shown because it is the simplest personal ranker a model has to beat.
Acceptance@5 = accepted / 5 (P@5), recall@5 = accepted / true tags, per post; the overall
figures average every post 51–100 of every replay user; windows are 10 posts wide.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from trainer import datasets
from trainer.data import TagData
from trainer.models import TagModel, create
from trainer.models.base import remap_rows
from trainer.personalize import acceptance, guarded_update, suggest_scores, top_k
from trainer.report import line_plot

K = 5
WINDOW = 10
SCORED = (51, 100)  # the posts the overall figures average (1-based, inclusive)
# the shared model: fixed epochs (no validation split is held back from it), K 128
# each replay user gets their own copy, so the decoder is theirs to fit (as in the app)
BASE_CONFIG: dict[str, Any] = {"k": 128, "c": 0.8, "epochs": 40,
                               "personal_shared": "decoder"}
SERIES = ("personalized", "baseline", "mp_u")


def user_posts(data: TagData) -> dict[int, list[tuple[int, np.ndarray]]]:
    """user -> [(item, tags)] in time order (a post's time = its first assignment's)."""
    pid, users, items = data.post_ids()
    first = np.full(users.size, np.inf)
    np.minimum.at(first, pid, data.time)
    order = np.argsort(pid, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(pid, minlength=users.size))])
    tags_sorted = data.tag[order]
    out: dict[int, list[tuple[int, np.ndarray]]] = {}
    for p in np.lexsort((items, first)):
        out.setdefault(int(users[p]), []).append(
            (int(items[p]), np.unique(tags_sorted[bounds[p]:bounds[p + 1]])))
    return out


def pick_users(posts: dict[int, list[Any]], min_posts: int, n: int, seed: int) -> list[int]:
    eligible = sorted(u for u, p in posts.items() if len(p) >= min_posts)
    if len(eligible) <= n:
        return eligible
    return sorted(np.random.default_rng(seed).choice(eligible, n, replace=False).tolist())


def _as_table(data: TagData, user: int, posts: list[tuple[int, np.ndarray]]) -> TagData:
    items = np.concatenate([np.full(t.size, i) for i, t in posts]).astype(np.int64)
    tags = np.concatenate([t for _, t in posts]).astype(np.int64)
    return TagData(np.full(tags.size, user, np.int64), items, tags, np.zeros(tags.size),
                   data.users, data.items, data.tags, name=data.name)


def replay_user(base: TagModel, data: TagData, user: int, posts: list[tuple[int, np.ndarray]],
                base_counts: np.ndarray, every: int, seed: int) -> dict[str, Any]:
    """Per-post acceptance/recall of each series for one user, and the updates' reports."""
    items = np.array([i for i, _ in posts], np.int64)
    truth = [t for _, t in posts]
    result: dict[str, Any] = {s: {"acceptance": [], "recall": []} for s in SERIES}

    def record(series: str, top: np.ndarray, start: int) -> None:
        acc = acceptance(top, truth[start:start + top.shape[0]])
        result[series]["acceptance"] += acc.tolist()
        result[series]["recall"] += [a * K / max(t.size, 1) for a, t in
                                     zip(acc, truth[start:start + top.shape[0]], strict=True)]

    record("baseline", top_k(suggest_scores(base, -1, items), K), 0)
    counts = np.zeros(data.n_tags)
    prior = base_counts / max(base_counts.sum(), 1) * 1e-3  # ties: the shared popularity
    for j, t in enumerate(truth):
        record("mp_u", top_k((counts + prior)[None], K), j)
        counts[t] += 1

    model = base
    rejected: list[tuple[int, int]] = []
    updates = []
    for start in range(0, len(posts), every):
        chunk = slice(start, min(start + every, len(posts)))
        top = top_k(suggest_scores(model, user, items[chunk]), K)
        record("personalized", top, start)
        for i, shown, tr in zip(items[chunk], top, truth[chunk], strict=True):
            rejected += [(int(i), int(t)) for t in shown if t not in tr]
        seen = chunk.stop
        if seen >= len(posts):
            break
        table = _as_table(data, user, posts[:seen])
        rej = TagData(np.full(len(rejected), user, np.int64),
                      np.array([r[0] for r in rejected], np.int64),
                      np.array([r[1] for r in rejected], np.int64), np.zeros(len(rejected)),
                      data.users, data.items, data.tags)
        used = np.unique(table.tag)
        model, report = guarded_update(model, table, user, holdout=items[chunk], rejected=rej,
                                       new_tags=used[base_counts[used] == 0], seed=seed + seen)
        updates.append(report.as_dict())
    result["updates"] = updates
    return result


def _mean(values: list[float]) -> float:
    return round(float(np.mean(values)), 4) if values else 0.0


def summarize(per_user: dict[str, dict[str, Any]], max_posts: int) -> dict[str, Any]:
    lo, hi = SCORED
    out: dict[str, Any] = {}
    for s in SERIES:
        acc = [np.array(r[s]["acceptance"]) for r in per_user.values()]
        rec = [np.array(r[s]["recall"]) for r in per_user.values()]
        scored_acc = np.concatenate([a[lo - 1:hi] for a in acc])
        scored_rec = np.concatenate([r[lo - 1:hi] for r in rec])
        windows = []
        for w0 in range(0, max_posts, WINDOW):
            a = np.concatenate([x[w0:w0 + WINDOW] for x in acc])
            r = np.concatenate([x[w0:w0 + WINDOW] for x in rec])
            if a.size:
                windows.append({"posts": f"{w0 + 1}-{w0 + WINDOW}", "users": int(
                    sum(x.size > w0 for x in acc)), "acceptance@5": round(float(a.mean()), 4),
                    "recall@5": round(float(r.mean()), 4)})
        out[s] = {"acceptance@5": round(float(scored_acc.mean()), 4),
                  "recall@5": round(float(scored_rec.mean()), 4),
                  "posts_scored": int(scored_acc.size), "windows": windows,
                  "per_user": {u: {"acceptance@5": _mean(r[s]["acceptance"][lo - 1:hi]),
                                   "recall@5": _mean(r[s]["recall"][lo - 1:hi])}
                               for u, r in per_user.items()}}
    p, b = out["personalized"]["per_user"], out["baseline"]["per_user"]
    diff = np.array([p[u]["acceptance@5"] - b[u]["acceptance@5"] for u in p])
    base_acc = out["baseline"]["acceptance@5"]
    out["comparison"] = {
        "relative_gain_acceptance@5": round(out["personalized"]["acceptance@5"] / base_acc - 1, 4)
        if base_acc > 0 else None,
        "users_improved": int((diff > 0).sum()), "users_worse": int((diff < 0).sum()),
        "users_same": int((diff == 0).sum()),
        "per_user_gain_quartiles": [round(float(q), 4) for q in
                                    np.quantile(diff, [0.0, 0.25, 0.5, 0.75, 1.0])]}
    return out


def run(data: TagData, *, users: int, min_posts: int, every: int, seed: int, max_posts: int,
        config: dict[str, Any], progress: bool = True) -> dict[str, Any]:
    t0 = time.perf_counter()
    by_user = user_posts(data)
    chosen = pick_users(by_user, min_posts, users, seed)
    if not chosen:
        raise ValueError(f"no user has {min_posts} or more posts in {data.name or 'the data'}")
    base_data = data.subset(~np.isin(data.user, chosen))
    model = create("dae_ptr", **{**BASE_CONFIG, **config})
    if progress:
        print(f"shared model: {base_data.n_posts()} posts of {data.n_users - len(chosen)} "
              f"users; replaying {len(chosen)} users", file=sys.stderr, flush=True)
    # subset keeps the full index spaces, so replay users' items and tags keep their indices;
    # tags only replay users use are never positives here: their rows are the "new tags"
    model.fit(base_data, seed=seed, epochs=int(model.config["epochs"]))
    base_seconds = time.perf_counter() - t0
    base_counts = np.bincount(base_data.tag, minlength=data.n_tags).astype(np.float64)
    # as in the app: a tag the shared model never saw, and a new user, start from fresh rows
    tags = np.arange(data.n_tags)
    users = np.arange(data.n_users)
    remap_rows(model, np.where(base_counts > 0, tags, -1),
               np.where(np.isin(users, chosen), -1, users))
    per_user: dict[str, dict[str, Any]] = {}
    for n, u in enumerate(chosen, 1):
        per_user[data.users[u]] = replay_user(model, data, u, by_user[u][:max_posts],
                                              base_counts, every, seed)
        if progress:
            r = per_user[data.users[u]]
            print(f"[{n}/{len(chosen)}] user {data.users[u]}: acceptance@5 "
                  f"{np.mean(r['personalized']['acceptance']):.3f} personalized, "
                  f"{np.mean(r['baseline']['acceptance']):.3f} baseline",
                  file=sys.stderr, flush=True)
    out = summarize(per_user, max_posts)
    kept = [u["kept"] for r in per_user.values() for u in r["updates"]]
    out["updates"] = {"runs": len(kept), "kept_candidate": kept.count("candidate"),
                      "kept_previous": kept.count("previous")}
    out["seconds"] = {"shared_model": round(base_seconds, 1),
                      "total": round(time.perf_counter() - t0, 1)}
    return out


def plot(out: dict[str, Any], path: Path) -> None:
    series = {s: [(float(w["posts"].split("-")[1]), w["acceptance@5"])
                  for w in out[s]["windows"]] for s in SERIES}
    line_plot(series, path, f"replay {out['data']}: acceptance@5 per 10 posts",
              "posts of the user (window end)", "acceptance@5")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m trainer.replay", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="set name or path to a generic posts TSV")
    p.add_argument("--item-text", help="item-text TSV for a generic posts TSV (unused here)")
    p.add_argument("--users", type=int, default=50)
    p.add_argument("--min-posts", type=int, default=60)
    p.add_argument("--max-posts", type=int, default=SCORED[1])
    p.add_argument("--retrain-every", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--config", default="{}", help="DAE-PTR options as JSON (shared model and "
                   "personalization, e.g. '{\"personal_steps\": 40}')")
    p.add_argument("--json", required=True)
    p.add_argument("--plot")
    args = p.parse_args(argv)
    try:
        data = datasets.load(args.data, args.item_text)
        out = {"data": args.data, "protocol": "replay", "users_requested": args.users,
               "min_posts": args.min_posts, "max_posts": args.max_posts,
               "retrain_every": args.retrain_every, "seed": args.seed, "model": "dae_ptr",
               "config": {**BASE_CONFIG, **json.loads(args.config)}}
        out.update(run(data, users=args.users, min_posts=args.min_posts,
                       every=args.retrain_every, seed=args.seed, max_posts=args.max_posts,
                       config=json.loads(args.config)))
    except (OSError, ValueError) as e:
        print(f"replay: {e}", file=sys.stderr)
        return 2
    out["users"] = len(out["personalized"]["per_user"])
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(out, indent=1))
    if args.plot:
        plot(out, Path(args.plot))
    c, pers, base = out["comparison"], out["personalized"], out["baseline"]
    print(f"{out['users']} users, posts {SCORED[0]}-{SCORED[1]}: acceptance@5 "
          f"{pers['acceptance@5']} personalized vs {base['acceptance@5']} baseline "
          f"(relative {c['relative_gain_acceptance@5']}), mp_u {out['mp_u']['acceptance@5']}; "
          f"improved {c['users_improved']}, worse {c['users_worse']}, same {c['users_same']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
