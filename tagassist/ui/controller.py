"""The window's controller: every library read/write the views ask for goes through here.

Views (sidebar, grid, detail panel) never touch the ``Library``; they emit intent signals that
the main window routes here, and re-read state when this emits ``tags_changed`` or
``library_changed``.  Errors become ``notify`` messages instead of exceptions in Qt slots.
Suggestions and training live in ``self.suggest`` (:mod:`tagassist.ui.suggest_controller`).

Writes go through :mod:`tagassist.app` (the same operations the ``tagassist`` command
uses): each is one transaction and one undo step in the library's op_log, however many
items it touches, and returns :class:`~tagassist.app.Changes`, which ``changed`` carries to
the window and whose description the status bar shows.  They run off the UI thread, one at
a time in the order asked for (:class:`~tagassist.ui.writer.SerialWriter`, with its own
connection): a write waiting for another process's lock never freezes the window, and an
undo pressed right after a tag runs after it.  The write methods return once the write is
queued; its ``changed``/``tags_changed``/``status`` (or an error notification) come when it
has landed, so whatever the window re-reads then includes it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from PySide6.QtCore import QObject, Signal

from tagassist import app
from tagassist.app import Changes
from tagassist.app.import_job import import_job, summarize_import
from tagassist.app.sidebar_jobs import sidebar_job
from tagassist.library import LibraryError, QuerySyntaxError
from tagassist.library.names import clean
from tagassist.library.query import parse
from tagassist.paths import LibraryPaths, bundled_models_dir
from tagassist.ui.suggest_controller import SuggestController
from tagassist.ui.workers import JobHandle, JobRunner
from tagassist.ui.writer import Done, SerialWriter, Write

if TYPE_CHECKING:
    from tagassist.app.sidebar_jobs import SidebarData
    from tagassist.library import Library
    from tagassist.library.models import SavedSearch, User
    from tagassist.library.query import Node
    from tagassist.media.importer import ImportReport

_T = TypeVar("_T")

class LibraryController(QObject):
    tags_changed = Signal()          # assignments changed (sidebar counts, chips)
    changed = Signal(object)         # Changes of a write, undo or redo (what and which items)
    library_changed = Signal()       # items were added/changed (reload the grid)
    notify = Signal(str, str)        # level ('error'|'warning'|'info'), text
    status = Signal(str)             # transient status-bar text
    job_started = Signal(object)     # JobHandle
    user_changed = Signal(str)       # another person is tagging now
    sidebar_ready = Signal(object)   # SidebarData read in a worker (refresh_sidebar)
    saved_searches_changed = Signal()  # a search was saved or deleted
    writes_idle = Signal()           # every queued write has landed (and been announced)

    def __init__(self, library: Library, paths: LibraryPaths, user_name: str,
                 parent: QObject | None = None, models_dir: Path | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.paths = paths
        self.user = app.person(library, user_name)
        self.writer = SerialWriter(paths.database, self)  # every write, in order, off-thread
        self.writer.idle.connect(self.writes_idle)
        self._tagging: Counter[int] = Counter()  # items with a tag write still queued
        self.jobs = JobRunner(self)  # import, training
        self.jobs.job_started.connect(self.job_started)
        # The analysis runs onnxruntime and waits on its decode workers, both without the
        # GIL: on a lowered thread it yields the CPU to the UI thread.  Jobs that run Python
        # (the import, the training's fits) stay at normal priority: while the UI thread
        # waits for their GIL, a lowered holder would make it wait longer (bench_responsiveness,
        # docs/benchmarks.md).
        self.analysis_jobs = JobRunner(self, max_threads=1, background=True)
        self.analysis_jobs.job_started.connect(self.job_started)
        self._sidebar_jobs = JobRunner(self, max_threads=1)  # quick reads: not in the status bar
        self._sidebar_handle: JobHandle | None = None
        self._display_ids: list[int] | None = None
        self._display_rank: dict[int, int] = {}
        self.library_changed.connect(self._forget_order)  # before the window reloads the grid
        self.suggest = SuggestController(self, Path(models_dir or bundled_models_dir()))
        self.analyse_after_import = True  # featurize new items in the background (a setting)

    @property
    def user_id(self) -> int:
        return self.user.id

    def user_names(self) -> list[str]:
        return [u.name for u in self._safely(self.library.users.all, [])]

    def set_user(self, name: str) -> bool:
        """Tag as ``name`` from now on; False if that is who tags already.

        Someone already in the library is switched to at once (a read); a new name is added
        on the writer thread first, like every write, and the switch follows when it lands.
        """
        name = clean(name)
        if not name or name == self.user.name:
            return False
        people = self._safely(self.library.users.all, None)
        if people is None:
            return False
        known = next((u for u in people if u.name == name), None)
        if known is not None:
            self._switch_to(known)
        else:
            self._submit(f"Adding {name}", lambda library: library.users.get_or_create(name),
                         self._switch_to)
        return True

    def _switch_to(self, user: User) -> None:
        self.user = user
        self.user_changed.emit(user.name)
        self.status.emit(f"Tagging as {user.name}")
        self.tags_changed.emit()  # their tags, counts and suggestions

    # -- reads ---------------------------------------------------------------------------------
    def all_item_ids(self) -> list[int]:
        """Every item in the grid's order (capture time), cached until the items change."""
        if self._display_ids is None:
            ids = self._safely(lambda: self.library.items.ids(order="capture_time"), None)
            if ids is None:
                return []  # not cached: the next call tries again
            self._display_ids = ids
            self._display_rank = {item_id: n for n, item_id in enumerate(ids)}
        return self._display_ids

    def _forget_order(self) -> None:
        self._display_ids = None
        self._display_rank = {}

    def item_count(self) -> int:
        return self._safely(self.library.items.count, 0)

    def in_display_order(self, ids: list[int]) -> list[int]:
        """Search results come by id; show them in the grid's usual (capture time) order."""
        self.all_item_ids()
        rank = self._display_rank
        return sorted((i for i in ids if i in rank), key=rank.__getitem__)

    def tagged_set(self) -> set[int]:
        """Items that have at least one of your tags (or are being given one: a queued
        write, so N right after a tag skips the item as it will be)."""
        tagged = set(self._safely(lambda: self.library.queries.tagged(self.user_id), []))
        return tagged | set(self._tagging)

    def untagged_ids(self) -> list[int]:
        """Items without any of your tags, in the grid's order."""
        return self._safely(
            lambda: app.untagged(self.library, self.user_id, among=self.all_item_ids()), [])

    def search(self, expression: str) -> list[int]:
        """Raises ``LibraryError`` (e.g. ``QuerySyntaxError``) so the search bar can show it."""
        return app.search(self.library, self.user_id, expression)

    def tag_counts(self) -> list:
        # Hierarchical counts: "animals" counts its pets too, as a search for it would find.
        return self._safely(lambda: app.tag_counts(self.library, self.user_id), [])

    def refresh_sidebar(self, with_folders: bool = False) -> JobHandle:
        """Read the sidebar's counts in a worker; ``sidebar_ready(SidebarData)`` brings them.

        The newest request wins: an older one still queued is cancelled, a finished older
        result is dropped (it may predate the write that asked for the newer one).
        """
        if self._sidebar_handle is not None:
            self._sidebar_handle.cancel()
        db, uid = self.paths.database, self.user_id
        handle = self._sidebar_jobs.start(
            "Sidebar", lambda cancel: sidebar_job(db, uid, with_folders, cancel))
        handle.finished.connect(lambda data, h=handle: self._sidebar_done(h, data))
        handle.failed.connect(lambda message: self.notify.emit("error", message))
        self._sidebar_handle = handle
        return handle

    def _sidebar_done(self, handle: JobHandle, data: SidebarData | None) -> None:
        if handle is self._sidebar_handle:
            self._sidebar_handle = None
        if data is not None and data.user_id == self.user_id and not handle.cancelled:
            self.sidebar_ready.emit(data)

    def sidebar_pending(self) -> bool:
        return self._sidebar_handle is not None and self._sidebar_handle.running

    def tags_of(self, item_ids: list[int]) -> dict[str, tuple[str, int]]:
        """Union of the items' tags: ``path -> (name, how many of the items have it)``."""
        out: dict[str, tuple[str, int]] = {}
        for item_id in item_ids:
            for tag in self._safely(
                    lambda i=item_id: self.library.assignments.tags_of(i, self.user_id), []):
                name, n = out.get(tag.path, (tag.name, 0))
                out[tag.path] = (name, n + 1)
        return out

    # -- folders and saved searches (the sidebar's other sections) ----------------------------
    def folder_counts(self) -> list:
        return self._safely(self.library.items.folder_counts, [])

    def items_in_folder(self, folder: str) -> list[int]:
        return self._safely(lambda: self.library.items.in_folder(folder), [])

    def saved_searches(self) -> list:
        return self._safely(lambda: self.library.searches.all(self.user_id), [])

    def save_search(self, name: str, expression: str) -> bool:
        """False (and a notification saying why) for an empty name or a bad expression;
        True once the save is queued (``saved_searches_changed`` when it has landed)."""
        def save(library: Library | None = None) -> Node | SavedSearch:
            try:
                if library is None:  # here, at once: what is refused without the file
                    if not clean(name):
                        raise LibraryError("A saved search needs a name.")
                    return parse(expression.strip())
                return library.searches.save(uid, name, expression)
            except QuerySyntaxError as exc:  # its caret diagram needs a fixed-width font
                raise LibraryError(f"The search was not saved: {str(exc).splitlines()[0]}") from exc

        uid = self.user_id
        if self._safely(save, None) is None:
            return False

        def saved(search: SavedSearch) -> None:
            self.status.emit(f"Saved the search “{search.name}”")
            self.saved_searches_changed.emit()

        self._submit("Saving the search", save, saved)
        return True

    def delete_saved_search(self, name: str) -> bool:
        """True once the delete is queued; the status bar says when it is done."""
        uid = self.user_id

        def deleted(found: bool) -> None:
            if found:
                self.status.emit(f"Deleted the saved search “{name}”")
                self.saved_searches_changed.emit()

        self._submit("Deleting the search",
                     lambda library: library.searches.delete(uid, name), deleted)
        return True

    def add_tags(self, item_ids: list[int], names: list[str]) -> bool:
        """Queue the tags for the items (True); the write's Changes come when it lands."""
        names = [n.strip() for n in names if n.strip()]
        if not item_ids or not names:
            return False
        ids, uid = list(item_ids), self.user_id
        self._tagging.update(ids)
        self._submit("Tagging", lambda library: app.tag(library, uid, ids, names),
                     self._tags_written, settled=lambda: self._tagged(ids))
        return True

    def remove_tags(self, item_ids: list[int], names: list[str]) -> bool:
        if not item_ids or not names:
            return False
        ids, names, uid = list(item_ids), list(names), self.user_id
        self._submit("Removing tags", lambda library: app.untag(library, uid, ids, names),
                     self._tags_written)
        return True

    def _tags_written(self, changes: Changes) -> None:
        self._announce(changes)
        self.tags_changed.emit()

    def _tagged(self, ids: list[int]) -> None:
        """A tag write for ``ids`` has landed (or failed): they no longer count as queued."""
        self._tagging.subtract(ids)
        self._tagging = +self._tagging  # drop the items whose writes have all landed

    def review(self, item_ids: list[int], decisions: list[tuple[str, bool, int, float]],
               model_version: str,
               done: Callable[[bool], None] | None = None) -> bool:
        """Log accepted/rejected suggestions ``(tag, accepted, rank, score)`` for every item;
        accepted ones become assignments (source 'suggestion').  One transaction and one
        undo step for all the items (:func:`tagassist.app.review`).

        True once queued; ``done(ok)`` follows when it has landed (False: nothing was
        written, the transaction rolled back, and a notification says why).
        """
        ids, uid = list(item_ids), self.user_id
        decisions = list(decisions)
        accepted = any(ok for _tag, ok, *_rest in decisions)
        if accepted:
            self._tagging.update(ids)

        def reviewed(changes: Changes) -> None:
            self._announce(changes)
            if changes.changed and accepted:
                self.tags_changed.emit()
            if done is not None:
                done(True)

        self._submit("Saving your choices",
                     lambda library: app.review(library, uid, ids, decisions, model_version),
                     reviewed, settled=(lambda: self._tagged(ids)) if accepted else None,
                     refused=None if done is None else lambda: done(False))
        return True

    def undo(self) -> bool:
        """Undo the library's latest operation (one step, however many items it touched),
        after every write asked for before it; True once queued."""
        return self._history("Undo", app.undo)

    def redo(self) -> bool:
        return self._history("Redo", app.redo)

    def _history(self, title: str, step: Callable[[Library], Changes]) -> bool:
        def stepped(changes: Changes) -> None:
            self._announce(changes)
            if changes.changed:
                self.tags_changed.emit()
            # Decisions were taken back or made again: the list the refresh (just started
            # by tags_changed) brings is shown afresh, not held still.
            self.suggest.start_over()

        self._submit(title, step, stepped)
        return True

    # -- the writer --------------------------------------------------------------------------
    def _submit(self, title: str, write: Write, done: Done,
                settled: Callable[[], None] | None = None,
                refused: Callable[[], None] | None = None) -> None:
        """Queue ``write(library)`` on the writer (its own connection, in submission order).

        ``done(result)`` runs on this thread when it has landed; a ``LibraryError`` becomes
        an error notification (as every read's does) and ``refused()``.  ``settled()`` runs
        after either.
        """
        def landed(result: Any) -> None:
            try:
                done(result)
            finally:
                if settled is not None:
                    settled()

        def failed(message: str) -> None:
            try:
                self.notify.emit("error", message)
                if refused is not None:
                    refused()
            finally:
                if settled is not None:
                    settled()

        self.writer.submit(title, write, landed, failed)

    def writes_pending(self) -> bool:
        """Whether some write is queued or running (its result not announced yet)."""
        return self.writer.pending > 0

    def wait_for_writes(self, timeout_s: float = 10.0) -> bool:
        """Run the event loop until every queued write has landed and been announced.

        For tests and benches: the window itself never waits.  True if they all landed."""
        return self.writer.wait(int(timeout_s * 1000))

    def _announce(self, changes: Changes) -> None:
        """Say what a write did (naming the photos and tags) and hand the window its Changes."""
        self.status.emit(changes.description)
        if changes.changed:
            self.changed.emit(changes)

    # -- background jobs -----------------------------------------------------------------------
    def start_import(self, folder: Path) -> JobHandle:
        folder = Path(folder)
        db, thumbs, uid = self.paths.database, self.paths.thumbnails, self.user_id
        handle = self.jobs.start(f"Import of {folder.name or folder}",
                                 lambda cancel: import_job(db, folder, uid, thumbs, cancel))
        handle.finished.connect(self._import_finished)
        handle.failed.connect(lambda msg: self.notify.emit("error", msg))
        # Even a failed import may have stored some files before it stopped.
        handle.ended.connect(self.library_changed)
        return handle

    def _import_finished(self, report: ImportReport) -> None:
        status, problems = summarize_import(report)
        self.status.emit(status)
        if problems:
            self.notify.emit("warning", problems)
        self.tags_changed.emit()  # file keywords became tags
        # Not after a cancel: the person asked for the machine back.
        if self.analyse_after_import and not report.cancelled and (
                report.added or report.updated or report.moved):
            self.suggest.start_analysis()

    def shutdown(self) -> None:
        self.writer.shutdown()  # the writes asked for land first; no more announcements
        self._sidebar_jobs.shutdown()
        self.jobs.shutdown()
        self.analysis_jobs.shutdown()
        self.suggest.shutdown()  # after the jobs: training featurizes with its engine

    def _safely(self, fn: Callable[[], _T], default: _T) -> _T:
        """Run a library call; a ``LibraryError`` becomes a visible notification."""
        try:
            return fn()
        except LibraryError as exc:
            self.notify.emit("error", str(exc))
            return default
