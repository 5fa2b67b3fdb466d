"""An in-memory inverted index (tag → item ids) that evaluates tag expressions with numpy masks.

SQL set operations over a million assignments cost 80–300 ms when a term matches most of the
library (tests/bench/bench_query.py): the time goes into de-duplicating hundreds of thousands of
rows, not into finding them.  Here each term becomes a boolean mask over item ids and AND / OR /
NOT are vectorized ``& | ~``, so a query costs a few milliseconds whatever it matches.

The index is built lazily from one grouped query (~0.4 s for 1,000,000 assignments) and thrown
away whenever the database changes — by this connection (a write counter) or by another process
(``PRAGMA data_version``) — so it can never return stale results.
"""

from __future__ import annotations

import json
import sqlite3

import numpy as np

from .query import And, Node, Not, Or, Term, _Compiler


class TagIndex:
    """Postings of one user's (or everybody's) assignments, plus the set of all items."""

    def __init__(self, conn: sqlite3.Connection, user_id: int | None) -> None:
        where, params = ("WHERE user_id = ?", (user_id,)) if user_id is not None else ("", ())
        rows = conn.execute(
            f"SELECT tag_id, json_group_array(item_id) FROM assignments {where} GROUP BY tag_id",
            params,
        ).fetchall()
        self.postings = {tag: np.asarray(json.loads(ids), dtype=np.int64) for tag, ids in rows}
        (ids,) = conn.execute("SELECT json_group_array(id) FROM items").fetchone()
        self.all_items = np.asarray(json.loads(ids), dtype=np.int64)
        self.size = int(self.all_items.max(initial=0)) + 1

    def search(self, conn: sqlite3.Connection, node: Node) -> list[int]:
        """Ascending item ids matching ``node``."""
        return np.flatnonzero(self._mask(conn, node)).tolist()

    def _mask(self, conn: sqlite3.Connection, node: Node) -> np.ndarray:
        if isinstance(node, Term):
            mask = np.zeros(self.size, dtype=bool)
            for tag_id in term_tag_ids(conn, node.name):
                posting = self.postings.get(tag_id)
                if posting is not None:
                    mask[posting] = True
            return mask
        if isinstance(node, Not):
            universe = np.zeros(self.size, dtype=bool)
            universe[self.all_items] = True
            return universe & ~self._mask(conn, node.child)
        masks = [self._mask(conn, child) for child in node.children]
        combine = np.logical_and if isinstance(node, And) else np.logical_or
        assert isinstance(node, (And, Or))
        return combine.reduce(masks)


def term_tag_ids(conn: sqlite3.Connection, name: str) -> list[int]:
    """Tags a term names (by path, path suffix or alias) and all their descendants."""
    compiler = _Compiler(None)
    cte = compiler._term_cte(name)
    sql = f"WITH RECURSIVE {', '.join(compiler.ctes)} SELECT id FROM {cte}"
    return [r[0] for r in conn.execute(sql, compiler.params)]
