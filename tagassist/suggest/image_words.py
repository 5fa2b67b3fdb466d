"""ImageNet logits -> scored, explained words ("cat", "animal", "tabby") for one photo.

There is no captioning model offline (DESIGN.md), so a photo's "image words" are its most
probable ImageNet classes broadened with WordNet hypernyms from the precomputed table
``resources/imagenet_words.json`` (built by ``scripts/build_hypernyms.py``).  Each top class
spreads its probability ``p`` to its own names (weight 1) and to its hypernyms (weight
``decay ** depth``); a word reached from several top classes *sums* their shares, so when the
top five are five cat breeds, "cat" outranks every single breed.  A class contributes at most
once per word, so scores stay in [0, 1] (the probabilities of the top classes sum to <= 1).

Defaults (5 classes, probability floor 0.01, decay 0.8) from the COCO cold-start benchmark
(``tests/bench/bench_coco_cold_start.py``): decay 0.6-0.9, 3/5/10 classes and floors 0-0.05
all landed within +-0.02 P@5 of each other (204 photos: that is noise); fewer than 5 classes
or a floor of 0.05 lost recall, so the middle of the flat region was kept.

No torch, no Qt: numpy and the JSON table only.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DEFAULT_TABLE = Path(__file__).resolve().parents[2] / "resources" / "imagenet_words.json"


@dataclass(frozen=True)
class ClassWords:
    """One ImageNet class: its own names and its (hypernym name, depth) pairs."""

    wnid: str
    names: tuple[str, ...]
    hypernyms: tuple[tuple[str, int], ...]

    @property
    def label(self) -> str:
        """The name shown in reasons: the most specific multi-word name ("tabby cat") if any."""
        return max(self.names, key=lambda n: (" " in n, -self.names.index(n)))


def softmax(logits: np.ndarray) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64).ravel()
    e = np.exp(z - z.max())
    return e / e.sum()


class ImageWords:
    """``words(logits_row)`` -> [(word, score, reason)], best first, deterministic."""

    def __init__(self, words_json_path: str | os.PathLike[str] = DEFAULT_TABLE, *,
                 decay: float = 0.8) -> None:
        path = Path(words_json_path)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            self.classes = [
                ClassWords(str(c["wnid"]), tuple(c["names"]),
                           tuple((str(n), int(d)) for n, d in c["hypernyms"]))
                for c in sorted(raw["classes"], key=lambda c: int(c["index"]))]
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ValueError(f"{path} is not an image-words table ({e}); rebuild it with "
                             "python scripts/build_hypernyms.py") from None
        if not self.classes or any(not c.names for c in self.classes):
            raise ValueError(f"{path}: a class without names (rebuild the table)")
        self.decay = decay

    def __len__(self) -> int:
        return len(self.classes)

    def top_classes(self, logits_row: np.ndarray, top_k: int = 5, min_prob: float = 0.0
                    ) -> list[tuple[int, float]]:
        """(class index, probability) of the ``top_k`` most probable classes >= min_prob;
        ties go to the lower index."""
        probs = softmax(logits_row)
        if probs.size != len(self.classes):
            raise ValueError(f"{probs.size} logits for a table of {len(self.classes)} classes")
        order = np.lexsort((np.arange(probs.size), -probs))[:max(0, top_k)]
        return [(int(i), float(probs[i])) for i in order if probs[i] >= min_prob]

    def words(self, logits_row: np.ndarray, top_k: int = 5, min_prob: float = 0.01,
              limit: int | None = None) -> list[tuple[str, float, str]]:
        """Words for one photo: (word, score in [0, 1], reason), best score first."""
        scores: dict[str, float] = {}
        shown: dict[str, str] = {}
        sources: dict[str, list[tuple[float, str, float]]] = {}
        for index, prob in self.top_classes(logits_row, top_k, min_prob):
            cls = self.classes[index]
            for word, share in self._spread(cls).items():
                key = word.casefold()
                shown.setdefault(key, word)
                scores[key] = scores.get(key, 0.0) + prob * share
                sources.setdefault(key, []).append((prob * share, cls.label, prob))
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
        return [(shown[k], round(s, 6), _reason(sources[k])) for k, s in ranked]

    def _spread(self, cls: ClassWords) -> dict[str, float]:
        """Word -> weight for one class: 1 for its names, decay**depth for hypernyms."""
        out: dict[str, float] = {}
        for name in cls.names:
            out.setdefault(name, 1.0)
        for name, depth in cls.hypernyms:
            out.setdefault(name, self.decay ** depth)
        return out


def _reason(sources: Sequence[tuple[float, str, float]]) -> str:
    """'image: looks like tabby cat (0.41), Egyptian cat (0.22)': the two biggest sources."""
    best = sorted(sources, key=lambda s: (-s[0], s[1]))[:2]
    return "image: looks like " + ", ".join(f"{label} ({prob:.2f})" for _, label, prob in best)
