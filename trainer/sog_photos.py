"""SOG on photos: the context ablation and the served model, on the early-fusion posts.

Posts are the tagged COCO and Flickr photos with fused contexts (:mod:`trainer.photo_posts`).

    python -m trainer.sog_photos ablation --json docs/results/sog-photos-context.json
    python -m trainer.sog_photos train --out resources/sog-photos
    torchrun --nproc_per_node N -m trainer.sog_photos train ...   (DDP, trainer.distributed)
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np

from tagassist.suggest.sog_context import FIELDS, drop_fields
from trainer import distributed
from trainer.data import TagData
from trainer.datasets import data_dir
from trainer.metrics import aggregate, mean_std, truth_ranks
from trainer.models.base import Batch
from trainer.photo_posts import photo_posts
from trainer.protocols import Split, split


def with_fields(data: TagData, keep: tuple[str, ...], captions: bool = True) -> TagData:
    """The same posts with only ``keep`` of the context fields (and without COCO's captions)."""
    return dataclasses.replace(data, item_text={
        k: drop_fields(v, tuple(f for f in keep if captions or f != "text"
                                or not k.startswith("coco:")))
        for k, v in data.item_text.items()})


ABLATIONS: dict[str, tuple[str, ...]] = {
    "all fields": FIELDS,
    "w/o image words": ("place", "time", "text"),
    "w/o place": ("image", "time", "text"),
    "w/o time": ("image", "place", "text"),
    "w/o text": ("image", "place", "time"),
}
NO_CAPTIONS = "w/o COCO captions (the app's case)"  # image words stand alone for COCO
SOG_CONFIG = {"layers": 2, "epochs": 6, "max_steps": 5, "max_context": 64, "batch_size": 32}


def scores_by_source(model: object, s: Split, seed: int = 0) -> dict[str, dict[str, float]]:
    """P/R@1,3,5 on all test posts and per source (``coco``, ``flickr``)."""
    batch = Batch(s.user, s.item, s.time, s.inputs)
    scores = model.score(batch)  # type: ignore[attr-defined]
    tiebreak = np.random.default_rng(seed).permutation(scores.shape[1])
    ranks = truth_ranks(scores, s.truth, s.inputs, tiebreak)
    names = [s.train.items[i] for i in s.item]
    out = {}
    for source in ("all", "coco", "flickr"):
        keep = [k for k, n in enumerate(names) if source == "all" or n.startswith(source + ":")]
        res = aggregate([ranks[k] for k in keep], [s.truth[k].size for k in keep], (1, 3, 5))
        out[source] = {"posts": len(keep),
                       **{k: round(v, 4) for k, v in res.items() if k[:2] in ("p@", "r@")}}
    return out


def ablation(args: argparse.Namespace) -> dict[str, object]:
    """The paper's Table 4 on photos: SOG 1-to-M with one context field left out at a time."""
    from trainer.models import create
    from trainer.models.sog_encoder import tag_text_embeddings

    data = photo_posts(data_dir(), captions=True)
    tag_emb = tag_text_embeddings(data.tags)
    runs = []
    variants = dict(ABLATIONS)
    variants[NO_CAPTIONS] = FIELDS
    if args.extras:  # the user token, and the served model's fields (no captions)
        variants["all fields + user token"] = FIELDS
        variants["served: no captions + user token"] = FIELDS
    for seed in range(args.seeds):
        s = split(data, "random-post", seed)
        train = s.train
        for name, keep in variants.items():
            cfg = dict(SOG_CONFIG, epochs=args.epochs, max_context=args.max_context,
                       user_token=name.endswith("user token"))
            model = create("sog_1toM", **cfg)
            # the split's training table; its item_text covers the test items too
            captions = not (name.startswith("served") or name == NO_CAPTIONS)
            s.train = with_fields(train, keep, captions=captions)
            t0 = time.perf_counter()
            model.fit(s.train, seed=seed, tag_emb=tag_emb)  # type: ignore[call-arg]
            res = scores_by_source(model, s, seed)
            runs.append({"variant": name, "fields": list(keep), "seed": seed,
                         "fit_s": round(time.perf_counter() - t0, 1), **res})
            print(json.dumps(runs[-1]), file=sys.stderr, flush=True)
    return {"data": "photos (coco-val2017-283 + flickr-hucvl-summary-set)",
            "protocol": "random-post",
            "config": dict(SOG_CONFIG, epochs=args.epochs, max_context=args.max_context),
            "posts": len(data.items), "tags": data.n_tags, "summary": summarize(runs),
            "runs": runs}


def summarize(runs: list[dict]) -> dict[str, dict[str, dict[str, float]]]:
    """Per variant and source: mean and std over seeds of P@1 and R@5, and test posts in all."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for name in dict.fromkeys(r["variant"] for r in runs):
        mine = [r for r in runs if r["variant"] == name]
        out[name] = {}
        for source in ("all", "coco", "flickr"):
            row: dict[str, float] = {"seeds": len(mine),
                                     "posts": sum(r[source]["posts"] for r in mine)}
            for m in ("p@1", "r@5"):
                row[m], row[m + " std"] = mean_std([r[source][m] for r in mine])
            out[name][source] = row
    return out


SERVED_CONFIG = dict(SOG_CONFIG, epochs=8, user_token=True)


def train_served(out: Path, epochs: int) -> dict[str, object]:
    """The served photo model: every tagged photo, the fields the app has (no captions), a user
    token; writes ``weights.npz`` (fp16, all but the frozen word table) and ``config.json``."""
    from trainer.models import create
    from trainer.models.sog_encoder import tag_text_embeddings
    from trainer.models.torch_util import to_numpy

    data = photo_posts(data_dir(), captions=False)
    cfg = dict(SERVED_CONFIG, epochs=epochs)
    model = create("sog_1toM", **cfg)
    t0 = time.perf_counter()
    model.fit(data, seed=0, tag_emb=tag_text_embeddings(data.tags))  # type: ignore[call-arg]
    seconds = round(time.perf_counter() - t0, 1)
    if not distributed.is_main():  # under torchrun every rank holds the same model: one writes
        return {}
    weights = {k: v.astype(np.float16) for k, v in to_numpy(model.net).items()  # type: ignore
               if k != "bert.embeddings.word_embeddings.weight"}
    out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out / "weights.npz", **weights)
    meta = {"version": time.strftime("%Y%m%d"), "config": model.config, "tags": data.tags,
            "users": data.users,
            "training": {"data": "coco-val2017-283 (image words) + flickr-hucvl-summary-set "
                                 "(place, time, title + description)",
                         "posts": len(data.items), "tags": data.n_tags, "seconds": seconds,
                         "command": f"python -m trainer.sog_photos train --epochs {epochs}",
                         **model.fit_info_}}  # type: ignore[attr-defined]
    (out / "config.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    return meta


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m trainer.sog_photos", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("ablation", help="context ablation (paper Table 4)")
    a.add_argument("--seeds", type=int, default=1)
    a.add_argument("--epochs", type=int, default=SOG_CONFIG["epochs"])
    a.add_argument("--max-context", type=int, default=SOG_CONFIG["max_context"])
    a.add_argument("--extras", action="store_true",
                   help="also the user token and the served model's fields")
    a.add_argument("--json", required=True)
    t = sub.add_parser("train", help="train the served photo model")
    t.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1]
                   / "resources" / "sog-photos")
    t.add_argument("--epochs", type=int, default=SERVED_CONFIG["epochs"])
    args = p.parse_args(argv)
    if args.cmd == "train":  # torchrun --nproc_per_node N -m trainer.sog_photos train: DDP
        distributed.init()
        try:
            meta = train_served(args.out, args.epochs)
        finally:
            distributed.close()
        if meta:
            print(json.dumps(meta["training"], indent=1))
    if args.cmd == "ablation":
        out = ablation(args)
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
