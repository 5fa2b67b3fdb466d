"""Import a folder of photos and documents into the folksonomy.

The import is a generator (napari's pattern): each ``yield`` is a progress tick and a
cancellation point, so the CLI drives it with a progress bar and the window from a worker thread.
The generator's return value (``StopIteration.value``) is the :class:`ImportReport`.

Reading a file (hash, metadata, text, thumbnail) is pure and runs on a small thread pool — hashing
and JPEG decoding release the GIL — while every database write happens on the generator's thread,
one transaction per file, so a crash or a cancel never leaves half an item behind.

Re-import is incremental: a path whose size and mtime are unchanged is not read again.  Identity
is the content hash, so a moved or renamed file keeps its tags (the old path is dropped, the item
stays).

A file is read several times (hash, metadata, thumbnail), so :func:`read_file` stats it before and
after: if it changed meanwhile (rewritten or replaced), the read is retried once, then reported,
and the size and mtime stored are the ones its hash, metadata and thumbnail were read under.
A path that is not valid UTF-8 cannot be stored (SQLite text is UTF-8): it is reported, not read.
"""

from __future__ import annotations

import os
import stat
import threading
import time
from collections.abc import Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from tagassist.library import Library
from tagassist.library.models import Item
from tagassist.library.names import problem as tag_name_problem
from tagassist.media import documents, photos
from tagassist.media.context import context_words
from tagassist.media.errors import MediaError, os_error_reason
from tagassist.media.hashing import content_hash
from tagassist.media.kinds import kind_of
from tagassist.media.places import place_name
from tagassist.media.scan import ScanEntry, ScanProblem, walk
from tagassist.media.thumbnails import make_thumbnail, thumbnail_path
from tagassist.media.xmp import tool_tag

EXCERPT_CHARS = 2000
# Keywords kept per file.  Real photos carry tens, a heavily tagged one a few hundred; each one
# becomes a tag in one transaction, and a sidecar with 100,000 of them took 4.8 s to import.
# The rest are dropped with a warning naming the file.
MAX_KEYWORDS = 1000
# Reads of a file that keeps changing while it is read, before it is reported.
READ_ATTEMPTS = 2

FILE_NOT_UTF8 = "file name is not valid UTF-8; rename it"
FOLDER_NOT_UTF8 = "folder name is not valid UTF-8; rename it"
CHANGED_WHILE_READ = "changed while it was being imported; import again"


@dataclass(frozen=True)
class ImportProblem:
    path: str
    reason: str


@dataclass(frozen=True)
class ImportProgress:
    done: int
    total: int
    path: str


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    moved: int = 0
    unchanged: int = 0
    removed_paths: int = 0
    file_tags: int = 0
    problems: list[ImportProblem] = field(default_factory=list)
    warnings: list[ImportProblem] = field(default_factory=list)
    # media of a kind TagAssist does not import (a video, a Photoshop file): not errors
    skipped: list[ImportProblem] = field(default_factory=list)
    cancelled: bool = False
    seconds: float = 0.0

    @property
    def imported(self) -> int:
        return self.added + self.updated + self.moved


@dataclass(frozen=True)
class FileFacts:
    """Everything read from one file, ready to be written in one transaction."""

    entry: ScanEntry
    content_hash: str
    kind: str
    fields: dict
    keywords: tuple[str, ...]
    warnings: tuple[str, ...]


def read_file(entry: ScanEntry, root: Path, thumbnails_dir: Path) -> FileFacts:
    """Read one file's identity, metadata and thumbnail. Raises MediaError for bad files.

    Hash, metadata and thumbnail come from separate opens of the file, so it is stat-ed before
    and after: if it changed in between they may describe different contents, and it is read
    again (``READ_ATTEMPTS`` in all), then refused.  The size and mtime in the returned
    ``entry`` are the ones the file had during the read (the scan's may be older).
    """
    for _attempt in range(READ_ATTEMPTS):
        before = _stat(entry.path)
        facts, new_thumbnail = _read_once(
            replace(entry, size=before.st_size, mtime=before.st_mtime), root, thumbnails_dir)
        if _same_version(before, _stat(entry.path)):
            return facts
        if new_thumbnail is not None:
            # Made from whichever version was there then, under this hash: never keep it.
            new_thumbnail.unlink(missing_ok=True)
    raise MediaError(CHANGED_WHILE_READ)


def _stat(path: Path) -> os.stat_result:
    try:
        return os.stat(path)
    except OSError as exc:
        raise MediaError(os_error_reason(exc)) from exc


def _same_version(a: os.stat_result, b: os.stat_result) -> bool:
    """Same file, same contents as far as stat can tell: a replace changes the inode, a write
    the size or mtime, and ctime catches a write that set the mtime back."""
    return (stat.S_ISREG(b.st_mode)
            and (a.st_dev, a.st_ino, a.st_size, a.st_mtime_ns, a.st_ctime_ns)
            == (b.st_dev, b.st_ino, b.st_size, b.st_mtime_ns, b.st_ctime_ns))


