"""How the personal job judges a model: scores for new photos, the ranking metrics, the
user's most frequent tags as the baseline, and Platt calibration of the scores."""
from __future__ import annotations

import numpy as np

from trainer.data import TagData
from trainer.metrics import aggregate, truth_ranks
from trainer.models.base import Batch, TagModel


def content_scores(model: TagModel, user: int, items: np.ndarray) -> np.ndarray:
    """Scores of every tag for new photos (no input tags), [len(items), n_tags]."""
    batch = Batch(np.full(items.size, user, np.int64), items, np.zeros(items.size),
                  [np.empty(0, np.int64)] * items.size)
    return np.asarray(model.score(batch), np.float64)


def measure(scores: np.ndarray, truth: list[np.ndarray], seed: int = 0) -> dict[str, float]:
    tiebreak = np.random.default_rng(seed).permutation(scores.shape[1])
    ranks = truth_ranks(scores, truth, [np.empty(0, np.int64)] * len(truth), tiebreak)
    m = aggregate(ranks, [t.size for t in truth], (1, 3, 5, 10))
    return {k: round(m[k], 4) for k in ("p@5", "r@5", "f1@5", "hit@1", "hit@3")}


def popularity_scores(train: TagData, user: int, n_rows: int) -> np.ndarray:
    """MP-u: the user's tag counts, the same for every photo."""
    counts = np.bincount(train.tag[train.user == user], minlength=train.n_tags).astype(float)
    return np.tile(counts, (n_rows, 1))


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
