"""Read a document's title and text: plain text, Markdown, HTML and PDF.

Text is capped at ``MAX_CHARS`` and, for PDFs, taken from the first ``MAX_PDF_PAGES`` pages
only: the app needs an excerpt and key words for suggestions, not a full-text index, and this
keeps a 200-page PDF well under a second.  The page count is still exact.
The caps are our choice, not faults of the file, so they produce no warnings.
"""

from __future__ import annotations

import codecs
import logging
import os
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from tagassist.media.errors import MediaError
from tagassist.media.kinds import sniff_kind

MAX_CHARS = 200_000
MAX_PDF_PAGES = 20
MAX_TITLE = 200
# UTF-8 needs at most 4 bytes per character; reading more than this could not add text.
_MAX_READ = MAX_CHARS * 4


@dataclass(frozen=True)
class DocumentInfo:
    """``pages`` is set for PDFs only; ``text`` is at most MAX_CHARS characters."""

    format: str
    title: str | None
    text: str
    pages: int | None = None
    warnings: tuple[str, ...] = ()


def read_document(path: str | os.PathLike[str]) -> DocumentInfo:
    """Read one document.  Raises only MediaError."""
    path = Path(path)
    sniffed = sniff_kind(path)  # empty/unreadable/mislabelled files fail here
    warnings = [sniffed.warning] if sniffed.warning else []
    if sniffed.kind != "document":
        raise MediaError(f"not a document: file is {sniffed.format} data")
    if sniffed.format == "PDF":
        return _read_pdf(path, warnings)
    data, truncated = _read_capped(path)
    if sniffed.format == "HTML":
        text_in = _decode(data, truncated, warnings, declared=_html_charset(data, warnings))
        title, text = _html_text(text_in)
    else:
        text = _decode(data, truncated, warnings)
        title = _text_title(text, markdown=sniffed.format == "MARKDOWN")
    if "\x00" in text:
        warnings.append("file contains binary data (NUL bytes removed)")
        text = text.replace("\x00", "")
    # The cap is our choice, not a fault of the file: no warning for it.
    text = text[:MAX_CHARS]
    return DocumentInfo(sniffed.format, title, text, None, tuple(warnings))


def _read_capped(path: Path) -> tuple[bytes, bool]:
    try:
        with open(path, "rb") as f:
            data = f.read(_MAX_READ + 1)
    except PermissionError as e:
        raise MediaError("permission denied") from e
    except OSError as e:
        raise MediaError(f"cannot read file: {e.strerror or e}") from e
    return data[:_MAX_READ], len(data) > _MAX_READ


def _decode(data: bytes, truncated: bool, warnings: list[str], declared: str | None = None) -> str:
    """UTF-8 (BOMs honoured), else the declared charset, else cp1252, else latin-1."""
    if data.startswith(codecs.BOM_UTF8):
        return _incremental("utf-8-sig", data, truncated) or ""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = _incremental("utf-16", data, truncated)
        if text is not None:
            return text
    encodings = ["utf-8"]
    if declared and declared not in encodings:
        encodings.append(declared)
    encodings += ["cp1252"]
    for enc in encodings:
        text = _incremental(enc, data, truncated)
        if text is not None:
            if enc != "utf-8":
                warnings.append(f"not UTF-8; decoded as {enc}")
            return text
    warnings.append("not UTF-8; decoded as latin-1")
    return data.decode("latin-1")  # cannot fail: every byte is a character


def _incremental(encoding: str, data: bytes, truncated: bool) -> str | None:
    # final=False when we cut the file short: a multi-byte character split by the cut is dropped
    # instead of making the whole file look like it is not UTF-8.
    try:
        return codecs.getincrementaldecoder(encoding)().decode(data, final=not truncated)
    except (UnicodeDecodeError, LookupError):
        return None


def _text_title(text: str, markdown: bool) -> str | None:
    lines = [ln.strip() for ln in text[:20_000].splitlines()]
    if markdown:
        for ln in lines:
            m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", ln)
            if m and m.group(1):
                return m.group(1)[:MAX_TITLE]
    for ln in lines:
        if ln:
            if markdown:
                ln = ln.lstrip("#>*- ").strip() or ln
            return ln[:MAX_TITLE]
    return None


# ---------------------------------------------------------------- HTML

_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.I)


