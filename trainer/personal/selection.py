"""The full training: every candidate fitted with its epochs chosen on the user's recent
photos, the best one kept only if it beats the user's most frequent tags, then refitted on
all posts and calibrated on the held-out photos' scores."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tagassist.suggest.train_events import Progress
from trainer.data import TagData
from trainer.models import create
from trainer.models.base import ModelFitError, TagModel
from trainer.personal import NotPublished
from trainer.personal.data import LibraryPosts, recent_split, truth_of
from trainer.personal.measure import content_scores, measure, platt, popularity_scores

EVAL_EVERY = 10
CANDIDATES = ("dae_ptr", "cnn_permlp")
# small data: K 64 is plenty for a few hundred photos (and keeps the ONNX file small)
# an update fits the user's rows and new tags' rows only: the full training already fitted the
# shared weights on this library, i.e. on the user's own photos (a judgement, not measured)
CONFIGS: dict[str, dict[str, Any]] = {"dae_ptr": {"k": 64, "c": 0.5, "epochs": 100,
                                                  "batch_size": 64},
                                      "cnn_permlp": {}}

Report = Callable[[Progress], None]


def fit_select(name: str, train: TagData, posts: LibraryPosts, user: int, val: np.ndarray,
               truth: list[np.ndarray], seed: int, progress: Report,
               check: Callable[[], None]) -> dict[str, Any]:
    """Fit ``name`` on ``train``, scoring validation every EVAL_EVERY epochs; best epoch."""
    model = create(name, item_features=posts.features, **CONFIGS[name])  # type: ignore[arg-type]
    cap = int(model.config["epochs"])
    curve: list[tuple[int, float, dict[str, float], np.ndarray]] = []

    def callback(ep: int, m: TagModel) -> None:
        check()
        progress(Progress(stage="select", model=name, epoch=ep, epochs=cap))
        if ep % EVAL_EVERY == 0 or ep == cap:
            s = content_scores(m, user, val)
            met = measure(s, truth, seed)
            curve.append((ep, met["f1@5"], met, s))

    model.fit(train, seed=seed, epochs=cap, callback=callback)  # the config's cap, as is
    ep, _, met, scores = max(curve, key=lambda c: (c[1], -c[0]))
    return {"model": name, "epochs": ep, "validation": met, "scores": scores,
            "curve": [(c[0], c[1]) for c in curve]}


def full_train(posts: LibraryPosts, user: int, seed: int, progress: Report,
               check: Callable[[], None], candidates: tuple[str, ...],
               ) -> tuple[TagModel, dict[str, Any]]:
    """Every weight from scratch: select a model on the user's recent photos, refit on all."""
    train, val = recent_split(posts, user)
    truth = truth_of(posts.data, user, val)
    progress(Progress(stage="data", extra={
        "posts": int(len(train)),
        "photos": int(np.unique(posts.data.item[posts.data.user == user]).size),
        "validation_photos": int(val.size), "tags": posts.data.n_tags}))
    baseline = measure(popularity_scores(train, user, val.size), truth, seed)
    tried, failed = [], {}
    for name in candidates:  # one model that cannot fit these photos leaves the others
        try:
            tried.append(fit_select(name, train, posts, user, val, truth, seed, progress,
                                    check))
        except ModelFitError as e:
            failed[name] = str(e)
    if not tried:
        raise NotPublished("no model could learn from these photos: "
                           + "; ".join(f"{n}: {why}" for n, why in failed.items()))
    best = max(tried, key=lambda r: r["validation"]["f1@5"])
    if best["validation"]["f1@5"] < baseline["f1@5"]:
        raise NotPublished(f"best model {best['model']} (F1@5 {best['validation']['f1@5']}) "
                           f"is not better than your most frequent tags ({baseline['f1@5']})")
    a, b = platt(best["scores"], truth)
    progress(Progress(stage="refit", model=best["model"], epochs=best["epochs"]))
    final = create(best["model"], item_features=posts.features,  # type: ignore[arg-type]
                   **dict(CONFIGS[best["model"]], epochs=best["epochs"]))

    def refit_tick(ep: int, m: TagModel) -> None:
        check()
        progress(Progress(stage="refit", model=best["model"], epoch=ep,
                          epochs=best["epochs"]))

    final.fit(posts.data, seed=seed, callback=refit_tick)
    check()
    metrics = {"mode": "full", "validation": best["validation"], "baseline_mp_u": baseline,
               "validation_photos": int(val.size),
               "candidates": {r["model"]: r["validation"] for r in tried},
               "failed": failed}
    return final, {"model": best["model"], "metrics": metrics, "calibration": {"a": a, "b": b}}
