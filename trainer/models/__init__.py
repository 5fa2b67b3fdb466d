"""Tag rankers behind one interface (:class:`trainer.models.base.TagModel`).

Names are fixed by ``../shared/docs/EVALUATION.md``; :data:`PLANNED` are named there but not
implemented yet, and :func:`create` says so instead of failing with a traceback.
"""
from __future__ import annotations

from typing import Any

from trainer.models.base import Batch, ModelFitError, TagModel
from trainer.models.cnn_permlp import CNNPerMLP
from trainer.models.dae_ptr import DAEPTR
from trainer.models.minilm_knn import MiniLMkNN
from trainer.models.pitf import PITF
from trainer.models.popularity import (
    BaseLevelLearning,
    BaseLevelLearningContent,
    MostPopular,
    MostPopularItem,
    MostPopularUser,
    MostPopularUserItem,
)
from trainer.models.served import Served
from trainer.models.sog import BR, SOG1to1, SOG1toM
from trainer.models.sog_ar import AR1to1, AR1toM
from trainer.models.tagspace import TagSpace
from trainer.models.text_rankers import AWE, WSABIE, CSRWd, CSRWs, CSRWt

REGISTRY: dict[str, type[TagModel]] = {m.name: m for m in (
    MostPopular, MostPopularUser, MostPopularItem, MostPopularUserItem, BaseLevelLearning,
    BaseLevelLearningContent, PITF, DAEPTR, CNNPerMLP, Served, BR, SOG1toM, SOG1to1, AR1to1,
    AR1toM, WSABIE, AWE, TagSpace, CSRWd, CSRWs, CSRWt, MiniLMkNN)}
PLANNED: tuple[str, ...] = ()


class UnknownModelError(ValueError):
    """A model name that is not implemented (yet)."""


def create(name: str, **config: Any) -> TagModel:
    if name not in REGISTRY:
        what = "is named in EVALUATION.md but not implemented yet" if name in PLANNED \
            else "is not a known model"
        raise UnknownModelError(f"model {name!r} {what}; implemented: {', '.join(REGISTRY)}")
    return REGISTRY[name](**config)


__all__ = ["Batch", "ModelFitError", "TagModel", "REGISTRY", "PLANNED", "create",
           "UnknownModelError"]