def _read_once(entry: ScanEntry, root: Path, thumbnails_dir: Path
               ) -> tuple[FileFacts, Path | None]:
    """One read of the file; also returns the thumbnail it wrote (None if none was new)."""
    new_thumbnail = None
    try:
        digest = content_hash(entry.path)
    except OSError as exc:
        raise MediaError(f"cannot read file: {exc.strerror or exc}") from exc
    folders = [p for p in entry.path.relative_to(root).parts[:-1]]
    warnings: list[str] = []
    if entry.kind == "photo":
        info = photos.read_photo(entry.path)
        warnings += info.warnings
        lat, lon = info.gps if info.gps else (None, None)
        place = place_name(lat, lon) if info.gps else None
        try:
            was_cached = thumbnail_path(thumbnails_dir, digest).is_file()
            made = make_thumbnail(entry.path, thumbnails_dir, digest)
            new_thumbnail = None if was_cached else made
        except MediaError as exc:
            warnings.append(f"no thumbnail: {exc}")
        fields = dict(capture_time=info.capture_time, lat=lat, lon=lon, place=place,
                      title=info.title, camera=info.camera, width=info.width,
                      height=info.height,
                      text_excerpt=info.description[:EXCERPT_CHARS] if info.description else None,
                      context_words=tuple(context_words(info.capture_time, place, folders, lat)))
        keywords = merge_keywords(list(info.keywords), list(info.hierarchical))
        if len(keywords) > MAX_KEYWORDS:
            warnings.append(f"too many keywords: kept the first {MAX_KEYWORDS:,} of "
                            f"{len(keywords):,}, dropped {len(keywords) - MAX_KEYWORDS:,}")
            keywords = keywords[:MAX_KEYWORDS]
    else:
        doc = documents.read_document(entry.path)
        warnings += doc.warnings
        fields = dict(title=doc.title, text_excerpt=(doc.text or "")[:EXCERPT_CHARS] or None,
                      context_words=tuple(context_words(None, None, folders)))
        keywords = ()
    return FileFacts(entry, digest, entry.kind, fields, keywords, tuple(warnings)), new_thumbnail


def merge_keywords(flat: list[str], hierarchical: list[str]) -> tuple[str, ...]:
    """Hierarchical paths win; a flat keyword that is a leaf of one of them is not repeated.
    Another tool's own bookkeeping tags (``darktable|format|cr2``) are not the person's."""
    paths = [h.strip(" |") for h in hierarchical if h.strip(" |") and not tool_tag(h)]
    leaves = {p.split("|")[-1].strip().casefold() for p in paths}
    extra = [f.strip() for f in flat
             if f.strip() and f.strip().casefold() not in leaves and not tool_tag(f)]
    return tuple(dict.fromkeys(paths + extra))


def import_folder(library: Library, root: str | os.PathLike, *, user_id: int,
                  thumbnails_dir: str | os.PathLike, cancel: threading.Event | None = None,
                  workers: int = 2, take_keywords: bool = True
                  ) -> Generator[ImportProgress, None, ImportReport]:
    """Import ``root`` recursively; yields progress, returns the :class:`ImportReport`.

    ``take_keywords=False`` leaves the keywords embedded in the files out (the session replay
    keeps them as the truth the person would type)."""
    started = time.perf_counter()
    root = Path(root).resolve()
    thumbnails_dir = Path(thumbnails_dir)
    report = ImportReport()
    cancel = cancel or threading.Event()
    if not _is_utf8(str(root)):
        report.problems.append(ImportProblem(str(root), FOLDER_NOT_UTF8))
        report.seconds = time.perf_counter() - started
        return report

    entries: list[ScanEntry] = []
    bad_folders: dict[Path, int] = {}  # first folder with a non-UTF-8 name -> files below it
    for found in walk(root):
        if isinstance(found, ScanProblem):
            (report.skipped if found.skipped else report.problems).append(
                ImportProblem(str(found.path), found.reason))
        elif not _is_utf8(str(found.path)):
            folder = _first_bad_folder(found.path, root)
            if folder is None:
                report.problems.append(ImportProblem(str(found.path), FILE_NOT_UTF8))
            else:
                bad_folders[folder] = bad_folders.get(folder, 0) + 1
        else:
            entries.append(found)
        if cancel.is_set():
            report.cancelled = True
            report.seconds = time.perf_counter() - started
            return report
    report.problems += [
        ImportProblem(str(folder), f"{FOLDER_NOT_UTF8} ({n} file{'s' * (n != 1)} in it "
                                   "not imported)")
        for folder, n in bad_folders.items()]

    seen = {str(e.path) for e in entries}
    todo = []
    for entry in entries:
        state = library.items.path_state(str(entry.path))
        if state and state[0] == entry.size and _same_mtime(state[1], entry.mtime):
            report.unchanged += 1
        else:
            todo.append(entry)

    total = len(todo)
    yield ImportProgress(0, total, str(root))
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        results = _read_all(pool, todo, root, thumbnails_dir, cancel, ahead=4 * workers)
        for done, (entry, outcome) in enumerate(results, 1):
            if isinstance(outcome, MediaError):
                report.problems.append(ImportProblem(str(entry.path), str(outcome)))
            else:
                _store(library, outcome, user_id, report, take_keywords)
            yield ImportProgress(done, total, str(entry.path))
            if cancel.is_set():
                report.cancelled = True
                break

    if not report.cancelled:
        report.removed_paths = _forget_vanished_paths(library, root, seen)
    report.seconds = time.perf_counter() - started
    return report


