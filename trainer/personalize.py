"""One guarded personalization step: fit a user's rows, keep them only if not worse.

``guarded_update(model, posts, user, holdout=...)`` (DESIGN.md step 5, issue 7):
1. a copy of the model fits the user's rows (``partial_fit_users``: p_u / V_j κ_u and the
   rows of the user's new tags; shared weights fixed) on the user's posts *without* the
   ``holdout`` items — the user's most recent posts — and the user's rejections;
2. the previous model and the candidate suggest for the holdout items as for new ones (no
   input tags); acceptance@5 (= P@5) is compared;
3. worse (or NaN during the fit) → the previous model is returned unchanged; otherwise the
   candidate continues on *all* the user's posts (``REFIT_SHARE`` of the steps, so the most
   recent posts count too) and is returned.
Both the replay protocol (``trainer.replay``) and the app's job (``trainer.personal``) use it,
on any :class:`~trainer.models.base.Personalizable` model.
"""
from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from trainer.data import TagData
from trainer.models.base import Batch, ModelFitError, Personalizable, no_check

REFIT_SHARE = 0.5
M = TypeVar("M", bound=Personalizable)  # the model given is the kind returned


@dataclass
class UpdateReport:
    before: float  # acceptance@5 of the previous model on the holdout posts
    after: float  # the candidate's (fit without them)
    kept: str  # "candidate" or "previous"
    reason: str = ""

    def as_dict(self) -> dict[str, float | str]:
        return {"before": round(self.before, 4), "after": round(self.after, 4),
                "kept": self.kept, "reason": self.reason}


def suggest_scores(model: Personalizable, user: int, items: np.ndarray) -> np.ndarray:
    """[len(items), n_tags] scores as for new items: no input tags yet."""
    items = np.asarray(items, np.int64)
    batch = Batch(np.full(items.size, user, np.int64), items, np.zeros(items.size),
                  [np.empty(0, np.int64)] * items.size)
    return np.asarray(model.score(batch), np.float64)


def top_k(scores: np.ndarray, k: int = 5) -> np.ndarray:
    """[n, k] tag indices, best first (ties by index: deterministic)."""
    part = np.argsort(-scores, axis=1, kind="stable")
    return part[:, :k]


def acceptance(top: np.ndarray, truth: list[np.ndarray]) -> np.ndarray:
    """Per post: accepted suggestions / k (P@k; k even if the truth is smaller)."""
    return np.array([np.isin(t, tr).sum() / top.shape[1] for t, tr in zip(top, truth,
                                                                         strict=True)])


def user_truth(posts: TagData, user: int, items: np.ndarray) -> list[np.ndarray]:
    mine = posts.user == user
    return [np.unique(posts.tag[mine & (posts.item == i)]) for i in np.asarray(items).tolist()]


def guarded_update(model: M, posts: TagData, user: int, *, holdout: np.ndarray,
                   rejected: TagData | None = None, new_tags: np.ndarray | None = None,
                   seed: int = 0, check: Callable[[], None] = no_check,
                   ) -> tuple[M, UpdateReport]:
    """The model to use next for ``user`` and what was decided (see the module doc)."""
    holdout = np.asarray(holdout, np.int64)
    mine = posts.user == user
    held = mine & np.isin(posts.item, holdout)
    truth = user_truth(posts, user, holdout)
    before = float(acceptance(top_k(suggest_scores(model, user, holdout)), truth).mean()) \
        if holdout.size else 0.0
    candidate = copy.deepcopy(model)
    rej_train = None
    if rejected is not None:
        rej_train = rejected.subset(~((rejected.user == user) & np.isin(rejected.item, holdout)))
    try:
        candidate.partial_fit_users(posts.subset(~held), np.array([user]), seed=seed,
                                    rejected=rej_train, new_tags=new_tags, check=check)
    except ModelFitError as e:
        return model, UpdateReport(before, float("nan"), "previous", str(e))
    after = float(acceptance(top_k(suggest_scores(candidate, user, holdout)), truth).mean()) \
        if holdout.size else 0.0
    if after < before:
        return model, UpdateReport(before, after, "previous", "worse on your recent posts")
    steps = max(1, round(REFIT_SHARE * int(candidate.config["personal_steps"])))
    try:
        candidate.partial_fit_users(posts, np.array([user]), epochs=steps, seed=seed + 1,
                                    rejected=rejected, new_tags=new_tags, check=check)
    except ModelFitError as e:
        return model, UpdateReport(before, after, "previous", str(e))
    return candidate, UpdateReport(before, after, "candidate")
