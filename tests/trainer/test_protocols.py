from __future__ import annotations

import numpy as np
import pytest

from trainer.data import from_records
from trainer.protocols import sample_candidates, split, validation_split


def _same(a, b):
    return (np.array_equal(a.user, b.user) and all(np.array_equal(x, y) for x, y in
            zip(a.truth, b.truth, strict=True)) and np.array_equal(a.train.tag, b.train.tag))


@pytest.mark.parametrize("protocol", ["last-tag", "last-post", "random-post", "per-tag"])
def test_protocols_deterministic_and_disjoint(tiny, protocol):
    a, b = split(tiny, protocol, seed=3, per_tag_p=2), split(tiny, protocol, seed=3, per_tag_p=2)
    assert _same(a, b) and len(a) > 0
    tr_ = a.train
    train = set(zip(tr_.user.tolist(), tr_.item.tolist(), tr_.tag.tolist(), strict=True))
    n_test = 0
    for u, i, inp, tr in zip(a.user, a.item, a.inputs, a.truth, strict=True):
        assert not set(inp.tolist()) & set(tr.tolist())
        for t in tr:
            assert (u, i, t) not in train
        for t in inp:
            assert (u, i, t) in train
        n_test += tr.size
    assert len(a.train) + n_test == len(tiny)


def test_last_tag_ties_are_random_not_file_order():
    # one post, three tags at the same time: the held-out tag varies with the seed
    recs = [("u", "i", t, 5.0) for t in "abc"] + [("u", "j", "a", 1.0), ("u", "j", "z", 9.0)]
    d = from_records(recs)
    held = {d.tags[int(split(d, "last-tag", seed=s).truth[0][0])] for s in range(20)}
    assert held == {"a", "b", "c"}
    s = split(d, "last-tag", seed=0)
    assert d.tags[int(s.truth[1][0])] == "z"  # strictly later tag always wins
    assert [d.tags[t] for t in s.inputs[1]] == ["a"]


def test_last_post_holds_latest_post_of_users_with_two():
    recs = [("u", "old", "a", 1.0), ("u", "new", "b", 2.0), ("u", "new", "c", 2.0),
            ("v", "only", "a", 3.0)]
    d = from_records(recs)
    s = split(d, "last-post")
    assert len(s) == 1 and d.items[int(s.item[0])] == "new"
    assert sorted(d.tags[t] for t in s.truth[0]) == ["b", "c"]


def test_validation_split_never_sees_test_targets(tiny):
    s = split(tiny, "last-tag", seed=0)
    v = validation_split(s.train, "last-tag", seed=0)
    test = {(int(u), int(i), int(t[0])) for u, i, t in zip(s.user, s.item, s.truth, strict=True)}
    for u, i, t in zip(v.user, v.item, v.truth, strict=True):
        assert (int(u), int(i), int(t[0])) not in test
    assert len(v.train) + len(v) == len(s.train)
    small = validation_split(s.train, "last-tag", seed=0, max_cases=5)
    assert len(small) == 5 and len(small.train) + 5 == len(s.train)  # the rest go back


def test_candidates_exclude_post_tags(tiny):
    s = split(tiny, "last-tag", seed=0)
    c = sample_candidates(s, tiny.n_tags, 5, seed=0)
    assert c.shape == (len(s), 4)
    for r in range(len(s)):
        row = c[r][c[r] >= 0]
        assert not set(row.tolist()) & (set(s.inputs[r].tolist()) | set(s.truth[r].tolist()))
    assert np.array_equal(c, sample_candidates(s, tiny.n_tags, 5, seed=0))
