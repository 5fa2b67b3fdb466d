"""Export the folksonomy (who tagged which file with what, when) as JSON or CSV.

Files are written atomically: a temp file in the destination directory, fsynced, then
``os.replace`` - a crash never leaves a half-written export under the final name.

The CSV is made safe to open in a spreadsheet (OWASP "CSV injection"; issue 20: a tag named
``=HYPERLINK(...)`` became a live formula): a text cell starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return - or with ``'`` itself, so the rule can be undone - gets one
``'`` in front.  To read the original text back, drop the first character of every cell that
starts with ``'``.  Numbers (``rank``) are left as numbers.  The JSON keeps every value as is.
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

# What makes a spreadsheet read a cell as a formula (OWASP), and the escape itself.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_ESCAPE = "'"


def csv_cell(value: object) -> object:
    """``value`` as it goes into a CSV cell: text that would start a formula, prefixed."""
    if isinstance(value, str) and value.startswith((*FORMULA_STARTS, _ESCAPE)):
        return _ESCAPE + value
    return value


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
    """One row per assignment; an item's several paths are joined with ``;``.  Text cells
    that a spreadsheet would run as formulas are escaped (see the module docstring)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_FIELDS)
    writer.writeheader()
    for row in library.queries.folksonomy_rows():
        row = {**row, "item_paths": ";".join(row["item_paths"])}
        writer.writerow({key: csv_cell(value) for key, value in row.items()})
    return _atomic_write(path, buf.getvalue())
