"""SOG's and BR's training instances and loss (paper 3.2): which (item, given tags, target tags,
user) rows a post yields, in which tag order, and the loss of the logits against the targets."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from trainer.models.torch_util import PostTags

Instance = tuple[int, list[int], list[int], int]  # (item, given tags, target tags, user)


def post_instances(posts: PostTags, order: np.ndarray, arrange: Callable[[list[int], int],
                   list[int]], target: str, max_steps: int | None, end_tag: int | None
                   ) -> list[Instance]:
    """The instances of every post in ``order``; ``arrange(tags, post)`` orders a post's tags,
    ``end_tag`` is the END row's index (``None``: no END instance)."""
    out = []
    for p in order:
        tags = list(dict.fromkeys(posts.tag[posts.indptr[p]:posts.indptr[p + 1]].tolist()))
        if not tags:
            continue
        tags = arrange(tags, int(p))
        item, user = int(posts.item[p]), int(posts.user[p])
        if target == "br":
            out.append((item, [], tags, user))
            continue
        steps = len(tags) if max_steps is None else min(len(tags), int(max_steps))
        for i in range(steps):
            tgt = tags[i:] if target == "1toM" else [tags[i]]
            out.append((item, tags[:i], tgt, user))
        if end_tag is not None and steps == len(tags):
            out.append((item, tags, [end_tag], user))
    return out


def ordered_tags(tags: list[int], mode: bool | str, rng: np.random.Generator,
                 once_seed: tuple[int, int]) -> list[int]:
    """A post's tags in the order ``shuffle_tags`` (``mode``) asks for: True reshuffles with
    ``rng``, False keeps the data file's order, "once" one order seeded by ``once_seed``."""
    if mode == "once":  # the same permutation of this post in every epoch
        perm = np.random.default_rng(once_seed).permutation(len(tags))
    elif mode:
        perm = rng.permutation(len(tags))
    else:
        return tags
    return [tags[k] for k in perm]


def target_loss(z: torch.Tensor, targets: list[list[int]], target: str) -> torch.Tensor:
    """KL(q‖p) to q uniform over each row's targets (eq. 11), or BR's sigmoid BCE."""
    rows = torch.tensor([r for r, t in enumerate(targets) for _ in t], device=z.device)
    cols = torch.tensor([c for t in targets for c in t], device=z.device)
    if target == "br":  # sigmoid BCE summed over tags, mean over the batch
        return (F.softplus(z).sum() - z[rows, cols].sum()) / z.shape[0]
    q = torch.zeros_like(z)
    w = torch.tensor([1.0 / len(t) for t in targets for _ in t], device=z.device)
    q[rows, cols] = w  # uniform over the remaining tags (1-to-M) or one-hot (1-to-1)
    return F.kl_div(F.log_softmax(z, dim=1), q, reduction="batchmean")  # eq. 11
