"""Markdown table + PNG plots (Pillow only, no matplotlib) for an evaluation JSON."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

COLORS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
          (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]
MAIN = {"last-tag": ["hit@1", "hit@3", "hit@5", "hit@10", "ndcg@3", "ndcg@5", "ndcg@10", "mrr"],
        "last-post": ["p@5", "r@5", "f1@5", "f1post@5", "mrr", "map@10", "ndcg@10"],
        "random-post": ["p@1", "p@3", "p@5", "r@1", "r@3", "r@5", "f1@5"],
        "per-tag": ["r@50", "r@100", "r@200", "r@300", "map@300", "mrr"]}


def table(results: dict[str, dict[str, Any]], cols: list[str], timing: bool = True) -> str:
    head = ["model"] + cols + (["train_s", "predict_ms/post"] if timing else [])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    best = {c: max(r.get(c, 0) for r in results.values()) for c in cols}
    for name, r in results.items():
        cells = [name] + [(f"**{r[c]:.4f}**" if r[c] == best[c] else f"{r[c]:.4f}")
                          if c in r else "–" for c in cols]
        if timing:
            cells += [f"{r.get('train_s', 0):.1f}", f"{r.get('predict_ms_per_post', 0):.3f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def line_plot(series: dict[str, list[tuple[float, float]]], path: Path, title: str,
              xlabel: str, ylabel: str) -> None:
    """A small line chart: one polyline per series, axes with tick labels."""
    w, h, m = 720, 440, 60
    img = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(img)
    pts = [p for s in series.values() for p in s]
    if not pts:
        img.save(path)
        return
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    x0, x1 = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1
    y0, y1 = 0.0, max(max(ys) * 1.1, 1e-6)

    def px(x: float, y: float) -> tuple[float, float]:
        return (m + (x - x0) / (x1 - x0) * (w - 2 * m - 120),
                h - m - (y - y0) / (y1 - y0) * (h - 2 * m))

    d.line([px(x0, y0), px(x1, y0)], fill="black")
    d.line([px(x0, y0), px(x0, y1)], fill="black")
    for k in range(6):
        yv = y0 + (y1 - y0) * k / 5
        d.text((5, px(x0, yv)[1] - 6), f"{yv:.2f}", fill="black")
    for xv in sorted(set(xs)):
        d.text((px(xv, y0)[0] - 8, h - m + 5), f"{xv:g}", fill="black")
    d.text((w // 2 - 60, 10), title, fill="black")
    d.text((w // 2 - 20, h - 20), xlabel, fill="black")
    d.text((5, 25), ylabel, fill="black")
    for k, (name, s) in enumerate(series.items()):
        c = COLORS[k % len(COLORS)]
        s = sorted(s)
        if len(s) > 1:
            d.line([px(*p) for p in s], fill=c, width=2)
        for p in s:
            q = px(*p)
            d.ellipse([q[0] - 3, q[1] - 3, q[0] + 3, q[1] + 3], fill=c)
        d.text((w - m - 110, m + 16 * k), name, fill=c)
    img.save(path)


def bar_plot(values: dict[str, float], path: Path, title: str) -> None:
    w, h, m = 720, 400, 50
    img = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(img)
    top = max(list(values.values()) + [1e-6]) * 1.15
    n = max(len(values), 1)
    bw = (w - 2 * m) / n
    d.text((w // 2 - 80, 10), title, fill="black")
    d.line([(m, h - m), (w - m, h - m)], fill="black")
    for k, (name, v) in enumerate(values.items()):
        x = m + k * bw
        y = h - m - v / top * (h - 2 * m)
        d.rectangle([x + 6, y, x + bw - 6, h - m], fill=COLORS[k % len(COLORS)])
        d.text((x + 6, y - 14), f"{v:.3f}", fill="black")
        d.text((x + 6, h - m + 6), name, fill="black")
    img.save(path)


def write_report(out: dict[str, Any], path: Path) -> None:
    """``path`` (.md) plus ``<stem>-recall.png`` and ``<stem>-bars.png`` beside it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    stem = path.with_suffix("")
    res = out["results"]
    cols = MAIN.get(out["protocol"], MAIN["last-tag"])
    st = out["stats"]
    md = [f"# {out['data']} · core {out['core']} · `{out['protocol']}` · seed {out['seed']}", "",
          "users / items / tags / assignments / posts / test posts: "
          + " / ".join(str(st[k]) for k in ("users", "items", "tags", "assignments", "posts",
                                              "test_posts")), "",
          "Full ranking over all tags (the post's input tags excluded):", "", table(res, cols)]
    if out.get("results_sampled"):
        md += ["", f"Sampled: the truth among itself and {out['candidates'] - 1} random tags not "
               "in the post (`--candidates`):", "",
               table(out["results_sampled"], cols, timing=False)]
    md += ["", "Selected on the validation split (carved from training posts):", ""]
    for name, r in res.items():
        sel = {k: v for k, v in r.items() if k.startswith("val_")}
        info = f", fit {r['fit_info']}" if r.get("fit_info") else ""
        md.append(f"- `{name}`: config `{r.get('config')}`, {sel}{info}")
    ks = sorted(int(k[2:]) for k in next(iter(res.values())) if k.startswith("r@"))
    line_plot({n: [(k, r[f"r@{k}"]) for k in ks] for n, r in res.items()},
              Path(f"{stem}-recall.png"), f"recall@K, {out['data']} {out['protocol']}", "K",
              "recall")
    main = cols[1] if out["protocol"] == "last-tag" else cols[2]
    bar_plot({n: r[main] for n, r in res.items()}, Path(f"{stem}-bars.png"), main)
    md += ["", f"![recall@K]({stem.name}-recall.png) ![{main}]({stem.name}-bars.png)", ""]
    path.write_text("\n".join(md))
