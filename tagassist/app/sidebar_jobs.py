"""Reading what the sidebar shows, off the GUI thread (a plain generator for ``JobRunner``).

Hierarchical tag counts over a 100k-item library take a few hundred milliseconds of SQL, and
they change with every tag written; run on the GUI thread that would freeze the window after
each accepted suggestion.  The job opens its own connection (WAL: it reads while the window
writes) and returns plain data.
"""

from __future__ import annotations

import threading
from collections.abc import Generator, Iterable
from dataclasses import dataclass
from pathlib import Path

ALIAS_ARROW = " → "  # completions "alias → tag path": typing the alias finds the tag


@dataclass(frozen=True)
class SidebarData:
    user_id: int
    counts: list  # TagCount, hierarchical
    total: int
    untagged: int
    saved_searches: list  # SavedSearch
    completions: list[str]
    folders: list | None  # FolderCount; None when not asked for (they change only on import)


def completion_names(tags: Iterable) -> list[str]:
    """Completions for the tag field: full paths, leaf names and "alias → path"."""
    names: set[str] = set()
    for t in tags:
        names.update((t.path, t.name))
        names.update(f"{alias}{ALIAS_ARROW}{t.path}" for alias in t.aliases)
    return sorted(names, key=str.casefold)


def sidebar_job(database: Path, user_id: int, with_folders: bool, cancel: threading.Event
                ) -> Generator[tuple[int, int, str], None, SidebarData | None]:
    from tagassist.library import Library

    library = Library.open(database)
    try:
        yield 0, 0, ""
        if cancel.is_set():  # a newer refresh is queued behind this one
            return None
        total = library.items.count()
        data = SidebarData(
            user_id=user_id,
            counts=library.queries.tag_counts(user_id=user_id, hierarchical=True),
            total=total,
            untagged=total - len(library.queries.tagged(user_id)),
            saved_searches=library.searches.all(user_id),
            completions=completion_names(library.tags.all()),
            folders=library.items.folder_counts() if with_folders else None,
        )
        return None if cancel.is_set() else data
    finally:
        library.close()
