"""Every ranker trains on tiny data, is deterministic, round-trips through npz+json."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from trainer.models import PLANNED, REGISTRY, Batch, ModelFitError, UnknownModelError, create
from trainer.models.popularity import BaseLevelLearning
from trainer.protocols import split

FAST = {"pitf": {"k": 8, "epochs": 3}, "dae_ptr": {"k": 8, "epochs": 3},
        "served": {"k": 8, "epochs": 3}, "cnn_permlp": {"hidden": 8, "epochs": 3},
        # one MiniLM layer, one epoch: the generic checks, not accuracy (tests/trainer/test_sog.py)
        **{n: {"layers": 1, "epochs": 1}
           for n in ("br", "sog_1toM", "sog_1to1", "ar_1to1", "ar_1toM")}}
# -inf for every tag they do not generate
SET_GENERATORS = {"sog_1toM", "sog_1to1", "ar_1to1", "ar_1toM"}


def _batch(s):
    return Batch(s.user, s.item, s.time, s.inputs)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_fit_score_save_load(tiny, name, tmp_path: Path):
    s = split(tiny, "last-tag", seed=0)
    # CNN-PerMLP ranks by content only: it gets (random, fixed) item features
    extra = {"item_features": np.random.default_rng(0).normal(size=(tiny.n_items, 5))} \
        if name == "cnn_permlp" else {}
    m = create(name, **FAST.get(name, {}), **extra).fit(s.train, seed=1)
    scores = m.score(_batch(s))
    assert scores.shape == (len(s), tiny.n_tags) and not np.isnan(scores).any()
    if name in SET_GENERATORS:
        generated = np.isfinite(scores).sum(axis=1)
        assert ((generated >= 1) & (generated <= 5)).all()
    else:
        assert np.isfinite(scores).all()
    again = create(name, **FAST.get(name, {}), **extra).fit(s.train, seed=1).score(_batch(s))
    assert np.array_equal(scores, again)  # same seed, same numbers
    m.save(tmp_path / name)
    assert not list((tmp_path / name).glob("*.pkl"))
    loaded = type(m).load(tmp_path / name)
    assert np.allclose(loaded.score(_batch(s)), scores)


def test_mp_ui_mix_and_user_popularity():
    from trainer.data import from_records
    d = from_records([("u", "a", "x", 0.0), ("u", "b", "x", 0.0), ("u", "b", "y", 0.0),
                      ("v", "c", "z", 0.0), ("v", "a", "z", 0.0)])
    b = Batch(np.array([0]), np.array([2]), np.array([0.0]), [np.array([], np.int64)])
    s_u = create("mp_u").fit(d).score(b)[0]
    assert s_u[0] > s_u[1] > s_u[2]  # x (2) > y (1) > z (0 for u, global fallback)
    s_ui = create("mp_ui", beta=0.0).fit(d).score(b)[0]
    assert np.argmax(s_ui) == 2  # item c only carries z


def test_bll_decays_with_time():
    from trainer.data import from_records
    day = 86400.0
    d = from_records([("u", "a", "old", 0.0), ("u", "b", "old", 0.0), ("u", "c", "new", 99 * day)])
    m = BaseLevelLearning().fit(d)
    a = m.activation(Batch(np.array([0]), np.array([0]), np.array([100 * day]),
                           [np.array([], np.int64)]))[0]
    # old: 2 * 101^-0.5 = 0.199 ; new: 2^-0.5 = 0.707 -> new wins despite fewer uses
    assert a[d.tags.index("new")] > a[d.tags.index("old")]
    assert a.sum() == pytest.approx(1.0)


def test_dae_ptr_learns_cooccurrence_and_takes_content(tiny):
    s = split(tiny, "last-tag", seed=0)
    m = create("dae_ptr", k=16, epochs=30, c=0.3).fit(s.train, seed=0)
    assert np.isfinite(m.score(_batch(s))).all()
    feats = np.random.default_rng(0).normal(size=(tiny.n_items, 5)).astype(np.float32)
    mc = REGISTRY["dae_ptr"](item_features=feats, k=8, epochs=2).fit(s.train, seed=0)
    assert mc.score(_batch(s)).shape == (len(s), tiny.n_tags)
    assert not hasattr(mc.net, "q")  # the content vector replaces the item embedding


def test_nan_raises_model_fit_error(tiny):
    s = split(tiny, "last-tag", seed=0)
    feats = np.full((tiny.n_items, 3), np.nan, dtype=np.float32)  # poisoned content vectors
    with pytest.raises(ModelFitError, match="diverged"):
        REGISTRY["dae_ptr"](item_features=feats, k=8, epochs=2).fit(s.train)


@pytest.mark.parametrize("name", ["pitf", "dae_ptr", "mp_u", "bll_c", "served"])
def test_partial_fit_users_touches_only_those_users(tiny, name):
    s = split(tiny, "last-tag", seed=0)
    m = create(name, **FAST.get(name, {})).fit(s.train, seed=0)
    before = m.score(_batch(s))
    users = np.array([0])
    m.partial_fit_users(s.train, users)
    after = m.score(_batch(s))
    other = s.user != 0
    if name == "bll_c":  # same posts -> unchanged
        assert np.allclose(before, after)
    else:
        assert np.allclose(before[other], after[other], atol=1e-6)


def test_unknown_names_fail_clearly():
    assert PLANNED == ()  # every name EVALUATION.md fixes is implemented
    with pytest.raises(UnknownModelError, match="not a known model.*mp_ui.*csrw_t"):
        create("nope")


def test_torch_threads_pinned(tiny):
    create("pitf", k=4, epochs=1).fit(split(tiny, "last-tag").train)
    assert torch.get_num_threads() == 2


def test_dae_ptr_epoch_cap_guarantees_min_steps(tiny):
    from trainer.models.dae_ptr import DAEPTR

    posts = np.unique(tiny.user * tiny.n_items + tiny.item).size
    need = -(-DAEPTR.MIN_STEPS // -(-posts // 4))  # epochs of batch 4 for MIN_STEPS steps
    assert create("dae_ptr", epochs=5, batch_size=4).epoch_cap(tiny) == 10  # at most doubled
    assert create("dae_ptr", epochs=need - 1, batch_size=4).epoch_cap(tiny) == need
    big = create("dae_ptr", epochs=10**6)
    assert big.epoch_cap(tiny) == 10**6  # never lowers the configured cap
