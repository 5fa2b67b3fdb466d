"""PITF: pairwise interaction tensor factorization (Rendle & Schmidt-Thieme, WSDM 2010).

ŷ(u, i, t) = <û_u, t̂^U_t> + <î_i, t̂^I_t> — separate user→tag and item→tag factors, no user·item
term (it cancels in the ranking of tags for one post).  Trained with BPR: for a training
assignment (u, i, t⁺) a negative t⁻ is drawn uniformly from the tags *not* in post (u, i);
loss −ln σ(ŷ⁺ − ŷ⁻) + λ‖θ‖² on the rows involved, as in the paper's SGD; we use Adam.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import numpy as np
import torch

from trainer.data import TagData
from trainer.models.base import Batch, EpochCallback, TagModel, no_check
from trainer.models.torch_util import (
    Optim,
    PostTags,
    from_numpy,
    setup,
    to_numpy,
    train_epochs,
    train_only_rows,
)


class _PITF(torch.nn.Module):
    def __init__(self, n_users: int, n_items: int, n_tags: int, k: int, std: float) -> None:
        super().__init__()
        self.u = torch.nn.Embedding(n_users, k)
        self.i = torch.nn.Embedding(n_items, k)
        self.tu = torch.nn.Embedding(n_tags, k)
        self.ti = torch.nn.Embedding(n_tags, k)
        for e in (self.u, self.i, self.tu, self.ti):
            torch.nn.init.normal_(e.weight, 0.0, std)

    def pair(self, u: torch.Tensor, i: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return (self.u(u) * self.tu(t)).sum(-1) + (self.i(i) * self.ti(t)).sum(-1)

    def all_tags(self, u: torch.Tensor, i: torch.Tensor) -> torch.Tensor:
        return self.u(u) @ self.tu.weight.T + self.i(i) @ self.ti.weight.T


class PITF(TagModel):
    name: ClassVar[str] = "pitf"
    iterative: ClassVar[bool] = True
    defaults: ClassVar[dict[str, Any]] = {"k": 64, "lr": 0.01, "reg": 5e-5, "epochs": 120,
                                          "batch_size": 1024, "init_std": 0.01}
    # with Adam at 0.01 PITF peaks early and then overfits at λ = 5e-5: try a stronger λ too
    grid: ClassVar[list[dict[str, Any]]] = [{"reg": 5e-5}, {"reg": 5e-4}]
    personal_epochs: ClassVar[int] = 20  # partial_fit_users' passes by default

    def fit(self, train: TagData, *, seed: int = 0, epochs: int | None = None,
            callback: EpochCallback | None = None, show_progress: bool = False) -> PITF:
        self._shape(train)
        setup(seed)
        c = self.config
        self.net = _PITF(self.n_users, self.n_items, self.n_tags, c["k"], c["init_std"])
        self._train(train, epochs or c["epochs"], seed, callback, show_progress,
                    list(self.net.parameters()))
        return self

    def _train(self, train: TagData, epochs: int, seed: int, callback: EpochCallback | None,
               show_progress: bool, params: list[torch.nn.Parameter],
               check: Callable[[], None] = no_check) -> None:
        c = self.config
        rng = np.random.default_rng(seed)
        posts = PostTags(train)
        pid = posts.pid_of_assignment
        pos = posts.tag
        in_post = np.unique(pid * self.n_tags + pos)  # sorted keys for membership tests
        bs = c["batch_size"]

        def batches(ep: int) -> Iterator[tuple[torch.Tensor, float]]:
            order = rng.permutation(pos.size)
            neg = rng.integers(0, self.n_tags, size=pos.size)
            for _ in range(20):  # resample negatives that are in the post
                bad = np.isin(pid * self.n_tags + neg, in_post, assume_unique=False)
                if not bad.any():
                    break
                neg[bad] = rng.integers(0, self.n_tags, size=int(bad.sum()))
            for s in range(0, order.size, bs):
                b = order[s:s + bs]
                u = torch.from_numpy(posts.user[pid[b]])
                i = torch.from_numpy(posts.item[pid[b]])
                tp, tn = torch.from_numpy(pos[b]), torch.from_numpy(neg[b])
                n = self.net
                diff = n.pair(u, i, tp) - n.pair(u, i, tn)
                reg = (n.u(u).pow(2).sum(-1) + n.i(i).pow(2).sum(-1) + n.tu(tp).pow(2).sum(-1)
                       + n.ti(tp).pow(2).sum(-1) + n.tu(tn).pow(2).sum(-1)
                       + n.ti(tn).pow(2).sum(-1))
                yield (-torch.nn.functional.logsigmoid(diff) + c["reg"] * reg).mean(), b.size

        train_epochs(self.net, params, Optim("adam", c["lr"]), epochs, batches, what=self.name,
                     model=self, callback=callback, check=check, progress=show_progress)

    def partial_fit_users(self, posts: TagData, users: np.ndarray, epochs: int | None = None,
                          *, seed: int = 0, rejected: TagData | None = None,
                          new_tags: np.ndarray | None = None,
                          check: Callable[[], None] = no_check) -> PITF:
        """Re-train only user factors on the given users' posts (everything else frozen and
        put back: Adam has no decay here, but other users' rows must not move);
        ``epochs`` = passes over their assignments (default ``personal_epochs``).

        Not used: ``rejected`` (BPR's negatives are drawn, not given) and ``new_tags`` (a
        tag's factors are shared by every user)."""
        sub = posts.subset(np.isin(posts.user, users))
        with train_only_rows(self.net, [(self.net.u.weight, np.asarray(users))]):
            self._train(sub, self.personal_epochs if epochs is None else epochs, seed, None,
                        False, [self.net.u.weight], check)
        return self

    @torch.no_grad()
    def score(self, batch: Batch) -> np.ndarray:
        u = torch.from_numpy(np.clip(batch.user, 0, self.n_users - 1).astype(np.int64))
        i = torch.from_numpy(np.clip(batch.item, 0, self.n_items - 1).astype(np.int64))
        return self.net.all_tags(u, i).numpy()

    def state(self) -> dict[str, np.ndarray]:
        return to_numpy(self.net)

    def load_state(self, a: dict[str, np.ndarray]) -> None:
        self.net = _PITF(self.n_users, self.n_items, self.n_tags, self.config["k"], 0.01)
        from_numpy(self.net, a)