def _read_all(pool: ThreadPoolExecutor, todo: list[ScanEntry], root: Path, thumbs: Path,
              cancel: threading.Event, ahead: int
              ) -> Iterator[tuple[ScanEntry, FileFacts | MediaError]]:
    """Read files on the pool, ``ahead`` files in flight (bounded memory), in input order."""
    pending: list = []
    it = iter(todo)

    def submit_next() -> None:
        for entry in it:
            pending.append((entry, pool.submit(_read_safely, entry, root, thumbs)))
            return

    for _ in range(ahead):
        submit_next()
    while pending:
        entry, future = pending.pop(0)
        if cancel.is_set():
            for _, f in pending:
                f.cancel()
        yield entry, future.result()
        if not cancel.is_set():
            submit_next()


def _read_safely(entry: ScanEntry, root: Path, thumbs: Path) -> FileFacts | MediaError:
    try:
        return read_file(entry, root, thumbs)
    except MediaError as exc:
        return exc
    except Exception as exc:  # noqa: BLE001 - one hostile file must never stop an import
        return MediaError(f"unreadable ({type(exc).__name__}: {exc})")


def import_file(library: Library, path: str | os.PathLike[str], *, user_id: int,
                thumbnails_dir: str | os.PathLike[str]) -> Item:
    """Import one file (no folder walk) exactly as :func:`import_folder` stores it.

    Raises ``MediaError`` for a file of a kind TagAssist does not handle or cannot read.
    """
    path = Path(path).resolve()
    kind = kind_of(path)
    if kind is None:
        raise MediaError(f"{path}: not a photo or document TagAssist can read")
    if not _is_utf8(str(path)):
        raise MediaError(FOLDER_NOT_UTF8 if _first_bad_folder(path, Path(path.anchor))
                         else FILE_NOT_UTF8)
    st = path.stat()
    facts = read_file(ScanEntry(path, kind, st.st_size, st.st_mtime), path.parent,
                      Path(thumbnails_dir))
    return _store(library, facts, user_id, ImportReport())


def _store(library: Library, facts: FileFacts, user_id: int, report: ImportReport,
           take_keywords: bool = True) -> Item:
    path = str(facts.entry.path)
    before = library.items.by_hash(facts.content_hash)
    item, created = library.items.upsert(
        facts.content_hash, facts.kind, path, facts.entry.size, facts.entry.mtime, **facts.fields)
    if created:
        report.added += 1
    elif before is not None and path not in before.paths:
        report.moved += 1
    else:
        report.updated += 1
    if facts.keywords and take_keywords:
        # A keyword no tag can be named (control characters, too long) is left out with a
        # warning: refusing it must not stop the import of this file or the ones after it.
        refused = {k: why for k in facts.keywords if (why := tag_name_problem(k))}
        report.warnings += [ImportProblem(path, f"keyword left out: {why}")
                            for why in refused.values()]
        report.file_tags += library.assignments.assign(
            user_id, [item.id], [k for k in facts.keywords if k not in refused],
            source="file", undoable=False)
    report.warnings += [ImportProblem(path, w) for w in facts.warnings]
    return item


def _forget_vanished_paths(library: Library, root: Path, seen: set[str]) -> int:
    """Paths under ``root`` that are gone are dropped; their items (and tags) stay."""
    removed = 0
    for path in library.items.paths_under(str(root)):
        if path not in seen and not os.path.exists(path):
            library.items.remove_path(path)
            removed += 1
    return removed


def _is_utf8(text: str) -> bool:
    """False for a name with bytes that are not UTF-8 (Python keeps them as lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _first_bad_folder(path: Path, root: Path) -> Path | None:
    """The outermost folder between ``root`` and ``path`` whose name is not UTF-8, if any."""
    folder = root
    for part in path.relative_to(root).parts[:-1]:
        folder = folder / part
        if not _is_utf8(part):
            return folder
    return None


def _same_mtime(a: float, b: float) -> bool:
    return abs(float(a) - float(b)) < 1e-3
