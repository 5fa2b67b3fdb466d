"""Metrics against hand-computed examples (EVALUATION.md definitions)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from trainer.metrics import aggregate, post_metrics, truth_ranks

L2 = math.log2


def test_single_target_hit_and_ndcg():
    m = post_metrics([7, 3, 5, 1], [5])  # truth at rank 3
    assert m["hit@1"] == 0 and m["hit@3"] == 1 and m["hit@5"] == 1
    assert m["ndcg@3"] == pytest.approx(1 / L2(4)) and m["ndcg@1"] == 0
    assert m["mrr"] == pytest.approx(1 / 3)
    assert m["map@5"] == pytest.approx(1 / 3)  # P@3 * 1 / min(1, 5)


def test_multi_target_precision_recall_ndcg_map():
    # truth {a=1, b=2, c=3}; returned [1, 9, 2, 8, 7]: hits at ranks 1 and 3
    m = post_metrics([1, 9, 2, 8, 7], [1, 2, 3])
    assert m["p@5"] == pytest.approx(2 / 5) and m["r@5"] == pytest.approx(2 / 3)
    assert m["p@1"] == 1 and m["r@1"] == pytest.approx(1 / 3)
    idcg3 = 1 + 1 / L2(3) + 1 / L2(4)
    assert m["ndcg@5"] == pytest.approx((1 + 1 / L2(4)) / idcg3)
    assert m["ndcg@1"] == 1.0  # ideal over min(|truth|, 1) = 1
    assert m["map@5"] == pytest.approx((1 / 1 + 2 / 3) / 3)
    assert m["map@1"] == pytest.approx(1.0)  # / min(3, 1)
    assert m["f1post@5"] == pytest.approx(2 * 0.4 * (2 / 3) / (0.4 + 2 / 3))


def test_fewer_than_k_returned_keeps_k_in_denominator():
    m = post_metrics([4], [4, 5])
    assert m["p@5"] == pytest.approx(1 / 5) and m["p@10"] == pytest.approx(1 / 10)
    assert m["r@5"] == pytest.approx(1 / 2)
    assert m["map@10"] == pytest.approx(1 / 2)  # P@1 / min(2, 10)


def test_empty_prediction_scores_zero():
    m = post_metrics([], [1])
    assert all(v == 0 for v in m.values())


def test_aggregate_f1_is_of_means_and_averages_over_all_posts():
    # post A: truth {1}, returned [1]; post B: truth {2, 3}, returns nothing
    a = aggregate([np.array([1.0]), np.array([np.inf, np.inf])], [1, 2], ks=(1,))
    assert a["p@1"] == pytest.approx(0.5) and a["r@1"] == pytest.approx(0.5)
    assert a["f1@1"] == pytest.approx(0.5)
    assert a["f1post@1"] == pytest.approx(0.5)
    assert a["hit@1"] == pytest.approx(0.5) and a["mrr"] == pytest.approx(0.5)
    b = aggregate([np.array([2.0]), np.array([1.0, 4.0])], [1, 2], ks=(1,))
    # mean P@1 = .5, mean R@1 = (0 + .5)/2 = .25 -> F1 of means = 1/3; per-post mean = 1/3
    assert b["f1@1"] == pytest.approx(2 * 0.5 * 0.25 / 0.75)
    assert b["f1post@1"] == pytest.approx((0 + 2 * 1 * 0.5 / 1.5) / 2)


def test_truth_ranks_ties_inputs_and_candidates():
    scores = np.array([[0.5, 0.9, 0.5, 0.5, 0.1]])
    tiebreak = np.array([3, 0, 1, 0, 2])  # priority among equal scores: lower first
    # tag 0 ties with 2 and 3 (priorities 1, 0 ahead of 3): ranks after 1 -> 1 + 1 + 2 = 4
    assert truth_ranks(scores, [np.array([0])], [np.array([], int)], tiebreak)[0][0] == 4
    # input tag 1 excluded from the ranking
    assert truth_ranks(scores, [np.array([0])], [np.array([1])], tiebreak)[0][0] == 3
    # candidates {4, 3}: only tag 3 (tie, higher priority) is ahead
    r = truth_ranks(scores, [np.array([0])], [np.array([], int)], tiebreak,
                    candidates=np.array([[4, 3]]))
    assert r[0][0] == 2
    # a -inf score is "not returned"
    s2 = np.array([[-np.inf, 1, 1, 1, 1.0]])
    assert np.isinf(truth_ranks(s2, [np.array([0])], [np.array([], int)], tiebreak)[0][0])


def test_vectorised_equals_list_definition():
    rng = np.random.default_rng(0)
    tb = rng.permutation(20)
    for _ in range(30):
        s = rng.integers(0, 4, size=(1, 20)).astype(float)  # many ties
        truth = rng.choice(20, size=int(rng.integers(1, 4)), replace=False)
        ranked = sorted(range(20), key=lambda t: (-s[0, t], tb[t]))
        ref = post_metrics(ranked, truth.tolist())
        got = aggregate(truth_ranks(s, [truth], [np.array([], int)], tb), [truth.size])
        for key, val in ref.items():
            assert got[key] == pytest.approx(val), key


def test_served_vectorized_hit_at_equals_truth_ranks():
    """served.hit_at ranks all rows at once; it must agree with truth_ranks, ties included."""
    from trainer.models.served import hit_at

    rng = np.random.default_rng(3)
    scores = rng.integers(0, 4, size=(200, 30)).astype(float)  # many ties
    truth = rng.integers(0, 30, size=200)
    inputs = [np.setdiff1d(rng.choice(30, size=rng.integers(0, 4), replace=False), [t])
              for t in truth]
    masked = np.zeros_like(scores, dtype=bool)
    for r, t in enumerate(inputs):
        masked[r, t] = True
    tiebreak = rng.permutation(30)
    ranks = truth_ranks(scores, [np.array([t]) for t in truth], inputs, tiebreak)
    for k in (1, 3, 5):
        assert hit_at(scores, truth, masked, tiebreak, k) == np.mean([r[0] <= k for r in ranks])
