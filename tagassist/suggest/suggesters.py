"""Cold-start suggesters (DESIGN.md "Data flow" step 3): content, context and history.

Each suggester scores tags for one item and one user and returns ``list[Suggestion]`` with
scores in [0, 1] and a short reason; :mod:`tagassist.suggest.ranker` uses them as features.  No
personal model is needed, so the very first photo of a new user already gets suggestions.

- :func:`content_suggestions`: the item's stored words (image words of a photo, key words of
  a document) mapped onto the library's tags by :class:`TagVocabulary`, and the words
  themselves as new tags (in full with no tags in the library yet, discounted after).
- :func:`context_suggestions`: the item's context words (season, part of day, place, folder
  names); only those that are, or map to, the user's own tags, or plain words for a user
  without tags.
- :func:`history_suggestions`: BLL+C (Kowald et al. 2014, "Long time no see: the probability
  of reusing tags as a function of frequency and recency", WWW'14 companion): the base-level
  learning activation of ACT-R over the user's own tag uses, mixed with popularity.  This is
  the reference form: the app serves :meth:`tagassist.suggest.signals.LibraryIndex.history`,
  the same formula over the index's arrays, and a test holds the two equal.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np

from tagassist.library.models import HistoryEntry, Item, Tag
from tagassist.library.names import normalize
from tagassist.media.context import MONTHS
from tagassist.suggest.vocabulary import TagVocabulary

BLL_DECAY = 0.5  # d in Kowald et al. 2014 (the ACT-R default)
NEW_WORD_FACTOR = 0.5  # a content word that is not a tag yet, once the library has tags
BLL_BETA = 0.5  # weight of the user's own activation vs. the library's popularity
# Context words without a matching tag (user with no tags): prior by kind.  Places and folder
# names are often tags ("amsterdam", "nasa"); time words rarely are.
PLAIN_CONTEXT_SCORE = {"place": 0.5, "folder": 0.4, "time": 0.2}
_TIME_WORDS = frozenset({"spring", "summer", "autumn", "winter", "weekday", "weekend",
                         "morning", "afternoon", "evening", "night", *MONTHS})
_YEAR = re.compile(r"^\d{4}$")


@dataclass(frozen=True)
class Suggestion:
    """One suggested tag (full path, or a new word), its score in [0, 1] and why."""

    tag: str
    score: float
    reason: str


# --- content -------------------------------------------------------------------------------

def content_suggestions(words: Sequence[tuple[str, float]], vocabulary: TagVocabulary | None,
                        source: str = "image", limit: int = 20,
                        new_word_factor: float = NEW_WORD_FACTOR) -> list[Suggestion]:
    """Stored (word, score) -> library tags through ``vocabulary``, plus the words themselves
    as new tags.  In a brand-new library (no vocabulary) the words count in full; once there
    are tags, a new word counts ``new_word_factor`` times its score (a small vocabulary must
    not hide what the photo shows, but the user's own tags come first), and a word that is
    already a tag's name is left to the vocabulary."""
    scored = [(w, float(s), content_reason(w, source)) for w, s in _one_per_synset(words)]
    if vocabulary is None or not len(vocabulary):
        return [Suggestion(w, _clip(s), r) for w, s, r in scored[:limit]]
    out = [Suggestion(tag, _clip(score), reason)
           for tag, score, reason in vocabulary.match(scored, limit=limit)]
    names = vocabulary.leaf_keys()
    out += [Suggestion(w, _clip(s * new_word_factor), r) for w, s, r in scored[:limit]
            if normalize(w) not in names]
    return out


def content_reason(word: str, source: str = "image") -> str:
    """Why a content word is suggested, in plain words: what the picture looks like, or what
    the document's text says."""
    return f"looks like “{word}”" if source == "image" else f"the document mentions “{word}”"


def _one_per_synset(words: Sequence[tuple[str, float]]) -> list[tuple[str, float]]:
    """Positive words, dropping a word whose score equals the previous one's exactly: the
    names of one WordNet synset ("domestic cat", "house cat") share their score, and one of
    them is enough in a top-10 list."""
    out: list[tuple[str, float]] = []
    for w, s in words:
        if float(s) > 0 and not (out and float(s) == out[-1][1]):
            out.append((w, float(s)))
    return out


# --- context -------------------------------------------------------------------------------

def context_kind(word: str, item: Item) -> str:
    """'time', 'place' or 'folder' for one of the item's context words."""
    if word in _TIME_WORDS or _YEAR.match(word):
        return "time"
    places = {normalize(p) for p in (item.place or "").split(",") if p.strip()}
    return "place" if normalize(word) in places else "folder"


_PART_OF_DAY = {"morning": "in the morning", "afternoon": "in the afternoon",
                "evening": "in the evening", "night": "at night",
                "weekday": "on a weekday", "weekend": "at a weekend"}


def context_reason(word: str, item: Item) -> str:
    """Why a context word is suggested: when or where the item was taken, or its folder
    ("taken in spring", "taken in Berkeley", 'the folder name says “nasa”')."""
    kind = context_kind(word, item)
    taken = "taken" if item.kind == "photo" else "dated"
    if kind == "time":
        when = _PART_OF_DAY.get(word) or f"in {word.capitalize() if word in MONTHS else word}"
        return f"{taken} {when}"
    if kind == "place":
        return f"{'taken in' if item.kind == 'photo' else 'place:'} {word.title()}"
    return f"the folder name says “{word}”"


def context_suggestions(item: Item, user_tags: Sequence[Tag],
                        vocabulary: TagVocabulary | None = None) -> list[Suggestion]:
    """The item's context words that are (score 1) or map to (vocabulary score) one of the
    user's tags; a user without tags gets the plain words at ``PLAIN_CONTEXT_SCORE``."""
    words = list(item.context_words)
    if not user_tags:
        return [Suggestion(w, PLAIN_CONTEXT_SCORE[context_kind(w, item)],
                           context_reason(w, item)) for w in words]
    if vocabulary is not None:  # the same texts, normalised once per vocabulary change
        exact = vocabulary.exact_keys()
    else:
        exact = {}
        for tag in user_tags:
            for text in (tag.name, tag.path, *tag.aliases):
                exact.setdefault(normalize(text), tag.path)
    best: dict[str, Suggestion] = {}

    def offer(s: Suggestion) -> None:
        if s.score > best.get(s.tag, Suggestion(s.tag, 0.0, "")).score:
            best[s.tag] = s

    for w in words:
        if normalize(w) in exact:
            offer(Suggestion(exact[normalize(w)], 1.0, context_reason(w, item)))
    if vocabulary is not None and len(vocabulary):
        labelled = [(w, 1.0, context_reason(w, item)) for w in words]
        for tag, score, reason in vocabulary.match(labelled):
            offer(Suggestion(tag, _clip(score), reason))
    return sorted(best.values(), key=lambda s: (-s.score, s.tag))


# --- history: BLL+C ------------------------------------------------------------------------

def days(created: str) -> float:
    """An ISO timestamp as days since the epoch (naive times are taken as UTC)."""
    t = datetime.fromisoformat(created.replace("Z", "+00:00"))
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return t.timestamp() / 86400.0


def bll_activation(use_days: np.ndarray, ref_day: float, decay: float = BLL_DECAY) -> float:
    """Σ_i (t_ref − t_i + 1)^−d over one tag's uses (days; +1 keeps a use 'today' finite)."""
    age = np.maximum(ref_day - np.asarray(use_days, dtype=np.float64), 0.0)
    return float(np.sum((age + 1.0) ** -decay))


def bll_scores(history: Iterable[HistoryEntry], popularity: dict[str, int],
               now: datetime | None = None, beta: float = BLL_BETA,
               decay: float = BLL_DECAY) -> dict[str, float]:
    """BLL+C per tag: ``beta * A(t)/max A + (1 - beta) * pop(t)/max pop``.

    ``A`` is the BLL activation of the user's uses of ``t``, ``pop`` the number of items
    carrying ``t`` in the whole library.  Both are divided by their maximum so the two halves
    share a [0, 1] scale (Kowald et al. normalise BLL by its sum, which ranks alike).
    """
    ref = (now or datetime.now(timezone.utc)).timestamp() / 86400.0
    uses: dict[str, list[float]] = {}
    for h in history:
        uses.setdefault(h.tag, []).append(days(h.created))
    act = {t: bll_activation(np.array(d), ref, decay) for t, d in uses.items()}
    top_act = max(act.values(), default=0.0)
    top_pop = max(popularity.values(), default=0)
    out = {}
    for tag in set(act) | set(popularity):
        a = act.get(tag, 0.0) / top_act if top_act > 0 else 0.0
        p = popularity.get(tag, 0) / top_pop if top_pop > 0 else 0.0
        out[tag] = beta * a + (1.0 - beta) * p
    return out


_MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
               "Dec")


