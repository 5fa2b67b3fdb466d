"""Train the served document ranker into ``resources/doc-ranker`` (committed, like sog-photos).

    python -m trainer.doc_ranker [--model csrw_t] [--config JSON] [--seed 0] [--out DIR]
    torchrun --nproc_per_node N -m trainer.doc_ranker ...   (DDP, trainer.distributed)

CiteULike titles with the tags of at least 5 articles (the CSRW paper's set).  10 % of the
articles (seeded) are held out whole: the model never sees them; a Platt map
P(tag is one of the article's) = σ(a · score + b) is fitted on their top-20 scores, and their
recall@10 / MAP are recorded in ``config.json`` (after the weights are rounded to float16, the
form that ships).  ``weights.npz`` holds the network; ``config.json`` the configuration, the
word and tag lists, the calibration and how it was made.  ``trainer.export.documents`` turns it
into ``models/doc-ranker`` (ONNX, parity-checked).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from trainer import datasets, distributed
from trainer.data import TagData, min_tag_items
from trainer.metrics import aggregate, truth_ranks
from trainer.models import Batch, create
from trainer.models.text_rankers import TextRankerBase

RESOURCE = Path(__file__).resolve().parents[1] / "resources" / "doc-ranker"
HELD_SHARE = 0.1
CALIBRATION_TOP = 20


def fit_platt(scores: np.ndarray, labels: np.ndarray, steps: int = 50) -> tuple[float, float]:
    """Logistic regression of ``labels`` on ``scores`` (Newton's method, two parameters)."""
    x = np.stack([scores, np.ones_like(scores)], axis=1).astype(np.float64)
    w = np.zeros(2)
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(x @ w)))
        grad = x.T @ (p - labels)
        hess = (x * (p * (1 - p))[:, None]).T @ x + 1e-9 * np.eye(2)
        w -= np.linalg.solve(hess, grad)
    return float(w[0]), float(w[1])


def held_out(data: TagData, seed: int) -> np.ndarray:
    """The held-out articles (seeded)."""
    items = np.unique(data.item)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(items, size=max(1, int(HELD_SHARE * items.size)), replace=False))


def to_float16(model: TextRankerBase) -> None:
    """Round the embedding tables to float16 in place — what ships."""
    import torch

    with torch.no_grad():
        for table in (model.net.U.weight, model.net.V.weight):
            table.copy_(table.half().float())


def evaluate_held(model: TextRankerBase, data: TagData, held: np.ndarray
                  ) -> tuple[dict[str, float], np.ndarray, np.ndarray]:
    """(metrics, top-20 scores, their labels) on the held-out articles."""
    truth = [np.unique(data.tag[data.item == i]) for i in held.tolist()]
    n = held.size
    scores = model.score(Batch(np.zeros(n, np.int64), held, np.zeros(n), [np.empty(0)] * n))
    tiebreak = np.random.default_rng(0).permutation(data.n_tags)
    ranks = truth_ranks(scores, truth, [np.empty(0, np.int64)] * n, tiebreak)
    metrics = aggregate(ranks, [t.size for t in truth], (1, 5, 10, 50))
    top = np.argsort(-scores, axis=1)[:, :CALIBRATION_TOP]
    labels = np.array([[t in set(tr.tolist()) for t in row] for row, tr in zip(top, truth,
                                                                              strict=True)])
    return metrics, np.take_along_axis(scores, top, axis=1).ravel(), labels.ravel().astype(float)


def train(model_name: str, config: dict[str, Any], seed: int, out: Path) -> dict[str, Any]:
    data = min_tag_items(datasets.load("citeulike"), 5)
    held = held_out(data, seed)
    t0 = time.perf_counter()
    model = create(model_name, **config)
    if not isinstance(model, TextRankerBase):
        raise SystemExit(f"{model_name} is not a document ranker")
    model.fit(data.subset(~np.isin(data.item, held)), seed=seed)
    fit_s = time.perf_counter() - t0
    if not distributed.is_main():  # under torchrun every rank holds the same model: one writes
        return {}
    to_float16(model)
    metrics, scores, labels = evaluate_held(model, data, held)
    a, b = fit_platt(scores, labels)
    return write_resource(model, list(data.tags), out, {
        "a": a, "b": b, "fitted_on": f"top {CALIBRATION_TOP} of {held.size} held-out articles"},
        {"data": "citeulike titles, tags of >= 5 articles", "seed": seed,
         "articles": int(np.unique(data.item).size - held.size),
         "held_out_articles": int(held.size), "fit_seconds": round(fit_s, 1),
         "held_out": {k: round(metrics[k], 4) for k in ("r@5", "r@10", "r@50", "map", "mrr",
                                                         "p@1")},
         "command": "python -m trainer.doc_ranker " + " ".join(sys.argv[1:])})


def write_resource(model: TextRankerBase, tags: list[str], out: Path,
                   calibration: dict[str, Any], training: dict[str, Any]) -> dict[str, Any]:
    """``weights.npz`` (float16 tables) and ``config.json`` of a fitted document ranker."""
    out.mkdir(parents=True, exist_ok=True)
    state = model.state()
    words = [str(w) for w in state.pop("words")]
    state.pop("item_text", None)  # the training articles' titles: not part of what ships
    arrays = {k: (v.astype(np.float16) if k in ("U.weight", "V.weight") else v)
              for k, v in state.items()}
    np.savez_compressed(out / "weights.npz", **arrays)
    meta = {"model": model.name, "config": model.config, "version": "1",
            "normalize_by_length": model.name != "awe", "words": words, "tags": list(tags),
            "calibration": calibration, "training": training}
    (out / "config.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n")
    return meta


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m trainer.doc_ranker", description=__doc__)
    p.add_argument("--model", default="csrw_t")
    p.add_argument("--config", default="{}", help="JSON config overrides")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=RESOURCE)
    args = p.parse_args(argv)
    distributed.init()
    try:
        meta = train(args.model, json.loads(args.config), args.seed, args.out)
    finally:
        distributed.close()
    if meta:
        print(json.dumps({k: meta[k] for k in ("model", "calibration", "training")}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
