"""The personal job starts its content child first and fits the set and the blend while it
trains (tagassist.suggest.training.personal_job); a cancel or an abandoned job leaves no
trainer running."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tagassist.suggest.featurize import Models
from tagassist.suggest.service import ColdStartSuggester
from tagassist.suggest.training import TRAINER_MODULE, personal_job, trainer_available
from tests.suggest.test_personal_blend import bursty_library
from tests.suggest.test_personal_ranker import drive

pytestmark = pytest.mark.skipif(not trainer_available(), reason="needs torch (the trainer)")


def trainers_of(database: Path) -> list[int]:
    """Pids of the running ``python -m trainer.personal --library <database>`` processes."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:  # not a process, or it ended meanwhile
            continue
        if TRAINER_MODULE.encode() in argv and str(database).encode() in argv:
            found.append(int(proc.name))
    return found


def test_the_content_child_trains_while_the_set_and_blend_are_fitted(models_dir, tmp_path):
    lib, user = bursty_library(tmp_path / "lib" / "tagassist.db")
    try:
        job = personal_job(ColdStartSuggester(lib, Models(models_dir)), user,
                           threading.Event())
        assert next(job) == {"event": "progress", "stage": "set"}
        assert trainers_of(lib.path), "the content child was not started before the set"
        result, events = drive(job)
        stages = [e.get("stage") for e in events]
        assert stages.index("blend") < len(stages) - 1  # the child's events follow the blend
        # these photos have no features: the child says so, in its own words
        assert result["event"] == "skipped" and "features" in result["message"]
        assert result["blend"]["event"] == "done" and not trainers_of(lib.path)
    finally:
        lib.close()


@pytest.mark.parametrize("how", ["cancel", "abandon"])
def test_a_cancelled_or_abandoned_job_leaves_no_trainer(models_dir, tmp_path, how):
    lib, user = bursty_library(tmp_path / "lib" / "tagassist.db")
    try:
        cancel = threading.Event()
        job = personal_job(ColdStartSuggester(lib, Models(models_dir)), user, cancel)
        assert next(job)["stage"] == "set" and trainers_of(lib.path)
        if how == "abandon":
            job.close()  # the window dropped the job (GeneratorExit inside the set stage)
        else:
            cancel.set()
            result, _ = drive(job)
            assert result["event"] == "cancelled", result
        assert not trainers_of(lib.path)
    finally:
        lib.close()
