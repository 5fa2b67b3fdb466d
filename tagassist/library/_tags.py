"""``library.tags``: the tag tree (names, ``|`` paths, aliases, parents) and renames.

The module's functions work on a connection inside a transaction the caller holds; the
other managers use them to resolve and create tags.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from ._common import Manager, now
from .errors import LibraryError, NotFoundError
from .models import Tag
from .names import SEPARATOR, check_new, clean, normalize, split_path

_TREE_CTE = (
    "tree(id, npath) AS (SELECT id, normalized FROM tags WHERE parent_id IS NULL "
    "UNION ALL SELECT t.id, tree.npath || '|' || t.normalized "
    "FROM tags t JOIN tree ON t.parent_id = tree.id)"
)


class TagManager(Manager):
    def get_or_create(self, name_or_path: str) -> Tag:
        """A plain name reuses an existing tag of that name/alias (root first) or makes a
        root tag; a ``|`` path is anchored at the root and creates missing levels."""
        with self._write() as conn:
            tag_id = ensure(conn, name_or_path)
            return records(conn, [tag_id])[0]

    def find(self, name: str) -> Tag | None:
        """By normalized name (root first), alias, full path or path suffix."""
        with self._read() as conn:
            tag_id = resolve(conn, name)
            return records(conn, [tag_id])[0] if tag_id is not None else None

    def all(self) -> list[Tag]:
        with self._read() as conn:
            tags = records(conn, None)
        return sorted(tags, key=lambda t: normalize(t.path))

    def add_alias(self, tag_name: str, alias: str) -> Tag:
        alias = clean(alias)
        norm = normalize(alias)
        if not norm or SEPARATOR in alias:
            raise LibraryError(f"Invalid alias {alias!r}: empty or contains '{SEPARATOR}'.")
        check_new(alias)  # no control characters, not too long
        with self._write() as conn:
            tag_id = ensure(conn, tag_name)
            row = conn.execute(
                "SELECT tag_id FROM tag_aliases WHERE normalized = ?", (norm,)
            ).fetchone()
            if row and row[0] != tag_id:
                other = records(conn, [row[0]])[0]
                raise LibraryError(f"{alias!r} is already an alias of the tag {other.path!r}.")
            if not row:
                conn.execute(
                    "INSERT INTO tag_aliases (tag_id, alias, normalized) VALUES (?, ?, ?)",
                    (tag_id, alias, norm),
                )
            return records(conn, [tag_id])[0]

    def set_parent(self, tag_name: str, parent_name: str | None) -> Tag:
        """Move a tag (with its subtree) under ``parent_name`` (created if missing), or to
        the root with None.  Refuses moves that would create a cycle."""
        with self._write() as conn:
            tag_id = require(conn, tag_name)
            parent_id = None if parent_name is None else ensure(conn, parent_name)
            ancestor = parent_id
            while ancestor is not None:  # walk up from the new parent
                if ancestor == tag_id:
                    raise LibraryError(
                        f"Cannot put {tag_name!r} under {parent_name!r}: that would make "
                        "the tag its own ancestor."
                    )
                ancestor = conn.execute(
                    "SELECT parent_id FROM tags WHERE id = ?", (ancestor,)
                ).fetchone()[0]
            check_sibling_free(conn, tag_id, parent_id, None)
            conn.execute("UPDATE tags SET parent_id = ? WHERE id = ?", (parent_id, tag_id))
            return records(conn, [tag_id])[0]

    def rename(self, old: str, new: str) -> Tag:
        """Rename a tag in place (assignments follow); ``new`` is a name, not a path.

        One undoable operation (undo gives the tag its old name back)."""
        with self._write() as conn:
            tag_id = require(conn, old)
            segments = check_new(new)
            if len(segments) != 1:
                raise LibraryError("tags.rename takes a plain name; use tags.set_parent to move "
                                   "a tag.")
            parent_id, was = conn.execute(
                "SELECT parent_id, name FROM tags WHERE id = ?", (tag_id,)
            ).fetchone()
            check_sibling_free(conn, tag_id, parent_id, normalize(segments[0]))
            conn.execute(
                "UPDATE tags SET name = ?, normalized = ? WHERE id = ?",
                (segments[0], normalize(segments[0]), tag_id),
            )
            if was != segments[0]:
                self._log(conn, f"Rename {was} to {segments[0]}",
                          {"renamed": [{"id": tag_id, "old": was, "new": segments[0]}]})
            return records(conn, [tag_id])[0]


def check_sibling_free(
    conn: sqlite3.Connection, tag_id: int, parent_id: int | None, norm: str | None
) -> None:
    row = conn.execute(
        "SELECT id FROM tags WHERE coalesce(parent_id, 0) = coalesce(?, 0) "
        "AND normalized = coalesce(?, (SELECT normalized FROM tags WHERE id = ?)) "
        "AND id != ?",
        (parent_id, norm, tag_id, tag_id),
    ).fetchone()
    if row:
        raise LibraryError("A tag with that name already exists at that place in the tree.")


def require(conn: sqlite3.Connection, name: str) -> int:
    tag_id = resolve(conn, name)
    if tag_id is None:
        raise NotFoundError(f"No tag named {name!r}.")
    return tag_id


def _walk_path(conn: sqlite3.Connection, norms: Sequence[str]) -> int | None:
    parent: int | None = None
    for norm in norms:
        row = conn.execute(
            "SELECT id FROM tags WHERE coalesce(parent_id, 0) = coalesce(?, 0) "
            "AND normalized = ?",
            (parent, norm),
        ).fetchone()
        if row is None:
            return None
        parent = row[0]
    return parent


def resolve(conn: sqlite3.Connection, text: str) -> int | None:
    """A tag's id by normalized name (root first), alias, full path or path suffix."""
    norms = [normalize(s) for s in split_path(text)]
    if len(norms) == 1:
        for sql in (
            "SELECT id FROM tags WHERE parent_id IS NULL AND normalized = ?",
            "SELECT tag_id FROM tag_aliases WHERE normalized = ?",
            "SELECT id FROM tags WHERE normalized = ? ORDER BY id",
        ):
            row = conn.execute(sql, (norms[0],)).fetchone()
            if row:
                return int(row[0])
        return None
    exact = _walk_path(conn, norms)
    if exact is not None:
        return exact
    suffix = SEPARATOR + SEPARATOR.join(norms)
    row = conn.execute(
        f"WITH RECURSIVE {_TREE_CTE} SELECT id FROM tree "
        "WHERE substr(npath, length(npath) - length(?) + 1) = ? ORDER BY id LIMIT 1",
        (suffix, suffix),
    ).fetchone()
    return int(row[0]) if row else None


