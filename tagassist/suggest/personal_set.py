"""Fit the generated set's tag table on one person's photos (the personal job's set stage).

SOG scores every tag of its table against the ``[MASK]`` query: ``z = q · W_t + b_t``
(:mod:`tagassist.suggest.sog`).  The base table knows a person's own tags — those it was not
trained on — only by their text vectors and a median bias; this stage learns, for those tags,
a residual ``ΔW_t`` and a bias offset ``Δb_t`` from the person's tagged photos, with SOG's
own loss (paper eq. 10–11: each prefix of a photo's tags targets the remaining ones
uniformly), the queries computed once by the served encoder, and an L2 pull towards zero.
The training tags' rows stay as trained: refitting them too on the person's first photos made
the set worse on the COCO replay (kept 0.508 → 0.430 of the set, ``session_replay`` on
coco-val2017-283 with ``--train set,blend`` vs ``--train blend``), the guard's small held-out
sets letting noisy refits through.

Deviation (said in docs/results/session-replay/README.md): DESIGN.md's personalization fits
the ``[USER]`` token's row, which needs gradients through the encoder — torch, in the trainer
process.  The output side needs none, so it runs here in numpy in seconds, and it is what a
person's own vocabulary (tags the base model never saw) needs most.

Guard (as the blend's): the newest ``HELD_OUT_SHARE`` of the person's tagged photos are held
out; the table fitted on the others is published only if the set made with it keeps at least
as many of the person's tags there as the table served now.  The published table is the one
measured (it has not seen the held-out photos), so the set's figure that decides whether the
window shows the set (``service.set_verdict``) is an honest one.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

import numpy as np

from tagassist.suggest.model_store import PERSONAL_SET, SET_FILE, publish_and_activate
from tagassist.suggest.sog import SetGenerator, TagTable

MIN_PHOTOS = 10
MAX_PHOTOS = 200  # the newest tagged photos fitted (bounded time: one encoder run per prefix)
HELD_OUT_SHARE = 0.2
MAX_PREFIX = 3  # prefixes of length 0..2 per photo (SOG's max_steps: a CPU budget knob)
L2 = 1.0
STEPS = 150
LR = 0.05
SHOWN = 5
OWN_VOCABULARY = True


def _instances(gen: SetGenerator, table: TagTable, photos: list[tuple[str, list[str]]],
               cache: dict[tuple[Any, ...], Any]
               ) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """(queries [N, d], the rows each query excludes, the rows it targets) for every prefix.

    A photo's tag order is drawn from its own seed, so its prefixes — and their encoder
    queries, kept in ``cache`` — are the same at every training."""
    rows = table.rows
    queries, banned, targets = [], [], []
    for context, tags in photos:
        have = [rows[t] for t in dict.fromkeys(tags) if t in rows]
        if not have:
            continue
        rng = np.random.default_rng(zlib.crc32(context.encode("utf-8")))
        order = [have[i] for i in rng.permutation(len(have))]
        ctx = None
        for n in range(min(len(order), MAX_PREFIX)):
            key = ("set", gen.version, context, tuple(table.names[i] for i in order[:n]))
            q = cache.get(key)
            if q is None:
                ctx = gen.context_ids(context) if ctx is None else ctx
                q = cache[key] = gen.query(ctx, order[:n], table)
            queries.append(q)
            banned.append(np.asarray(order[:n], np.int64))
            targets.append(np.asarray(order[n:], np.int64))
    d = table.out.shape[1]
    return np.asarray(queries, np.float32).reshape(-1, d), banned, targets


def fit_table(gen: SetGenerator, table: TagTable, photos: list[tuple[str, list[str]]],
              own: list[str], cache: dict[tuple[Any, ...], Any] | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
    """Residuals [len(own), d] and bias offsets [len(own)] for the person's tags ``own``,
    fitted with SOG's KL loss by Adam on fixed queries."""
    q, banned, targets = _instances(gen, table, photos, {} if cache is None else cache)
    idx = np.asarray([table.rows[t] for t in own], np.int64)
    resid = np.zeros((len(idx), table.out.shape[1]), np.float32)
    dbias = np.zeros(len(idx), np.float32)
    if not len(q) or not len(idx):
        return resid, dbias
    target = np.zeros((len(q), len(table.names)), np.float32)
    mask = np.zeros_like(target)
    for i, (b, t) in enumerate(zip(banned, targets, strict=True)):
        target[i, t] = 1.0 / len(t)
        mask[i, b] = -np.inf
    base = q @ table.out.T + table.bias + mask
    m = [np.zeros_like(resid), np.zeros_like(dbias)]
    v = [np.zeros_like(resid), np.zeros_like(dbias)]
    for step in range(1, STEPS + 1):
        z = base.copy()
        z[:, idx] += q @ resid.T + dbias
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        g = (p - target)[:, idx] / len(q)  # dKL/dz on the person's columns
        grads = [g.T @ q + L2 * resid / len(q), g.sum(axis=0) + L2 * dbias / len(q)]
        for k, (param, grad) in enumerate(zip((resid, dbias), grads, strict=True)):
            m[k] = 0.9 * m[k] + 0.1 * grad
            v[k] = 0.999 * v[k] + 0.001 * grad * grad
            param -= LR * (m[k] / (1 - 0.9 ** step)) / (np.sqrt(v[k] / (1 - 0.999 ** step))
                                                         + 1e-8)
    return resid, dbias


