"""Two gloo processes on the CPU (torchrun) train DAE-PTR as one process does.

``trainer.distributed_train`` runs under ``torchrun --standalone --nproc_per_node 2`` on small
synthetic posts: the ranks end bit-identical, the model and its validation figures match one
process with the same seed (figures within the spread of one-process runs over the fit's seed,
on the same split), and a run stopped after its second epoch resumes from rank 0's checkpoint
and ends bit-identical to an uninterrupted one.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from tests.trainer.conftest import synthetic
from trainer.distributed_train import main
from trainer.models.dae_ptr import DAEPTR

EPOCHS = 4
FIGURES = ("p@1", "r@5", "f1@5", "mrr")


def _posts(folder: Path) -> Path:
    d = synthetic(n_users=60, n_items=30, n_tags=16, seed=1)
    path = folder / "posts.tsv"
    path.write_text("".join(f"{d.users[u]}\t{d.items[i]}\t{d.tags[t]}\t{int(s)}\n"
                            for u, i, t, s in zip(d.user, d.item, d.tag, d.time, strict=True)))
    return path


def _args(posts: Path, *extra: str | Path) -> list[str]:
    return ["--model", "dae_ptr", "--data", str(posts), "--protocol", "random-post",
            "--epochs", str(EPOCHS), "--config", '{"k": 16, "batch_size": 32}',
            *[str(x) for x in extra]]


def _two(posts: Path, *extra: str | Path) -> None:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node",
           "2", "-m", "trainer.distributed_train", *_args(posts, "--threads", "1", *extra)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("distributed")
    posts = _posts(tmp)
    threads = str(torch.get_num_threads())  # in this process: leave its thread count alone
    out: dict[str, Any] = {"tmp": tmp}
    for seed in (0, 1, 2):
        assert main(_args(posts, "--fit-seed", seed, "--threads", threads, "--json",
                          tmp / f"one-{seed}.json", "--out", tmp / f"one-{seed}")) == 0
    _two(posts, "--json", tmp / "two.json", "--out", tmp / "two")
    _two(posts, "--checkpoint", tmp / "ck", "--stop-after", 2)
    out["stopped"] = sorted(p.name for p in (tmp / "ck").iterdir())
    _two(posts, "--checkpoint", tmp / "ck", "--json", tmp / "resumed.json")
    for name in ["one-0", "one-1", "one-2", "two", "resumed"]:
        out[name] = json.loads((tmp / f"{name}.json").read_text())
    return out


def test_both_ranks_end_with_identical_parameters(runs: dict[str, Any]) -> None:
    two = runs["two"]
    assert two["processes"] == 2 and two["backend"] == "gloo"
    assert len(two["param_digests"]) == 2 and two["params_identical_across_ranks"]


def test_two_processes_match_one_within_seed_noise(runs: dict[str, Any]) -> None:
    ones = [runs[f"one-{s}"]["validation"] for s in (0, 1, 2)]
    two = runs["two"]["validation"]
    assert runs["one-0"]["processes"] == 1 and runs["one-0"]["backend"] == "none"
    spreads = {k: max(o[k] for o in ones) - min(o[k] for o in ones) for k in FIGURES}
    assert max(spreads.values()) > 0  # the seeds do move the figures
    for k in FIGURES:
        assert abs(two[k] - ones[0][k]) <= spreads[k] + 1e-9, (k, two[k], ones[0][k], spreads)
    # the same global batches and draws: the same model up to the order of the sums
    one = DAEPTR.load(runs["tmp"] / "one-0").state()
    dist = DAEPTR.load(runs["tmp"] / "two").state()
    assert one.keys() == dist.keys()
    for k in one:
        np.testing.assert_allclose(dist[k], one[k], rtol=0, atol=1e-5, err_msg=k)


def test_rank0_checkpoint_resumes_to_the_uninterrupted_result(runs: dict[str, Any]) -> None:
    assert runs["stopped"] == ["checkpoint.npz"]  # rank 0 wrote one file, no leftovers
    resumed, two = runs["resumed"], runs["two"]
    assert resumed["resumed_after_epoch"] == 2
    assert resumed["param_digests"] == two["param_digests"]
    assert resumed["validation"] == two["validation"]
