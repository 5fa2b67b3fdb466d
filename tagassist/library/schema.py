"""DDL for each schema version, kept as plain statement tuples.

Statements are run one by one with ``Connection.execute`` (never ``executescript``, which
would COMMIT behind our back and break the one-transaction-per-migration rule).
"""

from __future__ import annotations

import os

# v1: the folksonomy itself.
V1_BASE: tuple[str, ...] = (
    """CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        created TEXT NOT NULL
    )""",
    """CREATE TABLE items (
        id INTEGER PRIMARY KEY,
        content_hash TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL CHECK (kind IN ('photo', 'document')),
        size INTEGER,
        mtime REAL,
        capture_time TEXT,
        lat REAL,
        lon REAL,
        place TEXT,
        title TEXT,
        text_excerpt TEXT,
        camera TEXT,
        width INTEGER,
        height INTEGER,
        context_words TEXT NOT NULL DEFAULT '[]',
        added TEXT NOT NULL
    )""",
    "CREATE INDEX items_capture_time ON items (capture_time, id)",
    # One item (content hash) may live at several paths; a path belongs to one item.
    # size/mtime are per path so an incremental re-import can skip unchanged files.
    """CREATE TABLE item_paths (
        id INTEGER PRIMARY KEY,
        item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
        path TEXT NOT NULL UNIQUE,
        size INTEGER,
        mtime REAL
    )""",
    "CREATE INDEX item_paths_item ON item_paths (item_id)",
    """CREATE TABLE tags (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        normalized TEXT NOT NULL,
        parent_id INTEGER REFERENCES tags (id) ON DELETE RESTRICT,
        created TEXT NOT NULL
    )""",
    # NULLs are distinct in UNIQUE constraints, so root tags need the coalesce().
    "CREATE UNIQUE INDEX tags_parent_normalized ON tags (coalesce(parent_id, 0), normalized)",
    "CREATE INDEX tags_normalized ON tags (normalized)",
    "CREATE INDEX tags_parent ON tags (parent_id)",
    """CREATE TABLE tag_aliases (
        id INTEGER PRIMARY KEY,
        tag_id INTEGER NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
        alias TEXT NOT NULL,
        normalized TEXT NOT NULL UNIQUE
    )""",
    "CREATE INDEX tag_aliases_tag ON tag_aliases (tag_id)",
    """CREATE TABLE assignments (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users (id),
        item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
        tag_id INTEGER NOT NULL REFERENCES tags (id),
        source TEXT NOT NULL CHECK (source IN ('manual', 'suggestion', 'file', 'import')),
        model_version TEXT,
        rank INTEGER,
        created TEXT NOT NULL,
        UNIQUE (user_id, item_id, tag_id)
    )""",
    # Covering indices: tag -> items drives search(); item -> tags drives the item view.
    "CREATE INDEX assignments_tag_item ON assignments (tag_id, item_id)",
    "CREATE INDEX assignments_item_tag ON assignments (item_id, tag_id)",
    "CREATE INDEX assignments_user_created ON assignments (user_id, created)",
    # AUTOINCREMENT: ids are cursors for decisions(since_id=...), so never reuse one.
    """CREATE TABLE decisions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id INTEGER NOT NULL REFERENCES users (id),
        item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
        tag_id INTEGER NOT NULL REFERENCES tags (id),
        accepted INTEGER NOT NULL CHECK (accepted IN (0, 1)),
        rank INTEGER,
        model_version TEXT,
        created TEXT NOT NULL
    )""",
    "CREATE INDEX decisions_user ON decisions (user_id, id)",
    """CREATE TABLE models (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        path TEXT NOT NULL,
        kind TEXT NOT NULL,
        metrics TEXT NOT NULL DEFAULT '{}',
        active INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1)),
        created TEXT NOT NULL,
        UNIQUE (name, version)
    )""",
    # At most one active version per model name, enforced by the DB itself.
    "CREATE UNIQUE INDEX models_one_active ON models (name) WHERE active = 1",
)

# v2: suggestion scores on decisions, and the persistent undo/redo log.
V2_UNDO: tuple[str, ...] = (
    """CREATE TABLE op_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        description TEXT NOT NULL,
        payload TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('done', 'undone')),
        created TEXT NOT NULL
    )""",
    "CREATE INDEX op_log_state ON op_log (state, id)",
)

# v3: per-user tag lookups for search(user_id=...) and tag_counts(user_id=...).
V3_USER_INDEX: tuple[str, ...] = (
    "CREATE INDEX assignments_user_tag_item ON assignments (user_id, tag_id, item_id)",
)

# v4: model features per item (image/text embeddings and image words), keyed by featurizer and
# its version, so a new featurizer version re-featurizes lazily instead of mixing vectors.
V4_FEATURES: tuple[str, ...] = (
    """CREATE TABLE features (
        item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
        featurizer TEXT NOT NULL,
        version TEXT NOT NULL,
        vector BLOB NOT NULL,
        words TEXT NOT NULL DEFAULT '[]',
        created TEXT NOT NULL,
        PRIMARY KEY (item_id, featurizer)
    )""",
    "CREATE INDEX features_featurizer_version ON features (featurizer, version)",
)

# v5: the sidebar's folders and saved searches.
# ``folder`` is a path's folder with its trailing separator: rtrim() with the set of the path's
# other characters strips the file name back to the last separator.  Computing that per row
# takes ~1 s on 100k paths; indexed, counting items per folder is a fast index scan.  The
# separator is fixed when the column is made (paths are stored in this OS's form anyway).
V5_FOLDERS_AND_SAVED_SEARCHES: tuple[str, ...] = (
    "ALTER TABLE item_paths ADD COLUMN folder TEXT "
    f"GENERATED ALWAYS AS (rtrim(path, replace(path, '{os.sep}', ''))) VIRTUAL",
    "CREATE INDEX item_paths_folder ON item_paths (folder, item_id)",
    # Saving a search again under its name replaces it.
    """CREATE TABLE saved_searches (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        expression TEXT NOT NULL,
        created TEXT NOT NULL,
        UNIQUE (user_id, name)
    )""",
)

# v6: a counter of removed or changed assignments, decisions, tags and aliases, kept by
# triggers (so other processes' writes and cascades count too).  With the largest ids it tells
# a reader that only appended rows arrived since it last read (library.history.log_state),
# without counting a million rows.
V6_REMOVALS: tuple[str, ...] = (
    "CREATE TABLE removals (name TEXT PRIMARY KEY, n INTEGER NOT NULL)",
    "INSERT INTO removals (name, n) VALUES ('assignments', 0), ('decisions', 0), ('tags', 0), "
    "('tag_aliases', 0)",
    *(f"""CREATE TRIGGER {table}_{event.lower()} AFTER {event} ON {table} BEGIN
        UPDATE removals SET n = n + 1 WHERE name = '{table}'; END"""
      for table in ("assignments", "decisions", "tags", "tag_aliases")
      for event in ("DELETE", "UPDATE")),
)
