"""The bundled sample library: license-clean photos, each listed in the attribution file, with
capture time and (mostly) GPS that the importer reads, partly tagged, and small."""

from __future__ import annotations

import re
import shutil
import threading
from collections import Counter
from pathlib import Path

import pytest

from tagassist.library import Library
from tagassist.media.hashing import content_hash
from tagassist.media.importer import ImportReport, import_folder
from tagassist.media.kinds import PHOTO_EXTS
from tagassist.paths import sample_library_dir

ROOT = sample_library_dir()
ATTRIBUTION = ROOT.parent / "SAMPLE_LIBRARY_ATTRIBUTION.md"
CLEAN = re.compile(r"^(CC0\b|public domain\b)", re.IGNORECASE)
MAX_BYTES = 8 * 1024 * 1024


def photos() -> list[str]:
    return sorted(p.relative_to(ROOT).as_posix() for p in ROOT.rglob("*")
                  if p.is_file() and p.suffix.lower() in PHOTO_EXTS)


def attribution_rows() -> dict[str, dict[str, str]]:
    """file -> {column: cell} from every Markdown table in the attribution file whose header
    has a ``file`` and a ``license`` column."""
    rows: dict[str, dict[str, str]] = {}
    header: list[str] | None = None
    for line in ATTRIBUTION.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if header is None:
            header = [c.casefold() for c in cells]
        elif not set("".join(cells)) <= set("-: ") and {"file", "license"} <= set(header):
            row = dict(zip(header, cells, strict=False))
            rows[row["file"].strip("`")] = row
    return rows


def run_import(library: Library, folder: Path, thumbs: Path) -> ImportReport:
    user_id = library.users.get_or_create("ann").id
    job = import_folder(library, folder, user_id=user_id, thumbnails_dir=thumbs,
                        cancel=threading.Event())
    try:
        while True:
            next(job)
    except StopIteration as stop:
        return stop.value


@pytest.fixture
def imported(tmp_path):
    """(library, {relative path: item}) for the sample imported into a fresh library.  Function
    scope: the user-dir isolation of conftest.py (the places cache) must already be in place."""
    tmp = tmp_path
    folder = Path(shutil.copytree(ROOT, tmp / "photos"))  # tests never work in the repo tree
    with Library.open(tmp / "lib" / "tagassist.db") as library:
        report = run_import(library, folder, tmp / "thumbs")
        assert report.problems == []
        items = {}
        for rel in photos():
            item = library.items.by_path(str((folder / rel).resolve()))
            assert item is not None, rel
            items[rel] = item
        yield library, items


def test_there_are_photos_in_a_few_folders():
    found = photos()
    assert len(found) >= 12
    assert len({Path(p).parent for p in found}) >= 4


def test_every_photo_is_listed_with_a_public_domain_or_cc0_license():
    rows = attribution_rows()
    missing = [p for p in photos() if p not in rows]
    assert not missing, f"not in {ATTRIBUTION.name}: {missing}"
    unclean = {p: rows[p]["license"] for p in photos() if not CLEAN.match(rows[p]["license"])}
    assert not unclean, f"not public domain or CC0: {unclean}"
    stale = sorted(set(rows) - set(photos()))
    assert not stale, f"listed in {ATTRIBUTION.name} but not in the sample: {stale}"


def test_photos_are_distinct_files():
    """The content hash is an item's identity: two equal files would be one item."""
    hashes = Counter(content_hash(ROOT / p) for p in photos())
    assert max(hashes.values()) == 1


def test_importer_reads_time_for_every_photo_and_gps_for_most(imported):
    _library, items = imported
    no_time = [rel for rel, it in items.items() if not it.capture_time]
    assert not no_time, no_time
    with_gps = [rel for rel, it in items.items() if it.lat is not None and it.lon is not None]
    assert len(with_gps) >= 0.75 * len(items), f"only {len(with_gps)} of {len(items)} have GPS"
    assert all(items[rel].place for rel in with_gps), "a GPS position far from any town"


def test_some_photos_carry_keywords_and_some_do_not(imported):
    library, items = imported
    tagged = {rel for rel, it in items.items() if library.assignments.tags_of(it.id)}
    untagged = set(items) - tagged
    assert len(tagged) >= 4 and len(untagged) >= 4, (sorted(tagged), sorted(untagged))
    # File keywords become the importer's "file" tags, hierarchical paths included.
    paths = {t.path for rel in tagged for t in library.assignments.tags_of(items[rel].id)}
    assert any("|" in p for p in paths), paths


def test_each_folder_of_photos_is_partly_tagged_events(imported):
    """A folder is one event (hours apart, one place) with tagged and untagged photos, so an
    untagged photo's suggestions can come from its own event."""
    library, items = imported
    by_folder: dict[str, list[str]] = {}
    for rel in items:
        by_folder.setdefault(str(Path(rel).parent), []).append(rel)
    events = 0
    for rels in by_folder.values():
        if len(rels) < 4:
            continue
        events += 1
        tagged = [r for r in rels if library.assignments.tags_of(items[r].id)]
        assert 0 < len(tagged) < len(rels), rels
        days = {items[r].capture_time[:10] for r in rels}
        assert len(days) == 1, days
    assert events >= 3


def test_sample_library_is_small():
    total = sum(p.stat().st_size for p in ROOT.rglob("*") if p.is_file())
    assert total < MAX_BYTES, f"{total / 1e6:.1f} MB"
