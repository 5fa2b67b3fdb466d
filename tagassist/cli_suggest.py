"""The ``tagassist`` subcommands that run the models: featurize, train and suggest."""

from __future__ import annotations

import argparse
import sys
import threading
from dataclasses import asdict

from tagassist.cli_common import UserError, drive, emit, models_dir, open_library


def cmd_featurize(args: argparse.Namespace) -> int:
    from tagassist.suggest.featurize import Models, featurize_library
    from tagassist.suggest.runtime import ModelLoadError

    try:
        models = Models(models_dir(args), strict=True)
    except ModelLoadError as exc:
        raise UserError(f"cannot featurize: {exc}") from None
    library, _, _ = open_library(args)
    with library:
        job = featurize_library(library, models, threading.Event())
        report = drive(job, show=not (args.json or args.no_progress))
    text = (f"featurized {report.featurized} (photos {report.photos}, documents "
            f"{report.documents}), failed {len(report.failed)} in {report.seconds:.1f} s")
    text += "".join(f"\n  problem: {p.path or '#' + str(p.item_id)}: {p.reason}"
                    for p in report.failed)
    emit(args, asdict(report), text)
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    """Featurize what is missing, then train in a child process; progress on stderr."""
    from tqdm import tqdm

    from tagassist.suggest import train_events as events
    from tagassist.suggest.featurize import Models, featurize_library
    from tagassist.suggest.training import TrainingUnavailable, train_user

    library, user_id, _ = open_library(args)
    show = not (args.json or args.no_progress)
    with library:
        drive(featurize_library(library, Models(models_dir(args)), threading.Event()),
              show=show)
        cancel = threading.Event()
        bar = tqdm(total=0, desc="training", unit="epoch", disable=not show, file=sys.stderr)
        job = train_user(library, user_id, cancel, ("--full",) if args.full else ())
        try:
            while True:
                event = events.from_dict(next(job))
                if isinstance(event, events.Progress) and event.epochs:
                    bar.set_description(f"{event.stage} {event.model}")
                    bar.total = event.epochs
                    bar.n = event.epoch or 0
                    bar.refresh()
        except StopIteration as stop:
            result = stop.value
        except TrainingUnavailable as exc:
            raise UserError(str(exc)) from None
        except KeyboardInterrupt:
            cancel.set()
            result = next(job, None) or {"event": "cancelled"}
            raise
        finally:
            bar.close()
    kind = result.get("event")
    if kind == "done":
        m = result["metrics"]
        val = m["validation"]
        text = (f"model {result['version']} ({result['model']}, {m['mode']}) is now active: "
                f"on your {m['validation_photos']} most recent photos P@5 {val['p@5']:.3f} "
                f"R@5 {val['r@5']:.3f}")
        if m["mode"] == "full":
            base = m["baseline_mp_u"]
            text += (f" (your most frequent tags: P@5 {base['p@5']:.3f} R@5 "
                     f"{base['r@5']:.3f})")
        else:
            guard = m["recent_acceptance@5"]
            text += (f" (acceptance@5 there {guard['before']:.2f} with {m['previous_version']},"
                     f" {guard['after']:.2f} updated)")
        text += f"; {result['seconds']} s"
    else:
        text = f"no new model: {result.get('message', kind)}"
    emit(args, result, text)
    return 0 if kind == "done" else (1 if kind == "skipped" else 2)


def _set_line(row: dict) -> str:
    """The generated set of one ``suggest`` row, or why there is none."""
    made = row.get("generated_set") or []
    if not made:
        return f"\n  generated set: none ({row.get('generated_set_note') or 'empty'})"
    return "\n  generated set: " + ", ".join(f"{g['tag']} {g['probability']:.2f}" for g in made)


def cmd_suggest(args: argparse.Namespace) -> int:
    from tagassist.media.errors import MediaError
    from tagassist.suggest.featurize import Models
    from tagassist.suggest.service import ColdStartSuggester, ensure_items

    if args.top < 1:
        raise UserError("--top must be at least 1")
    library, user_id, paths = open_library(args)
    with library:
        try:
            items = ensure_items(library, args.paths, user_id=user_id,
                                 thumbnails_dir=paths.thumbnails)
        except MediaError as exc:
            raise UserError(str(exc)) from None
        suggester = ColdStartSuggester(library, Models(models_dir(args)))
        suggester.show_generated_set = True if args.show_set else None
        report = drive(suggester.featurize(items), show=False)
        rows = [suggester.suggest_json(p, it, user_id, args.top)
                for p, it in zip(args.paths, items, strict=True)]
        unavailable = suggester.models_info(user_id).get("unavailable")  # reads the library
    for row, problem in ((r, p) for r in rows for p in report.failed if p.item_id == r["item"]):
        row["problem"] = problem.reason
    text = "\n".join(
        f"{r['path']}:" + "".join(f"\n  {s['score']:.2f}  {s['tag']}  ({s['reason']})"
                                  for s in r["ranked"]) + _set_line(r) for r in rows)
    if unavailable and not args.json:
        text += "".join(f"\n(model {k} unavailable: {v})" for k, v in unavailable.items())
    emit(args, rows, text)
    return 0
