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
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cached_property

import numpy as np

from tagassist.library import Library
from tagassist.library.models import Item, Tag
from tagassist.library.names import normalize
from tagassist.suggest.item_facts import compact, folder_of, hours, km_apart, tag_key
from tagassist.suggest.suggesters import (
    BLL_BETA,
    BLL_DECAY,
    Suggestion,
    days,
    history_reason,
    popular_reason,
)

LOOK_ALIKES = 5  # neighbours of the look-alike signal (EVALUATION.md `session`)
# Assignments a person chose (typed, or accepted from the list); a file's keywords ("file")
# and tags read from a CSV ("import") came with the items.
CHOSEN = ("manual", "suggestion")
HISTORY_KEPT = 200  # BLL+C's best tags offered as candidates (the rest score ~0 anyway)
SIGNALS = ("time", "time_near", "look", "look_near", "place", "place_near", "cooc",
           "folder", "frequency", "recency", "rejected_near")


@dataclass
class Signals:
    """Arrays over ``LibraryIndex.tags`` (one value per known tag), keyed by ``SIGNALS``."""

    values: dict[str, np.ndarray]
    nearest_hours: np.ndarray  # hours to the nearest item carrying the tag (inf: none)
    nearest_km: np.ndarray
    cooc_with: list[str]  # the present tag behind each tag's ``cooc`` ("" = none)


