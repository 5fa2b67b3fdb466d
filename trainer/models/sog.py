"""SOG: sequence-oblivious tag-set generation, and its BR baseline with the same encoder.

Paper: ``../shared/papers/sog_sequence-oblivious-tag-generation.txt``.

Paper, and what is implemented here:
- 3.1 model: a BERT encoder (all-MiniLM-L6-v2, optionally only its first ``layers`` layers) reads
  ``X_i = [CLS] context [SEP] tag_1 … tag_{i-1} [MASK]`` (eq. 2–3, 8) and the ``[MASK]`` state is
  scored against the tag embeddings (eq. 4–7)::

      h_i = BERT(X_i)                              (4)
      z   = scale · ‖head(h_i[MASK])‖₂⁻¹ head(h_i[MASK]) · W_HTᵀ + b   (5)   W_HT = E_text + R
      p   = softmax(z)                              (6)
      ŷ_i = argmax p  (already given tags excluded)  (7)

  ``E_text`` is the frozen, precomputed MiniLM sentence embedding (masked mean pooling, L2-normed)
  of each tag's text; ``R`` is a learned residual (zero-initialised), so an unseen tag gets a
  sensible row ``E_text`` without retraining (open vocabulary).  ``head`` (d×d), the L2 norm of
  its output and the learned temperature ``scale`` (init 10) are ours: the rows of W_HT have norm
  ≈ 1, and an unnormalised head started at logits of ±100 (initial loss 8 on a toy set, slow).
  A tag in the input is **one** position whose input embedding is ``tag_in(W_HT[tag])`` (``tag_in``
  a d×d linear map, identity-initialised) — the tag vocabulary is tied between input and output.
- Position embeddings ("removed", 3.1): ``positions="context"`` (default) keeps BERT positions
  0…n for ``[CLS] context [SEP]`` and gives every tag *and* the ``[MASK]`` the same position id
  (the one right after ``[SEP]``), so the tag segment is order-free: permuting the given tags
  permutes rows of a permutation-equivariant encoder and leaves the ``[MASK]`` output unchanged.
  ``positions="none"``: one position id for every token (no order anywhere);
  ``positions="all"``: ordinary sequential ids (ablation: not order-free).
  Token type 0 for the context, 1 for the tag segment.
- 3.2 training: ``target="1toM"``: a post with N tags gives N instances (prefixes of length
  0…N-1 of the tags shuffled anew each epoch, eq. 12); the target of step i is uniform over the
  tags not yet given (eq. 10), loss KL(q‖p) (eq. 11).  ``target="1to1"``: the target is the next
  tag of the shuffled order (eq. 9; cross-entropy = KL to a one-hot q).  ``max_steps`` caps the
  instances per post (prefix lengths 0…max_steps-1; targets still all remaining tags) — a CPU
  budget knob, ``None`` = all N as in the paper.
- 3.3 decoding: greedy, excluding given and generated tags (probability set to 0), at most
  ``max_tags`` (5, as in the paper's experiments); optional stop when the top probability falls
  below ``stop_p`` (0 = never stop; :func:`choose_stop_p` picks it on validation posts).
  ``score`` returns the generated tags in order (scores max_tags, max_tags-1, …) and ``-inf`` for
  the rest, so P@K/R@K of ``trainer.evaluate`` are those of the generated list.
- BR (4.1.3, BR-EF): the same encoder, one pass on ``[CLS] context [SEP] [MASK]``, sigmoid BCE
  over all tags, ranking by the logits.

Context as words (3.4, early fusion): :mod:`tagassist.suggest.sog_context` builds
``image [IMG] place [LOC] time [TIME] text``; the markers are learned vectors.  ``user_token``
puts ``[USER]`` after ``[CLS]``; its vector is ``markers[USER] + user_resid[user]`` — the one
row the personalization job (issue 7) fine-tunes per person.

Here: the models (batching, the training loop, decoding entry points, artifacts).  Elsewhere:
the network (:mod:`trainer.models.sog_net`), the pretrained MiniLM pieces
(:mod:`trainer.models.sog_encoder`), the training instances and loss
(:mod:`trainer.models.sog_targets`), greedy/beam search and the stop threshold
(:mod:`trainer.models.sog_decode`).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import numpy as np
import torch
from tqdm import tqdm

from tagassist.suggest.sog_context import context_ids
from trainer import distributed
from trainer.data import TagData
from trainer.models.base import Batch, EpochCallback, ModelFitError, TagModel, no_check
from trainer.models.sog_decode import beam_decode, greedy_decode
from trainer.models.sog_encoder import load_encoder, load_tokenizer, tag_text_embeddings
from trainer.models.sog_net import SOGNet
from trainer.models.sog_targets import Instance, ordered_tags, post_instances, target_loss
from trainer.models.torch_util import (
    Optim,
    PostTags,
    fit_rows,
    from_numpy,
    setup,
    to_numpy,
    train_epochs,
)


class SOGBase(TagModel):
    """Shared by ``sog_1toM``, ``sog_1to1`` and ``br``: text contexts, batching, artifacts."""

    iterative: ClassVar[bool] = False  # fixed epochs: validation passes cost as much as training
    # under torchrun the batches are split over the ranks and the forward pass runs through
    # DDP (trainer.distributed); AR's loss runs through ``net.decode``, which DDP cannot see
    data_parallel: ClassVar[bool] = True
    target: ClassVar[str] = "1toM"
    defaults: ClassVar[dict[str, Any]] = {
        "layers": 2, "positions": "context", "max_context": 48, "max_steps": None,
        "epochs": 3, "batch_size": 32, "lr": 5e-5, "head_lr": 1e-3, "max_tags": 5,
        "stop_p": 0.0, "pretrained": True, "max_posts": None, "refit": True,
        # the 30,522 x 384 word-embedding table stays frozen: its dense Adam step cost more than
        # a 1-layer forward + backward on 2 cores (0.15-0.5 s vs 0.15 s per batch of 32)
        "train_word_emb": False,
        # an END pseudo-tag (extra output row, text vector 0 + residual): the instance with the
        # whole set given gets END as target and decoding stops when END wins.  Not in the paper
        # (it always generates 5); without it the whole-set state is never trained.
        "end_tag": False,
        # the order of a post's tags in its instances: True reshuffles every epoch; False keeps
        # the data file's order and "once" one seeded random order per post, both the same every
        # epoch (the paper's order-freeness check, 4.3, compares those two)
        "shuffle_tags": True,
        # "greedy" (3.3) or "beam" with ``beam_width`` (the comparison of the paper's Figure 5)
        "decode": "greedy", "beam_width": 3,
        # a [USER] token after [CLS] whose vector is learned per user (DESIGN.md: personalization)
        "user_token": False,
        # "auto": CUDA when torch sees a GPU (the lent GPU machine), else the CPU
        "device": "auto",
        # partial_fit_users: Adam steps (a batch of instances each) on the user-token rows
        "personal_steps": 40, "personal_lr": 0.05,
    }

    def __init__(self, **config: Any) -> None:
        super().__init__(**config)
        self._tok: Any = None
        self._ctx_cache: dict[int, list[int]] = {}
        self.items: list[str] = []
        self.item_text: dict[str, str] = {}
        self.tags: list[str] = []
        self.epoch_s_: list[float] = []
        self._fit_seed = 0

    def _chosen_device(self) -> torch.device:
        """Where a new or loaded network goes: ``config["device"]`` ("auto": CUDA if present)."""
        d = self.config["device"]
        if d == "auto":
            d = "cuda" if torch.cuda.is_available() else "cpu"
        return torch.device(d)

    @property
    def device(self) -> torch.device:
        """Where the network is now (inputs follow it; an export moves it to the CPU)."""
        return next(self.net.parameters()).device

    # -- context -----------------------------------------------------------------------------
    def _context_ids(self, item: int) -> list[int]:
        """``[CLS] ([USER]) wordpieces of the context [SEP]``, markers as single ids."""
        if item not in self._ctx_cache:
            if self._tok is None:
                self._tok = load_tokenizer()
            name = self.items[item] if 0 <= item < len(self.items) else ""
            self._ctx_cache[item] = context_ids(
                self._tok, self.item_text.get(name, ""), self.config["max_context"],
                self._tok_id("[CLS]"), self._tok_id("[SEP]"), user=self.config["user_token"])
        return self._ctx_cache[item]

    def _user_rows(self, users: list[int] | None, n: int) -> torch.Tensor | None:
        """Rows of ``user_resid`` (user index + 1; 0 for a user unseen in training)."""
        if not self.config["user_token"]:
            return None
        u = np.zeros(n, np.int64) if users is None else np.asarray(users, np.int64) + 1
        u[(u < 0) | (u > self.n_users)] = 0
        return torch.from_numpy(u).to(self.device)

    def _pack(self, items: list[int], prefixes: list[list[int]], users: list[int] | None = None
              ) -> tuple[torch.Tensor | None, ...]:
        """Rows ``[CLS] ctx [SEP] t_1 … t_k [MASK]`` padded at the end."""
        mask_id = self._tok_id("[MASK]")
        ctxs = [self._context_ids(i) for i in items]
        width = max(len(c) + len(p) + 1 for c, p in zip(ctxs, prefixes, strict=True))
        n = len(items)
        tokens = torch.zeros((n, width), dtype=torch.long)
        tags = torch.full((n, width), -1, dtype=torch.long)
        attn = torch.zeros((n, width), dtype=torch.long)
        n_ctx = torch.empty(n, dtype=torch.long)
        mask_pos = torch.empty(n, dtype=torch.long)
        for r, (c, p) in enumerate(zip(ctxs, prefixes, strict=True)):
            lc, lp = len(c), len(p)
            tokens[r, :lc] = torch.tensor(c)
            if lp:
                tags[r, lc:lc + lp] = torch.tensor(p)
            tokens[r, lc + lp] = mask_id
            attn[r, :lc + lp + 1] = 1
            n_ctx[r], mask_pos[r] = lc, lc + lp
        dev = self.device
        return (tokens.to(dev), tags.to(dev), n_ctx.to(dev), mask_pos.to(dev), attn.to(dev),
                self._user_rows(users, n))

    def _tok_id(self, s: str) -> int:
        if self._tok is None:
            self._tok = load_tokenizer()
        return int(self._tok.token_to_id(s))

    def logits(self, items: list[int], prefixes: list[list[int]],
               users: list[int] | None = None) -> torch.Tensor:
        return self.net(*self._pack(items, prefixes, users))

    # -- training ----------------------------------------------------------------------------
    def _instances(self, posts: PostTags, order: np.ndarray, rng: np.random.Generator
                   ) -> list[Instance]:
        """(item, prefix, target tags, user) of every post in ``order``."""
        c = self.config
        return post_instances(posts, order, lambda tags, post: self._ordered(tags, post, rng),
                              self.target, c["max_steps"], self.n_tags if c["end_tag"] else None)

    def _ordered(self, tags: list[int], post: int, rng: np.random.Generator) -> list[int]:
        """A post's tags in the order ``shuffle_tags`` asks for (see ``defaults``)."""
        return ordered_tags(tags, self.config["shuffle_tags"], rng, (self._fit_seed, post))

    def _loss(self, z: torch.Tensor, targets: list[list[int]]) -> torch.Tensor:
        return target_loss(z, targets, self.target)

    def _batch_loss(self, b: list[Instance], net: torch.nn.Module | None = None
                    ) -> torch.Tensor:
        """The loss of instances ``b``; the forward pass through ``net`` if given (training
        under torchrun: the DDP wrapper of ``self.net``)."""
        forward = self.net if net is None else net
        z = forward(*self._pack([x[0] for x in b], [x[1] for x in b], [x[3] for x in b]))
        return self._loss(z, [x[2] for x in b])

    def _build(self, tags: list[str], tag_emb: np.ndarray | None = None) -> None:
        c = self.config
        emb = tag_text_embeddings(tags) if tag_emb is None else tag_emb
        if c["end_tag"] and self.target != "br":
            emb = np.concatenate([emb, np.zeros((1, emb.shape[1]), np.float32)])
        net = self._make_net(load_encoder(c["layers"], c["pretrained"]), emb)
        self.net = net.to(self._chosen_device())

    def _make_net(self, bert: torch.nn.Module, emb: np.ndarray) -> torch.nn.Module:
        return SOGNet(bert, emb, self.config["positions"], self.n_users)

    def fit(self, train: TagData, *, seed: int = 0, epochs: int | None = None,
            callback: EpochCallback | None = None, show_progress: bool = False,
            tag_emb: np.ndarray | None = None) -> SOGBase:
        self._shape(train)
        self.items, self.item_text, self.tags = train.items, train.item_text, train.tags
        self._ctx_cache = {}
        self._fit_seed = seed
        setup(seed)
        c = self.config
        self._build(train.tags, tag_emb)
        posts = PostTags(train)
        if self.target == "br":  # b of eq. 5 starts at the log-odds of each tag's frequency
            with torch.no_grad():
                f = np.bincount(posts.tag, minlength=self.n_tags) / max(len(posts), 1)
                f = np.clip(f, 0.5 / max(len(posts), 1), 0.5)
                self.net.bias.copy_(torch.from_numpy(np.log(f / (1 - f)).astype(np.float32)))
        rng = np.random.default_rng(seed)
        pool = np.arange(len(posts))
        if c["max_posts"] is not None and pool.size > c["max_posts"]:
            pool = np.sort(rng.choice(pool, size=int(c["max_posts"]), replace=False))
        self.net.bert.embeddings.word_embeddings.weight.requires_grad_(c["train_word_emb"])
        enc = [p for n, p in self.net.named_parameters()
               if n.startswith("bert.") and p.requires_grad]
        rest = [p for n, p in self.net.named_parameters() if not n.startswith("bert.")]
        groups = [{"params": enc, "lr": c["lr"]}, {"params": rest, "lr": c["head_lr"]}]
        self.epoch_s_ = []
        made = {"instances": 0}
        # under torchrun: DDP, and each rank the loss of its share of every batch (some
        # parameters, e.g. the user-token rows, get no gradient in some steps)
        net = distributed.wrap(self.net, find_unused=True) if self.data_parallel else self.net

        def batches(ep: int) -> Iterator[tuple[torch.Tensor, float]]:
            inst = self._instances(posts, rng.permutation(pool), rng)
            inst = [inst[k] for k in rng.permutation(len(inst))]
            made["instances"] = len(inst)
            bs = c["batch_size"]
            bucketed = []  # length-bucketed: sort chunks of 50 batches by length (less padding)
            for a in range(0, len(inst), 50 * bs):
                chunk = sorted(inst[a:a + 50 * bs],
                               key=lambda x: len(self._context_ids(x[0])) + len(x[1]))
                bucketed += [chunk[k:k + bs] for k in range(0, len(chunk), bs)]
            for k in tqdm(rng.permutation(len(bucketed)), desc=f"{self.name} ep{ep}",
                          disable=not show_progress, leave=False):
                mine = distributed.share(bucketed[k]) if self.data_parallel \
                    else distributed.Share(bucketed[k], None)
                yield mine.weigh(self._batch_loss(mine.rows, net)), len(bucketed[k])

        def bookkeeping(ep: int, total: float, seconds: float) -> None:
            self.epoch_s_.append(seconds)
            n = made["instances"]
            self.fit_info_ = {"epoch_s": [round(s, 1) for s in self.epoch_s_],
                              "instances_per_epoch": n, "loss": round(total / max(n, 1), 4)}

        train_epochs(self.net, groups, Optim("adamw", c["lr"]), epochs or c["epochs"], batches,
                     what=self.name, model=self, callback=callback, on_epoch=bookkeeping,
                     rngs=(rng,))
        return self

    def partial_fit_users(self, posts: TagData, users: np.ndarray, epochs: int | None = None,
                          *, seed: int = 0, rejected: TagData | None = None,
                          new_tags: np.ndarray | None = None,
                          check: Callable[[], None] = no_check) -> SOGBase:
        """Fit only the ``[USER]`` token residuals of ``users`` (rows user + 1 of
        ``user_resid``) on their posts with SOG's own loss (eq. 11); encoder, head and tag
        table stay fixed.  ``epochs`` = Adam steps, each on a random batch of instances.

        Not used here: ``rejected`` (the KL target has no place for a negative) and
        ``new_tags`` (a tag's output row is its MiniLM text vector plus a residual; a new tag
        would need the head rebuilt) — tags outside the model's table are skipped."""
        if not self.config["user_token"]:
            raise ModelFitError(f"{self.name} was trained without a user token")
        users = np.asarray(users, np.int64)
        known = users[(users >= 0) & (users < self.n_users)]
        sub = posts.subset(np.isin(posts.user, known) & (posts.tag < self.n_tags))
        if not known.size or not len(sub):
            return self
        self._fit_seed = getattr(self, "_fit_seed", seed)
        rng = np.random.default_rng(seed)
        table = PostTags(sub)
        inst = self._instances(table, np.arange(len(table)), rng)
        bs = int(self.config["batch_size"])

        def loss(step: int) -> torch.Tensor:
            pick = rng.choice(len(inst), size=min(bs, len(inst)), replace=False)
            return self._batch_loss([inst[k] for k in pick])

        fit_rows(self.net, [(self.net.user_resid, known + 1)], loss,
                 steps=int(epochs or self.config["personal_steps"]),
                 lr=float(self.config["personal_lr"]), what=f"{self.name} user token",
                 check=check)
        return self

    # -- decoding ----------------------------------------------------------------------------
    def generate(self, items: list[int], given: list[list[int]], max_tags: int | None = None,
                 stop_p: float | None = None, batch_size: int = 256,
                 users: list[int] | None = None) -> tuple[list[list[int]], list[list[float]]]:
        """Greedy decoding (3.3): per item the generated tags and each step's top probability."""
        k = self.config["max_tags"] if max_tags is None else max_tags
        thr = self.config["stop_p"] if stop_p is None else stop_p
        self.net.eval()
        return greedy_decode(self.logits, self.n_tags, items, given, k, thr, batch_size, users)

    def beam_generate(self, items: list[int], given: list[list[int]], width: int,
                      max_tags: int | None = None, chunk: int = 64,
                      users: list[int] | None = None) -> list[list[int]]:
        """Beam search over tag sequences (the paper's Figure 5 comparison): per item the
        highest-log-probability sequence of ``max_tags`` tags (:func:`beam_decode`)."""
        k = self.config["max_tags"] if max_tags is None else max_tags
        self.net.eval()
        return beam_decode(self.logits, self.n_tags, items, given, width, k, chunk, users)

    def score(self, batch: Batch) -> np.ndarray:
        items, given = [int(i) for i in batch.item], [list(x) for x in batch.inputs]
        users = [int(u) for u in batch.user]
        if self.config["decode"] == "beam":
            gen = self.beam_generate(items, given, int(self.config["beam_width"]), users=users)
        else:
            gen, _ = self.generate(items, given, users=users)
        k = self.config["max_tags"]
        s = np.full((len(batch), self.n_tags), -np.inf, dtype=np.float32)
        for r, g in enumerate(gen):
            s[r, g] = k - np.arange(len(g), dtype=np.float32)
        return s

    # -- artifacts ---------------------------------------------------------------------------
    def state(self) -> dict[str, np.ndarray]:
        """Network weights plus every item's tokenized context (the text is not in the config)."""
        out = to_numpy(self.net)
        ctx = [self._context_ids(i) for i in range(len(self.items))]
        out["ctx_len"] = np.array([len(x) for x in ctx], np.int64)
        out["ctx_ids"] = np.concatenate(ctx).astype(np.int64) if ctx else np.zeros(0, np.int64)
        return out

    def load_state(self, a: dict[str, np.ndarray]) -> None:
        a = dict(a)
        lens, ids = a.pop("ctx_len", np.zeros(0, np.int64)), a.pop("ctx_ids", np.zeros(0))
        ends = np.cumsum(lens)
        self._ctx_cache = {i: ids[e - n:e].tolist()
                           for i, (n, e) in enumerate(zip(lens, ends, strict=True))}
        self.items = [""] * len(lens)
        c = self.config
        self.net = self._make_net(load_encoder(c["layers"], pretrained=False),
                                  np.asarray(a["tag_text"]))
        from_numpy(self.net, a)
        self.net.to(self._chosen_device()).eval()


class SOG1toM(SOGBase):
    name: ClassVar[str] = "sog_1toM"
    target: ClassVar[str] = "1toM"


class SOG1to1(SOGBase):
    name: ClassVar[str] = "sog_1to1"
    target: ClassVar[str] = "1to1"


class BR(SOGBase):
    """BR-EF: one pass on ``[CLS] context [SEP] [MASK]``, multi-label sigmoid BCE, ranking."""

    name: ClassVar[str] = "br"
    target: ClassVar[str] = "br"
    defaults: ClassVar[dict[str, Any]] = {**SOGBase.defaults, "head_lr": 1e-3}

    @torch.no_grad()
    def score(self, batch: Batch) -> np.ndarray:
        self.net.eval()
        out = []
        items = [int(i) for i in batch.item]
        for a in range(0, len(items), 256):
            its = items[a:a + 256]
            us = [int(u) for u in batch.user[a:a + 256]]
            out.append(self.logits(its, [[] for _ in its], us)[:, :self.n_tags].cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.n_tags), np.float32)


SOG_MODELS: tuple[type[SOGBase], ...] = (BR, SOG1toM, SOG1to1)


__all__ = ["SOGBase", "SOG1toM", "SOG1to1", "BR"]
