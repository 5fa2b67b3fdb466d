"""Ranking metrics exactly as pinned in ``../shared/docs/EVALUATION.md`` ("Metric definitions").

- P@K = hits in top K / K (K even if fewer are returned); R@K = hits / |truth|.
- F1@K = harmonic mean of *mean* P@K and *mean* R@K (TagRec convention); ``f1post@K`` is the
  mean per-post F1.
- nDCG@K: binary gains, ideal DCG over min(|truth|, K) relevant items.
- MAP@K = sum_{i<=K} P@i * rel_i / min(|truth|, K); MRR = 1 / rank of the first hit.
- Hit@N = 1 if any true tag is in the top N; with one true tag (DAE-PTR's ``last-tag``) NDCG@N
  is 1 / log2(rank + 1).
Averages run over **all** test posts; a post whose truth is not returned scores 0.

Everything is computed from the 1-based ranks of the true tags (``inf`` = not returned), so one
vectorised path serves full ranking and sampled candidates; :func:`post_metrics` is the literal
per-list definition the tests compare it against.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

KS = (1, 3, 5, 10)


def post_metrics(ranked: Sequence[int], truth: Iterable[int], ks: Sequence[int] = KS
                 ) -> dict[str, float]:
    """Metrics of one post from its returned list (best first) and true tags."""
    truth = set(truth)
    ranks = [r + 1 for r, t in enumerate(ranked) if t in truth]
    return _from_ranks(np.array(ranks, dtype=float), len(truth), ks)


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and (population) standard deviation over seeds, rounded for reports."""
    v = np.asarray(values, dtype=float)
    return round(float(v.mean()), 4), round(float(v.std()), 4)


def _from_ranks(ranks: np.ndarray, n_truth: int, ks: Sequence[int]) -> dict[str, float]:
    ranks = np.sort(ranks[np.isfinite(ranks)])
    out: dict[str, float] = {}
    for k in ks:
        hit_r = ranks[ranks <= k]
        h = hit_r.size
        out[f"hit@{k}"] = float(h > 0)
        out[f"p@{k}"] = h / k
        out[f"r@{k}"] = h / n_truth if n_truth else 0.0
        p, r = out[f"p@{k}"], out[f"r@{k}"]
        out[f"f1post@{k}"] = 2 * p * r / (p + r) if p + r > 0 else 0.0
        ideal = np.sum(1.0 / np.log2(np.arange(2, min(n_truth, k) + 2)))
        out[f"ndcg@{k}"] = float(np.sum(1.0 / np.log2(hit_r + 1)) / ideal) if ideal > 0 else 0.0
        prec_at_hits = np.arange(1, h + 1) / hit_r  # P@i at each relevant position i
        denom = min(n_truth, k)
        out[f"map@{k}"] = float(prec_at_hits.sum() / denom) if denom else 0.0
    out["mrr"] = float(1.0 / ranks[0]) if ranks.size else 0.0
    # MAP without a cut-off (CSRW's): mean over the true tags of the precision at their rank
    out["map"] = float((np.arange(1, ranks.size + 1) / ranks).sum() / n_truth) if n_truth else 0.0
    return out


def aggregate(all_ranks: Sequence[np.ndarray], n_truth: Sequence[int],
              ks: Sequence[int] = KS) -> dict[str, float]:
    """Mean over all posts, plus F1@K of mean P@K and mean R@K (TagRec)."""
    if not all_ranks:
        return {}
    rows = [_from_ranks(np.asarray(r, dtype=float), n, ks)
            for r, n in zip(all_ranks, n_truth, strict=True)]
    out = {key: float(np.mean([row[key] for row in rows])) for key in rows[0]}
    for k in ks:
        p, r = out[f"p@{k}"], out[f"r@{k}"]
        out[f"f1@{k}"] = 2 * p * r / (p + r) if p + r > 0 else 0.0
    return out


def truth_ranks(scores: np.ndarray, truths: Sequence[np.ndarray], inputs: Sequence[np.ndarray],
                tiebreak: np.ndarray, candidates: np.ndarray | None = None) -> list[np.ndarray]:
    """1-based rank of each true tag among the ranked tags of its row (``inf`` if not returned).

    Input tags are excluded; with ``candidates`` only those tags (and the truth) are ranked.
    Equal scores are ordered by ``tiebreak`` (a seeded random priority per tag, lower first), so
    ties never favour low tag ids.  A score of ``-inf`` or NaN means "not returned".
    """
    n, n_tags = scores.shape
    out: list[np.ndarray] = []
    for r in range(n):
        s = np.nan_to_num(scores[r].astype(np.float64), nan=-np.inf, posinf=np.finfo(float).max,
                          neginf=-np.inf)
        if candidates is None:
            valid = np.ones(n_tags, dtype=bool)
            valid[inputs[r]] = False
        else:
            valid = np.zeros(n_tags, dtype=bool)
            c = candidates[r]
            valid[c[c >= 0]] = True
        valid &= np.isfinite(s)
        t = truths[r]
        st, bt = s[t][:, None], tiebreak[t][:, None]
        ahead = valid[None, :] & ((s[None, :] > st)
                                  | ((s[None, :] == st) & (tiebreak[None, :] < bt)))
        rk = ahead.sum(axis=1).astype(float) + 1.0
        rk[~np.isfinite(s[t])] = np.inf
        out.append(rk)
    return out
