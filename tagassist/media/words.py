"""A document as a bag of words — the input of the document rankers (WSABIE, CSRW, #TagSpace).

One tokenizer for training (``trainer.models.text_rankers``) and serving (``suggest.documents``),
so the words a model learned are the words the app looks up.  Deliberately plain: lower-cased
runs of letters and digits that hold at least one letter ("p53" and "3d" are words, "1" and
"2011" are not: in a real PDF manual, section numbers outnumbered every real word and decided
the suggestions), no stemming and no stop-word list — CSRW's point is that the model learns how
much each word matters to each tag.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping

import numpy as np

_WORD = re.compile(r"[^\W_]+")
PAD = 0  # batch padding (ignored)
EDGE = 1  # #TagSpace's padding vector at both ends of a document
FIRST_WORD = 2  # word ids start here


def doc_words(text: str) -> list[str]:
    """The words of ``text`` in order (case-folded)."""
    return [w for w in _WORD.findall(text.casefold()) if not w.isdigit()]


def word_index(words: list[str]) -> dict[str, int]:
    """Word -> id for a vocabulary list (ids from :data:`FIRST_WORD`)."""
    return {w: FIRST_WORD + k for k, w in enumerate(words)}


def word_bag(text: str, index: Mapping[str, int], max_words: int
             ) -> tuple[np.ndarray, np.ndarray]:
    """(ids, counts) of the known words of ``text``: at most ``max_words`` distinct ones, most
    frequent first (ties: first seen), as int64 and float32.  Unknown words are dropped."""
    counts = Counter(index[w] for w in doc_words(text) if w in index)
    top = counts.most_common(max_words)
    return (np.array([w for w, _ in top], np.int64),
            np.array([c for _, c in top], np.float32))


def word_sequence(text: str, index: Mapping[str, int], max_len: int) -> np.ndarray:
    """The ids of the first ``max_len`` known words of ``text``, in order (for #TagSpace)."""
    ids = [index[w] for w in doc_words(text) if w in index]
    return np.array(ids[:max_len], np.int64)
