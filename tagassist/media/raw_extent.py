"""Where a TIFF-based RAW file says its sensor data lies, to catch files that lack it.

LibRaw reads some layouts (DNG tiles, Panasonic RW2) past the end of the file, or from a stub a
few bytes long, without an error: the "decoded" sensor is then whatever its buffer held, and the
file would import as a black or noisy picture.  Real RAW files stripped of their sensor data
(metadata-only test files, an interrupted copy) look like that.  So before trusting LibRaw's
unpack, the sensor's strips or tiles are looked up in the file's own directories.

The sensor's directory is the one marked as the main image (NewSubfileType 0: DNG, ARW, NEF, and
the SubIFDs of most TIFF-based RAWs), or, in an RW2, IFD0 with its RawDataOffset.  Other layouts
(CR2's IFD3, CR3, RAF) give None: LibRaw's own checks stand for them.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass

_HEADS = {b"II*\x00": "<", b"MM\x00*": ">", b"IIRO": "<", b"IIRS": "<", b"IIU\x00": "<",
          b"MMOR": ">"}
_TYPE_SIZES = {3: ("H", 2), 4: ("I", 4), 13: ("I", 4)}  # SHORT, LONG, IFD
_SUBFILE, _SUBIFDS = 0x00FE, 0x014A
_STRIPS, _STRIP_BYTES, _TILES, _TILE_BYTES = 0x0111, 0x0117, 0x0144, 0x0145
_RW2_RAW_OFFSET = 0x0118
_MAX_IFDS = 32  # a loop of IFD offsets in a hostile file ends here
_MAX_VALUES = 1 << 16  # tile counts of real files are in the hundreds


@dataclass(frozen=True)
class SensorExtent:
    """The bytes the directories give to the sensor data: their total, and where they end."""

    total: int
    end: int


def _entries(f: object, order: str, offset: int) -> tuple[dict[int, list[int]], int]:
    """{tag: values} of the SHORT/LONG tags of the IFD at ``offset``; the next IFD's offset."""
    read, seek = f.read, f.seek  # type: ignore[attr-defined]
    seek(offset)
    head = read(2)
    if len(head) < 2:
        return {}, 0
    (n,) = struct.unpack(order + "H", head)
    body = read(12 * n + 4)
    if len(body) < 12 * n + 4:
        return {}, 0
    tags: dict[int, list[int]] = {}
    for i in range(n):
        tag, typ, count = struct.unpack_from(order + "HHI", body, 12 * i)
        if typ not in _TYPE_SIZES or not 0 < count <= _MAX_VALUES:
            continue
        code, size = _TYPE_SIZES[typ]
        raw = body[12 * i + 8: 12 * i + 12]
        if size * count > 4:
            seek(struct.unpack(order + "I", raw)[0])
            raw = read(size * count)
            if len(raw) < size * count:
                continue
        tags[tag] = list(struct.unpack(order + code * count, raw[: size * count]))
    (following,) = struct.unpack_from(order + "I", body, 12 * n)
    return tags, following


def _directories(f: object, order: str, first: int) -> list[dict[int, list[int]]]:
    found, queue, seen = [], [first], set()
    while queue and len(found) < _MAX_IFDS:
        offset = queue.pop(0)
        if not offset or offset in seen:
            continue
        seen.add(offset)
        tags, following = _entries(f, order, offset)
        found.append(tags)
        queue += [following, *tags.get(_SUBIFDS, [])]
    return found


def sensor_extent(path: str | os.PathLike[str]) -> SensorExtent | None:
    """The sensor data's extent per the file's directories; None where it cannot be told."""
    with open(path, "rb") as f:
        order = _HEADS.get(f.read(4))
        if order is None:
            return None
        (first,) = struct.unpack(order + "I", f.read(4))
        directories = _directories(f, order, first)
    for tags in directories:
        if _RW2_RAW_OFFSET in tags and _STRIP_BYTES in tags:
            offsets, counts = tags[_RW2_RAW_OFFSET][:1], tags[_STRIP_BYTES][:1]
        elif tags.get(_SUBFILE) != [0]:
            continue
        elif _TILES in tags and _TILE_BYTES in tags:
            offsets, counts = tags[_TILES], tags[_TILE_BYTES]
        elif _STRIPS in tags and _STRIP_BYTES in tags:
            offsets, counts = tags[_STRIPS], tags[_STRIP_BYTES]
        else:
            continue
        if len(offsets) != len(counts) or not sum(counts):
            return None  # no size given: nothing to check against
        return SensorExtent(sum(counts), max(o + c for o, c in zip(offsets, counts, strict=True)))
    return None
