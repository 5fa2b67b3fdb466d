"""The ``tagassist`` command: the window by default, subcommands for the command line.

Every subcommand takes ``--json`` for machine-readable output; long work shows a progress bar on
stderr.  Errors a user can act on (a locked, damaged or newer database, a bad search expression,
a missing file) print one clear line and exit with status 2 — never a traceback.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import shutil
import sys
import threading
from collections.abc import Generator
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from tagassist import __version__, app
from tagassist.library import Library, LibraryError, export_csv, export_json
from tagassist.media.lookup import find_item
from tagassist.paths import LibraryPaths, sample_library_dir, user_data_dir

if TYPE_CHECKING:
    from tagassist.library import Item


_R = TypeVar("_R")


class UserError(Exception):
    """A problem the user can fix; printed as one line."""


def _common_options(absent: object = None) -> argparse.ArgumentParser:
    """--library, --cache, --user and --json; ``absent``: their value when not given."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--library", metavar="DIR", default=absent,
                        help="library folder (default: $TAGASSIST_LIBRARY or the user data dir)")
    common.add_argument("--cache", metavar="DIR", default=absent, help="thumbnail cache folder")
    common.add_argument("--user", default=absent,
                        help="whose tags (default: your login name; search, untagged and "
                             "tag-counts: everyone's)")
    common.add_argument("--json", action="store_true",
                        default=False if absent is None else absent, help="print JSON")
    return common


def build_parser() -> argparse.ArgumentParser:
    # The options work before or after the subcommand: a subcommand's copy leaves out what it
    # was not given (SUPPRESS), so ``tagassist --library L import DIR`` no longer imports
    # into the default library (its own default used to overwrite L).
    common = _common_options(argparse.SUPPRESS)

    parser = argparse.ArgumentParser(
        prog="tagassist", parents=[_common_options()],
        description="Personal tagging assistant for photos and documents.")
    parser.add_argument("--version", action="version", version=f"tagassist {__version__}")
    parser.add_argument("--sample", action="store_true",
                        help="open a copy of the bundled sample library")
    parser.add_argument("--open", metavar="DIR", help="import this folder when the window opens")
    parser.add_argument("--screenshot", metavar="FILE.png",
                        help="render the main window to FILE.png and exit")
    parser.add_argument("--select", metavar="NAME",
                        help="with --screenshot: select the item whose file is called NAME")
    sub = parser.add_subparsers(dest="command")

    p = sub.add_parser("gui", parents=[common], help="open the window (the default)")
    p.add_argument("--sample", action="store_true")
    p.add_argument("--open", metavar="DIR")
    p.add_argument("--screenshot", metavar="FILE.png")
    p.add_argument("--select", metavar="NAME")

    p = sub.add_parser("import", parents=[common], help="import a folder (recursive, incremental)")
    p.add_argument("folder")
    p.add_argument("--no-progress", action="store_true")

    p = sub.add_parser("tags", parents=[common], help="show the tags of a file")
    p.add_argument("path")

    p = sub.add_parser("tag", parents=[common], help="add or remove tags on files",
                       usage="tagassist tag PATH... --add TAG [--remove TAG] | tag PATH TAG...")
    p.add_argument("paths", nargs="+",
                   help="files; without --add/--remove: one file, then the tags to add")
    p.add_argument("--add", action="append", default=[], metavar="TAG")
    p.add_argument("--remove", action="append", default=[], metavar="TAG")

    p = sub.add_parser("untag", parents=[common], help="remove tags from one file")
    p.add_argument("path")
    p.add_argument("tags", nargs="+", metavar="TAG")

    p = sub.add_parser("featurize", parents=[common],
                       help="compute content features (image words, text embeddings)")
    p.add_argument("--models", metavar="DIR", help="models folder (default: the bundled one)")
    p.add_argument("--no-progress", action="store_true")

    p = sub.add_parser("suggest", parents=[common], help="suggest tags for files")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--top", type=int, default=10, metavar="N")
    p.add_argument("--models", metavar="DIR", help="models folder (default: the bundled one)")
    p.add_argument("--show-set", action="store_true",
                   help="make the generated set even where replays hide it (see README)")

    p = sub.add_parser("train", parents=[common],
                       help="train your personal model from your tagged photos (needs torch)")
    p.add_argument("--models", metavar="DIR", help="models folder (default: the bundled one)")
    p.add_argument("--full", action="store_true",
                   help="train every weight again (default: update your rows of the last model)")
    p.add_argument("--no-progress", action="store_true")

    p = sub.add_parser("search", parents=[common], help='items matching e.g. "beach AND NOT night"')
    p.add_argument("expression")

    sub.add_parser("untagged", parents=[common], help="items without tags")
    sub.add_parser("tag-counts", parents=[common], help="tags with their counts")
    sub.add_parser("undo", parents=[common], help="undo the last tag operation")
    sub.add_parser("redo", parents=[common], help="redo the last undone tag operation")

    p = sub.add_parser("export-xmp", parents=[common], help="write XMP sidecars next to photos")
    p.add_argument("--no-progress", action="store_true")

    p = sub.add_parser("export", parents=[common], help="export the folksonomy as CSV or JSON")
    p.add_argument("file")
    p.add_argument("--format", choices=["csv", "json"], default=None)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command in (None, "gui"):
            return _gui(args)
        return COMMANDS[args.command](args)
    except (LibraryError, UserError) as exc:
        print(f"tagassist: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tagassist: interrupted", file=sys.stderr)
        return 130


