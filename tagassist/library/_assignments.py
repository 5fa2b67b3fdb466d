"""``library.assignments``: who put which tag on which item, and suggestion decisions.

Every write here is one transaction and (unless told otherwise) one undoable operation in the
op_log (see :mod:`._history`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from . import _tags
from ._common import Manager, check_refs, ids_json, now, select_rows
from .errors import LibraryError
from .models import Assignment, Decision, Tag

SOURCES = ("manual", "suggestion", "file", "import")


class AssignmentManager(Manager):
    def assign(
        self,
        user_id: int,
        item_ids: Iterable[int],
        tag_names: Iterable[str],
        source: str = "manual",
        model_version: str | None = None,
        rank: int | None = None,
        undoable: bool = True,
    ) -> int:
        """Tag items; returns how many assignments were new (existing ones are kept as is).

        One transaction and (unless ``undoable=False``, for bulk imports that would flush
        the bounded undo log and the redo stack) one undoable operation.
        """
        if source not in SOURCES:
            raise LibraryError(f"Unknown assignment source {source!r}; expected one of {SOURCES}.")
        item_ids, tag_names = list(item_ids), list(tag_names)
        with self._write() as conn:
            check_refs(conn, user_id, item_ids)
            tag_ids = [_tags.ensure(conn, n) for n in tag_names]
            added = _insert(conn, user_id, item_ids, tag_ids, source, model_version, rank)
            if added and undoable:
                names = ", ".join(tag_names)
                self._log(
                    conn,
                    f"Tag {len(item_ids)} item(s) with {names}",
                    {"added": {"assignments": added}},
                )
            return len(added)

    def unassign(self, user_id: int, item_ids: Iterable[int], tag_names: Iterable[str]) -> int:
        """Remove exactly these (user, item, tag) assignments; returns how many existed."""
        item_ids, tag_names = list(item_ids), list(tag_names)
        with self._write() as conn:
            tag_ids = [t for t in (_tags.resolve(conn, n) for n in tag_names) if t is not None]
            rows = select_rows(
                conn,
                "assignments",
                "user_id = ? AND item_id IN (SELECT value FROM json_each(?)) "
                "AND tag_id IN (SELECT value FROM json_each(?))",
                (user_id, ids_json(item_ids), ids_json(tag_ids)),
            )
            conn.executemany("DELETE FROM assignments WHERE id = ?", [(r["id"],) for r in rows])
            if rows:
                self._log(
                    conn,
                    f"Remove {', '.join(tag_names)} from {len(item_ids)} item(s)",
                    {"removed": {"assignments": rows}},
                )
            return len(rows)

    def of_item(self, item_id: int, user_id: int | None = None) -> list[Assignment]:
        with self._read() as conn:
            paths = _tags.paths(conn)
            rows = conn.execute(
                "SELECT id, user_id, item_id, tag_id, source, model_version, rank, created "
                "FROM assignments WHERE item_id = ? AND (? IS NULL OR user_id = ?) ORDER BY id",
                (item_id, user_id, user_id),
            ).fetchall()
        return [Assignment(r[0], r[1], r[2], r[3], paths[r[3]], *r[4:]) for r in rows]

    def tags_of(self, item_id: int, user_id: int | None = None) -> list[Tag]:
        with self._read() as conn:
            ids = [
                r[0]
                for r in conn.execute(
                    "SELECT DISTINCT tag_id FROM assignments WHERE item_id = ? "
                    "AND (? IS NULL OR user_id = ?) ORDER BY tag_id",
                    (item_id, user_id, user_id),
                )
            ]
            return _tags.records(conn, ids)

    def record_decisions(
        self,
        user_id: int,
        item_id: int,
        decisions: Iterable[tuple[str, bool, int | None, float | None, str | None]],
    ) -> list[Decision]:
        """Log accept/reject of suggestions ``(tag_name, accepted, rank, score, model_version)``.

        Accepted ones also become assignments with source='suggestion'.  One transaction
        and one undoable operation (undo removes the decisions and those assignments).
        """
        decisions = list(decisions)
        with self._write() as conn:
            check_refs(conn, user_id, [item_id])
            new_ids: list[int] = []
            added: list[dict[str, Any]] = []
            for tag_name, accepted, rank, score, model_version in decisions:
                tag_id = _tags.ensure(conn, tag_name)
                cur = conn.execute(
                    "INSERT INTO decisions (user_id, item_id, tag_id, accepted, rank, score, "
                    "model_version, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        user_id,
                        item_id,
                        tag_id,
                        int(bool(accepted)),
                        rank,
                        score,
                        model_version,
                        now(),
                    ),
                )
                new_ids.append(int(cur.lastrowid or 0))
                if accepted:
                    added += _insert(
                        conn, user_id, [item_id], [tag_id], "suggestion", model_version, rank
                    )
            rows = select_rows(
                conn, "decisions", "id IN (SELECT value FROM json_each(?))", (ids_json(new_ids),)
            )
            if rows:
                n_acc = sum(1 for d in decisions if d[1])
                self._log(
                    conn,
                    f"Review {len(rows)} suggestion(s) ({n_acc} accepted) on item {item_id}",
                    {"added": {"decisions": rows, "assignments": added}},
                )
            return [_decision(r) for r in rows]

    def decisions(self, user_id: int, since_id: int = 0) -> list[Decision]:
        with self._read() as conn:
            rows = select_rows(conn, "decisions", "user_id = ? AND id > ?", (user_id, since_id))
        return [_decision(r) for r in rows]

    def shown_scores(self, user_id: int, limit: int, since: str = ""
                     ) -> list[tuple[float, bool]]:
        """(percentage shown as 0–1, kept?) of the user's newest ``limit`` decisions on a
        suggestion shown with a percentage (made after ``since``, an ISO time): what those
        percentages meant to this person."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT score, accepted FROM decisions WHERE user_id = ? AND score IS NOT NULL "
                "AND created > ? ORDER BY id DESC LIMIT ?",
                (user_id, since, int(limit))).fetchall()
        return [(float(score), bool(ok)) for score, ok in rows]


def _insert(
    conn: sqlite3.Connection,
    user_id: int,
    item_ids: Sequence[int],
    tag_ids: Sequence[int],
    source: str,
    model_version: str | None,
    rank: int | None,
) -> list[dict[str, Any]]:
    """INSERT OR IGNORE each pair; return the rows actually added (for the undo log)."""
    created = now()
    new_ids = []
    for item_id in dict.fromkeys(item_ids):
        for tag_id in dict.fromkeys(tag_ids):
            cur = conn.execute(
                "INSERT OR IGNORE INTO assignments (user_id, item_id, tag_id, source, "
                "model_version, rank, created) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (user_id, item_id, tag_id, source, model_version, rank, created),
            )
            if cur.rowcount == 1:
                new_ids.append(int(cur.lastrowid or 0))
    return select_rows(
        conn, "assignments", "id IN (SELECT value FROM json_each(?))", (ids_json(new_ids),)
    )


def _decision(r: dict[str, Any]) -> Decision:
    return Decision(
        r["id"],
        r["user_id"],
        r["item_id"],
        r["tag_id"],
        bool(r["accepted"]),
        r["rank"],
        r["score"],
        r["model_version"],
        r["created"],
    )
