"""Build the bundled sample library in ``resources/sample_library/`` (run once; output is committed).

Pixels: public-domain / CC0 photographs shipped inside the scikit-image wheel (``skimage/data``);
their licenses are listed in ``resources/SAMPLE_LIBRARY_ATTRIBUTION.md``.  Those files carry no
EXIF, so this script writes capture times and GPS positions that are *illustrative* (plausible for
the subject, not the original shot's) so that the import pipeline — time, place, season, embedded
XMP keywords, sidecars — has something real to read.  Documents are our own short texts.

Usage::

    pip download --no-deps scikit-image==0.26.0 -d /tmp/sk && cd /tmp/sk && unzip -o *.whl 'skimage/data/*'
    python scripts/build_sample_library.py /tmp/sk/skimage/data
"""

from __future__ import annotations

import sys
import zlib
from fractions import Fraction
from pathlib import Path

from PIL import Image
from PIL.TiffImagePlugin import IFDRational

OUT = Path(__file__).resolve().parents[1] / "resources" / "sample_library"

# (source file, target, capture time, (lat, lon) or None, flat keywords, hierarchical, sidecar?)
PHOTOS = [
    ("chelsea.png", "2019-spring-berkeley/chelsea-the-cat.jpg", "2019:03:10 16:20:05",
     (37.8716, -122.2727), ["cat"], ["animals|pets|cat"], False),
    ("coffee.png", "2018-montreal/espresso.jpg", "2018:11:03 09:15:40",
     (45.5231, -73.5817), ["coffee"], [], False),
    ("astronaut.png", "nasa/eileen-collins.jpg", "2021:06:05 11:02:00",
     (29.5593, -95.0900), [], [], False),
    ("rocket.jpg", "nasa/launch.jpg", "2020:05:30 15:22:45",
     (28.3922, -80.6077), [], [], False),
    ("camera.png", "street/cameraman.jpg", "2017:09:16 18:40:10",
     (40.1106, -88.2073), [], [], False),
    ("hubble_deep_field.jpg", "nasa/hubble-deep-field.jpg", "2014:06:03 22:10:00",
     None, ["space"], [], False),
    ("grass.png", "2023-amsterdam/grass.jpg", "2023:04:22 13:05:30",
     (52.3676, 4.9041), [], ["nature|plants|grass"], True),
    ("brick.png", "2023-amsterdam/brick-wall.jpg", "2023:04:22 13:07:12",
     (52.3702, 4.8952), [], [], False),
]


def _rational(value: float) -> IFDRational:
    f = Fraction(value).limit_denominator(10_000)
    return IFDRational(f.numerator, f.denominator)


def _dms(deg: float) -> tuple[IFDRational, ...]:
    deg = abs(deg)
    d = int(deg)
    m = int((deg - d) * 60)
    s = (deg - d - m / 60) * 3600
    return (IFDRational(d, 1), IFDRational(m, 1), _rational(round(s, 4)))


def _exif(when: str, gps: tuple[float, float] | None) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "TagAssist sample"  # Make
    exif[0x0110] = "illustrative metadata"  # Model
    exif[0x0132] = when  # DateTime
    ifd = exif.get_ifd(0x8769)
    ifd[0x9003] = when  # DateTimeOriginal
    ifd[0x9004] = when  # DateTimeDigitized
    if gps:
        lat, lon = gps
        g = exif.get_ifd(0x8825)
        g[0] = b"\x02\x03\x00\x00"
        g[1] = "N" if lat >= 0 else "S"
        g[2] = _dms(lat)
        g[3] = "E" if lon >= 0 else "W"
        g[4] = _dms(lon)
    return exif


def _xmp(flat: list[str], hier: list[str]) -> bytes:
    def bag(items: list[str]) -> str:
        return "".join(f"<rdf:li>{t}</rdf:li>" for t in items)

    leaves = sorted(set(flat) | {h.split("|")[-1] for h in hier})
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:lr="http://ns.adobe.com/lightroom/1.0/">'
        f"<dc:subject><rdf:Bag>{bag(leaves)}</rdf:Bag></dc:subject>"
        + (f"<lr:hierarchicalSubject><rdf:Bag>{bag(hier)}</rdf:Bag></lr:hierarchicalSubject>"
           if hier else "")
        + '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    ).encode("utf-8")


def _pdf(title: str, lines: list[str]) -> bytes:
    """A minimal valid one-page PDF with real text (Helvetica), written by hand."""
    text = "BT /F1 12 Tf 72 740 Td 16 TL " + " ".join(
        "(" + ln.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") '"
        for ln in lines) + " ET"
    stream = zlib.compress(text.encode("latin-1"))
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream
        + b"\nendstream",
        b"<< /Title (" + title.encode("latin-1") + b") /Producer (TagAssist sample) >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objs) + 1, xref)
    return bytes(out)


DOCUMENTS = {
    "notes/trip-to-amsterdam.md": (
        "# Trip to Amsterdam\n\nA spring weekend in Amsterdam: canals, old brick houses and the\n"
        "first warm day in the park. Photos of the grass and a brick wall near the Jordaan.\n\n"
        "- visit the Rijksmuseum\n- coffee at a canal-side cafe\n- cycle to the Vondelpark\n"
    ),
    "notes/brewing-espresso.txt": (
        "Brewing espresso at home\n\nGrind 18 g of coffee fine, tamp evenly and pull about 36 g of\n"
        "espresso in 25 to 30 seconds. Sour means under-extracted: grind finer. Bitter means\n"
        "over-extracted: grind coarser. Steam the milk for a flat white.\n"
    ),
    "notes/space-reading-list.html": (
        "<!doctype html><html><head><meta charset='utf-8'><title>Space reading list</title>"
        "<style>body{font-family:sans-serif}</style></head><body><h1>Space reading list</h1>"
        "<p>Books about the Hubble Space Telescope, the Space Shuttle programme and the first "
        "woman to command a shuttle mission.</p><script>console.log('ignored')</script>"
        "</body></html>\n"
    ),
}

PDFS = {
    "papers/tagging-notes.pdf": ("Notes on personal tag recommendation", [
        "Notes on personal tag recommendation",
        "",
        "People tag photos with their own words. A good assistant ranks the tags",
        "a person is likely to use next, from the photo's content, its time and",
        "place, and the person's own history of tags. Accepting or rejecting a",
        "suggestion is a training signal for the next suggestion.",
    ]),
}


def main(skimage_data: str) -> None:
    src = Path(skimage_data)
    for name, target, when, gps, flat, hier, sidecar in PHOTOS:
        img = Image.open(src / name)
        img = img.convert("RGB") if img.mode not in ("RGB", "L") else img
        dest = OUT / target
        dest.parent.mkdir(parents=True, exist_ok=True)
        kwargs = {"exif": _exif(when, gps).tobytes(), "quality": 85, "optimize": True}
        if (flat or hier) and not sidecar:
            kwargs["xmp"] = _xmp(flat, hier)
        img.save(dest, "JPEG", **kwargs)
        if sidecar:
            dest.with_suffix(".xmp").write_bytes(_xmp(flat, hier))
    for rel, text in DOCUMENTS.items():
        (OUT / rel).parent.mkdir(parents=True, exist_ok=True)
        (OUT / rel).write_text(text, encoding="utf-8")
    for rel, (title, lines) in PDFS.items():
        (OUT / rel).parent.mkdir(parents=True, exist_ok=True)
        (OUT / rel).write_bytes(_pdf(title, lines))
    print(f"wrote sample library to {OUT}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/skdl/skimage/data")
