"""The ``tagassist`` subcommands that read and write the library: import, tag, search, export."""

from __future__ import annotations

import argparse
import os
import threading
from dataclasses import asdict
from pathlib import Path

from tagassist import app
from tagassist.cli_common import (
    UserError,
    describe,
    drive,
    emit,
    item_for,
    open_library,
    reader,
)
from tagassist.library import export_csv, export_json


def cmd_import(args: argparse.Namespace) -> int:
    from tagassist.media.importer import import_folder

    def shown(path: str) -> str:
        """A path that prints: bytes of a name that are not UTF-8 shown as backslash escapes."""
        try:
            return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        except UnicodeEncodeError:  # a lone surrogate that is no escaped byte (Windows)
            return path.encode("utf-8", "backslashreplace").decode("utf-8")

    folder = Path(args.folder)
    if not folder.is_dir():
        raise UserError(f"{shown(str(folder))}: not a folder")
    library, user_id, paths = open_library(args)
    with library:
        job = import_folder(library, folder, user_id=user_id, thumbnails_dir=paths.thumbnails,
                            cancel=threading.Event())
        report = drive(job, show=not (args.json or args.no_progress))
    data = asdict(report)
    for key in ("problems", "warnings", "skipped"):
        for row in data[key]:
            row["path"] = shown(row["path"])
    text = (f"imported {report.imported} (new {report.added}, updated {report.updated}, "
            f"moved {report.moved}), unchanged {report.unchanged}, "
            f"tags from files {report.file_tags}, problems {len(report.problems)}, "
            f"skipped {len(report.skipped)} in {report.seconds:.1f} s")
    for label, rows in (("problem", report.problems), ("warning", report.warnings),
                        ("skipped", report.skipped)):
        text += "".join(f"\n  {label}: {shown(p.path)}: {p.reason}" for p in rows)
    emit(args, data, text)
    return 0


def cmd_tags(args: argparse.Namespace) -> int:
    library, user_id, _ = open_library(args)
    with library:
        item = item_for(library, args.path)
        rows = library.assignments.of_item(item.id)
        # a.tag_name is the tag's full path: of_item reads every tag's path once, in the
        # same snapshot (looking each one up again made 3,000 tags take 30 s, issue 20).
        tags = [{"tag": a.tag_name, "source": a.source,
                 "user_id": a.user_id, "created": a.created} for a in rows]
    emit(args, {"item": item.id, "path": args.path, "tags": tags},
         "\n".join(f"{t['tag']}\t({t['source']})" for t in tags) or "(no tags)")
    return 0


def cmd_tag(args: argparse.Namespace) -> int:
    if not (args.add or args.remove):
        if len(args.paths) < 2:
            raise UserError("nothing to do: give --add TAG and/or --remove TAG")
        args.paths, args.add = args.paths[:1], args.paths[1:]  # tag PATH TAG...
        files = [t for t in args.add if os.path.exists(t)]
        if files:  # `tag *.jpg` without --add would make tags named after files
            raise UserError(f"{files[0]!r} is a file, not a tag: to tag several files use "
                            f"tag PATH... --add TAG")
    library, user_id, _ = open_library(args)
    with library:
        ids = [item_for(library, p).id for p in args.paths]
        changes = app.retag(library, user_id, ids, add=args.add, remove=args.remove)
    emit(args, asdict(changes), changes.description)  # one undo step, --add and --remove
    return 0


def cmd_untag(args: argparse.Namespace) -> int:
    library, user_id, _ = open_library(args)
    with library:
        changes = app.untag(library, user_id, [item_for(library, args.path).id], args.tags)
    emit(args, asdict(changes), changes.description)
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    library, user_id, _ = open_library(args)
    with library:
        rows = describe(library, app.search(library, reader(args, user_id), args.expression))
    emit(args, rows, "\n".join(r["path"] or f"#{r['id']}" for r in rows) or "(no items)")
    return 0


def cmd_untagged(args: argparse.Namespace) -> int:
    library, user_id, _ = open_library(args)
    with library:
        rows = describe(library, app.untagged(library, reader(args, user_id)))
    emit(args, rows, "\n".join(r["path"] or f"#{r['id']}" for r in rows) or "(none)")
    return 0


def cmd_tag_counts(args: argparse.Namespace) -> int:
    library, user_id, _ = open_library(args)
    with library:
        rows = [asdict(c) for c in app.tag_counts(library, reader(args, user_id))]
    emit(args, rows, "\n".join(f"{r['count']:6d}  {r['path']}" for r in rows) or "(no tags)")
    return 0


def cmd_undo(args: argparse.Namespace, redo: bool = False) -> int:
    library, _, _ = open_library(args)
    with library:
        changes = app.redo(library) if redo else app.undo(library)
    data = {"done": changes.description if changes.changed else None, **asdict(changes)}
    emit(args, data, changes.description)
    return 0


def cmd_export_xmp(args: argparse.Namespace) -> int:
    from tagassist.media.sidecar_export import export_sidecars

    library, user_id, _ = open_library(args)
    with library:
        # the person's own tags, as --user says (another person's are theirs to export)
        job = export_sidecars(library, user_id, convention=getattr(args, "sidecar", "auto"))
        report = drive(job, show=not (args.json or args.no_progress))
    # counts sidecar files written, each once (two photos never share one: see media/xmp.py)
    text = f"wrote {len(report.written)} sidecars" + "".join(
        f"\n  problem: {p}: {r}" for p, r in report.problems)
    emit(args, asdict(report), text)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    fmt = args.format or Path(args.file).suffix.lstrip(".").lower()
    if fmt not in ("csv", "json"):
        raise UserError("give --format csv|json or a .csv/.json file name")
    library, _, _ = open_library(args)
    with library:
        (export_csv if fmt == "csv" else export_json)(library, args.file)
    emit(args, {"file": args.file, "format": fmt}, f"wrote {args.file}")
    return 0
