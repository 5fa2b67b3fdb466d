"""``library.history``: the persistent undo log (op_log), operations, and the change logs.

Every undoable write logs its own undo payload (``_log``).  Inside :meth:`History.operation`
those payloads are collected instead and written as one op_log row,
``{"steps": [payload, ...]}``, when the block ends; undo replays the steps backwards.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from . import _tags
from ._common import UNDO_COLUMNS, Manager, ids_json, now
from .errors import LibraryError, translated
from .models import LoggedOp
from .names import SEPARATOR, normalize

UNDO_LIMIT = 200  # op_log keeps this many most recent operations


class Operation:
    """The writes inside one :meth:`History.operation`: one transaction, one undo step.

    ``description`` is what its op_log row (and so undo and redo) says: set it before the
    block ends.  :meth:`touched` says what the writes so far changed; ``logged`` is the row
    written when the block ended (None when nothing undoable was written).
    """

    def __init__(self, history: History, conn: sqlite3.Connection, description: str) -> None:
        self.description = description
        self.logged: LoggedOp | None = None
        self._history = history
        self._conn = conn
        self._steps: list[dict[str, Any]] = []  # the undo payloads of its writes, in order

    def touched(self) -> LoggedOp:
        """The items and tags the writes so far changed (``id`` 0: not logged yet)."""
        return self._history._summarize(self._conn, 0, self.description, self._steps, True)

    @contextmanager
    def _part(self, path: str) -> Iterator[sqlite3.Connection]:
        """One write method's work: a savepoint, so a write that fails leaves nothing."""
        conn, mark = self._conn, len(self._steps)
        with translated(path):
            conn.execute("SAVEPOINT library_write")
        try:
            with translated(path):
                yield conn
                conn.execute("RELEASE library_write")
        except BaseException:
            del self._steps[mark:]
            try:
                conn.execute("ROLLBACK TO library_write")
                conn.execute("RELEASE library_write")
            except sqlite3.Error:
                pass  # the original error is the interesting one
            raise


