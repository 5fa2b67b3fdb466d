"""One run of the personal job end to end: the library's posts, update or full training
(see :mod:`trainer.personal`), then the new version published."""
from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import numpy as np

from tagassist.library import Library
from tagassist.suggest.train_events import Done, Progress
from trainer.models.base import no_check
from trainer.personal import NotPublished
from trainer.personal.data import load_posts
from trainer.personal.publish import publish
from trainer.personal.selection import CANDIDATES, Report, full_train
from trainer.personal.update import load_previous, update_personal

MIN_PHOTOS = 10  # the user's tagged photos with features needed to train at all
# the shared weights are trained again once the library has this many times the photos of the
# last full training; below it an update fits only the user's rows
FULL_RETRAIN_GROWTH = 2.0


def train_personal(library: Library, user_id: int, *, seed: int = 0,
                   progress: Report = lambda e: None,
                   check: Callable[[], None] = no_check,
                   candidates: tuple[str, ...] = CANDIDATES, full: bool = False) -> Done:
    """Update (or first train), export and publish one version; returns the 'done' event.

    With a previous version whose weights load, and fewer than ``FULL_RETRAIN_GROWTH`` times
    the photos it was trained on, only the user's rows are updated (:func:`update_personal`);
    otherwise — or with ``full`` — the shared weights are trained again (:func:`full_train`).
    """
    t0 = time.perf_counter()
    posts = load_posts(library)
    if user_id not in posts.user_ids:
        raise NotPublished("you have no tagged photos with features yet")
    user = posts.user_ids.index(user_id)
    n_mine = np.unique(posts.data.item[posts.data.user == user]).size
    if n_mine < MIN_PHOTOS:
        raise NotPublished(f"{n_mine} tagged photos with features; at least {MIN_PHOTOS} "
                           "are needed for a personal model")
    notes: list[str] = []  # what the user should hear about (a damaged previous model)

    def noting(event: Progress) -> None:
        if event.message:
            notes.append(event.message)
        progress(event)

    previous = None if full else load_previous(library, user_id, noting)
    photos = int(np.unique(posts.data.item).size)
    if previous is not None and photos >= FULL_RETRAIN_GROWTH * previous[1]["trained_photos"]:
        noting(Progress(stage="data", message=(
            f"{photos} photos against {previous[1]['trained_photos']} at the last full "
            "training: training everything again")))
        previous = None
    if previous is None:
        final, record = full_train(posts, user, seed, progress, check, candidates)
        trained_photos = photos
    else:
        final, record = update_personal(library, posts, user, previous, seed, progress, check)
        trained_photos = int(previous[1]["trained_photos"])
    done = publish(library, final, posts, user_id, record, trained_photos, check)
    return dataclasses.replace(done, seconds=round(time.perf_counter() - t0, 1), notes=notes)
