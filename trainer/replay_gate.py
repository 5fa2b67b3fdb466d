"""What each personal training did in session replays, and whether the percentages hold.

``python -m trainer.replay_gate OUT/*.json`` (the JSONs of ``trainer.session_replay``) prints

1. **The gate**: for every training of every replay, each stage's held-out acceptance@5
   (the newest photos, not fitted on) of the served model and of the new one, and which was
   served — the set's table, the blend, and the content model (its ``recent_acceptance@5``).
   A stage that published must never have measured worse than what it replaced.
2. **Reliability**: the shown percentages in deciles against the share of those tags the
   person kept, for the photos before the first published personal blend (the default blend)
   and after it, pooled over the replays given.  A calibrated list keeps about 35 % of the
   tags it shows at 30-40 %.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from trainer.session_replay import key


def _stage(outcome: dict[str, Any], before: str, after: str) -> str:
    m = outcome.get("metrics") or {}
    if before not in m:
        return outcome.get("event", "") or "-"
    served = "new" if outcome.get("event") == "done" else "kept"
    return f"{m[before]:.2f} → {m[after]:.2f} ({served})"


def gate_rows(path: Path, r: dict[str, Any]) -> list[str]:
    rows = []
    every = r["train_every"]
    for n, t in enumerate(r["trainings"], 1):
        content = (t.get("metrics") or {}).get("recent_acceptance@5") or {}
        content_cell = (f"{content['before']:.2f} → {content['after']:.2f} "
                        f"({'new' if content.get('kept') == 'candidate' else 'kept'})"
                        if "before" in content else t.get("event", "-"))
        rows.append(" | ".join([
            path.stem, str(n * every),
            _stage(t.get("set") or {}, "set_acceptance@5_served", "set_acceptance@5_candidate"),
            _stage(t.get("blend") or {}, "acceptance@5_served", "acceptance@5_candidate"),
            content_cell]))
    return [f"| {row} |" for row in rows]


def worse_but_served(r: dict[str, Any]) -> list[str]:
    """Stages that published a model measured worse than the one served (must be none)."""
    out = []
    for n, t in enumerate(r["trainings"], 1):
        for stage, before, after in (("set", "set_acceptance@5_served",
                                      "set_acceptance@5_candidate"),
                                     ("blend", "acceptance@5_served",
                                      "acceptance@5_candidate")):
            o = t.get(stage) or {}
            m = o.get("metrics") or {}
            if o.get("event") == "done" and before in m and m[after] < m[before]:
                out.append(f"training {n}: {stage} {m[after]} < {m[before]}")
        c = (t.get("metrics") or {}).get("recent_acceptance@5") or {}
        if c.get("kept") == "candidate" and c.get("after", 0) < c.get("before", 0):
            out.append(f"training {n}: content {c['after']} < {c['before']}")
    return out


def first_blend_photo(r: dict[str, Any]) -> int:
    """The number of photos after which a personal blend was first served (None: never)."""
    for n, t in enumerate(r["trainings"], 1):
        if (t.get("blend") or {}).get("event") == "done":
            return n * r["train_every"]
    return len(r["per_photo"])


def reliability(results: list[dict[str, Any]]) -> dict[str, list[list[float]]]:
    """{"before"/"after": per decile [shown, kept]} pooled over the replays."""
    table = {"before": [[0, 0] for _ in range(10)], "after": [[0, 0] for _ in range(10)]}
    for r in results:
        cut = first_blend_photo(r)
        for n, p in enumerate(r["per_photo"], 1):
            scores = p.get("scores")
            if scores is None:
                continue
            truth = {key(t) for t in p["truth"]}
            side = table["before" if n <= cut else "after"]
            for tag, score in zip(p["shown"], scores, strict=True):
                d = min(int(score * 10), 9)
                side[d][0] += 1
                side[d][1] += key(tag) in truth
    return table


def main(argv: list[str] | None = None) -> int:
    paths = sorted(Path(p) for p in (argv if argv is not None else sys.argv[1:]))
    results = [json.loads(p.read_text(encoding="utf-8")) for p in paths]
    print("| library | after photo | set table: served → new | blend: served → new | "
          "content model: served → new |")
    print("|---|---|---|---|---|")
    for p, r in zip(paths, results, strict=True):
        for line in gate_rows(p, r):
            print(line)
    bad = [f"{p.stem} {b}" for p, r in zip(paths, results, strict=True)
           for b in worse_but_served(r)]
    print(f"\nserved although measured worse: {bad or 'none'}\n")
    table = reliability(results)
    print("| shown | before the first personal blend: shown | kept | "
          "after: shown | kept |")
    print("|---|---|---|---|---|")
    for d in range(10):
        (n0, k0), (n1, k1) = table["before"][d], table["after"][d]
        cells = [f"{d * 10}-{d * 10 + 10} %",
                 str(n0), f"{k0 / n0:.0%}" if n0 else "-",
                 str(n1), f"{k1 / n1:.0%}" if n1 else "-"]
        print("| " + " | ".join(cells) + " |")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
