"""The post table every trainer module works on, the generic posts TSV and iterative p-core.

A *post* is one (user, item) pair with the set of tags the user gave the item; one row of
:class:`TagData` is one tag assignment (user, item, tag, time).  p-core follows Jäschke et al.
(2007) / Rendle et al.: the largest subset in which every user, item and tag occurs in at least
``p`` distinct (user, item) posts, found by iterative pruning.  Loaders for the shared sets live
in :mod:`trainer.datasets`; this module holds the table, the generic TSV and the p-core.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["TagData", "from_records", "read_posts_tsv", "read_item_text", "p_core",
           "parse_time", "read_text"]


@dataclass
class TagData:
    """Tag assignments as parallel arrays, indices into ``users``/``items``/``tags``."""

    user: np.ndarray  # int64 [n_assignments]
    item: np.ndarray
    tag: np.ndarray
    time: np.ndarray  # float64 unix seconds
    users: list[str]
    items: list[str]
    tags: list[str]
    item_text: dict[str, str] = field(default_factory=dict)  # keyed by item name
    name: str = ""

    @property
    def n_users(self) -> int:
        return len(self.users)

    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def n_tags(self) -> int:
        return len(self.tags)

    def __len__(self) -> int:
        return int(self.user.shape[0])

    def n_posts(self) -> int:
        """Number of distinct (user, item) posts."""
        return int(np.unique(self.user.astype(np.int64) * max(self.n_items, 1) + self.item).size)

    def post_ids(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return (post id per assignment, user per post, item per post); posts sorted by (u, i)."""
        key = self.user.astype(np.int64) * max(self.n_items, 1) + self.item
        uniq, inv = np.unique(key, return_inverse=True)
        n_items = max(self.n_items, 1)
        return inv.astype(np.int64), (uniq // n_items).astype(np.int64), (uniq % n_items).astype(
            np.int64)

    def subset(self, mask: np.ndarray) -> TagData:
        """Rows where ``mask`` is true, same index spaces (no re-indexing)."""
        return TagData(self.user[mask], self.item[mask], self.tag[mask], self.time[mask],
                       self.users, self.items, self.tags, self.item_text, self.name)

    def compact(self) -> TagData:
        """Re-index users, items and tags to those that still occur."""
        uu, u = np.unique(self.user, return_inverse=True)
        ii, i = np.unique(self.item, return_inverse=True)
        tt, t = np.unique(self.tag, return_inverse=True)
        items = [self.items[k] for k in ii]
        text = {k: self.item_text[k] for k in items if k in self.item_text}
        return TagData(u.astype(np.int64), i.astype(np.int64), t.astype(np.int64),
                       self.time.copy(), [self.users[k] for k in uu], items,
                       [self.tags[k] for k in tt], text, self.name)

    def stats(self) -> dict[str, int]:
        """Users / items / tags / assignments / posts actually present."""
        return {"users": int(np.unique(self.user).size), "items": int(np.unique(self.item).size),
                "tags": int(np.unique(self.tag).size), "assignments": len(self),
                "posts": int(self.post_ids()[1].size) if len(self) else 0}


def from_records(records: list[tuple[str, str, str, float]],
                 item_text: dict[str, str] | None = None, name: str = "") -> TagData:
    """Build a table from (user, item, tag, unix seconds) records.

    Duplicate (user, item, tag) assignments keep their earliest time; empty tags are dropped.
    Indices follow first appearance so the result does not depend on hash order.
    """
    first: dict[tuple[str, str, str], float] = {}
    for u, i, t, ts in records:
        t = t.strip()
        if not t:
            continue
        k = (u, i, t)
        if k not in first or ts < first[k]:
            first[k] = ts
    umap: dict[str, int] = {}
    imap: dict[str, int] = {}
    tmap: dict[str, int] = {}
    n = len(first)
    arr = np.empty((n, 3), dtype=np.int64)
    times = np.empty(n, dtype=np.float64)
    for r, ((u, i, t), ts) in enumerate(first.items()):
        arr[r] = (umap.setdefault(u, len(umap)), imap.setdefault(i, len(imap)),
                  tmap.setdefault(t, len(tmap)))
        times[r] = ts
    items = list(imap)
    text = {k: v for k, v in (item_text or {}).items() if k in imap}
    return TagData(arr[:, 0].copy(), arr[:, 1].copy(), arr[:, 2].copy(), times, list(umap), items,
                   list(tmap), text, name)


