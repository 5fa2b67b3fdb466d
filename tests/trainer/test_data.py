from __future__ import annotations

from pathlib import Path

import pytest

from trainer import datasets
from trainer.data import from_records, p_core, parse_time, read_posts_tsv


def test_parse_time_formats():
    assert parse_time("1162160415") == 1162160415.0
    assert parse_time("1162160415000") == 1162160415.0
    assert parse_time("1970-01-02") == 86400.0
    assert parse_time("1970-01-01T00:01:00Z") == 60.0


def test_generic_tsv_with_header_latin1_and_item_text(tmp_path: Path):
    p = tmp_path / "posts.tsv"
    p.write_bytes("user\titem\ttag\ttimestamp\nA\tx\tcaf\xe9\t2020-01-01\nA\tx\tfoo\t1577836800000\n"
                  "B\ty\tfoo\t1577836800\n\nA\tx\tfoo\t1\n".encode("latin-1"))
    t = tmp_path / "text.tsv"
    t.write_text("x\tan item\ny\tanother\n", encoding="utf-8")
    d = read_posts_tsv(p, t)
    assert d.users == ["A", "B"] and d.tags == ["café", "foo"]
    assert len(d) == 3  # duplicate (A, x, foo) kept once, with its earliest time
    assert d.time.min() == 1.0
    assert d.item_text == {"x": "an item", "y": "another"}


def test_generic_tsv_bad_line(tmp_path: Path):
    p = tmp_path / "bad.tsv"
    p.write_text("A\tx\tfoo\t1\nA\tx\n")
    with pytest.raises(ValueError, match="bad.tsv:2"):
        read_posts_tsv(p)


def test_p_core_is_iterative():
    # u0..u2 each tag items a,b with tag t; u3 has one post that holds item c alive in one pass
    recs = [(f"u{u}", i, "t", 0.0) for u in range(3) for i in "ab"]
    recs += [("u3", "c", "t", 0.0), ("u0", "c", "s", 0.0), ("u1", "c", "s", 0.0)]
    d = p_core(from_records(recs), 2)
    # u3 (1 post) goes -> c keeps u0,u1 -> still >= 2; tag s is on 2 posts
    assert d.stats() == {"users": 3, "items": 3, "tags": 2, "assignments": 8, "posts": 8}
    d3 = p_core(from_records(recs), 3)
    assert d3.stats()["posts"] == 0  # u2 goes, then a and b, then everything


LASTFM = datasets.data_dir() / "hetrec2011-lastfm-2k"


@pytest.mark.skipif(not LASTFM.is_dir(), reason="shared data folder absent")
def test_lastfm_cores_match_readme():
    d = datasets.load("lastfm")
    assert d.stats() == dict(users=1892, items=12523, tags=9749, assignments=186479, posts=71064)
    assert "español" in d.tags  # tags.dat decoded as latin-1
    s5 = p_core(d, 5).stats()
    assert tuple(s5.values()) == (981, 3496, 1745, 129228, 49718)
    s10 = p_core(d, 10).stats()
    assert tuple(s10.values()) == (614, 1457, 814, 87285, 32805)


def test_generic_tsv_crlf_and_empty_tag_fields(tmp_path: Path):
    p = tmp_path / "windows.tsv"
    p.write_bytes(b"A\tx\tfoo\t1\r\nA\tx\t \t2\r\nB\ty\tbar\t3\r\n")
    d = read_posts_tsv(p)
    assert sorted(d.tags) == ["bar", "foo"] and len(d) == 2
