"""walk(): order, hidden entries, sidecars, symlink loops, odd names."""

from __future__ import annotations

import os

from tagassist.media.scan import ScanEntry, ScanProblem, walk


def _tree(root):
    for rel, data in {
        "b.jpg": b"x", "a.txt": b"hello", "sub/c.pdf": b"%PDF", "sub/c.pdf.xmp": b"<x/>",
        ".hidden/h.jpg": b"x", "sub/.dot.jpg": b"x", "sub/deeper/d.md": b"#",
        "sub/movie.mp4": b"x", "z/é 🎉\nname.PNG": b"x",
    }.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)


def test_order_kinds_and_skips(tmp_path):
    _tree(tmp_path)
    items = list(walk(tmp_path))
    assert all(isinstance(i, ScanEntry) for i in items)
    rel = [i.path.relative_to(tmp_path).as_posix() for i in items]
    assert rel == ["a.txt", "b.jpg", "sub/c.pdf", "sub/deeper/d.md", "z/é 🎉\nname.PNG"]
    assert [i.kind for i in items] == ["document", "photo", "document", "document", "photo"]
    assert items[0].size == 5 and items[0].mtime > 0


def test_symlink_loop_and_followed_dir_symlink(tmp_path):
    _tree(tmp_path)
    os.symlink(tmp_path, tmp_path / "sub" / "loop")
    outside = tmp_path.parent / (tmp_path.name + "-outside")
    outside.mkdir()
    (outside / "o.jpg").write_bytes(b"x")
    os.symlink(outside, tmp_path / "linked")
    items = list(walk(tmp_path))
    entries = [i.path.relative_to(tmp_path).as_posix() for i in items if isinstance(i, ScanEntry)]
    assert "linked/o.jpg" in entries
    assert len(entries) == len(set(entries)) == 6
    assert [p.path.name for p in items if isinstance(p, ScanProblem)] == ["loop"]


def test_missing_root_and_file_root(tmp_path):
    missing = tmp_path / "nope"
    assert list(walk(missing)) == [ScanProblem(missing, "No such file or directory")]
    (tmp_path / "f.jpg").write_bytes(b"x")
    assert list(walk(tmp_path / "f.jpg"))[0].reason == "not a directory"


def test_unreadable_dir_is_a_problem(tmp_path):
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return  # root reads everything: nothing to observe
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "x.jpg").write_bytes(b"x")
    os.chmod(locked, 0)
    try:
        assert list(walk(tmp_path)) == [ScanProblem(locked, "permission denied")]
    finally:
        os.chmod(locked, 0o755)
