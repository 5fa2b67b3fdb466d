"""What an operation changed (:class:`Changes`), and the words that name photos and tags."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tagassist.library import Library
from tagassist.library.models import Item

NAMED_ITEMS = 2  # more items than this are counted ("12 photos"), not named
NAMED_TAGS = 3  # more tags than this: the first three "and 2 more tags"
KINDS_LOOKED_UP = 1000  # up to this many items are read to say "photos" or "documents"


@dataclass(frozen=True)
class Changes:
    """The result of one operation: what the window re-reads and what it tells the person.

    Tag paths are full paths ("places|Europe|Paris").  ``added``/``removed`` are the tags put
    on or taken off some of ``item_ids``; after an undo they are what the undo did (undoing a
    tag *removes* it).  ``renamed`` holds ``(old path, new path)``.
    """

    action: str  # 'tag' | 'untag' | 'retag' | 'review' | 'rename' | 'undo' | 'redo'
    description: str  # one line naming the photo(s) and tag(s), e.g. 'Tagged "a.jpg" with "sea"'
    item_ids: tuple[int, ...] = ()  # items whose tags or suggestion decisions changed
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    renamed: tuple[tuple[str, str], ...] = ()
    decisions: int = 0  # suggestion decisions recorded (review) or taken back/again (undo/redo)

    @property
    def changed(self) -> bool:
        """Whether anything was written (False: nothing to undo, tags already there, ...)."""
        return bool(self.item_ids or self.added or self.removed or self.renamed or self.decisions)

    @property
    def tags_changed(self) -> bool:
        """Whether some item's tags (or a tag's name) changed, not just decisions."""
        return bool(self.added or self.removed or self.renamed)


def quoted(text: str) -> str:
    return f'"{text}"'


def listed(parts: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    if len(parts) <= 1:
        return "".join(parts)
    return f"{', '.join(parts[:-1])} and {parts[-1]}"


def item_name(item: Item) -> str:
    """The file name (what the grid shows under a photo), else the title, else the id."""
    if item.paths:
        return Path(item.paths[0]).name
    return item.title or f"item {item.id}"


def items_phrase(library: Library, item_ids: Iterable[int]) -> str:
    """'"IMG_12.jpg"', '"a.jpg" and "b.pdf"', '12 photos', '3 documents', '40 items'."""
    ids = list(dict.fromkeys(item_ids))
    if not ids:
        return "no items"
    if len(ids) <= NAMED_ITEMS:
        found = {it.id: it for it in library.items.get_many(ids)}
        return listed([quoted(item_name(found[i])) if i in found else f"item {i}" for i in ids])
    noun = "items"
    if len(ids) <= KINDS_LOOKED_UP:
        kinds = {it.kind for it in library.items.get_many(ids)}
        noun = {frozenset({"photo"}): "photos",
                frozenset({"document"}): "documents"}.get(frozenset(kinds), "items")
    return f"{len(ids)} {noun}"


def tags_phrase(paths: Iterable[str]) -> str:
    """'"beach"', '"beach" and "sea"', '"a", "b", "c" and 2 more tags'."""
    paths = list(dict.fromkeys(paths))
    shown = [quoted(p) for p in paths[:NAMED_TAGS]]
    more = len(paths) - NAMED_TAGS
    if more > 0:
        shown.append(f"{more} more tag{'s' if more != 1 else ''}")
    return listed(shown) or "no tags"


def have(n: int) -> str:
    return "has" if n == 1 else "have"
