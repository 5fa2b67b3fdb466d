"""SIGKILL a writer 50 times at random moments; the DB must stay intact and complete."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tagassist.library import Library

REPO = Path(__file__).resolve().parents[2]
RUNS = 50


def logged(log: Path) -> set[tuple[str, str]]:
    if not log.exists():
        return set()
    entries = set()
    for line in log.read_text(encoding="utf-8").splitlines(keepends=True):
        if line.endswith("\n"):  # a kill mid-write may leave a partial last line
            content_hash, tag = line.rstrip("\n").split("\t")
            entries.add((content_hash, tag))
    return entries


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_during_writes_loses_nothing(tmp_path: Path) -> None:
    db, log = tmp_path / "crash.db", tmp_path / "committed.log"
    Library.open(db).close()  # create + migrate once, so children only write tags
    rng = random.Random(20240601)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    start = time.perf_counter()
    previous = 0
    for run in range(RUNS):
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.library._writer", str(db), str(log), str(run)],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert child.stdout.readline() == b"ready\n", child.stderr.read().decode()
        time.sleep(rng.uniform(0.05, 0.5))
        child.send_signal(signal.SIGKILL)
        _, err = child.communicate(timeout=10)
        stderr = err.decode(errors="replace")
        assert child.returncode == -signal.SIGKILL, stderr  # it was still writing

        expected = logged(log)
        assert len(expected) >= previous
        previous = len(expected)
        with Library.open(db) as lib:
            assert lib.integrity_check() == "ok"
            # One read of every assignment per run: checking item by item made this quadratic.
            stored = {(r["content_hash"], r["tag"]) for r in lib.queries.folksonomy_rows()}
            missing = expected - stored
            assert not missing, f"run {run}: committed but lost: {sorted(missing)[:5]}"
    # Most runs must have got past start-up and committed something.
    assert previous > RUNS * 4, f"only {previous} assignments committed in {RUNS} runs"
    print(f"{RUNS} kills, {previous} committed assignments verified in "
          f"{time.perf_counter() - start:.0f} s")
