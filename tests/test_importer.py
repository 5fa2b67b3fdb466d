"""The importer on real files: the bundled sample, re-import, moves, cancel and hostile input."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tagassist.library import Library
from tagassist.media.importer import ImportReport, import_folder
from tagassist.media.kinds import DOCUMENT_EXTS, PHOTO_EXTS
from tests import sample


def run_import(library: Library, folder: Path, thumbs: Path, cancel_after: int | None = None,
               user_id: int | None = None) -> ImportReport:
    user_id = user_id or library.users.get_or_create("ann").id
    cancel = threading.Event()
    job = import_folder(library, folder, user_id=user_id, thumbnails_dir=thumbs, cancel=cancel)
    ticks = 0
    try:
        while True:
            tick = next(job)
            assert 0 <= tick.done <= tick.total
            ticks += 1
            if cancel_after is not None and tick.done >= cancel_after:
                cancel.set()
    except StopIteration as stop:
        return stop.value


@pytest.fixture
def library(tmp_path):
    with Library.open(tmp_path / "lib" / "tagassist.db") as lib:
        yield lib


def tag_paths(library: Library, item_id: int) -> set[str]:
    return {t.path for t in library.assignments.tags_of(item_id)}


def test_sample_library_imports_with_metadata_keywords_and_thumbnails(library, sample_copy,
                                                                     tmp_path):
    thumbs = tmp_path / "thumbs"
    report = run_import(library, sample_copy, thumbs)
    assert report.problems == []
    assert (report.added, library.items.count()) == (sample.ITEMS, sample.ITEMS)

    cat = library.items.by_path(str(sample_copy / "2019-spring-berkeley/chelsea-the-cat.jpg"))
    assert cat.kind == "photo" and cat.capture_time == "2019-03-10T16:20:05"
    assert "Berkeley" in cat.place and cat.lat == pytest.approx(37.8716, abs=1e-3)
    assert tag_paths(library, cat.id) == {"animals|pets|cat"}
    assert {a.source for a in library.assignments.of_item(cat.id)} == {"file"}
    assert "berkeley" in cat.context_words and "weekend" in cat.context_words

    grass = library.items.by_path(str(sample_copy / "2023-amsterdam/grass.jpg"))
    assert tag_paths(library, grass.id) == {"nature|plants|grass"}  # from the .xmp sidecar
    assert "Amsterdam" in grass.place

    hubble = library.items.by_path(str(sample_copy / "nasa/hubble-deep-field.jpg"))
    assert hubble.place is None and hubble.lat is None  # no GPS in that file
    assert tag_paths(library, hubble.id) == {"space"}

    pdf = library.items.by_path(str(sample_copy / "papers/tagging-notes.pdf"))
    assert pdf.kind == "document" and "personal tag recommendation" in pdf.title.lower()
    assert "training signal" in pdf.text_excerpt
    md = library.items.by_path(str(sample_copy / "notes/trip-to-amsterdam.md"))
    assert md.title == "Trip to Amsterdam"

    photos = [it for it in library.items.get_many(library.items.ids()) if it.kind == "photo"]
    thumbs_written = list(thumbs.rglob("*.jpg"))
    assert len(photos) == sample.PHOTOS and len(thumbs_written) == sample.PHOTOS


def test_reimport_is_incremental(library, sample_copy, tmp_path):
    run_import(library, sample_copy, tmp_path / "t")
    again = run_import(library, sample_copy, tmp_path / "t")
    assert (again.added, again.updated, again.unchanged, again.problems) == (0, 0, sample.ITEMS, [])


def test_moved_and_renamed_files_keep_their_tags(library, sample_copy, tmp_path):
    user = library.users.get_or_create("ann")
    run_import(library, sample_copy, tmp_path / "t", user_id=user.id)
    old = sample_copy / "street/cameraman.jpg"
    item = library.items.by_path(str(old))
    library.assignments.assign(user.id, [item.id], ["street photo"])

    new = sample_copy / "renamed" / "portrait of a cameraman.jpg"
    new.parent.mkdir()
    old.rename(new)
    report = run_import(library, sample_copy, tmp_path / "t", user_id=user.id)
    assert report.moved == 1 and report.removed_paths == 1 and report.added == 0
    moved = library.items.by_path(str(new))
    assert moved.id == item.id and moved.paths == (str(new),)
    assert library.items.by_path(str(old)) is None
    assert "street photo" in tag_paths(library, moved.id)


def test_cancel_stops_early_and_keeps_what_was_saved(library, tmp_path):
    from PIL import Image

    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(60):
        Image.new("RGB", (64, 48), (i * 4 % 256, 90, 160)).save(folder / f"img{i:03}.jpg")
    report = run_import(library, folder, tmp_path / "t", cancel_after=5)
    assert report.cancelled
    assert 5 <= library.items.count() < 60
    assert library.integrity_check() == "ok"
    # Resuming imports the rest and does not duplicate anything.
    rest = run_import(library, folder, tmp_path / "t")
    assert not rest.cancelled and library.items.count() == 60


def test_hostile_corpus_reports_each_bad_file_and_imports_every_good_one(library, tmp_path):
    from tests.media.hostile import make_hostile_corpus

    corpus = tmp_path / "hostile"
    corpus.mkdir()
    expected = make_hostile_corpus(corpus)
    assert len(expected) >= 25
    report = run_import(library, corpus, tmp_path / "t")

    problems = {Path(p.path).resolve(): p.reason for p in report.problems}
    imported = {Path(p) for it in library.items.get_many(library.items.ids()) for p in it.paths}
    supported = PHOTO_EXTS | DOCUMENT_EXTS
    for name, outcome in expected.items():
        path = (corpus / name)
        if path.is_dir():  # a folder named like a photo is walked as a folder
            continue
        if path.suffix.lower() not in supported:  # e.g. a GIF: skipped by the scan, never read
            assert path.resolve() not in {p.resolve() for p in imported}, name
        elif outcome == "error":
            matches = [r for p, r in problems.items() if p == path.resolve() or
                       str(p).startswith(str(path))]
            assert matches and all(r.strip() for r in matches), f"{name}: no problem reported"
        elif outcome in ("ok", "warning") and path.is_file():
            assert path.resolve() in {p.resolve() for p in imported}, f"{name}: not imported"
    assert library.integrity_check() == "ok"


def test_import_file_stores_one_file_as_the_folder_import_does(sample_copy, tmp_path):
    from tagassist.media.errors import MediaError
    from tagassist.media.importer import import_file

    photo = sample_copy / "2023-amsterdam" / "grass.jpg"  # has an .xmp sidecar with keywords
    one, folder = Library.open(tmp_path / "one.db"), Library.open(tmp_path / "all.db")
    try:
        for lib in (one, folder):
            lib.users.get_or_create("ann")
        item = import_file(one, photo, user_id=1, thumbnails_dir=tmp_path / "t1")
        run_import(folder, sample_copy, tmp_path / "t2")
        twin = folder.items.by_path(str(photo.resolve()))
        assert twin is not None and item.content_hash == twin.content_hash
        assert (item.capture_time, item.place) == (twin.capture_time, twin.place)
        assert tag_paths(one, item.id) == tag_paths(folder, twin.id) != set()
        assert one.items.count() == 1
        with pytest.raises(MediaError, match="not a photo or document"):
            import_file(one, tmp_path / "one.db", user_id=1, thumbnails_dir=tmp_path / "t1")
    finally:
        one.close()
        folder.close()
