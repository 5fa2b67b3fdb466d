"""What tagging follows: per-(item, tag) signals from the person's own tagged items.

DESIGN.md step 3: photos of one afternoon or one place share most of their tags, a tag brings
its companions, and a person's look-alike photos speak their own vocabulary from the first tag.
:class:`LibraryIndex` holds one user's tagged items as flat arrays (read once per library
revision); :meth:`LibraryIndex.signals` scores every tag the user has for one item:

- ``time``: the tags of the user's other items weighted by 1/(1 + hours apart), normalised to
  sum 1 over those items (the *nearby* baseline); ``time_near``: that weight for the nearest
  item carrying the tag (the same event);
- ``look``: the tags of the 5 most similar items by the stored embedding (image model for
  photos, text model for documents), weighted by cosine (the *look-alike* baseline);
  ``look_near``: the best cosine of an item carrying the tag;
- ``place``/``place_near``: as ``time`` with 1/(1 + km apart) over items with GPS;
- ``cooc``: the best P(tag | a tag already on the item) in the user's library;
- ``folder``: the share of the item's folder mates (same folder, tagged) carrying the tag;
- ``frequency`` (items carrying it / tagged items) and ``recency`` (1/(1 + items tagged since
  its last use));
- ``rejected_near``: 1/(1 + hours) to the nearest item where the user rejected the tag.

``visible`` restricts every signal to the first N items in tagging order: the blend's fit
(:mod:`tagassist.suggest.ranker`) replays the person's library with it, each item seeing only
what was tagged before it.  numpy only; no torch, no Qt.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path

import numpy as np

from tagassist.library.models import HistoryEntry, Item, Tag
from tagassist.library.names import normalize
from tagassist.library.repository import Library

_TOKEN = re.compile(r"[^\W_]+")
LOOK_ALIKES = 5  # neighbours of the look-alike signal (EVALUATION.md `session`)
EARTH_KM = 6371.0
SIGNALS = ("time", "time_near", "look", "look_near", "place", "place_near", "cooc",
           "folder", "frequency", "recency", "rejected_near")


def hours(capture_time: str | None) -> float:
    """An item's capture time as hours since the epoch (local time taken as is); NaN if none."""
    if not capture_time:
        return math.nan
    try:
        t = datetime.fromisoformat(capture_time.replace("Z", "+00:00"))
    except ValueError:
        return math.nan
    return t.replace(tzinfo=None).timestamp() / 3600.0 if t.tzinfo is None else \
        t.timestamp() / 3600.0


def tag_key(tag: str) -> str:
    """A tag path compared level by level, normalised."""
    return "|".join(normalize(p) for p in tag.split("|"))


def compact(text: str) -> str:
    return "".join(_TOKEN.findall(text.casefold()))


def folder_of(item: Item) -> str:
    return str(Path(item.paths[0]).parent) if item.paths else ""


