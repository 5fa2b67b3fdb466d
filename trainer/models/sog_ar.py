"""AR baselines of the SOG paper (4.1.3): BERT encoder + a Transformer decoder, 1-to-1 and 1-to-M.

Paper: ``../shared/papers/sog_sequence-oblivious-tag-generation.txt`` ("AR (1-to-1 vs. 1-to-M)";
appendix: a one-layer Transformer decoder, 12 layers gave nothing).  Same encoder, context,
tag vocabulary (text embedding + residual, tied input/output) and output head as
:mod:`trainer.models.sog`, so the comparison isolates the decoding scheme:

- the encoder reads ``[CLS] context [SEP]`` with ordinary positions, once per post;
- the decoder reads ``[BOS] t_1 … t_{i-1}`` with *sequential* learned positions and a causal
  mask, cross-attends to the encoder states, and its state at step i is scored against the tag
  matrix like SOG's ``[MASK]`` (normalised head × scale + bias);
- training is teacher-forced over the whole (re-shuffled) tag sequence in one pass: the target of
  step i is the next tag (1-to-1) or uniform over the tags not yet given (1-to-M, KL) — the same
  instances and targets as SOG's;
- decoding is greedy (or beam) through :meth:`SOGBase.generate`, excluding given tags.
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F

from trainer.models.sog import SOGBase
from trainer.models.sog_net import SOGNet
from trainer.models.torch_util import PostTags

MAX_DECODE = 64  # decoder positions: longer tag sequences are truncated


class ARNet(SOGNet):
    """SOG's tag vocabulary and head, fed by a causal decoder over the tag sequence."""

    def __init__(self, bert: torch.nn.Module, tag_emb: np.ndarray, layers: int = 1,
                 n_users: int = 0) -> None:
        super().__init__(bert, tag_emb, positions="all", n_users=n_users)
        d = bert.config.hidden_size
        heads = bert.config.num_attention_heads
        layer = torch.nn.TransformerDecoderLayer(d, heads, 4 * d, dropout=0.1, batch_first=True,
                                                 activation="gelu")
        self.decoder = torch.nn.TransformerDecoder(layer, layers)
        self.bos = torch.nn.Parameter(torch.zeros(d))
        self.dec_pos = torch.nn.Embedding(MAX_DECODE + 1, d)
        torch.nn.init.normal_(self.dec_pos.weight, std=0.02)

    def decode(self, ctx: torch.Tensor, ctx_attn: torch.Tensor, seq: torch.Tensor,
               users: torch.Tensor | None = None) -> torch.Tensor:
        """Logits [B, L+1, T]: step j scores the tag after ``seq[:, :j]`` (``seq`` -1 = pad)."""
        emb = self.embed(ctx, torch.full_like(ctx, -1), users)  # words, markers, user token
        memory = self.bert(inputs_embeds=emb, attention_mask=ctx_attn).last_hidden_state
        b, n = seq.shape
        dev = memory.device
        x = torch.zeros((b, n + 1, memory.shape[-1]), device=dev)
        x[:, 0] = self.bos
        real = seq >= 0
        if bool(real.any()):
            rows, cols = real.nonzero(as_tuple=True)
            x = x.index_put((rows, cols + 1), self.tag_in(self.tag_matrix()[seq[real]]))
        x = x + self.dec_pos(torch.arange(n + 1, device=dev)).unsqueeze(0)
        pad = torch.cat([torch.zeros((b, 1), dtype=torch.bool, device=dev), ~real], dim=1)
        causal = torch.ones((n + 1, n + 1), dtype=torch.bool, device=dev).triu(1)  # True = masked
        h = self.decoder(x, memory, tgt_mask=causal, tgt_key_padding_mask=pad,
                         memory_key_padding_mask=ctx_attn == 0, tgt_is_causal=True)
        return self.scale * F.normalize(self.head(h), dim=-1) @ self.tag_matrix().T + self.bias


class ARBase(SOGBase):
    defaults: ClassVar[dict] = {**SOGBase.defaults, "decoder_layers": 1}
    data_parallel: ClassVar[bool] = False  # the loss runs through net.decode: not DDP's forward

    def _make_net(self, bert: torch.nn.Module, emb: np.ndarray) -> torch.nn.Module:
        return ARNet(bert, emb, int(self.config["decoder_layers"]), self.n_users)

    def _instances(self, posts: PostTags, order: np.ndarray, rng: np.random.Generator
                   ) -> list[tuple[int, list[int], list[int], int]]:
        """One row per post: (item, the decoder's input tags, the post's tags in that order,
        user)."""
        out = []
        cap = self.config["max_steps"]
        for p in order:
            tags = list(dict.fromkeys(posts.tag[posts.indptr[p]:posts.indptr[p + 1]].tolist()))
            if not tags:
                continue
            tags = self._ordered(tags, int(p), rng)
            steps = min(len(tags), MAX_DECODE, len(tags) if cap is None else int(cap))
            out.append((int(posts.item[p]), tags[:steps - 1], tags, int(posts.user[p])))
        return out

    def _encode_inputs(self, items: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        ctxs = [self._context_ids(i) for i in items]
        width = max(len(c) for c in ctxs)
        tok = torch.zeros((len(ctxs), width), dtype=torch.long)
        attn = torch.zeros((len(ctxs), width), dtype=torch.long)
        for r, c in enumerate(ctxs):
            tok[r, :len(c)] = torch.tensor(c)
            attn[r, :len(c)] = 1
        return tok.to(self.device), attn.to(self.device)

    def _seq(self, prefixes: list[list[int]]) -> torch.Tensor:
        n = max((len(p) for p in prefixes), default=0)
        seq = torch.full((len(prefixes), n), -1, dtype=torch.long)
        for r, p in enumerate(prefixes):
            if p:
                seq[r, :len(p)] = torch.tensor(p[-MAX_DECODE:])
        return seq.to(self.device)

    def _batch_loss(self, b: list[tuple[int, list[int], list[int], int]],
                    net: torch.nn.Module | None = None) -> torch.Tensor:
        """Teacher-forced loss of ``b`` (``net`` is ``self.net``: AR trains unsplit)."""
        z = self.net.decode(*self._encode_inputs([x[0] for x in b]),
                            self._seq([x[1] for x in b]),
                            self._user_rows([x[3] for x in b], len(b)))
        rows, targets = [], []
        for r, (_item, given, tags, _user) in enumerate(b):
            for i in range(len(given) + 1):  # step i: tags[:i] given
                rows.append(z[r, i])
                targets.append(tags[i:] if self.target == "1toM" else [tags[i]])
        return self._loss(torch.stack(rows), targets)

    def logits(self, items: list[int], prefixes: list[list[int]],
               users: list[int] | None = None) -> torch.Tensor:
        z = self.net.decode(*self._encode_inputs(items), self._seq(prefixes),
                            self._user_rows(users, len(items)))
        last = torch.tensor([min(len(p), MAX_DECODE) for p in prefixes], device=z.device)
        return z[torch.arange(len(items), device=z.device), last]


class AR1to1(ARBase):
    name: ClassVar[str] = "ar_1to1"
    target: ClassVar[str] = "1to1"


class AR1toM(ARBase):
    name: ClassVar[str] = "ar_1toM"
    target: ClassVar[str] = "1toM"


__all__ = ["ARNet", "ARBase", "AR1to1", "AR1toM"]
