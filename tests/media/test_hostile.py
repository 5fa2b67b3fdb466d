"""Every reader over the hostile corpus: only MediaError may escape, and outcomes match."""

from __future__ import annotations

from pathlib import Path

import pytest

from tagassist.media.documents import read_document
from tagassist.media.errors import MediaError
from tagassist.media.hashing import content_hash
from tagassist.media.kinds import kind_of, sniff_kind
from tagassist.media.photos import read_photo
from tagassist.media.scan import ScanEntry, ScanProblem, walk
from tagassist.media.thumbnails import make_thumbnail
from tests.media.hostile import DANGLING, SYMLINK_LOOP, make_hostile_corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("hostile")
    return root, make_hostile_corpus(root)


def _read(path: Path):
    return read_document(path) if kind_of(path) == "document" else read_photo(path)


def test_corpus_is_big_enough(corpus):
    _root, expected = corpus
    assert len(expected) >= 25
    assert set(expected.values()) == {"ok", "warning", "error"}


def test_every_file_has_the_expected_outcome(corpus):
    root, expected = corpus
    wrong = {}
    for name, outcome in expected.items():
        try:
            info = _read(root / name)
        except MediaError as e:
            assert e.reason, name
            got = "error"
        else:
            got = "warning" if info.warnings else "ok"
            assert all(w for w in info.warnings), name
        if got != outcome:
            wrong[name] = got
    assert wrong == {}


def test_error_reasons_are_specific(corpus):
    root, _ = corpus

    def reason(name: str) -> str:
        with pytest.raises(MediaError) as ei:
            _read(root / name)
        return ei.value.reason

    assert reason("empty.jpg") == "empty file"
    assert reason("truncated.jpg") == "truncated JPEG image"
    assert reason("bomb.png").startswith("image too large (decompression bomb: 40000x40000")
    assert reason("encrypted.pdf") == "encrypted PDF"
    assert reason("not_a_pdf.pdf") == "not a PDF"
    assert reason("broken.pdf").startswith("damaged PDF")
    assert reason("anim.gif") == "unsupported format: GIF"
    assert "wrong extension" in read_photo(root / "png_named.jpg").warnings[0]


def test_sniff_and_hash_never_raise_anything_but_media_error(corpus):
    root, expected = corpus
    for name in expected:
        for fn in (sniff_kind, content_hash):
            try:
                fn(root / name)
            except MediaError as e:
                assert e.reason
    assert content_hash(root / "dup_a.jpg") == content_hash(root / "dup_b.jpg")


def test_thumbnails_over_corpus(corpus, tmp_path):
    root, expected = corpus
    made = 0
    for name, outcome in expected.items():
        p = root / name
        try:
            h = content_hash(p)
        except MediaError:
            continue
        try:
            thumb = make_thumbnail(p, tmp_path, h)
        except MediaError as e:
            assert e.reason
            assert outcome == "error" or kind_of(p) is None, name
            continue
        if kind_of(p) == "document":
            assert thumb is None
        elif thumb is not None:
            made += 1
            assert thumb.is_file() and thumb.stat().st_size > 0
    assert made >= 10


def test_walk_over_corpus_terminates_and_reports(corpus):
    root, expected = corpus
    items = list(walk(root))
    entries = {e.path.relative_to(root).as_posix() for e in items if isinstance(e, ScanEntry)}
    problems = {p.path.relative_to(root).as_posix(): p.reason
                for p in items if isinstance(p, ScanProblem)}
    assert "loop/inside.txt" in entries
    assert SYMLINK_LOOP in problems  # the loop is noticed, not followed forever
    assert problems[DANGLING] == "dangling symlink"
    assert "anim.gif" not in entries and "folder.jpg" not in entries
    assert not any(e.endswith(".xmp") for e in entries)
    assert "unicode/line\nbreak.txt" in entries
    # Every regular supported file of the corpus shows up (or as a problem, if unreadable).
    for name in expected:
        p = root / name
        if p.is_file() and kind_of(p) is not None:
            assert name in entries or name in problems, name
    assert items == list(walk(root))  # deterministic
