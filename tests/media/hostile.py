"""A corpus of broken and hostile files for the media readers (and the importer's tests).

``make_hostile_corpus(dir)`` writes the files and returns ``{relative path: expected}`` where
expected is 'error' (the reader must raise MediaError with a reason), 'ok' (reads, no
warnings) or 'warning' (reads, with at least one warning).  Everything is generated here --
no binary fixtures in the repo -- and nothing large is ever allocated (the decompression-bomb
PNG only *claims* 40000x40000 in a hand-made header).

Besides the files in the returned dict, the corpus holds a directory symlink loop
(``SYMLINK_LOOP``) and a GIF, which the scanner must skip rather than report as readable.
"""

from __future__ import annotations

import io
import os
import struct
import unicodedata
import zlib
from pathlib import Path

from PIL import Image
from pypdf import PdfWriter

SYMLINK_LOOP = "loop/back_to_loop"
DANGLING = "dangling.jpg"
UNREADABLE = "no_permission.jpg"

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF
 xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description
 xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:subject><rdf:Bag><rdf:li>&lol9;</rdf:li>
</rdf:Bag></dc:subject></rdf:Description></rdf:RDF></x:xmpmeta>
"""


def is_root() -> bool:
    """Root ignores file permissions, so a chmod-000 file stays readable."""
    return hasattr(os, "geteuid") and os.geteuid() == 0


def jpeg_bytes(size: tuple[int, int] = (64, 48), mode: str = "RGB", **save: object) -> bytes:
    buf = io.BytesIO()
    img = Image.new(mode, size, "red" if mode == "RGB" else 128)
    img.save(buf, "JPEG", **save)
    return buf.getvalue()


def png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(width: int = 40000, height: int = 40000) -> bytes:
    """A tiny PNG whose IHDR claims huge dimensions (no pixel data worth the name)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 16)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(
        b"IEND", b""
    )


def gps_exif(lat: float, lon: float, when: str | None = None) -> Image.Exif:
    """EXIF with a GPS IFD (degree/minute/second rationals + N/S/E/W refs)."""
    from PIL.TiffImagePlugin import IFDRational

    def dms(v: float) -> tuple[IFDRational, IFDRational, IFDRational]:
        v = abs(v)
        d = int(v)
        m = int((v - d) * 60)
        s = round(((v - d) * 60 - m) * 60 * 1000)
        return IFDRational(d, 1), IFDRational(m, 1), IFDRational(s, 1000)

    exif = Image.Exif()
    exif[0x010F] = "TestMake"
    exif[0x0110] = "TestCam 1"
    if when:
        exif.get_ifd(0x8769)[0x9003] = when
    gps = exif.get_ifd(0x8825)
    gps[1] = "N" if lat >= 0 else "S"
    gps[2] = dms(lat)
    gps[3] = "E" if lon >= 0 else "W"
    gps[4] = dms(lon)
    return exif


def text_pdf(pages: list[str], title: str | None = None) -> bytes:
    """A minimal, valid PDF with real text (Helvetica) on each page, written by hand."""
    objs: list[bytes] = []
    n = len(pages)
    font_id = 3 + 2 * n
    info_id = font_id + 1
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(n))
    objs.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objs.append(f"<< /Type /Pages /Kids [{kids}] /Count {n} >>".encode())
    for i, text in enumerate(pages):
        safe = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        stream = f"BT /F1 18 Tf 72 720 Td ({safe}) Tj ET".encode("latin-1")
        objs.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {4 + 2 * i} 0 R "
            f"/Resources << /Font << /F1 {font_id} 0 R >> >> >>".encode()
        )
        objs.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objs.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    objs.append(f"<< /Title ({title or ''}) >>".encode("latin-1"))
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    info = f" /Info {info_id} 0 R" if title else ""
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R{info} >>\n".encode()
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def blank_pdf(encrypt_with: str | None = None) -> bytes:
    w = PdfWriter()
    w.add_blank_page(width=200, height=200)
    w.add_metadata({"/Title": "Blank"})
    if encrypt_with is not None:
        w.encrypt(user_password=encrypt_with, algorithm="RC4-128")
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