class History(Manager):
    @contextmanager
    def operation(self, description: str = "") -> Iterator[Operation]:
        """Group the writes inside the block into one transaction and one undo step.

        The block runs under the library's lock in one ``BEGIN IMMEDIATE`` transaction:
        its reads see its own writes and no other process's, and an exception rolls back
        every write in it.  Each write method keeps its own signature; a failing one is
        rolled back alone (a savepoint), so a caller may catch its error and go on.  Set
        ``op.description`` before the block ends.  Nested, it joins the outer operation.
        """
        lib = self._lib
        with lib._lock:
            if lib._op is not None:
                yield lib._op
                return
            with self._write() as conn:
                op = Operation(self, conn, description)
                lib._op = op
                try:
                    yield op
                finally:
                    lib._op = None
                if op._steps:
                    op_id = self._log(conn, op.description, {"steps": op._steps})
                    op.logged = self._summarize(conn, op_id, op.description, op._steps, True)

    def _log(self, conn: sqlite3.Connection, description: str, payload: dict[str, Any]) -> int:
        """Log one undoable write (its op_log id); inside operation(), collect it instead."""
        if self._lib._op is not None:
            self._lib._op._steps.append(payload)
            return 0
        # A new operation invalidates everything that was undone (the redo stack).
        conn.execute("DELETE FROM op_log WHERE state = 'undone'")
        op_id = conn.execute(
            "INSERT INTO op_log (description, payload, state, created) VALUES (?, ?, 'done', ?)",
            (description, json.dumps(payload), now()),
        ).lastrowid
        conn.execute(
            "DELETE FROM op_log WHERE id NOT IN (SELECT id FROM op_log ORDER BY id DESC LIMIT ?)",
            (UNDO_LIMIT,),
        )
        return int(op_id or 0)

    @staticmethod
    def _apply_rows(
        conn: sqlite3.Connection,
        insert: dict[str, list[dict[str, Any]]],
        delete: dict[str, list[dict[str, Any]]],
    ) -> None:
        # Deletes first (children before parents is irrelevant here: no FKs between them).
        # Assignments are addressed by their natural key (user, item, tag), not by id:
        # rowids of deleted assignments can be reused by later, non-undoable inserts.
        conn.executemany(
            "DELETE FROM assignments WHERE user_id = ? AND item_id = ? AND tag_id = ?",
            [(r["user_id"], r["item_id"], r["tag_id"]) for r in delete.get("assignments", [])],
        )
        # Decisions use AUTOINCREMENT, so their ids are never reused.
        conn.executemany(
            "DELETE FROM decisions WHERE id = ?", [(r["id"],) for r in delete.get("decisions", [])]
        )
        for table, rows in insert.items():
            if table not in UNDO_COLUMNS:
                continue
            cols = UNDO_COLUMNS[table]
            if table == "assignments":
                cols = tuple(c for c in cols if c != "id")
            conn.executemany(
                f"INSERT OR IGNORE INTO {table} ({', '.join(cols)}) "
                f"VALUES ({', '.join('?' * len(cols))})",
                [tuple(r.get(c) for c in cols) for r in rows],
            )

    def _apply_renames(self, conn: sqlite3.Connection, renamed: list[dict[str, Any]],
                       back: bool) -> None:
        """Give renamed tags their old (``back``) or new name again."""
        for r in reversed(renamed) if back else renamed:
            name = str(r["old"] if back else r["new"])
            row = conn.execute("SELECT parent_id FROM tags WHERE id = ?", (int(r["id"]),))
            found = row.fetchone()
            if found is None:
                continue  # the tag is gone: nothing to name
            try:
                _tags.check_sibling_free(conn, int(r["id"]), found[0], normalize(name))
            except LibraryError:
                raise LibraryError(f"Cannot name the tag {name!r} again: another tag at that "
                                   "place in the tree has that name now.") from None
            conn.execute("UPDATE tags SET name = ?, normalized = ? WHERE id = ?",
                         (name, normalize(name), int(r["id"])))

    def undo(self) -> str | None:
        """Revert the most recent operation; returns its description, or None if none."""
        op = self.undo_op()
        return op.description if op is not None else None

    def redo(self) -> str | None:
        """Re-apply the most recently undone operation; returns its description or None."""
        op = self.redo_op()
        return op.description if op is not None else None

    def undo_op(self) -> LoggedOp | None:
        """Revert the most recent operation (all its steps); what it had done, or None."""
        return self._replay(undo=True)

    def redo_op(self) -> LoggedOp | None:
        """Re-apply the most recently undone operation; what it does, or None."""
        return self._replay(undo=False)

    def _replay(self, undo: bool) -> LoggedOp | None:
        state, new_state, order = ("done", "undone", "DESC") if undo else ("undone", "done", "")
        with self._write() as conn:
            row = conn.execute(
                f"SELECT id, description, payload FROM op_log WHERE state = ? "
                f"ORDER BY id {order} LIMIT 1", (state,)
            ).fetchone()
            if row is None:
                return None
            payload = json.loads(row[2])
            steps = payload["steps"] if "steps" in payload else [payload]
            for step in reversed(steps) if undo else steps:
                if undo:
                    self._apply_rows(conn, step.get("removed", {}), step.get("added", {}))
                else:
                    self._apply_rows(conn, step.get("added", {}), step.get("removed", {}))
                self._apply_renames(conn, step.get("renamed", []), back=undo)
            conn.execute("UPDATE op_log SET state = ? WHERE id = ?", (new_state, row[0]))
            return self._summarize(conn, row[0], str(row[1]), steps, "steps" in payload)

    def _summarize(self, conn: sqlite3.Connection, op_id: int, description: str,
                   steps: list[dict[str, Any]], described: bool) -> LoggedOp:
        """What the undo payloads ``steps`` touched, with tag paths as they are now."""
        items: dict[int, None] = {}
        added: dict[int, None] = {}
        removed: dict[int, None] = {}
        renamed: list[dict[str, Any]] = []
        decisions = 0
        for step in steps:
            for side, tags in (("added", added), ("removed", removed)):
                for r in step.get(side, {}).get("assignments", []):
                    items[int(r["item_id"])] = None
                    tags[int(r["tag_id"])] = None
                for r in step.get(side, {}).get("decisions", []):
                    items[int(r["item_id"])] = None
                    decisions += 1
            renamed += step.get("renamed", [])
        tags_now = {t.id: t for t in _tags.records(conn, None)}

        def path(tag_id: int, name: str | None = None) -> str:
            tag = tags_now.get(tag_id)
            if tag is None:
                return name or f"#{tag_id}"
            if name is None:
                return tag.path
            parent = tags_now.get(tag.parent_id) if tag.parent_id is not None else None
            return name if parent is None else parent.path + SEPARATOR + name

        if renamed:  # every item tagged with the tag or one below it: its path changed
            rows = conn.execute(
                "WITH RECURSIVE sub(id) AS (SELECT value FROM json_each(?) UNION "
                "SELECT t.id FROM tags t JOIN sub ON t.parent_id = sub.id) "
                "SELECT DISTINCT item_id FROM assignments WHERE tag_id IN (SELECT id FROM sub) "
                "ORDER BY item_id", (ids_json(int(r["id"]) for r in renamed),))
            items.update((r[0], None) for r in rows)
        return LoggedOp(
            id=op_id,
            description=description,
            item_ids=tuple(items),
            added=tuple(path(t) for t in sorted(added)),  # by id: the order they were made
            removed=tuple(path(t) for t in sorted(removed)),
            renamed=tuple((path(int(r["id"]), str(r["old"])), path(int(r["id"]), str(r["new"])))
                          for r in renamed),
            decisions=decisions,
            described=described,
        )

    def can_undo(self) -> bool:
        with self._read() as conn:
            return (
                conn.execute("SELECT 1 FROM op_log WHERE state = 'done' LIMIT 1").fetchone()
                is not None
            )

    def can_redo(self) -> bool:
        with self._read() as conn:
            return (
                conn.execute("SELECT 1 FROM op_log WHERE state = 'undone' LIMIT 1").fetchone()
                is not None
            )

    def log_state(self) -> tuple[int, ...]:
        """(assignments removed or changed ever, their largest id, the same for decisions,
        then for tags and for tag aliases): while the counters stand still, everything since
        a reader's last look is in :meth:`assignment_log` / :meth:`decision_log` after the
        largest ids it saw, and the tags are as they were unless their largest ids grew."""
        with self._read() as conn:
            removed = dict(conn.execute("SELECT name, n FROM removals").fetchall())
            out = []
            for table in ("assignments", "decisions", "tags", "tag_aliases"):
                top = conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0]
                out += [int(removed[table]), int(top)]
        return tuple(out)

    def assignment_log(self, after_id: int = 0
                       ) -> list[tuple[int, int, int, int, str, str]]:
        """(id, user, item, tag id, created, source) of every assignment with an id above
        ``after_id``, by id (all of them for 0)."""
        with self._read() as conn:
            return [tuple(r) for r in conn.execute(
                "SELECT id, user_id, item_id, tag_id, created, source FROM assignments "
                "WHERE id > ? ORDER BY id", (after_id,))]

    def decision_log(self, after_id: int = 0) -> list[tuple[int, int, int, int, bool]]:
        """(id, user, item, tag id, accepted) of every decision with an id above
        ``after_id``, by id."""
        with self._read() as conn:
            return [(r[0], r[1], r[2], r[3], bool(r[4])) for r in conn.execute(
                "SELECT id, user_id, item_id, tag_id, accepted FROM decisions WHERE id > ? "
                "ORDER BY id", (after_id,))]

