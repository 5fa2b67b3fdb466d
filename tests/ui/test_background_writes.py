"""The window's writes run off the UI thread (issue 19), one at a time in the order asked for.

While another process holds the library's write lock, a tag write returns at once and lands
after the lock is released; a multi-selection review stays one transaction and one undo step
with a second process writing before and after it; keys pressed faster than the writes land
(type a tag, Ctrl+Z, type another) apply in order.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from PySide6.QtCore import Qt, QTimer

from tests.app.test_operations import op_log_rows, other_process, state
from tests.ui.conftest import rows_of, select_photos, settle_sidebar

# Another process: takes the write lock (BEGIN IMMEDIATE), says "locked", holds it until a
# line on stdin or ``hold`` seconds, then writes a saved search for bob (not undoable) in that
# same transaction and commits.  Plain sqlite3: it does not depend on the Library's API.
HOLDER = """
import select, sqlite3, sys
db, hold = sys.argv[1], float(sys.argv[2])
con = sqlite3.connect(db, isolation_level=None, timeout=30)
con.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
select.select([sys.stdin], [], [], hold)
con.execute(
    "INSERT INTO saved_searches (user_id, name, expression, created) "
    "SELECT id, 'from the other process', 'beach', '2024-01-01T00:00:00' FROM users "
    "WHERE name = 'bob'")
