"""SOG's network: the encoder over ``[CLS] context [SEP] tags [MASK]`` with order-free tag
positions, the tied tag vocabulary ``W_HT = E_text + R`` and the ``[MASK]`` scoring head
(eq. 4-7; the paper notes are in :mod:`trainer.models.sog`)."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from tagassist.suggest.sog_context import MARKER_IDS, MARKERS, USER

POSITIONS = ("context", "none", "all")


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
