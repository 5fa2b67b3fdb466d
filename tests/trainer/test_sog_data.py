"""The order-freeness summary: per-order means and differences paired by seed."""
from __future__ import annotations

import pytest

from trainer.models.sog_data import order_summary


def test_order_summary_pairs_the_orders_by_seed():
    def run(order, seed, p1, r5):
        return {"order": order, "seed": seed, "p@1": p1, "r@5": r5}

    runs = [run("file order", 0, 0.50, 0.20), run("shuffled once", 0, 0.51, 0.21),
            run("file order", 1, 0.40, 0.10), run("shuffled once", 1, 0.43, 0.12),
            run("reshuffled every epoch", 1, 0.45, 0.15)]
    out = order_summary(runs)
    once = out["shuffled once - file order"]
    assert once["seeds"] == [0, 1]
    assert once["p@1"]["per seed"] == pytest.approx([0.01, 0.03])
    assert once["p@1"]["mean"] == pytest.approx(0.02) and once["p@1"]["std"] == pytest.approx(0.01)
    every = out["reshuffled every epoch - shuffled once"]
    assert every["seeds"] == [1] and every["r@5"]["per seed"] == pytest.approx([0.03])
    assert out["summary"]["file order"]["p@1"]["mean"] == pytest.approx(0.45)
    assert out["summary"]["reshuffled every epoch"]["seeds"] == 1
