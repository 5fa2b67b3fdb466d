"""Resumable training: the state of a training loop after each epoch, written by rank 0.

Inside ``with resumable(folder):`` the loop of :func:`trainer.models.torch_util.train_epochs`
writes ``folder/checkpoint.npz`` after every epoch: the network, the optimizer, the epoch, the
per-epoch losses and every random generator the loop draws from — the model's own (numpy and
torch generators) and torch's global one, of **every** rank (dropout draws differ by rank).  A
run started on the same folder loads it and continues after that epoch with the same draws, so
it ends where an uninterrupted run ends.

No pickle on disk (CONVENTIONS): arrays, plus one JSON entry for the rest.  The file is written
to a temporary name and renamed, so a run killed while writing leaves the previous checkpoint.
Only rank 0 reads the file; it sends the state to the others (no shared disk needed).
"""
from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import numpy as np
import torch

from trainer import distributed

FILE = "checkpoint.npz"
Rng = np.random.Generator | torch.Generator

_FOLDER: ContextVar[Path | None] = ContextVar("checkpoint_folder", default=None)


@contextlib.contextmanager
def resumable(folder: str | Path | None) -> Iterator[None]:
    """Training loops inside this block checkpoint into, and resume from, ``folder``."""
    token = _FOLDER.set(None if folder is None else Path(folder))
    try:
        yield
    finally:
        _FOLDER.reset(token)


def saved_epoch(folder: str | Path) -> int:
    """The last epoch saved in ``folder`` (0: none)."""
    path = Path(folder) / FILE
    if not path.is_file():
        return 0
    with np.load(path, allow_pickle=False) as z:
        return int(json.loads(z["meta"].tobytes().decode())["epoch"])


def _rng_state(rngs: Sequence[Rng]) -> dict[str, Any]:
    """One rank's generators: numpy states as JSON, torch states as byte arrays."""
    out: dict[str, Any] = {"numpy": [], "torch": [], "global": torch.get_rng_state().numpy()}
    for g in rngs:
        if isinstance(g, np.random.Generator):
            out["numpy"].append(g.bit_generator.state)
        else:
            out["torch"].append(g.get_state().numpy())
    if torch.cuda.is_available():
        out["cuda"] = torch.cuda.get_rng_state().numpy()
    return out


def _set_rng_state(rngs: Sequence[Rng], state: dict[str, Any]) -> None:
    numpy_states, torch_states = iter(state["numpy"]), iter(state["torch"])
    for g in rngs:
        if isinstance(g, np.random.Generator):
            g.bit_generator.state = next(numpy_states)
        else:
            g.set_state(torch.from_numpy(np.asarray(next(torch_states))))
    torch.set_rng_state(torch.from_numpy(np.asarray(state["global"])))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(torch.from_numpy(np.asarray(state["cuda"])))


def _encode(net: torch.nn.Module, opt: torch.optim.Optimizer, epoch: int, totals: list[float],
            ranks: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    arrays = {f"net/{k}": v.detach().cpu().numpy() for k, v in net.state_dict().items()}
    opt_state = opt.state_dict()
    scalars: dict[str, dict[str, Any]] = {}
    for idx, entries in opt_state["state"].items():
        for name, v in entries.items():
            if isinstance(v, torch.Tensor):
                arrays[f"opt/{idx}/{name}"] = v.detach().cpu().numpy()
            else:
                scalars.setdefault(str(idx), {})[name] = v
    rng_json = []
    for r, st in enumerate(ranks):
        arrays[f"rng/{r}/global"] = st["global"]
        for k, t in enumerate(st["torch"]):
            arrays[f"rng/{r}/torch/{k}"] = t
        if "cuda" in st:
            arrays[f"rng/{r}/cuda"] = st["cuda"]
        rng_json.append({"numpy": st["numpy"], "torch": len(st["torch"]), "cuda": "cuda" in st})
    meta = {"epoch": epoch, "totals": totals, "world": len(ranks),
            "param_groups": opt_state["param_groups"], "opt_scalars": scalars, "rngs": rng_json}
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    return arrays


def _decode(arrays: dict[str, np.ndarray], net: torch.nn.Module, opt: torch.optim.Optimizer
            ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    meta = json.loads(arrays["meta"].tobytes().decode())
    net.load_state_dict({k[4:]: torch.from_numpy(v) for k, v in arrays.items()
                         if k.startswith("net/")})
    state: dict[int, dict[str, Any]] = {}
    for k, v in arrays.items():
        if k.startswith("opt/"):
            _, idx, name = k.split("/", 2)
            state.setdefault(int(idx), {})[name] = torch.from_numpy(v)
    for idx, entries in meta["opt_scalars"].items():
        state.setdefault(int(idx), {}).update(entries)
    groups = meta["param_groups"]
    for saved, now in zip(groups, opt.param_groups, strict=True):
        for key, value in now.items():  # JSON made tuples (Adam's betas) lists
            if isinstance(value, tuple) and key in saved:
                saved[key] = tuple(saved[key])
    opt.load_state_dict({"state": state, "param_groups": groups})
    ranks = []
    for r, st in enumerate(meta["rngs"]):
        one = {"numpy": st["numpy"], "global": arrays[f"rng/{r}/global"],
               "torch": [arrays[f"rng/{r}/torch/{k}"] for k in range(st["torch"])]}
        if st["cuda"]:
            one["cuda"] = arrays[f"rng/{r}/cuda"]
        ranks.append(one)
    return meta, ranks


class EpochCheckpoint:
    """Save and resume one training loop (``net``, ``opt``, the loop's ``rngs``); inert
    outside :func:`resumable`."""

    def __init__(self, net: torch.nn.Module, opt: torch.optim.Optimizer,
                 rngs: Sequence[Rng]) -> None:
        self.folder = _FOLDER.get()
        self.net, self.opt, self.rngs = net, opt, list(rngs)

    def resume(self) -> tuple[int, list[float]]:
        """(epochs already done, their loss totals); (0, []) with nothing to resume."""
        if self.folder is None:
            return 0, []
        arrays = None
        if distributed.is_main() and (self.folder / FILE).is_file():
            with np.load(self.folder / FILE, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        arrays = distributed.broadcast(arrays)
        if arrays is None:
            return 0, []
        meta, ranks = _decode(arrays, self.net, self.opt)
        r = distributed.rank()  # its own draws; rank 0's if the run had fewer ranks
        _set_rng_state(self.rngs, ranks[r] if r < len(ranks) else ranks[0])
        return int(meta["epoch"]), [float(t) for t in meta["totals"]]

    def save(self, epoch: int, totals: list[float]) -> None:
        if self.folder is None:
            return
        ranks = distributed.gather([_rng_state(self.rngs)])
        if not distributed.is_main():
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / (FILE + ".tmp")
        with open(tmp, "wb") as f:
            np.savez(f, **_encode(self.net, self.opt, epoch, totals, ranks))
        os.replace(tmp, self.folder / FILE)
