"""The personal content ranker, served from ONNX (trained by ``python -m trainer.personal``).

A model folder written by the trainer holds DAE-PTR with the content vector in place of the
item embedding, or CNN-PerMLP (whichever won on the user's most recent photos), and in its
``metadata.json`` the tag list, the user list and a Platt calibration ``p = σ(a·s + b)``
fitted on those held-out photos — so :meth:`PersonalRanker.suggest` returns probabilities.

Inputs (ONNX): ``features`` [batch, F] (the stored ``image-lite0`` embedding), ``user`` [batch]
(index into the model's users, -1 for a user the model has not seen) and, for DAE-PTR,
``tags_in`` [batch, n_tags] (multi-hot of the tags already on the item).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from tagassist.library import Library
from tagassist.suggest.model_store import PERSONAL_CONTENT, active_version
from tagassist.suggest.runtime import ModelLoadError, OnnxModel
from tagassist.suggest.suggesters import Suggestion

REASON = "learned from your tagged photos"
LIMIT = 20


class PersonalRanker:
    """One loaded personal content model (verified and warmed up by :class:`OnnxModel`)."""

    def __init__(self, model: OnnxModel) -> None:
        meta = model.metadata
        for key in ("tags", "users", "calibration", "featurizer", "feature_version"):
            if key not in meta:
                raise ModelLoadError(f"{model.dir}: metadata.json lacks '{key}': not a "
                                     "personal content model (retrain with 'tagassist train')")
        self.model = model
        self.tags: list[str] = list(meta["tags"])
        self.users: list[str] = [str(u) for u in meta["users"]]
        self.featurizer: str = str(meta["featurizer"])
        self.feature_version: str = str(meta["feature_version"])
        self.a = float(meta["calibration"]["a"])
        self.b = float(meta["calibration"]["b"])
        self.version = str(meta.get("version", ""))
        self._index = {t: n for n, t in enumerate(self.tags)}

    @classmethod
    def for_user(cls, library: Library, user_id: int) -> PersonalRanker | None:
        """The user's active model; None before the first training.  A registered model whose
        folder is missing or broken raises ``ModelLoadError`` with the reason."""
        record = active_version(library, PERSONAL_CONTENT, user_id)
        if record is None:
            return None
        return cls(OnnxModel(record.path))

    def probabilities(self, features: np.ndarray, user_id: int,
                      present: Sequence[Sequence[str]] | None = None) -> np.ndarray:
        """Calibrated P(tag) for a batch of items, [batch, n_tags]."""
        x = np.atleast_2d(np.asarray(features, np.float32))
        key = str(user_id)
        user = self.users.index(key) if key in self.users else -1
        feeds = {"features": x, "user": np.full(x.shape[0], user, np.int64)}
        if "tags_in" in self.model.input_names:
            tags_in = np.zeros((x.shape[0], len(self.tags)), np.float32)
            for r, tags in enumerate(present or []):
                for t in tags:
                    if t in self._index:
                        tags_in[r, self._index[t]] = 1.0
            feeds["tags_in"] = tags_in
        scores = self.model.run(feeds)["scores"].astype(np.float64)
        return 1.0 / (1.0 + np.exp(-np.clip(self.a * scores + self.b, -50.0, 50.0)))

    def suggest(self, features: np.ndarray, user_id: int, present: Sequence[str] = (),
                limit: int = LIMIT) -> list[Suggestion]:
        """Top ``limit`` tags for one item, tags already on it excluded."""
        p = self.probabilities(features, user_id, [list(present)])[0]
        skip = set(present)
        order = np.argsort(-p, kind="stable")
        out: list[Suggestion] = []
        for n in order.tolist():
            if self.tags[n] in skip:
                continue
            if len(out) == limit or not math.isfinite(p[n]):
                break
            out.append(Suggestion(self.tags[n], round(float(p[n]), 6), REASON))
        return out
