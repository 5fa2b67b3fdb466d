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
    from tagassist.media.importer import ImportProblem, ImportProgress, ImportReport

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
    """(one-line status text, notification or None) for an ``ImportReport``: the files that
    could not be imported, then what was imported with a warning (keywords left out …)."""
    verb = "Import cancelled" if report.cancelled else "Import finished"
    status = (f"{verb}: {report.added} new, {report.updated + report.moved} updated, "
              f"{report.unchanged} unchanged in {report.seconds:.1f} s")
    parts = []
    if report.problems:
        n = len(report.problems)
        parts.append(f"{n} file{'s' if n != 1 else ''} could not be imported — "
                     f"{_listed(report.problems)}")
    if report.warnings:
        n = len(report.warnings)
        parts.append(f"{n} warning{'s' if n != 1 else ''} — {_listed(report.warnings)}")
    if report.skipped:
        parts.append(f"{len(report.skipped)} skipped — {_listed(report.skipped)}")
    return status, (". ".join(parts) or None)


def _listed(problems: list[ImportProblem]) -> str:
    """The first few as "name: reason"; a name that is not valid UTF-8 shown with escapes."""
    shown = "; ".join(f"{_printable(Path(p.path).name)}: {p.reason}"
                      for p in problems[:SHOWN_PROBLEMS])
    more = len(problems) - SHOWN_PROBLEMS
    return shown + (f"; and {more} more" if more > 0 else "")


def _printable(name: str) -> str:
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