def read_text(path: Path) -> str:
    """Read a text file as UTF-8 (BOM tolerated), falling back to latin-1 for bad bytes."""
    raw = Path(path).read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def parse_time(value: str) -> float:
    """Unix seconds, unix milliseconds (> 1e11) or an ISO date/datetime -> unix seconds (UTC)."""
    v = value.strip()
    try:
        x = float(v)
    except ValueError:
        pass
    else:
        if not np.isfinite(x):
            raise ValueError(f"bad timestamp {value!r}")
        return x / 1000.0 if abs(x) > 1e11 else x
    if v.endswith("Z"):
        v = v[:-1] + "+00:00"
    d = _dt.datetime.fromisoformat(v.replace("/", "-"))
    if d.tzinfo is None:
        d = d.replace(tzinfo=_dt.timezone.utc)
    return d.timestamp()


def read_posts_tsv(path: str | Path, item_text_path: str | Path | None = None) -> TagData:
    """Read the generic posts file of EVALUATION.md: ``user<TAB>item<TAB>tag<TAB>timestamp``.

    The header is optional (a first line whose timestamp does not parse is taken as one); a
    missing timestamp column means "no time" (0); blank lines and lines starting with ``#`` are
    skipped.  Malformed lines raise ``ValueError`` naming the line.
    """
    path = Path(path)
    records: list[tuple[str, str, str, float]] = []
    for lineno, line in enumerate(read_text(path).splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.rstrip("\r\n").split("\t")
        if len(parts) < 3:
            raise ValueError(f"{path}:{lineno}: expected user<TAB>item<TAB>tag<TAB>timestamp")
        ts = 0.0
        if len(parts) >= 4 and parts[3].strip():
            try:
                ts = parse_time(parts[3])
            except ValueError:
                if not records:  # header line
                    continue
                raise ValueError(f"{path}:{lineno}: bad timestamp {parts[3]!r}") from None
        elif not records and parts[0].strip().lower() in {"user", "userid", "user_id"}:
            continue
        if parts[2].strip():  # an empty tag field is no assignment
            records.append((parts[0].strip(), parts[1].strip(), parts[2].strip(), ts))
    if not records:
        raise ValueError(f"{path}: no posts")
    text = read_item_text(item_text_path) if item_text_path else {}
    return from_records(records, text, name=path.stem)


def read_item_text(path: str | Path) -> dict[str, str]:
    """``item<TAB>text`` lines -> {item: text} (several lines per item are joined)."""
    out: dict[str, str] = {}
    for line in read_text(Path(path)).splitlines():
        if "\t" not in line:
            continue
        k, v = line.split("\t", 1)
        k = k.strip()
        out[k] = (out[k] + " " + v.strip()) if k in out else v.strip()
    return out


def p_core(data: TagData, p: int) -> TagData:
    """Iterative p-core over (user, item) posts, re-indexed (Jäschke et al. 2007)."""
    if p <= 1:
        return data.compact()
    d = data
    while True:
        pid, pu, pi = d.post_ids()
        n_posts = pu.size
        u_cnt = np.bincount(pu, minlength=d.n_users)
        i_cnt = np.bincount(pi, minlength=d.n_items)
        # a tag occurs once per post after de-duplication, so assignments == posts carrying it
        t_cnt = np.bincount(d.tag, minlength=d.n_tags)
        keep = (u_cnt[d.user] >= p) & (i_cnt[d.item] >= p) & (t_cnt[d.tag] >= p)
        if keep.all() or n_posts == 0:
            return d.compact()
        d = d.subset(keep)


def min_tag_items(data: TagData, n: int) -> TagData:
    """Only tags carried by at least ``n`` distinct items (one pass, re-indexed) — CiteULike's
    "tags used by >= 5 articles" of the CSRW paper."""
    if n <= 1:
        return data
    pairs = np.unique(data.tag.astype(np.int64) * max(data.n_items, 1) + data.item)
    per_tag = np.bincount(pairs // max(data.n_items, 1), minlength=data.n_tags)
    return data.subset(per_tag[data.tag] >= n).compact()
