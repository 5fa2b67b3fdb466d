"""Fit the default blend (``resources/blend-default.json``) on session replays of several sets.

``python -m trainer.fit_blend --dump NAME=FILE.npz ... [--held-out NAME,...] [--l2 1]
[--out resources/blend-default.json]``

Each ``FILE.npz`` is a ``trainer.session_replay --dump``: every candidate the app scored for
every photo of one set, with its features and whether the person kept it.  The logistic
ranker of :mod:`tagassist.suggest.ranker` is fitted on all of them except the held-out sets,
each set weighing the same in total (a set with more photos or candidates does not decide
alone), and the result is written with the sets it was fitted on and the held-out ones.
Leave-one-set-out acceptance@5 of the fitted ranker is printed per set, beside the fit on all.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from tagassist.suggest.ranker import DEFAULT_FILE, FEATURES, BlendWeights, fit, probabilities

K = 5


def load(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    data = np.load(path)
    names = [str(f) for f in data["features"]]
    if names != list(FEATURES):
        raise SystemExit(f"{path}: features {names} differ from the app's {list(FEATURES)}: "
                         "replay the set again with this version")
    return data["x"].astype(float), data["y"].astype(float), data["photo"]


def fit_sets(sets: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]], l2: float,
             prior: np.ndarray) -> np.ndarray:
    x = np.concatenate([s[0] for s in sets.values()])
    y = np.concatenate([s[1] for s in sets.values()])
    weight = np.concatenate([np.full(len(s[1]), 1.0 / len(s[1])) for s in sets.values()])
    weight *= len(y) / weight.sum()
    return fit(x, y, prior, l2, iters=50, weight=weight)


def acceptance(w: np.ndarray, x: np.ndarray, y: np.ndarray, photo: np.ndarray,
               after_accept: bool = False) -> float:
    """Mean acceptance@K of the weights' top K over the photos of one dump: their first lists,
    or (``after_accept``) the lists shown after the first accepts (negative photo numbers)."""
    p = probabilities(BlendWeights.from_vector(w, "eval"), x)
    out = []
    for n in np.unique(photo[photo < 0] if after_accept else photo[photo > 0]):
        rows = np.flatnonzero(photo == n)
        top = rows[np.argsort(-p[rows], kind="stable")[:K]]
        out.append(y[top].sum() / K)
    return float(np.mean(out)) if out else float("nan")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m trainer.fit_blend", description=__doc__)
    p.add_argument("--dump", action="append", required=True, metavar="NAME=FILE.npz")
    p.add_argument("--held-out", default="", help="set names left out of the fit")
    p.add_argument("--l2", type=float, default=1.0)
    p.add_argument("--out", type=Path, default=DEFAULT_FILE)
    args = p.parse_args(argv)
    sets = {}
    for spec in args.dump:
        name, _, file = spec.partition("=")
        sets[name] = load(Path(file))
    held = {h for h in args.held_out.split(",") if h}
    used = {n: s for n, s in sets.items() if n not in held}
    if not used:
        p.error("every set is held out: nothing to fit on")
    # A feature no replay exercises (no document set: ``document``) keeps the current
    # default's weight, which the file's meta explains; every other weight starts from 0.
    current = BlendWeights.load(DEFAULT_FILE)
    seen = np.concatenate([s[0] for s in used.values()]).any(axis=0)
    prior = np.where(seen, 0.0, current.vector())
    kept = {f: current.meta.get("not_fitted", {}).get(f, "no replay exercises it")
            for f, ok in zip(FEATURES, seen, strict=True) if not ok and f != "bias"}
    w = fit_sets(used, args.l2, prior)
    for name, s in sets.items():
        others = {n: t for n, t in used.items() if n != name}
        loo = acceptance(fit_sets(others, args.l2, prior), *s) if others else float("nan")
        tag = "held out" if name in held else "fitted on"
        loo2 = (acceptance(fit_sets(others, args.l2, prior), *s, after_accept=True) if others
                else float("nan"))
        print(f"{name:22s} {tag:9s} acceptance@{K}: fit on all {acceptance(w, *s):.3f}, "
              f"without this set {loo:.3f}; after accepting: fit on all "
              f"{acceptance(w, *s, after_accept=True):.3f}, without this set {loo2:.3f}")
    meta = {"fitted_on": sorted(used), "held_out": sorted(held), "l2": args.l2,
            "not_fitted": kept,
            "command": "python -m trainer.fit_blend " + " ".join(argv or sys.argv[1:])}
    BlendWeights.from_vector(w, "default: fitted on session replays", meta).save(args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
