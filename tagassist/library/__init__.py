"""tagassist.library: the SQLite folksonomy store (users, items, tags, assignments).

Import :class:`Library` and the errors from here; everything else is internal.
"""

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
