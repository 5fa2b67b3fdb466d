"""Base-model training in several processes: ``torchrun`` and DistributedDataParallel.

Under ``torchrun --nproc_per_node N [--nnodes M ...]`` (which sets RANK, WORLD_SIZE, LOCAL_RANK,
MASTER_ADDR, MASTER_PORT) :func:`init` joins the process group: gloo on a machine without a GPU,
``cpu:gloo,cuda:nccl`` on one with (NCCL for CUDA tensors, gloo for CPU ones, so that a model
that trains on the CPU, such as DAE-PTR, still reduces there).  A model's ``fit`` then

- wraps its network with :func:`wrap` (DDP: the backward pass averages the gradients of all
  ranks before the step);
- hands every batch to :func:`share`: each rank computes the loss on its rows, weighted so that
  the average over ranks is the loss of the whole batch.  The global batch, the number of steps
  and the random draws (made for the whole batch on every rank, from the same seed) stay those
  of one process; only the sums are taken in another order (and dropout draws differ).

Without torchrun (no process group) every function is a no-op that returns its input, so one
process runs exactly the code, and gets exactly the numbers, it did before.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import torch
import torch.distributed as dist

T = TypeVar("T", bound=Sequence[Any])


def launched() -> bool:
    """Started by torchrun (or with its environment)."""
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def init() -> bool:
    """Join torchrun's process group (once); False, and nothing done, outside torchrun."""
    if not (dist.is_available() and launched()):
        return False
    if not dist.is_initialized():
        if torch.cuda.is_available():
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
            dist.init_process_group("cpu:gloo,cuda:nccl")
        else:
            dist.init_process_group("gloo")
    return True


def close() -> None:
    if active():
        dist.destroy_process_group()


def active() -> bool:
    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    return dist.get_rank() if active() else 0


def world() -> int:
    return dist.get_world_size() if active() else 1


def is_main() -> bool:
    """Rank 0 (or the only process): the one that writes files."""
    return rank() == 0


def backend() -> str:
    return str(dist.get_backend()) if active() else "none"


def threads_per_process() -> int:
    """The machine's cores over the processes torchrun started on it (at least 1)."""
    local = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
    return max(1, (os.cpu_count() or 1) // local)


def wrap(net: torch.nn.Module, find_unused: bool = False) -> torch.nn.Module:
    """``net`` in DDP (its forward passes make the backward pass average gradients over the
    ranks), or ``net`` itself outside torchrun.  ``find_unused``: some parameters may get no
    gradient in a step (SOG: the user-token rows, the tag input map of prefix-free batches).
    Buffers are synced once, at the wrap, not before every forward: no base model changes
    one while training (SOG's tag text vectors, BERT's position ids)."""
    if not active():
        return net
    dev = next(net.parameters()).device
    return torch.nn.parallel.DistributedDataParallel(
        net, device_ids=[dev] if dev.type == "cuda" else None, forward_sync_buffers=False,
        find_unused_parameters=find_unused)


@dataclass(frozen=True)
class Share:
    """This rank's rows of a batch and the weight of their loss (``None``: the whole batch)."""

    rows: Any
    scale: float | None

    def weigh(self, loss: torch.Tensor) -> torch.Tensor:
        return loss if self.scale is None else loss * self.scale


def share(batch: T) -> Share:
    """Rows ``rank, rank + world, ...`` of ``batch`` (a list or an array), weighted
    ``len(mine) · world / len(batch)``: with a loss that is the mean over its rows, DDP's
    average of the ranks' gradients is then the gradient of the whole batch's mean.  A rank
    left without rows (a last batch smaller than the world) takes one row at weight 0: every
    rank must run the same number of forward and backward passes."""
    if not active():
        return Share(batch, None)
    w, n = world(), len(batch)
    mine = batch[rank()::w]
    if not len(mine):
        return Share(batch[:1], 0.0)
    return Share(mine, len(mine) * w / n)


def part(n: int) -> slice:
    """This rank's contiguous part of ``n`` cases (evaluation: parts concatenate in order)."""
    r, w = rank(), world()
    return slice(n * r // w, n * (r + 1) // w)


def mean(value: float) -> float:
    """The mean of ``value`` over the ranks (a weighted share's loss: the whole batch's)."""
    if not active():
        return value
    t = torch.tensor([value], dtype=torch.float64)
    dist.all_reduce(t)
    return float(t.item()) / world()


def gather(values: list[Any]) -> list[Any]:
    """Every rank's list, concatenated in rank order, on every rank."""
    if not active():
        return values
    out: list[Any] = [None] * world()
    dist.all_gather_object(out, values)
    return [v for chunk in out for v in chunk]


def broadcast(obj: Any) -> Any:
    """Rank 0's ``obj`` on every rank."""
    if not active():
        return obj
    box = [obj if is_main() else None]
    dist.broadcast_object_list(box, src=0)
    return box[0]
