"""Ordered schema migrations; ``PRAGMA user_version`` records the applied version.

Each step runs in its own ``BEGIN IMMEDIATE`` transaction together with the
``user_version`` bump, so a crash mid-migration leaves the previous version intact.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sqlite_utils

from . import schema
from .errors import NewerSchemaError

Step = Callable[[sqlite3.Connection], None] | Sequence[str]


@dataclass(frozen=True)
class Migration:
    version: int
    note: str  # "# changes: ..." one-liner, shown in logs / docs
    step: Step

    def apply(self, conn: sqlite3.Connection) -> None:
        if callable(self.step):
            self.step(conn)
        else:
            for statement in self.step:
                conn.execute(statement)


def _v2(conn: sqlite3.Connection) -> None:
    # A Python step, so the column add can be made idempotent via introspection.
    db = sqlite_utils.Database(conn, recursive_triggers=False, execute_plugins=False)
    if "score" not in db["decisions"].columns_dict:
        conn.execute("ALTER TABLE decisions ADD COLUMN score REAL")
    for statement in schema.V2_UNDO:
        conn.execute(statement)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "# changes: base tables users/items/item_paths/tags/aliases/"
        "assignments/decisions/models + indices",
        schema.V1_BASE,
    ),
    Migration(2, "# changes: decisions.score column; op_log table for persistent undo/redo", _v2),
    Migration(
        3,
        "# changes: index assignments(user_id, tag_id, item_id) for per-user search",
        schema.V3_USER_INDEX,
    ),
    Migration(4, "# changes: features table (item, featurizer, version, vector, words)",
              schema.V4_FEATURES),
    Migration(5, "# changes: item_paths.folder (generated) + index; saved_searches table",
              schema.V5_FOLDERS_AND_SAVED_SEARCHES),
    Migration(6, "# changes: removals counters (triggers) for cheap append-only checks",
              schema.V6_REMOVALS),
)

LATEST_VERSION: int = MIGRATIONS[-1].version


def user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def check_not_newer(conn: sqlite3.Connection, path: str) -> int:
    """Return the DB's schema version; refuse (without writing) one newer than we know."""
    found = user_version(conn)
    if found > LATEST_VERSION:
        raise NewerSchemaError(path, found, LATEST_VERSION)
    return found


def migrate(
    conn: sqlite3.Connection,
    path: str = "",
    migrations: Sequence[Migration] = MIGRATIONS,
    target: int | None = None,
) -> int:
    """Apply every pending step up to ``target`` (default: the last one); return the version.

    ``conn`` must be in autocommit mode (``isolation_level=None``).
    """
    target = migrations[-1].version if target is None else target
    latest = migrations[-1].version
    for migration in migrations:
        if migration.version > target:
            break
        if user_version(conn) >= migration.version:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Re-read under the write lock: another process may have migrated meanwhile.
            current = user_version(conn)
            if current > latest:
                raise NewerSchemaError(path, current, latest)
            if current < migration.version:
                migration.apply(conn)
                conn.execute(f"PRAGMA user_version = {int(migration.version)}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    return user_version(conn)
