"""Shared torch helpers: seeded 2-thread CPU setup, post->tag CSR, state dict <-> numpy, and
the one training loop every torch model runs (:func:`train_epochs`, :func:`fit_rows`).

The loop owns what the models must not each redo (CONVENTIONS: models implement loss and
predict only; the trainer owns optimizer, epochs, early stopping): building the optimizer,
the step, divergence (a non-finite loss or an overflowing step raises
:class:`~trainer.models.base.ModelFitError`), cancellation (``check()`` before every step)
and the per-epoch callback.  A model hands it a generator of (loss, weight) per epoch; the
generator's random draws happen in the same order as the loops it replaced, so seeded
figures are unchanged.  Under torchrun (:mod:`trainer.distributed`) the epoch's loss is the
mean over the ranks, and a loop given its ``rngs`` checkpoints and resumes
(:mod:`trainer.checkpoint`); in one process without a checkpoint folder both are no-ops.
"""
from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from trainer import distributed
from trainer.checkpoint import EpochCheckpoint, Rng
from trainer.data import TagData
from trainer.models.base import EpochCallback, ModelFitError, check_finite, no_check


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


@dataclass(frozen=True)
class Optim:
    """The optimizer a loop builds: ``kind`` ``adam``, ``adamw`` or ``adagrad`` at ``lr``,
    L2 as ``weight_decay``.  ``params`` may be parameter groups with their own ``lr``."""

    kind: str
    lr: float
    weight_decay: float = 0.0

    def build(self, params: Iterable[Any]) -> torch.optim.Optimizer:
        kinds = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW,
                 "adagrad": torch.optim.Adagrad}
        return kinds[self.kind](params, lr=self.lr, weight_decay=self.weight_decay)


def descend(opt: torch.optim.Optimizer, loss: torch.Tensor, where: str) -> float:
    """One step on ``loss``; its value.  NaN/inf raises :class:`ModelFitError` before the step
    (CONVENTIONS: NaN raises ModelFitError), as does an overflow inside the step."""
    value = float(loss.detach())
    check_finite(value, f"{where} loss")
    opt.zero_grad()
    loss.backward()
    step_or_diverge(opt, where)
    return value


# batches(epoch) -> (loss, weight) per step; the epoch's total is the weighted sum of losses
Batches = Callable[[int], Iterable[tuple[torch.Tensor, float]]]


def train_epochs(net: torch.nn.Module, params: Iterable[Any], optim: Optim, epochs: int,
                 batches: Batches, *, what: str, unit: str = "epoch",
                 model: Any = None, callback: EpochCallback | None = None,
                 check: Callable[[], None] = no_check,
                 after_step: Callable[[], None] | None = None,
                 on_epoch: Callable[[int, float, float], None] | None = None,
                 progress: bool = False, rngs: Sequence[Rng] | None = None) -> list[float]:
    """The training loop of every torch model: ``epochs`` passes of ``batches(epoch)``.

    Builds ``optim`` over ``params``; per step calls ``check()`` (raises to cancel), then
    :func:`descend` and ``after_step()``.  After an epoch: ``on_epoch(epoch, total, seconds)``
    (the model's bookkeeping), then ``callback(epoch, model)`` in eval mode, which stops
    training by returning False.  Returns each epoch's weighted loss total; ``net`` is left
    in eval mode.  ``rngs``: every generator ``batches`` draws from — given, the loop is
    resumable: inside :func:`trainer.checkpoint.resumable` it starts after the last saved
    epoch and saves after each epoch (before the callback, which may stop the run).
    """
    opt = optim.build(params)
    saved = EpochCheckpoint(net, opt, rngs) if rngs is not None else None
    done, totals = saved.resume() if saved is not None else (0, [])
    net.train()
    try:
        for ep in tqdm(range(done + 1, epochs + 1), desc=what, disable=not progress,
                       leave=False):
            started = time.perf_counter()
            steps = iter(batches(ep))
            total = 0.0
            while True:
                check()  # before the forward pass: a cancel costs at most one step
                step = next(steps, None)
                if step is None:
                    break
                loss, weight = step
                total += descend(opt, loss, f"{what} {unit} {ep}") * weight
                if after_step is not None:
                    after_step()
            total = distributed.mean(total)  # a share's weighted loss: the mean is the batch's
            totals.append(total)
            if on_epoch is not None:
                on_epoch(ep, total, time.perf_counter() - started)
            if saved is not None:
                saved.save(ep, totals)
            if callback is not None:
                net.eval()
                stop = callback(ep, model) is False
                net.train()
                if stop:
                    break
    finally:
        net.eval()
    return totals


def fit_rows(net: torch.nn.Module,
             parts: Sequence[tuple[torch.nn.Parameter, Sequence[int] | np.ndarray]],
             loss_fn: Callable[[int], torch.Tensor], *, steps: int, lr: float, what: str,
             check: Callable[[], None] = no_check) -> list[float]:
    """Full-batch Adam on only those rows (one user's posts fit in one batch), through
    :func:`train_epochs` with one step per "epoch"; the loss per step (``loss_fn(step)``,
    from 0).  NaN/inf raises :class:`ModelFitError` and, like a cancel, restores the rows."""
    snapshot = [(w, w.detach().clone()) for w, _ in parts]

    def one_step(step: int) -> Iterator[tuple[torch.Tensor, float]]:
        yield loss_fn(step - 1), 1.0  # lazily: check() runs before the forward pass

    try:
        with train_only_rows(net, parts):
            return train_epochs(net, list(dict.fromkeys(w for w, _ in parts)), Optim("adam", lr),
                                steps, one_step, what=what, unit="step", check=check)
    except BaseException:
        with torch.no_grad():
            for w, old in snapshot:
                w.copy_(old)
        raise
