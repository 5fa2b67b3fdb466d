"""Train one base model in one process or under torchrun; write its validation figures.

    torchrun --nproc_per_node 2 -m trainer.distributed_train --model dae_ptr --data lastfm \\
        --core 10 --protocol last-tag --epochs 60 --checkpoint runs/dae --json dae-2.json
    python -m trainer.distributed_train ...            # the same, one process

The posts are split as ``trainer.evaluate`` splits them (protocol, seed) and a validation split
is carved out of the training part; the model trains on the rest (``fit`` with the seed, for
``--epochs``) and is measured on the validation cases: each rank ranks its contiguous part, the
parts are gathered and averaged as one process averages them.  With ``--checkpoint DIR`` rank 0
writes ``DIR/checkpoint.npz`` after every epoch and a run on the same folder resumes from it;
``--stop-after N`` ends the run after epoch N (as a killed run would, but after its checkpoint).
Base models: SOG (and BR), DAE-PTR, the document rankers (:mod:`trainer.distributed`).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from trainer import checkpoint, datasets, distributed
from trainer.data import min_tag_items, p_core
from trainer.evaluate import PER_TAG_KS, rank_split
from trainer.metrics import KS, aggregate
from trainer.models import TagModel, create
from trainer.protocols import PROTOCOLS, Split, split, validation_split

# the models whose fit splits its batches over the ranks (AR, PITF, ... would train whole on
# every rank: correct, but no faster)
BASE_MODELS = ("sog_1toM", "sog_1to1", "br", "dae_ptr", "wsabie", "awe", "csrw_d", "csrw_s",
               "csrw_t")


def param_digest(model: TagModel) -> str:
    """SHA-256 of the network's state (names, shapes and bytes): equal only if bit-identical."""
    h = hashlib.sha256()
    for k, v in sorted(model.net.state_dict().items()):  # type: ignore[attr-defined]
        a = np.ascontiguousarray(v.detach().cpu().numpy())
        h.update(f"{k}{a.shape}{a.dtype}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def validation_figures(model: TagModel, val: Split, seed: int, ks: tuple[int, ...]
                       ) -> dict[str, float]:
    """The figures of all validation cases; each rank scores its part."""
    sl = distributed.part(len(val))
    mine = Split(val.train, val.user[sl], val.item[sl], val.time[sl], val.inputs[sl],
                 val.truth[sl], val.protocol)
    tiebreak = np.random.default_rng(seed).permutation(val.train.n_tags)
    ranks = distributed.gather(rank_split(model, mine, tiebreak, None)[0])
    return aggregate(ranks, [t.size for t in val.truth], ks)


def samples_per_epoch(model: TagModel, val: Split) -> int:
    """Training examples of one epoch: SOG's instances, a document ranker's pairs, posts."""
    info = getattr(model, "fit_info_", {})
    return int(info.get("instances_per_epoch") or info.get("pairs") or val.train.n_posts())


def command() -> str:
    """How this run was started (torchrun's own options are not in its environment)."""
    launcher = f"torchrun --nproc_per_node {os.environ.get('LOCAL_WORLD_SIZE', '?')} -m" \
        if distributed.launched() else "python -m"
    return f"{launcher} trainer.distributed_train {shlex.join(sys.argv[1:])}"


def run(args: argparse.Namespace) -> dict[str, Any] | None:
    """Train and measure; the result (``None`` when stopped by ``--stop-after``)."""
    torch.set_num_threads(args.threads)
    data = datasets.load(args.data, args.item_text)
    if args.core > 1:
        data = p_core(data, args.core)
    if args.min_tag_items > 1:
        data = min_tag_items(data, args.min_tag_items)
    s = split(data, args.protocol, args.seed, args.per_tag_p)
    val = validation_split(s.train, args.protocol, args.seed, args.val_cases, args.per_tag_p)
    model = create(args.model, **json.loads(args.config))
    fit_seed = args.seed if args.fit_seed is None else args.fit_seed
    resumed = checkpoint.saved_epoch(args.checkpoint) if args.checkpoint else 0
    ends: list[float] = []  # when each epoch of this run ended

    def after_epoch(ep: int, _m: TagModel) -> bool | None:
        ends.append(time.perf_counter())
        return False if args.stop_after and ep >= args.stop_after else None

    t0 = time.perf_counter()
    with checkpoint.resumable(args.checkpoint):
        model.fit(val.train, seed=fit_seed, epochs=args.epochs, callback=after_epoch)
    fit_s = time.perf_counter() - t0
    if args.stop_after and args.stop_after < args.epochs:
        return None
    n = samples_per_epoch(model, val)
    # steady state: from the end of this run's first epoch (model building, tokenizer and the
    # first epoch's warm-up excluded) to the end of its last
    steady = (len(ends) - 1) * n / (ends[-1] - ends[0]) if len(ends) > 1 else None
    figures = validation_figures(model, val, args.seed,
                                 PER_TAG_KS if args.protocol == "per-tag" else KS)
    digests = distributed.gather([param_digest(model)])
    if args.out and distributed.is_main():
        model.save(args.out)
    return {
        "command": command(),
        "model": args.model, "data": args.data,
        "core": args.core, "protocol": args.protocol, "seed": args.seed, "fit_seed": fit_seed,
        "epochs": args.epochs,
        "config": model.config, "processes": distributed.world(),
        "backend": distributed.backend(), "threads_per_process": args.threads,
        "train_posts": val.train.n_posts(), "validation_cases": len(val),
        "resumed_after_epoch": resumed, "fit_s": round(fit_s, 2),
        "samples_per_epoch": n, "samples_per_s": None if steady is None else round(steady, 1),
        "validation": figures, "param_digests": digests,
        "params_identical_across_ranks": len(set(digests)) == 1,
    }


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m trainer.distributed_train", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, choices=BASE_MODELS)
    p.add_argument("--data", required=True, help="a shared set's name or a posts TSV")
    p.add_argument("--item-text", default=None, help="item text TSV for a posts TSV")
    p.add_argument("--core", type=int, default=1, help="p-core (users and items)")
    p.add_argument("--min-tag-items", type=int, default=1)
    p.add_argument("--protocol", required=True, choices=PROTOCOLS)
    p.add_argument("--per-tag-p", type=int, default=10)
    p.add_argument("--val-cases", type=int, default=3000)
    p.add_argument("--seed", type=int, default=0, help="the split's seed (and the fit's)")
    p.add_argument("--fit-seed", type=int, default=None,
                   help="the fit's seed if not --seed: seed noise on the same split")
    p.add_argument("--epochs", type=int, required=True)
    p.add_argument("--config", default="{}", help="JSON config overrides")
    p.add_argument("--checkpoint", type=Path, default=None, help="checkpoint folder (resumes)")
    p.add_argument("--stop-after", type=int, default=0, help="end after this epoch")
    p.add_argument("--threads", type=int, default=distributed.threads_per_process(),
                   help="torch threads per process (default: cores / local processes)")
    p.add_argument("--json", type=Path, default=None, help="write the result here (rank 0)")
    p.add_argument("--out", type=Path, default=None, help="save the model here (rank 0)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    distributed.init()
    try:
        out = run(args)
        writer = distributed.is_main()
    finally:
        distributed.close()
    if not writer:
        return 0
    if out is None:
        print(f"stopped after epoch {args.stop_after}; checkpoint in {args.checkpoint}")
        return 0
    text = json.dumps(out, indent=1)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
