"""What every ``tagassist`` subcommand shares: opening the library, output, progress, errors."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from tagassist import app
from tagassist.library import Library
from tagassist.media.lookup import find_item
from tagassist.paths import LibraryPaths

if TYPE_CHECKING:
    from tagassist.library import Item


_R = TypeVar("_R")


class UserError(Exception):
    """A problem the user can fix; printed as one line."""


def library_paths(args: argparse.Namespace) -> LibraryPaths:
    return LibraryPaths.resolve(args.library, args.cache)


def open_library(args: argparse.Namespace) -> tuple[Library, int, LibraryPaths]:
    paths = library_paths(args)
    library = Library.open(paths.database)
    user = app.person(library, args.user or getpass.getuser())
    return library, user.id, paths


def reader(args: argparse.Namespace, user_id: int) -> int | None:
    """Whose tags a read shows: the ``--user`` person's, as the window shows its person's;
    without ``--user``, everyone's."""
    return user_id if args.user else None


def drive(job: Generator[Any, None, _R], show: bool, unit: str = "file") -> _R:
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


def emit(args: argparse.Namespace, data: object, text: str) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=1) if args.json else text)


def item_for(library: Library, path: str) -> Item:
    item = find_item(library, path)  # by path, else by content (moved)
    if item is None:
        raise UserError(f"{path}: not in the library (import its folder first)")
    return item


def describe(library: Library, ids: list[int]) -> list[dict]:
    return [{"id": it.id, "path": it.paths[0] if it.paths else None, "kind": it.kind,
             "title": it.title, "capture_time": it.capture_time, "place": it.place}
            for it in library.items.get_many(ids)]


def models_dir(args: argparse.Namespace) -> Path:
    from tagassist.paths import bundled_models_dir

    return Path(args.models) if args.models else bundled_models_dir()
