"""Measurements for the libexiv2 decision (docs/exiv2-decision.md): the ``exiv2`` bindings
(python-exiv2) against TagAssist's own XMP module and Pillow, on the same files.

exiv2 is not a dependency: run this with it on the path, from a throwaway environment, e.g.

    python3 -m venv /tmp/exiv2-venv && /tmp/exiv2-venv/bin/pip install exiv2==0.19.2
    PYTHONPATH=/tmp/exiv2-venv/lib/python3.11/site-packages \\
        .venv/bin/python -m tests.bench.bench_exiv2_vs_xmp --json

What it measures:

- round trips: keywords written by exiv2 into fresh, Lightroom-style and darktable-style
  sidecars, read back by exiftool, and whether every other field (exiftool's dump) is kept;
  and whether exiv2 reads the sidecars TagAssist writes;
- hostile sidecars (XXE, billion laughs, quadratic blow-up), each read by exiv2 in a child
  process with a 2 GiB address-space limit and a time limit: what came back, time, peak memory;
- speed: reading keywords from sidecars, reading capture time / GPS / camera from photos
  (JPEG, HEIC, CR2, ARW), writing keywords into sidecars.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from PIL import Image

from tagassist.media import xmp
from tagassist.media.errors import MediaError
from tests.media.hostile import BILLION_LAUGHS
from tests.media.test_exiftool_round_trips import DARKTABLE
from tests.media.test_sidecar_conventions import LIGHTROOM, XXE

DATA = Path(__file__).resolve().parents[1] / "data" / "formats"
FLAT = ["Köln", "a & b", "<x> \"quoted\"", "sunset"]
HIER = ["nature|sky|sunset", "places|Germany|Köln"]
KEYWORD_KEYS = {"XMP-dc:Subject", "XMP-lr:HierarchicalSubject"}
QUADRATIC = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "' + "A" * 50_000 + '">]>'
             '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
             'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
             'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:subject><rdf:Bag><rdf:li>'
             + "&a;" * 20_000 + "</rdf:li></rdf:Bag></dc:subject></rdf:Description></rdf:RDF>"
             "</x:xmpmeta>").encode()
HOSTILE = {"xxe": XXE.encode(), "billion_laughs": BILLION_LAUGHS, "quadratic": QUADRATIC}


def _exiv2():
    import exiv2

    exiv2.XmpParser.initialize()
    if os.environ.get("BENCH_EXIV2_LOG") != "warn":
        exiv2.LogMsg.setLevel(exiv2.LogMsg.Level.mute)
    return exiv2


# -- exiv2 operations ------------------------------------------------------------------------


def exiv2_write_keywords(path: Path, flat: list[str], hier: list[str]) -> None:
    """Replace dc:subject and lr:hierarchicalSubject of a sidecar (created if missing)."""
    exiv2 = _exiv2()
    if path.exists():
        image = exiv2.ImageFactory.open(str(path))
        image.readMetadata()
    else:
        image = exiv2.ImageFactory.create(exiv2.ImageType.xmp, str(path))
    data = image.xmpData()
    for key_name, values in (("Xmp.dc.subject", flat), ("Xmp.lr.hierarchicalSubject", hier)):
        key = exiv2.XmpKey(key_name)
        found = data.findKey(key)
        while found != data.end():
            data.erase(found)
            found = data.findKey(key)
        bag = exiv2.XmpArrayValue(exiv2.TypeId.xmpBag)
        for v in values:
            bag.read(v)
        data.add(key, bag)
    image.setXmpData(data)
    image.writeMetadata()


def exiv2_keywords(path: Path) -> tuple[list[str], list[str]]:
    exiv2 = _exiv2()
    image = exiv2.ImageFactory.open(str(path))
    image.readMetadata()
    out: dict[str, list[str]] = {"Xmp.dc.subject": [], "Xmp.lr.hierarchicalSubject": []}
    for datum in image.xmpData():
        key = datum.key()
        if key in out:
            value = datum.value()
            out[key] = [value.toString(i) for i in range(value.count())]
    return out["Xmp.dc.subject"], out["Xmp.lr.hierarchicalSubject"]


def exiv2_photo_fields(path: Path) -> tuple[str | None, bool, str | None]:
    """(DateTimeOriginal, has GPS latitude, Model) as exiv2 reads them from a photo."""
    exiv2 = _exiv2()
    image = exiv2.ImageFactory.open(str(path))
    image.readMetadata()
    exif = image.exifData()

    def get(key: str) -> str | None:
        found = exif.findKey(exiv2.ExifKey(key))
        return None if found == exif.end() else found.toString()

    return (get("Exif.Photo.DateTimeOriginal"), get("Exif.GPSInfo.GPSLatitude") is not None,
            get("Exif.Image.Model"))


def pillow_photo_fields(path: Path) -> tuple[str | None, bool, str | None]:
    """The same through Pillow's EXIF reader, as tagassist.media.photos reads JPEG/HEIC."""
    from tagassist.media.heif import ensure_reader

    ensure_reader("HEIF")
    with Image.open(path) as img:
        exif = img.getexif()
        return (exif.get_ifd(0x8769).get(0x9003), bool(exif.get_ifd(0x8825).get(2)),
                exif.get(0x0110))


