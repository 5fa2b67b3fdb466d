"""Pinned evaluation protocols of ``../shared/docs/EVALUATION.md`` as seeded, deterministic splits.

- ``last-tag`` (DAE-PTR paper §5.2, Zhao et al.): for every post (u, i) its last tag by time is
  the test target; same-time ties are broken by a seeded random order, never by file order; the
  post's other tags stay in training and are the model's input (excluded from the ranking).
- ``last-post`` (Jäschke 2007 / TagRec): each user's latest post (users with >= 2 posts) is
  held out whole.
- ``random-post`` (SOG): 10 % of the posts at random are held out whole.
- ``per-tag`` (CSRW): for each tag, P posts carrying it keep it in training; its other
  assignments are test targets.  A test post's training tags are known (its inputs), so they
  are excluded from its ranking — as CTR/CDL rank only the unseen entries of the tag-item matrix.

:func:`validation_split` carves a validation split out of the *training* part with the same
protocol, for model selection that never sees the test targets.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trainer.data import TagData

PROTOCOLS = ("last-tag", "last-post", "random-post", "per-tag")


@dataclass
class Split:
    """Training assignments plus test cases (one per held-out post)."""

    train: TagData
    user: np.ndarray  # int64 [n_cases]
    item: np.ndarray
    time: np.ndarray  # reference time of each case (unix s)
    inputs: list[np.ndarray]  # tags the model is given (excluded from ranking)
    truth: list[np.ndarray]  # held-out tags
    protocol: str
    source: TagData | None = None  # the table that was split
    held_rows: list[np.ndarray] | None = None  # rows of ``source`` holding each case's truth

    def __len__(self) -> int:
        return int(self.user.shape[0])

    def subsample(self, n: int, seed: int) -> Split:
        """At most ``n`` cases, chosen at random (seeded), in their original order."""
        if len(self) <= n:
            return self
        keep = np.sort(np.random.default_rng(seed).choice(len(self), size=n, replace=False))
        train = self.train
        if self.source is not None and self.held_rows is not None:  # unchosen targets go back
            mask = np.ones(len(self.source), dtype=bool)
            for k in keep:
                mask[self.held_rows[k]] = False
            train = self.source.subset(mask)
        return Split(train, self.user[keep], self.item[keep], self.time[keep],
                     [self.inputs[k] for k in keep], [self.truth[k] for k in keep], self.protocol,
                     self.source, None if self.held_rows is None else
                     [self.held_rows[k] for k in keep])


def sample_test(s: Split, n: int, seed: int) -> Split:
    """At most ``n`` test cases chosen at random (seeded); the others are dropped, and their
    targets stay out of training (unlike :meth:`Split.subsample`, which returns them)."""
    if len(s) <= n:
        return s
    keep = np.sort(np.random.default_rng(seed + 11).choice(len(s), size=n, replace=False))
    return Split(s.train, s.user[keep], s.item[keep], s.time[keep],
                 [s.inputs[k] for k in keep], [s.truth[k] for k in keep], s.protocol, s.source,
                 None if s.held_rows is None else [s.held_rows[k] for k in keep])


def _groups(pid: np.ndarray, order: np.ndarray) -> list[np.ndarray]:
    """Split ``order`` (assignment indices sorted by post) into one array per post."""
    p = pid[order]
    cuts = np.flatnonzero(np.diff(p)) + 1
    return np.split(order, cuts)


def _make(data: TagData, train_mask: np.ndarray, cases: list[tuple[int, np.ndarray, np.ndarray]],
          pu: np.ndarray, pi: np.ndarray, ptime: np.ndarray, protocol: str,
          rows: list[np.ndarray]) -> Split:
    ids = np.array([c[0] for c in cases], dtype=np.int64)
    return Split(data.subset(train_mask), pu[ids], pi[ids], ptime[ids],
                 [c[1] for c in cases], [c[2] for c in cases], protocol, data, rows)


def split(data: TagData, protocol: str, seed: int = 0, per_tag_p: int = 10) -> Split:
    """Apply ``protocol`` to ``data`` (seeded, deterministic)."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; choose from {', '.join(PROTOCOLS)}")
    rng = np.random.default_rng(seed)
    pid, pu, pi = data.post_ids()
    n_posts = pu.size
    tiebreak = rng.permutation(len(data))
    order = np.lexsort((tiebreak, data.time, pid))  # by post, then time, then random
    groups = _groups(pid, order)
    train = np.ones(len(data), dtype=bool)
    cases: list[tuple[int, np.ndarray, np.ndarray]] = []
    if protocol == "last-tag":
        ptime = np.empty(n_posts)
        for p, g in enumerate(groups):
            last = g[-1]
            train[last] = False
            ptime[p] = data.time[last]
            cases.append((p, np.sort(data.tag[g[:-1]]), data.tag[last:last + 1].copy()))
        return _make(data, train, cases, pu, pi, ptime, protocol, [g[-1:] for g in groups])
    ptime = np.array([data.time[g].min() for g in groups]) if n_posts else np.empty(0)
    if protocol == "last-post":
        post_order = np.lexsort((rng.permutation(n_posts), ptime, pu))
        for ps in _groups(pu, post_order):
            if ps.size >= 2:
                cases.append((int(ps[-1]), np.empty(0, np.int64), None))  # type: ignore[arg-type]
    elif protocol == "random-post":
        n_test = max(1, int(round(0.1 * n_posts)))
        for p in np.sort(rng.permutation(n_posts)[:n_test]):
            cases.append((int(p), np.empty(0, np.int64), None))  # type: ignore[arg-type]
    if protocol in ("last-post", "random-post"):
        out = []
        for p, inp, _ in cases:
            train[groups[p]] = False
            out.append((p, inp, np.sort(data.tag[groups[p]])))
        return _make(data, train, out, pu, pi, ptime, protocol, [groups[c[0]] for c in out])
    # per-tag: P posts per tag keep the tag in training, the rest are test targets
    tag_order = np.lexsort((tiebreak, data.tag))
    for g in _groups(data.tag, tag_order):
        g = g[rng.permutation(g.size)]
        train[g[per_tag_p:]] = False
    test_rows = np.flatnonzero(~train)
    rows = []
    for g in (_groups(pid, test_rows[np.argsort(pid[test_rows], kind="stable")])
              if test_rows.size else []):
        p = int(pid[g[0]])
        known = groups[p][train[groups[p]]]  # the post's training tags: given, not ranked
        cases.append((p, np.unique(data.tag[known]), np.sort(data.tag[g])))
        rows.append(g)
    return _make(data, train, cases, pu, pi, ptime, protocol, rows)


