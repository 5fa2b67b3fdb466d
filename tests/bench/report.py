"""Writing a benchmark's result: the JSON file, then its table on stdout."""

from __future__ import annotations

import json
from pathlib import Path


def write_report(path: Path, result: dict, table: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1) + "\n")
    print(table)
    print(f"wrote {path}")
