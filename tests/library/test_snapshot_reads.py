"""Reads that span tables see one snapshot: another connection's tag, created between two
SELECTs of one read, is in both or in neither (issue 23: "Suggestions failed: KeyError" while
tags were typed fast)."""

from __future__ import annotations

from tagassist.library import Library


def test_a_tag_created_between_two_selects_never_breaks_a_read(tmp_path):
    path = tmp_path / "lib" / "tagassist.db"
    lib = Library.open(path)
    other = Library.open(path)  # the window's worker, or a second process
    try:
        ann = lib.users.get_or_create("ann").id
        item, _ = lib.items.upsert("h1", "photo", "/p/1.jpg", 1, 1.0)
        lib.assignments.assign(ann, [item.id], ["beach"])
        fired = []

        def write_between(statement: str) -> None:
            # tag_history reads the tag paths, then the assignments: write in between
            if "FROM assignments" in statement and not fired:
                fired.append(statement)
                other.assignments.assign(ann, [item.id], ["typed fast"])

        lib._conn.set_trace_callback(write_between)
        history = lib.queries.tag_history(ann)  # KeyError here when the reads saw two snapshots
        lib._conn.set_trace_callback(None)
        assert fired, "the second connection did not write during the read"
        assert [h.tag for h in history] == ["beach"]  # the snapshot before the write
        assert {h.tag for h in lib.queries.tag_history(ann)} == {"beach", "typed fast"}  # next read
    finally:
        other.close()
        lib.close()


def test_reads_of_several_managers_in_one_snapshot_block_agree(tmp_path):
    path = tmp_path / "lib" / "tagassist.db"
    lib = Library.open(path)
    other = Library.open(path)
    try:
        ann = lib.users.get_or_create("ann").id
        item, _ = lib.items.upsert("h1", "photo", "/p/1.jpg", 1, 1.0)
        lib.assignments.assign(ann, [item.id], ["beach"])
        with lib.snapshot():
            tags = {t.path for t in lib.tags.all()}
            other.assignments.assign(ann, [item.id], ["written meanwhile"])
            log = lib.history.assignment_log()
        assert tags == {"beach"} and len(log) == 1  # neither read saw the other's write
        assert {t.path for t in lib.tags.all()} == {"beach", "written meanwhile"}
    finally:
        other.close()
        lib.close()
