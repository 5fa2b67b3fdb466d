"""Personalization pieces on small synthetic data: feedback, growing tables, the guarded
update, and the replay protocol end to end through its command line (a generic posts TSV)."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

from trainer import replay
from trainer.data import TagData, from_records
from trainer.models import create
from trainer.models.base import remap_rows
from trainer.models.feedback import Feedback
from trainer.personalize import acceptance, guarded_update, suggest_scores, top_k

SMALL = {"k": 16, "epochs": 30, "batch_size": 64, "personal_steps": 30}


def personal_world(n_users: int = 40, n_items: int = 60, n_tags: int = 30, posts: int = 30,
                   seed: int = 0) -> TagData:
    """Items carry a topic tag (shared knowledge); each user also adds one of 3 personal tags
    of their own group to every post — the part only personalization can learn."""
    rng = np.random.default_rng(seed)
    recs = []
    for u in range(n_users):
        own = [10 + (u % 5) * 4 + k for k in range(3)]
        for n, i in enumerate(rng.choice(n_items, size=posts, replace=False)):
            tags = {int(i) % 10, int(rng.choice(own))}
            recs += [(f"u{u:02d}", f"i{i:02d}", f"t{t:02d}", float(n * 86400)) for t in tags]
    return from_records(recs, name="world")


def test_feedback_pairs_positives_with_rejections():
    d = from_records([("a", "x", "t1", 0.0), ("a", "x", "t2", 0.0), ("b", "y", "t3", 0.0)])
    rej = TagData(np.array([0, 0, 0]), np.array([0, 0, 1]), np.array([0, 2, 2]),
                  np.zeros(3), d.users, d.items, d.tags)  # t1 rejected *and* given: ignored
    fb = Feedback.build(d, np.array([0]), rej, d.n_tags)
    assert len(fb) == 2  # post (a, x) and (a, y): a rejection alone makes a post
    assert sorted(fb.inputs[0].tolist()) == [0, 1] and fb.inputs[1].size == 0
    assert fb.rej_rows.tolist() == [0, 1] and fb.rej_cols.tolist() == [2, 2]
    # pairs: (t1, t3) and (t2, t3) on post 0; post 1 has no positive
    assert sorted(fb.pair_pos.tolist()) == [0, 1] and fb.pair_rej.tolist() == [2, 2]
    w = fb.rejection_weights(d.n_tags, 4.0)
    assert w[0, 2] == 4.0 and w[0, 0] == 1.0


@pytest.mark.parametrize("name", ["dae_ptr", "cnn_permlp"])
def test_remap_rows_keeps_known_rows_and_starts_new_ones_fresh(name):
    d = personal_world(n_users=6, posts=10)
    extra = {"item_features": np.random.default_rng(0).normal(size=(d.n_items, 4))} \
        if name == "cnn_permlp" else {}
    config = {"k": 8, "epochs": 2} if name == "dae_ptr" else {"hidden": 8, "epochs": 2}
    m = create(name, **config, **extra).fit(d, seed=0)
    before, low = m.state(), m.fresh_bias()
    tag_index = np.array([3, -1, 0], np.int64)
    user_index = np.array([-1, 2], np.int64)
    remap_rows(m, tag_index, user_index)
    after = m.state()
    assert m.n_tags == 3 and m.n_users == 2
    for key in m.tag_params:
        assert np.array_equal(after[key][[0, 2]], before[key][[3, 0]])
        fresh = after[key][1]
        assert np.allclose(fresh, low if before[key].ndim == 1 else 0.0)
    for key in m.user_params:
        assert np.array_equal(after[key][1], before[key][2]) and not after[key][0].any()
    # the fresh tag is never suggested before it is learnt
    items = np.arange(d.n_items)
    scores = suggest_scores(m, 1, items)
    assert (scores[:, 1] < np.delete(scores, 1, axis=1).min(axis=1)).all()


def test_partial_fit_learns_a_users_own_tags_and_leaves_others_alone():
    d = personal_world()
    m = create("dae_ptr", **SMALL).fit(d.subset(d.user != 0), seed=0)
    items = np.unique(d.item[d.user == 0])
    truth = [np.unique(d.tag[(d.user == 0) & (d.item == i)]) for i in items]
    before = acceptance(top_k(suggest_scores(m, 0, items)), truth).mean()
    other = suggest_scores(m, 1, items)
    m.partial_fit_users(d, np.array([0]))
    after = acceptance(top_k(suggest_scores(m, 0, items)), truth).mean()
    assert after > before + 0.05, (before, after)
    assert np.allclose(other, suggest_scores(m, 1, items), atol=1e-6)  # user rows only


def test_the_sampled_objective_learns_too():
    """Over ``personal_logits`` the cross-entropy is sampled (600 rare tags make it so)."""
    d = personal_world()
    rng = np.random.default_rng(1)
    recs = [(d.users[u], d.items[i], d.tags[t], s) for u, i, t, s in
            zip(d.user, d.item, d.tag, d.time, strict=True)]
    recs += [(f"u{u:02d}", f"i{i:02d}", f"rare{t}", 0.0) for t in range(600)
             for u, i in [(int(rng.integers(1, 40)), int(rng.integers(0, 60)))]]
    d = from_records(recs, name="world+rare")
    u0 = d.users.index("u00")
    m = create("dae_ptr", **{**SMALL, "personal_logits": 1000}).fit(d.subset(d.user != u0))
    items = np.unique(d.item[d.user == u0])
    truth = [np.unique(d.tag[(d.user == u0) & (d.item == i)]) for i in items]
    before = acceptance(top_k(suggest_scores(m, u0, items)), truth).mean()
    m.partial_fit_users(d, np.array([u0]))
    after = acceptance(top_k(suggest_scores(m, u0, items)), truth).mean()
    assert after > before + 0.05, (before, after)


def test_rejections_push_a_tag_down():
    """The same fit with and without rejections of one tag the user never uses."""
    d = personal_world()
    m = create("dae_ptr", **SMALL).fit(d.subset(d.user != 0), seed=0)
    mine = d.subset(d.user == 0)
    items = np.unique(mine.item)
    mean = suggest_scores(m, 0, items).mean(axis=0)
    mean[np.unique(mine.tag)] = -np.inf
    shown = int(np.argmax(mean))  # suggested high, never the user's: rejected on every post
    rej = TagData(np.zeros(items.size, np.int64), items, np.full(items.size, shown),
                  np.zeros(items.size), d.users, d.items, d.tags)

    def rank(model) -> float:
        s = suggest_scores(model, 0, items)
        return float((s > s[:, [shown]]).sum(axis=1).mean())

    plain = copy.deepcopy(m).partial_fit_users(mine, np.array([0]))
    taught = copy.deepcopy(m).partial_fit_users(mine, np.array([0]), rejected=rej)
    assert rank(taught) > rank(plain) + 1, (rank(plain), rank(taught))


# 1e30 saturates the user vector (a worse model); 1e38 overflows float32 inside Adam (diverged)
@pytest.mark.parametrize(("lr", "reason"), [(1e30, "worse"), (1e38, "diverged")])
def test_guarded_update_keeps_the_previous_model_when_training_blows_up(lr, reason):
    d = personal_world()
    m = create("dae_ptr", **{**SMALL, "personal_lr": lr}).fit(d, seed=0)
    holdout = np.unique(d.item[d.user == 0])[-5:]
    kept, report = guarded_update(m, d, 0, holdout=holdout)
    assert kept is m and report.kept == "previous" and reason in report.reason
    assert np.isfinite(suggest_scores(kept, 0, holdout)).all()


def test_guarded_update_publishes_a_better_candidate_with_new_tags():
    d = personal_world()
    base = d.subset(d.user != 0)
    m = create("dae_ptr", **SMALL).fit(base, seed=0)
    counts = np.bincount(base.tag, minlength=d.n_tags)
    remap_rows(m, np.where(counts > 0, np.arange(d.n_tags), -1), np.arange(d.n_users))
    mine = d.subset(d.user == 0)
    items = np.unique(mine.item)
    used = np.unique(mine.tag)
    new, report = guarded_update(m, mine, 0, holdout=items[-10:],
                                 new_tags=used[counts[used] == 0])
    assert report.kept == "candidate" and report.after >= report.before
    assert new is not m


def _write_tsv(d: TagData, path: Path) -> None:
    lines = ["user\titem\ttag\ttime"]
    lines += [f"{d.users[u]}\t{d.items[i]}\t{d.tags[t]}\t{int(s)}"
              for u, i, t, s in zip(d.user, d.item, d.tag, d.time, strict=True)]
    path.write_text("\n".join(lines) + "\n")


def test_replay_command_on_a_generic_tsv(tmp_path):
    """Users 0-4 have 70 posts each; personalization must beat the unpersonalized model on
    posts 51-70 (each user's own tags are invisible to a model that does not know them)."""
    d = personal_world(n_users=25, n_items=80, posts=20)
    long = personal_world(n_users=5, n_items=80, posts=70, seed=1)
    recs = [(d.users[u], d.items[i], d.tags[t], s) for u, i, t, s in
            zip(d.user, d.item, d.tag, d.time, strict=True)]
    recs += [("long" + long.users[u], long.items[i], long.tags[t], s) for u, i, t, s in
             zip(long.user, long.item, long.tag, long.time, strict=True)]
    path = tmp_path / "posts.tsv"
    _write_tsv(from_records(recs, name="mixed"), path)
    out, png = tmp_path / "r.json", tmp_path / "r.png"
    code = replay.main(["--data", str(path), "--users", "5", "--min-posts", "60",
                        "--retrain-every", "10", "--config",
                        json.dumps({"k": 16, "epochs": 20, "batch_size": 64}),
                        "--json", str(out), "--plot", str(png)])
    assert code == 0
    r = json.loads(out.read_text())
    assert r["users"] == 5 and png.stat().st_size > 1000
    for s in ("personalized", "baseline"):
        assert {"acceptance@5", "recall@5", "windows", "per_user"} <= set(r[s])
        assert len(r[s]["per_user"]) == 5 and r[s]["windows"][0]["posts"] == "1-10"
    assert r["personalized"]["acceptance@5"] > 1.2 * r["baseline"]["acceptance@5"]
    assert r["comparison"]["users_improved"] >= 4


def test_replay_says_when_no_user_has_enough_posts(tmp_path, capsys):
    path = tmp_path / "posts.tsv"
    _write_tsv(personal_world(n_users=3, posts=5), path)
    assert replay.main(["--data", str(path), "--json", str(tmp_path / "r.json")]) == 2
    assert "60 or more posts" in capsys.readouterr().err
