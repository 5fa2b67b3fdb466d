"""CNN-PerMLP learns tags from content + user, is seeded, round-trips, fails loudly."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from trainer.data import TagData, from_records
from trainer.models import REGISTRY, Batch, ModelFitError, create
from trainer.models.cnn_permlp import CNNPerMLP

SMALL = {"hidden": 32, "epochs": 3, "batch_size": 32, "n_neg": 8}


def content_and_user(n_items: int = 160, n_users: int = 6, n_clusters: int = 5, dim: int = 24,
                     held_out: int = 40, seed: int = 0
                     ) -> tuple[TagData, np.ndarray, np.ndarray, np.ndarray, list[np.ndarray]]:
    """Photos whose tags follow from what they show *and* who tags them.

    Each photo belongs to one visual cluster (a noisy cluster center, shifted and scaled like
    non-negative CNN features) and one owner.  Owners in group A name cluster c ``a<c>``,
    owners in group B name it ``b<c>``; every owner also adds a personal tag ``me<u>`` to
    the photos of their favourite cluster.  Returns (train posts, features [n_items, dim],
    held-out items, their owners, their tags).
    """
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(n_clusters, dim)) * 2.0
    cluster = rng.integers(0, n_clusters, size=n_items)
    owner = rng.integers(0, n_users, size=n_items)
    feats = centers[cluster] + rng.normal(scale=0.7, size=(n_items, dim))
    feats = (np.abs(feats) * rng.uniform(0.05, 3.0, size=dim) + 1.0).astype(np.float32)
    names = []
    for i in range(n_items):
        u = int(owner[i])
        tags = [f"{'ab'[u % 2]}{cluster[i]}"]
        if cluster[i] == u % n_clusters:
            tags.append(f"me{u}")
        names.append(tags)
    test = np.arange(n_items - held_out, n_items)
    recs = [(f"u{owner[i]}", f"i{i}", t, 0.0) for i in range(n_items) for t in names[i]]
    # every item, user and tag exists in the index spaces; held-out posts are dropped below
    full = from_records(recs, name="content+user")
    items = np.array([full.items.index(f"i{i}") for i in range(n_items)])
    order = np.argsort(items)  # feature row k belongs to full.items[k]
    train = full.subset(~np.isin(full.item, items[test]))
    truth = [np.array([full.tags.index(t) for t in names[i]]) for i in test]
    users = np.array([full.users.index(f"u{owner[i]}") for i in test])
    return train, feats[order], items[test], users, truth


def _batch(users: np.ndarray, items: np.ndarray) -> Batch:
    return Batch(users, items, np.zeros(users.size), [np.empty(0, np.int64)] * users.size)


def _hits(scores: np.ndarray, truth: list[np.ndarray]) -> np.ndarray:
    """Per case: are the top-|truth| tags exactly the true ones?"""
    return np.array([set(np.argsort(-s)[:t.size]) == set(t)
                     for s, t in zip(scores, truth, strict=True)])


def test_learns_tags_from_content_and_user():
    train, feats, items, users, truth = content_and_user()
    # defaults but batch 64 (half the steps; over 6 data seeds 0.85-0.95, at batch 32 0.92-1.0)
    m = CNNPerMLP(item_features=feats, epochs=40, batch_size=64).fit(train, seed=0)
    hits = _hits(m.score(_batch(users, items)), truth)
    # 10 cluster names + 6 personal tags: chance of exactly the true 1-2 on top is <= 1/16
    assert hits.mean() >= 0.8, hits
    # the user matters: scored for an owner of the other group, the same photos do not get
    # their owner's names (the content alone cannot tell "a3" from "b3")
    other = np.array([train.users.index(f"u{(int(train.users[u][1:]) + 1) % 6}")
                      for u in users])
    assert _hits(m.score(_batch(other, items)), truth).mean() <= 0.2


def test_seeded_determinism_and_save_load(tmp_path: Path):
    train, feats, items, users, _ = content_and_user(n_items=60, held_out=10)
    a = CNNPerMLP(item_features=feats, **SMALL).fit(train, seed=3)
    b = CNNPerMLP(item_features=feats, **SMALL).fit(train, seed=3)
    c = CNNPerMLP(item_features=feats, **SMALL).fit(train, seed=4)
    batch = _batch(users, items)
    assert np.array_equal(a.score(batch), b.score(batch))
    assert not np.array_equal(a.score(batch), c.score(batch))
    a.save(tmp_path / "m")
    assert not list((tmp_path / "m").glob("*.pkl"))
    loaded = CNNPerMLP.load(tmp_path / "m")
    assert np.array_equal(loaded.score(batch), a.score(batch))
    assert np.array_equal(loaded.item_features, feats)


def test_partial_fit_users_changes_only_their_rows():
    train, feats, items, users, _ = content_and_user(n_items=60, held_out=10)
    m = CNNPerMLP(item_features=feats, **SMALL).fit(train, seed=0)
    before = {k: v.copy() for k, v in m.state().items()}
    m.partial_fit_users(train, np.array([1, 4]), epochs=3)
    after = m.state()
    changed = np.abs(after["v.weight"] - before["v.weight"]).max(axis=1) > 0
    assert changed[[1, 4]].all() and not changed[[0, 2, 3, 5]].any()
    for k in before:
        if k != "v.weight":
            assert np.array_equal(before[k], after[k]), k


def test_unknown_user_gets_no_user_term():
    train, feats, items, _, _ = content_and_user(n_items=60, held_out=10)
    m = CNNPerMLP(item_features=feats, **SMALL).fit(train, seed=0)
    unknown = m.score(_batch(np.array([-1, m.n_users, -5]), items[:3]))
    known = m.score(_batch(np.array([0, 1, 2]), items[:3]))
    m.net.v.weight.data.zero_()  # V·κ_u = 0 for everyone
    assert np.allclose(unknown, m.score(_batch(np.array([0, 1, 2]), items[:3])), atol=1e-6)
    assert not np.allclose(unknown, known)


@pytest.mark.parametrize("how", ["lr", "nan_features"])
def test_divergence_raises_model_fit_error(how):
    train, feats, *_ = content_and_user(n_items=60, held_out=10)
    if how == "nan_features":
        feats = feats.copy()
        feats[3, 5] = np.nan
        m = CNNPerMLP(item_features=feats, **SMALL)
    else:
        # (lr 1e10 only kills every ReLU: a constant loss of ln 2, finite)
        m = CNNPerMLP(item_features=feats, **dict(SMALL, lr=1e20))
    with pytest.raises(ModelFitError, match="diverged"):
        m.fit(train, seed=0)


def test_needs_item_features_and_is_registered():
    assert REGISTRY["cnn_permlp"] is CNNPerMLP
    train, *_ = content_and_user(n_items=30, held_out=5)
    with pytest.raises(ModelFitError, match="cnn_permlp needs item features"):
        create("cnn_permlp").fit(train)
    with pytest.raises(ValueError, match="bpr_on"):
        CNNPerMLP(bpr_on="hinge")
