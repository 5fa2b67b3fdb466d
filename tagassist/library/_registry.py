"""``library.models``: the registry of trained model versions (at most one active per name)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._common import Manager, now
from .errors import NotFoundError
from .models import ModelRecord

_MODEL_COLUMNS = "id, name, version, path, kind, metrics, active, created"


class ModelRegistry(Manager):
    def register(
        self, name: str, version: str, path: str | Path, kind: str, metrics: dict[str, Any]
    ) -> ModelRecord:
        """Add (or update the path/kind/metrics of) a model version; it starts inactive."""
        with self._write() as conn:
            conn.execute(
                "INSERT INTO models (name, version, path, kind, metrics, active, created) "
                "VALUES (?, ?, ?, ?, ?, 0, ?) ON CONFLICT (name, version) DO UPDATE SET "
                "path = excluded.path, kind = excluded.kind, metrics = excluded.metrics",
                (name, version, str(path), kind, json.dumps(metrics), now()),
            )
            row = conn.execute(
                f"SELECT {_MODEL_COLUMNS} FROM models WHERE name = ? AND version = ?",
                (name, version),
            ).fetchone()
            return _model(row)

    def activate(self, name: str, version: str) -> ModelRecord:
        with self._write() as conn:
            row = conn.execute(
                "SELECT id FROM models WHERE name = ? AND version = ?", (name, version)
            ).fetchone()
            if row is None:
                raise NotFoundError(f"No model {name!r} version {version!r} is registered.")
            conn.execute("UPDATE models SET active = 0 WHERE name = ? AND active = 1", (name,))
            conn.execute("UPDATE models SET active = 1 WHERE id = ?", (row[0],))
            r = conn.execute(
                f"SELECT {_MODEL_COLUMNS} FROM models WHERE id = ?", (row[0],)
            ).fetchone()
            return _model(r)

    def active(self, name: str) -> ModelRecord | None:
        with self._read() as conn:
            row = conn.execute(
                f"SELECT {_MODEL_COLUMNS} FROM models WHERE name = ? AND active = 1", (name,)
            ).fetchone()
        return _model(row) if row else None

    def all(self, name: str | None = None) -> list[ModelRecord]:
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT {_MODEL_COLUMNS} FROM models WHERE ? IS NULL OR name = ? "
                "ORDER BY name, id",
                (name, name),
            ).fetchall()
        return [_model(r) for r in rows]


def _model(r: Sequence[Any]) -> ModelRecord:
    return ModelRecord(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]), bool(r[6]), r[7])
