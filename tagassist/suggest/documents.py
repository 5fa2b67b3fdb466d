"""The document ranker (``models/doc-ranker``, CSRW family, see ``trainer.export.documents``).

The ranker was trained on article titles, so a document is given to it title-like
(:func:`document_query`): its title plus its key words (``featurize.key_words``: stop words out,
title words first).  Fed the raw excerpt instead, a real PDF manual and a licence text were
ranked by "of", "to", "you" (tags "review", "thesis" for both); with key words the same files got
"information", "database" and "software", "programming".

The query becomes a bag of words (``tagassist.media.words``: the trainer's tokenizer); the ONNX
model returns each word's part of every tag's score; a tag's score is their sum, made a
probability by the Platt map fitted on held-out articles, and its reason names the words that
contributed most ("document words: markov, chain").  Tags under :data:`MIN_PROBABILITY` are
not shown (documents outside CiteULike's subjects get none).  Unknown words are ignored; a text
with no known word gets no suggestions (and says so through :attr:`DocumentRanker.last_note`).
"""
from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence

import numpy as np

from tagassist.media.words import FIRST_WORD, word_bag, word_index
from tagassist.suggest.featurize import STOP_WORDS, key_words
from tagassist.suggest.runtime import ModelLoadError, OnnxModel
from tagassist.suggest.suggesters import Suggestion

DOC_RANKER = "doc-ranker"
REASON_WORDS = 3
QUERY_KEY_WORDS = 30
# Below this calibrated chance of being right a tag is not shown: nine in ten such are wrong.
# Notes outside CiteULike's subjects (espresso, a trip, a file-format manual) got only such
# tags (≤ 0.09, "hapmap", "thesis"); on-topic documents' first tags are 0.10-0.23.  The blend
# weighs the ranker ×4, so without the floor that noise outranked the key words.
MIN_PROBABILITY = 0.1
NO_KNOWN_WORDS = "none of the document's words is known to the document ranker"


def document_query(title: str | None, text: str | None) -> str:
    """What the ranker reads for a document: the title, then its key words."""
    words = [w for w, _score in key_words(title, text, limit=QUERY_KEY_WORDS)]
    return "\n".join([title or "", " ".join(words)])


class DocumentRanker:
    """Load once; :meth:`suggest` per document (a few ms: one small ONNX run)."""

    def __init__(self, model_dir: str | os.PathLike[str], *,
                 providers: Sequence[str] | None = None) -> None:
        self.model = OnnxModel(model_dir, providers=providers)
        meta = self.model.metadata.get("ranker")
        if not isinstance(meta, dict):
            raise ModelLoadError(f"{self.model.dir}: metadata.json has no 'ranker' section "
                                 "(python -m trainer.export --only documents)")
        try:
            words = json.loads(self.model.file("words.json").read_text(encoding="utf-8"))
            self.tags: list[str] = json.loads(
                self.model.file("tags.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise ModelLoadError(f"{self.model.dir}: word or tag list unreadable ({e})") from None
        self.words: list[str] = list(words)
        self.index = word_index(self.words)
        self.normalize = bool(meta["normalize_by_length"])
        self.max_words = int(meta["max_words"])
        cal = meta["calibration"]
        self.a, self.b = float(cal["a"]), float(cal["b"])
        self.version = f"{meta['model']}@{str(self.model.metadata['sha256'])[:8]}"
        self.last_note = ""

    def bag(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The model's input: known word ids and their weights c_mw."""
        ids, counts = word_bag(text, self.index, self.max_words)
        if self.normalize and counts.size:
            counts = counts / counts.sum()
        return ids, counts.astype(np.float32)

    def terms(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(word ids, each word's part of each tag's score [L, T]); L = 0 without known words."""
        ids, w = self.bag(text)
        if ids.size == 0:
            return ids, np.zeros((0, len(self.tags)), np.float32)
        out = self.model.run({"word_ids": ids[None], "word_weights": w[None]})["terms"]
        return ids, out[0]

    def scores(self, text: str) -> np.ndarray:
        """Raw scores of every tag [T] (zeros without known words)."""
        return self.terms(text)[1].sum(axis=0)

    def probability(self, score: float) -> float:
        z = self.a * score + self.b
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def suggest(self, text: str, top: int = 10, exclude: Sequence[str] = ()) -> list[Suggestion]:
        """The ``top`` tags for ``text`` with probabilities and the words behind each."""
        ids, parts = self.terms(text)
        self.last_note = "" if ids.size else NO_KNOWN_WORDS  # (or every tag under the floor)
        if ids.size == 0:
            return []
        scores = parts.sum(axis=0)
        skip = {t.casefold() for t in exclude}
        out: list[Suggestion] = []
        for t in np.argsort(-scores, kind="stable").tolist():
            tag = self.tags[t]
            if tag.casefold() in skip or tag.isdigit() or tag.casefold() in STOP_WORDS:
                continue  # present already, or CiteULike noise: "20", "2007", "in", "and"
            order = np.argsort(-parts[:, t], kind="stable")[:REASON_WORDS]
            why = [self.words[int(ids[k]) - FIRST_WORD] for k in order if parts[k, t] > 0]
            reason = "document words: " + ", ".join(why) if why else "document ranker"
            p = self.probability(float(scores[t]))
            if p < MIN_PROBABILITY:
                break  # sorted by score, and the map is increasing: the rest are lower
            out.append(Suggestion(tag, p, reason))
            if len(out) == top:
                break
        return out
