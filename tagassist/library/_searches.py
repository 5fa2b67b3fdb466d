"""``library.searches``: each person's named tag expressions."""

from __future__ import annotations

from ._common import Manager, check_refs, now
from .errors import LibraryError
from .models import SavedSearch
from .names import clean
from .query import parse


class SavedSearches(Manager):
    def save(self, user_id: int, name: str, expression: str) -> SavedSearch:
        """Save ``expression`` under ``name`` for the user, replacing one of that name.

        Raises QuerySyntaxError for an expression that would not run, so none is ever stored.
        """
        name, expression = clean(name), expression.strip()
        if not name:
            raise LibraryError("A saved search needs a name.")
        parse(expression)
        saved = SavedSearch(name, expression, now())
        with self._write() as conn:
            check_refs(conn, user_id, [])
            conn.execute(
                "INSERT INTO saved_searches (user_id, name, expression, created) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (user_id, name) DO UPDATE SET "
                "expression = excluded.expression, created = excluded.created",
                (user_id, name, expression, saved.created),
            )
        return saved

    def all(self, user_id: int) -> list[SavedSearch]:
        with self._read() as conn:
            rows = conn.execute(
                "SELECT name, expression, created FROM saved_searches WHERE user_id = ? "
                "ORDER BY name COLLATE NOCASE, name",
                (user_id,),
            ).fetchall()
        return [SavedSearch(*r) for r in rows]

    def delete(self, user_id: int, name: str) -> bool:
        """Forget the named search; False if the user had none of that name."""
        with self._write() as conn:
            cur = conn.execute(
                "DELETE FROM saved_searches WHERE user_id = ? AND name = ?", (user_id, clean(name))
            )
            return cur.rowcount > 0
