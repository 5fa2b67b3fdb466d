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
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from tagassist.suggest.sog_context import MARKER_IDS, MARKERS, USER, context_ids, tag_text
from trainer.data import TagData
from trainer.models.base import Batch, EpochCallback, ModelFitError, TagModel, no_check
from trainer.models.torch_util import (
    Optim,
    PostTags,
    fit_rows,
    from_numpy,
    setup,
    to_numpy,
    train_epochs,
)

POSITIONS = ("context", "none", "all")


def _minilm_path() -> str:
    from trainer.torch_reference import minilm_dir

    return str(minilm_dir())


def load_encoder(layers: int, pretrained: bool = True) -> torch.nn.Module:
    """MiniLM's BertModel (offline), truncated to its first ``layers`` layers."""
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoConfig, AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()  # "pooler.* UNEXPECTED": BR/SOG use no pooler
    path = _minilm_path()
    if pretrained:
        bert = AutoModel.from_pretrained(path, attn_implementation="eager",
                                         add_pooling_layer=False)
    else:
        cfg = AutoConfig.from_pretrained(path)
        cfg._attn_implementation = "eager"
        bert = AutoModel.from_config(cfg, add_pooling_layer=False)
    bert.encoder.layer = bert.encoder.layer[:layers]
    bert.config.num_hidden_layers = layers
    return bert


