"""The update: the previous version's trainer weights as the warm start, only the user's
rows (and new tags' rows) fitted, kept only if not worse on the photos tagged since."""
from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from tagassist.library import Library
from tagassist.suggest.model_store import PERSONAL_CONTENT, active_version
from tagassist.suggest.train_events import Progress
from trainer.models import REGISTRY
from trainer.models.base import TagModel, remap_rows
from trainer.personal import NotPublished
from trainer.personal.data import LibraryPosts, new_photos, rejections, truth_of
from trainer.personal.measure import content_scores, measure, platt
from trainer.personal.publish import WEIGHTS
from trainer.personalize import guarded_update

Report = Callable[[Progress], None]


def load_previous(library: Library, user_id: int, progress: Report,
                  ) -> tuple[TagModel, dict[str, Any]] | None:
    """The active version's trainer weights and metadata; None (and a message) when there is
    none or it cannot be read — a damaged previous model means a full training."""
    record = active_version(library, PERSONAL_CONTENT, user_id)
    if record is None:
        return None
    folder = Path(record.path)
    try:
        meta = json.loads((folder / "metadata.json").read_text())
        model = REGISTRY[meta["model"]].load(folder / WEIGHTS)
        meta["trained_photos"] = int(meta["trained_photos"])
        meta["trained_until"] = float(meta["trained_until"])
        meta["folder"] = str(folder)
        return model, meta
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile, RuntimeError) as e:
        progress(Progress(stage="data", message=(
            f"your previous model ({record.version}) cannot be read "
            f"({type(e).__name__}: {e}); training everything again")))
        return None


def update_personal(library: Library, posts: LibraryPosts, user: int,
                    previous: tuple[TagModel, dict[str, Any]], seed: int, progress: Report,
                    check: Callable[[], None]) -> tuple[TagModel, dict[str, Any]]:
    """Only the user's rows (and new tags' rows): warm start from the previous version, fit
    on the user's photos and rejections, keep it only if not worse on the recent photos."""
    model, meta = previous
    d = posts.data
    old_tags = {t: n for n, t in enumerate(meta["tags"])}
    old_users = {u: n for n, u in enumerate(meta["users"])}
    tag_index = np.array([old_tags.get(t, -1) for t in d.tags], np.int64)
    remap_rows(model, tag_index, np.array([old_users.get(u, -1) for u in d.users], np.int64))
    model.item_features = posts.features  # this library's photos, in this table's order
    model.n_items = d.n_items
    holdout = new_photos(posts, user, float(meta["trained_until"]))
    if not holdout.size:
        raise NotPublished(f"nothing new since {meta.get('version') or 'your last model'}: "
                           "tag some new photos first (or train everything again with --full)")
    rejected = rejections(library, posts, user)
    mine = np.unique(d.tag[d.user == user])
    new = mine[tag_index[mine] < 0]
    progress(Progress(stage="update", extra={
        "photos": int(np.unique(d.item[d.user == user]).size), "rejections": len(rejected),
        "new_tags": int(new.size), "recent_photos": int(holdout.size)}))
    updated, report = guarded_update(model, d, user, holdout=holdout, rejected=rejected,
                                     new_tags=new, seed=seed, check=check)
    check()
    if report.kept != "candidate":
        raise NotPublished(f"the update was not kept ({report.reason}: acceptance@5 on your "
                           f"{holdout.size} most recent photos {report.before:.2f} before, "
                           f"{report.after:.2f} after); the previous model stays")
    truth = truth_of(d, user, holdout)
    scores = content_scores(updated, user, holdout)
    a, b = platt(scores, truth)
    metrics = {"mode": "update", "validation": measure(scores, truth, seed),
               "recent_acceptance@5": report.as_dict(), "validation_photos": int(holdout.size),
               "rejections": len(rejected), "new_tags": [d.tags[t] for t in new.tolist()],
               "previous_version": meta.get("version", "")}
    return updated, {"model": updated.name, "metrics": metrics,
                     "calibration": {"a": a, "b": b},
                     "reuse": Path(meta["folder"])}  # its graph, refilled, if it fits
