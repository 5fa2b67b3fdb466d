"""Find a file's item: by its path, else by its content (the file was moved or renamed).

Light on purpose (no models, no image libraries): the CLI's ``tag``/``untag``/``tags`` call it
for every path, and importing the suggestion service for it cost them 1.5 s.
"""

from __future__ import annotations

import os
from pathlib import Path

from tagassist.library import Library
from tagassist.library.models import Item
from tagassist.media.hashing import content_hash


def find_item(library: Library, path: str | os.PathLike[str]) -> Item | None:
    """The item at ``path``, or the item with its content (the file moved), or None."""
    resolved = Path(path).resolve()
    item = library.items.by_path(str(resolved))
    if item is None and resolved.is_file():
        item = library.items.by_hash(content_hash(resolved))
    return item
