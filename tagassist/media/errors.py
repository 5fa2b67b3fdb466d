"""The one exception the media readers raise for a file they cannot use.

Callers (the importer, the UI) catch only ``MediaError`` and show ``reason`` to the
user; anything else escaping a reader is a bug.
"""

from __future__ import annotations


class MediaError(Exception):
    """A file could not be read; ``reason`` is a short, human-readable explanation."""

    def __init__(self, reason: str) -> None:
        # Never let an empty reason reach the UI: "failed: " with nothing after it helps no one.
        self.reason = reason.strip() or "unreadable file"
        super().__init__(self.reason)


def os_error_reason(error: OSError) -> str:
    """What a failed open, stat or read of a file says to the person."""
    if isinstance(error, PermissionError):
        return "permission denied"
    if isinstance(error, IsADirectoryError):
        return "is a directory"
    if isinstance(error, FileNotFoundError):
        return "file not found"
    return f"cannot read file: {error.strerror or error}"
