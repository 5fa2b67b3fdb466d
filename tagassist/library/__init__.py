"""tagassist.library: the SQLite folksonomy store (users, items, tags, assignments).

Import :class:`Library`, its records and the errors from here; everything else is internal.
A library's API is its managers: ``library.users``, ``.items``, ``.tags``, ``.assignments``,
``.history``, ``.queries``, ``.searches``, ``.models`` and ``.features`` (e.g.
``library.tags.rename(old, new)``, ``library.history.undo()``); their modules are private.
"""

from .connection import DEFAULT_BUSY_TIMEOUT
from .errors import (
    LibraryCorruptError,
    LibraryError,
    LibraryLockedError,
    NewerSchemaError,
    NotFoundError,
    OlderSchemaError,
)
from .export import export_csv, export_json
from .models import (
    Assignment,
    Cooccurrence,
    Decision,
    Features,
    HistoryEntry,
    Item,
    ModelRecord,
    Tag,
    TagCount,
    User,
)
from .query import QuerySyntaxError
from .repository import Library

__all__ = [
    "DEFAULT_BUSY_TIMEOUT",
    "Assignment",
    "Cooccurrence",
    "Decision",
    "Features",
    "HistoryEntry",
    "Item",
    "Library",
    "LibraryCorruptError",
    "LibraryError",
    "LibraryLockedError",
    "ModelRecord",
    "NewerSchemaError",
    "NotFoundError",
    "OlderSchemaError",
    "QuerySyntaxError",
    "Tag",
    "TagCount",
    "User",
    "export_csv",
    "export_json",
]