# --- helpers -------------------------------------------------------------------------------

def _paths(args: argparse.Namespace) -> LibraryPaths:
    return LibraryPaths.resolve(args.library, args.cache)


def _open(args: argparse.Namespace) -> tuple[Library, int, LibraryPaths]:
    paths = _paths(args)
    library = Library.open(paths.database)
    user = library.users.get_or_create(args.user or getpass.getuser())
    return library, user.id, paths


def _reader(args: argparse.Namespace, user_id: int) -> int | None:
    """Whose tags a read shows: the ``--user`` person's, as the window shows its person's;
    without ``--user``, everyone's."""
    return user_id if args.user else None


def _drive(job: Generator[Any, None, _R], show: bool, unit: str = "file") -> _R:
    """Run a progress generator to completion with a tqdm bar; return its result."""
    from tqdm import tqdm

    bar = tqdm(total=0, unit=unit, disable=not show, file=sys.stderr, dynamic_ncols=True)
    try:
        while True:
            tick = next(job)
            bar.total = tick.total
            bar.n = tick.done
            bar.refresh()
    except StopIteration as stop:
        return stop.value
    finally:
        bar.close()


def _emit(args: argparse.Namespace, data: object, text: str) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=1) if args.json else text)


def _item_for(library: Library, path: str) -> Item:
    item = find_item(library, path)  # by path, else by content (moved)
    if item is None:
        raise UserError(f"{path}: not in the library (import its folder first)")
    return item


def _describe(library: Library, ids: list[int]) -> list[dict]:
    return [{"id": it.id, "path": it.paths[0] if it.paths else None, "kind": it.kind,
             "title": it.title, "capture_time": it.capture_time, "place": it.place}
            for it in library.items.get_many(ids)]


# --- subcommands ---------------------------------------------------------------------------

def _gui(args: argparse.Namespace) -> int:
    from tagassist.ui.app import run_gui

    open_folder = Path(args.open) if args.open else None
    if args.sample:
        target = user_data_dir() / "sample-photos"
        if not target.exists():
            shutil.copytree(sample_library_dir(), target)
        open_folder = target
        if not args.library:
            args.library = str(user_data_dir() / "sample-library")
    return run_gui(_paths(args), open_folder=open_folder,
                   user=args.user,  # None: the person last tagging this library
                   screenshot=Path(args.screenshot) if args.screenshot else None,
                   select=args.select)


def cmd_import(args: argparse.Namespace) -> int:
    from tagassist.media.importer import import_folder

    folder = Path(args.folder)
    if not folder.is_dir():
        raise UserError(f"{folder}: not a folder")
    library, user_id, paths = _open(args)
    with library:
        job = import_folder(library, folder, user_id=user_id, thumbnails_dir=paths.thumbnails,
                            cancel=threading.Event())
        report = _drive(job, show=not (args.json or args.no_progress))
    data = asdict(report)
    text = (f"imported {report.imported} (new {report.added}, updated {report.updated}, "
            f"moved {report.moved}), unchanged {report.unchanged}, "
            f"tags from files {report.file_tags}, problems {len(report.problems)} "
            f"in {report.seconds:.1f} s")
    text += "".join(f"\n  problem: {p.path}: {p.reason}" for p in report.problems)
    _emit(args, data, text)
    return 0


def cmd_tags(args: argparse.Namespace) -> int:
    library, user_id, _ = _open(args)
    with library:
        item = _item_for(library, args.path)
        rows = library.assignments.of_item(item.id)
        tags = [{"tag": library_tag_path(library, a.tag_id), "source": a.source,
                 "user_id": a.user_id, "created": a.created} for a in rows]
    _emit(args, {"item": item.id, "path": args.path, "tags": tags},
          "\n".join(f"{t['tag']}\t({t['source']})" for t in tags) or "(no tags)")
    return 0


def library_tag_path(library: Library, tag_id: int) -> str:
    return next((t.path for t in library.tags.all() if t.id == tag_id), str(tag_id))


def cmd_tag(args: argparse.Namespace) -> int:
    if not (args.add or args.remove):
        if len(args.paths) < 2:
            raise UserError("nothing to do: give --add TAG and/or --remove TAG")
        args.paths, args.add = args.paths[:1], args.paths[1:]  # tag PATH TAG...
        files = [t for t in args.add if os.path.exists(t)]
        if files:  # `tag *.jpg` without --add would make tags named after files
            raise UserError(f"{files[0]!r} is a file, not a tag: to tag several files use "
                            f"tag PATH... --add TAG")
    library, user_id, _ = _open(args)
    with library:
        ids = [_item_for(library, p).id for p in args.paths]
        changes = app.retag(library, user_id, ids, add=args.add, remove=args.remove)
    _emit(args, asdict(changes), changes.description)  # one undo step, --add and --remove
    return 0


