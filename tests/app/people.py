"""A small real library that two people tagged differently (photos on disk, imported)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tagassist import app
from tagassist.library import Library
from tagassist.paths import LibraryPaths

# Who tagged what (tag paths per file name); IMG_6 nobody tagged.
ANN = {"IMG_1.jpg": ["beach"], "IMG_2.jpg": ["beach", "animals|pets|cat"], "IMG_3.jpg": ["sea"]}
BOB = {"IMG_3.jpg": ["beach"], "IMG_4.jpg": ["dog"], "IMG_5.jpg": ["animals|pets|dog"]}
FILES = [f"IMG_{n}.jpg" for n in range(1, 7)]


@dataclass(frozen=True)
class People:
    ids: dict[str, int]  # file name -> item id
    ann: int
    bob: int


def make_photos(folder: Path, names: list[str]) -> None:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for n, name in enumerate(names):
        Image.new("RGB", (64, 48), (40 * n % 256, 90, 200 - 30 * n)).save(folder / name)


def two_people_library(paths: LibraryPaths, folder: Path) -> People:
    """Import ``FILES`` into the library at ``paths`` and tag them as ann and bob."""
    from tagassist.media.importer import import_folder

    make_photos(folder, FILES)
    with Library.open(paths.database) as lib:
        ann, bob = lib.users.get_or_create("ann").id, lib.users.get_or_create("bob").id
        job = import_folder(lib, folder, user_id=ann, thumbnails_dir=paths.thumbnails)
        while True:
            try:
                next(job)
            except StopIteration:
                break
        ids = {name: lib.items.by_path(folder.resolve() / name).id for name in FILES}
        for user, tags in ((ann, ANN), (bob, BOB)):
            for name, paths_ in tags.items():
                app.tag(lib, user, [ids[name]], paths_)
    return People(ids, ann, bob)
