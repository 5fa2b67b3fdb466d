"""``python -m trainer.repeat --seeds 0,1,2,3,4 --json F [--report F.md] -- EVALUATE ARGS``

``python -m trainer.repeat --merge A.json B.json --json F [--report F.md]`` joins runs of the
same command made in parallel over different seeds.

Runs ``trainer.evaluate`` once per seed (a new split, new initialisation each time — the CSRW
paper's "repeated five times with different randomly selected training sets") and summarises
every metric as mean ± std over the seeds.  The JSON is rewritten after each seed, so a long run
that is stopped keeps what it finished.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from trainer import evaluate
from trainer.metrics import mean_std
from trainer.report import line_plot

RECALL_KS = (50, 100, 150, 200, 250, 300)


def summarise(runs: list[dict[str, Any]]) -> dict[str, dict[str, list[float]]]:
    """model -> metric -> [mean, std] over the runs that have that model."""
    out: dict[str, dict[str, list[float]]] = {}
    models = dict.fromkeys(m for r in runs for m in r["results"])
    for m in models:
        rows = [r["results"][m] for r in runs if m in r["results"]]
        keys = [k for k, v in rows[0].items() if isinstance(v, (int, float))
                and not isinstance(v, bool)]
        out[m] = {k: list(mean_std([row[k] for row in rows])) for k in keys}
        out[m]["seeds"] = [len(rows), 0.0]
    return out


def write_report(out: dict[str, Any], path: Path) -> None:
    summary = out["summary"]
    cols = [f"r@{k}" for k in RECALL_KS] + ["map", "train_s"]
    lines = [f"# {out['data']} — {out['protocol']}"
             + (f", P = {out['per_tag_p']}" if out["protocol"] == "per-tag" else ""),
             "", f"Seeds {out['seeds']}; mean ± std over seeds. Command:", "",
             f"    {out['command']}", "",
             "| model | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for m, s in summary.items():
        cells = [f"{s[c][0]:.4f} ± {s[c][1]:.4f}" if c in s else "–" for c in cols]
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    series = {m: [(k, s[f"r@{k}"][0]) for k in RECALL_KS if f"r@{k}" in s]
              for m, s in summary.items()}
    png = path.with_name(path.stem + "-recall.png")
    line_plot(series, png, f"{out['data']} {out['protocol']} P={out.get('per_tag_p')}: "
              "recall@K (mean over seeds)", "K", "recall@K")
    lines += ["", f"![recall@K]({png.name})", ""]
    path.write_text("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    rest = argv[argv.index("--") + 1:] if "--" in argv else []
    own = argv[:argv.index("--")] if "--" in argv else argv
    p = argparse.ArgumentParser(prog="python -m trainer.repeat", description=__doc__)
    p.add_argument("--seeds", default="0,1,2,3,4")
    p.add_argument("--json", required=True)
    p.add_argument("--report")
    p.add_argument("--merge", nargs="+", help="join these repeat JSONs instead of running")
    args = p.parse_args(own)
    if args.merge:
        parts = [json.loads(Path(f).read_text()) for f in args.merge]
        out = {**parts[0], "runs": [r for part in parts for r in part["runs"]],
               "seeds": [s for part in parts for s in part["seeds"]],
               "command": " + ".join(part["command"] for part in parts)}
        out["summary"] = summarise(out["runs"])
        Path(args.json).write_text(json.dumps(out, indent=1, default=float) + "\n")
        if args.report:
            write_report(out, Path(args.report))
        return 0
    eargs = evaluate.parser().parse_args(rest)
    seeds = [int(x) for x in args.seeds.split(",")]
    out: dict[str, Any] = {"command": "python -m trainer.repeat " + " ".join(argv),
                           "data": eargs.data, "protocol": eargs.protocol,
                           "per_tag_p": eargs.per_tag_p, "seeds": [], "runs": []}
    for seed in seeds:
        eargs.seed = seed
        run = evaluate.run(eargs)
        out["runs"].append(run)
        out["seeds"].append(seed)
        out["summary"] = summarise(out["runs"])
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(out, indent=1, default=float) + "\n")
        if args.report:
            write_report(out, Path(args.report))
        print(f"seed {seed} done", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