def set_kept(gen: SetGenerator, table: TagTable, photos: list[tuple[str, list[str]]],
             k: int = SHOWN) -> float:
    """Mean share of the set (made with nothing given) that is among the photo's tags."""
    kept = []
    for context, tags in photos:
        have = {t.casefold() for t in tags}
        made = gen.generate(context, table, k=k)
        kept.append(sum(t.casefold() in have for t, _ in made) / k)
    return float(np.mean(kept)) if kept else 0.0


def tagged_photos(suggester: Any, user_id: int) -> list[tuple[str, list[str]]]:
    """(SOG context, tags) of the user's newest tagged photos with image words, in the order
    they were tagged."""
    index = suggester.view(user_id).index
    rows = [r for r in range(len(index)) if index.tagged[r]]
    wanted = [int(index.item_ids[r]) for r in rows]
    items = {it.id: it for it in suggester.library.items.get_many(wanted)}
    out = []
    for r in rows:
        item = items.get(int(index.item_ids[r]))
        if item is None or item.kind != "photo":
            continue
        context = suggester.photo_context(item)
        if context is not None:
            out.append((context, list(index.tags_of_row(r))))
    return out[-MAX_PHOTOS:]


def fit_personal_set(suggester: Any, user_id: int) -> dict[str, Any]:
    """Fit, guard and (when not worse) publish the user's set table; returns what happened."""
    gen = suggester.set_generator()
    if gen is None:
        return {"event": "skipped", "stage": "set",
                "message": f"generated set: no set model ({suggester.sog_unavailable})"}
    photos = tagged_photos(suggester, user_id)
    if len(photos) < MIN_PHOTOS:
        return {"event": "skipped", "stage": "set",
                "message": f"generated set: {len(photos)} tagged photos with image words, "
                           f"{MIN_PHOTOS} needed"}
    served = suggester.set_table(gen, user_id)
    cut = len(photos) - max(3, int(len(photos) * HELD_OUT_SHARE))
    base = (suggester.own_set_table(gen, user_id) if OWN_VOCABULARY
            else suggester.base_set_table(gen))
    rows = base.rows
    own = sorted({t for _, tags in photos[:cut] for t in tags
                  if t in rows and not base.known[rows[t]]})
    resid, dbias = fit_table(gen, base, photos[:cut], own, suggester.fit_cache)
    candidate = gen.adjusted(base, own, resid, dbias)
    held = photos[cut:]
    before, after = set_kept(gen, served, held), set_kept(gen, candidate, held)
    metrics = {"held_out_photos": len(held), "photos": cut, "tags": len(own),
               "set_acceptance@5_served": round(before, 4),
               "set_acceptance@5_candidate": round(after, 4)}
    if after < before:
        return {"event": "skipped", "stage": "set", "metrics": metrics,
                "message": f"generated set unchanged: a refit kept fewer of your tags on "
                           f"your newest {len(held)} photos ({after:.0%} vs {before:.0%})"}
    def write(folder: Path) -> None:
        np.savez_compressed(folder / SET_FILE, tags=np.array(own, dtype=str), resid=resid,
                            bias=dbias, own_vocabulary=np.array(OWN_VOCABULARY))

    version, _ = publish_and_activate(suggester.library, PERSONAL_SET, user_id, write, metrics)
    return {"event": "done", "stage": "set", "version": version, "metrics": metrics,
            "message": f"generated set learned your tags: {after:.0%} of it kept on your "
                       f"newest {len(held)} photos (was {before:.0%})"}
