"""Walk a folder tree and list the photos and documents in it, never raising on a bad entry.

Order is deterministic (files of a folder by name, then its sub-folders by name), directory
symlinks are followed but each real directory is visited once (so symlink loops terminate),
hidden entries and ``.xmp`` sidecars are skipped (sidecars are read together with their photo),
and anything unreadable comes back as a ``ScanProblem`` instead of an exception.

Which files are listed, and which are said to be skipped:

* a photo or document extension (``kinds.PHOTO_EXTS``/``DOCUMENT_EXTS``, HEIC and RAW
  included) is listed; the readers then trust the bytes, not the name (a JPEG named ``.HEIC``
  imports as a JPEG, with a warning);
* a media extension TagAssist does not read (video, PSD, GIF, ...: ``kinds.UNSUPPORTED_MEDIA_EXTS``)
  has its first KiB read: bytes of such a kind make a ``ScanProblem`` with ``skipped=True`` and
  the reason ("video (MP4) is not supported"), so an import report never hides them;
  bytes of a photo we do read are listed as that photo; anything else (no media at all behind
  the name, or unreadable) is passed over.  A video named like a photo beside it (the movie of
  an iPhone Live Photo: IMG_0001.MOV next to IMG_0001.HEIC) is passed over too: it is part of
  that photo, and thousands of them would bury the report;
* every other file (.DS_Store and other hidden files, .xmp/.aae/.json sidecars, Thumbs.db,
  text and code that is not a document kind) is passed over in silence and never opened: such
  files fill photo folders and would flood the report.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tagassist.media.kinds import VIDEO_EXTS, Kind, Sniffed, kind_of, unsupported_media


@dataclass(frozen=True)
class ScanEntry:
    """A file the readers can handle; ``mtime`` is seconds since the epoch."""

    path: Path
    kind: Kind
    size: int
    mtime: float


@dataclass(frozen=True)
class ScanProblem:
    """Something under the root that could not be listed or read.

    ``skipped`` marks a file that was read fine but is a media kind TagAssist does not import
    (a video, a Photoshop file): not an error, but something the person should be told.
    """

    path: Path
    reason: str
    skipped: bool = False


def _reason(e: OSError) -> str:
    if isinstance(e, PermissionError):
        return "permission denied"
    return e.strerror or str(e) or type(e).__name__


def walk(root: str | os.PathLike[str]) -> Iterator[ScanEntry | ScanProblem]:
    """Yield every supported file under ``root`` (recursively), and problems met on the way."""
    root = Path(root)
    try:
        st = os.stat(root)
    except OSError as e:
        yield ScanProblem(root, _reason(e))
        return
    if not stat.S_ISDIR(st.st_mode):
        yield ScanProblem(root, "not a directory")
        return

    visited: set[tuple[int, int]] = {(st.st_dev, st.st_ino)}
    # Explicit stack rather than recursion: a deep tree must not hit Python's recursion limit.
    stack: list[Path] = [root]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                children = sorted(it, key=lambda d: d.name)
        except OSError as e:
            yield ScanProblem(folder, _reason(e))
            continue

        subdirs: list[Path] = []
        # A Live Photo's movie (IMG_0001.MOV beside IMG_0001.HEIC) belongs to its photo: one
        # line per such movie would bury the report of an iPhone library.
        photo_stems = {Path(c.name).stem.casefold() for c in children
                       if kind_of(c.name) == "photo"}
        for child in children:
            if child.name.startswith("."):
                continue  # hidden files and folders (.git, .thumbnails, ._AppleDouble, ...)
            path = Path(child.path)
            try:
                cst = child.stat(follow_symlinks=True)
            except FileNotFoundError:
                if child.is_symlink():
                    yield ScanProblem(path, "dangling symlink")
                continue  # otherwise it vanished while we looked: not a problem
            except OSError as e:
                # ELOOP (a symlink pointing at itself) lands here too.
                yield ScanProblem(path, _reason(e))
                continue

            if stat.S_ISDIR(cst.st_mode):
                key = (cst.st_dev, cst.st_ino)
                if key in visited:
                    if child.is_symlink():
                        yield ScanProblem(path, "symlink to a folder already scanned (skipped)")
                    continue
                visited.add(key)
                subdirs.append(path)
                continue
            if not stat.S_ISREG(cst.st_mode):
                continue  # sockets, fifos, devices: never open them (a fifo would block)
            if path.suffix.lower() == ".xmp":
                continue
            kind = kind_of(path)
            if kind is None:
                if (path.suffix.lower() in VIDEO_EXTS
                        and path.stem.casefold() in photo_stems):
                    continue
                other = unsupported_media(path)
                if isinstance(other, str):
                    yield ScanProblem(path, other, skipped=True)
                    continue
                if not isinstance(other, Sniffed):
                    continue  # not media (or not what its name says): nothing to report
                kind = other.kind  # a photo we read, behind a video/GIF/... name
            if not os.access(path, os.R_OK):
                yield ScanProblem(path, "permission denied")
                continue
            yield ScanEntry(path, kind, cst.st_size, cst.st_mtime)

        # Reversed so that popping from the stack visits sub-folders in name order.
        stack.extend(reversed(subdirs))
