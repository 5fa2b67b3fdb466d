"""The frame every model export shares: ONNX export by contract, metadata, parity, install.

A folder is built in a staging folder beside its target: the model module exports model.onnx
(:func:`export_onnx`, driven by its :class:`~trainer.export.contract.OnnxContract`), writes its
side files and metadata.json (:func:`write_metadata`, which refuses a graph that breaks the
contract), then checks parity through the app's own runtime (:func:`check_parity`).  Only then
is it moved in (:func:`install`), metadata.json last, so a crash never leaves a folder that
looks valid.  Idempotent: a folder whose metadata names the same format version, sources and
contract, and whose checksums match, is left alone ("up to date").

metadata.json is sealed: ``contract_sha256`` (:func:`~tagassist.suggest.runtime.contract_checksum`)
over every entry that changes what the model does, written last (:func:`seal`), so the app
refuses a folder whose preprocessing, signature, checksums ... were edited afterwards.  A folder
without a valid seal (built before it existed) is not up to date: setup rebuilds it.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from tagassist.suggest.contract import mismatches
from tagassist.suggest.runtime import (
    CONTRACT_SHA256,
    METADATA,
    MODEL,
    ModelLoadError,
    contract_checksum,
    read_metadata,
    sha256_file,
)
from trainer.export.contract import OnnxContract

MODELS_DIR = Path(__file__).resolve().parents[2] / "models"
FORMAT_VERSION = "2"  # bump when the export changes what a folder holds: forces a rebuild
EXPORTED_WITH = ("torch", "onnx", "onnxscript", "onnxruntime-gpu", "transformers")

Log = Callable[[str], None]


def print_log(msg: str) -> None:
    print(msg, flush=True)


class ExportError(RuntimeError):
    """An export could not be done or failed its parity check; nothing was installed."""


@dataclass
class ExportResult:
    name: str
    folder: Path
    skipped: bool
    max_abs_diff: float
    seconds: float
    size_bytes: int


# -- idempotency and installation --------------------------------------------------------------

def source_versions(dists: list[str]) -> dict[str, str]:
    try:
        return {d: version(d) for d in dists}
    except PackageNotFoundError as e:
        raise ExportError(f"package {e.name} is not installed: pip install {e.name}") from None


def up_to_date(folder: Path, sources: dict[str, str], contract: OnnxContract) -> bool:
    """Same format version, source packages and contract, and every checksum still matches."""
    try:
        meta = read_metadata(folder)
    except ModelLoadError:
        return False
    if (meta.get("version") != FORMAT_VERSION or meta.get("source_packages") != sources
            or meta.get("contract") != contract.to_json()
            or meta.get(CONTRACT_SHA256) != contract_checksum(meta)):  # unsealed or edited
        return False
    files = {MODEL: meta["sha256"], **meta.get("files", {})}
    return all((folder / n).is_file() and sha256_file(folder / n) == h for n, h in files.items())


def seal(meta: dict[str, Any]) -> dict[str, Any]:
    """``meta`` with its ``contract_sha256`` (over everything else in it); call it last."""
    meta[CONTRACT_SHA256] = contract_checksum(meta)
    return meta


def write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def install(staging: Path, target: Path) -> None:
    """Move staged files in; metadata.json goes first out and last in."""
    target.mkdir(parents=True, exist_ok=True)
    (target / METADATA).unlink(missing_ok=True)
    for f in sorted(staging.iterdir()):
        if f.name != METADATA:
            os.replace(f, target / f.name)
    os.replace(staging / METADATA, target / METADATA)


# -- ONNX export and the written graph ---------------------------------------------------------

def export_onnx(module: Any, example: dict[str, Any], path: Path,
                contract: OnnxContract) -> None:
    """``torch.onnx.export`` (dynamo) of ``module`` called with ``example`` as keyword
    arguments: inputs in the contract's order, its names, dynamic axes and opset."""
    import torch

    # Exporter chatter: deprecations, axis renames, "torchvision is not installed" per op.
    registration = logging.getLogger("torch.onnx._internal.exporter._registration")
    level = registration.level
    registration.setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            torch.onnx.export(module, (), str(path),
                              kwargs={n: example[n] for n in contract.input_names},
                              input_names=contract.input_names,
                              output_names=contract.output_names,
                              dynamic_shapes=contract.dynamic_shapes(),
                              opset_version=contract.opset, dynamo=True, external_data=False,
                              verbose=False)
        except Exception as e:  # noqa: BLE001 - the exporter raises many types
            raise ExportError(f"torch.onnx.export (dynamo) failed: {e}") from e
        finally:
            registration.setLevel(level)


