"""The per-person reads both front ends show: the window's grid and sidebar, the CLI's
``search``, ``untagged`` and ``tag-counts``.  ``user_id`` None means everyone's tags."""

from __future__ import annotations

from collections.abc import Sequence

from tagassist.library import Library, TagCount
from tagassist.library.models import User
from tagassist.library.names import clean


def person(library: Library, name: str) -> User:
    """The person called ``name``, added to the library if new.

    In a read-only library nobody can be added: a newcomer gets a stand-in (id 0, with no
    tags) so that browsing and searching still work; any write says the library is read-only.
    """
    if not library.read_only:
        return library.users.get_or_create(name)
    wanted = clean(name)
    known = next((u for u in library.users.all() if u.name == wanted), None)
    return known if known is not None else User(0, wanted, "")


def search(library: Library, user_id: int | None, expression: str) -> list[int]:
    """Item ids (ascending) matching a tag expression over the person's tags.

    Raises ``QuerySyntaxError`` (a ``LibraryError``) for a malformed expression."""
    return library.queries.search(expression, user_id=user_id)


def untagged(library: Library, user_id: int | None,
             among: Sequence[int] | None = None) -> list[int]:
    """The items without any of the person's tags, in the order of ``among`` (default:
    every item, by id).  One index scan of the tagged items, no anti-join."""
    tagged = set(library.queries.tagged(user_id))
    ids = library.items.ids(order="added") if among is None else among
    return [i for i in ids if i not in tagged]


def tag_counts(library: Library, user_id: int | None,
               hierarchical: bool = True) -> list[TagCount]:
    """Distinct items per tag, most used first; hierarchical (as the sidebar shows them):
    "animals" counts its pets too, as a search for it finds them."""
    return library.queries.tag_counts(user_id=user_id, hierarchical=hierarchical)
