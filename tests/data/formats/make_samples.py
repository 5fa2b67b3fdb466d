"""Write the generated samples of this folder (see README.md): run from the repository root.

    .venv/bin/python tests/data/formats/make_samples.py

Everything here is drawn by this script (a sky, a sun, hills): no third-party pixels, so the
files are as free as the script (CC0).  The DNG writer is a small hand-written TIFF writer that
follows the DNG 1.4 specification: a Bayer (RGGB) sensor image, 12-bit values in 16-bit samples,
uncompressed, with the colour tags LibRaw needs, the EXIF and GPS directories, and -- in one of
the two files -- a JPEG preview in IFD0 the way cameras and Adobe's converter write it.
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent

DATE = "2023:06:14 09:41:07"
LAT, LON = (48, 51, 29.6), (2, 17, 40.2)  # Paris, Champ de Mars: N, E
AVIF_DATE = "2024:02:03 16:20:00"
AVIF_LAT, AVIF_LON = (35, 39, 31.0), (139, 42, 4.0)  # Tokyo: N, E
DNG_DATE = "2022:10:01 07:15:30"
DNG_LAT, DNG_LON = (33, 51, 25.0), (151, 12, 55.0)  # Sydney: S, E
NOPREVIEW_DATE = "2021:12:24 18:05:00"
NOPREVIEW_LAT, NOPREVIEW_LON = (64, 8, 47.0), (21, 56, 33.0)  # Reykjavik: N, W


def scene(w: int, h: int) -> Image.Image:
    """A landscape: a blue gradient sky, a yellow sun, green hills."""
    y = np.linspace(0, 1, h)[:, None]
    sky = np.stack([90 + 100 * y, 150 + 80 * y, 235 + 0 * y], axis=-1) * np.ones((1, w, 1))
    img = Image.fromarray(sky.clip(0, 255).astype(np.uint8), "RGB")
    d = ImageDraw.Draw(img)
    r = h // 8
    d.ellipse((w * 3 // 4 - r, h // 5 - r, w * 3 // 4 + r, h // 5 + r), fill=(250, 210, 60))
    d.polygon([(0, h), (0, h * 2 // 3), (w // 3, h // 2), (w * 2 // 3, h * 3 // 4), (w, h * 3 // 5),
               (w, h)], fill=(60, 140, 60))
    d.rectangle((w // 8, h * 2 // 3, w // 8 + w // 10, h * 5 // 6), fill=(150, 70, 40))
    return img


def rationals(dms: tuple[float, float, float]) -> tuple[tuple[int, int], ...]:
    return tuple((round(v * 100), 100) for v in dms)


def exif_bytes(date: str, lat: tuple, lat_ref: str, lon: tuple, lon_ref: str, model: str
               ) -> bytes:
    ex = Image.Exif()
    ex[0x010F] = "TagAssist"
    ex[0x0110] = model
    ex[0x0132] = date
    ex.get_ifd(0x8769).update({0x9003: date, 0x9004: date})
    from PIL.TiffImagePlugin import IFDRational

    def dms(v: tuple) -> tuple:
        return tuple(IFDRational(n, d) for n, d in rationals(v))

    ex.get_ifd(0x8825).update({0: b"\x02\x03\x00\x00", 1: lat_ref, 2: dms(lat), 3: lon_ref,
                               4: dms(lon)})
    return ex.tobytes()


# --- a minimal TIFF/DNG writer ------------------------------------------------------------

BYTE, ASCII, SHORT, LONG, RATIONAL, UNDEFINED, SRATIONAL = 1, 2, 3, 4, 5, 7, 10
_SIZE = {BYTE: 1, ASCII: 1, SHORT: 2, LONG: 4, RATIONAL: 8, UNDEFINED: 1, SRATIONAL: 8}


def _pack(typ: int, values: object) -> bytes:
    if typ == ASCII:
        return values.encode("ascii") + b"\x00"  # type: ignore[union-attr]
    if typ in (BYTE, UNDEFINED):
        return bytes(values)  # type: ignore[arg-type]
    vals = list(values)  # type: ignore[call-overload]
    if typ == SHORT:
        return struct.pack(f"<{len(vals)}H", *vals)
    if typ == LONG:
        return struct.pack(f"<{len(vals)}I", *vals)
    if typ == RATIONAL:
        return b"".join(struct.pack("<II", n, d) for n, d in vals)
    if typ == SRATIONAL:
        return b"".join(struct.pack("<ii", n, d) for n, d in vals)
    raise ValueError(typ)


def _ifd(at: int, entries: list[tuple[int, int, object]]) -> bytes:
    """One IFD written at offset ``at``, its out-of-line values right after it."""
    entries = sorted(entries)
    table = struct.pack("<H", len(entries))
    extra = b""
    extra_at = at + 2 + 12 * len(entries) + 4
    for tag, typ, values in entries:
        data = _pack(typ, values)
        count = len(data) // _SIZE[typ]
        if len(data) <= 4:
            table += struct.pack("<HHI", tag, typ, count) + data.ljust(4, b"\x00")
        else:
            table += struct.pack("<HHII", tag, typ, count, extra_at + len(extra))
            extra += data + (b"\x00" if len(data) % 2 else b"")
    return table + struct.pack("<I", 0) + extra


def write_dng(path: Path, *, width: int, height: int, date: str, lat: tuple, lat_ref: str,
              lon: tuple, lon_ref: str, orientation: int, preview: Image.Image | None) -> None:
    rgb = np.asarray(scene(width, height), dtype=np.float64) / 255.0
    linear = (rgb ** 2.2) * 4095
    cfa = np.empty((height, width), dtype=np.uint16)
    cfa[0::2, 0::2] = linear[0::2, 0::2, 0]  # R
    cfa[0::2, 1::2] = linear[0::2, 1::2, 1]  # G
    cfa[1::2, 0::2] = linear[1::2, 0::2, 1]  # G
    cfa[1::2, 1::2] = linear[1::2, 1::2, 2]  # B
    raw_data = cfa.astype("<u2").tobytes()
    jpeg = b""
    if preview is not None:
        buf = io.BytesIO()
        preview.save(buf, "JPEG", quality=80)
        jpeg = buf.getvalue()

    # XYZ -> camera for a camera whose primaries are sRGB's (the inverse of sRGB -> XYZ).
    xyz_to_cam = [[32406, -15372, -4986], [-9689, 18758, 415], [557, -2040, 10570]]
    colour = [
        (50706, BYTE, [1, 4, 0, 0]),  # DNGVersion
        (50707, BYTE, [1, 1, 0, 0]),  # DNGBackwardVersion
        (50708, ASCII, "TagAssist synthetic DNG"),  # UniqueCameraModel
        (50721, SRATIONAL, [(v, 10000) for row in xyz_to_cam for v in row]),  # ColorMatrix1
        (50728, RATIONAL, [(1, 1), (1, 1), (1, 1)]),  # AsShotNeutral
        (50778, SHORT, [21]),  # CalibrationIlluminant1: D65
    ]
    raw_tags = [
        (254, LONG, [0]),  # NewSubfileType: the main image
        (256, LONG, [width]), (257, LONG, [height]), (258, SHORT, [16]), (259, SHORT, [1]),
        (262, SHORT, [32803]),  # PhotometricInterpretation: CFA
        (273, LONG, [0]),  # StripOffsets, patched below
        (277, SHORT, [1]), (278, LONG, [height]), (279, LONG, [len(raw_data)]),
        (284, SHORT, [1]),
        (33421, SHORT, [2, 2]), (33422, BYTE, [0, 1, 1, 2]),  # CFARepeatPatternDim, RGGB
        (50714, LONG, [0]), (50717, LONG, [4095]),  # BlackLevel, WhiteLevel
    ]
    exif_tags = [(36864, UNDEFINED, b"0231"), (36867, ASCII, date), (36868, ASCII, date)]
    gps_tags = [(0, BYTE, [2, 3, 0, 0]), (1, ASCII, lat_ref), (2, RATIONAL, rationals(lat)),
                (3, ASCII, lon_ref), (4, RATIONAL, rationals(lon))]
    common = [(271, ASCII, "TagAssist"), (272, ASCII, "synthetic DNG"), (274, SHORT, [orientation]),
              (305, ASCII, "tests/data/formats/make_samples.py"), (306, ASCII, date)]

    def build(offsets: dict[str, int]) -> list[bytes]:
        exif = _ifd(offsets["exif"], exif_tags)
        gps = _ifd(offsets["gps"], gps_tags)
        pointers = [(34665, LONG, [offsets["exif"]]), (34853, LONG, [offsets["gps"]])]
        raw = [(t, ty, [offsets["raw_data"]] if t == 273 else v) for t, ty, v in raw_tags]
        if preview is None:
            ifd0 = _ifd(8, raw + common + colour + pointers)
            return [ifd0, exif, gps, b"", raw_data, b""]
        pw, ph = preview.size
        ifd0 = _ifd(8, [
            (254, LONG, [1]),  # a reduced-resolution preview
            (256, LONG, [pw]), (257, LONG, [ph]), (258, SHORT, [8, 8, 8]), (259, SHORT, [7]),
            (262, SHORT, [6]), (273, LONG, [offsets["jpeg"]]), (277, SHORT, [3]),
            (278, LONG, [ph]), (279, LONG, [len(jpeg)]), (284, SHORT, [1]),
            (330, LONG, [offsets["raw_ifd"]]),  # SubIFDs: the sensor image
        ] + common + colour + pointers)
        raw_ifd = _ifd(offsets["raw_ifd"], raw)
        return [ifd0, exif, gps, raw_ifd, raw_data, jpeg]

    names = ["ifd0", "exif", "gps", "raw_ifd", "raw_data", "jpeg"]
    offsets = dict.fromkeys(names, 0)
    for _ in range(2):  # sizes do not depend on offsets: the second pass places everything
        parts = build(offsets)
        at = 8
        for name, part in zip(names, parts, strict=True):
            offsets[name] = at
            at += len(part) + (len(part) % 2)
    parts = build(offsets)
    out = bytearray(b"II*\x00" + struct.pack("<I", 8))
    for part in parts:
        out += part + (b"\x00" if len(part) % 2 else b"")
    path.write_bytes(bytes(out))


def main() -> None:
    import pillow_heif

    pillow_heif.register_heif_opener()
    scene(640, 480).save(HERE / "generated_phone.heic", "HEIF", quality=60,
                         exif=exif_bytes(DATE, LAT, "N", LON, "E", "synthetic HEIC"))
    Image.init()
    scene(480, 320).save(HERE / "generated.avif", "AVIF", quality=60,
                         exif=exif_bytes(AVIF_DATE, AVIF_LAT, "N", AVIF_LON, "E",
                                         "synthetic AVIF"))
    # Orientation 6: the camera was held upright; the thumbnail must come out portrait.
    write_dng(HERE / "generated_preview.dng", width=96, height=64, date=DNG_DATE, lat=DNG_LAT,
              lat_ref="S", lon=DNG_LON, lon_ref="E", orientation=6, preview=scene(768, 512))
    write_dng(HERE / "generated_nopreview.dng", width=192, height=128, date=NOPREVIEW_DATE,
              lat=NOPREVIEW_LAT, lat_ref="N", lon=NOPREVIEW_LON, lon_ref="W", orientation=1,
              preview=None)


if __name__ == "__main__":
    main()
