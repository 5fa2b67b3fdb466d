"""Blend the cold-start suggesters into one ranked list (DESIGN.md "Data flow" step 3).

    raw(tag)   = Σ_s w_s · score_s(tag)          s in {content, context, history, personal}
    score(tag) = 1 − exp(−raw(tag))              squashed into [0, 1)

Weights (:func:`default_weights`) follow how much there is to go on: with no tagged items
the content suggester leads (content 1.0, context 0.5, history 0.25); each tagged item of
the user moves weight to history, ``h = n / (n + HISTORY_HALF)`` of the way to content 0.7,
context 0.5, history 1.0 (half way at 20 items).  A trained personal ranker (its scores are
calibrated probabilities) adds with weight ``PERSONAL`` = 4: on two tuning splits of the COCO
bench (seeds 100-101, not the reported ones) P@5 was 0.462 / 0.479 / 0.480 / 0.486 at weights
1 / 2 / 4 / 8 (std 0.04): a plateau from 2 on; 4 keeps the displayed scores less saturated.
The blended scores are a ranking, not calibrated probabilities.  Tags already on the item for
this user are dropped (by full path, and by leaf name for new-word suggestions); each tag
keeps the reason of the suggester that contributed most to it; blended scores under
``MIN_SCORE`` are dropped.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

from tagassist.library.names import normalize
from tagassist.suggest.suggesters import Suggestion

HISTORY_HALF = 20
DEFAULT_TOP = 10
MIN_SCORE = 0.01  # below this a suggestion is noise (e.g. the 20th image word)
COLD = {"content": 1.0, "context": 0.5, "history": 0.25}
WARM = {"content": 0.7, "context": 0.5, "history": 1.0}
PERSONAL = 4.0  # chosen on tuning splits of the COCO bench (README "Personal model")


def default_weights(tagged_items: int) -> dict[str, float]:
    """Suggester weights for a user with ``tagged_items`` tagged items (see module doc)."""
    h = max(0, tagged_items) / (max(0, tagged_items) + HISTORY_HALF)
    return {k: round(COLD[k] + h * (WARM[k] - COLD[k]), 6) for k in COLD}


def _key(tag: str) -> str:
    return "|".join(normalize(p) for p in tag.split("|"))


def blend(by_suggester: Mapping[str, Sequence[Suggestion]], weights: Mapping[str, float],
          exclude: Iterable[str] = (), top: int = DEFAULT_TOP,
          min_score: float = MIN_SCORE) -> list[Suggestion]:
    """Weighted sum per tag, squashed, present tags excluded, best reason kept, top ``top``."""
    excluded: set[str] = set()
    for tag in exclude:
        excluded.add(_key(tag))
        excluded.add(normalize(tag.rsplit("|", 1)[-1]))
    raw: dict[str, float] = {}
    shown: dict[str, str] = {}
    best: dict[str, tuple[float, str]] = {}
    for name, suggestions in by_suggester.items():
        w = float(weights.get(name, 0.0))
        if w <= 0:
            continue
        seen: set[str] = set()
        for s in suggestions:
            key = _key(s.tag)
            if key in excluded or key in seen:  # a suggester counts once per tag
                continue
            seen.add(key)
            part = w * s.score
            raw[key] = raw.get(key, 0.0) + part
            shown.setdefault(key, s.tag)
            if part > best.get(key, (-1.0, ""))[0]:
                best[key] = (part, s.reason)
    kept = [k for k in raw if 1.0 - math.exp(-raw[k]) >= min_score and raw[k] > 0]
    ranked = sorted(kept, key=lambda k: (-raw[k], k))[:max(0, top)]
    return [Suggestion(shown[k], round(1.0 - math.exp(-raw[k]), 6), best[k][1]) for k in ranked]
