"""Build the "session replay" sets: photo folders with a truth CSV for ``trainer.session_replay``.

``python -m trainer.replay_sets --out DIR [--data-dir PATH]``

Each set gets ``DIR/<set>/labels.csv`` (header ``filename,tags,datetime``; ``filename`` relative
to the set's photos folder; ``tags`` ``|``-separated, empty when the photo is in the library but
has no truth; ``datetime`` ISO ``YYYY-MM-DDTHH:MM:SS`` local time or empty) and
``DIR/<set>/photos.txt`` (the photos folder's absolute path).  One line per set is printed.

* ``coco-val2017-283`` and ``real-photos-exif-63`` use the shared photos in place (not copied);
  ``coco-kinds`` is the COCO photos with their ``supercategories`` as the truth (a person who
  tags by kind).
* ``flickr-<city>``: one set per owner of ``flickr-hucvl-summary-set/*.json``.  That set has no
  image files, only URLs, so each record becomes a small JPEG in ``DIR/<set>/images/`` with FLAT
  pixels -- a colour derived from the record name's hash -- carrying the record's real metadata:
  EXIF DateTimeOriginal, a GPS IFD, the title (EXIF ImageDescription/XPTitle and, where the app
  reads it, XMP dc:title) and the description (XMP dc:description).  A replay on these sets
  therefore measures what time, place, text and the user's own history give, not image content.
  The app identifies photos by content hash, so every file must differ: the colour and an EXIF
  ImageUniqueID both come from the name.  The tags are the truth: they are never written into
  the JPEG.  Output is byte-identical across runs.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import shutil
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from PIL import ExifTags, Image, TiffImagePlugin

from tagassist.media.photos import parse_capture_time
from trainer.datasets import data_dir

HEADER = ("filename", "tags", "datetime")
SIZE = (96, 64)
FLICKR = "flickr-hucvl-summary-set"


@dataclass(frozen=True)
class ReplaySet:
    name: str
    photos: Path
    truth: Path
    count: int
    tagged: int

    def line(self) -> str:
        return (f"{self.name}\tphotos={self.photos}\ttruth={self.truth}\t"
                f"{self.count} photos\t{self.tagged} tagged")


def iso_time(*raw: str | None) -> str:
    """The first parseable EXIF/ISO time ('2011:03:27 21:12:06.73-06:00' -> local ISO) or ''."""
    for value in raw:
        t = parse_capture_time(value) if value else None
        if t:
            return t
    return ""


def split_tags(text: str | None, sep: str | None) -> list[str]:
    """Non-empty entries, as written, duplicates dropped (first kept)."""
    return list(dict.fromkeys(t for t in (text or "").split(sep) if t.strip()))


def write_set(out: Path, name: str, photos: Path,
              rows: Iterable[tuple[str, list[str], str]]) -> ReplaySet:
    """Write ``labels.csv`` and ``photos.txt`` for one set; rows = (filename, tags, datetime)."""
    set_dir = out / name
    set_dir.mkdir(parents=True, exist_ok=True)
    rows = list(rows)
    truth = set_dir / "labels.csv"
    with open(truth, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(HEADER)
        w.writerows((fn, "|".join(tags), dt) for fn, tags, dt in rows)
    (set_dir / "photos.txt").write_text(f"{photos.resolve()}\n", encoding="utf-8")
    return ReplaySet(name, photos.resolve(), truth.resolve(), len(rows),
                     sum(bool(tags) for _, tags, _ in rows))


def shared_set(out: Path, root: Path, name: str, time_cols: tuple[str, ...],
               log: Callable[[str], None], tags_col: str = "tags", set_name: str = ""
               ) -> ReplaySet:
    """A shared photo set used in place: truth from its ``labels.csv`` column ``tags_col``,
    written as ``set_name`` (default: the shared set's name)."""
    photos = root / name / "images"
    with open(root / name / "labels.csv", encoding="utf-8", newline="") as f:
        records = list(csv.DictReader(f))
    missing = [r["filename"] for r in records if not (photos / r["filename"]).is_file()]
    if missing:
        log(f"{name}: {len(missing)} listed photos missing from {photos}: {missing[:3]}")
    rows = [(r["filename"], split_tags(r[tags_col], "|"),
             iso_time(*(r.get(c) for c in time_cols))) for r in records]
    return write_set(out, set_name or name, photos, rows)


# --- Flickr: synthetic JPEGs carrying the records' metadata ---------------------------------

def _dms(value: float) -> tuple[TiffImagePlugin.IFDRational, ...]:
    """|degrees| as EXIF (deg, min, sec) rationals; seconds to 1/10000."""
    value = abs(value)
    deg = int(value)
    minutes = int((value - deg) * 60)
    sec = round(((value - deg) * 60 - minutes) * 60 * 10000)
    R = TiffImagePlugin.IFDRational
    return R(deg, 1), R(minutes, 1), R(sec, 10000)


def _coord(value: object) -> float | None:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _xmp(title: str, description: str) -> bytes:
    """A minimal XMP packet with dc:title / dc:description (never dc:subject: tags are truth)."""
    props = "".join(
        f"<dc:{prop}><rdf:Alt><rdf:li xml:lang=\"x-default\">{escape(text)}</rdf:li></rdf:Alt>"
        f"</dc:{prop}>"
        for prop, text in (("title", title), ("description", description)) if text)
    return ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
            '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
            '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f"{props}</rdf:Description></rdf:RDF></x:xmpmeta>"
            '<?xpacket end="w"?>').encode()


