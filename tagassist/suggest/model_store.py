"""Per-user model folders of a library, their versions, and the atomic swap to a new version.

Layout (inside the library folder, so a library moves with its models)::

    <library>/models/user-<id>/<kind>/v0001/{model.onnx, metadata.json}
                                     v0002/...
                                     .staging-<token>/    (a version being written)

The trainer (a separate process, read-only on the database) writes a version into a staging
folder and renames it to the next ``vNNNN`` when it is complete, so a folder named ``vNNNN``
is never half-written.  Which version the app uses is the library's model registry
(``library.models.register`` / ``activate``: one transaction, at most one active version
per name, enforced by SQLite) — that switch is the atomic swap, done by the app or the CLI
after the trainer has finished.  Old versions beyond ``KEEP`` are pruned, never the active one.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tagassist.library import Library
from tagassist.library.models import ModelRecord

PERSONAL_CONTENT = "personal-content"
PERSONAL_BLEND = "personal-blend"  # the learned blend refitted on one person (ranker.py)
BLEND_FILE = "blend.json"
PERSONAL_SET = "personal-set"  # the generated set's rows fitted on one person (personal_set.py)
SET_FILE = "set_table.npz"
KEEP = 3  # versions kept per (user, kind), the active one always among them
_VERSION = re.compile(r"^v(\d{4,})$")


def model_name(kind: str, user_id: int) -> str:
    """The registry name of a user's model of ``kind``: one active version per name."""
    return f"{kind}/user-{user_id}"


@dataclass(frozen=True)
class ModelStore:
    """The model folders of one library (``<library>/models``)."""

    root: Path

    @classmethod
    def of(cls, library: Library) -> ModelStore:
        return cls(Path(library.path).parent / "models")

    def folder(self, kind: str, user_id: int) -> Path:
        return self.root / f"user-{user_id}" / kind

    def versions(self, kind: str, user_id: int) -> list[str]:
        """Complete versions on disk, oldest first."""
        folder = self.folder(kind, user_id)
        if not folder.is_dir():
            return []
        found = [p.name for p in folder.iterdir() if p.is_dir() and _VERSION.match(p.name)]
        return sorted(found, key=lambda v: int(v[1:]))

    def staging(self, kind: str, user_id: int) -> Path:
        """A fresh, empty folder to write a new version into (see :meth:`publish`)."""
        path = self.folder(kind, user_id) / f".staging-{uuid.uuid4().hex[:12]}"
        path.mkdir(parents=True)
        return path

    def publish(self, staging: Path) -> tuple[str, Path]:
        """Rename a finished staging folder to the next version; returns (version, path)."""
        folder = staging.parent
        if not any(staging.iterdir()):  # renaming onto an empty folder would succeed silently
            raise ValueError(f"{staging} is empty: nothing to publish")
        for _ in range(100):  # another trainer may publish at the same moment
            existing = [int(v[1:]) for v in (p.name for p in folder.iterdir())
                        if _VERSION.match(v)]
            version = f"v{max(existing, default=0) + 1:04d}"
            target = folder / version
            try:
                os.rename(staging, target)  # fails if target exists (versions are non-empty)
            except OSError:
                if target.exists():
                    continue
                raise
            return version, target
        raise RuntimeError(f"could not publish {staging}: too many concurrent versions")

    def discard(self, staging: Path) -> None:
        """Remove an unfinished staging folder (cancelled or failed training)."""
        shutil.rmtree(staging, ignore_errors=True)

    def prune(self, kind: str, user_id: int, active: str | None, keep: int = KEEP) -> list[str]:
        """Delete old versions (and stale staging folders), keeping the newest ``keep`` and
        ``active``; returns the versions removed."""
        versions = self.versions(kind, user_id)
        doomed = [v for v in versions[:-keep] if v != active] if keep > 0 else []
        folder = self.folder(kind, user_id)
        for v in doomed:
            shutil.rmtree(folder / v, ignore_errors=True)
        return doomed


def activate(library: Library, kind: str, user_id: int, version: str, path: Path,
             metrics: dict[str, Any]) -> ModelRecord:
    """Register a published version and make it the active one (the atomic swap)."""
    name = model_name(kind, user_id)
    library.models.register(name, version, path, "onnx", metrics)
    record = library.models.activate(name, version)
    ModelStore.of(library).prune(kind, user_id, active=version)
    return record


def publish_and_activate(library: Library, kind: str, user_id: int,
                         write: Callable[[Path], None], metrics: dict[str, Any]
                         ) -> tuple[str, Path]:
    """Write a new version with ``write(folder)`` into a staging folder, publish it and make it
    the active one; a failure (or cancel) leaves no folder behind and the old version active."""
    store = ModelStore.of(library)
    staging = store.staging(kind, user_id)
    try:
        write(staging)
        version, path = store.publish(staging)
    except BaseException:
        store.discard(staging)
        raise
    activate(library, kind, user_id, version, path, metrics)
    return version, path


def active_version(library: Library, kind: str, user_id: int) -> ModelRecord | None:
    """The user's active model of ``kind`` (None before the first training)."""
    return library.models.active(model_name(kind, user_id))