class LibraryIndex:
    """One user's tagged (and reviewed) items as arrays, in tagging order, kept up to date by
    :meth:`refresh`: what was added since is appended (a write adds a few rows, it does not
    re-read 100,000 items); anything else (an undo, a removal, a renamed tag) says "read me
    again" and the caller builds a new index."""

    def __init__(self, user_id: int, featurizers: dict[str, tuple[str, str]],
                 vectors: dict[int, np.ndarray] | None = None) -> None:
        """``featurizers``: item kind -> (featurizer name, version) of its stored embedding;
        ``vectors``: embeddings already read (item id -> unit vector), reused and extended."""
        self.user_id = user_id
        self.featurizers = featurizers
        self.vectors = vectors if vectors is not None else {}
        self.tags: list[str] = []  # the user's tags, in order of first use
        self.tag_ix: dict[str, int] = {}
        self.row_of: dict[int, int] = {}  # item id -> row (items in tagging order)
        self.item_ids = np.zeros(0, np.int64)
        self.a_row = self.a_tag = np.zeros(0, np.int64)  # the user's assignments
        self.a_day = np.zeros(0)  # when each was made (days since the epoch)
        # whether the person chose it (typed or accepted), not a keyword the file came with:
        # only those are their habit (frequency, recency, "your history")
        self.a_chosen = np.zeros(0, bool)
        self.r_row = self.r_tag = np.zeros(0, np.int64)  # the user's rejections
        self.tagged = np.zeros(0, bool)
        self.hours = self.lat = self.lon = np.zeros(0)
        self.folder = np.zeros(0, np.int64)
        self.folder_ix: dict[str, int] = {}
        self.embed = np.zeros((0, 0), np.float32)  # the stored embeddings of ``vec_rows``
        self.vec_rows = np.zeros(0, np.int64)  # rows that have one (the others take no room)
        self.has_vec = np.zeros(0, bool)
        self.popularity: dict[str, int] = {}  # tag path -> items carrying it (every user's)
        self._pairs = np.zeros(0, np.int64)  # sorted item·2^32 + tag of every assignment
        self._state: tuple[int, ...] = ()  # library.history.log_state() as last read
        self._by_tag = np.zeros(0, np.int64)  # assignments grouped by tag (stable)
        self._sorted_tags = np.zeros(0, np.int64)  # their tags, ascending
        self._read = False
        self._paths: dict[int, str] = {}  # tag id -> path as last read
        self.tag_records: list[Tag] = []  # the library's tags as last read

    @classmethod
    def read(cls, library: Library, user_id: int, featurizers: dict[str, tuple[str, str]],
             vectors: dict[int, np.ndarray] | None = None) -> LibraryIndex:
        index = cls(user_id, featurizers, vectors)
        index.refresh(library)
        return index

    def refresh(self, library: Library) -> bool:
        """Append what the library gained since the last read; False (nothing changed here)
        when something was removed or renamed, so that only a new index is right."""
        # One snapshot: a write landing between these reads (the window writes on a thread
        # of its own) would log assignments to a tag not in ``paths`` (KeyError) or beyond
        # ``state`` (read twice next time).
        with library.snapshot():
            state = library.history.log_state()
            if self._read and state[4:] == self._state[4:]:  # no tag added, renamed, aliased
                tags, paths = self.tag_records, self._paths
            else:
                tags = library.tags.all()
                paths = {t.id: t.path for t in tags}
                if any(paths.get(i) != p for i, p in self._paths.items()):
                    return False
            new_a = library.history.assignment_log(self._state[1] if self._read else 0)
            new_d = library.history.decision_log(self._state[3] if self._read else 0)
        if self._read:
            if (state[0] != self._state[0] or state[2] != self._state[2]  # removals, undo
                    or state[1] < self._state[1] or state[3] < self._state[3]):
                return False
            if state[:4] == self._state[:4] and state[4:] == self._state[4:]:
                return False  # something else was written (features, an item's metadata)
        self._read = True
        self._paths, self._state, self.tag_records = paths, state, tags
        self._add_popularity([(item, paths[tag]) for _, _, item, tag, _, source in new_a
                              if source in CHOSEN])
        mine = [(item, paths[tag], created, source in CHOSEN)
                for _, user, item, tag, created, source in new_a if user == self.user_id]
        rejected = [(item, paths[tag]) for _, user, item, tag, ok in new_d
                    if user == self.user_id and not ok]
        self._add_rows(library, [i for i, _, _, _ in mine] + [i for i, _ in rejected])
        for _, path, _, _ in mine:
            if path not in self.tag_ix:
                self.tag_ix[path] = len(self.tags)
                self.tags.append(path)
                if "key_rows" in self.__dict__:  # grow the cached lookups, do not redo them
                    self.key_rows.setdefault(tag_key(path), self.tag_ix[path])
                    self.key_rows.setdefault(normalize(path.rsplit("|", 1)[-1]),
                                             self.tag_ix[path])
                if "compact_leaves" in self.__dict__:
                    self.compact_leaves.append(compact(path.rsplit("|", 1)[-1]))
        if mine:
            first = len(self.a_tag)
            new_tags = np.array([self.tag_ix[p] for _, p, _, _ in mine], np.int64)
            self.a_row = np.concatenate([self.a_row, [self.row_of[i] for i, _, _, _ in mine]])
            self.a_tag = np.concatenate([self.a_tag, new_tags])
            self.a_day = np.concatenate([self.a_day, [days(c) for _, _, c, _ in mine]])
            self.a_chosen = np.concatenate([self.a_chosen, [c for _, _, _, c in mine]])
            self.tagged[self.a_row] = True
            # keep the assignments grouped by tag (for per-tag maxima by reduceat): the new
            # ones go after their tag's others, as a stable sort would put them
            order = np.argsort(new_tags, kind="stable")
            at = np.searchsorted(self._sorted_tags, new_tags[order], side="right")
            self._by_tag = np.insert(self._by_tag, at, first + order)
            self._sorted_tags = np.insert(self._sorted_tags, at, new_tags[order])
        known = [(i, p) for i, p in rejected if p in self.tag_ix]
        if known:
            self.r_row = np.concatenate([self.r_row, [self.row_of[i] for i, _ in known]])
            self.r_tag = np.concatenate([self.r_tag, [self.tag_ix[p] for _, p in known]])
        self._tag_starts = np.searchsorted(self._sorted_tags, np.arange(len(self.tags)))
        return True

    def _add_popularity(self, rows: list[tuple[int, str]]) -> None:
        """Count each (item, tag) once, whoever of the users assigned it."""
        if not rows:
            return
        ids = {p: i for i, p in self._paths.items()}
        codes = np.array([item * 2**32 + ids[p] for item, p in rows], np.int64)
        codes, first = np.unique(codes, return_index=True)
        pos = np.searchsorted(self._pairs, codes)
        fresh = (pos >= len(self._pairs)) | (self._pairs[np.minimum(pos, len(self._pairs) - 1)]
                                             != codes) if len(self._pairs) else np.ones(
            len(codes), bool)
        for k in np.flatnonzero(fresh):
            path = rows[int(first[k])][1]
            self.popularity[path] = self.popularity.get(path, 0) + 1
        self._pairs = np.insert(self._pairs, pos[fresh], codes[fresh])

    def _add_rows(self, library: Library, item_ids: list[int]) -> None:
        """New rows for the items not seen yet, with their time, place, folder, embedding."""
        new = [i for i in dict.fromkeys(item_ids) if i not in self.row_of]
        if not new:
            return
        for i in new:
            self.row_of[i] = len(self.row_of)
        items = {it.id: it for it in library.items.get_many(new)}
        got = [items.get(i) for i in new]
        self.item_ids = np.concatenate([self.item_ids, new])
        self.tagged = np.concatenate([self.tagged, np.zeros(len(new), bool)])
        self.hours = np.concatenate([self.hours, [hours(it.capture_time) if it else math.nan
                                                  for it in got]])
        self.lat = np.concatenate([self.lat, [it.lat if it and it.lat is not None else math.nan
                                              for it in got]])
        self.lon = np.concatenate([self.lon, [it.lon if it and it.lon is not None else math.nan
                                              for it in got]])
        folders = [folder_of(it) if it else "" for it in got]
        for f in folders:
            self.folder_ix.setdefault(f, len(self.folder_ix))
        self.folder = np.concatenate([self.folder, [self.folder_ix[f] for f in folders]])
        self._read_vectors(library, got, self.featurizers)
        # one embedding size per index: the first met (another model's vectors wait for the
        # full re-read that their featurize write causes)
        dim = self.embed.shape[1] or max((v.size for v in self.vectors.values()), default=0)
        start = len(self.has_vec)
        rows = [start + k for k, i in enumerate(new)
                if i in self.vectors and self.vectors[i].size == dim]
        self.has_vec = np.concatenate([self.has_vec, np.zeros(len(new), bool)])
        if rows:
            mats = np.stack([self.vectors[new[r - start]] for r in rows]).astype(np.float32)
            self.embed = np.concatenate([self.embed.reshape(-1, dim), mats])
            self.vec_rows = np.concatenate([self.vec_rows, rows])
            self.has_vec[rows] = True

    def per_tag_max(self, values: np.ndarray) -> np.ndarray:
        """The largest of ``values`` (one per assignment, ≥ 0) over each tag's assignments."""
        if not len(values):
            return np.zeros(len(self.tags))
        return np.maximum.reduceat(values[self._by_tag], self._tag_starts)

    def history(self, now: datetime | None = None, visible: int | None = None
                ) -> list[Suggestion]:
        """BLL+C (suggesters.bll_scores, vectorised over the index) with its reasons; with
        ``visible``, only those rows' uses, and their counts as the popularity."""
        ok = self.a_chosen if visible is None else self.a_chosen & (self.a_row < visible)
        ref = (now or datetime.now(timezone.utc)).timestamp() / 86400.0
        nt = len(self.tags)
        age = np.maximum(ref - self.a_day[ok], 0.0)
        act = np.bincount(self.a_tag[ok], (age + 1.0) ** -BLL_DECAY, minlength=nt)
        uses = np.bincount(self.a_tag[ok], minlength=nt)
        last = self.per_tag_max(np.where(ok, self.a_day, 0.0))
        pop = (dict(zip(self.tags, uses.tolist(), strict=True)) if visible is not None
               else self.popularity)
        names = [t for t, n in zip(self.tags, uses, strict=True) if n] + [
            t for t in pop if t not in self.tag_ix or not uses[self.tag_ix[t]]]
        rows = np.array([self.tag_ix.get(t, -1) for t in names], np.int64)
        a = np.zeros(len(names))
        a[rows >= 0] = act[rows[rows >= 0]]  # a person without tags of their own has none
        p = np.array([pop.get(t, 0) for t in names], float)
        score = (BLL_BETA * (a / a.max() if a.size and a.max() > 0 else a)
                 + (1.0 - BLL_BETA) * (p / p.max() if p.size and p.max() > 0 else p))
        best = np.argsort(-score, kind="stable")[:HISTORY_KEPT]
        out = []
        for k in best[score[best] > 0]:
            j, tag = int(rows[k]), names[k]
            if j >= 0 and uses[j]:
                when = datetime.fromtimestamp(last[j] * 86400.0, timezone.utc).date()
                reason = history_reason(int(uses[j]), when.isoformat())
            else:
                reason = popular_reason(pop.get(tag, 0))
            out.append(Suggestion(tag, float(min(1.0, score[k])), reason))
        return sorted(out, key=lambda s: (-s.score, s.tag))

    def _read_vectors(self, library: Library, items: list[Item | None],
                      featurizers: dict[str, tuple[str, str]]) -> None:
        for kind, (name, version) in featurizers.items():
            wanted = [it.id for it in items if it and it.kind == kind
                      and it.id not in self.vectors]
            for item_id, f in library.features.get(wanted, name, version).items():
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

        per_tag_max = self.per_tag_max

        def spread(weight: np.ndarray | None, name: str) -> np.ndarray:
            """Σ weight·[tag on item] / Σ weight (0 without weight) and the best weight."""
            if weight is None:  # the item has no time (or no place): nothing to spread
                out[name], out[f"{name}_near"] = np.zeros(nt), np.zeros(nt)
                return out[name]
            weight = np.where(seen & np.isfinite(weight), weight, 0.0)
            total = weight.sum()
            on = weight[self.a_row]
            out[name] = (np.bincount(tags, on, minlength=nt) / total if total > 0
                         else np.zeros(nt))
            best = per_tag_max(on)
            out[f"{name}_near"] = best
            return best

        when = hours(item.capture_time)
        h = np.abs(self.hours - when)
        near = spread(None if math.isnan(when) else 1.0 / (1.0 + h), "time")
        nearest_hours = np.where(near > 0, 1.0 / np.maximum(near, 1e-12) - 1.0, np.inf)
        km = (km_apart(item.lat, item.lon, self.lat, self.lon)
              if item.lat is not None and item.lon is not None else None)
        near_km = spread(None if km is None else 1.0 / (1.0 + km), "place")
        nearest_km = np.where(near_km > 0, 1.0 / np.maximum(near_km, 1e-12) - 1.0, np.inf)

        cos = np.full(n, np.nan)
        if vector is not None and self.embed.shape[1] == np.asarray(vector).size:
            v = np.asarray(vector, dtype=np.float32)
            cos[self.vec_rows] = self.embed @ (v / max(float(np.linalg.norm(v)), 1e-12))
        look = np.where(seen & np.isfinite(cos), np.clip(cos, 0.0, None), 0.0)
        top = np.argsort(-look, kind="stable")[:LOOK_ALIKES]
        top_w = np.zeros(n)
        top_w[top] = look[top]
        out["look"] = (np.bincount(tags, top_w[self.a_row], minlength=nt) / top_w.sum()
                       if top_w.sum() > 0 else np.zeros(nt))
        out["look_near"] = per_tag_max(look[self.a_row])

        counts = np.bincount(tags, a_ok.astype(float), minlength=nt)
        a_habit = a_ok & self.a_chosen  # a file's keywords are its own, not the person's habit
        n_seen = max(int(seen.sum()), 1)
        out["frequency"] = np.bincount(tags, a_habit.astype(float), minlength=nt) / n_seen
        last = (per_tag_max(np.where(a_habit, self.a_row + 1, 0)) - 1).astype(np.int64)
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
