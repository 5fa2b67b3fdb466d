"""SOG's input as words (paper 3.4, early fusion), shared by the trainer and the app.

A photo's context is one string of fields, each closed by a marker::

    <image words> [IMG] <place> [LOC] <time words> [TIME] <text>

(CiteULike / Stack Exchange contexts are plain text without markers.)  A marker becomes one
token whose id is a ``[unusedN]`` slot of the MiniLM vocabulary; the model gives those slots
learned vectors (the frozen word table has nothing useful there).  ``[USER]`` is the user
token: its vector is the user's embedding, so personalization changes one row, not the net.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

IMG, LOC, TIME, USER = "[IMG]", "[LOC]", "[TIME]", "[USER]"
MARKERS = (IMG, LOC, TIME, USER)
MARKER_IDS = {m: i + 1 for i, m in enumerate(MARKERS)}  # [unused0]…[unused3] in vocab.txt
_SPLIT = re.compile("(" + "|".join(re.escape(m) for m in MARKERS) + ")")
FIELDS = ("image", "place", "time", "text")


def tag_text(tag: str) -> str:
    """The words of a tag name: ``machine_learning`` / ``places|nl|amsterdam`` -> words.

    A hierarchical tag is read by its leaf (the specific name); ``_ - .`` separate words."""
    leaf = tag.split("|")[-1]
    return " ".join(leaf.replace("_", " ").replace("-", " ").replace(".", " ").split()) or tag


def fuse(image: Iterable[str] = (), place: Iterable[str] = (), time: Iterable[str] = (),
         text: str = "") -> str:
    """The early-fusion context string: ``image [IMG] place [LOC] time [TIME] text``."""
    return " ".join([*image, IMG, *place, LOC, *time, TIME, " ".join(text.split())]).strip()


def context_ids(tokenizer: Any, text: str, max_context: int, cls_id: int, sep_id: int,
                user: bool = False) -> list[int]:
    """``[CLS] ([USER]) wordpieces… [SEP]`` with markers as single ids; at most ``max_context``
    tokens between ``[CLS]`` and ``[SEP]`` (later fields are cut first)."""
    ids: list[int] = [MARKER_IDS[USER]] if user else []
    for piece in _SPLIT.split(text):
        if piece in MARKER_IDS:
            ids.append(MARKER_IDS[piece])
        elif piece.strip():
            ids += tokenizer.encode(piece, add_special_tokens=False).ids
    return [cls_id] + ids[:max_context] + [sep_id]


def drop_fields(text: str, keep: Sequence[str]) -> str:
    """The fused context with only the fields in ``keep`` (``FIELDS``); the markers stay, so the
    model sees which fields are empty (the context ablation of the paper's Table 4)."""
    parts = _SPLIT.split(text)
    if len(parts) < 7:  # not a fused context: plain text is the "text" field
        return text if "text" in keep else ""
    values = [parts[0], parts[2], parts[4], "".join(parts[6:])]
    kept = [v if f in keep else "" for f, v in zip(FIELDS, values, strict=True)]
    return fuse(kept[0].split(), kept[1].split(), kept[2].split(), kept[3])


SOG_IMAGE_WORDS = 8  # image words in a photo's context (best first)


def photo_context(image_words: Sequence[str], capture_time: str | None, place: str | None,
                  text: str = "", lat: float | None = None) -> str:
    """A photo's fused context, the same in training (trainer.sog_photos) and in the app:
    the featurizer's best image words, the place's words ("paris", "france"), the time words
    (season, weekday, part of day, month, year) and free text (title, description)."""
    from tagassist.media.context import context_words

    time_words = context_words(capture_time, None, [], lat) if capture_time else []
    place_words = [p.strip().lower() for p in (place or "").split(",") if p.strip()]
    return fuse(list(image_words)[:SOG_IMAGE_WORDS], place_words, time_words, text)
