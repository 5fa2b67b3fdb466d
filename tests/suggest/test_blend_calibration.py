"""The personal blend's percentages are calibrated on the held-out items (ranker.calibrate)."""

from __future__ import annotations

import numpy as np

from tagassist.suggest.ranker import (
    CALIBRATION_ITEMS,
    FEATURES,
    BlendWeights,
    Candidates,
    calibrate,
    calibrated,
    probabilities,
)


def over_confident_cases(n_items: int, seed: int = 0) -> tuple[BlendWeights,
                                                                list[tuple[Candidates,
                                                                           np.ndarray]]]:
    """Weights whose logit is 3x the true one: a tag shown at σ(z) is kept with σ(z / 3)."""
    rng = np.random.default_rng(seed)
    j = FEATURES.index("time")
    weights = BlendWeights({"bias": 0.0, "time": 3.0})
    cases = []
    for _ in range(n_items):
        x = np.zeros((30, len(FEATURES)))
        x[:, 0] = 1.0
        x[:, j] = rng.normal(0.0, 2.0, 30)
        kept = (rng.random(30) < 1.0 / (1.0 + np.exp(-x[:, j]))).astype(float)
        cases.append((Candidates([f"t{i}" for i in range(30)], x, [{}] * 30), kept))
    return weights, cases


def test_an_over_confident_blend_is_scaled_down_and_keeps_its_order():
    weights, cases = over_confident_cases(400)
    a, b = calibrate(weights, cases)
    assert 0.2 < a < 0.5 and abs(b) < 0.3  # the truth: a = 1/3, b = 0
    fixed = calibrated(weights, a, b, "personal")
    found, _ = cases[0]
    before, after = probabilities(weights, found.x), probabilities(fixed, found.x)
    assert (np.argsort(-before, kind="stable") == np.argsort(-after, kind="stable")).all()
    assert np.allclose(after, 1.0 / (1.0 + np.exp(-(a * (found.x @ weights.vector()) + b))))
    # what is shown near 90 % is now kept about as often as shown
    shown, kept = [], []
    for found, y in over_confident_cases(400, seed=1)[1]:
        p = probabilities(fixed, found.x)
        shown.append(p[(p > 0.8) & (p < 0.95)])
        kept.append(y[(p > 0.8) & (p < 0.95)])
    assert abs(np.concatenate(shown).mean() - np.concatenate(kept).mean()) < 0.05


def test_too_few_held_out_items_change_nothing():
    weights, cases = over_confident_cases(CALIBRATION_ITEMS - 1)
    assert calibrate(weights, cases) == (1.0, 0.0) == calibrate(weights, [])
    a, _b = calibrate(weights, over_confident_cases(CALIBRATION_ITEMS)[1])
    assert a < 1.0
