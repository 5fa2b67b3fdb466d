"""Per-user folders and bundled resources."""

from __future__ import annotations

from tagassist.paths import DB_NAME, LibraryPaths, sample_library_dir
from tests import sample


def test_sample_library_is_packaged_data():
    root = sample_library_dir()
    photos = sorted(p.name for p in root.rglob("*.jpg"))
    docs = sorted(p.suffix for p in root.rglob("*") if p.suffix in {".md", ".txt", ".pdf", ".html"})
    assert len(photos) == 30 and docs == [".html", ".md", ".pdf", ".txt"]
    assert (sample.PHOTOS, sample.DOCUMENTS, sample.ITEMS) == (30, 4, 34)  # what tests expect
    assert (root.parent / "SAMPLE_LIBRARY_ATTRIBUTION.md").is_file()


def test_library_paths_follow_flags_then_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("TAGASSIST_LIBRARY", str(tmp_path / "from-env"))
    monkeypatch.setenv("TAGASSIST_CACHE_DIR", str(tmp_path / "cache-env"))
    assert LibraryPaths.resolve().root == (tmp_path / "from-env").resolve()
    flagged = LibraryPaths.resolve(tmp_path / "flag")
    assert flagged.database == (tmp_path / "flag").resolve() / DB_NAME
    assert flagged.thumbnails == tmp_path / "cache-env" / "thumbnails"
    # Pointing at the database file itself means its folder.
    assert LibraryPaths.resolve(tmp_path / "x" / DB_NAME).root == (tmp_path / "x").resolve()
