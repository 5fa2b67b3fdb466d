"""``search``, ``untagged`` and ``tag-counts`` with ``--user``: the person's tags only, the
same as the app layer gives the window for that person (tests/ui/test_operations.py shows the
window); without ``--user``, everyone's."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

from tagassist import app
from tagassist.library import Library
from tagassist.paths import LibraryPaths
from tests.app.people import two_people_library


def cli_json(paths: LibraryPaths, *args: str) -> list:
    proc = subprocess.run([sys.executable, "-m", "tagassist", *args, "--json", "--library",
                           str(paths.root)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_search_untagged_and_counts_honour_the_person(tmp_path: Path):
    paths = LibraryPaths.resolve(tmp_path / "library", tmp_path / "cache")
    people = two_people_library(paths, tmp_path / "photos")
    name_of = {i: n for n, i in people.ids.items()}

    def names(rows: list[dict]) -> list[str]:
        return [Path(r["path"]).name for r in rows]

    with Library.open(paths.database) as lib:
        for who, user_id, beach, animals, untagged, counts in (
                ("ann", people.ann, ["IMG_1.jpg", "IMG_2.jpg"], ["IMG_2.jpg"],
                 ["IMG_4.jpg", "IMG_5.jpg", "IMG_6.jpg"],
                 {"beach": 2, "sea": 1, "animals": 1, "animals|pets": 1,
                  "animals|pets|cat": 1}),
                ("bob", people.bob, ["IMG_3.jpg"], ["IMG_5.jpg"],
                 ["IMG_1.jpg", "IMG_2.jpg", "IMG_6.jpg"],
                 {"beach": 1, "dog": 1, "animals": 1, "animals|pets": 1,
                  "animals|pets|dog": 1})):
            user = ("--user", who)
            assert names(cli_json(paths, "search", "beach", *user)) == beach
            assert [name_of[i] for i in app.search(lib, user_id, "beach")] == beach
            assert names(cli_json(paths, "search", "animals", *user)) == animals
            assert names(cli_json(paths, "untagged", *user)) == untagged
            assert [name_of[i] for i in app.untagged(lib, user_id)] == untagged
            rows = cli_json(paths, "tag-counts", *user)
            assert rows == [asdict(c) for c in app.tag_counts(lib, user_id)]
            assert {r["path"]: r["count"] for r in rows} == counts  # hierarchical, as shown

        # Without --user: everyone's tags, as before.
        assert names(cli_json(paths, "search", "beach")) == ["IMG_1.jpg", "IMG_2.jpg",
                                                              "IMG_3.jpg"]
        assert names(cli_json(paths, "untagged")) == ["IMG_6.jpg"]
        assert {r["path"]: r["count"] for r in cli_json(paths, "tag-counts")}["animals"] == 2
