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
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from tagassist.library import Library
from tagassist.library.models import Item
from tagassist.media import documents, photos
from tagassist.media.context import context_words
from tagassist.media.errors import MediaError
from tagassist.media.hashing import content_hash
from tagassist.media.kinds import kind_of
from tagassist.media.places import place_name
from tagassist.media.scan import ScanEntry, ScanProblem, walk
from tagassist.media.thumbnails import make_thumbnail

EXCERPT_CHARS = 2000


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
    """Read one file's identity, metadata and thumbnail. Raises MediaError for bad files."""
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
            make_thumbnail(entry.path, thumbnails_dir, digest)
        except MediaError as exc:
            warnings.append(f"no thumbnail: {exc}")
        fields = dict(capture_time=info.capture_time, lat=lat, lon=lon, place=place,
                      title=info.title, camera=info.camera, width=info.width,
                      height=info.height,
                      text_excerpt=info.description[:EXCERPT_CHARS] if info.description else None,
                      context_words=tuple(context_words(info.capture_time, place, folders, lat)))
        keywords = merge_keywords(list(info.keywords), list(info.hierarchical))
    else:
        doc = documents.read_document(entry.path)
        warnings += doc.warnings
        fields = dict(title=doc.title, text_excerpt=(doc.text or "")[:EXCERPT_CHARS] or None,
                      context_words=tuple(context_words(None, None, folders)))
        keywords = ()
    return FileFacts(entry, digest, entry.kind, fields, keywords, tuple(warnings))


def merge_keywords(flat: list[str], hierarchical: list[str]) -> tuple[str, ...]:
    """Hierarchical paths win; a flat keyword that is a leaf of one of them is not repeated."""
    paths = [h.strip(" |") for h in hierarchical if h.strip(" |")]
    leaves = {p.split("|")[-1].strip().casefold() for p in paths}
    extra = [f.strip() for f in flat if f.strip() and f.strip().casefold() not in leaves]
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

    entries: list[ScanEntry] = []
    for found in walk(root):
        if isinstance(found, ScanProblem):
            report.problems.append(ImportProblem(str(found.path), found.reason))
        else:
            entries.append(found)
        if cancel.is_set():
            report.cancelled = True
            report.seconds = time.perf_counter() - started
            return report

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
        report.file_tags += library.assignments.assign(user_id, [item.id], list(facts.keywords),
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


def _same_mtime(a: float, b: float) -> bool:
    return abs(float(a) - float(b)) < 1e-3