def make_hostile_corpus(root: str | os.PathLike[str]) -> dict[str, str]:
    """Write the corpus under ``root`` and return ``{relative path: 'error'|'ok'|'warning'}``."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    expected: dict[str, str] = {}

    def put(name: str, data: bytes, outcome: str) -> Path:
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        expected[name] = outcome
        return p

    good_jpeg = jpeg_bytes((120, 80))
    put("truncated.jpg", good_jpeg[: len(good_jpeg) // 2], "error")
    put("empty.jpg", b"", "error")
    put("empty.txt", b"", "error")
    put("png_named.jpg", png_bytes(Image.new("RGB", (32, 32), "blue")), "warning")
    put("text_named.jpg", b"just some text, not an image\n", "error")
    put("bomb.png", bomb_png(), "error")
    put("cmyk.jpg", jpeg_bytes((64, 64), mode="CMYK"), "ok")
    sixteen = Image.fromarray(
        __import__("numpy").arange(64 * 64, dtype="uint16").reshape(64, 64) * 16
    )
    assert sixteen.mode.startswith("I;16")
    put("sixteen_bit.png", png_bytes(sixteen), "ok")
    put(
        "garbage_exif.jpg",
        jpeg_bytes(exif=b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\xff\xff" + bytes(range(256)) * 2),
        "warning",
    )
    put("gps_out_of_range.jpg", jpeg_bytes(exif=gps_exif(123.0, 10.0).tobytes()), "warning")
    zero_date = Image.Exif()
    zero_date.get_ifd(0x8769)[0x9003] = "0000:00:00 00:00:00"
    put("zero_date.jpg", jpeg_bytes(exif=zero_date.tobytes()), "warning")
    put("cp1252.txt", "Café crème – “quoted” naïve\n".encode("cp1252"), "warning")
    put("utf16_bom.txt", "Grüße aus Köln\n".encode("utf-16"), "ok")
    put("nul_bytes.txt", b"text\x00with\x00nuls\n", "warning")
    put("encrypted.pdf", blank_pdf(encrypt_with="secret"), "error")
    put("empty_password.pdf", blank_pdf(encrypt_with=""), "ok")
    put("broken.pdf", b"%PDF-1.7\n" + bytes(range(256)) * 8, "error")
    good_pdf = text_pdf(["Hello tagging world", "Second page"], title="Hello")
    put("truncated.pdf", good_pdf[: int(len(good_pdf) * 0.4)], "error")
    put("not_a_pdf.pdf", b"<html>this is not a pdf</html>\n", "error")
    put("pdf_named.txt", good_pdf, "warning")
    put("valid.pdf", good_pdf, "ok")
    put("blank.pdf", blank_pdf(), "ok")

    p = put(UNREADABLE, good_jpeg, "ok" if is_root() else "error")
    os.chmod(p, 0)

    put("unicode/🎉 party 🎈.jpg", good_jpeg, "ok")
    put("unicode/صورة.png", png_bytes(Image.new("RGB", (8, 8))), "ok")
    put(unicodedata.normalize("NFC", "unicode/café.txt"), b"NFC name\n", "ok")
    put(unicodedata.normalize("NFD", "unicode/café.md"), b"# NFD name\n", "ok")
    put("unicode/line\nbreak.txt", b"newline in the name\n", "ok")
    put("unicode/" + "long" * 60 + ".txt", b"a 244-byte name\n", "ok")

    (root / "loop").mkdir(exist_ok=True)
    put("loop/inside.txt", b"inside the loop\n", "ok")
    os.symlink("..", root / SYMLINK_LOOP)
    os.symlink("does-not-exist.jpg", root / DANGLING)
    expected[DANGLING] = "error"

    put("dup_a.jpg", good_jpeg, "ok")
    put("dup_b.jpg", good_jpeg, "ok")
    line = b"The quick brown fox jumps over the lazy dog. " * 2 + b"\n"
    put("huge.txt", line * (5_000_000 // len(line)), "ok")

    buf = io.BytesIO()
    Image.new("RGB", (40, 30), "green").save(buf, "WEBP")
    put("photo.webp", buf.getvalue(), "ok")
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), "yellow").save(buf, "TIFF")
    put("photo.tif", buf.getvalue(), "ok")
    buf = io.BytesIO()
    Image.new("RGBA", (40, 30), (0, 0, 255, 128)).save(buf, "PNG")
    put("alpha.png", buf.getvalue(), "ok")
    put("truncated.png", png_bytes(Image.radial_gradient("L").convert("RGB"))[:3000], "error")

    put(
        "page.html",
        b'<html><head><meta charset="no-such-charset"><title>Caf\xe9 page</title>'
        b"<script>var hidden = 'SCRIPTTEXT';</script><style>p{color:red}</style></head>"
        b"<body><h1>Heading</h1><p>Visible &amp; caf\xe9</p></body></html>",
        "warning",
    )
    put("notes.md", "# Holiday notes\n\nSwimming & hiking, 🏖️\n".encode(), "ok")

    put("laughs.jpg", good_jpeg, "warning")
    (root / "laughs.jpg.xmp").write_bytes(BILLION_LAUGHS)
    put("notxml.jpg", good_jpeg, "warning")
    (root / "notxml.xmp").write_bytes(b"\x00\x01 this is not XML at all <<<")

    buf = io.BytesIO()
    Image.new("P", (10, 10)).save(buf, "GIF")
    put("anim.gif", buf.getvalue(), "error")  # unsupported: the scanner skips it
    (root / "folder.jpg").mkdir()
    expected["folder.jpg"] = "error"  # a directory with an image name
    return expected
