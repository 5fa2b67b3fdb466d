"""tagassist.app: what a person can do to a library, for the window and the command line.

The layer between the views (:mod:`tagassist.ui`, :mod:`tagassist.cli`) and the store
(:mod:`tagassist.library`).  It holds no Qt and starts no thread of its own: the window calls it
on its writer thread (:mod:`tagassist.ui.writer`) and for reads on its UI thread, the CLI in
the process.

* :mod:`.operations` — every write a person makes (tag, untag, review suggestions, rename a
  tag, undo, redo) is one transaction and one undo step, and returns :class:`Changes`.
* :mod:`.queries` — the per-person reads both front ends show (search, untagged, counts).
* :mod:`.import_job`, :mod:`.suggest_jobs`, :mod:`.sidebar_jobs` — the window's long jobs
  (import, suggestions and training, the sidebar's reads) as plain generators; the window
  runs them in its worker pool.
"""

from .changes import Changes
from .operations import Decision, redo, rename, retag, review, tag, undo, untag
from .queries import person, search, tag_counts, untagged

__all__ = [
    "Changes",
    "Decision",
    "person",
    "redo",
    "rename",
    "retag",
    "review",
    "search",
    "tag",
    "tag_counts",
    "undo",
    "untag",
    "untagged",
]
