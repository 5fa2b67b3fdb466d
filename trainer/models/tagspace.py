"""#TagSpace (Weston, Chopra, Adams 2014): a CNN over a document's word embeddings.

Lookup table (``dim``) → convolution over every window of K = 5 words (``hidden`` filters,
a learned padding vector at both ends) → tanh → max over positions → tanh → linear to ``dim``;
the score of a tag is the dot product with its embedding.  WARP training: for each (document,
positive tag) pair draw random tags, up to 1000, until one violates the margin (m = 0.1), and
take a hinge step on that one; pairs with no violator contribute nothing.  The lookup tables
start from a WSABIE fit on the same data, as in the paper.

Deviations (sizes for a 2-core machine): ``hidden`` 256 instead of 1000 and ``dim`` 64 (the
paper's smallest; at 200 the convolution's backward pass took about 0.3 s a batch, about 70 s a
CiteULike P = 10 epoch on the 2-core machine — profiled with another job beside it — too slow
for 5 seeds × 2 settings); Adagrad instead of hogwild SGD.
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from tagassist.media.words import EDGE, PAD, word_sequence
from trainer.data import TagData
from trainer.models.base import Batch, EpochCallback, ModelFitError, TagModel
from trainer.models.text_rankers import WSABIE, TextRankerBase, chunked_scores
from trainer.models.torch_util import Optim, setup, train_epochs


class TagSpaceNet(nn.Module):
    def __init__(self, n_word_ids: int, n_tags: int, dim: int, hidden: int, window: int) -> None:
        super().__init__()
        self.window = window
        self.U = nn.Embedding(n_word_ids, dim, padding_idx=PAD, sparse=True)
        self.V = nn.Embedding(n_tags, dim, sparse=True)
        for e in (self.U, self.V):
            nn.init.normal_(e.weight, std=1.0 / math.sqrt(dim))
        self.conv = nn.Conv1d(dim, hidden, window)
        self.out = nn.Linear(hidden, dim)

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        """Documents [B, L] (PAD after the end) → [B, dim]."""
        half = self.window // 2
        edge = torch.full((ids.shape[0], half), EDGE, dtype=ids.dtype)
        lengths = (ids != PAD).sum(dim=1)
        x = torch.cat([edge, ids, edge], dim=1)
        # the closing EDGE goes right after each document's last word, not after the padding
        pos = torch.arange(x.shape[1])[None, :]
        end = lengths[:, None] + half
        x = torch.where((pos >= end) & (pos < end + half), torch.full_like(x, EDGE),
                        torch.where(pos >= end + half, torch.full_like(x, PAD), x))
        h = torch.tanh(self.conv(self.U(x).transpose(1, 2)))  # [B, H, L + 2·half − K + 1]
        valid = torch.arange(h.shape[2])[None, :] < (lengths + 2 * half - self.window + 1
                                                    ).clamp(min=1)[:, None]
        h = h.masked_fill(~valid[:, None, :], -2.0).max(dim=2).values
        return self.out(torch.tanh(h))

    def forward(self, ids: torch.Tensor, tags: torch.Tensor) -> torch.Tensor:
        """Scores [B, C] (``tags`` [B, C]) or [B, T] (``tags`` [T])."""
        e = self.embed(ids)
        v = self.V(tags)
        return (v @ e[:, :, None]).squeeze(-1) if v.dim() == 3 else e @ v.T


class TagSpace(TextRankerBase):
    name: ClassVar[str] = "tagspace"
    defaults: ClassVar[dict[str, Any]] = {
        **TextRankerBase.defaults, "dim": 64, "margin": 0.1, "hidden": 256, "window": 5,
        "max_tries": 1000,
        "init_epochs": 10,
    }

    def make_net(self) -> nn.Module:
        c = self.config
        return TagSpaceNet(2 + len(self.words), self.n_tags, c["dim"], c["hidden"], c["window"])

    def _item_bags(self, items: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        seqs = []
        for i in items.tolist():
            if i not in self._items:
                self._items[i] = (word_sequence(self._item_text.get(i, ""), self._index,
                                                self.config["max_words"]), np.empty(0))
            seqs.append(self._items[i][0])
        ids = np.full((len(seqs), max([s.size for s in seqs] + [1])), PAD, np.int64)
        for r, s in enumerate(seqs):
            ids[r, :s.size] = s
        return torch.from_numpy(ids), torch.empty(0)

    def fit(self, train: TagData, *, seed: int = 0, epochs: int | None = None,
            callback: EpochCallback | None = None, show_progress: bool = False) -> TagModel:
        c = self.config
        init = WSABIE(**{**{k: c[k] for k in WSABIE.defaults}, "epochs": c["init_epochs"],
                         "margin": 1.0})
        init.fit(train, seed=seed)  # the paper's pre-training of the lookup tables
        g = setup(seed)
        self._shape(train)
        self._item_text, self._items = dict(init._item_text), {}
        self.words, self._index = init.words, init._index
        self.net = self.make_net()
        with torch.no_grad():
            self.net.U.weight.copy_(init.net.U.weight)
            self.net.V.weight.copy_(init.net.V.weight)
        pairs = np.unique(train.item.astype(np.int64) * self.n_tags + train.tag)
        items, tags = pairs // self.n_tags, pairs % self.n_tags
        known = torch.from_numpy(pairs)
        self.fit_info_ = {"pairs": int(pairs.size), "words": len(self.words), "epoch_s": [],
                          "violated": []}
        violated = {"pairs": 0}

        def batches(ep: int) -> Iterator[tuple[torch.Tensor, float]]:
            violated["pairs"] = 0
            order = torch.randperm(pairs.size, generator=g).numpy()
            for a in range(0, order.size, c["batch_size"]):
                b = order[a:a + c["batch_size"]]
                ids, _ = self._item_bags(items[b])
                pos = torch.from_numpy(tags[b])
                e = self.net.embed(ids)
                f_pos = (e * self.net.V(pos)).sum(dim=1)
                found, neg = self._warp_search(e.detach(), f_pos.detach(), items[b], known, g)
                f_neg = (e * self.net.V(neg)).sum(dim=1)
                hinge = torch.relu(c["margin"] - f_pos + f_neg) * found.float()
                violated["pairs"] += int(found.sum())
                yield hinge.mean() + self.l2_tagspace(ids, torch.cat([pos, neg])), b.size

        def bookkeeping(ep: int, total: float, seconds: float) -> None:
            self.fit_info_["epoch_s"].append(round(seconds, 2))
            self.fit_info_["violated"].append(round(violated["pairs"] / max(pairs.size, 1), 4))

        train_epochs(self.net, self.net.parameters(), Optim("adagrad", c["lr"]),
                     int(epochs or c["epochs"]), batches, what=self.name, model=self,
                     callback=callback, after_step=self.zero_pad, on_epoch=bookkeeping)
        if not self.words:
            raise ModelFitError(f"{self.name}: the training documents have no words")
        self.net.eval()
        return self

    @torch.no_grad()
    def _warp_search(self, e: torch.Tensor, f_pos: torch.Tensor, items: np.ndarray,
                     known: torch.Tensor, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """WARP's search: random tags, up to ``max_tries`` per pair, until one scores above
        f(w, t+) − m and is not one of the document's tags → (found [B] bool, negative [B]).
        The draws are the sequential search's; their scores are looked up in one product with
        all tags (cheaper than scoring the drawn tags one by one)."""
        n = e.shape[0]
        every = e @ self.net.V.weight.T  # [B, T]
        cand = torch.randint(0, self.n_tags, (n, self.config["max_tries"]), generator=g)
        codes = torch.from_numpy(items)[:, None] * self.n_tags + cand
        hit = torch.searchsorted(known, codes).clamp(max=known.numel() - 1)
        bad = (every.gather(1, cand) > f_pos[:, None] - self.config["margin"]) \
            & (known[hit] != codes)
        found = bad.any(dim=1)
        first = bad.float().argmax(dim=1)  # the first violator in draw order
        return found, cand[torch.arange(n), first]

    def l2_tagspace(self, ids: torch.Tensor, tags: torch.Tensor) -> torch.Tensor:
        net = self.net
        total = (net.U(ids).pow(2).sum() + net.V(tags).pow(2).sum()) / ids.shape[0]
        for p in (*net.conv.parameters(), *net.out.parameters()):
            total = total + p.pow(2).sum()
        return self.config["reg"] * total

    @torch.no_grad()
    def score(self, batch: Batch) -> np.ndarray:
        assert self.net is not None, "fit or load first"
        self.net.eval()
        return chunked_scores(self, np.asarray(batch.item, np.int64), 512)
