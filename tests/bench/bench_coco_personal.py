"""Benchmark: what training on half of a library buys on the other half (real COCO photos).

The whole loop a user runs, with the app's own parts: import ``coco-val2017-283`` into a real
library, featurize (Lite0 ONNX), then for each of ``--splits`` seeded random halves of the
204 tagged photos: ``tag`` the half with its COCO categories + supercategories (one user),
``train`` (``trainer.personal`` in a child process: DAE-PTR-with-content vs CNN-PerMLP, ONNX
export, activation), and on every tagged photo of the other half compare P@5 / R@5 of

- ``blended``: ``ColdStartSuggester.suggest`` — what ``tagassist suggest`` returns now;
- ``before_training``: the same call before ``train`` (content + context + history only);
- ``personal``: the personal content ranker alone;
- ``mp``: the user's 5 most frequent tags (MP-u) of the tagged half;

and the calibration of the scores shown: the personal ranker's probabilities (expected
calibration error over 10 bins, all tags of the test photos) and the blended scores of the
shown top 10 before and after training (label: the tag is in the photo's truth).  Mean ± std
over the splits.  ``--fit-calibration`` also fits blend.CALIBRATION's Platt constants on these
splits' raw blended scores (run it on the tuning splits, seeds 100+, never the reported ones).

    python -m tests.bench.bench_coco_personal [--splits 5] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np

from tagassist.library import Library
from tagassist.media.importer import import_folder
from tagassist.suggest.blend import CALIBRATION, PERSONAL, Platt
from tagassist.suggest.featurize import Models, featurize_library
from tagassist.suggest.model_store import PERSONAL_CONTENT, active_version
from tagassist.suggest.personal import PersonalRanker
from tagassist.suggest.service import ColdStartSuggester
from tagassist.suggest.training import train_user
from tests.bench.bench_coco_cold_start import SET, load, p_r
from trainer.datasets import data_dir

ROOT = Path(__file__).resolve().parents[2]
K = 5
SHOWN = 10  # the window's list: what the calibration is measured (and fitted) on


def drive(job):
    try:
        while True:
            next(job)
    except StopIteration as stop:
        return stop.value


def prepare(folder: Path, work: Path) -> tuple[Path, dict[str, set[str]]]:
    """A featurized library of the COCO photos (no tags); {path: truth} of the tagged ones."""
    photos, _ = load(folder)
    lib_dir = work / "base"
    with Library.open(lib_dir / "tagassist.db") as lib:
        user = lib.get_or_create_user("bench")
        drive(import_folder(lib, folder / "images", user_id=user.id,
                            thumbnails_dir=work / "thumbs"))
        report = drive(featurize_library(lib, Models(ROOT / "models"), threading.Event()))
        assert not report.failed, report.failed
    return lib_dir / "tagassist.db", {str(p.resolve()): t for p, t in photos}


def copy_library(src: Path, dst_dir: Path) -> Path:
    dst_dir.mkdir(parents=True)
    dst = dst_dir / "tagassist.db"
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)
    return dst


def ece(probs: np.ndarray, labels: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error: Σ_b |b|/n · |mean p − mean y| over equal-width bins."""
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(probs, edges) - 1, 0, bins - 1)
    total = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            total += m.mean() * abs(probs[m].mean() - labels[m].mean())
    return float(total)


def fit_platt(raw: np.ndarray, labels: np.ndarray, steps: int = 50) -> Platt:
    """Logistic regression of labels on ln raw (Newton's method, a tiny ridge for stability)."""
    x = np.stack([np.log(np.maximum(raw, 1e-12)), np.ones_like(raw)], axis=1)
    theta = np.zeros(2)
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-x @ theta))
        grad = x.T @ (p - labels) + 1e-6 * theta
        hess = (x * (p * (1 - p))[:, None]).T @ x + 1e-6 * np.eye(2)
        theta -= np.linalg.solve(hess, grad)
    return Platt(round(float(theta[0]), 4), round(float(theta[1]), 4))


