"""Per-item model features in the store: one row per (item, featurizer), replaced on re-run.

Vectors are stored as little-endian float32 bytes (no pickle, readable by any tool); words as
JSON.  A featurizer's ``version`` travels with each row, so items featurized by an older
version are found again by :meth:`FeatureStore.missing` (``library.features.missing``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timezone
from typing import Any

import numpy as np

from ._common import Manager
from .errors import LibraryError
from .models import Features


class FeatureStore(Manager):
    def put(self, rows: Iterable[Features]) -> int:
        """Insert or replace feature rows (one transaction); returns how many were written."""
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        params = [_encode(f, now) for f in rows]
        with self._write() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO features (item_id, featurizer, version, vector, words, "
                "created) VALUES (?, ?, ?, ?, ?, ?)", params)
        return len(params)

    def get(self, item_ids: Sequence[int], featurizer: str,
            version: str | None = None) -> dict[int, Features]:
        """Stored features of these items by one featurizer (of ``version`` if given)."""
        out: dict[int, Features] = {}
        with self._read() as conn:
            for chunk in _chunks(list(item_ids), 900):  # SQLite's bound-parameter limit
                marks = ",".join("?" * len(chunk))
                for r in conn.execute(
                        f"SELECT item_id, featurizer, version, vector, words FROM features "
                        f"WHERE featurizer = ? AND item_id IN ({marks}) "
                        f"AND (? IS NULL OR version = ?)", (featurizer, *chunk, version, version)):
                    out[r[0]] = _decode(r)
        return out

    def missing(self, featurizer: str, version: str, kind: str | None = None) -> list[int]:
        """Items (of ``kind``) with no row by ``featurizer`` at ``version``, ascending ids."""
        with self._read() as conn:
            return [r[0] for r in conn.execute(
                "SELECT i.id FROM items i LEFT JOIN features f ON f.item_id = i.id "
                "AND f.featurizer = ? AND f.version = ? "
                "WHERE f.item_id IS NULL AND (? IS NULL OR i.kind = ?) ORDER BY i.id",
                (featurizer, version, kind, kind))]


def _encode(f: Features, now: str) -> tuple[Any, ...]:
    vector = np.asarray(f.vector, dtype="<f4")
    if vector.ndim != 1 or not np.isfinite(vector).all():
        raise LibraryError(f"features of item {f.item_id} ({f.featurizer}): the vector must "
                           f"be 1-D and finite, got shape {vector.shape}")
    words = json.dumps([[w, float(s)] for w, s in f.words], ensure_ascii=False)
    return (f.item_id, f.featurizer, f.version, vector.tobytes(), words, now)


def _decode(r: Sequence[Any]) -> Features:
    vector = np.frombuffer(r[3], dtype="<f4").astype(np.float32)
    words = tuple((str(w), float(s)) for w, s in json.loads(r[4]))
    return Features(r[0], r[1], r[2], vector, words)


def _chunks(ids: list[int], size: int) -> Iterator[list[int]]:
    for a in range(0, len(ids), size):
        yield ids[a:a + size]