def cmd_untag(args: argparse.Namespace) -> int:
    library, user_id, _ = _open(args)
    with library:
        changes = app.untag(library, user_id, [_item_for(library, args.path).id], args.tags)
    _emit(args, asdict(changes), changes.description)
    return 0


def _models_dir(args: argparse.Namespace) -> Path:
    from tagassist.paths import bundled_models_dir

    return Path(args.models) if args.models else bundled_models_dir()


def cmd_featurize(args: argparse.Namespace) -> int:
    from tagassist.suggest.featurize import Models, featurize_library
    from tagassist.suggest.runtime import ModelLoadError

    try:
        models = Models(_models_dir(args), strict=True)
    except ModelLoadError as exc:
        raise UserError(f"cannot featurize: {exc}") from None
    library, _, _ = _open(args)
    with library:
        job = featurize_library(library, models, threading.Event())
        report = _drive(job, show=not (args.json or args.no_progress))
    text = (f"featurized {report.featurized} (photos {report.photos}, documents "
            f"{report.documents}), failed {len(report.failed)} in {report.seconds:.1f} s")
    text += "".join(f"\n  problem: {p.path or '#' + str(p.item_id)}: {p.reason}"
                    for p in report.failed)
    _emit(args, asdict(report), text)
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    """Featurize what is missing, then train in a child process; progress on stderr."""
    from tqdm import tqdm

    from tagassist.suggest import train_events as events
    from tagassist.suggest.featurize import Models, featurize_library
    from tagassist.suggest.training import TrainingUnavailable, train_user

    library, user_id, _ = _open(args)
    show = not (args.json or args.no_progress)
    with library:
        _drive(featurize_library(library, Models(_models_dir(args)), threading.Event()),
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
    _emit(args, result, text)
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
    library, user_id, paths = _open(args)
    with library:
        try:
            items = ensure_items(library, args.paths, user_id=user_id,
                                 thumbnails_dir=paths.thumbnails)
        except MediaError as exc:
            raise UserError(str(exc)) from None
        suggester = ColdStartSuggester(library, Models(_models_dir(args)))
        suggester.show_generated_set = True if args.show_set else None
        report = _drive(suggester.featurize(items), show=False)
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
    _emit(args, rows, text)
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    library, user_id, _ = _open(args)
    with library:
        rows = _describe(library, app.search(library, _reader(args, user_id), args.expression))
    _emit(args, rows, "\n".join(r["path"] or f"#{r['id']}" for r in rows) or "(no items)")
    return 0


def cmd_untagged(args: argparse.Namespace) -> int:
    library, user_id, _ = _open(args)
    with library:
        rows = _describe(library, app.untagged(library, _reader(args, user_id)))
    _emit(args, rows, "\n".join(r["path"] or f"#{r['id']}" for r in rows) or "(none)")
    return 0


def cmd_tag_counts(args: argparse.Namespace) -> int:
    library, user_id, _ = _open(args)
    with library:
        rows = [asdict(c) for c in app.tag_counts(library, _reader(args, user_id))]
    _emit(args, rows, "\n".join(f"{r['count']:6d}  {r['path']}" for r in rows) or "(no tags)")
    return 0


def cmd_undo(args: argparse.Namespace, redo: bool = False) -> int:
    library, _, _ = _open(args)
    with library:
        changes = app.redo(library) if redo else app.undo(library)
    data = {"done": changes.description if changes.changed else None, **asdict(changes)}
    _emit(args, data, changes.description)
    return 0


def cmd_export_xmp(args: argparse.Namespace) -> int:
    from tagassist.media.sidecar_export import export_sidecars

    library, user_id, _ = _open(args)
    with library:
        report = _drive(export_sidecars(library), show=not (args.json or args.no_progress))
    text = f"wrote {len(report.written)} sidecars" + "".join(
        f"\n  problem: {p}: {r}" for p, r in report.problems)
    _emit(args, asdict(report), text)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    fmt = args.format or Path(args.file).suffix.lstrip(".").lower()
    if fmt not in ("csv", "json"):
        raise UserError("give --format csv|json or a .csv/.json file name")
    library, _, _ = _open(args)
    with library:
        (export_csv if fmt == "csv" else export_json)(library, args.file)
    _emit(args, {"file": args.file, "format": fmt}, f"wrote {args.file}")
    return 0


COMMANDS = {
    "import": cmd_import,
    "tags": cmd_tags,
    "tag": cmd_tag,
    "untag": cmd_untag,
    "featurize": cmd_featurize,
    "suggest": cmd_suggest,
    "train": cmd_train,
    "search": cmd_search,
    "untagged": cmd_untagged,
    "tag-counts": cmd_tag_counts,
    "undo": cmd_undo,
    "redo": lambda a: cmd_undo(a, redo=True),
    "export-xmp": cmd_export_xmp,
    "export": cmd_export,
}


if __name__ == "__main__":
    sys.exit(main())
