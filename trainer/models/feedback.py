"""A user's accepts and rejects as training signal for the personalization job.

A post's *positives* are the tags the user gave it (accepted suggestions and tags typed by
hand); its *rejections* are suggestions the user turned down — hard negatives: the model
ranked them high and the user said no.  Two terms use them (DESIGN.md step 4):
- the model's own loss with each rejection weighted ``reject_weight`` times an ordinary
  negative (DAE-PTR's eq. 11 cross-entropy; CNN-PerMLP's sampled negatives, see there);
- BPR over every (positive, rejection) pair of a post: −ln σ(x⁺ − x⁻), so a rejected tag is
  pushed below the tags the user did choose for the same item.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from trainer.data import TagData
from trainer.models.torch_util import PostTags


@dataclass
class Feedback:
    """Posts of some users (rows = posts) with their positive and rejected tags."""

    user: np.ndarray  # [P] user index of each post
    item: np.ndarray  # [P]
    pos_rows: torch.Tensor  # (post row, tag) of every positive, once each
    pos_cols: torch.Tensor
    rej_rows: torch.Tensor  # (post row, tag) of every rejection not also a positive
    rej_cols: torch.Tensor
    pair_pos: torch.Tensor  # flat indices row·T + tag of each (positive, rejection) pair
    pair_rej: torch.Tensor
    inputs: list[np.ndarray]  # each post's positive tags (DAE-PTR's ỹ before corruption)

    def __len__(self) -> int:
        return int(self.user.size)

    @classmethod
    def build(cls, posts: TagData, users: np.ndarray, rejected: TagData | None,
              n_tags: int) -> Feedback:
        """The posts of ``users`` in ``posts``; rejections on other (user, item) pairs (a post
        the user only rejected suggestions for) become posts with no positives."""
        mine = np.isin(posts.user, users)
        rej = rejected.subset(np.isin(rejected.user, users)) if rejected is not None else None
        n_items = max(posts.n_items, 1)
        keys = posts.user[mine].astype(np.int64) * n_items + posts.item[mine]
        rej_keys = (rej.user.astype(np.int64) * n_items + rej.item) if rej is not None \
            else np.empty(0, np.int64)
        uniq = np.unique(np.concatenate([keys, rej_keys]))
        row_of = {int(k): r for r, k in enumerate(uniq.tolist())}
        sub = posts.subset(mine)
        table = PostTags(sub) if len(sub) else None
        positives: list[np.ndarray] = [np.empty(0, np.int64)] * uniq.size
        if table is not None:
            for p in range(len(table)):
                r = row_of[int(table.user[p]) * n_items + int(table.item[p])]
                positives[r] = np.unique(table.tag[table.indptr[p]:table.indptr[p + 1]])
        rejections: list[list[int]] = [[] for _ in range(uniq.size)]
        for k, t in zip(rej_keys.tolist(), (rej.tag if rej is not None else []), strict=True):
            rejections[row_of[k]].append(int(t))
        rej_lists = [np.setdiff1d(np.array(r, np.int64), positives[i])
                     for i, r in enumerate(rejections)]
        pos_rows, pos_cols = _flat(positives)
        rej_rows, rej_cols = _flat(rej_lists)
        pp, pr = [], []
        for r, (p, n) in enumerate(zip(positives, rej_lists, strict=True)):
            if p.size and n.size:
                a, b = np.meshgrid(p, n, indexing="ij")
                pp.append(r * n_tags + a.ravel())
                pr.append(r * n_tags + b.ravel())
        return cls((uniq // n_items).astype(np.int64), (uniq % n_items).astype(np.int64),
                   pos_rows, pos_cols, rej_rows, rej_cols, _cat(pp), _cat(pr), positives)

    def named_tags(self) -> np.ndarray:
        """Every tag some post names, as a positive or a rejection (sorted)."""
        return np.unique(np.concatenate([self.pos_cols.numpy(), self.rej_cols.numpy()]))

    def on_columns(self, named: np.ndarray, width: int, n_tags: int) -> Feedback:
        """The same feedback on a column subset whose first columns are ``named`` (from
        :meth:`named_tags`) and whose rows are ``width`` wide; pair indices follow."""
        col = np.full(n_tags, -1, np.int64)
        col[named] = np.arange(named.size)

        def local(flat: torch.Tensor) -> torch.Tensor:
            f = flat.numpy()
            return torch.from_numpy((f // n_tags) * width + col[f % n_tags])

        return Feedback(self.user, self.item, self.pos_rows,
                        torch.from_numpy(col[self.pos_cols.numpy()]), self.rej_rows,
                        torch.from_numpy(col[self.rej_cols.numpy()]), local(self.pair_pos),
                        local(self.pair_rej), self.inputs)

    def rejection_weights(self, n_tags: int, reject_weight: float) -> torch.Tensor:
        """[P, T] weight of each (post, tag) term: 1, and ``reject_weight`` on rejections."""
        w = torch.ones(len(self), n_tags)
        w[self.rej_rows, self.rej_cols] = reject_weight
        return w

    def pair_bpr(self, logits: torch.Tensor) -> torch.Tensor:
        """Mean −ln σ(x⁺ − x⁻) over every (positive, rejection) pair; 0 with no pairs."""
        if self.pair_pos.numel() == 0:
            return logits.sum() * 0.0
        flat = logits.reshape(-1)
        return -torch.nn.functional.logsigmoid(flat[self.pair_pos] - flat[self.pair_rej]).mean()


def _flat(lists: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    rows = np.repeat(np.arange(len(lists)), [x.size for x in lists]).astype(np.int64)
    cols = np.concatenate(lists).astype(np.int64) if lists else np.empty(0, np.int64)
    return torch.from_numpy(rows), torch.from_numpy(cols)



def _cat(parts: list[np.ndarray]) -> torch.Tensor:
    return torch.from_numpy(np.concatenate(parts).astype(np.int64)) if parts \
        else torch.empty(0, dtype=torch.int64)