def _html_charset(data: bytes, warnings: list[str]) -> str | None:
    m = _CHARSET_RE.search(data[:4096])
    if not m:
        return None
    name = m.group(1).decode("ascii", "replace").lower()
    try:
        return codecs.lookup(name).name
    except LookupError:
        warnings.append(f"unknown charset {name!r} declared (ignored)")
        return None


class _TextExtractor(HTMLParser):
    _SKIP = frozenset({"script", "style", "noscript", "template", "svg", "head"})
    _BLOCK = frozenset({
        "p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article",
        "header", "footer", "blockquote", "pre", "table", "ul", "ol", "dt", "dd", "hr",
    })

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title_parts: list[str] = []
        self.h1_parts: list[str] = []
        self._skip = 0
        self._in_title = False
        self._in_h1 = False
        self.size = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in self._SKIP:
            self._skip += 1
        elif tag == "h1":
            self._in_h1 = True
        if tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in self._SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag == "h1":
            self._in_h1 = False
        if tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title_parts.append(data)
            return
        if self._skip:
            return
        if self._in_h1:
            self.h1_parts.append(data)
        self.parts.append(data)
        self.size += len(data)


def _squeeze(text: str) -> str:
    lines = (re.sub(r"[ \t\r\f\v\u00a0]+", " ", ln).strip() for ln in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _html_text(html: str) -> tuple[str | None, str]:
    p = _TextExtractor()
    try:
        # Feed in slices so that the MAX_CHARS cap also bounds the parsing work.
        for i in range(0, len(html), 65536):
            p.feed(html[i : i + 65536])
            if p.size > MAX_CHARS:
                break
        p.close()
    except Exception:  # noqa: BLE001, S110 - html.parser is lenient; keep what we got
        pass
    title = _squeeze("".join(p.title_parts)) or _squeeze("".join(p.h1_parts)) or None
    return (title[:MAX_TITLE] if title else None), _squeeze("".join(p.parts))


# ---------------------------------------------------------------- PDF


def _read_pdf(path: Path, warnings: list[str]) -> DocumentInfo:
    # pypdf is imported here: it is the slowest import of the readers and only PDFs need it.
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError

    # pypdf logs every repair it makes; those are our warnings' business, not the console's.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 2048))
            tail = f.read()
    except PermissionError as e:
        raise MediaError("permission denied") from e
    except OSError as e:
        raise MediaError(f"cannot read file: {e.strerror or e}") from e
    if b"%%EOF" not in tail:
        warnings.append("PDF looks truncated (no %%EOF marker)")

    try:
        reader = PdfReader(path, strict=False)
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except (DependencyError, NotImplementedError) as e:
                raise MediaError("encrypted PDF (unsupported encryption)") from e
            if not ok:
                raise MediaError("encrypted PDF")
        pages = len(reader.pages)
    except MediaError:
        raise
    except FileNotDecryptedError as e:
        raise MediaError("encrypted PDF") from e
    except RecursionError as e:
        raise MediaError("damaged PDF: page tree too deep") from e
    except Exception as e:  # noqa: BLE001 - pypdf raises many types on hostile input
        raise MediaError(f"damaged PDF: {_short(e)}") from e
    if pages == 0:
        raise MediaError("damaged PDF: no pages")

    title = None
    try:
        meta = reader.metadata
        if meta is not None and meta.title:
            title = str(meta.title).strip()[:MAX_TITLE] or None
    except Exception as e:  # noqa: BLE001
        warnings.append(f"PDF metadata unreadable ({_short(e)})")

    chunks: list[str] = []
    total = 0
    failed = 0
    for i in range(min(pages, MAX_PDF_PAGES)):
        try:
            t = reader.pages[i].extract_text() or ""
        except Exception:  # noqa: BLE001 - one bad page must not lose the others
            failed += 1
            continue
        chunks.append(t)
        total += len(t)
        if total >= MAX_CHARS:
            break
    if failed:
        warnings.append(f"text of {failed} page(s) unreadable")
    text = _squeeze("\n".join(chunks))[:MAX_CHARS]
    if title is None:
        title = _text_title(text, markdown=False)
    return DocumentInfo("PDF", title, text, pages, tuple(warnings))


def _short(e: BaseException) -> str:
    text = str(e).strip() or type(e).__name__
    return text if len(text) <= 120 else text[:117] + "..."
