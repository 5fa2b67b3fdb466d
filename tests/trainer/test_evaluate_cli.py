"""End to end: a generic posts TSV made here through ``python -m trainer.evaluate``."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]


def _write_tsv(path: Path) -> None:
    rng = np.random.default_rng(0)
    lines = ["user\titem\ttag\ttimestamp"]
    for u in range(15):
        for i in rng.choice(20, size=6, replace=False):
            for t in {(u % 3) * 2 + int(x) for x in rng.integers(0, 4, size=2)}:
                day = 1 + int(rng.integers(0, 28))
                lines.append(f"user{u}\titem{i}\ttag{t}\t2021-03-{day:02d}")
    path.write_text("\n".join(lines) + "\n")


def _run(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "trainer.evaluate", *args], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=120)


def test_generic_tsv_end_to_end(tmp_path: Path):
    posts = tmp_path / "posts.tsv"
    _write_tsv(posts)
    out, rep = tmp_path / "r.json", tmp_path / "rep" / "r.md"
    args = ["--data", str(posts), "--protocol", "last-tag", "--models", "mp,mp_ui,pitf",
            "--config", '{"pitf": {"k": 4, "epochs": 10}}', "--candidates", "5",
            "--json", str(out), "--report", str(rep), "--no-progress"]
    p = _run(*args)
    assert p.returncode == 0, p.stderr
    r = json.loads(out.read_text())
    assert {"data", "protocol", "core", "seed", "stats", "results"} <= set(r)
    assert set(r["stats"]) >= {"users", "items", "tags", "assignments", "posts", "test_posts"}
    for name in ("mp", "mp_ui", "pitf"):
        m = r["results"][name]
        for key in ("hit@1", "hit@3", "hit@5", "hit@10", "ndcg@10", "p@5", "r@5", "f1@5",
                    "map@10", "mrr", "train_s", "predict_ms_per_post"):
            assert key in m, key
        assert name in r["results_sampled"]
    assert rep.exists() and (tmp_path / "rep" / "r-recall.png").exists()
    again = tmp_path / "again.json"
    assert _run(*args[:-5], "--json", str(again), "--no-progress").returncode == 0
    a, b = json.loads(again.read_text()), r
    for name in b["results"]:
        assert a["results"][name]["hit@3"] == b["results"][name]["hit@3"]  # seeded


def test_unknown_model_is_a_clear_error(tmp_path: Path):
    posts = tmp_path / "posts.tsv"
    _write_tsv(posts)
    p = _run("--data", str(posts), "--protocol", "last-post", "--models", "mp,wsabi")
    assert p.returncode == 2
    assert "wsabi" in p.stderr and "dae_ptr" in p.stderr and "Traceback" not in p.stderr


def test_a_document_ranker_without_item_text_is_a_clear_error(tmp_path: Path):
    posts = tmp_path / "posts.tsv"
    _write_tsv(posts)  # no --item-text: the documents have no words
    p = _run("--data", str(posts), "--protocol", "last-post", "--models", "wsabie")
    assert p.returncode == 2
    assert "no words" in p.stderr and "Traceback" not in p.stderr


def test_a_model_that_needs_content_features_is_a_clear_error(tmp_path: Path):
    posts = tmp_path / "posts.tsv"
    _write_tsv(posts)
    p = _run("--data", str(posts), "--protocol", "last-post", "--models", "cnn_permlp")
    assert p.returncode == 2
    assert "needs item features" in p.stderr and "Traceback" not in p.stderr
