"""``python -m trainer.evaluate``: the pinned command of ``../shared/docs/EVALUATION.md``.

Loads a shared set or a generic posts TSV, applies the p-core and the protocol, selects each
model's configuration (grid) and number of epochs on a validation split carved from the
*training* posts, refits on the whole training part, and ranks all tags for every test post
(plus the sampled variant with ``--candidates N``).  Writes JSON (schema in EVALUATION.md) and an
optional Markdown + PNG report.  Progress bars go to stderr.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from trainer import datasets
from trainer.data import TagData, min_tag_items, p_core
from trainer.metrics import KS, aggregate, truth_ranks
from trainer.models import REGISTRY, Batch, ModelFitError, TagModel, UnknownModelError, create
from trainer.protocols import (
    PROTOCOLS,
    Split,
    sample_candidates,
    sample_test,
    split,
    validation_split,
)

SELECT_BY = {"last-tag": "hit@3", "last-post": "f1@5", "random-post": "f1@5", "per-tag": "mrr"}
PER_TAG_KS = (1, 3, 5, 10, 50, 100, 150, 200, 250, 300)


def rank_split(model: TagModel, s: Split, tiebreak: np.ndarray, candidates: np.ndarray | None,
               batch_size: int = 2048, progress: bool = False, desc: str = ""
               ) -> tuple[list[np.ndarray], float]:
    """Ranks of the true tags for every case, and the seconds spent in ``score``."""
    ranks: list[np.ndarray] = []
    spent = 0.0
    for a in tqdm(range(0, len(s), batch_size), desc=desc, disable=not progress, leave=False):
        sl = slice(a, a + batch_size)
        batch = Batch(s.user[sl], s.item[sl], s.time[sl], s.inputs[sl])
        t0 = time.perf_counter()
        scores = model.score(batch)
        spent += time.perf_counter() - t0
        cand = None if candidates is None else candidates[sl]
        ranks += truth_ranks(scores, s.truth[sl], s.inputs[sl], tiebreak, cand)
    return ranks, spent


def measure(model: TagModel, s: Split, tiebreak: np.ndarray, ks: tuple[int, ...],
            candidates: np.ndarray | None = None, progress: bool = False, desc: str = ""
            ) -> tuple[dict[str, float], float]:
    ranks, spent = rank_split(model, s, tiebreak, candidates, progress=progress, desc=desc)
    return aggregate(ranks, [t.size for t in s.truth], ks), spent


def select(name: str, val: Split, tiebreak: np.ndarray, metric: str, seed: int,
           overrides: dict[str, Any], eval_every: int = 10, patience: int = 2,
           progress: bool = False) -> dict[str, Any]:
    """Pick config (grid) and epochs on the validation split; never touches test targets."""
    cls = REGISTRY[name]
    grid: list[dict[str, Any]] = []
    for g in cls.grid:  # command-line overrides win over the grid; duplicates dropped
        if dict(g, **overrides) not in grid:
            grid.append(dict(g, **overrides))
    log: list[dict[str, Any]] = []
    best: dict[str, Any] = {"score": -1.0}
    if len(grid) == 1 and not cls.iterative:  # nothing to choose
        return {"config": grid[0], f"val_{metric}": None, "tried": []}
    for cfg in grid:
        model = create(name, **cfg)
        keep = not model.config.get("refit", True)  # no refit: keep the best model itself
        if cls.iterative:
            curve: list[tuple[int, float]] = []

            def cb(ep: int, m: TagModel, curve: list[tuple[int, float]] = curve,
                   cfg: dict[str, Any] = cfg, keep: bool = keep) -> bool | None:
                if ep % eval_every:
                    return None
                score = measure(m, val, tiebreak, (3, 5, 10))[0][metric]
                curve.append((ep, score))
                if keep and score > best["score"]:
                    best.update(score=score, config=dict(cfg, epochs=ep), state=m.state())
                best_ep = max(curve, key=lambda x: x[1])[0]
                if ep < cls.min_epochs:
                    return None
                return False if ep - best_ep >= patience * eval_every else None

            model.fit(val.train, seed=seed, callback=cb, show_progress=progress)
            if not curve:
                curve.append((model.config["epochs"],
                              measure(model, val, tiebreak, (3, 5, 10))[0][metric]))
            ep, score = max(curve, key=lambda x: x[1])
            log.append({"config": model.config, "curve": curve})
            if score > best["score"] or (keep and "state" not in best):
                best.update(score=score, config=dict(cfg, epochs=ep),
                            state=model.state() if keep else None)
        else:
            model.fit(val.train, seed=seed)
            score = measure(model, val, tiebreak, (3, 5, 10))[0][metric]
            log.append({"config": model.config, metric: score})
            if score > best["score"]:
                best.update(score=score, config=dict(cfg))
    return {"config": best["config"], f"val_{metric}": best["score"], "tried": log,
            "state": best.get("state")}


def final_model(name: str, sel: dict[str, Any], train: TagData, seed: int,
                progress: bool = False) -> TagModel:
    """Refit the selected configuration on all training posts — or, for a model that does not
    refit (config ``refit: false``), the early-stopped validation model at its best epoch."""
    model = create(name, **sel["config"])
    if sel.get("state") is None:
        return model.fit(train, seed=seed, show_progress=progress)
    model.n_users, model.n_items, model.n_tags = train.n_users, train.n_items, train.n_tags
    model.load_state(sel["state"])
    return model


def run(args: argparse.Namespace) -> dict[str, Any]:
    names = [m.strip() for m in args.models.split(",") if m.strip()]
    for n in names:  # fail before loading anything
        if n not in REGISTRY:
            create(n)
    overrides: dict[str, dict[str, Any]] = json.loads(args.config) if args.config else {}
    data = datasets.load(args.data, args.item_text)
    if args.core and args.core > 1:
        data = p_core(data, args.core)
    if args.min_tag_items > 1:
        data = min_tag_items(data, args.min_tag_items)
    s = split(data, args.protocol, args.seed, args.per_tag_p)
    val = validation_split(s.train, args.protocol, args.seed, args.val_cases, args.per_tag_p)
    if args.on == "validation":  # tuning: the held-out part of the *training* posts only
        s, val = val, validation_split(val.train, args.protocol, args.seed + 1, args.val_cases,
                                       args.per_tag_p)
    all_cases = len(s)
    if args.max_test:
        s = sample_test(s, args.max_test, args.seed)
    tiebreak = np.random.default_rng(args.seed).permutation(data.n_tags)
    ks = PER_TAG_KS if args.protocol == "per-tag" else KS
    cands = (sample_candidates(s, data.n_tags, args.candidates, args.seed)
             if args.candidates else None)
    metric = SELECT_BY[args.protocol]
    st = data.stats()
    out: dict[str, Any] = {
        "data": args.data, "protocol": args.protocol, "core": args.core or 1, "seed": args.seed,
        "min_tag_items": args.min_tag_items, "per_tag_p": args.per_tag_p, "on": args.on,
        "stats": {**st, "test_posts": len(s), "test_posts_before_cap": all_cases},
        "validation": {"cases": len(val), "select_by": metric},
        "results": {},
    }
    if cands is not None:
        out["candidates"] = args.candidates
        out["results_sampled"] = {}
    for name in names:
        t0 = time.perf_counter()
        sel = select(name, val, tiebreak, metric, args.seed, overrides.get(name, {}),
                     progress=args.progress)
        model = final_model(name, sel, s.train, args.seed, args.progress)
        train_s = time.perf_counter() - t0
        res, spent = measure(model, s, tiebreak, ks, progress=args.progress, desc=name)
        res.update(train_s=round(train_s, 3),
                   predict_ms_per_post=round(1000 * spent / max(len(s), 1), 4),
                   config=model.config, refit=sel.get("state") is None,
                   **{k: v for k, v in sel.items() if k not in ("config", "state")})
        if getattr(model, "fit_info_", None):  # e.g. served: time per phase, ensemble size
            res["fit_info"] = model.fit_info_
        out["results"][name] = res
        if cands is not None:
            out["results_sampled"][name] = measure(model, s, tiebreak, ks, cands)[0]
        if args.save_models:
            model.save(Path(args.save_models) / name)
        print(f"{name}: " + " ".join(f"{k}={res[k]:.4f}" for k in ("hit@3", "ndcg@5", "f1@5",
                                                                   "map@10", "mrr")
                                     if k in res) + f" train_s={train_s:.1f}", file=sys.stderr)
    return out


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m trainer.evaluate", description=__doc__)
    p.add_argument("--data", required=True, help="set name or path to a generic posts TSV")
    p.add_argument("--core", type=int, default=0, help="p-core over (user, item) posts")
    p.add_argument("--protocol", required=True, choices=PROTOCOLS)
    p.add_argument("--models", required=True, help="comma separated: " + ",".join(REGISTRY))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--candidates", type=int, default=0,
                   help="also rank the truth among itself and N-1 sampled tags not in the post")
    p.add_argument("--json", help="write results JSON here")
    p.add_argument("--report", help="write a Markdown report here (PNG plots beside it)")
    p.add_argument("--item-text", help="TSV item<TAB>text for a generic posts file")
    p.add_argument("--config", help='JSON per-model overrides, e.g. {"dae_ptr": {"k": 256}}')
    p.add_argument("--val-cases", type=int, default=3000, help="validation cases (max)")
    p.add_argument("--per-tag-p", type=int, default=10)
    p.add_argument("--on", choices=("test", "validation"), default="test",
                   help="validation: score the validation split carved from the training "
                        "posts instead of the test posts (for tuning; never sees test targets)")
    p.add_argument("--max-test", type=int, default=0,
                   help="score at most N test posts (seeded sample; the rest are dropped)")
    p.add_argument("--min-tag-items", type=int, default=0,
                   help="keep only tags carried by at least N items (CiteULike: 5)")
    p.add_argument("--save-models", help="folder to save each fitted model (npz + json)")
    p.add_argument("--no-progress", dest="progress", action="store_false")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        out = run(args)
    except UnknownModelError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except (ValueError, FileNotFoundError, ModelFitError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    text = json.dumps(out, indent=1, sort_keys=False, default=float)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(text + "\n")
    else:
        print(text)
    if args.report:
        from trainer.report import write_report
        write_report(out, Path(args.report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
