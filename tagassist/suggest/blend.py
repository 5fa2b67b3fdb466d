"""Blend the cold-start suggesters into one ranked list (DESIGN.md "Data flow" step 3).

    raw(tag)   = Σ_s w_s · score_s(tag)    s in {content, context, history, personal, document}
    score(tag) = σ(a · ln raw(tag) + b)          Platt-calibrated into (0, 1)

For documents the document ranker (CSRW, its scores calibrated probabilities) adds with weight
``service.DOCUMENT_WEIGHT`` = ``PERSONAL``, like the other trained ranker (a judgement: no
tagging history of documents exists here to tune it on).

Weights (:func:`default_weights`) follow how much there is to go on: with no tagged items
the content suggester leads (content 1.0, context 0.5, history 0.25); each tagged item of
the user moves weight to history, ``h = n / (n + HISTORY_HALF)`` of the way to content 0.7,
context 0.5, history 1.0 (half way at 20 items).  A trained personal ranker (its scores are
calibrated probabilities) adds with weight ``PERSONAL`` = 4: on two tuning splits of the COCO
bench (seeds 100-101, not the reported ones) P@5 was 0.462 / 0.479 / 0.480 / 0.486 at weights
1 / 2 / 4 / 8 (std 0.04): a plateau from 2 on; 4 keeps the displayed scores less saturated.
The score is the probability that the person keeps the tag: (a, b) per regime (``CALIBRATION``:
without and with a personal ranker, whose raw scores differ in scale) were fitted by logistic
regression on ln raw of the shown top 10 of the COCO bench's tuning splits (seeds 100-101;
``python -m tests.bench.bench_coco_personal --first-seed 100 --splits 2 --fit-calibration``)
and checked on the 5 reported splits: expected calibration error of the shown top 10 0.061
without and 0.064 with a personal model (README "Personal model").
The map is increasing, so it never changes the order.  ``blend`` itself defaults to the plain
squash 1 − exp(−raw) (bounded, uncalibrated) for callers without a regime.

Tags already on the item for this user are dropped (by full path, and by leaf name for
new-word suggestions); each tag keeps the reason of the suggester that contributed most to
it; scores under ``MIN_SCORE`` are dropped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from tagassist.library.names import normalize
from tagassist.suggest.suggesters import Suggestion

HISTORY_HALF = 20
DEFAULT_TOP = 10
MIN_SCORE = 0.01  # below this a suggestion is noise (e.g. the 20th image word)
COLD = {"content": 1.0, "context": 0.5, "history": 0.25}
WARM = {"content": 0.7, "context": 0.5, "history": 1.0}
PERSONAL = 4.0  # chosen on tuning splits of the COCO bench (README "Personal model")


@dataclass(frozen=True)
class Platt:
    """P(kept) = σ(a · ln raw + b): logistic regression on the log of the blended raw score."""

    a: float
    b: float

    def __call__(self, raw: float) -> float:
        z = self.a * math.log(max(raw, 1e-12)) + self.b
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def squash(raw: float) -> float:
    """Bounded but uncalibrated: 1 − exp(−raw)."""
    return 1.0 - math.exp(-raw)


# fitted by tests/bench/bench_coco_personal.py --fit-calibration (see module doc)
CALIBRATION: dict[str, Callable[[float], float]] = {
    "base": Platt(2.1018, 0.7405),
    "personal": Platt(2.1355, -1.2706),
}


def default_weights(tagged_items: int) -> dict[str, float]:
    """Suggester weights for a user with ``tagged_items`` tagged items (see module doc)."""
    h = max(0, tagged_items) / (max(0, tagged_items) + HISTORY_HALF)
    return {k: round(COLD[k] + h * (WARM[k] - COLD[k]), 6) for k in COLD}


def _key(tag: str) -> str:
    return "|".join(normalize(p) for p in tag.split("|"))


def blend(by_suggester: Mapping[str, Sequence[Suggestion]], weights: Mapping[str, float],
          exclude: Iterable[str] = (), top: int = DEFAULT_TOP,
          min_score: float = MIN_SCORE,
          calibration: Callable[[float], float] = squash) -> list[Suggestion]:
    """Weighted sum per tag, mapped by ``calibration``, present tags excluded, best reason
    kept, top ``top``."""
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
    score = {k: calibration(r) for k, r in raw.items() if r > 0}
    kept = [k for k in score if score[k] >= min_score]
    ranked = sorted(kept, key=lambda k: (-raw[k], k))[:max(0, top)]
    return [Suggestion(shown[k], round(score[k], 6), best[k][1]) for k in ranked]
