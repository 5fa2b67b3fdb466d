"""What the store's managers share: their base class, timestamps, id lists and undo rows."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .errors import NotFoundError

if TYPE_CHECKING:
    from .repository import Library

# Columns the undo log may write back, per table (payloads are never trusted blindly).
UNDO_COLUMNS = {
    "assignments": (
        "id",
        "user_id",
        "item_id",
        "tag_id",
        "source",
        "model_version",
        "rank",
        "created",
    ),
    "decisions": (
        "id",
        "user_id",
        "item_id",
        "tag_id",
        "accepted",
        "rank",
        "score",
        "model_version",
        "created",
    ),
}


class Manager:
    """One part of a :class:`Library`'s API.  Every read and write goes through the library's
    ``_read``/``_write``, so its lock, snapshots and one transaction per write hold here too."""

    def __init__(self, library: Library) -> None:
        self._lib = library

    def _read(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._lib._read()

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._lib._write()

    def _log(self, conn: sqlite3.Connection, description: str, payload: dict[str, Any]) -> int:
        """Log one undoable write (see :meth:`History._log`)."""
        return self._lib.history._log(conn, description, payload)


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def ids_json(ids: Iterable[int]) -> str:
    return json.dumps([int(i) for i in ids])


def select_rows(
    conn: sqlite3.Connection, table: str, where: str, params: Sequence[Any]
) -> list[dict[str, Any]]:
    """Rows of ``table`` as undo payloads (the columns of ``UNDO_COLUMNS``), by id."""
    cols = UNDO_COLUMNS[table]
    rows = conn.execute(f"SELECT {', '.join(cols)} FROM {table} WHERE {where} ORDER BY id", params)
    return [dict(zip(cols, r, strict=True)) for r in rows]


def check_refs(conn: sqlite3.Connection, user_id: int, item_ids: Sequence[int]) -> None:
    if not conn.execute("SELECT 1 FROM users WHERE id = ?", (user_id,)).fetchone():
        raise NotFoundError(f"No user with id {user_id}.")
    found = conn.execute(
        "SELECT count(*) FROM items WHERE id IN (SELECT value FROM json_each(?))",
        (ids_json(item_ids),),
    ).fetchone()[0]
    if found != len(set(item_ids)):
        raise NotFoundError(f"Some of the items {sorted(set(item_ids))} do not exist.")
