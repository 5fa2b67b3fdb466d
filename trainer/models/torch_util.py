"""Shared torch helpers: seeded 2-thread CPU setup, post->tag CSR, state dict <-> numpy."""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import torch

from trainer.data import TagData
from trainer.models.base import ModelFitError, check_finite


def setup(seed: int) -> torch.Generator:
    """Seed torch (and return a generator) with at most 2 threads (the 2-core machines); a
    process that set 1 thread (the personal job: small models, a busy machine) keeps 1."""
    torch.set_num_threads(min(2, torch.get_num_threads()))  # a caller may have chosen 1
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

    def positions(self, posts: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """(row in ``posts``, tag) of every tag of those posts, once each: the sparse target."""
        lens = self.indptr[posts + 1] - self.indptr[posts]
        rows = np.repeat(np.arange(posts.size), lens)
        cols = np.concatenate([self.tag[self.indptr[p]:self.indptr[p + 1]] for p in posts]) \
            if posts.size else np.empty(0, np.int64)
        width = int(cols.max()) + 1 if cols.size else 1
        pairs = np.unique(rows.astype(np.int64) * width + cols)  # a tag given twice counts once
        rows, cols = pairs // width, pairs % width
        return torch.from_numpy(rows.astype(np.int64)), torch.from_numpy(cols.astype(np.int64))


def multi_hot(inputs: list[np.ndarray], n_tags: int) -> torch.Tensor:
    y = torch.zeros((len(inputs), n_tags))
    for r, t in enumerate(inputs):
        if t.size:
            y[r, torch.from_numpy(t.astype(np.int64))] = 1.0
    return y


def to_numpy(module: torch.nn.Module) -> dict[str, np.ndarray]:
    return {k: v.detach().cpu().numpy().copy() for k, v in module.state_dict().items()}


def from_numpy(module: torch.nn.Module, arrays: dict[str, np.ndarray]) -> None:
    module.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in arrays.items()})


def end_epoch(model: Any, net: torch.nn.Module, ep: int, total: float,
              callback: Any) -> bool:
    """After an epoch: NaN check (ModelFitError), then ``callback(ep, model)`` in eval mode;
    True when the callback asks to stop."""
    check_finite(total, f"{model.name} loss at epoch {ep}")
    if callback is None:
        return False
    net.eval()
    stop = callback(ep, model) is False
    net.train()
    return stop


@contextlib.contextmanager
def train_only_rows(net: torch.nn.Module,
                    parts: Sequence[tuple[torch.nn.Parameter, Sequence[int] | np.ndarray]],
                    ) -> Iterator[None]:
    """Freeze ``net`` except the given rows of the given parameters — partial_fit_users of
    some users' rows (and their new tags' rows).  Every other row is put back afterwards:
    Adam's weight decay and momentum move all rows of a parameter that has gradients."""
    before = [(w, w.detach().clone(), np.asarray(rows, np.int64)) for w, rows in parts]
    for p in net.parameters():
        p.requires_grad_(False)
    for w, _, _ in before:
        w.requires_grad_(True)
    try:
        yield
    finally:
        with torch.no_grad():
            for w, old, rows in before:
                mask = torch.ones(w.shape[0], dtype=torch.bool)
                mask[torch.from_numpy(rows)] = False
                w[mask] = old[mask]
        for p in net.parameters():
            p.requires_grad_(True)


def step_or_diverge(opt: torch.optim.Optimizer, what: str) -> None:
    """``opt.step()``; a step too large for float32 overflows inside Adam with a RuntimeError,
    which is divergence like a NaN loss and must reach the caller as :class:`ModelFitError`."""
    try:
        opt.step()
    except RuntimeError as e:
        raise ModelFitError(f"{what}: {e}: training diverged") from e


def fit_rows(net: torch.nn.Module,
             parts: Sequence[tuple[torch.nn.Parameter, Sequence[int] | np.ndarray]],
             loss_fn: Callable[[int], torch.Tensor], *, steps: int, lr: float, what: str,
             check: Callable[[], None] = lambda: None) -> list[float]:
    """Full-batch Adam on only those rows (one user's posts fit in one batch); the loss per
    step (``loss_fn(step)``); NaN/inf raises :class:`ModelFitError` and restores the rows."""
    losses: list[float] = []
    snapshot = [(w, w.detach().clone()) for w, _ in parts]
    try:
        with train_only_rows(net, parts):
            opt = torch.optim.Adam(list(dict.fromkeys(w for w, _ in parts)), lr=lr)
            net.train()
            for step in range(steps):
                check()
                loss = loss_fn(step)
                check_finite(float(loss.detach()), f"{what} loss at step {step + 1}")
                opt.zero_grad()
                loss.backward()
                step_or_diverge(opt, f"{what} step {step + 1}")
                losses.append(float(loss.detach()))
    except BaseException:
        with torch.no_grad():
            for w, old in snapshot:
                w.copy_(old)
        raise
    finally:
        net.eval()
    return losses
