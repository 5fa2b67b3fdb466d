"""Loaders for the shared tagging sets in ``../shared/data`` (see its README for the formats).

Every loader returns one :class:`trainer.data.TagData` post table.  Two files are latin-1
(Last.fm ``tags.dat``, MovieLens ``tags.dat``/``movies.dat``); :func:`trainer.data.read_text`
falls back to latin-1 for any file that is not valid UTF-8.
"""
from __future__ import annotations

import calendar
import html
import json
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

from trainer.data import TagData, from_records, parse_time, read_posts_tsv, read_text

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SE_SITES = ("ai", "beer", "coffee", "matheducators")


def data_dir() -> Path:
    """``TAGASSIST_DATA_DIR`` or ``../shared/data`` relative to the project root."""
    env = os.environ.get("TAGASSIST_DATA_DIR")
    return Path(env) if env else (PROJECT_ROOT.parent / "shared" / "data").resolve()


def _tsv(path: Path, header: bool = True) -> list[list[str]]:
    lines = read_text(path).splitlines()
    return [ln.split("\t") for ln in lines[1 if header else 0:] if ln.strip()]


def load_lastfm(root: Path) -> TagData:
    d = root / "hetrec2011-lastfm-2k"
    tags = {r[0]: r[1] for r in _tsv(d / "tags.dat") if len(r) >= 2}
    artists = {r[0]: r[1] for r in _tsv(d / "artists.dat") if len(r) >= 2}
    recs = []
    for r in _tsv(d / "user_taggedartists.dat"):
        u, a, t, day, month, year = r[:6]
        ts = float(calendar.timegm((int(year), int(month), int(day), 0, 0, 0)))
        recs.append((u, a, tags.get(t, t), ts))
    return from_records(recs, artists, name="lastfm")


def load_movielens2k(root: Path) -> TagData:
    d = root / "hetrec2011-movielens-2k"
    tags = {r[0]: r[1] for r in _tsv(d / "tags.dat") if len(r) >= 2}
    text = {r[0]: r[1] for r in _tsv(d / "movies.dat") if len(r) >= 2}
    for fname in ("movie_genres.dat", "movie_directors.dat"):
        for r in _tsv(d / fname):
            if len(r) >= 2 and r[0] in text:
                text[r[0]] += " " + (r[2] if fname == "movie_directors.dat" and len(r) > 2
                                     else r[1])
    recs = [(r[0], r[1], tags.get(r[2], r[2]), float(r[3]) / 1000.0)
            for r in _tsv(d / "user_taggedmovies-timestamps.dat")]
    return from_records(recs, text, name="movielens2k")


def load_bibsonomy(root: Path) -> TagData:
    recs = []
    for line in read_text(root / "bibsonomy-tagrec-sample" / "bib_sample.txt").splitlines():
        f = [x.strip().strip('"') for x in line.split('";"')]
        if len(f) < 4:
            continue
        u, i, ts, tags = f[0], f[1], float(f[2]), f[3]
        recs += [(u, i, t, ts) for t in tags.split(",") if t.strip()]
    return from_records(recs, name="bibsonomy")


def load_citeulike(root: Path) -> TagData:
    """Article-level tags only (no per-user tags): one pseudo-user, time = article index."""
    d = root / "citeulike-a"
    names = read_text(d / "tags.dat").splitlines()
    titles = read_text(d / "titles_TopicModelsVB.txt").splitlines()
    recs = []
    for k, line in enumerate(read_text(d / "item-tag.dat").splitlines()):
        ids = line.split()[1:]
        recs += [("citeulike", str(k), names[int(t)], float(k)) for t in ids]
    text = {str(k): t for k, t in enumerate(titles)}
    return from_records(recs, text, name="citeulike")


_TAG_RE = re.compile(r"<([^<>]+)>")
_HTML_RE = re.compile(r"<[^>]+>")


def load_stackexchange(root: Path, sites: tuple[str, ...] = SE_SITES) -> TagData:
    """Questions (PostTypeId=1) of the 4 sites pooled; users and items prefixed by the site."""
    recs = []
    text: dict[str, str] = {}
    for site in sites:
        tree = ET.parse(root / f"stackexchange-{site}" / "Posts.xml")
        for row in tree.getroot().iter("row"):
            a = row.attrib
            if a.get("PostTypeId") != "1" or not a.get("Tags"):
                continue
            tags = _TAG_RE.findall(a["Tags"]) or [t for t in a["Tags"].split("|") if t]
            item = f"{site}:{a['Id']}"
            user = f"{site}:{a.get('OwnerUserId', 'anon' + a['Id'])}"
            ts = parse_time(a["CreationDate"])
            body = html.unescape(_HTML_RE.sub(" ", a.get("Body", "")))
            text[item] = f"{a.get('Title', '')} {' '.join(body.split())}".strip()
            recs += [(user, item, t, ts) for t in tags]
    return from_records(recs, text, name="stackexchange")


def load_flickr(root: Path) -> TagData:
    recs = []
    text: dict[str, str] = {}
    d = root / "flickr-hucvl-summary-set"
    for f in sorted(d.glob("*.json")):
        for r in json.loads(read_text(f)):
            tags = (r.get("tags") or "").split()
            if not tags:
                continue
            item = r["name"]
            ts = parse_time(r["datetaken"]) if r.get("datetaken") else 0.0
            desc = (r.get("desc") or {}).get("_content", "")
            text[item] = f"{r.get('title', '')} {desc}".strip()
            recs += [(r["owner"], item, t, ts) for t in tags]
    return from_records(recs, text, name="flickr")


LOADERS: dict[str, Callable[[Path], TagData]] = {
    "lastfm": load_lastfm, "movielens2k": load_movielens2k, "bibsonomy": load_bibsonomy,
    "citeulike": load_citeulike, "stackexchange": load_stackexchange, "flickr": load_flickr,
    "photos": lambda root: _photos(root),
}


def _photos(root: Path) -> TagData:
    """COCO + Flickr with SOG's fused photo contexts (``trainer.photo_posts``)."""
    from trainer.photo_posts import photo_posts  # the app's featurizer: loaded only when asked

    return photo_posts(root)


def load(name_or_path: str, item_text: str | None = None, root: Path | None = None) -> TagData:
    """A shared set by name, or a generic posts TSV by path (with optional item-text TSV)."""
    if name_or_path in LOADERS:
        return LOADERS[name_or_path](root or data_dir())
    p = Path(name_or_path)
    if p.is_file():
        return read_posts_tsv(p, item_text)
    raise ValueError(f"unknown data set {name_or_path!r}: not a file and not one of "
                     f"{', '.join(LOADERS)}")