def ensure(conn: sqlite3.Connection, name_or_path: str) -> int:
    """A tag's id (see :meth:`TagManager.get_or_create`), made if missing.

    A name that makes a tag must pass :func:`.names.problem` (LibraryError otherwise, before
    anything is written); one naming tags that exist already is not checked again."""
    segments = split_path(name_or_path)
    if len(segments) == 1:
        found = resolve(conn, segments[0])
        if found is not None:
            return found
    parent: int | None = None
    checked = False
    for seg in segments:
        norm = normalize(seg)
        row = conn.execute(
            "SELECT id FROM tags WHERE coalesce(parent_id, 0) = coalesce(?, 0) "
            "AND normalized = ?",
            (parent, norm),
        ).fetchone()
        if row:
            parent = row[0]
        else:
            if not checked:  # the whole name, before its first new level is made
                check_new(name_or_path)
                checked = True
            parent = conn.execute(
                "INSERT INTO tags (name, normalized, parent_id, created) VALUES (?, ?, ?, ?)",
                (seg, norm, parent, now()),
            ).lastrowid
    assert parent is not None
    return int(parent)


def records(conn: sqlite3.Connection, ids: Sequence[int] | None) -> list[Tag]:
    """Tag records (with full paths and aliases) for ``ids``, or all tags for None."""
    rows = {r[0]: r for r in conn.execute("SELECT id, name, normalized, parent_id FROM tags")}
    aliases: dict[int, list[str]] = {}
    for tag_id, alias in conn.execute("SELECT tag_id, alias FROM tag_aliases ORDER BY id"):
        aliases.setdefault(tag_id, []).append(alias)
    known: dict[int, str] = {}

    def path(tag_id: int) -> str:
        if tag_id not in known:
            chain, cur = [], tag_id
            while cur is not None and len(chain) <= len(rows):
                chain.append(rows[cur][1])
                cur = rows[cur][3]
            known[tag_id] = SEPARATOR.join(reversed(chain))
        return known[tag_id]

    wanted = rows.keys() if ids is None else ids
    return [
        Tag(i, rows[i][1], rows[i][2], rows[i][3], path(i), tuple(aliases.get(i, ())))
        for i in wanted
        if i in rows
    ]


def paths(conn: sqlite3.Connection) -> dict[int, str]:
    """Every tag's full path, by id."""
    return {t.id: t.path for t in records(conn, None)}

