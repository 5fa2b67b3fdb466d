"""``python -m trainer.personal`` as the app starts it: a real child on a real library file,
reading it through the read-only connection (never writing, never migrating)."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from tagassist.library import Library
from tagassist.library.migrations import migrate
from tagassist.suggest import train_events as ev

ROOT = Path(__file__).resolve().parents[2]


def _job(db: Path, *args: str) -> tuple[int, list[ev.TrainEvent]]:
    proc = subprocess.run([sys.executable, "-m", "trainer.personal", "--library", str(db),
                           "--user", "ann", "--nice", "0", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    return proc.returncode, [ev.parse(line) for line in proc.stdout.splitlines()]


def test_an_older_library_is_refused_untouched(tmp_path: Path):
    db = tmp_path / "tagassist.db"
    conn = sqlite3.connect(db, isolation_level=None)
    migrate(conn, str(db), target=3)
    conn.execute("INSERT INTO users (name, created) VALUES ('ann', 't0')")
    conn.close()
    before = db.read_bytes()
    code, events = _job(tmp_path)
    assert code == 2
    [error] = events
    assert isinstance(error, ev.Error) and "OlderSchemaError" in error.message
    assert db.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == [db.name]


def test_a_current_library_is_read_and_left_as_it_was(tmp_path: Path):
    db = tmp_path / "tagassist.db"
    with Library.open(db) as lib:
        lib.users.add("ann")
    before = db.read_bytes()
    code, events = _job(db)
    assert code == 3  # nothing to learn from: a clear skip
    assert events == [ev.Skipped(message="no tagged item has image-lite0 features yet "
                                         "(run 'tagassist featurize' first)")]
    assert db.read_bytes() == before
