"""Scored words -> the library's own tags, through MiniLM sentence embeddings.

Image words come from ImageNet/WordNet ("domestic cat", "beverage"); a person tags with their
own words ("kitty", "moggy", "my coffee").  ``TagVocabulary`` embeds every tag's name and
aliases once with ``TextEncoder`` and scores a tag as

    score(tag) = max over words w of  score(w) * sim(w, tag)
    sim(w, tag) = 1                                  if w and a tag text normalize alike
                = max(0, (cos - threshold) / (1 - threshold))   otherwise (best tag text)

so a word only counts for tags that mean nearly the same thing, and its strength fades
linearly to nothing at the threshold.  Embeddings (tags and words) are cached by text: the
same image words recur across photos, and a new tag costs one encoder call.

Threshold (measured with ``python -m tests.bench.bench_coco_cold_start``: 204 tagged COCO
val2017 photos, vocabulary = 80 categories + supercategories (91 tags), ImageWords top-5
classes, top-5 tags; P@5/R@5): 0.3 -> .367/.402, 0.4 -> .380/.415, 0.5 -> .393/.426,
0.6 -> .393/.433, 0.65 -> .384/.425, 0.7 -> .351/.396, 0.8 -> .306/.354, exact names only
-> .264/.309 (naive ImageNet top-5 names, exact: .052/.052).  The curve is flat from 0.5 to
0.6 and falls on both sides: lower lets unrelated words in (MiniLM cosines: "cat"/"car" 0.46,
"container"/"bowl" 0.35), higher loses true near-synonyms ("cat"/"kitty" 0.84, "dog"/"puppy"
0.80, "vehicle"/"car" 0.87, "food"/"pizza" 0.64, "table"/"dining table" 0.68).  0.6 has the
best recall of the grid at the same precision.  The linear fade beat a plain step (cos kept
as is above the threshold: .386/.424 at 0.6, .376/.411 at 0.5).  Slang MiniLM does not know
stays unmatched ("cat"/"moggy" 0.32): such a word needs an alias the model knows.

No torch, no Qt.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from tagassist.library.names import normalize
from tagassist.suggest.encoders import TextEncoder

DEFAULT_THRESHOLD = 0.6

WordScore = tuple[str, float] | tuple[str, float, str]


class TagLike(Protocol):
    """What ``from_tags`` reads of a library ``Tag``."""

    name: str
    path: str
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class _Entry:
    tag: str
    texts: tuple[str, ...]  # the tag's name, then its aliases (display forms)
    keys: frozenset[str]  # their normalized forms, for exact matches


class TagVocabulary:
    """A library's tags, matchable from any words: ``match(words) -> [(tag, score, reason)]``."""

    def __init__(self, encoder: TextEncoder, tags: Iterable[str] = (),
                 aliases: Mapping[str, Sequence[str]] | None = None, *,
                 threshold: float = DEFAULT_THRESHOLD,
                 cache: dict[str, np.ndarray] | None = None) -> None:
        """``cache``: text -> unit vector, shared with other vocabularies of one encoder."""
        if not 0.0 <= threshold < 1.0:
            raise ValueError(f"threshold must be in [0, 1), not {threshold}")
        self.encoder = encoder
        self.threshold = threshold
        self._entries: dict[str, _Entry] = {}
        # the encoder's own cache when it has one (TextEncoder.cached): shared, warmed early
        self._cache: dict[str, np.ndarray] = (
            cache if cache is not None else getattr(encoder, "cache", None) or {})
        self._stacked: tuple[list[str], np.ndarray, np.ndarray, dict[str, list[int]]] | None
        self._exact: dict[str, str] | None
        self._leaves: frozenset[str] | None
        self._stacked = self._exact = self._leaves = None
        self._synced: frozenset[tuple[str, str, tuple[str, ...]]] | None = None
        aliases = aliases or {}
        for tag in tags:
            self.add(tag, aliases.get(tag, ()))

    @classmethod
    def from_tags(cls, encoder: TextEncoder, tags: Iterable[TagLike], **kwargs: float
                  ) -> TagVocabulary:
        """From library ``Tag`` records: keyed by full path, matched by leaf name + aliases."""
        vocab = cls(encoder, **kwargs)
        for t in tags:
            vocab.add(t.path, (t.name, *t.aliases))
        return vocab

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def tags(self) -> list[str]:
        return list(self._entries)

    def add(self, tag: str, aliases: Sequence[str] = ()) -> None:
        """Add (or replace) a tag; its texts are embedded at once (cached)."""
        texts = _texts(tag, aliases)
        if not texts:
            raise ValueError(f"tag {tag!r} has no text to match")
        self._embed(texts)
        self._entries[tag] = _Entry(tag, texts, frozenset(normalize(t) for t in texts))
        self._stacked = self._exact = self._leaves = None

    def sync(self, tags: Iterable[TagLike]) -> TagVocabulary:
        """Make the vocabulary these library tags: new ones are added (one encoder call for
        their texts), gone ones dropped; the embedding cache is kept, so a library that grows
        by one tag costs one tag's encoding, not the whole vocabulary's."""
        signature = frozenset((t.path, t.name, tuple(t.aliases)) for t in tags)
        before = self._synced if self._synced is not None else frozenset(
            (p, "", ()) for p in self._entries)  # entries added by hand: check them all
        if signature == before:
            return self
        kept = {p for p, _, _ in signature}
        for path in {p for p, _, _ in before} - kept:
            self._entries.pop(path, None)
            self._stacked = self._exact = self._leaves = None
        changed = []
        for path, name, aliases in signature - before:
            texts = _texts(path, (name, *aliases))
            entry = self._entries.get(path)
            if texts and (entry is None or entry.texts != texts):
                changed.append((path, texts))
        self._embed(x for _, texts in changed for x in texts)  # one encoder call for all
        for path, texts in changed:
            self.add(path, texts)
        self._synced = signature
        return self

    def exact_keys(self) -> dict[str, str]:
        """Normalised tag texts (leaf name, aliases, full path) -> tag; cached until the
        vocabulary changes."""
        if self._exact is None:
            self._exact = {}
            for tag, entry in self._entries.items():
                for key in (*entry.keys, "|".join(normalize(p) for p in tag.split("|"))):
                    self._exact.setdefault(key, tag)
        return self._exact

    def leaf_keys(self) -> frozenset[str]:
        """The normalised leaf names of the tags; cached until the vocabulary changes."""
        if self._leaves is None:
            self._leaves = frozenset(normalize(t.rsplit("|", 1)[-1]) for t in self._entries)
        return self._leaves

    def similarity(self, word: str, tag: str) -> float:
        """sim(word, tag) in [0, 1] as defined in the module doc."""
        entry = self._entries[tag]
        if normalize(word) in entry.keys:
            return 1.0
        vectors = self._embed((word, *entry.texts))
        cos = max(float(vectors[word] @ vectors[t]) for t in entry.texts)
        return max(0.0, (cos - self.threshold) / (1.0 - self.threshold))

    def match(self, words_with_scores: Iterable[WordScore], limit: int | None = None
              ) -> list[tuple[str, float, str]]:
        """Tags ranked by max over words of score(word) * sim(word, tag); only scores > 0."""
        words: dict[str, tuple[float, str]] = {}
        for item in words_with_scores:
            word, score = str(item[0]).strip(), float(item[1])
            reason = str(item[2]) if len(item) > 2 else ""
            if word and score > 0 and score > words.get(word, (0.0, ""))[0]:
                words[word] = (score, reason)
        if not words or not self._entries:
            return []
        word_list = list(words)
        vectors = self._embed(word_list)
        w = np.stack([vectors[x] for x in word_list])
        w_scores = np.array([words[x][0] for x in word_list])
        tags, texts, starts, by_key = self._matrix()
        # cosine to every tag text, then the best text of each tag: [words, tags]
        cos = np.maximum.reduceat(w @ texts.T, starts, axis=1)
        sim = np.clip((cos - self.threshold) / (1.0 - self.threshold), 0.0, 1.0)
        for i, word in enumerate(word_list):
            sim[i, by_key.get(normalize(word), [])] = 1.0
        total = w_scores[:, None] * sim
        best = total.argmax(axis=0)  # ties: the first word, i.e. the caller's order
        out = []
        for j in np.flatnonzero(total[best, np.arange(len(tags))] > 0):
            i = int(best[j])
            entry = self._entries[tags[j]]
            out.append((entry.tag, round(float(total[i, j]), 6),
                        _reason(word_list[i], entry, float(sim[i, j]), words[word_list[i]][1])))
        out.sort(key=lambda r: (-r[1], r[0]))
        return out[:limit]

    def _matrix(self) -> tuple[list[str], np.ndarray, np.ndarray, dict[str, list[int]]]:
        """(tags, all tag-text vectors grouped by tag, each tag's first row, key -> tags)."""
        if self._stacked is None:
            tags = list(self._entries)
            rows, starts, by_key = [], [], {}
            for j, tag in enumerate(tags):
                entry = self._entries[tag]
                starts.append(len(rows))
                rows.extend(self._cache[t] for t in entry.texts)
                for key in entry.keys:
                    by_key.setdefault(key, []).append(j)
            self._stacked = (tags, np.stack(rows), np.array(starts), by_key)
        return self._stacked

    def _embed(self, texts: Iterable[str]) -> dict[str, np.ndarray]:
        """Map text -> unit vector, encoding only the texts not seen before."""
        texts = list(dict.fromkeys(texts))
        new = [t for t in texts if t not in self._cache]
        if new:
            for text, vec in zip(new, self.encoder.encode(new), strict=True):
                self._cache[text] = vec.astype(np.float32)
        return {t: self._cache[t] for t in texts}


def _texts(tag: str, aliases: Sequence[str]) -> tuple[str, ...]:
    """A tag's texts to match: its leaf name, then its aliases, without repeats."""
    leaf = tag.rsplit("|", 1)[-1]
    return tuple(dict.fromkeys(t.strip() for t in (leaf, *aliases) if t.strip()))


def _reason(word: str, entry: _Entry, sim: float, word_reason: str) -> str:
    """Why the word suggests the tag, in plain words: the word's own reason ('looks like
    “cat”'), plus ', close to “kitty”' when the tag is only similar to the word."""
    base = word_reason or f"the word “{word}”"
    if normalize(word) in entry.keys:
        return base
    return f"{base}, close to “{entry.texts[0]}”"
