"""PITF: pairwise interaction tensor factorization (Rendle & Schmidt-Thieme, WSDM 2010).

ŷ(u, i, t) = <û_u, t̂^U_t> + <î_i, t̂^I_t> — separate user→tag and item→tag factors, no user·item
term (it cancels in the ranking of tags for one post).  Trained with BPR: for a training
assignment (u, i, t⁺) a negative t⁻ is drawn uniformly from the tags *not* in post (u, i);
loss −ln σ(ŷ⁺ − ŷ⁻) + λ‖θ‖² on the rows involved, as in the paper's SGD; we use Adam.
"""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
from tqdm import tqdm

from trainer.data import TagData
from trainer.models.base import Batch, EpochCallback, TagModel, check_finite
from trainer.models.torch_util import PostTags, from_numpy, setup, step_or_diverge, to_numpy


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
               show_progress: bool, params: list[torch.nn.Parameter]) -> None:
        c = self.config
        rng = np.random.default_rng(seed)
        posts = PostTags(train)
        pid = posts.pid_of_assignment
        pos = posts.tag
        in_post = np.unique(pid * self.n_tags + pos)  # sorted keys for membership tests
        opt = torch.optim.Adam(params, lr=c["lr"])
        bs = c["batch_size"]
        for ep in tqdm(range(1, epochs + 1), desc=self.name, disable=not show_progress,
                       leave=False):
            order = rng.permutation(pos.size)
            neg = rng.integers(0, self.n_tags, size=pos.size)
            for _ in range(20):  # resample negatives that are in the post
                bad = np.isin(pid * self.n_tags + neg, in_post, assume_unique=False)
                if not bad.any():
                    break
                neg[bad] = rng.integers(0, self.n_tags, size=int(bad.sum()))
            total = 0.0
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
                loss = (-torch.nn.functional.logsigmoid(diff) + c["reg"] * reg).mean()
                opt.zero_grad()
                loss.backward()
                step_or_diverge(opt, self.name)
                total += float(loss.detach()) * b.size
            check_finite(total, f"{self.name} loss at epoch {ep}")
            if callback is not None and callback(ep, self) is False:
                break

    def partial_fit_users(self, posts: TagData, users: np.ndarray, epochs: int = 20,
                          seed: int = 0) -> PITF:
        """Re-train only user factors on the given users' posts (everything else frozen)."""
        m = np.isin(posts.user, users)
        sub = posts.subset(m)
        for p in self.net.parameters():
            p.requires_grad_(False)
        self.net.u.weight.requires_grad_(True)
        before = self.net.u.weight.detach().clone()
        self._train(sub, epochs, seed, None, False, [self.net.u.weight])
        with torch.no_grad():  # rows of other users must not move (Adam has no decay here)
            mask = torch.ones(self.n_users, dtype=torch.bool)
            mask[torch.from_numpy(users.astype(np.int64))] = False
            self.net.u.weight[mask] = before[mask]
        for p in self.net.parameters():
            p.requires_grad_(True)
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
