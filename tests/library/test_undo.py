"""Undo/redo at the storage layer, persisted in the DB."""

from __future__ import annotations

from pathlib import Path

from tagassist.library import Library
from tagassist.library._history import UNDO_LIMIT

from .conftest import add_items


def tags_of(lib: Library, item: int) -> list[str]:
    return sorted(t.path for t in lib.assignments.tags_of(item))


def test_undo_redo_sequence(lib: Library) -> None:
    user = lib.users.add("ann")
    a, b = add_items(lib, 2)
    assert not lib.history.can_undo() and not lib.history.can_redo() and lib.history.undo() is None
    assert lib.assignments.assign(user.id, [a, b], ["beach", "sea"]) == 4
    assert lib.assignments.unassign(user.id, [a], ["sea"]) == 1
    assert tags_of(lib, a) == ["beach"]

    assert "Remove sea" in (lib.history.undo() or "")
    assert tags_of(lib, a) == ["beach", "sea"]
    assert lib.history.can_redo()
    assert "beach, sea" in (lib.history.undo() or "")
    assert tags_of(lib, a) == tags_of(lib, b) == []
    assert not lib.history.can_undo() and lib.history.undo() is None

    assert lib.history.redo() is not None
    assert tags_of(lib, a) == tags_of(lib, b) == ["beach", "sea"]
    assert lib.history.redo() is not None
    assert tags_of(lib, a) == ["beach"]
    assert not lib.history.can_redo() and lib.history.redo() is None


def test_undo_of_partly_present_assign_removes_only_new_rows(lib: Library) -> None:
    user = lib.users.add("ann")
    a, b = add_items(lib, 2)
    lib.assignments.assign(user.id, [a], ["beach"])
    original = lib.assignments.of_item(a)
    # (a, beach) is there already
    assert lib.assignments.assign(user.id, [a, b], ["beach", "sun"]) == 3
    assert lib.assignments.assign(user.id, [a], ["beach"]) == 0  # idempotent, not an undo step
    lib.history.undo()
    assert lib.assignments.of_item(a) == original  # the pre-existing row, untouched (same id/time)
    assert tags_of(lib, b) == []


def test_new_operation_clears_redo(lib: Library) -> None:
    user = lib.users.add("ann")
    (a,) = add_items(lib, 1)
    lib.assignments.assign(user.id, [a], ["beach"])
    lib.history.undo()
    assert lib.history.can_redo()
    lib.assignments.assign(user.id, [a], ["sun"])
    assert not lib.history.can_redo() and lib.history.redo() is None
    assert tags_of(lib, a) == ["sun"]


def test_undo_survives_reopen(lib_path: Path) -> None:
    with Library.open(lib_path) as lib:
        user = lib.users.add("ann")
        (a,) = add_items(lib, 1)
        lib.assignments.assign(user.id, [a], ["beach"])
        lib.assignments.assign(user.id, [a], ["sun"])
        lib.history.undo()
    with Library.open(lib_path) as lib:
        assert tags_of(lib, a) == ["beach"]
        assert lib.history.can_redo() and lib.history.can_undo()
        lib.history.redo()
        assert tags_of(lib, a) == ["beach", "sun"]
        lib.history.undo()
        lib.history.undo()
        assert tags_of(lib, a) == []


def test_record_decisions_is_one_undoable_op(lib: Library) -> None:
    user = lib.users.add("ann")
    (a,) = add_items(lib, 1)
    lib.assignments.assign(user.id, [a], ["sea"])
    made = lib.assignments.record_decisions(
        user.id,
        a,
        [
            ("beach", True, 1, 0.9, "m1"),
            ("sea", True, 2, 0.8, "m1"),
            ("night", False, 3, 0.1, "m1"),
        ],
    )
    assert [d.accepted for d in made] == [True, True, False]
    assert made[0].score == 0.9 and made[0].model_version == "m1"
    by_tag = {x.tag_name: x for x in lib.assignments.of_item(a)}
    assert by_tag["beach"].source == "suggestion" and by_tag["beach"].rank == 1
    assert by_tag["sea"].source == "manual"  # already present: kept as it was
    assert lib.assignments.decisions(user.id, since_id=made[0].id) == made[1:]

    lib.history.undo()
    assert tags_of(lib, a) == ["sea"] and lib.assignments.decisions(user.id) == []
    lib.history.redo()
    assert tags_of(lib, a) == ["beach", "sea"] and lib.assignments.decisions(user.id) == made


def test_op_log_is_bounded(lib: Library) -> None:
    user = lib.users.add("ann")
    (a,) = add_items(lib, 1)
    for i in range(UNDO_LIMIT + 5):
        lib.assignments.assign(user.id, [a], [f"t{i}"])
    undone = 0
    while lib.history.undo() is not None:
        undone += 1
    assert undone == UNDO_LIMIT
    assert tags_of(lib, a) == sorted(f"t{i}" for i in range(5))


def test_non_undoable_assign_keeps_undo_and_redo_stacks(lib: Library) -> None:
    user = lib.users.add("ann")
    a, b = add_items(lib, 2)
    lib.assignments.assign(user.id, [a], ["beach"])
    lib.history.undo()
    assert lib.assignments.assign(user.id, [b], ["from-file"], source="file", undoable=False) == 1
    assert lib.history.can_redo() and not lib.history.can_undo()
    lib.history.redo()
    assert tags_of(lib, a) == ["beach"] and tags_of(lib, b) == ["from-file"]
