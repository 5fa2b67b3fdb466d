"""The personal content ranker job: ``python -m trainer.personal --library DIR --user NAME``.

Started by ``tagassist train`` (and the window: on demand, or after N new decisions) as a
separate process; reads the library through a read-only connection
(:meth:`tagassist.library.Library.open_read_only`: it never writes or migrates the database)
and writes one new model version into the user's model folder.  Two modes:

**Update** (there is a previous version, its trainer weights load, and the library has fewer
than ``FULL_RETRAIN_GROWTH`` times the photos of the last full training): the previous model is
the warm start; new tags and users get fresh rows (:func:`trainer.models.base.remap_rows`);
:func:`trainer.personalize.guarded_update` fits only the user's rows — DAE-PTR's p_u,
CNN-PerMLP's V_j κ_u — and the new tags' rows, on the user's photos (positives: accepted and
typed tags) and rejected suggestions (hard negatives), holding out the photos tagged since the
previous version (which that version never saw); it is published only when acceptance@5 on
those photos is not worse, and NaN keeps the previous model.  Nothing new since the previous
version: nothing to do.

**Full** (first training, ``--full``, a damaged previous model, or a grown library):
1. posts = every (user, photo) of the library with the photo's stored image embedding
   (``image-lite0`` features); all users' posts are used, the user index personalizes;
2. validation = the user's most recent tagged photos (``VALIDATION_SHARE``, by the time of
   their first tag), scored *from content only* — as a new photo is;
3. candidates: DAE-PTR with the content vector in place of q_i, and CNN-PerMLP; each one's
   epochs chosen on validation, the better one (F1@5) kept and compared with the user's most
   frequent tags (MP-u) on the same photos — a model that does not beat MP-u is not published;
4. the kept model is refitted on all posts.
Both end alike: Platt calibration (p = σ(a·score + b)) on the held-out photos' scores, so the
app shows probabilities; ONNX export (:func:`trainer.export.personal.export_personal`,
parity-checked) plus the trainer weights (``weights/``, the next update's warm start) into a
staging folder, renamed to the next version (:class:`tagassist.suggest.model_store.ModelStore`).

stdout carries one JSON object per line, the events of :mod:`tagassist.suggest.train_events`
(progress, done, skipped, error, cancelled) for the caller's progress bar; the last line says
what happened.  Exit codes: 0 published, 3 nothing published (too little data / not better),
2 error, 130 cancelled (SIGTERM or SIGINT: the staging folder is removed and the previous
model stays).

Modules, one job each: :mod:`.data` (the library's posts, splits, rejections),
:mod:`.measure` (scores, metrics, Platt calibration), :mod:`.selection` (the full training),
:mod:`.update` (the warm-started update), :mod:`.publish` (export and versions),
:mod:`.job` (which mode, end to end) and :mod:`.__main__` (arguments, signals, events).
"""
from __future__ import annotations


class Cancelled(Exception):
    """SIGTERM/SIGINT during training."""


class NotPublished(Exception):
    """Nothing to publish (too little data, or no better than the user's frequent tags)."""