def raw_photo_fields(path: Path) -> tuple[str | None, bool, str | None]:
    """The same through TagAssist's RAW directory reader (tagassist.media.raw)."""
    from tagassist.media import raw

    tags = raw._raw_tags(path)
    return tags.exif.get(0x9003), bool(tags.gps.get(2)), tags.ifd0.get(0x0110)


# -- exiftool --------------------------------------------------------------------------------


def exiftool(*args: str) -> dict:
    out = subprocess.run(["exiftool", "-j", "-charset", "utf8", *args], capture_output=True,
                         text=True, check=True, timeout=60)
    return json.loads(out.stdout)[0]


def dump(sidecar: Path) -> dict:
    data = exiftool("-G1", "-struct", "-XMP:all", str(sidecar))
    data.pop("SourceFile")
    data.pop("XMP-x:XMPToolkit", None)  # the writer's name
    return data


def as_list(value) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return [] if value is None else [str(v) for v in values]


def round_trips(work: Path) -> dict:
    results = {}
    for style, text in (("fresh", None), ("lightroom", LIGHTROOM), ("darktable", DARKTABLE)):
        side = work / f"{style}.xmp"
        if text is not None:
            side.write_text(text, encoding="utf-8")
        before = dump(side) if text is not None else {}
        exiv2_write_keywords(side, FLAT, HIER)
        after = dump(side)
        changed = sorted(k for k in before.keys() | after.keys()
                         if before.get(k) != after.get(k) and k not in KEYWORD_KEYS)
        results[f"exiv2_writes_{style}"] = {
            "exiftool_reads_keywords": (
                as_list(after.get("XMP-dc:Subject")) == FLAT
                and as_list(after.get("XMP-lr:HierarchicalSubject")) == HIER),
            "other_fields_changed": changed,
        }
    ours = work / "ours.jpg"
    Image.new("RGB", (8, 8)).save(ours)
    side = xmp.write_sidecar(ours, FLAT, HIER)
    results["exiv2_reads_tagassist_sidecar"] = exiv2_keywords(side) == (FLAT, HIER)
    return results


_CHILD = textwrap.dedent("""
    import resource, sys, time, json
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
    sys.path[:0] = {paths!r}
    from tests.bench.bench_exiv2_vs_xmp import exiv2_keywords
    from pathlib import Path
    t = time.perf_counter()
    try:
        flat, hier = exiv2_keywords(Path(sys.argv[1]))
        result = {{"outcome": "read", "keywords": [k[:60] for k in flat[:3]],
                   "longest_keyword": max(map(len, flat), default=0)}}
    except Exception as e:
        result = {{"outcome": "exception", "error": f"{{type(e).__name__}}: {{e}}"[-160:]}}
    result["seconds"] = round(time.perf_counter() - t, 3)
    with open("/proc/self/status") as f:
        result["peak_rss_mib"] = round(int(next(l.split()[1] for l in f
                                                 if l.startswith("VmHWM:"))) / 1024, 1)
    print(json.dumps(result))
""")
XPACKET = b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'


def _exiv2_child(path: Path, timeout_s: int) -> dict:
    """exiv2 reads ``path`` in a child (2 GiB address space); its log lines are kept."""
    child = _CHILD.format(paths=sys.path)
    env = dict(os.environ, BENCH_EXIV2_LOG="warn")
    try:
        proc = subprocess.run([sys.executable, "-c", child, str(path)], capture_output=True,
                              text=True, timeout=timeout_s, env=env)
    except subprocess.TimeoutExpired:
        return {"outcome": f"still running after {timeout_s} s (killed)"}
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        return {"outcome": f"child died (rc {proc.returncode})", "stderr": proc.stderr[-300:]}
    result = json.loads(lines[-1])
    result["log"] = " / ".join(proc.stderr.strip().splitlines())[-200:]
    return result


def _in_jpeg(packet: bytes) -> bytes | None:
    import io
    import struct

    payload = b"http://ns.adobe.com/xap/1.0/\x00" + packet
    if len(payload) > 65_000:
        return None  # does not fit one APP1 segment
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "JPEG")
    jpeg = buf.getvalue()
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


