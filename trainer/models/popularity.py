"""Popularity and time-aware baselines.

- ``mp``, ``mp_u``, ``mp_i``, ``mp_ui``: most popular tags overall / of the user / of the item,
  and MP-u,i = β·P(t|u) + (1−β)·P(t|i) (Jäschke et al. 2007, "most popular tags by user and
  resource"); β is chosen on the validation split.
- ``bll``, ``bll_c``: base-level learning equation of ACT-R (Kowald et al. 2014, TagRec):
  activation of tag t for user u is Σ_j (t_ref − t_j + 1)^−d over u's uses of t, d = 0.5, time in
  days; BLL+C mixes it 0.5/0.5 with the item's tag popularity, each normalised to sum 1 first.
  In ``last-tag`` a user's other posts may be later than the test post, so we use |t_ref − t_j|.
Every user/item score gets ``1e-6 ×`` global popularity added so that all-zero rows (cold users
or items) fall back to MP instead of a random order; this is documented, not tuned.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from trainer.data import TagData
from trainer.models.base import Batch, RowCounts, TagModel, no_check

EPS = 1e-6
DAY = 86400.0


class MostPopular(TagModel):
    name: ClassVar[str] = "mp"
    defaults: ClassVar[dict[str, Any]] = {}

    def fit(self, train: TagData, **_: Any) -> MostPopular:
        self._shape(train)
        c = np.bincount(train.tag, minlength=self.n_tags).astype(np.float64)
        self.global_ = c / max(c.sum(), 1.0)
        self.users_ = RowCounts(train.user, train.tag, None, self.n_users, self.n_tags)
        self.items_ = RowCounts(train.item, train.tag, None, self.n_items, self.n_tags)
        return self

    def partial_fit_users(self, posts: TagData, users: np.ndarray, epochs: int | None = None,
                          *, seed: int = 0, rejected: TagData | None = None,
                          new_tags: np.ndarray | None = None,
                          check: Callable[[], None] = no_check) -> MostPopular:
        """Replace the given users' tag counts with those in ``posts``.

        Counting has no steps, draws or rejections: ``epochs``, ``seed``, ``rejected`` and
        ``new_tags`` are not used (a new tag is counted like any other); ``check()`` once."""
        check()
        u = self.users_
        owner = np.repeat(np.arange(u.n_rows), np.diff(u.indptr))
        keep = ~np.isin(owner, users)
        m = np.isin(posts.user, users)
        self.users_ = RowCounts(np.concatenate([owner[keep], posts.user[m]]),
                                np.concatenate([u.col[keep], posts.tag[m]]),
                                np.concatenate([u.val[keep], np.ones(int(m.sum()))]),
                                self.n_users, self.n_tags)
        return self

    def _base(self, n: int) -> np.ndarray:
        return np.broadcast_to(self.global_, (n, self.n_tags)).copy()

    def score(self, batch: Batch) -> np.ndarray:
        return self._base(len(batch))

    def state(self) -> dict[str, np.ndarray]:
        return {"global": self.global_, **self.users_.state("users"),
                **self.items_.state("items")}

    def load_state(self, a: dict[str, np.ndarray]) -> None:
        self.global_ = a["global"]
        self.users_ = RowCounts.from_state(a, "users")
        self.items_ = RowCounts.from_state(a, "items")


class MostPopularUser(MostPopular):
    name: ClassVar[str] = "mp_u"

    def score(self, batch: Batch) -> np.ndarray:
        return self.users_.dense(batch.user, normalize=True) + EPS * self._base(len(batch))


class MostPopularItem(MostPopular):
    name: ClassVar[str] = "mp_i"

    def score(self, batch: Batch) -> np.ndarray:
        return self.items_.dense(batch.item, normalize=True) + EPS * self._base(len(batch))


class MostPopularUserItem(MostPopular):
    name: ClassVar[str] = "mp_ui"
    defaults: ClassVar[dict[str, Any]] = {"beta": 0.3}
    grid: ClassVar[list[dict[str, Any]]] = [{"beta": b / 10} for b in range(11)]

    def score(self, batch: Batch) -> np.ndarray:
        b = float(self.config["beta"])
        return (b * self.users_.dense(batch.user, normalize=True)
                + (1 - b) * self.items_.dense(batch.item, normalize=True)
                + EPS * self._base(len(batch)))


class BaseLevelLearning(MostPopular):
    """BLL (user's tags, time-decayed); ``item_weight`` > 0 adds the item's popularity (BLL+C)."""

    name: ClassVar[str] = "bll"
    defaults: ClassVar[dict[str, Any]] = {"d": 0.5, "item_weight": 0.0}

    def fit(self, train: TagData, **kw: Any) -> BaseLevelLearning:
        super().fit(train, **kw)
        self._index_users(train)
        return self

    def _index_users(self, train: TagData) -> None:
        order = np.argsort(train.user, kind="stable")
        self.u_tag_ = train.tag[order]
        self.u_day_ = train.time[order] / DAY
        self.u_ptr_ = np.concatenate([[0], np.cumsum(np.bincount(train.user,
                                                                 minlength=self.n_users))])

    def partial_fit_users(self, posts: TagData, users: np.ndarray, epochs: int | None = None,
                          *, seed: int = 0, rejected: TagData | None = None,
                          new_tags: np.ndarray | None = None,
                          check: Callable[[], None] = no_check) -> BaseLevelLearning:
        """The counts, and the users' tag times (the same unused arguments)."""
        super().partial_fit_users(posts, users, check=check)
        owner = np.repeat(np.arange(self.n_users), np.diff(self.u_ptr_))
        keep = ~np.isin(owner, users)
        m = np.isin(posts.user, users)
        merged = TagData(np.concatenate([owner[keep], posts.user[m]]),
                         np.zeros(int(keep.sum() + m.sum()), np.int64),
                         np.concatenate([self.u_tag_[keep], posts.tag[m]]),
                         np.concatenate([self.u_day_[keep] * DAY, posts.time[m]]),
                         [""] * self.n_users, [""], [""] * self.n_tags)
        self._index_users(merged)
        return self

    def activation(self, batch: Batch) -> np.ndarray:
        d = float(self.config["d"])
        out = np.zeros((len(batch), self.n_tags))
        for k, (u, t_ref) in enumerate(zip(batch.user, batch.time, strict=True)):
            if not 0 <= u < self.n_users:
                continue
            a, b = self.u_ptr_[u], self.u_ptr_[u + 1]
            if a == b:
                continue
            w = (np.abs(t_ref / DAY - self.u_day_[a:b]) + 1.0) ** (-d)
            row = np.bincount(self.u_tag_[a:b], weights=w, minlength=self.n_tags)
            out[k] = row / row.sum()
        return out

    def score(self, batch: Batch) -> np.ndarray:
        s = self.activation(batch)
        iw = float(self.config["item_weight"])
        if iw > 0:
            s = (1 - iw) * s + iw * self.items_.dense(batch.item, normalize=True)
        return s + EPS * self._base(len(batch))

    def state(self) -> dict[str, np.ndarray]:
        return {**super().state(), "u_tag": self.u_tag_, "u_day": self.u_day_,
                "u_ptr": self.u_ptr_}

    def load_state(self, a: dict[str, np.ndarray]) -> None:
        super().load_state(a)
        self.u_tag_, self.u_day_, self.u_ptr_ = a["u_tag"], a["u_day"], a["u_ptr"]


class BaseLevelLearningContent(BaseLevelLearning):
    name: ClassVar[str] = "bll_c"
    defaults: ClassVar[dict[str, Any]] = {"d": 0.5, "item_weight": 0.5}
