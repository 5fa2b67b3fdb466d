"""``library.items``: items (photos, documents), the paths their files are at, and folders.

An item's identity is its content hash, so a moved or renamed file maps to the same item and
keeps its tags; ``item_paths`` records every path it has been seen at.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ._common import Manager, ids_json, now
from .errors import LibraryError, NotFoundError
from .models import FolderCount, Item

KINDS = ("photo", "document")

_ITEM_COLUMNS = (
    "i.id, i.content_hash, i.kind, i.size, i.mtime, i.capture_time, i.lat, i.lon, i.place, "
    "i.title, i.text_excerpt, i.camera, i.width, i.height, i.context_words, "
    "(SELECT json_group_array(path) FROM (SELECT path FROM item_paths p "
    " WHERE p.item_id = i.id ORDER BY p.id)) AS paths, i.added"
)
_METADATA = (
    "capture_time",
    "lat",
    "lon",
    "place",
    "title",
    "text_excerpt",
    "camera",
    "width",
    "height",
)
# The grid's order: undated items last; id breaks ties so paging is stable.
_CAPTURE_ORDER = "capture_time IS NULL, capture_time, id"


class ItemManager(Manager):
    def upsert(
        self,
        content_hash: str,
        kind: str,
        path: str | Path,
        size: int | None,
        mtime: float | None,
        capture_time: str | None = None,
        lat: float | None = None,
        lon: float | None = None,
        place: str | None = None,
        title: str | None = None,
        text_excerpt: str | None = None,
        camera: str | None = None,
        width: int | None = None,
        height: int | None = None,
        context_words: Iterable[str] = (),
    ) -> tuple[Item, bool]:
        """Insert or update the item with ``content_hash`` and record ``path`` for it.

        Identity is the content hash, so a moved/renamed file maps to the same item and
        keeps its tags.  Metadata given as None leaves the stored value unchanged.
        Returns ``(item, created)``.
        """
        if kind not in KINDS:
            raise LibraryError(f"Unknown item kind {kind!r}; expected one of {KINDS}.")
        path = str(path)
        meta = dict(
            capture_time=capture_time,
            lat=lat,
            lon=lon,
            place=place,
            title=title,
            text_excerpt=text_excerpt,
            camera=camera,
            width=width,
            height=height,
        )
        words = json.dumps(list(context_words))
        with self._write() as conn:
            row = conn.execute(
                "SELECT id FROM items WHERE content_hash = ?", (content_hash,)
            ).fetchone()
            created = row is None
            if created:
                cur = conn.execute(
                    f"INSERT INTO items (content_hash, kind, size, mtime, {', '.join(_METADATA)}, "
                    f"context_words, added) VALUES (?, ?, ?, ?, {', '.join('?' * len(_METADATA))}"
                    ", ?, ?)",
                    (content_hash, kind, size, mtime, *meta.values(), words, now()),
                )
                item_id = int(cur.lastrowid or 0)
            else:
                item_id = row[0]
                given = {k: v for k, v in meta.items() if v is not None}
                if context_words:
                    given["context_words"] = words
                sets = "".join(f", {k} = :{k}" for k in given)
                conn.execute(
                    f"UPDATE items SET kind = :kind, size = :size, mtime = :mtime{sets} "
                    "WHERE id = :id",
                    {**given, "kind": kind, "size": size, "mtime": mtime, "id": item_id},
                )
            # A path holds one file: if it used to hold other content, it moves to this item.
            conn.execute(
                "INSERT INTO item_paths (item_id, path, size, mtime) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (path) DO UPDATE SET item_id = excluded.item_id, "
                "size = excluded.size, mtime = excluded.mtime",
                (item_id, path, size, mtime),
            )
            return records(conn, [item_id])[0], created

    def get(self, item_id: int) -> Item:
        with self._read() as conn:
            found = records(conn, [item_id])
        if not found:
            raise NotFoundError(f"No item with id {item_id}.")
        return found[0]

    def by_hash(self, content_hash: str) -> Item | None:
        with self._read() as conn:
            row = conn.execute(
                "SELECT id FROM items WHERE content_hash = ?", (content_hash,)
            ).fetchone()
            return records(conn, [row[0]])[0] if row else None

    def by_path(self, path: str | Path) -> Item | None:
        with self._read() as conn:
            row = conn.execute(
                "SELECT item_id FROM item_paths WHERE path = ?", (str(path),)
            ).fetchone()
            return records(conn, [row[0]])[0] if row else None

    def path_state(self, path: str | Path) -> tuple[int | None, float | None, int] | None:
        """``(size, mtime, item_id)`` last seen at ``path``, so import can skip unchanged files."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT size, mtime, item_id FROM item_paths WHERE path = ?", (str(path),)
            ).fetchone()
        return (row[0], row[1], row[2]) if row else None

    def paths_under(self, root: str | Path) -> list[str]:
        """Every known path inside the folder ``root`` (for noticing files that vanished)."""
        prefix = str(root).rstrip("/\\") + os.sep
        # A range scan on the path index; no LIKE, so '%' and '_' in names are not wildcards.
        with self._read() as conn:
            rows = conn.execute(
                "SELECT path FROM item_paths WHERE path >= ? AND path < ? ORDER BY path",
                (prefix, prefix[:-1] + chr(ord(os.sep) + 1)),
            )
            return [r[0] for r in rows]

    def remove_path(self, path: str | Path) -> bool:
        """Forget a path (file deleted/moved away); the item and its tags stay."""
        with self._write() as conn:
            cur = conn.execute("DELETE FROM item_paths WHERE path = ?", (str(path),))
            return cur.rowcount > 0

    def ids(
        self, order: str = "capture_time", offset: int = 0, limit: int | None = None
    ) -> list[int]:
        if order not in ("capture_time", "added"):
            raise LibraryError(f"Unknown item order {order!r}; use 'capture_time' or 'added'.")
        with self._read() as conn:
            if order == "added":
                ids = [r[0] for r in conn.execute("SELECT id FROM items ORDER BY id")]
            else:
                # Dated items, then undated ones (``_CAPTURE_ORDER``), as two queries that walk
                # indexes: one ORDER BY over the whole table sorts in a temp B-tree (2x slower).
                ids = [r[0] for r in conn.execute(
                    "SELECT id FROM items WHERE capture_time IS NOT NULL "
                    "ORDER BY capture_time, id")]
                ids += [r[0] for r in conn.execute(
                    "SELECT id FROM items WHERE capture_time IS NULL ORDER BY id")]
        return ids[int(offset):None if limit is None else int(offset) + int(limit)]

    def get_many(self, ids: Sequence[int]) -> list[Item]:
        """Items for ``ids`` in the given order (unknown ids skipped), in one query."""
        with self._read() as conn:
            return records(conn, ids)

    def count(self) -> int:
        with self._read() as conn:
            return int(conn.execute("SELECT count(*) FROM items").fetchone()[0])

    def folder_counts(self) -> list[FolderCount]:
        """Every folder that directly holds a file of an item, with its distinct items."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT folder, count(DISTINCT item_id) FROM item_paths GROUP BY folder"
            ).fetchall()
        # The column keeps the trailing separator; drop it, except for the root folder "/".
        return [FolderCount(f[:-1] if len(f) > 1 else f, n) for f, n in rows]

    def in_folder(self, folder: str | Path, recursive: bool = True) -> list[int]:
        """Ids of the items with a file in ``folder`` (or its subfolders), in capture order."""
        prefix = str(folder).rstrip("/\\") + os.sep
        # Recursive: a range scan like paths_under(), no LIKE, so '%' and '_' in names are not
        # wildcards, and "/photos/" .. "/photos0" never takes in "/photos2".
        where = "path >= :lo AND path < :hi" if recursive else "folder = :lo"
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT id FROM items WHERE id IN (SELECT item_id FROM item_paths WHERE {where}) "
                f"ORDER BY {_CAPTURE_ORDER}",
                {"lo": prefix, "hi": prefix[:-1] + chr(ord(os.sep) + 1)},
            )
            return [r[0] for r in rows]


def records(conn: sqlite3.Connection, ids: Sequence[int]) -> list[Item]:
    """Items for ``ids`` in the given order (unknown ids skipped), in one query."""
    rows = conn.execute(
        f"SELECT {_ITEM_COLUMNS} FROM items i WHERE i.id IN (SELECT value FROM json_each(?))",
        (ids_json(ids),),
    )
    by_id = {r[0]: _item(r) for r in rows}
    return [by_id[i] for i in ids if i in by_id]


def _item(row: Sequence[Any]) -> Item:
    return Item(
        *row[:14],
        context_words=tuple(json.loads(row[14] or "[]")),
        paths=tuple(json.loads(row[15] or "[]")),
        added=row[16],
    )
