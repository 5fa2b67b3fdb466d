"""Cut the two real camera RAW files of this folder down from their originals (see README.md).

    .venv/bin/python tests/data/formats/raw/make_real_crops.py --cr2 IMG_0848.CR2 --arw _DSC2164.ARW

The originals are 7.3 MB (Canon EOS 30D CR2, Debian's ``dcraw`` source package) and 18.6 MB
(Sony ILCE-7RM3 ARW, the ``libraw-cffi`` sdist on PyPI).  Nearly all of that is sensor data, so
only the sensor data is cut: the first rows of it are kept, byte for byte as the camera wrote
them, and the headers are edited to say so.  The embedded previews, EXIF, maker notes and
everything else stay as they were.  The script checks with rawpy that the cut file decodes to
exactly the same sensor values as the top of the original.

- ARW (Sony compressed, 8 bits a pixel, every row coded on its own): the raw SubIFD's
  ImageHeight, RowsPerStrip, StripByteCounts, DefaultCropSize and SonyCropSize are set to the
  kept rows, and the file ends after them.
- CR2 (lossless JPEG in two vertical slices of 1798 columns): a JPEG row holds two sensor rows
  of the left slice, so the first K JPEG rows are the left slice's top 2K sensor rows.  The
  JPEG's frame height (SOF3) is set to K and the coded data cut after them (an EOI marker
  appended); with K < 899, LibRaw reads the frame as 1798 x 2K -- the left slice's top rows.
"""

from __future__ import annotations

import argparse
import struct
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ARW_ROWS = 128  # sensor rows kept of 3464
CR2_JPEG_ROWS = 256  # JPEG rows kept of 2360: the left slice's top 512 sensor rows

_FORMATS = {3: "H", 4: "I"}  # SHORT, LONG: the only types edited here


def _ifd(data: bytes | bytearray, offset: int) -> tuple[dict[int, tuple[int, int, int]], int]:
    """{tag: (entry offset, type, count)} of the little-endian IFD at ``offset``; next IFD."""
    (n,) = struct.unpack_from("<H", data, offset)
    entries = {}
    for i in range(n):
        at = offset + 2 + 12 * i
        tag, typ, count = struct.unpack_from("<HHI", data, at)
        entries[tag] = (at, typ, count)
    (following,) = struct.unpack_from("<I", data, offset + 2 + 12 * n)
    return entries, following


def _where(data: bytes | bytearray, entry: tuple[int, int, int]) -> tuple[str, int]:
    at, typ, count = entry
    fmt = "<" + _FORMATS[typ] * count
    if struct.calcsize(fmt) <= 4:
        return fmt, at + 8
    return fmt, struct.unpack_from("<I", data, at + 8)[0]


def _get(data: bytes | bytearray, entry: tuple[int, int, int]) -> list[int]:
    fmt, at = _where(data, entry)
    return list(struct.unpack_from(fmt, data, at))


def _set(data: bytearray, entry: tuple[int, int, int], values: list[int]) -> None:
    fmt, at = _where(data, entry)
    struct.pack_into(fmt, data, at, *values)


def crop_arw(original: bytes, rows: int = ARW_ROWS) -> bytes:
    data = bytearray(original)
    ifd0, _ = _ifd(data, struct.unpack_from("<I", data, 4)[0])
    raw, _ = _ifd(data, _get(data, ifd0[0x014A])[0])  # the first SubIFD holds the sensor data
    (start,), (width,) = _get(data, raw[0x0111]), _get(data, raw[0x0100])
    assert start + _get(data, raw[0x0117])[0] == len(data), "sensor data is not last"
    _set(data, raw[0x0101], [rows])
    _set(data, raw[0x0116], [rows])
    _set(data, raw[0x0117], [rows * width])
    for crop_size in (0xC620, 0x74C8):  # DefaultCropSize, SonyCropSize: (width, height)
        crop_w, _crop_h = _get(data, raw[crop_size])
        _set(data, raw[crop_size], [crop_w, rows - 16])
    return bytes(data[: start + rows * width])


def crop_cr2(original: bytes, jpeg_rows: int = CR2_JPEG_ROWS) -> bytes:
    data = bytearray(original)
    offset, ifds = struct.unpack_from("<I", data, 4)[0], []
    while offset:
        entries, offset = _ifd(data, offset)
        ifds.append(entries)
    raw = ifds[3]  # CR2: IFD3 is the lossless JPEG of the sensor
    (start,), (length,) = _get(data, raw[0x0111]), _get(data, raw[0x0117])
    sof = data.index(b"\xff\xc3", start)
    (full_rows,) = struct.unpack_from(">H", data, sof + 5)
    struct.pack_into(">H", data, sof + 5, jpeg_rows)
    sos = data.index(b"\xff\xda", start)
    coded = sos + 2 + struct.unpack_from(">H", data, sos + 2)[0]
    # The coded rows differ in length: keep a tenth more than the average share (LibRaw stops
    # after the frame's rows; the rest is never read).
    keep = int((start + length - coded) * jpeg_rows / full_rows * 1.1)
    out = data[: coded + keep] + b"\xff\xd9"
    _set(out, raw[0x0117], [len(out) - start])
    assert start + length == len(data), "sensor data is not last"
    return bytes(out)


def _check(original: Path, cut: Path, rows: slice, cols: slice) -> None:
    import rawpy

    with rawpy.imread(str(original)) as a, rawpy.imread(str(cut)) as b:
        expected, got = a.raw_image[rows, cols], b.raw_image
        assert got.shape == expected.shape, (got.shape, expected.shape)
        assert np.array_equal(got, expected), f"{cut.name}: sensor values differ"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cr2", type=Path, required=True, help="IMG_0848.CR2 from dcraw's source")
    ap.add_argument("--arw", type=Path, required=True, help="_DSC2164.ARW from libraw-cffi")
    args = ap.parse_args()
    cr2, arw = HERE / "canon_eos30d_cropped.cr2", HERE / "sony_a7r3_cropped.arw"
    cr2.write_bytes(crop_cr2(args.cr2.read_bytes()))
    _check(args.cr2, cr2, slice(0, 2 * CR2_JPEG_ROWS), slice(0, 1798))
    arw.write_bytes(crop_arw(args.arw.read_bytes()))
    _check(args.arw, arw, slice(0, ARW_ROWS), slice(None))
    for path in (cr2, arw):
        print(f"{path.name}: {path.stat().st_size} bytes, sensor values identical")


if __name__ == "__main__":
    main()
