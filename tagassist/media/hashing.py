"""Content identity for files: a hash of the bytes, so moves and renames keep a file's tags."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from tagassist.media.errors import MediaError, os_error_reason

CHUNK = 1 << 20  # 1 MiB: large enough to be fast, small enough to never hold a whole video in RAM


def content_hash(path: str | os.PathLike[str]) -> str:
    """Return the blake2b-128 hex digest of the file's bytes (32 hex characters)."""
    h = hashlib.blake2b(digest_size=16)
    try:
        with open(Path(path), "rb") as f:
            while chunk := f.read(CHUNK):
                h.update(chunk)
    except OSError as e:
        raise MediaError(os_error_reason(e)) from e
    return h.hexdigest()