def flickr_jpeg(record: dict) -> bytes:
    """A flat-coloured JPEG (colour from the name's hash) with the record's EXIF and XMP."""
    digest = hashlib.blake2b(record["name"].encode("utf-8"), digest_size=16).digest()
    img = Image.new("RGB", SIZE, tuple(digest[:3]))
    exif = Image.Exif()
    title = (record.get("title") or "").strip()
    description = ((record.get("desc") or {}).get("_content") or "").strip()
    if title:
        exif[ExifTags.Base.ImageDescription] = title
        exif[ExifTags.Base.XPTitle] = title.encode("utf-16-le") + b"\x00\x00"
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    sub[ExifTags.Base.ImageUniqueID] = digest.hex()
    taken = iso_time(record.get("datetaken"))
    if taken:
        sub[ExifTags.Base.DateTimeOriginal] = taken.replace("-", ":").replace("T", " ")
    lat, lon = _coord(record.get("latitude")), _coord(record.get("longitude"))
    if lat is not None and lon is not None and (lat, lon) != (0.0, 0.0):
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        gps[ExifTags.GPS.GPSVersionID] = b"\x02\x03\x00\x00"
        gps[ExifTags.GPS.GPSLatitudeRef] = "S" if lat < 0 else "N"
        gps[ExifTags.GPS.GPSLatitude] = _dms(lat)
        gps[ExifTags.GPS.GPSLongitudeRef] = "W" if lon < 0 else "E"
        gps[ExifTags.GPS.GPSLongitude] = _dms(lon)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90, exif=exif.tobytes(), xmp=_xmp(title, description))
    return buf.getvalue()


def flickr_name(city: str, owner: str, n_owners: int) -> str:
    name = "flickr-" + "-".join(city.lower().split())
    return name if n_owners == 1 else f"{name}-{owner.replace('@', '-').lower()}"


def flickr_sets(out: Path, root: Path, log: Callable[[str], None]) -> list[ReplaySet]:
    sets = []
    for path in sorted((root / FLICKR).glob("*.json")):
        by_owner: dict[str, list[dict]] = {}
        for r in json.loads(path.read_text(encoding="utf-8")):
            by_owner.setdefault(r.get("owner", ""), []).append(r)
        for owner, records in by_owner.items():
            name = flickr_name(path.stem, owner, len(by_owner))
            if not any((r.get("tags") or "").split() for r in records):
                log(f"skipped {name} ({path.name}, owner {owner}, {len(records)} records): "
                    "no record has tags, so there is no truth to replay")
                continue
            images = out / name / "images"
            shutil.rmtree(out / name, ignore_errors=True)  # no stale photos from an older run
            images.mkdir(parents=True)
            rows = []
            for r in records:
                fn = Path(r["name"]).name
                if not fn.lower().endswith((".jpg", ".jpeg")):
                    fn += ".jpg"
                if (images / fn).exists():
                    log(f"{name}: duplicate record name {fn} skipped")
                    continue
                (images / fn).write_bytes(flickr_jpeg(r))
                rows.append((fn, split_tags(r.get("tags"), None), iso_time(r.get("datetaken"))))
            sets.append(write_set(out, name, images, rows))
    return sets


def build(out: Path, root: Path, log: Callable[[str], None] = print) -> list[ReplaySet]:
    """Write every set under ``out`` from the shared data in ``root``; log one line per set."""
    sets = [
        shared_set(out, root, "coco-val2017-283",
                   ("exif_datetime_original", "coco_date_captured"), log),
        # the same photos tagged by someone who names kinds ("vehicle", "kitchen"), most of
        # them words the set model was not trained on: its own vocabulary is what it must learn
        shared_set(out, root, "coco-val2017-283",
                   ("exif_datetime_original", "coco_date_captured"), log,
                   tags_col="supercategories", set_name="coco-kinds"),
        # other_capture_date (XMP/IPTC) is what the app reads when EXIF has no DateTimeOriginal.
        shared_set(out, root, "real-photos-exif-63",
                   ("datetime_original", "other_capture_date"), log),
        *flickr_sets(out, root, log),
    ]
    for s in sets:
        log(s.line())
    return sets


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m trainer.replay_sets", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True, help="folder for the sets")
    ap.add_argument("--data-dir", type=Path, default=None,
                    help="shared data (default: TAGASSIST_DATA_DIR or ../shared/data)")
    args = ap.parse_args(argv)
    build(args.out, args.data_dir or data_dir())
    return 0


if __name__ == "__main__":
    sys.exit(main())