def shown_scores(suggester: ColdStartSuggester, items: list, truths: list[set[str]], user: int,
                 raw: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(score, in truth) of every shown suggestion; ``raw``: the blend before calibration."""
    saved = suggester.calibration
    if raw:
        suggester.calibration = {k: (lambda r: r) for k in saved}
    try:
        pairs = [(s.score, s.tag in t) for it, t in zip(items, truths, strict=True)
                 for s in suggester.suggest(it, user, top=SHOWN)]
    finally:
        suggester.calibration = saved
    return np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs], dtype=float)


def one_split(base_db: Path, truth: dict[str, set[str]], seed: int, work: Path,
              weights: tuple[float, ...] = (PERSONAL,)) -> dict:
    db = copy_library(base_db, work / f"split{seed}")
    paths = sorted(truth)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(paths))
    train_paths = [paths[i] for i in order[: len(paths) // 2]]
    test_paths = [paths[i] for i in order[len(paths) // 2:]]
    out: dict = {"seed": seed, "train_photos": len(train_paths), "test_photos": len(test_paths)}
    with Library.open(db) as lib:
        user = lib.get_or_create_user("bench").id
        for p in train_paths:  # tagged one by one, in a random order, as a person would
            lib.assign(user, [lib.item_by_path(p).id], sorted(truth[p]))
        test_items = [lib.item_by_path(p) for p in test_paths]
        truths = [truth[p] for p in test_paths]
        suggester = ColdStartSuggester(lib, Models(ROOT / "models"))
        ranked = [[s.tag for s in suggester.suggest(it, user, top=K)] for it in test_items]
        out["before_training"] = p_r(ranked, truths)
        out["before_training_ece"] = round(ece(*shown_scores(suggester, test_items, truths,
                                                              user)), 4)
        out["raw_base"] = [a.tolist() for a in shown_scores(suggester, test_items, truths,
                                                             user, raw=True)]
        counts = Counter(t for p in train_paths for t in truth[p])
        mp = [t for t, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:K]]
        out["mp"] = p_r([mp] * len(test_items), truths)
        t0 = time.perf_counter()
        result = drive(train_user(lib, user))
        out["train_s"] = round(time.perf_counter() - t0, 1)
        assert result["event"] == "done", result
        out["model"] = result["model"]
        out["validation"] = result["metrics"]
        assert active_version(lib, PERSONAL_CONTENT, user).version == result["version"]
        for w in weights:  # the personal ranker's blend weight (see --weights)
            suggester.personal_weight = w
            ranked = [[s.tag for s in suggester.suggest(it, user, top=K)] for it in test_items]
            out[f"blended_w{w:g}"] = p_r(ranked, truths)
        out["blended"] = out[f"blended_w{weights[0]:g}"]
        suggester.personal_weight = weights[0]
        out["blended_ece"] = round(ece(*shown_scores(suggester, test_items, truths, user)), 4)
        out["raw_personal"] = [a.tolist() for a in shown_scores(suggester, test_items, truths,
                                                                 user, raw=True)]
        ranker = PersonalRanker.for_user(lib, user)
        feats = lib.features([it.id for it in test_items], ranker.featurizer,
                             ranker.feature_version)
        vectors = np.stack([feats[it.id].vector for it in test_items])
        probs = ranker.probabilities(vectors, user)
        personal = [[ranker.tags[i] for i in np.argsort(-row, kind="stable")[:K]]
                    for row in probs]
        out["personal"] = p_r(personal, truths)
        labels = np.array([[t in tr for t in ranker.tags] for tr in truths], dtype=float)
        out["personal_ece"] = round(ece(probs.ravel(), labels.ravel()), 4)
        out["personal_mean_p_top5"] = round(float(np.mean(np.sort(probs, 1)[:, -K:])), 4)
    return out


def summarize(splits: list[dict]) -> dict:
    summary: dict = {}
    sweep = sorted(k for k in splits[0] if k.startswith("blended_w"))
    for key in ("before_training", "mp", "personal", "blended", *sweep):
        summary[key] = {}
        for metric in ("p@5", "r@5"):
            values = [s[key][metric] for s in splits]
            summary[key][metric] = {"mean": round(statistics.mean(values), 4),
                                    "std": round(statistics.stdev(values), 4)
                                    if len(values) > 1 else 0.0}
    for key in ("personal_ece", "before_training_ece", "blended_ece"):
        summary[f"{key}_mean"] = round(statistics.mean(s[key] for s in splits), 4)
    summary["models_chosen"] = dict(Counter(s["model"] for s in splits))
    summary["train_s_median"] = statistics.median(s["train_s"] for s in splits)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=0,
                        help="split seeds first..first+splits-1 (100+ = the tuning splits)")
    parser.add_argument("--weights", default=None,
                        help="comma-separated personal blend weights to compare (first = "
                             "'blended'); default: the app's blend.PERSONAL")
    parser.add_argument("--fit-calibration", action="store_true",
                        help="fit blend.CALIBRATION on these splits (use the tuning splits)")
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    folder = (args.data or data_dir()) / SET
    if not (folder / "labels.csv").is_file():
        print(json.dumps({"skipped": f"{folder} not found"}))
        return 0
    work = Path(tempfile.mkdtemp(prefix="coco-personal-"))
    try:
        t0 = time.perf_counter()
        base, truth = prepare(folder, work)
        prepare_s = time.perf_counter() - t0
        weights = tuple(float(w) for w in args.weights.split(",")) if args.weights \
            else (PERSONAL,)
        splits = [one_split(base, truth, seed, work, weights)
                  for seed in range(args.first_seed, args.first_seed + args.splits)]
        out = {"data": SET, "tagged_photos": len(truth), "k": K,
               "prepare_s": round(prepare_s, 1), "summary": summarize(splits),
               "calibration_used": {k: vars(v) for k, v in CALIBRATION.items()}}
        if args.fit_calibration:
            out["calibration_fitted"] = {
                regime: vars(fit_platt(*(np.concatenate([np.array(s[f"raw_{regime}"][i])
                                                         for s in splits]) for i in (0, 1))))
                for regime in ("base", "personal")}
        for s in splits:  # the raw pairs are only for fitting
            s.pop("raw_base"), s.pop("raw_personal")
        out["splits"] = splits
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = json.dumps(out, indent=1)
    if args.json:
        args.json.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
