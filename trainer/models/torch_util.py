"""Shared torch helpers: seeded 2-thread CPU setup, post->tag CSR, state dict <-> numpy."""
from __future__ import annotations

import numpy as np
import torch

from trainer.data import TagData


def setup(seed: int) -> torch.Generator:
    """Seed torch (and return a generator) with 2 threads: the machine is a shared 2-core box."""
    torch.set_num_threads(2)
    torch.manual_seed(seed)
    g = torch.Generator()
    g.manual_seed(seed)
    return g


class PostTags:
    """Training posts (user, item) with their tag lists as CSR arrays."""

    def __init__(self, train: TagData) -> None:
        pid, self.user, self.item = train.post_ids()
        order = np.argsort(pid, kind="stable")
        self.tag = train.tag[order]
        self.indptr = np.concatenate([[0], np.cumsum(np.bincount(pid, minlength=self.user.size))])
        self.pid_of_assignment = pid[order]

    def __len__(self) -> int:
        return int(self.user.size)

    def dense(self, posts: np.ndarray, n_tags: int) -> torch.Tensor:
        y = torch.zeros((posts.size, n_tags))
        lens = self.indptr[posts + 1] - self.indptr[posts]
        rows = np.repeat(np.arange(posts.size), lens)
        cols = np.concatenate([self.tag[self.indptr[p]:self.indptr[p + 1]] for p in posts]) \
            if posts.size else np.empty(0, np.int64)
        y[torch.from_numpy(rows), torch.from_numpy(cols.astype(np.int64))] = 1.0
        return y


def multi_hot(inputs: list[np.ndarray], n_tags: int) -> torch.Tensor:
    y = torch.zeros((len(inputs), n_tags))
    for r, t in enumerate(inputs):
        if t.size:
            y[r, torch.from_numpy(t.astype(np.int64))] = 1.0
    return y


def to_numpy(module: torch.nn.Module) -> dict[str, np.ndarray]:
    return {k: v.detach().cpu().numpy() for k, v in module.state_dict().items()}


def from_numpy(module: torch.nn.Module, arrays: dict[str, np.ndarray]) -> None:
    module.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in arrays.items()})
