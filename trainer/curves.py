"""DAE-PTR corruption level c and dimension K curves (the DAE-PTR paper's Figs. 2–4).

``python -m trainer.curves --data lastfm --core 10 --json out.json --report out.md``

Every point is trained on the validation-training part (training posts minus the validation
targets) with the epoch count chosen on the validation split; the test numbers are those of that
same model, so no choice is made on test targets.  The c curve runs at fixed K (Figs. 2, 3); the K
curve keeps, for each K, the c with the best validation Hit@3 (Fig. 4, as the paper does).
"""
from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from trainer import datasets
from trainer.data import p_core
from trainer.evaluate import measure
from trainer.models import TagModel, create
from trainer.protocols import split, validation_split
from trainer.report import line_plot

KEYS = ("hit@3", "ndcg@3", "hit@5", "ndcg@5")


def point(train_val: Any, val: Any, test: Any, tb: np.ndarray, k: int, c: float, epochs: int,
          seed: int) -> dict[str, Any]:
    best: dict[str, Any] = {"val": -1.0}

    def cb(ep: int, m: TagModel) -> bool | None:
        if ep % 10:
            return None
        v = measure(m, val, tb, (3, 5))[0]
        if v["hit@3"] > best["val"]:
            best.update(val=v["hit@3"], epoch=ep, val_metrics=v,
                        state=copy.deepcopy(m.net.state_dict()))
        return False if ep - best["epoch"] >= 20 else None

    t0 = time.perf_counter()
    m = create("dae_ptr", k=k, c=c, epochs=epochs).fit(train_val, seed=seed, callback=cb)
    m.net.load_state_dict(best["state"])
    t = measure(m, test, tb, (3, 5))[0]
    row = {"k": k, "c": c, "epoch": best["epoch"], "seconds": round(time.perf_counter() - t0, 1),
           **{f"val_{key}": best["val_metrics"][key] for key in KEYS},
           **{f"test_{key}": t[key] for key in KEYS}}
    print(json.dumps(row), file=sys.stderr)
    return row


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m trainer.curves", description=__doc__)
    p.add_argument("--data", default="lastfm")
    p.add_argument("--core", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cs", default="0,0.2,0.4,0.6,0.8,0.9")
    p.add_argument("--c-curve-ks", default="16,128", help="K values for the c curves")
    p.add_argument("--ks", default="32,64,128,256,512")
    p.add_argument("--k-curve-cs", default="0.2,0.5,0.8", help="c tried per K (best on val)")
    p.add_argument("--epochs", type=int, default=90)
    p.add_argument("--val-cases", type=int, default=3000)
    p.add_argument("--json", required=True)
    p.add_argument("--report")
    a = p.parse_args(argv)
    data = datasets.load(a.data)
    if a.core > 1:
        data = p_core(data, a.core)
    s = split(data, "last-tag", a.seed)
    val = validation_split(s.train, "last-tag", a.seed, a.val_cases)
    tb = np.random.default_rng(a.seed).permutation(data.n_tags)
    cs = [float(x) for x in a.cs.split(",")]
    out: dict[str, Any] = {"data": a.data, "core": a.core, "protocol": "last-tag",
                           "seed": a.seed, "c_curve": {}, "k_curve": []}
    for k in (int(x) for x in a.c_curve_ks.split(",")):
        out["c_curve"][str(k)] = [point(val.train, val, s, tb, k, c, a.epochs, a.seed)
                                  for c in cs]
    for k in (int(x) for x in a.ks.split(",")):
        cached = [r for r in out["c_curve"].get(str(k), [])
                  if r["c"] in [float(x) for x in a.k_curve_cs.split(",")]]
        rows = cached + [point(val.train, val, s, tb, k, float(c), a.epochs, a.seed)
                         for c in a.k_curve_cs.split(",")
                         if float(c) not in [r["c"] for r in cached]]
        out["k_curve"].append(max(rows, key=lambda r: r["val_hit@3"]))
    Path(a.json).write_text(json.dumps(out, indent=1) + "\n")
    if a.report:
        write(out, Path(a.report))
    return 0


def write(out: dict[str, Any], path: Path) -> None:
    stem = path.with_suffix("")
    md = [f"# DAE-PTR c and K curves · {out['data']} core {out['core']} · `last-tag`", "",
          "Trained without the validation targets; epochs (and, for the K curve, c) chosen on "
          "validation Hit@3; test = same model on the test targets.", ""]
    for k, rows in out["c_curve"].items():
        md += [f"## c curve, K = {k}", "", "| c | epochs | val Hit@3 | val NDCG@3 | test Hit@3 "
               "| test NDCG@3 | test NDCG@5 |", "|---|---|---|---|---|---|---|"]
        md += [f"| {r['c']} | {r['epoch']} | {r['val_hit@3']:.4f} | {r['val_ndcg@3']:.4f} | "
               f"{r['test_hit@3']:.4f} | {r['test_ndcg@3']:.4f} | {r['test_ndcg@5']:.4f} |"
               for r in rows]
        md.append("")
    md += ["## K curve (best c per K on validation)", "",
           "| K | c | epochs | val Hit@3 | test Hit@3 | test NDCG@3 | test NDCG@5 | s |",
           "|---|---|---|---|---|---|---|---|"]
    md += [f"| {r['k']} | {r['c']} | {r['epoch']} | {r['val_hit@3']:.4f} | "
           f"{r['test_hit@3']:.4f} | {r['test_ndcg@3']:.4f} | {r['test_ndcg@5']:.4f} | "
           f"{r['seconds']} |" for r in out["k_curve"]]
    series = {}
    for k, rows in out["c_curve"].items():
        series[f"K={k} Hit@3"] = [(r["c"], r["test_hit@3"]) for r in rows]
        series[f"K={k} NDCG@3"] = [(r["c"], r["test_ndcg@3"]) for r in rows]
    line_plot(series, Path(f"{stem}-c.png"), "DAE-PTR: corruption level c (test)", "c", "")
    line_plot({"Hit@3": [(np.log2(r["k"]), r["test_hit@3"]) for r in out["k_curve"]],
               "NDCG@3": [(np.log2(r["k"]), r["test_ndcg@3"]) for r in out["k_curve"]]},
              Path(f"{stem}-k.png"), "DAE-PTR: dimension K (x = log2 K, test)", "log2 K", "")
    md += ["", f"![c]({stem.name}-c.png) ![K]({stem.name}-k.png)", ""]
    path.write_text("\n".join(md))


if __name__ == "__main__":
    sys.exit(main())
