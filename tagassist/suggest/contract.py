"""Does a model's real signature keep the contract its metadata.json declares?

The exporter (``trainer.export``) writes the contract: inputs and outputs in order as
``{"name", "dtype", "shape"}`` (a dim is an int, or the name of a dynamic axis), the opset and
the parity tolerance.  It checks the graph it wrote with :func:`mismatches`, and the runtime
checks the onnxruntime session with the same function, so both sides apply one rule.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def _dims_differ(actual: Sequence[Any], declared: Sequence[Any]) -> bool:
    """A fixed dim must be equal; a named one must be dynamic (any symbolic name or None)."""
    if len(actual) != len(declared):
        return True
    return any((isinstance(d, int) and a != d) or (isinstance(d, str) and isinstance(a, int))
               for a, d in zip(actual, declared, strict=True))


def _tensors(kind: str, actual: Sequence[Mapping[str, Any]],
             declared: Sequence[Mapping[str, Any]]) -> list[str]:
    have, want = [a["name"] for a in actual], [d["name"] for d in declared]
    if have != want:
        return [f"{kind}s are {have}, the contract says {want}"]
    out = []
    for a, d in zip(actual, declared, strict=True):
        if a["dtype"] != d["dtype"] or _dims_differ(a["shape"], d["shape"]):
            out.append(f"{kind} '{a['name']}' is {a['dtype']} {list(a['shape'])}, the contract "
                       f"says {d['dtype']} {list(d['shape'])}")
    return out


def mismatches(contract: Mapping[str, Any], inputs: Sequence[Mapping[str, Any]],
               outputs: Sequence[Mapping[str, Any]], opset: int | None) -> list[str]:
    """Each way the actual ``inputs``/``outputs``/``opset`` break ``contract`` (empty: kept).

    Raises KeyError or TypeError when ``contract`` lacks an entry or has the wrong form.
    """
    out = []
    if opset != contract["opset"]:
        out.append(f"opset is {opset}, the contract says {contract['opset']}")
    out += _tensors("input", inputs, contract["inputs"])
    out += _tensors("output", outputs, contract["outputs"])
    return out


def parity_within(meta: Mapping[str, Any]) -> bool:
    """The recorded parity (if any) is within the contract's tolerance."""
    worst = meta.get("parity", {}).get("max_abs_diff")
    return worst is None or float(worst) <= float(meta["contract"]["tolerance"])
