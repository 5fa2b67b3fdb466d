"""Every write a person makes: one transaction and one undo step each, returning
:class:`~tagassist.app.changes.Changes` (what changed, and a line that says so).

Undo and redo step through the library's persistent op_log, one operation at a time: an
operation here is one op_log row however many items it touched, so another window or a
``tagassist`` command writing in between never splits it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from tagassist.library import Library
from tagassist.library.models import LoggedOp

from .changes import Changes, have, items_phrase, quoted, tags_phrase

# A reviewed suggestion: (tag path, accepted, rank in the list shown, score).
Decision = tuple[str, bool, int | None, float | None]


def tag(library: Library, user_id: int, item_ids: Iterable[int],
        tags: Iterable[str]) -> Changes:
    """Put ``tags`` (names, paths or aliases; new ones are made) on every item."""
    return _retag(library, user_id, item_ids, tags, (), "tag")


def untag(library: Library, user_id: int, item_ids: Iterable[int],
          tags: Iterable[str]) -> Changes:
    """Take the person's ``tags`` off every item."""
    return _retag(library, user_id, item_ids, (), tags, "untag")


def retag(library: Library, user_id: int, item_ids: Iterable[int], add: Iterable[str] = (),
          remove: Iterable[str] = ()) -> Changes:
    """Add some tags and remove others in one step (``tagassist tag --add A --remove B``)."""
    return _retag(library, user_id, item_ids, add, remove, "retag")


def review(library: Library, user_id: int, item_ids: Iterable[int],
           decisions: Iterable[Decision], model_version: str | None = None) -> Changes:
    """Record accepted/rejected suggestions for every item; accepted tags become the
    person's (source 'suggestion').  An item that already has an accepted tag gets no
    decision for it: it decided nothing.  One transaction and one undo step for all items.
    """
    ids = _unique(item_ids)
    decisions = [(str(t), bool(ok), rank, score) for t, ok, rank, score in decisions]
    if not ids or not decisions:
        return Changes("review", "Nothing to review")
    accepted = [t for t, ok, _r, _s in decisions if ok]
    rejected = [t for t, ok, _r, _s in decisions if not ok]
    with library.history.operation() as op:
        for item_id in ids:
            present = {t.path for t in library.assignments.tags_of(item_id, user_id)}
            rows = [(t, ok, rank, score, model_version) for t, ok, rank, score in decisions
                    if not (ok and t in present)]
            if rows:
                library.assignments.record_decisions(user_id, item_id, rows)
        done = op.touched()
        if done.decisions:
            what = []
            if accepted:
                what.append(f"accepted {tags_phrase(accepted)}")
            if rejected:
                what.append(f"rejected {tags_phrase(rejected)}")
            text = f"{' and '.join(what)} for {items_phrase(library, done.item_ids)}"
            op.description = text[:1].upper() + text[1:]
        else:
            op.description = (f"No change: {items_phrase(library, ids)} already "
                              f"{have(len(ids))} {tags_phrase(accepted)}")
    return _changes("review", op.description, done)


def rename(library: Library, tag: str, new: str) -> Changes:
    """Rename a tag in place (``new`` is a name, not a path): every person's items that
    carry it or a tag below it change.  Raises ``NotFoundError`` for an unknown tag and
    ``LibraryError`` when a sibling already has the name."""
    with library.history.operation() as op:
        before = library.tags.find(tag)
        after = library.tags.rename(tag, new)
        done = op.touched()
        if done.renamed:
            old = before.path if before is not None else tag
            op.description = f"Renamed {quoted(old)} to {quoted(after.path)}"
            if done.item_ids:
                op.description += f" on {items_phrase(library, done.item_ids)}"
        else:
            op.description = f"No change: the tag is already called {quoted(after.path)}"
    return _changes("rename", op.description, done)


def undo(library: Library) -> Changes:
    """Undo the library's most recent operation (whoever made it); 'Nothing to undo'."""
    op = library.history.undo_op()
    if op is None:
        return Changes("undo", "Nothing to undo")
    return Changes("undo", f"Undid: {_told(library, op)}", op.item_ids, added=op.removed,
                   removed=op.added, renamed=tuple((new, old) for old, new in op.renamed),
                   decisions=op.decisions)


def redo(library: Library) -> Changes:
    """Redo the most recently undone operation; 'Nothing to redo'."""
    op = library.history.redo_op()
    if op is None:
        return Changes("redo", "Nothing to redo")
    return Changes("redo", f"Redid: {_told(library, op)}", op.item_ids, added=op.added,
                   removed=op.removed, renamed=op.renamed, decisions=op.decisions)


# --- helpers ---------------------------------------------------------------------------------

def _unique(item_ids: Iterable[int]) -> list[int]:
    return list(dict.fromkeys(int(i) for i in item_ids))


def _names(tags: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(t.strip() for t in tags if t and t.strip()))


def _changes(action: str, description: str, done: LoggedOp) -> Changes:
    return Changes(action, description, done.item_ids, done.added, done.removed, done.renamed,
                   done.decisions)


def _told(library: Library, op: LoggedOp) -> str:
    """The op's description; one logged before operations named things gets the items."""
    if op.described or not op.item_ids:
        return op.description
    return f"{op.description} ({items_phrase(library, op.item_ids)})"


def _retag(library: Library, user_id: int, item_ids: Iterable[int], add: Iterable[str],
           remove: Iterable[str], action: str) -> Changes:
    ids, add, remove = _unique(item_ids), _names(add), _names(remove)
    if not ids or not (add or remove):
        return Changes(action, "Nothing to change: no items or no tags given")
    with library.history.operation() as op:
        if add:
            library.assignments.assign(user_id, ids, add)
        if remove:
            library.assignments.unassign(user_id, ids, remove)
        done = op.touched()
        op.description = _retag_text(library, ids, add, remove, done)
    return _changes(action, op.description, done)


def _retag_text(library: Library, ids: Sequence[int], add: Sequence[str],
                remove: Sequence[str], done: LoggedOp) -> str:
    if not done.item_ids:
        asked = items_phrase(library, ids)
        if not remove:
            return f"No change: {asked} already {have(len(ids))} {tags_phrase(add)}"
        if not add:
            return f"No change: {asked} {have(len(ids))} no {tags_phrase(remove)}"
        return f"No change to {asked}"
    items = items_phrase(library, done.item_ids)
    parts = []
    if done.added:
        parts.append(f"Tagged {items} with {tags_phrase(done.added)}")
    if done.removed:
        verb = "removed" if parts else "Removed"
        parts.append(f"{verb} {tags_phrase(done.removed)} from {items}")
    return "; ".join(parts)
