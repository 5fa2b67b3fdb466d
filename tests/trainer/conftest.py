"""Tiny synthetic tagging data shared by the trainer tests."""
from __future__ import annotations

import numpy as np
import pytest

from trainer.data import TagData, from_records


def synthetic(n_users: int = 12, n_items: int = 15, n_tags: int = 10, seed: int = 0) -> TagData:
    """Users with taste clusters tagging items; a few tags per post, day-level times."""
    rng = np.random.default_rng(seed)
    recs = []
    for u in range(n_users):
        for i in rng.choice(n_items, size=6, replace=False):
            k = int(rng.integers(1, 4))
            base = (u % 3) * 3 + (int(i) % 2)
            tags = {(base + int(x)) % n_tags for x in rng.integers(0, 3, size=k)}
            day = float(rng.integers(0, 30)) * 86400
            recs += [(f"u{u}", f"i{i}", f"t{t}", day) for t in sorted(tags)]
    return from_records(recs, {f"i{i}": f"item {i}" for i in range(n_items)}, name="synthetic")


@pytest.fixture
def tiny() -> TagData:
    return synthetic()
