"""What an exported model promises the app: its ``OnnxContract``.

The contract is declared in code, drives ``torch.onnx.export`` (input order, names, dynamic
axes, opset), is checked against the written graph before anything is installed, and is
stored in metadata.json as ``contract`` so the app refuses a model.onnx that breaks it when
it loads the folder (:mod:`tagassist.suggest.contract`).  A dim is an int (fixed) or the name
of a dynamic axis in ``axes``, whose (min, max) bound the export's symbolic dimension.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

OPSET = 20  # what torch 2.x's dynamo exporter writes by default; named so a change is a choice
TOLERANCE = 1e-4  # max abs diff between onnxruntime and PyTorch in the parity checks
MAX_DIM = 1024  # upper bound of the dynamic batch dims at export time


@dataclass(frozen=True)
class Tensor:
    name: str
    dtype: str  # numpy dtype name
    shape: tuple[int | str, ...]  # ints are fixed; a str names a dynamic axis

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype, "shape": list(self.shape)}


@dataclass(frozen=True)
class OnnxContract:
    inputs: tuple[Tensor, ...]  # in graph order: the app feeds them by name, in this order
    outputs: tuple[Tensor, ...]
    axes: Mapping[str, tuple[int, int]]  # dynamic axis -> (min, max) size at export
    opset: int = OPSET
    tolerance: float = TOLERANCE

    def __post_init__(self) -> None:
        named = {d for t in self.inputs + self.outputs for d in t.shape if isinstance(d, str)}
        if named - set(self.axes):
            raise ValueError(f"dynamic axes {sorted(named - set(self.axes))} have no bounds")

    @property
    def input_names(self) -> list[str]:
        return [t.name for t in self.inputs]

    @property
    def output_names(self) -> list[str]:
        return [t.name for t in self.outputs]

    def dynamic_shapes(self) -> dict[str, dict[int, Any]]:
        """``torch.onnx.export``'s dynamic_shapes: one ``Dim`` per axis, shared by its inputs."""
        from torch.export import Dim

        dims = {name: Dim(name, min=lo, max=hi) for name, (lo, hi) in self.axes.items()}
        return {t.name: {i: dims[d] for i, d in enumerate(t.shape) if isinstance(d, str)}
                for t in self.inputs}

    def to_json(self) -> dict[str, Any]:
        return {"inputs": [t.to_json() for t in self.inputs],
                "outputs": [t.to_json() for t in self.outputs],
                "axes": {k: list(v) for k, v in self.axes.items()},
                "opset": self.opset, "tolerance": self.tolerance}
