"""The CSRW paper's Table 2: the tags nearest to a word along each slice of CSRW-t's tensor.

    python -m trainer.csrw_slices [--resource resources/doc-ranker] [--words a,b,...] [--top 12]
                                  [--json FILE] [--report FILE.md]

For word w and slice i the score of tag t is u_w P[i] Q[i] v_t (the paper: "we rank tags based
upon f(w, t)[i] = w P[i] Q[i] t").  Sense separation would show as slices whose lists differ in
subject (the paper: "neural" → vision/neuroscience in one slice, computation in another); the
JSON also gives the mean Jaccard overlap of the slices' lists per word (0 = disjoint).
"""
from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import numpy as np

from trainer.doc_ranker import RESOURCE

WORDS = ("language", "neural", "machine", "learning", "markov", "network", "apple", "cell")


def slices(resource: Path, words: list[str], top: int) -> dict:
    import torch

    from tagassist.media.words import FIRST_WORD
    from trainer.export.documents import load_resource

    model, meta = load_resource(resource)
    if meta["model"] != "csrw_t":
        raise SystemExit(f"{resource} holds {meta['model']}, not csrw_t: no tensor slices")
    tags = meta["tags"]
    out: dict = {"resource": str(resource), "top": top, "words": {}}
    with torch.no_grad():
        for w in words:
            if w not in model._index:
                out["words"][w] = None
                continue
            row = model._index[w]
            assert row >= FIRST_WORD
            lists = []
            for i in range(model.net.P.shape[0]):
                s = model.net.slice_scores(row, i).numpy()
                lists.append([tags[t] for t in np.argsort(-s)[:top]])
            overlap = [len(set(a) & set(b)) / len(set(a) | set(b))
                       for a, b in itertools.combinations(lists, 2)]
            out["words"][w] = {"slices": lists, "mean_jaccard": round(float(np.mean(overlap)), 3)}
    return out


def report(out: dict) -> str:
    lines = ["# CSRW-t: nearest tags per tensor slice (the paper's Table 2)", "",
             f"Model: `{out['resource']}`; top {out['top']} tags per slice by u_w P[i] Q[i] v_t.",
             "", "| word | slice | nearest tags |", "|---|---|---|"]
    for w, r in out["words"].items():
        if r is None:
            lines.append(f"| {w} | – | not in the vocabulary |")
            continue
        for i, tags in enumerate(r["slices"]):
            lines.append(f"| {w if i == 0 else ''} | {i} | {', '.join(tags)} |")
        lines.append(f"| | overlap | mean Jaccard between slices {r['mean_jaccard']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m trainer.csrw_slices", description=__doc__)
    p.add_argument("--resource", type=Path, default=RESOURCE)
    p.add_argument("--words", default=",".join(WORDS))
    p.add_argument("--top", type=int, default=12)
    p.add_argument("--json")
    p.add_argument("--report")
    a = p.parse_args(argv)
    out = slices(a.resource, [w.strip() for w in a.words.split(",") if w.strip()], a.top)
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=1) + "\n")
    text = report(out)
    if a.report:
        Path(a.report).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