def graph_signature(path: Path) -> tuple[int, list[dict], list[dict]]:
    """(opset, inputs, outputs) as written in the ONNX graph; symbolic dims by name."""
    import onnx

    model = onnx.load(str(path))
    onnx.checker.check_model(model)
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))

    def describe(values: Any) -> list[dict]:
        out = []
        for v in values:
            t = v.type.tensor_type
            shape = [d.dim_value if d.HasField("dim_value") else d.dim_param
                     for d in t.shape.dim]
            dtype = onnx.helper.tensor_dtype_to_np_dtype(t.elem_type).name
            out.append({"name": v.name, "dtype": dtype, "shape": shape})
        return out

    return opset, describe(model.graph.input), describe(model.graph.output)


def base_metadata(name: str, sources: dict[str, str], folder: Path,
                  contract: OnnxContract) -> dict[str, Any]:
    """What every folder's metadata.json says: the graph as written, checked against the
    contract (ExportError if it breaks it), checksums and the exporting packages."""
    opset, inputs, outputs = graph_signature(folder / MODEL)
    broken = mismatches(contract.to_json(), inputs, outputs, opset)
    if broken:
        raise ExportError(f"{name}: the exported graph breaks its contract: {'; '.join(broken)}")
    exported_with = {}
    for dist in EXPORTED_WITH:
        try:
            exported_with[dist] = version(dist)
        except PackageNotFoundError:
            pass
    return {
        "name": name, "version": FORMAT_VERSION, "source_packages": sources,
        "exporter": "torch.onnx.export(dynamo=True)", "exported_with": exported_with,
        "inputs": inputs, "outputs": outputs, "opset": opset, "contract": contract.to_json(),
        "sha256": sha256_file(folder / MODEL), "size_bytes": (folder / MODEL).stat().st_size,
        "files": {f.name: sha256_file(f) for f in sorted(folder.iterdir())
                  if f.name not in (MODEL, METADATA)},
    }


def write_metadata(folder: Path, name: str, sources: dict[str, str], contract: OnnxContract,
                   extra: dict[str, Any]) -> dict[str, Any]:
    """metadata.json for the model.onnx and side files already in ``folder``: the app's
    runtime can then load the folder (for the parity check).  Returns what it wrote."""
    meta = seal(base_metadata(name, sources, folder, contract) | extra)
    write_json(folder / METADATA, meta)
    return meta


# -- parity and the shared frame ---------------------------------------------------------------

def check_parity(name: str, diffs: dict[str, float], tolerance: float) -> float:
    """The worst of ``diffs`` (max abs diffs, ONNX vs PyTorch); ExportError above tolerance."""
    worst = max(diffs.values())
    if not worst <= tolerance:  # also catches NaN
        detail = ", ".join(f"{k} {v:.2e}" for k, v in diffs.items())
        raise ExportError(f"{name}: ONNX and PyTorch disagree beyond {tolerance:g} ({detail});"
                          " nothing was written")
    return worst


def export_folder(name: str, sources: dict[str, str], contract: OnnxContract, out_dir: Path,
                  force: bool, log: Log, build: Callable[[Path, Log], dict]) -> ExportResult:
    """Up-to-date check, staging, ``build``, install.

    ``build(staging, log)`` writes model.onnx, the side files and metadata.json (with
    :func:`write_metadata`) into ``staging``, checks parity (raising ExportError) and returns
    the parity figures, which join the metadata.
    """
    target = out_dir / name
    if not force and up_to_date(target, sources, contract):
        meta = read_metadata(target)
        log(f"{name}: up to date ({target})")
        return ExportResult(name, target, True, float(meta.get("parity", {}).get(
            "max_abs_diff", float("nan"))), 0.0, int(meta.get("size_bytes", 0)))
    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=out_dir))
    try:
        parity = build(staging, log)
        meta = read_metadata(staging)
        meta["parity"] = parity
        meta["export_seconds"] = round(time.perf_counter() - start, 1)
        meta["exported_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        write_json(staging / METADATA, seal(meta))
        install(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    size = (target / MODEL).stat().st_size
    log(f"{name}: wrote {target / MODEL} ({size / 1e6:.1f} MB, opset {meta['opset']}, "
        f"max abs diff {parity['max_abs_diff']:.2e}, {meta['export_seconds']} s)")
    return ExportResult(name, target, False, parity["max_abs_diff"], meta["export_seconds"],
                        size)
