"""Tag-set decoding for SOG-style models: greedy (paper 3.3), beam search (Figure 5) and the
choice of greedy's stop threshold.

The searches only need the model's logits for a batch of (item, given tags, user) rows, so they
take that function rather than the model: AR's decoder plugs in through the same call.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np
import torch

# (items, given tags per row, users) -> logits [rows, tags (+ END)]
Logits = Callable[[list[int], list[list[int]], list[int]], torch.Tensor]


class GreedyGenerator(Protocol):
    """A model whose ``generate`` decodes greedily (:meth:`trainer.models.sog.SOGBase.generate`);
    a protocol, not the class, so that this module does not import the models."""

    def generate(self, items: list[int], given: list[list[int]], *, stop_p: float
                 ) -> tuple[list[list[int]], list[list[float]]]: ...


@torch.no_grad()
def greedy_decode(logits: Logits, n_tags: int, items: list[int], given: list[list[int]],
                  max_tags: int, stop_p: float, batch_size: int = 256,
                  users: list[int] | None = None
                  ) -> tuple[list[list[int]], list[list[float]]]:
    """Per item the tags generated greedily (at most ``max_tags``, stopping when the top
    probability falls below ``stop_p`` or END wins) and each step's top probability."""
    out_t: list[list[int]] = []
    out_p: list[list[float]] = []
    for a in range(0, len(items), batch_size):
        its = items[a:a + batch_size]
        us = [0] * len(its) if users is None else list(users[a:a + batch_size])
        prefix = [[int(t) for t in g] for g in given[a:a + batch_size]]
        gen: list[list[int]] = [[] for _ in its]
        probs: list[list[float]] = [[] for _ in its]
        live = list(range(len(its)))
        for _ in range(max_tags):
            if not live:
                break
            z = logits([its[r] for r in live], [prefix[r] + gen[r] for r in live],
                       [us[r] for r in live])
            for j, r in enumerate(live):
                z[j, prefix[r] + gen[r]] = -torch.inf  # probability 0 for given/generated
            p = torch.softmax(z, dim=1)
            top_p, top = p.max(dim=1)
            finite = torch.isfinite(z.gather(1, top.unsqueeze(1))).squeeze(1).cpu()
            top_p, top = top_p.cpu(), top.cpu()  # one device->host copy per step
            nxt = []
            for j, r in enumerate(live):
                if float(top_p[j]) < stop_p or not bool(finite[j]) \
                        or int(top[j]) >= n_tags:  # END won
                    continue
                gen[r].append(int(top[j]))
                probs[r].append(float(top_p[j]))
                nxt.append(r)
            live = nxt
        out_t += gen
        out_p += probs
    return out_t, out_p


@torch.no_grad()
def beam_decode(logits: Logits, n_tags: int, items: list[int], given: list[list[int]],
                width: int, max_tags: int, chunk: int = 64, users: list[int] | None = None
                ) -> list[list[int]]:
    """Per item the highest-log-probability sequence of ``max_tags`` tags.  Beams holding the
    same *set* are merged (the best order kept): for an order-free model they are one state."""
    out: list[list[int]] = []
    for a in range(0, len(items), chunk):
        its, pre = items[a:a + chunk], [[int(t) for t in g] for g in given[a:a + chunk]]
        us = [0] * len(its) if users is None else list(users[a:a + chunk])
        beams: list[list[tuple[list[int], float]]] = [[([], 0.0)] for _ in its]
        for _ in range(max_tags):
            rows = [(r, seq) for r, bs in enumerate(beams) for seq, _ in bs]
            z = logits([its[r] for r, _ in rows], [pre[r] + seq for r, seq in rows],
                       [us[r] for r, _ in rows])
            z = z[:, :n_tags].clone()
            for j, (r, seq) in enumerate(rows):
                z[j, pre[r] + seq] = -torch.inf
            lp = torch.log_softmax(z, dim=1)
            top_lp, top = (x.cpu() for x in lp.topk(min(width, lp.shape[1]), dim=1))
            cand: list[dict[frozenset[int], tuple[list[int], float]]] = [{} for _ in its]
            j = 0
            for r, bs in enumerate(beams):
                for seq, score in bs:
                    for v, t in zip(top_lp[j].tolist(), top[j].tolist(), strict=True):
                        if v == -np.inf:
                            continue
                        new = (seq + [t], score + v)
                        key = frozenset(new[0])
                        if key not in cand[r] or cand[r][key][1] < new[1]:
                            cand[r][key] = new
                    j += 1
            beams = [sorted(c.values(), key=lambda x: -x[1])[:width] or b
                     for c, b in zip(cand, beams, strict=True)]
        out += [bs[0][0] for bs in beams]
    return out


def choose_stop_p(model: GreedyGenerator, items: list[int], truth: list[np.ndarray],
                  grid: tuple[float, ...] = (0.0, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2,
                                             0.3)) -> tuple[float, dict[float, float]]:
    """The stop threshold maximising mean per-post set F1 on validation posts.

    One decoding pass at ``stop_p = 0`` records each step's top probability; stopping at the
    first step below a threshold keeps a prefix, so every threshold is scored from that pass.
    """
    gen, probs = model.generate(items, [[] for _ in items], stop_p=0.0)
    f1: dict[float, float] = {}
    for thr in grid:
        vals = []
        for g, p, t in zip(gen, probs, truth, strict=True):
            keep = next((k for k, x in enumerate(p) if x < thr), len(p))
            hits = len(set(g[:keep]) & set(int(x) for x in t))
            vals.append(2 * hits / (keep + len(t)) if keep + len(t) else 0.0)
        f1[thr] = float(np.mean(vals)) if vals else 0.0
    best = max(f1, key=lambda x: f1[x])
    return best, f1
