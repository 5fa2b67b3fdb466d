"""The ``tagassist`` command end to end, as a separate process, on real files and a real DB."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tagassist.library import Library
from tagassist.library.migrations import LATEST_VERSION
from tests import sample

needs_exiftool = pytest.mark.skipif(shutil.which("exiftool") is None,
                                    reason="exiftool (libimage-exiftool-perl) not installed")


def cli(*args: str, library: Path, ok: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "tagassist", *args, "--library", str(library),
                           "--user", "ann"], capture_output=True, text=True, timeout=120)
    if ok:
        assert proc.returncode == 0, proc.stderr
    return proc


def as_json(proc: subprocess.CompletedProcess):
    return json.loads(proc.stdout)


def test_import_search_tag_export_roundtrip(sample_copy, tmp_path):
    lib = tmp_path / "lib"
    report = as_json(cli("import", str(sample_copy), "--json", library=lib))
    assert report["added"] == sample.ITEMS and report["problems"] == []

    animals = as_json(cli("search", "animals AND NOT space", "--json", library=lib))
    assert sorted(Path(r["path"]).name for r in animals) == [
        "chelsea-portrait.jpg", "chelsea-the-cat.jpg", "raccoon-in-the-garden.jpg"]

    photo = sample_copy / "2023-amsterdam/brick-wall.jpg"
    cli("tag", str(photo), "--add", "places|Europe|Amsterdam", "--add", "wall", library=lib)
    tags = as_json(cli("tags", str(photo), "--json", library=lib))["tags"]
    assert {t["tag"] for t in tags} == {"places|Europe|Amsterdam", "wall"}
    assert {r["path"] for r in as_json(cli("search", "Europe", "--json", library=lib))} == {
        str(photo.resolve())}

    cli("undo", library=lib)
    tags = as_json(cli("tags", str(photo), "--json", library=lib))["tags"]
    assert tags == []
    cli("redo", library=lib)
    assert len(as_json(cli("tags", str(photo), "--json", library=lib))["tags"]) == 2

    out = tmp_path / "folksonomy.json"
    cli("export", str(out), library=lib)
    exported = json.loads(out.read_text())
    assert "wall" in json.dumps(exported)

    untagged = as_json(cli("untagged", "--json", library=lib))
    assert all(Path(r["path"]).name != "brick-wall.jpg" for r in untagged)


def test_bad_search_expression_is_one_clear_line(tmp_path):
    proc = cli("search", "beach AND (", "--json", library=tmp_path / "lib", ok=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith("tagassist: ") and "Traceback" not in proc.stderr


def test_newer_database_is_refused_and_left_untouched(tmp_path):
    lib = tmp_path / "lib"
    cli("tag-counts", library=lib)  # creates it
    db = lib / "tagassist.db"
    with sqlite3.connect(db) as con:
        con.execute(f"PRAGMA user_version={LATEST_VERSION + 1}")
    before = db.read_bytes()
    proc = cli("tag-counts", library=lib, ok=False)
    assert proc.returncode == 2 and "newer" in proc.stderr.lower()
    assert "Traceback" not in proc.stderr
    assert db.read_bytes() == before


def test_missing_file_and_folder_are_clear_errors(tmp_path):
    lib = tmp_path / "lib"
    proc = cli("import", str(tmp_path / "nope"), library=lib, ok=False)
    assert proc.returncode == 2 and "not a folder" in proc.stderr
    proc = cli("tags", str(tmp_path / "nope.jpg"), library=lib, ok=False)
    assert proc.returncode == 2 and "not in the library" in proc.stderr


def test_tag_with_files_but_no_add_refuses_instead_of_making_file_named_tags(sample_copy,
                                                                              tmp_path):
    lib = tmp_path / "lib"
    cli("import", str(sample_copy), "--json", library=lib)
    cat = sample_copy / "2019-spring-berkeley/chelsea-the-cat.jpg"
    espresso = sample_copy / "2018-montreal/espresso.jpg"
    proc = cli("tag", str(cat), str(espresso), library=lib, ok=False)
    assert proc.returncode == 2 and "is a file, not a tag" in proc.stderr
    tags = {t["tag"] for t in as_json(cli("tags", str(cat), "--json", library=lib))["tags"]}
    assert str(espresso) not in tags and not any("espresso.jpg" in t for t in tags)


@needs_exiftool
def test_sidecars_are_read_back_by_exiftool(sample_copy, tmp_path):
    lib = tmp_path / "lib"
    cli("import", str(sample_copy), "--json", library=lib)
    photo = sample_copy / "2018-montreal/espresso.jpg"
    original = photo.read_bytes()
    cli("tag", str(photo), "--add", "drinks|coffee|espresso", "--add", "café crème",
        library=lib)
    written = as_json(cli("export-xmp", "--json", library=lib))["written"]
    sidecar = photo.with_name(photo.name + ".xmp")  # darktable/digiKam naming
    assert str(sidecar) in written
    assert photo.read_bytes() == original  # the original is never modified

    data = json.loads(subprocess.run(
        ["exiftool", "-j", "-XMP-dc:Subject", "-XMP-lr:HierarchicalSubject", str(sidecar)],
        capture_output=True, text=True, check=True).stdout)[0]
    as_list = lambda v: v if isinstance(v, list) else [v]  # noqa: E731
    assert set(as_list(data["Subject"])) == {"coffee", "espresso", "café crème"}
    assert set(as_list(data["HierarchicalSubject"])) == {"drinks|coffee|espresso"}


@needs_exiftool
def test_keywords_written_by_exiftool_are_imported(tmp_path):
    from PIL import Image

    folder = tmp_path / "photos"
    folder.mkdir()
    photo = folder / "beach.jpg"
    Image.new("RGB", (320, 240), (30, 120, 200)).save(photo)
    subprocess.run(["exiftool", "-q", "-overwrite_original", "-IPTC:Keywords+=sunset",
                    "-XMP-dc:Subject+=beach", "-XMP-lr:HierarchicalSubject+=places|Spain|Cádiz",
                    str(photo)], check=True)
    lib = tmp_path / "lib"
    cli("import", str(folder), "--json", library=lib)
    tags = {t["tag"] for t in as_json(cli("tags", str(photo), "--json", library=lib))["tags"]}
    assert tags == {"sunset", "beach", "places|Spain|Cádiz"}
    assert all(t["source"] == "file"
               for t in as_json(cli("tags", str(photo), "--json", library=lib))["tags"])


def test_options_work_before_and_after_the_subcommand(sample_copy, tmp_path, monkeypatch):
    """`tagassist --library L --user U --json import DIR` used to import into the default
    library as the login name and print text (issue 20: the subcommand's defaults won)."""
    default = tmp_path / "default-library"
    monkeypatch.setenv("TAGASSIST_LIBRARY", str(default))
    library = tmp_path / "lib"
    photos = sample_copy / "2019-spring-berkeley"
    run = [sys.executable, "-m", "tagassist.cli"]
    done = subprocess.run([*run, "--library", str(library), "--json", "import", str(photos)],
                          capture_output=True, text=True, check=True)
    assert json.loads(done.stdout)["added"] > 0
    assert (library / "tagassist.db").is_file() and not default.exists()
    photo = next(p for p in photos.iterdir() if p.suffix.lower() == ".jpg")
    subprocess.run([*run, "--library", str(library), "--user", "alice", "tag", str(photo),
                    "picked"], check=True, capture_output=True)
    tags = subprocess.run([*run, "tags", "--library", str(library), "--json", str(photo)],
                          capture_output=True, text=True, check=True)
    [picked] = [t for t in json.loads(tags.stdout)["tags"] if t["tag"] == "picked"]
    with Library.open(library / "tagassist.db") as lib:  # stored as alice, not the login name
        assert {u.id: u.name for u in lib.users.all()}[picked["user_id"]] == "alice"
