"""Undo/redo at the storage layer, persisted in the DB."""

from __future__ import annotations

from pathlib import Path

from tagassist.library import Library
from tagassist.library.repository import UNDO_LIMIT

from .conftest import add_items


def tags_of(lib: Library, item: int) -> list[str]:
    return sorted(t.path for t in lib.item_tags(item))


def test_undo_redo_sequence(lib: Library) -> None:
    user = lib.add_user("ann")
    a, b = add_items(lib, 2)
    assert not lib.can_undo() and not lib.can_redo() and lib.undo() is None
    assert lib.assign(user.id, [a, b], ["beach", "sea"]) == 4
    assert lib.unassign(user.id, [a], ["sea"]) == 1
    assert tags_of(lib, a) == ["beach"]

    assert "Remove sea" in (lib.undo() or "")
    assert tags_of(lib, a) == ["beach", "sea"]
    assert lib.can_redo()
    assert "beach, sea" in (lib.undo() or "")
    assert tags_of(lib, a) == tags_of(lib, b) == []
    assert not lib.can_undo() and lib.undo() is None

    assert lib.redo() is not None
    assert tags_of(lib, a) == tags_of(lib, b) == ["beach", "sea"]
    assert lib.redo() is not None
    assert tags_of(lib, a) == ["beach"]
    assert not lib.can_redo() and lib.redo() is None


def test_undo_of_partly_present_assign_removes_only_new_rows(lib: Library) -> None:
    user = lib.add_user("ann")
    a, b = add_items(lib, 2)
    lib.assign(user.id, [a], ["beach"])
    original = lib.assignments(a)
    assert lib.assign(user.id, [a, b], ["beach", "sun"]) == 3  # (a, beach) already there
    assert lib.assign(user.id, [a], ["beach"]) == 0  # idempotent, not an undo step
    lib.undo()
    assert lib.assignments(a) == original  # the pre-existing row, untouched (same id/time)
    assert tags_of(lib, b) == []


def test_new_operation_clears_redo(lib: Library) -> None:
    user = lib.add_user("ann")
    (a,) = add_items(lib, 1)
    lib.assign(user.id, [a], ["beach"])
    lib.undo()
    assert lib.can_redo()
    lib.assign(user.id, [a], ["sun"])
    assert not lib.can_redo() and lib.redo() is None
    assert tags_of(lib, a) == ["sun"]


def test_undo_survives_reopen(lib_path: Path) -> None:
    with Library.open(lib_path) as lib:
        user = lib.add_user("ann")
        (a,) = add_items(lib, 1)
        lib.assign(user.id, [a], ["beach"])
        lib.assign(user.id, [a], ["sun"])
        lib.undo()
    with Library.open(lib_path) as lib:
        assert tags_of(lib, a) == ["beach"]
        assert lib.can_redo() and lib.can_undo()
        lib.redo()
        assert tags_of(lib, a) == ["beach", "sun"]
        lib.undo()
        lib.undo()
        assert tags_of(lib, a) == []


def test_record_decisions_is_one_undoable_op(lib: Library) -> None:
    user = lib.add_user("ann")
    (a,) = add_items(lib, 1)
    lib.assign(user.id, [a], ["sea"])
    made = lib.record_decisions(
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
    by_tag = {x.tag_name: x for x in lib.assignments(a)}
    assert by_tag["beach"].source == "suggestion" and by_tag["beach"].rank == 1
    assert by_tag["sea"].source == "manual"  # already present: kept as it was
    assert lib.decisions(user.id, since_id=made[0].id) == made[1:]

    lib.undo()
    assert tags_of(lib, a) == ["sea"] and lib.decisions(user.id) == []
    lib.redo()
    assert tags_of(lib, a) == ["beach", "sea"] and lib.decisions(user.id) == made


def test_op_log_is_bounded(lib: Library) -> None:
    user = lib.add_user("ann")
    (a,) = add_items(lib, 1)
    for i in range(UNDO_LIMIT + 5):
        lib.assign(user.id, [a], [f"t{i}"])
    undone = 0
    while lib.undo() is not None:
        undone += 1
    assert undone == UNDO_LIMIT
    assert tags_of(lib, a) == sorted(f"t{i}" for i in range(5))


def test_non_undoable_assign_keeps_undo_and_redo_stacks(lib: Library) -> None:
    user = lib.add_user("ann")
    a, b = add_items(lib, 2)
    lib.assign(user.id, [a], ["beach"])
    lib.undo()
    assert lib.assign(user.id, [b], ["from-file"], source="file", undoable=False) == 1
    assert lib.can_redo() and not lib.can_undo()
    lib.redo()
    assert tags_of(lib, a) == ["beach"] and tags_of(lib, b) == ["from-file"]
