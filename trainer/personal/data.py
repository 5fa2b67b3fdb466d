"""The personal job's data: the library's photo posts as a :class:`TagData`, the user's
recent photos held out, the photos new since a version, and the user's rejections."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from tagassist.library import Library
from trainer.data import TagData
from trainer.personal import NotPublished

FEATURIZER = "image-lite0"
VALIDATION_SHARE = 0.2
MAX_VALIDATION = 100


@dataclass
class LibraryPosts:
    """The library's photo posts as a :class:`TagData`, with one feature row per item."""

    data: TagData
    features: np.ndarray  # float32 [n_items, F]
    item_ids: list[int]  # library item id of each item index
    user_ids: list[int]  # library user id of each user index
    feature_version: str


def _unix(created: str) -> float:
    try:
        return datetime.fromisoformat(created.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def load_posts(library: Library, featurizer: str = FEATURIZER) -> LibraryPosts:
    """All users' tags on items that have ``featurizer`` features (other items are skipped)."""
    records: list[tuple[int, int, str, float]] = []
    for user in library.users.all():
        records += [(user.id, h.item_id, h.tag, _unix(h.created))
                    for h in library.queries.tag_history(user.id)]
    found = library.features.get(sorted({r[1] for r in records}), featurizer)
    records = [r for r in records if r[1] in found]
    if not records:
        raise NotPublished(f"no tagged item has {featurizer} features yet "
                           "(run 'tagassist featurize' first)")
    versions = {f.version for f in found.values()}
    version = max(versions)
    records = [r for r in records if found[r[1]].version == version]
    first: dict[tuple[int, int, str], float] = {}
    for u, i, t, ts in records:
        first[(u, i, t)] = min(ts, first.get((u, i, t), ts))
    users = sorted({k[0] for k in first})
    items = sorted({k[1] for k in first})
    tags = sorted({k[2] for k in first})
    ui, ii, ti = ({v: n for n, v in enumerate(x)} for x in (users, items, tags))
    keys = list(first)
    data = TagData(np.array([ui[k[0]] for k in keys], np.int64),
                   np.array([ii[k[1]] for k in keys], np.int64),
                   np.array([ti[k[2]] for k in keys], np.int64),
                   np.array([first[k] for k in keys], np.float64),
                   [str(u) for u in users], [str(i) for i in items], tags, name="library")
    feats = np.stack([np.asarray(found[i].vector, np.float32) for i in items])
    return LibraryPosts(data, feats, items, users, version)


def _first_tagged(posts: LibraryPosts, user: int) -> dict[int, float]:
    """The time each of the user's photos got its first tag."""
    d = posts.data
    mine = d.user == user
    first: dict[int, float] = {}
    for i, t in zip(d.item[mine].tolist(), d.time[mine].tolist(), strict=True):
        first[i] = min(t, first.get(i, t))
    return first


def recent_split(posts: LibraryPosts, user: int, share: float = VALIDATION_SHARE,
                 ) -> tuple[TagData, np.ndarray]:
    """Training table without the user's most recent photos, and those photos' item indices."""
    d = posts.data
    first_time = _first_tagged(posts, user)
    order = sorted(first_time, key=lambda i: (first_time[i], i))
    n_val = min(MAX_VALIDATION, max(1, round(share * len(order))))
    val_items = np.array(order[-n_val:], np.int64)
    held = (d.user == user) & np.isin(d.item, val_items)
    return d.subset(~held), val_items


def new_photos(posts: LibraryPosts, user: int, trained_until: float) -> np.ndarray:
    """The user's photos first tagged after the previous version's newest tag, oldest first:
    posts that model never saw, so both it and the candidate are judged on unseen photos."""
    fresh = sorted((t, i) for i, t in _first_tagged(posts, user).items() if t > trained_until)
    return np.array([i for _, i in fresh[-MAX_VALIDATION:]], np.int64)


def truth_of(data: TagData, user: int, items: np.ndarray) -> list[np.ndarray]:
    mine = data.user == user
    return [np.unique(data.tag[mine & (data.item == i)]) for i in items.tolist()]


def rejections(library: Library, posts: LibraryPosts, user: int) -> TagData:
    """The user's rejected suggestions on photos of the table, tags of its vocabulary."""
    d = posts.data
    paths = {t.id: t.path for t in library.tags.all()}
    tag_of = {t: n for n, t in enumerate(d.tags)}
    item_of = {i: n for n, i in enumerate(posts.item_ids)}
    rows = [(item_of[x.item_id], tag_of[paths[x.tag_id]])
            for x in library.assignments.decisions(posts.user_ids[user])
            if not x.accepted and x.item_id in item_of and paths.get(x.tag_id) in tag_of]
    arr = np.array(rows, np.int64).reshape(-1, 2)
    return TagData(np.full(len(rows), user, np.int64), arr[:, 0], arr[:, 1],
                   np.zeros(len(rows)), d.users, d.items, d.tags, name="rejections")