def hostile(work: Path, timeout_s: int = 120) -> dict:
    """Each hostile packet as given (``<?xml ...?><!DOCTYPE ...``), behind an xpacket header
    (what exiv2's sidecar sniffing looks for), and embedded in a JPEG; then exiv2 writing
    keywords over the xpacket-headed one."""
    results = {}
    for name, payload in HOSTILE.items():
        try:
            ours = f"refused, left alone: {xmp.parse_xmp(payload).subjects[:1]}"
        except MediaError as e:
            ours = f"refused: {e.reason}"
        body = payload[payload.index(b"<!DOCTYPE"):]
        variants = {"sidecar": (f"{name}.xmp", payload),
                    "xpacket_sidecar": (f"{name}_xp.xmp", XPACKET + body),
                    "embedded_in_jpeg": (f"{name}.jpg", _in_jpeg(XPACKET + body))}
        theirs = {}
        for variant, (file_name, data) in variants.items():
            if data is None:
                theirs[variant] = {"outcome": "not made (over one APP1 segment)"}
                continue
            (work / file_name).write_bytes(data)
            theirs[variant] = _exiv2_child(work / file_name, timeout_s)
        target = work / f"{name}_xp.xmp"
        before = target.read_bytes()
        try:
            exiv2_write_keywords(target, ["new"], [])
            theirs["write_over_xpacket_sidecar"] = (
                "left alone" if target.read_bytes() == before else
                f"overwritten (now {len(target.read_bytes())} bytes, the old content gone)")
        except Exception as e:  # noqa: BLE001
            theirs["write_over_xpacket_sidecar"] = f"refused: {e}"[:160]
        results[name] = {"tagassist": ours, "exiv2": theirs}
    return results


def _timed(fn, items, repeats: int = 3) -> float:
    """Best of ``repeats``: milliseconds per item."""
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        for item in items:
            fn(item)
        best = min(best, time.perf_counter() - t)
    return round(best / len(items) * 1e3, 3)


def speed(work: Path, n: int) -> dict:
    sidecars = []
    for i in range(n):
        side = work / f"read{i}.xmp"
        side.write_text(LIGHTROOM.replace("old keyword", f"keyword {i}"), encoding="utf-8")
        sidecars.append(side)
    photos = {"jpeg": [], "heic": [DATA / "real_iphone_xs.heic"],
              "heic_generated": [DATA / "generated_phone.heic"],
              "cr2": [DATA / "raw" / "canon_eos30d_cropped.cr2"],
              "arw": [DATA / "raw" / "sony_a7r3_cropped.arw"]}
    for i in range(50):
        path = work / f"p{i}.jpg"
        exif = Image.Exif()
        exif[0x0110] = "Bench"
        exif.get_ifd(0x8769)[0x9003] = f"2021:01:{1 + i % 28:02} 10:00:00"
        Image.new("RGB", (640, 480), (i, 80, 160)).save(path, exif=exif.tobytes())
        photos["jpeg"].append(path)
    writes_ours = [work / f"w_ours{i}.jpg" for i in range(n // 4)]
    writes_exiv2 = [work / f"w_exiv2_{i}.xmp" for i in range(n // 4)]
    for w in writes_ours:
        w.write_bytes(b"")

    result = {
        "sidecar_read_ms": {
            "tagassist_parse_xmp": _timed(lambda p: xmp.parse_xmp(p.read_bytes()), sidecars),
            "exiv2": _timed(exiv2_keywords, sidecars),
        },
        "sidecar_write_ms": {
            "tagassist_write_sidecars": _timed(lambda p: xmp.write_sidecars(p, FLAT, HIER),
                                               writes_ours, repeats=1),
            "exiv2": _timed(lambda p: exiv2_write_keywords(p, FLAT, HIER), writes_exiv2,
                            repeats=1),
        },
        "photo_fields_ms": {},
        "photo_fields_agree": {},
    }
    for kind, paths in photos.items():
        ours = raw_photo_fields if kind in ("cr2", "arw") else pillow_photo_fields
        reps = max(1, 50 // len(paths))
        result["photo_fields_ms"][kind] = {
            "tagassist": _timed(ours, paths * reps),
            "exiv2": _timed(exiv2_photo_fields, paths * reps),
        }
        a, b = ours(paths[0]), exiv2_photo_fields(paths[0])
        result["photo_fields_agree"][kind] = {"tagassist": [str(x) for x in a],
                                              "exiv2": [str(x) for x in b]}
    return result


def wheel() -> dict:
    exiv2 = _exiv2()
    folder = Path(exiv2.__file__).parent
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    return {"exiv2_module": getattr(exiv2, "__version__", "?"), "libexiv2": exiv2.version(),
            "installed_mib": round(size / 2**20, 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=400, help="sidecars read for the speed figures")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    args = ap.parse_args()
    if shutil.which("exiftool") is None:
        sys.exit("exiftool is needed")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "rt").mkdir()
        (work / "hostile").mkdir()
        (work / "speed").mkdir()
        result = {"package": wheel(), "round_trips": round_trips(work / "rt"),
                  "hostile": hostile(work / "hostile"), "speed": speed(work / "speed", args.n),
                  "cpus": os.cpu_count(), "python": sys.version.split()[0]}
    if args.json:
        print(json.dumps(result, indent=1, ensure_ascii=False))
    else:
        for section, values in result.items():
            print(section, json.dumps(values, ensure_ascii=False))


if __name__ == "__main__":
    main()