def km_apart(lat: float, lon: float, lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    """Great-circle distances (haversine) from one point to many; NaN where unknown."""
    p1, p2 = np.radians(lat), np.radians(lats)
    dp, dl = p2 - p1, np.radians(lons - lon)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


@dataclass
class Signals:
    """Arrays over ``LibraryIndex.tags`` (one value per known tag), keyed by ``SIGNALS``."""

    values: dict[str, np.ndarray]
    nearest_hours: np.ndarray  # hours to the nearest item carrying the tag (inf: none)
    nearest_km: np.ndarray
    cooc_with: list[str]  # the present tag behind each tag's ``cooc`` ("" = none)


class LibraryIndex:
    """One user's tagged (and reviewed) items as arrays, in tagging order."""

    def __init__(self, library: Library, user_id: int, featurizers: dict[str, tuple[str, str]],
                 vectors: dict[int, np.ndarray] | None = None, *,
                 history: list[HistoryEntry] | None = None, tags: list[Tag] | None = None
                 ) -> None:
        """``featurizers``: item kind -> (featurizer name, version) of its stored embedding;
        ``vectors``: embeddings already read (item id -> unit vector), reused and extended;
        ``history``/``tags``: the user's tag history and the library's tags, if already read."""
        history = library.tag_history(user_id) if history is None else history
        self.tags: list[str] = sorted({h.tag for h in history})
        self.tag_ix = {t: j for j, t in enumerate(self.tags)}
        order: dict[int, int] = {}
        for h in history:
            order.setdefault(h.item_id, len(order))
        paths = {t.id: t.path for t in (library.tags() if tags is None else tags)}
        rejected = [(d.item_id, paths.get(d.tag_id, "")) for d in library.decisions(user_id)
                    if not d.accepted]
        for item_id, _ in rejected:
            order.setdefault(item_id, len(order))
        self.item_ids = np.array(list(order), dtype=np.int64)
        self.row_of = order
        n = len(order)
        pairs = {(order[h.item_id], self.tag_ix[h.tag]) for h in history}
        a = np.array(sorted(pairs), dtype=np.int64).reshape(-1, 2)
        self.a_row, self.a_tag = a[:, 0], a[:, 1]
        r = np.array([(order[i], self.tag_ix[t]) for i, t in rejected if t in self.tag_ix],
                     dtype=np.int64).reshape(-1, 2)
        self.r_row, self.r_tag = r[:, 0], r[:, 1]
        self.tagged = np.zeros(n, dtype=bool)
        self.tagged[self.a_row] = True
        # assignments grouped by tag, for per-tag maxima (np.maximum.reduceat, not ufunc.at)
        self._by_tag = np.argsort(self.a_tag, kind="stable")
        self._tag_starts = np.searchsorted(self.a_tag[self._by_tag], np.arange(len(self.tags)))
        items = {it.id: it for it in library.items(self.item_ids.tolist())}
        got = [items.get(int(i)) for i in self.item_ids]
        self.hours = np.array([hours(it.capture_time) if it else math.nan for it in got])
        self.lat = np.array([it.lat if it and it.lat is not None else math.nan for it in got])
        self.lon = np.array([it.lon if it and it.lon is not None else math.nan for it in got])
        folders = [folder_of(it) if it else "" for it in got]
        self.folder_ix = {f: k for k, f in enumerate(dict.fromkeys(folders))}
        self.folder = np.array([self.folder_ix[f] for f in folders], dtype=np.int64)
        self.vectors = vectors if vectors is not None else {}
        self._read_vectors(library, got, featurizers)
        dim = max((v.size for v in self.vectors.values()), default=0)
        self.embed = np.zeros((n, dim), dtype=np.float32)
        self.has_vec = np.zeros(n, dtype=bool)
        for k, item_id in enumerate(self.item_ids):
            v = self.vectors.get(int(item_id))
            if v is not None and v.size == dim:
                self.embed[k], self.has_vec[k] = v, True

    def _read_vectors(self, library: Library, items: list[Item | None],
                      featurizers: dict[str, tuple[str, str]]) -> None:
        for kind, (name, version) in featurizers.items():
            wanted = [it.id for it in items if it and it.kind == kind
                      and it.id not in self.vectors]
            for item_id, f in library.features(wanted, name, version).items():
                v = np.asarray(f.vector, dtype=np.float32)
                norm = float(np.linalg.norm(v))
                if norm > 0:
                    self.vectors[item_id] = v / norm

    def __len__(self) -> int:
        return len(self.item_ids)

    @cached_property
    def key_rows(self) -> dict[str, int]:
        """A tag's normalised full path, and its normalised leaf name, -> its row."""
        rows: dict[str, int] = {}
        for j, t in enumerate(self.tags):
            rows.setdefault(tag_key(t), j)
        for j, t in enumerate(self.tags):
            rows.setdefault(normalize(t.rsplit("|", 1)[-1]), j)
        return rows

    @cached_property
    def compact_leaves(self) -> list[str]:
        """Each tag's leaf name in lower-case letters and digits only ("Eiffel Tower" ->
        "eiffeltower"), to find it in a title."""
        return [compact(t.rsplit("|", 1)[-1]) for t in self.tags]

    def tags_of_row(self, row: int) -> set[str]:
        return {self.tags[j] for j in self.a_tag[self.a_row == row]}

    def signals(self, item: Item, vector: np.ndarray | None, present: list[str],
                visible: int | None = None) -> Signals:
        """The item's signals over every known tag; only the first ``visible`` rows count."""
        n, nt = len(self), len(self.tags)
        seen = np.zeros(n, dtype=bool)
        seen[:n if visible is None else visible] = True
        seen[self.row_of.get(item.id, n):self.row_of.get(item.id, n) + 1] = False  # not itself
        seen &= self.tagged
        a_ok = seen[self.a_row]
        tags = self.a_tag
        out: dict[str, np.ndarray] = {}

        def per_tag_max(values: np.ndarray) -> np.ndarray:
            """The largest of ``values`` (one per assignment, ≥ 0) over each tag's items."""
            if not len(values):
                return np.zeros(nt)
            return np.maximum.reduceat(values[self._by_tag], self._tag_starts)

        def spread(weight: np.ndarray, name: str) -> np.ndarray:
            """Σ weight·[tag on item] / Σ weight (0 without weight) and the best weight."""
            weight = np.where(seen & np.isfinite(weight), weight, 0.0)
            total = weight.sum()
            on = weight[self.a_row]
            out[name] = (np.bincount(tags, on, minlength=nt) / total if total > 0
                         else np.zeros(nt))
            best = per_tag_max(on)
            out[f"{name}_near"] = best
            return best

        h = np.abs(self.hours - hours(item.capture_time))
        near = spread(1.0 / (1.0 + h), "time")
        nearest_hours = np.where(near > 0, 1.0 / np.maximum(near, 1e-12) - 1.0, np.inf)
        km = (km_apart(item.lat, item.lon, self.lat, self.lon)
              if item.lat is not None and item.lon is not None else np.full(n, np.nan))
        near_km = spread(1.0 / (1.0 + km), "place")
        nearest_km = np.where(near_km > 0, 1.0 / np.maximum(near_km, 1e-12) - 1.0, np.inf)

        cos = np.full(n, np.nan)
        if vector is not None and self.embed.shape[1] == np.asarray(vector).size:
            v = np.asarray(vector, dtype=np.float32)
            v = v / max(float(np.linalg.norm(v)), 1e-12)
            cos = np.where(self.has_vec, self.embed @ v, np.nan)
        look = np.where(seen & np.isfinite(cos), np.clip(cos, 0.0, None), 0.0)
        top = np.argsort(-look, kind="stable")[:LOOK_ALIKES]
        top_w = np.zeros(n)
        top_w[top] = look[top]
        out["look"] = (np.bincount(tags, top_w[self.a_row], minlength=nt) / top_w.sum()
                       if top_w.sum() > 0 else np.zeros(nt))
        out["look_near"] = per_tag_max(look[self.a_row])

        counts = np.bincount(tags, a_ok.astype(float), minlength=nt)
        n_seen = max(int(seen.sum()), 1)
        out["frequency"] = counts / n_seen
        last = (per_tag_max(np.where(a_ok, self.a_row + 1, 0)) - 1).astype(np.int64)
        order_pos = np.cumsum(seen) - 1  # a row's position among the rows seen
        since = np.where(last >= 0, order_pos[-1] - order_pos[np.maximum(last, 0)], np.inf)
        out["recency"] = np.where(last >= 0, 1.0 / (1.0 + since), 0.0)

        out["folder"] = np.zeros(nt)
        mates = seen & (self.folder == self.folder_ix.get(folder_of(item), -1))
        if mates.any():
            out["folder"] = np.bincount(tags, mates[self.a_row].astype(float),
                                        minlength=nt) / mates.sum()

        out["cooc"], cooc_with = np.zeros(nt), [""] * nt
        for p in present:
            j = self.tag_ix.get(p)
            if j is None or counts[j] == 0:
                continue
            with_p = np.zeros(n, dtype=bool)
            with_p[self.a_row[a_ok & (tags == j)]] = True
            share = np.bincount(tags, with_p[self.a_row].astype(float), minlength=nt) / counts[j]
            share[j] = 0.0
            for k in np.flatnonzero(share > out["cooc"]):
                cooc_with[k] = p
            out["cooc"] = np.maximum(out["cooc"], share)

        r_ok = (np.arange(n) < (n if visible is None else visible))[self.r_row]
        r_w = 1.0 / (1.0 + h[self.r_row[r_ok]])
        rej = np.zeros(nt)
        np.maximum.at(rej, self.r_tag[r_ok], np.nan_to_num(r_w, nan=0.0))
        out["rejected_near"] = rej
        return Signals(out, nearest_hours, nearest_km, cooc_with)