def validation_split(train: TagData, protocol: str, seed: int = 0, max_cases: int = 5000,
                     per_tag_p: int = 10) -> Split:
    """The same protocol applied to the training part only (seed + 1), at most ``max_cases``.

    ``per-tag`` keeps half as many items per tag (P // 2): the training part has at most P per
    tag, so the same P would hold nothing out (and P = 1 leaves nothing to validate on); cases
    beyond ``max_cases`` are dropped rather than returned to training."""
    if protocol == "per-tag":  # unchosen cases are dropped: returning them would break P
        return sample_test(split(train, protocol, seed + 1, max(1, per_tag_p // 2)), max_cases,
                           seed + 1)
    return split(train, protocol, seed + 1, per_tag_p).subsample(max_cases, seed + 1)


def sample_candidates(s: Split, n_tags: int, n: int, seed: int = 0) -> np.ndarray:
    """For each case ``n - |truth|`` (>= 1) seeded random tags not in the post -> [cases, n-1].

    Rows are padded with -1 where fewer tags exist.  Used by ``--candidates N`` (the truth among
    itself and N-1 sampled negatives).
    """
    rng = np.random.default_rng(seed + 7)
    width = max(n - 1, 1)
    out = np.full((len(s), width), -1, dtype=np.int64)
    for r in range(len(s)):
        post = np.concatenate([s.inputs[r], s.truth[r]])
        k = max(n - s.truth[r].size, 1)
        pool_size = n_tags - np.unique(post).size
        k = min(k, pool_size, width)
        picked: set[int] = set()
        bad = set(post.tolist())
        while len(picked) < k:
            for t in rng.integers(0, n_tags, size=2 * k).tolist():
                if t not in bad and t not in picked:
                    picked.add(t)
                    if len(picked) == k:
                        break
        out[r, :k] = sorted(picked)
    return out
