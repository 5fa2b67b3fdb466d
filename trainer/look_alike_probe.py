"""How far the stored image embeddings can carry a look-alike list (issue 18's COCO lead).

``python -m trainer.look_alike_probe --photos DIR --truth labels.csv [--json OUT]``

The same input as ``trainer.session_replay`` (any folder with such a CSV): the photos are
imported (keywords not taken) and analysed as the replay does, then taken in capture order;
before each photo, each variant of the look-alike list ranks the tags of the earlier photos and
its top 5 is scored against the photo's truth (acceptance@5, as the replay scores lists).

Variants: the number of neighbours, cosine or softmax weights (temperature), and cosine taken
around the mean of the earlier photos' embeddings ("centred") or not.  The replay's
*look-alike* baseline is ``k=5, cosine, not centred``.  It measures the headroom of the
content signal the app stores: if no variant leads the baseline by much, a lead of 1.2× on a
content-tagged set has to come from a better image model, not from the blend.

Measured (docs/results/look-alike-probe/): the best variants (20 neighbours, softmax, centred)
led the baseline by ×1.05 on coco-val2017-283 and ×1.06 on coco-kinds.  Tried as the app's
``look`` signal with the default blend, the replay moved by +0.005 ± 0.005 (coco-kinds),
0.000 ± 0.007 (coco-val2017-283) and -0.004 ± 0.003 (flickr-istanbul) acceptance@5, paired
per photo; refitting the blend on those replays lowered coco-val2017-283 (0.330 -> 0.292 on its
dump).  Not kept: the app's ``look`` stays the baseline's 5 neighbours by cosine.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np

from tagassist.library import Library
from tagassist.media.importer import import_folder
from tagassist.paths import bundled_models_dir
from tagassist.suggest.featurize import IMAGE_MODEL, Models, featurize_library
from tagassist.suggest.item_facts import hours
from trainer.session_replay import _run, hits, key, read_truth, top_of

K = 5
NEIGHBOURS = (5, 10, 20, 50, 1000)
TEMPERATURES = (None, 0.05, 0.1)  # None: cosine weights (the baseline's)


def stored_photos(photos_dir: Path, truth: Path, workdir: Path
                  ) -> tuple[np.ndarray, list[tuple[str, ...]]]:
    """Unit embeddings [N, d] and true tags of the truth's photos, in capture order."""
    library = Library.open(workdir / "tagassist.db")
    try:
        user = library.users.get_or_create("probe").id
        _run(import_folder(library, photos_dir, user_id=user, thumbnails_dir=workdir / "thumbs",
                           take_keywords=False))
        models = Models(bundled_models_dir())
        _run(featurize_library(library, models))
        version = str(models.image.model.metadata["version"]) if models.image else ""
        rows = []
        for filename, tags, when in read_truth(truth):
            item = library.items.by_path(str((photos_dir / filename).resolve()))
            if item is None or not tags:
                continue
            stored = library.features.get([item.id], IMAGE_MODEL, version).get(item.id)
            if stored is None:
                continue
            h = hours(when) if when else hours(item.capture_time)
            rows.append((h, filename, tags, np.asarray(stored.vector, np.float64)))
    finally:
        library.close()
    rows.sort(key=lambda r: (math.isnan(r[0]), r[0], r[1]))
    vectors = np.stack([r[3] / (np.linalg.norm(r[3]) or 1.0) for r in rows])
    return vectors, [r[2] for r in rows]


def look_alike(vectors: np.ndarray, tags: list[tuple[str, ...]], n: int, k: int,
               temperature: float | None, centred: bool) -> dict[str, float]:
    """Tag scores for photo ``n`` from its ``k`` most similar earlier photos."""
    earlier, query = vectors[:n], vectors[n]
    if centred:
        mean = earlier.mean(axis=0)
        earlier, query = earlier - mean, query - mean
        earlier = earlier / np.maximum(np.linalg.norm(earlier, axis=1, keepdims=True), 1e-12)
        query = query / max(float(np.linalg.norm(query)), 1e-12)
    cos = earlier @ query
    top = np.argsort(-cos, kind="stable")[:k]
    w = np.exp((cos[top] - cos[top].max()) / temperature) if temperature else \
        np.clip(cos[top], 0.0, None)
    scores: dict[str, float] = defaultdict(float)
    for i, wi in zip(top.tolist(), w.tolist(), strict=True):
        for t in tags[i]:
            scores[key(t)] += wi
    return scores


def probe(vectors: np.ndarray, tags: list[tuple[str, ...]]) -> list[dict[str, object]]:
    out = []
    for k in NEIGHBOURS:
        for temperature in TEMPERATURES:
            for centred in (False, True):
                acc = [hits(top_of(look_alike(vectors, tags, n, k, temperature, centred), K),
                            tags[n]) / K for n in range(1, len(tags))]
                out.append({"neighbours": k, "weights": f"softmax T={temperature}"
                            if temperature else "cosine", "centred": centred,
                            f"acceptance@{K}": round(float(np.mean(acc)), 4)})
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m trainer.look_alike_probe", description=__doc__)
    p.add_argument("--photos", type=Path, required=True)
    p.add_argument("--truth", type=Path, required=True)
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="look-alike-probe-") as tmp:
        vectors, tags = stored_photos(args.photos.resolve(), args.truth, Path(tmp))
    rows = probe(vectors, tags)
    base = next(r for r in rows if r["neighbours"] == 5 and r["weights"] == "cosine"
                and not r["centred"])
    best = max(rows, key=lambda r: r[f"acceptance@{K}"])
    for r in rows:
        print(f"k={r['neighbours']:<5} {r['weights']:<16} centred={r['centred']!s:<5} "
              f"acceptance@{K} {r[f'acceptance@{K}']:.3f}")
    b, top = base[f"acceptance@{K}"], best[f"acceptance@{K}"]
    print(f"baseline (k=5, cosine) {b:.3f}; best {top:.3f}" + (f" (x{top / b:.3f})" if b else ""))
    if args.json:
        args.json.write_text(json.dumps({"photos": str(args.photos), "truth": str(args.truth),
                                         "photos_scored": len(tags) - 1, "variants": rows,
                                         "baseline": base, "best": best}, indent=1) + "\n",
                             encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