con.execute("COMMIT")
print("released", flush=True)
"""


class Holder:
    """A second process holding the library's write lock (see ``HOLDER``)."""

    def __init__(self, database: Path, hold_s: float) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(database), str(hold_s)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        assert line.strip() == "locked", self.proc.stderr.read()

    def release(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("go\n")
                self.proc.stdin.flush()
            except BrokenPipeError:
                pass

    def wait(self, qtbot) -> None:
        """Until it has committed (and so released the lock), the event loop running."""
        qtbot.waitUntil(lambda: self.proc.poll() is not None, timeout=60_000)
        out, err = self.proc.communicate()
        assert self.proc.returncode == 0, err
        assert "released" in out


def tags_in_file(database: Path, item_id: int, user: str) -> set[str]:
    """The user's tag names on the item, read by a connection of its own."""
    import sqlite3

    with sqlite3.connect(database) as con:
        rows = con.execute(
            "SELECT t.name FROM assignments a JOIN tags t ON t.id = a.tag_id "
            "JOIN users u ON u.id = a.user_id WHERE a.item_id = ? AND u.name = ?",
            (item_id, user)).fetchall()
    return {name for (name,) in rows}


def other_saved_search(database: Path) -> bool:
    import sqlite3

    with sqlite3.connect(database) as con:
        return con.execute("SELECT count(*) FROM saved_searches "
                           "WHERE name = 'from the other process'").fetchone()[0] == 1


def test_a_tag_write_returns_at_once_while_another_process_holds_the_write_lock(
        qtbot, ann_window, paths, people):
    window, c = ann_window, ann_window.controller
    item = people.ids["IMG_6.jpg"]
    window.grid.select_rows(rows_of(window, "IMG_6.jpg"))
    beats: list[float] = []
    heart = QTimer()
    heart.setInterval(10)
    heart.timeout.connect(lambda: beats.append(time.perf_counter()))

    holder = Holder(paths.database, hold_s=1.0)  # lets go by itself after 1 s
    locked_at = time.perf_counter()
    heart.start()
    t0 = time.perf_counter()
    assert c.add_tags([item], ["favourite"])
    assert time.perf_counter() - t0 < 0.050  # queued: the UI thread did not wait
    qtbot.wait(300)  # the event loop runs meanwhile; the write waits for the lock
    assert c.writes_pending()
    assert "favourite" not in tags_in_file(paths.database, item, "ann")
    assert "favourite" not in window.detail.chip_paths()

    holder.wait(qtbot)
    released_at = time.perf_counter()
    assert released_at - locked_at >= 0.9
    assert c.wait_for_writes(timeout_s=10)
    heart.stop()
    assert "favourite" in tags_in_file(paths.database, item, "ann")  # landed after the lock
    assert other_saved_search(paths.database)  # the other process's write landed too
    assert window.statusBar().currentMessage() == 'Tagged "IMG_6.jpg" with "favourite"'
    assert "favourite" in window.detail.chip_paths()  # the panel re-read after it landed
    # The UI thread kept beating through the locked second (it would have stalled 1 s).
    gaps = [b - a for a, b in zip(beats, beats[1:], strict=False)]
    assert beats and beats[0] - t0 < 0.5 and max(gaps) < 0.5


def test_a_review_waits_for_another_writer_and_is_one_transaction_and_one_undo_step(
        qtbot, ann_window, paths, people):
    window, c = ann_window, ann_window.controller
    changes = []
    c.changed.connect(changes.append)
    ids = select_photos(window, "IMG_4.jpg", "IMG_5.jpg", "IMG_6.jpg")
    assert c.delete_saved_search("none such")  # a write that changes nothing: the writer's
    assert c.wait_for_writes()  # connection is open, so its statements can be watched
    statements: list[str] = []
    c.writer._library._conn.set_trace_callback(statements.append)
    before, logged = state(paths.database, ids), op_log_rows(paths.database)

    # The other process holds the lock while the person reviews the three photos.
    holder = Holder(paths.database, hold_s=30)
    t0 = time.perf_counter()
    assert c.review(ids, [("beach", True, 1, 0.9), ("night", False, 2, 0.1)], "m1")
    assert time.perf_counter() - t0 < 0.050
    qtbot.wait(200)
    assert c.writes_pending() and state(paths.database, ids) == before
    holder.release()
    holder.wait(qtbot)
    assert c.wait_for_writes(timeout_s=10)
    assert other_saved_search(paths.database)
    said = 'Accepted "beach" and rejected "night" for 3 photos'
    assert window.statusBar().currentMessage() == said
    assert op_log_rows(paths.database) == logged + 1  # one undo step for the three photos
    assert [s for s in statements if s.startswith("BEGIN")] == ["BEGIN IMMEDIATE"]
    assert [s for s in statements if s == "COMMIT"] == ["COMMIT"]
    [reviewed] = changes
    assert (reviewed.action, set(reviewed.item_ids), reviewed.added) == (
        "review", set(ids), ("beach",))
    assert "beach" in window.detail.chip_paths()

    # Bob, in another process, imports a photo (not undoable) after the review, too.
    other_process(paths.database, (
        "item, _ = lib.items.upsert('hash-new', 'photo', '/elsewhere/new.jpg', 1, 1.0)\n"))
    window.grid.select_rows(rows_of(window, "IMG_1.jpg"))  # the person moved on

    statements.clear()
    window.undo_action.trigger()  # one undo for the three photos
    assert c.wait_for_writes()
    assert state(paths.database, ids) == before
    assert [s for s in statements if s.startswith("BEGIN")] == ["BEGIN IMMEDIATE"]
    assert window.statusBar().currentMessage() == f"Undid: {said}"
    undone = changes[-1]
    assert undone.action == "undo" and set(undone.item_ids) == set(ids)
    assert undone.removed == ("beach",)
    assert window.grid.selected_ids() == [people.ids["IMG_1.jpg"]]  # the selection stays
    c.writer._library._conn.set_trace_callback(None)


def test_keys_faster_than_the_writes_apply_in_order(qtbot, ann_window, paths, people):
    """Type a tag, Ctrl+Z, type another, all while the writes wait for another process's
    lock: once they land, the undo took back the first tag and only the second is there."""
    window, c = ann_window, ann_window.controller
    item = people.ids["IMG_6.jpg"]
    window.grid.setFocus()
    window.grid.select_rows(rows_of(window, "IMG_6.jpg"))
    edit = window.detail.tag_edit

    holder = Holder(paths.database, hold_s=30)
    qtbot.keyClick(window.grid, Qt.Key.Key_T)
    qtbot.keyClicks(edit, "first")
    qtbot.keyClick(edit, Qt.Key.Key_Return)  # the keys go back to the grid
    assert item in c.tagged_set()  # queued: N skips it as it will be
    qtbot.keyClick(window.grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(window.grid, Qt.Key.Key_T)
    qtbot.keyClicks(edit, "second")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert c.writer.pending == 3  # nothing landed: the lock is still held
    assert tags_in_file(paths.database, item, "ann") == set()
    holder.release()
    holder.wait(qtbot)
    assert c.wait_for_writes(timeout_s=10)

    assert tags_in_file(paths.database, item, "ann") == {"second"}
    assert window.statusBar().currentMessage() == 'Tagged "IMG_6.jpg" with "second"'
    assert window.detail.chip_paths() == ["second"]
    settle_sidebar(qtbot, window)
    assert window.sidebar.entry("second") is not None
    assert window.sidebar.entry("first") is None


def test_a_refused_write_is_an_error_notification(qtbot, ann_window, paths, people):
    """A write the library refuses (here: locked past the busy timeout) says so, as before."""
    window, c = ann_window, ann_window.controller
    c.writer.busy_timeout = 0.2  # the writer's connection gives up quickly
    holder = Holder(paths.database, hold_s=30)
    try:
        assert c.add_tags([people.ids["IMG_6.jpg"]], ["favourite"])
        assert c.wait_for_writes(timeout_s=10)
    finally:
        holder.release()
        holder.wait(qtbot)
    (message,) = window.notifications.messages()
    assert "locked" in message.lower() or "busy" in message.lower()
    assert "favourite" not in tags_in_file(paths.database, people.ids["IMG_6.jpg"], "ann")
    assert c.tagged_set() == {people.ids[n] for n in ("IMG_1.jpg", "IMG_2.jpg", "IMG_3.jpg")}