def history_reason(uses: int, last: str) -> str:
    """'you used it 12 times, last on 1 May 2024' (``last``: an ISO date)."""
    try:
        y, m, d = (int(x) for x in last[:10].split("-"))
        when = f"{d} {_MONTH_ABBR[m - 1]} {y}"
    except (ValueError, IndexError):
        when = last[:10]
    if uses == 1:
        return f"you used it once, on {when}"
    return f"you used it {'twice' if uses == 2 else f'{uses} times'}, last on {when}"


def popular_reason(items: int) -> str:
    """'on 5 items in this library': a tag others (or the files' keywords) put on items."""
    return f"on {items} item{'s' if items != 1 else ''} in this library"


def history_suggestions(history: Sequence[HistoryEntry], popularity: dict[str, int],
                        now: datetime | None = None) -> list[Suggestion]:
    """BLL+C scores with reasons ("you used it 12 times, last on 1 May 2024")."""
    uses: dict[str, list[str]] = {}
    for h in history:
        uses.setdefault(h.tag, []).append(h.created)
    out = []
    for tag, score in bll_scores(history, popularity, now).items():
        if score <= 0:
            continue
        if tag in uses:
            reason = history_reason(len(uses[tag]), max(uses[tag])[:10])
        else:
            reason = popular_reason(popularity.get(tag, 0))
        out.append(Suggestion(tag, _clip(score), reason))
    return sorted(out, key=lambda s: (-s.score, s.tag))


def _clip(x: float) -> float:
    return float(min(1.0, max(0.0, x)))
