"""Data helpers for SOG/BR runs: tag min-count filter, posts-TSV export, CPU budget bench.

``trainer.evaluate`` has ``--core`` (p-core over users, items *and* tags) but no tag-only
min-count; on CiteULike (one pseudo-user, each article one post) a 10-core would drop every
article.  So the SOG protocol ("tags used by >= 10 articles") is applied here and written as a
generic posts TSV that ``python -m trainer.evaluate --data FILE --item-text TEXT`` reads as is::

    python -m trainer.models.sog_data export --data citeulike --min-tag-count 10 --out DIR
    python -m trainer.evaluate --data DIR/posts.tsv --item-text DIR/text.tsv \\
        --protocol random-post --models br,sog_1toM,sog_1to1 --config '{"sog_1toM": {...}}'

``bench`` times one epoch per encoder depth on a subset and reports P/R@1,3,5 on test posts;
``order`` runs it per seed with each post's tags in the file's order, shuffled once, or
reshuffled every epoch (the paper's order-freeness check).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from trainer import datasets
from trainer.data import TagData
from trainer.metrics import aggregate, mean_std, truth_ranks
from trainer.models.base import Batch
from trainer.protocols import split


def min_tag_count(data: TagData, min_count: int) -> TagData:
    """Keep the tags given to at least ``min_count`` distinct posts; drop posts left empty."""
    pid, _, _ = data.post_ids()
    pairs = np.unique(pid.astype(np.int64) * max(data.n_tags, 1) + data.tag)
    counts = np.bincount(pairs % max(data.n_tags, 1), minlength=data.n_tags)
    return data.subset(counts[data.tag] >= min_count).compact()


def export_tsv(data: TagData, out: Path) -> tuple[Path, Path]:
    """``posts.tsv`` (user, item, tag, time) and ``text.tsv`` (item, text) for trainer.evaluate."""
    out.mkdir(parents=True, exist_ok=True)
    posts, text = out / "posts.tsv", out / "text.tsv"

    def clean(s: str) -> str:
        return " ".join(s.replace("\t", " ").split())

    with posts.open("w", encoding="utf-8") as f:
        f.write("user\titem\ttag\ttimestamp\n")
        for u, i, t, ts in zip(data.user, data.item, data.tag, data.time, strict=True):
            f.write(f"{data.users[u]}\t{data.items[i]}\t{clean(data.tags[t])}\t{int(ts)}\n")
    with text.open("w", encoding="utf-8") as f:
        for name in data.items:
            f.write(f"{name}\t{clean(data.item_text.get(name, ''))}\n")
    return posts, text


def evaluate_model(model: object, s: object, n_test: int, seed: int = 0) -> dict[str, float]:
    """P/R@1,3,5 of ``model.score`` on at most ``n_test`` test posts of split ``s``."""
    sub = s.subsample(n_test, seed)  # type: ignore[attr-defined]
    batch = Batch(sub.user, sub.item, sub.time, sub.inputs)
    scores = model.score(batch)  # type: ignore[attr-defined]
    tiebreak = np.random.default_rng(seed).permutation(scores.shape[1])
    ranks = truth_ranks(scores, sub.truth, sub.inputs, tiebreak)
    res = aggregate(ranks, [t.size for t in sub.truth], (1, 3, 5))
    return {k: round(v, 4) for k, v in res.items() if k[:2] in ("p@", "r@")}


def stop_rule(model: object, val_items: list[int], val_truth: list[np.ndarray], s: object,
              n_test: int, seed: int) -> dict[str, object]:
    """Choose ``stop_p`` on validation posts (set F1), then the test set F1 and mean set size."""
    from trainer.models.sog_decode import choose_stop_p

    thr, grid = choose_stop_p(model, val_items, val_truth)  # type: ignore[arg-type]
    sub = s.subsample(n_test, seed)  # type: ignore[attr-defined]
    gen, _ = model.generate([int(i) for i in sub.item], sub.inputs,  # type: ignore[attr-defined]
                            stop_p=thr)
    f1 = [2 * len(set(g) & set(t.tolist())) / (len(g) + t.size) for g, t in
          zip(gen, sub.truth, strict=True)]
    return {"stop_p": thr, "val_set_f1": {str(k): round(v, 4) for k, v in grid.items()},
            "test_set_f1": round(float(np.mean(f1)), 4),
            "test_mean_set_size": round(float(np.mean([len(g) for g in gen])), 2)}


def bench(args: argparse.Namespace) -> dict[str, object]:
    from trainer.models import create  # torch only here

    data = min_tag_count(datasets.load(args.data), args.min_tag_count)
    s = split(data, "random-post", args.seed)
    pid, _, _ = s.train.post_ids()
    rng = np.random.default_rng(args.seed)
    keep_posts = rng.choice(pid.max() + 1, size=min(args.posts, pid.max() + 1), replace=False)
    full_train = s.train
    s.train = full_train.subset(np.isin(pid, keep_posts))
    # validation for the stop threshold: training posts outside the subset (never test posts)
    rest = full_train.subset(~np.isin(pid, keep_posts))
    rpid, _, ritem = rest.post_ids()
    val_posts = rng.choice(ritem.size, size=min(args.val, ritem.size), replace=False)
    val_items = [int(ritem[p]) for p in val_posts]
    val_truth = [np.unique(rest.tag[rpid == p]) for p in val_posts]
    out: dict[str, object] = {"data": args.data, "min_tag_count": args.min_tag_count,
                              "train_posts": int(keep_posts.size), "test_posts": args.test,
                              "tags": data.n_tags, "runs": []}
    tag_emb = None
    for name in args.models.split(","):
        for layers in (int(x) for x in args.layers.split(",")):
            cfg = dict(json.loads(args.config)) if args.config else {}
            cfg.update(layers=layers, epochs=args.epochs)
            model = create(name, **cfg)
            if tag_emb is None:
                from trainer.models.sog_encoder import tag_text_embeddings
                t0 = time.perf_counter()
                tag_emb = tag_text_embeddings(data.tags)
                out["tag_emb_s"] = round(time.perf_counter() - t0, 1)
            model.fit(s.train, seed=args.seed, tag_emb=tag_emb,  # type: ignore[call-arg]
                      show_progress=args.progress)
            t0 = time.perf_counter()
            res = evaluate_model(model, s, args.test, args.seed)
            run = {"model": name, "layers": layers, **model.fit_info_,  # type: ignore[attr-defined]
                   "predict_s": round(time.perf_counter() - t0, 1), **res}
            if name != "br" and args.val:
                run.update(stop_rule(model, val_items, val_truth, s, args.test, args.seed))
            out["runs"].append(run)  # type: ignore[attr-defined]
            print(json.dumps(run), file=sys.stderr, flush=True)
    return out


ORDERS = {"false": "file order", "once": "shuffled once", "true": "reshuffled every epoch"}


def order(args: argparse.Namespace) -> dict[str, object]:
    """Order-freeness (paper 4.3): SOG 1-to-M trained on each post's tags in the data file's
    order, shuffled once, or reshuffled every epoch; per seed the same split, subset and
    initialisation for every order (paired)."""
    runs = []
    for seed in range(args.seeds):
        for key in args.orders.split(","):
            cfg = dict(json.loads(args.config)) if args.config else {}
            cfg["shuffle_tags"] = {"true": True, "false": False}.get(key, key)
            one = argparse.Namespace(**{**vars(args), "seed": seed, "models": "sog_1toM",
                                        "config": json.dumps(cfg), "val": 0})
            res = bench(one)
            runs.append({"seed": seed, "order": ORDERS[key], **res["runs"][0]})  # type: ignore[index]
    return {"data": args.data, "min_tag_count": args.min_tag_count, "train_posts": args.posts,
            "test_posts": args.test, "epochs": args.epochs, **order_summary(runs), "runs": runs}


def order_summary(runs: list[dict]) -> dict[str, object]:
    """Mean and std of P@1 and R@5 per order, and the paired (same seed) differences: shuffled
    once - file order (the paper's check) and reshuffled every epoch - shuffled once."""
    def stats(values: list[float]) -> dict[str, float]:
        return dict(zip(("mean", "std"), mean_std(values), strict=True))

    summary = {}
    for name in ORDERS.values():
        mine = [r for r in runs if r["order"] == name]
        if mine:
            summary[name] = {"seeds": len(mine),
                             **{m: stats([r[m] for r in mine]) for m in ("p@1", "r@5")}}

    def paired(a: str, b: str) -> dict[str, object]:
        by_seed = {(r["order"], r["seed"]): r for r in runs}
        seeds = sorted(s for o, s in by_seed if o == a and (b, s) in by_seed)
        out: dict[str, object] = {"seeds": seeds}
        for m in ("p@1", "r@5"):
            d = [by_seed[(a, s)][m] - by_seed[(b, s)][m] for s in seeds]
            out[m] = {"per seed": [round(x, 4) for x in d], **stats(d)} if d else None
        return out

    return {"summary": summary,
            "shuffled once - file order": paired("shuffled once", "file order"),
            "reshuffled every epoch - shuffled once": paired("reshuffled every epoch",
                                                             "shuffled once")}


def beam(args: argparse.Namespace) -> dict[str, object]:
    """Greedy (B = 1) against beam search of widths B on a saved model (paper Figure 5)."""
    from trainer.models import REGISTRY

    data = datasets.load(args.data, args.item_text)
    s = split(data, "random-post", args.seed)
    meta = json.loads((Path(args.model) / "config.json").read_text())
    model = REGISTRY[meta["model"]].load(args.model)
    out: dict[str, object] = {"model": str(args.model), "data": args.data,
                              "test_posts": min(args.test, len(s)), "runs": []}
    for width in (int(w) for w in args.widths.split(",")):
        model.config.update(decode="greedy" if width == 1 else "beam", beam_width=width)
        t0 = time.perf_counter()
        res = evaluate_model(model, s, args.test, args.seed)
        run = {"beam_width": width, "seconds": round(time.perf_counter() - t0, 1), **res}
        out["runs"].append(run)  # type: ignore[attr-defined]
        print(json.dumps(run), file=sys.stderr, flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m trainer.models.sog_data")
    sub = p.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("export", help="min-count filter, then posts/text TSV for trainer.evaluate")
    b = sub.add_parser("bench", help="time per epoch and P/R@K on a subset")
    o = sub.add_parser("order", help="order-freeness: file order vs shuffled (paired seeds)")
    for q in (e, b, o):
        q.add_argument("--data", default="citeulike")
        q.add_argument("--min-tag-count", type=int, default=10)
        q.add_argument("--seed", type=int, default=0)
    e.add_argument("--out", required=True)
    b.add_argument("--models", default="sog_1toM")
    b.add_argument("--layers", default="2,6")
    b.add_argument("--val", type=int, default=0,
                   help="validation posts (outside the subset) to choose the stop threshold")
    o.add_argument("--layers", default="2")
    o.add_argument("--seeds", type=int, default=3)
    o.add_argument("--orders", default="false,once,true", help=f"of {', '.join(ORDERS)}")
    for q in (b, o):
        q.add_argument("--posts", type=int, default=2000)
        q.add_argument("--test", type=int, default=300)
        q.add_argument("--epochs", type=int, default=1)
        q.add_argument("--config", help="JSON config applied to every model")
        q.add_argument("--json", help="write the results here")
        q.add_argument("--progress", action="store_true")
    bm = sub.add_parser("beam", help="greedy vs beam widths on a saved model (Figure 5)")
    bm.add_argument("--model", required=True, help="a folder from trainer.evaluate --save-models")
    bm.add_argument("--data", required=True)
    bm.add_argument("--item-text")
    bm.add_argument("--widths", default="1,3,5")
    bm.add_argument("--test", type=int, default=100000)
    bm.add_argument("--seed", type=int, default=0)
    bm.add_argument("--json")
    args = p.parse_args(argv)
    if args.cmd == "beam":
        res = beam(args)
        if args.json:
            Path(args.json).write_text(json.dumps(res, indent=1) + "\n")
        return 0
    if args.cmd == "export":
        data = min_tag_count(datasets.load(args.data), args.min_tag_count)
        posts, text = export_tsv(data, Path(args.out))
        print(json.dumps({"posts_tsv": str(posts), "text_tsv": str(text), **data.stats()}))
        return 0
    res = order(args) if args.cmd == "order" else bench(args)
    text = json.dumps(res, indent=1)
    if args.json:
        Path(args.json).write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
