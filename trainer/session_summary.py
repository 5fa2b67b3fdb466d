"""A Markdown table of session replays: ``python -m trainer.session_summary OUT/*.json``.

One row per replayed library: TagAssist's ranked list beside every baseline (acceptance@K),
the best baseline and the ratio to it, the ceiling (the mean of min(|truth|, K) / K: no list
can do better, so a ratio of 1.2 is out of reach where the best baseline is above ceiling /
1.2), the first and last segment (each also as a share of its own ceiling), the generated
set and on how many photos the window would have shown it, the share of true tags accepted
rather than typed, and suggest latency.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from trainer.session_replay import BASELINES, SEGMENT


def row(path: Path) -> str:
    r = json.loads(path.read_text(encoding="utf-8"))
    k, res = r["top"], r["results"]
    acc = {n: res[n][f"acceptance@{k}"] for n in res}
    segs = res["tagassist"]["segments"]
    best = r["best_baseline"]
    # each segment's acceptance as a share of its ceiling: segments differ in tags per photo
    per = r["per_photo"]
    shares = []
    for a in range(0, len(per), SEGMENT):
        seg = per[a:a + SEGMENT]
        ceiling = sum(min(len(p["truth"]), k) / k for p in seg)
        shares.append(sum(p["hits"]["tagassist"] / k for p in seg) / ceiling if ceiling else 0)
    cells = [path.stem, str(r["photos"]), f"**{acc['tagassist']:.3f}**",
             *[f"{acc[b]:.3f}" for b in BASELINES],
             f"{best} ×{r['ratio_to_best_baseline']}", f"{r.get('ceiling', float('nan')):.3f}",
             " → ".join(f"{segs[i][f'acceptance@{k}']:.2f} ({share:.0%})"
                        for i, share in ((0, shares[0]), (-1, shares[-1]))),
             f"{acc['generated_set']:.3f} ({r.get('set_shown_photos', 0)})",
             f"{r['accepted_share']:.2f}",
             f"{r['latency_ms']['suggest']['p50']:.0f}/{r['latency_ms']['suggest']['p95']:.0f}"]
    return "| " + " | ".join(cells) + " |"


def main(argv: list[str] | None = None) -> int:
    paths = [Path(p) for p in (argv if argv is not None else sys.argv[1:])]
    heads = ["library", "photos", "TagAssist", *BASELINES, "best baseline", "ceiling",
             "first → last segment (share of its ceiling)", "generated set (shown on)",
             "accepted share", "suggest ms p50/p95"]
    print("| " + " | ".join(heads) + " |")
    print("|" + "---|" * len(heads))
    for p in sorted(paths):
        print(row(p))
    return 0


if __name__ == "__main__":
    sys.exit(main())
