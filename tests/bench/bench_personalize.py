"""Benchmark: the cost of one personalization step for a user with 1,000 posts (issue 7).

The step is :func:`trainer.personalize.guarded_update`, what the app's job and the replay run:
fit the user's rows (DAE-PTR p_u, the decoder, the new tags' rows) on 1,000 posts and their
rejections with the newest ``--holdout`` posts held out, judge it on them, refit on all.

- data: the user with the most posts in ``--data`` (Last.fm: the largest vocabulary, 9,749
  tags), their first 1,000 posts; rejections = the shared model's top 5 minus the true tags of
  every post (what a replay would have recorded);
- the shared model: DAE-PTR of the replay (K 128) on every other user, ``--base-epochs``
  epochs (its quality does not change the cost; its size does, and that is the replay's);
- timed: ``--runs`` updates (median, and each run), at 1 thread (how the app's job runs:
  ``trainer.personal`` sets one) and at 2, with eq. 11 sampled (1,000 × 9,749 logits are over
  ``personal_logits``); baselines in the same process: the exact eq. 11 (half the runs), and
  one epoch of the shared model's own training (a full retrain is 40 of those);
- memory: the process's peak RSS before and after the updates (``ru_maxrss``).

    python -m tests.bench.bench_personalize [--data lastfm] [--runs 5] [--json FILE]
"""
from __future__ import annotations

import argparse
import resource
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from tests.bench.report import write_report
from trainer import datasets, replay
from trainer.data import TagData
from trainer.models import create
from trainer.models.base import remap_rows
from trainer.personalize import guarded_update, suggest_scores, top_k

POSTS = 1000
GOAL_S = 10.0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data", default="lastfm")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--base-epochs", type=int, default=3)
    p.add_argument("--holdout", type=int, default=10)
    p.add_argument("--json", default="docs/results/bench-personalize.json")
    args = p.parse_args(argv)

    data = datasets.load(args.data)
    by_user = replay.user_posts(data)
    user = max(by_user, key=lambda u: len(by_user[u]))
    posts = by_user[user][:POSTS]
    if len(posts) < POSTS:
        raise SystemExit(f"no user with {POSTS} posts in {args.data}")
    base = data.subset(data.user != user)
    model = create("dae_ptr", **replay.BASE_CONFIG)
    torch.set_num_threads(2)
    epoch_s = []
    model.fit(base, seed=0, epochs=args.base_epochs,
              callback=lambda ep, m: epoch_s.append(time.perf_counter()))
    counts = np.bincount(base.tag, minlength=data.n_tags)
    remap_rows(model, np.where(counts > 0, np.arange(data.n_tags), -1),
               np.where(np.arange(data.n_users) == user, -1, np.arange(data.n_users)))
    table = replay._as_table(data, user, posts)
    items = np.array([i for i, _ in posts], np.int64)
    shown = top_k(suggest_scores(model, -1, items))
    rej = [(i, t) for i, top, (_, truth) in zip(items, shown, posts, strict=True)
           for t in top if t not in truth]
    rejected = TagData(np.full(len(rej), user, np.int64), np.array([r[0] for r in rej]),
                       np.array([r[1] for r in rej]), np.zeros(len(rej)),
                       data.users, data.items, data.tags)
    used = np.unique(table.tag)
    new_tags = used[counts[used] == 0]
    rss_before = peak_rss_mb()

    def update() -> tuple[float, str, float]:
        t0 = time.perf_counter()
        _, report = guarded_update(model, table, user, holdout=items[-args.holdout:],
                                   rejected=rejected, new_tags=new_tags)
        return time.perf_counter() - t0, report.kept, report.after

    def timed(runs: int) -> dict:
        r = [update() for _ in range(runs)]
        return {"median_s": round(statistics.median(x[0] for x in r), 2),
                "runs_s": [round(x[0], 2) for x in r], "kept": [x[1] for x in r],
                "holdout_acceptance@5_after": [round(x[2], 3) for x in r]}

    timings = {}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        timings[f"{threads}_thread"] = timed(args.runs)
    # the exact eq. 11 over every tag, at 1 thread: the same-process baseline of the sampling
    torch.set_num_threads(1)
    sampled_at = model.config["personal_logits"]
    model.config["personal_logits"] = 10**12
    timings["exact_1_thread"] = timed(max(1, args.runs // 2))
    model.config["personal_logits"] = sampled_at
    torch.set_num_threads(2)
    t0 = time.perf_counter()
    model.fit(base, seed=1, epochs=1)  # the baseline: one epoch of the shared model
    one_epoch = time.perf_counter() - t0
    full = one_epoch * int(replay.BASE_CONFIG["epochs"])
    result = {
        "data": args.data, "user": data.users[user], "posts": POSTS,
        "assignments": len(table), "rejections": len(rej), "new_tags": int(new_tags.size),
        "tags": data.n_tags, "k": replay.BASE_CONFIG["k"],
        "steps": {"fit": int(model.config["personal_steps"]),
                  "refit": round(0.5 * int(model.config["personal_steps"]))},
        "update": timings, "goal_s": GOAL_S,
        "baseline_one_shared_epoch_s": round(one_epoch, 2),
        "full_retrain_estimate_s": round(full, 1),
        "ratio_update_1_thread_to_full_retrain": round(
            timings["1_thread"]["median_s"] / full, 4),
        "ratio_sampled_to_exact_1_thread": round(
            timings["1_thread"]["median_s"] / timings["exact_1_thread"]["median_s"], 3),
        "peak_rss_mb": {"before_updates": round(rss_before, 1),
                        "after_updates": round(peak_rss_mb(), 1)},
    }
    table_txt = "\n".join([
        f"personalization of {data.users[user]} ({args.data}): {POSTS} posts, {len(rej)} "
        f"rejections, {new_tags.size} new tags, {data.n_tags} tags",
        *(f"  {k}: median {v['median_s']} s (runs {v['runs_s']})" for k, v in timings.items()),
        f"  one epoch of the shared model: {one_epoch:.1f} s; a full retrain ≈ {full:.0f} s",
        f"  peak RSS {rss_before:.0f} MB before the updates, {peak_rss_mb():.0f} MB after"])
    write_report(Path(args.json), result, table_txt)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
