"""Content rankers for documents: WSABIE, AWE and CSRW-d/-s/-t (Saurabh et al., CSRW paper).

A document ``m`` is a bag of words with counts; every word and tag has a ``D``-dim embedding
(``U``, ``V``).  The score of tag ``t`` (CSRW eq. 1-2) is

    L(m, t) = sum_w  c_mw · f(w, t) · (u_w · v_t)

with ``c_mw`` the word's count divided by the document length N_m, and the relevance ``f``:

- ``wsabie``: f = 1 (the document embedding is the mean of its words; eq. 1 with f = 1);
- ``csrw_d``: f = sigm(u_w · v_t)  (scalar product);
- ``csrw_s``: f = r · sigm(R1 u_w − R2 v_t), r ∈ R^k, k = 16  (single feed-forward layer);
- ``csrw_t``: f = r · sigm(u_w P[i] Q[i] v_t + b_i)_i, k = 4 slices of rank p = 16 (factorized
  neural tensor shared by all tags);
- ``awe``: f as ``csrw_d`` but raw counts (no length normalization) — the paper's two differences
  between AWE and CSRW-d are the normalization and the multiplicative interaction.

Training (eq. 3): for each training (document, tag) pair, 5 random tags as negatives, hinge
``max(0, 1 − L(m, t) + L(m, t⁻))`` plus L2 on the parameters a step touches (λ).  A sampled
negative that is one of the document's own tags is skipped.

Deviation: Adagrad instead of the paper's plain SGD — per-parameter steps, the usual choice for
sparse embedding tables.  Plain SGD was not tried; the loss and the sampling are the paper's.
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from tagassist.media.words import FIRST_WORD, PAD, doc_words, word_bag, word_index
from trainer import distributed
from trainer.data import TagData
from trainer.models.base import Batch, EpochCallback, ModelFitError, TagModel
from trainer.models.torch_util import Optim, setup, train_epochs

RELEVANCE = ("one", "dot", "ff", "tensor")


class DocTagNet(nn.Module):
    """The CSRW scorer; ``relevance`` picks f (see the module doc)."""

    def __init__(self, n_words: int, n_tags: int, dim: int, relevance: str, k: int, p: int
                 ) -> None:
        super().__init__()
        if relevance not in RELEVANCE:
            raise ValueError(f"relevance must be one of {RELEVANCE}")
        self.relevance = relevance
        # sparse: a step touches a few hundred rows of tables with thousands
        self.U = nn.Embedding(FIRST_WORD + n_words, dim, padding_idx=PAD, sparse=True)
        self.V = nn.Embedding(n_tags, dim, sparse=True)
        for e in (self.U, self.V):
            nn.init.normal_(e.weight, std=1.0 / math.sqrt(dim))
        with torch.no_grad():
            self.U.weight[PAD].zero_()
        if relevance == "ff":
            self.R1 = nn.Parameter(torch.randn(dim, k) / math.sqrt(dim))
            self.R2 = nn.Parameter(torch.randn(dim, k) / math.sqrt(dim))
        if relevance == "tensor":
            self.P = nn.Parameter(torch.randn(k, dim, p) / math.sqrt(dim))
            self.Q = nn.Parameter(torch.randn(k, p, dim) / math.sqrt(p))
            self.b = nn.Parameter(torch.zeros(k))
        if relevance in ("ff", "tensor"):  # sigm ≈ 0.5 at the start: f ≈ 1, i.e. WSABIE
            self.r = nn.Parameter(torch.full((k,), 2.0 / k))

    def terms(self, ids: torch.Tensor, weight: torch.Tensor, tags: torch.Tensor
              ) -> torch.Tensor:
        """Per-word terms c_mw · f(w, t) · u_w·v_t → [B, L, C].  ``ids``/``weight`` [B, L];
        ``tags`` [B, C] (each document its own candidates) or [C] (the same for all)."""
        u = self.U(ids)  # [B, L, D]
        v = self.V(tags)  # [B, C, D] or [C, D]
        vt = v.transpose(-1, -2)  # [B|-, D, C]
        uv = u @ vt  # [B, L, C]
        if self.relevance == "one":
            f = None
        elif self.relevance == "dot":
            f = torch.sigmoid(uv)
        elif self.relevance == "ff":
            a = u @ self.R1  # [B, L, k]
            c = v @ self.R2  # [B, C, k] or [C, k]
            c = c.unsqueeze(-3) if c.dim() == 3 else c[None, None]  # [B|1, 1, C, k]
            f = torch.sigmoid(a.unsqueeze(-2) - c) @ self.r  # [B, L, C]
        else:
            f = 0
            for i in range(self.P.shape[0]):
                s = (u @ self.P[i]) @ (self.Q[i] @ vt)  # [B, L, p] @ [B|-, p, C]
                f = f + self.r[i] * torch.sigmoid(s + self.b[i])
        out = uv if f is None else f * uv
        return out * weight.unsqueeze(-1)

    def forward(self, ids: torch.Tensor, weight: torch.Tensor, tags: torch.Tensor
                ) -> torch.Tensor:
        if self.relevance == "one":  # f = 1: the same sum, via the document's mean embedding
            doc = (self.U(ids) * weight.unsqueeze(-1)).sum(dim=1)  # [B, D]
            v = self.V(tags)
            return (v @ doc[:, :, None]).squeeze(-1) if v.dim() == 3 else doc @ v.T
        return self.terms(ids, weight, tags).sum(dim=1)

    def slice_scores(self, word: int, i: int) -> torch.Tensor:
        """Tensor slice ``i``'s similarity of one word to every tag: u_w P[i] Q[i] v_t
        (the paper's Table 2)."""
        return (self.U.weight[word] @ self.P[i]) @ (self.Q[i] @ self.V.weight.T)


def pad_bags(bags: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Ragged (ids, counts) -> two [n, L] arrays, padded with :data:`PAD` / 0."""
    width = max([b[0].size for b in bags] + [1])
    ids = np.full((len(bags), width), PAD, np.int64)
    cnt = np.zeros((len(bags), width), np.float32)
    for r, (i, c) in enumerate(bags):
        ids[r, :i.size] = i
        cnt[r, :c.size] = c
    return ids, cnt


def chunked_scores(model: TextRankerBase, items: np.ndarray, chunk: int) -> np.ndarray:
    """Full-ranking scores [n, T] of ``items``, computed in chunks of documents of similar
    length (a chunk is padded to its longest document)."""
    out = np.zeros((items.size, model.n_tags), np.float32)
    lengths = np.array([(model._item_bags(items[k:k + 1])[0] != PAD).sum()
                        for k in range(items.size)])
    order = np.argsort(lengths, kind="stable")
    tags = torch.arange(model.n_tags)
    for a in range(0, items.size, chunk):
        rows = order[a:a + chunk]
        ids, w = model._item_bags(items[rows])
        out[rows] = (model.net(ids, w, tags) if w.numel() else model.net(ids, tags)).numpy()
    return out


class TextRankerBase(TagModel):
    """Shared by the document rankers: the word vocabulary of the training documents, each
    item's word bag, the epoch loop over (document, tag) pairs, and full-ranking scores."""

    iterative: ClassVar[bool] = False  # fixed epochs: per-tag P = 1 leaves nothing to validate on
    defaults: ClassVar[dict[str, Any]] = {
        "dim": 200, "epochs": 10, "lr": 0.05, "reg": 1e-5, "negatives": 5, "margin": 1.0,
        "batch_size": 256, "max_words": 64, "min_count": 1,
    }

    def __init__(self, **config: Any) -> None:
        super().__init__(**config)
        self.words: list[str] = []
        self.net: nn.Module | None = None
        self._items: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._item_text: dict[int, str] = {}

    # -- vocabulary and inputs ----------------------------------------------------------------
    def _build_vocab(self, train: TagData) -> None:
        counts: Counter[str] = Counter()
        for i in np.unique(train.item).tolist():
            counts.update(set(doc_words(train.item_text.get(train.items[i], ""))))
        self.words = sorted(w for w, c in counts.items() if c >= self.config["min_count"])
        self._index = word_index(self.words)

    def bag(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """A document's (word ids, weights c_mw) as the model reads it."""
        ids, counts = word_bag(text, self._index, self.config["max_words"])
        return ids, self.weights(counts)

    def weights(self, counts: np.ndarray) -> np.ndarray:
        """c_mw: counts over the document length (CSRW); AWE overrides this."""
        return counts / max(float(counts.sum()), 1.0)

    def _item_bags(self, items: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        bags = []
        for i in items.tolist():
            if i not in self._items:
                self._items[i] = self.bag(self._item_text.get(i, ""))
            bags.append(self._items[i])
        ids, w = pad_bags(bags)
        return torch.from_numpy(ids), torch.from_numpy(w)

    # -- training -----------------------------------------------------------------------------
    def make_net(self) -> nn.Module:
        raise NotImplementedError

    def pair_loss(self, ids: torch.Tensor, w: torch.Tensor, pos: torch.Tensor,
                  neg: torch.Tensor, neg_ok: torch.Tensor, net: nn.Module | None = None
                  ) -> torch.Tensor:
        """Eq. 3's hinge for each pair against its sampled negatives (mean over the batch);
        the forward pass through ``net`` if given (under torchrun: the DDP wrapper)."""
        scores = (self.net if net is None else net)(ids, w, torch.cat([pos[:, None], neg],
                                                                     dim=1))
        hinge = torch.relu(self.config["margin"] - scores[:, :1] + scores[:, 1:])
        return (hinge * neg_ok).sum(dim=1).mean()

    def l2(self, ids: torch.Tensor, tags: torch.Tensor) -> torch.Tensor:
        """λ‖Ψ‖² on the rows this step touches and on the small dense parameters."""
        net = self.net
        total = net.U(ids).pow(2).sum() / ids.shape[0] + net.V(tags).pow(2).sum() / ids.shape[0]
        for name, p in net.named_parameters():
            if name not in ("U.weight", "V.weight"):
                total = total + p.pow(2).sum()
        return self.config["reg"] * total

    def fit(self, train: TagData, *, seed: int = 0, epochs: int | None = None,
            callback: EpochCallback | None = None, show_progress: bool = False) -> TagModel:
        c = self.config
        g = setup(seed)
        self._shape(train)
        self._item_text = {i: train.item_text.get(name, "") for i, name in enumerate(train.items)}
        self._items = {}
        self._build_vocab(train)
        if not self.words:
            raise ModelFitError(f"{self.name}: the training documents have no words")
        self.net = self.make_net()
        pairs = np.unique(train.item.astype(np.int64) * self.n_tags + train.tag)
        items, tags = pairs // self.n_tags, pairs % self.n_tags
        known = torch.from_numpy(pairs)  # sorted codes item * n_tags + tag
        self.fit_info_: dict[str, Any] = {"pairs": int(pairs.size), "words": len(self.words),
                                          "epoch_s": []}

        net = distributed.wrap(self.net)  # itself in one process

        def batches(ep: int) -> Iterator[tuple[torch.Tensor, float]]:
            order = torch.randperm(pairs.size, generator=g).numpy()
            for a in range(0, order.size, c["batch_size"]):
                b = order[a:a + c["batch_size"]]
                n = b.size
                neg = torch.randint(0, self.n_tags, (n, c["negatives"]), generator=g)
                mine = distributed.share(np.arange(n))  # under torchrun: this rank's
                if mine.scale is not None:  # pairs and their negatives (drawn for all)
                    b, neg = b[mine.rows], neg[torch.from_numpy(mine.rows)]
                ids, w = self._item_bags(items[b])
                pos = torch.from_numpy(tags[b])
                codes = torch.from_numpy(items[b])[:, None] * self.n_tags + neg
                hit = torch.searchsorted(known, codes).clamp(max=known.numel() - 1)
                neg_ok = (known[hit] != codes).float()
                loss = self.pair_loss(ids, w, pos, neg, neg_ok, net) + self.l2(ids, torch.cat(
                    [pos, neg.flatten()]))
                yield mine.weigh(loss), n

        def timed(ep: int, total: float, seconds: float) -> None:
            self.fit_info_["epoch_s"].append(round(seconds, 2))

        train_epochs(self.net, self.net.parameters(), Optim("adagrad", c["lr"]),
                     int(epochs or c["epochs"]), batches, what=self.name, model=self,
                     callback=callback, after_step=self.zero_pad, on_epoch=timed, rngs=(g,))
        return self

    def zero_pad(self) -> None:
        """After every step: the padding row stays zero."""
        with torch.no_grad():
            self.net.U.weight[PAD].zero_()

    # -- scoring ------------------------------------------------------------------------------
    def chunk(self) -> int:
        """Documents per scoring chunk (CSRW-s holds [B, L, T, k] at once)."""
        return 256

    @torch.no_grad()
    def score(self, batch: Batch) -> np.ndarray:
        assert self.net is not None, "fit or load first"
        self.net.eval()
        return chunked_scores(self, np.asarray(batch.item, np.int64), self.chunk())

    # -- artifacts ----------------------------------------------------------------------------
    def state(self) -> dict[str, np.ndarray]:
        assert self.net is not None
        arrays = {k: v.detach().numpy().copy() for k, v in self.net.state_dict().items()}
        arrays["words"] = np.array(self.words)
        # the items' texts are the model's input: a loaded model scores the same items
        arrays["item_text"] = np.array([self._item_text.get(i, "") for i in range(self.n_items)])
        return arrays

    def load_state(self, arrays: dict[str, np.ndarray]) -> None:
        self.words = [str(w) for w in arrays["words"]]
        self._index = word_index(self.words)
        if "item_text" in arrays:
            self.set_item_text({i: str(t) for i, t in enumerate(arrays["item_text"])})
        self.net = self.make_net()
        self.net.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in arrays.items()
                                  if k not in ("words", "item_text")})
        self.net.eval()

    def set_item_text(self, texts: dict[int, str]) -> None:
        """Item index -> text, for scoring a loaded model (``fit`` sets it from the data)."""
        self._item_text, self._items = dict(texts), {}


class CSRWBase(TextRankerBase):
    relevance: ClassVar[str] = "dot"

    def make_net(self) -> nn.Module:
        c = self.config
        return DocTagNet(len(self.words), self.n_tags, c["dim"], self.relevance, c.get("k", 1),
                         c.get("p", 1))


class WSABIE(CSRWBase):
    name: ClassVar[str] = "wsabie"
    relevance: ClassVar[str] = "one"


class CSRWd(CSRWBase):
    name: ClassVar[str] = "csrw_d"
    relevance: ClassVar[str] = "dot"


class AWE(CSRWd):
    """CSRW-d's relevance on raw counts: no document-length normalization."""

    name: ClassVar[str] = "awe"

    def weights(self, counts: np.ndarray) -> np.ndarray:
        return counts


class CSRWs(CSRWBase):
    name: ClassVar[str] = "csrw_s"
    relevance: ClassVar[str] = "ff"
    defaults: ClassVar[dict[str, Any]] = {**CSRWBase.defaults, "k": 16}

    def chunk(self) -> int:  # [B, L, T, k] floats per chunk: keep it near 64M
        return max(1, int(64e6 // max(1, 16 * self.config["k"] * self.n_tags)))


class CSRWt(CSRWBase):
    name: ClassVar[str] = "csrw_t"
    relevance: ClassVar[str] = "tensor"
    defaults: ClassVar[dict[str, Any]] = {**CSRWBase.defaults, "k": 4, "p": 16}


TEXT_RANKERS: tuple[type[TextRankerBase], ...] = (WSABIE, AWE, CSRWd, CSRWs, CSRWt)
