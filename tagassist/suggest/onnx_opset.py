"""The opset a model.onnx was written for, read from its protobuf without the onnx package.

The app depends on onnxruntime only, and onnxruntime does not report a session's opset.
ModelProto's field 8 is ``opset_import`` (OperatorSetIdProto: 1 = domain, 2 = version); the
other top-level fields (the graph among them, most of the file) are skipped by their length.
"""
from __future__ import annotations

import io
import os
from typing import BinaryIO

OPSET_IMPORT = 8
VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5


def _varint(read: BinaryIO) -> int | None:
    """A protobuf varint, or None at the end of the input."""
    value = shift = 0
    while True:
        b = read.read(1)
        if not b:
            if shift:
                raise ValueError("truncated varint")
            return None
        value |= (b[0] & 0x7F) << shift
        if b[0] < 0x80:
            return value
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def _fields(read: BinaryIO, wanted: set[int]) -> list[tuple[int, int | bytes]]:
    """(field, value) of the ``wanted`` fields of one message; the others are skipped."""
    out: list[tuple[int, int | bytes]] = []
    while (key := _varint(read)) is not None:
        field, wire = key >> 3, key & 7
        if wire == VARINT:
            value = _varint(read)
            if value is None:
                raise ValueError("truncated field")
            if field in wanted:
                out.append((field, value))
        elif wire == LENGTH:
            size = _varint(read)
            if size is None:
                raise ValueError("truncated field")
            if field in wanted:
                data = read.read(size)
                if len(data) != size:
                    raise ValueError("truncated field")
                out.append((field, data))
            else:
                read.seek(size, os.SEEK_CUR)
        elif wire in (FIXED64, FIXED32):
            read.seek(8 if wire == FIXED64 else 4, os.SEEK_CUR)
        else:
            raise ValueError(f"unsupported wire type {wire}")
    return out


def opsets(path: str | os.PathLike[str]) -> dict[str, int]:
    """{domain: version} of a model file's ``opset_import``; "" is the default ONNX domain."""
    with open(path, "rb") as f:
        entries = [v for _, v in _fields(f, {OPSET_IMPORT})]
    out = {}
    for entry in entries:
        if not isinstance(entry, bytes):
            raise ValueError("malformed opset_import")
        parts = dict(_fields(io.BytesIO(entry), {1, 2}))
        domain, version = parts.get(1, b""), parts.get(2, 0)
        if not isinstance(domain, bytes) or not isinstance(version, int):
            raise ValueError("malformed opset_import")
        out[domain.decode("utf-8")] = version
    return out


def default_opset(path: str | os.PathLike[str]) -> int | None:
    """The version of the default (ai.onnx) domain, or None when the file imports none."""
    found = opsets(path)
    return found.get("", found.get("ai.onnx"))
