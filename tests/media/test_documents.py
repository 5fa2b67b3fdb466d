"""read_document for text, Markdown, HTML and PDF."""

from __future__ import annotations

import time

import pytest

from tagassist.media.documents import MAX_CHARS, read_document
from tagassist.media.errors import MediaError
from tests.media.hostile import blank_pdf, text_pdf


def test_markdown_title_is_first_heading(tmp_path):
    p = tmp_path / "n.md"
    p.write_text("intro line\n\n## Trip to Köln ##\ntext", encoding="utf-8")
    d = read_document(p)
    assert (d.format, d.title, d.pages) == ("MARKDOWN", "Trip to Köln", None)
    assert "intro line" in d.text and d.warnings == ()


def test_text_title_is_first_line_and_cp1252_fallback(tmp_path):
    p = tmp_path / "n.txt"
    p.write_bytes("\n  Café – notes\nmore".encode("cp1252"))
    d = read_document(p)
    assert d.title == "Café – notes"
    assert d.warnings == ("not UTF-8; decoded as cp1252",)


def test_huge_text_is_capped_without_breaking_utf8(tmp_path):
    p = tmp_path / "big.txt"
    p.write_text("ü" * (MAX_CHARS * 3), encoding="utf-8")
    d = read_document(p)
    assert len(d.text) == MAX_CHARS and set(d.text) == {"ü"} and d.warnings == ()


def test_html_visible_text_only(tmp_path):
    p = tmp_path / "p.html"
    p.write_text(
        "<html><head><title> My  Page </title><style>.x{}</style></head><body>"
        "<script>alert('SCRIPT')</script><h1>Head</h1><p>Body &amp; more</p></body></html>",
        encoding="utf-8",
    )
    d = read_document(p)
    assert d.title == "My Page"
    assert "Body & more" in d.text and "SCRIPT" not in d.text and ".x" not in d.text


def test_html_declared_charset_is_used(tmp_path):
    p = tmp_path / "p.htm"
    p.write_bytes(b'<meta charset="iso-8859-15"><p>\xa4uro</p>')  # 0xA4 is the euro sign
    d = read_document(p)
    assert "€uro" in d.text


def test_pdf_text_title_and_pages(tmp_path):
    p = tmp_path / "d.pdf"
    p.write_bytes(text_pdf(["Hello tagging world", "Second (page)"], title="My PDF"))
    d = read_document(p)
    assert (d.format, d.title, d.pages) == ("PDF", "My PDF", 2)
    assert "Hello tagging world" in d.text and "Second (page)" in d.text


def test_pdf_without_title_uses_first_line(tmp_path):
    p = tmp_path / "d.pdf"
    p.write_bytes(text_pdf(["First line here"]))
    assert read_document(p).title == "First line here"


def test_200_page_pdf_is_fast(tmp_path):
    p = tmp_path / "long.pdf"
    p.write_bytes(text_pdf([f"Page number {i} about gardening" for i in range(200)]))
    t = time.perf_counter()
    d = read_document(p)
    assert time.perf_counter() - t < 5
    assert d.pages == 200 and "Page number 0 " in d.text


def test_encrypted_pdf(tmp_path):
    p = tmp_path / "e.pdf"
    p.write_bytes(blank_pdf(encrypt_with="pw"))
    with pytest.raises(MediaError, match="^encrypted PDF$"):
        read_document(p)
    p.write_bytes(blank_pdf(encrypt_with=""))
    assert read_document(p).pages == 1


def test_image_is_not_a_document(tmp_path):
    p = tmp_path / "x.jpg"
    p.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 20)
    with pytest.raises(MediaError, match="not a document"):
        read_document(p)