def load_tokenizer() -> Any:
    """The fast WordPiece tokenizer from the package's ``tokenizer.json`` (no transformers)."""
    from pathlib import Path

    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(Path(_minilm_path()) / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    return tok


@torch.no_grad()
def tag_text_embeddings(tags: list[str], batch_size: int = 256) -> np.ndarray:
    """Frozen MiniLM (all 6 layers) sentence embedding of every tag's text: [T, 384], L2-normed."""
    from trainer.torch_reference import load_minilm, tokenize

    enc, tok = load_minilm()
    out = []
    for a in range(0, len(tags), batch_size):
        feeds = tokenize(tok, [tag_text(t) for t in tags[a:a + batch_size]])
        out.append(enc(**feeds)[1].numpy())
    return np.concatenate(out).astype(np.float32) if out else np.zeros((0, 384), np.float32)


class SOGNet(torch.nn.Module):
    """Encoder + tag embeddings (text + residual) + the ``[MASK]`` scoring head (eq. 4–7)."""

    def __init__(self, bert: torch.nn.Module, tag_emb: np.ndarray, positions: str = "context",
                 n_users: int = 0) -> None:
        super().__init__()
        if positions not in POSITIONS:
            raise ValueError(f"positions must be one of {POSITIONS}")
        self.bert = bert
        self.positions = positions
        d = bert.config.hidden_size
        self.register_buffer("tag_text", torch.from_numpy(np.asarray(tag_emb, np.float32)))
        self.tag_resid = torch.nn.Parameter(torch.zeros_like(self.tag_text))  # R
        self.tag_in = torch.nn.Linear(d, d)  # tag vector -> input embedding space
        with torch.no_grad():
            self.tag_in.weight.copy_(torch.eye(d))
            self.tag_in.bias.zero_()
        self.head = torch.nn.Linear(d, d)
        self.scale = torch.nn.Parameter(torch.tensor(10.0))
        self.bias = torch.nn.Parameter(torch.zeros(self.tag_text.shape[0]))  # b of eq. 5
        # [IMG] [LOC] [TIME] [USER]: learned vectors (the frozen word table's [unused] rows are
        # untrained); a user's token = the [USER] vector + that user's residual (row 0: unknown)
        self.markers = torch.nn.Parameter(torch.zeros(len(MARKERS), d))
        self.user_resid = torch.nn.Parameter(torch.zeros(n_users + 1, d))
        torch.nn.init.normal_(self.markers, std=0.02)

    def tag_matrix(self) -> torch.Tensor:
        """W_HT = E_text + R."""
        return self.tag_text + self.tag_resid

    def position_ids(self, n_ctx: torch.Tensor, width: int) -> torch.Tensor:
        """[B, width] position ids; ``n_ctx`` = length of ``[CLS] context [SEP]`` per row."""
        ar = torch.arange(width, device=n_ctx.device).unsqueeze(0).expand(n_ctx.shape[0], width)
        if self.positions == "all":
            return ar.clone()
        if self.positions == "none":
            return torch.zeros_like(ar)
        return torch.minimum(ar, n_ctx.unsqueeze(1))  # tag segment: all at the slot after [SEP]

    def embed(self, tokens: torch.Tensor, tags: torch.Tensor, users: torch.Tensor | None = None
              ) -> torch.Tensor:
        """Input embeddings [B, S, d]: words, marker vectors, the user token, tag vectors.

        ``tokens`` [B, S] word ids (0 at tag slots), ``tags`` [B, S] tag ids (-1 elsewhere),
        ``users`` [B] user rows (0 = unknown) for the ``[USER]`` slot."""
        emb = self.bert.embeddings.word_embeddings(tokens)
        mark = (tokens >= 1) & (tokens <= len(MARKERS))
        if bool(mark.any()):
            vec = self.markers[tokens[mark] - 1]
            is_user = tokens[mark] == MARKER_IDS[USER]
            if users is not None and bool(is_user.any()):
                rows = users.unsqueeze(1).expand_as(tokens)[mark]
                vec = vec + is_user.unsqueeze(1) * self.user_resid[rows]
            emb = emb.index_put(mark.nonzero(as_tuple=True), vec)
        slot = tags >= 0
        if bool(slot.any()):
            tvec = self.tag_in(self.tag_matrix()[tags[slot]])
            emb = emb.index_put(slot.nonzero(as_tuple=True), tvec)
        return emb

    def query(self, emb: torch.Tensor, attn: torch.Tensor, positions: torch.Tensor,
              types: torch.Tensor, mask_pos: torch.Tensor) -> torch.Tensor:
        """scale · normalised head of the ``[MASK]`` state [B, d] (what the ONNX file computes)."""
        h = self.bert(inputs_embeds=emb, attention_mask=attn, position_ids=positions,
                      token_type_ids=types).last_hidden_state
        hm = h[torch.arange(h.shape[0], device=h.device), mask_pos]
        return self.scale * F.normalize(self.head(hm), dim=-1)

    def forward(self, tokens: torch.Tensor, tags: torch.Tensor, n_ctx: torch.Tensor,
                mask_pos: torch.Tensor, attn: torch.Tensor, users: torch.Tensor | None = None
                ) -> torch.Tensor:
        """Logits z over all tags for the ``[MASK]`` of each row (``n_ctx`` [B]: length of
        ``[CLS] context [SEP]``, ``mask_pos`` [B]: index of ``[MASK]``, ``attn`` 1 = real)."""
        width = tokens.shape[1]
        types = (torch.arange(width, device=n_ctx.device).unsqueeze(0)
                 >= n_ctx.unsqueeze(1)).long()
        q = self.query(self.embed(tokens, tags, users), attn, self.position_ids(n_ctx, width),
                       types, mask_pos)
        return q @ self.tag_matrix().T + self.bias


class SOGBase(TagModel):
    """Shared by ``sog_1toM``, ``sog_1to1`` and ``br``: text contexts, batching, artifacts."""

    iterative: ClassVar[bool] = False  # fixed epochs: validation passes cost as much as training
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
                   ) -> list[tuple[int, list[int], list[int], int]]:
        """(item, prefix, target tags, user) of every post in ``order``."""
        out = []
        cap = self.config["max_steps"]
        for p in order:
            tags = list(dict.fromkeys(posts.tag[posts.indptr[p]:posts.indptr[p + 1]].tolist()))
            if not tags:
                continue
            tags = self._ordered(tags, int(p), rng)
            item, user = int(posts.item[p]), int(posts.user[p])
            if self.target == "br":
                out.append((item, [], tags, user))
                continue
            steps = len(tags) if cap is None else min(len(tags), int(cap))
            for i in range(steps):
                tgt = tags[i:] if self.target == "1toM" else [tags[i]]
                out.append((item, tags[:i], tgt, user))
            if self.config["end_tag"] and steps == len(tags):
                out.append((item, tags, [self.n_tags], user))  # END
        return out

    def _ordered(self, tags: list[int], post: int, rng: np.random.Generator) -> list[int]:
        """A post's tags in the order ``shuffle_tags`` asks for (see ``defaults``)."""
        mode = self.config["shuffle_tags"]
        if mode == "once":  # the same permutation of this post in every epoch
            perm = np.random.default_rng((self._fit_seed, post)).permutation(len(tags))
        elif mode:
            perm = rng.permutation(len(tags))
        else:
            return tags
        return [tags[k] for k in perm]

    def _loss(self, z: torch.Tensor, targets: list[list[int]]) -> torch.Tensor:
        rows = torch.tensor([r for r, t in enumerate(targets) for _ in t], device=z.device)
        cols = torch.tensor([c for t in targets for c in t], device=z.device)
        if self.target == "br":  # sigmoid BCE summed over tags, mean over the batch
            return (F.softplus(z).sum() - z[rows, cols].sum()) / z.shape[0]
        q = torch.zeros_like(z)
        w = torch.tensor([1.0 / len(t) for t in targets for _ in t], device=z.device)
        q[rows, cols] = w  # uniform over the remaining tags (1-to-M) or one-hot (1-to-1)
        return F.kl_div(F.log_softmax(z, dim=1), q, reduction="batchmean")  # eq. 11

    def _batch_loss(self, b: list[tuple[int, list[int], list[int], int]]) -> torch.Tensor:
        z = self.logits([x[0] for x in b], [x[1] for x in b], [x[3] for x in b])
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
                yield self._batch_loss(bucketed[k]), len(bucketed[k])

        def bookkeeping(ep: int, total: float, seconds: float) -> None:
            self.epoch_s_.append(seconds)
            n = made["instances"]
            self.fit_info_ = {"epoch_s": [round(s, 1) for s in self.epoch_s_],
                              "instances_per_epoch": n, "loss": round(total / max(n, 1), 4)}

        train_epochs(self.net, groups, Optim("adamw", c["lr"]), epochs or c["epochs"], batches,
                     what=self.name, model=self, callback=callback, on_epoch=bookkeeping)
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
    @torch.no_grad()
    def generate(self, items: list[int], given: list[list[int]], max_tags: int | None = None,
                 stop_p: float | None = None, batch_size: int = 256,
                 users: list[int] | None = None) -> tuple[list[list[int]], list[list[float]]]:
        """Greedy decoding (3.3): per item the generated tags and each step's top probability."""
        k = self.config["max_tags"] if max_tags is None else max_tags
        thr = self.config["stop_p"] if stop_p is None else stop_p
        self.net.eval()
        out_t: list[list[int]] = []
        out_p: list[list[float]] = []
        for a in range(0, len(items), batch_size):
            its = items[a:a + batch_size]
            us = [0] * len(its) if users is None else list(users[a:a + batch_size])
            prefix = [[int(t) for t in g] for g in given[a:a + batch_size]]
            gen: list[list[int]] = [[] for _ in its]
            probs: list[list[float]] = [[] for _ in its]
            live = list(range(len(its)))
            for _ in range(k):
                if not live:
                    break
                z = self.logits([its[r] for r in live], [prefix[r] + gen[r] for r in live],
                                [us[r] for r in live])
                for j, r in enumerate(live):
                    z[j, prefix[r] + gen[r]] = -torch.inf  # probability 0 for given/generated
                p = torch.softmax(z, dim=1)
                top_p, top = p.max(dim=1)
                finite = torch.isfinite(z.gather(1, top.unsqueeze(1))).squeeze(1).cpu()
                top_p, top = top_p.cpu(), top.cpu()  # one device->host copy per step
                nxt = []
                for j, r in enumerate(live):
                    if float(top_p[j]) < thr or not bool(finite[j]) \
                            or int(top[j]) >= self.n_tags:  # END won
                        continue
                    gen[r].append(int(top[j]))
                    probs[r].append(float(top_p[j]))
                    nxt.append(r)
                live = nxt
            out_t += gen
            out_p += probs
        return out_t, out_p

    @torch.no_grad()
    def beam_generate(self, items: list[int], given: list[list[int]], width: int,
                      max_tags: int | None = None, chunk: int = 64,
                      users: list[int] | None = None) -> list[list[int]]:
        """Beam search over tag sequences (the paper's Figure 5 comparison): per item the
        highest-log-probability sequence of ``max_tags`` tags.  Beams holding the same *set* are
        merged (the best order kept): for an order-free model they are one state."""
        k = self.config["max_tags"] if max_tags is None else max_tags
        self.net.eval()
        out: list[list[int]] = []
        for a in range(0, len(items), chunk):
            its, pre = items[a:a + chunk], [[int(t) for t in g] for g in given[a:a + chunk]]
            us = [0] * len(its) if users is None else list(users[a:a + chunk])
            beams: list[list[tuple[list[int], float]]] = [[([], 0.0)] for _ in its]
            for _ in range(k):
                rows = [(r, seq) for r, bs in enumerate(beams) for seq, _ in bs]
                z = self.logits([its[r] for r, _ in rows], [pre[r] + seq for r, seq in rows],
                                [us[r] for r, _ in rows])
                z = z[:, :self.n_tags].clone()
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


def choose_stop_p(model: SOGBase, items: list[int], truth: list[np.ndarray],
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


__all__ = ["SOGNet", "SOGBase", "SOG1toM", "SOG1to1", "BR", "choose_stop_p",
           "load_encoder", "tag_text_embeddings"]
