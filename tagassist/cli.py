"""The ``tagassist`` command: the window by default, subcommands for the command line.

Every subcommand takes ``--json`` for machine-readable output; long work shows a progress bar on
stderr.  Errors a user can act on (a locked, damaged or newer database, a bad search expression,
a missing file) print one clear line and exit with status 2 — never a traceback.  Output cut
short by its reader (``tagassist tags PHOTO | head``) ends quietly with status 141, as a
program killed by SIGPIPE would in the shell (128 + 13), so ``set -o pipefail`` scripts see
the same as with ``ls | head``.

The parser and the dispatch live here; the subcommands in :mod:`tagassist.cli_commands` (the
library) and :mod:`tagassist.cli_suggest` (the models), what they share in
:mod:`tagassist.cli_common`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import stat
import sys
from pathlib import Path

from tagassist import __version__
from tagassist.cli_commands import (
    cmd_export,
    cmd_export_xmp,
    cmd_import,
    cmd_search,
    cmd_tag,
    cmd_tag_counts,
    cmd_tags,
    cmd_undo,
    cmd_untag,
    cmd_untagged,
)
from tagassist.cli_common import UserError, library_paths
from tagassist.cli_suggest import cmd_featurize, cmd_suggest, cmd_train
from tagassist.library import LibraryError
from tagassist.paths import sample_library_dir, user_data_dir


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
    p.add_argument("--sidecar", choices=["auto", "basename", "filename"], default="auto",
                   help="name of new sidecars: basename = IMG_1.xmp (Lightroom, Capture One), "
                        "filename = IMG_1.jpg.xmp (darktable, digiKam), auto (default) = the "
                        "name of the sidecar already there, else IMG_1.xmp for RAW files and "
                        "IMG_1.jpg.xmp for the rest; photo.jpg beside photo.png always gets "
                        "photo.jpg.xmp")

    p = sub.add_parser("export", parents=[common], help="export the folksonomy as CSV or JSON")
    p.add_argument("file")
    p.add_argument("--format", choices=["csv", "json"], default=None)
    return parser


EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what the shell shows for `ls | head`'s ls


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command in (None, "gui"):
            return _gui(args)
        status = COMMANDS[args.command](args)
        sys.stdout.flush()  # a reader gone away shows here, not as a traceback at exit
        return status
    except BrokenPipeError:
        if not _stdout_is_a_pipe():
            raise  # some other pipe broke: that is a bug to see, not a reader gone away
        # stdout's reader closed it (`| head`): nothing more can be shown.  Point stdout at
        # devnull, so the interpreter's own flush at exit does not complain either.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_BROKEN_PIPE
    except (LibraryError, UserError) as exc:
        print(f"tagassist: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tagassist: interrupted", file=sys.stderr)
        return 130


def _stdout_is_a_pipe() -> bool:
    try:
        mode = os.fstat(sys.stdout.fileno()).st_mode
    except (OSError, ValueError):  # io.UnsupportedOperation: a stdout without a descriptor
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


# --- the window (the default command) -------------------------------------------------------

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
    return run_gui(library_paths(args), open_folder=open_folder,
                   user=args.user,  # None: the person last tagging this library
                   screenshot=Path(args.screenshot) if args.screenshot else None,
                   select=args.select)


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
