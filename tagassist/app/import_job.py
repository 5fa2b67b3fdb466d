"""Importing a folder as a job: a plain generator the window runs in a worker (no Qt).

The job opens its own connection, so nothing thread-bound is shared; WAL mode lets the window
keep reading while it writes.  :func:`summarize_import` words the report for the status bar.
"""

from __future__ import annotations

import threading
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tagassist.media.importer import ImportProgress, ImportReport

# Import problems listed in the notification; the rest are counted.
SHOWN_PROBLEMS = 3


def import_job(database: Path, folder: Path, user_id: int, thumbnails: Path,
                cancel: threading.Event) -> Generator[ImportProgress, None, ImportReport]:
    """Runs in the worker thread: it opens its own connection, so nothing thread-bound is shared.

    WAL mode lets the window keep reading while this writes.
    """
    from tagassist.library import Library
    from tagassist.media.importer import import_folder

    library = Library.open(database)
    try:
        return (yield from import_folder(library, folder, user_id=user_id,
                                         thumbnails_dir=thumbnails, cancel=cancel))
    finally:
        library.close()


def summarize_import(report: ImportReport) -> tuple[str, str | None]:
    """(one-line status text, problem notification or None) for an ``ImportReport``."""
    verb = "Import cancelled" if report.cancelled else "Import finished"
    status = (f"{verb}: {report.added} new, {report.updated + report.moved} updated, "
              f"{report.unchanged} unchanged in {report.seconds:.1f} s")
    problems = list(report.problems)
    if not problems:
        return status, None
    shown = "; ".join(f"{Path(p.path).name}: {p.reason}" for p in problems[:SHOWN_PROBLEMS])
    more = len(problems) - SHOWN_PROBLEMS
    text = (f"{len(problems)} file{'s' if len(problems) != 1 else ''} could not be imported — "
            f"{shown}" + (f"; and {more} more" if more > 0 else ""))
    return status, text
