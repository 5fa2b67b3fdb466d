"""Export the folksonomy (who tagged which file with what, when) as JSON or CSV.

Files are written atomically: a temp file in the destination directory, fsynced, then
``os.replace`` - a crash never leaves a half-written export under the final name.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path

from .repository import Library

CSV_FIELDS = (
    "item_paths",
    "content_hash",
    "user",
    "tag",
    "source",
    "model_version",
    "rank",
    "created",
)


def _atomic_write(path: str | Path, text: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def export_json(library: Library, path: str | Path) -> Path:
    """``{"version": 1, "assignments": [...]}`` with one object per assignment."""
    doc = {"version": 1, "library": str(library.path),
           "assignments": library.queries.folksonomy_rows()}
    return _atomic_write(path, json.dumps(doc, ensure_ascii=False, indent=1))


def export_csv(library: Library, path: str | Path) -> Path:
    """One row per assignment; an item's several paths are joined with ``;``."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_FIELDS)
    writer.writeheader()
    for row in library.queries.folksonomy_rows():
        writer.writerow({**row, "item_paths": ";".join(row["item_paths"])})
    return _atomic_write(path, buf.getvalue())
