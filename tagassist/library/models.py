"""Plain, immutable records returned by :class:`tagassist.library.Library`.

They hold data only (no DB handles), so they can cross threads and be cached by the UI.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Features:
    """What a featurizer computed for one item: a float32 vector and scored words."""

    item_id: int
    featurizer: str  # e.g. 'image-lite0', 'text-minilm'
    version: str  # the featurizer's version; a different one means "featurize again"
    vector: Any  # numpy float32 array, 1-D
    words: tuple[tuple[str, float], ...]  # (word, score), best first


@dataclass(frozen=True)
class User:
    id: int
    name: str
    created: str


@dataclass(frozen=True)
class Item:
    id: int
    content_hash: str
    kind: str  # 'photo' | 'document'
    size: int | None
    mtime: float | None
    capture_time: str | None  # ISO-8601 local time as found in EXIF
    lat: float | None
    lon: float | None
    place: str | None
    title: str | None
    text_excerpt: str | None
    camera: str | None
    width: int | None
    height: int | None
    context_words: tuple[str, ...]
    paths: tuple[str, ...]
    added: str


@dataclass(frozen=True)
class Tag:
    id: int
    name: str
    normalized: str
    parent_id: int | None
    path: str  # full hierarchical name, e.g. "places|Europe|Paris"
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Assignment:
    id: int
    user_id: int
    item_id: int
    tag_id: int
    tag_name: str  # full path of the tag
    source: str  # 'manual' | 'suggestion' | 'file' | 'import'
    model_version: str | None
    rank: int | None
    created: str


@dataclass(frozen=True)
class Decision:
    id: int
    user_id: int
    item_id: int
    tag_id: int
    accepted: bool
    rank: int | None
    score: float | None
    model_version: str | None
    created: str


@dataclass(frozen=True)
class ModelRecord:
    id: int
    name: str
    version: str
    path: str
    kind: str
    metrics: dict[str, Any] = field(hash=False, compare=True)
    active: bool = False
    created: str = ""


@dataclass(frozen=True)
class TagCount:
    tag: str  # the tag's own name
    path: str
    count: int


@dataclass(frozen=True)
class HistoryEntry:
    tag: str  # full path of the tag
    item_id: int
    created: str


@dataclass(frozen=True)
class Cooccurrence:
    tag: str  # full path of the co-occurring tag
    count: int


@dataclass(frozen=True)
class FolderCount:
    folder: str  # a folder's full path as stored (no trailing separator), e.g. "/photos/2019"
    count: int  # distinct items with a file directly in it (subfolders not included)


@dataclass(frozen=True)
class SavedSearch:
    name: str
    expression: str  # a valid search expression (checked when saved)
    created: str


@dataclass(frozen=True)
class LoggedOp:
    """One undo step of the op_log (``library.history``: ``operation``, ``undo_op``, ``redo_op``).

    What it touched comes from its undo payload, in the direction it was first done: undoing
    it takes ``added`` off again and puts ``removed`` back.  Tag paths are read as the tags
    are now (a later rename shows).
    """

    id: int  # op_log row
    description: str
    item_ids: tuple[int, ...]  # items whose assignments or decisions it changed
    added: tuple[str, ...]  # tag paths it put on items
    removed: tuple[str, ...]  # tag paths it took off items
    renamed: tuple[tuple[str, str], ...] = ()  # (old path, new path) of renamed tags
    decisions: int = 0  # suggestion decisions it recorded
    described: bool = False  # its description came from history.operation() (names things)
